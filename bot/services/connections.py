"""Connections already made: status, tokens, refresh, alerts and held posts, disconnecting.

A connection that works again (refreshed, reconnected) resolves its open alerts and releases its held
posts. `connecting` (starting connections, the callback, the account choice) builds on this module.

Free of Slack and HTTP details. Every refusal is a `ConnectError` whose message a marketer can act on.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.platforms import registry
from bot.platforms.base import (
    AccessRevoked,
    Adapter,
    PlatformError,
    RateLimited,
    RemoteAccount,
    RevokeReason,
    TokenExpired,
    TokenSet,
    Transient,
)
from bot.secret import Secret
from bot.services import audit
from bot.storage.models import (
    Account,
    Alert,
    Connection,
    ConnectionStatus,
    Post,
    PostStatus,
    PostTarget,
    TargetStatus,
    Workspace,
    utcnow,
)

EXPIRY_WARNING = timedelta(days=7)  # a token that cannot renew itself shows as "expiring" this long before
OPEN_TARGET_STATES = (TargetStatus.PENDING, TargetStatus.SCHEDULED, TargetStatus.HELD)


class ConnectError(Exception):
    """A refusal with the way out, in plain words (shown in Slack and on the callback page)."""

    def __init__(self, message: str, title: str = "Picmim could not connect the account"):
        super().__init__(message)
        self.message = message
        self.title = title


def platform_for(key: str, adapters: Mapping[str, Adapter]) -> tuple[registry.PlatformInfo, Adapter]:
    key = key.strip().lower()
    if key in ("facebook-groups", "groups", "facebook-group"):
        raise ConnectError(registry.FACEBOOK_GROUPS.unavailable_reason, "Facebook Groups are unavailable")
    info = registry.get(key)
    if info is None:
        keys = ", ".join(p.key for p in registry.PLATFORMS)
        raise ConnectError(f"There is no platform called “{key}”. Choose one of: {keys}.", "Unknown platform")
    adapter = adapters.get(info.key)
    if adapter is None:
        raise ConnectError(
            f"{info.name} is not set up on this Picmim install yet. An admin of the app sets "
            f"{info.credential_prefix}_CLIENT_ID and {info.credential_prefix}_CLIENT_SECRET from the platform's "
            "developer app and restarts it; `python -m bot check` shows each step.",
            f"{info.name} is not set up yet")
    return info, adapter


# ---- tokens ------------------------------------------------------------------------------------------

REFRESH_LEASE = timedelta(minutes=2)  # one renewal call


async def claim_refresh(session: AsyncSession, connection_id: int, now: datetime) -> bool:
    """Take the connection's refresh lease, committed: one renewer at a time (the publisher, the token-health
    job, any process), since a rotated refresh token works only once. The renewer clears
    `refresh_lease_until` when done."""
    claimed = await session.execute(
        update(Connection)
        .where(Connection.id == connection_id,
               or_(Connection.refresh_lease_until.is_(None), Connection.refresh_lease_until < now))
        .values(refresh_lease_until=now + REFRESH_LEASE).execution_options(synchronize_session=False))
    await session.commit()
    return claimed.rowcount == 1


def apply_tokens(connection: Connection, tokens: TokenSet) -> None:
    connection.access_token = tokens.access_token
    if tokens.refresh_token is not None:  # platforms that rotate send a new one; others keep the old
        connection.refresh_token = tokens.refresh_token
    connection.token_expires_at = tokens.expires_at
    connection.refresh_expires_at = tokens.refresh_expires_at
    if tokens.scopes:
        connection.scopes = list(tokens.scopes)
    if tokens.extra:
        connection.secret_extra = Secret(json.dumps(dict(tokens.extra)))


def token_set(connection: Connection) -> TokenSet:
    extra = json.loads(connection.secret_extra.reveal()) if connection.secret_extra else {}
    return TokenSet(access_token=connection.access_token, external_user_id=connection.external_user_id,
                    display_name=connection.display_name, refresh_token=connection.refresh_token,
                    expires_at=connection.token_expires_at, refresh_expires_at=connection.refresh_expires_at,
                    scopes=tuple(connection.scopes or ()), extra=extra)


async def sync_accounts(session: AsyncSession, connection: Connection, remote: list[RemoteAccount]) -> None:
    """Names, handles, pictures, follower counts and account tokens of accounts already managed."""
    by_id = {r.external_id: r for r in remote}
    accounts = await session.scalars(select(Account).where(
        Account.workspace_id == connection.workspace_id, Account.platform == connection.platform,
        Account.external_id.in_(list(by_id))))
    for account in accounts:
        r = by_id[account.external_id]
        account.connection_id = connection.id
        account.name, account.handle, account.avatar_url = r.name, r.handle, r.avatar_url
        account.followers_count = r.followers_count
        if r.token is not None:
            account.access_token = r.token
        if r.settings:
            account.settings = {**dict(r.settings), **{k: v for k, v in (account.settings or {}).items()
                                                     if k == "default_board_id"}}


# ---- the accounts list -----------------------------------------------------------------------------


@dataclass(frozen=True)
class ConnectionSummary:
    id: int
    platform: registry.PlatformInfo
    display_name: str
    status: ConnectionStatus
    status_cause: str | None
    expires_at: datetime | None
    last_sync_at: datetime | None
    last_error: str | None
    scopes: tuple[str, ...]
    accounts: tuple[tuple[str, str], ...]  # (name, kind)
    scheduled_posts: int
    guidance: str | None


def renewable(connection: Connection, adapter: Adapter) -> bool:
    """Whether Picmim can renew this connection's token by itself: the platform renews tokens, or this
    grant came with a refresh token (LinkedIn gives those to approved partners only)."""
    return adapter.refreshable or connection.refresh_token is not None


def hard_expiry(connection: Connection, can_renew: bool) -> datetime | None:
    """When the connection stops working unless someone reconnects it: its token, when it cannot be
    renewed; its refresh token's own end, when it can (None: not known to end)."""
    return connection.refresh_expires_at if can_renew else connection.token_expires_at


def effective_status(connection: Connection, refreshable: bool, now: datetime | None = None) -> ConnectionStatus:
    """Stored status, with an active connection that only a reconnect can extend shown as expiring or
    expired by date (`refreshable`: see `renewable`)."""
    now = now or utcnow()
    ends = hard_expiry(connection, refreshable)
    if connection.status is ConnectionStatus.ACTIVE and ends:
        if ends <= now:
            return ConnectionStatus.EXPIRED
        if ends - now <= EXPIRY_WARNING:
            return ConnectionStatus.EXPIRING
    return connection.status


GUIDANCE = {
    "token_expired": "The sign-in expired. Press Refresh; if that does not help, press Reconnect.",
    # Set by token health when a sign-in that cannot be renewed reaches its end.
    "lapsed": "The sign-in ran out, and the platform does not let Picmim renew it. Press Reconnect and sign in "
              "again.",
    RevokeReason.PASSWORD_CHANGED: "The account's password was changed, which ends every app's access. "
                                   "Press Reconnect and sign in again.",
    RevokeReason.APP_REMOVED: "Picmim was removed from the account's connected apps. Press Reconnect to allow it "
                              "again.",
    RevokeReason.ADMIN_RIGHTS_LOST: "You no longer have admin rights on this page. Ask a page admin to give them "
                                    "back, then press Reconnect.",
    RevokeReason.PERMISSION_REMOVED: "A permission Picmim needs was turned off. Press Reconnect and keep every "
                                     "permission ticked.",
    RevokeReason.LOGGED_OUT: "The account was logged out of every app. Press Reconnect and sign in again.",
    RevokeReason.CHECKPOINT: "The platform wants you to log in on its site and confirm something. Do that, then "
                             "press Reconnect.",
    RevokeReason.UNKNOWN: "The platform no longer accepts Picmim's access. Press Reconnect and sign in again.",
}


def guidance(status: ConnectionStatus, cause: str | None, expires_at: datetime | None) -> str | None:
    if status is ConnectionStatus.EXPIRING:
        return "This platform does not renew the sign-in by itself: press Reconnect before it runs out."
    if status is ConnectionStatus.EXPIRED:
        return GUIDANCE["token_expired"] if cause in (None, "token_expired") else GUIDANCE.get(cause)
    if status is ConnectionStatus.REVOKED:
        return GUIDANCE.get(cause or "", GUIDANCE[RevokeReason.UNKNOWN])
    if status is ConnectionStatus.ERROR:
        return "Picmim could not check this connection. Press Refresh to try again."
    return None


async def summaries(session: AsyncSession, adapters: Mapping[str, Adapter],
                    workspace: Workspace) -> list[ConnectionSummary]:
    connections = (await session.scalars(select(Connection).where(Connection.workspace_id == workspace.id)
                                         .order_by(Connection.platform, Connection.id))).all()
    result = []
    for c in connections:
        accounts = (await session.scalars(select(Account).where(Account.connection_id == c.id,
                                                                Account.active.is_(True))
                                          .order_by(Account.name))).all()
        info = registry.get(c.platform)
        adapter = adapters.get(c.platform)
        status = effective_status(c, renewable(c, adapter) if adapter else True)
        result.append(ConnectionSummary(
            c.id, info, c.display_name or info.name, status, c.status_cause, c.token_expires_at,
            c.last_sync_at, c.last_error, tuple(c.scopes or ()), tuple((a.name, a.kind) for a in accounts),
            await scheduled_count(session, [a.id for a in accounts]), guidance(status, c.status_cause,
                                                                              c.token_expires_at)))
    return result


async def scheduled_count(session: AsyncSession, account_ids: list[int]) -> int:
    if not account_ids:
        return 0
    rows = await session.scalars(select(PostTarget.post_id).distinct().where(
        PostTarget.account_id.in_(account_ids), PostTarget.status.in_(OPEN_TARGET_STATES)))
    return len(rows.all())


# ---- refresh, reconnect, disconnect ------------------------------------------------------------------


async def owned_connection(session: AsyncSession, workspace: Workspace, connection_id: int) -> Connection:
    connection = await session.get(Connection, connection_id)
    if connection is None or connection.workspace_id != workspace.id:
        raise ConnectError("This connection no longer exists. See the current ones with `/picmim accounts`.")
    return connection


async def refresh(session: AsyncSession, adapters: Mapping[str, Adapter], workspace: Workspace,
                  connection_id: int, user_id: str | None = None) -> str:
    """Renew the token and sync profile data now. Returns what happened, in words. A broken connection
    that works again has its alerts resolved and its held posts scheduled again."""
    connection = await owned_connection(session, workspace, connection_id)
    info, adapter = platform_for(connection.platform, adapters)
    if connection.access_token is None:
        raise ConnectError(f"{info.name} has no sign-in stored: press Reconnect.")
    try:
        tokens = await adapter.refresh(token_set(connection)) if adapter.refreshable else token_set(connection)
        remote = await adapter.list_accounts(tokens)
    except (RateLimited, Transient) as exc:
        wait = f" in about {max(1, round(exc.retry_after / 60))} min" if getattr(exc, "retry_after", None) else ""
        return f"{info.name} is busy right now ({exc.message}). Nothing changed; try Refresh again{wait}."
    except TokenExpired as exc:
        await _broken_by(session, connection, user_id, ConnectionStatus.EXPIRED, "token_expired", exc)
        return f"{info.name}: {exc.message} {GUIDANCE['token_expired']}"
    except AccessRevoked as exc:
        await _broken_by(session, connection, user_id, ConnectionStatus.REVOKED, exc.reason.value, exc)
        return f"{info.name}: {exc.message} {GUIDANCE.get(exc.reason, GUIDANCE[RevokeReason.UNKNOWN])}"
    except PlatformError as exc:
        await _broken_by(session, connection, user_id, ConnectionStatus.ERROR, "error", exc)
        return f"{info.name} refused the refresh: {exc.message}"
    await audit_connection(session, connection, user_id, audit.BUTTON, "refreshed", ConnectionStatus.ACTIVE)
    apply_tokens(connection, tokens)
    connection.status, connection.status_cause, connection.last_error = ConnectionStatus.ACTIVE, None, None
    connection.last_sync_at = utcnow()
    await sync_accounts(session, connection, remote)
    released = await mended(session, connection, user_id, "refreshed", utcnow(), only_broken=True)
    held = ("" if not released else " The held post goes out at its time again." if len(released) == 1 else
            f" The {len(released)} held posts go out at their times again.")
    return f"{connection.display_name} on {info.name} is connected and up to date.{held}"


def _broken(connection: Connection, status: ConnectionStatus, cause: str, exc: PlatformError) -> None:
    connection.status, connection.status_cause, connection.last_error = status, cause, str(exc)[:1000]


async def _broken_by(session: AsyncSession, connection: Connection, user_id: str | None, status: ConnectionStatus,
                     cause: str, exc: PlatformError) -> None:
    await audit_connection(session, connection, user_id, audit.BUTTON, status.value, status, cause)
    _broken(connection, status, cause, exc)


async def audit_connection(session: AsyncSession, connection: Connection, actor: str | None, source: str,
                           action: str, status: ConnectionStatus | None = None, cause: str | None = None) -> None:
    """A connection's change in the audit trail (called before the change is applied: its status is the before)."""
    before = connection.status.value if connection.status is not None else None
    change: dict = {"account": audit.connection_words(connection.platform, connection.display_name)}
    if status is not None:
        change["status"] = [before, status.value]
    if cause:
        change["cause"] = cause
    await audit.record(session, connection.workspace_id, actor, source, audit.connection_subject(connection.id),
                       action, change, connection_id=connection.id)


# ---- alerts and held posts (token health sends the alerts; these close them) -----------------------

EXPIRING_ALERT = "expiring"  # the cause of an expiry warning; any other cause is a broken connection


async def open_alerts(session: AsyncSession, connection_id: int) -> list[Alert]:
    return list((await session.scalars(select(Alert).where(
        Alert.connection_id == connection_id, Alert.resolved_at.is_(None)).order_by(Alert.id))).all())


def resolve_alert(alert: Alert, how: str, user_id: str | None, now: datetime,
                  released_post_ids: list[int] = ()) -> None:
    """Close an alert; token health then updates its Slack message in place ("reconnected by @maria").
    Its (connection, cause, occurrence) slot is freed, so the same cause can be alerted again later."""
    alert.resolved_at, alert.resolved_by = now, user_id
    alert.details = {**(alert.details or {}), "resolution": how, "released": len(released_post_ids),
                     "posts_to_update": list(released_post_ids)}
    alert.occurrence = f"{alert.occurrence}|{alert.id}"[:64]


async def release_held(session: AsyncSession, connection_id: int) -> list[int]:
    """Held posts of this connection's accounts are scheduled again, each at its own time (one whose
    time has just passed goes out now). Returns the ids of the posts concerned."""
    released = await session.execute(
        update(PostTarget)
        .where(PostTarget.status == TargetStatus.HELD,
               PostTarget.account_id.in_(select(Account.id).where(Account.connection_id == connection_id)))
        .values(status=TargetStatus.SCHEDULED, error_kind=None, last_error=None)
        .returning(PostTarget.post_id)
        .execution_options(synchronize_session=False))
    return sorted({row[0] for row in released})


async def mended(session: AsyncSession, connection: Connection, user_id: str | None, how: str, now: datetime,
                 *, only_broken: bool = False) -> list[int]:
    """The connection works again (`how`: reconnected, refreshed, working): its held posts are released
    and its open alerts resolved — expiry warnings too, unless `only_broken` (a refresh does not move a
    sign-in's end). Returns the released posts' ids."""
    released = await release_held(session, connection.id)
    for alert in await open_alerts(session, connection.id):
        if only_broken and alert.cause == EXPIRING_ALERT:
            continue
        resolve_alert(alert, how, user_id, now, released if alert.cause != EXPIRING_ALERT else [])
    return released


@dataclass(frozen=True)
class Disconnected:
    platform: registry.PlatformInfo
    display_name: str
    revoked_at_platform: bool
    cancelled_posts: int


async def disconnect(session: AsyncSession, adapters: Mapping[str, Adapter], workspace: Workspace,
                     connection_id: int, user_id: str | None = None) -> Disconnected:
    """Revoke at the platform where it can, delete the tokens, stop managing the accounts (their posts
    and history stay), and cancel the scheduled posts that went only to them."""
    connection = await owned_connection(session, workspace, connection_id)
    info = registry.get(connection.platform)
    adapter = adapters.get(connection.platform)
    revoked = False
    if adapter is not None and connection.access_token is not None:
        try:
            revoked = await adapter.revoke(token_set(connection))
        except PlatformError:
            revoked = False  # the tokens are deleted here anyway
    accounts = (await session.scalars(select(Account).where(Account.connection_id == connection.id))).all()
    cancelled = await cancel_open_targets(session, [a.id for a in accounts], user_id)
    for alert in await open_alerts(session, connection.id):  # their messages say who disconnected it
        resolve_alert(alert, "disconnected", user_id, utcnow())
    for account in accounts:
        account.active, account.access_token, account.connection_id = False, None, None
    name = connection.display_name or info.name
    # One entry per account it reached: the account keeps its link to this connection's history in the trail.
    for account in accounts or [None]:
        await audit.record(session, connection.workspace_id, user_id, audit.BUTTON,
                           audit.connection_subject(connection.id), "disconnected",
                           {"account": audit.connection_words(connection.platform,
                                                              account.name if account else connection.display_name)},
                           connection_id=connection.id, account_id=account.id if account else None)
    await session.delete(connection)
    await session.flush()
    return Disconnected(info, name, revoked, cancelled)


async def cancel_open_targets(session: AsyncSession, account_ids: list[int], actor: str | None = None) -> int:
    """Cancel the not-yet-published targets of these accounts; a post left with no live target is
    cancelled too. Returns how many posts were affected."""
    if not account_ids:
        return 0
    post_ids = set((await session.scalars(select(PostTarget.post_id).where(
        PostTarget.account_id.in_(account_ids), PostTarget.status.in_(OPEN_TARGET_STATES)))).all())
    if not post_ids:
        return 0
    await session.execute(update(PostTarget).where(PostTarget.account_id.in_(account_ids),
                                                   PostTarget.status.in_(OPEN_TARGET_STATES))
                          .values(status=TargetStatus.CANCELLED, last_error="Its account was disconnected."))
    for post in (await session.scalars(select(Post).where(Post.id.in_(post_ids)))).all():
        live = await session.scalar(select(PostTarget.id).where(
            PostTarget.post_id == post.id, PostTarget.status != TargetStatus.CANCELLED).limit(1))
        if live is None and post.status not in (PostStatus.PUBLISHING, PostStatus.PUBLISHED):
            await audit.record_post(session, post, actor, audit.BUTTON, "cancelled",
                                    {"status": [post.status.value, "cancelled"], "why": "its account was disconnected"})
            post.status = PostStatus.CANCELLED
    return len(post_ids)


async def count_posts_to_cancel(session: AsyncSession, workspace: Workspace, connection_id: int) -> int:
    connection = await owned_connection(session, workspace, connection_id)
    ids = (await session.scalars(select(Account.id).where(Account.connection_id == connection.id))).all()
    return await scheduled_count(session, list(ids))
