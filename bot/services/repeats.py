"""How a post repeats: the window's Repeat choices, the rule a series follows (the same wall-clock time in the
author's zone, daylight saving included), the words that describe it, and the problems with it. Pure, apart from
`lines` (a query of the series behind some posts): the queue, the drafts and the series service build on it."""

from __future__ import annotations

import calendar
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.storage.models import Post, Series

DAILY, WEEKLY, MONTHLY = "daily", "weekly", "monthly"
FREQUENCIES = (DAILY, WEEKLY, MONTHLY)
MAX_TIMES = 366
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
# The parts of the compose window a problem with the repetition is shown beside.
REPEAT, REPEAT_DAYS, REPEAT_END = "repeat", "repeat_days", "repeat_end"


@dataclass(frozen=True)
class Repeat:
    """How a composed post repeats, as the window holds it."""

    frequency: str  # daily | weekly | monthly
    weekdays: tuple[int, ...] = ()  # 0 = Monday (weekly)
    ends_on: date | None = None  # the last day it may go out (in the author's zone)
    times: int | None = None  # how many times in all


def repeat_to_json(repeat: Repeat | None) -> dict | None:
    """The window's Repeat choices as a draft keeps them (None: it does not repeat)."""
    if repeat is None:
        return None
    return {"frequency": repeat.frequency, "weekdays": list(repeat.weekdays),
            "ends_on": repeat.ends_on.isoformat() if repeat.ends_on else None, "times": repeat.times}


def repeat_from_json(kept: Mapping | None) -> Repeat | None:
    """A draft's kept Repeat choices; anything that does not read is left out (the window shows what it can)."""
    if not isinstance(kept, Mapping) or kept.get("frequency") not in FREQUENCIES:
        return None
    days = kept.get("weekdays") if isinstance(kept.get("weekdays"), list) and kept["frequency"] == WEEKLY else []
    try:
        ends_on = date.fromisoformat(kept["ends_on"]) if isinstance(kept.get("ends_on"), str) else None
    except ValueError:
        ends_on = None
    def whole(value) -> bool:
        return isinstance(value, int) and not isinstance(value, bool)

    times = kept.get("times")  # below 1 it is left out: Slack refuses a number field shown under its minimum
    return Repeat(kept["frequency"], tuple(sorted({d for d in days if whole(d) and 0 <= d <= 6})), ends_on,
                  times if whole(times) and 1 <= times <= MAX_TIMES else None)


def draft_repeats(kept: Mapping | None, first: datetime | None, timezone: str | None) -> str | None:
    """How a draft would repeat from its first time, in `Rule.describe`'s words (None: it does not, or it has no
    time yet or its choices are incomplete)."""
    repeat = repeat_from_json(kept)
    if repeat is None or first is None or problems(repeat, first, timezone):
        return None
    return rule_for(repeat, first, timezone).describe(timezone)


def zone(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return ZoneInfo("UTC")


@dataclass(frozen=True)
class Rule:
    """When a series' occurrences fall: a wall-clock time in a zone on the days the frequency picks."""

    frequency: str
    time_of_day: time
    timezone: str
    weekdays: tuple[int, ...] = ()
    day_of_month: int | None = None
    ends_on: date | None = None
    max_count: int | None = None

    @classmethod
    def of(cls, series: Series) -> Rule:
        hours, minutes = (int(n) for n in series.time_of_day.split(":"))
        return cls(series.frequency, time(hours, minutes), series.timezone, tuple(series.weekdays or ()),
                   series.day_of_month, date.fromisoformat(series.ends_on) if series.ends_on else None,
                   series.max_count)

    def _on(self, day: date) -> bool:
        if self.frequency == WEEKLY:
            return day.weekday() in self.weekdays
        if self.frequency == MONTHLY:
            wanted = min(self.day_of_month or 1, calendar.monthrange(day.year, day.month)[1])
            return day.day == wanted
        return True

    def at(self, day: date) -> datetime:
        """The UTC instant of the wall time on `day` (as digests do: the first of two in the hour that repeats;
        a time in the hour that is skipped reads with the offset from before the change)."""
        return datetime.combine(day, self.time_of_day, tzinfo=zone(self.timezone)).astimezone(UTC)

    def first_from(self, start: datetime) -> datetime:
        """The first occurrence at or after `start`."""
        day = start.astimezone(zone(self.timezone)).date()
        for n in range(0, 63):
            candidate = day + timedelta(days=n)
            if self._on(candidate) and self.at(candidate) >= start:
                return self.at(candidate)
        raise AssertionError("a rule falls at least once in two months")

    def after(self, at: datetime) -> datetime:
        return self.first_from(at + timedelta(seconds=1))

    def ended(self, index: int, at: datetime) -> bool:
        """Whether occurrence `index` (0 = the first), due at `at`, is past the series' end."""
        if self.max_count is not None and index >= self.max_count:
            return True
        return self.ends_on is not None and at.astimezone(zone(self.timezone)).date() > self.ends_on

    def describe(self, reader_zone: str | None = None) -> str:
        """How the series repeats, in the one wording every place uses (the review card, the queue, the post's status
        message, the audit trail): "Repeats every Monday and Thursday at 09:00, 4 times". The time is on the
        series' wall clock, so its zone is named unless the reader is known to be in it (`reader_zone`)."""
        at = f"at {self.time_of_day:%H:%M}"
        if reader_zone is None or zone(reader_zone).key != self.timezone:
            at += f" ({self.timezone} time)"
        if self.frequency == DAILY:
            rule = f"Repeats every day {at}"
        elif self.frequency == WEEKLY:
            rule = f"Repeats every {_and([WEEKDAYS[d] for d in sorted(self.weekdays)])} {at}"
        else:
            last = " (or the month's last day)" if (self.day_of_month or 1) > 28 else ""
            rule = f"Repeats every month on day {self.day_of_month}{last} {at}"
        if self.max_count is not None:
            return f"{rule}, {'once' if self.max_count == 1 else f'{self.max_count} times'}"
        if self.ends_on is not None:
            return f"{rule}, until {self.ends_on.day} {calendar.month_name[self.ends_on.month]} {self.ends_on.year}"
        return rule


def _and(names: Sequence[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def problems(repeat: Repeat | None, first: datetime | None, timezone: str | None) -> dict[str, list[str]]:
    """What is wrong with the repetition, by part of the window (nothing when the post does not repeat)."""
    if repeat is None:
        return {}
    found: dict[str, list[str]] = {}
    if repeat.frequency not in FREQUENCIES:
        found[REPEAT] = ["Choose every day, every week or every month."]
    if repeat.frequency == WEEKLY and not repeat.weekdays:
        found[REPEAT_DAYS] = ["Tick the days of the week it goes out on."]
    if repeat.times is None and repeat.ends_on is None:
        found[REPEAT_END] = ["Say when the series ends: how many times in all, or its last day."]
    elif repeat.times is not None and not 1 <= repeat.times <= MAX_TIMES:
        found[REPEAT_END] = [f"A series goes out between 1 and {MAX_TIMES} times."]
    elif first is not None and repeat.ends_on is not None \
            and repeat.ends_on < first.astimezone(zone(timezone)).date():
        found[REPEAT_END] = ["The last day is before the first date: pick a later last day."]
    return found


def rule_for(repeat: Repeat, first: datetime, timezone: str | None) -> Rule:
    """The rule whose wall-clock time, and monthly day, are those of the first date and time picked."""
    local = first.astimezone(zone(timezone))
    return Rule(repeat.frequency, local.time().replace(second=0, microsecond=0), zone(timezone).key,
                tuple(sorted(set(repeat.weekdays))), local.day if repeat.frequency == MONTHLY else None,
                repeat.ends_on, repeat.times)


@dataclass(frozen=True)
class SeriesLine:
    """What the queue says of an occurrence's series."""

    series_id: int
    index: int  # 0 = the first
    description: str


async def lines(session: AsyncSession, posts: Sequence[Post], reader_zone: str | None = None
                ) -> dict[int, SeriesLine]:
    """post id -> its series' line (`Rule.describe` for a reader in `reader_zone`), for the occurrences among
    `posts`."""
    wanted = {p.series_id for p in posts if p.series_id}
    if not wanted:
        return {}
    found = {s.id: s for s in await session.scalars(select(Series).where(Series.id.in_(wanted)))}
    return {p.id: SeriesLine(p.series_id, p.series_index or 0, Rule.of(found[p.series_id]).describe(reader_zone))
            for p in posts if p.series_id in found}
