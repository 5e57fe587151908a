"""Block Kit for approvals: the review card in the approval channel, the comment modal, and what the author
is told in the card's thread."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from bot import ids
from bot.payloads import CardRef, ReviewComment
from bot.services.approvals import DecisionLine, ReviewCard, TargetPreview
from bot.services.reviews import ReviewSummary
from bot.storage.models import Decision, PostStatus
from bot.views.blocks import actions, button, context, esc, modal, mrkdwn, plain, section, slack_date
from bot.views.post_settings import settings_line

QUOTE_MAX = 2400  # characters of a post's text on the card (a section holds 3000)
DECISIONS_SHOWN = 12
APPROVED = (PostStatus.SCHEDULED, PostStatus.PUBLISHING, PostStatus.PUBLISHED, PostStatus.FAILED)


def _quote(text: str) -> str:
    text = text.strip()
    if not text:
        return "_(no text)_"
    if len(text) > QUOTE_MAX:
        text = text[:QUOTE_MAX - 1] + "…"
    return "\n".join(">" + line for line in esc(text).split("\n"))


def _people(users: Sequence[str]) -> str:
    names = [f"<@{u}>" for u in users]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def _last_final(card: ReviewCard) -> DecisionLine | None:
    return next((d for d in reversed(card.decisions) if d.decision in (Decision.REJECT, Decision.REQUEST_CHANGES)),
                None)


def _comment(comment: str | None, limit: int = 500) -> str:
    if not comment:
        return ""
    short = comment if len(comment) <= limit else comment[:limit - 1] + "…"
    return f": “{esc(short)}”"


def headline(card: ReviewCard) -> str:
    """Where the review stands, first thing on the card."""
    if card.status is PostStatus.PENDING_APPROVAL:
        text = f"*:hourglass: Waiting for approval* · {len(card.approvers)} of {card.needed} " \
               f"approval{'s' if card.needed != 1 else ''}"
        if card.approvers:
            text += f" ({_people(card.approvers)})"
        if card.edited:
            text += "\n:pencil2: Edited after review: this version needs approving again; earlier approvals " \
                    "no longer count."
        return text
    if card.status in APPROVED:
        by = f" by {_people(card.approvers)}" if card.approvers else ""
        return f"*:white_check_mark: Approved{by}*"
    if card.status is PostStatus.DRAFT:
        final = _last_final(card)
        if final is None:
            return "*:memo: Back in its author's drafts*"
        what = "Rejected" if final.decision is Decision.REJECT else "Changes requested"
        mark = ":x:" if final.decision is Decision.REJECT else ":pencil2:"
        return (f"*{mark} {what} by <@{final.user_id}>*{_comment(final.comment)}\n"
                f"The post is back in <@{card.author}>'s drafts.")
    if card.status is PostStatus.CANCELLED:
        return "*:no_entry_sign: Cancelled*"
    if card.status is PostStatus.EXPIRED:
        return "*:alarm_clock: Not approved before its time*"
    return f"*{card.status.value}*"


def _target_line(target: TargetPreview) -> str:
    where = f"*{esc(target.platform_name)}* · {esc(target.account_name)}"
    if target.handle and target.handle != target.account_name:
        where += f" (@{esc(target.handle)})"
    if target.failed:
        state = f":warning: {esc(target.failed)}"
    elif target.problems:
        state = ":warning: " + " ".join(esc(p) for p in target.problems)
    else:
        state = ":white_check_mark: fits"
        if target.adjustments:
            state += f" ({esc(' '.join(target.adjustments))})"
    chosen = settings_line(target.settings, target.account_settings)
    return f"{where}: {state}" + (f"\n      {chosen}" if chosen else "")


def decision_line(line: DecisionLine, current_version: int) -> str:
    who = f"<@{line.user_id}>"
    how = " by reacting" if line.source == "reaction" else ""
    said = {
        Decision.APPROVE: f":white_check_mark: {who} approved{how}",
        Decision.WITHDRAW: f":leftwards_arrow_with_hook: {who} took their approval back",
        Decision.REJECT: f":x: {who} rejected{how}{_comment(line.comment)}",
        Decision.REQUEST_CHANGES: f":pencil2: {who} asked for changes{_comment(line.comment)}",
    }[line.decision]
    earlier = f"version {line.version} · " if line.version != current_version else ""
    return f"{earlier}{said} · {slack_date(line.at)}"


def review_card(card: ReviewCard, thumbnails: bool = True) -> list[dict]:
    """The card: where the review stands, the post as each platform will get it, its attachments, every
    decision, and (while it waits) the buttons."""
    blocks: list[dict] = [section(headline(card))]
    when = slack_date(card.scheduled_at) if card.scheduled_at else "as soon as it is approved"
    about = f"Post by <@{card.author}> · publishes {when}"
    if card.version > 1:
        about += f" · version {card.version}"
    blocks.append(context(about))
    by_text: dict[str, list[TargetPreview]] = {}
    for target in card.targets:
        by_text.setdefault(target.text, []).append(target)
    for text, targets in list(by_text.items())[:12]:
        lines = "\n".join(_target_line(t) for t in targets[:10])[:3000 - QUOTE_MAX - 40]
        blocks.append(section(f"{lines}\n{_quote(text)}"))
    if card.first_comment:
        blocks.append(context(f"First comment: {esc(card.first_comment)[:2900]}"))
    if card.media:
        blocks.append(_media(card, thumbnails))
    if card.decisions:
        shown = card.decisions[-DECISIONS_SHOWN:]
        lines = [decision_line(d, card.version) for d in shown]
        if len(card.decisions) > len(shown):
            lines.insert(0, f"_{len(card.decisions) - len(shown)} earlier decisions not shown_")
        blocks.append(context("\n".join(lines)))
    if card.status is PostStatus.PENDING_APPROVAL:
        value = CardRef(card.post_id, card.version).encode()
        blocks.append(actions(button("Approve", ids.REVIEW_APPROVE, value, "primary", emoji=True),
                              button("Request changes", ids.REVIEW_REQUEST_CHANGES, value, emoji=True),
                              button("Reject", ids.REVIEW_REJECT, value, "danger", emoji=True),
                              button("Edit", ids.REVIEW_EDIT, value, emoji=True),
                              block_id=f"review_{card.post_id}"))
        needed = f"{card.needed} approval{'s are' if card.needed != 1 else ' is'} needed"
        blocks.append(context(f"React with :{card.approve_reaction}: to approve or :{card.reject_reaction}: to "
                              f"reject, or use the buttons. Approvers: {card.who_reviews}; {needed}. "
                              "Only the author can edit."))
    return blocks[:50]


def _media(card: ReviewCard, thumbnails: bool) -> dict:
    shown = [m for m in card.media if thumbnails and m.thumbnail_url][:9]
    elements: list[dict] = [{"type": "image", "image_url": m.thumbnail_url, "alt_text": m.filename[:2000] or "photo"}
                            for m in shown]
    photos = sum(1 for m in card.media if m.kind == "image")
    videos = [m.filename for m in card.media if m.kind == "video"]
    said = []
    if photos:
        said.append(f"{photos} photo{'s' if photos != 1 else ''}")
    if videos:
        said.append(f"{len(videos)} video{'s' if len(videos) != 1 else ''} ({esc(', '.join(videos))})")
    elements.append(mrkdwn(" · ".join(said)[:3000] or "attachments"))
    return {"type": "context", "elements": elements}


def card_text(card: ReviewCard) -> str:
    """The notification and screen-reader text of the card."""
    first = next((t.text for t in card.targets), "")
    preview = " ".join(first.split())[:120]
    return f"Post by <@{card.author}> for review: {esc(preview)}"


# ---- the comment modal -------------------------------------------------------------------------------


def comment_modal(post_id: int, version: int, decision: Decision) -> dict:
    changes = decision is Decision.REQUEST_CHANGES
    element = {"type": "plain_text_input", "action_id": ids.REVIEW_COMMENT_INPUT, "multiline": True,
               "max_length": 2000}
    comment = {  # (its optional before its label, unlike input_block's)
        "type": "input", "block_id": ids.REVIEW_COMMENT_BLOCK, "optional": not changes,
        "label": plain("What should change?" if changes else "Why? (shown to the author)", emoji=True),
        "element": element,
        "hint": plain("The author sees this in the review card's thread; the post goes back to their drafts.",
                      emoji=True)}
    return modal("Request changes" if changes else "Reject post", [comment], callback_id=ids.REVIEW_COMMENT_VIEW,
                 submit="Send" if changes else "Reject", close="Cancel", emoji=True,
                 private_metadata=ReviewComment(post_id, version, decision).encode())


# ---- the card's thread ---------------------------------------------------------------------------------


def approved_reply(author: str, approvers: Sequence[str], when: datetime | None, published_now: bool,
                   late: bool) -> str:
    by = _people(approvers) if approvers else "the approvers"
    text = f"<@{author}> your post was approved by {by}."
    if late:
        return text + " Its time had passed while it waited, so Picmim is publishing it now."
    if published_now or when is None:
        return text + " Picmim is publishing it now."
    return text + f" It will be published {slack_date(when)}."


def returned_reply(author: str, line: DecisionLine) -> str:
    what = "rejected your post" if line.decision is Decision.REJECT else "asked for changes to your post"
    text = f"<@{author}> <@{line.user_id}> {what}"
    text += f":\n{_quote(line.comment)}\n" if line.comment else ". "
    return (text + f"It is back in your drafts: open it with `{ids.COMMAND} drafts`, change it and post it again "
                   "to send it for review. Its attachments are kept unless you attach new ones.")


def reopened_reply(author: str, version: int, had_approvals: bool) -> str:
    text = f"<@{author}> edited this post: version {version} needs approving again"
    return text + (" (approvals of the earlier version no longer count)." if had_approvals else ".")


def card_failed(channel_id: str | None, error: str | None) -> str:
    if not channel_id:
        return (":warning: This post needs approval, but no approval channel is set. Ask a workspace admin to "
                f"choose one in `{ids.COMMAND} settings`, then save the post again from `{ids.COMMAND} queue` → Edit.")
    reason = {
        "not_in_channel": "Picmim is not a member of that channel",
        "channel_not_found": "that channel is private and Picmim is not in it, or it was deleted",
        "is_archived": "that channel is archived",
    }.get(error or "", f"Slack said {error}")
    return (f":warning: Picmim could not post this for review in <#{channel_id}>: {reason}. Invite Picmim there "
            f"(`/invite @Picmim`), or an admin can choose another channel in `{ids.COMMAND} settings`; then save "
            f"the post again from `{ids.COMMAND} queue` → Edit.")


# ---- in /picmim queue -------------------------------------------------------------------------------


def queue_review(review: ReviewSummary, status: PostStatus) -> str:
    """A queued post's review in one or two lines."""
    lines = []
    if status is PostStatus.PENDING_APPROVAL:
        line = f"{len(review.approvers)} of {review.needed} approval{'s' if review.needed != 1 else ''}"
        if review.approvers:
            line += f": {_people(review.approvers)}"
        lines.append(line)
    for decision in review.decisions[-4:]:
        lines.append(decision_line(decision, review.version))
    return "\n".join(lines)
