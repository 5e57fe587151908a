"""Approvals, end to end: the real server with an X account connected (the compose tests' fixtures), approval
turned on through `/picmim settings`, posts composed through the compose modal, and approvers deciding by
signed reaction events and button clicks on the review card, as Slack sends them."""

from __future__ import annotations

import asyncio
import json
import time
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update

from bot import ids
from bot.sandbox.fakes.slack import view_errors
from bot.storage import db
from bot.storage.models import ApprovalDecision, Decision, Post, PostStatus, PostTarget, TargetStatus, Workspace
from tests import journeys
from tests.journeys import blocks_of, compose_state, status_click, wait_until, x_posts
from tests.slack_requests import event_body

# The compose tests' fixtures: the real server with an X account connected, in this module's database.
fake_x, compose_server = journeys.fake_x, journeys.compose_server
sender, account_id = journeys.compose_sender, journeys.account_id

TEAM = {"id": "T0001", "domain": "acme"}
AUTHOR, DANA, LI, SAM, PAT = "U0001", "U0A01", "U0A02", "U0A03", "U0A09"  # maria writes; dana and li approve
REVIEW_CHANNEL, GROUP = "C0APPROVE", "S0REVIEW"  # sam approves as a member of the user group; pat may not


# ---- helpers -----------------------------------------------------------------------------------------


def _read(url: str, query):
    async def run():
        engine = db.create_engine(url)
        try:
            async with db.session_factory(engine)() as session:
                return await query(session)
        finally:
            await engine.dispose()
    return asyncio.run(run())


def _post(url: str, post_id: int) -> Post:
    return _read(url, lambda s: s.get(Post, post_id))


def _decisions(url: str, post_id: int) -> list[ApprovalDecision]:
    async def query(session):
        return list(await session.scalars(select(ApprovalDecision).where(ApprovalDecision.post_id == post_id)
                                          .order_by(ApprovalDecision.id)))
    return _read(url, query)


def _targets(url: str, post_id: int) -> list[PostTarget]:
    async def query(session):
        return list(await session.scalars(select(PostTarget).where(PostTarget.post_id == post_id)))
    return _read(url, query)


def _workspace(url: str) -> Workspace:
    return _read(url, lambda s: s.scalar(select(Workspace).where(Workspace.team_id == "T0001")))


def _settings_state(**changes) -> dict:
    """A full `/picmim settings` submission: approval on in the review channel, dana and li approving (and
    the user group), one approval needed, the default reactions; `changes` override any of it."""
    chosen = {"required": True, "channel": REVIEW_CHANNEL, "approvers": [DANA, LI], "group": GROUP, "needed": "1",
              "self": False, "approve": "white_check_mark", "reject": "x", "alerts": "C0ALERTS", "days": [7, 1],
              "timezone": "Europe/Madrid", **changes}
    checkbox = lambda value, on: {"type": "checkboxes",  # noqa: E731
                                  "selected_options": [{"value": value}] if on else []}
    values = {
        ids.SETTINGS_MANAGERS_BLOCK: {ids.SETTINGS_MANAGERS_INPUT: {"type": "radio_buttons",
                                                                    "selected_option": {"value": "members"}}},
        ids.SETTINGS_MANAGER_USERS_BLOCK: {ids.SETTINGS_MANAGER_USERS_INPUT: {"type": "multi_users_select",
                                                                              "selected_users": []}},
        ids.SETTINGS_APPROVAL_REQUIRED_BLOCK: {ids.SETTINGS_APPROVAL_REQUIRED_INPUT: checkbox("required",
                                                                                               chosen["required"])},
        ids.SETTINGS_APPROVAL_CHANNEL_BLOCK: {ids.SETTINGS_APPROVAL_CHANNEL_INPUT: {
            "type": "conversations_select", "selected_conversation": chosen["channel"]}},
        ids.SETTINGS_APPROVERS_BLOCK: {ids.SETTINGS_APPROVERS_INPUT: {"type": "multi_users_select",
                                                                      "selected_users": chosen["approvers"]}},
        ids.SETTINGS_APPROVER_GROUP_BLOCK: {ids.SETTINGS_APPROVER_GROUP_INPUT: {
            "type": "static_select", "selected_option": {"value": chosen["group"] or "-"}}},
        ids.SETTINGS_APPROVALS_NEEDED_BLOCK: {ids.SETTINGS_APPROVALS_NEEDED_INPUT: {"type": "number_input",
                                                                                    "value": chosen["needed"]}},
        ids.SETTINGS_SELF_APPROVAL_BLOCK: {ids.SETTINGS_SELF_APPROVAL_INPUT: checkbox("allowed", chosen["self"])},
        ids.SETTINGS_APPROVE_REACTION_BLOCK: {ids.SETTINGS_APPROVE_REACTION_INPUT: {
            "type": "static_select", "selected_option": {"value": chosen["approve"]}}},
        ids.SETTINGS_REJECT_REACTION_BLOCK: {ids.SETTINGS_REJECT_REACTION_INPUT: {
            "type": "static_select", "selected_option": {"value": chosen["reject"]}}},
        ids.SETTINGS_ALERTS_CHANNEL_BLOCK: {ids.SETTINGS_ALERTS_CHANNEL_INPUT: {
            "type": "conversations_select", "selected_conversation": chosen["alerts"]}},
        ids.SETTINGS_EXPIRY_DAYS_BLOCK: {ids.SETTINGS_EXPIRY_DAYS_INPUT: {
            "type": "multi_static_select", "selected_options": [{"value": str(d)} for d in chosen["days"]]}},
        ids.SETTINGS_TIMEZONE_BLOCK: {ids.SETTINGS_TIMEZONE_INPUT: {
            "type": "static_select", "selected_option": {"value": chosen["timezone"]}}},
    }
    return {"values": values}


def _tick_approval(view: dict, ticked: bool) -> dict:
    """Ticking or unticking Approval in the open settings modal (its input dispatches the change)."""
    chosen = [{"value": "required", "text": {"type": "plain_text", "text": "…"}}] if ticked else []
    return {"type": "block_actions", "team": TEAM, "user": {"id": AUTHOR, "team_id": "T0001"},
            "api_app_id": "A0PICMIM", "token": "deprecated", "trigger_id": f"trigger-{time.time_ns()}",
            "container": {"type": "view", "view_id": "VSET"},
            "view": {**view, "id": "VSET", "hash": "h1", "state": {"values": {
                ids.SETTINGS_APPROVAL_REQUIRED_BLOCK: {ids.SETTINGS_APPROVAL_REQUIRED_INPUT: {
                    "type": "checkboxes", "selected_options": chosen}}}}},
            "actions": [{"type": "checkboxes", "action_id": ids.SETTINGS_APPROVAL_REQUIRED_INPUT,
                         "block_id": ids.SETTINGS_APPROVAL_REQUIRED_BLOCK, "selected_options": chosen,
                         "action_ts": str(time.time())}]}


def _view_submission(callback_id: str, state: dict, user: str = AUTHOR, metadata: str = "") -> dict:
    return {"type": "view_submission", "team": TEAM, "user": {"id": user, "team_id": "T0001"},
            "api_app_id": "A0PICMIM", "token": "deprecated", "trigger_id": f"trigger-{time.time_ns()}",
            "view": {"id": "V1", "team_id": "T0001", "type": "modal", "callback_id": callback_id,
                     "private_metadata": metadata, "state": state, "hash": f"h{time.time_ns()}", "blocks": []}}


def _configure(sender, user: str = AUTHOR, **changes):
    return sender.interaction(_view_submission(ids.SETTINGS_VIEW, _settings_state(**changes), user))


def _compose(sender, account_id: int, url: str, label: str, *, user: str = AUTHOR, at: datetime | None = None,
             metadata: str = '{"channel_id": "C0001"}') -> Post:
    """A post written in the compose modal by `user`, once it waits for approval with its review card."""
    text = f"{label} {time.time_ns()}"
    state = compose_state([account_id], text, when="schedule" if at else "now", at=at)
    answer = sender.interaction(_view_submission(ids.COMPOSE_VIEW, state, user, metadata))
    assert answer.status_code == 200 and answer.text in ("", "null"), answer.text

    def ready():
        posts = _read(url, lambda s: s.scalars(select(Post).where(Post.text == text)))
        found = [p for p in posts if p.review_ts and p.message_ts]
        return found[0] if found else None
    return wait_until(ready, what="the review card")


def _reaction(post: Post, user: str, reaction: str = "white_check_mark", removed: bool = False) -> dict:
    return {"type": "reaction_removed" if removed else "reaction_added", "user": user, "reaction": reaction,
            "item_user": "UBOT", "item": {"type": "message", "channel": post.review_channel_id, "ts": post.review_ts},
            "event_ts": f"{time.time():.6f}"}


def _react(sender, post: Post, user: str, reaction: str = "white_check_mark", removed: bool = False,
           event_id: str | None = None, retry: int = 0):
    body = event_body(_reaction(post, user, reaction, removed), event_id=event_id)
    headers = {"X-Slack-Retry-Num": str(retry), "X-Slack-Retry-Reason": "http_timeout"} if retry else None
    response = sender.post(body, "application/json", headers=headers)
    assert response.status_code == 200, response.text
    return response


def _click(sender, slack, post: Post, action_id: str, user: str, rid: str, version: int | None = None):
    value = f"{post.id}:{version or post.version}"
    payload = {"type": "block_actions", "team": TEAM, "user": {"id": user, "team_id": "T0001"},
               "api_app_id": "A0PICMIM", "token": "deprecated", "trigger_id": f"trigger-{time.time_ns()}",
               "channel": {"id": post.review_channel_id}, "response_url": slack.response_url(rid),
               "container": {"type": "message", "message_ts": post.review_ts, "channel_id": post.review_channel_id,
                             "is_ephemeral": False},
               "message": {"type": "message", "ts": post.review_ts, "text": "card"},
               "actions": [{"type": "button", "action_id": action_id, "block_id": f"review_{post.id}",
                            "value": value, "action_ts": str(time.time())}]}
    response = sender.interaction(payload)
    assert response.status_code == 200, response.text
    return response




def _card_calls(slack, post: Post, method: str = "chat.update") -> list[dict]:
    """The card's blocks as each chat.update (or chat.postMessage) sent them."""
    calls = slack.calls_to(method)
    if method == "chat.update":
        calls = [c for c in calls if c.params.get("ts") == post.review_ts]
    else:
        calls = [c for c in calls if c.params.get("channel") == REVIEW_CHANNEL and "thread_ts" not in c.params]
    return [blocks_of(c.params["blocks"]) for c in calls]


def _card_says(slack, post: Post, needle: str) -> str:
    """The card's latest update, once it says `needle`."""
    def found():
        shown = [json.dumps(b, ensure_ascii=False) for b in _card_calls(slack, post)]
        return next((s for s in reversed(shown) if needle in s), None)
    return wait_until(found, what=f"the card to say {needle!r}")


def _replies(slack, thread_ts: str) -> list[str]:
    return [c.params["text"] for c in slack.calls_to("chat.postMessage") if c.params.get("thread_ts") == thread_ts]


def _reply(slack, thread_ts: str, needle: str) -> str:
    return wait_until(lambda: next((t for t in _replies(slack, thread_ts) if needle in t), None),
                 what=f"a reply saying {needle!r}")


def _ephemerals(slack, user: str) -> list[str]:
    return [c.params["text"] for c in slack.calls_to("chat.postEphemeral") if c.params.get("user") == user]


@pytest.fixture(scope="module", autouse=True)
def people(fake_slack, compose_server):
    team = fake_slack.teams["T0001"]
    for user_id, name, admin in ((DANA, "dana", False), (LI, "li", False), (SAM, "sam", False),
                                 (PAT, "pat", False)):
        team.users[user_id] = {"id": user_id, "name": name, "tz": "America/New_York", "is_admin": admin}
    team.usergroups[GROUP] = {"name": "Brand reviewers", "handle": "brand", "users": [SAM]}
    yield
    team.usergroups.pop(GROUP, None)


@pytest.fixture
def approval(sender, module_database):
    """Approval on, as an admin saves it in `/picmim settings`; `set(**changes)` saves other settings."""
    def configure(**changes):
        answer = _configure(sender, **changes)
        assert answer.status_code == 200 and answer.text in ("", "null"), answer.text
    configure()
    return configure


# ---- settings ----------------------------------------------------------------------------------------


def test_settings_hold_every_workspace_setting_and_refuse_what_cannot_work(sender, slack, module_database):
    assert sender.command("settings", user_id=PAT, response_url=slack.response_url("pat")).status_code == 200
    [refused] = slack.wait_for_response("pat")
    assert refused["text"] == "Only workspace admins can change Picmim's settings."

    sender.command("settings", response_url=slack.response_url("admin"))
    [opened] = slack.wait_for("views.open")
    view = blocks_of(opened.params["view"])
    blocks = {b.get("block_id"): b for b in view["blocks"]}
    # Approval is off: its fields are hidden until the box is ticked.
    assert blocks[ids.SETTINGS_APPROVAL_REQUIRED_BLOCK]["dispatch_action"] is True
    for hidden in (ids.SETTINGS_APPROVAL_CHANNEL_BLOCK, ids.SETTINGS_APPROVERS_BLOCK,
                   ids.SETTINGS_APPROVE_REACTION_BLOCK, ids.SETTINGS_REJECT_REACTION_BLOCK,
                   ids.SETTINGS_APPROVALS_NEEDED_BLOCK):
        assert hidden not in blocks, hidden
    # The time zone is a choice, the admin's own Slack zone suggested while the workspace has none chosen.
    zone = blocks[ids.SETTINGS_TIMEZONE_BLOCK]["element"]
    assert zone["type"] == "static_select" and zone["initial_option"]["value"] == "Europe/Madrid"
    assert "Europe" in [g["label"]["text"] for g in zone["option_groups"]]

    sender.interaction(_tick_approval(view, ticked=True))
    [updated] = slack.wait_for("views.update")
    assert updated.params["view_id"] == "VSET" and updated.params["hash"] == "h1"
    view = blocks_of(updated.params["view"])
    blocks = {b.get("block_id"): b for b in view["blocks"]}
    for block_id in (ids.SETTINGS_MANAGERS_BLOCK, ids.SETTINGS_APPROVAL_REQUIRED_BLOCK,
                     ids.SETTINGS_APPROVAL_CHANNEL_BLOCK, ids.SETTINGS_APPROVERS_BLOCK,
                     ids.SETTINGS_APPROVER_GROUP_BLOCK, ids.SETTINGS_APPROVALS_NEEDED_BLOCK,
                     ids.SETTINGS_SELF_APPROVAL_BLOCK, ids.SETTINGS_APPROVE_REACTION_BLOCK,
                     ids.SETTINGS_REJECT_REACTION_BLOCK, ids.SETTINGS_ALERTS_CHANNEL_BLOCK,
                     ids.SETTINGS_EXPIRY_DAYS_BLOCK, ids.SETTINGS_TIMEZONE_BLOCK):
        assert block_id in blocks, block_id
    groups = blocks[ids.SETTINGS_APPROVER_GROUP_BLOCK]["element"]["options"]
    assert {"text": {"type": "plain_text", "text": "Brand reviewers", "emoji": True}, "value": GROUP} in groups
    approve = blocks[ids.SETTINGS_APPROVE_REACTION_BLOCK]["element"]
    assert approve["type"] == "static_select" and approve["initial_option"]["value"] == "white_check_mark"
    assert {"+1", "rocket"} <= {o["value"] for o in approve["options"]}
    assert view_errors(view) == []
    days = blocks[ids.SETTINGS_EXPIRY_DAYS_BLOCK]["element"]
    assert [o["value"] for o in days["options"]] == ["14", "7", "3", "1"]
    assert [o["value"] for o in days["initial_options"]] == ["7", "1"]

    def errors(**changes) -> dict:
        answer = _configure(sender, **changes)
        assert answer.status_code == 200 and answer.json()["response_action"] == "errors", answer.text
        return answer.json()["errors"]

    assert list(errors(channel=None)) == [ids.SETTINGS_APPROVAL_CHANNEL_BLOCK]
    assert "not an emoji name" in errors(approve="two words")[ids.SETTINGS_APPROVE_REACTION_BLOCK]
    assert "different emoji" in errors(reject=":white_check_mark:")[ids.SETTINGS_REJECT_REACTION_BLOCK]
    assert "could never be reached" in errors(needed="3", group=None)[ids.SETTINGS_APPROVALS_NEEDED_BLOCK]
    assert "whole number" in errors(needed="0")[ids.SETTINGS_APPROVALS_NEEDED_BLOCK]
    assert ids.SETTINGS_TIMEZONE_BLOCK in errors(timezone="Mars/Olympus")
    assert _configure(sender, user=PAT).json()["errors"] == {
        ids.SETTINGS_MANAGERS_BLOCK: "Only workspace admins can change Picmim's settings."}
    assert _workspace(module_database.url).approval_required is False, "nothing refused was saved"

    answer = _configure(sender, needed="2", approve=":+1::skin-tone-3:", reject=":no_entry:", days=[14, 3],
                        self=True)
    assert answer.status_code == 200 and answer.text in ("", "null"), answer.text
    saved = _workspace(module_database.url)
    assert (saved.approval_required, saved.approval_channel_id, saved.approver_user_ids, saved.approver_usergroup_id,
            saved.approvals_needed, saved.allow_self_approval, saved.approve_reaction, saved.reject_reaction,
            saved.alerts_channel_id, saved.expiry_warning_days, saved.default_timezone) == (
        True, REVIEW_CHANNEL, [DANA, LI], GROUP, 2, True, "+1", "no_entry", "C0ALERTS", [14, 3], "Europe/Madrid")

    slack.reset()
    sender.command("settings", response_url=slack.response_url("again"))
    [opened] = slack.wait_for("views.open")
    blocks = {b.get("block_id"): b for b in blocks_of(opened.params["view"])["blocks"]}
    assert blocks[ids.SETTINGS_APPROVAL_CHANNEL_BLOCK]["element"]["initial_conversation"] == REVIEW_CHANNEL
    assert blocks[ids.SETTINGS_APPROVERS_BLOCK]["element"]["initial_users"] == [DANA, LI]
    assert blocks[ids.SETTINGS_APPROVER_GROUP_BLOCK]["element"]["initial_option"]["value"] == GROUP
    assert blocks[ids.SETTINGS_APPROVALS_NEEDED_BLOCK]["element"]["initial_value"] == "2"
    assert blocks[ids.SETTINGS_APPROVE_REACTION_BLOCK]["element"]["initial_option"]["value"] == "+1"
    assert blocks[ids.SETTINGS_REJECT_REACTION_BLOCK]["element"]["initial_option"]["value"] == "no_entry"
    assert len(blocks[ids.SETTINGS_SELF_APPROVAL_BLOCK]["element"]["initial_options"]) == 1
    assert [o["value"] for o in blocks[ids.SETTINGS_EXPIRY_DAYS_BLOCK]["element"]["initial_options"]] == ["14", "3"]
    assert blocks[ids.SETTINGS_TIMEZONE_BLOCK]["element"]["initial_option"]["value"] == "Europe/Madrid"

    # Unticking Approval hides its fields (the other blocks keep their ids, so what was chosen in them stays) …
    sender.interaction(_tick_approval(blocks_of(opened.params["view"]), ticked=False))
    [updated] = slack.wait_for("views.update")
    shown_ids = [b.get("block_id") for b in blocks_of(updated.params["view"])["blocks"]]
    assert ids.SETTINGS_APPROVAL_CHANNEL_BLOCK not in shown_ids and ids.SETTINGS_APPROVE_REACTION_BLOCK not in shown_ids
    assert [i for i in shown_ids if i] == [i for i in blocks if i and i in shown_ids], "same ids, same order"
    # … and saving without them keeps what they held.
    state = _settings_state(required=False)
    for hidden in (ids.SETTINGS_APPROVAL_CHANNEL_BLOCK, ids.SETTINGS_APPROVERS_BLOCK, ids.SETTINGS_APPROVER_GROUP_BLOCK,
                   ids.SETTINGS_APPROVALS_NEEDED_BLOCK, ids.SETTINGS_SELF_APPROVAL_BLOCK,
                   ids.SETTINGS_APPROVE_REACTION_BLOCK, ids.SETTINGS_REJECT_REACTION_BLOCK):
        del state["values"][hidden]
    answer = sender.interaction(_view_submission(ids.SETTINGS_VIEW, state))
    assert answer.status_code == 200 and answer.text in ("", "null"), answer.text
    saved = _workspace(module_database.url)
    assert (saved.approval_required, saved.approval_channel_id, saved.approvals_needed, saved.approve_reaction) == (
        False, REVIEW_CHANNEL, 2, "+1")


# ---- the list ----------------------------------------------------------------------------------


def test_approve_by_reaction_schedules_it_and_tells_the_author(sender, slack, fake_x, account_id,
                                                               module_database, approval):
    at = (datetime.now(UTC) + timedelta(days=3)).replace(second=0, microsecond=0)
    post = _compose(sender, account_id, module_database.url, "Launch day", at=at)
    assert post.status is PostStatus.PENDING_APPROVAL and post.review_channel_id == REVIEW_CHANNEL
    [card] = _card_calls(slack, post, "chat.postMessage")
    shown = json.dumps(card, ensure_ascii=False)
    assert f"Post by <@{AUTHOR}>" in shown and "Needs 1 approval" in shown
    assert "*X* · Acme Marketing (@acmemktg): :white_check_mark: fits" in shown and f">{post.text}" in shown
    assert f"<!date^{int(at.timestamp())}^" in shown, "the time, in each viewer's own zone"
    [buttons] = [b for b in card if b["type"] == "actions"]
    assert [(e["action_id"], e["value"]) for e in buttons["elements"]] == [
        (ids.REVIEW_APPROVE, f"{post.id}:1"), (ids.REVIEW_REQUEST_CHANGES, f"{post.id}:1"),
        (ids.REVIEW_REJECT, f"{post.id}:1"), (ids.REVIEW_SHARE, f"{post.id}:1")], \
        "no Edit on the shared card: only the author could use it"
    assert "React with :white_check_mark: to approve or :x: to reject" in shown
    footer = card[-1]["elements"][0]["text"]
    assert "Only the author can edit it" in footer and "<@" not in footer and "<!subteam" not in footer, \
        "the footer says who reviews without notifying them on every card"
    [first] = [c for c in slack.calls_to("chat.postMessage") if c.params.get("ts") is None
               and c.params.get("channel") == REVIEW_CHANNEL and "thread_ts" not in c.params
               and post.text in c.params["text"]]
    assert f"for review by <@{DANA}>, <@{LI}> and members of <!subteam^{GROUP}>" in first.params["text"], \
        "the approvers are named once, when the card is posted"
    status = wait_until(lambda: [c for c in slack.calls_to("chat.postMessage") if c.params.get("channel") == "C0001"],
                   what="the status message")
    assert "Waiting for approval" in json.dumps(blocks_of(status[0].params["blocks"]))

    _react(sender, post, DANA, "tada")  # any other reaction is nobody's decision
    _react(sender, post, DANA, "white_check_mark::skin-tone-2")
    shown = _card_says(slack, post, "Approved by")
    assert f"Approved by <@{DANA}>* · publishes <!date^{int(at.timestamp())}^" in shown, "the outcome, on the card"
    assert f"<@{DANA}> approved by reacting" in shown
    assert not any(b["type"] == "actions" for b in _card_calls(slack, post)[-1]), "decided: no buttons left"
    reply = _reply(slack, post.message_ts, "approved")
    assert reply.startswith(f"<@{AUTHOR}> your post was approved by <@{DANA}>")
    assert f"<!date^{int(at.timestamp())}^" in reply
    time.sleep(0.5)
    assert _replies(slack, post.review_ts) == [], "the author is told once: under the post's own message"
    saved = _post(module_database.url, post.id)
    assert (saved.status, saved.scheduled_at) == (PostStatus.SCHEDULED, at)
    assert [(t.status, t.next_attempt_at) for t in _targets(module_database.url, post.id)] == [
        (TargetStatus.SCHEDULED, at)]
    [decision] = _decisions(module_database.url, post.id)
    assert (decision.user_id, decision.decision, decision.source, decision.post_version) == (
        DANA, Decision.APPROVE, "reaction", 1)
    assert decision.slack_event_id

    # Removing the reaction once the post is approved changes nothing.
    _react(sender, post, DANA, removed=True)
    time.sleep(1)
    assert _post(module_database.url, post.id).status is PostStatus.SCHEDULED
    assert len(_decisions(module_database.url, post.id)) == 1
    assert x_posts(fake_x, post.text) == []

    sender.command("queue", response_url=slack.response_url("queue"))
    [listing] = slack.wait_for_response("queue")
    item = next(json.dumps(b, ensure_ascii=False) for b in listing["blocks"] if post.text in json.dumps(b))
    assert f"<@{DANA}> approved by reacting" in item


def test_approve_by_button_publishes_a_post_meant_for_now(sender, slack, fake_x, account_id, module_database,
                                                          approval):
    post = _compose(sender, account_id, module_database.url, "Right now")
    time.sleep(1)
    assert x_posts(fake_x, post.text) == [], "nothing goes out before it is approved"
    _click(sender, slack, post, ids.REVIEW_APPROVE, LI, "li")
    _card_says(slack, post, f"Approved by <@{LI}>")
    assert "Picmim is publishing it now" in _reply(slack, post.message_ts, "approved")
    wait_until(lambda: x_posts(fake_x, post.text), what="the fake X to receive the post")
    wait_until(lambda: _post(module_database.url, post.id).status is PostStatus.PUBLISHED, what="published")
    # Once published, the card shows it, with the live link.
    shown = _card_says(slack, post, "view the post")
    assert f"Approved by <@{LI}>* · published" in shown and ":white_check_mark: published: <http" in shown
    [decision] = _decisions(module_database.url, post.id)
    assert (decision.user_id, decision.source) == (LI, "button")

    _click(sender, slack, post, ids.REVIEW_APPROVE, DANA, "late-click")  # a click on a card already decided
    [answer] = slack.wait_for_response("late-click")
    assert "already approved" in answer["text"] and answer["replace_original"] is False
    assert len(x_posts(fake_x, post.text)) == 1 and len(_decisions(module_database.url, post.id)) == 1


def test_an_approval_after_its_time_publishes_now_with_a_note(sender, slack, fake_x, account_id, module_database,
                                                              approval):
    at = (datetime.now(UTC) + timedelta(hours=1)).replace(second=0, microsecond=0)
    post = _compose(sender, account_id, module_database.url, "Waited too long", at=at)

    async def time_passes(session):  # an hour later, still waiting
        await session.execute(update(Post).where(Post.id == post.id)
                              .values(scheduled_at=datetime.now(UTC) - timedelta(minutes=5)))
        await session.commit()
    _read(module_database.url, time_passes)
    _react(sender, post, DANA)
    assert "Its time had passed while it waited, so Picmim is publishing it now" in _reply(
        slack, post.message_ts, "approved")
    wait_until(lambda: x_posts(fake_x, post.text), what="the late post to be published")


def test_reject_with_a_comment_sends_it_back_to_drafts(sender, slack, account_id, module_database, approval):
    post = _compose(sender, account_id, module_database.url, "Off brand")
    _click(sender, slack, post, ids.REVIEW_REJECT, DANA, "reject")
    [opened] = slack.wait_for("views.open")
    modal = blocks_of(opened.params["view"])
    assert modal["callback_id"] == ids.REVIEW_COMMENT_VIEW and modal["title"]["text"] == "Reject post"
    submitted = sender.interaction(_view_submission(ids.REVIEW_COMMENT_VIEW, {"values": {ids.REVIEW_COMMENT_BLOCK: {
        ids.REVIEW_COMMENT_INPUT: {"type": "plain_text_input", "value": "The colours are not ours."}}}},
        DANA, modal["private_metadata"]))
    assert submitted.status_code == 200 and submitted.text in ("", "null"), submitted.text

    shown = _card_says(slack, post, "Rejected by")
    assert f"Rejected by <@{DANA}>*: “The colours are not ours.”" in shown
    assert f"back in <@{AUTHOR}>'s drafts" in shown
    assert "as soon as it is approved" not in shown and "publishes" not in shown, "a rejected card publishes nothing"
    reply = _reply(slack, post.message_ts, "rejected")
    assert reply.startswith(f"<@{AUTHOR}> <@{DANA}> rejected your post:") and ">The colours are not ours." in reply
    saved = _post(module_database.url, post.id)
    assert saved.status is PostStatus.DRAFT
    [decision] = _decisions(module_database.url, post.id)
    assert (decision.decision, decision.comment, decision.user_id) == (Decision.REJECT, "The colours are not ours.",
                                                                       DANA)
    status = wait_until(lambda: [c for c in slack.calls_to("chat.update") if c.params.get("ts") == post.message_ts],
                   what="the status message")
    assert "Sent back to its author" in json.dumps(blocks_of(status[-1].params["blocks"]))
    sender.command("drafts", response_url=slack.response_url("drafts"))
    [drafts] = slack.wait_for_response("drafts")
    assert post.text in json.dumps(drafts["blocks"], ensure_ascii=False)

    # Asking for changes needs the comment itself.
    other = _compose(sender, account_id, module_database.url, "Vague")
    _click(sender, slack, other, ids.REVIEW_REQUEST_CHANGES, LI, "changes")
    modal = blocks_of(slack.wait_for("views.open", 2)[-1].params["view"])
    assert modal["title"]["text"] == "Request changes"
    empty = sender.interaction(_view_submission(ids.REVIEW_COMMENT_VIEW, {"values": {ids.REVIEW_COMMENT_BLOCK: {
        ids.REVIEW_COMMENT_INPUT: {"type": "plain_text_input", "value": "  "}}}}, LI, modal["private_metadata"]))
    assert "Say what should change" in empty.json()["errors"][ids.REVIEW_COMMENT_BLOCK]
    assert _post(module_database.url, other.id).status is PostStatus.PENDING_APPROVAL
    sender.interaction(_view_submission(ids.REVIEW_COMMENT_VIEW, {"values": {ids.REVIEW_COMMENT_BLOCK: {
        ids.REVIEW_COMMENT_INPUT: {"type": "plain_text_input", "value": "Add the date."}}}}, LI,
        modal["private_metadata"]))
    assert "asked for changes to your post" in _reply(slack, other.message_ts, "Add the date.")
    assert _post(module_database.url, other.id).status is PostStatus.DRAFT


def test_a_non_approvers_reaction_and_click_are_ignored_with_a_reason(sender, slack, account_id, module_database,
                                                                     approval):
    post = _compose(sender, account_id, module_database.url, "Not yours to judge")
    _react(sender, post, PAT)
    [why] = wait_until(lambda: _ephemerals(slack, PAT), what="an ephemeral explanation")
    assert why.startswith(f"Only <@{DANA}>, <@{LI}> and members of <!subteam^{GROUP}> can approve")
    [call] = [c for c in slack.calls_to("chat.postEphemeral") if c.params.get("user") == PAT]
    assert call.params["channel"] == REVIEW_CHANNEL
    _react(sender, post, PAT, "x")
    _click(sender, slack, post, ids.REVIEW_APPROVE, PAT, "pat")
    [answer] = slack.wait_for_response("pat")
    assert answer["text"].startswith("Only <@") and answer["replace_original"] is False
    _click(sender, slack, post, ids.REVIEW_REJECT, PAT, "pat-reject")
    slack.wait_for_response("pat-reject")
    wait_until(lambda: len(_ephemerals(slack, PAT)) == 2, what="the second explanation")
    assert slack.calls_to("views.open") == [], "no comment is asked of someone who may not decide"
    assert _decisions(module_database.url, post.id) == []
    assert _post(module_database.url, post.id).status is PostStatus.PENDING_APPROVAL


def test_the_author_cannot_approve_their_own_post_unless_settings_allow_it(sender, slack, account_id,
                                                                          module_database, approval):
    post = _compose(sender, account_id, module_database.url, "Dana's own", user=DANA)
    _react(sender, post, DANA)
    [why] = wait_until(lambda: _ephemerals(slack, DANA), what="the refusal")
    assert why.startswith("You wrote this post, so someone else has to approve it.")
    _click(sender, slack, post, ids.REVIEW_APPROVE, DANA, "own")
    assert slack.wait_for_response("own")[0]["text"].startswith("You wrote this post")
    assert _decisions(module_database.url, post.id) == []
    assert _post(module_database.url, post.id).status is PostStatus.PENDING_APPROVAL

    approval(self=True)
    _click(sender, slack, post, ids.REVIEW_APPROVE, DANA, "own-allowed")
    _card_says(slack, post, f"Approved by <@{DANA}>")
    assert _post(module_database.url, post.id).status in (PostStatus.SCHEDULED, PostStatus.PUBLISHING,
                                                         PostStatus.PUBLISHED)


def test_two_approvals_are_needed_one_from_the_user_group(sender, slack, account_id, module_database, approval):
    approval(needed="2")
    at = datetime.now(UTC) + timedelta(days=2)
    post = _compose(sender, account_id, module_database.url, "Big news", at=at.replace(second=0, microsecond=0))
    assert "Needs 2 approvals" in json.dumps(_card_calls(slack, post, "chat.postMessage")[0])
    _react(sender, post, DANA)
    _card_says(slack, post, f"1 of 2 approvals (<@{DANA}>)")
    assert _post(module_database.url, post.id).status is PostStatus.PENDING_APPROVAL
    assert _replies(slack, post.review_ts) == [], "the author hears when it is decided"
    _react(sender, post, SAM)  # in the approvers' user group
    shown = _card_says(slack, post, "Approved by")
    assert f"Approved by <@{DANA}> and <@{SAM}>" in shown
    assert f"approved by <@{DANA}> and <@{SAM}>" in _reply(slack, post.message_ts, "approved")
    assert _post(module_database.url, post.id).status is PostStatus.SCHEDULED


def test_removing_the_reaction_takes_the_approval_back(sender, slack, account_id, module_database, approval):
    approval(needed="2")
    post = _compose(sender, account_id, module_database.url, "Second thoughts")
    _react(sender, post, DANA)
    _card_says(slack, post, "1 of 2 approvals")
    _react(sender, post, DANA, removed=True)
    shown = _card_says(slack, post, "took their approval back")
    assert "Needs 2 approvals" in shown
    _react(sender, post, LI)
    _card_says(slack, post, f"1 of 2 approvals (<@{LI}>)")
    assert _post(module_database.url, post.id).status is PostStatus.PENDING_APPROVAL
    assert [(d.user_id, d.decision) for d in _decisions(module_database.url, post.id)] == [
        (DANA, Decision.APPROVE), (DANA, Decision.WITHDRAW), (LI, Decision.APPROVE)]
    # A removed reaction never undoes an approval given with the button.
    _click(sender, slack, post, ids.REVIEW_APPROVE, DANA, "button")
    _card_says(slack, post, "Approved by")
    assert _post(module_database.url, post.id).status is not PostStatus.PENDING_APPROVAL


def test_a_retried_slack_event_is_applied_once(sender, slack, account_id, module_database, approval):
    approval(needed="2")
    post = _compose(sender, account_id, module_database.url, "Said twice")
    _react(sender, post, DANA, event_id="Ev0RETRY1")
    _card_says(slack, post, "1 of 2 approvals")
    updates = len(_card_calls(slack, post))
    _react(sender, post, DANA, event_id="Ev0RETRY1", retry=1)
    _react(sender, post, DANA, event_id="Ev0RETRY1", retry=2)
    time.sleep(1)
    assert [(d.user_id, d.slack_event_id) for d in _decisions(module_database.url, post.id)] == [
        (DANA, "Ev0RETRY1")]
    assert len(_card_calls(slack, post)) == updates and _ephemerals(slack, DANA) == []

    # The event that decides it, retried: published once, the author told once, nobody told off.
    _react(sender, post, LI, event_id="Ev0RETRY2")
    _reply(slack, post.message_ts, "approved")
    _react(sender, post, LI, event_id="Ev0RETRY2", retry=1)
    time.sleep(1)
    assert len([r for r in _replies(slack, post.message_ts) if "approved" in r]) == 1
    assert _ephemerals(slack, LI) == [] and len(_decisions(module_database.url, post.id)) == 2


def test_an_edit_after_approval_reopens_the_review_on_the_same_card(sender, slack, fake_x, account_id,
                                                                   module_database, approval):
    at = (datetime.now(UTC) + timedelta(days=5)).replace(second=0, microsecond=0)
    post = _compose(sender, account_id, module_database.url, "First take", at=at)
    # A card posted before cards lost their Edit still has one: it still refuses everyone but the author.
    _click(sender, slack, post, ids.REVIEW_EDIT, DANA, "not-author")
    assert "Only the post's author can edit it" in slack.wait_for_response("not-author")[0]["text"]
    # The author edits from the post's own message: its Edit (an approver is refused there too).
    status = wait_until(lambda: [c for c in slack.calls_to("chat.postMessage") if c.params.get("channel") == "C0001"
                                 and post.text in c.params["text"]], what="the status message")
    buttons = {e["action_id"]: e for b in blocks_of(status[-1].params["blocks"]) if b["type"] == "actions"
               for e in b["elements"]}
    assert buttons[ids.POST_EDIT]["value"] == str(post.id) and "confirm" in buttons[ids.POST_CANCEL]
    status_click(sender, slack, post, ids.POST_EDIT, "approver-edit", user=DANA)
    assert "author, a publisher of all its accounts or an admin" in slack.wait_for_response("approver-edit")[0]["text"]
    status_click(sender, slack, post, ids.POST_EDIT, "author", user=AUTHOR)  # the compose modal, on the post
    [opened] = slack.wait_for("views.open")
    edit = blocks_of(opened.params["view"])
    assert edit["title"]["text"] == "Edit post" and json.loads(edit["private_metadata"])["post_id"] == post.id
    assert next(b for b in edit["blocks"] if b.get("block_id") == ids.COMPOSE_TEXT_BLOCK)[
        "element"]["initial_value"] == post.text
    _react(sender, post, DANA)
    _card_says(slack, post, "Approved by")
    assert _post(module_database.url, post.id).status is PostStatus.SCHEDULED

    payload = {"type": "block_actions", "team": TEAM, "user": {"id": AUTHOR, "team_id": "T0001"},
               "api_app_id": "A0PICMIM", "token": "deprecated", "trigger_id": f"trigger-{time.time_ns()}",
               "channel": {"id": "C0001"}, "container": {"type": "message", "is_ephemeral": True},
               "response_url": slack.response_url("queue-edit"),
               "actions": [{"type": "button", "action_id": ids.QUEUE_EDIT, "block_id": f"queue_{post.id}",
                            "value": str(post.id), "action_ts": str(time.time())}]}
    sender.interaction(payload)
    view = blocks_of(slack.wait_for("views.open", 2)[-1].params["view"])
    changed = f"Second take {time.time_ns()}"
    answer = sender.interaction(_view_submission(ids.COMPOSE_VIEW, compose_state([account_id], changed, when="schedule",
                                                                          at=at), AUTHOR, view["private_metadata"]))
    assert answer.status_code == 200 and answer.text in ("", "null"), answer.text

    shown = _card_says(slack, post, changed)
    assert "Waiting for approval" in shown and "Edited after review" in shown and "version 2" in shown
    assert f"version 1 · :white_check_mark: <@{DANA}> approved" in shown
    assert [(e["value"]) for b in _card_calls(slack, post)[-1] if b["type"] == "actions"
            for e in b["elements"]][0] == f"{post.id}:2"
    assert len(_card_calls(slack, post, "chat.postMessage")) == 1, "the same card, not a new one"
    assert "version 2 needs approving again (approvals of the earlier version no longer count)" in _reply(
        slack, post.review_ts, "edited")
    saved = _post(module_database.url, post.id)
    assert (saved.status, saved.version, saved.text, saved.review_ts) == (
        PostStatus.PENDING_APPROVAL, 2, changed, post.review_ts)
    assert [t.status for t in _targets(module_database.url, post.id)] == [TargetStatus.PENDING]

    _click(sender, slack, post, ids.REVIEW_APPROVE, LI, "stale", version=1)  # a click on the card as it was
    assert "edited after you opened it" in slack.wait_for_response("stale")[0]["text"]
    _react(sender, post, LI)
    _card_says(slack, post, f"Approved by <@{LI}>")
    assert _post(module_database.url, post.id).status is PostStatus.SCHEDULED
    assert x_posts(fake_x, changed) == []


# ---- what goes wrong around it ----------------------------------------------------------------------


def test_a_card_that_cannot_be_posted_is_explained_to_the_author(sender, slack, fake_slack, account_id,
                                                                 module_database, approval):
    fake_slack.teams["T0001"].channels["G0SECRET"] = {"private": True, "member": False}
    try:
        approval(channel="G0SECRET")
        text = f"Nowhere to go {time.time_ns()}"
        sender.interaction(_view_submission(ids.COMPOSE_VIEW, compose_state([account_id], text), AUTHOR,
                                            '{"channel_id": "C0001"}'))

        def told():
            posts = _read(module_database.url, lambda s: s.scalars(select(Post).where(Post.text == text)))
            found = [p for p in posts if p.message_ts]
            return found and next((t for t in _replies(slack, found[0].message_ts) if "G0SECRET" in t), None)
        said = wait_until(told, what="the author to be told")
        assert "could not post this for review in <#G0SECRET>" in said and "/invite @Picmim" in said
        [post] = _read(module_database.url, lambda s: s.scalars(select(Post).where(Post.text == text)))
        assert post.status is PostStatus.PENDING_APPROVAL and post.review_ts is None
    finally:
        fake_slack.teams["T0001"].channels.pop("G0SECRET", None)


files = journeys.slack_files  # Slack's file host, for attachments


def test_a_returned_post_keeps_its_picture_and_comes_back_to_the_same_card(sender, slack, files, compose_server,
                                                                         account_id, module_database, approval):
    import httpx

    text = f"With a picture {time.time_ns()}"
    state = compose_state([account_id], text, files=[files.file("launch.png")])
    assert sender.interaction(_view_submission(ids.COMPOSE_VIEW, state, AUTHOR,
                                               '{"channel_id": "C0001"}')).status_code == 200
    post = wait_until(lambda: next((p for p in _read(module_database.url, lambda s: s.scalars(
        select(Post).where(Post.text == text))) if p.review_ts), None), what="the review card")
    [card] = _card_calls(slack, post, "chat.postMessage")
    [thumbnail] = [b for b in card if b["type"] == "image"]  # the picture itself, large enough to judge
    assert thumbnail["alt_text"] == "launch.png" and thumbnail["title"]["text"] == "launch.png · no alt text"
    assert "1 photo" in json.dumps(card)
    assert thumbnail["image_url"].startswith(f"{compose_server[0].url}/media/")
    shown = httpx.get(thumbnail["image_url"])
    assert shown.status_code == 200 and shown.headers["content-type"] == "image/png"

    _click(sender, slack, post, ids.REVIEW_REQUEST_CHANGES, DANA, "changes")
    modal = blocks_of(slack.wait_for("views.open")[0].params["view"])
    sender.interaction(_view_submission(ids.REVIEW_COMMENT_VIEW, {"values": {ids.REVIEW_COMMENT_BLOCK: {
        ids.REVIEW_COMMENT_INPUT: {"type": "plain_text_input", "value": "Mention the date."}}}}, DANA,
        modal["private_metadata"]))
    wait_until(lambda: _post(module_database.url, post.id).status is PostStatus.DRAFT, what="back in drafts")

    # The author opens the draft, fixes the text and posts it again, attaching nothing new.
    fixed = f"{text} on Monday"
    answer = sender.interaction(_view_submission(ids.COMPOSE_VIEW, compose_state([account_id], fixed), AUTHOR,
                                                 json.dumps({"channel_id": "C0001", "draft_id": post.id})))
    assert answer.status_code == 200 and answer.text in ("", "null"), answer.text
    shown = _card_says(slack, post, fixed)
    assert "Waiting for approval" in shown and "1 photo" in shown and "Mention the date." in shown
    assert len(_card_calls(slack, post, "chat.postMessage")) == 1, "the same card"
    _reply(slack, post.review_ts, "version 2 needs approving again")
    saved = _post(module_database.url, post.id)
    assert (saved.status, saved.version, saved.text) == (PostStatus.PENDING_APPROVAL, 2, fixed)
    _react(sender, saved, DANA)
    _card_says(slack, post, "Approved by")


@pytest.mark.parametrize("down", [REVIEW_CHANNEL, "C0001"], ids=["review card", "status message"])
def test_slack_answering_an_html_503_loses_nothing_and_logs_no_traceback(sender, slack, compose_server, account_id,
                                                                        module_database, approval, down):
    """Slack's HTML 502/503 page is not JSON: the card or status message is not posted, the post stays
    waiting for approval, and the server neither crashes nor logs a traceback."""
    server = compose_server[0]
    before = len(server.output())
    slack.html_error("chat.postMessage", 503, channel=down)
    text = f"Slack is down {time.time_ns()}"
    answer = sender.interaction(_view_submission(ids.COMPOSE_VIEW, compose_state([account_id], text), AUTHOR,
                                                 '{"channel_id": "C0001"}'))
    assert answer.status_code == 200, answer.text
    wait_until(lambda: [c for c in slack.calls_to("chat.postMessage") if c.params.get("channel") == down],
               what=f"a post to {down}")
    wait_until(lambda: "http_503" in server.output()[before:], what="the failure to be logged")
    time.sleep(0.5)
    logged = server.output()[before:]
    assert "Traceback" not in logged and "AttributeError" not in logged, logged
    [post] = _read(module_database.url, lambda s: s.scalars(select(Post).where(Post.text == text)))
    assert post.status is PostStatus.PENDING_APPROVAL
    assert server.alive() and sender.interaction(_view_submission(
        ids.COMPOSE_VIEW, compose_state([account_id], text + " again"), AUTHOR, '{"channel_id": "C0001"}')
    ).status_code == 200
