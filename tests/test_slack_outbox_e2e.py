"""Slack failing while Picmim owes people messages, end to end: the real server (its outbox ticking every 0.3 s)
with an X account connected, posts composed through signed view submissions, and the fake Slack answering with
its HTML 503 page, `ratelimited` + Retry-After, or a refusal for good. A review card or status message is
delayed, never lost, appears once, and later updates edit that very message; a restart in between loses nothing;
two processes on one PostgreSQL database send each owed message once."""

from __future__ import annotations

import asyncio
import json
import time
from datetime import datetime, timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import select, update

from bot.storage import db
from bot.storage.models import OutboxMessage, OutboxState, Post, PostStatus, PostTarget, Workspace
from tests import journeys
from tests.conftest import SECRET_KEY, SIGNING_SECRET
from tests.journeys import compose_state, poll_server, shown, x_posts
from tests.server import ServerProcess, base_env, free_port
from tests.slack_requests import SlackSender, event_body

fake_x = journeys.fake_x

REVIEW = "C0REVIEW"  # the approval channel
DANA = "U0A01"  # an approver


# ---- the server, restartable, and reading its database ------------------------------------------------------

def _server_env(world_url: str, fake_slack, fake_x, port: int) -> dict[str, str]:
    overrides = ",".join(f"{real}={local}" for real, local in fake_x.origins().items())
    return base_env(SLACK_SIGNING_SECRET=SIGNING_SECRET, SLACK_BOT_TOKEN=journeys.BOT_TOKEN,
                    SLACK_API_URL=fake_slack.api_url, DATABASE_URL=world_url, PICMIM_SECRET_KEY=SECRET_KEY,
                    PORT=str(port), PUBLIC_URL=f"http://127.0.0.1:{port}", PICMIM_ORIGIN_OVERRIDES=overrides,
                    PICMIM_TICK_SECONDS="0.3", X_CLIENT_ID=fake_x.client_id, X_CLIENT_SECRET=fake_x.client_secret)


@pytest.fixture(scope="module")
def world(module_database, fake_slack, fake_x, tmp_path_factory):
    """The real server (which a test may restart), its database and the id of its connected X account."""
    port = free_port()
    env = _server_env(module_database.url, fake_slack, fake_x, port)
    folder = tmp_path_factory.mktemp("outbox")
    server = ServerProcess(env, cwd=folder).start()
    redirect = f"http://127.0.0.1:{port}/oauth/x/callback"
    fake_x.redirect_uris = {redirect}
    account_id = asyncio.run(journeys._store_x_account(module_database.url, fake_x, redirect))
    fake_slack.teams["T0001"].users[DANA] = {"id": DANA, "name": "dana", "tz": "Europe/Madrid", "is_admin": False}
    here = SimpleNamespace(server=server, env=env, folder=folder, url=module_database.url, account_id=account_id,
                           fake_x=fake_x)
    yield here
    here.server.stop()


@pytest.fixture
def sender(world):
    s = SlackSender(world.server.url, SIGNING_SECRET)
    yield s
    s.close()


def _read(url: str, query):
    async def run():
        engine = db.create_engine(url)
        try:
            async with db.session_factory(engine)() as session:
                return await query(session)
        finally:
            await engine.dispose()
    return asyncio.run(run())


def _write(url: str, statement) -> None:
    async def run(session):
        await session.execute(statement)
        await session.commit()
    _read(url, run)


@pytest.fixture
def approval(world):
    """Approval required, cards in #review, dana approving."""
    _write(world.url, update(Workspace).where(Workspace.team_id == "T0001").values(
        approval_required=True, approval_channel_id=REVIEW, approver_user_ids=[DANA]))
    yield
    _write(world.url, update(Workspace).where(Workspace.team_id == "T0001").values(approval_required=False))


def _post(url: str, text: str) -> Post | None:
    return _read(url, lambda s: s.scalar(select(Post).where(Post.text == text)))


def _owed(url: str, key: str) -> list[OutboxMessage]:
    return list(_read(url, lambda s: s.scalars(select(OutboxMessage).where(OutboxMessage.key == key)
                                               .order_by(OutboxMessage.id))))


def _depth(url: str) -> int:
    from bot.services import outbox

    return _read(url, outbox.depth)


def _compose(sender, world, label: str, channel: str = "C0001", at: datetime | None = None) -> str:
    text = f"{label} {time.time_ns()}"
    state = compose_state([world.account_id], text, when="schedule" if at else "now", at=at)
    answer = journeys.submit_compose(sender, state, metadata=json.dumps({"channel_id": channel}))
    assert answer.status_code == 200 and answer.text in ("", "null"), answer.text
    return text


def _tries(slack, channel: str) -> list:
    return [c for c in slack.calls_to("chat.postMessage")
            if c.params.get("channel") == channel and not c.params.get("thread_ts")]


def _wait(world, what: str, check, timeout: float = 60.0):
    return poll_server(what, check, world.server, timeout)


# ---- a review card ---------------------------------------------------------------------------------------------

def test_slack_answering_an_html_503_for_10_s_delays_a_review_card_never_loses_it(world, sender, slack, approval):
    slack.html_error("chat.postMessage", 503, channel=REVIEW, seconds=10)
    down_since = time.monotonic()
    text = _compose(sender, world, "Card while Slack is down")
    post = _wait(world, "the status message", lambda: (p := _post(world.url, text)) and p.message_ts and p)
    [owed] = _wait(world, "the card to be owed", lambda: _owed(world.url, f"review_card:{post.id}"))
    assert owed.state is OutboxState.PENDING and owed.last_error == "http_503"
    assert post.status is PostStatus.PENDING_APPROVAL and post.review_ts is None and slack.posted_in(REVIEW) == []

    post = _wait(world, "the review card", lambda: (p := _post(world.url, text)) and p.review_ts and p)
    assert time.monotonic() - down_since >= 10
    [card] = slack.posted_in(REVIEW)
    assert (card["ts"], post.review_channel_id) == (post.review_ts, REVIEW) and text in shown(card["blocks"])
    assert len(_tries(slack, REVIEW)) >= 3, "tried again while Slack was down, with a growing wait"
    time.sleep(1.5)
    assert len(slack.posted_in(REVIEW)) == 1 and _depth(world.url) == 0
    [owed] = _owed(world.url, f"review_card:{post.id}")
    assert owed.state is OutboxState.DELIVERED and owed.delivered_ts == post.review_ts

    # dana approves by reacting to the card that was finally posted; the card is updated there, not posted again
    reaction = {"type": "reaction_added", "user": DANA, "reaction": "white_check_mark", "item_user": "UBOT",
                "item": {"type": "message", "channel": REVIEW, "ts": post.review_ts}, "event_ts": f"{time.time():.6f}"}
    assert sender.post(event_body(reaction), "application/json").status_code == 200
    _wait(world, "the card to say it was approved", lambda: [
        c for c in slack.calls_to("chat.update")
        if c.params.get("ts") == post.review_ts and "Approved by" in shown(c.params.get("blocks"))])
    assert len(slack.posted_in(REVIEW)) == 1


def test_a_restart_between_slack_failing_and_recovering_still_delivers_the_card(world, sender, slack, approval):
    slack.html_error("chat.postMessage", 503, channel=REVIEW)
    text = _compose(sender, world, "Card across a restart")
    post = _wait(world, "the post", lambda: (p := _post(world.url, text)) and p.message_ts and p)
    _wait(world, "the card to be owed", lambda: _owed(world.url, f"review_card:{post.id}"))
    assert world.server.stop() == 0
    slack.html_errors.clear()  # Slack is back while Picmim is stopped
    assert slack.posted_in(REVIEW) == []
    world.server = ServerProcess(world.env, cwd=world.folder).start()
    post = _wait(world, "the card after the restart", lambda: (p := _post(world.url, text)) and p.review_ts and p)
    [card] = slack.posted_in(REVIEW)
    assert card["ts"] == post.review_ts and text in shown(card["blocks"])
    assert _depth(world.url) == 0


# ---- a post's status message -------------------------------------------------------------------------------

def test_a_status_message_owed_while_slack_was_down_appears_once_with_the_newest_state(world, sender, slack):
    """The post is published while its status message is still owed: the change folds into the owed message,
    which appears once, already saying where the post went."""
    channel = "C0FOLD"
    slack.html_error("chat.postMessage", 503, channel=channel, seconds=4)
    text = _compose(sender, world, "Published while Slack is down", channel=channel)
    _wait(world, "the post on X", lambda: x_posts(world.fake_x, text))
    post = _wait(world, "the status message", lambda: (p := _post(world.url, text)) and p.message_ts and p)
    assert post.status is PostStatus.PUBLISHED
    [message] = slack.posted_in(channel)
    url = _read(world.url, lambda s: s.scalar(select(PostTarget.remote_url).where(PostTarget.post_id == post.id)))
    assert message["ts"] == post.message_ts and url and url in shown(message["blocks"])
    assert "Published" in shown(message["blocks"])
    time.sleep(1)
    assert len(slack.posted_in(channel)) == 1 and _depth(world.url) == 0
    assert [c for c in slack.calls_to("chat.update") if c.params.get("channel") == channel
            and c.params.get("ts") != post.message_ts] == []


def test_a_late_status_message_is_the_one_its_later_updates_edit(world, sender, slack):
    channel = "C0LATE"
    slack.html_error("chat.postMessage", 503, channel=channel, seconds=3)
    at = datetime.now().astimezone() + timedelta(seconds=14)
    text = _compose(sender, world, "Scheduled while Slack is down", channel=channel, at=at)
    post = _wait(world, "the late status message", lambda: (p := _post(world.url, text)) and p.message_ts and p)
    [message] = slack.posted_in(channel)
    assert message["ts"] == post.message_ts and "Scheduled" in shown(message["blocks"])
    assert post.status is PostStatus.SCHEDULED, "delivered before the post's time (the test's premise)"
    _wait(world, "the post on X", lambda: x_posts(world.fake_x, text), timeout=40)
    _wait(world, "the message to say it was published", lambda: [
        c for c in slack.calls_to("chat.update")
        if c.params.get("channel") == channel and c.params.get("ts") == post.message_ts
        and "Published" in shown(c.params.get("blocks"))])
    assert len(slack.posted_in(channel)) == 1


def test_ratelimited_waits_as_long_as_slacks_retry_after_says(world, sender, slack):
    channel = "C0BUSY"
    slack.rate_limit("chat.postMessage", retry_after=3, times=3)  # the client itself waits out the first two
    text = _compose(sender, world, "Rate limited", channel=channel, at=datetime.now().astimezone() + timedelta(hours=1))
    post = _wait(world, "the status message", lambda: (p := _post(world.url, text)) and p.message_ts and p)
    tries = _tries(slack, channel)
    assert len(tries) == 4
    assert tries[3].at - tries[2].at >= 2.9, "the outbox waited as Slack asked, not its own first 1 s"
    [message] = slack.posted_in(channel)
    assert message["ts"] == post.message_ts
    [owed] = _owed(world.url, f"status:{post.id}")
    assert owed.state is OutboxState.DELIVERED and owed.last_error is None and owed.attempts == 2


def test_a_refusal_for_good_is_recorded_with_its_reason_logged_once_and_not_retried(world, sender, slack):
    channel = "C0REVOKED"
    slack.refuse_channel(channel, "token_revoked")
    before = len(world.server.output())
    text = _compose(sender, world, "Refused", channel=channel, at=datetime.now().astimezone() + timedelta(hours=1))
    post = _wait(world, "the post", lambda: _post(world.url, text))
    [owed] = _wait(world, "the refusal recorded", lambda: _owed(world.url, f"status:{post.id}"))
    assert owed.state is OutboxState.REFUSED and owed.last_error == "token_revoked"
    time.sleep(4)  # a passing failure would have been tried again at 1 s and 3 s
    assert len(_tries(slack, channel)) == 1 and slack.posted_in(channel) == []
    assert _depth(world.url) == 0
    logged = [line for line in world.server.output()[before:].splitlines() if "token_revoked" in line]
    assert len(logged) == 1 and "Traceback" not in world.server.output()[before:], logged


# ---- two processes, one PostgreSQL database -------------------------------------------------------------------

@pytest.mark.postgres
def test_two_processes_on_one_database_send_each_owed_card_once(world, sender, slack, approval):
    second = ServerProcess({**world.env, "PORT": str(free_port())}, cwd=world.folder).start()
    try:
        slack.html_error("chat.postMessage", 503, channel=REVIEW)
        texts = [_compose(sender, world, f"Card {n} for two processes") for n in range(6)]
        posts = _wait(world, "six cards owed", lambda: (found := [_post(world.url, t) for t in texts])
                      and all(p and _owed(world.url, f"review_card:{p.id}") for p in found) and found)
        slack.html_errors.clear()
        _wait(world, "every card", lambda: all(_post(world.url, t).review_ts for t in texts))
        time.sleep(1.5)  # both processes tick every 0.3 s: a card sent twice would show by now
        cards = slack.posted_in(REVIEW)
        assert sorted(next(t for t in texts if t in shown(c["blocks"])) for c in cards) == sorted(texts)
        assert {c["ts"] for c in cards} == {_post(world.url, t).review_ts for t in texts}
        assert _depth(world.url) == 0 and len(posts) == 6
    finally:
        second.stop()

