"""Builds the running product: the bolt app, the web app, storage and the shared HTTP client."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time

import aiohttp
from aiohttp import web
from slack_bolt.async_app import AsyncApp
from slack_bolt.authorization import AuthorizeResult
from slack_bolt.authorization.async_authorize import AsyncAuthorize, AsyncInstallationStoreAuthorize
from slack_bolt.oauth.async_oauth_settings import AsyncOAuthSettings
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy.ext.asyncio import AsyncEngine

from bot import bolt_body, handlers
from bot import web as web_routes
from bot.config import Settings
from bot.http import build_client
from bot.metrics import Metrics
from bot.platforms.registry import build_adapters
from bot.runtime import Runtime
from bot.services import outbox
from bot.slack_errors import error_of, unavailable
from bot.storage import crypto, db
from bot.storage.slack_stores import build_stores

log = logging.getLogger(__name__)

# The bot scopes Picmim asks Slack for (manifest.yml lists the same; README says why each is there).
BOT_SCOPES = (
    "commands",           # /picmim
    "chat:write",         # post status, review cards, alerts and digests
    "chat:write.public",  # post into public alert/digest channels without being invited first
    "files:read",         # download attachments given in the compose modal
    "files:write",        # upload digest charts
    "reactions:read",     # approve or reject by reacting to a review card
    "users:read",         # each user's time zone, to show and read schedule times
    "usergroups:read",    # approvers given as a user group
    "im:write",           # DM the author or the person who connected an account
    "im:history",         # a CSV file of posts shared in Picmim's direct messages (bulk import)
)


def resolve_secret_key(settings: Settings) -> str | None:
    """Install the encryption key. Returns a message to show when a new key file was created."""
    if settings.secret_keys:
        crypto.configure(settings.secret_keys)
        return None
    key, created = crypto.load_or_create_key_file(settings.data_dir)
    crypto.configure([key])
    if created:
        path = settings.data_dir.resolve() / crypto.KEY_FILE_NAME
        return (f"Created a new encryption key in {path} (readable by you only). Keep it with the database: "
                "without it the stored tokens cannot be read. Set PICMIM_SECRET_KEY to use your own.")
    return None


async def prepare_storage(settings: Settings, migrated: list[str | None] | None = None) -> AsyncEngine:
    """Key, reachable database, current schema: or a DatabaseError/SecretKeyError that says why not.
    `migrated`, when given, receives the schema revision found before migrating (None: it was created)."""
    db.check_location(settings.database_url)
    notice = resolve_secret_key(settings)
    if notice:
        log.warning(notice)
    engine = db.create_engine(settings.database_url)
    try:
        await db.ping(engine)
        before = await db.migrate(engine)
        if migrated is not None:
            migrated.append(before)
        await install_client_keys(settings, engine)
    except Exception:
        await engine.dispose()
        raise
    return engine


async def install_client_keys(settings: Settings, engine: AsyncEngine) -> None:
    """Bluesky's client authentication keys: BLUESKY_CLIENT_KEY, else the stored ones (made on first start)."""
    from bot.platforms import bluesky_keys
    from bot.storage import client_keys

    if settings.bluesky_client_key:
        bluesky_keys.install(bluesky_keys.parse_keys(settings.bluesky_client_key))
        return
    jwks, created = await client_keys.load_or_create(db.session_factory(engine), "bluesky")
    bluesky_keys.install(bluesky_keys.parse_keys(json.dumps(jwks)))
    if created:
        log.info("Made Picmim's Bluesky client key (stored encrypted in the database).")


def build_slack_client(settings: Settings, metrics: Metrics | None = None,
                       session: aiohttp.ClientSession | None = None) -> AsyncWebClient:
    """The Web API client. `session`: the process's one aiohttp session for Slack, which bolt's per-request clients
    share too (without it slack_sdk opens a session, and a TLS connection, for every call)."""
    client = AsyncWebClient(token=settings.slack.bot_token, base_url=settings.slack.api_url, session=session)
    if metrics is not None:  # first: it sees every error, even one another handler retries
        client.retry_handlers.insert(0, metrics.slack_error_counter())
    client.retry_handlers.append(AsyncRateLimitErrorRetryHandler(max_retry_count=2))
    return client


class SingleWorkspaceAuthorization:
    """One workspace, one bot token: Slack's auth.test is asked once, at start, not on the first
    user's request (bolt's default would do it there, on the ack path).

    A Slack that cannot be reached at start does not stop the server: requests are served with the token alone
    (no Slack call before ack), auth.test is asked again in the background with growing waits, and `problem`
    says why Slack is not ready until it answers."""

    RETRY_FIRST, RETRY_MAX = 1.0, 60.0  # seconds between tries of auth.test while Slack cannot be reached
    ASK_SECONDS = 10.0

    def __init__(self, client: AsyncWebClient, token: str):
        self.client, self.token = client, token
        self.result: AuthorizeResult | None = None
        self.problem: str | None = "not asked yet"
        self._asking: asyncio.Task | None = None

    async def verify(self) -> None:
        """Ask Slack who the token belongs to. A refused token is fatal with the reason; an unreachable
        Slack is logged once and asked again in the background."""
        error = await self._ask()
        if error is not None:
            raise StartupError(f"Slack refused SLACK_BOT_TOKEN ({error}); copy the Bot User OAuth Token again "
                               "from OAuth & Permissions, or reinstall the app to the workspace.")
        if self.result is None:
            log.warning("Slack cannot be reached right now (%s); Picmim serves what it can and asks Slack again "
                        "in the background.", self.problem.removeprefix("unreachable (").removesuffix(")"))
            self._asking = asyncio.create_task(self._keep_asking())

    async def _ask(self) -> str | None:
        """auth.test once: sets `result` (or `problem`, while Slack cannot be reached); returns Slack's error
        when it refused the token."""
        try:
            async with asyncio.timeout(self.ASK_SECONDS):  # a silent network must not hold the start for long
                response = await self.client.auth_test(token=self.token)
        except (SlackApiError, OSError, aiohttp.ClientError, TimeoutError) as exc:
            passing = unavailable(exc)
            if passing is None:
                return error_of(exc)
            self.problem = f"unreachable ({passing})"
            return None
        self.result = AuthorizeResult.from_auth_test_response(auth_test_response=response, bot_token=self.token)
        self.problem = None
        return None

    async def _keep_asking(self) -> None:
        delay = self.RETRY_FIRST
        while self.result is None:
            await asyncio.sleep(delay)
            delay = min(delay * 2, self.RETRY_MAX)
            error = await self._ask()
            if error is not None:
                self.problem = f"refused by Slack ({error})"
                log.error("Slack refused SLACK_BOT_TOKEN (%s); copy the Bot User OAuth Token again from OAuth & "
                          "Permissions, or reinstall the app to the workspace, then restart Picmim.", error)
                return
        log.info("Slack answers again: the bot token is accepted.")

    async def authorize(self, enterprise_id: str | None = None, team_id: str | None = None) -> AuthorizeResult:
        if self.result is not None:
            return self.result
        # Slack has not answered auth.test yet: the token alone serves the request (who the bot is is only
        # known once Slack answers; nothing Picmim does needs it).
        return AuthorizeResult(enterprise_id=enterprise_id, team_id=team_id, bot_token=self.token)

    async def close(self) -> None:
        if self._asking is not None:
            self._asking.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._asking


class StoredInstallationAuthorize(AsyncAuthorize):
    """Many workspaces: bolt's authorize asks Slack (auth.test) on every request, before ack. When Slack cannot
    be reached, the stored installation alone serves the request instead of a 500, and Slack is not asked again
    on the ack path for a while (a timeout there would cost the ack)."""

    QUIET_SECONDS = 30.0

    def __init__(self, inner: AsyncAuthorize, installation_store):
        self.inner, self.installation_store = inner, installation_store
        self._unreachable_at: float | None = None

    async def __call__(self, *, context, enterprise_id, team_id, user_id, **actor) -> AuthorizeResult | None:
        if self._unreachable_at is None or time.monotonic() - self._unreachable_at >= self.QUIET_SECONDS:
            try:
                result = await self.inner(context=context, enterprise_id=enterprise_id, team_id=team_id,
                                          user_id=user_id, **actor)
                self._unreachable_at = None
                return result
            except (OSError, aiohttp.ClientError, TimeoutError) as exc:
                if self._unreachable_at is None:
                    log.warning("Slack cannot be reached (%s); requests are served with the stored installations "
                                "until it answers.", exc.__class__.__name__)
                self._unreachable_at = time.monotonic()
        bot = await self.installation_store.async_find_bot(enterprise_id=enterprise_id, team_id=team_id,
                                                           is_enterprise_install=context.is_enterprise_install)
        if bot is None or not bot.bot_token:
            return None
        return AuthorizeResult(enterprise_id=bot.enterprise_id, team_id=bot.team_id, bot_user_id=bot.bot_user_id,
                               bot_id=bot.bot_id, bot_token=bot.bot_token, bot_scopes=bot.bot_scopes)


class StartupError(Exception):
    """Stops the server at start with one sentence."""


def build_bolt_app(settings: Settings, engine: AsyncEngine, client: AsyncWebClient,
                   authorization: SingleWorkspaceAuthorization | None) -> AsyncApp:
    bolt_body.install()  # a command whose text says "payload" reaches its listener
    slack = settings.slack
    common = dict(
        client=client,
        signing_secret=slack.signing_secret or "",
        request_verification_enabled=True,  # bolt skips it by itself for Socket Mode envelopes
        raise_error_for_unhandled_request=False,
    )
    if slack.mode == "multi":
        installation_store, state_store = build_stores(slack.client_id, engine)
        oauth_settings = AsyncOAuthSettings(
            client_id=slack.client_id,
            client_secret=slack.client_secret,
            scopes=list(BOT_SCOPES),
            redirect_uri=settings.slack_redirect_uri,
            installation_store=installation_store,
            state_store=state_store,
            authorization_url=f"{slack.web_origin}/oauth/v2/authorize",
        )
        # What bolt would build itself from the store (with our client, for SLACK_API_URL), in a wrapper that
        # serves from the store while Slack cannot be reached.
        authorize = StoredInstallationAuthorize(AsyncInstallationStoreAuthorize(
            logger=logging.getLogger("slack_bolt.AsyncApp"), installation_store=installation_store,
            client_id=slack.client_id, client_secret=slack.client_secret, client=client,
            user_token_resolution=oauth_settings.user_token_resolution), installation_store)
        return AsyncApp(installation_store=installation_store, oauth_settings=oauth_settings, authorize=authorize,
                        **common)
    async def authorize(enterprise_id, team_id) -> AuthorizeResult:  # bolt passes arguments by name
        return await authorization.authorize(enterprise_id, team_id)

    return AsyncApp(authorize=authorize, **common)


def build_runtime(settings: Settings, engine: AsyncEngine) -> Runtime:
    metrics = Metrics()
    metrics.register_outbox_depth(outbox.depth)  # picmim_outbox_depth: Slack messages still owed
    slack_session = aiohttp.ClientSession()  # one per process, kept open: connections to Slack are reused
    client = build_slack_client(settings, metrics, slack_session)
    authorization = (SingleWorkspaceAuthorization(client, settings.slack.bot_token)
                     if settings.slack.mode == "single" else None)
    bolt = build_bolt_app(settings, engine, client, authorization)
    http = build_client(settings.origin_overrides)
    runtime = Runtime(
        settings=settings,
        engine=engine,
        sessions=db.session_factory(engine),
        http=http,
        adapters=build_adapters(settings, http),
        bolt=bolt,
        slack_session=slack_session,
        slack_authorization=authorization,
        metrics=metrics,
        web=web.Application(),  # replaced below, once bolt's routes exist
    )

    handlers.register(bolt, runtime)
    runtime.web = web_routes.build_web_app(runtime)
    return runtime
