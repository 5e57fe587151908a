"""App Home: the workspace's connections and what to do next."""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp

from bot import ids
from bot.handlers.people import person
from bot.services.connections import summaries
from bot.services.workspaces import ensure_workspace
from bot.views.home import home_view


def register(app: AsyncApp) -> None:
    app.event("app_home_opened")(publish_home)


async def publish_home(event, context, client) -> None:
    if event.get("tab") != "home":
        return
    runtime = context["runtime"]
    who = await person(client, event["user"])
    async with runtime.sessions() as session:
        workspace = await ensure_workspace(session, context.team_id, context.enterprise_id)
        connections = await summaries(session, runtime.adapters, workspace)
        await session.commit()
    view = home_view(ids.COMMAND, connections, set(runtime.adapters), who.tz)
    await client.views_publish(user_id=event["user"], view=view)
