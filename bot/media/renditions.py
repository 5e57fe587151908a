"""Optimised videos, made in the background: which posts need which copy of a video, making each copy once,
its progress for the post's Slack message, and what the publisher is handed.

How a video post is published only once its renditions are ready (the simplest design that holds whatever
path made a target due — its time, Publish now, Retry, a reconnect):

- when a post is accepted, `request()` records every rendition its targets need (`media_renditions`, one
  row per video and rule set, shared by every post and platform needing the same copy);
- each process's `RenditionWorker.tick()` claims pending renditions under a lease (one process makes each;
  at most `concurrency` at a time per process) and makes them in a thread, streaming file to file;
- the publisher asks `payload()` for each attachment of a due target: a rendition not ready yet raises
  MediaNotReady, and the publisher puts the target back a little later (`error_kind` "optimising",
  without counting a try). When the rendition is made, the worker makes those targets due at once.
- a rendition that cannot be made fails the targets that need it with the reason; the original video and
  the post stay as they were, and Retry on such a target asks for the rendition once more.

Free of Slack: the worker reports changed posts through `on_change`.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.media import video
from bot.media.errors import OPTIMISING, MediaError, MediaNotReady
from bot.media.store import MediaStore, facts_of_rendition
from bot.media.store import facts as media_facts
from bot.platforms.base import Adapter, MediaFacts, MediaLimits, MediaPayload
from bot.platforms.validation import OPTIMISE_VIDEO, TRIM_VIDEO, cover_time
from bot.services.publishing import settle_posts
from bot.storage.models import (
    Account,
    MediaItem,
    MediaRendition,
    Post,
    PostMedia,
    PostTarget,
    RenditionStatus,
    TargetStatus,
    utcnow,
)

log = logging.getLogger(__name__)

WAIT = timedelta(seconds=30)  # a waiting target looks again after this (a finished rendition wakes it sooner)
LEASE = timedelta(minutes=2)  # renewed while a rendition is being made; a dead process's lapses
MAX_ATTEMPTS = 3  # a rendition whose maker died this many times fails instead of being claimed again
OPEN = (TargetStatus.PENDING, TargetStatus.SCHEDULED, TargetStatus.PUBLISHING, TargetStatus.HELD)
COVER_LINK_LIFETIME = 90 * 24 * 3600  # the thumbnail in a Slack message outlives the publishing links


# ---- which posts need which renditions ----------------------------------------------------------------


@dataclass(frozen=True)
class Need:
    """One target's need of one rendition of one of its post's videos."""

    post_id: int
    target_id: int
    target_status: TargetStatus
    platform: str
    platform_name: str  # as people call it: "Instagram", not "Instagram (through Meta)"
    item: MediaItem
    rendition: video.Rendition


def wants_optimising(options: Mapping[str, Any] | None) -> bool:
    return (options or {}).get(OPTIMISE_VIDEO, True) is not False


def rendition_for(item: MediaItem, limits: MediaLimits | None, options: Mapping[str, Any] | None
                  ) -> video.Rendition | None:
    """The rendition this video needs under these rules and the post's choices (None: it goes as it is)."""
    if not item.mimetype.startswith("video/") or not wants_optimising(options):
        return None
    return video.plan(media_facts(item), limits, trim=bool((options or {}).get(TRIM_VIDEO)))


async def needs(session: AsyncSession, post_ids: Iterable[int], adapters: Mapping[str, Adapter],
                statuses: Iterable[TargetStatus] = OPEN) -> list[Need]:
    """Every rendition the open targets of these posts need."""
    post_ids = sorted(set(post_ids))
    if not post_ids:
        return []
    videos: dict[int, list[MediaItem]] = {}
    for post_id, item in await session.execute(
            select(PostMedia.post_id, MediaItem).join(MediaItem, MediaItem.id == PostMedia.media_id)
            .where(PostMedia.post_id.in_(post_ids), MediaItem.mimetype.like("video/%"))
            .order_by(PostMedia.post_id, PostMedia.position)):
        videos.setdefault(post_id, []).append(item)
    if not videos:
        return []
    options = dict((await session.execute(select(Post.id, Post.options).where(Post.id.in_(list(videos))))).all())
    found = []
    for target_id, post_id, status, platform, settings in await session.execute(
            select(PostTarget.id, PostTarget.post_id, PostTarget.status, Account.platform, Account.settings)
            .join(Account, Account.id == PostTarget.account_id)
            .where(PostTarget.post_id.in_(list(videos)), PostTarget.status.in_(list(statuses)))
            .order_by(PostTarget.id)):
        adapter = adapters.get(platform)
        if adapter is None:
            continue
        limits = adapter.video_limits(settings or {})
        for item in videos[post_id]:
            rendition = rendition_for(item, limits, options.get(post_id))
            if rendition is not None:
                found.append(Need(post_id, target_id, status, platform,
                                  getattr(adapter, "label", None) or adapter.name, item, rendition))
    return found


async def request(session: AsyncSession, post_id: int, adapters: Mapping[str, Adapter]) -> int:
    """Record the renditions a post's targets need (a failed one is asked for again); returns how many
    are not ready. The caller commits."""
    waiting = 0
    for need in _distinct(await needs(session, [post_id], adapters)):
        row = await ensure(session, need.item, need.rendition)
        waiting += row.status is not RenditionStatus.READY
    return waiting


def _distinct(found: Iterable[Need]) -> list[Need]:
    seen, out = set(), []
    for need in found:
        if (need.item.id, need.rendition.key) not in seen:
            seen.add((need.item.id, need.rendition.key))
            out.append(need)
    return out


async def ensure(session: AsyncSession, item: MediaItem, rendition: video.Rendition) -> MediaRendition:
    """The row for this rendition of the item: created pending when new, pending again when it had failed."""
    row = await _row(session, item.id, rendition.key)
    if row is None:
        try:
            async with session.begin_nested():
                row = MediaRendition(media_id=item.id, key=rendition.key, spec=rendition.as_dict(),
                                     status=RenditionStatus.PENDING, progress=0.0, attempts=0, facts={})
                session.add(row)
        except IntegrityError:  # another request asked for the same one first
            row = await _row(session, item.id, rendition.key)
    elif row.status is RenditionStatus.FAILED:
        await session.execute(update(MediaRendition).where(
            MediaRendition.id == row.id, MediaRendition.status == RenditionStatus.FAILED)
            .values(status=RenditionStatus.PENDING, progress=0.0, attempts=0, error=None, lease_owner=None,
                    lease_expires_at=None).execution_options(synchronize_session=False))
        await session.refresh(row)
    return row


async def _row(session: AsyncSession, media_id: int, key: str) -> MediaRendition | None:
    return await session.scalar(select(MediaRendition).where(MediaRendition.media_id == media_id,
                                                             MediaRendition.key == key)
                                .execution_options(populate_existing=True))


# ---- what the publisher is handed -----------------------------------------------------------------------


async def payload(session: AsyncSession, store: MediaStore, item: MediaItem, limits: MediaLimits | None,
                  options: Mapping[str, Any] | None, alt_text: str | None = None) -> MediaPayload:
    """The video as this platform gets it: the original when it fits (or optimising is off), else its
    rendition. Raises MediaNotReady (after asking for it) while the rendition is not made; commits then."""
    rendition = rendition_for(item, limits, options)
    if rendition is None:
        return await store.payload(item, None, alt_text=alt_text)
    row = await _row(session, item.id, rendition.key)
    path = store.path(item.sha256, rendition.key)
    if row is not None and row.status is RenditionStatus.READY:
        if await asyncio.to_thread(path.is_file):
            return store.rendition_payload(item, rendition.key, facts_of_rendition(item, row.facts, alt_text))
        # The data folder lost the file: make it again.
        await session.execute(update(MediaRendition).where(MediaRendition.id == row.id)
                              .values(status=RenditionStatus.FAILED).execution_options(synchronize_session=False))
        await session.refresh(row)
    if row is None or row.status is RenditionStatus.FAILED:
        row = await ensure(session, item, rendition)
        await session.commit()
    done = f" ({round(row.progress * 100)}%)" if row.status is RenditionStatus.WORKING and row.progress else ""
    raise MediaNotReady(f"its video is being optimised{done}", WAIT.total_seconds())


# ---- the post's Slack message ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ProgressLine:
    """One rendition a post is waiting for, as its status message says it."""

    platforms: tuple[str, ...]  # platform names, in the order of the post's targets
    status: RenditionStatus  # pending or working
    progress: float


async def post_progress(session: AsyncSession, post_id: int, adapters: Mapping[str, Adapter]
                        ) -> list[ProgressLine]:
    """The renditions the post's open targets still wait for. (One that failed has failed its targets,
    whose own lines say why.)"""
    found = await needs(session, [post_id], adapters)
    if not found:
        return []
    rows = {(r.media_id, r.key): r for r in await session.scalars(
        select(MediaRendition).where(MediaRendition.media_id.in_({n.item.id for n in found})))}
    grouped: dict[tuple[int, str], list[str]] = {}
    for need in found:
        row = rows.get((need.item.id, need.rendition.key))
        if row is not None and row.status in (RenditionStatus.READY, RenditionStatus.FAILED):
            continue
        names = grouped.setdefault((need.item.id, need.rendition.key), [])
        if need.platform_name not in names:
            names.append(need.platform_name)
    lines = []
    for key, names in grouped.items():
        row = rows.get(key)
        lines.append(ProgressLine(tuple(names), row.status if row is not None else RenditionStatus.PENDING,
                                  row.progress if row is not None else 0.0))
    return lines


async def cover_link(session: AsyncSession, store: MediaStore, post: Post) -> str | None:
    """A link to the post's cover frame (its first video at the chosen time) as a small JPEG, made once;
    None when the post has no video or the frame cannot be read."""
    item = await session.scalar(select(MediaItem).join(PostMedia, PostMedia.media_id == MediaItem.id)
                                .where(PostMedia.post_id == post.id, MediaItem.mimetype.like("video/%"))
                                .order_by(PostMedia.position).limit(1))
    if item is None:
        return None
    at_ms = cover_time(post.options, item.duration_ms / 1000 if item.duration_ms else None)
    key = cover_key(at_ms)
    path = store.path(item.sha256, key)
    if not await asyncio.to_thread(path.is_file):
        try:
            data = await asyncio.to_thread(video.cover_jpeg, store.path(item.sha256), at_ms / 1000)
        except (video.VideoError, OSError) as exc:
            log.warning("No cover frame for media %s: %s", item.id, exc)
            return None
        await asyncio.to_thread(store.write, path, data)
    # Counted from the start of the day, the link stays the same all day: Slack fetches the picture once.
    day = time.time() // 86400 * 86400
    return store.link(item.sha256, key, "image/jpeg", lifetime=COVER_LINK_LIFETIME, now=day)


def cover_key(at_ms: int) -> str:
    return hashlib.sha256(f"cover:{at_ms}:480".encode()).hexdigest()[:16]


# ---- making them ------------------------------------------------------------------------------------------


async def claim(session: AsyncSession, owner: str, now: datetime, limit: int) -> list[int]:
    """Claim up to `limit` renditions to make (pending ones, and ones whose maker's lease lapsed); returns
    their ids, committed. As the publisher claims: candidates read (locked with SKIP LOCKED on PostgreSQL),
    then taken only if still claimable."""
    claimable = or_(MediaRendition.status == RenditionStatus.PENDING,
                    (MediaRendition.status == RenditionStatus.WORKING) & (MediaRendition.lease_expires_at < now))
    candidates_query = (select(MediaRendition.id).where(claimable).order_by(MediaRendition.id).limit(limit))
    if session.bind.dialect.name == "postgresql":
        candidates_query = candidates_query.with_for_update(skip_locked=True)
    candidates = (await session.scalars(candidates_query)).all()
    if not candidates:
        await session.commit()
        return []
    claimed = await session.execute(
        update(MediaRendition).where(MediaRendition.id.in_(candidates), claimable)
        .values(status=RenditionStatus.WORKING, lease_owner=owner, lease_expires_at=now + LEASE,
                attempts=MediaRendition.attempts + 1, progress=0.0)
        .returning(MediaRendition.id).execution_options(synchronize_session=False))
    ids = [row[0] for row in claimed]
    await session.commit()
    return ids


Notify = Callable[[int], Awaitable[None]]


class RenditionWorker:
    """Makes claimed renditions, at most `concurrency` at a time in this process, each in a thread. One
    per process; `tick()` is what the scheduler calls, and returns at once (the work goes on in tasks)."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], adapters: Mapping[str, Adapter],
                 store: MediaStore, owner: str, concurrency: int = 1, on_change: Notify | None = None,
                 clock: Callable[[], datetime] = utcnow, report_every: float = 2.0, report_step: float = 0.1,
                 threads: int = 0):
        self.sessions, self.adapters, self.store, self.owner = sessions, adapters, store, owner
        self.concurrency, self.on_change, self.clock = max(1, concurrency), on_change, clock
        self.report_every, self.report_step, self.threads = report_every, report_step, threads
        self._running: set[asyncio.Task] = set()

    async def tick(self) -> list[int]:
        """Claim what this process has room for and start making it; returns the claimed ids."""
        free = self.concurrency - len(self._running)
        if free <= 0:
            return []
        async with self.sessions() as session:
            ids = await claim(session, self.owner, self.clock(), free)
        for rendition_id in ids:
            task = asyncio.create_task(self._make(rendition_id))
            self._running.add(task)
            task.add_done_callback(self._running.discard)
        return ids

    async def idle(self) -> None:
        """Wait until every rendition this process started is finished (tests, shutdown)."""
        while self._running:
            await asyncio.gather(*list(self._running), return_exceptions=True)

    async def _make(self, rendition_id: int) -> None:
        try:
            await self._made(rendition_id)
        except Exception:  # noqa: BLE001 - one broken rendition must not stop the worker
            log.exception("Making rendition %s failed unexpectedly", rendition_id)
            await self._finish(rendition_id, None, "Something went wrong inside Picmim while optimising this "
                                                   "video.")

    async def _made(self, rendition_id: int) -> None:
        async with self.sessions() as session:
            row = await session.get(MediaRendition, rendition_id)
            item = await session.get(MediaItem, row.media_id) if row is not None else None
            if row is None or item is None or row.lease_owner != self.owner:
                return
            spec, attempts, name, media_id = video.Rendition.from_dict(row.spec), row.attempts, item.filename, item.id
            source, target = self.store.path(item.sha256), self.store.path(item.sha256, row.key)
        if attempts > MAX_ATTEMPTS:
            await self._finish(rendition_id, None, f"Picmim stopped while optimising {name} {attempts - 1} times.")
            return
        if not await asyncio.to_thread(source.is_file):
            await self._finish(rendition_id, None, f"The original of {name} is no longer on Picmim's disk: attach "
                                                   "it again.")
            return
        loop = asyncio.get_running_loop()
        done = [0.0]

        def progress(fraction: float) -> None:  # called in the making thread
            if fraction > done[0]:
                loop.call_soon_threadsafe(done.__setitem__, 0, fraction)

        fd, temp_name = tempfile.mkstemp(dir=target.parent, prefix=".incoming-", suffix=".mp4")
        os.close(fd)
        temp = Path(temp_name)
        making = asyncio.create_task(asyncio.to_thread(video.make, source, temp, spec, progress, self.threads))
        reported = 0.0
        try:
            while True:
                finished, _ = await asyncio.wait({making}, timeout=self.report_every)
                if finished:
                    break
                now_done = done[0]
                step = now_done - reported >= self.report_step
                if not await self._heartbeat(rendition_id, now_done if step else None):
                    log.info("Rendition %s was taken over by another process", rendition_id)
                if step:
                    reported = now_done
                    await self._notify(media_id)
            facts = making.result()
        except (video.VideoError, MediaError) as exc:
            await self._finish(rendition_id, None, f"Picmim could not optimise {name}: {str(exc).rstrip('.')}.")
            return
        finally:
            if not making.done():  # cancelled (shutting down): the thread finishes and its file is dropped
                making.add_done_callback(lambda _: temp.unlink(missing_ok=True))
        await asyncio.to_thread(os.replace, temp, target)
        await self._finish(rendition_id, facts, None)

    async def _heartbeat(self, rendition_id: int, progress: float | None) -> bool:
        values: dict[str, Any] = {"lease_expires_at": self.clock() + LEASE}
        if progress is not None:
            values["progress"] = round(progress, 3)
        async with self.sessions() as session:
            kept = await session.execute(update(MediaRendition).where(
                MediaRendition.id == rendition_id, MediaRendition.lease_owner == self.owner,
                MediaRendition.status == RenditionStatus.WORKING).values(**values)
                .execution_options(synchronize_session=False))
            await session.commit()
        return kept.rowcount == 1

    async def _finish(self, rendition_id: int, facts: MediaFacts | None, error: str | None) -> None:
        """Record the outcome; wake the targets waiting for it, or fail the ones that need it."""
        now = self.clock()
        async with self.sessions() as session:
            row = await session.get(MediaRendition, rendition_id)
            if row is None:
                return
            if facts is not None:
                row.status, row.progress, row.error = RenditionStatus.READY, 1.0, None
                row.facts = _facts_dict(facts)
            else:
                row.status, row.error = RenditionStatus.FAILED, (error or "")[:1000]
            row.lease_owner, row.lease_expires_at, row.finished_at = None, None, now
            media_id, key = row.media_id, row.key
            posts = list(await session.scalars(
                select(PostTarget.post_id).distinct().join(PostMedia, PostMedia.post_id == PostTarget.post_id)
                .where(PostMedia.media_id == media_id, PostTarget.status.in_(list(OPEN)))))
            if facts is not None:
                # Targets that looked while it was being made are due now (their post's time has come).
                await session.execute(update(PostTarget).where(
                    PostTarget.post_id.in_(posts), PostTarget.status == TargetStatus.SCHEDULED,
                    PostTarget.error_kind == OPTIMISING).values(next_attempt_at=now, error_kind=None, last_error=None)
                    .execution_options(synchronize_session=False))
            else:
                failing = [n.target_id for n in await needs(session, posts, self.adapters,
                                                             (TargetStatus.SCHEDULED, TargetStatus.PENDING))
                           if n.item.id == media_id and n.rendition.key == key]
                if failing:
                    await session.execute(update(PostTarget).where(
                        PostTarget.id.in_(failing), PostTarget.status.in_([TargetStatus.SCHEDULED,
                                                                            TargetStatus.PENDING]))
                        .values(status=TargetStatus.FAILED, error_kind="rejected", next_attempt_at=None,
                                last_error=f"{error} The original video and the post are kept: Retry tries "
                                           "again.")
                        .execution_options(synchronize_session=False))
                    await settle_posts(session, posts)
            await session.commit()
        for post_id in sorted(posts):
            await self._notify_post(post_id)

    async def _notify(self, media_id: int) -> None:
        async with self.sessions() as session:
            posts = list(await session.scalars(
                select(PostTarget.post_id).distinct().join(PostMedia, PostMedia.post_id == PostTarget.post_id)
                .where(PostMedia.media_id == media_id, PostTarget.status.in_(list(OPEN)))))
        for post_id in sorted(posts):
            await self._notify_post(post_id)

    async def _notify_post(self, post_id: int) -> None:
        if self.on_change is None:
            return
        try:
            await self.on_change(post_id)
        except Exception:  # noqa: BLE001 - a message that cannot be updated must not stop the work
            log.exception("Updating the message of post %s failed", post_id)


def _facts_dict(facts: MediaFacts) -> dict[str, Any]:
    return {"mimetype": facts.mimetype, "size_bytes": facts.size_bytes, "width": facts.width,
            "height": facts.height, "duration": facts.duration, "fps": facts.fps, "video_codec": facts.video_codec,
            "audio_codec": facts.audio_codec, "bit_rate": facts.bit_rate, "faststart": facts.faststart}

