"""A new account where roles are in use, end to end: a member who is not an admin connects X through the real
server (the private link, X's consent page, choosing the account in Slack); the account is theirs and the admins'
until an admin sets its roles, they are told so, and `/picmim accounts` does not list it as open to everyone."""

from __future__ import annotations

import asyncio
import time

from sqlalchemy import select

from bot import ids
from bot.services import roles
from bot.services.workspaces import ensure_workspace
from bot.storage.models import Account, AuditEntry, Connection, RoleGrant
from tests import journeys
from tests.journeys import X_USER, blocks_of, consent, private_link, shown

fake_x, connect_server, x, browser = journeys.fake_x, journeys.connect_server, journeys.x, journeys.browser
sender = journeys.connect_sender

MEMBER, ADMIN = "U0MEMBER", "U0001"  # U0001 is a Slack admin


_run = journeys.in_database


def _choose(slack, user: str, value: str, rid: str) -> dict:
    return {
        "type": "block_actions", "team": {"id": "T0001", "domain": "acme"}, "user": {"id": user, "team_id": "T0001"},
        "api_app_id": "A0PICMIM", "token": "deprecated", "trigger_id": f"trigger-{time.time_ns()}",
        "channel": {"id": "D0MEMBER", "name": "directmessage"},
        "container": {"type": "message", "message_ts": "1700000000.000200", "channel_id": "D0MEMBER"},
        "message": {"ts": "1700000000.000200", "text": "", "blocks": []},
        "response_url": slack.response_url(rid),
        "state": {"values": {f"{ids.CHOOSE_ACCOUNTS_BLOCK}0": {ids.CHOOSE_ACCOUNTS_BOXES: {
            "type": "checkboxes", "selected_options": [{"value": X_USER, "text": {
                "type": "plain_text", "text": "Acme Marketing"}}]}}}},
        "actions": [{"type": "button", "action_id": ids.CHOOSE_ACCOUNTS_SAVE, "block_id": "b", "value": value,
                     "action_ts": str(time.time())}]}


async def test_an_account_a_member_connects_where_roles_are_in_use_is_not_open_to_everyone(
        sender, slack, browser, x, module_database):
    slack.teams["T0001"].users[MEMBER] = {"id": MEMBER, "name": "mo", "tz": "Europe/Madrid", "is_admin": False}

    async def roles_in_use(session):  # an account of the brand, with roles already
        workspace = await ensure_workspace(session, "T0001")
        await session.flush()
        connection = Connection(workspace_id=workspace.id, platform="bluesky", external_user_id="brand",
                                display_name="Brand on Bluesky")
        session.add(connection)
        await session.flush()
        account = Account(workspace_id=workspace.id, connection_id=connection.id, platform="bluesky",
                          external_id="brand", kind="profile", name="Brand on Bluesky")
        session.add(account)
        await session.flush()
        await roles.save_roles(session, workspace.id, roles.account_scope(account.id),
                               {roles.PUBLISHER: roles.Pick(("U0SOMEONE",))})
    await asyncio.to_thread(_run, module_database.url, roles_in_use)

    assert sender.command("connect x", user_id=MEMBER, response_url=slack.response_url("mo-connect")).status_code == 200
    back = await consent(browser, private_link(slack, "mo-connect"))
    assert (await browser.get(str(back))).status_code == 200
    [dm] = slack.wait_for("chat.postMessage")
    save = next(e for b in blocks_of(dm.params["blocks"]) if b["type"] == "actions" for e in b["elements"]
                if e.get("action_id") == ids.CHOOSE_ACCOUNTS_SAVE)
    assert sender.interaction(_choose(slack, MEMBER, save["value"], "mo-choose")).status_code == 200
    [update] = slack.wait_for("chat.update")
    said = shown(update.params["blocks"])
    assert "Picmim now manages *Acme Marketing* on X" in said
    assert "only you and the admins may post to Acme Marketing for now" in said

    def grants(session):
        return session.execute(select(RoleGrant.role, RoleGrant.user_ids).join(
            Account, Account.id == RoleGrant.account_id).where(Account.platform == "x"))
    assert [tuple(r) for r in await asyncio.to_thread(_run, module_database.url, grants)] == [
        ("publisher", [MEMBER])]
    entries = await asyncio.to_thread(_run, module_database.url, lambda s: s.scalars(
        select(AuditEntry.action).where(AuditEntry.subject == "roles")))
    assert list(entries) == ["roles changed", "roles changed"], "the brand's roles, then the new account's"

    assert sender.command("accounts", user_id=ADMIN, response_url=slack.response_url("admin-accounts")).status_code \
        == 200
    [listing] = slack.wait_for_response("admin-accounts")
    assert "has no roles yet" not in shown(listing["blocks"])
