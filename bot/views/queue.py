"""The queue of scheduled posts (/picmim queue) and the small modal that moves one to another time."""

from __future__ import annotations

from collections.abc import Sequence

from bot import ids
from bot.payloads import RescheduleOrigin
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
    local_time,
    modal,
    section,
)

PREVIEW_MAX = 200
MESSAGE_BLOCKS = 50


def _when(item: QueueItem, tz: str | None) -> str:
    if item.scheduled_at is None:
        return "As soon as it is approved"
    return local_time(item.scheduled_at, tz)


def _preview(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= PREVIEW_MAX else text[:PREVIEW_MAX - 1] + "…"


def queue_list(items: Sequence[QueueItem], tz: str | None, viewer: str, note: str = "") -> list[dict]:
    blocks: list[dict] = [header("Scheduled posts", emoji=True)]
    if note:
        blocks.append(context(esc(note)))
    if not items:
        blocks.append(section(f"Nothing is scheduled. Write a post with `{ids.COMMAND} post`."))
        return blocks
    for shown, item in enumerate(items):
        if len(blocks) + 4 > MESSAGE_BLOCKS:  # a message holds 50 blocks
            blocks.append(context(f"…and {len(items) - shown} more, not shown here."))
            break
        waiting = item.status is PostStatus.PENDING_APPROVAL
        who = "You" if item.author == viewer else f"<@{esc(item.author)}>"
        head = f"*{esc(_when(item, tz))}*" + (" · _waiting for approval_" if waiting else "")
        accounts = ", ".join(esc(a) for a in item.accounts) or "no accounts"
        preview = esc(_preview(item.text)) or "_(no text)_"
        review = f"\n{queue_review(item.review, item.status)}" if item.review else ""
        blocks.append(divider())
        blocks.append(section(f"{head}\n{accounts} · by {who}\n>{preview}{review}"))
        value = str(item.id)
        buttons = [] if waiting else [button("Publish now", ids.QUEUE_PUBLISH_NOW, value, "primary", emoji=True)]
        buttons.append(button("Edit", ids.QUEUE_EDIT, value, emoji=True))
        buttons.append(button("Reschedule", ids.QUEUE_RESCHEDULE, value, emoji=True))
        cancel = confirm_dialog("Cancel this post?", "It will not be published to any of its accounts.", "Cancel post",
                                emoji=True)
        buttons.append(button("Cancel", ids.QUEUE_CANCEL, value, "danger", confirm=cancel, emoji=True))
        blocks.append(actions(*buttons, block_id=f"queue_{item.id}"))
    return blocks


def reschedule_modal(post_id: int, current, response_url: str | None) -> dict:
    picker = {"type": "datetimepicker", "action_id": ids.QUEUE_AT_INPUT}
    if current is not None:
        picker["initial_date_time"] = int(current.timestamp())
    at = input_block(ids.QUEUE_AT_BLOCK, "Publish at", picker, hint="In your own time zone.", emoji=True)
    return modal("Reschedule", [at], callback_id=ids.QUEUE_RESCHEDULE_VIEW, submit="Save", close="Close", emoji=True,
                 private_metadata=RescheduleOrigin(post_id, response_url).encode())
