"""Recurring posts: a series repeats a composed post daily, weekly on chosen weekdays or monthly, at the same
wall-clock time in the author's zone (daylight saving included), until a date or for a number of times.

Each occurrence is its own post in the queue, made a few ahead (`AHEAD`) by `SeriesTopUp`, which any number of
processes run: a series' next occurrence is claimed with a conditional UPDATE, and the unique (series, index) of
posts makes a second copy impossible. Each occurrence then publishes exactly once like any post (the publisher's
lease). Approval: the series is approved once, with its first occurrence; later ones are scheduled as they come.

Free of Slack: the handlers read the window into a `Repeat` and show what comes back.
"""

from __future__ import annotations

import calendar
import dataclasses
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import selectinload

from bot.platforms.settings import settings_from_json, to_json
from bot.platforms.validation import COVER_MS, OPTIMISE_VIDEO, TRIM_VIDEO
from bot.services import audit, queue
from bot.services.composing import Composition
from bot.services.publishing import schedule_targets
from bot.services.repeats import (  # noqa: F401 - the series service's own words, re-exported for its callers
    DAILY,
    FREQUENCIES,
    MAX_TIMES,
    MONTHLY,
    REPEAT,
    REPEAT_DAYS,
    REPEAT_END,
    WEEKDAYS,
    WEEKLY,
    Repeat,
    Rule,
    SeriesLine,
    _and,
    draft_repeats,
    lines,
    problems,
    repeat_from_json,
    repeat_to_json,
    rule_for,
    zone,
)
from bot.storage.models import Account, MediaItem, Post, PostMedia, PostStatus, PostTarget, Series, utcnow

log = logging.getLogger(__name__)

ACTIVE, STOPPED, FINISHED = "active", "stopped", "finished"
AHEAD = 2  # occurrences waiting in the queue at any time: enough to see, skip or edit the next ones
MISSED = -1  # what `SeriesTopUp` answers for an occurrence passed over
MISSED_AFTER = timedelta(hours=1)  # an occurrence whose time passed longer ago (no process ran) is not made late
DATE_PLACEHOLDER = "{date}"
# Platforms that refuse a text they have already published for the account (X: 403 "duplicate content", Meta's
# error 506, LinkedIn's 422 DUPLICATE_POST): a series repeating the same words fails there from the second time.
REFUSE_DUPLICATES = {"x": "X", "facebook": "Facebook", "instagram": "Instagram", "instagram-login": "Instagram",
                     "linkedin": "LinkedIn"}

ENDED = "This series has ended or was stopped, so it can no longer be edited."
STOP_INSTEAD = "To end the series, press Stop series in `/picmim queue`; here, choose how it repeats."


def duplicate_warning(repeat: Repeat | None, platforms: Sequence[str], composition: Composition) -> str | None:
    """Said in the window (a warning, not a refusal) when a repeating post would send the same words again to a
    network that refuses that."""
    if repeat is None:
        return None
    names = list(dict.fromkeys(REFUSE_DUPLICATES[p] for p in platforms if p in REFUSE_DUPLICATES
                               and DATE_PLACEHOLDER not in (composition.variants.get(p) or composition.text)))
    if not names:
        return None
    named = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
    return (f":warning: {named} refuse{'s' if len(names) == 1 else ''} a post whose text the account has already "
            f"published, so the same words every time fail from the second time. Put {DATE_PLACEHOLDER} in the text "
            "(each time it becomes that day's date, like 9 March 2026), or edit each occurrence's words in "
            "`/picmim queue` before it goes out.")


def dated(text: str | None, at: datetime, timezone: str | None) -> str | None:
    """The text with {date} as the occurrence's own date in the author's zone."""
    if not text or DATE_PLACEHOLDER not in text:
        return text
    local = at.astimezone(zone(timezone))
    return text.replace(DATE_PLACEHOLDER, f"{local.day} {calendar.month_name[local.month]} {local.year}")


def occurrence_composition(composition: Composition, at: datetime, timezone: str | None) -> Composition:
    """What one occurrence holds: the series' composition with its dates filled in, at its time."""
    return dataclasses.replace(composition, text=dated(composition.text, at, timezone) or "",
                               variants={k: dated(v, at, timezone) or "" for k, v in composition.variants.items()},
                               first_comment=dated(composition.first_comment, at, timezone), when=at, schedule=True)


# ---- storing a series' composition ----------------------------------------------------------------------

def content_of(composition: Composition, platforms: Mapping[int, str], media: Sequence[int]) -> dict:
    """The composition as the series keeps it (JSON); `platforms`: account id -> platform, `media`: attachment
    ids in order."""
    return {"text": composition.text, "account_ids": list(composition.account_ids),
            "platforms": {str(k): v for k, v in platforms.items()}, "variants": dict(composition.variants),
            "first_comment": composition.first_comment, "options": composition.options(),
            "settings": {k: to_json(v) for k, v in composition.settings.items()},
            "boards": {str(k): v for k, v in composition.boards.items()},
            "alt_texts": list(composition.alt_texts), "media_ids": list(media)}


def composition_from(content: Mapping) -> Composition:
    settings = {k: s for k, v in (content.get("settings") or {}).items() if (s := settings_from_json(k, v))}
    options = content.get("options") or {}
    composition = Composition(text=content.get("text") or "", account_ids=list(content.get("account_ids") or []),
                              variants=dict(content.get("variants") or {}),
                              first_comment=content.get("first_comment"), settings=settings,
                              boards={int(k): v for k, v in (content.get("boards") or {}).items()},
                              alt_texts=list(content.get("alt_texts") or []))
    composition.optimise_video = options.get(OPTIMISE_VIDEO, True) is not False
    composition.trim_video = bool(options.get(TRIM_VIDEO))
    cover = options.get(COVER_MS)
    composition.cover_seconds = cover / 1000 if isinstance(cover, int | float) else None
    return composition


async def start(session: AsyncSession, post: Post, rule: Rule, template: Composition, *,
                actor: str | None = None) -> Series:
    """The series whose first occurrence is `post` (just created with its attachments), repeating `template`;
    `actor`: who started it (its author unless an editor replaced a series). The caller commits."""
    platforms = dict((await session.execute(select(Account.id, Account.platform).where(
        Account.id.in_(template.account_ids)))).all()) if template.account_ids else {}
    made = new_series(post, rule, content_of(template, platforms, [m.media_id for m in post.media]))
    session.add(made)
    await session.flush()
    post.series_id, post.series_index = made.id, 0
    await audit.record_post(session, post, actor or post.author_user_id, audit.MODAL, "series started",
                            {"repeats": rule.describe()})
    return made


async def keep_media(session: AsyncSession, post_id: int) -> None:
    """Attachments that came in after the answer: the series' later occurrences carry them too. The caller
    commits."""
    post = await session.scalar(select(Post).options(selectinload(Post.media)).where(Post.id == post_id))
    if post is None or post.series_id is None:
        return
    found = await session.get(Series, post.series_id)
    if found is not None:
        found.content = {**found.content, "media_ids": [m.media_id for m in post.media]}


def new_series(post: Post, rule: Rule, content: dict) -> Series:
    """The series starting with `post` (its first occurrence, already accepted); approved at once unless the post
    waits for approval. The caller adds, flushes and ties the post (`post.series_id`)."""
    following = rule.after(post.scheduled_at)
    ended = rule.ended(1, following)
    return Series(workspace_id=post.workspace_id, author_user_id=post.author_user_id, channel_id=post.channel_id,
                  timezone=rule.timezone, frequency=rule.frequency, weekdays=list(rule.weekdays),
                  day_of_month=rule.day_of_month, time_of_day=f"{rule.time_of_day:%H:%M}",
                  ends_on=rule.ends_on.isoformat() if rule.ends_on else None, max_count=rule.max_count,
                  content=content, status=FINISHED if ended else ACTIVE, next_index=1,
                  next_at=None if ended else following,
                  approved=post.status is not PostStatus.PENDING_APPROVAL)


def _occurrence(series: Series, index: int, at: datetime) -> Post:
    """Occurrence `index` of the series, scheduled at `at` with its targets held until its status message exists
    (`submitting.release`)."""
    composition = occurrence_composition(composition_from(series.content), at, series.timezone)
    platforms = series.content.get("platforms") or {}
    post = Post(workspace_id=series.workspace_id, author_user_id=series.author_user_id, text=composition.text,
                first_comment=composition.first_comment, channel_id=series.channel_id, timezone=series.timezone,
                options=composition.options(), series_id=series.id, series_index=index, targets=[], media=[])
    for account_id in composition.account_ids:
        platform = platforms.get(str(account_id))
        if platform is None:
            continue
        settings = composition.settings_for(platform, account_id)  # a Pinterest account's own board included
        post.targets.append(PostTarget(account_id=account_id, variant_text=composition.variants.get(platform) or None,
                                       settings=to_json(settings)))
    for position, media_id in enumerate(series.content.get("media_ids") or []):
        post.media.append(PostMedia(media_id=media_id, position=position,
                                    alt_text=composition.alt_text(position)))
    schedule_targets(post, at)
    for target in post.targets:
        target.next_attempt_at = None  # held: released once its status message exists
    return post


# ---- topping up --------------------------------------------------------------------------------------

class SeriesTopUp:
    """Makes each active series' next occurrences, so `AHEAD` of them wait in the queue. `on_made(post_id)` runs
    after each is committed (its status message; then its targets are released)."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], clock: Callable[[], datetime] = utcnow,
                 on_made: Callable[[int], Awaitable[None]] | None = None):
        self.sessions, self.clock, self.on_made = sessions, clock, on_made

    async def tick(self) -> list[int]:
        now = self.clock()
        async with self.sessions() as session:
            series_ids = list(await session.scalars(select(Series.id).where(
                Series.status == ACTIVE, Series.next_at.is_not(None)).order_by(Series.next_at)))
        made: list[int] = []
        for series_id in series_ids:
            while (post_id := await self._make_next(series_id, now)) is not None:
                if post_id == MISSED:
                    continue
                made.append(post_id)
                if self.on_made is not None:
                    await self.on_made(post_id)
        return made

    async def _make_next(self, series_id: int, now: datetime) -> int | None:
        """The series' next occurrence, when fewer than AHEAD wait; MISSED when its time passed long ago (it was
        passed over); None when there is nothing to make (or another process made it)."""
        async with self.sessions() as session:
            series = await session.get(Series, series_id)
            if series is None or series.status != ACTIVE or series.next_at is None:
                return None
            if not series.approved:
                if not await _passed_review(session, series.id):
                    return None
                series.approved = True
            waiting = await session.scalar(select(func.count()).select_from(Post).where(
                Post.series_id == series.id, Post.status.in_(queue.QUEUED)))
            if waiting >= AHEAD:
                await session.commit()
                return None
            rule = Rule.of(series)
            index, at = series.next_index, series.next_at
            following = rule.after(at)
            ended = rule.ended(index + 1, following)
            claimed = await session.execute(
                update(Series).where(Series.id == series.id, Series.next_index == index, Series.status == ACTIVE)
                .values(next_index=index + 1, next_at=None if ended else following,
                        status=FINISHED if ended else ACTIVE, approved=True)
                .execution_options(synchronize_session=False))
            if claimed.rowcount != 1:  # another process made it, or the series was stopped meanwhile
                await session.rollback()
                return None
            if at < now - MISSED_AFTER:  # nothing ran when it was due: it is not sent hours late
                log.info("Series %s: occurrence %s at %s was missed; going on with the next", series.id, index, at)
                await session.commit()
                return MISSED
            post = _occurrence(series, index, at)
            session.add(post)
            try:
                await session.flush()
                await audit.record_post(session, post, audit.PICMIM, audit.JOB, "created",
                                        {"series": series.id, "occurrence": index + 1}, at=now)
                await audit.record_post(session, post, audit.PICMIM, audit.JOB, "scheduled",
                                        {"time (UTC)": f"{at:%Y-%m-%d %H:%M}"}, at=now)
                await session.commit()
            except IntegrityError:  # the same occurrence was made meanwhile: it exists once
                await session.rollback()
                return None
            return post.id


async def _passed_review(session: AsyncSession, series_id: int) -> bool:
    """Whether one of the series' occurrences was approved (it went on to the schedule)."""
    found = await session.scalar(select(func.count()).select_from(Post).where(
        Post.series_id == series_id, Post.status.in_((PostStatus.SCHEDULED, PostStatus.PUBLISHING,
                                                      PostStatus.PUBLISHED, PostStatus.FAILED))))
    return bool(found)


# ---- the queue's actions on a series ----------------------------------------------------------------------

async def series_of(session: AsyncSession, workspace_id: int, series_id: int) -> Series | None:
    return await session.scalar(select(Series).where(Series.id == series_id, Series.workspace_id == workspace_id))


async def stop(session: AsyncSession, series: Series, now: datetime, *, actor: str | None,
               why: str | None = None) -> list[int]:
    """End the series: no more occurrences are made, and those waiting are cancelled (one already being published
    goes on; `why` is said in each cancellation's audit entry). The posts cancelled. The caller commits."""
    # First, so a top-up under way in another process either finished before (its occurrence is cancelled below)
    # or finds the series stopped when it tries to claim the next one.
    await session.execute(update(Series).where(Series.id == series.id).values(status=STOPPED, next_at=None)
                          .execution_options(synchronize_session=False))
    series.status, series.next_at = STOPPED, None
    waiting = list(await session.scalars(select(Post).options(selectinload(Post.targets)).where(
        Post.series_id == series.id, Post.status.in_(queue.QUEUED)).order_by(Post.id)))
    cancelled = []
    for post in waiting:
        try:  # a refusal changes nothing (queue.lock_open checks before any change)
            await queue.cancel(session, post, now, actor=actor, source=audit.BUTTON if why is None else audit.MODAL,
                               why=why)
            cancelled.append(post.id)
        except queue.QueueError:
            continue  # the publisher has it already
    return cancelled


# ---- editing a series ---------------------------------------------------------------------------------

REPLACED = "replaced by the edited series"


async def replace(session: AsyncSession, old: Series, first: Post, rule: Rule, template: Composition,
                  cancelled: Sequence[int], *, editor: str, now: datetime) -> Series:
    """Edit series, once the old series is stopped (`stop(..., why=REPLACED)`, its waiting posts `cancelled`) and
    `first` created for its original author: the new series starting with `first`, named on the old one as what
    replaced it, and the edit in the audit trail under the editor's name. The caller commits."""
    made = await start(session, first, rule, template, actor=editor)
    old.replaced_by_id = made.id
    waiting = len(cancelled)
    said = (f"Replaces series {old.id}, now stopped ({waiting} waiting post{'s' if waiting != 1 else ''} "
            f"cancelled, each marked “{REPLACED}”): series {made.id} starts with this post. {rule.describe()}. "
            f"The author stays {old.author_user_id}" + ("." if editor == old.author_user_id else "; edited by "
                                                         f"{editor}."))
    await audit.record_post(session, first, editor, audit.MODAL, "series edited", said, at=now)
    return made


def repeat_of(found: Series, consumed: int = 0) -> Repeat:
    """The series' repetition as the window shows it; `consumed`: occurrences already gone (published, failed or
    skipped), left out of the number of times still to come."""
    times = max(1, found.max_count - consumed) if found.max_count is not None else None
    return Repeat(found.frequency, tuple(found.weekdays or ()),
                  date.fromisoformat(found.ends_on) if found.ends_on else None, times)


@dataclass(frozen=True)
class SeriesForEditing:
    series: Series
    composition: Composition  # with the time of the next waiting occurrence (or the next to be made)
    repeat: Repeat
    media: list[MediaItem]


async def for_editing(session: AsyncSession, workspace_id: int, series_id: int) -> SeriesForEditing | None:
    """An active series as the compose window shows it for Edit series."""
    found = await series_of(session, workspace_id, series_id)
    if found is None or found.status != ACTIVE:
        return None
    posts = list(await session.scalars(select(Post).where(Post.series_id == found.id)))
    waiting = sorted(p.scheduled_at for p in posts if p.status in queue.QUEUED and p.scheduled_at)
    composition = composition_from(found.content)
    composition.when, composition.schedule = (waiting[0] if waiting else found.next_at), True
    consumed = sum(1 for p in posts if p.status not in queue.QUEUED)
    return SeriesForEditing(found, composition, repeat_of(found, consumed), await media_of(session, found))


async def media_of(session: AsyncSession, found: Series) -> list[MediaItem]:
    """The series' attachments, in their order (those still stored)."""
    wanted = [i for i in found.content.get("media_ids") or [] if isinstance(i, int)]
    items = {m.id: m for m in await session.scalars(select(MediaItem).where(MediaItem.id.in_(wanted)))} \
        if wanted else {}
    return [items[i] for i in wanted if i in items]
