"""Recurring posts in-process: the rule's times across daylight saving, what is refused, the warning for networks
that refuse the same words twice, and the top-up making each occurrence once with two workers on one database."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select

from bot.services import series
from bot.services.composing import Composition
from bot.services.series import Repeat, Rule, SeriesTopUp
from bot.storage import db
from bot.storage.models import Account, Connection, Post, PostStatus, PostTarget, Series, TargetStatus, Workspace


def _utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_a_weekly_rule_keeps_the_wall_clock_time_across_the_spring_change():
    # Paris moves from UTC+1 to UTC+2 on Sunday 28 March 2027: 09:00 is 08:00 UTC before, 07:00 UTC after.
    rule = Rule("weekly", datetime(2000, 1, 1, 9, 0).time(), "Europe/Paris", weekdays=(0, 3), max_count=4)
    first = rule.first_from(_utc(2027, 3, 25, 8, 0))
    times = [first]
    while len(times) < 5:
        times.append(rule.after(times[-1]))
    assert times[:4] == [_utc(2027, 3, 25, 8, 0), _utc(2027, 3, 29, 7, 0), _utc(2027, 4, 1, 7, 0),
                         _utc(2027, 4, 5, 7, 0)]
    assert [rule.ended(i, t) for i, t in enumerate(times)] == [False, False, False, False, True]


def test_a_monthly_rule_falls_on_a_short_months_last_day_and_a_daily_one_ends_on_its_last_day():
    rule = Rule("monthly", datetime(2000, 1, 1, 18, 30).time(), "America/New_York", day_of_month=31)
    assert rule.after(_utc(2027, 1, 31, 23, 30)) == _utc(2027, 2, 28, 23, 30)  # 18:30 EST
    assert rule.after(_utc(2027, 2, 28, 23, 30)) == _utc(2027, 3, 31, 22, 30)  # 18:30 EDT
    daily = Rule("daily", datetime(2000, 1, 1, 9, 0).time(), "UTC", ends_on=date(2027, 1, 2))
    assert not daily.ended(5, _utc(2027, 1, 2, 9, 0)) and daily.ended(6, _utc(2027, 1, 3, 9, 0))


def test_the_first_time_picked_on_another_day_starts_on_the_next_chosen_weekday():
    repeat = Repeat("weekly", (0,), times=2)
    picked = _utc(2027, 3, 25, 8, 0)  # a Thursday, 09:00 in Paris
    rule = series.rule_for(repeat, picked, "Europe/Paris")
    assert rule.first_from(picked) == _utc(2027, 3, 29, 7, 0)  # the Monday after, still 09:00 in Paris


def test_what_is_missing_is_said_beside_its_part():
    first = _utc(2027, 3, 25, 8, 0)
    assert series.problems(Repeat("weekly"), first, "UTC") == {
        series.REPEAT_DAYS: ["Tick the days of the week it goes out on."],
        series.REPEAT_END: ["Say when the series ends: how many times in all, or its last day."]}
    assert series.problems(Repeat("daily", times=0), first, "UTC")[series.REPEAT_END] == [
        "A series goes out between 1 and 366 times."]
    assert "before the first date" in series.problems(Repeat("daily", ends_on=date(2027, 3, 1)), first,
                                                      "UTC")[series.REPEAT_END][0]
    assert series.problems(Repeat("daily", times=3), first, "UTC") == {}
    assert series.problems(None, first, "UTC") == {}


def test_the_same_words_every_time_are_warned_about_for_x_not_for_bluesky():
    repeat = Repeat("daily", times=3)
    same = Composition(text="Our coffee of the week")
    assert "X refuses" in series.duplicate_warning(repeat, ["x", "bluesky"], same)
    assert series.duplicate_warning(repeat, ["bluesky"], same) is None
    assert series.duplicate_warning(repeat, ["x"], Composition(text="Coffee of {date}")) is None
    assert series.duplicate_warning(None, ["x"], same) is None
    at = _utc(2027, 3, 29, 7, 0)
    assert series.dated("Coffee of {date}", at, "Europe/Paris") == "Coffee of 29 March 2027"


async def _seed(engine, first: datetime, times: int) -> tuple[int, int]:
    """A workspace, an X account and a weekly series (Mondays and Thursdays, 09:00 Paris) whose first occurrence
    is a post already accepted at `first`."""
    sessions = db.session_factory(engine)
    async with sessions() as session:
        workspace = Workspace(team_id="T0001")
        session.add(workspace)
        await session.flush()
        connection = Connection(workspace_id=workspace.id, platform="x", external_user_id="1", display_name="Acme")
        session.add(connection)
        await session.flush()
        account = Account(workspace_id=workspace.id, connection_id=connection.id, platform="x", external_id="1",
                          kind="profile", name="Acme")
        session.add(account)
        await session.flush()
        template = Composition(text="Tip of {date}", account_ids=[account.id], when=first, schedule=True)
        rule = series.rule_for(Repeat("weekly", (0, 3), times=times), first, "Europe/Paris")
        post = Post(workspace_id=workspace.id, author_user_id="U0001", text="Tip", channel_id="C0001",
                    status=PostStatus.SCHEDULED, scheduled_at=first, media=[],
                    targets=[PostTarget(account_id=account.id, status=TargetStatus.SCHEDULED,
                                        next_attempt_at=first)])
        session.add(post)
        await session.flush()
        made = await series.start(session, post, rule, template)
        await session.commit()
        return made.id, account.id


async def test_two_workers_make_each_occurrence_once_at_its_local_time_and_stop_after_the_last(engine):
    first = _utc(2027, 3, 25, 8, 0)
    series_id, _ = await _seed(engine, first, times=4)
    sessions = db.session_factory(engine)
    clock = [_utc(2027, 3, 20, 12, 0)]
    workers = [SeriesTopUp(sessions, clock=lambda: clock[0]) for _ in range(2)]
    made = sum((await asyncio.gather(*(w.tick() for w in workers))), [])
    assert len(made) == 1  # the first waits already: one more makes two waiting
    # The waiting ones go out (as the publisher leaves them); each tick makes what is missing, once.
    for _ in range(4):
        async with sessions() as session:
            for post in await session.scalars(select(Post).where(Post.series_id == series_id,
                                                                 Post.status == PostStatus.SCHEDULED)):
                post.status = PostStatus.PUBLISHED
            await session.commit()
        await asyncio.gather(*(w.tick() for w in workers))
        clock[0] += timedelta(days=3)
    async with sessions() as session:
        posts = list(await session.scalars(select(Post).where(Post.series_id == series_id)
                                           .order_by(Post.series_index)))
        done = await session.get(Series, series_id)
    assert [p.series_index for p in posts] == [0, 1, 2, 3]
    assert [p.scheduled_at for p in posts] == [first, _utc(2027, 3, 29, 7, 0), _utc(2027, 4, 1, 7, 0),
                                               _utc(2027, 4, 5, 7, 0)]
    assert [p.text for p in posts[1:]] == ["Tip of 29 March 2027", "Tip of 1 April 2027", "Tip of 5 April 2027"]
    assert done.status == series.FINISHED and done.next_at is None


async def test_the_migration_matches_the_model_for_series(engine):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from bot.storage.models import Base

    async with engine.connect() as conn:
        diffs = await conn.run_sync(lambda c: compare_metadata(MigrationContext.configure(c), Base.metadata))
    assert [d for d in diffs if "series" in repr(d)] == []


async def test_an_occurrence_whose_time_passed_while_nothing_ran_is_passed_over_not_sent_late(engine):
    first = _utc(2027, 3, 25, 8, 0)
    series_id, _ = await _seed(engine, first, times=4)
    sessions = db.session_factory(engine)
    async with sessions() as session:  # the first went out; then no process ran for a week
        post = await session.scalar(select(Post).where(Post.series_id == series_id))
        post.status = PostStatus.PUBLISHED
        await session.commit()
    made = await SeriesTopUp(sessions, clock=lambda: _utc(2027, 4, 2, 12, 0)).tick()
    async with sessions() as session:
        posts = list(await session.scalars(select(Post).where(Post.id.in_(made))))
    assert [(p.series_index, p.scheduled_at) for p in posts] == [(3, _utc(2027, 4, 5, 7, 0))]


def test_how_a_series_repeats_is_said_in_one_wording_naming_the_zone_only_for_readers_elsewhere():
    weekly = Rule("weekly", datetime(2000, 1, 1, 9, 0).time(), "Europe/Paris", weekdays=(3, 0), max_count=4)
    assert weekly.describe("Europe/Paris") == "Repeats every Monday and Thursday at 09:00, 4 times"
    assert weekly.describe("America/New_York") == \
        "Repeats every Monday and Thursday at 09:00 (Europe/Paris time), 4 times"
    assert weekly.describe() == "Repeats every Monday and Thursday at 09:00 (Europe/Paris time), 4 times"
    monthly = Rule("monthly", datetime(2000, 1, 1, 18, 30).time(), "UTC", day_of_month=31, ends_on=date(2027, 6, 30))
    assert monthly.describe("UTC") == \
        "Repeats every month on day 31 (or the month's last day) at 18:30, until 30 June 2027"
    once = Rule("daily", datetime(2000, 1, 1, 7, 5).time(), "UTC", max_count=1)
    assert once.describe("UTC") == "Repeats every day at 07:05, once"


def test_a_drafts_repeat_choices_read_back_as_they_were_kept_and_anything_malformed_is_left_out():
    kept = Repeat("weekly", (1, 4), date(2027, 5, 1), None)
    assert series.repeat_from_json(series.repeat_to_json(kept)) == kept
    assert series.repeat_to_json(None) is None and series.repeat_from_json(None) is None
    assert series.repeat_from_json({"frequency": "hourly"}) is None
    assert series.repeat_from_json({"frequency": "weekly", "weekdays": ["1", 9, 2], "ends_on": "soon",
                                    "times": True}) == Repeat("weekly", (2,), None, None)
    assert series.repeat_from_json({"frequency": "daily", "weekdays": [2], "times": 3}) == \
        Repeat("daily", (), None, 3)
    # A number the window refused (0, not a number) is kept as 0 by the window's reading: it opens empty.
    assert series.repeat_from_json(series.repeat_to_json(Repeat("daily", (), None, 0))) == Repeat("daily")
