"""What the publisher publishes: a post's attachments made to fit the platform and account they go to."""

from __future__ import annotations

import asyncio

from sqlalchemy import select

from bot.media import renditions
from bot.media.errors import MediaError
from bot.media.store import MediaStore
from bot.platforms.base import Adapter
from bot.storage.models import Account, MediaItem, Post, PostMedia


def media_source(store: MediaStore, retention_days: int | None = None):
    """The post's attachments, made to fit the platform and account being published to: pictures converted
    here, videos as their optimised copies (MediaNotReady while one is being made). An attachment no longer
    on disk (deleted by bot.media.retention after its post was done, then retried) is a MediaError: the
    target fails with the reason, never published without it."""

    async def media(session, post: Post, adapter: Adapter, account: Account):
        rows = (await session.execute(select(MediaItem, PostMedia.alt_text).join(
            PostMedia, PostMedia.media_id == MediaItem.id).where(PostMedia.post_id == post.id)
            .order_by(PostMedia.position))).all()
        facts, payloads = [], []
        for item, alt_text in rows:
            if not await asyncio.to_thread(store.path(item.sha256).is_file):
                kept = f" {retention_days} days" if retention_days else ""
                raise MediaError(f"“{item.filename}” is no longer stored: Picmim keeps attachments{kept} after "
                                 "their post is done. Compose the post again with the file attached.")
            if item.mimetype.startswith("video/"):
                payload = await renditions.payload(session, store, item, adapter.video_limits(account.settings or {}),
                                                   post.options, alt_text)
            else:
                payload = await store.payload(item, adapter.limits.image, alt_text=alt_text)
            facts.append(payload.facts)
            payloads.append(payload)
        return facts, payloads

    return media
