"""The Slack outbox in-process: its table's rules (backoff, Retry-After, claims that let one process send each
message, lapsed claims, folding, depth) on SQLite and PostgreSQL, and alerts and authors' notices kept through
a Slack outage (real HTTP to the fake Slack) and delivered once."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import aiohttp
import pytest
from sqlalchemy import select, update

from bot.http import build_client
from bot.messages.alerts import send_alert
from bot.messages.outbox import OutboxWorker, Undelivered, attempt, is_passing, notify, send_text
from bot.platforms.x import ADAPTER as XAdapter
from bot.sandbox.fakes.x import FakeX
from bot.services import outbox
from bot.services.outbox import Owed
from bot.services.workspaces import ensure_workspace
from bot.storage import db
from bot.storage.models import Alert, OutboxMessage, OutboxState, utcnow
from tests.journeys import ALERTS, X_USER, World, alerts_posted, read_connection, sign_in
from tests.platform_fixtures import make_adapter

REDIRECT_URI = "https://picmim.example/oauth/x/callback"


@pytest.fixture
def sessions(engine):
    return db.session_factory(engine)


async def _workspace(sessions) -> int:
    async with sessions() as session:
        workspace = await ensure_workspace(session, "T0001")
        await session.commit()
        return workspace.id


# ---- the table's rules -------------------------------------------------------------------------------------

def test_each_failed_try_waits_longer_and_never_less_than_slack_asks():
    assert [outbox.wait_after(n).total_seconds() for n in (1, 2, 3, 4)] == [1, 2, 4, 8]
    assert outbox.wait_after(30).total_seconds() == outbox.LONGEST_WAIT
    assert outbox.wait_after(1, retry_after=30).total_seconds() == 30


async def test_an_owed_message_is_claimed_by_one_process_and_due_again_when_its_claim_lapses(sessions):
    workspace_id = await _workspace(sessions)
    now = utcnow()
    async with sessions() as session:
        await outbox.record(session, Owed(outbox.NOTICE, workspace_id, channel_id="C1", payload={"text": "hi"}),
                            now, "http_503")
    async with sessions() as session:
        assert await outbox.depth(session) == 1
        assert await outbox.claim_due(session, "a", now) == [], "not before its wait is over"

    later = now + timedelta(seconds=2)

    async def claim(owner):
        async with sessions() as session:
            return await outbox.claim_due(session, owner, later)
    first, second = await asyncio.gather(claim("a"), claim("b"))
    assert len(first + second) == 1, "one process takes it"
    [held] = first + second
    assert (held.attempts, held.owed.payload) == (2, {"text": "hi"})
    async with sessions() as session:
        assert await outbox.claim_due(session, "c", later) == [], "held"
        # the process holding it died: once the claim lapses another one sends it
        assert len(await outbox.claim_due(session, "c", later + outbox.LEASE + timedelta(seconds=1))) == 1


async def test_a_later_message_folds_into_the_owed_one_and_the_newest_content_wins(sessions):
    workspace_id = await _workspace(sessions)
    now = utcnow()
    key = "review_card:7"
    async with sessions() as session:
        await outbox.record(session, Owed(outbox.REVIEW_CARD, workspace_id, key=key, payload={"a": 1}), now, "x")
    async with sessions() as session:
        [claim] = await outbox.claim_due(session, "sender", now + timedelta(seconds=5))
    async with sessions() as session:  # a change while it is being sent: held elsewhere, so only folded
        row = await outbox.latest(session, key)
        assert await outbox.fold(session, row, Owed(outbox.REVIEW_CARD, workspace_id, key=key,
                                                    payload={"reopened": True}), "other", utcnow()) is None
    async with sessions() as session:
        again = await outbox.delivered(session, claim, utcnow(), "C1", "1.1")
        # sent again (the post rebuilt as it is now), with only what was folded in: {"a": 1} went out already
        assert again is not None and (again.key, again.payload) == (key, {"reopened": True})
        assert await outbox.depth(session) == 0
        [row] = (await session.scalars(select(OutboxMessage))).all()
        assert (row.state, row.delivered_ts, row.payload) == (OutboxState.DELIVERED, "1.1", {"a": 1, "reopened": True})
        assert await outbox.prune(session, utcnow() - outbox.KEPT_FOR) == 0, "kept for a while"
        assert await outbox.prune(session, utcnow() + timedelta(seconds=1)) == 1


async def test_a_refusal_for_good_is_kept_with_its_reason_and_never_claimed(sessions):
    workspace_id = await _workspace(sessions)
    now = utcnow()
    async with sessions() as session:
        await outbox.record(session, Owed(outbox.NOTICE, workspace_id, channel_id="C1", payload={"text": "x"}),
                            now, "internal_error")
    async with sessions() as session:
        [claim] = await outbox.claim_due(session, "a", now + timedelta(seconds=2))
        await outbox.refuse(session, claim, now, "channel_not_found")
        assert await outbox.claim_due(session, "a", now + timedelta(days=1)) == []
        row = await session.scalar(select(OutboxMessage).execution_options(populate_existing=True))
    assert (row.state, row.last_error) == (OutboxState.REFUSED, "channel_not_found")


# ---- through the fake Slack ---------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def x_server():
    fake = FakeX().start()
    yield fake
    fake.stop()


@pytest.fixture
async def world(engine, slack, x_server):
    x_server.reset()
    x_server.redirect_uris = {REDIRECT_URI}
    http = build_client(x_server.origins())
    yield await World.open(engine, slack, {"x": make_adapter(XAdapter, x_server, http, REDIRECT_URI)}, http)
    await http.aclose()


async def _due_now(world) -> None:
    """Makes the owed messages due at once (the test does not wait out the backoff)."""
    async with world.sessions() as session:
        await session.execute(update(OutboxMessage).values(next_attempt_at=utcnow() - timedelta(seconds=1)))
        await session.commit()


async def test_an_alert_slack_could_not_take_is_sent_once_by_the_outbox_and_found_by_token_health(world, slack,
                                                                                                 x_server):
    connection_id = await sign_in(world)
    await world.tick()
    slack.html_error("chat.postMessage", 503, channel=ALERTS)
    x_server.revoke(X_USER)
    world.clock.now = (await read_connection(world, connection_id)).next_check_at
    report = await world.tick()
    assert report.broken == [connection_id] and report.alerts_sent == []
    assert len(alerts_posted(slack)) == 1 and slack.posted_in(ALERTS) == [], "tried once, Slack answered 503"
    await world.tick()
    assert len(alerts_posted(slack)) == 1, "owed already: the next tick does not send it again"

    slack.html_errors.clear()
    await _due_now(world)
    [sent] = await OutboxWorker(world, {outbox.ALERT: send_alert}).tick()
    assert sent.ok
    async with world.sessions() as session:
        alert = await session.scalar(select(Alert))
        assert await outbox.depth(session) == 0
    assert (alert.channel_id, alert.shown) == (ALERTS, "open")
    assert [m["ts"] for m in slack.posted_in(ALERTS)] == [alert.message_ts]
    await world.tick()
    assert len(slack.posted_in(ALERTS)) == 1, "delivered: never a second alert"


async def test_an_authors_notice_is_kept_through_an_outage_and_delivered_in_its_thread(world, slack):
    async with world.sessions() as session:
        workspace_id = (await ensure_workspace(session, "T0001")).id
        await session.commit()
    slack.html_error("chat.postMessage", 503, channel="C0MKT")
    outcome = await notify(world, workspace_id, "C0MKT", "Dana approved your post.", thread_ts="1700000000.000100")
    assert outcome.transient and outcome.error == "http_503" and slack.posted_in("C0MKT", "1700000000.000100") == []
    slack.html_errors.clear()
    await _due_now(world)
    worker = OutboxWorker(world, {outbox.NOTICE: send_text})
    [sent] = await worker.tick()
    assert sent.ok and await worker.tick() == []
    [reply] = slack.posted_in("C0MKT", "1700000000.000100")
    assert reply["text"] == "Dana approved your post."


@pytest.mark.parametrize("raised, passing", [
    (TimeoutError(), True), (aiohttp.ServerDisconnectedError(), True),
    (Undelivered("ratelimited", transient=True, retry_after=7), True),
    (Undelivered("channel_not_found", transient=False), False)])
async def test_a_timeout_or_a_dropped_connection_is_waited_out_a_refusal_is_not(raised, passing):
    async def sender(runtime, owed):
        raise raised

    outcome = await attempt(None, Owed(outbox.NOTICE, 1), sender)
    assert not outcome.ok and outcome.transient is passing


def test_which_slack_errors_are_waited_out():
    for error in ("internal_error", "fatal_error", "service_unavailable", "request_timeout", "ratelimited",
                  "http_500", "http_502", "http_503", "http_429"):
        assert is_passing(error), error
    for error in ("channel_not_found", "not_in_channel", "is_archived", "invalid_auth", "account_inactive",
                  "token_revoked", "invalid_blocks", "http_404"):
        assert not is_passing(error), error
