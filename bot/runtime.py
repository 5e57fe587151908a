"""`Runtime`: everything a handler, job or web route may need, built once per process by bot.app.

Apart from bot.app so the modules that use it (web.py, jobs.py) never import the module that builds them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

import aiohttp
import httpx
from aiohttp import web
from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.config import Settings
from bot.metrics import Metrics
from bot.platforms.base import Adapter


class SlackAuthorization(Protocol):
    """The one-workspace authorization (bot.app.SingleWorkspaceAuthorization), as the server uses it at start."""

    problem: str | None  # why Slack is not ready (it has not accepted the bot token yet), None once it has

    async def verify(self) -> None: ...

    async def close(self) -> None: ...


@dataclass
class Runtime:
    """Everything a handler or job may need, built once per process."""

    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    http: httpx.AsyncClient
    adapters: dict[str, Adapter]  # platform key -> adapter, for the platforms set up on this install
    bolt: AsyncApp
    web: web.Application
    slack_authorization: SlackAuthorization | None = None  # one-workspace mode only
    slack_session: aiohttp.ClientSession | None = None  # every Slack Web API client's connections (one per process)
    # Set by the server once started, for /readyz: the job scheduler and, in Socket Mode, the socket handler.
    scheduler: Any = None
    socket_handler: Any = None
    socket_mode: Any = None  # bot.socket_mode.SocketMode: the connection kept up in the background
    publisher: Any = None  # the scheduler's Publisher: told to stop on SIGTERM
    metrics: Metrics = field(default_factory=Metrics)  # this process's own registry (GET /metrics)

    async def slack_client(self, team_id: str, enterprise_id: str | None = None) -> AsyncWebClient | None:
        """A Web API client with the bot token of a workspace, for work outside a Slack request."""
        if self.slack_authorization is not None:
            return self.bolt.client
        bot = await self.bolt.installation_store.async_find_bot(enterprise_id=enterprise_id, team_id=team_id)
        if bot is None or not bot.bot_token:
            return None
        return AsyncWebClient(token=bot.bot_token, base_url=self.settings.slack.api_url,
                              retry_handlers=self.bolt.client.retry_handlers, session=self.slack_session)

    async def close(self) -> None:
        if self.slack_authorization is not None:
            await self.slack_authorization.close()
        await self.http.aclose()
        if self.slack_session is not None:
            await self.slack_session.close()
        await self.engine.dispose()
