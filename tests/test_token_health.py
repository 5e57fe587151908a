"""Token health against the fake X and the fake Slack, with a clock the tests move: renewals before
expiry, a revoked grant alerted once with its posts held, a reconnect that resolves the alert in place and
releases them, passing failures that alert nobody, and two processes that never look after one connection
at once. The service runs in-process; platform and Slack calls are real HTTP to the local fakes."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import select

from bot import ids
from bot.http import build_client
from bot.platforms.x import ADAPTER as XAdapter
from bot.sandbox.fakes.x import FakeX
from bot.services import connections
from bot.services.token_health import BACKOFF_FIRST, RENEW_AHEAD
from bot.services.workspaces import ensure_workspace
from bot.storage import db
from bot.storage.models import (
    Account,
    Alert,
    Connection,
    ConnectionStatus,
    Post,
    PostStatus,
    PostTarget,
    TargetStatus,
)
from tests.journeys import (
    ALERTS,
    X_USER,
    World,
    alerts_posted,
    blocks_text,
    read_connection,
    reconnect_button,
    schedule_post,
    sign_in,
    target_statuses,
)
from tests.platform_fixtures import make_adapter

REDIRECT_URI = "https://picmim.example/oauth/x/callback"
@pytest.fixture(scope="module")
def x_server():
    fake = FakeX().start()
    yield fake
    fake.stop()


@pytest.fixture
def x(x_server):
    x_server.reset()
    x_server.redirect_uris = {REDIRECT_URI}
    return x_server


@pytest.fixture
async def world(engine, slack, x):
    http = build_client(x.origins())
    yield await World.open(engine, slack, {"x": make_adapter(XAdapter, x, http, REDIRECT_URI)}, http)
    await http.aclose()


def renewals(x) -> list:
    return [c for c in x.calls_to("/2/oauth2/token") if c.form().get("grant_type") == "refresh_token"]


async def test_a_renewable_token_is_renewed_before_it_runs_out_and_nobody_is_alerted(world, x, slack):
    connection_id = await sign_in(world)
    x.users[X_USER]["public_metrics"]["followers_count"] = 1500
    x.users[X_USER]["name"] = "Acme Marketing EU"

    first = await world.tick()
    assert first.checked == [connection_id] and first.renewed == [], "2 hours left: synced, not renewed yet"
    before = await read_connection(world, connection_id)
    assert before.last_sync_at == world.clock.now
    assert before.next_check_at == before.token_expires_at - RENEW_AHEAD
    async with world.sessions() as session:
        account = await session.scalar(select(Account).where(Account.connection_id == connection_id))
    assert (account.name, account.followers_count) == ("Acme Marketing EU", 1500), "profile data synced"
    assert (await world.tick()).checked == [], "nothing asked of X before the next check is due"

    world.clock.now = before.next_check_at
    assert world.clock.now < before.token_expires_at
    second = await world.tick()
    assert second.renewed == [connection_id]
    after = await read_connection(world, connection_id)
    assert after.status is ConnectionStatus.ACTIVE and after.last_sync_at == world.clock.now
    assert after.access_token.reveal() != before.access_token.reveal()
    assert after.refresh_token.reveal() != before.refresh_token.reveal(), "X rotated the refresh token: kept"
    assert len(renewals(x)) == 1
    grant = x.tokens.get(after.access_token.reveal())
    assert grant is not None and not grant.expired, "the new token works at X"
    assert slack.calls_to("chat.postMessage") == [] and slack.calls_to("conversations.open") == []


async def test_a_revoked_grant_alerts_once_with_reconnect_and_holds_its_posts(world, x, slack):
    connection_id = await sign_in(world)
    await world.tick()
    await schedule_post(world, connection_id, "Spring sale starts Monday", world.clock.now + timedelta(days=2))
    await schedule_post(world, connection_id, "Meet us at the fair", world.clock.now + timedelta(days=3))
    x.revoke(X_USER)  # the member removed Picmim from their connected apps at X

    world.clock.now = (await read_connection(world, connection_id)).next_check_at
    report = await world.tick()
    assert report.broken == [connection_id]
    broken = await read_connection(world, connection_id)
    assert broken.status is ConnectionStatus.REVOKED
    [alert] = alerts_posted(slack)
    text = blocks_text(alert)
    assert "*X · Acme Marketing* is disconnected" in text
    assert "How to fix it:" in text and "Press Reconnect" in text
    assert "2 scheduled posts depend on it." in text and "on hold, not failed" in text
    assert "Spring sale starts Monday" in text and "Meet us at the fair" in text
    assert "<!date^" in text, "times shown in each reader's own zone"
    button = reconnect_button(alert)
    assert (button["action_id"], button["value"]) == (ids.ACCOUNT_RECONNECT, str(connection_id))
    assert await target_statuses(world) == {"Spring sale starts Monday": TargetStatus.HELD,
                                    "Meet us at the fair": TargetStatus.HELD}
    updates = [c for c in slack.calls_to("chat.update") if c.params["channel"] == "C0MKT"]
    assert len(updates) == 2 and all("On hold until Acme Marketing on X is reconnected" in blocks_text(c)
                                     for c in updates), "each post's status message says why it waits"
    for update in updates:  # …and offers the Reconnect that mends it, right there
        held = [e for b in update.params["blocks"] if b["type"] == "actions" for e in b["elements"]
                if e["action_id"] == ids.ACCOUNT_RECONNECT]
        assert [e["value"] for e in held] == [str(connection_id)] and "press Reconnect below" in blocks_text(update)
        assert not update.params["text"].startswith("Post "), "notification text in words"

    for later in (timedelta(minutes=1), timedelta(hours=1), timedelta(hours=7)):
        world.clock.now += later
        await world.tick()
    assert len(alerts_posted(slack)) == 1, "one alert per cause: no repeats on every tick"
    assert len(renewals(x)) == 1, "a broken connection is not asked again and again"


async def _revoked_with_posts(world, x, slack) -> tuple[int, object]:
    connection_id = await sign_in(world)
    await world.tick()
    await schedule_post(world, connection_id, "Spring sale starts Monday", world.clock.now + timedelta(days=2))
    await schedule_post(world, connection_id, "Meet us at the fair", world.clock.now + timedelta(days=3))
    x.revoke(X_USER)
    world.clock.now = (await read_connection(world, connection_id)).next_check_at
    await world.tick()
    [alert] = alerts_posted(slack)
    return connection_id, alert


async def test_reconnecting_resolves_the_alert_in_place_and_releases_the_posts(world, x, slack):
    connection_id, _ = await _revoked_with_posts(world, x, slack)
    alert_ts = (await _alert_row(world)).message_ts
    slack.forget_calls()

    assert await sign_in(world, reconnect_id=connection_id) == connection_id, "the same connection, mended"
    mended = await read_connection(world, connection_id)
    assert mended.status is ConnectionStatus.ACTIVE
    assert await target_statuses(world) == {"Spring sale starts Monday": TargetStatus.SCHEDULED,
                                    "Meet us at the fair": TargetStatus.SCHEDULED}, "released at once"

    await world.tick()
    [resolved] = [c for c in slack.calls_to("chat.update") if c.params["channel"] == ALERTS]
    assert resolved.params["ts"] == alert_ts, "updated in place"
    text = blocks_text(resolved)
    assert "was reconnected by <@U0001>" in text
    assert "2 scheduled posts that were on hold go out at their times" in text
    assert ids.ACCOUNT_RECONNECT not in text, "nothing left to press"
    posts = [c for c in slack.calls_to("chat.update") if c.params["channel"] == "C0MKT"]
    assert len(posts) == 2 and all("scheduled" in blocks_text(c) for c in posts)
    row = await _alert_row(world)
    assert row.resolved_by == "U0001" and row.shown == "resolved"

    await world.tick()
    assert alerts_posted(slack) == [] and len([c for c in slack.calls_to("chat.update")
                                               if c.params["channel"] == ALERTS]) == 1, "once"


async def _alert_row(world) -> Alert:
    async with world.sessions() as session:
        return await session.scalar(select(Alert).order_by(Alert.id.desc()))


async def test_a_held_post_whose_time_comes_while_still_broken_fails_with_the_fix(world, x, slack):
    await _revoked_with_posts(world, x, slack)
    async with world.sessions() as session:
        spring = await session.scalar(select(Post).where(Post.text == "Spring sale starts Monday"))
    world.clock.now = spring.scheduled_at + timedelta(minutes=1)
    report = await world.tick()
    assert report.failed_posts == {spring.id}
    async with world.sessions() as session:
        post = await session.get(Post, spring.id)
        [target] = (await session.scalars(select(PostTarget).where(PostTarget.post_id == spring.id))).all()
    assert post.status is PostStatus.FAILED and target.status is TargetStatus.FAILED
    assert "was not reconnected in time" in target.last_error and "Press Reconnect" in target.last_error
    message = [c for c in slack.calls_to("chat.update") if c.params["ts"] == spring.message_ts][-1]
    assert "was not reconnected in time" in blocks_text(message) and ids.POST_RETRY in blocks_text(message)
    assert (await target_statuses(world))["Meet us at the fair"] is TargetStatus.HELD, "its time has not come"


async def test_rate_limits_and_outages_are_retried_later_and_alert_nobody(world, x, slack):
    connection_id = await sign_in(world)
    await world.tick()
    world.clock.now = (await read_connection(world, connection_id)).next_check_at

    x.fail("/2/oauth2/token", status=503)
    report = await world.tick()
    assert report.deferred == [connection_id] and report.broken == []
    waiting = await read_connection(world, connection_id)
    assert waiting.status is ConnectionStatus.ACTIVE
    assert waiting.next_check_at == world.clock.now + BACKOFF_FIRST

    world.clock.now = waiting.next_check_at
    x.rate_limit("/2/oauth2/token")
    report = await world.tick()
    assert report.deferred == [connection_id]
    waiting = await read_connection(world, connection_id)
    assert timedelta(minutes=10) < waiting.next_check_at - world.clock.now <= timedelta(minutes=15), \
        "waits for X's rate-limit window (x-rate-limit-reset)"
    assert waiting.next_check_at < waiting.token_expires_at

    world.clock.now = waiting.next_check_at
    x.fail("/2/users/me", status=500)
    assert (await world.tick()).deferred == [connection_id], "renewed, then X's profile call failed"
    renewed = await read_connection(world, connection_id)
    assert renewed.status is ConnectionStatus.ACTIVE
    assert renewed.access_token.reveal() != waiting.access_token.reveal(), "the renewal itself was kept"
    world.clock.now = renewed.next_check_at
    assert (await world.tick()).checked == [connection_id]
    assert (await read_connection(world, connection_id)).check_failures == 0
    assert slack.calls_to("chat.postMessage") == [] and slack.calls_to("conversations.open") == []


async def test_two_processes_never_look_after_one_connection_at_once(world, x, slack, database):
    connection_id = await sign_in(world)
    await world.tick()
    other = db.create_engine(database.url)  # a second process has its own database connections
    try:
        world.clock.now = (await read_connection(world, connection_id)).next_check_at
        first, second = world.health(), world.health(db.session_factory(other))
        reports = await asyncio.gather(first.tick(), second.tick())
        assert sum((r.checked for r in reports), []) == [connection_id]
        assert len(renewals(x)) == 1, "X rotates refresh tokens: a second renewal would have broken it"
        assert (await read_connection(world, connection_id)).status is ConnectionStatus.ACTIVE

        x.revoke(X_USER)
        world.clock.now = (await read_connection(world, connection_id)).next_check_at
        await asyncio.gather(first.tick(), second.tick(), first.tick())
        assert len(alerts_posted(slack)) == 1
    finally:
        await other.dispose()


async def test_without_an_alerts_channel_the_person_who_connected_it_gets_a_dm(world, x, slack):
    async with world.sessions() as session:
        workspace = await ensure_workspace(session, "T0001")
        workspace.alerts_channel_id = None
        await session.commit()
    connection_id = await sign_in(world)
    await world.tick()
    x.revoke(X_USER)
    world.clock.now = (await read_connection(world, connection_id)).next_check_at
    await world.tick()
    [opened] = slack.calls_to("conversations.open")
    assert opened.params["users"] == "U0001"
    [dm] = slack.calls_to("chat.postMessage")
    assert dm.params["channel"] == "D0001" and "is disconnected" in blocks_text(dm)


async def test_an_alerts_channel_slack_refuses_falls_back_to_a_dm(world, x, slack):
    slack.refuse_channel(ALERTS, "is_archived")
    connection_id = await sign_in(world)
    await world.tick()
    x.revoke(X_USER)
    world.clock.now = (await read_connection(world, connection_id)).next_check_at
    await world.tick()
    sent = slack.calls_to("chat.postMessage")
    assert [c.params["channel"] for c in sent] == [ALERTS, "D0001"], "tried the channel, then messaged U0001"
    assert (await _alert_row(world)).channel_id == "D0001", "the DM is the one updated later"


async def test_an_alert_slack_could_not_take_is_sent_on_a_later_tick_once(world, x, slack):
    connection_id = await sign_in(world)
    await world.tick()
    x.revoke(X_USER)
    world.clock.now = (await read_connection(world, connection_id)).next_check_at
    slack.rate_limit("chat.postMessage", retry_after=1)
    await world.tick()
    assert len(alerts_posted(slack)) == 1 and (await _alert_row(world)).shown is None, "written, not shown yet"
    await asyncio.sleep(1.1)  # the Slack outbox keeps it for as long as Slack's Retry-After (its own clock)
    world.clock.now += timedelta(minutes=1)
    await world.tick()
    assert len(alerts_posted(slack)) == 2 and (await _alert_row(world)).shown == "open"
    world.clock.now += timedelta(minutes=1)
    await world.tick()
    assert len(alerts_posted(slack)) == 2, "delivered once; nothing more"


async def test_disconnecting_resolves_the_alert_and_cancels_the_held_posts(world, x, slack):
    connection_id, _ = await _revoked_with_posts(world, x, slack)
    async with world.sessions() as session:
        workspace = await ensure_workspace(session, "T0001")
        gone = await connections.disconnect(session, world.adapters, workspace, connection_id, "U0002")
        await session.commit()
    assert gone.cancelled_posts == 2
    await world.tick()
    [resolved] = [c for c in slack.calls_to("chat.update") if c.params["channel"] == ALERTS]
    assert "was disconnected by <@U0002>" in blocks_text(resolved)
    assert set((await target_statuses(world)).values()) == {TargetStatus.CANCELLED}


async def test_the_migration_matches_the_model_for_connections_and_alerts(engine):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from bot.storage.models import Base

    async with engine.connect() as conn:
        diffs = await conn.run_sync(lambda c: compare_metadata(MigrationContext.configure(c), Base.metadata))
    ours = [d for d in diffs if any(f"'{table}'" in repr(d) or f"table={table}" in repr(d)
                                    for table in ("connections", "alerts"))]
    assert ours == []


async def test_a_refresh_that_works_again_resolves_the_alert_and_releases_the_posts(world, x, slack):
    connection_id = await sign_in(world)
    await world.tick()
    await schedule_post(world, connection_id, "Spring sale starts Monday", world.clock.now + timedelta(days=2))
    async with world.sessions() as session:  # the publisher was refused by X a moment ago
        broken = await session.get(Connection, connection_id)
        broken.status, broken.status_cause = ConnectionStatus.REVOKED, "permission_removed"
        broken.last_error = "X no longer lets Picmim post for this account."
        await session.commit()
    await world.tick()
    [alert] = alerts_posted(slack)
    assert "A permission Picmim needs was turned off." in blocks_text(alert)
    assert (await target_statuses(world))["Spring sale starts Monday"] is TargetStatus.HELD

    async with world.sessions() as session:  # someone pressed Refresh in /picmim accounts
        workspace = await ensure_workspace(session, "T0001")
        said = await connections.refresh(session, world.adapters, workspace, connection_id, "U0002")
        await session.commit()
    assert "is connected and up to date. The held post goes out at its time again." in said
    assert (await target_statuses(world))["Spring sale starts Monday"] is TargetStatus.SCHEDULED
    await world.tick()
    [resolved] = [c for c in slack.calls_to("chat.update") if c.params["channel"] == ALERTS]
    assert "works again (<@U0002> pressed Refresh)" in blocks_text(resolved)
    assert len(alerts_posted(slack)) == 1
