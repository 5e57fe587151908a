"""`/picmim`: one slash command, routed by its first word to the feature modules' subcommands."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping

from slack_bolt.async_app import AsyncApp

from bot import ids
from bot.payloads import storable
from bot.slack_errors import SlackUnreachable
from bot.views.help import NAMES, did_you_mean, help_blocks, help_text

# A subcommand handler gets the rest of the text as `args`, plus bolt's usual keyword arguments and the request
# context's (bot/handlers/context.py).
Subcommand = Callable[..., Awaitable[None]]


def register(app: AsyncApp, subcommands: Mapping[str, Subcommand]) -> None:
    available = frozenset(subcommands) | {"help"}

    async def picmim(ack, command, body, context, client, respond, logger, runtime, db, workspace, person,
                     access) -> None:
        name, _, args = storable(command.get("text") or "").strip().partition(" ")
        name = name.lower()
        handler = subcommands.get(name)
        if handler is not None:
            await handler(ack=ack, args=args.strip(), command=command, body=body, context=context,
                          client=client, respond=respond, logger=logger, runtime=runtime, db=db,
                          workspace=workspace, person=person, access=access)
            return
        await ack()  # who is asking (admin or not) is a Slack call: the list follows through response_url
        slash = command.get("command") or ids.COMMAND
        if name in NAMES and name != "help":
            intro = f"`{slash} {name}` is not available in this version of Picmim yet. Here is what is:"
        elif name and name != "help":
            guess = did_you_mean(name)
            intro = (f"I don't know `{slash} {name}`. Did you mean `{slash} {guess}`?" if guess
                     else f"I don't know `{slash} {name}`. Here is what I can do:")
        else:
            intro = None
        try:
            admin = (await access()).is_admin
        except SlackUnreachable:
            admin = False  # help is answered all the same, without the admin part
        blocks = help_blocks(slash, intro, available, admin)
        await respond(response_type="ephemeral", replace_original=False, text=help_text(slash), blocks=blocks)

    app.command(ids.COMMAND)(picmim)
