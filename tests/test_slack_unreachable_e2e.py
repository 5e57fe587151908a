"""Slack's Web API unreachable (or answering its HTML 503 page) when the server starts, in HTTP mode: the server
starts anyway, answers what it can (/picmim help), tells the person in words when a request needs Slack
(views.open), never answers Slack with a 500, logs one line for the outage, and asks Slack again in the background
until it answers (then /readyz says ok and everything works)."""

from __future__ import annotations

import time

import httpx
import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_slack_response import AsyncSlackResponse

from bot.handlers.failures import SLACK_DOWN, slack_unreachable
from tests.conftest import SECRET_KEY, SIGNING_SECRET, server_env
from tests.journeys import wait_until
from tests.server import ServerProcess, base_env, free_port
from tests.slack_requests import SlackSender
from tests.test_slack_modes_e2e import _install as install


def _click_new_post(sender: SlackSender, response_url: str) -> httpx.Response:
    """"New post" on the help message, as Slack sends the click."""
    return sender.interaction({
        "type": "block_actions", "team": {"id": "T0001", "domain": "acme"}, "user": {"id": "U0001"},
        "api_app_id": "A0PICMIM", "token": "deprecated", "trigger_id": f"trigger-{time.time_ns()}",
        "channel": {"id": "C0001", "name": "marketing"},
        "container": {"type": "message", "message_ts": "1700000000.000100", "channel_id": "C0001",
                      "is_ephemeral": True},
        "response_url": response_url,
        "actions": [{"type": "button", "action_id": "new_post", "block_id": "b", "action_ts": "1"}]})


@pytest.fixture
def cut_off(database, fake_slack, tmp_path):
    """The server with Slack's Web API on a closed port; response URLs (hooks.slack.com) still reach the fake."""
    env = {**server_env(database.url, fake_slack), "SLACK_API_URL": f"http://127.0.0.1:{free_port()}/api/"}
    server = ServerProcess(env, cwd=tmp_path).start()
    sender = SlackSender(server.url, env["SLACK_SIGNING_SECRET"])
    yield server, sender
    sender.close()
    server.stop()


def test_with_slack_unreachable_at_start_help_is_answered_and_the_rest_told_in_words(cut_off, slack):
    server, sender = cut_off
    started = time.monotonic()
    help_reply = sender.command("help", response_url=slack.response_url("help"))
    assert help_reply.status_code == 200 and time.monotonic() - started < 3, "answered within Slack's 3 s"
    [listed] = slack.wait_for_response("help")
    assert "/picmim connect" in str(listed["blocks"]) and listed["response_type"] == "ephemeral"

    post = sender.command("post Launch day", response_url=slack.response_url("post"))
    assert post.status_code == 200
    [told] = slack.wait_for_response("post")
    assert told["text"] == SLACK_DOWN and told["response_type"] == "ephemeral"

    settings = sender.command("settings", response_url=slack.response_url("settings"))  # Maria is an admin
    assert settings.status_code == 200
    [told] = slack.wait_for_response("settings")
    assert told["text"] == SLACK_DOWN, "not refused as if she were no admin"

    click = _click_new_post(sender, slack.response_url("click"))
    assert click.status_code == 200
    [told] = slack.wait_for_response("click")
    assert told["text"] == SLACK_DOWN

    ready = httpx.get(server.url + "/readyz", timeout=10)
    assert ready.status_code == 503
    assert ready.json()["slack"].startswith("unreachable") and ready.json()["scheduler"] == "running"
    assert httpx.get(server.url + "/healthz").status_code == 200
    assert server.alive()
    log = server.output()
    assert "Traceback" not in log and " 500" not in log
    assert "Slack cannot be reached right now" in log  # at start, once
    assert log.count("Slack cannot be reached (") == 1, "one line for the outage, not one a request"


def test_slack_answering_503_at_start_is_asked_again_until_it_answers(database, slack, tmp_path):
    for method in ("auth.test", "users.info", "views.open"):
        slack.html_error(method, 503)
    server = ServerProcess(server_env(database.url, slack), cwd=tmp_path).start()
    sender = SlackSender(server.url, server.env["SLACK_SIGNING_SECRET"])
    try:
        assert sender.command("post", response_url=slack.response_url("down")).status_code == 200
        assert slack.wait_for_response("down")[0]["text"] == SLACK_DOWN
        assert sender.command("settings", response_url=slack.response_url("admin")).status_code == 200
        assert slack.wait_for_response("admin")[0]["text"] == SLACK_DOWN
        ready = httpx.get(server.url + "/readyz", timeout=10).json()
        assert ready["slack"] == "unreachable (http_503)", ready

        slack.reset()  # Slack is back
        wait_until(lambda: httpx.get(server.url + "/readyz", timeout=10).status_code == 200,
                   "Slack asked again in the background", timeout=20)
        assert sender.command("post", response_url=slack.response_url("up")).status_code == 200
        slack.wait_for("views.open")
        assert "Slack answers again" in server.output() and "Traceback" not in server.output()
    finally:
        sender.close()
        assert server.stop() == 0


def test_many_workspaces_are_served_from_their_stored_installations_while_slack_is_unreachable(
        database, slack, tmp_path):
    port = free_port()
    env = base_env(SLACK_SIGNING_SECRET=SIGNING_SECRET, SLACK_CLIENT_ID=slack.client_id,
                   SLACK_CLIENT_SECRET=slack.client_secret, SLACK_API_URL=slack.api_url, DATABASE_URL=database.url,
                   PICMIM_SECRET_KEY=SECRET_KEY, PORT=str(port), PUBLIC_URL=f"http://127.0.0.1:{port}")
    server = ServerProcess(env, cwd=tmp_path).start()
    try:
        with httpx.Client(timeout=10) as browser:
            assert install(server, browser).status_code == 200  # Acme (T0002) installs Picmim
    finally:
        assert server.stop() == 0

    server = ServerProcess({**env, "SLACK_API_URL": f"http://127.0.0.1:{free_port()}/api/"}, cwd=tmp_path).start()
    sender = SlackSender(server.url, SIGNING_SECRET)
    try:
        assert sender.command("help", team_id="T0002", response_url=slack.response_url("m-help")).status_code == 200
        assert "/picmim connect" in str(slack.wait_for_response("m-help")[0]["blocks"])
        assert sender.command("post", team_id="T0002", response_url=slack.response_url("m-post")).status_code == 200
        assert slack.wait_for_response("m-post")[0]["text"] == SLACK_DOWN
        assert httpx.get(server.url + "/readyz", timeout=10).json()["slack"].startswith("unreachable")
    finally:
        sender.close()
        assert server.stop() == 0
    log = server.output()
    assert "Traceback" not in log and "xoxb-fake-T0002" not in log
    assert log.count("Slack cannot be reached (") == 2, "one line when requests meet it, one for the listener"


def test_only_slack_failing_for_now_counts_as_slack_unreachable():
    def response(status: int, data):
        return AsyncSlackResponse(client=None, http_verb="POST", api_url="https://slack.com/api/views.open",
                                  req_args={}, data=data, headers={}, status_code=status)

    assert slack_unreachable(SlackApiError("down", response(503, "<html>Slack is having trouble</html>")))
    assert slack_unreachable(SlackApiError("busy", response(200, {"ok": False, "error": "internal_error"})))
    assert not slack_unreachable(SlackApiError("no", response(200, {"ok": False, "error": "invalid_auth"})))
    assert not slack_unreachable(ConnectionRefusedError("a platform, not Slack"))  # raised outside slack_sdk
    assert not slack_unreachable(RuntimeError("a bug"))
