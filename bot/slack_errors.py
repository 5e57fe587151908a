"""What Slack said when a Web API call failed, whatever the body was."""

from __future__ import annotations

import aiohttp
from slack_sdk.errors import SlackApiError


def error_of(exc: SlackApiError) -> str:
    """Slack's error code (`channel_not_found`, ...); `http_<status>` when the body is not Slack's JSON
    (its HTML 502/503 page), `unreadable` when there is no status either."""
    response = getattr(exc, "response", None)
    data = getattr(response, "data", response)
    if isinstance(data, dict) and isinstance(data.get("error"), str):
        return data["error"]
    status = getattr(response, "status_code", None)
    return f"http_{status}" if isinstance(status, int) else "unreadable"


# Slack's own words for "not now" (its servers failing or busy), as opposed to a refusal of what was asked.
PASSING_ERRORS = frozenset({"internal_error", "fatal_error", "service_unavailable", "request_timeout", "ratelimited"})


def unavailable(exc: BaseException) -> str | None:
    """Why Slack could not answer just now (not reachable, timed out, its 5xx page or a passing error), or None
    when it did answer: a refusal (invalid_auth, channel_not_found…) is Slack's word, not an outage."""
    if isinstance(exc, SlackApiError):
        error = error_of(exc)
        passing = error in PASSING_ERRORS or error == "unreadable" or error.startswith("http_5")
        return error if passing else None
    if isinstance(exc, OSError | TimeoutError | aiohttp.ClientError):  # slack_sdk's HTTP client is aiohttp
        return exc.__class__.__name__
    return None


class SlackUnreachable(Exception):
    """Slack could not be asked something Picmim needs to decide (whether someone is an admin): the person is told
    Slack cannot be reached, never refused as if they lacked the right."""
