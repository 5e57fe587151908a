"""App Home: a first page with the workspace's accounts and what to do next."""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp

from bot import ids
from bot.platforms.registry import PLATFORMS
from bot.services import accounts
from bot.services.workspaces import ensure_workspace
from bot.views.home import home_view


def register(app: AsyncApp) -> None:
    app.event("app_home_opened")(publish_home)


async def publish_home(event, context, client) -> None:
    if event.get("tab") != "home":
        return
    runtime = context["runtime"]
    async with runtime.sessions() as session:
        workspace = await ensure_workspace(session, context.team_id, context.enterprise_id)
        summaries = await accounts.summary(session, workspace.id)
        await session.commit()
    configured = {p.key for p in PLATFORMS if runtime.settings.platform_configured(p.credential_prefix)}
    await client.views_publish(user_id=event["user"], view=home_view(ids.COMMAND, summaries, configured))
