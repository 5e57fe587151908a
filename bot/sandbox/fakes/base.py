"""`LoopbackServer`, the plumbing every fake server shares: aiohttp applications on free 127.0.0.1 ports,
served from a background thread with its own event loop (so synchronous and async tests can both use
them), and a lock-guarded log of the calls they record."""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import threading
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any, Self

from aiohttp import web

_shared: dict[type, LoopbackServer] = {}

# The fakes' own addresses: a request sent to one directly (not through an origin override) names no real host.
LOOPBACK_HOSTS = ("127.0.0.1", "localhost")


@dataclass
class Call:
    """A request as the TikTok and YouTube fakes record it (body: parsed JSON or form, else its length)."""

    method: str
    host: str
    path: str
    query: dict[str, str]
    body: Any
    token: str | None
    headers: dict[str, str] = field(default_factory=dict)


class LoopbackServer:
    """Subclasses return their applications from `applications()`; `start()` serves each on its own
    port (`ports`, in that order; `url` is the first) until `stop()`."""

    handler_cancellation = False  # True: a client that gives up cancels its (stalled) handler
    # The log of calls is for tests to read; the sandbox turns it off (nobody reads it there, and in a sandbox left
    # running it would only grow, request bodies and uploads included).
    keeps_calls = True

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.calls: list[Any] = []
        self.ports: list[int] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runners: list[web.AppRunner] = []
        self._stopping: asyncio.Event | None = None

    def applications(self) -> list[web.Application]:
        raise NotImplementedError

    # ---- lifecycle ------------------------------------------------------------------------

    def start(self):
        ready = threading.Event()
        failure: list[BaseException] = []
        name = f"fake-{type(self).__name__}"

        def run() -> None:
            self._loop = asyncio.new_event_loop()
            asyncio.set_event_loop(self._loop)
            try:
                self._loop.run_until_complete(self._serve())
            except BaseException as exc:  # noqa: BLE001 - handed to the starting thread
                failure.append(exc)
                ready.set()
                return
            ready.set()
            self._loop.run_forever()

        self._thread = threading.Thread(target=run, name=name, daemon=True)
        self._thread.start()
        if not ready.wait(10) or failure:
            raise RuntimeError(f"{name} did not start: {failure}")
        return self

    async def _serve(self) -> None:
        self._stopping = asyncio.Event()
        for app in self.applications():
            runner = web.AppRunner(app, access_log=None, handler_cancellation=self.handler_cancellation)
            await runner.setup()
            site = web.TCPSite(runner, "127.0.0.1", 0)
            await site.start()
            self._runners.append(runner)
            self.ports.append(site._server.sockets[0].getsockname()[1])

    def stop(self) -> None:
        if self._loop is None:
            return
        self._loop.call_soon_threadsafe(self._stopping.set)
        for runner in self._runners:
            self.run(runner.cleanup())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop = None

    @classmethod
    def shared(cls) -> Self:
        """One server of this class per test process, started on first use and stopped at exit."""
        if cls not in _shared:
            _shared[cls] = cls().start()
            atexit.register(_shared[cls].stop)
        return _shared[cls]

    @property
    def port(self) -> int:
        return self.ports[0]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # ---- for subclasses ---------------------------------------------------------------------

    def run(self, coro: Coroutine[Any, Any, Any]) -> Any:
        """Run a coroutine on the server's loop (for controls that touch server state)."""
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(10)

    def call_soon(self, callback: Callable[..., Any], *args: Any) -> None:
        """Call `callback` on the server's loop, if it is running."""
        if self._loop is not None:
            self._loop.call_soon_threadsafe(callback, *args)

    async def held(self, seconds: float) -> None:
        """Hold an answer back (to make a client time out) until `seconds` pass or the server stops."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), seconds)

    def record(self, call: Any) -> Any:
        if self.keeps_calls:
            with self.lock:
                self.calls.append(call)
        return call

    def recorded(self, matches: Callable[[Any], bool]) -> list[Any]:
        """The calls so far that `matches` accepts, in order."""
        with self.lock:
            return [c for c in self.calls if matches(c)]

    def forget_calls(self) -> None:
        with self.lock:
            self.calls.clear()
