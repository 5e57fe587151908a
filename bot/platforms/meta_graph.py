"""What the Meta adapters share: Graph API calls, the translation of Meta's errors, Facebook Login.

Graph calls: versioned paths, the token and `appsecret_proof`, paging, token expiry. Facebook Login is
used by `instagram` and `facebook`. Meta's limits are in `meta_limits`; the Instagram publishing flow
both Instagram logins share is in `instagram_publishing`.

Facts come from /work/shared/platforms/meta.md; values it marks UNCERTAIN are kept once, here, and
flagged where they are defined.

Over 500 lines on purpose: Meta's error table (codes and subcodes to what the person should do) is one
long data table that every Meta adapter reads.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from bot.config import DEFAULT_GRAPH_VERSION
from bot.platforms.base import (
    AccessRevoked,
    Adapter,
    AdapterConfig,
    ContentRejected,
    MediaPayload,
    OutcomeUnknown,
    PlatformError,
    RateLimited,
    RevokeReason,
    Scope,
    TokenExpired,
    TokenSet,
    Transient,
)
from bot.platforms.http_calls import json_or_none, retry_after_seconds, send
from bot.platforms.meta_limits import IG_CAPTION_MAX, IG_CAROUSEL_MAX, INSTAGRAM_IMAGE, INSTAGRAM_LIMITS
from bot.platforms.oauth import authorize_url
from bot.platforms.validation import human_size
from bot.secret import Secret

GRAPH_FACEBOOK = "https://graph.facebook.com"
GRAPH_VIDEO = "https://graph-video.facebook.com"  # where a Page's videos are published from an uploaded handle
GRAPH_INSTAGRAM = "https://graph.instagram.com"
FACEBOOK_WWW = "https://www.facebook.com"
INSTAGRAM_WWW = "https://www.instagram.com"
INSTAGRAM_API = "https://api.instagram.com"

LIST_PAGES = Scope("pages_show_list", "see the Facebook Pages you manage")

# Page tasks that allow publishing (meta.md C: CREATE_CONTENT or MANAGE).
POSTING_TASKS = frozenset({"CREATE_CONTENT", "MANAGE"})

# Long-lived user tokens (Facebook and Instagram) last about 60 days (meta.md A, B).
LONG_LIVED = timedelta(days=60)
# Instagram refuses to refresh a token younger than this (meta.md B).
IG_REFRESH_MIN_AGE = timedelta(hours=24)

# /me/accounts is followed through `paging.next`; a bound so a looping answer cannot hold a worker.
MAX_ACCOUNT_PAGES = 50

# Page insight metric names. Meta removed the Page `impressions` family and `page_fans` (2025-11-15) in
# favour of `views`; never ask for those.
# UNCERTAIN (meta.md C): the exact names of the `views`-family Page metrics that replace impressions
# (Meta's deprecation list names page_total_media_view_unique, post_total_media_view_unique and
# page_follows as the alternatives).
PAGE_METRICS = ("page_media_view", "page_total_media_view_unique", "page_post_engagements", "page_follows")
POST_METRICS = ("post_media_view", "post_total_media_view_unique")
# Other names Meta gives a metric under: `reach` is being replaced by `viewers` (Meta's v25 notes as issue 19 reports
# them; UNCERTAIN: not seen on a stored Meta page). A refused metric is asked again under them; the figure keeps the
# name Meta answered with, and the analytics catalogue reads either.
METRIC_ALTERNATES: Mapping[str, tuple[str, ...]] = {"reach": ("viewers",)}


def graph_version(config: AdapterConfig) -> str:
    """META_GRAPH_VERSION as the registry hands it over; the one place a version is chosen."""
    return config.options.get("graph_version") or DEFAULT_GRAPH_VERSION


def expiry(body: Mapping[str, Any]) -> datetime | None:
    seconds = body.get("expires_in")
    if isinstance(seconds, int | float) and seconds > 0:
        return datetime.now(UTC) + timedelta(seconds=seconds)
    return None  # Meta leaves expires_in out for tokens that do not expire


# ---- Graph calls and their errors --------------------------------------------------------------


@dataclass(frozen=True)
class Context:
    """What a translated error should say: who is speaking, and what the call was for."""

    label: str  # Instagram, Facebook
    publishing: bool = False  # an unknown refusal is then the post's (ContentRejected), not a mystery
    needs: Scope | None = None  # the permission this call depends on, for "permission removed"
    page: str | None = None  # the Facebook Page concerned, for "admin rights lost"
    signing_in: bool = False  # a code/token exchange: a refusal means "start connecting again"


@dataclass
class Polling:
    """How often to look at something Meta processes in the background (containers, videos)."""

    attempts: int = 60
    delay: float = 5.0  # seconds between looks
    sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep


class Graph:
    """One Graph host as an adapter calls it: versioned paths, the token in the Authorization header
    (with `appsecret_proof` where an app secret is known) and every error answer translated."""

    def __init__(self, http: httpx.AsyncClient, label: str, origin: str, version: str,
                 app_secret: str | None = None):
        self.http, self.label, self.origin, self.version = http, label, origin, version
        self.app_secret = app_secret

    def url(self, path: str) -> str:
        if path.startswith("https://"):
            return path
        return f"{self.origin}/{self.version}/{path.lstrip('/')}"

    async def call(self, method: str, path: str, token: Secret | None = None, *,
                   params: Mapping[str, str] | None = None, data: Mapping[str, str] | None = None,
                   creates: bool = False, ctx: Context | None = None, headers: Mapping[str, str] | None = None,
                   content: Any = None) -> dict[str, Any]:
        """`headers` go with the call (an upload's `file_offset`); `content` is a raw body (a file's bytes)."""
        query = dict(params or {})
        extra = dict(headers or {})
        headers = {}
        if token is not None:
            value = token.reveal()
            headers["Authorization"] = f"Bearer {value}"
            if self.app_secret:
                # Meta's recommended proof that the call comes from the app's server; required when the
                # app enables "Require App Secret".
                query["appsecret_proof"] = hmac.new(self.app_secret.encode(), value.encode(),
                                                    hashlib.sha256).hexdigest()
        # Merged by hand: httpx's `params=` would replace the query a `paging.next` URL already has.
        url = str(httpx.URL(self.url(path)).copy_merge_params(query))
        sent = {"content": content} if content is not None else {"data": data}
        response = await send(self.http, self.label, method, url, creates=creates, headers=headers | extra, **sent)
        body = json_or_none(response)
        if response.is_success and body is not None and not isinstance(body.get("error"), dict):
            return body
        raise translate(ctx or Context(self.label), response.status_code, response.headers, body,
                        response.text)

    async def get(self, path: str, token: Secret | None = None, **kw) -> dict[str, Any]:
        return await self.call("GET", path, token, **kw)

    async def post(self, path: str, token: Secret | None = None, **kw) -> dict[str, Any]:
        return await self.call("POST", path, token, **kw)


def regain_seconds(headers: httpx.Headers) -> float | None:
    """When a throttled caller may call again: X-Business-Use-Case-Usage gives
    `estimated_time_to_regain_access` in minutes; otherwise a Retry-After header, else unknown."""
    raw = headers.get("x-business-use-case-usage")
    if raw:
        try:
            usage = json.loads(raw)
        except ValueError:
            usage = None
        minutes = [
            float(entry.get("estimated_time_to_regain_access") or 0)
            for entries in (usage.values() if isinstance(usage, dict) else ())
            for entry in (entries if isinstance(entries, list) else ())
            if isinstance(entry, dict)
        ]
        if minutes and max(minutes) > 0:
            return max(minutes) * 60
    return retry_after_seconds(headers)


# Families, for the tables below.
_CONTENT, _RATE, _TRANSIENT, _CHECKPOINT = "content", "rate", "transient", "checkpoint"

# Access-token subcodes (meta.md A, "Token/auth errors"): reason and what the user must do.
_AUTH_SUBCODES: dict[int, tuple[RevokeReason, str]] = {
    458: (RevokeReason.APP_REMOVED,
          "{label} no longer lets Picmim in: the app was removed from the account's settings. "
          "Reconnect to allow it again."),
    460: (RevokeReason.PASSWORD_CHANGED,
          "The {label} connection stopped working because the password was changed. Reconnect to continue."),
    467: (RevokeReason.LOGGED_OUT,
          "The {label} connection stopped working because the account was logged out. Reconnect to continue."),
    459: (RevokeReason.CHECKPOINT,
          "Meta has put a security checkpoint on the account: log in at facebook.com, follow the "
          "instructions there, then reconnect."),
    464: (RevokeReason.CHECKPOINT,
          "Meta asks the account owner to confirm their account first (see Meta's email): do that, then reconnect."),
    # UNCERTAIN (meta.md A): 492 "invalid session", seen when the user lost their role on the Page.
    492: (RevokeReason.ADMIN_RIGHTS_LOST,
          "The person who connected {page} no longer has a role on it: ask a Page admin to give you back "
          "access to the Page, then reconnect."),
}

_IMAGE_MAX = human_size(INSTAGRAM_IMAGE.max_bytes or 0)
_IMAGE_RATIO = "{} and {}".format(*(INSTAGRAM_IMAGE.aspect_labels or ("4:5", "1.91:1")))

# Error subcodes that say what went wrong with a post or a container (meta.md A and C).
_SUBCODES: dict[int, tuple[str, str, str]] = {
    2207004: (_CONTENT, "media", f"{{label}} takes photos up to {_IMAGE_MAX}; this one is larger. "
                                 "Attach a smaller photo."),
    2207005: (_CONTENT, "media", "{label} takes JPEG photos only, and this file is in another format. "
                                 "Attach a JPEG."),
    2207009: (_CONTENT, "media", f"{{label}} needs photos with an aspect ratio between {_IMAGE_RATIO}. "
                                 "Crop the photo and attach it again."),
    2207010: (_CONTENT, "text", f"{{label}} refused the caption: keep it to {IG_CAPTION_MAX:,} characters, "
                                f"{INSTAGRAM_LIMITS.max_hashtags} hashtags and {INSTAGRAM_LIMITS.max_mentions} "
                                "@mentions."),
    2207026: (_CONTENT, "media", "{label} cannot use this video's format: attach an MP4 or MOV video "
                                 "(H.264 picture, AAC sound)."),
    2207023: (_CONTENT, "media", "{label} did not recognise the attachment as a photo or a video."),
    2207028: (_CONTENT, "media", f"{{label}} refused the carousel: it takes 2 to {IG_CAROUSEL_MAX} photos "
                                 "or videos, each valid on its own."),
    2207057: (_CONTENT, "media", "{label} refused the position of the video's cover frame."),
    2207052: (_CONTENT, "media", "{label} could not download the attachment from Picmim's public address: "
                                 "an admin should check that PUBLIC_URL is reachable from the internet."),
    2207051: (_CONTENT, "text", "{label} blocked this post as possible spam. Change it, and try again later."),
    2207050: (_CHECKPOINT, "", "{label} has restricted this account: open the Instagram app, follow its "
                               "instructions, then try again."),
    2207042: (_RATE, "", "This {label} account reached its daily limit of posts published through apps; "
                         "Picmim will try again later."),
    2207001: (_TRANSIENT, "", "{label} had a server problem; Picmim will try again."),
    2207003: (_TRANSIENT, "", "{label} took too long to download the attachment; Picmim will try again."),
    2207020: (_TRANSIENT, "", "The media prepared for {label} expired before publishing; Picmim will prepare "
                              "it again."),
    2207032: (_TRANSIENT, "", "{label} could not create the post this time; Picmim will try again."),
    2207053: (_TRANSIENT, "", "{label} had an upload problem; Picmim will try again."),
    2207008: (_TRANSIENT, "", "The media prepared for {label} expired; Picmim will prepare it again."),
    2207027: (_TRANSIENT, "", "{label} is not done processing the media yet; Picmim will try again."),
    2207006: (_TRANSIENT, "", "{label} lost the media prepared for this post; Picmim will prepare it again."),
    1366046: (_CONTENT, "media", "{label} takes JPEG or PNG photos up to 4 MB; this one is larger or in "
                                 "another format."),
    1390008: (_RATE, "", "{label} says this Page is posting too fast; Picmim will try again later."),
    1346003: (_CONTENT, "text", "{label} flagged this post as abusive and refused it."),
    1404102: (_CONTENT, "text", "{label} refused this post because it goes against its Community Standards."),
    1609008: (_CONTENT, "link", "{label} does not let apps post links to facebook.com: remove the link."),
    2061006: (_CONTENT, "link", "{label} did not accept the link: check that it is a full web address."),
    1349125: (_CONTENT, "text", "{label} refused the post's content as invalid."),
    1404006: (_CHECKPOINT, "", "{label} wants a security check on the account: log in at facebook.com, "
                               "follow the instructions, then try again."),
    1404078: (_CHECKPOINT, "", "This Page needs Page Publishing Authorization: a Page admin completes it in "
                               "Facebook, then try again."),
    1363047: (_TRANSIENT, "", "{label} is temporarily unavailable; Picmim will try again."),
    1609010: (_TRANSIENT, "", "{label} is temporarily unavailable; Picmim will try again."),
}

_CODES: dict[int, tuple[str, str, str]] = {
    506: (_CONTENT, "text", "{label} refuses a post identical to a recent one: change the text."),
    368: (_CONTENT, "text", "{label} has temporarily blocked this account from posting for going against its "
                            "policies. Check the account's notifications, and try again later."),
    36000: _SUBCODES[2207004],
    36001: (_CONTENT, "media", "{label} refused the photo's resolution: attach a photo 320 to 1440 px wide."),
    36003: _SUBCODES[2207009],
    1609005: (_CONTENT, "link", "{label} could not read the link: check that the page opens in a browser."),
}

# Throttling codes (meta.md A, "Rate limits"); 80000–80099 are the Business Use Case codes.
_RATE_CODES: dict[int, str] = {
    4: "the Picmim app made too many calls",
    17: "this account made too many requests",
    32: "this Page made too many requests",
    613: "too many calls of one kind",
    341: "the Picmim app reached a Meta limit",
    80001: "this Page made too many requests",
    80002: "this Instagram account made too many requests",
}

# How Meta words a refusal of the app's own credentials (Facebook answers it with code 1).
_BAD_CREDENTIALS = re.compile(r"client.secret|application id|platform app", re.IGNORECASE)
_SCOPE_NAME = re.compile(r"\b(?:pages|instagram|business|ads|read|publish)_[a-z_]+\b")
_ADMIN_WORDS = re.compile(r"administrator|\badmin\b|impersonate|\brole\b|\btasks?\b|CREATE_CONTENT|MANAGE",
                          re.IGNORECASE)


def _detail(err: Mapping[str, Any]) -> str:
    words = err.get("error_user_msg") or err.get("message") or "no message"
    codes = str(err.get("code"))
    if err.get("error_subcode"):
        codes += f"/{err['error_subcode']}"
    return f"{words} (code {codes})"


def _int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


def translate(ctx: Context, status: int, headers: httpx.Headers, body: Mapping[str, Any] | None,
              text: str = "") -> PlatformError:
    """Meta's answer, as the error family. The order matters: Meta marks throttling `is_transient`."""
    label = ctx.label
    err = body.get("error") if body else None
    words_of_meta = str((err or {}).get("message") or (body or {}).get("error_message") or "")
    if ctx.signing_in and _BAD_CREDENTIALS.search(words_of_meta):
        return PlatformError(label, f"{label} did not accept Picmim's app credentials: an admin should check the "
                                    "app ID and secret in Picmim's settings.", words_of_meta)
    if not isinstance(err, dict):
        if body and body.get("error_message"):  # api.instagram.com's own shape
            return AccessRevoked(label, f"{label} did not accept the sign-in: start connecting again.",
                                 str(body["error_message"]), reason=RevokeReason.UNKNOWN)
        if status == 429:
            return RateLimited(label, f"{label} is limiting requests for now; Picmim will try again later.",
                               f"HTTP {status}", retry_after=regain_seconds(headers))
        if status >= 500:
            return Transient(label, f"{label} had a temporary problem; Picmim will try again.", f"HTTP {status}")
        return PlatformError(label, f"{label} gave an answer Picmim does not understand.",
                             f"HTTP {status}: {text[:200]}")

    code, sub = _int(err.get("code")), _int(err.get("error_subcode"))
    detail = _detail(err)
    page = ctx.page or "this Page"

    if code in (190, 102):
        if sub == 463:
            return TokenExpired(label, f"The {label} connection has expired: reconnect to continue.", detail)
        reason, words = _AUTH_SUBCODES.get(sub, (RevokeReason.UNKNOWN,
                                                  "The {label} connection no longer works: reconnect to continue."))
        return AccessRevoked(label, words.format(label=label, page=page), detail, reason=reason)

    family, field_name, words = _SUBCODES.get(sub) or _CODES.get(code) or ("", "", "")
    if family == _CHECKPOINT:
        return AccessRevoked(label, words.format(label=label), detail, reason=RevokeReason.CHECKPOINT)
    if family == _RATE or code in _RATE_CODES or 80000 <= code < 80100:
        retry_after = regain_seconds(headers)
        if not words:
            when = f"in about {round(retry_after / 60)} minutes" if retry_after else "later"
            why = _RATE_CODES.get(code, "too many requests")
            words = f"{{label}} is limiting requests for now ({why}); Picmim will try again {when}."
        return RateLimited(label, words.format(label=label), detail, retry_after=retry_after)
    if family == _CONTENT:
        return ContentRejected(label, words.format(label=label), detail, field=field_name)
    if family == _TRANSIENT:
        return Transient(label, words.format(label=label), detail)
    if code in (1, 2, -1, -2) or err.get("is_transient") or status >= 500:
        return Transient(label, f"{label} had a temporary problem; Picmim will try again.", detail)
    if ctx.signing_in:
        return AccessRevoked(label, f"{label} did not accept the sign-in (the link may have been used already "
                                    "or expired): start connecting again.", detail, reason=RevokeReason.UNKNOWN)
    if code == 10 or 200 <= code <= 299:
        return _permission_error(ctx, err, detail)
    if ctx.publishing:
        reason = err.get("error_user_msg") or err.get("message") or "no reason given"
        field_name = "media" if 2207000 <= sub < 2208000 else "text"
        if "collaborator" in f"{reason} {detail}".lower():
            field_name = "collaborators"  # Instagram's invitation list, beside which the compose window shows it
        return ContentRejected(label, f"{label} refused this post: {reason}", detail, field=field_name)
    return PlatformError(label, f"{label} answered with an error: {err.get('message') or 'no reason given'}",
                         detail)


def _permission_error(ctx: Context, err: Mapping[str, Any], detail: str) -> AccessRevoked:
    label, message = ctx.label, str(err.get("message") or "")
    named = _SCOPE_NAME.findall(message)
    if not named and _ADMIN_WORDS.search(message):
        return AccessRevoked(
            label,
            f"You can no longer publish on {ctx.page or 'this Facebook Page'}: ask a Page admin to give you "
            "back the “Create content” task (or full control) on it, then try again.",
            detail, reason=RevokeReason.ADMIN_RIGHTS_LOST)
    # Meta's words may name several permissions without saying which one is missing: name them all.
    scopes = list(dict.fromkeys(named)) or ([ctx.needs.name] if ctx.needs else [])
    needed = f"the permission{'s' * (len(scopes) > 1)} {' and '.join(scopes)}" if scopes else "a permission"
    if ctx.needs:
        words = f"{label} no longer lets Picmim {ctx.needs.why} (it needs {needed})"
    else:
        words = f"{label} says Picmim lacks {needed}"
    return AccessRevoked(label, f"{words}: reconnect and keep every permission ticked.", detail,
                         reason=RevokeReason.PERMISSION_REMOVED)


def must_surface(exc: PlatformError) -> bool:
    """Errors a reader (metrics) must pass on instead of skipping one post's figures."""
    return isinstance(exc, TokenExpired | AccessRevoked | RateLimited | Transient | OutcomeUnknown)


def public_url(label: str, item: MediaPayload) -> str:
    if not item.public_url:
        raise ContentRejected(label, f"{label} fetches attachments from Picmim's public address, and "
                                     f"{item.facts.filename or 'an attachment'} has none: an admin should check "
                                     "PUBLIC_URL.", "no public_url", field="media")
    return item.public_url


# ---- Facebook Login (the `instagram` and `facebook` adapters) -----------------------------------


class FacebookLoginAdapter(Adapter):
    """Facebook Login: the www.facebook.com dialog, code → short-lived → long-lived (≈60 days) user
    token on graph.facebook.com, and the user's Pages from /me/accounts."""

    label: str
    # Facebook's PKCE belongs to its OIDC login flow, which Meta still marks "in testing"; the Graph
    # token exchange is a server-side call authenticated by the app secret.
    uses_pkce = False
    # Meta gives no refresh token for Facebook Login: a long-lived user token cannot be renewed, and
    # once it lapses only a reconnect helps. `refresh` re-checks the token and keeps its expiry.
    refreshable = False

    def __init__(self, config: AdapterConfig, http: httpx.AsyncClient):
        super().__init__(config, http)
        self.version = graph_version(config)
        self.graph = Graph(http, self.label, GRAPH_FACEBOOK, self.version, app_secret=config.client_secret)
        self.polling = Polling()

    def authorize_url(self, state: str, pkce=None) -> str:
        return authorize_url(f"{FACEBOOK_WWW}/{self.version}/dialog/oauth", {
            "client_id": self.config.client_id,
            "redirect_uri": self.config.redirect_uri,
            "state": state,
            "response_type": "code",
            "scope": ",".join(s.name for s in self.scopes),
            # Ask again for permissions the user declined earlier (a reconnect after "permission removed").
            "auth_type": "rerequest",
        })

    async def exchange_code(self, code: str, pkce=None) -> TokenSet:
        signing_in = Context(self.label, signing_in=True)
        short = await self.graph.get("oauth/access_token", params={
            "client_id": self.config.client_id or "", "client_secret": self.config.client_secret or "",
            "redirect_uri": self.config.redirect_uri, "code": code}, ctx=signing_in)
        long = await self.graph.get("oauth/access_token", params={
            "grant_type": "fb_exchange_token", "client_id": self.config.client_id or "",
            "client_secret": self.config.client_secret or "", "fb_exchange_token": str(short["access_token"])},
            ctx=signing_in)
        token = Secret(str(long["access_token"]))
        me = await self.graph.get("me", token, params={"fields": "id,name"})
        return TokenSet(access_token=token, external_user_id=str(me["id"]), display_name=me.get("name"),
                        expires_at=expiry(long), scopes=tuple(sorted(await self.granted(token))))

    async def refresh(self, tokens: TokenSet) -> TokenSet:
        if tokens.expires_at and tokens.expires_at <= datetime.now(UTC):
            raise TokenExpired(self.label, f"The {self.label} connection has expired, and Facebook does not let "
                                           "apps renew it: reconnect to continue.", "long-lived token lapsed")
        # Raises TokenExpired/AccessRevoked when Meta has ended the grant early.
        await self.graph.get("me", tokens.access_token, params={"fields": "id"})
        return tokens

    async def revoke(self, tokens: TokenSet) -> bool:
        try:
            body = await self.graph.call("DELETE", "me/permissions", tokens.access_token)
        except (TokenExpired, AccessRevoked):
            return False  # the token is dead: only the user can remove the app, in Facebook's settings
        return bool(body.get("success"))

    async def granted(self, token: Secret) -> set[str]:
        body = await self.graph.get("me/permissions", token)
        return {p["permission"] for p in body.get("data") or [] if p.get("status") == "granted"}

    async def pages(self, token: Secret, fields: str, granted: set[str]) -> list[dict[str, Any]]:
        """Every Page of /me/accounts, following `paging.next`."""
        if LIST_PAGES.name not in granted:
            # Meta then lists no Page at all; say why instead of showing an empty list.
            raise AccessRevoked(self.label, missing_permission_refusal(self.label, [LIST_PAGES]),
                                f"{LIST_PAGES.name} not granted", reason=RevokeReason.PERMISSION_REMOVED)
        pages: list[dict[str, Any]] = []
        path, params = "me/accounts", {"fields": fields, "limit": "100"}
        for _ in range(MAX_ACCOUNT_PAGES):
            body = await self.graph.get(path, token, params=params)
            pages += body.get("data") or []
            following = (body.get("paging") or {}).get("next")
            # Only ever send the token back to Graph itself.
            if not following or not following.startswith(f"{GRAPH_FACEBOOK}/"):
                break
            path, params = following, {}
        return pages


def missing_permission_refusal(label: str, missing: list[Scope]) -> str:
    names = ", ".join(s.name for s in missing)
    return (f"Picmim was not allowed to {missing[0].why} ({names} not granted): reconnect {label} and keep "
            "every permission ticked.")


def container_error(label: str, status: str) -> PlatformError:
    """A container that ended in ERROR: its `status` text carries Meta's subcode."""
    found = re.search(r"\b(\d{4,8})\b", status)
    sub = int(found.group(1)) if found else 0
    family, field_name, words = _SUBCODES.get(sub, ("", "", ""))
    detail = status or "status_code ERROR"
    if family == _TRANSIENT:
        return Transient(label, words.format(label=label), detail)
    if family == _CONTENT:
        return ContentRejected(label, words.format(label=label), detail, field=field_name)
    return ContentRejected(label, f"{label} could not process the media: {status or 'no reason given'}.",
                           detail, field="media")


async def insight_figures(graph: Graph, path: str, token: Secret, ctx: Context, metrics: tuple[str, ...],
                          params: Mapping[str, str]) -> tuple[dict[str, float], dict[str, str]]:
    """The figures of `metrics` from an insights edge, and those Meta refused with its reason.

    Graph refuses a whole request when one metric/period pair is not available for the account (400, code 100),
    so the metrics are asked together first and, if that is refused, one by one (each under its other names too):
    what Meta answers is kept, the rest is "not available". Connection-wide errors are passed on."""
    try:
        body = await graph.get(path, token, ctx=ctx, params={**params, "metric": ",".join(metrics)})
        return lifetime_values(body), {}
    except PlatformError as exc:
        if must_surface(exc):
            raise
    figures: dict[str, float] = {}
    unavailable: dict[str, str] = {}
    for metric in metrics:
        for name in (metric, *METRIC_ALTERNATES.get(metric, ())):
            try:
                figures |= lifetime_values(await graph.get(path, token, ctx=ctx, params={**params, "metric": name}))
                unavailable.pop(metric, None)
                break
            except PlatformError as exc:
                if must_surface(exc):
                    raise
                unavailable.setdefault(metric, f"{ctx.label} says it is not available: {exc.detail or exc.message}")
    return figures, unavailable


def lifetime_values(body: Mapping[str, Any]) -> dict[str, float]:
    figures = {}
    for item in body.get("data") or []:
        values = item.get("values") or []
        value = values[-1].get("value") if values else (item.get("total_value") or {}).get("value")
        if isinstance(value, int | float):
            figures[item["name"]] = float(value)
    return figures

