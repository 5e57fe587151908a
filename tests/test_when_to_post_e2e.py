"""When to post, end to end: the real server with an X account connected, driven by signed commands, menus and
window payloads; the history (published posts with figures) and planned posts are written in the database as the
publisher and the metric sync leave them. Best times answer in words and send a heat map; the compose window's
quick choices schedule at those times; posting slots are edited through their window and "Next free slot" skips
a used one."""

from __future__ import annotations

import asyncio
import io
import json
import time
from datetime import UTC, datetime
from datetime import time as clock
from zoneinfo import ZoneInfo

from PIL import Image
from sqlalchemy import select

from bot import ids
from bot.services import roles
from bot.services.slots import Slot
from bot.storage import crypto, db
from bot.storage.models import Account, Post, PostingSlot, utcnow
from tests import journeys
from tests.conftest import SECRET_KEY
from tests.journeys import blocks_by_id, blocks_of, compose_state, field_errors, shown, submit_compose
from tests.posting_history import TOKYO, add_published, add_scheduled, history, next_local, set_zone

fake_x, files, compose_server = journeys.fake_x, journeys.slack_files, journeys.compose_server
sender, account_id = journeys.compose_sender, journeys.account_id
DM = "D0001"  # U0001's direct messages with Picmim in the fake Slack


def _in_database(url: str, work):
    """Run `work(sessions)` against the server's database."""
    async def run():
        crypto.configure([SECRET_KEY])
        engine = db.create_engine(url)
        try:
            return await work(db.session_factory(engine))
        finally:
            await engine.dispose()
    return asyncio.run(run())


def _menu_choice(action_id: str, value: str, slack, rid: str) -> dict:
    """A choice in a message's overflow menu (Slack sends the chosen option), from U0001 in its DM with Picmim."""
    return {"type": "block_actions", "team": {"id": "T0001", "domain": "acme"}, "user": {"id": "U0001"},
            "api_app_id": "A0PICMIM", "token": "deprecated", "trigger_id": f"trigger-{time.time_ns()}",
            "channel": {"id": DM, "name": "directmessage"},
            "container": {"type": "message", "message_ts": "1700000000.000100", "channel_id": DM},
            "message": {"ts": "1700000000.000100", "text": "", "blocks": []},
            "response_url": slack.response_url(rid), "state": {"values": {}},
            "actions": [{"type": "overflow", "action_id": action_id, "block_id": "b",
                         "selected_option": {"text": {"type": "plain_text", "text": "…"}, "value": value},
                         "action_ts": str(time.time())}]}


def _ask(sender, slack, text: str, rid: str) -> str:
    assert sender.command(text, response_url=slack.response_url(rid)).status_code == 200
    [answer] = slack.wait_for_response(rid, timeout=30)
    return shown(answer["blocks"])


def _when_options(view: dict) -> dict[str, str]:
    """The "When" choices shown: text -> value."""
    when = blocks_by_id(view)[ids.COMPOSE_WHEN_BLOCK]
    return {o["text"]["text"]: o["value"] for o in when["element"]["options"]}


def _stored_time(url: str, text: str) -> datetime:
    async def work(sessions):
        async with sessions() as session:
            return (await session.scalars(select(Post.scheduled_at).where(Post.text == text))).one()
    return journeys.wait_until(lambda: _in_database(url, work), f"the post “{text}” stored")


def test_too_few_posts_say_there_is_not_enough_history(sender, slack, module_database, compose_server):
    url = module_database.url

    async def seed(sessions):
        sky = await journeys.add_account(sessions, "bluesky", "profile", "Acme Sky")
        await add_published(sessions, sky, history(utcnow())[:5], metric="likeCount")
    _in_database(url, seed)
    text = _ask(sender, slack, "stats best-times Acme Sky", "few")
    assert "Acme Sky" in text
    assert "not enough history yet: 5 published posts with figures" in text and "at least 20" in text
    assert "heat map" not in text
    assert slack.shared_in(DM) == [] and slack.calls_to("files.completeUploadExternal") == []


def test_best_times_come_from_the_history_with_a_heat_map(sender, slack, module_database, compose_server, account_id):
    url = module_database.url

    async def seed(sessions):
        await set_zone(sessions, account_id, TOKYO)
        await add_published(sessions, account_id, history(utcnow()))
    _in_database(url, seed)
    text = _ask(sender, slack, "stats best-times @acmemktg", "best")
    assert "X · Acme Marketing" in text and "(from 24 posts)" in text
    assert "1. Tuesdays 10:00–11:00: 100 interactions per post (8 posts)" in text
    assert "2. Thursdays 15:00–16:00" in text and "Asia/Tokyo" in text
    assert "The heat map is in your direct messages" in text
    [chart] = journeys.wait_until(lambda: slack.shared_in(DM), "the heat map in the DM")
    picture = Image.open(io.BytesIO(chart["data"]))
    picture.verify()
    assert picture.format == "PNG" and chart["filename"].endswith(".png")
    assert "X · Acme Marketing: Tuesdays 10:00–11:00" in chart["initial_comment"]
    assert "Tuesdays 10:00–11:00" in chart["alt_txt"]

    # Without an account: every account the person may see, each with its own answer.
    everything = _ask(sender, slack, "stats best-times", "all")
    assert "Tuesdays 10:00–11:00" in everything and "Acme Sky" in everything


def test_a_quick_choice_schedules_at_the_next_best_time(sender, slack, module_database, compose_server, account_id):
    url = module_database.url
    view = journeys.update_compose(sender, slack, compose_state([account_id], "hello"))
    options = _when_options(view)
    now = utcnow()
    tuesday = next_local(TOKYO, 1, clock(10), now)
    thursday = next_local(TOKYO, 3, clock(15), now)
    best = {v for k, v in options.items() if k not in ("Now", "Schedule")}
    assert best == {f"at:{int(tuesday.timestamp())}", f"at:{int(thursday.timestamp())}"}
    # Shown in the author's zone (Europe/Madrid in the fake Slack), said as the account's best time.
    madrid = tuesday.astimezone(ZoneInfo("Europe/Madrid"))
    label = next(k for k, v in options.items() if v == f"at:{int(tuesday.timestamp())}")
    assert label.startswith(f"{madrid:%a} {madrid.day} {madrid:%b, %H:%M}")
    assert "Best time for X · Acme Marketing" in shown([blocks_by_id(view)[ids.COMPOSE_WHEN_BLOCK]])

    text = f"At the best time {time.time_ns()}"
    journeys.accepted(submit_compose(sender, compose_state([account_id], text,
                                                           when=f"at:{int(thursday.timestamp())}")))
    assert _stored_time(url, text) == thursday.astimezone(UTC)


def test_slots_are_edited_in_their_window_and_the_next_free_slot_skips_a_used_one(sender, slack, module_database,
                                                                                   compose_server, account_id):
    url = module_database.url

    async def connection_of(sessions):
        async with sessions() as session:
            return (await session.get(Account, account_id)).connection_id
    connection_id = _in_database(url, connection_of)
    menu = _menu_choice(ids.ACCOUNT_MENU, f"{ids.ACCOUNT_MENU_SLOTS}:{connection_id}", slack, "slots")
    assert sender.interaction(menu).status_code == 200
    [opened] = slack.wait_for("views.open")
    window = blocks_of(opened.params["view"])
    assert window["callback_id"] == ids.SLOTS_VIEW and window["private_metadata"] == str(account_id)
    assert "Asia/Tokyo" in shown(window["blocks"])

    def day(weekday: int) -> str:
        return f"{ids.SLOTS_DAY_BLOCK}{account_id}:{weekday}"

    def chosen(**days: list[str]) -> dict:
        return {"values": {day(int(d[1:])): {ids.SLOTS_DAY_INPUT: {
            "type": "multi_static_select", "selected_options": [{"value": t} for t in times]}}
            for d, times in days.items()}}

    # A time that is not one (a forged option) is refused beside its day, and nothing is kept.
    errors = field_errors(journeys.submit_view(sender, window, chosen(d0=["09:00"], d2=["25:00"])))
    assert errors == {day(2): "“25:00” is not a time of day: choose times from the list."}
    journeys.accepted(journeys.submit_view(sender, window, chosen(d0=["09:00"], d2=["09:00"])))

    async def stored(sessions):
        async with sessions() as session:
            return sorted(Slot(w, t) for w, t in await session.execute(
                select(PostingSlot.weekday, PostingSlot.time_of_day).where(PostingSlot.account_id == account_id)))
    assert _in_database(url, stored) == [Slot(0, "09:00"), Slot(2, "09:00")]

    # The earliest slot is used by a post already: the next free slot is the other one.
    now = utcnow()
    monday, wednesday = next_local(TOKYO, 0, clock(9), now), next_local(TOKYO, 2, clock(9), now)
    used, free = sorted([monday, wednesday])

    async def plan(sessions):
        await add_scheduled(sessions, account_id, used)
    _in_database(url, plan)
    view = journeys.update_compose(sender, slack, compose_state([account_id], "hello"))
    options = _when_options(view)
    [label] = [k for k in options if k.startswith("Next free slot: ")]
    assert options[label] == f"slot:{account_id}:{int(free.timestamp())}"
    assert "X · Acme Marketing's posting slot" in shown([blocks_by_id(view)[ids.COMPOSE_WHEN_BLOCK]])
    text = f"In the next free slot {time.time_ns()}"
    journeys.accepted(submit_compose(sender, compose_state([account_id], text, when=options[label])))
    assert _stored_time(url, text) == free.astimezone(UTC)

    # Both are used now: the next free one is a week after the first. Taken by another post while the window is
    # open, it is refused beside "When", and nothing is kept.
    view = journeys.update_compose(sender, slack, compose_state([account_id], "again"))
    [again] = [v for k, v in _when_options(view).items() if k.startswith("Next free slot: ")]
    week_later = datetime.fromtimestamp(used.timestamp() + 7 * 86400, UTC)
    assert again == f"slot:{account_id}:{int(week_later.timestamp())}"

    async def take(sessions):
        await add_scheduled(sessions, account_id, week_later)
    _in_database(url, take)
    late = f"Too late for the slot {time.time_ns()}"
    errors = field_errors(submit_compose(sender, compose_state([account_id], late, when=again)))
    assert errors == {ids.COMPOSE_WHEN_BLOCK: "Another post took this slot while the window was open: choose another "
                                              "time, or choose the accounts again to see the next free slot."}

    async def kept(sessions):
        async with sessions() as session:
            return list(await session.scalars(select(Post.id).where(Post.text == late)))
    assert _in_database(url, kept) == []


def test_settings_open_the_slots_window_over_them(sender, slack, module_database, compose_server, account_id):
    payload = _menu_choice(ids.SETTINGS_SLOTS, "", slack, "settings")
    payload["actions"] = [{"type": "button", "action_id": ids.SETTINGS_SLOTS, "block_id": "b",
                           "action_ts": str(time.time())}]
    payload["container"] = {"type": "view", "view_id": "V0SETTINGS"}
    payload["view"] = {"id": "V0SETTINGS", "type": "modal", "callback_id": ids.SETTINGS_VIEW, "hash": "h1",
                       "private_metadata": "", "state": {"values": {}}, "blocks": []}
    assert sender.interaction(payload).status_code == 200
    [pushed] = slack.wait_for("views.push")
    window = blocks_of(pushed.params["view"])
    assert window["callback_id"] == ids.SLOTS_VIEW
    accounts = blocks_by_id(window)[ids.SLOTS_ACCOUNT_BLOCK]["element"]["options"]
    assert "X · Acme Marketing" in [o["text"]["text"] for o in accounts]


def test_roles_keep_other_accounts_best_times_and_slots_away(sender, slack, module_database, compose_server,
                                                            account_id):
    """With roles on the X account (U0003 its only publisher), U0002, neither admin nor named there, sees only the
    open accounts' best times and cannot set the X account's slots."""
    url = module_database.url

    async def restrict(sessions):
        async with sessions() as session:
            account = await session.get(Account, account_id)
            await roles.save_roles(session, account.workspace_id, roles.account_scope(account_id),
                                   {roles.PUBLISHER: roles.Pick(("U0003",))}, actor="U0001")
            await session.commit()
            return account.connection_id
    connection_id = _in_database(url, restrict)

    def ask(text: str, rid: str) -> str:
        assert sender.command(text, user_id="U0002", response_url=slack.response_url(rid)).status_code == 200
        [answer] = slack.wait_for_response(rid, timeout=30)
        return json.dumps(answer, ensure_ascii=False)

    everything = ask("stats best-times", "viewer-all")
    assert "Acme Sky" in everything and "Acme Marketing" not in everything
    assert "No account you can see matches" in ask("stats best-times @acmemktg", "viewer-x")

    menu = _menu_choice(ids.ACCOUNT_MENU, f"{ids.ACCOUNT_MENU_SLOTS}:{connection_id}", slack, "viewer-menu")
    menu["user"] = {"id": "U0002"}
    assert sender.interaction(menu).status_code == 200
    [refused] = slack.wait_for_response("viewer-menu")
    assert "Only an admin or a publisher of the account can change its posting slots" in refused["text"]
    assert slack.calls_to("views.open") == []

    # A forged submission of the X account's window is refused too, and its slots stay as they were.
    async def stored(sessions):
        async with sessions() as session:
            return sorted(await session.scalars(select(PostingSlot.time_of_day)
                                                .where(PostingSlot.account_id == account_id)))
    before = _in_database(url, stored)
    payload = {"type": "view_submission", "team": {"id": "T0001", "domain": "acme"},
               "user": {"id": "U0002", "team_id": "T0001"}, "api_app_id": "A0PICMIM", "token": "deprecated",
               "trigger_id": f"trigger-{time.time_ns()}",
               "view": {"id": "V9", "team_id": "T0001", "type": "modal", "callback_id": ids.SLOTS_VIEW,
                        "private_metadata": str(account_id), "hash": f"h{time.time_ns()}", "blocks": [],
                        "state": {"values": {f"{ids.SLOTS_DAY_BLOCK}{account_id}:4": {ids.SLOTS_DAY_INPUT: {
                            "type": "multi_static_select", "selected_options": [{"value": "07:00"}]}}}}}}
    errors = field_errors(sender.interaction(payload))
    assert errors == {ids.SLOTS_ACCOUNT_BLOCK: "Only an admin or a publisher of the account can change its posting "
                                               "slots. An admin can change roles in `/picmim roles`."}
    assert _in_database(url, stored) == before
