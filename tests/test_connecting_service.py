"""The connecting service on its own: statuses, guidance, who may choose, what a disconnect cancels."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import select, text

from bot.secret import Secret
from bot.services import connecting, connections
from bot.services.workspaces import ensure_workspace, set_managers
from bot.storage import db
from bot.storage.models import (
    Account,
    Connection,
    ConnectionStatus,
    OAuthState,
    Post,
    PostStatus,
    PostTarget,
    TargetStatus,
    Workspace,
    utcnow,
)


async def _workspace(session, team="T1") -> Workspace:
    ws = await ensure_workspace(session, team)
    await session.flush()
    return ws


async def _connection(session, ws, platform="linkedin", expires_in=timedelta(days=3)) -> Connection:
    c = Connection(workspace_id=ws.id, platform=platform, external_user_id="u1", display_name="Maria",
                   access_token=Secret("t"), token_expires_at=utcnow() + expires_in, last_sync_at=utcnow())
    session.add(c)
    await session.flush()
    return c


def test_a_token_that_cannot_renew_shows_expiring_then_expired():
    c = Connection(status=ConnectionStatus.ACTIVE, token_expires_at=utcnow() + timedelta(days=3))
    assert connections.effective_status(c, refreshable=False) is ConnectionStatus.EXPIRING
    assert connections.effective_status(c, refreshable=True) is ConnectionStatus.ACTIVE
    c.token_expires_at = utcnow() - timedelta(minutes=1)
    assert connections.effective_status(c, refreshable=False) is ConnectionStatus.EXPIRED
    c.token_expires_at = utcnow() + timedelta(days=30)
    assert connections.effective_status(c, refreshable=False) is ConnectionStatus.ACTIVE


@pytest.mark.parametrize("status,cause,words", [
    (ConnectionStatus.EXPIRED, "token_expired", "Press Refresh"),
    (ConnectionStatus.REVOKED, "password_changed", "password was changed"),
    (ConnectionStatus.REVOKED, "app_removed", "removed from the account's connected apps"),
    (ConnectionStatus.REVOKED, "admin_rights_lost", "Ask a page admin to give them back, then press Reconnect"),
    (ConnectionStatus.EXPIRING, None, "press Reconnect before it runs out"),
    (ConnectionStatus.ERROR, "error", "Press Refresh to try again"),
])
def test_each_broken_connection_says_its_fix(status, cause, words):
    assert words in connections.guidance(status, cause, None)
    assert connections.guidance(ConnectionStatus.ACTIVE, None, None) is None


def test_who_may_manage():
    ws = Workspace(team_id="T1", managers_policy="members", manager_user_ids=[])
    assert connecting.may_manage(ws, "U9", is_admin=False)
    set_managers(ws, "admins", [])
    assert not connecting.may_manage(ws, "U9", is_admin=False) and connecting.may_manage(ws, "U9", is_admin=True)
    set_managers(ws, "list", ["U9"])
    assert connecting.may_manage(ws, "U9", is_admin=False) and not connecting.may_manage(ws, "U8", False)


async def test_summaries_show_only_this_workspaces_connections_and_expiry(engine):
    sessions = db.session_factory(engine)
    async with sessions() as session:
        ours, theirs = await _workspace(session, "T1"), await _workspace(session, "T2")
        mine = await _connection(session, ours)
        await _connection(session, theirs, platform="x")
        session.add(Account(workspace_id=ours.id, connection_id=mine.id, platform="linkedin", external_id="p1",
                            kind="profile", name="Maria"))
        await session.commit()
        from bot.platforms.linkedin import ADAPTER as LinkedIn

        class NotRefreshing:
            refreshable = LinkedIn.refreshable

        [summary] = await connections.summaries(session, {"linkedin": NotRefreshing()}, ours)
    assert summary.platform.key == "linkedin" and summary.accounts == (("Maria", "profile"),)
    assert summary.status is ConnectionStatus.EXPIRING
    assert "Reconnect before it runs out" in summary.guidance


async def test_only_the_person_who_connected_chooses_and_only_once(engine):
    sessions = db.session_factory(engine)
    async with sessions() as session:
        ws = await _workspace(session)
        c = await _connection(session, ws, platform="x")
        candidates = [connecting.Candidate("a1", "profile", "Acme"), connecting.Candidate("a2", "page", "Shop",
                                                                                          refusal="no")]
        row = OAuthState(state_hash="h", workspace_id=ws.id, slack_user_id="U1", platform="x",
                         expires_at=utcnow() + timedelta(minutes=10), used_at=utcnow(),
                         secret_extra=Secret(json.dumps({"candidates": [c_.__dict__ for c_ in candidates],
                                                         "connection_id": c.id})))
        session.add(row)
        await session.commit()
        with pytest.raises(connecting.ConnectError, match="Only <@U1>, who connected it"):
            await connecting.choose_accounts(session, ws, "U2", row.id, ["a1"])
        with pytest.raises(connecting.ConnectError, match="Choose at least one"):
            await connecting.choose_accounts(session, ws, "U1", row.id, ["a2"])  # refused: not selectable
        [account] = await connecting.choose_accounts(session, ws, "U1", row.id, ["a1"])
        await session.commit()
        assert account.name == "Acme" and account.active
        with pytest.raises(connecting.ConnectError, match="already chosen"):
            await connecting.choose_accounts(session, ws, "U1", row.id, ["a1"])
        assert (await session.scalars(select(Account.external_id))).all() == ["a1"]


async def test_disconnect_cancels_scheduled_posts_keeps_published_ones_and_history(engine):
    sessions = db.session_factory(engine)
    async with sessions() as session:
        ws = await _workspace(session)
        c = await _connection(session, ws, platform="x")
        gone = Account(workspace_id=ws.id, connection_id=c.id, platform="x", external_id="a1", kind="profile",
                       name="Acme")
        other = Account(workspace_id=ws.id, platform="bluesky", external_id="b1", kind="profile", name="Acme")
        session.add_all([gone, other])
        await session.flush()
        only_here = Post(workspace_id=ws.id, author_user_id="U1", text="a", status=PostStatus.SCHEDULED,
                         targets=[PostTarget(account_id=gone.id, status=TargetStatus.SCHEDULED)])
        both = Post(workspace_id=ws.id, author_user_id="U1", text="b", status=PostStatus.SCHEDULED,
                    targets=[PostTarget(account_id=gone.id, status=TargetStatus.SCHEDULED),
                             PostTarget(account_id=other.id, status=TargetStatus.SCHEDULED)])
        published = Post(workspace_id=ws.id, author_user_id="U1", text="c", status=PostStatus.PUBLISHED,
                         targets=[PostTarget(account_id=gone.id, status=TargetStatus.PUBLISHED, remote_id="1")])
        session.add_all([only_here, both, published])
        await session.commit()
        assert await connections.count_posts_to_cancel(session, ws, c.id) == 2

        result = await connections.disconnect(session, {}, ws, c.id)
        await session.commit()
        assert result.cancelled_posts == 2 and not result.revoked_at_platform
        statuses = {p.text: p.status for p in (await session.scalars(select(Post))).all()}
        assert statuses == {"a": PostStatus.CANCELLED, "b": PostStatus.SCHEDULED, "c": PostStatus.PUBLISHED}
        assert await session.get(Connection, c.id) is None
        kept = await session.get(Account, gone.id)
        assert kept is not None and not kept.active and kept.access_token is None


class _StubAdapter:
    """Just enough of an adapter to make a link: X's consent page address."""

    uses_pkce = True

    def authorize_url(self, state, pkce) -> str:
        return f"https://x.com/i/oauth2/authorize?state={state}&code_challenge={pkce.challenge}"


async def test_a_reconnect_links_page_names_the_connection_and_reading_it_uses_nothing_up(engine):
    sessions = db.session_factory(engine)
    async with sessions() as session:
        ws = await _workspace(session)
        c = await _connection(session, ws, platform="x")
        link = await connecting.start(session, {"x": _StubAdapter()}, ws, "U1", "x", reconnect=c,
                                      public_url="https://picmim.example.com/", workspace_name="Acme",
                                      requested_by_name="  Maria\n Lopez ")
        await session.commit()
    state = link.url.rsplit("/", 1)[1]
    assert link.url == f"https://picmim.example.com/connect/{state}"
    assert link.authorize_url.startswith(f"https://x.com/i/oauth2/authorize?state={state}&")
    for _ in range(2):  # a link preview, then the person
        async with sessions() as session:
            page = await connecting.landing(session, state)
    assert (page.workspace_name, page.requested_by_name, page.reconnect_of) == ("Acme", "Maria Lopez", "Maria")
    assert page.authorize_url == link.authorize_url
    async with sessions() as session:
        row = await session.scalar(select(OAuthState))
        assert row.used_at is None, "reading the page does not use the link"
        raw = (await session.execute(text("SELECT secret_extra FROM oauth_states"))).scalar()
        assert state not in raw, "the authorize URL (it carries the state) is stored encrypted"
