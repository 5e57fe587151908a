"""The sandbox as a person meets it: `python -m bot sandbox` started as the README says, its page opened in Debian's
headless Chromium (driven by Playwright, never downloading a browser), and the whole tour done by clicking, typing,
choosing a file and reacting, as the marketer and the approver. Each step checks what the page shows; screenshots
of each step are kept in tests/artifacts/sandbox-tour/ (git-ignored, kept by CI as artefacts)."""

from __future__ import annotations

import io
import re
import shutil
import sqlite3
import sys
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from PIL import Image

from tests.conftest import IN_CI
from tests.journeys import wait_until
from tests.server import ServerProcess, base_env, free_port

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = Path(__file__).resolve().parent / "artifacts" / "sandbox-tour"
WAIT_MS = 20_000


class SandboxProcess(ServerProcess):
    name = "the sandbox"
    log_prefix = "picmim-sandbox-"

    def command(self) -> list[str]:
        return [sys.executable, "-m", "bot", "sandbox"]


@pytest.fixture
def chromium() -> Path:
    if not CHROMIUM.exists():
        reason = f"needs Debian's Chromium at {CHROMIUM} (apt-get install chromium)"
        if IN_CI:
            pytest.fail(reason + "; CI installs it in .ci/run")
        pytest.skip(reason)
    return CHROMIUM


@pytest.fixture
def sandbox(tmp_path):
    """`python -m bot sandbox` in a fresh folder holding a .env copied from .env.example (empty values)."""
    folder = tmp_path / "folder"
    folder.mkdir()
    (folder / ".env").write_text((Path(__file__).resolve().parent.parent / ".env.example").read_text())
    port = free_port()
    server = SandboxProcess(base_env(PORT=str(port), PUBLIC_URL=f"http://127.0.0.1:{port}"), cwd=folder).start()
    yield server, folder
    server.stop()


@pytest.fixture
def browser(chromium):
    if IN_CI:
        import playwright.sync_api as playwright_api  # the test extra installs it: CI fails without it
    else:
        playwright_api = pytest.importorskip("playwright.sync_api")
    with playwright_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(chromium), headless=True,
                                              args=["--no-sandbox", "--disable-gpu"])
        yield launched
        launched.close()


def _query(database: Path, sql: str, *args) -> list[tuple]:
    with sqlite3.connect(database) as db:
        return db.execute(sql, args).fetchall()


def _picture(path: Path) -> Path:
    image = Image.new("RGB", (1200, 800), (40, 120, 200))
    for x in range(0, 1200, 40):
        for y in range(0, 800, 40):
            image.putpixel((x, y), (255, 255, 255))
    out = io.BytesIO()
    image.save(out, "PNG")
    path.write_bytes(out.getvalue())
    return path


def _watch_leaving(context) -> tuple[set[str], list[str]]:
    """The hosts every page of `context` sends a request to, and what the page's own policy refused to load."""
    hosts: set[str] = set()
    refused: list[str] = []

    def seen(request) -> None:
        parts = urlsplit(request.url)
        if parts.scheme in ("http", "https", "ws", "wss"):
            hosts.add(parts.hostname or "")

    def said(message) -> None:
        if "Refused to load" in message.text or "Refused to connect" in message.text:
            refused.append(message.text)

    context.on("request", seen)
    context.on("console", said)
    return hosts, refused


class Person:
    """One browser tab on the sandbox page, with screenshots numbered in order."""

    def __init__(self, page, base: str, shots: Path):
        self.page, self.base, self.shots = page, base, shots
        self.count = 0

    def shot(self, name: str) -> Path:
        self.count += 1
        path = self.shots / f"{self.count:02d}-{name}.png"
        self.page.screenshot(path=str(path))
        print(f"\nscreenshot: {path}")
        return path

    def open(self, user: str, place: str) -> None:
        self.page.goto(f"{self.base}/sandbox?as={user}&in={place}")

    def type(self, text: str) -> None:
        box = self.page.locator("#message-box")
        box.fill(text)
        box.press("Enter")

    def modal(self):
        dialog = self.page.locator("form.modal")
        dialog.wait_for(timeout=WAIT_MS)
        return dialog

    def field(self, label: str):
        """The input under a label in the open window."""
        label_shown = self.page.locator(".bk-label", has_text=re.compile("^" + re.escape(label)))
        return self.modal().locator(".bk-input", has=label_shown).first

    def step_done(self, key: str) -> None:
        self.page.locator(f'.tour li.done[data-step="{key}"]').wait_for(timeout=WAIT_MS)


def test_the_whole_tour_in_chromium(browser, sandbox, tmp_path):
    server, folder = sandbox
    assert "Picmim's sandbox is ready: open" in server.output()
    shots = SCREENSHOTS
    shutil.rmtree(shots, ignore_errors=True)
    shots.mkdir(parents=True)
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    hosts, refused = _watch_leaving(context)
    maria = Person(context.new_page(), server.url, shots)
    page = maria.page

    # The workspace: three channels, the three people, the tour with nothing done.
    maria.open("U0MARIA", "C0MARKETING")
    assert page.locator(".sidebar").inner_text().split("\n")[1:4] == ["# marketing", "# approvals", "# alerts"]
    assert page.locator("#who option").all_inner_texts() == ["Maria Lopez (marketer)", "Sam Chen (approver)",
                                                             "Alex Kim (admin)"]
    assert "0 of 6 done" in page.locator(".tour").inner_text()
    maria.shot("start")

    # 1. Connect X: the reply's button opens Picmim's sign-in page; Continue goes to the simulated X and back.
    maria.type("/picmim connect x")
    opener = page.locator(".msg.ephemeral a.bk-button", has_text="Open X")
    opener.wait_for(timeout=WAIT_MS)
    assert "Only visible to you" in page.locator(".msg.ephemeral").last.inner_text()
    maria.shot("connect-reply")
    with context.expect_page() as opened:
        opener.click()
    signin = opened.value
    signin.wait_for_load_state()
    assert "Connect an X account" in signin.locator("h1").inner_text()
    signin.get_by_text("Continue to X").click()
    allow = signin.locator("button", has_text="Allow")
    signin.wait_for_function("() => location.pathname.endsWith('/oauth/x/callback') || "
                             "[...document.querySelectorAll('button')].some(b => b.textContent.trim() === 'Allow')",
                             timeout=WAIT_MS)
    if allow.count():  # the simulated X's consent page, where it asks
        allow.click()
    signin.wait_for_url(re.compile(r"/oauth/x/callback"), timeout=WAIT_MS)
    assert "X is connected" in signin.locator("h1").inner_text()
    signin.screenshot(path=str(shots / "connected-page.png"))
    signin.close()

    # Picmim's direct message asks which accounts to use: Save.
    page.locator(".sidebar a .badge", has_text="1").wait_for(timeout=WAIT_MS)  # Picmim wrote to Maria
    page.locator(".sidebar a", has_text="Picmim · Messages").click()
    page.locator(".msg button.bk-button", has_text="Save").click()
    maria.step_done("connect")
    maria.shot("connected")

    # 2. A post with a picture, from the compose window.
    page.locator(".sidebar a", has_text="# marketing").click()
    maria.type("/picmim post")
    maria.modal()
    assert page.locator("form.modal h2").inner_text() == "New post"
    maria.field("Post to").locator("select").select_option(index=0)
    maria.field("Text for X").wait_for(timeout=WAIT_MS)  # the window brought up to date: X's part is in it
    page.locator("form.modal .modal-submit", has_text="Send for approval").wait_for(timeout=WAIT_MS)
    maria.field("Photos and videos").locator("input[type=file]").set_input_files(str(_picture(tmp_path / "spring.png")))
    maria.field("Photos and videos").locator("li.uploaded", has_text="spring.png").wait_for(timeout=WAIT_MS)
    text = maria.field("Text")
    page.locator("form.modal .modal-submit").click()  # no text yet: said beside it, as Slack does, nothing sent
    text.locator(".bk-field-error", has_text="Please complete this required field.").wait_for(timeout=WAIT_MS)
    text.locator("textarea").fill("Spring " * 50)  # too long for X: Picmim's own answer, beside a field
    page.locator("form.modal .modal-submit").click()
    refusal = page.locator("form.modal .bk-field-error").filter(has_not_text="required").first
    refusal.wait_for(timeout=WAIT_MS)
    assert "X counts this post as 350 of 280 characters" in refusal.inner_text()
    assert text.locator("textarea").input_value() == "Spring " * 50, "nothing typed is lost"
    assert maria.field("Photos and videos").locator("li", has_text="spring.png").count() == 1, "nor the picture"
    maria.shot("compose-refused")
    text.locator("textarea").fill("Our spring collection is here, in the sandbox")
    maria.shot("compose")
    page.locator("form.modal .modal-submit").click()
    page.locator("form.modal").wait_for(state="detached", timeout=WAIT_MS)
    status = page.locator(".msg", has_text="spring collection").first
    status.wait_for(timeout=WAIT_MS)
    maria.step_done("post")
    maria.shot("waiting-for-approval")

    # The X feed, opened before the post goes out (it shows the post when it arrives, without a reload).
    watching = context.new_page()
    watching.goto(f"{server.url}/sandbox/x")
    assert "Nothing on the sandbox X yet" in watching.locator("main").inner_text()
    watching.evaluate("window.neverReloaded = true")

    # 3. The approver reacts with ✅ to the review card in #approvals.
    page.locator("#who").select_option("U0SAM")
    page.wait_for_url(re.compile(r"as=U0SAM"))
    page.locator(".sidebar a", has_text="# approvals").click()
    card = page.locator(".msg", has_text="spring collection").first
    card.wait_for(timeout=WAIT_MS)
    card.locator("select.add-reaction").select_option("white_check_mark")
    card.locator("button.reaction", has_text="✅ 1").wait_for(timeout=WAIT_MS)
    page.locator('.tour li.done[data-step="approve"]').wait_for(timeout=WAIT_MS)
    maria.shot("approved")

    # 4. Live: the status message links to the post; the X feed shows it.
    maria.open("U0MARIA", "C0MARKETING")
    link = page.locator(".msg a[href*='/sandbox/x/open']").first  # the post's x.com address, opened in the feed
    link.wait_for(timeout=WAIT_MS)
    maria.step_done("live")
    maria.shot("live")
    watching.bring_to_front()  # the person goes back to the feed's tab
    arrived = watching.locator("article", has_text="Our spring collection is here, in the sandbox")
    arrived.wait_for(timeout=WAIT_MS)
    assert watching.evaluate("window.neverReloaded") is True, "the feed brought itself up to date"
    assert watching.locator("main .empty").count() == 0
    impressions = arrived.locator(".figures span", has_text="impressions")
    seen = impressions.inner_text()
    watching.wait_for_function("seen => [...document.querySelectorAll('article .figures span')].some(s => "
                               "s.textContent.includes('impressions') && s.textContent !== seen)", arg=seen,
                               timeout=WAIT_MS)  # its figures grow where the person is watching
    watching.screenshot(path=str(shots / "x-feed-arrived.png"))
    watching.close()
    feed = context.new_page()
    feed.goto(link.get_attribute("href"))
    assert "/sandbox/x" in feed.url and "#post-" in feed.url, feed.url
    assert "Our spring collection is here, in the sandbox" in feed.content()
    feed.screenshot(path=str(shots / "x-feed.png"))
    feed.close()

    # 5. Stats.
    maria.type("/picmim stats")
    figures = page.locator(".msg.ephemeral", has_text="Followers").last
    figures.wait_for(timeout=WAIT_MS)
    assert "Acme Marketing" in figures.inner_text()
    assert re.search(r"Followers: [\d,]+", figures.inner_text()), figures.inner_text()
    maria.step_done("stats")
    maria.shot("stats")

    # 6. A digest for #marketing; made due now (its time moved in the database), it arrives with the chart of the
    # figures gathered since X was connected.
    maria.type("/picmim digest subscribe")
    maria.modal()
    maria.shot("digest-window")
    page.locator("form.modal .modal-submit").click()
    page.locator("form.modal").wait_for(state="detached", timeout=WAIT_MS)
    maria.step_done("digest")
    database = folder / "picmim-sandbox" / "picmim-sandbox.db"
    wait_until(lambda: _query(database, "SELECT count(*) FROM metric_snapshots")[0][0], "figures gathered")
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    _query(database, "UPDATE digest_subscriptions SET next_run_at = ?", now)
    chart = page.locator(".msg .file img").first
    chart.wait_for(timeout=30_000)
    assert page.evaluate("img => img.naturalWidth", chart.element_handle()) > 100
    assert "6 of 6 done" in page.locator(".tour").inner_text()
    maria.shot("digest")

    # App Home: opening the tab asks the app (app_home_opened), which publishes Maria's dashboard.
    page.locator(".sidebar a", has_text="Picmim · Home").click()
    page.locator(".home button.bk-button", has_text="New post").wait_for(timeout=WAIT_MS)
    page.locator(".home button.bk-button", has_text="New post").click()
    assert maria.modal().locator("h2").inner_text() == "New post"
    page.locator("form.modal .modal-x").click()
    page.locator("form.modal").wait_for(state="detached", timeout=WAIT_MS)
    maria.shot("home")

    # A phone-sized window: everything reachable, nothing wider than the screen.
    phone = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    phone_hosts, phone_refused = _watch_leaving(phone)
    small = Person(phone.new_page(), server.url, shots)
    small.count = maria.count
    small.open("U0MARIA", "C0MARKETING")
    assert small.page.evaluate("document.documentElement.scrollWidth") <= 390
    for part in ("#message-box", ".sidebar", ".tour", "#who"):
        assert small.page.locator(part).is_visible(), part
    small.shot("phone")
    phone.close()
    context.close()
    # Nothing the tour showed (pictures included) was fetched from outside this machine, nor tried and refused.
    assert "127.0.0.1" in hosts and hosts | phone_hosts <= {"127.0.0.1", "localhost"}, hosts | phone_hosts
    assert not refused + phone_refused, refused + phone_refused
    peak = next(line for line in Path(f"/proc/{server.proc.pid}/status").read_text().splitlines()
                if line.startswith("VmHWM"))
    print(f"\nthe sandbox's peak memory after the tour: {peak.split(':')[1].strip()}")
