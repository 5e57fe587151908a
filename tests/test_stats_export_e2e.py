"""`/picmim stats export` end to end: three days of figures synced from the fake X (real OAuth grants, real
HTTP, the sync service on a simulated clock), then the real server: the CSV arrives by DM through Slack's
external upload, parses with Python's csv module, and its rows are the fake's figures (empty cells where X
gives no figure, never 0); a viewer of one account gets only that account."""

from __future__ import annotations

import asyncio
import csv
import io
from datetime import UTC, datetime, timedelta

import pytest

from bot.http import build_client
from bot.platforms.x import ADAPTER as XAdapter
from bot.sandbox.fakes.x import FakeX
from bot.services.metric_sync import MetricSync
from bot.storage import crypto, db
from bot.storage.models import Account, RoleGrant
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

VIEWER = "U0003"  # a viewer of Acme Support only


@pytest.fixture(scope="module")
def fake_x():
    fake = FakeX().start()
    fake.redirect_uris = {X_UNVISITED_REDIRECT}
    fake.add_user(X_SUPPORT, "Acme Support", "acmehelp", followers=500)
    yield fake
    fake.stop()


async def _simulate(url: str, fake_x: FakeX) -> dict:
    """Days 0..2 (ending now), one sync a day with the fake's figures growing; the launch post goes live on day 1,
    the help post (Acme Support) on day 2 just after that day's sync (no figures yet). X stops giving the
    launch post's bookmarks."""
    crypto.configure([SECRET_KEY])
    engine = db.create_engine(url)
    http = build_client(fake_x.origins())
    try:
        await db.migrate(engine)
        sessions = db.session_factory(engine)
        adapters = {"x": make_adapter(XAdapter, fake_x, http, X_UNVISITED_REDIRECT)}
        main = await connect_x(sessions, fake_x, adapters, X_USER, "Acme Marketing", "acmemktg")
        support = await connect_x(sessions, fake_x, adapters, X_SUPPORT, "Acme Support", "acmehelp")
        sync = MetricSync(sessions, adapters)
        end = datetime.now(UTC) - timedelta(minutes=5)
        base = end - timedelta(days=2)
        days, posts = [], {}
        for day in range(3):
            now = base + timedelta(days=day)
            if day == 1:
                posts["launch"] = await publish_x(sessions, adapters, main, "+1 for spring: the launch",
                                                  now - timedelta(hours=2))
            set_followers(fake_x, X_USER, 1200 + 10 * day)
            set_followers(fake_x, X_SUPPORT, 500 + 5 * day)
            if day >= 1:
                set_post(fake_x, posts["launch"][1], like_count=10 * day, retweet_count=2 * day, reply_count=day,
                         impression_count=1000 * day)
            if day == 2:
                del fake_x.posts[posts["launch"][1]]["public_metrics"]["bookmark_count"]
            await sync.tick(now)
            days.append(now.date().isoformat())
        posts["help"] = await publish_x(sessions, adapters, support, "Help is here", end)
        async with sessions() as session:
            workspace_id = (await session.get(Account, main)).workspace_id
            session.add_all([RoleGrant(workspace_id=workspace_id, account_id=main, role="publisher",
                                       user_ids=["U0001"]),
                             RoleGrant(workspace_id=workspace_id, account_id=support, role="viewer",
                                       user_ids=[VIEWER])])
            await session.commit()
        return {"main": main, "support": support, "posts": posts, "days": days, "end": end}
    finally:
        await http.aclose()
        await engine.dispose()


@pytest.fixture(scope="module")
def synced(module_database, fake_x):
    return asyncio.run(_simulate(module_database.url, fake_x))


@pytest.fixture(scope="module")
def server(synced, module_database, fake_slack, tmp_path_factory):
    env = base_env(SLACK_SIGNING_SECRET=SIGNING_SECRET, SLACK_BOT_TOKEN="xoxb-fake-T0001",
                   SLACK_API_URL=fake_slack.api_url, DATABASE_URL=module_database.url, PICMIM_SECRET_KEY=SECRET_KEY,
                   LOG_LEVEL="WARNING")
    started = ServerProcess(env, cwd=tmp_path_factory.mktemp("export")).start()
    yield started
    started.stop()


@pytest.fixture
def sender(server):
    s = SlackSender(server.url, SIGNING_SECRET)
    yield s
    s.close()


def _wait_shared(slack, channel: str) -> list[dict]:
    return wait_until(lambda: slack.shared_in(channel), f"a file in {channel}")


def _csv(shared: dict) -> list[dict]:
    assert shared["filename"].startswith("picmim-stats-")
    assert not shared["data"].startswith(b"\xef\xbb\xbf"), "plain UTF-8: the first column is named 'row' to any reader"
    rows = list(csv.DictReader(io.StringIO(shared["data"].decode("utf-8"))))
    assert rows, "a header row and rows"
    return rows


def test_the_export_sends_the_fakes_figures_by_dm_as_a_csv(sender, slack, synced):
    assert sender.command("stats export 7d", response_url=slack.response_url("export")).status_code == 200
    [said] = slack.wait_for_response("export")
    assert said["text"] == "I'm sending you the CSV by DM." and said["response_type"] == "ephemeral"
    [shared] = _wait_shared(slack, "D0001")
    assert shared["filename"].endswith("-7d.csv")
    header = next(csv.reader(io.StringIO(shared["data"].decode("utf-8"))))
    assert header[:8] == ["row", "date (UTC)", "published (UTC)", "platform", "account", "handle", "post link",
                          "post text"]
    assert {"Impressions", "Likes", "Reposts", "Replies", "Quotes", "Bookmarks", "Followers", "Following",
            "Posts", "Listed"} <= set(header[8:])
    rows = _csv(shared)

    posts = [r for r in rows if r["row"] == "post"]
    assert [(r["account"], r["post text"]) for r in posts] == [
        ("Acme Marketing", "'+1 for spring: the launch"), ("Acme Support", "Help is here")]
    launch, help_post = posts
    _, _, launch_url = synced["posts"]["launch"]
    published = datetime.fromisoformat(launch["published (UTC)"])
    assert launch["published (UTC)"].endswith("Z") and published.tzinfo is not None
    assert launch["post link"] == launch_url and launch["platform"] == "X" and launch["handle"] == "acmemktg"
    # The figures of the last sync (day 2), under X's names; bookmarks X no longer gave: empty, not 0.
    assert (launch["Impressions"], launch["Likes"], launch["Reposts"], launch["Replies"], launch["Quotes"]) == \
        ("2000", "20", "4", "2", "0")
    assert launch["Bookmarks"] == ""
    # The help post went live after the last sync: no figures at all, every cell empty.
    assert all(help_post[c] == "" for c in ("Impressions", "Likes", "Reposts", "Replies", "Quotes", "Bookmarks"))

    accounts = [r for r in rows if r["row"] == "account"]
    days = synced["days"]
    marketing = {r["date (UTC)"]: r for r in accounts if r["account"] == "Acme Marketing"}
    support = {r["date (UTC)"]: r for r in accounts if r["account"] == "Acme Support"}
    assert set(days) <= set(marketing) and len(marketing) == len(support) == 8  # every day of the 7, both ends
    assert [marketing[d]["Followers"] for d in days] == ["1200", "1210", "1220"]
    assert [support[d]["Followers"] for d in days] == ["500", "505", "510"]
    assert marketing[days[0]]["Following"] == "10"
    first_day = min(marketing)
    assert first_day not in days and marketing[first_day]["Followers"] == "", "a day without a sync: empty"
    assert all(r["Impressions"] == "" for r in accounts), "X gives its accounts no impressions: empty, never 0"


def test_a_viewer_gets_only_the_accounts_they_may_see(sender, slack, fake_slack, synced):
    fake_slack.teams["T0001"].users[VIEWER] = {"id": VIEWER, "name": "vic", "tz": "Europe/Madrid",
                                               "is_admin": False}
    sender.command("stats export", user_id=VIEWER, response_url=slack.response_url("viewer"))
    [said] = slack.wait_for_response("viewer")
    assert said["text"] == "I'm sending you the CSV by DM."
    [shared] = _wait_shared(slack, "D0003")
    assert shared["filename"].endswith("-30d.csv"), "the last 30 days unless the person chooses"
    rows = _csv(shared)
    assert {r["account"] for r in rows} == {"Acme Support"}
    assert [r["post text"] for r in rows if r["row"] == "post"] == ["Help is here"]
    assert slack.shared_in("D0001") == []

    sender.command("stats export @acmemktg", user_id=VIEWER, response_url=slack.response_url("not-theirs"))
    [refused] = slack.wait_for_response("not-theirs")
    assert refused["text"] == ("You may not see the figures of Acme Marketing: ask an admin to make you one of its "
                               "viewers.")


def test_the_period_and_the_account_are_checked(sender, slack, synced):
    sender.command("stats export 12d", response_url=slack.response_url("days"))
    [period] = slack.wait_for_response("days")
    assert "Choose `7d`, `30d` or `90d`" in period["text"]
    sender.command("stats export 90d @nobody", response_url=slack.response_url("nobody"))
    [unknown] = slack.wait_for_response("nobody")
    assert unknown["text"].startswith("No account of this workspace matches “@nobody”")
    sender.command("stats export @acmehelp 90d", response_url=slack.response_url("one"))
    assert slack.wait_for_response("one")[0]["text"] == "I'm sending you the CSV by DM."
    [shared] = _wait_shared(slack, "D0001")
    assert shared["filename"].endswith("-90d.csv")
    rows = _csv(shared)
    assert {r["account"] for r in rows} == {"Acme Support"} and len([r for r in rows if r["row"] == "account"]) == 91
    assert slack.calls_to("files.completeUploadExternal")[-1].params["channel_id"] == "D0001"
