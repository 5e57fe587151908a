"""Token-health alerts in Slack: posted to the workspace's alerts channel (or, without a usable one, as a
DM to whoever connected the account) and updated in place once resolved. Their Reconnect button is the
accounts list's (bot/handlers/connect.py), so one click starts the private sign-in link."""

from __future__ import annotations

import logging

import aiohttp
from slack_sdk.errors import SlackApiError, SlackClientError
from sqlalchemy import select, update

from bot.messages import outbox as sending
from bot.messages.outbox import Sent
from bot.services import outbox
from bot.services.token_health import AlertNote, Delivered
from bot.slack_errors import error_of
from bot.storage.models import Alert
from bot.views.alerts import alert_message

log = logging.getLogger(__name__)

# The channel cannot take the message: a DM reaches someone instead of nobody.
CHANNEL_UNUSABLE = ("channel_not_found", "not_in_channel", "is_archived")
# The message is gone or cannot change any more: nothing left to update.
MESSAGE_GONE = ("message_not_found", "channel_not_found", "cant_update_message", "is_archived")
SLACK_TROUBLE = (SlackClientError, aiohttp.ClientError, TimeoutError)


class SlackAlerts:
    """The `AlertSender` of bot/services/token_health.py, over the workspace's bot token."""

    def __init__(self, runtime):
        self.runtime = runtime

    async def send(self, note: AlertNote) -> Delivered | None:
        """Post a new alert through the outbox: None while Slack has not taken it yet (the outbox sends it, once;
        asked again, this answers where it went)."""
        if not note.channel_id and not note.dm_user_id:
            log.warning("Alert %s has no alerts channel and nobody to message: set an alerts channel in "
                        "/picmim settings", note.alert_id)
            return Delivered(None, None)
        async with self.runtime.sessions() as session:
            workspace_id = await session.scalar(select(Alert.workspace_id).where(Alert.id == note.alert_id))
            await session.commit()
        if workspace_id is None:
            return Delivered(None, None)
        text, blocks = alert_message(note)
        owed = outbox.Owed(outbox.ALERT, workspace_id, key=f"{outbox.ALERT}:{note.alert_id}", once=True,
                           channel_id=note.channel_id,
                           payload={"alert_id": note.alert_id, "dm_user_id": note.dm_user_id, "text": text,
                                    "blocks": blocks})
        outcome = await sending.send(self.runtime, owed, send_alert)
        if outcome.ok:
            sent = outcome.sent or Sent(None, None)
            return Delivered(sent.channel_id, sent.ts)
        if outcome.waiting or outcome.transient:
            return None
        return Delivered(None, None)  # refused for good: logged once, never tried again

    async def update(self, note: AlertNote) -> bool:
        if not (note.channel_id and note.message_ts):
            return True
        client = await self.runtime.slack_client(note.team_id, note.enterprise_id)
        if client is None:
            return False
        text, blocks = alert_message(note)
        try:
            await client.chat_update(channel=note.channel_id, ts=note.message_ts, text=text, blocks=blocks)
        except SlackApiError as exc:
            error = error_of(exc)
            if error in MESSAGE_GONE:
                return True
            log.warning("Could not update alert %s: %s; trying again later", note.alert_id, error)
            return False
        except SLACK_TROUBLE as exc:
            log.warning("Could not update alert %s (%s); trying again later", note.alert_id, type(exc).__name__)
            return False
        return True


async def send_alert(runtime, owed: outbox.Owed) -> Sent:
    """The outbox's sender of alerts: to the alerts channel, or as a DM to whoever connected the account when
    the channel cannot take it; where it went is stored on the alert, for its later update."""
    client = await sending.client_for(runtime, owed.workspace_id)
    payload = owed.payload
    text, blocks, dm_user = payload["text"], payload["blocks"], payload.get("dm_user_id")
    sent = None
    if owed.channel_id:
        try:
            sent = await client.chat_postMessage(channel=owed.channel_id, text=text, blocks=blocks,
                                                 unfurl_links=False)
        except SlackApiError as exc:
            error = error_of(exc)
            if error not in CHANNEL_UNUSABLE or not dm_user:
                raise
            log.warning("The alerts channel %s cannot be used (%s): alert %s goes to %s as a DM",
                        owed.channel_id, error, payload["alert_id"], dm_user)
    if sent is None:
        opened = await client.conversations_open(users=dm_user)
        sent = await client.chat_postMessage(channel=opened["channel"]["id"], text=text, blocks=blocks,
                                             unfurl_links=False)
    async with runtime.sessions() as session:
        # Shown open: a resolved alert is then updated in place by the next token-health tick.
        await session.execute(update(Alert).where(Alert.id == payload["alert_id"], Alert.message_ts.is_(None))
                              .values(channel_id=sent["channel"], message_ts=sent["ts"], shown="open")
                              .execution_options(synchronize_session=False))
        await session.commit()
    return Sent(sent["channel"], sent["ts"])
