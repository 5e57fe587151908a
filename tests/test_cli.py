"""`python -m bot` as an operator meets it: clear words, exit codes, no tracebacks."""

from __future__ import annotations

import httpx
from cryptography.fernet import Fernet

from tests.conftest import SECRET_KEY, SIGNING_SECRET
from tests.server import ServerProcess, base_env, free_port, run_cli


def test_serve_without_slack_credentials_says_what_to_set(tmp_path):
    result = run_cli(env=base_env(), cwd=tmp_path)
    assert result.returncode == 2
    assert "SLACK_BOT_TOKEN" in result.stderr and "SLACK_SIGNING_SECRET is not set" in result.stderr
    assert ".env.example" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    assert not (tmp_path / "picmim.db").exists(), "nothing is created before the configuration is right"


def test_check_explains_what_is_missing_and_every_redirect_uri(tmp_path):
    env = base_env(PUBLIC_URL="https://picmim.acme.test", X_CLIENT_ID="cid", X_CLIENT_SECRET="cs")
    result = run_cli("check", env=env, cwd=tmp_path)
    out = result.stdout
    assert result.returncode == 1
    assert "No Slack credentials" in out
    assert "https://picmim.acme.test/oauth/x/callback" in out
    assert "https://picmim.acme.test/oauth/instagram-login/callback" in out
    assert "https://picmim.acme.test/oauth/bluesky/client-metadata.json" in out
    x_line = next(line for line in out.splitlines() if line.strip().startswith("X "))
    assert "configured" in x_line and "not configured" not in x_line
    linkedin = next(line for line in out.splitlines() if line.strip().startswith("LinkedIn"))
    assert "set LINKEDIN_CLIENT_ID and LINKEDIN_CLIENT_SECRET" in linkedin
    assert "Facebook Groups" in out and "unavailable" in out
    assert "Not ready" in out


def test_check_is_ready_when_everything_is_set(tmp_path, fake_slack):
    env = base_env(SLACK_SIGNING_SECRET="s", SLACK_BOT_TOKEN="xoxb-fake-T0001", SLACK_API_URL=fake_slack.api_url,
                   PICMIM_SECRET_KEY=SECRET_KEY)
    result = run_cli("check", env=env, cwd=tmp_path)
    assert result.returncode == 0, result.stdout
    assert "one workspace" in result.stdout and "Ready to serve." in result.stdout
    assert "accepted by Slack" in result.stdout
    assert "xoxb-fake-T0001" not in result.stdout
    assert "off (PICMIM_METRICS=1 serves them at /metrics)" in result.stdout

    result = run_cli("check", env={**env, "PICMIM_METRICS": "1", "PICMIM_METRICS_TOKEN": "t0ken-9"}, cwd=tmp_path)
    assert "Prometheus text at http://localhost:3000/metrics, for Authorization: Bearer" in result.stdout
    assert "t0ken-9" not in result.stdout


def test_gen_key_prints_a_working_fernet_key(tmp_path):
    result = run_cli("gen-key", env=base_env(), cwd=tmp_path)
    assert result.returncode == 0
    Fernet(result.stdout.strip().encode())


def test_migrate_creates_the_schema_and_a_private_key_file(tmp_path):
    result = run_cli("migrate", env=base_env(), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "Created the database schema." in result.stdout
    assert (tmp_path / "picmim.db").exists()
    assert (tmp_path / "picmim.key").stat().st_mode & 0o777 == 0o600
    assert "Created a new encryption key" in result.stderr


def test_missing_database_folder_is_one_line_and_non_zero(tmp_path):
    env = base_env(DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path}/nope/picmim.db")
    result = run_cli("migrate", env=env, cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr.strip().count("\n") == 0
    assert "does not exist" in result.stderr and "Traceback" not in result.stderr


def test_unwritable_key_file_location_is_one_line_and_non_zero(tmp_path):
    # /proc exists but refuses new files, even to root.
    result = run_cli("migrate", env=base_env(DATABASE_URL="sqlite+aiosqlite:////proc/picmim.db"), cwd=tmp_path)
    assert result.returncode == 1
    assert "Cannot create the key file /proc/picmim.key" in result.stderr
    assert result.stderr.strip().count("\n") == 0


def test_unreachable_postgres_is_one_line_and_non_zero(tmp_path):
    env = base_env(DATABASE_URL="postgresql+asyncpg://picmim:pw@127.0.0.1:1/picmim", PICMIM_SECRET_KEY=SECRET_KEY)
    result = run_cli("migrate", env=env, cwd=tmp_path)
    assert result.returncode == 1
    assert "Cannot reach the database at postgresql+asyncpg://picmim:***@127.0.0.1:1/picmim" in result.stderr
    assert result.stderr.strip().count("\n") == 0
    assert "pw@" not in result.stderr


def test_serve_reports_a_busy_port(tmp_path, fake_slack):
    env = base_env(SLACK_SIGNING_SECRET=SIGNING_SECRET, SLACK_BOT_TOKEN="xoxb-fake-T0001",
                   SLACK_API_URL=fake_slack.api_url, PICMIM_SECRET_KEY=SECRET_KEY)
    first = ServerProcess(dict(env), cwd=tmp_path).start()
    try:
        result = run_cli(env={**env, "PORT": str(first.port), "HOST": "127.0.0.1"}, cwd=tmp_path)
        assert result.returncode == 1
        assert f"cannot listen on 127.0.0.1:{first.port}" in result.stderr
        assert "Traceback" not in result.stderr
    finally:
        first.stop()


def test_server_starts_on_sqlite_with_a_created_key_and_stops_cleanly(tmp_path, fake_slack):
    env = base_env(SLACK_SIGNING_SECRET=SIGNING_SECRET, SLACK_BOT_TOKEN="xoxb-fake-T0001",
                   SLACK_API_URL=fake_slack.api_url, PORT=str(free_port()))
    server = ServerProcess(env, cwd=tmp_path).start()
    try:
        assert httpx.get(server.url + "/healthz").json()["ok"] is True
        assert (tmp_path / "picmim.db").exists() and (tmp_path / "picmim.key").exists()
        for name in ("picmim.db", "picmim.db-wal", "picmim.db-shm", "picmim.key"):
            assert (tmp_path / name).stat().st_mode & 0o777 == 0o600, name
    finally:
        assert server.stop() == 0
    assert "Traceback" not in server.output()


def test_a_bot_token_slack_refuses_stops_the_server_with_the_reason(tmp_path, fake_slack):
    env = base_env(SLACK_SIGNING_SECRET=SIGNING_SECRET, SLACK_BOT_TOKEN="xoxb-revoked-or-mistyped",
                   SLACK_API_URL=fake_slack.api_url, PICMIM_SECRET_KEY=SECRET_KEY, PORT=str(free_port()))
    result = run_cli(env=env, cwd=tmp_path)
    assert result.returncode == 1
    assert "Slack refused SLACK_BOT_TOKEN (invalid_auth)" in result.stderr
    assert "xoxb-revoked-or-mistyped" not in result.stderr
    assert "Traceback" not in result.stderr
