"""Pinterest (API v5): business accounts, their boards, image and video pins, pin and account analytics.

Facts: shared/platforms/linkedin_x_pinterest.md §3 (PinCreate in pinterest/api-description v5 openapi.json:
board_id digits, title ≤ 100, description ≤ 800, link ≤ 2,048, alt_text ≤ 500). A pin needs a board: each
account keeps its boards (`settings["boards"]`, a list of {"id", "name", "privacy"}, refreshed by
list_accounts) and a default board (`settings["default_board_id"]`); a post names its own in
`PinterestSettings.board_id` (older drafts: `Draft.options["board_id"]`). The title and destination link
come on `Draft.title` / `Draft.link` (else the settings' own), alt text on each picture's MediaFacts.
Pinterest fetches images from Picmim's public media URL; videos go through its media upload.
"""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import re
import secrets
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import httpx

from bot.platforms import oauth
from bot.platforms.base import (
    PHONE_PHOTOS,
    PKCE,
    AccessRevoked,
    AccountRef,
    Adapter,
    ContentRejected,
    Draft,
    Limits,
    MediaLimits,
    MediaPayload,
    Metrics,
    PlatformError,
    Problem,
    PublishResult,
    RateLimited,
    RemoteAccount,
    RevokeReason,
    Scope,
    TextLimit,
    TokenExpired,
    TokenSet,
    Transient,
)
from bot.platforms.http_calls import json_or_none, retry_after_seconds, send
from bot.platforms.settings import PinterestSettings
from bot.platforms.validation import Checker, cover_time
from bot.secret import Secret

API_VERSION = "v5"  # Pinterest publishes no end date for v5
API = f"https://api.pinterest.com/{API_VERSION}"
AUTHORIZE_URL = "https://www.pinterest.com/oauth/"
TOKEN_URL = f"{API}/oauth/token"

# Apps created before 2025-09-25 must ask for the continuous refresh token explicitly; newer ones get it anyway.
CONTINUOUS_REFRESH = "true"
# UNCERTAIN: Pinterest documents no rate-limit headers; its Standard limits are per minute.
DEFAULT_RETRY_AFTER = 60.0
# UNCERTAIN (Pinterest's help pages, not the API spec): video pins.
VIDEO_MAX_BYTES = 2_000_000_000
ANALYTICS_DAYS = 30  # Pinterest keeps analytics for the last 90 days
PIN_METRICS = ("IMPRESSION", "OUTBOUND_CLICK", "PIN_CLICK", "SAVE")
MEDIA_PROCESSING_MAX_WAIT = 600.0
# A pin of several pictures (PinMediaSourceImagesURL / ImagesBase64 in pinterest/api-description v5: items
# minItems 2, maxItems 5); one picture is an ordinary image pin.
MAX_IMAGES = 5
BOARDS_PAGE = 250  # the largest page Pinterest gives

LIMITS = Limits(
    texts=(
        TextLimit("title", "title", 100),
        TextLimit("text", "description", 800),
        TextLimit("link", "link", 2048),
        TextLimit("alt_text", "alt text", 500),
    ),
    image=MediaLimits("image", ("image/jpeg", "image/png"), convertible_from=("image/webp", *PHONE_PHOTOS)),
    video=MediaLimits("video", ("video/mp4", "video/quicktime"), max_bytes=VIDEO_MAX_BYTES, min_duration=4,
                      max_duration=15 * 60),
    max_images=MAX_IMAGES,
    max_videos=1,
    mixed_media=False,
    requires_media=True,
    media_by_url=True,
)

SCOPES = (
    Scope("user_accounts:read", "to know which Pinterest account is connected and read its analytics"),
    Scope("boards:read", "to list your boards so you can pick where pins go"),
    Scope("boards:write", "to add pins to your boards"),
    Scope("pins:read", "to read your pins' analytics"),
    Scope("pins:write", "to create pins"),
)


def _expiry(seconds: object) -> datetime | None:
    if seconds in (None, ""):
        return None
    return datetime.now(UTC) + timedelta(seconds=int(seconds))


def _scopes(value: object) -> tuple[str, ...]:
    return tuple(s for s in re.split(r"[,\s]+", str(value or "")) if s)


def pin_description(draft: Draft) -> str:
    """A pin's description: the draft's own description, or its text."""
    return draft.description if draft.description is not None else (draft.text or "")


def _settings(draft: Draft) -> PinterestSettings | None:
    return draft.settings if isinstance(draft.settings, PinterestSettings) else None


def board_for(account: AccountRef, draft: Draft) -> str | None:
    """The pin's board: the one chosen for the post, else the account's default board."""
    settings = _settings(draft)
    chosen = (settings.board_id if settings else None) or draft.options.get("board_id")
    return chosen or account.settings.get("default_board_id")


def pin_draft(draft: Draft) -> Draft:
    """The draft with the pin's title and link where the shared checks read them: the draft's own (the
    compose window puts them there), else the settings'."""
    settings = _settings(draft)
    if settings is None:
        return draft
    return dataclasses.replace(draft, title=draft.title or settings.title or draft.title,
                               link=draft.link or settings.link or draft.link)


def valid_link(link: str) -> bool:
    """A full http(s) address with a host, as Pinterest wants a pin's destination link."""
    try:
        parts = urlsplit(link)
    except ValueError:
        return False
    host = parts.hostname or ""
    return (parts.scheme in ("http", "https") and "." in host.strip(".") and not any(c.isspace() for c in link))


class PinterestAdapter(Adapter):
    key = "pinterest"
    name = "Pinterest"
    limits = LIMITS
    scopes = SCOPES
    uses_pkce = False
    refreshable = True
    poll_interval: float | None = None  # seconds between video status checks (None: 3)

    # ---- OAuth -----------------------------------------------------------------------------

    def authorize_url(self, state: str, pkce: PKCE | None) -> str:
        return oauth.authorize_url(AUTHORIZE_URL, {
            "client_id": self.config.client_id,
            "redirect_uri": self.config.redirect_uri,
            "response_type": "code",
            "scope": ",".join(s.name for s in self.scopes),  # Pinterest separates scopes with commas
            "state": state,
        })

    async def exchange_code(self, code: str, pkce: PKCE | None) -> TokenSet:
        data = await self._token_call({"grant_type": "authorization_code", "code": code,
                                       "redirect_uri": self.config.redirect_uri,
                                       "continuous_refresh": CONTINUOUS_REFRESH}, refreshing=False)
        access = Secret(data["access_token"])
        me = await self._user_account(access)
        return TokenSet(
            access_token=access,
            external_user_id=str(me.get("id") or me["username"]),
            display_name=me.get("business_name") or me.get("username"),
            refresh_token=Secret(data["refresh_token"]) if data.get("refresh_token") else None,
            expires_at=_expiry(data.get("expires_in")),
            refresh_expires_at=_expiry(data.get("refresh_token_expires_in")),
            scopes=_scopes(data.get("scope")),
        )

    async def refresh(self, tokens: TokenSet) -> TokenSet:
        if tokens.refresh_token is None:
            raise AccessRevoked(self.name, "This Pinterest connection cannot renew itself: connect Pinterest again.",
                                "no refresh token")
        data = await self._token_call({"grant_type": "refresh_token", "refresh_token": tokens.refresh_token.reveal()},
                                      refreshing=True)
        # Continuous refresh tokens rotate: each refresh brings a new one with a new 60-day life.
        new_refresh = data.get("refresh_token")
        return dataclasses.replace(
            tokens,
            access_token=Secret(data["access_token"]),
            refresh_token=Secret(new_refresh) if new_refresh else tokens.refresh_token,
            expires_at=_expiry(data.get("expires_in")),
            refresh_expires_at=_expiry(data.get("refresh_token_expires_in")) or tokens.refresh_expires_at,
            scopes=_scopes(data.get("scope")) or tokens.scopes,
        )

    async def _token_call(self, form: dict[str, str], *, refreshing: bool) -> dict:
        auth = httpx.BasicAuth(self.config.client_id or "", self.config.client_secret or "")
        response = await send(self.http, self.name, "POST", TOKEN_URL, data=form, auth=auth)
        body = json_or_none(response) or {}
        if response.is_success and body.get("access_token"):
            return body
        if response.status_code == 429 or response.status_code >= 500:
            raise self._error(response)
        detail = body.get("message") or body.get("error_description") or response.text[:300]
        if response.status_code == 401 or body.get("error") == "invalid_client":
            raise PlatformError(self.name, "Pinterest refused Picmim's app credentials: an admin should check "
                                           "PINTEREST_CLIENT_ID and PINTEREST_CLIENT_SECRET.", detail)
        if refreshing:
            raise AccessRevoked(self.name, "Pinterest no longer renews this connection: connect Pinterest again.",
                                detail)
        raise AccessRevoked(self.name, "Pinterest did not accept the sign-in, perhaps because it took too long: "
                                       "connect Pinterest again.", detail)

    # ---- accounts ----------------------------------------------------------------------------

    async def _user_account(self, token: Secret) -> dict:
        return (await self._api("GET", "/user_account", token)).json()

    async def list_accounts(self, tokens: TokenSet) -> list[RemoteAccount]:
        token = tokens.access_token
        me = await self._user_account(token)
        account = RemoteAccount(
            external_id=str(me.get("id") or me["username"]), kind="business", name=me.get("business_name")
            or me["username"], handle=me["username"], avatar_url=me.get("profile_image"),
            followers_count=me.get("follower_count"))
        if me.get("account_type") != "BUSINESS":
            return [dataclasses.replace(account, kind="profile", refusal=(
                "This is a personal Pinterest account; Pinterest lets apps publish and read analytics only for "
                "business accounts. Convert it to a free business account (Pinterest settings → Account "
                "management → Convert to a business account), then reconnect Pinterest."))]
        boards = await self._boards(token)
        return [dataclasses.replace(account, settings={
            "boards": boards, "default_board_id": boards[0]["id"] if boards else None})]

    async def _boards(self, token: Secret) -> list[dict]:
        boards: list[dict] = []
        params = {"page_size": str(BOARDS_PAGE)}
        while True:
            page = (await self._api("GET", "/boards", token, params=params)).json()
            boards += [{"id": b["id"], "name": b.get("name", ""), "privacy": b.get("privacy", "PUBLIC")}
                       for b in page.get("items") or []]
            if not page.get("bookmark"):
                return boards
            params = {**params, "bookmark": page["bookmark"]}

    # ---- validation --------------------------------------------------------------------------

    def validate(self, account: AccountRef, draft: Draft) -> list[Problem]:
        draft = pin_draft(draft)
        checker = Checker(self.name, account.name, self.limits)
        # The description limit applies to whatever becomes the description.
        checker.check(dataclasses.replace(draft, text=pin_description(draft), description=None))
        board = board_for(account, draft)
        boards = account.settings.get("boards")
        if not board:
            checker.add("board_id", "Pinterest puts every pin on a board: pick a board for this account (create one "
                                 "on Pinterest first if it has none, then refresh the account).")
        elif boards is not None and board not in {b["id"] for b in boards}:
            checker.add("board_id", "The board picked for this pin is no longer on Pinterest: refresh the account and "
                                 "pick another board.")
        if draft.link and not valid_link(draft.link):
            checker.add("link", "Pinterest needs the pin's link to be a full web address starting with https://: "
                                "fix the link.")
        return checker.problems

    # ---- publishing --------------------------------------------------------------------------

    async def publish(self, account: AccountRef, draft: Draft, media: list[MediaPayload]) -> PublishResult:
        token = account.publish_token
        draft, board = pin_draft(draft), board_for(account, draft)
        if not board:
            raise ContentRejected(self.name, "Pinterest puts every pin on a board: pick a board for this account.",
                                  "no board_id", field="board_id")
        if not media:
            raise ContentRejected(self.name, "A pin needs a photo or a video: attach one.", "no media", field="media")
        payload = media[0]
        pin: dict = {"board_id": board, "description": pin_description(draft)}
        if draft.title:
            pin["title"] = draft.title
        if draft.link:
            pin["link"] = draft.link
        if payload.facts.kind == "video":
            media_id = await self._upload_video(token, payload)
            # A video pin needs a cover: the frame at the cover time chosen in the window (else the first second),
            # in whole seconds as PinMediaSourceVideoID's cover_image_key_frame_time wants it.
            seconds = cover_time(draft.options, payload.facts.duration) // 1000
            pin["media_source"] = {"source_type": "video_id", "media_id": media_id,
                                   "cover_image_key_frame_time": seconds}
        else:
            if payload.facts.alt_text:  # the pin's own alt text (PinCreate has one per pin): the first picture's
                pin["alt_text"] = payload.facts.alt_text
            pin["media_source"] = await (self._images_source(media) if len(media) > 1
                                         else self._image_source(payload))
        response = await self._api("POST", "/pins", token, json=pin, creates=True)
        pin_id = str(response.json()["id"])
        return PublishResult(remote_id=pin_id, url=f"https://www.pinterest.com/pin/{pin_id}/")

    async def _image_source(self, payload: MediaPayload) -> dict:
        if payload.public_url:
            return {"source_type": "image_url", "url": payload.public_url}
        # No public URL (Picmim not reachable from outside): send the bytes; Pinterest takes JPEG and PNG so.
        data = b"".join([chunk async for chunk in payload.read()])
        return {"source_type": "image_base64", "content_type": payload.facts.mimetype,
                "data": base64.b64encode(data).decode()}

    async def _images_source(self, media: list[MediaPayload]) -> dict:
        """A pin of 2 to 5 pictures people swipe through, by their media links (or their bytes without one)."""
        pictures = media[:MAX_IMAGES]
        if all(p.public_url for p in pictures):
            return {"source_type": "multiple_image_urls", "items": [{"url": p.public_url} for p in pictures]}
        items = []
        for payload in pictures:
            data = b"".join([chunk async for chunk in payload.read()])
            items.append({"content_type": payload.facts.mimetype, "data": base64.b64encode(data).decode()})
        return {"source_type": "multiple_image_base64", "items": items}

    async def _upload_video(self, token: Secret, payload: MediaPayload) -> str:
        registered = (await self._api("POST", "/media", token, json={"media_type": "video"}, field="media")).json()
        media_id = str(registered["media_id"])
        boundary = secrets.token_hex(16)
        fields = {**registered.get("upload_parameters", {})}
        head = b"".join(f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
                        for k, v in fields.items())
        filename = payload.facts.filename or "video.mp4"
        head += (f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{filename}"\r\n'
                 f"Content-Type: {payload.facts.mimetype}\r\n\r\n").encode()
        tail = f"\r\n--{boundary}--\r\n".encode()

        async def body() -> AsyncIterator[bytes]:
            yield head
            async for chunk in payload.read():
                yield chunk
            yield tail

        # The upload URL is Pinterest's storage bucket: it takes a form post of a known length, no bearer token.
        response = await send(self.http, self.name, "POST", registered["upload_url"], content=body(), headers={
            "Content-Type": f"multipart/form-data; boundary={boundary}",
            "Content-Length": str(len(head) + payload.facts.size_bytes + len(tail))})
        if not response.is_success:
            raise self._error(response, field="media")
        await self._wait_for_video(token, media_id)
        return media_id

    async def _wait_for_video(self, token: Secret, media_id: str) -> None:
        pause = 3.0 if self.poll_interval is None else self.poll_interval
        waited = 0.0
        while True:
            status = (await self._api("GET", f"/media/{media_id}", token, field="media")).json().get("status")
            if status == "succeeded":
                return
            if status == "failed":
                raise ContentRejected(self.name, "Pinterest could not process this video: check that it plays and is "
                                                 "an MP4 or MOV, then attach it again.", f"media {media_id} failed",
                                      field="media")
            if waited >= MEDIA_PROCESSING_MAX_WAIT:
                raise Transient(self.name, "Pinterest is still processing the video; Picmim will try again.",
                                f"media {media_id} still {status}")
            await asyncio.sleep(pause)
            waited += max(pause, 1.0)  # at least a second per check, so a zero pause still ends

    # ---- metrics -----------------------------------------------------------------------------

    async def fetch_metrics(self, account: AccountRef, remote_ids: list[str]) -> Metrics:
        token = account.publish_token
        end = datetime.now(UTC).date()
        window = {"start_date": (end - timedelta(days=ANALYTICS_DAYS)).isoformat(), "end_date": end.isoformat()}
        summary = (await self._api("GET", "/user_account/analytics", token, params=window)).json()
        figures = dict(((summary.get("all") or {}).get("summary_metrics")) or {})
        me = await self._user_account(token)
        if me.get("follower_count") is not None:
            figures["follower_count"] = me["follower_count"]
        posts = {}
        for pin_id in remote_ids:
            response = await self._api("GET", f"/pins/{pin_id}/analytics", token,
                                       params={**window, "metric_types": ",".join(PIN_METRICS)})
            all_apps = response.json().get("all") or {}
            posts[pin_id] = dict(all_apps.get("lifetime_metrics") or all_apps.get("summary_metrics") or {})
        return Metrics(account=figures, posts=posts)

    # ---- HTTP and errors ---------------------------------------------------------------------

    async def _api(self, method: str, path: str, token: Secret, *, creates: bool = False, field: str = "text",
                   **kwargs) -> httpx.Response:
        headers = {"Authorization": f"Bearer {token.reveal()}"}
        response = await send(self.http, self.name, method, API + path, creates=creates, headers=headers, **kwargs)
        if response.is_success:
            return response
        raise self._error(response, field=field)

    def _error(self, response: httpx.Response, field: str = "text") -> PlatformError:
        status = response.status_code
        body = json_or_none(response) or {}
        detail = body.get("message") or response.text[:300] or response.reason_phrase
        lowered = detail.lower()
        if status == 401:
            return TokenExpired(self.name, "The Pinterest connection needs renewing.", detail)
        if status == 429:
            retry_after = retry_after_seconds(response.headers)
            if retry_after is None:
                retry_after = DEFAULT_RETRY_AFTER
            return RateLimited(self.name, "Pinterest asked Picmim to slow down; the pin waits a little.", detail,
                               retry_after)
        if status >= 500:
            return Transient(self.name, "Pinterest is having trouble right now; Picmim will try again.", detail)
        if "board" in lowered and (status == 404 or "not found" in lowered):
            return ContentRejected(self.name, "The board picked for this pin is not on Pinterest any more: refresh "
                                              "the account and pick another board.", detail, field="board_id")
        if status == 403:
            return AccessRevoked(self.name, "Pinterest no longer lets Picmim do this for the account: check that it "
                                            "is still a business account, then reconnect Pinterest.", detail,
                                 reason=RevokeReason.PERMISSION_REMOVED)
        if status in (400, 404, 409, 413, 422):
            if "fetch" in lowered or "reach the url" in lowered or "image" in lowered or field == "media":
                return ContentRejected(self.name, "Pinterest could not use the attached image or video: check that "
                                                  "it opens, then attach it again.", detail, field="media")
            if "spam" in lowered:
                return ContentRejected(self.name, "Pinterest's spam filter blocked this pin, often because of its "
                                                  "link: change the link or the text.", detail, field="link")
            if "link" in lowered:
                return ContentRejected(self.name, "Pinterest refused the pin's link: fix the link.", detail,
                                       field="link")
            return ContentRejected(self.name, "Pinterest refused this pin: change it using Pinterest's reason "
                                              "below.", detail, field=field)
        return PlatformError(self.name, "Pinterest answered in a way Picmim does not understand.",
                             f"{status}: {detail}")


ADAPTER = PinterestAdapter
