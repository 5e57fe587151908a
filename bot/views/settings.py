"""The `/picmim settings` modal (workspace admins only): who may connect accounts, approvals, token alerts
and the workspace's time zone."""

from __future__ import annotations

from collections.abc import Sequence

from bot import ids
from bot.services.workspaces import EXPIRY_WARNING_CHOICES, MAX_APPROVALS_NEEDED, settings_of
from bot.storage.models import Workspace

POLICY_LABELS = {
    "members": "Everyone in the workspace",
    "admins": "Workspace admins only",
    "list": "Workspace admins and the people below",
}
NO_GROUP = "-"
APPROVAL_REQUIRED = "required"
SELF_APPROVAL = "allowed"


def _plain(text: str) -> dict:
    return {"type": "plain_text", "text": text, "emoji": True}


def _option(label: str, value: str) -> dict:
    return {"text": _plain(label[:75]), "value": value}


def _input(block_id: str, label: str, element: dict, *, optional: bool = True, hint: str | None = None) -> dict:
    block = {"type": "input", "block_id": block_id, "label": _plain(label), "optional": optional, "element": element}
    if hint:
        block["hint"] = _plain(hint)
    return block


def _checkbox(action_id: str, label: str, value: str, checked: bool) -> dict:
    option = _option(label, value)
    element = {"type": "checkboxes", "action_id": action_id, "options": [option]}
    if checked:
        element["initial_options"] = [option]
    return element


def _channel(action_id: str, current: str | None) -> dict:
    element = {"type": "conversations_select", "action_id": action_id,
               "placeholder": _plain("Choose a channel"),
               "filter": {"include": ["public", "private"], "exclude_bot_users": True}}
    if current:
        element["initial_conversation"] = current
    return element


def _days(days: int) -> str:
    return "1 day before" if days == 1 else f"{days} days before"


def settings_modal(workspace: Workspace, groups: Sequence[tuple[str, str]] | None = None) -> dict:
    """`groups`: the workspace's user groups as (id, name), or None when Slack would not list them."""
    current = settings_of(workspace)
    options = [_option(label, value) for value, label in POLICY_LABELS.items()]
    policy = next(o for o in options if o["value"] == current.managers_policy)
    people = {"type": "multi_users_select", "action_id": ids.SETTINGS_MANAGER_USERS_INPUT,
              "placeholder": _plain("Choose people")}
    if current.manager_user_ids:
        people["initial_users"] = current.manager_user_ids
    approvers = {"type": "multi_users_select", "action_id": ids.SETTINGS_APPROVERS_INPUT,
                 "placeholder": _plain("Choose approvers")}
    if current.approver_user_ids:
        approvers["initial_users"] = current.approver_user_ids
    blocks: list[dict] = [
        {"type": "header", "text": _plain("Social accounts")},
        _input(ids.SETTINGS_MANAGERS_BLOCK, "Who may connect and disconnect social accounts",
               {"type": "radio_buttons", "action_id": ids.SETTINGS_MANAGERS_INPUT, "options": options,
                "initial_option": policy}, optional=False),
        _input(ids.SETTINGS_MANAGER_USERS_BLOCK, "People who may, besides admins", people,
               hint="Used with “Workspace admins and the people below”."),
        {"type": "context", "elements": [{"type": "mrkdwn", "text": (
            "Everyone may always see the connected accounts and their health.")}]},
        {"type": "divider"},
        {"type": "header", "text": _plain("Approvals")},
        _input(ids.SETTINGS_APPROVAL_REQUIRED_BLOCK, "Approval",
               _checkbox(ids.SETTINGS_APPROVAL_REQUIRED_INPUT, "Posts need approval before they are published",
                         APPROVAL_REQUIRED, current.approval_required)),
        _input(ids.SETTINGS_APPROVAL_CHANNEL_BLOCK, "Approval channel",
               _channel(ids.SETTINGS_APPROVAL_CHANNEL_INPUT, current.approval_channel_id),
               hint="Posts to review appear here. Invite Picmim to the channel (/invite @Picmim) so it sees the "
                    "reactions on them."),
        _input(ids.SETTINGS_APPROVERS_BLOCK, "Approvers", approvers,
               hint="With no approvers and no user group chosen, workspace admins approve."),
    ]
    if groups:
        group_options = [_option("No user group", NO_GROUP)] + [_option(name, gid) for gid, name in groups[:99]]
        group = {"type": "static_select", "action_id": ids.SETTINGS_APPROVER_GROUP_INPUT,
                 "placeholder": _plain("Choose a user group"), "options": group_options}
        chosen = next((o for o in group_options if o["value"] == current.approver_usergroup_id), None)
        if chosen:
            group["initial_option"] = chosen
        blocks.append(_input(ids.SETTINGS_APPROVER_GROUP_BLOCK, "Approvers' user group", group,
                             hint="Its members approve too."))
    else:
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": (
            "User groups cannot be used as approvers: Slack did not list any for this workspace (they need a "
            "paid Slack plan).")}]})
    blocks += [
        _input(ids.SETTINGS_APPROVALS_NEEDED_BLOCK, "Approvals each post needs",
               {"type": "number_input", "action_id": ids.SETTINGS_APPROVALS_NEEDED_INPUT, "is_decimal_allowed": False,
                "initial_value": str(current.approvals_needed or 1), "min_value": "1",
                "max_value": str(MAX_APPROVALS_NEEDED)}, optional=False),
        _input(ids.SETTINGS_SELF_APPROVAL_BLOCK, "Authors",
               _checkbox(ids.SETTINGS_SELF_APPROVAL_INPUT, "Authors may approve their own posts", SELF_APPROVAL,
                         current.allow_self_approval)),
        _input(ids.SETTINGS_APPROVE_REACTION_BLOCK, "Reaction that approves",
               {"type": "plain_text_input", "action_id": ids.SETTINGS_APPROVE_REACTION_INPUT,
                "initial_value": current.approve_reaction, "max_length": 66},
               optional=False, hint="An emoji name, e.g. white_check_mark or :+1:"),
        _input(ids.SETTINGS_REJECT_REACTION_BLOCK, "Reaction that rejects",
               {"type": "plain_text_input", "action_id": ids.SETTINGS_REJECT_REACTION_INPUT,
                "initial_value": current.reject_reaction, "max_length": 66},
               optional=False, hint="An emoji name, e.g. x or :no_entry:"),
        {"type": "context", "elements": [{"type": "mrkdwn", "text": (
            "Turning approval off does not release posts already waiting: decide on their review cards.")}]},
        {"type": "divider"},
        {"type": "header", "text": _plain("Token alerts")},
        _input(ids.SETTINGS_ALERTS_CHANNEL_BLOCK, "Alerts channel",
               _channel(ids.SETTINGS_ALERTS_CHANNEL_INPUT, current.alerts_channel_id),
               hint="Where Picmim warns before a connection's sign-in expires and says when one broke."),
        _input(ids.SETTINGS_EXPIRY_DAYS_BLOCK, "Warn before a sign-in expires", _expiry(current.expiry_warning_days),
               hint="Choose none to be told only when a sign-in has expired."),
        {"type": "divider"},
        {"type": "header", "text": _plain("Time")},
        _input(ids.SETTINGS_TIMEZONE_BLOCK, "Workspace time zone",
               {"type": "plain_text_input", "action_id": ids.SETTINGS_TIMEZONE_INPUT,
                "initial_value": current.default_timezone, "max_length": 64},
               optional=False, hint="Used where a person's own Slack time zone is unknown, e.g. Europe/Madrid."),
    ]
    return {"type": "modal", "callback_id": ids.SETTINGS_VIEW, "title": _plain("Picmim settings"),
            "submit": _plain("Save"), "close": _plain("Cancel"), "blocks": blocks}


def _expiry(current: Sequence[int]) -> dict:
    days = sorted(set(EXPIRY_WARNING_CHOICES) | {d for d in current if d > 0}, reverse=True)
    options = [_option(_days(d), str(d)) for d in days]
    element = {"type": "multi_static_select", "action_id": ids.SETTINGS_EXPIRY_DAYS_INPUT,
               "placeholder": _plain("Choose when"), "options": options}
    chosen = [o for o in options if int(o["value"]) in set(current)]
    if chosen:
        element["initial_options"] = chosen
    return element
