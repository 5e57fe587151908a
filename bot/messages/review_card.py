"""A post's review card in the approval channel: posted when a post waits for approval, brought up to date in
place as decisions come in or the post is edited, and the author's notices about the review."""

from __future__ import annotations

import logging

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy import exists, select

from bot.media.store import ORIGINAL, MediaStore
from bot.messages import outbox as sending
from bot.messages.failure_alerts import announce_failures
from bot.messages.outbox import Sent
from bot.messages.post_status import update_post_message
from bot.services import approvals, outbox
from bot.services.approvals import Outcome
from bot.services.roles import reviewing_for_post
from bot.slack_errors import error_of
from bot.storage.models import Decision, Post, PostStatus, PostTarget, TargetStatus, Workspace
from bot.views import approvals as views

log = logging.getLogger(__name__)

CARD_LINK_LIFETIME = 120 * 24 * 3600  # seconds a thumbnail on a card works; Slack keeps its own copy anyway
CANNOT_POST = ("not_in_channel", "channel_not_found", "is_archived")
CARD_GONE = ("message_not_found", "cant_update_message", *CANNOT_POST)


async def _card(runtime, post_id: int) -> tuple[Post | None, Workspace | None, approvals.ReviewCard | None]:
    store = MediaStore.from_settings(runtime.settings)

    def thumbnail(item) -> str:
        return store.link(item.sha256, ORIGINAL, item.mimetype, lifetime=CARD_LINK_LIFETIME)

    async with runtime.sessions() as session:
        post = await session.get(Post, post_id)
        if post is None:
            return None, None, None
        workspace = await session.get(Workspace, post.workspace_id)
        workspace = await reviewing_for_post(session, workspace, post_id)  # a group's own approvers and channel
        card = await approvals.review_card(session, workspace, post_id, runtime.adapters, thumbnail)
        await session.commit()
    return post, workspace, card


async def current_card(runtime, post_id: int) -> tuple[Post | None, Workspace | None, approvals.ReviewCard | None]:
    """The post, the approval settings that apply to it and its card, as they are now."""
    return await _card(runtime, post_id)


async def announce_resubmitted(runtime, post_id: int) -> None:
    """An expired post was rescheduled: the approvers are told in the card's thread (the card itself is brought
    up to date, its buttons back, by `refresh_card`; a card that is gone is posted afresh)."""
    post, workspace, _shown = await _card(runtime, post_id)
    if post is None or post.status is not PostStatus.PENDING_APPROVAL or post.scheduled_at is None:
        return
    if not post.review_ts:
        await _owe_card(runtime, post.workspace_id, post_id)
        return
    await sending.notify(runtime, post.workspace_id, post.review_channel_id,
                         views.resubmitted_reply(post.author_user_id, post.scheduled_at,
                                                 approvals.who_reviews(workspace)), thread_ts=post.review_ts)


async def _show(client: AsyncWebClient, channel: str, ts: str | None, card: approvals.ReviewCard):
    """Post the card, or update it where it is."""
    for thumbnails in (True, False):
        blocks, text = views.review_card(card, thumbnails), views.card_text(card, first=not ts)
        try:
            if ts:
                return await client.chat_update(channel=channel, ts=ts, blocks=blocks, text=text)
            return await client.chat_postMessage(channel=channel, blocks=blocks, text=text)
        except SlackApiError as exc:
            # Slack refuses a message whose pictures it cannot fetch (PUBLIC_URL not reachable from Slack):
            # the card goes without thumbnails rather than not at all.
            if not thumbnails or error_of(exc) != "invalid_blocks" or not any(
                    m.thumbnail_url for m in card.media):
                raise
    raise AssertionError("unreachable")


async def tell_author(runtime, post: Post, text: str, on_card: bool = True, blocks: list[dict] | None = None) -> None:
    """Tell the author once: in the thread of the post's status message (the author follows it; the card
    itself shows approvers the outcome), else in the card's thread, else in the author's DM. Kept until Slack
    takes it (bot/messages/outbox.py)."""
    if post.channel_id and post.message_ts:
        place = (post.channel_id, post.message_ts)
    elif on_card and post.review_channel_id and post.review_ts:
        place = (post.review_channel_id, post.review_ts)
    else:
        place = (post.author_user_id, None)
    await sending.notify(runtime, post.workspace_id, place[0], text, thread_ts=place[1], blocks=blocks)


async def send_for_review(runtime, post_id: int) -> None:
    """After a post was accepted or edited: post its review card when it waits for approval, or bring its
    card up to date in place (an edit re-opens the review)."""
    async with runtime.sessions() as session:
        found = (await session.execute(select(Post.status, Post.review_ts, Post.workspace_id)
                                       .where(Post.id == post_id))).first()
        await session.commit()
    if found is None or found.status is not PostStatus.PENDING_APPROVAL:
        return
    await _owe_card(runtime, found.workspace_id, post_id, reopened=bool(found.review_ts))


async def _owe_card(runtime, workspace_id: int, post_id: int, reopened: bool = False) -> None:
    """The card, posted or brought up to date, through the outbox: kept until Slack takes it, and a change
    made meanwhile folds into the card still owed (never a second card)."""
    owed = outbox.Owed(outbox.REVIEW_CARD, workspace_id, key=f"{outbox.REVIEW_CARD}:{post_id}", post_id=post_id,
                       payload={"reopened": True} if reopened else {})
    await sending.send(runtime, owed, send_card)


async def send_card(runtime, owed: outbox.Owed) -> Sent | None:
    """The outbox's sender of review cards: the card as the post is now, updated where it is, else posted in
    the approval channel while the post waits for approval (with the post's review_ts stored)."""
    post_id = owed.post_id
    post, workspace, card = await _card(runtime, post_id)
    if post is None:
        return None
    client = await runtime.slack_client(workspace.team_id, workspace.enterprise_id)
    if client is None:
        raise sending.Undelivered("not_installed", transient=False)
    if post.review_channel_id and post.review_ts:
        try:
            await _show(client, post.review_channel_id, post.review_ts, card)
        except SlackApiError as exc:
            if error_of(exc) not in CARD_GONE or post.status is not PostStatus.PENDING_APPROVAL:
                raise
            log.info("The review card of post %s is gone (%s): posting a new one", post_id, error_of(exc))
        else:
            if owed.payload.get("reopened"):
                had_approvals = any(d.decision is Decision.APPROVE and d.version < card.version
                                    for d in card.decisions)
                await sending.notify(runtime, workspace.id, post.review_channel_id,
                                     views.reopened_reply(post.author_user_id, card.version, had_approvals),
                                     thread_ts=post.review_ts)
            return Sent(post.review_channel_id, post.review_ts)
    if post.status is not PostStatus.PENDING_APPROVAL:
        return None
    channel = workspace.approval_channel_id
    if not channel:
        await tell_author(runtime, post, views.card_failed(None, None), on_card=False)
        return None
    try:
        sent = await _show(client, channel, None, card)
    except SlackApiError as exc:
        error = error_of(exc)
        if error not in CANNOT_POST:
            raise
        log.warning("Could not post the review card of post %s in %s: %s", post_id, channel, error)
        await tell_author(runtime, post, views.card_failed(channel, error), on_card=False)
        return None
    async with runtime.sessions() as session:
        await approvals.set_card(session, post_id, sent["channel"], sent["ts"])
        await session.commit()
    return Sent(sent["channel"], sent["ts"])


async def refresh(runtime, client: AsyncWebClient, post_id: int) -> tuple[Post, approvals.ReviewCard]:
    """Bring the card up to date where it is (through the outbox); the post and card as they are now."""
    post, _workspace, card = await _card(runtime, post_id)
    if post.review_channel_id and post.review_ts:
        await _owe_card(runtime, post.workspace_id, post_id)
    return post, card


PUBLISHING_RESULTS = (PostStatus.PUBLISHING, PostStatus.PUBLISHED, PostStatus.FAILED)


async def post_changed(runtime, post_id: int) -> None:
    """A post's publishing moved on (the publisher, token health, a retry): its status message, and its review
    card once it publishes, so approvers see the outcome and the live links there too."""
    # Called after every published target: one small read decides what is owed (most posts have no card and
    # no failure), instead of a read in each of the three steps.
    async with runtime.sessions() as session:
        row = (await session.execute(
            select(Post.workspace_id, Post.review_ts, Post.status,
                   exists().where(PostTarget.post_id == Post.id,
                                  PostTarget.status.in_([TargetStatus.FAILED, TargetStatus.UNCONFIRMED]))
                   .label("failing"))
            .where(Post.id == post_id))).first()
        await session.commit()
    if row is None:
        return
    await update_post_message(runtime, post_id, workspace_id=row.workspace_id)
    if row.review_ts and row.status in PUBLISHING_RESULTS:
        await _owe_card(runtime, row.workspace_id, post_id)
    if row.failing:
        await announce_failures(runtime, post_id)  # after the status message, so the alert can link to it


async def refresh_card(runtime, post_id: int, only_in: tuple[PostStatus, ...] | None = None) -> None:
    """Bring a post's review card up to date after a change made elsewhere (the queue's Cancel or
    Reschedule: a cancelled post's card loses its buttons); `only_in`: only while the post is in these states."""
    # Called after every published target: one small read decides, most posts having no card.
    async with runtime.sessions() as session:
        row = (await session.execute(
            select(Post.review_ts, Post.status, Post.workspace_id).where(Post.id == post_id))).first()
        await session.commit()
    if row is None or not row.review_ts or (only_in is not None and row.status not in only_in):
        return
    await _owe_card(runtime, row.workspace_id, post_id)


async def after_decision(runtime, client: AsyncWebClient, outcome: Outcome) -> None:
    """Show what a decision changed: the card, the post's status message, and the author's notice."""
    stale = outcome.refusal is not None and outcome.status not in (None, PostStatus.PENDING_APPROVAL)
    if not outcome.recorded and not stale:
        return
    post, card = await refresh(runtime, client, outcome.post_id)  # a stale card loses its buttons too
    if not outcome.finished:
        return
    await update_post_message(runtime, outcome.post_id)
    if outcome.decision is Decision.APPROVE:
        text = views.approved_reply(post.author_user_id, card.approvers, post.scheduled_at, outcome.published_now,
                                    outcome.late)
    else:
        text = views.returned_reply(post.author_user_id, card.decisions[-1])
    await tell_author(runtime, post, text)
