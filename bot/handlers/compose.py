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
from bot.handlers import approvals as approval_handlers
from bot.handlers import queue as queue_handlers
from bot.handlers.people import person
from bot.handlers.posts import update_post_message
from bot.media import renditions
from bot.media.errors import MediaError
from bot.media.store import MediaStore, download_slack_file
from bot.media.store import facts as media_facts
from bot.services import composing, queue
from bot.services.composing import Composition, ModalContext
from bot.services.queue import NOT_YOURS, QueueError
from bot.services.workspaces import ensure_workspace
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


async def _open(runtime, context, client, trigger_id: str, composition: Composition, where: ModalContext,
                attached: Sequence[str] = ()) -> None:
    async with runtime.sessions() as session:
        workspace = await ensure_workspace(session, context.team_id, context.enterprise_id)
        offered = await composing.choices(session, workspace.id, runtime.adapters)
        await session.commit()
    if offered:
        view = views.compose_modal(offered, composition, composing.metadata(where), editing=bool(where.post_id),
                                   attached=attached)
    else:
        view = views.nothing_connected_modal()
    try:
        await client.views_open(trigger_id=trigger_id, view=view)
    except SlackApiError as exc:
        log.warning("Could not open the compose modal: %s", exc.response.get("error"))


async def post_command(ack, args, command, context, client, **_) -> None:
    await ack()
    await _open(context["runtime"], context, client, command.get("trigger_id"),
                Composition(text=args[:views.TEXT_MAX]), ModalContext(channel_id=command.get("channel_id")))


async def shortcut(ack, shortcut, context, client) -> None:
    await ack()
    text = ((shortcut.get("message") or {}).get("text") or "")[:views.TEXT_MAX]
    channel_id = (shortcut.get("channel") or {}).get("id")
    await _open(context["runtime"], context, client, shortcut["trigger_id"], Composition(text=text),
                ModalContext(channel_id=channel_id))


async def open_draft_button(ack, body, action, context, client, respond) -> None:
    await ack()
    runtime = context["runtime"]
    try:
        draft_id = int(action.get("value") or "")
    except ValueError:
        return
    async with runtime.sessions() as session:
        workspace = await ensure_workspace(session, context.team_id, context.enterprise_id)
        composition = await composing.load_draft(session, workspace.id, context.user_id, draft_id)
        kept = await composing.draft_media(session, workspace.id, context.user_id, draft_id)
        await session.commit()
    if composition is None:
        await respond(response_type="ephemeral", replace_original=False,
                      text="This draft is gone: it was posted or deleted meanwhile.")
        return
    channel_id = (body.get("channel") or {}).get("id")
    await _open(runtime, context, client, body["trigger_id"], composition,
                ModalContext(channel_id=channel_id, draft_id=draft_id), [item.filename for item in kept])


async def _may_edit(client, author: str, user_id: str) -> bool:
    return author == user_id or (await person(client, user_id)).is_admin


async def edit_button(ack, body, action, context, client, respond) -> None:
    """Edit on a queued post (`/picmim queue`): the compose modal, filled with the post."""
    await ack()
    runtime = context["runtime"]
    try:
        post_id = int(action.get("value") or "")
    except ValueError:
        return
    async with runtime.sessions() as session:
        workspace = await ensure_workspace(session, context.team_id, context.enterprise_id)
        found = await composing.queued_composition(session, workspace.id, post_id)
        await session.commit()
    if found is None:
        problem = "This post is no longer in the queue."
    elif not await _may_edit(client, found[0].author_user_id, context.user_id):
        problem = NOT_YOURS
    else:
        problem = None
    if problem:
        await respond(response_type="ephemeral", replace_original=False, text=problem)
        return
    await open_edit(context, client, body["trigger_id"], found, body.get("response_url"))


async def open_edit(context, client, trigger_id: str, found: tuple[Post, Composition, list[MediaItem]],
                    response_url: str | None = None) -> None:
    """The compose modal on a queued post (from `/picmim queue`, or Edit on its review card)."""
    post, composition, items = found
    await _open(context["runtime"], context, client, trigger_id, composition,
                ModalContext(channel_id=post.channel_id, post_id=post.id, response_url=response_url),
                [item.filename for item in items])


async def drafts_command(ack, context, client, respond, **_) -> None:
    await ack()
    runtime = context["runtime"]
    async with runtime.sessions() as session:
        workspace = await ensure_workspace(session, context.team_id, context.enterprise_id)
        drafts = await composing.list_drafts(session, workspace.id, context.user_id)
        await session.commit()
    who = await person(client, context.user_id)
    await respond(response_type="ephemeral", replace_original=False, text="Your drafts",
                  blocks=views.drafts_list(drafts, who.tz))


# ---- reading the modal -------------------------------------------------------------------------------


def _value(values: dict, block_id: str, action_id: str) -> dict:
    return (values.get(block_id) or {}).get(action_id) or {}


def read(view: dict) -> tuple[Composition, list[dict], bool]:
    """The composition, the submitted files, and whether Schedule was chosen without a time."""
    values = (view.get("state") or {}).get("values") or {}
    text = _value(values, ids.COMPOSE_TEXT_BLOCK, ids.COMPOSE_TEXT_INPUT).get("value") or ""
    selected = _value(values, ids.COMPOSE_ACCOUNTS_BLOCK, ids.COMPOSE_ACCOUNTS_INPUT).get("selected_options") or []
    account_ids = [int(o["value"]) for o in selected if str(o.get("value", "")).isdigit()]
    variants = {}
    for block_id, inputs in values.items():
        if block_id.startswith(ids.COMPOSE_VARIANT_BLOCK):
            value = ((inputs.get(ids.COMPOSE_VARIANT_INPUT) or {}).get("value") or "").strip()
            if value:
                variants[block_id.removeprefix(ids.COMPOSE_VARIANT_BLOCK)] = value
    comment = (_value(values, ids.COMPOSE_COMMENT_BLOCK, ids.COMPOSE_COMMENT_INPUT).get("value") or "").strip()
    when_choice = (_value(values, ids.COMPOSE_WHEN_BLOCK, ids.COMPOSE_WHEN_INPUT).get("selected_option")
                   or {}).get("value", views.NOW)
    stamp = _value(values, ids.COMPOSE_AT_BLOCK, ids.COMPOSE_AT_INPUT).get("selected_date_time")
    when = datetime.fromtimestamp(int(stamp), UTC) if stamp and when_choice == views.SCHEDULE else None
    files = _value(values, ids.COMPOSE_MEDIA_BLOCK, ids.COMPOSE_MEDIA_INPUT).get("files") or []
    composition = Composition(text=text, account_ids=account_ids, variants=variants, first_comment=comment or None,
                              when=when)
    _read_video_choices(values, composition)
    return composition, files, when_choice == views.SCHEDULE and not stamp


def _read_video_choices(values: dict, composition: Composition) -> None:
    """Optimise / cut, the cover time and TikTok's privacy level; anything malformed is the default."""
    boxes = _value(values, ids.COMPOSE_VIDEO_BLOCK, ids.COMPOSE_VIDEO_INPUT)
    if isinstance(boxes.get("selected_options"), list):  # absent: a modal without the boxes, so the defaults
        ticked = {o.get("value") for o in boxes["selected_options"] if isinstance(o, dict)}
        composition.optimise_video, composition.trim_video = views.OPTIMISE in ticked, views.TRIM in ticked
    cover = _value(values, ids.COMPOSE_COVER_BLOCK, ids.COMPOSE_COVER_INPUT).get("value")
    try:
        seconds = float(cover) if cover not in (None, "") else None
    except (TypeError, ValueError):
        seconds = None
    if seconds is not None and 0 <= seconds <= 24 * 3600:  # also refuses nan and inf
        composition.cover_seconds = seconds
    privacy = (_value(values, ids.COMPOSE_TIKTOK_PRIVACY_BLOCK, ids.COMPOSE_TIKTOK_PRIVACY_INPUT)
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


# ---- attachments ---------------------------------------------------------------------------------------


async def fetch_media(runtime, workspace_id: int, files: list[dict], bot_token: str) -> tuple[list[int], str | None]:
    """Download the submitted files and store them; the stored items' ids, or what went wrong."""
    if not files:
        return [], None
    try:
        data = await asyncio.gather(*(download_slack_file(runtime.http, f, bot_token) for f in files))
        store = MediaStore.from_settings(runtime.settings)
        async with runtime.sessions() as session:
            items = [await store.store(session, workspace_id, blob, f.get("name") or "attachment", f.get("mimetype"))
                     for f, blob in zip(files, data, strict=True)]
            item_ids = [item.id for item in items]
            await session.commit()
        return item_ids, None
    except MediaError as exc:
        return [], str(exc)
    except Exception:  # never publish without the attachments the author gave
        log.exception("Storing the attachments of a post failed")
        return [], "Picmim could not read the attachments: attach them again."



# ---- submitting ----------------------------------------------------------------------------------------


async def submitted(ack, body, view, context, client) -> None:
    started = time.monotonic()
    runtime = context["runtime"]
    composition, files, schedule_without_time = read(view)
    where = composing.read_metadata(view.get("private_metadata"))
    user_id = context.user_id
    now = utcnow()
    async with runtime.sessions() as session:
        workspace = await ensure_workspace(session, context.team_id, context.enterprise_id)
        offered = await composing.choices(session, workspace.id, runtime.adapters)
        editing = await queue.queued_post(session, workspace.id, where.post_id) if where.post_id else None
        await session.commit()
    if where.post_id and (editing is None or not await _may_edit(client, editing.author_user_id, user_id)):
        gone = "This post is no longer in the queue." if editing is None else NOT_YOURS
        await ack(response_action="errors", errors={ids.COMPOSE_TEXT_BLOCK: gone})
        return
    problems = composing.form_problems(composition, offered, now, schedule_without_time)
    if problems:
        await ack(response_action="errors", errors=block_errors(problems))
        return
    bot_token = context.bot_token or context.get("token") or ""
    fetching = asyncio.create_task(fetch_media(runtime, workspace.id, files, bot_token))
    done, _ = await asyncio.wait({fetching}, timeout=max(0.0, SUBMIT_BUDGET - (time.monotonic() - started)))
    late = not done
    items: list[MediaItem] = []
    async with runtime.sessions() as session:
        workspace = await ensure_workspace(session, context.team_id, context.enterprise_id)
        if not late:
            item_ids, media_error = fetching.result()
            if media_error:
                await ack(response_action="errors", errors={ids.COMPOSE_MEDIA_BLOCK: media_error[:ERROR_MAX]})
                return
            items = [await session.get(MediaItem, i) for i in item_ids]
            if editing is not None and not files:  # an edit without new attachments keeps the post's own
                items = await composing.media_of(session, editing.id)
            elif where.draft_id and not files:  # so does a post sent back from review to its author's drafts
                items = await composing.draft_media(session, workspace.id, user_id, where.draft_id)
            accounts = await composing.accounts_by_id(session, workspace.id, composition.account_ids)
            problems = composing.problems_by_field(accounts, runtime.adapters, composition,
                                                   [media_facts(i) for i in items])
            if problems:
                await ack(response_action="errors", errors=block_errors(problems))
                return
        if editing is not None:
            try:
                post = await composing.edit_post(session, workspace, editing.id, composition,
                                                 None if late else items, now)
            except QueueError as exc:
                await session.rollback()
                await ack(response_action="errors", errors={ids.COMPOSE_TEXT_BLOCK: str(exc)})
                return
        else:
            post = await composing.create_post(session, workspace, user_id, composition, items, where.channel_id,
                                               None, now, where.draft_id)
        post_id = post.id
        await renditions.request(session, post_id, runtime.adapters)  # videos start optimising at once
        await session.commit()
    await ack()
    try:
        if editing is None:
            who = await person(client, user_id)
            async with runtime.sessions() as session:
                post = await session.get(Post, post_id)
                post.timezone = who.tz or post.timezone
                await session.commit()
        await update_post_message(runtime, post_id)
        if late:
            item_ids, media_error = await fetching
            async with runtime.sessions() as session:
                items = [await session.get(MediaItem, i) for i in item_ids]
                failed = await composing.check_late(session, post_id, runtime.adapters, items, media_error)
                waiting = await renditions.request(session, post_id, runtime.adapters)
                await session.commit()
            if failed or waiting:
                await update_post_message(runtime, post_id)
        await approval_handlers.send_for_review(runtime, post_id)  # a post that needs approval, or an edit
    finally:
        async with runtime.sessions() as session:
            await composing.release(session, post_id)
            await session.commit()
    if editing is not None and where.response_url:
        await queue_handlers.show_at(context, client, where.response_url, "Saved: the post's status message shows it.")


# ---- closing -------------------------------------------------------------------------------------------


async def closed(ack, view, context) -> None:
    await ack()
    runtime = context["runtime"]
    composition, _files, _ = read(view)
    where = composing.read_metadata(view.get("private_metadata"))
    if where.post_id:  # closing an edit keeps the queued post as it was
        return
    async with runtime.sessions() as session:
        workspace = await ensure_workspace(session, context.team_id, context.enterprise_id)
        offered = {c.id for c in await composing.choices(session, workspace.id, runtime.adapters)}
        composition.account_ids = [i for i in composition.account_ids if i in offered]
        await composing.save_draft(session, workspace.id, context.user_id, composition, where.channel_id,
                                   where.draft_id)
        await session.commit()


SUBCOMMANDS = {"post": post_command, "drafts": drafts_command}
