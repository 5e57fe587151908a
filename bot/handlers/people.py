"""Who is acting: their time zone and whether they are a workspace admin (Slack's users.info)."""

from __future__ import annotations

from dataclasses import dataclass

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient


@dataclass(frozen=True)
class Person:
    user_id: str
    tz: str | None
    is_admin: bool


async def person(client: AsyncWebClient, user_id: str) -> Person:
    """Looked up after ack(); an unreadable profile falls back to UTC and no admin rights."""
    try:
        user = (await client.users_info(user=user_id)).get("user") or {}
    except SlackApiError:
        user = {}
    return Person(user_id, user.get("tz"), bool(user.get("is_admin") or user.get("is_owner")))
