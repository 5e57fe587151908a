"""Benchmark: how fast Picmim acknowledges `/picmim help`, against a bare bolt app that only acks.

What it measures
    The latency of a signed `/picmim help` slash command, from sending the request to reading the
    whole HTTP response, for two servers on 127.0.0.1, loaded one at a time:
      * Picmim: the real server (`python -m bot`, single-workspace mode, SQLite in a temporary
        folder), whose help command acks with the help blocks;
      * a bare bolt app (bench/bare_bolt_app.py) whose `/picmim` listener only calls `await ack()`.
    Both talk to the fake Slack Web API from bot/sandbox/fakes/slack.py, run in this process.
    Each target gets 100 unmeasured warm-up requests, then --requests measured ones at --concurrency,
    each signed freshly, over one shared aiohttp session per target; the measured requests go in 4
    rounds that alternate the targets, so neither is always first. Every response must be HTTP 200;
    failures are counted and printed. It prints p50/p95/p99 (ms) and requests/second per target, the
    ratio p99(Picmim) / p99(bare bolt), and the Picmim process's resident memory (VmRSS) when idle
    after start-up and again after the load.

How to run (from the repository root; by hand, never from the tests)
    .venv/bin/python bench/ack.py [--requests 2000] [--concurrency 50]

Aims
    p99(Picmim) / p99(bare bolt) <= 1.25   (Picmim adds little to bolt's own cost of acking)
    Picmim server VmRSS <= 150 MB, idle and after the load

The exit status is 1 when a request failed, 0 otherwise (aims missed or not).
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import argparse  # noqa: E402
import asyncio  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from collections import Counter  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402

import aiohttp  # noqa: E402
from cryptography.fernet import Fernet  # noqa: E402

from bot.sandbox.fakes.slack import FakeSlack  # noqa: E402
from tests.server import ServerProcess, base_env, free_port  # noqa: E402
from tests.slack_requests import signed_headers, slash_command_body  # noqa: E402

SIGNING_SECRET = "bench-signing-secret-0123456789abcdef"
BOT_TOKEN = "xoxb-fake-T0001"
TEAM_ID = "T0001"
WARMUP_REQUESTS = 100
ROUNDS = 4  # the measured requests of each target are sent in this many rounds, alternating the targets
REQUEST_TIMEOUT = 30.0  # seconds; a request slower than this counts as a failure
P99_RATIO_AIM = 1.25
MEMORY_AIM_MB = 150.0
FORM = "application/x-www-form-urlencoded"


class BareBoltProcess(ServerProcess):
    """bench/bare_bolt_app.py as a subprocess on a free loopback port."""

    name = "bare bolt app"
    log_prefix = "bare-bolt-"

    def __init__(self, api_url: str, secret: str):
        port = str(free_port())
        super().__init__(base_env(PORT=port, BENCH_PORT=port, BENCH_SLACK_API_URL=api_url,
                                  BENCH_SIGNING_SECRET=secret, BENCH_BOT_TOKEN=BOT_TOKEN))

    def command(self) -> list[str]:
        return [sys.executable, str(ROOT / "bench" / "bare_bolt_app.py")]


@dataclass
class Result:
    name: str
    latencies: list[float] = field(default_factory=list)  # seconds, one per request answered
    statuses: Counter = field(default_factory=Counter)  # non-200 status codes
    errors: Counter = field(default_factory=Counter)  # exceptions by type (no answer at all)
    elapsed: float = 0.0  # wall time of the measured requests, seconds
    body_bytes: int = 0  # size of a response body (Picmim's carries the help blocks; bolt's is empty)

    def add(self, other: Result) -> None:
        self.latencies += other.latencies
        self.statuses.update(other.statuses)
        self.errors.update(other.errors)
        self.elapsed += other.elapsed
        self.body_bytes = other.body_bytes or self.body_bytes

    @property
    def failures(self) -> int:
        return sum(self.statuses.values()) + sum(self.errors.values())

    @property
    def sent(self) -> int:
        return len(self.latencies) + sum(self.errors.values())

    def percentile_ms(self, p: float) -> float:
        """Nearest-rank percentile of the answered requests, in milliseconds."""
        ordered = sorted(self.latencies)
        if not ordered:
            return float("nan")
        rank = max(1, -(-len(ordered) * p // 100))  # ceil(n * p / 100)
        return ordered[int(rank) - 1] * 1000

    @property
    def rps(self) -> float:
        return self.sent / self.elapsed if self.elapsed else float("nan")


async def fire(session: aiohttp.ClientSession, url: str, total: int, concurrency: int, response_url: str,
               result: Result) -> None:
    """Send `total` signed `/picmim help` requests with `concurrency` in flight; record into `result`."""
    remaining = iter(range(total))  # bounded: exactly `total` requests, shared by the workers

    async def worker() -> None:
        for _ in remaining:
            body = slash_command_body("help", team_id=TEAM_ID, response_url=response_url)
            headers = signed_headers(SIGNING_SECRET, body, FORM)  # fresh timestamp and signature
            started = time.perf_counter()
            try:
                async with session.post(url, data=body, headers=headers) as response:
                    payload = await response.read()
                    status = response.status
            except (aiohttp.ClientError, TimeoutError) as exc:
                result.errors[type(exc).__name__] += 1
                continue
            result.latencies.append(time.perf_counter() - started)
            result.body_bytes = len(payload)
            if status != 200:
                result.statuses[status] += 1

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(min(concurrency, total))))
    result.elapsed = time.perf_counter() - started


async def measure(targets: dict[str, str], requests: int, concurrency: int,
                  response_url: str) -> dict[str, Result]:
    """Warm every target up, then measure them in ROUNDS alternating rounds.

    Each target keeps one session for the whole run, so measured requests reuse warm connections.
    Alternating the order spreads slow spells of the machine (and of this load generator) over both
    targets instead of charging them to whichever ran first."""
    timeout = aiohttp.ClientTimeout(total=REQUEST_TIMEOUT)
    sessions = {name: aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=concurrency),
                                            timeout=timeout)
                for name in targets}
    try:
        for name, base_url in targets.items():
            warm = Result(name + " (warm-up)")
            await fire(sessions[name], base_url + "/slack/events", WARMUP_REQUESTS, concurrency,
                       response_url, warm)
            if warm.failures:
                print(f"  {name}: {warm.failures} of {WARMUP_REQUESTS} warm-up requests failed "
                      f"(statuses {dict(warm.statuses)}, errors {dict(warm.errors)})")
        results = {name: Result(name) for name in targets}
        order = list(targets)
        rounds = min(ROUNDS, requests)
        for i in range(rounds):
            share = requests // rounds + (1 if i < requests % rounds else 0)
            for name in order if i % 2 == 0 else reversed(order):
                part = Result(name)
                await fire(sessions[name], targets[name] + "/slack/events", share, concurrency,
                           response_url, part)
                results[name].add(part)
        return results
    finally:
        for session in sessions.values():
            await session.close()


def vm_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024  # the kernel reports kB
    raise RuntimeError(f"no VmRSS for process {pid}")


def tail(text: str, lines: int = 20) -> str:
    return "\n".join(text.splitlines()[-lines:]) or "(nothing)"


def report(result: Result) -> None:
    print(f"{result.name}:")
    print(f"  requests {result.sent}, failures {result.failures}, response body {result.body_bytes} bytes"
          + (f" (non-200 statuses {dict(result.statuses)})" if result.statuses else "")
          + (f" (errors {dict(result.errors)})" if result.errors else ""))
    print(f"  p50 {result.percentile_ms(50):.2f} ms  p95 {result.percentile_ms(95):.2f} ms  "
          f"p99 {result.percentile_ms(99):.2f} ms  {result.rps:.0f} requests/s")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--requests", type=int, default=2000,
                        help="measured requests per target (default 2000)")
    parser.add_argument("--concurrency", type=int, default=50, help="requests in flight (default 50)")
    args = parser.parse_args(argv)
    if args.requests < 1 or args.concurrency < 1:
        parser.error("--requests and --concurrency must be at least 1")

    fake: FakeSlack | None = None
    picmim: ServerProcess | None = None
    bare: BareBoltProcess | None = None
    with tempfile.TemporaryDirectory(prefix="picmim-bench-") as tmp:
        try:
            fake = FakeSlack().start()
            fake.add_team(TEAM_ID, BOT_TOKEN)
            env = base_env(
                SLACK_SIGNING_SECRET=SIGNING_SECRET,
                SLACK_BOT_TOKEN=BOT_TOKEN,
                SLACK_API_URL=fake.api_url,
                DATABASE_URL=f"sqlite+aiosqlite:///{Path(tmp) / 'picmim.db'}",
                PICMIM_SECRET_KEY=Fernet.generate_key().decode(),
                LOG_LEVEL="WARNING",
            )
            picmim = ServerProcess(env, cwd=tmp)
            picmim.start()
            bare = BareBoltProcess(fake.api_url, SIGNING_SECRET)
            bare.start()
            idle_mb = vm_rss_mb(picmim.proc.pid)

            print(f"ack benchmark: `/picmim help`, {args.requests} measured requests per target at "
                  f"concurrency {args.concurrency} in {min(ROUNDS, args.requests)} alternating rounds, "
                  f"after {WARMUP_REQUESTS} warm-up requests per target")
            response_url = fake.response_url()
            results = asyncio.run(measure({"picmim": picmim.url, "bare bolt": bare.url}, args.requests,
                                          args.concurrency, response_url))
            picmim_result, bare_result = results["picmim"], results["bare bolt"]
            if not picmim.alive():
                raise RuntimeError(f"the Picmim server died during the run:\n{picmim.output()}")
            loaded_mb = vm_rss_mb(picmim.proc.pid)

            print()
            report(picmim_result)
            report(bare_result)
            ratio = picmim_result.percentile_ms(99) / bare_result.percentile_ms(99)
            print()
            print(f"p99(picmim) / p99(bare bolt) = {ratio:.2f}  (aim <= {P99_RATIO_AIM}): "
                  + ("met" if ratio <= P99_RATIO_AIM else "NOT met"))
            for label, mb in (("idle after start-up", idle_mb), ("after the load", loaded_mb)):
                print(f"picmim server VmRSS {label}: {mb:.1f} MB  (aim <= {MEMORY_AIM_MB:.0f} MB): "
                      + ("met" if mb <= MEMORY_AIM_MB else "NOT met"))
            failures = picmim_result.failures + bare_result.failures
            if failures:
                print(f"\n{failures} request(s) failed")
                print(f"\nlast lines of the Picmim server's output:\n{tail(picmim.output())}")
                print(f"\nlast lines of the bare bolt app's output:\n{tail(bare.output())}")
            return 1 if failures else 0
        finally:
            for proc in (bare, picmim):
                if proc is not None:
                    proc.stop()
                    proc.log_path.unlink(missing_ok=True)
            if fake is not None:
                fake.stop()


if __name__ == "__main__":
    sys.exit(main())
