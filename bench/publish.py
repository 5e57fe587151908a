"""Publishing throughput: 2,000 due targets against a fake platform whose every call takes 100 ms.

Prints the achieved rate as a ratio of the ideal (2000 × 0.1 s / concurrency): the share of the time
spent waiting on the platform rather than on Picmim's own work (claims, leases, call-started marks,
results, the HTTP client). The fake platform runs in a process of its own, as a real one is remote.
Aim: ≥ 0.8. Run by hand from the repository root:

    .venv/bin/python bench/publish.py [--targets 2000] [--concurrency 20] [--database-url URL]

SQLite by default (a temporary file); pass a PostgreSQL URL to measure there. Traffic stays on 127.0.0.1.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx  # noqa: E402
from aiohttp import web  # noqa: E402
from cryptography.fernet import Fernet  # noqa: E402

from bot.platforms.base import Adapter, Limits, PublishResult, TextLimit  # noqa: E402
from bot.secret import Secret  # noqa: E402
from bot.services.publishing import Publisher  # noqa: E402
from bot.storage import crypto, db  # noqa: E402
from bot.storage.models import Account, Connection, Post, PostTarget, TargetStatus, Workspace, utcnow  # noqa: E402

CALL_SECONDS = 0.1


class SlowPlatform(Adapter):
    """A platform whose publish call takes CALL_SECONDS at its (local) server."""

    key, name = "x", "Slow platform"
    limits = Limits(texts=(TextLimit("text", "text", 280),))
    scopes = ()

    def authorize_url(self, state, pkce):
        raise NotImplementedError

    async def exchange_code(self, code, pkce):
        raise NotImplementedError

    async def refresh(self, tokens):
        return tokens

    async def list_accounts(self, tokens):
        return []

    def validate(self, account, draft):
        return []

    async def publish(self, account, draft, media):
        answer = await self.http.post(f"{self.config.public_url}/posts", json={"text": draft.text})
        return PublishResult(answer.json()["id"], None)

    async def fetch_metrics(self, account, remote_ids):
        raise NotImplementedError


def _platform_process(port_out) -> None:
    """The fake platform, in a process of its own as a real one is on other machines: its work is not
    Picmim's and must not share Picmim's CPU."""
    counter = iter(range(10**9))

    async def create(request: web.Request) -> web.Response:
        await asyncio.sleep(CALL_SECONDS)
        return web.json_response({"id": str(next(counter))})

    async def serve() -> None:
        app = web.Application()
        app.router.add_post("/posts", create)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port_out.send(site._server.sockets[0].getsockname()[1])
        await asyncio.Event().wait()

    asyncio.run(serve())


def serve_platform() -> tuple[multiprocessing.Process, str]:
    receiver, sender = multiprocessing.Pipe(duplex=False)
    process = multiprocessing.Process(target=_platform_process, args=(sender,), daemon=True)
    process.start()
    return process, f"http://127.0.0.1:{receiver.recv()}"


async def seed(engine, targets: int) -> None:
    sessions = db.session_factory(engine)
    async with sessions() as session:
        ws = Workspace(team_id="TBENCH")
        session.add(ws)
        await session.flush()
        connection = Connection(workspace_id=ws.id, platform="x", external_user_id="bench",
                                access_token=Secret("token"))
        session.add(connection)
        await session.flush()
        account = Account(workspace_id=ws.id, connection_id=connection.id, platform="x", external_id="bench",
                          kind="profile", name="Bench")
        session.add(account)
        await session.flush()
        due = utcnow() - timedelta(seconds=1)
        for i in range(targets):
            session.add(Post(workspace_id=ws.id, author_user_id="U", text=f"post {i}", status="scheduled",
                             targets=[PostTarget(account_id=account.id, status=TargetStatus.SCHEDULED,
                                                 next_attempt_at=due)]))
        await session.commit()


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--targets", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--database-url", default="")
    args = parser.parse_args()

    crypto.configure([Fernet.generate_key().decode()])
    folder = tempfile.mkdtemp(prefix="picmim-bench-")
    url = args.database_url or f"sqlite+aiosqlite:///{folder}/bench.db"
    engine = db.create_engine(url)
    await db.migrate(engine)
    await seed(engine, args.targets)
    platform, platform_url = serve_platform()
    http = httpx.AsyncClient(limits=httpx.Limits(max_connections=args.concurrency * 2))
    from bot.platforms.base import AdapterConfig

    adapter = SlowPlatform(AdapterConfig(None, None, "", platform_url), http)

    async def no_media(session, post, adapter, account=None):
        return [], []

    publisher = Publisher(db.session_factory(engine), {"x": adapter}, no_media, owner="bench",
                          batch=args.targets, concurrency=args.concurrency)
    started, cpu_started = time.perf_counter(), time.process_time()
    published = 0
    while published < args.targets:
        outcomes = await publisher.tick()
        published += sum(o.status is TargetStatus.PUBLISHED for o in outcomes)
        if not outcomes:
            break
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    await http.aclose()
    platform.terminate()
    await engine.dispose()

    ideal = args.targets * CALL_SECONDS / args.concurrency
    print(f"publish benchmark: {args.targets} targets, {CALL_SECONDS * 1000:.0f} ms per platform call, "
          f"concurrency {args.concurrency}, database {url.split(':')[0]}")
    print(f"  published {published} in {elapsed:.2f} s ({published / elapsed:.0f} targets/s); ideal {ideal:.2f} s")
    print(f"  Picmim's CPU: {cpu:.2f} s ({cpu / max(published, 1) * 1000:.2f} ms per target; the ratio suffers "
          "when other work shares the cores)")
    ratio = ideal / elapsed
    print(f"  throughput / ideal = {ratio:.2f}  (aim >= 0.8): {'met' if ratio >= 0.8 else 'not met'}")
    return 0 if published == args.targets else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
