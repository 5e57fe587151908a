"""When a listener fails because the database, or Slack itself, cannot be reached: the person is told so in words
(not Slack's generic error), the request is still answered, and the log says it once per outage, not a traceback a
request."""

from __future__ import annotations

import asyncio
import logging
import time
import traceback

from slack_bolt.async_app import AsyncApp
from slack_bolt.response import BoltResponse
from slack_sdk.errors import SlackApiError
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from bot.slack_errors import SlackUnreachable, unavailable

log = logging.getLogger(__name__)

DATABASE_DOWN = "Picmim cannot reach its database right now; nothing was lost, try again in a minute."
SLACK_DOWN = "Picmim cannot reach Slack right now, so it could not do that; try again in a minute."
QUIET_SECONDS = 60.0  # an outage ends after this long without a database failure
_DATABASE_MODULES = ("sqlalchemy", "asyncpg", "aiosqlite", "sqlite3", "psycopg")


class Outage:
    """One log line when the database (or Slack: `what`) starts failing; quiet while it keeps failing."""

    def __init__(self, what: str = "The database") -> None:
        self.what = what
        self.last: float | None = None

    def note(self, error: BaseException, now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        if self.last is None or now - self.last >= QUIET_SECONDS:
            log.error("%s cannot be reached (%s: %s); people are told to try again in a minute.", self.what,
                      error.__class__.__name__, str(error).splitlines()[0][:200] if str(error) else "")
        self.last = now


outage = Outage()
slack_outage = Outage("Slack")


def database_unreachable(error: BaseException) -> bool:
    """An SQLAlchemy connection/operational error, or an OSError raised inside a database driver (not one
    from Slack or a platform: those are OSErrors too)."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, (OperationalError, PoolTimeout)):
            return True
        if isinstance(current, DBAPIError) and (current.connection_invalidated
                                                or isinstance(current.orig, OSError)):
            return True
        if isinstance(current, OSError | asyncio.TimeoutError) and any(
                any(m in (frame.filename or "") for m in _DATABASE_MODULES)
                for frame in traceback.extract_tb(current.__traceback__)):
            return True
        current = current.__cause__ or current.__context__
    return False


def slack_unreachable(error: BaseException) -> bool:
    """Slack's Web API (or a response_url) could not be reached or failed for now: a network error raised inside
    slack_sdk, or Slack's 5xx page or passing error (not a refusal, which is Slack's answer)."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, SlackUnreachable):
            return True
        if isinstance(current, SlackApiError):
            return unavailable(current) is not None
        if unavailable(current) is not None and any(
                "slack_sdk" in (frame.filename or "") for frame in traceback.extract_tb(current.__traceback__)):
            return True
        current = current.__cause__ or current.__context__
    return False


def _first_input_block(body: dict) -> str | None:
    view = body.get("view") if isinstance(body, dict) else None
    blocks = view.get("blocks") if isinstance(view, dict) else None
    for block in blocks if isinstance(blocks, list) else ():
        if isinstance(block, dict) and block.get("type") == "input" and isinstance(block.get("block_id"), str):
            return block["block_id"]
    return None


async def on_error(error: Exception, body: dict, request, response: BoltResponse | None, respond, client,
                   logger: logging.Logger) -> BoltResponse | None:
    if database_unreachable(error):
        outage.note(error)
        text = DATABASE_DOWN
    elif slack_unreachable(error):
        slack_outage.note(error)
        text, client = SLACK_DOWN, None  # only the response_url (another host) may still be reached
    else:
        logger.exception(f"Failed to run listener function (error: {error})")  # bolt's own default
        return None
    ack = request.context.ack
    acked = ack.response if ack is not None else None
    if response is not None and body.get("type") == "view_submission":
        # Not acknowledged yet: the modal stays as it was, with the reason under its first field.
        block = _first_input_block(body)
        if block:
            return BoltResponse(status=200, body={"response_action": "errors", "errors": {block: text}})
    await _tell(body, respond, client, text)
    if response is not None:
        return BoltResponse(status=200, body="")
    if acked is not None:
        # bolt sets the request's ack() answer to None after this handler (a listener that acked and then
        # raised would get Slack's "unhandled request" 3 s later): put the answer back once it has.
        asyncio.get_running_loop().call_soon(setattr, ack, "response", acked)
    return None


async def _tell(body: dict, respond, client, text: str = DATABASE_DOWN) -> None:
    try:
        if respond is not None and respond.response_url:
            await respond(text=text, response_type="ephemeral", replace_original=False)
            return
        user = (body.get("user") or {}).get("id") if isinstance(body.get("user"), dict) else body.get("user_id")
        channel = (body.get("channel") or {}).get("id") if isinstance(body.get("channel"), dict) \
            else body.get("channel_id")
        if client is not None and user and channel:
            await client.chat_postEphemeral(channel=channel, user=user, text=text)
        elif client is not None and user:
            await client.chat_postMessage(channel=user, text=text)
    except Exception as exc:  # telling is best effort: Slack may be failing too
        log.warning("Could not tell someone why their request failed: %s", exc.__class__.__name__)


def register(app: AsyncApp) -> None:
    app.error(on_error)
