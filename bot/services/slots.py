"""Posting slots: each account's preferred weekly posting times ("Tuesdays 10:00"), in the workspace's time zone
(the account's audience time), and the earliest one no post of that account uses yet ("Next free slot", for the
compose window and the bulk import).

Free of Slack: callers hand in the time (UTC in, UTC out).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.services import audit
from bot.services.analytics_catalogue import platform_name
from bot.storage.models import Account, Post, PostingSlot, PostStatus, PostTarget, TargetStatus, Workspace

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
MAX_PER_DAY = 24  # more than one an hour is not a schedule any more
HORIZON_WEEKS = 104  # how far ahead a free slot is looked for (a big import fills many weeks)
# A post in these states does not hold its time: it will not go out then.
NOT_HOLDING = (PostStatus.DRAFT, PostStatus.REJECTED, PostStatus.CANCELLED, PostStatus.EXPIRED)
_TIME = re.compile(r"([01]\d|2[0-3]):([0-5]\d)")


@dataclass(frozen=True, order=True)
class Slot:
    weekday: int  # 0 = Monday
    time_of_day: str  # "HH:MM"

    @property
    def at(self) -> time:
        hours, minutes = self.time_of_day.split(":")
        return time(int(hours), int(minutes))

    def in_words(self) -> str:
        return f"{WEEKDAYS[self.weekday]}s {self.time_of_day}"


def slot_problems(slots: Iterable[Slot]) -> dict[int, str]:
    """Per weekday, what is wrong with its times (a time that is not one, too many); empty when all is well."""
    problems: dict[int, str] = {}
    by_day: dict[int, list[Slot]] = {}
    for slot in slots:
        if not 0 <= slot.weekday <= 6:
            continue  # a forged weekday: nowhere to say it, and never stored
        if not _TIME.fullmatch(slot.time_of_day):
            problems[slot.weekday] = f"“{slot.time_of_day[:20]}” is not a time of day: choose times from the list."
        by_day.setdefault(slot.weekday, []).append(slot)
    for weekday, found in by_day.items():
        if len(set(found)) > MAX_PER_DAY:
            problems.setdefault(weekday, f"Choose at most {MAX_PER_DAY} times for one day.")
    return problems


async def _zone(session: AsyncSession, account_id: int) -> ZoneInfo | None:
    """The workspace's zone for this account, or None when there is no such account."""
    name = await session.scalar(select(Workspace.default_timezone).join(Account, Account.workspace_id == Workspace.id)
                                .where(Account.id == account_id))
    if name is None:
        return None
    try:
        return ZoneInfo(name)
    except (KeyError, ValueError):
        return ZoneInfo("UTC")


async def slots_of(session: AsyncSession, account_id: int) -> list[Slot]:
    rows = await session.execute(select(PostingSlot.weekday, PostingSlot.time_of_day)
                                 .where(PostingSlot.account_id == account_id))
    return sorted(Slot(weekday, at) for weekday, at in rows)


async def accounts_with_slots(session: AsyncSession, account_ids: Sequence[int]) -> set[int]:
    if not account_ids:
        return set()
    return set(await session.scalars(select(PostingSlot.account_id).where(PostingSlot.account_id.in_(account_ids))
                                     .distinct()))


async def save_slots(session: AsyncSession, workspace_id: int, account_id: int, slots: Iterable[Slot],
                     actor: str | None) -> list[Slot]:
    """Replace the account's slots (checked first with `slot_problems`); recorded in the audit trail. Commits."""
    account = await session.get(Account, account_id)
    if account is None or account.workspace_id != workspace_id:
        raise LookupError("no such account in this workspace")
    wanted = sorted(set(s for s in slots if 0 <= s.weekday <= 6 and _TIME.fullmatch(s.time_of_day)))
    before = await slots_of(session, account_id)
    await session.execute(delete(PostingSlot).where(PostingSlot.account_id == account_id))
    session.add_all(PostingSlot(account_id=account_id, weekday=s.weekday, time_of_day=s.time_of_day) for s in wanted)
    if wanted != before:
        await audit.record(session, workspace_id, actor, audit.MODAL, audit.SETTINGS, "posting slots changed",
                           {"account": f"{platform_name(account.platform)} · {account.name}",
                            "before": [s.in_words() for s in before], "after": [s.in_words() for s in wanted]},
                           account_id=account_id)
    await session.commit()
    return wanted


def occurrences(slots: Sequence[Slot], zone: ZoneInfo, after: datetime, weeks: int):
    """Each slot's times after `after` (UTC), earliest first, for `weeks` weeks."""
    start: date = after.astimezone(zone).date()
    for offset in range(weeks * 7 + 1):
        day = start + timedelta(days=offset)
        for slot in sorted(s for s in slots if s.weekday == day.weekday()):
            moment = datetime.combine(day, slot.at, tzinfo=zone).astimezone(UTC)
            if moment > after:
                yield moment


async def _used_minutes(session: AsyncSession, account_id: int, after: datetime, until: datetime,
                        except_post_id: int | None = None) -> set[datetime]:
    """The minutes (UTC) at which a post for this account is scheduled (a cancelled target or post holds none)."""
    query = (select(Post.scheduled_at).join(PostTarget, PostTarget.post_id == Post.id)
             .where(PostTarget.account_id == account_id, PostTarget.status != TargetStatus.CANCELLED,
                    Post.status.not_in(NOT_HOLDING), Post.scheduled_at.is_not(None),
                    Post.scheduled_at >= after - timedelta(minutes=1), Post.scheduled_at <= until))
    if except_post_id is not None:
        query = query.where(Post.id != except_post_id)
    return {at.replace(second=0, microsecond=0) for at in await session.scalars(query)}


async def is_free(session: AsyncSession, workspace_id: int, account_id: int, at: datetime,
                  except_post_id: int | None = None) -> bool:
    """Whether no post for the workspace's account (other than `except_post_id`, the one being edited) is scheduled
    within `at`'s minute: a slot offered a moment ago may have been taken since."""
    account = await session.get(Account, account_id)
    if account is None or account.workspace_id != workspace_id:
        return True  # not this workspace's: nothing to say about it (the accounts are checked on submitting)
    minute = at.replace(second=0, microsecond=0)
    return minute not in await _used_minutes(session, account_id, minute, minute + timedelta(minutes=1),
                                             except_post_id)


async def next_free_slot(session: AsyncSession, account_id: int, after: datetime) -> datetime | None:
    """The earliest of the account's slots after `after` that no post for the account is scheduled in (within the
    slot's minute); None when the account has no slots (or every slot of the next two years is used)."""
    if after.tzinfo is None:
        raise ValueError("`after` must be an aware UTC time")
    slots = await slots_of(session, account_id)
    zone = await _zone(session, account_id)
    if not slots or zone is None:
        return None
    until = after + timedelta(weeks=HORIZON_WEEKS + 1)
    used = await _used_minutes(session, account_id, after, until)
    for moment in occurrences(slots, zone, after, HORIZON_WEEKS):
        if moment.replace(second=0, microsecond=0) not in used:
            return moment
    return None
