"""Composing a post, end to end: the real server with an X account connected (rows written as a finished
connect writes them, with tokens the fake X issued), driven by signed commands and modal payloads."""

from __future__ import annotations

import asyncio
import json
import time
from datetime import UTC, datetime, timedelta

import pytest

from bot import ids
from bot.http import build_client
from bot.platforms import oauth
from bot.platforms.x import ADAPTER as XAdapter
from bot.services.connecting import apply_tokens
from bot.storage import crypto, db
from bot.storage.models import Account, Connection, Post, PostStatus, Workspace
from tests.conftest import SECRET_KEY, SIGNING_SECRET
from tests.fakes.media import make_image
from tests.fakes.slack_files import SlackFiles
from tests.fakes.x import FakeX
from tests.platform_fixtures import connect, make_adapter
from tests.server import ServerProcess, base_env, free_port
from tests.slack_requests import SlackSender

BOT_TOKEN = "xoxb-fake-T0001"
X_USER = "2244994945"


@pytest.fixture(scope="module")
def fake_x():
    fake = FakeX().start()
    yield fake
    fake.stop()


@pytest.fixture(scope="module")
def files():
    host = SlackFiles(any_name=make_image(640, 480, "PNG")).start()
    yield host
    host.stop()


@pytest.fixture(scope="module")
def compose_server(module_database, fake_slack, fake_x, tmp_path_factory):
    port = free_port()
    public = f"http://127.0.0.1:{port}"
    overrides = ",".join(f"{real}={local}" for real, local in fake_x.origins().items())
    env = base_env(SLACK_SIGNING_SECRET=SIGNING_SECRET, SLACK_BOT_TOKEN=BOT_TOKEN, SLACK_API_URL=fake_slack.api_url,
                   DATABASE_URL=module_database.url, PICMIM_SECRET_KEY=SECRET_KEY, PORT=str(port),
                   PUBLIC_URL=public, PICMIM_ORIGIN_OVERRIDES=overrides, PICMIM_TICK_SECONDS="0.5",
                   X_CLIENT_ID=fake_x.client_id, X_CLIENT_SECRET=fake_x.client_secret)
    server = ServerProcess(env, cwd=tmp_path_factory.mktemp("compose")).start()
    redirect = f"{public}/oauth/x/callback"
    fake_x.redirect_uris = {redirect}
    account_id = asyncio.run(_connect_x(module_database.url, fake_x, redirect))
    yield server, account_id
    server.stop()


async def _connect_x(url: str, fake_x: FakeX, redirect: str) -> int:
    """What `/picmim connect x` and choosing the account leave in the database."""
    async with build_client(fake_x.origins()) as http:
        tokens = await connect(make_adapter(XAdapter, fake_x, http, redirect), http, redirect, oauth.new_pkce())
    crypto.configure([SECRET_KEY])
    engine = db.create_engine(url)
    try:
        async with db.session_factory(engine)() as session:
            workspace = Workspace(team_id="T0001")
            session.add(workspace)
            await session.flush()
            connection = Connection(workspace_id=workspace.id, platform="x", external_user_id=X_USER,
                                    display_name="Acme Marketing", connected_by="U0001")
            apply_tokens(connection, tokens)
            session.add(connection)
            await session.flush()
            account = Account(workspace_id=workspace.id, connection_id=connection.id, platform="x",
                              external_id=X_USER, kind="profile", name="Acme Marketing", handle="acmemktg")
            session.add(account)
            await session.commit()
            return account.id
    finally:
        await engine.dispose()


async def _posts(url: str) -> list[Post]:
    engine = db.create_engine(url)
    try:
        async with db.session_factory(engine)() as session:
            from sqlalchemy import select
            return list(await session.scalars(select(Post).order_by(Post.id)))
    finally:
        await engine.dispose()


@pytest.fixture
def sender(compose_server):
    s = SlackSender(compose_server[0].url, SIGNING_SECRET)
    yield s
    s.close()


@pytest.fixture
def account_id(compose_server) -> int:
    return compose_server[1]


def _open_modal(sender, slack, text: str = "") -> dict:
    assert sender.command(f"post {text}".strip(), response_url=slack.response_url("post")).status_code == 200
    [opened] = slack.wait_for("views.open")
    return _j(opened.params["view"])


def _j(value):
    return json.loads(value) if isinstance(value, str) else value  # form or JSON body


def _state(account_ids, text="", *, x_text=None, when="now", at: datetime | None = None, files=(),
           comment=None) -> dict:
    values = {
        ids.COMPOSE_TEXT_BLOCK: {ids.COMPOSE_TEXT_INPUT: {"type": "plain_text_input", "value": text or None}},
        ids.COMPOSE_MEDIA_BLOCK: {ids.COMPOSE_MEDIA_INPUT: {"type": "file_input", "files": list(files)}},
        ids.COMPOSE_ACCOUNTS_BLOCK: {ids.COMPOSE_ACCOUNTS_INPUT: {
            "type": "multi_static_select",
            "selected_options": [{"value": str(i), "text": {"type": "plain_text", "text": "a"}} for i in account_ids]}},
        f"{ids.COMPOSE_VARIANT_BLOCK}x": {ids.COMPOSE_VARIANT_INPUT: {"type": "plain_text_input", "value": x_text}},
        ids.COMPOSE_COMMENT_BLOCK: {ids.COMPOSE_COMMENT_INPUT: {"type": "plain_text_input", "value": comment}},
        ids.COMPOSE_WHEN_BLOCK: {ids.COMPOSE_WHEN_INPUT: {"type": "radio_buttons",
                                                          "selected_option": {"value": when}}},
        ids.COMPOSE_AT_BLOCK: {ids.COMPOSE_AT_INPUT: {"type": "datetimepicker",
                                                      "selected_date_time": int(at.timestamp()) if at else None}},
    }
    return {"values": values}


def _view_payload(kind: str, state: dict, metadata: str) -> dict:
    return {"type": kind, "team": {"id": "T0001", "domain": "acme"}, "user": {"id": "U0001", "team_id": "T0001"},
            "api_app_id": "A0PICMIM", "token": "deprecated", "trigger_id": f"trigger-{time.time_ns()}",
            "view": {"id": "V1", "team_id": "T0001", "type": "modal", "callback_id": ids.COMPOSE_VIEW,
                     "private_metadata": metadata, "state": state, "hash": "h1", "blocks": []},
            "is_cleared": False}


def _submit(sender, state: dict, metadata: str = '{"channel_id": "C0001"}'):
    return sender.interaction(_view_payload("view_submission", state, metadata))


def _errors(response) -> dict:
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["response_action"] == "errors", body
    return body["errors"]


def _wait_for_message(slack, method: str, needle: str, timeout: float = 15.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for call in slack.calls_to(method):
            if needle in json.dumps(_j(call.params.get("blocks")), ensure_ascii=False):
                return call
        time.sleep(0.05)
    raise AssertionError(f"no {method} with {needle!r}: {[c.params for c in slack.calls_to(method)]}")


def _x_posts(fake_x, text: str) -> list[dict]:
    return [p for p in fake_x.posts.values() if p["text"] == text]


def test_post_opens_a_modal_with_the_x_account(sender, slack, account_id):
    view = _open_modal(sender, slack, "hello")
    assert view["callback_id"] == ids.COMPOSE_VIEW and view["notify_on_close"] is True
    assert json.loads(view["private_metadata"])["channel_id"] == "C0001"
    blocks = {b.get("block_id"): b for b in view["blocks"]}
    assert blocks[ids.COMPOSE_TEXT_BLOCK]["element"]["initial_value"] == "hello"
    assert blocks[ids.COMPOSE_MEDIA_BLOCK]["element"]["type"] == "file_input"
    [group] = blocks[ids.COMPOSE_ACCOUNTS_BLOCK]["element"]["option_groups"]
    assert group["label"]["text"] == "X"
    assert group["options"] == [{"text": {"type": "plain_text", "text": "Acme Marketing (@acmemktg)"},
                                 "value": str(account_id)}]
    assert f"{ids.COMPOSE_VARIANT_BLOCK}x" in blocks
    assert blocks[ids.COMPOSE_AT_BLOCK]["element"]["type"] == "datetimepicker"


def test_the_message_shortcut_opens_the_modal_with_the_message(sender, slack, account_id):
    payload = {"type": "message_action", "callback_id": ids.COMPOSE_SHORTCUT, "trigger_id": "trigger-1",
               "team": {"id": "T0001", "domain": "acme"}, "user": {"id": "U0001"}, "api_app_id": "A0PICMIM",
               "token": "deprecated", "channel": {"id": "C0002", "name": "launch"},
               "message": {"type": "message", "text": "We launch on Monday!", "ts": "1700000000.000200"},
               "message_ts": "1700000000.000200", "response_url": slack.response_url("shortcut")}
    assert sender.interaction(payload).status_code == 200
    [opened] = slack.wait_for("views.open")
    view = _j(opened.params["view"])
    text = next(b for b in view["blocks"] if b.get("block_id") == ids.COMPOSE_TEXT_BLOCK)
    assert text["element"]["initial_value"] == "We launch on Monday!"
    assert json.loads(view["private_metadata"])["channel_id"] == "C0002"


def test_too_long_for_x_is_refused_beside_the_text_then_posted_now(sender, slack, fake_x, account_id):
    errors = _errors(_submit(sender, _state([account_id], "a" * 300)))
    assert list(errors) == [ids.COMPOSE_TEXT_BLOCK]
    assert "X counts this" in errors[ids.COMPOSE_TEXT_BLOCK] and "of 280" in errors[ids.COMPOSE_TEXT_BLOCK]
    # The variant for X is what X gets: its problem goes beside the variant.
    errors = _errors(_submit(sender, _state([account_id], "short", x_text="b" * 300)))
    assert list(errors) == [f"{ids.COMPOSE_VARIANT_BLOCK}x"]
    assert slack.calls_to("chat.postMessage") == []

    text = f"Hello from Picmim {time.time_ns()}"
    answer = _submit(sender, _state([account_id], text))
    assert answer.status_code == 200 and answer.text in ("", "null"), answer.text
    [status] = slack.wait_for("chat.postMessage")
    assert status.params["channel"] == "C0001"
    first = json.dumps(_j(status.params["blocks"]), ensure_ascii=False)
    assert "Publishing now" in first and "Scheduled" not in first, first
    update = _wait_for_message(slack, "chat.update", "view the post")
    [posted] = _x_posts(fake_x, text)
    assert posted["id"] in json.dumps(_j(update.params["blocks"]))
    time.sleep(1.2)  # two more ticks: nothing is sent twice
    assert len(_x_posts(fake_x, text)) == 1
    assert len(slack.calls_to("chat.postMessage")) == 1


def test_a_scheduled_post_waits_and_a_past_time_is_refused(sender, slack, fake_x, account_id, module_database):
    past = datetime.now(UTC) - timedelta(hours=1)
    errors = _errors(_submit(sender, _state([account_id], "later", when="schedule", at=past)))
    assert list(errors) == [ids.COMPOSE_AT_BLOCK] and "in the past" in errors[ids.COMPOSE_AT_BLOCK]
    errors = _errors(_submit(sender, _state([account_id], "later", when="schedule")))
    assert list(errors) == [ids.COMPOSE_AT_BLOCK]

    text = f"Next week {time.time_ns()}"
    at = (datetime.now(UTC) + timedelta(days=7)).replace(second=0, microsecond=0)
    assert _submit(sender, _state([account_id], text, when="schedule", at=at)).status_code == 200
    status = _wait_for_message(slack, "chat.postMessage", "Scheduled for")
    shown = json.dumps(_j(status.params["blocks"]))
    assert "(CET)" in shown or "(CEST)" in shown, "the author's time zone"
    time.sleep(1.2)
    assert _x_posts(fake_x, text) == []
    [post] = [p for p in asyncio.run(_posts(module_database.url)) if p.text == text]
    assert post.status is PostStatus.SCHEDULED and post.scheduled_at == at
    assert post.timezone == "Europe/Madrid"


def test_closing_keeps_a_draft_that_reopens_and_posts(sender, slack, fake_x, account_id, module_database):
    text = f"Half-written {time.time_ns()}"
    closed = sender.interaction(_view_payload("view_closed", _state([account_id], text, comment="more soon"),
                                              '{"channel_id": "C0001"}'))
    assert closed.status_code == 200
    deadline = time.monotonic() + 10
    while not [p for p in asyncio.run(_posts(module_database.url)) if p.text == text]:
        assert time.monotonic() < deadline, "no draft was kept"
        time.sleep(0.1)
    sender.command("drafts", response_url=slack.response_url("drafts"))
    [listing] = slack.wait_for_response("drafts")
    shown = json.dumps(listing["blocks"], ensure_ascii=False)
    assert text in shown and "Acme Marketing" in shown
    button = next(b["accessory"] for b in listing["blocks"] if text in json.dumps(b, ensure_ascii=False))
    assert button["action_id"] == ids.DRAFT_OPEN

    click = {"type": "block_actions", "team": {"id": "T0001", "domain": "acme"}, "user": {"id": "U0001"},
             "api_app_id": "A0PICMIM", "token": "deprecated", "trigger_id": "trigger-2",
             "channel": {"id": "C0001"}, "container": {"type": "message", "is_ephemeral": True},
             "response_url": slack.response_url("open"),
             "actions": [{"type": "button", "action_id": ids.DRAFT_OPEN, "block_id": "b", "value": button["value"],
                          "action_ts": str(time.time())}]}
    assert sender.interaction(click).status_code == 200
    [opened] = slack.wait_for("views.open")
    view = _j(opened.params["view"])
    blocks = {b.get("block_id"): b for b in view["blocks"]}
    assert blocks[ids.COMPOSE_TEXT_BLOCK]["element"]["initial_value"] == text
    assert blocks[ids.COMPOSE_COMMENT_BLOCK]["element"]["initial_value"] == "more soon"
    assert [o["value"] for o in blocks[ids.COMPOSE_ACCOUNTS_BLOCK]["element"]["initial_options"]] == [str(account_id)]
    assert json.loads(view["private_metadata"])["draft_id"] == int(button["value"])

    assert _submit(sender, _state([account_id], text), view["private_metadata"]).status_code == 200
    _wait_for_message(slack, "chat.update", "view the post")
    mine = [p for p in asyncio.run(_posts(module_database.url)) if p.text == text]
    assert [p.id for p in mine] == [int(button["value"])], "the draft became the post"
    assert mine[0].status is PostStatus.PUBLISHED
    assert len(_x_posts(fake_x, text)) == 1


def _uploads(fake_x) -> int:
    return len([c for c in fake_x.calls if "/2/media/upload" in c.path and c.method == "POST"])


def test_an_attached_image_is_fetched_with_the_bot_token_and_published(sender, slack, fake_x, files, account_id):
    files.delay, before = 0.0, _uploads(fake_x)
    text = f"With a picture {time.time_ns()}"
    answer = _submit(sender, _state([account_id], text, files=[files.file("launch.png")]))
    assert answer.status_code == 200 and answer.text in ("", "null"), answer.text
    _wait_for_message(slack, "chat.update", "view the post")
    [posted] = _x_posts(fake_x, text)
    assert len(posted["media_ids"]) == 1 and _uploads(fake_x) > before


def test_slow_attachments_are_checked_after_the_answer(sender, slack, fake_x, files, account_id):
    files.delay = 3.5
    text = f"Slow picture {time.time_ns()}"
    started = time.monotonic()
    answer = _submit(sender, _state([account_id], text, files=[files.file("slow.png")]))
    assert answer.status_code == 200 and time.monotonic() - started < 3, "Slack's 3 seconds are kept"
    slack.wait_for("chat.postMessage")
    time.sleep(1)
    assert _x_posts(fake_x, text) == [], "not published before its attachment is in"
    _wait_for_message(slack, "chat.update", "view the post")
    [posted] = _x_posts(fake_x, text)
    assert len(posted["media_ids"]) == 1
    files.delay = 0.0


def test_what_is_not_a_picture_or_video_is_refused_beside_the_attachments(sender, slack, files, account_id):
    files.delay = 0.0
    files.put("notes.png", b"meeting notes, not a picture")
    notes = files.file("notes.png")
    errors = _errors(_submit(sender, _state([account_id], "a" * 300, files=[notes])))
    assert list(errors) == [ids.COMPOSE_MEDIA_BLOCK], "what cannot be read is said first, beside the files"
    errors = _errors(_submit(sender, _state([account_id], "a" * 300, files=[files.file("ok.png")])))
    assert list(errors) == [ids.COMPOSE_TEXT_BLOCK], "the picture fits X; only the text is refused"
    assert slack.calls_to("chat.postMessage") == []
