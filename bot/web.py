"""The HTTP server: bolt's Slack routes, a guard in front of them, and our own routes."""

from __future__ import annotations

import asyncio
import json
import logging
from typing import TYPE_CHECKING
from urllib.parse import parse_qs

from aiohttp import web
from slack_sdk.errors import SlackApiError
from slack_sdk.signature import SignatureVerifier

from bot.media import store as media_store
from bot.payloads import envelope_problem
from bot.platforms import bluesky, bluesky_keys
from bot.services import connecting
from bot.slack_errors import error_of
from bot.storage import db
from bot.views import connect as connect_views
from bot.views.blocks import esc

if TYPE_CHECKING:
    from bot.runtime import Runtime

log = logging.getLogger(__name__)

SLACK_EVENTS_PATH = "/slack/events"


def build_web_app(runtime: Runtime) -> web.Application:
    app = runtime.bolt.web_app(path=SLACK_EVENTS_PATH, port=runtime.settings.port)
    app.middlewares.append(slack_request_guard(runtime))
    app.on_response_prepare.append(_page_headers)
    app.router.add_get("/healthz", health(runtime))
    app.router.add_get("/readyz", readiness(runtime))
    app.router.add_get(bluesky.CLIENT_METADATA_PATH, bluesky_client_metadata(runtime))
    app.router.add_get(bluesky.JWKS_PATH, bluesky_jwks)
    app.router.add_get("/oauth/{platform}/callback", oauth_callback(runtime))
    app.router.add_get("/media/{token}", media_link(runtime))
    return app


# Every HTML page (callback pages, Slack's install pages): nothing from elsewhere, no framing, no referrer
# carrying the OAuth code to the page's links.
PAGE_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; "
                               "base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
}


async def _page_headers(_request: web.Request, response: web.StreamResponse) -> None:
    if response.content_type == "text/html":
        for name, value in PAGE_HEADERS.items():
            response.headers.setdefault(name, value)


def _problem(status: int, message: str) -> web.Response:
    return web.json_response({"ok": False, "error": message}, status=status)


def slack_request_guard(runtime: Runtime):
    """Checks a request to /slack/events before bolt sees it.

    Unsigned, wrongly signed or stale requests get 401; bodies that are not the JSON or form payloads
    Slack sends get 400, even when signed (bolt would answer some of those with a 500). Bolt still
    verifies the signature itself."""
    settings = runtime.settings
    secret = settings.slack.signing_secret
    verifier = SignatureVerifier(secret) if secret else None

    @web.middleware
    async def guard(request: web.Request, handler):
        if request.path != SLACK_EVENTS_PATH or request.method != "POST":
            return await handler(request)
        if verifier is None:  # Socket Mode without a signing secret: events come over the socket only
            return _problem(404, "this app receives Slack events over Socket Mode")
        try:
            body = await request.read()
        except web.HTTPRequestEntityTooLarge:
            return _problem(413, "request body too large")
        try:
            body.decode("utf-8")  # Slack sends UTF-8 only; the signature check needs text
        except UnicodeDecodeError:
            return _problem(400, "body is not UTF-8")
        timestamp = request.headers.get("X-Slack-Request-Timestamp", "")
        signature = request.headers.get("X-Slack-Signature", "")
        if not timestamp.isdigit() or not verifier.is_valid(body=body, timestamp=timestamp, signature=signature):
            log.warning("Refused a Slack request with a missing, wrong or stale signature from %s",
                        request.remote)
            return _problem(401, "invalid signature")
        problem = malformed_reason(body, request.content_type)
        if problem:
            log.warning("Refused a signed but malformed Slack request: %s", problem)
            return _problem(400, problem)
        try:
            return await handler(request)
        except Exception:
            log.exception("Slack request failed")
            return _problem(500, "internal error")

    return guard


def malformed_reason(body: bytes, content_type: str) -> str | None:
    """Why a body is not a payload Slack would send, or None if it looks like one (its envelope too:
    `bot.payloads.envelope_problem`)."""
    text = body.decode("utf-8")
    if content_type == "application/json":
        try:
            data = json.loads(text)
        except (ValueError, RecursionError):
            return "body is not valid JSON"
        if not isinstance(data, dict) or not isinstance(data.get("type"), str):
            return "JSON body is not a Slack event envelope"
        return envelope_problem(data)
    if content_type == "application/x-www-form-urlencoded":
        if text.startswith("{"):  # bolt would read it as JSON whatever its type says
            return "form body is JSON"
        try:
            form = parse_qs(text, keep_blank_values=True, strict_parsing=bool(text))
        except ValueError:
            return "form body cannot be parsed"
        if "payload" in form:
            try:
                payload = json.loads(form["payload"][-1])  # bolt reads the last of repeated fields
            except (ValueError, RecursionError):
                return "payload field is not valid JSON"
            if not isinstance(payload, dict) or not isinstance(payload.get("type"), str):
                return "payload field is not a Slack interaction"
            return envelope_problem(payload)
        if "ssl_check" in form:
            return None
        if "command" in form:
            return envelope_problem({name: values[-1] for name, values in form.items()})
        return "form body is neither a slash command nor an interaction payload"
    return f"unsupported content type {content_type or '(none)'}"


def oauth_callback(runtime: Runtime):
    """Where a platform sends the browser back after consent. The page says what happened; the user
    then chooses the accounts in Slack, where a message waits for them."""

    def page(status: int, title: str, message: str, ok: bool, team_id: str | None) -> web.Response:
        slack_url = f"slack://open?team={team_id}" if team_id else None
        return web.Response(status=status, content_type="text/html",
                            text=connect_views.callback_page(title, message, ok, slack_url))

    async def tell(team_id: str | None, user_id: str | None, **message) -> None:
        client = await runtime.slack_client(team_id) if team_id else None
        if client is None or not user_id:
            return
        try:
            await client.chat_postMessage(channel=user_id, **message)
        except SlackApiError as exc:
            log.warning("Could not message %s about a connection: %s", user_id, error_of(exc))

    async def callback(request: web.Request) -> web.Response:
        platform = request.match_info["platform"]
        async with runtime.sessions() as session:
            try:
                connected = await connecting.finish(session, runtime.adapters, platform, dict(request.query))
                await session.commit()
            except connecting.CallbackRefused as refused:
                await session.rollback()
                error = refused.error
                # The page has a title and a message; the direct message says it once, with a way to start again.
                text, blocks = connect_views.failure_message(error.message, refused.platform)
                await tell(refused.team_id, refused.user_id, text=esc(text), blocks=blocks)
                return page(400, error.title, error.message, False, refused.team_id)
        name = connected.platform.name
        await tell(connected.team_id, connected.user_id, blocks=connect_views.choose_accounts(connected),
                   text=f"{name} is connected: choose which accounts Picmim may manage.")
        message = "Back in Slack, choose which accounts Picmim may manage: a message from Picmim is waiting."
        if connected.declined:
            message += " " + connected.declined_sentence()
        return page(200, f"{name} is connected ({connected.display_name})", message, True, connected.team_id)

    return callback


def bluesky_client_metadata(runtime: Runtime):
    """atproto OAuth: our client id is the URL of this document, fetched by the user's server."""
    document = bluesky.client_metadata(runtime.settings.public_url)

    async def serve(_request: web.Request) -> web.Response:
        return web.json_response(document, headers={"Cache-Control": "public, max-age=3600"})

    return serve


async def bluesky_jwks(_request: web.Request) -> web.Response:
    """The public halves of our Bluesky client keys (client metadata `jwks_uri`): the authorization server
    checks our client assertions with them. Short caching: a rotation shows up within minutes."""
    return web.json_response(bluesky_keys.installed().public_jwks(), headers={"Cache-Control": "public, max-age=300"})


def health(runtime: Runtime):
    async def healthz(_request: web.Request) -> web.Response:
        try:
            await db.ping(runtime.engine, seconds=3)
        except db.DatabaseError:
            return web.json_response({"ok": False, "database": "unreachable"}, status=503)
        return web.json_response({"ok": True, "database": "ok", "slack_mode": runtime.settings.slack.mode})

    return healthz


def readiness(runtime: Runtime):
    """/readyz: ready to take traffic when the database answers, Slack is reachable (or the Socket Mode
    connection is up) and the job scheduler runs; the body says which part is not."""

    async def database() -> str:
        try:
            await db.ping(runtime.engine, seconds=3)
        except db.DatabaseError:
            return "unreachable"
        return "ok"

    async def slack() -> str:
        handler = runtime.socket_handler
        try:
            if runtime.settings.slack.socket_mode:
                if handler is None or not await handler.client.is_connected():
                    return "Socket Mode not connected"
                return "ok"
            async with asyncio.timeout(3):
                if runtime.slack_authorization is not None:
                    await runtime.slack_authorization.authorize()  # asked once; answered from memory after
                else:
                    await runtime.bolt.client.api_test()
        except SlackApiError as exc:
            if runtime.slack_authorization is None:
                return "ok"  # many workspaces: Slack answered, which is all api.test is asked for
            error = exc.response.get("error", "error") if isinstance(exc.response.data, dict) else "error"
            return f"refused by Slack ({error})"
        except Exception as exc:  # unreachable: OSError, aiohttp errors, timeouts
            return f"unreachable ({exc.__class__.__name__})"
        return "ok"

    def scheduler() -> str:
        if runtime.scheduler is None:
            return "not started"
        return "running" if runtime.scheduler.running else "stopped"

    async def readyz(_request: web.Request) -> web.Response:
        body = {"database": await database(), "slack": await slack(), "scheduler": scheduler()}
        ready = body["database"] == "ok" and body["slack"] == "ok" and body["scheduler"] == "running"
        return web.json_response({"ready": ready, **body}, status=200 if ready else 503)

    return readyz


def media_link(runtime: Runtime):
    """Public media links for platforms that pull media: the signed, expiring token names the file."""
    return media_store.link_handler(media_store.MediaStore.from_settings(runtime.settings))
