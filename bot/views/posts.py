"""A post's status message: one line per account, updated as publishing goes on."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from bot import ids
from bot.media.renditions import ProgressLine
from bot.services.publishing import TargetLine
from bot.storage.models import PostStatus, TargetStatus, utcnow
from bot.views.blocks import actions, button, context, esc, local_time, section
from bot.views.post_settings import settings_line

HEADLINES = {
    PostStatus.SCHEDULED: ":calendar: Scheduled",
    PostStatus.PUBLISHING: ":arrows_counterclockwise: Publishing",
    PostStatus.PUBLISHED: ":white_check_mark: Published",
    PostStatus.FAILED: ":x: Not everything was published",
    PostStatus.CANCELLED: ":no_entry_sign: Cancelled",
    PostStatus.PENDING_APPROVAL: ":hourglass: Waiting for approval",
    # A post is a draft with a status message only when review sent it back (the reason is in its thread).
    PostStatus.DRAFT: ":memo: Sent back to its author's drafts: open it with `/picmim drafts`",
}


def and_list(names: Sequence[str]) -> str:
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


def optimising_blocks(optimising: Sequence[ProgressLine]) -> list[dict]:
    """One line per video copy being made: "Optimising video for TikTok and Instagram… 40%"."""
    blocks = []
    for line in optimising[:5]:
        said = (f":hourglass_flowing_sand: Optimising video for {esc(and_list(line.platforms))}… "
                f"{round(line.progress * 100)}%")
        blocks.append(context(said))
    return blocks


def status_message(status: PostStatus, text: str, scheduled_at: datetime | None, tz: str | None,
                   lines: list[TargetLine], *, optimising: Sequence[ProgressLine] = (),
                   cover_url: str | None = None, now: datetime | None = None) -> list[dict]:
    headline = HEADLINES.get(status, status.value)
    due_now = scheduled_at is not None and scheduled_at <= (now or utcnow())
    if status is PostStatus.SCHEDULED and due_now and not any(line.detail for line in lines):
        headline = HEADLINES[PostStatus.PUBLISHING] + " now"  # a post for "now" waits only for the next tick
    elif status is PostStatus.SCHEDULED and scheduled_at:
        headline += f" for {local_time(scheduled_at, tz)}"
    elif status is PostStatus.PENDING_APPROVAL and scheduled_at:
        headline += f", to publish {local_time(scheduled_at, tz)}"
    preview = esc(text if len(text) <= 280 else text[:277] + "…")
    # With a video, its cover frame, as the platforms will show it.
    cover = {"type": "image", "image_url": cover_url, "alt_text": "The video's cover frame"} if cover_url else None
    blocks: list[dict] = [section(f"*{headline}*\n>{preview}", cover)]
    blocks += optimising_blocks(optimising)
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
        elif line.status is TargetStatus.PENDING:
            said = "waiting for approval" if status is PostStatus.PENDING_APPROVAL else "not scheduled"
        elif line.status is TargetStatus.FAILED:
            said = f":warning: failed: {esc(line.detail or 'no reason given')}"
        elif line.status is TargetStatus.UNCONFIRMED:
            said = f":grey_question: {esc(line.detail or 'outcome unknown')}"
        elif line.status is TargetStatus.HELD:  # its connection broke (token health says why and how to mend)
            said = f":double_vertical_bar: {esc(line.detail or 'on hold until its account is reconnected')}"
        else:
            said = line.status.value
        chosen = settings_line(line.settings, line.account_settings)
        blocks.append(section(f"{where}: {said}" + (f"\n{chosen}" if chosen else "")))
        if line.status is TargetStatus.FAILED:
            blocks.append(actions(button("Retry", ids.POST_RETRY, str(line.target_id), "primary")))
        elif line.status is TargetStatus.UNCONFIRMED:
            blocks.append(actions(button("It is live", ids.POST_MARK_PUBLISHED, str(line.target_id)),
                                  button("Send it again", ids.POST_RETRY, str(line.target_id))))
    return blocks[:50]
