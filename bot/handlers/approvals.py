"""Approvals in Slack: the review card (posted when a post needs approval, brought up to date in place as
decisions come in or the post is edited), reactions on it, its buttons and the comment modal."""

from __future__ import annotations

import json
import logging

from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy import select

from bot import ids
from bot.handlers.people import person
from bot.handlers.posts import update_post_message
from bot.media.store import ORIGINAL, MediaStore
from bot.services import approvals, composing
from bot.services.approvals import BUTTON, REACTION, Outcome, Reviewer
from bot.services.workspaces import ensure_workspace
from bot.storage.models import Decision, Post, PostStatus, Workspace, utcnow
from bot.views import approvals as views

log = logging.getLogger(__name__)

CARD_LINK_LIFETIME = 120 * 24 * 3600  # seconds a thumbnail on a card works; Slack keeps its own copy anyway
CANNOT_POST = ("not_in_channel", "channel_not_found", "is_archived")
CARD_GONE = ("message_not_found", "cant_update_message", *CANNOT_POST)


def register(app: AsyncApp) -> None:
    app.event("reaction_added")(reaction_added)
    app.event("reaction_removed")(reaction_removed)
    app.action(ids.REVIEW_APPROVE)(approve_button)
    app.action(ids.REVIEW_REQUEST_CHANGES)(comment_button)
    app.action(ids.REVIEW_REJECT)(comment_button)
    app.action(ids.REVIEW_EDIT)(edit_button)
    app.view(ids.REVIEW_COMMENT_VIEW)(comment_submitted)


# ---- the card ----------------------------------------------------------------------------------------


async def _card(runtime, post_id: int) -> tuple[Post, Workspace, approvals.ReviewCard]:
    store = MediaStore.from_settings(runtime.settings)

    def thumbnail(item) -> str:
        return store.link(item.sha256, ORIGINAL, item.mimetype, lifetime=CARD_LINK_LIFETIME)

    async with runtime.sessions() as session:
        post = await session.get(Post, post_id)
        workspace = await session.get(Workspace, post.workspace_id)
        card = await approvals.review_card(session, workspace, post_id, runtime.adapters, thumbnail)
        await session.commit()
    return post, workspace, card


async def _show(client: AsyncWebClient, channel: str, ts: str | None, card: approvals.ReviewCard):
    """Post the card, or update it where it is."""
    for thumbnails in (True, False):
        blocks, text = views.review_card(card, thumbnails), views.card_text(card)
        try:
            if ts:
                return await client.chat_update(channel=channel, ts=ts, blocks=blocks, text=text)
            return await client.chat_postMessage(channel=channel, blocks=blocks, text=text)
        except SlackApiError as exc:
            # Slack refuses a message whose pictures it cannot fetch (PUBLIC_URL not reachable from Slack):
            # the card goes without thumbnails rather than not at all.
            if not thumbnails or exc.response.get("error") != "invalid_blocks" or not any(
                    m.thumbnail_url for m in card.media):
                raise
    raise AssertionError("unreachable")


async def _reply(client: AsyncWebClient, channel: str, thread_ts: str | None, text: str) -> None:
    try:
        await client.chat_postMessage(channel=channel, thread_ts=thread_ts, text=text)
    except SlackApiError as exc:
        log.warning("Could not post a reply about a review in %s: %s", channel, exc.response.get("error"))


async def _tell_author(client: AsyncWebClient, post: Post, text: str, on_card: bool = True) -> None:
    """In the card's thread (approvers follow it) and, where it lives elsewhere, in the thread of the post's
    status message (the author surely sees that one); the author's DM when there is neither."""
    places = []
    if on_card and post.review_channel_id and post.review_ts:
        places.append((post.review_channel_id, post.review_ts))
    if post.channel_id and post.message_ts and post.channel_id != post.review_channel_id:
        places.append((post.channel_id, post.message_ts))
    for channel, ts in places or [(post.author_user_id, None)]:
        await _reply(client, channel, ts, text)


async def send_for_review(runtime, post_id: int) -> None:
    """After a post was accepted or edited: post its review card when it waits for approval, or bring its
    card up to date in place (an edit re-opens the review)."""
    async with runtime.sessions() as session:
        status = await session.scalar(select(Post.status).where(Post.id == post_id))
        await session.commit()
    if status is not PostStatus.PENDING_APPROVAL:
        return
    try:
        post, workspace, card = await _card(runtime, post_id)
        client = await runtime.slack_client(workspace.team_id, workspace.enterprise_id)
        if client is None:
            return
        if post.review_channel_id and post.review_ts:
            try:
                await _show(client, post.review_channel_id, post.review_ts, card)
            except SlackApiError as exc:
                if exc.response.get("error") not in CARD_GONE:
                    raise
                log.info("The review card of post %s is gone (%s): posting a new one", post_id,
                         exc.response.get("error"))
            else:
                had_approvals = any(d.decision is Decision.APPROVE and d.version < card.version
                                    for d in card.decisions)
                await _reply(client, post.review_channel_id, post.review_ts,
                             views.reopened_reply(post.author_user_id, card.version, had_approvals))
                return
        channel = workspace.approval_channel_id
        if not channel:
            await _tell_author(client, post, views.card_failed(None, None), on_card=False)
            return
        try:
            sent = await _show(client, channel, None, card)
        except SlackApiError as exc:
            error = exc.response.get("error")
            if error not in CANNOT_POST:
                raise
            log.warning("Could not post the review card of post %s in %s: %s", post_id, channel, error)
            await _tell_author(client, post, views.card_failed(channel, error), on_card=False)
            return
        async with runtime.sessions() as session:
            await approvals.set_card(session, post_id, sent["channel"], sent["ts"])
            await session.commit()
    except SlackApiError as exc:
        log.warning("Could not show the review card of post %s: %s", post_id, exc.response.get("error"))


async def _refresh(runtime, client: AsyncWebClient, post_id: int) -> tuple[Post, approvals.ReviewCard]:
    post, _workspace, card = await _card(runtime, post_id)
    if post.review_channel_id and post.review_ts:
        try:
            await _show(client, post.review_channel_id, post.review_ts, card)
        except SlackApiError as exc:
            log.warning("Could not update the review card of post %s: %s", post_id, exc.response.get("error"))
    return post, card


async def refresh_card(runtime, post_id: int) -> None:
    """Bring a post's review card up to date after a change made elsewhere (the queue's Cancel or
    Reschedule): a cancelled post's card loses its buttons."""
    async with runtime.sessions() as session:
        post = await session.get(Post, post_id)
        workspace = await session.get(Workspace, post.workspace_id) if post is not None else None
        await session.commit()
    if post is None or not post.review_ts:
        return
    client = await runtime.slack_client(workspace.team_id, workspace.enterprise_id)
    if client is not None:
        await _refresh(runtime, client, post_id)


async def _after(runtime, client: AsyncWebClient, outcome: Outcome) -> None:
    """Show what a decision changed: the card, the post's status message, and the author's notice."""
    stale = outcome.refusal is not None and outcome.status not in (None, PostStatus.PENDING_APPROVAL)
    if not outcome.recorded and not stale:
        return
    post, card = await _refresh(runtime, client, outcome.post_id)  # a stale card loses its buttons too
    if not outcome.finished:
        return
    await update_post_message(runtime, outcome.post_id)
    if outcome.decision is Decision.APPROVE:
        text = views.approved_reply(post.author_user_id, card.approvers, post.scheduled_at, outcome.published_now,
                                    outcome.late)
    else:
        text = views.returned_reply(post.author_user_id, card.decisions[-1])
    await _tell_author(client, post, text)


# ---- deciding ----------------------------------------------------------------------------------------


async def _reviewer(client: AsyncWebClient, workspace: Workspace, user_id: str) -> Reviewer:
    """What Slack says about someone deciding: admin (when admins approve), member of the approvers' group."""
    is_admin = approvals.admins_review(workspace) and (await person(client, user_id)).is_admin
    in_group = False
    group = workspace.approver_usergroup_id
    if group and user_id not in (workspace.approver_user_ids or []):
        try:
            members = (await client.usergroups_users_list(usergroup=group)).get("users") or []
        except SlackApiError as exc:
            log.warning("Could not read the approvers' user group %s: %s", group, exc.response.get("error"))
            members = []
        in_group = user_id in members
    return Reviewer(user_id, is_admin, in_group)


async def _decide(context, client: AsyncWebClient, user_id: str, post_id: int, decision: Decision, *,
                  source: str, comment: str | None = None, event_id: str | None = None,
                  version: int | None = None) -> Outcome:
    runtime = context["runtime"]
    async with runtime.sessions() as session:
        workspace = await ensure_workspace(session, context.team_id, context.enterprise_id)
        await session.commit()
    reviewer = await _reviewer(client, workspace, user_id)  # asked before the post is locked
    async with runtime.sessions() as session:
        workspace = await ensure_workspace(session, context.team_id, context.enterprise_id)
        outcome = await approvals.decide(session, workspace, post_id, reviewer, decision, source=source,
                                         now=utcnow(), comment=comment, event_id=event_id, version=version)
        await session.commit()
    return outcome


def _card_button(action: dict) -> tuple[int, int] | None:
    """(post id, version) from a card button's value."""
    post_id, _, version = str(action.get("value") or "").partition(":")
    if not (post_id.isdigit() and version.isdigit()):
        return None
    return int(post_id), int(version)


# ---- reactions -----------------------------------------------------------------------------------------


async def reaction_added(body, event, context, client) -> None:
    await _reaction(body, event, context, client, removed=False)


async def reaction_removed(body, event, context, client) -> None:
    await _reaction(body, event, context, client, removed=True)


async def _reaction(body: dict, event: dict, context, client: AsyncWebClient, removed: bool) -> None:
    """The approve or reject reaction on a review card does what its button does; removing the approve
    reaction takes that approval back. Every other reaction, anywhere, is none of Picmim's business."""
    item = event.get("item") or {}
    channel, ts, user = item.get("channel"), item.get("ts"), event.get("user")
    event_id = body.get("event_id")
    if item.get("type") != "message" or not all(isinstance(v, str) and v for v in (channel, ts, user)):
        return
    runtime = context["runtime"]
    async with runtime.sessions() as session:
        workspace = await ensure_workspace(session, context.team_id, context.enterprise_id)
        decision = approvals.reaction_decision(workspace, str(event.get("reaction") or ""))
        post = await approvals.card_post(session, workspace.id, channel, ts) if decision else None
        await session.commit()
    if post is None:
        return
    if removed:
        if decision is not Decision.APPROVE:
            return  # a removed reject reaction undoes nothing: the post already went back to its author
        decision = Decision.WITHDRAW
    outcome = await _decide(context, client, user, post.id, decision, source=REACTION,
                            event_id=event_id if isinstance(event_id, str) else None)
    if not outcome.recorded and outcome.status not in (None, PostStatus.PENDING_APPROVAL):
        return  # a reaction on a card already decided (a celebration, most likely): its card says it all
    if outcome.refusal and not outcome.quiet:
        try:
            await client.chat_postEphemeral(channel=channel, user=user, text=outcome.refusal)
        except SlackApiError as exc:
            log.warning("Could not tell %s why their reaction did not count: %s", user, exc.response.get("error"))
    await _after(runtime, client, outcome)


# ---- buttons and the comment modal ---------------------------------------------------------------------


async def approve_button(ack, body, action, context, client, respond) -> None:
    await ack()
    found = _card_button(action)
    if found is None:
        return
    post_id, version = found
    outcome = await _decide(context, client, context.user_id, post_id, Decision.APPROVE, source=BUTTON,
                            version=version)
    if outcome.refusal and not outcome.quiet:
        await respond(response_type="ephemeral", replace_original=False, text=outcome.refusal)
    await _after(context["runtime"], client, outcome)


async def comment_button(ack, body, action, context, client, respond) -> None:
    """Request changes or Reject: first the comment, in a modal (after checking the person may decide)."""
    await ack()
    found = _card_button(action)
    if found is None:
        return
    post_id, version = found
    decision = Decision.REQUEST_CHANGES if action.get("action_id") == ids.REVIEW_REQUEST_CHANGES else Decision.REJECT
    runtime = context["runtime"]
    async with runtime.sessions() as session:
        workspace = await ensure_workspace(session, context.team_id, context.enterprise_id)
        await session.commit()
    reviewer = await _reviewer(client, workspace, context.user_id)
    async with runtime.sessions() as session:
        refusal = await approvals.check(session, workspace, post_id, reviewer, decision, version)
        post = await session.get(Post, post_id)
        await session.commit()
    if refusal:
        await respond(response_type="ephemeral", replace_original=False, text=refusal)
        if post is not None and post.workspace_id == workspace.id and post.status is not PostStatus.PENDING_APPROVAL:
            await _refresh(runtime, client, post_id)
        return
    try:
        await client.views_open(trigger_id=body["trigger_id"], view=views.comment_modal(post_id, version, decision))
    except SlackApiError as exc:
        log.warning("Could not open the review comment modal: %s", exc.response.get("error"))


async def comment_submitted(ack, view, context, client) -> None:
    try:
        meta = json.loads(view.get("private_metadata") or "{}")
        post_id, version, decision = int(meta["post_id"]), int(meta["version"]), Decision(meta["decision"])
    except (ValueError, KeyError, TypeError):
        await ack()
        return
    if decision not in approvals.FINAL:
        await ack()
        return
    values = (view.get("state") or {}).get("values") or {}
    comment = (((values.get(ids.REVIEW_COMMENT_BLOCK) or {}).get(ids.REVIEW_COMMENT_INPUT) or {}).get("value")
               or "").strip()
    if decision is Decision.REQUEST_CHANGES and not comment:
        await ack(response_action="errors",
                  errors={ids.REVIEW_COMMENT_BLOCK: "Say what should change, so the author knows what to do."})
        return
    # Decided before the answer, so a refusal is shown on the modal and the comment is not lost.
    outcome = await _decide(context, client, context.user_id, post_id, decision, source=BUTTON, comment=comment,
                            version=version)
    if outcome.refusal and not outcome.quiet:
        await ack(response_action="errors", errors={ids.REVIEW_COMMENT_BLOCK: outcome.refusal[:1000]})
    else:
        await ack()
    await _after(context["runtime"], client, outcome)


async def edit_button(ack, body, action, context, client, respond) -> None:
    """Edit on the card: the compose modal on the post, for its author."""
    await ack()
    found = _card_button(action)
    if found is None:
        return
    runtime = context["runtime"]
    async with runtime.sessions() as session:
        workspace = await ensure_workspace(session, context.team_id, context.enterprise_id)
        queued = await composing.queued_composition(session, workspace.id, found[0])
        await session.commit()
    if queued is None:
        problem = "This post is no longer waiting for approval, so it cannot be edited here."
    elif queued[0].author_user_id != context.user_id:
        problem = "Only the post's author can edit it. To ask them for changes, use Request changes."
    else:
        problem = None
    if problem:
        await respond(response_type="ephemeral", replace_original=False, text=problem)
        return
    from bot.handlers.compose import open_edit  # compose sends posts for review: imported here, not above

    await open_edit(context, client, body["trigger_id"], queued)
