"""The one shared HTTP client for platform calls, with PICMIM_ORIGIN_OVERRIDES applied to every request."""

from __future__ import annotations

from collections.abc import Mapping

import httpx

TIMEOUT = httpx.Timeout(connect=10.0, read=60.0, write=60.0, pool=10.0)
LIMITS = httpx.Limits(max_connections=100, max_keepalive_connections=20, keepalive_expiry=30.0)
USER_AGENT = "PicmimForSlack/0.1"


class OriginOverrideTransport(httpx.AsyncBaseTransport):
    """Sends requests for a listed origin (scheme://host[:port]) to another one instead.

    Used for sandboxes, gateways and the tests' fake platforms; the request keeps its path,
    query, body and headers, so an adapter cannot tell the difference."""

    def __init__(self, overrides: Mapping[str, str], inner: httpx.AsyncBaseTransport | None = None):
        self._overrides = {k.rstrip("/"): httpx.URL(v) for k, v in overrides.items()}
        self._inner = inner or httpx.AsyncHTTPTransport(limits=LIMITS, http2=False)

    def rewrite(self, url: httpx.URL) -> httpx.URL:
        origin = f"{url.scheme}://{url.netloc.decode()}"
        target = self._overrides.get(origin)
        if target is None:
            return url
        return url.copy_with(scheme=target.scheme, host=target.host, port=target.port)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        request.url = self.rewrite(request.url)
        return await self._inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self._inner.aclose()


def for_browser(overrides: Mapping[str, str], url: str) -> str:
    """`url` with PICMIM_ORIGIN_OVERRIDES applied, for a link a person's browser follows (a sign-in page): when the
    operator sends a platform's origin elsewhere (a sandbox's simulator), the browser must go there too."""
    return str(OriginOverrideTransport(overrides, inner=_NO_TRANSPORT).rewrite(httpx.URL(url)))


class _Unused(httpx.AsyncBaseTransport):
    """Stands in for the inner transport where only `rewrite` is used."""


_NO_TRANSPORT = _Unused()


def build_client(overrides: Mapping[str, str]) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=OriginOverrideTransport(overrides),
        timeout=TIMEOUT,
        headers={"User-Agent": USER_AGENT},
        follow_redirects=False,
    )


def overridden(client: httpx.AsyncClient, url: httpx.URL | str) -> bool:
    """Whether PICMIM_ORIGIN_OVERRIDES sends this URL elsewhere (the operator's own mapping: the link card fetcher
    lets such an origin through even when it points at a local address)."""
    transport = getattr(client, "_transport", None)  # httpx keeps the transport given to the client here
    if not isinstance(transport, OriginOverrideTransport):
        return False
    url = httpx.URL(url)
    return transport.rewrite(url) != url
