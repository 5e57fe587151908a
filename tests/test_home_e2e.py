"""App Home through the real server (issue 24): opening the tab publishes the team's dashboard, and its buttons
(New post, Queue, Reconnect, Retry) work from Home, where there is no message to answer in."""

from __future__ import annotations

import asyncio
import json
import time
from datetime import timedelta

import pytest
from sqlalchemy import select

from bot import ids
from bot.secret import Secret
from bot.services.workspaces import ensure_workspace
from bot.storage import crypto, db
from bot.storage.models import (
    Account,
    Connection,
    ConnectionStatus,
    Post,
    PostStatus,
    PostTarget,
    TargetStatus,
    utcnow,
)
from tests import journeys
from tests.conftest import SECRET_KEY
from tests.journeys import add_account, blocks_of, wait_until

fake_x, connect_server, x = journeys.fake_x, journeys.connect_server, journeys.x
sender = journeys.connect_sender


def _home_click(action_id: str, value: str = "", user: str = "U0001") -> dict:
    """A button pressed on the App Home tab: a view container, no channel, no response_url."""
    return {"type": "block_actions", "team": {"id": "T0001", "domain": "acme"}, "user": {"id": user},
            "api_app_id": "A0PICMIM", "token": "deprecated", "trigger_id": f"trigger-{time.time_ns()}",
            "container": {"type": "view", "view_id": "VHOME"},
            "view": {"id": "VHOME", "type": "home", "blocks": [], "state": {"values": {}}, "hash": "h"},
            "actions": [{"type": "button", "action_id": action_id, "block_id": "b", "value": value,
                         "action_ts": str(time.time())}]}


@pytest.fixture
async def team(module_database, connect_server):
    """T0001 with U0001 (an admin) as its approver, a working and a revoked X connection, a post that failed on it, one
    scheduled for tomorrow and one waiting for U0001's approval."""
    crypto.configure([SECRET_KEY])  # the server's key: it reads the token written here
    engine = db.create_engine(module_database.url)
    sessions = db.session_factory(engine)
    account_id = await add_account(sessions, "x", "profile", "Acme Marketing", status=ConnectionStatus.REVOKED)
    working = await add_account(sessions, "x", "profile", "Acme Support")  # one that works, to write posts for
    async with sessions() as session:
        here = await ensure_workspace(session, "T0001")
        here.approval_required, here.approver_user_ids = True, ["U0001"]
        account = await session.get(Account, account_id)
        (await session.get(Connection, (await session.get(Account, working)).connection_id)).access_token = \
            Secret("x-token")
        now = utcnow()

        def post(text, status, target, at=None, card=None, **kw):
            return Post(workspace_id=here.id, author_user_id="U0002", text=text, status=status, scheduled_at=at,
                        options={}, channel_id="C0MKT", review_channel_id=card,
                        targets=[PostTarget(account_id=account_id, status=target, **kw)])

        failed = post("Winter menu is here", PostStatus.FAILED, TargetStatus.FAILED, last_error="X said no.")
        session.add_all([
            failed,
            post("Tomorrow's teaser", PostStatus.SCHEDULED, TargetStatus.SCHEDULED, now + timedelta(days=1),
                 next_attempt_at=now + timedelta(days=1)),
            post("Please approve me", PostStatus.PENDING_APPROVAL, TargetStatus.PENDING, now + timedelta(days=2),
                 card="C0REVIEW"),
        ])
        await session.commit()
        ids_ = {"connection": account.connection_id, "target": failed.targets[0].id, "account": account_id}
    yield ids_, sessions
    async with sessions() as session:  # leave the module's database as the next test expects it
        for kind in (Post, Account, Connection):
            for row in await session.scalars(select(kind)):
                await session.delete(row)
            await session.commit()
    await engine.dispose()


def _published(slack, count: int = 1) -> dict:
    call = slack.wait_for("views.publish", count)[count - 1]
    view = blocks_of(call.params["view"])
    assert call.params["user_id"] == "U0001"
    return view


def _buttons(view: dict) -> list[tuple[str, str | None]]:
    found = []
    for block in view["blocks"]:
        elements = block.get("elements", []) if block["type"] == "actions" else [block.get("accessory") or {}]
        found += [(e["action_id"], e.get("value")) for e in elements if e.get("type") == "button"]
    return found


async def test_opening_home_publishes_the_dashboard_and_its_buttons_work_there(sender, slack, x, team):
    made, sessions = team
    sender.event({"type": "app_home_opened", "user": "U0001", "channel": "D0001", "tab": "home"})
    view = await asyncio.to_thread(_published, slack)
    text = json.dumps(view["blocks"], ensure_ascii=False)
    assert [b["text"]["text"] for b in view["blocks"] if b["type"] == "header"] == [
        "Needs attention", "Calendar", "Setup"], "U0001 is an admin"
    buttons = _buttons(view)
    assert buttons[:3] == [(ids.NEW_POST, None), (ids.HOME_QUEUE, None), (ids.HOME_CONNECT, None)]
    assert (ids.ACCOUNT_RECONNECT, str(made["connection"])) in buttons
    assert (ids.POST_RETRY, str(made["target"])) in buttons
    assert "*X · Acme Marketing*: access withdrawn" in text
    assert "*Waiting for your approval*: <@U0002>'s post" in text and "<#C0REVIEW>" in text
    coming = text[text.index('"Calendar"'):]
    assert coming.index("Tomorrow's teaser") < coming.index("Please approve me"), "soonest first"
    assert "(CET)" in text or "(CEST)" in text, "times in U0001's zone (Europe/Madrid)"

    # New post: the compose window.
    sender.interaction(_home_click(ids.NEW_POST))
    [compose] = slack.wait_for("views.open")
    assert blocks_of(compose.params["view"])["callback_id"] == ids.COMPOSE_VIEW

    # Queue: the queued posts in a modal.
    slack.reset()
    sender.interaction(_home_click(ids.HOME_QUEUE))
    [queue] = slack.wait_for("views.open")
    modal = blocks_of(queue.params["view"])
    assert modal["title"]["text"] == "Queue" and "Tomorrow's teaser" in json.dumps(modal["blocks"])

    # Reconnect: the private link, in a modal (Home has no message to answer in).
    slack.reset()
    sender.interaction(_home_click(ids.ACCOUNT_RECONNECT, str(made["connection"])))
    [opened] = slack.wait_for("views.open")
    assert blocks_of(opened.params["view"])["type"] == "modal"
    [updated] = slack.wait_for("views.update")
    link = blocks_of(updated.params["view"])
    assert updated.params["view_id"] != "VHOME", "the modal is updated, not Home"
    assert "Reconnect Acme Marketing" in json.dumps(link["blocks"])
    assert any("url" in e for b in link["blocks"] if b["type"] == "actions" for e in b["elements"])

    # Retry: sent again, and Home is published afresh.
    slack.reset()
    sender.interaction(_home_click(ids.POST_RETRY, str(made["target"])))
    await asyncio.to_thread(_published, slack)

    async def retried():
        async with sessions() as session:
            target = await session.get(PostTarget, made["target"])
            return target.last_error != "X said no."  # scheduled again, or tried again and told why

    for _ in range(200):  # up to 10 s
        if await retried():
            break
        await asyncio.sleep(0.05)
    assert await retried()


async def test_a_members_home_shows_no_setup_or_command_line_words(sender, slack, x, team):
    slack.teams["T0001"].users["U0003"] = {"id": "U0003", "name": "sam", "tz": "America/New_York",
                                           "is_admin": False}
    try:
        sender.event({"type": "app_home_opened", "user": "U0003", "tab": "home"})
        call = await asyncio.to_thread(lambda: wait_until(lambda: slack.calls_to("views.publish"), "Home"))
        view = blocks_of(call[0].params["view"])
    finally:
        del slack.teams["T0001"].users["U0003"]
    text = json.dumps(view["blocks"], ensure_ascii=False)
    assert "python -m" not in text and "Setup" not in text and "tweet.write" not in text
    assert "Waiting for your approval" not in text, "U0003 is not an approver"
    assert {ids.NEW_POST, ids.HOME_CONNECT} <= {a for a, _ in _buttons(view)}
    assert "times in your time zone (America/New_York)" in text, "times in U0003's zone"
