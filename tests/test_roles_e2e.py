"""Who may post where, end to end: the real server with two X accounts (Acme Marketing in the group "Acme", Beta
on its own), roles set in the database or through the `/picmim roles` window, and people composing, pressing
buttons and asking for stats with signed Slack requests, as Slack sends them."""

from __future__ import annotations

import json
import time
from datetime import timedelta

import pytest
from sqlalchemy import delete, select, update

from bot import ids
from bot.services import roles
from bot.services.roles import GroupForm, Pick
from bot.storage.models import (
    Account,
    AccountGroup,
    Connection,
    DigestSubscription,
    MetricSnapshot,
    Post,
    PostStatus,
    PostTarget,
    RoleGrant,
    TargetStatus,
    Workspace,
    utcnow,
)
from tests import journeys
from tests.journeys import blocks_of, compose_state, field_errors, shown, status_click, wait_until

fake_x, compose_server = journeys.fake_x, journeys.compose_server
sender, account_id = journeys.compose_sender, journeys.account_id

TEAM = {"id": "T0001", "domain": "acme"}
ADMIN, CARA, VIC, PAUL, GINA = "U0001", "U0R01", "U0R02", "U0R03", "U0R04"  # U0001 is a Slack admin
ACME_REVIEW, BRAND_GROUP = "C0ACMEREVIEW", "S0BETAPUB"


_run = journeys.in_database


@pytest.fixture(scope="module", autouse=True)
def people(fake_slack, compose_server):
    team = fake_slack.teams["T0001"]
    for user_id, name in ((CARA, "cara"), (VIC, "vic"), (PAUL, "paul"), (GINA, "gina")):
        team.users[user_id] = {"id": user_id, "name": name, "tz": "Europe/Madrid", "is_admin": False}
    team.usergroups[BRAND_GROUP] = {"name": "Beta publishers", "handle": "beta-pub", "users": [GINA]}
    yield
    team.usergroups.pop(BRAND_GROUP, None)


@pytest.fixture(scope="module")
def world(compose_server, module_database):
    """Beta, a second account on the same X connection; Acme Marketing in the group "Acme" (reviewed in its own
    channel). Returns (acme id, beta id, group id)."""
    acme = compose_server[1]

    async def setup(session):
        first = await session.get(Account, acme)
        beta = Account(workspace_id=first.workspace_id, connection_id=first.connection_id, platform="x",
                       external_id=journeys.X_SUPPORT, kind="profile", name="Beta", handle="betabrand")
        session.add(beta)
        await session.flush()
        group = await roles.save_group(session, first.workspace_id,
                                       GroupForm("Acme", [acme], approval_channel_id=ACME_REVIEW), None)
        return beta.id, group, first.workspace_id
    beta, group, workspace_id = _run(module_database.url, setup)
    return acme, beta, group, workspace_id


@pytest.fixture
def roles_set(world, module_database):
    """Acme: cara contributes, vic views; Beta: paul publishes. Cleared after the test."""
    acme, beta, group, workspace_id = world

    async def grant(session):
        await roles.save_roles(session, workspace_id, roles.group_scope(group),
                               {roles.CONTRIBUTOR: Pick((CARA,)), roles.VIEWER: Pick((VIC,))})
        await roles.save_roles(session, workspace_id, roles.account_scope(beta), {roles.PUBLISHER: Pick((PAUL,))})
    _run(module_database.url, grant)
    yield world
    _run(module_database.url, lambda s: s.execute(delete(RoleGrant)))


def _submission(state: dict, user: str, metadata: str = '{"channel_id": "C0001"}') -> dict:
    return {"type": "view_submission", "team": TEAM, "user": {"id": user, "team_id": "T0001"},
            "api_app_id": "A0PICMIM", "token": "deprecated", "trigger_id": f"trigger-{time.time_ns()}",
            "view": {"id": f"V{time.time_ns()}", "team_id": "T0001", "type": "modal", "callback_id": ids.COMPOSE_VIEW,
                     "private_metadata": metadata, "state": state, "hash": f"h{time.time_ns()}", "blocks": []}}


def _posts(url: str, text: str) -> list[Post]:
    return _run(url, lambda s: s.scalars(select(Post).where(Post.text == text))).all()


def _opened(slack, before: int) -> dict:
    return blocks_of(wait_until(lambda: slack.calls_to("views.open")[before:], "a window")[-1].params["view"])


# ---- composing -----------------------------------------------------------------------------------------------


def test_a_contributor_sees_only_her_accounts_and_her_post_waits_for_approval_with_approval_off(
        sender, slack, fake_x, roles_set, module_database):
    acme, beta, _, _ = roles_set
    assert _run(module_database.url, lambda s: s.scalar(select(Workspace.approval_required))) is False
    before = len(slack.calls_to("views.open"))
    sender.command("post", user_id=CARA)
    window = _opened(slack, before)
    [accounts] = [b for b in window["blocks"] if b.get("block_id") == ids.COMPOSE_ACCOUNTS_BLOCK]
    assert [o["value"] for g in accounts["element"]["option_groups"] for o in g["options"]] == [str(acme)]
    assert "1 account is not listed: you are not a publisher or contributor there" in shown(window["blocks"])
    assert window["submit"]["text"] == "Send for approval"

    text = f"From a contributor {time.time_ns()}"
    answer = sender.interaction(_submission(compose_state([acme], text), CARA))
    assert answer.status_code == 200 and answer.text in ("", "null"), answer.text
    post = wait_until(lambda: next((p for p in _posts(module_database.url, text) if p.review_ts), None),
                      "the review card")
    assert post.status is PostStatus.PENDING_APPROVAL
    assert post.review_channel_id == ACME_REVIEW, "the group's own approval channel"
    time.sleep(1.0)  # the publisher ticks every 0.5 s: nothing goes out
    assert journeys.x_posts(fake_x, text) == []
    assert all(t.status is TargetStatus.PENDING for t in _run(
        module_database.url, lambda s: s.scalars(select(PostTarget).where(PostTarget.post_id == post.id))).all())


def test_a_forged_account_id_is_refused_beside_the_accounts_and_nothing_is_stored(sender, roles_set,
                                                                                  module_database):
    acme, beta, _, _ = roles_set
    text = f"Forged {time.time_ns()}"
    errors = field_errors(sender.interaction(_submission(compose_state([acme, beta], text), CARA)))
    assert errors[ids.COMPOSE_ACCOUNTS_BLOCK].startswith("You may not post to X · Beta. Ask <@U0R03> or an admin")
    errors = field_errors(sender.interaction(_submission(compose_state([acme], text), VIC)))
    assert "You may not post to X · Acme Marketing" in errors[ids.COMPOSE_ACCOUNTS_BLOCK]
    time.sleep(0.3)
    assert _posts(module_database.url, text) == []


def test_a_viewer_is_offered_nothing_to_post_to_and_told_why(sender, slack, roles_set):
    before = len(slack.calls_to("views.open"))
    sender.command("post", user_id=VIC)
    window = _opened(slack, before)
    assert "There is no account you may post to. 2 accounts are not listed" in shown(window["blocks"])


def test_a_user_group_role_applies_to_its_members(sender, roles_set, module_database):
    acme, beta, _, workspace_id = roles_set
    _run(module_database.url, lambda s: roles.save_roles(
        s, workspace_id, roles.account_scope(beta), {roles.PUBLISHER: Pick((PAUL,), BRAND_GROUP)}))
    text = f"From the group {time.time_ns()}"
    answer = sender.interaction(_submission(compose_state([beta], text), GINA))
    assert answer.status_code == 200 and answer.text in ("", "null"), answer.text
    post = wait_until(lambda: next(iter(_posts(module_database.url, text)), None), "the post")
    assert post.status in (PostStatus.SCHEDULED, PostStatus.PUBLISHING, PostStatus.PUBLISHED), "no approval needed"
    errors = field_errors(sender.interaction(_submission(compose_state([beta], f"x {text}"), CARA)))
    assert "<!subteam^S0BETAPUB>" in errors[ids.COMPOSE_ACCOUNTS_BLOCK], "the refusal says who may instead"


def _approve_click(sender, slack, post: Post, user: str, rid: str):
    payload = {"type": "block_actions", "team": TEAM, "user": {"id": user, "team_id": "T0001"},
               "api_app_id": "A0PICMIM", "token": "deprecated", "trigger_id": f"trigger-{time.time_ns()}",
               "channel": {"id": post.review_channel_id}, "response_url": slack.response_url(rid),
               "container": {"type": "message", "message_ts": post.review_ts, "channel_id": post.review_channel_id,
                             "is_ephemeral": False},
               "message": {"type": "message", "ts": post.review_ts, "text": "card"},
               "actions": [{"type": "button", "action_id": ids.REVIEW_APPROVE, "block_id": f"review_{post.id}",
                            "value": f"{post.id}:{post.version}", "action_ts": str(time.time())}]}
    assert sender.interaction(payload).status_code == 200


def test_a_group_s_own_approvers_decide_on_its_posts(sender, slack, fake_x, roles_set, module_database):
    acme, _, group, workspace_id = roles_set
    own = GroupForm("Acme", [acme], Pick((PAUL,)), ACME_REVIEW)
    _run(module_database.url, lambda s: roles.save_group(s, workspace_id, own, group))
    try:
        text = f"For Acme's approvers {time.time_ns()}"
        answer = sender.interaction(_submission(compose_state([acme], text), CARA))
        assert answer.status_code == 200 and answer.text in ("", "null"), answer.text
        post = wait_until(lambda: next((p for p in _posts(module_database.url, text) if p.review_ts), None),
                          "the review card")
        assert post.review_channel_id == ACME_REVIEW
        [card] = [c for c in slack.calls_to("chat.postMessage") if c.params.get("channel") == ACME_REVIEW
                  and c.params.get("ts") is None and text in shown(c.params.get("blocks"))]
        assert "<@U0R03>" in card.params["text"], "the card names the group's approver"

        assert "Waiting for your approval*: <@U0R01>" in _home(sender, slack, PAUL)
        assert "Waiting for your approval" not in _home(sender, slack, ADMIN), "the workspace's approvers: admins"

        _approve_click(sender, slack, post, ADMIN, "admin-approves")  # admins approve the workspace's posts only
        [refused] = slack.wait_for_response("admin-approves")
        assert refused["text"].startswith("Only <@U0R03> can approve or reject posts here")
        assert _posts(module_database.url, text)[0].status is PostStatus.PENDING_APPROVAL

        _approve_click(sender, slack, post, PAUL, "paul-approves")
        wait_until(lambda: journeys.x_posts(fake_x, text), "the approved post on X")
    finally:
        _run(module_database.url, lambda s: roles.save_group(
            s, workspace_id, GroupForm("Acme", [acme], approval_channel_id=ACME_REVIEW), group))


# ---- buttons --------------------------------------------------------------------------------------------------


def _failed_post(url: str, workspace_id: int, account: int, author: str) -> tuple[Post, int]:
    async def write(session):
        post = Post(workspace_id=workspace_id, author_user_id=author, text=f"Failed {time.time_ns()}",
                    status=PostStatus.FAILED, channel_id="C0001", message_ts=f"{time.time():.6f}", options={})
        post.targets = [PostTarget(account_id=account, status=TargetStatus.FAILED, last_error="Rate limited")]
        session.add(post)
        await session.flush()
        return post, post.targets[0].id
    return _run(url, write)


def test_a_viewer_s_retry_and_queue_actions_change_nothing_and_say_why(sender, slack, roles_set, module_database):
    acme, _, _, workspace_id = roles_set
    post, target_id = _failed_post(module_database.url, workspace_id, acme, ADMIN)
    status_click(sender, slack, post, ids.POST_RETRY, "vic-retry", user=VIC, value=str(target_id))
    [refused] = slack.wait_for_response("vic-retry")
    assert refused["text"] == ("Only the post's author, a publisher of all its accounts or an admin can send it "
                               "again. An admin can change roles in `/picmim roles`.")
    time.sleep(0.3)
    assert _run(module_database.url, lambda s: s.get(PostTarget, target_id)).status is TargetStatus.FAILED

    _run(module_database.url, lambda s: s.execute(update(Post).where(Post.id == post.id).values(
        status=PostStatus.SCHEDULED, scheduled_at=utcnow() + timedelta(days=1))))
    _run(module_database.url, lambda s: s.execute(update(PostTarget).where(PostTarget.id == target_id).values(
        status=TargetStatus.SCHEDULED)))
    status_click(sender, slack, post, ids.QUEUE_CANCEL, "vic-cancel", user=VIC)
    [refused] = slack.wait_for_response("vic-cancel")
    assert "Only the post's author, a publisher of all its accounts or an admin" in refused["text"]
    time.sleep(0.3)
    assert _run(module_database.url, lambda s: s.get(Post, post.id)).status is PostStatus.SCHEDULED


def test_a_named_publisher_may_retry_a_post_to_her_account(sender, slack, roles_set, module_database):
    _, beta, _, workspace_id = roles_set
    post, target_id = _failed_post(module_database.url, workspace_id, beta, ADMIN)
    status_click(sender, slack, post, ids.POST_RETRY, "paul-retry", user=PAUL, value=str(target_id))
    wait_until(lambda: _run(module_database.url, lambda s: s.get(PostTarget, target_id)).status
               is not TargetStatus.FAILED, "the retry")


def _home(sender, slack, user: str) -> str:
    before = len(slack.calls_to("views.publish"))
    sender.event({"type": "app_home_opened", "user": user, "channel": "D0001", "tab": "home"})
    call = wait_until(lambda: [c for c in slack.calls_to("views.publish")[before:] if c.params["user_id"] == user],
                      "Home")[-1]
    return shown(blocks_of(call.params["view"])["blocks"])


def test_home_shows_a_viewer_nothing_of_another_brand(sender, slack, roles_set, module_database):
    acme, beta, _, workspace_id = roles_set
    mine, _ = _failed_post(module_database.url, workspace_id, acme, ADMIN)
    theirs, _ = _failed_post(module_database.url, workspace_id, beta, ADMIN)
    seen = _home(sender, slack, VIC)
    assert mine.text in seen and theirs.text not in seen
    seen = _home(sender, slack, PAUL)
    assert theirs.text in seen and mine.text not in seen


# ---- stats ----------------------------------------------------------------------------------------------------


def test_a_viewer_of_one_brand_gets_no_stats_of_another(sender, slack, roles_set, module_database):
    acme, beta, _, _ = roles_set

    async def figures(session):
        for account, followers in ((acme, 1200), (beta, 3400)):
            for days, value in ((6, followers - 100), (0, followers)):
                session.add(MetricSnapshot(account_id=account, metric="followers_count", value=value,
                                                    captured_at=utcnow() - timedelta(days=days, minutes=5)))
    _run(module_database.url, figures)
    sender.command("stats", user_id=VIC, response_url=slack.response_url("vic-stats"))
    [answer] = slack.wait_for_response("vic-stats")
    seen = shown(answer.get("blocks")) + answer.get("text", "")
    assert "Acme Marketing" in seen and "Beta" not in seen and "3,400" not in seen
    [share] = [e for b in answer["blocks"] if b["type"] == "actions" for e in b["elements"]
               if e["action_id"] == ids.STATS_SHARE]
    assert json.loads(share["value"])["a"] == [acme], "sharing shares what she saw"
    posted = len(slack.calls_to("chat.postMessage"))
    sender.interaction({"type": "block_actions", "team": TEAM, "user": {"id": VIC, "team_id": "T0001"},
                        "api_app_id": "A0PICMIM", "token": "deprecated", "trigger_id": f"trigger-{time.time_ns()}",
                        "channel": {"id": "C0001"}, "container": {"type": "message", "is_ephemeral": True},
                        "response_url": slack.response_url("vic-share"),
                        "actions": [{"type": "button", "action_id": ids.STATS_SHARE, "block_id": "b",
                                     "value": json.dumps({"d": 7, "n": "forged", "a": [beta]}),
                                     "action_ts": str(time.time())}]})
    [refused] = slack.wait_for_response("vic-share")
    assert "out of date" in refused["text"]
    time.sleep(0.3)
    assert len(slack.calls_to("chat.postMessage")) == posted, "nothing of Beta shared"

    sender.command("stats @betabrand", user_id=VIC, response_url=slack.response_url("vic-beta"))
    [answer] = slack.wait_for_response("vic-beta")
    assert answer["text"].startswith("No account or post of this workspace matches")

    sender.command("stats", user_id=PAUL, response_url=slack.response_url("paul-stats"))
    [answer] = slack.wait_for_response("paul-stats")
    seen = shown(answer.get("blocks")) + answer.get("text", "")
    assert "Beta" in seen and "Acme Marketing" not in seen


# ---- the /picmim roles window --------------------------------------------------------------------------------


def test_only_an_admin_opens_the_roles_window(sender, slack):
    sender.command("roles", user_id=VIC, response_url=slack.response_url("vic-roles"))
    [refused] = slack.wait_for_response("vic-roles")
    assert refused["text"] == roles.ADMINS_ONLY


def test_the_roles_window_saves_the_pickers_user_group_included_and_reopens_with_them(sender, slack, world,
                                                                                     module_database):
    acme, beta, group, _ = world
    before = len(slack.calls_to("views.open"))
    sender.command("roles", user_id=ADMIN)
    window = _opened(slack, before)
    assert window["title"]["text"] == "Roles"
    scope = roles.account_scope(beta)
    [picker] = [b for b in window["blocks"] if b.get("block_id") == ids.ROLES_SCOPE_BLOCK]
    assert {o["value"] for o in picker["elements"][0]["options"]} >= {scope, roles.group_scope(group)}

    # Choosing Beta brings up its three labelled pickers.
    updates = len(slack.calls_to("views.update"))
    chosen = {"type": "static_select", "action_id": ids.ROLES_SCOPE_INPUT, "block_id": ids.ROLES_SCOPE_BLOCK,
              "selected_option": {"value": scope}, "action_ts": str(time.time())}
    sender.interaction({"type": "block_actions", "team": TEAM, "user": {"id": ADMIN, "team_id": "T0001"},
                        "api_app_id": "A0PICMIM", "token": "deprecated", "trigger_id": f"trigger-{time.time_ns()}",
                        "container": {"type": "view", "view_id": "VROLES"},
                        "view": {**window, "id": "VROLES", "hash": "h1", "state": {"values": {}}},
                        "actions": [chosen]})
    updated = blocks_of(wait_until(lambda: slack.calls_to("views.update")[updates:], "the pickers")[-1]
                        .params["view"])
    labels = [b["label"]["text"] for b in updated["blocks"] if b.get("type") == "input"]
    assert ["Publishers", "Contributors", "Viewers"] == [x for x in labels if x in roles.LABELS.values()]

    def users(block: str, who: list[str]) -> dict:
        return {block: {ids.ROLES_PEOPLE_INPUT: {"type": "multi_users_select", "selected_users": who}}}

    def group_of(block: str, gid: str) -> dict:
        return {block: {ids.ROLES_GROUP_INPUT: {"type": "static_select", "selected_option": {"value": gid}}}}

    values = {ids.ROLES_ADMINS_BLOCK: {ids.ROLES_ADMINS_INPUT: {"type": "multi_users_select",
                                                                "selected_users": [PAUL]}},
              **users(f"{ids.ROLES_PEOPLE_BLOCK}publisher_{scope}", [PAUL]),
              **group_of(f"{ids.ROLES_GROUP_BLOCK}publisher_{scope}", BRAND_GROUP),
              **users(f"{ids.ROLES_PEOPLE_BLOCK}contributor_{scope}", [CARA]),
              **group_of(f"{ids.ROLES_GROUP_BLOCK}contributor_{scope}", "-"),
              **users(f"{ids.ROLES_PEOPLE_BLOCK}viewer_{scope}", []),
              **group_of(f"{ids.ROLES_GROUP_BLOCK}viewer_{scope}", "-")}
    answer = sender.interaction({
        "type": "view_submission", "team": TEAM, "user": {"id": ADMIN, "team_id": "T0001"}, "api_app_id": "A0PICMIM",
        "token": "deprecated", "trigger_id": f"trigger-{time.time_ns()}",
        "view": {"id": "VROLES", "team_id": "T0001", "type": "modal", "callback_id": ids.ROLES_VIEW,
                 "private_metadata": updated["private_metadata"], "state": {"values": values},
                 "hash": f"h{time.time_ns()}", "blocks": updated["blocks"]}})
    assert answer.status_code == 200 and answer.text in ("", "null"), answer.text

    saved = _run(module_database.url, lambda s: s.scalars(select(RoleGrant).where(RoleGrant.account_id == beta)))
    assert {(g.role, tuple(g.user_ids), g.usergroup_id) for g in saved.all()} == {
        ("publisher", (PAUL,), BRAND_GROUP), ("contributor", (CARA,), None)}
    assert _run(module_database.url, lambda s: s.scalar(select(Workspace.admin_user_ids))) == [PAUL]
    opened = len(slack.calls_to("views.open"))
    sender.command("roles", user_id=PAUL)  # a Picmim admin now, though not a Slack one
    assert _opened(slack, opened)["title"]["text"] == "Roles"

    # Reopened on Beta: the pickers show what was saved, the user group included.
    updates = len(slack.calls_to("views.update"))
    sender.interaction({"type": "block_actions", "team": TEAM, "user": {"id": ADMIN, "team_id": "T0001"},
                        "api_app_id": "A0PICMIM", "token": "deprecated", "trigger_id": f"trigger-{time.time_ns()}",
                        "container": {"type": "view", "view_id": "VROLES2"},
                        "view": {**window, "id": "VROLES2", "hash": "h1", "state": {"values": {}}},
                        "actions": [chosen]})
    again = blocks_of(wait_until(lambda: slack.calls_to("views.update")[updates:], "the pickers")[-1]
                      .params["view"])
    blocks = {b.get("block_id"): b for b in again["blocks"]}
    assert blocks[f"{ids.ROLES_PEOPLE_BLOCK}publisher_{scope}"]["element"]["initial_users"] == [PAUL]
    assert blocks[f"{ids.ROLES_GROUP_BLOCK}publisher_{scope}"]["element"]["initial_option"]["value"] == BRAND_GROUP
    assert blocks[f"{ids.ROLES_PEOPLE_BLOCK}contributor_{scope}"]["element"]["initial_users"] == [CARA]
    assert blocks[ids.ROLES_ADMINS_BLOCK]["element"]["initial_users"] == [PAUL]
    _run(module_database.url, lambda s: s.execute(delete(RoleGrant)))
    _run(module_database.url, lambda s: s.execute(update(Workspace).values(admin_user_ids=[])))


def test_settings_say_everyone_may_post_until_roles_are_set(sender, slack, world):
    before = len(slack.calls_to("views.open"))
    sender.command("settings", user_id=ADMIN)
    window = _opened(slack, before)
    assert "Everyone may post to every account until you set roles: /picmim roles" in shown(window["blocks"])


def test_a_group_is_created_from_the_roles_window(sender, slack, world, module_database):
    acme, beta, _, _ = world
    values = {ids.GROUP_NAME_BLOCK: {ids.GROUP_NAME_INPUT: {"type": "plain_text_input", "value": "Beta brand"}},
              ids.GROUP_ACCOUNTS_BLOCK: {ids.GROUP_ACCOUNTS_INPUT: {
                  "type": "multi_static_select", "selected_options": [{"value": str(beta)}]}},
              ids.GROUP_APPROVERS_BLOCK: {ids.GROUP_APPROVERS_INPUT: {"type": "multi_users_select",
                                                                      "selected_users": [PAUL]}},
              ids.GROUP_APPROVAL_CHANNEL_BLOCK: {ids.GROUP_APPROVAL_CHANNEL_INPUT: {
                  "type": "conversations_select", "selected_conversation": "C0BETA"}},
              ids.GROUP_DIGEST_CHANNEL_BLOCK: {ids.GROUP_DIGEST_CHANNEL_INPUT: {
                  "type": "conversations_select", "selected_conversation": "C0BETADIGEST"}}}

    def submit(name: str):
        values[ids.GROUP_NAME_BLOCK][ids.GROUP_NAME_INPUT]["value"] = name
        return sender.interaction({
            "type": "view_submission", "team": TEAM, "user": {"id": ADMIN, "team_id": "T0001"},
            "api_app_id": "A0PICMIM", "token": "deprecated", "trigger_id": f"trigger-{time.time_ns()}",
            "view": {"id": "VGROUP", "team_id": "T0001", "type": "modal", "callback_id": ids.GROUP_VIEW,
                     "private_metadata": "{}", "state": {"values": values}, "hash": f"h{time.time_ns()}",
                     "blocks": [], "previous_view_id": "VROLES"}})

    assert "already a group called “Acme”" in field_errors(submit("Acme"))[ids.GROUP_NAME_BLOCK]
    answer = submit("Beta brand")
    assert answer.status_code == 200 and answer.text in ("", "null"), answer.text
    saved = _run(module_database.url, lambda s: s.scalar(select(AccountGroup).where(AccountGroup.name == "Beta brand")))
    assert (saved.approver_user_ids, saved.approval_channel_id, saved.digest_channel_id) == (
        [PAUL], "C0BETA", "C0BETADIGEST")
    _run(module_database.url, lambda s: roles.delete_group(s, saved.workspace_id, saved.id))


@pytest.fixture(autouse=True)
def server_log(compose_server):
    """The server's log, printed when a test fails (what went wrong inside it)."""
    yield
    print(compose_server[0].output()[-6000:])


def _press(sender, user: str, action_id: str, value: str | None, callback_id: str = ids.ROLES_VIEW) -> None:
    action = {"type": "button", "action_id": action_id, "block_id": "b", "action_ts": str(time.time())}
    if value is not None:
        action["value"] = value
    answer = sender.interaction({
        "type": "block_actions", "team": TEAM, "user": {"id": user, "team_id": "T0001"}, "api_app_id": "A0PICMIM",
        "token": "deprecated", "trigger_id": f"trigger-{time.time_ns()}",
        "container": {"type": "view", "view_id": "VROLES"},
        "view": {"id": "VROLES", "type": "modal", "callback_id": callback_id, "hash": "h1", "private_metadata": "{}",
                 "state": {"values": {}}, "blocks": []}, "actions": [action]})
    assert answer.status_code == 200


def test_the_group_windows_open_over_the_roles_window_and_roles_over_settings(sender, slack, world):
    acme, _, group, _ = world
    pushed = len(slack.calls_to("views.push"))
    _press(sender, ADMIN, ids.ROLES_GROUP_EDIT, str(group))
    edit = blocks_of(wait_until(lambda: slack.calls_to("views.push")[pushed:], "the group window")[-1].params["view"])
    blocks = {b.get("block_id"): b for b in edit["blocks"]}
    assert edit["title"]["text"] == "Edit group"
    assert blocks[ids.GROUP_NAME_BLOCK]["element"]["initial_value"] == "Acme"
    assert [o["value"] for o in blocks[ids.GROUP_ACCOUNTS_BLOCK]["element"]["initial_options"]] == [str(acme)]
    assert blocks[ids.GROUP_APPROVAL_CHANNEL_BLOCK]["element"]["initial_conversation"] == ACME_REVIEW
    assert ids.GROUP_DELETE_BLOCK in blocks

    pushed = len(slack.calls_to("views.push"))
    _press(sender, ADMIN, ids.ROLES_GROUP_NEW, None)
    new = blocks_of(wait_until(lambda: slack.calls_to("views.push")[pushed:], "the new group window")[-1]
                    .params["view"])
    assert new["title"]["text"] == "New group" and "initial_value" not in new["blocks"][0]["element"]

    pushed = len(slack.calls_to("views.push"))
    _press(sender, ADMIN, ids.ROLES_OPEN, None, callback_id=ids.SETTINGS_VIEW)
    over = blocks_of(wait_until(lambda: slack.calls_to("views.push")[pushed:], "the roles window")[-1].params["view"])
    assert over["title"]["text"] == "Roles" and over["callback_id"] == ids.ROLES_VIEW

    pushed = len(slack.calls_to("views.push"))
    _press(sender, VIC, ids.ROLES_OPEN, None, callback_id=ids.SETTINGS_VIEW)
    refused = blocks_of(wait_until(lambda: slack.calls_to("views.push")[pushed:], "the refusal")[-1].params["view"])
    assert roles.ADMINS_ONLY in shown(refused["blocks"])


# ---- approvals that cannot happen, connections, digests --------------------------------------------------------


def test_a_contributor_with_nowhere_to_be_approved_or_two_brands_is_told_in_the_window(sender, roles_set,
                                                                                      module_database):
    acme, beta, _, workspace_id = roles_set
    _run(module_database.url, lambda s: roles.save_roles(
        s, workspace_id, roles.account_scope(beta), {roles.CONTRIBUTOR: Pick((CARA,))}))
    assert _run(module_database.url, lambda s: s.scalar(select(Workspace.approval_channel_id))) is None
    text = f"Nowhere to review {time.time_ns()}"
    errors = field_errors(sender.interaction(_submission(compose_state([beta], text), CARA)))
    assert errors[ids.COMPOSE_ACCOUNTS_BLOCK] == roles.NO_APPROVERS
    errors = field_errors(sender.interaction(_submission(compose_state([acme, beta], text), CARA)))
    assert errors[ids.COMPOSE_ACCOUNTS_BLOCK].startswith(
        "Acme and accounts outside any group have different approvers: send one post to each")
    time.sleep(0.3)
    assert _posts(module_database.url, text) == [], "nothing published unreviewed, nothing stored"


def _account_button(sender, slack, user: str, action_id: str, connection_id: int, rid: str) -> None:
    answer = sender.interaction({
        "type": "block_actions", "team": TEAM, "user": {"id": user, "team_id": "T0001"}, "api_app_id": "A0PICMIM",
        "token": "deprecated", "trigger_id": f"trigger-{time.time_ns()}", "channel": {"id": "C0001"},
        "container": {"type": "message", "is_ephemeral": True}, "response_url": slack.response_url(rid),
        "actions": [{"type": "button", "action_id": action_id, "block_id": "b", "value": str(connection_id),
                     "action_ts": str(time.time())}]})
    assert answer.status_code == 200


def test_only_publishers_of_its_accounts_or_an_admin_disconnect_or_reconnect(sender, slack, roles_set,
                                                                             module_database):
    acme, _, _, _ = roles_set
    connection_id = _run(module_database.url, lambda s: s.get(Account, acme)).connection_id
    for user, action_id in ((VIC, ids.ACCOUNT_DISCONNECT), (PAUL, ids.ACCOUNT_DISCONNECT),
                            (CARA, ids.ACCOUNT_RECONNECT)):
        rid = f"{user}-{action_id}"
        _account_button(sender, slack, user, action_id, connection_id, rid)
        [refused] = slack.wait_for_response(rid)
        assert refused["text"] == ("Only an admin can reconnect or disconnect this account: you are not one of its "
                                   "publishers. An admin can change roles in `/picmim roles`.")
    time.sleep(0.3)
    assert _run(module_database.url, lambda s: s.get(Account, acme)).connection_id == connection_id, "still there"


def test_the_accounts_list_hides_what_a_person_may_not_see(sender, slack, roles_set, module_database):
    acme, beta, _, workspace_id = roles_set
    async def gamma(session):  # on a connection of its own
        connection = Connection(workspace_id=workspace_id, platform="bluesky", external_user_id="gamma",
                                display_name="Gamma on Bluesky")
        session.add(connection)
        await session.flush()
        account = Account(workspace_id=workspace_id, connection_id=connection.id, platform="bluesky",
                          external_id="gamma", kind="profile", name="Gamma on Bluesky")
        session.add(account)
        await session.flush()
        return account.id
    other = _run(module_database.url, gamma)
    _run(module_database.url, lambda s: roles.save_roles(
        s, workspace_id, roles.account_scope(other), {roles.VIEWER: Pick((PAUL,))}))
    try:
        sender.command("accounts", user_id=VIC, response_url=slack.response_url("vic-accounts"))
        [listed] = slack.wait_for_response("vic-accounts")
        assert "Acme Marketing" in shown(listed["blocks"]) and "Gamma on Bluesky" not in shown(listed["blocks"])
        sender.command("accounts", user_id=PAUL, response_url=slack.response_url("paul-accounts"))
        [listed] = slack.wait_for_response("paul-accounts")
        assert "Gamma on Bluesky" in shown(listed["blocks"])
    finally:
        _run(module_database.url, lambda s: s.execute(delete(Connection).where(Connection.platform == "bluesky")))
        _run(module_database.url, lambda s: s.execute(delete(Account).where(Account.id == other)))


def test_a_digest_covers_only_what_its_subscriber_may_see(sender, slack, roles_set, module_database):
    acme, beta, group, workspace_id = roles_set
    _run(module_database.url, lambda s: roles.save_group(
        s, workspace_id, GroupForm("Acme", [acme], approval_channel_id=ACME_REVIEW, digest_channel_id="C0ACMEDIG"),
        group))
    try:
        before = len(slack.calls_to("views.open"))
        sender.command("digest subscribe", user_id=VIC)
        window = _opened(slack, before)
        blocks = {b.get("block_id"): b for b in window["blocks"]}
        assert blocks[ids.DIGEST_CHANNEL_BLOCK]["element"]["initial_conversation"] == "C0ACMEDIG"
        assert "Beta" not in shown(window["blocks"])

        def subscribe(accounts: list[int], rid: str):
            values = {
                ids.DIGEST_CHANNEL_BLOCK: {ids.DIGEST_CHANNEL_INPUT: {"selected_conversation": "C0ACMEDIG"}},
                ids.DIGEST_FREQUENCY_BLOCK: {ids.DIGEST_FREQUENCY_INPUT: {"selected_option": {"value": "daily"}}},
                ids.DIGEST_TIME_BLOCK: {ids.DIGEST_TIME_INPUT: {"selected_time": "09:00"}},
                ids.DIGEST_ZONE_BLOCK: {ids.DIGEST_ZONE_INPUT: {"selected_option": {"value": "Europe/Madrid"}}},
                ids.DIGEST_ACCOUNTS_BLOCK: {ids.DIGEST_ACCOUNTS_INPUT: {
                    "selected_options": [{"value": str(a)} for a in accounts]}},
                ids.DIGEST_PLATFORMS_BLOCK: {ids.DIGEST_PLATFORMS_INPUT: {"selected_options": []}}}
            return sender.interaction({
                "type": "view_submission", "team": TEAM, "user": {"id": VIC, "team_id": "T0001"},
                "api_app_id": "A0PICMIM", "token": "deprecated", "trigger_id": f"trigger-{time.time_ns()}",
                "view": {"id": "VDIG", "team_id": "T0001", "type": "modal", "callback_id": ids.DIGEST_SUBSCRIBE_VIEW,
                         "private_metadata": json.dumps({"response_url": slack.response_url(rid)}),
                         "state": {"values": values}, "hash": f"h{time.time_ns()}", "blocks": []}})

        errors = field_errors(subscribe([beta], "vic-beta-digest"))
        assert errors[ids.DIGEST_ACCOUNTS_BLOCK].startswith("You may not see the figures of an account you chose")
        answer = subscribe([], "vic-digest")
        assert answer.status_code == 200 and answer.text in ("", "null"), answer.text
        saved = _run(module_database.url, lambda s: s.scalars(select(DigestSubscription).where(
            DigestSubscription.created_by == VIC))).all()
        assert [s.account_ids for s in saved] == [[acme]], "every account she sees: Acme's"
    finally:
        _run(module_database.url, lambda s: s.execute(delete(DigestSubscription)))
        _run(module_database.url, lambda s: roles.save_group(
            s, workspace_id, GroupForm("Acme", [acme], approval_channel_id=ACME_REVIEW), group))


def test_settings_say_where_roles_are_set(sender, slack, roles_set):
    before = len(slack.calls_to("views.open"))
    sender.command("settings", user_id=ADMIN)
    window = _opened(slack, before)
    assert "Roles are set for 2 accounts or groups; every other account stays open to everyone" in shown(
        window["blocks"])


def test_the_queue_shows_a_viewer_only_her_brand_s_posts(sender, slack, roles_set, module_database):
    acme, beta, _, workspace_id = roles_set

    async def queued(session):
        made = []
        for account in (acme, beta):
            post = Post(workspace_id=workspace_id, author_user_id=ADMIN, text=f"Queued {account} {time.time_ns()}",
                        status=PostStatus.SCHEDULED, scheduled_at=utcnow() + timedelta(hours=2), options={})
            post.targets = [PostTarget(account_id=account, status=TargetStatus.SCHEDULED)]
            session.add(post)
            made.append(post)
        await session.flush()
        return [p.text for p in made]
    mine, theirs = _run(module_database.url, queued)
    try:
        sender.command("queue", user_id=VIC, response_url=slack.response_url("vic-queue"))
        [listed] = slack.wait_for_response("vic-queue")
        assert mine in shown(listed["blocks"]) and theirs not in shown(listed["blocks"])
    finally:
        _run(module_database.url, lambda s: s.execute(update(Post).where(Post.text.in_([mine, theirs]))
                                                      .values(status=PostStatus.CANCELLED)))
