"""The audit trail: every state change of a post, a connection, a setting or a role, with who made it (a Slack
user id, "Picmim" for a job, "<name> (review link)"), when (UTC), from where and what changed.

Services call `record` in the same transaction as the change itself, so a change and its entry are committed (or
rolled back) together; `purge` applies the retention. Reading it (`/picmim audit`, its CSV) is
bot/services/audit_trail.py.

Free of Slack: the handler turns entries into a message.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.platforms import registry
from bot.storage.models import Account, AuditEntry, Post, PostTarget, utcnow

PICMIM = "Picmim"  # the actor of what a job does on its own

# Where a change came from.
SLASH_COMMAND, BUTTON, REACTION, MODAL, JOB, IMPORT, REVIEW_LINK, SIGN_IN = (
    "slash command", "button", "reaction", "modal", "job", "import", "review link", "sign-in page")

MAX_CHANGE = 2000


def post_subject(post_id: int) -> str:
    return f"post {post_id}"


def connection_subject(connection_id: int) -> str:
    return f"connection {connection_id}"


SETTINGS, ROLES = "settings", "roles"


async def record(session: AsyncSession, workspace_id: int, actor: str | None, source: str, subject: str,
                 action: str, change: str | Mapping[str, Any] | None = None, *, post_id: int | None = None,
                 connection_id: int | None = None, account_id: int | None = None,
                 at: datetime | None = None) -> None:
    """Add one entry to the session (the caller's transaction commits it with the change it describes).
    `change` is a short before/after in words, or a mapping shown as JSON. Role changes are recorded with
    subject ROLES, e.g. `record(session, ws, admin, MODAL, ROLES, "role changed", {"X · Acme": {...}})`."""
    if change is not None and not isinstance(change, str):
        change = json.dumps(change, ensure_ascii=False, default=str, sort_keys=True)
    session.add(AuditEntry(workspace_id=workspace_id, actor=(actor or PICMIM)[:160], source=source[:32],
                           subject=subject[:64], action=action[:64],
                           change=change[:MAX_CHANGE] if change else None, post_id=post_id,
                           connection_id=connection_id, account_id=account_id, at=at or utcnow()))


def diff(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, list[Any]]:
    """What changed between two snapshots, as {name: [before, after]}."""
    return {key: [before.get(key), after.get(key)] for key in sorted(set(before) | set(after))
            if before.get(key) != after.get(key)}


def short(text: str | None, limit: int = 80) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= limit else text[:limit - 1] + "…"


async def record_post(session: AsyncSession, post: Post, actor: str | None, source: str, action: str,
                      change: str | Mapping[str, Any] | None = None, *, at: datetime | None = None) -> None:
    await record(session, post.workspace_id, actor, source, post_subject(post.id), action, change, post_id=post.id,
                 at=at)


async def record_posts(session: AsyncSession, post_ids: Iterable[int], actor: str | None, source: str, action: str,
                       change: str | Mapping[str, Any] | None = None,
                       changes: Mapping[int, str] | None = None) -> None:
    """The same change to several posts (read by id: callers that changed them with a bulk UPDATE)."""
    ids = sorted(set(post_ids))
    if not ids:
        return
    rows = await session.execute(select(Post.id, Post.workspace_id).where(Post.id.in_(ids)))
    for post_id, workspace_id in rows:
        said = (changes or {}).get(post_id, change)
        await record(session, workspace_id, actor, source, post_subject(post_id), action, said, post_id=post_id)


async def target_words(session: AsyncSession, target_ids: Sequence[int]) -> dict[int, tuple[int, str]]:
    """Each target's post id and "Platform · Account", for entries about one account of a post."""
    if not target_ids:
        return {}
    rows = await session.execute(select(PostTarget.id, PostTarget.post_id, Account.platform, Account.name)
                                 .join(Account, Account.id == PostTarget.account_id)
                                 .where(PostTarget.id.in_(list(target_ids))))
    return {tid: (post_id, f"{_platform(platform)} · {name}") for tid, post_id, platform, name in rows}


def _platform(key: str) -> str:
    info = registry.get(key)
    return info.name if info else key


def connection_words(platform: str, display_name: str | None) -> str:
    return f"{_platform(platform)} · {display_name}" if display_name else _platform(platform)


async def purge(session: AsyncSession, now: datetime, days: int) -> int:
    """Delete the entries older than the retention (PICMIM_AUDIT_RETENTION_DAYS). The caller commits."""
    done = await session.execute(delete(AuditEntry).where(AuditEntry.at < now - timedelta(days=days))
                                 .execution_options(synchronize_session=False))
    return done.rowcount or 0
