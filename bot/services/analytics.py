"""Analytics: the platforms' figures fetched on a cadence and kept as snapshots, and the figures a report
(a digest or `/picmim stats`) shows.

Sync. Each account's figures are fetched every few hours, and the figures of the posts sent through
Picmim more often in their first days (hourly on the first day), then less, and not after 90 days.
An account is claimed with a lease before its platform call, so two processes never fetch it at once;
the same column holds it back for as long as a platform asked (`RateLimited.retry_after`).

Reports. Every figure keeps the platform's own name; one the platform does not give to this kind of
account is "not available"; one it gives but Picmim has no fresh snapshot of is "missing" — never 0.

Free of Slack and HTTP details: the caller hands in the adapters and the time.
"""

from __future__ import annotations

import logging
import math
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from sqlalchemy import exists, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.platforms import registry
from bot.platforms.base import (
    AccessRevoked,
    AccountRef,
    Adapter,
    PlatformError,
    RateLimited,
    TokenExpired,
    Transient,
)
from bot.platforms.instagram_publishing import METRICS_WINDOW as META_WINDOW
from bot.platforms.linkedin import FOLLOWER_GAIN_DAYS
from bot.platforms.pinterest import ANALYTICS_DAYS as PINTEREST_DAYS
from bot.platforms.youtube import ANALYTICS_DAYS as YOUTUBE_DAYS
from bot.services.connections import GUIDANCE, guidance, token_set
from bot.storage.models import (
    Account,
    Connection,
    ConnectionStatus,
    MetricSnapshot,
    Post,
    PostTarget,
    TargetStatus,
    Workspace,
    utcnow,
)

log = logging.getLogger(__name__)

# ---- what each platform calls its figures -----------------------------------------------------------


@dataclass(frozen=True)
class Figure:
    """One figure as a platform names it. `metric` is the name in its API (None: the platform gives no
    such figure to this kind of account); `label` is what it calls it for people."""

    metric: str | None
    label: str
    window: str | None = None  # the rolling window the platform computes it over ("28 days")
    rate: bool = False  # a ratio: 0.05 is shown as 5%
    aliases: tuple[str, ...] = ()  # other names the platform has used for it

    def pick(self, values: Mapping[str, float]) -> float | None:
        for name in (self.metric, *self.aliases):
            if name is not None and name in values:
                return values[name]
        return None


@dataclass(frozen=True)
class Catalogue:
    """What a report shows for one kind of account: its headline figures (followers first), a post's
    figures, and the post figures that together are its engagement (charted per account)."""

    account: tuple[Figure, ...]
    post: tuple[Figure, ...]
    interactions: tuple[str, ...]

    @property
    def followers(self) -> Figure:
        return self.account[0]


def _days(n: int) -> str:
    return f"{n} days"


_META_DAYS = _days(META_WINDOW.days)
_INSTAGRAM = Catalogue(
    account=(Figure("followers_count", "Followers"), Figure("views", "Views", _META_DAYS),
             Figure("reach", "Reach", _META_DAYS), Figure("accounts_engaged", "Accounts engaged", _META_DAYS),
             Figure("total_interactions", "Interactions", _META_DAYS), Figure("media_count", "Posts")),
    post=(Figure("views", "Views"), Figure("reach", "Reach"), Figure("like_count", "Likes"),
          Figure("comments_count", "Comments"), Figure("shares", "Shares"), Figure("saved", "Saves"),
          Figure("total_interactions", "Interactions")),
    interactions=("like_count", "comments_count", "shares", "saved"))
_LINKEDIN_PAGE_POST = (
    Figure("impressionCount", "Impressions"), Figure("uniqueImpressionsCount", "Unique impressions"),
    Figure("clickCount", "Clicks"), Figure("likeCount", "Reactions"), Figure("commentCount", "Comments"),
    Figure("shareCount", "Reposts"), Figure("engagement", "Engagement rate", rate=True))
_LINKEDIN_MEMBER_POST = (Figure("IMPRESSION", "Impressions"), Figure("MEMBERS_REACHED", "Members reached"),
                         Figure("REACTION", "Reactions"), Figure("COMMENT", "Comments"),
                         Figure("RESHARE", "Reposts"))
_PIN_DAYS = _days(PINTEREST_DAYS)
_YT_DAYS = _days(YOUTUBE_DAYS)

CATALOGUES: dict[tuple[str, str | None], Catalogue] = {
    ("instagram", None): _INSTAGRAM,
    ("instagram-login", None): _INSTAGRAM,
    ("facebook", None): Catalogue(
        account=(Figure("followers_count", "Followers"), Figure("page_media_view", "Views", _days(28)),
                 Figure("page_total_media_view_unique", "Viewers", _days(28)),
                 Figure("page_post_engagements", "Post engagements", _days(28)),
                 Figure("page_follows", "Follows", _days(28))),
        post=(Figure("post_media_view", "Views"), Figure("post_total_media_view_unique", "Viewers"),
              Figure("reactions", "Reactions"), Figure("comments", "Comments"), Figure("shares", "Shares")),
        interactions=("reactions", "comments", "shares")),
    ("linkedin", "company"): Catalogue(
        account=(Figure("followerCount", "Followers"),
                 Figure("organicFollowerGain", "Organic follower gain", _days(FOLLOWER_GAIN_DAYS)),
                 Figure("paidFollowerGain", "Paid follower gain", _days(FOLLOWER_GAIN_DAYS)),
                 *_LINKEDIN_PAGE_POST),
        post=_LINKEDIN_PAGE_POST,
        interactions=("likeCount", "commentCount", "shareCount")),
    ("linkedin", None): Catalogue(  # a member's profile: LinkedIn gives no follower figure to apps
        account=(Figure(None, "Followers"), *_LINKEDIN_MEMBER_POST),
        post=_LINKEDIN_MEMBER_POST,
        interactions=("REACTION", "COMMENT", "RESHARE")),
    ("x", None): Catalogue(
        account=(Figure("followers_count", "Followers"), Figure("following_count", "Following"),
                 Figure("tweet_count", "Posts"), Figure("listed_count", "Listed"), Figure(None, "Impressions")),
        post=(Figure("impression_count", "Impressions"), Figure("like_count", "Likes"),
              Figure("retweet_count", "Reposts", aliases=("repost_count",)), Figure("reply_count", "Replies"),
              Figure("quote_count", "Quotes"), Figure("bookmark_count", "Bookmarks")),
        interactions=("like_count", "retweet_count", "repost_count", "reply_count", "quote_count",
                      "bookmark_count")),
    ("tiktok", None): Catalogue(
        account=(Figure("follower_count", "Followers"), Figure("following_count", "Following"),
                 Figure("likes_count", "Likes"), Figure("video_count", "Videos"), Figure(None, "Views")),
        post=(Figure("view_count", "Views"), Figure("like_count", "Likes"), Figure("comment_count", "Comments"),
              Figure("share_count", "Shares")),
        interactions=("like_count", "comment_count", "share_count")),
    ("pinterest", None): Catalogue(
        account=(Figure("follower_count", "Followers"), Figure("IMPRESSION", "Impressions", _PIN_DAYS),
                 Figure("ENGAGEMENT", "Engagements", _PIN_DAYS), Figure("PIN_CLICK", "Pin clicks", _PIN_DAYS),
                 Figure("OUTBOUND_CLICK", "Outbound clicks", _PIN_DAYS), Figure("SAVE", "Saves", _PIN_DAYS)),
        post=(Figure("IMPRESSION", "Impressions"), Figure("PIN_CLICK", "Pin clicks"),
              Figure("OUTBOUND_CLICK", "Outbound clicks"), Figure("SAVE", "Saves")),
        interactions=("PIN_CLICK", "OUTBOUND_CLICK", "SAVE")),
    ("youtube", None): Catalogue(
        account=(Figure("subscriberCount", "Subscribers"), Figure("viewCount", "Views"),
                 Figure("videoCount", "Videos"),
                 Figure("estimatedMinutesWatched", "Watch time (minutes)", _YT_DAYS),
                 Figure("averageViewDuration", "Average view duration (seconds)", _YT_DAYS),
                 Figure("subscribersGained", "Subscribers gained", _YT_DAYS),
                 Figure("subscribersLost", "Subscribers lost", _YT_DAYS)),
        post=(Figure("viewCount", "Views"), Figure("likeCount", "Likes"), Figure("commentCount", "Comments")),
        interactions=("likeCount", "commentCount")),
    ("bluesky", None): Catalogue(
        account=(Figure("followersCount", "Followers"), Figure("followsCount", "Following"),
                 Figure("postsCount", "Posts"), Figure(None, "Views")),
        post=(Figure("likeCount", "Likes"), Figure("repostCount", "Reposts"), Figure("replyCount", "Replies"),
              Figure("quoteCount", "Quotes")),
        interactions=("likeCount", "repostCount", "replyCount", "quoteCount")),
}
_UNKNOWN = Catalogue(account=(Figure(None, "Followers"),), post=(), interactions=())


def catalogue(platform: str, kind: str | None) -> Catalogue:
    return CATALOGUES.get((platform, kind)) or CATALOGUES.get((platform, None)) or _UNKNOWN


def platform_name(key: str) -> str:
    info = registry.get(key)
    return info.name if info else key


def platform_order(key: str) -> int:
    keys = [p.key for p in registry.PLATFORMS]
    return keys.index(key) if key in keys else len(keys)


# ---- sync ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Cadence:
    account_every: timedelta = timedelta(hours=6)
    # (a post younger than this, fetch its figures this often); older than the last step: not at all.
    post_steps: tuple[tuple[timedelta, timedelta], ...] = (
        (timedelta(days=1), timedelta(hours=1)),
        (timedelta(days=3), timedelta(hours=3)),
        (timedelta(days=14), timedelta(hours=12)),
        (timedelta(days=90), timedelta(days=1)),
    )
    min_gap: timedelta = timedelta(minutes=5)  # never sooner than this after a sync
    backoff: timedelta = timedelta(minutes=15)  # after a passing failure the platform put no time on
    lease: timedelta = timedelta(minutes=10)  # longer than the slowest fetch (LinkedIn: one call per figure)
    posts_per_sync: int = 100
    accounts_per_tick: int = 20

    def post_every(self, age: timedelta) -> timedelta | None:
        for younger_than, every in self.post_steps:
            if age < younger_than:
                return every
        return None

    @property
    def followed_for(self) -> timedelta:
        return self.post_steps[-1][0]

    def post_due_at(self, published_at: datetime, synced_at: datetime | None, now: datetime) -> datetime | None:
        every = self.post_every(now - published_at)
        return None if every is None else (synced_at or published_at) + every


BROKEN = (ConnectionStatus.EXPIRED, ConnectionStatus.REVOKED)


@dataclass(frozen=True)
class SyncOutcome:
    account_id: int
    synced: bool
    detail: str | None = None
    retry_at: datetime | None = None  # the next visit
    rate_limited: bool = False


class MetricSync:
    """Fetches due figures and stores them as snapshots. One per process; `tick()` is what the
    scheduler calls."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], adapters: Mapping[str, Adapter],
                 cadence: Cadence = Cadence(), clock: Callable[[], datetime] = utcnow):
        self.sessions, self.adapters, self.cadence, self.clock = sessions, adapters, cadence, clock

    async def tick(self, now: datetime | None = None) -> list[SyncOutcome]:
        """Sync the due accounts, one after the other (`now` fixes the time, for tests)."""
        async with self.sessions() as session:
            candidates = (await session.execute(self._due(now or self.clock()))).all()
            await session.commit()
        outcomes: list[SyncOutcome] = []
        slowed: set[str] = set()  # platforms that asked to slow down during this tick
        for account_id, platform in candidates:
            if platform in slowed:
                continue
            at = now or self.clock()  # each account's figures are stamped with their own time
            if not await self._claim(account_id, at):
                continue  # another process has it
            outcome = await self.sync_account(account_id, at)
            outcomes.append(outcome)
            if outcome.rate_limited:
                slowed.add(platform)
        return outcomes

    def _due(self, now: datetime):
        new_post = exists().where(
            PostTarget.account_id == Account.id, PostTarget.status == TargetStatus.PUBLISHED,
            PostTarget.remote_id.is_not(None), PostTarget.metrics_synced_at.is_(None),
            PostTarget.published_at <= now - self.cadence.post_steps[0][1],
            PostTarget.published_at > now - self.cadence.followed_for)
        return (select(Account.id, Account.platform)
                .join(Connection, Connection.id == Account.connection_id)
                .join(Workspace, Workspace.id == Account.workspace_id)
                .where(Account.active.is_(True), Account.platform.in_(list(self.adapters)),
                       Connection.access_token.is_not(None), Connection.status.not_in(BROKEN),
                       Workspace.uninstalled_at.is_(None),
                       or_(Account.metrics_claimed_until.is_(None), Account.metrics_claimed_until < now),
                       or_(Account.metrics_due_at.is_(None), Account.metrics_due_at <= now, new_post))
                .order_by(Account.metrics_due_at.nulls_first(), Account.id)
                .limit(self.cadence.accounts_per_tick))

    async def _claim(self, account_id: int, now: datetime) -> bool:
        async with self.sessions() as session:
            claimed = await session.execute(
                update(Account)
                .where(Account.id == account_id,
                       or_(Account.metrics_claimed_until.is_(None), Account.metrics_claimed_until < now))
                .values(metrics_claimed_until=now + self.cadence.lease)
                .execution_options(synchronize_session=False))
            await session.commit()
        return claimed.rowcount == 1

    async def sync_account(self, account_id: int, now: datetime) -> SyncOutcome:
        """Fetch one (claimed) account's figures and its due posts' figures, and store them."""
        async with self.sessions() as session:
            account = await session.get(Account, account_id)
            connection = await session.get(Connection, account.connection_id) if account.connection_id else None
            adapter = self.adapters.get(account.platform)
            if connection is None or connection.access_token is None or adapter is None:
                return await self._hold(session, account, now + self.cadence.account_every,
                                        "It is not connected, so Picmim cannot read its figures.")
            targets = await self._due_targets(session, account.id, now)
            ref = AccountRef(platform=account.platform, external_id=account.external_id, kind=account.kind,
                             name=account.name, user_token=connection.access_token, token=account.access_token,
                             handle=account.handle, settings=dict(account.settings or {}),
                             extra=dict(token_set(connection).extra))
            await session.commit()  # no transaction stays open while the platform answers
            try:
                metrics = await adapter.fetch_metrics(ref, [t.remote_id for t in targets])
            except RateLimited as exc:
                # The adapters' words are about posts; these are about figures.
                wait = timedelta(seconds=exc.retry_after) if exc.retry_after else self.cadence.backoff
                return await self._hold(session, account, now + wait, f"{platform_name(account.platform)} asked "
                                        "Picmim to slow down; it reads the figures again when allowed.",
                                        rate_limited=True)
            except Transient as exc:
                return await self._hold(session, account, now + self.cadence.backoff, exc.message)
            except TokenExpired as exc:  # the token health job renews tokens; until then, wait
                return await self._hold(session, account, now + self.cadence.backoff,
                                        f"{exc.message} {GUIDANCE['token_expired']}")
            except AccessRevoked as exc:
                connection.status, connection.status_cause = ConnectionStatus.REVOKED, exc.reason.value
                connection.last_error = str(exc)[:1000]
                return await self._hold(session, account, now + self.cadence.account_every,
                                        f"{exc.message} {GUIDANCE.get(exc.reason, '')}".strip())
            except PlatformError as exc:
                return await self._hold(session, account, now + self.cadence.account_every, str(exc))
            except Exception:  # a bug must not stop the other accounts
                log.exception("Fetching the figures of account %s failed unexpectedly", account_id)
                return await self._hold(session, account, now + self.cadence.backoff,
                                        "Picmim could not read the figures this time; it tries again later.")
            by_remote = {t.remote_id: t for t in targets}
            session.add_all(_snapshots(account.id, None, metrics.account, now))
            for remote_id, figures in metrics.posts.items():
                target = by_remote.get(remote_id)
                if target is not None:
                    session.add_all(_snapshots(account.id, target.id, figures, now))
            for target in targets:  # asked for, answered or not (a deleted post has no figures)
                target.metrics_synced_at = now
            await session.flush()
            account.metrics_synced_at, account.metrics_error = now, None
            account.metrics_due_at = await self._next_due(session, account.id, now)
            account.metrics_claimed_until = None
            await session.commit()
            return SyncOutcome(account_id, True, retry_at=account.metrics_due_at)

    async def _due_targets(self, session: AsyncSession, account_id: int, now: datetime) -> list[PostTarget]:
        rows = (await session.scalars(
            select(PostTarget).where(PostTarget.account_id == account_id,
                                     PostTarget.status == TargetStatus.PUBLISHED,
                                     PostTarget.remote_id.is_not(None), PostTarget.published_at.is_not(None),
                                     PostTarget.published_at > now - self.cadence.followed_for)
            .order_by(PostTarget.published_at.desc()))).all()
        due = []
        for target in rows:
            at = self.cadence.post_due_at(target.published_at, target.metrics_synced_at, now)
            if at is not None and at <= now:
                due.append(target)
        return due[:self.cadence.posts_per_sync]

    async def _next_due(self, session: AsyncSession, account_id: int, now: datetime) -> datetime:
        """The account's next visit: its own cadence, or sooner when one of its posts is due sooner."""
        next_due = now + self.cadence.account_every
        rows = await session.execute(
            select(PostTarget.published_at, PostTarget.metrics_synced_at)
            .where(PostTarget.account_id == account_id, PostTarget.status == TargetStatus.PUBLISHED,
                   PostTarget.remote_id.is_not(None), PostTarget.published_at.is_not(None),
                   PostTarget.published_at > now - self.cadence.followed_for))
        for published_at, synced_at in rows:
            at = self.cadence.post_due_at(published_at, synced_at, now)
            if at is not None:
                next_due = min(next_due, at)
        return max(next_due, now + self.cadence.min_gap)

    async def _hold(self, session: AsyncSession, account: Account, until: datetime, why: str,
                    rate_limited: bool = False) -> SyncOutcome:
        """Not synced this time: nobody tries this account again before `until`."""
        account.metrics_error = why[:1000]
        account.metrics_due_at = until
        account.metrics_claimed_until = until  # also holds off other processes (a rate limit is per account)
        await session.commit()
        return SyncOutcome(account.id, False, why, until, rate_limited)


def _snapshots(account_id: int, target_id: int | None, figures: Mapping[str, float],
               now: datetime) -> list[MetricSnapshot]:
    rows = []
    for name, value in figures.items():
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            continue  # not a figure (a platform's flag or an empty value): nothing to keep
        rows.append(MetricSnapshot(account_id=account_id, target_id=target_id, metric=str(name)[:64],
                                   value=float(value), captured_at=now))
    return rows


# ---- report figures ------------------------------------------------------------------------------------

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


