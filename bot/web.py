"""The HTTP server: bolt's Slack routes, a guard in front of them, and our own routes."""

from __future__ import annotations

import json
import logging
from typing import TYPE_CHECKING
from urllib.parse import parse_qs

from aiohttp import web
from slack_sdk.signature import SignatureVerifier

from bot.platforms import bluesky
from bot.storage import db

if TYPE_CHECKING:
    from bot.app import Runtime

log = logging.getLogger(__name__)

SLACK_EVENTS_PATH = "/slack/events"


def build_web_app(runtime: Runtime) -> web.Application:
    app = runtime.bolt.web_app(path=SLACK_EVENTS_PATH, port=runtime.settings.port)
    app.middlewares.append(slack_request_guard(runtime))
    app.router.add_get("/healthz", health(runtime))
    app.router.add_get(bluesky.CLIENT_METADATA_PATH, bluesky_client_metadata(runtime))
    return app


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
    """Why a body is not a payload Slack would send, or None if it looks like one."""
    text = body.decode("utf-8")
    if content_type == "application/json":
        try:
            data = json.loads(text)
        except ValueError:
            return "body is not valid JSON"
        if not isinstance(data, dict) or not isinstance(data.get("type"), str):
            return "JSON body is not a Slack event envelope"
        return None
    if content_type == "application/x-www-form-urlencoded":
        try:
            form = parse_qs(text, keep_blank_values=True, strict_parsing=bool(text))
        except ValueError:
            return "form body cannot be parsed"
        if "payload" in form:
            try:
                payload = json.loads(form["payload"][0])
            except ValueError:
                return "payload field is not valid JSON"
            if not isinstance(payload, dict) or not isinstance(payload.get("type"), str):
                return "payload field is not a Slack interaction"
            return None
        if "command" in form or "ssl_check" in form:
            return None
        return "form body is neither a slash command nor an interaction payload"
    return f"unsupported content type {content_type or '(none)'}"


def bluesky_client_metadata(runtime: Runtime):
    """atproto OAuth: our client id is the URL of this document, fetched by the user's server."""
    document = bluesky.client_metadata(runtime.settings.public_url)

    async def serve(_request: web.Request) -> web.Response:
        return web.json_response(document, headers={"Cache-Control": "public, max-age=3600"})

    return serve


def health(runtime: Runtime):
    async def healthz(_request: web.Request) -> web.Response:
        try:
            await db.ping(runtime.engine, seconds=3)
        except db.DatabaseError:
            return web.json_response({"ok": False, "database": "unreachable"}, status=503)
        return web.json_response({"ok": True, "database": "ok", "slack_mode": runtime.settings.slack.mode})

    return healthz
