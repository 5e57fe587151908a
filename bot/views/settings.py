"""The `/picmim settings` modal (workspace admins only): who may connect accounts, approvals, token alerts
and the workspace's time zone."""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial

from bot import ids
from bot.services.roles import NO_ROLES_YET
from bot.services.workspaces import (
    EXPIRY_WARNING_CHOICES,
    FOLLOWUP_CHOICES,
    MAX_APPROVALS_NEEDED,
    WorkspaceSettings,
    settings_of,
)
from bot.storage.models import Workspace
from bot.views.blocks import button, choices, context, divider, header, input_block, modal, option, plain, section
from bot.views.zones import APPROVE_REACTIONS, REJECT_REACTIONS, reaction_select, zone_select

POLICY_LABELS = {
    "members": "Everyone in the workspace",
    "admins": "Workspace admins only",
    "list": "Workspace admins and the people below",
}
NO_GROUP = "-"
APPROVAL_REQUIRED = "required"
SELF_APPROVAL = "allowed"


# Every input here says whether it is optional (optional unless told).
_input = partial(input_block, optional=True, emoji=True)


def _checkbox(action_id: str, label: str, value: str, checked: bool) -> dict:
    box = option(label, value, emoji=True)
    return choices("checkboxes", action_id, [box], initial=[box] if checked else None)


def _people(action_id: str, placeholder: str, chosen: list[str]) -> dict:
    element = {"type": "multi_users_select", "action_id": action_id, "placeholder": plain(placeholder, emoji=True)}
    if chosen:
        element["initial_users"] = chosen
    return element


def _channel(action_id: str, current: str | None) -> dict:
    element = {"type": "conversations_select", "action_id": action_id,
               "placeholder": plain("Choose a channel", emoji=True),
               "filter": {"include": ["public", "private"], "exclude_bot_users": True}}
    if current:
        element["initial_conversation"] = current
    return element


def _days(days: int) -> str:
    return "1 day before" if days == 1 else f"{days} days before"


def settings_modal(workspace: Workspace, groups: Sequence[tuple[str, str]] | None = None, *,
                   approval_on: bool | None = None, own_zone: str | None = None, roles_note: str | None = None) -> dict:
    """`groups`: the workspace's user groups as (id, name), or None when Slack would not list them.
    `approval_on`: whether the Approval box is ticked in the open modal (None: as saved); the approval fields are
    shown only while it is. `own_zone`: the admin's Slack time zone, offered first while none was chosen.
    `roles_note`: who may post where, in a line beside the button that opens `/picmim roles`."""
    current = settings_of(workspace)
    approval_on = current.approval_required if approval_on is None else approval_on
    options = [option(label, value, emoji=True) for value, label in POLICY_LABELS.items()]
    policy = next(o for o in options if o["value"] == current.managers_policy)
    people = _people(ids.SETTINGS_MANAGER_USERS_INPUT, "Choose people", current.manager_user_ids)
    approvers = _people(ids.SETTINGS_APPROVERS_INPUT, "Choose approvers", current.approver_user_ids)
    blocks: list[dict] = [
        header("Social accounts", emoji=True),
        _input(ids.SETTINGS_MANAGERS_BLOCK, "Who may connect and disconnect social accounts",
               choices("radio_buttons", ids.SETTINGS_MANAGERS_INPUT, options, initial=policy), optional=False),
        _input(ids.SETTINGS_MANAGER_USERS_BLOCK, "People who may, besides admins", people,
               hint="Used with “Workspace admins and the people below”."),
        context("Everyone may always see the connected accounts and their health."),
        divider(),
        header("Who may post where", emoji=True),
        section(roles_note or NO_ROLES_YET, button("Roles…", ids.ROLES_OPEN, emoji=True)),
        section("Posting slots: each account's preferred weekly times. “Next free slot” in the compose window takes "
                "the earliest one no post uses yet.", button("Posting slots…", ids.SETTINGS_SLOTS, emoji=True)),
        divider(),
        header("Approvals", emoji=True),
        {**_input(ids.SETTINGS_APPROVAL_REQUIRED_BLOCK, "Approval",
                  _checkbox(ids.SETTINGS_APPROVAL_REQUIRED_INPUT, "Posts need approval before they are published",
                            APPROVAL_REQUIRED, approval_on)),
         "dispatch_action": True},  # ticking it shows or hides the approval fields below (views.update)
    ]
    if approval_on:
        blocks += _approval_fields(current, approvers, groups)
    else:
        blocks.append(context("Tick the box to choose the approval channel, the approvers and the reactions."))
    if current.approval_required:
        blocks.append(context("Turning approval off does not release posts already waiting: decide on their "
                              "review cards."))
    zone, zone_hint = current.default_timezone, "Used where a person's own Slack time zone is unknown."
    if zone == "UTC" and own_zone and own_zone != "UTC":  # never chosen: the column's default
        zone, zone_hint = own_zone, (f"{zone_hint} Your own Slack time zone is suggested; Picmim uses UTC until "
                                     "you save.")
    blocks += [
        divider(),
        header("Token alerts", emoji=True),
        _input(ids.SETTINGS_ALERTS_CHANNEL_BLOCK, "Alerts channel",
               _channel(ids.SETTINGS_ALERTS_CHANNEL_INPUT, current.alerts_channel_id),
               hint="Where Picmim warns before a connection's sign-in expires and says when one broke."),
        _input(ids.SETTINGS_EXPIRY_DAYS_BLOCK, "Warn before a sign-in expires", _expiry(current.expiry_warning_days),
               hint="Choose none to be told only when a sign-in has expired."),
        divider(),
        header("Follow-ups", emoji=True),
        _input(ids.SETTINGS_FOLLOWUPS_BLOCK, "Reply with a post's figures", _followups(current.followup_hours),
               hint="This long after a post goes live, Picmim replies in the thread of its message with its figures "
                    "and how they compare with your usual post. Choose none to turn follow-ups off."),
        divider(),
        header("Time", emoji=True),
        _input(ids.SETTINGS_TIMEZONE_BLOCK, "Workspace time zone",
               zone_select(ids.SETTINGS_TIMEZONE_INPUT, zone, also=(current.default_timezone, own_zone), emoji=True),
               optional=False, hint=zone_hint),
    ]
    return modal("Picmim settings", blocks, callback_id=ids.SETTINGS_VIEW, submit="Save", close="Cancel", emoji=True)


def _approval_fields(current: WorkspaceSettings, approvers: dict,
                     groups: Sequence[tuple[str, str]] | None) -> list[dict]:
    blocks = [
        _input(ids.SETTINGS_APPROVAL_CHANNEL_BLOCK, "Approval channel",
               _channel(ids.SETTINGS_APPROVAL_CHANNEL_INPUT, current.approval_channel_id),
               hint="Posts to review appear here. Invite Picmim to the channel (/invite @Picmim) so it sees the "
                    "reactions on them."),
        _input(ids.SETTINGS_APPROVERS_BLOCK, "Approvers", approvers,
               hint="With no approvers and no user group chosen, workspace admins approve."),
    ]
    if groups:
        group_options = [option("No user group", NO_GROUP, emoji=True)] + [
            option(name, gid, emoji=True) for gid, name in groups[:99]]
        chosen = next((o for o in group_options if o["value"] == current.approver_usergroup_id), None)
        group = choices("static_select", ids.SETTINGS_APPROVER_GROUP_INPUT, group_options,
                        placeholder="Choose a user group", initial=chosen, emoji=True)
        blocks.append(_input(ids.SETTINGS_APPROVER_GROUP_BLOCK, "Approvers' user group", group,
                             hint="Its members approve too."))
    else:
        blocks.append(context("User groups cannot be used as approvers: Slack did not list any for this workspace "
                              "(they need a paid Slack plan)."))
    blocks += [
        _input(ids.SETTINGS_APPROVALS_NEEDED_BLOCK, "Approvals each post needs",
               {"type": "number_input", "action_id": ids.SETTINGS_APPROVALS_NEEDED_INPUT, "is_decimal_allowed": False,
                "initial_value": str(current.approvals_needed or 1), "min_value": "1",
                "max_value": str(MAX_APPROVALS_NEEDED)}, optional=False),
        _input(ids.SETTINGS_SELF_APPROVAL_BLOCK, "Authors",
               _checkbox(ids.SETTINGS_SELF_APPROVAL_INPUT, "Authors may approve their own posts", SELF_APPROVAL,
                         current.allow_self_approval)),
        _input(ids.SETTINGS_APPROVE_REACTION_BLOCK, "Reaction that approves",
               reaction_select(ids.SETTINGS_APPROVE_REACTION_INPUT, APPROVE_REACTIONS, current.approve_reaction,
                               emoji=True),
               optional=False, hint="An approver adds it to the post's review card."),
        _input(ids.SETTINGS_REJECT_REACTION_BLOCK, "Reaction that rejects",
               reaction_select(ids.SETTINGS_REJECT_REACTION_INPUT, REJECT_REACTIONS, current.reject_reaction,
                               emoji=True),
               optional=False, hint="An approver adds it to turn the post down."),
        _input(ids.SETTINGS_REMINDER_HOURS_BLOCK, "Remind the approvers after (hours)",
               _number(ids.SETTINGS_REMINDER_HOURS_INPUT, current.reminder_hours, 1, 168), optional=False,
               hint="A post still waiting is announced again in its review card's thread, mentioning the approvers."),
        _input(ids.SETTINGS_REMINDERS_MAX_BLOCK, "Reminders at most",
               _number(ids.SETTINGS_REMINDERS_MAX_INPUT, current.reminders_max, 0, 10), optional=False,
               hint="0: no reminders."),
        _input(ids.SETTINGS_GRACE_BLOCK, "Minutes a post may wait past its time",
               _number(ids.SETTINGS_GRACE_INPUT, current.grace_minutes, 0, 10080), optional=False,
               hint="After that, a post nobody approved is not published: its author is told and can reschedule it."),
    ]
    return blocks


def _number(action_id: str, value: int | None, lowest: int, highest: int) -> dict:
    return {"type": "number_input", "action_id": action_id, "is_decimal_allowed": False,
            "initial_value": str(value if value is not None else lowest), "min_value": str(lowest),
            "max_value": str(highest)}


def _expiry(current: Sequence[int]) -> dict:
    days = sorted(set(EXPIRY_WARNING_CHOICES) | {d for d in current if d > 0}, reverse=True)
    options = [option(_days(d), str(d), emoji=True) for d in days]
    chosen = [o for o in options if int(o["value"]) in set(current)]
    return choices("multi_static_select", ids.SETTINGS_EXPIRY_DAYS_INPUT, options, placeholder="Choose when",
                   initial=chosen, emoji=True)


def _after(hours: int) -> str:
    days = hours // 24
    if hours % 24:
        return f"{hours} hours later"
    return "1 day later" if days == 1 else f"{days} days later"


def _followups(current: Sequence[int]) -> dict:
    hours = sorted(set(FOLLOWUP_CHOICES) | {h for h in current if h > 0})
    options = [option(_after(h), str(h), emoji=True) for h in hours]
    chosen = [o for o in options if int(o["value"]) in set(current)]
    return choices("multi_static_select", ids.SETTINGS_FOLLOWUPS_INPUT, options, placeholder="Choose when",
                   initial=chosen, emoji=True)
