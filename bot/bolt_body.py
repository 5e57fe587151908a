"""Bolt reads a form body as an interaction whenever the text "payload" appears anywhere in it
(slack_bolt.request.internals.parse_body: `if "payload" in body`), so `/picmim post Our payload is live`
reached no listener and the person got no answer. Slack sends an interaction as a form with a `payload`
field and a slash command as a form without one: this reads the form first and decides by its fields.
Installed once, before the app handles a request (bot/app.py)."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl

from slack_bolt.request import async_request, internals, request


def parse_body(body: str, content_type: str | None) -> dict[str, Any]:
    if not body or content_type == "application/json" or body.startswith("{"):
        return internals.parse_body(body, content_type)
    fields = dict(parse_qsl(body, keep_blank_values=True))
    if "payload" in fields:
        return json.loads(fields["payload"])
    return fields


def install() -> None:
    async_request.parse_body = parse_body
    request.parse_body = parse_body
