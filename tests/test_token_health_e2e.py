"""Token health end to end: the real server's own job finds a revoked X grant, alerts the alerts channel
once with a Reconnect button and holds the post; a click on that button, X's consent page and the server's
OAuth callback mend the connection, and the job updates the alert in place and releases the post."""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import select, update

from bot import ids
from bot.services.publishing import schedule_targets
from bot.storage import db
from bot.storage.models import (
    Account,
    Alert,
    Connection,
    ConnectionStatus,
    Post,
    PostTarget,
    TargetStatus,
    Workspace,
    utcnow,
)
from tests import journeys
from tests.journeys import ALERTS, X_USER, blocks_of, consent, shown

# The connect tests' fixtures (fake X, x, sender, browser), on a server whose health job runs often.
fake_x, x, sender, browser = journeys.fake_x, journeys.x, journeys.connect_sender, journeys.browser


@pytest.fixture(scope="module")
def connect_server(module_database, fake_slack, fake_x, tmp_path_factory):
    server = journeys.start_x_server(module_database.url, fake_slack, fake_x, tmp_path_factory.mktemp("health"),
                                     PICMIM_HEALTH_SECONDS="0.3")
    yield server
    server.stop()


@pytest.fixture
async def sessions(module_database, connect_server):
    engine = db.create_engine(module_database.url)
    yield db.session_factory(engine)
    await engine.dispose()


def _click(slack, action_id: str, value: str, *, channel: str, message_ts: str, rid: str, state=None) -> dict:
    return {"type": "block_actions", "team": {"id": "T0001", "domain": "acme"}, "user": {"id": "U0001"},
            "api_app_id": "A0PICMIM", "token": "deprecated", "trigger_id": f"trigger-{time.time_ns()}",
            "channel": {"id": channel}, "container": {"type": "message", "message_ts": message_ts,
                                                      "channel_id": channel},
            "message": {"ts": message_ts, "text": "", "blocks": []}, "response_url": slack.response_url(rid),
            "state": {"values": state or {}},
            "actions": [{"type": "button", "action_id": action_id, "block_id": "b", "value": value,
                         "action_ts": str(time.time())}]}


async def _consent_and_return(slack, browser, rid: str) -> httpx.Response:
    [reply] = slack.wait_for_response(rid)
    [link] = [e["url"] for b in reply["blocks"] if b["type"] == "actions" for e in b["elements"] if "url" in e]
    return await browser.get(str(await consent(browser, link)))


def _wait(condition, what: str, timeout: float = 15.0):
    deadline = time.monotonic() + timeout
    while True:
        found = condition()
        if found:
            return found
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def _alerts(slack) -> list:
    return [c for c in slack.calls_to("chat.postMessage") if c.params.get("channel") == ALERTS]


async def test_the_servers_job_alerts_a_revoked_grant_once_and_a_reconnect_resolves_it(
        sender, slack, browser, x, sessions):
    # Connect X and let Picmim manage its account, as a member does from Slack.
    sender.command("connect x", response_url=slack.response_url("connect"))
    page = await _consent_and_return(slack, browser, "connect")
    assert page.status_code == 200 and "X is connected" in page.text
    [dm] = slack.wait_for("chat.postMessage")
    save = next(e for b in blocks_of(dm.params["blocks"]) if b["type"] == "actions" for e in b["elements"]
                if e.get("action_id") == ids.CHOOSE_ACCOUNTS_SAVE)
    choice = {f"{ids.CHOOSE_ACCOUNTS_BLOCK}0": {ids.CHOOSE_ACCOUNTS_BOXES: {
        "type": "checkboxes", "selected_options": [{"value": X_USER}]}}}
    sender.interaction(_click(slack, ids.CHOOSE_ACCOUNTS_SAVE, save["value"], channel="D0001",
                              message_ts="1700000000.000100", rid="save", state=choice))
    slack.wait_for("chat.update")

    # The alerts channel (chosen in /picmim settings) and a post scheduled in two days.
    async with sessions() as session:
        await session.execute(update(Workspace).where(Workspace.team_id == "T0001")
                              .values(alerts_channel_id=ALERTS))
        account = (await session.execute(select(Account.id, Account.workspace_id, Account.connection_id)
                                          .where(Account.external_id == X_USER))).one()
        post = Post(workspace_id=account.workspace_id, author_user_id="U0001", text="Spring sale starts Monday",
                    channel_id="C0MKT", message_ts="1700000000.000777", targets=[PostTarget(account_id=account.id)])
        session.add(post)
        schedule_targets(post, utcnow() + timedelta(days=2))
        await session.commit()
        connection_id, post_id = account.connection_id, post.id
    slack.forget_calls()
    # The job's first look at the new connection (it is due at once) must be over: a look still under
    # way would set the next check hours ahead after the test made it due.
    deadline = time.monotonic() + 30
    while True:
        async with sessions() as session:
            looked = (await session.execute(select(Connection.next_check_at, Connection.health_lease_until)
                                            .where(Connection.id == connection_id))).one()
        if looked.next_check_at is not None and looked.health_lease_until is None:
            break
        assert time.monotonic() < deadline, "the server's job never looked at the new connection"
        await asyncio.sleep(0.1)

    # The member removes Picmim at X; the server's job finds out at the connection's next check.
    x.revoke(X_USER)
    async with sessions() as session:
        await session.execute(update(Connection).where(Connection.id == connection_id).values(next_check_at=None))
        await session.commit()
    [alert] = slack.wait_for("chat.postMessage")
    assert alert.params["channel"] == ALERTS
    text = shown(alert.params["blocks"])
    assert "*X · Acme Marketing* is disconnected" in text and "Spring sale starts Monday" in text
    [button] = [e for b in blocks_of(alert.params["blocks"]) if b["type"] == "actions" for e in b["elements"]]
    assert (button["action_id"], button["value"]) == (ids.ACCOUNT_RECONNECT, str(connection_id))
    held = _wait(lambda: [c for c in slack.calls_to("chat.update") if c.params["channel"] == "C0MKT"],
                 "the post's status message")
    assert "On hold until Acme Marketing on X is reconnected" in shown(held[-1].params["blocks"])
    async with sessions() as session:
        assert await session.scalar(select(PostTarget.status).where(PostTarget.post_id == post_id)) \
            is TargetStatus.HELD
        assert await session.scalar(select(Connection.status).where(Connection.id == connection_id)) \
            is ConnectionStatus.REVOKED
        alert_ts = await session.scalar(select(Alert.message_ts))
    await asyncio.sleep(1.5)  # proving an absence needs a wait: five more ticks of the job
    assert len(_alerts(slack)) == 1, "one alert, not one per tick"

    # Reconnect from the alert: a private link, X's consent page, the server's callback.
    sender.interaction(_click(slack, ids.ACCOUNT_RECONNECT, button["value"], channel=ALERTS, message_ts=alert_ts,
                              rid="reconnect"))
    page = await _consent_and_return(slack, browser, "reconnect")
    assert page.status_code == 200 and "X is connected" in page.text
    resolved = _wait(lambda: [c for c in slack.calls_to("chat.update")
                              if c.params["channel"] == ALERTS and c.params["ts"] == alert_ts], "the resolved alert")
    text = shown(resolved[0].params["blocks"])
    assert "was reconnected by <@U0001>" in text
    assert "1 scheduled post that was on hold goes out at its time" in text
    async with sessions() as session:
        assert await session.scalar(select(PostTarget.status).where(PostTarget.post_id == post_id)) \
            is TargetStatus.SCHEDULED
        assert await session.scalar(select(Connection.status).where(Connection.id == connection_id)) \
            is ConnectionStatus.ACTIVE
    _wait(lambda: any(": scheduled" in shown(c.params["blocks"]) for c in slack.calls_to("chat.update")
                      if c.params["channel"] == "C0MKT"), "the post's status message scheduled again")
    assert len(_alerts(slack)) == 1
