"""OAuth pieces shared by adapters: state, PKCE (S256) and authorize URLs, from authlib."""

from __future__ import annotations

from collections.abc import Mapping

from authlib.common.security import generate_token
from authlib.common.urls import add_params_to_uri
from authlib.oauth2.rfc7636 import create_s256_code_challenge

from bot.platforms.base import PKCE


def new_state() -> str:
    return generate_token(43)


def new_pkce() -> PKCE:
    verifier = generate_token(64)  # RFC 7636: 43 to 128 characters
    return PKCE(verifier=verifier, challenge=create_s256_code_challenge(verifier))


def authorize_url(base: str, params: Mapping[str, str | None], pkce: PKCE | None = None) -> str:
    query = [(k, v) for k, v in params.items() if v is not None]
    if pkce is not None:
        query += [("code_challenge", pkce.challenge), ("code_challenge_method", pkce.method)]
    return add_params_to_uri(base, query)
