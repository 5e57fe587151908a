"""The API version each adapter speaks, until when its platform serves it, `check` saying so, and the one warning
per workspace and version sent to the alerts channel 60 days before the end (against the fake Slack)."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select

from bot.__main__ import print_api_versions
from bot.messages.alerts import SlackAlerts
from bot.platforms import registry
from bot.services.api_versions import API_VERSION_ALERT, VersionWarnings
from bot.services.workspaces import ensure_workspace
from bot.storage.models import Alert, Connection
from tests.conftest import SECRET_KEY
from tests.journeys import ALERTS, World, alerts_posted, blocks_text
from tests.server import base_env, run_cli


def test_every_ready_platform_names_its_api_version():
    versions = {info.key: registry.api_version(info, "v26.0") for info in registry.PLATFORMS}
    assert {k: v.version for k, v in versions.items()} == {
        "instagram": "v26.0", "instagram-login": "v26.0", "facebook": "v26.0", "linkedin": "202601",
        "x": "v2", "tiktok": "v2", "pinterest": "v5", "youtube": "v3", "bluesky": "lexicons as of 2026-08-20"}
    assert registry.api_version(registry.FACEBOOK_GROUPS, "v26.0") is None


def test_end_dates_follow_each_platforms_published_policy():
    linkedin = registry.api_version(registry.get("linkedin"), "v26.0")
    assert linkedin.ends == date(2027, 1, 1) and not linkedin.exact  # a year after release, Microsoft Learn
    assert linkedin.describe() == "LinkedIn API 202601, supported until about January 2027"
    assert registry.linkedin_version_ends("202611") == date(2027, 11, 1)
    # Meta's table where it dated the version, else two years after release.
    assert registry.graph_version_ends("v25.0") == (date(2028, 7, 29), True)
    assert registry.graph_version_ends("v26.0") == (date(2028, 7, 29), False)
    assert registry.graph_version_ends("v99.0") == (None, False)
    meta = registry.api_version(registry.get("facebook"), "v25.0")
    assert meta.describe() == "Meta Graph API v25.0, supported until 29 July 2028"
    x = registry.api_version(registry.get("x"), "v26.0")
    assert x.ends is None and x.describe() == "X API v2, no end date published"
    by_version = registry.api_versions("v26.0")
    meta_platforms = next(ps for v, ps in by_version.items() if v.api == registry.META_API)
    assert [p.key for p in meta_platforms] == ["instagram", "instagram-login", "facebook"], "one Graph version"


def test_check_lists_versions_and_warns_60_days_ahead(capsys):
    print_api_versions("v20.0", date(2026, 11, 2))
    out = capsys.readouterr().out
    assert "LinkedIn API 202601, supported until about January 2027" in out
    assert "! ends in 60 days: update Picmim" in out
    assert "Meta Graph API v20.0, supported until 24 September 2026" in out
    assert "! ended: set META_GRAPH_VERSION to a newer version" in out
    assert "Bluesky (atproto): lexicons as of 2026-08-20, no end date published" in out
    print_api_versions("v26.0", date(2026, 11, 1))
    out = capsys.readouterr().out
    assert "!" not in out, "61 days ahead: no warning yet"
    assert "Meta Graph API v26.0, supported until about July 2028 — Instagram (through Meta)" in out


def test_python_m_bot_check_prints_the_versions(tmp_path):
    result = run_cli("check", env=base_env(PICMIM_SECRET_KEY=SECRET_KEY, META_GRAPH_VERSION="v25.0"), cwd=tmp_path)
    assert "API versions" in result.stdout
    assert "LinkedIn API 202601, supported until about January 2027" in result.stdout
    assert "Meta Graph API v25.0, supported until 29 July 2028" in result.stdout
    assert "YouTube Data API v3, no end date published" in result.stdout


# ---- the warning in Slack ------------------------------------------------------------------------------


@pytest.fixture
async def world(engine, slack):
    return await World.open(engine, slack, {}, None)


async def add_connection(world: World, team: str, platform: str, user: str = "U0001") -> int:
    async with world.sessions() as session:
        workspace = await ensure_workspace(session, team)
        connection = Connection(workspace_id=workspace.id, platform=platform, external_user_id=f"{platform}-{team}",
                                display_name="Acme", connected_by=user)
        session.add(connection)
        await session.commit()
        return connection.id


def warnings(world: World, graph_version: str = "v26.0") -> VersionWarnings:
    return VersionWarnings(world.sessions, SlackAlerts(world), graph_version,
                           [p.key for p in registry.PLATFORMS], clock=world.clock)


async def test_a_warning_60_days_before_a_version_ends_goes_out_once(world, slack):
    await add_connection(world, "T0001", "linkedin")
    await add_connection(world, "T0001", "x")
    await add_connection(world, "T0002", "x")  # no LinkedIn there: nothing to warn about
    job = warnings(world)

    world.clock.now = datetime(2026, 11, 1, 12, tzinfo=UTC)  # 61 days before 1 January 2027
    assert await job.tick() == []
    assert alerts_posted(slack) == []

    world.clock.now = datetime(2026, 11, 2, 12, tzinfo=UTC)
    sent = await job.tick()
    assert len(sent) == 1
    [message] = alerts_posted(slack)
    text = blocks_text(message)
    assert "LinkedIn API 202601* ends in 60 days (supported until about January 2027)" in text
    assert "update Picmim" in text and "cannot publish to LinkedIn" in text
    assert "Reconnect" not in text, "nothing to reconnect: the version, not the sign-in, ends"

    world.clock.now = datetime(2026, 12, 20, tzinfo=UTC)
    assert await job.tick() == [] and await warnings(world).tick() == []
    assert len(alerts_posted(slack)) == 1, "once per workspace and version"
    async with world.sessions() as session:
        [alert] = (await session.scalars(select(Alert))).all()
    assert (alert.cause, alert.occurrence, alert.connection_id, alert.shown) == (
        API_VERSION_ALERT, "LinkedIn API:202601", None, "open")


async def test_meta_graph_version_warns_once_for_its_three_platforms_and_names_the_setting(world, slack):
    await add_connection(world, "T0001", "instagram")
    await add_connection(world, "T0001", "facebook")
    world.clock.now = datetime(2026, 8, 1, tzinfo=UTC)  # v20.0 ends 24 September 2026
    assert len(await warnings(world, "v20.0").tick()) == 1
    [message] = alerts_posted(slack)
    text = blocks_text(message)
    assert "Meta Graph API v20.0* ends in 54 days (supported until 24 September 2026)" in text
    assert "*META_GRAPH_VERSION* to a newer version" in text


async def test_without_an_alerts_channel_the_warning_goes_to_who_connected(world, slack):
    await add_connection(world, "T0001", "linkedin", user="U0001")
    async with world.sessions() as session:
        (await ensure_workspace(session, "T0001")).alerts_channel_id = None
        await session.commit()
    world.clock.now = datetime(2026, 12, 6, tzinfo=UTC)
    assert len(await warnings(world).tick()) == 1
    assert [c.params.get("users") for c in slack.calls_to("conversations.open")] == ["U0001"]
    assert alerts_posted(slack, ALERTS) == []


async def test_two_processes_at_once_send_one_warning(world, slack):
    await add_connection(world, "T0001", "linkedin")
    world.clock.now = datetime(2026, 12, 6, tzinfo=UTC)
    results = await asyncio.gather(warnings(world).tick(), warnings(world).tick())
    assert sorted(len(r) for r in results) == [0, 1]
    assert len(alerts_posted(slack)) == 1
