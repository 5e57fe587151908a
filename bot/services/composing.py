"""Composing a post: the accounts one may post to, the draft each account would receive, what stops it
(keyed by the part of the form to fix), creating and scheduling the post, and keeping drafts.

Free of Slack: the handlers read the modal into a `Composition` and show what comes back.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import inspect, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from bot.platforms import registry
from bot.platforms.base import AccountRef, Adapter, Draft, MediaFacts, Problem
from bot.platforms.settings import (
    SETTING_FIELDS,
    PinterestSettings,
    PlatformSettings,
    default_settings,
    draft_parts,
    settings_from_json,
    to_json,
)
from bot.platforms.validation import COVER_MS, OPTIMISE_VIDEO, TRIM_VIDEO, count_text, human_duration
from bot.services import queue
from bot.services.publishing import schedule_targets
from bot.storage.models import (
    Account,
    Connection,
    ConnectionStatus,
    MediaItem,
    Post,
    PostMedia,
    PostStatus,
    PostTarget,
    TargetStatus,
    Workspace,
)

LIVE_CONNECTIONS = (ConnectionStatus.ACTIVE, ConnectionStatus.EXPIRING)
PAST_TOLERANCE = timedelta(minutes=1)  # the picker has minutes only: "this minute" still means now
MAX_DRAFTS_LISTED = 40

# The parts of the form a problem can be shown beside.
TEXT, MEDIA, FIRST_COMMENT, ACCOUNTS, WHEN = "text", "media", "first_comment", "accounts", "when"
COVER = "cover"  # the video cover time
# The post options the modal sets (Post.options, and each Draft's options).
VIDEO_OPTIONS = (OPTIMISE_VIDEO, TRIM_VIDEO, COVER_MS)
# A draft's Repeat choices, kept in its options (as bot/services/series.py writes them) until the draft is sent:
# they are the window's, never a platform's.
KEPT_REPEAT = "repeat"


def variant_field(platform: str) -> str:
    return f"variant:{platform}"


def setting_field(platform: str, name: str) -> str:
    """A platform's own setting (title, privacy…), as the form shows it in that platform's part."""
    return f"setting:{platform}:{name}"


def board_field(account_id: int) -> str:
    return f"board:{account_id}"


def alt_field(position: int) -> str:
    return f"alt:{position}"


@dataclass(frozen=True)
class Choice:
    """An account one may post to, as the modal's select offers it."""

    id: int
    platform: str
    platform_name: str
    name: str
    handle: str | None = None
    kind: str = ""  # profile, page, company, board…
    # What the platform said about the account when it was synced: Pinterest's boards, TikTok's creator choices…
    settings: Mapping[str, Any] = field(default_factory=dict, compare=False)


@dataclass
class Composition:
    """What the modal holds (or a draft keeps)."""

    text: str = ""
    account_ids: list[int] = field(default_factory=list)
    variants: dict[str, str] = field(default_factory=dict)  # platform key -> its own text
    first_comment: str | None = None
    when: datetime | None = None  # UTC; None = now
    schedule: bool = False  # Schedule is chosen (its time may not be picked yet)
    optimise_video: bool = True  # make a copy of each video that fits each platform (bot.media.renditions)
    trim_video: bool = False  # cut a video too long for a platform to that platform's limit
    cover_seconds: float | None = None  # the video's cover frame (None: the first second)
    settings: dict[str, PlatformSettings] = field(default_factory=dict)  # platform key -> its own choices
    boards: dict[int, str] = field(default_factory=dict)  # Pinterest account id -> the board its pin goes to
    alt_texts: list[str] = field(default_factory=list)  # per picture, in order ("" for none)

    @property
    def empty(self) -> bool:
        return not (self.text.strip() or self.account_ids or self.first_comment or any(self.variants.values()))

    def options(self) -> dict:
        """What the post keeps in `Post.options` and each platform's draft reads."""
        found: dict = {OPTIMISE_VIDEO: self.optimise_video, TRIM_VIDEO: self.trim_video}
        if self.cover_seconds is not None:
            found[COVER_MS] = round(self.cover_seconds * 1000)
        return found

    def settings_for(self, platform: str, account_id: int | None = None) -> PlatformSettings | None:
        """The platform's choices for one of its accounts (a Pinterest account's own board)."""
        chosen = self.settings.get(platform) or default_settings(platform)
        if isinstance(chosen, PinterestSettings) and account_id in self.boards:
            chosen = dataclasses.replace(chosen, board_id=self.boards[account_id])
        return chosen

    def alt_text(self, position: int) -> str | None:
        return (self.alt_texts[position].strip() or None) if position < len(self.alt_texts) else None


# ---- accounts ----------------------------------------------------------------------------------------


def _platform_order(key: str) -> int:
    keys = [p.key for p in registry.PLATFORMS]
    return keys.index(key) if key in keys else len(keys)


async def choices(session: AsyncSession, workspace_id: int, adapters: Mapping[str, Adapter]) -> list[Choice]:
    """The workspace's managed accounts whose connection works, on platforms set up on this install."""
    rows = await session.scalars(
        select(Account).join(Connection, Account.connection_id == Connection.id)
        .where(Account.workspace_id == workspace_id, Account.active.is_(True),
               Connection.status.in_(LIVE_CONNECTIONS), Connection.access_token.is_not(None))
        .order_by(Account.name, Account.id))
    found = [Choice(a.id, a.platform, _platform_name(a.platform), a.name, a.handle, a.kind, dict(a.settings or {}))
             for a in rows if a.platform in adapters]
    return sorted(found, key=lambda c: _platform_order(c.platform))


def _platform_name(key: str) -> str:
    info = registry.get(key)
    return info.name if info else key


def platforms_of(found: Iterable[Choice]) -> list[tuple[str, str]]:
    """(key, name) of each platform among the choices, in the registry's order."""
    return list(dict.fromkeys((c.platform, c.platform_name) for c in found))


# ---- checking --------------------------------------------------------------------------------------


def form_problems(composition: Composition, offered: Sequence[Choice], now: datetime,
                  schedule_without_time: bool = False) -> dict[str, list[str]]:
    """What is wrong before any platform is asked: the choice of accounts and the time."""
    problems: dict[str, list[str]] = {}
    ids = {c.id for c in offered}
    if not composition.account_ids:
        problems[ACCOUNTS] = ["Choose at least one account."]
    elif any(i not in ids for i in composition.account_ids):
        problems[ACCOUNTS] = ["An account you chose is no longer connected: choose again, or reconnect it with "
                              "`/picmim accounts`."]
    if schedule_without_time:
        problems[WHEN] = ["Pick the date and time to publish, or choose Now."]
    elif composition.when is not None and composition.when < now - PAST_TOLERANCE:
        problems[WHEN] = ["This time is in the past: pick a later one, or choose Now."]
    return problems


def draft_for(account: Account, composition: Composition, media: Sequence[MediaFacts] = ()) -> Draft:
    """What this account would receive: its platform's text variant when one was given, and its own settings."""
    variant = composition.variants.get(account.platform)
    chosen = composition.settings_for(account.platform, account.id)
    return Draft(text=variant if variant else composition.text, media=tuple(media),
                 first_comment=composition.first_comment or None, options=composition.options(),
                 settings=chosen, **draft_parts(chosen))


def thread_preview(platform: str, composition: Composition) -> list[str]:
    """The parts the platform's text makes as a thread (its adapter cuts them), for the window's preview."""
    from bot.platforms import bluesky, x  # only these two send threads

    cut = {"x": x.thread_texts, "bluesky": bluesky.thread_texts}.get(platform)
    if cut is None:
        return []
    chosen = composition.settings_for(platform)
    return cut(Draft(text=composition.variants.get(platform) or composition.text, settings=chosen,
                     **draft_parts(chosen)))


def account_ref(account: Account, connection: Connection | None) -> AccountRef:
    from bot.services.connections import token_set

    extra = dict(token_set(connection).extra) if connection is not None and connection.access_token else {}
    user_token = connection.access_token if connection is not None else None
    return AccountRef(platform=account.platform, external_id=account.external_id, kind=account.kind,
                      name=account.name, user_token=user_token, token=account.access_token,
                      handle=account.handle, settings=dict(account.settings or {}), extra=extra)


async def accounts_by_id(session: AsyncSession, workspace_id: int, account_ids: Sequence[int]) -> list[Account]:
    rows = await session.scalars(select(Account).options(selectinload(Account.connection))
                                 .where(Account.workspace_id == workspace_id, Account.id.in_(list(account_ids))))
    by_id = {a.id: a for a in rows}
    return [by_id[i] for i in account_ids if i in by_id]


def problems_by_field(accounts: Sequence[Account], adapters: Mapping[str, Adapter], composition: Composition,
                      media: Sequence[MediaFacts] = ()) -> dict[str, list[str]]:
    """Every problem no conversion fixes, per part of the form (a text problem goes beside the platform's
    variant when it has one), each sentence once. When something must be fixed, what Picmim will do to the
    videos is said beside the attachments too, so the whole picture is in one place."""
    found: dict[str, list[str]] = {}
    notes: list[str] = []
    for account in accounts:
        adapter = adapters.get(account.platform)
        if adapter is None:
            found.setdefault(ACCOUNTS, []).append(f"{_platform_name(account.platform)} is not set up on this "
                                                  "install any more; ask the app's admin.")
            continue
        for problem in adapter.validate(account_ref(account, account.connection),
                                        draft_for(account, composition, media)):
            if problem.fixable:
                if problem.kind == "video" and problem.message not in notes:
                    notes.append(problem.message)
                continue
            for key in _fields_of(problem, account, adapter, composition, media):
                if problem.message not in found.get(key, []):
                    found.setdefault(key, []).append(problem.message)
    late = _cover_problem(composition, media)
    if late:
        found.setdefault(COVER, []).append(late)
    if found and notes:
        found.setdefault(MEDIA, []).extend(notes)
    return found


def _cover_problem(composition: Composition, media: Sequence[MediaFacts]) -> str | None:
    if composition.cover_seconds is None:
        return None
    for m in media:
        if m.kind == "video" and m.duration is not None and composition.cover_seconds > m.duration:
            return (f"The cover time ({human_duration(composition.cover_seconds)}) is after the end of "
                    f"{m.filename or 'the video'} ({human_duration(m.duration)}): pick an earlier time.")
    return None


def blocking(problems: Iterable[Problem]) -> list[Problem]:
    return [p for p in problems if not p.fixable]


def _fields_of(problem: Problem, account: Account, adapter: Adapter, composition: Composition,
               media: Sequence[MediaFacts]) -> list[str]:
    """The parts of the form a platform's problem is shown beside."""
    platform = account.platform
    if problem.field in (MEDIA, FIRST_COMMENT):
        return [problem.field]
    if problem.field == "alt_text":  # beside each picture whose alt text is too long for this platform
        limit = next((t for t in adapter.limits.texts if t.field == "alt_text"), None)
        over = [i for i, m in enumerate(media) if limit and m.alt_text and count_text(m.alt_text, limit.counting)
                > limit.max]
        return [alt_field(i) for i in over] or [MEDIA]
    if problem.field == "board_id":
        return [board_field(account.id)]
    if problem.field in SETTING_FIELDS.get(platform, ()):
        return [setting_field(platform, problem.field)]
    return [variant_field(platform) if composition.variants.get(platform) else TEXT]


# ---- posts -----------------------------------------------------------------------------------------


async def _owned_draft(session: AsyncSession, workspace_id: int, author: str, draft_id: int | None) -> Post | None:
    if not draft_id:
        return None
    return await session.scalar(select(Post).options(selectinload(Post.targets), selectinload(Post.media))
                                .where(Post.id == draft_id, Post.workspace_id == workspace_id,
                                       Post.author_user_id == author, Post.status == PostStatus.DRAFT))


async def _fill(session: AsyncSession, workspace_id: int, author: str, composition: Composition,
                channel_id: str | None, draft_id: int | None) -> Post:
    """The draft being finished (when it is still one) or a new post, holding the composition."""
    post = await _owned_draft(session, workspace_id, author, draft_id)
    if post is None:
        post = Post(workspace_id=workspace_id, author_user_id=author, status=PostStatus.DRAFT, targets=[], media=[],
                    options={})
        session.add(post)
    await _apply(session, post, composition, channel_id)
    return post


async def _apply(session: AsyncSession, post: Post, composition: Composition, channel_id: str | None) -> None:
    """Put the composition into the post: text, time, and one target per chosen account (kept targets keep
    their rows, targets of accounts no longer chosen go)."""
    post.text, post.first_comment = composition.text, composition.first_comment or None
    post.channel_id = channel_id or post.channel_id
    options = {k: v for k, v in (post.options or {}).items() if k not in (*VIDEO_OPTIONS, KEPT_REPEAT)}
    post.options = options | composition.options()  # a new dict: the JSON column sees the change
    post.scheduled_at = composition.when
    accounts = await accounts_by_id(session, post.workspace_id, composition.account_ids)
    existing = {t.account_id: t for t in post.targets}
    kept = []
    for account in accounts:
        target = existing.get(account.id) or PostTarget(account_id=account.id)
        target.variant_text = composition.variants.get(account.platform) or None
        target.settings = to_json(composition.settings_for(account.platform, account.id))
        kept.append(target)
    post.targets = kept


def attach_media(post: Post, items: Sequence[MediaItem], alt_texts: Sequence[str | None] = ()) -> None:
    """The post's attachments in order, each with its alt text (a kept attachment keeps its own unless a new
    one is given)."""
    existing = {m.media_id: m for m in post.media}
    rows = []
    for position, item in enumerate(dict.fromkeys(items)):
        row = existing.get(item.id) or PostMedia(media_id=item.id)
        row.position = position
        if position < len(alt_texts) and alt_texts[position] is not None:
            row.alt_text = alt_texts[position] or None
        rows.append(row)
    post.media = rows


async def create_post(session: AsyncSession, workspace: Workspace, author: str, composition: Composition,
                      items: Sequence[MediaItem], channel_id: str | None, timezone: str | None, now: datetime,
                      draft_id: int | None = None, needs_approval: bool = False) -> Post:
    """The accepted post: waiting for approval when the workspace wants it, else scheduled for its time
    (now when none). Its targets are held (not yet due) until `release` — so its status message exists
    before the publisher can change it. The caller commits."""
    post = await _fill(session, workspace.id, author, composition, channel_id, draft_id)
    if post.review_ts:  # a draft that was sent back from review: a new version, reviewed afresh
        post.version = (post.version or 1) + 1
    post.timezone = timezone or post.timezone
    attach_media(post, items, composition.alt_texts)
    _accept(post, workspace, composition, now, needs_approval)
    await session.flush()
    return post


async def edit_post(session: AsyncSession, workspace: Workspace, post_id: int, composition: Composition,
                    items: Sequence[MediaItem] | None, now: datetime, needs_approval: bool = False) -> Post:
    """Put an edited composition into a queued post (its attachments replaced by `items` unless None) and
    accept it again: an edit needs approval again where approval is required. Raises QueueError when the
    post left the queue or the publisher claimed it meanwhile. Held until `release`; the caller commits."""
    post = await queue.queued_post(session, workspace.id, post_id)
    if post is None:
        raise queue.QueueError(queue.GONE)
    await queue.lock_open(session, post, now)
    post = await session.scalar(select(Post).options(selectinload(Post.targets), selectinload(Post.media))
                                .where(Post.id == post_id).execution_options(populate_existing=True))
    await _apply(session, post, composition, None)
    if items is not None:
        attach_media(post, items, composition.alt_texts)
    post.version = (post.version or 1) + 1
    _accept(post, workspace, composition, now, needs_approval)
    await session.flush()
    return post


def _accept(post: Post, workspace: Workspace, composition: Composition, now: datetime,
            needs_approval: bool = False) -> None:
    """`needs_approval`: approval whatever the workspace setting (a contributor's post: bot/services/roles.py)."""
    when = composition.when if composition.when and composition.when > now else now
    if workspace.approval_required or needs_approval:
        post.status, post.scheduled_at = PostStatus.PENDING_APPROVAL, composition.when
        # Reminders count from the latest submission (an edit starts the review again).
        post.submitted_at, post.reminders_sent, post.reminded_at = now, 0, None
        for target in post.targets:
            if target.status in (None, TargetStatus.SCHEDULED):
                target.status = TargetStatus.PENDING
            target.next_attempt_at = None
    else:
        schedule_targets(post, when)
        for target in post.targets:
            target.next_attempt_at = None  # held: see `release`


async def queued_composition(session: AsyncSession, workspace_id: int, post_id: int
                             ) -> tuple[Post, Composition, list[MediaItem]] | None:
    """A queued post as the compose modal shows it for editing, with its attachments."""
    post = await session.scalar(select(Post).options(selectinload(Post.targets), selectinload(Post.media))
                                .where(Post.id == post_id, Post.workspace_id == workspace_id,
                                       Post.status.in_(queue.QUEUED)))
    if post is None:
        return None
    accounts = await accounts_by_id(session, workspace_id, [t.account_id for t in post.targets
                                                            if t.status is not TargetStatus.CANCELLED])
    return post, composition_of(post, accounts), await media_of(session, post.id)


async def media_of(session: AsyncSession, post_id: int) -> list[MediaItem]:
    """The post's attachments, in their order."""
    return list(await session.scalars(select(MediaItem).join(PostMedia, PostMedia.media_id == MediaItem.id)
                                      .where(PostMedia.post_id == post_id).order_by(PostMedia.position)))


async def draft_media(session: AsyncSession, workspace_id: int, author: str, draft_id: int) -> list[MediaItem]:
    """The attachments a draft still has (a post sent back from review keeps them; other drafts have none)."""
    if await _owned_draft(session, workspace_id, author, draft_id) is None:
        return []
    return await media_of(session, draft_id)


def composition_of(post: Post, accounts: Sequence[Account]) -> Composition:
    platform = {a.id: a.platform for a in accounts}
    variants: dict[str, str] = {}
    chosen: dict[str, PlatformSettings] = {}
    boards: dict[int, str] = {}
    for target in post.targets:
        key = platform.get(target.account_id)
        if key is None:
            continue
        if target.variant_text:
            variants.setdefault(key, target.variant_text)
        kept = settings_from_json(key, target.settings)
        if kept is not None:
            chosen.setdefault(key, kept)
            if isinstance(kept, PinterestSettings) and kept.board_id:
                boards[target.account_id] = kept.board_id
    options = post.options or {}
    cover = options.get(COVER_MS)
    return Composition(text=post.text or "", account_ids=[t.account_id for t in post.targets
                                                          if t.status is not TargetStatus.CANCELLED],
                       variants=variants, first_comment=post.first_comment, when=post.scheduled_at,
                       optimise_video=options.get(OPTIMISE_VIDEO, True) is not False,
                       trim_video=bool(options.get(TRIM_VIDEO)),
                       cover_seconds=cover / 1000 if isinstance(cover, int | float) else None,
                       settings=chosen, boards=boards, alt_texts=_alt_texts(post))


def _alt_texts(post: Post) -> list[str]:
    """The alt text of each attachment, when the post's attachments were loaded with it (a card or a status
    message reads a post without them)."""
    if "media" in inspect(post).unloaded:
        return []
    return [m.alt_text or "" for m in post.media]


# ---- drafts ----------------------------------------------------------------------------------------


async def save_draft(session: AsyncSession, workspace_id: int, author: str, composition: Composition,
                     channel_id: str | None, draft_id: int | None = None,
                     repeat: Mapping[str, Any] | None = None) -> Post | None:
    """Keep what a closed modal held, its Repeat choices (`repeat`, as JSON) included (attachments are not kept:
    Slack's files are not fetched for a modal that was closed). Nothing is kept for an empty modal. The caller
    commits."""
    if composition.empty and not draft_id:
        return None
    post = await _fill(session, workspace_id, author, composition, channel_id, draft_id)
    if repeat:
        post.options = {**post.options, KEPT_REPEAT: dict(repeat)}
    await session.flush()
    return post


@dataclass(frozen=True)
class DraftSummary:
    id: int
    text: str
    accounts: tuple[str, ...]
    updated_at: datetime
    scheduled_at: datetime | None = None  # the time picked, if any (UTC)
    kept_repeat: Mapping[str, Any] | None = None  # its Repeat choices (JSON, for bot/services/series.py)


async def list_drafts(session: AsyncSession, workspace_id: int, author: str,
                      limit: int = MAX_DRAFTS_LISTED) -> list[DraftSummary]:
    posts = await session.scalars(select(Post).options(selectinload(Post.targets))
                                  .where(Post.workspace_id == workspace_id, Post.author_user_id == author,
                                         Post.status == PostStatus.DRAFT)
                                  .order_by(Post.updated_at.desc(), Post.id.desc()).limit(limit))
    posts = list(posts)
    account_ids = {t.account_id for p in posts for t in p.targets}
    names = dict((await session.execute(select(Account.id, Account.name).where(Account.id.in_(account_ids)))).all()
                 ) if account_ids else {}
    return [DraftSummary(p.id, p.text or "", tuple(names.get(t.account_id, "?") for t in p.targets),
                         p.updated_at or p.created_at, p.scheduled_at, (p.options or {}).get(KEPT_REPEAT))
            for p in posts]


async def load_draft(session: AsyncSession, workspace_id: int, author: str, draft_id: int) -> Composition | None:
    found = await load_draft_with_repeat(session, workspace_id, author, draft_id)
    return found[0] if found else None


async def load_draft_with_repeat(session: AsyncSession, workspace_id: int, author: str, draft_id: int
                                 ) -> tuple[Composition, dict[str, Any] | None] | None:
    """The draft as the window shows it, and the Repeat choices it kept (JSON, for bot/services/series.py)."""
    post = await _owned_draft(session, workspace_id, author, draft_id)
    if post is None:
        return None
    accounts = await accounts_by_id(session, workspace_id, [t.account_id for t in post.targets])
    kept = (post.options or {}).get(KEPT_REPEAT)
    return composition_of(post, accounts), kept if isinstance(kept, dict) else None
