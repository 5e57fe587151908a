"""`/picmim queue`: the workspace's scheduled posts, with Publish now, Reschedule and Cancel (Edit opens the
compose modal: `bot.handlers.compose`)."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime

from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.webhook.async_client import AsyncWebhookClient

from bot import ids
from bot.handlers import approvals as approval_handlers
from bot.handlers.people import person
from bot.handlers.posts import update_post_message
from bot.services import queue
from bot.services.composing import PAST_TOLERANCE
from bot.services.queue import NOT_YOURS, QueueError
from bot.services.workspaces import ensure_workspace
from bot.storage.models import utcnow
from bot.views import queue as views

log = logging.getLogger(__name__)



def register(app: AsyncApp) -> None:
    app.action(ids.QUEUE_PUBLISH_NOW)(publish_now_button)
    app.action(ids.QUEUE_RESCHEDULE)(reschedule_button)
    app.action(ids.QUEUE_CANCEL)(cancel_button)
    app.view(ids.QUEUE_RESCHEDULE_VIEW)(reschedule_submitted)


async def _show(context, client, respond, note: str = "", replace: bool = False) -> None:
    runtime = context["runtime"]
    who = await person(client, context.user_id)
    async with runtime.sessions() as session:
        workspace = await ensure_workspace(session, context.team_id, context.enterprise_id)
        items = await queue.list_queue(session, workspace.id, context.user_id)
        await session.commit()
    await respond(response_type="ephemeral", replace_original=replace, text="Scheduled posts",
                  blocks=views.queue_list(items, who.tz, context.user_id, note))


async def show_at(context, client, response_url: str, note: str) -> None:
    """Refresh the queue listing a modal was opened from (a modal's submission has no respond of its own)."""

    async def respond(**kw):
        await AsyncWebhookClient(response_url).send(**kw)

    await _show(context, client, respond, note, replace=True)


async def queue_command(ack, context, client, respond, **_) -> None:
    await ack()
    await _show(context, client, respond)


def _post_id(value) -> int | None:
    try:
        return int(value or "")
    except (TypeError, ValueError):
        return None


async def _change(context, client, post_id: int | None, change) -> tuple[bool, str]:
    """Apply `change(session, post, now)` when the acting user may; (changed, what to tell them)."""
    runtime = context["runtime"]
    if post_id is None:
        return False, "This post is no longer in the queue."
    async with runtime.sessions() as session:
        workspace = await ensure_workspace(session, context.team_id, context.enterprise_id)
        post = await queue.queued_post(session, workspace.id, post_id)
        if post is None:
            return False, "This post is no longer in the queue."
        if post.author_user_id != context.user_id and not (await person(client, context.user_id)).is_admin:
            return False, NOT_YOURS
        try:
            note = await change(session, post, utcnow())
        except QueueError as exc:
            await session.rollback()
            return False, str(exc)
        await session.commit()
    await update_post_message(runtime, post_id)
    await approval_handlers.refresh_card(runtime, post_id)
    return True, note


async def _after(context, client, respond, changed: bool, note: str) -> None:
    if changed:
        await _show(context, client, respond, note, replace=True)
    else:
        await respond(response_type="ephemeral", replace_original=False, text=note)


async def publish_now_button(ack, action, context, client, respond) -> None:
    await ack()

    async def change(session, post, now):
        await queue.publish_now(session, post, now)
        return "Publishing now: the post's status message follows it."

    changed, note = await _change(context, client, _post_id(action.get("value")), change)
    await _after(context, client, respond, changed, note)


async def cancel_button(ack, action, context, client, respond) -> None:
    await ack()

    async def change(session, post, now):
        await queue.cancel(session, post, now)
        return "Cancelled: it will not be published."

    changed, note = await _change(context, client, _post_id(action.get("value")), change)
    await _after(context, client, respond, changed, note)


async def reschedule_button(ack, body, action, context, client, respond) -> None:
    await ack()
    runtime = context["runtime"]
    post_id = _post_id(action.get("value"))
    async with runtime.sessions() as session:
        workspace = await ensure_workspace(session, context.team_id, context.enterprise_id)
        post = await queue.queued_post(session, workspace.id, post_id) if post_id else None
        problem = None
        if post is None or post.status not in queue.QUEUED:
            problem = "This post is no longer in the queue."
        elif post.author_user_id != context.user_id and not (await person(client, context.user_id)).is_admin:
            problem = NOT_YOURS
        current = post.scheduled_at if post is not None else None
        await session.commit()
    if problem:
        await respond(response_type="ephemeral", replace_original=False, text=problem)
        return
    try:
        await client.views_open(trigger_id=body["trigger_id"],
                                view=views.reschedule_modal(post_id, current, body.get("response_url")))
    except SlackApiError as exc:
        log.warning("Could not open the reschedule modal: %s", exc.response.get("error"))


async def reschedule_submitted(ack, view, context, client) -> None:
    values = (view.get("state") or {}).get("values") or {}
    stamp = ((values.get(ids.QUEUE_AT_BLOCK) or {}).get(ids.QUEUE_AT_INPUT) or {}).get("selected_date_time")
    try:
        meta = json.loads(view.get("private_metadata") or "{}")
    except ValueError:
        meta = {}
    if not stamp:
        await ack(response_action="errors", errors={ids.QUEUE_AT_BLOCK: "Pick the date and time to publish."})
        return
    when = datetime.fromtimestamp(int(stamp), UTC)
    if when < utcnow() - PAST_TOLERANCE:
        await ack(response_action="errors",
                  errors={ids.QUEUE_AT_BLOCK: "This time is in the past: pick a later one, or use Publish now."})
        return
    await ack()

    async def change(session, post, now):
        await queue.reschedule(session, post, max(when, now), now)
        return "Rescheduled."

    changed, note = await _change(context, client, _post_id(meta.get("post_id")), change)
    response_url = meta.get("response_url")
    if not response_url:
        return
    if changed:
        await show_at(context, client, response_url, note)
    else:
        await AsyncWebhookClient(response_url).send(response_type="ephemeral", replace_original=False, text=note)


SUBCOMMANDS = {"queue": queue_command}
