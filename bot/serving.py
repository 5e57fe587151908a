"""Serving: the app's HTTP server (or Socket Mode) and its jobs, until SIGTERM or SIGINT, then a clean stop. Used by
`python -m bot` and by the sandbox (bot/sandbox/run.py), which extends the web app with its pages first."""

from __future__ import annotations

import asyncio
import logging
import signal

from bot.app import StartupError
from bot.config import Settings

log = logging.getLogger("bot")

SHUTDOWN_GRACE_SECONDS = 20.0  # how long platform calls under way may take to finish on SIGTERM


async def serve(settings: Settings, extend=None) -> None:
    """`extend(runtime)`, when given, is awaited before the server starts (the sandbox adds its pages)."""
    from aiohttp import web

    from bot import jobs
    from bot.app import build_runtime, prepare_storage

    engine = await prepare_storage(settings)
    runtime = build_runtime(settings, engine)
    if extend is not None:
        await extend(runtime)
    stop = _stop_on_signals()  # before Slack is asked: a SIGTERM while Slack is slow to answer still stops cleanly
    runner = web.AppRunner(runtime.web, access_log=None, handle_signals=False)
    await runner.setup()
    socket_mode = scheduler = None
    try:
        if runtime.slack_authorization is not None:
            await runtime.slack_authorization.verify()
        try:
            await web.TCPSite(runner, settings.host, settings.port).start()
        except OSError as exc:
            raise StartupError(f"cannot listen on {settings.host}:{settings.port} ({exc.strerror}); "
                        "is another copy running? Set PORT to a free port.") from None
        if settings.slack.socket_mode:
            from bot.socket_mode import AppTokenRefused, SocketMode

            socket_mode = runtime.socket_mode = SocketMode(runtime.bolt, settings.slack.app_token)
            runtime.socket_handler = socket_mode.handler
            try:
                await socket_mode.start()  # returns at once when Slack cannot be reached: it keeps trying
            except AppTokenRefused as refused:
                raise StartupError(str(refused)) from None
        scheduler = runtime.scheduler = jobs.start(runtime)
        mode = "Socket Mode" if settings.slack.socket_mode else f"HTTP events at {settings.public_url}/slack/events"
        log.info("Picmim is listening on http://%s:%s (%s, %s workspace)", settings.host, settings.port, mode,
                 settings.slack.mode)
        refused = await _wait_for_stop(stop, socket_mode.refused if socket_mode is not None else None)
        if refused is not None:  # Slack answered at last, refusing the app token: nothing can ever arrive
            raise StartupError(refused)
        log.info("Stopping")
    finally:
        if scheduler is not None:
            # Claim nothing more, give back claims never called, let calls under way finish (bounded);
            # only then stop the jobs (shutting the scheduler down cancels what still runs).
            scheduler.pause()
            if runtime.publisher is not None:
                try:
                    await runtime.publisher.stop(grace=SHUTDOWN_GRACE_SECONDS)
                except Exception:
                    log.exception("Releasing this process's claims failed; their leases run out instead")
            scheduler.shutdown(wait=False)
        if socket_mode is not None:
            await socket_mode.close()
        await runner.cleanup()
        await runtime.close()


def _stop_on_signals() -> asyncio.Event:
    """An event SIGINT and SIGTERM set."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    return stop


async def _wait_for_stop(stop: asyncio.Event, fatal: asyncio.Future[str] | None = None) -> str | None:
    """Until `stop` is set (None), or until `fatal` says why the process cannot go on (its sentence)."""
    waits = [asyncio.ensure_future(stop.wait())] + ([fatal] if fatal is not None else [])
    await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
    waits[0].cancel()
    return fatal.result() if fatal is not None and fatal.done() and not fatal.cancelled() else None
