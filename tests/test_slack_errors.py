from __future__ import annotations

from slack_sdk.errors import SlackApiError
from slack_sdk.web.slack_response import SlackResponse

from bot.slack_errors import error_of


def _failure(data, status: int) -> SlackApiError:
    response = SlackResponse(client=None, http_verb="POST", api_url="https://slack.com/api/chat.postMessage",
                             req_args={}, data=data, headers={}, status_code=status)
    return SlackApiError("failed", response)


def test_error_of_reads_slacks_code_or_says_what_the_http_answer_was():
    assert error_of(_failure({"ok": False, "error": "channel_not_found"}, 200)) == "channel_not_found"
    assert error_of(_failure("<html>503 Service Unavailable</html>", 503)) == "http_503"
    assert error_of(SlackApiError("failed", None)) == "unreadable"
