"""A post's status message's buttons: Retry and "It is live" on a line, Edit and Cancel on a post that can still
be changed (Reconnect is the accounts' own button: bot.handlers.connect). The message itself is
bot/messages/post_status.py."""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp
from sqlalchemy import select

from bot import ids
from bot.handlers import queue as queue_handlers
from bot.messages.review_card import post_changed
from bot.services import publishing, queue, roles
from bot.storage.models import Post, PostTarget, utcnow


def register(app: AsyncApp) -> None:
    app.action(ids.POST_RETRY)(retry_button)
    app.action(ids.POST_MARK_PUBLISHED)(mark_published_button)
    app.action(ids.POST_CANCEL)(cancel_button)


NOT_YOURS = roles.NOT_YOURS


async def _target_action(ack, context, respond, subject, runtime, db, workspace, access, change, what: str) -> None:
    await ack()
    if subject is None:
        return
    workspace_id = (await workspace()).id
    async with db() as session:
        post = await session.scalar(select(Post).join(PostTarget, PostTarget.post_id == Post.id).where(
            PostTarget.id == subject.target_id, Post.workspace_id == workspace_id))
        if post is not None and not (await access()).may_change_post(
                post.author_user_id, await roles.post_accounts(session, post.id)):
            if respond is not None:  # App Home's Retry has no response_url: nowhere to say it; nothing changes
                await respond(response_type="ephemeral", replace_original=False, text=NOT_YOURS.format(what))
            return
        changed = await change(session, workspace_id, subject.target_id)
        post_id = await session.scalar(publishing.post_of_target(subject.target_id)) if changed else None
    if post_id is not None:
        await post_changed(runtime, post_id)


async def retry_button(ack, context, respond, subject, runtime, db, workspace, access) -> None:
    await _target_action(ack, context, respond, subject, runtime, db, workspace, access,
                         lambda session, ws, target: publishing.retry_target(session, ws, target, utcnow(),
                                                                              actor=context.user_id),
                         "send it again")


async def mark_published_button(ack, context, respond, subject, runtime, db, workspace, access) -> None:
    await _target_action(ack, context, respond, subject, runtime, db, workspace, access,
                         lambda session, ws, target: publishing.mark_published(
                             session, ws, target, context.user_id, utcnow()),
                         "mark it live")


async def cancel_button(ack, context, respond, subject, runtime, db, workspace, access) -> None:
    """Cancel post (confirmed in Slack's dialog first): the message itself then says Cancelled; only the person
    who pressed it is told when it could not be."""
    await ack()
    if subject is None:
        return

    async def cancel(session, post, now) -> str:
        await queue.cancel(session, post, now, actor=context.user_id)
        return ""

    changed, note = await queue_handlers.apply_change(runtime, db, workspace, access, subject.post_id, cancel)
    if not changed:
        await respond(response_type="ephemeral", replace_original=False, text=note)
