"""Best time to post: from the workspace's own history, how much engagement an account's posts got by the weekday
and hour they went live, in the account's audience time (the workspace's zone); the best slots in words, and their
next times for the compose window's quick choices.

Engagement of a post is its interactions (likes, comments, shares… under the platform's own names, as the digests
count them) in its latest figures. Free of Slack: callers hand in the time.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import and_, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.services.analytics_catalogue import catalogue, platform_name
from bot.storage.models import Account, MetricSnapshot, PostTarget, TargetStatus

MIN_POSTS = 20  # fewer published posts with figures say nothing reliable about an hour of the week
HISTORY = timedelta(days=365)  # older posts speak of another audience
TOP = 3  # best slots said in words
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
SHORT_WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


@dataclass(frozen=True)
class BestSlot:
    weekday: int  # 0 = Monday
    hour: int  # local hour the slot starts
    engagement: float  # mean interactions per post
    posts: int

    def in_words(self) -> str:
        return f"{WEEKDAYS[self.weekday]}s {self.hour:02d}:00–{(self.hour + 1) % 24:02d}:00"


@dataclass(frozen=True)
class BestTimes:
    account_id: int
    label: str  # "X · Acme Marketing"
    timezone: str
    posts: int  # published posts with figures
    # engagement[weekday][hour]: mean interactions per post published then; None where nothing was published
    engagement: tuple[tuple[float | None, ...], ...] = ()
    top: tuple[BestSlot, ...] = ()

    @property
    def enough(self) -> bool:
        return self.posts >= MIN_POSTS


def _zone(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (KeyError, ValueError):
        return ZoneInfo("UTC")


async def _engagement_by_post(session: AsyncSession, account: Account, since: datetime
                              ) -> list[tuple[datetime, float]]:
    """(published at, interactions) of the account's published posts since `since` that have figures."""
    names = catalogue(account.platform, account.kind).interactions
    published = dict((await session.execute(
        select(PostTarget.id, PostTarget.published_at)
        .where(PostTarget.account_id == account.id, PostTarget.status == TargetStatus.PUBLISHED,
               PostTarget.published_at.is_not(None), PostTarget.published_at >= since))).all())
    if not published or not names:
        return []
    latest = (select(MetricSnapshot.target_id, func.max(MetricSnapshot.captured_at).label("at"))
              .where(MetricSnapshot.account_id == account.id, MetricSnapshot.target_id.in_(list(published)))
              .group_by(MetricSnapshot.target_id).subquery())
    totals: dict[int, float] = {}
    for target_id, metric, value in await session.execute(
            select(MetricSnapshot.target_id, MetricSnapshot.metric, MetricSnapshot.value)
            .join(latest, and_(MetricSnapshot.target_id == latest.c.target_id,
                               MetricSnapshot.captured_at == latest.c.at))):
        if metric in names:
            totals[target_id] = totals.get(target_id, 0.0) + value
    return [(published[t], total) for t, total in totals.items()]


async def best_times(session: AsyncSession, account: Account, timezone: str, now: datetime) -> BestTimes:
    """The account's engagement by weekday and hour (local to `timezone`) over the last year, and its best
    slots (the cells with the highest mean; more posts first when equal)."""
    zone = _zone(timezone)
    label = f"{platform_name(account.platform)} · {account.name}"
    found = await _engagement_by_post(session, account, now - HISTORY)
    sums = [[0.0] * 24 for _ in range(7)]
    counts = [[0] * 24 for _ in range(7)]
    for published_at, total in found:
        local = published_at.astimezone(zone)
        sums[local.weekday()][local.hour] += total
        counts[local.weekday()][local.hour] += 1
    grid = tuple(tuple(sums[d][h] / counts[d][h] if counts[d][h] else None for h in range(24)) for d in range(7))
    cells = [BestSlot(d, h, grid[d][h], counts[d][h]) for d in range(7) for h in range(24) if counts[d][h]]
    cells.sort(key=lambda c: (-c.engagement, -c.posts, c.weekday, c.hour))
    return BestTimes(account.id, label, timezone, len(found), grid, tuple(cells[:TOP]))


async def for_accounts(session: AsyncSession, account_ids: Sequence[int], timezone: str, now: datetime
                       ) -> list[BestTimes]:
    """Best times of each of these accounts, in the order given (accounts that do not exist are left out)."""
    accounts = {a.id: a for a in await session.scalars(select(Account).where(Account.id.in_(list(account_ids))))}
    return [await best_times(session, accounts[i], timezone, now) for i in account_ids if i in accounts]


def next_times(best: BestTimes, after: datetime, count: int = 2) -> list[datetime]:
    """The next time (UTC, at the start of its hour) of each of the `count` best slots, after `after`, earliest
    first. Nothing without enough history."""
    if not best.enough:
        return []
    zone = _zone(best.timezone)
    local_today = after.astimezone(zone).date()
    found = []
    for slot in best.top[:count]:
        # within a week and a day: today's slot may have passed already, then the same weekday next week
        days = (local_today + timedelta(days=offset) for offset in range(8))
        moments = (datetime.combine(day, time(slot.hour), tzinfo=zone).astimezone(UTC) for day in days
                   if day.weekday() == slot.weekday)
        found.append(next(m for m in moments if m > after))
    return sorted(set(found))
