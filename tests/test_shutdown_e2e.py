"""SIGTERM mid-publish: the process stops claiming, lets the platform calls under way finish, gives back
the claims it never called, and exits 0; every post goes out exactly once, by it or after a restart."""

from __future__ import annotations

import asyncio
import signal
from collections import Counter

import pytest
from sqlalchemy import func, select

from bot.sandbox.fakes.x import FakeX
from bot.storage import db
from bot.storage.models import PostTarget, TargetStatus
from tests.test_publishing_processes_e2e import REDIRECT_URI, _count, _seed, _servers, _wait_for, _wait_until

pytestmark = pytest.mark.postgres

POSTS = 40


@pytest.fixture(scope="module")
def fake_x():
    fake = FakeX().start()
    yield fake
    fake.stop()


@pytest.fixture
def x(fake_x):
    fake_x.reset()
    fake_x.redirect_uris = {REDIRECT_URI}
    return fake_x


async def test_sigterm_mid_publish_exits_0_and_loses_or_duplicates_nothing(engine, database, fake_slack, x,
                                                                           tmp_path):
    await _seed(engine, x, POSTS)
    # Every call takes 3 s: the first 20 are under way at SIGTERM, the next 20 claimed and waiting their turn.
    x.slow("/2/tweets", seconds=3, method="POST", times=POSTS)
    first, second = _servers(database, fake_slack, x, tmp_path, 2)
    first.start()
    try:
        await _wait_until(lambda: len(x.calls_to("/2/tweets", method="POST")) >= 1, "calls under way")
        await asyncio.sleep(0.5)
        first.proc.send_signal(signal.SIGTERM)
        assert await asyncio.to_thread(first.proc.wait, 30) == 0, first.output()
        assert await _count(engine, TargetStatus.PUBLISHING) == 0, "no claim is left behind"
        assert await _count(engine, TargetStatus.UNCONFIRMED) == 0, "every call under way finished"
        done_by_first = await _count(engine, TargetStatus.PUBLISHED)
        assert 0 < done_by_first < POSTS

        second.start()
        await _wait_for(engine, TargetStatus.PUBLISHED, POSTS, seconds=60)
    finally:
        second.stop()
        first.stop()
    sent = Counter(p["text"] for p in x.posts.values())
    assert len(sent) == POSTS and set(sent.values()) == {1}, "every post went out, none twice"
    async with db.session_factory(engine)() as session:
        attempts = (await session.scalars(select(func.max(PostTarget.attempts)))).one()
    assert attempts == 1, "a released claim does not count as a try"
    assert "Traceback" not in first.output()
