"""Picmim's client authentication keys for Bluesky: what makes it a *confidential* atproto OAuth client.

The atproto OAuth spec ("Confidential Client Authentication" and "Tokens and Session Lifetime",
https://atproto.com/specs/oauth — bluesky-social/atproto-website src/app/[locale]/specs/oauth/en.mdx, read
2026-12): a confidential client declares `token_endpoint_auth_method: private_key_jwt` and publishes its
public keys (here at `jwks_uri`), and authenticates every PAR and token request with a `client_assertion`
JWT of type `urn:ietf:params:oauth:client-assertion-type:jwt-bearer`, ES256, with a `kid`. The authorization
server binds a session to the key it started with; refresh tokens of confidential clients may live up to
180 days (public clients: about two weeks on Bluesky), so scheduled posts and metrics keep working.

The claims follow Bluesky's own client (bluesky-social/atproto packages/oauth/oauth-client/src/
oauth-client-auth.ts): iss = sub = client_id, aud = the authorization server's issuer, a fresh jti, iat, and
a short exp (60 s).

Keys are EC P-256 private keys. The first of a `ClientKeys` signs new sessions; the others are previous
keys, still published and still used by the sessions that began with them (rotation). Each key's `kid` is
the one its JWK names, else its RFC 7638 thumbprint. Where they come from (the BLUESKY_CLIENT_KEY setting,
or a row made on first start) is bot.app's business; `install` puts them in place for this process.
"""

from __future__ import annotations

import json
import logging
import re
import secrets
import time
from collections.abc import Iterable
from typing import Any

from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import ECKey

log = logging.getLogger(__name__)

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
ALG = "ES256"
ASSERTION_SECONDS = 60
PEM = re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----.+?-----END [A-Z ]*PRIVATE KEY-----", re.DOTALL)


class ClientKeyError(ValueError):
    """A client key cannot be used; the message says what to do."""


def new_key() -> ECKey:
    return ECKey.generate_key("P-256", private=True)


def kid_of(key: ECKey) -> str:
    return key.kid or key.thumbprint()


def to_jwk(key: ECKey) -> dict[str, Any]:
    """The private JWK, with its kid (to store, encrypted)."""
    return {**key.as_dict(private=True), "kid": kid_of(key)}


def _import(value: Any) -> ECKey:
    try:
        key = ECKey.import_key(value)
    except (ValueError, TypeError, JoseError) as exc:
        raise ClientKeyError(f"it is not an EC key ({exc.__class__.__name__})") from None
    if key.curve_name != "P-256" or not key.is_private:
        raise ClientKeyError("it must be a private EC key on the P-256 curve (for ES256)")
    if isinstance(value, dict) and value.get("kid"):
        key = ECKey.import_key({**key.as_dict(private=True), "kid": value["kid"]})
    return key


def parse_keys(text: str) -> list[ECKey]:
    """BLUESKY_CLIENT_KEY: one private key or several (the first signs new sessions), as a JWK, a JSON
    list of JWKs, a JWKS (`{"keys": [...]}`), or one or more PEM blocks."""
    text = text.strip()
    if not text:
        return []
    if text.startswith(("{", "[")):
        try:
            data = json.loads(text)
        except ValueError:
            raise ClientKeyError("it is not valid JSON") from None
        items = data.get("keys") if isinstance(data, dict) and "keys" in data else data
        items = items if isinstance(items, list) else [items]
        keys = [_import(item) for item in items]
    else:
        blocks = PEM.findall(text)
        if not blocks:
            raise ClientKeyError("it is neither a JWK (JSON) nor a PEM private key")
        keys = [_import(block.encode()) for block in blocks]
    if not keys:
        raise ClientKeyError("it holds no key")
    kids = [kid_of(k) for k in keys]
    if len(set(kids)) != len(kids):
        raise ClientKeyError("two of its keys have the same kid")
    return keys


class ClientKeys:
    """The client's signing keys: `current` for new sessions, every one published in the JWKS."""

    def __init__(self, keys: Iterable[ECKey]):
        self.keys = tuple(keys)
        if not self.keys:
            raise ClientKeyError("a confidential client needs at least one key")
        self.by_kid = {kid_of(k): k for k in self.keys}

    @property
    def current(self) -> str:
        return kid_of(self.keys[0])

    def __contains__(self, kid: object) -> bool:
        return kid in self.by_kid

    def public_jwks(self) -> dict[str, Any]:
        """The JWKS served at jwks_uri: public halves only."""
        return {"keys": [{**k.as_dict(private=False), "kid": kid_of(k), "use": "sig", "alg": ALG}
                         for k in self.keys]}

    def assertion(self, client_id: str, audience: str, kid: str | None = None) -> str:
        """A fresh client assertion JWT, signed with the key `kid` (default: the current one)."""
        kid = kid or self.current
        key = self.by_kid[kid]
        now = int(time.time())
        claims = {"iss": client_id, "sub": client_id, "aud": audience, "jti": secrets.token_urlsafe(16),
                  "iat": now, "exp": now + ASSERTION_SECONDS}
        return jwt.encode({"alg": ALG, "kid": kid, "typ": "JWT"}, claims, key)

    def form(self, client_id: str, audience: str, kid: str | None = None) -> dict[str, str]:
        """The client authentication fields of a PAR or token request."""
        return {"client_assertion_type": ASSERTION_TYPE,
                "client_assertion": self.assertion(client_id, audience, kid)}


_installed: ClientKeys | None = None


def install(keys: ClientKeys | Iterable[ECKey]) -> ClientKeys:
    """Put this process's keys in place (bot.app does it at start, from the setting or the stored row)."""
    global _installed
    _installed = keys if isinstance(keys, ClientKeys) else ClientKeys(keys)
    return _installed


def installed() -> ClientKeys:
    """This process's keys. Without `install` (a script, a test) a key is made for this process only:
    sessions started with it need a reconnect once the process ends."""
    global _installed
    if _installed is None:
        log.warning("No Bluesky client key was installed; using a temporary one for this process.")
        _installed = ClientKeys([new_key()])
    return _installed
