"""The core model of DESIGN.md as SQLAlchemy 2 typed ORM classes.

Times are stored in UTC (`UTCDateTime` gives back aware datetimes on SQLite and PostgreSQL alike).
Token columns use `EncryptedSecret`: ciphertext in the database, a `Secret` in Python.
"""

from __future__ import annotations

import enum
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    inspect,
)
from sqlalchemy import Enum as SAEnum
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

from bot.secret import Secret
from bot.storage.crypto import EncryptedSecret, EncryptedText


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator):
    """Aware UTC datetimes in, aware UTC datetimes out, whatever the database keeps."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def str_enum(cls: type[enum.Enum]) -> SAEnum:
    # Stored as plain strings (no native enum, no CHECK) so adding a state is a code change only.
    return SAEnum(cls, native_enum=False, create_constraint=False, length=32,
                  values_callable=lambda e: [m.value for m in e])


class Base(DeclarativeBase):
    type_annotation_map = {datetime: UTCDateTime, dict[str, Any]: JSON, list[Any]: JSON}

    def __repr__(self) -> str:
        # Never print token columns, whatever a caller logs.
        mapper = inspect(type(self))
        shown = []
        for column in mapper.columns:
            if isinstance(column.type, EncryptedText):
                continue
            if column.key in ("id", "platform", "status", "team_id", "name", "external_id", "state_hash"):
                shown.append(f"{column.key}={getattr(self, column.key, None)!r}")
        return f"{type(self).__name__}({', '.join(shown)})"


class ConnectionStatus(enum.StrEnum):
    ACTIVE = "active"
    EXPIRING = "expiring"
    EXPIRED = "expired"
    REVOKED = "revoked"
    ERROR = "error"


class PostStatus(enum.StrEnum):
    DRAFT = "draft"
    PENDING_APPROVAL = "pending_approval"
    APPROVED = "approved"
    REJECTED = "rejected"
    SCHEDULED = "scheduled"
    PUBLISHING = "publishing"
    PUBLISHED = "published"
    FAILED = "failed"
    CANCELLED = "cancelled"
    EXPIRED = "expired"


class TargetStatus(enum.StrEnum):
    PENDING = "pending"          # waiting for its post to be scheduled
    SCHEDULED = "scheduled"      # due at the post's time
    HELD = "held"                # its connection is broken; waits for a reconnect
    PUBLISHING = "publishing"    # claimed with a lease, platform call under way
    PUBLISHED = "published"
    FAILED = "failed"
    UNCONFIRMED = "unconfirmed"  # outcome unknown: checked at the platform or confirmed by a person
    CANCELLED = "cancelled"


class Decision(enum.StrEnum):
    APPROVE = "approve"
    REJECT = "reject"
    REQUEST_CHANGES = "request_changes"
    WITHDRAW = "withdraw"


class Workspace(Base):
    """A Slack team and its settings."""

    __tablename__ = "workspaces"

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32), unique=True)
    enterprise_id: Mapped[str | None] = mapped_column(String(32))
    name: Mapped[str | None] = mapped_column(String(255))
    installed_at: Mapped[datetime] = mapped_column(default=utcnow)
    uninstalled_at: Mapped[datetime | None]
    alerts_channel_id: Mapped[str | None] = mapped_column(String(32))
    approval_channel_id: Mapped[str | None] = mapped_column(String(32))
    approval_required: Mapped[bool] = mapped_column(Boolean, default=False)
    approver_user_ids: Mapped[list[Any]] = mapped_column(default=list)
    approver_usergroup_id: Mapped[str | None] = mapped_column(String(32))
    approvals_needed: Mapped[int] = mapped_column(Integer, default=1)
    allow_self_approval: Mapped[bool] = mapped_column(Boolean, default=False)
    approve_reaction: Mapped[str] = mapped_column(String(64), default="white_check_mark")
    reject_reaction: Mapped[str] = mapped_column(String(64), default="x")
    # Who may connect, reconnect and disconnect accounts: members | admins | list
    managers_policy: Mapped[str] = mapped_column(String(16), default="members")
    manager_user_ids: Mapped[list[Any]] = mapped_column(default=list)
    expiry_warning_days: Mapped[list[Any]] = mapped_column(default=lambda: [7, 1])
    default_timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    # Picmim admins besides Slack's workspace admins and owners (bot/services/roles.py), set in `/picmim roles`.
    admin_user_ids: Mapped[list[Any]] = mapped_column(default=list, server_default="[]")
    admin_usergroup_id: Mapped[str | None] = mapped_column(String(32))
    # Hours after a post goes live that Picmim replies in its thread with its figures (none: no follow-ups).
    followup_hours: Mapped[list[Any]] = mapped_column(default=lambda: [24, 168], server_default="[24, 168]")
    # Approval reminders and expiry (bot/services/approval_reminders.py), set in `/picmim settings`: hours between
    # reminders to the approvers, how many at most, and the minutes a post may wait past its time before it expires.
    approval_reminder_hours: Mapped[int] = mapped_column(Integer, default=4, server_default="4")
    approval_reminders_max: Mapped[int] = mapped_column(Integer, default=2, server_default="2")
    approval_grace_minutes: Mapped[int] = mapped_column(Integer, default=60, server_default="60")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Connection(Base):
    """One OAuth grant on one platform."""

    __tablename__ = "connections"
    __table_args__ = (UniqueConstraint("workspace_id", "platform", "external_user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"), index=True)
    platform: Mapped[str] = mapped_column(String(32))
    external_user_id: Mapped[str] = mapped_column(String(255))
    display_name: Mapped[str | None] = mapped_column(String(255))
    access_token: Mapped[Secret | None] = mapped_column(EncryptedSecret)
    refresh_token: Mapped[Secret | None] = mapped_column(EncryptedSecret)
    # Platform-specific secrets (e.g. Bluesky's DPoP key), as encrypted JSON.
    secret_extra: Mapped[Secret | None] = mapped_column(EncryptedSecret)
    token_expires_at: Mapped[datetime | None]
    refresh_expires_at: Mapped[datetime | None]
    scopes: Mapped[list[Any]] = mapped_column(default=list)
    status: Mapped[ConnectionStatus] = mapped_column(str_enum(ConnectionStatus), default=ConnectionStatus.ACTIVE)
    status_cause: Mapped[str | None] = mapped_column(String(64))
    last_sync_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    refresh_lease_until: Mapped[datetime | None]  # serializes refreshes (rotating refresh tokens)
    # Token health (bot/services/token_health.py): when the next check at the platform is due, passing
    # failures in a row (for backing off), and a lease so one process at a time looks after it.
    next_check_at: Mapped[datetime | None]
    check_failures: Mapped[int] = mapped_column(Integer, default=0)
    health_lease_until: Mapped[datetime | None]
    connected_by: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    accounts: Mapped[list[Account]] = relationship(back_populates="connection")


class Account(Base):
    """A place to publish (page, profile, company page, board, channel) reached through a connection."""

    __tablename__ = "accounts"
    __table_args__ = (UniqueConstraint("workspace_id", "platform", "external_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"), index=True)
    # Kept when the connection goes, so posts and history survive a disconnect or reconnect.
    connection_id: Mapped[int | None] = mapped_column(ForeignKey("connections.id", ondelete="SET NULL"),
                                                      index=True)
    platform: Mapped[str] = mapped_column(String(32))
    external_id: Mapped[str] = mapped_column(String(255))
    kind: Mapped[str] = mapped_column(String(32))  # page, profile, company, business, creator, channel…
    name: Mapped[str] = mapped_column(String(255))
    handle: Mapped[str | None] = mapped_column(String(255))
    avatar_url: Mapped[str | None] = mapped_column(Text)
    followers_count: Mapped[int | None]
    access_token: Mapped[Secret | None] = mapped_column(EncryptedSecret)  # e.g. a Facebook Page token
    settings: Mapped[dict[str, Any]] = mapped_column(default=dict)  # e.g. Pinterest default board
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Metric sync (bot/services/metric_sync.py): last success, when next due, a lease that also holds off
    # retries the platform asked for (rate limits), and the last problem in words.
    metrics_synced_at: Mapped[datetime | None]
    metrics_due_at: Mapped[datetime | None]
    metrics_claimed_until: Mapped[datetime | None]
    metrics_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    connection: Mapped[Connection | None] = relationship(back_populates="accounts")


class AccountGroup(Base):
    """A named set of accounts (a brand, a client) with its own approvers, approval channel and digest channel."""

    __tablename__ = "account_groups"
    __table_args__ = (UniqueConstraint("workspace_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(80))
    approver_user_ids: Mapped[list[Any]] = mapped_column(default=list)
    approver_usergroup_id: Mapped[str | None] = mapped_column(String(32))
    approval_channel_id: Mapped[str | None] = mapped_column(String(32))
    digest_channel_id: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class AccountGroupMember(Base):
    """An account's group: at most one per account (its primary key), so its approvers are never ambiguous."""

    __tablename__ = "account_group_members"

    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("account_groups.id", ondelete="CASCADE"), index=True)


class RoleGrant(Base):
    """Who holds one role (publisher, contributor, viewer) on one account or one account group: people and/or
    the members of a Slack user group. An account or group without any grant keeps the default: everyone
    publishes to it."""

    __tablename__ = "role_grants"
    __table_args__ = (UniqueConstraint("workspace_id", "account_id", "group_id", "role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"), index=True)
    # Exactly one of the two is set.
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    group_id: Mapped[int | None] = mapped_column(ForeignKey("account_groups.id", ondelete="CASCADE"))
    role: Mapped[str] = mapped_column(String(16))  # publisher | contributor | viewer
    user_ids: Mapped[list[Any]] = mapped_column(default=list)
    usergroup_id: Mapped[str | None] = mapped_column(String(32))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class MediaItem(Base):
    """An attachment, stored once by content hash, with what inspection found."""

    __tablename__ = "media_items"
    __table_args__ = (UniqueConstraint("workspace_id", "sha256"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    sha256: Mapped[str] = mapped_column(String(64))
    filename: Mapped[str] = mapped_column(String(255))
    mimetype: Mapped[str] = mapped_column(String(100))
    size_bytes: Mapped[int]
    width: Mapped[int | None]
    height: Mapped[int | None]
    duration_ms: Mapped[int | None]
    facts: Mapped[dict[str, Any]] = mapped_column(default=dict)
    path: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class RenditionStatus(enum.StrEnum):
    PENDING = "pending"  # waiting for a process to make it
    WORKING = "working"  # being made (under a lease)
    READY = "ready"      # its file is on disk
    FAILED = "failed"    # could not be made; `error` says why


class MediaRendition(Base):
    """A copy of a video that fits one set of platform rules (bot.media.video.Rendition, named by its key), made in
    the background and shared by every post and platform that needs the same one."""

    __tablename__ = "media_renditions"
    __table_args__ = (UniqueConstraint("media_id", "key"),
                      Index("ix_media_renditions_due", "status", "lease_expires_at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    media_id: Mapped[int] = mapped_column(ForeignKey("media_items.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(16))
    spec: Mapped[dict[str, Any]] = mapped_column(default=dict)  # the Rendition, as bot.media.video reads it back
    status: Mapped[RenditionStatus] = mapped_column(str_enum(RenditionStatus), default=RenditionStatus.PENDING)
    progress: Mapped[float] = mapped_column(Float, default=0.0)  # 0…1 while working
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    lease_owner: Mapped[str | None] = mapped_column(String(64))
    lease_expires_at: Mapped[datetime | None]
    facts: Mapped[dict[str, Any]] = mapped_column(default=dict)  # what the made file is (size, codecs…)
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    finished_at: Mapped[datetime | None]


class Post(Base):
    __tablename__ = "posts"
    __table_args__ = (Index("ix_posts_workspace_status", "workspace_id", "status"),
                      # every reaction in the bot's channels is matched against review cards
                      Index("ix_posts_review", "review_channel_id", "review_ts"),
                      # a series' occurrence is made once, whichever process tops the series up first
                      UniqueConstraint("series_id", "series_index", name="uq_posts_series_occurrence"))

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    author_user_id: Mapped[str] = mapped_column(String(32))
    text: Mapped[str] = mapped_column(Text, default="")
    first_comment: Mapped[str | None] = mapped_column(Text)
    status: Mapped[PostStatus] = mapped_column(str_enum(PostStatus), default=PostStatus.DRAFT)
    scheduled_at: Mapped[datetime | None]  # UTC; None = as soon as accepted
    timezone: Mapped[str | None] = mapped_column(String(64))  # the author's zone, for showing times
    channel_id: Mapped[str | None] = mapped_column(String(32))  # where its status message lives
    message_ts: Mapped[str | None] = mapped_column(String(32))
    review_channel_id: Mapped[str | None] = mapped_column(String(32))
    review_ts: Mapped[str | None] = mapped_column(String(32))
    version: Mapped[int] = mapped_column(Integer, default=1)  # bumped by edits; approvals are per version
    options: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # An occurrence of a recurring post: its series and its place in it (0 = the first).
    series_id: Mapped[int | None] = mapped_column(ForeignKey("series.id", ondelete="SET NULL",
                                                             name="fk_posts_series_id"), index=True)
    series_index: Mapped[int | None] = mapped_column(Integer)
    # Approval reminders: when it was last sent for approval, how many reminders went to the approvers since, and
    # when the last one did (each claimed by bumping `reminders_sent`, so two processes never send the same one).
    submitted_at: Mapped[datetime | None]
    reminders_sent: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    reminded_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    targets: Mapped[list[PostTarget]] = relationship(back_populates="post", cascade="all, delete-orphan")
    media: Mapped[list[PostMedia]] = relationship(cascade="all, delete-orphan", order_by="PostMedia.position")


class Series(Base):
    """A recurring post: its rule (on the wall clock of the author's zone), how it ends, and what each occurrence
    holds. Its occurrences are posts, made a few ahead (bot/services/series.py)."""

    __tablename__ = "series"

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"), index=True)
    author_user_id: Mapped[str] = mapped_column(String(32))
    channel_id: Mapped[str | None] = mapped_column(String(32))  # where each occurrence's status message goes
    timezone: Mapped[str] = mapped_column(String(64))
    frequency: Mapped[str] = mapped_column(String(16))  # daily | weekly | monthly
    weekdays: Mapped[list[Any]] = mapped_column(default=list)  # 0 = Monday (weekly)
    day_of_month: Mapped[int | None] = mapped_column(Integer)  # monthly; in shorter months their last day
    time_of_day: Mapped[str] = mapped_column(String(5))  # HH:MM
    ends_on: Mapped[str | None] = mapped_column(String(10))  # the last day (YYYY-MM-DD, in the zone), or
    max_count: Mapped[int | None] = mapped_column(Integer)  # how many occurrences in all
    content: Mapped[dict[str, Any]] = mapped_column(default=dict)  # the composition each occurrence is made of
    status: Mapped[str] = mapped_column(String(16), default="active")  # active | stopped | finished
    approved: Mapped[bool] = mapped_column(Boolean, default=False)  # approved once: later occurrences go as they are
    next_index: Mapped[int] = mapped_column(Integer, default=0)  # the next occurrence to make
    next_at: Mapped[datetime | None]  # its time (UTC); None once the series has made its last
    # Edit series stops this one and starts its successor: which one, so the audit trail can say so.
    replaced_by_id: Mapped[int | None] = mapped_column(ForeignKey("series.id", ondelete="SET NULL",
                                                                  name="fk_series_replaced_by_id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class PostMedia(Base):
    __tablename__ = "post_media"

    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id", ondelete="CASCADE"), primary_key=True)
    media_id: Mapped[int] = mapped_column(ForeignKey("media_items.id", ondelete="RESTRICT"), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    alt_text: Mapped[str | None] = mapped_column(Text)


class PostTarget(Base):
    """One account a post goes to, with its own text variant and publishing state."""

    __tablename__ = "post_targets"
    __table_args__ = (
        UniqueConstraint("post_id", "account_id"),
        Index("ix_post_targets_due", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id", ondelete="CASCADE"))
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="RESTRICT"), index=True)
    variant_text: Mapped[str | None] = mapped_column(Text)
    # The platform's own choices for this post (bot/platforms/settings.py, as JSON): title, board, privacy…
    settings: Mapped[dict[str, Any] | None]
    status: Mapped[TargetStatus] = mapped_column(str_enum(TargetStatus), default=TargetStatus.PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # How often a person pressed Retry after it failed (attempts starts again at each Retry): each failure is
    # announced once in the alerts channel, keyed by the target and this count (bot/services/failure_alerts.py).
    retries: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    next_attempt_at: Mapped[datetime | None]
    lease_owner: Mapped[str | None] = mapped_column(String(64))
    lease_expires_at: Mapped[datetime | None]
    call_started_at: Mapped[datetime | None]  # set (committed) just before the platform call
    remote_id: Mapped[str | None] = mapped_column(String(255))
    remote_url: Mapped[str | None] = mapped_column(Text)
    error_kind: Mapped[str | None] = mapped_column(String(32))
    last_error: Mapped[str | None] = mapped_column(Text)
    published_at: Mapped[datetime | None]
    metrics_synced_at: Mapped[datetime | None]  # when its figures were last fetched (analytics)
    # The picture the platform shows for the post, as its newest figures' answer gave it (digests show it once
    # Picmim's own copy is gone), and when: some platforms' addresses lapse (bot/services/post_thumbnails.py).
    platform_thumbnail_url: Mapped[str | None] = mapped_column(Text)
    platform_thumbnail_at: Mapped[datetime | None]
    # A thread's parts (and its first comment) already live, in order, each written as soon as it is live
    # ({"id", "url", "cid"?, "comment"?}): a thread interrupted midway resumes after them, never resends them.
    thread_parts: Mapped[list[Any] | None] = mapped_column(JSON(none_as_null=True))

    post: Mapped[Post] = relationship(back_populates="targets")


class ApprovalDecision(Base):
    __tablename__ = "approval_decisions"

    id: Mapped[int] = mapped_column(primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id", ondelete="CASCADE"), index=True)
    post_version: Mapped[int] = mapped_column(Integer)
    user_id: Mapped[str] = mapped_column(String(160))  # a Slack user id, or "<name> (review link)"
    decision: Mapped[Decision] = mapped_column(str_enum(Decision))
    comment: Mapped[str | None] = mapped_column(Text)
    source: Mapped[str] = mapped_column(String(16))  # button | reaction | review link
    # Slack retries deliver an event more than once; its id makes the second delivery a no-op.
    slack_event_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Alert(Base):
    """An alert sent to a channel about one connection, once per cause and occurrence."""

    __tablename__ = "alerts"
    __table_args__ = (UniqueConstraint("connection_id", "cause", "occurrence"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    connection_id: Mapped[int | None] = mapped_column(ForeignKey("connections.id", ondelete="SET NULL"))
    cause: Mapped[str] = mapped_column(String(64))  # expiring, expired, revoked, admin_removed…
    occurrence: Mapped[str] = mapped_column(String(64), default="")  # e.g. "7d" / "1d" for warnings
    channel_id: Mapped[str | None] = mapped_column(String(32))
    message_ts: Mapped[str | None] = mapped_column(String(32))
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)
    sent_at: Mapped[datetime] = mapped_column(default=utcnow)
    resolved_at: Mapped[datetime | None]
    resolved_by: Mapped[str | None] = mapped_column(String(32))
    # What its Slack message shows now: "open" or "resolved"; None until it is delivered.
    shown: Mapped[str | None] = mapped_column(String(16))


class MetricSnapshot(Base):
    __tablename__ = "metric_snapshots"
    __table_args__ = (Index("ix_metric_snapshots_lookup", "account_id", "metric", "captured_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    target_id: Mapped[int | None] = mapped_column(ForeignKey("post_targets.id", ondelete="CASCADE"))
    metric: Mapped[str] = mapped_column(String(64))  # the platform's own name for the figure
    value: Mapped[float] = mapped_column(Float)
    captured_at: Mapped[datetime] = mapped_column(default=utcnow)


class DigestSubscription(Base):
    __tablename__ = "digest_subscriptions"

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    channel_id: Mapped[str] = mapped_column(String(32))
    frequency: Mapped[str] = mapped_column(String(16))  # daily | weekly | monthly
    weekday: Mapped[int | None]  # 0 = Monday, for weekly
    day_of_month: Mapped[int | None]
    time_of_day: Mapped[str] = mapped_column(String(5), default="09:00")
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    account_ids: Mapped[list[Any]] = mapped_column(default=list)
    platforms: Mapped[list[Any]] = mapped_column(default=list)
    created_by: Mapped[str] = mapped_column(String(32))
    next_run_at: Mapped[datetime | None] = mapped_column(index=True)
    last_run_at: Mapped[datetime | None]
    claimed_until: Mapped[datetime | None]
    # Set just before the digest goes to Slack: a run whose lease lapses after this is never resent.
    send_started_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class SharedReport(Base):
    """A `/picmim stats` answer shared to its channel, once per Share button (its nonce)."""

    __tablename__ = "shared_reports"

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    nonce: Mapped[str] = mapped_column(String(64), unique=True)
    channel_id: Mapped[str] = mapped_column(String(32))
    user_id: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class OAuthState(Base):
    """A pending platform OAuth link: single use, bound to a workspace and Slack user, short-lived."""

    __tablename__ = "oauth_states"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Only a hash of the state is stored: a database reader cannot complete someone else's link.
    state_hash: Mapped[str] = mapped_column(String(64), unique=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    slack_user_id: Mapped[str] = mapped_column(String(32))
    platform: Mapped[str] = mapped_column(String(32))
    code_verifier: Mapped[Secret | None] = mapped_column(EncryptedSecret)
    secret_extra: Mapped[Secret | None] = mapped_column(EncryptedSecret)
    reconnect_connection_id: Mapped[int | None] = mapped_column(
        ForeignKey("connections.id", ondelete="CASCADE"))
    channel_id: Mapped[str | None] = mapped_column(String(32))
    # Shown on the link's page before anyone signs in, so whoever opens it sees whose link it is.
    workspace_name: Mapped[str | None] = mapped_column(String(255))
    requested_by_name: Mapped[str | None] = mapped_column(String(255))
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ClientKey(Base):
    """A client authentication key of Picmim's own: the private key Bluesky's `private_key_jwt` client
    assertions are signed with, made on first start when BLUESKY_CLIENT_KEY is not set. A row (encrypted
    with the Fernet key) rather than a file, so every process sharing the database signs with the same
    keys and publishes the same JWKS. The newest generation not retired signs new sessions; the others
    stay published for the sessions that began with them."""

    __tablename__ = "client_keys"
    __table_args__ = (UniqueConstraint("platform", "generation"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    platform: Mapped[str] = mapped_column(String(32))
    generation: Mapped[int]  # 1 for the first key; unique, so two processes starting at once make one
    kid: Mapped[str] = mapped_column(String(128))
    private_jwk: Mapped[str] = mapped_column(EncryptedText)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    retired_at: Mapped[datetime | None]


class SeenRequest(Base):
    """A state-changing request already acted on, for Slack's replay window: its signature (X-Slack-Signature),
    or a compose submission's view id and hash. Unique, so of two processes given the same bytes one acts."""

    __tablename__ = "seen_requests"

    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    seen_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class OutboxState(enum.StrEnum):
    PENDING = "pending"      # owed: tried again at next_attempt_at
    DELIVERED = "delivered"  # Slack took it
    REFUSED = "refused"      # Slack refused it for good (channel gone, app removed…); `last_error` says why


class OutboxMessage(Base):
    """A Slack message Picmim owes someone (a post's status message, a review card, an alert, a digest, an
    author's notice) that Slack did not take at the first try: kept until it does (bot/services/outbox.py).
    Status messages and review cards are rebuilt from their post when sent, so the newest content goes out."""

    __tablename__ = "slack_outbox"
    __table_args__ = (Index("ix_slack_outbox_due", "state", "next_attempt_at"),
                      Index("ix_slack_outbox_key", "key", "state"))

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))  # status | review_card | alert | digest | notice
    # What it belongs to ("status:12", "review_card:12", "alert:3"…): a later message for the same key, while
    # this one is owed, is folded into it rather than sent as a second message.
    key: Mapped[str | None] = mapped_column(String(128))
    post_id: Mapped[int | None] = mapped_column(ForeignKey("posts.id", ondelete="CASCADE"))
    channel_id: Mapped[str | None] = mapped_column(String(32))
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)  # what to send (or what rebuilds it)
    state: Mapped[OutboxState] = mapped_column(str_enum(OutboxState), default=OutboxState.PENDING)
    revision: Mapped[int] = mapped_column(Integer, default=0)  # bumped by each fold
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None]
    lease_owner: Mapped[str | None] = mapped_column(String(64))
    lease_expires_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    delivered_channel_id: Mapped[str | None] = mapped_column(String(32))
    delivered_ts: Mapped[str | None] = mapped_column(String(32))
    delivered_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class AuditEntry(Base):
    """One state change of a post, connection, setting or role (bot/services/audit.py): who, when, from where,
    what changed. Post and connection ids are kept without foreign keys, so the trail outlives what it is about."""

    __tablename__ = "audit_entries"
    __table_args__ = (Index("ix_audit_entries_workspace_at", "workspace_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(160))  # a Slack user id, "Picmim", or "<name> (review link)"
    source: Mapped[str] = mapped_column(String(32))  # slash command, button, reaction, modal, job, import, review link
    subject: Mapped[str] = mapped_column(String(64))  # "post 12", "connection 3", "settings", "roles"
    action: Mapped[str] = mapped_column(String(64))  # created, approved, published, refreshed…
    change: Mapped[str | None] = mapped_column(Text)  # a short before/after, in words or JSON
    post_id: Mapped[int | None] = mapped_column(Integer, index=True)
    connection_id: Mapped[int | None] = mapped_column(Integer, index=True)
    account_id: Mapped[int | None] = mapped_column(Integer)


class ReviewLink(Base):
    """A link for a reviewer without Slack to decide on one version of one post. Only a hash of its token is
    stored; it expires, can be revoked, and is spent by its decision."""

    __tablename__ = "review_links"

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id", ondelete="CASCADE"), index=True)
    post_version: Mapped[int] = mapped_column(Integer)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    reviewer: Mapped[str] = mapped_column(String(120))  # the name or email the approver gave
    created_by: Mapped[str] = mapped_column(String(32))
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
    used_at: Mapped[datetime | None]  # its decision was made
    decision: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class PostFollowUp(Base):
    """One follow-up of a post (its figures, `hours` after it went live, in its status message's thread).
    Claimed with a lease before its figures are fetched, so of several processes one sends it; `sent_at` once
    it is handed to the Slack outbox (bot/services/followups.py)."""

    __tablename__ = "post_followups"
    __table_args__ = (UniqueConstraint("post_id", "hours"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id", ondelete="CASCADE"))
    hours: Mapped[int] = mapped_column(Integer)
    lease_owner: Mapped[str | None] = mapped_column(String(64))
    lease_expires_at: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

class PostingSlot(Base):
    """One preferred weekly posting time of an account ("Tuesdays 10:00"), in the workspace's time zone (the
    account's audience time): "Next free slot" in the compose window and the import take the earliest unused one."""

    __tablename__ = "posting_slots"
    __table_args__ = (UniqueConstraint("account_id", "weekday", "time_of_day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    weekday: Mapped[int] = mapped_column(Integer)  # 0 = Monday
    time_of_day: Mapped[str] = mapped_column(String(5))  # "HH:MM"
