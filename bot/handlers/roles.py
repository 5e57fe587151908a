"""`/picmim roles` (also "Roles…" in `/picmim settings`): Picmim's admins, who may post where, and account groups.
Admins only; the rules themselves are bot/services/roles.py."""

from __future__ import annotations

import logging

from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError

from bot import ids
from bot.handlers import forms
from bot.handlers.settings import usergroup_choices
from bot.payloads import GroupOrigin, GroupRef, RolesOrigin
from bot.services import analytics, roles
from bot.services.roles import GroupForm, Pick, RolesError
from bot.slack_errors import error_of
from bot.views import roles as views

log = logging.getLogger(__name__)

GROUP_ERRORS = {roles.NAME: ids.GROUP_NAME_BLOCK, roles.ACCOUNTS: ids.GROUP_ACCOUNTS_BLOCK}


def register(app: AsyncApp) -> None:
    app.view(ids.ROLES_VIEW)(roles_submitted)
    app.action(ids.ROLES_SCOPE_INPUT)(scope_chosen)
    app.action(ids.ROLES_GROUP_NEW)(group_button)
    app.action(ids.ROLES_GROUP_EDIT)(group_button)
    app.action(ids.ROLES_OPEN)(open_from_settings)
    app.view(ids.GROUP_VIEW)(group_submitted)


async def _roles_view(client, db, workspace, scope: str | None = None) -> dict:
    here = await workspace()
    async with db() as session:
        rules = await roles.load_rules(session, here)
        accounts = analytics.account_choices(await analytics.workspace_accounts(session, here.id))
    return views.roles_modal(rules, accounts, await usergroup_choices(client), scope)


async def roles_command(ack, command, client, respond, db, workspace, access, **_) -> None:
    await ack()
    if not (await access()).is_admin:
        await respond(response_type="ephemeral", text=roles.ADMINS_ONLY)
        return
    try:
        await client.views_open(trigger_id=command["trigger_id"], view=await _roles_view(client, db, workspace))
    except SlackApiError as exc:
        log.warning("Could not open the roles window: %s", error_of(exc))


async def open_from_settings(ack, body, client, db, workspace, access) -> None:
    await ack()
    view = (await _roles_view(client, db, workspace) if (await access()).is_admin
            else views.admins_only_modal())
    try:
        await client.views_push(trigger_id=body["trigger_id"], view=view)
    except SlackApiError as exc:
        log.warning("Could not open the roles window: %s", error_of(exc))


async def scope_chosen(ack, body, action, client, db, workspace, access) -> None:
    """An account or group chosen: its three pickers, as saved (their block ids name the scope, so Slack does not
    carry the previous one's picks over)."""
    await ack()
    view = body.get("view") or {}
    scope = (action.get("selected_option") or {}).get("value")
    if not view.get("id") or not isinstance(scope, str) or not (await access()).is_admin:
        return
    try:
        await client.views_update(view_id=view["id"], hash=view.get("hash"),
                                  view=await _roles_view(client, db, workspace, scope))
    except SlackApiError as exc:
        log.info("Could not update the roles window: %s", error_of(exc))


def _group_of(field: dict | None) -> str | None:
    value = ((field or {}).get("selected_option") or {}).get("value")
    return value if isinstance(value, str) and value and value != views.NO_GROUP else None


def _pick(values: dict, people_block: str, people_input: str, group_block: str, group_input: str,
          kept: Pick = Pick()) -> Pick:
    """People and a user group as submitted; a picker the window did not show (Slack listed no user groups this
    time) keeps what `kept` has."""
    users = forms.field(values, people_block, people_input).get("selected_users")
    users = [u for u in users if isinstance(u, str)] if isinstance(users, list) else []
    group = (_group_of(forms.field(values, group_block, group_input)) if group_block in values
             else kept.usergroup_id)
    return Pick(tuple(dict.fromkeys(users)), group)


async def roles_submitted(ack, view, subject, db, workspace, access) -> None:
    rights = await access()
    if not rights.is_admin:  # rights may have changed since the window opened
        await ack(response_action="errors", errors={ids.ROLES_ADMINS_BLOCK: roles.ADMINS_ONLY})
        return
    actor = rights.who.user_id
    values = forms.values_of(view)
    here = await workspace()
    scope = (subject or RolesOrigin()).scope
    async with db() as session:
        current = await roles.load_rules(session, here)
        await roles.save_admins(session, here.id, _pick(values, ids.ROLES_ADMINS_BLOCK, ids.ROLES_ADMINS_INPUT,
                                                        ids.ROLES_ADMIN_GROUP_BLOCK, ids.ROLES_ADMIN_GROUP_INPUT,
                                                        current.admins), actor)
        if scope and views.scope_block(roles.PUBLISHER, scope) in values:
            kept = current.picks(scope)
            picks = {role: _pick(values, views.scope_block(role, scope), ids.ROLES_PEOPLE_INPUT,
                                 views.scope_group_block(role, scope), ids.ROLES_GROUP_INPUT, kept[role])
                     for role in roles.ROLES}
            try:
                await roles.save_roles(session, here.id, scope, picks, actor)
            except RolesError as exc:
                await session.rollback()
                await ack(response_action="errors", errors={views.scope_block(roles.PUBLISHER, scope): str(exc)})
                return
    await ack()


async def group_button(ack, body, client, subject, db, workspace, access) -> None:
    """New group, or a group's Edit: its window, over the roles window."""
    await ack()
    if not (await access()).is_admin:
        return
    here = await workspace()
    async with db() as session:
        rules = await roles.load_rules(session, here)
        accounts = analytics.account_choices(await analytics.workspace_accounts(session, here.id))
    group = rules.groups.get(subject.group_id) if isinstance(subject, GroupRef) else None
    try:
        await client.views_push(trigger_id=body["trigger_id"],
                                view=views.group_modal(group, accounts, await usergroup_choices(client)))
    except SlackApiError as exc:
        log.warning("Could not open the group window: %s", error_of(exc))


async def group_submitted(ack, view, client, subject, db, workspace, access) -> None:
    rights = await access()
    if not rights.is_admin:
        await ack(response_action="errors", errors={ids.GROUP_NAME_BLOCK: roles.ADMINS_ONLY})
        return
    actor = rights.who.user_id
    values = forms.values_of(view)
    group_id = (subject or GroupOrigin()).group_id
    here = await workspace()
    deleting = views.DELETE in forms.options(values, ids.GROUP_DELETE_BLOCK, ids.GROUP_DELETE_INPUT)
    async with db() as session:
        before = (await roles.load_rules(session, here)).groups.get(group_id or 0)
    form = GroupForm(
        name=forms.text(values, ids.GROUP_NAME_BLOCK, ids.GROUP_NAME_INPUT),
        account_ids=[i for i in map(forms.whole_number,
                                    forms.options(values, ids.GROUP_ACCOUNTS_BLOCK, ids.GROUP_ACCOUNTS_INPUT))
                     if i is not None],
        approvers=_pick(values, ids.GROUP_APPROVERS_BLOCK, ids.GROUP_APPROVERS_INPUT, ids.GROUP_APPROVER_GROUP_BLOCK,
                        ids.GROUP_APPROVER_GROUP_INPUT, before.approvers if before else Pick()),
        approval_channel_id=forms.field(values, ids.GROUP_APPROVAL_CHANNEL_BLOCK,
                                        ids.GROUP_APPROVAL_CHANNEL_INPUT).get("selected_conversation") or None,
        digest_channel_id=forms.field(values, ids.GROUP_DIGEST_CHANNEL_BLOCK,
                                      ids.GROUP_DIGEST_CHANNEL_INPUT).get("selected_conversation") or None)
    async with db() as session:
        if deleting and group_id:
            await roles.delete_group(session, here.id, group_id, actor)
        else:
            problems = await roles.group_problems(session, here.id, form, group_id)
            if problems:
                await ack(response_action="errors", errors={GROUP_ERRORS[k]: v for k, v in problems.items()})
                return
            try:
                await roles.save_group(session, here.id, form, group_id, actor)
            except RolesError as exc:
                await session.rollback()
                await ack(response_action="errors", errors={ids.GROUP_NAME_BLOCK: str(exc)})
                return
    await ack()
    # Back in the roles window underneath: brought up to date with the group saved or gone.
    parent = view.get("previous_view_id") or view.get("root_view_id")
    if parent:
        try:
            await client.views_update(view_id=parent, view=await _roles_view(client, db, workspace))
        except SlackApiError as exc:
            log.info("Could not update the roles window: %s", error_of(exc))


SUBCOMMANDS = {"roles": roles_command}
