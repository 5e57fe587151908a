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

from bot.handlers.posts import update_post_message
from bot.platforms.base import Adapter
from bot.services.media_store import MediaStore
from bot.services.publishing import Publisher
from bot.storage.models import MediaItem, Post, PostMedia

if TYPE_CHECKING:
    from bot.app import Runtime

log = logging.getLogger(__name__)


def media_source(runtime: Runtime):
    """The post's attachments, made to fit the platform being published to."""
    store = MediaStore.from_settings(runtime.settings)

    async def media(session, post: Post, adapter: Adapter):
        rows = await session.execute(select(MediaItem, PostMedia.alt_text).join(
            PostMedia, PostMedia.media_id == MediaItem.id).where(PostMedia.post_id == post.id)
            .order_by(PostMedia.position))
        facts, payloads = [], []
        for item, alt_text in rows:
            limits = adapter.limits.video if item.mimetype.startswith("video/") else adapter.limits.image
            payload = await store.payload(item, limits, alt_text=alt_text)
            facts.append(payload.facts)
            payloads.append(payload)
        return facts, payloads

    return media


def build_publisher(runtime: Runtime) -> Publisher:
    owner = f"{socket.gethostname()}:{os.getpid()}"

    async def on_change(post_id: int) -> None:
        await update_post_message(runtime, post_id)

    return Publisher(runtime.sessions, runtime.adapters, media_source(runtime), owner, on_change=on_change)


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
    scheduler.start()
    return scheduler
