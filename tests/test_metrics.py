"""The metrics read at scrape time and the counters fed outside a platform call: targets due and the oldest
one's wait, lease takeovers, the outbox hook, and Slack's errors as slack_sdk's clients meet them."""

from __future__ import annotations

from datetime import timedelta

import pytest
from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.metrics import Metrics
from bot.secret import Secret
from bot.services.publishing import expire_leases
from bot.storage import db
from bot.storage.models import Account, Connection, Post, PostTarget, TargetStatus, Workspace, utcnow


def samples(body: bytes) -> dict[tuple[str, tuple], float]:
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(body.decode()) for s in family.samples}


async def _targets(engine, *rows: dict) -> None:
    """One post per row on an X account, its target with the row's columns."""
    async with db.session_factory(engine)() as session:
        ws = Workspace(team_id="T0001")
        session.add(ws)
        await session.flush()
        connection = Connection(workspace_id=ws.id, platform="x", external_user_id="1", access_token=Secret("t"))
        session.add(connection)
        await session.flush()
        account = Account(workspace_id=ws.id, connection_id=connection.id, platform="x", external_id="1",
                          kind="profile", name="Acme")
        session.add(account)
        await session.flush()
        for i, row in enumerate(rows):
            session.add(Post(workspace_id=ws.id, author_user_id="U0001", text=f"post {i}", status="scheduled",
                             targets=[PostTarget(account_id=account.id, **row)]))
        await session.commit()


async def test_targets_due_and_the_oldest_wait_are_read_at_scrape_time(engine):
    now = utcnow()
    await _targets(engine,
                   {"status": TargetStatus.SCHEDULED, "next_attempt_at": now - timedelta(seconds=90)},
                   {"status": TargetStatus.SCHEDULED, "next_attempt_at": now - timedelta(seconds=5)},
                   {"status": TargetStatus.SCHEDULED, "next_attempt_at": now + timedelta(hours=1)},  # not due yet
                   {"status": TargetStatus.PUBLISHED, "next_attempt_at": now - timedelta(hours=2)})
    metrics = Metrics()
    body, content_type = await metrics.render(db.session_factory(engine), now=now)
    found = samples(body)
    assert content_type.startswith("text/plain")
    assert found[("picmim_targets_due", ())] == 2
    assert found[("picmim_oldest_due_seconds", ())] == pytest.approx(90, abs=1)
    assert ("picmim_outbox_depth", ()) not in found, "no outbox, no made-up figure"

    async def depth(session) -> int:
        return 7

    metrics.register_outbox_depth(depth)
    found = samples((await metrics.render(db.session_factory(engine), now=now))[0])
    assert found[("picmim_outbox_depth", ())] == 7


async def test_two_registries_do_not_share_counts():
    one, two = Metrics(), Metrics()
    one.target_settled("x", TargetStatus.PUBLISHED)
    assert one.registry.get_sample_value("picmim_posts_published_total", {"platform": "x"}) == 1
    assert two.registry.get_sample_value("picmim_posts_published_total", {"platform": "x"}) is None


async def test_lease_takeovers_are_counted_and_a_called_one_counts_as_unconfirmed(engine):
    now = utcnow()
    lapsed = now - timedelta(seconds=1)
    await _targets(engine,
                   # claimed, never called: due again
                   {"status": TargetStatus.PUBLISHING, "lease_owner": "gone:1", "lease_expires_at": lapsed},
                   # called: nobody knows whether it went out
                   {"status": TargetStatus.PUBLISHING, "lease_owner": "gone:1", "lease_expires_at": lapsed,
                    "call_started_at": now - timedelta(minutes=16)},
                   # still held by a live process
                   {"status": TargetStatus.PUBLISHING, "lease_owner": "alive:2",
                    "lease_expires_at": now + timedelta(minutes=1)})
    metrics = Metrics()
    async with db.session_factory(engine)() as session:
        await expire_leases(session, now, metrics)
    found = samples((await metrics.render(db.session_factory(engine), now=now))[0])
    assert found[("picmim_lease_takeovers_total", (("outcome", "released"),))] == 1
    assert found[("picmim_lease_takeovers_total", (("outcome", "unconfirmed"),))] == 1
    assert found[("picmim_posts_unconfirmed_total", (("platform", "x"),))] == 1
    assert found[("picmim_targets_due", ())] == 1, "the released one is due again"


async def test_slack_errors_are_counted_whatever_the_answer(slack):
    metrics = Metrics()
    client = AsyncWebClient(token="xoxb-fake-T0001", base_url=slack.api_url)
    client.retry_handlers.insert(0, metrics.slack_error_counter())
    slack.refuse_channel("C0404")
    slack.html_error("chat.postMessage", 503, channel="C0503")
    for channel in ("C0404", "C0503"):
        with pytest.raises(SlackApiError):
            await client.chat_postMessage(channel=channel, text="hello")
    await client.chat_postMessage(channel="C0001", text="hello")  # an answered call counts nothing
    found = samples(generate_latest(metrics.registry))
    assert found[("picmim_slack_api_errors_total", (("error", "channel_not_found"),))] == 1
    assert found[("picmim_slack_api_errors_total", (("error", "http_503"),))] == 1
    assert sum(v for (name, _), v in found.items() if name == "picmim_slack_api_errors_total") == 2
