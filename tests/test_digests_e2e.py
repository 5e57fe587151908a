"""Analytics end to end: a week of metric snapshots taken from the fake X (real OAuth grants, real HTTP,
the sync service on a simulated clock), then TWO real server processes on one database: the weekly
digest comes once, its numbers are the fake's, its chart a real PNG shared through the fake Slack's
external upload; an account whose connection broke mid-week shows "not synced since …"; `/picmim stats`
answers for one post and shares it once; `/picmim digest` subscribes, lists and unsubscribes."""

from __future__ import annotations

import asyncio
import io
import json
import time
from datetime import UTC, datetime, timedelta
from functools import partial

import pytest
from PIL import Image
from sqlalchemy import select

from bot import charts, ids
from bot.http import build_client
from bot.platforms.x import ADAPTER as XAdapter
from bot.sandbox.fakes.x import FakeX
from bot.services.metric_sync import MetricSync
from bot.storage import crypto, db
from bot.storage.models import Account, Connection, ConnectionStatus, DigestSubscription
from bot.views.blocks import local_time
from bot.views.stats import as_of
from tests import journeys
from tests.conftest import SECRET_KEY, SIGNING_SECRET
from tests.journeys import (
    X_SUPPORT,
    X_UNVISITED_REDIRECT,
    X_USER,
    connect_x,
    publish_x,
    set_followers,
    set_post,
    wait_until,
)
from tests.platform_fixtures import make_adapter
from tests.server import ServerProcess, base_env
from tests.slack_requests import SlackSender

TEAM = {"id": "T0001", "domain": "acme"}
DIGEST_CHANNEL = "CDIGEST"


@pytest.fixture(scope="module")
def fake_x():
    fake = FakeX().start()
    fake.redirect_uris = {X_UNVISITED_REDIRECT}
    fake.add_user(X_SUPPORT, "Acme Support", "acmehelp", followers=500)
    yield fake
    fake.stop()


async def _simulate_week(url: str, fake_x: FakeX, base: datetime) -> dict:
    """Days 0..7 from `base`, one sync a day, the fake's figures growing; Acme Support's grant is revoked on
    day 4 (and its connection marked broken, as the token health job marks it)."""
    crypto.configure([SECRET_KEY])
    engine = db.create_engine(url)
    http = build_client(fake_x.origins())
    try:
        await db.migrate(engine)  # what the server does on start
        sessions = db.session_factory(engine)
        adapters = {"x": make_adapter(XAdapter, fake_x, http, X_UNVISITED_REDIRECT)}
        main = await connect_x(sessions, fake_x, adapters, X_USER, "Acme Marketing", "acmemktg")
        support = await connect_x(sessions, fake_x, adapters, X_SUPPORT, "Acme Support", "acmehelp")
        sync, posts = MetricSync(sessions, adapters), {}
        for day in range(8):
            now = base + timedelta(days=day)
            if day == 1:
                posts["launch"] = await publish_x(sessions, adapters, main, "Spring launch", now - timedelta(hours=2))
            set_followers(fake_x, X_USER, 1200 + 10 * day)
            set_followers(fake_x, X_SUPPORT, 500 + 5 * day)
            if day >= 1:
                set_post(fake_x, posts["launch"][1], like_count=10 * day, retweet_count=2 * day, reply_count=day,
                         impression_count=1000 * day)
            if day == 4:
                fake_x.revoke(X_SUPPORT)
                async with sessions() as session:
                    connection = await session.scalar(select(Connection)
                                                      .where(Connection.external_user_id == X_SUPPORT))
                    connection.status, connection.status_cause = ConnectionStatus.REVOKED, "app_removed"
                    await session.commit()
            await sync.tick(now)
        return {"main": main, "support": support, "launch": posts["launch"], "base": base}
    finally:
        await http.aclose()
        await engine.dispose()


@pytest.fixture(scope="module")
def week(module_database, fake_x):
    base = datetime.now(UTC) - timedelta(days=7, minutes=10)
    return asyncio.run(_simulate_week(module_database.url, fake_x, base))


@pytest.fixture(scope="module")
def servers(week, module_database, fake_slack, fake_x, tmp_path_factory):
    """Two real server processes on the week's database, each running the analytics jobs every 0.3 s."""
    overrides = ",".join(f"{real}={local}" for real, local in fake_x.origins().items())
    env = base_env(SLACK_SIGNING_SECRET=SIGNING_SECRET, SLACK_BOT_TOKEN="xoxb-fake-T0001",
                   SLACK_API_URL=fake_slack.api_url, DATABASE_URL=module_database.url, PICMIM_SECRET_KEY=SECRET_KEY,
                   PICMIM_ORIGIN_OVERRIDES=overrides, X_CLIENT_ID=fake_x.client_id,
                   X_CLIENT_SECRET=fake_x.client_secret, PICMIM_ANALYTICS_SECONDS="0.3", LOG_LEVEL="WARNING")
    started = []
    try:
        for i in range(2):
            started.append(ServerProcess(dict(env), cwd=tmp_path_factory.mktemp(f"analytics-{i}")).start())
        yield started
    finally:
        for server in started:
            server.stop()


@pytest.fixture
def sender(servers):
    s = SlackSender(servers[0].url, SIGNING_SECRET)
    yield s
    s.close()


_db = journeys.in_database


_wait = partial(wait_until, timeout=20.0)


def _click(sender, slack, action_id: str, value: str, rid: str, channel: str = "C0001"):
    payload = {"type": "block_actions", "team": TEAM, "user": {"id": "U0001", "team_id": "T0001"},
               "api_app_id": "A0PICMIM", "token": "deprecated", "trigger_id": f"trigger-{time.time_ns()}",
               "channel": {"id": channel}, "container": {"type": "message", "is_ephemeral": True},
               "response_url": slack.response_url(rid),
               "actions": [{"type": "button", "action_id": action_id, "block_id": "b", "value": value,
                            "action_ts": str(time.time())}]}
    response = sender.interaction(payload)
    assert response.status_code == 200, response.text


def _color_pixels(png: bytes, hex_color: str) -> int:
    rgb = tuple(int(hex_color[i:i + 2], 16) for i in (1, 3, 5))
    counts = Image.open(io.BytesIO(png)).convert("RGB").getcolors(maxcolors=1 << 24)
    return next((n for n, color in counts if color == rgb), 0)


# ---- the weekly digest ---------------------------------------------------------------------------------------


def test_a_weekly_digest_from_a_simulated_week_is_posted_once_by_two_processes(servers, slack, week,
                                                                                module_database):
    due = datetime.now(UTC) - timedelta(seconds=1)

    async def subscribe(session):
        account = await session.get(Account, week["main"])
        sub = DigestSubscription(workspace_id=account.workspace_id, channel_id=DIGEST_CHANNEL, frequency="weekly",
                                 weekday=due.weekday(), time_of_day=due.strftime("%H:%M"), timezone="UTC",
                                 created_by="U0001", next_run_at=due)
        session.add(sub)
        await session.flush()
        return sub.id

    sub_id = _db(module_database.url, subscribe)
    [shared] = _wait(lambda: slack.shared_in(DIGEST_CHANNEL), "the digest in its channel")
    time.sleep(2)  # both processes tick several times more: nothing is sent again
    assert len(slack.shared_in(DIGEST_CHANNEL)) == 1
    assert len(slack.calls_to("files.getUploadURLExternal")) == 1
    assert [c.params["channel_id"] for c in slack.calls_to("files.completeUploadExternal")] == [DIGEST_CHANNEL]
    assert slack.calls_to("chat.postMessage") == [] or all(
        c.params.get("channel") != DIGEST_CHANNEL for c in slack.calls_to("chat.postMessage"))

    # The numbers are the fake's: day 0 against day 7.
    blocks = shared["blocks"]
    shown = json.dumps(blocks, ensure_ascii=False)
    assert blocks[0]["text"]["text"] == "Weekly digest"
    assert "changes against the week before" in shown
    # Each account says when its figures are from (its last sync before the digest), in the digest's zone.
    as_of_sync = as_of(week["base"] + timedelta(days=7), "UTC", due)
    assert f"*Acme Marketing* @acmemktg · as of {as_of_sync}\\n*Followers*: 1,270 · ▲ 5.8% (+70)" in shown
    assert "*Following*: 10 · no change" in shown
    assert "*Impressions*" not in shown, "a figure X does not give its accounts is not a line of its own"
    assert "*Listed*" not in shown, "no vanity rows"
    launch_url = week["launch"][2]
    assert f"<{launch_url}|Spring launch>" in shown and "*+91* interactions in this period" in shown
    assert "Likes 70 · Reposts 14 · Replies 7" in shown
    # Acme Support's connection broke on day 4: its figures are missing, and it says since when.
    last_sync = local_time(week["base"] + timedelta(days=3), "UTC")
    assert f"Not synced since {last_sync}: figures for this period are missing." in shown
    assert "Picmim was removed from the account's connected apps" in shown
    # … in one line, not a "missing" line per figure, with the button that mends it.
    assert "_missing_" not in shown
    [support] = [b for b in blocks if b["type"] == "section" and b["text"]["text"].startswith("*Acme Support*")]
    assert support["accessory"]["action_id"] == ids.ACCOUNT_RECONNECT and support["accessory"]["style"] == "primary"
    support_connection = _db(module_database.url, partial(_connection_of, week["support"]))
    assert support["accessory"]["value"] == str(support_connection)

    # The chart: a real PNG, one line per account.
    image = Image.open(io.BytesIO(shared["data"]))
    assert image.format == "PNG" and image.size == (1000, 600)
    assert shared["alt_txt"].startswith("Followers and engagement per account")
    assert _color_pixels(shared["data"], charts.color(0)) > 300  # Acme Marketing
    assert _color_pixels(shared["data"], charts.color(1)) > 100  # Acme Support, until day 3
    assert _color_pixels(shared["data"], charts.color(2)) == 0  # there is no third account

    sub = _db(module_database.url, lambda session: session.get(DigestSubscription, sub_id))
    assert sub.last_run_at == due and sub.last_error is None and sub.claimed_until is None
    assert sub.next_run_at == (due + timedelta(days=7)).replace(second=0, microsecond=0)  # at its HH:MM


# ---- /picmim stats --------------------------------------------------------------------------------------------


def test_stats_for_one_post_answers_privately_and_shares_once(sender, slack, week):
    launch_url = week["launch"][2]
    assert sender.command(f"stats <{launch_url}> 7d", response_url=slack.response_url("post-stats")).status_code == 200
    [answer] = slack.wait_for_response("post-stats")
    shown = json.dumps(answer["blocks"], ensure_ascii=False)
    assert answer["response_type"] == "ephemeral"
    assert answer["blocks"][0]["text"]["text"] == "Post stats"
    assert f"<{launch_url}|Spring launch>" in shown and "X · Acme Marketing" in shown
    for line in ("*Impressions*: 7,000", "*Likes*: 70", "*Reposts*: 14", "*Replies*: 7"):
        assert line in shown
    assert "*Quotes*" not in shown and "*Bookmarks*" not in shown, "a 0 that is not a headline figure is left out"
    assert shown.count("no earlier figure to compare") == 1  # the post is younger than the 7 days: said once
    [share] = [e for b in answer["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert share["action_id"] == ids.STATS_SHARE

    _click(sender, slack, ids.STATS_SHARE, share["value"], "shared")
    [done] = slack.wait_for_response("shared")
    assert done["replace_original"] is True and done["text"] == "Shared in this channel."
    [posted] = slack.wait_for("chat.postMessage")
    posted_blocks = json.dumps(posted.params["blocks"], ensure_ascii=False)
    assert posted.params["channel"] == "C0001" and "*Likes*: 70" in posted_blocks
    assert "Shared by <@U0001>" in posted_blocks and ids.STATS_SHARE not in posted_blocks

    _click(sender, slack, ids.STATS_SHARE, share["value"], "again")  # the same button, pressed again
    [again] = slack.wait_for_response("again")
    assert again["text"] == "This was already shared here."
    _click(sender, slack, ids.STATS_SHARE, '{"t": "1; drop", "d": 7}', "forged")
    [forged] = slack.wait_for_response("forged")
    assert "out of date" in forged["text"]
    time.sleep(0.5)
    assert len(slack.calls_to("chat.postMessage")) == 1


def test_stats_for_an_account_name_the_unknown_and_the_period(sender, slack, week):
    assert sender.command("stats @acmemktg 30d", response_url=slack.response_url("acct")).status_code == 200
    [answer] = slack.wait_for_response("acct")
    shown = json.dumps(answer["blocks"], ensure_ascii=False)
    assert answer["blocks"][0]["text"]["text"] == "Stats: last 30 days"
    assert "*Followers*: 1,270\\n" in shown  # nothing from 30 days ago: no change to show …
    assert shown.count("no earlier figure to compare") == 1  # … said once, not on every line
    assert "Acme Support" not in shown
    assert sender.command("stats nobody", response_url=slack.response_url("nobody")).status_code == 200
    [unknown] = slack.wait_for_response("nobody")
    assert "No account or post of this workspace matches “nobody”" in unknown["text"]
    assert sender.command("stats @acmemktg 12d", response_url=slack.response_url("days")).status_code == 200
    [period] = slack.wait_for_response("days")
    assert "Choose `7d` or `30d`" in period["text"]


# ---- /picmim digest ---------------------------------------------------------------------------------------------


def _submission(view: dict, *, zone: str, accounts: list[int]) -> dict:
    values = {
        ids.DIGEST_CHANNEL_BLOCK: {ids.DIGEST_CHANNEL_INPUT: {"type": "conversations_select",
                                                              "selected_conversation": "C0001"}},
        ids.DIGEST_FREQUENCY_BLOCK: {ids.DIGEST_FREQUENCY_INPUT: {"type": "static_select",
                                                                  "selected_option": {"value": "weekly"}}},
        ids.DIGEST_WEEKDAY_BLOCK: {ids.DIGEST_WEEKDAY_INPUT: {"type": "static_select",
                                                              "selected_option": {"value": "0"}}},
        ids.DIGEST_DAY_BLOCK: {ids.DIGEST_DAY_INPUT: {"type": "static_select", "selected_option": {"value": "1"}}},
        ids.DIGEST_TIME_BLOCK: {ids.DIGEST_TIME_INPUT: {"type": "timepicker", "selected_time": "09:00"}},
        ids.DIGEST_ZONE_BLOCK: {ids.DIGEST_ZONE_INPUT: {"type": "static_select",
                                                        "selected_option": {"value": zone}}},
        ids.DIGEST_ACCOUNTS_BLOCK: {ids.DIGEST_ACCOUNTS_INPUT: {
            "type": "multi_static_select", "selected_options": [{"value": str(i)} for i in accounts]}},
        ids.DIGEST_PLATFORMS_BLOCK: {ids.DIGEST_PLATFORMS_INPUT: {"type": "multi_static_select",
                                                                  "selected_options": []}},
    }
    return {"type": "view_submission", "team": TEAM, "user": {"id": "U0001", "team_id": "T0001"},
            "api_app_id": "A0PICMIM", "token": "deprecated", "trigger_id": f"trigger-{time.time_ns()}",
            "view": {"id": "V9", "team_id": "T0001", "type": "modal", "callback_id": view["callback_id"],
                     "private_metadata": view["private_metadata"], "state": {"values": values}, "hash": "h1",
                     "blocks": view["blocks"]}}


def test_digest_subscribe_list_and_unsubscribe(sender, slack, week, module_database):
    assert sender.command("digest subscribe", response_url=slack.response_url("sub")).status_code == 200
    [opened] = slack.wait_for("views.open")
    view = json.loads(opened.params["view"]) if isinstance(opened.params["view"], str) else opened.params["view"]
    assert view["callback_id"] == ids.DIGEST_SUBSCRIBE_VIEW
    blocks = {b.get("block_id"): b for b in view["blocks"]}
    assert blocks[ids.DIGEST_CHANNEL_BLOCK]["element"]["initial_conversation"] == "C0001"
    zone = blocks[ids.DIGEST_ZONE_BLOCK]["element"]
    assert zone["type"] == "static_select" and zone["initial_option"]["value"] == "Europe/Madrid"  # the user's zone
    assert "America/New_York" in [o["value"] for g in zone["option_groups"] for o in g["options"]]
    offered = [o["text"]["text"] for o in blocks[ids.DIGEST_ACCOUNTS_BLOCK]["element"]["options"]]
    assert offered == ["X · Acme Marketing", "X · Acme Support"]

    refused = sender.interaction(_submission(view, zone="Madrid", accounts=[week["main"]]))
    assert refused.status_code == 200 and refused.json()["response_action"] == "errors"
    assert "is not a time zone" in refused.json()["errors"][ids.DIGEST_ZONE_BLOCK]

    accepted = sender.interaction(_submission(view, zone="Europe/Madrid", accounts=[week["main"]]))
    assert accepted.status_code == 200 and accepted.text in ("", "null"), accepted.text
    [confirmed] = slack.wait_for_response("sub")
    assert confirmed["text"].startswith("Digest set up: Every Monday at 09:00 (Europe/Madrid) in <#C0001>, "
                                        "for X · Acme Marketing.")
    subs = _db(module_database.url, lambda s: _subs(s))
    [sub] = [s for s in subs if s.channel_id == "C0001"]
    assert sub.next_run_at > datetime.now(UTC) and sub.next_run_at.weekday() == 0

    assert sender.command("digest list", response_url=slack.response_url("list")).status_code == 200
    [listing] = slack.wait_for_response("list")
    [row] = [b for b in listing["blocks"] if b.get("block_id") == f"digest_{sub.id}"]
    assert "Every Monday at 09:00 (Europe/Madrid)" in row["text"]["text"]
    # The next run in the digest's own zone, saying which (not the viewer's, not UTC).
    next_run = local_time(sub.next_run_at, "Europe/Madrid").rsplit(" (", 1)[0]
    assert f"Next: {next_run} (Europe/Madrid time)" in row["text"]["text"]
    assert row["accessory"]["action_id"] == ids.DIGEST_UNSUBSCRIBE

    _click(sender, slack, ids.DIGEST_UNSUBSCRIBE, str(sub.id), "unsub")
    [after] = slack.wait_for_response("unsub")
    assert after["replace_original"] is True and "Unsubscribed" in json.dumps(after["blocks"])
    assert [s for s in _db(module_database.url, lambda s: _subs(s)) if s.channel_id == "C0001"] == []


async def _connection_of(account_id: int, session) -> int:
    return (await session.get(Account, account_id)).connection_id


async def _subs(session):
    return list((await session.scalars(select(DigestSubscription))).all())
