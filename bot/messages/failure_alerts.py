"""A post's failures announced in the alerts channel (once each: bot/services/failure_alerts.py), through the
outbox, so an announcement Slack does not take at once is sent later, still once."""

from __future__ import annotations

import logging

from bot.messages import outbox as sending
from bot.services import failure_alerts
from bot.storage.models import utcnow
from bot.views.failure_alerts import failure_alert

log = logging.getLogger(__name__)


async def announce_failures(runtime, post_id: int) -> None:
    async with runtime.sessions() as session:
        notes = await failure_alerts.new_failures(session, post_id, utcnow())
    for note in notes:
        text, blocks = failure_alert(note)
        outcome = await sending.notify(runtime, note.workspace_id, note.channel_id, text, blocks=blocks)
        if outcome.error and not outcome.transient:
            log.warning("The alerts channel did not take the failure of target %s (%s)", note.target_id,
                        outcome.error)
