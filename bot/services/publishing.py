"""Publishing due posts: exactly once, with the platform's answer recorded per target.

A target is claimed with a lease before its platform call, in one atomic statement (on PostgreSQL the
candidate rows are locked with SKIP LOCKED, so two processes never claim the same target; on SQLite
the single UPDATE is serialized by the database). A lease that runs out while its call was under way
means nobody knows whether the post went live: the target becomes `unconfirmed` and is shown to a
person — never sent again by itself.

Free of Slack and HTTP details: the caller hands in the adapters, a media source and a clock.

Over 500 lines on purpose: claims, call-started marks, results and post settlement are one exactly-once
protocol whose statements must be read together to see that nothing is sent twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, case, exists, func, select, update
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.util import identity_key

from bot.media.errors import OPTIMISING, MediaError, MediaNotReady
from bot.platforms import registry
from bot.platforms.base import (
    AccessRevoked,
    AccountRef,
    Adapter,
    ContentRejected,
    Draft,
    MediaFacts,
    MediaPayload,
    OutcomeUnknown,
    PlatformError,
    RateLimited,
    RevokeReason,
    TokenExpired,
    Transient,
)
from bot.platforms.settings import PlatformSettings, draft_parts, settings_from_json
from bot.services import audit
from bot.services.connections import GUIDANCE, apply_tokens, claim_refresh, token_set
from bot.storage.models import (
    Account,
    Connection,
    ConnectionStatus,
    Post,
    PostMedia,
    PostStatus,
    PostTarget,
    TargetStatus,
    utcnow,
)

if TYPE_CHECKING:
    from bot.metrics import Metrics

log = logging.getLogger(__name__)

LEASE = timedelta(minutes=15)  # longer than the slowest publish (video processing polls included)
CLAIM_LEASE = timedelta(minutes=2)  # a claimed target whose call has not started yet
RENEWAL_WAIT = timedelta(seconds=30)  # a target whose token someone else is renewing tries again after this
RENEWED, BUSY, PASSING, BROKEN = "renewed", "busy", "passing", "broken"  # how a token renewal went
# A result the database would not take is written again while the lease is ours, with growing waits; it stops
# this long before the lease ends, so no late write lands after another process has decided.
RESULT_RETRY_MARGIN = timedelta(seconds=60)
RESULT_RETRY_FIRST, RESULT_RETRY_MAX = 0.5, 15.0  # seconds between tries of a result write

# Media for one target: the post's attachments made to fit this platform and account (bot.media.source).
# It raises MediaNotReady while a video's optimised copy is being made, MediaError when one cannot fit.
MediaSource = Callable[[AsyncSession, Post, Adapter, Account],
                       Awaitable[tuple[list[MediaFacts], list[MediaPayload]]]]


@dataclass(frozen=True)
class RetryPolicy:
    """Transient failures are retried with growing waits; rate limits wait what the platform said."""

    max_attempts: int = 5
    first_delay: timedelta = timedelta(seconds=30)
    factor: float = 2.0
    max_delay: timedelta = timedelta(hours=1)

    def delay(self, attempts: int) -> timedelta:
        return min(self.first_delay * (self.factor ** max(0, attempts - 1)), self.max_delay)


@dataclass(frozen=True)
class Outcome:
    target_id: int
    post_id: int
    status: TargetStatus
    detail: str | None = None


async def claim_due(session: AsyncSession, owner: str, now: datetime, limit: int = 20, commit: bool = True
                    ) -> list[int]:
    """Claim up to `limit` due targets for `owner` with a lease; returns their ids (committed unless the
    caller commits).

    The candidates are read first (on PostgreSQL locked with SKIP LOCKED, so concurrent claimers take
    different rows), then updated only if still scheduled: a row another process claimed meanwhile is
    left alone. (One UPDATE with a LIMIT…SKIP LOCKED subquery is not safe: PostgreSQL may run the
    subquery once per row and claim far more than `limit`.)"""
    due = (select(PostTarget.id)
           .where(PostTarget.status == TargetStatus.SCHEDULED, PostTarget.next_attempt_at <= now)
           .order_by(PostTarget.next_attempt_at, PostTarget.id).limit(limit))
    if session.bind.dialect.name == "postgresql":
        due = due.with_for_update(skip_locked=True)
    candidates = (await session.scalars(due)).all()
    if not candidates:
        if commit:
            await session.commit()
        return []
    claimed = await session.execute(
        update(PostTarget)
        # Still scheduled and still due: a candidate another claimer took, published and rescheduled
        # meanwhile (SQLite reads without locking) is not taken again.
        .where(PostTarget.id.in_(candidates), PostTarget.status == TargetStatus.SCHEDULED,
               PostTarget.next_attempt_at <= now)
        .values(status=TargetStatus.PUBLISHING, lease_owner=owner, lease_expires_at=now + CLAIM_LEASE,
                call_started_at=None, attempts=PostTarget.attempts + 1)
        .returning(PostTarget.id)
        .execution_options(synchronize_session=False))
    ids = [row[0] for row in claimed]
    if ids:
        posts = select(PostTarget.post_id).where(PostTarget.id.in_(ids)).scalar_subquery()
        started = await session.execute(update(Post).where(Post.id.in_(posts), Post.status == PostStatus.SCHEDULED)
                                        .values(status=PostStatus.PUBLISHING).returning(Post.id)
                                        .execution_options(synchronize_session=False))
        await audit.record_posts(session, [row[0] for row in started], audit.PICMIM, audit.JOB, "publishing")
    if commit:
        await session.commit()
    return ids


async def mark_started(session: AsyncSession, owner: str, target_ids: list[int], now: datetime) -> set[int]:
    """Record that the platform calls of these claimed targets are about to be made, with the long lease
    a call needs; returns the ids still held by `owner` (a lease lost meanwhile means another process
    decides). The caller commits before making any call: from then on a lost lease means
    "unconfirmed", never "send again"."""
    marked = await session.execute(
        update(PostTarget)
        .where(PostTarget.id.in_(target_ids), PostTarget.status == TargetStatus.PUBLISHING,
               PostTarget.lease_owner == owner)
        .values(call_started_at=now, lease_expires_at=now + LEASE).returning(PostTarget.id)
        .execution_options(synchronize_session=False))
    return {row[0] for row in marked}


async def release_unstarted(session: AsyncSession, owner: str, now: datetime) -> list[int]:
    """Give back `owner`'s claims whose platform call has not started: due again at once, the try not
    counted. A call marked started meanwhile keeps its lease (mark_started and this exclude each other)."""
    released = (await session.execute(
        update(PostTarget)
        .where(PostTarget.status == TargetStatus.PUBLISHING, PostTarget.lease_owner == owner,
               PostTarget.call_started_at.is_(None))
        .values(status=TargetStatus.SCHEDULED, lease_owner=None, lease_expires_at=None, next_attempt_at=now,
                attempts=PostTarget.attempts - 1)
        .returning(PostTarget.id, PostTarget.post_id)
        .execution_options(synchronize_session=False))).all()
    if released:
        await settle_posts(session, sorted({post_id for _, post_id in released}))
    return [target_id for target_id, _ in released]


STRANDED_AFTER = timedelta(minutes=5)
RESUMING = "resuming"  # error_kind of a thread whose process stopped midway: the next part is looked for first


async def release_stranded(session: AsyncSession, now: datetime) -> None:
    """Targets of an accepted post are held until its status message exists (submitting.release); a
    process that died in between would strand them, so after a while they become due anyway."""
    stranded_posts = select(Post.id).where(Post.status == PostStatus.SCHEDULED,
                                           Post.updated_at < now - STRANDED_AFTER)
    await session.execute(
        update(PostTarget)
        .where(PostTarget.status == TargetStatus.SCHEDULED, PostTarget.next_attempt_at.is_(None),
               PostTarget.post_id.in_(stranded_posts))
        .values(next_attempt_at=select(func.coalesce(Post.scheduled_at, now))
                .where(Post.id == PostTarget.post_id).scalar_subquery())
        .execution_options(synchronize_session=False))


async def expire_leases(session: AsyncSession, now: datetime, metrics: Metrics | None = None) -> list[int]:
    """Targets whose lease ran out: one whose platform call had started has an unknown outcome, so a
    person confirms it; one claimed but never called (its process died first) is simply due again."""
    expired = PostTarget.status == TargetStatus.PUBLISHING, PostTarget.lease_expires_at < now
    # A thread with parts live stopped during its next part's call: it is due again, and its adapter looks at
    # the platform for that part before sending it (Draft.check_next); one it cannot check for is unconfirmed.
    await session.execute(
        update(PostTarget).where(*expired, PostTarget.call_started_at.is_not(None),
                                 PostTarget.thread_parts.is_not(None))
        .values(status=TargetStatus.SCHEDULED, error_kind=RESUMING, lease_owner=None, lease_expires_at=None,
                next_attempt_at=now, last_error="Picmim stopped in the middle of this thread; it carries on from "
                                                "the parts already live.")
        .execution_options(synchronize_session=False))
    released = await session.execute(
        update(PostTarget).where(*expired, PostTarget.call_started_at.is_(None))
        .values(status=TargetStatus.SCHEDULED, lease_owner=None, lease_expires_at=None, next_attempt_at=now,
                attempts=PostTarget.attempts - 1)
        .execution_options(synchronize_session=False))
    unknown = await session.execute(
        update(PostTarget).where(*expired, PostTarget.call_started_at.is_not(None))
        .values(status=TargetStatus.UNCONFIRMED, error_kind="unconfirmed", lease_owner=None,
                last_error="Picmim stopped while publishing this, so it may or may not be live. Check the "
                           "account, then mark it published or send it again.")
        .returning(PostTarget.id, PostTarget.post_id, PostTarget.account_id)
        .execution_options(synchronize_session=False))
    unknown = unknown.all()
    words = await audit.target_words(session, [row[0] for row in unknown])
    for target_id, post_id, _account_id in unknown:
        await audit.record_posts(session, [post_id], audit.PICMIM, audit.JOB, "unconfirmed",
                                 f"{words.get(target_id, (post_id, 'an account'))[1]}: Picmim stopped during the call")
    post_ids = sorted({row[1] for row in unknown})
    if metrics is not None:
        await _count_takeovers(session, metrics, released.rowcount or 0, [row[2] for row in unknown])
    await settle_posts(session, post_ids)
    await session.commit()
    return post_ids


async def _count_takeovers(session: AsyncSession, metrics: Metrics, released: int, unknown_accounts: list[int]
                           ) -> None:
    if released:
        metrics.lease_takeovers.labels("released").inc(released)
    if unknown_accounts:
        metrics.lease_takeovers.labels("unconfirmed").inc(len(unknown_accounts))
        platforms = dict((await session.execute(select(Account.id, Account.platform)
                                                .where(Account.id.in_(set(unknown_accounts))))).all())
        for account_id in unknown_accounts:
            metrics.target_settled(platforms.get(account_id, "unknown"), TargetStatus.UNCONFIRMED)


@dataclass
class _Job:
    """A claimed target and what its platform call needs, read with the claim (detached rows)."""

    target: PostTarget
    post: Post
    account: Account
    connection: Connection | None
    has_media: bool
    lease_until: datetime | None = None  # when this process's lease on the target ends, at the latest
    parts: list[dict] = field(default_factory=list)  # a thread's parts live so far (PostTarget.thread_parts)


@dataclass
class _Result:
    """What a job changes: its target's columns, and its connection's when the platform said it broke."""

    job: _Job
    target: dict
    connection: dict | None = None


# Every column a result writes, so that all results of a round go out as one executemany.
_RESULT_COLUMNS = ("status", "error_kind", "last_error", "next_attempt_at", "attempts", "remote_id", "remote_url",
                   "published_at", "thread_parts")


class _GroupWrite:
    """Writes submitted items together: whoever submits while a write is under way waits for the next
    one, which takes everything that arrived meanwhile (group commit: one transaction for many calls).
    While `urgent` items wait, a write takes only those: a call waiting for its mark goes first."""

    def __init__(self, write: Callable[[list], Awaitable[object]], urgent: Callable[[object], bool]):
        self._write, self._urgent, self._pending, self._running = write, urgent, [], False

    async def submit(self, item):
        future = asyncio.get_running_loop().create_future()
        self._pending.append((item, future))
        if not self._running:
            self._running = True
            asyncio.create_task(self._drain())
        return await future

    async def _drain(self) -> None:
        try:
            while self._pending:
                urgent = [p for p in self._pending if self._urgent(p[0])]
                if urgent:
                    batch, self._pending = urgent, [p for p in self._pending if not self._urgent(p[0])]
                else:
                    batch, self._pending = self._pending, []
                try:
                    answer = await self._write([item for item, _ in batch])
                except Exception as exc:
                    for _, future in batch:
                        future.set_exception(exc)
                else:
                    for _, future in batch:
                        future.set_result(answer)
        finally:
            self._running = False


class Publisher:
    """Publishes due targets. One per process; `tick()` is what the scheduler calls."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], adapters: Mapping[str, Adapter],
                 media: MediaSource, owner: str, policy: RetryPolicy = RetryPolicy(),
                 clock: Callable[[], datetime] = utcnow,
                 on_change: Callable[[int], Awaitable[None]] | None = None, batch: int = 200,
                 concurrency: int = 20, metrics: Metrics | None = None):
        self.sessions, self.adapters, self.media, self.owner = sessions, adapters, media, owner
        self.metrics = metrics
        self.policy, self.clock, self.on_change = policy, clock, on_change
        self.batch, self.concurrency = batch, concurrency
        # SQLite has one writer at a time: queue this process's writes on a lock instead of letting
        # them spin in SQLite's busy handler (other processes still wait on busy_timeout).
        bind = sessions.kw.get("bind")
        self._sqlite_writes = asyncio.Lock() if bind is not None and bind.dialect.name == "sqlite" else None
        # Call-started marks and results share one group write: one transaction (one turn of SQLite's
        # single writer) serves both.
        self._writes = _GroupWrite(self._write, urgent=lambda item: isinstance(item, int))
        self._stopping = False
        self._claiming = asyncio.Lock()
        self._idle = asyncio.Event()  # no tick under way
        self._idle.set()

    def _writing(self):
        return self._sqlite_writes or contextlib.nullcontext()

    async def tick(self) -> list[Outcome]:
        """Publish what is due: at most `concurrency` platform calls at once and `batch` targets in all.

        Targets are claimed in groups, a group ahead of the calls under way so no call slot waits for the
        database; the call-started marks and the results are written in groups too (`_GroupWrite`). A
        claimed target whose call has not started is at no risk: its short claim lease runs out and it is
        due again, while a started call holds the long lease."""
        if self._stopping:
            return []
        self._idle.clear()
        try:
            return await self._tick()
        finally:
            self._idle.set()

    async def stop(self, grace: float = 20.0) -> None:
        """For a process shutting down: claim nothing more, release the claims whose platform call never
        started (another process, or this one after a restart, takes them), and let the calls under way
        finish, for at most `grace` seconds."""
        self._stopping = True
        room = getattr(self, "_room", None)
        if room is not None:
            room.set()  # a tick waiting to claim more stops waiting
        async with self._claiming, self._writing(), self.sessions() as session:
            released = await release_unstarted(session, self.owner, self.clock())
            await session.commit()
        if released:
            log.info("Released %d claimed posts whose platform call had not started", len(released))
        try:
            async with asyncio.timeout(grace):
                await self._idle.wait()
        except TimeoutError:
            log.warning("Platform calls still under way after %s s; their leases decide what happens to them",
                        grace)

    async def _tick(self) -> list[Outcome]:
        async with self._writing(), self.sessions() as session:
            await release_stranded(session, self.clock())
            changed = await expire_leases(session, self.clock(), self.metrics)
        await self._changed(changed)
        self._calls = asyncio.Semaphore(self.concurrency)
        self._waiting, self._room = 0, asyncio.Event()
        tasks: list[asyncio.Task] = []
        claimed = 0
        while claimed < self.batch and not self._stopping:
            # Refill when half the claimed-ahead group has gone to its calls: claims stay large.
            while self._waiting > self.concurrency // 2 and not self._stopping:
                self._room.clear()
                await self._room.wait()
            if self._stopping:
                break
            jobs = await self._claim(min(self.concurrency - self._waiting, self.batch - claimed))
            if not jobs:
                break
            claimed += len(jobs)
            self._waiting += len(jobs)
            tasks += [asyncio.create_task(self._run(job)) for job in jobs]
        return [o for o in await asyncio.gather(*tasks) if o is not None]

    def _left_waiting(self) -> None:
        self._waiting -= 1
        self._room.set()

    async def _claim(self, limit: int) -> list[_Job]:
        async with self._claiming:  # stop() releases claims only once no claim is being made
            if self._stopping:
                return []
            return await self._claim_now(limit)

    async def _claim_now(self, limit: int) -> list[_Job]:
        async with self._writing(), self.sessions() as session:
            now = self.clock()
            ids = await claim_due(session, self.owner, now, limit, commit=False)
            rows = (await session.execute(
                select(PostTarget, Post, Account, Connection,
                       exists().where(PostMedia.post_id == Post.id).label("has_media"))
                .join(Post, Post.id == PostTarget.post_id).join(Account, Account.id == PostTarget.account_id)
                .outerjoin(Connection, Connection.id == Account.connection_id)
                .where(PostTarget.id.in_(ids)).order_by(PostTarget.id))).all() if ids else []
            await session.commit()
        return [_Job(*row, lease_until=now + CLAIM_LEASE) for row in rows]

    async def _changed(self, post_ids) -> None:
        if self.on_change is not None:
            for post_id in sorted(post_ids):
                await self.on_change(post_id)

    async def _run(self, job: _Job) -> Outcome | None:
        waiting = [True]

        def calling() -> None:
            if waiting[0]:
                waiting[0] = False
                self._left_waiting()

        try:
            result = await self._publish(job, calling)
        except Exception:  # a bug after the call may have left the post live: never resend blindly
            log.exception("Publishing target %s failed unexpectedly", job.target.id)
            result = self._finish(job, TargetStatus.UNCONFIRMED, "unconfirmed",
                                  "Something went wrong inside Picmim while publishing this; it may or may "
                                  "not be live. Check the account, then mark it published or send it again.")
        finally:
            calling()
        if result is None:  # the lease was lost before the call: another process decides
            return None
        if not await self._record(job, result):
            return None
        if self.metrics is not None:
            self.metrics.target_settled(job.account.platform, result.target["status"])
        await self._changed({job.post.id})
        return Outcome(job.target.id, job.post.id, result.target["status"], result.target["last_error"])

    async def _record(self, job: _Job, result: _Result) -> bool:
        """Write a result, again and again while the database cannot be reached and the lease is still ours: a
        post that went live must not be left to a person because the database blinked. Only when the lease is
        about to end (or the failure is not the database's reach) is it left to the lease: a person is asked."""
        delay, failing_since = RESULT_RETRY_FIRST, None
        while True:
            try:
                await self._writes.submit(result)
            except Exception as exc:
                left = (job.lease_until - self.clock() - RESULT_RETRY_MARGIN).total_seconds() \
                    if job.lease_until else 0.0
                if not _database_unreachable(exc) or left <= 0:
                    log.error("Could not record the result of target %s (%s: %s); its lease runs out and a person "
                              "is asked to check it", job.target.id, exc.__class__.__name__,
                              str(exc).splitlines()[0][:200] if str(exc) else "",
                              exc_info=not _database_unreachable(exc))
                    return False
                if failing_since is None:
                    failing_since = time.monotonic()
                    log.warning("The database cannot take the result of target %s (%s); trying again while its "
                                "lease lasts", job.target.id, exc.__class__.__name__)
                await asyncio.sleep(min(delay, left))
                delay = min(delay * 2, RESULT_RETRY_MAX)
                continue
            if failing_since is not None:
                log.info("Recorded the result of target %s after %.0f s", job.target.id,
                         time.monotonic() - failing_since)
            return True

    async def _write(self, items: list[int | _Result]) -> set[int]:
        """One transaction for a round of call-started marks (target ids) and results; returns the ids
        marked. Results go in first, then their posts' statuses, each post under its row lock (see
        settle_posts)."""
        starts = [i for i in items if isinstance(i, int)]
        results = [i for i in items if isinstance(i, _Result)]
        async with self._writing(), self.sessions() as session:
            started = await mark_started(session, self.owner, starts, self.clock()) if starts else set()
            if results:
                await session.execute(update(PostTarget), [
                    {"id": r.job.target.id, "lease_owner": None, "lease_expires_at": None,
                     "call_started_at": None, **r.target} for r in results])
                for r in results:
                    if r.connection:
                        await session.execute(update(Connection).where(Connection.id == r.job.connection.id)
                                              .values(**r.connection))
                    await _audit_result(session, r)
                await settle_posts(session, sorted({r.job.post.id for r in results}))
            await session.commit()
        return started

    async def _publish(self, job: _Job, calling: Callable[[], None]) -> _Result | None:
        target, post, account, connection = job.target, job.post, job.account, job.connection
        adapter = self.adapters.get(account.platform)
        if connection is None or not account.active or connection.access_token is None:
            return self._finish(job, TargetStatus.FAILED, "revoked",
                                f"{account.name} is no longer connected: reconnect it with /picmim connect, "
                                "then send the post again.")
        if adapter is None:
            return self._finish(job, TargetStatus.FAILED, "not_configured",
                                f"{account.platform} is not set up on this install any more; ask the app's admin.")
        facts, payloads = [], []
        if job.has_media:
            try:
                async with self.sessions() as session:
                    facts, payloads = await self.media(session, post, adapter, account)
            except MediaNotReady as exc:  # its video is still being optimised: not a try; it wakes it when done
                return self._result(job, status=TargetStatus.SCHEDULED, error_kind=OPTIMISING,
                                    next_attempt_at=self.clock() + timedelta(seconds=exc.wait),
                                    last_error=exc.message, attempts=target.attempts - 1)
            except MediaError as exc:  # an attachment that cannot be made to fit: nothing was sent
                return self._finish(job, TargetStatus.FAILED, "rejected", str(exc))
        chosen = settings_from_json(account.platform, target.settings)
        job.parts = [p for p in target.thread_parts or [] if isinstance(p, dict)]

        async def on_part(part: Mapping[str, Any]) -> None:
            await self._keep_part(job, part)

        draft = Draft(text=target.variant_text if target.variant_text is not None else post.text,
                      media=tuple(facts), first_comment=post.first_comment, options=dict(post.options or {}),
                      settings=chosen, live_parts=tuple(job.parts), check_next=target.error_kind == RESUMING,
                      on_part=on_part, **draft_parts(chosen))
        blocking = [p for p in adapter.validate(self._account_ref(account, connection), draft) if not p.fixable]
        if blocking:
            return self._finish(job, TargetStatus.FAILED, "rejected", "; ".join(p.message for p in blocking))
        async with self._calls:
            if self._stopping:  # shutting down: the claim is released (stop), the call never made
                return None
            calling()
            return await self._call(job, adapter, draft, payloads)

    async def _call(self, job: _Job, adapter: Adapter, draft: Draft, payloads: list[MediaPayload]
                    ) -> _Result | None:
        """The platform call itself (after a token refresh when needed), marked as started first."""
        target, account, connection = job.target, job.account, job.connection
        for attempt in (1, 2):
            if connection.token_expires_at and connection.token_expires_at <= self.clock() and adapter.refreshable:
                connection, renewal = await self._refresh(connection, adapter)
                if renewal != RENEWED:
                    return self._not_renewed(job, connection, renewal)
            if attempt == 1:
                marked_at = self.clock()
                try:
                    marked = await self._writes.submit(job.target.id)
                except Exception as exc:
                    if not _database_unreachable(exc):
                        raise
                    # Not marked, so not called: the short claim lease runs out and the target is due again.
                    log.warning("The database cannot mark target %s as being sent (%s); it is sent later",
                                job.target.id, exc.__class__.__name__)
                    return None
                if job.target.id not in marked:
                    return None
                job.lease_until = marked_at + LEASE
            try:
                result = await self._timed_publish(adapter, self._account_ref(account, connection), draft, payloads)
            except TokenExpired as exc:
                if attempt == 1 and adapter.refreshable:
                    connection, renewal = await self._refresh(connection, adapter, force=True)
                    if renewal == RENEWED:
                        continue  # the call was refused before anything was published: safe to send again
                    if renewal != BROKEN:
                        return self._not_renewed(job, connection, renewal)
                return self._finish(job, TargetStatus.FAILED, "expired", f"{exc.message} {GUIDANCE['token_expired']}",
                                    connection=_broken(ConnectionStatus.EXPIRED, "token_expired", exc))
            except AccessRevoked as exc:
                return self._finish(job, TargetStatus.FAILED, "revoked",
                                    f"{exc.message} {GUIDANCE.get(exc.reason, GUIDANCE[RevokeReason.UNKNOWN])}",
                                    connection=_broken(ConnectionStatus.REVOKED, exc.reason.value, exc))
            except RateLimited as exc:
                wait = timedelta(seconds=exc.retry_after) if exc.retry_after else self.policy.delay(target.attempts)
                # Waiting for the platform's window is not a failed try.
                return self._again(job, wait, "rate_limited", exc, attempts=target.attempts - 1)
            except Transient as exc:
                if target.attempts >= self.policy.max_attempts:
                    return self._finish(job, TargetStatus.FAILED, "transient",
                                        f"{exc.message} It kept failing after {target.attempts} tries.")
                return self._again(job, self.policy.delay(target.attempts), "transient", exc)
            except OutcomeUnknown as exc:
                return self._finish(job, TargetStatus.UNCONFIRMED, "unconfirmed",
                                    f"{exc.message} Check the account, then mark it published or send it again.")
            except ContentRejected as exc:
                return self._finish(job, TargetStatus.FAILED, "rejected", str(exc))
            except PlatformError as exc:
                return self._finish(job, TargetStatus.FAILED, "error", str(exc))
            note = " ".join(result.warnings) or None
            return self._finish(job, TargetStatus.PUBLISHED, None, note, remote_id=result.remote_id,
                                remote_url=result.url, published_at=self.clock())
        raise AssertionError("unreachable")

    async def _keep_part(self, job: _Job, part: Mapping[str, Any]) -> None:
        """A thread's part is live: written at once (with the lease renewed), so a stop before the next part
        resumes after it. A lease no longer ours stops the thread: the part is not followed by another."""
        job.parts = [*job.parts, dict(part)]
        now = self.clock()
        async with self._writing(), self.sessions() as session:
            kept = await session.execute(
                update(PostTarget).where(PostTarget.id == job.target.id, PostTarget.lease_owner == self.owner,
                                         PostTarget.status == TargetStatus.PUBLISHING)
                .values(thread_parts=job.parts, lease_expires_at=now + LEASE)
                .execution_options(synchronize_session=False))
            await session.commit()
        if kept.rowcount != 1:
            raise RuntimeError(f"target {job.target.id} is no longer held by this process")
        job.lease_until = now + LEASE

    async def _timed_publish(self, adapter: Adapter, account: AccountRef, draft: Draft,
                             payloads: list[MediaPayload]):
        """adapter.publish, its duration and any error's family counted (picmim_publish_call_seconds,
        picmim_platform_errors_total)."""
        if self.metrics is None:
            return await adapter.publish(account, draft, payloads)
        started = time.perf_counter()
        try:
            result = await adapter.publish(account, draft, payloads)
        except PlatformError as exc:
            self.metrics.platform_call(account.platform, time.perf_counter() - started, exc)
            raise
        self.metrics.platform_call(account.platform, time.perf_counter() - started, None)
        return result

    def _account_ref(self, account: Account, connection: Connection) -> AccountRef:
        tokens = token_set(connection)
        return AccountRef(platform=account.platform, external_id=account.external_id, kind=account.kind,
                          name=account.name, user_token=connection.access_token, token=account.access_token,
                          handle=account.handle, settings=dict(account.settings or {}), extra=dict(tokens.extra))

    async def _refresh(self, connection: Connection, adapter: Adapter, force: bool = False
                       ) -> tuple[Connection, str]:
        """Renew a connection's token, one process at a time (rotating refresh tokens break otherwise);
        the connection as it now stands, and RENEWED, BUSY (another process or the health job is renewing
        it), PASSING (the platform failed for now) or BROKEN (refused: the connection says why)."""
        async with self.sessions() as session:
            now = self.clock()
            async with self._writing():
                claimed = await claim_refresh(session, connection.id, now)
            current = await session.get(Connection, connection.id, populate_existing=True)
            if not claimed:
                # Another holder is renewing it: use its result if it is fresh by now.
                fresh = bool(current.token_expires_at and current.token_expires_at > now)
                return current, RENEWED if fresh and not force else BUSY
            renewal = PASSING
            try:
                apply_tokens(current, await adapter.refresh(token_set(current)))
                current.status, current.status_cause, current.last_error = ConnectionStatus.ACTIVE, None, None
                renewal = RENEWED
            except TokenExpired as exc:
                await _audit_broken(session, current, _broken(ConnectionStatus.EXPIRED, "token_expired", exc))
                _apply(current, _broken(ConnectionStatus.EXPIRED, "token_expired", exc))
                renewal = BROKEN
            except AccessRevoked as exc:
                await _audit_broken(session, current, _broken(ConnectionStatus.REVOKED, exc.reason.value, exc))
                _apply(current, _broken(ConnectionStatus.REVOKED, exc.reason.value, exc))
                renewal = BROKEN
            except PlatformError as exc:
                current.last_error = str(exc)[:1000]
            finally:
                current.refresh_lease_until = None
                async with self._writing():
                    await session.commit()
            return current, renewal

    def _not_renewed(self, job: _Job, connection: Connection, renewal: str) -> _Result:
        """A token that could not be renewed just now: wait for whoever is renewing it, or retry a passing
        failure like any other; a refused renewal fails with the fix."""
        if renewal == BUSY:
            return self._again(job, RENEWAL_WAIT, "refreshing", "Picmim is renewing this account's sign-in.",
                               attempts=job.target.attempts - 1)
        if renewal == PASSING and job.target.attempts < self.policy.max_attempts:
            return self._again(job, self.policy.delay(job.target.attempts), "transient",
                               connection.last_error or "The platform could not renew the sign-in just now.")
        return self._finish(job, TargetStatus.FAILED, "expired", connection.last_error or GUIDANCE["token_expired"])

    def _again(self, job: _Job, wait: timedelta, kind: str, why: PlatformError | str, attempts: int | None = None
               ) -> _Result:
        when = self.clock() + wait
        local = when.astimezone(_zone(job.post.timezone))  # the author's zone, as the post's times are shown
        reason = why.message if isinstance(why, PlatformError) else why
        if job.parts:
            reason = f"{reason} {parts_live(job.parts)}"
        return self._result(job, status=TargetStatus.SCHEDULED, error_kind=kind, next_attempt_at=when,
                            last_error=f"{reason} Picmim tries again at {local:%H:%M} ({local.tzname()}).",
                            attempts=job.target.attempts if attempts is None else attempts)

    def _finish(self, job: _Job, status: TargetStatus, kind: str | None, detail: str | None,
                connection: dict | None = None, **values) -> _Result:
        if job.parts and status is not TargetStatus.PUBLISHED:
            detail = f"{detail or ''} {parts_live(job.parts)}".strip()
            values.setdefault("remote_url", job.parts[0].get("url"))
        return self._result(job, connection, status=status, error_kind=kind, last_error=detail, **values)

    @staticmethod
    def _result(job: _Job, connection: dict | None = None, **values) -> _Result:
        current = {name: getattr(job.target, name) for name in _RESULT_COLUMNS}
        if job.parts:  # the parts this try made live, not the ones read with the claim
            current["thread_parts"] = job.parts
        return _Result(job, {**current, **values}, connection)


def parts_live(parts: list[dict]) -> str:
    """Which of a thread's parts are live, in words (they are never sent again)."""
    posts = [p for p in parts if not p.get("comment")]
    if not posts:
        return ""
    which = "Part 1 is" if len(posts) == 1 else f"Parts 1–{len(posts)} are"
    first = f" (the first: {posts[0]['url']})" if posts[0].get("url") else ""
    return f"{which} live{first}; Picmim never sends them again."


def _database_unreachable(error: BaseException) -> bool:
    """The database could not be reached or dropped the connection (not a bug in a statement)."""
    if isinstance(error, DBAPIError) and error.connection_invalidated:
        return True
    return isinstance(error, OperationalError | InterfaceError | PoolTimeout | OSError | TimeoutError)


_RESULT_ACTIONS = {TargetStatus.PUBLISHED: "published", TargetStatus.FAILED: "failed",
                   TargetStatus.UNCONFIRMED: "unconfirmed"}


async def _audit_result(session: AsyncSession, result: _Result) -> None:
    """A target's outcome in the audit trail (a retry later is no change of state), and its connection breaking."""
    job, values = result.job, result.target
    action = _RESULT_ACTIONS.get(values["status"])
    where = f"{audit.connection_words(job.account.platform, job.account.name)}"
    if action:
        detail = values.get("remote_url") if action == "published" else values.get("last_error")
        await audit.record_post(session, job.post, audit.PICMIM, audit.JOB, action,
                                f"{where}: {detail}" if detail else where)
    if result.connection and job.connection is not None:
        await _audit_broken(session, job.connection, result.connection)


async def _audit_broken(session: AsyncSession, connection: Connection, changes: dict) -> None:
    """A connection the platform refused during publishing, in the audit trail (before the change is applied)."""
    status = ConnectionStatus(changes["status"])
    await audit.record(session, connection.workspace_id, audit.PICMIM, audit.JOB,
                       audit.connection_subject(connection.id), status.value,
                       {"account": audit.connection_words(connection.platform, connection.display_name),
                        "status": [connection.status.value, status.value], "cause": changes.get("status_cause")},
                       connection_id=connection.id)


def _zone(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (KeyError, ValueError):
        return ZoneInfo("UTC")


def _broken(status: ConnectionStatus, cause: str, exc: PlatformError) -> dict:
    return {"status": status, "status_cause": cause, "last_error": str(exc)[:1000]}


def _apply(connection: Connection, changes: dict) -> None:
    for key, value in changes.items():
        setattr(connection, key, value)


async def settle_post(session: AsyncSession, post_id: int) -> PostStatus:
    """The post's status from its targets (see settle_posts)."""
    return (await settle_posts(session, [post_id]))[post_id]


async def settle_posts(session: AsyncSession, post_ids: list[int]) -> dict[int, PostStatus]:
    """Each post's status from its targets: scheduled or publishing while any is due or under way, then
    published when all went out, failed when any did not. Posts in review, drafts and cancelled posts
    keep theirs.

    The posts' rows are locked (in id order, so two processes cannot deadlock) by the statement that reads
    their targets, and PostgreSQL reads the rows again once it has the lock: two targets of one post
    finishing at once in two transactions cannot both compute the status from a view that misses the
    other's result — the second to get the lock sees both."""
    if not post_ids:
        return {}
    post_ids = sorted(set(post_ids))
    rows = (select(Post.id, Post.status, PostTarget.status)
            .outerjoin(PostTarget, PostTarget.post_id == Post.id).where(Post.id.in_(post_ids)).order_by(Post.id))
    if session.bind.dialect.name == "postgresql":
        rows = rows.with_for_update(of=Post)
    current: dict[int, PostStatus] = {}
    targets: dict[int, list[TargetStatus]] = {}
    for post_id, post_status, target_status in await session.execute(rows):
        current[post_id] = post_status
        if target_status is not None:
            targets.setdefault(post_id, []).append(target_status)
    settled, changes = {}, []
    for post_id, status in current.items():
        new = _settled(status, targets.get(post_id, []))
        settled[post_id] = new
        if new is not status:
            changes.append({"id": post_id, "status": new})
    if changes:
        await session.execute(update(Post), changes)
    # Rows this session already holds must not keep the old status.
    for post_id, status in settled.items():
        held = session.identity_map.get(identity_key(Post, post_id))
        if held is not None:
            set_committed_value(held, "status", status)
    return settled


def _settled(status: PostStatus, statuses: list[TargetStatus]) -> PostStatus:
    if status not in (PostStatus.SCHEDULED, PostStatus.PUBLISHING, PostStatus.FAILED, PostStatus.PUBLISHED):
        return status
    live = [s for s in statuses if s is not TargetStatus.CANCELLED]
    if not live:
        return PostStatus.CANCELLED
    if any(s in (TargetStatus.SCHEDULED, TargetStatus.PUBLISHING, TargetStatus.HELD) for s in live):
        # Held targets wait for a reconnect like scheduled ones: only a call made or under way is a start.
        started = any(s not in (TargetStatus.SCHEDULED, TargetStatus.HELD) for s in live)
        return PostStatus.PUBLISHING if started else PostStatus.SCHEDULED
    if all(s is TargetStatus.PUBLISHED for s in live):
        return PostStatus.PUBLISHED
    return PostStatus.FAILED


async def retry_target(session: AsyncSession, workspace_id: int, target_id: int, now: datetime, *,
                       actor: str | None = None, source: str = audit.BUTTON) -> bool:
    """A person asked to send a failed (or unconfirmed, after checking) target again."""
    done = await session.execute(
        update(PostTarget)
        .where(PostTarget.id == target_id,
               PostTarget.status.in_([TargetStatus.FAILED, TargetStatus.UNCONFIRMED]),
               PostTarget.post_id.in_(select(Post.id).where(Post.workspace_id == workspace_id)))
        # An unconfirmed thread carries on after its live parts, looking at the platform first for the part whose
        # outcome was unknown (Draft.check_next): sent again only if it is not there.
        .values(status=TargetStatus.SCHEDULED, next_attempt_at=now, attempts=0, last_error=None,
                retries=PostTarget.retries + 1,  # a failure after this one is a new failure to announce
                error_kind=case((and_(PostTarget.status == TargetStatus.UNCONFIRMED,
                                      PostTarget.thread_parts.is_not(None)), RESUMING), else_=None))
        .execution_options(synchronize_session=False))
    if done.rowcount != 1:
        return False
    target = await session.get(PostTarget, target_id)
    post = await session.get(Post, target.post_id)
    post.status = PostStatus.SCHEDULED
    words = await audit.target_words(session, [target_id])
    await audit.record_post(session, post, actor, source, "retried", words.get(target_id, (0, None))[1], at=now)
    return True


def schedule_targets(post: Post, when: datetime) -> None:
    """Make a post's open targets due at `when` (UTC)."""
    post.status, post.scheduled_at = PostStatus.SCHEDULED, when
    for target in post.targets:
        # None: a target not flushed yet has not received its default (pending) status.
        if target.status in (None, TargetStatus.PENDING, TargetStatus.SCHEDULED, TargetStatus.HELD):
            target.status, target.next_attempt_at = TargetStatus.SCHEDULED, when


@dataclass(frozen=True)
class TargetLine:
    """One account's part of a post, as its status message shows it."""

    target_id: int
    platform_name: str
    account_name: str
    status: TargetStatus
    url: str | None
    detail: str | None
    settings: PlatformSettings | None = None  # the network's own choices (title, board, privacy…)
    account_settings: Mapping[str, Any] = field(default_factory=dict, compare=False)  # e.g. its boards' names
    error_kind: str | None = None  # why it failed or waits (revoked, expired, held, transient, optimising…)
    connection_id: int | None = None  # its account's connection: what Reconnect mends


async def target_lines(session: AsyncSession, post_id: int) -> list[TargetLine]:
    rows = await session.execute(select(PostTarget, Account).join(Account, PostTarget.account_id == Account.id)
                                 .where(PostTarget.post_id == post_id).order_by(PostTarget.id))
    lines = []
    for target, account in rows:
        info = registry.get(account.platform)
        lines.append(TargetLine(target.id, info.name if info else account.platform, account.name, target.status,
                                target.remote_url, target.last_error,
                                settings_from_json(account.platform, target.settings), dict(account.settings or {}),
                                target.error_kind, account.connection_id))
    return lines


async def mark_published(session: AsyncSession, workspace_id: int, target_id: int, user_id: str,
                         now: datetime) -> bool:
    """A person checked the platform and found an unconfirmed post live."""
    done = await session.execute(
        update(PostTarget)
        .where(PostTarget.id == target_id, PostTarget.status == TargetStatus.UNCONFIRMED,
               PostTarget.post_id.in_(select(Post.id).where(Post.workspace_id == workspace_id)))
        .values(status=TargetStatus.PUBLISHED, published_at=now, error_kind=None,
                last_error=None)  # the person found it live (user_id is logged)
        .execution_options(synchronize_session=False))
    if done.rowcount != 1:
        return False
    log.info("Target %s confirmed live by %s", target_id, user_id)
    target = await session.get(PostTarget, target_id)
    words = await audit.target_words(session, [target_id])
    post = await session.get(Post, target.post_id)
    await audit.record_post(session, post, user_id, audit.BUTTON, "confirmed live",
                            words.get(target_id, (0, None))[1], at=now)
    await settle_post(session, target.post_id)
    return True


def post_of_target(target_id: int):
    return select(PostTarget.post_id).where(PostTarget.id == target_id)
