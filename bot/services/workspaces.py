"""Workspaces: the Slack teams Picmim serves."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.services import audit
from bot.storage.models import Workspace, utcnow


async def ensure_workspace(session: AsyncSession, team_id: str, enterprise_id: str | None = None) -> Workspace:
    """The workspace row for a team, created on first sight (and re-opened after a reinstall)."""
    workspace = await session.scalar(select(Workspace).where(Workspace.team_id == team_id))
    if workspace is None:
        try:
            async with session.begin_nested():
                workspace = Workspace(team_id=team_id, enterprise_id=enterprise_id)
                session.add(workspace)
        except IntegrityError:  # another request created it first
            workspace = await session.scalar(select(Workspace).where(Workspace.team_id == team_id))
    elif workspace.uninstalled_at is not None:
        workspace.uninstalled_at = None
    return workspace


async def mark_uninstalled(session: AsyncSession, team_id: str) -> None:
    await session.execute(update(Workspace).where(Workspace.team_id == team_id).values(uninstalled_at=utcnow()))


MANAGER_POLICIES = ("members", "admins", "list")


def set_managers(workspace: Workspace, policy: str, user_ids: list[str]) -> None:
    """Who may connect, reconnect and disconnect accounts (everyone else may still look)."""
    if policy not in MANAGER_POLICIES:
        raise ValueError(f"unknown policy {policy!r}")
    workspace.managers_policy = policy
    workspace.manager_user_ids = sorted(set(user_ids)) if policy == "list" else []


# ---- all of a workspace's settings (/picmim settings) -------------------------------------------------

EXPIRY_WARNING_CHOICES = (14, 7, 3, 1)  # days before a token expires that a warning may go out
FOLLOWUP_CHOICES = (24, 72, 168, 720)  # hours after a post goes live that a follow-up may go out (to 30 days)
MAX_APPROVALS_NEEDED = 10
_REACTION = re.compile(r"[\w+'.\-]{1,64}")  # Slack's emoji names: what `:name:` may hold


def normalize_reaction(text: str | None) -> str | None:
    """An emoji name as reaction events carry it (no colons, no skin tone), or None when it is not one."""
    name = (text or "").strip().strip(":").split("::")[0].lower()
    return name if _REACTION.fullmatch(name) else None


@dataclass
class WorkspaceSettings:
    """Everything an admin sets in `/picmim settings`, as read from the modal (reactions as typed)."""

    managers_policy: str = "members"
    manager_user_ids: list[str] = field(default_factory=list)
    approval_required: bool = False
    approval_channel_id: str | None = None
    approver_user_ids: list[str] = field(default_factory=list)
    approver_usergroup_id: str | None = None
    approvals_needed: int | None = 1  # None: not a whole number
    allow_self_approval: bool = False
    approve_reaction: str = "white_check_mark"
    reject_reaction: str = "x"
    alerts_channel_id: str | None = None
    expiry_warning_days: list[int] = field(default_factory=lambda: [7, 1])
    default_timezone: str = "UTC"
    followup_hours: list[int] = field(default_factory=lambda: [24, 168])
    # Approval reminders and expiry; None: not a whole number.
    reminder_hours: int | None = 4
    reminders_max: int | None = 2
    grace_minutes: int | None = 60


def settings_of(workspace: Workspace) -> WorkspaceSettings:
    return WorkspaceSettings(
        managers_policy=workspace.managers_policy or "members",
        manager_user_ids=list(workspace.manager_user_ids or []),
        approval_required=bool(workspace.approval_required),
        approval_channel_id=workspace.approval_channel_id,
        approver_user_ids=list(workspace.approver_user_ids or []),
        approver_usergroup_id=workspace.approver_usergroup_id,
        approvals_needed=workspace.approvals_needed or 1,
        allow_self_approval=bool(workspace.allow_self_approval),
        approve_reaction=workspace.approve_reaction or "white_check_mark",
        reject_reaction=workspace.reject_reaction or "x",
        alerts_channel_id=workspace.alerts_channel_id,
        expiry_warning_days=[int(d) for d in workspace.expiry_warning_days or []],
        default_timezone=workspace.default_timezone or "UTC",
        followup_hours=[int(h) for h in workspace.followup_hours or []],
        reminder_hours=workspace.approval_reminder_hours if workspace.approval_reminder_hours is not None else 4,
        reminders_max=workspace.approval_reminders_max if workspace.approval_reminders_max is not None else 2,
        grace_minutes=workspace.approval_grace_minutes if workspace.approval_grace_minutes is not None else 60,
    )


# The parts of the settings a problem can be shown beside.
MANAGERS, APPROVAL_CHANNEL, APPROVALS_NEEDED, APPROVE_REACTION, REJECT_REACTION, TIMEZONE = (
    "managers", "approval_channel", "approvals_needed", "approve_reaction", "reject_reaction", "timezone")
REMINDER_HOURS, REMINDERS_MAX, GRACE_MINUTES = "reminder_hours", "reminders_max", "grace_minutes"
# What each reminder and expiry setting may be: (lowest, highest, what a person is told otherwise).
REMINDER_LIMITS = {
    REMINDER_HOURS: (1, 168, "Enter a whole number of hours from 1 to 168 (a week)."),
    REMINDERS_MAX: (0, 10, "Enter a whole number from 0 (no reminders) to 10."),
    GRACE_MINUTES: (0, 10080, "Enter a whole number of minutes from 0 to 10080 (a week)."),
}


def settings_problems(settings: WorkspaceSettings) -> dict[str, str]:
    """What stops these settings from being saved, keyed by the part of the form to fix."""
    problems: dict[str, str] = {}
    if settings.managers_policy not in MANAGER_POLICIES:
        problems[MANAGERS] = "Choose who may connect accounts."
    elif settings.managers_policy == "list" and not settings.manager_user_ids:
        problems[MANAGERS] = "Choose at least one person, or pick another option."
    if settings.approval_required and not settings.approval_channel_id:
        problems[APPROVAL_CHANNEL] = "Choose the channel where approvers review posts, or turn approval off."
    needed = settings.approvals_needed
    if needed is None or not 1 <= needed <= MAX_APPROVALS_NEEDED:
        problems[APPROVALS_NEEDED] = f"Enter a whole number from 1 to {MAX_APPROVALS_NEEDED}."
    elif (settings.approver_user_ids and not settings.approver_usergroup_id
          and len(set(settings.approver_user_ids)) < needed):
        chosen = len(set(settings.approver_user_ids))
        problems[APPROVALS_NEEDED] = (f"Only {chosen} approver{'s are' if chosen != 1 else ' is'} chosen, so "
                                      f"{needed} approvals could never be reached: choose more people or a "
                                      "lower number.")
    approve = normalize_reaction(settings.approve_reaction)
    reject = normalize_reaction(settings.reject_reaction)
    for key, typed, name in ((APPROVE_REACTION, settings.approve_reaction, approve),
                             (REJECT_REACTION, settings.reject_reaction, reject)):
        if name is None:
            problems[key] = (f"“{(typed or '').strip()[:40]}” is not an emoji name: type it as in "
                             "`:white_check_mark:` (without the colons is fine too).")
    if approve and approve == reject:
        problems[REJECT_REACTION] = "Use a different emoji from the one that approves."
    try:
        ZoneInfo(settings.default_timezone.strip())
    except (ValueError, KeyError, OSError):  # OSError: "Europe" is a folder of zones
        problems[TIMEZONE] = "Enter a time zone such as Europe/Madrid, America/New_York or UTC."
    for key, (lowest, highest, words) in REMINDER_LIMITS.items():
        value = getattr(settings, key)
        if value is None or not lowest <= value <= highest:
            problems[key] = words
    return problems


def apply_settings(workspace: Workspace, settings: WorkspaceSettings) -> None:
    """Save settings that `settings_problems` found nothing wrong with."""
    set_managers(workspace, settings.managers_policy, settings.manager_user_ids)
    workspace.approval_required = settings.approval_required
    workspace.approval_channel_id = settings.approval_channel_id
    workspace.approver_user_ids = sorted(set(settings.approver_user_ids))
    workspace.approver_usergroup_id = settings.approver_usergroup_id or None
    workspace.approvals_needed = settings.approvals_needed or 1
    workspace.allow_self_approval = settings.allow_self_approval
    workspace.approve_reaction = normalize_reaction(settings.approve_reaction) or "white_check_mark"
    workspace.reject_reaction = normalize_reaction(settings.reject_reaction) or "x"
    workspace.alerts_channel_id = settings.alerts_channel_id
    workspace.expiry_warning_days = sorted({int(d) for d in settings.expiry_warning_days if int(d) > 0},
                                           reverse=True)
    workspace.default_timezone = settings.default_timezone.strip()
    workspace.followup_hours = sorted({int(h) for h in settings.followup_hours if 0 < int(h) <= 24 * 90})
    workspace.approval_reminder_hours = settings.reminder_hours if settings.reminder_hours is not None else 4
    workspace.approval_reminders_max = settings.reminders_max if settings.reminders_max is not None else 2
    workspace.approval_grace_minutes = settings.grace_minutes if settings.grace_minutes is not None else 60


async def save_settings(session: AsyncSession, workspace_id: int, settings: WorkspaceSettings,
                        actor: str | None = None, source: str = "modal") -> None:
    """`apply_settings` to the workspace's row, and what changed to the audit trail. The caller commits."""
    workspace = await session.get(Workspace, workspace_id)
    if workspace is not None:
        before = vars(settings_of(workspace))
        apply_settings(workspace, settings)
        changed = audit.diff(before, vars(settings_of(workspace)))
        if changed:
            await audit.record(session, workspace_id, actor, source, audit.SETTINGS, "settings changed", changed)
