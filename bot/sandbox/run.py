"""`python -m bot sandbox [--reset]`: the real Picmim app (bot.serving.serve) on its own SQLite file, wired to a
simulated Slack workspace and simulated networks running in this process, each on its own loopback port. It never
reaches a real Slack or network, and refuses to start when real credentials are set (they would suggest the
person meant to run the real app)."""

from __future__ import annotations

import asyncio
import os
import secrets
import shutil
import sys
from collections.abc import Mapping
from pathlib import Path

from sqlalchemy import select

from bot.config import ENV_VARS, ConfigError, environment_and_file, load_settings
from bot.platforms.registry import CREDENTIAL_PREFIXES
from bot.sandbox.networks import Networks
from bot.sandbox.page import SandboxPage
from bot.sandbox.workspace import (
    ALERTS,
    APPROVALS,
    APPROVER,
    BOT_TOKEN,
    MARKETER,
    TEAM_ID,
    TEAM_NAME,
    AppLink,
    SandboxSlack,
)

STATE_DIR = "picmim-sandbox"  # beside where it is started: the database, its key, media, the simulators' state
DATABASE_FILE = "picmim-sandbox.db"
# Settings that would mean a real Slack app or a real network: the sandbox will not start with them.
REAL_CREDENTIALS = ("SLACK_BOT_TOKEN", "SLACK_CLIENT_ID", "SLACK_CLIENT_SECRET", "SLACK_APP_TOKEN",
                    *(f"{prefix}_CLIENT_{part}" for prefix in CREDENTIAL_PREFIXES for part in ("ID", "SECRET")))
# Settings a person may still choose for the sandbox (where it listens, how much it logs).
KEPT = ("HOST", "PORT", "PUBLIC_URL", "LOG_LEVEL", "LOG_FORMAT")
TICK_SECONDS = "1"  # posts go out within a second of being approved
ANALYTICS_SECONDS = "5"  # figures and digests come soon after they are due


def real_credentials(environ: Mapping[str, str], from_file: Mapping[str, str]) -> list[str]:
    """The real credentials set in the environment or in .env, by name (where)."""
    found = [f"{name} (in the environment)" for name in REAL_CREDENTIALS if (environ.get(name) or "").strip()]
    found += [f"{name} (in .env)" for name in REAL_CREDENTIALS
              if (from_file.get(name) or "").strip() and not (environ.get(name) or "").strip()]
    return found


def chosen_settings(environ: Mapping[str, str], from_file: Mapping[str, str]) -> dict[str, str]:
    """The settings a person may choose for the sandbox, the environment's over .env's."""
    chosen = {k: v for k, v in from_file.items() if v}
    chosen.update({k: v for k, v in environ.items() if v})
    return {k: chosen[k].strip() for k in KEPT if chosen.get(k, "").strip()}


def sandbox_environment(chosen: Mapping[str, str], state_dir: Path, slack_api_url: str,
                        networks: Mapping[str, str]) -> dict[str, str]:
    """Every setting the app reads, for the sandbox: nothing from the person's own .env but `KEPT`."""
    env = {name: "" for name in ENV_VARS}
    env.update(chosen)
    env.update(DATABASE_URL=f"sqlite+aiosqlite:///{state_dir / DATABASE_FILE}",
               SLACK_SIGNING_SECRET=secrets.token_hex(16), SLACK_BOT_TOKEN=BOT_TOKEN, SLACK_API_URL=slack_api_url,
               PICMIM_TICK_SECONDS=TICK_SECONDS, PICMIM_ANALYTICS_SECONDS=ANALYTICS_SECONDS)
    env.update(networks)
    return env


async def seed(sessions) -> None:
    """A new sandbox's workspace: approval on in #approvals with the approver, alerts in #alerts."""
    from bot.storage.models import Workspace

    async with sessions() as session:
        if await session.scalar(select(Workspace).where(Workspace.team_id == TEAM_ID)) is not None:
            return  # a sandbox started before keeps what its people changed
        session.add(Workspace(team_id=TEAM_ID, name=TEAM_NAME, alerts_channel_id=ALERTS,
                              approval_channel_id=APPROVALS, approval_required=True,
                              approver_user_ids=[APPROVER.user_id], default_timezone=MARKETER.tz))
        await session.commit()


def prepare_state_dir(cwd: Path, reset: bool) -> Path:
    """The sandbox's folder (database, key, media); emptied first with --reset."""
    state_dir = cwd / STATE_DIR
    if reset and state_dir.exists():
        shutil.rmtree(state_dir)
        print(f"Started over: deleted {state_dir}.")
    state_dir.mkdir(exist_ok=True)
    return state_dir


def run(reset: bool = False, environ: Mapping[str, str] | None = None, cwd: Path | None = None) -> int:
    """`environ`, when given, stands for the process environment (tests); .env is read from `cwd`."""
    cwd = cwd or Path.cwd()
    own, from_file = environment_and_file(cwd / ".env")
    environ = own if environ is None else environ
    refused = real_credentials(environ, from_file)
    if refused:
        print("The sandbox does not start while real Slack or platform credentials are set, so it can never "
              "reach your real workspace or accounts:\n  " + "\n  ".join(refused) +
              "\nUnset them (or run the sandbox from another folder), or run the real app with `python -m bot`.",
              file=sys.stderr)
        return 2
    from bot import logs
    from bot.app import StartupError
    from bot.serving import serve
    from bot.storage import crypto, db

    os.umask(0o077)  # the database, key and media are the owner's alone
    state_dir = prepare_state_dir(cwd, reset)
    chosen = chosen_settings(environ, from_file)
    slack = SandboxSlack().keep_in(state_dir).start()  # what the workspace held when it last ran
    try:
        try:
            settings = load_settings(sandbox_environment(chosen, state_dir, slack.api_url, {}), require_slack=True)
        except ConfigError as exc:
            print(exc.render(), file=sys.stderr)
            return 2
        networks = Networks(settings.public_url, state_dir).start()
        try:
            settings = load_settings(sandbox_environment(chosen, state_dir, slack.api_url, networks.environment()))
            logs.setup(settings.log_level, settings.log_format)

            async def extend(runtime) -> None:
                await seed(runtime.sessions)
                link = AppLink(slack, f"http://127.0.0.1:{settings.port}/slack/events",
                               settings.slack.signing_secret)
                SandboxPage(slack, link, networks, runtime.sessions).add_routes(runtime.web)
                networks.add_routes(runtime.web)
                print(f"Picmim's sandbox is ready: open {settings.public_url}/sandbox in your browser "
                      f"(its data is in {state_dir}; start over with --reset).", flush=True)

            asyncio.run(serve(settings, extend=extend))
            return 0
        except ConfigError as exc:
            print(exc.render(), file=sys.stderr)
            return 2
        except (StartupError, db.DatabaseError, crypto.SecretKeyError) as exc:
            print(f"The sandbox cannot start: {exc}", file=sys.stderr)
            return 1
        finally:
            networks.stop()
    except KeyboardInterrupt:
        return 130
    finally:
        slack.stop()
