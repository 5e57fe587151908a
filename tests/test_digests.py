"""Digests in-process: schedules in the subscription's zone (daylight saving included), subscriptions,
leased runs (once, whatever the number of processes), and the digest sent to the fake Slack through
its external upload."""

from __future__ import annotations

import asyncio
import io
import json
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
from PIL import Image
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy import func, select

from bot.messages.outbox import OutboxWorker
from bot.messages.reports import CHART_NOTE, NO_CHART_HERE, DigestSender, send_digest
from bot.services import digests, outbox
from bot.services.digests import DigestError, Schedule
from bot.services.workspaces import ensure_workspace
from bot.storage import db
from bot.storage.models import DigestSubscription
from tests.conftest import SECRET_KEY
from tests.journeys import add_account, add_figures

MADRID = ZoneInfo("Europe/Madrid")


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.fixture
def sessions(engine):
    return db.session_factory(engine)


# ---- schedules ----------------------------------------------------------------------------------------------


def test_daily_weekly_and_monthly_runs_fall_at_the_chosen_wall_time():
    weekly = Schedule("weekly", "09:00", "Europe/Madrid", weekday=0)
    assert weekly.next_after(utc(2026, 3, 4, 12)) == utc(2026, 3, 9, 8)  # Monday 09:00 CET
    assert weekly.next_after(utc(2026, 3, 9, 8)) == utc(2026, 3, 16, 8)  # strictly after
    daily = Schedule("daily", "09:00", "America/New_York")
    assert daily.next_after(utc(2026, 3, 4, 20)) == utc(2026, 3, 5, 14)  # 09:00 EST
    monthly = Schedule("monthly", "09:00", "UTC", day_of_month=31)
    assert monthly.next_after(utc(2026, 2, 1)) == utc(2026, 2, 28, 9)  # the month's last day
    assert monthly.next_after(utc(2026, 2, 28, 9)) == utc(2026, 3, 31, 9)
    assert monthly.period_start(utc(2026, 3, 31, 9)) == utc(2026, 2, 28, 9)
    assert weekly.describe() == "Every Monday at 09:00 (Europe/Madrid)"


def test_a_digest_keeps_its_wall_time_across_daylight_saving_changes():
    sunday = Schedule("weekly", "09:00", "Europe/Madrid", weekday=6)
    before = sunday.next_after(utc(2026, 3, 21))
    after = sunday.next_after(before)
    assert (before, after) == (utc(2026, 3, 22, 8), utc(2026, 3, 29, 7))  # clocks go forward on 29 March
    assert after.astimezone(MADRID).hour == 9
    assert sunday.period_start(after) == before  # a week of wall time (167 hours that week)
    assert sunday.next_after(utc(2026, 10, 24)) == utc(2026, 10, 25, 8)  # back to CET
    # 02:30 does not exist on 29 March in Madrid: the run comes at 03:30, once.
    gap = Schedule("daily", "02:30", "Europe/Madrid")
    spring = gap.next_after(utc(2026, 3, 28, 12))
    assert spring == utc(2026, 3, 29, 1, 30) and spring.astimezone(MADRID).strftime("%H:%M") == "03:30"
    # 02:30 happens twice on 25 October: the first one, and not again an hour later.
    autumn = gap.next_after(utc(2026, 10, 24, 12))
    assert autumn == utc(2026, 10, 25, 0, 30)
    assert gap.next_after(autumn) == utc(2026, 10, 26, 1, 30)


# ---- subscriptions --------------------------------------------------------------------------------------------


async def test_subscribing_checks_the_choice_and_a_repeat_adds_nothing(sessions):
    now = utc(2026, 3, 4, 12)
    account = await add_account(sessions, "x", "profile", "Acme Marketing")
    async with sessions() as session:
        workspace = await ensure_workspace(session, "T0001")
        bad = [(Schedule("weekly", "09:00", "Mars/Olympus", weekday=0), "timezone"),
               (Schedule("weekly", "09:00", "UTC"), "weekday"),
               (Schedule("weekly", "25:00", "UTC", weekday=0), "time"),
               (Schedule("hourly", "09:00", "UTC"), "frequency")]
        for schedule, field in bad:
            with pytest.raises(DigestError) as refused:
                await digests.subscribe(session, workspace, "U0001", "C0001", schedule, [], [], now)
            assert refused.value.field == field
        with pytest.raises(DigestError) as refused:
            await digests.subscribe(session, workspace, "U0001", "C0001", Schedule("daily", "9:00", "UTC"),
                                    [account + 100], [], now)
        assert refused.value.field == "accounts"
        schedule = Schedule("daily", "9:00", "Europe/Madrid", weekday=3)  # the weekday is not a daily's
        sub, created = await digests.subscribe(session, workspace, "U0001", "C0001", schedule, [account], ["x"], now)
        again, created_again = await digests.subscribe(session, workspace, "U0002", "C0001", schedule, [account],
                                                       ["x"], now)
        await session.commit()
    assert created and not created_again and again.id == sub.id
    assert (sub.time_of_day, sub.weekday, sub.next_run_at) == ("09:00", None, utc(2026, 3, 5, 8))
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(DigestSubscription)) == 1


async def _subscription(sessions, channel: str, next_run_at: datetime, **kw) -> int:
    async with sessions() as session:
        workspace = await ensure_workspace(session, "T0001")
        await session.flush()
        sub = DigestSubscription(workspace_id=workspace.id, channel_id=channel, frequency=kw.pop("frequency", "weekly"),
                                 weekday=kw.pop("weekday", 0), time_of_day="09:00",
                                 timezone=kw.pop("timezone", "Europe/Madrid"), created_by=kw.pop("created_by", "U0001"),
                                 next_run_at=next_run_at, **kw)
        session.add(sub)
        await session.commit()
        return sub.id


async def test_a_due_digest_is_claimed_once_whatever_the_number_of_processes(sessions, engine):
    due = utc(2026, 3, 9, 8)
    await _subscription(sessions, "C0001", due)
    others = db.session_factory(engine)

    async def claim(factory):
        async with factory() as session:
            return await digests.claim_due(session, due + timedelta(seconds=1))

    first, second = await asyncio.gather(claim(sessions), claim(others))
    [run] = first + second
    assert (run.start, run.end) == (utc(2026, 3, 2, 8), due)
    async with sessions() as session:
        assert await digests.claim_due(session, due + timedelta(minutes=1)) == []  # leased


async def test_a_run_that_died_before_sending_is_due_again_one_that_died_sending_is_not_resent(sessions):
    due = utc(2026, 3, 9, 8)
    await _subscription(sessions, "C0001", due)
    await _subscription(sessions, "C0002", due)
    async with sessions() as session:
        runs = await digests.claim_due(session, due)
    async with sessions() as session:
        assert await digests.start_sending(session, runs[1], due)  # C0002's process died after this mark
    later = due + digests.LEASE + timedelta(seconds=1)
    async with sessions() as session:
        skipped = await digests.settle_lapsed(session, later)
    async with sessions() as session:
        [again] = await digests.claim_due(session, later)
        second = await session.get(DigestSubscription, runs[1].subscription_id)
    assert skipped == [runs[1].subscription_id] and again.subscription_id == runs[0].subscription_id
    assert second.next_run_at == utc(2026, 3, 16, 8) and "not sent again" in second.last_error


async def test_a_slow_claim_that_lapsed_cannot_send_over_the_next_claim(sessions):
    due = utc(2026, 3, 9, 8)
    await _subscription(sessions, "C0001", due)
    async with sessions() as session:
        [slow] = await digests.claim_due(session, due)
    later = due + digests.LEASE + timedelta(seconds=1)  # the slow process is still drawing
    async with sessions() as session:
        await digests.settle_lapsed(session, later)
        [fresh] = await digests.claim_due(session, later)
    async with sessions() as session:
        assert not await digests.start_sending(session, slow, later)
        assert await digests.start_sending(session, fresh, later)
        await digests.finish(session, slow, later)  # changes nothing: not its claim any more
        sub = await session.get(DigestSubscription, fresh.subscription_id, populate_existing=True)
    assert sub.next_run_at == due and sub.claimed_until == fresh.lease_until


async def test_an_overdue_digest_reports_on_the_latest_period_only(sessions):
    await _subscription(sessions, "C0001", utc(2026, 3, 2, 8))  # three weeks without a running server
    now = utc(2026, 3, 20, 12)
    async with sessions() as session:
        [run] = await digests.claim_due(session, now)
        assert (run.start, run.end) == (utc(2026, 3, 9, 8), utc(2026, 3, 16, 8))
        await digests.finish(session, run, now)
        sub = await session.get(DigestSubscription, run.subscription_id)
    assert (sub.next_run_at, sub.last_run_at, sub.last_error) == (utc(2026, 3, 23, 8), utc(2026, 3, 16, 8), None)


async def test_a_passing_failure_keeps_the_digest_due_for_an_hour(sessions):
    due = utc(2026, 3, 9, 8)
    await _subscription(sessions, "C0001", due)
    for minutes in (1, 30, 61):
        async with sessions() as session:
            [run] = await digests.claim_due(session, due + timedelta(minutes=minutes))
            await digests.finish(session, run, due + timedelta(minutes=minutes), "Slack was busy", retry=True)
            sub = await session.get(DigestSubscription, run.subscription_id)
        assert sub.claimed_until is None and sub.last_error == "Slack was busy"
        assert sub.next_run_at == (due if minutes < 60 else utc(2026, 3, 16, 8))


# ---- sending, against the fake Slack -------------------------------------------------------------------------


class _Runtime:
    """What the digest job uses of the app's Runtime: sessions, a workspace's Slack client and the settings its
    media links are made from (the top posts' pictures)."""

    def __init__(self, sessions, slack):
        self.sessions = sessions
        self.client = AsyncWebClient(token="xoxb-fake-T0001", base_url=slack.api_url)
        self.settings = SimpleNamespace(data_dir=Path(tempfile.mkdtemp(prefix="picmim-digests-")),
                                        public_url="https://picmim.example", secret_keys=(SECRET_KEY,))

    async def slack_client(self, team_id, enterprise_id=None):
        return self.client


async def _with_figures(sessions, end: datetime) -> None:
    account = await add_account(sessions, "bluesky", "profile", "Acme on Bluesky")
    for day in range(8):
        await add_figures(sessions, account, end - timedelta(days=7 - day, minutes=5), followersCount=300 + day,
                       followsCount=40, postsCount=60 + day)


async def test_the_digest_is_one_message_with_its_chart_uploaded_the_external_way(sessions, slack):
    due = utc(2026, 3, 9, 8)
    await _with_figures(sessions, due)
    sub_id = await _subscription(sessions, "CDIGEST1", due)
    sender = DigestSender(_Runtime(sessions, slack), clock=lambda: due + timedelta(seconds=30))
    [delivery] = await sender.tick()
    assert delivery.ok and delivery.with_chart
    [shared] = slack.shared_in("CDIGEST1")
    [asked] = slack.calls_to("files.getUploadURLExternal")
    assert int(asked.params["length"]) == len(shared["data"])
    image = Image.open(io.BytesIO(shared["data"]))
    assert image.format == "PNG" and image.size == (1000, 600)
    shown = json.dumps(shared["blocks"], ensure_ascii=False)
    assert shared["blocks"][0]["text"]["text"] == "Weekly digest"
    assert "2 Mar 2026, 09:00 (CET) → 9 Mar 2026, 09:00 (CET)" in shown
    assert "*Followers*: 307 · ▲ 2.3% (+7)" in shown and "*Following*: 40 · no change" in shown
    assert "Views" not in shown, "a figure Bluesky does not give is not a line of its own"
    assert slack.calls_to("chat.postMessage") == []
    async with sessions() as session:
        sub = await session.get(DigestSubscription, sub_id)
    assert (sub.last_run_at, sub.next_run_at, sub.last_error) == (due, utc(2026, 3, 16, 8), None)
    assert await sender.tick() == []  # nothing due: nothing sent again


async def test_where_picmim_is_not_a_member_the_digest_comes_without_its_chart(sessions, slack):
    due = utc(2026, 3, 9, 8)
    await _with_figures(sessions, due)
    await _subscription(sessions, "CNOTIN", due)
    slack.teams["T0001"].channels["CNOTIN"] = {"member": False}  # public: chat:write.public may post
    try:
        [delivery] = await DigestSender(_Runtime(sessions, slack), clock=lambda: due).tick()
    finally:
        del slack.teams["T0001"].channels["CNOTIN"]
    assert delivery.ok and not delivery.with_chart
    assert slack.shared_in("CNOTIN") == []
    [message] = slack.calls_to("chat.postMessage")
    shown = json.dumps(message.params["blocks"])
    assert message.params["channel"] == "CNOTIN" and NO_CHART_HERE in shown and CHART_NOTE not in shown


async def test_a_gone_channel_is_said_in_the_list_and_not_retried(sessions, slack):
    due = utc(2026, 3, 9, 8)
    sub_id = await _subscription(sessions, "CGONE", due)
    slack.refuse_channel("CGONE", "channel_not_found")
    [delivery] = await DigestSender(_Runtime(sessions, slack), clock=lambda: due).tick()
    assert not delivery.ok and not delivery.retry
    async with sessions() as session:
        sub = await session.get(DigestSubscription, sub_id)
    assert sub.next_run_at == utc(2026, 3, 16, 8) and "gone or archived" in sub.last_error


@pytest.mark.parametrize("busy", ["ratelimited", "html_503"])
async def test_a_busy_slack_gets_the_very_digest_later_from_the_outbox_once(sessions, slack, busy):
    due = utc(2026, 3, 9, 8)
    await _with_figures(sessions, due)
    sub_id = await _subscription(sessions, "CBUSY", due)
    if busy == "ratelimited":
        slack.rate_limit("files.getUploadURLExternal", retry_after=1, times=1)
    else:
        slack.html_error("files.getUploadURLExternal", 503)
    runtime = _Runtime(sessions, slack)
    sender = DigestSender(runtime, clock=lambda: due + timedelta(minutes=1))
    [kept] = await sender.tick()
    assert not kept.ok and kept.retry and slack.shared_in("CBUSY") == []
    assert await sender.tick() == []  # the subscription moved on: the outbox owes this digest, not the schedule
    async with sessions() as session:
        assert await outbox.depth(session) == 1
    slack.html_errors.clear()
    worker = OutboxWorker(runtime, {outbox.DIGEST: send_digest})
    assert await worker.tick() == []  # not before its backoff is over
    await asyncio.sleep(1.1)
    [sent] = await worker.tick()
    assert sent.ok
    [shared] = slack.shared_in("CBUSY")
    assert shared["blocks"][0]["text"]["text"] == "Weekly digest" and Image.open(io.BytesIO(shared["data"]))
    assert await worker.tick() == [] and len(slack.shared_in("CBUSY")) == 1
    async with sessions() as session:
        sub = await session.get(DigestSubscription, sub_id)
        assert await outbox.depth(session) == 0
    assert sub.last_run_at == due and sub.last_error is None and sub.next_run_at == utc(2026, 3, 16, 8)


async def test_a_digest_leaves_out_the_accounts_its_subscriber_may_no_longer_see_and_says_so_once(sessions, slack):
    """Roles change after a subscription is made: each run checks its subscriber's rights again."""
    from bot.services import roles

    slack.teams["T0001"].users["U0DIGEST"] = {"id": "U0DIGEST", "name": "dee", "is_admin": False}
    due = utc(2026, 3, 9, 8)
    seen = await add_account(sessions, "bluesky", "profile", "Acme on Bluesky")
    barred = await add_account(sessions, "bluesky", "profile", "Beta on Bluesky")
    for account, base in ((seen, 300), (barred, 9000)):
        for day in range(8):
            await add_figures(sessions, account, due - timedelta(days=7 - day, minutes=5),
                              followersCount=base + day, followsCount=40, postsCount=60 + day)
    await _subscription(sessions, "CDIGEST2", due, created_by="U0DIGEST")  # every account, as it was then
    async with sessions() as session:
        workspace = await ensure_workspace(session, "T0001")
        await roles.save_roles(session, workspace.id, roles.account_scope(seen),
                               {roles.VIEWER: roles.Pick(("U0DIGEST",))})
        await roles.save_roles(session, workspace.id, roles.account_scope(barred),
                               {roles.PUBLISHER: roles.Pick(("U0OTHER",))})
        await session.commit()
    [delivery] = await DigestSender(_Runtime(sessions, slack), clock=lambda: due + timedelta(seconds=30)).tick()
    assert delivery.ok
    [shared] = slack.shared_in("CDIGEST2")
    shown = json.dumps(shared["blocks"], ensure_ascii=False)
    assert "Acme on Bluesky" in shown and "Beta on Bluesky" not in shown and "9,007" not in shown
    assert shown.count("left out") == 1
    assert "1 account left out: <@U0DIGEST> may no longer see it." in shown
