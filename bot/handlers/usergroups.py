"""Who is in a Slack user group (usergroups.users.list), kept briefly: roles, admins and a group's approvers can be
a user group, and every request of a person whose rights depend on one asks."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable

from slack_sdk.errors import SlackApiError

from bot.slack_errors import error_of

log = logging.getLogger(__name__)

# Slack rate-limits usergroups.users.list (Tier 2): a change of membership applies within this many seconds.
GROUP_MEMBERS_SECONDS = 30.0
_members: dict[tuple[str, str], tuple[float, frozenset[str]]] = {}


async def group_members(client, team_id: str, group_id: str) -> frozenset[str]:
    key = (team_id, group_id)
    cached = _members.get(key)
    if cached is not None and cached[0] > time.monotonic():
        return cached[1]
    try:
        users = frozenset((await client.usergroups_users_list(usergroup=group_id)).get("users") or [])
    except SlackApiError as exc:
        # A deleted group, or a plan without groups: its members hold nothing (kept briefly too).
        log.warning("Could not read the members of user group %s: %s", group_id, error_of(exc))
        users = frozenset()
    if len(_members) > 10_000:
        _members.clear()
    _members[key] = (time.monotonic() + GROUP_MEMBERS_SECONDS, users)
    return users


async def usergroups_of(client, team_id: str, group_ids: Iterable[str], user_id: str) -> frozenset[str]:
    """Which of these user groups the user is in."""
    return frozenset([g for g in group_ids if user_id in await group_members(client, team_id, g)])
