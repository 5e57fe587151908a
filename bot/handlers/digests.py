"""`/picmim digest`: subscribe a channel to analytics digests (a modal), list and unsubscribe; and the
digests themselves, sent by a periodic job from any process (once: `bot.services.digests` leases), with
their chart uploaded through Slack's external upload (`files_upload_v2`)."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import aiohttp
from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError, SlackRequestError
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from bot import charts, ids
from bot.handlers.people import person
from bot.platforms import registry
from bot.services import analytics, digests
from bot.services.digests import DigestError, Run, Schedule
from bot.services.workspaces import ensure_workspace
from bot.storage.models import DigestSubscription, Workspace, utcnow
from bot.views import stats as views
from bot.views.blocks import local_date

log = logging.getLogger(__name__)

TITLES = {"daily": "Daily digest", "weekly": "Weekly digest", "monthly": "Monthly digest"}
COMPARED = {"daily": "the day before", "weekly": "the week before", "monthly": "the month before"}
CHART_NOTE = ("The chart shows followers and engagement (likes, comments, shares… on posts sent with Picmim) "
              "over the period, one line per account.")
NO_CHART_HERE = ("The chart could not be attached: Picmim is not a member of this channel. Invite it with "
                 "`/invite @Picmim` to get the chart next time.")
# Slack errors that mean nothing was shared and trying again soon may work.
PASSING = {"ratelimited", "internal_error", "fatal_error", "service_unavailable", "request_timeout"}
FIELDS = {"channel": ids.DIGEST_CHANNEL_BLOCK, "frequency": ids.DIGEST_FREQUENCY_BLOCK,
          "weekday": ids.DIGEST_WEEKDAY_BLOCK, "day_of_month": ids.DIGEST_DAY_BLOCK, "time": ids.DIGEST_TIME_BLOCK,
          "timezone": ids.DIGEST_ZONE_BLOCK, "accounts": ids.DIGEST_ACCOUNTS_BLOCK,
          "platforms": ids.DIGEST_PLATFORMS_BLOCK}


def register(app: AsyncApp) -> None:
    app.view(ids.DIGEST_SUBSCRIBE_VIEW)(subscribe_submitted)
    app.action(ids.DIGEST_UNSUBSCRIBE)(unsubscribe_button)


# ---- posting a report into a channel -------------------------------------------------------------------


@dataclass(frozen=True)
class Delivery:
    ok: bool
    with_chart: bool = False
    error: str | None = None  # in words, for the subscription's list or the person who shared
    retry: bool = False  # nothing reached the channel and trying again soon may work


def _refusal(channel_id: str, error: str | None) -> Delivery:
    if error in PASSING:
        return Delivery(False, error="Slack was busy and did not take the digest; Picmim tries again.", retry=True)
    if error in ("channel_not_found", "is_archived", "invalid_channel"):
        return Delivery(False, error=f"The channel <#{channel_id}> is gone or archived, or Picmim cannot see it "
                                     "(a private channel needs `/invite @Picmim`).")
    if error == "not_in_channel":
        return Delivery(False, error=f"Picmim is not a member of <#{channel_id}>: invite it with `/invite @Picmim`.")
    return Delivery(False, error=f"Slack refused the message ({error}).")


async def deliver(client: AsyncWebClient, channel_id: str, blocks: list[dict], text: str, chart: bytes | None = None,
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
            error = exc.response.get("error")
            if error != "not_in_channel":
                return _refusal(channel_id, error)
            blocks = blocks_without_chart or blocks
        except SlackRequestError as exc:  # the bytes were refused before anything was shared
            log.warning("Uploading a chart failed: %s", exc)
            return Delivery(False, error="Slack did not take the chart; Picmim tries again.", retry=True)
    try:
        await client.chat_postMessage(channel=channel_id, blocks=blocks, text=text)
    except SlackApiError as exc:
        return _refusal(channel_id, exc.response.get("error"))
    return Delivery(True)


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
                  intro: str | None = None) -> Prepared:
    chart = await draw(report, tz, title)

    def blocks(note: str | None) -> list[dict]:
        built = views.report_blocks(report, tz, title, compared_with=compared_with, chart_note=note)
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
                      compared_with: str, intro: str | None = None) -> Delivery:
    return await send_prepared(client, channel_id, await prepare(report, tz, title, compared_with, intro))


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
                channel_id, tz, frequency = sub.channel_id, sub.timezone, sub.frequency
                await session.commit()
            client = await self.runtime.slack_client(workspace.team_id, workspace.enterprise_id)
            if client is None:
                delivery = Delivery(False, error="Picmim is no longer installed in this workspace.")
            else:
                # Everything is ready before the mark: a process that dies drawing leaves the digest due.
                prepared = await prepare(report, tz, TITLES[frequency], COMPARED[frequency])
                async with sessions() as session:
                    if not await digests.start_sending(session, run, self.clock()):
                        return Delivery(False, error="another process took over this digest")
                delivery = await send_prepared(client, channel_id, prepared)
        except Exception:  # one bad digest must not stop the others; it may have been sent: never resent
            log.exception("Sending digest %s failed", run.subscription_id)
            delivery = Delivery(False, error="Something went wrong inside Picmim while sending this digest.")
        async with sessions() as session:
            await digests.finish(session, run, self.clock(), None if delivery.ok else delivery.error, delivery.retry)
        if delivery.ok:
            log.info("Digest %s sent for %s", run.subscription_id, run.end.isoformat())
        return delivery


# ---- /picmim digest -------------------------------------------------------------------------------------------


async def _names(session, workspace_id: int) -> dict[int, str]:
    return dict(analytics.account_choices(await analytics.workspace_accounts(session, workspace_id)))


async def _show_list(context, client, respond, note: str = "", replace: bool = False) -> None:
    runtime = context["runtime"]
    async with runtime.sessions() as session:
        workspace = await ensure_workspace(session, context.team_id, context.enterprise_id)
        subs = await digests.subscriptions(session, workspace.id)
        names = await _names(session, workspace.id)
        await session.commit()
    who = await person(client, context.user_id)
    await respond(response_type="ephemeral", replace_original=replace, text="Analytics digests",
                  blocks=views.digest_list(subs, names, who.tz, note))


async def digest_command(ack, args, command, context, client, respond, **_) -> None:
    await ack()
    word = (args.split() or ["list"])[0].lower()
    if word == "subscribe":
        await _open_subscribe(context, client, command)
    elif word in ("list", "unsubscribe"):
        await _show_list(context, client, respond)
    else:
        await respond(response_type="ephemeral",
                      text="Use `/picmim digest subscribe` to send a channel analytics on a schedule, or "
                           "`/picmim digest list` to see the digests and unsubscribe.")


async def _open_subscribe(context, client, command) -> None:
    runtime = context["runtime"]
    async with runtime.sessions() as session:
        workspace = await ensure_workspace(session, context.team_id, context.enterprise_id)
        accounts = await analytics.workspace_accounts(session, workspace.id)
        default_zone = workspace.default_timezone
        await session.commit()
    who = await person(client, context.user_id)
    platforms = [p for p in registry.PLATFORMS if p.adapter_ready]
    view = views.subscribe_modal(command.get("channel_id"), who.tz or default_zone or "UTC",
                                 analytics.account_choices(accounts), platforms,
                                 {"response_url": command.get("response_url"), "channel": command.get("channel_id")})
    try:
        await client.views_open(trigger_id=command.get("trigger_id"), view=view)
    except SlackApiError as exc:
        log.warning("Could not open the digest modal: %s", exc.response.get("error"))


def _selected(values: dict, block: str, action: str) -> dict:
    found = (values.get(block) or {}).get(action)
    return found if isinstance(found, dict) else {}


def _option_value(values: dict, block: str, action: str) -> str | None:
    option = _selected(values, block, action).get("selected_option")
    return option.get("value") if isinstance(option, dict) else None


def _option_values(values: dict, block: str, action: str) -> list[str]:
    options = _selected(values, block, action).get("selected_options") or []
    return [o["value"] for o in options if isinstance(o, dict) and isinstance(o.get("value"), str)]


def _int(text: str | None) -> int | None:
    try:
        return int(text) if text is not None else None
    except ValueError:
        return None


async def subscribe_submitted(ack, view, context, client) -> None:
    values = (view.get("state") or {}).get("values") or {}
    try:
        meta = json.loads(view.get("private_metadata") or "{}")
    except ValueError:
        meta = {}
    meta = meta if isinstance(meta, dict) else {}
    channel_id = _selected(values, ids.DIGEST_CHANNEL_BLOCK, ids.DIGEST_CHANNEL_INPUT).get("selected_conversation")
    schedule = Schedule(
        frequency=_option_value(values, ids.DIGEST_FREQUENCY_BLOCK, ids.DIGEST_FREQUENCY_INPUT) or "",
        time_of_day=_selected(values, ids.DIGEST_TIME_BLOCK, ids.DIGEST_TIME_INPUT).get("selected_time") or "",
        timezone=(_selected(values, ids.DIGEST_ZONE_BLOCK, ids.DIGEST_ZONE_INPUT).get("value") or "").strip(),
        weekday=_int(_option_value(values, ids.DIGEST_WEEKDAY_BLOCK, ids.DIGEST_WEEKDAY_INPUT)),
        day_of_month=_int(_option_value(values, ids.DIGEST_DAY_BLOCK, ids.DIGEST_DAY_INPUT)))
    account_ids = [i for i in map(_int, _option_values(values, ids.DIGEST_ACCOUNTS_BLOCK, ids.DIGEST_ACCOUNTS_INPUT))
                   if i is not None]
    platforms = _option_values(values, ids.DIGEST_PLATFORMS_BLOCK, ids.DIGEST_PLATFORMS_INPUT)
    runtime = context["runtime"]
    # Checked and stored before answering (a quick write), so a refusal shows beside its input and
    # nothing typed is lost.
    async with runtime.sessions() as session:
        workspace = await ensure_workspace(session, context.team_id, context.enterprise_id)
        try:
            sub, created = await digests.subscribe(session, workspace, context.user_id, channel_id or "", schedule,
                                                   account_ids, platforms, utcnow())
        except DigestError as exc:
            await session.rollback()
            await ack(response_action="errors", errors={FIELDS.get(exc.field, ids.DIGEST_CHANNEL_BLOCK): exc.message})
            return
        names = await _names(session, workspace.id)
        await session.commit()
    await ack()
    who = await person(client, context.user_id)
    text = views.subscribed_text(sub, names, created, who.tz)
    response_url = meta.get("response_url")
    try:
        if isinstance(response_url, str) and response_url:
            await AsyncWebhookClient(response_url).send(response_type="ephemeral", text=text)
        else:
            await client.chat_postEphemeral(channel=meta.get("channel") or sub.channel_id, user=context.user_id,
                                            text=text)
    except (SlackApiError, aiohttp.ClientError, OSError) as exc:
        log.warning("Could not confirm digest %s: %s", sub.id, exc)


async def unsubscribe_button(ack, action, context, client, respond) -> None:
    await ack()
    runtime = context["runtime"]
    sub_id = _int(action.get("value"))
    note = "This digest was already removed."
    async with runtime.sessions() as session:
        workspace = await ensure_workspace(session, context.team_id, context.enterprise_id)
        sub = await digests.subscription(session, workspace.id, sub_id) if sub_id is not None else None
        if sub is not None:
            if sub.created_by != context.user_id and not (await person(client, context.user_id)).is_admin:
                note = f"Only <@{sub.created_by}>, who set it up, or a workspace admin can stop this digest."
            else:
                channel = sub.channel_id
                await digests.unsubscribe(session, workspace.id, sub.id)
                note = f"Unsubscribed: <#{channel}> gets no more of this digest."
        await session.commit()
    await _show_list(context, client, respond, note, replace=True)


SUBCOMMANDS = {"digest": digest_command}
