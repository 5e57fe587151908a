"""The periodic ticks. Their state lives in our tables (leases, due times), so any number of
processes may run them: the database decides who does what, never the scheduler."""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import TYPE_CHECKING

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.media import renditions, retention, source
from bot.media.store import MediaStore
from bot.messages.alerts import SlackAlerts, send_alert
from bot.messages.approval_reminders import ApprovalReminders
from bot.messages.followups import FollowUps
from bot.messages.outbox import OutboxWorker, send_text
from bot.messages.post_status import send_status, update_post_message
from bot.messages.reports import DigestSender, send_digest
from bot.messages.review_card import post_changed, send_card
from bot.services import audit, outbox, submitting
from bot.services.api_versions import VersionWarnings
from bot.services.metric_sync import MetricSync
from bot.services.publishing import Publisher
from bot.services.series import SeriesTopUp
from bot.services.token_health import TokenHealth
from bot.storage.models import utcnow

if TYPE_CHECKING:
    from bot.runtime import Runtime

log = logging.getLogger(__name__)


def _owner() -> str:
    """Who holds a lease: this host and process."""
    return f"{socket.gethostname()}:{os.getpid()}"


def media_source(runtime: Runtime):
    """The publisher's media source (bot.media.source), on this process's media store."""
    return source.media_source(MediaStore.from_settings(runtime.settings), runtime.settings.media_retention_days)


def build_media_retention(runtime: Runtime) -> retention.MediaRetention:
    """Deletes stored attachments no post needs any more (PICMIM_MEDIA_RETENTION_DAYS), in every process."""
    return retention.MediaRetention(runtime.sessions, MediaStore.from_settings(runtime.settings),
                                    timedelta(days=runtime.settings.media_retention_days))


def build_rendition_worker(runtime: Runtime) -> renditions.RenditionWorker:
    """Makes the optimised copies of videos, a few at a time (PICMIM_VIDEO_JOBS), in every process."""
    return renditions.RenditionWorker(runtime.sessions, runtime.adapters, MediaStore.from_settings(runtime.settings),
                                      _owner(), concurrency=runtime.settings.video_jobs,
                                      on_change=partial(post_changed, runtime))


def build_publisher(runtime: Runtime) -> Publisher:
    return Publisher(runtime.sessions, runtime.adapters, media_source(runtime), _owner(),
                     on_change=partial(post_changed, runtime), metrics=runtime.metrics)


def build_token_health(runtime: Runtime) -> TokenHealth:
    return TokenHealth(runtime.sessions, runtime.adapters, SlackAlerts(runtime),
                       on_post_change=partial(post_changed, runtime))


def build_version_warnings(runtime: Runtime) -> VersionWarnings:
    return VersionWarnings(runtime.sessions, SlackAlerts(runtime), runtime.settings.meta_graph_version,
                           runtime.adapters)


def build_outbox_worker(runtime: Runtime) -> OutboxWorker:
    """Sends the Slack messages owed to people that Slack did not take at the first try."""
    return OutboxWorker(runtime, {outbox.STATUS: send_status, outbox.REVIEW_CARD: send_card, outbox.ALERT: send_alert,
                                  outbox.DIGEST: send_digest, outbox.NOTICE: send_text})


def build_audit_retention(runtime: Runtime) -> Callable[[], Awaitable[int]]:
    """Deletes the audit trail's entries older than PICMIM_AUDIT_RETENTION_DAYS."""

    async def tick() -> int:
        async with runtime.sessions() as session:
            deleted = await audit.purge(session, utcnow(), runtime.settings.audit_retention_days)
            await session.commit()
        if deleted:
            log.info("Deleted %d audit entries older than %d days", deleted, runtime.settings.audit_retention_days)
        return deleted

    return tick


def build_series_top_up(runtime: Runtime) -> SeriesTopUp:
    """Makes each recurring post's next occurrences, each with its status message before it can be published."""

    async def made(post_id: int) -> None:
        try:
            await update_post_message(runtime, post_id)
        finally:
            async with runtime.sessions() as session:
                await submitting.release(session, post_id)
                await session.commit()

    return SeriesTopUp(runtime.sessions, on_made=made)


def _every(scheduler: AsyncIOScheduler, seconds: float, name: str, tick: Callable[[], Awaitable[object]],
           what: str, first_in: float | None = None) -> None:
    """Run `tick` every `seconds`: one at a time, missed runs folded into one, and a failed tick logged and
    left behind (one bad tick must not stop the next)."""

    async def run() -> None:
        try:
            await tick()
        except Exception:
            log.exception("%s tick failed", what)

    first = {"next_run_time": datetime.now(UTC) + timedelta(seconds=first_in)} if first_in is not None else {}
    scheduler.add_job(run, "interval", seconds=seconds, id=name, max_instances=1, coalesce=True, **first)


def start(runtime: Runtime) -> AsyncIOScheduler:
    settings = runtime.settings
    sender = DigestSender(runtime)
    scheduler = AsyncIOScheduler(timezone=UTC)
    runtime.publisher = build_publisher(runtime)
    _every(scheduler, settings.tick_seconds, "publish_due", runtime.publisher.tick, "Publishing")
    _every(scheduler, settings.health_seconds, "token_health", build_token_health(runtime).tick, "Token health")
    # 60 days before a platform retires the API version Picmim speaks: one warning per workspace and version.
    _every(scheduler, settings.health_seconds, "api_versions", build_version_warnings(runtime).tick,
           "API version warnings")
    # Metric sync and digests: each its own job, so a slow sync never holds a digest back.
    _every(scheduler, settings.analytics_seconds, "sync_metrics", MetricSync(runtime.sessions, runtime.adapters).tick,
           "Metric sync")
    _every(scheduler, settings.analytics_seconds, "send_digests", sender.tick, "Digest")
    # A post's figures in its thread, 24 hours and 7 days after it goes live (the workspace's setting).
    _every(scheduler, settings.analytics_seconds, "post_followups", FollowUps(runtime).tick, "Follow-up")
    # Posts waiting for approval: reminders to the approvers, and expiry once their time is long past.
    _every(scheduler, settings.tick_seconds, "approval_reminders", ApprovalReminders(runtime).tick,
           "Approval reminders")
    # Messages Slack did not take at once (it was down, busy or slow): sent as soon as it takes them.
    _every(scheduler, settings.tick_seconds, "slack_outbox", build_outbox_worker(runtime).tick, "Slack outbox")
    # Starts the work and returns: long conversions never hold a tick.
    _every(scheduler, settings.tick_seconds, "optimise_videos", build_rendition_worker(runtime).tick,
           "Video optimisation")
    # Hourly, and a minute after start so a process restarted more often than that still sweeps.
    _every(scheduler, retention.SWEEP_SECONDS, "media_retention", build_media_retention(runtime).tick,
           "Media retention", first_in=60)
    _every(scheduler, settings.health_seconds, "audit_retention", build_audit_retention(runtime), "Audit retention")
    _every(scheduler, settings.tick_seconds, "series_top_up", build_series_top_up(runtime).tick, "Recurring posts")
    for job in scheduler.get_jobs():  # every tick's duration, under its job's id (picmim_job_tick_seconds)
        job.modify(func=runtime.metrics.timed(job.id, job.func))
    scheduler.start()
    return scheduler
