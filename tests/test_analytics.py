"""Analytics in-process: the metric sync against the fake X (real HTTP, real database, a simulated clock),
the report figures (missing and "not available", never 0), the report's Block Kit and the chart PNG."""

from __future__ import annotations

import asyncio
import io
from datetime import UTC, datetime, timedelta

import pytest
from PIL import Image
from sqlalchemy import func, inspect, select

from bot import charts, ids
from bot.http import build_client
from bot.messages.reports import chart_lines
from bot.platforms.x import ADAPTER as XAdapter
from bot.sandbox.fakes.slack import MESSAGE_BLOCK_LIMIT, block_kit_errors
from bot.sandbox.fakes.x import FakeX
from bot.services import analytics
from bot.services.metric_sync import Cadence, MetricSync
from bot.storage import db
from bot.storage.models import (
    Account,
    Base,
    Connection,
    ConnectionStatus,
    MetricSnapshot,
)
from bot.views import stats as views
from tests.journeys import (
    X_SUPPORT,
    X_UNVISITED_REDIRECT,
    X_USER,
    add_account,
    add_figures,
    connect_x,
    publish_x,
    set_followers,
    set_post,
)
from tests.platform_fixtures import make_adapter

WEEK_START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def fake_x():
    fake = FakeX().start()
    yield fake
    fake.stop()


@pytest.fixture
def x(fake_x):
    fake_x.reset()
    fake_x.redirect_uris = {X_UNVISITED_REDIRECT}
    fake_x.add_user(X_SUPPORT, "Acme Support", "acmehelp", followers=500)
    return fake_x


@pytest.fixture
async def http(x):
    client = build_client(x.origins())
    yield client
    await client.aclose()


@pytest.fixture
def adapters(x, http):
    return {"x": make_adapter(XAdapter, x, http, X_UNVISITED_REDIRECT)}


@pytest.fixture
def sessions(engine):
    return db.session_factory(engine)


# ---- seeding, as a finished connect and a published post leave the database -------------------------------


async def snapshots(sessions, account_id: int, target_id: int | None = None) -> dict[datetime, dict[str, float]]:
    async with sessions() as session:
        query = select(MetricSnapshot).where(MetricSnapshot.account_id == account_id)
        query = query.where(MetricSnapshot.target_id.is_(None) if target_id is None
                            else MetricSnapshot.target_id == target_id)
        found: dict[datetime, dict[str, float]] = {}
        for row in (await session.scalars(query)).all():
            found.setdefault(row.captured_at, {})[row.metric] = row.value
        return found


# ---- the schema ---------------------------------------------------------------------------------------------


async def test_the_migration_has_every_column_of_the_model(engine):
    async with engine.connect() as conn:
        columns = await conn.run_sync(lambda c: {t: {col["name"] for col in inspect(c).get_columns(t)}
                                                 for t in inspect(c).get_table_names()})
    for table in Base.metadata.sorted_tables:
        assert table.name in columns, table.name
        assert {c.name for c in table.columns} <= columns[table.name], table.name


# ---- the cadence --------------------------------------------------------------------------------------------


def test_a_posts_figures_are_fetched_hourly_at_first_then_less_and_not_after_90_days():
    cadence = Cadence()
    assert cadence.post_every(timedelta(hours=3)) == timedelta(hours=1)
    assert cadence.post_every(timedelta(days=2)) == timedelta(hours=3)
    assert cadence.post_every(timedelta(days=10)) == timedelta(hours=12)
    assert cadence.post_every(timedelta(days=60)) == timedelta(days=1)
    assert cadence.post_every(timedelta(days=91)) is None


async def test_a_new_post_is_followed_closely_on_its_first_day_then_less(sessions, x, adapters):
    account_id = await connect_x(sessions, x, adapters, X_USER, "Acme Marketing", "acmemktg")
    sync = MetricSync(sessions, adapters)
    await sync.tick(WEEK_START)  # the account's own first sync
    published = WEEK_START + timedelta(minutes=10)
    target_id, _, _ = await publish_x(sessions, adapters, account_id, "Spring launch", published)
    x.forget_calls()
    fetched_at = []
    for step in range(2 * 24 * 4):  # a tick every 15 minutes for two days
        now = published + timedelta(minutes=15 * step)
        before = len(x.calls_to("/2/tweets", "GET"))
        await sync.tick(now)
        if len(x.calls_to("/2/tweets", "GET")) > before:
            fetched_at.append(now - published)
    first_day = [a for a in fetched_at if a < timedelta(days=1)]
    second_day = [a for a in fetched_at if a >= timedelta(days=1)]
    assert first_day[0] == timedelta(hours=1)  # its first figures an hour after it went live
    assert 20 <= len(first_day) <= 24 and 7 <= len(second_day) <= 9
    assert all(b - a >= timedelta(hours=3) for a, b in zip(second_day, second_day[1:], strict=False))
    # The account's own figures come every 6 hours, with the post's visits.
    assert len(await snapshots(sessions, account_id)) >= 9
    assert len(await snapshots(sessions, account_id, target_id)) == len(fetched_at)


# ---- a week of syncs ------------------------------------------------------------------------------------------


async def simulate_week(sessions, x, adapters) -> dict:
    """Two X accounts synced once a day for a week (days 0..7), their figures growing at the fake; the
    second account's grant is revoked on day 4. Returns what was set up."""
    main = await connect_x(sessions, x, adapters, X_USER, "Acme Marketing", "acmemktg")
    support = await connect_x(sessions, x, adapters, X_SUPPORT, "Acme Support", "acmehelp")
    sync = MetricSync(sessions, adapters)
    posts = {}
    for day in range(8):
        now = WEEK_START + timedelta(days=day)
        if day == 1:
            posts["launch"] = await publish_x(sessions, adapters, main, "Spring launch", now - timedelta(hours=2))
            posts["teaser"] = await publish_x(sessions, adapters, main, "Teaser", now - timedelta(hours=3))
        set_followers(x, X_USER, 1200 + 10 * day)
        set_followers(x, X_SUPPORT, 500 + 5 * day)
        if day >= 1:
            set_post(x, posts["launch"][1], like_count=10 * day, retweet_count=2 * day, reply_count=day,
                     impression_count=1000 * day)
            set_post(x, posts["teaser"][1], like_count=day, impression_count=100 * day)
        if day == 4:
            x.revoke(X_SUPPORT)
        await sync.tick(now)
    return {"main": main, "support": support, "posts": posts}


async def test_a_week_of_syncs_keeps_the_fakes_figures_under_xs_own_names(sessions, x, adapters):
    week = await simulate_week(sessions, x, adapters)
    main = await snapshots(sessions, week["main"])
    assert sorted(main) == [WEEK_START + timedelta(days=d) for d in range(8)]
    assert [main[t]["followers_count"] for t in sorted(main)] == [1200 + 10 * d for d in range(8)]
    assert set(main[WEEK_START]) == {"followers_count", "following_count", "post_count", "listed_count",
                                     "like_count"}
    launch_target = week["posts"]["launch"][0]
    launch = await snapshots(sessions, week["main"], launch_target)
    assert launch[WEEK_START + timedelta(days=7)] == {"like_count": 70, "retweet_count": 14, "reply_count": 7,
                                                      "quote_count": 0, "bookmark_count": 0,
                                                      "impression_count": 7000}
    # The revoked account: synced on days 0..3 only, and it says why.
    support = await snapshots(sessions, week["support"])
    assert sorted(support) == [WEEK_START + timedelta(days=d) for d in range(4)]
    async with sessions() as session:
        account = await session.get(Account, week["support"])
    assert account.metrics_synced_at == WEEK_START + timedelta(days=3)
    assert "X" in account.metrics_error

    async with sessions() as session:
        report = await analytics.build_report(session, account.workspace_id, WEEK_START, WEEK_START + timedelta(
            days=7))
    by_name = {a.name: a for a in report.accounts}
    followers = by_name["Acme Marketing"].values[0]
    assert (followers.label, followers.value, followers.previous) == ("Followers", 1270, 1200)
    assert round(followers.percent, 1) == 5.8 and views.value_line(followers) == (
        "*Followers*: 1,270 · ▲ 5.8% (+70)")
    assert views.value_line(by_name["Acme Marketing"].values[-1]) == "*Impressions*: _not available for this account_"
    stale = by_name["Acme Support"]
    assert stale.not_synced and stale.synced_at == WEEK_START + timedelta(days=3)
    assert all(v.value is None for v in stale.values)
    # Top posts: the launch gained 70 likes + 14 reposts + 7 replies during the week.
    assert [(p.preview, p.gained) for p in report.top_posts] == [("Spring launch", 91), ("Teaser", 7)]
    assert report.top_posts[0].url == week["posts"]["launch"][2]
    # The chart's series: followers per sync, engagement summed over the account's posts.
    assert by_name["Acme Marketing"].followers[-1] == (WEEK_START + timedelta(days=7), 1270)
    assert by_name["Acme Marketing"].engagement[-1] == (WEEK_START + timedelta(days=7), 91 + 7)
    assert by_name["Acme Support"].followers[-1] == (WEEK_START + timedelta(days=3), 515)


async def test_a_rate_limited_account_waits_as_long_as_the_platform_says(sessions, x, adapters):
    account_id = await connect_x(sessions, x, adapters, X_USER, "Acme Marketing", "acmemktg")
    x.rate_limit_reset_in = 600
    x.rate_limit("/2/users/", method="GET")
    sync = MetricSync(sessions, adapters)
    now = datetime.now(UTC)
    [outcome] = await sync.tick(now)
    assert not outcome.synced and outcome.rate_limited and "slow down" in outcome.detail
    assert timedelta(seconds=590) <= outcome.retry_at - now <= timedelta(seconds=610)
    calls = len(x.calls_to("/2/users/", "GET"))
    assert await sync.tick(now + timedelta(minutes=5)) == []  # held back: the platform's window is not over
    assert len(x.calls_to("/2/users/", "GET")) == calls
    [outcome] = await sync.tick(now + timedelta(minutes=11))
    assert outcome.synced and (await snapshots(sessions, account_id))


async def test_two_processes_never_fetch_one_account_at_once(sessions, x, adapters, engine):
    await connect_x(sessions, x, adapters, X_USER, "Acme Marketing", "acmemktg")
    other = MetricSync(db.session_factory(engine), adapters)
    now = datetime.now(UTC)
    first, second = await asyncio.gather(MetricSync(sessions, adapters).tick(now), other.tick(now))
    assert len(first) + len(second) == 1
    assert len(x.calls_to(f"/2/users/{X_USER}", "GET")) == 1


async def test_a_permission_taken_back_marks_the_connection_revoked(sessions, x, adapters):
    await connect_x(sessions, x, adapters, X_USER, "Acme Marketing", "acmemktg")
    for grant in x.tokens.values():  # the member unticked "read your profile" in X's connected apps
        grant.scopes = grant.scopes - {"users.read"}
    [outcome] = await MetricSync(sessions, adapters).tick(datetime.now(UTC))
    assert not outcome.synced and "connect X again" in outcome.detail
    async with sessions() as session:
        connection = await session.scalar(select(Connection))
        assert connection.status is ConnectionStatus.REVOKED
        assert await session.scalar(select(func.count()).select_from(MetricSnapshot)) == 0
    assert await MetricSync(sessions, adapters).tick(datetime.now(UTC) + timedelta(days=1)) == []  # not asked again


# ---- missing, not available, never zero ---------------------------------------------------------------------


async def test_missing_figures_and_figures_a_platform_does_not_give_are_never_zero(sessions):
    end = WEEK_START + timedelta(days=7)
    member = await add_account(sessions, "linkedin", "profile", "Maria on LinkedIn")
    await add_figures(sessions, member, end - timedelta(hours=2), IMPRESSION=900, MEMBERS_REACHED=300, REACTION=12,
                   COMMENT=0, RESHARE=1)
    await add_account(sessions, "bluesky", "profile", "New on Bluesky")
    hidden = await add_account(sessions, "youtube", "channel", "Acme TV")
    # YouTube hides this channel's subscriber count: the platform's answer has none.
    await add_figures(sessions, hidden, end - timedelta(hours=1), viewCount=5000, videoCount=12)
    async with sessions() as session:
        report = await analytics.build_report(session, 1, WEEK_START, end)
    by_name = {a.name: a for a in report.accounts}
    lines = {name: [views.value_line(v) for v in a.values] for name, a in by_name.items()}
    assert lines["Maria on LinkedIn"][0] == "*Followers*: _not available for this account_"
    assert lines["Maria on LinkedIn"][1] == "*Impressions*: 900"  # no earlier figure: said once for the report
    assert lines["Maria on LinkedIn"][4] == "*Comments*: 0"  # a real zero
    assert lines["New on Bluesky"][:3] == ["*Followers*: _missing_", "*Following*: _missing_", "*Posts*: _missing_"]
    assert lines["New on Bluesky"][3] == "*Views*: _not available for this account_"
    assert by_name["New on Bluesky"].not_synced and by_name["New on Bluesky"].synced_at is None
    assert lines["Acme TV"][0] == "*Subscribers*: _not available for this account_"
    assert lines["Acme TV"][1] == "*Views*: 5,000"
    assert lines["Acme TV"][3] == "*Watch time (minutes)* (28 days): _not available for this account_"
    blocks = views.report_blocks(report, "Europe/Madrid", "Stats", compared_with="the 7 days before")
    shown = str(blocks)
    assert "Not synced yet" in shown
    # What a person reads: a real zero that is not a headline figure, and figures a platform does not give beyond
    # the first, are left out; "no earlier figure" is said once, in the report's note.
    texts = [b["text"]["text"] for b in blocks if b["type"] == "section"]
    [maria] = [t for t in texts if t.startswith("*Maria on LinkedIn*")]
    assert maria.splitlines() == ["*Maria on LinkedIn* · as of 08:00 (CET)",
                                  "*Followers*: _not available for this account_", "*Impressions*: 900",
                                  "*Members reached*: 300", "*Reactions*: 12", "*Reposts*: 1"]
    assert shown.count("no earlier figure to compare") == 1
    assert views.NO_COMPARISON in blocks[1]["elements"][0]["text"]
    # An account with no figures at all: one line, not a "missing" line per figure.
    [new] = [t for t in texts if t.startswith("*New on Bluesky*")]
    assert new == "*New on Bluesky*\n:warning: Not synced yet: figures for this period are missing."
    [tv] = [t for t in texts if t.startswith("*Acme TV*")]
    assert "Watch time" not in tv and "*Subscribers*: _not available for this account_" in tv


async def test_a_broken_connection_shows_not_synced_since_its_last_figures(sessions):
    end = WEEK_START + timedelta(days=7)
    page = await add_account(sessions, "facebook", "page", "Acme Page", status=ConnectionStatus.REVOKED)
    await add_figures(sessions, page, WEEK_START + timedelta(days=2), followers_count=800)
    async with sessions() as session:
        connection = await session.scalar(select(Connection))
        connection.status_cause = "password_changed"
        await session.commit()
        report = await analytics.build_report(session, 1, WEEK_START, end)
    [account] = report.accounts
    assert account.not_synced and account.synced_at == WEEK_START + timedelta(days=2)
    assert account.values[0].value is None  # missing, not 800 and not 0
    blocks = views.report_blocks(report, "Europe/Madrid", "Weekly digest", compared_with="the week before")
    text = str(blocks)
    assert "Not synced since 4 Mar 2026, 10:00 (CET)" in text
    assert "password was changed" in text and "Reconnect" in text
    assert text.count("_missing_") == 0, "one line for the account, not one per figure"
    # With its connection known, that one line carries the button that mends it.
    blocks = views.report_blocks(report, "Europe/Madrid", "Weekly digest", compared_with="the week before",
                                 reconnect={account.account_id: 42})
    [line] = [b for b in blocks if b["type"] == "section" and "Acme Page" in b["text"]["text"]]
    assert line["accessory"]["action_id"] == ids.ACCOUNT_RECONNECT and line["accessory"]["value"] == "42"
    assert line["accessory"]["text"]["text"] == "Reconnect" and line["accessory"]["style"] == "primary"
    assert block_kit_errors(blocks, MESSAGE_BLOCK_LIMIT) == []


async def test_report_blocks_are_valid_block_kit_and_fit_one_message(sessions):
    end = WEEK_START + timedelta(days=7)
    for i in range(60):
        account_id = await add_account(sessions, "x" if i % 2 else "bluesky", "profile", f"Account {i:02d}")
        await add_figures(sessions, account_id, end - timedelta(hours=1), followers_count=i, followersCount=i)
    async with sessions() as session:
        report = await analytics.build_report(session, 1, WEEK_START, end)
    blocks = views.report_blocks(report, "America/New_York", "Weekly digest", compared_with="the week before",
                                 share_value='{"n": "x"}', chart_note=charts.__doc__[:100])
    assert block_kit_errors(blocks, MESSAGE_BLOCK_LIMIT) == []
    assert len(blocks) <= MESSAGE_BLOCK_LIMIT
    [more] = [b for b in blocks if "more accounts" in str(b)]
    assert blocks.index(more) == len(blocks) - 4  # before the top posts, the chart note and the button
    shown = sum(1 for b in blocks if b["type"] == "section" and "*Account " in b["text"]["text"])
    assert f"…and {60 - shown} more accounts" in more["elements"][0]["text"]
    assert blocks[-1]["type"] == "actions"


# ---- the chart ---------------------------------------------------------------------------------------------------


def _pixels_of(png: bytes, hex_color: str) -> int:
    rgb = tuple(int(hex_color[i:i + 2], 16) for i in (1, 3, 5))
    counts = Image.open(io.BytesIO(png)).convert("RGB").getcolors(maxcolors=1 << 24)
    return next((n for n, color in counts if color == rgb), 0)


async def test_the_chart_is_a_png_with_one_line_per_account_that_has_figures(sessions, x, adapters):
    week = await simulate_week(sessions, x, adapters)
    bluesky = await add_account(sessions, "bluesky", "profile", "No figures yet")
    async with sessions() as session:
        report = await analytics.build_report(session, 1, WEEK_START, WEEK_START + timedelta(days=7))
    lines = chart_lines(report)
    assert [line.label for line in lines] == ["X · Acme Marketing", "X · Acme Support", "Bluesky · No figures yet"]
    png = charts.growth_chart(lines, report.start, report.end, "Europe/Madrid", "Weekly digest")
    image = Image.open(io.BytesIO(png))
    assert image.format == "PNG" and image.size == (1000, 600)
    image.verify()
    assert _pixels_of(png, charts.color(0)) > 300  # Acme Marketing: followers and engagement lines
    assert _pixels_of(png, charts.color(1)) > 100  # Acme Support: followers until it broke
    assert _pixels_of(png, charts.color(2)) == 0  # no figures, no line
    assert week and bluesky


# ---- what /picmim stats is asked about -----------------------------------------------------------------------


async def test_stats_finds_an_account_a_platform_or_a_post_by_its_link(sessions, x, adapters):
    main = await connect_x(sessions, x, adapters, X_USER, "Acme Marketing", "acmemktg")
    support = await connect_x(sessions, x, adapters, X_SUPPORT, "Acme Support", "acmehelp")
    target_id, _, url = await publish_x(sessions, adapters, main, "Spring launch", WEEK_START)
    async with sessions() as session:
        find = lambda text: analytics.find_subject(session, 1, text)  # noqa: E731
        assert (await find("")).account_ids is None
        assert (await find("@AcmeMktg")).account_ids == (main,)
        assert (await find("acme support")).account_ids == (support,)
        assert set((await find("x")).account_ids) == {main, support}
        assert (await find(f"<{url}>")).target_id == target_id  # as Slack sends a link
        assert (await find(f"<{url}?s=20|{url}>")).target_id == target_id
        assert (await find(url.replace("https://x.com", "https://www.x.com") + "/")).target_id == target_id
        assert await find("https://x.com/someone/status/1") is None
        assert await find("nobody") is None
        assert await find("acme") is None  # two accounts match: the user must say which
