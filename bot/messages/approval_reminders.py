"""Saying approval reminders and expiries (claimed by bot/services/approval_reminders.py): a reminder mentions the
approvers in the review card's thread (with none named, it says workspace admins can approve and mentions Picmim's
admins); an expired post's card and status message say it was not published, the approvers hear it in the card's
thread and the author gets a notice with Reschedule. All through the outbox, so a Slack outage delays them and loses
none."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from bot.messages import outbox as sending
from bot.messages.post_status import update_post_message
from bot.messages.review_card import current_card, refresh_card, tell_author
from bot.services import approval_reminders, approvals
from bot.services.approval_reminders import Reminder
from bot.storage.models import Post, utcnow
from bot.views import approvals as views

log = logging.getLogger(__name__)


class ApprovalReminders:
    """The job: `tick()` sends the reminders that are due and expires the posts left too long."""

    def __init__(self, runtime, clock: Callable[[], datetime] = utcnow):
        self.runtime, self.clock = runtime, clock

    async def tick(self) -> tuple[int, int]:
        """(reminders sent, posts expired) by this process."""
        now = self.clock()
        async with self.runtime.sessions() as session:
            reminders = await approval_reminders.claim_reminders(session, now)
        for reminder in reminders:
            try:
                await self.remind(reminder)
            except Exception:  # one post's trouble must not hold the others back
                log.exception("Could not send approval reminder %d of post %s", reminder.number, reminder.post_id)
        async with self.runtime.sessions() as session:
            expired = await approval_reminders.claim_expiries(session, now)
        for post_id in expired:
            try:
                await self.expire(post_id)
            except Exception:
                log.exception("Could not say that post %s expired", post_id)
        return len(reminders), len(expired)

    async def remind(self, reminder: Reminder) -> None:
        post, reviewing, card = await current_card(self.runtime, reminder.post_id)
        if post is None or not post.review_ts:
            return
        # Nobody named as approver: admins approve, and those Picmim knows by name (its roles) are mentioned.
        admins_approve = approvals.admins_review(reviewing)
        said = views.reminder_reply(card, reminder.number, reminder.most, reminder.waited,
                                    admins_approve=admins_approve,
                                    picmim_admins=(reviewing.admin_user_ids or []) if admins_approve else (),
                                    picmim_admin_group=reviewing.admin_usergroup_id if admins_approve else None)
        await sending.notify(self.runtime, post.workspace_id, post.review_channel_id, said, thread_ts=post.review_ts)

    async def expire(self, post_id: int) -> None:
        async with self.runtime.sessions() as session:
            post = await session.get(Post, post_id)
            await session.commit()
        if post is None:
            return
        await refresh_card(self.runtime, post_id)  # the card loses its buttons and says why
        await update_post_message(self.runtime, post_id)
        if post.review_ts:
            await sending.notify(self.runtime, post.workspace_id, post.review_channel_id,
                                 views.expired_reply(post.scheduled_at), thread_ts=post.review_ts)
        text, blocks = views.expired_notice(post.author_user_id, post.id, post.scheduled_at)
        await tell_author(self.runtime, post, text, on_card=False, blocks=blocks)
