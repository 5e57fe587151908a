"""The queue of scheduled posts (/picmim queue) and the small modal that moves one to another time."""

from __future__ import annotations

from collections.abc import Sequence

from bot import ids
from bot.payloads import RescheduleOrigin
from bot.services.queue import QueueItem
from bot.storage.models import PostStatus
from bot.views.approvals import queue_review
from bot.views.connect import esc, local_time

PREVIEW_MAX = 200
MESSAGE_BLOCKS = 50


def _plain(text: str) -> dict:
    return {"type": "plain_text", "text": text, "emoji": True}


def _section(text: str) -> dict:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text[:3000]}}


def _button(text: str, action_id: str, post_id: int, **extra) -> dict:
    return {"type": "button", "text": _plain(text), "action_id": action_id, "value": str(post_id), **extra}


def _when(item: QueueItem, tz: str | None) -> str:
    if item.scheduled_at is None:
        return "As soon as it is approved"
    return local_time(item.scheduled_at, tz)


def _preview(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= PREVIEW_MAX else text[:PREVIEW_MAX - 1] + "…"


def queue_list(items: Sequence[QueueItem], tz: str | None, viewer: str, note: str = "") -> list[dict]:
    blocks: list[dict] = [{"type": "header", "text": _plain("Scheduled posts")}]
    if note:
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": esc(note)[:3000]}]})
    if not items:
        blocks.append(_section(f"Nothing is scheduled. Write a post with `{ids.COMMAND} post`."))
        return blocks
    for shown, item in enumerate(items):
        if len(blocks) + 4 > MESSAGE_BLOCKS:  # a message holds 50 blocks
            blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": (
                f"…and {len(items) - shown} more, not shown here.")}]})
            break
        waiting = item.status is PostStatus.PENDING_APPROVAL
        who = "You" if item.author == viewer else f"<@{esc(item.author)}>"
        head = f"*{esc(_when(item, tz))}*" + (" · _waiting for approval_" if waiting else "")
        accounts = ", ".join(esc(a) for a in item.accounts) or "no accounts"
        preview = esc(_preview(item.text)) or "_(no text)_"
        review = f"\n{queue_review(item.review, item.status)}" if item.review else ""
        blocks.append({"type": "divider"})
        blocks.append(_section(f"{head}\n{accounts} · by {who}\n>{preview}{review}"))
        buttons = [] if waiting else [_button("Publish now", ids.QUEUE_PUBLISH_NOW, item.id, style="primary")]
        buttons.append(_button("Edit", ids.QUEUE_EDIT, item.id))
        buttons.append(_button("Reschedule", ids.QUEUE_RESCHEDULE, item.id))
        buttons.append(_button("Cancel", ids.QUEUE_CANCEL, item.id, style="danger", confirm={
            "title": _plain("Cancel this post?"),
            "text": {"type": "mrkdwn", "text": "It will not be published to any of its accounts."},
            "confirm": _plain("Cancel post"), "deny": _plain("Keep it"), "style": "danger"}))
        blocks.append({"type": "actions", "block_id": f"queue_{item.id}", "elements": buttons})
    return blocks


def reschedule_modal(post_id: int, current, response_url: str | None) -> dict:
    picker = {"type": "datetimepicker", "action_id": ids.QUEUE_AT_INPUT}
    if current is not None:
        picker["initial_date_time"] = int(current.timestamp())
    return {"type": "modal", "callback_id": ids.QUEUE_RESCHEDULE_VIEW, "title": _plain("Reschedule"),
            "submit": _plain("Save"), "close": _plain("Close"),
            "private_metadata": RescheduleOrigin(post_id, response_url).encode(),
            "blocks": [{"type": "input", "block_id": ids.QUEUE_AT_BLOCK, "label": _plain("Publish at"),
                        "element": picker, "hint": _plain("In your own time zone.")}]}
