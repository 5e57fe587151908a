"""A fake Slack: the Web API, response URLs, the OAuth authorize page and Socket Mode, on loopback.

It answers like Slack does (HTTP 200 with `ok`/`error`, 429 with `Retry-After` when told to rate
limit), checks tokens, and refuses blocks and views that Block Kit would refuse, using slack_sdk's
own Block Kit models. Every call is recorded for tests to assert on.
"""

from __future__ import annotations

import itertools
import json
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from aiohttp import WSMsgType, web
from slack_sdk.errors import SlackObjectFormationError
from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View

from bot.sandbox.fakes.base import LoopbackServer

MESSAGE_BLOCK_LIMIT = 50
APP_TOKEN = "xapp-1-A0PICMIM-fake"  # the app's app-level token (connections:write), for Socket Mode
VIEW_BLOCK_LIMIT = 100


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    token: str | None
    at: float = field(default_factory=time.monotonic)  # when it arrived (time.monotonic)


@dataclass
class Team:
    team_id: str
    bot_token: str
    bot_user_id: str = "UBOT"
    name: str = "Acme"
    users: dict[str, dict] = field(default_factory=dict)
    # User groups (id -> {"name", "handle", "users": [...]}); a free plan has none and is refused.
    usergroups: dict[str, dict] = field(default_factory=dict)
    usergroups_plan: bool = True
    # Channels the fake knows about (id -> {"private", "member", "archived", "members"}); any other id is an
    # ordinary public channel the bot is in.
    channels: dict[str, dict] = field(default_factory=dict)
    scopes: frozenset[str] = frozenset({"chat:write", "chat:write.public", "usergroups:read", "reactions:read",
                                        "files:read"})
    # Files shared where the bot sees them (id -> the file object files.info answers); "deleted": True for one
    # deleted since (see `FakeSlack.share_file`).
    files: dict[str, dict] = field(default_factory=dict)


def block_kit_errors(blocks: Any, limit: int) -> list[str]:
    """What Slack would say is wrong with these blocks (empty when they are fine)."""
    if isinstance(blocks, str):
        try:
            blocks = json.loads(blocks)
        except ValueError:
            return ["blocks is not valid JSON"]
    if not isinstance(blocks, list):
        return ["blocks must be an array"]
    if len(blocks) > limit:
        return [f"no more than {limit} items allowed [json-pointer:/blocks]"]
    errors = []
    for i, raw in enumerate(blocks):
        if not isinstance(raw, dict) or "type" not in raw:
            errors.append(f"missing required field: type [json-pointer:/blocks/{i}]")
            continue
        try:
            block = Block.parse(raw)
            if block is None or type(block) is Block:
                errors.append(f"unsupported type: {raw.get('type')} [json-pointer:/blocks/{i}]")
                continue
            block.to_dict()  # validates the block and everything inside it
        except (SlackObjectFormationError, TypeError, ValueError, KeyError) as exc:
            errors.append(f"{exc} [json-pointer:/blocks/{i}]")
    return errors


def view_errors(view: Any) -> list[str]:
    if isinstance(view, str):
        try:
            view = json.loads(view)
        except ValueError:
            return ["view is not valid JSON"]
    if not isinstance(view, dict) or view.get("type") not in ("modal", "home"):
        return ["view type must be modal or home"]
    errors = block_kit_errors(view.get("blocks", []), VIEW_BLOCK_LIMIT)
    if errors:
        return errors
    try:
        View(**view).to_dict()
    except (SlackObjectFormationError, TypeError, ValueError) as exc:
        return [str(exc)]
    return []


class FakeSlack(LoopbackServer):
    """Start with `start()`; its base URL for SLACK_API_URL is `api_url`."""

    def __init__(self) -> None:
        super().__init__()
        self.teams: dict[str, Team] = {}
        self.responses: list[dict] = []  # bodies posted to response_url
        self.oauth_codes: dict[str, dict] = {}  # code -> installation to hand out
        self.client_id = "111.222"
        self.client_secret = "fake-client-secret"
        self._rate_limits: dict[str, list[int]] = {}
        self._ts = itertools.count(1)
        self._sockets: list[web.WebSocketResponse] = []
        self._socket_acks: dict[str, dict] = {}
        self.channel_errors: dict[str, str] = {}  # channel -> the error posting to it gets (see `refuse_channel`)
        self.html_errors: dict[tuple[str, str | None], int] = {}  # (method, channel) -> HTTP status (`html_error`)
        self._html_until: dict[tuple[str, str | None], float] = {}  # when an html_error given `seconds` ends
        self.posted: list[dict] = []  # messages chat.postMessage took: channel, ts, thread_ts, text, blocks
        self.deleted: set[tuple[str, str]] = set()  # (channel, ts) of messages a person deleted (`delete_message`)
        self.thread_errors: dict[str, str] = {}  # thread_ts -> the error a reply in it gets (`refuse_thread`)
        self.files: dict[str, dict] = {}  # file id -> an external upload: its name, declared length, bytes
        self.shared_files: list[dict] = []  # completed uploads shared in a channel: file, channel, blocks
        self.app_tokens = {APP_TOKEN}  # the app-level tokens Socket Mode accepts

    def applications(self) -> list[web.Application]:
        app = web.Application()
        app.router.add_route("*", "/api/{method}", self._api)
        app.router.add_post("/response/{rid}", self._response_url)
        app.router.add_post("/upload/v1/{file_id}", self._upload)
        app.router.add_get("/oauth/v2/authorize", self._authorize)
        app.router.add_get("/socket", self._socket)
        return [app]

    @property
    def api_url(self) -> str:
        return f"{self.url}/api/"

    def response_url(self, rid: str = "1") -> str:
        return f"{self.url}/response/{rid}"

    # ---- test controls --------------------------------------------------------------------

    def add_team(self, team_id: str = "T0001", bot_token: str = "xoxb-fake-T0001", **kw) -> Team:
        team = Team(team_id, bot_token, **kw)
        team.users.setdefault("U0001", {"id": "U0001", "name": "maria", "real_name": "Maria Lopez",
                                        "profile": {"display_name": "Maria", "real_name": "Maria Lopez"},
                                        "tz": "Europe/Madrid", "tz_offset": 3600, "is_admin": True})
        self.teams[team_id] = team
        return team

    def reset(self) -> None:
        with self.lock:
            self.calls.clear()
            self.responses.clear()
            self._rate_limits.clear()
            self.channel_errors.clear()
            self.html_errors.clear()
            self._html_until.clear()
            self.posted.clear()
            self.deleted.clear()
            self.thread_errors.clear()
            self.files.clear()
            self.shared_files.clear()

    def refuse_channel(self, channel: str, error: str = "channel_not_found") -> None:
        """Posting to `channel` fails as Slack says it (channel_not_found, not_in_channel, is_archived)."""
        self.channel_errors[channel] = error

    def delete_message(self, channel: str, ts: str) -> None:
        """Someone deleted the message `ts` in Slack. As Slack does, a reply to it afterwards still goes into its
        thread when the thread has replies (the message stays as "This message was deleted."), and otherwise is
        posted in the channel itself, at the top level, with `ok: true`."""
        with self.lock:
            self.posted = [m for m in self.posted if not (m["channel"] == channel and m["ts"] == ts)]
            self.deleted.add((channel, ts))

    def refuse_thread(self, thread_ts: str, error: str = "thread_not_found") -> None:
        """A reply in the thread of `thread_ts` is refused with `error` (the channel still takes messages)."""
        self.thread_errors[thread_ts] = error

    def html_error(self, method: str, status: int = 503, channel: str | None = None,
                   seconds: float | None = None) -> None:
        """Answer `method` (to `channel` only, when given) with Slack's HTML error page, not JSON, as Slack
        does when it is down (502/503), until `reset`, or for `seconds` only (then Slack is back)."""
        self.html_errors[(method, channel)] = status
        if seconds is not None:
            self._html_until[(method, channel)] = time.monotonic() + seconds

    def _html_status(self, method: str, channel: str | None) -> int | None:
        for key in ((method, channel), (method, None)):
            until = self._html_until.get(key)
            if until is not None and time.monotonic() >= until:
                self.html_errors.pop(key, None)
                self._html_until.pop(key, None)
            if key in self.html_errors:
                return self.html_errors[key]
        return None

    def posted_in(self, channel: str, thread_ts: str | None = None) -> list[dict]:
        """The messages Slack took in `channel`: top-level ones, or the replies in the thread of `thread_ts`."""
        with self.lock:
            return [m for m in self.posted if m["channel"] == channel and m["thread_ts"] == thread_ts]

    def rate_limit(self, method: str, retry_after: int = 1, times: int = 1) -> None:
        """Answer the next `times` calls of `method` with 429 and Retry-After."""
        self._rate_limits.setdefault(method, []).extend([retry_after] * times)

    def calls_to(self, method: str) -> list[Call]:
        return self.recorded(lambda c: c.method == method)

    def wait_for(self, method: str, count: int = 1, timeout: float = 10.0) -> list[Call]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            calls = self.calls_to(method)
            if len(calls) >= count:
                return calls
            time.sleep(0.02)
        raise AssertionError(f"expected {count} call(s) to {method}; got {len(self.calls_to(method))}: "
                             f"{[c.method for c in self.calls]}")

    def wait_for_response(self, rid: str, count: int = 1, timeout: float = 10.0) -> list[dict]:
        """The bodies the app posted to response_url `rid`, once there are `count` of them."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                found = [r for r in self.responses if r["rid"] == rid]
            if len(found) >= count:
                return found
            time.sleep(0.02)
        raise AssertionError(f"expected {count} response(s) at {rid}; got {self.responses}")

    def issue_oauth_code(self, team_id: str, bot_token: str, user_id: str = "U0001") -> str:
        code = f"code-{next(self._ts)}"
        self.oauth_codes[code] = {"team_id": team_id, "bot_token": bot_token, "user_id": user_id}
        return code

    # ---- Web API --------------------------------------------------------------------------

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        params: dict[str, Any] = dict(request.query)
        if request.method == "POST":
            if request.content_type == "application/json":
                params.update(await request.json())
            else:
                params.update(dict(await request.post()))
        auth = request.headers.get("Authorization", "")
        token = auth[7:] if auth.startswith("Bearer ") else params.pop("token", None)
        self.record(Call(method, params, token))
        status = self._html_status(method, params.get("channel"))
        if status:
            return web.Response(status=status, content_type="text/html",
                                text="<html><body><h1>Slack is having trouble</h1></body></html>")
        pending = self._rate_limits.get(method)
        if pending:
            retry_after = pending.pop(0)
            return web.json_response({"ok": False, "error": "ratelimited"}, status=429,
                                     headers={"Retry-After": str(retry_after)})
        if method == "oauth.v2.access":
            return self._oauth_access(request, params)
        if method == "apps.connections.open":
            return self._apps_connections_open(token)
        if not token:
            return _error("not_authed")
        team = next((t for t in self.teams.values() if t.bot_token == token), None)
        if team is None:
            return _error("invalid_auth")
        handler = getattr(self, "_m_" + method.replace(".", "_"), None)
        if handler is None:
            return _error("unknown_method")
        return handler(team, params)

    def _apps_connections_open(self, token: str | None) -> web.Response:
        """Socket Mode's start: an app-level token this app issued gets a websocket URL; a bot or user token is
        the wrong kind, any other xapp- token (revoked, another app's) is refused."""
        if not token:
            return _error("not_authed")
        if not token.startswith("xapp-"):
            return _error("not_allowed_token_type")
        if token not in self.app_tokens:
            return _error("invalid_auth")
        return _ok(url=f"ws://127.0.0.1:{self.port}/socket")

    def _m_auth_test(self, team: Team, params: dict) -> web.Response:
        return _ok(url=f"https://{team.team_id.lower()}.slack.com/", team=team.name, user="picmim",
                   team_id=team.team_id, user_id=team.bot_user_id, bot_id="BPICMIM", is_enterprise_install=False)

    def _channel_error(self, team: Team, channel: str, user: str | None = None) -> web.Response | None:
        """What Slack says when the bot may not write in `channel` (or `user` cannot see it there)."""
        known = team.channels.get(channel)
        if known is None:
            return None
        if known.get("private") and not known.get("member", True):
            return _error("channel_not_found")  # a private channel the bot is not in is invisible to it
        if known.get("archived"):
            return _error("is_archived")
        if not known.get("member", True) and "chat:write.public" not in team.scopes:
            return _error("not_in_channel")
        if user is not None and "members" in known and user not in known["members"]:
            return _error("user_not_in_channel")
        return None

    def _message(self, params: dict, need_text: bool = True, team: Team | None = None) -> web.Response | None:
        if not params.get("channel"):
            return _error("channel_not_found")
        if team is not None:
            refused = self._channel_error(team, params["channel"], params.get("user"))
            if refused is not None:
                return refused
        if params["channel"] in self.channel_errors:
            return _error(self.channel_errors[params["channel"]])
        if "blocks" in params:
            errors = block_kit_errors(params["blocks"], MESSAGE_BLOCK_LIMIT)
            if errors:
                return _error("invalid_blocks", errors=errors, response_metadata={"messages": errors})
        elif need_text and not params.get("text"):
            return _error("no_text")
        return None

    def _m_chat_postMessage(self, team: Team, params: dict) -> web.Response:
        refused = self._message(params, team=team)
        if refused is not None:
            return refused
        thread_ts = params.get("thread_ts") or None
        if thread_ts in self.thread_errors:
            return _error(self.thread_errors[thread_ts])
        ts = self._next_ts()
        with self.lock:
            if (params["channel"], thread_ts) in self.deleted and not any(
                    m["channel"] == params["channel"] and m["thread_ts"] == thread_ts for m in self.posted):
                thread_ts = None  # its parent is gone and left no thread: Slack posts it in the channel
            self.posted.append({"channel": params["channel"], "ts": ts, "thread_ts": thread_ts,
                                "text": params.get("text", ""), "blocks": params.get("blocks")})
        return _ok(channel=params["channel"], ts=ts,
                   message={"text": params.get("text", ""), **({"thread_ts": thread_ts} if thread_ts else {})})

    def _m_chat_postEphemeral(self, team: Team, params: dict) -> web.Response:
        if not params.get("user"):
            return _error("user_not_found")
        return self._message(params, team=team) or _ok(message_ts=self._next_ts())

    def _m_chat_update(self, team: Team, params: dict) -> web.Response:
        if not params.get("ts"):
            return _error("message_not_found")
        return (self._message(params, need_text=False, team=team)
                or _ok(channel=params["channel"], ts=params["ts"]))

    def _m_views_publish(self, team: Team, params: dict) -> web.Response:
        if not params.get("user_id"):
            return _error("invalid_arguments")
        errors = view_errors(params.get("view"))
        if errors:
            return _error("invalid_arguments", response_metadata={"messages": errors})
        return _ok(view={"id": "V" + self._next_ts().replace(".", "")})

    def _m_views_open(self, team: Team, params: dict) -> web.Response:
        if not params.get("trigger_id"):
            return _error("invalid_arguments")
        if params["trigger_id"] == "expired":
            return _error("expired_trigger_id")
        errors = view_errors(params.get("view"))
        if errors:
            return _error("invalid_arguments", response_metadata={"messages": errors})
        return _ok(view={"id": "V" + self._next_ts().replace(".", ""), "hash": "h1"})

    _m_views_push = _m_views_open

    def _m_views_update(self, team: Team, params: dict) -> web.Response:
        if not (params.get("view_id") or params.get("external_id")):
            return _error("invalid_arguments")
        errors = view_errors(params.get("view"))
        if errors:
            return _error("invalid_arguments", response_metadata={"messages": errors})
        return _ok(view={"id": params.get("view_id"), "hash": "h2"})

    def _m_conversations_open(self, team: Team, params: dict) -> web.Response:
        # Opening a DM with one person answers with its D… channel (the same one every time).
        if not params.get("users") and not params.get("channel"):
            return _error("users_list_not_supplied")
        users = [u for u in str(params.get("users", "")).split(",") if u]
        if len(users) != 1:
            return _error("not_implemented")  # group DMs: Picmim never opens one
        if users[0] not in team.users:
            return _error("user_not_found")
        return _ok(channel={"id": "D" + users[0][1:]})

    # ---- files: Slack's external upload (files.getUploadURLExternal, POST the bytes, files.completeUploadExternal)

    def _m_files_getUploadURLExternal(self, team: Team, params: dict) -> web.Response:
        filename, length = params.get("filename"), str(params.get("length") or "")
        if not filename or not length.isdigit() or int(length) < 1:
            return _error("invalid_arguments", response_metadata={"messages": [
                "[ERROR] missing required field: filename" if not filename else "[ERROR] invalid length"]})
        file_id = f"F{next(self._ts):08d}"
        with self.lock:
            self.files[file_id] = {"id": file_id, "team": team.team_id, "filename": filename, "length": int(length),
                                   "alt_txt": params.get("alt_txt"), "data": None}
        return _ok(upload_url=f"{self.url}/upload/v1/{file_id}", file_id=file_id)

    async def _upload(self, request: web.Request) -> web.Response:
        """The upload URL: takes the raw bytes once, as files.slack.com does."""
        data = await request.read()
        with self.lock:
            upload = self.files.get(request.match_info["file_id"])
            if upload is None or upload["data"] is not None:
                return web.Response(status=404, text="upload not found")
            upload["data"] = data
        return web.Response(text=f"OK - {len(data)}")

    def _m_files_completeUploadExternal(self, team: Team, params: dict) -> web.Response:
        try:
            files = json.loads(params.get("files") or "")
        except ValueError:
            return _error("invalid_arguments")
        if not isinstance(files, list) or not files or not all(isinstance(f, dict) and f.get("id") for f in files):
            return _error("invalid_arguments")
        uploads = [self.files.get(f["id"]) for f in files]
        # A file never uploaded to its URL, or another team's, is not found (the byte count must match).
        if any(u is None or u["team"] != team.team_id or u["data"] is None or len(u["data"]) != u["length"]
               for u in uploads):
            return _error("file_not_found")
        channel = params.get("channel_id")
        blocks = None
        if channel:
            known = team.channels.get(channel)
            if channel in self.channel_errors:
                return _error(self.channel_errors[channel])
            if known is not None:
                if known.get("private") and not known.get("member", True):
                    return _error("channel_not_found")
                if known.get("archived"):
                    return _error("is_archived")
                if not known.get("member", True):  # chat:write.public does not cover sharing files
                    return _error("not_in_channel")
            # Slack ignores `blocks` when there is an initial comment.
            if params.get("blocks") and not params.get("initial_comment"):
                errors = block_kit_errors(params["blocks"], MESSAGE_BLOCK_LIMIT)
                if errors:
                    return _error("invalid_blocks", errors=errors, response_metadata={"messages": errors})
                blocks = json.loads(params["blocks"])
        answered = []
        for f, upload in zip(files, uploads, strict=True):
            title = f.get("title") or upload["filename"]
            answered.append({"id": upload["id"], "name": upload["filename"], "title": title, "mimetype": "",
                             "size": upload["length"], "user": team.bot_user_id,
                             "permalink": f"https://acme.slack.com/files/{team.bot_user_id}/{upload['id']}"})
            if channel:
                with self.lock:
                    self.shared_files.append({"file_id": upload["id"], "channel": channel, "title": title,
                                              "filename": upload["filename"], "alt_txt": upload["alt_txt"],
                                              "data": upload["data"], "blocks": blocks,
                                              "initial_comment": params.get("initial_comment"),
                                              "thread_ts": params.get("thread_ts")})
        return _ok(files=answered)

    def share_file(self, file: dict, team_id: str = "T0001") -> dict:
        """A file shared with the bot (in its DM, or a channel it is in): files.info answers it. Returns the stub
        a `message` event carries for it when Slack leaves the details out (`file_access: "check_file_info"`)."""
        with self.lock:
            self.teams[team_id].files[file["id"]] = dict(file)
        return {"id": file["id"], "mode": "file_access", "file_access": "check_file_info", "created": 0,
                "timestamp": 0, "user": ""}

    def _m_files_info(self, team: Team, params: dict) -> web.Response:
        """A file's details, as Slack answers them to a token with files:read for a file the bot can see."""
        if "files:read" not in team.scopes:
            return _error("missing_scope", needed="files:read", provided=",".join(sorted(team.scopes)))
        file_id = params.get("file")
        if not file_id:
            return _error("invalid_arguments", response_metadata={"messages": [
                "[ERROR] missing required field: file"]})
        with self.lock:
            found = team.files.get(file_id)
        if found is None:
            return _error("file_not_found")
        if found.get("deleted"):
            return _error("file_deleted")
        details = {key: value for key, value in found.items() if key != "deleted"}
        return _ok(file={"created": 0, "timestamp": 0, "mode": "hosted", "is_external": False, **details,
                         "file_access": "visible"},
                   comments=[], response_metadata={"next_cursor": ""})

    def shared_in(self, channel: str) -> list[dict]:
        with self.lock:
            return [f for f in self.shared_files if f["channel"] == channel]

    def _m_users_info(self, team: Team, params: dict) -> web.Response:
        user = team.users.get(params.get("user", ""))
        return _ok(user=user) if user else _error("user_not_found")

    def _m_usergroups_list(self, team: Team, params: dict) -> web.Response:
        if "usergroups:read" not in team.scopes:
            return _error("missing_scope", needed="usergroups:read")
        if not team.usergroups_plan:
            return _error("plan_upgrade_required")
        groups = [{"id": gid, "team_id": team.team_id, "is_usergroup": True, "name": g.get("name", gid),
                   "handle": g.get("handle", gid.lower()), "date_delete": g.get("date_delete", 0),
                   "user_count": len(g.get("users", []))}
                  for gid, g in team.usergroups.items()
                  if not g.get("date_delete") or str(params.get("include_disabled")).lower() in ("1", "true")]
        return _ok(usergroups=groups)

    def _m_usergroups_users_list(self, team: Team, params: dict) -> web.Response:
        if "usergroups:read" not in team.scopes:
            return _error("missing_scope", needed="usergroups:read")
        if not team.usergroups_plan:
            return _error("plan_upgrade_required")
        group = team.usergroups.get(params.get("usergroup") or "")
        if group is None:
            return _error("no_such_subteam")
        return _ok(users=list(group.get("users", [])))

    def _oauth_access(self, request: web.Request, params: dict) -> web.Response:
        import base64

        client_id, client_secret = params.get("client_id"), params.get("client_secret")
        auth = request.headers.get("Authorization", "")
        if auth.startswith("Basic "):
            client_id, _, client_secret = base64.b64decode(auth[6:]).decode().partition(":")
        if client_id != self.client_id or client_secret != self.client_secret:
            return _error("invalid_client_id")
        grant = self.oauth_codes.pop(params.get("code", ""), None)
        if grant is None:
            return _error("invalid_code")
        team = self.teams.get(grant["team_id"]) or self.add_team(grant["team_id"], grant["bot_token"])
        return _ok(app_id="A0PICMIM", access_token=grant["bot_token"], token_type="bot",
                   scope="commands,chat:write", bot_user_id=team.bot_user_id,
                   team={"id": team.team_id, "name": team.name}, enterprise=None,
                   authed_user={"id": grant["user_id"]}, is_enterprise_install=False)

    def _next_ts(self) -> str:
        return f"{int(time.time())}.{next(self._ts):06d}"

    # ---- response_url, OAuth page, Socket Mode ----------------------------------------------

    async def _response_url(self, request: web.Request) -> web.Response:
        body = await request.json()
        errors = block_kit_errors(body["blocks"], MESSAGE_BLOCK_LIMIT) if "blocks" in body else []
        if errors:
            return web.Response(status=400, text="invalid_blocks")
        with self.lock:
            self.responses.append({"rid": request.match_info["rid"], **body})
        return web.Response(text="ok")

    async def _authorize(self, request: web.Request) -> web.Response:
        """The 'Allow' click: sends the browser back to the app with a code for the team asked for."""
        q = request.query
        if q.get("client_id") != self.client_id or not q.get("redirect_uri"):
            return web.Response(status=400, text="invalid client_id or redirect_uri")
        team_id = q.get("team", "T0002")
        code = self.issue_oauth_code(team_id, f"xoxb-fake-{team_id}")
        raise web.HTTPFound(f"{q['redirect_uri']}?{urlencode({'code': code, 'state': q.get('state', '')})}")

    async def _socket(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self._sockets.append(ws)
        await ws.send_json({"type": "hello", "num_connections": 1, "connection_info": {"app_id": "A0PICMIM"}})
        async for msg in ws:
            if msg.type == WSMsgType.TEXT:
                data = json.loads(msg.data)
                if "envelope_id" in data:
                    self._socket_acks[data["envelope_id"]] = data
        return ws

    def socket_connected(self) -> bool:
        return any(not ws.closed for ws in self._sockets)

    def send_envelope(self, envelope_type: str, payload: dict, timeout: float = 10.0) -> dict:
        """Deliver a Socket Mode envelope and wait for the app's acknowledgement."""
        envelope_id = f"env-{next(self._ts)}"
        envelope = {"envelope_id": envelope_id, "type": envelope_type, "payload": payload,
                    "accepts_response_payload": envelope_type != "events_api", "retry_attempt": 0}
        ws = next(ws for ws in self._sockets if not ws.closed)
        self.run(ws.send_json(envelope))
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if envelope_id in self._socket_acks:
                return self._socket_acks.pop(envelope_id)
            time.sleep(0.02)
        raise AssertionError("the app did not acknowledge the Socket Mode envelope")


def _ok(**fields: Any) -> web.Response:
    return web.json_response({"ok": True, **fields})


def _error(error: str, **fields: Any) -> web.Response:
    return web.json_response({"ok": False, "error": error, **fields})
