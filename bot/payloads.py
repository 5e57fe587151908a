"""What a button's value or a modal's private_metadata carries, as typed objects, and the one codec that
writes them (views) and reads them back (the request context, once, before any listener runs).

Every reader gets either a well-formed object or None: a forged or outdated value never reaches a service.
"""

from __future__ import annotations

import json
import typing
from dataclasses import dataclass, fields
from enum import Enum
from typing import Any, ClassVar, Self

from bot import ids
from bot.storage.models import Decision


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


class IdRef:
    """One row's id, written as its digits (the oldest and shortest form of a button value)."""

    def encode(self) -> str:
        return str(getattr(self, fields(self)[0].name))

    @classmethod
    def decode(cls, text: Any) -> Self | None:
        text = str(text or "")
        return cls(int(text)) if text.isdigit() and len(text) < 19 else None


class JsonRef:
    """Named fields as a JSON object; each read back only when it has its declared type."""

    def encode(self) -> str:
        return json.dumps({f.name: _plain(getattr(self, f.name)) for f in fields(self)
                           if getattr(self, f.name) is not None})

    @classmethod
    def decode(cls, text: Any) -> Self | None:
        try:
            data = json.loads(text or "{}")
        except (TypeError, ValueError):
            return None
        if not isinstance(data, dict):
            return None
        hints = typing.get_type_hints(cls)
        found: dict[str, Any] = {}
        for f in fields(cls):
            value = _typed(data.get(f.name), hints[f.name])
            if value is None and f.name in cls.required:
                return None
            found[f.name] = value
        return cls(**found)

    required: ClassVar[frozenset[str]] = frozenset()


def _plain(value: Any) -> Any:
    return value.value if isinstance(value, Enum) else value


def _typed(value: Any, hint: Any) -> Any:
    """The value when it is of the field's type (int, str or an Enum, optional or not), else None."""
    kinds = [k for k in typing.get_args(hint) if k is not type(None)] or [hint]
    for kind in kinds:
        if kind is int and _int(value) is not None:
            return value
        if kind is str and isinstance(value, str):
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
                                                   ids.ACCOUNT_MENU_DISCONNECT})

    def encode(self) -> str:
        return f"{self.action}:{self.connection_id}"

    @classmethod
    def decode(cls, text: Any) -> AccountMenuChoice | None:
        action, _, number = str(text or "").partition(":")
        if action not in cls.ACTIONS or not number.isdigit() or len(number) >= 19:
            return None
        return cls(action, int(number))


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
        post_id, _, version = str(text or "").partition(":")
        if not (post_id.isdigit() and version.isdigit()):
            return None
        return cls(int(post_id), int(version))


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
        try:
            data = json.loads(text or "")
        except (TypeError, ValueError):
            return None
        if not isinstance(data, dict) or data.get("d") not in STATS_DAYS or not isinstance(data.get("n"), str):
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
        return cls(text) if isinstance(text, str) and text else None


# ---- modals' private metadata ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ComposeOrigin(JsonRef):
    """Where the compose modal came from and what it edits."""

    channel_id: str | None = None  # where the post's status message goes
    draft_id: int | None = None  # the draft it was opened from
    post_id: int | None = None  # the queued post it edits
    response_url: str | None = None  # the queue listing it was opened from, refreshed after an edit


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


@dataclass(frozen=True)
class DigestOrigin(JsonRef):
    """Where `/picmim digest subscribe` was typed, to confirm there."""

    response_url: str | None = None
    channel: str | None = None


@dataclass(frozen=True)
class BlueskyOrigin(JsonRef):
    channel_id: str | None = None


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
}


def subject_of(body: dict) -> Any:
    """The typed object behind a request's button value or modal metadata; None when there is none or it is
    malformed."""
    if not isinstance(body, dict):
        return None
    kind = body.get("type")
    view = body.get("view") if isinstance(body.get("view"), dict) else {}
    if kind == "block_actions":
        actions = body.get("actions")
        action = actions[0] if isinstance(actions, list) and actions and isinstance(actions[0], dict) else {}
        reader = BY_ACTION.get(action.get("action_id"))
        if reader:
            if "value" not in action and isinstance(action.get("selected_option"), dict):  # an overflow menu
                return reader.decode(action["selected_option"].get("value"))
            return reader.decode(action.get("value"))
        # An input inside a modal that brings the modal up to date: the modal's own metadata.
        reader = BY_VIEW.get(view.get("callback_id"))
        return reader.decode(view.get("private_metadata")) if reader else None
    if kind in ("view_submission", "view_closed"):
        reader = BY_VIEW.get(view.get("callback_id"))
        return reader.decode(view.get("private_metadata")) if reader else None
    return None
