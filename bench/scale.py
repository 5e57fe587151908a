"""Scaling out: the same due targets published by 1, then by 2 real server processes (`python -m bot`)
sharing one PostgreSQL database, against a fake X whose every post takes 100 ms.

Prints the throughput of 2 processes ÷ 1 (aim ≥ 1.7: the database and the leases are not the bottleneck),
the duplicates (posts X received twice; must be 0), and the servers' CPU per target (user + system time of
the server processes while they publish, less what their idle ticks cost, divided by the targets; aim
≤ 2.5 ms). Each post has its Slack status message, brought up to date (chat.update) as it publishes, as in
real use. The fake X runs in a process of its own, as a real platform is on other machines; the fake Slack
runs in this one. `--profile DIR` runs the servers under cProfile (wall clock) and leaves their stats in DIR.
Run by hand from the repository root, with PostgreSQL running:

    .venv/bin/python bench/scale.py [--targets 2000] [--database-url postgresql+asyncpg://postgres@127.0.0.1/test]

A scratch database is made next to the one in the URL and dropped afterwards. Traffic stays on 127.0.0.1.
The ratio suffers when other work shares the cores: run it on a quiet machine.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import sys
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from cryptography.fernet import Fernet  # noqa: E402
from sqlalchemy import func, select, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from bot.services.connections import apply_tokens  # noqa: E402
from bot.services.publishing import schedule_targets  # noqa: E402
from bot.storage import crypto, db  # noqa: E402
from bot.storage.models import Account, Connection, Post, PostTarget, TargetStatus, Workspace, utcnow  # noqa: E402

CALL_SECONDS = 0.1
IDLE_SECONDS = 3.0
REDIRECT_URI = "http://127.0.0.1:9/oauth/x/callback"  # the grant's redirect; no callback is visited here
TICKS = os.sysconf("SC_CLK_TCK")


# ---- the fake X, in its own process ------------------------------------------------------------------

def _x_process(pipe) -> None:
    """Serves the fake X (every post answered after CALL_SECONDS), signs in once and hands the grant over,
    then answers the bench: 'posts' -> the texts X holds, 'reset' -> forget them."""
    from bot.http import build_client
    from bot.platforms.oauth import new_pkce
    from bot.platforms.x import ADAPTER as XAdapter
    from bot.sandbox.fakes.x import FakeX
    from tests.platform_fixtures import connect, make_adapter

    fake = FakeX().start()
    fake.redirect_uris = {REDIRECT_URI}

    async def sign_in():
        async with build_client(fake.origins()) as http:
            return await connect(make_adapter(XAdapter, fake, http, REDIRECT_URI), http, REDIRECT_URI, new_pkce())

    tokens = asyncio.run(sign_in())
    fake.slow("/2/tweets", CALL_SECONDS, method="POST", times=10**9)
    pipe.send((fake.origins(), fake.client_id, fake.client_secret, tokens))
    while True:
        command = pipe.recv()
        if command == "posts":
            with fake.lock:
                pipe.send([p["text"] for p in fake.posts.values()])
        elif command == "reset":
            with fake.lock:
                fake.posts.clear()
            pipe.send(True)
        else:
            return


# ---- the database ------------------------------------------------------------------------------------

async def _admin(url: str, sql: str) -> None:
    import asyncpg

    parts = make_url(url)
    conn = await asyncpg.connect(host=parts.host, port=parts.port or 5432, user=parts.username,
                                 password=parts.password, database=parts.database, timeout=10)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


async def _account(engine, tokens) -> int:
    async with db.session_factory(engine)() as session:
        ws = Workspace(team_id="T0001")
        session.add(ws)
        await session.flush()
        connection = Connection(workspace_id=ws.id, platform="x", external_user_id=tokens.external_user_id,
                                display_name="Acme Marketing")
        apply_tokens(connection, tokens)
        session.add(connection)
        await session.flush()
        account = Account(workspace_id=ws.id, connection_id=connection.id, platform="x", handle="acmemktg",
                          external_id=tokens.external_user_id, kind="profile", name="Acme Marketing")
        session.add(account)
        await session.commit()
        return account.id


async def _due(engine, account_id: int, count: int, run: str) -> None:
    """`count` posts due now, in one commit (so every process sees them at once)."""
    async with db.session_factory(engine)() as session:
        ws_id = (await session.get(Account, account_id)).workspace_id
        now = utcnow()
        for i in range(count):
            post = Post(workspace_id=ws_id, author_user_id="U0001", text=f"{run}: post number {i}",
                        channel_id="C0001", message_ts=f"1700000000.{i:06d}",  # its status message
                        targets=[PostTarget(account_id=account_id)])
            session.add(post)
            schedule_targets(post, now)
        await session.commit()


async def _transactions(engine) -> int:
    """Transactions committed or rolled back in this database so far (PostgreSQL's own count, which does
    not depend on how busy the machine is; it is updated at most every half second)."""
    async with engine.connect() as conn:
        return await conn.scalar(text("SELECT xact_commit + xact_rollback FROM pg_stat_database "
                                      "WHERE datname = current_database()"))


async def _counts(engine) -> Counter:
    async with db.session_factory(engine)() as session:
        rows = await session.execute(select(PostTarget.status, func.count()).group_by(PostTarget.status))
        return Counter({status: n for status, n in rows})


# ---- the servers -------------------------------------------------------------------------------------

def _cpu_seconds(pid: int) -> tuple[float, float]:
    """User and system CPU seconds of a process so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) / TICKS, int(fields[12]) / TICKS  # utime, stime


def _cpu(servers) -> tuple[float, float]:
    times = [_cpu_seconds(s.proc.pid) for s in servers]
    return sum(t[0] for t in times), sum(t[1] for t in times)


async def _run(processes: int, engine, account_id: int, targets: int, env: dict, folder: Path, x_pipe,
               limit: float, profile: Path | None = None) -> dict:
    from tests.server import ServerProcess

    class Server(ServerProcess):
        def command(self) -> list[str]:  # with --profile: under cProfile, its stats written when it stops
            if profile is None:
                return super().command()
            out = profile / f"run{processes}-{self.port}.prof"
            return [sys.executable, "-m", "cProfile", "-o", str(out), "-m", "bot"]

    x_pipe.send("reset")
    x_pipe.recv()
    servers = []
    for i in range(processes):
        cwd = folder / f"run{processes}-process{i}"
        cwd.mkdir()
        servers.append(Server(dict(env), cwd=cwd))
    try:
        for server in servers:
            server.start()
        await asyncio.sleep(1.0)  # their first ticks, schema checks and Slack sign-in are not publishing
        # What the idle ticks cost (they go on while publishing): taken off the CPU per target.
        idle = sum(_cpu(servers))
        await asyncio.sleep(IDLE_SECONDS)
        idle = (sum(_cpu(servers)) - idle) / IDLE_SECONDS
        before = await _counts(engine)
        transactions = await _transactions(engine)
        user, system = _cpu(servers)
        await _due(engine, account_id, targets, f"run with {processes}")
        started = time.perf_counter()
        deadline = started + limit
        while True:
            counts = await _counts(engine)
            settled = sum(counts[s] - before[s] for s in (TargetStatus.PUBLISHED, TargetStatus.FAILED,
                                                         TargetStatus.UNCONFIRMED))
            if settled >= targets or time.perf_counter() > deadline:
                break
            await asyncio.sleep(0.05)
        elapsed = time.perf_counter() - started
        user_after, system_after = _cpu(servers)
        user, system = user_after - user, system_after - system
        await asyncio.sleep(1.0)  # the statistics collector catches up
        transactions = await _transactions(engine) - transactions
        for server in servers:
            if not server.alive():
                raise RuntimeError(f"a server died:\n{server.output()[-4000:]}")
    finally:
        for server in servers:
            server.stop()
    x_pipe.send("posts")
    sent = Counter(x_pipe.recv())
    return {"processes": processes, "elapsed": elapsed, "cpu": user + system - idle * elapsed, "user": user,
            "system": system, "idle": idle, "transactions": transactions,
            "published": counts[TargetStatus.PUBLISHED] - before[TargetStatus.PUBLISHED],
            "failed": counts[TargetStatus.FAILED] - before[TargetStatus.FAILED],
            "unconfirmed": counts[TargetStatus.UNCONFIRMED] - before[TargetStatus.UNCONFIRMED],
            "received": sum(sent.values()), "duplicates": sum(n - 1 for n in sent.values() if n > 1)}


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--targets", type=int, default=2000)
    parser.add_argument("--database-url", default=os.environ.get("TEST_DATABASE_URL")
                        or "postgresql+asyncpg://postgres@127.0.0.1:5432/test")
    parser.add_argument("--tick", default="0.2", help="PICMIM_TICK_SECONDS of the servers")
    parser.add_argument("--timeout", type=float, default=300)
    parser.add_argument("--profile", type=Path, help="a folder: run the servers under cProfile, stats there")
    args = parser.parse_args()
    if not args.database_url.startswith("postgresql"):
        parser.error("several processes share PostgreSQL: give a postgresql+asyncpg:// URL")

    from bot.sandbox.fakes.slack import FakeSlack
    from tests.server import base_env

    context = multiprocessing.get_context("spawn")
    x_pipe, child_end = context.Pipe()
    x_process = context.Process(target=_x_process, args=(child_end,), daemon=True)
    x_process.start()
    origins, client_id, client_secret, tokens = x_pipe.recv()
    slack = FakeSlack().start()
    slack.add_team("T0001", "xoxb-fake-T0001")

    name = f"picmim_scale_{uuid.uuid4().hex[:8]}"
    await _admin(args.database_url, f'CREATE DATABASE "{name}"')
    url = make_url(args.database_url).set(database=name).render_as_string(hide_password=False)
    secret_key = Fernet.generate_key().decode()
    crypto.configure([secret_key])
    engine = db.create_engine(url)
    results = []
    try:
        await db.migrate(engine)
        account_id = await _account(engine, tokens)
        env = base_env(SLACK_SIGNING_SECRET="bench-signing-secret", SLACK_BOT_TOKEN="xoxb-fake-T0001",
                       SLACK_API_URL=slack.api_url, DATABASE_URL=url, PICMIM_SECRET_KEY=secret_key,
                       PICMIM_ORIGIN_OVERRIDES=",".join(f"{real}={local}" for real, local in origins.items()),
                       X_CLIENT_ID=client_id, X_CLIENT_SECRET=client_secret, PICMIM_TICK_SECONDS=args.tick,
                       PICMIM_HEALTH_SECONDS="3600", PICMIM_ANALYTICS_SECONDS="3600", LOG_LEVEL="WARNING",
                       PYTHONPATH=str(ROOT))  # this checkout's code, whatever the venv has installed
        with tempfile.TemporaryDirectory(prefix="picmim-scale-") as folder:
            for processes in (1, 2):
                results.append(await _run(processes, engine, account_id, args.targets, env, Path(folder), x_pipe,
                                          args.timeout, args.profile))
    finally:
        await engine.dispose()
        await _admin(args.database_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        x_pipe.send("stop")
        x_process.join(5)
        slack.stop()

    print(f"scale benchmark: {args.targets} due targets, {CALL_SECONDS * 1000:.0f} ms per X call, PostgreSQL, "
          f"{os.cpu_count()} cores")
    for r in results:
        rate = r["published"] / r["elapsed"]
        print(f"  {r['processes']} process{'es' if r['processes'] > 1 else ''}: published {r['published']} "
              f"(failed {r['failed']}, unconfirmed {r['unconfirmed']}) in {r['elapsed']:.2f} s = {rate:.0f}/s; "
              f"X received {r['received']}, duplicates {r['duplicates']}")
        print(f"      CPU {r['user']:.2f} s user + {r['system']:.2f} s system, less idle ticks "
              f"({r['idle'] * 1000:.0f} ms/s): {r['cpu'] / max(r['published'], 1) * 1000:.2f} ms per target; "
              f"{r['transactions'] / max(r['published'], 1):.1f} database transactions per target (idle ticks "
              "and this bench's polling included)")
    one, two = results
    ratio = (two["published"] / two["elapsed"]) / (one["published"] / one["elapsed"])
    duplicates = sum(r["duplicates"] for r in results)
    cpu = max(r["cpu"] / max(r["published"], 1) * 1000 for r in results)
    print(f"  throughput 2 / 1 = {ratio:.2f}  (aim >= 1.7): {'met' if ratio >= 1.7 else 'not met'}")
    print(f"  duplicates = {duplicates}  (must be 0): {'met' if duplicates == 0 else 'NOT MET'}")
    print(f"  CPU per target = {cpu:.2f} ms, the worse run  (aim <= 2.5 ms): {'met' if cpu <= 2.5 else 'not met'}")
    complete = all(r["published"] == args.targets for r in results)
    return 0 if complete and duplicates == 0 else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
