"""The app leaving a workspace: uninstalls and revoked tokens."""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp

from bot.services.workspaces import mark_uninstalled


def register(app: AsyncApp) -> None:
    multi_workspace = app.installation_store is not None

    async def app_uninstalled(context, logger, db) -> None:
        if multi_workspace:  # bolt's own listener deletes the installation rows
            await app.default_app_uninstalled_event_listener()(context=context)
        async with db() as session:
            await mark_uninstalled(session, context.team_id)
        logger.info("Picmim was uninstalled from workspace %s", context.team_id)

    async def tokens_revoked(event, context, logger) -> None:
        if multi_workspace:
            await app.default_tokens_revoked_event_listener()(event=event, context=context)
        logger.info("Slack tokens revoked in workspace %s", context.team_id)

    app.event("app_uninstalled")(app_uninstalled)
    app.event("tokens_revoked")(tokens_revoked)
