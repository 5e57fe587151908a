from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.config import ENV_VARS, ConfigError, load_settings

ROOT = Path(__file__).resolve().parent.parent
SLACK = {"SLACK_SIGNING_SECRET": "s3cret", "SLACK_BOT_TOKEN": "xoxb-1-2-3"}


def load(env: dict, **kw):
    return load_settings(env, env_file="/nonexistent/.env", **kw)


def problems(env: dict, **kw) -> str:
    with pytest.raises(ConfigError) as err:
        load(env, **kw)
    return str(err.value)


def test_defaults_for_a_single_workspace():
    s = load(SLACK)
    assert (s.host, s.port) == ("127.0.0.1", 3000)
    assert s.public_url == "http://localhost:3000"
    assert s.database_url == "sqlite+aiosqlite:///picmim.db"
    assert s.slack.mode == "single" and not s.slack.socket_mode
    assert s.slack.api_url == "https://slack.com/api/"
    assert s.meta_graph_version == "v26.0"
    assert s.origin_overrides == {}
    assert s.media_retention_days == 30
    assert load({**SLACK, "PICMIM_MEDIA_RETENTION_DAYS": "7"}).media_retention_days == 7
    assert s.redirect_uri("instagram-login") == "http://localhost:3000/oauth/instagram-login/callback"


def test_public_url_defaults_to_the_configured_port():
    s = load({**SLACK, "PORT": "8080"})
    assert s.public_url == "http://localhost:8080"
    assert s.redirect_uri("x") == "http://localhost:8080/oauth/x/callback"
    assert load({**SLACK, "PORT": "8080", "PUBLIC_URL": "https://picmim.example.com/"}).public_url == \
        "https://picmim.example.com"


def test_metrics_are_off_unless_set_to_1():
    s = load(SLACK)
    assert not s.metrics and s.metrics_token is None
    s = load({**SLACK, "PICMIM_METRICS": "1", "PICMIM_METRICS_TOKEN": "t0ken"})
    assert s.metrics and s.metrics_token == "t0ken"
    assert "t0ken" not in repr(s)
    assert "PICMIM_METRICS='yes' must be 1" in problems({**SLACK, "PICMIM_METRICS": "yes"})


def test_multi_workspace_and_socket_mode():
    s = load({"SLACK_CLIENT_ID": "1.2", "SLACK_CLIENT_SECRET": "x", "SLACK_APP_TOKEN": "xapp-1"})
    assert s.slack.mode == "multi" and s.slack.socket_mode
    assert s.slack_redirect_uri == "http://localhost:3000/slack/oauth_redirect"


def test_no_slack_credentials_says_what_to_set():
    text = problems({})
    assert "SLACK_BOT_TOKEN" in text and "SLACK_CLIENT_ID" in text
    assert "SLACK_SIGNING_SECRET is not set" in text


def test_check_mode_keeps_slack_gaps_as_problems():
    s = load({}, require_slack=False)
    assert any("No Slack credentials" in p for p in s.problems)


@pytest.mark.parametrize("env,expected", [
    ({"PORT": "http"}, "PORT='http' is not a port number"),
    ({"PORT": "70000"}, "PORT='70000'"),
    ({"PUBLIC_URL": "localhost:3000"}, "PUBLIC_URL='localhost:3000' is not a URL"),
    ({"DATABASE_URL": "mysql://u:pw@h/db"}, "DATABASE_URL='mysql://u:***@h/db' is not supported"),
    ({"PICMIM_SECRET_KEY": "short"}, "PICMIM_SECRET_KEY is not a valid key"),
    ({"PICMIM_ORIGIN_OVERRIDES": "https://graph.facebook.com"}, "PICMIM_ORIGIN_OVERRIDES has"),
    ({"META_CLIENT_ID": "123"}, "META_CLIENT_SECRET is missing"),
    ({"META_GRAPH_VERSION": "26"}, "META_GRAPH_VERSION='26' must look like v26.0"),
    ({"SLACK_BOT_TOKEN": "xoxp-user"}, "SLACK_BOT_TOKEN must be a bot token starting with xoxb-"),
    ({"SLACK_APP_TOKEN": "xoxb-1"}, "SLACK_APP_TOKEN must be an app-level token"),
    ({"SLACK_CLIENT_ID": "1.2", "SLACK_CLIENT_SECRET": "x"}, "choose one"),
    ({"LOG_LEVEL": "loud"}, "LOG_LEVEL='LOUD'"),
    ({"LOG_FORMAT": "xml"}, "LOG_FORMAT='xml' must be text or json"),
    ({"PICMIM_MEDIA_RETENTION_DAYS": "0"}, "PICMIM_MEDIA_RETENTION_DAYS='0' must be a whole number of days from 1"),
])
def test_each_wrong_value_is_named_with_the_fix(env, expected):
    text = problems({**SLACK, **env})
    assert expected in text
    assert "Traceback" not in text


def test_password_never_printed():
    text = problems({**SLACK, "DATABASE_URL": "mysql://admin:hunter2@db/x"})
    assert "hunter2" not in text


def test_origin_overrides_and_credentials_parse():
    s = load({**SLACK, "PICMIM_ORIGIN_OVERRIDES": "https://api.x.com=http://127.0.0.1:9001, "
                                                   "https://graph.facebook.com/=http://127.0.0.1:9002",
              "X_CLIENT_ID": "cid", "X_CLIENT_SECRET": "cs"})
    assert s.origin_overrides == {"https://api.x.com": "http://127.0.0.1:9001",
                                  "https://graph.facebook.com": "http://127.0.0.1:9002"}
    assert s.platform_configured("X") and not s.platform_configured("META")
    assert s.platform_configured(None)  # Bluesky needs no credentials


def test_dotenv_is_read_and_the_environment_wins(tmp_path):
    env_file = tmp_path / ".env"
    env_file.write_text("SLACK_SIGNING_SECRET=from-file\nSLACK_BOT_TOKEN=xoxb-file\nPORT=4000\n")
    s = load_settings({"PORT": "5000"}, env_file=str(env_file))
    assert s.slack.signing_secret == "from-file"
    assert s.port == 5000


def test_sqlite_path_and_data_dir():
    s = load({**SLACK, "DATABASE_URL": "sqlite+aiosqlite:////var/lib/picmim/app.db"})
    assert str(s.sqlite_path) == "/var/lib/picmim/app.db"
    assert str(s.data_dir) == "/var/lib/picmim"


def test_env_example_lists_exactly_the_variables_the_app_reads():
    documented = set(re.findall(r"^([A-Z][A-Z0-9_]+)=", (ROOT / ".env.example").read_text(), re.M))
    assert documented == set(ENV_VARS)


def test_config_is_the_only_module_reading_the_environment():
    offenders = [str(p.relative_to(ROOT)) for p in (ROOT / "bot").rglob("*.py")
                 if p.name != "config.py" and re.search(r"os\.environ|os\.getenv", p.read_text())]
    assert offenders == []
