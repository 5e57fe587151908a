"""A fake Pinterest: the consent page (www.pinterest.com), API v5 (api.pinterest.com) and the storage
bucket videos are posted to, on loopback.

Errors come as Pinterest's `{"code", "message"}`; refresh tokens rotate (continuous refresh); a pin
needs a board of the user's, a fetchable image, 2 to 5 of them (multiple_image_urls / _base64), or a processed
video with a cover (cover_image_key_frame_time: whole seconds), and fields within
PinCreate's limits (a link must be an http(s) URL); analytics answer only for business accounts and the last 90 days.
"""

from __future__ import annotations

import base64
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from urllib.parse import urlsplit

import aiohttp
from aiohttp import web

from bot.sandbox.fakes.x import Call, PlatformFake, image_type, is_video, redirect

UPLOAD_HOST = "pinterest-media-upload.s3-accelerate.amazonaws.com"
SCOPES = {"ads:read", "ads:write", "boards:read", "boards:read_secret", "boards:write", "boards:write_secret",
          "pins:read", "pins:read_secret", "pins:write", "pins:write_secret", "user_accounts:read",
          "user_accounts:write", "catalogs:read", "catalogs:write"}
# PinCreate's properties (pinterest/api-description v5/openapi.json 5.23.0; tests/schemas/pinterest_openapi.json).
PIN_FIELDS = {"board_id", "board_section_id", "title", "description", "link", "alt_text", "dominant_color",
              "parent_pin_id", "media_source", "sponsor_id"}


def pin_error(status: int, message: str, code: int | None = None) -> web.Response:
    return web.json_response({"code": status if code is None else code, "message": message}, status=status)


def _is_url(link: object) -> bool:
    """PinCreate's link is a URL (format uri): an http(s) address with a host, no spaces."""
    if not isinstance(link, str) or any(c.isspace() for c in link):
        return False
    try:
        parts = urlsplit(link)
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.hostname)


@dataclass
class Upload:
    owner: str
    parameters: dict[str, str]
    status: str = "registered"  # registered, processing, succeeded, failed
    data: bytes | None = None
    polls_left: int = 0
    fails: bool = False


class FakePinterest(PlatformFake):
    hosts = ("www.pinterest.com", "api.pinterest.com", UPLOAD_HOST)
    access_ttl = 30 * 86400
    refresh_ttl = 60 * 86400

    def reset_state(self) -> None:
        self.accounts: dict[str, dict] = {}
        self.boards: dict[str, dict] = {}  # board id -> board (with its owner's user id)
        self.pins: dict[str, dict] = {}
        self.pin_media: dict[str, bytes] = {}  # pin id -> the image or video it shows
        self.uploads: dict[str, Upload] = {}
        self.public_files: dict[str, bytes] = {}  # what Pinterest finds when it fetches an image URL
        self.account_summary: dict[str, dict] = {}  # user id -> summary_metrics
        self.pin_lifetime: dict[str, dict] = {}  # pin id -> lifetime_metrics
        self.processing_polls = 1
        self.fail_processing = False
        self.add_account("549755885175", "acmepins", "Acme Pins", "BUSINESS", followers=830)
        self.add_board("549755885175", "1020304050", "Spring collection")
        self.add_board("549755885175", "1020304051", "Behind the scenes", privacy="PROTECTED")
        self.consent_as("549755885175")

    def add_account(self, user_id: str, username: str, business_name: str | None, account_type: str,
                    followers: int = 0) -> dict:
        account = {"account_type": account_type, "id": user_id, "username": username,
                   "profile_image": f"https://i.pinimg.com/280x280_RS/{user_id}.jpg",
                   "website_url": "https://acme.com", "board_count": 0, "pin_count": 0,
                   "follower_count": followers, "following_count": 3, "monthly_views": 12000}
        if business_name:
            account["business_name"] = business_name
        self.accounts[user_id] = account
        return account

    def add_board(self, user_id: str, board_id: str, name: str, privacy: str = "PUBLIC") -> dict:
        owner = self.accounts[user_id]
        board = {"id": board_id, "name": name, "description": "", "privacy": privacy,
                 "owner": {"username": owner["username"]}, "pin_count": 0, "follower_count": 0,
                 "created_at": "2026-01-05T10:00:00", "_user_id": user_id}
        self.boards[board_id] = board
        owner["board_count"] += 1
        return board

    def routes(self):
        www, api = "www.pinterest.com", "api.pinterest.com"
        return [
            ("GET", www, "/oauth/", self._authorize),
            ("POST", api, "/v5/oauth/token", self._token),
            ("GET", api, "/v5/user_account", self._user_account),
            ("GET", api, "/v5/boards", self._list_boards),
            ("POST", api, "/v5/pins", self._create_pin),
            ("POST", api, "/v5/media", self._register_media),
            ("GET", api, "/v5/media/{id}", self._media_status),
            ("POST", UPLOAD_HOST, "/", self._bucket_upload),
            ("GET", api, "/v5/user_account/analytics", self._account_analytics),
            ("GET", api, "/v5/pins/{id}/analytics", self._pin_analytics),
        ]

    # ---- errors ---------------------------------------------------------------------------

    def rate_limited(self, call: Call, retry_after: int | None = None, **_) -> web.Response:
        response = pin_error(429, "The user has sent too many requests in a given amount of time and is being "
                                  "rate limited.", 8)
        if retry_after is not None:
            response.headers["Retry-After"] = str(retry_after)
        return response

    def server_error(self, call: Call, status: int) -> web.Response:
        return pin_error(status, "Something went wrong on our end. Sorry about that.", 0)

    def _check(self, call: Call, *scopes: str) -> tuple[str | None, web.Response | None]:
        grant, why = self.bearer(call)
        if grant is None:
            return None, pin_error(401, "Authentication failed.", 2)
        if set(scopes) - grant.scopes:
            return None, pin_error(403, "Authorization failed.", 3)
        return grant.user_id, None

    # ---- OAuth ----------------------------------------------------------------------------

    async def _authorize(self, request: web.Request, call: Call) -> web.Response:
        q = call.query
        if q.get("client_id") != self.client_id or q.get("redirect_uri") not in self.redirect_uris:
            return web.Response(status=400, text="Invalid client_id or redirect_uri")
        asked = set(q.get("scope", "").split(","))
        if q.get("response_type") != "code" or not asked <= SCOPES:
            return web.Response(status=400, text=f"Invalid scope: {q.get('scope')}")
        granted = asked if self.consent.get("scopes") is None else asked & self.consent["scopes"]
        code = self.issue_code(self.consent["user_id"], granted, redirect_uri=q["redirect_uri"])
        return redirect(q["redirect_uri"], code=code, state=q.get("state", ""))

    async def _token(self, request: web.Request, call: Call) -> web.Response:
        if call.basic_auth() != (self.client_id, self.client_secret):
            return pin_error(401, "Authentication failed.", 2)
        form = call.form()
        if form.get("grant_type") == "authorization_code":
            grant = self.codes.pop(form.get("code", ""), None)
            if grant is None or form.get("redirect_uri") != grant["redirect_uri"]:
                return pin_error(400, "Invalid authorization code or redirect_uri.", 1)
            user_id, scopes, kind = grant["user_id"], grant["scopes"], "authorization_code"
        elif form.get("grant_type") == "refresh_token":
            grant = self.use_refresh_token(form.get("refresh_token", ""))
            if grant is None:
                return pin_error(400, "Invalid refresh token.", 1)
            user_id, scopes, kind = grant.user_id, grant.scopes, "refresh_token"
        else:
            return pin_error(400, "Invalid grant_type.", 1)
        access, refresh = self.issue_tokens(user_id, scopes)
        refresh_expires = self.refresh_tokens[refresh].expires_at
        return web.json_response({"access_token": access, "refresh_token": refresh, "response_type": kind,
                                  "token_type": "bearer", "expires_in": self.access_ttl,
                                  "refresh_token_expires_in": self.refresh_ttl,
                                  "refresh_token_expires_at": int(refresh_expires), "scope": " ".join(sorted(scopes))})

    # ---- account and boards ---------------------------------------------------------------

    async def _user_account(self, request: web.Request, call: Call) -> web.Response:
        user_id, refusal = self._check(call, "user_accounts:read")
        return refusal or web.json_response(self.accounts[user_id])

    async def _list_boards(self, request: web.Request, call: Call) -> web.Response:
        user_id, refusal = self._check(call, "boards:read")
        if refusal:
            return refusal
        size = int(call.query.get("page_size", 25))
        if not 1 <= size <= 250:
            return pin_error(400, "Invalid parameters: page_size must be between 1 and 250.", 1)
        mine = [b for b in self.boards.values() if b["_user_id"] == user_id]
        start = int(call.query.get("bookmark") or 0)
        page = mine[start:start + size]
        bookmark = str(start + size) if start + size < len(mine) else None
        return web.json_response({"items": [{k: v for k, v in b.items() if k != "_user_id"} for b in page],
                                  "bookmark": bookmark})

    # ---- pins and media -------------------------------------------------------------------

    async def _create_pin(self, request: web.Request, call: Call) -> web.Response:
        await self._fetch_image_url(call)
        user_id, refusal = self._check(call, "boards:read", "boards:write", "pins:read", "pins:write")
        if refusal:
            return refusal
        pin = call.json() or {}
        unknown = set(pin) - PIN_FIELDS
        if unknown:
            return pin_error(400, f"Invalid request: unknown fields {sorted(unknown)}", 1)
        board_id = str(pin.get("board_id", ""))
        if not re.fullmatch(r"\d+", board_id):
            return pin_error(400, "Invalid request: board_id is required and must be digits", 1)
        board = self.boards.get(board_id)
        if board is None or board["_user_id"] != user_id:
            return pin_error(404, "Board not found.", 40)
        for name, limit in (("title", 100), ("description", 800), ("link", 2048), ("alt_text", 500)):
            if len(pin.get(name) or "") > limit:
                return pin_error(400, f"Invalid request: '{name}' must be at most {limit} characters", 1)
        if pin.get("link") is not None and not _is_url(pin["link"]):
            return pin_error(400, "Invalid request: link must be a valid URL", 1)
        media, data, problem = self._media_for(user_id, pin.get("media_source") or {})
        if problem:
            return problem
        pin_id = str(1_097_000_000_000_000_000 + int(self.next_id()))
        created = {"id": pin_id, "created_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S"), "board_id": board_id,
                   "board_owner": {"username": board["owner"]["username"]}, "title": pin.get("title"),
                   "description": pin.get("description"), "link": pin.get("link"), "alt_text": pin.get("alt_text"),
                   "media": media}
        self.pins[pin_id] = created
        self.pin_media[pin_id] = data
        return web.json_response(created, status=201)

    async def _fetch_image_url(self, call) -> None:
        """Pinterest downloads an image_url pin's picture from where it is served: a URL on this machine (Picmim's
        media link in end-to-end tests) is fetched as Pinterest would; others come from `public_files`."""
        body = call.json() if isinstance(call.json(), dict) else {}
        source = body.get("media_source") if isinstance(body.get("media_source"), dict) else {}
        if source.get("source_type") == "image_url":
            urls = [source.get("url")]
        elif source.get("source_type") == "multiple_image_urls" and isinstance(source.get("items"), list):
            urls = [i.get("url") for i in source["items"] if isinstance(i, dict)]
        else:
            return
        for url in urls:
            if (not isinstance(url, str) or url in self.public_files
                    or urlsplit(url).hostname not in ("127.0.0.1", "localhost")):
                continue
            async with aiohttp.ClientSession() as session, session.get(url) as answer:
                if answer.status == 200:
                    self.public_files[url] = await answer.read()

    def _media_for(self, user_id: str, source: dict) -> tuple[dict, bytes, web.Response | None]:
        kind = source.get("source_type")
        if kind == "image_url":
            data = self.public_files.get(source.get("url", ""))
            if data is None or image_type(data) is None:
                return {}, b"", pin_error(400, "Sorry we could not fetch the image.", 1)
            return {"media_type": "image", "images": {"originals": {"url": source["url"]}}}, data, None
        if kind == "image_base64":
            try:
                data = base64.b64decode(source.get("data", ""), validate=True)
            except ValueError:
                data = b""
            if source.get("content_type") not in ("image/jpeg", "image/png") or \
                    image_type(data) != source.get("content_type"):
                return {}, b"", pin_error(400, "Invalid request: image_base64 needs a JPEG or PNG matching "
                                          "content_type", 1)
            return {"media_type": "image"}, data, None
        if kind == "video_id":
            upload = self.uploads.get(str(source.get("media_id", "")))
            if upload is None or upload.owner != user_id:
                return {}, b"", pin_error(400, "Invalid request: media_id not found", 1)
            if upload.status != "succeeded":
                return {}, b"", pin_error(400, f"Invalid request: media {source['media_id']} is {upload.status}, not "
                                          "succeeded", 1)
            if not any(k in source for k in ("cover_image_url", "cover_image_data", "cover_image_key_frame_time")):
                return {}, b"", pin_error(400, "Invalid request: a video pin needs cover_image_url or "
                                          "cover_image_content_type and cover_image_data or "
                                          "cover_image_key_frame_time", 1)
            frame = source.get("cover_image_key_frame_time")
            if "cover_image_key_frame_time" in source and (not isinstance(frame, int) or isinstance(frame, bool)
                                                           or frame < 0):
                # PinMediaSourceVideoID: an integer number of seconds, minimum 0.
                return {}, b"", pin_error(400, "Invalid request: cover_image_key_frame_time must be an integer "
                                          ">= 0", 1)
            found = {"media_type": "video", "media_id": str(source["media_id"])}
            if "cover_image_key_frame_time" in source:
                found["cover_image_key_frame_time"] = frame
            return found, upload.data or b"", None
        if kind in ("multiple_image_urls", "multiple_image_base64"):
            return self._images_for(kind, source)
        return {}, b"", pin_error(400, f"Invalid request: unsupported source_type {kind!r}", 1)

    def _images_for(self, kind: str, source: dict) -> tuple[dict, bytes, web.Response | None]:
        """A pin of several pictures: PinMediaSourceImagesURL / ImagesBase64, items minItems 2, maxItems 5."""
        items = source.get("items")
        if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
            return {}, b"", pin_error(400, "Invalid request: items must be a list of image objects", 1)
        if len(items) < 2:
            return {}, b"", pin_error(400, f"Invalid request: items: constraint: minItems=2, found {len(items)}", 1)
        if len(items) > 5:
            return {}, b"", pin_error(400, f"Invalid request: items: constraint: maxItems=5, found {len(items)}", 1)
        pictures = []
        for item in items:
            if kind == "multiple_image_urls":
                data = self.public_files.get(item.get("url", "")) if isinstance(item.get("url"), str) else None
                if data is None or image_type(data) is None:
                    return {}, b"", pin_error(400, "Sorry we could not fetch the image.", 1)
            else:
                try:
                    data = base64.b64decode(item.get("data", ""), validate=True)
                except ValueError:
                    data = b""
                if item.get("content_type") not in ("image/jpeg", "image/png") or \
                        image_type(data) != item.get("content_type"):
                    return {}, b"", pin_error(400, "Invalid request: multiple_image_base64 items need a JPEG or PNG "
                                              "matching content_type", 1)
            pictures.append(data)
        return ({"media_type": "multiple_images", "items": [{"type": image_type(d)} for d in pictures]},
                pictures[0], None)

    async def _register_media(self, request: web.Request, call: Call) -> web.Response:
        user_id, refusal = self._check(call, "pins:read", "pins:write")
        if refusal:
            return refusal
        if (call.json() or {}).get("media_type") != "video":
            return pin_error(400, "Invalid request: media_type must be video", 1)
        media_id = str(5_000_000 + int(self.next_id()))
        parameters = {"x-amz-date": datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ"),
                      "x-amz-signature": secrets.token_hex(32), "x-amz-security-token": secrets.token_urlsafe(24),
                      "x-amz-algorithm": "AWS4-HMAC-SHA256", "key": f"uploads/{media_id}/video",
                      "policy": secrets.token_urlsafe(32),
                      "x-amz-credential": "ASIA/20260101/us-east-1/s3/aws4_request",
                      "Content-Type": "multipart/form-data"}
        self.uploads[media_id] = Upload(user_id, parameters, polls_left=self.processing_polls,
                                        fails=self.fail_processing)
        return web.json_response({"media_id": media_id, "media_type": "video",
                                  "upload_url": f"https://{UPLOAD_HOST}/", "upload_parameters": parameters},
                                 status=201)

    async def _bucket_upload(self, request: web.Request, call: Call) -> web.Response:
        if "Content-Length" not in call.headers:
            return web.Response(status=411, content_type="application/xml", text=(
                "<Error><Code>MissingContentLength</Code><Message>You must provide the Content-Length HTTP "
                "header.</Message></Error>"))
        parts = call.multipart()
        upload = next((u for u in self.uploads.values()
                       if "key" in parts and u.parameters["key"] == parts["key"].text), None)
        signed = upload is not None and all(k in parts and parts[k].text == v for k, v in upload.parameters.items())
        if not signed or "file" not in parts:
            return web.Response(status=403, content_type="application/xml", text=(
                "<Error><Code>AccessDenied</Code><Message>Invalid according to Policy</Message></Error>"))
        upload.data = parts["file"].data
        upload.status = "processing"
        return web.Response(status=204)

    async def _media_status(self, request: web.Request, call: Call) -> web.Response:
        user_id, refusal = self._check(call, "pins:read")
        if refusal:
            return refusal
        media_id = request.match_info["id"]
        upload = self.uploads.get(media_id)
        if upload is None or upload.owner != user_id:
            return pin_error(404, "Media upload not found.", 4)
        if upload.status == "processing":
            if upload.polls_left > 0:
                upload.polls_left -= 1
            else:
                upload.status = "failed" if upload.fails or not is_video(upload.data or b"") else "succeeded"
        return web.json_response({"media_id": media_id, "media_type": "video", "status": upload.status})

    # ---- analytics ------------------------------------------------------------------------

    def _window(self, call: Call) -> web.Response | None:
        try:
            start = date.fromisoformat(call.query["start_date"])
            end = date.fromisoformat(call.query["end_date"])
        except (KeyError, ValueError):
            return pin_error(400, "Invalid parameters: start_date and end_date (YYYY-MM-DD) are required.", 1)
        today = datetime.now(UTC).date()
        if start > end or start < today - timedelta(days=90) or end > today:
            return pin_error(400, "Invalid parameters: analytics cover at most the last 90 days.", 1)
        return None

    async def _account_analytics(self, request: web.Request, call: Call) -> web.Response:
        user_id, refusal = self._check(call, "user_accounts:read")
        if refusal:
            return refusal
        if self.accounts[user_id]["account_type"] != "BUSINESS":
            return pin_error(403, "Not authorized to access the user account analytics.")
        problem = self._window(call)
        if problem:
            return problem
        summary = self.account_summary.get(user_id, {})
        return web.json_response({"all": {"daily_metrics": [], "summary_metrics": summary}})

    async def _pin_analytics(self, request: web.Request, call: Call) -> web.Response:
        user_id, refusal = self._check(call, "boards:read", "pins:read")
        if refusal:
            return refusal
        pin = self.pins.get(request.match_info["id"])
        if pin is None or self.boards[pin["board_id"]]["_user_id"] != user_id:
            return pin_error(404, "Pin not found.", 50)
        problem = self._window(call)
        if problem:
            return problem
        asked = [m for m in call.query.get("metric_types", "").split(",") if m]
        if not asked:
            return pin_error(400, "Invalid parameters: metric_types is required.", 1)
        lifetime = {k: v for k, v in self.pin_lifetime.get(pin["id"], {}).items() if k in asked}
        return web.json_response({"all": {"daily_metrics": [], "summary_metrics": lifetime,
                                          "lifetime_metrics": lifetime}})

