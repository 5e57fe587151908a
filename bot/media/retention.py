"""How long attachments stay on disk. A stored file (its original, picture conversions, video copies and cover
frames: `<sha256>` and `<sha256>.<variant>`) is deleted once no post needs it:

- every post using it is done (published, failed, cancelled, rejected, expired, and none of its targets still
  open or unconfirmed) since longer than the retention period (PICMIM_MEDIA_RETENTION_DAYS, counted from
  the post's last change, which is when it became final); a draft, a post waiting for approval, a
  scheduled or publishing one keeps it whatever its age. The item's row stays, so the post still names its
  files; its video copies' rows go;
- or no post ever used it and it was stored more than a day ago (a submission that never finished): row too;
- or no row names it at all (a process stopped between writing and recording), or it is a temporary file,
  older than a day.

A refused submission's new files go at once (`discard`). Files are shared by every workspace that stored the
same bytes: they go only when no workspace's item needs them. Files touched in the last day (stored again:
bot.media.store renews them) are left for the next sweep, so a post about to use them never loses them.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import delete, exists, or_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.media.store import INCOMING, MediaStore
from bot.storage.models import (
    MediaItem,
    MediaRendition,
    Post,
    PostMedia,
    PostStatus,
    PostTarget,
    TargetStatus,
    utcnow,
)

log = logging.getLogger(__name__)

FINAL_POSTS = (PostStatus.PUBLISHED, PostStatus.FAILED, PostStatus.CANCELLED, PostStatus.REJECTED,
               PostStatus.EXPIRED)
# Targets that may still need the file whatever their post says (an unconfirmed one may be sent again).
OPEN_TARGETS = (TargetStatus.PENDING, TargetStatus.SCHEDULED, TargetStatus.HELD, TargetStatus.PUBLISHING,
                TargetStatus.UNCONFIRMED)
GRACE = timedelta(days=1)  # what was stored or written this recently may be on its way into a post
SWEEP_SECONDS = 3600  # how often each process sweeps (the sweep is idempotent: processes may overlap)
BATCH = 500  # ids per statement

_FILE = re.compile(r"([0-9a-f]{64})(?:\.[0-9a-f]{16})?")


@dataclass(frozen=True)
class Swept:
    files: int = 0  # files deleted
    bytes: int = 0  # their size
    items: int = 0  # rows deleted (items no post ever used)


async def sweep(sessions: async_sessionmaker[AsyncSession], store: MediaStore, now: datetime,
                keep_for: timedelta) -> Swept:
    """Delete what no post needs any more (see the module's words), as of `now`."""
    young = now - GRACE
    needed = (select(PostMedia.media_id).join(Post, Post.id == PostMedia.post_id)
              .where(or_(Post.status.not_in(FINAL_POSTS), Post.updated_at >= now - keep_for,
                         Post.id.in_(select(PostTarget.post_id).where(PostTarget.status.in_(OPEN_TARGETS))))))
    async with sessions() as session:
        rows = (await session.execute(select(MediaItem.id, MediaItem.sha256, or_(
            MediaItem.id.in_(needed), MediaItem.created_at >= young).label("kept")))).all()
    kept = {sha for _, sha, keep in rows if keep}
    # A file stored again in the last day is about to be used: left for a later sweep.
    recent = await asyncio.to_thread(_touched_since, store, {sha for _, sha, keep in rows if not keep} - kept,
                                     young.timestamp())
    gone = [(item_id, sha) for item_id, sha, keep in rows if not keep and sha not in kept and sha not in recent]
    items = 0
    if gone:
        ids = [item_id for item_id, _ in gone]
        async with sessions() as session:
            for batch in _batches(ids):
                await session.execute(delete(MediaRendition).where(MediaRendition.media_id.in_(batch)))
                done = await session.execute(delete(MediaItem).where(  # never used by any post: the row goes too
                    MediaItem.id.in_(batch), ~exists().where(PostMedia.media_id == MediaItem.id)))
                items += done.rowcount or 0
            await session.commit()
    async with sessions() as session:
        known = set(await session.scalars(select(MediaItem.sha256).distinct()))
    files, size = await asyncio.to_thread(_remove, store, {sha for _, sha in gone}, known, young.timestamp())
    return Swept(files, size, items)


async def discard(sessions: async_sessionmaker[AsyncSession], store: MediaStore, item_ids: Iterable[int]) -> int:
    """A refused submission's new items, deleted at once (rows and files) unless a post uses them meanwhile.
    The number of files deleted."""
    ids = list(item_ids)
    if not ids:
        return 0
    async with sessions() as session:
        shas = set(await session.scalars(select(MediaItem.sha256).where(MediaItem.id.in_(ids))))
        await session.execute(delete(MediaRendition).where(MediaRendition.media_id.in_(ids)))
        await session.execute(delete(MediaItem).where(MediaItem.id.in_(ids),
                                                      ~exists().where(PostMedia.media_id == MediaItem.id)))
        await session.commit()
    return await forget_files(sessions, store, shas)


async def forget_files(sessions: async_sessionmaker[AsyncSession], store: MediaStore, shas: Collection[str]) -> int:
    """Delete the files of these bytes that no item (in any workspace) names. The number of files deleted."""
    if not shas:
        return 0
    async with sessions() as session:
        named = set(await session.scalars(select(MediaItem.sha256).where(MediaItem.sha256.in_(list(shas)))))
    files, _size = await asyncio.to_thread(_remove, store, set(shas) - named, None, None)
    return files


# ---- on disk -----------------------------------------------------------------------------------------------


def _touched_since(store: MediaStore, shas: Iterable[str], since: float) -> set[str]:
    found = set()
    for sha in shas:
        try:
            if store.path(sha).stat().st_mtime >= since:
                found.add(sha)
        except FileNotFoundError:
            pass
    return found


def _remove(store: MediaStore, shas: Collection[str], known: Collection[str] | None, before: float | None
            ) -> tuple[int, int]:
    """Delete every file of `shas`; with `known`, also any file older than `before` whose bytes no row names and
    stale temporary files. (files, bytes) deleted. Blocking."""
    files = size = 0

    def unlink(path: Path) -> None:
        nonlocal files, size
        try:
            length = path.stat().st_size
            path.unlink()
        except FileNotFoundError:  # another process swept it first
            return
        files, size = files + 1, size + length

    for sha in shas:
        folder = store.path(sha).parent
        for path in folder.glob(f"{sha}*") if folder.is_dir() else ():
            if _FILE.fullmatch(path.name) and path.name.startswith(sha):
                unlink(path)
    if known is None or before is None or not store.root.is_dir():
        return files, size
    for path in store.root.iterdir():
        if path.is_dir() and re.fullmatch(r"[0-9a-f]{2}", path.name):
            for each in path.iterdir():
                found = _FILE.fullmatch(each.name)
                stale = each.name.startswith(INCOMING) or (found is not None and found.group(1) not in known)
                if stale and each.is_file() and _older(each, before):
                    unlink(each)
        elif path.name.startswith(INCOMING) and path.is_file() and _older(path, before):
            unlink(path)
    return files, size


def _older(path: Path, before: float) -> bool:
    try:
        return path.stat().st_mtime < before
    except FileNotFoundError:
        return False


def _batches(ids: list[int]) -> Iterable[list[int]]:
    for start in range(0, len(ids), BATCH):
        yield ids[start:start + BATCH]


class MediaRetention:
    """The periodic sweep (bot.jobs), logging what it freed."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], store: MediaStore, keep_for: timedelta,
                 clock: Callable[[], datetime] = utcnow):
        self.sessions, self.store, self.keep_for, self.clock = sessions, store, keep_for, clock

    async def tick(self) -> Swept:
        started = time.monotonic()
        swept = await sweep(self.sessions, self.store, self.clock(), self.keep_for)
        if swept.files or swept.items:
            log.info("Media retention: deleted %d files (%.1f MB) and %d unused attachments no post needs any more "
                     "(%.1f s)", swept.files, swept.bytes / 1_000_000, swept.items, time.monotonic() - started)
        return swept
