"""The sandbox's simulated Slack workspace: the fake Slack's Web API (bot/sandbox/fakes/slack.py), keeping what a
workspace holds (channels, people, messages and ephemeral replies, threads, reactions, open windows, App Home,
files), kept in the sandbox's folder between runs (`keep_in`), and the other direction: what a person does on the
sandbox page, sent to the app as Slack sends it (signed requests to /slack/events, in Slack's payload shapes)."""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import logging
import time
from dataclasses import asdict, dataclass, field, fields
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import aiohttp
from aiohttp import web

from bot.sandbox import blockkit_html
from bot.sandbox.fakes.slack import MESSAGE_BLOCK_LIMIT, FakeSlack, Team, _error, _ok, block_kit_errors, view_errors
from bot.sandbox.kept import KeptFile, count_position

log = logging.getLogger(__name__)

TEAM_ID = "T0SANDBOX"
TEAM_NAME = "Acme (sandbox)"
BOT_TOKEN = "xoxb-sandbox-T0SANDBOX"
BOT_USER = "UBOT"
APP_NAME = "Picmim"
MARKETING, APPROVALS, ALERTS = "C0MARKETING", "C0APPROVALS", "C0ALERTS"
CHANNELS = {MARKETING: "marketing", APPROVALS: "approvals", ALERTS: "alerts"}
KEPT_FILE = "slack.pickle"  # the workspace's messages, windows and App Home, in the sandbox's folder


@dataclass(frozen=True)
class Person:
    user_id: str
    handle: str
    real_name: str
    role: str  # what they do in the tour
    tz: str
    is_admin: bool = False

    @property
    def dm(self) -> str:
        """Their direct conversation with Picmim."""
        return dm_of(self.user_id)


PEOPLE = (
    Person("U0MARIA", "maria", "Maria Lopez", "Marketer", "Europe/Madrid"),
    Person("U0SAM", "sam", "Sam Chen", "Approver", "America/New_York"),
    Person("U0ALEX", "alex", "Alex Kim", "Admin", "Asia/Tokyo", is_admin=True),
)
MARKETER, APPROVER, ADMIN = PEOPLE


def dm_of(user_id: str) -> str:
    return "D" + user_id[1:]


def person(user_id: str) -> Person:
    return next((p for p in PEOPLE if p.user_id == user_id), MARKETER)


def slack_user(p: Person) -> dict:
    offset = int(datetime.now(ZoneInfo(p.tz)).utcoffset().total_seconds())
    return {"id": p.user_id, "team_id": TEAM_ID, "name": p.handle, "real_name": p.real_name, "deleted": False,
            "profile": {"display_name": p.real_name.split()[0], "real_name": p.real_name},
            "tz": p.tz, "tz_offset": offset, "is_admin": p.is_admin, "is_owner": p.is_admin, "is_bot": False}


@dataclass
class Message:
    ts: str
    channel: str
    user: str  # who wrote it: a person, or BOT_USER for Picmim
    text: str = ""
    blocks: list | None = None
    thread_ts: str | None = None
    ephemeral_for: str | None = None  # an ephemeral reply only this person sees
    reactions: dict[str, list[str]] = field(default_factory=dict)
    files: list[dict] = field(default_factory=list)  # {id, name, title}
    answers: str | None = None  # the slash command it answers ("stats", "digest subscribe"…)
    refused: list[str] = field(default_factory=list)  # why Slack refused what the app sent


@dataclass
class OpenView:
    view_id: str
    user: str
    view: dict
    hash: str
    state: dict = field(default_factory=dict)  # what the person set: block id -> action id -> value
    errors: dict = field(default_factory=dict)  # response_action errors beside fields


@dataclass
class Origin:
    """Where a response_url's answers go."""

    user: str
    channel: str
    message_ts: str | None = None
    command: str | None = None


class SandboxSlack(FakeSlack):
    """The fake Slack, keeping a workspace a page shows. `version` grows with every change (the page polls it)."""

    keeps_calls = False  # what the workspace holds is in `messages`, `homes`…: no log of calls to grow

    def __init__(self) -> None:
        super().__init__()
        self.version = 0
        self.messages: list[Message] = []
        self.stacks: dict[str, list[OpenView]] = {}
        self.homes: dict[str, OpenView] = {}
        self.origins_by_rid: dict[str, Origin] = {}
        self.triggers: dict[str, str] = {}  # trigger id -> person
        self.person_files: dict[str, dict] = {}  # files people attached: id -> name, mimetype, data
        self.refused_views: dict[str, list[str]] = {}  # person -> why Slack refused the last window for them
        self._ids = itertools.count(1)
        self._kept: KeptFile | None = None
        team = Team(TEAM_ID, BOT_TOKEN, bot_user_id=BOT_USER, name=TEAM_NAME,
                    users={p.user_id: slack_user(p) for p in PEOPLE},
                    channels={cid: {"member": True, "members": [p.user_id for p in PEOPLE]} for cid in CHANNELS},
                    scopes=frozenset({"commands", "chat:write", "chat:write.public", "files:read", "files:write",
                                      "reactions:read", "users:read", "usergroups:read", "im:write"}))
        self.teams[TEAM_ID] = team

    def applications(self) -> list[web.Application]:
        [app] = super().applications()
        app.router.add_get("/files-pri/{file_id}/{name}", self._download)
        return [app]

    # ---- kept between runs --------------------------------------------------------------------------------

    def keep_in(self, state_dir: Path) -> SandboxSlack:
        """Start from what the workspace held when the sandbox last ran from `state_dir`, and save each change there
        soon after it happens (call before `start`; `stop` saves the last)."""
        self._kept = KeptFile(state_dir / KEPT_FILE, self._snapshot)
        state = self._kept.read()
        if state is not None:
            try:
                self._restore(state)
            except (KeyError, TypeError, ValueError) as exc:
                log.warning("The simulated Slack starts afresh: its saved state cannot be read (%s)",
                            type(exc).__name__)
        self._kept.start()
        return self

    def stop(self) -> None:
        super().stop()
        if self._kept is not None:
            self._kept.stop()

    def _note(self) -> None:
        """Something kept changed (without changing what the page shows)."""
        if self._kept is not None:
            self._kept.changed()

    def _snapshot(self) -> dict:
        with self.lock:  # copies taken under the lock every change holds: one consistent moment
            return {"messages": [asdict(m) for m in self.messages],
                    "stacks": {user: [asdict(v) for v in stack] for user, stack in self.stacks.items()},
                    "homes": {user: asdict(home) for user, home in self.homes.items()},
                    "origins": {rid: asdict(origin) for rid, origin in self.origins_by_rid.items()},
                    "person_files": {fid: dict(f) for fid, f in self.person_files.items()},
                    "files": {fid: dict(f) for fid, f in self.files.items()},
                    "ids": count_position(self._ids), "ts": count_position(self._ts), "version": self.version}

    def _restore(self, state: dict) -> None:
        """All read first: the workspace is restored whole or not at all."""
        messages = [_made(Message, m) for m in state["messages"]]
        stacks = {user: [_made(OpenView, v) for v in stack] for user, stack in state["stacks"].items()}
        homes = {user: _made(OpenView, home) for user, home in state["homes"].items()}
        origins = {rid: _made(Origin, o) for rid, o in state["origins"].items()}
        ids, ts = itertools.count(*state["ids"]), itertools.count(*state["ts"])
        self.messages, self.stacks, self.homes, self.origins_by_rid = messages, stacks, homes, origins
        self.person_files, self.files = dict(state["person_files"]), dict(state["files"])
        self._ids, self._ts = ids, ts
        self.version = state["version"] + 1  # a page open before the restart draws itself again

    # ---- reading, for the page ---------------------------------------------------------------------------

    def changed(self) -> None:
        self.version += 1
        self._note()

    def timeline(self, channel: str, viewer: str) -> list[Message]:
        """The channel's messages this person sees, oldest first (threads' replies included)."""
        with self.lock:
            return [m for m in self.messages if m.channel == channel
                    and (m.ephemeral_for is None or m.ephemeral_for == viewer)]

    def top_view(self, user: str) -> OpenView | None:
        with self.lock:
            stack = self.stacks.get(user) or []
            return stack[-1] if stack else None

    def find_view(self, view_id: str) -> OpenView | None:
        with self.lock:
            for stack in self.stacks.values():
                for shown in stack:
                    if shown.view_id == view_id:
                        return shown
            return next((h for h in self.homes.values() if h.view_id == view_id), None)

    def message(self, channel: str, ts: str) -> Message | None:
        with self.lock:
            return next((m for m in self.messages if m.channel == channel and m.ts == ts), None)

    def file(self, file_id: str) -> tuple[bytes, str, str] | None:
        """A file's bytes, type and name: one a person attached, or one the app uploaded."""
        with self.lock:
            if file_id in self.person_files:
                f = self.person_files[file_id]
                return f["data"], f["mimetype"], f["name"]
            upload = self.files.get(file_id)
            if upload and upload["data"] is not None:
                name = upload["filename"]
                kind = "image/png" if name.lower().endswith(".png") else "application/octet-stream"
                return upload["data"], kind, name
        return None

    # ---- what people do, stored -------------------------------------------------------------------------

    def next_ts(self) -> str:
        return self._next_ts()

    def add(self, message: Message) -> Message:
        with self.lock:
            self.messages.append(message)
            self.changed()
        return message

    def trigger(self, user: str) -> str:
        trigger_id = f"{next(self._ids)}.{int(time.time())}.sandbox"
        with self.lock:
            self.triggers[trigger_id] = user
        return trigger_id

    def response_url_for(self, origin: Origin) -> str:
        rid = f"r{next(self._ids)}"
        with self.lock:
            self.origins_by_rid[rid] = origin
        self._note()
        return self.response_url(rid)

    def attach(self, user: str, name: str, mimetype: str, data: bytes) -> dict:
        """A file a person chose on their computer, as a file_input's state lists it (the app downloads it from
        url_private_download with the bot token)."""
        file_id = f"F{next(self._ids):08d}"
        with self.lock:
            self.person_files[file_id] = {"name": name, "mimetype": mimetype, "data": data, "user": user}
        self._note()
        return self.file_listing(file_id)

    def file_listing(self, file_id: str) -> dict | None:
        with self.lock:
            f = self.person_files.get(file_id)
        if f is None:
            return None
        link = f"{self.url}/files-pri/{file_id}/{f['name']}"
        return {"id": file_id, "name": f["name"], "title": f["name"], "mimetype": f["mimetype"],
                "filetype": f["name"].rsplit(".", 1)[-1].lower(), "size": len(f["data"]), "user": f["user"],
                "url_private": link, "url_private_download": link}

    def toggle_reaction(self, channel: str, ts: str, name: str, user: str) -> bool | None:
        """Adds or removes `user`'s reaction; True when added (None: no such message)."""
        with self.lock:
            found = next((m for m in self.messages if m.channel == channel and m.ts == ts), None)
            if found is None:
                return None
            people = found.reactions.setdefault(name, [])
            added = user not in people
            if added:
                people.append(user)
            else:
                people.remove(user)
                if not people:
                    del found.reactions[name]
            self.changed()
            return added

    def push_view(self, user: str, view: dict, replace_all: bool = False) -> OpenView:
        shown = OpenView(view_id=f"V{next(self._ids):06d}", user=user, view=view, hash=f"h{next(self._ids)}")
        with self.lock:
            stack = self.stacks.setdefault(user, [])
            if replace_all:
                stack.clear()
            stack.append(shown)
            self.changed()
        return shown

    def pop_view(self, user: str, everything: bool = False) -> None:
        with self.lock:
            stack = self.stacks.get(user) or []
            if everything:
                stack.clear()
            elif stack:
                stack.pop()
            self.changed()

    def replace_view(self, shown: OpenView, view: dict) -> None:
        with self.lock:
            shown.view, shown.hash, shown.errors = view, f"h{next(self._ids)}", {}
            self.changed()

    def show_errors(self, shown: OpenView, errors: dict) -> None:
        with self.lock:
            shown.errors = dict(errors)
            self.changed()

    def keep_state(self, shown: OpenView, values: dict) -> None:
        with self.lock:
            shown.state = values
        self._note()

    # ---- the Web API, kept -------------------------------------------------------------------------------

    def _conversation(self, channel: str) -> str:
        """A message to a person (their user id) goes to their direct conversation with Picmim."""
        return dm_of(channel) if channel.startswith("U") else channel

    def _message(self, params: dict, need_text: bool = True, team: Team | None = None) -> web.Response | None:
        refused = super()._message(params, need_text, team)
        if refused is not None and b"invalid_blocks" in (refused.body or b""):
            # Slack refuses the message; the page shows that it did, and why (as a developer would see it).
            errors = json.loads(refused.body).get("errors", [])
            self.add(Message(self.next_ts(), self._conversation(params["channel"]), BOT_USER,
                             text=params.get("text", ""), ephemeral_for=params.get("user"), refused=errors))
        return refused

    def _m_chat_postMessage(self, team: Team, params: dict) -> web.Response:
        params = {**params, "channel": self._conversation(params.get("channel", ""))}
        refused = self._message(params, team=team)
        if refused is not None:
            return refused
        ts = self._next_ts()
        blocks = _json(params.get("blocks"))
        self.add(Message(ts, params["channel"], BOT_USER, text=params.get("text", ""), blocks=blocks,
                         thread_ts=params.get("thread_ts") or None))
        with self.lock:
            self.posted.append({"channel": params["channel"], "ts": ts, "thread_ts": params.get("thread_ts"),
                                "text": params.get("text", ""), "blocks": params.get("blocks")})
        return _ok(channel=params["channel"], ts=ts, message={"text": params.get("text", ""), "ts": ts})

    def _m_chat_postEphemeral(self, team: Team, params: dict) -> web.Response:
        if not params.get("user"):
            return _error("user_not_found")
        params = {**params, "channel": self._conversation(params.get("channel", ""))}
        refused = self._message(params, team=team)
        if refused is not None:
            return refused
        ts = self._next_ts()
        self.add(Message(ts, params["channel"], BOT_USER, text=params.get("text", ""),
                         blocks=_json(params.get("blocks")), thread_ts=params.get("thread_ts") or None,
                         ephemeral_for=params["user"]))
        return _ok(message_ts=ts)

    def _m_chat_update(self, team: Team, params: dict) -> web.Response:
        params = {**params, "channel": self._conversation(params.get("channel", ""))}
        found = self.message(params["channel"], params.get("ts", ""))
        if found is None or found.ephemeral_for:
            return _error("message_not_found")
        refused = self._message(params, need_text=False, team=team)
        if refused is not None:
            return refused
        with self.lock:
            if "text" in params:
                found.text = params["text"]
            if "blocks" in params:
                found.blocks = _json(params["blocks"])
            self.changed()
        return _ok(channel=params["channel"], ts=params["ts"], text=found.text)

    def _m_chat_delete(self, team: Team, params: dict) -> web.Response:
        channel = self._conversation(params.get("channel", ""))
        found = self.message(channel, params.get("ts", ""))
        if found is None:
            return _error("message_not_found")
        with self.lock:
            self.messages.remove(found)
            self.changed()
        return _ok(channel=channel, ts=found.ts)

    def _m_chat_getPermalink(self, team: Team, params: dict) -> web.Response:
        return _ok(permalink=f"https://acme.slack.com/archives/{params.get('channel')}/p"
                             f"{str(params.get('message_ts', '')).replace('.', '')}")

    def _m_conversations_info(self, team: Team, params: dict) -> web.Response:
        channel = params.get("channel", "")
        if channel in CHANNELS:
            return _ok(channel={"id": channel, "name": CHANNELS[channel], "is_channel": True, "is_member": True,
                                "is_private": False, "is_archived": False})
        if channel.startswith("D"):
            return _ok(channel={"id": channel, "is_im": True, "user": "U" + channel[1:]})
        return _error("channel_not_found")

    def _m_users_list(self, team: Team, params: dict) -> web.Response:
        return _ok(members=list(team.users.values()))

    def _refuse_view(self, user: str | None, errors: list[str]) -> web.Response:
        """Slack's answer to a window it would not show; the page says so to the person it was for."""
        if user:
            with self.lock:
                self.refused_views[user] = errors
                self.changed()
        return _error("invalid_arguments", response_metadata={"messages": errors})

    def _m_views_open(self, team: Team, params: dict, push: bool = False) -> web.Response:
        with self.lock:
            user = self.triggers.get(params.get("trigger_id") or "")
        if user is None:
            return _error("expired_trigger_id")
        view = _json(params.get("view"))
        errors = view_errors(view)
        if errors:
            return self._refuse_view(user, errors)
        with self.lock:
            self.refused_views.pop(user, None)
        shown = self.push_view(user, view, replace_all=not push)
        return _ok(view={**view, "id": shown.view_id, "hash": shown.hash, "team_id": TEAM_ID})

    def _m_views_push(self, team: Team, params: dict) -> web.Response:
        return self._m_views_open(team, params, push=True)

    def _m_views_update(self, team: Team, params: dict) -> web.Response:
        shown = self.find_view(params.get("view_id") or "")
        if shown is None and params.get("external_id"):
            with self.lock:
                shown = next((v for s in self.stacks.values() for v in s
                              if v.view.get("external_id") == params["external_id"]), None)
        if shown is None:
            return _error("not_found")
        if params.get("hash") and params["hash"] != shown.hash:
            return _error("hash_conflict")
        view = _json(params.get("view"))
        errors = view_errors(view)
        if errors:
            return self._refuse_view(shown.user, errors)
        self.replace_view(shown, view)
        return _ok(view={**view, "id": shown.view_id, "hash": shown.hash, "team_id": TEAM_ID})

    def _m_views_publish(self, team: Team, params: dict) -> web.Response:
        user = params.get("user_id")
        if not user:
            return _error("invalid_arguments")
        view = _json(params.get("view"))
        errors = view_errors(view)
        if errors:
            return self._refuse_view(user, errors)
        with self.lock:
            home = self.homes.get(user)
            if home is None:
                home = self.homes[user] = OpenView(f"VHOME{user}", user, view, f"h{next(self._ids)}")
            else:
                home.view, home.hash = view, f"h{next(self._ids)}"
            self.changed()
        return _ok(view={**view, "id": home.view_id, "hash": home.hash, "team_id": TEAM_ID})

    def _m_files_completeUploadExternal(self, team: Team, params: dict) -> web.Response:
        answer = super()._m_files_completeUploadExternal(team, params)
        body = json.loads(answer.body)
        channel = params.get("channel_id")
        if body.get("ok") and channel:
            files = [{"id": f["id"], "name": f["name"], "title": f["title"]} for f in body["files"]]
            blocks = None if params.get("initial_comment") else _json(params.get("blocks"))
            self.add(Message(self._next_ts(), self._conversation(channel), BOT_USER,
                             text=params.get("initial_comment") or "", blocks=blocks, files=files,
                             thread_ts=params.get("thread_ts") or None))
        return answer

    async def _download(self, request: web.Request) -> web.Response:
        """A file a person attached, for the bot's token only (anything else gets Slack's sign-in page)."""
        if request.headers.get("Authorization") != f"Bearer {BOT_TOKEN}":
            return web.Response(text="<!DOCTYPE html><html><body>Sign in to Slack</body></html>",
                                content_type="text/html")
        found = self.file(request.match_info["file_id"])
        if found is None:
            return web.Response(status=404, text="file_not_found")
        data, kind, _ = found
        return web.Response(body=data, content_type=kind)

    async def _response_url(self, request: web.Request) -> web.Response:
        """An answer to a command or a click: a new reply (ephemeral unless in_channel), or the message it came
        from replaced or deleted."""
        body = await request.json()
        origin = self.origins_by_rid.get(request.match_info["rid"])
        errors = block_kit_errors(body["blocks"], MESSAGE_BLOCK_LIMIT) if "blocks" in body else []
        if origin is None:
            return web.Response(status=404, text="no_response_url")
        if errors:
            self.add(Message(self._next_ts(), origin.channel, BOT_USER, text=body.get("text", ""),
                             ephemeral_for=origin.user, refused=errors))
            return web.Response(status=400, text="invalid_blocks")
        with self.lock:
            self.responses.append({"rid": request.match_info["rid"], **body})
        source = self.message(origin.channel, origin.message_ts) if origin.message_ts else None
        if source is not None and _true(body.get("delete_original")):
            with self.lock:
                self.messages.remove(source)
                self.changed()
        elif source is not None and _true(body.get("replace_original")):
            with self.lock:
                source.text, source.blocks = body.get("text", ""), body.get("blocks")
                self.changed()
        else:
            in_channel = body.get("response_type") == "in_channel"
            self.add(Message(self._next_ts(), origin.channel, BOT_USER, text=body.get("text", ""),
                             blocks=body.get("blocks"), thread_ts=body.get("thread_ts"),
                             ephemeral_for=None if in_channel else origin.user, answers=origin.command))
        return web.Response(text="ok")


def _json(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return None
    return value


def _made(kind: type, kept: dict) -> Any:
    """A kept dataclass made again; fields added since it was kept take their defaults."""
    names = {f.name for f in fields(kind)}
    return kind(**{k: v for k, v in kept.items() if k in names})


def _true(value: Any) -> bool:
    return value is True or str(value).lower() == "true"


# ---- the other direction: what a person does, sent to the app -------------------------------------------------

class AppLink:
    """Sends what people do on the page to the app's /slack/events, signed as Slack signs, and applies what the
    app answers (a command's reply, a window's response_action)."""

    def __init__(self, slack: SandboxSlack, events_url: str, signing_secret: str):
        self.slack, self.events_url, self.secret = slack, events_url, signing_secret
        self._http: aiohttp.ClientSession | None = None

    async def close(self) -> None:
        if self._http is not None:
            await self._http.close()

    async def _post(self, body: bytes, content_type: str) -> tuple[int, str]:
        if self._http is None:
            self._http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30))
        timestamp = str(int(time.time()))
        base = f"v0:{timestamp}:".encode() + body
        signature = "v0=" + _hmac(self.secret, base)
        headers = {"Content-Type": content_type, "X-Slack-Request-Timestamp": timestamp,
                   "X-Slack-Signature": signature, "User-Agent": "Slackbot 1.0 (+https://api.slack.com/robots)"}
        try:
            async with self._http.post(self.events_url, data=body, headers=headers) as answer:
                return answer.status, await answer.text()
        except (aiohttp.ClientError, TimeoutError) as exc:
            log.warning("The sandbox could not reach Picmim at %s: %s", self.events_url, exc.__class__.__name__)
            return 503, ""

    async def _interaction(self, payload: dict) -> tuple[int, str]:
        return await self._post(urlencode({"payload": json.dumps(payload)}).encode(),
                                "application/x-www-form-urlencoded")

    async def _event(self, event: dict) -> tuple[int, str]:
        body = json.dumps({
            "token": "sandbox", "team_id": TEAM_ID, "api_app_id": "A0PICMIM", "event": event,
            "type": "event_callback", "event_id": f"Ev{time.time_ns()}", "event_time": int(time.time()),
            "authorizations": [{"enterprise_id": None, "team_id": TEAM_ID, "user_id": BOT_USER, "is_bot": True,
                                "is_enterprise_install": False}], "is_ext_shared_channel": False}).encode()
        return await self._post(body, "application/json")

    # ---- messages and commands ------------------------------------------------------------------------------

    async def say(self, user: str, channel: str, text: str, thread_ts: str | None = None) -> None:
        """What a person typed in the message box: a slash command goes to the app; anything else is a message."""
        text = text.strip()
        if not text:
            return
        if text.startswith("/"):
            command, _, rest = text.partition(" ")
            if command != "/picmim":
                self._tell(user, channel, f"{command} is not a command in this workspace. Try /picmim help.")
                return
            await self.command(user, channel, rest.strip())
            return
        self.slack.add(Message(self.slack.next_ts(), channel, user, text=text, thread_ts=thread_ts))

    async def command(self, user: str, channel: str, text: str) -> None:
        who = person(user)
        origin = Origin(user=user, channel=channel, command=text)
        body = urlencode({
            "token": "sandbox", "team_id": TEAM_ID, "team_domain": "acme", "channel_id": channel,
            "channel_name": CHANNELS.get(channel, "directmessage"), "user_id": user, "user_name": who.handle,
            "command": "/picmim", "text": text, "api_app_id": "A0PICMIM", "is_enterprise_install": "false",
            "response_url": self.slack.response_url_for(origin), "trigger_id": self.slack.trigger(user)}).encode()
        status, answer = await self._post(body, "application/x-www-form-urlencoded")
        if status != 200:
            self._tell(user, channel, f"/picmim failed with the error \"dispatch_failed\" (the app answered {status}).")
            return
        reply = _json(answer) if answer.strip().startswith("{") else ({"text": answer} if answer.strip() else None)
        if reply and (reply.get("text") or reply.get("blocks")):
            self.slack.add(Message(self.slack.next_ts(), channel, BOT_USER, text=reply.get("text", ""),
                                   blocks=reply.get("blocks"), answers=text,
                                   ephemeral_for=None if reply.get("response_type") == "in_channel" else user))

    def _tell(self, user: str, channel: str, text: str) -> None:
        """Slackbot's own word to the person (only they see it)."""
        self.slack.add(Message(self.slack.next_ts(), channel, "USLACKBOT", text=text, ephemeral_for=user))

    # ---- clicks and choices ---------------------------------------------------------------------------------

    def _user(self, user: str) -> dict:
        return {"id": user, "username": person(user).handle, "name": person(user).handle, "team_id": TEAM_ID}

    def _view_payload(self, shown: OpenView, values: dict) -> dict:
        view = shown.view
        return {"id": shown.view_id, "team_id": TEAM_ID, "type": view.get("type", "modal"),
                "callback_id": view.get("callback_id", ""), "private_metadata": view.get("private_metadata", ""),
                "external_id": view.get("external_id", ""), "title": view.get("title"), "submit": view.get("submit"),
                "close": view.get("close"), "blocks": view.get("blocks", []), "state": {"values": values},
                "hash": shown.hash, "app_id": "A0PICMIM", "bot_id": "BPICMIM", "root_view_id": shown.view_id,
                "previous_view_id": None, "notify_on_close": bool(view.get("notify_on_close"))}

    async def act(self, user: str, surface: dict, block_id: str, action_id: str, value: Any,
                  sent: dict[tuple[str, str], Any]) -> None:
        """A click or a choice on a message (surface {"channel", "ts"}) or in a window or App Home
        ({"view_id"}): the block_actions Slack sends, with the surface's state."""
        tz = person(user).tz
        payload: dict[str, Any] = {"type": "block_actions", "team": {"id": TEAM_ID, "domain": "acme"},
                                   "user": self._user(user), "api_app_id": "A0PICMIM", "token": "sandbox",
                                   "trigger_id": self.slack.trigger(user), "is_enterprise_install": False}
        if surface.get("view_id"):
            shown = self.slack.find_view(surface["view_id"])
            if shown is None:
                return
            blocks = shown.view.get("blocks", [])
            values = blockkit_html.state_values(blocks, sent, tz, self.slack.file_listing)
            self.slack.keep_state(shown, values)
            payload.update(container={"type": "view", "view_id": shown.view_id},
                           view=self._view_payload(shown, values))
        else:
            found = self.slack.message(surface.get("channel", ""), surface.get("ts", ""))
            if found is None:
                return
            blocks = found.blocks or []
            values = blockkit_html.state_values(blocks, sent, tz, self.slack.file_listing)
            origin = Origin(user=user, channel=found.channel, message_ts=found.ts)
            payload.update(
                container={"type": "message", "message_ts": found.ts, "channel_id": found.channel,
                           "is_ephemeral": found.ephemeral_for is not None},
                channel={"id": found.channel, "name": CHANNELS.get(found.channel, "directmessage")},
                message={"type": "message", "ts": found.ts, "text": found.text, "blocks": blocks,
                         "user": found.user, "thread_ts": found.thread_ts},
                response_url=self.slack.response_url_for(origin), state={"values": values})
        el = next((el for b, el in blockkit_html.elements_of(blocks)
                   if b == block_id and el.get("action_id") == action_id), None)
        if el is None:
            return
        action = {"type": el["type"], "action_id": action_id, "block_id": block_id, "action_ts": str(time.time())}
        if el["type"] == "button":
            action.update(text=el.get("text"), value=el.get("value"))
            if el.get("style"):
                action["style"] = el["style"]
        else:
            action.update(blockkit_html.slack_value(el, value, tz, self.slack.file_listing))
        payload["actions"] = [action]
        await self._interaction(payload)

    async def submit(self, user: str, view_id: str, sent: dict[tuple[str, str], Any]) -> None:
        """The window's submit button: view_submission, then what the app answered (errors beside fields, an
        updated or pushed window, all windows closed, or this one closed)."""
        shown = self.slack.find_view(view_id)
        if shown is None:
            return
        values = blockkit_html.state_values(shown.view.get("blocks", []), sent, person(user).tz,
                                            self.slack.file_listing)
        self.slack.keep_state(shown, values)
        missing = blockkit_html.missing_required(shown.view.get("blocks", []), values)
        if missing:
            self.slack.show_errors(shown, missing)
            return
        payload = {"type": "view_submission", "team": {"id": TEAM_ID, "domain": "acme"}, "user": self._user(user),
                   "api_app_id": "A0PICMIM", "token": "sandbox", "trigger_id": self.slack.trigger(user),
                   "view": self._view_payload(shown, values), "response_urls": [], "is_enterprise_install": False}
        status, answer = await self._interaction(payload)
        if status != 200:
            self.slack.show_errors(shown, {"": f"We had some trouble connecting (the app answered {status})."})
            return
        reply = _json(answer) if answer.strip() else None
        action = (reply or {}).get("response_action")
        if action == "errors":
            self.slack.show_errors(shown, reply.get("errors") or {})
        elif action == "update":
            self._answered_view(shown, reply.get("view"), lambda view: self.slack.replace_view(shown, view))
        elif action == "push":
            self._answered_view(shown, reply.get("view"), lambda view: self.slack.push_view(user, view))
        elif action == "clear":
            self.slack.pop_view(user, everything=True)
        else:
            self.slack.pop_view(user)

    def _answered_view(self, shown: OpenView, view: Any, apply) -> None:
        problems = view_errors(view)
        if problems:
            self.slack.show_errors(shown, {"": "Slack refused the window Picmim answered with: " + "; ".join(problems)})
            return
        apply(view)

    async def close_view(self, user: str, view_id: str) -> None:
        shown = self.slack.find_view(view_id)
        if shown is None:
            return
        self.slack.pop_view(user)
        if shown.view.get("notify_on_close"):
            await self._interaction({"type": "view_closed", "team": {"id": TEAM_ID, "domain": "acme"},
                                     "user": self._user(user), "api_app_id": "A0PICMIM", "token": "sandbox",
                                     "view": self._view_payload(shown, shown.state), "is_cleared": False})

    async def react(self, user: str, channel: str, ts: str, name: str) -> None:
        found = self.slack.message(channel, ts)
        added = self.slack.toggle_reaction(channel, ts, name, user)
        if added is None or found is None:
            return
        await self._event({"type": "reaction_added" if added else "reaction_removed", "user": user,
                           "reaction": name, "item_user": found.user,
                           "item": {"type": "message", "channel": channel, "ts": ts},
                           "event_ts": f"{time.time():.6f}"})

    async def open_home(self, user: str) -> None:
        home = self.slack.homes.get(user)
        event = {"type": "app_home_opened", "user": user, "channel": dm_of(user), "tab": "home",
                 "event_ts": f"{time.time():.6f}"}
        if home is not None:
            event["view"] = self._view_payload(home, home.state)
        await self._event(event)


def _hmac(secret: str, base: bytes) -> str:
    return hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()
