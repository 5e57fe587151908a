"""GET /metrics through the real server: off unless PICMIM_METRICS=1, behind the bearer token when one is
set, and counting what a person did in Slack (a post published on X, one X refused, a Slack error) as
Prometheus reads it."""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests import journeys
from tests.conftest import SIGNING_SECRET, server_env
from tests.journeys import compose_state, poll_server, submit_compose, x_posts
from tests.server import ServerProcess
from tests.slack_requests import SlackSender

TOKEN = "scrape-me-7f3a"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
fake_x = journeys.fake_x


@pytest.fixture(scope="module")
def metrics_server(module_database, fake_slack, fake_x, tmp_path_factory):
    """The real server with metrics on behind a token, ticking every 0.5 s, and its connected X account."""
    server = journeys.start_x_server(module_database.url, fake_slack, fake_x, tmp_path_factory.mktemp("metrics"),
                                     PICMIM_TICK_SECONDS="0.5", PICMIM_METRICS="1", PICMIM_METRICS_TOKEN=TOKEN)
    redirect = f"{server.url}/oauth/x/callback"
    fake_x.redirect_uris = {redirect}
    account_id = asyncio.run(journeys._store_x_account(module_database.url, fake_x, redirect))
    yield server, account_id
    server.stop()


@pytest.fixture
def sender(metrics_server):
    s = SlackSender(metrics_server[0].url, SIGNING_SECRET)
    yield s
    s.close()


def scrape(server) -> dict[tuple[str, tuple], float]:
    """Every sample of /metrics, by name and labels, as Prometheus's own parser reads the text."""
    answer = httpx.get(f"{server.url}/metrics", headers=AUTH, timeout=10)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/plain; version=")
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(answer.text) for s in family.samples}


def value(samples, name: str, **labels) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def test_metrics_are_off_unless_asked_for(database, fake_slack, tmp_path):
    server = ServerProcess(server_env(database.url, fake_slack), cwd=tmp_path).start()
    try:
        answer = httpx.get(f"{server.url}/metrics", timeout=10)
        assert answer.status_code == 404
        assert "picmim_" not in answer.text
    finally:
        server.stop()


def test_the_token_is_required_when_set(metrics_server):
    server, _ = metrics_server
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": TOKEN}):
        answer = httpx.get(f"{server.url}/metrics", headers=headers, timeout=10)
        assert answer.status_code == 401, headers
        assert answer.headers["WWW-Authenticate"].startswith("Bearer")
        assert "picmim_" not in answer.text
    assert httpx.get(f"{server.url}/metrics", headers=AUTH, timeout=10).status_code == 200


def test_published_and_refused_posts_are_counted_by_platform(metrics_server, sender, slack, fake_x):
    server, account_id = metrics_server
    before = scrape(server)
    assert value(before, "picmim_posts_published_total", platform="x") == 0
    assert value(before, "picmim_targets_due") == 0 and value(before, "picmim_oldest_due_seconds") == 0

    text = f"Spring menu is here {time.time_ns()}"
    assert submit_compose(sender, compose_state([account_id], text)).status_code == 200
    poll_server("the post on X", lambda: x_posts(fake_x, text), server)
    samples = poll_server("the publish counted", lambda: (s := scrape(server)) and value(
        s, "picmim_posts_published_total", platform="x") == 1 and s, server)
    assert value(samples, "picmim_posts_failed_total", platform="x") == 0
    assert value(samples, "picmim_publish_call_seconds_count", platform="x") == 1
    assert value(samples, "picmim_publish_call_seconds_sum", platform="x") > 0
    assert value(samples, "picmim_job_tick_seconds_count", job="publish_due") >= 1

    # The same text again: X refuses duplicates, so this one fails, with the error's family counted.
    assert submit_compose(sender, compose_state([account_id], text)).status_code == 200
    samples = poll_server("the refusal counted", lambda: (s := scrape(server)) and value(
        s, "picmim_posts_failed_total", platform="x") == 1 and s, server)
    assert value(samples, "picmim_platform_errors_total", platform="x", family="rejected_content") == 1
    assert value(samples, "picmim_posts_published_total", platform="x") == 1, "counted once, never twice"
    assert value(samples, "picmim_publish_call_seconds_count", platform="x") == 2
    assert len(x_posts(fake_x, text)) == 1


def test_slack_api_errors_are_counted_by_error(metrics_server, sender, slack, fake_x):
    server, account_id = metrics_server
    before = value(scrape(server), "picmim_slack_api_errors_total", error="channel_not_found")
    slack.refuse_channel("C0404")
    text = f"Into a channel Picmim cannot post in {time.time_ns()}"
    response = submit_compose(sender, compose_state([account_id], text), metadata='{"channel_id": "C0404"}')
    assert response.status_code == 200
    poll_server("the Slack error counted", lambda: value(
        scrape(server), "picmim_slack_api_errors_total", error="channel_not_found") > before, server)


def test_outbox_depth_counts_the_messages_slack_has_not_taken_yet(metrics_server, sender, slack, fake_x):
    server, account_id = metrics_server
    assert value(scrape(server), "picmim_outbox_depth") == 0
    slack.html_error("chat.postMessage", 503, channel="C0503")
    text = f"While Slack is down {time.time_ns()}"
    response = submit_compose(sender, compose_state([account_id], text), metadata='{"channel_id": "C0503"}')
    assert response.status_code == 200
    poll_server("the status message owed", lambda: value(scrape(server), "picmim_outbox_depth") >= 1, server)
    slack.html_errors.clear()  # Slack is back: the outbox delivers and the depth falls to nothing
    poll_server("the outbox emptied", lambda: value(scrape(server), "picmim_outbox_depth") == 0, server)
    assert any(text in (m.get("text") or "") or text in str(m.get("blocks")) for m in slack.posted_in("C0503"))
