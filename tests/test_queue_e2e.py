"""`/picmim queue`, end to end: the real server with an X account connected (the compose tests' fixtures),
posts scheduled through the compose modal, then listed, published now, rescheduled and cancelled by
signed button clicks and modal submissions."""

from __future__ import annotations

import asyncio
import json
import time
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from bot import ids
from bot.storage import db
from bot.storage.models import Post, PostStatus, PostTarget, TargetStatus
from bot.views.blocks import local_time
from tests import journeys
from tests.journeys import (
    blocks_of,
    compose_payload,
    compose_state,
    field_errors,
    status_click,
    stored_posts,
    submit_compose,
    wait_until,
    x_posts,
)

# The compose tests' fixtures: the real server with an X account connected, in this module's database.
fake_x, compose_server = journeys.fake_x, journeys.compose_server
sender, account_id = journeys.compose_sender, journeys.account_id

TEAM = {"id": "T0001", "domain": "acme"}


def _schedule(sender, slack, account_id, url: str, label: str, days: int = 7) -> tuple[Post, datetime]:
    """A post scheduled through the compose modal, once its status message exists."""
    text = f"{label} {time.time_ns()}"
    at = (datetime.now(UTC) + timedelta(days=days)).replace(second=0, microsecond=0)
    assert submit_compose(sender, compose_state([account_id], text, when="schedule", at=at)).status_code == 200
    deadline = time.monotonic() + 15
    while True:
        found = [p for p in asyncio.run(stored_posts(url)) if p.text == text and p.message_ts]
        if found:
            return found[0], at
        assert time.monotonic() < deadline, "the post was not scheduled"
        time.sleep(0.05)


def _post(url: str, post_id: int) -> tuple[Post, list[PostTarget]]:
    async def read():
        engine = db.create_engine(url)
        try:
            async with db.session_factory(engine)() as session:
                post = await session.get(Post, post_id)
                targets = list(await session.scalars(select(PostTarget).where(PostTarget.post_id == post_id)))
                return post, targets
        finally:
            await engine.dispose()
    return asyncio.run(read())


def _list(sender, slack, rid: str = "queue", user: str = "U0001") -> list[dict]:
    assert sender.command("queue", response_url=slack.response_url(rid), user_id=user).status_code == 200
    [listing] = slack.wait_for_response(rid)
    return listing["blocks"]


def _buttons(blocks: list[dict], post_id: int) -> dict[str, dict]:
    [actions] = [b for b in blocks if b.get("block_id") == f"queue_{post_id}"]
    return {e["action_id"]: e for e in actions["elements"]}


def _click(sender, slack, action_id: str, post_id: int, rid: str, user: str = "U0001"):
    payload = {"type": "block_actions", "team": TEAM, "user": {"id": user, "team_id": "T0001"},
               "api_app_id": "A0PICMIM", "token": "deprecated", "trigger_id": f"trigger-{time.time_ns()}",
               "channel": {"id": "C0001"}, "container": {"type": "message", "is_ephemeral": True},
               "response_url": slack.response_url(rid),
               "actions": [{"type": "button", "action_id": action_id, "block_id": f"queue_{post_id}",
                            "value": str(post_id), "action_ts": str(time.time())}]}
    response = sender.interaction(payload)
    assert response.status_code == 200, response.text
    return response


def _reschedule_submission(sender, view: dict, at: datetime | None, user: str = "U0001"):
    state = {"values": {ids.QUEUE_AT_BLOCK: {ids.QUEUE_AT_INPUT: {
        "type": "datetimepicker", "selected_date_time": int(at.timestamp()) if at else None}}}}
    payload = {"type": "view_submission", "team": TEAM, "user": {"id": user, "team_id": "T0001"},
               "api_app_id": "A0PICMIM", "token": "deprecated", "trigger_id": f"trigger-{time.time_ns()}",
               "view": {"id": "V2", "team_id": "T0001", "type": "modal", "callback_id": view["callback_id"],
                        "private_metadata": view["private_metadata"], "state": state, "hash": "h1",
                        "blocks": view["blocks"]}}
    return sender.interaction(payload)


def test_the_queue_lists_a_scheduled_post_in_the_viewers_zone(sender, slack, account_id, module_database):
    post, at = _schedule(sender, slack, account_id, module_database.url, "Queued")
    blocks = _list(sender, slack)
    shown = json.dumps(blocks, ensure_ascii=False)
    assert post.text in shown and "X · Acme Marketing" in shown
    # Under its day, in the viewer's zone (Slack's date formatting; the fallback in the viewer's zone).
    assert local_time(at, "Europe/Madrid") in shown
    day = local_time(at, "Europe/Madrid").split(",")[0]
    assert any(b["type"] == "context" and f"<!date^{int(at.timestamp())}^{{date_long_pretty}}|" in str(b)
               and day in str(b) for b in blocks), "a heading for its day"
    buttons = _buttons(blocks, post.id)
    assert set(buttons) == {ids.QUEUE_PUBLISH_NOW, ids.QUEUE_EDIT, ids.QUEUE_RESCHEDULE, ids.QUEUE_CANCEL}
    assert buttons[ids.QUEUE_CANCEL]["confirm"]["confirm"]["text"] == "Cancel post"
    # Publish now asks first, and is not the one green button on every row.
    assert "style" not in buttons[ids.QUEUE_PUBLISH_NOW]
    assert buttons[ids.QUEUE_PUBLISH_NOW]["confirm"]["confirm"]["text"] == "Publish now"


def test_publish_now_sends_it_to_x(sender, slack, fake_x, account_id, module_database):
    post, _ = _schedule(sender, slack, account_id, module_database.url, "Right away")
    assert x_posts(fake_x, post.text) == []
    _click(sender, slack, ids.QUEUE_PUBLISH_NOW, post.id, "now")
    [listing] = slack.wait_for_response("now")
    assert listing["replace_original"] is True and "Publishing now" in json.dumps(listing["blocks"])
    wait_until(lambda: x_posts(fake_x, post.text), what="the fake X to receive the post")
    wait_until(lambda: _post(module_database.url, post.id)[0].status is PostStatus.PUBLISHED, what="published")
    time.sleep(1.2)
    assert len(x_posts(fake_x, post.text)) == 1


def test_reschedule_to_a_later_time_keeps_it_waiting(sender, slack, fake_x, account_id, module_database):
    post, at = _schedule(sender, slack, account_id, module_database.url, "Later still")
    _click(sender, slack, ids.QUEUE_RESCHEDULE, post.id, "move")
    [opened] = slack.wait_for("views.open")
    view = blocks_of(opened.params["view"])
    assert view["callback_id"] == ids.QUEUE_RESCHEDULE_VIEW
    [picker] = [b for b in view["blocks"] if b.get("block_id") == ids.QUEUE_AT_BLOCK]
    assert picker["element"]["initial_date_time"] == int(at.timestamp())

    past = _reschedule_submission(sender, view, datetime.now(UTC) - timedelta(hours=2))
    assert past.status_code == 200 and past.json()["response_action"] == "errors"
    assert "in the past" in past.json()["errors"][ids.QUEUE_AT_BLOCK]

    later = at + timedelta(days=3)
    answer = _reschedule_submission(sender, view, later)
    assert answer.status_code == 200 and answer.text in ("", "null"), answer.text
    [listing] = slack.wait_for_response("move")
    assert listing["replace_original"] is True
    assert local_time(later, "Europe/Madrid") in json.dumps(listing["blocks"], ensure_ascii=False)
    saved, targets = _post(module_database.url, post.id)
    assert saved.scheduled_at == later and saved.status is PostStatus.SCHEDULED
    assert [(t.status, t.next_attempt_at) for t in targets] == [(TargetStatus.SCHEDULED, later)]
    slack.wait_for("chat.update")  # the status message shows the new time
    time.sleep(1.2)
    assert x_posts(fake_x, post.text) == []


def test_cancel_stops_it_from_publishing(sender, slack, fake_x, account_id, module_database):
    post, _ = _schedule(sender, slack, account_id, module_database.url, "Never mind")
    _click(sender, slack, ids.QUEUE_CANCEL, post.id, "cancel")
    [listing] = slack.wait_for_response("cancel")
    assert listing["replace_original"] is True and post.text not in json.dumps(listing["blocks"])
    saved, targets = _post(module_database.url, post.id)
    assert saved.status is PostStatus.CANCELLED and [t.status for t in targets] == [TargetStatus.CANCELLED]
    [update] = slack.wait_for("chat.update")
    assert "Cancelled" in json.dumps(blocks_of(update.params["blocks"]))
    # Publishing it now is refused: it is no longer queued.
    _click(sender, slack, ids.QUEUE_PUBLISH_NOW, post.id, "again")
    [answer] = slack.wait_for_response("again")
    assert answer["replace_original"] is False and "cancelled" in answer["text"]
    time.sleep(1.2)
    assert x_posts(fake_x, post.text) == []


def test_someone_else_cannot_change_your_post(sender, slack, fake_x, account_id, module_database):
    post, at = _schedule(sender, slack, account_id, module_database.url, "Mine")
    assert post.text in json.dumps(_list(sender, slack, "theirs", user="U0002"), ensure_ascii=False)
    for action_id, rid in ((ids.QUEUE_CANCEL, "no-cancel"), (ids.QUEUE_PUBLISH_NOW, "no-now"),
                           (ids.QUEUE_RESCHEDULE, "no-move"), (ids.QUEUE_EDIT, "no-edit")):
        _click(sender, slack, action_id, post.id, rid, user="U0002")
        [answer] = slack.wait_for_response(rid)
        assert "author, a publisher of all its accounts or an admin" in answer["text"]
        assert answer["replace_original"] is False
    assert slack.calls_to("views.open") == []
    saved, _ = _post(module_database.url, post.id)
    assert saved.status is PostStatus.SCHEDULED and saved.scheduled_at == at
    assert x_posts(fake_x, post.text) == []


def _open_edit(sender, slack, post_id: int, rid: str) -> dict:
    _click(sender, slack, ids.QUEUE_EDIT, post_id, rid)
    [opened] = slack.wait_for("views.open")
    return blocks_of(opened.params["view"])


def _block(view: dict, block_id: str) -> dict:
    [block] = [b for b in view["blocks"] if b.get("block_id") == block_id]
    return block


def test_edit_opens_the_post_checks_it_again_and_saves_it(sender, slack, fake_x, account_id, module_database):
    post, at = _schedule(sender, slack, account_id, module_database.url, "First wording")
    view = _open_edit(sender, slack, post.id, "edit")
    assert view["title"]["text"] == "Edit post" and view["submit"]["text"] == "Save"
    assert view["notify_on_close"] is False
    assert _block(view, ids.COMPOSE_TEXT_BLOCK)["element"]["initial_value"] == post.text
    accounts = _block(view, ids.COMPOSE_ACCOUNTS_BLOCK)["element"]["initial_options"]
    assert [o["value"] for o in accounts] == [str(account_id)]
    assert _block(view, ids.COMPOSE_AT_BLOCK)["element"]["initial_date_time"] == int(at.timestamp())
    assert "no attachments" in _block(view, ids.COMPOSE_MEDIA_BLOCK)["hint"]["text"]

    # Too long for X: refused beside the text, the post unchanged.
    too_long = submit_compose(sender, compose_state([account_id], "x" * 300, when="schedule", at=at),
                              view["private_metadata"])
    assert "280" in field_errors(too_long)[ids.COMPOSE_TEXT_BLOCK]
    assert _post(module_database.url, post.id)[0].text == post.text

    later = at + timedelta(days=1)
    fixed = f"Second wording {time.time_ns()}"
    answer = submit_compose(sender, compose_state([account_id], fixed, when="schedule", at=later),
                            view["private_metadata"])
    assert answer.status_code == 200 and answer.text in ("", "null"), answer.text
    [listing] = slack.wait_for_response("edit")
    shown = json.dumps(listing["blocks"], ensure_ascii=False)
    assert listing["replace_original"] is True and "Saved" in shown and fixed in shown
    saved, targets = _post(module_database.url, post.id)
    assert (saved.text, saved.scheduled_at, saved.status, saved.version) == (fixed, later, PostStatus.SCHEDULED, 2)
    assert [(t.status, t.next_attempt_at) for t in targets] == [(TargetStatus.SCHEDULED, later)]
    [update] = slack.wait_for("chat.update")
    assert fixed in json.dumps(blocks_of(update.params["blocks"]), ensure_ascii=False)
    assert update.params["ts"] == post.message_ts  # the same status message, not a new one
    assert x_posts(fake_x, fixed) == [] and x_posts(fake_x, post.text) == []


def test_closing_an_edit_changes_nothing_and_keeps_no_draft(sender, slack, account_id, module_database):
    post, at = _schedule(sender, slack, account_id, module_database.url, "Leave me")
    view = _open_edit(sender, slack, post.id, "edit-close")
    before = len(asyncio.run(stored_posts(module_database.url)))
    payload = compose_payload("view_closed", compose_state([account_id], "changed my mind", when="schedule", at=at),
                            view["private_metadata"])
    assert sender.interaction(payload).status_code == 200
    time.sleep(0.5)
    assert len(asyncio.run(stored_posts(module_database.url))) == before
    saved, _ = _post(module_database.url, post.id)
    assert (saved.text, saved.status) == (post.text, PostStatus.SCHEDULED)


def test_an_edit_after_publishing_began_is_refused_and_keeps_the_modal(sender, slack, fake_x, account_id,
                                                                      module_database):
    post, at = _schedule(sender, slack, account_id, module_database.url, "Too late")
    view = _open_edit(sender, slack, post.id, "edit-late")
    _click(sender, slack, ids.QUEUE_PUBLISH_NOW, post.id, "late-now")
    wait_until(lambda: _post(module_database.url, post.id)[0].status is PostStatus.PUBLISHED, what="published")
    answer = submit_compose(sender, compose_state([account_id], "a late change", when="schedule", at=at),
                     view["private_metadata"])
    assert field_errors(answer)[ids.COMPOSE_TEXT_BLOCK] == "This post has already been published."
    assert [p["text"] for p in fake_x.posts.values() if p["text"] in (post.text, "a late change")] == [post.text]


def test_the_queue_lists_the_next_post_first(sender, slack, account_id, module_database):
    later, _ = _schedule(sender, slack, account_id, module_database.url, "In nine days", days=9)
    sooner, _ = _schedule(sender, slack, account_id, module_database.url, "In eight days", days=8)
    shown = json.dumps(_list(sender, slack, "order"), ensure_ascii=False)
    assert shown.index(sooner.text) < shown.index(later.text), "oldest first: the next to go out on top"


def test_the_status_message_offers_edit_and_cancel_while_the_post_can_change(sender, slack, fake_x, account_id,
                                                                            module_database):
    post, at = _schedule(sender, slack, account_id, module_database.url, "Status message buttons")
    [message] = [c for c in slack.calls_to("chat.postMessage") if post.text in c.params["text"]]
    assert message.params["text"] == f"Scheduled: {post.text}", "the notification, in words"
    shown = json.dumps(blocks_of(message.params["blocks"]), ensure_ascii=False)
    assert f"<!date^{int(at.timestamp())}^" in shown and "Post by <@U0001>" in shown
    buttons = {e["action_id"]: e for b in blocks_of(message.params["blocks"]) if b["type"] == "actions"
               for e in b["elements"]}
    assert set(buttons) == {ids.POST_EDIT, ids.POST_CANCEL}
    assert buttons[ids.POST_CANCEL]["confirm"]["confirm"]["text"] == "Cancel post"

    status_click(sender, slack, post, ids.POST_CANCEL, "status-cancel", user="U0002")  # not theirs
    [refused] = slack.wait_for_response("status-cancel")
    assert "author, a publisher of all its accounts or an admin" in refused["text"]
    assert refused["replace_original"] is False
    assert _post(module_database.url, post.id)[0].status is PostStatus.SCHEDULED

    status_click(sender, slack, post, ids.POST_CANCEL, "status-cancel-2")
    wait_until(lambda: _post(module_database.url, post.id)[0].status is PostStatus.CANCELLED, what="cancelled")
    update = wait_until(lambda: next((c for c in slack.calls_to("chat.update") if c.params["ts"] == post.message_ts
                                      and "Cancelled" in c.params["text"]), None), what="the message to update")
    assert update.params["text"] == f"Cancelled: {post.text}"
    assert not [b for b in blocks_of(update.params["blocks"]) if b["type"] == "actions"], "nothing left to change"
    time.sleep(0.5)
    assert slack.calls_to("chat.update")[-1].params["ts"] == post.message_ts
    assert not [r for r in slack.responses if r["rid"] == "status-cancel-2"], \
        "the status message is not replaced by a queue listing: it says Cancelled itself"
    assert x_posts(fake_x, post.text) == []


def _set_target(url: str, post_id: int, status: TargetStatus) -> int:
    """Make the post's one target `status` (as publishing would have), its post failed; the target's id."""
    async def write():
        engine = db.create_engine(url)
        try:
            async with db.session_factory(engine)() as session:
                post = await session.get(Post, post_id)
                [target] = list(await session.scalars(select(PostTarget).where(PostTarget.post_id == post_id)))
                target.status, post.status = status, PostStatus.FAILED
                await session.commit()
                return target.id
        finally:
            await engine.dispose()
    return asyncio.run(write())


def test_only_the_author_or_an_admin_may_retry_or_mark_live_on_the_status_message(sender, slack, account_id,
                                                                                  module_database):
    post, _ = _schedule(sender, slack, account_id, module_database.url, "Not yours to retry")
    for status, action_id, words in ((TargetStatus.FAILED, ids.POST_RETRY, "send it again"),
                                     (TargetStatus.UNCONFIRMED, ids.POST_MARK_PUBLISHED, "mark it live")):
        target_id = _set_target(module_database.url, post.id, status)
        rid = f"status-{action_id}-{post.id}"
        status_click(sender, slack, post, action_id, rid, user="U0002", value=str(target_id))  # not theirs
        [refused] = slack.wait_for_response(rid)
        assert refused["text"] == (f"Only the post's author, a publisher of all its accounts or an admin can {words}. "
                                   "An admin can change roles in `/picmim roles`.")
        assert refused["replace_original"] is False
        time.sleep(0.3)
        assert [t.status for t in _post(module_database.url, post.id)[1]] == [status], "nothing changed"

    status_click(sender, slack, post, ids.POST_MARK_PUBLISHED, "status-live-author", value=str(target_id))
    wait_until(lambda: _post(module_database.url, post.id)[1][0].status is TargetStatus.PUBLISHED,
               what="the author's own click to count")


def test_a_replayed_command_is_answered_once(sender, slack):
    """The same signed bytes again within Slack's 5 minutes (a replay): an empty 200, and nothing done."""
    assert sender.command("queue", response_url=slack.response_url("replayed")).status_code == 200
    replay = sender.resend()
    assert replay.status_code == 200 and replay.text == ""
    slack.wait_for_response("replayed")
    time.sleep(0.5)
    assert len([r for r in slack.responses if r["rid"] == "replayed"]) == 1, "listed once, not twice"
