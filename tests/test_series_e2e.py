"""Recurring posts, end to end: two real server processes on one database with the fake X, a weekly series
composed through the compose window (Mondays and Thursdays at 09:00 in Paris, 4 times, starting just before the
spring change of clocks), its occurrences made at the right UTC times and each published exactly once, a skipped
occurrence left unpublished, Stop series cancelling the rest, and the warning for X's refusal of the same words."""

from __future__ import annotations

import asyncio
import json
import time
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, update

from bot import ids
from bot.storage import db
from bot.storage.models import Post, PostStatus, PostTarget, Series, TargetStatus, Workspace
from tests import journeys
from tests.conftest import SECRET_KEY, SIGNING_SECRET
from tests.journeys import (
    accepted,
    compose_state,
    field_errors,
    poll_server,
    submit_compose,
    update_compose,
    wait_until,
    x_posts,
)
from tests.server import ServerProcess, base_env, free_port
from tests.slack_requests import SlackSender

fake_x = journeys.fake_x
PARIS = ZoneInfo("Europe/Paris")
TEAM = {"id": "T0001", "domain": "acme"}


@pytest.fixture(scope="module")
def servers(module_database, fake_slack, fake_x, tmp_path_factory):
    """Two server processes (ticking every 0.5 s) on one database, and the X account they share."""
    started, port = [], free_port()
    public = f"http://127.0.0.1:{port}"
    overrides = ",".join(f"{real}={local}" for real, local in fake_x.origins().items())
    env = base_env(SLACK_SIGNING_SECRET=SIGNING_SECRET, SLACK_BOT_TOKEN=journeys.BOT_TOKEN,
                   SLACK_API_URL=fake_slack.api_url, DATABASE_URL=module_database.url, PICMIM_SECRET_KEY=SECRET_KEY,
                   PUBLIC_URL=public, PICMIM_ORIGIN_OVERRIDES=overrides, PICMIM_TICK_SECONDS="0.5",
                   X_CLIENT_ID=fake_x.client_id, X_CLIENT_SECRET=fake_x.client_secret)
    try:
        for n, at in enumerate((port, free_port())):
            started.append(ServerProcess({**env, "PORT": str(at)}, cwd=tmp_path_factory.mktemp(f"series-{n}")).start())
        redirect = f"{public}/oauth/x/callback"
        fake_x.redirect_uris = {redirect}
        account_id = asyncio.run(journeys._store_x_account(module_database.url, fake_x, redirect))
        yield started, account_id
    finally:
        for server in started:
            server.stop()


@pytest.fixture
def sender(servers):
    s = SlackSender(servers[0][0].url, SIGNING_SECRET)
    yield s
    s.close()


@pytest.fixture
def in_paris(fake_slack):
    """The author's Slack profile says Europe/Paris."""
    user = fake_slack.teams["T0001"].users["U0001"]
    before = user["tz"]
    user["tz"] = "Europe/Paris"
    yield
    user["tz"] = before


def _spring_change() -> date:
    """The next last Sunday of March (Paris moves to summer time) at least a week away."""
    year = datetime.now(UTC).year
    while True:
        day = date(year, 3, 31)
        day -= timedelta(days=(day.weekday() + 1) % 7)
        if datetime.combine(day, datetime.min.time(), tzinfo=UTC) > datetime.now(UTC) + timedelta(days=7):
            return day
        year += 1


def _repeat_state(state: dict, frequency: str, days=(), times: int | None = None, until: date | None = None) -> dict:
    values = dict(state["values"])
    values[ids.COMPOSE_REPEAT_BLOCK] = {ids.COMPOSE_REPEAT_INPUT: {
        "type": "static_select", "selected_option": {"value": frequency}}}
    values[ids.COMPOSE_REPEAT_DAYS_BLOCK] = {ids.COMPOSE_REPEAT_DAYS_INPUT: {
        "type": "checkboxes", "selected_options": [{"value": str(d)} for d in days]}}
    values[ids.COMPOSE_REPEAT_TIMES_BLOCK] = {ids.COMPOSE_REPEAT_TIMES_INPUT: {
        "type": "number_input", "value": str(times) if times is not None else None}}
    values[ids.COMPOSE_REPEAT_UNTIL_BLOCK] = {ids.COMPOSE_REPEAT_UNTIL_INPUT: {
        "type": "datepicker", "selected_date": until.isoformat() if until else None}}
    return {"values": values}


def _read(url: str, query):
    async def run():
        engine = db.create_engine(url)
        try:
            async with db.session_factory(engine)() as session:
                return list(await session.scalars(query))
        finally:
            await engine.dispose()
    return asyncio.run(run())


def _occurrences(url: str, series_id: int) -> list[Post]:
    return _read(url, select(Post).where(Post.series_id == series_id).order_by(Post.series_index))


def _series_of(url: str, text_start: str) -> Series:
    posts = _read(url, select(Post).where(Post.text.startswith(text_start), Post.series_id.is_not(None)))
    [found] = _read(url, select(Series).where(Series.id == posts[0].series_id))
    return found


def _due_now(url: str, post_id: int) -> None:
    """Move the occurrence's due time to now (its stored time stays), as if its day had come."""
    async def run():
        engine = db.create_engine(url)
        try:
            async with db.session_factory(engine)() as session:
                await session.execute(update(PostTarget).where(PostTarget.post_id == post_id,
                                                               PostTarget.status == TargetStatus.SCHEDULED)
                                      .values(next_attempt_at=datetime.now(UTC) - timedelta(seconds=1)))
                await session.commit()
        finally:
            await engine.dispose()
    asyncio.run(run())


def _click(sender, slack, action_id: str, post_id: int, rid: str) -> None:
    payload = {"type": "block_actions", "team": TEAM, "user": {"id": "U0001", "team_id": "T0001"},
               "api_app_id": "A0PICMIM", "token": "deprecated", "trigger_id": f"trigger-{time.time_ns()}",
               "channel": {"id": "C0001"}, "container": {"type": "message", "is_ephemeral": True},
               "response_url": slack.response_url(rid),
               "actions": [{"type": "button", "action_id": action_id, "block_id": f"queue_{post_id}",
                            "value": str(post_id), "action_ts": str(time.time())}]}
    assert sender.interaction(payload).status_code == 200


def _queue(sender, slack, rid: str) -> list[dict]:
    assert sender.command("queue", response_url=slack.response_url(rid)).status_code == 200
    [listing] = slack.wait_for_response(rid)
    return listing["blocks"]


def test_a_weekly_series_goes_out_at_nine_in_paris_across_the_clock_change_once_each(
        sender, slack, servers, fake_x, module_database, in_paris):
    (first_server, _), account_id = servers
    url = module_database.url
    change = _spring_change()
    thursday = change - timedelta(days=3)  # the Thursday before the change
    start = datetime.combine(thursday, datetime.min.time().replace(hour=9), tzinfo=PARIS).astimezone(UTC)
    nonce = time.time_ns()
    text = f"Tip of the week {{date}} #{nonce}"
    state = _repeat_state(compose_state([account_id], text, when="schedule", at=start), "weekly", days=(0, 3),
                          times=4)
    accepted(submit_compose(sender, state))
    made = _series_of(url, "Tip of the week")
    assert made.timezone == "Europe/Paris" and made.time_of_day == "09:00" and made.max_count == 4
    # Two wait in the queue: the first, and the next made by the job; at 09:00 in Paris before and after.
    posts = poll_server("two occurrences", lambda: len(_occurrences(url, made.id)) >= 2 and _occurrences(url, made.id),
                        first_server)
    monday = change + timedelta(days=1)
    expected = [datetime.combine(d, datetime.min.time().replace(hour=9), tzinfo=PARIS).astimezone(UTC)
                for d in (thursday, monday, monday + timedelta(days=3), monday + timedelta(days=7))]
    assert expected[0].hour == 8 and expected[1].hour == 7  # UTC+1, then UTC+2
    assert [p.scheduled_at for p in posts] == expected[:2]
    assert posts[0].text == f"Tip of the week {thursday.day} March {thursday.year} #{nonce}"

    # The queue shows the series and its buttons; the second (the Monday after the change) is skipped.
    blocks = _queue(sender, slack, "q1")
    listed = json.dumps(blocks, ensure_ascii=False)
    # The queue and each post's own status message say how it repeats in the same words (the author reads them in
    # Paris, the series' own zone, so no zone is named).
    said = "Repeats every Monday and Thursday at 09:00, 4 times"
    assert said in listed
    for post in posts:
        message = poll_server("the status message", lambda p=post: [
            c for c in slack.calls_to("chat.postMessage") + slack.calls_to("chat.update")
            if p.text in journeys.blocks_text(c)], first_server)[-1]
        assert f":repeat: {said}" in journeys.blocks_text(message)
    [row] = [b for b in blocks if b.get("block_id") == f"queue_{posts[1].id}"]
    assert {e["action_id"] for e in row["elements"]} >= {ids.QUEUE_SKIP, ids.QUEUE_STOP_SERIES, ids.QUEUE_EDIT}
    _click(sender, slack, ids.QUEUE_SKIP, posts[1].id, "skip")
    [answer] = slack.wait_for_response("skip")
    assert "Skipped" in json.dumps(answer)

    # The rest come as the ones before them go out; each is due when the test says its day has come.
    published: set[int] = set()
    while True:
        posts = _occurrences(url, made.id)
        waiting = [p for p in posts if p.status is PostStatus.SCHEDULED and p.id not in published]
        for post in waiting:
            _due_now(url, post.id)
            poll_server(f"occurrence {post.series_index + 1} published", lambda p=post: x_posts(fake_x, p.text),
                        first_server)
            published.add(post.id)
        if len(posts) == 4 and not waiting:
            break
        poll_server("the next occurrence", lambda n=len(posts): len(_occurrences(url, made.id)) > n
                    or len(_occurrences(url, made.id)) == 4, first_server)
    posts = poll_server("every occurrence settled", lambda: all(
        p.status in (PostStatus.PUBLISHED, PostStatus.CANCELLED) for p in _occurrences(url, made.id))
        and _occurrences(url, made.id), first_server)
    assert [p.scheduled_at for p in posts] == expected
    assert [p.status for p in posts] == [PostStatus.PUBLISHED, PostStatus.CANCELLED, PostStatus.PUBLISHED,
                                         PostStatus.PUBLISHED]
    time.sleep(1.5)  # three more ticks of both processes
    assert [len(x_posts(fake_x, p.text)) for p in posts] == [1, 0, 1, 1]
    assert len(_occurrences(url, made.id)) == 4
    assert _series_of(url, "Tip of the week").status == "finished"


def test_stop_series_cancels_the_waiting_ones_and_makes_no_more(sender, slack, servers, module_database, in_paris):
    (first_server, _), account_id = servers
    url = module_database.url
    start = (datetime.now(UTC) + timedelta(days=2)).replace(second=0, microsecond=0)
    state = _repeat_state(compose_state([account_id], f"Daily deal {{date}} {time.time_ns()}", when="schedule",
                                        at=start), "daily", times=10)
    accepted(submit_compose(sender, state))
    made = _series_of(url, "Daily deal")
    posts = poll_server("two occurrences", lambda: len(_occurrences(url, made.id)) == 2 and _occurrences(url, made.id),
                        first_server)
    assert posts[1].scheduled_at - posts[0].scheduled_at == timedelta(days=1)
    _click(sender, slack, ids.QUEUE_STOP_SERIES, posts[0].id, "stop")
    [answer] = slack.wait_for_response("stop")
    assert "Series stopped: 2 waiting posts cancelled" in json.dumps(answer)
    time.sleep(1.5)  # three more ticks of both processes
    posts = _occurrences(url, made.id)
    assert [p.status for p in posts] == [PostStatus.CANCELLED, PostStatus.CANCELLED]
    assert _series_of(url, "Daily deal").status == "stopped"


def test_the_window_warns_when_x_would_get_the_same_words_every_time(sender, slack, servers):
    _, account_id = servers
    at = datetime.now(UTC) + timedelta(days=3)
    same = _repeat_state(compose_state([account_id], "Our coffee of the week", when="schedule", at=at), "weekly",
                         days=(2,), times=3)
    shown = json.dumps(update_compose(sender, slack, same, ids.COMPOSE_REPEAT_INPUT), ensure_ascii=False)
    assert "X refuses a post whose text the account has already published" in shown and "{date}" in shown
    assert ids.COMPOSE_REPEAT_DAYS_BLOCK in shown and ids.COMPOSE_REPEAT_TIMES_BLOCK in shown
    dated = _repeat_state(compose_state([account_id], "Our coffee of {date}", when="schedule", at=at), "weekly",
                          days=(2,), times=3)
    assert "X refuses" not in json.dumps(update_compose(sender, slack, dated, ids.COMPOSE_REPEAT_INPUT))


def test_a_series_without_days_or_end_is_refused_beside_each_part(sender, slack, servers, in_paris):
    _, account_id = servers
    at = datetime.now(UTC) + timedelta(days=3)
    state = _repeat_state(compose_state([account_id], "No end {date}", when="schedule", at=at), "weekly")
    errors = field_errors(submit_compose(sender, state))
    assert errors == {ids.COMPOSE_REPEAT_DAYS_BLOCK: "Tick the days of the week it goes out on.",
                      ids.COMPOSE_REPEAT_TIMES_BLOCK: "Say when the series ends: how many times in all, or its "
                                                      "last day."}
    now = _repeat_state(compose_state([account_id], "Right now {date}"), "daily", times=2)
    assert "choose Schedule" in field_errors(submit_compose(sender, now))[ids.COMPOSE_AT_BLOCK]


def test_edit_series_brings_its_settings_back_and_the_waiting_ones_give_way_to_the_new_words(
        sender, slack, servers, module_database, in_paris):
    (first_server, _), account_id = servers
    url = module_database.url
    start = (datetime.now(UTC) + timedelta(days=4)).replace(second=0, microsecond=0)
    nonce = time.time_ns()
    state = _repeat_state(compose_state([account_id], f"Brew club {{date}} {nonce}", when="schedule", at=start),
                          "weekly", days=(start.astimezone(PARIS).weekday(),), times=6)
    accepted(submit_compose(sender, state))
    made = _series_of(url, "Brew club")
    before = poll_server("two occurrences", lambda: len(_occurrences(url, made.id)) == 2 and _occurrences(url, made.id),
                         first_server)
    opened = len(slack.calls_to("views.open"))
    _click(sender, slack, ids.QUEUE_EDIT_SERIES, before[1].id, "edit")
    call = wait_until(lambda: slack.calls_to("views.open")[opened:], "the compose window")[0]
    view = journeys.blocks_of(call.params["view"])
    assert view["title"]["text"] == "Edit series" and view["submit"]["text"] == "Save"
    fields = journeys.blocks_by_id(view)
    assert fields[ids.COMPOSE_TEXT_BLOCK]["element"]["initial_value"] == f"Brew club {{date}} {nonce}"
    assert fields[ids.COMPOSE_AT_BLOCK]["element"]["initial_date_time"] == int(before[0].scheduled_at.timestamp())
    assert fields[ids.COMPOSE_REPEAT_BLOCK]["element"]["initial_option"]["value"] == "weekly"
    assert fields[ids.COMPOSE_REPEAT_TIMES_BLOCK]["element"]["initial_value"] == "6"
    new_words = f"Brew club, new recipe, {{date}} {nonce}"
    journeys.accepted(journeys.submit_view(sender, {**view, "callback_id": ids.COMPOSE_VIEW}, journeys.view_state(
        view, {ids.COMPOSE_TEXT_BLOCK: journeys.typed(new_words)})))
    poll_server("the old occurrences cancelled", lambda: all(
        p.status is PostStatus.CANCELLED for p in _occurrences(url, made.id)), first_server)
    assert _series_of(url, "Brew club").status == "stopped"
    replaced = _series_of(url, "Brew club, new recipe")
    after = poll_server("the new series' two occurrences", lambda: len(_occurrences(url, replaced.id)) == 2
                        and _occurrences(url, replaced.id), first_server)
    assert after[0].scheduled_at == before[0].scheduled_at and after[1].scheduled_at == before[1].scheduled_at
    assert after[0].text.startswith("Brew club, new recipe, ") and replaced.max_count == 6


def _set_approval(url: str, required: bool) -> None:
    async def run():
        engine = db.create_engine(url)
        try:
            async with db.session_factory(engine)() as session:
                await session.execute(update(Workspace).values(
                    approval_required=required, approval_channel_id="C0REVIEW" if required else None,
                    approver_user_ids=["U0002"] if required else []))
                await session.commit()
        finally:
            await engine.dispose()
    asyncio.run(run())


def test_a_series_is_approved_once_with_its_first_post(sender, slack, servers, module_database, in_paris):
    (first_server, _), account_id = servers
    url = module_database.url
    _set_approval(url, True)
    try:
        start = (datetime.now(UTC) + timedelta(days=5)).replace(second=0, microsecond=0)
        state = _repeat_state(compose_state([account_id], f"Roast notes {{date}} {time.time_ns()}", when="schedule",
                                            at=start), "daily", times=3)
        accepted(submit_compose(sender, state))
        made = _series_of(url, "Roast notes")
        [first] = poll_server("the review card", lambda: [p for p in _occurrences(url, made.id) if p.review_ts],
                              first_server)
        assert first.status is PostStatus.PENDING_APPROVAL
        [card] = [c for c in slack.calls_to("chat.postMessage") if c.params.get("channel") == "C0REVIEW"
                  and "thread_ts" not in c.params]
        # The approvers may be anywhere: the card names the series' zone.
        local = start.astimezone(PARIS)
        assert f":repeat: Repeats every day at {local:%H:%M} (Europe/Paris time), 3 times. Approving it approves " \
               "the series" in journeys.blocks_text(card)
        time.sleep(1.5)  # three more ticks of both processes: nothing is made before the approval
        assert len(_occurrences(url, made.id)) == 1
        payload = {"type": "block_actions", "team": TEAM, "user": {"id": "U0002", "team_id": "T0001"},
                   "api_app_id": "A0PICMIM", "token": "deprecated", "trigger_id": f"trigger-{time.time_ns()}",
                   "channel": {"id": "C0REVIEW"}, "response_url": slack.response_url("approve"),
                   "container": {"type": "message", "message_ts": first.review_ts, "channel_id": "C0REVIEW",
                                 "is_ephemeral": False},
                   "message": {"type": "message", "ts": first.review_ts, "text": "card"},
                   "actions": [{"type": "button", "action_id": ids.REVIEW_APPROVE, "block_id": f"review_{first.id}",
                                "value": f"{first.id}:{first.version}", "action_ts": str(time.time())}]}
        assert sender.interaction(payload).status_code == 200
        posts = poll_server("the second post, once the first is approved",
                            lambda: len(_occurrences(url, made.id)) == 2 and _occurrences(url, made.id), first_server)
        assert [p.status for p in posts] == [PostStatus.SCHEDULED, PostStatus.SCHEDULED]  # no second review
    finally:
        _set_approval(url, False)


def _open_draft(sender, slack, text: str) -> tuple[dict, str]:
    """`/picmim drafts`, then Open on the draft with `text`: the compose window Picmim opens, and the list's line
    for that draft."""
    rid = f"drafts-{time.time_ns()}"
    sender.command("drafts", response_url=slack.response_url(rid))
    [listing] = slack.wait_for_response(rid)
    button = next(b["accessory"] for b in listing["blocks"] if text in json.dumps(b, ensure_ascii=False))
    opened = len(slack.calls_to("views.open"))
    _click_open = {"type": "block_actions", "team": TEAM, "user": {"id": "U0001", "team_id": "T0001"},
                   "api_app_id": "A0PICMIM", "token": "deprecated", "trigger_id": f"trigger-{time.time_ns()}",
                   "channel": {"id": "C0001"}, "container": {"type": "message", "is_ephemeral": True},
                   "response_url": slack.response_url(f"open-{rid}"),
                   "actions": [{"type": "button", "action_id": ids.DRAFT_OPEN, "block_id": "b",
                                "value": button["value"], "action_ts": str(time.time())}]}
    assert sender.interaction(_click_open).status_code == 200
    call = wait_until(lambda: slack.calls_to("views.open")[opened:], "the compose window")[0]
    line = next(b["text"]["text"] for b in listing["blocks"] if text in json.dumps(b, ensure_ascii=False))
    return journeys.blocks_of(call.params["view"]), line


def test_a_closed_window_keeps_the_repetition_with_the_draft_and_brings_it_back(
        sender, slack, servers, module_database, in_paris):
    (first_server, _), account_id = servers
    url = module_database.url
    start = (datetime.now(UTC) + timedelta(days=6)).replace(second=0, microsecond=0)
    text = f"Market day {{date}} {time.time_ns()}"
    until = (start + timedelta(days=30)).astimezone(PARIS).date()
    state = _repeat_state(compose_state([account_id], text, when="schedule", at=start), "weekly", days=(1, 4),
                          until=until)
    closed = sender.interaction(journeys.compose_payload("view_closed", state, '{"channel_id": "C0001"}'))
    assert closed.status_code == 200
    wait_until(lambda: _read(url, select(Post).where(Post.text == text, Post.status == PostStatus.DRAFT)),
               "the draft")

    view, line = _open_draft(sender, slack, text)
    # The list says how it would repeat, in the words the queue will use.
    assert f":repeat: Repeats every Tuesday and Friday at {start.astimezone(PARIS):%H:%M}, until {until.day} " \
        f"{until:%B %Y}" in line
    fields = journeys.blocks_by_id(view)
    assert fields[ids.COMPOSE_TEXT_BLOCK]["element"]["initial_value"] == text
    assert fields[ids.COMPOSE_AT_BLOCK]["element"]["initial_date_time"] == int(start.timestamp())
    assert fields[ids.COMPOSE_REPEAT_BLOCK]["element"]["initial_option"]["value"] == "weekly"
    assert [o["value"] for o in fields[ids.COMPOSE_REPEAT_DAYS_BLOCK]["element"]["initial_options"]] == ["1", "4"]
    assert fields[ids.COMPOSE_REPEAT_UNTIL_BLOCK]["element"]["initial_date"] == until.isoformat()
    assert "initial_value" not in fields[ids.COMPOSE_REPEAT_TIMES_BLOCK]["element"]

    # Scheduled as it was brought back: the draft becomes the series' first post.
    filled = journeys.view_state(view, {ids.COMPOSE_REPEAT_UNTIL_BLOCK: {"selected_date": until.isoformat()}})
    accepted(journeys.submit_view(sender, {**view, "callback_id": ids.COMPOSE_VIEW}, filled))
    made = _series_of(url, "Market day")
    assert (made.frequency, made.weekdays, made.ends_on, made.max_count) == ("weekly", [1, 4], until.isoformat(),
                                                                             None)
    [draft] = _read(url, select(Post).where(Post.id == json.loads(view["private_metadata"])["draft_id"]))
    assert draft.series_id == made.id and draft.series_index == 0 and draft.status is PostStatus.SCHEDULED
    assert "repeat" not in (draft.options or {}), "the window's choices are not sent to a network"

    # A draft closed without a repetition opens without one.
    plain = f"Plain draft {time.time_ns()}"
    sender.interaction(journeys.compose_payload("view_closed", compose_state([account_id], plain, when="schedule",
                                                                             at=start), '{"channel_id": "C0001"}'))
    wait_until(lambda: _read(url, select(Post).where(Post.text == plain)), "the plain draft")
    view, line = _open_draft(sender, slack, plain)
    fields = journeys.blocks_by_id(view)
    assert ":repeat:" not in line
    assert fields[ids.COMPOSE_REPEAT_BLOCK]["element"]["initial_option"]["value"] == "none"
    assert ids.COMPOSE_REPEAT_DAYS_BLOCK not in fields


def test_edit_series_by_an_admin_keeps_the_author_and_the_audit_trail_says_what_replaced_what(
        sender, slack, fake_slack, servers, module_database, in_paris):
    (first_server, _), account_id = servers
    url = module_database.url
    users = fake_slack.teams["T0001"].users
    users["U0B07"] = {"id": "U0B07", "name": "bo", "real_name": "Bo Berg", "tz": "Europe/Paris",
                      "profile": {"display_name": "Bo", "real_name": "Bo Berg"}, "tz_offset": 3600,
                      "is_admin": False}
    admin_zone = users["U0001"]["tz"]
    users["U0001"]["tz"] = "America/New_York"  # the admin who edits is elsewhere: the series stays on Paris time
    try:
        start = datetime.combine(datetime.now(UTC).date() + timedelta(days=8), datetime.min.time().replace(hour=10),
                                 tzinfo=PARIS).astimezone(UTC)
        nonce = time.time_ns()
        state = _repeat_state(compose_state([account_id], f"Bo's pick {{date}} {nonce}", when="schedule", at=start),
                              "daily", times=5)
        payload = journeys.compose_payload("view_submission", state, '{"channel_id": "C0001"}')
        payload["user"] = {"id": "U0B07", "team_id": "T0001"}
        accepted(sender.interaction(payload))
        old = _series_of(url, "Bo's pick")
        before = poll_server("two occurrences", lambda: len(_occurrences(url, old.id)) == 2
                             and _occurrences(url, old.id), first_server)
        assert old.author_user_id == "U0B07"

        opened = len(slack.calls_to("views.open"))
        _click(sender, slack, ids.QUEUE_EDIT_SERIES, before[0].id, "edit-bo")  # U0001, an admin
        call = wait_until(lambda: slack.calls_to("views.open")[opened:], "the compose window")[0]
        view = journeys.blocks_of(call.params["view"])
        accepted(journeys.submit_view(sender, {**view, "callback_id": ids.COMPOSE_VIEW}, journeys.view_state(
            view, {ids.COMPOSE_TEXT_BLOCK: journeys.typed(f"Bo's pick, edited, {{date}} {nonce}")})))

        new = _series_of(url, "Bo's pick, edited")
        after = poll_server("the new series' two occurrences", lambda: len(_occurrences(url, new.id)) == 2
                            and _occurrences(url, new.id), first_server)
        assert new.author_user_id == "U0B07" and {p.author_user_id for p in after} == {"U0B07"}
        assert (new.timezone, new.time_of_day) == ("Europe/Paris", "10:00")
        assert after[0].timezone == "Europe/Paris"
        [stopped] = _read(url, select(Series).where(Series.id == old.id))
        assert stopped.status == "stopped" and stopped.replaced_by_id == new.id

        # /picmim audit (U0001 is an admin): the edit under the editor's name, naming the series it replaced; each
        # waiting post of the old series cancelled as replaced.
        assert sender.command("audit", response_url=slack.response_url("audit-edit")).status_code == 200
        [answer] = slack.wait_for_response("audit-edit")
        lines = [b["text"]["text"] for b in answer["blocks"] if b["type"] == "section"]
        [edit] = [line for line in lines if line.startswith("*series edited* · <@U0001>")]
        assert f"post {after[0].id}" in edit and f"Replaces series {old.id}, now stopped (2 waiting posts " \
            "cancelled" in edit and f"series {new.id} starts with this post" in edit
        assert "Repeats every day at 10:00 (Europe/Paris time), 5 times" in edit
        assert "The author stays U0B07; edited by U0001." in edit
        for post in before:
            [cancelled] = [line for line in lines if line.startswith("*cancelled* · <@U0001>")
                           and f"post {post.id}" in line]
            assert "replaced by the edited series" in cancelled
    finally:
        users["U0001"]["tz"] = admin_zone
