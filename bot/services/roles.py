"""Who may post where: Picmim admins, account groups (brands, clients) and the roles people hold on each account
or group, and every rule built on them, in one place.

- Admins: Slack's workspace admins and owners, plus the people and the user group named in `/picmim roles`.
  An admin may do everything, on every account.
- Per account, or per account group: publishers (post and schedule without approval), contributors (compose;
  their posts always wait for approval), viewers (see the queue and the stats only). A person's role on an
  account is the highest one given to them on the account itself or on its group.
- An account with no role given on it or on its group keeps the default of small teams: everyone publishes.
- A group's own approvers see its accounts (as viewers at least): what they approve is theirs to see. The
  workspace's approvers see the posts waiting for them (not the rest of a restricted account).
- Every change made here is recorded in the audit trail, in the same transaction.

Free of Slack: the handler says who the person is (`Who`: Slack's admin flag and the user groups they are in,
read with usergroups.users.list) and shows the words that come back.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.services import audit
from bot.storage.models import (
    Account,
    AccountGroup,
    AccountGroupMember,
    Post,
    PostStatus,
    PostTarget,
    RoleGrant,
    Workspace,
)

PUBLISHER, CONTRIBUTOR, VIEWER = "publisher", "contributor", "viewer"
ROLES = (PUBLISHER, CONTRIBUTOR, VIEWER)
LABELS = {PUBLISHER: "Publishers", CONTRIBUTOR: "Contributors", VIEWER: "Viewers"}
_RANK = {VIEWER: 1, CONTRIBUTOR: 2, PUBLISHER: 3}
MAX_GROUP_NAME = 80

NO_ROLES_YET = "Everyone may post to every account until you set roles: /picmim roles"
ADMINS_ONLY = "Only an admin can set who may post where. Ask a workspace admin, or someone named as a Picmim admin."


# ---- what is stored, read once per request ------------------------------------------------------------


@dataclass(frozen=True)
class Pick:
    """People chosen in a picker: Slack users and/or the members of one user group."""

    user_ids: tuple[str, ...] = ()
    usergroup_id: str | None = None

    @property
    def empty(self) -> bool:
        return not self.user_ids and not self.usergroup_id

    def has(self, user_id: str, usergroups: Iterable[str]) -> bool:
        return user_id in self.user_ids or (self.usergroup_id is not None and self.usergroup_id in set(usergroups))

    def in_words(self) -> str:
        names = [f"<@{u}>" for u in self.user_ids]
        if self.usergroup_id:
            names.append(f"<!subteam^{self.usergroup_id}>")
        if not names:
            return "nobody"
        return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


@dataclass(frozen=True)
class Group:
    id: int
    name: str
    account_ids: frozenset[int] = frozenset()
    approvers: Pick = Pick()
    approval_channel_id: str | None = None
    digest_channel_id: str | None = None

    @property
    def reviews(self) -> bool:
        """Whether its posts are reviewed by its own approvers or in its own channel (not the workspace's)."""
        return not self.approvers.empty or bool(self.approval_channel_id)


def account_scope(account_id: int) -> str:
    return f"a{account_id}"


def group_scope(group_id: int) -> str:
    return f"g{group_id}"


@dataclass(frozen=True)
class Rules:
    """A workspace's admins, groups and roles."""

    admins: Pick = Pick()
    groups: dict[int, Group] = field(default_factory=dict)
    group_of: dict[int, int] = field(default_factory=dict)  # account id -> group id
    grants: dict[str, dict[str, Pick]] = field(default_factory=dict)  # scope -> role -> who
    approvers: Pick = Pick()  # the workspace's approvers (none: admins approve)

    @property
    def any_roles(self) -> bool:
        return any(not pick.empty for roles in self.grants.values() for pick in roles.values())

    def usergroups(self) -> set[str]:
        """Every user group these rules name: the ones whose members must be known to apply them."""
        found = {self.admins.usergroup_id} if self.admins.usergroup_id else set()
        found |= {g.approvers.usergroup_id for g in self.groups.values() if g.approvers.usergroup_id}
        if self.approvers.usergroup_id:
            found.add(self.approvers.usergroup_id)
        for roles in self.grants.values():
            found |= {p.usergroup_id for p in roles.values() if p.usergroup_id}
        return found

    def picks(self, scope: str) -> dict[str, Pick]:
        return {role: self.grants.get(scope, {}).get(role, Pick()) for role in ROLES}

    def scopes_of(self, account_id: int) -> list[str]:
        scopes = [account_scope(account_id)]
        if account_id in self.group_of:
            scopes.append(group_scope(self.group_of[account_id]))
        return scopes

    def restricted(self, account_id: int) -> bool:
        """Roles were set for this account or its group: the default (everyone publishes) no longer applies."""
        return any(not p.empty for s in self.scopes_of(account_id) for p in self.grants.get(s, {}).values())

    def group(self, account_id: int) -> Group | None:
        gid = self.group_of.get(account_id)
        return self.groups.get(gid) if gid is not None else None


async def load_rules(session: AsyncSession, workspace: Workspace) -> Rules:
    groups = list(await session.scalars(select(AccountGroup).where(AccountGroup.workspace_id == workspace.id)
                                        .order_by(AccountGroup.name, AccountGroup.id)))
    members: dict[int, set[int]] = {}
    group_of: dict[int, int] = {}
    if groups:
        for account_id, group_id in await session.execute(
                select(AccountGroupMember.account_id, AccountGroupMember.group_id)
                .where(AccountGroupMember.group_id.in_([g.id for g in groups]))):
            members.setdefault(group_id, set()).add(account_id)
            group_of[account_id] = group_id
    grants: dict[str, dict[str, Pick]] = {}
    for grant in await session.scalars(select(RoleGrant).where(RoleGrant.workspace_id == workspace.id)):
        scope = account_scope(grant.account_id) if grant.account_id else group_scope(grant.group_id or 0)
        grants.setdefault(scope, {})[grant.role] = Pick(tuple(grant.user_ids or ()), grant.usergroup_id)
    return Rules(
        admins=Pick(tuple(workspace.admin_user_ids or ()), workspace.admin_usergroup_id),
        groups={g.id: Group(g.id, g.name, frozenset(members.get(g.id, ())),
                            Pick(tuple(g.approver_user_ids or ()), g.approver_usergroup_id),
                            g.approval_channel_id, g.digest_channel_id) for g in groups},
        group_of=group_of, grants=grants,
        approvers=Pick(tuple(workspace.approver_user_ids or ()), workspace.approver_usergroup_id))


# ---- one person's rights ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Who:
    """The acting person as Slack knows them: their id, whether Slack makes them an admin or owner, and which
    of the user groups the rules name they are in."""

    user_id: str
    slack_admin: bool = False
    usergroups: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Access:
    """What one person may do on which account."""

    rules: Rules
    who: Who

    @property
    def is_admin(self) -> bool:
        return self.who.slack_admin or self.rules.admins.has(self.who.user_id, self.who.usergroups)

    def role(self, account_id: int) -> str | None:
        """PUBLISHER, CONTRIBUTOR, VIEWER or None (nothing at all) on this account."""
        if self.is_admin or not self.rules.restricted(account_id):
            return PUBLISHER
        best = None
        group = self.rules.group(account_id)
        if group is not None and group.approvers.has(self.who.user_id, self.who.usergroups):
            best = VIEWER  # the group's approvers see what they approve
        for scope in self.rules.scopes_of(account_id):
            for role, pick in self.rules.grants.get(scope, {}).items():
                if pick.has(self.who.user_id, self.who.usergroups) and _RANK[role] > _RANK.get(best or "", 0):
                    best = role
        return best

    def may_post(self, account_id: int) -> bool:
        return self.role(account_id) in (PUBLISHER, CONTRIBUTOR)

    def may_view(self, account_id: int) -> bool:
        return self.role(account_id) is not None

    def publishes(self, account_id: int) -> bool:
        return self.role(account_id) == PUBLISHER

    def needs_approval(self, account_ids: Iterable[int]) -> bool:
        """A contributor's post waits for approval, whatever the workspace setting."""
        return any(self.role(a) == CONTRIBUTOR for a in account_ids)

    def named_publisher(self, account_id: int) -> bool:
        """A publisher because an admin made them one (not by the default, where everyone publishes)."""
        return self.rules.restricted(account_id) and self.publishes(account_id)

    def may_change_post(self, author: str, account_ids: Sequence[int]) -> bool:
        """A queued or published post's buttons (edit, publish now, reschedule, cancel, retry, "it is live"): an
        admin, a publisher named on every one of its accounts, or its author while they may still post to them
        all. (Without roles, as before: its author or an admin.)"""
        if self.is_admin or (account_ids and all(self.named_publisher(a) for a in account_ids)):
            return True
        return author == self.who.user_id and all(self.may_post(a) for a in account_ids)

    def may_manage_accounts(self, account_ids: Sequence[int]) -> bool:
        """Reconnect or disconnect a connection: an admin, or a publisher of each of its accounts that has roles
        (the workspace's "who may connect" setting applies besides)."""
        return self.is_admin or all(self.publishes(a) for a in account_ids)

    def reviews(self, account_ids: Iterable[int]) -> bool:
        """Whether this person approves posts to these accounts: the group's own approvers where it has some, else
        the workspace's (no approvers chosen: admins)."""
        found = approval_groups(self.rules, account_ids)
        if len(found) != 1:
            return False
        gid = next(iter(found))
        approvers = self.rules.approvers
        if gid is not None and not self.rules.groups[gid].approvers.empty:
            approvers = self.rules.groups[gid].approvers
        if approvers.empty:
            return self.is_admin
        return approvers.has(self.who.user_id, self.who.usergroups)

    def postable(self, account_ids: Iterable[int]) -> list[int]:
        return [a for a in account_ids if self.may_post(a)]

    def visible(self, account_ids: Iterable[int]) -> list[int]:
        return [a for a in account_ids if self.may_view(a)]


def everyone(user_id: str, slack_admin: bool = False) -> Access:
    """No roles set (or none readable): today's behaviour."""
    return Access(Rules(), Who(user_id, slack_admin))


# ---- words -----------------------------------------------------------------------------------------------


def who_may_post(rules: Rules, account_id: int, among: Sequence[str] = (PUBLISHER, CONTRIBUTOR)) -> str:
    """Who may post to this account (`among`: the roles that may), in Slack mrkdwn, for a refusal that says who
    to ask instead."""
    names: list[str] = []
    for scope in rules.scopes_of(account_id):
        for role in among:
            pick = rules.grants.get(scope, {}).get(role) or Pick()
            names += [f"<@{u}>" for u in pick.user_ids]
            names += [f"<!subteam^{pick.usergroup_id}>"] if pick.usergroup_id else []
    return ", ".join(dict.fromkeys(names)) + " or an admin" if names else "an admin"


def missing_line(hidden: int) -> str | None:
    """The compose window's line about the accounts it does not offer this person."""
    if not hidden:
        return None
    them = "account is" if hidden == 1 else "accounts are"
    return (f"{hidden} {them} not listed: you are not a publisher or contributor there. An admin can change "
            "this in `/picmim roles`.")


def refused_accounts(rules: Rules, names: dict[int, str], account_ids: Sequence[int]) -> str:
    """The compose window's error for accounts this person may not post to (a forged or outdated choice)."""
    shown = ", ".join(names.get(a, "an account") for a in account_ids)
    asks = who_may_post(rules, account_ids[0]) if account_ids else "an admin"
    return f"You may not post to {shown}. Ask {asks} to post it, or an admin to give you a role in `/picmim roles`."


def left_out_line(count: int, subscriber: str) -> str | None:
    """A digest's one line about the accounts it no longer covers: its subscriber lost the right to see them."""
    if not count:
        return None
    them = "1 account left out" if count == 1 else f"{count} accounts left out"
    return (f"{them}: <@{subscriber}> may no longer see {'it' if count == 1 else 'them'}. An admin can change roles "
            "in `/picmim roles`.")


NOT_YOURS = ("Only the post's author, a publisher of all its accounts or an admin can {}. "
             "An admin can change roles in `/picmim roles`.")
NO_APPROVERS = ("Your posts to these accounts wait for approval (you are a contributor there), but no approval "
                "channel is set, so nobody would see them: ask an admin to choose one in `/picmim settings` (or for "
                "the group in `/picmim roles`). Nothing was sent.")


# ---- approvals for a group ----------------------------------------------------------------------------


def approval_groups(rules: Rules, account_ids: Iterable[int]) -> set[int | None]:
    """The review each account belongs to: its group's own (its id), or the workspace's (None)."""
    found: set[int | None] = set()
    for account_id in account_ids:
        group = rules.group(account_id)
        found.add(group.id if group is not None and group.reviews else None)
    return found


def mixed_review(rules: Rules, account_ids: Sequence[int]) -> str | None:
    """A post that needs approval goes to one review: refused (with why) when its accounts belong to groups
    with different approvers."""
    found = approval_groups(rules, account_ids)
    if len(found) < 2:
        return None
    names = sorted(rules.groups[g].name for g in found if g is not None)
    if None in found:
        names.append("accounts outside any group")
    return (f"{' and '.join(names)} have different approvers: send one post to each, so each is approved by "
            "its own approvers.")


def reviewing(workspace: Workspace, rules: Rules, account_ids: Iterable[int]) -> Workspace:
    """The workspace's approval settings as they apply to a post to these accounts: its group's approvers and
    channel where the group has its own (a copy, never added to a session), else the workspace itself."""
    found = approval_groups(rules, account_ids)
    gid = next(iter(found)) if len(found) == 1 else None
    if gid is None:
        return workspace
    group = rules.groups[gid]
    copy = Workspace(**{c.key: getattr(workspace, c.key) for c in Workspace.__table__.columns})
    if not group.approvers.empty:
        copy.approver_user_ids = list(group.approvers.user_ids)
        copy.approver_usergroup_id = group.approvers.usergroup_id
    copy.approval_channel_id = group.approval_channel_id or workspace.approval_channel_id
    return copy


async def post_accounts(session: AsyncSession, post_id: int) -> list[int]:
    return list(await session.scalars(select(PostTarget.account_id).where(PostTarget.post_id == post_id)
                                      .order_by(PostTarget.id)))


async def reviewing_for_post(session: AsyncSession, workspace: Workspace, post_id: int) -> Workspace:
    """`reviewing` for a stored post."""
    rules = await load_rules(session, workspace)
    if not rules.groups:
        return workspace
    return reviewing(workspace, rules, await post_accounts(session, post_id))


# ---- what a person is shown ------------------------------------------------------------------------------


async def _accounts_of(session: AsyncSession, post_ids: Sequence[int]) -> dict[int, list[int]]:
    accounts: dict[int, list[int]] = {p: [] for p in post_ids}
    for post_id, account_id in await session.execute(
            select(PostTarget.post_id, PostTarget.account_id).where(PostTarget.post_id.in_(list(post_ids)))
            .order_by(PostTarget.id)):
        accounts[post_id].append(account_id)
    return accounts


async def visible_posts(session: AsyncSession, access: Access, post_ids: Sequence[int]) -> set[int]:
    """Of these posts, the ones this person may see: a viewer (or more) of each of their accounts, so a viewer of
    one brand is shown nothing of another's queue; and the posts waiting for this person's approval (an approver
    must see what they review, roles or not)."""
    if not access.rules.any_roles or not post_ids:
        return set(post_ids)
    accounts = await _accounts_of(session, post_ids)
    seen = {p for p, found in accounts.items() if all(access.may_view(a) for a in found)}
    unseen = [p for p in post_ids if p not in seen]
    if unseen:
        waiting = set(await session.scalars(select(Post.id).where(Post.id.in_(unseen),
                                                                  Post.status == PostStatus.PENDING_APPROVAL)))
        seen |= {p for p in waiting if access.reviews(accounts[p])}
    return seen


async def changeable_posts(session: AsyncSession, access: Access, posts: Sequence[tuple[int, str]]) -> set[int]:
    """Of these (post id, author) pairs, the posts whose buttons this person may use (`Access.may_change_post`):
    the queue shows them only those, so a viewer sees the list only."""
    if access.is_admin or not posts:
        return {p for p, _ in posts}
    accounts = await _accounts_of(session, [p for p, _ in posts])
    return {p for p, author in posts if access.may_change_post(author, accounts[p])}


async def hidden_connections(session: AsyncSession, access: Access, workspace_id: int) -> set[int]:
    """The connections this person may not see: every one of their accounts has roles, none of them for this
    person. (A connection with no account chosen yet stays visible.)"""
    if not access.rules.any_roles:
        return set()
    found: dict[int, list[int]] = {}
    for account_id, connection_id in await session.execute(
            select(Account.id, Account.connection_id).where(Account.workspace_id == workspace_id,
                                                           Account.connection_id.is_not(None))):
        found.setdefault(connection_id, []).append(account_id)
    return {c for c, accounts in found.items() if not any(access.may_view(a) for a in accounts)}


# ---- accounts without roles -----------------------------------------------------------------------------


async def open_accounts(session: AsyncSession, rules: Rules, workspace_id: int) -> list[str]:
    """With roles set on some accounts: the connected accounts that have none (nor their group), so anyone may post
    there ("Platform · Account"). Nothing when no roles are set at all (everyone publishing is then the rule)."""
    if not rules.any_roles:
        return []
    rows = await session.execute(select(Account.id, Account.platform, Account.name).where(
        Account.workspace_id == workspace_id, Account.active.is_(True), Account.connection_id.is_not(None))
        .order_by(Account.platform, Account.name))
    return [audit.connection_words(platform, name) for account_id, platform, name in rows
            if not rules.restricted(account_id)]


def open_note(names: Sequence[str]) -> str | None:
    """`/picmim accounts`' line for admins about accounts with no roles while others have some."""
    if not names:
        return None
    plain = [n.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;") for n in names]  # mrkdwn
    listed = ", ".join(plain[:5]) + (f" and {len(plain) - 5} more" if len(plain) > 5 else "")
    them = "has no roles yet: it is" if len(names) == 1 else "have no roles yet: they are"
    return f":warning: {listed} {them} open to everyone until you set roles in `/picmim roles`."


async def claim_new_accounts(session: AsyncSession, access: Access, workspace_id: int,
                             account_ids: Sequence[int]) -> list[int]:
    """Accounts just connected by someone who is not an admin, in a workspace that already uses roles: their
    connector becomes their publisher, so a new account is not open to everyone (the company's account connected by
    one member stays theirs and the admins' until an admin sets roles). Which accounts were claimed. The caller
    commits."""
    if access.is_admin or not access.rules.any_roles:
        return []
    claimed = [a for a in account_ids if not access.rules.restricted(a)]
    for account_id in claimed:
        await save_roles(session, workspace_id, account_scope(account_id),
                         {PUBLISHER: Pick((access.who.user_id,))}, None, audit.BUTTON)
    return claimed


CLAIMED = ("Roles are in use here, so only you and the admins may post to {names} for now; an admin can give others a "
           "role in `/picmim roles`.")


# ---- saving what `/picmim roles` sets -------------------------------------------------------------------


class RolesError(Exception):
    """What stops a change from being saved, in words for the admin."""


def pick_words(pick: Pick) -> str:
    """People and a user group as the audit trail shows them (plain ids: its lines are not mrkdwn)."""
    said = list(pick.user_ids) + ([f"user group {pick.usergroup_id}"] if pick.usergroup_id else [])
    return ", ".join(said) or "nobody"


async def _scope_words(session: AsyncSession, account_id: int | None, group_id: int | None) -> str:
    if account_id is not None:
        account = await session.get(Account, account_id)
        return audit.connection_words(account.platform, account.name)
    return group_subject((await session.get(AccountGroup, group_id)).name)


def group_subject(name: str) -> str:
    return f"group “{name}”"


async def save_admins(session: AsyncSession, workspace_id: int, admins: Pick, actor: str | None = None,
                      source: str = audit.MODAL) -> None:
    """Picmim's admins as named in the roles window; a change is recorded in the audit trail."""
    workspace = await session.get(Workspace, workspace_id)
    before = Pick(tuple(workspace.admin_user_ids or ()), workspace.admin_usergroup_id)
    workspace.admin_user_ids = sorted(set(admins.user_ids))
    workspace.admin_usergroup_id = admins.usergroup_id or None
    after = Pick(tuple(workspace.admin_user_ids), workspace.admin_usergroup_id)
    if before != after:
        await audit.record(session, workspace_id, actor, source, audit.ROLES, "admins changed",
                           {"Admins": [pick_words(before), pick_words(after)]})


async def _group_roles(session: AsyncSession, group_id: int) -> dict[str, Pick]:
    return {g.role: Pick(tuple(g.user_ids or ()), g.usergroup_id)
            for g in await session.scalars(select(RoleGrant).where(RoleGrant.group_id == group_id))}


async def _check_scope(session: AsyncSession, workspace_id: int, scope: str) -> tuple[int | None, int | None]:
    kind, number = scope[:1], scope[1:]
    if kind not in ("a", "g") or not number.isdigit():
        raise RolesError("Choose an account or a group first.")
    if kind == "a":
        found = await session.scalar(select(Account.id).where(Account.id == int(number),
                                                              Account.workspace_id == workspace_id))
        if found is None:
            raise RolesError("This account is no longer connected.")
        return int(number), None
    found = await session.scalar(select(AccountGroup.id).where(AccountGroup.id == int(number),
                                                               AccountGroup.workspace_id == workspace_id))
    if found is None:
        raise RolesError("This group was deleted meanwhile.")
    return None, int(number)


async def save_roles(session: AsyncSession, workspace_id: int, scope: str, picks: dict[str, Pick],
                     actor: str | None = None, source: str = audit.MODAL) -> None:
    """The three pickers of one account or group, replacing what was there; a change is recorded in the audit
    trail. The caller commits."""
    account_id, group_id = await _check_scope(session, workspace_id, scope)
    before: dict[str, Pick] = {}
    for grant in await session.scalars(select(RoleGrant).where(
            RoleGrant.workspace_id == workspace_id,
            RoleGrant.account_id == account_id if account_id is not None else RoleGrant.group_id == group_id)):
        before[grant.role] = Pick(tuple(sorted(set(grant.user_ids or ()))), grant.usergroup_id)
    after = {role: Pick(tuple(sorted(set(p.user_ids))), p.usergroup_id)
             for role, p in picks.items() if p is not None and not p.empty}
    changed = audit.diff({LABELS[r]: pick_words(p) for r, p in before.items()},
                         {LABELS[r]: pick_words(p) for r, p in after.items()})
    if changed:
        words = await _scope_words(session, account_id, group_id)
        await audit.record(session, workspace_id, actor, source, audit.ROLES if account_id else words,
                           "roles changed", {"on": words, **changed}, account_id=account_id)
    await session.execute(delete(RoleGrant).where(RoleGrant.workspace_id == workspace_id,
                                                  RoleGrant.account_id.is_(None) if account_id is None
                                                  else RoleGrant.account_id == account_id,
                                                  RoleGrant.group_id.is_(None) if group_id is None
                                                  else RoleGrant.group_id == group_id))
    for role in ROLES:
        pick = picks.get(role) or Pick()
        if not pick.empty:
            session.add(RoleGrant(workspace_id=workspace_id, account_id=account_id, group_id=group_id, role=role,
                                  user_ids=sorted(set(pick.user_ids)), usergroup_id=pick.usergroup_id))
    await session.flush()


@dataclass
class GroupForm:
    """A group as the admin set it in its window."""

    name: str = ""
    account_ids: list[int] = field(default_factory=list)
    approvers: Pick = Pick()
    approval_channel_id: str | None = None
    digest_channel_id: str | None = None


NAME, ACCOUNTS = "name", "accounts"


async def group_problems(session: AsyncSession, workspace_id: int, form: GroupForm,
                         group_id: int | None) -> dict[str, str]:
    problems: dict[str, str] = {}
    name = form.name.strip()
    if not name:
        problems[NAME] = "Give the group a name, such as the brand's or the client's."
    elif len(name) > MAX_GROUP_NAME:
        problems[NAME] = f"Keep the name under {MAX_GROUP_NAME} characters."
    else:
        clash = await session.scalar(select(AccountGroup.id).where(AccountGroup.workspace_id == workspace_id,
                                                                   AccountGroup.name == name))
        if clash is not None and clash != group_id:
            problems[NAME] = f"There is already a group called “{name}”: choose another name."
    if form.account_ids:
        known = set(await session.scalars(select(Account.id).where(Account.workspace_id == workspace_id,
                                                                   Account.id.in_(form.account_ids))))
        if set(form.account_ids) - known:
            problems[ACCOUNTS] = "An account you chose is no longer connected: choose again."
    return problems


async def _group_snapshot(session: AsyncSession, group: AccountGroup | None) -> dict[str, str]:
    """A group as the audit trail shows it."""
    if group is None or group.id is None:
        return {}
    accounts = [audit.connection_words(platform, name) for platform, name in await session.execute(
        select(Account.platform, Account.name).join(AccountGroupMember, AccountGroupMember.account_id == Account.id)
        .where(AccountGroupMember.group_id == group.id).order_by(Account.platform, Account.name))]
    return {"name": group.name, "accounts": ", ".join(accounts) or "none",
            "approvers": pick_words(Pick(tuple(group.approver_user_ids or ()), group.approver_usergroup_id)),
            "approval channel": group.approval_channel_id or "the workspace's",
            "digest channel": group.digest_channel_id or "none"}


async def save_group(session: AsyncSession, workspace_id: int, form: GroupForm, group_id: int | None,
                     actor: str | None = None, source: str = audit.MODAL) -> int:
    """Create or change a group (its accounts leave any other group: an account is in one group at most), recorded
    in the audit trail. Call `group_problems` first. The caller commits."""
    group = await session.get(AccountGroup, group_id) if group_id else None
    if group is None or group.workspace_id != workspace_id:
        if group_id:
            raise RolesError("This group was deleted meanwhile.")
        group = AccountGroup(workspace_id=workspace_id)
        session.add(group)
    before = await _group_snapshot(session, group)
    group.name = form.name.strip()
    group.approver_user_ids = sorted(set(form.approvers.user_ids))
    group.approver_usergroup_id = form.approvers.usergroup_id
    group.approval_channel_id = form.approval_channel_id
    group.digest_channel_id = form.digest_channel_id
    await session.flush()
    await session.execute(delete(AccountGroupMember).where(AccountGroupMember.group_id == group.id))
    if form.account_ids:
        await session.execute(delete(AccountGroupMember).where(
            AccountGroupMember.account_id.in_(form.account_ids)))
        session.add_all(AccountGroupMember(account_id=a, group_id=group.id) for a in dict.fromkeys(form.account_ids))
    await session.flush()
    after = await _group_snapshot(session, group)
    if not before:
        await audit.record(session, workspace_id, actor, source, group_subject(group.name), "group created", after)
    elif changed := audit.diff(before, after):
        await audit.record(session, workspace_id, actor, source, group_subject(group.name), "group changed", changed)
    return group.id


async def delete_group(session: AsyncSession, workspace_id: int, group_id: int, actor: str | None = None,
                       source: str = audit.MODAL) -> str | None:
    """Delete a group (its roles go with it; its accounts stay, with their own roles), recorded in the audit trail.
    Its name, or None when it was already gone. The caller commits."""
    group = await session.get(AccountGroup, group_id)
    if group is None or group.workspace_id != workspace_id:
        return None
    name = group.name
    said = await _group_snapshot(session, group)
    for role, pick in (await _group_roles(session, group_id)).items():
        said[LABELS[role]] = pick_words(pick)
    await audit.record(session, workspace_id, actor, source, group_subject(name), "group deleted", said)
    await session.execute(delete(RoleGrant).where(RoleGrant.group_id == group_id))
    await session.execute(delete(AccountGroupMember).where(AccountGroupMember.group_id == group_id))
    await session.delete(group)
    await session.flush()
    return name
