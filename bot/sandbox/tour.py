"""The sandbox's guided tour: six steps that tick themselves from what the database and the simulators hold
(not from clicks), so a step done another way still counts."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from sqlalchemy import exists, select

from bot.storage.models import (
    Account,
    ApprovalDecision,
    Decision,
    DigestSubscription,
    PostMedia,
    PostTarget,
    TargetStatus,
)


@dataclass(frozen=True)
class Step:
    key: str
    title: str
    how: str  # what to do, in the page's words
    done: bool


async def steps(sessions, slack, networks) -> list[Step]:
    async with sessions() as session:
        connected = await session.scalar(select(exists().where(Account.active.is_(True))))
        pictured = await session.scalar(select(exists().where(PostMedia.post_id.isnot(None))))
        approved = await session.scalar(select(exists().where(ApprovalDecision.decision == Decision.APPROVE)))
        published = await session.scalar(select(exists().where(PostTarget.status == TargetStatus.PUBLISHED)))
        subscribed = await session.scalar(select(exists().where(DigestSubscription.id.isnot(None))))
    # A feed is read on its simulator's own thread: asked from here, not on the app's loop.
    live = bool(published) and await asyncio.to_thread(
        lambda: any(networks.posts(p) for p in ("x", "instagram", "facebook", "linkedin", "bluesky", "tiktok",
                                                "youtube", "pinterest")))
    with slack.lock:
        stats_shown = any((m.answers or "").split()[:1] == ["stats"] and (m.blocks or m.text)
                          for m in slack.messages)
    return [
        Step("connect", "Connect an account", "As Maria in #marketing, type /picmim connect x, open the link and allow "
                                                  "Picmim; then press Save in Picmim · Messages.",
             bool(connected)),
        Step("post", "Post with a picture", "Type /picmim post, write a text, choose the X account and a picture, "
                                            "then press Publish.", bool(pictured)),
        Step("approve", "Approve as the approver",
             "Switch to Sam (the approver), open #approvals and choose :white_check_mark: in the review card's "
             "React menu.", bool(approved)),
        Step("live", "See it live", "Back as Maria, the post's message in #marketing links to it; the X feed "
                                    "shows it.", live),
        Step("stats", "Ask for stats", "Type /picmim stats.", stats_shown),
        Step("digest", "Subscribe a digest", "Type /picmim digest subscribe and choose #marketing.", bool(subscribed)),
    ]
