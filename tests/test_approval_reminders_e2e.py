"""Approval reminders and expiry, end to end (issue 21): the real server ticking every half second, approval set in
`/picmim settings`, posts composed in the compose window. Time passing is the post's own times moved back in the
database (sent for review, last reminded, due), as hours of waiting would leave them."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update

from bot import ids
from bot.payloads import RescheduleOrigin
from bot.storage.models import AuditEntry, Post, PostStatus, Workspace
from tests import journeys
from tests.journeys import blocks_of, wait_until, x_posts
from tests.test_approvals_e2e import (
    AUTHOR,
    DANA,
    GROUP,
    LI,
    _card_calls,
    _card_says,
    _click,
    _compose,
    _post,
    _react,
    _read,
    _replies,
    _reply,
    _settings_state,
    _view_submission,
)

fake_x, compose_server = journeys.fake_x, journeys.compose_server
sender, account_id = journeys.compose_sender, journeys.account_id


@pytest.fixture(scope="module", autouse=True)
def people(fake_slack, compose_server):
    team = fake_slack.teams["T0001"]
    for user_id, name in ((DANA, "dana"), (LI, "li")):
        team.users[user_id] = {"id": user_id, "name": name, "tz": "America/New_York", "is_admin": False}
    team.usergroups[GROUP] = {"name": "Brand reviewers", "handle": "brand", "users": []}
    yield
    team.usergroups.pop(GROUP, None)


def _settings(changes: dict | None = None, **numbers) -> dict:
    """`/picmim settings` with approval on (and `changes` to its other fields), and the reminder and expiry numbers
    as typed."""
    state = _settings_state(**(changes or {}))
    for block_id, action_id, key in ((ids.SETTINGS_REMINDER_HOURS_BLOCK, ids.SETTINGS_REMINDER_HOURS_INPUT, "hours"),
                                     (ids.SETTINGS_REMINDERS_MAX_BLOCK, ids.SETTINGS_REMINDERS_MAX_INPUT, "most"),
                                     (ids.SETTINGS_GRACE_BLOCK, ids.SETTINGS_GRACE_INPUT, "grace")):
        state["values"][block_id] = {action_id: {"type": "number_input", "value": numbers.get(key)}}
    return state


@pytest.fixture
def approval(sender):
    answer = sender.interaction(_view_submission(ids.SETTINGS_VIEW, _settings(hours="4", most="2", grace="60")))
    assert answer.status_code == 200 and answer.text in ("", "null"), answer.text


def _move(url: str, post_id: int, **times) -> None:
    """The post's times moved (hours of waiting, in the database)."""
    async def run(session):
        await session.execute(update(Post).where(Post.id == post_id).values(**times))
        await session.commit()
    _read(url, run)


def _reminders(slack, post: Post) -> list[str]:
    return [t for t in _replies(slack, post.review_ts) if t.startswith(":bell: Reminder")]


def test_the_settings_window_holds_the_reminders_and_refuses_what_is_not_a_number(sender, slack, approval):
    sender.command("settings", response_url=slack.response_url("settings"))
    [opened] = slack.wait_for("views.open")
    blocks = {b.get("block_id"): b for b in blocks_of(opened.params["view"])["blocks"]}
    assert blocks[ids.SETTINGS_REMINDER_HOURS_BLOCK]["label"]["text"] == "Remind the approvers after (hours)"
    assert [blocks[b]["element"]["initial_value"] for b in (
        ids.SETTINGS_REMINDER_HOURS_BLOCK, ids.SETTINGS_REMINDERS_MAX_BLOCK, ids.SETTINGS_GRACE_BLOCK)] == [
        "4", "2", "60"], "the defaults"
    answer = sender.interaction(_view_submission(ids.SETTINGS_VIEW, _settings(hours="0", most="many", grace="30")))
    errors = answer.json()["errors"]
    assert set(errors) == {ids.SETTINGS_REMINDER_HOURS_BLOCK, ids.SETTINGS_REMINDERS_MAX_BLOCK}
    assert "from 1 to 168" in errors[ids.SETTINGS_REMINDER_HOURS_BLOCK]


def test_reminders_reach_the_approvers_once_each_at_most_twice(sender, slack, account_id, module_database, approval):
    url = module_database.url
    at = (datetime.now(UTC) + timedelta(days=2)).replace(second=0, microsecond=0)
    post = _compose(sender, account_id, url, "Remind them", at=at)
    other = _compose(sender, account_id, url, "Another waiting", at=at)
    assert _reminders(slack, post) == [], "nothing before its first four hours"

    _move(url, post.id, submitted_at=datetime.now(UTC) - timedelta(hours=5))
    first = wait_until(lambda: _reminders(slack, post), what="the first reminder")[0]
    assert first.startswith(f":bell: Reminder 1 of 2 for <@{DANA}>, <@{LI}> and members of <!subteam^{GROUP}>: "
                            f"<@{AUTHOR}>'s post has been waiting for approval for 5 hours (needs 1 approval).")
    assert f"<!date^{int(at.timestamp())}^" in first and "on this card" in first

    # Four hours after the first, the second; then no more, whatever the wait.
    _move(url, post.id, reminded_at=datetime.now(UTC) - timedelta(hours=4, minutes=1))
    wait_until(lambda: len(_reminders(slack, post)) >= 2, what="the second reminder")
    _move(url, post.id, reminded_at=datetime.now(UTC) - timedelta(hours=9))
    _move(url, other.id, submitted_at=datetime.now(UTC) - timedelta(hours=5))
    # The other post's reminder comes from a later pass than the one that would have sent a third.
    wait_until(lambda: _reminders(slack, other), what="the other post's reminder")
    assert [r.split(" for ")[0] for r in _reminders(slack, post)] == [":bell: Reminder 1 of 2",
                                                                       ":bell: Reminder 2 of 2"]
    saved = _post(url, post.id)
    assert (saved.status, saved.reminders_sent) == (PostStatus.PENDING_APPROVAL, 2)
    assert [t for t in _replies(slack, post.message_ts) if "Reminder" in t] == [], "for the approvers, on the card"


def test_an_unapproved_post_expires_and_approving_it_afterwards_does_not_publish(sender, slack, fake_x, account_id,
                                                                                 module_database, approval):
    url = module_database.url
    at = (datetime.now(UTC) + timedelta(hours=2)).replace(second=0, microsecond=0)
    post = _compose(sender, account_id, url, "Too late", at=at)

    # Its time passed 30 minutes ago: within the grace period it still waits (and could still be approved).
    _move(url, post.id, scheduled_at=datetime.now(UTC) - timedelta(minutes=30))
    time.sleep(1.5)  # three ticks of the job
    assert _post(url, post.id).status is PostStatus.PENDING_APPROVAL

    passed = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=61)
    _move(url, post.id, scheduled_at=passed)
    card = _card_says(slack, post, "Not approved before its time")
    assert "approving it now would not publish it" in card
    assert not any(b["type"] == "actions" for b in _card_calls(slack, post)[-1]), "no buttons left on the card"
    assert "Nobody approved this post in time" in _reply(slack, post.review_ts, "Nobody approved")
    notice = wait_until(lambda: [c for c in slack.calls_to("chat.postMessage")
                                 if c.params.get("thread_ts") == post.message_ts
                                 and "was not approved before its time" in c.params["text"]], what="the notice")
    assert len(notice) == 1
    assert notice[0].params["text"].startswith(f"<@{AUTHOR}> your post for <!date^{int(passed.timestamp())}^")
    [reschedule] = [e for b in blocks_of(notice[0].params["blocks"]) if b["type"] == "actions" for e in b["elements"]]
    assert (reschedule["text"]["text"], reschedule["action_id"], reschedule["value"]) == (
        "Reschedule", ids.QUEUE_RESCHEDULE, str(post.id))
    status = [c for c in slack.calls_to("chat.update") if c.params.get("ts") == post.message_ts]
    assert "Not approved before its time, so it was not published" in json.dumps(blocks_of(status[-1].params["blocks"]))

    async def trail(session):
        return list(await session.scalars(select(AuditEntry.action).where(AuditEntry.post_id == post.id,
                                                                           AuditEntry.actor == "Picmim")))
    assert _read(url, trail) == ["expired"]

    # An approver who comes too late: neither the reaction nor the button publishes it.
    _react(sender, post, DANA)
    _click(sender, slack, post, ids.REVIEW_APPROVE, LI, "late")
    [answer] = slack.wait_for_response("late")
    assert "not approved in time" in answer["text"]
    time.sleep(1.5)
    assert _post(url, post.id).status is PostStatus.EXPIRED and x_posts(fake_x, post.text) == []

    # Reschedule (the button under the notice) opens the queue's window; saving sends it for approval again.
    slack.reset()
    journeys.status_click(sender, slack, post, ids.QUEUE_RESCHEDULE, "resched")
    [opened] = slack.wait_for("views.open")
    view = blocks_of(opened.params["view"])
    assert view["callback_id"] == ids.QUEUE_RESCHEDULE_VIEW
    assert RescheduleOrigin.decode(view["private_metadata"]) == RescheduleOrigin(post.id, None)
    later = (datetime.now(UTC) + timedelta(days=1)).replace(second=0, microsecond=0)
    state = {"values": {ids.QUEUE_AT_BLOCK: {ids.QUEUE_AT_INPUT: {"type": "datetimepicker",
                                                                   "selected_date_time": int(later.timestamp())}}}}
    answer = sender.interaction(_view_submission(ids.QUEUE_RESCHEDULE_VIEW, state, metadata=view["private_metadata"]))
    assert answer.status_code == 200 and answer.text in ("", "null"), answer.text
    note = _reply(slack, post.review_ts, "rescheduled this post")
    assert note.startswith(f":calendar: <@{AUTHOR}> rescheduled this post to <!date^{int(later.timestamp())}^")
    assert f"<@{DANA}>" in note, "the approvers are mentioned again"
    wait_until(lambda: any(b["type"] == "actions" for b in (_card_calls(slack, post) or [[]])[-1]),
               what="the card's buttons back")
    saved = _post(url, post.id)
    assert (saved.status, saved.scheduled_at, saved.version, saved.reminders_sent) == (
        PostStatus.PENDING_APPROVAL, later, 2, 0)
    _react(sender, post, DANA, event_id=f"Ev{time.time_ns()}")
    wait_until(lambda: _post(url, post.id).status is PostStatus.SCHEDULED, what="approved again")


def test_with_nobody_named_as_approver_a_reminder_says_who_can_approve(sender, slack, account_id, module_database):
    """Workspace admins approve when no approver is chosen: the reminder says so, and mentions the admins Picmim's
    roles name (people and their user group), since Slack has no one mention for "workspace admins"."""
    url = module_database.url
    nobody = _settings({"approvers": [], "group": None}, hours="4", most="2", grace="60")
    answer = sender.interaction(_view_submission(ids.SETTINGS_VIEW, nobody))
    assert answer.status_code == 200 and answer.text in ("", "null"), answer.text
    greta, admins_group = "U0A07", "S0ADMINS"

    async def name_admins(session, people=(greta,), group=admins_group):
        await session.execute(update(Workspace).where(Workspace.team_id == "T0001")
                              .values(admin_user_ids=list(people), admin_usergroup_id=group))
        await session.commit()

    _read(url, name_admins)
    try:
        at = (datetime.now(UTC) + timedelta(days=2)).replace(second=0, microsecond=0)
        post = _compose(sender, account_id, url, "Admins approve", at=at)
        _move(url, post.id, submitted_at=datetime.now(UTC) - timedelta(hours=5))
        first = wait_until(lambda: _reminders(slack, post), what="the first reminder")[0]
        assert first.startswith(f":bell: Reminder 1 of 2: <@{AUTHOR}>'s post has been waiting for approval for "
                                "5 hours (needs 1 approval).")
        assert (f"Workspace admins can approve it, and so can Picmim's admins: <@{greta}> and members of "
                f"<!subteam^{admins_group}>.") in first
        assert "Nobody is named as approver: an admin can choose approvers in `/picmim settings`." in first

        # Without admins named in Picmim's roles, it still says who can approve, and mentions nobody.
        _read(url, lambda session: name_admins(session, (), None))
        _move(url, post.id, reminded_at=datetime.now(UTC) - timedelta(hours=4, minutes=1))
        second = wait_until(lambda: _reminders(slack, post)[1:], what="the second reminder")[0]
        assert second.startswith(":bell: Reminder 2 of 2: ")
        assert "Workspace admins can approve it. Approve, ask for changes or reject it on this card." in second
        assert "<@U" not in second.replace(f"<@{AUTHOR}>", ""), "nobody else is mentioned"
    finally:
        _read(url, lambda session: name_admins(session, (), None))
