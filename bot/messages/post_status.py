"""A post's status message: the one Slack message that follows a post from acceptance to its last platform's
result (where it was composed, or the author's DM), posted once and then updated in place. It goes through the
outbox (bot/messages/outbox.py): when Slack does not take it, it is sent later with the post's newest state, and
its ts is stored where every later update looks for it, so there is never a second one."""

from __future__ import annotations

from slack_sdk.errors import SlackApiError
from sqlalchemy import select

from bot.media import renditions
from bot.media.store import MediaStore
from bot.messages import outbox as sending
from bot.messages.outbox import Sent
from bot.services import outbox, publishing, series
from bot.slack_errors import error_of
from bot.storage.models import MediaItem, Post, PostMedia, Workspace, utcnow
from bot.views.posts import notification_text, status_message


async def update_post_message(runtime, post_id: int, workspace_id: int | None = None) -> None:
    """Post or update the one message that follows a post (where it was composed, or the author's DM);
    `workspace_id`: the post's, when the caller has read it already."""
    if workspace_id is None:
        async with runtime.sessions() as session:
            workspace_id = await session.scalar(select(Post.workspace_id).where(Post.id == post_id))
            await session.commit()
    if workspace_id is None:
        return
    await sending.send(runtime, outbox.Owed(outbox.STATUS, workspace_id, key=f"{outbox.STATUS}:{post_id}",
                                            post_id=post_id), send_status)


async def send_status(runtime, owed: outbox.Owed) -> Sent | None:
    """The outbox's sender of status messages: built from the post as it is now."""
    post_id = owed.post_id
    async with runtime.sessions() as session:
        post = await session.get(Post, post_id)
        if post is None:
            return None
        workspace = await session.get(Workspace, post.workspace_id)
        lines = await publishing.target_lines(session, post_id)
        attached = [(mimetype, name) for mimetype, name in (await session.execute(
            select(MediaItem.mimetype, MediaItem.filename).join(PostMedia, PostMedia.media_id == MediaItem.id)
            .where(PostMedia.post_id == post_id).order_by(PostMedia.position))).all()]
        optimising, cover = [], None
        # Only a video has renditions and a cover frame: a post without one skips those lookups.
        if any((mimetype or "").lower().startswith("video/") for mimetype, _ in attached):
            optimising = await renditions.post_progress(session, post_id, runtime.adapters)
            cover = await renditions.cover_link(session, MediaStore.from_settings(runtime.settings), post)
        # Said in the author's words: the series' wall clock is theirs (the zone is named when the post's is other).
        repeats = (await series.lines(session, [post], post.timezone)).get(post.id)
        now = utcnow()

        def message(cover_url: str | None) -> list[dict]:
            return status_message(post.status, post.text, post.scheduled_at, post.timezone, lines,
                                  optimising=optimising, cover_url=cover_url, now=now, author=post.author_user_id,
                                  post_id=post.id, attached=attached,
                                  repeats=repeats.description if repeats else None)

        blocks = message(cover)
        text = notification_text(post.status, post.text, post.scheduled_at, lines, optimising=optimising, now=now)
        client = await runtime.slack_client(workspace.team_id, workspace.enterprise_id)
        if client is None:
            raise sending.Undelivered("not_installed", transient=False)

        async def send(blocks: list[dict]):
            if post.message_ts and post.channel_id:
                await client.chat_update(channel=post.channel_id, ts=post.message_ts, blocks=blocks, text=text)
                return None
            try:
                return await client.chat_postMessage(channel=post.channel_id or post.author_user_id, blocks=blocks,
                                                     text=text)
            except SlackApiError as exc:
                if error_of(exc) not in ("not_in_channel", "channel_not_found", "is_archived"):
                    raise
                # The bot cannot write where the post was composed: the author's DM always works.
                return await client.chat_postMessage(channel=post.author_user_id, blocks=blocks, text=text)

        try:
            sent = await send(blocks)
        except SlackApiError as exc:
            if not cover or error_of(exc) != "invalid_blocks":
                raise
            # Slack could not fetch the cover frame (PUBLIC_URL is not reachable from the internet).
            sent = await send(message(None))
        if sent is not None:
            post.channel_id, post.message_ts = sent["channel"], sent["ts"]
        await session.commit()
        return Sent(post.channel_id, post.message_ts)
