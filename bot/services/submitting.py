"""One submission of the compose modal, in one call: who may edit, the accounts and time, every chosen platform's
limits once the attachments are in, then the post created or edited and held until its status message exists
(`release`). Attachments that come in after Slack's answer was due are checked afterwards (`settle_late`).

Free of Slack: the handler reads the modal into a `Submission`, stores the attachments and shows what comes back.
"""

from __future__ import annotations

from collections.abc import Awaitable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import selectinload

from bot.media import renditions
from bot.media.store import facts as media_facts
from bot.platforms.base import Adapter
from bot.services import audit, queue, roles, series
from bot.services.composing import (
    ACCOUNTS,
    MEDIA,
    TEXT,
    WHEN,
    Composition,
    account_ref,
    accounts_by_id,
    attach_media,
    blocking,
    choices,
    composition_of,
    create_post,
    draft_for,
    draft_media,
    edit_post,
    form_problems,
    media_of,
    problems_by_field,
)
from bot.services.publishing import settle_post
from bot.storage.models import MediaItem, Post, PostStatus, PostTarget, Series, TargetStatus, Workspace


@dataclass(frozen=True)
class Submission:
    """A submitted compose modal, read by the handler: who, what, from where."""

    author: str
    author_is_admin: bool
    composition: Composition
    channel_id: str | None = None  # where the post's status message goes
    draft_id: int | None = None  # the draft it was opened from
    post_id: int | None = None  # the queued post it edits
    schedule_without_time: bool = False  # Schedule chosen, no time picked
    with_files: bool = False  # new attachments came with it
    access: roles.Access | None = None  # what the author may do where (None: everyone publishes everywhere)
    repeat: series.Repeat | None = None  # how the new post repeats (a series), if it does
    timezone: str | None = None  # the author's zone (a series' times are on its wall clock)
    series_id: int | None = None  # the series it edits: its waiting occurrences give way to the new ones


@dataclass(frozen=True)
class Attachments:
    """The submission's attachments once stored: their ids, or why they could not be; `late` when they were
    not in by the time the answer was due (they are checked after it: `check_late`)."""

    item_ids: tuple[int, ...] = ()
    error: str | None = None
    late: bool = False
    new_ids: tuple[int, ...] = ()  # those this submission stored first: a refused submission deletes them


@dataclass(frozen=True)
class Accepted:
    post_id: int
    edited: bool
    late_attachments: bool = False  # the answer went before the attachments were in: `settle_late` them
    cancelled: tuple[int, ...] = ()  # the occurrences an edited series cancelled (their messages to update)
    replaced_series: bool = False  # Edit series: the new post keeps the series author's zone, not the editor's


@dataclass(frozen=True)
class Refused:
    problems: dict[str, list[str]]  # by part of the form



async def submit(sessions: async_sessionmaker[AsyncSession], workspace: Workspace, adapters: Mapping[str, Adapter],
                 submission: Submission, attachments: Awaitable[Attachments], now: datetime) -> Accepted | Refused:
    """Check and accept a submitted modal in one call: who may edit, the accounts and time, then (once
    `attachments` are in) every platform's limits; the post created or edited, held until `release`, with
    its videos' optimisation requested. `attachments` is awaited only when the form itself is fine."""
    composition = submission.composition
    async with sessions() as session:
        offered = await choices(session, workspace.id, adapters)
        editing = await queue.queued_post(session, workspace.id, submission.post_id) if submission.post_id else None
    access = submission.access or roles.everyone(submission.author, submission.author_is_admin)
    if submission.post_id:
        if editing is None:
            return Refused({TEXT: [queue.GONE]})
        async with sessions() as session:
            was_to = await roles.post_accounts(session, editing.id)
        if not access.may_change_post(editing.author_user_id, was_to):
            return Refused({TEXT: [queue.NOT_YOURS]})
    replacing = None
    if submission.series_id:
        async with sessions() as session:
            replacing = await series.series_of(session, workspace.id, submission.series_id)
        if replacing is None or replacing.status != series.ACTIVE:
            return Refused({TEXT: [series.ENDED]})
        if not access.may_change_post(replacing.author_user_id, replacing.content.get("account_ids") or []):
            return Refused({TEXT: [queue.NOT_YOURS]})
        if submission.repeat is None:
            return Refused({series.REPEAT: [series.STOP_INSTEAD]})
    # Checked again here whatever the window offered: a forged or outdated choice names accounts it did not.
    names = {c.id: f"{c.platform_name} · {c.name}" for c in offered}
    barred = [a for a in composition.account_ids if a in names and not access.may_post(a)]
    if barred:
        return Refused({ACCOUNTS: [roles.refused_accounts(access.rules, names, barred)]})
    problems = form_problems(composition, offered, now, submission.schedule_without_time)
    repeat = submission.repeat if editing is None else None
    if repeat is not None and composition.when is None and WHEN not in problems:
        problems[WHEN] = ["A repeating post starts at a date and time: choose Schedule and pick its first time."]
    # An edited series stays on its author's wall clock and in their name, whoever edits it.
    timezone = replacing.timezone if replacing is not None else submission.timezone
    author = replacing.author_user_id if replacing is not None else submission.author
    problems |= series.problems(repeat, composition.when, timezone)
    if problems:
        return Refused(problems)
    template = composition  # what a series keeps; its first occurrence has its own date in {date}
    if repeat is not None:
        rule = series.rule_for(repeat, composition.when, timezone)
        composition = series.occurrence_composition(composition, rule.first_from(composition.when), timezone)
    needs_approval = access.needs_approval(composition.account_ids)
    if needs_approval or workspace.approval_required:
        if problem := roles.mixed_review(access.rules, composition.account_ids):
            return Refused({ACCOUNTS: [problem]})
        if needs_approval and not roles.reviewing(workspace, access.rules, composition.account_ids).approval_channel_id:
            return Refused({ACCOUNTS: [roles.NO_APPROVERS]})
    media = await attachments
    if media.error and not media.late:
        return Refused({MEDIA: [media.error]})
    async with sessions() as session:
        items: list[MediaItem] | None = None
        if not media.late:
            items = [await session.get(MediaItem, i) for i in media.item_ids]
            if editing is not None and not submission.with_files:  # an edit without new files keeps the post's own
                items = await media_of(session, editing.id)
            elif submission.draft_id and not submission.with_files:  # so does a post sent back to its drafts
                items = await draft_media(session, workspace.id, submission.author, submission.draft_id)
            elif replacing is not None and not submission.with_files:  # and an edited series
                items = await series.media_of(session, replacing)
            accounts = await accounts_by_id(session, workspace.id, composition.account_ids)
            facts = [media_facts(item, composition.alt_text(n)) for n, item in enumerate(items)]
            problems = problems_by_field(accounts, adapters, composition, facts)
            if problems:
                return Refused(problems)
        cancelled: list[int] = []
        if editing is not None:
            before = {"text": editing.text, "time (UTC)": _utc(editing.scheduled_at)}
            try:
                post = await edit_post(session, workspace, editing.id, composition, items, now, needs_approval)
            except queue.QueueError as exc:
                await session.rollback()
                return Refused({TEXT: [str(exc)]})
            after = {"text": post.text, "time (UTC)": _utc(post.scheduled_at)}
            await audit.record_post(session, post, submission.author, audit.MODAL, "edited",
                                    {"version": post.version, **audit.diff(before, after)}, at=now)
        else:
            old = await session.get(Series, replacing.id) if replacing is not None else None
            cancelled = await series.stop(session, old, now, actor=submission.author, why=series.REPLACED) \
                if old is not None else []
            post = await create_post(session, workspace, author, composition, items or [], submission.channel_id,
                                     timezone, now, submission.draft_id, needs_approval)
            if old is not None:
                await series.replace(session, old, post, rule, template, cancelled, editor=submission.author, now=now)
            elif repeat is not None:
                await series.start(session, post, rule, template)
            words = await audit.target_words(session, [t.id for t in post.targets])
            await audit.record_post(session, post, submission.author, audit.MODAL, "created",
                                    {"text": audit.short(post.text), "accounts": sorted(w for _, w in words.values())},
                                    at=now)
        await _audit_accepted(session, post, submission.author, now)
        accepted = Accepted(post.id, editing is not None, media.late, tuple(cancelled), replacing is not None)
        await renditions.request(session, post.id, adapters)  # videos start optimising at once
        await session.commit()
    return accepted


def _utc(when: datetime | None) -> str:
    return when.strftime("%Y-%m-%d %H:%M") if when else "now"


async def _audit_accepted(session: AsyncSession, post: Post, author: str, now: datetime) -> None:
    """Where an accepted post went: to its approvers, or into the schedule."""
    if post.status is PostStatus.PENDING_APPROVAL:
        await audit.record_post(session, post, author, audit.MODAL, "submitted for approval",
                                {"version": post.version}, at=now)
    elif post.status is PostStatus.SCHEDULED:
        await audit.record_post(session, post, author, audit.MODAL, "scheduled",
                                {"time (UTC)": _utc(post.scheduled_at)}, at=now)


async def settle_late(sessions: async_sessionmaker[AsyncSession], post_id: int, adapters: Mapping[str, Adapter],
                      attachments: Attachments, alt_texts: Sequence[str] = ()) -> bool:
    """Attachments that came in after the answer: attached and checked (`check_late`), their videos' optimisation
    requested. Whether the post's status message has something new to say."""
    async with sessions() as session:
        items = [await session.get(MediaItem, i) for i in attachments.item_ids]
        failed = await check_late(session, post_id, adapters, items, attachments.error, alt_texts)
        waiting = await renditions.request(session, post_id, adapters)
        await session.commit()
    return bool(failed or waiting)


async def set_timezone(session: AsyncSession, post_id: int, timezone: str | None) -> None:
    """The author's zone, read from Slack after the answer, for times said to them. The caller commits."""
    post = await session.get(Post, post_id)
    if post is not None and timezone:
        post.timezone = timezone


async def release(session: AsyncSession, post_id: int) -> None:
    """Make a created post's held targets due at its time. The caller commits."""
    post = await session.get(Post, post_id)
    if post is None or post.scheduled_at is None:
        return
    await session.execute(update(PostTarget).where(
        PostTarget.post_id == post_id, PostTarget.status == TargetStatus.SCHEDULED,
        PostTarget.next_attempt_at.is_(None)).values(next_attempt_at=post.scheduled_at)
        .execution_options(synchronize_session=False))


async def check_late(session: AsyncSession, post_id: int, adapters: Mapping[str, Adapter],
                     items: Sequence[MediaItem], media_error: str | None, alt_texts: Sequence[str] = ()) -> bool:
    """For a post accepted before its attachments were in: attach them and check each account again.
    A target its attachments do not fit fails with the reason (shown in the status message); the others
    are released. Returns whether anything failed. The caller commits."""
    post = await session.scalar(select(Post).options(selectinload(Post.targets), selectinload(Post.media))
                                .where(Post.id == post_id))
    attach_media(post, items, alt_texts)
    found = await accounts_by_id(session, post.workspace_id, [t.account_id for t in post.targets])
    composition = composition_of(post, found)
    facts = [media_facts(item, composition.alt_text(n)) for n, item in enumerate(items)]
    accounts = {a.id: a for a in found}
    failed = False
    for target in post.targets:
        account = accounts.get(target.account_id)
        adapter = adapters.get(account.platform) if account else None
        if media_error:
            reasons = [media_error]
        elif account is None or adapter is None:
            reasons = ["This account can no longer be published to."]
        else:
            reasons = [p.message for p in blocking(adapter.validate(account_ref(account, account.connection),
                                                                    draft_for(account, composition, facts)))]
        if reasons and target.status in (TargetStatus.SCHEDULED, TargetStatus.PENDING):
            target.status, target.error_kind = TargetStatus.FAILED, "rejected"
            target.last_error, target.next_attempt_at = " ".join(dict.fromkeys(reasons)), None
            failed = True
    await session.flush()
    if post.status is not PostStatus.PENDING_APPROVAL:
        await settle_post(session, post_id)
        await release(session, post_id)
    return failed
