"""The periodic ticks. Their state lives in our tables (leases, due times), so any number of
processes may run them: the database decides who does what, never the scheduler."""

from __future__ import annotations

import logging
import os
import socket
from datetime import UTC
from typing import TYPE_CHECKING

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy import select

from bot.handlers.alerts import SlackAlerts
from bot.handlers.posts import update_post_message
from bot.platforms.base import Adapter
from bot.services import renditions
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


def start(runtime: Runtime) -> AsyncIOScheduler:
    publisher = build_publisher(runtime)

    async def publish_due() -> None:
        try:
            await publisher.tick()
        except Exception:  # one bad tick must not stop the next
            log.exception("Publishing tick failed")

    scheduler = AsyncIOScheduler(timezone=UTC)
    scheduler.add_job(publish_due, "interval", seconds=runtime.settings.tick_seconds, id="publish_due",
                      max_instances=1, coalesce=True)
    health = build_token_health(runtime)

    async def look_after_connections() -> None:
        try:
            await health.tick()
        except Exception:  # one bad tick must not stop the next
            log.exception("Token health tick failed")

    scheduler.add_job(look_after_connections, "interval", seconds=runtime.settings.health_seconds,
                      id="token_health", max_instances=1, coalesce=True)
    add_analytics_jobs(runtime, scheduler)
    videos = build_rendition_worker(runtime)

    async def optimise_videos() -> None:
        try:
            await videos.tick()  # starts the work and returns: long conversions never hold a tick
        except Exception:  # one bad tick must not stop the next
            log.exception("Video optimisation tick failed")

    scheduler.add_job(optimise_videos, "interval", seconds=runtime.settings.tick_seconds, id="optimise_videos",
                      max_instances=1, coalesce=True)
    scheduler.start()
    return scheduler


def add_analytics_jobs(runtime: Runtime, scheduler: AsyncIOScheduler) -> None:
    """Metric sync and digests: each its own job, so a slow sync never holds a digest back."""
    from bot.handlers.digests import DigestSender
    from bot.services.metric_sync import MetricSync

    sync = MetricSync(runtime.sessions, runtime.adapters)
    sender = DigestSender(runtime)

    async def sync_metrics() -> None:
        try:
            await sync.tick()
        except Exception:  # one bad tick must not stop the next
            log.exception("Metric sync tick failed")

    async def send_digests() -> None:
        try:
            await sender.tick()
        except Exception:
            log.exception("Digest tick failed")

    for job, name in ((sync_metrics, "sync_metrics"), (send_digests, "send_digests")):
        scheduler.add_job(job, "interval", seconds=runtime.settings.analytics_seconds, id=name, max_instances=1,
                          coalesce=True)
