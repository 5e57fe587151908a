"""The request context: what every listener needs, put into bolt's context once per request and lazily (nothing
here does I/O before the listener's ack()). Listeners take them as arguments by name:

- `db`: a unit of work on the database (`async with db() as session:`; committed at the end, rolled back on error);
- `workspace()`: the Slack team's workspace row, created on first sight, read once per request;
- `person()`: the acting Slack user with their time zone and admin flag (Slack's users.info, once per request);
- `access()`: what the acting user may do on which account (bot/services/roles.py; admins named in `/picmim roles`
  count as admins there), once per request;
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

import aiohttp
from slack_bolt import BoltResponse
from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.handlers.usergroups import usergroups_of
from bot.payloads import subject_of
from bot.services import roles
from bot.services.workspaces import ensure_workspace
from bot.slack_errors import SlackUnreachable, unavailable
from bot.storage import seen_requests
from bot.storage.models import Workspace, utcnow

if TYPE_CHECKING:
    from bot.runtime import Runtime

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Person:
    user_id: str
    tz: str | None
    admin: bool | None  # None: Slack could not be reached to ask
    name: str | None = None  # as Slack shows it (display name, else full name)

    @property
    def is_admin(self) -> bool:
        if self.admin is None:
            raise SlackUnreachable("Slack could not be asked whether this person is a workspace admin")
        return self.admin


class RequestContext:
    """One request's look-ups, each done at most once and only when a listener asks."""

    def __init__(self, runtime: Runtime, client, team_id: str | None, enterprise_id: str | None,
                 user_id: str | None):
        self.runtime, self.client = runtime, client
        self.team_id, self.enterprise_id, self.user_id = team_id, enterprise_id, user_id
        self._workspace: Workspace | None = None
        self._person: Person | None = None
        self._access: roles.Access | None = None
        self._rules: roles.Rules | None = None

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
        """The acting user; an unreadable profile falls back to UTC and no admin rights. While Slack cannot be
        reached the zone falls back to UTC and whether they are an admin is unknown (asking raises
        SlackUnreachable, so they are told Slack cannot be reached rather than refused)."""
        if self._person is None:
            try:
                user = (await self.client.users_info(user=self.user_id)).get("user") or {}
                admin: bool | None = bool(user.get("is_admin") or user.get("is_owner"))
            except (SlackApiError, OSError, aiohttp.ClientError, TimeoutError) as exc:
                user, admin = {}, None if unavailable(exc) else False
            profile = user.get("profile") or {}
            name = profile.get("display_name") or profile.get("real_name") or user.get("real_name") or user.get("name")
            self._person = Person(self.user_id or "", user.get("tz"), admin, name or None)
        return self._person

    async def access(self, need_profile: bool = True) -> roles.Access:
        """The acting user's rights on each account: the workspace's roles, whether Slack makes them an admin, and
        the user groups (of those the roles name) they are in. `need_profile=False`: where no roles are set, Slack
        is not asked who the person is (before an ack that must come within 3 seconds; everyone publishes
        everywhere then, and only an admin check would need it)."""
        if self._access is None:
            here = await self.workspace()
            if self._rules is None:
                async with self.db() as session:
                    self._rules = await roles.load_rules(session, here)
            rules = self._rules
            if not need_profile and not rules.any_roles:
                return roles.Access(rules, roles.Who(self.user_id or ""))
            slack_admin = (await self.person()).is_admin
            groups = await usergroups_of(self.client, here.team_id, rules.usergroups(), self.user_id or "")
            self._access = roles.Access(rules, roles.Who(self.user_id or "", slack_admin, groups))
        return self._access


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
        context["access"] = here.access
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
