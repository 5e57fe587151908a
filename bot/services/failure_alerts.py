"""Failures reach the team: a post that fails or is left unconfirmed on an account is also announced in the
workspace's alerts channel, once per failure, besides its own status message.

Once is kept by the alerts ledger (the Alert table): each failure takes the slot (connection, "post_failed",
"target 12 · try 1") before it is announced, and a second process (or a second look at the same post) finds the
slot taken. The row is written already resolved, so token health never takes it for a broken connection's open
alert nor updates its message. A Retry that fails again is a new failure: its slot counts the target's own
Retries (PostTarget.retries), so two accounts of the same name on one post, or an account renamed meanwhile,
never share or lose a slot.

Free of Slack and HTTP details.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.services.analytics_catalogue import platform_name
from bot.storage.models import Account, Alert, Post, PostTarget, TargetStatus, Workspace

CAUSE = "post_failed"
PREVIEW_MAX = 120


@dataclass(frozen=True)
class FailureNote:
    """One failure to announce, as the alert shows it."""

    workspace_id: int
    channel_id: str  # the alerts channel
    author_user_id: str
    target_id: int
    unconfirmed: bool
    where: str  # "X · Acme Marketing"
    reason: str | None
    preview: str
    post_channel_id: str | None  # where the post's status message is
    post_message_ts: str | None


def _preview(text: str) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= PREVIEW_MAX else text[:PREVIEW_MAX - 1] + "…"


def occurrence(target: PostTarget) -> str:
    """The failure's slot in the ledger: the target, and which try (1 + its Retries) failed."""
    return f"target {target.id} · try {target.retries + 1}"


async def new_failures(session: AsyncSession, post_id: int, now: datetime) -> list[FailureNote]:
    """The post's failures not announced yet, each taking its slot in the ledger (committed)."""
    post = await session.get(Post, post_id)
    workspace = await session.get(Workspace, post.workspace_id) if post is not None else None
    if workspace is None or not workspace.alerts_channel_id:
        await session.commit()
        return []  # no alerts channel: the post's own message is where the author sees it
    rows = (await session.execute(
        select(PostTarget, Account).join(Account, Account.id == PostTarget.account_id)
        .where(PostTarget.post_id == post_id,
               PostTarget.status.in_([TargetStatus.FAILED, TargetStatus.UNCONFIRMED]))
        .order_by(PostTarget.id))).all()
    notes = []
    for target, account in rows:
        where = f"{platform_name(account.platform)} · {account.name}"
        if not await _take_slot(session, workspace.id, account.connection_id, occurrence(target), now,
                                {"post_id": post_id, "target_id": target.id, "status": target.status.value}):
            continue
        text = target.variant_text if target.variant_text is not None else post.text
        notes.append(FailureNote(workspace.id, workspace.alerts_channel_id, post.author_user_id, target.id,
                                 target.status is TargetStatus.UNCONFIRMED, where, target.last_error,
                                 _preview(text), post.channel_id, post.message_ts))
    await session.commit()
    return notes


async def _take_slot(session: AsyncSession, workspace_id: int, connection_id: int | None, slot: str,
                     now: datetime, details: dict) -> bool:
    # Looked up first whatever the connection: an account reconnected through another connection (or left with
    # none, where the unique key does not hold) keeps its target's slots. The unique key settles two processes.
    taken = await session.scalar(select(Alert.id).where(Alert.workspace_id == workspace_id, Alert.cause == CAUSE,
                                                        Alert.occurrence == slot))
    if taken is not None:
        return False
    try:
        async with session.begin_nested():
            session.add(Alert(workspace_id=workspace_id, connection_id=connection_id, cause=CAUSE,
                              occurrence=slot, details=details, sent_at=now, resolved_at=now,
                              shown="resolved"))
    except IntegrityError:
        return False  # announced already (by this process or another)
    return True
