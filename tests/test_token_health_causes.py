"""Broken-connection alerts name the cause and the fix as the platform gave it: Facebook Pages against the
fake Meta (password changed, admin rights lost), found by token health's regular check."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.platforms.facebook import FacebookAdapter
from bot.storage.models import Account, ConnectionStatus, TargetStatus
from tests import journeys
from tests.journeys import World, alerts_posted, blocks_text, read_connection, schedule_post, target_statuses
from tests.platform_fixtures import meta_fixtures

meta, media, http, adapter = meta_fixtures(FacebookAdapter, "facebook")


@pytest.fixture
async def world(engine, slack, meta, http, adapter):
    return await World.open(engine, slack, {"facebook": adapter}, http)


async def sign_in(world: World) -> int:
    return await journeys.sign_in(world, platform="facebook", chosen=("2001",))


@pytest.mark.parametrize("break_it,status,cause,words", [
    (lambda meta: meta.revoke_user("10001", 460), ConnectionStatus.REVOKED, "password_changed",
     "The account's password was changed, which ends every app's access. Press Reconnect and sign in again."),
    (lambda meta: meta.revoke_user("10001", 458), ConnectionStatus.REVOKED, "app_removed",
     "Picmim was removed from the account's connected apps. Press Reconnect to allow it again."),
])
async def test_the_alert_says_what_happened_and_how_to_mend_it(world, meta, slack, break_it, status, cause, words):
    connection_id = await sign_in(world)
    async with world.sessions() as session:
        account = await session.scalar(select(Account).where(Account.connection_id == connection_id))
    assert account.name == "Acme Coffee"
    await schedule_post(world, connection_id, "Latte art workshop on Friday", world.clock.now + timedelta(days=1))
    break_it(meta)

    report = await world.tick()  # a fresh connection is checked on the first tick
    assert report.broken == [connection_id]
    broken = await read_connection(world, connection_id)
    assert (broken.status, broken.status_cause) == (status, cause)
    [alert] = alerts_posted(slack)
    text = blocks_text(alert)
    assert "*Facebook Pages · Maria Lopez* is disconnected" in text
    assert f"*How to fix it:* {words}" in text
    assert "Accounts: Acme Coffee" in text and "Latte art workshop on Friday" in text
    assert (await target_statuses(world))["Latte art workshop on Friday"] is TargetStatus.HELD
