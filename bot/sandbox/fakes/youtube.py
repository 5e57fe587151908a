"""A fake Google for YouTube: the OAuth consent page, token and revoke endpoints, the YouTube Data API
(channels, videos), the resumable upload protocol and the YouTube Analytics reports, on loopback.

One address serves every Google host (accounts.google.com, oauth2.googleapis.com, www.googleapis.com,
youtubeanalytics.googleapis.com). Errors come in Google's body
`{"error": {"code", "message", "errors": [{"message", "domain", "reason"}], "status"}}`; it refuses what
YouTube refuses (titles empty, over 100 characters or with < >, descriptions over 5,000 bytes, tags over 500,
unknown categories, privacy statuses outside public/unlisted/private, a made-for-kids flag that is not a
boolean, publishAt without private, non-video uploads, chunks out of order), charges quota per call, and
moves an upload through uploaded → processed (or failed) as videos.list is polled. Every call is recorded.
Like the API, it takes an insert without selfDeclaredMadeForKids (Picmim's own validation asks for it).
"""

from __future__ import annotations

import base64
import io
import itertools
import json
import re
import secrets
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from hashlib import sha256
from typing import Any
from urllib.parse import urlencode

from aiohttp import web
from PIL import Image

from bot.sandbox.fakes.base import Call, LoopbackServer

CATEGORIES = {"1", "2", "10", "15", "17", "19", "20", "22", "23", "24", "25", "26", "27", "28", "29"}
ANALYTICS_METRICS = {"views", "estimatedMinutesWatched", "averageViewDuration", "likes", "comments", "shares",
                     "subscribersGained", "subscribersLost", "averageViewPercentage"}
STATUS_TEXT = {400: "INVALID_ARGUMENT", 401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED", 404: "NOT_FOUND",
               500: "INTERNAL", 503: "UNAVAILABLE"}


@dataclass
class Channel:
    id: str
    title: str = "Acme Channel"
    custom_url: str = "@acmechannel"
    subscribers: int = 2500
    hidden_subscribers: bool = False
    views: int = 98765
    videos: int = 12
    long_uploads: str = "allowed"  # "allowed" once verified: also what lets a channel set custom thumbnails
    playlists: dict[str, str] = field(default_factory=lambda: {"PLroastdays01": "Roast days",
                                                               "PLevents00002": "Events"})


@dataclass
class Grant:
    sub: str
    scopes: list[str]
    expires: float = 0.0


@dataclass
class Upload:
    sub: str
    channel: Channel
    resource: dict
    total: int
    mimetype: str
    received: bytearray = field(default_factory=bytearray)
    video_id: str | None = None


def google_error(status: int, reason: str, message: str, domain: str = "youtube.api") -> web.Response:
    return web.json_response({"error": {
        "code": status, "message": message,
        "errors": [{"message": message, "domain": domain, "reason": reason}],
        "status": STATUS_TEXT.get(status, "FAILED_PRECONDITION")}}, status=status)


def invalid_value(field: str, value: Any, kind: str) -> web.Response:
    """Google's answer to a JSON value its schema does not take (an enum outside its values, a wrong type).
    UNCERTAIN: the shape of Google's generic "Invalid value at" error, not on YouTube's error page."""
    message = f"Invalid value at 'video.status.{field}' ({kind}), {json.dumps(value)}"
    response = google_error(400, "invalid", message, "global")
    body = json.loads(response.text)
    body["error"]["details"] = [{"@type": "type.googleapis.com/google.rpc.BadRequest",
                                 "fieldViolations": [{"field": f"video.status.{field}", "description": message}]}]
    return web.json_response(body, status=400)


def oauth_error(error: str, description: str, status: int = 400) -> web.Response:
    return web.json_response({"error": error, "error_description": description}, status=status)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class FakeYouTube(LoopbackServer):

    def __init__(self) -> None:
        super().__init__()
        self.client_id = "1234-picmim.apps.googleusercontent.com"
        self.client_secret = "GOCSPX-fake"
        self.redirect_uris: set[str] = set()
        self.users: dict[str, list[Channel]] = {}
        self.codes: dict[str, dict] = {}
        self.tokens: dict[str, Grant] = {}
        self.refresh_tokens: dict[str, Grant] = {}
        self.uploads: dict[str, Upload] = {}
        self.videos: dict[str, dict] = {}
        self.video_polls: dict[str, int] = {}
        self.revoked: list[str] = []
        self.thumbnails: dict[str, bytes] = {}  # video id -> the custom thumbnail set (thumbnails.set)
        self.playlist_items: list[dict] = []  # playlistItem resources inserted (playlistItems.insert)
        # controls
        self.quota_limit = 10_000
        self.quota_used = 0
        # UNCERTAIN which quota model is live: videos.insert at 1,600 units (older page) by default; set
        # costs["videos.insert"] = 1 and insert_bucket = 100 for the newer separate bucket.
        self.costs = {"videos.insert": 1600, "videos.list": 1, "channels.list": 1, "playlists.list": 1,
                      "playlistItems.insert": 50, "thumbnails.set": 50}
        self.insert_bucket: int | None = None
        self.processing_polls = 1
        self.access_token_lifetime = 3599
        self._forced: list[tuple[str, int, str, str]] = []  # (path part, status, reason, message)
        self._hangs: list[tuple[str, float, str | None]] = []
        self._ids = itertools.count(1)

    def applications(self) -> list[web.Application]:
        app = web.Application(client_max_size=300 * 1024 * 1024)
        app.router.add_route("*", "/{path:.*}", self._dispatch)
        return [app]

    # ---- test controls ----------------------------------------------------------------------------

    def add_user(self, sub: str = "1100220033", channels: int = 1, **kw: Any) -> list[Channel]:
        self.users[sub] = [Channel(f"UC{sub}{i:02d}xyz", **kw) for i in range(channels)]
        return self.users[sub]

    def grant(self, sub: str = "1100220033", scopes: str | None = None) -> str:
        token = f"ya29.{secrets.token_urlsafe(24)}"
        self.tokens[token] = Grant(sub, (scopes or self.all_scopes()).split(), time.time() + self.access_token_lifetime)
        return token

    def issue_refresh_token(self, sub: str = "1100220033") -> str:
        token = f"1//{secrets.token_urlsafe(24)}"
        self.refresh_tokens[token] = Grant(sub, self.all_scopes().split())
        return token

    @staticmethod
    def all_scopes() -> str:
        return " ".join(["openid"] + [f"https://www.googleapis.com/auth/{name}"
                                      for name in ("youtube.upload", "youtube.readonly", "youtube",
                                                   "yt-analytics.readonly")])

    def expire_tokens(self) -> None:
        for grant in self.tokens.values():
            grant.expires = time.time() - 1

    def revoke_grants(self) -> None:
        self.tokens.clear()
        self.refresh_tokens.clear()

    def quota_exceeded(self, times: int = 1, path: str = "") -> None:
        message = ("The request cannot be completed because you have exceeded your "
                   "<a href=\"/youtube/v3/getting-started#quota\">quota</a>.")
        self._forced += [(path, 403, "quotaExceeded", message)] * times

    def upload_limit(self, times: int = 1) -> None:
        self._forced += [("/upload/", 400, "uploadLimitExceeded", "The user has exceeded the number of videos "
                                                                  "they may upload.")] * times

    def fail(self, path: str = "", times: int = 1, status: int = 503) -> None:
        self._forced += [(path, status, "backendError", "Backend Error")] * times

    def hang(self, path: str, seconds: float = 3.0, times: int = 1, method: str | None = None) -> None:
        """The next calls to `path` (with `method`, if given) are acted on, then answered after `seconds`."""
        self._hangs += [(path, seconds, method)] * times

    def calls_to(self, path: str, method: str | None = None) -> list[Call]:
        return self.recorded(lambda c: c.path == path and (method is None or c.method == method))

    # ---- plumbing ---------------------------------------------------------------------------------

    def _take(self, queue: list, path: str) -> Any:
        for i, item in enumerate(queue):
            if path.startswith(item[0]):
                return queue.pop(i)
        return None

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        raw = await request.read()
        body: Any = len(raw)
        if request.content_type == "application/json" and raw:
            try:
                body = json.loads(raw)
            except ValueError:
                return google_error(400, "parseError", "Parse Error")
        elif request.content_type == "application/x-www-form-urlencoded":
            body = dict(await request.post())
        auth = request.headers.get("Authorization", "")
        token = auth[7:] if auth.startswith("Bearer ") else None
        self.record(Call(request.method, request.host, request.path, dict(request.query), body, token,
                         dict(request.headers)))
        forced = self._take(self._forced, request.path)
        if forced and request.path not in ("/token", "/revoke", "/o/oauth2/v2/auth"):
            return google_error(forced[1], forced[2], forced[3],
                                "youtube.quota" if forced[2] == "quotaExceeded" else "youtube.video")
        hang = next((h for h in self._hangs if h[0] in request.path and h[2] in (None, request.method)), None)
        if hang:
            self._hangs.remove(hang)
        response = await self._route(request, body, raw, token)
        if hang:
            await self.held(hang[1])
        return response

    async def _route(self, request: web.Request, body: Any, raw: bytes, token: str | None) -> web.StreamResponse:
        path, method = request.path, request.method
        if path == "/o/oauth2/v2/auth" and method == "GET":
            return self._authorize(request)
        if path == "/token" and method == "POST":
            return self._token(body if isinstance(body, dict) else {})
        if path == "/revoke" and method == "POST":
            form = body if isinstance(body, dict) else {}
            return self._revoke(form.get("token") or request.query.get("token", ""))
        grant = self.tokens.get(token or "")
        if grant is None or grant.expires < time.time():
            return google_error(401, "authError", "Request had invalid authentication credentials. Expected OAuth 2 "
                                                  "access token, login cookie or other valid authentication "
                                                  "credential.", "global")
        if path == "/upload/youtube/v3/videos":
            if "upload_id" in request.query and method == "PUT":
                return self._put(request, raw, grant)
            if method == "POST":
                return self._start_upload(request, body, grant)
        if path == "/upload/youtube/v3/thumbnails/set" and method == "POST":
            return self._set_thumbnail(request, raw, grant)
        routes = {("GET", "/youtube/v3/channels"): self._channels, ("GET", "/youtube/v3/videos"): self._videos,
                  ("GET", "/youtube/v3/playlists"): self._playlists,
                  ("POST", "/youtube/v3/playlistItems"): lambda r, g: self._insert_playlist_item(r, body, g),
                  ("GET", "/v2/reports"): self._reports}
        handler = routes.get((method, path))
        if handler is None:
            return google_error(404, "notFound", f"Method not found: {method} {path}", "global")
        return handler(request, grant)

    def _scope(self, grant: Grant, *accepted: str) -> web.Response | None:
        names = {f"https://www.googleapis.com/auth/{a}" for a in accepted}
        if names & set(grant.scopes):
            return None
        return google_error(403, "insufficientPermissions", "Request had insufficient authentication scopes.",
                            "global")

    def _charge(self, method: str) -> web.Response | None:
        cost = self.costs.get(method, 1)
        if method == "videos.insert" and self.insert_bucket is not None:
            if self.insert_bucket <= 0:
                return google_error(403, "quotaExceeded", "The request cannot be completed because you have "
                                                          "exceeded your quota.", "youtube.quota")
            self.insert_bucket -= 1
            return None
        if self.quota_used + cost > self.quota_limit:
            return google_error(403, "quotaExceeded", "The request cannot be completed because you have exceeded "
                                                      "your quota.", "youtube.quota")
        self.quota_used += cost
        return None

    # ---- OAuth ------------------------------------------------------------------------------------

    def _authorize(self, request: web.Request) -> web.Response:
        q = request.query
        if q.get("client_id") != self.client_id:
            return web.Response(status=401, text="Error 401: invalid_client")
        if q.get("redirect_uri") not in self.redirect_uris:
            return web.Response(status=400, text="Error 400: redirect_uri_mismatch")
        if q.get("response_type") != "code" or not q.get("scope"):
            return web.Response(status=400, text="Error 400: invalid_request")
        sub = q.get("login_hint") or next(iter(self.users), "1100220033")
        code = "4/0A" + secrets.token_urlsafe(30)
        self.codes[code] = {"sub": sub, "scopes": q["scope"].split(), "redirect_uri": q["redirect_uri"],
                            "challenge": q.get("code_challenge"), "offline": q.get("access_type") == "offline"}
        raise web.HTTPFound(f"{q['redirect_uri']}?" + urlencode({"state": q.get("state", ""), "code": code,
                                                                 "scope": q["scope"]}))

    def _token(self, form: dict) -> web.Response:
        if form.get("client_id") != self.client_id or form.get("client_secret") != self.client_secret:
            return oauth_error("invalid_client", "The OAuth client was not found.", 401)
        grant_type = form.get("grant_type")
        if grant_type == "authorization_code":
            code = self.codes.pop(form.get("code", ""), None)
            if code is None:
                return oauth_error("invalid_grant", "Malformed auth code.")
            if form.get("redirect_uri") != code["redirect_uri"]:
                return oauth_error("redirect_uri_mismatch", "Bad Request")
            if code["challenge"]:
                verifier = form.get("code_verifier", "")
                if _b64(sha256(verifier.encode()).digest()) != code["challenge"]:
                    return oauth_error("invalid_grant", "Invalid code verifier.")
            sub, scopes = code["sub"], code["scopes"]
            access = self.grant(sub, " ".join(scopes))
            answer = {"access_token": access, "expires_in": self.access_token_lifetime, "scope": " ".join(scopes),
                      "token_type": "Bearer"}
            if code["offline"]:
                refresh = f"1//{secrets.token_urlsafe(24)}"
                self.refresh_tokens[refresh] = Grant(sub, scopes)
                answer["refresh_token"] = refresh
            if "openid" in scopes:
                header = _b64(json.dumps({"alg": "RS256", "kid": "fake", "typ": "JWT"}).encode())
                claims = _b64(json.dumps({"iss": "https://accounts.google.com", "aud": self.client_id, "sub": sub,
                                          "iat": int(time.time()), "exp": int(time.time()) + 3600}).encode())
                answer["id_token"] = f"{header}.{claims}.{_b64(secrets.token_bytes(64))}"
            return web.json_response(answer)
        if grant_type == "refresh_token":
            grant = self.refresh_tokens.get(form.get("refresh_token", ""))
            if grant is None:
                return oauth_error("invalid_grant", "Token has been expired or revoked.")
            access = self.grant(grant.sub, " ".join(grant.scopes))
            return web.json_response({"access_token": access, "expires_in": self.access_token_lifetime,
                                      "scope": " ".join(grant.scopes), "token_type": "Bearer"})
        return oauth_error("unsupported_grant_type", "Invalid grant_type: " + str(grant_type))

    def _revoke(self, token: str) -> web.Response:
        grant = self.refresh_tokens.pop(token, None) or self.tokens.pop(token, None)
        if grant is None:
            return oauth_error("invalid_token", "Token expired or revoked")
        self.revoked.append(grant.sub)
        for table in (self.tokens, self.refresh_tokens):
            for key in [k for k, g in table.items() if g.sub == grant.sub]:
                del table[key]
        return web.json_response({})

    # ---- Data API ---------------------------------------------------------------------------------

    def _channel_resource(self, channel: Channel, parts: list[str]) -> dict:
        resource: dict[str, Any] = {"kind": "youtube#channel", "etag": "e", "id": channel.id}
        if "snippet" in parts:
            resource["snippet"] = {"title": channel.title, "description": "", "customUrl": channel.custom_url,
                                   "thumbnails": {"default": {"url": f"https://yt3.ggpht.example/{channel.id}=s88",
                                                              "width": 88, "height": 88}}}
        if "statistics" in parts:
            resource["statistics"] = {"viewCount": str(channel.views), "videoCount": str(channel.videos),
                                      "hiddenSubscriberCount": channel.hidden_subscribers}
            if not channel.hidden_subscribers:
                resource["statistics"]["subscriberCount"] = str(channel.subscribers)
        if "status" in parts:
            resource["status"] = {"privacyStatus": "public", "isLinked": True,
                                  "longUploadsStatus": channel.long_uploads}
        return resource

    def _channels(self, request: web.Request, grant: Grant) -> web.Response:
        refused = self._scope(grant, "youtube.readonly", "youtube", "youtube.force-ssl")
        if refused:
            return refused
        q = request.query
        parts = [p for p in q.get("part", "").split(",") if p]
        if not parts or set(parts) - {"snippet", "statistics", "status", "contentDetails", "id"}:
            return google_error(400, "missingRequiredParameter" if not parts else "invalidPart",
                                "No filter selected. Expected one of: part" if not parts else "Invalid part")
        if (q.get("mine") == "true") == bool(q.get("id")):
            return google_error(400, "incompatibleParameters", "Incompatible parameters specified in the request: "
                                                                "id, mine")
        refused = self._charge("channels.list")
        if refused:
            return refused
        mine = self.users.get(grant.sub, [])
        channels = mine if q.get("mine") == "true" else [c for c in mine if c.id in q["id"].split(",")]
        return web.json_response({"kind": "youtube#channelListResponse", "etag": "e",
                                  "pageInfo": {"totalResults": len(channels), "resultsPerPage": 50},
                                  "items": [self._channel_resource(c, parts) for c in channels]})

    def _videos(self, request: web.Request, grant: Grant) -> web.Response:
        refused = self._scope(grant, "youtube.readonly", "youtube", "youtube.force-ssl", "youtube.upload")
        if refused:
            return refused
        parts = [p for p in request.query.get("part", "").split(",") if p]
        ids = [i for i in request.query.get("id", "").split(",") if i]
        if not parts or not ids:
            return google_error(400, "missingRequiredParameter", "No filter selected.")
        if len(ids) > 50:
            return google_error(400, "invalidFilters", "Too many ids.")
        refused = self._charge("videos.list")
        if refused:
            return refused
        items = []
        for video_id in ids:
            video = self.videos.get(video_id)
            if video is None:
                continue
            if "status" in parts:
                self._advance(video_id)
            item = {"kind": "youtube#video", "id": video_id}
            for part in parts:
                if part in video:
                    item[part] = video[part]
            items.append(item)
        return web.json_response({"kind": "youtube#videoListResponse", "items": items,
                                  "pageInfo": {"totalResults": len(items), "resultsPerPage": len(items)}})

    def _advance(self, video_id: str) -> None:
        video = self.videos[video_id]
        if video["status"]["uploadStatus"] != "uploaded":
            return
        left = self.video_polls.get(video_id, 0)
        if left > 0:
            self.video_polls[video_id] = left - 1
            return
        if video.pop("_unreadable", False):
            video["status"].update(uploadStatus="failed", failureReason="invalidFile")
            video["processingDetails"] = {"processingStatus": "failed", "processingFailureReason": "other"}
        else:
            video["status"]["uploadStatus"] = "processed"
            video["processingDetails"] = {"processingStatus": "succeeded"}

    # ---- resumable upload -------------------------------------------------------------------------

    def _start_upload(self, request: web.Request, resource: Any, grant: Grant) -> web.Response:
        refused = self._scope(grant, "youtube.upload", "youtube", "youtube.force-ssl")
        if refused:
            return refused
        q = request.query
        if q.get("uploadType") != "resumable":
            return google_error(400, "invalidParameter", "This fake takes resumable uploads only.")
        parts = set(q.get("part", "").split(","))
        if not isinstance(resource, dict) or not {"snippet", "status"} <= parts:
            return google_error(400, "missingRequiredParameter", "part and a video resource are required.")
        mimetype = request.headers.get("X-Upload-Content-Type", "")
        total = request.headers.get("X-Upload-Content-Length", "")
        if not (mimetype.startswith("video/") or mimetype == "application/octet-stream"):
            return google_error(400, "badContent", f"Media type '{mimetype}' is not supported.", "global")
        if not total.isdigit():
            return google_error(400, "mediaBodyRequired", "The request does not include the video content.")
        snippet, status = resource.get("snippet") or {}, resource.get("status") or {}
        title, description = snippet.get("title") or "", snippet.get("description") or ""
        if not title.strip() or len(title) > 100 or set("<>") & set(title):
            return google_error(400, "invalidTitle", "The request metadata specifies an invalid or empty video "
                                                     "title.")
        if len(description.encode()) > 5000 or set("<>") & set(description):
            return google_error(400, "invalidDescription", "The request metadata specifies an invalid video "
                                                           "description.")
        tags = snippet.get("tags") or []
        if sum(len(t) + (2 if " " in t else 0) for t in tags) + max(0, len(tags) - 1) > 500:
            return google_error(400, "invalidTags", "The request metadata specifies invalid video keywords.")
        if str(snippet.get("categoryId", "22")) not in CATEGORIES:
            return google_error(400, "invalidCategoryId", "The snippet.categoryId property specifies an invalid "
                                                          "category ID.")
        privacy = status.get("privacyStatus", "public")
        if privacy not in ("public", "unlisted", "private"):
            return invalid_value("privacy_status", privacy,
                                 "type.googleapis.com/youtube.api.v3.VideoStatus.PrivacyStatus")
        kids = status.get("selfDeclaredMadeForKids")
        if kids is not None and not isinstance(kids, bool):
            return invalid_value("self_declared_made_for_kids", kids, "TYPE_BOOL")
        if "publishAt" in status:
            try:
                when = datetime.fromisoformat(status["publishAt"].replace("Z", "+00:00"))
            except (ValueError, AttributeError):
                when = None
            if privacy != "private" or when is None or when <= datetime.now(UTC):
                return google_error(400, "invalidPublishAt", "The request metadata specifies an invalid scheduled "
                                                             "publishing time.")
        refused = self._charge("videos.insert")
        if refused:
            return refused
        channels = self.users.get(grant.sub) or []
        if not channels:
            return google_error(401, "youtubeSignupRequired", "Unauthorized", "youtube.header")
        upload_id = secrets.token_urlsafe(18)
        self.uploads[upload_id] = Upload(grant.sub, channels[0], resource, int(total), mimetype)
        location = "https://www.googleapis.com/upload/youtube/v3/videos?" + urlencode(
            {"uploadType": "resumable", "part": q["part"], "upload_id": upload_id})
        return web.Response(status=200, headers={"Location": location, "X-GUploader-UploadID": upload_id})

    def _put(self, request: web.Request, raw: bytes, grant: Grant) -> web.Response:
        upload = self.uploads.get(request.query["upload_id"])
        if upload is None or upload.sub != grant.sub:
            return google_error(404, "notFound", "Upload session not found.", "global")
        content_range = request.headers.get("Content-Range", "")
        if upload.video_id:  # already complete: answer as Google does, with the video
            return web.json_response(self.videos[upload.video_id]["_resource"], status=200)
        if content_range == f"bytes */{upload.total}":
            return self._incomplete(upload)
        match = re.fullmatch(r"bytes (\d+)-(\d+)/(\d+)", content_range)
        if match is None and len(raw) == upload.total and not upload.received:
            first, last, total = 0, upload.total - 1, upload.total  # the whole file in one request
        elif match is None:
            return google_error(400, "badRequest", "Invalid Content-Range header.", "global")
        else:
            first, last, total = map(int, match.groups())
        if total != upload.total or first != len(upload.received) or last - first + 1 != len(raw):
            return google_error(400, "badRequest", "The chunk does not continue the upload.", "global")
        final = last + 1 == total
        if not final and len(raw) % (256 * 1024):
            return google_error(400, "badRequest", "Chunks must be multiples of 256 KB.", "global")
        upload.received += raw
        if not final:
            return self._incomplete(upload)
        return self._complete(upload)

    def _incomplete(self, upload: Upload) -> web.Response:
        headers = {"Range": f"bytes=0-{len(upload.received) - 1}"} if upload.received else {}
        return web.Response(status=308, headers=headers)

    def _complete(self, upload: Upload) -> web.Response:
        video_id = secrets.token_urlsafe(8).replace("-", "x").replace("_", "y")[:11]
        upload.video_id = video_id
        snippet = {**upload.resource["snippet"], "channelId": upload.channel.id,
                   "publishedAt": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
                   "categoryId": str(upload.resource["snippet"].get("categoryId", "22"))}
        status = {"uploadStatus": "uploaded", "privacyStatus": "public", "license": "youtube", "embeddable": True,
                  "publicStatsViewable": True, "selfDeclaredMadeForKids": False, **upload.resource["status"]}
        resource = {"kind": "youtube#video", "etag": "e", "id": video_id, "snippet": snippet, "status": status}
        self.videos[video_id] = {
            "snippet": snippet, "status": status, "_resource": resource, "_bytes": bytes(upload.received),
            "processingDetails": {"processingStatus": "processing"},
            "statistics": {"viewCount": "0", "likeCount": "0", "favoriteCount": "0", "commentCount": "0"},
            "_unreadable": not _is_video(bytes(upload.received)),
        }
        self.video_polls[video_id] = self.processing_polls
        return web.json_response(resource, status=200)

    # ---- playlists and thumbnails -------------------------------------------------------------------

    def _owned_video(self, grant: Grant, video_id: str) -> tuple[dict | None, Channel | None]:
        video = self.videos.get(video_id)
        channels = {c.id: c for c in self.users.get(grant.sub, [])}
        if video is None or video["snippet"].get("channelId") not in channels:
            return None, None
        return video, channels[video["snippet"]["channelId"]]

    def _playlists(self, request: web.Request, grant: Grant) -> web.Response:
        """playlists.list (mine=true, part=snippet): the channel's playlists."""
        refused = self._scope(grant, "youtube.readonly", "youtube", "youtube.force-ssl")
        if refused:
            return refused
        q = request.query
        if "snippet" not in q.get("part", "").split(","):
            return google_error(400, "missingRequiredParameter", "No filter selected. Expected one of: part")
        if q.get("mine") != "true":
            return google_error(400, "missingRequiredParameter", "No filter selected. Expected one of: mine, id, "
                                                                 "channelId")
        refused = self._charge("playlists.list")
        if refused:
            return refused
        items = [{"kind": "youtube#playlist", "etag": "e", "id": pid,
                  "snippet": {"channelId": c.id, "title": title, "description": ""}}
                 for c in self.users.get(grant.sub, [])[:1] for pid, title in c.playlists.items()]
        return web.json_response({"kind": "youtube#playlistListResponse", "etag": "e",
                                  "pageInfo": {"totalResults": len(items), "resultsPerPage": 50}, "items": items})

    def _insert_playlist_item(self, request: web.Request, body: Any, grant: Grant) -> web.Response:
        """playlistItems.insert (part=snippet): youtube, youtube.force-ssl or youtubepartner scope only (not
        youtube.upload); the playlist must be the channel's and the video must exist."""
        refused = self._scope(grant, "youtube", "youtube.force-ssl", "youtubepartner")
        if refused:
            return refused
        if "snippet" not in request.query.get("part", "").split(","):
            return google_error(400, "missingRequiredParameter", "No filter selected. Expected one of: part")
        snippet = (body or {}).get("snippet") if isinstance(body, dict) else None
        if not isinstance(snippet, dict) or not snippet.get("playlistId"):
            return google_error(400, "playlistIdRequired", "The request does not specify a value for the required "
                                                           "playlistId property.")
        resource = snippet.get("resourceId") or {}
        if resource.get("kind") != "youtube#video" or not resource.get("videoId"):
            return google_error(400, "invalidResourceId", "The resource ID specified in the request is not "
                                                          "supported for this operation.")
        playlist = next((c for c in self.users.get(grant.sub, []) if snippet["playlistId"] in c.playlists), None)
        if playlist is None:
            return google_error(404, "playlistNotFound", "Playlist not found.")
        if resource["videoId"] not in self.videos:
            return google_error(404, "videoNotFound", "Video not found.")
        refused = self._charge("playlistItems.insert")
        if refused:
            return refused
        position = sum(1 for i in self.playlist_items if i["snippet"]["playlistId"] == snippet["playlistId"])
        item = {"kind": "youtube#playlistItem", "etag": "e", "id": secrets.token_urlsafe(12),
                "snippet": {"playlistId": snippet["playlistId"], "position": position, "channelId": playlist.id,
                            "title": self.videos[resource["videoId"]]["snippet"].get("title", ""),
                            "resourceId": {"kind": "youtube#video", "videoId": resource["videoId"]}}}
        self.playlist_items.append(item)
        return web.json_response(item)

    def _set_thumbnail(self, request: web.Request, raw: bytes, grant: Grant) -> web.Response:
        """thumbnails.set: the picture as the request body (JPEG, PNG, GIF or BMP, up to 2 MB), for a video of the
        caller's channel, which must be allowed custom thumbnails (a verified channel)."""
        refused = self._scope(grant, "youtube.upload", "youtube", "youtube.force-ssl")
        if refused:
            return refused
        video, channel = self._owned_video(grant, request.query.get("videoId", ""))
        if video is None:
            return google_error(404, "videoNotFound", "The video that you are trying to update cannot be found.")
        if channel.long_uploads != "allowed":
            return google_error(403, "forbidden", "The authenticated user doesnt have permissions for uploading "
                                                  "and setting custom video thumbnails.")
        if not raw:
            return google_error(400, "mediaBodyRequired", "The request does not include the image content.")
        if len(raw) > 2 * 1024 * 1024:
            return google_error(413, "mediaTooLarge", "Media larger than: 2097152")
        try:
            with Image.open(io.BytesIO(raw)) as picture:
                if picture.format not in ("JPEG", "PNG", "GIF", "BMP"):
                    raise ValueError(picture.format)
        except Exception:  # noqa: BLE001 - anything Pillow cannot read is not an image YouTube takes
            return google_error(400, "invalidImage", "The provided image content is invalid.")
        refused = self._charge("thumbnails.set")
        if refused:
            return refused
        video_id = request.query["videoId"]
        self.thumbnails[video_id] = raw
        base = f"https://i.ytimg.com/vi/{video_id}"
        return web.json_response({"kind": "youtube#thumbnailSetResponse", "etag": "e", "items": [{
            "default": {"url": f"{base}/default.jpg", "width": 120, "height": 90},
            "medium": {"url": f"{base}/mqdefault.jpg", "width": 320, "height": 180},
            "high": {"url": f"{base}/hqdefault.jpg", "width": 480, "height": 360}}]})

    # ---- Analytics --------------------------------------------------------------------------------

    def _reports(self, request: web.Request, grant: Grant) -> web.Response:
        refused = self._scope(grant, "yt-analytics.readonly", "yt-analytics-monetary.readonly")
        if refused:
            return refused
        q = request.query
        for name in ("ids", "startDate", "endDate", "metrics"):
            if not q.get(name):
                return google_error(400, "required", f"Required parameter: {name}", "global")
        channel = q["ids"].removeprefix("channel==")
        owned = [c.id for c in self.users.get(grant.sub, [])]
        if not q["ids"].startswith("channel==") or (channel != "MINE" and channel not in owned):
            return google_error(403, "forbidden", "Forbidden", "global")
        date = re.compile(r"\d{4}-\d{2}-\d{2}")
        if not (date.fullmatch(q["startDate"]) and date.fullmatch(q["endDate"])) or q["startDate"] > q["endDate"]:
            return google_error(400, "invalid", "Invalid date range.", "global")
        metrics = q["metrics"].split(",")
        unknown = [m for m in metrics if m not in ANALYTICS_METRICS]
        if unknown:
            return google_error(400, "invalid", f"Unknown identifier ({unknown[0]}) given in field "
                                                "parameters.metrics.", "global")
        values = {"views": 4321, "estimatedMinutesWatched": 9876, "averageViewDuration": 137, "likes": 210,
                  "comments": 14, "shares": 9, "subscribersGained": 42, "subscribersLost": 3,
                  "averageViewPercentage": 48.5}
        return web.json_response({
            "kind": "youtubeAnalytics#resultTable",
            "columnHeaders": [{"name": m, "columnType": "METRIC",
                               "dataType": "FLOAT" if isinstance(values[m], float) else "INTEGER"} for m in metrics],
            "rows": [[values[m] for m in metrics]]})


def _is_video(data: bytes) -> bool:
    import av

    try:
        with av.open(io.BytesIO(data)) as container:
            # FFmpeg opens a single picture as a one-frame "video"; YouTube does not take pictures.
            name = container.format.name
            return bool(container.streams.video) and name != "image2" and not name.endswith("_pipe")
    except av.error.FFmpegError:
        return False
