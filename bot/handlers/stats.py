"""`/picmim stats [account|post link] [7d|30d]`: the figures, only to the person who asked, with a button
that shares them (and, for accounts, the chart) in the channel — once per button. Figures older than a few
minutes are asked for at the platform first (`fresh_figures`); the answer waits for it a few seconds at most.
`stats export …` is bot/handlers/stats_export.py, `stats best-times …` bot/handlers/best_times.py."""

from __future__ import annotations

import asyncio
import logging
import re
import secrets
from dataclasses import replace
from datetime import timedelta

from slack_bolt.async_app import AsyncApp
from sqlalchemy import select

from bot import ids
from bot.handlers import best_times, stats_export
from bot.messages.reports import Delivery, deliver, post_report, reconnectable
from bot.payloads import STATS_DAYS, ShareRequest
from bot.services import analytics, sharing
from bot.services.fresh_figures import FreshFigures, Freshness
from bot.storage.models import PostTarget, utcnow
from bot.views import stats as views
from bot.views.blocks import esc

log = logging.getLogger(__name__)

DAYS = STATS_DAYS
FRESH_WAIT = 4.0  # seconds the answer waits for the platforms; a slower one still stores its figures, for next time
_refreshing: set[asyncio.Task] = set()  # refreshes still running after their answer went (kept from the collector)
SHARE_HINT = "Share it to post it in this channel with its chart."
STALE_BUTTON = "This button is out of date: ask `/picmim stats` again."


def register(app: AsyncApp) -> None:
    app.action(ids.STATS_SHARE)(share_button)


def _title(days: int) -> str:
    return f"Stats: last {days} days"


def _compared(days: int) -> str:
    return f"the {days} days before"


def parse_args(args: str) -> tuple[str, int] | str:
    """(what to report on, days), or what is wrong with the arguments."""
    words = args.split()
    days = 7
    if words and re.fullmatch(r"\d+d", words[-1].lower()):
        days = int(words[-1][:-1])
        if days not in DAYS:
            return "Choose `7d` or `30d` for the period, for example `/picmim stats @acme 30d`."
        words = words[:-1]
    return " ".join(words), days


async def _visible(session, workspace_id: int, access, subject):
    """The subject cut down to the accounts this person may see (a viewer of one brand sees nothing of another),
    or None when nothing of it is left."""
    rights = await access()
    if subject is None or not rights.rules.any_roles:
        return subject
    if subject.target_id is not None:
        account_id = await session.scalar(select(PostTarget.account_id).where(PostTarget.id == subject.target_id))
        return subject if account_id is not None and rights.may_view(account_id) else None
    wanted = subject.account_ids
    if wanted is None:
        wanted = [a.id for a in await analytics.workspace_accounts(session, workspace_id)]
    seen = tuple(rights.visible(wanted))
    if not seen:
        return None
    return subject if len(seen) == len(wanted) else replace(subject, account_ids=seen)


async def _refresh(runtime, session, workspace_id: int, subject: analytics.Subject
                   ) -> tuple[dict[int, Freshness], bool]:
    """Ask the platforms for figures older than a few minutes: (how fresh each account is, by account id; whether
    the wait ran out first)."""
    fresh = FreshFigures(runtime.sessions, runtime.adapters)
    if subject.target_id is not None:
        work = fresh.for_post(subject.target_id)
    else:
        wanted = subject.account_ids
        if wanted is None:
            wanted = [a.id for a in await analytics.workspace_accounts(session, workspace_id)]
        work = fresh.for_accounts(wanted)
    await session.commit()  # no transaction stays open while the platforms answer
    task = asyncio.ensure_future(work)
    _refreshing.add(task)
    task.add_done_callback(_refreshing.discard)
    done, _ = await asyncio.wait({task}, timeout=FRESH_WAIT)
    if not done:
        return {}, True
    try:
        found = task.result()
    except Exception:  # the figures Picmim has are still worth showing
        log.exception("Refreshing figures for /picmim stats failed")
        return {}, False
    if isinstance(found, Freshness):
        return {found.account_id: found}, False
    return dict(found or {}), False


async def stats_command(ack, args, respond, client, db, workspace, person, access, runtime, **more) -> None:
    first, _, rest = args.strip().partition(" ")
    if first.lower() == best_times.WORD:
        await best_times.best_times_command(ack=ack, args=rest.strip(), respond=respond, client=client, db=db,
                                            workspace=workspace, person=person, access=access, runtime=runtime,
                                            **more)
        return
    await ack()
    if first.lower() == "export":
        await stats_export.export_command(rest, respond, client, db, workspace, person, access)
        return
    parsed = parse_args(args)
    if isinstance(parsed, str):
        await respond(response_type="ephemeral", text=parsed)
        return
    text, days = parsed
    here = await workspace()
    tz = (await person()).tz or here.default_timezone
    async with db() as session:
        subject = await _visible(session, here.id, access, await analytics.find_subject(session, here.id, text))
        freshness, waited_out = {}, False
        if subject is not None:
            freshness, waited_out = await _refresh(runtime, session, here.id, subject)
        now = utcnow()  # after the refresh: what it fetched is part of the answer
        post = None
        if subject is not None and subject.target_id is not None:
            post = await analytics.post_report(session, here.id, subject.target_id, now - timedelta(days=days), now)
        if subject is None or (subject.target_id is not None and post is None):
            await respond(response_type="ephemeral",
                          text=f"No account or post of this workspace matches “{esc(text)}”. Try a handle like "
                               "`@acme`, an account's name, a platform like `x`, or the link of a post sent with "
                               "Picmim.")
            return
        nonce = secrets.token_urlsafe(12)
        if post is not None:
            share = ShareRequest(days, nonce, target_id=subject.target_id).encode()
            blocks = views.post_blocks(post, tz, days, share, freshness=freshness.get(post.account_id),
                                       waited_out=waited_out)
            fallback = f"Post stats: {post.preview}"
        else:
            accounts = tuple(subject.account_ids) if subject.account_ids is not None else None
            share = ShareRequest(days, nonce, account_ids=accounts).encode()
            report = await analytics.build_report(session, here.id, now - timedelta(days=days), now,
                                                  account_ids=subject.account_ids)
            blocks = views.report_blocks(report, tz, _title(days), compared_with=_compared(days), share_value=share,
                                         chart_note=SHARE_HINT if report.has_chart_data else None,
                                         reconnect=await reconnectable(session, report), freshness=freshness,
                                         waited_out=waited_out)
            fallback = views.report_text(report, _title(days), tz)
    await respond(response_type="ephemeral", replace_original=False, text=fallback, blocks=blocks)


async def share_button(ack, body, context, client, respond, subject, db, workspace, person, access) -> None:
    await ack()
    channel_id = (body.get("channel") or {}).get("id") or (body.get("container") or {}).get("channel_id")
    if subject is None or not channel_id:
        await respond(response_type="ephemeral", replace_original=False, text=STALE_BUTTON)
        return
    here = await workspace()
    async with db() as session:  # roles may have changed since the answer: only what this person may still see
        wanted = analytics.Subject(account_ids=subject.account_ids, target_id=subject.target_id)
        allowed = await _visible(session, here.id, access, wanted)
    if allowed != wanted:
        await respond(response_type="ephemeral", replace_original=False, text=STALE_BUTTON)
        return
    try:
        async with db() as session:
            shared = await sharing.share(session, here.id, context.user_id, channel_id, subject.nonce, subject.days,
                                         utcnow(), target_id=subject.target_id, account_ids=subject.account_ids)
    except sharing.AlreadyShared:
        await respond(response_type="ephemeral", replace_original=False, text="This was already shared here.")
        return
    tz = (await person()).tz or here.default_timezone
    intro = f"Shared by <@{context.user_id}> with `/picmim stats`."
    if shared.post is not None:
        blocks = views.post_blocks(shared.post, tz, subject.days)
        blocks.insert(1, {"type": "context", "elements": [{"type": "mrkdwn", "text": intro}]})
        delivery = await deliver(client, channel_id, blocks, f"Post stats: {shared.post.preview}")
    elif shared.report is not None:
        async with db() as session:
            reconnect = await reconnectable(session, shared.report)
        delivery = await post_report(client, channel_id, shared.report, tz, _title(subject.days),
                                     _compared(subject.days), intro, reconnect)
    else:
        delivery = Delivery(False, error="These accounts or this post are no longer in Picmim.")
    if not delivery.ok:
        async with db() as session:  # not shared: the button may be pressed again
            await sharing.unshare(session, subject.nonce)
        await respond(response_type="ephemeral", replace_original=False, text=f"Not shared: {delivery.error}")
        return
    await respond(response_type="ephemeral", replace_original=True, text="Shared in this channel.")


SUBCOMMANDS = {"stats": stats_command}
