"""A sandbox killed without warning (kill -9, a laptop's battery running out) and started again keeps what people
did: the connection and the post on the simulated X, and the simulated Slack's messages (the post's status message
Picmim edits, the review card with its reaction, App Home). `python -m bot sandbox` runs as a person starts it, and is
driven over HTTP as its page drives it (/sandbox/do, /sandbox/state) and as a browser follows the sign-in links."""

from __future__ import annotations

import html
import json
import re
import sys
from pathlib import Path
from urllib.parse import urljoin

import httpx
import pytest

from tests.journeys import wait_until
from tests.server import ServerProcess, base_env, free_port

MARIA, SAM = "U0MARIA", "U0SAM"
MARKETING, APPROVALS = "C0MARKETING", "C0APPROVALS"
TEXT = "Our autumn beans are in, posted before the sandbox was killed"


class SandboxProcess(ServerProcess):
    name = "the sandbox"
    log_prefix = "picmim-sandbox-"

    def command(self) -> list[str]:
        return [sys.executable, "-m", "bot", "sandbox"]


class Page:
    """What the sandbox page's script does: read the page's parts, send what a person does."""

    def __init__(self, base: str):
        self.base = base
        self.http = httpx.Client(timeout=30)

    def state(self, user: str, place: str) -> dict:
        return self.http.get(f"{self.base}/sandbox/state", params={"as": user, "in": place}).json()

    def do(self, user: str, **what) -> None:
        answer = self.http.post(f"{self.base}/sandbox/do", json={"as": user, **what})
        assert answer.json() == {"ok": True}, answer.text

    def say(self, user: str, channel: str, text: str) -> None:
        self.do(user, kind="say", channel=channel, text=text)

    def feed(self) -> str:
        return self.http.get(f"{self.base}/sandbox/x").text


def _surface(main: str, containing: str) -> dict:
    """The message (its channel and ts) whose article contains `containing`."""
    for match in re.finditer(r'<article class="msg[^"]*" data-surface="([^"]+)"(.*?)</article>', main, re.S):
        if containing in match.group(2):
            return json.loads(html.unescape(match.group(1)))
    raise AssertionError(f"no message containing {containing!r}")


def _connect_x(page: Page) -> None:
    """/picmim connect x, its button, Continue to X, Allow on the simulated X, then Save in Picmim's message."""
    page.say(MARIA, MARKETING, "/picmim connect x")
    main = wait_until(lambda: (m := page.state(MARIA, MARKETING)["main"]) and "/connect/" in m and m, "the reply")
    browser = httpx.Client(timeout=30)
    signin = browser.get(html.unescape(re.findall(r'href="([^"]+/connect/[^"]+)"', main)[-1]))
    onward = html.unescape(re.search(r'<a[^>]*href="([^"]+)"[^>]*>Continue to X', signin.text).group(1))
    consent = browser.get(onward)
    action = html.unescape(re.search(r'<form method="post" action="([^"]+)"', consent.text).group(1))
    back = browser.post(urljoin(onward, action), data={"answer": "allow"})
    assert "X is connected" in browser.get(back.headers["location"]).text
    dm = wait_until(lambda: (m := page.state(MARIA, "D0MARIA")["main"]) and "choose_accounts_save" in m and m,
                    "Picmim's message asking which accounts")
    [account] = re.findall(r'name="choose_accounts_0.choose_accounts_boxes" value="(\d+)"', dm)
    page.do(MARIA, kind="act", surface=_surface(dm, "choose_accounts_save"), block="auto-2",
            action="choose_accounts_save", value=None,
            values=[["choose_accounts_0", "choose_accounts_boxes", [account]]])
    wait_until(lambda: "Picmim now manages" in page.state(MARIA, "D0MARIA")["main"], "the accounts saved")


def _post_ids(main: str) -> set[str]:
    """The X posts the status messages link to (their x.com addresses, opened in the sandbox feed)."""
    return set(re.findall(r"status%2F(\d+)", main))


def _post_and_approve(page: Page, text: str) -> str:
    """A post to X from the compose window, approved by Sam's ✅; the X post's id once it is live."""
    before = _post_ids(page.state(MARIA, MARKETING)["main"])
    page.say(MARIA, MARKETING, "/picmim post")
    modal = wait_until(lambda: (m := page.state(MARIA, MARKETING)["modal"]) and "compose_accounts" in m and m,
                       "the compose window")
    [view] = re.findall(r'data-view="([^"]+)"', modal)
    [account] = re.findall(r'<option value="(\d+)">X · ', modal)
    page.do(MARIA, kind="submit", view_id=view,
            values=[["compose_accounts", "compose_accounts_input", [account]],
                    ["compose_text", "compose_text_input", text], ["compose_when", "compose_when_input", "now"]])
    card = wait_until(lambda: text in (m := page.state(SAM, APPROVALS)["main"]) and m, "the review card")
    page.do(SAM, kind="react", **_surface(card, text), name="white_check_mark")
    [post_id] = wait_until(lambda: _post_ids(page.state(MARIA, MARKETING)["main"]) - before,
                           "the status message's link to the post")
    return post_id


def _holds(saved: Path, text: str) -> bool:
    return saved.exists() and text.encode() in saved.read_bytes()


@pytest.fixture
def folder(tmp_path) -> Path:
    folder = tmp_path / "folder"
    folder.mkdir()
    (folder / ".env").write_text((Path(__file__).resolve().parent.parent / ".env.example").read_text())
    return folder


def _sandbox(folder: Path, port: int) -> SandboxProcess:
    return SandboxProcess(base_env(PORT=str(port), PUBLIC_URL=f"http://127.0.0.1:{port}"), cwd=folder).start()


def test_a_killed_sandbox_keeps_the_connection_the_post_and_the_slack_messages(folder):
    port = free_port()
    first = _sandbox(folder, port)
    try:
        page = Page(first.url)
        _connect_x(page)
        post_id = _post_and_approve(page, TEXT)
        assert TEXT in page.feed()
        page.say(MARIA, MARKETING, "Hello from before the kill")
        page.http.get(f"{first.url}/sandbox", params={"as": MARIA, "in": "home"})  # opening it: app_home_opened
        wait_until(lambda: "New post" in page.state(MARIA, "home")["main"], "App Home")
        # Saved soon after each change (the sandbox is never asked to stop): then it is killed.
        kept = folder / "picmim-sandbox"
        wait_until(lambda: _holds(kept / "networks.pickle", post_id), "the networks saved", 10)
        wait_until(lambda: _holds(kept / "slack.pickle", "Hello from before the kill"), "Slack saved", 10)
        first.proc.kill()
        first.proc.wait(10)
    finally:
        first.stop()

    again = _sandbox(folder, port)
    try:
        page = Page(again.url)
        marketing = page.state(MARIA, MARKETING)["main"]
        assert "Hello from before the kill" in marketing
        assert f"status%2F{post_id}" in marketing, "the status message Picmim edits is still there, with its link"
        approvals = page.state(SAM, APPROVALS)["main"]
        assert TEXT in approvals and "✅ 1" in approvals, "the review card with Sam's reaction"
        assert "New post" in page.state(MARIA, "home")["main"], "App Home as Picmim last published it"
        feed = page.feed()
        assert TEXT in feed and f'id="post-{post_id}"' in feed, "the post on the simulated X"
        # The connection still works at the simulated X (its grant was kept): the next post goes out through it,
        # with an id of its own.
        later = _post_and_approve(page, "And this one after the restart")
        assert later != post_id
        feed = page.feed()
        assert feed.index("And this one after the restart") < feed.index(TEXT), "newest first, both there"
    finally:
        again.stop()
