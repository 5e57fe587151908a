"""`/picmim settings`: every workspace setting, for workspace admins."""

from __future__ import annotations

import logging

from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError

from bot import ids
from bot.handlers import forms
from bot.payloads import is_slack_id, storable
from bot.services import roles, workspaces
from bot.services.workspaces import WorkspaceSettings
from bot.slack_errors import error_of, unavailable
from bot.views.settings import APPROVAL_REQUIRED, NO_GROUP, SELF_APPROVAL, settings_modal

log = logging.getLogger(__name__)

ADMINS_ONLY = "Only workspace admins can change Picmim's settings."

# Where each problem of the settings is shown.
ERROR_BLOCKS = {
    workspaces.MANAGERS: ids.SETTINGS_MANAGER_USERS_BLOCK,
    workspaces.APPROVAL_CHANNEL: ids.SETTINGS_APPROVAL_CHANNEL_BLOCK,
    workspaces.APPROVALS_NEEDED: ids.SETTINGS_APPROVALS_NEEDED_BLOCK,
    workspaces.APPROVE_REACTION: ids.SETTINGS_APPROVE_REACTION_BLOCK,
    workspaces.REJECT_REACTION: ids.SETTINGS_REJECT_REACTION_BLOCK,
    workspaces.TIMEZONE: ids.SETTINGS_TIMEZONE_BLOCK,
    workspaces.REMINDER_HOURS: ids.SETTINGS_REMINDER_HOURS_BLOCK,
    workspaces.REMINDERS_MAX: ids.SETTINGS_REMINDERS_MAX_BLOCK,
    workspaces.GRACE_MINUTES: ids.SETTINGS_GRACE_BLOCK,
}


def register(app: AsyncApp) -> None:
    app.view(ids.SETTINGS_VIEW)(settings_submitted)
    app.action(ids.SETTINGS_APPROVAL_REQUIRED_INPUT)(approval_ticked)


async def usergroup_choices(client) -> list[tuple[str, str]] | None:
    """The workspace's user groups, or None when Slack does not list them (free plans have none)."""
    try:
        found = (await client.usergroups_list()).get("usergroups") or []
    except SlackApiError as exc:
        log.info("User groups are not available: %s", error_of(exc))
        return None
    return sorted(((g["id"], g.get("name") or g.get("handle") or g["id"]) for g in found
                   if g.get("id") and not g.get("date_delete")), key=lambda g: g[1].lower())


async def roles_note(access) -> str:
    """Who may post where, in a line: the default, or how many accounts and groups have roles."""
    rules = (await access()).rules
    if not rules.any_roles:
        return roles.NO_ROLES_YET
    scopes = [s for s, picks in rules.grants.items() if any(not p.empty for p in picks.values())]
    return (f"Roles are set for {len(scopes)} account{'s' if len(scopes) != 1 else ''} or group"
            f"{'s' if len(scopes) != 1 else ''}; every other account stays open to everyone. Change them in "
            "`/picmim roles`.")


async def settings_command(ack, command, client, respond, workspace, person, access, **_) -> None:
    await ack()
    if not (await access()).is_admin:
        await respond(response_type="ephemeral", text=ADMINS_ONLY)
        return
    groups = await usergroup_choices(client)
    view = settings_modal(await workspace(), groups, own_zone=(await person()).tz, roles_note=await roles_note(access))
    try:
        await client.views_open(trigger_id=command["trigger_id"], view=view)
    except SlackApiError as exc:
        if unavailable(exc):
            raise  # Slack failing for now: the person is told so (failures.py)
        log.warning("Could not open the settings modal: %s", error_of(exc))


async def approval_ticked(ack, body, client, workspace, person, access) -> None:
    """Approval ticked or unticked: the modal shows its fields only while it is on. Every other block keeps its
    block_id, so what the admin already chose in them stays (Slack keeps an input's state across views.update)."""
    await ack()
    view = body.get("view") or {}
    if not view.get("id") or not (await access()).is_admin:
        return
    ticked = forms.options(forms.values_of(view), ids.SETTINGS_APPROVAL_REQUIRED_BLOCK,
                           ids.SETTINGS_APPROVAL_REQUIRED_INPUT)
    updated = settings_modal(await workspace(), await usergroup_choices(client),
                             approval_on=APPROVAL_REQUIRED in ticked, own_zone=(await person()).tz,
                             roles_note=await roles_note(access))
    try:
        await client.views_update(view_id=view["id"], hash=view.get("hash"), view=updated)
    except SlackApiError as exc:  # hash_conflict: a newer version of the modal is already shown
        log.info("Could not update the settings modal: %s", error_of(exc))


def _read(values: dict, current: WorkspaceSettings) -> WorkspaceSettings:
    """The submitted settings; a part the modal did not show keeps its current value. A forged part (a list where
    an option goes…) reads as nothing chosen, and the checks then say so beside it."""

    def field(block_id: str, action_id: str) -> dict | None:  # None: the modal did not show this part
        return forms.field(values, block_id, action_id) if block_id in values else None

    def typed(state: dict) -> str:  # a select's option, or what was typed
        chosen, value = forms.chosen_option(state), state.get("value")
        return chosen or (storable(value) if isinstance(value, str) else "")

    read = WorkspaceSettings(**vars(current))
    if (managers := field(ids.SETTINGS_MANAGERS_BLOCK, ids.SETTINGS_MANAGERS_INPUT)) is not None:
        read.managers_policy = forms.chosen_option(managers) or "members"
    if (people := field(ids.SETTINGS_MANAGER_USERS_BLOCK, ids.SETTINGS_MANAGER_USERS_INPUT)) is not None:
        read.manager_user_ids = forms.slack_ids(people, "selected_users")
    if (required := field(ids.SETTINGS_APPROVAL_REQUIRED_BLOCK, ids.SETTINGS_APPROVAL_REQUIRED_INPUT)) is not None:
        read.approval_required = APPROVAL_REQUIRED in forms.chosen_options(required)
    if (channel := field(ids.SETTINGS_APPROVAL_CHANNEL_BLOCK, ids.SETTINGS_APPROVAL_CHANNEL_INPUT)) is not None:
        read.approval_channel_id = forms.slack_id(channel, "selected_conversation")
    if (approvers := field(ids.SETTINGS_APPROVERS_BLOCK, ids.SETTINGS_APPROVERS_INPUT)) is not None:
        read.approver_user_ids = forms.slack_ids(approvers, "selected_users")
    if (group := field(ids.SETTINGS_APPROVER_GROUP_BLOCK, ids.SETTINGS_APPROVER_GROUP_INPUT)) is not None:
        group_id = forms.chosen_option(group)
        read.approver_usergroup_id = group_id if is_slack_id(group_id) and group_id != NO_GROUP else None
    if (needed := field(ids.SETTINGS_APPROVALS_NEEDED_BLOCK, ids.SETTINGS_APPROVALS_NEEDED_INPUT)) is not None:
        text = typed(needed).strip()
        read.approvals_needed = int(text) if text.isdecimal() and len(text) < 4 else None
    if (own := field(ids.SETTINGS_SELF_APPROVAL_BLOCK, ids.SETTINGS_SELF_APPROVAL_INPUT)) is not None:
        read.allow_self_approval = SELF_APPROVAL in forms.chosen_options(own)
    if (approve := field(ids.SETTINGS_APPROVE_REACTION_BLOCK, ids.SETTINGS_APPROVE_REACTION_INPUT)) is not None:
        read.approve_reaction = typed(approve)
    if (reject := field(ids.SETTINGS_REJECT_REACTION_BLOCK, ids.SETTINGS_REJECT_REACTION_INPUT)) is not None:
        read.reject_reaction = typed(reject)
    if (alerts := field(ids.SETTINGS_ALERTS_CHANNEL_BLOCK, ids.SETTINGS_ALERTS_CHANNEL_INPUT)) is not None:
        read.alerts_channel_id = forms.slack_id(alerts, "selected_conversation")
    if (days := field(ids.SETTINGS_EXPIRY_DAYS_BLOCK, ids.SETTINGS_EXPIRY_DAYS_INPUT)) is not None:
        read.expiry_warning_days = [int(d) for d in forms.chosen_options(days) if d.isdecimal() and len(d) < 4]
    if (followups := field(ids.SETTINGS_FOLLOWUPS_BLOCK, ids.SETTINGS_FOLLOWUPS_INPUT)) is not None:
        read.followup_hours = [int(h) for h in forms.chosen_options(followups) if h.isdecimal() and len(h) < 5]
    if (zone := field(ids.SETTINGS_TIMEZONE_BLOCK, ids.SETTINGS_TIMEZONE_INPUT)) is not None:
        read.default_timezone = typed(zone)
    for name, block_id, action_id in (("reminder_hours", ids.SETTINGS_REMINDER_HOURS_BLOCK,
                                       ids.SETTINGS_REMINDER_HOURS_INPUT),
                                      ("reminders_max", ids.SETTINGS_REMINDERS_MAX_BLOCK,
                                       ids.SETTINGS_REMINDERS_MAX_INPUT),
                                      ("grace_minutes", ids.SETTINGS_GRACE_BLOCK, ids.SETTINGS_GRACE_INPUT)):
        if (number := field(block_id, action_id)) is not None:
            text = typed(number).strip()
            setattr(read, name, int(text) if text.isdecimal() and len(text) < 6 else None)
    return read


async def settings_submitted(ack, view, db, workspace, access) -> None:
    here = await workspace()
    submitted = _read(forms.values_of(view), workspaces.settings_of(here))
    problems = workspaces.settings_problems(submitted)
    if problems:
        await ack(response_action="errors", errors={ERROR_BLOCKS[k]: v for k, v in problems.items()})
        return
    rights = await access()
    if not rights.is_admin:  # rights may have changed since the modal opened
        await ack(response_action="errors", errors={ids.SETTINGS_MANAGERS_BLOCK: ADMINS_ONLY})
        return
    async with db() as session:
        await workspaces.save_settings(session, here.id, submitted, actor=rights.who.user_id)
    await ack()


SUBCOMMANDS = {"settings": settings_command}
