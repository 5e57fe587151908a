"""Thumbnails of a report's top posts (digests): the first picture the post carried, else the picture its platform
shows for a video (YouTube's thumbnail), else the cover frame of the video it carried.

Free of Slack and HTTP details: the caller hands in how a stored file becomes a link.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.platforms import youtube
from bot.storage.models import Account, MediaItem, Post, PostMedia, PostTarget

# The platforms that give every post's video a picture at a known public address, by the post's remote id.
PLATFORM_THUMBNAILS: dict[str, Callable[[str], str | None]] = {"youtube": youtube.thumbnail_url}
SHOWN_PICTURES = ("image/jpeg", "image/png", "image/gif")  # what Slack shows in a message (not HEIC, not WebP)


async def thumbnails(session: AsyncSession, target_ids: Sequence[int],
                     picture_link: Callable[[MediaItem], Awaitable[str | None]],
                     cover_link: Callable[[Post], Awaitable[str | None]] | None = None) -> dict[int, str]:
    """A thumbnail link per target that has one (target id -> link). `picture_link`: a stored picture's link, or
    None when its file is gone; `cover_link`: a post's video cover frame's link, or None."""
    if not target_ids:
        return {}
    rows = (await session.execute(
        select(PostTarget.id, PostTarget.remote_id, Account.platform, Post)
        .join(Account, Account.id == PostTarget.account_id).join(Post, Post.id == PostTarget.post_id)
        .where(PostTarget.id.in_(list(target_ids))))).all()
    found: dict[int, str] = {}
    for target_id, remote_id, platform, post in rows:
        media = (await session.scalars(
            select(MediaItem).join(PostMedia, PostMedia.media_id == MediaItem.id)
            .where(PostMedia.post_id == post.id).order_by(PostMedia.position))).all()
        link = None
        picture = next((m for m in media if m.mimetype in SHOWN_PICTURES), None)
        if picture is not None:
            link = await picture_link(picture)
        if link is None and remote_id and platform in PLATFORM_THUMBNAILS:
            link = PLATFORM_THUMBNAILS[platform](remote_id)
        if link is None and cover_link is not None and any(m.mimetype.startswith("video/") for m in media):
            link = await cover_link(post)
        if link:
            found[target_id] = link
    return found
