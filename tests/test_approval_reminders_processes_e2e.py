"""Two real server processes on one PostgreSQL database, both ticking: every approval reminder and every expiry is
said once (each is claimed in the database before anyone is told)."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from bot.services.workspaces import ensure_workspace
from bot.storage import db
from bot.storage.models import Account, Post, PostStatus, PostTarget, TargetStatus, utcnow
from tests.conftest import SECRET_KEY, SIGNING_SECRET
from tests.server import ServerProcess, base_env

pytestmark = pytest.mark.postgres

WAITING, LATE = 12, 12


async def _seed(engine) -> None:
    """Approval on; 12 posts waiting 5 hours for a first reminder, 12 whose time passed 2 hours ago."""
    now = utcnow()
    async with db.session_factory(engine)() as session:
        ws = await ensure_workspace(session, "T0001")
        ws.approval_required, ws.approval_channel_id, ws.approver_user_ids = True, "C0APPROVE", ["U0A01"]
        await session.flush()
        account = Account(workspace_id=ws.id, platform="x", external_id="1", kind="profile", name="Acme")
        session.add(account)
        await session.flush()
        for n in range(WAITING + LATE):
            late = n >= WAITING
            session.add(Post(
                workspace_id=ws.id, author_user_id="U0001", text=f"post {n}", status=PostStatus.PENDING_APPROVAL,
                scheduled_at=now - timedelta(hours=2) if late else now + timedelta(days=1),
                submitted_at=now - timedelta(hours=5), channel_id="C0001", message_ts=f"1700000000.{n:06d}",
                review_channel_id="C0APPROVE", review_ts=f"1700000100.{n:06d}",
                targets=[PostTarget(account_id=account.id, status=TargetStatus.PENDING)]))
        await session.commit()


def _thread_replies(fake_slack, starting: str) -> Counter:
    return Counter(m["thread_ts"] for m in fake_slack.posted
                   if m["thread_ts"] and m["text"].startswith(starting))


async def _expired(engine) -> int:
    async with db.session_factory(engine)() as session:
        return await session.scalar(select(func.count()).where(Post.status == PostStatus.EXPIRED))


async def test_two_processes_remind_and_expire_each_post_once(engine, database, fake_slack, tmp_path):
    await _seed(engine)
    env = base_env(SLACK_SIGNING_SECRET=SIGNING_SECRET, SLACK_BOT_TOKEN="xoxb-fake-T0001",
                   SLACK_API_URL=fake_slack.api_url, DATABASE_URL=database.url, PICMIM_SECRET_KEY=SECRET_KEY,
                   PICMIM_TICK_SECONDS="0.2", LOG_LEVEL="WARNING")
    servers = []
    for i in range(2):
        (tmp_path / f"process-{i}").mkdir()
        servers.append(ServerProcess(dict(env), cwd=tmp_path / f"process-{i}"))
    fake_slack.reset()
    try:
        for server in servers:
            server.start()
        deadline = time.monotonic() + 60
        while (len(_thread_replies(fake_slack, ":bell: Reminder")) < WAITING
               or len(_thread_replies(fake_slack, ":alarm_clock: Nobody approved")) < LATE):
            assert time.monotonic() < deadline, "not every reminder and expiry was said in time"
            await asyncio.sleep(0.1)
        await asyncio.sleep(1)  # five more ticks of each process: a second telling would have come by now
    finally:
        for server in servers:
            server.stop()
    reminders = _thread_replies(fake_slack, ":bell: Reminder 1 of 2")
    assert len(reminders) == WAITING and set(reminders.values()) == {1}, "one first reminder per waiting post"
    assert not _thread_replies(fake_slack, ":bell: Reminder 2"), "the second is 4 hours after the first"
    expiries = _thread_replies(fake_slack, ":alarm_clock: Nobody approved")
    assert len(expiries) == LATE and set(expiries.values()) == {1}
    notices = _thread_replies(fake_slack, "<@U0001> your post for")
    assert len(notices) == LATE and set(notices.values()) == {1}, "the author is told once, under each post"
    assert await _expired(engine) == LATE
