"""Approvals in Slack: reactions on a review card, its buttons and the comment modal. The card itself is
bot/messages/review_card.py."""

from __future__ import annotations

import logging

from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot import ids
from bot.handlers import forms
from bot.handlers.compose import open_edit
from bot.messages import review_card
from bot.services import approvals, composing, roles
from bot.services.approvals import BUTTON, REACTION, Outcome, Reviewer
from bot.slack_errors import error_of, unavailable
from bot.storage.models import Decision, PostStatus, utcnow
from bot.views import approvals as views

log = logging.getLogger(__name__)


def register(app: AsyncApp) -> None:
    app.event("reaction_added")(reaction_added)
    app.event("reaction_removed")(reaction_removed)
    app.action(ids.REVIEW_APPROVE)(approve_button)
    app.action(ids.REVIEW_REQUEST_CHANGES)(comment_button)
    app.action(ids.REVIEW_REJECT)(comment_button)
    app.action(ids.REVIEW_EDIT)(edit_button)
    app.view(ids.REVIEW_COMMENT_VIEW)(comment_submitted)


# ---- deciding ----------------------------------------------------------------------------------------


def reviewing(db, workspace, post_id: int):
    """`workspace()` with the approvers of the post's account group, when its group has its own."""
    found = []

    async def read():
        if not found:
            async with db() as session:
                found.append(await roles.reviewing_for_post(session, await workspace(), post_id))
        return found[0]
    return read


async def reviewer_of(client: AsyncWebClient, workspace, person, access) -> Reviewer:
    """What Slack says about someone deciding: admin (when admins approve; Slack's and those named in
    `/picmim roles`), member of the approvers' group."""
    here, user_id = await workspace(), (await person()).user_id
    # Asked only when admins approve: Slack being unreachable must not stop the chosen approvers.
    is_admin = approvals.admins_review(here) and (await access()).is_admin
    in_group = False
    group = here.approver_usergroup_id
    if group and user_id not in (here.approver_user_ids or []):
        try:
            members = (await client.usergroups_users_list(usergroup=group)).get("users") or []
        except SlackApiError as exc:
            log.warning("Could not read the approvers' user group %s: %s", group, error_of(exc))
            members = []
        in_group = user_id in members
    return Reviewer(user_id, is_admin, in_group)


async def _decide(client: AsyncWebClient, db, workspace, person, access, post_id: int, decision: Decision, *,
                  source: str, comment: str | None = None, event_id: str | None = None,
                  version: int | None = None) -> Outcome:
    workspace = reviewing(db, workspace, post_id)
    reviewer = await reviewer_of(client, workspace, person, access)  # asked before the post is locked
    here = await workspace()
    async with db() as session:
        return await approvals.decide(session, here, post_id, reviewer, decision, source=source,
                                      now=utcnow(), comment=comment, event_id=event_id, version=version)


# ---- reactions -----------------------------------------------------------------------------------------


async def reaction_added(body, event, client, runtime, db, workspace, person, access) -> None:
    await _reaction(body, event, client, runtime, db, workspace, person, access, removed=False)


async def reaction_removed(body, event, client, runtime, db, workspace, person, access) -> None:
    await _reaction(body, event, client, runtime, db, workspace, person, access, removed=True)


async def _reaction(body: dict, event: dict, client: AsyncWebClient, runtime, db, workspace, person, access,
                    removed: bool) -> None:
    """The approve or reject reaction on a review card does what its button does; removing the approve
    reaction takes that approval back. Every other reaction, anywhere, is none of Picmim's business."""
    item = event.get("item") or {}
    channel, ts, user = item.get("channel"), item.get("ts"), event.get("user")
    event_id = body.get("event_id")
    if item.get("type") != "message" or not all(isinstance(v, str) and v for v in (channel, ts, user)):
        return
    here = await workspace()
    decision = approvals.reaction_decision(here, str(event.get("reaction") or ""))
    if decision is None:
        return
    async with db() as session:
        post = await approvals.card_post(session, here.id, channel, ts)
    if post is None:
        return
    if removed:
        if decision is not Decision.APPROVE:
            return  # a removed reject reaction undoes nothing: the post already went back to its author
        decision = Decision.WITHDRAW
    outcome = await _decide(client, db, workspace, person, access, post.id, decision, source=REACTION,
                            event_id=event_id if isinstance(event_id, str) else None)
    if not outcome.recorded and outcome.status not in (None, PostStatus.PENDING_APPROVAL):
        return  # a reaction on a card already decided (a celebration, most likely): its card says it all
    if outcome.refusal and not outcome.quiet:
        try:
            await client.chat_postEphemeral(channel=channel, user=user, text=outcome.refusal)
        except SlackApiError as exc:
            log.warning("Could not tell %s why their reaction did not count: %s", user, error_of(exc))
    await review_card.after_decision(runtime, client, outcome)


# ---- buttons and the comment modal ---------------------------------------------------------------------


async def approve_button(ack, client, respond, subject, runtime, db, workspace, person, access) -> None:
    await ack()
    if subject is None:
        return
    outcome = await _decide(client, db, workspace, person, access, subject.post_id, Decision.APPROVE, source=BUTTON,
                            version=subject.version)
    if outcome.refusal and not outcome.quiet:
        await respond(response_type="ephemeral", replace_original=False, text=outcome.refusal)
    await review_card.after_decision(runtime, client, outcome)


async def comment_button(ack, body, action, client, respond, subject, runtime, db, workspace, person, access) -> None:
    """Request changes or Reject: first the comment, in a modal (after checking the person may decide)."""
    await ack()
    if subject is None:
        return
    post_id, version = subject.post_id, subject.version
    decision = Decision.REQUEST_CHANGES if action.get("action_id") == ids.REVIEW_REQUEST_CHANGES else Decision.REJECT
    workspace = reviewing(db, workspace, post_id)
    reviewer = await reviewer_of(client, workspace, person, access)
    here = await workspace()
    async with db() as session:
        refusal = await approvals.check(session, here, post_id, reviewer, decision, version)
        status = await approvals.status_in(session, here.id, post_id)
    if refusal:
        await respond(response_type="ephemeral", replace_original=False, text=refusal)
        if status is not None and status is not PostStatus.PENDING_APPROVAL:
            await review_card.refresh(runtime, client, post_id)
        return
    try:
        await client.views_open(trigger_id=body["trigger_id"], view=views.comment_modal(post_id, version, decision))
    except SlackApiError as exc:
        if unavailable(exc):
            raise  # Slack failing for now: the person is told so (failures.py)
        log.warning("Could not open the review comment modal: %s", error_of(exc))


async def comment_submitted(ack, view, client, subject, runtime, db, workspace, person, access) -> None:
    if subject is None or subject.decision not in approvals.FINAL:
        await ack()
        return
    comment = forms.text(forms.values_of(view), ids.REVIEW_COMMENT_BLOCK, ids.REVIEW_COMMENT_INPUT).strip()
    if subject.decision is Decision.REQUEST_CHANGES and not comment:
        await ack(response_action="errors",
                  errors={ids.REVIEW_COMMENT_BLOCK: "Say what should change, so the author knows what to do."})
        return
    # Decided before the answer, so a refusal is shown on the modal and the comment is not lost.
    outcome = await _decide(client, db, workspace, person, access, subject.post_id, subject.decision, source=BUTTON,
                            comment=comment, version=subject.version)
    if outcome.refusal and not outcome.quiet:
        await ack(response_action="errors", errors={ids.REVIEW_COMMENT_BLOCK: outcome.refusal[:1000]})
    else:
        await ack()
    await review_card.after_decision(runtime, client, outcome)


async def edit_button(ack, body, context, client, respond, subject, runtime, db, workspace, access) -> None:
    """Edit on the card: the compose modal on the post, for its author."""
    await ack()
    if subject is None:
        return
    workspace_id = (await workspace()).id
    async with db() as session:
        queued = await composing.queued_composition(session, workspace_id, subject.post_id)
    if queued is None:
        problem = "This post is no longer waiting for approval, so it cannot be edited here."
    elif queued[0].author_user_id != context.user_id:
        problem = "Only the post's author can edit it. To ask them for changes, use Request changes."
    else:
        problem = None
    if problem:
        await respond(response_type="ephemeral", replace_original=False, text=problem)
        return
    await open_edit(client, runtime, db, workspace, access, body["trigger_id"], queued)
