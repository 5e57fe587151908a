"""The queue of scheduled posts (/picmim queue) and the small modal that moves one to another time."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from bot import ids
from bot.payloads import HomeWeek, RescheduleOrigin
from bot.services.queue import QueueItem
from bot.storage.models import PostStatus
from bot.views.approvals import queue_review
from bot.views.blocks import (
    actions,
    button,
    confirm_dialog,
    context,
    divider,
    esc,
    header,
    input_block,
    local_date,
    local_time,
    modal,
    section,
)

PREVIEW_MAX = 200
READ_ONLY = ("Posts without buttons are not yours to change: their author, a publisher of all their accounts or an "
             "admin can. An admin can change roles in `/picmim roles`.")
MESSAGE_BLOCKS = 50


def _preview(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= PREVIEW_MAX else text[:PREVIEW_MAX - 1] + "…"


def _zone(tz: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(tz or "UTC")
    except (KeyError, ValueError):
        return ZoneInfo("UTC")


def _day(when: datetime, tz: str | None) -> str:
    """A day's heading, in each reader's own zone ("Today", "Tomorrow", "Monday, 7 December")."""
    local = when.astimezone(_zone(tz))
    return f"<!date^{int(when.timestamp())}^{{date_long_pretty}}|{local:%A}, {local_date(when, tz)}>"


def _time(when: datetime, tz: str | None) -> str:
    return f"<!date^{int(when.timestamp())}^{{time}}|{local_time(when, tz)}>"


def _by_day(items: Sequence[QueueItem], tz: str | None) -> list[tuple[str, list[QueueItem]]]:
    """The items (the next first) under their day in the viewer's zone; those with no time of their own
    ("as soon as it is approved") first."""
    days: dict[str, tuple[str, list[QueueItem]]] = {}
    for item in items:
        if item.scheduled_at is None:
            key, heading = "", "As soon as it is approved"
        else:
            key = item.scheduled_at.astimezone(_zone(tz)).date().isoformat()
            heading = _day(item.scheduled_at, tz)
        days.setdefault(key, (heading, []))[1].append(item)
    return [days[key] for key in sorted(days)]


def _item(item: QueueItem, tz: str | None, viewer: str, may_change: bool = True) -> list[dict]:
    waiting = item.status is PostStatus.PENDING_APPROVAL
    who = "you" if item.author == viewer else f"<@{esc(item.author)}>"
    when = _time(item.scheduled_at, tz) if item.scheduled_at else "As soon as it is approved"
    accounts = ", ".join(esc(a) for a in item.accounts) or "no accounts"
    preview = esc(_preview(item.text)) or "_(no text)_"
    review = f"\n{queue_review(item.review, item.status)}" if item.review else ""
    repeats = f"\n:repeat: {esc(item.series)}" if item.series else ""
    text = f"*{when}* · {accounts} · by {who}\n>{preview}{review}{repeats}"
    if not may_change:  # its buttons would only be refused: the list alone
        return [section(text)]
    value = str(item.id)
    buttons = []
    if not waiting:  # one that waits for approval is published once it is approved
        publish = {**confirm_dialog("Publish this post now?", "It goes out to all of its accounts right away, "
                                    "instead of at its scheduled time.", "Publish now", "Not yet", emoji=True),
                   "style": "primary"}
        buttons.append(button("Publish now", ids.QUEUE_PUBLISH_NOW, value, confirm=publish, emoji=True))
    buttons.append(button("Edit", ids.QUEUE_EDIT, value, emoji=True))
    buttons.append(button("Reschedule", ids.QUEUE_RESCHEDULE, value, emoji=True))
    if item.series:
        buttons += series_buttons(value)
    else:
        cancel = confirm_dialog("Cancel this post?", "It will not be published to any of its accounts.",
                                "Cancel post", emoji=True)
        buttons.append(button("Cancel", ids.QUEUE_CANCEL, value, "danger", confirm=cancel, emoji=True))
    return [section(text), actions(*buttons, block_id=f"queue_{item.id}")]


def series_buttons(value: str) -> list[dict]:
    """An occurrence of a recurring post: Skip this one, Edit series, Stop series."""
    skip = confirm_dialog("Skip this one?", "This post will not be published; the series goes on.", "Skip",
                          emoji=True)
    stop = confirm_dialog("Stop the series?", "No more posts will be made, and those waiting in the queue are "
                          "cancelled.", "Stop series", emoji=True)
    return [button("Skip", ids.QUEUE_SKIP, value, confirm=skip, emoji=True),
            button("Edit series", ids.QUEUE_EDIT_SERIES, value, emoji=True),
            button("Stop series", ids.QUEUE_STOP_SERIES, value, "danger", confirm=stop, emoji=True)]


def queue_list(items: Sequence[QueueItem], tz: str | None, viewer: str, note: str = "",
               changeable: Collection[int] | None = None) -> list[dict]:
    """The queue, the next post first: those waiting for approval apart from the scheduled ones, each part
    under its days (in the viewer's zone). `changeable`: the posts whose buttons the viewer may use (None: all)."""
    blocks: list[dict] = [header("Scheduled posts", emoji=True)]
    if note:
        blocks.append(context(esc(note)))
    if not items:
        blocks.append(section(f"Nothing is scheduled. Write a post with `{ids.COMMAND} post`."))
        return blocks
    if changeable is not None and any(i.id not in changeable for i in items):
        blocks.append(context(READ_ONLY))
    waiting = [i for i in items if i.status is PostStatus.PENDING_APPROVAL]
    scheduled = [i for i in items if i.status is not PostStatus.PENDING_APPROVAL]
    shown = 0
    for title, part in ((f":hourglass: *Waiting for approval* ({len(waiting)})", waiting),
                        (f":calendar: *Scheduled* ({len(scheduled)})", scheduled)):
        if not part:
            continue
        if len(blocks) + 5 > MESSAGE_BLOCKS:
            break
        blocks += [divider(), section(title)]
        for heading, day in _by_day(part, tz):
            if len(blocks) + 4 > MESSAGE_BLOCKS:
                break
            blocks.append(context(f"*{heading}*"))
            for item in day:
                if len(blocks) + 3 > MESSAGE_BLOCKS:  # a message holds 50 blocks (and "…and N more")
                    break
                blocks += _item(item, tz, viewer, changeable is None or item.id in changeable)
                shown += 1
    if shown < len(items):
        blocks.append(context(f"…and {len(items) - shown} more, not shown here."))
    return blocks


def reschedule_modal(post_id: int, current, response_url: str | None, home: HomeWeek | None = None) -> dict:
    """The date and time picker; `home`: opened from Home, whose calendar (that week and account) is shown again
    once saved."""
    picker = {"type": "datetimepicker", "action_id": ids.QUEUE_AT_INPUT}
    if current is not None:
        picker["initial_date_time"] = int(current.timestamp())
    at = input_block(ids.QUEUE_AT_BLOCK, "Publish at", picker, hint="In your own time zone.", emoji=True)
    return modal("Reschedule", [at], callback_id=ids.QUEUE_RESCHEDULE_VIEW, submit="Save", close="Close", emoji=True,
                 private_metadata=RescheduleOrigin(post_id, response_url,
                                                   home.encode() if home else None).encode())
