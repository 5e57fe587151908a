"""A fake TikTok: Login Kit's authorize page and token endpoints, user info, the Content Posting API
(creator info, video and photo init, chunked upload, status) and the video query, on loopback.

It serves every TikTok host (www.tiktok.com, open.tiktokapis.com, open-upload.tiktokapis.com) at one
address; origin overrides send them all here. It answers in TikTok's v2 envelope
`{"data": …, "error": {"code", "message", "log_id"}}`, refuses what TikTok refuses (privacy levels the
creator does not offer, interactions the creator turned off, branded content posted private (SELF_ONLY),
flags that are not booleans, bad chunk plans, unverified pull URLs,
PNG photos — judged from the fetched bytes with Pillow, videos checked with PyAV), and walks each
publish through PROCESSING_* to PUBLISH_COMPLETE or FAILED as status is polled. Every call is recorded.
"""

from __future__ import annotations

import io
import itertools
import re
import secrets
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import aiohttp
from aiohttp import web
from PIL import Image

from bot.sandbox.fakes.base import Call, LoopbackServer

MIB = 1024 * 1024
PHOTO_FORMATS = {"JPEG", "WEBP"}
VIDEO_CODECS = {"h264", "hevc", "vp8", "vp9"}  # "H.264 (recommended), H.265, VP8, VP9"
ALL_SCOPES = "user.info.basic,video.publish,video.list,user.info.stats"


@dataclass
class Creator:
    open_id: str
    display_name: str = "Acme Studio"
    username: str = "acmestudio"
    avatar_url: str = "https://p16.tiktokcdn.example/acme.jpeg"
    privacy_level_options: list[str] = field(
        default_factory=lambda: ["PUBLIC_TO_EVERYONE", "MUTUAL_FOLLOW_FRIENDS", "SELF_ONLY"])
    comment_disabled: bool = False
    duet_disabled: bool = False
    stitch_disabled: bool = False
    max_video_post_duration_sec: int = 600
    follower_count: int = 1234
    following_count: int = 56
    likes_count: int = 7890
    video_count: int = 42


@dataclass
class Token:
    open_id: str
    scopes: list[str]
    expires: float


@dataclass
class Publish:
    publish_id: str
    open_id: str
    kind: str  # video | photo
    source: str
    post_info: dict
    privacy: str
    urls: list[str] = field(default_factory=list)
    video_size: int = 0
    chunk_size: int = 0
    chunks: int = 0
    received: bytearray = field(default_factory=bytearray)
    polls_left: int = 1
    status: str = "PROCESSING_UPLOAD"
    fail_reason: str | None = None
    post_id: str | None = None


class FakeTikTok(LoopbackServer):

    def __init__(self) -> None:
        super().__init__()
        self.client_key = "tt-client-key"
        self.client_secret = "tt-client-secret"
        self.redirect_uris: set[str] = set()
        self.creators: dict[str, Creator] = {}
        self.codes: dict[str, tuple[str, list[str]]] = {}
        self.tokens: dict[str, Token] = {}
        self.refresh_tokens: dict[str, tuple[str, list[str]]] = {}
        self.publishes: dict[str, Publish] = {}
        self.videos: dict[str, dict[str, int]] = {}  # post id -> figures
        self.revoked: list[str] = []
        # controls
        self.audited = True
        self.verified_url_prefixes: list[str] = []
        self.processing_polls = 1  # PROCESSING_* answers before the final status
        self.fail_with: str | None = None  # a fail_reason to end the next publish with
        self.access_token_lifetime = 7200  # TikTok's newest pages: 2 hours
        self.refresh_token_lifetime = 180 * 86400
        self._rate_limits: list[tuple[str, int, dict]] = []
        # JSON calls sent without `charset=UTF-8`: TikTok's Content Posting reference documents every JSON call with
        # `Content-Type: application/json; charset=UTF-8` but does not say it refuses one without the charset, so
        # the fake notes them (paths) for the tests to check instead of refusing.
        self.json_without_charset: list[str] = []
        self._failures: list[tuple[str, int]] = []
        self._hangs: list[tuple[str, float]] = []
        self._ids = itertools.count(7_300_000_000_000_000_001)

    def applications(self) -> list[web.Application]:
        app = web.Application(client_max_size=200 * MIB)
        app.router.add_get("/v2/auth/authorize/", self._authorize)
        app.router.add_route("*", "/{path:.*}", self._dispatch)
        return [app]

    # ---- test controls ----------------------------------------------------------------------------

    def add_creator(self, open_id: str = "open-1", **kw: Any) -> Creator:
        creator = Creator(open_id, **kw)
        self.creators[open_id] = creator
        return creator

    def grant(self, open_id: str = "open-1", scopes: str = ALL_SCOPES) -> str:
        """An access token for a creator, as if they had connected already."""
        token = f"act.{secrets.token_urlsafe(16)}"
        self.tokens[token] = Token(open_id, scopes.split(","), time.time() + self.access_token_lifetime)
        return token

    def issue_refresh_token(self, open_id: str = "open-1", scopes: str = ALL_SCOPES) -> str:
        token = f"rft.{secrets.token_urlsafe(16)}"
        self.refresh_tokens[token] = (open_id, scopes.split(","))
        return token

    def expire_tokens(self) -> None:
        for token in self.tokens.values():
            token.expires = time.time() - 1

    def revoke_grants(self) -> None:
        """The user removed the app in TikTok: every token and refresh token stops working."""
        self.tokens.clear()
        self.refresh_tokens.clear()

    def rate_limit(self, path: str = "", times: int = 1, headers: dict | None = None) -> None:
        """The next `times` calls whose path contains `path` get 429 rate_limit_exceeded."""
        self._rate_limits += [(path, 1, headers or {})] * times

    def fail(self, path: str = "", times: int = 1, status: int = 500) -> None:
        self._failures += [(path, status)] * times

    def hang(self, path: str, seconds: float = 5.0, times: int = 1) -> None:
        """The next calls to `path` are acted on, then answered only after `seconds`."""
        self._hangs += [(path, seconds)] * times

    def calls_to(self, path: str) -> list[Call]:
        return self.recorded(lambda c: c.path == path)

    def set_video_figures(self, post_id: str, **figures: int) -> None:
        self.videos.setdefault(post_id, {}).update(figures)

    # ---- plumbing ---------------------------------------------------------------------------------

    @staticmethod
    def envelope(data: Any = None, code: str = "ok", message: str = "", status: int = 200,
                 headers: dict | None = None) -> web.Response:
        return web.json_response({"data": data if data is not None else {},
                                  "error": {"code": code, "message": message,
                                            "log_id": "2026112512000000" + secrets.token_hex(5).upper()}},
                                 status=status, headers=headers)

    def _take(self, queue: list, path: str) -> Any:
        for i, item in enumerate(queue):
            if item[0] in path:
                return queue.pop(i)
        return None

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        path = request.path
        body: Any = None
        raw = await request.read()
        if request.content_type == "application/json" and raw:
            try:
                import json

                body = json.loads(raw)
            except ValueError:
                return self.envelope(code="invalid_params", message="Invalid JSON body", status=400)
        elif request.content_type == "application/x-www-form-urlencoded":
            body = dict(await request.post())
        auth = request.headers.get("Authorization", "")
        token = auth[7:] if auth.startswith("Bearer ") else None
        self.record(Call(request.method, request.host, path, dict(request.query),
                         body if body is not None else len(raw), token, dict(request.headers)))
        limited = self._take(self._rate_limits, path)
        if limited:
            return self.envelope(code="rate_limit_exceeded", status=429, headers=limited[2],
                                 message="API rate limit exceeded, please retry later.")
        failed = self._take(self._failures, path)
        if failed:
            return self.envelope(code="internal_error", message="Something went wrong. Please try again later.",
                                 status=failed[1])
        hang = self._take(self._hangs, path)
        response = await self._route(request, path, body, raw, token)
        if hang:
            await self.held(hang[1])
        return response

    async def _route(self, request: web.Request, path: str, body: Any, raw: bytes,
                     token: str | None) -> web.StreamResponse:
        if path == "/v2/oauth/token/" and request.method == "POST":
            return self._token(body or {})
        if path == "/v2/oauth/revoke/" and request.method == "POST":
            return self._revoke(body or {})
        if path == "/video/" and request.method == "PUT" and request.host.startswith("open-upload."):
            return self._put_chunk(request, raw)
        routes = {
            ("GET", "/v2/user/info/"): (self._user_info, None),
            ("POST", "/v2/post/publish/creator_info/query/"): (self._creator_info, "video.publish"),
            ("POST", "/v2/post/publish/video/init/"): (self._video_init, "video.publish"),
            ("POST", "/v2/post/publish/content/init/"): (self._content_init, "video.publish"),
            ("POST", "/v2/post/publish/status/fetch/"): (self._status, "video.publish"),
            ("POST", "/v2/video/query/"): (self._video_query, "video.list"),
        }
        route = routes.get((request.method, path))
        if route is None:
            return self.envelope(code="invalid_params", message=f"Unknown API path {path}", status=404)
        grant = self.tokens.get(token or "")
        if grant is None or grant.expires < time.time():
            return self.envelope(code="access_token_invalid", status=401,
                                 message="The access token is invalid or not found in the request.")
        handler, scope = route
        if scope and scope not in grant.scopes:
            return self.envelope(code="scope_not_authorized", status=401,
                                 message=f"The user did not authorize the scope required for completing this "
                                         f"request: {scope}")
        if request.method == "POST" and request.content_type != "application/json":
            return self.envelope(code="invalid_params", message="Content-Type must be application/json", status=400)
        if request.method == "POST" and (request.charset or "").lower() != "utf-8":
            self.json_without_charset.append(path)
        return await handler(grant, request, body or {})

    # ---- OAuth ------------------------------------------------------------------------------------

    async def _authorize(self, request: web.Request) -> web.Response:
        q = request.query
        self.record(Call("GET", request.host, request.path, dict(q), None, None))
        if q.get("client_key") != self.client_key:
            return web.Response(status=400, text="client_key")
        if q.get("response_type") != "code" or not q.get("state"):
            return web.Response(status=400, text="invalid_request")
        if self.redirect_uris and q.get("redirect_uri") not in self.redirect_uris:
            return web.Response(status=400, text="redirect_uri")
        scopes = [s for s in q.get("scope", "").split(",") if s]
        open_id = q.get("open_id_hint") or next(iter(self.creators), "open-1")
        code = secrets.token_urlsafe(24)
        self.codes[code] = (open_id, scopes)
        target = f"{q['redirect_uri']}?" + urlencode({"code": code, "scopes": ",".join(scopes), "state": q["state"]})
        raise web.HTTPFound(target)

    def _oauth_error(self, error: str, description: str, status: int = 400) -> web.Response:
        return web.json_response({"error": error, "error_description": description,
                                  "log_id": secrets.token_hex(10)}, status=status)

    def _token(self, form: dict) -> web.Response:
        if form.get("client_key") != self.client_key or form.get("client_secret") != self.client_secret:
            return self._oauth_error("invalid_client", "Client key or secret is incorrect.", 401)
        grant_type = form.get("grant_type")
        if grant_type == "authorization_code":
            found = self.codes.pop(form.get("code", ""), None)
            if found is None:
                return self._oauth_error("invalid_grant", "Authorization code is expired.")
            if self.redirect_uris and form.get("redirect_uri") not in self.redirect_uris:
                return self._oauth_error("invalid_request", "redirect_uri does not match.")
            open_id, scopes = found
        elif grant_type == "refresh_token":
            found = self.refresh_tokens.pop(form.get("refresh_token", ""), None)  # rotation: single use
            if found is None:
                return self._oauth_error("invalid_grant", "Refresh token is invalid or expired.")
            open_id, scopes = found
        else:
            return self._oauth_error("unsupported_grant_type", "grant_type is not supported.")
        access = self.grant(open_id, ",".join(scopes))
        refresh = self.issue_refresh_token(open_id, ",".join(scopes))
        return web.json_response({
            "access_token": access, "expires_in": self.access_token_lifetime, "open_id": open_id,
            "refresh_expires_in": self.refresh_token_lifetime, "refresh_token": refresh,
            "scope": ",".join(scopes), "token_type": "Bearer"})

    def _revoke(self, form: dict) -> web.Response:
        if form.get("client_key") != self.client_key or form.get("client_secret") != self.client_secret:
            return self._oauth_error("invalid_client", "Client key or secret is incorrect.", 401)
        grant = self.tokens.pop(form.get("token", ""), None)
        if grant is not None:
            self.revoked.append(grant.open_id)
            for rt, (open_id, _) in list(self.refresh_tokens.items()):
                if open_id == grant.open_id:
                    del self.refresh_tokens[rt]
        return web.Response(status=200)

    # ---- user and creator -------------------------------------------------------------------------

    async def _user_info(self, grant: Token, request: web.Request, body: dict) -> web.Response:
        creator = self.creators[grant.open_id]
        fields = [f for f in request.query.get("fields", "").split(",") if f]
        if not fields:
            return self.envelope(code="invalid_params", message="fields is required", status=400)
        stats = {"follower_count", "following_count", "likes_count", "video_count"}
        if stats & set(fields) and "user.info.stats" not in grant.scopes:
            return self.envelope(code="scope_not_authorized", status=401,
                                 message="The user did not authorize the scope required for completing this "
                                         "request: user.info.stats")
        values = {"open_id": creator.open_id, "union_id": "union-" + creator.open_id,
                  "avatar_url": creator.avatar_url, "display_name": creator.display_name,
                  "follower_count": creator.follower_count, "following_count": creator.following_count,
                  "likes_count": creator.likes_count, "video_count": creator.video_count}
        unknown = [f for f in fields if f not in values]
        if unknown:
            return self.envelope(code="invalid_params", message=f"Invalid fields: {','.join(unknown)}", status=400)
        return self.envelope({"user": {f: values[f] for f in fields}})

    async def _creator_info(self, grant: Token, request: web.Request, body: dict) -> web.Response:
        c = self.creators[grant.open_id]
        return self.envelope({
            "creator_avatar_url": c.avatar_url, "creator_username": c.username, "creator_nickname": c.display_name,
            "privacy_level_options": c.privacy_level_options, "comment_disabled": c.comment_disabled,
            "duet_disabled": c.duet_disabled, "stitch_disabled": c.stitch_disabled,
            "max_video_post_duration_sec": c.max_video_post_duration_sec})

    # ---- posting ----------------------------------------------------------------------------------

    def _check_post_info(self, creator: Creator, info: Any, photo: bool) -> web.Response | None:
        if not isinstance(info, dict):
            return self.envelope(code="invalid_params", message="post_info is required", status=400)
        privacy = info.get("privacy_level")
        if privacy not in creator.privacy_level_options:
            return self.envelope(code="privacy_level_option_mismatch", status=400,
                                 message=f"privacy_level {privacy} is not one of the creator's options")
        booleans = ["disable_comment", "brand_content_toggle", "brand_organic_toggle"]
        booleans += ["auto_add_music"] if photo else ["disable_duet", "disable_stitch", "is_aigc"]
        wrong = [name for name in booleans if name in info and not isinstance(info[name], bool)]
        if wrong:
            return self.envelope(code="invalid_params", status=400, message=f"post_info.{wrong[0]} must be a boolean")
        # TikTok's rule (Content Sharing Guidelines 3b): branded content cannot be private. UNCERTAIN: the code
        # and status TikTok answers it with; invalid_params, as for other post_info it refuses.
        if info.get("brand_content_toggle") is True and privacy == "SELF_ONLY":
            return self.envelope(code="invalid_params", status=400,
                                 message="Branded content visibility cannot be set to private.")
        if not self.audited and privacy != "SELF_ONLY":
            return self.envelope(code="unaudited_client_can_only_post_to_private_accounts", status=403,
                                 message="Please review our integration guidelines at "
                                         "https://developers.tiktok.com/doc/content-sharing-guidelines/")

        def utf16(text: Any) -> int:
            return len(str(text or "").encode("utf-16-le")) // 2

        limits = {"title": 90, "description": 4000} if photo else {"title": 2200}
        for name, limit in limits.items():
            if utf16(info.get(name)) > limit:
                return self.envelope(code="invalid_params", status=400,
                                     message=f"post_info.{name} exceeds {limit} UTF-16 runes")
        flags = [("disable_comment", creator.comment_disabled)]
        if not photo:
            flags += [("disable_duet", creator.duet_disabled), ("disable_stitch", creator.stitch_disabled)]
        for name, creator_disabled in flags:
            if creator_disabled and info.get(name) is False:
                return self.envelope(code="invalid_params", status=400,
                                     message=f"{name} must be true: the creator turned this interaction off")
        return None

    def _verified(self, url: Any) -> bool:
        return isinstance(url, str) and any(url.startswith(p) for p in self.verified_url_prefixes)

    def _new_publish(self, grant: Token, kind: str, source: str, info: dict, **kw: Any) -> Publish:
        prefix = "p_pub_url" if kind == "photo" else ("v_pub_url" if source == "PULL_FROM_URL" else "v_pub_file")
        publish = Publish(f"{prefix}~v2-1.{next(self._ids)}", grant.open_id, kind, source, info,
                          info["privacy_level"], polls_left=self.processing_polls,
                          status="PROCESSING_DOWNLOAD" if source == "PULL_FROM_URL" else "PROCESSING_UPLOAD", **kw)
        self.publishes[publish.publish_id] = publish
        return publish

    async def _video_init(self, grant: Token, request: web.Request, body: dict) -> web.Response:
        creator = self.creators[grant.open_id]
        refused = self._check_post_info(creator, body.get("post_info"), photo=False)
        if refused:
            return refused
        source_info = body.get("source_info") or {}
        source = source_info.get("source")
        if source == "PULL_FROM_URL":
            if not self._verified(source_info.get("video_url")):
                return self.envelope(code="url_ownership_unverified", status=403,
                                     message="Please verify the ownership of the domain or URL prefix.")
            publish = self._new_publish(grant, "video", source, body["post_info"], urls=[source_info["video_url"]])
            return self.envelope({"publish_id": publish.publish_id})
        if source != "FILE_UPLOAD":
            return self.envelope(code="invalid_params", message="source_info.source is invalid", status=400)
        size, chunk, count = (source_info.get(k) for k in ("video_size", "chunk_size", "total_chunk_count"))
        if not all(isinstance(v, int) and v > 0 for v in (size, chunk, count)):
            return self.envelope(code="invalid_params", status=400,
                                 message="video_size, chunk_size and total_chunk_count are required")
        if size < 5 * MIB:
            ok = chunk == size and count == 1
        else:
            ok = (5 * MIB <= chunk <= 64 * MIB or chunk == size <= 64 * MIB) and count == size // chunk \
                and 1 <= count <= 1000 and size - (count - 1) * chunk <= 128 * MIB
        if size > 4 * 1024 * MIB:
            ok = False
        if not ok:
            return self.envelope(code="invalid_params", status=400,
                                 message="The chunk size or total chunk count is invalid.")
        publish = self._new_publish(grant, "video", source, body["post_info"], video_size=size, chunk_size=chunk,
                                    chunks=count)
        upload_url = ("https://open-upload.tiktokapis.com/video/?"
                      + urlencode({"upload_id": publish.publish_id, "upload_token": secrets.token_hex(8)}))
        return self.envelope({"publish_id": publish.publish_id, "upload_url": upload_url})

    def _put_chunk(self, request: web.Request, raw: bytes) -> web.Response:
        publish = self.publishes.get(request.query.get("upload_id", ""))
        if publish is None or publish.source != "FILE_UPLOAD":
            return web.json_response({"error": {"code": "invalid_params", "message": "upload not found"}},
                                     status=404)
        match = re.fullmatch(r"bytes (\d+)-(\d+)/(\d+)", request.headers.get("Content-Range", ""))
        if not match or not request.headers.get("Content-Type", "").startswith("video/"):
            return web.json_response({"error": {"code": "invalid_params",
                                                "message": "Content-Range and Content-Type are required"}},
                                     status=400)
        first, last, total = map(int, match.groups())
        index = first // publish.chunk_size
        final = index == publish.chunks - 1
        expected = publish.video_size - first if final else publish.chunk_size
        if (total != publish.video_size or first != len(publish.received) or last - first + 1 != len(raw)
                or len(raw) != expected):
            return web.json_response({"error": {"code": "invalid_params",
                                                "message": "The chunk does not follow the upload plan."}},
                                     status=416)
        publish.received += raw
        if len(publish.received) == publish.video_size:
            return web.Response(status=201)
        return web.Response(status=206)

    async def _content_init(self, grant: Token, request: web.Request, body: dict) -> web.Response:
        creator = self.creators[grant.open_id]
        if body.get("media_type") != "PHOTO" or body.get("post_mode") not in ("DIRECT_POST", "MEDIA_UPLOAD"):
            return self.envelope(code="invalid_params", message="media_type must be PHOTO and post_mode "
                                 "DIRECT_POST or MEDIA_UPLOAD", status=400)
        refused = self._check_post_info(creator, body.get("post_info"), photo=True)
        if refused:
            return refused
        source_info = body.get("source_info") or {}
        images = source_info.get("photo_images")
        if source_info.get("source") != "PULL_FROM_URL" or not isinstance(images, list) or not 1 <= len(images) <= 35:
            return self.envelope(code="invalid_params", status=400,
                                 message="source_info needs PULL_FROM_URL and 1 to 35 photo_images")
        cover = source_info.get("photo_cover_index")
        if not isinstance(cover, int) or not 0 <= cover < len(images):
            return self.envelope(code="invalid_params", message="photo_cover_index is out of range", status=400)
        if not all(self._verified(u) for u in images):
            return self.envelope(code="url_ownership_unverified", status=403,
                                 message="Please verify the ownership of the domain or URL prefix.")
        publish = self._new_publish(grant, "photo", "PULL_FROM_URL", body["post_info"], urls=images)
        return self.envelope({"publish_id": publish.publish_id})

    async def _status(self, grant: Token, request: web.Request, body: dict) -> web.Response:
        publish = self.publishes.get(body.get("publish_id", ""))
        if publish is None or publish.open_id != grant.open_id:
            return self.envelope(code="invalid_params", message="publish_id is invalid", status=400)
        data: dict[str, Any] = {}
        if publish.status.startswith("PROCESSING"):
            uploading = publish.source == "FILE_UPLOAD" and len(publish.received) < publish.video_size
            if not uploading and publish.polls_left <= 0:
                await self._finish(publish)
            elif not uploading:
                publish.polls_left -= 1
        data["status"] = publish.status
        if publish.status == "FAILED":
            data["fail_reason"] = publish.fail_reason
        if publish.status == "PUBLISH_COMPLETE":
            data["publicaly_available_post_id"] = [int(publish.post_id)] if publish.post_id else []
        if publish.kind == "video" and publish.source == "FILE_UPLOAD":
            data["uploaded_bytes"] = len(publish.received)
        return self.envelope(data)

    async def _finish(self, publish: Publish) -> None:
        reason = self.fail_with
        self.fail_with = None
        if reason is None:
            reason = await (self._check_photos(publish) if publish.kind == "photo" else self._check_video(publish))
        if reason:
            publish.status, publish.fail_reason = "FAILED", reason
            return
        publish.status = "PUBLISH_COMPLETE"
        if publish.privacy != "SELF_ONLY":  # post ids are given for public posts only
            publish.post_id = str(next(self._ids))
            self.videos[publish.post_id] = {"view_count": 0, "like_count": 0, "comment_count": 0, "share_count": 0}

    async def _fetch(self, url: str) -> bytes | None:
        try:
            async with aiohttp.ClientSession() as session, session.get(url) as response:
                return await response.read() if response.status == 200 else None
        except aiohttp.ClientError:
            return None

    async def _check_photos(self, publish: Publish) -> str | None:
        for url in publish.urls:
            data = await self._fetch(url)
            if data is None:
                return "photo_pull_failed"
            try:
                image = Image.open(io.BytesIO(data))
                image.load()
            except Exception:  # noqa: BLE001 - any unreadable file is a format failure at TikTok
                return "file_format_check_failed"
            if image.format not in PHOTO_FORMATS:
                return "file_format_check_failed"
            if len(data) > 20_000_000 or min(image.size) > 1080 or max(image.size) > 1920:
                return "picture_size_check_failed"
        return None

    async def _check_video(self, publish: Publish) -> str | None:
        if publish.source == "PULL_FROM_URL":
            data = await self._fetch(publish.urls[0])
            if data is None:
                return "video_pull_failed"
        else:
            data = bytes(publish.received)
        import av

        try:
            with av.open(io.BytesIO(data)) as container:
                if not {"mp4", "mov", "webm", "matroska"} & set(container.format.name.split(",")):
                    return "file_format_check_failed"
                stream = container.streams.video[0]
                if stream.codec_context.codec.canonical_name not in VIDEO_CODECS:
                    return "file_format_check_failed"
                seconds = float(stream.duration * stream.time_base) if stream.duration else \
                    (container.duration or 0) / 1e6
                fps = float(stream.average_rate or 0)
                width, height = stream.codec_context.width, stream.codec_context.height
        except (av.error.FFmpegError, IndexError):
            return "file_format_check_failed"
        if seconds > self.creators[publish.open_id].max_video_post_duration_sec:
            return "duration_check_failed"
        if not 23 <= fps <= 60:
            return "frame_rate_check_failed"
        if not (360 <= width <= 4096 and 360 <= height <= 4096):
            return "picture_size_check_failed"
        return None

    async def _video_query(self, grant: Token, request: web.Request, body: dict) -> web.Response:
        ids = (body.get("filters") or {}).get("video_ids")
        if not isinstance(ids, list) or not 1 <= len(ids) <= 20:
            return self.envelope(code="invalid_params", message="filters.video_ids needs 1 to 20 ids", status=400)
        fields = [f for f in request.query.get("fields", "").split(",") if f]
        videos = []
        for video_id in ids:
            figures = self.videos.get(str(video_id))
            if figures is None:
                continue
            # cover_image_url: a signed CDN address that lapses after 6 hours (TikTok's video object reference).
            cover = (f"https://p16-sign.tiktokcdn-us.com/obj/tos-useast5-p-0068-tx/{video_id}~tplv-noop.image"
                     f"?x-expires={int(time.time()) + 6 * 3600}&x-signature=fake")
            values = {"id": str(video_id), "title": "", "cover_image_url": cover, **figures}
            videos.append({f: values[f] for f in fields if f in values})
        return self.envelope({"videos": videos, "cursor": 0, "has_more": False})
