"""atproto OAuth for the Bluesky adapter: identity resolution (handle → DID → PDS), authorization
server discovery, DPoP proofs (ES256 JWTs made with joserfc) and DPoP-bound requests with server nonces.

The atproto profile of OAuth: PAR, PKCE S256, DPoP with server-issued nonces on every token and PDS
request, and a client_id that is the URL of our client metadata document (no client secret).
"""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
import time
from dataclasses import dataclass
from typing import Any

import httpx
from joserfc import jwt
from joserfc.jwk import ECKey

from bot.platforms.base import ContentRejected, Transient
from bot.platforms.http_calls import json_or_none, send

NAME = "Bluesky"
PLC_DIRECTORY = "https://plc.directory"
# UNCERTAIN-low: Bluesky's public AppView, used to resolve handles that only DNS names (no HTTPS well-known).
HANDLE_RESOLVER = "https://public.api.bsky.app"

HANDLE = re.compile(r"^([a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?\.)+[a-zA-Z]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?$")
DID = re.compile(r"^did:(plc:[a-z2-7]{24}|web:[a-zA-Z0-9.%-]+(:[a-zA-Z0-9.%-]+)*)$")


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


# ---- DPoP ------------------------------------------------------------------------------------------


def new_dpop_key() -> ECKey:
    return ECKey.generate_key("P-256", private=True)


def dpop_key_to_jwk(key: ECKey) -> dict[str, Any]:
    return key.as_dict(private=True)


def dpop_key_from_jwk(jwk: dict[str, Any]) -> ECKey:
    return ECKey.import_key(jwk)


def dpop_proof(key: ECKey, method: str, url: str, nonce: str | None = None, access_token: str | None = None) -> str:
    """A DPoP proof JWT (RFC 9449) for one request: htu is the URL without query and fragment, ath the
    hash of the access token it goes with."""
    claims: dict[str, Any] = {"jti": secrets.token_urlsafe(16), "htm": method.upper(),
                              "htu": str(httpx.URL(url).copy_with(query=None, fragment=None)), "iat": int(time.time())}
    if nonce:
        claims["nonce"] = nonce
    if access_token:
        claims["ath"] = b64url(hashlib.sha256(access_token.encode()).digest())
    header = {"typ": "dpop+jwt", "alg": "ES256", "jwk": key.as_dict(private=False)}
    return jwt.encode(header, claims, key)


def is_nonce_challenge(response: httpx.Response) -> bool:
    """An authorization server asks with 400 `use_dpop_nonce`; a resource server with 401 and
    `WWW-Authenticate: DPoP error="use_dpop_nonce"`."""
    if response.status_code == 401 and "use_dpop_nonce" in response.headers.get("www-authenticate", ""):
        return True
    if response.status_code in (400, 401):
        body = json_or_none(response) or {}
        return body.get("error") == "use_dpop_nonce"
    return False


class DPoPClient:
    """DPoP-bound requests over the shared client. Keeps the newest nonce of each origin (they differ:
    authorization server and PDS) and answers a nonce challenge once with the new nonce — protocol,
    not a retry: the challenged request was refused unread."""

    def __init__(self, http: httpx.AsyncClient):
        self.http = http
        self.nonces: dict[str, str] = {}

    async def request(self, method: str, url: str, key: ECKey, *, access_token: str | None = None,
                      creates: bool = False, headers: dict[str, str] | None = None, **kwargs: Any) -> httpx.Response:
        origin = f"{httpx.URL(url).scheme}://{httpx.URL(url).netloc.decode()}"
        for attempt in (1, 2):
            sent = dict(headers or {})
            sent["DPoP"] = dpop_proof(key, method, url, self.nonces.get(origin), access_token)
            if access_token:
                sent["Authorization"] = f"DPoP {access_token}"
            response = await send(self.http, NAME, method, url, creates=creates, headers=sent, **kwargs)
            nonce = response.headers.get("dpop-nonce")
            if nonce:
                self.nonces[origin] = nonce
            if attempt == 1 and nonce and is_nonce_challenge(response):
                continue
            return response
        raise AssertionError("unreachable")


# ---- identity and discovery -------------------------------------------------------------------------


@dataclass(frozen=True)
class Identity:
    handle: str
    did: str
    pds: str


@dataclass(frozen=True)
class AuthServer:
    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    par_endpoint: str
    revocation_endpoint: str | None


def _not_found(handle: str, detail: str) -> ContentRejected:
    return ContentRejected(NAME, f"Bluesky could not find the account @{handle}: check the handle (for example "
                                 "alice.bsky.social) and try again.", detail, field="handle")


async def _get_json(http: httpx.AsyncClient, url: str, **kwargs: Any) -> tuple[int, dict | None]:
    response = await send(http, NAME, "GET", url, **kwargs)
    if response.status_code >= 500:
        raise Transient(NAME, "Bluesky had a problem on its side; Picmim will try again.",
                        f"{url}: HTTP {response.status_code}")
    return response.status_code, json_or_none(response) if response.status_code < 400 else None


async def resolve_handle(http: httpx.AsyncClient, handle: str) -> str:
    """handle → DID: the handle's HTTPS well-known first, then a resolver (which also reads DNS)."""
    try:
        response = await send(http, NAME, "GET", f"https://{handle}/.well-known/atproto-did")
    except Transient:
        response = None  # a handle on a domain with no web server: DNS names it
    if response is not None and response.status_code == 200:
        did = response.text.strip()
        if DID.match(did):
            return did
    status, body = await _get_json(http, f"{HANDLE_RESOLVER}/xrpc/com.atproto.identity.resolveHandle",
                                   params={"handle": handle})
    did = (body or {}).get("did")
    if not did or not DID.match(did):
        raise _not_found(handle, f"resolveHandle: HTTP {status}")
    return did


async def resolve_did(http: httpx.AsyncClient, did: str) -> dict:
    if did.startswith("did:plc:"):
        url = f"{PLC_DIRECTORY}/{did}"
    else:
        host, *path = did.removeprefix("did:web:").split(":")
        host = host.replace("%3A", ":")
        url = f"https://{host}/{'/'.join(path)}/did.json" if path else f"https://{host}/.well-known/did.json"
    status, doc = await _get_json(http, url)
    if not doc or doc.get("id") != did:
        raise ContentRejected(NAME, "Bluesky's directory has no record of this account.", f"{url}: HTTP {status}",
                              field="handle")
    return doc


def pds_of(doc: dict) -> str | None:
    for service in doc.get("service") or []:
        if isinstance(service, dict) and str(service.get("id", "")).endswith("#atproto_pds") \
                and service.get("type") == "AtprotoPersonalDataServer":
            endpoint = service.get("serviceEndpoint")
            return endpoint.rstrip("/") if isinstance(endpoint, str) else None
    return None


async def resolve_identity(http: httpx.AsyncClient, handle: str) -> Identity:
    handle = handle.strip().removeprefix("@").lower()
    if not HANDLE.match(handle):
        raise _not_found(handle, "not a valid handle")
    did = await resolve_handle(http, handle)
    doc = await resolve_did(http, did)
    # Both ways: the DID document must claim the handle back, or anyone could point a handle at a DID.
    if f"at://{handle}" not in [str(a).lower() for a in doc.get("alsoKnownAs") or []]:
        raise _not_found(handle, f"{did} does not claim {handle}")
    pds = pds_of(doc)
    if not pds:
        raise ContentRejected(NAME, "This Bluesky account names no server Picmim can post to.",
                              f"{did}: no #atproto_pds service", field="handle")
    return Identity(handle=handle, did=did, pds=pds)


async def discover_auth_server(http: httpx.AsyncClient, pds: str) -> AuthServer:
    status, resource = await _get_json(http, f"{pds}/.well-known/oauth-protected-resource")
    servers = (resource or {}).get("authorization_servers") or []
    if not servers:
        raise ContentRejected(NAME, "This Bluesky account's server does not offer sign-in for apps.",
                              f"{pds}: oauth-protected-resource HTTP {status}", field="handle")
    issuer = str(servers[0]).rstrip("/")
    status, meta = await _get_json(http, f"{issuer}/.well-known/oauth-authorization-server")
    meta = meta or {}
    needed = ("authorization_endpoint", "token_endpoint", "pushed_authorization_request_endpoint")
    if meta.get("issuer", "").rstrip("/") != issuer or not all(meta.get(k) for k in needed) \
            or "ES256" not in (meta.get("dpop_signing_alg_values_supported") or []):
        raise ContentRejected(NAME, "This Bluesky account's sign-in server does not speak atproto OAuth.",
                              f"{issuer}: metadata HTTP {status}", field="handle")
    return AuthServer(issuer=meta["issuer"], authorization_endpoint=meta["authorization_endpoint"],
                      token_endpoint=meta["token_endpoint"], par_endpoint=meta["pushed_authorization_request_endpoint"],
                      revocation_endpoint=meta.get("revocation_endpoint"))
