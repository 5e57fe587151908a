"""Approval reminders and expiry: a post left waiting for approval is announced again to its approvers (every
`approval_reminder_hours`, at most `approval_reminders_max` times), and one still waiting when its time has passed by
`approval_grace_minutes` expires instead of being published whenever someone approves it, however late.

Each reminder and each expiry is claimed in the database before anyone is told (a conditional UPDATE: the reminder
count moves from n to n + 1, the status from pending_approval to expired), so however many processes tick, one of
them does it, once. Free of Slack: bot/messages/approval_reminders.py says it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.services import audit
from bot.services.queue import QueueError
from bot.storage.models import Post, PostStatus, Workspace

BATCH = 50  # posts looked at per tick: the rest wait for the next one


@dataclass(frozen=True)
class Reminder:
    """A reminder this process claimed: the `number`th of at most `most` for the post."""

    post_id: int
    workspace_id: int
    number: int
    most: int
    waited: timedelta  # since the post was sent for approval


def grace_of(workspace: Workspace) -> timedelta:
    minutes = workspace.approval_grace_minutes
    return timedelta(minutes=60 if minutes is None else minutes)


def overdue(post: Post, workspace: Workspace, now: datetime) -> bool:
    """Its time passed longer ago than the grace period: it can no longer be approved into publishing."""
    return post.scheduled_at is not None and post.scheduled_at + grace_of(workspace) <= now


async def _waiting(session: AsyncSession, *where, oldest_first) -> list[tuple[Post, Workspace]]:
    """Posts waiting for approval in installed workspaces, those waiting longest first (so the ones due are never
    held back behind a batch of ones that are not)."""
    rows = await session.execute(
        select(Post, Workspace).join(Workspace, Workspace.id == Post.workspace_id)
        .where(Post.status == PostStatus.PENDING_APPROVAL, Workspace.uninstalled_at.is_(None), *where)
        .order_by(oldest_first, Post.id).limit(BATCH))
    return [(post, workspace) for post, workspace in rows]


async def claim_reminders(session: AsyncSession, now: datetime) -> list[Reminder]:
    """The reminders due now, each claimed by this process (committed before anything is sent)."""
    found = await _waiting(session, Post.review_ts.is_not(None), Post.reminders_sent < Workspace.approval_reminders_max,
                           oldest_first=func.coalesce(Post.reminded_at, Post.submitted_at, Post.created_at))
    claimed = []
    for post, workspace in found:
        since = post.reminded_at or post.submitted_at or post.created_at
        if since + timedelta(hours=workspace.approval_reminder_hours or 4) > now or overdue(post, workspace, now):
            continue
        done = await session.execute(
            update(Post).where(Post.id == post.id, Post.status == PostStatus.PENDING_APPROVAL,
                               Post.reminders_sent == post.reminders_sent)
            .values(reminders_sent=post.reminders_sent + 1, reminded_at=now)
            .execution_options(synchronize_session=False))
        if done.rowcount == 1:
            claimed.append(Reminder(post.id, post.workspace_id, post.reminders_sent + 1,
                                    workspace.approval_reminders_max, now - (post.submitted_at or post.created_at)))
    await session.commit()
    return claimed


async def claim_expiries(session: AsyncSession, now: datetime) -> list[int]:
    """The posts whose time passed by more than the grace period while they waited: expired by this process, with
    an audit entry each (committed before anyone is told)."""
    found = await _waiting(session, Post.scheduled_at.is_not(None), Post.scheduled_at <= now,
                           oldest_first=Post.scheduled_at)
    expired = []
    for post, workspace in found:
        if not overdue(post, workspace, now):
            continue
        done = await session.execute(
            update(Post).where(Post.id == post.id, Post.status == PostStatus.PENDING_APPROVAL)
            .values(status=PostStatus.EXPIRED, updated_at=now).execution_options(synchronize_session=False))
        if done.rowcount == 1:
            await audit.record_post(session, post, audit.PICMIM, audit.JOB, "expired",
                                    {"status": ["pending_approval", "expired"],
                                     "time (UTC)": post.scheduled_at.strftime("%Y-%m-%d %H:%M")}, at=now)
            expired.append(post.id)
    await session.commit()
    return expired


async def resubmit(session: AsyncSession, post: Post, when: datetime, now: datetime, *, actor: str | None = None,
                   source: str = audit.MODAL) -> None:
    """An expired post rescheduled to `when` (UTC): it waits for approval again, as a new version (approvals given
    before it expired were for another time), with its reminders counted afresh. The caller commits."""
    moved = await session.execute(
        update(Post).where(Post.id == post.id, Post.status == PostStatus.EXPIRED)
        .values(status=PostStatus.PENDING_APPROVAL, scheduled_at=when, submitted_at=now, reminders_sent=0,
                reminded_at=None, version=func.coalesce(Post.version, 1) + 1, updated_at=now)
        .execution_options(synchronize_session=False))
    if moved.rowcount != 1:
        raise QueueError("This post changed meanwhile; it can no longer be rescheduled here.")
    await audit.record_post(session, post, actor, source, "rescheduled",
                            {"status": ["expired", "pending_approval"],
                             "time (UTC)": [post.scheduled_at.strftime("%Y-%m-%d %H:%M") if post.scheduled_at
                                            else None, when.strftime("%Y-%m-%d %H:%M")]}, at=now)
