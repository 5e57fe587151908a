"""The adapter protocol every platform module implements, the limits it declares as data, and the one
family of errors every adapter raises.

Adapters know HTTP and their platform; they know nothing of the database or Slack. They take and
return the plain values below, and they never retry: services decide what an error means.
"""

from __future__ import annotations

import abc
import enum
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import httpx

from bot.platforms.settings import PlatformSettings
from bot.secret import Secret

# ---- limits, as data --------------------------------------------------------------------------


class Counting(enum.StrEnum):
    """How a platform counts the length of a text."""

    CHARACTERS = "characters"  # Unicode code points, as Python's len()
    UTF16 = "utf16"  # UTF-16 code units, as JavaScript's length
    BYTES = "bytes"  # UTF-8 bytes
    GRAPHEMES = "graphemes"  # user-perceived characters
    WEIGHTED = "weighted"  # X: twitter-text v3 weights (URLs 23, CJK and emoji 2)


@dataclass(frozen=True)
class TextLimit:
    field: str  # which part of a draft: text, title, description, first_comment, link, alt_text
    label: str  # what the platform calls it: caption, message, commentary…
    max: int
    counting: Counting = Counting.CHARACTERS
    min: int = 0
    forbidden: str = ""  # characters the platform refuses in this field


# Picture types no platform takes but the media pipeline reads and converts (bot.media.pictures): iPhone photos.
PHONE_PHOTOS = ("image/heic", "image/heif", "image/avif")


@dataclass(frozen=True)
class MediaLimits:
    kind: str  # image | video | document
    mimetypes: tuple[str, ...]
    max_bytes: int | None = None
    min_width: int | None = None
    max_width: int | None = None
    min_height: int | None = None
    max_height: int | None = None
    min_aspect: float | None = None  # width / height
    max_aspect: float | None = None
    aspect_labels: tuple[str, str] | None = None  # how the platform writes its range, e.g. ("4:5", "1.91:1")
    min_duration: float | None = None  # seconds
    max_duration: float | None = None
    min_fps: float | None = None
    max_fps: float | None = None
    # A width/height outside the range that the media pipeline may scale into it, not a refusal.
    scalable: bool = False
    convertible_from: tuple[str, ...] = ()  # types the media pipeline converts into an accepted one
    # Videos only (FFmpeg's codec names; empty: any). What breaks these is fixed by a rendition (bot.media.video).
    video_codecs: tuple[str, ...] = ()
    audio_codecs: tuple[str, ...] = ()
    faststart: bool = False  # the index (moov box) must come before the media data
    upright: bool = False  # rotation metadata is not trusted: the picture must be stored upright
    max_pages: int | None = None  # documents only


@dataclass(frozen=True)
class Limits:
    texts: tuple[TextLimit, ...]
    image: MediaLimits | None = None
    video: MediaLimits | None = None
    document: MediaLimits | None = None  # a document post (a PDF): None where the platform takes none
    max_images: int = 0
    max_videos: int = 0
    max_items: int | None = None  # images and videos together (e.g. a carousel)
    min_items_if_several: int | None = None
    mixed_media: bool = False  # may images and a video go in one post
    requires_media: bool = False
    max_hashtags: int | None = None
    max_mentions: int | None = None
    media_by_url: bool = False  # the platform fetches media from our public URL
    first_comment: bool = False

    def text_limit(self, field_name: str) -> TextLimit | None:
        return next((t for t in self.texts if t.field == field_name), None)


@dataclass(frozen=True)
class Scope:
    name: str
    why: str  # in a marketer's words: which feature needs it


# ---- values that cross the adapter boundary ----------------------------------------------------


@dataclass(frozen=True)
class PKCE:
    verifier: str
    challenge: str
    method: str = "S256"


@dataclass(frozen=True)
class TokenSet:
    """What a grant gives: tokens, when they lapse, and whom they belong to."""

    access_token: Secret
    external_user_id: str
    display_name: str | None = None
    refresh_token: Secret | None = None
    expires_at: datetime | None = None
    refresh_expires_at: datetime | None = None
    scopes: tuple[str, ...] = ()
    extra: Mapping[str, Any] = field(default_factory=dict)  # platform secrets (e.g. a DPoP key), stored encrypted


@dataclass(frozen=True)
class RemoteAccount:
    """A place to publish that a grant reaches. `refusal`, when set, says why it cannot be managed
    and how to fix that; such an account is shown but cannot be selected."""

    external_id: str
    kind: str  # page, profile, company, business, creator, board, channel
    name: str
    handle: str | None = None
    avatar_url: str | None = None
    followers_count: int | None = None
    token: Secret | None = None  # an account-level token (a Facebook Page token)
    settings: Mapping[str, Any] = field(default_factory=dict)
    refusal: str | None = None


@dataclass(frozen=True)
class AccountRef:
    """An account as an adapter needs it to publish or read metrics."""

    platform: str
    external_id: str
    kind: str
    name: str
    user_token: Secret  # the connection's token
    token: Secret | None = None  # the account's own token, where the platform has one
    handle: str | None = None
    settings: Mapping[str, Any] = field(default_factory=dict)
    # The connection's TokenSet.extra (stored encrypted): what signs its requests, e.g. Bluesky's DPoP key.
    extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def publish_token(self) -> Secret:
        return self.token or self.user_token


@dataclass(frozen=True)
class MediaFacts:
    """What the media pipeline found out about one attachment."""

    id: str
    kind: str  # image | video | document
    mimetype: str
    size_bytes: int
    width: int | None = None
    height: int | None = None
    duration: float | None = None  # seconds
    fps: float | None = None
    filename: str = ""
    alt_text: str | None = None
    # Videos only: FFmpeg's codec names, the counter-clockwise turn players apply (width and height above
    # are as shown, after it), bits per second, and whether the index comes first (None: not MP4/MOV).
    video_codec: str | None = None
    audio_codec: str | None = None
    rotation: int = 0
    bit_rate: int | None = None
    faststart: bool | None = None
    pages: int | None = None  # documents only (None: not known)

    @property
    def aspect(self) -> float | None:
        if self.width and self.height:
            return self.width / self.height
        return None


@dataclass(frozen=True)
class Draft:
    """The post as one target will receive it: its own text variant already chosen."""

    text: str
    media: tuple[MediaFacts, ...] = ()
    title: str | None = None
    description: str | None = None
    link: str | None = None
    first_comment: str | None = None
    options: Mapping[str, Any] = field(default_factory=dict)
    # The platform's own choices (bot/platforms/settings.py): each adapter reads its own class, None when none.
    settings: PlatformSettings | None = None
    # A thread (or a post and its first comment) goes out as several calls. `live_parts` are those already live
    # from an earlier try, in order ({"id", "url", "cid"?, "comment"?}): never sent again. `check_next`: the try
    # before stopped during the next call, so the adapter looks at the platform for it before sending it.
    # `on_part` is awaited with each new part as soon as it is live (the publisher stores it then).
    live_parts: tuple[Mapping[str, Any], ...] = ()
    check_next: bool = False
    on_part: Callable[[Mapping[str, Any]], Awaitable[None]] | None = field(default=None, compare=False)


@dataclass(frozen=True)
class MediaPayload:
    """An attachment ready to send: the bytes (for upload platforms) and a public URL (for pull ones)."""

    facts: MediaFacts
    public_url: str | None
    read: Callable[[], AsyncIterator[bytes]]  # streams the bytes in chunks


@dataclass(frozen=True)
class PublishResult:
    remote_id: str
    url: str | None
    # What went wrong after the post went live (e.g. its first comment); the post itself must not be resent.
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class Metrics:
    """Figures under the platform's own names. A figure the platform does not give to this kind of
    account is absent (shown as "not available"), never zero."""

    account: Mapping[str, float] = field(default_factory=dict)
    posts: Mapping[str, Mapping[str, float]] = field(default_factory=dict)  # remote id -> figures
    # Account figures the platform refused this time, with its reason (e.g. a Meta metric it does not give
    # this account): absent from `account`, so "not available".
    unavailable: Mapping[str, str] = field(default_factory=dict)
    # remote id -> the picture the platform shows for the post (its image, or its video's cover), where the call
    # that gave the figures also gave it: digests show it once Picmim's own copy is gone.
    thumbnails: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Problem:
    """One reason a draft cannot go to one account, with the fix, in plain words."""

    platform: str
    account: str
    field: str  # text, title, media, first_comment… (the compose modal puts it beside that input)
    message: str
    fixable: bool = False  # the app can fix it by itself (convert, resize) if the user agrees
    kind: str | None = None  # "video" for a problem of a video attachment (shown with the others in the modal)

    def __str__(self) -> str:
        return f"{self.platform} ({self.account}): {self.message}"


# ---- the error family ---------------------------------------------------------------------------


class PlatformError(Exception):
    """Base of every adapter error. `message` is for people; `detail` is the platform's own words."""

    def __init__(self, platform: str, message: str, detail: str | None = None):
        super().__init__(message)
        self.platform = platform
        self.message = message
        self.detail = detail

    def __str__(self) -> str:
        return self.message if not self.detail else f"{self.message} ({self.platform} said: {self.detail})"


class TokenExpired(PlatformError):
    """The access token lapsed; a refresh (or a reconnect where none is possible) mends it."""


class RevokeReason(enum.StrEnum):
    PASSWORD_CHANGED = "password_changed"
    APP_REMOVED = "app_removed"
    ADMIN_RIGHTS_LOST = "admin_rights_lost"
    LOGGED_OUT = "logged_out"
    PERMISSION_REMOVED = "permission_removed"
    CHECKPOINT = "checkpoint"  # the platform wants the user to log in and confirm something
    UNKNOWN = "unknown"


class AccessRevoked(PlatformError):
    """The grant no longer works and only the user can mend it (reconnect, or regain admin rights)."""

    def __init__(self, platform: str, message: str, detail: str | None = None,
                 reason: RevokeReason = RevokeReason.UNKNOWN):
        super().__init__(platform, message, detail)
        self.reason = reason


class RateLimited(PlatformError):
    def __init__(self, platform: str, message: str, detail: str | None = None, retry_after: float | None = None):
        super().__init__(platform, message, detail)
        self.retry_after = retry_after  # seconds, when the platform said


class ContentRejected(PlatformError):
    """The platform refused this post itself (length, media type, size, duplicate); retrying won't help."""

    def __init__(self, platform: str, message: str, detail: str | None = None, field: str = "text"):
        super().__init__(platform, message, detail)
        self.field = field


class Transient(PlatformError):
    """A passing failure (5xx, a network error before the request was sent): retry later."""


class OutcomeUnknown(PlatformError):
    """A publishing call may have gone through (timeout after sending): check, never blindly resend."""


# ---- the adapter protocol ------------------------------------------------------------------------


@dataclass(frozen=True)
class AdapterConfig:
    client_id: str | None
    client_secret: str | None
    redirect_uri: str
    public_url: str
    options: Mapping[str, str] = field(default_factory=dict)  # e.g. META_GRAPH_VERSION


class Adapter(abc.ABC):
    key: str
    name: str
    limits: Limits
    scopes: tuple[Scope, ...]
    uses_pkce: bool = False
    refreshable: bool = True  # the platform issues refresh tokens (or lets a token renew itself)

    def __init__(self, config: AdapterConfig, http: httpx.AsyncClient):
        self.config = config
        self.http = http

    @abc.abstractmethod
    def authorize_url(self, state: str, pkce: PKCE | None) -> str:
        """Where to send the user's browser to grant access."""

    @abc.abstractmethod
    async def exchange_code(self, code: str, pkce: PKCE | None) -> TokenSet:
        """Turn the callback's code into tokens (long-lived ones where the platform has them)."""

    @abc.abstractmethod
    async def refresh(self, tokens: TokenSet) -> TokenSet:
        """New tokens. Raises AccessRevoked or TokenExpired when only a reconnect can help."""

    @abc.abstractmethod
    async def list_accounts(self, tokens: TokenSet) -> list[RemoteAccount]:
        """Every place this grant can publish to (refused ones carry `refusal`)."""

    @abc.abstractmethod
    def validate(self, account: AccountRef, draft: Draft) -> list[Problem]:
        """Every limit this draft breaks for this account. Pure: no I/O."""

    def video_limits(self, account_settings: Mapping[str, Any]) -> MediaLimits | None:
        """The video rules for one account, from its stored settings: the platform's own, narrowed where
        the platform narrows them per account (TikTok's creator limit). What renditions are made for."""
        return self.limits.video

    @abc.abstractmethod
    async def publish(self, account: AccountRef, draft: Draft, media: list[MediaPayload]) -> PublishResult:
        """Publish, waiting for asynchronous processing to finish; the result is the live post."""

    @abc.abstractmethod
    async def fetch_metrics(self, account: AccountRef, remote_ids: list[str]) -> Metrics:
        """Account figures and the figures of the given posts (with their pictures, where the same calls give
        them: `Metrics.thumbnails`)."""

    async def revoke(self, tokens: TokenSet) -> bool:
        """Withdraw the grant at the platform where it allows that; False where it does not."""
        return False
