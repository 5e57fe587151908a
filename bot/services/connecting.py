"""Connecting social accounts: private OAuth links, the platform callback, choosing which accounts
Picmim may manage, and refreshing, reconnecting and disconnecting a connection.

Free of Slack and HTTP details: handlers and the web route call these with plain values and show
what comes back. Every refusal is a `ConnectError` whose message a marketer can act on.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.platforms import registry
from bot.platforms.base import (
    PKCE,
    AccessRevoked,
    Adapter,
    PlatformError,
    RateLimited,
    RemoteAccount,
    RevokeReason,
    Scope,
    TokenExpired,
    TokenSet,
    Transient,
)
from bot.platforms.oauth import new_pkce, new_state
from bot.storage.crypto import Secret
from bot.storage.models import (
    Account,
    Alert,
    Connection,
    ConnectionStatus,
    OAuthState,
    Post,
    PostStatus,
    PostTarget,
    TargetStatus,
    Workspace,
    utcnow,
)

LINK_LIFETIME = timedelta(minutes=10)
EXPIRY_WARNING = timedelta(days=7)  # a token that cannot renew itself shows as "expiring" this long before
OPEN_TARGET_STATES = (TargetStatus.PENDING, TargetStatus.SCHEDULED, TargetStatus.HELD)


class ConnectError(Exception):
    """A refusal with the way out, in plain words (shown in Slack and on the callback page)."""

    def __init__(self, message: str, title: str = "Picmim could not connect the account"):
        super().__init__(message)
        self.message = message
        self.title = title


def state_hash(state: str) -> str:
    return hashlib.sha256(state.encode()).hexdigest()


# ---- who may manage -------------------------------------------------------------------------------


def may_manage(workspace: Workspace, user_id: str, is_admin: bool) -> bool:
    """Connecting, reconnecting and disconnecting: members by default; admins or a list when set."""
    if workspace.managers_policy == "admins":
        return is_admin
    if workspace.managers_policy == "list":
        return is_admin or user_id in (workspace.manager_user_ids or [])
    return True


def who_may_manage(workspace: Workspace) -> str:
    if workspace.managers_policy == "admins":
        return "Only workspace admins may connect or disconnect accounts here."
    if workspace.managers_policy == "list":
        names = ", ".join(f"<@{u}>" for u in workspace.manager_user_ids or []) or "nobody yet"
        return f"Only workspace admins and {names} may connect or disconnect accounts here."
    return ""


# ---- the link ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ConnectLink:
    url: str
    platform: registry.PlatformInfo
    expires_at: datetime


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


async def start(session: AsyncSession, adapters: Mapping[str, Adapter], workspace: Workspace, user_id: str,
                platform_key: str, *, channel_id: str | None = None, reconnect: Connection | None = None,
                handle: str | None = None) -> ConnectLink:
    """A private, single-use link to the platform's consent page, valid for 10 minutes."""
    info, adapter = platform_for(platform_key, adapters)
    state, pkce = new_state(), new_pkce()
    started: dict[str, Any] | None = None
    if hasattr(adapter, "begin_authorization"):  # Bluesky starts from the user's handle
        if not handle:
            raise ConnectError("Bluesky needs your handle (for example maria.bsky.social) to find your server.",
                               "Bluesky needs your handle")
        try:
            url, started = await adapter.begin_authorization(handle.strip().lstrip("@"), state, pkce)
        except PlatformError as exc:
            raise ConnectError(f"Bluesky could not start the sign-in for {handle}: {exc.message}") from None
    else:
        url = adapter.authorize_url(state, pkce if adapter.uses_pkce else None)
    expires_at = utcnow() + LINK_LIFETIME
    session.add(OAuthState(
        state_hash=state_hash(state), workspace_id=workspace.id, slack_user_id=user_id, platform=info.key,
        code_verifier=Secret(pkce.verifier),
        secret_extra=Secret(json.dumps({"started": started})) if started else None,
        reconnect_connection_id=reconnect.id if reconnect else None, channel_id=channel_id, expires_at=expires_at,
    ))
    await session.flush()
    return ConnectLink(url, info, expires_at)


# ---- the callback --------------------------------------------------------------------------------


@dataclass
class Candidate:
    """An account the grant reaches, waiting for the user to choose it."""

    external_id: str
    kind: str
    name: str
    handle: str | None = None
    avatar_url: str | None = None
    followers_count: int | None = None
    token: str | None = None
    settings: dict[str, Any] = field(default_factory=dict)
    refusal: str | None = None

    @classmethod
    def of(cls, remote: RemoteAccount) -> Candidate:
        return cls(remote.external_id, remote.kind, remote.name, remote.handle, remote.avatar_url,
                   remote.followers_count, remote.token.reveal() if remote.token else None,
                   dict(remote.settings), remote.refusal)


@dataclass
class Connected:
    """A successful callback: the connection is stored; the user now chooses among `candidates`."""

    platform: registry.PlatformInfo
    team_id: str
    user_id: str
    channel_id: str | None
    state_id: int
    connection_id: int
    display_name: str
    candidates: list[Candidate]
    reconnected: bool
    declined: list[Scope] = field(default_factory=list)  # permissions asked for but not granted

    def declined_sentence(self) -> str | None:
        if not self.declined:
            return None
        what = "; ".join(f"{short_scope(s.name)} ({s.why.rstrip('.')})" for s in self.declined)
        return (f"You did not allow: {what}. Picmim cannot do that for these accounts until you press "
                "Reconnect and allow it.")


def short_scope(name: str) -> str:
    """Google's scopes are URLs; people know them by their last part."""
    return name.rstrip("/").rsplit("/", 1)[-1]


@dataclass
class CallbackRefused(Exception):
    """A callback that connected nothing, with whom to tell in Slack (when the state was genuine)."""

    error: ConnectError
    team_id: str | None = None
    user_id: str | None = None
    platform: registry.PlatformInfo | None = None


DENIED_WORDS = {
    "access_denied": "You chose not to allow Picmim access, so nothing was connected.",
    "user_denied": "You chose not to allow Picmim access, so nothing was connected.",
    "user_cancelled_login": "The sign-in was cancelled, so nothing was connected.",
    "user_cancelled_authorize": "The sign-in was cancelled, so nothing was connected.",
}


async def finish(session: AsyncSession, adapters: Mapping[str, Adapter], platform_key: str,
                 params: Mapping[str, str]) -> Connected:
    """Check the state, exchange the code, list the accounts and store the connection. Raises
    CallbackRefused; nothing is stored half-way (the caller commits only on success, apart from
    marking the state used)."""
    state = params.get("state") or ""
    row = await session.scalar(select(OAuthState).where(OAuthState.state_hash == state_hash(state))) if state else None
    again = "Start again from Slack with `/picmim connect`."
    if row is None or row.platform != platform_key:
        raise CallbackRefused(ConnectError(f"This sign-in link is not one Picmim made, or it was changed. {again}",
                                           "This link is not valid"))
    workspace = await session.get(Workspace, row.workspace_id)
    info = registry.get(row.platform)
    refused = _refuser(workspace.team_id, row.slack_user_id, info)
    claimed = await session.execute(update(OAuthState).where(OAuthState.id == row.id, OAuthState.used_at.is_(None))
                                    .values(used_at=utcnow()))
    if claimed.rowcount != 1:
        raise refused(f"This sign-in link was already used. {again}", "This link was already used")
    await session.commit()  # single use, whatever happens next
    if row.expires_at < utcnow():
        raise refused(f"This sign-in link expired: links last {int(LINK_LIFETIME.total_seconds() // 60)} minutes. "
                      f"{again}", "This link expired")
    if params.get("error") or params.get("error_code"):
        code = params.get("error") or params.get("error_code") or ""
        described = params.get("error_description") or params.get("error_reason") or code
        raise refused(DENIED_WORDS.get(code, f"{info.name} did not complete the sign-in ({described}). {again}"),
                      f"{info.name} was not connected")
    code = params.get("code")
    if not code:
        raise refused(f"{info.name} sent the browser back without a sign-in code. {again}",
                      f"{info.name} was not connected")
    adapter = adapters.get(info.key)
    if adapter is None:
        raise refused(f"{info.name} is no longer set up on this install. Ask the app's admin.", "Not set up")
    verifier = row.code_verifier.reveal() if row.code_verifier else None
    pkce = PKCE(verifier=verifier, challenge="") if verifier else None
    extra = json.loads(row.secret_extra.reveal()) if row.secret_extra else {}
    try:
        if extra.get("started"):
            tokens = await adapter.exchange_code(code, pkce, extra["started"], iss=params.get("iss"))
        else:
            tokens = await adapter.exchange_code(code, pkce if adapter.uses_pkce else None)
        remote = await adapter.list_accounts(tokens)
    except PlatformError as exc:
        raise refused(f"{info.name} did not accept the sign-in: {exc.message} {again}",
                      f"{info.name} was not connected") from None
    if not remote:
        raise refused(f"This {info.name} sign-in reaches no account Picmim can publish to. {again}",
                      f"No {info.name} account found")

    taken = await _connected_elsewhere(session, workspace.id, info.key, [r.external_id for r in remote])
    candidates = [_taken(Candidate.of(r)) if r.external_id in taken and not r.refusal else Candidate.of(r)
                  for r in remote]
    if not any(c.refusal is None for c in candidates):
        # Nothing can be managed: store nothing, and say why for each account.
        if taken and len(taken) == len(remote):
            raise refused(f"This {info.name} account is already connected to another Slack workspace. Disconnect "
                          "it there first, then connect it here.", "Connected in another workspace")
        reasons = " ".join(dict.fromkeys(c.refusal for c in candidates))
        raise refused(reasons, f"No {info.name} account Picmim can manage")

    reconnect = await session.get(Connection, row.reconnect_connection_id) if row.reconnect_connection_id else None
    if reconnect is not None and reconnect.external_user_id != tokens.external_user_id:
        raise refused(f"You signed in to a different {info.name} account than the one being reconnected "
                      f"({reconnect.display_name}). Sign in as that account, or connect the new one separately.",
                      "A different account")
    connection = reconnect or await session.scalar(select(Connection).where(
        Connection.workspace_id == workspace.id, Connection.platform == info.key,
        Connection.external_user_id == tokens.external_user_id))
    reconnected = connection is not None
    if connection is None:
        connection = Connection(workspace_id=workspace.id, platform=info.key,
                                external_user_id=tokens.external_user_id, connected_by=row.slack_user_id)
        session.add(connection)
    apply_tokens(connection, tokens)
    connection.display_name = tokens.display_name or (remote[0].name if len(remote) == 1 else info.name)
    connection.status, connection.status_cause, connection.last_error = ConnectionStatus.ACTIVE, None, None
    connection.last_sync_at = utcnow()
    await session.flush()
    if reconnected:
        await sync_accounts(session, connection, remote)
        # Reconnected: open alerts are resolved ("reconnected by …") and held posts scheduled again.
        await mended(session, connection, row.slack_user_id, "reconnected", utcnow())
    connection.next_check_at, connection.check_failures = None, 0
    row.secret_extra = Secret(json.dumps({"candidates": [asdict(c) for c in candidates],
                                          "connection_id": connection.id}))
    granted = set(tokens.scopes)
    declined = [scope for scope in adapter.scopes if granted and scope.name not in granted]
    return Connected(info, workspace.team_id, row.slack_user_id, row.channel_id, row.id, connection.id,
                     connection.display_name, candidates, reconnected, declined)


def _taken(candidate: Candidate) -> Candidate:
    candidate.refusal = "Already connected to another Slack workspace: disconnect it there first."
    candidate.token = None
    return candidate


def _refuser(team_id: str, user_id: str, info: registry.PlatformInfo | None):
    def refused(message: str, title: str) -> CallbackRefused:
        return CallbackRefused(ConnectError(message, title), team_id, user_id, info)

    return refused


async def _connected_elsewhere(session: AsyncSession, workspace_id: int, platform: str,
                               external_ids: list[str]) -> set[str]:
    rows = await session.scalars(select(Account.external_id).where(
        Account.platform == platform, Account.external_id.in_(external_ids), Account.active.is_(True),
        Account.workspace_id != workspace_id))
    return set(rows)


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


# ---- choosing accounts ---------------------------------------------------------------------------


async def pending_choice(session: AsyncSession, state_id: int, workspace: Workspace,
                         user_id: str) -> tuple[OAuthState, list[Candidate], int]:
    row = await session.get(OAuthState, state_id)
    if row is None or row.workspace_id != workspace.id or row.used_at is None:
        raise ConnectError("This choice is no longer open. Connect the account again with `/picmim connect`.")
    if row.slack_user_id != user_id:
        raise ConnectError(f"Only <@{row.slack_user_id}>, who connected it, can choose its accounts.")
    data = json.loads(row.secret_extra.reveal()) if row.secret_extra else {}
    if "candidates" not in data:
        raise ConnectError("These accounts were already chosen. See them with `/picmim accounts`.")
    return row, [Candidate(**c) for c in data["candidates"]], int(data["connection_id"])


async def choose_accounts(session: AsyncSession, workspace: Workspace, user_id: str, state_id: int,
                          chosen_ids: list[str]) -> list[Account]:
    """Store the chosen accounts (only those); an account no longer chosen stops being managed."""
    row, candidates, connection_id = await pending_choice(session, state_id, workspace, user_id)
    connection = await session.get(Connection, connection_id)
    if connection is None:
        raise ConnectError("This connection was removed meanwhile. Connect the account again.")
    selectable = {c.external_id: c for c in candidates if not c.refusal}
    chosen = [selectable[i] for i in chosen_ids if i in selectable]
    if not chosen:
        raise ConnectError("Choose at least one account for Picmim to manage.", "Nothing chosen")
    stored = []
    for c in chosen:
        account = await session.scalar(select(Account).where(
            Account.workspace_id == workspace.id, Account.platform == connection.platform,
            Account.external_id == c.external_id))
        if account is None:
            account = Account(workspace_id=workspace.id, platform=connection.platform, external_id=c.external_id)
            session.add(account)
        account.connection_id, account.kind, account.name = connection.id, c.kind, c.name
        account.handle, account.avatar_url, account.followers_count = c.handle, c.avatar_url, c.followers_count
        account.access_token = Secret(c.token) if c.token else None
        account.settings, account.active = dict(c.settings), True
        stored.append(account)
    others = await session.scalars(select(Account).where(
        Account.connection_id == connection.id, Account.external_id.not_in([c.external_id for c in chosen])))
    for account in others:
        account.active = False
    row.secret_extra = None  # the choice is single use; the pending tokens are gone
    await session.flush()
    return stored


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
        _broken(connection, ConnectionStatus.EXPIRED, "token_expired", exc)
        return f"{info.name}: {exc.message} {GUIDANCE['token_expired']}"
    except AccessRevoked as exc:
        _broken(connection, ConnectionStatus.REVOKED, exc.reason.value, exc)
        return f"{info.name}: {exc.message} {GUIDANCE.get(exc.reason, GUIDANCE[RevokeReason.UNKNOWN])}"
    except PlatformError as exc:
        _broken(connection, ConnectionStatus.ERROR, "error", exc)
        return f"{info.name} refused the refresh: {exc.message}"
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
    cancelled = await cancel_open_targets(session, [a.id for a in accounts])
    for alert in await open_alerts(session, connection.id):  # their messages say who disconnected it
        resolve_alert(alert, "disconnected", user_id, utcnow())
    for account in accounts:
        account.active, account.access_token, account.connection_id = False, None, None
    name = connection.display_name or info.name
    await session.delete(connection)
    await session.flush()
    return Disconnected(info, name, revoked, cancelled)


async def cancel_open_targets(session: AsyncSession, account_ids: list[int]) -> int:
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
            post.status = PostStatus.CANCELLED
    return len(post_ids)


async def count_posts_to_cancel(session: AsyncSession, workspace: Workspace, connection_id: int) -> int:
    connection = await owned_connection(session, workspace, connection_id)
    ids = (await session.scalars(select(Account.id).where(Account.connection_id == connection.id))).all()
    return await scheduled_count(session, list(ids))
