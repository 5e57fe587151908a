"""Token-health alerts in Slack: posted to the workspace's alerts channel (or, without a usable one, as a
DM to whoever connected the account) and updated in place once resolved. Their Reconnect button is the
accounts list's (bot/handlers/connect.py), so one click starts the private sign-in link."""

from __future__ import annotations

import logging

import aiohttp
from slack_sdk.errors import SlackApiError, SlackClientError

from bot.services.token_health import AlertNote, Delivered
from bot.slack_errors import error_of
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
        client = await self.runtime.slack_client(note.team_id, note.enterprise_id)
        if client is None:
            log.warning("No Slack token for workspace %s: alert %s waits", note.team_id, note.alert_id)
            return None
        text, blocks = alert_message(note)
        if note.channel_id:
            try:
                sent = await client.chat_postMessage(channel=note.channel_id, text=text, blocks=blocks,
                                                     unfurl_links=False)
                return Delivered(sent["channel"], sent["ts"])
            except SlackApiError as exc:
                error = error_of(exc)
                if error not in CHANNEL_UNUSABLE:
                    log.warning("Could not post alert %s: %s; trying again later", note.alert_id, error)
                    return None
                log.warning("The alerts channel %s cannot be used (%s): alert %s goes to %s as a DM",
                            note.channel_id, error, note.alert_id, note.dm_user_id)
            except SLACK_TROUBLE as exc:
                log.warning("Could not post alert %s (%s); trying again later", note.alert_id, type(exc).__name__)
                return None
        if not note.dm_user_id:
            log.warning("Alert %s has no alerts channel and nobody to message: set an alerts channel in "
                        "/picmim settings", note.alert_id)
            return Delivered(None, None)
        try:
            opened = await client.conversations_open(users=note.dm_user_id)
            sent = await client.chat_postMessage(channel=opened["channel"]["id"], text=text, blocks=blocks,
                                                 unfurl_links=False)
        except SlackApiError as exc:
            log.warning("Could not message %s about alert %s: %s", note.dm_user_id, note.alert_id,
                        error_of(exc))
            return None
        except SLACK_TROUBLE as exc:
            log.warning("Could not message %s about alert %s (%s)", note.dm_user_id, note.alert_id,
                        type(exc).__name__)
            return None
        return Delivered(sent["channel"], sent["ts"])

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
