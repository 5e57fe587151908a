"""What App Home shows: what needs someone (broken connections, posts waiting for the viewer's approval, posts
that failed, the viewer's own posts not approved in time) and what is coming up. Free of Slack: the handler finds
out who the viewer is.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.platforms import registry
from bot.platforms.base import Adapter
from bot.services.connections import ConnectionSummary, summaries
from bot.services.reviews import approvers_of, decisions_of
from bot.storage.models import (
    Account,
    ConnectionStatus,
    Decision,
    Post,
    PostStatus,
    PostTarget,
    TargetStatus,
    Workspace,
)

BROKEN = (ConnectionStatus.EXPIRING, ConnectionStatus.EXPIRED, ConnectionStatus.REVOKED, ConnectionStatus.ERROR)
QUEUED = (PostStatus.SCHEDULED, PostStatus.PENDING_APPROVAL)
FAILED_FOR = timedelta(days=14)  # a failure older than this is history, not something to act on
SHOWN = 5  # items per Home section; the rest are counted


def account_label(platform: str, name: str) -> str:
    """The one "Platform · Account" a person reads (not escaped)."""
    info = registry.get(platform)
    return f"{info.name if info else platform} · {name}"


@dataclass(frozen=True)
class Waiting:
    """A post waiting for the viewer's approval."""

    post_id: int
    author: str
    text: str
    scheduled_at: datetime | None
    accounts: tuple[str, ...]  # "Platform · Account"
    card_channel_id: str | None = None  # where its review card is


@dataclass(frozen=True)
class Failure:
    """One account's part of a post that failed, with what the platform said."""

    target_id: int
    post_id: int
    account: str  # "Platform · Account"
    text: str
    error: str | None


@dataclass(frozen=True)
class Expired:
    """The viewer's own post that was not approved before its time (Reschedule sends it for approval again)."""

    post_id: int
    text: str
    scheduled_at: datetime | None
    accounts: tuple[str, ...]  # "Platform · Account"


@dataclass(frozen=True)
class Upcoming:
    post_id: int
    author: str
    text: str
    when: datetime  # UTC: its time, or when it was accepted for "as soon as possible" (for ordering)
    accounts: tuple[str, ...]  # "Platform · Account"
    waiting_for_approval: bool
    timed: bool = True  # False: it goes out as soon as it can (approved, or its accounts work again)


@dataclass(frozen=True)
class Dashboard:
    connections: list[ConnectionSummary]
    broken: list[ConnectionSummary]
    waiting: list[Waiting]
    waiting_total: int
    failed: list[Failure]
    failed_total: int
    upcoming: list[Upcoming]
    upcoming_total: int
    expired: list[Expired] = field(default_factory=list)
    expired_total: int = 0

    @property
    def needs_attention(self) -> bool:
        return bool(self.broken or self.waiting or self.failed or self.expired)


async def _accounts(session: AsyncSession, post_ids: list[int]) -> dict[int, tuple[str, ...]]:
    if not post_ids:
        return {}
    rows = await session.execute(
        select(PostTarget.post_id, Account.platform, Account.name).join(Account, Account.id == PostTarget.account_id)
        .where(PostTarget.post_id.in_(post_ids), PostTarget.status != TargetStatus.CANCELLED)
        .order_by(PostTarget.id))
    found: dict[int, list[str]] = {}
    for post_id, platform, name in rows:
        found.setdefault(post_id, []).append(account_label(platform, name))
    return {k: tuple(v) for k, v in found.items()}


async def waiting_for(session: AsyncSession, workspace: Workspace, user_id: str) -> list[Waiting]:
    """Posts waiting for approval that this approver may still decide on: not their own (unless authors may
    approve their own), and not already approved by them in this version. The caller knows they review."""
    query = select(Post).where(Post.workspace_id == workspace.id, Post.status == PostStatus.PENDING_APPROVAL)
    if not workspace.allow_self_approval:
        query = query.where(Post.author_user_id != user_id)
    posts = list(await session.scalars(query.order_by(func.coalesce(Post.scheduled_at, Post.created_at), Post.id)))
    decided = await decisions_of(session, [p.id for p in posts])
    posts = [p for p in posts if user_id not in approvers_of(decided.get(p.id, []), p.version)
             and not _declined(decided.get(p.id, []), p.version, user_id)]
    accounts = await _accounts(session, [p.id for p in posts])
    return [Waiting(p.id, p.author_user_id, p.text or "", p.scheduled_at, accounts.get(p.id, ()), p.review_channel_id)
            for p in posts]


def _declined(lines, version: int, user_id: str) -> bool:
    """This approver already rejected or asked for changes on this version."""
    return any(line.user_id == user_id and line.version == version
               and line.decision in (Decision.REJECT, Decision.REQUEST_CHANGES) for line in lines)


async def failures(session: AsyncSession, workspace_id: int, now: datetime) -> list[Failure]:
    """Accounts' parts of recent posts that failed, newest first (a Retry sends one again)."""
    rows = await session.execute(
        select(PostTarget.id, Post.id, Account.platform, Account.name, Post.text, PostTarget.last_error)
        .join(Post, Post.id == PostTarget.post_id).join(Account, Account.id == PostTarget.account_id)
        .where(Post.workspace_id == workspace_id, PostTarget.status == TargetStatus.FAILED,
               Post.updated_at >= now - FAILED_FOR)
        .order_by(Post.updated_at.desc(), PostTarget.id))
    return [Failure(target_id, post_id, account_label(platform, name), text or "", error)
            for target_id, post_id, platform, name, text, error in rows]


async def expired_for(session: AsyncSession, workspace_id: int, author: str, now: datetime) -> list[Expired]:
    """This author's posts that expired waiting for approval lately, newest first (older ones are history, as for
    failures)."""
    posts = list(await session.scalars(
        select(Post).where(Post.workspace_id == workspace_id, Post.author_user_id == author,
                           Post.status == PostStatus.EXPIRED, Post.updated_at >= now - FAILED_FOR)
        .order_by(Post.updated_at.desc(), Post.id.desc())))
    accounts = await _accounts(session, [p.id for p in posts])
    return [Expired(p.id, p.text or "", p.scheduled_at, accounts.get(p.id, ())) for p in posts]


async def upcoming(session: AsyncSession, workspace_id: int, limit: int = 50) -> tuple[list[Upcoming], int]:
    """The next queued posts, soonest first, and how many are queued in all."""
    due = func.coalesce(Post.scheduled_at, Post.created_at)
    where = (Post.workspace_id == workspace_id, Post.status.in_(QUEUED))
    total = await session.scalar(select(func.count()).select_from(Post).where(*where)) or 0
    posts = list(await session.scalars(select(Post).where(*where).order_by(due, Post.id).limit(limit)))
    accounts = await _accounts(session, [p.id for p in posts])
    return [Upcoming(p.id, p.author_user_id, p.text or "", p.scheduled_at or p.created_at, accounts.get(p.id, ()),
                     p.status is PostStatus.PENDING_APPROVAL, p.scheduled_at is not None) for p in posts], total


async def dashboard(session: AsyncSession, adapters: Mapping[str, Adapter], workspace: Workspace, user_id: str,
                    reviews: bool, now: datetime) -> Dashboard:
    """Home's contents for one viewer (`reviews`: they are one of the approvers)."""
    found = await summaries(session, adapters, workspace)
    broken = [s for s in found if s.status in BROKEN]
    waiting = await waiting_for(session, workspace, user_id) if reviews else []
    failed = await failures(session, workspace.id, now)
    coming, total = await upcoming(session, workspace.id, SHOWN)
    expired = await expired_for(session, workspace.id, user_id, now)
    return Dashboard(found, broken, waiting[:SHOWN], len(waiting), failed[:SHOWN], len(failed), coming, total,
                     expired[:SHOWN], len(expired))
