"""The metric sync: the platforms' figures fetched on a cadence and kept as snapshots.

Each account's figures are fetched every few hours, and the figures of the posts sent through
Picmim more often in their first days (hourly on the first day), then less, and not after 90 days.
An account is claimed with a lease before its platform call, so two processes never fetch it at once;
the same column holds it back for as long as a platform asked (`RateLimited.retry_after`). The reports
in `analytics` read the snapshots.

Free of Slack and HTTP details: the caller hands in the adapters and the time.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import exists, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.platforms.base import (
    AccessRevoked,
    AccountRef,
    Adapter,
    PlatformError,
    RateLimited,
    TokenExpired,
    Transient,
)
from bot.services.analytics_catalogue import platform_name
from bot.services.connections import GUIDANCE, token_set
from bot.services.post_thumbnails import shown_address
from bot.storage.models import (
    Account,
    Connection,
    ConnectionStatus,
    MetricSnapshot,
    PostTarget,
    TargetStatus,
    Workspace,
    utcnow,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Cadence:
    account_every: timedelta = timedelta(hours=6)
    # (a post younger than this, fetch its figures this often); older than the last step: not at all.
    post_steps: tuple[tuple[timedelta, timedelta], ...] = (
        (timedelta(days=1), timedelta(hours=1)),
        (timedelta(days=3), timedelta(hours=3)),
        (timedelta(days=14), timedelta(hours=12)),
        (timedelta(days=90), timedelta(days=1)),
    )
    min_gap: timedelta = timedelta(minutes=5)  # never sooner than this after a sync
    backoff: timedelta = timedelta(minutes=15)  # after a passing failure the platform put no time on
    lease: timedelta = timedelta(minutes=10)  # longer than the slowest fetch (LinkedIn: one call per figure)
    posts_per_sync: int = 100
    accounts_per_tick: int = 20

    def post_every(self, age: timedelta) -> timedelta | None:
        for younger_than, every in self.post_steps:
            if age < younger_than:
                return every
        return None

    @property
    def followed_for(self) -> timedelta:
        return self.post_steps[-1][0]

    def post_due_at(self, published_at: datetime, synced_at: datetime | None, now: datetime) -> datetime | None:
        every = self.post_every(now - published_at)
        return None if every is None else (synced_at or published_at) + every


BROKEN = (ConnectionStatus.EXPIRED, ConnectionStatus.REVOKED)


@dataclass(frozen=True)
class SyncOutcome:
    account_id: int
    synced: bool
    detail: str | None = None
    retry_at: datetime | None = None  # the next visit
    rate_limited: bool = False


class MetricSync:
    """Fetches due figures and stores them as snapshots. One per process; `tick()` is what the
    scheduler calls."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], adapters: Mapping[str, Adapter],
                 cadence: Cadence = Cadence(), clock: Callable[[], datetime] = utcnow):
        self.sessions, self.adapters, self.cadence, self.clock = sessions, adapters, cadence, clock

    async def tick(self, now: datetime | None = None) -> list[SyncOutcome]:
        """Sync the due accounts, one after the other (`now` fixes the time, for tests)."""
        async with self.sessions() as session:
            candidates = (await session.execute(self._due(now or self.clock()))).all()
            await session.commit()
        outcomes: list[SyncOutcome] = []
        slowed: set[str] = set()  # platforms that asked to slow down during this tick
        for account_id, platform in candidates:
            if platform in slowed:
                continue
            at = now or self.clock()  # each account's figures are stamped with their own time
            if not await self._claim(account_id, at):
                continue  # another process has it
            outcome = await self.sync_account(account_id, at)
            outcomes.append(outcome)
            if outcome.rate_limited:
                slowed.add(platform)
        return outcomes

    def _due(self, now: datetime):
        new_post = exists().where(
            PostTarget.account_id == Account.id, PostTarget.status == TargetStatus.PUBLISHED,
            PostTarget.remote_id.is_not(None), PostTarget.metrics_synced_at.is_(None),
            PostTarget.published_at <= now - self.cadence.post_steps[0][1],
            PostTarget.published_at > now - self.cadence.followed_for)
        return (select(Account.id, Account.platform)
                .join(Connection, Connection.id == Account.connection_id)
                .join(Workspace, Workspace.id == Account.workspace_id)
                .where(Account.active.is_(True), Account.platform.in_(list(self.adapters)),
                       Connection.access_token.is_not(None), Connection.status.not_in(BROKEN),
                       Workspace.uninstalled_at.is_(None),
                       or_(Account.metrics_claimed_until.is_(None), Account.metrics_claimed_until < now),
                       or_(Account.metrics_due_at.is_(None), Account.metrics_due_at <= now, new_post))
                .order_by(Account.metrics_due_at.nulls_first(), Account.id)
                .limit(self.cadence.accounts_per_tick))

    async def claim(self, account_id: int, now: datetime) -> bool:
        """Hold the account for one fetch (committed); False when another process has it or a platform's
        slow-down holds it."""
        return await self._claim(account_id, now)

    async def _claim(self, account_id: int, now: datetime) -> bool:
        async with self.sessions() as session:
            claimed = await session.execute(
                update(Account)
                .where(Account.id == account_id,
                       or_(Account.metrics_claimed_until.is_(None), Account.metrics_claimed_until < now))
                .values(metrics_claimed_until=now + self.cadence.lease)
                .execution_options(synchronize_session=False))
            await session.commit()
        return claimed.rowcount == 1

    async def fetch_now(self, account_id: int, target_ids: Collection[int], now: datetime) -> SyncOutcome | None:
        """Fetch an account's figures and these posts' figures now (a follow-up is due), with the same claim as
        the cadence: None when not asked, because another process is fetching it or the platform asked Picmim
        to wait (the claim's column holds the account back for as long as it said)."""
        if not await self._claim(account_id, now):
            return None
        return await self.sync_account(account_id, now, also=target_ids)

    async def sync_account(self, account_id: int, now: datetime, also: Collection[int] = ()) -> SyncOutcome:
        """Fetch one (claimed) account's figures and its due posts' figures, and store them. `also`: posts
        (target ids) fetched with them even when not due (a follow-up is due, or a person asked for them)."""
        async with self.sessions() as session:
            account = await session.get(Account, account_id)
            connection = await session.get(Connection, account.connection_id) if account.connection_id else None
            adapter = self.adapters.get(account.platform)
            if connection is None or connection.access_token is None or adapter is None:
                return await self._hold(session, account, now + self.cadence.account_every,
                                        "It is not connected, so Picmim cannot read its figures.")
            targets = await self._due_targets(session, account.id, now, also)
            targets += await self._asked_targets(session, account.id, [i for i in also
                                                                        if i not in {t.id for t in targets}])
            ref = AccountRef(platform=account.platform, external_id=account.external_id, kind=account.kind,
                             name=account.name, user_token=connection.access_token, token=account.access_token,
                             handle=account.handle, settings=dict(account.settings or {}),
                             extra=dict(token_set(connection).extra))
            await session.commit()  # no transaction stays open while the platform answers
            try:
                metrics = await adapter.fetch_metrics(ref, [t.remote_id for t in targets])
            except RateLimited as exc:
                # The adapters' words are about posts; these are about figures.
                wait = timedelta(seconds=exc.retry_after) if exc.retry_after else self.cadence.backoff
                return await self._hold(session, account, now + wait, f"{platform_name(account.platform)} asked "
                                        "Picmim to slow down; it reads the figures again when allowed.",
                                        rate_limited=True)
            except Transient as exc:
                return await self._hold(session, account, now + self.cadence.backoff, exc.message)
            except TokenExpired as exc:  # the token health job renews tokens; until then, wait
                return await self._hold(session, account, now + self.cadence.backoff,
                                        f"{exc.message} {GUIDANCE['token_expired']}")
            except AccessRevoked as exc:
                connection.status, connection.status_cause = ConnectionStatus.REVOKED, exc.reason.value
                connection.last_error = str(exc)[:1000]
                return await self._hold(session, account, now + self.cadence.account_every,
                                        f"{exc.message} {GUIDANCE.get(exc.reason, '')}".strip())
            except PlatformError as exc:
                return await self._hold(session, account, now + self.cadence.account_every, str(exc))
            except Exception:  # a bug must not stop the other accounts
                log.exception("Fetching the figures of account %s failed unexpectedly", account_id)
                return await self._hold(session, account, now + self.cadence.backoff,
                                        "Picmim could not read the figures this time; it tries again later.")
            by_remote = {t.remote_id: t for t in targets}
            session.add_all(_snapshots(account.id, None, metrics.account, now))
            for remote_id, figures in metrics.posts.items():
                target = by_remote.get(remote_id)
                if target is not None:
                    session.add_all(_snapshots(account.id, target.id, figures, now))
            for remote_id, address in metrics.thumbnails.items():
                target = by_remote.get(remote_id)
                if target is not None and shown_address(address):
                    # The newest answer's address replaces the older one (some platforms' addresses lapse).
                    target.platform_thumbnail_url, target.platform_thumbnail_at = address, now
            for target in targets:  # asked for, answered or not (a deleted post has no figures)
                target.metrics_synced_at = now
            await session.flush()
            account.metrics_synced_at, account.metrics_error = now, None
            account.metrics_due_at = await self._next_due(session, account.id, now)
            account.metrics_claimed_until = None
            await session.commit()
            return SyncOutcome(account_id, True, retry_at=account.metrics_due_at)

    async def _due_targets(self, session: AsyncSession, account_id: int, now: datetime,
                           also: Collection[int] = ()) -> list[PostTarget]:
        rows = (await session.scalars(
            select(PostTarget).where(PostTarget.account_id == account_id,
                                     PostTarget.status == TargetStatus.PUBLISHED,
                                     PostTarget.remote_id.is_not(None), PostTarget.published_at.is_not(None),
                                     PostTarget.published_at > now - self.cadence.followed_for)
            .order_by(PostTarget.published_at.desc()))).all()
        due = []
        for target in rows:
            at = self.cadence.post_due_at(target.published_at, target.metrics_synced_at, now)
            if (at is not None and at <= now) or target.id in also:
                due.append(target)
        due.sort(key=lambda t: t.id not in also)  # the posts asked for are never cut off by the limit
        return due[:self.cadence.posts_per_sync]

    @staticmethod
    async def _asked_targets(session: AsyncSession, account_id: int, target_ids: Sequence[int]) -> list[PostTarget]:
        if not target_ids:
            return []
        return list((await session.scalars(
            select(PostTarget).where(PostTarget.id.in_(list(target_ids)), PostTarget.account_id == account_id,
                                     PostTarget.status == TargetStatus.PUBLISHED,
                                     PostTarget.remote_id.is_not(None)))).all())

    async def _next_due(self, session: AsyncSession, account_id: int, now: datetime) -> datetime:
        """The account's next visit: its own cadence, or sooner when one of its posts is due sooner."""
        next_due = now + self.cadence.account_every
        rows = await session.execute(
            select(PostTarget.published_at, PostTarget.metrics_synced_at)
            .where(PostTarget.account_id == account_id, PostTarget.status == TargetStatus.PUBLISHED,
                   PostTarget.remote_id.is_not(None), PostTarget.published_at.is_not(None),
                   PostTarget.published_at > now - self.cadence.followed_for))
        for published_at, synced_at in rows:
            at = self.cadence.post_due_at(published_at, synced_at, now)
            if at is not None:
                next_due = min(next_due, at)
        return max(next_due, now + self.cadence.min_gap)

    async def _hold(self, session: AsyncSession, account: Account, until: datetime, why: str,
                    rate_limited: bool = False) -> SyncOutcome:
        """Not synced this time: nobody tries this account again before `until`."""
        account.metrics_error = why[:1000]
        account.metrics_due_at = until
        account.metrics_claimed_until = until  # also holds off other processes (a rate limit is per account)
        await session.commit()
        return SyncOutcome(account.id, False, why, until, rate_limited)


def _snapshots(account_id: int, target_id: int | None, figures: Mapping[str, float],
               now: datetime) -> list[MetricSnapshot]:
    rows = []
    for name, value in figures.items():
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            continue  # not a figure (a platform's flag or an empty value): nothing to keep
        rows.append(MetricSnapshot(account_id=account_id, target_id=target_id, metric=str(name)[:64],
                                   value=float(value), captured_at=now))
    return rows

