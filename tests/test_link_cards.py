"""The link card fetcher (bot/platforms/link_cards.py): what it refuses (non-public addresses, redirects to them,
too many redirects, pages too big or too slow) and what it reads from a page's Open Graph tags. No test leaves
the machine: a mapped origin (PICMIM_ORIGIN_OVERRIDES) is answered by httpx's MockTransport, and a refused
address is never even asked."""

from __future__ import annotations

import asyncio
import io
import os
import socket

import httpx
import pytest
from PIL import Image

from bot.http import OriginOverrideTransport
from bot.platforms import link_cards
from bot.platforms.link_cards import LinkRefused, fetch_card, fetch_image, first_link, shrunk

SITE = "https://roastery.example"
PAGE = (b"<html><head><title>Ignored when og:title is set</title>"
        b'<meta property="og:title" content="New roast: Yirgacheffe &amp; friends">'
        b'<meta property="og:description" content="Bright, floral, and out this week.">'
        b'<meta property="og:image" content="/img/card.jpg"></head><body>hello</body></html>')


class Site:
    """The mapped website: answers by path, recording every URL it was asked for."""

    def __init__(self, routes):
        self.routes = routes
        self.asked: list[str] = []

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        self.asked.append(str(request.url))
        answer = self.routes.get(request.url.path)
        if answer is None:
            return httpx.Response(404)
        return await answer() if callable(answer) else answer


def _client(site: Site) -> httpx.AsyncClient:
    transport = OriginOverrideTransport({SITE: "http://127.0.0.1:9"}, inner=httpx.MockTransport(site))
    return httpx.AsyncClient(transport=transport)


@pytest.fixture(autouse=True)
def _no_cache():
    link_cards._cache.clear()
    yield
    link_cards._cache.clear()


@pytest.mark.parametrize("url", ["http://127.0.0.1:3000/slack/events", "http://localhost:5432/",
                                 "http://10.1.2.3/admin", "http://192.168.0.1/", "http://172.16.5.5/",
                                 "http://169.254.169.254/latest/meta-data/", "http://[::1]/", "http://0.0.0.0/",
                                 "http://[::ffff:10.0.0.1]/"])
async def test_private_loopback_and_link_local_addresses_are_refused_unasked(url):
    site = Site({})
    async with _client(site) as http:
        with pytest.raises(LinkRefused, match="private or local"):
            await fetch_card(http, url)
    assert site.asked == []


async def test_only_http_and_https_links_are_opened():
    async with _client(Site({})) as http:
        with pytest.raises(LinkRefused, match="http and https"):
            await fetch_card(http, "file:///etc/passwd")


async def test_a_redirect_to_a_private_address_is_refused_before_it_is_followed():
    site = Site({"/article": httpx.Response(302, headers={"Location": "http://10.0.0.5/admin"}),
                 "/meta": httpx.Response(301, headers={"Location": "http://169.254.169.254/latest/"})})
    async with _client(site) as http:
        for path in ("/article", "/meta"):
            with pytest.raises(LinkRefused, match="private or local"):
                await fetch_card(http, SITE + path)
    assert all(url.startswith("http://127.0.0.1:9/") for url in site.asked), site.asked


async def test_too_many_redirects_are_refused():
    site = Site({f"/{n}": httpx.Response(302, headers={"Location": f"/{n + 1}"}) for n in range(10)})
    async with _client(site) as http:
        with pytest.raises(LinkRefused, match="redirects more than 3"):
            await fetch_card(http, SITE + "/0")
    assert len(site.asked) == 4


async def test_an_oversized_page_is_refused_without_reading_it_all():
    huge = b"<html><head>" + b"x" * (3 * 1024 * 1024)

    async def streamed():  # no Content-Length: the fetcher stops reading past the limit
        async def body():
            for start in range(0, len(huge), 65536):
                yield huge[start:start + 65536]
        return httpx.Response(200, headers={"Content-Type": "text/html"}, content=body())

    site = Site({"/big": httpx.Response(200, headers={"Content-Type": "text/html"}, content=huge),
                 "/stream": streamed})
    async with _client(site) as http:
        for path in ("/big", "/stream"):
            with pytest.raises(LinkRefused, match="over 2 MB"):
                await fetch_card(http, SITE + path)


async def test_a_slow_page_is_given_up_on():
    async def slow():
        await asyncio.sleep(5)
        return httpx.Response(200, headers={"Content-Type": "text/html"}, content=PAGE)

    async with _client(Site({"/slow": slow})) as http:
        started = asyncio.get_running_loop().time()
        with pytest.raises(LinkRefused, match="took longer than 0.3 seconds"):
            await fetch_card(http, SITE + "/slow", seconds=0.3)
        assert asyncio.get_running_loop().time() - started < 2


async def test_a_page_that_is_not_html_makes_no_card():
    site = Site({"/file.zip": httpx.Response(200, headers={"Content-Type": "application/zip"}, content=b"PK")})
    async with _client(site) as http:
        with pytest.raises(LinkRefused, match="application/zip"):
            await fetch_card(http, SITE + "/file.zip")


async def test_the_card_reads_open_graph_tags_and_the_picture_is_fetched_and_shrunk():
    photo = Image.frombytes("RGB", (1600, 1200), os.urandom(1600 * 1200 * 3))  # noise: big as JPEG
    buffer = io.BytesIO()
    photo.save(buffer, "JPEG", quality=98)
    picture = buffer.getvalue()
    assert len(picture) > 1_000_000
    site = Site({"/roast": httpx.Response(301, headers={"Location": "/news/roast"}),
                 "/news/roast": httpx.Response(200, headers={"Content-Type": "text/html; charset=utf-8"},
                                               content=PAGE),
                 "/img/card.jpg": httpx.Response(200, headers={"Content-Type": "image/jpeg"}, content=picture)})
    async with _client(site) as http:
        card = await fetch_card(http, SITE + "/roast")
        assert card.url == SITE + "/roast"
        assert card.title == "New roast: Yirgacheffe & friends"
        assert card.description == "Bright, floral, and out this week."
        assert card.image_url == SITE + "/img/card.jpg"
        data, kind = await fetch_image(http, card.image_url)
    assert kind == "image/jpeg" and data == picture
    small, kind = shrunk(data, 1_000_000)
    assert len(small) <= 1_000_000 and kind == "image/jpeg"


def test_the_first_link_leaves_the_sentence_punctuation_out():
    assert first_link("New beans! See https://roastery.example/news/roast. Or not.") == \
        "https://roastery.example/news/roast"
    assert first_link("(https://en.wikipedia.org/wiki/Coffee_(drink))") == "https://en.wikipedia.org/wiki/Coffee_(drink)"
    assert first_link("no link here") is None


def _resolving(monkeypatch, address: str) -> None:
    """Name look-ups answer `address` (no DNS server is asked)."""
    async def getaddrinfo(self, host, port, **kw):
        return [(socket.AF_INET6 if ":" in address else socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port))]
    monkeypatch.setattr(type(asyncio.get_running_loop()), "getaddrinfo", getaddrinfo)


async def test_a_name_that_resolves_to_a_private_address_is_refused(monkeypatch):
    _resolving(monkeypatch, "10.20.30.40")
    site = Site({})
    async with httpx.AsyncClient(transport=httpx.MockTransport(site)) as http:
        with pytest.raises(LinkRefused, match="private or local"):
            await fetch_card(http, "https://intranet.roastery.example/")
    assert site.asked == []


async def test_the_checked_address_is_the_one_connected_to_with_the_sites_own_name(monkeypatch):
    """No second look-up between the check and the connection (DNS rebinding): the request goes to the checked
    address, with the site's Host header and TLS server name."""
    _resolving(monkeypatch, "93.184.216.34")
    seen: list[httpx.Request] = []

    async def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, headers={"Content-Type": "text/html"}, content=PAGE)

    async with httpx.AsyncClient(transport=httpx.MockTransport(answer)) as http:
        card = await fetch_card(http, "https://news.roastery.example:8443/roast")
    [request] = seen
    assert request.url.host == "93.184.216.34" and request.url.port == 8443 and request.url.path == "/roast"
    assert request.headers["Host"] == "news.roastery.example:8443"
    assert request.extensions["sni_hostname"] == "news.roastery.example"
    assert card.url == "https://news.roastery.example:8443/roast"
    assert card.image_url == "https://news.roastery.example:8443/img/card.jpg", "relative to the site, not the IP"


async def test_a_connection_that_breaks_while_reading_is_a_refusal_not_a_crash():
    async def broken():
        async def body():
            yield b"<html><head>"
            raise httpx.ReadError("connection reset")
        return httpx.Response(200, headers={"Content-Type": "text/html"}, content=body())

    async with _client(Site({"/broken": broken})) as http:
        with pytest.raises(LinkRefused, match="could not read"):
            await fetch_card(http, SITE + "/broken")


async def test_a_media_file_is_a_picture_up_to_5_mb_or_an_mp4_or_mov_video_up_to_10_mb_handed_over_in_chunks():
    video = os.urandom(7 * 1024 * 1024)  # over the picture limit, within the video limit
    sent = 0

    async def endless_video():  # no Content-Length: 30 MB offered, the fetcher must stop soon after 10 MB
        async def body():
            nonlocal sent
            for _ in range(480):
                sent += 65536
                yield b"\0" * 65536
        return httpx.Response(200, headers={"Content-Type": "video/mp4"}, content=body())

    site = Site({"/clip.mov": httpx.Response(200, headers={"Content-Type": "video/quicktime"}, content=video),
                 "/endless.mp4": endless_video,
                 "/big.jpg": httpx.Response(200, headers={"Content-Type": "image/jpeg"}, content=video),
                 "/clip.webm": httpx.Response(200, headers={"Content-Type": "video/webm"}, content=b"webm"),
                 "/page": httpx.Response(200, headers={"Content-Type": "text/html"}, content=PAGE)})
    written: list[bytes] = []

    async def write(chunk: bytes) -> None:
        written.append(chunk)

    async with _client(site) as http:
        assert await link_cards.fetch_media(http, SITE + "/clip.mov", write) == "video/quicktime"
        assert b"".join(written) == video and len(written) > 1, "in chunks, all of it"
        written.clear()
        with pytest.raises(LinkRefused, match="The link leads to a file over 10 MB"):
            await link_cards.fetch_media(http, SITE + "/endless.mp4", write)
        assert sum(map(len, written)) <= link_cards.MAX_VIDEO_BYTES
        assert sent < 11 * 1024 * 1024, "the rest was never read"
        with pytest.raises(LinkRefused, match="over 5 MB"):
            await link_cards.fetch_media(http, SITE + "/big.jpg", write)
        for path, kind in (("/clip.webm", "video/webm"), ("/page", "text/html")):
            with pytest.raises(LinkRefused, match=f"leads to {kind} rather than a picture or an MP4 or MOV video"):
                await link_cards.fetch_media(http, SITE + path, write)
        with pytest.raises(LinkRefused, match="private or local addresses"):
            await link_cards.fetch_media(http, "http://10.0.0.7/clip.mp4", write)
