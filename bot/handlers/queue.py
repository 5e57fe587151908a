"""`/picmim queue`: the workspace's scheduled posts, with Publish now, Reschedule and Cancel (Edit opens the
compose modal: `bot.handlers.compose`)."""

from __future__ import annotations

import logging

from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.webhook.async_client import AsyncWebhookClient

from bot import ids
from bot.handlers import forms
from bot.messages import review_card
from bot.messages.post_status import update_post_message
from bot.payloads import RescheduleOrigin
from bot.services import approval_reminders, queue, roles
from bot.services.composing import PAST_TOLERANCE
from bot.services.queue import GONE, NOT_YOURS, QueueError
from bot.slack_errors import error_of, unavailable
from bot.storage.models import PostStatus, utcnow
from bot.views import queue as views

log = logging.getLogger(__name__)

RESCHEDULABLE = (*queue.QUEUED, PostStatus.EXPIRED)  # an expired post is rescheduled into approval again


def register(app: AsyncApp) -> None:
    app.action(ids.QUEUE_PUBLISH_NOW)(publish_now_button)
    app.action(ids.QUEUE_RESCHEDULE)(reschedule_button)
    app.action(ids.QUEUE_CANCEL)(cancel_button)
    app.view(ids.QUEUE_RESCHEDULE_VIEW)(reschedule_submitted)


async def _show(db, workspace, person, access, user_id: str, respond, note: str = "", replace: bool = False) -> None:
    tz, rights = (await person()).tz, await access()
    workspace_id = (await workspace()).id
    async with db() as session:
        # With roles set, only the posts to accounts this person may see (read further, so the list stays full).
        wide = queue.MAX_LISTED * (5 if rights.rules.any_roles else 1)
        items = await queue.list_queue(session, workspace_id, user_id, limit=wide, viewer_zone=tz)
        seen = await roles.visible_posts(session, rights, [i.id for i in items])
        items = [i for i in items if i.id in seen][:queue.MAX_LISTED]
        # The queue is this person's own: the buttons they may not use are left out (a viewer sees the list).
        changeable = await roles.changeable_posts(session, rights, [(i.id, i.author) for i in items])
    await respond(response_type="ephemeral", replace_original=replace, text="Scheduled posts",
                  blocks=views.queue_list(items, tz, user_id, note, changeable))


async def show_at(db, workspace, person, access, user_id: str, response_url: str, note: str) -> None:
    """Refresh the queue listing a modal was opened from (a modal's submission has no respond of its own)."""

    async def respond(**kw):
        await AsyncWebhookClient(response_url).send(**kw)

    await _show(db, workspace, person, access, user_id, respond, note, replace=True)


async def queue_command(ack, context, respond, db, workspace, person, access, **_) -> None:
    await ack()
    await _show(db, workspace, person, access, context.user_id, respond)


async def refusal(session, post, access) -> str | None:
    """Why this person may not change this queued post (None: they may): its author (while they may still post to
    its accounts), a publisher of all its accounts or an admin may."""
    if post is None:
        return GONE
    if not (await access()).may_change_post(post.author_user_id, await roles.post_accounts(session, post.id)):
        return NOT_YOURS
    return None


async def apply_change(runtime, db, workspace, access, post_id: int | None, change) -> tuple[bool, str]:
    """Apply `change(session, post, now)` when the acting user may; (changed, what to tell them)."""
    workspace_id = (await workspace()).id
    async with db() as session:
        post = await queue.queued_post(session, workspace_id, post_id) if post_id is not None else None
        if problem := await refusal(session, post, access):
            return False, problem
        try:
            note = await change(session, post, utcnow())
        except QueueError as exc:
            await session.rollback()
            return False, str(exc)
    await update_post_message(runtime, post_id)
    await review_card.refresh_card(runtime, post_id)
    return True, note


def _button(change, done: str):
    """A queue button that applies `change(session, post, now)` and then shows the queue with `done`."""

    async def listener(ack, context, respond, subject, runtime, db, workspace, person, access) -> None:
        await ack()

        async def apply(session, post, now) -> str:
            await change(session, post, now, actor=user_id)
            return done

        user_id = context.user_id
        changed, note = await apply_change(runtime, db, workspace, access, subject and subject.post_id, apply)
        if changed:
            await _show(db, workspace, person, access, user_id, respond, note, replace=True)
        else:
            await respond(response_type="ephemeral", replace_original=False, text=note)

    return listener


button_for, show = _button, _show  # for the series' buttons (bot/handlers/series.py)
publish_now_button = _button(queue.publish_now, "Publishing now: the post's status message follows it.")
cancel_button = _button(queue.cancel, "Cancelled: it will not be published.")


async def reschedule_button(ack, body, context, client, respond, subject, db, workspace, access) -> None:
    await ack()
    workspace_id = (await workspace()).id
    async with db() as session:
        post = await queue.queued_post(session, workspace_id, subject.post_id) if subject else None
        if post is not None and post.status not in RESCHEDULABLE:
            post = None  # published or cancelled meanwhile
        problem = await refusal(session, post, access)
    if problem:
        await respond(response_type="ephemeral", replace_original=False, text=problem)
        return
    # Only the queue's own (ephemeral) listing is refreshed afterwards: the Reschedule under an expired post's
    # notice must not be replaced by the queue.
    listing = body.get("response_url") if (body.get("container") or {}).get("is_ephemeral") else None
    try:
        await client.views_open(trigger_id=body["trigger_id"],
                                view=views.reschedule_modal(post.id, post.scheduled_at, listing))
    except SlackApiError as exc:
        if unavailable(exc):
            raise  # Slack failing for now: the person is told so (failures.py)
        log.warning("Could not open the reschedule modal: %s", error_of(exc))


async def reschedule_submitted(ack, view, context, subject, runtime, db, workspace, person, access) -> bool:
    """Saved: the post moved (True), or the window says what is wrong, or the person is told why not."""
    when = forms.moment(forms.field(forms.values_of(view), ids.QUEUE_AT_BLOCK, ids.QUEUE_AT_INPUT))
    origin = subject or RescheduleOrigin()
    if when is None:  # none picked, or one that is not a time (forged)
        await ack(response_action="errors", errors={ids.QUEUE_AT_BLOCK: "Pick the date and time to publish."})
        return False
    if when < utcnow() - PAST_TOLERANCE:
        await ack(response_action="errors",
                  errors={ids.QUEUE_AT_BLOCK: "This time is in the past: pick a later one, or use Publish now."})
        return False
    await ack()

    resubmitted = False

    async def change(session, post, now):
        nonlocal resubmitted
        if post.status is PostStatus.EXPIRED:  # not approved in time: it waits for approval again
            await approval_reminders.resubmit(session, post, max(when, now), now, actor=context.user_id)
            resubmitted = True
            return "Rescheduled: it waits for approval again."
        await queue.reschedule(session, post, max(when, now), now, actor=context.user_id)
        return "Rescheduled."

    changed, note = await apply_change(runtime, db, workspace, access, origin.post_id, change)
    if changed and resubmitted:
        await review_card.announce_resubmitted(runtime, origin.post_id)
    if not origin.response_url:
        return changed
    if changed:
        await show_at(db, workspace, person, access, context.user_id, origin.response_url, note)
    else:
        await AsyncWebhookClient(origin.response_url).send(response_type="ephemeral", replace_original=False,
                                                           text=note)
    return changed


SUBCOMMANDS = {"queue": queue_command}
