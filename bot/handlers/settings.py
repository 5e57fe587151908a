"""`/picmim settings`: workspace settings, for workspace admins."""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp

from bot import ids
from bot.handlers.people import person
from bot.services.workspaces import ensure_workspace, set_managers
from bot.views.settings import settings_modal

ADMINS_ONLY = "Only workspace admins can change Picmim's settings."


def register(app: AsyncApp) -> None:
    app.view(ids.SETTINGS_VIEW)(settings_submitted)


async def settings_command(ack, command, context, client, respond, **_) -> None:
    await ack()
    if not (await person(client, context.user_id)).is_admin:
        await respond(response_type="ephemeral", text=ADMINS_ONLY)
        return
    runtime = context["runtime"]
    async with runtime.sessions() as session:
        workspace = await ensure_workspace(session, context.team_id, context.enterprise_id)
        view = settings_modal(workspace)
        await session.commit()
    await client.views_open(trigger_id=command["trigger_id"], view=view)


async def settings_submitted(ack, view, context, client) -> None:
    values = view["state"]["values"]
    policy = ((values[ids.SETTINGS_MANAGERS_BLOCK][ids.SETTINGS_MANAGERS_INPUT].get("selected_option") or {})
              .get("value") or "members")
    people = values.get(ids.SETTINGS_MANAGER_USERS_BLOCK, {}).get(ids.SETTINGS_MANAGER_USERS_INPUT, {})
    users = people.get("selected_users") or []
    if policy == "list" and not users:
        await ack(response_action="errors",
                  errors={ids.SETTINGS_MANAGER_USERS_BLOCK: "Choose at least one person, or pick another option."})
        return
    if not (await person(client, context.user_id)).is_admin:  # rights may have changed since the modal opened
        await ack(response_action="errors", errors={ids.SETTINGS_MANAGERS_BLOCK: ADMINS_ONLY})
        return
    runtime = context["runtime"]
    async with runtime.sessions() as session:
        workspace = await ensure_workspace(session, context.team_id, context.enterprise_id)
        set_managers(workspace, policy, users)
        await session.commit()
    await ack()


SUBCOMMANDS = {"settings": settings_command}
