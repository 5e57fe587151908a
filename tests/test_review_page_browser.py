"""The review page as a reviewer without Slack sees it: Debian's headless Chromium opens a review link served by
the real server, runs the page's one script (allowed by its hash in the page's Content-Security-Policy: the time
shows in the reader's zone), clicks Approve, follows the redirect and reads what the page says; the card in Slack
then shows the decision. Chromium is driven over the DevTools protocol (aiohttp's WebSocket client)."""

from __future__ import annotations

import asyncio
import base64
import itertools
import json
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import pytest

from bot.storage.models import PostStatus
from tests import journeys, test_approvals_e2e
from tests.conftest import IN_CI
from tests.test_approvals_e2e import _card_says, _compose, _post
from tests.test_review_links_e2e import share

fake_x, compose_server = journeys.fake_x, journeys.compose_server
sender, account_id = journeys.compose_sender, journeys.account_id
people, approval = test_approvals_e2e.people, test_approvals_e2e.approval

CHROMIUM = Path("/usr/bin/chromium")


@pytest.fixture
def chromium() -> Path:
    if not CHROMIUM.exists():
        reason = f"needs Debian's Chromium at {CHROMIUM} (apt-get install chromium)"
        if IN_CI:
            pytest.fail(reason + "; CI installs it in .ci/run")
        pytest.skip(reason)
    return CHROMIUM


class Browser:
    """One headless Chromium page, driven over the DevTools protocol."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse):
        self.ws, self.ids, self.events = ws, itertools.count(1), []

    async def call(self, method: str, **params) -> dict:
        call_id = next(self.ids)
        await self.ws.send_json({"id": call_id, "method": method, "params": params})
        while True:
            message = json.loads((await self.ws.receive(timeout=60)).data)
            if message.get("id") == call_id:
                assert "error" not in message, message
                return message.get("result", {})
            self.events.append(message)

    async def loaded(self) -> None:
        """Until the page's load event (one seen while waiting for an answer counts)."""
        async with asyncio.timeout(60):
            while not any(e.get("method") == "Page.loadEventFired" for e in self.events):
                self.events.append(json.loads((await self.ws.receive()).data))
        self.events.clear()

    async def evaluate(self, expression: str):
        return (await self.call("Runtime.evaluate", expression=expression, returnByValue=True))["result"].get("value")


async def _with_chromium(chromium: Path, profile: Path, steps):
    process = await asyncio.create_subprocess_exec(
        str(chromium), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--remote-debugging-port=0", "--remote-allow-origins=*", f"--user-data-dir={profile}",
        "--window-size=900,1400", "about:blank", stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL)
    try:
        port_file = profile / "DevToolsActivePort"
        deadline = time.monotonic() + 60
        while not (port_file.exists() and port_file.read_text().strip()):
            assert time.monotonic() < deadline and process.returncode is None, "Chromium did not start"
            await asyncio.sleep(0.1)
        port = port_file.read_text().split()[0]
        async with aiohttp.ClientSession() as http:
            async with http.get(f"http://127.0.0.1:{port}/json/list") as answer:
                [page] = [t for t in await answer.json() if t["type"] == "page"]
            async with http.ws_connect(page["webSocketDebuggerUrl"], max_msg_size=0) as ws:
                browser = Browser(ws)
                await browser.call("Page.enable")
                return await steps(browser)
    finally:
        process.terminate()
        try:
            async with asyncio.timeout(10):
                await process.wait()
        except TimeoutError:
            process.kill()
            await process.wait()


def test_a_reviewer_approves_in_chromium(chromium, sender, slack, fake_x, account_id, module_database,
                                               approval, tmp_path):
    at = (datetime.now(UTC) + timedelta(days=2)).replace(second=0, microsecond=0)
    post = _compose(sender, account_id, module_database.url, "Seen in a browser", at=at)
    link = share(sender, slack, post, "Ana at Client")

    async def steps(browser: Browser) -> dict:
        await browser.call("Page.navigate", url=link)
        await browser.loaded()
        seen = {"before": await browser.evaluate("document.body.innerText"),
                "time": await browser.evaluate("document.querySelector('time').textContent")}
        shot = await browser.call("Page.captureScreenshot", format="png")
        (tmp_path / "review.png").write_bytes(base64.b64decode(shot["data"]))
        await browser.evaluate("document.querySelector('button.approve').click()")
        await browser.loaded()
        seen["after"] = await browser.evaluate("document.body.innerText")
        seen["url"] = await browser.evaluate("location.href")
        return seen

    seen = asyncio.run(_with_chromium(chromium, tmp_path / "profile", steps))
    print(f"\nscreenshot of the review page: {tmp_path / 'review.png'}")
    assert "Review a post" in seen["before"] and "Hello Ana at Client" in seen["before"]
    assert "X · Acme Marketing (@acmemktg)" in seen["before"] and post.text in seen["before"]
    assert seen["time"].endswith("(your time)"), "the page's script ran under its CSP and showed the local time"
    assert "Your decision is in" in seen["after"] and "You approved this post" in seen["after"]
    assert seen["url"] == link, "after the POST, the browser was sent back to the link (a reload posts nothing)"
    assert _post(module_database.url, post.id).status is PostStatus.SCHEDULED
    _card_says(slack, post, "Approved by Ana at Client (review link)")
