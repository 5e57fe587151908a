"""Requests as Slack sends them: signed with the app's signing secret, in Slack's body formats."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from urllib.parse import urlencode

import httpx


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """Slack's v0 signature: HMAC-SHA256 of 'v0:{timestamp}:{body}' with the signing secret, hex."""
    base = b"v0:" + timestamp.encode() + b":" + body
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


def signed_headers(secret: str, body: bytes, content_type: str, timestamp: int | None = None) -> dict[str, str]:
    ts = str(int(time.time()) if timestamp is None else timestamp)
    return {
        "Content-Type": content_type,
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": signature(secret, ts, body),
        "User-Agent": "Slackbot 1.0 (+https://api.slack.com/robots)",
    }


def slash_command_body(text: str = "", *, team_id: str = "T0001", user_id: str = "U0001",
                       channel_id: str = "C0001", response_url: str = "http://127.0.0.1:9/response/1",
                       command: str = "/picmim") -> bytes:
    return urlencode({
        "token": "deprecated-verification-token",
        "team_id": team_id, "team_domain": "acme", "channel_id": channel_id, "channel_name": "marketing",
        "user_id": user_id, "user_name": "maria", "command": command, "text": text,
        "api_app_id": "A0PICMIM", "is_enterprise_install": "false",
        "response_url": response_url, "trigger_id": f"trigger-{time.time_ns()}",
    }).encode()


def event_body(event: dict, *, team_id: str = "T0001", event_id: str | None = None) -> bytes:
    return json.dumps({
        "token": "deprecated-verification-token", "team_id": team_id, "api_app_id": "A0PICMIM",
        "event": event, "type": "event_callback", "event_id": event_id or f"Ev{time.time_ns()}",
        "event_time": int(time.time()),
        "authorizations": [{"enterprise_id": None, "team_id": team_id, "user_id": "UBOT", "is_bot": True,
                            "is_enterprise_install": False}],
        "is_ext_shared_channel": False,
    }).encode()


def interaction_body(payload: dict) -> bytes:
    return urlencode({"payload": json.dumps(payload)}).encode()


class SlackSender:
    """Sends signed requests to an app's /slack/events as Slack would."""

    def __init__(self, base_url: str, signing_secret: str):
        self.base_url = base_url
        self.secret = signing_secret
        self.http = httpx.Client(base_url=base_url, timeout=10)
        self.last: tuple[bytes, dict[str, str]] | None = None

    def post(self, body: bytes, content_type: str, *, secret: str | None = None,
             timestamp: int | None = None, headers: dict | None = None) -> httpx.Response:
        sent = signed_headers(secret or self.secret, body, content_type, timestamp)
        sent.update(headers or {})
        self.last = (body, sent)
        return self.http.post("/slack/events", content=body, headers=sent)

    def resend(self) -> httpx.Response:
        """The last request again, the exact bytes and headers (its signature too): a replay."""
        body, sent = self.last
        return self.http.post("/slack/events", content=body, headers=sent)

    def command(self, text: str = "", **kw) -> httpx.Response:
        return self.post(slash_command_body(text, **kw), "application/x-www-form-urlencoded")

    def event(self, event: dict, **kw) -> httpx.Response:
        return self.post(event_body(event, **kw), "application/json")

    def interaction(self, payload: dict) -> httpx.Response:
        return self.post(interaction_body(payload), "application/x-www-form-urlencoded")

    def close(self) -> None:
        self.http.close()
