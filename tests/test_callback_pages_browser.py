"""The sign-in pages as a person sees them: one X connect through the real server, where the link from Slack
and the platform's redirect back are opened in Debian's headless Chromium. It reads the rendered DOM and
takes a screenshot of each page (saved under pytest's tmp_path; `pytest -s` prints the paths)."""

from __future__ import annotations

import html
import re
import subprocess
from pathlib import Path

import httpx
import pytest
from PIL import Image

from tests import journeys
from tests.conftest import IN_CI
from tests.journeys import consent, private_link

# The connect test's real server with the fake X, and its fixtures, for this module too.
fake_x, connect_server, x, browser = journeys.fake_x, journeys.connect_server, journeys.x, journeys.browser
sender = journeys.connect_sender

CHROMIUM = Path("/usr/bin/chromium")
WINDOW = (800, 700)
BACKGROUND = (0xF6, 0xF4, 0xFB)
CARD = (0xFF, 0xFF, 0xFF)
BUTTON = (0x3B, 0x2A, 0x63)


@pytest.fixture
def chromium() -> Path:
    if not CHROMIUM.exists():
        reason = f"needs Debian's Chromium at {CHROMIUM} (apt-get install chromium)"
        if IN_CI:
            pytest.fail(reason + "; CI installs it in .ci/run")
        pytest.skip(reason)
    return CHROMIUM


def _open(chromium: Path, url: str, screenshot: Path) -> str:
    """Loads url once (callback URLs are single-use) and returns the rendered DOM, screenshotting it."""
    run = subprocess.run(
        [str(chromium), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         f"--user-data-dir={screenshot.parent / (screenshot.stem + '-profile')}",
         f"--window-size={WINDOW[0]},{WINDOW[1]}", f"--screenshot={screenshot}", "--dump-dom", url],
        capture_output=True, text=True, timeout=120)
    assert run.returncode == 0 and screenshot.is_file(), run.stderr[-3000:]
    print(f"\nscreenshot of {url.split('?')[0]}: {screenshot}")
    return run.stdout


def _looks_like_the_page(screenshot: Path) -> None:
    with Image.open(screenshot) as image:
        assert image.format == "PNG" and image.size == WINDOW
        pixels = image.convert("RGB")
    counts = {colour: n for n, colour in pixels.getcolors(WINDOW[0] * WINDOW[1])}
    assert pixels.getpixel((2, 2)) == BACKGROUND, "the light purple page around the card"
    assert counts.get(BACKGROUND, 0) > 0.3 * WINDOW[0] * WINDOW[1]
    assert counts.get(CARD, 0) > 0.15 * WINDOW[0] * WINDOW[1], "the white card"
    assert counts.get(BUTTON, 0) > 2000, "the dark purple Back to Slack button"
    assert len(counts) > 20, "text is drawn, not a flat page"


async def test_the_link_success_and_used_link_pages_in_chromium(chromium, sender, slack, browser, x,
                                                                 connect_server, tmp_path):
    assert sender.command("connect x", response_url=slack.response_url("browser")).status_code == 200
    link = private_link(slack, "browser")

    # The link's own page: whose link, for which workspace, and the way on to X (a plain link, no script).
    dom = _open(chromium, link, tmp_path / "link.png")
    assert "<title>Connect an X account to Acme’s Picmim for Maria · Picmim</title>" in dom
    assert "<h1>Connect an X account to Acme’s Picmim for Maria</h1>" in dom
    assert "Not Maria, or not expecting this link?" in dom
    [href] = re.findall(r'<a class="button" href="([^"]+)">Continue to X</a>', dom)
    continue_to = httpx.URL(html.unescape(href))
    # X's consent page, at the fake X that PICMIM_ORIGIN_OVERRIDES sends x.com to.
    assert str(continue_to.copy_with(query=None)) == f"{x.url}/i/oauth2/authorize"
    assert continue_to.params["state"] == httpx.URL(link).path.rsplit("/", 1)[1]
    _looks_like_the_page(tmp_path / "link.png")
    assert not x.calls_to("/i/oauth2/authorize"), "opening the page sent nobody to X"

    back = str(await consent(browser, link))  # Chromium's visit used nothing up: the link still works
    dom = _open(chromium, back, tmp_path / "success.png")
    assert "<title>X is connected (Acme Marketing) · Picmim</title>" in dom
    assert "<h1>X is connected (Acme Marketing)</h1>" in dom
    assert "<dt>Account</dt><dd>Acme Marketing (@acmemktg)</dd>" in dom
    assert "<dt>Slack workspace</dt><dd>Acme</dd><dt>For</dt><dd>Maria</dd>" in dom
    assert "a message from Picmim is waiting" in dom
    assert '<a class="button" href="slack://open?team=T0001">Back to Slack</a>' in dom
    _looks_like_the_page(tmp_path / "success.png")
    [dm] = slack.wait_for("chat.postMessage")
    assert dm.params["channel"] == "U0001", "Chromium's visit finished the connect"

    dom = _open(chromium, back, tmp_path / "used-link.png")  # the same single-use link again
    assert "<h1>This link was already used</h1>" in dom
    assert "This sign-in link was already used." in dom
    assert '<a class="button" href="slack://open?team=T0001">Back to Slack</a>' in dom
    _looks_like_the_page(tmp_path / "used-link.png")

    dom = _open(chromium, link, tmp_path / "used-link-page.png")  # the link from Slack, once more
    assert "<h1>This link was already used</h1>" in dom
    assert "Get a new one in Slack with <code>/picmim connect x</code>." in dom
    assert "Continue to" not in dom
