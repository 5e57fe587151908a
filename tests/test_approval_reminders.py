"""Approval reminders and expiry on their own (SQLite, and PostgreSQL when TEST_DATABASE_URL is set): when each is
due, and two processes claiming at the same moment do each one once."""

from __future__ import annotations

import asyncio
import itertools
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from bot.services import approval_reminders
from bot.services.approvals import ReviewCard
from bot.services.workspaces import ensure_workspace
from bot.storage import db
from bot.storage.models import Account, AuditEntry, Post, PostStatus, PostTarget, TargetStatus
from bot.views import approvals as views

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
_accounts = itertools.count(1)


async def _waiting(engine, *, submitted: timedelta, due: datetime | None, card: bool = True) -> int:
    """A post sent for approval `submitted` before NOW (its card in C1 unless not `card`), due at `due`."""
    async with db.session_factory(engine)() as session:
        workspace = await ensure_workspace(session, "T1")
        await session.flush()
        account = Account(workspace_id=workspace.id, platform="x", external_id=str(next(_accounts)),
                          kind="profile", name="Acme")
        session.add(account)
        await session.flush()
        post = Post(workspace_id=workspace.id, author_user_id="U1", text="hello", status=PostStatus.PENDING_APPROVAL,
                    scheduled_at=due, submitted_at=NOW - submitted, review_channel_id="C1" if card else None,
                    review_ts="1.1" if card else None,
                    targets=[PostTarget(account_id=account.id, status=TargetStatus.PENDING)])
        session.add(post)
        await session.commit()
        return post.id


async def _claim_twice(engine, claim, now: datetime):
    """Two processes ticking at the same moment, each with its own connection."""
    sessions = db.session_factory(engine)

    async def one():
        async with sessions() as session:
            return await claim(session, now)
    return await asyncio.gather(one(), one())


async def test_a_reminder_is_due_every_few_hours_up_to_the_most_and_claimed_once(engine):
    post_id = await _waiting(engine, submitted=timedelta(hours=3, minutes=59), due=NOW + timedelta(days=1))
    claim = approval_reminders.claim_reminders
    assert await _claim_twice(engine, claim, NOW) == [[], []], "not yet: 4 hours by default"

    first = await _claim_twice(engine, claim, NOW + timedelta(minutes=1))
    assert sorted(len(found) for found in first) == [0, 1], "one process sends it"
    [reminder] = first[0] or first[1]
    assert (reminder.post_id, reminder.number, reminder.most, reminder.waited) == (post_id, 1, 2, timedelta(hours=4))
    assert await _claim_twice(engine, claim, NOW + timedelta(hours=4)) == [[], []], "4 hours after the last one"
    second = await _claim_twice(engine, claim, NOW + timedelta(hours=4, minutes=1))
    assert [r.number for found in second for r in found] == [2]
    assert await _claim_twice(engine, claim, NOW + timedelta(days=3)) == [[], []], "at most 2"


async def test_no_reminder_without_a_card_or_for_a_post_whose_time_is_long_past(engine):
    await _waiting(engine, submitted=timedelta(hours=5), due=None, card=False)
    await _waiting(engine, submitted=timedelta(hours=5), due=NOW - timedelta(hours=2))
    async with db.session_factory(engine)() as session:
        assert await approval_reminders.claim_reminders(session, NOW) == []


async def test_a_post_expires_once_after_its_grace_period(engine):
    post_id = await _waiting(engine, submitted=timedelta(hours=1), due=NOW - timedelta(minutes=59))
    await _waiting(engine, submitted=timedelta(hours=1), due=None)  # "as soon as it is approved": never expires
    claim = approval_reminders.claim_expiries
    assert await _claim_twice(engine, claim, NOW) == [[], []], "an hour's grace by default"
    found = await _claim_twice(engine, claim, NOW + timedelta(minutes=1))
    assert sorted(found) == [[], [post_id]]
    async with db.session_factory(engine)() as session:
        post = await session.get(Post, post_id)
        assert post.status is PostStatus.EXPIRED
        entries = [tuple(row) for row in await session.execute(
            select(AuditEntry.actor, AuditEntry.action).where(AuditEntry.post_id == post_id))]
        assert entries == [("Picmim", "expired")]


def test_the_words_approvers_and_authors_read():
    card = ReviewCard(7, 1, "U1", PostStatus.PENDING_APPROVAL, NOW, None, (), (), (), (), 2, "white_check_mark",
                            "x", "<@U2> and members of <!subteam^S1>")
    said = views.reminder_reply(card, 1, 2, timedelta(hours=26))
    assert said.startswith(":bell: Reminder 1 of 2 for <@U2> and members of <!subteam^S1>: <@U1>'s post has been "
                           "waiting for approval for 26 hours (needs 2 approvals).")
    text, blocks = views.expired_notice("U1", 7, NOW)
    assert "was not approved before its time, so Picmim did not publish it" in text
    assert blocks[-1]["elements"][0]["value"] == "7"
