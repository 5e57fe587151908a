"""The periodic ticks. Their state lives in our tables (leases, due times), so any number of
processes may run them: the database decides who does what, never the scheduler."""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Awaitable, Callable
from datetime import UTC
from typing import TYPE_CHECKING

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy import select

from bot.messages.alerts import SlackAlerts
from bot.messages.post_status import update_post_message
from bot.messages.reports import DigestSender
from bot.platforms.base import Adapter
from bot.services import renditions
from bot.services.analytics import MetricSync
from bot.services.media_store import MediaStore
from bot.services.publishing import Publisher
from bot.services.token_health import TokenHealth
from bot.storage.models import Account, MediaItem, Post, PostMedia

if TYPE_CHECKING:
    from bot.app import Runtime

log = logging.getLogger(__name__)


def media_source(runtime: Runtime):
    """The post's attachments, made to fit the platform and account being published to: pictures converted
    here, videos as their optimised copies (MediaNotReady while one is being made)."""
    store = MediaStore.from_settings(runtime.settings)

    async def media(session, post: Post, adapter: Adapter, account: Account):
        rows = (await session.execute(select(MediaItem, PostMedia.alt_text).join(
            PostMedia, PostMedia.media_id == MediaItem.id).where(PostMedia.post_id == post.id)
            .order_by(PostMedia.position))).all()
        facts, payloads = [], []
        for item, alt_text in rows:
            if item.mimetype.startswith("video/"):
                payload = await renditions.payload(session, store, item, adapter.video_limits(account.settings or {}),
                                                   post.options, alt_text)
            else:
                payload = await store.payload(item, adapter.limits.image, alt_text=alt_text)
            facts.append(payload.facts)
            payloads.append(payload)
        return facts, payloads

    return media


def build_rendition_worker(runtime: Runtime) -> renditions.RenditionWorker:
    """Makes the optimised copies of videos, a few at a time (PICMIM_VIDEO_JOBS), in every process."""
    owner = f"{socket.gethostname()}:{os.getpid()}"

    async def on_change(post_id: int) -> None:
        await update_post_message(runtime, post_id)

    return renditions.RenditionWorker(runtime.sessions, runtime.adapters, MediaStore.from_settings(runtime.settings),
                                      owner, concurrency=runtime.settings.video_jobs, on_change=on_change)


def build_publisher(runtime: Runtime) -> Publisher:
    owner = f"{socket.gethostname()}:{os.getpid()}"

    async def on_change(post_id: int) -> None:
        await update_post_message(runtime, post_id)

    return Publisher(runtime.sessions, runtime.adapters, media_source(runtime), owner, on_change=on_change)


def build_token_health(runtime: Runtime) -> TokenHealth:
    async def on_post_change(post_id: int) -> None:
        await update_post_message(runtime, post_id)

    return TokenHealth(runtime.sessions, runtime.adapters, SlackAlerts(runtime), on_post_change=on_post_change)


def _every(scheduler: AsyncIOScheduler, seconds: float, name: str, tick: Callable[[], Awaitable[object]],
           what: str) -> None:
    """Run `tick` every `seconds`: one at a time, missed runs folded into one, and a failed tick logged and
    left behind (one bad tick must not stop the next)."""

    async def run() -> None:
        try:
            await tick()
        except Exception:
            log.exception("%s tick failed", what)

    scheduler.add_job(run, "interval", seconds=seconds, id=name, max_instances=1, coalesce=True)


def start(runtime: Runtime) -> AsyncIOScheduler:
    settings = runtime.settings
    sender = DigestSender(runtime)
    scheduler = AsyncIOScheduler(timezone=UTC)
    _every(scheduler, settings.tick_seconds, "publish_due", build_publisher(runtime).tick, "Publishing")
    _every(scheduler, settings.health_seconds, "token_health", build_token_health(runtime).tick, "Token health")
    # Metric sync and digests: each its own job, so a slow sync never holds a digest back.
    _every(scheduler, settings.analytics_seconds, "sync_metrics", MetricSync(runtime.sessions, runtime.adapters).tick,
           "Metric sync")
    _every(scheduler, settings.analytics_seconds, "send_digests", sender.tick, "Digest")
    # Starts the work and returns: long conversions never hold a tick.
    _every(scheduler, settings.tick_seconds, "optimise_videos", build_rendition_worker(runtime).tick,
           "Video optimisation")
    scheduler.start()
    return scheduler
