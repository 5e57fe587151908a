"""python -m bot [serve|check|migrate|gen-key|sandbox]"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from datetime import date

from bot import logs
from bot.app import StartupError
from bot.config import ConfigError, Settings, describe_database, load_settings
from bot.serving import serve
from bot.storage import crypto, db

log = logging.getLogger("bot")



def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot", description="Picmim for Slack")
    parser.add_argument("command", nargs="?", default="serve",
                        choices=("serve", "check", "migrate", "gen-key", "sandbox"),
                        help="serve (default): run the app; check: explain the configuration; "
                             "migrate: update the database schema; gen-key: print a new PICMIM_SECRET_KEY; "
                             "sandbox: try Picmim in a simulated Slack workspace and networks")
    parser.add_argument("--reset", action="store_true", help="sandbox: start over with an empty sandbox")
    args = parser.parse_args(argv)
    if args.command == "sandbox":
        from bot.sandbox.run import run

        return run(reset=args.reset)
    try:
        if args.command == "gen-key":
            print(crypto.generate_key())
            return 0
        if args.command == "check":
            return check()
        settings = load_settings(require_slack=args.command == "serve")
        os.umask(0o077)  # the database, its -wal/-shm, media and keys are the owner's alone (0600, folders 0700)
        logs.setup(settings.log_level, settings.log_format)
        if args.command == "migrate":
            created = asyncio.run(migrate(settings))
            print("Created the database schema." if created else "The database schema is up to date.")
            return 0
        asyncio.run(serve(settings))
        return 0
    except ConfigError as exc:
        print(exc.render(), file=sys.stderr)
        return 2
    except (StartupError, db.DatabaseError, crypto.SecretKeyError) as exc:
        print(f"Picmim cannot start: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


async def migrate(settings: Settings) -> bool:
    """Brings the schema up to date; True when it had to be created."""
    from bot.app import prepare_storage

    before: list[str | None] = []
    engine = await prepare_storage(settings, migrated=before)
    await engine.dispose()
    return before == [None]


def check() -> int:
    """Print the configuration state; exit 0 only when the app can serve."""
    try:
        settings = load_settings(require_slack=False)
    except ConfigError as exc:
        print(exc.render())
        return 2
    from bot.platforms.registry import FACEBOOK_GROUPS, PLATFORMS

    slack = settings.slack
    print("Slack")
    if slack.mode == "single":
        print("  mode: one workspace (SLACK_BOT_TOKEN)")
    elif slack.mode == "multi":
        print("  mode: installable into many workspaces (SLACK_CLIENT_ID/SLACK_CLIENT_SECRET)")
        print(f"  install link: {settings.public_url}/slack/install")
        print(f"  redirect URL to add under OAuth & Permissions: {settings.slack_redirect_uri}")
    print("  events: " + ("Socket Mode (SLACK_APP_TOKEN)" if slack.socket_mode
                          else f"HTTP at {settings.public_url}/slack/events"))
    print(f"  Web API: {slack.api_url}")
    for problem in settings.problems:
        print(f"  ! {problem}")
    slack_ok = asyncio.run(_check_slack(settings))

    print("Database")
    print(f"  {describe_database(settings.database_url)}")
    db_ok = asyncio.run(_check_database(settings))
    print("Encryption key")
    if settings.secret_keys:
        print("  from PICMIM_SECRET_KEY" + (f" ({len(settings.secret_keys)} keys: the first encrypts)"
                                            if len(settings.secret_keys) > 1 else ""))
    else:
        path = settings.data_dir.resolve() / crypto.KEY_FILE_NAME
        state = "exists" if path.exists() else "will be created on first start"
        print(f"  key file {path} ({state}); set PICMIM_SECRET_KEY when several machines share the database")

    print("Platforms (register each redirect URI in the platform's developer app)")
    width = max(len(p.name) for p in PLATFORMS)
    for p in PLATFORMS:
        if p.credential_prefix is None:
            state = "ready, no credentials needed"
        elif settings.platform_configured(p.credential_prefix):
            state = "configured"
        else:
            state = f"not configured: set {p.credential_prefix}_CLIENT_ID and {p.credential_prefix}_CLIENT_SECRET"
        if not p.adapter_ready:
            state += " (publishing arrives in a later version)"
        print(f"  {p.name:<{width}}  {state}")
        if p.key == "bluesky":
            print(f"  {'':<{width}}  client metadata: {settings.public_url}/oauth/bluesky/client-metadata.json")
        else:
            print(f"  {'':<{width}}  redirect URI: {settings.redirect_uri(p.key)}  ({p.developer_console})")
    print(f"  {FACEBOOK_GROUPS.name:<{width}}  unavailable: {FACEBOOK_GROUPS.unavailable_reason}")
    print_api_versions(settings.meta_graph_version, date.today())
    print("Metrics")
    if settings.metrics:
        print(f"  Prometheus text at {settings.public_url}/metrics"
              + (", for Authorization: Bearer <PICMIM_METRICS_TOKEN> only" if settings.metrics_token else ""))
    else:
        print("  off (PICMIM_METRICS=1 serves them at /metrics)"
              + ("; PICMIM_METRICS_TOKEN is set but has no use while they are off" if settings.metrics_token else ""))
    if settings.origin_overrides:
        print("Origin overrides")
        for real, other in settings.origin_overrides.items():
            print(f"  {real} -> {other}")

    ready = not settings.problems and db_ok and slack_ok
    print("\nReady to serve." if ready else "\nNot ready: fix the lines marked above, then run this again.")
    return 0 if ready else 1


def print_api_versions(graph_version: str, today: date) -> None:
    """Each API version the adapters speak and until when its platform serves it (a warning from 60 days before)."""
    from bot.platforms.registry import WARN_DAYS_AHEAD, api_versions

    print("API versions (each platform retires old ones; a newer Picmim moves them forward)")
    for version, platforms in api_versions(graph_version).items():
        line = f"  {version.describe()}"
        if len(platforms) > 1:
            line += f" — {', '.join(p.name for p in platforms)}"
        print(line)
        left = version.days_left(today)
        if left is not None and left <= WARN_DAYS_AHEAD:
            fix = (f"set {version.setting} to a newer version" if version.setting
                   else "update Picmim to a release that speaks a newer one")
            print(f"    ! {'ended' if left < 0 else f'ends in {left} days'}: {fix}")
        elif version.ends is None and version.setting:
            print(f"    ! {version.setting}={version.version} is not a version Picmim knows the end of")


async def _check_slack(settings: Settings) -> bool:
    """Ask Slack (auth.test) whether it takes SLACK_BOT_TOKEN; without one there is nothing to ask yet."""
    token = settings.slack.bot_token
    if not token:
        return True
    import aiohttp
    from slack_sdk.errors import SlackApiError
    from slack_sdk.web.async_client import AsyncWebClient

    client = AsyncWebClient(token=token, base_url=settings.slack.api_url, timeout=10)
    try:
        response = await client.auth_test()
    except SlackApiError as exc:
        error = exc.response.get("error", "error") if isinstance(exc.response.data, dict) else "error"
        print(f"  ! SLACK_BOT_TOKEN refused by Slack ({error}): copy the Bot User OAuth Token again "
              "from OAuth & Permissions, or reinstall the app to the workspace")
        return False
    except (OSError, aiohttp.ClientError, TimeoutError) as exc:
        print(f"  ! cannot reach Slack at {settings.slack.api_url} ({exc.__class__.__name__})")
        return False
    team = response.get("team") or response.get("team_id") or "a workspace"
    print(f"  SLACK_BOT_TOKEN accepted by Slack: bot {response.get('user', '?')} in {team}")
    return True


async def _check_database(settings: Settings) -> bool:
    try:
        db.check_location(settings.database_url)
    except db.DatabaseError as exc:
        print(f"  ! {exc}")
        return False
    if settings.sqlite_path is not None and not settings.sqlite_path.exists():
        print("  file will be created on first start")
        return True
    engine = db.create_engine(settings.database_url)
    try:
        await db.ping(engine, seconds=5)
        revision = await db.current_revision(engine)
        print(f"  reachable; schema revision {revision or 'none yet (created on first start)'}")
        return True
    except db.DatabaseError as exc:
        print(f"  ! {exc}")
        return False
    finally:
        await engine.dispose()


if __name__ == "__main__":
    sys.exit(main())
