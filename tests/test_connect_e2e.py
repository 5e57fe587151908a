"""Connecting an account, end to end: the real server, the fake Slack and the fake X, driven as Slack
and a browser would drive them."""

from __future__ import annotations

import time
from urllib.parse import urlsplit

import httpx
import pytest

from bot import ids
from tests import journeys
from tests.journeys import X_USER, blocks_of, consent, private_link, shown

# The real server with X configured against the fake X, a browser and Slack (see tests/journeys.py).
fake_x, connect_server, x, browser = journeys.fake_x, journeys.connect_server, journeys.x, journeys.browser
sender = journeys.connect_sender


def _menu(action_id: str, value: str, *, rid: str) -> dict:
    """A choice in an overflow menu: Slack sends the chosen option, not a value."""
    payload = _interaction(action_id, value, rid=rid)
    payload["actions"] = [{"type": "overflow", "action_id": action_id, "block_id": "b",
                           "selected_option": {"text": {"type": "plain_text", "text": "…"}, "value": value},
                           "action_ts": str(time.time())}]
    return payload


def _elements(blocks: list) -> list[dict]:
    """Every interactive element: in actions blocks and as sections' accessories."""
    found = [e for b in blocks if b["type"] == "actions" for e in b["elements"]]
    return found + [b["accessory"] for b in blocks if b["type"] == "section" and "accessory" in b]


def _interaction(action_id: str, value: str, *, state: dict | None = None, rid: str = "act") -> dict:
    return {
        "type": "block_actions", "team": {"id": "T0001", "domain": "acme"}, "user": {"id": "U0001"},
        "api_app_id": "A0PICMIM", "token": "deprecated", "trigger_id": f"trigger-{time.time_ns()}",
        "channel": {"id": "D0001", "name": "directmessage"},
        "container": {"type": "message", "message_ts": "1700000000.000100", "channel_id": "D0001"},
        "message": {"ts": "1700000000.000100", "text": "", "blocks": []},
        "response_url": f"{_slack_url}/response/{rid}", "state": {"values": state or {}},
        "actions": [{"type": "button", "action_id": action_id, "block_id": "b", "value": value,
                     "action_ts": str(time.time())}],
    }


_slack_url = ""


@pytest.fixture(autouse=True)
def _remember_slack(slack):
    global _slack_url
    _slack_url = slack.url


async def _connect_x(sender, slack, browser, rid="connect") -> list:
    assert sender.command("connect x", response_url=slack.response_url(rid)).status_code == 200
    back = await consent(browser, private_link(slack, rid))
    page = await browser.get(str(back))
    assert page.status_code == 200, page.text
    assert "X is connected (Acme Marketing)" in page.text
    [dm] = slack.wait_for("chat.postMessage")
    assert dm.params["channel"] == "U0001"
    return blocks_of(dm.params["blocks"])


async def test_connect_x_choose_the_account_and_see_it_active(sender, slack, browser, x):
    blocks = await _connect_x(sender, slack, browser)
    [boxes] = [e for b in blocks if b["type"] == "actions" for e in b["elements"] if e["type"] == "checkboxes"]
    assert [o["value"] for o in boxes["options"]] == [X_USER]
    assert boxes["initial_options"] == boxes["options"], "one account: preselected"
    save = next(e for b in blocks if b["type"] == "actions" for e in b["elements"]
                if e.get("action_id") == ids.CHOOSE_ACCOUNTS_SAVE)
    choice = {f"{ids.CHOOSE_ACCOUNTS_BLOCK}0": {ids.CHOOSE_ACCOUNTS_BOXES: {
        "type": "checkboxes", "selected_options": [{"value": X_USER, "text": {"type": "plain_text",
                                                                               "text": "Acme Marketing"}}]}}}
    assert sender.interaction(_interaction(ids.CHOOSE_ACCOUNTS_SAVE, save["value"], state=choice)).status_code == 200
    [update] = slack.wait_for("chat.update")
    assert "Picmim now manages *Acme Marketing* on X" in shown(update.params["blocks"])

    sender.command("accounts", response_url=slack.response_url("list"))
    [listing] = slack.wait_for_response("list")
    text = shown(listing["blocks"])
    assert "*X* · Acme Marketing: :large_green_circle: Active" in text
    assert "Last sync: " in text and "(CET)" in text, "shown in the viewer's own time zone"
    assert "Accounts: Acme Marketing (profile)" in text or "Accounts: Acme Marketing (" in text
    assert "tweet.write" not in text and "Permissions granted" not in text, "scopes live in /picmim permissions"
    assert "xoxb" not in text and "access_token" not in text
    # A working connection: no button shouting at the marketer, its actions in a "⋯" menu.
    [menu] = _elements(listing["blocks"])
    assert menu["type"] == "overflow" and menu["action_id"] == ids.ACCOUNT_MENU
    assert [o["text"]["text"] for o in menu["options"]] == ["Refresh", "Reconnect", "Posting slots…", "Disconnect…"]


async def test_the_link_works_once(sender, slack, browser, x):
    await _connect_x(sender, slack, browser)
    assert sender.command("connect x", response_url=slack.response_url("again")).status_code == 200
    back = await consent(browser, private_link(slack, "again"))
    first = await browser.get(str(back))
    assert first.status_code == 200
    assert first.headers["X-Frame-Options"] == "DENY" and first.headers["Referrer-Policy"] == "no-referrer"
    assert "default-src 'none'" in first.headers["Content-Security-Policy"]
    replay = await browser.get(str(back))
    assert replay.status_code == 400 and "already used" in replay.text


async def test_forged_state_and_denied_consent_store_nothing(sender, slack, browser, x, connect_server):
    forged = await browser.get(f"{connect_server.url}/oauth/x/callback", params={"code": "c", "state": "made-up"})
    assert forged.status_code == 400 and "not one Picmim made" in forged.text
    assert forged.headers["X-Frame-Options"] == "DENY" and forged.headers["Referrer-Policy"] == "no-referrer"
    assert "default-src 'none'" in forged.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in forged.headers["Content-Security-Policy"]
    sender.command("connect x", response_url=slack.response_url("deny"))
    link = private_link(slack, "deny")
    state = httpx.URL(link).path.rsplit("/", 1)[1]  # the link's page: /connect/<state>
    denied = await browser.get(f"{connect_server.url}/oauth/x/callback",
                               params={"error": "access_denied", "state": state})
    assert denied.status_code == 400 and "You chose not to allow Picmim access" in denied.text
    [told] = slack.wait_for("chat.postMessage")
    assert told.params["text"] == "X: You chose not to allow Picmim access, so nothing was connected."
    blocks = blocks_of(told.params["blocks"])
    assert shown(blocks).count("connected") == 1, "said once"
    [again] = _elements(blocks)
    assert (again["text"]["text"], again["action_id"], again["value"]) == ("Connect X again", ids.CONNECT_PLATFORM,
                                                                          "x")


async def test_a_platform_not_set_up_is_said_in_words_and_the_settings_names_only_to_admins(sender, slack,
                                                                                             fake_slack):
    fake_slack.teams["T0001"].users["U0002"] = {"id": "U0002", "name": "sam", "tz": "Europe/London",
                                                "is_admin": False}
    sender.command("connect linkedin", user_id="U0002", response_url=slack.response_url("nolinkedin"))
    [reply] = slack.wait_for_response("nolinkedin")
    assert reply["text"] == ("LinkedIn is not set up on this Picmim yet: ask whoever runs Picmim for your team to "
                             "add it.")
    sender.command("connect linkedin", response_url=slack.response_url("nolinkedin-admin"))
    [admin] = slack.wait_for_response("nolinkedin-admin")
    assert "LINKEDIN_CLIENT_ID and LINKEDIN_CLIENT_SECRET" in admin["text"]
    assert "python -m bot check" in admin["text"]


async def test_facebook_groups_are_explained_honestly(sender, slack):
    sender.command("connect facebook-groups", response_url=slack.response_url("groups"))
    [reply] = slack.wait_for_response("groups")
    assert "Meta closed the Groups API to every app on 22 April 2024" in reply["text"]


async def test_the_platform_list_and_permissions(sender, slack, fake_slack):
    fake_slack.teams["T0001"].users["U0002"] = {"id": "U0002", "name": "sam", "tz": "Europe/London",
                                                "is_admin": False}
    sender.command("connect", user_id="U0002", response_url=slack.response_url("list-platforms"))
    [reply] = slack.wait_for_response("list-platforms")
    text = shown(reply["blocks"])
    assert '"value": "x"' in text, "X is set up: it has a Connect button"
    assert "*Not set up yet*: Instagram (through Meta)," in text and "LinkedIn" in text
    for jargon in ("_CLIENT_ID", "python -m bot", "tweet.write", "PDS"):
        assert jargon not in text, jargon
    assert "`/picmim permissions`" in text, "the permissions are one command away"
    sender.command("connect", response_url=slack.response_url("list-platforms-admin"))
    [admin] = slack.wait_for_response("list-platforms-admin")
    assert "LINKEDIN_CLIENT_ID/_SECRET" in shown(admin["blocks"]), "an admin sees what the server needs"
    perms = sender.command("permissions").json()
    text = shown(perms["blocks"])
    assert "`tweet.write`: to publish posts" in text and "*Bluesky*" in text
    assert "`youtube.upload`" in text, "Google scopes shown by their short names"


async def test_refresh_reconnect_and_disconnect(sender, slack, browser, x, connect_server):
    blocks = await _connect_x(sender, slack, browser, rid="c2")
    save = next(e for b in blocks if b["type"] == "actions" for e in b["elements"]
                if e.get("action_id") == ids.CHOOSE_ACCOUNTS_SAVE)
    choice = {f"{ids.CHOOSE_ACCOUNTS_BLOCK}0": {ids.CHOOSE_ACCOUNTS_BOXES: {
        "type": "checkboxes", "selected_options": [{"value": X_USER}]}}}
    sender.interaction(_interaction(ids.CHOOSE_ACCOUNTS_SAVE, save["value"], state=choice))
    slack.wait_for("chat.update")
    sender.command("accounts", response_url=slack.response_url("l2"))
    [listing] = slack.wait_for_response("l2")
    [menu] = [e for e in _elements(listing["blocks"]) if e["action_id"] == ids.ACCOUNT_MENU]
    choice = {o["text"]["text"]: o["value"] for o in menu["options"]}
    connection_id = choice["Refresh"].split(":")[1]

    # Refresh renews the token (X rotates refresh tokens) and syncs.
    sender.interaction(_menu(ids.ACCOUNT_MENU, choice["Refresh"], rid="refresh"))
    [refreshed] = slack.wait_for_response("refresh")
    assert "is connected and up to date" in shown(refreshed["blocks"])
    assert len(x.calls_to("/2/oauth2/token")) == 2, "the code exchange, then the refresh"

    # The member withdraws Picmim at X: Refresh says so, and the row offers Reconnect, first and primary.
    x.revoke(X_USER)
    sender.interaction(_menu(ids.ACCOUNT_MENU, choice["Refresh"], rid="refresh2"))
    [broken] = slack.wait_for_response("refresh2")
    assert "Reconnect" in shown(broken["blocks"])
    assert "*Needs attention (1)*" in shown(broken["blocks"])
    [fix, menu] = _elements(broken["blocks"])
    assert (fix["text"]["text"], fix.get("style"), fix["value"]) == ("Reconnect", "primary", connection_id)
    assert menu["type"] == "overflow"

    # Reconnect gives a new private link; consenting again mends the same connection.
    sender.interaction(_interaction(ids.ACCOUNT_RECONNECT, connection_id, rid="reconnect"))
    back = await consent(browser, private_link(slack, "reconnect"))
    page = await browser.get(str(back))
    assert page.status_code == 200 and "X is connected" in page.text
    sender.command("accounts", response_url=slack.response_url("l3"))
    [mended] = slack.wait_for_response("l3")
    assert ":large_green_circle: Active" in shown(mended["blocks"])
    assert "Needs attention" not in shown(mended["blocks"])
    assert [e["type"] for e in _elements(mended["blocks"])] == ["overflow"], "no Reconnect on a working row"

    # Reconnect is in the menu too.
    sender.interaction(_menu(ids.ACCOUNT_MENU, choice["Reconnect"], rid="reconnect-menu"))
    assert private_link(slack, "reconnect-menu").startswith("http")

    # Disconnect… asks first, in a message of its own whose button has Slack's confirm dialog.
    sender.interaction(_menu(ids.ACCOUNT_MENU, choice["Disconnect…"], rid="ask"))
    [ask] = slack.wait_for_response("ask")
    assert ask["replace_original"] is False and "Disconnect *X · Acme Marketing*?" in shown(ask["blocks"])
    [disconnect] = _elements(ask["blocks"])
    assert disconnect["action_id"] == ids.ACCOUNT_DISCONNECT and disconnect["style"] == "danger"
    assert disconnect["confirm"]["confirm"]["text"] == "Disconnect"
    assert not x.calls_to("/2/oauth2/revoke"), "asking disconnects nothing"

    # Disconnect (after Slack's confirm dialog) deletes the sign-in and withdraws it at X.
    sender.interaction(_interaction(ids.ACCOUNT_DISCONNECT, disconnect["value"], rid="disconnect"))
    [gone] = slack.wait_for_response("disconnect")
    text = shown(gone["blocks"])
    assert "Disconnected Acme Marketing on X" in text and "withdrawn at the platform" in text
    assert "No accounts are connected yet" in text
    revokes = x.calls_to("/2/oauth2/revoke")
    assert revokes and all(c.status == 200 for c in revokes), "access and refresh token withdrawn at X"
    assert urlsplit(connect_server.url).hostname == "127.0.0.1"

    # A forged or outdated menu value is refused in words.
    sender.interaction(_menu(ids.ACCOUNT_MENU, "explode:1", rid="forged"))
    [forged] = slack.wait_for_response("forged")
    assert "out of date" in forged["text"]


async def test_a_declined_permission_is_named_with_the_feature_it_disables(sender, slack, browser, x):
    x.consent_as(X_USER, scopes={"tweet.read", "users.read", "offline.access", "media.write"})
    sender.command("connect x", response_url=slack.response_url("declined"))
    back = await consent(browser, private_link(slack, "declined"))
    page = await browser.get(str(back))
    assert page.status_code == 200
    assert "You did not allow: tweet.write (to publish posts)" in page.text
    [dm] = slack.wait_for("chat.postMessage")
    blocks = blocks_of(dm.params["blocks"])
    text = shown(blocks)
    assert "for these accounts it cannot:\\n• publish posts\\n" in text and "tweet.write" not in text
    assert "press Reconnect" in text
    reconnect = next(e for e in _elements(blocks) if e.get("action_id") == ids.ACCOUNT_RECONNECT)
    assert reconnect["text"]["text"] == "Reconnect"
    # The button works from the direct message: a new private link for the same connection.
    sender.interaction(_interaction(ids.ACCOUNT_RECONNECT, reconnect["value"], rid="declined-reconnect"))
    assert "Reconnect Acme Marketing" in shown(slack.wait_for_response("declined-reconnect")[0]["blocks"])


def _settings_submission(policy: str, users: list[str], user_id: str = "U0001") -> dict:
    return {"type": "view_submission", "team": {"id": "T0001", "domain": "acme"}, "user": {"id": user_id},
            "api_app_id": "A0PICMIM", "token": "deprecated", "trigger_id": f"trigger-{time.time_ns()}",
            "view": {"id": "VSETTINGS", "type": "modal", "callback_id": ids.SETTINGS_VIEW, "private_metadata": "",
                     "hash": "h1", "state": {"values": {
                         ids.SETTINGS_MANAGERS_BLOCK: {ids.SETTINGS_MANAGERS_INPUT: {
                             "type": "radio_buttons", "selected_option": {"value": policy}}},
                         ids.SETTINGS_MANAGER_USERS_BLOCK: {ids.SETTINGS_MANAGER_USERS_INPUT: {
                             "type": "multi_users_select", "selected_users": users}}}}}}


async def test_admins_can_limit_who_connects_accounts(sender, slack, fake_slack):
    fake_slack.teams["T0001"].users["U0002"] = {"id": "U0002", "name": "sam", "tz": "Europe/London",
                                                "is_admin": False}
    sender.command("settings", user_id="U0002", response_url=slack.response_url("not-admin"))
    [refused] = slack.wait_for_response("not-admin")
    assert refused["text"] == "Only workspace admins can change Picmim's settings."

    sender.command("settings", response_url=slack.response_url("admin"))
    [opened] = slack.wait_for("views.open")
    assert "Who may connect and disconnect social accounts" in shown(opened.params["view"])
    empty_list = sender.interaction(_settings_submission("list", []))
    assert empty_list.json()["response_action"] == "errors"
    try:
        assert sender.interaction(_settings_submission("admins", [])).status_code == 200
        sender.command("connect x", user_id="U0002", response_url=slack.response_url("member"))
        [blocked] = slack.wait_for_response("member")
        assert "Only workspace admins may connect or disconnect accounts here." in blocked["text"]
        sender.interaction(_settings_submission("list", ["U0002"]))
        sender.command("connect x", user_id="U0002", response_url=slack.response_url("listed"))
        [allowed] = slack.wait_for_response("listed")
        assert "Open X" in shown(allowed["blocks"])
    finally:
        sender.interaction(_settings_submission("members", []))


def _view_click(action_id: str, value: str, view_id: str, view_type: str) -> dict:
    return {"type": "block_actions", "team": {"id": "T0001", "domain": "acme"}, "user": {"id": "U0001"},
            "api_app_id": "A0PICMIM", "token": "deprecated", "trigger_id": f"trigger-{time.time_ns()}",
            "container": {"type": "view", "view_id": view_id},
            "view": {"id": view_id, "type": view_type, "blocks": [], "state": {"values": {}}, "hash": "h"},
            "actions": [{"type": "button", "action_id": action_id, "block_id": "b", "value": value,
                         "action_ts": str(time.time())}]}


async def test_connecting_from_app_home_works_in_a_modal(sender, slack, browser, x):
    sender.event({"type": "app_home_opened", "user": "U0001", "tab": "home"})
    [home] = slack.wait_for("views.publish")
    assert ids.HOME_CONNECT in shown(home.params["view"])

    assert sender.interaction(_view_click(ids.HOME_CONNECT, "", "VHOME", "home")).status_code == 200
    [opened] = slack.wait_for("views.open")
    modal = blocks_of(opened.params["view"])
    assert modal["type"] == "modal" and '"value": "x"' in shown(modal["blocks"])

    sender.interaction(_view_click(ids.CONNECT_PLATFORM, "x", "VMODAL", "modal"))
    [updated] = slack.wait_for("views.update")
    assert updated.params["view_id"] == "VMODAL"
    link = next(e["url"] for b in blocks_of(updated.params["view"])["blocks"] if b["type"] == "actions"
                for e in b["elements"] if "url" in e)
    back = await consent(browser, link)
    page = await browser.get(str(back))
    assert page.status_code == 200 and "X is connected" in page.text
