"""The audit trail: every state change of a post, a connection, a setting or a role, with who made it (a Slack
user id, "Picmim" for a job, "<name> (review link)"), when (UTC), from where and what changed.

Services call `record` in the same transaction as the change itself, so a change and its entry are committed (or
rolled back) together. `/picmim audit` reads `entries`; `csv_of` is its export; `purge` applies the retention.

Free of Slack: the handler turns entries into a message.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, or_, select, union
from sqlalchemy.ext.asyncio import AsyncSession

from bot.platforms import registry
from bot.storage.models import Account, AuditEntry, Post, PostTarget, utcnow

PICMIM = "Picmim"  # the actor of what a job does on its own

# Where a change came from.
SLASH_COMMAND, BUTTON, REACTION, MODAL, JOB, IMPORT, REVIEW_LINK, SIGN_IN = (
    "slash command", "button", "reaction", "modal", "job", "import", "review link", "sign-in page")

MAX_CHANGE = 2000
MAX_SHOWN = 25  # entries in the Slack message; the CSV has all of them
PERIODS = (7, 30)


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


# ---- reading ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Scope:
    """What `/picmim audit` asks about: everything, one post, or some accounts (their posts and connections)."""

    label: str = "Everything"
    post_id: int | None = None
    account_ids: tuple[int, ...] | None = None


_POST_ID = re.compile(r"(?:post\s*)?#?(\d+)", re.IGNORECASE)


def parse_args(args: str) -> tuple[bool, str, int] | str:
    """(export?, what, days) from `[export] [account|post link] [7d|30d]`, or what is wrong, in words."""
    words = args.split()
    export = bool(words) and words[0].lower() == "export"
    if export:
        words = words[1:]
    days = 7
    if words and re.fullmatch(r"\d+d", words[-1].lower()):
        days = int(words[-1][:-1])
        if days not in PERIODS:
            return "Choose `7d` or `30d` for the period, for example `/picmim audit @acme 30d`."
        words = words[:-1]
    return export, " ".join(words), days


async def find_scope(session: AsyncSession, workspace_id: int, text: str) -> Scope | None:
    """An account (@handle, name or platform), a post (its link on the network, or its number), or everything."""
    text = text.strip()
    if not text:
        return Scope()
    number = _POST_ID.fullmatch(text)
    if number:
        post = await session.scalar(select(Post.id).where(Post.id == int(number.group(1)),
                                                          Post.workspace_id == workspace_id))
        return Scope(f"Post {post}", post_id=post) if post else None
    from bot.services import analytics  # here: analytics needs connections, which records here

    found = await analytics.find_subject(session, workspace_id, text)
    if found is None:
        return None
    if found.target_id is not None:
        post_id = await session.scalar(select(PostTarget.post_id).where(PostTarget.id == found.target_id))
        return Scope(f"Post {post_id}", post_id=post_id)
    return Scope(found.label, account_ids=found.account_ids)


@dataclass(frozen=True)
class Entry:
    at: datetime
    actor: str
    source: str
    subject: str
    action: str
    change: str | None
    post_id: int | None
    post_text: str | None  # the start of the post's text, to recognise it
    post_link: str | None  # the post's status message or its first live link


async def entries(session: AsyncSession, workspace_id: int, scope: Scope, since: datetime,
                  limit: int | None = None) -> list[Entry]:
    """The entries of the period, newest first."""
    query = select(AuditEntry).where(AuditEntry.workspace_id == workspace_id, AuditEntry.at >= since)
    if scope.post_id is not None:
        query = query.where(AuditEntry.post_id == scope.post_id)
    elif scope.account_ids is not None:
        ids = list(scope.account_ids)
        posts = select(PostTarget.post_id).where(PostTarget.account_id.in_(ids))
        # Its connection now, and the ones it had before (a disconnect's entries name each account).
        connections = union(
            select(Account.connection_id).where(Account.id.in_(ids), Account.connection_id.is_not(None)),
            select(AuditEntry.connection_id).where(AuditEntry.account_id.in_(ids),
                                                   AuditEntry.connection_id.is_not(None)))
        query = query.where(or_(AuditEntry.post_id.in_(posts), AuditEntry.connection_id.in_(connections),
                                AuditEntry.account_id.in_(ids)))
    query = query.order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
    if limit:
        query = query.limit(limit)
    rows = list(await session.scalars(query))
    post_ids = sorted({r.post_id for r in rows if r.post_id})
    posts: dict[int, tuple[str, str | None]] = {}
    if post_ids:
        for post_id, text, channel, ts in await session.execute(
                select(Post.id, Post.text, Post.channel_id, Post.message_ts).where(Post.id.in_(post_ids))):
            posts[post_id] = (short(text, 60), _slack_link(channel, ts))
        for post_id, url in await session.execute(
                select(PostTarget.post_id, PostTarget.remote_url).where(PostTarget.post_id.in_(post_ids),
                                                                        PostTarget.remote_url.is_not(None))
                .order_by(PostTarget.id)):
            text, link = posts.get(post_id, ("", None))
            if link is None:
                posts[post_id] = (text, url)
    return [Entry(r.at, r.actor, r.source, r.subject, r.action, r.change, r.post_id,
                  posts.get(r.post_id, (None, None))[0] if r.post_id else None,
                  posts.get(r.post_id, (None, None))[1] if r.post_id else None) for r in rows]


def _slack_link(channel: str | None, ts: str | None) -> str | None:
    # A permalink Slack resolves in any workspace the viewer is in (archives/<channel>/p<ts without dot>).
    if not channel or not ts:
        return None
    return f"https://slack.com/archives/{channel}/p{ts.replace('.', '')}"


CSV_COLUMNS = ("time (UTC)", "who", "from", "what", "action", "change", "post", "post text", "link")


def csv_of(found: Sequence[Entry]) -> bytes:
    """The entries as a CSV file (UTF-8 with a byte order mark, so spreadsheets read accents right)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for e in found:
        writer.writerow([e.at.strftime("%Y-%m-%d %H:%M:%S"), _cell(e.actor), e.source, e.subject, _cell(e.action),
                         _cell(e.change), e.post_id or "", _cell(e.post_text), e.post_link or ""])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def _cell(value: str | None) -> str:
    # A cell starting like a formula would run in a spreadsheet: make it text.
    value = value or ""
    return "'" + value if value[:1] in ("=", "+", "-", "@") else value


async def purge(session: AsyncSession, now: datetime, days: int) -> int:
    """Delete the entries older than the retention (PICMIM_AUDIT_RETENTION_DAYS). The caller commits."""
    done = await session.execute(delete(AuditEntry).where(AuditEntry.at < now - timedelta(days=days))
                                 .execution_options(synchronize_session=False))
    return done.rowcount or 0
