"""The queue: a workspace's scheduled and pending-approval posts, and publishing one now, moving it to
another time or cancelling it.

A post is changed only while none of its targets has been claimed by the publisher: its open targets
(pending, scheduled, held) are locked with a conditional UPDATE first, and when fewer rows match than the
post has live targets, a target was claimed (or finished) meanwhile and nothing is changed.

Free of Slack: the handlers decide who may act and show what comes back.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.platforms import registry
from bot.services import audit
from bot.services.reviews import ReviewSummary, summaries
from bot.storage.models import Account, Post, PostStatus, PostTarget, TargetStatus, Workspace

MAX_LISTED = 20
QUEUED = (PostStatus.SCHEDULED, PostStatus.PENDING_APPROVAL)
OPEN = (TargetStatus.PENDING, TargetStatus.SCHEDULED, TargetStatus.HELD)
GONE = "This post is no longer in the queue."
NOT_YOURS = ("Only the post's author, a publisher of all its accounts or an admin can change this post. An admin "
             "can change roles in `/picmim roles`.")


class QueueError(Exception):
    """Why a post in the queue cannot be changed, in words for the person who asked."""


@dataclass(frozen=True)
class QueueItem:
    id: int
    author: str
    text: str
    status: PostStatus
    scheduled_at: datetime | None  # UTC
    accounts: tuple[str, ...]  # "Platform · account name"
    review: ReviewSummary | None = None  # its approvals and every decision, when it has been reviewed
    series: str | None = None  # an occurrence of a recurring post: how the series repeats


async def list_queue(session: AsyncSession, workspace_id: int, user_id: str,
                     limit: int = MAX_LISTED, viewer_zone: str | None = None) -> list[QueueItem]:
    """The workspace's queued posts, the next to go out first (a post waiting for approval with no time of its
    own, "as soon as it is approved", by when it was sent for review). `user_id` is the viewer (kept for the
    callers; everyone sees the same queue, in the same order); `viewer_zone` their zone (a series' time is said
    in its own zone's words, which are named when they are not the viewer's)."""
    due = func.coalesce(Post.scheduled_at, Post.created_at)
    posts = list(await session.scalars(
        select(Post).where(Post.workspace_id == workspace_id, Post.status.in_(QUEUED))
        .order_by(due, Post.id).limit(limit)))
    if not posts:
        return []
    rows = await session.execute(
        select(PostTarget.post_id, Account.platform, Account.name)
        .join(Account, Account.id == PostTarget.account_id)
        .where(PostTarget.post_id.in_([p.id for p in posts]), PostTarget.status != TargetStatus.CANCELLED)
        .order_by(PostTarget.id))
    accounts: dict[int, list[str]] = {}
    for post_id, platform, name in rows:
        info = registry.get(platform)
        accounts.setdefault(post_id, []).append(f"{info.name if info else platform} · {name}")
    workspace = await session.get(Workspace, workspace_id)
    reviews = await summaries(session, workspace, posts)
    repeats = await series_lines(session, posts, viewer_zone)
    return [QueueItem(p.id, p.author_user_id, p.text or "", p.status, p.scheduled_at, tuple(accounts.get(p.id, ())),
                      reviews.get(p.id), repeats.get(p.id)) for p in posts]


async def series_lines(session: AsyncSession, posts: list[Post], reader_zone: str | None = None) -> dict[int, str]:
    """post id -> how its series repeats, for the occurrences of recurring posts among `posts`."""
    from bot.services.repeats import lines

    return {post_id: line.description for post_id, line in (await lines(session, posts, reader_zone)).items()}


async def queued_post(session: AsyncSession, workspace_id: int, post_id: int) -> Post | None:
    return await session.scalar(select(Post).where(Post.id == post_id, Post.workspace_id == workspace_id))


async def lock_open(session: AsyncSession, post: Post, now: datetime) -> None:
    """Lock the post's open targets and the post itself, or raise when the publisher got to it first."""
    if post.status not in QUEUED:
        raise QueueError(_gone(post.status))
    live = await session.scalar(select(func.count()).select_from(PostTarget).where(
        PostTarget.post_id == post.id, PostTarget.status != TargetStatus.CANCELLED))
    locked = await session.execute(
        update(PostTarget).where(PostTarget.post_id == post.id, PostTarget.status.in_(OPEN))
        .values(status=PostTarget.status).execution_options(synchronize_session=False))
    if locked.rowcount != live:
        raise QueueError("Picmim has already started publishing this post, so it can no longer be changed here.")
    still = await session.execute(
        update(Post).where(Post.id == post.id, Post.status.in_(QUEUED)).values(updated_at=now)
        .execution_options(synchronize_session=False))
    if still.rowcount != 1:
        raise QueueError("This post changed meanwhile; it can no longer be changed here.")


def _gone(status: PostStatus) -> str:
    return {PostStatus.PUBLISHING: "This post is being published right now, so it can no longer be changed here.",
            PostStatus.PUBLISHED: "This post has already been published.",
            PostStatus.CANCELLED: "This post was already cancelled.",
            PostStatus.DRAFT: "This post is a draft again; open it from `/picmim drafts`."}.get(
        status, GONE)


async def publish_now(session: AsyncSession, post: Post, now: datetime, *, actor: str | None = None,
                      source: str = audit.BUTTON) -> None:
    """Make the post's scheduled targets due now. The caller commits (or rolls back on QueueError)."""
    if post.status is PostStatus.PENDING_APPROVAL:
        raise QueueError("This post is waiting for approval; it is published once it is approved.")
    await reschedule(session, post, now, now, actor=actor, source=source, action="publish now")


async def reschedule(session: AsyncSession, post: Post, when: datetime, now: datetime, *, actor: str | None = None,
                     source: str = audit.MODAL, action: str = "rescheduled") -> None:
    """Move the post and its still-scheduled targets to `when` (UTC). The caller commits."""
    await lock_open(session, post, now)
    await audit.record_post(session, post, actor, source, action,
                            {"time (UTC)": [_utc(post.scheduled_at), _utc(when)]}, at=now)
    await session.execute(
        update(PostTarget).where(PostTarget.post_id == post.id, PostTarget.status == TargetStatus.SCHEDULED)
        .values(next_attempt_at=when).execution_options(synchronize_session=False))
    await session.execute(update(Post).where(Post.id == post.id).values(scheduled_at=when)
                          .execution_options(synchronize_session=False))


async def cancel(session: AsyncSession, post: Post, now: datetime, *, actor: str | None = None,
                 source: str = audit.BUTTON, why: str | None = None) -> None:
    """Cancel the post and its targets that were not published; `why`, when given, is said in its audit entry.
    The caller commits."""
    await lock_open(session, post, now)
    change: dict = {"status": [post.status.value, "cancelled"]}
    if why:
        change["why"] = why
    await audit.record_post(session, post, actor, source, "cancelled", change, at=now)
    await session.execute(
        update(PostTarget).where(PostTarget.post_id == post.id, PostTarget.status.in_(OPEN))
        .values(status=TargetStatus.CANCELLED, next_attempt_at=None).execution_options(synchronize_session=False))
    await session.execute(update(Post).where(Post.id == post.id).values(status=PostStatus.CANCELLED)
                          .execution_options(synchronize_session=False))


def _utc(when: datetime | None) -> str:
    return when.strftime("%Y-%m-%d %H:%M") if when else "as soon as possible"
