"""Fresh figures on request, in-process against the fake X (real HTTP, real database, a clock the test sets):
what is asked of X, and what the answer is told when X is not asked."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update

from bot.http import build_client
from bot.platforms.x import ADAPTER as XAdapter
from bot.sandbox.fakes.x import FakeX
from bot.services.fresh_figures import FreshFigures
from bot.services.metric_sync import MetricSync
from bot.storage import db
from bot.storage.models import Account
from bot.views import stats as views
from tests.journeys import (
    X_SUPPORT,
    X_UNVISITED_REDIRECT,
    X_USER,
    add_account,
    connect_x,
    publish_x,
    set_followers,
    set_post,
)
from tests.platform_fixtures import make_adapter

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


class Clock:
    def __init__(self, now: datetime):
        self.now = now

    def __call__(self) -> datetime:
        return self.now


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
async def adapters(x):
    http = build_client(x.origins())
    yield {"x": make_adapter(XAdapter, x, http, X_UNVISITED_REDIRECT)}
    await http.aclose()


@pytest.fixture
def sessions(engine):
    return db.session_factory(engine)


async def test_figures_a_few_minutes_old_are_not_asked_for_again(sessions, x, adapters):
    main = await connect_x(sessions, x, adapters, X_USER, "Acme Marketing", "acmemktg")
    clock = Clock(NOW)
    fresh = FreshFigures(sessions, adapters, clock=clock)
    [first] = (await fresh.for_accounts([main])).values()
    assert first.fetched and first.reason is None
    clock.now = NOW + timedelta(minutes=4)
    [second] = (await fresh.for_accounts([main])).values()
    assert not second.fetched and second.reason is None  # fresh enough: nothing to say
    clock.now = NOW + timedelta(minutes=6)
    [third] = (await fresh.for_accounts([main])).values()
    assert third.fetched
    assert len(x.calls_to(f"/2/users/{X_USER}", "GET")) == 2


async def test_a_post_just_published_gets_its_figures_and_its_accounts_together(sessions, x, adapters):
    main = await connect_x(sessions, x, adapters, X_USER, "Acme Marketing", "acmemktg")
    await MetricSync(sessions, adapters).tick(NOW - timedelta(minutes=2))  # the account itself is fresh
    target_id, post_id, _ = await publish_x(sessions, adapters, main, "Launch", NOW - timedelta(minutes=1))
    set_post(x, post_id, like_count=5)
    found = await FreshFigures(sessions, adapters, clock=Clock(NOW)).for_post(target_id)
    assert found.fetched and found.account_id == main
    [lookup] = x.calls_to("/2/tweets", "GET")
    assert lookup.query["ids"] == post_id


async def test_a_slow_down_spares_the_platforms_other_accounts_and_says_until_when(sessions, x, adapters):
    main = await connect_x(sessions, x, adapters, X_USER, "Acme Marketing", "acmemktg")
    support = await connect_x(sessions, x, adapters, X_SUPPORT, "Acme Support", "acmehelp")
    x.forget_calls()
    x.rate_limit_reset_in = 900
    x.rate_limit("/2/users/", method="GET")
    now = datetime.now(UTC)  # X's reset is a real time
    found = await FreshFigures(sessions, adapters, clock=Clock(now)).for_accounts([main, support])
    assert len(x.calls_to("/2/users/", "GET")) == 1
    assert all("X asked Picmim to slow down" in f.reason for f in found.values())
    assert all(timedelta(minutes=14) < f.held_until - now <= timedelta(minutes=16) for f in found.values())
    line = views.not_fresher(found[main], None, "UTC")
    assert line.startswith("Picmim has no figures yet: X asked Picmim to slow down")
    assert "Picmim asks again after" in line
    # Asked again a minute later: the first account is held by X's request, and X is not asked.
    again = await FreshFigures(sessions, adapters, clock=Clock(now + timedelta(minutes=1))).for_accounts([main])
    assert "slow down" in again[main].reason and len(x.calls_to("/2/users/", "GET")) == 1


async def test_an_account_another_process_is_reading_is_not_asked_twice(sessions, x, adapters):
    main = await connect_x(sessions, x, adapters, X_USER, "Acme Marketing", "acmemktg")
    x.forget_calls()
    async with sessions() as session:  # the metric sync's lease, as another process holds it
        await session.execute(update(Account).where(Account.id == main)
                              .values(metrics_claimed_until=NOW + timedelta(minutes=10)))
        await session.commit()
    found = await FreshFigures(sessions, adapters, clock=Clock(NOW)).for_accounts([main])
    assert "reading this account's figures from X right now" in found[main].reason
    assert x.calls_to("/2/users/", "GET") == []


async def test_two_askers_at_once_make_one_request(sessions, x, adapters, engine):
    main = await connect_x(sessions, x, adapters, X_USER, "Acme Marketing", "acmemktg")
    set_followers(x, X_USER, 1500)
    other = FreshFigures(db.session_factory(engine), adapters, clock=Clock(NOW))
    first, second = await asyncio.gather(FreshFigures(sessions, adapters, clock=Clock(NOW)).for_accounts([main]),
                                         other.for_accounts([main]))
    assert [first[main].fetched, second[main].fetched].count(True) == 1
    assert len(x.calls_to(f"/2/users/{X_USER}", "GET")) == 1


async def test_linkedin_figures_ten_minutes_old_are_fresh_enough_but_xs_are_not(sessions, x, adapters):
    main = await connect_x(sessions, x, adapters, X_USER, "Acme Marketing", "acmemktg")
    member = await add_account(sessions, "linkedin", "profile", "Maria on LinkedIn")
    async with sessions() as session:  # both last synced ten minutes ago
        await session.execute(update(Account).where(Account.id.in_([main, member]))
                              .values(metrics_synced_at=NOW - timedelta(minutes=10)))
        await session.commit()
    found = await FreshFigures(sessions, adapters, clock=Clock(NOW)).for_accounts([main, member])
    assert found[main].fetched
    # LinkedIn's allowance is daily and a call per figure: not asked again within 30 minutes (nor told it failed).
    assert not found[member].fetched and found[member].reason is None
