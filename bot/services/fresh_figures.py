"""Fresh figures on request: when someone asks `/picmim stats`, the platform is asked for the accounts' (and the
post's) figures if Picmim's latest are older than a few minutes.

It stays within what the metric sync (`metric_sync`) keeps: the same lease per account (two processes never fetch
one account at once), never sooner than the sync's own gap after the last fetch (so asking twice within a few
minutes asks the platform once), and never while a platform's request to slow down holds the account. What is
fetched is stored as the sync stores it, so the sync's next visit moves on from there.

Free of Slack and HTTP details: the caller hands in the adapters and the time.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.platforms.base import Adapter
from bot.services.analytics_catalogue import platform_name
from bot.services.metric_sync import BROKEN, Cadence, MetricSync
from bot.storage.models import Account, Connection, PostTarget, TargetStatus, utcnow

MOST_ACCOUNTS = 20  # accounts one request may refresh (the sync's own batch); the others show what Picmim has
# Platforms whose allowance is counted per day and spent fast (LinkedIn: a call per figure, its limits per member
# per day; YouTube: the project's daily units, shared with uploads) are asked less often on request.
GAP_BY_PLATFORM = {"linkedin": timedelta(minutes=30), "youtube": timedelta(minutes=15)}


@dataclass(frozen=True)
class Freshness:
    """How fresh one account's figures are after asking. `reason` says why they are not fresher (None: they are
    fresh, or were just fetched); `held_until`: when the platform may be asked again, when it asked to wait."""

    account_id: int
    platform: str
    fetched: bool = False
    reason: str | None = None
    held_until: datetime | None = None
    slowed: bool = False  # the platform asked to slow down in answer to this very request


class FreshFigures:
    """Asks the platforms for the figures someone is looking at; cheap to build, one per request."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], adapters: Mapping[str, Adapter],
                 cadence: Cadence = Cadence(), clock: Callable[[], datetime] = utcnow):
        self.sessions, self.adapters, self.cadence, self.clock = sessions, adapters, cadence, clock
        self.sync = MetricSync(sessions, adapters, cadence, clock)

    def fresh_for(self, platform: str) -> timedelta:
        """Figures younger than this are not asked for again: the sync's own gap between two fetches, or longer
        where the platform's allowance is small."""
        return max(self.cadence.min_gap, GAP_BY_PLATFORM.get(platform, self.cadence.min_gap))

    async def for_accounts(self, account_ids: Sequence[int]) -> dict[int, Freshness]:
        """Refresh these accounts' figures where they are old; one platform's accounts one after the other (one
        that asks to slow down spares the rest), the platforms side by side."""
        async with self.sessions() as session:
            rows = (await session.execute(
                select(Account, Connection).outerjoin(Connection, Connection.id == Account.connection_id)
                .where(Account.id.in_(list(account_ids))).order_by(Account.id))).all()
            await session.commit()
        by_platform: dict[str, list[tuple[Account, Connection | None]]] = defaultdict(list)
        for account, connection in rows[:MOST_ACCOUNTS]:
            by_platform[account.platform].append((account, connection))
        results = await asyncio.gather(*(self._platform(pairs) for pairs in by_platform.values()))
        found = {f.account_id: f for group in results for f in group}
        for account, _ in rows[MOST_ACCOUNTS:]:
            found[account.id] = Freshness(account.id, account.platform,
                                          reason="Picmim refreshes up to 20 accounts at a time: ask for this one "
                                                 "on its own for fresher figures.")
        return found

    async def for_post(self, target_id: int) -> Freshness | None:
        """Refresh one post's figures (with its account's) where they are old; None for a post that is not live."""
        async with self.sessions() as session:
            row = (await session.execute(
                select(PostTarget, Account, Connection).join(Account, Account.id == PostTarget.account_id)
                .outerjoin(Connection, Connection.id == Account.connection_id)
                .where(PostTarget.id == target_id))).first()
            await session.commit()
        if row is None:
            return None
        target, account, connection = row
        if target.status is not TargetStatus.PUBLISHED or not target.remote_id:
            return None
        return await self._one(account, connection, target.metrics_synced_at, also=(target.id,))

    async def _platform(self, pairs: list[tuple[Account, Connection | None]]) -> list[Freshness]:
        done: list[Freshness] = []
        for account, connection in pairs:
            slowed = next((f for f in done if f.slowed), None)
            if slowed is not None:  # the platform asked to slow down a moment ago: not asked again now
                done.append(Freshness(account.id, account.platform, reason=slowed.reason,
                                      held_until=slowed.held_until))
                continue
            done.append(await self._one(account, connection, account.metrics_synced_at))
        return done

    async def _one(self, account: Account, connection: Connection | None, synced_at: datetime | None,
                   also: Sequence[int] = ()) -> Freshness:
        now = self.clock()
        name = platform_name(account.platform)
        if synced_at is not None and now - synced_at < self.fresh_for(account.platform):
            return Freshness(account.id, account.platform)
        if account.platform not in self.adapters:
            return Freshness(account.id, account.platform,
                             reason=f"{name} is not set up on this Picmim, so it cannot read the figures there.")
        if (connection is None or connection.access_token is None or not account.active
                or connection.status in BROKEN):
            return Freshness(account.id, account.platform,
                             reason=f"Picmim cannot reach this {name} account: it needs connecting again.")
        held = account.metrics_claimed_until
        if held is not None and held > now:
            return self._held(account, name, held)
        if not await self.sync.claim(account.id, now):
            async with self.sessions() as session:  # taken meanwhile: by whom, and until when
                fresh = await session.get(Account, account.id, populate_existing=True)
                await session.commit()
            return self._held(fresh, name, fresh.metrics_claimed_until or now)
        outcome = await self.sync.sync_account(account.id, now, also=also)
        if outcome.synced:
            return Freshness(account.id, account.platform, fetched=True)
        return Freshness(account.id, account.platform, reason=outcome.detail,
                         held_until=outcome.retry_at if outcome.rate_limited else None, slowed=outcome.rate_limited)

    @staticmethod
    def _held(account: Account, name: str, until: datetime) -> Freshness:
        # The sync holds an account it could not read until it may try again (with why, in metrics_error), and
        # holds one it is reading for the length of its lease.
        if account.metrics_error and account.metrics_due_at == until:
            return Freshness(account.id, account.platform, reason=account.metrics_error, held_until=until)
        return Freshness(account.id, account.platform,
                         reason=f"Picmim is reading this account's figures from {name} right now: ask again in a "
                                "minute for the newest.")
