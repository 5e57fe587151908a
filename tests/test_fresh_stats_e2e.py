"""Fresh figures on request, end to end: a real server process, the fake Slack and the fake X. Three X accounts
were last synced 20 minutes ago (the metric sync, in-process, as the job leaves the database); `/picmim stats`
then asks X for newer figures, shows them with their "as of" time in the asker's zone, asks X once however often
it is asked within a few minutes, and does not ask again an X that answered 429."""

from __future__ import annotations

import asyncio
import json
import time
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from bot.http import build_client
from bot.platforms.x import ADAPTER as XAdapter
from bot.sandbox.fakes.x import FakeX
from bot.services.metric_sync import MetricSync
from bot.storage import crypto, db
from bot.storage.models import MetricSnapshot
from bot.views.blocks import local_time
from bot.views.stats import as_of
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

X_CAREERS = "4466116167"
X_EVENTS = "5577227278"
ZONE = "Europe/Madrid"  # U0001's zone at the fake Slack


@pytest.fixture(scope="module")
def fake_x():
    fake = FakeX().start()
    fake.redirect_uris = {X_UNVISITED_REDIRECT}
    fake.add_user(X_SUPPORT, "Acme Support", "acmehelp", followers=500)
    fake.add_user(X_CAREERS, "Acme Careers", "acmejobs", followers=300)
    fake.add_user(X_EVENTS, "Acme Events", "acmeevents", followers=200)
    yield fake
    fake.stop()


async def _in_db(url: str, fake_x: FakeX | None, work):
    crypto.configure([SECRET_KEY])
    engine = db.create_engine(url)
    http = build_client(fake_x.origins()) if fake_x else None
    try:
        await db.migrate(engine)
        sessions = db.session_factory(engine)
        adapters = {"x": make_adapter(XAdapter, fake_x, http, X_UNVISITED_REDIRECT)} if fake_x else {}
        return await work(sessions, adapters)
    finally:
        if http is not None:
            await http.aclose()
        await engine.dispose()


@pytest.fixture(scope="module")
def accounts(module_database, fake_x):
    """Three X accounts, each synced 20 minutes ago."""
    synced = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=20)

    async def work(sessions, adapters):
        found = {handle: await connect_x(sessions, fake_x, adapters, user, name, handle)
                 for user, name, handle in ((X_USER, "Acme Marketing", "acmemktg"),
                                            (X_SUPPORT, "Acme Support", "acmehelp"),
                                            (X_CAREERS, "Acme Careers", "acmejobs"),
                                            (X_EVENTS, "Acme Events", "acmeevents"))}
        await MetricSync(sessions, adapters).tick(synced)
        return found

    found = asyncio.run(_in_db(module_database.url, fake_x, work))
    return {**found, "synced": synced}


@pytest.fixture(scope="module")
def server(accounts, module_database, fake_slack, fake_x, tmp_path_factory):
    overrides = ",".join(f"{real}={local}" for real, local in fake_x.origins().items())
    env = base_env(SLACK_SIGNING_SECRET=SIGNING_SECRET, SLACK_BOT_TOKEN="xoxb-fake-T0001",
                   SLACK_API_URL=fake_slack.api_url, DATABASE_URL=module_database.url, PICMIM_SECRET_KEY=SECRET_KEY,
                   PICMIM_ORIGIN_OVERRIDES=overrides, X_CLIENT_ID=fake_x.client_id,
                   X_CLIENT_SECRET=fake_x.client_secret,
                   # The metric sync job stays out of the way: only the requests below ask X.
                   PICMIM_ANALYTICS_SECONDS="3600", LOG_LEVEL="WARNING")
    proc = ServerProcess(env, cwd=tmp_path_factory.mktemp("fresh")).start()
    yield proc
    proc.stop()


@pytest.fixture
def sender(server):
    s = SlackSender(server.url, SIGNING_SECRET)
    yield s
    s.close()


def _ask(sender, slack, text: str, rid: str) -> tuple[dict, str]:
    assert sender.command(text, response_url=slack.response_url(rid)).status_code == 200
    [answer] = slack.wait_for_response(rid, timeout=20)
    assert answer["response_type"] == "ephemeral"
    return answer, json.dumps(answer["blocks"], ensure_ascii=False)


def _latest_snapshot(url: str, account_id: int, post: bool) -> datetime:
    async def work(sessions, _):
        async with sessions() as session:
            query = select(func.max(MetricSnapshot.captured_at)).where(MetricSnapshot.account_id == account_id)
            query = query.where(MetricSnapshot.target_id.is_not(None) if post else MetricSnapshot.target_id.is_(None))
            return await session.scalar(query)
    return asyncio.run(_in_db(url, None, work))


def test_stats_for_a_post_published_a_minute_ago_show_xs_figures_as_of_now(sender, slack, fake_x, accounts,
                                                                           module_database):
    published = datetime.now(UTC) - timedelta(minutes=1)
    target_id, post_id, url = asyncio.run(_in_db(module_database.url, fake_x, lambda sessions, adapters: publish_x(
        sessions, adapters, accounts["acmemktg"], "Launch day", published)))
    set_post(fake_x, post_id, like_count=4, retweet_count=2)  # X has counted no impression yet: a real 0
    asked = len(fake_x.calls_to("/2/tweets", "GET"))
    answer, shown = _ask(sender, slack, f"stats <{url}>", "fresh-post")
    assert "no figures" not in shown
    for line in ("*Impressions*: 0", "*Likes*: 4", "*Reposts*: 2"):
        assert line in shown
    [lookup] = fake_x.calls_to("/2/tweets", "GET")[asked:]
    assert lookup.query["ids"] == post_id
    fetched_at = _latest_snapshot(module_database.url, accounts["acmemktg"], post=True)
    assert datetime.now(UTC) - fetched_at < timedelta(minutes=1)
    assert f"Figures as of {local_time(fetched_at, ZONE)}" in shown  # in the asker's zone


def test_an_accounts_stats_asked_twice_within_minutes_ask_x_once(sender, slack, fake_x, accounts, module_database):
    set_followers(fake_x, X_SUPPORT, 777)
    path = f"/2/users/{X_SUPPORT}"
    before = len(fake_x.calls_to(path, "GET"))
    _, first = _ask(sender, slack, "stats @acmehelp", "fresh-account-1")
    assert len(fake_x.calls_to(path, "GET")) == before + 1
    fetched_at = _latest_snapshot(module_database.url, accounts["acmehelp"], post=False)
    assert "*Followers*: 777\\n" in first
    assert f"*Acme Support* @acmehelp · as of {as_of(fetched_at, ZONE, datetime.now(UTC))}" in first

    set_followers(fake_x, X_SUPPORT, 780)  # X moved on, but Picmim's figures are a few seconds old
    _, second = _ask(sender, slack, "stats @acmehelp", "fresh-account-2")
    assert len(fake_x.calls_to(path, "GET")) == before + 1
    assert "*Followers*: 777" in second and "slow down" not in second


def test_an_x_that_answers_429_is_not_asked_again_and_the_answer_says_since_when(sender, slack, fake_x, accounts):
    path = f"/2/users/{X_CAREERS}"
    fake_x.rate_limit_reset_in = 600
    fake_x.rate_limit(path, method="GET")
    set_followers(fake_x, X_CAREERS, 999)
    before = len(fake_x.calls_to(path, "GET"))
    _, shown = _ask(sender, slack, "stats @acmejobs", "slowed-1")
    assert len(fake_x.calls_to(path, "GET")) == before + 1
    last_sync = as_of(accounts["synced"], ZONE, datetime.now(UTC))
    assert f"These are the figures from the last sync, {last_sync}: X asked Picmim to slow down" in shown
    assert "Picmim asks again after" in shown
    assert "*Followers*: 300" in shown and "999" not in shown  # the last sync's figure, not a made-up one
    assert f"*Acme Careers* @acmejobs · as of {last_sync}" in shown

    _, again = _ask(sender, slack, "stats @acmejobs", "slowed-2")
    assert len(fake_x.calls_to(path, "GET")) == before + 1, "X asked to slow down: not asked again"
    assert f"These are the figures from the last sync, {last_sync}: X asked Picmim to slow down" in again


def test_an_x_slower_than_the_wait_gets_an_answer_with_what_picmim_has_and_its_figures_kept(sender, slack, fake_x,
                                                                                          accounts):
    path = f"/2/users/{X_EVENTS}"
    set_followers(fake_x, X_EVENTS, 250)
    fake_x.hold(path, seconds=4.5, method="GET")  # longer than the answer waits (it starts waiting first)
    _, shown = _ask(sender, slack, "stats @acmeevents", "slow-1")
    last_sync = as_of(accounts["synced"], ZONE, datetime.now(UTC))
    assert "Not every platform answered within a few seconds: these are the latest figures Picmim has" in shown
    assert f"*Acme Events* @acmeevents · as of {last_sync}\\n*Followers*: 200" in shown
    # X answers later: its figures are kept, and the next question gets them without asking X again.
    wait_until(lambda: [c for c in fake_x.calls_to(path, "GET") if c.status == 200], "X's late answer", timeout=20)
    asked = len(fake_x.calls_to(path, "GET"))
    _, later = wait_until(lambda: (lambda a: a if "*Followers*: 250" in a[1] else None)(
        _ask(sender, slack, "stats @acmeevents", f"slow-{time.monotonic_ns()}")), "the late figures", timeout=20)
    assert "answered within" not in later and len(fake_x.calls_to(path, "GET")) == asked


def test_stats_for_every_account_show_each_ones_time(sender, slack, accounts):
    _, shown = _ask(sender, slack, "stats", "fresh-all")
    for name in ("Acme Marketing", "Acme Support", "Acme Careers", "Acme Events"):
        assert f"*{name}* @" in shown and " · as of " in shown
