"""The App Home tab: what is connected, and what to do next."""

from __future__ import annotations

from collections.abc import Iterable

from slack_sdk.models.blocks import ContextBlock, DividerBlock, HeaderBlock, MarkdownTextObject, SectionBlock
from slack_sdk.models.views import View

from bot.platforms.registry import FACEBOOK_GROUPS, PLATFORMS
from bot.services.accounts import PlatformSummary


def home_view(command: str, summaries: Iterable[PlatformSummary], configured: set[str]) -> dict:
    by_platform = {s.platform: s for s in summaries}
    blocks = [HeaderBlock(text="Picmim for Slack"),
              SectionBlock(text=MarkdownTextObject(text="Run your team's social media without leaving Slack."))]

    blocks += [DividerBlock(), SectionBlock(text=MarkdownTextObject(text="*Connected accounts*"))]
    lines = []
    for platform in PLATFORMS:
        s = by_platform.get(platform.key)
        if s:
            health = "all healthy" if s.needs_attention == 0 else f"{s.needs_attention} need attention"
            lines.append(f"*{platform.name}*: {s.accounts} account{'s' * (s.accounts != 1)}, {health}")
        elif platform.key not in configured:
            lines.append(f"{platform.name}: not set up on this install yet (an admin runs `python -m bot check`)")
        elif not platform.adapter_ready:
            lines.append(f"{platform.name}: coming soon")
        else:
            lines.append(f"{platform.name}: none connected")
    lines.append(f"{FACEBOOK_GROUPS.name}: unavailable. {FACEBOOK_GROUPS.unavailable_reason}")
    blocks.append(SectionBlock(text=MarkdownTextObject(text="\n".join(lines))))

    steps = (
        [f"1. Connect an account: `{command} connect`"] if not by_platform
        else [f"1. Check your accounts' health: `{command} accounts`"]
    ) + [f"2. Write and schedule a post: `{command} post`",
         f"3. Choose approvers and an alerts channel: `{command} settings`"]
    blocks += [DividerBlock(), SectionBlock(text=MarkdownTextObject(text="*What to do next*\n" + "\n".join(steps))),
               ContextBlock(elements=[MarkdownTextObject(text=f"Every command: `{command} help`")])]
    return View(type="home", blocks=blocks).to_dict()
