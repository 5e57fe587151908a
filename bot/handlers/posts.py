"""A post's status message in Slack, and its Retry / "It is live" buttons."""

from __future__ import annotations

import logging

from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError

from bot import ids
from bot.media import renditions
from bot.media.store import MediaStore
from bot.services import publishing
from bot.services.workspaces import ensure_workspace
from bot.storage.models import Post, Workspace, utcnow
from bot.views.posts import status_message

log = logging.getLogger(__name__)


def register(app: AsyncApp) -> None:
    app.action(ids.POST_RETRY)(retry_button)
    app.action(ids.POST_MARK_PUBLISHED)(mark_published_button)


async def update_post_message(runtime, post_id: int) -> None:
    """Post or update the one message that follows a post (where it was composed, or the author's DM)."""
    async with runtime.sessions() as session:
        post = await session.get(Post, post_id)
        workspace = await session.get(Workspace, post.workspace_id)
        lines = await publishing.target_lines(session, post_id)
        optimising = await renditions.post_progress(session, post_id, runtime.adapters)
        cover = await renditions.cover_link(session, MediaStore.from_settings(runtime.settings), post)
        blocks = status_message(post.status, post.text, post.scheduled_at, post.timezone, lines,
                                optimising=optimising, cover_url=cover)
        text = f"Post {post.status.value}: {post.text[:100]}"
        client = await runtime.slack_client(workspace.team_id, workspace.enterprise_id)
        if client is None:
            return

        async def send(blocks: list[dict]):
            if post.message_ts and post.channel_id:
                await client.chat_update(channel=post.channel_id, ts=post.message_ts, blocks=blocks, text=text)
                return None
            try:
                return await client.chat_postMessage(channel=post.channel_id or post.author_user_id, blocks=blocks,
                                                     text=text)
            except SlackApiError as exc:
                if exc.response.get("error") not in ("not_in_channel", "channel_not_found", "is_archived"):
                    raise
                # The bot cannot write where the post was composed: the author's DM always works.
                return await client.chat_postMessage(channel=post.author_user_id, blocks=blocks, text=text)

        try:
            try:
                sent = await send(blocks)
            except SlackApiError as exc:
                if not cover or exc.response.get("error") != "invalid_blocks":
                    raise
                # Slack could not fetch the cover frame (PUBLIC_URL is not reachable from the internet).
                sent = await send(status_message(post.status, post.text, post.scheduled_at, post.timezone, lines,
                                                 optimising=optimising))
            if sent is not None:
                post.channel_id, post.message_ts = sent["channel"], sent["ts"]
                await session.commit()
        except SlackApiError as exc:
            log.warning("Could not update the message of post %s: %s", post_id, exc.response.get("error"))


async def _target_action(ack, action, context, change) -> None:
    await ack()
    runtime = context["runtime"]
    try:
        target_id = int(action.get("value") or "")
    except ValueError:
        return
    async with runtime.sessions() as session:
        workspace = await ensure_workspace(session, context.team_id, context.enterprise_id)
        changed = await change(session, workspace.id, target_id)
        post_id = await session.scalar(publishing.post_of_target(target_id)) if changed else None
        await session.commit()
    if post_id is not None:
        await update_post_message(runtime, post_id)


async def retry_button(ack, action, context) -> None:
    await _target_action(ack, action, context,
                         lambda session, ws, target: publishing.retry_target(session, ws, target, utcnow()))


async def mark_published_button(ack, action, context) -> None:
    await _target_action(ack, action, context, lambda session, ws, target: publishing.mark_published(
        session, ws, target, context.user_id, utcnow()))
