"""Every Slack surface Picmim shows, as a person sees it: each is built by today's pure view functions with
realistic data, drawn as a Slack-like page by the test-only renderer (tests/blockkit_render.py) and opened in
Debian's headless Chromium, which screenshots it. The screenshots (and the pages) are kept as artefacts in
$SURFACES_DIR, or tests/artifacts/surfaces/ (ignored by git); `pytest -s` prints their paths.

The assertions read the rendered page's words (issue 24's points: the compose window opens short with "Post to"
first, Home for a non-admin has no command lines or scope names, the queue's Publish now asks first…).
"""

from __future__ import annotations

import inspect
import os
import re
import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from PIL import Image

from bot.platforms import registry
from bot.platforms.settings import PinterestSettings, TikTokSettings, YouTubeSettings
from bot.sandbox.fakes.slack import block_kit_errors, view_errors
from bot.services.analytics import AccountFigures, PostFigures, Report, Value
from bot.services.approvals import MediaPreview, ReviewCard, TargetPreview
from bot.services.composing import Choice, Composition
from bot.services.connections import ConnectionSummary
from bot.services.dashboard import Dashboard
from bot.services.publishing import TargetLine
from bot.services.queue import QueueItem
from bot.services.reviews import DecisionLine, ReviewSummary
from bot.storage.models import (
    ConnectionStatus,
    Decision,
    DigestSubscription,
    PostStatus,
    TargetStatus,
    Workspace,
)
from bot.views import approvals, compose, connect, help, home, posts, queue, settings, stats
from tests.blockkit_render import Renderer, render, visible_text
from tests.conftest import IN_CI

CHROMIUM = Path("/usr/bin/chromium")
WIDTH, TALL = 900, 2400
ROOT = Path(__file__).resolve().parent
TZ = "Europe/Madrid"
NOW = datetime(2026, 3, 10, 9, 30, tzinfo=UTC)
ME, DANA, LEO, SAM = "U0MARIA", "U0DANA", "U0LEO", "U0SAM"
PEOPLE = Renderer(users={ME: "maria", DANA: "dana", LEO: "leo", SAM: "sam"},
                  channels={"C0SOCIAL": "social", "C0REVIEW": "social-review", "C0DIGEST": "marketing"})
# Words that belong to a developer's terminal or to OAuth, never to a marketer's screen.
COMMAND_LINE = re.compile(r"python -m bot|_CLIENT_ID|_CLIENT_SECRET")
SCOPE_NAMES = re.compile(r"tweet\.write|w_member_social|instagram_content_publish|youtube\.upload|boards:read|"
                         r"video\.publish|pages_manage_posts|offline\.access|atproto|Permissions granted")
INTERNAL_CODES = re.compile(r"\b(pending_approval|request_changes|instagram-login|unconfirmed)\b")

# ---- the browser ------------------------------------------------------------------------------------------


@pytest.fixture
def chromium() -> Path:
    if not CHROMIUM.exists():
        reason = f"needs Debian's Chromium at {CHROMIUM} (apt-get install chromium)"
        if IN_CI:
            pytest.fail(reason + "; CI installs it in .ci/run")
        pytest.skip(reason)
    return CHROMIUM


@pytest.fixture(scope="session")
def surfaces_dir() -> Path:
    where = Path(os.environ.get("SURFACES_DIR") or ROOT / "artifacts" / "surfaces")
    where.mkdir(parents=True, exist_ok=True)
    return where


@dataclass
class Shown:
    page: str  # the HTML the renderer made
    dom: str  # the DOM Chromium rendered
    text: str  # the words on the page
    png: Path

    def buttons(self) -> dict[str, str]:
        """Each button's label -> its HTML tag (its style, action and confirm are attributes)."""
        found = {}
        for tag, label in re.findall(r'(<span class="button[^"]*"[^>]*>)(.*?)</span>', self.page):
            found[visible_text(label)] = tag
        return found

    def inputs(self) -> list[str]:
        """The inputs' labels, in order (with Slack's "(optional)" where it shows it)."""
        return [visible_text(label) for label in re.findall(r'<div class="block input"[^>]*><label>(.*?)</label>',
                                                            self.page)]


@pytest.fixture
def shoot(chromium, surfaces_dir, tmp_path):
    def shoot(name: str, surface, **kw) -> Shown:
        if isinstance(surface, dict):
            assert view_errors(surface) == [], f"{name} is a view Slack takes"
        else:
            assert block_kit_errors(surface, 50) == [], f"{name} is a message Slack takes"
        page = render(surface, PEOPLE, **kw)
        source = surfaces_dir / f"{name}.html"
        source.write_text(page, encoding="utf-8")
        png = surfaces_dir / f"{name}.png"
        png.unlink(missing_ok=True)
        dom, height = _open(chromium, source, png, TALL, tmp_path)
        if height > TALL:  # a long modal: once more, tall enough for all of it
            dom, height = _open(chromium, source, png, min(height + 40, 16000), tmp_path)
        with Image.open(png) as image:
            image.load()
            cropped = image.crop((0, 0, image.width, min(image.height, max(height, 200))))
        cropped.save(png)
        print(f"\nscreenshot of {name}: {png}")
        return Shown(page, dom, visible_text(dom), png)

    return shoot


def _open(chromium: Path, source: Path, png: Path, height: int, tmp_path: Path) -> tuple[str, int]:
    run = subprocess.run(
        [str(chromium), "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--hide-scrollbars",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         f"--user-data-dir={tmp_path / 'chromium-profile'}", f"--window-size={WIDTH},{height}",
         f"--screenshot={png}", "--dump-dom", source.as_uri()],
        capture_output=True, text=True, timeout=120)
    assert run.returncode == 0 and png.is_file(), run.stderr[-3000:]
    found = re.search(r'data-height="(\d+)"', run.stdout)
    assert found, "the page reported its height"
    return run.stdout, int(found.group(1))


def _looks_drawn(shown: Shown) -> None:
    assert shown.png.stat().st_size > 2000
    with Image.open(shown.png) as image:
        assert image.format == "PNG" and image.width == WIDTH and image.height >= 200
        colours = image.convert("RGB").getcolors(image.width * image.height)
    assert len(colours) > 20, "text is drawn, not a flat page"


def _buttons_labelled(shown: Shown, label: str) -> list[str]:
    """Every button with this label (buttons() keeps one per label), as its HTML tag."""
    return [tag for tag, text in re.findall(r'(<span class="button[^"]*"[^>]*>)(.*?)</span>', shown.page)
            if visible_text(text) == label]


def _call(function, *args, **maybe):
    """Calls a view with today's arguments, plus those of `maybe` it takes (e.g. whether the viewer is an admin,
    once the view asks)."""
    takes = inspect.signature(function).parameters
    return function(*args, **{k: v for k, v in maybe.items() if k in takes})


# ---- the data ---------------------------------------------------------------------------------------------

BOARDS = {"boards": [{"id": "111", "name": "Coffee"}, {"id": "222", "name": "Autumn menu"}],
          "default_board_id": "111"}
YOUTUBE = Choice(1, "youtube", "YouTube", "Acme TV", kind="channel")
PINTEREST = Choice(2, "pinterest", "Pinterest", "Acme Shop", kind="board", settings=BOARDS)
TIKTOK = Choice(3, "tiktok", "TikTok", "Acme Studio", "acmestudio", settings={
    "privacy_level_options": ["PUBLIC_TO_EVERYONE", "FOLLOWER_OF_CREATOR", "SELF_ONLY"]})
OTHERS = [Choice(4, "x", "X", "Acme Coffee", "acmecoffee"),
          Choice(5, "instagram", "Instagram (through Meta)", "Acme Coffee", "acme.coffee"),
          Choice(6, "facebook", "Facebook Pages", "Acme Coffee Roasters"),
          Choice(7, "linkedin", "LinkedIn", "Acme Coffee Co.", kind="company"),
          Choice(8, "bluesky", "Bluesky", "Acme Coffee", "acme.bsky.social")]
OFFERED = [YOUTUBE, PINTEREST, TIKTOK, *OTHERS]
TEXT = "Our spring roast is here\nSmooth, floral, and only at Acme until April."


def _connection(i, key, name, status, *, guidance=None, error=None, scopes=(), posts=0, expires=None):
    return ConnectionSummary(i, registry.get(key), name, status, None, expires, NOW - timedelta(hours=3), error,
                             scopes, ((name, "page" if key == "facebook" else "profile"),), posts, guidance)


CONNECTIONS = [
    _connection(1, "instagram", "Acme Coffee", ConnectionStatus.ACTIVE, scopes=("instagram_content_publish",),
                posts=4),
    _connection(2, "linkedin", "Acme Coffee Co.", ConnectionStatus.REVOKED, scopes=("w_member_social",), posts=2,
                guidance="Someone withdrew Picmim's access on LinkedIn: press Reconnect to sign in again.",
                error="LinkedIn said: the access token was revoked"),
    _connection(3, "x", "Acme Coffee", ConnectionStatus.EXPIRING, scopes=("tweet.write", "offline.access"),
                expires=NOW + timedelta(days=5)),
]
CONFIGURED = {"instagram", "facebook", "linkedin", "x", "bluesky"}


# ---- the compose window -----------------------------------------------------------------------------------


def test_the_compose_window_opens_short_with_post_to_first(shoot):
    shown = shoot("compose-opened", compose.compose_modal(OFFERED, Composition(), "{}"))
    _looks_drawn(shown)
    labels = shown.inputs()
    assert len(labels) <= 6, labels
    assert labels[0] == "Post to", "accounts first"
    assert "YouTube · Acme TV" not in shown.text, "nothing chosen yet: the select shows its placeholder"
    assert "Choose accounts" in shown.text
    assert "Publish at" not in shown.text and "Title" not in labels, "no time for Now, no network's fields yet"
    assert shown.text.splitlines()[0] == "New post"
    assert shown.text.splitlines()[-2:] == ["Save draft", "Publish"], "Close says it keeps a draft"


def test_the_compose_window_with_youtube_pinterest_and_tiktok_chosen(shoot):
    typed = Composition(text=TEXT, account_ids=[1, 2, 3])
    opened = compose.compose_modal(OFFERED, Composition(text=TEXT), "{}")
    chosen = compose.compose_modal(OFFERED, typed, "{}")
    shown = shoot("compose-youtube-pinterest-tiktok", chosen)
    _looks_drawn(shown)
    text = shown.text
    for account in ("YouTube · Acme TV", "Pinterest · Acme Shop", "TikTok · Acme Studio (@acmestudio)"):
        assert account in text, "each chosen account with its network"
    assert "Our spring roast is here" in text, "the typed text"
    labels = shown.inputs()
    assert labels[0] == "Post to"
    assert {"Title", "Board", "Who can see it", "Destination link (optional)"} <= set(labels)
    assert "Who can see it" in labels, "TikTok's privacy is required: no (optional)"
    assert "Who can reply" not in text and "Collaborators" not in text, "only the chosen networks' fields"
    assert not [label for label in labels if label.count("(optional)") > 1], "one (optional), Slack's own"
    assert "Coffee" in text, "the Pinterest account's default board"
    kept = {b["block_id"]: b for b in opened["blocks"] if "block_id" in b}
    for block in chosen["blocks"]:
        if block.get("block_id") in kept:
            assert block["type"] == kept[block["block_id"]]["type"], "typed text survives the update"
    assert text.splitlines()[-2:] == ["Save draft", "Publish"]


def test_the_compose_window_for_a_scheduled_post_shows_the_time(shoot):
    view = compose.compose_modal(OFFERED, Composition(text=TEXT, account_ids=[4, 5], when=NOW + timedelta(days=2)),
                                 "{}")
    shown = shoot("compose-scheduled", view)
    assert "Publish at" in shown.inputs() and shown.text.splitlines()[-1] == "Schedule"


# ---- App Home ---------------------------------------------------------------------------------------------


def _home() -> dict:
    board = Dashboard(connections=CONNECTIONS, broken=[c for c in CONNECTIONS if c.status is ConnectionStatus.REVOKED],
                      waiting=[], waiting_total=0, failed=[], failed_total=0, upcoming=[], upcoming_total=0)
    return home.home_view("/picmim", board, CONFIGURED, TZ, is_admin=False)


def test_home_offers_connecting_an_account(shoot):
    shown = shoot("home-member", _home())
    _looks_drawn(shown)
    assert any(label.startswith("Connect") for label in shown.buttons())
    assert "Acme Coffee Co." in shown.text and "LinkedIn" in shown.text


def test_home_starts_with_new_post_and_puts_broken_connections_first(shoot):
    shown = shoot("home-member", _home())
    first_buttons = list(shown.buttons())
    assert "New post" in first_buttons and any(b.startswith("Connect") for b in first_buttons)
    assert shown.page.index("New post") < shown.page.index("Acme Coffee"), "actions first"
    assert "Needs attention" in shown.text
    assert "Reconnect" in shown.buttons(), "the broken LinkedIn connection can be mended from Home"


def test_home_for_a_member_has_no_command_line_or_scope_words(shoot):
    shown = shoot("home-member", _home())
    assert not COMMAND_LINE.search(shown.text), COMMAND_LINE.search(shown.text)
    assert not SCOPE_NAMES.search(shown.text), SCOPE_NAMES.search(shown.text)


# ---- a post's status message ------------------------------------------------------------------------------

PUBLISHED_LINES = [
    TargetLine(11, "Instagram (through Meta)", "Acme Coffee", TargetStatus.PUBLISHED, "https://instagram.com/p/abc",
               None),
    TargetLine(12, "X", "Acme Coffee", TargetStatus.PUBLISHED, "https://x.com/acmecoffee/status/1", None),
    TargetLine(13, "LinkedIn", "Acme Coffee Co.", TargetStatus.FAILED, None,
               "LinkedIn withdrew Picmim's access: press Reconnect in /picmim accounts", error_kind="revoked",
               connection_id=7),
]


def _status(status, lines, scheduled_at=None, **kw) -> list[dict]:
    return posts.status_message(status, TEXT, scheduled_at, TZ, lines, now=NOW, author=ME, **kw)


def test_a_post_status_message_shows_each_account(shoot):
    shown = shoot("status-two-of-three", _status(PostStatus.FAILED, PUBLISHED_LINES))
    _looks_drawn(shown)
    assert "Instagram (through Meta) · Acme Coffee: published: view the post" in shown.text
    assert '<a href="https://x.com/acmecoffee/status/1">view the post</a>' in shown.page
    assert "Our spring roast is here" in shown.text


def test_a_partly_published_post_says_how_far_it_got_and_offers_the_fix(shoot):
    shown = shoot("status-two-of-three", _status(PostStatus.FAILED, PUBLISHED_LINES))
    assert "2 of 3 published" in shown.text
    assert "Not everything was published" not in shown.text
    assert "Reconnect" in shown.buttons(), "the button the problem needs, not only Retry"


def test_a_scheduled_post_shows_its_time_in_each_readers_zone_and_its_author(shoot):
    lines = [TargetLine(21, "X", "Acme Coffee", TargetStatus.SCHEDULED, None, None)]
    blocks = _status(PostStatus.SCHEDULED, lines, NOW + timedelta(days=1))
    shoot("status-scheduled", blocks)
    assert "<!date^" in str(blocks)
    assert "@maria" in visible_text(render(blocks, PEOPLE)) or "<@" in str(blocks)


def test_a_post_waiting_for_its_video_does_not_say_scheduled_for_a_past_time(shoot):
    lines = [TargetLine(31, "TikTok", "Acme Studio", TargetStatus.SCHEDULED, None, "optimising the video")]
    shown = shoot("status-optimising", _status(PostStatus.SCHEDULED, lines, NOW - timedelta(minutes=5)))
    assert "Scheduled for" not in shown.text


# ---- the queue --------------------------------------------------------------------------------------------

QUEUE = [
    QueueItem(41, ME, TEXT, PostStatus.SCHEDULED, NOW + timedelta(hours=5),
              ("Instagram (through Meta): Acme Coffee", "X: Acme Coffee")),
    QueueItem(42, DANA, "Behind the bar: meet Leo, our head roaster.", PostStatus.PENDING_APPROVAL,
              NOW + timedelta(days=1, hours=2), ("LinkedIn: Acme Coffee Co.",),
              ReviewSummary(2, 1, (), (DecisionLine(LEO, Decision.REQUEST_CHANGES, "Add the event date",
                                                    NOW - timedelta(days=1), 1, "button"),))),
    QueueItem(43, ME, "Weekend brunch menu is live.", PostStatus.SCHEDULED, NOW + timedelta(days=3),
              ("Facebook Pages: Acme Coffee Roasters",)),
]


def _queue() -> list[dict]:
    return queue.queue_list(QUEUE, TZ, ME)


def test_the_queue_lists_each_post_with_its_buttons(shoot):
    shown = shoot("queue", _queue())
    _looks_drawn(shown)
    assert "Scheduled posts" in shown.text and "Behind the bar" in shown.text
    cancel = shown.buttons()["Cancel"]
    assert "data-confirm=" in cancel, "Cancel asks first"


def test_publish_now_in_the_queue_asks_first(shoot):
    shown = shoot("queue", _queue())
    publish = _buttons_labelled(shown, "Publish now")
    assert publish, "Publish now is offered"
    assert all("data-confirm=" in tag for tag in publish), "Publish now asks for confirmation"
    assert not any('class="button primary"' in tag for tag in publish), "not primary on every row"


def test_the_queue_is_grouped_by_day(shoot):
    shown = shoot("queue", _queue())
    assert re.search(r"^(Today|Tomorrow|\w+day)\b", shown.text, re.M), "a heading per day"


# ---- the review card --------------------------------------------------------------------------------------


def _card(status=PostStatus.PENDING_APPROVAL, decisions=(), approvers=(), scheduled_at=None) -> ReviewCard:
    targets = (
        TargetPreview("Instagram (through Meta)", "Acme Coffee", "acme.coffee", TEXT,
                      adjustments=("The photo is cropped to 4:5.",)),
        TargetPreview("Pinterest", "Acme Shop", None, TEXT, settings=PinterestSettings(board_id="111", title="Spring"),
                      account_settings=BOARDS),
        TargetPreview("YouTube", "Acme TV", None, TEXT, settings=YouTubeSettings(title="Spring roast",
                                                                                made_for_kids=False)),
        TargetPreview("TikTok", "Acme Studio", "acmestudio", TEXT,
                      settings=TikTokSettings(privacy_level="PUBLIC_TO_EVERYONE", allow_comment=True)),
    )
    media = (MediaPreview("latte.jpg", "image", "https://files.example.com/latte.jpg"),
             MediaPreview("beans.jpg", "image", "https://files.example.com/beans.jpg"))
    return ReviewCard(51, 1, ME, status, scheduled_at, "Link in bio!", targets, media, decisions, approvers, 1,
                      "white_check_mark", "x", f"<@{DANA}> and <@{LEO}>")


def _waiting_card() -> ReviewCard:
    return _card(scheduled_at=NOW + timedelta(days=1))


def test_a_review_card_shows_the_post_per_network_and_the_decisions(shoot):
    shown = shoot("review-card", approvals.review_card(_waiting_card()), text=approvals.card_text(_waiting_card()))
    _looks_drawn(shown)
    assert "Post by @maria" in shown.text
    assert "Pinterest · Acme Shop" in shown.text
    assert {"Approve", "Request changes", "Reject"} <= set(shown.buttons())
    assert 'class="button primary"' in shown.buttons()["Approve"]
    assert not INTERNAL_CODES.search(shown.text)


def test_a_review_card_shows_its_pictures_full_size(shoot):
    shown = shoot("review-card", approvals.review_card(_waiting_card()))
    assert shown.page.count('class="image picture"') == 2


def test_a_review_card_speaks_plainly_to_approvers(shoot):
    shown = shoot("review-card", approvals.review_card(_waiting_card()))
    assert "0 of 1" not in shown.text
    footer = shown.text.splitlines()[-1]
    assert "@dana" not in footer and "@leo" not in footer
    assert not ("Edit" in shown.buttons() and "Only the author can edit" in shown.text)


def test_a_rejected_review_card_does_not_promise_to_publish(shoot):
    rejected = (DecisionLine(DANA, Decision.REJECT, "Not on brand", NOW, 1, "button"),)
    shown = shoot("review-card-rejected", approvals.review_card(_card(PostStatus.DRAFT, rejected)))
    assert "Rejected by @dana" in shown.text
    assert "as soon as it is approved" not in shown.text


# ---- connecting and accounts ------------------------------------------------------------------------------


def _connect_window() -> dict:
    return connect.connect_modal(connect.platform_list(CONFIGURED))  # as a member sees it


def test_the_accounts_list_and_the_connect_window_render(shoot):
    shown = shoot("accounts", connect.accounts_list(CONNECTIONS, TZ, may_manage=True))
    _looks_drawn(shown)
    assert "LinkedIn · Acme Coffee Co." in shown.text
    assert "Reconnect" in shown.buttons()
    modal = shoot("connect-modal", _connect_window())
    _looks_drawn(modal)
    assert "Connect" in modal.buttons() and "Bluesky" in modal.text


def test_the_accounts_list_puts_problems_first(shoot):
    shown = shoot("accounts", connect.accounts_list(CONNECTIONS, TZ, may_manage=True))
    assert shown.text.index("LinkedIn") < shown.text.index("Instagram"), "the broken connection first"
    reconnects = _buttons_labelled(shown, "Reconnect")
    assert [r for r in reconnects if 'class="button primary"' in r] == reconnects[:1], \
        "primary only on the broken connection (the expiring one's Reconnect is plain)"
    assert 'data-type="overflow"' in shown.page
    assert shown.page.count("class=\"button danger\"") == 0, "no red Disconnect on every row"
    assert not SCOPE_NAMES.search(shown.text)


def test_the_connect_window_has_no_developer_words(shoot):
    shown = shoot("connect-modal", _connect_window())
    assert not COMMAND_LINE.search(shown.text), COMMAND_LINE.search(shown.text)
    assert "PDS" not in shown.text


# ---- settings ---------------------------------------------------------------------------------------------


def _workspace(approval: bool) -> Workspace:
    return Workspace(team_id="T0001", approval_required=approval, approval_channel_id="C0REVIEW",
                     approver_user_ids=[DANA], alerts_channel_id="C0SOCIAL", default_timezone=TZ,
                     expiry_warning_days=[7, 1], managers_policy="admins")


def test_the_settings_window_renders(shoot):
    shown = shoot("settings", settings.settings_modal(_workspace(True), [("S1", "Brand reviewers")]))
    _looks_drawn(shown)
    assert "Picmim settings" in shown.text and "#social-review" in shown.text and "@dana" in shown.text
    assert shown.text.splitlines()[-2:] == ["Cancel", "Save"]


def test_the_settings_window_offers_choices_not_free_text(shoot):
    shown = shoot("settings", settings.settings_modal(_workspace(True), [("S1", "Brand reviewers")]))
    assert 'data-type="plain_text_input"' not in shown.page


def test_the_settings_window_hides_approval_fields_while_approval_is_off(shoot):
    shown = shoot("settings-approval-off", settings.settings_modal(_workspace(False), None))
    assert "Approvers" not in shown.inputs() and "Reaction that approves" not in shown.inputs()


# ---- stats and digests ------------------------------------------------------------------------------------


def _report() -> Report:
    fresh = AccountFigures(1, "instagram", "Instagram (through Meta)", "Acme Coffee", "acme.coffee", (
        Value("Followers", 1840, 1790), Value("Reach", 5210, None, window="7 days"),
        Value("Engagement rate", 0.046, 0.041, rate=True)), NOW, False, None)
    broken = AccountFigures(2, "linkedin", "LinkedIn", "Acme Coffee Co.", None, tuple(
        Value(name, None) for name in ("Followers", "Impressions", "Clicks", "Reactions", "Shares")),
        NOW - timedelta(days=9), True, "Its connection was revoked: reconnect it in /picmim accounts.")
    top = PostFigures(11, 1, "Acme Coffee", "instagram", "Instagram (through Meta)", "https://instagram.com/p/abc",
                      "Our spring roast is here", NOW - timedelta(days=2), (Value("Likes", 212), Value("Comments", 18)),
                      NOW, gained=230)
    return Report(NOW - timedelta(days=7), NOW, (fresh, broken), (top,), 3)


def _stats() -> list[dict]:
    return stats.report_blocks(_report(), TZ, "Stats: the last 7 days", compared_with="the 7 days before",
                               share_value="share", reconnect={2: 2})  # the LinkedIn account's broken connection


def test_stats_render(shoot):
    shown = shoot("stats", _stats(), text=stats.report_text(_report(), "Stats", TZ))
    _looks_drawn(shown)
    assert "Acme Coffee" in shown.text and "Top posts sent with Picmim" in shown.text
    assert "Share in channel" in shown.buttons()
    assert not INTERNAL_CODES.search(shown.text)


def test_stats_say_things_once(shoot):
    report = _report()
    shown = shoot("stats", _stats(), text=stats.report_text(report, "Stats", TZ))
    assert shown.text.count("no earlier figure to compare") <= 1
    assert shown.text.count("missing") <= 1, "one line for the broken account"
    assert "Reconnect" in shown.buttons()
    single = Report(report.start, report.end, report.accounts[:1])
    assert "1 accounts" not in stats.report_text(single, "Stats", TZ)


def _digest(i, channel, frequency, **kw) -> DigestSubscription:
    return DigestSubscription(id=i, workspace_id=1, channel_id=channel, frequency=frequency, time_of_day="09:00",
                              timezone=TZ, account_ids=[], platforms=[], created_by=ME,
                              next_run_at=NOW + timedelta(days=i), last_run_at=None, last_error=None, **kw)


def test_the_digest_list_renders_the_unsubscribed_channel(shoot):
    subs = [_digest(1, "C0DIGEST", "weekly", weekday=0), _digest(2, "C0SOCIAL", "daily")]
    note = "Unsubscribed: <#C0REVIEW> gets no more of this digest."
    shown = shoot("digests", stats.digest_list(subs, {}, TZ, note))
    _looks_drawn(shown)
    assert "Unsubscribed: #social-review gets no more of this digest." in shown.text, "the channel, not its code"
    assert "<#" not in shown.text and "&lt;" not in shown.text
    assert "#marketing" in shown.text and shown.buttons()["Unsubscribe"].count("data-confirm=") == 1


# ---- help -------------------------------------------------------------------------------------------------


def _help() -> list[dict]:
    return _call(help.help_blocks, "/picmim", is_admin=False, admin=False)


def test_help_lists_the_commands(shoot):
    shown = shoot("help", _help())
    _looks_drawn(shown)
    assert "/picmim post" in shown.text and "/picmim queue" in shown.text


def test_help_for_a_member_offers_buttons_and_no_admin_commands(shoot):
    shown = shoot("help", _help())
    assert "New post" in shown.buttons()
    # Every command is named (help lists them all), but an admin's only as needing an admin.
    [line] = [line for line in shown.text.splitlines() if "/picmim settings" in line]
    assert "admin" in line, line


# ---- the renderer itself ----------------------------------------------------------------------------------


def test_the_renderer_escapes_and_formats_mrkdwn():
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": (
        "*Bold* _italic_ `code <b>` <https://acme.example/a?b=1&amp;c=2|the &lt;site&gt;> <@U0DANA> <#C0SOCIAL> "
        "<!date^1773133800^{date_short_pretty}|10 Mar 2026> pending_approval &lt;script&gt;\n>quoted\nnext")}},
        {"type": "no_such_block", "x": "<img src=x>"}]
    page = render(blocks, PEOPLE)
    assert "<b>Bold</b> <i>italic</i> <code>code &lt;b&gt;</code>" in page
    assert '<a href="https://acme.example/a?b=1&amp;c=2">the &lt;site&gt;</a>' in page
    assert "@dana" in page and "#social" in page and ">10 Mar 2026</span>" in page
    assert "pending_approval &lt;script&gt;" in page and "<blockquote>quoted</blockquote>next" in page
    assert "<img" not in page and "[block: no_such_block]" in visible_text(page)
