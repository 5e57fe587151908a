"""A small local media host: serves bytes at `/media/{token}` (and any other path a test names) the
way Picmim serves `PUBLIC_URL/media/{token}` to platforms that pull media, recording each fetch.

Also home of `LoopbackServer`, the aiohttp-on-a-background-thread base the TikTok, YouTube and
Bluesky fakes run on (the pattern of tests/fakes/slack.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import secrets
import threading
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from aiohttp import web


class LoopbackServer:
    """One or more aiohttp applications on free loopback ports, in a thread with its own loop."""

    thread_name = "fake"

    def __init__(self) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None
        self._runners: list[web.AppRunner] = []
        self._thread: threading.Thread | None = None
        self.ports: list[int] = []
        self.lock = threading.Lock()
        self._stopping: asyncio.Event | None = None

    def applications(self) -> list[web.Application]:
        raise NotImplementedError

    def start(self):
        ready = threading.Event()
        failure: list[BaseException] = []

        def run() -> None:
            self._loop = asyncio.new_event_loop()
            asyncio.set_event_loop(self._loop)
            try:
                self._loop.run_until_complete(self._serve())
            except BaseException as exc:  # noqa: BLE001 - handed to the starting thread
                failure.append(exc)
                ready.set()
                return
            ready.set()
            self._loop.run_forever()

        self._thread = threading.Thread(target=run, name=self.thread_name, daemon=True)
        self._thread.start()
        if not ready.wait(10) or failure:
            raise RuntimeError(f"{self.thread_name} did not start: {failure}")
        return self

    async def _serve(self) -> None:
        self._stopping = asyncio.Event()
        for app in self.applications():
            runner = web.AppRunner(app, access_log=None)
            await runner.setup()
            site = web.TCPSite(runner, "127.0.0.1", 0)
            await site.start()
            self._runners.append(runner)
            self.ports.append(site._server.sockets[0].getsockname()[1])

    async def held(self, seconds: float) -> None:
        """Hold an answer back (to make a client time out) until `seconds` pass or the server stops."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), seconds)

    def stop(self) -> None:
        if self._loop is None:
            return
        self._loop.call_soon_threadsafe(self._stopping.set)
        for runner in self._runners:
            asyncio.run_coroutine_threadsafe(runner.cleanup(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    def run(self, coro: Coroutine[Any, Any, Any]) -> Any:
        """Run a coroutine on the server's loop (for controls that touch server state)."""
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(10)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.ports[0]}"


@dataclass
class Fetch:
    path: str
    user_agent: str | None


class MediaFiles(LoopbackServer):
    thread_name = "fake-media-files"

    def __init__(self) -> None:
        super().__init__()
        self.files: dict[str, tuple[bytes, str]] = {}
        self.fetches: list[Fetch] = []
        self.on_fetch: Callable[[str], None] | None = None

    def applications(self) -> list[web.Application]:
        app = web.Application()
        app.router.add_get("/{path:.*}", self._get)
        return [app]

    def serve(self, data: bytes, content_type: str, path: str | None = None) -> str:
        """Publish `data` and return its URL (a fresh `/media/{token}` unless `path` is given)."""
        path = path or f"/media/{secrets.token_urlsafe(12)}"
        with self.lock:
            self.files[path] = (data, content_type)
        return self.url + path

    def fetched(self, url: str) -> int:
        path = url.removeprefix(self.url)
        with self.lock:
            return sum(1 for f in self.fetches if f.path == path)

    def clear(self) -> None:
        with self.lock:
            self.files.clear()
            self.fetches.clear()

    async def _get(self, request: web.Request) -> web.Response:
        with self.lock:
            self.fetches.append(Fetch(request.path, request.headers.get("User-Agent")))
            found = self.files.get(request.path)
        if found is None:
            return web.Response(status=404, text="not found")
        data, content_type = found
        return web.Response(body=data, content_type=content_type.split(";")[0])


# ---- media made at test time ------------------------------------------------------------------------


@functools.lru_cache(maxsize=64)  # bytes are immutable: tests share the encodings
def make_image(width: int = 800, height: int = 600, fmt: str = "PNG", mode: str = "RGB", **save: Any) -> bytes:
    """A picture with some detail (so it compresses like a photo, not like a flat colour)."""
    import io

    from PIL import Image, ImageDraw

    image = Image.new(mode, (width, height), (30, 120, 200, 255)[: len(mode)] if mode != "L" else 128)
    draw = ImageDraw.Draw(image)
    for i in range(0, max(width, height), 16):
        draw.line([(i, 0), (0, i)], fill=(255, (i * 7) % 255, 0, 180)[: len(mode)] if mode != "L" else i % 255,
                  width=3)
    buf = io.BytesIO()
    image.save(buf, fmt, **save)
    return buf.getvalue()


@functools.lru_cache(maxsize=64)
def make_video(seconds: float = 1.0, fps: int = 30, width: int = 640, height: int = 360, fmt: str = "mp4",
               pad_to: int | None = None) -> bytes:
    """A few frames of video (a few KB). `pad_to` grows an MP4 to that many bytes with a `free` box at
    the end, which every MP4 reader skips: a large, valid file without encoding one."""
    import io

    import av
    import numpy as np

    buf = io.BytesIO()
    codec = "libvpx" if fmt == "webm" else "mpeg4"
    with av.open(buf, "w", format=fmt) as container:
        stream = container.add_stream(codec, rate=fps)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        for i in range(max(1, round(seconds * fps))):
            frame = np.full((height, width, 3), (i * 9) % 255, dtype=np.uint8)
            for packet in stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    data = buf.getvalue()
    if pad_to and pad_to > len(data) + 8:
        size = pad_to - len(data)
        data += size.to_bytes(4, "big") + b"free" + bytes(size - 8)
    return data


def payload(data: bytes, kind: str | None = None, url: str | None = None, filename: str = "",
            alt_text: str | None = None, chunk: int = 64 * 1024):
    """A MediaPayload of these bytes, its facts found by bot.media, streamed in `chunk`-byte pieces."""
    from bot import media
    from bot.platforms.base import MediaPayload

    kind = kind or ("video" if data[4:8] in (b"ftyp", b"moov") or data[:4] == b"\x1aE\xdf\xa3" else "image")
    inspect = media.inspect_video if kind == "video" else media.inspect_image
    facts = inspect(data, id=f"m{len(data)}", filename=filename, alt_text=alt_text)

    async def read():
        for start in range(0, len(data), chunk):
            yield data[start:start + chunk]

    return MediaPayload(facts=facts, public_url=url, read=read)
