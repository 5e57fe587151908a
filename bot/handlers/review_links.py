"""Review links on the review card: Share for review (a modal, then the link shown only to the approver) and
Revoke review links. The page the link opens is in bot/web.py."""

from __future__ import annotations

import logging
from datetime import timedelta

from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError

from bot import ids
from bot.handlers import forms
from bot.handlers.approvals import reviewer_of, reviewing
from bot.messages import review_card
from bot.services import review_links
from bot.slack_errors import error_of
from bot.storage.models import utcnow
from bot.views import review_links as views

log = logging.getLogger(__name__)


def register(app: AsyncApp) -> None:
    app.action(ids.REVIEW_SHARE)(share_button)
    app.action(ids.REVIEW_REVOKE_LINKS)(revoke_button)
    app.view(ids.REVIEW_SHARE_VIEW)(share_submitted)


def review_url(runtime, token: str) -> str:
    return f"{runtime.settings.public_url}/review/{token}"


async def share_button(ack, body, client, respond, subject, db, workspace, person, access) -> None:
    await ack()
    if subject is None:
        return
    workspace = reviewing(db, workspace, subject.post_id)  # a group with approvers of its own: theirs to share
    sharer = await reviewer_of(client, workspace, person, access)
    here = await workspace()
    try:
        async with db() as session:
            await review_links.check_share(session, here, subject.post_id, subject.version, sharer)
    except review_links.Refused as refused:
        await respond(response_type="ephemeral", replace_original=False, text=str(refused))
        return
    channel = (body.get("channel") or {}).get("id") or (body.get("container") or {}).get("channel_id")
    try:
        await client.views_open(trigger_id=body["trigger_id"],
                                view=views.share_modal(subject.post_id, subject.version, channel))
    except SlackApiError as exc:
        log.warning("Could not open the Share for review modal: %s", error_of(exc))


async def share_submitted(ack, view, client, subject, runtime, db, workspace, person, access) -> None:
    if subject is None:
        await ack()
        return
    values = forms.values_of(view)
    name = review_links.clean_name(forms.text(values, ids.REVIEW_SHARE_NAME_BLOCK, ids.REVIEW_SHARE_NAME_INPUT))
    if name is None:
        await ack(response_action="errors", errors={ids.REVIEW_SHARE_NAME_BLOCK: "Say who the link is for."})
        return
    chosen = forms.field(values, ids.REVIEW_SHARE_DAYS_BLOCK, ids.REVIEW_SHARE_DAYS_INPUT).get("selected_option")
    days = int(chosen["value"]) if chosen and str(chosen.get("value", "")).isdigit() else review_links.DEFAULT_DAYS
    workspace = reviewing(db, workspace, subject.post_id)  # a group with approvers of its own: theirs to share
    sharer = await reviewer_of(client, workspace, person, access)
    here = await workspace()
    now = utcnow()
    try:
        async with db() as session:
            token = await review_links.create(session, here, subject.post_id, subject.version, sharer, name, days, now)
    except review_links.Refused as refused:
        await ack(response_action="errors", errors={ids.REVIEW_SHARE_NAME_BLOCK: str(refused)[:1000]})
        return
    # The link goes back in the modal itself: only this approver sees it, never a channel.
    await ack(response_action="update",
              view=views.link_made(review_url(runtime, token), name, now + timedelta(days=days)))
    await review_card.refresh_card(runtime, subject.post_id)  # the card offers Revoke now


async def revoke_button(ack, client, respond, subject, runtime, db, workspace, person, access) -> None:
    await ack()
    if subject is None:
        return
    workspace = reviewing(db, workspace, subject.post_id)  # a group with approvers of its own: theirs to share
    sharer = await reviewer_of(client, workspace, person, access)
    here = await workspace()
    try:
        async with db() as session:
            revoked = await review_links.revoke_all(session, here, subject.post_id, sharer, utcnow())
    except review_links.Refused as refused:
        await respond(response_type="ephemeral", replace_original=False, text=str(refused))
        return
    said = ("No review link of this post was still open." if not revoked else
            f"Revoked {revoked} review link{'s' if revoked != 1 else ''}: {'they' if revoked != 1 else 'it'} "
            "no longer work.")
    await respond(response_type="ephemeral", replace_original=False, text=said)
    await review_card.refresh_card(runtime, subject.post_id)
