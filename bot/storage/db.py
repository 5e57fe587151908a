"""The database engine, sessions, migrations and the start-up checks that explain a bad database."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import event, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


class DatabaseError(Exception):
    """The database cannot be used; the message says why and what to do."""


def create_engine(url: str) -> AsyncEngine:
    sa_url = make_url(url)
    if sa_url.get_backend_name() == "sqlite":
        engine = create_async_engine(url, connect_args={"timeout": 15})

        @event.listens_for(engine.sync_engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):
            # WAL lets readers and one writer work at once (several processes on one file);
            # busy_timeout waits for a lock instead of failing.
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA busy_timeout=15000")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.close()
            _private(sa_url.database)

        return engine
    return create_async_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=10)


def _private(database: str | None) -> None:
    """The SQLite file and its -wal/-shm hold tokens: the owner's alone, even when made under a loose umask."""
    if not database or database == ":memory:":
        return
    for path in (Path(database), Path(database + "-wal"), Path(database + "-shm")):
        try:
            if path.exists() and path.stat().st_mode & 0o077:
                path.chmod(0o600)
        except OSError:
            pass  # not ours to change (another user's file): SQLite still works


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


def check_location(url: str) -> None:
    """Fail early, in words, when a SQLite file's folder is missing."""
    sa_url = make_url(url)
    if sa_url.get_backend_name() != "sqlite" or not sa_url.database or sa_url.database == ":memory:":
        return
    folder = Path(sa_url.database).resolve().parent
    if not folder.is_dir():
        raise DatabaseError(f"The folder {folder} for the database file does not exist; create it, "
                            "or set DATABASE_URL to a file in an existing folder.")


async def ping(engine: AsyncEngine, seconds: float = 10.0) -> None:
    try:
        async with asyncio.timeout(seconds):
            async with engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
    except Exception as exc:  # every driver has its own exception family
        where = engine.url.render_as_string(hide_password=True)
        raise DatabaseError(f"Cannot reach the database at {where}: {_describe(exc)}. "
                            "Check DATABASE_URL and that the server is running.") from None


def _describe(exc: BaseException) -> str:
    if isinstance(exc, TimeoutError):
        return "no answer in time"
    orig = getattr(exc, "orig", None) or exc
    message = str(orig).strip().splitlines()[0] if str(orig).strip() else orig.__class__.__name__
    return message[:200]


def alembic_config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    return cfg


# Any constant both replicas agree on: the key of the session-level advisory lock that serialises migrations.
MIGRATION_LOCK_KEY = 0x7069636D696D  # "picmim"


async def migrate(engine: AsyncEngine, revision: str = "head") -> str | None:
    """Bring the schema to `revision`; returns the revision found before (None: the schema was created).

    Alembic runs on a sync connection borrowed from the engine. On PostgreSQL, replicas starting at once take
    turns through an advisory lock on that same connection: the second waits, then finds the schema current."""
    from alembic.runtime.migration import MigrationContext

    def upgrade(sync_conn) -> str | None:
        before = MigrationContext.configure(sync_conn).get_current_revision()
        cfg = alembic_config()
        cfg.attributes["connection"] = sync_conn
        command.upgrade(cfg, revision)
        return before

    locking = engine.dialect.name == "postgresql"
    try:
        async with engine.connect() as conn:
            if locking:
                await conn.execute(text("SELECT pg_advisory_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
                await conn.commit()
            try:
                before = await conn.run_sync(upgrade)
                await conn.commit()
            finally:
                if locking:
                    await conn.rollback()
                    await conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": MIGRATION_LOCK_KEY})
                    await conn.commit()
        return before
    except DatabaseError:
        raise
    except Exception as exc:
        raise DatabaseError(f"Updating the database schema failed: {_describe(exc)}.") from exc


async def current_revision(engine: AsyncEngine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    async with engine.connect() as conn:
        return await conn.run_sync(lambda c: MigrationContext.configure(c).get_current_revision())
