"""Reports Picmim posts into channels: analytics digests (sent by a periodic job from any process, once:
`bot.services.digests` leases) and reports shared from `/picmim stats`, with their chart uploaded through
Slack's external upload (`files_upload_v2`)."""

from __future__ import annotations

import asyncio
import base64
import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime

from slack_sdk.errors import SlackApiError, SlackRequestError
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot import charts
from bot.media import renditions
from bot.media.store import ORIGINAL, MediaStore
from bot.messages import outbox as sending
from bot.messages.outbox import TRANSPORT, Sent, is_passing
from bot.services import analytics, digests, outbox, post_thumbnails, roles
from bot.services.digests import Run
from bot.slack_errors import error_of
from bot.storage.models import Account, Connection, ConnectionStatus, DigestSubscription, Workspace, utcnow
from bot.views import stats as views
from bot.views.blocks import local_date

log = logging.getLogger(__name__)

TITLES = {"daily": "Daily digest", "weekly": "Weekly digest", "monthly": "Monthly digest"}
COMPARED = {"daily": "the day before", "weekly": "the week before", "monthly": "the month before"}
CHART_NOTE = ("The chart shows followers and engagement (likes, comments, shares… on posts sent with Picmim) "
              "over the period, one line per account.")
NO_CHART_HERE = ("The chart could not be attached: Picmim is not a member of this channel. Invite it with "
                 "`/invite @Picmim` to get the chart next time.")
THUMBNAIL_LINK_LIFETIME = 30 * 24 * 3600  # seconds a digest's picture links work; Slack keeps its own copy anyway
# Slack errors that mean nothing was shared and trying again soon may work.
PASSING = {"ratelimited", "internal_error", "fatal_error", "service_unavailable", "request_timeout"}
# ---- posting a report into a channel -------------------------------------------------------------------


@dataclass(frozen=True)
class Delivery:
    ok: bool
    with_chart: bool = False
    error: str | None = None  # in words, for the subscription's list or the person who shared
    retry: bool = False  # nothing reached the channel and trying again soon may work
    slack_error: str | None = None  # Slack's own error code, when Slack refused


def _refusal(channel_id: str, error: str | None) -> Delivery:
    if error in PASSING or (error and is_passing(error)):  # is_passing: also Slack's HTML 5xx pages
        return Delivery(False, error="Slack was busy and did not take the digest; Picmim tries again.", retry=True,
                        slack_error=error)
    if error in ("channel_not_found", "is_archived", "invalid_channel"):
        return Delivery(False, error=f"The channel <#{channel_id}> is gone or archived, or Picmim cannot see it "
                                     "(a private channel needs `/invite @Picmim`).", slack_error=error)
    if error == "not_in_channel":
        return Delivery(False, error=f"Picmim is not a member of <#{channel_id}>: invite it with `/invite @Picmim`.",
                        slack_error=error)
    return Delivery(False, error=f"Slack refused the message ({error}).", slack_error=error)


def without_pictures(blocks: list[dict] | None) -> list[dict] | None:
    """The blocks without the top posts' pictures beside them."""
    if blocks is None:
        return None
    return [{k: v for k, v in b.items() if not (k == "accessory" and v.get("type") == "image")} for b in blocks]


async def deliver(client: AsyncWebClient, channel_id: str, blocks: list[dict], text: str, chart: bytes | None = None,
                  chart_name: str = "", chart_title: str = "", chart_alt: str = "",
                  blocks_without_chart: list[dict] | None = None) -> Delivery:
    """`_deliver`; when Slack refuses the blocks because it could not fetch a picture (PUBLIC_URL not reachable
    from Slack, a file gone), the report goes without the pictures rather than not at all."""
    delivery = await _deliver(client, channel_id, blocks, text, chart, chart_name, chart_title, chart_alt,
                              blocks_without_chart)
    if delivery.slack_error == "invalid_blocks" and without_pictures(blocks) != blocks:
        delivery = await _deliver(client, channel_id, without_pictures(blocks), text, chart, chart_name, chart_title,
                                  chart_alt, without_pictures(blocks_without_chart))
    return delivery


async def _deliver(client: AsyncWebClient, channel_id: str, blocks: list[dict], text: str, chart: bytes | None = None,
                  chart_name: str = "", chart_title: str = "", chart_alt: str = "",
                  blocks_without_chart: list[dict] | None = None) -> Delivery:
    """One message in the channel: the blocks with the chart attached (Slack's external upload shares the
    file with the blocks as its message), or the blocks alone when there is no chart, or
    `blocks_without_chart` when Picmim may write in the channel (chat:write.public) but not share files."""
    if chart is not None:
        try:
            await client.files_upload_v2(channel=channel_id, file=chart, filename=chart_name, title=chart_title,
                                         alt_txt=chart_alt[:1000], blocks=json.dumps(blocks))
            return Delivery(True, with_chart=True)
        except SlackApiError as exc:
            error = error_of(exc)
            if error != "not_in_channel":
                return _refusal(channel_id, error)
            blocks = blocks_without_chart or blocks
        except (SlackRequestError, *TRANSPORT) as exc:  # the bytes were refused, or Slack did not answer
            log.warning("Uploading a chart failed: %s", exc)
            return Delivery(False, error="Slack did not take the chart; Picmim tries again.", retry=True)
    try:
        await client.chat_postMessage(channel=channel_id, blocks=blocks, text=text)
    except SlackApiError as exc:
        return _refusal(channel_id, error_of(exc))
    except TRANSPORT as exc:  # a timeout or a dropped connection: kept and tried again, like a busy Slack
        log.warning("Posting a report failed: %s", type(exc).__name__)
        return Delivery(False, error="Slack did not answer; Picmim tries again.", retry=True)
    return Delivery(True)


BROKEN = (ConnectionStatus.EXPIRED, ConnectionStatus.REVOKED, ConnectionStatus.ERROR)


async def reconnectable(session: AsyncSession, report: analytics.Report) -> dict[int, int]:
    """The connection behind each account of the report whose figures stopped because its connection broke
    (account id -> connection id): the report offers Reconnect on that account's one line."""
    stalled = [a.account_id for a in report.accounts if a.not_synced]
    if not stalled:
        return {}
    rows = await session.execute(
        select(Account.id, Connection.id).join(Connection, Connection.id == Account.connection_id)
        .where(Account.id.in_(stalled), Connection.status.in_(BROKEN)))
    return {account_id: connection_id for account_id, connection_id in rows.all()}


def chart_lines(report: analytics.Report) -> list[charts.Line]:
    """One line per account, in report order (so its colour is `charts.color(its index)`)."""
    return [charts.Line(f"{a.platform_name} · {a.name}", a.followers, a.engagement, a.followers_label)
            for a in report.accounts]


async def draw(report: analytics.Report, tz: str, title: str) -> bytes | None:
    if not report.has_chart_data:
        return None
    # Drawing takes a moment of CPU: in a thread, so the event loop keeps answering Slack.
    heading = f"{title}: {local_date(report.start, tz)} → {local_date(report.end, tz)}"
    return await asyncio.to_thread(charts.growth_chart, chart_lines(report), report.start, report.end, tz, heading)


@dataclass(frozen=True)
class Prepared:
    """A report ready to go: its blocks with and without the chart, and the chart itself."""

    blocks: list[dict]
    blocks_without_chart: list[dict]
    text: str
    chart: bytes | None
    chart_name: str
    chart_title: str
    chart_alt: str


async def prepare(report: analytics.Report, tz: str, title: str, compared_with: str,
                  intro: str | None = None, reconnect: Mapping[int, int] | None = None,
                  thumbnails: Mapping[int, str] | None = None) -> Prepared:
    chart = await draw(report, tz, title)

    def blocks(note: str | None) -> list[dict]:
        built = views.report_blocks(report, tz, title, compared_with=compared_with, chart_note=note,
                                    reconnect=reconnect, thumbnails=thumbnails)
        if intro:
            built.insert(2, {"type": "context", "elements": [{"type": "mrkdwn", "text": intro}]})
        return built

    day = local_date(report.end, tz).replace(" ", "-")
    return Prepared(blocks(CHART_NOTE if chart else None), blocks(NO_CHART_HERE), views.report_text(report, title, tz),
                    chart, f"picmim-{title.lower().replace(' ', '-')}-{day}.png", f"{title}, {day}",
                    f"Followers and engagement per account, {views.period_text(report.start, report.end, tz)}")


async def send_prepared(client: AsyncWebClient, channel_id: str, prepared: Prepared) -> Delivery:
    return await deliver(client, channel_id, prepared.blocks, prepared.text, prepared.chart, prepared.chart_name,
                         prepared.chart_title, prepared.chart_alt, blocks_without_chart=prepared.blocks_without_chart)


async def post_report(client: AsyncWebClient, channel_id: str, report: analytics.Report, tz: str, title: str,
                      compared_with: str, intro: str | None = None,
                      reconnect: Mapping[int, int] | None = None) -> Delivery:
    return await send_prepared(client, channel_id, await prepare(report, tz, title, compared_with, intro, reconnect))


# ---- the job ------------------------------------------------------------------------------------------------


class DigestSender:
    """Sends the due digests. One per process; `tick()` is what the scheduler calls."""

    def __init__(self, runtime, clock: Callable[[], datetime] = utcnow):
        self.runtime, self.clock = runtime, clock

    async def tick(self) -> list[Delivery]:
        sessions = self.runtime.sessions
        async with sessions() as session:
            await digests.settle_lapsed(session, self.clock())
        async with sessions() as session:
            runs = await digests.claim_due(session, self.clock())
        return [await self.send(run) for run in runs]

    async def send(self, run: Run) -> Delivery:
        sessions = self.runtime.sessions
        try:
            async with sessions() as session:
                sub = await session.get(DigestSubscription, run.subscription_id)
                if sub is None:
                    return Delivery(False, error="unsubscribed meanwhile")
                workspace = await session.get(Workspace, sub.workspace_id)
                report = await analytics.build_report(session, workspace.id, run.start, run.end,
                                                      account_ids=sub.account_ids or None,
                                                      platforms=sub.platforms or None)
                channel_id, tz, frequency, subscriber = sub.channel_id, sub.timezone, sub.frequency, sub.created_by
                reconnect = await reconnectable(session, report)
                pictures = await top_post_thumbnails(self.runtime, session, report, self.clock())
                rules = await roles.load_rules(session, workspace)
                await session.commit()
            client = await self.runtime.slack_client(workspace.team_id, workspace.enterprise_id)
            if client is None:
                delivery = Delivery(False, error="Picmim is no longer installed in this workspace.")
            else:
                intro = None
                if rules.any_roles:  # checked again at each run: the subscriber may have lost rights since
                    access = await subscriber_access(client, workspace.team_id, rules, subscriber)
                    report, left_out = digests.seen_by(report, access)
                    intro = roles.left_out_line(left_out, subscriber)
                # Everything is ready before the mark: a process that dies drawing leaves the digest due.
                prepared = await prepare(report, tz, TITLES[frequency], COMPARED[frequency], intro=intro,
                                         reconnect=reconnect, thumbnails=pictures)
                async with sessions() as session:
                    if not await digests.start_sending(session, run, self.clock()):
                        return Delivery(False, error="another process took over this digest")
                delivery = await send_prepared(client, channel_id, prepared)
                if delivery.retry:
                    # Slack did not take it for a passing reason: the outbox keeps this very digest until it
                    # does, and the subscription moves on to its next run.
                    await sending.keep(self.runtime, owed_digest(workspace.id, run, channel_id, prepared),
                                       delivery.error or "busy")
                    async with sessions() as session:
                        await digests.finish(session, run, self.clock())
                    return delivery
        except Exception:  # one bad digest must not stop the others; it may have been sent: never resent
            log.exception("Sending digest %s failed", run.subscription_id)
            delivery = Delivery(False, error="Something went wrong inside Picmim while sending this digest.")
        async with sessions() as session:
            await digests.finish(session, run, self.clock(), None if delivery.ok else delivery.error, delivery.retry)
        if delivery.ok:
            log.info("Digest %s sent for %s", run.subscription_id, run.end.isoformat())
        return delivery


async def top_post_thumbnails(runtime, session: AsyncSession, report: analytics.Report,
                              now: datetime | None = None) -> dict[int, str]:
    """A picture per top post that has one (target id -> a link Slack can fetch)."""
    store = MediaStore.from_settings(runtime.settings)

    async def picture(item) -> str | None:
        if not await asyncio.to_thread(store.path(item.sha256).is_file):
            return None  # deleted after the retention period: no picture rather than a broken one
        return store.link(item.sha256, ORIGINAL, item.mimetype, lifetime=THUMBNAIL_LINK_LIFETIME)

    async def cover(post) -> str | None:
        return await renditions.cover_link(session, store, post)

    return await post_thumbnails.thumbnails(session, [p.target_id for p in report.top_posts], picture, cover, now)


async def subscriber_access(client: AsyncWebClient, team_id: str, rules: roles.Rules, user_id: str) -> roles.Access:
    """What a digest's subscriber may see now, as Slack and the roles say. Slack not answering whether they are a
    workspace admin counts as not: only their roles (and being named a Picmim admin) then say what they see."""
    try:
        user = (await client.users_info(user=user_id)).get("user") or {}
    except (SlackApiError, SlackRequestError, OSError, TimeoutError) as exc:
        log.warning("Could not ask Slack about digest subscriber %s: %s", user_id, exc.__class__.__name__)
        user = {}
    from bot.handlers.usergroups import usergroups_of  # here: bot.handlers imports this module

    groups = await usergroups_of(client, team_id, rules.usergroups(), user_id)
    return roles.Access(rules, roles.Who(user_id, bool(user.get("is_admin") or user.get("is_owner")), groups))


def owed_digest(workspace_id: int, run: Run, channel_id: str, prepared: Prepared) -> outbox.Owed:
    """A digest Slack did not take, as the outbox keeps it: everything needed to send it again as it was."""
    chart = base64.b64encode(prepared.chart).decode() if prepared.chart is not None else None
    payload = {"subscription_id": run.subscription_id, "blocks": prepared.blocks,
               "blocks_without_chart": prepared.blocks_without_chart, "text": prepared.text, "chart": chart,
               "chart_name": prepared.chart_name, "chart_title": prepared.chart_title, "chart_alt": prepared.chart_alt}
    return outbox.Owed(outbox.DIGEST, workspace_id, key=f"{outbox.DIGEST}:{run.subscription_id}:{run.end.isoformat()}",
                       channel_id=channel_id, payload=payload, once=True)


async def send_digest(runtime, owed: outbox.Owed) -> Sent:
    """The outbox's sender of digests Slack did not take at first."""
    client = await sending.client_for(runtime, owed.workspace_id)
    p = owed.payload
    chart = base64.b64decode(p["chart"]) if p.get("chart") else None
    delivery = await send_prepared(client, owed.channel_id, Prepared(
        p["blocks"], p["blocks_without_chart"], p["text"], chart, p["chart_name"], p["chart_title"], p["chart_alt"]))
    if not delivery.ok:
        raise sending.Undelivered(delivery.error or "refused", transient=delivery.retry)
    return Sent(owed.channel_id, None)
