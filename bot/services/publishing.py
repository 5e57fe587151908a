"""Publishing due posts: exactly once, with the platform's answer recorded per target.

A target is claimed with a lease before its platform call, in one atomic statement (on PostgreSQL the
candidate rows are locked with SKIP LOCKED, so two processes never claim the same target; on SQLite
the single UPDATE is serialized by the database). A lease that runs out while its call was under way
means nobody knows whether the post went live: the target becomes `unconfirmed` and is shown to a
person — never sent again by itself.

Free of Slack and HTTP details: the caller hands in the adapters, a media source and a clock.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

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
from bot.services.connecting import GUIDANCE, apply_tokens, token_set
from bot.storage.models import (
    Account,
    Connection,
    ConnectionStatus,
    Post,
    PostStatus,
    PostTarget,
    TargetStatus,
    utcnow,
)

log = logging.getLogger(__name__)

LEASE = timedelta(minutes=15)  # longer than the slowest publish (video processing polls included)
REFRESH_LEASE = timedelta(minutes=2)

# Media for one target: the post's attachments made to fit this platform (bot.services.media_store).
MediaSource = Callable[[AsyncSession, Post, Adapter], Awaitable[tuple[list[MediaFacts], list[MediaPayload]]]]


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


async def claim_due(session: AsyncSession, owner: str, now: datetime, limit: int = 20) -> list[int]:
    """Claim up to `limit` due targets for `owner` with a lease; returns their ids (committed).

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
        await session.commit()
        return []
    claimed = await session.execute(
        update(PostTarget)
        # Still scheduled and still due: a candidate another claimer took, published and rescheduled
        # meanwhile (SQLite reads without locking) is not taken again.
        .where(PostTarget.id.in_(candidates), PostTarget.status == TargetStatus.SCHEDULED,
               PostTarget.next_attempt_at <= now)
        .values(status=TargetStatus.PUBLISHING, lease_owner=owner, lease_expires_at=now + LEASE,
                attempts=PostTarget.attempts + 1)
        .returning(PostTarget.id)
        .execution_options(synchronize_session=False))
    ids = [row[0] for row in claimed]
    if ids:
        posts = select(PostTarget.post_id).where(PostTarget.id.in_(ids)).scalar_subquery()
        await session.execute(update(Post).where(Post.id.in_(posts), Post.status == PostStatus.SCHEDULED)
                              .values(status=PostStatus.PUBLISHING))
    await session.commit()
    return ids


STRANDED_AFTER = timedelta(minutes=5)


async def release_stranded(session: AsyncSession, now: datetime) -> None:
    """Targets of an accepted post are held until its status message exists (composing.release); a
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


async def expire_leases(session: AsyncSession, now: datetime) -> list[int]:
    """Targets whose lease ran out mid-call: their outcome is unknown, so a person confirms them."""
    expired = await session.execute(
        update(PostTarget)
        .where(PostTarget.status == TargetStatus.PUBLISHING, PostTarget.lease_expires_at < now)
        .values(status=TargetStatus.UNCONFIRMED, error_kind="unconfirmed", lease_owner=None,
                last_error="Picmim stopped while publishing this, so it may or may not be live. Check the "
                           "account, then mark it published or send it again.")
        .returning(PostTarget.post_id)
        .execution_options(synchronize_session=False))
    post_ids = sorted({row[0] for row in expired})
    for post_id in post_ids:
        await settle_post(session, post_id)
    await session.commit()
    return post_ids


class Publisher:
    """Publishes claimed targets. One per process; `tick()` is what the scheduler calls."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], adapters: Mapping[str, Adapter],
                 media: MediaSource, owner: str, policy: RetryPolicy = RetryPolicy(),
                 clock: Callable[[], datetime] = utcnow,
                 on_change: Callable[[int], Awaitable[None]] | None = None, batch: int = 40,
                 concurrency: int = 4):
        self.sessions, self.adapters, self.media, self.owner = sessions, adapters, media, owner
        self.policy, self.clock, self.on_change = policy, clock, on_change
        self.batch, self.concurrency = batch, concurrency
        # SQLite has one writer at a time: queue this process's writes on a lock instead of letting
        # them spin in SQLite's busy handler (other processes still wait on busy_timeout).
        bind = sessions.kw.get("bind")
        self._sqlite_writes = asyncio.Lock() if bind is not None and bind.dialect.name == "sqlite" else None

    def _writing(self):
        return self._sqlite_writes or contextlib.nullcontext()

    async def tick(self) -> list[Outcome]:
        """Publish what is due with `concurrency` workers, each claiming one target just before its
        call: a process that dies leaves only the calls it had under way in doubt, and no worker waits
        for another's slow platform."""
        async with self._writing(), self.sessions() as session:
            await release_stranded(session, self.clock())
            changed = await expire_leases(session, self.clock())
        await self._changed(changed)
        outcomes: list[Outcome] = []

        async def worker() -> None:
            while len(outcomes) < self.batch:
                async with self._writing(), self.sessions() as session:
                    ids = await claim_due(session, self.owner, self.clock(), 1)
                if not ids:
                    return
                outcome = await self.publish(ids[0])
                outcomes.append(outcome)
                await self._changed({outcome.post_id})

        await asyncio.gather(*(worker() for _ in range(self.concurrency)))
        return outcomes

    async def _changed(self, post_ids) -> None:
        if self.on_change is not None:
            for post_id in sorted(post_ids):
                await self.on_change(post_id)

    async def publish(self, target_id: int) -> Outcome:
        async with self.sessions() as session:
            target, post, account, connection = (await session.execute(
                select(PostTarget, Post, Account, Connection)
                .join(Post, Post.id == PostTarget.post_id).join(Account, Account.id == PostTarget.account_id)
                .outerjoin(Connection, Connection.id == Account.connection_id)
                .where(PostTarget.id == target_id))).one()
            adapter = self.adapters.get(account.platform)
            try:
                outcome = await self._publish(session, target, post, account, connection, adapter)
            except Exception:  # a bug after the call may have left the post live: never resend blindly
                log.exception("Publishing target %s failed unexpectedly", target_id)
                outcome = self._finish(target, TargetStatus.UNCONFIRMED, "unconfirmed",
                                       "Something went wrong inside Picmim while publishing this; it may or may "
                                       "not be live. Check the account, then mark it published or send it again.")
            async with self._writing():
                await self._release(session, target)
                await session.commit()  # the target's result first; then the post, under its row lock
                await settle_post(session, post.id)
                await session.commit()
            return outcome

    async def _publish(self, session: AsyncSession, target: PostTarget, post: Post, account: Account,
                       connection: Connection | None, adapter: Adapter | None) -> Outcome:
        if connection is None or not account.active or connection.access_token is None:
            return self._finish(target, TargetStatus.FAILED, "revoked",
                                f"{account.name} is no longer connected: reconnect it with /picmim connect, "
                                "then send the post again.")
        if adapter is None:
            return self._finish(target, TargetStatus.FAILED, "not_configured",
                                f"{account.platform} is not set up on this install any more; ask the app's admin.")
        facts, payloads = await self.media(session, post, adapter)
        draft = Draft(text=target.variant_text if target.variant_text is not None else post.text,
                      media=tuple(facts), first_comment=post.first_comment, options=dict(post.options or {}))
        problems = adapter.validate(self._account_ref(account, connection), draft)
        blocking = [p for p in problems if not p.fixable]
        if blocking:
            return self._finish(target, TargetStatus.FAILED, "rejected", "; ".join(p.message for p in blocking))
        await session.commit()  # no transaction stays open while the platform answers
        for attempt in (1, 2):
            if connection.token_expires_at and connection.token_expires_at <= self.clock() and adapter.refreshable:
                if not await self._refresh(session, connection, adapter):
                    return self._finish(target, TargetStatus.FAILED, "expired", connection.last_error or
                                        GUIDANCE["token_expired"])
            try:
                result = await adapter.publish(self._account_ref(account, connection), draft, payloads)
            except TokenExpired as exc:
                if attempt == 1 and adapter.refreshable and await self._refresh(session, connection, adapter,
                                                                                 force=True):
                    continue  # the call was refused before anything was published: safe to send again
                _broken(connection, ConnectionStatus.EXPIRED, "token_expired", exc)
                return self._finish(target, TargetStatus.FAILED, "expired",
                                    f"{exc.message} {GUIDANCE['token_expired']}")
            except AccessRevoked as exc:
                _broken(connection, ConnectionStatus.REVOKED, exc.reason.value, exc)
                return self._finish(target, TargetStatus.FAILED, "revoked",
                                    f"{exc.message} {GUIDANCE.get(exc.reason, GUIDANCE[RevokeReason.UNKNOWN])}")
            except RateLimited as exc:
                wait = timedelta(seconds=exc.retry_after) if exc.retry_after else self.policy.delay(target.attempts)
                target.attempts -= 1  # waiting for the platform's window is not a failed try
                return self._again(target, wait, "rate_limited", exc)
            except Transient as exc:
                if target.attempts >= self.policy.max_attempts:
                    return self._finish(target, TargetStatus.FAILED, "transient",
                                        f"{exc.message} It kept failing after {target.attempts} tries.")
                return self._again(target, self.policy.delay(target.attempts), "transient", exc)
            except OutcomeUnknown as exc:
                return self._finish(target, TargetStatus.UNCONFIRMED, "unconfirmed",
                                    f"{exc.message} Check the account, then mark it published or send it again.")
            except ContentRejected as exc:
                return self._finish(target, TargetStatus.FAILED, "rejected", str(exc))
            except PlatformError as exc:
                return self._finish(target, TargetStatus.FAILED, "error", str(exc))
            target.remote_id, target.remote_url = result.remote_id, result.url
            target.published_at = self.clock()
            note = " ".join(result.warnings) or None
            return self._finish(target, TargetStatus.PUBLISHED, None, note)
        raise AssertionError("unreachable")

    def _account_ref(self, account: Account, connection: Connection) -> AccountRef:
        tokens = token_set(connection)
        return AccountRef(platform=account.platform, external_id=account.external_id, kind=account.kind,
                          name=account.name, user_token=connection.access_token, token=account.access_token,
                          handle=account.handle, settings=dict(account.settings or {}), extra=dict(tokens.extra))

    async def _refresh(self, session: AsyncSession, connection: Connection, adapter: Adapter,
                       force: bool = False) -> bool:
        """Renew a connection's token; one process at a time (rotating refresh tokens break otherwise)."""
        now = self.clock()
        claimed = await session.execute(
            update(Connection)
            .where(Connection.id == connection.id,
                   or_(Connection.refresh_lease_until.is_(None), Connection.refresh_lease_until < now))
            .values(refresh_lease_until=now + REFRESH_LEASE).execution_options(synchronize_session=False))
        await session.commit()
        await session.refresh(connection)
        if claimed.rowcount != 1:
            # Another process is renewing it: use its result if it is fresh by now.
            return bool(connection.token_expires_at and connection.token_expires_at > now) and not force
        try:
            tokens = await adapter.refresh(token_set(connection))
        except TokenExpired as exc:
            _broken(connection, ConnectionStatus.EXPIRED, "token_expired", exc)
            return False
        except AccessRevoked as exc:
            _broken(connection, ConnectionStatus.REVOKED, exc.reason.value, exc)
            return False
        except PlatformError as exc:
            connection.last_error = str(exc)[:1000]
            return False
        finally:
            connection.refresh_lease_until = None
        apply_tokens(connection, tokens)
        connection.status, connection.status_cause, connection.last_error = ConnectionStatus.ACTIVE, None, None
        await session.commit()
        return True

    def _again(self, target: PostTarget, wait: timedelta, kind: str, exc: PlatformError) -> Outcome:
        target.status, target.error_kind = TargetStatus.SCHEDULED, kind
        target.next_attempt_at = self.clock() + wait
        target.last_error = f"{exc.message} Picmim tries again at {target.next_attempt_at:%H:%M} UTC."
        return Outcome(target.id, target.post_id, TargetStatus.SCHEDULED, target.last_error)

    def _finish(self, target: PostTarget, status: TargetStatus, kind: str | None, detail: str | None) -> Outcome:
        target.status, target.error_kind, target.last_error = status, kind, detail
        return Outcome(target.id, target.post_id, status, detail)

    async def _release(self, session: AsyncSession, target: PostTarget) -> None:
        target.lease_owner, target.lease_expires_at = None, None


def _broken(connection: Connection, status: ConnectionStatus, cause: str, exc: PlatformError) -> None:
    connection.status, connection.status_cause, connection.last_error = status, cause, str(exc)[:1000]


async def settle_post(session: AsyncSession, post_id: int) -> PostStatus:
    """The post's status from its targets: scheduled or publishing while any is due or under way, then
    published when all went out, failed when any did not."""
    # The post's row is locked first: two targets of one post finishing at once must not both compute
    # the status from a view that misses the other's result.
    post = await session.get(Post, post_id, with_for_update=True, populate_existing=True)
    if post.status not in (PostStatus.SCHEDULED, PostStatus.PUBLISHING, PostStatus.FAILED, PostStatus.PUBLISHED):
        return post.status
    statuses = (await session.scalars(select(PostTarget.status).where(PostTarget.post_id == post_id))).all()
    live = [s for s in statuses if s is not TargetStatus.CANCELLED]
    if not live:
        post.status = PostStatus.CANCELLED
    elif any(s in (TargetStatus.SCHEDULED, TargetStatus.PUBLISHING, TargetStatus.HELD) for s in live):
        started = any(s is not TargetStatus.SCHEDULED for s in live)
        post.status = PostStatus.PUBLISHING if started else PostStatus.SCHEDULED
    elif all(s is TargetStatus.PUBLISHED for s in live):
        post.status = PostStatus.PUBLISHED
    else:
        post.status = PostStatus.FAILED
    return post.status


async def retry_target(session: AsyncSession, workspace_id: int, target_id: int, now: datetime) -> bool:
    """A person asked to send a failed (or unconfirmed, after checking) target again."""
    done = await session.execute(
        update(PostTarget)
        .where(PostTarget.id == target_id,
               PostTarget.status.in_([TargetStatus.FAILED, TargetStatus.UNCONFIRMED]),
               PostTarget.post_id.in_(select(Post.id).where(Post.workspace_id == workspace_id)))
        .values(status=TargetStatus.SCHEDULED, next_attempt_at=now, attempts=0, error_kind=None, last_error=None)
        .execution_options(synchronize_session=False))
    if done.rowcount != 1:
        return False
    target = await session.get(PostTarget, target_id)
    post = await session.get(Post, target.post_id)
    post.status = PostStatus.SCHEDULED
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


async def target_lines(session: AsyncSession, post_id: int) -> list[TargetLine]:
    rows = await session.execute(select(PostTarget, Account).join(Account, PostTarget.account_id == Account.id)
                                 .where(PostTarget.post_id == post_id).order_by(PostTarget.id))
    lines = []
    for target, account in rows:
        info = registry.get(account.platform)
        lines.append(TargetLine(target.id, info.name if info else account.platform, account.name, target.status,
                                target.remote_url, target.last_error))
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
    await settle_post(session, target.post_id)
    return True


def post_of_target(target_id: int):
    return select(PostTarget.post_id).where(PostTarget.id == target_id)
