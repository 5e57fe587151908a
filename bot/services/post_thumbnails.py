"""Thumbnails of a report's top posts (digests): the first picture the post carried, else the picture its platform
showed for it at the newest metric sync (its image, or its video's cover: kept on the post's target), else the picture
YouTube gives every video, else the cover frame of the video it carried.

Free of Slack and HTTP details: the caller hands in how a stored file becomes a link.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.platforms import youtube
from bot.storage.models import Account, MediaItem, Post, PostMedia, PostTarget, utcnow

# The platforms that give every post's video a picture at a known public address, by the post's remote id.
PLATFORM_THUMBNAILS: dict[str, Callable[[str], str | None]] = {"youtube": youtube.thumbnail_url}
SHOWN_PICTURES = ("image/jpeg", "image/png", "image/gif")  # what Slack shows in a message (not HEIC, not WebP)
# How long a platform's picture address keeps working after the sync that read it; a platform not listed keeps its
# addresses. TikTok documents a 6-hour lifetime for `cover_image_url`; Meta's CDN addresses are signed and lapse
# after some days (UNCERTAIN: no official figure, one day is on the safe side).
ADDRESS_LIFETIME: dict[str, timedelta] = {
    "tiktok": timedelta(hours=6),
    "instagram": timedelta(days=1), "instagram-login": timedelta(days=1), "facebook": timedelta(days=1),
}
MAX_ADDRESS_LENGTH = 3000  # Block Kit's limit for an image's address


def shown_address(address: object) -> bool:
    """Whether a platform's answer is a picture address Slack can be given."""
    return (isinstance(address, str) and address.startswith(("https://", "http://"))
            and len(address) <= MAX_ADDRESS_LENGTH and not any(c.isspace() for c in address))


def platform_picture(platform: str, address: str | None, read_at: datetime | None, now: datetime) -> str | None:
    """The platform's picture address for a post while it still works (None once it has lapsed)."""
    if not address or read_at is None:
        return None
    lifetime = ADDRESS_LIFETIME.get(platform)
    if lifetime is not None and now - read_at >= lifetime:
        return None
    return address


async def thumbnails(session: AsyncSession, target_ids: Sequence[int],
                     picture_link: Callable[[MediaItem], Awaitable[str | None]],
                     cover_link: Callable[[Post], Awaitable[str | None]] | None = None,
                     now: datetime | None = None) -> dict[int, str]:
    """A thumbnail link per target that has one (target id -> link). `picture_link`: a stored picture's link, or
    None when its file is gone; `cover_link`: a post's video cover frame's link, or None; `now`: when the links are
    shown (a platform's address that lapsed by then is not used)."""
    if not target_ids:
        return {}
    now = now or utcnow()
    rows = (await session.execute(
        select(PostTarget.id, PostTarget.remote_id, PostTarget.platform_thumbnail_url,
               PostTarget.platform_thumbnail_at, Account.platform, Post)
        .join(Account, Account.id == PostTarget.account_id).join(Post, Post.id == PostTarget.post_id)
        .where(PostTarget.id.in_(list(target_ids))))).all()
    found: dict[int, str] = {}
    for target_id, remote_id, address, read_at, platform, post in rows:
        media = (await session.scalars(
            select(MediaItem).join(PostMedia, PostMedia.media_id == MediaItem.id)
            .where(PostMedia.post_id == post.id).order_by(PostMedia.position))).all()
        link = None
        picture = next((m for m in media if m.mimetype in SHOWN_PICTURES), None)
        if picture is not None:
            link = await picture_link(picture)
        if link is None:
            link = platform_picture(platform, address, read_at, now)
        if link is None and remote_id and platform in PLATFORM_THUMBNAILS:
            link = PLATFORM_THUMBNAILS[platform](remote_id)
        if link is None and cover_link is not None and any(m.mimetype.startswith("video/") for m in media):
            link = await cover_link(post)
        if link:
            found[target_id] = link
    return found
