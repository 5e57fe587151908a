"""What a button's value or a modal's private_metadata carries, as typed objects, and the one codec that
writes them (views) and reads them back (the request context, once, before any listener runs).

Every reader gets either a well-formed object or None: a forged or outdated value never reaches a service.
"""

from __future__ import annotations

import json
import re
import typing
from collections.abc import Callable
from dataclasses import dataclass, fields
from datetime import date
from enum import Enum
from typing import Any, ClassVar, Self

from bot import ids
from bot.storage.models import Decision

# Row ids and versions are INTEGER columns: PostgreSQL refuses a larger number outright (it does not just find
# no row), so a larger one is forged.
MAX_ID = 2**31 - 1
_DIGITS = re.compile(r"[0-9]{1,10}")  # ASCII only: "²".isdigit() is True, and int("²") fails
# Slack's ids (team, user, channel…) and message timestamps: short ASCII, kept in 32-character columns.
_SLACK_ID = re.compile(r"[A-Za-z0-9._-]{1,32}")
# Text Slack never sends and neither database stores: NUL (PostgreSQL refuses it) and lone surrogates (not UTF-8).
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
_URL = re.compile(r"https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?(/[!-~]*)?")


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= MAX_ID else None


def whole_id(text: Any) -> int | None:
    """A row id written as digits (a button value, an option's value), or None."""
    if not isinstance(text, str) or not _DIGITS.fullmatch(text):
        return None
    return _int(int(text))


def is_slack_id(value: Any) -> bool:
    return isinstance(value, str) and bool(_SLACK_ID.fullmatch(value))


def is_url(value: Any) -> bool:
    """An http(s) address Slack gave to answer at (a response_url): anything else is never called."""
    return isinstance(value, str) and len(value) <= 2000 and bool(_URL.fullmatch(value))


def storable(text: str) -> str:
    """`text` without what no database keeps (NUL, lone surrogates): a person's words are kept, not refused."""
    return _UNSTORABLE.sub("", text) if _UNSTORABLE.search(text) else text


class IdRef:
    """One row's id, written as its digits (the oldest and shortest form of a button value)."""

    def encode(self) -> str:
        return str(getattr(self, fields(self)[0].name))

    @classmethod
    def decode(cls, text: Any) -> Self | None:
        row_id = whole_id(text)
        return cls(row_id) if row_id is not None else None


class JsonRef:
    """Named fields as a JSON object; each read back only when it has its declared type."""

    def encode(self) -> str:
        return json.dumps({f.name: _plain(getattr(self, f.name)) for f in fields(self)
                           if getattr(self, f.name) is not None})

    @classmethod
    def decode(cls, text: Any) -> Self | None:
        data = _json_object(text or "{}")
        if data is None:
            return None
        hints = typing.get_type_hints(cls)
        found: dict[str, Any] = {}
        for f in fields(cls):
            value = _typed(data.get(f.name), hints[f.name])
            check = cls.checks.get(f.name)
            if value is not None and check is not None and not check(value):
                value = None
            if value is None and f.name in cls.required:
                return None
            found[f.name] = value
        return cls(**found)

    required: ClassVar[frozenset[str]] = frozenset()
    # A str field's own check (a channel id, a response_url): a value that fails it is dropped.
    checks: ClassVar[dict[str, Callable[[Any], bool]]] = {}


def _json_object(text: Any) -> dict | None:
    """A JSON object, or None (not text, not JSON, not an object, or nested deeper than Python reads)."""
    if not isinstance(text, str):
        return None
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        return None
    return data if isinstance(data, dict) else None


def _plain(value: Any) -> Any:
    return value.value if isinstance(value, Enum) else value


def _typed(value: Any, hint: Any) -> Any:
    """The value when it is of the field's type (int, str or an Enum, optional or not), else None."""
    kinds = [k for k in typing.get_args(hint) if k is not type(None)] or [hint]
    for kind in kinds:
        if kind is int and _int(value) is not None:
            return value
        if kind is str and isinstance(value, str) and not _UNSTORABLE.search(value):
            return value
        if isinstance(kind, type) and issubclass(kind, Enum):
            try:
                return kind(value)
            except ValueError:
                return None
    return None


# ---- button values ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PostRef(IdRef):
    post_id: int


@dataclass(frozen=True)
class TargetRef(IdRef):
    """One platform's part of a post (Retry, "It is live")."""

    target_id: int


@dataclass(frozen=True)
class ConnectionRef(IdRef):
    connection_id: int


@dataclass(frozen=True)
class AccountMenuChoice:
    """An account row's overflow option: what to do and to which connection, written "<action>:<id>"."""

    action: str  # ids.ACCOUNT_MENU_REFRESH | ACCOUNT_MENU_RECONNECT | ACCOUNT_MENU_DISCONNECT
    connection_id: int

    ACTIONS: ClassVar[frozenset[str]] = frozenset({ids.ACCOUNT_MENU_REFRESH, ids.ACCOUNT_MENU_RECONNECT,
                                                   ids.ACCOUNT_MENU_DISCONNECT, ids.ACCOUNT_MENU_SLOTS})

    def encode(self) -> str:
        return f"{self.action}:{self.connection_id}"

    @classmethod
    def decode(cls, text: Any) -> AccountMenuChoice | None:
        action, _, number = text.partition(":") if isinstance(text, str) else ("", "", "")
        connection_id = whole_id(number)
        if action not in cls.ACTIONS or connection_id is None:
            return None
        return cls(action, connection_id)


@dataclass(frozen=True)
class SubscriptionRef(IdRef):
    subscription_id: int


@dataclass(frozen=True)
class StateRef(IdRef):
    """The OAuth state whose accounts are being chosen."""

    state_id: int


@dataclass(frozen=True)
class CardRef:
    """A review card's button: the post and the version the card showed, written "post:version"."""

    post_id: int
    version: int

    def encode(self) -> str:
        return f"{self.post_id}:{self.version}"

    @classmethod
    def decode(cls, text: Any) -> CardRef | None:
        post_id, _, version = text.partition(":") if isinstance(text, str) else ("", "", "")
        post_id, version = whole_id(post_id), whole_id(version)
        if post_id is None or version is None:
            return None
        return cls(post_id, version)


STATS_DAYS = (7, 30)


@dataclass(frozen=True)
class ShareRequest:
    """Share in channel: what to report on (one post's target, or accounts: None for all), the period, and
    the button's one-time nonce. Written short (`d`, `n`, `t` | `a`): a button value holds 2,000 characters."""

    days: int
    nonce: str
    target_id: int | None = None
    account_ids: tuple[int, ...] | None = None

    def encode(self) -> str:
        what = {"t": self.target_id} if self.target_id is not None else {
            "a": list(self.account_ids) if self.account_ids is not None else None}
        return json.dumps({"d": self.days, "n": self.nonce, **what})

    @classmethod
    def decode(cls, text: Any) -> ShareRequest | None:
        data = _json_object(text)
        if data is None or data.get("d") not in STATS_DAYS or not isinstance(data.get("n"), str) \
                or isinstance(data["d"], bool) or not data["n"] or _UNSTORABLE.search(data["n"]):
            return None
        days, nonce = data["d"], data["n"][:64]
        if "t" in data:
            return cls(days, nonce, target_id=data["t"]) if _int(data["t"]) is not None else None
        accounts = data.get("a")  # None: every account
        if accounts is None:
            return cls(days, nonce)
        if isinstance(accounts, list) and all(_int(i) is not None for i in accounts):
            return cls(days, nonce, account_ids=tuple(accounts))
        return None


@dataclass(frozen=True)
class PlatformRef:
    """A platform's key (a Connect button in the platform list)."""

    key: str

    def encode(self) -> str:
        return self.key

    @classmethod
    def decode(cls, text: Any) -> PlatformRef | None:
        return cls(text) if isinstance(text, str) and re.fullmatch(r"[a-z-]{1,32}", text) else None


# ---- modals' private metadata ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ComposeOrigin(JsonRef):
    """Where the compose modal came from and what it edits."""

    channel_id: str | None = None  # where the post's status message goes
    draft_id: int | None = None  # the draft it was opened from
    post_id: int | None = None  # the queued post it edits
    response_url: str | None = None  # the queue listing it was opened from, refreshed after an edit
    series_id: int | None = None  # the series it edits (its waiting occurrences are made again from it)
    checks: ClassVar[dict[str, Callable[[Any], bool]]] = {"channel_id": is_slack_id, "response_url": is_url}


@dataclass(frozen=True)
class ReviewComment(JsonRef):
    """The comment modal of Request changes / Reject."""

    post_id: int
    version: int
    decision: Decision
    required: ClassVar[frozenset[str]] = frozenset({"post_id", "version", "decision"})


@dataclass(frozen=True)
class RescheduleOrigin(JsonRef):
    post_id: int | None = None
    response_url: str | None = None  # the queue listing to refresh
    home_week: str | None = None  # opened from Home: the calendar it showed (a HomeWeek), published again after
    checks: ClassVar[dict[str, Callable[[Any], bool]]] = {
        "response_url": is_url, "home_week": lambda text: HomeWeek.decode(text) is not None}

    @property
    def home(self) -> HomeWeek | None:
        return HomeWeek.decode(self.home_week) if self.home_week else None


@dataclass(frozen=True)
class DigestOrigin(JsonRef):
    """Where `/picmim digest subscribe` was typed, to confirm there."""

    response_url: str | None = None
    channel: str | None = None
    checks: ClassVar[dict[str, Callable[[Any], bool]]] = {"channel": is_slack_id, "response_url": is_url}


@dataclass(frozen=True)
class BlueskyOrigin(JsonRef):
    channel_id: str | None = None
    checks: ClassVar[dict[str, Callable[[Any], bool]]] = {"channel_id": is_slack_id}


@dataclass(frozen=True)
class ReviewShare(JsonRef):
    """The Share for review modal: the post and the version the card showed, and the card's channel."""

    post_id: int
    version: int
    channel_id: str | None = None
    required: ClassVar[frozenset[str]] = frozenset({"post_id", "version"})


AUDIT_DAYS = (7, 30)


@dataclass(frozen=True)
class AuditExport:
    """Export CSV under `/picmim audit`: what was asked about (the command's words) and the period."""

    query: str
    days: int

    def encode(self) -> str:
        return json.dumps({"q": self.query[:500], "d": self.days})

    @classmethod
    def decode(cls, text: Any) -> AuditExport | None:
        try:
            data = json.loads(text or "")
        except (TypeError, ValueError):
            return None
        if not isinstance(data, dict) or data.get("d") not in AUDIT_DAYS or not isinstance(data.get("q"), str):
            return None
        return cls(data["q"], data["d"])


@dataclass(frozen=True)
class RolesOrigin(JsonRef):
    """The `/picmim roles` window: whose pickers it shows ("a<account id>" or "g<group id>")."""

    scope: str | None = None


@dataclass(frozen=True)
class GroupOrigin(JsonRef):
    """An account group's window: the group it edits (none: a new one)."""

    group_id: int | None = None


@dataclass(frozen=True)
class GroupRef(IdRef):
    group_id: int


_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def _is_date(text: Any) -> bool:
    if not isinstance(text, str) or not _DATE.fullmatch(text):
        return False
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return True


@dataclass(frozen=True)
class HomeWeek(JsonRef):
    """Home's calendar: the week's first day (ISO, in the viewer's zone; none: from today) and the account it is
    filtered to (none: all). A select option's value holds 150 characters: this takes under 60."""

    week_start: str | None = None
    account_id: int | None = None
    checks: ClassVar[dict[str, Callable[[Any], bool]]] = {"week_start": _is_date}

    @property
    def first_day(self) -> date | None:
        return date.fromisoformat(self.week_start) if self.week_start else None


@dataclass(frozen=True)
class HomePost(JsonRef):
    """A post's details opened from Home's calendar, and the week and account Home showed (shown again after a
    change made here)."""

    post_id: int | None = None
    week_start: str | None = None
    account_id: int | None = None
    checks: ClassVar[dict[str, Callable[[Any], bool]]] = {"week_start": _is_date}

    @property
    def week(self) -> HomeWeek:
        return HomeWeek(self.week_start, self.account_id)


# What each action_id's value and each callback_id's metadata hold.
BY_ACTION: dict[str, type] = {
    ids.POST_RETRY: TargetRef,
    ids.POST_MARK_PUBLISHED: TargetRef,
    ids.POST_EDIT: PostRef,
    ids.POST_CANCEL: PostRef,
    ids.DRAFT_OPEN: PostRef,
    ids.QUEUE_PUBLISH_NOW: PostRef,
    ids.QUEUE_RESCHEDULE: PostRef,
    ids.QUEUE_CANCEL: PostRef,
    ids.QUEUE_EDIT: PostRef,
    ids.QUEUE_SKIP: PostRef,
    ids.QUEUE_EDIT_SERIES: PostRef,
    ids.QUEUE_STOP_SERIES: PostRef,
    ids.REVIEW_APPROVE: CardRef,
    ids.REVIEW_REQUEST_CHANGES: CardRef,
    ids.REVIEW_REJECT: CardRef,
    ids.REVIEW_EDIT: CardRef,
    ids.REVIEW_SHARE: CardRef,
    ids.REVIEW_REVOKE_LINKS: CardRef,
    ids.AUDIT_EXPORT: AuditExport,
    ids.STATS_SHARE: ShareRequest,
    ids.DIGEST_UNSUBSCRIBE: SubscriptionRef,
    ids.ACCOUNT_REFRESH: ConnectionRef,
    ids.ACCOUNT_RECONNECT: ConnectionRef,
    ids.ACCOUNT_DISCONNECT: ConnectionRef,
    ids.ACCOUNT_MENU: AccountMenuChoice,  # an overflow: its value is the chosen option's
    ids.CHOOSE_ACCOUNTS_SAVE: StateRef,
    ids.CONNECT_PLATFORM: PlatformRef,
    ids.ROLES_GROUP_EDIT: GroupRef,
    ids.HOME_WEEK_PREVIOUS: HomeWeek,
    ids.HOME_WEEK_NEXT: HomeWeek,
    ids.HOME_WEEK_THIS: HomeWeek,
    ids.HOME_ACCOUNT_FILTER: HomeWeek,  # a static select: its value is the chosen option's
    ids.HOME_POST_OPEN: PostRef,
}
BY_VIEW: dict[str, type] = {
    ids.COMPOSE_VIEW: ComposeOrigin,
    ids.REVIEW_COMMENT_VIEW: ReviewComment,
    ids.QUEUE_RESCHEDULE_VIEW: RescheduleOrigin,
    ids.DIGEST_SUBSCRIBE_VIEW: DigestOrigin,
    ids.BLUESKY_HANDLE_VIEW: BlueskyOrigin,
    ids.REVIEW_SHARE_VIEW: ReviewShare,
    ids.ROLES_VIEW: RolesOrigin,
    ids.GROUP_VIEW: GroupOrigin,
    ids.HOME_POST_VIEW: HomePost,
}


def subject_of(body: dict) -> Any:
    """The typed object behind a request's button value or modal metadata; None when there is none or it is
    malformed."""
    if not isinstance(body, dict):
        return None
    kind = body.get("type")
    view = body.get("view") if isinstance(body.get("view"), dict) else {}
    callback_id = view.get("callback_id") if isinstance(view.get("callback_id"), str) else None
    if kind == "block_actions":
        actions = body.get("actions")
        action = actions[0] if isinstance(actions, list) and actions and isinstance(actions[0], dict) else {}
        action_id = action.get("action_id")
        reader = BY_ACTION.get(action_id) if isinstance(action_id, str) else None
        if reader:
            if "value" not in action and isinstance(action.get("selected_option"), dict):  # an overflow menu
                return reader.decode(action["selected_option"].get("value"))
            return reader.decode(action.get("value"))
        # An input inside a modal that brings the modal up to date: the modal's own metadata.
        reader = BY_VIEW.get(callback_id) if callback_id else None
        return reader.decode(view.get("private_metadata")) if reader else None
    if kind in ("view_submission", "view_closed"):
        reader = BY_VIEW.get(callback_id) if callback_id else None
        return reader.decode(view.get("private_metadata")) if reader else None
    return None


# ---- the request itself ----------------------------------------------------------------------------------------
#
# What bolt and the request context read of every request before a listener runs (team, user, channel, the action,
# the modal, the event), and what listeners take as given. A signed request whose envelope is not of these shapes is
# refused with a 400 before bolt sees it (bolt would fail on it with a 500); the fields inside (a modal's inputs, a
# button's value) are read by their own readers, which turn a wrong one into None or an inline error.

_ID, _KEY, _URL_SHAPE, _FLAG = "slack id", "key", "url", "flag"
_USER = (_ID, {"id": _ID, "team_id": _ID})  # an event's user: an id, or (user_change…) the user
_CHANNEL = (_ID, {"id": _ID})
_MESSAGE = {"ts": _ID, "thread_ts": _ID, "user": _USER, "text": str, "type": str}
_VALUES = {"*": {"*": {}}}  # block_id -> action_id -> the input's state (each read by bot/handlers/forms.py)
_VIEW = {"id": _ID, "hash": _KEY, "callback_id": _KEY, "private_metadata": str, "type": str, "team_id": _ID,
         "app_installed_team_id": _ID, "root_view_id": _ID, "previous_view_id": _ID, "state": {"values": _VALUES},
         "blocks": [{"block_id": _KEY, "type": str}]}
_ACTION = {"action_id": _KEY, "block_id": _KEY, "type": str, "value": str, "action_ts": _KEY,
           "selected_option": {"value": str}, "selected_options": [{"value": str}]}
_EVENT = {"type": str, "user": _USER, "user_id": _ID, "channel": _CHANNEL, "channel_id": _ID, "tab": str,
          "reaction": str, "event_ts": _ID, "ts": _ID, "thread_ts": _ID, "text": str,
          "item": {"type": str, "channel": _ID, "ts": _ID}, "message": _MESSAGE, "previous_message": _MESSAGE}
ENVELOPE = {
    # An interaction's team, user and channel are objects (listeners read their "id"); a command's are *_id fields.
    "type": str, "token": str, "team": {"id": _ID, "enterprise_id": _ID}, "enterprise": (_ID, {"id": _ID}),
    "user": {"id": _ID, "team_id": _ID}, "channel": {"id": _ID},
    "team_id": _ID, "enterprise_id": _ID, "user_id": _ID, "channel_id": _ID, "api_app_id": _ID, "trigger_id": _KEY,
    "callback_id": _KEY, "event_id": _KEY, "action_ts": _KEY, "message_ts": _ID, "thread_ts": _ID,
    "response_url": _URL_SHAPE, "response_urls": [{"response_url": _URL_SHAPE, "channel_id": _ID}],
    "is_enterprise_install": _FLAG,
    "authorizations": [{"team_id": _ID, "enterprise_id": _ID, "user_id": _ID, "is_enterprise_install": _FLAG}],
    "container": {"type": str, "view_id": _ID, "channel_id": _ID, "message_ts": _ID},
    "view": _VIEW, "actions": [_ACTION], "message": _MESSAGE, "state": {"values": _VALUES}, "event": _EVENT,
    "challenge": str, "command": str, "text": str, "function_data": {}, "assistant_thread": {},
    "action_id": _KEY, "block_id": _KEY, "value": str,  # an options load (block_suggestion)
    "workflow_step": {},
}
NOT_NULL = ("view", "event", "actions")  # bolt reads them as soon as they are there, null or not
# What each kind of request cannot do without (Slack always sends them).
REQUIRED = {
    "command": ("command", "team_id", "user_id", "channel_id", "response_url", "trigger_id"),
    "block_actions": ("actions", "user", "trigger_id"),
    "view_submission": ("view", "user"),
    "view_closed": ("view", "user"),
    "shortcut": ("user", "trigger_id"),
    "message_action": ("user", "trigger_id", "response_url"),
    "block_suggestion": ("user",),
    "event_callback": ("event", "team_id"),
    "url_verification": ("challenge",),
    # Kinds Picmim has no listener for, which bolt still looks into before it says so.
    "interactive_message": ("actions",),
    "workflow_step_edit": ("workflow_step",),
}


def envelope_problem(body: Any) -> str | None:
    """Why a signed request's parsed body is not what Slack sends (a short reason for the 400), or None."""
    if not isinstance(body, dict):
        return "the payload is not an object"
    kind = "command" if "command" in body and "type" not in body else body.get("type")
    problem = _shape_problem(body, ENVELOPE, "")
    if problem:
        return problem
    for name in NOT_NULL:
        if name in body and body[name] is None:
            return f"{name} is null"
    for name in REQUIRED.get(kind, ()):
        if body.get(name) in (None, "", []):
            return f"{kind} without {name}"
    if kind in REQUIRED and kind != "url_verification" and not is_slack_id(_team_id(body)):
        return f"{kind} without a team"
    if "user" in REQUIRED.get(kind, ()) and not is_slack_id(body["user"].get("id")):
        return f"{kind} without a user id"
    if kind == "block_actions" and isinstance(body.get("container"), dict) \
            and body["container"].get("type") == "message" and not body.get("response_url"):
        return "block_actions in a message without response_url"
    if kind == "event_callback" and not isinstance(body["event"].get("type"), str):
        return "event without type"
    if kind in ("view_submission", "view_closed") and not isinstance(body["view"].get("type"), str):
        return "view without type"
    if kind == "view_submission" and body["view"]["type"] == "workflow_step" and not body.get("workflow_step"):
        return "workflow_step view without workflow_step"
    if kind == "block_actions" and not all(isinstance(a.get("action_id"), str) for a in body["actions"]):
        return "an action without action_id"
    return None


def _team_id(body: dict) -> Any:
    """The team bolt takes the request to be from (slack_bolt.request.internals.extract_team_id's order)."""
    view, team, authorizations = body.get("view") or {}, body.get("team"), body.get("authorizations")
    if view.get("app_installed_team_id"):
        return view["app_installed_team_id"]
    if team:
        return team.get("id")
    if authorizations:
        return authorizations[0].get("team_id")
    if "team_id" in body:
        return body["team_id"]
    user = body.get("user")
    return (user.get("team_id") if isinstance(user, dict) else None) or view.get("team_id")


def _shape_problem(value: Any, shape: Any, path: str) -> str | None:
    if value is None:  # Slack sends null for what is not there
        return None
    if isinstance(shape, tuple):  # one of several shapes
        found = [_shape_problem(value, one, path) for one in shape]
        return None if None in found else found[-1]
    if isinstance(shape, dict):
        if not isinstance(value, dict):
            return f"{path or 'payload'} is not an object"
        every = shape.get("*")
        for key, inner in value.items():
            inner_shape = every if every is not None else shape.get(key)
            if inner_shape is not None and (problem := _shape_problem(inner, inner_shape, f"{path}.{key}")):
                return problem
        return None
    if isinstance(shape, list):
        if not isinstance(value, list):
            return f"{path} is not a list"
        for n, inner in enumerate(value):
            if inner is None:
                return f"{path}[{n}] is null"
            if problem := _shape_problem(inner, shape[0], f"{path}[{n}]"):
                return problem
        return None
    if shape is str:
        return None if isinstance(value, str) else f"{path} is not text"
    if shape == _FLAG:
        return None if value in (True, False, "true", "false") else f"{path} is not true or false"
    if shape == _ID:
        return None if is_slack_id(value) else f"{path} is not a Slack id"
    if shape == _URL_SHAPE:
        return None if is_url(value) else f"{path} is not an http(s) address"
    # _KEY: an id of our own or Slack's (action, block, callback, trigger, view hash): short printable text
    return None if isinstance(value, str) and len(value) <= 255 and value.isprintable() \
        and not _UNSTORABLE.search(value) else f"{path} is not a valid id"
