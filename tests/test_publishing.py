"""Publishing due targets against the fake X: exactly once, retries as the platform asks, failures that
say why, and outcomes nobody knows shown to a person instead of being sent again."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlalchemy import func, select, update

from bot.platforms.x import ADAPTER as XAdapter
from bot.sandbox.fakes.x import FakeX
from bot.services.connections import apply_tokens
from bot.services.publishing import (
    Publisher,
    RetryPolicy,
    claim_due,
    mark_started,
    retry_target,
    schedule_targets,
)
from bot.services.workspaces import ensure_workspace
from bot.storage import db
from bot.storage.models import (
    Account,
    Connection,
    ConnectionStatus,
    Post,
    PostStatus,
    PostTarget,
    TargetStatus,
    utcnow,
)
from tests.platform_fixtures import platform_fake_fixtures

REDIRECT_URI = "https://picmim.example/oauth/x/callback"

platform_server, fake, http, adapter, tokens = platform_fake_fixtures(FakeX, XAdapter, REDIRECT_URI, pkce=True)


class Clock:
    def __init__(self):
        self.now = utcnow()

    def __call__(self):
        return self.now


async def no_media(session, post, adapter, account=None):
    return [], []


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
async def account(engine, tokens):
    async with db.session_factory(engine)() as session:
        ws = await ensure_workspace(session, "T1")
        await session.flush()
        connection = Connection(workspace_id=ws.id, platform="x", external_user_id=tokens.external_user_id,
                                display_name="Acme Marketing")
        apply_tokens(connection, tokens)
        session.add(connection)
        await session.flush()
        acct = Account(workspace_id=ws.id, connection_id=connection.id, platform="x",
                       external_id=tokens.external_user_id, kind="profile", name="Acme Marketing",
                       handle="acmemktg")
        session.add(acct)
        await session.commit()
        return acct


async def _post(engine, account, text="Hello from Picmim", when=None) -> int:
    async with db.session_factory(engine)() as session:
        post = Post(workspace_id=account.workspace_id, author_user_id="U1", text=text,
                    targets=[PostTarget(account_id=account.id)])
        session.add(post)
        schedule_targets(post, when or utcnow() - timedelta(seconds=1))
        await session.commit()
        return post.targets[0].id


def _publisher(engine, adapter, clock, **kw) -> Publisher:
    return Publisher(db.session_factory(engine), {"x": adapter}, no_media, owner="test", clock=clock, **kw)


async def _target(engine, target_id) -> PostTarget:
    async with db.session_factory(engine)() as session:
        return await session.get(PostTarget, target_id)


async def test_a_due_post_is_published_with_its_link(engine, account, adapter, fake, clock):
    target_id = await _post(engine, account)
    [outcome] = await _publisher(engine, adapter, clock).tick()
    assert outcome.status is TargetStatus.PUBLISHED
    target = await _target(engine, target_id)
    assert target.remote_url.startswith("https://x.com/acmemktg/status/")
    assert [p["text"] for p in fake.posts.values()] == ["Hello from Picmim"]
    async with db.session_factory(engine)() as session:
        assert (await session.get(Post, target.post_id)).status is PostStatus.PUBLISHED
    assert await _publisher(engine, adapter, clock).tick() == [], "published once, never again"


async def test_a_post_not_yet_due_waits(engine, account, adapter, clock):
    await _post(engine, account, when=utcnow() + timedelta(hours=1))
    assert await _publisher(engine, adapter, clock).tick() == []
    clock.now += timedelta(hours=1, seconds=1)
    [outcome] = await _publisher(engine, adapter, clock).tick()
    assert outcome.status is TargetStatus.PUBLISHED


async def test_two_processes_claim_each_target_exactly_once(engine, account, database):
    async with db.session_factory(engine)() as session:
        posts = [Post(workspace_id=account.workspace_id, author_user_id="U1", text=f"post {i}",
                      targets=[PostTarget(account_id=account.id)]) for i in range(200)]
        for post in posts:
            schedule_targets(post, utcnow() - timedelta(seconds=1))
        session.add_all(posts)
        await session.commit()
    other = db.create_engine(database.url)  # a second process has its own connections
    try:
        async def drain(eng, owner):
            batches = []
            while ids := await claim_due(db.session_factory(eng)(), owner, utcnow(), limit=7):
                batches.append(ids)
                await asyncio.sleep(0)
            return batches

        first_batches, second_batches = await asyncio.gather(drain(engine, "one"), drain(other, "two"))
        first = [i for batch in first_batches for i in batch]
        second = [i for batch in second_batches for i in batch]
    finally:
        await other.dispose()
    assert max(len(batch) for batch in first_batches + second_batches) <= 7, "a claim takes at most its limit"
    assert not set(first) & set(second)
    assert len(first) + len(second) == 200 == len(set(first) | set(second))
    async with db.session_factory(engine)() as session:
        leased = await session.scalar(select(func.count()).where(PostTarget.status == TargetStatus.PUBLISHING))
    assert leased == 200


async def test_a_rate_limit_waits_for_xs_reset_without_using_up_tries(engine, account, adapter, fake, clock):
    target_id = await _post(engine, account)
    async with db.session_factory(engine)() as session:
        (await session.get(Post, (await session.get(PostTarget, target_id)).post_id)).timezone = "Europe/Madrid"
        await session.commit()
    fake.rate_limit("/2/tweets", method="POST")
    [outcome] = await _publisher(engine, adapter, clock).tick()
    assert outcome.status is TargetStatus.SCHEDULED
    target = await _target(engine, target_id)
    wait = (target.next_attempt_at - clock.now).total_seconds()
    assert 800 <= wait <= 905, "X's x-rate-limit-reset is 900 s away in the fake"
    madrid = target.next_attempt_at.astimezone(ZoneInfo("Europe/Madrid"))
    assert target.attempts == 0 and f"tries again at {madrid:%H:%M} ({madrid.tzname()})" in target.last_error, \
        "said in the author's zone"
    assert await _publisher(engine, adapter, clock).tick() == [], "not before the reset"
    clock.now = target.next_attempt_at + timedelta(seconds=1)
    [outcome] = await _publisher(engine, adapter, clock).tick()
    assert outcome.status is TargetStatus.PUBLISHED
    assert len(fake.posts) == 1


async def test_transient_failures_back_off_then_fail_with_the_reason(engine, account, adapter, fake, clock):
    target_id = await _post(engine, account)
    fake.fail("/2/tweets", status=503, times=3)
    publisher = _publisher(engine, adapter, clock, policy=RetryPolicy(max_attempts=3,
                                                                      first_delay=timedelta(seconds=30)))
    waits = []
    for _ in range(3):
        [outcome] = await publisher.tick()
        target = await _target(engine, target_id)
        if outcome.status is TargetStatus.SCHEDULED:
            waits.append((target.next_attempt_at - clock.now).total_seconds())
            clock.now = target.next_attempt_at
    assert waits == [30, 60]
    assert outcome.status is TargetStatus.FAILED and "kept failing after 3 tries" in outcome.detail
    assert fake.posts == {}


async def test_a_revoked_grant_fails_at_once_with_reconnect_guidance(engine, account, adapter, fake, clock):
    target_id = await _post(engine, account)
    fake.revoke()
    [outcome] = await _publisher(engine, adapter, clock).tick()
    assert outcome.status is TargetStatus.FAILED
    assert "Reconnect" in outcome.detail
    async with db.session_factory(engine)() as session:
        connection = await session.get(Connection, account.connection_id)
        assert connection.status in (ConnectionStatus.REVOKED, ConnectionStatus.EXPIRED)
        post = await session.get(Post, (await _target(engine, target_id)).post_id)
        assert post.status is PostStatus.FAILED


async def test_an_expired_token_is_refreshed_before_publishing(engine, account, adapter, fake, clock):
    target_id = await _post(engine, account)
    async with db.session_factory(engine)() as session:
        connection = await session.get(Connection, account.connection_id)
        connection.token_expires_at = clock.now - timedelta(minutes=1)
        old = connection.access_token
        await session.commit()
    fake.expire()
    [outcome] = await _publisher(engine, adapter, clock).tick()
    assert outcome.status is TargetStatus.PUBLISHED
    async with db.session_factory(engine)() as session:
        assert (await session.get(Connection, account.connection_id)).access_token != old
    assert (await _target(engine, target_id)).remote_id


async def test_a_token_someone_else_is_renewing_waits_for_it_instead_of_failing(engine, account, adapter, fake,
                                                                                 clock):
    target_id = await _post(engine, account, text="After the renewal")
    async with db.session_factory(engine)() as session:
        connection = await session.get(Connection, account.connection_id)
        connection.token_expires_at = clock.now - timedelta(minutes=1)
        connection.refresh_lease_until = clock.now + timedelta(minutes=1)  # the token-health job is at it
        await session.commit()
    fake.expire()
    [outcome] = await _publisher(engine, adapter, clock).tick()
    assert outcome.status is TargetStatus.SCHEDULED and "renewing this account's sign-in" in outcome.detail
    target = await _target(engine, target_id)
    assert target.attempts == 0 and target.next_attempt_at == clock.now + timedelta(seconds=30)
    assert fake.posts == {}
    clock.now += timedelta(minutes=2)  # the other holder's lease ran out without a fresh token
    [outcome] = await _publisher(engine, adapter, clock).tick()
    assert outcome.status is TargetStatus.PUBLISHED
    assert [p["text"] for p in fake.posts.values()] == ["After the renewal"]


async def test_a_timeout_after_sending_is_unconfirmed_and_never_resent(engine, account, adapter, fake, clock, http):
    http.timeout = httpx.Timeout(0.5)
    target_id = await _post(engine, account, text="Did it go?")
    fake.stall("/2/tweets", method="POST")
    [outcome] = await _publisher(engine, adapter, clock).tick()
    assert outcome.status is TargetStatus.UNCONFIRMED and "may or may not be live" in outcome.detail
    assert await _publisher(engine, adapter, clock).tick() == []
    assert [p["text"] for p in fake.posts.values()] == ["Did it go?"], "it went out once"
    async with db.session_factory(engine)() as session:
        assert await retry_target(session, account.workspace_id, target_id, clock.now), "a person may resend"
        await session.commit()


async def test_a_lease_that_ran_out_mid_call_becomes_unconfirmed(engine, account, adapter, fake, clock):
    target_id = await _post(engine, account)
    async with db.session_factory(engine)() as session:
        assert await claim_due(session, "crashed-process", clock.now) == [target_id]
        assert await mark_started(session, "crashed-process", [target_id], clock.now) == {target_id}
        await session.commit()  # then the process died during its call
    clock.now += timedelta(minutes=16)
    assert await _publisher(engine, adapter, clock).tick() == []
    target = await _target(engine, target_id)
    assert target.status is TargetStatus.UNCONFIRMED and "may or may not be live" in target.last_error
    async with db.session_factory(engine)() as session:
        assert (await session.get(Post, target.post_id)).status is PostStatus.FAILED
    assert fake.posts == {}, "never sent again by itself"


async def test_a_target_claimed_but_never_called_is_published_after_the_lease(engine, account, adapter, fake,
                                                                              clock):
    target_id = await _post(engine, account, text="Claimed, then the process died")
    async with db.session_factory(engine)() as session:
        assert await claim_due(session, "crashed-process", clock.now) == [target_id]
    assert await _publisher(engine, adapter, clock).tick() == [], "the lease is respected while it runs"
    clock.now += timedelta(minutes=16)
    [outcome] = await _publisher(engine, adapter, clock).tick()
    assert outcome.status is TargetStatus.PUBLISHED
    assert (await _target(engine, target_id)).attempts == 1, "the dead claim was not a try"
    assert [p["text"] for p in fake.posts.values()] == ["Claimed, then the process died"]


async def test_a_lost_lease_is_not_called(engine, account, adapter, fake, clock):
    target_id = await _post(engine, account)
    async with db.session_factory(engine)() as session:
        assert await claim_due(session, "slow-process", clock.now) == [target_id]
        # Another process took the target over meanwhile (its lease expired and it was claimed anew).
        await session.execute(update(PostTarget).values(lease_owner="other-process"))
        assert await mark_started(session, "slow-process", [target_id], clock.now) == set()
        await session.commit()
    assert fake.posts == {}


async def test_a_post_x_refuses_fails_with_xs_reason(engine, account, adapter, clock):
    target_id = await _post(engine, account, text="x" * 300)
    [outcome] = await _publisher(engine, adapter, clock).tick()
    assert outcome.status is TargetStatus.FAILED and "280" in outcome.detail
    assert (await _target(engine, target_id)).error_kind == "rejected"



async def test_targets_stranded_by_a_crash_between_accept_and_release_become_due(engine, account, adapter, clock):
    target_id = await _post(engine, account)
    async with db.session_factory(engine)() as session:
        target = await session.get(PostTarget, target_id)
        target.next_attempt_at = None  # accepted, status message never made: the process died here
        await session.commit()
    assert await _publisher(engine, adapter, clock).tick() == [], "a fresh post waits for its message"
    clock.now += timedelta(minutes=6)
    [outcome] = await _publisher(engine, adapter, clock).tick()
    assert outcome.status is TargetStatus.PUBLISHED


async def test_a_post_to_two_accounts_is_published_when_both_are(engine, account, adapter, fake, clock):
    async with db.session_factory(engine)() as session:
        twin = Account(workspace_id=account.workspace_id, connection_id=account.connection_id, platform="x",
                       external_id="twin", kind="profile", name="Acme Twin", handle="acmemktg")
        session.add(twin)
        await session.flush()
        post = Post(workspace_id=account.workspace_id, author_user_id="U1", text="Twice",
                    targets=[PostTarget(account_id=account.id, variant_text="Twice, first"),
                             PostTarget(account_id=twin.id, variant_text="Twice, second")])  # X refuses duplicates
        session.add(post)
        schedule_targets(post, clock.now - timedelta(seconds=1))
        await session.commit()
        post_id = post.id
    outcomes = await _publisher(engine, adapter, clock).tick()  # two workers, one target each
    assert [o.status for o in outcomes] == [TargetStatus.PUBLISHED] * 2
    async with db.session_factory(engine)() as session:
        assert (await session.get(Post, post_id)).status is PostStatus.PUBLISHED
