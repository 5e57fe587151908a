"""When to post, in-process: posting slots and the next free one (zones, daylight saving, used and cancelled
posts), best times from a history of published posts with figures, the heat map PNG, and the windows' blocks."""

from __future__ import annotations

import io
from datetime import UTC, datetime, time, timedelta

import pytest
from PIL import Image
from sqlalchemy import select

from bot import heat_map, ids
from bot.sandbox.fakes.slack import MESSAGE_BLOCK_LIMIT, block_kit_errors, view_errors
from bot.services import best_times, slots, when_to_post
from bot.services.slots import Slot
from bot.storage import db
from bot.storage.models import Account, AuditEntry, PostStatus
from bot.views import best_times as best_views
from bot.views import compose_when
from bot.views import slots as slot_views
from tests.journeys import add_account
from tests.posting_history import TOKYO, add_published, add_scheduled, history, set_zone

PARIS = "Europe/Paris"
MONDAY = datetime(2026, 3, 2, 7, 0, tzinfo=UTC)  # Monday 2 March 2026, 08:00 in Paris (winter, UTC+1)


@pytest.fixture
def sessions(engine):
    return db.session_factory(engine)


async def _account(sessions, zone: str, name: str = "Acme") -> int:
    account_id = await add_account(sessions, "x", "profile", name)
    await set_zone(sessions, account_id, zone)
    return account_id


async def _save(sessions, account_id: int, *found: Slot) -> list[Slot]:
    async with sessions() as session:
        workspace_id = (await session.get(Account, account_id)).workspace_id
        return await slots.save_slots(session, workspace_id, account_id, found, "U0001")


async def _next(sessions, account_id: int, after: datetime) -> datetime | None:
    async with sessions() as session:
        return await slots.next_free_slot(session, account_id, after)


async def test_no_slots_means_no_free_slot(sessions):
    account_id = await _account(sessions, PARIS)
    assert await _next(sessions, account_id, MONDAY) is None


async def test_the_next_free_slot_is_in_the_workspace_zone_and_skips_a_used_one(sessions):
    account_id = await _account(sessions, PARIS)
    other = await _account(sessions, PARIS, "Other")
    await _save(sessions, account_id, Slot(2, "14:30"), Slot(0, "09:00"))
    # Monday 09:00 in Paris is 08:00 UTC, an hour after MONDAY.
    assert await _next(sessions, account_id, MONDAY) == datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
    # Another account's post, a cancelled one and a draft leave the slot free.
    await add_scheduled(sessions, other, datetime(2026, 3, 2, 8, 0, tzinfo=UTC))
    await add_scheduled(sessions, account_id, datetime(2026, 3, 2, 8, 0, tzinfo=UTC), PostStatus.CANCELLED)
    await add_scheduled(sessions, account_id, datetime(2026, 3, 2, 8, 0, tzinfo=UTC), PostStatus.DRAFT)
    assert await _next(sessions, account_id, MONDAY) == datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
    # A post scheduled within the slot's minute uses it: Wednesday 14:30 in Paris comes next.
    await add_scheduled(sessions, account_id, datetime(2026, 3, 2, 8, 0, 40, tzinfo=UTC))
    assert await _next(sessions, account_id, MONDAY) == datetime(2026, 3, 4, 13, 30, tzinfo=UTC)
    # One waiting for approval holds its time too; then next Monday.
    await add_scheduled(sessions, account_id, datetime(2026, 3, 4, 13, 30, tzinfo=UTC), PostStatus.PENDING_APPROVAL)
    assert await _next(sessions, account_id, MONDAY) == datetime(2026, 3, 9, 8, 0, tzinfo=UTC)
    # A slot that is exactly `after` is not after it.
    assert await _next(sessions, account_id, datetime(2026, 3, 9, 8, 0, tzinfo=UTC)) == \
        datetime(2026, 3, 11, 13, 30, tzinfo=UTC)


async def test_slots_follow_daylight_saving(sessions):
    account_id = await _account(sessions, PARIS)
    await _save(sessions, account_id, Slot(6, "10:00"))  # Sundays 10:00 in Paris
    # Sunday 22 March: winter time (UTC+1); Sunday 29 March: summer time from 02:00 (UTC+2).
    assert await _next(sessions, account_id, datetime(2026, 3, 21, tzinfo=UTC)) == \
        datetime(2026, 3, 22, 9, 0, tzinfo=UTC)
    assert await _next(sessions, account_id, datetime(2026, 3, 23, tzinfo=UTC)) == \
        datetime(2026, 3, 29, 8, 0, tzinfo=UTC)


async def test_naive_times_are_refused(sessions):
    account_id = await _account(sessions, PARIS)
    with pytest.raises(ValueError):
        await _next(sessions, account_id, datetime(2026, 3, 2, 7, 0))


async def test_saving_replaces_the_slots_and_records_who_changed_them(sessions):
    account_id = await _account(sessions, PARIS)
    await _save(sessions, account_id, Slot(0, "09:00"), Slot(0, "09:00"), Slot(4, "17:45"))
    assert await _save(sessions, account_id, Slot(1, "10:00")) == [Slot(1, "10:00")]
    async with sessions() as session:
        assert await slots.slots_of(session, account_id) == [Slot(1, "10:00")]
        changes = list(await session.scalars(select(AuditEntry.change).where(AuditEntry.account_id == account_id)
                                             .order_by(AuditEntry.id)))
    assert len(changes) == 2
    assert "Tuesdays 10:00" in changes[-1] and "Mondays 09:00" in changes[-1] and "X · Acme" in changes[-1]


async def test_a_slot_is_free_until_a_post_of_its_account_takes_its_minute(sessions):
    account_id = await _account(sessions, PARIS)
    at = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
    async with sessions() as session:
        workspace_id = (await session.get(Account, account_id)).workspace_id
        assert await slots.is_free(session, workspace_id, account_id, at)
    post_id = await add_scheduled(sessions, account_id, at.replace(second=59))
    async with sessions() as session:
        assert not await slots.is_free(session, workspace_id, account_id, at)
        assert await slots.is_free(session, workspace_id, account_id, at, except_post_id=post_id), "its own edit"
        assert await slots.is_free(session, workspace_id, account_id, at.replace(minute=1))
        assert await slots.is_free(session, workspace_id + 1, account_id, at), "another workspace's: not told"


def test_bad_times_are_named_beside_their_day():
    assert slots.slot_problems([Slot(0, "09:00"), Slot(3, "25:00")]) == {
        3: "“25:00” is not a time of day: choose times from the list."}
    many = [Slot(2, f"{h:02d}:{m:02d}") for h in range(13) for m in (0, 30)]
    assert slots.slot_problems(many) == {2: "Choose at most 24 times for one day."}
    assert slots.slot_problems([Slot(1, "07:15")]) == {}


async def test_fewer_than_twenty_posts_is_not_enough(sessions):
    account_id = await _account(sessions, TOKYO)
    now = datetime(2026, 6, 1, tzinfo=UTC)
    await add_published(sessions, account_id, history(now)[:19])
    async with sessions() as session:
        [found] = await best_times.for_accounts(session, [account_id], TOKYO, now)
    assert (found.enough, found.posts) == (False, 19)
    assert best_times.next_times(found, now) == []
    assert "not enough history yet: 19 published posts with figures" in best_views.account_lines(found)
    assert "at least 20" in best_views.account_lines(found)


async def test_best_times_come_from_the_history_in_the_audience_zone(sessions):
    account_id = await _account(sessions, TOKYO)
    now = datetime(2026, 6, 1, 3, 0, tzinfo=UTC)  # Monday 1 June, 12:00 in Tokyo
    await add_published(sessions, account_id, history(now))
    # A post with no figures and one published too long ago do not count.
    old = now - timedelta(days=400)
    await add_published(sessions, account_id, [(old, 5000)])
    await add_scheduled(sessions, account_id, now + timedelta(days=1))
    async with sessions() as session:
        [found] = await best_times.for_accounts(session, [account_id], TOKYO, now)
    assert found.enough and found.posts == 24
    assert [s.in_words() for s in found.top] == ["Tuesdays 10:00–11:00", "Thursdays 15:00–16:00",
                                                 "Saturdays 08:00–09:00"]
    assert found.top[0].engagement == 100 and found.top[0].posts == 8
    assert found.engagement[1][10] == 100 and found.engagement[0][10] is None
    # The next two best slots: Tuesday 2 June 10:00 and Thursday 4 June 15:00 in Tokyo.
    assert best_times.next_times(found, now) == [datetime(2026, 6, 2, 1, 0, tzinfo=UTC),
                                                 datetime(2026, 6, 4, 6, 0, tzinfo=UTC)]
    # Just after Tuesday's slot began: next week's.
    assert best_times.next_times(found, datetime(2026, 6, 2, 1, 0, tzinfo=UTC), 1) == \
        [datetime(2026, 6, 9, 1, 0, tzinfo=UTC)]
    text = best_views.account_lines(found)
    assert "1. Tuesdays 10:00–11:00: 100 interactions per post (8 posts)" in text

    png = heat_map.heat_map([found, found], "Best times to post")
    picture = Image.open(io.BytesIO(png))
    assert picture.format == "PNG" and picture.size[0] == 1100 and picture.size[1] > 600
    blocks = best_views.best_times_blocks([found], TOKYO, chart_sent=True)
    assert block_kit_errors(blocks, MESSAGE_BLOCK_LIMIT) == []
    assert "direct messages" in str(blocks) and "Asia/Tokyo" in str(blocks)


async def test_quick_times_offer_the_best_slots_and_the_next_free_slot_once(sessions):
    account_id = await _account(sessions, TOKYO)
    now = datetime(2026, 6, 1, 3, 0, tzinfo=UTC)  # Monday 12:00 in Tokyo
    await add_published(sessions, account_id, history(now))
    await _save(sessions, account_id, Slot(1, "10:00"), Slot(2, "09:00"))  # Tuesday's is also the best time
    async with sessions() as session:
        workspace_id = (await session.get(Account, account_id)).workspace_id
        found = await when_to_post.quick_times(session, workspace_id, TOKYO, [account_id], now)
    assert [(q.at, q.reason) for q in found] == [(datetime(2026, 6, 4, 6, 0, tzinfo=UTC), when_to_post.BEST),
                                                 (datetime(2026, 6, 2, 1, 0, tzinfo=UTC), when_to_post.SLOT)]
    assert {q.account for q in found} == {"X · Acme"}

    blocks = compose_when.when_blocks(datetime(2026, 6, 2, 1, 0, tzinfo=UTC), True, found, "Europe/Madrid")
    [when] = blocks  # a quick choice picked: no date picker
    values = [o["value"] for o in when["element"]["options"]]
    best, slot = (f"{kind}{int(datetime(2026, 6, d, h, tzinfo=UTC).timestamp())}"
                  for kind, d, h in (("at:", 4, 6), (f"slot:{account_id}:", 2, 1)))
    assert values == ["now", "schedule", best, slot]
    assert when["element"]["initial_option"]["value"] == slot
    texts = [o["text"]["text"] for o in when["element"]["options"]]
    assert texts[3] == "Next free slot: Tue 2 Jun, 03:00 (CEST)"  # in the author's zone
    assert when["element"]["options"][2]["description"]["text"] == "Best time for X · Acme"
    assert compose_when.quick_time(slot) == datetime(2026, 6, 2, 1, 0, tzinfo=UTC)
    assert compose_when.quick_time("at:99999999999999") is None and compose_when.quick_time("at:-5") is None
    assert compose_when.quick_time("schedule") is None
    assert compose_when.quick_slot(slot) == (account_id, datetime(2026, 6, 2, 1, 0, tzinfo=UTC))
    assert compose_when.quick_slot("slot:x:1780362000") is None and compose_when.quick_slot(best) is None
    scheduled = compose_when.when_blocks(datetime(2026, 6, 3, 1, 0, tzinfo=UTC), True, found, None)
    assert [b["block_id"] for b in scheduled] == [ids.COMPOSE_WHEN_BLOCK, ids.COMPOSE_AT_BLOCK]


def test_the_slots_window_is_valid_and_names_the_account_in_each_day():
    view = slot_views.slots_modal([(4, "X · Acme"), (5, "Bluesky · Acme")], 5, [Slot(0, "09:00")], PARIS)
    assert view_errors(view) == []
    days = [b for b in view["blocks"] if b.get("block_id", "").startswith(ids.SLOTS_DAY_BLOCK)]
    assert [b["block_id"] for b in days] == [f"{ids.SLOTS_DAY_BLOCK}5:{d}" for d in range(7)]
    assert [b["label"]["text"] for b in days][:2] == ["Monday", "Tuesday"]
    assert days[0]["element"]["initial_options"] == [{"text": {"type": "plain_text", "text": "09:00"},
                                                      "value": "09:00"}]
    assert len(days[0]["element"]["options"]) == 96
    assert "Europe/Paris" in str(view)


def test_next_local_helper_agrees_with_the_calendar():
    from tests.posting_history import next_local
    assert next_local(TOKYO, 1, time(10), datetime(2026, 6, 1, 3, tzinfo=UTC)) == \
        datetime(2026, 6, 2, 1, tzinfo=UTC)
