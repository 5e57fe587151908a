"""The `/picmim help` message: every subcommand with one line each."""

from __future__ import annotations

import functools
from dataclasses import dataclass

from slack_sdk.models.blocks import ContextBlock, HeaderBlock, MarkdownTextObject, SectionBlock


@dataclass(frozen=True)
class Subcommand:
    name: str
    usage: str
    summary: str


SUBCOMMANDS: tuple[Subcommand, ...] = (
    Subcommand("help", "help", "Show this list."),
    Subcommand("connect", "connect [platform]", "Connect a social account (Instagram, Facebook Pages, "
               "LinkedIn, X, TikTok, Pinterest, YouTube, Bluesky)."),
    Subcommand("accounts", "accounts", "See every connected account, its health and last sync; refresh, "
               "reconnect or disconnect."),
    Subcommand("permissions", "permissions", "What Picmim asks each platform for, and why."),
    Subcommand("post", "post [text]", "Write a post for one or more accounts; publish now or schedule it."),
    Subcommand("queue", "queue", "Scheduled and pending posts: publish now, reschedule or cancel."),
    Subcommand("drafts", "drafts", "Your unfinished drafts."),
    Subcommand("settings", "settings", "Approvals, alerts channel, who may connect accounts, time zone."),
    Subcommand("stats", "stats [account|post link] [7d|30d]", "Performance figures for an account or a post."),
    Subcommand("digest", "digest [subscribe|list]", "Send analytics digests to a channel on a schedule."),
)

NAMES = frozenset(s.name for s in SUBCOMMANDS)


@functools.lru_cache(maxsize=64)  # the same few answers, on the ack path of every /picmim help
def help_blocks(command: str, intro: str | None = None, available: frozenset[str] = NAMES) -> list[dict]:
    lines = []
    for sub in SUBCOMMANDS:
        note = "" if sub.name in available else " _(coming soon)_"
        lines.append(f"`{command} {sub.usage}` {sub.summary}{note}")
    blocks = [HeaderBlock(text="Picmim for Slack")]
    if intro:
        blocks.append(SectionBlock(text=MarkdownTextObject(text=intro)))
    blocks.append(SectionBlock(text=MarkdownTextObject(text="\n".join(lines))))
    blocks.append(ContextBlock(elements=[MarkdownTextObject(
        text="Picmim publishes to your team's social accounts from Slack. Only you can see this message.")]))
    return [b.to_dict() for b in blocks]


def help_text(command: str) -> str:
    return "Picmim commands: " + ", ".join(f"{command} {s.name}" for s in SUBCOMMANDS)
