"""A tiny local web server that serves attachments for fake platforms to fetch (as Meta, TikTok and
Pinterest fetch from Picmim's PUBLIC_URL), plus real image bytes made with Pillow at test time."""

from __future__ import annotations

import asyncio
import atexit
import io
import itertools
import threading
from collections.abc import AsyncIterator

from aiohttp import web
from PIL import Image

from bot.platforms.base import MediaFacts, MediaPayload


class MediaHost:
    def __init__(self) -> None:
        self.files: dict[str, tuple[bytes, str]] = {}
        self.fetches: list[str] = []  # names, in the order they were fetched
        self._ids = itertools.count(1)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._runner: web.AppRunner | None = None
        self._thread: threading.Thread | None = None
        self.port = 0

    def start(self) -> MediaHost:
        ready = threading.Event()

        def run() -> None:
            self._loop = asyncio.new_event_loop()
            self._loop.run_until_complete(self._serve())
            ready.set()
            self._loop.run_forever()

        self._thread = threading.Thread(target=run, name="media-host", daemon=True)
        self._thread.start()
        if not ready.wait(10):
            raise RuntimeError("the media host did not start")
        return self

    async def _serve(self) -> None:
        app = web.Application()
        app.router.add_get("/media/{name}", self._get)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]

    def stop(self) -> None:
        if self._loop is None:
            return
        asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    async def _get(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
        self.fetches.append(name)
        if name not in self.files:
            return web.Response(status=404, text="not found")
        data, content_type = self.files[name]
        return web.Response(body=data, content_type=content_type)

    def reset(self) -> None:
        self.files.clear()
        self.fetches.clear()

    def put(self, filename: str, data: bytes, content_type: str) -> str:
        """Serve `data`; returns its public URL (the name in it is unique, the filename kept for reading)."""
        name = f"{next(self._ids)}-{filename}"
        self.files[name] = (data, content_type)
        return f"http://127.0.0.1:{self.port}/media/{name}"

    def payload(self, filename: str, data: bytes, *, mimetype: str, kind: str = "image",
                duration: float | None = None, width: int | None = None, height: int | None = None,
                served_as: str | None = None) -> MediaPayload:
        """An attachment as the media pipeline hands it to an adapter. `mimetype` is what the pipeline
        believes; the bytes served are `data` (so a test can lie about them, as a renamed file does)."""
        if kind == "image" and width is None:
            with Image.open(io.BytesIO(data)) as img:
                width, height = img.size
        url = self.put(filename, data, served_as or mimetype)
        facts = MediaFacts(id=filename, kind=kind, mimetype=mimetype, size_bytes=len(data), width=width,
                           height=height, duration=duration, filename=filename)

        async def read() -> AsyncIterator[bytes]:
            yield data

        return MediaPayload(facts=facts, public_url=url, read=read)


# ---- real media bytes -----------------------------------------------------------------------------

def image_bytes(width: int, height: int, fmt: str = "JPEG", *, pad_to: int | None = None) -> bytes:
    """A real image; `pad_to` appends bytes after the image data so the file reaches that size (Pillow
    and every decoder still read it, as they ignore what follows the image)."""
    out = io.BytesIO()
    Image.new("RGB", (width, height), (200, 120, 40)).save(out, fmt)
    data = out.getvalue()
    if pad_to and pad_to > len(data):
        data += b"\0" * (pad_to - len(data))
    return data


def jpeg(width: int = 1080, height: int = 1080, **kw) -> bytes:
    return image_bytes(width, height, "JPEG", **kw)


def png(width: int = 1080, height: int = 1080, **kw) -> bytes:
    return image_bytes(width, height, "PNG", **kw)


def webp(width: int = 1080, height: int = 1080) -> bytes:
    return image_bytes(width, height, "WEBP")


def mp4(size: int = 4096, brand: bytes = b"isom") -> bytes:
    """Bytes that start like an MP4 (an `ftyp` box); enough for a fake that checks the container type."""
    box = (24).to_bytes(4, "big") + b"ftyp" + brand + b"\0\0\x02\0" + brand + b"mp41"
    return box + b"\0" * max(0, size - len(box))


def webm(size: int = 4096) -> bytes:
    return b"\x1a\x45\xdf\xa3" + b"\0" * (size - 4)


_shared: MediaHost | None = None


def shared_media_host() -> MediaHost:
    """One media host per test process, started on first use and stopped at exit."""
    global _shared
    if _shared is None:
        _shared = MediaHost().start()
        atexit.register(_shared.stop)
    return _shared
