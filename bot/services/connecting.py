"""Connecting social accounts: private OAuth links, the platform callback, choosing the accounts.

The status and upkeep of connections already made are in `connections`. Free of Slack and HTTP
details: handlers and the web route call these with plain values and show what comes back. Every
refusal is a `ConnectError` whose message a marketer can act on.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.platforms import registry
from bot.platforms.base import PKCE, Adapter, PlatformError, RemoteAccount, Scope
from bot.platforms.oauth import new_pkce, new_state
from bot.secret import Secret
from bot.services import audit
from bot.services.connections import ConnectError, apply_tokens, mended, platform_for, sync_accounts
from bot.storage.models import Account, Connection, ConnectionStatus, OAuthState, Workspace, utcnow

LINK_LIFETIME = timedelta(minutes=10)


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
    url: str  # Picmim's own page naming the workspace and the person (what Slack shows)
    authorize_url: str  # the platform's consent page, behind that page's Continue button
    platform: registry.PlatformInfo
    expires_at: datetime


LANDING_PATH = "/connect/{state}"
LINK_NOT_VALID = "This link is not valid"  # the page's title for a link Picmim never made (a 404)


def landing_url(public_url: str, state: str) -> str:
    return public_url.rstrip("/") + LANDING_PATH.format(state=state)


async def start(session: AsyncSession, adapters: Mapping[str, Adapter], workspace: Workspace, user_id: str,
                platform_key: str, *, public_url: str, channel_id: str | None = None,
                reconnect: Connection | None = None, handle: str | None = None, workspace_name: str | None = None,
                requested_by_name: str | None = None) -> ConnectLink:
    """A private, single-use link, valid for 10 minutes, to Picmim's page that names the workspace and the
    person who asked, and continues to the platform's consent page."""
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
    # The authorize URL carries the state, so it is kept encrypted, like the verifier.
    extra = {"authorize_url": url} | ({"started": started} if started else {})
    session.add(OAuthState(
        state_hash=state_hash(state), workspace_id=workspace.id, slack_user_id=user_id, platform=info.key,
        code_verifier=Secret(pkce.verifier), secret_extra=Secret(json.dumps(extra)),
        reconnect_connection_id=reconnect.id if reconnect else None, channel_id=channel_id, expires_at=expires_at,
        workspace_name=_short(workspace_name), requested_by_name=_short(requested_by_name),
    ))
    await session.flush()
    return ConnectLink(landing_url(public_url, state), url, info, expires_at)


def _short(name: str | None) -> str | None:
    name = " ".join((name or "").split())
    return name[:255] or None


# ---- the link's page -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Landing:
    """What the link's page shows before the platform's: who asked, for which workspace, and where it goes."""

    platform: registry.PlatformInfo
    workspace_name: str | None
    requested_by_name: str | None
    authorize_url: str
    expires_at: datetime
    reconnect_of: str | None  # the connection's name, when the link reconnects one


async def landing(session: AsyncSession, state: str) -> Landing:
    """The page behind a link. Only reads: a link preview fetching the page must not use up the link.
    Raises ConnectError (its title says which: not valid, already used, expired)."""
    row = await session.scalar(select(OAuthState).where(OAuthState.state_hash == state_hash(state))) if state else None
    info = registry.get(row.platform) if row is not None else None
    if row is None or info is None:
        raise ConnectError("This sign-in link is not one Picmim made, or it was changed. Get a new one in Slack "
                           "with `/picmim connect`.", LINK_NOT_VALID)
    again = f"Get a new one in Slack with `/picmim connect {info.key}`."
    if row.used_at is not None:
        raise ConnectError(f"This sign-in link was already used: each link works once. {again}",
                           "This link was already used")
    if row.expires_at < utcnow():
        raise ConnectError(f"This sign-in link expired: links last {int(LINK_LIFETIME.total_seconds() // 60)} "
                           f"minutes. {again}", "This link expired")
    extra = json.loads(row.secret_extra.reveal()) if row.secret_extra else {}
    reconnect = await session.get(Connection, row.reconnect_connection_id) if row.reconnect_connection_id else None
    if not extra.get("authorize_url"):
        raise ConnectError(f"This sign-in link cannot be opened here. {again}", LINK_NOT_VALID)
    return Landing(info, row.workspace_name, row.requested_by_name, extra["authorize_url"], row.expires_at,
                   (reconnect.display_name or info.name) if reconnect else None)


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


@dataclass(frozen=True)
class Parties:
    """Whose link it was, and where it connects: what the pages and the alerts channel name."""

    team_id: str
    user_id: str
    workspace_name: str | None = None
    requested_by_name: str | None = None
    alerts_channel_id: str | None = None


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
    parties: Parties | None = None

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
    parties: Parties | None = None
    attempted: bool = True  # False when nothing reached the platform again (a reused link): no alert


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
    parties = Parties(workspace.team_id, row.slack_user_id, row.workspace_name, row.requested_by_name,
                      workspace.alerts_channel_id)
    refused = _refuser(parties, info)
    claimed = await session.execute(update(OAuthState).where(OAuthState.id == row.id, OAuthState.used_at.is_(None))
                                    .values(used_at=utcnow()))
    if claimed.rowcount != 1:
        raise refused(f"This sign-in link was already used. {again}", "This link was already used", attempted=False)
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
    before = connection.status.value if connection is not None else None
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
    await audit.record(session, workspace.id, row.slack_user_id, audit.SIGN_IN, audit.connection_subject(connection.id),
                       "reconnected" if reconnected else "connected",
                       {"account": audit.connection_words(info.key, connection.display_name),
                        "status": [before, "active"]}, connection_id=connection.id)
    row.secret_extra = Secret(json.dumps({"candidates": [asdict(c) for c in candidates],
                                          "connection_id": connection.id}))
    granted = set(tokens.scopes)
    declined = [scope for scope in adapter.scopes if granted and scope.name not in granted]
    return Connected(info, workspace.team_id, row.slack_user_id, row.channel_id, row.id, connection.id,
                     connection.display_name, candidates, reconnected, declined, parties)


def _taken(candidate: Candidate) -> Candidate:
    candidate.refusal = "Already connected to another Slack workspace: disconnect it there first."
    candidate.token = None
    return candidate


def _refuser(parties: Parties, info: registry.PlatformInfo | None):
    def refused(message: str, title: str, attempted: bool = True) -> CallbackRefused:
        return CallbackRefused(ConnectError(message, title), parties.team_id, parties.user_id, info, parties,
                               attempted)

    return refused


async def _connected_elsewhere(session: AsyncSession, workspace_id: int, platform: str,
                               external_ids: list[str]) -> set[str]:
    rows = await session.scalars(select(Account.external_id).where(
        Account.platform == platform, Account.external_id.in_(external_ids), Account.active.is_(True),
        Account.workspace_id != workspace_id))
    return set(rows)


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
                          chosen_ids: list[str], created: list[Account] | None = None) -> list[Account]:
    """Store the chosen accounts (only those); an account no longer chosen stops being managed. `created` gets
    the accounts new to this workspace (roles may need setting on them)."""
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
            if created is not None:
                created.append(account)
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
