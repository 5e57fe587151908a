"""Property-based: every kind of request Slack sends, signed but with its fields generated and mutated (wrong
types, huge numbers, NUL and lone surrogates, very long strings, missing keys, forged metadata), sent to the real
server. Whatever comes in, the server answers below 500, logs no traceback, and keeps answering.

One server for the module (with an X account connected, so the buttons and modals reach real rows); the examples
are few and derandomized, so the file runs in well under two minutes and CI sees the same requests every time.
"""

from __future__ import annotations

import asyncio
import copy
import json
import time
from datetime import UTC, datetime, timedelta
from urllib.parse import quote, urlencode

import httpx
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from bot import ids
from bot.payloads import BY_ACTION, AccountMenuChoice, CardRef, ComposeOrigin, PostRef, ReviewComment
from bot.platforms import registry
from bot.services.composing import Choice, Composition
from bot.storage import db
from bot.storage.models import Decision, Post, PostStatus, PostTarget, Workspace
from bot.views import approvals as approval_views
from bot.views import compose as compose_views
from bot.views import connect as connect_views
from bot.views import importing as importing_views
from bot.views import queue as queue_views
from bot.views import settings as settings_views
from bot.views import stats as stats_views
from tests import journeys
from tests.conftest import SIGNING_SECRET
from tests.journeys import compose_payload, compose_state, field_errors, view_state, wait_until, x_posts
from tests.slack_requests import SlackSender

fake_x, files, compose_server = journeys.fake_x, journeys.slack_files, journeys.compose_server

FUZZ = settings(max_examples=25, deadline=None, derandomize=True, database=None, print_blob=False,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                       HealthCheck.data_too_large, HealthCheck.filter_too_much])


# ---- the server, and what every example checks ----------------------------------------------------------------


class Fuzzer:
    """Sends signed requests to the server and checks each answer; remembers the last ones, to show beside a
    traceback found in the server's log."""

    def __init__(self, server, account_id: int, slack):
        self.server, self.account_id, self.slack = server, account_id, slack
        self.sender = SlackSender(server.url, SIGNING_SECRET)
        self.log_seen = len(server.output())
        self.sent: list[bytes] = []

    def post(self, body: bytes, content_type: str) -> httpx.Response:
        self.sent = [*self.sent[-4:], body]
        response = self.sender.post(body, content_type)
        assert response.status_code < 500, (response.status_code, response.text, body[:2000])
        return response

    def interaction(self, payload) -> httpx.Response:
        # A field of its own makes each request's bytes (and signature) new, so none is refused as a replay.
        return self.post(urlencode({"payload": _json(payload), "n": time.time_ns()}).encode(),
                         "application/x-www-form-urlencoded")

    def command(self, fields: dict) -> httpx.Response:
        return self.post(_form({**fields, "n": time.time_ns()}), "application/x-www-form-urlencoded")

    def event(self, envelope) -> httpx.Response:
        return self.post(_json(envelope).encode(), "application/json")

    def new_log(self) -> str:
        text = self.server.output()
        found, self.log_seen = text[self.log_seen:], len(text)
        return found

    def assert_clean(self) -> None:
        """No traceback in what the server logged, once its work after the answers has settled; still serving."""
        deadline, before = time.monotonic() + 10, None
        while time.monotonic() < deadline:
            size = len(self.server.output())
            if size == before:
                break
            before = size
            time.sleep(0.5)
        logged = self.new_log()
        assert "Traceback" not in logged, (
            f"The server logged a traceback; its log:\n{logged[-8000:]}\n\nThe last requests sent:\n"
            + "\n".join(b[:1500].decode(errors="replace") for b in self.sent))
        assert self.server.alive()
        assert httpx.get(self.server.url + "/healthz", timeout=10).status_code == 200


@pytest.fixture(scope="module")
def fuzz(compose_server, fake_slack):
    server, account_id = compose_server
    fuzzer = Fuzzer(server, account_id, fake_slack)
    yield fuzzer
    fuzzer.sender.close()


def _json(value) -> str:
    # Lone surrogates go as \ud800 escapes (as a JSON sender may write them); NaN is not JSON: Slack never sends it.
    return json.dumps(value, ensure_ascii=True, allow_nan=False)


def _form(fields: dict) -> bytes:
    """A form body; text that UTF-8 cannot carry (lone surrogates) goes as the bytes a careless encoder writes."""
    return "&".join(f"{quote(str(k), safe='', errors='surrogatepass')}="
                    f"{quote(str(v), safe='', errors='surrogatepass')}" for k, v in fields.items()).encode()


# ---- what goes wrong in a field ------------------------------------------------------------------------------

NASTY_TEXT = st.one_of(
    # No dots: "connect bluesky <handle>" would look a handle up on the internet.
    st.text(st.characters(exclude_characters="."), max_size=40),
    st.sampled_from(["", " ", "\x00", "a\x00b", "\ud800", "x\udfffy", "²", "①", "١٢", "-1", "0", "1:1", "1:x",
                     "99999999999999999999", "1e309", "NaN", "{}", "[]", "null", '{"post_id": 1}', "x" * 5000,
                     "🙂" * 600, "<@U0001>", "refresh:1", "disconnect:²", "\u202e", "\n\n"]),
)
HUGE_NUMBERS = st.sampled_from([0, -1, 1, 2**31, 2**53 + 1, 2**63, 2**64, 10**30, -10**30, 253402300800,
                                253402300799, 1e308, -0.0, 0.5])
WEIRD = st.one_of(
    st.none(), st.booleans(), HUGE_NUMBERS, st.integers(), st.floats(allow_nan=False, allow_infinity=False),
    NASTY_TEXT,
    st.lists(st.one_of(st.none(), st.integers(), NASTY_TEXT), max_size=3),
    st.dictionaries(NASTY_TEXT, st.one_of(st.none(), st.integers(), NASTY_TEXT), max_size=3),
)
# URLs Picmim would call back: only ones that cannot reach anything (no test reaches the internet).
BAD_URLS = st.sampled_from(["", "not a url", "http://", "https://", "ftp://127.0.0.1/x", "http://[::1",
                            "javascript:alert(1)", "\x00"])
URL_KEYS = frozenset({"response_url", "url_private", "url_private_download"})


def _paths(value, prefix=()):
    if isinstance(value, dict):
        for key, inner in value.items():
            yield (*prefix, key)
            yield from _paths(inner, (*prefix, key))
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            yield (*prefix, index)
            yield from _paths(inner, (*prefix, index))


@st.composite
def mutated(draw, base, max_changes: int = 3):
    """`base` with a few of its fields (anywhere in it) replaced by a weird value, or removed."""
    payload = copy.deepcopy(base)
    for _ in range(draw(st.integers(0, max_changes))):
        paths = list(_paths(payload))
        if not paths:
            break
        # Mostly the fields inside (a modal's inputs, a button's value), which the listeners read; now and then the
        # envelope (team, user, type…), which the server refuses whole.
        inner = [p for p in paths if len(p) >= 3]
        *parent_path, key = draw(st.sampled_from(inner if inner and draw(st.integers(0, 3)) else paths))
        parent = payload
        for step in parent_path:
            parent = parent[step]
        if isinstance(parent, dict) and draw(st.integers(0, 4)) == 0:
            del parent[key]
        elif key in URL_KEYS:
            parent[key] = draw(BAD_URLS)
        else:
            parent[key] = draw(WEIRD)
    if draw(st.integers(0, 9)) == 0:  # now and then a whole payload that is not an object at all
        return draw(WEIRD)
    return payload


def _team() -> dict:
    return {"id": "T0001", "domain": "acme"}


def _user() -> dict:
    return {"id": "U0001", "team_id": "T0001", "username": "maria"}


def _trigger() -> str:
    return f"trigger-{time.time_ns()}"


# ---- the modals Picmim shows, as Slack sends them back ------------------------------------------------------

def _choices(account_id: int) -> list[Choice]:
    found = [Choice(account_id, "x", "X", "Acme Marketing", "acmemktg", "profile")]
    for n, platform in enumerate(("youtube", "pinterest", "tiktok", "linkedin", "instagram", "bluesky"), 1):
        found.append(Choice(10_000 + n, platform, registry.get(platform).name, f"Acme {platform}", None, "profile",
                            settings={"boards": [{"id": "b1", "name": "Roasts"}],
                                      "privacy_level_options": ["PUBLIC_TO_EVERYONE", "SELF_ONLY"]}))
    return found


def compose_view(account_id: int) -> dict:
    """The whole compose modal (every network's part, the time picker, a picture's alt text) with its state."""
    offered = _choices(account_id)
    composition = Composition(text="Our new roast", account_ids=[c.id for c in offered], schedule=True,
                              when=datetime.now(UTC) + timedelta(days=1))
    view = compose_views.compose_modal(offered, composition, json.dumps({"channel_id": "C0001"}),
                                       pictures=[(0, "roast.png")], first_comment_platforms=["linkedin"])
    return {**view, "id": "V1", "team_id": "T0001", "hash": "h1", "state": view_state(view)}


def other_views() -> list[dict]:
    """Every other modal Picmim opens, with its state as first shown."""
    workspace = Workspace(team_id="T0001", managers_policy="members", approval_required=True,
                          approval_channel_id="C0APPROVE", approver_user_ids=["U0001"], approvals_needed=1,
                          allow_self_approval=False, approve_reaction="white_check_mark", reject_reaction="x",
                          expiry_warning_days=[7, 1], default_timezone="Europe/Madrid", manager_user_ids=[])
    views = [
        settings_views.settings_modal(workspace, [("S1", "Marketing")], approval_on=True, own_zone="Europe/Madrid"),
        stats_views.subscribe_modal("C0001", "Europe/Madrid", [(1, "X · Acme")],
                                    [p for p in registry.PLATFORMS if p.adapter_ready],
                                    json.dumps({"response_url": "http://127.0.0.1:0/r", "channel": "C0001"})),
        queue_views.reschedule_modal(1, datetime.now(UTC) + timedelta(days=1), None),
        approval_views.comment_modal(1, 1, Decision.REJECT),
        approval_views.comment_modal(1, 1, Decision.REQUEST_CHANGES),
        connect_views.bluesky_handle_modal("C0001"),
        importing_views.import_modal(),
    ]
    return [{**v, "id": f"V{n + 2}", "team_id": "T0001", "hash": "h1", "state": view_state(v)}
            for n, v in enumerate(views)]


OTHER_VIEWS = other_views()

# Forged or outdated metadata: the codec must turn it into None (or a well-formed object), never a crash.
METADATA = st.one_of(
    st.sampled_from(['{"channel_id": "C0001"}', '{"channel_id": "C0001", "draft_id": 1}', '{"post_id": 1}',
                     '{"post_id": 1, "version": 1, "decision": "reject"}', '{"post_id": "1"}', '{"post_id": 1e400}',
                     '{"post_id": 99999999999999999999999}', '{"channel_id": ["C0001"]}', '{"decision": "nope"}',
                     '{"response_url": "not a url"}', '{"response_url": 5}', "[1]", "null", "garbage", "",
                     '{"channel_id": "C\\u0000"}', '{"channel_id": "\\ud800"}', '{"draft_id": -1}',
                     '{"draft_id": true}']),
    st.dictionaries(st.sampled_from(["channel_id", "draft_id", "post_id", "response_url", "version", "decision",
                                     "channel"]), WEIRD, max_size=3).map(_json),
    NASTY_TEXT,
)


# ---- requests of every kind ---------------------------------------------------------------------------------

SUBCOMMANDS = ["", "help", "post", "drafts", "queue", "connect", "accounts", "permissions", "settings", "stats",
               "digest", "digest subscribe", "digest list", "digest unsubscribe", "stats 30d", "stats x 7d",
               "stats 999999999999999999999d", "connect x", "connect bluesky",
               "connect nope", "connect instagram", "quee", "POST", "stats https://x.com/a/status/1"]


@st.composite
def commands(draw) -> dict:
    fields = {"token": "deprecated", "team_id": "T0001", "team_domain": "acme", "channel_id": "C0001",
              "channel_name": "marketing", "user_id": "U0001", "user_name": "maria", "command": ids.COMMAND,
              "text": f"{draw(st.sampled_from(SUBCOMMANDS))} {draw(NASTY_TEXT)}".strip(), "api_app_id": "A0PICMIM",
              "is_enterprise_install": "false", "response_url": "RESPONSE",
              "trigger_id": _trigger()}
    for _ in range(draw(st.integers(0, 2))):
        key = draw(st.sampled_from(sorted(fields)))
        if draw(st.booleans()):
            fields.pop(key)
        else:
            fields[key] = draw(BAD_URLS) if key == "response_url" else draw(NASTY_TEXT)
    return fields


ACTION_IDS = sorted({*BY_ACTION, ids.NEW_POST, ids.HOME_QUEUE, ids.HOME_CONNECT, ids.CONNECT_LINK_OPENED,
                     ids.CHOOSE_ACCOUNTS_BOXES, ids.SETTINGS_APPROVAL_REQUIRED_INPUT, ids.COMPOSE_ACCOUNTS_INPUT,
                     ids.COMPOSE_WHEN_INPUT, ids.COMPOSE_DESCRIBE, "no_such_action"})
VALUES = st.one_of(
    st.sampled_from(["1", "2", "3", "1:1", "1:2", "refresh:1", "reconnect:1", "disconnect:1", "x", "bluesky",
                     "instagram", json.dumps({"d": 7, "n": "nonce", "a": None}),
                     json.dumps({"d": 30, "n": "nonce", "t": 1}), json.dumps({"d": 7, "n": "n", "a": [1, "2"]})]),
    NASTY_TEXT,
)


@st.composite
def block_actions(draw, account_id: int) -> dict:
    action_id = draw(st.sampled_from(ACTION_IDS))
    action = {"type": "button", "action_id": action_id, "block_id": "b1", "value": draw(VALUES),
              "action_ts": str(time.time())}
    if action_id == ids.ACCOUNT_MENU:
        action = {"type": "overflow", "action_id": action_id, "block_id": "b1",
                  "selected_option": {"value": action.pop("value"), "text": {"type": "plain_text", "text": "R"}}}
    payload = {"type": "block_actions", "team": _team(), "user": _user(), "api_app_id": "A0PICMIM",
               "token": "deprecated", "trigger_id": _trigger(), "actions": [action]}
    where = draw(st.sampled_from(["message", "home", "compose", "modal"]))
    if where == "message":
        payload.update(channel={"id": "C0001", "name": "marketing"}, response_url="RESPONSE",
                       container={"type": "message", "message_ts": "1700000000.000100", "channel_id": "C0001"},
                       message={"type": "message", "ts": "1700000000.000100", "text": "status"},
                       state={"values": {f"{ids.CHOOSE_ACCOUNTS_BLOCK}0": {ids.CHOOSE_ACCOUNTS_BOXES: {
                           "type": "checkboxes", "selected_options": [{"value": "2244994945"}]}}}})
    elif where == "home":
        payload.update(container={"type": "view", "view_id": "VHOME"},
                       view={"id": "VHOME", "type": "home", "hash": "h1", "callback_id": "", "state": {"values": {}}})
    else:
        view = compose_view(account_id) if where == "compose" else draw(st.sampled_from(OTHER_VIEWS))
        view = {**view, "hash": f"h{time.time_ns()}"}
        if draw(st.booleans()):
            view["private_metadata"] = draw(METADATA)
        payload.update(container={"type": "view", "view_id": view["id"]}, view=view)
    return draw(mutated(payload))


@st.composite
def view_payloads(draw, account_id: int, kind: str) -> dict:
    """A modal submitted (or closed), one of Picmim's own or an unknown one."""
    view = draw(st.sampled_from([compose_view(account_id), compose_view(account_id), *OTHER_VIEWS,
                                 {"id": "V9", "type": "modal", "callback_id": "nope", "state": {"values": {}}}]))
    view = {**view, "hash": f"h{time.time_ns()}"}
    if draw(st.booleans()):
        view["private_metadata"] = draw(METADATA)
    payload = {"type": kind, "team": _team(), "user": _user(), "api_app_id": "A0PICMIM", "token": "deprecated",
               "trigger_id": _trigger(), "view": view, "is_cleared": False}
    return draw(mutated(payload, max_changes=4))


@st.composite
def shortcuts(draw) -> dict:
    kind = draw(st.sampled_from(["message_action", "shortcut"]))
    payload = {"type": kind, "callback_id": draw(st.sampled_from([ids.COMPOSE_SHORTCUT, "nope"])), "team": _team(),
               "user": _user(), "api_app_id": "A0PICMIM", "token": "deprecated", "trigger_id": _trigger(),
               "action_ts": str(time.time())}
    if kind == "message_action":
        payload.update(channel={"id": "C0001", "name": "marketing"}, response_url="RESPONSE",
                       message={"type": "message", "ts": "1700000000.000100", "text": draw(NASTY_TEXT),
                                "user": "U0002"}, message_ts="1700000000.000100")
    return draw(mutated(payload))


@st.composite
def suggestions(draw) -> dict:
    payload = {"type": "block_suggestion", "team": _team(), "user": _user(), "api_app_id": "A0PICMIM",
               "token": "deprecated", "action_id": draw(st.sampled_from(ACTION_IDS)), "block_id": "b1",
               "value": draw(NASTY_TEXT), "container": {"type": "view", "view_id": "V1"},
               "view": {"id": "V1", "type": "modal", "callback_id": ids.COMPOSE_VIEW, "private_metadata": "{}"}}
    return draw(mutated(payload))


def _event(kind: str, draw) -> dict:
    card = {"type": "message", "channel": "C0APPROVE", "ts": "1700000000.000100"}
    if kind in ("reaction_added", "reaction_removed"):
        return {"type": kind, "user": "U0001", "item": card, "item_user": "UBOT",
                "reaction": draw(st.sampled_from(["white_check_mark", "x", "tada", "+1::skin-tone-2"])),
                "event_ts": str(time.time())}
    if kind == "app_home_opened":
        return {"type": kind, "user": "U0001", "channel": "D0001", "tab": draw(st.sampled_from(["home", "messages"])),
                "event_ts": str(time.time())}
    if kind == "message":
        return {"type": kind, "channel": "D0001", "channel_type": "im", "user": "U0001", "text": draw(NASTY_TEXT),
                "ts": str(time.time()), "event_ts": str(time.time())}
    if kind == "file_shared":
        return {"type": kind, "file_id": "F1", "user_id": "U0001", "file": {"id": "F1"}, "channel_id": "C0001",
                "event_ts": str(time.time())}
    if kind == "tokens_revoked":
        return {"type": kind, "tokens": {"oauth": [], "bot": ["UBOT"]}}
    return {"type": kind, "user": "U0001", "event_ts": str(time.time())}


EVENTS = ["reaction_added", "reaction_removed", "app_home_opened", "message", "file_shared", "tokens_revoked",
          "app_mention", "member_joined_channel"]


@st.composite
def events(draw) -> dict:
    envelope = {"token": "deprecated", "team_id": "T0001", "api_app_id": "A0PICMIM",
                "event": _event(draw(st.sampled_from(EVENTS)), draw), "type": "event_callback",
                "event_id": f"Ev{time.time_ns()}", "event_time": int(time.time()),
                "authorizations": [{"enterprise_id": None, "team_id": "T0001", "user_id": "UBOT", "is_bot": True,
                                    "is_enterprise_install": False}],
                "is_ext_shared_channel": False}
    return draw(mutated(envelope))


@st.composite
def url_verifications(draw) -> dict:
    return draw(mutated({"token": "deprecated", "challenge": draw(NASTY_TEXT), "type": "url_verification"}))


def _with_urls(value, slack, rid: str):
    """The fake Slack's response URL wherever a payload says "RESPONSE"."""
    if value == "RESPONSE":
        return slack.response_url(rid)
    if isinstance(value, dict):
        return {k: _with_urls(v, slack, rid) for k, v in value.items()}
    if isinstance(value, list):
        return [_with_urls(v, slack, rid) for v in value]
    return value


# ---- the properties -----------------------------------------------------------------------------------------

def test_slash_commands(fuzz):
    @FUZZ
    @given(fields=commands())
    @example(fields={"command": ids.COMMAND, "text": "post a\x00b", "team_id": "T0001", "user_id": "U0001",
                     "channel_id": "C0001", "response_url": "RESPONSE", "trigger_id": "t"})
    @example(fields={"command": ids.COMMAND, "text": "stats 99999999999999999999999999d", "team_id": "T0001",
                     "user_id": "U0001", "channel_id": "C0001", "response_url": "RESPONSE", "trigger_id": "t"})
    def run(fields):
        fuzz.command(_with_urls(fields, fuzz.slack, "fuzz-command"))

    run()
    fuzz.assert_clean()


def test_block_actions(fuzz):
    @settings(FUZZ, max_examples=80)
    @given(payload=block_actions(fuzz.account_id))
    @example(payload={"type": "block_actions", "team": {"id": ["T0001"]}, "user": _user(), "trigger_id": "t",
                      "actions": [{"action_id": ids.NEW_POST, "type": "button"}]})
    @example(payload={"type": "block_actions", "team": _team(), "user": _user(), "trigger_id": "t",
                      "actions": "post_retry"})
    @example(payload={"type": "block_actions", "team": _team(), "user": _user(), "trigger_id": "t",
                      "channel": "C0001", "actions": [{"action_id": ids.NEW_POST, "type": "button"}]})
    @example(payload={"type": "block_actions", "team": _team(), "user": _user(), "trigger_id": "t",
                      "actions": [{"action_id": ids.POST_RETRY, "type": "button", "value": "²"}]})
    def run(payload):
        fuzz.interaction(_with_urls(payload, fuzz.slack, "fuzz-action"))

    run()
    fuzz.assert_clean()


def _compose_submission(account_id: int, changed: dict, metadata: str = '{"channel_id": "C0001"}') -> dict:
    view = compose_view(account_id)
    view["state"]["values"].update(changed)
    view["private_metadata"] = metadata
    return {"type": "view_submission", "team": _team(), "user": _user(), "trigger_id": "t", "view": view}


def test_view_submissions(fuzz):
    account_id = fuzz.account_id
    at = {ids.COMPOSE_AT_BLOCK: {ids.COMPOSE_AT_INPUT: {"type": "datetimepicker", "selected_date_time": None}}}

    def when(value) -> dict:
        return {ids.COMPOSE_AT_BLOCK: {ids.COMPOSE_AT_INPUT: {**at[ids.COMPOSE_AT_BLOCK][ids.COMPOSE_AT_INPUT],
                                                              "selected_date_time": value}}}

    twice = {ids.COMPOSE_ACCOUNTS_BLOCK: {ids.COMPOSE_ACCOUNTS_INPUT: {
        "type": "multi_static_select", "selected_options": [{"value": str(account_id)}, {"value": str(account_id)}]}}}
    nul = {ids.COMPOSE_TEXT_BLOCK: {ids.COMPOSE_TEXT_INPUT: {"type": "plain_text_input", "value": "a\x00b"}}}
    reschedule = {**OTHER_VIEWS[2], "state": {"values": {ids.QUEUE_AT_BLOCK: {ids.QUEUE_AT_INPUT: {
        "type": "datetimepicker", "selected_date_time": "abc"}}}}}

    @settings(FUZZ, max_examples=80)
    @given(payload=view_payloads(account_id, "view_submission"))
    @example(payload=_compose_submission(account_id, when(253402300800)))
    @example(payload=_compose_submission(account_id, when("abc")))
    @example(payload=_compose_submission(account_id, twice))
    @example(payload=_compose_submission(account_id, nul))
    @example(payload={"type": "view_submission", "team": _team(), "user": _user(), "view": reschedule})
    @example(payload={"type": "view_submission", "team": _team(), "user": _user(),  # bolt reads view.type itself
                      "view": {"id": "V1", "callback_id": ids.COMPOSE_VIEW, "state": {"values": {}}}})
    @example(payload={**_compose_submission(account_id, nul), "view": {
        **_compose_submission(account_id, nul)["view"], "blocks": [{"type": "input", "block_id": ["x"]}]}})
    def run(payload):
        if isinstance(payload, dict) and isinstance(payload.get("view"), dict):
            payload["view"]["hash"] = f"h{time.time_ns()}"  # each submission a new one, not a repeat
        fuzz.interaction(_with_urls(payload, fuzz.slack, "fuzz-view"))

    run()
    fuzz.assert_clean()


def test_views_closed(fuzz):
    @settings(FUZZ, max_examples=30)
    @given(payload=view_payloads(fuzz.account_id, "view_closed"))
    def run(payload):
        fuzz.interaction(payload)

    run()
    fuzz.assert_clean()


def test_shortcuts_and_suggestions(fuzz):
    @settings(FUZZ, max_examples=30)
    @given(payload=st.one_of(shortcuts(), suggestions()))
    # bolt's "unhandled request" warning reads these itself
    @example(payload={"type": "block_suggestion", "team": _team(), "user": _user(), "action_id": ["a"], "value": ""})
    @example(payload={"type": "shortcut", "callback_id": "nope", "team": _team(), "user": _user(), "trigger_id": "t",
                      "view": None})
    def run(payload):
        fuzz.interaction(_with_urls(payload, fuzz.slack, "fuzz-shortcut"))

    run()
    fuzz.assert_clean()


def test_events_and_url_verification(fuzz):
    @settings(FUZZ, max_examples=40)
    @given(envelope=st.one_of(events(), url_verifications()))
    @example(envelope={"type": "event_callback", "team_id": ["T0001"], "event_id": "Ev1",
                       "event": {"type": "app_home_opened", "user": "U0001", "tab": "home"}})
    @example(envelope={"type": "event_callback", "team_id": "T0001", "event_id": "Ev2",
                       "event": {"type": "reaction_added", "user": "U0001", "reaction": "x",
                                 "item": {"type": "message", "channel": "C\x00", "ts": "1.2"}}})
    def run(envelope):
        fuzz.event(envelope)

    run()
    fuzz.assert_clean()


# A well-formed interaction, then a second payload field (bolt reads the last one).
TWO_PAYLOADS = urlencode([("payload", _json({"type": "block_actions", "team": _team(), "user": _user(),
                                             "trigger_id": "t", "actions": [{"action_id": ids.NEW_POST}]})),
                          ("payload", '{"type": "block_actions", "team": {"id": "T0001"}, "actions": "x"}')]).encode()


def test_bodies_that_are_no_payload_at_all(fuzz):
    """Signed bytes that are not what Slack sends: a 400 at most, never a 500."""
    @settings(FUZZ, max_examples=25)
    @given(body=st.one_of(st.binary(max_size=200), st.text(max_size=200).map(str.encode),
                          st.sampled_from([b"payload=", b"payload=%7B", b"payload=%5B1%5D", b"payload=%FF%FE",
                                           b"command=%2Fpicmim&text=%ED%A0%80", b"{", b"[]", b"null", b"\xff",
                                           b'{"type": "event_callback", "event": []}',
                                           b'{"type": ["block_actions"]}', TWO_PAYLOADS])),
           content_type=st.sampled_from(["application/json", "application/x-www-form-urlencoded", "text/plain"]))
    def run(body, content_type):
        fuzz.post(body, content_type)

    run()
    fuzz.assert_clean()


# ---- what the fuzzing found, one by one: what the person (or Slack) sees instead of a 500 ----------------------

def _rows(url: str, statement) -> list:
    async def read():
        engine = db.create_engine(url)
        try:
            async with db.session_factory(engine)() as session:
                return list((await session.execute(statement)).all())
        finally:
            await engine.dispose()
    return asyncio.run(read())


def _targets(url: str, text: str) -> list[tuple]:
    """(post status, target account) of every post with this text."""
    return _rows(url, select(Post.status, PostTarget.account_id).join(PostTarget).where(Post.text == text))


def test_a_malformed_envelope_is_refused_with_a_400_and_nothing_happens(fuzz):
    team_as_list = {"type": "block_actions", "team": {"id": ["T0001"]}, "user": _user(), "trigger_id": _trigger(),
                    "actions": [{"action_id": ids.NEW_POST, "type": "button"}]}
    actions_as_text = {"type": "block_actions", "team": _team(), "user": _user(), "trigger_id": _trigger(),
                       "actions": "post_retry"}
    no_user = {"type": "view_submission", "team": _team(), "view": compose_view(fuzz.account_id)}
    before = len(fuzz.slack.calls_to("views.open"))
    for payload, reason in ((team_as_list, ".team.id is not a Slack id"), (actions_as_text, ".actions is not a list"),
                            (no_user, "view_submission without user")):
        response = fuzz.interaction(payload)
        assert (response.status_code, response.json()["error"]) == (400, reason)
    command = {"command": ids.COMMAND, "text": "queue", "team_id": "T0001", "user_id": "U0001", "channel_id": "C0001",
               "trigger_id": _trigger()}  # no response_url: nowhere to answer
    assert fuzz.command(command).status_code == 400
    event = {"type": "event_callback", "team_id": "T0001", "event_id": "Ev1", "event": None}
    assert fuzz.event(event).status_code == 400
    assert len(fuzz.slack.calls_to("views.open")) == before
    fuzz.assert_clean()


def test_a_date_that_is_not_one_is_an_inline_error_on_the_date_field(fuzz):
    for stamp in (253402300800, "abc", [1], True):
        state = compose_state([fuzz.account_id], f"Roast at {stamp!r}", when="schedule")
        state["values"][ids.COMPOSE_AT_BLOCK][ids.COMPOSE_AT_INPUT]["selected_date_time"] = stamp
        errors = field_errors(fuzz.interaction(compose_payload("view_submission", state, '{"channel_id": "C0001"}')))
        assert errors == {ids.COMPOSE_AT_BLOCK: "Pick the date and time to publish, or choose Now."}, stamp
    reschedule = {**OTHER_VIEWS[2], "state": {"values": {ids.QUEUE_AT_BLOCK: {ids.QUEUE_AT_INPUT: {
        "type": "datetimepicker", "selected_date_time": "abc"}}}}}
    response = fuzz.interaction({"type": "view_submission", "team": _team(), "user": _user(), "view": reschedule})
    assert field_errors(response) == {ids.QUEUE_AT_BLOCK: "Pick the date and time to publish."}
    fuzz.assert_clean()


def test_the_same_account_chosen_twice_is_posted_to_once(fuzz, fake_x, module_database):
    text = f"Twice chosen {time.time_ns()}"
    state = compose_state([fuzz.account_id, fuzz.account_id], text)
    response = fuzz.interaction(compose_payload("view_submission", state, '{"channel_id": "C0001"}'))
    assert response.status_code == 200 and not response.content, response.text
    wait_until(lambda: x_posts(fake_x, text), "the post on X")
    time.sleep(1.5)  # three more publisher ticks: still one post
    assert len(x_posts(fake_x, text)) == 1
    assert _targets(module_database.url, text) == [(PostStatus.PUBLISHED, fuzz.account_id)]
    fuzz.assert_clean()


def test_nul_and_lone_surrogates_in_a_draft_are_dropped_and_the_draft_is_kept(fuzz, module_database):
    """On PostgreSQL a NUL in the text made saving the draft fail: the draft was lost."""
    marker = time.time_ns()
    state = compose_state([fuzz.account_id], f"Roast\x00 notes\ud800 {marker}", x_text="For X\x00")
    response = fuzz.interaction(compose_payload("view_closed", state, '{"channel_id": "C0001"}'))
    assert response.status_code == 200
    saved = wait_until(lambda: _rows(module_database.url, select(Post.status, PostTarget.variant_text).join(PostTarget)
                                     .where(Post.text == f"Roast notes {marker}")), "the draft")
    assert saved == [(PostStatus.DRAFT, "For X")]
    fuzz.assert_clean()


def test_a_file_slack_would_not_send_is_refused_beside_the_attachments(fuzz):
    forged = {"id": "F1", "name": ["roast.png"], "mimetype": 5, "url_private": "javascript:alert(1)", "size": "big"}
    state = compose_state([fuzz.account_id], f"With a forged file {time.time_ns()}", files=[forged])
    errors = field_errors(fuzz.interaction(compose_payload("view_submission", state, '{"channel_id": "C0001"}')))
    assert errors == {ids.COMPOSE_MEDIA_BLOCK: "Slack did not say where to fetch “F1”; attach it again."}
    fuzz.assert_clean()


def test_a_forged_button_value_is_ignored_quietly(fuzz):
    """"²" is a digit to str.isdigit() (and int() refuses it); 2**31 is more than PostgreSQL's INTEGER holds."""
    for value in ("²", str(2**31), "1" * 30):
        payload = {"type": "block_actions", "team": _team(), "user": _user(), "trigger_id": _trigger(),
                   "channel": {"id": "C0001"}, "response_url": fuzz.slack.response_url("forged"),
                   "container": {"type": "message", "message_ts": "1700000000.000100", "channel_id": "C0001"},
                   "actions": [{"type": "button", "action_id": ids.POST_RETRY, "block_id": "b", "value": value}]}
        assert fuzz.interaction(payload).status_code == 200
    fuzz.assert_clean()


def test_a_click_without_a_response_url_is_answered_nowhere_without_failing(fuzz):
    payload = {"type": "block_actions", "team": _team(), "user": _user(), "trigger_id": _trigger(),
               "container": {"type": "view", "view_id": "V2"}, "view": {**OTHER_VIEWS[0], "id": "V2"},
               "actions": [{"type": "button", "action_id": ids.QUEUE_CANCEL, "block_id": "b", "value": "999999"}]}
    assert fuzz.interaction(payload).status_code == 200
    wait_until(lambda: "has no response_url; the answer was dropped" in fuzz.server.output(), "the log line")
    fuzz.assert_clean()


def test_a_time_zone_that_is_a_folder_of_zones_is_an_inline_error(fuzz):
    view = OTHER_VIEWS[0]  # /picmim settings
    state = copy.deepcopy(view["state"])
    zone = state["values"][ids.SETTINGS_TIMEZONE_BLOCK][ids.SETTINGS_TIMEZONE_INPUT]
    zone["selected_option"] = {"value": "Europe", "text": {"type": "plain_text", "text": "Europe"}}
    response = fuzz.interaction({"type": "view_submission", "team": _team(), "user": _user(),
                                 "view": {**view, "state": state}})
    assert field_errors(response)[ids.SETTINGS_TIMEZONE_BLOCK] == \
        "Enter a time zone such as Europe/Madrid, America/New_York or UTC."
    fuzz.assert_clean()


def test_the_codec_reads_forged_values_as_none():
    assert [PostRef.decode(v) for v in ("12", "²", "١٢", str(2**31), "-1", "1 ", None, 12)] == [
        PostRef(12), None, None, None, None, None, None, None]
    assert CardRef.decode("7:²") is None and CardRef.decode(f"7:{2**31}") is None
    assert AccountMenuChoice.decode("refresh:²") is None
    origin = ComposeOrigin.decode(json.dumps({"channel_id": "C0001\x00", "post_id": 2**40, "draft_id": 3,
                                              "response_url": "javascript:alert(1)"}))
    assert origin == ComposeOrigin(draft_id=3)
    assert ComposeOrigin.decode("[" * 5000) is None  # deeper than Python's JSON reader goes
    assert ReviewComment.decode(json.dumps({"post_id": 1, "version": True, "decision": "reject"})) is None
