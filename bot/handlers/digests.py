"""`/picmim digest`: subscribe a channel to analytics digests (a modal), list and unsubscribe. The digests
themselves are sent by bot/messages/reports.py."""

from __future__ import annotations

import logging

import aiohttp
from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.webhook.async_client import AsyncWebhookClient

from bot import ids
from bot.handlers import forms
from bot.payloads import DigestOrigin, storable, whole_id
from bot.platforms import registry
from bot.services import analytics, digests
from bot.services.digests import DigestError, Schedule
from bot.slack_errors import error_of, unavailable
from bot.storage.models import utcnow
from bot.views import stats as views

log = logging.getLogger(__name__)

FIELDS = {"channel": ids.DIGEST_CHANNEL_BLOCK, "frequency": ids.DIGEST_FREQUENCY_BLOCK,
          "weekday": ids.DIGEST_WEEKDAY_BLOCK, "day_of_month": ids.DIGEST_DAY_BLOCK, "time": ids.DIGEST_TIME_BLOCK,
          "timezone": ids.DIGEST_ZONE_BLOCK, "accounts": ids.DIGEST_ACCOUNTS_BLOCK,
          "platforms": ids.DIGEST_PLATFORMS_BLOCK}


def register(app: AsyncApp) -> None:
    app.view(ids.DIGEST_SUBSCRIBE_VIEW)(subscribe_submitted)
    app.action(ids.DIGEST_UNSUBSCRIBE)(unsubscribe_button)


# ---- /picmim digest -------------------------------------------------------------------------------------------


async def _names(session, workspace_id: int) -> dict[int, str]:
    return dict(analytics.account_choices(await analytics.workspace_accounts(session, workspace_id)))


async def _show_list(db, workspace, person, respond, note: str = "", replace: bool = False) -> None:
    workspace_id = (await workspace()).id
    async with db() as session:
        subs = await digests.subscriptions(session, workspace_id)
        names = await _names(session, workspace_id)
    await respond(response_type="ephemeral", replace_original=replace, text="Analytics digests",
                  blocks=views.digest_list(subs, names, (await person()).tz, note))


async def digest_command(ack, args, command, client, respond, db, workspace, person, access, **_) -> None:
    await ack()
    word = (args.split() or ["list"])[0].lower()
    if word == "subscribe":
        await _open_subscribe(client, command, db, workspace, person, access)
    elif word in ("list", "unsubscribe"):
        await _show_list(db, workspace, person, respond)
    else:
        await respond(response_type="ephemeral",
                      text="Use `/picmim digest subscribe` to send a channel analytics on a schedule, or "
                           "`/picmim digest list` to see the digests and unsubscribe.")


async def _open_subscribe(client, command, db, workspace, person, access) -> None:
    here, rights = await workspace(), await access()
    async with db() as session:
        accounts = [a for a in await analytics.workspace_accounts(session, here.id) if rights.may_view(a.id)]
    platforms = [p for p in registry.PLATFORMS if p.adapter_ready]
    origin = DigestOrigin(response_url=command.get("response_url"), channel=command.get("channel_id"))
    # Everything this person sees is one group's: its digest channel is offered first.
    groups = {rights.rules.group_of.get(a.id) for a in accounts}
    group = rights.rules.groups.get(next(iter(groups))) if len(groups) == 1 and None not in groups else None
    channel = group.digest_channel_id if group and group.digest_channel_id else command.get("channel_id")
    view = views.subscribe_modal(channel, (await person()).tz or here.default_timezone or "UTC",
                                 analytics.account_choices(accounts), platforms, origin.encode())
    try:
        await client.views_open(trigger_id=command.get("trigger_id"), view=view)
    except SlackApiError as exc:
        if unavailable(exc):
            raise  # Slack failing for now: the person is told so (failures.py)
        log.warning("Could not open the digest modal: %s", error_of(exc))


def _seen_accounts(rights, all_ids: list[int], chosen: list[int]) -> list[int]:
    """The accounts a digest may cover for this person (at least a viewer of each): raises when they chose one
    they may not see; "all accounts" becomes every one they see."""
    if not rights.rules.any_roles:
        return chosen
    hidden = [a for a in chosen if not rights.may_view(a)]
    if hidden:
        raise DigestError("accounts", "You may not see the figures of an account you chose: a digest covers only "
                                      "accounts you are at least a viewer of. An admin can change roles in "
                                      "`/picmim roles`.")
    if chosen:
        return chosen
    seen = rights.visible(all_ids)
    if len(seen) == len(all_ids):
        return chosen  # every account: stays "all", so accounts connected later are included
    if not seen:
        raise DigestError("accounts", "You are not a viewer of any account, so a digest would be empty. An admin "
                                      "can change roles in `/picmim roles`.")
    return seen


async def subscribe_submitted(ack, view, context, client, subject, db, workspace, person, access) -> None:
    values = forms.values_of(view)
    origin = subject or DigestOrigin()
    channel_id = forms.slack_id(forms.field(values, ids.DIGEST_CHANNEL_BLOCK, ids.DIGEST_CHANNEL_INPUT),
                                "selected_conversation")
    at = forms.field(values, ids.DIGEST_TIME_BLOCK, ids.DIGEST_TIME_INPUT).get("selected_time")
    schedule = Schedule(
        frequency=forms.option(values, ids.DIGEST_FREQUENCY_BLOCK, ids.DIGEST_FREQUENCY_INPUT) or "",
        time_of_day=storable(at) if isinstance(at, str) else "",
        timezone=(forms.option(values, ids.DIGEST_ZONE_BLOCK, ids.DIGEST_ZONE_INPUT)
                  or forms.text(values, ids.DIGEST_ZONE_BLOCK, ids.DIGEST_ZONE_INPUT)).strip(),
        weekday=forms.whole_number(forms.option(values, ids.DIGEST_WEEKDAY_BLOCK, ids.DIGEST_WEEKDAY_INPUT)),
        day_of_month=forms.whole_number(forms.option(values, ids.DIGEST_DAY_BLOCK, ids.DIGEST_DAY_INPUT)))
    account_ids = [i for i in map(whole_id, forms.options(values, ids.DIGEST_ACCOUNTS_BLOCK, ids.DIGEST_ACCOUNTS_INPUT))
                   if i is not None]
    platforms = forms.options(values, ids.DIGEST_PLATFORMS_BLOCK, ids.DIGEST_PLATFORMS_INPUT)
    here = await workspace()
    # Checked and stored before answering (a quick write), so a refusal shows beside its input and
    # nothing typed is lost.
    rights = await access(need_profile=False)
    async with db() as session:
        try:
            every = [a.id for a in await analytics.workspace_accounts(session, here.id)]
            account_ids = _seen_accounts(rights, every, account_ids)
            sub, created = await digests.subscribe(session, here, context.user_id, channel_id or "", schedule,
                                                   account_ids, platforms, utcnow())
        except DigestError as exc:
            await session.rollback()
            await ack(response_action="errors", errors={FIELDS.get(exc.field, ids.DIGEST_CHANNEL_BLOCK): exc.message})
            return
        names = await _names(session, here.id)
    await ack()
    text = views.subscribed_text(sub, names, created, (await person()).tz)
    try:
        if origin.response_url:
            await AsyncWebhookClient(origin.response_url).send(response_type="ephemeral", text=text)
        else:
            await client.chat_postEphemeral(channel=origin.channel or sub.channel_id, user=context.user_id, text=text)
    except (SlackApiError, aiohttp.ClientError, OSError) as exc:
        log.warning("Could not confirm digest %s: %s", sub.id, exc)


async def unsubscribe_button(ack, context, respond, subject, db, workspace, person, access) -> None:
    await ack()
    note = "This digest was already removed."
    workspace_id = (await workspace()).id
    async with db() as session:
        sub = await digests.subscription(session, workspace_id, subject.subscription_id) if subject else None
        if sub is not None:
            if sub.created_by != context.user_id and not (await access()).is_admin:
                note = f"Only <@{sub.created_by}>, who set it up, or an admin can stop this digest."
            else:
                channel = sub.channel_id
                await digests.unsubscribe(session, workspace_id, sub.id)
                note = f"Unsubscribed: <#{channel}> gets no more of this digest."
    await _show_list(db, workspace, person, respond, note, replace=True)


SUBCOMMANDS = {"digest": digest_command}
