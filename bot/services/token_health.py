"""Token health: connections are looked after so that a team never learns from a failed post that one died.

Every server process runs `TokenHealth.tick()` (bot/jobs.py). For each connection it:

- renews the token before it runs out where the platform allows it, syncs profile data (names, pictures,
  follower counts) and sets the last sync; each platform is asked at most every SYNC_EVERY unless a
  renewal is due sooner;
- warns ahead of the end of a sign-in that only a reconnect can extend (the workspace's
  `expiry_warning_days`, default 7 and 1 days before): once per threshold;
- when the connection breaks (renewal refused, access revoked, the sign-in ran out) records why, holds the
  scheduled posts that depend on it, and alerts once per cause, with the fix and a Reconnect button;
- once it works again (reconnected, refreshed) resolves its alerts in place and releases the held posts.

A held post whose time comes while its connection is still broken fails with the cause and the fix.
Rate limits and passing outages are retried later and never reported as broken connections.

State lives in our tables, so any number of processes may tick: a lease on the connection
(`health_lease_until`; candidates locked with SKIP LOCKED on PostgreSQL, a conditional UPDATE on both)
means two processes never look after one connection at once; a renewal also takes `refresh_lease_until`,
which the publisher takes too (rotating refresh tokens break when used twice). An alert's row is written
before its message is sent, and an open alert holds its (connection, cause, occurrence) slot: no repeats.

Free of Slack and HTTP details: the caller hands in the adapters, an `AlertSender` and a clock.

Over 500 lines on purpose: renewals, expiry warnings and broken-connection alerts share one lease per
connection and one alert ledger; split, each part would re-read the other's state.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.platforms import registry
from bot.platforms.base import AccessRevoked, Adapter, PlatformError, RateLimited, TokenExpired, TokenSet, Transient
from bot.services import audit
from bot.services.connections import (
    EXPIRING_ALERT,
    OPEN_TARGET_STATES,
    apply_tokens,
    claim_refresh,
    guidance,
    hard_expiry,
    mended,
    open_alerts,
    renewable,
    resolve_alert,
    sync_accounts,
    token_set,
)
from bot.services.publishing import settle_post
from bot.storage.models import (
    Account,
    Alert,
    Connection,
    ConnectionStatus,
    Post,
    PostTarget,
    TargetStatus,
    Workspace,
    utcnow,
)

log = logging.getLogger(__name__)

SYNC_EVERY = timedelta(hours=6)  # profile data, and proof the grant still works, this often
# Renewing: a token is renewed in its last RENEW_AHEAD; a long-lived one (more than SHORT_LIVED left, e.g.
# Instagram's 60-day tokens) already in its last RENEW_WITHIN, leaving days to get past an outage.
RENEW_AHEAD = timedelta(minutes=30)
RENEW_WITHIN = timedelta(days=7)
SHORT_LIVED = timedelta(days=1)
MIN_GAP = timedelta(minutes=1)  # the soonest next check (and the wait while another process renews)
BACKOFF_FIRST, BACKOFF_MAX = timedelta(minutes=2), timedelta(hours=1)  # passing failures: growing waits
LEASE = timedelta(minutes=5)  # longer than one connection's care takes (a few calls, each with a timeout)
DEFAULT_WARNING_DAYS = (7, 1)
LISTED_POSTS = 10  # posts named in a broken-connection alert (the rest are counted)
BROKEN = (ConnectionStatus.EXPIRED, ConnectionStatus.REVOKED)
WORKING = (ConnectionStatus.ACTIVE, ConnectionStatus.EXPIRING)  # ERROR: unknown until a check succeeds


# ---- what goes to Slack ---------------------------------------------------------------------------


@dataclass(frozen=True)
class AlertNote:
    """An alert as its message shows it (bot/views/alerts.py renders it, bot/messages/alerts.py sends it)."""

    alert_id: int
    team_id: str
    enterprise_id: str | None
    channel_id: str | None  # where it is (or, before it is sent, the workspace's alerts channel)
    message_ts: str | None
    dm_user_id: str | None  # who gets it as a DM when there is no usable alerts channel
    connection_id: int | None
    cause: str  # "expiring" for a warning, else why the connection broke
    occurrence: str
    timezone: str  # the workspace's, for fallback times
    details: Mapping[str, Any]  # what it said when it was raised (platform, names, expiry, posts, fix)
    sent_at: datetime
    resolved_at: datetime | None = None
    resolved_by: str | None = None

    @property
    def expiring(self) -> bool:
        return self.cause == EXPIRING_ALERT


@dataclass(frozen=True)
class Delivered:
    """Where an alert's message went; both None when there was nowhere to send it (not retried)."""

    channel_id: str | None
    message_ts: str | None


class AlertSender(Protocol):
    async def send(self, note: AlertNote) -> Delivered | None:
        """Post a new alert; None when it could not be sent now (it is tried again on the next tick)."""

    async def update(self, note: AlertNote) -> bool:
        """Show a resolved alert in place; False to try again on the next tick."""


@dataclass
class Report:
    """What one tick did, by connection id (alerts by alert id, posts by post id)."""

    checked: list[int] = field(default_factory=list)
    renewed: list[int] = field(default_factory=list)
    broken: list[int] = field(default_factory=list)
    deferred: list[int] = field(default_factory=list)  # rate limited or unreachable: asked again later
    alerts_sent: list[int] = field(default_factory=list)
    alerts_resolved: list[int] = field(default_factory=list)
    held_posts: set[int] = field(default_factory=set)
    released_posts: set[int] = field(default_factory=set)
    failed_posts: set[int] = field(default_factory=set)


# ---- rules ------------------------------------------------------------------------------------------


def warning_days(configured: Any) -> list[int]:
    """The workspace's warning thresholds in days, largest first (default 7 and 1; an empty list: none)."""
    if configured is None:
        return list(DEFAULT_WARNING_DAYS)
    days = {int(d) for d in configured if isinstance(d, int | float) and 0 < d <= 365}
    return sorted(days, reverse=True)


def warning_due(ends: datetime | None, days: list[int], now: datetime) -> int | None:
    """The warning that applies now: the nearest threshold already reached before `ends`. Only that one is
    sent, so a sign-in found with 12 hours left gets the 1-day warning, not the 7-day one too."""
    if ends is None or ends <= now:
        return None
    reached = [d for d in days if ends - now <= timedelta(days=d)]
    return min(reached) if reached else None


def renewal_due(expires_at: datetime | None, now: datetime) -> bool:
    if expires_at is None:
        return False
    left = expires_at - now
    return left <= RENEW_AHEAD or SHORT_LIVED < left <= RENEW_WITHIN


def next_check(connection: Connection, can_renew: bool, now: datetime) -> datetime:
    """The next sync, brought forward to when a renewal falls due."""
    at = now + SYNC_EVERY
    expires = connection.token_expires_at
    if can_renew and expires is not None:
        at = min(at, expires - RENEW_AHEAD)
        if expires - RENEW_WITHIN > now:
            at = min(at, expires - RENEW_WITHIN)
    return max(at, now + MIN_GAP)


def backoff(failures: int) -> timedelta:
    return min(BACKOFF_FIRST * (2 ** max(0, failures - 1)), BACKOFF_MAX)


# ---- the job ----------------------------------------------------------------------------------------


@dataclass
class _Seen:
    """One connection as the tick's first look found it (no tokens read)."""

    id: int
    platform: str
    status: ConnectionStatus
    cause: str | None
    token_expires_at: datetime | None
    refresh_expires_at: datetime | None
    next_check_at: datetime | None
    has_refresh_token: bool
    days: list[int]


class TokenHealth:
    """Looks after every connection; `tick()` is what the scheduler calls."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], adapters: Mapping[str, Adapter],
                 sender: AlertSender, clock: Callable[[], datetime] = utcnow,
                 on_post_change: Callable[[int], Awaitable[None]] | None = None):
        self.sessions, self.adapters, self.sender = sessions, adapters, sender
        self.clock, self.on_post_change = clock, on_post_change

    async def tick(self) -> Report:
        now = self.clock()
        report = Report()
        for seen in await self._needing_care(now):
            if await self._claim(seen.id, self.clock()):
                try:
                    await self._look_after(seen.id, now, report)
                except Exception:  # one connection's trouble must not stop the others
                    log.exception("Looking after connection %s failed", seen.id)
                finally:
                    await self._release(seen.id)
        await self._fail_overdue(now, report)
        await self._show_resolved(report)
        if self.on_post_change is not None:
            for post_id in sorted(report.held_posts | report.released_posts | report.failed_posts):
                await self.on_post_change(post_id)
        return report

    # ---- which connections need something ------------------------------------------------------

    async def _needing_care(self, now: datetime) -> list[_Seen]:
        async with self.sessions() as session:
            rows = (await session.execute(
                select(Connection.id, Connection.platform, Connection.status, Connection.status_cause,
                       Connection.token_expires_at, Connection.refresh_expires_at, Connection.next_check_at,
                       Connection.refresh_token.is_not(None), Workspace.expiry_warning_days)
                .join(Workspace, Workspace.id == Connection.workspace_id)
                .where(Workspace.uninstalled_at.is_(None)).order_by(Connection.id))).all()
            alerts = (await session.execute(
                select(Alert.connection_id, Alert.cause, Alert.occurrence, Alert.shown)
                .where(Alert.resolved_at.is_(None), Alert.connection_id.is_not(None)))).all()
            # Held posts (to release once working), and posts still to hold (of broken connections).
            with_targets = (await session.execute(
                select(Account.connection_id, PostTarget.status).distinct()
                .join(Account, Account.id == PostTarget.account_id)
                .join(Connection, Connection.id == Account.connection_id)
                .where(or_(PostTarget.status == TargetStatus.HELD,
                           (PostTarget.status == TargetStatus.SCHEDULED) & (PostTarget.next_attempt_at > now)
                           & Connection.status.in_(BROKEN))))).all()
            await session.commit()
        open_by: dict[int, list] = {}
        for a in alerts:
            open_by.setdefault(a.connection_id, []).append(a)
        held = {c for c, status in with_targets if status is TargetStatus.HELD}
        scheduled = {c for c, status in with_targets if status is TargetStatus.SCHEDULED}
        needing = []
        for r in rows:
            adapter = self.adapters.get(r[1])
            if adapter is None:  # the platform is no longer set up here: nothing can be done for it
                continue
            seen = _Seen(*r[:8], days=warning_days(r[8]))
            if self._needs_care(seen, adapter, open_by.get(seen.id, []), seen.id in held, seen.id in scheduled,
                                now):
                needing.append(seen)
        return needing

    @staticmethod
    def _needs_care(seen: _Seen, adapter: Adapter, alerts: list, has_held: bool, has_scheduled: bool,
                    now: datetime) -> bool:
        if any(a.shown is None for a in alerts):
            return True  # an alert not delivered yet
        if seen.status in BROKEN:
            return has_scheduled or not any(a.cause == (seen.cause or "unknown") for a in alerts)
        if seen.status in WORKING and (has_held or any(a.cause != EXPIRING_ALERT for a in alerts)):
            return True  # works again: release and resolve
        if seen.next_check_at is None or seen.next_check_at <= now:
            return True
        can_renew = adapter.refreshable or seen.has_refresh_token
        ends = seen.refresh_expires_at if can_renew else seen.token_expires_at
        if ends is not None and ends <= now:
            return True
        due = warning_due(ends, seen.days, now)
        slots = {a.occurrence for a in alerts if a.cause == EXPIRING_ALERT}
        if due is not None:
            return f"{due}d" not in slots
        return bool(slots)  # renewed past every threshold: resolve the warnings

    # ---- the lease --------------------------------------------------------------------------------

    async def _claim(self, connection_id: int, now: datetime) -> bool:
        free = (Connection.id == connection_id,
                or_(Connection.health_lease_until.is_(None), Connection.health_lease_until < now))
        async with self.sessions() as session:
            if session.bind.dialect.name == "postgresql":
                # Another process holding the row's lock is busy with it: skip, do not queue behind it.
                locked = await session.scalar(select(Connection.id).where(*free).with_for_update(skip_locked=True))
                if locked is None:
                    await session.commit()
                    return False
            claimed = await session.execute(update(Connection).where(*free)
                                            .values(health_lease_until=now + LEASE)
                                            .execution_options(synchronize_session=False))
            await session.commit()
            return claimed.rowcount == 1

    async def _release(self, connection_id: int) -> None:
        async with self.sessions() as session:
            await session.execute(update(Connection).where(Connection.id == connection_id)
                                  .values(health_lease_until=None).execution_options(synchronize_session=False))
            await session.commit()

    # ---- one connection -----------------------------------------------------------------------------

    async def _look_after(self, connection_id: int, now: datetime, report: Report) -> None:
        async with self.sessions() as session:
            connection = await session.get(Connection, connection_id, populate_existing=True)
            if connection is None:
                return
            workspace = await session.get(Workspace, connection.workspace_id)
            adapter = self.adapters[connection.platform]
            can_renew = renewable(connection, adapter)
            before = connection.status
            if connection.status not in BROKEN:
                ends = hard_expiry(connection, can_renew)
                if ends is not None and ends <= now:
                    self._lapsed(connection, ends)
                    report.broken.append(connection.id)
                elif connection.next_check_at is None or connection.next_check_at <= now:
                    await self._check(session, connection, adapter, can_renew, now, report)
            if connection.status in BROKEN:
                report.held_posts |= await self._hold(session, connection, now)
                cause = connection.status_cause or "unknown"
                if not any(a.cause == cause for a in await open_alerts(session, connection.id)):
                    await self._raise(session, connection, workspace, cause, "",
                                      await self._broken_details(session, connection, now))
            else:
                await self._when_working(session, connection, workspace, can_renew, now, report)
            await self._audit(session, connection, before, connection.id in report.renewed)
            await session.commit()
            for alert in await open_alerts(session, connection.id):
                if alert.shown is None:
                    await self._deliver(session, alert, workspace, connection.connected_by, report)

    @staticmethod
    async def _audit(session: AsyncSession, connection: Connection, before: ConnectionStatus, renewed: bool) -> None:
        """What this look changed, in the audit trail: a renewed sign-in, a connection broken or working again."""
        words = audit.connection_words(connection.platform, connection.display_name)
        subject = audit.connection_subject(connection.id)
        if renewed:
            await audit.record(session, connection.workspace_id, audit.PICMIM, audit.JOB, subject, "refreshed",
                               {"account": words, "token expires (UTC)": str(connection.token_expires_at)[:16]},
                               connection_id=connection.id)
        if connection.status is not before:
            action = {ConnectionStatus.EXPIRED: "expired", ConnectionStatus.REVOKED: "broken",
                      ConnectionStatus.ERROR: "broken", ConnectionStatus.EXPIRING: "expiring"}.get(
                connection.status, "working again")
            await audit.record(session, connection.workspace_id, audit.PICMIM, audit.JOB, subject, action,
                               {"account": words, "status": [before.value, connection.status.value],
                                "cause": connection.status_cause}, connection_id=connection.id)

    async def _check(self, session: AsyncSession, connection: Connection, adapter: Adapter, can_renew: bool,
                     now: datetime, report: Report) -> None:
        """Renew the token when due and sync the accounts; a refusal breaks the connection, a passing
        failure only moves the next check."""
        report.checked.append(connection.id)
        tokens = token_set(connection)
        await session.commit()  # no transaction stays open while the platform answers
        renewed = False
        try:
            if can_renew and renewal_due(connection.token_expires_at, now):
                tokens = await self._renew(session, connection, adapter, now)
                renewed = True
            try:
                remote = await adapter.list_accounts(tokens)
            except TokenExpired:
                if not can_renew or renewed:
                    raise
                tokens = await self._renew(session, connection, adapter, now)  # ended early: try renewing once
                renewed = True
                remote = await adapter.list_accounts(tokens)
        except _Busy:
            connection.next_check_at = now + MIN_GAP  # another process is renewing it right now
        except (TokenExpired, AccessRevoked) as exc:
            if await self._signed_in_again(session, connection, tokens):
                return  # reconnected while the platform answered: the verdict was about the old sign-in
            if isinstance(exc, AccessRevoked):
                self._broke(connection, ConnectionStatus.REVOKED, exc.reason.value, exc, report)
            else:
                self._broke(connection, ConnectionStatus.EXPIRED, "token_expired", exc, report)
        except (RateLimited, Transient) as exc:
            self._later(connection, exc.message, now, report, getattr(exc, "retry_after", None))
        except PlatformError as exc:  # not a verdict on the grant (e.g. an odd answer): ask again later
            log.warning("Checking connection %s gave an unexpected answer: %s", connection.id, exc)
            self._later(connection, exc.message, now, report)
        except Exception:  # a bug must not make Picmim ask the platform on every tick
            log.exception("Checking connection %s failed", connection.id)
            self._later(connection, "unexpected failure", now, report)
        else:
            connection.status, connection.status_cause, connection.last_error = ConnectionStatus.ACTIVE, None, None
            connection.last_sync_at, connection.check_failures = now, 0
            connection.next_check_at = next_check(connection, can_renew, now)
            await sync_accounts(session, connection, remote)
            if renewed:
                report.renewed.append(connection.id)
        await session.commit()

    async def _renew(self, session: AsyncSession, connection: Connection, adapter: Adapter,
                     now: datetime) -> TokenSet:
        """Renew under the refresh lease (shared with the publisher); the new tokens are stored at once,
        since a rotated refresh token is the only one that works from now on."""
        if not await claim_refresh(session, connection.id, now):
            raise _Busy()
        try:
            await session.refresh(connection)  # the newest tokens, whoever renewed them last
            await session.commit()
            tokens = await adapter.refresh(token_set(connection))
            apply_tokens(connection, tokens)
            return tokens
        finally:
            connection.refresh_lease_until = None
            await session.commit()

    def _broke(self, connection: Connection, status: ConnectionStatus, cause: str, exc: PlatformError,
               report: Report) -> None:
        connection.status, connection.status_cause, connection.last_error = status, cause, str(exc)[:1000]
        connection.next_check_at, connection.check_failures = None, 0
        report.broken.append(connection.id)
        log.info("Connection %s is broken: %s", connection.id, cause)

    def _lapsed(self, connection: Connection, ends: datetime) -> None:
        info = registry.get(connection.platform)
        connection.status, connection.status_cause = ConnectionStatus.EXPIRED, "lapsed"
        connection.last_error = f"The {info.name if info else connection.platform} sign-in ran out at " \
                                f"{ends:%Y-%m-%d %H:%M} UTC."
        connection.next_check_at, connection.check_failures = None, 0

    def _later(self, connection: Connection, why: str, now: datetime, report: Report,
               retry_after: float | None = None) -> None:
        connection.check_failures = (connection.check_failures or 0) + 1
        wait = max(timedelta(seconds=retry_after), MIN_GAP) if retry_after else backoff(connection.check_failures)
        connection.next_check_at = now + wait
        report.deferred.append(connection.id)
        log.info("Connection %s could not be checked (%s); asking again in %s", connection.id, why, wait)

    async def _signed_in_again(self, session: AsyncSession, connection: Connection, used: TokenSet) -> bool:
        """Whether the stored token is no longer the one the platform just refused (a reconnect landed
        meanwhile); the connection is then reloaded and checked again on the next tick."""
        stored = await session.scalar(select(Connection.access_token).where(Connection.id == connection.id))
        if stored is None or stored.reveal() == used.access_token.reveal():
            return False
        await session.refresh(connection)
        connection.next_check_at = None
        await session.commit()
        return True

    async def _when_working(self, session: AsyncSession, connection: Connection, workspace: Workspace,
                            can_renew: bool, now: datetime, report: Report) -> None:
        alerts = await open_alerts(session, connection.id)
        if connection.status in WORKING:  # mended by a Refresh, or by the publisher renewing it
            broken_alerts = [a for a in alerts if a.cause != EXPIRING_ALERT]
            released = await mended(session, connection, None, "working", now, only_broken=True)
            report.released_posts |= set(released)
            report.alerts_resolved += [a.id for a in broken_alerts]
        ends = hard_expiry(connection, can_renew)
        days = warning_days(workspace.expiry_warning_days)
        due = warning_due(ends, days, now)
        warnings = [a for a in alerts if a.cause == EXPIRING_ALERT]
        if due is None and warnings and (ends is None or ends - now > timedelta(days=max(days, default=0))):
            for alert in warnings:  # renewed past every threshold (a refresh token renewed, say)
                resolve_alert(alert, "renewed", None, now)
                report.alerts_resolved.append(alert.id)
        elif due is not None and not any(a.occurrence == f"{due}d" for a in warnings):
            await self._raise(session, connection, workspace, EXPIRING_ALERT, f"{due}d",
                              await self._warning_details(session, connection, ends, due, can_renew))

    # ---- alerts ---------------------------------------------------------------------------------------

    async def _raise(self, session: AsyncSession, connection: Connection, workspace: Workspace, cause: str,
                     occurrence: str, details: dict) -> None:
        """Write the alert (its slot is unique: a second writer gets nothing); it is sent right after."""
        try:
            async with session.begin_nested():
                session.add(Alert(workspace_id=workspace.id, connection_id=connection.id, cause=cause,
                                  occurrence=occurrence, details=details, sent_at=self.clock()))
        except IntegrityError:
            log.info("Alert %s/%s of connection %s exists already", cause, occurrence, connection.id)

    async def _deliver(self, session: AsyncSession, alert: Alert, workspace: Workspace, connected_by: str | None,
                       report: Report) -> None:
        note = _note(alert, workspace, workspace.alerts_channel_id, connected_by)
        await session.commit()  # nothing stays locked while Slack answers
        delivered = await self.sender.send(note)
        if delivered is None:
            return
        alert.channel_id, alert.message_ts, alert.shown = delivered.channel_id, delivered.message_ts, "open"
        await session.commit()
        report.alerts_sent.append(alert.id)

    async def _show_resolved(self, report: Report) -> None:
        """Resolved alerts whose message still shows them open are updated in place (two processes doing
        it at once only write the same message twice)."""
        async with self.sessions() as session:
            rows = (await session.execute(
                select(Alert, Workspace).join(Workspace, Workspace.id == Alert.workspace_id)
                .where(Alert.resolved_at.is_not(None), or_(Alert.shown.is_(None), Alert.shown == "open"))
                .order_by(Alert.id))).all()
            await session.commit()
            for alert, workspace in rows:
                if alert.message_ts and not await self.sender.update(
                        _note(alert, workspace, alert.channel_id, None)):
                    continue
                report.released_posts |= set((alert.details or {}).get("posts_to_update") or [])
                alert.shown = "resolved"
                await session.commit()

    async def _warning_details(self, session: AsyncSession, connection: Connection, ends: datetime, days: int,
                               can_renew: bool) -> dict:
        accounts = await self._accounts(session, connection)
        affected = await session.scalar(
            select(func.count(func.distinct(PostTarget.post_id)))
            .join(Post, Post.id == PostTarget.post_id)
            .where(PostTarget.account_id.in_([a.id for a in accounts] or [-1]),
                   PostTarget.status.in_(OPEN_TARGET_STATES), Post.scheduled_at >= ends))
        return {**self._about(connection, accounts), "expires_at": ends.isoformat(), "days": days,
                "renewable": can_renew, "scheduled_posts": int(affected or 0)}

    async def _broken_details(self, session: AsyncSession, connection: Connection, now: datetime) -> dict:
        accounts = await self._accounts(session, connection)
        posts = (await session.execute(
            select(Post.id, Post.scheduled_at, Post.text).distinct()
            .join(PostTarget, PostTarget.post_id == Post.id)
            .where(PostTarget.account_id.in_([a.id for a in accounts] or [-1]),
                   PostTarget.status.in_([TargetStatus.HELD, TargetStatus.PENDING]))
            .order_by(Post.scheduled_at, Post.id))).all()
        listed = [{"id": p.id, "at": p.scheduled_at.isoformat() if p.scheduled_at else None,
                   "text": _preview(p.text)} for p in posts[:LISTED_POSTS]]
        return {**self._about(connection, accounts), "posts": listed, "more_posts": max(0, len(posts) - LISTED_POSTS),
                "fix": guidance(connection.status, connection.status_cause, connection.token_expires_at),
                "said": connection.last_error}

    @staticmethod
    async def _accounts(session: AsyncSession, connection: Connection) -> list[Account]:
        return list((await session.scalars(select(Account).where(
            Account.connection_id == connection.id, Account.active.is_(True)).order_by(Account.name))).all())

    @staticmethod
    def _about(connection: Connection, accounts: list[Account]) -> dict:
        info = registry.get(connection.platform)
        return {"platform": info.name if info else connection.platform,
                "display_name": connection.display_name or (info.name if info else connection.platform),
                "accounts": [a.name for a in accounts]}

    # ---- held posts --------------------------------------------------------------------------------

    async def _hold(self, session: AsyncSession, connection: Connection, now: datetime) -> set[int]:
        """Scheduled posts of a broken connection wait instead of failing at the platform; a post already
        due is left to the publisher (its time has come)."""
        info = registry.get(connection.platform)
        name = f"{connection.display_name} on {info.name if info else connection.platform}"
        held = await session.execute(
            update(PostTarget)
            .where(PostTarget.status == TargetStatus.SCHEDULED, PostTarget.next_attempt_at > now,
                   PostTarget.account_id.in_(select(Account.id).where(Account.connection_id == connection.id)))
            .values(status=TargetStatus.HELD, error_kind="held",
                    last_error=f"On hold until {name} is reconnected (press Reconnect in the alert or in "
                               "/picmim accounts). If its time comes first, it will not go out.")
            .returning(PostTarget.post_id)
            .execution_options(synchronize_session=False))
        return {row[0] for row in held}

    async def _fail_overdue(self, now: datetime, report: Report) -> None:
        """A held post whose time came while its connection is still broken fails, with the fix."""
        async with self.sessions() as session:
            rows = (await session.execute(
                select(PostTarget.id, PostTarget.post_id, Account.name, Connection)
                .join(Account, Account.id == PostTarget.account_id)
                .join(Connection, Connection.id == Account.connection_id)
                .where(PostTarget.status == TargetStatus.HELD, PostTarget.next_attempt_at <= now,
                       Connection.status.in_(BROKEN)))).all()
            for target_id, post_id, account_name, connection in rows:
                info = registry.get(connection.platform)
                fix = guidance(connection.status, connection.status_cause, connection.token_expires_at) or ""
                failed = await session.execute(
                    update(PostTarget).where(PostTarget.id == target_id, PostTarget.status == TargetStatus.HELD)
                    .values(status=TargetStatus.FAILED,
                            error_kind="expired" if connection.status is ConnectionStatus.EXPIRED else "revoked",
                            last_error=f"{account_name} on {info.name if info else connection.platform} was not "
                                       f"reconnected in time, so this did not go out. {fix} Then press Retry.")
                    .execution_options(synchronize_session=False))
                if failed.rowcount == 1:
                    await audit.record_posts(session, [post_id], audit.PICMIM, audit.JOB, "failed",
                                             f"{audit.connection_words(connection.platform, account_name)}: not "
                                             "reconnected in time")
                    await session.commit()  # the target's result first; then the post, under its row lock
                    await settle_post(session, post_id)
                    await session.commit()
                    report.failed_posts.add(post_id)
            await session.commit()


class _Busy(Exception):
    """Another process holds the refresh lease: it is renewing this connection right now."""


def _preview(text: str, limit: int = 80) -> str:
    flat = " ".join((text or "").split())
    return flat if len(flat) <= limit else flat[:limit - 1] + "…"


def _note(alert: Alert, workspace: Workspace, channel_id: str | None, dm_user_id: str | None) -> AlertNote:
    return AlertNote(alert_id=alert.id, team_id=workspace.team_id, enterprise_id=workspace.enterprise_id,
                     channel_id=channel_id, message_ts=alert.message_ts, dm_user_id=dm_user_id,
                     connection_id=alert.connection_id, cause=alert.cause, occurrence=alert.occurrence,
                     timezone=workspace.default_timezone or "UTC", details=dict(alert.details or {}),
                     sent_at=alert.sent_at, resolved_at=alert.resolved_at, resolved_by=alert.resolved_by)
