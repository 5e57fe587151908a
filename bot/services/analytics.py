"""Analytics reports: the figures a digest or `/picmim stats` shows, and what stats was asked about.

The figures are read from the snapshots the metric sync (`metric_sync`) keeps. Every figure keeps the
platform's own name (`analytics_catalogue`); one the platform does not give to this kind of account is
"not available"; one it gives but Picmim has no fresh snapshot of is "missing" — never 0.

Free of Slack and HTTP details: the caller hands in the time.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.platforms import registry
from bot.services.analytics_catalogue import catalogue, platform_name, platform_order
from bot.services.connections import guidance
from bot.services.metric_sync import BROKEN
from bot.storage.models import (
    Account,
    Connection,
    ConnectionStatus,
    MetricSnapshot,
    Post,
    PostTarget,
)

STALE_AFTER = timedelta(days=1)  # an account with no sync this long before a period's end is "not synced"
BASELINE_SLACK = timedelta(days=1)  # a period's starting figure may be at most this much older than its start
PREVIEW_MAX = 80


@dataclass(frozen=True)
class Value:
    """One figure in a report: `value` None means missing, unless the platform does not give it at all
    (`available` False)."""

    label: str
    value: float | None
    previous: float | None = None
    available: bool = True
    window: str | None = None
    rate: bool = False

    @property
    def change(self) -> float | None:
        if self.value is None or self.previous is None:
            return None
        return self.value - self.previous

    @property
    def percent(self) -> float | None:
        change = self.change
        if change is None or not self.previous:
            return None
        return change / abs(self.previous) * 100


Series = tuple[tuple[datetime, float], ...]


@dataclass(frozen=True)
class AccountFigures:
    account_id: int
    platform: str
    platform_name: str
    name: str
    handle: str | None
    values: tuple[Value, ...]
    synced_at: datetime | None  # the last sync at or before the period's end
    not_synced: bool  # no figures fresh enough for this period (its values are missing)
    problem: str | None  # why, and how to mend it
    followers: Series = ()
    engagement: Series = ()
    followers_label: str = "Followers"


@dataclass(frozen=True)
class PostFigures:
    target_id: int
    account_id: int
    account_name: str
    platform: str
    platform_name: str
    url: str | None
    preview: str
    published_at: datetime | None
    values: tuple[Value, ...]
    synced_at: datetime | None
    gained: float | None = None  # interactions gained during the period


@dataclass(frozen=True)
class Report:
    start: datetime
    end: datetime
    accounts: tuple[AccountFigures, ...]
    top_posts: tuple[PostFigures, ...] = ()
    posts_considered: int = 0

    @property
    def has_chart_data(self) -> bool:
        return any(len(a.followers) or len(a.engagement) for a in self.accounts)


@dataclass
class _Rows:
    """Snapshots of one subject, by time."""

    by_time: dict[datetime, dict[str, float]] = field(default_factory=lambda: defaultdict(dict))

    def add(self, at: datetime, metric: str, value: float) -> None:
        self.by_time[at][metric] = value

    def latest(self, until: datetime) -> tuple[datetime | None, dict[str, float]]:
        times = [t for t in self.by_time if t <= until]
        if not times:
            return None, {}
        at = max(times)
        return at, self.by_time[at]

    def value_at(self, names: Iterable[str | None], until: datetime, since: datetime | None = None) -> float | None:
        """The latest value of a figure (under any of its names) at or before `until`."""
        for at in sorted((t for t in self.by_time if t <= until), reverse=True):
            if since is not None and at < since:
                return None
            for name in names:
                if name is not None and name in self.by_time[at]:
                    return self.by_time[at][name]
        return None


def _account_problem(account: Account, connection: Connection | None) -> str | None:
    if connection is None or not account.active:
        return "It is no longer connected: connect it again with `/picmim connect`."
    if connection.status in (ConnectionStatus.EXPIRED, ConnectionStatus.REVOKED, ConnectionStatus.ERROR):
        fix = guidance(connection.status, connection.status_cause, connection.token_expires_at)
        return f"Its connection is {connection.status.value}. {fix or ''}".strip()
    return account.metrics_error


async def _accounts(session: AsyncSession, workspace_id: int, account_ids: Sequence[int] | None,
                    platforms: Sequence[str] | None) -> list[tuple[Account, Connection | None]]:
    query = (select(Account, Connection).outerjoin(Connection, Connection.id == Account.connection_id)
             .where(Account.workspace_id == workspace_id))
    if account_ids:
        query = query.where(Account.id.in_(list(account_ids)))
    if platforms:
        query = query.where(Account.platform.in_(list(platforms)))
    if not account_ids:
        query = query.where(Account.active.is_(True))
    rows = (await session.execute(query)).all()
    return sorted(((a, c) for a, c in rows), key=lambda r: (platform_order(r[0].platform), r[0].name.lower(), r[0].id))


async def build_report(session: AsyncSession, workspace_id: int, start: datetime, end: datetime, *,
                       account_ids: Sequence[int] | None = None, platforms: Sequence[str] | None = None,
                       top: int = 3) -> Report:
    """The figures of a workspace's accounts (all active ones, or those chosen) for the period
    [start, end], each compared with its value when the period began."""
    pairs = await _accounts(session, workspace_id, account_ids, platforms)
    ids = [a.id for a, _ in pairs]
    since = start - BASELINE_SLACK
    account_rows: dict[int, _Rows] = defaultdict(_Rows)
    post_rows: dict[int, _Rows] = defaultdict(_Rows)
    post_account: dict[int, int] = {}
    last_sync: dict[int, datetime] = {}
    if ids:
        for account_id, target_id, metric, value, at in await session.execute(
                select(MetricSnapshot.account_id, MetricSnapshot.target_id, MetricSnapshot.metric,
                       MetricSnapshot.value, MetricSnapshot.captured_at)
                .where(MetricSnapshot.account_id.in_(ids), MetricSnapshot.captured_at > since,
                       MetricSnapshot.captured_at <= end)):
            if target_id is None:
                account_rows[account_id].add(at, metric, value)
            else:
                post_rows[target_id].add(at, metric, value)
                post_account[target_id] = account_id
        last_sync = dict((await session.execute(
            select(MetricSnapshot.account_id, func.max(MetricSnapshot.captured_at))
            .where(MetricSnapshot.account_id.in_(ids), MetricSnapshot.target_id.is_(None),
                   MetricSnapshot.captured_at <= end)
            .group_by(MetricSnapshot.account_id))).all())

    accounts = []
    for account, connection in pairs:
        accounts.append(_account_figures(account, connection, account_rows[account.id], last_sync.get(account.id),
                                         {t: r for t, r in post_rows.items() if post_account[t] == account.id},
                                         start, end))
    by_id = {a.id: a for a, _ in pairs}
    top_posts = await _top_posts(session, post_rows, post_account, by_id, start, end, top)
    return Report(start, end, tuple(accounts), tuple(top_posts), len(post_rows))


def _account_figures(account: Account, connection: Connection | None, rows: _Rows, synced_at: datetime | None,
                     posts: Mapping[int, _Rows], start: datetime, end: datetime) -> AccountFigures:
    kind = catalogue(account.platform, account.kind)
    problem = _account_problem(account, connection)
    fresh_at, current = rows.latest(end)
    broken = connection is None or not account.active or connection.status in BROKEN
    not_synced = synced_at is None or synced_at < end - STALE_AFTER or (fresh_at is None) or broken
    values = []
    for figure in kind.account:
        if figure.metric is None:
            values.append(Value(figure.label, None, available=False, window=figure.window, rate=figure.rate))
            continue
        if not_synced:
            values.append(Value(figure.label, None, window=figure.window, rate=figure.rate))
            continue
        value = figure.pick(current)
        if value is None:  # the platform's last answer had no such figure for this account
            values.append(Value(figure.label, None, available=False, window=figure.window, rate=figure.rate))
            continue
        previous = rows.value_at((figure.metric, *figure.aliases), start, since=start - BASELINE_SLACK)
        values.append(Value(figure.label, value, previous, window=figure.window, rate=figure.rate))
    followers: list[tuple[datetime, float]] = []
    if kind.followers.metric is not None:
        for at in sorted(rows.by_time):
            value = kind.followers.pick(rows.by_time[at])
            if value is not None and at <= end:
                followers.append((at, value))
        followers = _from_start(followers, start)
    engagement = _from_start(_engagement(posts, kind.interactions, end), start)
    return AccountFigures(account.id, account.platform, platform_name(account.platform), account.name,
                          account.handle, tuple(values), synced_at, not_synced, problem, tuple(followers),
                          tuple(engagement), kind.followers.label)


def _from_start(points: list[tuple[datetime, float]], start: datetime) -> list[tuple[datetime, float]]:
    """The points of the period, led by the last one from before it (where the period's line starts)."""
    before = [p for p in points if p[0] <= start]
    during = [p for p in points if p[0] > start]
    return before[-1:] + during


def _interactions(figures: Mapping[str, float], names: Sequence[str]) -> float | None:
    found = [figures[n] for n in names if n in figures]
    return sum(found) if found else None


def _engagement(posts: Mapping[int, _Rows], names: Sequence[str], end: datetime) -> list[tuple[datetime, float]]:
    """Interactions on the account's posts sent with Picmim, summed at each sync (each post counted with
    its latest figures up to then)."""
    if not names:
        return []
    events = sorted((at, target_id) for target_id, rows in posts.items() for at in rows.by_time if at <= end)
    latest: dict[int, float] = {}
    series: dict[datetime, float] = {}
    for at, target_id in events:
        total = _interactions(posts[target_id].by_time[at], names)
        if total is None:
            continue
        latest[target_id] = total
        series[at] = sum(latest.values())
    return sorted(series.items())


async def _top_posts(session: AsyncSession, post_rows: Mapping[int, _Rows], post_account: Mapping[int, int],
                     accounts: Mapping[int, Account], start: datetime, end: datetime, top: int) -> list[PostFigures]:
    if not post_rows or top <= 0:
        return []
    targets = {t.id: (t, p) for t, p in await session.execute(
        select(PostTarget, Post).join(Post, Post.id == PostTarget.post_id)
        .where(PostTarget.id.in_(list(post_rows))))}
    ranked = []
    for target_id, rows in post_rows.items():
        if target_id not in targets:
            continue
        target, post = targets[target_id]
        account = accounts[post_account[target_id]]
        names = catalogue(account.platform, account.kind).interactions
        _, latest = rows.latest(end)
        now_total = _interactions(latest, names)
        if now_total is None:
            continue
        _, before = rows.latest(start)
        then_total = _interactions(before, names) if before else None
        if then_total is None and target.published_at is not None and target.published_at >= start:
            then_total = 0.0  # published during the period: everything it has was gained in it
        if then_total is None:
            continue  # no figure from when the period began: its gain is unknown
        gained = now_total - then_total
        if gained > 0:
            ranked.append((gained, target_id))
    ranked.sort(key=lambda g: (-g[0], g[1]))
    result = []
    for gained, target_id in ranked[:top]:
        target, post = targets[target_id]
        account = accounts[post_account[target_id]]
        result.append(_post_figures(target, post, account, post_rows[target_id], start, end, gained))
    return result


def _preview(text: str) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= PREVIEW_MAX else text[:PREVIEW_MAX - 1] + "…"


def _post_figures(target: PostTarget, post: Post, account: Account, rows: _Rows, start: datetime, end: datetime,
                  gained: float | None = None) -> PostFigures:
    kind = catalogue(account.platform, account.kind)
    synced_at, current = rows.latest(end)
    values = []
    for figure in kind.post:
        value = figure.pick(current) if synced_at is not None else None
        if synced_at is not None and value is None:
            values.append(Value(figure.label, None, available=False, rate=figure.rate))
            continue
        previous = rows.value_at((figure.metric, *figure.aliases), start, since=start - BASELINE_SLACK)
        values.append(Value(figure.label, value, previous, rate=figure.rate))
    text = target.variant_text if target.variant_text is not None else post.text
    return PostFigures(target.id, account.id, account.name, account.platform, platform_name(account.platform),
                       target.remote_url, _preview(text), target.published_at, tuple(values), synced_at, gained)


async def post_report(session: AsyncSession, workspace_id: int, target_id: int, start: datetime,
                      end: datetime) -> PostFigures | None:
    """One post's figures on one account, compared with their values when the period began."""
    row = (await session.execute(
        select(PostTarget, Post, Account).join(Post, Post.id == PostTarget.post_id)
        .join(Account, Account.id == PostTarget.account_id)
        .where(PostTarget.id == target_id, Post.workspace_id == workspace_id))).first()
    if row is None:
        return None
    target, post, account = row
    rows = _Rows()
    for metric, value, at in await session.execute(
            select(MetricSnapshot.metric, MetricSnapshot.value, MetricSnapshot.captured_at)
            .where(MetricSnapshot.target_id == target_id, MetricSnapshot.captured_at <= end,
                   or_(MetricSnapshot.captured_at > start - BASELINE_SLACK,
                       MetricSnapshot.captured_at == _latest_of(target_id, end)))):
        rows.add(at, metric, value)
    return _post_figures(target, post, account, rows, start, end)


def _latest_of(target_id: int, end: datetime):
    return (select(func.max(MetricSnapshot.captured_at))
            .where(MetricSnapshot.target_id == target_id, MetricSnapshot.captured_at <= end).scalar_subquery())


# ---- what `/picmim stats` was asked about ------------------------------------------------------------------


@dataclass(frozen=True)
class Subject:
    """Accounts (None: every active one) or one post's target."""

    account_ids: tuple[int, ...] | None = None
    target_id: int | None = None
    label: str = "All accounts"


_LINK = re.compile(r"<?(https?://[^\s|>]+)(?:\|[^>]*)?>?")


def _normal_url(url: str) -> str:
    parts = urlsplit(url.strip())
    host = parts.netloc.lower().removeprefix("www.")
    return f"{host}{parts.path.rstrip('/')}"


async def find_subject(session: AsyncSession, workspace_id: int, text: str) -> Subject | None:
    """A post link, an account (@handle or name) or a platform; empty text is every account."""
    text = text.strip()
    if not text:
        return Subject()
    link = _LINK.fullmatch(text) or _LINK.search(text)
    if link:
        wanted = _normal_url(link.group(1))
        rows = (await session.execute(
            select(PostTarget.id, PostTarget.remote_url, PostTarget.remote_id)
            .join(Post, Post.id == PostTarget.post_id)
            .where(Post.workspace_id == workspace_id, PostTarget.remote_url.is_not(None)))).all()
        for target_id, url, _ in rows:
            if _normal_url(url) == wanted:
                return Subject(target_id=target_id, label=link.group(1))
        segments = set(wanted.split("/"))
        for target_id, _, remote_id in rows:
            if remote_id and remote_id.rsplit("/", 1)[-1] in segments:
                return Subject(target_id=target_id, label=link.group(1))
        return None
    wanted = text.lstrip("@").lower()
    accounts = (await session.scalars(select(Account).where(Account.workspace_id == workspace_id,
                                                            Account.active.is_(True)))).all()
    for match in (lambda a: (a.handle or "").lower().lstrip("@") == wanted,
                  lambda a: a.name.lower() == wanted):
        found = [a for a in accounts if match(a)]
        if found:
            return Subject(account_ids=tuple(a.id for a in found), label=found[0].name)
    for info in registry.PLATFORMS:
        if wanted in (info.key, info.name.lower()):
            found = [a for a in accounts if a.platform == info.key]
            return Subject(account_ids=tuple(a.id for a in found), label=info.name) if found else None
    found = [a for a in accounts if wanted in a.name.lower()]
    if len(found) == 1:
        return Subject(account_ids=(found[0].id,), label=found[0].name)
    return None


def account_choices(accounts: Iterable[Account]) -> list[tuple[int, str]]:
    """(id, "Platform · Name") for pickers, in report order."""
    ordered = sorted(accounts, key=lambda a: (platform_order(a.platform), a.name.lower(), a.id))
    return [(a.id, f"{platform_name(a.platform)} · {a.name}") for a in ordered]


async def workspace_accounts(session: AsyncSession, workspace_id: int) -> list[Account]:
    return list((await session.scalars(select(Account).where(Account.workspace_id == workspace_id,
                                                             Account.active.is_(True)))).all())
