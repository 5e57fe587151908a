"""The real server process, driven over HTTP the way Slack drives it."""

from __future__ import annotations

import asyncio
import json
import time

import httpx
import pytest

from bot.views.help import SUBCOMMANDS
from tests.conftest import SIGNING_SECRET
from tests.slack_requests import slash_command_body


def _all_text(blocks: list[dict]) -> str:
    return json.dumps(blocks)


def test_health_answers(server):
    r = httpx.get(server.url + "/healthz")
    assert r.status_code == 200
    assert r.json() == {"ok": True, "database": "ok", "slack_mode": "single"}


def _help(sender, slack, text: str = "help", user_id: str = "U0001", rid: str = "help") -> str:
    """What /picmim shows for `text`: acknowledged at once, the list through response_url."""
    r = sender.command(text, user_id=user_id, response_url=slack.response_url(rid))
    assert r.status_code == 200
    [body] = slack.wait_for_response(rid)
    assert body["response_type"] == "ephemeral"
    return _all_text(body["blocks"])


def test_help_lists_every_subcommand_ephemerally_and_fast(sender, slack):
    # The bot token was checked with auth.test at start; the ack itself waits for nothing.
    started = time.monotonic()
    r = sender.command("help", response_url=slack.response_url())
    elapsed = time.monotonic() - started
    assert r.status_code == 200
    assert elapsed < 3, "Slack gives up on a slash command after 3 seconds"
    [body] = slack.wait_for_response("1")
    assert body.get("response_type") == "ephemeral"
    text = _all_text(body["blocks"])
    for sub in SUBCOMMANDS:
        assert f"/picmim {sub.usage}" in text, sub.name
    assert "Only you can see this message" in text
    assert [c.method for c in slack.calls] == ["users.info"], "only who is asking (admin or not)"


@pytest.mark.parametrize("text", ["", "   ", "HELP"])
def test_bare_command_and_help_in_any_case_show_help(sender, slack, text):
    shown = _help(sender, slack, text)
    assert "/picmim connect [platform]" in shown
    assert "I don't know" not in shown


def test_unknown_subcommand_says_so_and_lists_the_rest(sender, slack):
    text = _help(sender, slack, "publishh everything")
    assert "I don't know `/picmim publishh`" in text and "Did you mean" not in text
    assert "/picmim post [text]" in text


def test_a_typo_gets_did_you_mean(sender, slack):
    text = _help(sender, slack, "quee")
    assert "I don't know `/picmim quee`. Did you mean `/picmim queue`?" in text


def test_members_help_names_the_admin_commands_and_says_they_need_an_admin(sender, slack):
    admin = _help(sender, slack, "help", rid="admin")
    member = _help(sender, slack, "help", user_id="U0002", rid="member")  # not an admin (unknown to users.info)
    assert "*Admin*" in admin and "needs a workspace admin" not in admin
    assert "*Admin*" not in member and "`/picmim settings` needs a workspace admin: approvals" in member
    for text in (admin, member):
        assert '"action_id": "new_post"' in text and '"action_id": "home_connect"' in text


def test_every_subcommand_the_help_lists_is_available(sender, slack):
    # stats and digest were the last ones "coming soon" (issue 10).
    text = _help(sender, slack)
    assert "/picmim stats" in text and "/picmim digest" in text and "(coming soon)" not in text


def test_unsigned_wrongly_signed_and_stale_requests_are_refused(sender, slack, server):
    body = slash_command_body("help")
    unsigned = httpx.post(server.url + "/slack/events", content=body,
                          headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert unsigned.status_code == 401
    assert sender.post(body, "application/x-www-form-urlencoded", secret="not-the-secret").status_code == 401
    stale = int(time.time()) - 6 * 60
    assert sender.post(body, "application/x-www-form-urlencoded", timestamp=stale).status_code == 401
    tampered = sender.post(body, "application/x-www-form-urlencoded",
                           headers={"X-Slack-Signature": "v0=" + "0" * 64})
    assert tampered.status_code == 401
    assert slack.calls == [], "nothing may be done for a refused request"


@pytest.mark.parametrize("body,content_type", [
    (b"{not json", "application/json"),
    (b"[1, 2, 3]", "application/json"),
    (b"payload=%7Bbroken", "application/x-www-form-urlencoded"),
    (b"payload=%5B%5D", "application/x-www-form-urlencoded"),
    (b"hello=world", "application/x-www-form-urlencoded"),
    (b"\xff\xfe\x00", "application/x-www-form-urlencoded"),
    (b"<xml/>", "text/xml"),
])
def test_signed_but_malformed_bodies_get_400_and_the_server_keeps_serving(sender, server, body, content_type):
    r = sender.post(body, content_type)
    assert r.status_code == 400
    assert r.json()["ok"] is False
    assert server.alive()
    assert sender.command("help").status_code == 200


def test_url_verification_challenge_is_answered(sender):
    r = sender.post(json.dumps({"token": "t", "challenge": "c-123", "type": "url_verification"}).encode(),
                    "application/json")
    assert r.status_code == 200
    assert "c-123" in r.text


def test_app_home_shows_the_dashboard_and_what_to_do_first(sender, slack):
    r = sender.event({"type": "app_home_opened", "user": "U0001", "channel": "D0001", "tab": "home",
                      "event_ts": str(time.time())})
    assert r.status_code == 200
    call = slack.wait_for("views.publish")[0]
    assert call.params["user_id"] == "U0001"
    assert call.token == "xoxb-fake-T0001"
    view = json.loads(call.params["view"]) if isinstance(call.params["view"], str) else call.params["view"]
    text = _all_text(view["blocks"])
    assert "No social accounts are connected yet: press *Connect an account*" in text
    assert "Needs attention" in text and "Nothing planned this week" in text
    assert "Facebook Groups* cannot be connected" in text, "U0001 is an admin: the setup part"


def test_messages_tab_opening_does_not_publish_home(sender, slack):
    sender.event({"type": "app_home_opened", "user": "U0001", "channel": "D0001", "tab": "messages"})
    time.sleep(0.5)
    assert slack.calls_to("views.publish") == []


def test_app_uninstalled_marks_the_workspace(sender, slack, module_database):
    from sqlalchemy import select

    from bot.storage import db
    from bot.storage.models import Workspace

    sender.event({"type": "app_home_opened", "user": "U0001", "tab": "home"})  # workspace row exists
    slack.wait_for("views.publish")
    assert sender.event({"type": "app_uninstalled"}).status_code == 200

    async def uninstalled_at():
        engine = db.create_engine(module_database.url)
        try:
            async with db.session_factory(engine)() as session:
                return await session.scalar(select(Workspace.uninstalled_at).where(Workspace.team_id == "T0001"))
        finally:
            await engine.dispose()

    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and asyncio.run(uninstalled_at()) is None:
        time.sleep(0.1)
    assert asyncio.run(uninstalled_at()) is not None


def test_logs_never_hold_tokens_or_the_signing_secret(server, sender):
    sender.command("help")
    output = server.output()
    assert "xoxb-fake-T0001" not in output
    assert SIGNING_SECRET not in output


def wait_for_log(server, since: int, needle: str, timeout: float = 5.0) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        logged = server.output()[since:]
        if needle in logged:
            return logged
        time.sleep(0.05)
    raise AssertionError(f"the log never said {needle!r}:\n{server.output()[since:]}")


def test_a_huge_query_string_is_one_warning_line_not_a_traceback(server):
    before = len(server.output())
    answer = httpx.get(server.url + "/healthz?q=" + "a" * 20_000)
    assert answer.status_code in (400, 414)
    assert httpx.get(server.url + "/healthz").status_code == 200
    logged = wait_for_log(server, before, "Refused a malformed HTTP request")
    assert "WARNING aiohttp.server: Refused a malformed HTTP request: LineTooLong" in logged
    assert "Error handling request" not in logged and "ERROR aiohttp" not in logged, logged


def test_bluesky_client_metadata_is_served_at_its_own_client_id(server):
    r = httpx.get(server.url + "/oauth/bluesky/client-metadata.json")
    assert r.status_code == 200
    document = r.json()
    public = f"http://localhost:{server.port}"  # PUBLIC_URL unset: this machine on the server's PORT
    assert document["client_id"] == f"{public}/oauth/bluesky/client-metadata.json"
    assert document["redirect_uris"] == [f"{public}/oauth/bluesky/callback"]
    assert document["dpop_bound_access_tokens"] is True
    assert document["token_endpoint_auth_method"] == "private_key_jwt"
    assert document["jwks_uri"] == f"{public}/oauth/bluesky/jwks.json"


def test_bluesky_public_key_made_on_first_start_is_served(server):
    jwks = httpx.get(server.url + "/oauth/bluesky/jwks.json").json()
    [key] = jwks["keys"]
    assert (key["kty"], key["crv"], key["alg"], key["use"]) == ("EC", "P-256", "ES256", "sig") and key["kid"]
    assert "d" not in key  # the public half only


def test_new_post_on_the_help_message_opens_the_compose_window(sender, slack):
    _help(sender, slack)
    payload = {"type": "block_actions", "team": {"id": "T0001", "domain": "acme"}, "user": {"id": "U0001"},
               "api_app_id": "A0PICMIM", "token": "deprecated", "trigger_id": f"trigger-{time.time_ns()}",
               "channel": {"id": "C0001", "name": "marketing"},
               "container": {"type": "message", "message_ts": "1700000000.000100", "channel_id": "C0001",
                             "is_ephemeral": True},
               "response_url": slack.response_url("after-help"),
               "actions": [{"type": "button", "action_id": "new_post", "block_id": "b", "action_ts": "1"}]}
    assert sender.interaction(payload).status_code == 200
    [opened] = slack.wait_for("views.open")
    view = json.loads(opened.params["view"]) if isinstance(opened.params["view"], str) else opened.params["view"]
    assert view["type"] == "modal"  # nothing is connected on this server: the window says how to start
