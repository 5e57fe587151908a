"""App Home's calendar: a week of posts (waiting for approval, scheduled, publishing, published, failed, not approved
in time), day by day in the viewer's zone, optionally for one account; and one post's details. Free of Slack: the
handler knows the viewer (zone, rights) and bot/views/calendar.py draws it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.platforms import registry
from bot.services.dashboard import account_label
from bot.storage.models import Account, Post, PostStatus, PostTarget, TargetStatus

SHOWN = (PostStatus.PENDING_APPROVAL, PostStatus.SCHEDULED, PostStatus.PUBLISHING, PostStatus.PUBLISHED,
         PostStatus.FAILED, PostStatus.EXPIRED)
DAYS = 7
MOST = 500  # posts read for one week (a week fuller than this is summarised anyway)


@dataclass(frozen=True)
class CalendarPost:
    post_id: int
    author: str
    text: str
    when: datetime  # UTC: its time, or when it was accepted ("as soon as possible")
    status: PostStatus
    platforms: tuple[str, ...]  # the networks' names, each once
    accounts: tuple[str, ...]  # "Platform · Account"
    timed: bool = True  # False: "as soon as possible" (shown on the day it was accepted)


@dataclass(frozen=True)
class Week:
    """The week shown: its first day (in the viewer's zone), that zone, each day with its posts (soonest first),
    the accounts the filter offers, and the one chosen (None: all)."""

    start: date
    zone: str
    days: tuple[tuple[date, tuple[CalendarPost, ...]], ...]
    accounts: tuple[tuple[int, str], ...]
    account_id: int | None = None
    today: date | None = None

    @property
    def total(self) -> int:
        return sum(len(posts) for _, posts in self.days)


def zone_of(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (KeyError, ValueError, OSError):
        return ZoneInfo("UTC")


def today_in(zone: ZoneInfo, now: datetime) -> date:
    return now.astimezone(zone).date()


def bounds(start: date, zone: ZoneInfo, days: int = DAYS) -> tuple[datetime, datetime]:
    """The week's first and last instants in UTC: local midnights, daylight saving included."""
    first = datetime.combine(start, time(0), zone)
    last = datetime.combine(start + timedelta(days=days), time(0), zone)
    return first, last


async def account_choices(session: AsyncSession, workspace_id: int) -> list[tuple[int, str]]:
    """The workspace's accounts (in use), as the filter names them."""
    rows = await session.execute(select(Account.id, Account.platform, Account.name)
                                 .where(Account.workspace_id == workspace_id, Account.active.is_(True))
                                 .order_by(Account.platform, Account.name, Account.id))
    return [(account_id, account_label(platform, name)) for account_id, platform, name in rows]


async def posts_between(session: AsyncSession, workspace_id: int, first: datetime, last: datetime,
                        account_id: int | None = None) -> list[CalendarPost]:
    """The posts whose time falls in [first, last), soonest first; only those to `account_id` when given."""
    when = func.coalesce(Post.scheduled_at, Post.created_at)
    query = select(Post).where(Post.workspace_id == workspace_id, Post.status.in_(SHOWN), when >= first, when < last)
    if account_id is not None:
        query = query.where(Post.id.in_(select(PostTarget.post_id).where(
            PostTarget.account_id == account_id, PostTarget.status != TargetStatus.CANCELLED)))
    posts = list(await session.scalars(query.order_by(when, Post.id).limit(MOST)))
    if not posts:
        return []
    rows = await session.execute(
        select(PostTarget.post_id, Account.platform, Account.name).join(Account, Account.id == PostTarget.account_id)
        .where(PostTarget.post_id.in_([p.id for p in posts]), PostTarget.status != TargetStatus.CANCELLED)
        .order_by(PostTarget.id))
    platforms: dict[int, list[str]] = {}
    accounts: dict[int, list[str]] = {}
    for post_id, platform, name in rows:
        info = registry.get(platform)
        platforms.setdefault(post_id, []).append(info.name if info else platform)
        accounts.setdefault(post_id, []).append(account_label(platform, name))
    return [CalendarPost(p.id, p.author_user_id, p.text or "", p.scheduled_at or p.created_at, p.status,
                         tuple(dict.fromkeys(platforms.get(p.id, ()))), tuple(accounts.get(p.id, ())),
                         p.scheduled_at is not None)
            for p in posts]


def by_day(posts: list[CalendarPost], start: date, zone: ZoneInfo) -> tuple[tuple[date, tuple[CalendarPost, ...]],
                                                                            ...]:
    """Each of the week's days with its posts, in the viewer's zone."""
    days: dict[date, list[CalendarPost]] = {start + timedelta(days=n): [] for n in range(DAYS)}
    for post in posts:
        day = post.when.astimezone(zone).date()
        if day in days:
            days[day].append(post)
    return tuple((day, tuple(found)) for day, found in days.items())
