"""Home's calendar on its own: however full the week, it fits the blocks Home has left, cut evenly per day, and
every day's posts are counted."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from bot import ids
from bot.sandbox.fakes.slack import view_errors
from bot.services.calendar import CalendarPost, Week, bounds, by_day, zone_of
from bot.storage.models import PostStatus
from bot.views.calendar import calendar_blocks

MONDAY = date(2026, 3, 23)  # Europe/Madrid moves its clocks on Sunday 29 March


def _week(per_day: list[int]) -> Week:
    zone = zone_of("Europe/Madrid")
    posts = [CalendarPost(n * 1000 + i, "U1", f"day {n} post {i}",
                          datetime(2026, 3, 23, 8, tzinfo=UTC) + timedelta(days=n, minutes=i), PostStatus.SCHEDULED,
                          ("X",), ("X · Acme",))
             for n, count in enumerate(per_day) for i in range(count)]
    return Week(MONDAY, "Europe/Madrid", by_day(posts, MONDAY, zone), ((1, "X · Acme"),), None, MONDAY)


def test_a_full_week_fits_the_room_left_and_says_how_many_more_each_day():
    for per_day, room in (([30] * 7, 70), ([80, 0, 0, 0, 0, 0, 1], 40), ([3, 3, 3, 3, 3, 3, 3], 23)):
        blocks = calendar_blocks(_week(per_day), room)
        assert len(blocks) <= room, (per_day, room)
        assert view_errors({"type": "home", "blocks": blocks}) == []
        shown = sum(1 for b in blocks if b.get("accessory", {}).get("action_id") == ids.HOME_POST_OPEN)
        more = [int(b["text"]["text"].split()[1]) for b in blocks
                if b.get("accessory", {}).get("action_id") == ids.HOME_DAY_MORE]
        assert shown + sum(more) == sum(per_day), "every post is shown or counted"


def test_a_quiet_week_shows_everything_and_names_the_empty_days():
    blocks = calendar_blocks(_week([1, 0, 2, 0, 0, 0, 0]), 70)
    text = " ".join(str(b) for b in blocks)
    assert "more on" not in text and "Nothing planned on Tuesday, Thursday, Friday, Saturday, Sunday." in text
    assert "*Monday 23 March* · today · 1 post" in text and "*09:00*" in text, "08:00 UTC is 09:00 in Madrid"


def test_the_week_of_a_clock_change_ends_at_local_midnight():
    first, last = bounds(MONDAY, zone_of("Europe/Madrid"))
    assert (first, last) == (datetime(2026, 3, 22, 23, tzinfo=UTC), datetime(2026, 3, 29, 22, tzinfo=UTC))


def test_a_post_waiting_for_approval_without_a_time_says_when_it_goes():
    zone = zone_of("Europe/Madrid")
    waiting = CalendarPost(1, "U1", "soon", datetime(2026, 3, 23, 8, tzinfo=UTC), PostStatus.PENDING_APPROVAL,
                           ("X",), ("X · Acme",), timed=False)
    blocks = calendar_blocks(Week(MONDAY, "Europe/Madrid", by_day([waiting], MONDAY, zone), (), None, MONDAY), 70)
    assert "*As soon as it is approved* · :hourglass: Waiting for approval · X" in str(blocks)
