"""Follow-ups: a post's figures, replied in the thread of its status message some hours after it goes live (the
workspace's `followup_hours`, 24 hours and 7 days unless an admin changes them in `/picmim settings`), each
figure compared with the account's usual post: the median of its posts of the 90 days before, at the same age.

A follow-up is claimed with a lease in `post_followups` (one row per post and hour; the row's unique key and a
conditional UPDATE decide between processes) before its figures are fetched, and marked sent in the same
transaction that makes it an owed Slack message (bot/services/outbox.py), so it goes out once.

Free of Slack and HTTP details: the caller hands in the time.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.services import outbox
from bot.services.analytics_catalogue import catalogue, platform_name, platform_order
from bot.services.metric_sync import BROKEN
from bot.storage.models import (
    Account,
    Connection,
    MetricSnapshot,
    Post,
    PostFollowUp,
    PostTarget,
    TargetStatus,
    Workspace,
)

LEASE = timedelta(minutes=15)  # longer than fetching one post's figures on every platform it went to
LATE_BY = timedelta(hours=12)  # a follow-up this late is skipped (the app was off, or follow-ups just turned on)
HISTORY = timedelta(days=90)  # the earlier posts a figure is compared with
MIN_HISTORY = 3  # fewer earlier posts with the figure: no comparison
AGE_SLACK = 0.25  # an earlier post's figure counts when taken at 75–100% of the follow-up's age
PREVIEW_MAX = 80  # the post's first words, quoted under the reply's title


@dataclass(frozen=True)
class DueFollowUp:
    post_id: int
    hours: int


@dataclass(frozen=True)
class FigureLine:
    """One figure of the post. `value` None: the platform gives this figure for such posts but did not return it
    this time ("not available", never 0). `usual`: the median of the account's earlier posts at the same age
    (None: fewer than MIN_HISTORY of them have it)."""

    label: str
    value: float | None
    usual: float | None = None
    rate: bool = False

    @property
    def available(self) -> bool:
        return self.value is not None

    @property
    def times_usual(self) -> float | None:
        if self.value is None or self.usual is None or self.usual <= 0:
            return None
        return self.value / self.usual


@dataclass(frozen=True)
class TargetFigures:
    """The post on one account: its figures (empty when Picmim has none yet, `why` says why)."""

    platform: str
    platform_name: str
    account_name: str
    url: str | None
    figures: tuple[FigureLine, ...]
    earlier_posts: int  # the account's earlier posts compared with
    why: str | None = None


@dataclass(frozen=True)
class FollowUp:
    post_id: int
    workspace_id: int
    hours: int
    channel_id: str
    thread_ts: str
    targets: tuple[TargetFigures, ...]
    # The post's first words: the reply names its post, so it still reads right when Slack shows it in the channel
    # (its status message deleted: bot/messages/outbox.py).
    preview: str = ""


def key(post_id: int, hours: int) -> str:
    """The follow-up's key in the Slack outbox: one message ever."""
    return f"followup:{post_id}:{hours}"


async def due(session: AsyncSession, now: datetime, limit: int = 20) -> list[DueFollowUp]:
    """The follow-ups whose time has come (and is not more than LATE_BY past) that were not sent: posts live on
    at least one platform, with a status message to reply to, in workspaces with follow-ups on."""
    hours_of = {wid: sorted({int(h) for h in hours or []}) for wid, hours in await session.execute(
        select(Workspace.id, Workspace.followup_hours).where(Workspace.uninstalled_at.is_(None)))}
    hours_of = {wid: hours for wid, hours in hours_of.items() if hours}
    if not hours_of:
        return []
    longest = timedelta(hours=max(max(h) for h in hours_of.values())) + LATE_BY
    first_live = func.min(PostTarget.published_at)
    rows = (await session.execute(
        select(Post.id, Post.workspace_id, first_live)
        .join(PostTarget, PostTarget.post_id == Post.id)
        .where(Post.workspace_id.in_(list(hours_of)), Post.message_ts.is_not(None), Post.channel_id.is_not(None),
               PostTarget.status == TargetStatus.PUBLISHED, PostTarget.published_at.is_not(None))
        .group_by(Post.id, Post.workspace_id)
        .having(first_live > now - longest, first_live <= now - timedelta(hours=min(min(h) for h in
                                                                                    hours_of.values()))))).all()
    wanted = []
    for post_id, workspace_id, live_at in rows:
        for hours in hours_of[workspace_id]:
            at = live_at + timedelta(hours=hours)
            if at <= now < at + LATE_BY:
                wanted.append(DueFollowUp(post_id, hours))
    if not wanted:
        return []
    taken = set((await session.execute(
        select(PostFollowUp.post_id, PostFollowUp.hours)
        .where(PostFollowUp.post_id.in_({w.post_id for w in wanted}),
               or_(PostFollowUp.sent_at.is_not(None), PostFollowUp.lease_expires_at >= now)))).all())
    return [w for w in sorted(wanted, key=lambda w: (w.hours, w.post_id)) if (w.post_id, w.hours) not in taken][:limit]


async def claim(session: AsyncSession, item: DueFollowUp, owner: str, now: datetime) -> bool:
    """Hold the follow-up for one try (committed). False: sent already, or another process holds it."""
    try:
        async with session.begin_nested():
            session.add(PostFollowUp(post_id=item.post_id, hours=item.hours, lease_owner=owner,
                                     lease_expires_at=now + LEASE))
        await session.commit()
        return True
    except IntegrityError:  # tried before (by this process or another): taken only when free again
        pass
    taken = await session.execute(
        update(PostFollowUp)
        .where(PostFollowUp.post_id == item.post_id, PostFollowUp.hours == item.hours, PostFollowUp.sent_at.is_(None),
               or_(PostFollowUp.lease_expires_at.is_(None), PostFollowUp.lease_expires_at < now))
        .values(lease_owner=owner, lease_expires_at=now + LEASE)
        .execution_options(synchronize_session=False))
    await session.commit()
    return taken.rowcount == 1


async def release(session: AsyncSession, item: DueFollowUp, owner: str, retry_at: datetime) -> None:
    """Not sent this time (committed): any process may try again from `retry_at`."""
    await session.execute(update(PostFollowUp)
                          .where(PostFollowUp.post_id == item.post_id, PostFollowUp.hours == item.hours,
                                 PostFollowUp.lease_owner == owner, PostFollowUp.sent_at.is_(None))
                          .values(lease_expires_at=retry_at)
                          .execution_options(synchronize_session=False))
    await session.commit()


async def hand_over(session: AsyncSession, item: DueFollowUp, owner: str, owed: outbox.Owed,
                    now: datetime, outbox_now: datetime) -> bool:
    """Mark the follow-up sent and owe its message to Slack, in one transaction (committed). False: the lease was
    lost meanwhile (another process has it), so nothing is owed."""
    marked = await session.execute(
        update(PostFollowUp)
        .where(PostFollowUp.post_id == item.post_id, PostFollowUp.hours == item.hours,
               PostFollowUp.lease_owner == owner, PostFollowUp.sent_at.is_(None))
        .values(sent_at=now, lease_owner=None, lease_expires_at=None)
        .execution_options(synchronize_session=False))
    if marked.rowcount != 1:
        await session.rollback()
        return False
    outbox.owe(session, owed, outbox_now)
    await session.commit()
    return True


async def accounts_to_fetch(session: AsyncSession, post_id: int, now: datetime, fresh_for: timedelta,
                            platforms: Collection[str]) -> dict[int, list[int]]:
    """The post's live targets by account whose figures are older than `fresh_for` and can be fetched (a working
    connection on one of these platforms), worth fetching first."""
    found: dict[int, list[int]] = defaultdict(list)
    for target_id, account_id, synced_at in await session.execute(
            select(PostTarget.id, PostTarget.account_id, PostTarget.metrics_synced_at)
            .join(Account, Account.id == PostTarget.account_id)
            .join(Connection, Connection.id == Account.connection_id)
            .where(PostTarget.post_id == post_id, PostTarget.status == TargetStatus.PUBLISHED,
                   PostTarget.remote_id.is_not(None), Account.active.is_(True),
                   Account.platform.in_(list(platforms)), Connection.access_token.is_not(None),
                   Connection.status.not_in(BROKEN))):
        if synced_at is None or synced_at < now - fresh_for:
            found[account_id].append(target_id)
    return dict(found)


async def build(session: AsyncSession, item: DueFollowUp, now: datetime) -> FollowUp | None:
    """The follow-up's content from the stored figures; None when there is nothing to reply to any more (the
    post or its status message is gone)."""
    post = await session.get(Post, item.post_id)
    if post is None or not post.message_ts or not post.channel_id:
        return None
    rows = (await session.execute(
        select(PostTarget, Account).join(Account, Account.id == PostTarget.account_id)
        .where(PostTarget.post_id == post.id, PostTarget.status == TargetStatus.PUBLISHED,
               PostTarget.published_at.is_not(None)))).all()
    targets = [await _target_figures(session, target, account, item.hours, now) for target, account in rows]
    targets.sort(key=lambda t: (platform_order(t.platform), t.account_name.lower()))
    text = post.text or next((target.variant_text for target, _ in rows if target.variant_text), "")
    return FollowUp(post.id, post.workspace_id, item.hours, post.channel_id, post.message_ts, tuple(targets),
                    _preview(text))


def _preview(text: str) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= PREVIEW_MAX else text[:PREVIEW_MAX - 1] + "…"


async def _latest(session: AsyncSession, target_id: int, until: datetime,
                  since: datetime | None = None) -> dict[str, float]:
    """A target's figures from its latest snapshot taken at or before `until` (and not before `since`)."""
    when = select(func.max(MetricSnapshot.captured_at)).where(MetricSnapshot.target_id == target_id,
                                                              MetricSnapshot.captured_at <= until)
    if since is not None:
        when = when.where(MetricSnapshot.captured_at >= since)
    at = await session.scalar(when)
    if at is None:
        return {}
    return dict((await session.execute(select(MetricSnapshot.metric, MetricSnapshot.value)
                                       .where(MetricSnapshot.target_id == target_id,
                                              MetricSnapshot.captured_at == at))).all())


async def _target_figures(session: AsyncSession, target: PostTarget, account: Account, hours: int,
                          now: datetime) -> TargetFigures:
    kind = catalogue(account.platform, account.kind)
    current = await _latest(session, target.id, now)
    age = timedelta(hours=hours)
    earlier = (await session.execute(
        select(PostTarget.id, PostTarget.published_at)
        .where(PostTarget.account_id == account.id, PostTarget.id != target.id,
               PostTarget.status == TargetStatus.PUBLISHED,
               PostTarget.published_at >= target.published_at - HISTORY,
               PostTarget.published_at < target.published_at))).all()
    history = [await _latest(session, tid, at + age, since=at + age * (1 - AGE_SLACK)) for tid, at in earlier]
    history = [h for h in history if h]
    lines = []
    # The account's figures are the same lines in every follow-up: each one its platform gives for such posts
    # (the catalogue), a figure missing from this time's answer written "not available". One the platform does
    # not give for a post (no metric in the catalogue) is left out. No figures at all: said once, below.
    for figure in kind.post if current else ():
        if figure.metric is None:
            continue
        before = [v for v in (figure.pick(h) for h in history) if v is not None]
        usual = statistics.median(before) if len(before) >= MIN_HISTORY else None
        lines.append(FigureLine(figure.label, figure.pick(current), usual, figure.rate))
    why = None
    if not current:
        why = account.metrics_error or f"{platform_name(account.platform)} has not given its figures yet."
    return TargetFigures(account.platform, platform_name(account.platform), account.name, target.remote_url,
                         tuple(lines), len(history), why)
