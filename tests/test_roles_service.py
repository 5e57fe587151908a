"""The rules of who may post where (bot/services/roles.py): roles per account and per group, admins, user groups,
the default for small teams, approvals of a group, and saving what `/picmim roles` sets."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.services import roles
from bot.services.roles import (
    CONTRIBUTOR,
    PUBLISHER,
    VIEWER,
    Access,
    Group,
    GroupForm,
    Pick,
    Rules,
    Who,
    account_scope,
    group_scope,
)
from bot.storage import db as storage
from bot.storage.models import Account, AccountGroupMember, Connection, RoleGrant, Workspace

A1, A2, B1, LOOSE = 1, 2, 3, 4  # brand A's two accounts, brand B's one, and one in no group


def _rules(**grants: dict[str, Pick]) -> Rules:
    """Brand A (group 10, own approvers) holds A1 and A2, brand B (group 20) holds B1; LOOSE is in no group."""
    return Rules(
        admins=Pick(("UPICADMIN",), "SADMINS"),
        groups={10: Group(10, "Brand A", frozenset({A1, A2}), Pick(("UAPPROVER",)), "CREVIEWA", "CDIGESTA"),
                20: Group(20, "Brand B", frozenset({B1}))},
        group_of={A1: 10, A2: 10, B1: 20},
        grants={scope: picks for scope, picks in grants.items()})


def _as(rules: Rules, user: str, *groups: str, slack_admin: bool = False) -> Access:
    return Access(rules, Who(user, slack_admin, frozenset(groups)))


def test_with_no_roles_everyone_publishes_everywhere_and_changes_only_their_own_posts():
    anyone = roles.everyone("UANY")
    assert all(anyone.role(a) == PUBLISHER for a in (A1, B1, LOOSE))
    assert not anyone.needs_approval([A1, B1])
    assert anyone.may_change_post("UANY", [A1]) and not anyone.may_change_post("UOTHER", [A1])
    assert roles.everyone("UADMIN", slack_admin=True).may_change_post("UOTHER", [A1])


def test_roles_on_a_group_apply_to_its_accounts_and_leave_the_others_open():
    rules = _rules(**{group_scope(10): {CONTRIBUTOR: Pick(("UCARA",)), VIEWER: Pick(("UVIC",))}})
    cara, vic, stranger = _as(rules, "UCARA"), _as(rules, "UVIC"), _as(rules, "USTRANGER")
    assert [cara.role(a) for a in (A1, A2, B1, LOOSE)] == [CONTRIBUTOR, CONTRIBUTOR, PUBLISHER, PUBLISHER]
    assert cara.may_post(A1) and cara.needs_approval([A1]) and not cara.needs_approval([B1])
    assert vic.may_view(A1) and not vic.may_post(A1)
    assert stranger.role(A1) is None and not stranger.may_view(A2), "roles set: nobody else may see brand A"
    assert stranger.postable([A1, B1, LOOSE]) == [B1, LOOSE]


def test_a_group_s_approvers_see_its_accounts():
    rules = _rules(**{group_scope(10): {CONTRIBUTOR: Pick(("UCARA",))}})
    approver = _as(rules, "UAPPROVER")
    assert approver.role(A1) == VIEWER and not approver.may_post(A1)


def test_the_highest_role_on_the_account_or_its_group_counts():
    rules = _rules(**{group_scope(10): {VIEWER: Pick(("UPAT",))}, account_scope(A2): {PUBLISHER: Pick(("UPAT",))}})
    pat = _as(rules, "UPAT")
    assert (pat.role(A1), pat.role(A2)) == (VIEWER, PUBLISHER)


def test_a_user_group_role_applies_to_its_members_only():
    rules = _rules(**{account_scope(B1): {PUBLISHER: Pick((), "SBRANDB")}})
    assert _as(rules, "UGINA", "SBRANDB").role(B1) == PUBLISHER
    assert _as(rules, "UOTHER").role(B1) is None


def test_admins_are_slack_admins_named_people_and_the_admins_user_group():
    rules = _rules(**{group_scope(10): {VIEWER: Pick(("UVIC",))}})
    for admin in (_as(rules, "UOWNER", slack_admin=True), _as(rules, "UPICADMIN"), _as(rules, "UX", "SADMINS")):
        assert admin.is_admin and admin.role(A1) == PUBLISHER and admin.may_change_post("USOMEONE", [A1, B1])
    assert not _as(rules, "UVIC").is_admin


def test_who_may_change_a_post_author_named_publisher_or_admin():
    rules = _rules(**{group_scope(10): {PUBLISHER: Pick(("UPUB",)), CONTRIBUTOR: Pick(("UCARA",)),
                                        VIEWER: Pick(("UVIC",))}})
    assert _as(rules, "UPUB").may_change_post("UCARA", [A1, A2])
    assert _as(rules, "UCARA").may_change_post("UCARA", [A1]), "her own post, while she may still post there"
    assert not _as(rules, "UCARA").may_change_post("UPUB", [A1])
    assert not _as(rules, "UVIC").may_change_post("UVIC", [A1]), "a viewer now: no longer hers to change"
    assert not _as(rules, "UPUB").may_change_post("UCARA", [A1, LOOSE]), "LOOSE has no named publisher"


def test_a_post_spanning_groups_with_their_own_approvers_is_refused_with_why():
    rules = _rules()
    assert roles.mixed_review(rules, [A1, A2]) is None
    assert roles.mixed_review(rules, [B1, LOOSE]) is None, "brand B has no approvers of its own"
    said = roles.mixed_review(rules, [A1, LOOSE])
    assert said.startswith("Brand A and accounts outside any group have different approvers")


def test_a_group_s_posts_are_reviewed_by_its_approvers_in_its_channel():
    workspace = Workspace(id=1, team_id="T1", approval_channel_id="CWORKSPACE", approver_user_ids=["UBOSS"],
                          approver_usergroup_id=None, approvals_needed=1)
    rules = _rules()
    seen = roles.reviewing(workspace, rules, [A1, A2])
    assert (seen.approver_user_ids, seen.approval_channel_id) == (["UAPPROVER"], "CREVIEWA")
    assert workspace.approver_user_ids == ["UBOSS"], "the workspace itself is untouched"
    assert roles.reviewing(workspace, rules, [B1]) is workspace


def test_refusals_say_who_may_instead():
    rules = _rules(**{account_scope(B1): {PUBLISHER: Pick(("UPAUL",), "SBRANDB")}})
    assert roles.who_may_post(rules, B1) == "<@UPAUL>, <!subteam^SBRANDB> or an admin"
    assert roles.who_may_post(rules, LOOSE) == "an admin"
    assert roles.refused_accounts(rules, {B1: "X · Beta"}, [B1]).startswith(
        "You may not post to X · Beta. Ask <@UPAUL>, <!subteam^SBRANDB> or an admin")


# ---- stored ------------------------------------------------------------------------------------------------


@pytest.fixture
async def sessions(engine):
    return storage.session_factory(engine)


async def _workspace_with_accounts(sessions) -> tuple[int, list[int]]:
    async with sessions() as session:
        workspace = Workspace(team_id="T1")
        session.add(workspace)
        await session.flush()
        connection = Connection(workspace_id=workspace.id, platform="x", external_user_id="1")
        session.add(connection)
        await session.flush()
        accounts = [Account(workspace_id=workspace.id, connection_id=connection.id, platform="x", external_id=str(n),
                            kind="profile", name=f"Account {n}") for n in range(3)]
        session.add_all(accounts)
        await session.commit()
        return workspace.id, [a.id for a in accounts]


async def test_saved_groups_roles_and_admins_are_read_back(sessions):
    workspace_id, (a, b, c) = await _workspace_with_accounts(sessions)
    async with sessions() as session:
        brand = await roles.save_group(session, workspace_id, GroupForm("Brand", [a, b], Pick(("UAPP",), "SREV"),
                                                                       "CREVIEW", "CDIGEST"), None)
        await roles.save_roles(session, workspace_id, group_scope(brand),
                               {CONTRIBUTOR: Pick(("UCARA",)), VIEWER: Pick((), "SVIEW")})
        await roles.save_roles(session, workspace_id, account_scope(c), {PUBLISHER: Pick(("UPAUL",))})
        await roles.save_admins(session, workspace_id, Pick(("UADM",), "SADM"))
        await session.commit()
    async with sessions() as session:
        rules = await roles.load_rules(session, await session.get(Workspace, workspace_id))
    assert rules.groups[brand] == Group(brand, "Brand", frozenset({a, b}), Pick(("UAPP",), "SREV"), "CREVIEW",
                                        "CDIGEST")
    assert rules.picks(group_scope(brand))[VIEWER] == Pick((), "SVIEW")
    assert rules.admins == Pick(("UADM",), "SADM") and rules.usergroups() == {"SADM", "SVIEW", "SREV"}
    assert rules.restricted(a) and rules.restricted(c)


async def test_an_account_moves_to_its_new_group_and_a_deleted_group_takes_its_roles(sessions):
    workspace_id, (a, b, _) = await _workspace_with_accounts(sessions)
    async with sessions() as session:
        first = await roles.save_group(session, workspace_id, GroupForm("First", [a, b]), None)
        await roles.save_roles(session, workspace_id, group_scope(first), {VIEWER: Pick(("UVIC",))})
        second = await roles.save_group(session, workspace_id, GroupForm("Second", [b]), None)
        await session.commit()
    async with sessions() as session:
        members = dict((await session.execute(select(AccountGroupMember.account_id,
                                                     AccountGroupMember.group_id))).all())
        assert members == {a: first, b: second}
        problems = await roles.group_problems(session, workspace_id, GroupForm("Second", [999]), first)
        assert set(problems) == {roles.NAME, roles.ACCOUNTS}
        assert await roles.delete_group(session, workspace_id, first) == "First"
        await session.commit()
    async with sessions() as session:
        assert (await session.scalars(select(RoleGrant))).all() == []
        assert (await session.get(Account, a)) is not None, "its accounts stay"


async def test_roles_for_another_workspace_s_account_are_refused(sessions):
    _, (a, _, _) = await _workspace_with_accounts(sessions)
    async with sessions() as session:
        other = Workspace(team_id="T2")
        session.add(other)
        await session.flush()
        with pytest.raises(roles.RolesError):
            await roles.save_roles(session, other.id, account_scope(a), {PUBLISHER: Pick(("UX",))})
        with pytest.raises(roles.RolesError):
            await roles.save_roles(session, other.id, "x1; drop", {})


async def test_an_account_connected_by_a_member_where_roles_are_in_use_is_theirs_until_an_admin_sets_roles(sessions):
    """A new account is not open to everyone in a workspace that uses roles: its connector publishes, others
    (admins aside) have no rights on it; where no roles are used, or an admin connects, nothing changes."""
    from bot.storage.models import AuditEntry

    workspace_id, (a, b, c) = await _workspace_with_accounts(sessions)
    async with sessions() as session:
        rules = await roles.load_rules(session, await session.get(Workspace, workspace_id))
        assert await roles.claim_new_accounts(session, _as(rules, "UMEMBER"), workspace_id, [c]) == [], "no roles"
        await roles.save_roles(session, workspace_id, account_scope(a), {PUBLISHER: Pick(("UPAUL",))})
        rules = await roles.load_rules(session, await session.get(Workspace, workspace_id))
        assert await roles.claim_new_accounts(session, _as(rules, "UADMIN", slack_admin=True), workspace_id,
                                              [b]) == [], "an admin sets roles himself"
        assert await roles.claim_new_accounts(session, _as(rules, "UMEMBER"), workspace_id, [c]) == [c]
        await session.commit()
    async with sessions() as session:
        rules = await roles.load_rules(session, await session.get(Workspace, workspace_id))
        assert _as(rules, "UMEMBER").publishes(c) and not _as(rules, "UOTHER").may_view(c)
        assert not rules.restricted(b)
        assert await roles.open_accounts(session, rules, workspace_id) == ["X · Account 1"]
        [entry] = (await session.scalars(select(AuditEntry).where(AuditEntry.account_id == c))).all()
        assert (entry.actor, entry.action) == ("Picmim", "roles changed") and "UMEMBER" in entry.change


def test_who_reviews_a_post_the_group_s_approvers_else_the_workspace_s_else_admins():
    rules = Rules(**{**_rules().__dict__, "approvers": Pick((), "SAPPROVE")})
    assert _as(rules, "UANY", "SAPPROVE").reviews([LOOSE]) and _as(rules, "UANY", "SAPPROVE").reviews([B1])
    assert not _as(rules, "UANY", "SAPPROVE").reviews([A1]), "brand A has approvers of its own"
    assert _as(rules, "UAPPROVER").reviews([A1, A2]) and not _as(rules, "UAPPROVER").reviews([LOOSE])
    assert not _as(rules, "UANY", "SAPPROVE").reviews([A1, LOOSE]), "two reviews: nobody's alone"
    no_approvers = _rules()
    assert _as(no_approvers, "UPICADMIN").reviews([LOOSE]) and not _as(no_approvers, "UANY").reviews([LOOSE])
    assert "SAPPROVE" in rules.usergroups(), "its members are looked up like the roles' groups"
