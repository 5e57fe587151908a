"""A fake Meta on loopback: Facebook Login, the Graph API (graph.facebook.com), Instagram Login
(www.instagram.com, api.instagram.com) and the Instagram Graph API (graph.instagram.com).

One server answers for every host, routing on the Host header (bot.http's origin overrides keep it).
It answers with Meta's paths (version prefix included), parameters, status codes and error envelopes
as /work/shared/platforms/meta.md describes them; fetches image and video URLs over HTTP as Meta does
and refuses what Meta refuses; and records every call and every fetch for tests to assert on.
Where meta.md gives no exact payload (e.g. the refusal of a too-young token refresh), the fake's
words are its own, in Meta's envelope.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import io
import itertools
import json
import re
import secrets
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import aiohttp
from aiohttp import web
from PIL import Image, UnidentifiedImageError

from bot.platforms.base import AdapterConfig
from bot.sandbox.fakes.base import LOOPBACK_HOSTS, LoopbackServer

HOSTS = ("graph.facebook.com", "www.facebook.com", "graph.instagram.com", "api.instagram.com", "www.instagram.com",
         "rupload.facebook.com", "graph-video.facebook.com")

APP_ID = "100200300400500"
APP_SECRET = "fake-meta-app-secret"
IG_APP_ID = "900800700600500"
IG_APP_SECRET = "fake-instagram-app-secret"

SHORT_LIVED = 3600  # seconds: Facebook's and Instagram's short-lived user tokens
FB_LONG_LIVED = 5183944  # what fb_exchange_token answers (meta.md A)
IG_LONG_LIVED = 5184000  # 60 days (meta.md B)
IG_REFRESH_MIN_AGE = 24 * 3600

IG_MAX_IMAGE_BYTES = 8 * 1024 * 1024  # "It should be less than 8 MiB"
FB_MAX_PHOTO_BYTES = 4 * 1024 * 1024
IG_CAPTION_MAX = 2200
IG_CAROUSEL_MAX = 10
IG_MIN_RATIO, IG_MAX_RATIO = 4 / 5, 1.91
IG_MAX_COLLABORATORS = 3  # ig-media/collaborators: "Up to 3 Instagram accounts can be added as collaborators"
IG_USERNAME = re.compile(r"[A-Za-z0-9._]{1,30}")
IG_STORY_SECONDS = (3.0, 60.0)  # ig-user/media: story videos 3–60 s
FB_REEL_SECONDS = (3.0, 90.0)  # Video API "Reels Publishing API": 3–90 s, at least 540 × 960, 9:16
FB_REEL_MIN_SIZE = (540, 960)
FB_REELS_PER_DAY = 30  # "limited to 30 API-published posts within a 24-hour moving period"
FB_STORY_MAX_SECONDS = 60.0  # Page Stories: "video stories can not exceed 60 seconds"
# Resumable Upload API: "Valid values are: application/pdf, image/jpeg, image/jpg, image/png, and video/mp4".
UPLOAD_FILE_TYPES = {"application/pdf", "image/jpeg", "image/jpg", "image/png", "video/mp4"}


@dataclass
class UploadSession:
    id: str  # "upload:<id>", as Meta names it
    user_id: str
    file_name: str
    file_length: int
    file_type: str
    data: bytes = b""
    handle: str | None = None  # once every byte arrived

POSTING_TASKS = {"CREATE_CONTENT", "MANAGE"}
ALL_TASKS = ["ANALYZE", "ADVERTISE", "MODERATE", "CREATE_CONTENT", "MANAGE"]

# Permissions the Facebook dialog knows; anything else (publish_to_groups, removed 2024) is refused.
FB_PERMISSIONS = {
    "public_profile", "email", "pages_show_list", "pages_manage_posts", "pages_read_engagement",
    "pages_manage_engagement", "pages_read_user_content", "pages_manage_metadata", "read_insights",
    "business_management", "instagram_basic", "instagram_content_publish", "instagram_manage_comments",
    "instagram_manage_insights", "instagram_manage_messages", "ads_read", "ads_management",
}
# Instagram Login's scope names (the old business_* names died 2025-01-27).
IG_PERMISSIONS = {
    "instagram_business_basic", "instagram_business_content_publish", "instagram_business_manage_comments",
    "instagram_business_manage_insights", "instagram_business_manage_messages",
}

IG_USER_METRICS = {
    "reach", "follower_count", "website_clicks", "profile_views", "online_followers", "accounts_engaged",
    "total_interactions", "likes", "comments", "shares", "saves", "replies", "follows_and_unfollows",
    "profile_links_taps", "views", "engaged_audience_demographics", "reached_audience_demographics",
    "follower_demographics", "viewers",
}
IG_TOTAL_VALUE_ONLY = IG_USER_METRICS - {"reach", "follower_count", "online_followers"}
IG_MEDIA_METRICS = {
    "views", "reach", "likes", "comments", "shares", "saved", "total_interactions", "follows",
    "profile_visits", "profile_activity", "ig_reels_avg_watch_time", "ig_reels_video_view_total_time", "replies",
    "navigation", "viewers",
}
PAGE_METRICS = {
    "page_media_view", "page_total_media_view_unique", "page_post_engagements", "page_follows",
    "page_daily_follows", "page_daily_follows_unique", "page_daily_unfollows_unique", "page_views_total",
    "page_video_views", "page_total_actions",
}
POST_METRICS = {
    "post_media_view", "post_total_media_view_unique", "post_reactions_by_type_total", "post_clicks",
    "post_video_views",
}
# Removed metrics: Instagram 2025-04-21, Facebook Pages 2025-06-15 / 2025-11-15 (meta.md A, C).
IG_DEPRECATED = {"impressions", "plays", "clips_replays_count", "ig_reels_aggregated_all_plays_count",
                 "video_views", "engagement"}


def page_metric_deprecated(name: str) -> bool:
    return ("impressions" in name or name.startswith(("page_fans", "page_fan_")) or name == "page_fans")


@dataclass
class Call:
    host: str
    method: str
    path: str
    version: str | None  # the /vNN.N/ prefix of a Graph path
    endpoint: str  # the path without its version prefix, e.g. "me/accounts"
    params: dict[str, Any]
    token: str | None
    status: int = 0


@dataclass
class Token:
    value: str
    family: str  # facebook | instagram
    user_id: str  # Facebook user id, or Instagram account id
    expires_at: float | None
    issued_at: float
    long_lived: bool = False
    page_id: str | None = None  # a Page token
    dead: tuple[int, int | None, str] | None = None  # (code, subcode, message) once revoked


@dataclass
class FbUser:
    id: str
    name: str
    granted: set[str] = field(default_factory=set)
    declined: set[str] = field(default_factory=set)
    tasks: dict[str, list[str]] = field(default_factory=dict)  # page id -> tasks


@dataclass
class Page:
    id: str
    name: str
    username: str
    followers_count: int = 0
    ig_user_id: str | None = None
    insights: dict[str, int] = field(default_factory=dict)
    unavailable: set[str] = field(default_factory=set)  # metrics Graph refuses for this Page (code 100)
    reels_at: list[float] = field(default_factory=list)  # when each Reel was published (30 per 24 h)


@dataclass
class IgUser:
    id: str  # the Instagram professional account id (17841…)
    username: str
    name: str
    account_type: str = "BUSINESS"  # BUSINESS | MEDIA_CREATOR | PERSONAL
    login_id: str = ""  # the app-scoped id graph.instagram.com shows as `id`
    followers_count: int = 0
    media_count: int = 0
    granted: set[str] = field(default_factory=set)  # Instagram Login permissions
    insights: dict[str, int] = field(default_factory=dict)
    unavailable: set[str] = field(default_factory=set)  # metrics Graph refuses for this account (code 100)
    quota_total: int = 50
    published_at: list[float] = field(default_factory=list)


@dataclass
class Container:
    id: str
    owner: str
    media_type: str  # IMAGE, VIDEO, REELS, CAROUSEL
    caption: str
    url: str | None
    carousel_item: bool
    status_code: str = "IN_PROGRESS"
    polls_left: int = 0
    final: str = "FINISHED"
    subcode: int | None = None
    children: list[str] = field(default_factory=list)
    polls: int = 0
    thumb_offset: str | None = None  # a Reel's cover frame, in ms, as sent
    params: dict[str, Any] = field(default_factory=dict)  # every parameter the container was created with
    problem: str | None = None  # why a video was refused (error 2207026), for tests to read


@dataclass
class IgMedia:
    id: str
    owner: str
    media_type: str  # IMAGE, VIDEO, CAROUSEL_ALBUM
    product: str  # FEED, REELS
    caption: str
    shortcode: str
    children: list[str] = field(default_factory=list)
    comments: list[str] = field(default_factory=list)
    like_count: int = 0
    comments_count: int = 0
    insights: dict[str, int] = field(default_factory=dict)
    container: str = ""
    share_to_feed: bool | None = None  # Reels: as sent on the container

    @property
    def permalink(self) -> str:
        if self.product == "STORY":
            return f"https://www.instagram.com/stories/{self.owner}/{self.id}/"
        return f"https://www.instagram.com/{'reel' if self.product == 'REELS' else 'p'}/{self.shortcode}/"


@dataclass
class FbObject:
    id: str
    page_id: str
    kind: str  # post, photo, video
    message: str = ""
    link: str | None = None
    attached: list[str] = field(default_factory=list)
    published: bool = True
    url: str | None = None
    post_id: str | None = None  # the post showing a photo or a video
    reactions: int = 0
    comments: int = 0
    shares: int = 0
    insights: dict[str, int] = field(default_factory=dict)
    video_polls_left: int = 0
    video_final: str = "ready"
    title: str | None = None
    alt_text_custom: str | None = None  # a photo's own alt text, as sent
    product: str = ""  # reel | story: made through an upload session (video_reels / video_stories)
    uploaded: bool = False  # the session's file arrived on rupload
    video_error: str | None = None  # why processing failed
    seconds: float | None = None  # the uploaded video's length
    size: tuple[int, int] = (0, 0)  # the uploaded video's width and height as shown


class GraphError(Exception):
    """Raised inside a handler; becomes Meta's error envelope."""

    def __init__(self, message: str, code: int, subcode: int | None = None, *, status: int = 400,
                 user_title: str | None = None, user_msg: str | None = None, transient: bool = False,
                 headers: dict[str, str] | None = None):
        super().__init__(message)
        self.body = {"message": message, "type": "OAuthException", "code": code}
        if subcode is not None:
            self.body["error_subcode"] = subcode
        self.body["is_transient"] = transient
        if user_title:
            self.body["error_user_title"] = user_title
        if user_msg:
            self.body["error_user_msg"] = user_msg
        self.body["fbtrace_id"] = secrets.token_urlsafe(8)
        self.status = status
        self.headers = headers or {}

    def response(self) -> web.Response:
        return web.json_response({"error": self.body}, status=self.status, headers=self.headers)


def _missing_object(object_id: str) -> GraphError:
    return GraphError(f"Unsupported get request. Object with ID '{object_id}' does not exist, cannot be loaded due "
                      "to missing permissions, or does not support this operation.", 100, 33)


def parse_fields(spec: str) -> list[tuple[str, str | None]]:
    """`id,name,instagram_business_account{id,username},reactions.summary(total_count)` →
    [(name, sub-fields or None)]; modifiers after a dot are accepted and ignored."""
    out: list[tuple[str, str | None]] = []
    depth, start = 0, 0
    for i, ch in enumerate(spec + ","):
        if ch in "{(":
            depth += 1
        elif ch in "})":
            depth -= 1
        elif ch == "," and depth == 0:
            item, start = spec[start:i].strip(), i + 1
            if not item:
                continue
            name = re.match(r"[A-Za-z_0-9]+", item).group(0)
            rest = item[len(name):]
            sub = rest[1:rest.rindex("}")] if rest.startswith("{") else None
            out.append((name, sub))
    return out


def select(node_type: str, available: dict[str, Any], spec: str | None, default: tuple[str, ...]) -> dict:
    if not spec:
        return {k: available[k] for k in default if k in available}
    out: dict[str, Any] = {}
    for name, sub in parse_fields(spec):
        if name not in available:
            raise GraphError(f"(#100) Tried accessing nonexisting field ({name}) on node type ({node_type})", 100)
        value = available[name]
        if value is None:
            continue  # Meta leaves out fields without a value
        if sub and isinstance(value, dict):
            if isinstance(value.get("data"), dict):
                value = {"data": select(node_type, value["data"], sub, ())}
            else:
                value = select(node_type, value, sub, ())
        out[name] = value
    return out


def image_problem(data: bytes) -> tuple[str | None, int, int]:
    """(format, width, height) as Pillow reads the bytes; format None when they are no image."""
    try:
        with Image.open(io.BytesIO(data)) as img:
            return img.format, img.size[0], img.size[1]
    except (UnidentifiedImageError, OSError):
        return None, 0, 0


def is_mp4_or_mov(data: bytes) -> bool:
    return len(data) >= 12 and data[4:8] == b"ftyp"


def reel_problem(data: bytes) -> str | None:
    """What Meta's Reels spec refuses in a real video (meta.md: the moov atom at the front, H.264 or HEVC,
    AAC sound, 23–60 fps, at most 1920 px wide, 3 s – 15 min), in words; None when it meets it, and for
    bytes that only start like an MP4 (the stubs other tests send)."""
    import av

    try:
        with av.open(io.BytesIO(data)) as container:
            stream = container.streams.video[0]
            codec = stream.codec_context.codec.canonical_name
            audio = [s.codec_context.codec.canonical_name for s in container.streams.audio]
            fps = float(stream.average_rate or 0)
            width, height = stream.codec_context.width, stream.codec_context.height
            seconds = float(stream.duration * stream.time_base) if stream.duration else (container.duration or 0) / 1e6
            turn = next((round(f.rotation) % 180 for f in container.decode(stream)), 0)
    except (av.error.FFmpegError, IndexError):
        return None
    if turn:
        width, height = height, width
    offset, moov_first = 0, None
    while offset + 8 <= len(data) and moov_first is None:
        size, kind = int.from_bytes(data[offset:offset + 4], "big"), data[offset + 4:offset + 8]
        if kind in (b"moov", b"mdat"):
            moov_first = kind == b"moov"
        if size == 1:
            size = int.from_bytes(data[offset + 8:offset + 16], "big")
        if size < 8:
            break
        offset += size
    if not moov_first:
        return "the moov atom is not at the front"
    if codec not in ("h264", "hevc"):
        return f"video codec {codec}"
    if any(a != "aac" for a in audio):
        return f"audio codec {audio}"
    if not 23 <= fps <= 60:
        return f"{fps:g} fps"
    if width > 1920:
        return f"{width} px wide"
    if not 3 <= seconds <= 15 * 60:
        return f"{seconds:.1f} s long"
    return None


def video_facts(data: bytes) -> tuple[float, int, int] | None:
    """(seconds, width, height as shown) of a real video; None for bytes that are no video."""
    import av

    try:
        with av.open(io.BytesIO(data)) as container:
            stream = container.streams.video[0]
            width, height = stream.codec_context.width, stream.codec_context.height
            seconds = float(stream.duration * stream.time_base) if stream.duration else (container.duration or 0) / 1e6
            turn = next((round(f.rotation) % 180 for f in container.decode(stream)), 0)
    except (av.error.FFmpegError, IndexError):
        return None
    return (seconds, height, width) if turn else (seconds, width, height)


class FakeMeta(LoopbackServer):
    """Start with `start()`; give `overrides` to bot.http.build_client."""

    def __init__(self) -> None:
        super().__init__()
        self.fetched: list[str] = []  # media URLs Meta downloaded
        self.downloads: list[tuple[str, bytes]] = []  # each successful download: (URL, the bytes received)
        self.dialogs: list[dict[str, str]] = []  # authorize pages opened, with their parameters
        self._session: aiohttp.ClientSession | None = None
        self._release: asyncio.Event | None = None
        self.reset()

    def applications(self) -> list[web.Application]:
        app = web.Application(client_max_size=10 * 1024 * 1024)
        app.router.add_route("*", "/{tail:.*}", self._dispatch)
        app.on_startup.append(self._open)
        app.on_cleanup.append(self._close)
        return [app]

    async def _open(self, app: web.Application) -> None:
        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10))
        self._release = asyncio.Event()

    async def _close(self, app: web.Application) -> None:
        await self._session.close()

    def stop(self) -> None:
        self.release_hangs()
        super().stop()

    @property
    def overrides(self) -> dict[str, str]:
        return {f"https://{host}": self.url for host in HOSTS}

    # ---- the world, and the controls tests use ------------------------------------------------

    def reset(self) -> None:
        """Forget every call and token; rebuild the default world (see `seed`)."""
        self.release_hangs()
        self.forget_calls()
        self.fetched.clear()
        self.downloads.clear()
        self.dialogs.clear()
        self._ids = itertools.count(1)
        self.tokens: dict[str, Token] = {}
        self.codes: dict[str, dict[str, Any]] = {}
        self.fb_users: dict[str, FbUser] = {}
        self.pages: dict[str, Page] = {}
        self.ig_users: dict[str, IgUser] = {}
        self.containers: dict[str, Container] = {}
        self.ig_media: dict[str, IgMedia] = {}
        self.fb_objects: dict[str, FbObject] = {}
        self.upload_sessions: dict[str, UploadSession] = {}
        self.browser_user = "10001"  # who is logged in to facebook.com in the "browser"
        self.browser_ig_user = "17841400000009"  # who is logged in to instagram.com
        self.deny_next_dialog = False
        self.decline_in_dialog: set[str] = set()  # permissions the user unticks in the dialog
        self.ig_code_response_shape = "data"  # "data": {"data": [{...}]}; "flat": fields at the top level
        self.accounts_page_size = 25  # /me/accounts pages at most this many (Meta's default limit)
        self.require_appsecret_proof = False  # the app's "Require App Secret" setting
        self.video_processing_polls = 2  # status reads a video stays IN_PROGRESS / processing
        self.container_plans: list[tuple[int, str, int | None]] = []  # next containers: (polls, final, subcode)
        self.video_plans: list[tuple[int, str]] = []  # next Facebook videos: (polls, "ready" | "error")
        self._injections: list[dict[str, Any]] = []
        self._hangs: list[str] = []
        self.seed()

    def seed(self) -> None:
        """Maria (Facebook user 10001) manages three Pages: Acme Coffee (every task, Instagram @acmecoffee
        linked), Acme Bakery (analyze and moderate only, @acmebakery linked) and Acme Events (every
        task, no Instagram). Instagram Login knows @acme.studio (Business), @maria.personal (Personal)
        and @chef.lu (Creator)."""
        maria = self.add_fb_user("10001", "Maria Lopez")
        self.add_ig_user("17841400000001", "acmecoffee", "Acme Coffee", followers=5120)
        self.add_ig_user("17841400000002", "acmebakery", "Acme Bakery", followers=880)
        self.add_page("2001", "Acme Coffee", "acmecoffee", followers=12040, ig="17841400000001")
        self.add_page("2002", "Acme Bakery", "acmebakery", followers=310, ig="17841400000002")
        self.add_page("2003", "Acme Events", "acmeevents", followers=95)
        maria.tasks = {"2001": list(ALL_TASKS), "2002": ["ANALYZE", "MODERATE"], "2003": list(ALL_TASKS)}
        self.add_ig_user("17841400000009", "acme.studio", "Acme Studio", followers=2048, login=True)
        self.add_ig_user("17841400000010", "maria.personal", "Maria", account_type="PERSONAL", login=True)
        self.add_ig_user("17841400000011", "chef.lu", "Chef Lu", account_type="MEDIA_CREATOR", followers=77,
                         login=True)

    def add_fb_user(self, user_id: str, name: str) -> FbUser:
        user = FbUser(user_id, name, granted=set(FB_PERMISSIONS) - {"ads_read", "ads_management"})
        self.fb_users[user_id] = user
        return user

    def add_page(self, page_id: str, name: str, username: str, *, followers: int = 0, ig: str | None = None,
                 user: str | None = None, tasks: list[str] | None = None) -> Page:
        page = Page(page_id, name, username, followers, ig)
        self.pages[page_id] = page
        if user:
            self.fb_users[user].tasks[page_id] = list(tasks or ALL_TASKS)
        return page

    def add_ig_user(self, ig_id: str, username: str, name: str, *, account_type: str = "BUSINESS",
                    followers: int = 0, login: bool = False) -> IgUser:
        user = IgUser(ig_id, username, name, account_type, login_id=f"26{ig_id[-12:]}", followers_count=followers,
                      granted=set(IG_PERMISSIONS) if login else set())
        self.ig_users[ig_id] = user
        return user

    def issue_user_token(self, user_id: str = "10001", *, long_lived: bool = True) -> str:
        """A Facebook user token, as the dialog and code exchange would have produced it."""
        return self._new_token("facebook", user_id, long_lived=long_lived).value

    def issue_ig_token(self, ig_id: str = "17841400000009", *, long_lived: bool = True) -> str:
        return self._new_token("instagram", ig_id, long_lived=long_lived).value

    def page_token(self, user_id: str, page_id: str) -> str:
        """The Page token /me/accounts hands `user_id` for `page_id` (made on first ask)."""
        for tok in self.tokens.values():
            if tok.page_id == page_id and tok.user_id == user_id and tok.dead is None:
                return tok.value
        tok = Token(f"EAAP{page_id}{secrets.token_hex(12)}", "facebook", user_id, None, time.time(),
                    long_lived=True, page_id=page_id)
        self.tokens[tok.value] = tok
        return tok.value

    def expire_token(self, value: str) -> None:
        self.tokens[value].expires_at = time.time() - 1

    def age_token(self, value: str, seconds: float) -> None:
        tok = self.tokens[value]
        tok.issued_at -= seconds
        if tok.expires_at is not None:
            tok.expires_at -= seconds

    def revoke_user(self, user_id: str, subcode: int) -> None:
        """End every token of a Facebook user (and their Page tokens) or an Instagram account:
        458 app removed, 459 checkpoint, 460 password changed, 464 unconfirmed, 467 logged out."""
        message = {
            458: "Error validating access token: The user has not authorized application {app}.",
            459: "Error validating access token: You cannot access the app till you log in to www.facebook.com "
                 "and follow the instructions given.",
            460: "Error validating access token: The session has been invalidated because the user changed their "
                 "password or Facebook has changed the session for security reasons.",
            464: "Error validating access token: Sessions for the user are not allowed because the user is not a "
                 "confirmed user.",
            467: "Error validating access token: The session is invalid because the user logged out.",
        }[subcode].format(app=APP_ID)
        for tok in self.tokens.values():
            if tok.user_id == user_id:
                tok.dead = (190, subcode, message)
        if subcode == 458 and user_id in self.fb_users:
            self.fb_users[user_id].granted.clear()

    def remove_permission(self, user_id: str, permission: str) -> None:
        """The user removes one permission in their settings (Business Integrations)."""
        holder = self.fb_users.get(user_id) or self.ig_users[user_id]
        holder.granted.discard(permission)
        if isinstance(holder, FbUser):
            holder.declined.add(permission)

    def remove_page_task(self, user_id: str, page_id: str, *tasks: str) -> None:
        kept = [t for t in self.fb_users[user_id].tasks[page_id] if t not in tasks]
        self.fb_users[user_id].tasks[page_id] = kept

    def remove_page_role(self, user_id: str, page_id: str) -> None:
        """The user loses every role on the Page: its Page tokens stop working (UNCERTAIN subcode 492)."""
        self.fb_users[user_id].tasks.pop(page_id, None)
        for tok in self.tokens.values():
            if tok.page_id == page_id and tok.user_id == user_id:
                tok.dead = (190, 492, "Error validating access token: The session is invalid because the user "
                                      "no longer has a role on the Page.")

    def inject(self, error: dict[str, Any] | None, *, status: int = 400, headers: dict[str, str] | None = None,
               times: int = 1, path: str | None = None, body: str | None = None) -> None:
        """Answer the next `times` Graph calls (whose endpoint contains `path`) with this error."""
        self._injections.append({"error": error, "status": status, "headers": headers or {}, "times": times,
                                 "path": path, "body": body})

    def rate_limit(self, code: int = 4, *, times: int = 1, path: str | None = None, minutes: int | None = None,
                   subcode: int | None = None, kind: str = "pages") -> None:
        """Throttle the next call(s) the way Meta does: codes 4/17/32/613/80001/80002, usage headers, and
        X-Business-Use-Case-Usage's estimated_time_to_regain_access (minutes) when `minutes` is given."""
        message = {4: "(#4) Application request limit reached", 17: "(#17) User request limit reached",
                   32: "(#32) Page request limit reached",
                   613: "(#613) Calls to this api have exceeded the rate limit.",
                   80001: "(#80001) There have been too many calls to this Page account. Wait a bit and try again.",
                   80002: "(#80002) There have been too many calls to this Instagram account. Wait a bit and try "
                          "again."}.get(code, f"(#{code}) Rate limit reached")
        usage = json.dumps({"call_count": 100, "total_cputime": 12, "total_time": 20})
        headers = {"X-App-Usage": usage} if code in (4, 17) else {"X-Page-Usage": usage} if code == 32 else {}
        if minutes is not None:
            headers["X-Business-Use-Case-Usage"] = json.dumps({"2001": [{
                "type": kind, "call_count": 100, "total_cputime": 30, "total_time": 40,
                "estimated_time_to_regain_access": minutes}]})
        error = {"message": message, "type": "OAuthException", "code": code, "is_transient": True,
                 "fbtrace_id": secrets.token_urlsafe(8)}
        if subcode:
            error["error_subcode"] = subcode
        self.inject(error, headers=headers, times=times, path=path)

    def fail(self, kind: str = "code2", *, times: int = 1, path: str | None = None) -> None:
        """A passing failure: "code2" (service, is_transient), "code1" (unknown), "http500" (no JSON body)."""
        if kind == "http500":
            self.inject(None, status=500, body="<html><body>Internal Server Error</body></html>", times=times,
                        path=path)
            return
        code, message = (2, "An unexpected error has occurred. Please retry your request later.") \
            if kind == "code2" else (1, "An unknown error has occurred.")
        self.inject({"message": message, "type": "OAuthException", "code": code, "is_transient": kind == "code2",
                     "fbtrace_id": secrets.token_urlsafe(8)}, status=500, times=times, path=path)

    def hang_after(self, path: str) -> None:
        """The next call whose endpoint contains `path` is carried out, then its answer is held back
        until `release_hangs` (the caller times out not knowing whether it worked)."""
        self._hangs.append(path)
        if self._release is not None:
            self.call_soon(self._release.clear)

    def release_hangs(self) -> None:
        self._hangs = []
        if self._release is not None:
            self.call_soon(self._release.set)

    def plan_container(self, polls: int = 0, final: str = "FINISHED", subcode: int | None = None) -> None:
        """The next container stays IN_PROGRESS for `polls` status reads, then ends as `final`."""
        self.container_plans.append((polls, final, subcode))

    def plan_video(self, polls: int = 0, final: str = "ready") -> None:
        self.video_plans.append((polls, final))

    def calls_to(self, endpoint: str, *, host: str | None = None, method: str | None = None) -> list[Call]:
        """Calls whose endpoint (path without version) ends with `endpoint`."""
        return self.recorded(lambda c: c.endpoint.endswith(endpoint) and (host is None or c.host == host)
                             and (method is None or c.method == method))

    def graph_versions(self) -> set[str | None]:
        return {c.version for c in self.recorded(lambda c: c.host.startswith("graph.") and c.endpoint not in
                                                 ("access_token", "refresh_access_token"))}

    # ---- dispatch ---------------------------------------------------------------------------

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        host = request.host.split(":")[0]
        if host == "rupload.facebook.com":
            return await self._rupload(request)
        params: dict[str, Any] = dict(request.query)
        raw: bytes | None = None
        if "/upload:" in request.path and request.method == "POST":
            raw = await request.read()  # the Resumable Upload API's body is the file itself
            params["file_offset"] = request.headers.get("file_offset")
        elif request.method in ("POST", "DELETE") and request.can_read_body:
            if request.content_type == "application/json":
                params.update(await request.json())
            else:
                params.update(dict(await request.post()))
        auth = request.headers.get("Authorization", "")
        token = auth.split(" ", 1)[1] if auth.startswith(("Bearer ", "OAuth ")) else params.get("access_token")
        segments = [s for s in request.path.split("/") if s]
        version = segments[0] if segments and re.fullmatch(r"v\d+\.\d+", segments[0]) else None
        if version:
            segments = segments[1:]
        if host in LOOPBACK_HOSTS:  # a browser sent to the fake's own address: the dialog its path names
            host = {"dialog/oauth": "www.facebook.com", "oauth/authorize": "www.instagram.com"}.get(
                "/".join(segments), host)
        call = Call(host, request.method, request.path, version, "/".join(segments),
                    {k: v for k, v in params.items() if k not in ("access_token", "client_secret")}, token)
        if raw is not None:
            call.params["bytes"] = len(raw)
            params["__bytes__"] = raw
        self.record(call)
        try:
            if host == "www.facebook.com":
                response = self._facebook_dialog(params, segments)
            elif host == "www.instagram.com":
                response = self._instagram_dialog(params, segments)
            elif host == "api.instagram.com":
                response = self._instagram_code(params, segments)
            elif host in ("graph.facebook.com", "graph.instagram.com", "graph-video.facebook.com"):
                response = self._injected(call) or await self._graph(
                    request.method, "instagram" if host == "graph.instagram.com" else "facebook",
                    segments, params, token, version)
            else:
                response = web.Response(status=404, text=f"unknown host {host}")
        except GraphError as exc:
            response = exc.response()
        call.status = response.status
        hang = next((h for h in self._hangs if h in call.endpoint), None)
        if hang:
            self._hangs.remove(hang)
            await asyncio.wait_for(self._release.wait(), 60)
        return response

    def _injected(self, call: Call) -> web.Response | None:
        for inj in self._injections:
            if inj["times"] > 0 and (inj["path"] is None or inj["path"] in call.endpoint):
                inj["times"] -= 1
                if inj["error"] is None:
                    return web.Response(status=inj["status"], text=inj["body"] or "", content_type="text/html",
                                        headers=inj["headers"])
                return web.json_response({"error": inj["error"]}, status=inj["status"], headers=inj["headers"])
        return None

    # ---- browser pages and code exchanges -------------------------------------------------------

    def _facebook_dialog(self, q: dict[str, Any], segments: list[str]) -> web.Response:
        if segments != ["dialog", "oauth"]:
            return web.Response(status=404, text="not found")
        if q.get("client_id") != APP_ID:
            return web.Response(status=400, text="Invalid App ID: the app ID does not look like a valid app ID.")
        if not q.get("redirect_uri"):
            return web.Response(status=400, text="URL blocked: redirect_uri is missing.")
        scopes = [s for s in str(q.get("scope", "")).split(",") if s]
        invalid = [s for s in scopes if s not in FB_PERMISSIONS]
        if invalid:
            return web.Response(status=400, text=f"Invalid Scopes: {', '.join(invalid)}. This message is only shown "
                                                 "to developers.")
        self.dialogs.append({k: str(v) for k, v in q.items()})
        state = q.get("state", "")
        if self.deny_next_dialog:
            self.deny_next_dialog = False
            query = {"error": "access_denied", "error_code": "200", "error_description": "Permissions error",
                     "error_reason": "user_denied", "state": state}
            raise web.HTTPFound(f"{q['redirect_uri']}?{urlencode(query)}#_=_")
        user = self.fb_users[self.browser_user]
        user.granted = (set(scopes) | {"public_profile"}) - self.decline_in_dialog
        user.declined = set(scopes) & self.decline_in_dialog
        code = f"AQ{secrets.token_urlsafe(24)}"
        self.codes[code] = {"family": "facebook", "user": user.id, "redirect_uri": q["redirect_uri"], "used": False}
        raise web.HTTPFound(f"{q['redirect_uri']}?{urlencode({'code': code, 'state': state})}#_=_")

    def _instagram_dialog(self, q: dict[str, Any], segments: list[str]) -> web.Response:
        if segments != ["oauth", "authorize"]:
            return web.Response(status=404, text="not found")
        if q.get("client_id") != IG_APP_ID or q.get("response_type") != "code" or not q.get("redirect_uri"):
            return web.Response(status=400, text="Invalid request: check client_id, redirect_uri and response_type.")
        scopes = [s for s in str(q.get("scope", "")).split(",") if s]
        invalid = [s for s in scopes if s not in IG_PERMISSIONS]
        if invalid:
            return web.Response(status=400, text=f"Invalid Scopes: {', '.join(invalid)}")
        self.dialogs.append({k: str(v) for k, v in q.items()})
        state = q.get("state", "")
        if self.deny_next_dialog:
            self.deny_next_dialog = False
            query = {"error": "access_denied", "error_reason": "user_denied",
                     "error_description": "The user denied your request.", "state": state}
            raise web.HTTPFound(f"{q['redirect_uri']}?{urlencode(query)}#_")
        user = self.ig_users[self.browser_ig_user]
        user.granted = set(scopes) - self.decline_in_dialog
        code = f"AQB{secrets.token_urlsafe(24)}"
        self.codes[code] = {"family": "instagram", "user": user.id, "redirect_uri": q["redirect_uri"], "used": False}
        # Instagram appends "#_" to the redirect.
        raise web.HTTPFound(f"{q['redirect_uri']}?{urlencode({'code': code, 'state': state})}#_")

    def _instagram_code(self, q: dict[str, Any], segments: list[str]) -> web.Response:
        def refuse(message: str) -> web.Response:
            return web.json_response({"error_type": "OAuthException", "code": 400, "error_message": message},
                                     status=400)

        if segments != ["oauth", "access_token"]:
            return web.Response(status=404, text="not found")
        if q.get("client_id") != IG_APP_ID or q.get("client_secret") != IG_APP_SECRET:
            return refuse("Invalid platform app")
        if q.get("grant_type") != "authorization_code":
            return refuse("Invalid grant_type")
        grant = self.codes.get(str(q.get("code")))
        if grant is None or grant["family"] != "instagram" or grant["used"]:
            return refuse("Invalid authorization code")
        if grant["redirect_uri"] != q.get("redirect_uri"):
            return refuse("Error validating verification code. Please make sure your redirect_uri is identical to "
                          "the one you used in the OAuth dialog request")
        grant["used"] = True
        user = self.ig_users[grant["user"]]
        tok = self._new_token("instagram", user.id, long_lived=False)
        fields = {"access_token": tok.value, "user_id": int(user.login_id),
                  "permissions": ",".join(sorted(user.granted))}
        if self.ig_code_response_shape == "flat":
            return web.json_response({**fields, "permissions": sorted(user.granted)})
        return web.json_response({"data": [fields]})

    def _new_token(self, family: str, user_id: str, *, long_lived: bool) -> Token:
        prefix = ("EAAL" if long_lived else "EAAS") if family == "facebook" else ("IGAAL" if long_lived else "IGAAS")
        lifetime = (FB_LONG_LIVED if family == "facebook" else IG_LONG_LIVED) if long_lived else SHORT_LIVED
        now = time.time()
        tok = Token(f"{prefix}{secrets.token_hex(16)}", family, user_id, now + lifetime, now, long_lived=long_lived)
        self.tokens[tok.value] = tok
        return tok

    def _fb_oauth(self, q: dict[str, Any]) -> web.Response:
        if q.get("client_id") != APP_ID:
            raise GraphError("Error validating application. Invalid application ID.", 101)
        if q.get("client_secret") != APP_SECRET:
            raise GraphError("Error validating client secret.", 1)
        if q.get("grant_type") == "fb_exchange_token":
            short = self._live_token(q.get("fb_exchange_token"), "facebook")
            tok = self._new_token("facebook", short.user_id, long_lived=True)
            return web.json_response({"access_token": tok.value, "token_type": "bearer", "expires_in": FB_LONG_LIVED})
        grant = self.codes.get(str(q.get("code")))
        if grant is None or grant["family"] != "facebook":
            raise GraphError("Invalid verification code format.", 100, 36007)
        if grant["used"]:
            raise GraphError("This authorization code has been used.", 100, 36009)
        if grant["redirect_uri"] != q.get("redirect_uri"):
            raise GraphError("Error validating verification code. Please make sure your redirect_uri is identical "
                             "to the one you used in the OAuth dialog request", 100, 36008)
        grant["used"] = True
        tok = self._new_token("facebook", grant["user"], long_lived=False)
        return web.json_response({"access_token": tok.value, "token_type": "bearer", "expires_in": SHORT_LIVED})

    # ---- tokens -----------------------------------------------------------------------------

    def _live_token(self, value: str | None, family: str) -> Token:
        tok = self.tokens.get(value or "")
        if tok is None or tok.family != family:
            raise GraphError("Invalid OAuth access token - Cannot parse access token", 190)
        if tok.dead:
            code, subcode, message = tok.dead
            raise GraphError(message, code, subcode)
        if tok.expires_at is not None and tok.expires_at <= time.time():
            when = time.strftime("%A, %d-%b-%y %H:%M:%S PDT", time.gmtime(tok.expires_at))
            raise GraphError(f"Error validating access token: Session has expired on {when}. The current time is "
                             f"{time.strftime('%A, %d-%b-%y %H:%M:%S PDT')}.", 190, 463)
        return tok

    def _authenticate(self, value: str | None, family: str, params: dict[str, Any]) -> Token:
        if not value:
            raise GraphError("An active access token must be used to query information about the current user.",
                             2500)
        tok = self._live_token(value, family)
        if family == "facebook":
            proof = params.get("appsecret_proof")
            expected = hmac.new(APP_SECRET.encode(), value.encode(), hashlib.sha256).hexdigest()
            if proof is not None and proof != expected:
                raise GraphError("Invalid appsecret_proof provided in the API argument", 100)
            if proof is None and self.require_appsecret_proof:
                raise GraphError("API calls from the server require an appsecret_proof argument", 100)
        return tok

    def _granted(self, tok: Token) -> set[str]:
        holder = self.fb_users.get(tok.user_id) if tok.family == "facebook" else self.ig_users.get(tok.user_id)
        return holder.granted if holder else set()

    def _need(self, tok: Token, *permissions: str, code: int = 10, message: str | None = None) -> None:
        if not set(permissions) <= self._granted(tok):
            raise GraphError(message or "(#10) Application does not have permission for this action", code)

    def _tasks(self, tok: Token, page_id: str) -> list[str]:
        user = self.fb_users.get(tok.user_id)
        return user.tasks.get(page_id, []) if user else []

    # ---- the Graph API ------------------------------------------------------------------------

    async def _graph(self, method: str, family: str, segments: list[str], params: dict[str, Any],
                     token: str | None, version: str | None) -> web.Response:
        if family == "facebook" and segments == ["oauth", "access_token"]:
            return self._fb_oauth(params)
        if family == "instagram" and segments == ["access_token"]:
            return self._ig_exchange(params)
        if family == "instagram" and segments == ["refresh_access_token"]:
            return self._ig_refresh(params)
        tok = self._authenticate(token, family, params)
        if not segments:
            raise GraphError("(#100) Missing node", 100)
        kind, obj = self._resolve(segments[0], tok, family)
        edge = "/".join(segments[1:])
        handler = getattr(self, f"_{method.lower()}_{kind}_{edge or 'node'}".replace("/", "_"), None)
        if handler is None:
            raise GraphError(f"(#100) Unknown path components: /{edge}", 100, 2500)
        result = handler(tok, obj, params, family=family, version=version)
        if asyncio.iscoroutine(result):
            result = await result
        return web.json_response(result)

    def _ig_exchange(self, q: dict[str, Any]) -> web.Response:
        if q.get("grant_type") != "ig_exchange_token":
            raise GraphError("(#100) Unsupported grant_type", 100)
        if q.get("client_secret") != IG_APP_SECRET:
            raise GraphError("Error validating client secret.", 100)
        short = self._live_token(q.get("access_token"), "instagram")
        if short.long_lived:
            raise GraphError("(#100) Only a short-lived access token can be exchanged", 100)
        tok = self._new_token("instagram", short.user_id, long_lived=True)
        return web.json_response({"access_token": tok.value, "token_type": "bearer", "expires_in": IG_LONG_LIVED})

    def _ig_refresh(self, q: dict[str, Any]) -> web.Response:
        if q.get("grant_type") != "ig_refresh_token":
            raise GraphError("(#100) Unsupported grant_type", 100)
        old = self._live_token(q.get("access_token"), "instagram")
        if not old.long_lived:
            raise GraphError("(#100) Only a long-lived access token can be refreshed", 100)
        if time.time() - old.issued_at < IG_REFRESH_MIN_AGE:
            raise GraphError("(#100) The access token must be at least 24 hours old to be refreshed", 100)
        if "instagram_business_basic" not in self._granted(old):
            raise GraphError("(#10) Application does not have permission for this action", 10)
        tok = self._new_token("instagram", old.user_id, long_lived=True)
        return web.json_response({"access_token": tok.value, "token_type": "bearer", "expires_in": IG_LONG_LIVED})

    def _resolve(self, node: str, tok: Token, family: str) -> tuple[str, Any]:
        """The object a path starts with, if this token may see it."""
        if family == "instagram":
            me = self.ig_users[tok.user_id]
            if node in ("me", me.id, me.login_id):
                return "ig_user", me
            if node in self.containers and self.containers[node].owner == me.id:
                return "container", self.containers[node]
            if node in self.ig_media and self.ig_media[node].owner == me.id:
                return "ig_media", self.ig_media[node]
            raise _missing_object(node)
        if node == "me":
            return ("page", self.pages[tok.page_id]) if tok.page_id else ("user", self.fb_users[tok.user_id])
        if node == APP_ID:
            return "app", None
        if node in self.upload_sessions and self.upload_sessions[node].user_id == tok.user_id:
            return "upload_session", self.upload_sessions[node]
        visible_pages = {tok.page_id} if tok.page_id else set(self._user_pages(tok))
        if node in self.pages and node in visible_pages:
            return "page", self.pages[node]
        visible_ig = {self.pages[p].ig_user_id for p in visible_pages if self.pages[p].ig_user_id}
        if node in self.ig_users and node in visible_ig:
            return "ig_user", self.ig_users[node]
        if node in self.containers and self.containers[node].owner in visible_ig:
            return "container", self.containers[node]
        if node in self.ig_media and self.ig_media[node].owner in visible_ig:
            return "ig_media", self.ig_media[node]
        if node in self.fb_objects and self.fb_objects[node].page_id in visible_pages:
            return "fb_object", self.fb_objects[node]
        raise _missing_object(node)

    def _user_pages(self, tok: Token) -> list[str]:
        user = self.fb_users.get(tok.user_id)
        return sorted(p for p in (user.tasks if user else {}) if p in self.pages)

    # Facebook user

    def _get_user_node(self, tok: Token, user: FbUser, q: dict, **_) -> dict:
        return select("User", {"id": user.id, "name": user.name}, q.get("fields"), ("id", "name"))

    def _get_user_permissions(self, tok: Token, user: FbUser, q: dict, **_) -> dict:
        data = [{"permission": p, "status": "granted"} for p in sorted(user.granted)]
        data += [{"permission": p, "status": "declined"} for p in sorted(user.declined)]
        return {"data": data}

    def _delete_user_permissions(self, tok: Token, user: FbUser, q: dict, **_) -> dict:
        self.revoke_user(user.id, 458)
        return {"success": True}

    def _get_user_accounts(self, tok: Token, user: FbUser, q: dict, version: str | None = None, **_) -> dict:
        if tok.page_id:
            raise GraphError("(#100) Tried accessing nonexisting field (accounts) on node type (Page)", 100)
        if "pages_show_list" not in user.granted:
            return {"data": []}  # without the permission Meta lists no Page
        pages = self._user_pages(tok)
        limit = min(int(q.get("limit") or 25), self.accounts_page_size)
        start = int(base64.b64decode(q["after"]).decode()) if q.get("after") else 0
        chunk = pages[start:start + limit]
        data = [self._page_fields(tok, self.pages[p], q.get("fields"), ("id", "name", "access_token", "category",
                                                                        "tasks")) for p in chunk]
        body: dict[str, Any] = {"data": data}
        if chunk:
            cursors = {"before": base64.b64encode(str(start).encode()).decode(),
                       "after": base64.b64encode(str(start + len(chunk)).encode()).decode()}
            body["paging"] = {"cursors": cursors}
            if start + len(chunk) < len(pages):
                query = {k: v for k, v in q.items() if k not in ("after", "appsecret_proof")}
                query |= {"access_token": tok.value, "limit": str(limit), "after": cursors["after"]}
                base = f"https://graph.facebook.com/{version or 'v26.0'}/me/accounts"
                body["paging"]["next"] = f"{base}?{urlencode(query)}"
        return body

    # Pages

    def _page_fields(self, tok: Token, page: Page, spec: str | None, default: tuple[str, ...]) -> dict:
        ig = self.ig_users.get(page.ig_user_id or "")
        available = {
            "id": page.id, "name": page.name, "username": page.username, "category": "Coffee shop",
            "followers_count": page.followers_count,
            "tasks": self._tasks(tok, page.id) if not tok.page_id else None,
            "access_token": self.page_token(tok.user_id, page.id) if self._tasks(tok, page.id) else None,
            "instagram_business_account": self._ig_fields(ig, "facebook") if ig else None,
            "picture": {"data": {"url": f"https://scontent.example/{page.id}.jpg", "is_silhouette": False}},
            "link": f"https://www.facebook.com/{page.username}",
        }
        return select("Page", available, spec, default)

    def _get_page_node(self, tok: Token, page: Page, q: dict, **_) -> dict:
        return self._page_fields(tok, page, q.get("fields"), ("id", "name"))

    def _can_post(self, tok: Token, page: Page) -> None:
        """What Meta checks before a Page publishes: a Page token, both permissions, a posting task."""
        needs_both = ("(#200) If posting to a page, requires both pages_read_engagement and pages_manage_posts as "
                      "an admin with sufficient administrative permission")
        if tok.page_id != page.id:
            raise GraphError(needs_both, 200)
        self._need(tok, "pages_manage_posts", "pages_read_engagement", code=200, message=needs_both)
        if not POSTING_TASKS & set(self._tasks(tok, page.id)):
            raise GraphError("(#200) The user must be an administrator, editor, or moderator of the page in order to "
                             "impersonate it. If the page business requires Two Factor Authentication, the user also "
                             "needs to enable Two Factor Authentication.", 200)

    def _next_id(self) -> str:
        return f"{next(self._ids):04d}{secrets.randbelow(10 ** 8):08d}"

    def _new_post(self, page: Page, message: str, **kw) -> FbObject:
        post = FbObject(f"{page.id}_{self._next_id()}", page.id, "post", message=message, **kw)
        post.url = f"https://www.facebook.com/{page.id}/posts/{post.id.split('_')[1]}"
        self.fb_objects[post.id] = post
        return post

    def _post_page_feed(self, tok: Token, page: Page, q: dict, **_) -> dict:
        self._can_post(tok, page)
        message, link = str(q.get("message") or ""), q.get("link")
        attached = []
        for key in sorted(k for k in q if re.fullmatch(r"attached_media\[\d+\]", k)):
            attached.append(str(json.loads(q[key])["media_fbid"]))
        if not message and not link and not attached:
            raise GraphError("(#100) Missing message or attachment", 100)
        if message and any(o.page_id == page.id and o.kind == "post" and o.message == message
                           for o in self.fb_objects.values()):
            raise GraphError("(#506) Duplicate status message", 506, user_title="Duplicate Status",
                             user_msg="This status update is identical to the last one you posted. Try posting "
                                      "something different, or delete your previous update.")
        for photo_id in attached:
            photo = self.fb_objects.get(photo_id)
            if photo is None or photo.kind != "photo" or photo.page_id != page.id or photo.published:
                raise GraphError(f"(#100) param attached_media[media_fbid] {photo_id} must be an unpublished photo "
                                 "of this Page", 100)
        post = self._new_post(page, message, link=link, attached=attached)
        for photo_id in attached:
            self.fb_objects[photo_id].published, self.fb_objects[photo_id].post_id = True, post.id
        return {"id": post.id}

    async def _post_page_photos(self, tok: Token, page: Page, q: dict, **_) -> dict:
        self._can_post(tok, page)
        url = q.get("url")
        if not url:
            raise GraphError("(#324) Requires upload file", 324)
        data = await self._fetch(url)
        if data is None:
            raise GraphError("(#100) url should represent a valid URL", 100)
        fmt, _w, _h = image_problem(data)
        if len(data) > FB_MAX_PHOTO_BYTES or fmt not in ("JPEG", "PNG"):
            raise GraphError("Invalid parameter", 100, 1366046, user_title="Can't Read Files",
                             user_msg="Your photos couldn't be uploaded. Photos should be less than 4 MB and saved "
                                      "as JPG or PNG files.")
        published = str(q.get("published", "true")).lower() != "false"
        photo = FbObject(self._next_id(), page.id, "photo", message=str(q.get("caption") or q.get("message") or ""),
                         published=published, url=url, alt_text_custom=q.get("alt_text_custom"))
        self.fb_objects[photo.id] = photo
        if not published:
            return {"id": photo.id}
        post = self._new_post(page, photo.message, attached=[photo.id])
        photo.post_id = post.id
        return {"id": photo.id, "post_id": post.id}

    async def _post_page_videos(self, tok: Token, page: Page, q: dict, **_) -> dict:
        self._can_post(tok, page)
        url, handle = q.get("file_url"), q.get("fbuploader_video_file_chunk")
        if handle:
            session = next((u for u in self.upload_sessions.values() if u.handle == handle), None)
            if session is None:
                raise GraphError("(#100) Invalid fbuploader_video_file_chunk: no uploaded file has this handle", 100)
            data = session.data
        elif url:
            data = await self._fetch(url)
        else:
            raise GraphError("(#100) The video file you selected is in a format that we don't support.", 100)
        polls, final = self.video_plans.pop(0) if self.video_plans else (self.video_processing_polls, "ready")
        if data is None or not is_mp4_or_mov(data):
            final = "error"
        video = FbObject(self._next_id(), page.id, "video", message=str(q.get("description") or ""), url=url,
                         video_polls_left=polls, video_final=final, title=q.get("title"))
        self.fb_objects[video.id] = video
        post = self._new_post(page, video.message, attached=[video.id])
        video.post_id = post.id
        return {"id": video.id}

    # The Resumable Upload API: a file for a handle

    def _post_app_uploads(self, tok: Token, _app: None, q: dict, **_) -> dict:
        if tok.page_id:
            raise GraphError("(#100) Upload sessions need a User access token", 100)
        length, kind = str(q.get("file_length") or ""), str(q.get("file_type") or "")
        if not length.isdigit() or int(length) <= 0:
            raise GraphError("(#100) The parameter file_length is required", 100)
        if kind not in UPLOAD_FILE_TYPES:
            raise GraphError(f"(#100) Param file_type must be one of {sorted(UPLOAD_FILE_TYPES)}", 100)
        session = UploadSession(f"upload:{self._next_id()}", tok.user_id, str(q.get("file_name") or ""),
                                int(length), kind)
        self.upload_sessions[session.id] = session
        return {"id": session.id}

    def _post_upload_session_node(self, tok: Token, session: UploadSession, q: dict, **_) -> dict:
        offset, data = str(q.get("file_offset") or ""), q.get("__bytes__") or b""
        if not offset.isdigit() or int(offset) != len(session.data):
            raise GraphError(f"(#100) The file_offset header must be {len(session.data)}, where the upload is", 100)
        session.data += data
        if len(session.data) > session.file_length:
            raise GraphError("(#100) More bytes than file_length", 100)
        if len(session.data) < session.file_length:
            return {"id": session.id, "file_offset": len(session.data)}
        session.handle = session.handle or f"4:{base64.b64encode(session.id.encode()).decode()}"
        return {"h": session.handle}

    def _get_upload_session_node(self, tok: Token, session: UploadSession, q: dict, **_) -> dict:
        return {"id": session.id, "file_offset": len(session.data)}

    # Reels and Stories through the Video API's upload sessions, and photo Stories

    def _session_video(self, page: Page, q: dict, product: str) -> FbObject:
        video = self.fb_objects.get(str(q.get("video_id") or ""))
        if video is None or video.page_id != page.id or video.kind != "video" or video.product != product:
            raise GraphError(f"(#100) Param video_id must be a video of this Page's {product} upload session", 100)
        if video.published:
            raise GraphError("(#100) This video has already been published", 100)
        if not video.uploaded:
            raise GraphError("(#6000) There was a problem uploading your video file: no file was uploaded to this "
                             "session. Upload it to rupload.facebook.com before finishing.", 6000)
        return video

    def _start_session(self, tok: Token, page: Page, q: dict, product: str, version: str | None) -> dict | None:
        self._can_post(tok, page)
        phase = q.get("upload_phase")
        if phase not in ("start", "finish"):
            raise GraphError("(#100) The parameter upload_phase is required: start or finish", 100)
        if phase == "finish":
            return None
        video = FbObject(self._next_id(), page.id, "video", published=False, product=product,
                         video_polls_left=self.video_processing_polls)
        self.fb_objects[video.id] = video
        return {"video_id": video.id,
                "upload_url": f"https://rupload.facebook.com/video-upload/{version or 'v26.0'}/{video.id}"}

    def _post_page_video_reels(self, tok: Token, page: Page, q: dict, version: str | None = None, **_) -> dict:
        started = self._start_session(tok, page, q, "reel", version)
        if started:
            return started
        video = self._session_video(page, q, "reel")
        if q.get("video_state") not in ("PUBLISHED", "DRAFT", "SCHEDULED"):
            raise GraphError("(#100) The parameter video_state is required: PUBLISHED, DRAFT or SCHEDULED", 100)
        if sum(1 for t in page.reels_at if t > time.time() - 86400) >= FB_REELS_PER_DAY:
            raise GraphError("(#4) Application request limit reached: a Page may publish 30 Reels through the API "
                             "in 24 hours", 4)
        seconds, (width, height) = video.seconds or 0.0, video.size
        if not FB_REEL_SECONDS[0] <= seconds <= FB_REEL_SECONDS[1]:
            video.video_final, video.video_error = "error", f"Reels must be 3 to 90 seconds long; this video is " \
                                                            f"{seconds:.1f} seconds"
        elif width > height or width < FB_REEL_MIN_SIZE[0] or height < FB_REEL_MIN_SIZE[1]:
            video.video_final, video.video_error = "error", f"Reels must be vertical, at least 540 x 960; this " \
                                                            f"video is {width} x {height}"
        video.message, video.title = str(q.get("description") or ""), q.get("title")
        video.published = q.get("video_state") == "PUBLISHED"
        if video.published:
            page.reels_at.append(time.time())
            post = self._new_post(page, video.message, attached=[video.id])
            video.post_id = post.id
        return {"success": True}

    def _post_page_video_stories(self, tok: Token, page: Page, q: dict, version: str | None = None, **_) -> dict:
        started = self._start_session(tok, page, q, "story", version)
        if started:
            return started
        video = self._session_video(page, q, "story")
        if (video.seconds or 0) > FB_STORY_MAX_SECONDS:
            raise GraphError(f"(#100) Video stories can not exceed 60 seconds; this video is {video.seconds:.1f} "
                             "seconds", 100)
        video.published = True
        post = self._story_post(page, video)
        return {"success": True, "post_id": post.id}

    def _post_page_photo_stories(self, tok: Token, page: Page, q: dict, **_) -> dict:
        self._can_post(tok, page)
        photo = self.fb_objects.get(str(q.get("photo_id") or ""))
        if photo is None or photo.kind != "photo" or photo.page_id != page.id:
            raise GraphError("(#100) The parameter photo_id is required and must be a photo of this Page", 100)
        if photo.published:
            raise GraphError("(#100) A photo for a story must not have been used in a published post", 100)
        photo.published = True
        return {"success": True, "post_id": self._story_post(page, photo).id}

    def _story_post(self, page: Page, media: FbObject) -> FbObject:
        post = self._new_post(page, "", attached=[media.id], product="story")
        post.url = f"https://www.facebook.com/stories/{page.id}/{post.id.split('_')[1]}/"
        media.post_id = post.id
        return post

    async def _rupload(self, request: web.Request) -> web.Response:
        """rupload.facebook.com/video-upload/{version}/{video-id}: the session's file, fetched by Meta from the
        `file_url` header (or sent as the body, with `offset` and `file_size` headers)."""
        segments = [s for s in request.path.split("/") if s]
        auth = request.headers.get("Authorization", "")
        token = auth.split(" ", 1)[1] if auth.startswith("OAuth ") else None
        file_url = request.headers.get("file_url")
        body = await request.read()
        call = Call("rupload.facebook.com", request.method, request.path, segments[1] if len(segments) > 1 else None,
                    "/".join(segments), {"file_url": file_url, "bytes": len(body), "auth": auth.split(" ")[0],
                                         "offset": request.headers.get("offset"),
                                         "file_size": request.headers.get("file_size")}, token)
        self.record(call)

        def refuse(kind: str, message: str, status: int = 400) -> web.Response:
            call.status = status
            return web.json_response({"debug_info": {"retriable": False, "type": kind, "message": message}},
                                     status=status)

        if request.method != "POST" or len(segments) != 3 or segments[0] != "video-upload":
            return refuse("NotFound", "Unknown upload path", 404)
        tok = self.tokens.get(token or "")
        video = self.fb_objects.get(segments[2])
        if tok is None or tok.dead or video is None or tok.page_id != video.page_id:
            return refuse("OAuthException", "Invalid OAuth access token for this upload session", 401)
        if video.kind != "video" or not video.product or video.uploaded:
            return refuse("ProcessingFailedError", "This upload session does not take a file")
        if file_url:
            data = await self._fetch(file_url)
            if data is None:
                return refuse("ProcessingFailedError", f"Failed to download the file from {file_url}")
        elif body and request.headers.get("offset", "").isdigit() and request.headers.get("file_size", "").isdigit():
            if int(request.headers["offset"]) != 0 or int(request.headers["file_size"]) != len(body):
                return refuse("ParameterValidationError", "offset and file_size do not match the bytes sent")
            data = body
        else:
            return refuse("ParameterValidationError", "Header Offset not convertable to unsigned long")
        facts = video_facts(data) if is_mp4_or_mov(data) else None
        if facts is None:
            return refuse("ProcessingFailedError", "The file is not a video Facebook can read")
        video.uploaded, video.seconds, video.size, video.url = True, facts[0], (facts[1], facts[2]), file_url
        call.status = 200
        return web.json_response({"success": True})

    def _get_page_insights(self, tok: Token, page: Page, q: dict, **_) -> dict:
        self._need(tok, "read_insights", code=10, message="(#10) Requires read_insights permission")
        if "ANALYZE" not in self._tasks(tok, page.id):
            raise GraphError("(#10) The user must be able to perform the ANALYZE task on this Page", 10)
        metrics = self._metrics(q, PAGE_METRICS, page_metric_deprecated)
        self._refuse_unavailable(metrics, page.unavailable)
        period = q.get("period", "day")
        return {"data": [{"name": m, "period": period, "title": m, "id": f"{page.id}/insights/{m}/{period}",
                          "values": [{"value": page.insights.get(m, 0) // 2, "end_time": "2026-11-01T07:00:00+0000"},
                                     {"value": page.insights.get(m, 0), "end_time": "2026-11-02T07:00:00+0000"}]}
                         for m in metrics]}

    # Facebook posts, photos and videos

    def _get_fb_object_node(self, tok: Token, obj: FbObject, q: dict, **_) -> dict:
        page = self.pages[obj.page_id]
        available: dict[str, Any] = {"id": obj.id, "created_time": "2026-11-02T10:00:00+0000"}
        if obj.kind == "post":
            available |= {
                "message": obj.message or None, "permalink_url": obj.url,
                "reactions": {"data": [], "summary": {"total_count": obj.reactions, "viewer_reaction": "NONE"}},
                "comments": {"data": [], "summary": {"order": "ranked", "total_count": obj.comments,
                                                     "can_comment": True}},
                "shares": {"count": obj.shares} if obj.shares else None,
                "full_picture": self._fb_picture(obj),
            }
        elif obj.kind == "photo":
            available |= {"link": f"https://www.facebook.com/photo.php?fbid={obj.id}", "name": obj.message or None}
        else:
            status = self._video_status(obj) if "status" in (q.get("fields") or "") else None
            available |= {"description": obj.message or None, "title": obj.title, "status": status,
                          "permalink_url": f"/reel/{obj.id}/" if obj.product == "reel"
                          else f"/{page.username}/videos/{obj.id}/", "post_id": obj.post_id}
        return select({"post": "Post", "photo": "Photo", "video": "Video"}[obj.kind], available, q.get("fields"),
                      ("id",))

    def _fb_picture(self, post: FbObject) -> str | None:
        """A post's `full_picture`: its first photo, or its video's cover, on Facebook's CDN; none for a text post."""
        shown = self.fb_objects.get(post.attached[0]) if post.attached else None
        if shown is None:
            return None
        folder = "t39.30808-6" if shown.kind == "photo" else "t15.5256-10"
        return f"https://scontent.xx.fbcdn.net/v/{folder}/{shown.id}_n.jpg?stp=dst-jpg&_nc_cat=1&oe=6A1B2C3D"

    def _video_status(self, video: FbObject) -> dict:
        if video.video_polls_left > 0:
            video.video_polls_left -= 1
            return {"video_status": "processing", "uploading_phase": {"status": "complete"},
                    "processing_phase": {"status": "in_progress"}, "publishing_phase": {"status": "not_started"}}
        if video.video_final == "error":
            return {"video_status": "error", "uploading_phase": {"status": "complete"},
                    "processing_phase": {"status": "error", "errors": [
                        {"code": 1363008, "message": video.video_error or "The video file you tried to upload is "
                                                                          "in a format we don't support"}]},
                    "publishing_phase": {"status": "not_started"}}
        return {"video_status": "ready", "uploading_phase": {"status": "complete"},
                "processing_phase": {"status": "complete"},
                "publishing_phase": {"status": "complete", "publish_status": "published"}}

    def _get_fb_object_insights(self, tok: Token, obj: FbObject, q: dict, **_) -> dict:
        self._need(tok, "read_insights", code=10, message="(#10) Requires read_insights permission")
        metrics = self._metrics(q, POST_METRICS, page_metric_deprecated)
        return {"data": [{"name": m, "period": "lifetime", "title": m, "id": f"{obj.id}/insights/{m}/lifetime",
                          "values": [{"value": obj.insights.get(m, 0)}]} for m in metrics]}

    @staticmethod
    def _refuse_unavailable(metrics: list[str], unavailable: set[str]) -> None:
        """Graph refuses a whole request when one of its metric/period pairs is not available for the account
        (400, code 100), e.g. `reach` where Meta now gives `viewers`."""
        for i, m in enumerate(metrics):
            if m in unavailable:
                raise GraphError(f"(#100) The value must be a valid insights metric: metric[{i}] {m} is not "
                                 "available for this account", 100)

    @staticmethod
    def _metrics(q: dict, known: set[str], deprecated) -> list[str]:
        metrics = [m for m in str(q.get("metric", "")).split(",") if m]
        if not metrics:
            raise GraphError("No metric was specified to be fetched. Please specify one or more metrics to be fetched "
                             "and try again.", 3001, 1504028)
        for i, m in enumerate(metrics):
            if m not in known or deprecated(m):
                raise GraphError(f"(#100) The value must be a valid insights metric: metric[{i}] {m} is not a valid "
                                 "metric", 100)
        return metrics

    # Instagram accounts

    def _ig_fields(self, ig: IgUser, family: str) -> dict[str, Any]:
        fields = {"id": ig.id, "username": ig.username, "name": ig.name, "followers_count": ig.followers_count,
                  "follows_count": 12, "media_count": ig.media_count, "biography": "Fresh every day",
                  "profile_picture_url": f"https://scontent.cdninstagram.example/{ig.username}.jpg"}
        if family == "instagram":
            fields |= {"id": ig.login_id, "user_id": ig.id, "account_type": ig.account_type}
        return fields

    def _get_ig_user_node(self, tok: Token, ig: IgUser, q: dict, family: str, **_) -> dict:
        return select("IGUser" if family == "facebook" else "User", self._ig_fields(ig, family), q.get("fields"),
                      ("id",) if family == "facebook" else ("id", "username"))

    def _can_publish_ig(self, tok: Token, ig: IgUser, family: str) -> None:
        if ig.account_type == "PERSONAL":
            raise GraphError("(#10) The user is not an Instagram Business Account", 10)
        if family == "instagram":
            self._need(tok, "instagram_business_basic", "instagram_business_content_publish")
            return
        self._need(tok, "instagram_basic", "instagram_content_publish", "pages_read_engagement")
        page = next(p for p in self.pages.values() if p.ig_user_id == ig.id)
        if not POSTING_TASKS & set(self._tasks(tok, page.id)):
            raise GraphError("(#10) The user must be able to perform the CREATE_CONTENT or MANAGE task on the Page "
                             "linked to this Instagram account", 10)

    async def _post_ig_user_media(self, tok: Token, ig: IgUser, q: dict, family: str, **_) -> dict:
        self._can_publish_ig(tok, ig, family)
        caption = str(q.get("caption") or "")
        if len(caption) > IG_CAPTION_MAX:
            raise GraphError("Invalid parameter", 100, 2207010, user_title="Caption too long",
                             user_msg=f"The caption is too long: it can have up to {IG_CAPTION_MAX} characters.")
        media_type = str(q.get("media_type") or "IMAGE").upper()
        item = str(q.get("is_carousel_item", "")).lower() == "true"
        plan = self.container_plans.pop(0) if self.container_plans else None
        container = Container(self._next_id(), ig.id, media_type, caption, None, item,
                              params={k: v for k, v in q.items() if k not in ("access_token", "appsecret_proof")})
        if "collaborators" in q:
            self._check_collaborators(q["collaborators"], media_type, item)
        if media_type == "CAROUSEL":
            children = [c for c in str(q.get("children") or "").split(",") if c]
            if not 2 <= len(children) <= IG_CAROUSEL_MAX:
                raise GraphError("Invalid parameter", 100, 2207028, user_title="Carousel validation failed",
                                 user_msg=f"A carousel takes 2 to {IG_CAROUSEL_MAX} photos or videos; this one has "
                                          f"{len(children)}.")
            for child in children:
                c = self.containers.get(child)
                if c is None or c.owner != ig.id or not c.carousel_item or c.status_code != "FINISHED":
                    raise GraphError("Invalid parameter", 100, 2207028, user_title="Carousel validation failed",
                                     user_msg=f"The carousel item {child} is not a finished carousel item of this "
                                              "account.")
            container.children = children
            polls, final, subcode = plan or (0, "FINISHED", None)
        elif media_type in ("REELS", "VIDEO"):
            if media_type == "VIDEO" and not item:
                raise GraphError("(#100) The VIDEO media type is no longer supported for single videos; use REELS.",
                                 100)
            container.url = q.get("video_url")
            if not container.url:
                raise GraphError("(#100) The parameter video_url is required", 100)
            data = await self._fetch(container.url)
            polls, final, subcode = plan or (self.video_processing_polls, "FINISHED", None)
            container.thumb_offset = q.get("thumb_offset")
            if q.get("cover_url"):
                if media_type != "REELS":
                    raise GraphError("(#100) cover_url is for Reels only", 100)
                await self._check_ig_story_image(q["cover_url"])  # a JPEG under 8 MiB, any shape (9:16 advised)
            if str(q.get("share_to_feed", "true")).lower() not in ("true", "false"):
                raise GraphError("(#100) Param share_to_feed must be a boolean", 100)
            if data is None:
                final, subcode = "ERROR", 2207052
            elif not is_mp4_or_mov(data):
                final, subcode = "ERROR", 2207026
            elif (problem := reel_problem(data)) is not None:
                final, subcode, container.problem = "ERROR", 2207026, problem
        elif media_type == "STORIES":
            # ig-user/media: a story is an image_url or a video_url; `caption` is "not supported for stories" and
            # is dropped, as are collaborators (refused above).
            container.caption = ""
            container.url = q.get("video_url") or q.get("image_url")
            if not container.url:
                raise GraphError("(#100) The parameter image_url or video_url is required for stories", 100)
            polls, final, subcode = plan or (0, "FINISHED", None)
            if q.get("video_url"):
                data = await self._fetch(container.url)
                facts = video_facts(data) if data else None
                if data is None:
                    final, subcode = "ERROR", 2207052
                elif not is_mp4_or_mov(data) or facts is None:
                    final, subcode = "ERROR", 2207026
                elif not IG_STORY_SECONDS[0] <= facts[0] <= IG_STORY_SECONDS[1]:
                    final, subcode, container.problem = "ERROR", 2207026, f"a {facts[0]:.1f} s story video"
            else:
                await self._check_ig_story_image(container.url)
        elif media_type == "IMAGE":
            container.url = q.get("image_url")
            if not container.url:
                raise GraphError("(#100) The parameter image_url is required", 100)
            await self._check_ig_image(container.url)
            polls, final, subcode = plan or (0, "FINISHED", None)
        else:
            raise GraphError(f"(#100) media_type {media_type} is not supported here", 100)
        container.polls_left, container.final, container.subcode = polls, final, subcode
        container.status_code = "IN_PROGRESS" if polls > 0 else final
        self.containers[container.id] = container
        return {"id": container.id}

    @staticmethod
    def _check_collaborators(value: Any, media_type: str, carousel_item: bool) -> None:
        """ig-user/media `collaborators`: a JSON array of usernames, for feed images, Reels and carousels (the
        fake's words, in Meta's envelope: Meta documents the limits, not the refusals)."""
        try:
            names = json.loads(value) if isinstance(value, str) else value
        except ValueError:
            names = None
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            raise GraphError("(#100) Param collaborators must be an array of Instagram usernames", 100)
        if carousel_item or media_type not in ("IMAGE", "REELS", "CAROUSEL"):
            raise GraphError("(#100) collaborators are supported on feed images, Reels and carousel containers "
                             "only", 100)
        if len(names) > IG_MAX_COLLABORATORS:
            raise GraphError("Invalid parameter", 100, user_title="Too many collaborators",
                             user_msg=f"You can invite up to {IG_MAX_COLLABORATORS} collaborators; this post has "
                                      f"{len(names)}.")
        bad = [n for n in names if not IG_USERNAME.fullmatch(n)]
        if bad:
            raise GraphError("Invalid parameter", 100, user_title="Invalid collaborator",
                             user_msg=f"{bad[0]} is not a valid Instagram username for a collaborator.")

    async def _check_ig_story_image(self, url: str) -> None:
        """A story photo: JPEG, under 8 MiB (any shape: Instagram fits it to 9:16)."""
        data = await self._fetch(url)
        if data is None:
            raise GraphError("The media could not be fetched from this uri", 9004, 2207052,
                             user_title="Media download has failed.",
                             user_msg=f"The media could not be fetched from this uri: {url}")
        if len(data) > IG_MAX_IMAGE_BYTES or image_problem(data)[0] != "JPEG":
            raise GraphError("Only photo or video can be accepted as media type.", 9004, 2207005,
                             user_title="Unsupported format",
                             user_msg="The image format is not supported. Supported formats are: JPEG.")

    async def _check_ig_image(self, url: str) -> None:
        data = await self._fetch(url)
        if data is None:
            raise GraphError("The media could not be fetched from this uri", 9004, 2207052,
                             user_title="Media download has failed.",
                             user_msg=f"The media could not be fetched from this uri: {url}")
        if len(data) > IG_MAX_IMAGE_BYTES:
            raise GraphError("The image size is too large.", 36000, 2207004, user_title="Image size too large",
                             user_msg="The image is too large to download. It should be less than 8 MiB.")
        fmt, width, height = image_problem(data)
        if fmt != "JPEG":
            raise GraphError("Only photo or video can be accepted as media type.", 9004, 2207005,
                             user_title="Unsupported format",
                             user_msg="The image format is not supported. Supported formats are: JPEG.")
        ratio = width / height
        if not IG_MIN_RATIO - 1e-3 <= ratio <= IG_MAX_RATIO + 1e-3:
            raise GraphError("The aspect ratio is not supported.", 36003, 2207009,
                             user_title="Aspect ratio not supported",
                             user_msg=f"The submitted image with aspect ratio ('{width}/{height}') cannot be "
                                      "published. Please submit an image with a valid aspect ratio.")

    def _get_container_node(self, tok: Token, c: Container, q: dict, **_) -> dict:
        c.polls += 1
        if c.status_code == "IN_PROGRESS":
            if c.polls_left > 0:
                c.polls_left -= 1
            else:
                c.status_code = c.final
        words = {"FINISHED": "Finished: Media has been uploaded and it is ready to be published.",
                 "IN_PROGRESS": "In Progress: Media is still being processed.",
                 "PUBLISHED": "Published: Media has been published.",
                 "EXPIRED": "Expired: Media was not published within 24 hours.",
                 "ERROR": f"Error: Media upload has failed with error code {c.subcode}"}
        available = {"id": c.id, "status_code": c.status_code, "status": words[c.status_code],
                     "copyright_check_status": {"status": "not_started", "matches_found": False}}
        return select("ShadowIGMediaBuilder", available, q.get("fields"), ("id",))

    def _post_ig_user_media_publish(self, tok: Token, ig: IgUser, q: dict, family: str, **_) -> dict:
        self._can_publish_ig(tok, ig, family)
        c = self.containers.get(str(q.get("creation_id") or ""))
        if c is None or c.owner != ig.id:
            raise GraphError("(#100) The parameter creation_id is required and must be a container of this account",
                             100)
        if c.carousel_item:
            raise GraphError("(#100) A carousel item cannot be published on its own", 100)
        if c.status_code == "PUBLISHED":
            raise GraphError("(#100) This media has already been published", 100)
        if c.status_code != "FINISHED":
            raise GraphError("Media ID is not available", 9007, 2207027, user_title="Media not ready",
                             user_msg="The media is not ready for publishing, please wait for a moment")
        if self._quota_usage(ig) >= ig.quota_total:
            raise GraphError("Application request limit reached", 4, 2207042, user_title="Maximum number of posts "
                             "reached", user_msg="You reached the maximum number of posts that is allowed to be "
                                                 "published by Content Publishing API.")
        kind = {"CAROUSEL": "CAROUSEL_ALBUM", "REELS": "VIDEO"}.get(c.media_type, "IMAGE")
        if c.media_type == "STORIES":
            kind = "VIDEO" if c.params.get("video_url") else "IMAGE"
        product = {"REELS": "REELS", "STORIES": "STORY"}.get(c.media_type, "FEED")
        media = IgMedia(self._next_id(), ig.id, kind, product, c.caption,
                        secrets.token_urlsafe(8).replace("-", "x").replace("_", "y"), children=c.children,
                        container=c.id)
        if c.media_type == "REELS":
            media.share_to_feed = str(c.params.get("share_to_feed", "true")).lower() == "true"
        self.ig_media[media.id] = media
        c.status_code = "PUBLISHED"
        ig.published_at.append(time.time())
        ig.media_count += 1
        return {"id": media.id}

    def _quota_usage(self, ig: IgUser) -> int:
        return sum(1 for t in ig.published_at if t > time.time() - 86400)

    def _get_ig_user_content_publishing_limit(self, tok: Token, ig: IgUser, q: dict, **_) -> dict:
        available = {"quota_usage": self._quota_usage(ig),
                     "config": {"quota_total": ig.quota_total, "quota_duration": 86400}}
        return {"data": [select("ContentPublishingLimit", available, q.get("fields"), ("quota_usage",))]}

    def _need_insights(self, tok: Token, family: str) -> None:
        self._need(tok, "instagram_business_manage_insights" if family == "instagram" else "instagram_manage_insights")

    def _get_ig_user_insights(self, tok: Token, ig: IgUser, q: dict, family: str, **_) -> dict:
        self._need_insights(tok, family)
        metrics = self._metrics(q, IG_USER_METRICS, IG_DEPRECATED.__contains__)
        self._refuse_unavailable(metrics, ig.unavailable)
        if q.get("period") not in ("day", "lifetime"):
            raise GraphError("(#100) period must be one of the following values: day, week, days_28, month, "
                             "lifetime, total_over_range", 100)
        needs_total = [m for m in metrics if m in IG_TOTAL_VALUE_ONLY]
        if needs_total and q.get("metric_type") != "total_value":
            raise GraphError(f"(#100) The following metrics ({', '.join(needs_total)}) should be specified with "
                             "parameter metric_type=total_value", 100)
        return {"data": [{"name": m, "period": q["period"], "title": m, "description": m,
                          "total_value": {"value": ig.insights.get(m, 0)}, "id": f"{ig.id}/insights/{m}/day"}
                         for m in metrics]}

    # Instagram media

    def _get_ig_media_node(self, tok: Token, m: IgMedia, q: dict, **_) -> dict:
        available = {"id": m.id, "permalink": m.permalink, "shortcode": m.shortcode, "media_type": m.media_type,
                     "media_product_type": m.product, "caption": m.caption or None, "like_count": m.like_count,
                     "comments_count": m.comments_count, "timestamp": "2026-11-02T10:00:00+0000",
                     "username": self.ig_users[m.owner].username, "media_url": None, "thumbnail_url": None}
        # An image's media_url is the picture; a video's is the video file, its picture thumbnail_url; an album
        # gives neither at its top (its children do).
        cdn = f"https://scontent.cdninstagram.com/v/t51.2885-15/{m.id}_n"
        if m.media_type == "IMAGE":
            available["media_url"] = f"{cdn}.jpg?_nc_cat=1&oe=6A1B2C3D"
        elif m.media_type == "VIDEO":
            available |= {"media_url": f"{cdn}.mp4?_nc_cat=1&oe=6A1B2C3D",
                          "thumbnail_url": f"{cdn}_thumb.jpg?_nc_cat=1&oe=6A1B2C3D"}
        return select("IGMedia", available, q.get("fields"), ("id",))

    def _post_ig_media_comments(self, tok: Token, m: IgMedia, q: dict, family: str, **_) -> dict:
        self._need(tok, "instagram_business_manage_comments" if family == "instagram" else "instagram_manage_comments")
        message = str(q.get("message") or "")
        if not message:
            raise GraphError("(#100) The parameter message is required", 100)
        m.comments.append(message)
        m.comments_count += 1
        return {"id": self._next_id()}

    def _get_ig_media_insights(self, tok: Token, m: IgMedia, q: dict, family: str, **_) -> dict:
        self._need_insights(tok, family)
        metrics = self._metrics(q, IG_MEDIA_METRICS, IG_DEPRECATED.__contains__)
        return {"data": [{"name": name, "period": "lifetime", "title": name, "id": f"{m.id}/insights/{name}/lifetime",
                          "values": [{"value": m.insights.get(name, 0)}]} for name in metrics]}

    # ---- fetching media, as Meta's servers do ---------------------------------------------------

    async def _fetch(self, url: str) -> bytes | None:
        self.fetched.append(url)
        try:
            async with self._session.get(url) as response:
                if response.status != 200:
                    return None
                data = await response.read()
                self.downloads.append((url, data))
                return data
        except (TimeoutError, aiohttp.ClientError):
            return None


def adapter_config(key: str, *, version: str = "v26.0") -> AdapterConfig:
    """The AdapterConfig the registry builds for a Meta platform, with the fake's app credentials."""
    client_id, client_secret = (IG_APP_ID, IG_APP_SECRET) if key == "instagram-login" else (APP_ID, APP_SECRET)
    return AdapterConfig(client_id=client_id, client_secret=client_secret,
                         redirect_uri=f"https://picmim.acme.test/oauth/{key}/callback",
                         public_url="https://picmim.acme.test", options={"graph_version": version})
