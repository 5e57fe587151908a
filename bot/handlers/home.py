"""App Home: the workspace's connections and what to do next."""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp

from bot import ids
from bot.services.connections import summaries
from bot.views.home import home_view


def register(app: AsyncApp) -> None:
    app.event("app_home_opened")(publish_home)


async def publish_home(event, client, runtime, db, workspace, person) -> None:
    if event.get("tab") != "home":
        return
    here = await workspace()
    async with db() as session:
        found = await summaries(session, runtime.adapters, here)
    view = home_view(ids.COMMAND, found, set(runtime.adapters), (await person()).tz)
    await client.views_publish(user_id=event["user"], view=view)
