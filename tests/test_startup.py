"""Deploys and start-up: replicas migrating at once, `migrate` and `check` telling the truth, /readyz."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from tests.conftest import SECRET_KEY, SIGNING_SECRET, ScratchDatabase, server_env
from tests.server import ServerProcess, base_env, free_port, run_cli


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


def test_check_asks_slack_and_reports_a_made_up_bot_token(tmp_path, fake_slack):
    env = base_env(SLACK_SIGNING_SECRET="s", SLACK_BOT_TOKEN="xoxb-made-up", SLACK_API_URL=fake_slack.api_url,
                   PICMIM_SECRET_KEY=SECRET_KEY)
    result = run_cli("check", env=env, cwd=tmp_path)
    assert result.returncode == 1, result.stdout
    assert "refused by Slack (invalid_auth)" in result.stdout
    assert "Ready to serve" not in result.stdout and "xoxb-made-up" not in result.stdout


def test_check_says_when_slack_is_unreachable(tmp_path):
    env = base_env(SLACK_SIGNING_SECRET="s", SLACK_BOT_TOKEN="xoxb-fake-T0001",
                   SLACK_API_URL=f"http://127.0.0.1:{free_port()}/api/", PICMIM_SECRET_KEY=SECRET_KEY)
    result = run_cli("check", env=env, cwd=tmp_path)
    assert result.returncode == 1, result.stdout
    assert "cannot reach Slack" in result.stdout and "Traceback" not in result.stdout + result.stderr


def test_readyz_says_each_part_is_ready_and_healthz_stays_liveness(tmp_path, fake_slack):
    env = base_env(SLACK_SIGNING_SECRET=SIGNING_SECRET, SLACK_BOT_TOKEN="xoxb-fake-T0001",
                   SLACK_API_URL=fake_slack.api_url, PICMIM_SECRET_KEY=SECRET_KEY, PORT=str(free_port()))
    server = ServerProcess(env, cwd=tmp_path).start()
    try:
        response = httpx.get(server.url + "/readyz")
        assert response.status_code == 200, response.text
        assert response.json() == {"ready": True, "database": "ok", "slack": "ok", "scheduler": "running"}
        assert httpx.get(server.url + "/healthz").status_code == 200
    finally:
        assert server.stop() == 0


def test_readyz_says_slack_is_not_ready_while_healthz_stays_ok(tmp_path):
    env = base_env(SLACK_SIGNING_SECRET=SIGNING_SECRET, SLACK_BOT_TOKEN="xoxb-fake-T0001",
                   SLACK_API_URL=f"http://127.0.0.1:{free_port()}/api/", PICMIM_SECRET_KEY=SECRET_KEY,
                   PORT=str(free_port()))
    server = ServerProcess(env, cwd=tmp_path).start()
    try:
        response = httpx.get(server.url + "/readyz", timeout=10)
        assert response.status_code == 503, response.text
        body = response.json()
        assert body["ready"] is False and body["database"] == "ok" and body["scheduler"] == "running"
        assert body["slack"].startswith("unreachable")
        assert httpx.get(server.url + "/healthz").status_code == 200
    finally:
        assert server.stop() == 0
