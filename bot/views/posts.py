"""A post's status message: one line per account, updated as publishing goes on."""

from __future__ import annotations

from datetime import datetime

from bot import ids
from bot.services.publishing import TargetLine
from bot.storage.models import PostStatus, TargetStatus
from bot.views.connect import esc, local_time

HEADLINES = {
    PostStatus.SCHEDULED: ":calendar: Scheduled",
    PostStatus.PUBLISHING: ":arrows_counterclockwise: Publishing",
    PostStatus.PUBLISHED: ":white_check_mark: Published",
    PostStatus.FAILED: ":x: Not everything was published",
    PostStatus.CANCELLED: ":no_entry_sign: Cancelled",
    # Reviews in Slack come with the approvals feature; until then an admin turns approval off in
    # settings to publish.
    PostStatus.PENDING_APPROVAL: ":hourglass: Waiting for approval",
    PostStatus.DRAFT: ":memo: Draft",
}


def _button(text: str, action_id: str, value: str, style: str | None = None) -> dict:
    button = {"type": "button", "text": {"type": "plain_text", "text": text}, "action_id": action_id,
              "value": value}
    if style:
        button["style"] = style
    return button


def status_message(status: PostStatus, text: str, scheduled_at: datetime | None, tz: str | None,
                   lines: list[TargetLine]) -> list[dict]:
    headline = HEADLINES.get(status, status.value)
    if status is PostStatus.SCHEDULED and scheduled_at:
        headline += f" for {local_time(scheduled_at, tz)}"
    preview = esc(text if len(text) <= 280 else text[:277] + "…")
    blocks: list[dict] = [{"type": "section", "text": {"type": "mrkdwn", "text": f"*{headline}*\n>{preview}"}}]
    for line in lines[:20]:
        where = f"*{line.platform_name}* · {esc(line.account_name)}"
        if line.status is TargetStatus.PUBLISHED:
            said = f"published: <{line.url}|view the post>" if line.url else "published"
            if line.detail:
                said += f" ({esc(line.detail)})"
        elif line.status is TargetStatus.PUBLISHING:
            said = "publishing…"
        elif line.status is TargetStatus.SCHEDULED and line.detail:
            said = f"waiting: {esc(line.detail)}"
        elif line.status is TargetStatus.SCHEDULED:
            said = "scheduled"
        elif line.status is TargetStatus.FAILED:
            said = f":warning: failed: {esc(line.detail or 'no reason given')}"
        elif line.status is TargetStatus.UNCONFIRMED:
            said = f":grey_question: {esc(line.detail or 'outcome unknown')}"
        else:
            said = line.status.value
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": f"{where}: {said}"[:3000]}})
        if line.status is TargetStatus.FAILED:
            blocks.append({"type": "actions", "elements": [
                _button("Retry", ids.POST_RETRY, str(line.target_id), "primary")]})
        elif line.status is TargetStatus.UNCONFIRMED:
            blocks.append({"type": "actions", "elements": [
                _button("It is live", ids.POST_MARK_PUBLISHED, str(line.target_id)),
                _button("Send it again", ids.POST_RETRY, str(line.target_id))]})
    return blocks[:50]
