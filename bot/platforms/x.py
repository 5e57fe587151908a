"""X (formerly Twitter): OAuth 2.0 with PKCE, the v2 media upload endpoints, posts and public metrics.

Facts: shared/platforms/linkedin_x_pinterest.md §2. X rotates refresh tokens on every use, so the
newest one in each TokenSet is the only one that works.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import httpx

from bot.platforms import oauth, threads
from bot.platforms.base import (
    PHONE_PHOTOS,
    PKCE,
    AccessRevoked,
    AccountRef,
    Adapter,
    ContentRejected,
    Counting,
    Draft,
    Limits,
    MediaLimits,
    MediaPayload,
    Metrics,
    OutcomeUnknown,
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
from bot.platforms.settings import X_REPLY_SETTINGS, XSettings
from bot.platforms.validation import Checker, human_size
from bot.platforms.x_text import MAX_WEIGHTED_LENGTH, count, invalid_characters
from bot.secret import Secret

# The API version Picmim speaks (its paths start /2/); X publishes no end date for v2.
API_VERSION = "2"
API = "https://api.x.com"
AUTHORIZE_URL = "https://x.com/i/oauth2/authorize"
TOKEN_URL = f"{API}/2/oauth2/token"
REVOKE_URL = f"{API}/2/oauth2/revoke"

# X writes its limits in MB; decimal megabytes keep Picmim on the safe side of either reading.
IMAGE_MAX_BYTES = 5_000_000
GIF_MAX_BYTES = 15_000_000
VIDEO_MAX_BYTES = 512_000_000
VIDEO_MIN_SECONDS = 0.5
GIF_MAX_SIZE = (1280, 1080)  # width, height in pixels
# POST /2/media/metadata takes alt text up to 1,000 characters (shared/PLATFORMS.md), for photos and GIFs: X's
# media metadata documentation says only images and GIFs take it, so a video's alt text is not sent.
ALT_TEXT_MAX = 1000
# Who may reply, as POST /2/tweets takes it (openapi.json CreatePostsRequest.reply_settings; leaving it out means
# everyone). X also has `subscribers` and `verified`, which Picmim does not offer.
REPLY_SETTINGS = tuple(value for value, _label in X_REPLY_SETTINGS if value)
# X takes appended segments of up to 5 MB; 4 MiB keeps a margin.
UPLOAD_SEGMENT_BYTES = 4 * 1024 * 1024
MEDIA_PROCESSING_MAX_WAIT = 600.0  # seconds before a video still processing counts as a passing failure
METRICS_BATCH = 100  # GET /2/tweets takes up to 100 ids

LIMITS = Limits(
    texts=(
        TextLimit("text", "post", MAX_WEIGHTED_LENGTH, Counting.WEIGHTED),
        TextLimit("alt_text", "alt text", ALT_TEXT_MAX),
        TextLimit("first_comment", "first comment", MAX_WEIGHTED_LENGTH, Counting.WEIGHTED),
    ),
    # Photo and GIF sizes differ, so `validate` checks them; the shortest video too (its message needs tenths).
    image=MediaLimits("image", ("image/jpeg", "image/png", "image/webp", "image/gif"), convertible_from=PHONE_PHOTOS),
    # X's published maximum is 1280x1024; larger videos are scaled down by the media pipeline.
    video=MediaLimits("video", ("video/mp4", "video/quicktime"), max_bytes=VIDEO_MAX_BYTES, max_width=1280,
                      max_height=1024, min_aspect=1 / 3, max_aspect=3.0, aspect_labels=("1:3", "3:1"),
                      max_duration=140, max_fps=60, scalable=True,
                      video_codecs=("h264",), audio_codecs=("aac",)),  # "H264 + AAC-LC"
    max_images=4,
    max_videos=1,
    mixed_media=False,
    first_comment=True,  # a reply by the same account, right after the post (or the thread's last part)
)

SCOPES = (
    Scope("tweet.read", "to read your posts and their figures"),
    Scope("tweet.write", "to publish posts"),
    Scope("users.read", "to know which X account is connected and its follower count"),
    Scope("media.write", "to attach photos and videos to posts"),
    Scope("offline.access", "to stay connected without asking you to sign in again every two hours"),
)


def _expiry(seconds: object) -> datetime | None:
    if seconds in (None, ""):
        return None
    return datetime.now(UTC) + timedelta(seconds=int(seconds))


def _detail(body: dict | None, response: httpx.Response) -> str:
    """X's own words, from problem+json (`detail`, `errors[].message`) or OAuth errors."""
    if not body:
        return response.text[:300] or response.reason_phrase
    parts = [body.get("detail"), body.get("error_description")]
    parts += [e.get("message") or e.get("detail") for e in body.get("errors") or [] if isinstance(e, dict)]
    words = [p for p in parts if p]
    return " ".join(dict.fromkeys(words)) or body.get("title") or response.reason_phrase


def post_text(draft: Draft) -> str:
    """The text X receives: the draft's text, with its link added when the text does not hold it already."""
    text = draft.text or ""
    if draft.link and draft.link not in text:
        text = f"{text}\n{draft.link}" if text else draft.link
    return text


def thread_texts(draft: Draft) -> list[str]:
    """The posts the text goes out as: one, or a thread's parts when the author chose a thread and it is too long."""
    text = post_text(draft)
    settings = draft.settings
    if isinstance(settings, XSettings) and settings.thread:
        return threads.split(text, MAX_WEIGHTED_LENGTH, lambda t: count(t, Counting.WEIGHTED),
                             settings.numbered) or [text]
    return [text]


def _reply_settings(draft: Draft) -> str | None:
    settings = draft.settings
    return (settings.reply_settings or None) if isinstance(settings, XSettings) else None  # "": everyone


async def _segments(payload: MediaPayload, size: int) -> AsyncIterator[bytes]:
    buffer = bytearray()
    async for chunk in payload.read():
        buffer += chunk
        while len(buffer) >= size:
            yield bytes(buffer[:size])
            del buffer[:size]
    if buffer:
        yield bytes(buffer)


async def _read_all(payload: MediaPayload) -> bytes:
    return b"".join([chunk async for chunk in payload.read()])


class XAdapter(Adapter):
    key = "x"
    name = "X"
    limits = LIMITS
    scopes = SCOPES
    uses_pkce = True
    refreshable = True
    # Seconds between media status checks; None follows X's check_after_secs.
    poll_interval: float | None = None

    # ---- OAuth -----------------------------------------------------------------------------

    def authorize_url(self, state: str, pkce: PKCE | None) -> str:
        if pkce is None:
            raise ValueError("X needs PKCE: pass oauth.new_pkce()")
        return oauth.authorize_url(AUTHORIZE_URL, {
            "response_type": "code",
            "client_id": self.config.client_id,
            "redirect_uri": self.config.redirect_uri,
            "scope": " ".join(s.name for s in self.scopes),
            "state": state,
        }, pkce)

    async def exchange_code(self, code: str, pkce: PKCE | None) -> TokenSet:
        if pkce is None:
            raise ValueError("X needs the PKCE verifier made for authorize_url")
        data = await self._token_call({"grant_type": "authorization_code", "code": code,
                                       "redirect_uri": self.config.redirect_uri, "code_verifier": pkce.verifier},
                                      refreshing=False)
        access = Secret(data["access_token"])
        me = await self._me(access)
        return TokenSet(
            access_token=access,
            external_user_id=me["id"],
            display_name=me.get("name") or me.get("username"),
            refresh_token=Secret(data["refresh_token"]) if data.get("refresh_token") else None,
            expires_at=_expiry(data.get("expires_in")),
            scopes=tuple(str(data.get("scope", "")).split()),
        )

    async def refresh(self, tokens: TokenSet) -> TokenSet:
        if tokens.refresh_token is None:
            raise AccessRevoked(self.name, "This X connection cannot renew itself: connect X again.",
                                "no refresh token (offline.access was not granted)")
        data = await self._token_call({"grant_type": "refresh_token",
                                       "refresh_token": tokens.refresh_token.reveal()}, refreshing=True)
        # X rotates refresh tokens: the one just used is dead, keep the new one.
        new_refresh = data.get("refresh_token")
        return dataclasses.replace(
            tokens,
            access_token=Secret(data["access_token"]),
            refresh_token=Secret(new_refresh) if new_refresh else tokens.refresh_token,
            expires_at=_expiry(data.get("expires_in")),
            scopes=tuple(str(data.get("scope", "")).split()) or tokens.scopes,
        )

    async def revoke(self, tokens: TokenSet) -> bool:
        revoked = False
        pairs = [(tokens.refresh_token, "refresh_token"), (tokens.access_token, "access_token")]
        for token, hint in pairs:
            if token is None:
                continue
            response = await send(self.http, self.name, "POST", REVOKE_URL, auth=self._client_auth(),
                                  data={"token": token.reveal(), "token_type_hint": hint,
                                        "client_id": self.config.client_id or ""})
            if not response.is_success:
                raise self._error(response)
            revoked = revoked or bool((json_or_none(response) or {}).get("revoked"))
        return revoked

    def _client_auth(self) -> httpx.BasicAuth:
        # Web apps are confidential clients: X wants HTTP Basic with the client id and secret.
        return httpx.BasicAuth(self.config.client_id or "", self.config.client_secret or "")

    async def _token_call(self, form: dict[str, str], *, refreshing: bool) -> dict:
        form = {**form, "client_id": self.config.client_id or ""}
        response = await send(self.http, self.name, "POST", TOKEN_URL, data=form, auth=self._client_auth())
        body = json_or_none(response) or {}
        if response.is_success and body.get("access_token"):
            return body
        detail = _detail(body, response)
        if response.status_code == 429 or response.status_code >= 500:
            raise self._error(response)
        if response.status_code == 401 or body.get("error") in ("invalid_client", "unauthorized_client"):
            raise PlatformError(self.name, "X refused Picmim's app credentials: an admin should check X_CLIENT_ID "
                                           "and X_CLIENT_SECRET.", detail)
        if refreshing:
            raise AccessRevoked(self.name, "X no longer accepts this connection: connect X again.", detail)
        raise AccessRevoked(self.name, "X did not accept the sign-in, perhaps because it took too long: "
                                       "connect X again.", detail)

    # ---- accounts ----------------------------------------------------------------------------

    async def _me(self, token: Secret) -> dict:
        response = await self._api("GET", "/2/users/me", token,
                                   params={"user.fields": "profile_image_url,public_metrics"})
        return response.json()["data"]

    async def list_accounts(self, tokens: TokenSet) -> list[RemoteAccount]:
        me = await self._me(tokens.access_token)
        return [RemoteAccount(
            external_id=me["id"], kind="profile", name=me.get("name") or me["username"], handle=me.get("username"),
            avatar_url=me.get("profile_image_url"),
            followers_count=(me.get("public_metrics") or {}).get("followers_count"),
        )]

    # ---- validation --------------------------------------------------------------------------

    def validate(self, account: AccountRef, draft: Draft) -> list[Problem]:
        checker = Checker(self.name, account.name, self.limits)
        parts = thread_texts(draft)
        # A thread's first part carries the pictures; every part is within the count by the way it is cut.
        sent = dataclasses.replace(draft, text=parts[0] if parts else "")
        checker.check(sent, counter=count)
        if len(parts) > threads.MAX_PARTS:
            checker.add("text", f"As a thread this text makes {len(parts)} posts on X; Picmim sends up to "
                                f"{threads.MAX_PARTS}: shorten it.")
        sent = dataclasses.replace(sent, text=post_text(draft))
        if not sent.text.strip() and not draft.media:
            checker.add("text", "X needs text or a photo or video: write something.")
        bad = invalid_characters(sent.text)
        if bad:
            codes = ", ".join(f"U+{ord(c):04X}" for c in bad)
            checker.add("text", f"X refuses some invisible characters in this text ({codes}): retype the text "
                                "without pasting them.")
        gifs = [m for m in draft.media if m.mimetype == "image/gif"]
        if gifs and len(draft.media) > 1:
            checker.add("media", "X takes a GIF only on its own: post the GIF alone, or remove it.")
        for m in draft.media:
            name = m.filename or f"this {m.kind}"
            if m.mimetype == "image/gif" and m.width and m.height and (
                    m.width > GIF_MAX_SIZE[0] or m.height > GIF_MAX_SIZE[1]):
                checker.add("media", f"X takes GIFs up to {GIF_MAX_SIZE[0]}×{GIF_MAX_SIZE[1]} px; {name} is "
                                     f"{m.width}×{m.height}: attach a smaller one.")
            if m.mimetype == "image/gif" and m.size_bytes > GIF_MAX_BYTES:
                checker.add("media", f"X takes GIFs up to {human_size(GIF_MAX_BYTES)}; {name} is "
                                     f"{human_size(m.size_bytes)}: attach a smaller one.")
            elif m.kind == "image" and m.mimetype != "image/gif" and m.size_bytes > IMAGE_MAX_BYTES:
                checker.add("media", f"X takes photos up to {human_size(IMAGE_MAX_BYTES)}; {name} is "
                                     f"{human_size(m.size_bytes)}: Picmim shrinks it to fit.", fixable=True)
            if m.kind == "video" and m.duration is not None and m.duration < VIDEO_MIN_SECONDS:
                checker.add("media", f"X needs videos of at least {VIDEO_MIN_SECONDS:g} s; {name} is "
                                     f"{m.duration:.1f} s: attach a longer one.")
        reply_settings = _reply_settings(draft)
        if reply_settings is not None and reply_settings not in REPLY_SETTINGS:
            checker.add("reply_settings", "X lets everyone reply, or only people you follow, or only people you "
                                          "mention: choose one of those.")
        return checker.problems

    # ---- publishing --------------------------------------------------------------------------

    async def publish(self, account: AccountRef, draft: Draft, media: list[MediaPayload]) -> PublishResult:
        token = account.publish_token
        media_ids = []
        for payload in media if not draft.live_parts else ():  # a resumed thread's pictures went with part 1
            if payload.facts.kind == "video":
                media_id = await self._upload_video(token, payload)
            else:
                media_id = await self._upload_image(token, payload)
            if payload.facts.alt_text and payload.facts.kind == "image":
                await self._api("POST", "/2/media/metadata", token, field="media",
                                json={"id": media_id, "metadata": {"alt_text": {"text": payload.facts.alt_text}}})
            media_ids.append(media_id)
        reply_settings = _reply_settings(draft)
        handle = account.handle or "i"

        async def send(index: int, text: str, live: list[dict]) -> dict:
            body: dict = {"text": text}
            if index == 0 and media_ids:  # pictures go with the first part
                body["media"] = {"media_ids": media_ids}
            if not text:
                del body["text"]
            if reply_settings:  # left out, everyone can reply
                body["reply_settings"] = reply_settings
            if live:
                body["reply"] = {"in_reply_to_tweet_id": live[-1]["id"]}
            response = await self._api("POST", "/2/tweets", token, json=body, creates=True)
            post_id = response.json()["data"]["id"]
            return {"id": post_id, "url": f"https://x.com/{handle}/status/{post_id}"}

        async def find(live: list[dict]) -> dict | None:
            return await self._find_reply(token, account, live[-1]["id"], handle)

        live, warnings = await threads.publish_parts(draft, thread_texts(draft), send, find)
        first = threads.first_post(live)
        return PublishResult(remote_id=first["id"], url=first["url"], warnings=tuple(warnings))

    async def _find_reply(self, token: Secret, account: AccountRef, parent: str, handle: str) -> dict | None:
        """The account's reply to `parent`, if it is live: the user's posts since `parent`
        (GET /2/users/{id}/tweets with since_id; replies are included unless excluded)."""
        try:
            response = await self._api("GET", f"/2/users/{account.external_id}/tweets", token, params={
                "since_id": parent, "max_results": "100", "tweet.fields": "referenced_tweets"})
        except PlatformError as exc:
            raise OutcomeUnknown(self.name, "Picmim stopped while sending the next part of this thread and X "
                                            "could not say whether it went out.", exc.detail) from exc
        for post in response.json().get("data") or []:
            if any(ref.get("type") == "replied_to" and ref.get("id") == parent
                   for ref in post.get("referenced_tweets") or []):
                return {"id": post["id"], "url": f"https://x.com/{handle}/status/{post['id']}"}
        return None

    async def _upload_image(self, token: Secret, payload: MediaPayload) -> str:
        facts = payload.facts
        gif = facts.mimetype == "image/gif"
        if gif and facts.size_bytes > IMAGE_MAX_BYTES:
            # One-shot upload is for images; a GIF over 5 MB goes through the chunked flow (shared/PLATFORMS.md,
            # audit notes: X's media upload docs).
            return await self._upload_chunked(token, payload, "tweet_gif")
        # MediaUploadRequest takes media, media_category and additional_owners only, additionalProperties false
        # (X's OpenAPI description 2.167, xdevplatform/xdk specs/openapi.json, 2026-07-21): no media_type.
        response = await self._api(
            "POST", "/2/media/upload", token, field="media",
            data={"media_category": "tweet_gif" if gif else "tweet_image"},
            files={"media": (facts.filename or "image", await _read_all(payload), facts.mimetype)},
        )
        data = response.json()["data"]
        if data.get("processing_info"):
            await self._wait_for_media(token, data["id"], data["processing_info"])
        return data["id"]

    async def _upload_video(self, token: Secret, payload: MediaPayload) -> str:
        return await self._upload_chunked(token, payload, "tweet_video")

    async def _upload_chunked(self, token: Secret, payload: MediaPayload, category: str) -> str:
        """initialize / append / finalize (InitializeMediaUploadRequest takes media_type and total_bytes)."""
        facts = payload.facts
        response = await self._api("POST", "/2/media/upload/initialize", token, field="media", json={
            "media_type": facts.mimetype, "total_bytes": facts.size_bytes, "media_category": category})
        media_id = response.json()["data"]["id"]
        index = 0
        async for segment in _segments(payload, UPLOAD_SEGMENT_BYTES):
            await self._api("POST", f"/2/media/upload/{media_id}/append", token, field="media",
                            data={"segment_index": str(index)},
                            files={"media": (facts.filename or facts.kind, segment, "application/octet-stream")})
            index += 1
        response = await self._api("POST", f"/2/media/upload/{media_id}/finalize", token, field="media")
        processing = response.json()["data"].get("processing_info")
        if processing:
            await self._wait_for_media(token, media_id, processing)
        return media_id

    async def _wait_for_media(self, token: Secret, media_id: str, processing: dict) -> None:
        waited = 0.0
        while True:
            state = processing.get("state")
            if state == "succeeded":
                return
            if state == "failed":
                error = processing.get("error") or {}
                raise ContentRejected(self.name, "X could not process this video or GIF: check that it plays, "
                                                 "then attach it again (MP4 with H.264 video and AAC sound works "
                                                 "best).", error.get("message") or error.get("name"), field="media")
            if waited >= MEDIA_PROCESSING_MAX_WAIT:
                raise Transient(self.name, "X is still processing the video; Picmim will try again.",
                                f"media {media_id} still {state}")
            pause = self.poll_interval
            if pause is None:
                pause = float(processing.get("check_after_secs") or 1)
            await asyncio.sleep(pause)
            waited += max(pause, 1.0)  # at least a second per check, so a zero pause still ends
            response = await self._api("GET", "/2/media/upload", token, field="media",
                                       params={"command": "STATUS", "media_id": media_id})
            processing = response.json()["data"].get("processing_info") or {"state": "succeeded"}

    # ---- metrics -----------------------------------------------------------------------------

    async def fetch_metrics(self, account: AccountRef, remote_ids: list[str]) -> Metrics:
        token = account.publish_token
        response = await self._api("GET", f"/2/users/{account.external_id}", token,
                                   params={"user.fields": "public_metrics"})
        account_figures = dict(response.json()["data"].get("public_metrics") or {})
        # UserPublicMetrics names it post_count (X's OpenAPI 2.167); older answers say tweet_count.
        if "post_count" not in account_figures and "tweet_count" in account_figures:
            account_figures["post_count"] = account_figures.pop("tweet_count")
        posts: dict[str, dict[str, float]] = {}
        thumbnails: dict[str, str] = {}
        for start in range(0, len(remote_ids), METRICS_BATCH):
            batch = remote_ids[start:start + METRICS_BATCH]
            # The attached media come along (expansions): a photo's `url`, a video's or GIF's `preview_image_url`.
            response = await self._api("GET", "/2/tweets", token,
                                       params={"ids": ",".join(batch), "tweet.fields": "public_metrics",
                                               "expansions": "attachments.media_keys",
                                               "media.fields": "type,url,preview_image_url"})
            answer = response.json()
            media = {m.get("media_key"): m for m in (answer.get("includes") or {}).get("media") or []}
            # Deleted posts come back under "errors", not "data": they are simply absent.
            for post in answer.get("data") or []:
                posts[post["id"]] = dict(post.get("public_metrics") or {})
                keys = (post.get("attachments") or {}).get("media_keys") or []
                picture = next((address for key in keys if (address := _picture(media.get(key) or {}))), None)
                if picture:
                    thumbnails[post["id"]] = picture
        return Metrics(account=dict(account_figures), posts=posts, thumbnails=thumbnails)

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
        body = json_or_none(response)
        detail = _detail(body, response)
        lowered = f"{detail} {(body or {}).get('type', '')}".lower()
        if status == 401:
            return TokenExpired(self.name, "The X connection needs renewing.", detail)
        if status == 429 or "usage-capped" in lowered or "usagecapexceeded" in lowered:
            retry_after = retry_after_seconds(response.headers, "x-rate-limit-reset")
            if "usage-capped" in lowered or "usagecapexceeded" in lowered:
                return RateLimited(self.name, "Picmim's X app has used up its X API allowance for now; the post "
                                              "waits until it renews.", detail, retry_after)
            return RateLimited(self.name, "X asked Picmim to slow down for this account; the post waits until X "
                                          "allows more.", detail, retry_after)
        if status >= 500:
            return Transient(self.name, "X is having trouble right now; Picmim will try again.", detail)
        if "reply to a tweet that is deleted" in lowered or "reply to a post that is deleted" in lowered:
            return ContentRejected(self.name, "X refused a reply in this thread because the post before it is "
                                              "gone (deleted, or not visible to this account).", detail)
        if "duplicate" in lowered:
            return ContentRejected(self.name, "X does not allow posting the same text twice: change the text.",
                                   detail, field="text")
        if "too long" in lowered:
            return ContentRejected(self.name, f"X counts this text as longer than {MAX_WEIGHTED_LENGTH} characters: "
                                              "shorten it.", detail, field="text")
        if status == 403:
            return AccessRevoked(self.name, "X no longer lets Picmim post for this account: connect X again and "
                                            "allow everything Picmim asks for.", detail,
                                 reason=RevokeReason.PERMISSION_REMOVED)
        if status in (400, 404, 413, 422):
            if "reply_settings" in lowered:
                return ContentRejected(self.name, "X refused who may reply to this post: choose everyone, people you "
                                                  "follow, or people you mention.", detail, field="reply_settings")
            if "media" in lowered or field == "media":
                return ContentRejected(self.name, "X refused an attachment: check its type and size, then attach "
                                                  "it again.", detail, field="media")
            return ContentRejected(self.name, "X refused this post: change it using X's reason below.", detail,
                                   field=field)
        return PlatformError(self.name, "X answered in a way Picmim does not understand.", f"{status}: {detail}")


def _picture(media: dict) -> str | None:
    """What X shows for one attached media: a photo itself, a video's or GIF's preview image."""
    return media.get("url") if media.get("type") == "photo" else media.get("preview_image_url")


ADAPTER = XAdapter
