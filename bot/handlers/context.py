"""The request context: what every listener needs, put into bolt's context once per request and lazily (nothing
here does I/O before the listener's ack()). Listeners take them as arguments by name:

- `db`: a unit of work on the database (`async with db() as session:`; committed at the end, rolled back on error);
- `workspace()`: the Slack team's workspace row, created on first sight, read once per request;
- `person()`: the acting Slack user with their time zone and admin flag (Slack's users.info, once per request);
- `subject`: the typed object behind the button's value or the modal's private_metadata (`bot.payloads`), or
  None when there is none or it is malformed;
- `runtime`: the process's shared parts (settings, adapters, HTTP client), for what the above does not cover.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

from slack_bolt import BoltResponse
from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.payloads import subject_of
from bot.services.workspaces import ensure_workspace
from bot.storage import seen_requests
from bot.storage.models import Workspace, utcnow

if TYPE_CHECKING:
    from bot.runtime import Runtime

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Person:
    user_id: str
    tz: str | None
    is_admin: bool


class RequestContext:
    """One request's look-ups, each done at most once and only when a listener asks."""

    def __init__(self, runtime: Runtime, client, team_id: str | None, enterprise_id: str | None,
                 user_id: str | None):
        self.runtime, self.client = runtime, client
        self.team_id, self.enterprise_id, self.user_id = team_id, enterprise_id, user_id
        self._workspace: Workspace | None = None
        self._person: Person | None = None

    @asynccontextmanager
    async def db(self) -> AsyncIterator[AsyncSession]:
        async with self.runtime.sessions() as session:
            yield session
            await session.commit()

    async def workspace(self) -> Workspace:
        """Read once per request and kept detached: its columns stay readable; a change goes through a
        service that loads it in its own session."""
        if self._workspace is None:
            async with self.db() as session:
                self._workspace = await ensure_workspace(session, self.team_id or "", self.enterprise_id)
        return self._workspace

    async def person(self) -> Person:
        """The acting user; an unreadable profile falls back to UTC and no admin rights."""
        if self._person is None:
            try:
                user = (await self.client.users_info(user=self.user_id)).get("user") or {}
            except SlackApiError:
                user = {}
            self._person = Person(self.user_id or "", user.get("tz"),
                                  bool(user.get("is_admin") or user.get("is_owner")))
        return self._person


# What changes state: every interaction Picmim acts on, and slash commands (options loading only reads).
_ACTING = {"block_actions", "view_submission", "view_closed", "shortcut", "message_action"}


def _acts(body: dict) -> bool:
    return isinstance(body, dict) and (body.get("type") in _ACTING or "command" in body)


def register(app: AsyncApp, runtime: Runtime) -> None:
    @app.middleware
    async def refuse_replays(req, body, next):
        """The same signed bytes sent again within Slack's 5-minute window act once: the signature of every
        state-changing request is recorded (in the database: any process may get the replay), a replay answered
        with an empty 200 and logged. Socket Mode has no signature (and no replay from outside)."""
        signature = (req.headers.get("x-slack-signature") or [None])[0] if req.headers else None
        if signature and _acts(body):
            try:
                fresh = await seen_requests.first_time(runtime.sessions, f"sig:{signature}", utcnow())
            except SQLAlchemyError as exc:  # the listener meets the outage too and says so; do not fail here
                log.warning("Could not record a request's signature: %s", exc.__class__.__name__)
                fresh = True
            if not fresh:
                log.warning("Refused a replayed Slack request (%s, team %s)", body.get("type") or "command",
                            (body.get("team") or {}).get("id") if isinstance(body.get("team"), dict)
                            else body.get("team_id"))
                return BoltResponse(status=200, body="")
        await next()

    @app.middleware
    async def request_context(context, body, next):
        # No I/O here: this runs before every listener's ack().
        here = RequestContext(runtime, context.client, context.team_id, context.enterprise_id, context.user_id)
        context["runtime"] = runtime
        context["db"] = here.db
        context["workspace"] = here.workspace
        context["person"] = here.person
        context["subject"] = subject_of(body)
        if not context.response_url:  # a click in a modal or on Home: nowhere to answer with respond()
            context["respond"] = NowhereToRespond()
        await next()


class NowhereToRespond:
    """respond() of a request without a response_url (forged: Slack gives one wherever a listener answers with
    respond): bolt's would raise after the ack; the answer is dropped and said in the log."""

    response_url = None

    async def __call__(self, *_args, **_kwargs) -> None:
        log.info("A listener answered a request that has no response_url; the answer was dropped")
