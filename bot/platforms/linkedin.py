"""LinkedIn: a member's profile and the Company pages they administer, through LinkedIn's versioned REST API
(Posts, Images and Videos APIs; share statistics and followers for pages, post analytics for members).

Facts: shared/platforms/linkedin_x_pinterest.md §1. Every versioned call carries `LinkedIn-Version` and
`X-Restli-Protocol-Version: 2.0.0`; Rest.li 2.0 wants `List(...)` and `(key:value)` literally in the
query, with the URNs inside them percent-encoded.

Over 500 lines on purpose: one platform, one adapter module (DESIGN's adapter protocol); members' and
organisations' posts, images and videos share one upload and error contract.
"""

from __future__ import annotations

import asyncio
import dataclasses
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, time, timedelta
from urllib.parse import quote

import httpx

from bot.platforms import link_cards, oauth
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
from bot.platforms.settings import LINKEDIN_VISIBILITY, LinkedInSettings
from bot.platforms.validation import Checker, human_size
from bot.secret import Secret

API = "https://api.linkedin.com"
AUTHORIZE_URL = "https://www.linkedin.com/oauth/v2/authorization"
TOKEN_URL = "https://www.linkedin.com/oauth/v2/accessToken"

# UNCERTAIN: the newest version seen in working code. LinkedIn retires each version about a year after
# its release (the API then answers 426), so this is the one value to move forward; `python -m bot check`
# shows its end and token health warns 60 days ahead (bot/platforms/registry.py: api_version).
API_VERSION = LINKEDIN_VERSION = "202601"
RESTLI_PROTOCOL = "2.0.0"

# UNCERTAIN (third-party sources only): commentary length and how it is counted, image size, the
# multi-image count, video size and length.
COMMENTARY_MAX = 3000
IMAGE_MAX_BYTES = 5_000_000
IMAGE_MAX_PIXELS = 36_152_320  # the Images API takes fewer pixels than this
MAX_IMAGES = 20
VIDEO_MIN_BYTES = 75_000
VIDEO_MAX_BYTES = 500_000_000
# Documents API (Microsoft Learn, "Documents API", li-lms-2025-11): PPT, PPTX, DOC, DOCX and PDF, up to 100 MB and
# 300 pages; Picmim takes PDFs (Slack's file input hands over what the person attached, unconverted).
DOCUMENT_MAX_BYTES = 100_000_000  # "100 MB" (read as decimal megabytes: the safer of the two readings)
DOCUMENT_MAX_PAGES = 300
DOCUMENT_TITLE_MAX = 400  # UNCERTAIN: LinkedIn documents no limit for content.media.title; kept well within
VIDEO_PROCESSING_MAX_WAIT = 600.0  # seconds before a video still processing counts as a passing failure
# Posts API, Media/MultiImage content: "altText ... with a maximum length of 4086 characters" (Microsoft Learn).
ALT_TEXT_MAX = 4086
# The post's `visibility` Picmim offers: PUBLIC (anyone) or CONNECTIONS (a member's 1st-degree network, for a
# member author only; a Company page posts to anyone).
VISIBILITIES = tuple(value for value, _label in LINKEDIN_VISIBILITY)
POST_METRICS = ("IMPRESSION", "MEMBERS_REACHED", "RESHARE", "REACTION", "COMMENT")  # memberCreatorPostAnalytics
# memberCreatorPostAnalytics?q=entity&entity=(<key>:<urn>): the union's keys are `share` and `ugc` only; `ugcPost`
# is refused with 400 "\"ugcPost\" is not a member type of union" (shared/PLATFORMS.md, audit notes; Microsoft Learn
# "Member Post Statistics", li-lms-2025-11).
ENTITY_KEYS = {"urn:li:share:": "share", "urn:li:ugcPost:": "ugc"}
FOLLOWER_GAIN_DAYS = 30

# A comment's text: 1,250 characters is what LinkedIn's own comment box takes (UNCERTAIN: the Comments API page
# gives no maximum).
COMMENT_MAX = 1250

LIMITS = Limits(
    texts=(TextLimit("text", "commentary", COMMENTARY_MAX, Counting.UTF16),
           TextLimit("alt_text", "alt text", ALT_TEXT_MAX, Counting.UTF16),
           TextLimit("first_comment", "first comment", COMMENT_MAX, Counting.UTF16)),
    image=MediaLimits("image", ("image/jpeg", "image/png", "image/gif"), max_bytes=IMAGE_MAX_BYTES,
                      convertible_from=("image/webp", *PHONE_PHOTOS)),
    video=MediaLimits("video", ("video/mp4",), max_bytes=VIDEO_MAX_BYTES, min_duration=3, max_duration=30 * 60,
                      min_aspect=1 / 2.4, max_aspect=2.4, aspect_labels=("1:2.4", "2.4:1")),
    document=MediaLimits("document", ("application/pdf",), max_bytes=DOCUMENT_MAX_BYTES,
                         max_pages=DOCUMENT_MAX_PAGES),
    max_images=MAX_IMAGES,
    max_videos=1,
    mixed_media=False,
    # Posted through the Comments API as the post's author (w_member_social / w_organization_social, which
    # publishing already needs): POST /rest/socialActions/{post urn}/comments.
    first_comment=True,
)

ORG_ADMIN_SCOPE = "rw_organization_admin"
# Pages and analytics need LinkedIn's Community Management API product on the app (UNCERTAIN: exact bundling).
SCOPES = (
    Scope("openid", "to know which LinkedIn member connected"),
    Scope("profile", "to show your name and photo on the connection"),
    Scope("w_member_social", "to publish posts on your profile"),
    Scope("w_organization_social", "to publish posts on Company pages you administer"),
    # Share and follower statistics need rw_organization_admin (Microsoft Learn, Organization Share Statistics
    # and Follower Statistics pages, li-lms-2025-11, read 2026-11: "rw_organization_admin: Manage organizations
    # pages and retrieve reporting data", ADMINISTRATOR role); r_organization_admin is not listed there.
    Scope(ORG_ADMIN_SCOPE, "to list the Company pages you administer and read their statistics and followers"),
    Scope("r_member_postAnalytics", "to read how posts on your profile do"),
)

# Roles that may post for a page (Posts API); only administrators are offered, as the product decided.
ADMIN_ROLE = "ADMINISTRATOR"

# Little Text Format: these characters are markup in `commentary` and must be escaped to show as typed.
_RESERVED = re.compile(r"([\\|{}@\[\]()<>#*_~])")
_HASHTAG = re.compile(r"(?<![\w&])#(\w+)")


def little_text(text: str) -> str:
    """The commentary for `text`: reserved characters escaped, #words kept as hashtags."""
    out, pos = [], 0
    for match in _HASHTAG.finditer(text):
        out.append(_RESERVED.sub(r"\\\1", text[pos:match.start()]))
        out.append("{hashtag|\\#|" + _RESERVED.sub(r"\\\1", match.group(1)) + "}")
        pos = match.end()
    out.append(_RESERVED.sub(r"\\\1", text[pos:]))
    return "".join(out)


def urn(value: str) -> str:
    """A URN as Rest.li 2.0 wants it inside a query or path: percent-encoded."""
    return quote(value, safe="")


def _expiry(seconds: object) -> datetime | None:
    if seconds in (None, ""):
        return None
    return datetime.now(UTC) + timedelta(seconds=int(seconds))


def _scopes(value: object) -> tuple[str, ...]:
    return tuple(s for s in re.split(r"[,\s]+", str(value or "")) if s)


def _until_midnight_utc() -> float:
    # LinkedIn's limits are per day and reset at 00:00 UTC.
    now = datetime.now(UTC)
    midnight = datetime.combine(now.date() + timedelta(days=1), time(0), tzinfo=UTC)
    return (midnight - now).total_seconds()


async def _byte_ranges(payload: MediaPayload, ranges: list[tuple[int, int]]) -> AsyncIterator[bytes]:
    """The bytes of each (first, last) range, in order, from the streamed file."""
    buffer, offset, pending = bytearray(), 0, list(ranges)
    async for chunk in payload.read():
        buffer += chunk
        while pending and offset + len(buffer) > pending[0][1]:
            first, last = pending.pop(0)
            yield bytes(buffer[first - offset:last - offset + 1])
            del buffer[:last - offset + 1]
            offset = last + 1
    if pending:
        raise ContentRejected("LinkedIn", "The video file is shorter than it said: attach it again.",
                              f"missing bytes from {pending[0][0]}", field="media")


class LinkedInAdapter(Adapter):
    key = "linkedin"
    name = "LinkedIn"
    limits = LIMITS
    scopes = SCOPES
    uses_pkce = False
    # LinkedIn gives refresh tokens only to approved Marketing partners: connections usually last 60 days
    # (TokenSet.expires_at says when). A grant that does carry a refresh token is renewed by `refresh`.
    refreshable = False
    poll_interval: float | None = None  # seconds between video status checks (None: 3)

    # ---- OAuth -----------------------------------------------------------------------------

    def authorize_url(self, state: str, pkce: PKCE | None) -> str:
        return oauth.authorize_url(AUTHORIZE_URL, {
            "response_type": "code",
            "client_id": self.config.client_id,
            "redirect_uri": self.config.redirect_uri,
            "state": state,
            "scope": " ".join(s.name for s in self.scopes),
        })

    async def exchange_code(self, code: str, pkce: PKCE | None) -> TokenSet:
        data = await self._token_call({"grant_type": "authorization_code", "code": code,
                                       "redirect_uri": self.config.redirect_uri}, refreshing=False)
        access = Secret(data["access_token"])
        me = await self._userinfo(access)
        return TokenSet(
            access_token=access,
            external_user_id=me["sub"],
            display_name=me.get("name"),
            refresh_token=Secret(data["refresh_token"]) if data.get("refresh_token") else None,
            expires_at=_expiry(data.get("expires_in")),
            refresh_expires_at=_expiry(data.get("refresh_token_expires_in")),
            scopes=_scopes(data.get("scope")),
        )

    async def refresh(self, tokens: TokenSet) -> TokenSet:
        if tokens.refresh_token is None:
            raise TokenExpired(self.name, "LinkedIn connections last 60 days and LinkedIn does not let Picmim renew "
                                          "this one: reconnect LinkedIn before it runs out.",
                               "no refresh token (LinkedIn issues them to approved Marketing partners only)")
        data = await self._token_call({"grant_type": "refresh_token",
                                       "refresh_token": tokens.refresh_token.reveal()}, refreshing=True)
        # The refresh token keeps its first expiry; LinkedIn sends the time it has left.
        return dataclasses.replace(
            tokens,
            access_token=Secret(data["access_token"]),
            refresh_token=Secret(data["refresh_token"]) if data.get("refresh_token") else tokens.refresh_token,
            expires_at=_expiry(data.get("expires_in")),
            refresh_expires_at=_expiry(data.get("refresh_token_expires_in")) or tokens.refresh_expires_at,
            scopes=_scopes(data.get("scope")) or tokens.scopes,
        )

    async def _token_call(self, form: dict[str, str], *, refreshing: bool) -> dict:
        form = {**form, "client_id": self.config.client_id or "", "client_secret": self.config.client_secret or ""}
        response = await send(self.http, self.name, "POST", TOKEN_URL, data=form)
        body = json_or_none(response) or {}
        if response.is_success and body.get("access_token"):
            return body
        if response.status_code == 429 or response.status_code >= 500:
            raise self._error(response)
        detail = body.get("error_description") or body.get("message") or response.text[:300]
        if body.get("error") == "invalid_client" or response.status_code == 401:
            raise PlatformError(self.name, "LinkedIn refused Picmim's app credentials: an admin should check "
                                           "LINKEDIN_CLIENT_ID and LINKEDIN_CLIENT_SECRET.", detail)
        if refreshing:
            raise AccessRevoked(self.name, "LinkedIn no longer renews this connection: reconnect LinkedIn.", detail)
        raise AccessRevoked(self.name, "LinkedIn did not accept the sign-in, perhaps because it took too long: "
                                       "connect LinkedIn again.", detail)

    # ---- accounts ----------------------------------------------------------------------------

    async def _userinfo(self, token: Secret) -> dict:
        response = await self._api("GET", "/v2/userinfo", token, versioned=False)
        return response.json()

    async def list_accounts(self, tokens: TokenSet) -> list[RemoteAccount]:
        token = tokens.access_token
        me = await self._userinfo(token)
        accounts = [RemoteAccount(external_id=f"urn:li:person:{me['sub']}", kind="profile",
                                  name=me.get("name") or "LinkedIn profile", avatar_url=me.get("picture"))]
        roles = await self._organization_roles(token)
        names = await self._organization_names(token, list(roles))
        for org_id, org_roles in roles.items():
            org = names.get(org_id, {})
            refusal = None
            if ADMIN_ROLE not in org_roles:
                held = ", ".join(sorted(r.replace("_", " ").lower() for r in org_roles))
                refusal = (f"You are not an administrator of this LinkedIn page (your role: {held}). Ask one of its "
                           "admins to give you the Admin role (page admin tools → Manage admins), then refresh "
                           "your LinkedIn accounts in Picmim.")
            accounts.append(RemoteAccount(
                external_id=f"urn:li:organization:{org_id}", kind="company",
                name=org.get("localizedName") or f"LinkedIn page {org_id}", handle=org.get("vanityName"),
                settings={"roles": sorted(org_roles)}, refusal=refusal))
        return accounts

    async def _organization_roles(self, token: Secret) -> dict[str, set[str]]:
        roles: dict[str, set[str]] = {}
        start, count = 0, 100
        while True:
            response = await self._api("GET", f"/rest/organizationAcls?q=roleAssignee&state=APPROVED&start={start}"
                                              f"&count={count}", token)
            elements = response.json().get("elements") or []
            for element in elements:
                org_id = str(element.get("organization", "")).rsplit(":", 1)[-1]
                if org_id:
                    roles.setdefault(org_id, set()).add(element.get("role", ""))
            if len(elements) < count:
                return roles
            start += count

    async def _organization_names(self, token: Secret, org_ids: list[str]) -> dict[str, dict]:
        if not org_ids:
            return {}
        response = await self._api("GET", f"/rest/organizations?ids=List({','.join(org_ids)})", token)
        return {str(k): v for k, v in (response.json().get("results") or {}).items()}

    # ---- validation --------------------------------------------------------------------------

    def validate(self, account: AccountRef, draft: Draft) -> list[Problem]:
        checker = Checker(self.name, account.name, self.limits)
        checker.check(draft)
        for m in draft.media:
            name = m.filename or f"this {m.kind}"
            if m.kind == "image" and m.width and m.height and m.width * m.height >= IMAGE_MAX_PIXELS:
                checker.add("media", f"LinkedIn takes images under 36 megapixels; {name} is {m.width}×{m.height}: "
                                     "attach a smaller one.")
            if m.kind == "video" and m.size_bytes < VIDEO_MIN_BYTES:
                checker.add("media", f"LinkedIn needs videos of at least {human_size(VIDEO_MIN_BYTES)}; {name} is "
                                     f"{human_size(m.size_bytes)}: attach a longer or better-quality one.")
        if any(m.kind == "document" for m in draft.media):
            title = _document_title(draft)
            if not title.strip():
                checker.add("document_title", "LinkedIn shows a document post with its title: add a Document "
                                              "title.")
            elif len(title) > DOCUMENT_TITLE_MAX:
                checker.add("document_title", f"Picmim takes document titles up to {DOCUMENT_TITLE_MAX} "
                                              f"characters; this one has {len(title)}: shorten it.")
        if draft.link and draft.media:
            checker.add("media", "LinkedIn shows either a link preview or photos and videos, not both: remove the "
                                 "link (or put it in the text), or remove the media.")
        if not (draft.text or "").strip() and not draft.media and not draft.link:
            checker.add("text", "LinkedIn needs some text, a link, or a photo or video: write something.")
        visibility = _visibility(draft)
        if visibility not in VISIBILITIES:
            checker.add("visibility", "LinkedIn posts go to anyone, or to your connections only: choose one.")
        elif visibility == "CONNECTIONS" and _is_organization(account):
            checker.add("visibility", "Company pages post to anyone: Connections only is for profiles.")
        return checker.problems

    # ---- publishing --------------------------------------------------------------------------

    async def publish(self, account: AccountRef, draft: Draft, media: list[MediaPayload]) -> PublishResult:
        token = account.publish_token
        author = account.external_id
        body: dict = {
            "author": author,
            "commentary": little_text(draft.text or ""),
            "visibility": _visibility(draft),
            "distribution": {"feedDistribution": "MAIN_FEED", "targetEntities": [],
                             "thirdPartyDistributionChannels": []},
            "lifecycleState": "PUBLISHED",
            "isReshareDisabledByAuthor": False,
        }
        images = [p for p in media if p.facts.kind == "image"]
        videos = [p for p in media if p.facts.kind == "video"]
        warnings: list[str] = []
        documents = [p for p in media if p.facts.kind == "document"]
        if documents:
            # A document post: LinkedIn shows its pages as a carousel people swipe through, under its title.
            document_urn = await self._upload_document(account, token, documents[0])
            body["content"] = {"media": {"id": document_urn, "title": _document_title(draft)}}
        elif videos:
            video_urn = await self._upload_video(account, token, videos[0])
            body["content"] = {"media": {"id": video_urn, **({"title": draft.title} if draft.title else {})}}
        elif len(images) == 1:
            image_urn = await self._upload_image(account, token, images[0])
            body["content"] = {"media": {"id": image_urn, **_alt(images[0])}}
        elif images:
            uploaded = [{"id": await self._upload_image(account, token, p), **_alt(p)} for p in images]
            body["content"] = {"multiImage": {"images": uploaded}}
        elif draft.link:
            article = {"source": draft.link, "title": draft.title or draft.link}
            if draft.description:
                article["description"] = draft.description
            body["content"] = {"article": article}
        elif link := link_cards.first_link(draft.text):
            article, warnings = await self._article(account, token, link)
            if article:
                body["content"] = {"article": article}
        response = await self._api("POST", "/rest/posts", token, account=account, json=body, creates=True)
        post_urn = response.headers.get("x-restli-id") or response.headers.get("x-linkedin-id", "")
        if draft.first_comment:
            try:
                await self._comment(account, token, post_urn, draft.first_comment)
            except PlatformError as exc:  # the post is live: never resent for its comment
                warnings.append(f"The post is live, but its first comment could not be added: {exc.message}")
        return PublishResult(remote_id=post_urn, url=f"https://www.linkedin.com/feed/update/{post_urn}/",
                             warnings=tuple(warnings))

    async def _comment(self, account: AccountRef, token: Secret, post_urn: str, text: str) -> None:
        """The post's first comment, by its author (Comments API: learn.microsoft.com/linkedin/marketing/
        community-management/shares/comments-api, "Create a Comment")."""
        await self._api("POST", f"/rest/socialActions/{urn(post_urn)}/comments", token, account=account,
                        json={"actor": account.external_id, "object": post_urn, "message": {"text": text}},
                        creates=True, field="first_comment")

    async def _article(self, account: AccountRef, token: Secret, link: str) -> tuple[dict | None, list[str]]:
        """The text's first link as a link post (Posts API content.article): the page's title and description, its
        picture uploaded through the Images API as the thumbnail. A page that cannot be read leaves a text post
        with the link in it (said, not fatal): LinkedIn shows no preview for an article the API does not describe."""
        try:
            card = await link_cards.fetch_card(self.http, link)
        except link_cards.LinkRefused as exc:
            return None, [f"Posted without a link preview: {exc}"]
        article: dict[str, str] = {"source": link, "title": card.title}
        if card.description:
            article["description"] = card.description
        warnings: list[str] = []
        if card.image_url:
            try:
                data, _kind = await link_cards.fetch_image(self.http, card.image_url)
                data, kind = await asyncio.to_thread(link_cards.shrunk, data, IMAGE_MAX_BYTES)
            except link_cards.LinkRefused as exc:
                warnings.append(f"The link preview went without its picture: {exc}")
            else:
                article["thumbnail"] = await self._upload_image_bytes(account, token, data, kind)
        return article, warnings

    async def _upload_image(self, account: AccountRef, token: Secret, payload: MediaPayload) -> str:
        data = b"".join([chunk async for chunk in payload.read()])
        return await self._upload_image_bytes(account, token, data, payload.facts.mimetype)

    async def _upload_image_bytes(self, account: AccountRef, token: Secret, data: bytes, mimetype: str) -> str:
        response = await self._api("POST", "/rest/images?action=initializeUpload", token, account=account,
                                   field="media", json={"initializeUploadRequest": {"owner": account.external_id}})
        value = response.json()["value"]
        await self._api("PUT", value["uploadUrl"], token, account=account, field="media", versioned=False,
                        content=data, headers={"Content-Type": mimetype})
        return value["image"]

    async def _upload_document(self, account: AccountRef, token: Secret, payload: MediaPayload) -> str:
        """Documents API: initializeUpload, PUT the file to the upload URL, wait until LinkedIn has it."""
        response = await self._api("POST", "/rest/documents?action=initializeUpload", token, account=account,
                                   field="media", json={"initializeUploadRequest": {"owner": account.external_id}})
        value = response.json()["value"]
        data = b"".join([chunk async for chunk in payload.read()])
        await self._api("PUT", value["uploadUrl"], token, account=account, field="media", versioned=False,
                        content=data, headers={"Content-Type": payload.facts.mimetype})
        await self._wait_until_available(account, token, value["document"], "documents")
        return value["document"]

    async def _upload_video(self, account: AccountRef, token: Secret, payload: MediaPayload) -> str:
        response = await self._api("POST", "/rest/videos?action=initializeUpload", token, account=account,
                                   field="media", json={"initializeUploadRequest": {
                                       "owner": account.external_id, "fileSizeBytes": payload.facts.size_bytes,
                                       "uploadCaptions": False, "uploadThumbnail": False}})
        value = response.json()["value"]
        instructions = sorted(value["uploadInstructions"], key=lambda i: i["firstByte"])
        ranges = [(i["firstByte"], i["lastByte"]) for i in instructions]
        part_ids = []
        parts = _byte_ranges(payload, ranges)
        for instruction in instructions:
            part = await anext(parts)
            uploaded = await self._api("PUT", instruction["uploadUrl"], token, account=account, field="media",
                                       versioned=False, content=part,
                                       headers={"Content-Type": "application/octet-stream"})
            part_ids.append(uploaded.headers.get("etag", ""))
        video_urn = value["video"]
        await self._api("POST", "/rest/videos?action=finalizeUpload", token, account=account, field="media",
                        json={"finalizeUploadRequest": {"video": video_urn, "uploadToken": value.get("uploadToken", ""),
                                                        "uploadedPartIds": part_ids}})
        await self._wait_until_available(account, token, video_urn)
        return video_urn

    async def _wait_until_available(self, account: AccountRef, token: Secret, video_urn: str,
                                    kind: str = "videos") -> None:
        pause = 3.0 if self.poll_interval is None else self.poll_interval
        waited = 0.0
        while True:
            response = await self._api("GET", f"/rest/{kind}/{urn(video_urn)}", token, account=account,
                                       field="media")
            status = response.json().get("status")
            if status == "AVAILABLE":
                return
            if status == "PROCESSING_FAILED" and kind == "documents":
                reason = response.json().get("processingFailureReason")
                raise ContentRejected(self.name, "LinkedIn could not open this PDF: check that it opens, then attach "
                                                 "it again.", reason, field="media")
            if status == "PROCESSING_FAILED":
                reason = response.json().get("processingFailureReason")
                raise ContentRejected(self.name, "LinkedIn could not process this video: check that it plays and is "
                                                 "an MP4, then attach it again.", reason, field="media")
            if waited >= VIDEO_PROCESSING_MAX_WAIT:
                what = "document" if kind == "documents" else "video"
                raise Transient(self.name, f"LinkedIn is still processing the {what}; Picmim will try again.",
                                f"{video_urn} still {status}")
            await asyncio.sleep(pause)
            waited += max(pause, 1.0)  # at least a second per check, so a zero pause still ends

    # ---- metrics -----------------------------------------------------------------------------

    async def fetch_metrics(self, account: AccountRef, remote_ids: list[str]) -> Metrics:
        if account.kind == "company":
            return await self._page_metrics(account, remote_ids)
        return await self._member_metrics(account, remote_ids)

    async def _page_metrics(self, account: AccountRef, remote_ids: list[str]) -> Metrics:
        token, org = account.publish_token, account.external_id
        base = f"/rest/organizationalEntityShareStatistics?q=organizationalEntity&organizationalEntity={urn(org)}"
        response = await self._api("GET", base, token, account=account)
        figures: dict[str, float] = {}
        for element in response.json().get("elements") or []:
            figures.update(element.get("totalShareStatistics") or {})
        response = await self._api("GET", f"/rest/networkSizes/{urn(org)}?edgeType=COMPANY_FOLLOWED_BY_MEMBER",
                                   token, account=account)
        figures["followerCount"] = response.json().get("firstDegreeSize", 0)
        end = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
        start = end - timedelta(days=FOLLOWER_GAIN_DAYS)
        interval = (f"(timeRange:(start:{int(start.timestamp() * 1000)},end:{int(end.timestamp() * 1000)}),"
                    "timeGranularityType:DAY)")
        response = await self._api("GET", f"/rest/organizationalEntityFollowerStatistics?q=organizationalEntity"
                                          f"&organizationalEntity={urn(org)}&timeIntervals={interval}",
                                   token, account=account)
        for key in ("organicFollowerGain", "paidFollowerGain"):
            figures[key] = sum((e.get("followerGains") or {}).get(key, 0)
                               for e in response.json().get("elements") or [])
        posts: dict[str, dict[str, float]] = {}
        shares = [r for r in remote_ids if r.startswith("urn:li:share:")]
        ugc_posts = [r for r in remote_ids if r.startswith("urn:li:ugcPost:")]
        lists = "".join(f"&{name}=List({','.join(urn(i) for i in ids)})"
                        for name, ids in (("shares", shares), ("ugcPosts", ugc_posts)) if ids)
        if lists:
            response = await self._api("GET", base + lists, token, account=account)
            for element in response.json().get("elements") or []:
                post = element.get("share") or element.get("ugcPost")
                if post:
                    posts[post] = dict(element.get("totalShareStatistics") or {})
        return Metrics(account=figures, posts=posts)

    async def _member_metrics(self, account: AccountRef, remote_ids: list[str]) -> Metrics:
        token = account.publish_token

        async def total(finder: str, metric: str) -> float:
            response = await self._api("GET", f"/rest/memberCreatorPostAnalytics?{finder}&queryType={metric}"
                                              "&aggregation=TOTAL", token, account=account)
            return sum(e.get("count", 0) for e in response.json().get("elements") or [])

        figures = {metric: await total("q=me", metric) for metric in POST_METRICS}
        posts = {}
        for post in remote_ids:
            key = next((k for prefix, k in ENTITY_KEYS.items() if post.startswith(prefix)), "share")
            entity = f"q=entity&entity=({key}:{urn(post)})"
            try:
                posts[post] = {metric: await total(entity, metric) for metric in POST_METRICS}
            except PlatformError as exc:
                if _must_surface(exc):
                    raise
                # One post LinkedIn will not give figures for (deleted, not the member's): its figures are absent.
        return Metrics(account=figures, posts=posts)

        return Metrics(account=figures, posts=posts)

    # ---- HTTP and errors ---------------------------------------------------------------------

    async def _api(self, method: str, path_or_url: str, token: Secret, *, account: AccountRef | None = None,
                   versioned: bool = True, creates: bool = False, field: str = "text",
                   headers: dict[str, str] | None = None, **kwargs) -> httpx.Response:
        url = path_or_url if path_or_url.startswith("https://") else API + path_or_url
        sent_headers = {"Authorization": f"Bearer {token.reveal()}", **(headers or {})}
        if versioned:
            sent_headers |= {"LinkedIn-Version": LINKEDIN_VERSION, "X-Restli-Protocol-Version": RESTLI_PROTOCOL}
        response = await send(self.http, self.name, method, url, creates=creates, headers=sent_headers, **kwargs)
        if response.is_success:
            return response
        error = self._error(response, account=account, field=field)
        if response.status_code == 403 and account is not None and account.kind == "company":
            error = await self._page_refusal(account, token, error)
        raise error

    async def _page_refusal(self, account: AccountRef, token: Secret, error: PlatformError) -> PlatformError:
        """A page's 403 names the missing thing: the Admin role (the member's roles no longer have it) or the
        permission (the member is still an administrator, so the grant lacks rw_organization_admin, e.g. one
        made when Picmim asked for r_organization_admin)."""
        org_id = account.external_id.rsplit(":", 1)[-1]
        try:
            roles = (await self._organization_roles(token)).get(org_id, set())
        except AccessRevoked:
            roles = {ADMIN_ROLE}  # the grant cannot even list pages: the permission is what is missing
        except PlatformError:
            return error
        if ADMIN_ROLE not in roles:
            return error
        return AccessRevoked(self.name, f"LinkedIn did not give Picmim the permission to post for or read the "
                                        f"statistics of {account.name} ({ORG_ADMIN_SCOPE}): reconnect LinkedIn and "
                                        "allow everything Picmim asks for.", error.detail,
                             reason=RevokeReason.PERMISSION_REMOVED)

    def _error(self, response: httpx.Response, *, account: AccountRef | None = None,
               field: str = "text") -> PlatformError:
        status = response.status_code
        body = json_or_none(response) or {}
        detail = body.get("message") or body.get("error_description") or response.text[:300] or response.reason_phrase
        code = str(body.get("code") or "")
        service_code = body.get("serviceErrorCode")
        if status == 401:
            if service_code == 65601 or code == "REVOKED_ACCESS_TOKEN":
                return AccessRevoked(self.name, "LinkedIn says this connection was withdrawn: reconnect LinkedIn.",
                                     detail, reason=RevokeReason.APP_REMOVED)
            return TokenExpired(self.name, "The LinkedIn connection has run out: reconnect LinkedIn.", detail)
        if status == 403:
            if account is not None and account.kind == "company":
                return AccessRevoked(self.name, f"LinkedIn does not let you post or read statistics for "
                                                f"{account.name}: ask one of its page admins to give you the Admin "
                                                "role, then reconnect LinkedIn.", detail,
                                     reason=RevokeReason.ADMIN_RIGHTS_LOST)
            return AccessRevoked(self.name, "LinkedIn no longer lets Picmim do this for your profile: reconnect "
                                            "LinkedIn and allow everything Picmim asks for.", detail,
                                 reason=RevokeReason.PERMISSION_REMOVED)
        if status == 429:
            retry_after = retry_after_seconds(response.headers)
            if retry_after is None:
                retry_after = _until_midnight_utc()
            return RateLimited(self.name, "LinkedIn's daily limit for Picmim is reached; the post waits until it "
                                          "resets at midnight UTC.", detail, retry_after)
        if status == 426:
            return PlatformError(self.name, "LinkedIn no longer accepts the API version Picmim uses: an admin "
                                            "should update Picmim.", detail)
        if status >= 500:
            return Transient(self.name, "LinkedIn is having trouble right now; Picmim will try again.", detail)
        if status in (400, 404, 409, 413, 415, 422):
            lowered = detail.lower()
            if "duplicate" in lowered:
                return ContentRejected(self.name, "LinkedIn does not allow posting the same text twice: change the "
                                                  "text.", detail, field="text")
            if "/visibility" in lowered:
                return ContentRejected(self.name, "LinkedIn refused who can see this post: Company pages post to "
                                                  "anyone, and Connections only is for profiles.", detail,
                                       field="visibility")
            if "alttext" in lowered:
                return ContentRejected(self.name, f"LinkedIn takes alt text up to {ALT_TEXT_MAX:,} characters: "
                                                  "shorten it.", detail, field="alt_text")
            if "commentary" in lowered:
                return ContentRejected(self.name, "LinkedIn refused the text of this post: shorten or change it "
                                                  "using LinkedIn's reason below.", detail, field="text")
            if field == "media" or "image" in lowered or "video" in lowered or "media" in lowered:
                return ContentRejected(self.name, "LinkedIn refused an attachment: check its type and size, then "
                                                  "attach it again.", detail, field="media")
            return ContentRejected(self.name, "LinkedIn refused this post: change it using LinkedIn's reason "
                                              "below.", detail, field=field)
        return PlatformError(self.name, "LinkedIn answered in a way Picmim does not understand.", f"{status}: {detail}")


def _must_surface(exc: PlatformError) -> bool:
    """Errors about the whole connection, passed on rather than leaving out one post's figures."""
    if isinstance(exc, AccessRevoked):
        return exc.reason is RevokeReason.APP_REMOVED
    return isinstance(exc, RateLimited | TokenExpired | Transient)


def _visibility(draft: Draft) -> str:
    settings = draft.settings
    return settings.visibility if isinstance(settings, LinkedInSettings) else "PUBLIC"


def _document_title(draft: Draft) -> str:
    settings = draft.settings
    return settings.document_title if isinstance(settings, LinkedInSettings) else ""


def _is_organization(account: AccountRef) -> bool:
    return account.kind == "company" or account.external_id.startswith("urn:li:organization:")


def _alt(payload: MediaPayload) -> dict[str, str]:
    return {"altText": payload.facts.alt_text} if payload.facts.alt_text else {}


ADAPTER = LinkedInAdapter
