"""Failures reach the team, end to end: two real server processes publish a due post that X refuses; the alerts
channel hears it once, naming the author, what failed and why, with a link to the post's status message. And
in-process: a second look at the same failure announces nothing, a failure after a Retry is announced again (each
target counting its own Retries: two accounts of the same name, or a renamed one, change nothing), and a
workspace without an alerts channel is left to the post's own message."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import select, text, update

from bot import ids
from bot.http import build_client
from bot.platforms.x import ADAPTER as XAdapter
from bot.sandbox.fakes.x import FakeX
from bot.services import failure_alerts
from bot.services.publishing import retry_target, schedule_targets
from bot.storage import crypto, db
from bot.storage.models import Account, Alert, AuditEntry, Post, PostTarget, TargetStatus, Workspace, utcnow
from bot.views.failure_alerts import failure_alert
from tests.conftest import SECRET_KEY, SIGNING_SECRET
from tests.journeys import (
    ALERTS,
    X_UNVISITED_REDIRECT,
    X_USER,
    connect_x,
    publish_x,
    shown,
    status_click,
    wait_until,
)
from tests.platform_fixtures import make_adapter
from tests.server import ServerProcess, base_env
from tests.slack_requests import SlackSender

TEXT = "Our spring collection is here"


@pytest.fixture(scope="module")
def fake_x():
    fake = FakeX().start()
    fake.redirect_uris = {X_UNVISITED_REDIRECT}
    yield fake
    fake.stop()


async def _seed(url: str, fake_x: FakeX) -> tuple[int, int]:
    """An X account whose timeline already has TEXT, the alerts channel set, and a post of the same text due now
    (X refuses a duplicate)."""
    crypto.configure([SECRET_KEY])
    engine = db.create_engine(url)
    http = build_client(fake_x.origins())
    try:
        await db.migrate(engine)
        sessions = db.session_factory(engine)
        adapters = {"x": make_adapter(XAdapter, fake_x, http, X_UNVISITED_REDIRECT)}
        account_id = await connect_x(sessions, fake_x, adapters, X_USER, "Acme Marketing", "acmemktg")
        await publish_x(sessions, adapters, account_id, TEXT, utcnow() - timedelta(days=1))
        async with sessions() as session:
            account = await session.get(Account, account_id)
            await session.execute(update(Workspace).where(Workspace.id == account.workspace_id)
                                  .values(alerts_channel_id=ALERTS))
            post = Post(workspace_id=account.workspace_id, author_user_id="U0AUTHOR", channel_id="C0001", text=TEXT,
                        targets=[PostTarget(account_id=account_id)])
            session.add(post)
            schedule_targets(post, utcnow() - timedelta(seconds=1))
            await session.commit()
            return post.id, post.targets[0].id
    finally:
        await http.aclose()
        await engine.dispose()


def test_a_refused_post_is_announced_once_in_the_alerts_channel_naming_its_author(
        module_database, fake_slack, slack, fake_x, tmp_path_factory):
    post_id, target_id = asyncio.run(_seed(module_database.url, fake_x))
    overrides = ",".join(f"{real}={local}" for real, local in fake_x.origins().items())
    env = base_env(SLACK_SIGNING_SECRET=SIGNING_SECRET, SLACK_BOT_TOKEN="xoxb-fake-T0001",
                   SLACK_API_URL=fake_slack.api_url, DATABASE_URL=module_database.url, PICMIM_SECRET_KEY=SECRET_KEY,
                   PICMIM_ORIGIN_OVERRIDES=overrides, X_CLIENT_ID=fake_x.client_id,
                   X_CLIENT_SECRET=fake_x.client_secret, PICMIM_TICK_SECONDS="0.2", LOG_LEVEL="WARNING")
    servers = [ServerProcess(dict(env), cwd=tmp_path_factory.mktemp(f"failures-{i}")) for i in range(2)]
    try:
        for server in servers:
            server.start()
        [alert] = wait_until(lambda: slack.posted_in(ALERTS), "the failure in the alerts channel", timeout=30)
        [status] = slack.posted_in("C0001")  # the post's own status message, posted first
        text = shown(alert["blocks"])
        assert "<@U0AUTHOR>, your post did not go out on *X · Acme Marketing*." in text
        assert f"> {TEXT}" in text
        assert "*Why:* X does not allow posting the same text twice: change the text." in text
        link = f"https://slack.com/archives/C0001/p{status['ts'].replace('.', '')}"
        assert f"<{link}|Open the post's message>" in text
        # The author presses Retry on the post's message, and X refuses it again: a new failure, announced once more;
        # the first is not announced again meanwhile.
        sender = SlackSender(servers[0].url, SIGNING_SECRET)
        try:
            status_click(sender, slack, SimpleNamespace(id=post_id, channel_id="C0001", message_ts=status["ts"]),
                         ids.POST_RETRY, "retry", user="U0AUTHOR", value=str(target_id))
            wait_until(lambda: len(slack.posted_in(ALERTS)) >= 2, "the second failure announced", timeout=30)
        finally:
            sender.close()
    finally:
        for server in servers:
            server.stop()
    first, second = slack.posted_in(ALERTS)
    assert shown(second["blocks"]) == text, "the same failure again, said the same way"
    assert len(fake_x.calls_to("/2/tweets", "POST")) == 3  # the day-old post, the first try and the retry


# ---- in-process: once per failure ---------------------------------------------------------------------------


async def _failed_post(sessions, alerts_channel: str | None) -> tuple[int, int]:
    async with sessions() as session:
        from bot.services.workspaces import ensure_workspace

        workspace = await ensure_workspace(session, "T0001")
        workspace.alerts_channel_id = alerts_channel
        await session.flush()
        account = Account(workspace_id=workspace.id, platform="x", external_id="1", kind="profile",
                          name="Acme Marketing")
        session.add(account)
        await session.flush()
        post = Post(workspace_id=workspace.id, author_user_id="U0AUTHOR", text="Hello", channel_id="C0001",
                    message_ts="1700000000.000100",
                    targets=[PostTarget(account_id=account.id, status=TargetStatus.FAILED, error_kind="rejected",
                                        last_error="X refused it.")])
        session.add(post)
        await session.commit()
        return post.id, post.targets[0].id


async def test_a_failure_is_announced_once_and_again_after_a_retry_fails(engine):
    sessions = db.session_factory(engine)
    post_id, target_id = await _failed_post(sessions, ALERTS)
    async with sessions() as session:
        [note] = await failure_alerts.new_failures(session, post_id, utcnow())
    assert (note.channel_id, note.author_user_id, note.where, note.reason) == (
        ALERTS, "U0AUTHOR", "X · Acme Marketing", "X refused it.")
    async with sessions() as session:
        assert await failure_alerts.new_failures(session, post_id, utcnow()) == []  # a second look: nothing
    async with sessions() as session:  # Retry, and it fails again
        workspace_id = await session.scalar(select(Post.workspace_id).where(Post.id == post_id))
        assert await retry_target(session, workspace_id, target_id, utcnow(), actor="U0AUTHOR")
        await session.commit()
        await session.execute(update(PostTarget).where(PostTarget.id == target_id)
                              .values(status=TargetStatus.FAILED, last_error="X refused it again."))
        await session.commit()
    async with sessions() as session:
        [again] = await failure_alerts.new_failures(session, post_id, utcnow())
    assert again.reason == "X refused it again."
    async with sessions() as session:
        assert await failure_alerts.new_failures(session, post_id, utcnow()) == []


async def _retry_and_fail_again(sessions, target_id: int, why: str) -> None:
    async with sessions() as session:
        workspace_id = await session.scalar(select(Post.workspace_id).join(PostTarget)
                                            .where(PostTarget.id == target_id))
        assert await retry_target(session, workspace_id, target_id, utcnow(), actor="U0AUTHOR")
        await session.commit()
        await session.execute(update(PostTarget).where(PostTarget.id == target_id)
                              .values(status=TargetStatus.FAILED, last_error=why))
        await session.commit()


async def _announced(sessions, post_id: int) -> list[tuple[int, str, str | None]]:
    async with sessions() as session:
        return [(n.target_id, n.where, n.reason) for n in await failure_alerts.new_failures(session, post_id,
                                                                                           utcnow())]


async def test_two_accounts_of_the_same_name_are_each_announced_and_each_retry_counts_for_its_own(engine):
    """Two X accounts both called "Acme" on one post: each failure is its own, and a Retry of one neither
    announces the other again nor is lost after the account is renamed."""
    sessions = db.session_factory(engine)
    async with sessions() as session:
        from bot.services.workspaces import ensure_workspace

        workspace = await ensure_workspace(session, "T0001")
        workspace.alerts_channel_id = ALERTS
        await session.flush()
        accounts = [Account(workspace_id=workspace.id, platform="x", external_id=str(n), kind="profile", name="Acme")
                    for n in (1, 2)]
        session.add_all(accounts)
        await session.flush()
        post = Post(workspace_id=workspace.id, author_user_id="U0AUTHOR", text="Hello", channel_id="C0001",
                    targets=[PostTarget(account_id=a.id, status=TargetStatus.FAILED, error_kind="rejected",
                                        last_error=f"X refused it ({a.external_id}).") for a in accounts])
        session.add(post)
        await session.commit()
        post_id, (first, second) = post.id, [t.id for t in post.targets]

    assert await _announced(sessions, post_id) == [(first, "X · Acme", "X refused it (1)."),
                                                   (second, "X · Acme", "X refused it (2).")]
    await _retry_and_fail_again(sessions, first, "X refused it again (1).")
    assert await _announced(sessions, post_id) == [(first, "X · Acme", "X refused it again (1).")], \
        "the other Acme's failure was announced already: not again"
    async with sessions() as session:  # the account is renamed, then its Retry fails once more
        await session.execute(update(Account).where(Account.external_id == "1").values(name="Acme Europe"))
        await session.commit()
    await _retry_and_fail_again(sessions, first, "X refused it a third time.")
    assert await _announced(sessions, post_id) == [(first, "X · Acme Europe", "X refused it a third time.")]
    assert await _announced(sessions, post_id) == []


async def test_an_unconfirmed_post_found_failed_is_the_same_failure_not_a_second_one(engine):
    sessions = db.session_factory(engine)
    post_id, target_id = await _failed_post(sessions, ALERTS)
    async with sessions() as session:
        await session.execute(update(PostTarget).where(PostTarget.id == target_id)
                              .values(status=TargetStatus.UNCONFIRMED, last_error="X did not answer in time."))
        await session.commit()
    assert [(t, r) for t, _, r in await _announced(sessions, post_id)] == [(target_id, "X did not answer in time.")]
    async with sessions() as session:
        await session.execute(update(PostTarget).where(PostTarget.id == target_id)
                              .values(status=TargetStatus.FAILED, last_error="X refused it."))
        await session.commit()
    assert await _announced(sessions, post_id) == []
    await _retry_and_fail_again(sessions, target_id, "X refused it again.")
    assert [(t, r) for t, _, r in await _announced(sessions, post_id)] == [(target_id, "X refused it again.")]


async def test_without_an_alerts_channel_the_posts_own_message_is_where_it_is_said(engine):
    sessions = db.session_factory(engine)
    post_id, _ = await _failed_post(sessions, None)
    async with sessions() as session:
        assert await failure_alerts.new_failures(session, post_id, utcnow()) == []


def test_an_unconfirmed_post_asks_its_author_to_check_rather_than_saying_it_failed():
    note = failure_alerts.FailureNote(1, ALERTS, "U0AUTHOR", 7, True, "LinkedIn · Acme", "LinkedIn did not answer "
                                      "in time.", "Hello", "C0001", "1700000000.000100")
    text, blocks = failure_alert(note)
    said = shown(blocks)
    assert text == "Picmim does not know whether a post went live on LinkedIn · Acme"
    assert "<@U0AUTHOR>, Picmim does not know whether your post went live on *LinkedIn · Acme*" in said
    assert "it is never sent twice by itself" in said and "did not go out" not in said
    assert "<https://slack.com/archives/C0001/p1700000000000100|Open the post's message>" in said


async def test_retries_counted_before_this_version_carry_over_so_no_failure_is_said_twice(database):
    """Before 0014 the Retries were counted from the audit trail by the account's name: the upgrade carries the
    count over, so the failure announced as "try 2" stays announced and the next Retry's failure is "try 3"."""
    crypto.configure([SECRET_KEY])
    engine = db.create_engine(database.url)
    try:
        await db.migrate(engine, "0013")
        sessions = db.session_factory(engine)
        async with sessions() as session:
            from bot.services.workspaces import ensure_workspace

            workspace = await ensure_workspace(session, "T0001")
            workspace.alerts_channel_id = ALERTS
            await session.flush()
            retried, untouched = (Account(workspace_id=workspace.id, platform="x", external_id=str(n),
                                          kind="profile", name=name) for n, name in ((1, "Acme"), (2, "Acme Shop")))
            session.add_all([retried, untouched])
            post = Post(workspace_id=workspace.id, author_user_id="U0AUTHOR", text="Hello", channel_id="C0001")
            session.add(post)
            await session.flush()
            # The table as 0013 has it (the model already has the new column): written without it.
            for account in (retried, untouched):
                await session.execute(text(
                    "INSERT INTO post_targets (post_id, account_id, status, attempts, last_error) "
                    "VALUES (:post, :account, 'failed', 1, 'X refused it.')"), {"post": post.id, "account": account.id})
            session.add_all(AuditEntry(workspace_id=workspace.id, actor="U0AUTHOR", source="button",
                                       subject=f"post {post.id}", action="retried", change="X · Acme", post_id=post.id)
                            for _ in range(2))
            await session.commit()
            post_id = post.id
        await db.migrate(engine)
        async with sessions() as session:
            rows = (await session.execute(select(Account.name, PostTarget.retries)
                                          .join(PostTarget, PostTarget.account_id == Account.id)
                                          .order_by(Account.name))).all()
        assert [tuple(r) for r in rows] == [("Acme", 2), ("Acme Shop", 0)]
        async with sessions() as session:
            notes = await failure_alerts.new_failures(session, post_id, utcnow())
        assert [n.where for n in notes] == ["X · Acme", "X · Acme Shop"]
        async with sessions() as session:
            slots = sorted((await session.scalars(select(Alert.occurrence))).all())
        assert sorted(slot.split(" · ")[1] for slot in slots) == ["try 1", "try 3"]
    finally:
        await engine.dispose()
