"""Shared fixtures: databases (SQLite, or PostgreSQL from TEST_DATABASE_URL), the fake Slack, the server,
and what the platform contract tests share (see also tests/platform_fixtures.py)."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from sqlalchemy.engine import make_url

from bot.sandbox.fakes.slack import FakeSlack
from tests.fakes.media_host import MediaHost
from tests.server import ServerProcess, base_env
from tests.slack_requests import SlackSender

TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL", "").strip()
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
SIGNING_SECRET = "test-signing-secret-0123456789abcdef"
SECRET_KEY = Fernet.generate_key().decode()


def pytest_report_header(config) -> str:
    if TEST_DATABASE_URL:
        return f"database: PostgreSQL from TEST_DATABASE_URL ({make_url(TEST_DATABASE_URL).host})"
    return ("database: SQLite (set TEST_DATABASE_URL=postgresql+asyncpg://postgres@127.0.0.1:5432/test "
            "to run the suite on PostgreSQL; PostgreSQL-only tests are skipped)")


def pytest_configure(config) -> None:
    config.addinivalue_line("markers", "postgres: needs PostgreSQL (TEST_DATABASE_URL)")


def pytest_collection_modifyitems(config, items) -> None:
    if TEST_DATABASE_URL:
        return
    skip = pytest.mark.skip(reason="needs PostgreSQL: set TEST_DATABASE_URL (see README)")
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(skip)


# ---- databases ---------------------------------------------------------------------------------

async def _pg_admin(sql: str) -> None:
    import asyncpg

    url = make_url(TEST_DATABASE_URL)
    conn = await asyncpg.connect(host=url.host, port=url.port or 5432, user=url.username,
                                 password=url.password, database=url.database, timeout=10)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


class ScratchDatabase:
    """A database for one test (or one module): a fresh SQLite file, or a fresh PostgreSQL database."""

    def __init__(self, tmp_dir: Path):
        self.tmp_dir = tmp_dir
        self.name: str | None = None
        if TEST_DATABASE_URL:
            self.name = f"picmim_test_{uuid.uuid4().hex[:12]}"
            try:
                asyncio.run(_pg_admin(f'CREATE DATABASE "{self.name}"'))
            except Exception as exc:
                message = f"PostgreSQL at TEST_DATABASE_URL is not usable: {exc}"
                if IN_CI:
                    pytest.fail(message)
                pytest.skip(message)
            self.url = make_url(TEST_DATABASE_URL).set(database=self.name).render_as_string(hide_password=False)
        else:
            self.url = f"sqlite+aiosqlite:///{tmp_dir / 'picmim.db'}"

    @property
    def is_postgres(self) -> bool:
        return self.name is not None

    def drop(self) -> None:
        if self.name:
            asyncio.run(_pg_admin(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)'))


@pytest.fixture
def database(tmp_path) -> Iterator[ScratchDatabase]:
    db = ScratchDatabase(tmp_path)
    yield db
    db.drop()


@pytest.fixture
async def engine(database):
    """A migrated engine with the test encryption key installed."""
    from bot.storage import crypto, db

    crypto.configure([SECRET_KEY])
    eng = db.create_engine(database.url)
    await db.migrate(eng)
    yield eng
    await eng.dispose()


# ---- Slack and the server ----------------------------------------------------------------------

@pytest.fixture(scope="session")
def fake_slack() -> Iterator[FakeSlack]:
    fake = FakeSlack().start()
    fake.add_team("T0001", "xoxb-fake-T0001")
    yield fake
    fake.stop()


@pytest.fixture
def slack(fake_slack) -> FakeSlack:
    fake_slack.reset()
    return fake_slack


def server_env(database_url: str, fake: FakeSlack, **extra: str) -> dict[str, str]:
    return base_env(
        SLACK_SIGNING_SECRET=SIGNING_SECRET,
        SLACK_BOT_TOKEN="xoxb-fake-T0001",
        SLACK_API_URL=fake.api_url,
        DATABASE_URL=database_url,
        PICMIM_SECRET_KEY=SECRET_KEY,
        **extra,
    )


@pytest.fixture(scope="module")
def module_database(tmp_path_factory) -> Iterator[ScratchDatabase]:
    db = ScratchDatabase(tmp_path_factory.mktemp("db"))
    yield db
    db.drop()


@pytest.fixture(scope="module")
def server(module_database, fake_slack, tmp_path_factory) -> Iterator[ServerProcess]:
    """The real server in single-workspace mode, one per test module."""
    proc = ServerProcess(server_env(module_database.url, fake_slack),
                         cwd=tmp_path_factory.mktemp("cwd")).start()
    yield proc
    proc.stop()


@pytest.fixture
def sender(server) -> Iterator[SlackSender]:
    s = SlackSender(server.url, SIGNING_SECRET)
    yield s
    s.close()


# ---- platform contract tests -------------------------------------------------------------------

@pytest.fixture
def files() -> Iterator[MediaHost]:
    """A media host of the test's own, serving what Picmim would serve at PUBLIC_URL/media/."""
    host = MediaHost().start()
    yield host
    host.stop()


@pytest.fixture
def waits() -> list[float]:
    """The seconds an adapter would have slept (see platform_fixtures.without_sleeping)."""
    return []
