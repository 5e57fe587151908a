"""A small local media host: serves bytes at `/media/…` (and any other path a test names) the way
Picmim serves `PUBLIC_URL/media/{token}` to platforms that pull media (Meta, TikTok), recording the
path of each fetch."""

from __future__ import annotations

import io
import itertools
import secrets

from aiohttp import web
from PIL import Image

from bot.platforms.base import MediaPayload
from bot.sandbox.fakes.base import LoopbackServer
from tests.fakes.media import media_payload


class MediaHost(LoopbackServer):
    def __init__(self) -> None:
        super().__init__()
        self.files: dict[str, tuple[bytes, str]] = {}  # path -> (bytes, content type)
        self.fetches: list[str] = []  # paths, in the order they were fetched
        self._ids = itertools.count(1)

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

    def put(self, filename: str, data: bytes, content_type: str) -> str:
        """Serve `data`; returns its public URL (the name in it is unique, the filename kept for reading)."""
        return self.serve(data, content_type, f"/media/{next(self._ids)}-{filename}")

    def fetched(self, url: str) -> int:
        path = url.removeprefix(self.url)
        with self.lock:
            return self.fetches.count(path)

    def reset(self) -> None:
        with self.lock:
            self.files.clear()
            self.fetches.clear()

    async def _get(self, request: web.Request) -> web.Response:
        with self.lock:
            self.fetches.append(request.path)
            found = self.files.get(request.path)
        if found is None:
            return web.Response(status=404, text="not found")
        data, content_type = found
        return web.Response(body=data, content_type=content_type.split(";")[0])

    def payload(self, filename: str, data: bytes, *, mimetype: str, kind: str = "image",
                duration: float | None = None, width: int | None = None, height: int | None = None,
                served_as: str | None = None) -> MediaPayload:
        """An attachment as the media pipeline hands it to an adapter. `mimetype` is what the pipeline
        believes; the bytes served are `data` (so a test can lie about them, as a renamed file does)."""
        if kind == "image" and width is None:
            with Image.open(io.BytesIO(data)) as img:
                width, height = img.size
        return media_payload(data, mimetype, id=filename, kind=kind, filename=filename, duration=duration,
                             size=None if width is None else (width, height), chunk=len(data) or 1,
                             public_url=self.put(filename, data, served_as or mimetype))
