"""`/picmim post`, the "Post to social" message shortcut, the compose modal's submission and closing,
and `/picmim drafts`."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence

from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError

from bot import ids
from bot.handlers import forms
from bot.handlers import queue as queue_handlers
from bot.handlers.attachments import store_files
from bot.handlers.compose_form import block_errors, read
from bot.handlers.series import read_repeat
from bot.media import retention
from bot.media.store import MediaStore
from bot.messages import review_card
from bot.messages.post_status import update_post_message
from bot.payloads import ComposeOrigin
from bot.services import composing, link_previews, queue, roles, series, slots, submitting, when_to_post
from bot.services.composing import Composition
from bot.services.series import Repeat
from bot.services.submitting import Accepted, Attachments, Submission
from bot.slack_errors import error_of, unavailable
from bot.storage import seen_requests
from bot.storage.models import MediaItem, Post, utcnow
from bot.views import compose as views
from bot.views import compose_when
from bot.views import series as series_views

log = logging.getLogger(__name__)

# A view submission is answered within Slack's 3 seconds: attachments that are not in by then are
# checked after the answer, and what does not fit is reported in the post's status message.
SUBMIT_BUDGET = 2.5


def register(app: AsyncApp) -> None:
    app.shortcut(ids.COMPOSE_SHORTCUT)(shortcut)
    app.view(ids.COMPOSE_VIEW)(submitted)
    app.view_closed(ids.COMPOSE_VIEW)(closed)
    app.action(ids.DRAFT_OPEN)(open_draft_button)
    app.action(ids.QUEUE_EDIT)(edit_button)
    app.action(ids.POST_EDIT)(edit_button)
    app.action(ids.QUEUE_EDIT_SERIES)(edit_series_button)
    # A network's setting that dispatches (the thread option) brings up what it changes, e.g. the thread's parts.
    for action_id in (ids.COMPOSE_ACCOUNTS_INPUT, ids.COMPOSE_WHEN_INPUT, ids.COMPOSE_DESCRIBE,
                      ids.COMPOSE_SETTING_INPUT, ids.COMPOSE_LINK_PREVIEW, ids.COMPOSE_REPEAT_INPUT):
        app.action(action_id)(changed)


# ---- opening -----------------------------------------------------------------------------------------


def _modal(runtime, offered, composition: Composition, origin: ComposeOrigin, here, kept: Sequence[MediaItem] = (),
           files: Sequence[dict] = (), access: roles.Access | None = None, hidden: int = 0,
           link_previews: dict[str, dict] | None = None, repeat: Repeat | None = None,
           when: tuple[list, str | None] = ([], None)) -> dict:
    """The compose modal for this workspace and install: its attachments' names (kept ones, or the files just
    attached, whose pictures get alt text fields) and the submit button's words. `hidden`: how many live accounts
    the person may not post to (said in a line, so nobody wonders where they went)."""
    if not offered:
        return views.nothing_connected_modal(roles.missing_line(hidden))
    if files:
        pictures = [(n, str(f.get("name") or f"picture {n + 1}")) for n, f in enumerate(files)
                    if str(f.get("mimetype") or "").startswith("image/")]
    else:
        pictures = [(n, item.filename) for n, item in enumerate(kept) if item.mimetype.startswith("image/")]
    commented = [key for key, adapter in runtime.adapters.items() if adapter.limits.first_comment]
    # A contributor's post waits for approval: said on the button once chosen, or from the start when every
    # account offered is one she contributes to.
    needs_approval = here.approval_required or bool(access and (
        access.needs_approval(composition.account_ids) if composition.account_ids
        else all(access.role(c.id) == roles.CONTRIBUTOR for c in offered)))
    # Repeat: for a new post once it is scheduled (one occurrence's edit changes that one only).
    chosen = [c.platform for c in offered if c.id in composition.account_ids]
    repeating = [] if origin.post_id or not (composition.when or composition.schedule) else \
        series_views.repeat_blocks(repeat, series.duplicate_warning(repeat, chosen, composition))
    return views.compose_modal(offered, composition, origin.encode(), editing=bool(origin.post_id or origin.series_id),
                               attached=[item.filename for item in kept], pictures=pictures,
                               needs_approval=needs_approval, first_comment_platforms=commented,
                               note=roles.missing_line(hidden), files=files, link_card=link_previews,
                               repeat=repeating, title="Edit series" if origin.series_id else None,
                               quick_times=when[0], tz=when[1])


async def _offered(session, here, runtime, access) -> tuple[list, int]:
    """The live accounts this person may post to, and how many others there are."""
    found = await composing.choices(session, here.id, runtime.adapters)
    mine = [c for c in found if access.may_post(c.id)]
    return mine, len(found) - len(mine)


async def _when(session, here, offered, composition: Composition, person=None) -> tuple[list, str | None]:
    """The "When" part's quick choices for the chosen accounts, and the zone they are shown in (the author's, else
    the workspace's)."""
    chosen = [c.id for c in offered if c.id in composition.account_ids]
    quick = await when_to_post.quick_times(session, here.id, here.default_timezone, chosen, utcnow())
    return quick, ((await person()).tz if person and quick else None) or here.default_timezone


async def open_compose(client, runtime, db, workspace, access, trigger_id: str, composition: Composition,
                       origin: ComposeOrigin, kept: Sequence[MediaItem] = (), *, repeat: Repeat | None = None,
                       person=None, push: bool = False) -> None:
    """The compose window (a new post, a draft, a queued post to edit), offering the live accounts this person may
    post to. `push`: over the modal the button was in (a post's details on Home), which it goes back to."""
    here, rights = await workspace(), await access()
    async with db() as session:
        offered, hidden = await _offered(session, here, runtime, rights)
        when = await _when(session, here, offered, composition, person)
    try:
        view = _modal(runtime, offered, composition, origin, here, kept, access=rights, hidden=hidden, repeat=repeat,
                      when=when)
        await (client.views_push if push else client.views_open)(trigger_id=trigger_id, view=view)
    except SlackApiError as exc:
        if unavailable(exc):
            raise  # Slack failing for now: the person is told so (handlers/failures.py)
        log.warning("Could not open the compose modal: %s", error_of(exc))


async def changed(ack, body, context, client, subject, runtime, db, workspace, access, person) -> None:
    """Accounts chosen, Now or Schedule picked, or "Add alt text" pressed: the modal is brought up to date (the
    chosen networks' parts, the time picker, a field per attached picture), keeping every block_id so whatever
    was typed stays."""
    await ack()
    view = body.get("view") if isinstance(body.get("view"), dict) else {}
    if view.get("callback_id") != ids.COMPOSE_VIEW or not view.get("id"):
        return
    composition, files, _ = read(view)
    origin = subject or ComposeOrigin()
    here, rights = await workspace(), await access()
    async with db() as session:
        offered, hidden = await _offered(session, here, runtime, rights)
        kept: list[MediaItem] = []
        if not files and origin.post_id:
            queued = await composing.queued_composition(session, here.id, origin.post_id)
            kept = queued[2] if queued else []
        elif not files and origin.draft_id:
            kept = await composing.draft_media(session, here.id, context.user_id, origin.draft_id)
        elif not files and origin.series_id:
            editing_series = await series.for_editing(session, here.id, origin.series_id)
            kept = editing_series.media if editing_series else []
        when = await _when(session, here, offered, composition, person)
    if not kept and not files:
        composition.alt_texts = []
    repeat = read_repeat(view)
    update = _modal(runtime, offered, composition, origin, here, kept, files, access=rights, hidden=hidden,
                    repeat=repeat, when=when)
    try:
        answer = await client.views_update(view_id=view["id"], hash=view.get("hash"), view=update)
    except SlackApiError as exc:  # hash_conflict: a newer change is on its way with the latest state
        log.info("The compose modal was not brought up to date: %s", error_of(exc))
        return
    # Link cards: the page is fetched only now, after the window changed, and shown by a second update.
    chosen = {c.platform for c in offered if c.id in composition.account_ids}
    texts = [composition.variants.get(key) or composition.text for key in link_previews.CARD_PLATFORMS
             if key in chosen]
    links = link_previews.links_to_preview(texts) if not files and not kept else []
    if not links:
        return
    found = await link_previews.previews(runtime.http, links)
    update = _modal(runtime, offered, composition, origin, here, kept, files, access=rights, hidden=hidden,
                    link_previews=found, repeat=repeat, when=when)
    latest = ((answer.data if hasattr(answer, "data") else answer) or {}).get("view") or {}
    try:
        await client.views_update(view_id=view["id"], hash=latest.get("hash"), view=update)
    except SlackApiError as exc:  # hash_conflict: the person changed the window meanwhile; that change shows it
        log.info("The link card preview was not shown: %s", error_of(exc))


async def post_command(ack, args, command, client, runtime, db, workspace, access, person, **_) -> None:
    await ack()
    await open_compose(client, runtime, db, workspace, access, command.get("trigger_id"),
                       Composition(text=args[:views.TEXT_MAX]), ComposeOrigin(channel_id=command.get("channel_id")),
                       person=person)


async def shortcut(ack, shortcut, client, runtime, db, workspace, access) -> None:
    await ack()
    text = ((shortcut.get("message") or {}).get("text") or "")[:views.TEXT_MAX]
    channel_id = (shortcut.get("channel") or {}).get("id")
    await open_compose(client, runtime, db, workspace, access, shortcut["trigger_id"], Composition(text=text),
                       ComposeOrigin(channel_id=channel_id))


async def open_draft_button(ack, body, context, client, respond, subject, runtime, db, workspace, access,
                            person) -> None:
    await ack()
    if subject is None:
        return
    workspace_id = (await workspace()).id
    async with db() as session:
        found = await composing.load_draft_with_repeat(session, workspace_id, context.user_id, subject.post_id)
        kept = await composing.draft_media(session, workspace_id, context.user_id, subject.post_id)
    if found is None:
        await respond(response_type="ephemeral", replace_original=False,
                      text="This draft is gone: it was posted or deleted meanwhile.")
        return
    composition, repeat = found[0], series.repeat_from_json(found[1])
    if repeat is not None:
        composition.schedule = True  # a repeating post is scheduled: its Repeat part shows under the time
    channel_id = (body.get("channel") or {}).get("id")
    await open_compose(client, runtime, db, workspace, access, body["trigger_id"], composition,
                       ComposeOrigin(channel_id=channel_id, draft_id=subject.post_id), kept, repeat=repeat,
                       person=person)


async def edit_button(ack, body, action, context, client, respond, subject, runtime, db, workspace, access,
                      person) -> None:
    """Edit on a queued post (in `/picmim queue`, or on its own status message): the compose modal, filled with
    the post, for its author, a publisher of all its accounts or an admin. Saving refreshes the queue listing it
    came from, if any."""
    await ack()
    if subject is None:
        return
    workspace_id = (await workspace()).id
    async with db() as session:
        found = await composing.queued_composition(session, workspace_id, subject.post_id)
        problem = await queue_handlers.refusal(session, found and found[0], access)
    in_modal = (body.get("view") or {}).get("type") == "modal"  # a post's details opened from Home's calendar
    if problem:
        if not in_modal:  # (the details show Edit only to those who may use it)
            await respond(response_type="ephemeral", replace_original=False, text=problem)
        return
    listing = body.get("response_url") if action.get("action_id") == ids.QUEUE_EDIT else None
    await open_edit(client, runtime, db, workspace, access, body["trigger_id"], found, listing, person, push=in_modal)


async def open_edit(client, runtime, db, workspace, access, trigger_id: str,
                    found: tuple[Post, Composition, list[MediaItem]], response_url: str | None = None,
                    person=None, push: bool = False) -> None:
    """The compose modal on a queued post (from `/picmim queue`, or Edit on its review card)."""
    post, composition, items = found
    await open_compose(client, runtime, db, workspace, access, trigger_id, composition,
                       ComposeOrigin(channel_id=post.channel_id, post_id=post.id, response_url=response_url), items,
                       person=person, push=push)


async def edit_series_button(ack, body, client, respond, subject, runtime, db, workspace, access) -> None:
    """Edit series on an occurrence in `/picmim queue`: the compose modal with the series' words, accounts and
    repetition, from its next waiting time. Saving replaces the waiting occurrences with the new series' ones."""
    await ack()
    if subject is None:
        return
    workspace_id = (await workspace()).id
    async with db() as session:
        post = await queue.queued_post(session, workspace_id, subject.post_id)
        problem = await queue_handlers.refusal(session, post, access)
        found = await series.for_editing(session, workspace_id, post.series_id) \
            if problem is None and post.series_id else None
    if problem or found is None:
        await respond(response_type="ephemeral", replace_original=False, text=problem or series.ENDED)
        return
    origin = ComposeOrigin(channel_id=found.series.channel_id, series_id=found.series.id,
                           response_url=body.get("response_url"))
    await open_compose(client, runtime, db, workspace, access, body["trigger_id"], found.composition, origin,
                       found.media, repeat=found.repeat)


async def drafts_command(ack, context, respond, db, workspace, person, **_) -> None:
    await ack()
    workspace_id = (await workspace()).id
    async with db() as session:
        drafts = await composing.list_drafts(session, workspace_id, context.user_id)
    tz = (await person()).tz
    repeats = {d.id: said for d in drafts if (said := series.draft_repeats(d.kept_repeat, d.scheduled_at, tz))}
    await respond(response_type="ephemeral", replace_original=False, text="Your drafts",
                  blocks=views.drafts_list(drafts, tz, repeats))


# ---- submitting ----------------------------------------------------------------------------------------


async def _within(task: asyncio.Task, seconds: float) -> Attachments:
    """The stored attachments, or `late` when they are not in within `seconds` (the task goes on)."""
    done, _ = await asyncio.wait({task}, timeout=max(0.0, seconds))
    return task.result() if done else Attachments(late=True)


MAX_FILES = 10  # files per submission: as many as Slack's file input takes
SLOT_TAKEN = ("Another post took this slot while the window was open: choose another time, or choose the accounts "
              "again to see the next free slot.")


async def _slot_taken(view: dict, subject, db, workspace) -> bool:
    """"Next free slot" chosen, and a post has been scheduled in that slot since the window showed it."""
    slot = compose_when.quick_slot(forms.option(forms.values_of(view), ids.COMPOSE_WHEN_BLOCK,
                                                ids.COMPOSE_WHEN_INPUT))
    if slot is None:
        return False
    workspace_id = (await workspace()).id
    async with db() as session:
        return not await slots.is_free(session, workspace_id, *slot,
                                       except_post_id=subject.post_id if subject else None)


async def submitted(ack, view, context, client, subject, runtime, db, workspace, person, access) -> None:
    started = time.monotonic()
    composition, files, schedule_without_time = read(view)
    if len(files) > MAX_FILES:  # Slack's file input allows 10: more is forged; refused before any download
        await ack(response_action="errors", errors={
            ids.COMPOSE_MEDIA_BLOCK: f"Attach at most {MAX_FILES} files to a post ({len(files)} were attached)."})
        return
    if await _slot_taken(view, subject, db, workspace):
        await ack(response_action="errors", errors={ids.COMPOSE_WHEN_BLOCK: SLOT_TAKEN})
        return
    # The same view submitted again (the same view id and hash: a double submission or a replay) acts once.
    once = f"view:{view.get('id')}:{view.get('hash')}" if view.get("id") and view.get("hash") else None
    if once and not await seen_requests.first_time(runtime.sessions, once, utcnow()):
        log.info("A compose view was submitted again; it acts once")
        await ack()
        return
    await _submit(ack, view, context, subject, runtime, db, workspace, person, access, started, composition, files,
                  schedule_without_time, once)


async def _submit(ack, view, context, subject, runtime, db, workspace, person, access, started, composition, files,
                  schedule_without_time, once) -> None:
    origin = subject or ComposeOrigin()
    here = await workspace()
    fetching: asyncio.Task | None = None

    async def attachments() -> Attachments:
        nonlocal fetching
        bot_token = context.bot_token or context.get("token") or ""
        fetching = asyncio.create_task(store_files(runtime, db, here.id, files, bot_token))
        return await _within(fetching, SUBMIT_BUDGET - (time.monotonic() - started))

    changing = bool(origin.post_id or origin.series_id)  # someone else's post or series: an admin may
    rights = await access(need_profile=changing)
    repeat = None if origin.post_id else read_repeat(view)
    submission = Submission(
        author=context.user_id, author_is_admin=changing and rights.is_admin,
        composition=composition, channel_id=origin.channel_id, draft_id=origin.draft_id, post_id=origin.post_id,
        schedule_without_time=schedule_without_time, with_files=bool(files), access=rights,
        # a series' times are on the author's wall clock: their zone is needed now, not after the answer
        repeat=repeat, timezone=(await person()).tz if repeat else None, series_id=origin.series_id)
    try:
        outcome = await submitting.submit(runtime.sessions, here, runtime.adapters, submission, attachments(),
                                          utcnow())
    except BaseException:
        if once:  # nothing was made: the same view may come again
            await seen_requests.forget(runtime.sessions, once)
        raise
    if not isinstance(outcome, Accepted):
        blocks = view.get("blocks")  # what the person saw; errors for parts not shown go beside the accounts
        shown = {b.get("block_id") for b in blocks if isinstance(b, dict)} if isinstance(blocks, list) and blocks \
            else None
        if once:  # refused: the same view, mended, may be submitted again
            await seen_requests.forget(runtime.sessions, once)
        await ack(response_action="errors", errors=block_errors(outcome.problems, shown))
        await _discard(runtime, fetching)
        return
    await ack()
    await _after_accept(runtime, db, person, outcome, fetching, composition)
    for post_id in outcome.cancelled:  # an edited series' occurrences that gave way to the new ones
        await update_post_message(runtime, post_id)
    if (outcome.edited or outcome.cancelled) and origin.response_url:
        await queue_handlers.show_at(db, workspace, person, access, context.user_id, origin.response_url,
                                     "Saved: the post's status message shows it.")


async def _discard(runtime, fetching: asyncio.Task | None) -> None:
    """After refusing: the files this submission stored first are deleted at once (sent again, mended, they are
    fetched again)."""
    if fetching is None:
        return
    stored = await fetching  # after the answer, so waiting for a late download costs Slack nothing
    if stored.new_ids:
        await retention.discard(runtime.sessions, MediaStore.from_settings(runtime.settings), stored.new_ids)


async def _after_accept(runtime, db, person, accepted: Accepted, fetching: asyncio.Task | None,
                        composition: Composition) -> None:
    """After the answer: the author's zone, the status message, late attachments, the review card; then the
    post's targets are released to the publisher, whatever happened."""
    post_id = accepted.post_id
    try:
        if not accepted.edited and not accepted.replaced_series:
            timezone = (await person()).tz
            async with db() as session:
                await submitting.set_timezone(session, post_id, timezone)
        await update_post_message(runtime, post_id)
        if accepted.late_attachments and fetching is not None:
            if await submitting.settle_late(runtime.sessions, post_id, runtime.adapters, await fetching,
                                            composition.alt_texts):
                await update_post_message(runtime, post_id)
            async with db() as session:  # a series' later occurrences carry them too
                await series.keep_media(session, post_id)
        await review_card.send_for_review(runtime, post_id)  # a post that needs approval, or an edit
    finally:
        async with db() as session:
            await submitting.release(session, post_id)


# ---- closing -------------------------------------------------------------------------------------------


async def closed(ack, view, context, subject, runtime, db, workspace, access) -> None:
    await ack()
    composition, _files, _ = read(view)
    origin = subject or ComposeOrigin()
    if origin.post_id:  # closing an edit keeps the queued post as it was
        return
    workspace_id, rights = (await workspace()).id, await access()
    async with db() as session:
        offered = {c.id for c in await composing.choices(session, workspace_id, runtime.adapters)
                   if rights.may_post(c.id)}
        composition.account_ids = [i for i in composition.account_ids if i in offered]
        await composing.save_draft(session, workspace_id, context.user_id, composition, origin.channel_id,
                                   origin.draft_id, repeat=series.repeat_to_json(read_repeat(view)))


SUBCOMMANDS = {"post": post_command, "drafts": drafts_command}
