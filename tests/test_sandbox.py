"""The sandbox without a browser: its refusal to start next to real credentials, its settings, the Block Kit it
renders (and refuses as Slack would), the state it sends back in Slack's shapes, and the simulated Slack answering
the app's Web API calls and keeping what a page shows."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest

from bot.config import environment_and_file, load_settings
from bot.sandbox import blockkit_html as bk
from bot.sandbox.run import REAL_CREDENTIALS, chosen_settings, real_credentials, run, sandbox_environment
from bot.sandbox.workspace import ALERTS, BOT_TOKEN, MARKETING, SandboxSlack
from tests.journeys import wait_until
from tests.server import base_env, run_cli

# ---- start-up ------------------------------------------------------------------------------------------------

def test_it_refuses_to_start_beside_real_credentials_and_says_which(tmp_path, capsys):
    (tmp_path / ".env").write_text("SLACK_BOT_TOKEN=\nX_CLIENT_ID=real-x-app\nPORT=4000\n")
    code = run(environ={"SLACK_SIGNING_SECRET": "s", "SLACK_BOT_TOKEN": "xoxb-real"}, cwd=tmp_path)
    err = capsys.readouterr().err
    assert code == 2
    assert "does not start while real Slack or platform credentials are set" in err
    assert "SLACK_BOT_TOKEN (in the environment)" in err
    assert "X_CLIENT_ID (in .env)" in err
    assert not (tmp_path / "picmim-sandbox").exists(), "nothing was created"


def test_the_command_line_refuses_too(tmp_path):
    answer = run_cli("sandbox", env=base_env(META_CLIENT_ID="123", META_CLIENT_SECRET="abc"), cwd=tmp_path)
    assert answer.returncode == 2
    assert "META_CLIENT_ID (in the environment)" in answer.stderr
    assert "META_CLIENT_SECRET (in the environment)" in answer.stderr


def test_an_env_copied_from_the_example_is_no_obstacle(tmp_path):
    example = (pytest.importorskip("pathlib").Path(__file__).resolve().parent.parent / ".env.example").read_text()
    (tmp_path / ".env").write_text(example + "\nPORT=4123\nDATABASE_URL=sqlite+aiosqlite:///real.db\n")
    from_file = environment_and_file(tmp_path / ".env")[1]
    assert from_file["PORT"] == "4123" and from_file["SLACK_BOT_TOKEN"] == ""
    assert real_credentials({}, from_file) == []
    assert {"SLACK_BOT_TOKEN", "SLACK_CLIENT_ID", "SLACK_APP_TOKEN", "X_CLIENT_ID", "GOOGLE_CLIENT_SECRET"} <= set(
        REAL_CREDENTIALS)
    chosen = chosen_settings({"LOG_LEVEL": "debug"}, from_file)
    assert chosen == {"PORT": "4123", "LOG_LEVEL": "debug"}, "where it listens and how it logs, nothing else"
    env = sandbox_environment(chosen, tmp_path / "picmim-sandbox", "http://127.0.0.1:9/api/",
                              {"X_CLIENT_ID": "sim", "X_CLIENT_SECRET": "sim"})
    settings = load_settings(env, env_file=str(tmp_path / ".env"))
    assert settings.database_url == f"sqlite+aiosqlite:///{tmp_path / 'picmim-sandbox' / 'picmim-sandbox.db'}"
    assert settings.port == 4123 and settings.public_url == "http://localhost:4123"
    assert settings.slack.bot_token == BOT_TOKEN and settings.slack.api_url == "http://127.0.0.1:9/api/"
    assert settings.data_dir == tmp_path / "picmim-sandbox", "its own key and media folder"


# ---- Block Kit as HTML -----------------------------------------------------------------------------------------

CTX = bk.Context(people={"U0MARIA": "Maria Lopez"}, channels={MARKETING: "marketing"}, tz="Europe/Madrid")


def test_blocks_are_rendered_escaped_with_slack_formatting():
    shown = bk.render_blocks([
        {"type": "header", "text": {"type": "plain_text", "text": "Spring <launch>"}},
        {"type": "section", "text": {"type": "mrkdwn", "text": "*Live* on <https://x.com/a/1|X> for <@U0MARIA> "
                                                               "in <#C0MARKETING> :white_check_mark:\n> quoted"},
         "accessory": {"type": "button", "action_id": "open", "text": {"type": "plain_text", "text": "Open"},
                       "value": "7"}},
        {"type": "divider"},
        {"type": "context", "elements": [{"type": "mrkdwn", "text": "a <script>"}]},
    ], CTX)
    assert '<h3 class="bk bk-header">Spring &lt;launch&gt;</h3>' in shown
    assert '<b>Live</b> on <a href="https://x.com/a/1" target="_blank" rel="noopener">X</a>' in shown
    assert '<span class="mention">@Maria Lopez</span>' in shown and '<span class="mention">#marketing</span>' in shown
    assert "✅" in shown and "<blockquote>quoted</blockquote>" in shown
    assert 'data-block="auto-1" data-action="open" data-kind="button" data-fire="1">Open</button>' in shown
    assert "a &lt;script&gt;" in shown and "<script>" not in shown


def test_links_go_where_the_sandbox_says_a_networks_post_opens():
    sent = {"type": "section", "text": {"type": "mrkdwn", "text": "Live on <https://x.com/acme/status/7|X>"},
            "accessory": {"type": "button", "action_id": "view", "text": {"type": "plain_text", "text": "View"},
                          "url": "https://x.com/acme/status/7"}}
    shown = bk.render_blocks([sent], bk.Context(link=lambda url: "/sandbox/x/open?url=" + url))
    assert shown.count('href="/sandbox/x/open?url=https://x.com/acme/status/7"') == 2, shown


def test_a_block_slack_would_refuse_is_shown_as_an_error_and_an_unknown_one_plainly():
    too_long = {"type": "section", "text": {"type": "mrkdwn", "text": "x" * 3001}}
    shown = bk.render_blocks([too_long, {"type": "wobble", "text": {"type": "plain_text", "text": "hi"}}], CTX)
    assert 'class="bk-error" role="alert">Slack would refuse this block: text attribute cannot exceed 3000' in shown
    assert '<div class="bk-unknown">A wobble block (not shown in the sandbox)<p>hi</p></div>' in shown


def test_inputs_show_their_values_and_errors_beside_them():
    at = int(datetime(2026, 5, 4, 9, 30, tzinfo=ZoneInfo("Europe/Madrid")).timestamp())
    blocks = [
        {"type": "input", "block_id": "when", "label": {"type": "plain_text", "text": "Publish at"},
         "element": {"type": "datetimepicker", "action_id": "at", "initial_date_time": at}},
        {"type": "input", "block_id": "kind", "dispatch_action": True, "label": {"type": "plain_text", "text": "Kind"},
         "element": {"type": "static_select", "action_id": "k", "options": [
             {"text": {"type": "plain_text", "text": "Photo"}, "value": "photo"},
             {"text": {"type": "plain_text", "text": "Reel"}, "value": "reel"}],
             "initial_option": {"text": {"type": "plain_text", "text": "Reel"}, "value": "reel"}}},
        {"type": "input", "block_id": "text", "optional": True, "label": {"type": "plain_text", "text": "Text"},
         "element": {"type": "plain_text_input", "action_id": "t", "multiline": True}},
    ]
    ctx = bk.Context(tz="Europe/Madrid", errors={"text": "Write at most 280 characters."},
                     state={"text": {"t": {"type": "plain_text_input", "value": "kept <b>"}}})
    shown = bk.render_blocks(blocks, ctx)
    assert 'type="datetime-local" class="bk-field" data-block="when" data-action="at" ' in shown
    assert 'value="2026-05-04T09:30"' in shown, "in the person's own time zone"
    assert 'data-kind="static_select" data-fire="1"' in shown, "dispatch_action sends the choice at once"
    assert '<option value="reel" selected>Reel</option>' in shown
    assert '>kept &lt;b&gt;</textarea>' in shown, "what the person typed is kept"
    assert '<div class="bk-field-error" role="alert">Write at most 280 characters.</div>' in shown
    assert '<span class="bk-optional">(optional)</span>' in shown


def test_what_the_page_sends_becomes_slack_state():
    files = {"F1": {"id": "F1", "name": "a.png"}}
    blocks = [
        {"type": "input", "block_id": "at", "label": {"type": "plain_text", "text": "At"},
         "element": {"type": "datetimepicker", "action_id": "at"}},
        {"type": "actions", "block_id": "pick", "elements": [
            {"type": "checkboxes", "action_id": "boxes", "options": [
                {"text": {"type": "plain_text", "text": "Acme"}, "value": "1"},
                {"text": {"type": "plain_text", "text": "Other"}, "value": "2"}]},
            {"type": "button", "action_id": "save", "text": {"type": "plain_text", "text": "Save"}}]},
        {"type": "input", "block_id": "media", "label": {"type": "plain_text", "text": "Files"},
         "element": {"type": "file_input", "action_id": "files"}},
        {"type": "input", "block_id": "ch", "label": {"type": "plain_text", "text": "Channel"},
         "element": {"type": "conversations_select", "action_id": "c"}},
    ]
    sent = {("at", "at"): "2026-05-04T09:30", ("pick", "boxes"): ["2"], ("media", "files"): ["F1", "F9"],
            ("ch", "c"): ALERTS}
    state = bk.state_values(blocks, sent, "Europe/Madrid", files.get)
    assert state == {
        "at": {"at": {"type": "datetimepicker",
                      "selected_date_time": int(datetime(2026, 5, 4, 7, 30, tzinfo=UTC).timestamp())}},
        "pick": {"boxes": {"type": "checkboxes",
                           "selected_options": [{"text": {"type": "plain_text", "text": "Other"}, "value": "2"}]}},
        "media": {"files": {"type": "file_input", "files": [{"id": "F1", "name": "a.png"}]}},
        "ch": {"c": {"type": "conversations_select", "selected_conversation": ALERTS}},
    }


# ---- the simulated Slack ---------------------------------------------------------------------------------------

@pytest.fixture
def sandbox_slack():
    slack = SandboxSlack().start()
    yield slack
    slack.stop()


def _call(slack: SandboxSlack, method: str, **params) -> dict:
    answer = httpx.post(f"{slack.api_url}{method}", json=params, headers={"Authorization": f"Bearer {BOT_TOKEN}"})
    return answer.json()


def test_the_web_api_keeps_messages_threads_ephemerals_and_windows(sandbox_slack):
    slack = sandbox_slack
    posted = _call(slack, "chat.postMessage", channel=MARKETING, text="Scheduled",
                   blocks=[{"type": "section", "text": {"type": "mrkdwn", "text": "*Scheduled*"}}])
    assert posted["ok"]
    assert _call(slack, "chat.postMessage", channel=MARKETING, text="Approved", thread_ts=posted["ts"])["ok"]
    assert _call(slack, "chat.postEphemeral", channel=MARKETING, user="U0MARIA", text="Only you")["ok"]
    assert _call(slack, "chat.update", channel=MARKETING, ts=posted["ts"], text="Published")["ok"]
    assert _call(slack, "chat.postMessage", channel="U0SAM", text="A direct message")["channel"] == "D0SAM"
    refused = _call(slack, "chat.postMessage", channel=MARKETING, text="x", blocks=[{"type": "section"}])
    assert refused["error"] == "invalid_blocks"

    maria = [(m.text, m.thread_ts == posted["ts"], m.ephemeral_for) for m in slack.timeline(MARKETING, "U0MARIA")]
    assert maria[:3] == [("Published", False, None), ("Approved", True, None), ("Only you", False, "U0MARIA")]
    assert slack.timeline(MARKETING, "U0MARIA")[3].refused, "the refused message is shown as refused"
    assert [(m.text, bool(m.refused)) for m in slack.timeline(MARKETING, "U0SAM")] == [
        ("Published", False), ("Approved", False), ("x", True)], "the ephemeral is Maria's alone"
    assert [m.text for m in slack.timeline("D0SAM", "U0SAM")] == ["A direct message"]

    trigger = slack.trigger("U0MARIA")
    view = {"type": "modal", "title": {"type": "plain_text", "text": "New post"},
            "blocks": [{"type": "section", "text": {"type": "plain_text", "text": "Hello"}}]}
    opened = _call(slack, "views.open", trigger_id=trigger, view=json.dumps(view))
    assert opened["ok"] and slack.top_view("U0MARIA").view["title"]["text"] == "New post"
    stale = _call(slack, "views.update", view_id=opened["view"]["id"], hash="old", view=json.dumps(view))
    assert stale["error"] == "hash_conflict"
    assert _call(slack, "views.open", trigger_id="never-given", view=json.dumps(view))["error"] == "expired_trigger_id"
    assert slack.top_view("U0SAM") is None


def _copy_as_killed(folder: Path, tmp_path: Path) -> Path:
    """The sandbox folder as a process killed now would leave it (what is on disk, nothing more)."""
    return Path(shutil.copytree(folder, tmp_path / "after-the-kill"))


def test_the_workspace_is_saved_as_it_changes_and_a_restart_carries_on_from_it(tmp_path):
    from bot.sandbox.run import prepare_state_dir

    folder = prepare_state_dir(tmp_path, reset=False)
    slack = SandboxSlack().keep_in(folder).start()
    try:
        status = _call(slack, "chat.postMessage", channel=MARKETING, text="Scheduled for 9:00")
        _call(slack, "chat.postMessage", channel=MARKETING, text="Approved by Sam", thread_ts=status["ts"])
        _call(slack, "chat.update", channel=MARKETING, ts=status["ts"], text="Published on X")
        assert slack.toggle_reaction(MARKETING, status["ts"], "tada", "U0SAM")
        home = {"type": "home", "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "*Queue*"}}]}
        _call(slack, "views.publish", user_id="U0MARIA", view=json.dumps(home))
        window = {"type": "modal", "title": {"type": "plain_text", "text": "New post"},
                  "blocks": [{"type": "section", "text": {"type": "plain_text", "text": "What to say?"}}]}
        assert _call(slack, "views.open", trigger_id=slack.trigger("U0MARIA"), view=json.dumps(window))["ok"]
        picture = slack.attach("U0MARIA", "spring.png", "image/png", b"\x89PNG-spring")
        saved = folder / "slack.pickle"
        # Never stopped: what is on disk once the writes settle is what a kill -9 would leave.
        wait_until(lambda: saved.exists() and b"Published on X" in saved.read_bytes()
                   and b"PNG-spring" in saved.read_bytes(), "the workspace saved", 10)
        copy = _copy_as_killed(folder, tmp_path)
    finally:
        slack.stop()

    again = SandboxSlack().keep_in(copy).start()
    try:
        [top, reply] = again.timeline(MARKETING, "U0MARIA")
        assert (top.text, top.reactions, reply.text, reply.thread_ts) == (
            "Published on X", {"tada": ["U0SAM"]}, "Approved by Sam", status["ts"])
        assert _call(again, "chat.update", channel=MARKETING, ts=status["ts"], text="Published, 12 likes")["ok"], \
            "Picmim can still edit its status message"
        assert again.homes["U0MARIA"].view["blocks"] == home["blocks"]
        assert again.top_view("U0MARIA").view["title"]["text"] == "New post"
        assert again.file(picture["id"])[0] == b"\x89PNG-spring"
        later = again.attach("U0MARIA", "summer.png", "image/png", b"\x89PNG-summer")
        assert later["id"] != picture["id"] and again.file(picture["id"])[0] == b"\x89PNG-spring", "ids carry on"
        newer = _call(again, "chat.postMessage", channel=MARKETING, text="Another post")
        assert newer["ts"] != status["ts"] and len(again.timeline(MARKETING, "U0MARIA")) == 3
    finally:
        again.stop()

    fresh = SandboxSlack().keep_in(prepare_state_dir(tmp_path, reset=True)).start()  # --reset: starts over
    try:
        assert fresh.timeline(MARKETING, "U0MARIA") == [] and fresh.homes == {}
    finally:
        fresh.stop()


def test_a_file_a_person_attaches_is_downloaded_with_the_bot_token_only(sandbox_slack):
    listing = sandbox_slack.attach("U0MARIA", "spring.png", "image/png", b"\x89PNG-bytes")
    assert listing["name"] == "spring.png" and listing["size"] == 10
    link = listing["url_private_download"]
    assert httpx.get(link, headers={"Authorization": f"Bearer {BOT_TOKEN}"}).content == b"\x89PNG-bytes"
    assert "Sign in to Slack" in httpx.get(link).text


def test_a_button_that_asks_first_carries_its_question():
    button = {"type": "button", "action_id": "drop", "text": {"type": "plain_text", "text": "Disconnect"},
              "style": "danger", "confirm": {"title": {"type": "plain_text", "text": "Disconnect X?"},
                                             "text": {"type": "plain_text", "text": "Scheduled posts stop."},
                                             "confirm": {"type": "plain_text", "text": "Disconnect"},
                                             "deny": {"type": "plain_text", "text": "Cancel"}}}
    shown = bk.render_blocks([{"type": "actions", "block_id": "a", "elements": [button]}], CTX)
    assert 'class="bk-button bk-danger"' in shown
    assert 'data-confirm="Disconnect X?\nScheduled posts stop."' in shown


def test_a_window_slack_would_refuse_is_said_to_the_person_it_was_for(sandbox_slack):
    bad = {"type": "modal", "title": {"type": "plain_text", "text": "A title far longer than Slack's 24"},
           "blocks": [{"type": "section", "text": {"type": "plain_text", "text": "Hello"}}]}
    answer = _call(sandbox_slack, "views.open", trigger_id=sandbox_slack.trigger("U0SAM"), view=json.dumps(bad))
    assert answer["error"] == "invalid_arguments"
    assert sandbox_slack.top_view("U0SAM") is None
    [why] = sandbox_slack.refused_views["U0SAM"]
    assert "title" in why and "24" in why


def test_dates_show_in_the_readers_zone_and_bold_spans_mentions():
    at = int(datetime(2026, 12, 6, 11, 7, tzinfo=UTC).timestamp())
    text = f"*Approved by <@U0MARIA>* · publishes <!date^{at}^{{date_short_pretty}}, {{time}}|6 Dec 2026, 11:07 UTC>"
    shown = bk.mrkdwn(text, CTX)
    assert shown == ('<b>Approved by <span class="mention">@Maria Lopez</span></b> · publishes '
                     "<time>6 Dec 2026, 12:07</time>")


def test_an_empty_required_field_is_said_before_anything_is_sent():
    blocks = [
        {"type": "input", "block_id": "text", "label": {"type": "plain_text", "text": "Text"},
         "element": {"type": "plain_text_input", "action_id": "t"}},
        {"type": "input", "block_id": "note", "optional": True, "label": {"type": "plain_text", "text": "Note"},
         "element": {"type": "plain_text_input", "action_id": "n"}},
        {"type": "input", "block_id": "at", "label": {"type": "plain_text", "text": "At"},
         "element": {"type": "timepicker", "action_id": "a"}},
    ]
    empty = bk.state_values(blocks, {("text", "t"): "  "[:0]}, "UTC", lambda _: None)
    assert bk.missing_required(blocks, empty) == {"text": bk.REQUIRED, "at": bk.REQUIRED}
    filled = bk.state_values(blocks, {("text", "t"): "Hello", ("at", "a"): "09:00"}, "UTC", lambda _: None)
    assert bk.missing_required(blocks, filled) == {}


# ---- what people do, sent to an app as Slack sends it ------------------------------------------------------------

class Answering:
    """An app at /slack/events that checks Slack's signature (slack_sdk's verifier) and answers each request with
    the next answer given; it keeps what it was sent."""

    def __init__(self, secret: str, answers: list[dict | None]):
        from slack_sdk.signature import SignatureVerifier

        self.verifier, self.answers, self.received = SignatureVerifier(secret), answers, []

    async def events(self, request):
        from aiohttp import web

        body = await request.read()
        if not self.verifier.is_valid_request(body, dict(request.headers)):
            return web.Response(status=401)
        self.received.append(body)
        answer = self.answers.pop(0) if self.answers else None
        return web.json_response(answer) if answer is not None else web.Response(text="")


@pytest.fixture
async def app_link(sandbox_slack):
    from aiohttp import web

    from bot.sandbox.workspace import AppLink

    app = Answering("sandbox-secret", [])
    web_app = web.Application()
    web_app.router.add_post("/slack/events", app.events)
    runner = web.AppRunner(web_app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    link = AppLink(sandbox_slack, f"http://127.0.0.1:{port}/slack/events", "sandbox-secret")
    yield link, app
    await link.close()
    await runner.cleanup()


def _window(slack, user: str, title: str, blocks: list[dict]) -> str:
    answer = _call(slack, "views.open", trigger_id=slack.trigger(user), view=json.dumps(
        {"type": "modal", "callback_id": "w", "title": {"type": "plain_text", "text": title},
         "submit": {"type": "plain_text", "text": "Save"}, "blocks": blocks}))
    return answer["view"]["id"]


NAME = [{"type": "input", "block_id": "name", "label": {"type": "plain_text", "text": "Name"},
         "element": {"type": "plain_text_input", "action_id": "n"}}]


async def test_a_submission_is_sent_signed_and_the_apps_answer_applied(app_link, sandbox_slack):
    link, app = app_link
    slack = sandbox_slack
    first = _window(slack, "U0MARIA", "First", NAME)
    pushed = {"type": "modal", "title": {"type": "plain_text", "text": "Second"}, "blocks": NAME,
              "submit": {"type": "plain_text", "text": "Save"}}
    app.answers += [{"response_action": "errors", "errors": {"name": "Use letters only."}},
                    {"response_action": "push", "view": pushed}, None, {"response_action": "clear"}]

    await link.submit("U0MARIA", first, {("name", "n"): "R2D2"})
    sent = json.loads(dict(httpx.QueryParams(app.received[0].decode()))["payload"])
    assert (sent["type"], sent["view"]["state"]["values"]) == (
        "view_submission", {"name": {"n": {"type": "plain_text_input", "value": "R2D2"}}})
    assert slack.top_view("U0MARIA").errors == {"name": "Use letters only."}
    assert slack.top_view("U0MARIA").state["name"]["n"]["value"] == "R2D2", "kept to show again"

    await link.submit("U0MARIA", first, {("name", "n"): "Artoo"})
    assert slack.top_view("U0MARIA").view["title"]["text"] == "Second"
    second = slack.top_view("U0MARIA").view_id
    await link.submit("U0MARIA", second, {("name", "n"): "Ok"})  # an empty answer closes this one only
    assert slack.top_view("U0MARIA").view_id == first
    await link.submit("U0MARIA", first, {("name", "n"): "Ok"})
    assert slack.top_view("U0MARIA") is None, "clear closes every window"


async def test_messages_replies_reactions_and_unknown_commands(app_link, sandbox_slack):
    link, app = app_link
    slack = sandbox_slack
    await link.say("U0MARIA", MARKETING, "Morning all")
    [said] = slack.timeline(MARKETING, "U0SAM")
    await link.say("U0SAM", MARKETING, "Morning", thread_ts=said.ts)
    assert [(m.user, m.thread_ts) for m in slack.timeline(MARKETING, "U0MARIA")] == [
        ("U0MARIA", None), ("U0SAM", said.ts)]

    await link.react("U0SAM", MARKETING, said.ts, "white_check_mark")
    await link.react("U0SAM", MARKETING, said.ts, "white_check_mark")
    events = [json.loads(body)["event"] for body in app.received]
    assert [(e["type"], e["reaction"], e["item"]["ts"], e["user"]) for e in events] == [
        ("reaction_added", "white_check_mark", said.ts, "U0SAM"),
        ("reaction_removed", "white_check_mark", said.ts, "U0SAM")]
    assert slack.message(MARKETING, said.ts).reactions == {}

    await link.say("U0MARIA", MARKETING, "/giphy spring")
    note = slack.timeline(MARKETING, "U0MARIA")[-1]
    assert (note.user, note.ephemeral_for) == ("USLACKBOT", "U0MARIA")
    assert "/giphy is not a command in this workspace" in note.text
    assert len(app.received) == 2, "nothing else went to the app"


def test_reset_starts_over_and_without_it_everything_is_kept(tmp_path, capsys):
    from bot.sandbox.run import prepare_state_dir

    folder = prepare_state_dir(tmp_path, reset=False)
    (folder / "picmim-sandbox.db").write_bytes(b"posts")
    assert prepare_state_dir(tmp_path, reset=False) == folder and (folder / "picmim-sandbox.db").exists()
    assert capsys.readouterr().out == ""
    prepare_state_dir(tmp_path, reset=True)
    assert folder.is_dir() and list(folder.iterdir()) == []
    assert f"Started over: deleted {folder}." in capsys.readouterr().out
