"""App Home as the team's dashboard (issue 24): what an admin and a member see, the needs-attention items and their
buttons, the coming-up order (the view, and the queries behind it on SQLite/PostgreSQL), and the queue modal."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from bot import ids
from bot.platforms import registry
from bot.sandbox.fakes.slack import view_errors
from bot.services import dashboard
from bot.services.connections import ConnectionSummary
from bot.services.dashboard import Dashboard, Failure, Upcoming, Waiting
from bot.services.workspaces import ensure_workspace
from bot.storage import db
from bot.storage.models import (
    Account,
    ApprovalDecision,
    Connection,
    ConnectionStatus,
    Decision,
    Post,
    PostStatus,
    PostTarget,
    TargetStatus,
)
from bot.views.home import home_view, queue_modal

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
EVERY_PLATFORM = {p.key for p in registry.PLATFORMS}
SCOPE_WORDS = ("w_member_social", "tweet.write", "instagram_business", "pages_manage_posts", "video.publish",
               "scope", "python -m", "_CLIENT_ID", "PDS")


def empty_dashboard(**kw) -> Dashboard:
    values = dict(connections=[], broken=[], waiting=[], waiting_total=0, failed=[], failed_total=0, upcoming=[],
                  upcoming_total=0)
    return Dashboard(**{**values, **kw})


def _summary(id_: int, platform: str, name: str, status=ConnectionStatus.ACTIVE, cause=None, guidance=None,
             expires=None) -> ConnectionSummary:
    return ConnectionSummary(id_, registry.get(platform), name, status, cause, expires, NOW, "revoked",
                             ("tweet.write", "w_member_social"), ((name, "profile"),), 1, guidance)


def _busy() -> Dashboard:
    x = _summary(7, "x", "Acme Marketing", ConnectionStatus.REVOKED, "password_changed",
                 "The account's password was changed, which ends every app's access. Press Reconnect and sign in "
                 "again.")
    linkedin = _summary(8, "linkedin", "Acme Inc", ConnectionStatus.EXPIRED, "token_expired",
                        "The sign-in expired. Press Refresh; if that does not help, press Reconnect.")
    ok = _summary(9, "bluesky", "acme.bsky.social")
    waiting = Waiting(31, "U0007", "Our <b>winter</b> menu", NOW + timedelta(days=1), ("Bluesky · acme.bsky.social",),
                      "C0REVIEW")
    failed = Failure(41, 40, "LinkedIn · Acme Inc", "Hiring baristas", "LinkedIn said: the text is too long.")
    later = Upcoming(51, "U0001", "Later post", NOW + timedelta(days=2), ("X · Acme Marketing",), False)
    sooner = Upcoming(52, "U0002", "Sooner post", NOW + timedelta(hours=3),
                      ("X · Acme Marketing", "Bluesky · acme.bsky.social"), True)
    return empty_dashboard(connections=[x, linkedin, ok], broken=[x, linkedin], waiting=[waiting], waiting_total=1,
                           failed=[failed], failed_total=3, upcoming=[sooner, later], upcoming_total=2)


def _text(view: dict) -> str:
    return json.dumps(view["blocks"], ensure_ascii=False)


def _buttons(view: dict) -> list[tuple[str, str, str | None]]:
    found = []
    for block in view["blocks"]:
        elements = block.get("elements", []) if block["type"] == "actions" else [block.get("accessory") or {}]
        found += [(e["text"]["text"], e["action_id"], e.get("value")) for e in elements if e.get("type") == "button"]
    return found


def _headers(view: dict) -> list[str]:
    return [b["text"]["text"] for b in view["blocks"] if b["type"] == "header"]


def test_actions_come_first_then_needs_attention_then_coming_up():
    view = home_view("/picmim", _busy(), EVERY_PLATFORM, "Europe/Madrid", is_admin=False)
    assert view_errors(view) == []
    first_actions = next(b for b in view["blocks"] if b["type"] == "actions")
    assert view["blocks"].index(first_actions) == 1, "the actions are at the top"
    assert [e["text"]["text"] for e in first_actions["elements"]] == ["New post", "Queue", "Connect an account"]
    assert [e["action_id"] for e in first_actions["elements"]] == [ids.NEW_POST, ids.HOME_QUEUE, ids.HOME_CONNECT]
    assert _headers(view) == ["Needs attention", "Coming up"]


def test_needs_attention_offers_reconnect_for_broken_connections_and_retry_for_failures():
    view = home_view("/picmim", _busy(), EVERY_PLATFORM, "Europe/Madrid", is_admin=False)
    text, buttons = _text(view), _buttons(view)
    assert ("Reconnect", ids.ACCOUNT_RECONNECT, "7") in buttons and ("Reconnect", ids.ACCOUNT_RECONNECT, "8") in buttons
    assert ("Retry", ids.POST_RETRY, "41") in buttons
    assert "*X · Acme Marketing*: access withdrawn" in text and "password was changed" in text
    assert "*LinkedIn · Acme Inc*: signed out" in text
    assert "Press Refresh" not in text, "Home offers no Refresh button, so it does not ask for one"
    assert "*LinkedIn · Acme Inc*: not published" in text and "the text is too long" in text
    assert "…and 2 more failed posts" in text
    assert ("Reconnect", ids.ACCOUNT_RECONNECT, "9") not in buttons, "a working connection needs nothing"


def test_a_post_waiting_for_my_approval_says_whose_it_is_and_where_its_card_is():
    text = _text(home_view("/picmim", _busy(), EVERY_PLATFORM, "Europe/Madrid", is_admin=False))
    assert "*Waiting for your approval*: <@U0007>'s post for <!date^" in text
    assert "on Bluesky · acme.bsky.social" in text
    assert "Our &lt;b&gt;winter&lt;/b&gt; menu" in text, "post text is escaped"
    assert "on its card in <#C0REVIEW>" in text


def test_coming_up_is_soonest_first_in_each_viewers_zone_with_platform_and_account():
    view = home_view("/picmim", _busy(), EVERY_PLATFORM, "Europe/Madrid", is_admin=False)
    text = _text(view)
    assert text.index("Sooner post") < text.index("Later post")
    sooner = int((NOW + timedelta(hours=3)).timestamp())
    assert f"<!date^{sooner}^{{date_short_pretty}} at {{time}}|25 Nov 2026, 13:00 (CET)>" in text
    assert "X · Acme Marketing, Bluesky · acme.bsky.social · by <@U0002>" in text
    assert "_waiting for approval_" in text
    untimed = empty_dashboard(upcoming=[Upcoming(5, "U1", "asap", NOW, ("X · Acme",), True, timed=False)],
                              upcoming_total=1)
    assert "*As soon as it is approved*" in _text(home_view("/picmim", untimed, EVERY_PLATFORM, None, False))


def test_a_members_home_has_no_command_line_or_scope_words_and_no_setup():
    view = home_view("/picmim", _busy(), set(), None, is_admin=False)
    text = _text(view)
    for word in SCOPE_WORDS:
        assert word not in text, word
    assert "Setup" not in _headers(view) and "Not set up on this install" not in text
    labels = [label for label, _, _ in _buttons(view)]
    assert "New post" in labels and "Connect an account" in labels


def test_an_admins_home_adds_setup_help_in_words():
    view = home_view("/picmim", _busy(), {"x", "bluesky"}, None, is_admin=True)
    assert view_errors(view) == []
    text = _text(view)
    assert _headers(view) == ["Needs attention", "Coming up", "Setup"]
    assert "Not set up on this install yet:* Instagram" in text and "LinkedIn" in text
    assert "running `python -m bot check` on the server shows what is missing" in text
    assert "Facebook Groups* cannot be connected" in text
    assert "`/picmim settings`" in text and "`/picmim permissions`" in text
    assert "tweet.write" not in text, "scope names live in /picmim permissions"


def test_an_empty_home_says_what_to_do_first():
    view = home_view("/picmim", empty_dashboard(), EVERY_PLATFORM, None, is_admin=False)
    assert view_errors(view) == []
    text = _text(view)
    assert "No social accounts are connected yet" in text
    assert "Nothing needs your attention" in text and "Nothing is scheduled" in text


def test_a_crowded_home_stays_within_slacks_limits():
    broken = [_summary(i, "x", f"Acct {i}", ConnectionStatus.ERROR) for i in range(30)]
    many = empty_dashboard(connections=broken, broken=broken,
                           waiting=[Waiting(i, "U1", "w" * 4000, None, ("X · a",) * 40) for i in range(5)],
                           waiting_total=12,
                           failed=[Failure(i, i, "X · a", "f" * 4000, "e" * 4000) for i in range(5)], failed_total=9,
                           upcoming=[Upcoming(i, "U1", "u", NOW, ("X · " + "n" * 200,) * 20, False) for i in range(5)],
                           upcoming_total=70)
    view = home_view("/picmim", many, set(), "Asia/Tokyo", is_admin=True)
    assert view_errors(view) == []
    assert "…and 22 more connections need reconnecting" in _text(view)


def test_the_queue_modal_groups_by_day_in_the_viewers_zone():
    items = [Upcoming(1, "U1", "first", NOW, ("X · Acme",), False),
             Upcoming(2, "U1", "second", NOW + timedelta(hours=2), ("X · Acme",), True),
             Upcoming(3, "U2", "third", NOW + timedelta(days=1), ("Bluesky · acme",), False)]
    view = queue_modal("/picmim", items, 25, "Europe/Madrid")
    assert view_errors(view) == []
    text = _text(view)
    assert text.index("Wednesday 25 November") < text.index("first") < text.index("second") \
        < text.index("Thursday 26 November") < text.index("third")
    assert "*10:00 (CET)* · X · Acme · by <@U1>" in text and "_waiting for approval_" in text
    assert "…and 22 more." in text and "`/picmim queue`" in text
    untimed = _text(queue_modal("/picmim", [Upcoming(4, "U1", "asap", NOW, ("X · Acme",), True, timed=False)], 1,
                                None))
    assert "*Next*" in untimed and "*As soon as it is approved* · _waiting for approval_" in untimed
    assert view_errors(queue_modal("/picmim", [], 0, None)) == []


# ---- the queries behind it --------------------------------------------------------------------------------


async def _world(engine) -> int:
    sessions = db.session_factory(engine)
    async with sessions() as session:
        here = await ensure_workspace(session, "T1")
        here.approval_required, here.approver_user_ids = True, ["UAPP"]
        broken = Connection(workspace_id=here.id, platform="x", external_user_id="1", display_name="Acme",
                            status=ConnectionStatus.REVOKED, status_cause="app_removed")
        fine = Connection(workspace_id=here.id, platform="bluesky", external_user_id="2", display_name="acme")
        session.add_all([broken, fine])
        await session.flush()
        x = Account(workspace_id=here.id, connection_id=broken.id, platform="x", external_id="1", kind="profile",
                    name="Acme")
        sky = Account(workspace_id=here.id, connection_id=fine.id, platform="bluesky", external_id="2",
                      kind="profile", name="acme.bsky.social")
        session.add_all([x, sky])
        await session.flush()

        def post(text, status, at, author="U1", target=TargetStatus.SCHEDULED, accounts=(x,), **kw):
            return Post(workspace_id=here.id, author_user_id=author, text=text, status=status, scheduled_at=at,
                        options={}, targets=[PostTarget(account_id=a.id, status=target) for a in accounts], **kw)

        later = post("later", PostStatus.SCHEDULED, NOW + timedelta(days=3), accounts=(x, sky))
        soon = post("soon", PostStatus.SCHEDULED, NOW + timedelta(hours=1))
        review = post("review me", PostStatus.PENDING_APPROVAL, NOW + timedelta(days=1), target=TargetStatus.PENDING,
                      review_channel_id="CREV")
        approved = post("approved by me", PostStatus.PENDING_APPROVAL, NOW + timedelta(days=2),
                        target=TargetStatus.PENDING)
        mine = post("my own", PostStatus.PENDING_APPROVAL, NOW + timedelta(days=2), author="UAPP",
                    target=TargetStatus.PENDING)
        failed = post("it failed", PostStatus.FAILED, None, target=TargetStatus.FAILED, updated_at=NOW)
        old = post("long ago", PostStatus.FAILED, None, target=TargetStatus.FAILED,
                   updated_at=NOW - timedelta(days=30))
        done = post("done", PostStatus.PUBLISHED, None, target=TargetStatus.PUBLISHED)
        session.add_all([later, soon, review, approved, mine, failed, old, done])
        await session.flush()
        session.add(ApprovalDecision(post_id=approved.id, post_version=1, user_id="UAPP", decision=Decision.APPROVE,
                                     source="button"))
        failed.targets[0].last_error = "X said no."
        await session.commit()
        return here.id


async def test_the_dashboard_finds_what_needs_attention_and_what_is_coming_up(engine):
    await _world(engine)
    async with db.session_factory(engine)() as session:
        here = await ensure_workspace(session, "T1")
        board = await dashboard.dashboard(session, {}, here, "UAPP", True, NOW)
        member = await dashboard.dashboard(session, {}, here, "U5", False, NOW)
    assert [(s.platform.key, s.display_name) for s in board.broken] == [("x", "Acme")]
    assert [(w.text, w.accounts, w.card_channel_id) for w in board.waiting] == [("review me", ("X · Acme",), "CREV")]
    assert [(f.text, f.account, f.error) for f in board.failed] == [("it failed", "X · Acme", "X said no.")]
    assert [u.text for u in board.upcoming] == ["soon", "review me", "approved by me", "my own", "later"]
    assert board.upcoming[-1].accounts == ("X · Acme", "Bluesky · acme.bsky.social")
    assert member.waiting == [] and member.failed == board.failed
    view = home_view("/picmim", board, set(), "UTC", is_admin=False)
    assert view_errors(view) == []
    assert ("Retry", ids.POST_RETRY, str(board.failed[0].target_id)) in _buttons(view)
