"""Block Kit for approvals: the review card in the approval channel, the comment modal, and what the author
is told in the card's thread."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from bot import ids
from bot.payloads import CardRef, ReviewComment
from bot.services.approvals import DecisionLine, ReviewCard, TargetPreview
from bot.services.reviews import ReviewSummary
from bot.storage.models import Decision, PostStatus, TargetStatus
from bot.views.blocks import actions, button, context, esc, modal, plain, section, slack_date, who
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
    names = [who(u) for u in users]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def _last_final(card: ReviewCard) -> DecisionLine | None:
    return next((d for d in reversed(card.decisions) if d.decision in (Decision.REJECT, Decision.REQUEST_CHANGES)),
                None)


def _comment(comment: str | None, limit: int = 500) -> str:
    if not comment:
        return ""
    short = comment if len(comment) <= limit else comment[:limit - 1] + "…"
    return f": “{esc(short)}”"


def approvals_count(have: int, needed: int) -> str:
    """"Needs 1 approval" before anyone approved, then "1 of 2 approvals"."""
    if not have:
        return f"Needs {needed} approval{'s' if needed != 1 else ''}"
    return f"{have} of {needed} approval{'s' if needed != 1 else ''}"


def _outcome(card: ReviewCard, dated: bool = True) -> str:
    """Once approved: where its publishing stands (the links are on each account's line). Not `dated`: no
    time (a notification cannot show each reader their own zone)."""
    live = [t for t in card.targets if t.status is not None]
    published = sum(1 for t in live if t.status is TargetStatus.PUBLISHED)
    if card.status is PostStatus.SCHEDULED:
        if not card.scheduled_at:
            return "publishing now"
        return f"publishes {slack_date(card.scheduled_at)}" if dated else "publishes at its time"
    if card.status is PostStatus.PUBLISHING:
        return f"publishing: {published} of {len(live)} published" if published else "publishing now"
    if card.status is PostStatus.PUBLISHED:
        return "published"
    if published:  # FAILED
        return f"{published} of {len(live)} published"
    return "not published"


def headline(card: ReviewCard) -> str:
    """Where the review stands, first thing on the card."""
    if card.status is PostStatus.PENDING_APPROVAL:
        text = f"*:hourglass: Waiting for approval* · {approvals_count(len(card.approvers), card.needed)}"
        if card.approvers:
            text += f" ({_people(card.approvers)})"
        if card.edited:
            text += "\n:pencil2: Edited after review: this version needs approving again; earlier approvals " \
                    "no longer count."
        return text
    if card.status in APPROVED:
        by = f" by {_people(card.approvers)}" if card.approvers else ""
        mark = ":warning:" if card.status is PostStatus.FAILED else ":white_check_mark:"
        return f"*{mark} Approved{by}* · {_outcome(card)}"
    if card.status is PostStatus.DRAFT:
        final = _last_final(card)
        if final is None:
            return "*:memo: Back in its author's drafts*"
        what = "Rejected" if final.decision is Decision.REJECT else "Changes requested"
        mark = ":x:" if final.decision is Decision.REJECT else ":pencil2:"
        return (f"*{mark} {what} by {who(final.user_id)}*{_comment(final.comment)}\n"
                f"The post is back in <@{card.author}>'s drafts.")
    if card.status is PostStatus.CANCELLED:
        return "*:no_entry_sign: Cancelled*"
    if card.status is PostStatus.EXPIRED:
        return ("*:alarm_clock: Not approved before its time*\nIt was not published, and approving it now would not "
                "publish it: its author can reschedule it, which sends it for approval again.")
    return f"*{esc(card.status.value)}*"


def _target_line(target: TargetPreview) -> str:
    where = f"*{esc(target.platform_name)}* · {esc(target.account_name)}"
    if target.handle and target.handle != target.account_name:
        where += f" (@{esc(target.handle)})"
    if target.status is TargetStatus.PUBLISHED:
        state = f":white_check_mark: published: <{target.url}|view the post>" if target.url else \
            ":white_check_mark: published"
    elif target.status is TargetStatus.PUBLISHING:
        state = "publishing…"
    elif target.failed:
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
    person = who(line.user_id)
    how = " by reacting" if line.source == "reaction" else ""
    said = {
        Decision.APPROVE: f":white_check_mark: {person} approved{how}",
        Decision.WITHDRAW: f":leftwards_arrow_with_hook: {person} took their approval back",
        Decision.REJECT: f":x: {person} rejected{how}{_comment(line.comment)}",
        Decision.REQUEST_CHANGES: f":pencil2: {person} asked for changes{_comment(line.comment)}",
    }[line.decision]
    earlier = f"version {line.version} · " if line.version != current_version else ""
    return f"{earlier}{said} · {slack_date(line.at)}"


def review_card(card: ReviewCard, thumbnails: bool = True) -> list[dict]:
    """The card: where the review stands, the post as each platform will get it, its pictures (large enough
    to judge), every decision, and (while it waits) the buttons."""
    blocks: list[dict] = [section(headline(card))]
    about = f"Post by <@{card.author}>"
    if card.status is PostStatus.PENDING_APPROVAL:  # once decided, the headline says what happens
        about += f" · publishes {slack_date(card.scheduled_at) if card.scheduled_at else 'as soon as it is approved'}"
    if card.version > 1:
        about += f" · version {card.version}"
    if card.repeats:
        about += (f"\n:repeat: {esc(card.repeats)}. Approving it approves the series: the later posts go out "
                  "as they are, each in the queue beforehand.")
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
        blocks += _media(card, thumbnails)
    if card.decisions:
        shown = card.decisions[-DECISIONS_SHOWN:]
        lines = [decision_line(d, card.version) for d in shown]
        if len(card.decisions) > len(shown):
            lines.insert(0, f"_{len(card.decisions) - len(shown)} earlier decisions not shown_")
        blocks.append(context("\n".join(lines)))
    if card.status is PostStatus.PENDING_APPROVAL:
        value = CardRef(card.post_id, card.version).encode()
        # No Edit here: the card is shared, and everyone but the author would be refused. The author edits
        # from the post's own message (its Edit button) or `/picmim queue`.
        # Share for review: a private link for a reviewer without Slack (shown only to the approver who asks).
        links = [button("Share for review", ids.REVIEW_SHARE, value, emoji=True)]
        if card.review_links:
            links.append(button(f"Revoke review links ({card.review_links})", ids.REVIEW_REVOKE_LINKS, value,
                                emoji=True))
        blocks.append(actions(button("Approve", ids.REVIEW_APPROVE, value, "primary", emoji=True),
                              button("Request changes", ids.REVIEW_REQUEST_CHANGES, value, emoji=True),
                              button("Reject", ids.REVIEW_REJECT, value, "danger", emoji=True),
                              *links, block_id=f"review_{card.post_id}"))
        needed = approvals_count(0, card.needed).replace("Needs", "needs")
        blocks.append(context(f"React with :{card.approve_reaction}: to approve or :{card.reject_reaction}: to "
                              f"reject, or use the buttons. Reviewed by {esc(card.reviewers)}; it {needed}. "
                              f"Only the author can edit it (from the post's own message or `{ids.COMMAND} queue`)."))
    return blocks[:50]


PICTURES_SHOWN = 4  # image blocks on a card: enough to judge a carousel's first pictures, not a wall


def _media(card: ReviewCard, thumbnails: bool) -> list[dict]:
    """Each picture as an image block an approver can judge (up to PICTURES_SHOWN), then what is attached in
    words; without `thumbnails` (Slack could not fetch them) only the words."""
    shown = [m for m in card.media if thumbnails and m.thumbnail_url][:PICTURES_SHOWN]
    blocks: list[dict] = []
    for m in shown:
        described = m.alt_text or m.filename or "photo"
        title = m.filename or "photo"
        if not m.alt_text:
            title += " · no alt text"
        blocks.append({"type": "image", "image_url": m.thumbnail_url, "alt_text": described[:2000],
                       "title": plain(title[:2000])})
    photos = sum(1 for m in card.media if m.kind == "image")
    videos = [m.filename for m in card.media if m.kind == "video"]
    said = []
    if photos:
        said.append(f"{photos} photo{'s' if photos != 1 else ''}")
        if photos > len(shown) and shown:
            said[-1] += f" ({photos - len(shown)} not shown here)"
    if videos:
        said.append(f"{len(videos)} video{'s' if len(videos) != 1 else ''} ({esc(', '.join(videos))})")
    documents = [m.filename for m in card.media if m.kind == "document"]
    if documents:
        said.append(f"PDF document ({esc(', '.join(documents))})")
    blocks.append(context(" · ".join(said)[:3000] or "attachments"))
    return blocks


def card_text(card: ReviewCard, first: bool = False) -> str:
    """The notification and screen-reader text of the card, in words. The approvers are named (and so
    notified) only in the card's first post: its updates notify nobody."""
    text = next((t.text for t in card.targets), "")
    preview = " ".join(text.split())[:120]
    if card.status is PostStatus.PENDING_APPROVAL:
        said = f"Post by <@{card.author}> for review" + (f" by {card.who_reviews}" if first else "")
    elif card.status in APPROVED:
        said = f"Approved, {_outcome(card, dated=False)}"
    else:
        said = {PostStatus.DRAFT: "Sent back to its author", PostStatus.CANCELLED: "Cancelled",
                PostStatus.EXPIRED: "Not approved before its time"}.get(card.status, "Post for review")
    return f"{said}: {esc(preview)}" if preview else said


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
    text = f"<@{author}> {who(line.user_id)} {what}"
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
    """A queued post's review in a few lines: the current version's approvals and decisions only (an edit
    starts the review again)."""
    lines = []
    if status is PostStatus.PENDING_APPROVAL:
        line = approvals_count(len(review.approvers), review.needed)
        if review.approvers:
            line += f": {_people(review.approvers)}"
        if any(d.version != review.version for d in review.decisions):
            line += " · edited after review, so earlier approvals no longer count"
        lines.append(line)
    for decision in [d for d in review.decisions if d.version == review.version][-4:]:
        lines.append(decision_line(decision, review.version))
    return "\n".join(lines)


# ---- reminders and expiry (bot/messages/approval_reminders.py) ----------------------------------------------


def _hours(waited: timedelta) -> str:
    hours = max(1, round(waited.total_seconds() / 3600))
    return f"{hours} hour{'s' if hours != 1 else ''}" if hours < 48 else f"{hours // 24} days"


def reminder_reply(card: ReviewCard, number: int, most: int, waited: timedelta, *, admins_approve: bool = False,
                   picmim_admins: Sequence[str] = (), picmim_admin_group: str | None = None) -> str:
    """The approvers, mentioned in the card's thread: the post still waits for them. With nobody named as approver
    (`admins_approve`), it says who can approve: workspace admins, and Picmim's own admins (mentioned) when roles
    name some."""
    due = f"It is due to go out {slack_date(card.scheduled_at)}." if card.scheduled_at else \
        "It goes out as soon as it is approved."
    waiting = (f"<@{card.author}>'s post has been waiting for approval for {_hours(waited)} "
               f"({approvals_count(len(card.approvers), card.needed).lower()}). {due}")
    if not admins_approve:
        return (f":bell: Reminder {number} of {most} for {card.who_reviews}: {waiting} "
                "Approve, ask for changes or reject it on this card.")
    named = [f"<@{user_id}>" for user_id in dict.fromkeys(picmim_admins)]
    if picmim_admin_group:
        named.append(f"members of <!subteam^{picmim_admin_group}>")
    also = ""
    if named:
        people = named[0] if len(named) == 1 else ", ".join(named[:-1]) + " and " + named[-1]
        also = f", and so can Picmim's admins: {people}"
    return (f":bell: Reminder {number} of {most}: {waiting} Workspace admins can approve it{also}. Approve, ask for "
            f"changes or reject it on this card. (Nobody is named as approver: an admin can choose approvers in "
            f"`{ids.COMMAND} settings`.)")


def expired_reply(when: datetime | None) -> str:
    """In the card's thread, for the approvers: the post is no longer theirs to decide."""
    said = f" (it was due {slack_date(when)})" if when else ""
    return (f":alarm_clock: Nobody approved this post in time{said}, so Picmim did not publish it. Approving it now "
            "would not publish it; its author can reschedule it, and it then comes back here for approval.")


def expired_notice(author: str, post_id: int, when: datetime | None) -> tuple[str, list[dict]]:
    """The author's notice (text and blocks): not approved in time, with Reschedule (the queue's window)."""
    said = f" for {slack_date(when)}" if when else ""
    text = (f"<@{author}> your post{said} was not approved before its time, so Picmim did not publish it. "
            "Reschedule it to send it for approval again.")
    return text, [section(f":alarm_clock: {text}"),
                  actions(button("Reschedule", ids.QUEUE_RESCHEDULE, str(post_id), "primary", emoji=True),
                          block_id=f"expired_{post_id}")]


def resubmitted_reply(author: str, when: datetime, who_reviews: str) -> str:
    """In the card's thread: the author moved an expired post, and it waits for the approvers again."""
    return (f":calendar: <@{author}> rescheduled this post to {slack_date(when)}: it needs approving again, "
            f"{who_reviews}.")
