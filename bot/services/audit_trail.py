"""Reading the audit trail (bot/services/audit.py records it): what `/picmim audit` asks about (`find_scope`),
its entries newest first (`entries`) and their CSV export (`csv_of`). Free of Slack: the handler turns entries into
a message."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import or_, select, union
from sqlalchemy.ext.asyncio import AsyncSession

from bot.services import analytics
from bot.services.audit import short
from bot.storage.models import Account, AuditEntry, Post, PostTarget

MAX_SHOWN = 25  # entries in the Slack message; the CSV has all of them
PERIODS = (7, 30)


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


