"""The audit trail on its own (SQLite, and PostgreSQL when TEST_DATABASE_URL is set): a post's life through the
services (submitted, approved, scheduled, published on the fake X, edited, rescheduled, cancelled, retried), each
step recorded with who, from where and what changed, in the same transaction as the change; settings; the CSV;
the retention; the review links' rules."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from bot import jobs
from bot.config import ConfigError, load_settings
from bot.http import build_client
from bot.payloads import AuditExport
from bot.platforms.x import ADAPTER as XAdapter
from bot.sandbox.fakes.slack import block_kit_errors, view_errors
from bot.sandbox.fakes.x import FakeX
from bot.services import audit, audit_trail, connections, queue, review_links, submitting, workspaces
from bot.services.approvals import Reviewer
from bot.services.composing import Composition
from bot.services.connections import apply_tokens
from bot.services.publishing import Publisher, retry_target
from bot.services.workspaces import ensure_workspace
from bot.storage import db
from bot.storage.models import (
    Account,
    AuditEntry,
    Connection,
    Decision,
    Post,
    PostStatus,
    PostTarget,
    TargetStatus,
    Workspace,
    utcnow,
)
from bot.views import audit as audit_views
from bot.views import review_links as link_views
from tests.journeys import X_USER, World, read_connection, sign_in
from tests.platform_fixtures import make_adapter, platform_fake_fixtures

REDIRECT_URI = "https://picmim.example/oauth/x/callback"
AUTHOR, DANA, PAT = "U0AUTHOR", "U0DANA", "U0PAT"

platform_server, fake, http, adapter, tokens = platform_fake_fixtures(FakeX, XAdapter, REDIRECT_URI, pkce=True)


async def no_media(session, post, adapter, account=None):
    return [], []


@pytest.fixture
async def setup(engine, tokens):
    """A workspace needing Dana's approval, with the fake X's account connected."""
    async with db.session_factory(engine)() as session:
        ws = await ensure_workspace(session, "T1")
        ws.approval_required, ws.approval_channel_id, ws.approver_user_ids = True, "C1", [DANA]
        connection = Connection(workspace_id=ws.id, platform="x", external_user_id=tokens.external_user_id,
                                display_name="Acme Marketing")
        apply_tokens(connection, tokens)
        session.add(connection)
        await session.flush()
        account = Account(workspace_id=ws.id, connection_id=connection.id, platform="x",
                          external_id=tokens.external_user_id, kind="profile", name="Acme Marketing",
                          handle="acmemktg")
        session.add(account)
        await session.commit()
        return ws.id, account.id


async def _workspace(sessions) -> Workspace:
    async with sessions() as session:
        return await session.scalar(select(Workspace).where(Workspace.team_id == "T1"))


async def _submit(sessions, account_id: int, text: str, adapter, **kw) -> int:
    async def nothing():
        return submitting.Attachments()

    composition = Composition(text=text, account_ids=[account_id], **kw)
    accepted = await submitting.submit(sessions, await _workspace(sessions), {"x": adapter},
                                       submitting.Submission(AUTHOR, False, composition, "C0001"), nothing(), utcnow())
    assert isinstance(accepted, submitting.Accepted), accepted
    async with sessions() as session:
        await submitting.release(session, accepted.post_id)
        await session.commit()
    return accepted.post_id


async def _trail(sessions, post_id: int) -> list[AuditEntry]:
    async with sessions() as session:
        return list(await session.scalars(select(AuditEntry).where(AuditEntry.post_id == post_id)
                                          .order_by(AuditEntry.id)))


async def test_each_step_of_a_posts_life_is_recorded_with_who_from_where_and_what(engine, setup, adapter, fake):
    sessions = db.session_factory(engine)
    _, account_id = setup
    post_id = await _submit(sessions, account_id, "Launch day is here", adapter)

    async with sessions() as session:  # a refused decision records nothing
        workspace = await session.scalar(select(Workspace).where(Workspace.team_id == "T1"))
        refused = await review_links.approvals.decide(session, workspace, post_id, Reviewer(PAT), Decision.APPROVE,
                                                      source=audit.BUTTON, now=utcnow())
        assert refused.refusal and not refused.recorded
        await session.commit()
    async with sessions() as session:
        outcome = await review_links.approvals.decide(session, workspace, post_id, Reviewer(DANA), Decision.APPROVE,
                                                      source=audit.REACTION, now=utcnow())
        assert outcome.finished
        await session.commit()
    [result] = await Publisher(sessions, {"x": adapter}, no_media, owner="test").tick()
    assert result.status is TargetStatus.PUBLISHED

    trail = await _trail(sessions, post_id)
    assert [(e.action, e.actor, e.source) for e in trail] == [
        ("created", AUTHOR, "modal"),
        ("submitted for approval", AUTHOR, "modal"),
        ("approved", DANA, "reaction"),
        ("scheduled", DANA, "reaction"),
        ("publishing", "Picmim", "job"),
        ("published", "Picmim", "job"),
    ]
    assert json.loads(trail[0].change) == {"accounts": ["X · Acme Marketing"], "text": "Launch day is here"}
    [live] = fake.posts.values()
    assert trail[-1].change.startswith("X · Acme Marketing: https://x.com/acmemktg/status/")
    assert all(e.subject == f"post {post_id}" for e in trail)
    assert trail[0].at <= trail[-1].at

    # What /picmim audit shows for the account: newest first, the post's live link, the same steps.
    async with sessions() as session:
        scope = await audit_trail.find_scope(session, workspace.id, "@acmemktg")
        shown = await audit_trail.entries(session, workspace.id, scope, utcnow() - timedelta(days=7))
        assert [e.action for e in shown] == [e.action for e in reversed(trail)]
        assert shown[0].post_link.startswith("https://x.com/acmemktg/status/")
        assert await audit_trail.find_scope(session, workspace.id, "@nobody") is None
        assert (await audit_trail.find_scope(session, workspace.id, f"post {post_id}")).post_id == post_id
    rows = list(csv.reader(io.StringIO(audit_trail.csv_of(shown).decode("utf-8-sig"))))
    assert rows[0] == list(audit_trail.CSV_COLUMNS)
    assert [(r[1], r[2], r[4], r[6]) for r in rows[1:]][-2:] == [(AUTHOR, "modal", "submitted for approval",
                                                                  str(post_id)),
                                                                 (AUTHOR, "modal", "created", str(post_id))]


async def test_edits_reschedules_cancels_and_retries_say_who_and_what_changed(engine, setup, adapter):
    sessions = db.session_factory(engine)
    ws_id, account_id = setup
    async with sessions() as session:
        (await session.get(Workspace, ws_id)).approval_required = False
        await session.commit()
    at = (utcnow() + timedelta(days=2)).replace(second=0, microsecond=0)
    post_id = await _submit(sessions, account_id, "First words", adapter, when=at, schedule=True)

    composition = Composition(text="Better words", account_ids=[account_id], when=at, schedule=True)
    edited = await submitting.submit(sessions, await _workspace(sessions), {"x": adapter},
                                     submitting.Submission(DANA, True, composition, post_id=post_id),
                                     _none(), utcnow())
    assert isinstance(edited, submitting.Accepted)
    later = at + timedelta(hours=3)
    async with sessions() as session:
        post = await session.get(Post, post_id)
        await queue.reschedule(session, post, later, utcnow(), actor=AUTHOR)
        await session.commit()
    async with sessions() as session:
        with pytest.raises(queue.QueueError):  # a refused change records nothing
            await queue.publish_now(session, Post(id=post_id, workspace_id=ws_id, status=PostStatus.PENDING_APPROVAL),
                                    utcnow(), actor=PAT)
        await session.rollback()
    async with sessions() as session:
        post = await session.get(Post, post_id)
        await queue.cancel(session, post, utcnow(), actor=DANA)
        await session.commit()

    trail = await _trail(sessions, post_id)
    assert [(e.action, e.actor) for e in trail] == [
        ("created", AUTHOR), ("scheduled", AUTHOR), ("edited", DANA), ("scheduled", DANA),
        ("rescheduled", AUTHOR), ("cancelled", DANA)]
    edit = json.loads(trail[2].change)
    assert edit["text"] == ["First words", "Better words"] and edit["version"] == 2
    assert json.loads(trail[4].change) == {"time (UTC)": [f"{at:%Y-%m-%d %H:%M}", f"{later:%Y-%m-%d %H:%M}"]}
    assert json.loads(trail[5].change) == {"status": ["scheduled", "cancelled"]}

    # A failed target sent again by a person.
    async with sessions() as session:
        target = await session.scalar(select(PostTarget).where(PostTarget.post_id == post_id))
        target.status = TargetStatus.FAILED
        await session.commit()
        assert await retry_target(session, ws_id, target.id, utcnow(), actor=AUTHOR)
        await session.commit()
    assert [(e.action, e.actor, e.source, e.change) for e in (await _trail(sessions, post_id))[-1:]] == [
        ("retried", AUTHOR, "button", "X · Acme Marketing")]


async def _none():
    return submitting.Attachments()


async def test_settings_changes_are_recorded_with_before_and_after(engine, setup):
    sessions = db.session_factory(engine)
    ws_id, _ = setup
    async with sessions() as session:
        workspace = await session.get(Workspace, ws_id)
        changed = workspaces.settings_of(workspace)
        changed.approvals_needed, changed.default_timezone = 2, "Europe/Madrid"
        await workspaces.save_settings(session, ws_id, changed, actor=PAT)
        await workspaces.save_settings(session, ws_id, changed, actor=PAT)  # the same again: nothing changed
        await session.commit()
        [entry] = (await session.scalars(select(AuditEntry).where(AuditEntry.subject == "settings"))).all()
    assert (entry.actor, entry.source, entry.action) == (PAT, "modal", "settings changed")
    assert json.loads(entry.change) == {"approvals_needed": [1, 2], "default_timezone": ["UTC", "Europe/Madrid"]}


async def test_retention_deletes_only_entries_older_than_the_setting(engine, setup):
    sessions = db.session_factory(engine)
    ws_id, _ = setup
    now = utcnow()
    async with sessions() as session:
        for days in (400, 366, 364, 1):
            await audit.record(session, ws_id, PAT, audit.MODAL, audit.SETTINGS, f"{days} days ago",
                               at=now - timedelta(days=days))
        await session.commit()
        assert await audit.purge(session, now, 365) == 2
        await session.commit()
        left = (await session.scalars(select(AuditEntry.action).order_by(AuditEntry.at))).all()
    assert left == ["364 days ago", "1 days ago"]


def test_audit_arguments_and_csv_cells_that_look_like_formulas():
    assert audit_trail.parse_args("") == (False, "", 7)
    assert audit_trail.parse_args("export @acme 30d") == (True, "@acme", 30)
    assert audit_trail.parse_args("@acme 90d").startswith("Choose `7d` or `30d`")
    entry = audit_trail.Entry(utcnow(), "=cmd|' /C calc'!A0", "modal", "post 1", "created", "+1", 1, "@everyone", None)
    [_, row] = list(csv.reader(io.StringIO(audit_trail.csv_of([entry]).decode("utf-8-sig"))))
    assert row[1] == "'=cmd|' /C calc'!A0" and row[5] == "'+1" and row[7] == "'@everyone"


async def test_review_links_are_hashed_single_use_and_tied_to_one_version(engine, setup, adapter):
    sessions = db.session_factory(engine)
    ws_id, account_id = setup
    post_id = await _submit(sessions, account_id, "For the client", adapter)
    now = utcnow()
    async with sessions() as session:
        workspace = await session.get(Workspace, ws_id)
        with pytest.raises(review_links.Refused, match="Only the post's approvers"):
            await review_links.create(session, workspace, post_id, 1, Reviewer(PAT), "Ana", 7, now)
        token = await review_links.create(session, workspace, post_id, 1, Reviewer(DANA), "Ana", 7, now)
        await session.commit()
        stored = (await session.scalars(select(review_links.ReviewLink.token_hash))).all()
    assert stored == [review_links.token_hash(token)] and token not in stored, "only a hash is kept"

    secret = b"k" * 32
    csrf = review_links.csrf_token(secret, token)
    assert review_links.csrf_ok(secret, token, csrf)
    assert not review_links.csrf_ok(secret, token, "") and not review_links.csrf_ok(secret, token + "x", csrf)

    async with sessions() as session:
        assert await review_links.find(session, token + "x", now) is review_links.NOT_VALID
        asked = await review_links.decide(session, token, "request_changes", "  ", now)
        assert asked.field_error and asked.outcome is None
        await session.rollback()
    async with sessions() as session:
        decided = await review_links.decide(session, token, "approve", None, now)
        assert decided.outcome.recorded and decided.outcome.finished
        await session.commit()
    async with sessions() as session:
        again = await review_links.decide(session, token, "approve", None, now)
        assert again.problem.title == "Your decision is in" and again.outcome is None
        await session.rollback()
    trail = await _trail(sessions, post_id)
    assert [(e.action, e.actor, e.source) for e in trail][-3:] == [
        ("review link created", DANA, "modal"), ("approved", "Ana (review link)", "review link"),
        ("scheduled", "Ana (review link)", "review link")]


async def test_connection_changes_are_recorded_refreshed_broken_and_disconnected(engine, setup, adapter, fake):
    sessions = db.session_factory(engine)
    ws_id, account_id = setup
    post_id = await _submit(sessions, account_id, "Goes with its account", adapter)
    async with sessions() as session:
        workspace = await session.get(Workspace, ws_id)
        connection_id = (await session.get(Account, account_id)).connection_id
        said = await connections.refresh(session, {"x": adapter}, workspace, connection_id, PAT)
        assert "connected and up to date" in said
        await session.commit()
    fake.revoke()  # the platform no longer accepts the grant: the next refresh breaks it
    async with sessions() as session:
        await connections.refresh(session, {"x": adapter}, workspace, connection_id, PAT)
        await session.commit()
    async with sessions() as session:
        await connections.disconnect(session, {"x": adapter}, workspace, connection_id, DANA)
        await session.commit()
        entries = list(await session.scalars(select(AuditEntry).where(AuditEntry.connection_id == connection_id)
                                             .order_by(AuditEntry.id)))
    assert [(e.action, e.actor, e.source, e.subject) for e in entries] == [
        ("refreshed", PAT, "button", f"connection {connection_id}"),
        (entries[1].action, PAT, "button", f"connection {connection_id}"),
        ("disconnected", DANA, "button", f"connection {connection_id}")]
    assert entries[1].action in ("revoked", "expired")
    assert json.loads(entries[1].change)["status"] == ["active", entries[1].action]
    assert json.loads(entries[2].change) == {"account": "X · Acme Marketing"} and entries[2].account_id == account_id
    cancelled = (await _trail(sessions, post_id))[-1]
    assert (cancelled.action, cancelled.actor) == ("cancelled", DANA)
    assert json.loads(cancelled.change)["why"] == "its account was disconnected"
    # /picmim audit for the account finds its connection's entries, and its posts'.
    async with sessions() as session:
        shown = await audit_trail.entries(session, ws_id, audit_trail.Scope("Acme", account_ids=(account_id,)),
                                    utcnow() - timedelta(days=1))
    assert {e.action for e in shown} >= {"disconnected", "refreshed", "created", "cancelled"}


async def test_the_retention_job_uses_the_setting(engine, setup):
    sessions = db.session_factory(engine)
    ws_id, _ = setup
    async with sessions() as session:
        await audit.record(session, ws_id, PAT, audit.MODAL, audit.SETTINGS, "old", at=utcnow() - timedelta(days=31))
        await audit.record(session, ws_id, PAT, audit.MODAL, audit.SETTINGS, "recent")
        await session.commit()
    runtime = SimpleNamespace(sessions=sessions, settings=SimpleNamespace(audit_retention_days=30))
    assert await jobs.build_audit_retention(runtime)() == 1
    async with sessions() as session:
        assert (await session.scalars(select(AuditEntry.action))).all() == ["recent"]
    assert load_settings({"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "s"}).audit_retention_days == 365
    with pytest.raises(ConfigError, match="PICMIM_AUDIT_RETENTION_DAYS='soon' must be a whole number of days"):
        load_settings({"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "s",
                       "PICMIM_AUDIT_RETENTION_DAYS": "soon"})


def test_the_audit_message_and_the_review_link_modals_are_valid_block_kit():
    now = utcnow()
    entries = [audit_trail.Entry(now - timedelta(minutes=n), actor, "modal", "post 3", "edited", "x" * 900, 3,
                           "Launch <!channel> day", "https://slack.com/archives/C1/p1")
               for n, actor in enumerate(["U0AUTHOR", "Ana <b> (review link)", "Picmim"] * 9)]
    blocks = audit_views.audit_blocks(entries[:audit_trail.MAX_SHOWN], "Europe/Madrid", "Everything", 7,
                                      AuditExport("", 7).encode(), more=True)
    assert block_kit_errors(blocks, 50) == []
    text = json.dumps(blocks)
    assert "<@U0AUTHOR>" in text and "Ana &lt;b&gt; (review link)" in text and "<!channel>" not in text
    assert "Export CSV has all of them" in text
    assert view_errors(link_views.share_modal(3, 2, "C1")) == []
    assert view_errors(link_views.link_made("http://127.0.0.1/review/abc", "Ana", now)) == []


@pytest.fixture
async def world(engine, slack, platform_server):
    platform_server.redirect_uris = {REDIRECT_URI}
    http_client = build_client(platform_server.origins())
    yield await World.open(engine, slack, {"x": make_adapter(XAdapter, platform_server, http_client, REDIRECT_URI)},
                           http_client)
    await http_client.aclose()


async def test_connecting_and_the_health_job_are_recorded(world, platform_server):
    connection_id = await sign_in(world, user=PAT)
    await world.tick()
    world.clock.now = (await read_connection(world, connection_id)).next_check_at
    platform_server.revoke(X_USER)  # removed from the member's connected apps at X
    assert (await world.tick()).broken == [connection_id]
    await sign_in(world, reconnect_id=connection_id, user=DANA)
    async with world.sessions() as session:
        entries = list(await session.scalars(select(AuditEntry).where(AuditEntry.connection_id == connection_id)
                                             .order_by(AuditEntry.id)))
    assert [(e.action, e.actor, e.source) for e in entries] == [
        ("connected", PAT, "sign-in page"), ("broken", "Picmim", "job"), ("reconnected", DANA, "sign-in page")]
    assert json.loads(entries[1].change)["status"] == ["active", "revoked"]
    assert json.loads(entries[2].change)["status"] == ["revoked", "active"]
