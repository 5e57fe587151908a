"""The two other ways to run: installable into many workspaces (bolt's OAuth flow), and Socket Mode."""

from __future__ import annotations

import asyncio
import re
import time
from html import unescape

import httpx
import pytest
from sqlalchemy import text

from bot.storage import db
from tests.conftest import SECRET_KEY, SIGNING_SECRET
from tests.server import ServerProcess, base_env, free_port
from tests.slack_requests import SlackSender, slash_command_body


def _query(url: str, sql: str):
    async def go():
        engine = db.create_engine(url)
        try:
            async with engine.connect() as conn:
                return (await conn.execute(text(sql))).all()
        finally:
            await engine.dispose()

    return asyncio.run(go())


@pytest.fixture
def multi_server(database, fake_slack, tmp_path):
    port = free_port()
    env = base_env(SLACK_SIGNING_SECRET=SIGNING_SECRET, SLACK_CLIENT_ID=fake_slack.client_id,
                   SLACK_CLIENT_SECRET=fake_slack.client_secret, SLACK_API_URL=fake_slack.api_url,
                   DATABASE_URL=database.url, PICMIM_SECRET_KEY=SECRET_KEY, PORT=str(port),
                   PUBLIC_URL=f"http://127.0.0.1:{port}")
    server = ServerProcess(env, cwd=tmp_path).start()
    yield server
    server.stop()


def _start_install(server, browser: httpx.Client) -> str:
    """Open /slack/install as a browser would; returns the 'Add to Slack' link.

    Bolt's state cookie is marked Secure; browsers keep Secure cookies for http://localhost but
    httpx does not, so it is carried by hand, as the browser would."""
    page = browser.get(server.url + "/slack/install")
    assert page.status_code == 200
    name, _, value = page.headers["set-cookie"].split(";", 1)[0].partition("=")
    browser.headers["Cookie"] = f"{name}={value}"
    return unescape(re.search(r'href="([^"]+/oauth/v2/authorize[^"]+)"', page.text).group(1))


def _install(server, browser: httpx.Client) -> httpx.Response:
    allow = browser.get(_start_install(server, browser))  # the fake's "Allow" redirects back to the app
    assert allow.status_code == 302
    return browser.get(allow.headers["location"])


def test_install_through_slack_oauth_then_serve_that_workspace(multi_server, slack, database):
    with httpx.Client(timeout=10) as browser:
        done = _install(multi_server, browser)
    assert done.status_code == 200
    assert str(done.url).startswith(multi_server.url + "/slack/oauth_redirect")
    exchange = slack.calls_to("oauth.v2.access")
    assert len(exchange) == 1

    rows = _query(database.url, "SELECT team_id, bot_token FROM slack_installations")
    assert [r[0] for r in rows] == ["T0002"]
    assert "xoxb-fake-T0002" not in rows[0][1], "the bot token is encrypted at rest"

    sender = SlackSender(multi_server.url, SIGNING_SECRET)
    try:
        help_reply = sender.command("help", team_id="T0002", response_url=slack.response_url("t2-help"))
        assert help_reply.status_code == 200
        assert "/picmim connect" in str(slack.wait_for_response("t2-help")[0]["blocks"])
        sender.event({"type": "app_home_opened", "user": "U0001", "tab": "home"}, team_id="T0002")
        publish = slack.wait_for("views.publish")[0]
        assert publish.token == "xoxb-fake-T0002"

        assert sender.event({"type": "app_uninstalled"}, team_id="T0002").status_code == 200
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and _query(database.url, "SELECT 1 FROM slack_installations"):
            time.sleep(0.1)
        assert _query(database.url, "SELECT 1 FROM slack_installations") == []
        assert _query(database.url, "SELECT uninstalled_at FROM workspaces WHERE team_id='T0002'")[0][0]
    finally:
        sender.close()
    assert "xoxb-fake-T0002" not in multi_server.output()


def test_oauth_callback_with_a_forged_or_reused_state_installs_nothing(multi_server, slack, database):
    with httpx.Client(follow_redirects=False, timeout=10) as browser:
        forged = browser.get(multi_server.url + "/slack/oauth_redirect",
                             params={"code": slack.issue_oauth_code("T0003", "xoxb-x"), "state": "forged"})
        assert forged.status_code >= 400
        back = browser.get(_start_install(multi_server, browser)).headers["location"]
        assert browser.get(back).status_code == 200
        replay = browser.get(back)
        assert replay.status_code >= 400
    assert len(slack.calls_to("oauth.v2.access")) == 1
    assert [r[0] for r in _query(database.url, "SELECT team_id FROM slack_installations")] == ["T0002"]


def test_a_workspace_that_never_installed_is_not_served(multi_server, slack):
    sender = SlackSender(multi_server.url, SIGNING_SECRET)
    try:
        r = sender.command("help", team_id="TNOPE")
        assert "/picmim connect" not in r.text
        assert multi_server.alive()
    finally:
        sender.close()


def test_socket_mode_receives_commands_over_the_socket(database, slack, tmp_path):
    env = base_env(SLACK_APP_TOKEN="xapp-1-A0PICMIM-fake", SLACK_BOT_TOKEN="xoxb-fake-T0001",
                   SLACK_API_URL=slack.api_url, DATABASE_URL=database.url, PICMIM_SECRET_KEY=SECRET_KEY)
    server = ServerProcess(env, cwd=tmp_path).start()
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not slack.socket_connected():
            time.sleep(0.05)
        assert slack.socket_connected()
        body = slash_command_body("help", response_url=slack.response_url("socket-help"))
        form = dict(x.split("=", 1) for x in body.decode().split("&"))
        payload = {k: httpx.QueryParams(f"v={v}")["v"] for k, v in form.items()}
        ack = slack.send_envelope("slash_commands", payload)
        assert ack is not None, "acknowledged over the socket"
        [listed] = slack.wait_for_response("socket-help")
        assert "/picmim connect [platform]" in str(listed["blocks"])
        # Over HTTP nothing is accepted: without a signing secret events come over the socket only.
        r = httpx.post(server.url + "/slack/events", content=slash_command_body("help"),
                       headers={"Content-Type": "application/x-www-form-urlencoded"})
        assert r.status_code == 404
        assert httpx.get(server.url + "/healthz").status_code == 200
    finally:
        server.stop()
    assert "xapp-1-A0PICMIM-fake" not in server.output()
