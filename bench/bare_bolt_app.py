"""A bare bolt app for bench/ack.py: `/picmim` only acks; nothing else happens.

It is the baseline Picmim's acknowledgement latency is compared with. Started by bench/ack.py as a
subprocess; it reads its settings from the environment:

    BENCH_PORT            the port to listen on (127.0.0.1 only)
    BENCH_SLACK_API_URL   the fake Slack Web API base URL
    BENCH_SIGNING_SECRET  the signing secret requests are signed with
    BENCH_BOT_TOKEN       the bot token the fake Slack knows (default xoxb-fake-T0001)

GET /healthz answers 200 once the server listens.
"""

from __future__ import annotations

import os

from aiohttp import web
from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient


def build() -> web.Application:
    app = AsyncApp(
        client=AsyncWebClient(token=os.environ.get("BENCH_BOT_TOKEN", "xoxb-fake-T0001"),
                              base_url=os.environ["BENCH_SLACK_API_URL"]),
        signing_secret=os.environ["BENCH_SIGNING_SECRET"],
    )

    @app.command("/picmim")
    async def picmim(ack) -> None:
        await ack()

    async def healthz(_request: web.Request) -> web.Response:
        return web.json_response({"ok": True})

    web_app = app.web_app(path="/slack/events")
    web_app.router.add_get("/healthz", healthz)
    return web_app


def main() -> None:
    # access_log=None and print=None: the same quiet set-up Picmim's server uses (no per-request log line).
    web.run_app(build(), host="127.0.0.1", port=int(os.environ["BENCH_PORT"]), access_log=None, print=None)


if __name__ == "__main__":
    main()
