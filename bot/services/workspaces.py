"""Workspaces: the Slack teams Picmim serves."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.storage.models import Workspace, utcnow


async def ensure_workspace(session: AsyncSession, team_id: str, enterprise_id: str | None = None) -> Workspace:
    """The workspace row for a team, created on first sight (and re-opened after a reinstall)."""
    workspace = await session.scalar(select(Workspace).where(Workspace.team_id == team_id))
    if workspace is None:
        try:
            async with session.begin_nested():
                workspace = Workspace(team_id=team_id, enterprise_id=enterprise_id)
                session.add(workspace)
        except IntegrityError:  # another request created it first
            workspace = await session.scalar(select(Workspace).where(Workspace.team_id == team_id))
    elif workspace.uninstalled_at is not None:
        workspace.uninstalled_at = None
    return workspace


async def mark_uninstalled(session: AsyncSession, team_id: str) -> None:
    await session.execute(update(Workspace).where(Workspace.team_id == team_id).values(uninstalled_at=utcnow()))


MANAGER_POLICIES = ("members", "admins", "list")


def set_managers(workspace: Workspace, policy: str, user_ids: list[str]) -> None:
    """Who may connect, reconnect and disconnect accounts (everyone else may still look)."""
    if policy not in MANAGER_POLICIES:
        raise ValueError(f"unknown policy {policy!r}")
    workspace.managers_policy = policy
    workspace.manager_user_ids = sorted(set(user_ids)) if policy == "list" else []
