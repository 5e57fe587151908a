"""Sending a platform request and turning transport failures into the error family."""

from __future__ import annotations

import email.utils
import time
from datetime import UTC, datetime

import httpx

from bot.platforms.base import OutcomeUnknown, Transient

# Failures that happen before a byte of the request left: safe to call again.
NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout, httpx.UnsupportedProtocol)


async def send(http: httpx.AsyncClient, platform: str, method: str, url: str, *, creates: bool = False,
               **kwargs) -> httpx.Response:
    """One request. A failure after sending a call that creates something (a post) raises
    OutcomeUnknown, since the platform may have acted on it; every other failure is Transient."""
    try:
        return await http.request(method, url, **kwargs)
    except NOT_SENT as exc:
        raise Transient(platform, f"{platform} could not be reached; Picmim will try again.",
                        exc.__class__.__name__) from None
    except httpx.HTTPError as exc:
        if creates:
            raise OutcomeUnknown(platform, f"{platform} did not answer in time; the post may or may not be live.",
                                 exc.__class__.__name__) from None
        raise Transient(platform, f"{platform} did not answer in time; Picmim will try again.",
                        exc.__class__.__name__) from None


def retry_after_seconds(headers: httpx.Headers, *reset_headers: str) -> float | None:
    """Seconds to wait, from Retry-After (seconds or a date) or an epoch-seconds reset header."""
    value = headers.get("retry-after")
    if value:
        try:
            return max(0.0, float(value))
        except ValueError:
            pass
        try:
            when = email.utils.parsedate_to_datetime(value)
            return max(0.0, (when - datetime.now(UTC)).total_seconds())
        except (TypeError, ValueError):
            pass
    for name in reset_headers:
        reset = headers.get(name)
        if reset and reset.strip().isdigit():
            return max(0.0, float(reset) - time.time())
    return None


def json_or_none(response: httpx.Response) -> dict | None:
    try:
        data = response.json()
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


def json_answer(response: httpx.Response, platform: str, error_of) -> dict:
    """The JSON object of a successful answer. An error status raises what `error_of(response)`
    (the platform's translation) gives; a 2xx that is not a JSON object is a passing fault."""
    if response.status_code >= 400:
        raise error_of(response)
    body = json_or_none(response)
    if body is None:
        raise Transient(platform, f"{platform} gave an unexpected answer; Picmim will try again.",
                        f"HTTP {response.status_code}: {response.text[:200]}")
    return body
