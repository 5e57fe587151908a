"""Socket Mode: the connection to Slack, kept up in the background so the jobs never wait for it.

slack_sdk's own `connect()` retries forever, refused token or not, before returning; here the app token is first
shown to Slack (apps.connections.open): a refused one stops the process with one line, an unreachable Slack is
tried again with growing waits while the server and its jobs run, and `problem` says why it is not connected."""

from __future__ import annotations

import asyncio
import contextlib
import logging

import aiohttp
from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError

from bot.slack_errors import error_of, unavailable

log = logging.getLogger(__name__)

RETRY_FIRST, RETRY_MAX = 1.0, 60.0  # seconds between tries while Slack cannot be reached
ASK_SECONDS = 10.0  # a Slack that does not answer apps.connections.open in this long counts as unreachable
CONNECT_SECONDS = 30.0  # a websocket that does not open in this long is tried again with a fresh URL


class AppTokenRefused(Exception):
    """Slack refused SLACK_APP_TOKEN: the process cannot receive anything, so it stops with this sentence."""

    def __init__(self, error: str):
        super().__init__(f"Slack refused SLACK_APP_TOKEN ({error}); make an app-level token with the "
                         "connections:write scope under Basic Information → App-Level Tokens, and check that Socket "
                         "Mode is on for the app.")


class SocketMode:
    """The Socket Mode connection: `start()` at start-up, `status()` for /readyz, and `refused`, which gets the
    sentence to stop with when Slack, answering at last, refuses the app token."""

    def __init__(self, bolt: AsyncApp, app_token: str):
        self.handler = AsyncSocketModeHandler(bolt, app_token)
        self.app_token = app_token
        self.problem: str | None = "connecting"  # why it is not connected (None once it has been)
        self.refused: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        self._trying: asyncio.Task | None = None

    async def start(self) -> None:
        """Connect now if Slack lets us; a refused token raises AppTokenRefused; an unreachable Slack is left to
        the background (with a warning line), and this returns at once."""
        if await self._connect_once():
            log.info("Connected to Slack over Socket Mode")
            return
        log.warning("Socket Mode is not connected: %s. Picmim keeps trying with growing waits; its jobs run "
                    "meanwhile.", self.problem)
        self._trying = asyncio.create_task(self._keep_trying())

    async def status(self) -> str:
        """"ok", or why Slack cannot send events to this process."""
        if await self.handler.client.is_connected():
            return "ok"
        return f"Socket Mode not connected: {self.problem or 'reconnecting'}"

    async def _connect_once(self) -> bool:
        try:
            async with asyncio.timeout(ASK_SECONDS):
                response = await self.handler.client.web_client.apps_connections_open(app_token=self.app_token)
        except (SlackApiError, OSError, aiohttp.ClientError, TimeoutError) as exc:
            passing = unavailable(exc)
            if passing is None:
                raise AppTokenRefused(error_of(exc)) from None
            self.problem = f"cannot reach Slack ({passing})"
            return False
        self.handler.client.wss_uri = response["url"]
        try:
            # slack_sdk's connect() would try this URL forever: bounded here, the next try gets a fresh URL.
            async with asyncio.timeout(CONNECT_SECONDS):
                await self.handler.connect_async()
        except TimeoutError:
            self.handler.client.wss_uri = None
            self.problem = "its websocket did not open"
            return False
        self.problem = None
        return True

    async def _keep_trying(self) -> None:
        delay = RETRY_FIRST
        while True:
            await asyncio.sleep(delay)
            delay = min(delay * 2, RETRY_MAX)
            try:
                if await self._connect_once():
                    log.info("Connected to Slack over Socket Mode")
                    return
            except AppTokenRefused as refused:
                self.refused.set_result(str(refused))
                return

    async def close(self) -> None:
        if self._trying is not None:
            self._trying.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._trying
        await self.handler.close_async()
