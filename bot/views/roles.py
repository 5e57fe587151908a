"""The `/picmim roles` window (admins only): Picmim's admins, who may post where (per account or account group:
"Publishers", "Contributors" and "Viewers", each people and/or a user group), and the account groups, each in a
window of its own."""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial

from bot import ids
from bot.payloads import GroupOrigin, GroupRef, RolesOrigin
from bot.services import roles
from bot.services.roles import Group, Pick, Rules
from bot.views.blocks import (
    actions,
    button,
    choices,
    context,
    divider,
    esc,
    header,
    input_block,
    modal,
    option,
    plain,
    section,
)

NO_GROUP = "-"
DELETE = "delete"
ROLE_HINTS = {
    roles.PUBLISHER: "Post and schedule without approval.",
    roles.CONTRIBUTOR: "Write posts; each waits for approval, whatever the workspace setting.",
    roles.VIEWER: "See the queue and the stats only.",
}

_input = partial(input_block, optional=True, emoji=True)


def _people(action_id: str, chosen: Sequence[str], placeholder: str = "Choose people") -> dict:
    element = {"type": "multi_users_select", "action_id": action_id, "placeholder": plain(placeholder, emoji=True)}
    if chosen:
        element["initial_users"] = list(chosen)
    return element


def _usergroup(action_id: str, groups: Sequence[tuple[str, str]], current: str | None) -> dict:
    found = [option("No user group", NO_GROUP, emoji=True)] + [option(name, gid, emoji=True)
                                                                for gid, name in groups[:99]]
    if current and current not in {gid for gid, _ in groups}:  # a group Slack no longer lists: still shown
        found.append(option(f"User group {current}", current, emoji=True))
    chosen = next((o for o in found if o["value"] == current), None)
    return choices("static_select", action_id, found, placeholder="Choose a user group", initial=chosen, emoji=True)


def _channel(action_id: str, current: str | None) -> dict:
    element = {"type": "conversations_select", "action_id": action_id,
               "placeholder": plain("Choose a channel", emoji=True),
               "filter": {"include": ["public", "private"], "exclude_bot_users": True}}
    if current:
        element["initial_conversation"] = current
    return element


def scope_block(role: str, scope: str) -> str:
    return f"{ids.ROLES_PEOPLE_BLOCK}{role}_{scope}"


def scope_group_block(role: str, scope: str) -> str:
    return f"{ids.ROLES_GROUP_BLOCK}{role}_{scope}"


def roles_modal(rules: Rules, accounts: Sequence[tuple[int, str]], usergroups: Sequence[tuple[str, str]] | None,
                scope: str | None = None) -> dict:
    """`accounts`: (id, "Network · Name") of the workspace's accounts; `usergroups`: (id, name), or None when
    Slack lists none (free plans); `scope`: the account ("a<id>") or group ("g<id>") whose pickers are shown."""
    groups = usergroups or []
    blocks: list[dict] = [
        header("Admins", emoji=True),
        _input(ids.ROLES_ADMINS_BLOCK, "Picmim admins", _people(ids.ROLES_ADMINS_INPUT, rules.admins.user_ids),
               hint="Besides Slack's workspace admins and owners, who are always admins here."),
    ]
    if groups:
        blocks.append(_input(ids.ROLES_ADMIN_GROUP_BLOCK, "Admins' user group",
                             _usergroup(ids.ROLES_ADMIN_GROUP_INPUT, groups, rules.admins.usergroup_id),
                             hint="Its members are admins too."))
    blocks += [divider(), header("Who may post where", emoji=True),
               context(roles.NO_ROLES_YET if not rules.any_roles else
                       "Accounts with no roles, on them or on their group, stay open: everyone may post there.")]
    scopes = [option(f"Group · {g.name}", roles.group_scope(g.id), emoji=True) for g in rules.groups.values()]
    scopes += [option(name, roles.account_scope(a), emoji=True) for a, name in accounts]
    if not scopes:
        blocks.append(context("No account is connected yet: connect one with `/picmim connect`."))
    else:
        chosen = next((o for o in scopes if o["value"] == scope), None)
        blocks.append(actions(choices("static_select", ids.ROLES_SCOPE_INPUT, scopes[:100],
                                      placeholder="Choose an account or a group", initial=chosen, emoji=True),
                              block_id=ids.ROLES_SCOPE_BLOCK))
    if scope and any(o["value"] == scope for o in scopes):
        picks = rules.picks(scope)
        if scope.startswith("a") and int(scope[1:]) in rules.group_of:
            group = rules.groups[rules.group_of[int(scope[1:])]]
            blocks.append(context(f"This account is in the group *{esc(group.name)}*: the roles given there apply "
                                  "here too; a person's highest role counts."))
        for role in roles.ROLES:
            label = roles.LABELS[role]
            blocks.append(_input(scope_block(role, scope), label,
                                 _people(ids.ROLES_PEOPLE_INPUT, picks[role].user_ids), hint=ROLE_HINTS[role]))
            if groups:
                blocks.append(_input(scope_group_block(role, scope), f"{label}' user group",
                                     _usergroup(ids.ROLES_GROUP_INPUT, groups, picks[role].usergroup_id)))
        if usergroups is None:
            blocks.append(context("User groups cannot be given roles: Slack did not list any for this workspace "
                                  "(they need a paid Slack plan)."))
    blocks += [divider(), header("Account groups", emoji=True),
               context("A group (a brand, a client) gathers accounts under one set of roles, with its own "
                       "approvers, approval channel and digest channel.")]
    names = dict(accounts)
    for group in rules.groups.values():
        blocks.append(section(_group_line(group, names),
                              button("Edit", ids.ROLES_GROUP_EDIT, GroupRef(group.id).encode(),
                                     label=f"Edit the group {group.name}")))
    blocks.append(actions(button("New group", ids.ROLES_GROUP_NEW)))
    return modal("Roles", blocks[:100], callback_id=ids.ROLES_VIEW, submit="Save", close="Close",
                 private_metadata=RolesOrigin(scope).encode(), emoji=True)


def _group_line(group: Group, names: dict[int, str]) -> str:
    accounts = ", ".join(esc(names.get(a, "an account")) for a in sorted(group.account_ids)) or "no accounts yet"
    approvers = group.approvers.in_words() if not group.approvers.empty else "the workspace's approvers"
    channel = f"<#{group.approval_channel_id}>" if group.approval_channel_id else "the workspace's approval channel"
    digest = f"; digests in <#{group.digest_channel_id}>" if group.digest_channel_id else ""
    return f"*{esc(group.name)}*: {accounts}. Approved by {approvers} in {channel}{digest}."


def group_modal(group: Group | None, accounts: Sequence[tuple[int, str]],
                usergroups: Sequence[tuple[str, str]] | None) -> dict:
    """A new account group, or `group` to change or delete."""
    approvers = group.approvers if group else Pick()
    options = [option(name, str(a), emoji=True) for a, name in accounts[:100]]
    chosen = [o for o in options if group and int(o["value"]) in group.account_ids]
    blocks = [
        _input(ids.GROUP_NAME_BLOCK, "Name",
               {"type": "plain_text_input", "action_id": ids.GROUP_NAME_INPUT, "max_length": roles.MAX_GROUP_NAME,
                **({"initial_value": group.name} if group else {}),
                "placeholder": plain("A brand or a client", emoji=True)}, optional=False),
        _input(ids.GROUP_ACCOUNTS_BLOCK, "Accounts",
               choices("multi_static_select", ids.GROUP_ACCOUNTS_INPUT, options, placeholder="Choose accounts",
                       initial=chosen, emoji=True),
               hint="An account is in one group at most: choosing it here takes it out of any other.")
        if options else context("No account is connected yet: the group can be given accounts once they are."),
        _input(ids.GROUP_APPROVERS_BLOCK, "Approvers", _people(ids.GROUP_APPROVERS_INPUT, approvers.user_ids,
                                                               "Choose approvers"),
               hint="Approve this group's posts instead of the workspace's approvers."),
    ]
    if usergroups:
        blocks.append(_input(ids.GROUP_APPROVER_GROUP_BLOCK, "Approvers' user group",
                             _usergroup(ids.GROUP_APPROVER_GROUP_INPUT, usergroups, approvers.usergroup_id)))
    blocks += [
        _input(ids.GROUP_APPROVAL_CHANNEL_BLOCK, "Approval channel",
               _channel(ids.GROUP_APPROVAL_CHANNEL_INPUT, group.approval_channel_id if group else None),
               hint="Where this group's posts wait for approval (else the workspace's approval channel)."),
        _input(ids.GROUP_DIGEST_CHANNEL_BLOCK, "Digest channel",
               _channel(ids.GROUP_DIGEST_CHANNEL_INPUT, group.digest_channel_id if group else None),
               hint="Offered first when someone subscribes to this group's analytics digests."),
    ]
    if group:
        box = option("Delete this group (its accounts stay connected; its roles go)", DELETE, emoji=True)
        blocks.append(_input(ids.GROUP_DELETE_BLOCK, "Delete", choices("checkboxes", ids.GROUP_DELETE_INPUT, [box])))
    return modal("Edit group" if group else "New group", blocks, callback_id=ids.GROUP_VIEW, submit="Save",
                 close="Back", private_metadata=GroupOrigin(group.id if group else None).encode(), emoji=True)


def admins_only_modal() -> dict:
    return modal("Roles", [section(roles.ADMINS_ONLY)], close="Close")
