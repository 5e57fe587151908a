"""Composing a post, end to end: the real server with an X account connected (rows written as a finished
connect writes them, with tokens the fake X issued), driven by signed commands and modal payloads."""

from __future__ import annotations

import asyncio
import json
import time
from datetime import UTC, datetime, timedelta

from bot import ids
from bot.storage.models import PostStatus
from tests import journeys
from tests.journeys import (
    blocks_of,
    compose_payload,
    compose_state,
    field_errors,
    stored_posts,
    submit_compose,
    x_posts,
)

# The server with an X account connected, Slack's file host and the fake X (see tests/journeys.py).
fake_x, files, compose_server = journeys.fake_x, journeys.slack_files, journeys.compose_server
sender, account_id = journeys.compose_sender, journeys.account_id


def _open_modal(sender, slack, text: str = "") -> dict:
    assert sender.command(f"post {text}".strip(), response_url=slack.response_url("post")).status_code == 200
    [opened] = slack.wait_for("views.open")
    return blocks_of(opened.params["view"])


def _wait_for_message(slack, method: str, needle: str, timeout: float = 15.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for call in slack.calls_to(method):
            if needle in json.dumps(blocks_of(call.params.get("blocks")), ensure_ascii=False):
                return call
        time.sleep(0.05)
    raise AssertionError(f"no {method} with {needle!r}: {[c.params for c in slack.calls_to(method)]}")


def test_a_text_that_says_payload_opens_the_window_with_it(sender, slack, account_id):
    # Bolt took any form body containing "payload" for an interaction: this command reached nobody.
    opened = _open_modal(sender, slack, "Our payload is live & 100% ready")
    [text_input] = [b for b in opened["blocks"] if b.get("block_id") == ids.COMPOSE_TEXT_BLOCK]
    assert text_input["element"]["initial_value"] == "Our payload is live & 100% ready"


def test_post_opens_a_modal_with_the_x_account(sender, slack, account_id):
    view = _open_modal(sender, slack, "hello")
    assert view["callback_id"] == ids.COMPOSE_VIEW and view["notify_on_close"] is True
    assert json.loads(view["private_metadata"])["channel_id"] == "C0001"
    blocks = {b.get("block_id"): b for b in view["blocks"]}
    assert blocks[ids.COMPOSE_TEXT_BLOCK]["element"]["initial_value"] == "hello"
    assert blocks[ids.COMPOSE_MEDIA_BLOCK]["element"]["type"] == "file_input"
    [group] = blocks[ids.COMPOSE_ACCOUNTS_BLOCK]["element"]["option_groups"]
    assert group["label"]["text"] == "X"
    assert group["options"] == [{"text": {"type": "plain_text", "text": "X · Acme Marketing (@acmemktg)"},
                                 "value": str(account_id)}]
    inputs = [b for b in view["blocks"] if b["type"] == "input"]
    assert len(inputs) <= 6, "a short window to start with"
    assert [b["block_id"] for b in inputs][:2] == [ids.COMPOSE_ACCOUNTS_BLOCK, ids.COMPOSE_TEXT_BLOCK], \
        "accounts first"
    assert f"{ids.COMPOSE_VARIANT_BLOCK}x" not in blocks and ids.COMPOSE_AT_BLOCK not in blocks
    assert view["submit"]["text"] == "Publish" and view["close"]["text"] == "Save draft"

    chosen = journeys.update_compose(sender, slack, compose_state([account_id], "hello"), view=view)
    blocks = {b.get("block_id"): b for b in chosen["blocks"]}
    assert f"{ids.COMPOSE_VARIANT_BLOCK}x" in blocks, "X's own part once X is chosen"
    assert blocks[ids.COMPOSE_TEXT_BLOCK]["element"]["initial_value"] == "hello", "what was typed stays"
    assert blocks[f"{ids.COMPOSE_SETTING_BLOCK}x:reply_settings"]["label"]["text"] == "Who can reply"
    assert ids.COMPOSE_AT_BLOCK not in blocks

    later = journeys.update_compose(sender, slack, compose_state([account_id], "hello", when="schedule"),
                                    ids.COMPOSE_WHEN_INPUT, view=chosen)
    blocks = {b.get("block_id"): b for b in later["blocks"]}
    assert blocks[ids.COMPOSE_AT_BLOCK]["element"]["type"] == "datetimepicker", "Schedule shows the time"
    assert later["submit"]["text"] == "Schedule"


def test_the_message_shortcut_opens_the_modal_with_the_message(sender, slack, account_id):
    payload = {"type": "message_action", "callback_id": ids.COMPOSE_SHORTCUT, "trigger_id": "trigger-1",
               "team": {"id": "T0001", "domain": "acme"}, "user": {"id": "U0001"}, "api_app_id": "A0PICMIM",
               "token": "deprecated", "channel": {"id": "C0002", "name": "launch"},
               "message": {"type": "message", "text": "We launch on Monday!", "ts": "1700000000.000200"},
               "message_ts": "1700000000.000200", "response_url": slack.response_url("shortcut")}
    assert sender.interaction(payload).status_code == 200
    [opened] = slack.wait_for("views.open")
    view = blocks_of(opened.params["view"])
    text = next(b for b in view["blocks"] if b.get("block_id") == ids.COMPOSE_TEXT_BLOCK)
    assert text["element"]["initial_value"] == "We launch on Monday!"
    assert json.loads(view["private_metadata"])["channel_id"] == "C0002"


def test_too_long_for_x_is_refused_beside_the_text_then_posted_now(sender, slack, fake_x, account_id):
    errors = field_errors(submit_compose(sender, compose_state([account_id], "a" * 300)))
    assert list(errors) == [ids.COMPOSE_TEXT_BLOCK]
    assert "X counts this" in errors[ids.COMPOSE_TEXT_BLOCK] and "of 280" in errors[ids.COMPOSE_TEXT_BLOCK]
    # The variant for X is what X gets: its problem goes beside the variant.
    errors = field_errors(submit_compose(sender, compose_state([account_id], "short", x_text="b" * 300)))
    assert list(errors) == [f"{ids.COMPOSE_VARIANT_BLOCK}x"]
    assert slack.calls_to("chat.postMessage") == []

    text = f"Hello from Picmim {time.time_ns()}"
    answer = submit_compose(sender, compose_state([account_id], text))
    assert answer.status_code == 200 and answer.text in ("", "null"), answer.text
    [status] = slack.wait_for("chat.postMessage")
    assert status.params["channel"] == "C0001"
    first = json.dumps(blocks_of(status.params["blocks"]), ensure_ascii=False)
    assert "Publishing now" in first and "Scheduled" not in first, first
    update = _wait_for_message(slack, "chat.update", "view the post")
    [posted] = x_posts(fake_x, text)
    assert posted["id"] in json.dumps(blocks_of(update.params["blocks"]))
    time.sleep(1.2)  # two more ticks: nothing is sent twice
    assert len(x_posts(fake_x, text)) == 1
    assert len(slack.calls_to("chat.postMessage")) == 1


def test_a_scheduled_post_waits_and_a_past_time_is_refused(sender, slack, fake_x, account_id, module_database):
    past = datetime.now(UTC) - timedelta(hours=1)
    errors = field_errors(submit_compose(sender, compose_state([account_id], "later", when="schedule", at=past)))
    assert list(errors) == [ids.COMPOSE_AT_BLOCK] and "in the past" in errors[ids.COMPOSE_AT_BLOCK]
    errors = field_errors(submit_compose(sender, compose_state([account_id], "later", when="schedule")))
    assert list(errors) == [ids.COMPOSE_AT_BLOCK]

    text = f"Next week {time.time_ns()}"
    at = (datetime.now(UTC) + timedelta(days=7)).replace(second=0, microsecond=0)
    assert submit_compose(sender, compose_state([account_id], text, when="schedule", at=at)).status_code == 200
    status = _wait_for_message(slack, "chat.postMessage", "Scheduled for")
    shown = json.dumps(blocks_of(status.params["blocks"]))
    assert "(CET)" in shown or "(CEST)" in shown, "the author's time zone"
    time.sleep(1.2)
    assert x_posts(fake_x, text) == []
    [post] = [p for p in asyncio.run(stored_posts(module_database.url)) if p.text == text]
    assert post.status is PostStatus.SCHEDULED and post.scheduled_at == at
    assert post.timezone == "Europe/Madrid"


def test_closing_keeps_a_draft_that_reopens_and_posts(sender, slack, fake_x, account_id, module_database):
    text = f"Half-written {time.time_ns()}"
    closed = sender.interaction(compose_payload("view_closed", compose_state([account_id], text, comment="more soon"),
                                              '{"channel_id": "C0001"}'))
    assert closed.status_code == 200
    deadline = time.monotonic() + 10
    while not [p for p in asyncio.run(stored_posts(module_database.url)) if p.text == text]:
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
    view = blocks_of(opened.params["view"])
    blocks = {b.get("block_id"): b for b in view["blocks"]}
    assert blocks[ids.COMPOSE_TEXT_BLOCK]["element"]["initial_value"] == text
    assert blocks[ids.COMPOSE_COMMENT_BLOCK]["element"]["initial_value"] == "more soon"
    assert [o["value"] for o in blocks[ids.COMPOSE_ACCOUNTS_BLOCK]["element"]["initial_options"]] == [str(account_id)]
    assert json.loads(view["private_metadata"])["draft_id"] == int(button["value"])

    assert submit_compose(sender, compose_state([account_id], text), view["private_metadata"]).status_code == 200
    _wait_for_message(slack, "chat.update", "view the post")
    mine = [p for p in asyncio.run(stored_posts(module_database.url)) if p.text == text]
    assert [p.id for p in mine] == [int(button["value"])], "the draft became the post"
    assert mine[0].status is PostStatus.PUBLISHED
    assert len(x_posts(fake_x, text)) == 1


def _uploads(fake_x) -> int:
    return len([c for c in fake_x.calls if "/2/media/upload" in c.path and c.method == "POST"])


def test_an_attached_image_is_fetched_with_the_bot_token_and_published(sender, slack, fake_x, files, account_id):
    files.delay, before = 0.0, _uploads(fake_x)
    text = f"With a picture {time.time_ns()}"
    answer = submit_compose(sender, compose_state([account_id], text, files=[files.file("launch.png")]))
    assert answer.status_code == 200 and answer.text in ("", "null"), answer.text
    _wait_for_message(slack, "chat.update", "view the post")
    [posted] = x_posts(fake_x, text)
    assert len(posted["media_ids"]) == 1 and _uploads(fake_x) > before


def test_slow_attachments_are_checked_after_the_answer(sender, slack, fake_x, files, account_id):
    files.delay = 3.5
    text = f"Slow picture {time.time_ns()}"
    started = time.monotonic()
    answer = submit_compose(sender, compose_state([account_id], text, files=[files.file("slow.png")]))
    assert answer.status_code == 200 and time.monotonic() - started < 3, "Slack's 3 seconds are kept"
    slack.wait_for("chat.postMessage")
    time.sleep(1)
    assert x_posts(fake_x, text) == [], "not published before its attachment is in"
    _wait_for_message(slack, "chat.update", "view the post")
    [posted] = x_posts(fake_x, text)
    assert len(posted["media_ids"]) == 1
    files.delay = 0.0


def test_what_is_not_a_picture_or_video_is_refused_beside_the_attachments(sender, slack, files, account_id):
    files.delay = 0.0
    files.put("notes.png", b"meeting notes, not a picture")
    notes = files.file("notes.png")
    errors = field_errors(submit_compose(sender, compose_state([account_id], "a" * 300, files=[notes])))
    assert list(errors) == [ids.COMPOSE_MEDIA_BLOCK], "what cannot be read is said first, beside the files"
    errors = field_errors(submit_compose(sender, compose_state([account_id], "a" * 300, files=[files.file("ok.png")])))
    assert list(errors) == [ids.COMPOSE_TEXT_BLOCK], "the picture fits X; only the text is refused"
    assert slack.calls_to("chat.postMessage") == []


def test_more_than_ten_files_are_refused_beside_the_attachments_before_any_download(sender, slack, files,
                                                                                     account_id):
    files.delay, before = 0.0, files.requests
    eleven = [files.file(f"many-{i}.png") for i in range(11)]  # Slack's file input allows 10: forged
    text = f"Eleven pictures {time.time_ns()}"
    errors = field_errors(submit_compose(sender, compose_state([account_id], text, files=eleven)))
    assert errors == {ids.COMPOSE_MEDIA_BLOCK: "Attach at most 10 files to a post (11 were attached)."}
    assert files.requests == before, "nothing was downloaded"
    assert not [c for c in slack.calls_to("chat.postMessage") if text in c.params.get("text", "")]


def test_a_replayed_submission_creates_one_post_and_one_platform_call(sender, slack, fake_x, account_id,
                                                                      module_database):
    text = f"Sent twice {time.time_ns()}"
    first = submit_compose(sender, compose_state([account_id], text))
    replay = sender.resend()  # the same signed bytes, within Slack's 5 minutes
    assert first.status_code == 200 and replay.status_code == 200 and replay.text == ""
    _wait_for_message(slack, "chat.update", "view the post")
    time.sleep(1.5)  # a second post would be published within a tick or two
    assert len(x_posts(fake_x, text)) == 1
    assert len([p for p in asyncio.run(stored_posts(module_database.url)) if p.text == text]) == 1


def test_the_same_compose_view_submitted_twice_makes_one_post(sender, slack, fake_x, account_id, module_database):
    """Two signed requests (not a replay of the bytes) submitting the same view (id and hash) act once."""
    text = f"Double submission {time.time_ns()}"
    payload = compose_payload("view_submission", compose_state([account_id], text), '{"channel_id": "C0001"}')
    assert sender.interaction(payload).status_code == 200
    payload["trigger_id"] = f"trigger-{time.time_ns()}"  # other bytes, so another signature
    again = sender.interaction(payload)
    assert again.status_code == 200 and again.text in ("", "null")
    _wait_for_message(slack, "chat.update", "view the post")
    time.sleep(1.5)
    assert len(x_posts(fake_x, text)) == 1
    assert len([p for p in asyncio.run(stored_posts(module_database.url)) if p.text == text]) == 1
