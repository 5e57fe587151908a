"""`/picmim audit [export] [account|post link] [7d|30d]`: the audit trail for workspace admins, in an ephemeral
message, and its CSV export sent by direct message (the Export CSV button, or `/picmim audit export …`)."""

from __future__ import annotations

import logging
from datetime import timedelta

from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError

from bot import ids
from bot.payloads import AuditExport
from bot.services import audit_trail
from bot.slack_errors import error_of
from bot.storage.models import utcnow
from bot.views import audit as views
from bot.views.blocks import esc

log = logging.getLogger(__name__)

ADMINS_ONLY = ("Only admins can see Picmim's audit trail. Ask a workspace admin or owner, or someone named as a "
               "Picmim admin in `/picmim roles`, to look it up for you.")
STALE_BUTTON = "This button is out of date: ask `/picmim audit` again."


def register(app: AsyncApp) -> None:
    app.action(ids.AUDIT_EXPORT)(export_button)


def _not_found(text: str) -> str:
    return (f"No account or post of this workspace matches “{esc(text)}”. Try a handle like `@acme`, an account's "
            "name, a platform like `x`, a post's number (`post 12`) or the link of a post sent with Picmim.")


async def audit_command(ack, args, respond, client, db, workspace, person, access, **_) -> None:
    await ack()
    who = await person()
    if not (await access()).is_admin:
        await respond(response_type="ephemeral", text=ADMINS_ONLY)
        return
    parsed = audit_trail.parse_args(args)
    if isinstance(parsed, str):
        await respond(response_type="ephemeral", text=parsed)
        return
    export, text, days = parsed
    if export:
        await respond(response_type="ephemeral", text=await _export(client, db, workspace, who.user_id, text, days))
        return
    here = await workspace()
    async with db() as session:
        scope = await audit_trail.find_scope(session, here.id, text)
        if scope is None:
            await respond(response_type="ephemeral", text=_not_found(text))
            return
        found = await audit_trail.entries(session, here.id, scope, utcnow() - timedelta(days=days),
                                    limit=audit_trail.MAX_SHOWN + 1)
    more = len(found) > audit_trail.MAX_SHOWN
    found = found[:audit_trail.MAX_SHOWN]
    blocks = views.audit_blocks(found, who.tz or here.default_timezone, scope.label, days,
                                AuditExport(text, days).encode(), more)
    await respond(response_type="ephemeral", replace_original=False, text=views.audit_text(found, scope.label, days),
                  blocks=blocks)


async def export_button(ack, respond, client, subject, db, workspace, person, access) -> None:
    await ack()
    who = await person()
    if not (await access()).is_admin:  # rights may have changed since the message was shown
        await respond(response_type="ephemeral", replace_original=False, text=ADMINS_ONLY)
        return
    if subject is None:
        await respond(response_type="ephemeral", replace_original=False, text=STALE_BUTTON)
        return
    said = await _export(client, db, workspace, who.user_id, subject.query, subject.days)
    await respond(response_type="ephemeral", replace_original=False, text=said)


async def _export(client, db, workspace, user_id: str, text: str, days: int) -> str:
    """Every entry of the period as a CSV file in the person's direct messages; what to tell them."""
    here = await workspace()
    now = utcnow()
    async with db() as session:
        scope = await audit_trail.find_scope(session, here.id, text)
        if scope is None:
            return _not_found(text)
        found = await audit_trail.entries(session, here.id, scope, now - timedelta(days=days))
    name = f"picmim-audit-{now:%Y-%m-%d}-{days}d.csv"
    try:
        dm = (await client.conversations_open(users=user_id))["channel"]["id"]
        await client.files_upload_v2(channel=dm, file=audit_trail.csv_of(found), filename=name,
                                     title=f"Picmim audit trail: {scope.label}, last {days} days",
                                     initial_comment=f"The audit trail you asked for: {len(found)} entries, "
                                                     "times in UTC.")
    except SlackApiError as exc:
        log.warning("Could not send the audit CSV: %s", error_of(exc))
        return "The CSV could not be sent to you just now; try again in a minute."
    return f"Sent: the CSV ({len(found)} entries) is in your direct messages with Picmim."


SUBCOMMANDS = {"audit": audit_command}
