"""Follow-ups end to end: a post published with Picmim (its status message in C0001), four earlier posts with
figures taken a day after they went live, and TWO real server processes on one database. Once the post's
published time is moved 24 hours back, one reply lands in the thread of its status message, with the fake X's
figures and how they compare with the earlier posts ("2.3× your usual"); a post with no status message gets
none; an admin turning follow-ups off in `/picmim settings` stops them; a post whose status message was deleted
in Slack still gets its follow-up, in the channel."""

from __future__ import annotations

import asyncio
import json
import time
from datetime import UTC, datetime, timedelta
from functools import partial

import pytest
from sqlalchemy import select, update

from bot import ids
from bot.http import build_client
from bot.platforms.x import ADAPTER as XAdapter
from bot.sandbox.fakes.x import FakeX
from bot.storage import crypto, db
from bot.storage.models import MetricSnapshot, OutboxMessage, Post, PostFollowUp, PostTarget, Workspace
from tests import journeys
from tests.conftest import SECRET_KEY, SIGNING_SECRET
from tests.journeys import X_UNVISITED_REDIRECT, X_USER, connect_x, publish_x, set_post, shown, wait_until
from tests.platform_fixtures import make_adapter
from tests.server import ServerProcess, base_env
from tests.slack_requests import SlackSender

TEAM = {"id": "T0001", "domain": "acme"}
THREAD_TS = "1765000000.000100"  # the launch post's status message
QUIET_TS = "1765000000.000200"  # the post published after follow-ups were turned off
DELETED_TS = "1765000000.000300"  # a status message someone deleted in Slack
REFUSED_TS = "1765000000.000400"  # a status message whose thread Slack refuses replies in

_wait = partial(wait_until, timeout=20.0)


@pytest.fixture(scope="module")
def fake_x():
    fake = FakeX().start()
    fake.redirect_uris = {X_UNVISITED_REDIRECT}
    yield fake
    fake.stop()


_db = journeys.in_database


async def _seed(url: str, fake_x: FakeX) -> dict:
    """Acme Marketing on the fake X; four posts of the weeks before, each with its figures a day after it went
    live (Impressions 1,000…4,000: their middle is 2,500; Likes 10…40: 25); the launch post, live an hour ago,
    with a status message; and one published from elsewhere, with none."""
    crypto.configure([SECRET_KEY])
    engine = db.create_engine(url)
    http = build_client(fake_x.origins())
    try:
        await db.migrate(engine)
        sessions = db.session_factory(engine)
        adapters = {"x": make_adapter(XAdapter, fake_x, http, X_UNVISITED_REDIRECT)}
        account = await connect_x(sessions, fake_x, adapters, X_USER, "Acme Marketing", "acmemktg")
        now = datetime.now(UTC)
        for n, days_ago in enumerate((40, 30, 20, 10), start=1):
            live = now - timedelta(days=days_ago)
            target_id, _, _ = await publish_x(sessions, adapters, account, f"Earlier post {n}", live)
            async with sessions() as session:
                session.add_all(MetricSnapshot(account_id=account, target_id=target_id, metric=metric, value=value,
                                               captured_at=live + timedelta(hours=23, minutes=30))
                                for metric, value in (("impression_count", 1000 * n), ("like_count", 10 * n)))
                await session.commit()
        launch, launch_id, launch_url = await publish_x(sessions, adapters, account, "Spring launch",
                                                         now - timedelta(hours=1))
        set_post(fake_x, launch_id, impression_count=5750, like_count=50, retweet_count=3, reply_count=2)
        elsewhere, _, _ = await publish_x(sessions, adapters, account, "No status message",
                                          now - timedelta(hours=1))
        async with sessions() as session:
            await session.execute(update(Post).where(Post.id == select(PostTarget.post_id)
                                                     .where(PostTarget.id == launch).scalar_subquery())
                                  .values(message_ts=THREAD_TS))
            await session.execute(update(Post).where(Post.id == select(PostTarget.post_id)
                                                     .where(PostTarget.id == elsewhere).scalar_subquery())
                                  .values(channel_id=None))
            await session.commit()
        return {"account": account, "launch": launch, "launch_url": launch_url, "elsewhere": elsewhere}
    finally:
        await http.aclose()
        await engine.dispose()


@pytest.fixture(scope="module")
def seeded(module_database, fake_x):
    return asyncio.run(_seed(module_database.url, fake_x))


@pytest.fixture(scope="module")
def servers(seeded, module_database, fake_slack, fake_x, tmp_path_factory):
    """Two real server processes on the same database, each running the jobs every 0.3 s."""
    overrides = ",".join(f"{real}={local}" for real, local in fake_x.origins().items())
    env = base_env(SLACK_SIGNING_SECRET=SIGNING_SECRET, SLACK_BOT_TOKEN="xoxb-fake-T0001",
                   SLACK_API_URL=fake_slack.api_url, DATABASE_URL=module_database.url, PICMIM_SECRET_KEY=SECRET_KEY,
                   PICMIM_ORIGIN_OVERRIDES=overrides, X_CLIENT_ID=fake_x.client_id,
                   X_CLIENT_SECRET=fake_x.client_secret, PICMIM_ANALYTICS_SECONDS="0.3", PICMIM_TICK_SECONDS="0.3",
                   LOG_LEVEL="WARNING")
    started = []
    try:
        for i in range(2):
            started.append(ServerProcess(dict(env), cwd=tmp_path_factory.mktemp(f"followups-{i}")).start())
        yield started
    finally:
        for server in started:
            server.stop()


@pytest.fixture
def sender(servers):
    s = SlackSender(servers[0].url, SIGNING_SECRET)
    yield s
    s.close()


def _live_a_day_ago(url: str, *target_ids: int) -> None:
    async def move(session):
        await session.execute(update(PostTarget).where(PostTarget.id.in_(target_ids))
                              .values(published_at=datetime.now(UTC) - timedelta(hours=24, minutes=1)))
    _db(url, move)


def _replies(slack, thread_ts: str) -> list:
    return [c for c in slack.calls_to("chat.postMessage") if c.params.get("thread_ts") == thread_ts]


def test_the_day_after_one_reply_lands_in_the_posts_thread_with_its_figures_and_usual(servers, slack, seeded,
                                                                                        module_database):
    time.sleep(1)  # both processes tick a few times: the post is an hour old, nothing is due
    assert _replies(slack, THREAD_TS) == []
    # Slack is busy when the follow-up is first sent: the Slack client waits out two refusals, the outbox the third.
    slack.rate_limit("chat.postMessage", retry_after=1, times=3)
    _live_a_day_ago(module_database.url, seeded["launch"], seeded["elsewhere"])

    [taken] = _wait(lambda: slack.posted_in("C0001", THREAD_TS), "the follow-up in the post's thread")
    time.sleep(2)  # both processes tick several times more: nothing is sent again
    assert len(slack.posted_in("C0001", THREAD_TS)) == 1
    tries = _replies(slack, THREAD_TS)
    assert len(tries) == 4, "three refused, then taken: nothing lost, nothing twice"
    reply = tries[-1]
    assert reply.params["channel"] == "C0001"
    text = shown(reply.params["blocks"])
    assert "24 hours on: how this post is doing" in text
    assert f"X · Acme Marketing* <{seeded['launch_url']}|View post>" in text
    # The fake X's figures, each against the middle of the four earlier posts a day after they went live.
    assert "Impressions 5,750 · 2.3× your usual" in text
    assert "Likes 50 · 2.0× your usual" in text
    assert "\\nReposts 3\\n" in text, "the earlier posts had no reposts figure: nothing to compare it with"
    assert "the account's posts of the 90 days before, at the same age" in text
    assert reply.params["text"].startswith("24 hours on: how this post is doing")

    # The post published from elsewhere has no status message: no follow-up, anywhere.
    assert all(c.params.get("thread_ts") in (None, THREAD_TS) for c in slack.calls_to("chat.postMessage"))
    rows = _db(module_database.url, lambda s: _followups(s))
    assert [(r.hours, r.sent_at is not None) for r in rows] == [(24, True)]
    [owed] = _db(module_database.url, lambda s: _outbox(s))
    assert (owed.state.value, owed.attempts, owed.delivered_ts) == ("delivered", 2, taken["ts"])


def _settings_submission(hours: list[str]) -> dict:
    return {"type": "view_submission", "team": TEAM, "user": {"id": "U0001"}, "api_app_id": "A0PICMIM",
            "token": "deprecated", "trigger_id": f"trigger-{time.time_ns()}",
            "view": {"id": "VSETTINGS", "type": "modal", "callback_id": ids.SETTINGS_VIEW, "private_metadata": "",
                     "hash": "h1", "state": {"values": {
                         ids.SETTINGS_FOLLOWUPS_BLOCK: {ids.SETTINGS_FOLLOWUPS_INPUT: {
                             "type": "multi_static_select",
                             "selected_options": [{"value": h} for h in hours]}}}}}}


def test_turning_follow_ups_off_in_settings_stops_them(servers, sender, slack, seeded, module_database, fake_x):
    sender.command("settings", response_url=slack.response_url("settings"))
    [opened] = slack.wait_for("views.open")
    view = opened.params["view"]
    view = json.loads(view) if isinstance(view, str) else view
    [field] = [b for b in view["blocks"] if b.get("block_id") == ids.SETTINGS_FOLLOWUPS_BLOCK]
    assert field["label"]["text"] == "Reply with a post's figures"
    assert [o["text"]["text"] for o in field["element"]["initial_options"]] == ["1 day later", "7 days later"]

    answer = sender.interaction(_settings_submission([]))
    assert answer.status_code == 200 and answer.text in ("", "null"), answer.text
    assert _db(module_database.url, lambda s: _hours(s)) == []

    # A post that goes live now has a status message, and its day passes: no follow-up.
    async def quiet_post(session):
        post = Post(workspace_id=(await session.scalar(select(Workspace.id))), author_user_id="U0001",
                    text="Quiet", status="published", channel_id="C0001", message_ts=QUIET_TS)
        post.targets = [PostTarget(account_id=seeded["account"], status="published", remote_id="190000001",
                                   published_at=datetime.now(UTC) - timedelta(hours=24, minutes=1))]
        session.add(post)
    _db(module_database.url, quiet_post)
    time.sleep(2)
    assert _replies(slack, QUIET_TS) == []

    answer = sender.interaction(_settings_submission(["24", "168"]))  # on again: the day-old post gets its reply
    assert answer.status_code == 200, answer.text
    assert _db(module_database.url, lambda s: _hours(s)) == [24, 168]
    _wait(lambda: _replies(slack, QUIET_TS), "the follow-up once turned on again")


def _post_with_status_message(url: str, account_id: int, text: str, message_ts: str) -> None:
    """A post live on the account since a day ago, its status message `message_ts` in C0001."""
    async def add(session):
        post = Post(workspace_id=(await session.scalar(select(Workspace.id))), author_user_id="U0001", text=text,
                    status="published", channel_id="C0001", message_ts=message_ts)
        post.targets = [PostTarget(account_id=account_id, status="published", remote_id=f"19{message_ts[-4:]}",
                                   published_at=datetime.now(UTC) - timedelta(hours=24, minutes=1))]
        session.add(post)
    _db(url, add)


def test_a_post_whose_status_message_was_deleted_gets_its_follow_up_in_the_channel(servers, slack, seeded,
                                                                                    module_database):
    """Someone deleted the status message in Slack. Slack posts a reply to a message gone without a thread in the
    channel itself; when it refuses such a reply instead (thread_not_found), Picmim posts it in the channel. Either
    way the follow-up names its post, once."""
    slack.delete_message("C0001", DELETED_TS)
    _post_with_status_message(module_database.url, seeded["account"], "Autumn sale starts today", DELETED_TS)
    slack.refuse_thread(REFUSED_TS, "thread_not_found")
    _post_with_status_message(module_database.url, seeded["account"], "Winter lookbook is out", REFUSED_TS)

    def in_channel():
        found = [m for m in slack.posted_in("C0001") if "24 hours on" in shown(m["blocks"] or [])]
        return found if len(found) >= 2 else None
    taken = _wait(in_channel, "both follow-ups in the channel")
    said = sorted(shown(m["blocks"]) for m in taken)
    assert "24 hours on: how this post is doing*\\n> Autumn sale starts today" in said[0]
    assert "24 hours on: how this post is doing*\\n> Winter lookbook is out" in said[1]
    # Slack took the first as it was sent; the second was refused in its thread, then posted without it.
    assert [c.params.get("thread_ts") for c in _replies(slack, DELETED_TS)] == [DELETED_TS]
    refused = _replies(slack, REFUSED_TS)
    assert len(refused) == 1
    [alone] = [c for c in slack.calls_to("chat.postMessage")
               if c.params.get("thread_ts") is None and "Winter lookbook" in json.dumps(c.params.get("blocks"))]
    assert alone.params["text"] == refused[0].params["text"]
    time.sleep(1)  # both processes tick a few times more: nothing is sent again
    assert len([m for m in slack.posted_in("C0001") if "24 hours on" in shown(m["blocks"] or [])]) == 2
    rows = _db(module_database.url, lambda s: _outbox(s))
    gone = [r for r in rows if r.payload.get("thread_ts") in (DELETED_TS, REFUSED_TS)]
    assert [(r.state.value, r.attempts) for r in gone] == [("delivered", 1), ("delivered", 1)]


async def _followups(session):
    return list((await session.scalars(select(PostFollowUp).order_by(PostFollowUp.id))).all())


async def _outbox(session):
    return list((await session.scalars(select(OutboxMessage))).all())


async def _hours(session):
    return list(await session.scalar(select(Workspace.followup_hours)))
