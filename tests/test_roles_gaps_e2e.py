"""Who may post where, the gaps closed after it landed, end to end through the real server: admins named in
`/picmim roles` count as admins everywhere, role changes are in the audit trail, the queue shows only the buttons
its viewer may use, the workspace's approvers see the posts they review, and `/picmim accounts` tells admins which
accounts nobody set roles on. (Same world as tests/test_roles_e2e.py: Acme Marketing in the group "Acme", Beta on
its own; cara contributes to Acme, vic views it, paul publishes Beta.)"""

from __future__ import annotations

import time
from datetime import timedelta

from sqlalchemy import delete, select, update

from bot import ids
from bot.payloads import GroupOrigin, RolesOrigin
from bot.services import roles
from bot.storage.models import (
    Account,
    AccountGroup,
    AuditEntry,
    Connection,
    Post,
    PostStatus,
    PostTarget,
    RoleGrant,
    TargetStatus,
    Workspace,
    utcnow,
)
from tests import journeys
from tests import test_roles_e2e as base
from tests.journeys import blocks_of, compose_state, shown, wait_until
from tests.test_roles_e2e import (
    ACME_REVIEW,
    ADMIN,
    CARA,
    GINA,
    PAUL,
    TEAM,
    VIC,
    _approve_click,
    _home,
    _posts,
    _run,
    _submission,
)

fake_x, compose_server = journeys.fake_x, journeys.compose_server
sender = journeys.compose_sender
# The same world as tests/test_roles_e2e.py (pytest finds fixtures by name in this module).
people, world, roles_set, server_log = base.people, base.world, base.roles_set, base.server_log


def _name_admin(url: str, *users: str) -> None:
    _run(url, lambda s: s.execute(update(Workspace).values(admin_user_ids=list(users))))


def _queued(url: str, workspace_id: int, account: int, author: str, status=PostStatus.SCHEDULED) -> Post:
    async def write(session):
        post = Post(workspace_id=workspace_id, author_user_id=author, text=f"Queued {status.value} {time.time_ns()}",
                    status=status, scheduled_at=utcnow() + timedelta(hours=3), options={})
        post.targets = [PostTarget(account_id=account, status=TargetStatus.SCHEDULED
                                   if status is PostStatus.SCHEDULED else TargetStatus.PENDING)]
        session.add(post)
        await session.flush()
        return post
    return _run(url, write)


def _cancel(url: str, *posts: Post) -> None:
    _run(url, lambda s: s.execute(update(Post).where(Post.id.in_([p.id for p in posts]))
                                  .values(status=PostStatus.CANCELLED)))


def _queue_of(sender, slack, user: str) -> list[dict]:
    rid = f"{user}-queue-{time.time_ns()}"
    sender.command("queue", user_id=user, response_url=slack.response_url(rid))
    [listed] = slack.wait_for_response(rid)
    return listed["blocks"]


def _buttons_of(blocks: list[dict], post: Post) -> list[str]:
    return [e["action_id"] for b in blocks if b.get("block_id") == f"queue_{post.id}" for e in b["elements"]]


def _card_click(sender, slack, post: Post, user: str, action_id: str, rid: str) -> None:
    payload = {"type": "block_actions", "team": TEAM, "user": {"id": user, "team_id": "T0001"},
               "api_app_id": "A0PICMIM", "token": "deprecated", "trigger_id": f"trigger-{time.time_ns()}",
               "channel": {"id": post.review_channel_id}, "response_url": slack.response_url(rid),
               "container": {"type": "message", "message_ts": post.review_ts, "channel_id": post.review_channel_id,
                             "is_ephemeral": False},
               "message": {"type": "message", "ts": post.review_ts, "text": "card"},
               "actions": [{"type": "button", "action_id": action_id, "block_id": f"review_{post.id}",
                            "value": f"{post.id}:{post.version}", "action_ts": str(time.time())}]}
    assert sender.interaction(payload).status_code == 200


# ---- 1. admins named in /picmim roles ------------------------------------------------------------------------


def test_a_picmim_admin_who_is_no_slack_admin_reads_the_audit_connects_when_admins_only_and_sees_setup(
        sender, slack, world, module_database):
    url = module_database.url
    sender.command("audit", user_id=PAUL, response_url=slack.response_url("paul-audit-refused"))
    [refused] = slack.wait_for_response("paul-audit-refused")
    assert refused["text"].startswith("Only") and "audit trail" in refused["text"], "not an admin yet"

    _name_admin(url, PAUL)
    _run(url, lambda s: s.execute(update(Workspace).values(managers_policy="admins")))
    try:
        sender.command("audit", user_id=PAUL, response_url=slack.response_url("paul-audit"))
        [trail] = slack.wait_for_response("paul-audit")
        assert trail["text"].startswith("Audit trail: Everything"), trail["text"]

        sender.command("connect", user_id=PAUL, response_url=slack.response_url("paul-connect"))
        [listed] = slack.wait_for_response("paul-connect")
        assert listed["text"] == "Connect a social account" and ids.CONNECT_PLATFORM in shown(listed["blocks"])
        sender.command("connect", user_id=VIC, response_url=slack.response_url("vic-connect"))
        [refused] = slack.wait_for_response("vic-connect")
        assert refused["text"].startswith("Only workspace admins may connect or disconnect accounts here.")

        assert '"Setup"' in _home(sender, slack, PAUL), "Home's setup section is for admins"
        assert '"Setup"' not in _home(sender, slack, VIC)
    finally:
        _name_admin(url)
        _run(url, lambda s: s.execute(update(Workspace).values(managers_policy="members")))


def test_a_picmim_admin_approves_when_admins_approve(sender, slack, fake_x, roles_set, module_database):
    acme, _, _, _ = roles_set
    url = module_database.url
    text = f"For an admin to approve {time.time_ns()}"
    answer = sender.interaction(_submission(compose_state([acme], text), CARA))
    assert answer.status_code == 200 and answer.text in ("", "null"), answer.text
    post = wait_until(lambda: next((p for p in _posts(url, text) if p.review_ts), None), "the review card")

    _approve_click(sender, slack, post, PAUL, "paul-not-yet")  # no approvers chosen: admins approve
    [refused] = slack.wait_for_response("paul-not-yet")
    assert "workspace admins" in refused["text"], refused["text"]
    assert _posts(url, text)[0].status is PostStatus.PENDING_APPROVAL

    _name_admin(url, PAUL)
    try:
        before = len(slack.calls_to("views.open"))
        _card_click(sender, slack, post, PAUL, ids.REVIEW_SHARE, "paul-shares")  # review links are approvers' too
        opened = wait_until(lambda: slack.calls_to("views.open")[before:], "the Share for review window")[-1]
        assert blocks_of(opened.params["view"])["callback_id"] == ids.REVIEW_SHARE_VIEW
        _approve_click(sender, slack, post, PAUL, "paul-approves")
        wait_until(lambda: journeys.x_posts(fake_x, text), "the approved post on X")
    finally:
        _name_admin(url)


# ---- 2. role changes in the audit trail ----------------------------------------------------------------------


def test_changing_roles_in_the_window_is_in_the_audit_trail_with_who_changed_what(sender, slack, world,
                                                                                 module_database):
    acme, beta, group, _ = world
    url = module_database.url
    scope = roles.account_scope(beta)
    values = {ids.ROLES_ADMINS_BLOCK: {ids.ROLES_ADMINS_INPUT: {"type": "multi_users_select",
                                                                "selected_users": [GINA]}},
              f"{ids.ROLES_PEOPLE_BLOCK}publisher_{scope}": {ids.ROLES_PEOPLE_INPUT: {
                  "type": "multi_users_select", "selected_users": [PAUL]}},
              f"{ids.ROLES_PEOPLE_BLOCK}contributor_{scope}": {ids.ROLES_PEOPLE_INPUT: {
                  "type": "multi_users_select", "selected_users": []}},
              f"{ids.ROLES_PEOPLE_BLOCK}viewer_{scope}": {ids.ROLES_PEOPLE_INPUT: {
                  "type": "multi_users_select", "selected_users": [VIC]}}}
    answer = sender.interaction({
        "type": "view_submission", "team": TEAM, "user": {"id": ADMIN, "team_id": "T0001"}, "api_app_id": "A0PICMIM",
        "token": "deprecated", "trigger_id": f"trigger-{time.time_ns()}",
        "view": {"id": "VROLES", "team_id": "T0001", "type": "modal", "callback_id": ids.ROLES_VIEW,
                 "private_metadata": RolesOrigin(scope).encode(), "state": {"values": values},
                 "hash": f"h{time.time_ns()}", "blocks": []}})
    assert answer.status_code == 200 and answer.text in ("", "null"), answer.text
    # A group renamed in its window.
    form = {ids.GROUP_NAME_BLOCK: {ids.GROUP_NAME_INPUT: {"type": "plain_text_input", "value": "Acme brand"}},
            ids.GROUP_ACCOUNTS_BLOCK: {ids.GROUP_ACCOUNTS_INPUT: {
                "type": "multi_static_select", "selected_options": [{"value": str(acme)}]}},
            ids.GROUP_APPROVAL_CHANNEL_BLOCK: {ids.GROUP_APPROVAL_CHANNEL_INPUT: {
                "type": "conversations_select", "selected_conversation": ACME_REVIEW}}}
    answer = sender.interaction({
        "type": "view_submission", "team": TEAM, "user": {"id": ADMIN, "team_id": "T0001"}, "api_app_id": "A0PICMIM",
        "token": "deprecated", "trigger_id": f"trigger-{time.time_ns()}",
        "view": {"id": "VGROUP", "team_id": "T0001", "type": "modal", "callback_id": ids.GROUP_VIEW,
                 "private_metadata": GroupOrigin(group).encode(), "state": {"values": form},
                 "hash": f"h{time.time_ns()}", "blocks": []}})
    assert answer.status_code == 200 and answer.text in ("", "null"), answer.text
    try:
        sender.command("audit", user_id=ADMIN, response_url=slack.response_url("admin-audit"))
        [trail] = slack.wait_for_response("admin-audit")
        lines = [b["text"]["text"] for b in trail["blocks"] if b["type"] == "section"]
        [admins] = [x for x in lines if x.startswith("*admins changed* · <@U0001>")]
        assert "U0R04" in admins, admins
        [granted] = [x for x in lines if x.startswith("*roles changed* · <@U0001>")]
        assert "X · Beta" in granted and "Publishers" in granted and "U0R03" in granted and "Viewers" in granted
        [renamed] = [x for x in lines if x.startswith("*group changed* · <@U0001>")]
        assert "group “Acme brand”" in renamed and "Acme" in renamed
        saved = _run(url, lambda s: s.scalars(select(AuditEntry).where(AuditEntry.subject == "roles"))).all()
        assert {e.source for e in saved} == {"modal"}

        # The account's own trail has its roles too.
        sender.command("audit @betabrand", user_id=ADMIN, response_url=slack.response_url("admin-audit-beta"))
        [trail] = slack.wait_for_response("admin-audit-beta")
        assert "*roles changed* · <@U0001>" in shown(trail["blocks"])
    finally:
        _run(url, lambda s: s.execute(delete(RoleGrant)))
        _name_admin(url)
        _run(url, lambda s: s.execute(update(AccountGroup).where(AccountGroup.id == group)
                                      .values(name="Acme")))


# ---- 3. the queue's buttons ----------------------------------------------------------------------------------


def test_the_queue_shows_a_viewer_the_list_only_and_an_author_her_own_buttons(sender, slack, roles_set,
                                                                             module_database):
    acme, _, _, workspace_id = roles_set
    url = module_database.url
    theirs = _queued(url, workspace_id, acme, ADMIN)
    hers = _queued(url, workspace_id, acme, CARA, PostStatus.PENDING_APPROVAL)
    try:
        seen = _queue_of(sender, slack, VIC)
        assert theirs.text in shown(seen) and hers.text in shown(seen), "a viewer sees the list"
        assert _buttons_of(seen, theirs) == [] and _buttons_of(seen, hers) == []
        assert "Posts without buttons are not yours to change" in shown(seen)

        seen = _queue_of(sender, slack, CARA)  # a contributor: her own post's buttons, not the admin's
        assert _buttons_of(seen, theirs) == []
        assert _buttons_of(seen, hers) == [ids.QUEUE_EDIT, ids.QUEUE_RESCHEDULE, ids.QUEUE_CANCEL]

        seen = _queue_of(sender, slack, ADMIN)
        assert _buttons_of(seen, theirs) == [ids.QUEUE_PUBLISH_NOW, ids.QUEUE_EDIT, ids.QUEUE_RESCHEDULE,
                                             ids.QUEUE_CANCEL]
        assert "Posts without buttons" not in shown(seen)
    finally:
        _cancel(url, theirs, hers)


# ---- 5. the workspace's approvers see what they review ------------------------------------------------------


def test_a_workspace_approver_with_no_role_sees_the_post_she_must_review(sender, slack, roles_set, module_database):
    _, beta, _, workspace_id = roles_set
    url = module_database.url
    _run(url, lambda s: s.execute(update(Workspace).values(approval_required=True, approval_channel_id="C0APPROVE",
                                                           approver_user_ids=[GINA])))
    waiting = _queued(url, workspace_id, beta, PAUL, PostStatus.PENDING_APPROVAL)
    scheduled = _queued(url, workspace_id, beta, PAUL)
    try:
        home = _home(sender, slack, GINA)
        assert "Waiting for your approval" in home and waiting.text in home
        assert scheduled.text not in home, "only what she reviews: the rest of Beta stays hidden"
        seen = _queue_of(sender, slack, GINA)
        assert waiting.text in shown(seen) and scheduled.text not in shown(seen)
        assert _buttons_of(seen, waiting) == [], "she reviews it on its card; the queue's buttons are not hers"
        assert waiting.text not in _home(sender, slack, VIC), "nor shown to someone with no part in it"
    finally:
        _cancel(url, waiting, scheduled)
        _run(url, lambda s: s.execute(update(Workspace).values(approval_required=False, approval_channel_id=None,
                                                               approver_user_ids=[])))


# ---- 6. accounts nobody set roles on ------------------------------------------------------------------------


def test_accounts_tells_admins_which_accounts_are_still_open_to_everyone(sender, slack, roles_set, module_database):
    _, _, _, workspace_id = roles_set
    url = module_database.url

    async def gamma(session):
        connection = Connection(workspace_id=workspace_id, platform="bluesky", external_user_id="gamma2",
                                display_name="Gamma on Bluesky")
        session.add(connection)
        await session.flush()
        account = Account(workspace_id=workspace_id, connection_id=connection.id, platform="bluesky",
                          external_id="gamma2", kind="profile", name="Gamma on Bluesky")
        session.add(account)
        await session.flush()
        return account.id
    other = _run(url, gamma)
    try:
        sender.command("accounts", user_id=ADMIN, response_url=slack.response_url("admin-accounts"))
        [listed] = slack.wait_for_response("admin-accounts")
        assert ("Bluesky · Gamma on Bluesky has no roles yet: it is open to everyone until you set roles in "
                "`/picmim roles`.") in shown(listed["blocks"])
        assert "X · Beta" not in shown(listed["blocks"]).split("has no roles")[0], "Beta has roles"
        sender.command("accounts", user_id=PAUL, response_url=slack.response_url("paul-accounts"))
        [listed] = slack.wait_for_response("paul-accounts")
        assert "has no roles yet" not in shown(listed["blocks"]), "said to admins only"
    finally:
        _run(url, lambda s: s.execute(delete(Account).where(Account.id == other)))
        _run(url, lambda s: s.execute(delete(Connection).where(Connection.external_user_id == "gamma2")))

