"""The HTTP server: bolt's Slack routes, a guard in front of them, and our own routes."""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import hashlib
import hmac
import json
import logging
from typing import TYPE_CHECKING
from urllib.parse import parse_qs

from aiohttp import web
from slack_sdk.errors import SlackApiError
from slack_sdk.signature import SignatureVerifier
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from bot.http import for_browser
from bot.media import renditions
from bot.media import store as media_store
from bot.messages import outbox as sending
from bot.messages import review_card
from bot.payloads import envelope_problem
from bot.platforms import bluesky, bluesky_keys
from bot.services import approvals, composing, connecting, review_links
from bot.slack_errors import unavailable
from bot.storage import crypto, db
from bot.storage.models import Post, Workspace, utcnow
from bot.views import connect as connect_views
from bot.views import review_page as review_views
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
    if runtime.settings.metrics:  # off by default: without PICMIM_METRICS=1 the path is simply not found
        app.router.add_get("/metrics", metrics(runtime))
    app.router.add_get(bluesky.CLIENT_METADATA_PATH, bluesky_client_metadata(runtime))
    app.router.add_get(bluesky.JWKS_PATH, bluesky_jwks)
    app.router.add_get(connecting.LANDING_PATH, connect_page(runtime))
    app.router.add_get("/oauth/{platform}/callback", oauth_callback(runtime))
    app.router.add_get("/media/{token}", media_link(runtime))
    page = ReviewLinkPage(runtime)
    app.router.add_get("/review/{token}", page.show)
    app.router.add_post("/review/{token}", page.decide)
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



# The link's page holds a live sign-in link: no cache may keep it.
NO_STORE = {"Cache-Control": "no-store"}


def connect_page(runtime: Runtime):
    """What a sign-in link from Slack opens: Picmim's own page naming the workspace and the person who
    asked, with a Continue button to the platform's consent page. Opening it uses nothing up (a link
    preview may fetch it); the callback does."""

    async def page(request: web.Request) -> web.Response:
        async with runtime.sessions() as session:
            try:
                landing = await connecting.landing(session, request.match_info["state"])
            except connecting.ConnectError as gone:
                status = 404 if gone.title == connecting.LINK_NOT_VALID else 410
                return web.Response(status=status, content_type="text/html", headers=NO_STORE,
                                    text=connect_views.gone_page(gone.title, gone.message))
        # Where the operator sends the platform's origin elsewhere (a sandbox), the browser goes there as well.
        authorize_url = for_browser(runtime.settings.origin_overrides, landing.authorize_url)
        landing = dataclasses.replace(landing, authorize_url=authorize_url)
        return web.Response(content_type="text/html", headers=NO_STORE, text=connect_views.landing_page(landing))

    return page


def oauth_callback(runtime: Runtime):
    """Where a platform sends the browser back after consent. The page says what happened, which account,
    into which workspace and for whom; the user then chooses the accounts in Slack, where a message waits
    for them, and the alerts channel hears which account was connected with whose link."""

    def page(status: int, title: str, message: str, ok: bool, team_id: str | None,
             facts: list[tuple[str, str]]) -> web.Response:
        slack_url = f"slack://open?team={team_id}" if team_id else None
        return web.Response(status=status, content_type="text/html",
                            text=connect_views.callback_page(title, message, ok, slack_url, facts))

    async def owe(team_id: str | None, channel: str | None, text: str, blocks: list[dict]) -> None:
        """A message the connection owes someone: through the outbox, so Slack being down delays it, never loses
        it. The sign-in itself is done whatever happens here: the page must still say so."""
        if not team_id or not channel:
            return
        try:
            async with runtime.sessions() as session:
                workspace_id = await session.scalar(select(Workspace.id).where(Workspace.team_id == team_id))
            if workspace_id is not None:
                await sending.notify(runtime, workspace_id, channel, text, blocks=blocks)
        except SQLAlchemyError as exc:
            log.warning("Could not keep the message about a connection (%s)", type(exc).__name__)

    async def tell(team_id: str | None, user_id: str | None, text: str, blocks: list[dict]) -> None:
        await owe(team_id, user_id, text, blocks)

    async def announce(parties: connecting.Parties | None, text: str, blocks: list[dict]) -> None:
        """The workspace's alerts channel, when it has one (the person who asked hears it by DM anyway)."""
        if parties is not None:
            await owe(parties.team_id, parties.alerts_channel_id, text, blocks)

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
                if refused.attempted and refused.user_id:
                    await announce(refused.parties, *connect_views.refused_note(error.message, refused.platform,
                                                                                refused.user_id))
                return page(400, error.title, error.message, False, refused.team_id,
                            connect_views.refused_facts(refused.parties))
        name = connected.platform.name
        await tell(connected.team_id, connected.user_id, blocks=connect_views.choose_accounts(connected),
                   text=f"{name} is connected: choose which accounts Picmim may manage.")
        if not connected.reconnected:  # a reconnect keeps the same account (checked) and mends its alert in place
            await announce(connected.parties, *connect_views.connected_note(connected))
        message = "Back in Slack, choose which accounts Picmim may manage: a message from Picmim is waiting."
        if connected.declined:
            message += " " + connected.declined_sentence()
        return page(200, f"{name} is connected ({connected.display_name})", message, True, connected.team_id,
                    connect_views.connected_facts(connected))

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
        if runtime.settings.slack.socket_mode:
            socket = runtime.socket_mode
            state = await socket.status() if socket is not None else "Socket Mode not connected: not started"
            if state != "ok":
                return state
        if runtime.slack_authorization is not None:
            # Asked at start, then again in the background until Slack answers: answered from memory.
            return runtime.slack_authorization.problem or "ok"
        if runtime.settings.slack.socket_mode:
            return "ok"
        try:
            async with asyncio.timeout(3):
                await runtime.bolt.client.api_test()
        except Exception as exc:  # SlackApiError, OSError, aiohttp errors, timeouts
            passing = unavailable(exc)
            if passing is not None:
                return f"unreachable ({passing})"
            if isinstance(exc, SlackApiError):
                return "ok"  # many workspaces: Slack answered, which is all api.test is asked for
            raise
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


def metrics(runtime: Runtime):
    """/metrics: this process's counters and the database's gauges, in Prometheus's text format; with
    PICMIM_METRICS_TOKEN set, only for `Authorization: Bearer <token>`."""
    token = runtime.settings.metrics_token
    expected = f"Bearer {token}".encode() if token else None

    async def serve(request: web.Request) -> web.Response:
        if expected is not None:
            given = request.headers.get("Authorization", "").encode()
            if not hmac.compare_digest(given, expected):
                return web.Response(status=401, text="Give the metrics token as Authorization: Bearer <token>.\n",
                                    headers={"WWW-Authenticate": 'Bearer realm="metrics"'})
        try:
            body, content_type = await runtime.metrics.render(runtime.sessions, request.headers.get("Accept"))
        except Exception:
            log.exception("Could not read the metrics from the database")
            return web.Response(status=503, text="The database did not answer; try again.\n")
        return web.Response(body=body, headers={"Content-Type": content_type})

    return serve


def media_link(runtime: Runtime):
    """Public media links for platforms that pull media: the signed, expiring token names the file."""
    return media_store.link_handler(media_store.MediaStore.from_settings(runtime.settings))


class ReviewLinkPage:
    """`GET /review/{token}`: the post for a reviewer without Slack; `POST /review/{token}`: their decision,
    counted like an approver's in Slack, then the card and the author are told, and the page shows the outcome."""

    IMAGE_LIFETIME = 24 * 3600  # the page's picture links: long enough to read the page, short-lived anyway
    IMAGES = ("image/png", "image/jpeg", "image/gif", "image/webp")

    def __init__(self, runtime: Runtime):
        self.runtime = runtime
        self.store = media_store.MediaStore.from_settings(runtime.settings)
        settings = runtime.settings
        keys = settings.secret_keys or (crypto.load_or_create_key_file(settings.data_dir)[0],)
        # Not the Fernet key itself: a key of its own, derived from it, for the pages' CSRF tokens.
        self.secret = hmac.new(base64.urlsafe_b64decode(keys[0].encode()), b"picmim review links",
                               hashlib.sha256).digest()

    @staticmethod
    def _html(text: str, status: int = 200) -> web.Response:
        return web.Response(status=status, content_type="text/html", text=text, headers=review_views.HEADERS)

    def _problem(self, problem: review_links.Problem) -> web.Response:
        return self._html(review_views.message_page(problem.title, problem.message), problem.status)

    async def _page(self, token: str, error: str | None = None, comment: str = "") -> web.Response:
        async with self.runtime.sessions() as session:
            found = await review_links.find(session, token, utcnow())
            if isinstance(found, review_links.Problem):
                return self._problem(found)
            if found.problem is not None:
                return self._problem(found.problem)
            card = await approvals.review_card(session, found.workspace, found.post.id, self.runtime.adapters)
            items = await composing.media_of(session, found.post.id)
            # card.media describes the same items in the same order (with the author's alt texts).
            images = [(self.store.link(i.sha256, media_store.ORIGINAL, i.mimetype, lifetime=self.IMAGE_LIFETIME),
                       shown.alt_text or i.filename)
                      for i, shown in zip(items, card.media, strict=False) if i.mimetype in self.IMAGES]
            cover = await renditions.cover_link(session, self.store, found.post)
            await session.commit()
        text = review_views.review_page(card, found.link.reviewer, review_links.csrf_token(self.secret, token),
                                        images, cover, found.link.expires_at, error, comment)
        return self._html(text, 400 if error else 200)

    async def show(self, request: web.Request) -> web.Response:
        return await self._page(request.match_info["token"])

    async def decide(self, request: web.Request) -> web.StreamResponse:
        token = request.match_info["token"]
        try:
            form = await request.post()
        except ValueError:
            form = {}
        if not review_links.csrf_ok(self.secret, token, str(form.get("csrf") or "")):
            return self._html(review_views.message_page(
                "This form is out of date", "Nothing was decided. Open the review link again and choose once more."),
                403)
        comment = str(form.get("comment") or "")[:2000]
        async with self.runtime.sessions() as session:
            decided = await review_links.decide(session, token, str(form.get("decision") or ""), comment, utcnow())
            if decided.outcome is not None and decided.outcome.recorded:
                await session.commit()
            else:
                await session.rollback()
        if decided.field_error:
            return await self._page(token, decided.field_error, comment)
        if decided.problem is not None:
            return self._problem(decided.problem)
        await self._tell_slack(decided.outcome)
        raise web.HTTPSeeOther(f"/review/{token}")  # the page now says the decision is in; a reload posts nothing

    async def _tell_slack(self, outcome) -> None:
        """The card shows the decision, and the author is told, as after a decision made in Slack."""
        try:
            async with self.runtime.sessions() as session:
                post = await session.get(Post, outcome.post_id)
                workspace = await session.get(Workspace, post.workspace_id)
                await session.commit()
            client = await self.runtime.slack_client(workspace.team_id, workspace.enterprise_id)
            if client is not None:
                await review_card.after_decision(self.runtime, client, outcome)
        except (SlackApiError, OSError) as exc:
            log.warning("Could not show a review link's decision in Slack: %s", exc)
