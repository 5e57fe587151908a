"""A fake X API v2 (api.x.com) and consent page (x.com), on loopback; plus `PlatformFake`, what the
X, LinkedIn and Pinterest fakes share (routing by host, tokens, injected faults).

The fake answers on X's paths with X's bodies: problem+json errors, `x-rate-limit-*` headers on
every answer but a 401, rotating refresh tokens, the v2 media upload flow, and text counted with
twitter-text (the reference, not Picmim's code).
"""

from __future__ import annotations

import asyncio
import base64
import email.policy
import hashlib
import io
import itertools
import json
import secrets
import time
from dataclasses import dataclass, field
from email.parser import BytesParser
from typing import Any
from urllib.parse import parse_qsl, urlencode

from aiohttp import web
from PIL import Image
from twitter_text import parse_tweet

from bot.sandbox.fakes.base import LOOPBACK_HOSTS, LoopbackServer

STALL_SECONDS = 30.0  # a stalled answer comes after the client has given up


# ---- shared machinery --------------------------------------------------------------------------


@dataclass
class Part:
    data: bytes
    filename: str | None
    content_type: str

    @property
    def text(self) -> str:
        return self.data.decode()


@dataclass
class Call:
    method: str
    host: str
    path: str
    query: dict[str, str]
    raw_query: str
    headers: dict[str, str]
    body: bytes
    status: int = 0  # the answer, for tests to look at
    answer_headers: dict[str, str] = field(default_factory=dict)
    at: float = field(default_factory=time.time)  # when the request arrived (epoch seconds)

    @property
    def token(self) -> str | None:
        auth = self.headers.get("Authorization", "")
        return auth[7:] if auth.startswith("Bearer ") else None

    def json(self) -> Any:
        return json.loads(self.body or b"null")

    def form(self) -> dict[str, str]:
        return dict(parse_qsl(self.body.decode(), keep_blank_values=True))

    def multipart(self) -> dict[str, Part]:
        content_type = self.headers.get("Content-Type", "")
        message = BytesParser(policy=email.policy.HTTP).parsebytes(
            b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + self.body)
        if not message.is_multipart():
            return {}
        return {part.get_param("name", header="content-disposition"):
                Part(part.get_payload(decode=True) or b"", part.get_filename(), part.get_content_type())
                for part in message.iter_parts()}

    def basic_auth(self) -> tuple[str, str] | None:
        auth = self.headers.get("Authorization", "")
        if not auth.startswith("Basic "):
            return None
        user, _, password = base64.b64decode(auth[6:]).decode().partition(":")
        return user, password


CALL = web.RequestKey("call", Call)


@dataclass
class Grant:
    """What an access or refresh token stands for."""

    user_id: str
    scopes: frozenset[str]
    expires_at: float
    revoked: bool = False
    used: bool = False  # a rotated refresh token

    @property
    def expired(self) -> bool:
        return time.time() >= self.expires_at


@dataclass
class Fault:
    kind: str  # rate_limit | error | stall | slow | hold
    path: str  # a path prefix; "" matches every call
    method: str | None
    times: int
    status: int = 503
    details: dict = field(default_factory=dict)


class PlatformFake(LoopbackServer):
    """Base of the fake platforms: subclasses list `hosts`, add `routes` and shape their errors.

    Test controls: `rate_limit`, `fail`, `stall` (the call takes effect but its answer never comes in
    time), `expire`, `revoke`, `consent_as`; every call is in `calls`."""

    hosts: tuple[str, ...] = ()
    access_ttl = 3600
    refresh_ttl = 60 * 86400
    rotate_refresh_tokens = True
    handler_cancellation = True  # a client gone (timed out) cancels its stalled handler

    def __init__(self) -> None:
        super().__init__()
        self.client_id = "picmim-client-id"
        self.client_secret = "picmim-client-secret"
        self.redirect_uris = {"http://localhost:3000/oauth/test/callback"}
        self._faults: list[Fault] = []
        self._ids = itertools.count(1000)
        self.reset()

    def applications(self) -> list[web.Application]:
        app = web.Application(middlewares=[self._middleware], client_max_size=1024 ** 3)
        for method, host, path, handler in self.routes():
            app.router.add_route(method, path, self._on_host(host, handler))
        return [app]

    def origins(self) -> dict[str, str]:
        """PICMIM_ORIGIN_OVERRIDES for this fake: every real host it stands in for."""
        return {f"https://{host}": self.url for host in self.hosts}

    def _on_host(self, host: str, handler):
        async def on_host(request: web.Request) -> web.StreamResponse:
            # One fake serves several real hosts: a path on the wrong host does not exist. A browser sent straight
            # to the fake's own address (PICMIM_ORIGIN_OVERRIDES applied to a sign-in link) names no real host.
            if request.host.split(":")[0] not in (host, *LOOPBACK_HOSTS):
                return self.not_found(request)
            return await handler(request, request[CALL])

        return on_host

    @web.middleware
    async def _middleware(self, request: web.Request, handler) -> web.StreamResponse:
        call = Call(request.method, request.host.split(":")[0], request.path, dict(request.query),
                    request.rel_url.raw_query_string, dict(request.headers), await request.read())
        request[CALL] = self.record(call)
        fault = self._take_fault(call)
        if fault and fault.kind == "rate_limit":
            response = self.rate_limited(call, **fault.details)
        elif fault and fault.kind == "error":
            response = self.server_error(call, fault.status)
        else:
            if fault and fault.kind == "hold":  # the call waits before it is carried out
                await asyncio.sleep(fault.details["seconds"])
                if request.transport is None or request.transport.is_closing():
                    return web.Response(status=499)  # its client is gone (killed): nothing was carried out
            response = await handler(request)
            if fault and fault.kind == "stall":
                await asyncio.sleep(STALL_SECONDS)
            elif fault and fault.kind == "slow":
                await asyncio.sleep(fault.details["seconds"])
        response = self.decorate(call, response)
        call.status, call.answer_headers = response.status, dict(response.headers)
        return response

    def _take_fault(self, call: Call) -> Fault | None:
        with self.lock:
            for fault in self._faults:
                if call.path.startswith(fault.path) and fault.method in (None, call.method):
                    if fault.details.get("after", 0) > 0:  # lets this many matching calls by first
                        fault.details["after"] -= 1
                        continue
                    fault.times -= 1
                    if fault.times <= 0:
                        self._faults.remove(fault)
                    return fault
        return None

    # ---- for subclasses -------------------------------------------------------------------

    def routes(self) -> list[tuple[str, str, str, Any]]:
        raise NotImplementedError

    def reset_state(self) -> None:
        """Fresh platform data (users, posts, media) for the next test."""

    def rate_limited(self, call: Call, **details) -> web.Response:
        return web.json_response({"message": "Too Many Requests"}, status=429)

    def server_error(self, call: Call, status: int) -> web.Response:
        return web.json_response({"message": "Service Unavailable"}, status=status)

    def not_found(self, request: web.Request) -> web.Response:
        return web.json_response({"message": "Not Found"}, status=404)

    def decorate(self, call: Call, response: web.StreamResponse) -> web.StreamResponse:
        return response

    # ---- test controls --------------------------------------------------------------------

    def reset(self) -> None:
        self.forget_calls()
        with self.lock:
            self._faults.clear()
        self.tokens: dict[str, Grant] = {}
        self.refresh_tokens: dict[str, Grant] = {}
        self.codes: dict[str, dict] = {}
        self.consent: dict[str, Any] = {}
        self.reset_state()

    def rate_limit(self, path: str = "", times: int = 1, method: str | None = None, **details) -> None:
        """Answer the next `times` matching calls as the platform does when a rate limit is hit."""
        self._faults.append(Fault("rate_limit", path, method, times, details=details))

    def fail(self, path: str = "", times: int = 1, status: int = 503, method: str | None = None) -> None:
        """Answer the next `times` matching calls with a server error."""
        self._faults.append(Fault("error", path, method, times, status))

    def slow(self, path: str, seconds: float, method: str | None = None, times: int = 1) -> None:
        """Carry out the next `times` matching calls, answering each after `seconds` (within client timeouts)."""
        self._faults.append(Fault("slow", path, method, times, details={"seconds": seconds}))

    def hold(self, path: str, seconds: float, method: str | None = None, times: int = 1, after: int = 0) -> None:
        """Hold `times` matching calls (after letting `after` of them by) for `seconds` before carrying them out;
        a call whose client went away meanwhile is never carried out (as when a request never reached X)."""
        self._faults.append(Fault("hold", path, method, times, details={"seconds": seconds, "after": after}))

    def stall(self, path: str, method: str | None = None, times: int = 1) -> None:
        """Carry out the next matching call, then hold its answer past any client timeout."""
        self._faults.append(Fault("stall", path, method, times))

    def consent_as(self, user_id: str, scopes: set[str] | None = None) -> None:
        """Who approves the next consent page, and which scopes they leave ticked (None: all asked)."""
        self.consent = {"user_id": user_id, "scopes": scopes}

    def expire(self, token: str | None = None) -> None:
        """Let one access token (or all) run out."""
        for value, grant in self.tokens.items():
            if token in (None, value):
                grant.expires_at = time.time() - 1

    def revoke(self, user_id: str | None = None) -> None:
        """The member withdrew the app: every token of theirs stops working."""
        for grant in [*self.tokens.values(), *self.refresh_tokens.values()]:
            if user_id in (None, grant.user_id):
                grant.revoked = True

    def calls_to(self, path: str, method: str | None = None) -> list[Call]:
        return self.recorded(lambda c: c.path.startswith(path) and method in (None, c.method))

    # ---- helpers for subclasses -------------------------------------------------------------

    def next_id(self) -> str:
        return str(next(self._ids))

    def issue_code(self, user_id: str, scopes: set[str], **extra) -> str:
        code = secrets.token_urlsafe(16)
        self.codes[code] = {"user_id": user_id, "scopes": frozenset(scopes), "issued": time.time(), **extra}
        return code

    def issue_tokens(self, user_id: str, scopes: frozenset[str], with_refresh: bool = True,
                     refresh_expires_at: float | None = None) -> tuple[str, str | None]:
        access = "at-" + secrets.token_urlsafe(12)
        self.tokens[access] = Grant(user_id, scopes, time.time() + self.access_ttl)
        refresh = None
        if with_refresh:
            refresh = "rt-" + secrets.token_urlsafe(12)
            self.refresh_tokens[refresh] = Grant(user_id, scopes, refresh_expires_at or time.time() + self.refresh_ttl)
        return access, refresh

    def use_refresh_token(self, value: str) -> Grant | None:
        """The grant behind a refresh token, spending it when the platform rotates them."""
        grant = self.refresh_tokens.get(value)
        if grant is None or grant.used or grant.revoked or grant.expired:
            return None
        if self.rotate_refresh_tokens:
            grant.used = True
        return grant

    def bearer(self, call: Call) -> tuple[Grant | None, str]:
        """The grant behind the call's bearer token, or why there is none: missing, invalid, expired, revoked."""
        if call.token is None:
            return None, "missing"
        grant = self.tokens.get(call.token)
        if grant is None:
            return None, "invalid"
        if grant.revoked:
            return None, "revoked"
        if grant.expired:
            return None, "expired"
        return grant, "ok"


def redirect(uri: str, **params: str) -> web.Response:
    """The consent page's answer: the browser goes back to the app with these parameters."""
    return web.Response(status=302, headers={"Location": f"{uri}?{urlencode(params)}"})


def s256(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()


def image_type(data: bytes) -> str | None:
    """The image type the bytes really are, as a platform sniffs it."""
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


def is_video(data: bytes) -> bool:
    return data[4:8] == b"ftyp"


def image_size(data: bytes) -> tuple[int, int] | None:
    try:
        with Image.open(io.BytesIO(data)) as img:
            img.verify()
            return img.size
    except Exception:
        return None


# ---- X ----------------------------------------------------------------------------------------

MB = 1024 * 1024
REPLY_SETTINGS = ("following", "mentionedUsers", "subscribers", "verified")
ALT_TEXT_MAX = 1000
RATE_LIMITS = {"/2/tweets": 100, "/2/users": 75, "/2/media/upload": 500, "/2/media/metadata": 500}


def problem(status: int, title: str, detail: str, kind: str = "about:blank", **extra) -> web.Response:
    return web.json_response({"title": title, "detail": detail, "type": kind, "status": status, **extra},
                             status=status, content_type="application/problem+json")


def invalid_request(message: str, **parameters) -> web.Response:
    error = {"message": message}
    if parameters:
        error["parameters"] = parameters
    return web.json_response({"errors": [error], "title": "Invalid Request",
                              "detail": "One or more parameters to your request was invalid.",
                              "type": "https://api.twitter.com/2/problems/invalid-request"}, status=400)


@dataclass
class Media:
    owner: str
    category: str
    media_type: str
    total_bytes: int
    segments: dict[int, bytes] = field(default_factory=dict)
    state: str = "uploading"  # uploading, pending, in_progress, succeeded, failed
    polls_left: int = 0
    alt_text: str | None = None
    fails: bool = False


UPLOAD_FIELDS = {"media", "media_category", "additional_owners"}
# A post lookup's expansions and media fields this fake knows (X's OpenAPI lists more; asking for others is refused).
POST_EXPANSIONS = {"attachments.media_keys", "author_id", "referenced_tweets.id"}
MEDIA_FIELDS = {"media_key", "type", "url", "preview_image_url", "width", "height", "alt_text", "duration_ms",
                "public_metrics", "variants"}
MEDIA_KEY_PREFIX = {"photo": "3", "video": "7", "animated_gif": "16"}


class FakeX(PlatformFake):
    hosts = ("x.com", "api.x.com")
    access_ttl = 7200

    def reset_state(self) -> None:
        self.users: dict[str, dict] = {}
        self.posts: dict[str, dict] = {}
        self.media: dict[str, Media] = {}
        self.processing_polls = 1  # status checks a video spends processing
        self.fail_processing = False
        self.rate_limit_reset_in = 900
        self.add_user("2244994945", "Acme Marketing", "acmemktg", followers=1200)
        self.consent_as("2244994945")

    def add_user(self, user_id: str, name: str, username: str, followers: int = 0) -> dict:
        user = {"id": user_id, "name": name, "username": username,
                "profile_image_url": f"https://pbs.twimg.com/profile_images/{user_id}/normal.jpg",
                # UserPublicMetrics in X's OpenAPI (xdevplatform/xdk specs/openapi.json 2.167): `post_count`.
                "public_metrics": {"followers_count": followers, "following_count": 10, "post_count": 0,
                                   "listed_count": 1, "like_count": 3}}
        self.users[user_id] = user
        return user

    def routes(self):
        return [
            ("GET", "x.com", "/i/oauth2/authorize", self._authorize),
            ("POST", "api.x.com", "/2/oauth2/token", self._token),
            ("POST", "api.x.com", "/2/oauth2/revoke", self._revoke),
            ("GET", "api.x.com", "/2/users/me", self._users_me),
            ("GET", "api.x.com", "/2/users/{id}", self._user),
            ("GET", "api.x.com", "/2/users/{id}/tweets", self._user_posts),
            ("POST", "api.x.com", "/2/tweets", self._create_post),
            ("GET", "api.x.com", "/2/tweets", self._posts_lookup),
            ("POST", "api.x.com", "/2/media/upload", self._simple_upload),
            ("GET", "api.x.com", "/2/media/upload", self._upload_status),
            ("POST", "api.x.com", "/2/media/upload/initialize", self._initialize),
            ("POST", "api.x.com", "/2/media/upload/{id}/append", self._append),
            ("POST", "api.x.com", "/2/media/upload/{id}/finalize", self._finalize),
            ("POST", "api.x.com", "/2/media/metadata", self._metadata),
        ]

    # ---- errors and headers ---------------------------------------------------------------

    def rate_limited(self, call: Call, usage_capped: bool = False, **_) -> web.Response:
        if usage_capped:
            return problem(429, "UsageCapExceeded", "Usage cap exceeded: Monthly product cap",
                           "https://api.twitter.com/2/problems/usage-capped", period="Monthly", scope="Product")
        return problem(429, "Too Many Requests", "Too Many Requests")

    def server_error(self, call: Call, status: int) -> web.Response:
        return problem(status, "Service Unavailable", "Service Unavailable")

    def decorate(self, call: Call, response: web.StreamResponse) -> web.StreamResponse:
        # X sends its rate-limit headers on every answer except a 401.
        if response.status != 401 and call.host == "api.x.com":
            limit = next((n for prefix, n in RATE_LIMITS.items() if call.path.startswith(prefix)), 900)
            used = len([c for c in self.calls if c.path == call.path])
            remaining = 0 if response.status == 429 else max(limit - used, 0)
            response.headers["x-rate-limit-limit"] = str(limit)
            response.headers["x-rate-limit-remaining"] = str(remaining)
            response.headers["x-rate-limit-reset"] = str(int(time.time()) + self.rate_limit_reset_in)
        return response

    def _authenticate(self, call: Call, *scopes: str) -> tuple[Grant | None, web.Response | None]:
        grant, why = self.bearer(call)
        if grant is None:
            return None, problem(401, "Unauthorized", "Unauthorized")
        missing = set(scopes) - grant.scopes
        if missing:
            return None, problem(403, "Forbidden", "Forbidden")
        return grant, None

    # ---- OAuth ----------------------------------------------------------------------------

    async def _authorize(self, request: web.Request, call: Call) -> web.Response:
        q = call.query
        if q.get("client_id") != self.client_id or q.get("redirect_uri") not in self.redirect_uris:
            return web.Response(status=400, text="Something went wrong: you weren't able to give access to the App.")
        if q.get("response_type") != "code" or not q.get("state") or len(q["state"]) > 500:
            return web.Response(status=400, text="invalid request")
        if q.get("code_challenge_method") not in ("S256", "plain") or not q.get("code_challenge"):
            return web.Response(status=400, text="PKCE code_challenge required")
        asked = set(q.get("scope", "").split())
        granted = asked if self.consent.get("scopes") is None else asked & self.consent["scopes"]
        code = self.issue_code(self.consent["user_id"], granted, redirect_uri=q["redirect_uri"],
                               challenge=q["code_challenge"], method=q["code_challenge_method"])
        return redirect(q["redirect_uri"], state=q["state"], code=code)

    async def _token(self, request: web.Request, call: Call) -> web.Response:
        if call.basic_auth() != (self.client_id, self.client_secret):
            return web.json_response({"error": "unauthorized_client",
                                      "error_description": "Missing valid authorization header"}, status=401)
        form = call.form()
        if form.get("grant_type") == "authorization_code":
            grant = self.codes.pop(form.get("code", ""), None)
            verifier = form.get("code_verifier", "")
            if (grant is None or time.time() - grant["issued"] > 30 or form.get("redirect_uri") != grant["redirect_uri"]
                    or (s256(verifier) if grant["method"] == "S256" else verifier) != grant["challenge"]):
                return web.json_response({"error": "invalid_request",
                                          "error_description": "Value passed for the authorization code was invalid."},
                                         status=400)
            user_id, scopes = grant["user_id"], grant["scopes"]
        elif form.get("grant_type") == "refresh_token":
            grant = self.use_refresh_token(form.get("refresh_token", ""))
            if grant is None:
                return web.json_response({"error": "invalid_request",
                                          "error_description": "Value passed for the token was invalid."}, status=400)
            user_id, scopes = grant.user_id, grant.scopes
        else:
            return web.json_response({"error": "unsupported_grant_type",
                                      "error_description": "Unsupported grant type"}, status=400)
        access, refresh = self.issue_tokens(user_id, scopes, with_refresh="offline.access" in scopes)
        body = {"token_type": "bearer", "expires_in": self.access_ttl, "access_token": access,
                "scope": " ".join(sorted(scopes))}
        if refresh:
            body["refresh_token"] = refresh
        return web.json_response(body)

    async def _revoke(self, request: web.Request, call: Call) -> web.Response:
        if call.basic_auth() != (self.client_id, self.client_secret):
            return web.json_response({"error": "unauthorized_client",
                                      "error_description": "Missing valid authorization header"}, status=401)
        token = call.form().get("token", "")
        grant = self.tokens.get(token) or self.refresh_tokens.get(token)
        if grant is not None:
            grant.revoked = True
        return web.json_response({"revoked": True})

    # ---- users ------------------------------------------------------------------------------

    def _user_view(self, user: dict, fields: str) -> dict:
        asked = set(fields.split(",")) if fields else set()
        return {k: v for k, v in user.items() if k in ("id", "name", "username") or k in asked}

    async def _users_me(self, request: web.Request, call: Call) -> web.Response:
        grant, refusal = self._authenticate(call, "tweet.read", "users.read")
        if refusal:
            return refusal
        return web.json_response({"data": self._user_view(self.users[grant.user_id],
                                                          call.query.get("user.fields", ""))})

    async def _user(self, request: web.Request, call: Call) -> web.Response:
        grant, refusal = self._authenticate(call, "tweet.read", "users.read")
        if refusal:
            return refusal
        user = self.users.get(request.match_info["id"])
        if user is None:
            return web.json_response({"errors": [{"detail": "Could not find user.", "title": "Not Found Error",
                                                  "type": "https://api.twitter.com/2/problems/resource-not-found"}]})
        return web.json_response({"data": self._user_view(user, call.query.get("user.fields", ""))})

    # ---- posts ------------------------------------------------------------------------------

    async def _create_post(self, request: web.Request, call: Call) -> web.Response:
        grant, refusal = self._authenticate(call, "tweet.read", "tweet.write", "users.read")
        if refusal:
            return refusal
        try:
            body = call.json()
        except ValueError:
            return invalid_request("Request body is not valid JSON.")
        allowed = {"text", "media", "reply", "quote_tweet_id", "poll", "reply_settings", "made_with_ai",
                   "paid_partnership", "community_id", "for_super_followers_only", "nullcast", "geo", "card_uri",
                   "edit_options"}
        unknown = set(body) - allowed
        if unknown:
            return invalid_request(f"The following properties are not allowed: {sorted(unknown)}")
        reply_settings = body.get("reply_settings")
        if "reply_settings" in body and reply_settings not in REPLY_SETTINGS:
            # The schema's enum (openapi.json CreatePostsRequest); "everyone" is not a value: leave it out.
            return invalid_request("$.reply_settings: does not have a value in the enumeration "
                                   f"[{', '.join(REPLY_SETTINGS)}]", reply_settings=[reply_settings])
        text = body.get("text", "")
        media_ids = (body.get("media") or {}).get("media_ids") or []
        if not text and not media_ids:
            return invalid_request("Post text or media is required.")
        if text and parse_tweet(text).weightedLength > 280:
            return problem(400, "Bad Request", "Your Tweet text is too long. For more information on how Twitter "
                                               "determines text length see https://github.com/twitter/twitter-text.")
        if not 1 <= len(media_ids) <= 4 and media_ids:
            return invalid_request(f"$.media.media_ids: expected maximum item count: 4, found: {len(media_ids)}",
                                   **{"media.media_ids": media_ids})
        attached = [self.media.get(i) for i in media_ids]
        if any(m is None or m.owner != grant.user_id or m.state != "succeeded" for m in attached):
            return invalid_request("Your media IDs are invalid.", **{"media.media_ids": media_ids})
        moving = [m for m in attached if m.category in ("tweet_video", "tweet_gif")]
        if moving and len(attached) > 1:
            return invalid_request("Your media IDs are invalid.", **{"media.media_ids": media_ids})
        reply = body.get("reply")
        replied_to = None
        if reply is not None:
            replied_to = str((reply or {}).get("in_reply_to_tweet_id") or "")
            if not replied_to.isdigit():
                return invalid_request("$.reply.in_reply_to_tweet_id: string does not match pattern ^[0-9]{1,19}$",
                                       **{"reply.in_reply_to_tweet_id": [replied_to]})
            if replied_to not in self.posts:
                # What X answers for a reply to a post that was never made or was deleted (code 385 in v1.1).
                return problem(403, "Forbidden", "You attempted to reply to a Tweet that is deleted or not visible "
                                                 "to you.")
        if any(p["text"] == text and p["author_id"] == grant.user_id for p in self.posts.values()) and text:
            return problem(403, "Forbidden", "You are not allowed to create a Tweet with duplicate content.")
        post_id = str(1_800_000_000_000_000_000 + int(self.next_id()))
        self.posts[post_id] = {"id": post_id, "author_id": grant.user_id, "text": text, "media_ids": media_ids,
                               "reply_settings": reply_settings, "in_reply_to": replied_to,
                               "public_metrics": {"retweet_count": 0, "reply_count": 0, "like_count": 0,
                                                  "quote_count": 0, "bookmark_count": 0, "impression_count": 0}}
        return web.json_response({"data": {"id": post_id, "text": text, "edit_history_tweet_ids": [post_id]}},
                                 status=201)

    async def _user_posts(self, request: web.Request, call: Call) -> web.Response:
        """GET /2/users/{id}/tweets: the user's posts, newest first, replies included (unless exclude=replies);
        since_id keeps those newer than it; referenced_tweets is there when tweet.fields asks for it."""
        grant, refusal = self._authenticate(call, "tweet.read", "users.read")
        if refusal:
            return refusal
        user_id = request.match_info["id"]
        since = call.query.get("since_id", "")
        if since and not since.isdigit():
            return invalid_request("The `since_id` query parameter value is not valid.")
        excluded = set(call.query.get("exclude", "").split(","))
        fields = set(call.query.get("tweet.fields", "").split(","))
        found = []
        for post in sorted(self.posts.values(), key=lambda p: int(p["id"]), reverse=True):
            if post["author_id"] != user_id or (since and int(post["id"]) <= int(since)):
                continue
            if post.get("in_reply_to") and "replies" in excluded:
                continue
            item = {"id": post["id"], "text": post["text"], "edit_history_tweet_ids": [post["id"]]}
            if "referenced_tweets" in fields and post.get("in_reply_to"):
                item["referenced_tweets"] = [{"type": "replied_to", "id": post["in_reply_to"]}]
            found.append(item)
        found = found[:int(call.query.get("max_results") or 10)]
        body: dict = {"meta": {"result_count": len(found)}}
        if found:
            body["data"] = found
            body["meta"] |= {"newest_id": found[0]["id"], "oldest_id": found[-1]["id"]}
        return web.json_response(body)

    async def _posts_lookup(self, request: web.Request, call: Call) -> web.Response:
        grant, refusal = self._authenticate(call, "tweet.read", "users.read")
        if refusal:
            return refusal
        ids = [i for i in call.query.get("ids", "").split(",") if i]
        if not 1 <= len(ids) <= 100:
            return invalid_request("The `ids` query parameter value must contain between 1 and 100 ids.")
        fields = set(call.query.get("tweet.fields", "").split(","))
        expansions = set(call.query.get("expansions", "").split(",")) - {""}
        media_fields = set(call.query.get("media.fields", "").split(",")) - {""}
        unknown = sorted((expansions - POST_EXPANSIONS) | (media_fields - MEDIA_FIELDS))
        if unknown:
            return invalid_request(f"The query parameter values [{', '.join(unknown)}] are not one of the allowed "
                                   "values.")
        data, errors, included = [], [], []
        for post_id in ids:
            post = self.posts.get(post_id)
            if post is None:
                errors.append({"value": post_id, "detail": f"Could not find tweet with ids: [{post_id}].",
                               "title": "Not Found Error", "resource_type": "tweet", "parameter": "ids",
                               "resource_id": post_id, "type": "https://api.twitter.com/2/problems/resource-not-found"})
                continue
            item = {"id": post_id, "text": post["text"], "edit_history_tweet_ids": [post_id]}
            if "public_metrics" in fields:
                item["public_metrics"] = dict(post["public_metrics"])
            if "attachments.media_keys" in expansions and post.get("media_ids"):
                item["attachments"] = {"media_keys": [self._media_view(i, set())["media_key"]
                                                      for i in post["media_ids"]]}
                included += [self._media_view(i, media_fields) for i in post["media_ids"]]
            data.append(item)
        body: dict = {}
        if data:
            body["data"] = data
        if included:
            body["includes"] = {"media": included}
        if errors:
            body["errors"] = errors
        return web.json_response(body)

    def _media_view(self, media_id: str, fields: set[str]) -> dict:
        """An attached media as a post lookup's `includes.media` shows it: its key and type, and the fields asked
        for (a photo has a `url`; a video or GIF a `preview_image_url`)."""
        media = self.media.get(media_id)
        kind = {"tweet_video": "video", "tweet_gif": "animated_gif"}.get(media.category if media else "", "photo")
        key = f"{MEDIA_KEY_PREFIX[kind]}_{media_id}"
        view = {"media_key": key, "type": kind}
        if kind == "photo" and "url" in fields:
            view["url"] = f"https://pbs.twimg.com/media/{key}.jpg"
        if kind != "photo" and "preview_image_url" in fields:
            folder = "ext_tw_video_thumb" if kind == "video" else "tweet_video_thumb"
            view["preview_image_url"] = f"https://pbs.twimg.com/{folder}/{media_id}/pu/img/{key}.jpg"
        return view

    # ---- media ------------------------------------------------------------------------------

    async def _simple_upload(self, request: web.Request, call: Call) -> web.Response:
        grant, refusal = self._authenticate(call, "media.write")
        if refusal:
            return refusal
        parts = call.multipart()
        if "media" not in parts or "media_category" not in parts:
            return invalid_request("media and media_category are required.")
        # MediaUploadRequest (xdevplatform/xdk specs/openapi.json, X API 2.167, 2026-07-21): media, media_category,
        # additional_owners; additionalProperties false.
        unknown = sorted(set(parts) - UPLOAD_FIELDS)
        if unknown:
            return invalid_request(f"The following properties are not allowed: {unknown}",
                                   **{name: [parts[name].text[:40]] for name in unknown})
        data, category = parts["media"].data, parts["media_category"].text
        kind = image_type(data)
        if category not in ("tweet_image", "tweet_gif") or kind is None:
            return invalid_request("media type unrecognized.")
        if category == "tweet_gif" and kind != "image/gif":
            return invalid_request("media type unrecognized.")
        # One-shot upload is for images: a GIF over 5 MB goes through initialize / append / finalize.
        if len(data) > 5 * MB:
            return invalid_request("File size exceeds 5 MB. Larger GIFs and videos need the chunked upload "
                                   "(media/upload/initialize, append, finalize).")
        size = image_size(data)
        if size is None:
            return invalid_request("Image file is corrupt or unsupported.")
        media_id = str(1_900_000_000_000_000_000 + int(self.next_id()))
        media = Media(grant.user_id, category, kind, len(data), {0: data}, state="succeeded")
        body = {"id": media_id, "media_key": f"3_{media_id}", "size": len(data), "expires_after_secs": 86400,
                "image": {"image_type": kind, "w": size[0], "h": size[1]}}
        if category == "tweet_gif":
            media.state, media.polls_left = "pending", self.processing_polls
            body["processing_info"] = {"state": "pending", "check_after_secs": 1}
        self.media[media_id] = media
        return web.json_response({"data": body})

    async def _initialize(self, request: web.Request, call: Call) -> web.Response:
        grant, refusal = self._authenticate(call, "media.write")
        if refusal:
            return refusal
        body = call.json() or {}
        category, media_type, total = body.get("media_category"), body.get("media_type"), body.get("total_bytes")
        kinds = {"tweet_video": ("video/mp4", "video/quicktime"), "tweet_gif": ("image/gif",)}
        if media_type not in kinds.get(category, ()):
            return invalid_request("media_type and media_category must name a video or a GIF.")
        limit = 15 * MB if category == "tweet_gif" else 512 * MB
        if not isinstance(total, int) or not 0 < total <= limit:
            return invalid_request(f"total_bytes must be between 1 and {limit}.")
        media_id = str(1_900_000_000_000_000_000 + int(self.next_id()))
        self.media[media_id] = Media(grant.user_id, category, media_type, total, fails=self.fail_processing)
        return web.json_response({"data": {"id": media_id, "media_key": f"7_{media_id}",
                                           "expires_after_secs": 86400}})

    async def _append(self, request: web.Request, call: Call) -> web.Response:
        grant, refusal = self._authenticate(call, "media.write")
        if refusal:
            return refusal
        media = self.media.get(request.match_info["id"])
        if media is None or media.owner != grant.user_id or media.state != "uploading":
            return invalid_request("Invalid media id.")
        parts = call.multipart()
        if "media" not in parts or "segment_index" not in parts:
            return invalid_request("media and segment_index are required.")
        index = int(parts["segment_index"].text)
        if not 0 <= index <= 999 or len(parts["media"].data) > 5 * MB:
            return invalid_request("segment_index must be 0..999 and a segment at most 5 MB.")
        media.segments[index] = parts["media"].data
        return web.json_response({"data": {"expires_at": int(time.time()) + 86400}})

    async def _finalize(self, request: web.Request, call: Call) -> web.Response:
        grant, refusal = self._authenticate(call, "media.write")
        if refusal:
            return refusal
        media_id = request.match_info["id"]
        media = self.media.get(media_id)
        if media is None or media.owner != grant.user_id:
            return invalid_request("Invalid media id.")
        indexes = sorted(media.segments)
        data = b"".join(media.segments[i] for i in indexes)
        if indexes != list(range(len(indexes))) or len(data) != media.total_bytes:
            return invalid_request("Segments do not add up to provided total file size.")
        if not (image_type(data) == "image/gif" if media.category == "tweet_gif" else is_video(data)):
            return invalid_request("media type unrecognized.")
        media.state, media.polls_left = "pending", self.processing_polls
        return web.json_response({"data": {"id": media_id, "media_key": f"7_{media_id}", "size": len(data),
                                           "expires_after_secs": 86400,
                                           "processing_info": {"state": "pending", "check_after_secs": 1}}})

    async def _upload_status(self, request: web.Request, call: Call) -> web.Response:
        grant, refusal = self._authenticate(call, "media.write")
        if refusal:
            return refusal
        if call.query.get("command") != "STATUS":
            return invalid_request("command must be STATUS.")
        media_id = call.query.get("media_id", "")
        media = self.media.get(media_id)
        if media is None or media.owner != grant.user_id:
            return invalid_request("Invalid media id.")
        info: dict = {}
        if media.state in ("pending", "in_progress"):
            if media.polls_left > 0:
                media.state, media.polls_left = "in_progress", media.polls_left - 1
                info = {"state": "in_progress", "check_after_secs": 1, "progress_percent": 50}
            elif media.fails:
                media.state = "failed"
            else:
                media.state = "succeeded"
        if media.state == "failed":
            info = {"state": "failed", "progress_percent": 100,
                    "error": {"code": 1, "name": "InvalidMedia",
                              "message": "Invalid or Unsupported media, Reason: UnsupportedMedia."}}
        elif media.state == "succeeded":
            info = {"state": "succeeded", "progress_percent": 100}
        return web.json_response({"data": {"id": media_id, "media_key": f"7_{media_id}", "processing_info": info}})

    async def _metadata(self, request: web.Request, call: Call) -> web.Response:
        grant, refusal = self._authenticate(call, "media.write")
        if refusal:
            return refusal
        body = call.json() or {}
        media = self.media.get(str(body.get("id", "")))
        if media is None or media.owner != grant.user_id:
            return invalid_request("Invalid media id.")
        text = (((body.get("metadata") or {}).get("alt_text")) or {}).get("text", "")
        if not text or len(text) > ALT_TEXT_MAX:
            return invalid_request(f"$.metadata.alt_text.text: must be 1 to {ALT_TEXT_MAX} characters.",
                                   **{"metadata.alt_text.text": [text[:40]]})
        media.alt_text = text
        return web.json_response({"data": {"id": body["id"], "associated_metadata": body["metadata"]}})
