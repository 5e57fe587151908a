"""A fake Bluesky: handle resolution, the PLC directory, a PDS speaking XRPC, and an atproto OAuth
authorization server (PAR, authorize, token, revoke), on two loopback addresses (PDS and auth server
are different origins, as on Bluesky, so their DPoP nonces differ).

Handles resolve through `https://<handle>/.well-known/atproto-did` and the public AppView's
`resolveHandle`, and DIDs through `https://plc.directory/<did>`: point those origins here. The DID
documents name this PDS's loopback URL, and the PDS names this auth server's.

It checks what the real servers check: the DPoP proof (ES256 signature over the embedded key, typ, htm,
htu, iat, jti not reused, ath for PDS calls, the key the token is bound to) and its nonce — a missing or
stale nonce is answered exactly as RFC 9449 says (auth server: 400 `use_dpop_nonce`; PDS: 401 with
`WWW-Authenticate: DPoP error="use_dpop_nonce"`; both with a `DPoP-Nonce` header); PAR against the client
metadata it fetches from the client_id URL; client authentication as the metadata declares it (a
`private_key_jwt` client's `client_assertion` is verified against the JWKS fetched from its `jwks_uri`,
and a request without one is refused; a session is bound to the key it started with, and a session that
started public may carry on as confidential, as @atproto/oauth-provider allows); refresh-token lifetimes
by client type (`public_refresh_lifetime`, `confidential_refresh_lifetime`, on a clock tests can move
with `advance`); PKCE S256; and lexicon rules on createRecord (text graphemes
and bytes, facet byte ranges and features, images ≤ 4 and ≤ 2,000,000 bytes with alt text, video MP4
≤ 300 MB, blobs it holds). XRPC errors come as `{"error", "message"}`. Every call is recorded.
"""

from __future__ import annotations

import base64
import hashlib
import io
import itertools
import json
import re
import secrets
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

import aiohttp
import regex
from aiohttp import web
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import ECKey
from PIL import Image

from bot.sandbox.fakes.base import LoopbackServer

GRAPHEME = regex.compile(r"\X")
DID_RE = re.compile(r"^did:[a-z]+:[a-zA-Z0-9._:%-]+$")
FACET_TYPES = {"app.bsky.richtext.facet#mention", "app.bsky.richtext.facet#link", "app.bsky.richtext.facet#tag"}
TID_CHARS = "234567abcdefghijklmnopqrstuvwxyz"


@dataclass
class Call:
    origin: str  # pds | as | web (handles, PLC, AppView)
    method: str
    path: str
    query: dict[str, Any]
    body: Any
    headers: dict[str, str] = field(default_factory=dict)
    status: int = 0


@dataclass
class Account:
    did: str
    handle: str
    display_name: str = "Acme on Bluesky"
    followers: int = 321
    follows: int = 45
    posts: int = 67


@dataclass
class Session:
    did: str
    jkt: str
    scope: str
    expires: float
    auth: dict = field(default_factory=lambda: {"method": "none"})  # how the client authenticated at the start


ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
DAY = 86400


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _tid() -> str:
    n = time.time_ns() // 1000 << 10 | secrets.randbelow(1024)
    return "".join(TID_CHARS[(n >> (5 * i)) & 31] for i in reversed(range(13)))


class FakeBluesky(LoopbackServer):

    def __init__(self) -> None:
        super().__init__()
        self.accounts: dict[str, Account] = {}  # did -> account
        self.blobs: dict[str, dict] = {}  # cid -> {mimeType, size, data}
        self.records: dict[str, dict] = {}  # at-uri -> {record, counts}
        self.requests: dict[str, dict] = {}  # PAR request_uri -> request
        self.codes: dict[str, dict] = {}
        self.access: dict[str, Session] = {}
        self.refresh: dict[str, Session] = {}
        self.revoked: list[str] = []
        self.as_nonce = secrets.token_urlsafe(12)
        self.pds_nonce = secrets.token_urlsafe(12)
        self.access_token_lifetime = 900  # UNCERTAIN: ~15 min on Bluesky
        # Refresh-token lifetimes by client type. atproto OAuth spec ("Tokens and Session Lifetime",
        # bluesky-social/atproto-website src/app/[locale]/specs/oauth/en.mdx, read 2026-12): confidential
        # clients' refresh tokens up to 180 days; @atproto/oauth-provider's public clients: 2 weeks.
        self.public_refresh_lifetime = 14 * DAY
        self.confidential_refresh_lifetime = 180 * DAY
        self.clock_offset = 0.0  # `advance` moves the server's clock (token lifetimes), not the client's
        self.nonce_every_request = False  # a server that never settles on a nonce
        self._seen_jti: set[str] = set()
        self._rate_limits: list[tuple[str, int]] = []
        self._failures: list[tuple[str, int]] = []
        self._hangs: list[tuple[str, float]] = []
        self._cids = itertools.count(1)

    def applications(self) -> list[web.Application]:
        pds = web.Application(client_max_size=400 * 1024 * 1024)
        pds.router.add_route("*", "/{path:.*}", self._pds)
        auth = web.Application()
        auth.router.add_route("*", "/{path:.*}", self._auth_server)
        return [pds, auth]

    @property
    def pds_url(self) -> str:
        return self.url

    @property
    def as_url(self) -> str:
        return f"http://127.0.0.1:{self.ports[1]}"

    # ---- test controls ----------------------------------------------------------------------------

    def add_account(self, handle: str = "acme.bsky.test", **kw: Any) -> Account:
        did = "did:plc:" + "".join(secrets.choice("abcdefghijklmnopqrstuvwxyz234567") for _ in range(24))
        account = Account(did, handle, **kw)
        self.accounts[did] = account
        return account

    def now(self) -> float:
        return time.time() + self.clock_offset

    def advance(self, seconds: float) -> None:
        """Move the server's clock on: tokens age, the client's own clock (proofs, assertions) does not."""
        self.clock_offset += seconds

    def session(self, did: str, jwk: dict, auth: dict | None = None) -> tuple[str, str]:
        """An access and a refresh token bound to this DPoP key, as after a finished sign-in (by default
        of a public client, as Picmim was before it authenticated itself)."""
        jkt = ECKey.import_key(jwk).thumbprint()
        return self._issue(did, jkt, "atproto transition:generic", auth or {"method": "none"})

    def _issue(self, did: str, jkt: str, scope: str, auth: dict) -> tuple[str, str]:
        access, refresh = "at-" + secrets.token_urlsafe(24), "rt-" + secrets.token_urlsafe(24)
        lifetime = (self.public_refresh_lifetime if auth["method"] == "none" else self.confidential_refresh_lifetime)
        self.access[access] = Session(did, jkt, scope, self.now() + self.access_token_lifetime, auth)
        self.refresh[refresh] = Session(did, jkt, scope, self.now() + lifetime, auth)
        return access, refresh

    def expire_tokens(self) -> None:
        for s in self.access.values():
            s.expires = self.now() - 1

    def end_sessions(self) -> None:
        """The user signed out everywhere: access and refresh tokens stop working."""
        self.access.clear()
        self.refresh.clear()

    def rotate_nonces(self) -> None:
        self.as_nonce, self.pds_nonce = secrets.token_urlsafe(12), secrets.token_urlsafe(12)

    def rate_limit(self, nsid: str = "", times: int = 1, reset_in: int = 120) -> None:
        self._rate_limits += [(nsid, reset_in)] * times

    def fail(self, nsid: str = "", times: int = 1, status: int = 502) -> None:
        self._failures += [(nsid, status)] * times

    def hang(self, nsid: str, seconds: float = 3.0, times: int = 1) -> None:
        self._hangs += [(nsid, seconds)] * times

    def calls_to(self, path: str) -> list[Call]:
        return self.recorded(lambda c: c.path == path)

    def set_counts(self, uri: str, **counts: int) -> None:
        self.records[uri]["counts"].update(counts)

    # ---- plumbing ---------------------------------------------------------------------------------

    def _record(self, origin: str, request: web.Request, body: Any) -> Call:
        query: dict[str, Any] = {k: request.query.getall(k) if len(request.query.getall(k)) > 1 else v
                                 for k, v in request.query.items()}
        return self.record(Call(origin, request.method, request.path, query, body, dict(request.headers)))

    @staticmethod
    def _take(queue: list, path: str) -> Any:
        for i, item in enumerate(queue):
            if item[0] in path:
                return queue.pop(i)
        return None

    def _check_proof(self, request: web.Request, base: str, nonce: str, access_token: str | None = None
                     ) -> tuple[str | None, str | None]:
        """(jkt, None) for a good proof, (None, error) otherwise; error "use_dpop_nonce" for a bad nonce."""
        proof = request.headers.get("DPoP", "")
        if proof.count(".") != 2:
            return None, "invalid_dpop_proof: missing DPoP proof"
        try:
            header = json.loads(base64.urlsafe_b64decode(proof.split(".")[0] + "=="))
            jwk = header.get("jwk") or {}
            if header.get("typ") != "dpop+jwt" or header.get("alg") != "ES256" or "d" in jwk:
                return None, "invalid_dpop_proof: typ, alg or jwk"
            key = ECKey.import_key(jwk)
            claims = jwt.decode(proof, key, algorithms=["ES256"]).claims
        except (ValueError, JoseError) as exc:
            return None, f"invalid_dpop_proof: {exc.__class__.__name__}"
        if claims.get("htm") != request.method or claims.get("htu") != base + request.path:
            return None, f"invalid_dpop_proof: htm/htu {claims.get('htm')} {claims.get('htu')}"
        if abs(time.time() - int(claims.get("iat", 0))) > 300:
            return None, "invalid_dpop_proof: iat"
        if not claims.get("jti") or claims["jti"] in self._seen_jti:
            return None, "invalid_dpop_proof: jti reused"
        if access_token is not None:
            if claims.get("ath") != _b64(hashlib.sha256(access_token.encode()).digest()):
                return None, "invalid_dpop_proof: ath"
        if claims.get("nonce") != nonce or self.nonce_every_request:
            return None, "use_dpop_nonce"
        self._seen_jti.add(claims["jti"])
        return key.thumbprint(), None

    # ---- handles, DIDs, AppView (public) and the PDS --------------------------------------------------

    def _xrpc_error(self, status: int, error: str, message: str, **headers: str) -> web.Response:
        return web.json_response({"error": error, "message": message}, status=status,
                                 headers={"DPoP-Nonce": self.pds_nonce, **headers})

    async def _pds(self, request: web.Request) -> web.StreamResponse:
        path = request.path
        raw = await request.read()
        body: Any = len(raw)
        if request.content_type == "application/json" and raw:
            body = json.loads(raw)
        call = self._record("pds", request, body)
        response = await self._pds_route(request, path, body, raw)
        call.status = response.status
        return response

    async def _pds_route(self, request: web.Request, path: str, body: Any, raw: bytes) -> web.StreamResponse:
        if path == "/.well-known/atproto-did":
            host = request.host.split(":")[0]
            account = next((a for a in self.accounts.values() if a.handle == host), None)
            return web.Response(text=account.did) if account else web.Response(status=404, text="not found")
        if path.startswith("/did:"):
            return self._did_document(path[1:])
        if path == "/.well-known/oauth-protected-resource":
            return web.json_response({"resource": self.pds_url, "authorization_servers": [self.as_url],
                                      "scopes_supported": [], "bearer_methods_supported": ["header"]})
        if path == "/xrpc/com.atproto.identity.resolveHandle":
            handle = request.query.get("handle", "").lower()
            account = next((a for a in self.accounts.values() if a.handle == handle), None)
            if account is None:
                return self._xrpc_error(400, "InvalidRequest", "Unable to resolve handle")
            return web.json_response({"did": account.did})
        if not path.startswith("/xrpc/"):
            return web.Response(status=404)
        nsid = path.removeprefix("/xrpc/")
        limited = self._take(self._rate_limits, nsid)
        if limited:
            reset = int(time.time()) + limited[1]
            return self._xrpc_error(429, "RateLimitExceeded", "Rate Limit Exceeded", **{
                "RateLimit-Limit": "5000", "RateLimit-Remaining": "0", "RateLimit-Reset": str(reset),
                "RateLimit-Policy": "5000;w=3600"})
        failed = self._take(self._failures, nsid)
        if failed:
            return self._xrpc_error(failed[1], "InternalServerError", "Internal Server Error")
        auth = request.headers.get("Authorization", "")
        if not auth.startswith("DPoP "):
            return self._xrpc_error(401, "InvalidToken", "DPoP-bound tokens must be sent with the DPoP scheme"
                                    if auth else "Authentication Required")
        token = auth[5:]
        session = self.access.get(token)
        if session is None:
            return self._xrpc_error(401, "InvalidToken", "Bad token", **{
                "WWW-Authenticate": 'DPoP error="invalid_token", error_description="Invalid token"'})
        jkt, error = self._check_proof(request, self.pds_url, self.pds_nonce, token)
        if error == "use_dpop_nonce":
            if self.nonce_every_request:
                self.rotate_nonces()
            return self._xrpc_error(401, "use_dpop_nonce", "Resource server requires nonce in DPoP proof", **{
                "WWW-Authenticate": 'DPoP error="use_dpop_nonce", '
                                    'error_description="Resource server requires nonce in DPoP proof"'})
        if error:
            return self._xrpc_error(401, "invalid_dpop_proof", error, **{
                "WWW-Authenticate": f'DPoP error="invalid_dpop_proof", error_description="{error}"'})
        if jkt != session.jkt:
            return self._xrpc_error(401, "invalid_dpop_proof", "The proof's key is not the key the token is bound to")
        if session.expires < self.now():
            return self._xrpc_error(401, "ExpiredToken", "Token has expired", **{
                "WWW-Authenticate": 'DPoP error="invalid_token", error_description="Token has expired"'})
        handlers = {
            ("GET", "app.bsky.actor.getProfile"): self._get_profile,
            ("GET", "app.bsky.feed.getPosts"): self._get_posts,
            ("POST", "com.atproto.repo.uploadBlob"): self._upload_blob,
            ("POST", "com.atproto.repo.createRecord"): self._create_record,
            ("GET", "com.atproto.repo.listRecords"): self._list_records,
        }
        handler = handlers.get((request.method, nsid))
        if handler is None:
            return self._xrpc_error(501, "MethodNotImplemented", f"Method Not Implemented: {nsid}")
        hang = self._take(self._hangs, nsid)
        response = handler(request, session, body, raw)
        if hang:
            await self.held(hang[1])
        return response

    def _did_document(self, did: str) -> web.Response:
        account = self.accounts.get(did)
        if account is None:
            return web.json_response({"message": f"DID not registered: {did}"}, status=404)
        return web.json_response({
            "@context": ["https://www.w3.org/ns/did/v1"], "id": did, "alsoKnownAs": [f"at://{account.handle}"],
            "verificationMethod": [],
            "service": [{"id": "#atproto_pds", "type": "AtprotoPersonalDataServer",
                         "serviceEndpoint": self.pds_url}]})

    def _get_profile(self, request: web.Request, session: Session, body: Any, raw: bytes) -> web.Response:
        actor = request.query.get("actor", "")
        account = self.accounts.get(actor) or next((a for a in self.accounts.values() if a.handle == actor), None)
        if account is None:
            return self._xrpc_error(400, "InvalidRequest", "Profile not found")
        return web.json_response({"did": account.did, "handle": account.handle, "displayName": account.display_name,
                                  "avatar": f"https://cdn.bsky.example/avatar/{account.did}.jpg",
                                  "followersCount": account.followers, "followsCount": account.follows,
                                  "postsCount": account.posts}, headers={"DPoP-Nonce": self.pds_nonce})

    def _get_posts(self, request: web.Request, session: Session, body: Any, raw: bytes) -> web.Response:
        uris = request.query.getall("uris", [])
        if not uris or len(uris) > 25:
            return self._xrpc_error(400, "InvalidRequest", "uris must have 1 to 25 items")
        posts = []
        for uri in uris:
            stored = self.records.get(uri)
            if stored:
                did = uri.split("/")[2]
                view = {"uri": uri, "cid": stored["cid"], "record": stored["record"],
                        "author": {"did": did, "handle": self.accounts[did].handle},
                        "indexedAt": stored["record"]["createdAt"], **stored["counts"]}
                embed = embed_view(did, stored["record"].get("embed"))
                if embed is not None:
                    view["embed"] = embed
                posts.append(view)
        return web.json_response({"posts": posts}, headers={"DPoP-Nonce": self.pds_nonce})

    def _upload_blob(self, request: web.Request, session: Session, body: Any, raw: bytes) -> web.Response:
        if not raw:
            return self._xrpc_error(400, "InvalidRequest", "Request body is empty")
        if len(raw) > 100 * 1024 * 1024 and not raw[4:8] == b"ftyp":
            return self._xrpc_error(413, "PayloadTooLarge", "request entity too large")
        mimetype = request.headers.get("Content-Type", "application/octet-stream")
        try:  # the PDS keeps the type it sniffs, not the one it is told
            image = Image.open(io.BytesIO(raw))
            mimetype = Image.MIME.get(image.format, mimetype)
        except Exception:  # noqa: BLE001 - not a picture: keep what the client said
            if raw[4:8] == b"ftyp":
                mimetype = "video/mp4"
        digest = hashlib.sha256(raw).digest()
        cid = "bafkrei" + base64.b32encode(digest).decode().lower().rstrip("=")[:52]
        self.blobs[cid] = {"mimeType": mimetype, "size": len(raw), "data": raw}
        return web.json_response({"blob": {"$type": "blob", "ref": {"$link": cid}, "mimeType": mimetype,
                                           "size": len(raw)}}, headers={"DPoP-Nonce": self.pds_nonce})

    def _create_record(self, request: web.Request, session: Session, body: Any, raw: bytes) -> web.Response:
        if not isinstance(body, dict):
            return self._xrpc_error(400, "InvalidRequest", "Input must be an object")
        if body.get("repo") not in (session.did, self.accounts[session.did].handle):
            return self._xrpc_error(400, "InvalidRequest", "Input/repo must be the authenticated account")
        if body.get("collection") != "app.bsky.feed.post":
            return self._xrpc_error(400, "InvalidRequest", "This fake takes app.bsky.feed.post records")
        record = body.get("record")
        problem = self._post_problem(record)
        if problem:
            return self._xrpc_error(400, "InvalidRequest", f"Invalid app.bsky.feed.post record: {problem}")
        rkey = _tid()
        uri = f"at://{session.did}/app.bsky.feed.post/{rkey}"
        cid = f"bafyrei{next(self._cids):052d}"
        self.records[uri] = {"record": record, "cid": cid,
                             "counts": {"likeCount": 0, "repostCount": 0, "replyCount": 0, "quoteCount": 0,
                                        "bookmarkCount": 0}}
        return web.json_response({"uri": uri, "cid": cid, "commit": {"cid": "bafyreicommit", "rev": _tid()},
                                  "validationStatus": "valid"}, headers={"DPoP-Nonce": self.pds_nonce})

    def _list_records(self, request: web.Request, session: Session, body: Any, raw: bytes) -> web.Response:
        """com.atproto.repo.listRecords: a repository's records of one collection, newest first (reverse=false)."""
        repo, collection = request.query.get("repo", ""), request.query.get("collection", "")
        did = repo if repo in self.accounts else next((a.did for a in self.accounts.values() if a.handle == repo), None)
        if did is None:
            return self._xrpc_error(400, "InvalidRequest", f"Could not find repo: {repo}")
        try:
            limit = int(request.query.get("limit", "50"))
        except ValueError:
            return self._xrpc_error(400, "InvalidRequest", "Error: limit must be an integer")
        if not 1 <= limit <= 100:
            return self._xrpc_error(400, "InvalidRequest", "Error: limit can not be greater than 100")
        prefix = f"at://{did}/{collection}/"
        found = [{"uri": uri, "cid": stored["cid"], "value": stored["record"]}
                 for uri, stored in reversed(list(self.records.items())) if uri.startswith(prefix)]
        return web.json_response({"records": found[:limit]}, headers={"DPoP-Nonce": self.pds_nonce})

    def _reply_problem(self, reply: Any) -> str | None:
        """A reply's root and parent are strong refs (uri and cid) to posts that exist, the cid the one they have."""
        if not isinstance(reply, dict):
            return "Record/reply must be an object"
        for name in ("root", "parent"):
            ref = reply.get(name)
            if not isinstance(ref, dict):
                return f"Record/reply must have the property \"{name}\""
            for key in ("uri", "cid"):
                if not isinstance(ref.get(key), str) or not ref[key]:
                    return f"Record/reply/{name} must have the property \"{key}\""
            stored = self.records.get(ref["uri"])
            if stored is None or stored["cid"] != ref["cid"]:
                return f"Record/reply/{name}: could not find record {ref['uri']} with cid {ref['cid']}"
        return None

    def _post_problem(self, record: Any) -> str | None:
        """What the app.bsky.feed.post lexicon (and blob constraints) say is wrong, or None."""
        if not isinstance(record, dict) or record.get("$type") != "app.bsky.feed.post":
            return "Record/$type must be app.bsky.feed.post"
        if "reply" in record:
            problem = self._reply_problem(record["reply"])
            if problem:
                return problem
        text = record.get("text")
        if not isinstance(text, str):
            return "Record must have the property \"text\""
        if len(GRAPHEME.findall(text)) > 300:
            return "Record/text must not be longer than 300 graphemes"
        if len(text.encode()) > 3000:
            return "Record/text must not be longer than 3000 characters"
        try:
            datetime.fromisoformat(str(record.get("createdAt")).replace("Z", "+00:00"))
        except ValueError:
            return "Record/createdAt must be an valid atproto datetime"
        size = len(text.encode())
        for i, facet in enumerate(record.get("facets") or []):
            index = facet.get("index") or {}
            start, end = index.get("byteStart"), index.get("byteEnd")
            if not (isinstance(start, int) and isinstance(end, int) and 0 <= start < end <= size):
                return f"Record/facets/{i}/index must be a byte range inside the text"
            features = facet.get("features")
            if not features:
                return f"Record/facets/{i}/features must not be empty"
            for feature in features:
                kind = feature.get("$type")
                if kind not in FACET_TYPES:
                    return f"Record/facets/{i}/features has an unknown type {kind}"
                if kind.endswith("#mention") and not DID_RE.match(str(feature.get("did"))):
                    return f"Record/facets/{i}/features/0/did must be a valid did"
                if kind.endswith("#link") and not re.match(r"^[a-z][a-z0-9+.-]*:\S+$", str(feature.get("uri"))):
                    return f"Record/facets/{i}/features/0/uri must be a valid uri"
                if kind.endswith("#tag") and (not feature.get("tag") or len(GRAPHEME.findall(feature["tag"])) > 64):
                    return f"Record/facets/{i}/features/0/tag must be 1 to 64 graphemes"
        langs = record.get("langs")
        if langs is not None and (not isinstance(langs, list) or len(langs) > 3):
            return "Record/langs must not have more than 3 elements"
        embed = record.get("embed")
        if embed is None:
            return None
        kind = embed.get("$type")
        if kind == "app.bsky.embed.images":
            images = embed.get("images")
            if not isinstance(images, list) or not 1 <= len(images) <= 4:
                return "Record/embed/images must have 1 to 4 elements"
            for i, image in enumerate(images):
                if not isinstance(image.get("alt"), str):
                    return f"Record/embed/images/{i} must have the property \"alt\""
                problem = self._blob_problem(image.get("image"), "image/", 2_000_000, f"embed/images/{i}/image")
                if problem:
                    return problem
            return None
        if kind == "app.bsky.embed.video":
            alt = embed.get("alt")
            if alt is not None and (not isinstance(alt, str) or len(GRAPHEME.findall(alt)) > 1000
                                    or len(alt.encode()) > 10_000):
                return "Record/embed/alt must not be longer than 1000 graphemes"  # the lexicon's maxGraphemes
            return self._blob_problem(embed.get("video"), "video/mp4", 300_000_000, "embed/video")
        if kind == "app.bsky.embed.external":  # lexicons/app.bsky.embed.external.json
            external = embed.get("external")
            if not isinstance(external, dict):
                return "Record/embed must have the property \"external\""
            for name in ("uri", "title", "description"):
                if not isinstance(external.get(name), str):
                    return f"Record/embed/external must have the property \"{name}\""
            if not re.match(r"^[a-z][a-z0-9+.-]*:\S+$", external["uri"]):
                return "Record/embed/external/uri must be a valid uri"
            if "thumb" in external:
                return self._blob_problem(external["thumb"], "image/", 1_000_000, "embed/external/thumb")
            return None
        return f"Record/embed has an unknown type {kind}"

    def _blob_problem(self, blob: Any, accept: str, max_size: int, where: str) -> str | None:
        if not isinstance(blob, dict) or blob.get("$type") != "blob":
            return f"Record/{where} should be a blob ref"
        stored = self.blobs.get(str((blob.get("ref") or {}).get("$link")))
        if stored is None:
            return f"Record/{where}: could not find blob"
        if not stored["mimeType"].startswith(accept):
            return f"Record/{where} mimeType {stored['mimeType']} is not accepted"
        if stored["size"] > max_size:
            return f"Record/{where} file too large ({stored['size']} bytes; max {max_size})"
        return None

    # ---- the authorization server -----------------------------------------------------------------

    def _oauth_error(self, status: int, error: str, description: str) -> web.Response:
        return web.json_response({"error": error, "error_description": description}, status=status,
                                 headers={"DPoP-Nonce": self.as_nonce})

    async def _auth_server(self, request: web.Request) -> web.StreamResponse:
        body: Any = dict(await request.post()) if request.content_type == "application/x-www-form-urlencoded" else None
        call = self._record("as", request, body)
        response = await self._as_route(request, body or {})
        call.status = response.status
        return response

    async def _as_route(self, request: web.Request, form: dict) -> web.StreamResponse:
        path = request.path
        if path == "/.well-known/oauth-authorization-server":
            return web.json_response({
                "issuer": self.as_url, "authorization_endpoint": f"{self.as_url}/oauth/authorize",
                "token_endpoint": f"{self.as_url}/oauth/token",
                "pushed_authorization_request_endpoint": f"{self.as_url}/oauth/par",
                "revocation_endpoint": f"{self.as_url}/oauth/revoke",
                "require_pushed_authorization_requests": True, "scopes_supported": ["atproto", "transition:generic"],
                "response_types_supported": ["code"], "grant_types_supported": ["authorization_code", "refresh_token"],
                "code_challenge_methods_supported": ["S256"], "dpop_signing_alg_values_supported": ["ES256"],
                "token_endpoint_auth_methods_supported": ["none", "private_key_jwt"],
                "token_endpoint_auth_signing_alg_values_supported": ["ES256"],
                "authorization_response_iss_parameter_supported": True, "client_id_metadata_document_supported": True})
        if path == "/oauth/authorize" and request.method == "GET":
            return self._authorize(request)
        if request.method != "POST" or path not in ("/oauth/par", "/oauth/token", "/oauth/revoke"):
            return web.Response(status=404)
        jkt, error = self._check_proof(request, self.as_url, self.as_nonce)
        if error == "use_dpop_nonce":
            if self.nonce_every_request:
                self.rotate_nonces()
            return self._oauth_error(400, "use_dpop_nonce", "Authorization server requires nonce in DPoP proof")
        if error:
            return self._oauth_error(400, "invalid_dpop_proof", error)
        if path == "/oauth/par":
            return await self._par(form, jkt)
        if path == "/oauth/token":
            return await self._token(form, jkt)
        token = form.get("token", "")
        session = self.access.pop(token, None) or self.refresh.pop(token, None)
        if session:
            self.revoked.append(session.did)
            for table in (self.access, self.refresh):
                for key in [k for k, s in table.items() if s.did == session.did]:
                    del table[key]
        return web.Response(status=200, headers={"DPoP-Nonce": self.as_nonce})

    async def _fetch_json(self, url: str) -> dict | None:
        try:
            async with aiohttp.ClientSession() as http, http.get(url) as response:
                if response.status != 200:
                    return None
                return await response.json(content_type=None)
        except (aiohttp.ClientError, ValueError):
            return None

    async def _client_metadata(self, client_id: str) -> dict | None:
        return await self._fetch_json(client_id)

    async def _authenticate_client(self, form: dict) -> tuple[dict | None, dict | None, web.Response | None]:
        """(metadata, client auth, None) or (…, None, error): the client authenticates as its metadata
        says (@atproto/oauth-provider Client.authenticate): `none`, or `private_key_jwt` with a client
        assertion signed by a key of its JWKS (fetched from `jwks_uri`, as the real server does)."""
        metadata = await self._client_metadata(form.get("client_id", ""))
        if not metadata or metadata.get("client_id") != form.get("client_id"):
            return None, None, self._oauth_error(400, "invalid_client", "Unable to obtain client metadata")
        method = metadata.get("token_endpoint_auth_method", "none")
        if method == "none":
            return metadata, {"method": "none"}, None
        if method != "private_key_jwt":
            return metadata, None, self._oauth_error(400, "invalid_client_metadata",
                                                     f"Unsupported token_endpoint_auth_method {method}")
        assertion = form.get("client_assertion")
        if not assertion:
            return metadata, None, self._oauth_error(
                400, "invalid_request", 'client authentication method "private_key_jwt" required a "client_assertion"')
        if form.get("client_assertion_type") != ASSERTION_TYPE:
            return metadata, None, self._oauth_error(
                400, "invalid_client", f'Unsupported client_assertion_type "{form.get("client_assertion_type")}"')
        jwks = metadata.get("jwks") or (await self._fetch_json(metadata["jwks_uri"])
                                        if metadata.get("jwks_uri") else None)
        try:
            header = json.loads(base64.urlsafe_b64decode(assertion.split(".")[0] + "=="))
            kid = header.get("kid")
            if not kid:
                raise ValueError('"kid" required in client_assertion')
            jwk = next((k for k in (jwks or {}).get("keys") or [] if k.get("kid") == kid), None)
            if jwk is None:
                raise ValueError(f"no key {kid} in the client's JWKS")
            if "d" in jwk or header.get("alg") != "ES256" \
                    or metadata.get("token_endpoint_auth_signing_alg") not in (None, "ES256"):
                raise ValueError("ES256 with a public key only")
            key = ECKey.import_key(jwk)
            claims = jwt.decode(assertion, key, algorithms=["ES256"]).claims
        except (ValueError, JoseError) as exc:
            return metadata, None, self._oauth_error(400, "invalid_client",
                                                     f'Validation of "client_assertion" failed: {exc}')
        now = time.time()
        problem = None
        if claims.get("iss") != form["client_id"] or claims.get("sub") != form["client_id"]:
            problem = "iss and sub must be the client_id"
        elif claims.get("aud") != self.as_url:
            problem = f'unexpected "aud" claim {claims.get("aud")!r}'
        elif not claims.get("jti") or claims["jti"] in self._seen_jti:
            problem = "jti missing or reused"
        elif not isinstance(claims.get("iat"), int) or abs(now - claims["iat"]) > 300:
            problem = '"iat" missing or too far from now'
        elif isinstance(claims.get("exp"), int) and claims["exp"] < now:
            problem = '"exp" claim timestamp check failed'
        if problem:
            return metadata, None, self._oauth_error(400, "invalid_client",
                                                     f'Validation of "client_assertion" failed: {problem}')
        self._seen_jti.add(claims["jti"])
        return metadata, {"method": "private_key_jwt", "kid": kid, "jkt": key.thumbprint()}, None

    async def _par(self, form: dict, jkt: str) -> web.Response:
        metadata, auth, refused = await self._authenticate_client(form)
        if refused:
            return refused
        if not metadata.get("dpop_bound_access_tokens"):
            return self._oauth_error(400, "invalid_client_metadata", "DPoP-bound clients only")
        if metadata.get("token_endpoint_auth_method") == "private_key_jwt" \
                and bool(metadata.get("jwks")) == bool(metadata.get("jwks_uri")):
            return self._oauth_error(400, "invalid_client_metadata", "jwks or jwks_uri (one of them) is required")
        if form.get("redirect_uri") not in (metadata.get("redirect_uris") or []):
            return self._oauth_error(400, "invalid_request", "Invalid redirect_uri")
        scopes = form.get("scope", "").split()
        if "atproto" not in scopes or set(scopes) - set(str(metadata.get("scope", "")).split()):
            return self._oauth_error(400, "invalid_scope", "Scope must include atproto and be allowed by the client")
        if form.get("response_type") != "code" or form.get("code_challenge_method") != "S256" \
                or not form.get("code_challenge") or not form.get("state"):
            return self._oauth_error(400, "invalid_request", "PKCE S256, response_type code and state are required")
        request_uri = "urn:ietf:params:oauth:request_uri:req-" + secrets.token_hex(16)
        self.requests[request_uri] = {**form, "jkt": jkt, "auth": auth}
        return web.json_response({"request_uri": request_uri, "expires_in": 299}, status=201,
                                 headers={"DPoP-Nonce": self.as_nonce})

    def _authorize(self, request: web.Request) -> web.Response:
        """The user signs in and approves at once (the test is the browser)."""
        pushed = self.requests.pop(request.query.get("request_uri", ""), None)
        if pushed is None or request.query.get("client_id") != pushed["client_id"]:
            return web.Response(status=400, text="invalid_request: unknown or used request_uri")
        hint = pushed.get("login_hint", "")
        account = next((a for a in self.accounts.values() if a.handle == hint), next(iter(self.accounts.values())))
        code = "cod-" + secrets.token_urlsafe(24)
        self.codes[code] = {**pushed, "did": account.did}
        query = {"code": code, "state": pushed["state"], "iss": self.as_url}
        raise web.HTTPFound(f"{pushed['redirect_uri']}?{urlencode(query)}")

    @staticmethod
    def _same_key(auth: dict, previous: dict) -> str | None:
        """@atproto/oauth-provider clientAuthCheck: a session that began with a client key goes on with
        that key; one that began public may go on confidential."""
        if previous["method"] == "private_key_jwt":
            if auth["method"] != "private_key_jwt":
                return "Client authentication method mismatch (expected private_key_jwt)"
            if (auth["kid"], auth["jkt"]) != (previous["kid"], previous["jkt"]):
                return "The session was initiated with a different key than the client assertion currently used"
        return None

    async def _token(self, form: dict, jkt: str) -> web.Response:
        metadata, auth, refused = await self._authenticate_client(form)
        if refused:
            return refused
        grant_type = form.get("grant_type")
        if grant_type == "authorization_code":
            code = self.codes.pop(form.get("code", ""), None)
            if code is None:
                return self._oauth_error(400, "invalid_grant", "Invalid code")
            if form.get("client_id") != code["client_id"] or form.get("redirect_uri") != code["redirect_uri"]:
                return self._oauth_error(400, "invalid_grant", "client_id or redirect_uri mismatch")
            challenge = _b64(hashlib.sha256(form.get("code_verifier", "").encode()).digest())
            if challenge != code["code_challenge"]:
                return self._oauth_error(400, "invalid_grant", "Invalid code_verifier")
            if jkt != code["jkt"]:
                return self._oauth_error(400, "invalid_dpop_key", "DPoP key mismatch")
            if auth != code["auth"]:
                return self._oauth_error(400, "invalid_grant", "Client authentication differs from the request's")
            did, scope = code["did"], code["scope"]
        elif grant_type == "refresh_token":
            session = self.refresh.pop(form.get("refresh_token", ""), None)  # single use
            if session is None:
                return self._oauth_error(400, "invalid_grant", "Invalid refresh token")
            if jkt != session.jkt:
                return self._oauth_error(400, "invalid_dpop_key", "DPoP key mismatch")
            if session.expires < self.now():
                return self._oauth_error(400, "invalid_grant", "Refresh token expired")
            mismatch = self._same_key(auth, session.auth)
            if mismatch:
                return self._oauth_error(400, "invalid_grant", mismatch)
            did, scope = session.did, session.scope
        else:
            return self._oauth_error(400, "unsupported_grant_type", f"Unsupported grant_type {grant_type}")
        access, refresh = self._issue(did, jkt, scope, auth)
        return web.json_response({"access_token": access, "token_type": "DPoP", "refresh_token": refresh,
                                  "scope": scope, "sub": did, "expires_in": self.access_token_lifetime},
                                 headers={"DPoP-Nonce": self.as_nonce, "Cache-Control": "no-store"})


def embed_view(did: str, embed: Any) -> dict | None:
    """A record's embed as the AppView shows it in a post view (app.bsky.embed.*#view): blobs become CDN addresses
    (images: `thumb` and `fullsize`; a video: `playlist` and `thumbnail`; a link card: its `thumb`)."""
    if not isinstance(embed, dict):
        return None

    def cid(blob: Any) -> str:
        return str(((blob or {}).get("ref") or {}).get("$link", ""))

    kind = embed.get("$type")
    if kind == "app.bsky.embed.images":
        return {"$type": "app.bsky.embed.images#view", "images": [
            {"thumb": f"https://cdn.bsky.app/img/feed_thumbnail/plain/{did}/{cid(i.get('image'))}@jpeg",
             "fullsize": f"https://cdn.bsky.app/img/feed_fullsize/plain/{did}/{cid(i.get('image'))}@jpeg",
             "alt": i.get("alt", "")} for i in embed.get("images") or []]}
    if kind == "app.bsky.embed.video":
        video = cid(embed.get("video"))
        return {"$type": "app.bsky.embed.video#view", "cid": video,
                "playlist": f"https://video.bsky.app/watch/{did}/{video}/playlist.m3u8",
                "thumbnail": f"https://video.bsky.app/watch/{did}/{video}/thumbnail.jpg"}
    if kind == "app.bsky.embed.external":
        external = dict(embed.get("external") or {})
        if external.get("thumb"):
            external["thumb"] = f"https://cdn.bsky.app/img/feed_thumbnail/plain/{did}/{cid(external['thumb'])}@jpeg"
        return {"$type": "app.bsky.embed.external#view", "external": external}
    return None
