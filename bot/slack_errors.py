"""What Slack said when a Web API call failed, whatever the body was."""

from __future__ import annotations

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
