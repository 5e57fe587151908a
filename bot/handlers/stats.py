"""`/picmim stats [account|post link] [7d|30d]`: the figures, only to the person who asked, with a button
that shares them (and, for accounts, the chart) in the channel — once per button."""

from __future__ import annotations

import json
import logging
import re
import secrets
from datetime import timedelta

from slack_bolt.async_app import AsyncApp
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from bot import ids
from bot.handlers.digests import Delivery, deliver, post_report
from bot.handlers.people import person
from bot.services import analytics
from bot.services.workspaces import ensure_workspace
from bot.storage.models import Account, SharedReport, utcnow
from bot.views import stats as views
from bot.views.blocks import esc

log = logging.getLogger(__name__)

DAYS = (7, 30)
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


async def stats_command(ack, args, command, context, client, respond, **_) -> None:
    await ack()
    parsed = parse_args(args)
    if isinstance(parsed, str):
        await respond(response_type="ephemeral", text=parsed)
        return
    text, days = parsed
    runtime = context["runtime"]
    who = await person(client, context.user_id)
    now = utcnow()
    async with runtime.sessions() as session:
        workspace = await ensure_workspace(session, context.team_id, context.enterprise_id)
        tz = who.tz or workspace.default_timezone
        subject = await analytics.find_subject(session, workspace.id, text)
        post = None
        if subject is not None and subject.target_id is not None:
            post = await analytics.post_report(session, workspace.id, subject.target_id, now - timedelta(days=days),
                                               now)
        if subject is None or (subject.target_id is not None and post is None):
            await session.commit()
            await respond(response_type="ephemeral",
                          text=f"No account or post of this workspace matches “{esc(text)}”. Try a handle like "
                               "`@acme`, an account's name, a platform like `x`, or the link of a post sent with "
                               "Picmim.")
            return
        share = json.dumps({"d": days, "n": secrets.token_urlsafe(12),
                            **({"t": subject.target_id} if post is not None else {"a": subject.account_ids})})
        if post is not None:
            blocks, fallback = views.post_blocks(post, tz, days, share), f"Post stats: {post.preview}"
        else:
            report = await analytics.build_report(session, workspace.id, now - timedelta(days=days), now,
                                                  account_ids=subject.account_ids)
            blocks = views.report_blocks(report, tz, _title(days), compared_with=_compared(days), share_value=share,
                                         chart_note=SHARE_HINT if report.has_chart_data else None)
            fallback = views.report_text(report, _title(days), tz)
        await session.commit()
    await respond(response_type="ephemeral", replace_original=False, text=fallback, blocks=blocks)


def _share_request(value: str | None) -> dict | None:
    try:
        request = json.loads(value or "")
    except ValueError:
        return None
    if not isinstance(request, dict) or request.get("d") not in DAYS or not isinstance(request.get("n"), str):
        return None
    if "t" in request:
        return request if isinstance(request["t"], int) else None
    accounts = request.get("a")  # None: every account
    if accounts is None or (isinstance(accounts, list) and all(isinstance(i, int) for i in accounts)):
        return {**request, "a": accounts}
    return None


async def share_button(ack, body, action, context, client, respond) -> None:
    await ack()
    request = _share_request(action.get("value"))
    channel_id = (body.get("channel") or {}).get("id") or (body.get("container") or {}).get("channel_id")
    if request is None or not channel_id:
        await respond(response_type="ephemeral", replace_original=False, text=STALE_BUTTON)
        return
    runtime = context["runtime"]
    days, nonce = request["d"], request["n"][:64]
    now = utcnow()
    async with runtime.sessions() as session:
        workspace = await ensure_workspace(session, context.team_id, context.enterprise_id)
        try:
            async with session.begin_nested():  # the button's nonce: a second click shares nothing
                session.add(SharedReport(workspace_id=workspace.id, nonce=nonce, channel_id=channel_id,
                                         user_id=context.user_id))
        except IntegrityError:
            await session.rollback()
            await respond(response_type="ephemeral", replace_original=False, text="This was already shared here.")
            return
        await session.commit()
        who = await person(client, context.user_id)
        tz = who.tz or workspace.default_timezone
        intro = f"Shared by <@{context.user_id}> with `/picmim stats`."
        start = now - timedelta(days=days)
        if "t" in request:
            post = await analytics.post_report(session, workspace.id, request["t"], start, now)
            report = None
        else:
            owned = (await session.scalars(select(Account.id).where(
                Account.workspace_id == workspace.id, Account.id.in_(request["a"] or [])))).all()
            if request["a"] and not owned:
                post = report = None
            else:
                report = await analytics.build_report(session, workspace.id, start, now,
                                                      account_ids=list(owned) or None)
                post = None
        await session.commit()
    if post is None and report is None:
        delivery = Delivery(False, error="These accounts or this post are no longer in Picmim.")
    elif post is not None:
        blocks = views.post_blocks(post, tz, days)
        blocks.insert(1, {"type": "context", "elements": [{"type": "mrkdwn", "text": intro}]})
        delivery = await deliver(client, channel_id, blocks, f"Post stats: {post.preview}")
    else:
        delivery = await post_report(client, channel_id, report, tz, _title(days), _compared(days), intro)
    if not delivery.ok:
        async with runtime.sessions() as session:  # not shared: the button may be pressed again
            await session.execute(delete(SharedReport).where(SharedReport.nonce == nonce))
            await session.commit()
        await respond(response_type="ephemeral", replace_original=False,
                      text=f"Not shared: {delivery.error}")
        return
    await respond(response_type="ephemeral", replace_original=True, text="Shared in this channel.")


SUBCOMMANDS = {"stats": stats_command}
