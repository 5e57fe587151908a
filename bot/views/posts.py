"""A post's status message: one line per account, updated as publishing goes on, each problem with the button
that fixes it (Reconnect, Retry), and Edit / Cancel while the post can still be changed."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from bot import ids
from bot.media.errors import OPTIMISING
from bot.media.renditions import ProgressLine
from bot.services.publishing import TargetLine
from bot.storage.models import PostStatus, TargetStatus, utcnow
from bot.views.blocks import actions, button, confirm_dialog, context, esc, section, slack_date
from bot.views.post_settings import settings_line

# The headline of each status; scheduled, publishing, published and failed ones say more (see `headline`).
HEADLINES = {
    PostStatus.SCHEDULED: ":calendar: Scheduled",
    PostStatus.PUBLISHING: ":arrows_counterclockwise: Publishing",
    PostStatus.PUBLISHED: ":white_check_mark: Published",
    PostStatus.FAILED: ":x: Not published",
    PostStatus.CANCELLED: ":no_entry_sign: Cancelled",
    PostStatus.PENDING_APPROVAL: ":hourglass: Waiting for approval",
    # A post is a draft with a status message only when review sent it back (the reason is in its thread).
    PostStatus.DRAFT: ":memo: Sent back to its author's drafts: open it with `/picmim drafts`",
    PostStatus.EXPIRED: ":alarm_clock: Not approved before its time, so it was not published",
}
# The same in the notification text (what phones and screen readers show): words only.
SAID = {
    PostStatus.SCHEDULED: "Scheduled",
    PostStatus.PUBLISHING: "Publishing",
    PostStatus.PUBLISHED: "Published",
    PostStatus.FAILED: "Not published",
    PostStatus.CANCELLED: "Cancelled",
    PostStatus.PENDING_APPROVAL: "Waiting for approval",
    PostStatus.DRAFT: "Sent back to drafts",
    PostStatus.EXPIRED: "Not approved in time",
    PostStatus.APPROVED: "Approved",
    PostStatus.REJECTED: "Rejected",
}
BROKEN_SIGN_IN = ("revoked", "expired")  # error kinds a Reconnect mends (publishing, token_health)
HELD_ELSEWHERE = "(press Reconnect in the alert or in /picmim accounts)"  # token_health's words for a held post
CHANGEABLE = (TargetStatus.PENDING, TargetStatus.SCHEDULED, TargetStatus.HELD, TargetStatus.CANCELLED)


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


def _live(lines: Sequence[TargetLine]) -> list[TargetLine]:
    return [line for line in lines if line.status is not TargetStatus.CANCELLED]


def _platforms(lines: Sequence[TargetLine]) -> str:
    return and_list(list(dict.fromkeys(line.platform_name for line in lines)))


def _due(scheduled_at: datetime | None, now: datetime | None) -> bool:
    return scheduled_at is None or scheduled_at <= (now or utcnow())


def _optimising(lines: Sequence[TargetLine], optimising: Sequence[ProgressLine]) -> bool:
    return bool(optimising) or any(line.error_kind == OPTIMISING for line in lines)


def headline(status: PostStatus, scheduled_at: datetime | None, tz: str | None, lines: Sequence[TargetLine],
             *, optimising: Sequence[ProgressLine] = (), now: datetime | None = None) -> str:
    """Where the post stands, in one line (mrkdwn): times in each reader's own zone."""
    live = _live(lines)
    published = [line for line in live if line.status is TargetStatus.PUBLISHED]
    if status is PostStatus.SCHEDULED and not _due(scheduled_at, now):
        return f"{HEADLINES[status]} for {slack_date(scheduled_at, tz)}"
    if status is PostStatus.SCHEDULED:  # its time has come: it goes out with the publisher's next round
        if _optimising(live, optimising):
            return ":hourglass_flowing_sand: Publishing as soon as the video is ready"
        if any(line.detail for line in live if line.status is TargetStatus.SCHEDULED):
            return HEADLINES[PostStatus.PUBLISHING]  # each waiting line says what it waits for
        return HEADLINES[PostStatus.PUBLISHING] + " now"
    if status is PostStatus.PUBLISHING and published:
        return f"{HEADLINES[status]}: {len(published)} of {len(live)} published"
    if status is PostStatus.PUBLISHED and published:
        return f"{HEADLINES[status]} on {esc(_platforms(published))}"
    if status is PostStatus.FAILED and published:
        return f":warning: {len(published)} of {len(live)} published"
    if status is PostStatus.PENDING_APPROVAL and scheduled_at:
        return f"{HEADLINES[status]}, to publish {slack_date(scheduled_at, tz)}"
    return HEADLINES.get(status, SAID.get(status, "Post"))


def notification_text(status: PostStatus, text: str, scheduled_at: datetime | None, lines: Sequence[TargetLine],
                      *, optimising: Sequence[ProgressLine] = (), now: datetime | None = None) -> str:
    """The message's `text`: what a phone's notification and a screen reader say, in words (no status codes,
    no emoji, no times: a notification cannot show each reader their own zone)."""
    live = _live(lines)
    published = [line for line in live if line.status is TargetStatus.PUBLISHED]
    said = SAID.get(status, "Post")
    if status is PostStatus.SCHEDULED and _due(scheduled_at, now):
        said = "Publishing once the video is ready" if _optimising(live, optimising) else "Publishing now"
    elif status is PostStatus.PUBLISHED and published:
        said = f"Published on {_platforms(published)}"
    elif status is PostStatus.FAILED and published:
        missed = [line for line in live if line.status is not TargetStatus.PUBLISHED]
        said = f"{len(published)} of {len(live)} published, not on {_platforms(missed)}"
    elif status is PostStatus.PUBLISHING and published:
        said = f"Publishing, {len(published)} of {len(live)} published so far"
    elif status is PostStatus.FAILED and live:
        said = f"Not published on {_platforms(live)}"
    preview = " ".join(text.split())
    preview = preview if len(preview) <= 100 else preview[:99] + "…"
    return esc(f"{said}: {preview}" if preview else said)


def _line_said(status: PostStatus, line: TargetLine) -> str:
    if line.status is TargetStatus.PUBLISHED:
        said = f"published: <{line.url}|view the post>" if line.url else "published"  # (the headline has the emoji)
        return said + (f" ({esc(line.detail)})" if line.detail else "")
    if line.status is TargetStatus.PUBLISHING:
        return "publishing…"
    if line.status is TargetStatus.SCHEDULED and line.detail:
        return f"waiting: {esc(line.detail)}"
    if line.status is TargetStatus.SCHEDULED:
        return "scheduled"
    if line.status is TargetStatus.PENDING:
        return "waiting for approval" if status is PostStatus.PENDING_APPROVAL else "not scheduled"
    if line.status is TargetStatus.FAILED:
        return f":warning: failed: {esc(line.detail or 'no reason given')}"
    if line.status is TargetStatus.UNCONFIRMED:
        return f":grey_question: {esc(line.detail or 'outcome unknown')}"
    if line.status is TargetStatus.HELD:  # its connection broke (token health says why): Reconnect mends it
        said = line.detail or "On hold until its account is reconnected."
        if line.connection_id is not None:  # the button is right below
            said = said.replace(HELD_ELSEWHERE, "(press Reconnect below)")
        return f":double_vertical_bar: {esc(said)}"
    if line.status is TargetStatus.CANCELLED:
        return "cancelled"
    return esc(line.status.value)


def _reconnect(line: TargetLine, style: str | None = "primary") -> dict:
    return button("Reconnect", ids.ACCOUNT_RECONNECT, str(line.connection_id), style,
                  label=f"Reconnect {line.platform_name} · {line.account_name}")


def _retry_label(line: TargetLine) -> str:
    return f"Retry publishing to {line.platform_name} · {line.account_name}"


def _fixes(line: TargetLine) -> list[dict]:
    """The buttons that mend this line: Reconnect for a broken sign-in, Retry for a failure that can pass,
    "It is live" / "Send it again" for an outcome nobody knows."""
    target = str(line.target_id)
    broken = line.connection_id is not None and (
        line.status is TargetStatus.HELD
        or (line.status is TargetStatus.FAILED and line.error_kind in BROKEN_SIGN_IN))
    if line.status is TargetStatus.HELD:  # reconnecting releases it by itself
        return [_reconnect(line)] if broken else []
    if line.status is TargetStatus.FAILED and broken:  # reconnect first, then send it again
        return [_reconnect(line), button("Retry", ids.POST_RETRY, target, label=_retry_label(line))]
    if line.status is TargetStatus.FAILED:
        return [button("Retry", ids.POST_RETRY, target, "primary", label=_retry_label(line))]
    if line.status is TargetStatus.UNCONFIRMED:
        return [button("It is live", ids.POST_MARK_PUBLISHED, target), button("Send it again", ids.POST_RETRY, target)]
    return []


def changeable(status: PostStatus, lines: Sequence[TargetLine], scheduled_at: datetime | None,
               now: datetime | None = None) -> bool:
    """Whether the post can still be edited or cancelled: in review, or scheduled and not yet due."""
    if not all(line.status in CHANGEABLE for line in lines):
        return False
    return status is PostStatus.PENDING_APPROVAL or (status is PostStatus.SCHEDULED and not _due(scheduled_at, now))


def change_buttons(post_id: int) -> dict:
    value = str(post_id)
    cancel = confirm_dialog("Cancel this post?", "It will not be published to any of its accounts.", "Cancel post")
    return actions(button("Edit", ids.POST_EDIT, value),
                   button("Cancel post", ids.POST_CANCEL, value, "danger", confirm=cancel),
                   block_id=f"post_{post_id}")


def attachments_line(attached: Sequence[tuple[str, str]]) -> str | None:
    """What the post carries, in words: "4 photos", "1 video", "PDF document (q3-report.pdf)"."""
    photos = sum(1 for mimetype, _ in attached if mimetype.startswith("image/"))
    videos = sum(1 for mimetype, _ in attached if mimetype.startswith("video/"))
    documents = [name for mimetype, name in attached if mimetype == "application/pdf"]
    said = [f"{n} {word}{'s' if n != 1 else ''}" for n, word in ((photos, "photo"), (videos, "video")) if n]
    if documents:
        said.append(f"PDF document ({esc(', '.join(documents))})")
    return " · ".join(said)[:3000] or None


def status_message(status: PostStatus, text: str, scheduled_at: datetime | None, tz: str | None,
                   lines: list[TargetLine], *, optimising: Sequence[ProgressLine] = (),
                   cover_url: str | None = None, now: datetime | None = None, author: str | None = None,
                   post_id: int | None = None, attached: Sequence[tuple[str, str]] = (),
                   repeats: str | None = None) -> list[dict]:
    """`attached`: (mimetype, file name) of the post's attachments, in order, said in a line under the author;
    `repeats`: how its series repeats, for an occurrence of a recurring post (`series.Rule.describe`)."""
    title = headline(status, scheduled_at, tz, lines, optimising=optimising, now=now)
    short = text.strip() if len(text.strip()) <= 280 else text.strip()[:277] + "…"
    preview = "\n".join(">" + line for line in esc(short).split("\n")) if short else ""  # every line quoted
    # With a video, its cover frame, as the platforms will show it.
    cover = {"type": "image", "image_url": cover_url, "alt_text": "The video's cover frame"} if cover_url else None
    blocks: list[dict] = [section(f"*{title}*" + (f"\n{preview}" if preview else ""), cover)]
    if author:
        blocks.append(context(f"Post by <@{esc(author)}>"))
    if said := attachments_line(attached):
        blocks.append(context(said))
    if repeats:
        blocks.append(context(f":repeat: {esc(repeats)}"))
    blocks += optimising_blocks(optimising)
    can_change = post_id is not None and changeable(status, lines, scheduled_at, now)
    room = 50 - len(blocks) - (1 if can_change else 0) - 1  # the last: "…and N more"
    for shown, line in enumerate(lines):
        fixes = _fixes(line)
        if room < 1 + bool(fixes):
            blocks.append(context(f"…and {len(lines) - shown} more accounts, not shown here."))
            break
        where = f"*{esc(line.platform_name)}* · {esc(line.account_name)}"
        chosen = settings_line(line.settings, line.account_settings)
        blocks.append(section(f"{where}: {_line_said(status, line)}" + (f"\n{chosen}" if chosen else "")))
        if fixes:
            blocks.append(actions(*fixes))
        room -= 1 + bool(fixes)
    if can_change:
        blocks.append(change_buttons(post_id))
    return blocks[:50]
