"""Deploys and start-up: replicas migrating at once, `migrate` telling the truth."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from tests.conftest import SECRET_KEY, ScratchDatabase, server_env
from tests.server import ServerProcess, base_env, run_cli


@pytest.mark.postgres
def test_two_servers_started_together_on_an_empty_postgres_database_both_become_healthy(tmp_path, fake_slack):
    database = ScratchDatabase(tmp_path)
    servers = []
    try:
        for i in range(2):
            folder = tmp_path / f"replica-{i}"
            folder.mkdir()
            servers.append(ServerProcess(server_env(database.url, fake_slack), cwd=folder))
        with ThreadPoolExecutor(2) as pool:
            started = list(pool.map(lambda s: s.start(), servers))
        for server in started:
            assert httpx.get(server.url + "/healthz").status_code == 200
    finally:
        codes = [s.stop() for s in servers]
        database.drop()
    assert codes == [0, 0], [s.output() for s in servers]
    for server in servers:
        assert "Traceback" not in server.output() and "failed" not in server.output()


def test_migrate_says_it_created_the_schema_then_that_it_is_up_to_date(tmp_path):
    first = run_cli("migrate", env=base_env(PICMIM_SECRET_KEY=SECRET_KEY), cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    assert "Created the database schema" in first.stdout and "up to date" not in first.stdout
    again = run_cli("migrate", env=base_env(PICMIM_SECRET_KEY=SECRET_KEY), cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert "The database schema is up to date." in again.stdout
