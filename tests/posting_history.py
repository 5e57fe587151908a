"""An account's history as the publisher and the metric sync leave it (published posts with figures, posts
scheduled ahead), written straight into the database for the best-times and posting-slot tests."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.storage.models import (
    Account,
    MetricSnapshot,
    Post,
    PostStatus,
    PostTarget,
    TargetStatus,
    Workspace,
)

TOKYO = "Asia/Tokyo"  # no daylight saving: a local hour is always the same UTC hour (UTC+9)


async def set_zone(sessions, account_id: int, zone: str) -> None:
    async with sessions() as session:
        account = await session.get(Account, account_id)
        workspace = await session.get(Workspace, account.workspace_id)
        workspace.default_timezone = zone
        await session.commit()


async def add_published(sessions, account_id: int, posts: Iterable[tuple[datetime, float]],
                        metric: str = "like_count") -> None:
    """Published posts (one target each, on this account) with their latest figures: `metric` = the value,
    captured a day after each went live (an older, smaller snapshot too, which must not count)."""
    async with sessions() as session:
        account = await session.get(Account, account_id)
        for published_at, value in posts:
            post = Post(workspace_id=account.workspace_id, author_user_id="U0001", text="history",
                        status=PostStatus.PUBLISHED, scheduled_at=published_at, channel_id="C0001")
            post.targets = [PostTarget(account_id=account_id, status=TargetStatus.PUBLISHED,
                                       remote_id=f"r{published_at.timestamp()}", published_at=published_at)]
            session.add(post)
            await session.flush()
            target_id = post.targets[0].id
            session.add_all([
                MetricSnapshot(account_id=account_id, target_id=target_id, metric=metric, value=1,
                               captured_at=published_at + timedelta(hours=1)),
                MetricSnapshot(account_id=account_id, target_id=target_id, metric=metric, value=value,
                               captured_at=published_at + timedelta(days=1))])
        await session.commit()


async def add_scheduled(sessions, account_id: int, at: datetime, status: PostStatus = PostStatus.SCHEDULED) -> int:
    async with sessions() as session:
        account = await session.get(Account, account_id)
        post = Post(workspace_id=account.workspace_id, author_user_id="U0001", text="planned", status=status,
                    scheduled_at=at, channel_id="C0001")
        post.targets = [PostTarget(account_id=account_id, status=TargetStatus.SCHEDULED)]
        session.add(post)
        await session.commit()
        return post.id


def weekly(zone: str, weekday: int, at: time, weeks: int, before: datetime) -> list[datetime]:
    """The `weeks` local times at `weekday` `at` (0 = Monday) in the weeks before `before`, newest first."""
    local: date = before.astimezone(ZoneInfo(zone)).date()
    last = local - timedelta(days=(local.weekday() - weekday) % 7 + 7)
    return [datetime.combine(last - timedelta(weeks=n), at, tzinfo=ZoneInfo(zone)) for n in range(weeks)]


def next_local(zone: str, weekday: int, at: time, after: datetime) -> datetime:
    """The first local `weekday` `at` strictly after `after`."""
    local = after.astimezone(ZoneInfo(zone))
    for offset in range(8):
        day = local.date() + timedelta(days=offset)
        moment = datetime.combine(day, at, tzinfo=ZoneInfo(zone))
        if day.weekday() == weekday and moment > after:
            return moment
    raise AssertionError("unreachable")


def history(before: datetime, zone: str = TOKYO) -> list[tuple[datetime, float]]:
    """24 posts: Tuesdays at 10:15 do best (100 interactions each), Thursdays at 15:30 next (10), Saturdays at
    08:00 least (5)."""
    return ([(t, 100) for t in weekly(zone, 1, time(10, 15), 8, before)]
            + [(t, 10) for t in weekly(zone, 3, time(15, 30), 8, before)]
            + [(t, 5) for t in weekly(zone, 5, time(8, 0), 8, before)])
