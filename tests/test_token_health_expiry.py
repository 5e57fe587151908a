"""Expiry warnings against the fake LinkedIn (no refresh tokens unless a Marketing partner) and the fake
Slack, with a clock the tests move over weeks: warned 7 and 1 days ahead exactly once each, then the
lapsed sign-in alerted with its held post, and a reconnect that resolves all three in place."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.http import build_client
from bot.platforms.linkedin import ADAPTER as LinkedInAdapter
from bot.sandbox.fakes.linkedin import FakeLinkedIn
from bot.services.workspaces import ensure_workspace
from bot.storage.models import Alert, Connection, ConnectionStatus, TargetStatus
from tests import journeys
from tests.journeys import (
    ALERTS,
    World,
    alerts_posted,
    blocks_text,
    read_connection,
    reconnect_button,
    schedule_post,
    target_statuses,
)
from tests.platform_fixtures import make_adapter

REDIRECT_URI = "https://picmim.example/oauth/linkedin/callback"
PROFILE, PAGE = "urn:li:person:x7Yq2LmN0p", "urn:li:organization:1001"


@pytest.fixture(scope="module")
def linkedin_server():
    fake = FakeLinkedIn().start()
    yield fake
    fake.stop()


@pytest.fixture
def linkedin(linkedin_server):
    linkedin_server.reset()
    linkedin_server.redirect_uris = {REDIRECT_URI}
    return linkedin_server


@pytest.fixture
async def world(engine, slack, linkedin):
    http = build_client(linkedin.origins())
    yield await World.open(engine, slack, {"linkedin": make_adapter(LinkedInAdapter, linkedin, http, REDIRECT_URI)},
                           http)
    await http.aclose()


async def sign_in(world: World) -> int:
    return await journeys.sign_in(world, platform="linkedin", chosen=(PROFILE, PAGE))


async def test_a_sign_in_that_cannot_be_renewed_warns_7_and_1_days_ahead_exactly_once_each(world, linkedin, slack,
                                                                                          monkeypatch):
    connection_id = await sign_in(world)
    ends = (await read_connection(world, connection_id)).token_expires_at
    assert ends - world.clock.now > timedelta(days=59), "LinkedIn sign-ins last 60 days"
    await schedule_post(world, connection_id, "Before the end", ends - timedelta(days=3))
    await schedule_post(world, connection_id, "After the end", ends + timedelta(days=2))

    for moment in (timedelta(days=-30), timedelta(days=-8), timedelta(days=-7, minutes=1), timedelta(days=-6),
                   timedelta(days=-4), timedelta(days=-1, minutes=1), timedelta(hours=-12), timedelta(minutes=-1)):
        world.clock.now = ends + moment
        await world.tick()
    warnings = alerts_posted(slack)
    assert len(warnings) == 2, [blocks_text(w) for w in warnings]
    week, day = (blocks_text(w) for w in warnings)
    assert "*LinkedIn · Maria Lopez* stops working on <!date^" in week and "(in 7 days)" in week
    assert "(tomorrow)" in day
    for text in (week, day):
        assert "LinkedIn does not let Picmim renew this sign-in" in text
        assert "Accounts: Acme Inc, Maria Lopez" in text
        assert "1 scheduled post is due after that and would not go out" in text, "only the post after the end"
    assert all(reconnect_button(w)["value"] == str(connection_id) for w in warnings)
    assert (await read_connection(world, connection_id)).status is ConnectionStatus.ACTIVE, "warned, still working"

    world.clock.now = ends + timedelta(minutes=1)
    report = await world.tick()
    assert report.broken == [connection_id]
    lapsed = await read_connection(world, connection_id)
    assert (lapsed.status, lapsed.status_cause) == (ConnectionStatus.EXPIRED, "lapsed")
    [alert] = alerts_posted(slack)[2:]
    text = blocks_text(alert)
    assert "is disconnected" in text and "The sign-in ran out" in text and "Press Reconnect" in text
    assert "1 scheduled post depends on it." in text and "After the end" in text and "Before the end" not in text
    assert (await target_statuses(world))["After the end"] is TargetStatus.HELD
    world.clock.now += timedelta(hours=1)
    await world.tick()
    assert len(alerts_posted(slack)) == 3, "each warning and the alert exactly once"

    # Someone presses Reconnect and signs in again (this time LinkedIn grants a longer sign-in).
    monkeypatch.setattr(linkedin, "access_ttl", 120 * 86400)
    slack.forget_calls()
    assert await sign_in(world) == connection_id, "the same member: the same connection, mended"
    await world.tick()
    updates = {c.params["ts"]: blocks_text(c) for c in slack.calls_to("chat.update") if c.params["channel"] == ALERTS}
    async with world.sessions() as session:
        alerts = (await session.scalars(select(Alert).order_by(Alert.id))).all()
    assert sorted(updates) == sorted(a.message_ts for a in alerts), "all three updated in place"
    assert all("was reconnected by <@U0001>" in text for text in updates.values())
    assert "1 scheduled post that was on hold goes out at its time" in updates[alerts[2].message_ts]
    assert (await target_statuses(world))["After the end"] is TargetStatus.SCHEDULED
    await world.tick()
    assert alerts_posted(slack) == [], "the new sign-in is months away from its end"


async def test_the_warning_days_are_the_workspaces_own(world, linkedin, slack):
    async with world.sessions() as session:
        workspace = await ensure_workspace(session, "T0001")
        workspace.expiry_warning_days = [3]
        await session.commit()
    connection_id = await sign_in(world)
    ends = (await read_connection(world, connection_id)).token_expires_at
    for moment in (timedelta(days=-7), timedelta(days=-3, minutes=1), timedelta(days=-1)):
        world.clock.now = ends + moment
        await world.tick()
    [warning] = alerts_posted(slack)
    assert "(in 3 days)" in blocks_text(warning)
    assert "No scheduled post is due after that yet." in blocks_text(warning)


async def test_a_late_first_look_sends_only_the_nearest_warning(world, linkedin, slack):
    connection_id = await sign_in(world)
    ends = (await read_connection(world, connection_id)).token_expires_at
    world.clock.now = ends - timedelta(hours=20)  # e.g. the app was down for a week
    await world.tick()
    world.clock.now += timedelta(hours=1)
    await world.tick()
    [warning] = alerts_posted(slack)
    assert "(tomorrow)" in blocks_text(warning)


async def test_a_partner_grant_renews_itself_and_warns_before_its_refresh_token_ends(world, linkedin, slack):
    linkedin.issues_refresh_tokens = True  # an approved Marketing partner app
    connection_id = await sign_in(world)
    first = await read_connection(world, connection_id)
    assert first.refresh_token is not None and first.refresh_expires_at - first.token_expires_at > timedelta(days=300)
    await world.tick()
    assert alerts_posted(slack) == [], "60 days of token left and a year to renew it: nothing to say"

    world.clock.now = first.refresh_expires_at - timedelta(days=7, minutes=-1)
    report = await world.tick()
    assert report.renewed == [connection_id], "its access token was renewed on the way"
    [warning] = alerts_posted(slack)
    assert "can renew itself only until then" in blocks_text(warning)
    async with world.sessions() as session:
        row = await session.scalar(select(Connection).where(Connection.id == connection_id))
    assert row.status is ConnectionStatus.ACTIVE
