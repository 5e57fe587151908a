"""Read-only views of a workspace's connected accounts."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.storage.models import Account, Connection, ConnectionStatus


@dataclass(frozen=True)
class PlatformSummary:
    platform: str
    accounts: int
    healthy: int  # accounts whose connection is active

    @property
    def needs_attention(self) -> int:
        return self.accounts - self.healthy


async def summary(session: AsyncSession, workspace_id: int) -> list[PlatformSummary]:
    rows = await session.execute(
        select(Account.platform, Connection.status)
        .outerjoin(Connection, Account.connection_id == Connection.id)
        .where(Account.workspace_id == workspace_id, Account.active.is_(True))
    )
    counts: dict[str, list[int]] = {}
    for platform, status in rows:
        total_healthy = counts.setdefault(platform, [0, 0])
        total_healthy[0] += 1
        total_healthy[1] += status == ConnectionStatus.ACTIVE
    return [PlatformSummary(p, n, h) for p, (n, h) in sorted(counts.items())]
