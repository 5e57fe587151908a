"""The App Home tab: every connection and its health, and what to do next."""

from __future__ import annotations

from slack_sdk.models.views import View

from bot import ids
from bot.platforms.registry import FACEBOOK_GROUPS, PLATFORMS
from bot.services.connections import ConnectionSummary
from bot.views.blocks import actions, button, context, divider, header, section
from bot.views.connect import accounts_list


def home_view(command: str, connections: list[ConnectionSummary], configured: set[str], tz: str | None) -> dict:
    blocks: list[dict] = [
        header("Picmim for Slack"),
        section("Run your team's social media without leaving Slack."),
        divider(),
    ]
    # The same list as `/picmim accounts`; its buttons live there, where their answers can be shown.
    listed = accounts_list(connections, tz, may_manage=False)
    blocks += listed
    if connections:
        blocks.append(context(f"Refresh, reconnect or disconnect with `{command} accounts`."))

    blocks.append(actions(button("Connect an account", ids.HOME_CONNECT, style="primary")))

    connected = {c.platform.key for c in connections}
    others = []
    for platform in PLATFORMS:
        if platform.key in connected:
            continue
        if platform.key not in configured:
            others.append(f"{platform.name}: not set up on this install yet (an admin runs `python -m bot check`)")
        else:
            others.append(f"{platform.name}: none connected")
    others.append(f"{FACEBOOK_GROUPS.name}: unavailable. {FACEBOOK_GROUPS.unavailable_reason}")
    blocks.append(section("*Other platforms*\n" + "\n".join(others)))

    steps = (
        [f"1. Connect an account: `{command} connect`"] if not connections
        else [f"1. Check your accounts' health: `{command} accounts`"]
    ) + [f"2. Write and schedule a post: `{command} post`",
         f"3. Choose approvers and an alerts channel: `{command} settings`"]
    blocks += [divider(),
               section("*What to do next*\n" + "\n".join(steps)),
               context(f"Every command: `{command} help`")]
    return View(type="home", blocks=blocks).to_dict()
