"""Follow-ups in-process (a real database, the time handed in): which are due and when they are too late, the
claim between two processes, the comparison with the account's usual post (none below three earlier posts),
the message's words (the account's figures the same lines every time, one not returned now "not available",
never 0), and a platform that asked Picmim to wait is not asked again for them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update

from bot.services import followups, outbox
from bot.services.followups import DueFollowUp
from bot.services.metric_sync import MetricSync
from bot.storage import db
from bot.storage.models import (
    Account,
    MetricSnapshot,
    OutboxMessage,
    Post,
    PostStatus,
    PostTarget,
    TargetStatus,
    Workspace,
)
from bot.views.followups import followup_message
from tests.journeys import add_account

NOW = datetime(2026, 3, 20, 12, 0, tzinfo=UTC)


@pytest.fixture
def sessions(engine):
    return db.session_factory(engine)


async def _post(sessions, account_id: int, live: datetime, *, message_ts: str | None = "1.000100",
                **figures: float) -> int:
    """A post live on the account since `live` (its status message `message_ts`), with figures taken at NOW."""
    async with sessions() as session:
        account = await session.get(Account, account_id)
        post = Post(workspace_id=account.workspace_id, author_user_id="U0001", text="Launch",
                    status=PostStatus.PUBLISHED, channel_id="C0001", message_ts=message_ts)
        remote_id = f"{live.timestamp():.0f}"
        post.targets = [PostTarget(account_id=account_id, status=TargetStatus.PUBLISHED, remote_id=remote_id,
                                   remote_url=f"https://x.com/acme/status/{remote_id}", published_at=live)]
        session.add(post)
        await session.flush()
        session.add_all(MetricSnapshot(account_id=account_id, target_id=post.targets[0].id, metric=k, value=v,
                                       captured_at=NOW) for k, v in figures.items())
        await session.commit()
        return post.id


async def _earlier(sessions, account_id: int, live: datetime, at_age: timedelta, **figures: float) -> None:
    """An earlier post with figures taken `at_age` after it went live."""
    async with sessions() as session:
        account = await session.get(Account, account_id)
        post = Post(workspace_id=account.workspace_id, author_user_id="U0001", text="Earlier",
                    status=PostStatus.PUBLISHED)
        post.targets = [PostTarget(account_id=account_id, status=TargetStatus.PUBLISHED,
                                   remote_id=f"e{live.timestamp():.0f}", published_at=live)]
        session.add(post)
        await session.flush()
        session.add_all(MetricSnapshot(account_id=account_id, target_id=post.targets[0].id, metric=k, value=v,
                                       captured_at=live + at_age) for k, v in figures.items())
        await session.commit()


async def _due(sessions, now=NOW):
    async with sessions() as session:
        return await followups.due(session, now)


async def test_due_once_its_time_comes_and_not_when_too_late_off_or_without_a_status_message(sessions):
    account = await add_account(sessions, "x", "profile", "Acme")
    day = await _post(sessions, account, NOW - timedelta(hours=24, minutes=1))
    await _post(sessions, account, NOW - timedelta(hours=23))  # not yet
    await _post(sessions, account, NOW - timedelta(hours=36, minutes=1))  # 12 hours late: skipped
    week = await _post(sessions, account, NOW - timedelta(days=7, minutes=5))
    await _post(sessions, account, NOW - timedelta(hours=24, minutes=1), message_ts=None)  # no status message
    assert await _due(sessions) == [DueFollowUp(day, 24), DueFollowUp(week, 168)]

    async with sessions() as session:
        await session.execute(update(Workspace).values(followup_hours=[]))
        await session.commit()
    assert await _due(sessions) == []
    async with sessions() as session:
        await session.execute(update(Workspace).values(followup_hours=[72]))
        await session.commit()
    assert await _due(sessions, NOW + timedelta(hours=48)) == [DueFollowUp(day, 72)]


async def test_of_two_processes_one_claims_it_and_once_handed_over_it_is_never_due_again(sessions):
    account = await add_account(sessions, "x", "profile", "Acme")
    post_id = await _post(sessions, account, NOW - timedelta(hours=24, minutes=1))
    item = DueFollowUp(post_id, 24)
    async with sessions() as session:
        assert await followups.claim(session, item, "a", NOW)
    async with sessions() as session:
        assert not await followups.claim(session, item, "b", NOW)
    assert await _due(sessions) == []  # held
    # The holder died: once its lease runs out, the other process takes it.
    later = NOW + followups.LEASE + timedelta(seconds=1)
    async with sessions() as session:
        assert await followups.claim(session, item, "b", later)
    owed = outbox.Owed(outbox.NOTICE, 1, key=followups.key(post_id, 24), channel_id="C0001", once=True,
                       payload={"text": "24 hours on", "thread_ts": "1.000100"})
    async with sessions() as session:
        assert not await followups.hand_over(session, item, "a", owed, later, later), "a lost its lease"
    async with sessions() as session:
        assert await followups.hand_over(session, item, "b", owed, later, later)
    async with sessions() as session:
        [row] = (await session.scalars(select(OutboxMessage))).all()
        assert (row.key, row.state.value, row.payload["thread_ts"]) == (f"followup:{post_id}:24", "pending", "1.000100")
    assert await _due(sessions, later) == []
    async with sessions() as session:
        assert not await followups.claim(session, item, "a", later + timedelta(hours=1))


async def test_each_figure_is_compared_with_the_middle_of_three_or_more_earlier_posts(sessions):
    account = await add_account(sessions, "x", "profile", "Acme")
    live = NOW - timedelta(hours=24)
    post_id = await _post(sessions, account, live, impression_count=4210, like_count=3, reply_count=0)
    day = timedelta(hours=23)
    await _earlier(sessions, account, live - timedelta(days=10), day, impression_count=1000, like_count=6)
    await _earlier(sessions, account, live - timedelta(days=20), day, impression_count=1830, like_count=6)
    async with sessions() as session:
        two = await followups.build(session, DueFollowUp(post_id, 24), NOW)
    [target] = two.targets
    assert [(f.label, f.value, f.usual) for f in target.figures] == [
        ("Impressions", 4210, None), ("Likes", 3, None), ("Reposts", None, None), ("Replies", 0, None),
        ("Quotes", None, None), ("Bookmarks", None, None)]
    blocks, text = followup_message(two)
    shown = str(blocks)
    assert "Impressions 4,210\\nLikes 3\\nReposts _not available_\\nReplies 0" in shown
    assert "your usual" not in shown
    assert "No comparison for X · Acme yet: it takes 3 earlier posts" in shown

    # A third, and one whose figures were taken too early to count (an hour old), and one older than 90 days.
    await _earlier(sessions, account, live - timedelta(days=30), day, impression_count=5000, like_count=12)
    await _earlier(sessions, account, live - timedelta(days=5), timedelta(hours=1), impression_count=1, like_count=1)
    await _earlier(sessions, account, live - timedelta(days=95), day, impression_count=1, like_count=1)
    async with sessions() as session:
        three = await followups.build(session, DueFollowUp(post_id, 24), NOW)
    blocks, text = followup_message(three)
    shown = str(blocks)
    assert "Impressions 4,210 · 2.3× your usual" in shown  # the middle of 1,000, 1,830 and 5,000
    assert "Likes 3 · 0.5× your usual" in shown
    assert "Replies 0" in shown and "Replies 0 ·" not in shown, "no earlier post had replies: nothing to compare"
    assert text.startswith("24 hours on: how this post is doing\nX · Acme: Impressions 4,210 · 2.3× your usual")


async def test_a_platform_that_asked_to_wait_is_not_asked_and_the_reply_says_figures_are_missing(sessions):
    account = await add_account(sessions, "x", "profile", "Acme")
    post_id = await _post(sessions, account, NOW - timedelta(days=7, minutes=1))
    async with sessions() as session:
        await session.execute(update(Account).values(metrics_claimed_until=NOW + timedelta(minutes=15),
                                                     metrics_error="X asked Picmim to slow down; it reads the "
                                                                   "figures again when allowed."))
        await session.commit()

    class Refusing:  # any call would be a second request to a platform that asked Picmim to wait
        async def fetch_metrics(self, *args):
            raise AssertionError("asked while held")

    sync = MetricSync(sessions, {"x": Refusing()})
    [target_id] = (await _targets(sessions, post_id))
    assert await sync.fetch_now(account, [target_id], NOW) is None
    async with sessions() as session:
        content = await followups.build(session, DueFollowUp(post_id, 168), NOW)
    blocks, _ = followup_message(content)
    assert "7 days on: how this post is doing" in str(blocks)
    assert "No figures yet: X asked Picmim to slow down; it reads the figures again when allowed." in str(blocks)


async def _targets(sessions, post_id: int) -> list[int]:
    async with sessions() as session:
        return list((await session.scalars(select(PostTarget.id).where(PostTarget.post_id == post_id))).all())


async def test_a_figure_the_platform_gives_but_did_not_return_is_not_available_never_0_nor_compared(sessions):
    """Bluesky gives likes, reposts, replies and quotes for a post, and no views. This time it returned no quotes:
    the line says "not available" (the earlier posts' quotes are not compared with a 0), and views are left out."""
    account = await add_account(sessions, "bluesky", "profile", "Acme")
    live = NOW - timedelta(hours=24)
    post_id = await _post(sessions, account, live, likeCount=12, repostCount=3, replyCount=0, indexedCount=7)
    for days in (10, 20, 30):
        await _earlier(sessions, account, live - timedelta(days=days), timedelta(hours=23), likeCount=6,
                       repostCount=1, replyCount=2, quoteCount=4)
    async with sessions() as session:
        content = await followups.build(session, DueFollowUp(post_id, 24), NOW)
    [target] = content.targets
    assert [(f.label, f.value, f.usual) for f in target.figures] == [
        ("Likes", 12, 6), ("Reposts", 3, 1), ("Replies", 0, 2), ("Quotes", None, 4)]
    blocks, text = followup_message(content)
    shown = str(blocks)
    assert ("Likes 12 · 2.0× your usual\\nReposts 3 · 3.0× your usual\\nReplies 0 · 0.0× your usual\\n"
            "Quotes _not available_'") in shown
    assert "Views" not in shown and "Quotes 0" not in shown
    assert "“Not available”: the platform did not give that figure for this post this time" in shown
    # The notification keeps to the figures there are.
    assert text.splitlines()[1] == ("Bluesky · Acme: Likes 12 · 2.0× your usual, Reposts 3 · 3.0× your usual, "
                                    "Replies 0 · 0.0× your usual")

    # The next follow-up (7 days) has every figure: the same lines, and no "not available" note.
    async with sessions() as session:
        session.add_all(MetricSnapshot(account_id=account, target_id=target_id, metric=k, value=v,
                                       captured_at=NOW + timedelta(days=6))
                        for target_id in await _targets(sessions, post_id)
                        for k, v in (("likeCount", 30), ("repostCount", 5), ("replyCount", 1), ("quoteCount", 2)))
        await session.commit()
    async with sessions() as session:
        week = await followups.build(session, DueFollowUp(post_id, 168), NOW + timedelta(days=6, hours=1))
    assert [(f.label, f.value) for f in week.targets[0].figures] == [
        ("Likes", 30), ("Reposts", 5), ("Replies", 1), ("Quotes", 2)]
    assert "not available" not in str(followup_message(week)[0]).lower()
