"""A database outage while Slack waits: bolt's error handler (bot/handlers/failures.py) driven through a real
bolt app with listeners that fail the way the database fails. (A unit-level test: pointing the running server at
a database that goes away is not reliable on both CI databases.)"""

from __future__ import annotations

import json
import logging
from urllib.parse import urlencode

import pytest
from slack_bolt.async_app import AsyncApp
from slack_bolt.authorization import AuthorizeResult
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy.exc import OperationalError

from bot.handlers import failures

DOWN = OperationalError("SELECT 1", {}, Exception("unable to open database file"))


def _app(fake) -> AsyncApp:
    async def authorize():
        return AuthorizeResult(enterprise_id=None, team_id="T0001", bot_token="xoxb-fake-T0001", bot_user_id="UBOT")

    app = AsyncApp(client=AsyncWebClient(token="xoxb-fake-T0001", base_url=fake.api_url), signing_secret="s",
                   request_verification_enabled=False, authorize=authorize, raise_error_for_unhandled_request=False)
    failures.register(app)

    @app.command("/picmim")
    async def acks_then_fails(ack):
        await ack()
        raise DOWN

    @app.action("fails_before_ack")
    async def fails_first(ack):
        raise DOWN

    @app.view("compose")
    async def submit(ack):
        raise DOWN

    @app.action("other_failure")
    async def other(ack):
        await ack()
        raise RuntimeError("a bug")
    return app


def _command(fake) -> AsyncBoltRequest:
    body = urlencode({"command": "/picmim", "text": "queue", "team_id": "T0001", "user_id": "U0001",
                      "channel_id": "C0001", "response_url": fake.response_url("db"), "trigger_id": "t"})
    return AsyncBoltRequest(body=body, headers={"content-type": ["application/x-www-form-urlencoded"]})


def _interaction(payload: dict) -> AsyncBoltRequest:
    return AsyncBoltRequest(body=urlencode({"payload": json.dumps(payload)}),
                            headers={"content-type": ["application/x-www-form-urlencoded"]})


@pytest.fixture(autouse=True)
def fresh_outage():
    failures.outage.last = None


async def test_a_command_that_acked_then_lost_the_database_is_answered_and_told_in_words(slack, caplog):
    app = _app(slack)
    caplog.set_level(logging.INFO)
    responses = [await app.async_dispatch(_command(slack)) for _ in range(3)]
    assert [r.status for r in responses] == [200, 200, 200]  # not bolt's 404 "unhandled request" after 3 s
    told = slack.wait_for_response("db", count=3)
    assert {(t["text"], t["response_type"]) for t in told} == {
        (failures.DATABASE_DOWN, "ephemeral")}
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1 and "database cannot be reached" in errors[0].getMessage()  # one line an outage
    assert not any(r.exc_info for r in caplog.records)


async def test_a_click_that_failed_before_ack_is_answered_with_the_reason(slack):
    payload = {"type": "block_actions", "team": {"id": "T0001"}, "user": {"id": "U0001"},
               "channel": {"id": "C0001"}, "response_url": slack.response_url("click"), "trigger_id": "t",
               "actions": [{"type": "button", "action_id": "fails_before_ack", "block_id": "b"}]}
    response = await _app(slack).async_dispatch(_interaction(payload))
    assert response.status == 200
    [told] = slack.wait_for_response("click")
    assert told["text"] == failures.DATABASE_DOWN


async def test_a_modal_submitted_during_an_outage_stays_open_with_the_reason(slack):
    payload = {"type": "view_submission", "team": {"id": "T0001"}, "user": {"id": "U0001"}, "trigger_id": "t",
               "view": {"id": "V1", "type": "modal", "callback_id": "compose", "state": {"values": {}},
                        "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "x"}},
                                   {"type": "input", "block_id": "text_block", "label": {}, "element": {}}]}}
    response = await _app(slack).async_dispatch(_interaction(payload))
    assert response.status == 200
    assert json.loads(response.body) == {"response_action": "errors",
                                         "errors": {"text_block": failures.DATABASE_DOWN}}


async def test_other_failures_keep_bolts_traceback(slack, caplog):
    payload = {"type": "block_actions", "team": {"id": "T0001"}, "user": {"id": "U0001"},
               "response_url": slack.response_url("bug"), "trigger_id": "t",
               "actions": [{"type": "button", "action_id": "other_failure", "block_id": "b"}]}
    await _app(slack).async_dispatch(_interaction(payload))
    assert any(r.exc_info and "a bug" in str(r.exc_info[1]) for r in caplog.records)


def test_only_database_failures_count():
    assert failures.database_unreachable(DOWN)
    assert not failures.database_unreachable(ConnectionRefusedError("Slack"))  # an OSError from elsewhere
    assert not failures.database_unreachable(RuntimeError("a bug"))
    outer = RuntimeError("wrapped")
    outer.__cause__ = DOWN
    assert failures.database_unreachable(outer)


def test_one_log_line_per_outage(caplog):
    outage = failures.Outage()
    for now in (0, 10, 50, 100):  # failing all along: one outage
        outage.note(DOWN, now)
    outage.note(DOWN, 200)  # after a quiet minute: a new one
    assert len([r for r in caplog.records if "cannot be reached" in r.getMessage()]) == 2
