"""`SlackFiles`, Slack's file host as a bot meets it: a file_input's `url_private_download` answers the
file's bytes to the bot's bearer token, and Slack's sign-in page (200, HTML) to anything else, as Slack
does when the token may not read files."""

from __future__ import annotations

import asyncio

from aiohttp import web

from bot.sandbox.fakes.base import LoopbackServer

BOT_TOKEN = "xoxb-fake-T0001"  # the fake Slack's bot token for T0001 (see conftest)
SIGN_IN_PAGE = "<!DOCTYPE html><html><body>Sign in to Slack</body></html>"


class SlackFiles(LoopbackServer):
    """`files` maps a name to its bytes (served as PNG) or to (bytes, content type); a name not there
    gets `any_name`'s bytes as PNG if given (a test may attach a file of any name), else 404. A name in
    `huge` streams, without a length, far more than any cap allows (`huge_finished` says if it all went).
    `delay` holds each download back that many seconds; `requests` counts what was asked."""

    def __init__(self, files: dict[str, bytes | tuple[bytes, str]] | None = None, *, token: str = BOT_TOKEN,
                 any_name: bytes | None = None, huge: tuple[str, ...] = ()):
        super().__init__()
        self.files = {name: found if isinstance(found, tuple) else (found, "image/png")
                      for name, found in (files or {}).items()}
        self.token, self.any_name, self.huge = token, any_name, set(huge)
        self.delay, self.requests, self.huge_finished = 0.0, 0, False

    def applications(self) -> list[web.Application]:
        app = web.Application()
        app.router.add_get("/files-pri/{name}", self.download)
        return [app]

    def put(self, name: str, data: bytes, content_type: str = "image/png") -> None:
        with self.lock:
            self.files[name] = (data, content_type)

    def link(self, name: str) -> str:
        return f"{self.url}/files-pri/{name}"

    def file(self, name: str, *, sized: bool = True, **extra) -> dict:
        """The file as a file_input's state lists it (without its size if not `sized`: then only the
        download's answer tells it), with `extra` fields over it."""
        data, kind = self._found(name) or (b"", "image/png")
        listed = {"id": f"F{name.split('.')[0].upper()}", "name": name, "mimetype": kind, "size": len(data),
                  "url_private": self.link(name), "url_private_download": self.link(name)}
        if not sized:
            del listed["size"]
        return {**listed, **extra}

    def _found(self, name: str) -> tuple[bytes, str] | None:
        with self.lock:
            found = self.files.get(name)
        if found is None and self.any_name is not None:
            return self.any_name, "image/png"
        return found

    async def download(self, request: web.Request) -> web.StreamResponse:
        self.requests += 1
        await asyncio.sleep(self.delay)
        name = request.match_info["name"]
        if request.headers.get("Authorization") != f"Bearer {self.token}":
            return web.Response(text=SIGN_IN_PAGE, content_type="text/html")
        if name in self.huge:
            return await self._endless(request)
        found = self._found(name)
        if found is None:
            return web.Response(status=404, text="file_not_found")
        data, kind = found
        return web.Response(body=data, content_type=kind)

    async def _endless(self, request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "image/png"})  # chunked: no Content-Length
        await response.prepare(request)
        for _ in range(256):  # 256 MB: more than any socket buffer holds
            await response.write(b"\0" * (1024 * 1024))
        self.huge_finished = True
        return response
