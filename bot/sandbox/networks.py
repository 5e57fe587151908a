"""A minimal stand-in for the sandbox's simulated networks (only X, consenting at once), kept so the
simulated Slack and the tour can be developed before the networks land; replaced by the full module.

The interface is the one the sandbox's start-up uses: start/stop, the app's environment, the feed
routes under /sandbox/<platform> and what a feed holds."""

from __future__ import annotations

import html
import pathlib

from aiohttp import web

from bot.sandbox.fakes.x import FakeX


class Networks:
    def __init__(self, public_url: str, state_dir: pathlib.Path):
        self.public_url = public_url.rstrip("/")
        self.state_dir = state_dir
        self.x = FakeX()

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
