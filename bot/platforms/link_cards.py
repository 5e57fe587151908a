"""Link cards: the title, description and picture a web page gives in its Open Graph tags, fetched the safe way.

A post's link is typed by anyone in the workspace, so fetching it must not become a way into the network Picmim
runs in: only http(s), no loopback, private, link-local or other non-public addresses (checked before every hop,
redirects followed by hand, at most MAX_REDIRECTS; the connection goes to the address checked, so a second DNS
answer cannot swap in a private one), a time limit for the whole fetch and a size limit on what is
read. An origin that PICMIM_ORIGIN_OVERRIDES maps elsewhere is the operator's own choice (sandboxes, tests) and
is let through. Everything goes through the one shared HTTP client (bot/http.py).

Used by the compose window (the preview), by the Bluesky and LinkedIn adapters (the card they publish) and by bulk
import (a row's media_url: a picture or a video, streamed).
"""

from __future__ import annotations

import asyncio
import html
import ipaddress
import re
import socket
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from html.parser import HTMLParser

import httpx

from bot.http import overridden

PAGE_TIMEOUT = 5.0  # seconds for a whole fetch, redirects included
MAX_PAGE_BYTES = 2 * 1024 * 1024  # the head of any sane page is far smaller
MAX_IMAGE_BYTES = 5 * 1024 * 1024
MAX_VIDEO_BYTES = 10 * 1024 * 1024  # as the compose window takes a file (bot/handlers/attachments.py)
VIDEO_TYPES = ("video/mp4", "video/quicktime")
MEDIA_TIMEOUT = 30.0  # seconds for a picture or video file: 10 MB from a slow site takes longer than a page
CHUNK_BYTES = 256 * 1024  # read (and handed on) at a time, whatever sizes the site sends
MAX_REDIRECTS = 3
TITLE_MAX = 300  # characters kept of a page's title and description: cards show a line or two
DESCRIPTION_MAX = 1000
CACHE_SECONDS = 600.0
CACHE_SIZE = 256

LINK = re.compile(r"https?://[^\s<>\"'`]+", re.IGNORECASE)
_TRAILING = ".,;:!?)]}'\""


class LinkRefused(Exception):
    """The page or picture could not be fetched; the message says why in a marketer's words."""


@dataclass(frozen=True)
class LinkCard:
    url: str  # the link as written in the post
    title: str
    description: str = ""
    image_url: str | None = None  # absolute; fetched with fetch_image when the card is published


def first_link(text: str | None) -> str | None:
    """The first http(s) link in a text, without the punctuation that ends a sentence."""
    found = LINK.search(text or "")
    if not found:
        return None
    link = found.group(0)
    while link and link[-1] in _TRAILING:
        if link[-1] == ")" and link.count("(") >= link.count(")"):
            break
        link = link[:-1]
    return link or None


async def _check_address(http: httpx.AsyncClient, url: httpx.URL) -> str | None:
    """The public address to connect to (None for an origin PICMIM_ORIGIN_OVERRIDES maps); raises LinkRefused."""
    if url.scheme not in ("http", "https") or not url.host:
        raise LinkRefused("Picmim only opens http and https links.")
    if overridden(http, url):
        return None
    host = url.host
    try:
        addresses = [ipaddress.ip_address(host)]
    except ValueError:
        try:
            infos = await asyncio.get_running_loop().getaddrinfo(host, url.port or 443, type=socket.SOCK_STREAM)
        except (OSError, UnicodeError):
            raise LinkRefused(f"Picmim could not find the website {host}: check the link.") from None
        addresses = [ipaddress.ip_address(info[4][0].split("%")[0]) for info in infos]
    for address in addresses:
        mapped = getattr(address, "ipv4_mapped", None)
        if not (mapped or address).is_global or address.is_multicast:
            raise LinkRefused(f"Picmim does not open links to private or local addresses ({host}).")
    return str(addresses[0])


def _pinned(http: httpx.AsyncClient, url: httpx.URL, address: str | None, headers: dict[str, str]) -> httpx.Request:
    """The request, sent to the address that was checked rather than to a second look-up of the name (which a
    hostile DNS server could answer with a private address): the Host header and TLS's server name (SNI and the
    certificate check) stay the site's own."""
    if address is None or address == url.host:
        return http.build_request("GET", url, headers=headers)
    extensions = {"sni_hostname": url.host} if url.scheme == "https" else {}
    return http.build_request("GET", url.copy_with(host=address), headers={**headers, "Host": url.netloc.decode()},
                              extensions=extensions)


async def _get(http: httpx.AsyncClient, url: str, accept: Mapping[str, int], wanted: str,
               write: Callable[[bytes], Awaitable[None]] | None = None) -> tuple[bytes, str, str]:
    """The body, its content type and the final URL, following redirects by hand. `accept` maps each content
    type taken (or its start, "image/") to the most bytes read of it; `wanted` names them for a person. With
    `write`, the body goes to it a chunk at a time instead of being kept (the bytes returned are empty)."""
    current = httpx.URL(url)
    for _hop in range(MAX_REDIRECTS + 1):
        address = await _check_address(http, current)
        request = _pinned(http, current, address, {"Accept": ", ".join(accept) + ", */*;q=0.1"})
        try:
            response = await http.send(request, stream=True, follow_redirects=False)
        except httpx.HTTPError as exc:
            raise LinkRefused(f"Picmim could not open {current.host} ({type(exc).__name__}).") from None
        try:
            if response.is_redirect:
                location = response.headers.get("location")
                if not location:
                    raise LinkRefused("The page redirects nowhere.")
                current = current.join(location)
                continue
            if response.status_code >= 400:
                raise LinkRefused(f"{current.host} answered HTTP {response.status_code}.")
            kind = response.headers.get("content-type", "").split(";")[0].strip().lower()
            max_bytes = next((limit for start, limit in accept.items() if kind.startswith(start)), None)
            if max_bytes is None:
                raise LinkRefused(f"The link leads to {kind or 'something'} rather than {wanted}.")
            too_large = f"The link leads to a file over {max_bytes / (1024 * 1024):g} MB."
            declared = response.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > max_bytes:
                raise LinkRefused(too_large)
            body, size = bytearray(), 0
            async for chunk in response.aiter_bytes(CHUNK_BYTES):
                size += len(chunk)
                if size > max_bytes:  # leaving the block closes the connection: the rest is never read
                    raise LinkRefused(too_large)
                if write is None:
                    body += chunk
                else:
                    await write(chunk)
            charset = response.charset_encoding or "utf-8"
            return bytes(body), f"{kind}; charset={charset}", str(current)
        except httpx.HTTPError as exc:  # the connection broke while reading
            raise LinkRefused(f"Picmim could not read {current.host} ({type(exc).__name__}).") from None
        finally:
            await response.aclose()
    raise LinkRefused(f"The link redirects more than {MAX_REDIRECTS} times.")


async def _bounded(coroutine, seconds: float, what: str):
    try:
        async with asyncio.timeout(seconds):
            return await coroutine
    except TimeoutError:
        raise LinkRefused(f"{what} took longer than {seconds:g} seconds to answer.") from None


class _OpenGraph(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.meta: dict[str, str] = {}
        self.title = ""
        self._in_title = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {k.lower(): v or "" for k, v in attrs}
        if tag == "meta":
            key = (found.get("property") or found.get("name") or "").lower()
            if key and "content" in found:
                self.meta.setdefault(key, found["content"].strip())
        elif tag == "title":
            self._in_title = True

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self._in_title = False

    def handle_data(self, data: str) -> None:
        if self._in_title and len(self.title) < TITLE_MAX * 2:
            self.title += data


def parse_card(url: str, page: str, base: str) -> LinkCard:
    """The card from a page's Open Graph tags (og:title, og:description, og:image), with the <title> and the
    description meta tag as fall-backs."""
    parser = _OpenGraph()
    parser.feed(page)
    meta = parser.meta
    title = html.unescape(meta.get("og:title") or meta.get("twitter:title") or parser.title).strip()
    description = html.unescape(meta.get("og:description") or meta.get("twitter:description")
                                or meta.get("description") or "").strip()
    image = meta.get("og:image:secure_url") or meta.get("og:image") or meta.get("twitter:image")
    image_url = str(httpx.URL(base).join(image.strip())) if image else None
    if image_url and not image_url.startswith(("http://", "https://")):
        image_url = None
    title = " ".join(title.split())[:TITLE_MAX] or httpx.URL(url).host
    return LinkCard(url=url, title=title, description=" ".join(description.split())[:DESCRIPTION_MAX],
                    image_url=image_url)


_cache: dict[str, tuple[float, LinkCard]] = {}


async def fetch_card(http: httpx.AsyncClient, url: str, *, seconds: float = PAGE_TIMEOUT,
                     max_bytes: int = MAX_PAGE_BYTES, cached: bool = True) -> LinkCard:
    """The page's card; raises LinkRefused. Cards are kept a few minutes, so the compose window's previews and
    the post itself ask the page once."""
    now = time.monotonic()
    if cached and (hit := _cache.get(url)) and hit[0] > now:
        return hit[1]
    pages = {"text/html": max_bytes, "application/xhtml+xml": max_bytes}
    body, kind, final = await _bounded(_get(http, url, pages, "a web page"), seconds, "The page")
    encoding = kind.partition("charset=")[2] or "utf-8"
    try:
        page = body.decode(encoding, errors="replace")
    except LookupError:
        page = body.decode("utf-8", errors="replace")
    card = parse_card(url, page, final)
    if len(_cache) >= CACHE_SIZE:
        _cache.pop(next(iter(_cache)))
    _cache[url] = (now + CACHE_SECONDS, card)
    return card


async def fetch_image(http: httpx.AsyncClient, url: str, *, seconds: float = PAGE_TIMEOUT,
                      max_bytes: int = MAX_IMAGE_BYTES) -> tuple[bytes, str]:
    """A card's picture: (bytes, content type); raises LinkRefused."""
    body, kind, _ = await _bounded(_get(http, url, {"image/": max_bytes}, "a picture"), seconds, "The picture")
    return body, kind.split(";")[0]


async def fetch_media(http: httpx.AsyncClient, url: str, write: Callable[[bytes], Awaitable[None]], *,
                      seconds: float = MEDIA_TIMEOUT) -> str:
    """A picture (up to MAX_IMAGE_BYTES) or an MP4 or MOV video (up to MAX_VIDEO_BYTES) at a public address,
    handed to `write` a chunk at a time, so no more than a chunk is ever held: its content type; raises
    LinkRefused (the part already written is then the caller's to throw away)."""
    taken = {"image/": MAX_IMAGE_BYTES} | dict.fromkeys(VIDEO_TYPES, MAX_VIDEO_BYTES)
    _, kind, _ = await _bounded(_get(http, url, taken, "a picture or an MP4 or MOV video", write), seconds,
                                "The file")
    return kind.split(";")[0]


def shrunk(data: bytes, max_bytes: int, max_side: int = 2000) -> tuple[bytes, str]:
    """A picture as JPEG or PNG within max_bytes (Pillow, through the media pipeline); raises LinkRefused."""
    from bot.media.errors import MediaError
    from bot.media.pictures import convert_image

    try:
        return convert_image(data, ("image/jpeg", "image/png"), max_bytes=max_bytes, max_width=max_side,
                             max_height=max_side)
    except (MediaError, OSError, ValueError) as exc:
        raise LinkRefused(f"The page's picture could not be used ({exc}).") from None
