"""Storage on SQLite, and on PostgreSQL when TEST_DATABASE_URL is set (CI runs both)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from slack_sdk.oauth.installation_store import Installation
from sqlalchemy import inspect, select, text

from bot.secret import Secret
from bot.services.workspaces import ensure_workspace
from bot.storage import db
from bot.storage.models import Account, Connection, ConnectionStatus, Post, PostStatus, PostTarget, Workspace
from bot.storage.slack_stores import build_stores

CORE_TABLES = {"workspaces", "connections", "accounts", "media_items", "posts", "post_media", "post_targets",
               "approval_decisions", "alerts", "metric_snapshots", "digest_subscriptions", "oauth_states",
               "slack_installations", "slack_bots", "slack_oauth_states", "slack_outbox", "audit_entries",
               "review_links"}


async def test_migrations_create_the_whole_model_and_can_run_again(engine):
    async with engine.connect() as conn:
        tables = set(await conn.run_sync(lambda c: inspect(c).get_table_names()))
    assert CORE_TABLES <= tables
    await db.migrate(engine)  # a second start changes nothing
    assert await db.current_revision(engine) == "0016"


async def test_tokens_are_ciphertext_in_the_database_and_secrets_in_python(engine):
    sessions = db.session_factory(engine)
    async with sessions() as session:
        ws = await ensure_workspace(session, "T1")
        await session.flush()
        conn = Connection(workspace_id=ws.id, platform="x", external_user_id="42", display_name="Acme",
                          access_token=Secret("access-AAA"), refresh_token=Secret("refresh-BBB"),
                          token_expires_at=datetime.now(UTC) + timedelta(hours=2))
        session.add(conn)
        await session.commit()
        raw = (await session.execute(text("SELECT access_token, refresh_token FROM connections"))).one()
    assert "access-AAA" not in raw[0] and "refresh-BBB" not in raw[1]

    async with sessions() as session:
        loaded = await session.scalar(select(Connection))
    assert isinstance(loaded.access_token, Secret)
    assert loaded.access_token.reveal() == "access-AAA"
    assert "access-AAA" not in repr(loaded) and "refresh-BBB" not in repr(loaded)
    assert loaded.status is ConnectionStatus.ACTIVE
    assert loaded.token_expires_at.tzinfo is not None


async def test_times_come_back_in_utc_whatever_zone_went_in(engine):
    sessions = db.session_factory(engine)
    madrid_nine = datetime(2026, 12, 1, 9, 0, tzinfo=UTC).astimezone(ZoneInfo("Europe/Madrid"))
    async with sessions() as session:
        ws = await ensure_workspace(session, "T1")
        await session.flush()
        session.add(Post(workspace_id=ws.id, author_user_id="U1", text="hi", scheduled_at=madrid_nine,
                         status=PostStatus.SCHEDULED))
        await session.commit()
    async with sessions() as session:
        post = await session.scalar(select(Post))
    assert post.scheduled_at == datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    assert post.scheduled_at.utcoffset() == timedelta(0)


async def test_accounts_of_one_connection_and_targets_of_a_post(engine):
    sessions = db.session_factory(engine)
    async with sessions() as session:
        ws = await ensure_workspace(session, "T1")
        await session.flush()
        conn = Connection(workspace_id=ws.id, platform="facebook", external_user_id="u1")
        session.add(conn)
        await session.flush()
        pages = [Account(workspace_id=ws.id, connection_id=conn.id, platform="facebook", external_id=f"p{i}",
                         kind="page", name=f"Page {i}", access_token=Secret(f"page-token-{i}")) for i in (1, 2)]
        session.add_all(pages)
        await session.flush()
        post = Post(workspace_id=ws.id, author_user_id="U1", text="Hello")
        post.targets = [PostTarget(account_id=p.id) for p in pages]
        session.add(post)
        await session.commit()
    async with sessions() as session:
        accounts = (await session.scalars(select(Account).order_by(Account.external_id))).all()
        targets = (await session.scalars(select(PostTarget))).all()
    assert [a.access_token.reveal() for a in accounts] == ["page-token-1", "page-token-2"]
    assert len(targets) == 2 and {t.status.value for t in targets} == {"pending"}


async def test_one_workspace_row_even_when_created_concurrently(engine):
    sessions = db.session_factory(engine)

    async def create():
        async with sessions() as session:
            ws = await ensure_workspace(session, "TCONC")
            await session.commit()
            return ws.id

    ids = await asyncio.gather(*(create() for _ in range(5)))
    assert len(set(ids)) == 1


async def test_slack_installations_are_stored_encrypted(engine):
    store, state_store = build_stores("111.222", engine)
    await store.async_save(Installation(app_id="A1", team_id="T9", team_name="Acme", bot_token="xoxb-secret-bot",
                                        bot_id="B1", bot_user_id="UB", bot_scopes="commands", user_id="U1",
                                        user_token="xoxp-secret-user", installed_at=1700000000.0))
    async with engine.connect() as conn:
        raw = (await conn.execute(text("SELECT bot_token, user_token FROM slack_installations"))).one()
        raw_bot = (await conn.execute(text("SELECT bot_token FROM slack_bots"))).scalar_one()
    assert "xoxb-secret-bot" not in raw[0] and "xoxp-secret-user" not in raw[1]
    assert "xoxb-secret-bot" not in raw_bot
    bot = await store.async_find_bot(enterprise_id=None, team_id="T9")
    assert bot.bot_token == "xoxb-secret-bot"
    installation = await store.async_find_installation(enterprise_id=None, team_id="T9")
    assert installation.user_token == "xoxp-secret-user"
    state = await state_store.async_issue()
    assert await state_store.async_consume(state) is True
    assert await state_store.async_consume(state) is False  # single use


async def test_unreachable_database_is_one_clear_sentence():
    engine = db.create_engine("postgresql+asyncpg://nobody@127.0.0.1:1/none")
    with pytest.raises(db.DatabaseError) as err:
        await db.ping(engine, seconds=5)
    await engine.dispose()
    message = str(err.value)
    assert message.startswith("Cannot reach the database at postgresql+asyncpg://nobody@127.0.0.1:1/none")
    assert "Check DATABASE_URL" in message and "\n" not in message


def test_missing_sqlite_folder_is_explained(tmp_path):
    with pytest.raises(db.DatabaseError, match="does not exist"):
        db.check_location(f"sqlite+aiosqlite:///{tmp_path}/missing/picmim.db")


@pytest.mark.postgres
async def test_postgres_gives_row_locks_that_skip_locked_rows(engine, database):
    """The publisher relies on FOR UPDATE SKIP LOCKED on PostgreSQL; prove the database honours it."""
    assert database.is_postgres
    sessions = db.session_factory(engine)
    async with sessions() as session:
        ws = await ensure_workspace(session, "T1")
        await session.commit()
    async with sessions() as first, sessions() as second:
        locked = await first.scalar(select(Workspace).with_for_update())
        assert locked is not None
        other = await second.scalar(select(Workspace).with_for_update(skip_locked=True))
        assert other is None
        await first.rollback()
    assert ws.id
