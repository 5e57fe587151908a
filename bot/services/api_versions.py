"""Warnings ahead of the end of a platform API version Picmim speaks (bot/platforms/registry.py: api_version).

LinkedIn retires each `LinkedIn-Version` about a year after its release and Meta each Graph version about two
years after; once retired, every call fails. So WARN_DAYS_AHEAD (60) days before a version's end each workspace
with a connection on a platform speaking it gets one message in its alerts channel (else a DM to whoever made the
workspace's first such connection), saying what to do: set META_GRAPH_VERSION to a newer version, or update Picmim.

It reuses token health's alert ledger and Slack sender: an `alerts` row per (workspace, API version) with the cause
API_VERSION_ALERT, no connection, and the version's key as its occurrence; it is never resolved, so it is sent once.
Two processes ticking at once: the row is written under the workspace row's write lock (a no-op UPDATE, which
PostgreSQL and SQLite both serialize), and its message is claimed before it is sent (`shown` "sending").
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.platforms import registry
from bot.services.token_health import AlertNote, AlertSender
from bot.storage.models import Alert, Connection, Workspace, utcnow

log = logging.getLogger(__name__)

API_VERSION_ALERT = "api_version"


class VersionWarnings:
    """`tick()` raises the warnings now due and delivers those not delivered yet; returns the alerts sent."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], sender: AlertSender, graph_version: str,
                 platforms: Collection[str], clock: Callable[[], datetime] = utcnow):
        self.sessions, self.sender, self.graph_version = sessions, sender, graph_version
        self.platforms, self.clock = set(platforms), clock

    def due(self) -> dict[registry.ApiVersion, list[registry.PlatformInfo]]:
        today = self.clock().date()
        return {v: ps for v, ps in registry.api_versions(self.graph_version, self.platforms).items()
                if v.ends is not None and (v.ends - today).days <= registry.WARN_DAYS_AHEAD}

    async def tick(self) -> list[int]:
        for version, platforms in self.due().items():
            await self._raise(version, platforms)
        return await self._deliver()

    async def _raise(self, version: registry.ApiVersion, platforms: list[registry.PlatformInfo]) -> None:
        keys = [p.key for p in platforms]
        async with self.sessions() as session:
            workspaces = (await session.scalars(
                select(Workspace.id).distinct().join(Connection, Connection.workspace_id == Workspace.id)
                .where(Workspace.uninstalled_at.is_(None), Connection.platform.in_(keys))
                .where(~select(Alert.id).where(Alert.workspace_id == Workspace.id, Alert.cause == API_VERSION_ALERT,
                                               Alert.occurrence == version.key).exists()))).all()
            await session.commit()
            for workspace_id in workspaces:
                # The workspace row's write lock serializes writers; then look again before writing.
                await session.execute(update(Workspace).where(Workspace.id == workspace_id)
                                      .values(updated_at=Workspace.updated_at)
                                      .execution_options(synchronize_session=False))
                exists = await session.scalar(select(Alert.id).where(
                    Alert.workspace_id == workspace_id, Alert.cause == API_VERSION_ALERT,
                    Alert.occurrence == version.key))
                if exists is None:
                    session.add(Alert(workspace_id=workspace_id, connection_id=None, cause=API_VERSION_ALERT,
                                      occurrence=version.key, sent_at=self.clock(),
                                      details=_details(version, platforms, self.clock())))
                    log.info("API version warning for workspace %s: %s", workspace_id, version.describe())
                await session.commit()

    async def _deliver(self) -> list[int]:
        sent: list[int] = []
        async with self.sessions() as session:
            rows = (await session.execute(
                select(Alert, Workspace).join(Workspace, Workspace.id == Alert.workspace_id)
                .where(Alert.cause == API_VERSION_ALERT, Alert.shown.is_(None), Alert.resolved_at.is_(None),
                       Workspace.uninstalled_at.is_(None)).order_by(Alert.id))).all()
            await session.commit()
            for alert, workspace in rows:
                claimed = await session.execute(
                    update(Alert).where(Alert.id == alert.id, Alert.shown.is_(None)).values(shown="sending")
                    .execution_options(synchronize_session=False))
                await session.commit()
                if claimed.rowcount != 1:
                    continue  # another process is sending it
                keys = alert.details.get("platform_keys") or []
                dm_user = await session.scalar(
                    select(Connection.connected_by).where(Connection.workspace_id == workspace.id,
                                                          Connection.platform.in_(keys)).order_by(Connection.id))
                await session.commit()
                delivered = await self.sender.send(note(alert, workspace, dm_user))
                values = ({"shown": None} if delivered is None else
                          {"shown": "open", "channel_id": delivered.channel_id, "message_ts": delivered.message_ts})
                await session.execute(update(Alert).where(Alert.id == alert.id).values(**values)
                                      .execution_options(synchronize_session=False))
                await session.commit()
                if delivered is not None:
                    sent.append(alert.id)
        return sent


def _details(version: registry.ApiVersion, platforms: list[registry.PlatformInfo], now: datetime) -> dict:
    return {"platform": version.api, "display_name": version.version, "api": version.api,
            "version": version.version, "ends": version.ends.isoformat() if version.ends else None,
            "exact": version.exact, "until": version.until(), "setting": version.setting,
            "days": (version.ends - now.date()).days if version.ends else None,
            "platforms": [p.name for p in platforms], "platform_keys": [p.key for p in platforms]}


def note(alert: Alert, workspace: Workspace, dm_user_id: str | None) -> AlertNote:
    return AlertNote(alert_id=alert.id, team_id=workspace.team_id, enterprise_id=workspace.enterprise_id,
                     channel_id=workspace.alerts_channel_id, message_ts=alert.message_ts, dm_user_id=dm_user_id,
                     connection_id=None, cause=alert.cause, occurrence=alert.occurrence,
                     timezone=workspace.default_timezone or "UTC", details=dict(alert.details or {}),
                     sent_at=alert.sent_at)
