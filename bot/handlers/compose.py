"""`/picmim post`, the "Post to social" message shortcut, the compose modal's submission and closing,
and `/picmim drafts`."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from datetime import UTC, datetime

from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError

from bot import ids
from bot.handlers import forms
from bot.handlers import queue as queue_handlers
from bot.handlers.attachments import store_files
from bot.messages import review_card
from bot.messages.post_status import update_post_message
from bot.payloads import ComposeOrigin
from bot.services import composing, submitting
from bot.services.composing import Composition
from bot.services.submitting import Accepted, Attachments, Submission
from bot.storage.models import MediaItem, Post, utcnow
from bot.views import compose as views

log = logging.getLogger(__name__)

# A view submission is answered within Slack's 3 seconds: attachments that are not in by then are
# checked after the answer, and what does not fit is reported in the post's status message.
SUBMIT_BUDGET = 2.5
ERROR_MAX = 1000  # characters per inline error: Slack shows a few lines under the input


def register(app: AsyncApp) -> None:
    app.shortcut(ids.COMPOSE_SHORTCUT)(shortcut)
    app.view(ids.COMPOSE_VIEW)(submitted)
    app.view_closed(ids.COMPOSE_VIEW)(closed)
    app.action(ids.DRAFT_OPEN)(open_draft_button)
    app.action(ids.QUEUE_EDIT)(edit_button)


# ---- opening -----------------------------------------------------------------------------------------


async def _open(client, runtime, db, workspace, trigger_id: str, composition: Composition, origin: ComposeOrigin,
                attached: Sequence[str] = ()) -> None:
    workspace_id = (await workspace()).id
    async with db() as session:
        offered = await composing.choices(session, workspace_id, runtime.adapters)
    if offered:
        view = views.compose_modal(offered, composition, origin.encode(), editing=bool(origin.post_id),
                                   attached=attached)
    else:
        view = views.nothing_connected_modal()
    try:
        await client.views_open(trigger_id=trigger_id, view=view)
    except SlackApiError as exc:
        log.warning("Could not open the compose modal: %s", exc.response.get("error"))


async def post_command(ack, args, command, client, runtime, db, workspace, **_) -> None:
    await ack()
    await _open(client, runtime, db, workspace, command.get("trigger_id"), Composition(text=args[:views.TEXT_MAX]),
                ComposeOrigin(channel_id=command.get("channel_id")))


async def shortcut(ack, shortcut, client, runtime, db, workspace) -> None:
    await ack()
    text = ((shortcut.get("message") or {}).get("text") or "")[:views.TEXT_MAX]
    channel_id = (shortcut.get("channel") or {}).get("id")
    await _open(client, runtime, db, workspace, shortcut["trigger_id"], Composition(text=text),
                ComposeOrigin(channel_id=channel_id))


async def open_draft_button(ack, body, context, client, respond, subject, runtime, db, workspace) -> None:
    await ack()
    if subject is None:
        return
    workspace_id = (await workspace()).id
    async with db() as session:
        composition = await composing.load_draft(session, workspace_id, context.user_id, subject.post_id)
        kept = await composing.draft_media(session, workspace_id, context.user_id, subject.post_id)
    if composition is None:
        await respond(response_type="ephemeral", replace_original=False,
                      text="This draft is gone: it was posted or deleted meanwhile.")
        return
    channel_id = (body.get("channel") or {}).get("id")
    await _open(client, runtime, db, workspace, body["trigger_id"], composition,
                ComposeOrigin(channel_id=channel_id, draft_id=subject.post_id), [item.filename for item in kept])


async def edit_button(ack, body, context, client, respond, subject, runtime, db, workspace, person) -> None:
    """Edit on a queued post (`/picmim queue`): the compose modal, filled with the post."""
    await ack()
    if subject is None:
        return
    workspace_id = (await workspace()).id
    async with db() as session:
        found = await composing.queued_composition(session, workspace_id, subject.post_id)
    if problem := await queue_handlers.refusal(found and found[0], context.user_id, person):
        await respond(response_type="ephemeral", replace_original=False, text=problem)
        return
    await open_edit(client, runtime, db, workspace, body["trigger_id"], found, body.get("response_url"))


async def open_edit(client, runtime, db, workspace, trigger_id: str,
                    found: tuple[Post, Composition, list[MediaItem]], response_url: str | None = None) -> None:
    """The compose modal on a queued post (from `/picmim queue`, or Edit on its review card)."""
    post, composition, items = found
    await _open(client, runtime, db, workspace, trigger_id, composition,
                ComposeOrigin(channel_id=post.channel_id, post_id=post.id, response_url=response_url),
                [item.filename for item in items])


async def drafts_command(ack, context, respond, db, workspace, person, **_) -> None:
    await ack()
    workspace_id = (await workspace()).id
    async with db() as session:
        drafts = await composing.list_drafts(session, workspace_id, context.user_id)
    await respond(response_type="ephemeral", replace_original=False, text="Your drafts",
                  blocks=views.drafts_list(drafts, (await person()).tz))


# ---- reading the modal -------------------------------------------------------------------------------


def read(view: dict) -> tuple[Composition, list[dict], bool]:
    """The composition, the submitted files, and whether Schedule was chosen without a time."""
    values = forms.values_of(view)
    text = forms.field(values, ids.COMPOSE_TEXT_BLOCK, ids.COMPOSE_TEXT_INPUT).get("value") or ""
    selected = forms.field(values, ids.COMPOSE_ACCOUNTS_BLOCK, ids.COMPOSE_ACCOUNTS_INPUT).get("selected_options") or []
    account_ids = [int(o["value"]) for o in selected if str(o.get("value", "")).isdigit()]
    variants = {}
    for block_id, inputs in values.items():
        if block_id.startswith(ids.COMPOSE_VARIANT_BLOCK):
            value = ((inputs.get(ids.COMPOSE_VARIANT_INPUT) or {}).get("value") or "").strip()
            if value:
                variants[block_id.removeprefix(ids.COMPOSE_VARIANT_BLOCK)] = value
    comment = (forms.field(values, ids.COMPOSE_COMMENT_BLOCK, ids.COMPOSE_COMMENT_INPUT).get("value") or "").strip()
    when_choice = (forms.field(values, ids.COMPOSE_WHEN_BLOCK, ids.COMPOSE_WHEN_INPUT).get("selected_option")
                   or {}).get("value", views.NOW)
    stamp = forms.field(values, ids.COMPOSE_AT_BLOCK, ids.COMPOSE_AT_INPUT).get("selected_date_time")
    when = datetime.fromtimestamp(int(stamp), UTC) if stamp and when_choice == views.SCHEDULE else None
    files = forms.field(values, ids.COMPOSE_MEDIA_BLOCK, ids.COMPOSE_MEDIA_INPUT).get("files") or []
    composition = Composition(text=text, account_ids=account_ids, variants=variants, first_comment=comment or None,
                              when=when)
    _read_video_choices(values, composition)
    return composition, files, when_choice == views.SCHEDULE and not stamp


def _read_video_choices(values: dict, composition: Composition) -> None:
    """Optimise / cut, the cover time and TikTok's privacy level; anything malformed is the default."""
    boxes = forms.field(values, ids.COMPOSE_VIDEO_BLOCK, ids.COMPOSE_VIDEO_INPUT)
    if isinstance(boxes.get("selected_options"), list):  # absent: a modal without the boxes, so the defaults
        ticked = {o.get("value") for o in boxes["selected_options"] if isinstance(o, dict)}
        composition.optimise_video, composition.trim_video = views.OPTIMISE in ticked, views.TRIM in ticked
    cover = forms.field(values, ids.COMPOSE_COVER_BLOCK, ids.COMPOSE_COVER_INPUT).get("value")
    try:
        seconds = float(cover) if cover not in (None, "") else None
    except (TypeError, ValueError):
        seconds = None
    if seconds is not None and 0 <= seconds <= 24 * 3600:  # also refuses nan and inf
        composition.cover_seconds = seconds
    privacy = (forms.field(values, ids.COMPOSE_TIKTOK_PRIVACY_BLOCK, ids.COMPOSE_TIKTOK_PRIVACY_INPUT)
               .get("selected_option") or {}).get("value")
    if privacy in dict(views.TIKTOK_PRIVACY):
        composition.privacy_level = privacy


def block_errors(problems: dict[str, list[str]]) -> dict[str, str]:
    """Problems keyed by form part, as Slack's inline errors keyed by block."""
    blocks = {composing.TEXT: ids.COMPOSE_TEXT_BLOCK, composing.MEDIA: ids.COMPOSE_MEDIA_BLOCK,
              composing.FIRST_COMMENT: ids.COMPOSE_COMMENT_BLOCK, composing.ACCOUNTS: ids.COMPOSE_ACCOUNTS_BLOCK,
              composing.WHEN: ids.COMPOSE_AT_BLOCK, composing.COVER: ids.COMPOSE_COVER_BLOCK,
              composing.PRIVACY: ids.COMPOSE_TIKTOK_PRIVACY_BLOCK}
    errors: dict[str, str] = {}
    for key, messages in problems.items():
        block_id = blocks.get(key) or ids.COMPOSE_VARIANT_BLOCK + key.removeprefix("variant:")
        joined = " ".join(dict.fromkeys(messages))
        errors[block_id] = joined if len(joined) <= ERROR_MAX else joined[:ERROR_MAX - 1] + "…"
    return errors


# ---- submitting ----------------------------------------------------------------------------------------


async def _within(task: asyncio.Task, seconds: float) -> Attachments:
    """The stored attachments, or `late` when they are not in within `seconds` (the task goes on)."""
    done, _ = await asyncio.wait({task}, timeout=max(0.0, seconds))
    return task.result() if done else Attachments(late=True)


async def submitted(ack, view, context, client, subject, runtime, db, workspace, person) -> None:
    started = time.monotonic()
    composition, files, schedule_without_time = read(view)
    origin = subject or ComposeOrigin()
    here = await workspace()
    fetching: asyncio.Task | None = None

    async def attachments() -> Attachments:
        nonlocal fetching
        bot_token = context.bot_token or context.get("token") or ""
        fetching = asyncio.create_task(store_files(runtime, db, here.id, files, bot_token))
        return await _within(fetching, SUBMIT_BUDGET - (time.monotonic() - started))

    submission = Submission(
        author=context.user_id, author_is_admin=bool(origin.post_id) and (await person()).is_admin,
        composition=composition, channel_id=origin.channel_id, draft_id=origin.draft_id, post_id=origin.post_id,
        schedule_without_time=schedule_without_time, with_files=bool(files))
    outcome = await submitting.submit(runtime.sessions, here, runtime.adapters, submission, attachments(), utcnow())
    if not isinstance(outcome, Accepted):
        await ack(response_action="errors", errors=block_errors(outcome.problems))
        return
    await ack()
    await _after_accept(runtime, db, person, outcome, fetching)
    if outcome.edited and origin.response_url:
        await queue_handlers.show_at(db, workspace, person, context.user_id, origin.response_url,
                                     "Saved: the post's status message shows it.")


async def _after_accept(runtime, db, person, accepted: Accepted, fetching: asyncio.Task | None) -> None:
    """After the answer: the author's zone, the status message, late attachments, the review card; then the
    post's targets are released to the publisher, whatever happened."""
    post_id = accepted.post_id
    try:
        if not accepted.edited:
            timezone = (await person()).tz
            async with db() as session:
                await submitting.set_timezone(session, post_id, timezone)
        await update_post_message(runtime, post_id)
        if accepted.late_attachments and fetching is not None:
            if await submitting.settle_late(runtime.sessions, post_id, runtime.adapters, await fetching):
                await update_post_message(runtime, post_id)
        await review_card.send_for_review(runtime, post_id)  # a post that needs approval, or an edit
    finally:
        async with db() as session:
            await submitting.release(session, post_id)


# ---- closing -------------------------------------------------------------------------------------------


async def closed(ack, view, context, subject, runtime, db, workspace) -> None:
    await ack()
    composition, _files, _ = read(view)
    origin = subject or ComposeOrigin()
    if origin.post_id:  # closing an edit keeps the queued post as it was
        return
    workspace_id = (await workspace()).id
    async with db() as session:
        offered = {c.id for c in await composing.choices(session, workspace_id, runtime.adapters)}
        composition.account_ids = [i for i in composition.account_ids if i in offered]
        await composing.save_draft(session, workspace_id, context.user_id, composition, origin.channel_id,
                                   origin.draft_id)


SUBCOMMANDS = {"post": post_command, "drafts": drafts_command}
