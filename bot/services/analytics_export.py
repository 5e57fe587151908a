"""The analytics CSV (`/picmim stats export [7d|30d|90d] [account]`): one row per post per platform sent with
Picmim in the period (its link, account, published time in ISO 8601 UTC and every figure under the platform's
own name, as last fetched), then one row per account per day (the day's last account figures).

A figure the platform does not give, or that Picmim has no figure for, is an empty cell — never 0.

Free of Slack and HTTP details: the caller hands in the time and the accounts the person may see.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.services.analytics_catalogue import Figure, catalogue, platform_name, platform_order
from bot.storage.models import Account, MetricSnapshot, Post, PostTarget, TargetStatus

EXPORT_DAYS = (7, 30, 90)
POST_ROW, ACCOUNT_ROW = "post", "account"
FIXED_COLUMNS = ("row", "date (UTC)", "published (UTC)", "platform", "account", "handle", "post link", "post text")


@dataclass(frozen=True)
class Export:
    data: bytes  # the CSV file, UTF-8
    posts: int  # post rows
    account_days: int  # account rows


def _column(figure: Figure) -> str:
    """A figure's column: the platform's own name, with the window it is counted over."""
    return figure.label + (f" ({figure.window})" if figure.window else "")


def _number(value: float | None) -> str:
    if value is None:
        return ""  # not available, or no figure: never 0
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def _text(value: str | None) -> str:
    # A cell starting like a formula would run in a spreadsheet: make it text.
    value = value or ""
    return "'" + value if value[:1] in ("=", "+", "-", "@") else value


def _iso(when: datetime) -> str:
    return when.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


async def build(session: AsyncSession, workspace_id: int, start: datetime, end: datetime,
                account_ids: Sequence[int] | None = None) -> Export:
    """The CSV for the period [start, end] and these accounts (None: every active one of the workspace)."""
    query = select(Account).where(Account.workspace_id == workspace_id)
    query = query.where(Account.id.in_(list(account_ids))) if account_ids is not None else \
        query.where(Account.active.is_(True))
    accounts = sorted((await session.scalars(query)).all(),
                      key=lambda a: (platform_order(a.platform), a.name.lower(), a.id))
    by_id = {a.id: a for a in accounts}
    columns: list[str] = []
    for account in accounts:  # every figure each platform gives, in the order its reports show them
        kind = catalogue(account.platform, account.kind)
        for figure in (*kind.post, *kind.account):
            if _column(figure) not in columns:
                columns.append(_column(figure))

    targets = (await session.execute(
        select(PostTarget, Post).join(Post, Post.id == PostTarget.post_id)
        .where(PostTarget.account_id.in_(list(by_id)), PostTarget.status == TargetStatus.PUBLISHED,
               PostTarget.published_at >= start, PostTarget.published_at <= end)
        .order_by(PostTarget.published_at, PostTarget.id))).all() if by_id else []
    latest = await _latest_post_figures(session, [t.id for t, _ in targets], end)
    rows: list[list[str]] = []
    for target, post in targets:
        account = by_id[target.account_id]
        figures = _cells(catalogue(account.platform, account.kind).post, latest.get(target.id, {}))
        text = target.variant_text if target.variant_text is not None else post.text
        rows.append([POST_ROW, "", _iso(target.published_at), platform_name(account.platform), _text(account.name),
                     _text(account.handle), target.remote_url or "", _text(" ".join((text or "").split())),
                     *[figures.get(c, "") for c in columns]])
    posts = len(rows)

    days = _days(start, end)
    daily = await _daily_account_figures(session, list(by_id), start, end)
    for account in accounts:
        kind = catalogue(account.platform, account.kind)
        for day in days:
            figures = _cells(kind.account, daily.get((account.id, day), {}))
            rows.append([ACCOUNT_ROW, day, "", platform_name(account.platform), _text(account.name),
                         _text(account.handle), "", "", *[figures.get(c, "") for c in columns]])
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([*FIXED_COLUMNS, *columns])
    writer.writerows(rows)
    # Plain UTF-8, no byte order mark: the first header reads "row" to every CSV reader (a spreadsheet asks which
    # encoding on import).
    return Export(out.getvalue().encode("utf-8"), posts, len(rows) - posts)


def _cells(figures: Sequence[Figure], values: dict[str, float]) -> dict[str, str]:
    return {_column(f): _number(f.pick(values)) for f in figures if f.metric is not None}


def _days(start: datetime, end: datetime) -> list[str]:
    day, last, found = start.astimezone(UTC).date(), end.astimezone(UTC).date(), []
    while day <= last:
        found.append(day.isoformat())
        day += timedelta(days=1)
    return found


async def _latest_post_figures(session: AsyncSession, target_ids: list[int],
                               end: datetime) -> dict[int, dict[str, float]]:
    """Each post's figures from its latest snapshot taken at or before `end`."""
    if not target_ids:
        return {}
    last = (select(MetricSnapshot.target_id, func.max(MetricSnapshot.captured_at).label("at"))
            .where(MetricSnapshot.target_id.in_(target_ids), MetricSnapshot.captured_at <= end)
            .group_by(MetricSnapshot.target_id).subquery())
    found: dict[int, dict[str, float]] = defaultdict(dict)
    for target_id, metric, value in await session.execute(
            select(MetricSnapshot.target_id, MetricSnapshot.metric, MetricSnapshot.value)
            .join(last, (last.c.target_id == MetricSnapshot.target_id) & (last.c.at == MetricSnapshot.captured_at))):
        found[target_id][metric] = value
    return found


async def _daily_account_figures(session: AsyncSession, account_ids: list[int], start: datetime,
                                 end: datetime) -> dict[tuple[int, str], dict[str, float]]:
    """Per account and UTC day of the period, its figures from the day's last sync."""
    if not account_ids:
        return {}
    first_day = datetime.combine(start.astimezone(UTC).date(), datetime.min.time(), UTC)
    by_day: dict[tuple[int, str], tuple[datetime, dict[str, float]]] = {}
    for account_id, metric, value, at in await session.execute(
            select(MetricSnapshot.account_id, MetricSnapshot.metric, MetricSnapshot.value, MetricSnapshot.captured_at)
            .where(MetricSnapshot.account_id.in_(account_ids), MetricSnapshot.target_id.is_(None),
                   MetricSnapshot.captured_at >= first_day, MetricSnapshot.captured_at <= end)):
        key = (account_id, at.astimezone(UTC).date().isoformat())
        held = by_day.get(key)
        if held is None or at > held[0]:
            by_day[key] = (at, {metric: value})
        elif at == held[0]:
            held[1][metric] = value
    return {key: figures for key, (_, figures) in by_day.items()}
