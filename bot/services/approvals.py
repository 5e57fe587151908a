"""Approvals: who may decide on a post that waits for approval, the decisions (every one kept; a Slack event
counts once however often Slack delivers it), what a decision does to the post, and what its review card
shows.

A decision locks the post first (a conditional UPDATE while it is still pending), so two approvers deciding
at once are counted one after the other, and an approval never lands on a post that left review meanwhile.
Approvals count per version of the post: an edit (a new version) needs approving again.

Free of Slack: the handlers find out who someone is (admin, member of the approvers' user group) and show
what comes back.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from bot.media.store import facts as media_facts
from bot.platforms import registry
from bot.platforms.base import Adapter
from bot.platforms.settings import PlatformSettings
from bot.services import audit, composing, series
from bot.services.approval_reminders import overdue
from bot.services.publishing import schedule_targets, settle_post
from bot.services.reviews import DecisionLine, approvers_of, decisions_of
from bot.services.workspaces import normalize_reaction
from bot.storage.models import (
    Account,
    ApprovalDecision,
    Decision,
    MediaItem,
    Post,
    PostMedia,
    PostStatus,
    ReviewLink,
    TargetStatus,
    Workspace,
    utcnow,
)

BUTTON, REACTION, REVIEW_LINK = audit.BUTTON, audit.REACTION, audit.REVIEW_LINK
FINAL = (Decision.REJECT, Decision.REQUEST_CHANGES)
MAX_COMMENT = 2000


# ---- who may decide ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Reviewer:
    """Someone deciding, with what the handler found out about them in Slack."""

    user_id: str  # a Slack user id, or "<name> (review link)"
    is_admin: bool = False
    in_usergroup: bool = False
    by_link: bool = False  # someone an approver sent a review link to: that link is their right to decide


def admins_review(workspace: Workspace) -> bool:
    """No approvers chosen: workspace admins approve."""
    return not workspace.approver_user_ids and not workspace.approver_usergroup_id


def may_review(workspace: Workspace, reviewer: Reviewer) -> bool:
    if reviewer.by_link:
        return True
    if admins_review(workspace):
        return reviewer.is_admin
    return reviewer.user_id in (workspace.approver_user_ids or []) or reviewer.in_usergroup


def who_reviews(workspace: Workspace) -> str:
    """The approvers, in Slack mrkdwn (mentions and the user group)."""
    if admins_review(workspace):
        return "workspace admins"
    names = [f"<@{u}>" for u in workspace.approver_user_ids or []]
    if workspace.approver_usergroup_id:
        names.append(f"members of <!subteam^{workspace.approver_usergroup_id}>")
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def reviewers_in_words(workspace: Workspace) -> str:
    """Who approves, without notifying anyone (a card is updated often; the approvers were named once, in the
    notification of the card's first post)."""
    if admins_review(workspace):
        return "workspace admins"
    people = len(workspace.approver_user_ids or [])
    said = [f"{people} chosen approver{'s' if people != 1 else ''}"] if people else []
    if workspace.approver_usergroup_id:
        said.append("the approvers' user group")
    return " and ".join(said)


def reaction_decision(workspace: Workspace, reaction: str) -> Decision | None:
    """What a reaction means on a review card (a skin tone does not change it), or None."""
    name = normalize_reaction(reaction)
    if name and name == workspace.approve_reaction:
        return Decision.APPROVE
    if name and name == workspace.reject_reaction:
        return Decision.REJECT
    return None


# ---- deciding ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    """What a decision did. `refusal` says why nothing was recorded, in words for the person who asked;
    `quiet` marks what needs no answer at all (a Slack retry, a reaction that repeats a decision)."""

    post_id: int
    recorded: bool = False
    refusal: str | None = None
    quiet: bool = False
    decision: Decision | None = None
    status: PostStatus | None = None
    finished: bool = False  # this decision ended the review: approved, rejected or changes requested
    published_now: bool = False  # approved after its time had passed: going out now
    late: bool = False  # …because its time had passed (not because it was meant for "now")


def _not_pending(status: PostStatus) -> str:
    return {
        PostStatus.SCHEDULED: "This post was already approved.",
        PostStatus.PUBLISHING: "This post was already approved and is being published.",
        PostStatus.PUBLISHED: "This post was already approved and published.",
        PostStatus.FAILED: "This post was already approved.",
        PostStatus.DRAFT: "This post is no longer waiting for approval: it went back to its author's drafts.",
        PostStatus.CANCELLED: "This post was cancelled.",
        PostStatus.EXPIRED: "This post was not approved in time: its author has been told.",
    }.get(status, "This post is no longer waiting for approval.")


def not_a_reviewer(workspace: Workspace) -> str:
    return (f"Only {who_reviews(workspace)} can approve or reject posts here, so your decision was not counted. "
            "An admin can change who approves in `/picmim settings`.")


OWN_POST = ("You wrote this post, so someone else has to approve it. (An admin can allow authors to approve "
            "their own posts in `/picmim settings`.)")
TOO_LATE = ("This post's time passed while it waited for approval, so it will not be published: its author is told "
            "and can reschedule it.")
STALE = "This post was edited after you opened it: look at the new version on the card and decide again."


async def card_post(session: AsyncSession, workspace_id: int, channel_id: str, ts: str) -> Post | None:
    """The post whose review card is this message."""
    return await session.scalar(select(Post).where(Post.workspace_id == workspace_id,
                                                   Post.review_channel_id == channel_id, Post.review_ts == ts))


async def status_in(session: AsyncSession, workspace_id: int, post_id: int) -> PostStatus | None:
    """A post's status, when the post is the workspace's."""
    return await session.scalar(select(Post.status).where(Post.id == post_id, Post.workspace_id == workspace_id))


async def _seen(session: AsyncSession, event_id: str | None) -> bool:
    return bool(event_id) and await session.scalar(
        select(ApprovalDecision.id).where(ApprovalDecision.slack_event_id == event_id)) is not None


async def _latest_by_user(session: AsyncSession, post_id: int, version: int) -> dict[str, ApprovalDecision]:
    """Each person's latest approval or withdrawal on this version."""
    rows = await session.scalars(
        select(ApprovalDecision).where(ApprovalDecision.post_id == post_id, ApprovalDecision.post_version == version,
                                       ApprovalDecision.decision.in_([Decision.APPROVE, Decision.WITHDRAW]))
        .order_by(ApprovalDecision.created_at, ApprovalDecision.id))
    return {row.user_id: row for row in rows}


def _approvers(latest: Mapping[str, ApprovalDecision]) -> list[str]:
    return [user for user, row in latest.items() if row.decision is Decision.APPROVE]


async def check(session: AsyncSession, workspace: Workspace, post_id: int, reviewer: Reviewer,
                decision: Decision, version: int | None = None) -> str | None:
    """Why this person may not make this decision now (None: they may); nothing is recorded. Used before
    asking for a comment, so nobody writes one for nothing."""
    post = await session.get(Post, post_id)
    if post is None or post.workspace_id != workspace.id:
        return "This post no longer exists."
    return _refusal(workspace, post, reviewer, decision, version)


def _refusal(workspace: Workspace, post: Post, reviewer: Reviewer, decision: Decision,
             version: int | None) -> str | None:
    if post.status is not PostStatus.PENDING_APPROVAL:
        return _not_pending(post.status)
    if version is not None and version != post.version:
        return STALE
    if not may_review(workspace, reviewer):
        return not_a_reviewer(workspace)
    if decision is Decision.APPROVE and post.author_user_id == reviewer.user_id and not workspace.allow_self_approval:
        return OWN_POST
    return None


async def decide(session: AsyncSession, workspace: Workspace, post_id: int, reviewer: Reviewer, decision: Decision,
                 *, source: str, now: datetime, comment: str | None = None, event_id: str | None = None,
                 version: int | None = None) -> Outcome:
    """Record one decision and apply it: enough approvals schedule the post (or publish it now when its time
    has passed); a rejection or a request for changes sends it back to its author's drafts; a withdrawal (a
    removed approval reaction) takes that person's approval back while the post is still pending.

    `event_id` is Slack's id of the event behind the decision: a second delivery changes nothing. `version`
    is the version the person saw (a button on the card); a newer one is not decided on their behalf.
    The caller commits."""
    if await _seen(session, event_id):
        return Outcome(post_id, quiet=True)
    post = await session.get(Post, post_id)
    if post is None or post.workspace_id != workspace.id:
        return Outcome(post_id, refusal="This post no longer exists.", quiet=decision is Decision.WITHDRAW)
    # The lock: concurrent decisions on one post wait here for each other.
    locked = await session.execute(
        update(Post).where(Post.id == post_id, Post.status == PostStatus.PENDING_APPROVAL).values(updated_at=now)
        .execution_options(synchronize_session=False))
    post = await session.scalar(select(Post).options(selectinload(Post.targets)).where(Post.id == post_id)
                                .execution_options(populate_existing=True))
    if await _seen(session, event_id):  # delivered twice at once: the other delivery got here first
        return Outcome(post_id, quiet=True, status=post.status)
    if locked.rowcount != 1:
        return Outcome(post_id, refusal=_not_pending(post.status), status=post.status,
                       quiet=decision is Decision.WITHDRAW)
    refusal = _refusal(workspace, post, reviewer, decision, version)
    if refusal:
        return Outcome(post_id, refusal=refusal, status=post.status)
    if decision is Decision.APPROVE and overdue(post, workspace, now):  # expiring: approving no longer publishes
        return Outcome(post_id, refusal=TOO_LATE, status=post.status)
    latest = await _latest_by_user(session, post.id, post.version)
    mine = latest.get(reviewer.user_id)
    if decision is Decision.APPROVE and mine is not None and mine.decision is Decision.APPROVE:
        return Outcome(post_id, refusal="You have already approved this post.", status=post.status,
                       quiet=source == REACTION)
    if decision is Decision.WITHDRAW and (mine is None or mine.decision is not Decision.APPROVE
                                          or mine.source != REACTION):
        return Outcome(post_id, quiet=True, status=post.status)  # only an approval made by reacting is undone
    comment = (comment or "").strip()[:MAX_COMMENT] or None
    if decision is Decision.REQUEST_CHANGES and not comment:
        return Outcome(post_id, refusal="Say what should change, so the author knows what to do.",
                       status=post.status)
    record = ApprovalDecision(post_id=post.id, post_version=post.version, user_id=reviewer.user_id,
                              decision=decision, comment=comment, source=source, slack_event_id=event_id or None,
                              created_at=now)
    try:
        async with session.begin_nested():
            session.add(record)
    except IntegrityError:  # the same Slack event, recorded by another delivery a moment ago
        return Outcome(post_id, quiet=True, status=post.status)
    await audit.record_post(session, post, reviewer.user_id, source, DECIDED[decision],
                            {"version": post.version, "comment": comment} if comment else {"version": post.version},
                            at=now)
    if decision is Decision.APPROVE:
        latest[reviewer.user_id] = record
        if len(_approvers(latest)) >= (workspace.approvals_needed or 1):
            return await _approve(session, post, now, reviewer.user_id, source)
    elif decision in FINAL:
        post.status = PostStatus.DRAFT
        for target in post.targets:
            target.next_attempt_at = None
        await session.flush()
        return Outcome(post_id, recorded=True, decision=decision, status=post.status, finished=True)
    await session.flush()
    return Outcome(post_id, recorded=True, decision=decision, status=post.status)


DECIDED = {Decision.APPROVE: "approved", Decision.REJECT: "rejected", Decision.REQUEST_CHANGES: "changes requested",
           Decision.WITHDRAW: "approval withdrawn"}


async def _approve(session: AsyncSession, post: Post, now: datetime, actor: str, source: str) -> Outcome:
    """Enough approvals: due at its time, or now when that has passed (or none was set)."""
    late = post.scheduled_at is not None and post.scheduled_at <= now
    when = post.scheduled_at if post.scheduled_at and not late else now
    schedule_targets(post, when)
    await audit.record_post(session, post, actor, source, "scheduled",
                            {"status": ["pending_approval", "scheduled"],
                             "time (UTC)": when.strftime("%Y-%m-%d %H:%M")},
                            at=now)
    await session.flush()
    status = await settle_post(session, post.id)
    return Outcome(post.id, recorded=True, decision=Decision.APPROVE, status=status, finished=True,
                   published_now=when == now, late=late)


# ---- what is shown ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class TargetPreview:
    """One account on the card: the text it will receive, and whether it fits the platform."""

    platform_name: str
    account_name: str
    handle: str | None
    text: str
    problems: tuple[str, ...] = ()  # what stops it from being published
    adjustments: tuple[str, ...] = ()  # what Picmim will change on its own (convert, resize)
    failed: str | None = None  # a target that already failed (e.g. an attachment that did not fit)
    settings: PlatformSettings | None = None  # the network's own choices (title, board, privacy…)
    account_settings: Mapping[str, Any] = field(default_factory=dict, compare=False)  # e.g. its boards' names
    status: TargetStatus | None = None  # once approved: where its publishing stands
    url: str | None = None  # once published: the post on the platform


@dataclass(frozen=True)
class MediaPreview:
    filename: str
    kind: str  # image | video
    thumbnail_url: str | None  # a link Slack can show (the full picture), for pictures it can show
    alt_text: str | None = None  # the author's description of the picture


@dataclass(frozen=True)
class ReviewCard:
    post_id: int
    version: int
    author: str
    status: PostStatus
    scheduled_at: datetime | None
    first_comment: str | None
    targets: tuple[TargetPreview, ...]
    media: tuple[MediaPreview, ...]
    decisions: tuple[DecisionLine, ...]
    approvers: tuple[str, ...]  # who approves the current version
    needed: int
    approve_reaction: str
    reject_reaction: str
    who_reviews: str
    edited: bool = field(default=False)  # a version after the first: earlier approvals no longer count
    reviewers: str = "the approvers"  # who approves, in words that notify nobody
    review_links: int = 0  # review links for people without Slack still open on this post
    repeats: str | None = None  # the first post of a series: how it repeats (approving it approves the series)


SLACK_SHOWS = ("image/png", "image/jpeg", "image/gif")  # what Slack draws from an image URL


async def review_card(session: AsyncSession, workspace: Workspace, post_id: int, adapters: Mapping[str, Adapter],
                      media_link: Callable[[MediaItem], str] | None = None) -> ReviewCard:
    """What the post's review card shows, checked against every platform as it stands now."""
    post = await session.scalar(select(Post).options(selectinload(Post.targets)).where(Post.id == post_id))
    items = await composing.media_of(session, post.id)
    facts = [media_facts(item) for item in items]
    live = [t for t in post.targets if t.status is not TargetStatus.CANCELLED]
    accounts = {a.id: a for a in await composing.accounts_by_id(session, workspace.id,
                                                                [t.account_id for t in live])}
    composition = composing.composition_of(post, list(accounts.values()))
    previews = []
    for target in live:
        account: Account | None = accounts.get(target.account_id)
        if account is None:
            continue
        info = registry.get(account.platform)
        draft = composing.draft_for(account, composition, facts)
        adapter = adapters.get(account.platform)
        if adapter is None:
            problems = [f"{info.name if info else account.platform} is not set up on this install any more."]
            fixes: list[str] = []
        else:
            found = adapter.validate(composing.account_ref(account, account.connection), draft)
            problems = [p.message for p in found if not p.fixable]
            fixes = [p.message for p in found if p.fixable]
        failed = target.last_error if target.status is TargetStatus.FAILED else None
        previews.append(TargetPreview(info.name if info else account.platform, account.name, account.handle,
                                      draft.text, tuple(dict.fromkeys(problems)), tuple(dict.fromkeys(fixes)),
                                      failed, draft.settings, dict(account.settings or {}), target.status,
                                      target.remote_url if target.status is TargetStatus.PUBLISHED else None))
    alts = dict((await session.execute(select(PostMedia.media_id, PostMedia.alt_text)
                                       .where(PostMedia.post_id == post.id))).all())
    media = tuple(MediaPreview(item.filename, _kind(item.mimetype),
                               media_link(item) if media_link and item.mimetype in SLACK_SHOWS else None,
                               alts.get(item.id))
                  for item in items)
    lines = (await decisions_of(session, [post.id])).get(post.id, [])
    return ReviewCard(post.id, post.version, post.author_user_id, post.status, post.scheduled_at, post.first_comment,
                      tuple(previews), media, tuple(lines), approvers_of(lines, post.version),
                      workspace.approvals_needed or 1, workspace.approve_reaction, workspace.reject_reaction,
                      who_reviews(workspace), edited=any(line.version < post.version for line in lines),
                      reviewers=reviewers_in_words(workspace), review_links=await _open_links(session, post),
                      repeats=await series_line(session, post))


async def series_line(session: AsyncSession, post: Post) -> str | None:
    """How the post's series repeats, for its first post only (the one whose approval approves the series)."""
    found = (await series.lines(session, [post])).get(post.id)
    return found.description if found and found.index == 0 else None


def _kind(mimetype: str) -> str:
    return "video" if mimetype.startswith("video/") else "document" if mimetype == "application/pdf" else "image"


async def _open_links(session: AsyncSession, post: Post) -> int:
    if post.status is not PostStatus.PENDING_APPROVAL:
        return 0
    return len((await session.scalars(select(ReviewLink.id).where(
        ReviewLink.post_id == post.id, ReviewLink.post_version == post.version, ReviewLink.revoked_at.is_(None),
        ReviewLink.used_at.is_(None), ReviewLink.expires_at > utcnow()))).all())


async def set_card(session: AsyncSession, post_id: int, channel_id: str, ts: str) -> None:
    await session.execute(update(Post).where(Post.id == post_id).values(review_channel_id=channel_id, review_ts=ts)
                          .execution_options(synchronize_session=False))
