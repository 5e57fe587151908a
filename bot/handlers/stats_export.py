"""`/picmim stats export [7d|30d|90d] [account]`: the figures as a CSV file, sent to the person by direct message
(Slack's external upload), for the accounts they may see."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import timedelta

from slack_sdk.errors import SlackApiError

from bot.services import analytics, analytics_export
from bot.slack_errors import error_of
from bot.storage.models import utcnow
from bot.views.blocks import esc

log = logging.getLogger(__name__)

SENDING = "I'm sending you the CSV by DM."
NOT_SENT = "The CSV could not be sent to you just now; try again in a minute."
NOTHING_VISIBLE = "You may not see the figures of any account yet: ask an admin to make you a viewer."


@dataclass(frozen=True)
class ExportRequest:
    days: int
    text: str  # the account, handle or platform asked for ("" for every account)


def parse_args(args: str) -> ExportRequest | str:
    """What to export, or what is wrong with the words after `export`."""
    words, days = [], 30
    for word in args.split():
        if re.fullmatch(r"\d+d", word.lower()):
            days = int(word[:-1])
            if days not in analytics_export.EXPORT_DAYS:
                return "Choose `7d`, `30d` or `90d` for the period, for example `/picmim stats export 90d @acme`."
        else:
            words.append(word)
    return ExportRequest(days, " ".join(words))


def _period(days: int) -> str:
    return f"last {days} days"


async def export_command(args, respond, client, db, workspace, person, access) -> None:
    """Called by `/picmim stats` (already acknowledged) when its first word is `export`."""
    asked = parse_args(args)
    if isinstance(asked, str):
        await respond(response_type="ephemeral", text=asked)
        return
    here, who, rights = await workspace(), await person(), await access()
    async with db() as session:
        subject = await analytics.find_subject(session, here.id, asked.text)
        if subject is not None and subject.target_id is not None:
            await respond(response_type="ephemeral",
                          text="The export covers accounts: give an account (`@acme`), a platform (`x`) or "
                               "nothing for all of them, not a post's link.")
            return
        if subject is None:
            await respond(response_type="ephemeral",
                          text=f"No account of this workspace matches “{esc(asked.text)}”. Try a handle like "
                               "`@acme`, an account's name, a platform like `x`, or nothing for every account.")
            return
        account_ids = subject.account_ids
        if rights.rules.any_roles:  # a viewer of one brand gets nothing of another
            wanted = account_ids
            if wanted is None:
                wanted = [a.id for a in await analytics.workspace_accounts(session, here.id)]
            account_ids = tuple(rights.visible(wanted))
            if not account_ids:
                await respond(response_type="ephemeral", text=NOTHING_VISIBLE if subject.account_ids is None else
                              f"You may not see the figures of {esc(subject.label)}: ask an admin to make you one "
                              "of its viewers.")
                return
        await respond(response_type="ephemeral", text=SENDING)
        now = utcnow()
        export = await analytics_export.build(session, here.id, now - timedelta(days=asked.days), now, account_ids)
    name = f"picmim-stats-{now:%Y-%m-%d}-{asked.days}d.csv"
    try:
        dm = (await client.conversations_open(users=who.user_id))["channel"]["id"]
        await client.files_upload_v2(channel=dm, file=export.data, filename=name,
                                     title=f"Picmim figures: {subject.label}, {_period(asked.days)}",
                                     initial_comment=f"The figures you asked for ({esc(subject.label)}, "
                                                     f"{_period(asked.days)}): {export.posts} post rows and "
                                                     f"{export.account_days} account-day rows, times in UTC. "
                                                     "An empty cell is a figure the platform does not give or "
                                                     "Picmim has not fetched.")
    except SlackApiError as exc:
        log.warning("Could not send the stats CSV: %s", error_of(exc))
        await respond(response_type="ephemeral", replace_original=False, text=NOT_SENT)
