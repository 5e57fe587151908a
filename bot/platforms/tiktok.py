"""TikTok: Login Kit (web) OAuth and the Content Posting API's Direct Post, for video and photo posts.

How a post goes out:
1. `creator_info/query` first, every time (TikTok requires it): the privacy level must be one the
   creator offers now, and comments, duets and stitches stay off where the creator turned them off.
2. Video: `video/init` with FILE_UPLOAD (the bytes are PUT in chunks to the `upload_url` TikTok
   returns) or PULL_FROM_URL (TikTok fetches `PUBLIC_URL/media/…`; the domain must be verified in
   the developer portal). Photos: `content/init` with PULL_FROM_URL only, JPEG or WebP only; the
   media pipeline (`bot.media.pictures.fit_image` with `PHOTO_LIMITS.image`) converts anything else first.
3. `status/fetch` is polled until PUBLISH_COMPLETE or FAILED; FAILED carries TikTok's reason.

Texts: a video's caption is TikTok's `title` (the draft's text); a photo post has a short `title`
(the draft's title) and a `description` (the draft's text). TikTok counts both in UTF-16 units.

The post's choices come on `Draft.settings` (`TikTokSettings`; older drafts: `Draft.options`), read by
`tiktok_choices`, which also holds TikTok's mandated disclosure wording (TIKTOK_BRAND_LABELS, re-exported
here): privacy_level (one of the creator's options, no default), allow_comment/duet/stitch -> disable_* (off
unless chosen and where the creator turned them off; duet and stitch: videos only), your_brand ->
brand_organic_toggle, branded_content -> brand_content_toggle (never with SELF_ONLY), ai_generated -> is_aigc
(videos: the photo reference has no such field). `Draft.options` keeps `auto_add_music`, `photo_cover_index`,
`video_cover_timestamp_ms` and `video_source` (FILE_UPLOAD or PULL_FROM_URL; default
`config.options["tiktok_video_source"]`). Source: developers.tiktok.com/doc/content-posting-api-reference-*.

Over 500 lines on purpose: one platform, one adapter module (DESIGN's adapter protocol); creator info, the
two upload ways, photo posts and status polling are steps of one publishing contract.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from bot.platforms import oauth
from bot.platforms import tiktok_choices as post_choices
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
from bot.platforms.validation import Checker, cover_time
from bot.secret import Secret

NAME = "TikTok"
AUTHORIZE_URL = "https://www.tiktok.com/v2/auth/authorize/"
API = "https://open.tiktokapis.com"
API_VERSION = "v2"  # the Content Posting and Login Kit paths start /v2/; TikTok publishes no end date

# ---- limits (PLATFORMS.md and platforms/tiktok_youtube_bluesky.md) ----------------------------------

# UNCERTAIN: TikTok writes "max 1080p" for photos; read here as a portrait 1080p frame.
PHOTO_MAX_WIDTH, PHOTO_MAX_HEIGHT = 1080, 1920
PHOTO_MAX_BYTES = 20_000_000  # "20 MB"; the decimal reading is the safe one
VIDEO_MAX_BYTES = 4_000_000_000  # "4 GB"; the decimal reading is the safe one
VIDEO_MAX_SECONDS = 600  # the longest any creator may post through the API; creator_info may say less
CONVERTIBLE_IMAGES = ("image/png", "image/gif", "image/bmp", "image/tiff", "image/webp", "image/jpeg", *PHONE_PHOTOS)

PHOTO_IMAGE = MediaLimits(
    kind="image", mimetypes=("image/jpeg", "image/webp"), max_bytes=PHOTO_MAX_BYTES,
    max_width=PHOTO_MAX_WIDTH, max_height=PHOTO_MAX_HEIGHT, scalable=True,
    convertible_from=tuple(t for t in CONVERTIBLE_IMAGES if t not in ("image/jpeg", "image/webp")),
)
VIDEO = MediaLimits(
    kind="video", mimetypes=("video/mp4", "video/webm", "video/quicktime"), max_bytes=VIDEO_MAX_BYTES,
    min_width=360, max_width=4096, min_height=360, max_height=4096, max_duration=VIDEO_MAX_SECONDS,
    min_fps=23, max_fps=60, scalable=True,
    video_codecs=("h264", "hevc", "vp8", "vp9"),  # "H.264 (recommended), H.265, VP8, VP9"
)
VIDEO_LIMITS = Limits(
    texts=(TextLimit("text", "caption", 2200, Counting.UTF16),),  # UNCERTAIN-low: 2,200 (widely agreed)
    video=VIDEO, max_videos=1, requires_media=True,
)
PHOTO_LIMITS = Limits(
    texts=(TextLimit("title", "photo title", 90, Counting.UTF16),
           TextLimit("text", "photo description", 4000, Counting.UTF16)),
    image=PHOTO_IMAGE, max_images=35, requires_media=True, media_by_url=True,
)

# Upload chunks: 5 MB to 64 MB each, the last may be larger (up to 128 MB), at most 1000 of them.
MIN_CHUNK = 5 * 1024 * 1024
CHUNK_SIZE = 10 * 1024 * 1024

PRIVACY_LABELS = {
    "PUBLIC_TO_EVERYONE": "Everyone",
    "MUTUAL_FOLLOW_FRIENDS": "Friends",
    "FOLLOWER_OF_CREATOR": "Followers",
    "SELF_ONLY": "Only me",
}
VIDEO_SOURCES = ("FILE_UPLOAD", "PULL_FROM_URL")
DEFAULT_VIDEO_SOURCE = "FILE_UPLOAD"  # needs no verified domain; PULL_FROM_URL saves our upload
RATE_WINDOW_SECONDS = 60.0  # TikTok's limits are per minute and its 429 names no wait: one window
# The disclosure wording TikTok mandates, for the compose window to show (see tiktok_choices).
TIKTOK_BRAND_LABELS, TIKTOK_POLICY_LINKS = post_choices.TIKTOK_BRAND_LABELS, post_choices.TIKTOK_POLICY_LINKS
disclosure_label = post_choices.disclosure_label


def _ids(values: Any) -> list[str]:
    if isinstance(values, list):
        return [str(v) for v in values if v not in (None, "")]
    return [str(values)] if values not in (None, "") else []


JSON_CONTENT_TYPE = "application/json; charset=UTF-8"


@dataclasses.dataclass(frozen=True)
class CreatorInfo:
    username: str | None
    nickname: str | None
    avatar_url: str | None
    privacy_level_options: tuple[str, ...]
    comment_disabled: bool
    duet_disabled: bool
    stitch_disabled: bool
    max_video_post_duration_sec: int | None

    @classmethod
    def parse(cls, data: Mapping[str, Any]) -> CreatorInfo:
        return cls(
            username=data.get("creator_username"), nickname=data.get("creator_nickname"),
            avatar_url=data.get("creator_avatar_url"),
            privacy_level_options=tuple(data.get("privacy_level_options") or ()),
            comment_disabled=bool(data.get("comment_disabled")), duet_disabled=bool(data.get("duet_disabled")),
            stitch_disabled=bool(data.get("stitch_disabled")),
            max_video_post_duration_sec=data.get("max_video_post_duration_sec"),
        )

    def settings(self) -> dict[str, Any]:
        return {"privacy_level_options": list(self.privacy_level_options),
                "comment_disabled": self.comment_disabled, "duet_disabled": self.duet_disabled,
                "stitch_disabled": self.stitch_disabled,
                "max_video_post_duration_sec": self.max_video_post_duration_sec}


# ---- TikTok's answers, as the error family ----------------------------------------------------------

# code (also a status `fail_reason`) -> (family, plain words, draft field)
_MESSAGES: dict[str, tuple[type[PlatformError], str, str]] = {
    "access_token_invalid": (TokenExpired, "TikTok's sign-in for this account has lapsed.", ""),
    "scope_not_authorized": (AccessRevoked, "This TikTok connection lacks a permission Picmim needs: connect "
                                            "TikTok again and keep every box ticked.", ""),
    "scope_permission_missed": (AccessRevoked, "This TikTok connection lacks a permission Picmim needs: connect "
                                               "TikTok again and keep every box ticked.", ""),
    "auth_removed": (AccessRevoked, "The TikTok account removed Picmim's access: connect TikTok again.", ""),
    "rate_limit_exceeded": (RateLimited, "TikTok is receiving too many requests for this account; Picmim "
                                         "will try again shortly.", ""),
    "spam_risk_too_many_posts": (RateLimited, "TikTok's daily post limit for this account is reached: try "
                                              "again tomorrow.", ""),
    "spam_risk_too_many_pending_share": (RateLimited, "This TikTok account has too many posts waiting in its "
                                                      "inbox: finish or delete them in the TikTok app.", ""),
    "reached_active_user_cap": (RateLimited, "Picmim's TikTok app reached TikTok's daily limit of active "
                                             "users: try again tomorrow.", ""),
    "spam_risk_user_banned_from_posting": (ContentRejected, "TikTok has stopped this account from posting for now: "
                                                     "open the TikTok app to see why.", "account"),
    "spam_risk_text": (ContentRejected, "TikTok flagged the text of this post as spam: reword it.", "text"),
    "spam_risk": (ContentRejected, "TikTok flagged this post as spam: change it and try again.", "text"),
    "unaudited_client_can_only_post_to_private_accounts": (
        ContentRejected, "Until TikTok audits Picmim's app, it can post only with 'Only me' visibility: choose "
                         "Only me, or ask your admin to get the app audited by TikTok.", "privacy_level"),
    "privacy_level_option_mismatch": (ContentRejected, "This TikTok account does not offer the visibility chosen: "
                                                "pick another one.", "privacy_level"),
    "url_ownership_unverified": (ContentRejected, "TikTok will only fetch media from a verified domain: an admin "
                                           "verifies Picmim's PUBLIC_URL domain in TikTok for Developers.",
                                 "media"),
    "file_format_check_failed": (ContentRejected, "TikTok could not read the file: videos must be MP4, WebM or MOV "
                                           "and photos JPEG or WebP.", "media"),
    "duration_check_failed": (ContentRejected, "TikTok refused the video's length: trim it to what the account may "
                                        "post.", "media"),
    "frame_rate_check_failed": (ContentRejected, "TikTok needs videos of 23 to 60 frames per second: export the "
                                          "video again at 30 fps.", "media"),
    "picture_size_check_failed": (ContentRejected, "TikTok refused a picture's size: use photos up to 1080p and "
                                            "videos between 360 and 4096 px.", "media"),
    "invalid_file_upload": (ContentRejected, "TikTok refused the uploaded file: attach it again or use another "
                                      "one.", "media"),
    "app_version_check_failed": (ContentRejected, "The TikTok app on the phone is too old for this: update it.",
                                 "account"),
    "publish_cancelled": (ContentRejected, "The post was cancelled on TikTok.", "media"),
    "video_pull_failed": (Transient, "TikTok could not download the video from Picmim; Picmim will try "
                                     "again.", "media"),
    "photo_pull_failed": (Transient, "TikTok could not download a photo from Picmim; Picmim will try "
                                     "again.", "media"),
    "internal_error": (Transient, "TikTok had a problem on its side; Picmim will try again.", ""),
    "internal": (Transient, "TikTok had a problem on its side; Picmim will try again.", ""),
}


def tiktok_error(code: str, detail: str | None, headers: httpx.Headers | None = None,
                 status: int | None = None) -> PlatformError:
    """One TikTok error code (or status fail_reason) as a member of the error family."""
    family, message, field = _MESSAGES.get(code, (None, "", ""))
    detail = f"{code}: {detail}" if detail else code
    if family is RateLimited:
        retry_after = retry_after_seconds(headers) if headers is not None else None
        if retry_after is None and code == "rate_limit_exceeded":
            retry_after = RATE_WINDOW_SECONDS
        return RateLimited(NAME, message, detail, retry_after=retry_after)
    if family is AccessRevoked:
        return AccessRevoked(NAME, message, detail, reason=RevokeReason.PERMISSION_REMOVED
                             if code.startswith("scope") else RevokeReason.APP_REMOVED)
    if family is ContentRejected:
        return ContentRejected(NAME, message, detail, field=field or "text")
    if family is not None:
        return family(NAME, message, detail)
    if status is not None and status >= 500:
        return Transient(NAME, "TikTok had a problem on its side; Picmim will try again.", detail)
    if code == "invalid_params" or (status or 400) < 500:
        words = detail or ""
        field = "privacy_level" if "Branded content" in words else "media" if "video" in words or "photo" in words \
            else "text"
        return ContentRejected(NAME, "TikTok refused the post as sent.", detail, field=field)
    return Transient(NAME, "TikTok gave an unexpected answer; Picmim will try again.", detail)


def _data(response: httpx.Response) -> dict:
    """The `data` of a v2 answer, or the error it carries."""
    body = json_or_none(response)
    error = (body or {}).get("error")
    if isinstance(error, dict):
        code = error.get("code") or ""
        if code == "ok" and response.status_code < 400:
            return body.get("data") or {}
        raise tiktok_error(code or f"http_{response.status_code}", error.get("message"), response.headers,
                           response.status_code)
    if response.status_code == 429:
        raise tiktok_error("rate_limit_exceeded", None, response.headers, 429)
    if response.status_code >= 500:
        raise Transient(NAME, "TikTok had a problem on its side; Picmim will try again.",
                        f"HTTP {response.status_code}")
    if response.status_code < 400 and body is not None:
        return body.get("data") or {}
    raise ContentRejected(NAME, "TikTok refused the request.", f"HTTP {response.status_code}: "
                          f"{response.text[:300]}")


def _oauth_tokens(response: httpx.Response, refreshing: bool) -> dict:
    """Token endpoint answers: the fields at the top level, or `error` + `error_description`."""
    body = json_or_none(response) or {}
    error = body.get("error")
    if isinstance(error, dict):  # the v2 envelope, which some token errors use
        return _data(response)
    if response.status_code >= 500:
        raise Transient(NAME, "TikTok had a problem on its side; Picmim will try again.",
                        f"HTTP {response.status_code}")
    if response.status_code == 429:
        raise tiktok_error("rate_limit_exceeded", None, response.headers, 429)
    if error or response.status_code >= 400 or not body.get("access_token"):
        detail = f"{error or response.status_code}: {body.get('error_description') or ''}".strip(": ")
        if error == "invalid_client":
            raise AccessRevoked(NAME, "TikTok does not recognise Picmim's app: an admin checks TIKTOK_CLIENT_ID "
                                      "and TIKTOK_CLIENT_SECRET.", detail)
        if refreshing:
            raise AccessRevoked(NAME, "TikTok no longer accepts Picmim's access to this account: connect TikTok "
                                      "again.", detail, reason=RevokeReason.UNKNOWN)
        raise AccessRevoked(NAME, "TikTok did not accept the sign-in (it may have taken too long): connect "
                                  "TikTok again.", detail)
    return body


# ---- the adapter ----------------------------------------------------------------------------------


class TikTokAdapter(Adapter):
    key = "tiktok"
    name = NAME
    limits = Limits(
        texts=(TextLimit("text", "caption", 2200, Counting.UTF16),
               TextLimit("title", "photo title", 90, Counting.UTF16)),
        image=PHOTO_IMAGE, video=VIDEO, max_images=35, max_videos=1, requires_media=True, media_by_url=True,
    )
    scopes = (
        Scope("user.info.basic", "Shows which TikTok account is connected (name and picture)."),
        Scope("video.publish", "Publishes your videos and photo posts directly to the account."),
        Scope("video.list", "Reads views, likes, comments and shares of the posts for analytics."),
        Scope("user.info.stats", "Reads follower and like counts for analytics digests."),
    )
    uses_pkce = False  # TikTok asks for PKCE from mobile and desktop apps only
    refreshable = True

    # Polling the publish status: TikTok allows 30 status calls a minute per token. Tests replace `sleep`.
    poll_interval = 5.0
    poll_attempts = 360  # 30 minutes: a 4 GB video takes minutes, moderation sometimes longer
    sleep = staticmethod(asyncio.sleep)

    # ---- OAuth ----------------------------------------------------------------------------------

    def authorize_url(self, state: str, pkce: PKCE | None) -> str:
        return oauth.authorize_url(AUTHORIZE_URL, {
            "client_key": self.config.client_id,
            "scope": ",".join(s.name for s in self.scopes),
            "response_type": "code",
            "redirect_uri": self.config.redirect_uri,
            "state": state,
        }, pkce)

    async def exchange_code(self, code: str, pkce: PKCE | None) -> TokenSet:
        form = {"client_key": self.config.client_id, "client_secret": self.config.client_secret, "code": code,
                "grant_type": "authorization_code", "redirect_uri": self.config.redirect_uri}
        if pkce is not None:
            form["code_verifier"] = pkce.verifier
        response = await send(self.http, NAME, "POST", f"{API}/v2/oauth/token/", data=form)
        tokens = self._token_set(_oauth_tokens(response, refreshing=False), None)
        user = await self._user(tokens.access_token.reveal(), "open_id,display_name")
        return dataclasses.replace(tokens, display_name=user.get("display_name"))

    async def refresh(self, tokens: TokenSet) -> TokenSet:
        if tokens.refresh_token is None:
            raise AccessRevoked(NAME, "This TikTok connection cannot renew itself: connect TikTok again.")
        form = {"client_key": self.config.client_id, "client_secret": self.config.client_secret,
                "grant_type": "refresh_token", "refresh_token": tokens.refresh_token.reveal()}
        response = await send(self.http, NAME, "POST", f"{API}/v2/oauth/token/", data=form)
        return self._token_set(_oauth_tokens(response, refreshing=True), tokens)

    def _token_set(self, body: Mapping[str, Any], previous: TokenSet | None) -> TokenSet:
        now = datetime.now(UTC)
        # TikTok rotates refresh tokens: the newest one is the only one that works.
        refresh = body.get("refresh_token")
        scopes = tuple(s for s in str(body.get("scope") or "").replace(" ", ",").split(",") if s)
        return TokenSet(
            access_token=Secret(body["access_token"]),
            external_user_id=str(body.get("open_id") or (previous.external_user_id if previous else "")),
            display_name=previous.display_name if previous else None,
            refresh_token=Secret(refresh) if refresh else (previous.refresh_token if previous else None),
            expires_at=now + timedelta(seconds=int(body["expires_in"])) if body.get("expires_in") else None,
            refresh_expires_at=(now + timedelta(seconds=int(body["refresh_expires_in"]))
                                if body.get("refresh_expires_in") else
                                (previous.refresh_expires_at if previous else None)),
            scopes=scopes or (previous.scopes if previous else ()),
            extra=dict(previous.extra) if previous else {},
        )

    async def revoke(self, tokens: TokenSet) -> bool:
        form = {"client_key": self.config.client_id, "client_secret": self.config.client_secret,
                "token": tokens.access_token.reveal()}
        response = await send(self.http, NAME, "POST", f"{API}/v2/oauth/revoke/", data=form)
        if response.status_code == 429 or response.status_code >= 500:
            _data(response)  # raises RateLimited or Transient
        return True  # revoked now, or a token TikTok no longer knows: gone either way

    # ---- accounts -------------------------------------------------------------------------------

    async def _user(self, token: str, fields: str) -> dict:
        response = await send(self.http, NAME, "GET", f"{API}/v2/user/info/", params={"fields": fields},
                              headers=self._auth(token))
        return _data(response).get("user") or {}

    async def creator_info(self, token: str) -> CreatorInfo:
        response = await send(self.http, NAME, "POST", f"{API}/v2/post/publish/creator_info/query/",
                              headers=self._json(token), json={})
        return CreatorInfo.parse(_data(response))

    async def list_accounts(self, tokens: TokenSet) -> list[RemoteAccount]:
        token = tokens.access_token.reveal()
        user = await self._user(token, "open_id,union_id,avatar_url,display_name")
        open_id = str(user.get("open_id") or tokens.external_user_id)
        name = user.get("display_name") or tokens.display_name or "TikTok account"
        if tokens.scopes and "video.publish" not in tokens.scopes:
            return [RemoteAccount(open_id, "creator", name, avatar_url=user.get("avatar_url"),
                                  refusal="Posting was unticked when TikTok asked for permissions: connect TikTok "
                                          "again and keep 'Post content to TikTok' ticked.")]
        try:
            creator = await self.creator_info(token)
        except AccessRevoked as exc:
            return [RemoteAccount(open_id, "creator", name, avatar_url=user.get("avatar_url"), refusal=exc.message)]
        return [RemoteAccount(open_id, "creator", creator.nickname or name, handle=creator.username,
                              avatar_url=creator.avatar_url or user.get("avatar_url"), settings=creator.settings())]

    # ---- validation -----------------------------------------------------------------------------

    def validate(self, account: AccountRef, draft: Draft) -> list[Problem]:
        photo_post = bool(draft.media) and all(m.kind == "image" for m in draft.media)
        limits = PHOTO_LIMITS if photo_post else VIDEO_LIMITS
        if not draft.media:
            limits = dataclasses.replace(self.limits, texts=VIDEO_LIMITS.texts)  # "attach a photo or a video"
        if not photo_post and any(m.kind == "image" for m in draft.media):
            limits = dataclasses.replace(VIDEO_LIMITS, image=PHOTO_IMAGE, max_images=35)  # says "mixed"
        max_seconds = _creator_max_seconds(account, draft)
        if max_seconds is not None and max_seconds < VIDEO.max_duration:
            limits = dataclasses.replace(limits, video=dataclasses.replace(VIDEO, max_duration=max_seconds))
        checker = Checker(NAME, account.name, limits)
        problems = checker.check(draft)
        chosen = post_choices.tiktok_choices(draft)
        privacy = chosen.privacy_level
        offered = tuple(account.settings.get("privacy_level_options") or ())
        if not privacy:
            choices = ", ".join(PRIVACY_LABELS.get(o, o) for o in offered) or "Everyone, Friends or Only me"
            checker.add("privacy_level", f"{NAME} asks you to choose who can see this post ({choices}): pick one.")
        elif offered and privacy not in offered:
            checker.add("privacy_level", _privacy_refusal(privacy, offered))
        elif chosen.branded_content and privacy == "SELF_ONLY":
            checker.add("privacy_level", post_choices.BRANDED_PRIVATE)
        return problems

    def video_limits(self, account_settings: Mapping[str, Any]) -> MediaLimits | None:
        """TikTok's video rules with the creator's own longest video (creator info, kept in the settings)."""
        seconds = account_settings.get("max_video_post_duration_sec")
        if isinstance(seconds, int | float) and not isinstance(seconds, bool) and 0 < seconds < VIDEO.max_duration:
            return dataclasses.replace(VIDEO, max_duration=float(seconds))
        return VIDEO

    # ---- publishing -----------------------------------------------------------------------------

    async def publish(self, account: AccountRef, draft: Draft, media: list[MediaPayload]) -> PublishResult:
        token = account.publish_token.reveal()
        videos = [m for m in media if m.facts.kind == "video"]
        images = [m for m in media if m.facts.kind == "image"]
        if not media or (videos and images) or len(videos) > 1:
            raise ContentRejected(NAME, "A TikTok post is one video or up to 35 photos: change the attachments.",
                                  field="media")
        creator = await self.creator_info(token)
        chosen = post_choices.tiktok_choices(draft)
        privacy = chosen.privacy_level
        if not privacy:
            raise ContentRejected(NAME, "TikTok asks you to choose who can see this post: pick one.",
                                  field="privacy_level")
        if privacy not in creator.privacy_level_options:
            raise ContentRejected(NAME, _privacy_refusal(privacy, creator.privacy_level_options),
                                  "privacy_level_option_mismatch", field="privacy_level")
        if chosen.branded_content and privacy == "SELF_ONLY":
            raise ContentRejected(NAME, post_choices.BRANDED_PRIVATE, "brand_content_toggle with SELF_ONLY",
                                  field="privacy_level")
        if videos:
            publish_id = await self._start_video(token, draft, videos[0], creator, privacy)
        else:
            publish_id = await self._start_photos(token, draft, images, creator, privacy)
        status = await self._wait(token, publish_id)
        post_ids = _ids(status.get("publicaly_available_post_id"))  # sic: TikTok's spelling
        if not post_ids:
            # Private posts, and public ones still in moderation, have no post id yet: keep the
            # publish id, which fetch_metrics can turn into the post id later.
            return PublishResult(remote_id=publish_id, url=None)
        kind = "video" if videos else "photo"
        handle = creator.username or account.handle
        url = f"https://www.tiktok.com/@{handle}/{kind}/{post_ids[0]}" if handle else None
        return PublishResult(remote_id=post_ids[0], url=url)

    def _post_info(self, draft: Draft, creator: CreatorInfo, privacy: str, photo: bool) -> dict:
        options, chosen = draft.options, post_choices.tiktok_choices(draft)
        info: dict[str, Any] = {
            "privacy_level": privacy,
            # Off unless the user turned it on, and always off where the creator turned it off.
            "disable_comment": creator.comment_disabled or not chosen.allow_comment,
            "brand_content_toggle": chosen.branded_content, "brand_organic_toggle": chosen.your_brand,
        }
        if photo:  # duets and stitches do not apply to photo posts
            info.update(title=draft.title or "", description=draft.text or "",
                        auto_add_music=bool(options.get("auto_add_music", False)))
        else:
            info.update(title=draft.text or "", is_aigc=chosen.ai_generated,
                        disable_duet=creator.duet_disabled or not chosen.allow_duet,
                        disable_stitch=creator.stitch_disabled or not chosen.allow_stitch)
            if options.get("video_cover_timestamp_ms") is not None:
                info["video_cover_timestamp_ms"] = int(options["video_cover_timestamp_ms"])
        return info

    async def _start_video(self, token: str, draft: Draft, video: MediaPayload, creator: CreatorInfo,
                           privacy: str) -> str:
        limit = creator.max_video_post_duration_sec
        if limit and video.facts.duration and video.facts.duration > limit + 0.05:
            raise ContentRejected(NAME, f"This TikTok account may post videos up to {limit} seconds; this one is "
                                        f"{video.facts.duration:.0f} seconds: trim it.", "duration_check_failed",
                                  field="media")
        source = (draft.options.get("video_source") or self.config.options.get("tiktok_video_source")
                  or DEFAULT_VIDEO_SOURCE)
        if source not in VIDEO_SOURCES:
            raise ContentRejected(NAME, f"Unknown TikTok video source {source!r}: use FILE_UPLOAD or PULL_FROM_URL.",
                                  field="media")
        body = {"post_info": self._post_info(draft, creator, privacy, photo=False)}
        body["post_info"]["video_cover_timestamp_ms"] = cover_time(draft.options, video.facts.duration)
        if source == "PULL_FROM_URL":
            if not video.public_url:
                raise ContentRejected(NAME, "TikTok fetches this video from Picmim's public address, and it has "
                                            "none: set PUBLIC_URL.", field="media")
            body["source_info"] = {"source": source, "video_url": video.public_url}
            return (await self._init(token, "/v2/post/publish/video/init/", body))["publish_id"]
        size = video.facts.size_bytes
        chunk_size, chunks = chunk_plan(size)
        body["source_info"] = {"source": source, "video_size": size, "chunk_size": chunk_size,
                               "total_chunk_count": chunks}
        data = await self._init(token, "/v2/post/publish/video/init/", body)
        await self._upload(data["upload_url"], video, size, chunk_size, chunks)
        return data["publish_id"]

    async def _start_photos(self, token: str, draft: Draft, images: list[MediaPayload], creator: CreatorInfo,
                            privacy: str) -> str:
        urls = [m.public_url for m in images]
        if not all(urls):
            raise ContentRejected(NAME, "TikTok fetches photos from Picmim's public address, and a photo has "
                                        "none: set PUBLIC_URL.", field="media")
        body = {
            "media_type": "PHOTO",
            "post_mode": "DIRECT_POST",
            "post_info": self._post_info(draft, creator, privacy, photo=True),
            "source_info": {"source": "PULL_FROM_URL", "photo_images": urls,
                            "photo_cover_index": int(draft.options.get("photo_cover_index", 0))},
        }
        return (await self._init(token, "/v2/post/publish/content/init/", body))["publish_id"]

    async def _init(self, token: str, path: str, body: dict) -> dict:
        response = await send(self.http, NAME, "POST", API + path, creates=True, json=body,
                              headers=self._json(token))
        data = _data(response)
        if not data.get("publish_id"):
            raise OutcomeUnknown(NAME, "TikTok took the post without saying how to follow it; check TikTok before "
                                       "posting again.", str(data)[:300])
        return data

    async def _upload(self, upload_url: str, video: MediaPayload, size: int, chunk_size: int, chunks: int) -> None:
        """PUT the bytes in `chunks` pieces; the last piece carries what is left over."""
        buffer, first, index = bytearray(), 0, 0

        async def put(piece: bytes) -> None:
            last = first + len(piece) - 1
            response = await send(self.http, NAME, "PUT", upload_url, content=piece, headers={
                "Content-Type": video.facts.mimetype, "Content-Range": f"bytes {first}-{last}/{size}"})
            if response.status_code >= 500:
                raise Transient(NAME, "TikTok had a problem receiving the video; Picmim will try again.",
                                f"HTTP {response.status_code}")
            if response.status_code >= 400:
                body = json_or_none(response) or {}
                error = body.get("error") if isinstance(body.get("error"), dict) else {}
                raise tiktok_error(error.get("code") or "invalid_file_upload",
                                   error.get("message") or f"HTTP {response.status_code}", response.headers,
                                   response.status_code)

        async for part in video.read():
            buffer += part
            while index < chunks - 1 and len(buffer) >= chunk_size:
                await put(bytes(buffer[:chunk_size]))
                del buffer[:chunk_size]
                first += chunk_size
                index += 1
        if first + len(buffer) != size:
            raise ContentRejected(NAME, "The video changed after it was attached: attach it again.",
                                  f"expected {size} bytes, read {first + len(buffer)}", field="media")
        await put(bytes(buffer))

    async def _wait(self, token: str, publish_id: str) -> dict:
        """Poll until TikTok says the post is live or failed. The post exists once init succeeded, so a
        failure to ask is OutcomeUnknown, never an invitation to post again."""
        for attempt in range(self.poll_attempts):
            if attempt:
                await self.sleep(self.poll_interval)
            try:
                data = await self._status(token, publish_id)
            except PlatformError as exc:
                raise OutcomeUnknown(NAME, "TikTok took the post but Picmim could not confirm it went live: check "
                                           "the account on TikTok before posting again.",
                                     f"publish_id {publish_id}: {exc}") from None
            status = data.get("status")
            if status in ("PUBLISH_COMPLETE", "SEND_TO_USER_INBOX"):
                return data
            if status == "FAILED":
                reason = str(data.get("fail_reason") or "unknown")
                error = tiktok_error(reason, f"publish {publish_id} failed")
                if type(error) is ContentRejected and reason not in _MESSAGES:
                    error = ContentRejected(NAME, f"TikTok did not publish the post ({reason.replace('_', ' ')}).",
                                            error.detail, field="media")
                raise error
        raise OutcomeUnknown(NAME, "TikTok is still processing the post; check the account on TikTok before "
                                   "posting again.", f"publish_id {publish_id}: still processing")

    async def _status(self, token: str, publish_id: str) -> dict:
        response = await send(self.http, NAME, "POST", f"{API}/v2/post/publish/status/fetch/",
                              json={"publish_id": publish_id},
                              headers=self._json(token))
        return _data(response)

    # ---- metrics --------------------------------------------------------------------------------

    async def fetch_metrics(self, account: AccountRef, remote_ids: list[str]) -> Metrics:
        token = account.publish_token.reveal()
        figures: dict[str, float] = {}
        try:
            user = await self._user(token, "follower_count,following_count,likes_count,video_count")
        except AccessRevoked as exc:
            if exc.reason is not RevokeReason.PERMISSION_REMOVED:
                raise
            user = {}  # the stats permission was not granted: those figures are "not available"
        for name in ("follower_count", "following_count", "likes_count", "video_count"):
            if isinstance(user.get(name), int | float):
                figures[name] = user[name]
        # A publish id (post still private or in moderation when published) becomes a post id later.
        post_for: dict[str, str] = {}
        for remote_id in remote_ids:
            if remote_id.isdigit():
                post_for[remote_id] = remote_id
                continue
            ids = _ids((await self._status(token, remote_id)).get("publicaly_available_post_id"))
            if ids:
                post_for[ids[0]] = remote_id
        posts: dict[str, dict[str, float]] = {}
        thumbnails: dict[str, str] = {}
        video_ids = list(post_for)
        for start in range(0, len(video_ids), 20):  # TikTok takes up to 20 ids a query
            response = await send(
                self.http, NAME, "POST", f"{API}/v2/video/query/",
                # cover_image_url lapses 6 hours after it is read (TikTok's video object reference).
                params={"fields": "id,like_count,comment_count,share_count,view_count,cover_image_url"},
                json={"filters": {"video_ids": video_ids[start:start + 20]}},
                headers=self._json(token))
            for video in _data(response).get("videos") or []:
                key = post_for.get(str(video.get("id")))
                if key is not None:
                    posts[key] = {k: video[k] for k in ("view_count", "like_count", "comment_count", "share_count")
                                  if isinstance(video.get(k), int | float)}
                    if isinstance(video.get("cover_image_url"), str):
                        thumbnails[key] = video["cover_image_url"]
        return Metrics(account=figures, posts=posts, thumbnails=thumbnails)

    @staticmethod
    def _auth(token: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {token}"}

    @classmethod
    def _json(cls, token: str) -> dict[str, str]:
        # Every JSON call, as TikTok's Content Posting reference shows it (developers.tiktok.com/doc/
        # content-posting-api-reference-direct-post, -query-creator-info; shared/platforms/tiktok_youtube_bluesky.md).
        return {**cls._auth(token), "Content-Type": JSON_CONTENT_TYPE}


def chunk_plan(size: int) -> tuple[int, int]:
    """(chunk_size, total_chunk_count) under TikTok's rules: small files go whole; otherwise chunks of
    CHUNK_SIZE, and total_chunk_count = floor(size / chunk_size), the last chunk taking the rest."""
    if size <= CHUNK_SIZE:
        return size, 1
    return CHUNK_SIZE, size // CHUNK_SIZE


def _creator_max_seconds(account: AccountRef, draft: Draft) -> float | None:
    for source in (draft.options, account.settings):
        value = source.get("max_video_post_duration_sec")
        if isinstance(value, int | float) and value > 0:
            return float(value)
    return None


def _privacy_refusal(privacy: str, offered: tuple[str, ...] | list[str]) -> str:
    choices = ", ".join(PRIVACY_LABELS.get(o, o) for o in offered) or "none"
    return (f"This TikTok account cannot post with '{PRIVACY_LABELS.get(privacy, privacy)}' visibility now "
            f"(it offers: {choices}): pick one of those.")


ADAPTER = TikTokAdapter
