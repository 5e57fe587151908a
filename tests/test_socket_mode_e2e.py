"""Socket Mode when Slack refuses the app token or cannot be reached: a refused token stops the process with one
line; an unreachable Slack is tried again with growing waits while the server and its jobs run, /readyz saying
why, and events arrive once it connects."""

from __future__ import annotations

import time

import httpx
import pytest
from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.sandbox.fakes.slack import APP_TOKEN
from bot.socket_mode import AppTokenRefused, SocketMode
from tests.conftest import SECRET_KEY
from tests.journeys import wait_until
from tests.server import ServerProcess, base_env, free_port, run_cli
from tests.slack_requests import slash_command_body


def _env(database, api_url: str, app_token: str = APP_TOKEN) -> dict[str, str]:
    return base_env(SLACK_APP_TOKEN=app_token, SLACK_BOT_TOKEN="xoxb-fake-T0001", SLACK_API_URL=api_url,
                    DATABASE_URL=database.url, PICMIM_SECRET_KEY=SECRET_KEY, PORT=str(free_port()))


def _readyz(server) -> httpx.Response:
    return httpx.get(server.url + "/readyz", timeout=10)


def _help_over_the_socket(slack, rid: str) -> dict:
    form = dict(x.split("=", 1) for x in slash_command_body("help", response_url=slack.response_url(rid))
                .decode().split("&"))
    slack.send_envelope("slash_commands", {k: httpx.QueryParams(f"v={v}")["v"] for k, v in form.items()})
    [listed] = slack.wait_for_response(rid)
    return listed


def test_a_refused_app_token_stops_the_server_with_one_line(database, slack, tmp_path):
    result = run_cli(env=_env(database, slack.api_url, "xapp-1-A0PICMIM-revoked"), cwd=tmp_path)
    assert result.returncode == 1, result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert lines[-1] == (
        "Picmim cannot start: Slack refused SLACK_APP_TOKEN (invalid_auth); make an app-level token with the "
        "connections:write scope under Basic Information → App-Level Tokens, and check that Socket Mode is on "
        "for the app.")
    assert not [line for line in lines if " ERROR " in line or " WARNING " in line], "one line says it"
    assert "Traceback" not in result.stdout + result.stderr
    assert "xapp-1-A0PICMIM-revoked" not in result.stdout + result.stderr
    assert len(slack.calls_to("apps.connections.open")) == 1, "asked once, not retried forever"


async def test_a_bot_token_given_as_the_app_token_is_refused_as_slack_says(slack):
    bolt = AsyncApp(client=AsyncWebClient(token="xoxb-fake-T0001", base_url=slack.api_url), signing_secret="s",
                    request_verification_enabled=False)
    socket = SocketMode(bolt, "xoxb-fake-T0001")
    try:
        with pytest.raises(AppTokenRefused, match=r"\(not_allowed_token_type\)"):
            await socket.start()
    finally:
        await socket.close()


def test_with_slack_unreachable_the_server_runs_its_jobs_and_readiness_says_why(database, tmp_path):
    server = ServerProcess(_env(database, f"http://127.0.0.1:{free_port()}/api/"), cwd=tmp_path).start(timeout=30)
    try:
        body = wait_until(lambda: (r := _readyz(server).json())["scheduler"] == "running" and r,
                          "the jobs to start", timeout=20)
        assert body["ready"] is False and body["database"] == "ok", "the jobs do not wait for Slack"
        assert body["slack"].startswith("Socket Mode not connected: cannot reach Slack (")
        assert httpx.get(server.url + "/healthz").status_code == 200
        assert "Socket Mode is not connected: cannot reach Slack" in server.output()
    finally:
        assert server.stop() == 0
    assert "Traceback" not in server.output()


def test_slack_failing_at_start_is_tried_again_until_the_socket_connects(database, slack, tmp_path):
    slack.html_error("apps.connections.open", 503)
    server = ServerProcess(_env(database, slack.api_url), cwd=tmp_path).start(timeout=30)
    try:
        wait_until(lambda: _readyz(server).json()["scheduler"] == "running", "the jobs to start", timeout=20)
        assert _readyz(server).json()["slack"] == "Socket Mode not connected: cannot reach Slack (http_503)"
        assert not slack.socket_connected()
        slack.reset()  # Slack is back
        wait_until(slack.socket_connected, "the socket to connect", timeout=20)
        wait_until(lambda: _readyz(server).status_code == 200, "readiness", timeout=10)
        assert "/picmim connect" in str(_help_over_the_socket(slack, "socket-help")["blocks"])
        tries = [c for c in slack.calls_to("apps.connections.open")]
        assert len(tries) == 1, "connected at the first try once Slack was back"
    finally:
        slack.reset()
        assert server.stop() == 0
    assert "Traceback" not in server.output()


def test_an_app_token_slack_refuses_once_it_answers_stops_the_server(database, slack, tmp_path):
    slack.html_error("apps.connections.open", 503)
    server = ServerProcess(_env(database, slack.api_url, "xapp-1-A0PICMIM-revoked"), cwd=tmp_path).start(timeout=30)
    try:
        slack.reset()  # Slack answers again, and refuses the token
        deadline = time.monotonic() + 20
        while server.alive() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not server.alive()
        assert server.stop() == 1
    finally:
        slack.reset()
        server.stop()
    output = server.output()
    assert "Picmim cannot start: Slack refused SLACK_APP_TOKEN (invalid_auth)" in output
    assert "Traceback" not in output
