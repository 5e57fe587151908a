"""Sharing `/picmim stats` in a channel: each Share button shares once (its one-time nonce is recorded first, and
released again when the message could not be posted), and only the workspace's own accounts and posts."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.services import analytics
from bot.storage.models import Account, SharedReport


@dataclass(frozen=True)
class Share:
    """What to post: one post's figures, or the accounts' report; neither when they are gone."""

    post: analytics.PostFigures | None = None
    report: analytics.Report | None = None


class AlreadyShared(Exception):
    """The button was pressed before and its share went out."""


async def share(session: AsyncSession, workspace_id: int, user_id: str, channel_id: str, nonce: str, days: int,
                now: datetime, target_id: int | None = None, account_ids: Sequence[int] | None = None) -> Share:
    """Record the share (raises AlreadyShared for a nonce used before) and build what it posts. The caller
    commits, and calls `unshare` when the message could not be posted."""
    try:
        async with session.begin_nested():
            session.add(SharedReport(workspace_id=workspace_id, nonce=nonce, channel_id=channel_id, user_id=user_id))
    except IntegrityError:
        raise AlreadyShared() from None
    start = now - timedelta(days=days)
    if target_id is not None:
        return Share(post=await analytics.post_report(session, workspace_id, target_id, start, now))
    owned = list(await session.scalars(select(Account.id).where(
        Account.workspace_id == workspace_id, Account.id.in_(list(account_ids or [])))))
    if account_ids and not owned:
        return Share()
    return Share(report=await analytics.build_report(session, workspace_id, start, now, account_ids=owned or None))


async def unshare(session: AsyncSession, nonce: str) -> None:
    """Not shared after all: the button may be pressed again. The caller commits."""
    await session.execute(delete(SharedReport).where(SharedReport.nonce == nonce))
