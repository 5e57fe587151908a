"""The Slack outbox: every message Picmim owes a person (a post's status message, a review card, an alert, a
digest, an author's notice) that Slack did not take at the first try is kept here until it does.

Free of Slack: bot/messages/outbox.py makes the calls. A row is claimed with a lease before its call, in one
conditional UPDATE (as the publisher claims targets), so of several processes one sends it; a row whose lease
ran out (its process died) is due again. Failed tries wait longer each time (1 s, 2 s, 4 s… up to 5 minutes),
or as long as Slack's Retry-After says. Status messages and review cards are rebuilt from their post when sent,
so a later change folds into the owed message (`revision`) instead of becoming a second one."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.storage.models import OutboxMessage, OutboxState

STATUS, REVIEW_CARD, ALERT, DIGEST, NOTICE = "status", "review_card", "alert", "digest", "notice"

LEASE = timedelta(minutes=2)  # longer than a digest's three Slack calls at their timeouts
FIRST_WAIT, LONGEST_WAIT = 1.0, 300.0  # seconds
KEPT_FOR = timedelta(days=30)  # how long delivered and refused messages stay, for looking into what happened


@dataclass(frozen=True)
class Owed:
    """A message owed to someone. `key` names what it belongs to (`status:12`): while one is owed, another with
    the same key is folded into it. `once`: the key is one message ever (an alert, a digest run), so once
    delivered or refused it is never sent again."""

    kind: str
    workspace_id: int
    key: str | None = None
    channel_id: str | None = None
    payload: dict[str, Any] = field(default_factory=dict)
    post_id: int | None = None
    once: bool = False


@dataclass(frozen=True)
class Claim:
    """A row held by `owner` for one try."""

    id: int
    owner: str
    revision: int
    attempts: int
    owed: Owed


def wait_after(attempts: int, retry_after: float | None = None) -> timedelta:
    """How long a message waits after its `attempts`-th failed try."""
    seconds = min(FIRST_WAIT * 2 ** max(attempts - 1, 0), LONGEST_WAIT)
    return timedelta(seconds=max(seconds, retry_after or 0.0))


def _owed(row: OutboxMessage) -> Owed:
    return Owed(row.kind, row.workspace_id, row.key, row.channel_id, dict(row.payload or {}), row.post_id)


def _free(now: datetime):
    return or_(OutboxMessage.lease_expires_at.is_(None), OutboxMessage.lease_expires_at < now)


async def latest(session: AsyncSession, key: str) -> OutboxMessage | None:
    """The newest row of `key`: the owed one when there is one."""
    return await session.scalar(select(OutboxMessage).where(OutboxMessage.key == key)
                                .order_by(OutboxMessage.state != OutboxState.PENDING, OutboxMessage.id.desc())
                                .limit(1))


async def fold(session: AsyncSession, row: OutboxMessage, owed: Owed, owner: str, now: datetime) -> Claim | None:
    """A message for a key still owed: its content joins the owed one (the newest wins), and it is claimed for
    a try at once when its wait is over and no other process holds it; otherwise whoever sends it next sends
    the newest content. Committed."""
    payload = {**(row.payload or {}), **owed.payload}
    await session.execute(update(OutboxMessage).where(OutboxMessage.id == row.id)
                          .values(payload=payload, revision=OutboxMessage.revision + 1, channel_id=owed.channel_id
                                  or row.channel_id).execution_options(synchronize_session=False))
    claimed = await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == row.id, OutboxMessage.state == OutboxState.PENDING,
               OutboxMessage.next_attempt_at <= now, _free(now))
        .values(lease_owner=owner, lease_expires_at=now + LEASE, attempts=OutboxMessage.attempts + 1)
        .returning(OutboxMessage.revision, OutboxMessage.attempts)
        .execution_options(synchronize_session=False))
    held = claimed.first()
    await session.commit()
    if held is None:
        return None
    return Claim(row.id, owner, held[0], held[1], Owed(row.kind, row.workspace_id, row.key,
                                                       owed.channel_id or row.channel_id, payload, row.post_id))


async def record(session: AsyncSession, owed: Owed, now: datetime, error: str,
                 retry_after: float | None = None) -> int:
    """A message Slack did not take at its first try, owed from now on. Committed."""
    row = OutboxMessage(workspace_id=owed.workspace_id, kind=owed.kind, key=owed.key, post_id=owed.post_id,
                        channel_id=owed.channel_id, payload=owed.payload, attempts=1, last_error=error[:1000],
                        next_attempt_at=now + wait_after(1, retry_after))
    session.add(row)
    await session.commit()
    return row.id


def owe(session: AsyncSession, owed: Owed, now: datetime) -> None:
    """A message owed from now on, added in the caller's transaction (so it is owed exactly when what it belongs
    to is recorded) and due at once; `bot.messages.outbox.send` with its key then tries it. Not committed."""
    session.add(OutboxMessage(workspace_id=owed.workspace_id, kind=owed.kind, key=owed.key, post_id=owed.post_id,
                              channel_id=owed.channel_id, payload=owed.payload, next_attempt_at=now))


async def record_refused(session: AsyncSession, owed: Owed, now: datetime, error: str) -> int:
    """A message Slack refused for good at its first try: kept with the reason, never tried again. Committed."""
    row = OutboxMessage(workspace_id=owed.workspace_id, kind=owed.kind, key=owed.key, post_id=owed.post_id,
                        channel_id=owed.channel_id, payload=owed.payload, attempts=1, last_error=error[:1000],
                        state=OutboxState.REFUSED)
    session.add(row)
    await session.commit()
    return row.id


async def claim_due(session: AsyncSession, owner: str, now: datetime, limit: int = 20) -> list[Claim]:
    """Claim up to `limit` owed messages that are due (committed). Candidates are read first (on PostgreSQL
    with SKIP LOCKED), then taken only if still owed, due and free: a row another process took meanwhile is
    left to it."""
    due = (select(OutboxMessage.id)
           .where(OutboxMessage.state == OutboxState.PENDING, OutboxMessage.next_attempt_at <= now, _free(now))
           .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id).limit(limit))
    if session.bind.dialect.name == "postgresql":
        due = due.with_for_update(skip_locked=True)
    candidates = (await session.scalars(due)).all()
    if not candidates:
        await session.commit()
        return []
    taken = await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id.in_(candidates), OutboxMessage.state == OutboxState.PENDING,
               OutboxMessage.next_attempt_at <= now, _free(now))
        .values(lease_owner=owner, lease_expires_at=now + LEASE, attempts=OutboxMessage.attempts + 1)
        .returning(OutboxMessage.id)
        .execution_options(synchronize_session=False))
    ids = [row[0] for row in taken]
    rows = (await session.scalars(select(OutboxMessage).where(OutboxMessage.id.in_(ids))
                                  .order_by(OutboxMessage.id)
                                  .execution_options(populate_existing=True))).all() if ids else []
    await session.commit()
    return [Claim(r.id, owner, r.revision, r.attempts, _owed(r)) for r in rows]


def _held(claim: Claim):
    return (OutboxMessage.id == claim.id, OutboxMessage.lease_owner == claim.owner,
            OutboxMessage.state == OutboxState.PENDING)


async def delivered(session: AsyncSession, claim: Claim, now: datetime, channel_id: str | None,
                    ts: str | None) -> Owed | None:
    """Slack took it. Returns the message again, with its newest content, when something was folded into it
    while it was being sent (the caller brings the posted message up to date). Committed."""
    await session.execute(update(OutboxMessage).where(*_held(claim))
                          .values(state=OutboxState.DELIVERED, delivered_at=now, delivered_channel_id=channel_id,
                                  delivered_ts=ts, lease_owner=None, lease_expires_at=None, last_error=None)
                          .execution_options(synchronize_session=False))
    row = await session.get(OutboxMessage, claim.id, populate_existing=True)
    await session.commit()
    if row is None or row.revision == claim.revision:
        return None
    again = _owed(row)
    # What this try carried (a card's "reopened" reply) went out with it: only what was folded in since goes again.
    changed = {k: v for k, v in again.payload.items() if claim.owed.payload.get(k) != v}
    return Owed(again.kind, again.workspace_id, again.key, again.channel_id, changed, again.post_id)


async def retry_later(session: AsyncSession, claim: Claim, now: datetime, error: str,
                      retry_after: float | None = None) -> datetime:
    """A passing failure: tried again after a longer wait (or Slack's Retry-After). Committed."""
    at = now + wait_after(claim.attempts, retry_after)
    await session.execute(update(OutboxMessage).where(*_held(claim))
                          .values(next_attempt_at=at, last_error=error[:1000], lease_owner=None,
                                  lease_expires_at=None)
                          .execution_options(synchronize_session=False))
    await session.commit()
    return at


async def refuse(session: AsyncSession, claim: Claim, now: datetime, error: str) -> None:
    """Slack refused it for good (the channel is gone, the app was removed…): kept with the reason. Committed."""
    await session.execute(update(OutboxMessage).where(*_held(claim))
                          .values(state=OutboxState.REFUSED, last_error=error[:1000], lease_owner=None,
                                  lease_expires_at=None)
                          .execution_options(synchronize_session=False))
    await session.commit()


async def prune(session: AsyncSession, before: datetime) -> int:
    """Forget messages delivered or refused before `before` (committed); returns how many."""
    gone = await session.execute(delete(OutboxMessage).where(OutboxMessage.state != OutboxState.PENDING,
                                                             OutboxMessage.updated_at < before)
                                 .execution_options(synchronize_session=False))
    await session.commit()
    return gone.rowcount or 0


async def depth(session: AsyncSession) -> int:
    """How many messages are owed and not delivered yet (for a metrics gauge)."""
    return await session.scalar(select(func.count()).select_from(OutboxMessage)
                                .where(OutboxMessage.state == OutboxState.PENDING)) or 0
