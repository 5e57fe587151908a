"""Home's calendar through the real server (issue 21): opening the tab publishes the week's posts day by day in the
viewer's own zone (Slack's users.info tz), the week buttons move it, the filter keeps one account, a post opens its
details with the queue's buttons, a full week stays within Home's 100 blocks, and a viewer with roles sees only
their accounts."""

from __future__ import annotations

import asyncio
import json
import time
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from bot import ids
from bot.payloads import HomeWeek
from bot.sandbox.fakes.slack import view_errors
from bot.secret import Secret
from bot.services.workspaces import ensure_workspace
from bot.storage import crypto, db
from bot.storage.models import Account, Connection, Post, PostStatus, PostTarget, RoleGrant, TargetStatus
from tests import journeys
from tests.conftest import SECRET_KEY
from tests.journeys import add_account, blocks_of, wait_until

fake_x, connect_server, x = journeys.fake_x, journeys.connect_server, journeys.x
sender = journeys.connect_sender

VIEWER, ZONE = "U0C01", "Pacific/Auckland"  # UTC+13 in December: a post's UTC day is often not the viewer's
TEAM = {"id": "T0001", "domain": "acme"}


def _local(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=ZoneInfo(ZONE)).astimezone(UTC)


def _today() -> date:
    return datetime.now(UTC).astimezone(ZoneInfo(ZONE)).date()


def _text(blocks) -> str:
    return json.dumps(blocks, ensure_ascii=False)


def _day(day: date) -> str:
    return f"{day:%A} {day.day} {day:%B}"


@pytest.fixture(scope="module", autouse=True)
def viewer(fake_slack, connect_server):
    fake_slack.teams["T0001"].users[VIEWER] = {"id": VIEWER, "name": "kiri", "tz": ZONE, "is_admin": False}
    yield
    fake_slack.teams["T0001"].users.pop(VIEWER, None)


@pytest.fixture
async def week(module_database, connect_server):
    """Posts around this week on an X and a LinkedIn account (times set in the viewer's zone)."""
    crypto.configure([SECRET_KEY])
    engine = db.create_engine(module_database.url)
    sessions = db.session_factory(engine)
    x_account = await add_account(sessions, "x", "profile", "Acme Marketing")
    linkedin = await add_account(sessions, "linkedin", "company", "Acme Bakery")
    today = _today()
    made = {}
    async with sessions() as session:
        here = await ensure_workspace(session, "T0001")
        # X's sign-in works (the compose window offers the account when a post is edited).
        (await session.get(Connection, (await session.get(Account, x_account)).connection_id)).access_token = \
            Secret("x-token")

        def post(name, status, account, at, target=TargetStatus.SCHEDULED, author="U0002"):
            made[name] = Post(workspace_id=here.id, author_user_id=author, text=f"{name} post", status=status,
                              scheduled_at=at, options={}, channel_id="C0MKT",
                              targets=[PostTarget(account_id=account, status=target, next_attempt_at=None)])
            return made[name]

        session.add_all([
            post("Teaser", PostStatus.SCHEDULED, x_account, _local(today + timedelta(days=1), 9, 30)),
            post("Croissant", PostStatus.PENDING_APPROVAL, linkedin, _local(today + timedelta(days=2), 18, 5),
                 TargetStatus.PENDING),
            post("Sunrise", PostStatus.PUBLISHED, x_account, _local(today, 0, 15), TargetStatus.PUBLISHED),
            post("Midnight", PostStatus.FAILED, linkedin, _local(today + timedelta(days=1), 23, 50),
                 TargetStatus.FAILED),
            post("Later", PostStatus.SCHEDULED, x_account, _local(today + timedelta(days=8), 10)),
            post("Earlier", PostStatus.PUBLISHED, x_account, _local(today - timedelta(days=3), 12),
                 TargetStatus.PUBLISHED),
            post("Dropped", PostStatus.CANCELLED, x_account, _local(today + timedelta(days=1), 11),
                 TargetStatus.CANCELLED),
        ])
        await session.commit()
        found = {name: p.id for name, p in made.items()}
    yield {"x": x_account, "linkedin": linkedin, "posts": found, "today": today, "sessions": sessions}
    async with sessions() as session:  # leave the module's database as the next test expects it
        for kind in (RoleGrant, Post, Account, Connection):
            for row in await session.scalars(select(kind)):
                await session.delete(row)
            await session.commit()
    await engine.dispose()


def _click(action_id: str, value: str | None = None, user: str = VIEWER, view: dict | None = None,
           selected: str | None = None) -> dict:
    """A button (or the filter) on Home, or in a modal opened from it."""
    action = {"type": "static_select" if selected else "button", "action_id": action_id, "block_id": "b",
              "action_ts": str(time.time())}
    if selected:
        action["selected_option"] = {"value": selected, "text": {"type": "plain_text", "text": "x"}}
    else:
        action["value"] = value or ""
    shown = view or {"id": "VHOME", "type": "home", "blocks": [], "state": {"values": {}}, "hash": "h"}
    return {"type": "block_actions", "team": TEAM, "user": {"id": user, "team_id": "T0001"}, "api_app_id": "A0PICMIM",
            "token": "deprecated", "trigger_id": f"trigger-{time.time_ns()}",
            "container": {"type": "view", "view_id": shown["id"]}, "view": shown, "actions": [action]}


def _published(slack, count: int) -> dict:
    call = wait_until(lambda: slack.calls_to("views.publish")[count - 1:] or None, "Home published")[0]
    assert call.params["user_id"] == VIEWER
    view = blocks_of(call.params["view"])
    assert view_errors(view) == [], "Slack would take it"
    return view


def _calendar(view: dict) -> dict[str, list[str]]:
    """Each day heading of the calendar with its posts' lines (time, status, networks, text)."""
    days: dict[str, list[str]] = {}
    blocks = view["blocks"]
    start = next(i for i, b in enumerate(blocks) if b["type"] == "header" and b["text"]["text"] == "Calendar")
    day = None
    for block in blocks[start:]:
        if block["type"] == "context" and block["elements"][0]["text"].startswith("*"):
            day = block["elements"][0]["text"].split("*")[1]
            days[day] = []
        elif block["type"] == "section" and day and block.get("accessory", {}).get("action_id") == ids.HOME_POST_OPEN:
            days[day].append(block["text"]["text"])
    return days


def _navigation(view: dict) -> dict[str, dict]:
    [nav] = [b for b in view["blocks"] if b.get("block_id") == "home_calendar"]
    return {e["action_id"]: e for e in nav["elements"]}


async def test_the_week_in_the_viewers_zone_moves_between_weeks_and_filters_by_account(sender, slack, x, week):
    today = _today()
    sender.event({"type": "app_home_opened", "user": VIEWER, "channel": "D0001", "tab": "home"})
    view = await asyncio.to_thread(_published, slack, 1)
    days = _calendar(view)
    tomorrow, after = _day(today + timedelta(days=1)), _day(today + timedelta(days=2))
    assert list(days) == [_day(today), tomorrow, after], "only days with posts get a heading"
    assert days[_day(today)] == ["*00:15* · :white_check_mark: Published · X\nSunrise post · by <@U0002>"]
    assert [line.split("\n")[0] for line in days[tomorrow]] == [
        "*09:30* · :calendar: Scheduled · X", "*23:50* · :x: Not published · LinkedIn"], "soonest first, local times"
    assert days[after][0].startswith("*18:05* · :hourglass: Waiting for approval · LinkedIn\nCroissant post")
    text = _text(view["blocks"])
    assert "Dropped post" not in text and "Later post" not in text and "Earlier post" not in text
    assert f"times in your time zone ({ZONE})" in text
    assert [b["text"]["text"] for b in view["blocks"] if b["type"] == "header"] == ["Needs attention", "Calendar"]

    # Next week, then back, then the week before.
    nav = _navigation(view)
    assert set(nav) == {ids.HOME_WEEK_PREVIOUS, ids.HOME_WEEK_NEXT, ids.HOME_ACCOUNT_FILTER}, "no This week: it is"
    sender.interaction(_click(ids.HOME_WEEK_NEXT, nav[ids.HOME_WEEK_NEXT]["value"]))
    view = await asyncio.to_thread(_published, slack, 2)
    assert _calendar(view) == {_day(today + timedelta(days=8)): [
        "*10:00* · :calendar: Scheduled · X\nLater post · by <@U0002>"]}
    assert f"{_day(today + timedelta(days=7))} – {_day(today + timedelta(days=13))}" in _text(view["blocks"])
    nav = _navigation(view)
    sender.interaction(_click(ids.HOME_WEEK_THIS, nav[ids.HOME_WEEK_THIS]["value"]))
    view = await asyncio.to_thread(_published, slack, 3)
    assert tomorrow in _calendar(view)
    sender.interaction(_click(ids.HOME_WEEK_PREVIOUS, _navigation(view)[ids.HOME_WEEK_PREVIOUS]["value"]))
    view = await asyncio.to_thread(_published, slack, 4)
    assert _calendar(view) == {_day(today - timedelta(days=3)): [
        "*12:00* · :white_check_mark: Published · X\nEarlier post · by <@U0002>"]}

    # The filter: this week, LinkedIn's account only; it stays chosen when Home is opened again.
    sender.interaction(_click(ids.HOME_WEEK_THIS, HomeWeek().encode()))
    view = await asyncio.to_thread(_published, slack, 5)
    choice = _navigation(view)[ids.HOME_ACCOUNT_FILTER]
    offered = {o["text"]["text"]: o["value"] for o in choice["options"]}
    assert list(offered) == ["All accounts", "LinkedIn · Acme Bakery", "X · Acme Marketing"]
    assert choice["initial_option"]["text"]["text"] == "All accounts"
    sender.interaction(_click(ids.HOME_ACCOUNT_FILTER, selected=offered["LinkedIn · Acme Bakery"]))
    view = await asyncio.to_thread(_published, slack, 6)
    assert {day: [line.split("\n")[1] for line in lines] for day, lines in _calendar(view).items()} == {
        tomorrow: ["Midnight post · by <@U0002>"], after: ["Croissant post · by <@U0002>"]}
    assert _navigation(view)[ids.HOME_ACCOUNT_FILTER]["initial_option"]["text"]["text"] == "LinkedIn · Acme Bakery"
    sender.event({"type": "app_home_opened", "user": VIEWER, "tab": "home",
                  "view": {"id": "VHOME", "type": "home", "private_metadata": view["private_metadata"]}})
    view = await asyncio.to_thread(_published, slack, 7)
    assert set(_calendar(view)) == {tomorrow, after} and "Teaser post" not in _text(view["blocks"])


async def test_a_post_opens_its_details_and_the_queues_buttons_work_there(sender, slack, x, week):
    teaser = week["posts"]["Teaser"]
    sender.interaction(_click(ids.HOME_POST_OPEN, str(teaser), user="U0001"))  # U0001: an admin
    [opened] = slack.wait_for("views.open")
    modal = blocks_of(opened.params["view"])
    assert modal["callback_id"] == ids.HOME_POST_VIEW and view_errors(modal) == []
    shown = _text(modal["blocks"])
    madrid = _local(_today() + timedelta(days=1), 9, 30).astimezone(ZoneInfo("Europe/Madrid"))
    assert f":calendar: Scheduled* · {_day(madrid.date())} at {madrid:%H:%M} (Europe/Madrid)" in shown, \
        "U0001 reads it in their own zone"
    assert "*X* · Acme Marketing: scheduled" in shown and ">Teaser post" in shown
    [buttons] = [b for b in modal["blocks"] if b["type"] == "actions"]
    assert [(e["action_id"], e["value"]) for e in buttons["elements"]] == [
        (ids.QUEUE_PUBLISH_NOW, str(teaser)), (ids.QUEUE_EDIT, str(teaser)), (ids.QUEUE_RESCHEDULE, str(teaser)),
        (ids.QUEUE_CANCEL, str(teaser))]

    # Edit and Reschedule open the queue's windows over the details (which they go back to).
    shown_modal = {**modal, "id": "VPOST", "hash": "h", "state": {"values": {}}}
    sender.interaction(_click(ids.QUEUE_EDIT, str(teaser), user="U0001", view=shown_modal))
    [pushed] = slack.wait_for("views.push")
    assert blocks_of(pushed.params["view"])["callback_id"] == ids.COMPOSE_VIEW
    assert "Teaser post" in _text(blocks_of(pushed.params["view"])["blocks"])
    sender.interaction(_click(ids.QUEUE_RESCHEDULE, str(teaser), user="U0001", view=shown_modal))
    pushed = slack.wait_for("views.push", 2)[1]
    assert blocks_of(pushed.params["view"])["callback_id"] == ids.QUEUE_RESCHEDULE_VIEW

    sender.interaction(_click(ids.QUEUE_CANCEL, str(teaser), user="U0001", view=shown_modal))
    [updated] = slack.wait_for("views.update")
    assert updated.params["view_id"] == "VPOST"
    after = _text(blocks_of(updated.params["view"])["blocks"])
    assert "Cancelled: it will not be published." in after and ":no_entry_sign: Cancelled*" in after
    assert ids.QUEUE_CANCEL not in after, "nothing left to change"
    async with week["sessions"]() as session:
        assert (await session.get(Post, teaser)).status is PostStatus.CANCELLED
    home = await asyncio.to_thread(lambda: slack.wait_for("views.publish")[0])
    assert "Teaser post" not in _text(blocks_of(home.params["view"])["blocks"]), "Home shows it gone"


async def test_a_full_week_is_summarised_within_homes_100_blocks(sender, slack, x, week):
    tomorrow = _today() + timedelta(days=1)
    async with week["sessions"]() as session:
        here = await ensure_workspace(session, "T0001")
        for n in range(150):
            session.add(Post(workspace_id=here.id, author_user_id="U0002", text=f"Busy {n}",
                             status=PostStatus.SCHEDULED, scheduled_at=_local(tomorrow, 8) + timedelta(minutes=n),
                             options={}, targets=[PostTarget(account_id=week["x"], status=TargetStatus.SCHEDULED)]))
        await session.commit()
    sender.event({"type": "app_home_opened", "user": VIEWER, "tab": "home"})
    view = await asyncio.to_thread(_published, slack, 1)
    assert len(view["blocks"]) <= 100
    days = _calendar(view)
    assert days[_day(tomorrow)][0].startswith("*08:00* · :calendar: Scheduled · X\nBusy 0")
    shown = len(days[_day(tomorrow)])
    [more] = [b for b in view["blocks"] if b.get("accessory", {}).get("action_id") == ids.HOME_DAY_MORE]
    assert more["text"]["text"] == f"+ {152 - shown} more on {tomorrow:%A}", "150 busy ones, the teaser, midnight"
    assert "Croissant post" in _text(view["blocks"]), "the other days keep their posts"

    sender.interaction(_click(ids.HOME_DAY_MORE, more["accessory"]["value"]))
    [queue] = slack.wait_for("views.open")
    assert blocks_of(queue.params["view"])["title"]["text"] == "Queue"


async def test_a_viewer_sees_only_the_accounts_they_may_see(sender, slack, x, week):
    async with week["sessions"]() as session:
        here = await ensure_workspace(session, "T0001")
        session.add_all([RoleGrant(workspace_id=here.id, account_id=week["x"], role="viewer", user_ids=[VIEWER]),
                         RoleGrant(workspace_id=here.id, account_id=week["linkedin"], role="publisher",
                                   user_ids=["U0001"])])
        await session.commit()
    sender.event({"type": "app_home_opened", "user": VIEWER, "tab": "home"})
    view = await asyncio.to_thread(_published, slack, 1)
    text = _text(view["blocks"])
    assert "Teaser post" in text and "Croissant post" not in text and "Midnight post" not in text
    offered = [o["text"]["text"] for o in _navigation(view)[ids.HOME_ACCOUNT_FILTER]["options"]]
    assert offered == ["All accounts", "X · Acme Marketing"]
    # A forged filter for the hidden account shows all they may see, nothing of it.
    sender.interaction(_click(ids.HOME_ACCOUNT_FILTER, selected=HomeWeek(None, week["linkedin"]).encode()))
    view = await asyncio.to_thread(_published, slack, 2)
    assert "Midnight post" not in _text(view["blocks"]) and "Teaser post" in _text(view["blocks"])
    # Nor do its posts' details open.
    sender.interaction(_click(ids.HOME_POST_OPEN, str(week["posts"]["Midnight"])))
    [opened] = slack.wait_for("views.open")
    assert "not yours to see" in _text(blocks_of(opened.params["view"])["blocks"])


def _home_of(view: dict) -> dict:
    """Home as Slack sends it back with a button pressed on it (its metadata kept)."""
    return {**view, "id": "VHOME", "hash": "h", "state": {"values": {}}}


def _range_and_filter(view: dict) -> tuple[str, str]:
    """The calendar's "Monday 1 – Sunday 7 …" line and the account its filter shows chosen."""
    [shown] = [b["elements"][0]["text"] for b in view["blocks"] if b["type"] == "context"
               and " – " in b["elements"][0]["text"]]
    return shown.split(" · ")[0], _navigation(view)[ids.HOME_ACCOUNT_FILTER]["initial_option"]["text"]["text"]


async def test_publish_now_and_cancel_in_a_posts_details_keep_the_week_and_account_the_viewer_had(sender, slack, x,
                                                                                                  week):
    next_week = _today() + timedelta(days=7)
    async with week["sessions"]() as session:
        here = await ensure_workspace(session, "T0001")
        own = {name: Post(workspace_id=here.id, author_user_id=VIEWER, text=f"{name} post", status=PostStatus.SCHEDULED,
                          scheduled_at=_local(next_week + timedelta(days=day), 11), options={}, channel_id="C0MKT",
                          targets=[PostTarget(account_id=week["x"], status=TargetStatus.SCHEDULED,
                                              next_attempt_at=_local(next_week + timedelta(days=day), 11))])
               for name, day in (("Launch", 2), ("Encore", 3))}
        session.add_all(own.values())
        await session.commit()
        launch, encore = own["Launch"].id, own["Encore"].id

    # Kiri goes to next week and keeps X's account only.
    sender.event({"type": "app_home_opened", "user": VIEWER, "tab": "home"})
    view = await asyncio.to_thread(_published, slack, 1)
    sender.interaction(_click(ids.HOME_WEEK_NEXT, _navigation(view)[ids.HOME_WEEK_NEXT]["value"]))
    view = await asyncio.to_thread(_published, slack, 2)
    offered = {o["text"]["text"]: o["value"] for o in _navigation(view)[ids.HOME_ACCOUNT_FILTER]["options"]}
    sender.interaction(_click(ids.HOME_ACCOUNT_FILTER, selected=offered["X · Acme Marketing"], view=_home_of(view)))
    view = await asyncio.to_thread(_published, slack, 3)
    had = (f"{_day(next_week)} – {_day(next_week + timedelta(days=6))}", "X · Acme Marketing")
    assert _range_and_filter(view) == had
    assert "Launch post" in _text(view["blocks"]) and "Later post" in _text(view["blocks"])

    # Cancel in a post's details: Home comes back on that week, X only (not this week, all accounts).
    sender.interaction(_click(ids.HOME_POST_OPEN, str(launch), view=_home_of(view)))
    [opened] = slack.wait_for("views.open")
    details = {**blocks_of(opened.params["view"]), "id": "VPOST", "hash": "h", "state": {"values": {}}}
    sender.interaction(_click(ids.QUEUE_CANCEL, str(launch), view=details))
    [updated] = slack.wait_for("views.update")
    assert "Cancelled: it will not be published." in _text(blocks_of(updated.params["view"])["blocks"])
    view = await asyncio.to_thread(_published, slack, 4)
    assert _range_and_filter(view) == had, "the week and account Kiri had"
    assert "Launch post" not in _text(view["blocks"]) and "Encore post" in _text(view["blocks"])

    # Publish now in the updated details, then in another post's: the same.
    sender.interaction(_click(ids.HOME_POST_OPEN, str(encore), view=_home_of(view)))
    opened = slack.wait_for("views.open", 2)[1]
    details = {**blocks_of(opened.params["view"]), "id": "VPOST2", "hash": "h", "state": {"values": {}}}
    sender.interaction(_click(ids.QUEUE_PUBLISH_NOW, str(encore), view=details))
    updated = slack.wait_for("views.update", 2)[1]
    assert "Publishing now" in _text(blocks_of(updated.params["view"])["blocks"])
    view = await asyncio.to_thread(_published, slack, 5)
    assert _range_and_filter(view) == had
    assert "Encore post" not in _text(view["blocks"]), "due now: no longer in next week"
    async with week["sessions"]() as session:
        assert (await session.get(Post, launch)).status is PostStatus.CANCELLED
        assert (await session.get(Post, encore)).scheduled_at < _local(next_week, 0), "due now"


async def test_a_post_not_approved_in_time_is_in_its_authors_needs_attention_with_reschedule(sender, slack, x, week):
    now = datetime.now(UTC).replace(microsecond=0)
    async with week["sessions"]() as session:
        here = await ensure_workspace(session, "T0001")

        def expired(text, author, updated, account=week["linkedin"]):
            return Post(workspace_id=here.id, author_user_id=author, text=text, status=PostStatus.EXPIRED,
                        scheduled_at=now - timedelta(hours=3), updated_at=updated, options={}, channel_id="C0MKT",
                        targets=[PostTarget(account_id=account, status=TargetStatus.PENDING)])

        mine = expired("Brunch menu", VIEWER, now - timedelta(hours=2))
        session.add_all([mine, expired("Someone else's menu", "U0002", now - timedelta(hours=2)),
                         expired("Last month's menu", VIEWER, now - timedelta(days=30))])
        await session.commit()
        mine_id = mine.id

    sender.event({"type": "app_home_opened", "user": VIEWER, "tab": "home"})
    view = await asyncio.to_thread(_published, slack, 1)
    text = _text(view["blocks"])
    attention = text[text.index('"Needs attention"'):text.index('"Calendar"')]
    assert (f":alarm_clock: *Not approved in time*: your post for <!date^{int((now - timedelta(hours=3)).timestamp())}^"
            in attention)
    assert "on LinkedIn · Acme Bakery was not published" in attention and ">Brunch menu" in attention
    assert "Someone else's menu" not in attention, "only to its author"
    assert "Last month's menu" not in attention, "history, not something to act on"
    [reschedule] = [b["accessory"] for b in view["blocks"] if b.get("accessory", {}).get("action_id")
                    == ids.QUEUE_RESCHEDULE]
    assert (reschedule["text"]["text"], reschedule["value"]) == ("Reschedule", str(mine_id))

    # With LinkedIn's account chosen, Reschedule opens the queue's window over Home.
    offered = {o["text"]["text"]: o["value"] for o in _navigation(view)[ids.HOME_ACCOUNT_FILTER]["options"]}
    sender.interaction(_click(ids.HOME_ACCOUNT_FILTER, selected=offered["LinkedIn · Acme Bakery"]))
    view = await asyncio.to_thread(_published, slack, 2)
    sender.interaction(_click(ids.QUEUE_RESCHEDULE, str(mine_id), view=_home_of(view)))
    [opened] = slack.wait_for("views.open")
    window = blocks_of(opened.params["view"])
    assert window["callback_id"] == ids.QUEUE_RESCHEDULE_VIEW and view_errors(window) == []

    # Someone else pressing it (a stale or forged button) is told why not, in a window: Home has no message.
    slack.teams["T0001"].users["U0C02"] = {"id": "U0C02", "name": "sam", "tz": ZONE, "is_admin": False}
    try:
        sender.interaction(_click(ids.QUEUE_RESCHEDULE, str(mine_id), user="U0C02"))
        refused = blocks_of(slack.wait_for("views.open", 2)[1].params["view"])
    finally:
        slack.teams["T0001"].users.pop("U0C02", None)
    assert refused["title"]["text"] == "Reschedule" and "submit" not in refused
    assert "Only the post's author, a publisher of all its accounts or an admin" in _text(refused["blocks"])

    def save(when: datetime):
        state = {"values": {ids.QUEUE_AT_BLOCK: {ids.QUEUE_AT_INPUT: {
            "type": "datetimepicker", "selected_date_time": int(when.timestamp())}}}}
        return sender.interaction({
            "type": "view_submission", "team": TEAM, "user": {"id": VIEWER, "team_id": "T0001"},
            "api_app_id": "A0PICMIM", "token": "deprecated", "trigger_id": f"trigger-{time.time_ns()}",
            "view": {"id": "VRESCHED", "team_id": "T0001", "type": "modal", "callback_id": ids.QUEUE_RESCHEDULE_VIEW,
                     "private_metadata": window["private_metadata"], "state": state, "hash": "h", "blocks": []}})

    # A time in the past is refused in the window, and nothing changes.
    answer = save(now - timedelta(days=1))
    assert "in the past" in answer.json()["errors"][ids.QUEUE_AT_BLOCK]
    async with week["sessions"]() as session:
        assert (await session.get(Post, mine_id)).status is PostStatus.EXPIRED

    later = _local(_today() + timedelta(days=1), 15)
    answer = save(later)
    assert answer.status_code == 200 and answer.text in ("", "null"), answer.text
    view = await asyncio.to_thread(_published, slack, 3)
    text = _text(view["blocks"])
    assert "Not approved in time*: your post" not in text, "no longer needs Kiri"
    assert _range_and_filter(view) == (f"{_day(_today())} – {_day(_today() + timedelta(days=6))}",
                                       "LinkedIn · Acme Bakery"), "the account Kiri had"
    assert "*15:00* · :hourglass: Waiting for approval · LinkedIn\\nBrunch menu" in text
    async with week["sessions"]() as session:
        saved = await session.get(Post, mine_id)
        assert (saved.status, saved.scheduled_at) == (PostStatus.PENDING_APPROVAL, later)


async def test_retry_on_home_keeps_the_week_and_account_too(sender, slack, x, week):
    async with week["sessions"]() as session:
        target = await session.scalar(select(PostTarget.id).where(PostTarget.post_id == week["posts"]["Midnight"]))
    next_week = _today() + timedelta(days=7)
    home = {"id": "VHOME", "type": "home", "blocks": [], "state": {"values": {}}, "hash": "h",
            "private_metadata": HomeWeek(next_week.isoformat(), week["linkedin"]).encode()}
    sender.interaction(_click(ids.POST_RETRY, str(target), user="U0001", view=home))  # U0001: an admin
    call = await asyncio.to_thread(lambda: slack.wait_for("views.publish")[0])
    assert call.params["user_id"] == "U0001"
    assert _range_and_filter(blocks_of(call.params["view"])) == (
        f"{_day(next_week)} – {_day(next_week + timedelta(days=6))}", "LinkedIn · Acme Bakery")
