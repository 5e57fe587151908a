"""Sending what Picmim owes people in Slack so that nothing is lost (the table and its rules:
bot/services/outbox.py).

A message is tried at once, in the request or job that owes it (the usual case costs nothing more). When Slack
does not take it for a passing reason (internal_error, ratelimited, an HTML 5xx page, a timeout) it is recorded
and the outbox job (`OutboxWorker.tick`, every PICMIM_TICK_SECONDS) sends it later, from whichever process
claims it first, until Slack takes it. A refusal for good (the channel is gone, the app was removed) is recorded
with its reason, logged once and never tried again.

Each kind of message has a sender: `async (runtime, owed) -> Sent | None` that makes the Slack calls (raising
what Slack raised, or `Undelivered`) and stores where the message went where the rest of Picmim looks for it (a
post's message_ts, its review_ts…). None: nothing to send any more (the post is gone)."""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

import aiohttp
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web.async_client import AsyncWebClient

from bot.services import outbox
from bot.services.outbox import Claim, Owed
from bot.slack_errors import error_of
from bot.storage.models import OutboxState, Workspace, utcnow

log = logging.getLogger(__name__)

# Slack errors worth waiting out; any other refusal is for good (channel_not_found, not_in_channel, is_archived,
# invalid_auth, account_inactive, token_revoked, invalid_blocks…): trying again would only fail again.
PASSING = frozenset({"ratelimited", "internal_error", "fatal_error", "service_unavailable", "request_timeout",
                     "unreadable", "http_429", "http_408"})
TRANSPORT = (SlackClientError, aiohttp.ClientError, TimeoutError, OSError)
# A reply whose thread Slack no longer has (its first message was deleted; Slack usually posts such a reply in the
# channel by itself, but may refuse it with one of these): said in the channel instead, rather than lost.
THREAD_GONE = frozenset({"thread_not_found", "message_not_found", "cannot_reply_to_message"})


@dataclass(frozen=True)
class Sent:
    channel_id: str | None
    ts: str | None


@dataclass(frozen=True)
class Outcome:
    """How a try went: sent (`sent` may be None when nothing was left to send), owed (`transient`: it will be
    sent later), refused for good (`error`), or `waiting`: the same message is owed already and goes later."""

    sent: Sent | None = None
    error: str | None = None
    transient: bool = False
    retry_after: float | None = None
    waiting: bool = False

    @property
    def ok(self) -> bool:
        return self.error is None and not self.waiting


class Undelivered(Exception):
    """Raised by a sender that knows why Slack did not take a message."""

    def __init__(self, error: str, transient: bool, retry_after: float | None = None):
        super().__init__(error)
        self.error, self.transient, self.retry_after = error, transient, retry_after


Sender = Callable[[object, Owed], Awaitable[Sent | None]]


def is_passing(error: str) -> bool:
    return error in PASSING or (error.startswith("http_5") and error[5:].isdigit())


def retry_after_of(exc: SlackApiError) -> float | None:
    """Slack's Retry-After (seconds) on a ratelimited answer."""
    headers = getattr(getattr(exc, "response", None), "headers", None) or {}
    for name, value in dict(headers).items():
        if name.lower() == "retry-after":
            value = value[0] if isinstance(value, list | tuple) else value
            try:
                return float(value)
            except (TypeError, ValueError):
                return None
    return None


def owner() -> str:
    """Who holds a claim: this host and process."""
    return f"{socket.gethostname()}:{os.getpid()}"


async def client_for(runtime, workspace_id: int) -> AsyncWebClient:
    """The workspace's bot client; `Undelivered` (for good) when Picmim is no longer installed there."""
    async with runtime.sessions() as session:
        workspace = await session.get(Workspace, workspace_id)
        await session.commit()
    client = None if workspace is None else await runtime.slack_client(workspace.team_id, workspace.enterprise_id)
    if client is None:
        raise Undelivered("not_installed", transient=False)
    return client


async def attempt(runtime, owed: Owed, sender: Sender) -> Outcome:
    """One try, whatever happens: Slack's answer, or why it did not take the message."""
    try:
        return Outcome(sent=await sender(runtime, owed))
    except Undelivered as exc:
        return Outcome(error=exc.error, transient=exc.transient, retry_after=exc.retry_after)
    except SlackApiError as exc:
        error = error_of(exc)
        return Outcome(error=error, transient=is_passing(error), retry_after=retry_after_of(exc))
    except TRANSPORT as exc:
        return Outcome(error=f"{type(exc).__name__}: {exc}"[:200], transient=True)
    except Exception as exc:  # a fault of ours (or the database away): kept, and tried again with the backoff
        log.exception("Sending a %s message failed", owed.kind)
        return Outcome(error=f"{type(exc).__name__}: {exc}"[:200], transient=True)


def _describe(owed: Owed) -> str:
    return f"{owed.kind.replace('_', ' ')} message" + (f" ({owed.key})" if owed.key else "")


async def send(runtime, owed: Owed, sender: Sender) -> Outcome:
    """Send a message now; keep it owed when Slack does not take it for a passing reason. When the same message
    (its key) is owed already, this one folds into it: tried now if its wait is over and no other process is
    sending it, else sent later with the newest content."""
    claim = None
    if owed.key:
        async with runtime.sessions() as session:
            row = await outbox.latest(session, owed.key)
            if row is not None and row.state is not OutboxState.PENDING and owed.once:
                sent, error = row.state is OutboxState.DELIVERED, row.last_error
                await session.commit()
                # One message ever (an alert): what happened to it is the answer, never a second message.
                return (Outcome(sent=Sent(row.delivered_channel_id, row.delivered_ts)) if sent
                        else Outcome(error=error or "refused"))
            if row is not None and row.state is OutboxState.PENDING:
                claim = await outbox.fold(session, row, owed, owner(), utcnow())
                if claim is None:
                    return Outcome(waiting=True)
            else:
                await session.commit()
    if claim is not None:
        return await _try_claimed(runtime, claim, sender)
    outcome = await attempt(runtime, owed, sender)
    if outcome.ok:
        return outcome
    async with runtime.sessions() as session:
        if outcome.transient:
            await outbox.record(session, owed, utcnow(), outcome.error, outcome.retry_after)
            log.warning("Slack did not take the %s (%s): Picmim keeps it and tries again", _describe(owed),
                        outcome.error)
        else:
            await outbox.record_refused(session, owed, utcnow(), outcome.error)
            log.warning("Slack refused the %s for good (%s): it is not sent", _describe(owed), outcome.error)
    return outcome


async def keep(runtime, owed: Owed, error: str, retry_after: float | None = None) -> None:
    """A message its owner tried itself and Slack did not take for a passing reason: owed from now on."""
    async with runtime.sessions() as session:
        await outbox.record(session, owed, utcnow(), error, retry_after)
    log.warning("Slack did not take the %s (%s): Picmim keeps it and tries again", _describe(owed), error)


async def _try_claimed(runtime, claim: Claim, sender: Sender) -> Outcome:
    """A try of a claimed row, and its result written to it."""
    outcome = await attempt(runtime, claim.owed, sender)
    async with runtime.sessions() as session:
        if outcome.ok:
            sent = outcome.sent or Sent(None, None)
            again = await outbox.delivered(session, claim, utcnow(), sent.channel_id, sent.ts)
            if claim.attempts > 1:
                log.info("Delivered the %s after %d tries", _describe(claim.owed), claim.attempts)
        elif outcome.transient:
            again = None
            at = await outbox.retry_later(session, claim, utcnow(), outcome.error, outcome.retry_after)
            log.info("Slack still does not take the %s (%s); next try at %s", _describe(claim.owed), outcome.error,
                     at.isoformat(timespec="seconds"))
        else:
            again = None
            await outbox.refuse(session, claim, utcnow(), outcome.error)
            log.warning("Slack refused the %s for good (%s): it is not tried again", _describe(claim.owed),
                        outcome.error)
    if again is not None:
        # Something changed while it was being sent: the message now posted is brought up to date.
        await send(runtime, again, sender)
    return outcome


class OutboxWorker:
    """Sends the owed messages that are due, from whichever process claims them; `tick()` is the job."""

    PRUNE_EVERY = timedelta(hours=1)

    def __init__(self, runtime, senders: Mapping[str, Sender], limit: int = 20):
        self.runtime, self.senders, self.limit = runtime, senders, limit
        self.pruned_at: datetime | None = None

    async def tick(self) -> list[Outcome]:
        now = utcnow()
        async with self.runtime.sessions() as session:
            if self.pruned_at is None or now - self.pruned_at >= self.PRUNE_EVERY:
                self.pruned_at = now
                await outbox.prune(session, now - outbox.KEPT_FOR)
            claims = await outbox.claim_due(session, owner(), now, self.limit)
        outcomes = []
        for claim in claims:
            sender = self.senders.get(claim.owed.kind)
            if sender is None:  # a kind this version does not know: left for one that does
                async with self.runtime.sessions() as session:
                    await outbox.retry_later(session, claim, utcnow(), f"unknown kind {claim.owed.kind}", 3600)
                continue
            outcomes.append(await _try_claimed(self.runtime, claim, sender))
        return outcomes


async def send_text(runtime, owed: Owed) -> Sent:
    """The sender of plain messages (an author's notice): `text`, and `thread_ts` to reply in a thread."""
    client = await client_for(runtime, owed.workspace_id)
    payload = owed.payload
    thread_ts = payload.get("thread_ts")
    try:
        sent = await client.chat_postMessage(channel=owed.channel_id, text=payload["text"], thread_ts=thread_ts,
                                             blocks=payload.get("blocks"))
    except SlackApiError as exc:
        error = error_of(exc)
        if not thread_ts or error not in THREAD_GONE:
            raise
        # Refused, so nothing was posted: one message in the channel, never two.
        log.info("The thread of the %s is gone (%s): it is posted in the channel", _describe(owed), error)
        sent = await client.chat_postMessage(channel=owed.channel_id, text=payload["text"],
                                             blocks=payload.get("blocks"))
    return Sent(sent["channel"], sent["ts"])


async def notify(runtime, workspace_id: int, channel: str, text: str, thread_ts: str | None = None,
                 blocks: list[dict] | None = None) -> Outcome:
    """An author's notice (or any message a person is owed), kept until Slack takes it."""
    payload = {"text": text, **({"thread_ts": thread_ts} if thread_ts else {})}
    if blocks:
        payload["blocks"] = blocks
    return await send(runtime, Owed(outbox.NOTICE, workspace_id, channel_id=channel, payload=payload), send_text)


async def depth(runtime) -> int:
    """How many messages Picmim owes and has not delivered yet."""
    async with runtime.sessions() as session:
        return await outbox.depth(session)
