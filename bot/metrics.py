"""Operational metrics in Prometheus's text format (prometheus-client), served at `GET /metrics` when
PICMIM_METRICS=1.

One `Metrics` per process, each with its own CollectorRegistry (never the library's global one), so tests
and several app instances in one interpreter do not share counters. Counters and histograms count what
this process did; the gauges (targets due, oldest due age, outbox depth) are read from the database at
scrape time, so every process reports the same figures for them.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from datetime import datetime

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, disable_created_metrics
from prometheus_client.exposition import choose_encoder
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.async_handler import AsyncRetryHandler
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.platforms.base import (
    AccessRevoked,
    ContentRejected,
    OutcomeUnknown,
    PlatformError,
    RateLimited,
    TokenExpired,
    Transient,
)
from bot.storage.models import PostTarget, TargetStatus, utcnow

# Seconds: platform calls run from a tenth of a second (text) to minutes (video uploads and processing polls).
# No `<name>_created` series beside every counter and histogram: a restart already shows in the counters.
disable_created_metrics()

CALL_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 900)
TICK_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300)

# The adapters' error family (bot.platforms.base), most specific first.
_FAMILIES = ((TokenExpired, "token_expired"), (AccessRevoked, "access_revoked"), (RateLimited, "rate_limited"),
             (ContentRejected, "rejected_content"), (OutcomeUnknown, "outcome_unknown"), (Transient, "transient"))

OutboxDepth = Callable[[AsyncSession], Awaitable[int]]


def error_family(exc: PlatformError) -> str:
    for kind, name in _FAMILIES:
        if isinstance(exc, kind):
            return name
    return "other"


class Metrics:
    """What this process measures; `render()` gives the text a scrape receives."""

    def __init__(self) -> None:
        r = self.registry = CollectorRegistry()
        # Per platform, one per target (a post to three accounts counts three).
        self.published = Counter("picmim_posts_published", "Posts published, per platform account target.",
                                 ["platform"], registry=r)
        self.failed = Counter("picmim_posts_failed", "Posts that failed for good (a person is told why).",
                              ["platform"], registry=r)
        self.unconfirmed = Counter("picmim_posts_unconfirmed",
                                   "Posts whose outcome is unknown and shown to a person to confirm.",
                                   ["platform"], registry=r)
        self.call_seconds = Histogram("picmim_publish_call_seconds", "Duration of platform publish calls.",
                                      ["platform"], buckets=CALL_BUCKETS, registry=r)
        self.platform_errors = Counter("picmim_platform_errors", "Platform publish calls that raised an error, "
                                       "by the error's family.", ["platform", "family"], registry=r)
        self.slack_errors = Counter("picmim_slack_api_errors", "Slack Web API calls answered with an error "
                                    "(Slack's error code, http_<status>, or the connection error's name).",
                                    ["error"], registry=r)
        self.lease_takeovers = Counter("picmim_lease_takeovers", "Targets whose lease ran out and were taken "
                                       "over: due again (claimed, never called) or unconfirmed (called).",
                                       ["outcome"], registry=r)
        self.tick_seconds = Histogram("picmim_job_tick_seconds", "Duration of the periodic jobs' ticks.",
                                      ["job"], buckets=TICK_BUCKETS, registry=r)
        self.targets_due = Gauge("picmim_targets_due", "Targets due now and not yet claimed.", registry=r)
        self.oldest_due = Gauge("picmim_oldest_due_seconds", "How long the oldest due target has waited.",
                                registry=r)
        self._outbox_depth: OutboxDepth | None = None
        self._outbox_gauge: Gauge | None = None

    # ---- what the publisher and the jobs report -------------------------------------------------------

    def target_settled(self, platform: str, status: TargetStatus) -> None:
        counter = {TargetStatus.PUBLISHED: self.published, TargetStatus.FAILED: self.failed,
                   TargetStatus.UNCONFIRMED: self.unconfirmed}.get(status)
        if counter is not None:
            counter.labels(platform).inc()

    def platform_call(self, platform: str, seconds: float, error: PlatformError | None) -> None:
        self.call_seconds.labels(platform).observe(seconds)
        if error is not None:
            self.platform_errors.labels(platform, error_family(error)).inc()

    def timed(self, job: str, tick: Callable[[], Awaitable[object]]) -> Callable[[], Awaitable[object]]:
        """`tick`, its duration observed under `job` (a failed tick too)."""

        async def run() -> object:
            started = time.perf_counter()
            try:
                return await tick()
            finally:
                self.tick_seconds.labels(job).observe(time.perf_counter() - started)

        return run

    def register_outbox_depth(self, depth: OutboxDepth) -> None:
        """The outbox (Slack messages waiting to be sent) reports its depth here: `depth(session)` is
        awaited at each scrape and exported as picmim_outbox_depth."""
        self._outbox_depth = depth
        if self._outbox_gauge is None:
            self._outbox_gauge = Gauge("picmim_outbox_depth", "Slack messages waiting in the outbox.",
                                       registry=self.registry)

    # ---- a scrape --------------------------------------------------------------------------------------

    async def render(self, sessions: async_sessionmaker[AsyncSession], accept: str | None = None,
                     now: datetime | None = None) -> tuple[bytes, str]:
        """The scrape's body and content type (the text format, or OpenMetrics when `accept` asks for it)."""
        now = now or utcnow()
        async with sessions() as session:
            count, oldest = (await session.execute(
                select(func.count(), func.min(PostTarget.next_attempt_at))
                .where(PostTarget.status == TargetStatus.SCHEDULED, PostTarget.next_attempt_at <= now))).one()
            self.targets_due.set(count)
            if oldest is not None and oldest.tzinfo is None:  # SQLite hands aggregates back without a zone
                oldest = oldest.replace(tzinfo=now.tzinfo)
            self.oldest_due.set(max(0.0, (now - oldest).total_seconds()) if oldest is not None else 0)
            if self._outbox_depth is not None and self._outbox_gauge is not None:
                self._outbox_gauge.set(await self._outbox_depth(session))
        encoder, content_type = choose_encoder(accept)
        return encoder(self.registry), content_type

    def slack_error_counter(self) -> AsyncRetryHandler:
        return _SlackErrorCounter(self.slack_errors)


class _SlackErrorCounter(AsyncRetryHandler):
    """slack_sdk asks every retry handler about every response and connection error of every Web API call,
    which makes one the place to count Slack's errors for all clients (bolt's per-request clients copy the
    handlers). It never asks for a retry itself; it goes first so no other handler's retry hides an error."""

    def __init__(self, counter: Counter):
        super().__init__(max_retry_count=0)
        self.counter = counter

    async def can_retry_async(self, *, state, request, response=None, error=None) -> bool:
        if isinstance(error, SlackApiError):  # a body that is not JSON although it says so
            status = getattr(error.response, "status", None) or getattr(error.response, "status_code", None)
            self.counter.labels(f"http_{status}" if status else "unreadable").inc()
        elif error is not None:
            self.counter.labels(type(error).__name__).inc()
        elif response is not None:
            body = response.body if isinstance(response.body, dict) else None
            if body is not None and body.get("ok") is False:
                self.counter.labels(str(body.get("error") or "unknown")).inc()
            elif response.status_code >= 400:
                self.counter.labels(f"http_{response.status_code}").inc()
        return False
