"""The settings object. Every environment variable the app uses is read here, once, and nowhere else.

`load_settings()` merges `.env` (python-dotenv) under the real environment, checks every value and
either returns a `Settings` or raises `ConfigError` whose message names each bad variable and what
to do about it, so the CLI can print it without a traceback.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from dotenv import dotenv_values

from bot.platforms.registry import CREDENTIAL_PREFIXES

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///picmim.db"
DEFAULT_PUBLIC_URL = "http://localhost:3000"  # with the default PORT; PUBLIC_URL follows PORT when unset
DEFAULT_SLACK_API_URL = "https://slack.com/api/"
DEFAULT_GRAPH_VERSION = "v26.0"
SUPPORTED_DB_SCHEMES = ("sqlite+aiosqlite", "postgresql+asyncpg")

SLACK_APPS_PAGE = "https://api.slack.com/apps"

# Every variable the app reads (`.env.example` documents each one).
ENV_VARS = (
    "HOST", "PORT", "PUBLIC_URL", "DATABASE_URL", "PICMIM_SECRET_KEY", "PICMIM_ORIGIN_OVERRIDES", "LOG_LEVEL",
    "SLACK_SIGNING_SECRET", "SLACK_BOT_TOKEN", "SLACK_CLIENT_ID", "SLACK_CLIENT_SECRET", "SLACK_APP_TOKEN",
    "SLACK_API_URL", "META_GRAPH_VERSION", "PICMIM_TICK_SECONDS",
    "PICMIM_ANALYTICS_SECONDS", "LOG_FORMAT",
    "PICMIM_HEALTH_SECONDS",
    "PICMIM_VIDEO_JOBS", "TIKTOK_VIDEO_SOURCE", "BLUESKY_CLIENT_KEY",
    "PICMIM_MEDIA_RETENTION_DAYS",
    "PICMIM_METRICS", "PICMIM_METRICS_TOKEN",
    "PICMIM_AUDIT_RETENTION_DAYS",
    *(f"{prefix}_CLIENT_{part}" for prefix in CREDENTIAL_PREFIXES for part in ("ID", "SECRET")),
)


class ConfigError(Exception):
    """One or more settings are wrong; `problems` holds one plain sentence per variable."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("\n".join(problems))

    def render(self) -> str:
        lines = ["Picmim cannot start: the configuration needs attention."]
        lines += [f"  - {p}" for p in self.problems]
        lines.append("Set these in the environment or in a .env file (see .env.example), "
                     "then run `python -m bot check`.")
        return "\n".join(lines)


@dataclass(frozen=True)
class PlatformCredentials:
    client_id: str
    client_secret: str


@dataclass(frozen=True)
class SlackSettings:
    signing_secret: str | None
    bot_token: str | None
    client_id: str | None
    client_secret: str | None
    app_token: str | None
    api_url: str

    @property
    def mode(self) -> str | None:
        """'single' (one workspace, a bot token), 'multi' (installs through OAuth), or None."""
        if self.client_id and self.client_secret:
            return "multi"
        if self.bot_token:
            return "single"
        return None

    @property
    def socket_mode(self) -> bool:
        return bool(self.app_token)

    @property
    def web_origin(self) -> str:
        """Where Slack's browser pages live (OAuth authorize), derived from the Web API base."""
        parts = urlsplit(self.api_url)
        return f"{parts.scheme}://{parts.netloc}"


@dataclass(frozen=True)
class Settings:
    host: str
    port: int
    public_url: str
    database_url: str
    secret_keys: tuple[str, ...]
    slack: SlackSettings
    origin_overrides: Mapping[str, str]
    platform_credentials: Mapping[str, PlatformCredentials]
    meta_graph_version: str
    log_level: str
    tick_seconds: float  # how often due posts are looked for
    problems: tuple[str, ...] = field(default=())
    log_format: str = "text"  # text, or json (one object a line) for log collectors
    analytics_seconds: float = 60.0  # how often due metric syncs and digests are looked for
    health_seconds: float = 60.0  # how often connections are looked after (renewals, warnings, alerts)
    video_jobs: int = 1  # videos optimised at once by this process (each uses every core while it runs)
    media_retention_days: int = 30  # attachments are deleted this long after the last post using them is done
    tiktok_video_source: str = "FILE_UPLOAD"  # or PULL_FROM_URL: TikTok fetches from PUBLIC_URL (verified domain)
    # Bluesky client authentication key(s), a private JWK/JWKS or PEM; None: the one stored in the database
    bluesky_client_key: str | None = field(default=None, repr=False)
    metrics: bool = False  # GET /metrics answers (Prometheus text); 404 otherwise
    metrics_token: str | None = field(default=None, repr=False)  # if set, /metrics wants it as a bearer token
    audit_retention_days: int = 365  # audit trail entries older than this are deleted

    def platform_configured(self, credential_prefix: str | None) -> bool:
        return credential_prefix is None or credential_prefix in self.platform_credentials

    def redirect_uri(self, platform_key: str) -> str:
        return f"{self.public_url}/oauth/{platform_key}/callback"

    @property
    def slack_redirect_uri(self) -> str:
        return f"{self.public_url}/slack/oauth_redirect"

    @property
    def sqlite_path(self) -> Path | None:
        """The database file for SQLite URLs (None for in-memory or other databases)."""
        if not self.database_url.startswith("sqlite"):
            return None
        path = self.database_url.split(":///", 1)[1] if ":///" in self.database_url else ""
        path = path.split("?", 1)[0]
        if not path or path == ":memory:":
            return None
        return Path(path)

    @property
    def data_dir(self) -> Path:
        """Where local files live (the key file, stored media): beside the SQLite file, else here."""
        db = self.sqlite_path
        return db.parent if db is not None else Path.cwd()


def _read_environment(environ: Mapping[str, str] | None, env_file: str | None) -> dict[str, str]:
    values: dict[str, str] = {}
    path = Path(env_file) if env_file else Path.cwd() / ".env"
    if path.is_file():
        values.update({k: v for k, v in dotenv_values(path).items() if v is not None})
    values.update(os.environ if environ is None else environ)
    return {k: v.strip() for k, v in values.items()}


def environment_and_file(env_file: str | Path | None = None) -> tuple[dict[str, str], dict[str, str]]:
    """The process environment and the `.env` file's values, kept apart (the sandbox says which one holds a
    setting it refuses)."""
    path = Path(env_file) if env_file else Path.cwd() / ".env"
    from_file = {k: v for k, v in dotenv_values(path).items() if v is not None} if path.is_file() else {}
    return dict(os.environ), from_file


def _url_problem(name: str, value: str, schemes: tuple[str, ...]) -> str | None:
    parts = urlsplit(value)
    if parts.scheme not in schemes or not parts.netloc:
        wanted = " or ".join(f"{s}://…" for s in schemes)
        return f"{name}={value!r} is not a URL; it must look like {wanted}."
    return None


def load_settings(
    environ: Mapping[str, str] | None = None,
    *,
    require_slack: bool = True,
    env_file: str | None = None,
) -> Settings:
    """Read and check every setting. With `require_slack=False` Slack gaps are kept in `problems`
    instead of raised, so `python -m bot check` can still describe everything else."""
    env = _read_environment(environ, env_file)
    problems: list[str] = []
    slack_problems: list[str] = []

    def get(name: str, default: str = "") -> str:
        assert name in ENV_VARS, name
        return env.get(name, "") or default

    host = get("HOST", "127.0.0.1")
    port_text = get("PORT", "3000")
    port = 3000
    if not port_text.isdigit() or not 1 <= int(port_text) <= 65535:
        problems.append(f"PORT={port_text!r} is not a port number; use a number from 1 to 65535, e.g. 3000.")
    else:
        port = int(port_text)

    # Unset, it is this machine on the port the server listens on (a browser on the same machine reaches it).
    public_url = get("PUBLIC_URL", f"http://localhost:{port}").rstrip("/")
    if problem := _url_problem("PUBLIC_URL", public_url, ("http", "https")):
        problems.append(problem + " It is the address Slack and the platforms reach this app at.")

    database_url = get("DATABASE_URL", DEFAULT_DATABASE_URL)
    scheme = database_url.split("://", 1)[0] if "://" in database_url else ""
    if scheme not in SUPPORTED_DB_SCHEMES:
        problems.append(
            f"DATABASE_URL={_hide_password(database_url)!r} is not supported; use "
            "sqlite+aiosqlite:///picmim.db (a local file) or "
            "postgresql+asyncpg://user:password@host:5432/dbname."
        )

    secret_keys = tuple(k.strip() for k in get("PICMIM_SECRET_KEY").split(",") if k.strip())
    for key in secret_keys:
        if not _looks_like_fernet_key(key):
            problems.append(
                "PICMIM_SECRET_KEY is not a valid key (it must be 44 characters of URL-safe base64). "
                "Create one with `python -m bot gen-key`."
            )
            break

    api_url = get("SLACK_API_URL", DEFAULT_SLACK_API_URL)
    if problem := _url_problem("SLACK_API_URL", api_url, ("http", "https")):
        problems.append(problem)
    if not api_url.endswith("/"):
        api_url += "/"
    slack = SlackSettings(
        signing_secret=get("SLACK_SIGNING_SECRET") or None,
        bot_token=get("SLACK_BOT_TOKEN") or None,
        client_id=get("SLACK_CLIENT_ID") or None,
        client_secret=get("SLACK_CLIENT_SECRET") or None,
        app_token=get("SLACK_APP_TOKEN") or None,
        api_url=api_url,
    )
    slack_problems.extend(_slack_problems(slack))

    overrides: dict[str, str] = {}
    for pair in filter(None, (p.strip() for p in get("PICMIM_ORIGIN_OVERRIDES").split(","))):
        real, _, other = pair.partition("=")
        real, other = real.strip().rstrip("/"), other.strip().rstrip("/")
        if (not other or _url_problem("x", real, ("http", "https"))
                or _url_problem("x", other, ("http", "https"))):
            problems.append(
                f"PICMIM_ORIGIN_OVERRIDES has {pair!r}; each entry must be "
                "https://real.origin=http://other:port, entries separated by commas."
            )
            continue
        overrides[real] = other

    credentials: dict[str, PlatformCredentials] = {}
    for prefix in CREDENTIAL_PREFIXES:
        cid, secret = get(f"{prefix}_CLIENT_ID"), get(f"{prefix}_CLIENT_SECRET")
        if cid and secret:
            credentials[prefix] = PlatformCredentials(cid, secret)
        elif cid or secret:
            missing = f"{prefix}_CLIENT_SECRET" if cid else f"{prefix}_CLIENT_ID"
            problems.append(
                f"{missing} is missing while its partner is set; set both from the platform's "
                "developer app, or neither to leave the platform off."
            )

    graph_version = get("META_GRAPH_VERSION", DEFAULT_GRAPH_VERSION)
    if not re.fullmatch(r"v\d{1,3}\.\d", graph_version):
        problems.append(f"META_GRAPH_VERSION={graph_version!r} must look like v26.0.")

    def number(name: str, default: str, low: float, high: float, kind: type = float, unit: str = "a number of seconds"):
        text = get(name, default)
        try:
            value = kind(text)
            if not low <= value <= high:
                raise ValueError
            return value
        except ValueError:
            problems.append(f"{name}={text!r} must be {unit} from {low:g} to {high:g}.")
            return kind(default)

    tick_seconds = number("PICMIM_TICK_SECONDS", "5", 0.2, 3600)
    analytics_seconds = number("PICMIM_ANALYTICS_SECONDS", "60", 0.2, 3600)
    health_seconds = number("PICMIM_HEALTH_SECONDS", "60", 0.2, 3600)
    video_jobs = number("PICMIM_VIDEO_JOBS", "1", 1, 16, int, "a whole number")
    media_retention_days = number("PICMIM_MEDIA_RETENTION_DAYS", "30", 1, 3650, int, "a whole number of days")
    audit_retention_days = number("PICMIM_AUDIT_RETENTION_DAYS", "365", 1, 36500, int, "a whole number of days")

    tiktok_video_source = get("TIKTOK_VIDEO_SOURCE", "FILE_UPLOAD").upper()
    if tiktok_video_source not in ("FILE_UPLOAD", "PULL_FROM_URL"):
        problems.append(f"TIKTOK_VIDEO_SOURCE={tiktok_video_source!r} must be FILE_UPLOAD or PULL_FROM_URL.")
        tiktok_video_source = "FILE_UPLOAD"

    bluesky_client_key = get("BLUESKY_CLIENT_KEY") or None
    if bluesky_client_key:
        from bot.platforms.bluesky_keys import ClientKeyError, parse_keys

        try:
            parse_keys(bluesky_client_key)
        except ClientKeyError as exc:
            problems.append(f"BLUESKY_CLIENT_KEY cannot be used: {exc}. Give an EC P-256 private key as a JWK "
                            "or PEM (several, newest first, to rotate), or unset it to let Picmim make one.")

    metrics_text = get("PICMIM_METRICS", "0")
    if metrics_text not in ("0", "1"):
        problems.append(f"PICMIM_METRICS={metrics_text!r} must be 1 (serve /metrics) or 0 (do not).")
    metrics_token = get("PICMIM_METRICS_TOKEN") or None

    log_level = get("LOG_LEVEL", "INFO").upper()
    if log_level not in ("DEBUG", "INFO", "WARNING", "ERROR"):
        problems.append(f"LOG_LEVEL={log_level!r} must be DEBUG, INFO, WARNING or ERROR.")
    log_format = get("LOG_FORMAT", "text").lower()
    if log_format not in ("text", "json"):
        problems.append(f"LOG_FORMAT={log_format!r} must be text or json.")

    if require_slack:
        problems.extend(slack_problems)
        slack_problems = []
    if problems:
        raise ConfigError(problems)
    return Settings(
        host=host,
        port=port,
        public_url=public_url,
        database_url=database_url,
        secret_keys=secret_keys,
        slack=slack,
        origin_overrides=overrides,
        platform_credentials=credentials,
        meta_graph_version=graph_version,
        log_level=log_level,
        log_format=log_format,
        tick_seconds=tick_seconds,
        problems=tuple(slack_problems),
        analytics_seconds=analytics_seconds,
        health_seconds=health_seconds,
        video_jobs=video_jobs,
        media_retention_days=media_retention_days,
        tiktok_video_source=tiktok_video_source,
        bluesky_client_key=bluesky_client_key,
        metrics=metrics_text == "1",
        metrics_token=metrics_token,
        audit_retention_days=audit_retention_days,
    )


def _slack_problems(slack: SlackSettings) -> list[str]:
    problems = []
    if slack.bot_token and (slack.client_id or slack.client_secret):
        problems.append(
            "SLACK_BOT_TOKEN and SLACK_CLIENT_ID/SLACK_CLIENT_SECRET are both set; choose one: the bot "
            "token for a single workspace, or the client ID and secret to let many workspaces install."
        )
    elif bool(slack.client_id) != bool(slack.client_secret):
        missing = "SLACK_CLIENT_SECRET" if slack.client_id else "SLACK_CLIENT_ID"
        problems.append(f"{missing} is missing; copy it from Basic Information → App Credentials "
                        f"at {SLACK_APPS_PAGE}.")
    elif slack.mode is None:
        problems.append(
            "No Slack credentials: set SLACK_BOT_TOKEN (OAuth & Permissions → Bot User OAuth Token, "
            "after installing the app to your workspace) for one workspace, or SLACK_CLIENT_ID and "
            f"SLACK_CLIENT_SECRET (Basic Information) to let workspaces install it. See {SLACK_APPS_PAGE}."
        )
    if slack.bot_token and not slack.bot_token.startswith("xoxb-"):
        problems.append("SLACK_BOT_TOKEN must be a bot token starting with xoxb- "
                        "(OAuth & Permissions → Bot User OAuth Token).")
    if slack.app_token and not slack.app_token.startswith("xapp-"):
        problems.append("SLACK_APP_TOKEN must be an app-level token starting with xapp- (Basic Information → "
                        "App-Level Tokens, with the connections:write scope); unset it to serve over HTTP.")
    if not slack.signing_secret and not slack.socket_mode:
        problems.append("SLACK_SIGNING_SECRET is not set; copy it from Basic Information → App Credentials → "
                        f"Signing Secret at {SLACK_APPS_PAGE}. Slack requests cannot be verified without it.")
    return problems


def _looks_like_fernet_key(key: str) -> bool:
    return len(key) == 44 and re.fullmatch(r"[A-Za-z0-9_\-]{43}=", key) is not None


def _hide_password(url: str) -> str:
    return re.sub(r"(://[^:/@]+:)[^@]*@", r"\1***@", url)


def describe_database(url: str) -> str:
    """The database URL as it may be printed: without its password."""
    return _hide_password(url)
