"""`/picmim stats best-times [account]`: when an account's posts do best, in words (to the person who asked) and as
a heat map in their direct messages with Picmim. Only the accounts the person may see."""

from __future__ import annotations

import asyncio
import logging

from slack_sdk.errors import SlackApiError

from bot import heat_map
from bot.services import analytics, best_times
from bot.slack_errors import error_of
from bot.storage.models import utcnow
from bot.views.best_times import TITLE, best_times_blocks, best_times_text
from bot.views.blocks import esc

log = logging.getLogger(__name__)

WORD = "best-times"  # `/picmim stats best-times`
MAX_ACCOUNTS = 10  # said in words
MAX_PANELS = 4  # drawn in one heat map; name an account to see another


async def best_times_command(ack, args, client, context, respond, db, workspace, access, **_) -> None:
    await ack()
    here = await workspace()
    rights = await access()
    async with db() as session:
        subject = await analytics.find_subject(session, here.id, args)
        if subject is not None and subject.target_id is not None:
            await respond(response_type="ephemeral", text="Best times are worked out per account: name an account "
                          "or a platform, for example `/picmim stats best-times @acme`, or nothing for all.")
            return
        wanted = list(subject.account_ids) if subject and subject.account_ids is not None else \
            [i for i, _ in analytics.account_choices(await analytics.workspace_accounts(session, here.id))]
        seen = rights.visible(wanted)
        if not seen:
            await respond(response_type="ephemeral",
                          text=f"No account you can see matches “{esc(args)}”. Try a handle like `@acme`, an "
                               "account's name or a platform like `x`." if args else
                               "There is no account you can see yet: connect one with `/picmim connect`.")
            return
        found = await best_times.for_accounts(session, seen[:MAX_ACCOUNTS], here.default_timezone, utcnow())
    drawn = [b for b in found if b.enough][:MAX_PANELS]
    sent = bool(drawn) and await _send_chart(client, context.user_id, drawn)
    await respond(response_type="ephemeral", replace_original=False, text=best_times_text(found),
                  blocks=best_times_blocks(found, here.default_timezone, sent))


async def _send_chart(client, user_id: str, drawn: list[best_times.BestTimes]) -> bool:
    """The heat map in the person's direct messages (a chart is a file, and an ephemeral answer cannot carry one)."""
    png = await asyncio.to_thread(heat_map.heat_map, drawn, f"{TITLE}, by weekday and hour")
    best = drawn[0]
    words = "; ".join(f"{b.label}: {b.top[0].in_words()}" for b in drawn if b.top)
    try:
        dm = (await client.conversations_open(users=user_id))["channel"]["id"]
        await client.files_upload_v2(channel=dm, file=png, filename="picmim-best-times.png",
                                     title=f"{TITLE}: {best.label}",
                                     alt_txt=f"Heat map of engagement by weekday and hour. Best: {words}"[:1000],
                                     initial_comment=f"Best times to post ({best.timezone}): {words}.")
    except SlackApiError as exc:
        log.warning("Could not send the best-times chart: %s", error_of(exc))
        return False
    return True
