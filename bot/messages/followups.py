"""Follow-ups in a post's thread (the rules: bot/services/followups.py): each due one is claimed, the post's
figures are fetched first where the platform allows it now, and the reply is handed to the Slack outbox, which
sends it (now, or later when Slack does not take it at once)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from bot.messages import outbox as sending
from bot.services import followups, outbox
from bot.services.metric_sync import MetricSync
from bot.storage.models import utcnow
from bot.views.followups import followup_message

log = logging.getLogger(__name__)

RETRY_AFTER = timedelta(minutes=5)  # after a failure of ours, before any process tries the follow-up again


class FollowUps:
    """One per process; `tick()` is the job."""

    def __init__(self, runtime, sync: MetricSync | None = None, clock: Callable[[], datetime] = utcnow):
        self.runtime, self.clock = runtime, clock
        self.sync = sync or MetricSync(runtime.sessions, runtime.adapters, clock=clock)
        self.owner = sending.owner()

    async def tick(self) -> int:
        """Send the due follow-ups; returns how many were handed to the outbox."""
        now = self.clock()
        async with self.runtime.sessions() as session:
            found = await followups.due(session, now)
            await session.commit()
        handed = 0
        for item in found:
            async with self.runtime.sessions() as session:
                if not await followups.claim(session, item, self.owner, now):
                    continue  # sent already, or another process has it
            try:
                handed += await self._send(item, now)
            except Exception:  # one follow-up's fault must not stop the others
                log.exception("The %d-hour follow-up of post %s failed", item.hours, item.post_id)
                async with self.runtime.sessions() as session:
                    await followups.release(session, item, self.owner, now + RETRY_AFTER)
        return handed

    async def _send(self, item: followups.DueFollowUp, now: datetime) -> bool:
        async with self.runtime.sessions() as session:
            stale = await followups.accounts_to_fetch(session, item.post_id, now, self.sync.cadence.min_gap,
                                                      self.sync.adapters)
            await session.commit()
        for account_id, target_ids in stale.items():
            # Not asked when another process is fetching the account or the platform asked Picmim to wait:
            # the follow-up then shows the figures Picmim has.
            await self.sync.fetch_now(account_id, target_ids, now)
        async with self.runtime.sessions() as session:
            content = await followups.build(session, item, now)
            await session.commit()
        if content is None:
            return False
        blocks, text = followup_message(content)
        owed = outbox.Owed(outbox.NOTICE, content.workspace_id, key=followups.key(item.post_id, item.hours),
                           channel_id=content.channel_id, post_id=item.post_id, once=True,
                           payload={"text": text, "blocks": blocks, "thread_ts": content.thread_ts})
        async with self.runtime.sessions() as session:
            if not await followups.hand_over(session, item, self.owner, owed, now, utcnow()):
                return False
        await sending.send(self.runtime, owed, sending.send_text)
        return True
