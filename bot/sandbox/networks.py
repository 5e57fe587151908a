"""A minimal stand-in for the sandbox's simulated networks (only X, consenting at once), kept so the
simulated Slack and the tour can be developed before the networks land; replaced by the full module.

The interface is the one the sandbox's start-up uses: start/stop, the app's environment, the feed
routes under /sandbox/<platform> and what a feed holds."""

from __future__ import annotations

import html
import pathlib

from aiohttp import web

from bot.sandbox.fakes.x import CALL, FakeX


class _SandboxX(FakeX):
    """The fake X, also reached by a browser at its loopback address (its consent page)."""

    def _on_host(self, host: str, handler):
        async def on_host(request: web.Request):
            if request.host.split(":")[0] not in (host, "127.0.0.1"):
                return self.not_found(request)
            return await handler(request, request[CALL])

        return on_host


class Networks:
    def __init__(self, public_url: str, state_dir: pathlib.Path):
        self.public_url = public_url.rstrip("/")
        self.state_dir = state_dir
        self.x = _SandboxX()

    def start(self) -> Networks:
        self.x.start()
        self.x.redirect_uris = {f"{self.public_url}/oauth/x/callback"}
        return self

    def stop(self) -> None:
        self.x.stop()

    def environment(self) -> dict[str, str]:
        overrides = ",".join(f"{real}={local}" for real, local in self.x.origins().items())
        return {"X_CLIENT_ID": self.x.client_id, "X_CLIENT_SECRET": self.x.client_secret,
                "PICMIM_ORIGIN_OVERRIDES": overrides}

    def add_routes(self, app: web.Application) -> None:
        app.router.add_get("/sandbox/{platform:(x)}", self._feed)

    def posts(self, platform: str) -> list[dict]:
        if platform != "x":
            return []
        return [{"text": p["text"], "link": f"https://x.com/i/web/status/{p['id']}", "media": p["media_ids"],
                 "figures": dict(p["public_metrics"])} for p in list(self.x.posts.values())]

    async def _feed(self, request: web.Request) -> web.Response:
        items = "".join(f"<article><p>{html.escape(p['text'])}</p></article>" for p in self.posts("x"))
        return web.Response(content_type="text/html",
                            text=f"<!DOCTYPE html><title>X · Picmim sandbox</title><h1>X</h1>{items}")
