"""What the decisions on a post say: the decision lines, a version's approvers, each post's review.

`/picmim queue` shows the reviews; the review card in `approvals` shows the lines and approvers. This
module imports neither, so the queue no longer needs the approvals module (whose review card needs
composing, which needs the queue).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.storage.models import ApprovalDecision, Decision, Post, PostStatus, Workspace


@dataclass(frozen=True)
class DecisionLine:
    user_id: str
    decision: Decision
    comment: str | None
    at: datetime
    version: int
    source: str


@dataclass(frozen=True)
class ReviewSummary:
    """A post's review as `/picmim queue` shows it: the approvals of its current version and every decision."""

    version: int
    needed: int
    approvers: tuple[str, ...]
    decisions: tuple[DecisionLine, ...]


async def decisions_of(session: AsyncSession, post_ids: Iterable[int]) -> dict[int, list[DecisionLine]]:
    """Every decision on these posts, oldest first."""
    ids = list(post_ids)
    if not ids:
        return {}
    rows = await session.scalars(select(ApprovalDecision).where(ApprovalDecision.post_id.in_(ids))
                                 .order_by(ApprovalDecision.created_at, ApprovalDecision.id))
    found: dict[int, list[DecisionLine]] = {}
    for row in rows:
        found.setdefault(row.post_id, []).append(DecisionLine(row.user_id, row.decision, row.comment, row.created_at,
                                                              row.post_version, row.source))
    return found


def approvers_of(lines: Sequence[DecisionLine], version: int) -> tuple[str, ...]:
    """Who approves this version now (in the order they approved), after any withdrawals."""
    latest: dict[str, Decision] = {}
    for line in lines:
        if line.version == version and line.decision in (Decision.APPROVE, Decision.WITHDRAW):
            latest.pop(line.user_id, None)
            latest[line.user_id] = line.decision
    return tuple(user for user, decision in latest.items() if decision is Decision.APPROVE)


async def summaries(session: AsyncSession, workspace: Workspace, posts: Sequence[Post]) -> dict[int, ReviewSummary]:
    """The review of each post that has been reviewed or waits for it."""
    found = await decisions_of(session, [p.id for p in posts])
    needed = workspace.approvals_needed or 1
    return {p.id: ReviewSummary(p.version, needed, approvers_of(found.get(p.id, []), p.version),
                                tuple(found.get(p.id, ())))
            for p in posts if p.id in found or p.status is PostStatus.PENDING_APPROVAL}
