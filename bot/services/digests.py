"""Digest subscriptions: a channel gets the analytics of chosen accounts daily, weekly on a weekday or
monthly on a day, at a time in the subscription's own zone.

Times are kept as the wall-clock time and zone the user chose and turned into UTC only for
`next_run_at`, so a 09:00 digest stays at 09:00 across daylight-saving changes (a time that does not
exist on the day clocks go forward runs as much later as the clocks jumped, 02:30 becoming 03:30; one
that happens twice when clocks go back runs at the first).

Each run is claimed with a lease (a conditional UPDATE, so any number of processes may look). Just
before the digest goes to Slack the run is marked as sending: a run whose lease lapses before that
mark is simply due again; one whose lease lapses after it may or may not have reached the channel, so
it is never sent again by itself — the next period comes as usual.

Free of Slack and HTTP details.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.platforms import registry
from bot.services import roles
from bot.services.analytics import Report
from bot.storage.models import Account, DigestSubscription, Workspace

FREQUENCIES = ("daily", "weekly", "monthly")
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
LEASE = timedelta(minutes=10)  # longer than building, drawing and uploading one digest
RETRY_FOR = timedelta(hours=1)  # a digest Slack did not take is tried again on each tick for this long
PER_WORKSPACE = 25  # subscriptions a workspace may have


class DigestError(Exception):
    """A subscription that cannot be kept as asked; `field` is the form input to show it beside."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field, self.message = field, message


# ---- times -------------------------------------------------------------------------------------------------


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: "Europe" is a folder of zones
        raise DigestError("timezone", f"“{name[:40]}” is not a time zone. Use a name like Europe/Madrid, "
                                      "America/New_York or UTC.") from None


def parse_time(text: str) -> time:
    found = re.fullmatch(r"\s*(\d{1,2}):(\d{2})\s*", text or "")
    if not found or int(found.group(1)) > 23 or int(found.group(2)) > 59:
        raise DigestError("time", "Give the time as hours and minutes, for example 09:00.")
    return time(int(found.group(1)), int(found.group(2)))


@dataclass(frozen=True)
class Schedule:
    frequency: str  # daily | weekly | monthly
    time_of_day: str  # HH:MM on the wall clock of `timezone`
    timezone: str
    weekday: int | None = None  # 0 = Monday (weekly)
    day_of_month: int | None = None  # 1..31; in shorter months the last day (monthly)

    @classmethod
    def of(cls, sub: DigestSubscription) -> Schedule:
        return cls(sub.frequency, sub.time_of_day, sub.timezone, sub.weekday, sub.day_of_month)

    def _day(self, year: int, month: int) -> date:
        last = calendar.monthrange(year, month)[1]
        return date(year, month, min(self.day_of_month or 1, last))

    def _at(self, day: date) -> datetime:
        """The UTC instant of this schedule's wall time on `day` (fold 0: the first of two; a time in
        the gap is read with the offset from before the change)."""
        wall = datetime.combine(day, parse_time(self.time_of_day), tzinfo=zone(self.timezone))
        return wall.astimezone(ZoneInfo("UTC"))

    def next_after(self, after: datetime) -> datetime:
        """The first run strictly after `after` (UTC in, UTC out)."""
        local = after.astimezone(zone(self.timezone)).date()
        if self.frequency == "daily":
            candidates = (local + timedelta(days=n) for n in range(0, 3))
        elif self.frequency == "weekly":
            start = local + timedelta(days=(self.weekday - local.weekday()) % 7)
            candidates = (start + timedelta(weeks=n) for n in range(0, 3))
        elif self.frequency == "monthly":
            candidates = (self._day(*_add_months(local.year, local.month, n)) for n in range(0, 3))
        else:
            raise DigestError("frequency", "Choose daily, weekly or monthly.")
        for day in candidates:
            at = self._at(day)
            if at > after:
                return at
        raise AssertionError("no run found")  # three periods ahead always hold one

    def period_start(self, end: datetime) -> datetime:
        """The start of the period a run at `end` reports on: one day, week or month of wall time before."""
        local = end.astimezone(zone(self.timezone)).date()
        if self.frequency == "daily":
            day = local - timedelta(days=1)
        elif self.frequency == "weekly":
            day = local - timedelta(weeks=1)
        else:
            year, month = _add_months(local.year, local.month, -1)
            day = self._day(year, month)
        return self._at(day)

    def describe(self) -> str:
        at = f"at {self.time_of_day} ({self.timezone})"
        if self.frequency == "daily":
            return f"Daily {at}"
        if self.frequency == "weekly":
            return f"Every {WEEKDAYS[self.weekday or 0]} {at}"
        day = self.day_of_month or 1
        last = " (or the month's last day)" if day > 28 else ""
        return f"Monthly on day {day}{last} {at}"

    def validate(self) -> None:
        if self.frequency not in FREQUENCIES:
            raise DigestError("frequency", "Choose daily, weekly or monthly.")
        if self.frequency == "weekly" and self.weekday not in range(7):
            raise DigestError("weekday", "Choose the day of the week for a weekly digest.")
        if self.frequency == "monthly" and self.day_of_month not in range(1, 32):
            raise DigestError("day_of_month", "Choose the day of the month for a monthly digest.")
        parse_time(self.time_of_day)
        zone(self.timezone)


def _add_months(year: int, month: int, n: int) -> tuple[int, int]:
    index = year * 12 + (month - 1) + n
    return index // 12, index % 12 + 1


# ---- subscriptions ----------------------------------------------------------------------------------------


async def subscribe(session: AsyncSession, workspace: Workspace, user_id: str, channel_id: str,
                    schedule: Schedule, account_ids: Sequence[int], platforms: Sequence[str],
                    now: datetime) -> tuple[DigestSubscription, bool]:
    """A new subscription, or the identical one that exists (a repeated submission adds nothing);
    the flag says whether it was created."""
    if not channel_id:
        raise DigestError("channel", "Choose the channel the digest goes to.")
    schedule.validate()
    at = parse_time(schedule.time_of_day)
    time_of_day = f"{at.hour:02d}:{at.minute:02d}"
    schedule = Schedule(schedule.frequency, time_of_day, schedule.timezone,  # only what the frequency uses
                        weekday=schedule.weekday if schedule.frequency == "weekly" else None,
                        day_of_month=schedule.day_of_month if schedule.frequency == "monthly" else None)
    known = set((await session.scalars(select(Account.id).where(Account.workspace_id == workspace.id,
                                                                Account.id.in_(list(account_ids))))).all())
    if set(account_ids) - known:
        raise DigestError("accounts", "One of the chosen accounts is no longer connected: choose again.")
    keys = {p.key for p in registry.PLATFORMS}
    if set(platforms) - keys:
        raise DigestError("platforms", "Choose platforms from the list.")
    chosen_accounts, chosen_platforms = sorted(set(account_ids)), sorted(set(platforms))
    existing = (await session.scalars(select(DigestSubscription).where(
        DigestSubscription.workspace_id == workspace.id))).all()
    for sub in existing:
        if (sub.channel_id, sub.frequency, sub.weekday, sub.day_of_month, sub.time_of_day, sub.timezone,
                sorted(sub.account_ids or []), sorted(sub.platforms or [])) == (
                channel_id, schedule.frequency, schedule.weekday, schedule.day_of_month, time_of_day,
                schedule.timezone, chosen_accounts, chosen_platforms):
            return sub, False
    if len(existing) >= PER_WORKSPACE:
        raise DigestError("channel", f"This workspace already has {PER_WORKSPACE} digests: unsubscribe one first "
                                     "(`/picmim digest list`).")
    sub = DigestSubscription(
        workspace_id=workspace.id, channel_id=channel_id, frequency=schedule.frequency, weekday=schedule.weekday,
        day_of_month=schedule.day_of_month, time_of_day=time_of_day, timezone=schedule.timezone,
        account_ids=chosen_accounts, platforms=chosen_platforms, created_by=user_id)
    sub.next_run_at = Schedule.of(sub).next_after(now)
    session.add(sub)
    await session.flush()
    return sub, True


async def subscriptions(session: AsyncSession, workspace_id: int) -> list[DigestSubscription]:
    return list((await session.scalars(select(DigestSubscription).where(
        DigestSubscription.workspace_id == workspace_id).order_by(DigestSubscription.id))).all())


async def subscription(session: AsyncSession, workspace_id: int, sub_id: int) -> DigestSubscription | None:
    sub = await session.get(DigestSubscription, sub_id)
    return sub if sub is not None and sub.workspace_id == workspace_id else None


async def unsubscribe(session: AsyncSession, workspace_id: int, sub_id: int) -> bool:
    sub = await subscription(session, workspace_id, sub_id)
    if sub is None:
        return False
    await session.delete(sub)
    await session.flush()
    return True


# ---- runs ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Run:
    """One claimed digest: the subscription and the period it reports on."""

    subscription_id: int
    start: datetime
    end: datetime
    due: datetime  # next_run_at when claimed (the claim's check)
    lease_until: datetime  # this claim's own lease: a later claim by another process has another


async def settle_lapsed(session: AsyncSession, now: datetime) -> list[int]:
    """Runs whose lease ran out: due again if they never started sending; otherwise skipped to the next
    period (they may have reached the channel). Returns the ids skipped."""
    await session.execute(
        update(DigestSubscription)
        .where(DigestSubscription.claimed_until < now, DigestSubscription.send_started_at.is_(None))
        .values(claimed_until=None).execution_options(synchronize_session=False))
    lapsed = (await session.scalars(select(DigestSubscription).where(
        DigestSubscription.claimed_until < now, DigestSubscription.send_started_at.is_not(None)))).all()
    for sub in lapsed:
        sub.next_run_at = Schedule.of(sub).next_after(now)
        sub.claimed_until = sub.send_started_at = None
        sub.last_error = ("Picmim stopped while sending a digest, so it may not have arrived; it was not sent "
                          "again to avoid a duplicate.")
    await session.commit()
    return [s.id for s in lapsed]


async def claim_due(session: AsyncSession, now: datetime, limit: int = 10) -> list[Run]:
    """Claim the due digests (committed). A digest overdue by several periods reports on the latest one."""
    due = (await session.scalars(
        select(DigestSubscription).join(Workspace, Workspace.id == DigestSubscription.workspace_id)
        .where(DigestSubscription.next_run_at <= now, DigestSubscription.claimed_until.is_(None),
               Workspace.uninstalled_at.is_(None))
        .order_by(DigestSubscription.next_run_at).limit(limit))).all()
    runs = []
    for sub in due:
        seen, lease_until = sub.next_run_at, now + LEASE
        claimed = await session.execute(
            update(DigestSubscription)
            .where(DigestSubscription.id == sub.id, DigestSubscription.claimed_until.is_(None),
                   DigestSubscription.next_run_at == seen)
            .values(claimed_until=lease_until, send_started_at=None)
            .execution_options(synchronize_session=False))
        if claimed.rowcount != 1:
            continue  # another process took it
        schedule = Schedule.of(sub)
        end = seen
        while (following := schedule.next_after(end)) <= now:
            end = following
        runs.append(Run(sub.id, schedule.period_start(end), end, seen, lease_until))
    await session.commit()
    return runs


async def start_sending(session: AsyncSession, run: Run, now: datetime) -> bool:
    """Mark the run as going to Slack (committed); False when its lease was lost meanwhile."""
    marked = await session.execute(
        update(DigestSubscription)
        .where(DigestSubscription.id == run.subscription_id, DigestSubscription.next_run_at == run.due,
               DigestSubscription.claimed_until == run.lease_until, DigestSubscription.claimed_until >= now)
        .values(send_started_at=now).execution_options(synchronize_session=False))
    await session.commit()
    return marked.rowcount == 1


async def finish(session: AsyncSession, run: Run, now: datetime, error: str | None = None,
                 retry: bool = False) -> None:
    """Sent (or given up on): the next run is scheduled. A passing failure (`retry`) keeps the run due for
    a while instead, as long as nothing may have been sent."""
    sub = await session.get(DigestSubscription, run.subscription_id, populate_existing=True)
    if sub is None or sub.next_run_at != run.due or sub.claimed_until != run.lease_until:
        return  # unsubscribed meanwhile, or the run is no longer this claim's
    sub.claimed_until = sub.send_started_at = None
    sub.last_error = error[:1000] if error else None
    if not (retry and now - run.end < RETRY_FOR):  # else it stays due: the next tick tries again
        if error is None:
            sub.last_run_at = run.end
        sub.next_run_at = Schedule.of(sub).next_after(max(now, run.end))
    await session.commit()


def seen_by(report: Report, access: roles.Access) -> tuple[Report, int]:
    """The digest as its subscriber may see it now (roles change after a subscription is made): the accounts they
    may no longer view are left out, their top posts too; and how many were left out."""
    kept = tuple(a for a in report.accounts if access.may_view(a.account_id))
    if len(kept) == len(report.accounts):
        return report, 0
    top = tuple(p for p in report.top_posts if access.may_view(p.account_id))
    return replace(report, accounts=kept, top_posts=top), len(report.accounts) - len(kept)
