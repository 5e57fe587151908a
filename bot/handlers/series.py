"""Recurring posts in Slack: the compose window's Repeat part read into a `Repeat`, and the queue's buttons on a
series' occurrence: Skip (this one only), Edit series and Stop series."""

from __future__ import annotations

import logging
from datetime import date

from slack_bolt.async_app import AsyncApp

from bot import ids
from bot.handlers import forms
from bot.handlers import queue as queue_handlers
from bot.messages.post_status import update_post_message
from bot.services import queue, series
from bot.services.series import Repeat
from bot.storage.models import Post

log = logging.getLogger(__name__)


def register(app: AsyncApp) -> None:
    app.action(ids.QUEUE_SKIP)(skip_button)
    app.action(ids.QUEUE_STOP_SERIES)(stop_button)


def read_repeat(view: dict) -> Repeat | None:
    """How the window says the post repeats; None when it does not (or the part is not shown). Anything malformed
    reads as not given, so the service names what is missing."""
    values = forms.values_of(view)
    frequency = forms.option(values, ids.COMPOSE_REPEAT_BLOCK, ids.COMPOSE_REPEAT_INPUT)
    if frequency not in series.FREQUENCIES:
        return None
    ticked = forms.options(values, ids.COMPOSE_REPEAT_DAYS_BLOCK, ids.COMPOSE_REPEAT_DAYS_INPUT)
    days = tuple(sorted({int(d) for d in ticked if len(d) == 1 and d in "0123456"}))
    times = forms.field(values, ids.COMPOSE_REPEAT_TIMES_BLOCK, ids.COMPOSE_REPEAT_TIMES_INPUT).get("value")
    until = forms.field(values, ids.COMPOSE_REPEAT_UNTIL_BLOCK, ids.COMPOSE_REPEAT_UNTIL_INPUT).get("selected_date")
    try:
        count = int(times) if isinstance(times, str) and times.strip() else None
    except ValueError:
        count = 0  # not a number: refused as out of range
    try:
        ends_on = date.fromisoformat(until) if isinstance(until, str) and until else None
    except ValueError:
        ends_on = None
    return Repeat(frequency, days if frequency == series.WEEKLY else (), ends_on, count)


skip_button = queue_handlers.button_for(queue.cancel, "Skipped: this one will not be published; the series goes on.")


async def stop_button(ack, context, respond, subject, runtime, db, workspace, person, access) -> None:
    """Stop series: no more occurrences, and those waiting are cancelled."""
    await ack()
    cancelled: list[int] = []

    async def stop(session, post: Post, now) -> str:
        found = await series.series_of(session, post.workspace_id, post.series_id) if post.series_id else None
        if found is None:
            raise queue.QueueError("This post is not part of a series any more.")
        cancelled.extend(await series.stop(session, found, now, actor=context.user_id))
        waiting = len(cancelled)
        return (f"Series stopped: {waiting} waiting post{'s' if waiting != 1 else ''} cancelled, and no more will be "
                "made.")

    changed, note = await queue_handlers.apply_change(runtime, db, workspace, access, subject and subject.post_id,
                                                      stop)
    for post_id in cancelled:
        if post_id != (subject and subject.post_id):  # apply_change brought that one's message up to date
            await update_post_message(runtime, post_id)
    if changed:
        await queue_handlers.show(db, workspace, person, access, context.user_id, respond, note, replace=True)
    else:
        await respond(response_type="ephemeral", replace_original=False, text=note)

