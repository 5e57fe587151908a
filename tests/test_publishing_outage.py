"""The database goes away right after a platform took a post: the result is written again while the lease is
this process's, so the post ends published with its link (one platform call), not `unconfirmed` for a person."""

from __future__ import annotations

import logging
import re
import time
from datetime import timedelta

from sqlalchemy import event
from sqlalchemy.exc import OperationalError

from bot.services import publishing
from bot.services.publishing import Publisher
from bot.storage import db
from bot.storage.models import Post, PostStatus, TargetStatus
from tests import test_publishing as base
from tests.test_publishing import _post, _target, no_media

# The fake X, its adapter, a connected account and a clock, as the publishing tests have them.
platform_server, fake, http, adapter, tokens = base.platform_server, base.fake, base.http, base.adapter, base.tokens
account, clock = base.account, base.clock

THE_MARK = re.compile(r"UPDATE post_targets SET lease_expires_at=[^,]+, call_started_at=")  # mark_started's statement


class Outage:
    """Every statement on `engine` (or those `only` picks) fails as an unreachable database does, from `begin()`
    for `seconds`."""

    def __init__(self, engine, only=lambda statement: True):
        self.until, self.only = 0.0, only
        self.refused = 0
        event.listen(engine.sync_engine, "before_cursor_execute", self._statement)
        self.engine = engine

    def begin(self, seconds: float) -> None:
        self.until = time.monotonic() + seconds

    def _statement(self, conn, cursor, statement, parameters, context, executemany):
        if time.monotonic() < self.until and self.only(statement):
            self.refused += 1
            raise OperationalError(statement, parameters, ConnectionRefusedError(111, "Connection refused"))

    def close(self) -> None:
        event.remove(self.engine.sync_engine, "before_cursor_execute", self._statement)


class ThenOutage:
    """The platform adapter, with the database going away the moment its publish call has succeeded."""

    def __init__(self, adapter, outage: Outage, seconds: float, after=None):
        self._adapter, self._outage, self._seconds, self._after = adapter, outage, seconds, after
        self.calls = 0

    def __getattr__(self, name):
        return getattr(self._adapter, name)

    async def publish(self, *args, **kwargs):
        result = await self._adapter.publish(*args, **kwargs)
        self.calls += 1
        self._outage.begin(self._seconds)
        if self._after:
            self._after()
        return result


async def test_a_result_the_database_refused_for_a_while_is_written_once_it_is_back(engine, account, adapter, fake,
                                                                                   clock, caplog):
    caplog.set_level(logging.INFO, logger="bot.services.publishing")
    target_id = await _post(engine, account, text="Live while the database blinked")
    outage = Outage(engine)
    try:
        flaky = ThenOutage(adapter, outage, seconds=2.0)
        publisher = Publisher(db.session_factory(engine), {"x": flaky}, no_media, owner="test", clock=clock)
        [outcome] = await publisher.tick()
    finally:
        outage.close()
    assert outage.refused >= 2, "the result write met the outage and was tried again"
    assert outcome.status is TargetStatus.PUBLISHED
    target = await _target(engine, target_id)
    assert target.status is TargetStatus.PUBLISHED
    [(remote_id, sent)] = fake.posts.items()
    assert sent["text"] == "Live while the database blinked" and flaky.calls == 1, "one platform call"
    assert target.remote_id == remote_id and target.remote_url.endswith(f"/status/{remote_id}")
    assert target.lease_owner is None
    async with db.session_factory(engine)() as session:
        assert (await session.get(Post, target.post_id)).status is PostStatus.PUBLISHED
    # A later tick (after what would have been the lease) sends nothing again and asks no one.
    clock.now += publishing.LEASE + timedelta(minutes=1)
    assert await Publisher(db.session_factory(engine), {"x": adapter}, no_media, owner="other",
                           clock=clock).tick() == []
    assert len(fake.posts) == 1 and (await _target(engine, target_id)).status is TargetStatus.PUBLISHED
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "trying again while its lease lasts" in warnings[0].getMessage()
    assert not any(r.exc_info for r in caplog.records), "no traceback for an outage"


async def test_when_the_lease_is_about_to_end_the_result_is_left_to_a_person(engine, account, adapter, fake, clock):
    target_id = await _post(engine, account, text="Live, then a long outage")
    outage = Outage(engine)

    def lease_nearly_over():
        clock.now += publishing.LEASE - timedelta(seconds=30)  # the call itself took that long

    try:
        flaky = ThenOutage(adapter, outage, seconds=600.0, after=lease_nearly_over)
        publisher = Publisher(db.session_factory(engine), {"x": flaky}, no_media, owner="test", clock=clock)
        assert await publisher.tick() == [], "given up before the lease ends: no late write"
    finally:
        outage.close()
    assert (await _target(engine, target_id)).status is TargetStatus.PUBLISHING
    clock.now += timedelta(minutes=1)  # the lease ran out: whoever ticks next asks a person
    assert await Publisher(db.session_factory(engine), {"x": adapter}, no_media, owner="other",
                           clock=clock).tick() == []
    target = await _target(engine, target_id)
    assert target.status is TargetStatus.UNCONFIRMED and len(fake.posts) == 1, "never sent again by itself"


async def test_a_target_the_database_would_not_mark_is_not_called_and_goes_out_later(engine, account, adapter,
                                                                                     fake, clock):
    target_id = await _post(engine, account, text="Marked after the outage")
    outage = Outage(engine, only=THE_MARK.match)
    outage.begin(60.0)
    try:
        publisher = Publisher(db.session_factory(engine), {"x": adapter}, no_media, owner="test", clock=clock)
        assert await publisher.tick() == []
    finally:
        outage.close()
    assert outage.refused == 1
    assert fake.posts == {}, "no call without its mark"
    clock.now += publishing.CLAIM_LEASE + timedelta(seconds=1)
    [outcome] = await Publisher(db.session_factory(engine), {"x": adapter}, no_media, owner="test",
                                clock=clock).tick()
    assert outcome.status is TargetStatus.PUBLISHED and (await _target(engine, target_id)).attempts == 1
    assert [p["text"] for p in fake.posts.values()] == ["Marked after the outage"]
