"""YouTube: Google OAuth (offline access, so a refresh token), the user's channels, videos through the
resumable upload protocol, channel and video statistics, and YouTube Analytics.

A post is one video. The draft's `title` (else `YouTubeSettings.title`) is the video title (required)
and its `description` (or, when there is none, its text) the description. The post's choices come on
`Draft.settings` (`YouTubeSettings`): privacy -> status.privacyStatus, made_for_kids ->
status.selfDeclaredMadeForKids (YouTube's policy wants the declaration, so Picmim refuses a post without
it), tags -> snippet.tags, category_id -> snippet.categoryId. Drafts without settings keep the older
`Draft.options`: `privacy_status`, `tags`, `category_id`, `made_for_kids` (default False). Options also
carry `publish_at` (a datetime or ISO 8601 string: YouTube keeps the video private and makes it public
then, so it goes only with private; a post's own time is kept by Picmim's publisher, which uploads the
video then) and `notify_subscribers` (default True). Sources: the videos resource reference
(developers.google.com/youtube/v3/docs/videos: snippet.title, description, tags, categoryId,
status.privacyStatus, status.selfDeclaredMadeForKids) and shared/platforms/tiktok_youtube_bluesky.md §2.

Quota errors (403 quotaExceeded) are rate limits until midnight Pacific time, when YouTube resets
quotas; 400 uploadLimitExceeded (the channel's daily upload cap) is one for a day.

Over 500 lines on purpose: one platform, one adapter module (DESIGN's adapter protocol); the resumable upload
and YouTube Analytics are each a part of that one adapter's contract.
"""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import json
import re
from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx

from bot.platforms import oauth
from bot.platforms.base import (
    PKCE,
    AccessRevoked,
    AccountRef,
    Adapter,
    ContentRejected,
    Counting,
    Draft,
    Limits,
    MediaFacts,
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
from bot.platforms.http_calls import json_answer, json_or_none, retry_after_seconds, send
from bot.platforms.settings import YOUTUBE_CATEGORIES, YouTubeSettings
from bot.platforms.validation import Checker
from bot.secret import Secret

NAME = "YouTube"
AUTHORIZE_URL = "https://accounts.google.com/o/oauth2/v2/auth"
TOKEN_URL = "https://oauth2.googleapis.com/token"
REVOKE_URL = "https://oauth2.googleapis.com/revoke"
API_VERSION = "v3"  # YouTube Data API; Google publishes no end date for v3
DATA_API = f"https://www.googleapis.com/youtube/{API_VERSION}"
UPLOAD_URL = f"https://www.googleapis.com/upload/youtube/{API_VERSION}/videos"
THUMBNAIL_URL = f"https://www.googleapis.com/upload/youtube/{API_VERSION}/thumbnails/set"
ANALYTICS_API = "https://youtubeanalytics.googleapis.com/v2/reports"

# ---- limits -------------------------------------------------------------------------------------------

TITLE_MAX = 100  # characters, no < or >
DESCRIPTION_MAX_BYTES = 5000  # UTF-8 bytes, no < or >
TAGS_MAX = 500  # characters, all tags together (see tags_length)
PRIVACY = ("public", "unlisted", "private")
DEFAULT_CATEGORY = "22"  # People & Blogs; UNCERTAIN that YouTube uses it when none is sent
# Not in PLATFORMS.md (assumed, from YouTube's help): unverified channels may upload 15 minutes; verified
# ones up to 12 hours or 256 GB. `longUploadsStatus` on the channel says which applies.
SHORT_UPLOAD_SECONDS = 15 * 60
LONG_UPLOAD_SECONDS = 12 * 3600
VIDEO_MAX_BYTES = 256 * 1024**3
QUOTA_TIMEZONE = ZoneInfo("America/Los_Angeles")  # quotas reset at midnight Pacific time
UPLOAD_LIMIT_RETRY = 24 * 3600.0  # uploadLimitExceeded: "try again in 24 hours"
UPLOAD_CHUNK = 8 * 1024 * 1024  # a multiple of 256 KiB, as the resumable protocol requires
ANALYTICS_DAYS = 28  # analytics figures cover the last 28 days
ANALYTICS_METRICS = ("estimatedMinutesWatched", "averageViewDuration", "subscribersGained", "subscribersLost")

# Shorts: YouTube makes a Short of any upload that is vertical or square and at most 3 minutes long (no API flag;
# PLATFORMS.md "Shorts", third-party sources, UNCERTAIN-medium).
SHORT_MAX_SECONDS = 180
# A custom thumbnail (thumbnails.set): JPEG, PNG (GIF, BMP) up to 2 MB; 1280×720 recommended, 640 wide at least
# (YouTube Help "Add video thumbnails"). Only channels with intermediate features (phone-verified) may set one;
# the same verification allows long uploads, so `longUploadsStatus: allowed` is read as "may set thumbnails"
# (an assumption: the API has no field for it).
THUMBNAIL_MAX_BYTES = 2 * 1024 * 1024
THUMBNAIL = MediaLimits(kind="image", mimetypes=("image/jpeg", "image/png"), max_bytes=THUMBNAIL_MAX_BYTES,
                        convertible_from=("image/webp", "image/gif", "image/heic", "image/heif", "image/avif"))

VIDEO = MediaLimits(
    kind="video", mimetypes=("video/mp4", "video/quicktime", "video/webm", "video/x-msvideo", "video/mpeg",
                             "video/x-matroska", "video/3gpp", "video/x-flv", "video/x-ms-wmv"),
    max_bytes=VIDEO_MAX_BYTES, max_duration=LONG_UPLOAD_SECONDS,
)


def tags_length(tags: list[str] | tuple[str, ...]) -> int:
    """YouTube's count (videos resource, snippet.tags): the commas between tags count, and a tag with a
    space counts as if quoted, 2 more ("Foo-Baz" is 7 characters, "Foo Baz" 9)."""
    return sum(len(t) + (2 if " " in t else 0) for t in tags) + max(0, len(tags) - 1)


# ---- Google's answers as the error family ------------------------------------------------------------


def _seconds_to_pacific_midnight(now: datetime | None = None) -> float:
    now = (now or datetime.now(UTC)).astimezone(QUOTA_TIMEZONE)
    midnight = datetime.combine(now.date() + timedelta(days=1), datetime.min.time(), QUOTA_TIMEZONE)
    return (midnight - now).total_seconds()


_FIELD_OF_REASON = {
    "invalidTitle": ("title", "YouTube refused the title: keep it under 100 characters, without < or >."),
    "invalidDescription": ("description", "YouTube refused the description: keep it under 5,000 bytes, "
                                          "without < or >."),
    "invalidTags": ("tags", "YouTube refused the tags: keep them under 500 characters together."),
    "invalidCategoryId": ("category_id", "YouTube does not know that video category: pick another."),
    "invalidPublishAt": ("publish_at", "YouTube refused the scheduled time: pick a time in the future, and "
                                       "keep the video Private until then."),
    "invalidVideoMetadata": ("title", "YouTube refused the video's details: check the title and description."),
    "forbiddenPrivacySetting": ("privacy", "YouTube does not allow that visibility for this video: "
                                                  "choose another."),
    "forbiddenLicenseSetting": ("license", "YouTube does not allow that licence for this video."),
    "mediaBodyRequired": ("media", "YouTube received no video: attach it again."),
    "uploadLimitExceeded": ("media", ""),
    "badContent": ("media", "YouTube does not take this kind of file: attach a video."),
}


def google_error(response: httpx.Response) -> PlatformError:
    """A Google API error answer as a member of the error family."""
    body = json_or_none(response) or {}
    error = body.get("error") if isinstance(body.get("error"), dict) else {}
    reasons = [e.get("reason") for e in error.get("errors") or [] if isinstance(e, dict)]
    reason = next((r for r in reasons if r), "") or str(error.get("status") or "")
    detail = f"{response.status_code} {reason}: {error.get('message') or response.text[:200]}".strip()
    status = response.status_code
    if reason in ("quotaExceeded", "dailyLimitExceeded", "rateLimitExceeded", "userRateLimitExceeded") \
            or status == 429:
        wait = retry_after_seconds(response.headers)
        if wait is None:
            wait = _seconds_to_pacific_midnight() if reason in ("quotaExceeded", "dailyLimitExceeded") else 60.0
        return RateLimited(NAME, "Picmim used up its YouTube allowance for today; it will publish after "
                                 "YouTube resets it (midnight Pacific time)." if reason == "quotaExceeded" else
                           "YouTube is receiving too many requests; Picmim will try again shortly.",
                           detail, retry_after=wait)
    if reason == "uploadLimitExceeded":
        return RateLimited(NAME, "This channel reached YouTube's daily upload limit: Picmim will try again "
                                 "tomorrow.", detail, retry_after=UPLOAD_LIMIT_RETRY)
    if status == 401:
        if reason == "youtubeSignupRequired":
            return AccessRevoked(NAME, "This Google account has no YouTube channel: create one on youtube.com, "
                                       "then connect YouTube again.", detail)
        return TokenExpired(NAME, "YouTube's sign-in for this channel has lapsed.", detail)
    if status >= 500 or reason in ("backendError", "internalError"):
        return Transient(NAME, "YouTube had a problem on its side; Picmim will try again.", detail)
    if reason in _FIELD_OF_REASON:
        field, message = _FIELD_OF_REASON[reason]
        return ContentRejected(NAME, message, detail, field=field)
    if status == 400 and "privacy_status" in detail:  # Google's answer to a value outside an enum
        return ContentRejected(NAME, "YouTube visibility is Public, Unlisted or Private: pick one.", detail,
                               field="privacy")
    if status == 400 and "made_for_kids" in detail:
        return ContentRejected(NAME, _KIDS, detail, field="made_for_kids")
    if status == 403 and reason in ("insufficientPermissions", "ACCESS_TOKEN_SCOPE_INSUFFICIENT", "forbidden",
                                    "PERMISSION_DENIED"):
        return AccessRevoked(NAME, "This YouTube connection lacks a permission Picmim needs: connect YouTube "
                                   "again and allow everything it asks.", detail,
                             reason=RevokeReason.PERMISSION_REMOVED)
    if status == 403 and reason in ("authenticatedUserAccountClosed", "authenticatedUserAccountSuspended"):
        return AccessRevoked(NAME, "YouTube closed or suspended this channel's account.", detail,
                             reason=RevokeReason.CHECKPOINT)
    return ContentRejected(NAME, "YouTube refused the request.", detail, field="media")


def _checked(response: httpx.Response) -> dict:
    return json_answer(response, NAME, google_error)


def _token_answer(response: httpx.Response, refreshing: bool) -> dict:
    body = json_or_none(response) or {}
    if response.status_code >= 500:
        raise Transient(NAME, "Google had a problem on its side; Picmim will try again.",
                        f"HTTP {response.status_code}")
    if response.status_code == 429:
        raise RateLimited(NAME, "Google is receiving too many sign-in requests; Picmim will try again shortly.",
                          "429", retry_after=retry_after_seconds(response.headers) or 60.0)
    if response.status_code >= 400 or not body.get("access_token"):
        error = body.get("error") or f"HTTP {response.status_code}"
        detail = f"{error}: {body.get('error_description') or ''}".strip(": ")
        if error in ("invalid_client", "unauthorized_client"):
            raise AccessRevoked(NAME, "Google does not recognise Picmim's app: an admin checks GOOGLE_CLIENT_ID "
                                      "and GOOGLE_CLIENT_SECRET.", detail)
        if refreshing:
            raise AccessRevoked(NAME, "Google no longer accepts Picmim's access to this channel (it was revoked, "
                                      "or it expired: apps in Google's 'Testing' mode lose it after 7 days). "
                                      "Connect YouTube again.", detail)
        raise AccessRevoked(NAME, "Google did not accept the sign-in (it may have taken too long): connect "
                                  "YouTube again.", detail)
    return body


def _id_token_subject(id_token: str | None) -> str | None:
    """The Google account id from the id_token. It came straight from Google's token endpoint over TLS,
    so its claims are read without checking the signature (OpenID Connect Core 3.1.3.7)."""
    if not id_token or id_token.count(".") != 2:
        return None
    part = id_token.split(".")[1]
    try:
        claims = json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
    except ValueError:
        return None
    return str(claims.get("sub")) if isinstance(claims, dict) and claims.get("sub") else None


_KIDS = "Say whether this video is made for kids: YouTube requires it."
_CATEGORY_IDS = {c for c, _ in YOUTUBE_CATEGORIES}


def _settings(draft: Draft) -> YouTubeSettings | None:
    return draft.settings if isinstance(draft.settings, YouTubeSettings) else None


def thumbnail_url(video_id: str) -> str | None:
    """The picture YouTube shows for a video (its custom thumbnail once set, else a frame YouTube chose), at a
    public address YouTube gives every video: 320 × 180."""
    return f"https://i.ytimg.com/vi/{video_id}/mqdefault.jpg" if re.fullmatch(r"[\w-]{6,20}", video_id) else None


def is_short(video: MediaFacts) -> bool:
    """Whether YouTube makes a Short of this video: vertical or square, at most SHORT_MAX_SECONDS."""
    return bool(video.width and video.height and video.duration is not None and video.height >= video.width
                and video.duration <= SHORT_MAX_SECONDS)


def video_title(draft: Draft) -> str | None:
    """The video's title: the draft's (the compose window puts it there), else the settings' own."""
    settings = _settings(draft)
    return draft.title or (settings.title if settings and settings.title else draft.title)


def _choices(draft: Draft) -> tuple[Any, Any, list[str], Any]:
    """(privacy, made for kids, tags, category id): from the settings, else (older drafts) the options;
    None where nothing was chosen."""
    settings = _settings(draft)
    if settings is not None:
        return settings.privacy, settings.made_for_kids, list(settings.tags), settings.category_id
    options = draft.options
    return (options.get("privacy_status"), bool(options.get("made_for_kids", False)),
            list(options.get("tags") or ()), options.get("category_id"))


def _publish_at(value: Any) -> datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if not isinstance(value, datetime):
        raise ValueError("publish_at must be a datetime or an ISO 8601 string")
    return value if value.tzinfo else value.replace(tzinfo=UTC)


# ---- the adapter --------------------------------------------------------------------------------------


class YouTubeAdapter(Adapter):
    key = "youtube"
    name = NAME
    limits = Limits(
        texts=(TextLimit("title", "title", TITLE_MAX, Counting.CHARACTERS, min=1, forbidden="<>"),
               TextLimit("description", "description", DESCRIPTION_MAX_BYTES, Counting.BYTES, forbidden="<>")),
        video=VIDEO, image=THUMBNAIL, max_videos=1, max_images=1, mixed_media=True, requires_media=True,
    )
    scopes = (
        Scope("openid", "Recognises the same Google account when you connect again."),
        Scope("https://www.googleapis.com/auth/youtube.upload", "Uploads your videos to the channel."),
        Scope("https://www.googleapis.com/auth/youtube.readonly",
              "Lists your channels and reads views, likes and comments of your videos."),
        # playlistItems.insert takes youtube, youtube.force-ssl or youtubepartner, not youtube.upload.
        Scope("https://www.googleapis.com/auth/youtube", "Adds your videos to the playlists you choose."),
        Scope("https://www.googleapis.com/auth/yt-analytics.readonly",
              "Reads watch time and subscriber changes for analytics digests."),
    )
    uses_pkce = True
    refreshable = True

    poll_interval = 5.0  # processing checks after the upload; tests replace `sleep`
    poll_attempts = 120
    sleep = staticmethod(asyncio.sleep)

    # ---- OAuth ------------------------------------------------------------------------------------

    def authorize_url(self, state: str, pkce: PKCE | None) -> str:
        return oauth.authorize_url(AUTHORIZE_URL, {
            "client_id": self.config.client_id,
            "redirect_uri": self.config.redirect_uri,
            "response_type": "code",
            "scope": " ".join(s.name for s in self.scopes),
            "state": state,
            "access_type": "offline",  # a refresh token…
            "prompt": "consent",  # …which Google gives only after a consent screen
            "include_granted_scopes": "true",
        }, pkce)

    async def exchange_code(self, code: str, pkce: PKCE | None) -> TokenSet:
        form = {"code": code, "client_id": self.config.client_id, "client_secret": self.config.client_secret,
                "redirect_uri": self.config.redirect_uri, "grant_type": "authorization_code"}
        if pkce is not None:
            form["code_verifier"] = pkce.verifier
        body = _token_answer(await send(self.http, NAME, "POST", TOKEN_URL, data=form), refreshing=False)
        tokens = self._token_set(body, None)
        channels = await self._channels(tokens.access_token.reveal())
        user_id = _id_token_subject(body.get("id_token")) or (channels[0]["id"] if channels else "")
        title = (channels[0].get("snippet") or {}).get("title") if channels else None
        return dataclasses.replace(tokens, external_user_id=user_id, display_name=title)

    async def refresh(self, tokens: TokenSet) -> TokenSet:
        if tokens.refresh_token is None:
            raise AccessRevoked(NAME, "This YouTube connection cannot renew itself: connect YouTube again.")
        form = {"client_id": self.config.client_id, "client_secret": self.config.client_secret,
                "grant_type": "refresh_token", "refresh_token": tokens.refresh_token.reveal()}
        body = _token_answer(await send(self.http, NAME, "POST", TOKEN_URL, data=form), refreshing=True)
        return self._token_set(body, tokens)

    def _token_set(self, body: Mapping[str, Any], previous: TokenSet | None) -> TokenSet:
        refresh = body.get("refresh_token")  # Google sends one on consent; a refresh keeps the old one
        return TokenSet(
            access_token=Secret(body["access_token"]),
            external_user_id=previous.external_user_id if previous else "",
            display_name=previous.display_name if previous else None,
            refresh_token=Secret(refresh) if refresh else (previous.refresh_token if previous else None),
            expires_at=(datetime.now(UTC) + timedelta(seconds=int(body["expires_in"]))
                        if body.get("expires_in") else None),
            refresh_expires_at=(datetime.now(UTC) + timedelta(seconds=int(body["refresh_token_expires_in"]))
                                if body.get("refresh_token_expires_in") else
                                (previous.refresh_expires_at if previous else None)),
            scopes=tuple(str(body.get("scope") or "").split()) or (previous.scopes if previous else ()),
            extra=dict(previous.extra) if previous else {},
        )

    async def revoke(self, tokens: TokenSet) -> bool:
        # Revoking the refresh token ends the whole grant, access tokens included.
        token = (tokens.refresh_token or tokens.access_token).reveal()
        response = await send(self.http, NAME, "POST", REVOKE_URL, data={"token": token})
        if response.status_code >= 500:
            raise Transient(NAME, "Google had a problem on its side; Picmim will try again.",
                            f"HTTP {response.status_code}")
        return True  # 200, or 400 invalid_token: a token Google no longer knows is revoked already

    # ---- channels ---------------------------------------------------------------------------------

    async def _channels(self, token: str) -> list[dict]:
        response = await send(self.http, NAME, "GET", f"{DATA_API}/channels", headers=self._auth(token),
                              params={"part": "snippet,statistics,status", "mine": "true", "maxResults": "50"})
        return list(_checked(response).get("items") or [])

    async def list_accounts(self, tokens: TokenSet) -> list[RemoteAccount]:
        channels = await self._channels(tokens.access_token.reveal())
        if not channels:
            return [RemoteAccount(tokens.external_user_id or "no-channel", "channel", "No YouTube channel",
                                  refusal="This Google account has no YouTube channel yet: create one on youtube.com "
                                          "(your profile picture → Create a channel), then connect YouTube again.")]
        playlists = await self._playlists(tokens.access_token.reveal())
        accounts = []
        for channel in channels:
            snippet, stats = channel.get("snippet") or {}, channel.get("statistics") or {}
            status = channel.get("status") or {}
            followers = None if stats.get("hiddenSubscriberCount") else _int(stats.get("subscriberCount"))
            accounts.append(RemoteAccount(
                channel["id"], "channel", snippet.get("title") or channel["id"], handle=snippet.get("customUrl"),
                avatar_url=((snippet.get("thumbnails") or {}).get("default") or {}).get("url"),
                followers_count=followers,
                settings={"long_uploads": status.get("longUploadsStatus"),
                          "playlists": [{"id": p["id"], "title": p["title"]} for p in playlists
                                        if p.get("channel_id") in (None, channel["id"])]}))
        return accounts

    async def _playlists(self, token: str) -> list[dict]:
        """The channel's playlists, [{id, title}], as the compose window offers them (up to 100, Slack's most
        options); an empty list when YouTube will not say (the window then offers none)."""
        found: list[dict] = []
        params = {"part": "snippet", "mine": "true", "maxResults": "50"}
        while len(found) < 100:
            try:
                response = await send(self.http, NAME, "GET", f"{DATA_API}/playlists", headers=self._auth(token),
                                      params=params)
                body = _checked(response)
            except PlatformError:
                return found
            for item in body.get("items") or []:
                snippet = item.get("snippet") or {}
                if item.get("id"):
                    found.append({"id": str(item["id"]), "title": str(snippet.get("title") or item["id"]),
                                  "channel_id": snippet.get("channelId")})
            if not body.get("nextPageToken"):
                break
            params = {**params, "pageToken": body["nextPageToken"]}
        return found[:100]

    # ---- validation -------------------------------------------------------------------------------

    def video_limits(self, account_settings: Mapping[str, Any]) -> MediaLimits | None:
        """A channel that may not upload long videos takes SHORT_UPLOAD_SECONDS at most."""
        if account_settings.get("long_uploads") not in (None, "allowed"):
            return dataclasses.replace(VIDEO, max_duration=SHORT_UPLOAD_SECONDS)
        return VIDEO

    def validate(self, account: AccountRef, draft: Draft) -> list[Problem]:
        limits = self.limits
        if draft.description is None:  # the post's text becomes the description
            limits = dataclasses.replace(limits, texts=(
                limits.texts[0], TextLimit("text", "description", DESCRIPTION_MAX_BYTES, Counting.BYTES,
                                           forbidden="<>")))
        if account.settings.get("long_uploads") not in (None, "allowed"):
            limits = dataclasses.replace(limits, video=dataclasses.replace(VIDEO, max_duration=SHORT_UPLOAD_SECONDS))
        if not draft.media:  # "needs a video", not "a photo or a video": a picture only goes with a video
            limits = dataclasses.replace(limits, image=None)
        problems = Checker(NAME, account.name, limits).check(dataclasses.replace(draft, title=video_title(draft)))

        def add(field: str, message: str) -> None:
            problems.append(Problem(NAME, account.name, field, message))

        if account.settings.get("long_uploads") not in (None, "allowed") and any(
                m.kind == "video" and (m.duration or 0) > SHORT_UPLOAD_SECONDS for m in draft.media):
            add("media", "Longer videos need a verified channel: verify it at youtube.com/verify, then try again.")
        pictures = [m for m in draft.media if m.kind == "image"]
        if pictures and not any(m.kind == "video" for m in draft.media):
            add("media", "A YouTube post is a video: attach one (a picture attached with it becomes its thumbnail).")
        elif pictures and account.settings.get("long_uploads") not in (None, "allowed"):
            add("media", "Only verified channels may set a custom thumbnail: verify the channel at youtube.com/verify, "
                         "or remove the picture (YouTube then picks a frame).")
        chosen = _settings(draft)
        playlists = {str(p.get("id")) for p in account.settings.get("playlists") or [] if isinstance(p, dict)}
        if chosen and chosen.playlist_id and chosen.playlist_id not in playlists:
            add("playlist_id", "That playlist is not on this channel (any more): choose another, or press Refresh in "
                               "`/picmim accounts` to bring the channel's playlists up to date.")
        options = draft.options
        privacy, made_for_kids, tags, category = _choices(draft)
        if made_for_kids is None:
            add("made_for_kids", _KIDS)
        if category is not None and str(category) not in _CATEGORY_IDS:
            add("category_id", "YouTube does not know that video category: pick another.")
        if tags_length(tags) > TAGS_MAX:
            add("tags", f"YouTube counts these tags as {tags_length(tags):,} of {TAGS_MAX} characters (commas "
                        f"count, and a tag with spaces counts 2 more): remove {tags_length(tags) - TAGS_MAX:,}.")
        if any(c in t for t in tags for c in "<>"):
            add("tags", "YouTube does not allow < or > in tags: remove them.")
        if privacy is not None and privacy not in PRIVACY:
            add("privacy", "YouTube visibility is Public, Unlisted or Private: pick one.")
        try:
            publish_at = _publish_at(options.get("publish_at"))
        except ValueError:
            add("publish_at", "Picmim could not read the scheduled time: pick it again.")
            publish_at = None
        if publish_at is not None:
            if privacy not in (None, "private"):
                add("publish_at", "YouTube schedules a video only while it is Private (it turns public at the "
                                  "scheduled time): choose Private, or remove the scheduled time.")
            if publish_at <= datetime.now(UTC):
                add("publish_at", "The YouTube scheduled time has passed: pick a later one, or remove it to "
                                  "publish now.")
        return problems

    # ---- publishing -------------------------------------------------------------------------------

    def video_resource(self, draft: Draft) -> dict:
        publish_at = _publish_at(draft.options.get("publish_at"))
        privacy, made_for_kids, tags, category = _choices(draft)
        if made_for_kids is None:  # never guessed: the channel declares it
            raise ContentRejected(NAME, _KIDS, "selfDeclaredMadeForKids not chosen", field="made_for_kids")
        status: dict[str, Any] = {
            # A scheduled video is private until YouTube publishes it; an explicit other choice is sent as
            # chosen (validation has warned; YouTube refuses it).
            "privacyStatus": privacy or ("private" if publish_at else "public"),
            "selfDeclaredMadeForKids": bool(made_for_kids),
        }
        if publish_at:
            status["publishAt"] = publish_at.astimezone(UTC).isoformat().replace("+00:00", "Z")
        snippet: dict[str, Any] = {
            "title": video_title(draft) or "",
            "description": draft.description if draft.description is not None else (draft.text or ""),
            "categoryId": str(category or DEFAULT_CATEGORY),
        }
        if tags:
            snippet["tags"] = tags
        return {"snippet": snippet, "status": status}

    async def publish(self, account: AccountRef, draft: Draft, media: list[MediaPayload]) -> PublishResult:
        videos = [m for m in media if m.facts.kind == "video"]
        pictures = [m for m in media if m.facts.kind == "image"]
        if len(videos) != 1 or len(pictures) > 1 or len(media) != len(videos) + len(pictures):
            raise ContentRejected(NAME, "A YouTube post is exactly one video, and a picture for its thumbnail if you "
                                        "like: change the attachments.", field="media")
        video = videos[0]
        token = account.publish_token.reveal()
        params = {"uploadType": "resumable", "part": "snippet,status"}
        if draft.options.get("notify_subscribers") is False:
            params["notifySubscribers"] = "false"
        start = await send(self.http, NAME, "POST", UPLOAD_URL, params=params, json=self.video_resource(draft),
                           headers={**self._auth(token), "X-Upload-Content-Length": str(video.facts.size_bytes),
                                    "X-Upload-Content-Type": video.facts.mimetype})
        if start.status_code >= 400:
            raise google_error(start)
        session = start.headers.get("location")
        if not session:
            raise Transient(NAME, "YouTube did not open an upload; Picmim will try again.",
                            f"HTTP {start.status_code} without Location")
        resource = await self._upload(session, token, video)
        video_id = resource["id"]
        await self._wait_processed(token, video_id, resource)
        # The video is live from here: what fails now is said on the post, never a reason to upload it again.
        warnings = []
        if pictures:
            warnings += await self._set_thumbnail(token, video_id, pictures[0])
        chosen = _settings(draft)
        if chosen and chosen.playlist_id:
            warnings += await self._add_to_playlist(token, video_id, chosen.playlist_id)
        # A Short is watched at youtube.com/shorts/<id>: the status message links it there.
        url = (f"https://www.youtube.com/shorts/{video_id}" if is_short(video.facts)
               else f"https://www.youtube.com/watch?v={video_id}")
        return PublishResult(remote_id=video_id, url=url, warnings=tuple(warnings))

    async def _set_thumbnail(self, token: str, video_id: str, picture: MediaPayload) -> list[str]:
        """thumbnails.set: the picture's bytes as the request body."""
        data = b"".join([chunk async for chunk in picture.read()])
        try:
            response = await send(self.http, NAME, "POST", THUMBNAIL_URL, params={"videoId": video_id},
                                  content=data, headers={**self._auth(token), "Content-Type": picture.facts.mimetype})
            _checked(response)
        except PlatformError as exc:
            return [f"The video is live, but YouTube did not take its thumbnail: {exc}. Set it in YouTube Studio."]
        return []

    async def _add_to_playlist(self, token: str, video_id: str, playlist_id: str) -> list[str]:
        """playlistItems.insert: the video at the end of the playlist."""
        body = {"snippet": {"playlistId": playlist_id, "resourceId": {"kind": "youtube#video", "videoId": video_id}}}
        try:
            response = await send(self.http, NAME, "POST", f"{DATA_API}/playlistItems", params={"part": "snippet"},
                                  json=body, headers=self._auth(token))
            _checked(response)
        except PlatformError as exc:
            if "insufficient" in str(exc).lower() or "scope" in str(exc).lower():
                return ["The video is live, but this YouTube connection may not add to playlists (it was made before "
                        "Picmim asked for that): reconnect YouTube, and add the video in YouTube Studio."]
            return [f"The video is live, but YouTube did not add it to the playlist: {exc}."]
        return []

    async def _upload(self, session: str, token: str, video: MediaPayload) -> dict:
        """PUT the bytes in chunks; every chunk but the last is answered 308 Resume Incomplete. Only the
        last one creates the video, so only its loss leaves the outcome unknown."""
        total, first = video.facts.size_bytes, 0
        async for piece in _rechunk(video, UPLOAD_CHUNK):
            last = first + len(piece) - 1
            final = last + 1 >= total
            if last + 1 > total:
                break
            response = await send(self.http, NAME, "PUT", session, creates=final, content=piece, headers={
                **self._auth(token), "Content-Type": video.facts.mimetype,
                "Content-Range": f"bytes {first}-{last}/{total}"})
            if response.status_code >= 400:
                raise google_error(response)
            if not final:
                if response.status_code != 308 or response.headers.get("range") != f"bytes=0-{last}":
                    raise Transient(NAME, "YouTube lost part of the upload; Picmim will try again.",
                                    f"HTTP {response.status_code}, Range {response.headers.get('range')}")
                first = last + 1
                continue
            body = json_or_none(response) or {}
            if response.status_code in (200, 201) and body.get("id"):
                return body
            raise OutcomeUnknown(NAME, "YouTube gave an unexpected answer to the upload; check the channel before "
                                       "posting again.", f"HTTP {response.status_code}: {response.text[:200]}")
        raise ContentRejected(NAME, "The video changed after it was attached: attach it again.",
                              f"expected {total} bytes", field="media")

    async def _wait_processed(self, token: str, video_id: str, resource: dict) -> dict:
        """Wait until YouTube has processed the upload: `processed` is live (or scheduled); `failed` and
        `rejected` carry YouTube's reason."""
        for attempt in range(self.poll_attempts):
            status = resource.get("status") or {}
            upload_status = status.get("uploadStatus")
            if upload_status == "processed":
                return resource
            if upload_status == "failed":
                raise ContentRejected(NAME, "YouTube could not process the video (" + {
                    "codec": "its codec is not supported: export it as MP4 with H.264",
                    "conversion": "it could not be converted", "emptyFile": "the file is empty",
                    "invalidFile": "the file is not a video YouTube can read",
                    "tooSmall": "the file is too small"}.get(status.get("failureReason"), "upload failed")
                    + "): attach another file.", f"failed: {status.get('failureReason')}", field="media")
            if upload_status == "rejected":
                raise ContentRejected(NAME, "YouTube rejected the video (" + {
                    "duplicate": "it is a duplicate of a video on the channel", "copyright": "copyright",
                    "length": "it is too long for this channel", "inappropriate": "inappropriate content",
                    "termsOfUse": "terms of use"}.get(status.get("rejectionReason"), "see YouTube Studio")
                    + ").", f"rejected: {status.get('rejectionReason')}", field="media")
            if upload_status == "deleted":
                raise ContentRejected(NAME, "The video was deleted on YouTube before it went live.", "deleted",
                                      field="media")
            if attempt:
                await self.sleep(self.poll_interval)
            try:
                response = await send(self.http, NAME, "GET", f"{DATA_API}/videos", headers=self._auth(token),
                                      params={"part": "status,processingDetails", "id": video_id})
                items = _checked(response).get("items") or []
            except PlatformError as exc:
                raise OutcomeUnknown(NAME, f"YouTube has the video (https://www.youtube.com/watch?v={video_id}) but "
                                           "Picmim could not confirm it finished processing: check YouTube Studio.",
                                     str(exc)) from None
            if not items:
                raise ContentRejected(NAME, "The video was removed on YouTube before it went live.",
                                      f"{video_id} not found", field="media")
            resource = {**resource, **items[0]}
        raise OutcomeUnknown(NAME, f"YouTube is still processing the video (https://www.youtube.com/watch?v="
                                   f"{video_id}); check YouTube Studio.", f"{video_id}: still processing")

    # ---- metrics ----------------------------------------------------------------------------------

    async def fetch_metrics(self, account: AccountRef, remote_ids: list[str]) -> Metrics:
        token = account.publish_token.reveal()
        figures: dict[str, float] = {}
        response = await send(self.http, NAME, "GET", f"{DATA_API}/channels", headers=self._auth(token),
                              params={"part": "statistics", "id": account.external_id})
        for channel in _checked(response).get("items") or []:
            stats = channel.get("statistics") or {}
            for name in ("viewCount", "subscriberCount", "videoCount"):
                if name == "subscriberCount" and stats.get("hiddenSubscriberCount"):
                    continue
                if _int(stats.get(name)) is not None:
                    figures[name] = _int(stats[name])
        figures.update(await self._analytics(token, account.external_id))
        posts: dict[str, dict[str, float]] = {}
        for start in range(0, len(remote_ids), 50):  # videos.list takes up to 50 ids
            response = await send(self.http, NAME, "GET", f"{DATA_API}/videos", headers=self._auth(token),
                                  params={"part": "statistics", "id": ",".join(remote_ids[start:start + 50])})
            for item in _checked(response).get("items") or []:
                stats = item.get("statistics") or {}
                posts[item["id"]] = {k: _int(stats[k]) for k in ("viewCount", "likeCount", "commentCount",
                                                                  "favoriteCount") if _int(stats.get(k)) is not None}
        return Metrics(account=figures, posts=posts)

    async def _analytics(self, token: str, channel_id: str) -> dict[str, float]:
        today = date.today()
        response = await send(self.http, NAME, "GET", ANALYTICS_API, headers=self._auth(token), params={
            "ids": f"channel=={channel_id}", "startDate": (today - timedelta(days=ANALYTICS_DAYS)).isoformat(),
            "endDate": today.isoformat(), "metrics": ",".join(ANALYTICS_METRICS)})
        if response.status_code == 403 and isinstance(google_error(response), AccessRevoked):
            return {}  # analytics not granted: those figures are "not available"
        table = _checked(response)
        names = [h.get("name") for h in table.get("columnHeaders") or []]
        rows = table.get("rows") or []
        if not rows:
            return {}  # no data yet (YouTube's analytics lag a few days)
        return {n: v for n, v in zip(names, rows[0], strict=False) if n in ANALYTICS_METRICS
                and isinstance(v, int | float)}

    @staticmethod
    def _auth(token: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {token}"}


async def _rechunk(video: MediaPayload, size: int):
    """The bytes in pieces of exactly `size`, the last one holding the rest."""
    buffer = bytearray()
    async for part in video.read():
        buffer += part
        while len(buffer) > size:
            yield bytes(buffer[:size])
            del buffer[:size]
    yield bytes(buffer)


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


ADAPTER = YouTubeAdapter
