"""Bluesky: atproto OAuth, posts with link, mention and tag facets, up to 4 images (or one video) through
blob upload, and post metrics.

Connecting needs the user's handle before anything else, because the handle decides which server signs
them in. So the flow differs from the other platforms:

1. `await adapter.begin_authorization(handle, state, pkce)` resolves handle → DID → PDS → authorization
   server, makes a DPoP key, pushes the authorization request (PAR) and returns `(url, started)`.
   Keep `started` with the OAuth state (it holds the DPoP private key: store it encrypted).
   The protocol's `authorize_url(state, pkce)` cannot do this and raises `HandleNeeded`.
2. On the callback: `await adapter.exchange_code(code, pkce, started, iss=request's iss)`.
   The TokenSet's `extra` keeps the DPoP key, the PDS and the auth server's endpoints; hand it to
   `publish`/`fetch_metrics` as `AccountRef.extra`.

Our client metadata document (`client_metadata(public_url)`) is served at
`PUBLIC_URL/oauth/bluesky/client-metadata.json`; its URL is our client_id. Picmim is a confidential client:
PAR and token requests carry a client assertion signed with our key (bluesky_keys; public halves at
`PUBLIC_URL/oauth/bluesky/jwks.json`), and `extra["client_kid"]` names the key a session is bound to.
Every request to the auth server and the PDS carries a DPoP proof; the servers' nonces are kept per origin
in memory.

Text is measured in grapheme clusters (the `regex` package's `\\X`) and UTF-8 bytes; facets point at
UTF-8 byte ranges. Links are detected when they start with http:// or https://; mentions (@handle) are
linked only when the handle resolves to a DID.

Over 500 lines on purpose: one platform, one adapter module (DESIGN's adapter protocol); handles, blobs,
facets, embeds and the PDS's answers are one publishing contract (the OAuth client is bluesky_oauth.py).
"""

from __future__ import annotations

import asyncio
import dataclasses
import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import regex

from bot.platforms import bluesky_keys, link_cards, oauth, threads
from bot.platforms import bluesky_oauth as atoauth
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
from bot.platforms.http_calls import json_answer, json_or_none, retry_after_seconds, send
from bot.platforms.settings import BlueskySettings
from bot.platforms.validation import Checker, count_text
from bot.secret import Secret

NAME = "Bluesky"
# atproto has no API version: its lexicons evolve compatibly. The records written here follow the lexicons as
# of this date (bluesky-social/atproto lexicons/ at d6296a1c, 2026-08-20; tests/schemas/atproto/).
API_VERSION = "lexicons as of 2026-08-20"
SCOPE = "atproto transition:generic"
APPVIEW_PROXY = "did:web:api.bsky.app#bsky_appview"  # PDS forwards app.bsky.* reads to Bluesky's AppView
CLIENT_METADATA_PATH = "/oauth/bluesky/client-metadata.json"
JWKS_PATH = "/oauth/bluesky/jwks.json"

TEXT_MAX_GRAPHEMES = 300
TEXT_MAX_BYTES = 3000
IMAGE_MAX_BYTES = 2_000_000  # "up to 2 MB, formerly 1 MB": older PDSes may still refuse over 1,000,000
VIDEO_MAX_BYTES = 300_000_000  # UNCERTAIN whether the AppView plays a video not sent through video.bsky.app
MAX_IMAGES = 4
# A link card's picture (app.bsky.embed.external thumb): image/*, maxSize 1,000,000 bytes in the lexicon.
THUMB_MAX_BYTES = 1_000_000
TAG_MAX_GRAPHEMES = 64
# Alt text. An image's `alt` (app.bsky.embed.images) has no length in the lexicon; Bluesky's own app stops at
# 2,000 characters as JavaScript counts them (bluesky-social/social-app src/lib/constants.ts MAX_ALT_TEXT), so
# Picmim keeps to that. A video's `alt` (app.bsky.embed.video) is maxGraphemes 1,000 and maxLength 10,000 bytes.
IMAGE_ALT_MAX = 2000
VIDEO_ALT_MAX_GRAPHEMES = 1000
VIDEO_ALT_MAX_BYTES = 10_000

IMAGE = MediaLimits(kind="image", mimetypes=("image/jpeg", "image/png", "image/webp"), max_bytes=IMAGE_MAX_BYTES,
                    scalable=True, convertible_from=("image/gif", "image/bmp", "image/tiff", *PHONE_PHOTOS))
VIDEO = MediaLimits(kind="video", mimetypes=("video/mp4",), max_bytes=VIDEO_MAX_BYTES)

GRAPHEME = regex.compile(r"\X")
URL = re.compile(r"(?:^|(?<=[\s(]))(https?://[^\s<>\"]+)", re.IGNORECASE)
MENTION = re.compile(r"(?:^|(?<=[\s(]))@(([a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?\.)+[a-zA-Z]"
                     r"([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)\b")
TAG = re.compile(r"(?:^|(?<=\s))[#＃]([^\s#＃]*[^\d\s!-/:-@\[-`{-~][^\s#＃]*)")
TRAILING = ".,;:!?'\""


def _post_url(who: str, uri: str) -> str | None:
    rkey = uri.rsplit("/", 1)[-1]
    return f"https://bsky.app/profile/{who}/post/{rkey}" if rkey else None


class HandleNeeded(ValueError):
    """Bluesky's sign-in starts from the user's handle: use `begin_authorization`."""


def client_metadata(public_url: str) -> dict[str, Any]:
    """Our atproto OAuth client metadata document; its own URL is the client_id. A confidential client
    (atproto OAuth spec, "Client ID Metadata Document"): `private_key_jwt` with ES256 and our public keys
    at `jwks_uri` (bluesky_keys)."""
    public_url = public_url.rstrip("/")
    return {
        "client_id": f"{public_url}{CLIENT_METADATA_PATH}",
        "client_name": "Picmim for Slack",
        "client_uri": public_url,
        "redirect_uris": [f"{public_url}/oauth/bluesky/callback"],
        "scope": SCOPE,
        "grant_types": ["authorization_code", "refresh_token"],
        "response_types": ["code"],
        "application_type": "web",
        "token_endpoint_auth_method": "private_key_jwt",
        "token_endpoint_auth_signing_alg": bluesky_keys.ALG,
        "jwks_uri": f"{public_url}{JWKS_PATH}",
        "dpop_bound_access_tokens": True,
    }


def count(text: str, counting: Counting) -> int:
    """Exact grapheme clusters for Bluesky's 300; everything else as the shared counter does."""
    if counting is Counting.GRAPHEMES:
        return len(GRAPHEME.findall(text))
    return count_text(text, counting)


def post_text(draft: Draft) -> str:
    """The text that goes out: the draft's link is added at the end when the text does not have it."""
    text = draft.text or ""
    if draft.link and draft.link not in text:
        text = f"{text}\n\n{draft.link}" if text else draft.link
    return text


def thread_texts(draft: Draft) -> list[str]:
    """One post's text, or a thread's parts when the author chose a thread and the text is too long for one."""
    text = post_text(draft)
    settings = draft.settings
    if isinstance(settings, BlueskySettings) and settings.thread:
        def fits(t: str) -> int:  # graphemes, unless the bytes are what runs out first
            return max(count(t, Counting.GRAPHEMES), -(-count(t, Counting.BYTES) * TEXT_MAX_GRAPHEMES
                                                      // TEXT_MAX_BYTES))
        return threads.split(text, TEXT_MAX_GRAPHEMES, fits, settings.numbered) or [text]
    return [text]


def _byte_range(text: str, start: int, end: int) -> dict[str, int]:
    return {"byteStart": len(text[:start].encode()), "byteEnd": len(text[:end].encode())}


def _trim(value: str) -> str:
    value = value.rstrip(TRAILING)
    if value.endswith(")") and "(" not in value:
        value = value[:-1]
    return value


def find_links_and_tags(text: str) -> list[dict]:
    """Link and tag facets (mentions need a look-up: see `mention_spans`)."""
    facets = []
    for match in URL.finditer(text):
        uri = _trim(match.group(1))
        start = match.start(1)
        facets.append({"index": _byte_range(text, start, start + len(uri)),
                       "features": [{"$type": "app.bsky.richtext.facet#link", "uri": uri}]})
    for match in TAG.finditer(text):
        tag = _trim(match.group(1))
        if not tag or len(GRAPHEME.findall(tag)) > TAG_MAX_GRAPHEMES:
            continue
        start = match.start(1) - 1  # the facet covers the '#'
        facets.append({"index": _byte_range(text, start, start + 1 + len(tag)),
                       "features": [{"$type": "app.bsky.richtext.facet#tag", "tag": tag}]})
    return facets


def mention_spans(text: str) -> list[tuple[str, int, int]]:
    """(handle, start, end) of each @handle, in characters; the span covers the '@'."""
    return [(m.group(1).lower(), m.start(), m.end()) for m in MENTION.finditer(text)]


# ---- XRPC answers as the error family -------------------------------------------------------------------


def xrpc_error(response: httpx.Response) -> PlatformError:
    body = json_or_none(response) or {}
    error = str(body.get("error") or "")
    detail = f"{response.status_code} {error}: {body.get('message') or body.get('error_description') or ''}"
    detail = detail.strip().rstrip(":")
    status = response.status_code
    if status == 429 or error == "RateLimitExceeded":
        return RateLimited(NAME, "Bluesky is receiving too many posts from this account; Picmim will try again "
                                 "when it allows.", detail,
                           retry_after=retry_after_seconds(response.headers, "ratelimit-reset"))
    if status >= 500 or error == "use_dpop_nonce":  # a nonce refused even after answering the challenge
        return Transient(NAME, "Bluesky had a problem on its side; Picmim will try again.", detail)
    if error in ("AccountTakedown", "AccountDeactivated", "AccountSuspended"):
        return AccessRevoked(NAME, "Bluesky has taken down or deactivated this account.", detail,
                             reason=RevokeReason.CHECKPOINT)
    if status == 401 or error in ("ExpiredToken", "InvalidToken", "invalid_token"):
        return TokenExpired(NAME, "Bluesky's sign-in for this account has lapsed.", detail)
    if status == 403:
        return AccessRevoked(NAME, "This Bluesky connection lacks a permission Picmim needs: connect Bluesky "
                                   "again.", detail, reason=RevokeReason.PERMISSION_REMOVED)
    message = str(body.get("message") or "")
    if re.search(r"/alt\b", message):
        return ContentRejected(NAME, "Bluesky refused an alt text: shorten it (a video's takes up to "
                                     f"{VIDEO_ALT_MAX_GRAPHEMES:,} characters).", detail, field="alt_text")
    if status == 413 or error in ("BlobTooLarge", "PayloadTooLarge") or "embed" in message:
        return ContentRejected(NAME, "Bluesky refused an attachment: images up to 2 MB (4 per post), videos MP4 "
                                     "up to 300 MB.", detail, field="media")
    return ContentRejected(NAME, "Bluesky refused the post: it takes up to 300 characters and 3,000 bytes.",
                           detail, field="text")


def _xrpc_answer(response: httpx.Response) -> dict:
    return json_answer(response, NAME, xrpc_error)


def _token_answer(response: httpx.Response, refreshing: bool) -> dict:
    body = json_or_none(response) or {}
    if response.status_code >= 500:
        raise Transient(NAME, "Bluesky's sign-in server had a problem; Picmim will try again.",
                        f"HTTP {response.status_code}")
    if response.status_code == 429:
        raise RateLimited(NAME, "Bluesky's sign-in server is busy; Picmim will try again shortly.", "429",
                          retry_after=retry_after_seconds(response.headers, "ratelimit-reset"))
    if response.status_code >= 400 or not body.get("access_token"):
        detail = f"{body.get('error') or response.status_code}: {body.get('error_description') or ''}".strip(": ")
        if body.get("error") == "use_dpop_nonce":
            raise Transient(NAME, "Bluesky's sign-in server kept refusing Picmim's proof; Picmim will try again.",
                            detail)
        if refreshing:
            raise AccessRevoked(NAME, "Bluesky no longer accepts Picmim's access to this account (sessions end "
                                      "after a while): connect Bluesky again.", detail)
        raise AccessRevoked(NAME, "Bluesky did not accept the sign-in (it may have taken too long): connect "
                                  "Bluesky again.", detail)
    if str(body.get("token_type", "")).lower() != "dpop" or "atproto" not in str(body.get("scope", "")).split():
        raise AccessRevoked(NAME, "Bluesky's sign-in server answered in a way Picmim cannot use.",
                            f"token_type {body.get('token_type')}, scope {body.get('scope')}")
    return body


# ---- the adapter ----------------------------------------------------------------------------------------


class BlueskyAdapter(Adapter):
    key = "bluesky"
    name = NAME
    limits = Limits(
        texts=(TextLimit("text", "post", TEXT_MAX_GRAPHEMES, Counting.GRAPHEMES),
               TextLimit("text", "post", TEXT_MAX_BYTES, Counting.BYTES),
               TextLimit("first_comment", "first comment", TEXT_MAX_GRAPHEMES, Counting.GRAPHEMES)),
        image=IMAGE, video=VIDEO, max_images=MAX_IMAGES, max_videos=1,
        first_comment=True,  # a reply by the same account (app.bsky.feed.post with reply.root and reply.parent)
    )
    scopes = (
        Scope("atproto", "Signs Picmim in to your Bluesky account."),
        Scope("transition:generic", "Publishes posts with images, and reads their likes, reposts, replies and "
                                    "quotes for analytics."),
    )
    uses_pkce = True
    refreshable = True

    def __init__(self, config, http: httpx.AsyncClient):
        super().__init__(config, http)
        self.dpop = atoauth.DPoPClient(http)

    @property
    def client_id(self) -> str:
        return client_metadata(self.config.public_url)["client_id"]

    # ---- OAuth ------------------------------------------------------------------------------------

    def authorize_url(self, state: str, pkce: PKCE | None) -> str:
        raise HandleNeeded("Bluesky needs the user's handle first: call begin_authorization(handle, state, pkce).")

    async def begin_authorization(self, handle: str, state: str, pkce: PKCE) -> tuple[str, dict[str, Any]]:
        """Resolve the handle to its sign-in server and push the authorization request there. Returns the
        URL to send the browser to, and what `exchange_code` needs later (secret: store it encrypted)."""
        identity = await atoauth.resolve_identity(self.http, handle)
        server = await atoauth.discover_auth_server(self.http, identity.pds)
        key = atoauth.new_dpop_key()
        client_kid = self.client_keys.current  # new sessions begin with the current client key
        form = {"client_id": self.client_id, "response_type": "code", "redirect_uri": self.config.redirect_uri,
                "scope": SCOPE, "state": state, "code_challenge": pkce.challenge,
                "code_challenge_method": pkce.method, "login_hint": identity.handle,
                **self.client_keys.form(self.client_id, server.issuer, client_kid)}
        response = await self.dpop.request("POST", server.par_endpoint, key, data=form)
        body = json_or_none(response) or {}
        if response.status_code >= 500:
            raise Transient(NAME, "Bluesky's sign-in server had a problem; Picmim will try again.",
                            f"PAR: HTTP {response.status_code}")
        if response.status_code >= 400 or not body.get("request_uri"):
            raise AccessRevoked(NAME, "Bluesky's sign-in server refused to start the sign-in: an admin checks "
                                      "that PUBLIC_URL serves Picmim's client metadata over HTTPS.",
                                f"PAR: {body.get('error') or response.status_code}: "
                                f"{body.get('error_description') or ''}")
        url = oauth.authorize_url(server.authorization_endpoint,
                                  {"client_id": self.client_id, "request_uri": body["request_uri"]})
        started = {"did": identity.did, "handle": identity.handle, "pds": identity.pds, "issuer": server.issuer,
                   "token_endpoint": server.token_endpoint, "revocation_endpoint": server.revocation_endpoint,
                   "dpop_private_jwk": atoauth.dpop_key_to_jwk(key), "client_kid": client_kid}
        return url, started

    async def exchange_code(self, code: str, pkce: PKCE | None, started: Mapping[str, Any] | None = None,
                            iss: str | None = None) -> TokenSet:
        if started is None or pkce is None:
            raise HandleNeeded("Bluesky's exchange_code needs the PKCE and what begin_authorization returned.")
        if iss is not None and iss.rstrip("/") != str(started["issuer"]).rstrip("/"):
            raise AccessRevoked(NAME, "The Bluesky sign-in came back from a different server than it started "
                                      "at: connect Bluesky again.", f"iss {iss} != {started['issuer']}")
        key = atoauth.dpop_key_from_jwk(started["dpop_private_jwk"])
        form = {"grant_type": "authorization_code", "code": code, "redirect_uri": self.config.redirect_uri,
                "client_id": self.client_id, "code_verifier": pkce.verifier,
                **self._client_auth(started)}
        response = await self.dpop.request("POST", started["token_endpoint"], key, data=form)
        body = _token_answer(response, refreshing=False)
        if body.get("sub") != started["did"]:
            # The account that signed in must be the one whose server we asked.
            raise AccessRevoked(NAME, f"Bluesky signed in a different account than @{started['handle']}: connect "
                                      "Bluesky again with the account you mean.", f"sub {body.get('sub')}")
        return self._token_set(body, dict(started), None)

    async def refresh(self, tokens: TokenSet) -> TokenSet:
        if tokens.refresh_token is None or "dpop_private_jwk" not in tokens.extra:
            raise AccessRevoked(NAME, "This Bluesky connection cannot renew itself: connect Bluesky again.")
        key = atoauth.dpop_key_from_jwk(tokens.extra["dpop_private_jwk"])
        extra = dict(tokens.extra)
        # A session made before Picmim authenticated itself has no client key: the auth server lets it go
        # on as a confidential one (@atproto/oauth-provider client-auth-check.ts), bound from now on to the
        # current key. Our metadata says private_key_jwt, so a request without an assertion is refused.
        extra.setdefault("client_kid", self.client_keys.current)
        form = {"grant_type": "refresh_token", "refresh_token": tokens.refresh_token.reveal(),
                "client_id": self.client_id, **self._client_auth(extra)}
        response = await self.dpop.request("POST", tokens.extra["token_endpoint"], key, data=form)
        body = _token_answer(response, refreshing=True)
        if body.get("sub") and body["sub"] != tokens.external_user_id:
            raise AccessRevoked(NAME, "Bluesky renewed the sign-in for a different account: connect Bluesky again.",
                                f"sub {body['sub']}")
        return self._token_set(body, extra, tokens)

    @property
    def client_keys(self) -> bluesky_keys.ClientKeys:
        return bluesky_keys.installed()

    def _client_auth(self, session: Mapping[str, Any]) -> dict[str, str]:
        """The client assertion for a session's token request, signed with the key the session began with
        (the auth server binds the session to it: atproto OAuth spec, "Tokens and Session Lifetime")."""
        kid = session.get("client_kid") or self.client_keys.current
        if kid not in self.client_keys:
            raise AccessRevoked(NAME, "Picmim's Bluesky client key changed since this account was connected: "
                                      "connect Bluesky again.", f"client key {kid} is no longer installed")
        return self.client_keys.form(self.client_id, str(session["issuer"]), kid)

    def _token_set(self, body: Mapping[str, Any], extra: dict[str, Any], previous: TokenSet | None) -> TokenSet:
        refresh = body.get("refresh_token")  # single use: the newest one is the only one that works
        return TokenSet(
            access_token=Secret(body["access_token"]),
            external_user_id=str(body.get("sub") or (previous.external_user_id if previous else "")),
            display_name=extra.get("handle"),
            refresh_token=Secret(refresh) if refresh else (previous.refresh_token if previous else None),
            expires_at=(datetime.now(UTC) + timedelta(seconds=int(body["expires_in"]))
                        if body.get("expires_in") else None),
            scopes=tuple(str(body.get("scope") or SCOPE).split()),
            extra=extra,
        )

    async def revoke(self, tokens: TokenSet) -> bool:
        endpoint = tokens.extra.get("revocation_endpoint")
        if not endpoint or "dpop_private_jwk" not in tokens.extra:
            return False
        key = atoauth.dpop_key_from_jwk(tokens.extra["dpop_private_jwk"])
        token = (tokens.refresh_token or tokens.access_token).reveal()
        form = {"token": token, "client_id": self.client_id}
        if tokens.extra.get("client_kid") in self.client_keys:  # RFC 7009 §2.1: a confidential client authenticates
            form.update(self._client_auth(tokens.extra))
        response = await self.dpop.request("POST", endpoint, key, data=form)
        if response.status_code >= 500:
            raise Transient(NAME, "Bluesky's sign-in server had a problem; Picmim will try again.",
                            f"revoke: HTTP {response.status_code}")
        return response.status_code < 400

    # ---- PDS calls ----------------------------------------------------------------------------------

    async def _xrpc(self, extra: Mapping[str, Any], token: Secret, method: str, nsid: str, *,
                    proxy: bool = False, creates: bool = False, headers: dict[str, str] | None = None,
                    **kwargs: Any) -> dict:
        if "dpop_private_jwk" not in extra or "pds" not in extra:
            raise AccessRevoked(NAME, "This Bluesky connection is missing its signing key: connect Bluesky again.")
        key = atoauth.dpop_key_from_jwk(extra["dpop_private_jwk"])
        sent = dict(headers or {})
        if proxy:
            sent["atproto-proxy"] = APPVIEW_PROXY
        response = await self.dpop.request(method, f"{extra['pds']}/xrpc/{nsid}", key,
                                           access_token=token.reveal(), creates=creates, headers=sent, **kwargs)
        return _xrpc_answer(response)

    async def _profile(self, extra: Mapping[str, Any], token: Secret, did: str) -> dict:
        return await self._xrpc(extra, token, "GET", "app.bsky.actor.getProfile", proxy=True, params={"actor": did})

    async def list_accounts(self, tokens: TokenSet) -> list[RemoteAccount]:
        profile = await self._profile(tokens.extra, tokens.access_token, tokens.external_user_id)
        handle = profile.get("handle") or tokens.extra.get("handle")
        return [RemoteAccount(tokens.external_user_id, "profile", profile.get("displayName") or handle or "Bluesky",
                              handle=handle, avatar_url=profile.get("avatar"),
                              followers_count=profile.get("followersCount"))]

    # ---- validation -------------------------------------------------------------------------------

    def validate(self, account: AccountRef, draft: Draft) -> list[Problem]:
        parts = thread_texts(draft)
        # A thread's first part carries the attachments; the others are within the count by the way they are cut.
        outgoing = dataclasses.replace(draft, text=parts[0] if parts else "")
        problems = Checker(NAME, account.name, self.limits).check(outgoing, counter=count)
        if len(parts) > threads.MAX_PARTS:
            problems.append(Problem(NAME, account.name, "text", f"As a thread this text makes {len(parts)} posts "
                                                                f"on Bluesky; Picmim sends up to {threads.MAX_PARTS}: "
                                                                "shorten it."))
        if not outgoing.text.strip() and not draft.media:
            problems.append(Problem(NAME, account.name, "text", "A Bluesky post needs text or an attachment: "
                                                                "write something."))
        for m in draft.media:
            if not m.alt_text:
                continue
            name = m.filename or f"this {m.kind}"
            if m.kind == "video":
                too_long = (count(m.alt_text, Counting.GRAPHEMES) > VIDEO_ALT_MAX_GRAPHEMES
                            or count(m.alt_text, Counting.BYTES) > VIDEO_ALT_MAX_BYTES)
                most = VIDEO_ALT_MAX_GRAPHEMES
            else:
                too_long, most = count(m.alt_text, Counting.UTF16) > IMAGE_ALT_MAX, IMAGE_ALT_MAX
            if too_long:
                kind = "a video" if m.kind == "video" else "an image"
                problems.append(Problem(NAME, account.name, "alt_text", f"Bluesky takes alt text up to {most:,} "
                                        f"characters for {kind}; the one for {name} is longer: shorten it."))
        return problems

    # ---- publishing -------------------------------------------------------------------------------

    async def _facets(self, text: str) -> list[dict]:
        """Link, tag and mention facets; a mention is linked only when its handle resolves to a DID."""
        facets = find_links_and_tags(text)
        resolved: dict[str, str | None] = {}
        for handle, start, end in mention_spans(text):
            if handle not in resolved:
                resolved[handle] = await self._resolve_mention(handle)
            if resolved[handle]:
                facets.append({"index": _byte_range(text, start, end),
                               "features": [{"$type": "app.bsky.richtext.facet#mention", "did": resolved[handle]}]})
        return sorted(facets, key=lambda f: f["index"]["byteStart"])

    async def _resolve_mention(self, handle: str) -> str | None:
        response = await send(self.http, NAME, "GET",
                              f"{atoauth.HANDLE_RESOLVER}/xrpc/com.atproto.identity.resolveHandle",
                              params={"handle": handle})
        if response.status_code >= 500 or response.status_code == 429:
            raise xrpc_error(response)
        did = (json_or_none(response) or {}).get("did") if response.status_code == 200 else None
        return did if isinstance(did, str) and atoauth.DID.match(did) else None

    async def _upload(self, account: AccountRef, item: MediaPayload) -> dict:
        data = bytearray()
        async for part in item.read():
            data += part
        answer = await self._xrpc(account.extra, account.publish_token, "POST", "com.atproto.repo.uploadBlob",
                                  content=bytes(data), headers={"Content-Type": item.facts.mimetype})
        blob = answer.get("blob")
        if not isinstance(blob, dict):
            raise Transient(NAME, "Bluesky did not keep the attachment; Picmim will try again.", str(answer)[:200])
        return blob

    async def publish(self, account: AccountRef, draft: Draft, media: list[MediaPayload]) -> PublishResult:
        images = [m for m in media if m.facts.kind == "image"]
        videos = [m for m in media if m.facts.kind == "video"]
        if len(images) > MAX_IMAGES or len(videos) > 1 or (images and videos):
            raise ContentRejected(NAME, "A Bluesky post takes up to 4 images or one video: change the attachments.",
                                  field="media")
        embed: dict[str, Any] | None = None
        card_warnings: list[str] = []
        texts = thread_texts(draft)
        if images and not draft.live_parts:  # a resumed thread's attachments went with part 1
            entries = []
            for item in images:
                entry: dict[str, Any] = {"image": await self._upload(account, item), "alt": item.facts.alt_text or ""}
                if item.facts.width and item.facts.height:
                    entry["aspectRatio"] = {"width": item.facts.width, "height": item.facts.height}
                entries.append(entry)
            embed = {"$type": "app.bsky.embed.images", "images": entries}
        elif videos and not draft.live_parts:
            video = videos[0]
            embed = {"$type": "app.bsky.embed.video", "video": await self._upload(account, video)}
            if video.facts.alt_text:
                embed["alt"] = video.facts.alt_text
            if video.facts.width and video.facts.height:
                embed["aspectRatio"] = {"width": video.facts.width, "height": video.facts.height}
        elif not draft.live_parts and texts and (link := link_cards.first_link(texts[0])):
            # No picture or video: the first part's link becomes a card (app.bsky.embed.external).
            embed, card_warnings = await self._link_card(account, link)
        who = account.handle or account.extra.get("handle") or account.external_id

        async def send(index: int, text: str, live: list[dict]) -> dict:
            record: dict[str, Any] = {"$type": "app.bsky.feed.post", "text": text,
                                      "createdAt": datetime.now(UTC).isoformat(timespec="milliseconds")
                                      .replace("+00:00", "Z")}
            facets = await self._facets(text)
            if facets:
                record["facets"] = facets
            if draft.options.get("langs"):
                record["langs"] = list(draft.options["langs"])[:3]
            if index == 0 and embed:
                record["embed"] = embed
            if live:  # each part replies to the one before; the root is the thread's first post
                root = threads.first_post(live)
                record["reply"] = {"root": {"uri": root["id"], "cid": root["cid"]},
                                   "parent": {"uri": live[-1]["id"], "cid": live[-1]["cid"]}}
            answer = await self._xrpc(account.extra, account.publish_token, "POST", "com.atproto.repo.createRecord",
                                      creates=True, json={"repo": account.external_id,
                                                          "collection": "app.bsky.feed.post", "record": record})
            uri = str(answer.get("uri") or "")
            return {"id": uri, "cid": str(answer.get("cid") or ""), "url": _post_url(who, uri)}

        async def find(live: list[dict]) -> dict | None:
            return await self._find_reply(account, live[-1]["id"], who)

        live, warnings = await threads.publish_parts(draft, texts, send, find)
        first = threads.first_post(live)
        return PublishResult(remote_id=first["id"], url=first["url"], warnings=tuple(card_warnings + warnings))

    async def _find_reply(self, account: AccountRef, parent: str, who: str) -> dict | None:
        """The account's own reply to `parent`, if it is live: its newest posts in its repository
        (com.atproto.repo.listRecords, newest first)."""
        try:
            answer = await self._xrpc(account.extra, account.publish_token, "GET", "com.atproto.repo.listRecords",
                                      params={"repo": account.external_id, "collection": "app.bsky.feed.post",
                                              "limit": "50"})
        except PlatformError as exc:
            raise OutcomeUnknown(NAME, "Picmim stopped while sending the next part of this thread and Bluesky "
                                       "could not say whether it went out.", exc.detail) from exc
        for item in answer.get("records") or []:
            reply = (item.get("value") or {}).get("reply") or {}
            if (reply.get("parent") or {}).get("uri") == parent:
                return {"id": item["uri"], "cid": item.get("cid", ""), "url": _post_url(who, item["uri"])}
        return None

    async def _link_card(self, account: AccountRef, link: str) -> tuple[dict | None, list[str]]:
        """The post's first link as an app.bsky.embed.external card: the page's title and description, and its
        picture uploaded as a blob within THUMB_MAX_BYTES. A page that cannot be read leaves the post without a
        card (the link itself stays in the text); that is said, not fatal."""
        try:
            card = await link_cards.fetch_card(self.http, link)
        except link_cards.LinkRefused as exc:
            return None, [f"Posted without a link card: {exc}"]
        external: dict[str, Any] = {"uri": link, "title": card.title, "description": card.description}
        warnings: list[str] = []
        if card.image_url:
            try:
                data, _kind = await link_cards.fetch_image(self.http, card.image_url)
                data, kind = await asyncio.to_thread(link_cards.shrunk, data, THUMB_MAX_BYTES)
            except link_cards.LinkRefused as exc:
                warnings.append(f"The link card went without its picture: {exc}")
            else:
                answer = await self._xrpc(account.extra, account.publish_token, "POST",
                                          "com.atproto.repo.uploadBlob", content=data, headers={"Content-Type": kind})
                if isinstance(answer.get("blob"), dict):
                    external["thumb"] = answer["blob"]
        return {"$type": "app.bsky.embed.external", "external": external}, warnings

    # ---- metrics ----------------------------------------------------------------------------------

    async def fetch_metrics(self, account: AccountRef, remote_ids: list[str]) -> Metrics:
        token = account.publish_token
        profile = await self._profile(account.extra, token, account.external_id)
        figures = {k: profile[k] for k in ("followersCount", "followsCount", "postsCount")
                   if isinstance(profile.get(k), int)}
        posts: dict[str, dict[str, float]] = {}
        thumbnails: dict[str, str] = {}
        for start in range(0, len(remote_ids), 25):  # getPosts takes up to 25 URIs
            answer = await self._xrpc(account.extra, token, "GET", "app.bsky.feed.getPosts", proxy=True,
                                      params=[("uris", u) for u in remote_ids[start:start + 25]])
            for post in answer.get("posts") or []:
                posts[post["uri"]] = {k: post[k] for k in ("likeCount", "repostCount", "replyCount", "quoteCount")
                                      if isinstance(post.get(k), int)}
                picture = _embed_picture(post.get("embed"))
                if picture:
                    thumbnails[post["uri"]] = picture
        return Metrics(account=figures, posts=posts, thumbnails=thumbnails)


def _embed_picture(embed: Any) -> str | None:
    """The picture a post view's embed shows (app.bsky.embed.*#view): its first image's thumb, its video's thumbnail,
    its link card's thumb; a quote with media shows its media's."""
    if not isinstance(embed, dict):
        return None
    kind = str(embed.get("$type", ""))
    if kind == "app.bsky.embed.recordWithMedia#view":
        return _embed_picture(embed.get("media"))
    if kind == "app.bsky.embed.images#view":
        first = next(iter(embed.get("images") or []), None)
        picture = (first.get("thumb") or first.get("fullsize")) if isinstance(first, dict) else None
        return picture if isinstance(picture, str) else None
    if kind == "app.bsky.embed.video#view":
        return embed.get("thumbnail") if isinstance(embed.get("thumbnail"), str) else None
    if kind == "app.bsky.embed.external#view":
        thumb = (embed.get("external") or {}).get("thumb")
        return thumb if isinstance(thumb, str) else None
    return None


ADAPTER = BlueskyAdapter
