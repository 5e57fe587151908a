"""The compose window's "When" part: Now, Schedule (with its date and time picker), and the quick choices (the
chosen accounts' next best slots and the next free posting slot), each shown in the author's zone."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from bot import ids
from bot.services.when_to_post import SLOT, QuickTime
from bot.views.blocks import choices, input_block, option, plain

NOW, SCHEDULE = "now", "schedule"


def _zone(tz: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(tz or "UTC")
    except (KeyError, ValueError):
        return ZoneInfo("UTC")


def short_time(when: datetime, tz: str | None) -> str:
    """"Tue 9 Dec, 10:00 (CET)" in the viewer's zone."""
    local = when.astimezone(_zone(tz))
    return f"{local:%a} {local.day} {local:%b, %H:%M} ({local.tzname()})"


def quick_value(quick: QuickTime) -> str:
    if quick.reason == SLOT:
        return f"{ids.COMPOSE_WHEN_SLOT}{quick.account_id}:{int(quick.at.timestamp())}"
    return f"{ids.COMPOSE_WHEN_AT}{int(quick.at.timestamp())}"


def _seconds(digits: str) -> datetime | None:
    if not digits.isdecimal() or len(digits) > 11:
        return None
    try:
        return datetime.fromtimestamp(int(digits), UTC)
    except (OverflowError, OSError, ValueError):
        return None


def quick_slot(value: str | None) -> tuple[int, datetime] | None:
    """(account id, time) of a "Next free slot" choice's value, or None."""
    if not isinstance(value, str) or not value.startswith(ids.COMPOSE_WHEN_SLOT):
        return None
    account, _, digits = value.removeprefix(ids.COMPOSE_WHEN_SLOT).partition(":")
    at = _seconds(digits)
    return (int(account), at) if account.isdecimal() and len(account) < 12 and at else None


def quick_time(value: str | None) -> datetime | None:
    """The time a quick choice's value stands for, or None (not a quick choice, or not a time)."""
    if isinstance(value, str) and value.startswith(ids.COMPOSE_WHEN_AT):
        return _seconds(value.removeprefix(ids.COMPOSE_WHEN_AT))
    slot = quick_slot(value)
    return slot[1] if slot else None


def _quick_option(quick: QuickTime, tz: str | None) -> dict:
    if quick.reason == SLOT:
        chosen = option(f"Next free slot: {short_time(quick.at, tz)}", quick_value(quick))
        about = f"{quick.account}'s posting slot"
    else:
        chosen = option(short_time(quick.at, tz), quick_value(quick))
        about = f"Best time for {quick.account}"
    return {**chosen, "description": plain(about[:75])}


def when_blocks(when: datetime | None, schedule: bool, quick: Sequence[QuickTime], tz: str | None) -> list[dict]:
    """The "When" radio buttons (choosing one brings the window up to date) and, while Schedule is chosen, the
    picker. A scheduled time equal to a quick choice shows as that choice."""
    options = [option("Now", NOW), option("Schedule", SCHEDULE)]
    options += [_quick_option(q, tz) for q in quick[:8]]  # radio buttons take 10 options
    picked = next((o for q, o in zip(quick, options[2:], strict=False) if when is not None and q.at == when), None)
    scheduled = picked is None and (when is not None or schedule)
    initial = picked or (options[1] if scheduled else options[0])
    block = input_block(ids.COMPOSE_WHEN_BLOCK, "When", choices("radio_buttons", ids.COMPOSE_WHEN_INPUT, options,
                                                                initial=initial),
                        hint="Quick choices are the chosen accounts' best times to post and their next free posting "
                             "slot, in your own time zone." if quick else None)
    block["dispatch_action"] = True  # Schedule shows the date and time
    blocks = [block]
    if scheduled:
        picker = {"type": "datetimepicker", "action_id": ids.COMPOSE_AT_INPUT}
        if when:
            picker["initial_date_time"] = int(when.timestamp())
        blocks.append(input_block(ids.COMPOSE_AT_BLOCK, "Publish at", picker, hint="In your own time zone."))
    return blocks
