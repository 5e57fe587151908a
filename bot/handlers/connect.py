"""`/picmim connect`, `/picmim accounts`, `/picmim permissions` and their buttons."""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp
from sqlalchemy import select

from bot import ids
from bot.handlers import forms, slots
from bot.platforms import registry
from bot.services import connecting, connections, roles
from bot.services.connections import ConnectError
from bot.storage.models import Account
from bot.views import connect as views


def register(app: AsyncApp) -> None:
    app.action(ids.HOME_CONNECT)(home_connect_button)
    app.action(ids.CONNECT_PLATFORM)(connect_button)
    app.action(ids.CONNECT_LINK_OPENED)(acknowledge)
    app.action(ids.CHOOSE_ACCOUNTS_BOXES)(acknowledge)
    app.action(ids.CHOOSE_ACCOUNTS_SAVE)(save_choice)
    app.action(ids.ACCOUNT_REFRESH)(refresh_button)
    app.action(ids.ACCOUNT_RECONNECT)(reconnect_button)
    app.action(ids.ACCOUNT_DISCONNECT)(disconnect_button)
    app.action(ids.ACCOUNT_MENU)(account_menu)
    app.view(ids.BLUESKY_HANDLE_VIEW)(bluesky_handle_submitted)


async def acknowledge(ack) -> None:
    await ack()  # link buttons open a URL; checkboxes are read when Save is pressed


def _scopes() -> dict:  # for `/picmim permissions` only
    return {p.key: registry.adapter_class(p).scopes for p in registry.PLATFORMS if p.adapter_ready}


def _configured(runtime) -> set[str]:
    return set(runtime.adapters)


class Reply:
    """Where an answer goes: the ephemeral message behind a response_url, or the modal the click came
    from (App Home opens the platform list in a modal, which has no response_url)."""

    def __init__(self, client, respond=None, view_id: str | None = None, replace: bool = False):
        self.client, self.respond, self.view_id, self.replace = client, respond, view_id, replace

    @classmethod
    def to(cls, body: dict, client, respond, replace: bool = False) -> Reply:
        view = body.get("view") or {}
        if (body.get("container") or {}).get("type") == "view" and view.get("id"):
            return cls(client, view_id=view["id"])
        return cls(client, respond, replace=replace)

    @property
    def in_modal(self) -> bool:
        return self.view_id is not None

    async def show(self, text: str, blocks: list[dict] | None = None) -> None:
        if self.in_modal:
            blocks = blocks or [{"type": "section", "text": {"type": "mrkdwn", "text": text[:3000]}}]
            await self.client.views_update(view_id=self.view_id, view=views.connect_modal(blocks))
        elif blocks:
            await self.respond(response_type="ephemeral", replace_original=self.replace, blocks=blocks, text=text)
        else:
            await self.respond(response_type="ephemeral", replace_original=False, text=text)


async def _is_admin(context) -> bool:
    """Slack's workspace admins and owners, and the admins named in `/picmim roles`."""
    return (await context["access"]()).is_admin


async def _refuse_unless_manager(context, reply: Reply, workspace, person) -> bool:
    """True when the acting user may not connect and disconnect here (and has been told why)."""
    here = await workspace()
    if here.managers_policy == "members":
        return False
    if connecting.may_manage(here, context.user_id, await _is_admin(context)):
        return False
    await reply.show(f"{connecting.who_may_manage(here)} Ask one of them, or an admin can change this in "
                     f"`{ids.COMMAND} settings`.")
    return True


async def refuse_unless_publisher(db, access, reply: Reply, connection_id: int | None) -> bool:
    """True when the connection's accounts have roles and the acting user is neither an admin nor a publisher of
    each of them (and has been told why): reconnecting or disconnecting it is theirs."""
    rights = await access()
    if not connection_id or not rights.rules.any_roles:
        return False
    async with db() as session:
        accounts = list(await session.scalars(select(Account.id).where(Account.connection_id == connection_id)))
    if rights.may_manage_accounts(accounts):
        return False
    barred = next(a for a in accounts if not rights.publishes(a))
    who = roles.who_may_post(rights.rules, barred, [roles.PUBLISHER])
    await reply.show(f"Only {who} can reconnect or disconnect this account: you are not one of its publishers. "
                     f"An admin can change roles in `{ids.COMMAND} roles`.")
    return True


async def send_link(runtime, context, client, db, workspace, person, reply: Reply, platform_key: str, *,
                    channel_id: str | None = None, trigger_id: str | None = None, handle: str | None = None,
                    reconnect_id: int | None = None) -> None:
    if await _refuse_unless_manager(context, reply, workspace, person):
        return
    here = await workspace()
    keys = ["instagram", "instagram-login"] if platform_key == "instagram" else [platform_key]
    keys = [k for k in keys if k in runtime.adapters] or keys[:1]
    info = registry.get(keys[0]) if keys[0] else None
    if reconnect_id is None and info is not None and info.key not in runtime.adapters:
        await reply.show(views.not_set_up(info, await _is_admin(context)))
        return
    if keys[0] == "bluesky" and not handle and reconnect_id is None and trigger_id:
        modal = views.bluesky_handle_modal(channel_id)
        if reply.in_modal:
            await client.views_push(trigger_id=trigger_id, view=modal)
        else:
            await client.views_open(trigger_id=trigger_id, view=modal)
        return
    names = await _names(runtime, context, person)  # before the session: no Slack call while it is open
    try:
        async with db() as session:
            reconnect = await connections.owned_connection(session, here, reconnect_id) if reconnect_id else None
            key = reconnect.platform if reconnect else keys[0]
            if reconnect is not None and key == "bluesky":
                handle = handle or reconnect.display_name
            links = [await connecting.start(session, runtime.adapters, here, context.user_id, k,
                                            channel_id=channel_id, reconnect=reconnect, handle=handle, **names)
                     for k in ([key] if reconnect else keys)]
    except ConnectError as exc:
        await reply.show(exc.message)  # its title would say the same again
        return
    blocks = views.link_message(links, (await person()).tz, reconnect.display_name if reconnect else None)
    await reply.show(f"Your private link to connect {links[0].platform.name}", blocks)


async def _names(runtime, context, person) -> dict:
    """What the link's page names: the Slack workspace (from bolt's auth.test, already at hand) and the person."""
    authorized = context.get("authorize_result")
    return {"public_url": runtime.settings.public_url, "workspace_name": getattr(authorized, "team", None),
            "requested_by_name": (await person()).name}


async def connect_command(ack, args, command, context, client, respond, runtime, db, workspace, person, **_) -> None:
    await ack()
    key, _, rest = args.partition(" ")
    reply = Reply(client, respond)
    if not key:
        if await _refuse_unless_manager(context, reply, workspace, person):
            return
        await reply.show("Connect a social account",
                         views.platform_list(_configured(runtime), await _is_admin(context)))
        return
    await send_link(runtime, context, client, db, workspace, person, reply, key, channel_id=command.get("channel_id"),
                    trigger_id=command.get("trigger_id"), handle=rest.strip() or None)


async def home_connect_button(ack, body, client, runtime, access) -> None:
    await ack()
    blocks = views.platform_list(_configured(runtime), (await access()).is_admin)
    await client.views_open(trigger_id=body["trigger_id"], view=views.connect_modal(blocks))


async def connect_button(ack, body, context, client, respond, subject, runtime, db, workspace, person) -> None:
    await ack()
    if subject is None:
        return
    await send_link(runtime, context, client, db, workspace, person, Reply.to(body, client, respond, replace=True),
                    subject.key, channel_id=(body.get("channel") or {}).get("id"), trigger_id=body.get("trigger_id"))


async def bluesky_handle_submitted(ack, view, context, subject, runtime, db, workspace, person) -> None:
    handle = forms.text(forms.values_of(view), ids.BLUESKY_HANDLE_BLOCK, ids.BLUESKY_HANDLE_INPUT)
    channel_id = subject.channel_id if subject else None
    here = await workspace()
    names = await _names(runtime, context, person)
    # Resolving a handle is quick network work; the modal waits for it so a typo is shown on the field.
    try:
        async with db() as session:
            link = await connecting.start(session, runtime.adapters, here, context.user_id, "bluesky",
                                          channel_id=channel_id, handle=handle, **names)
    except ConnectError as exc:
        await ack(response_action="errors", errors={ids.BLUESKY_HANDLE_BLOCK: exc.message[:150]})
        return
    await ack(response_action="update", view=views.bluesky_link_modal(link, None))


async def save_choice(ack, body, context, client, respond, subject, db, workspace, access) -> None:
    await ack()
    chosen: list[str] = []
    values = forms.values_of(body)  # a message's inputs are in the body's own state
    for block_id in values:
        if block_id.startswith(ids.CHOOSE_ACCOUNTS_BLOCK):
            chosen += forms.options(values, block_id, ids.CHOOSE_ACCOUNTS_BOXES)
    chosen = list(dict.fromkeys(chosen))  # the same account ticked twice (forged) is chosen once
    if subject is None:
        return
    here = await workspace()
    rights = await access(need_profile=False)  # before the session: no Slack call while it is open
    created: list = []
    try:
        async with db() as session:
            accounts = await connecting.choose_accounts(session, here, context.user_id, subject.state_id, chosen,
                                                        created)
            claimed = await roles.claim_new_accounts(session, rights, here.id, [a.id for a in created])
    except ConnectError as exc:
        await respond(response_type="ephemeral", replace_original=False, text=exc.message)
        return
    platform = registry.get(accounts[0].platform)
    names = [a.name for a in accounts]
    note = roles.CLAIMED.format(names=", ".join(a.name for a in accounts if a.id in claimed)) if claimed else None
    message = body.get("message") or {}
    channel = (body.get("channel") or {}).get("id")
    if channel and message.get("ts"):
        await client.chat_update(channel=channel, ts=message["ts"],
                                 blocks=views.chosen_accounts(platform, names, note),
                                 text=f"Picmim now manages {', '.join(names)} on {platform.name}.")


async def accounts_command(ack, context, respond, runtime, db, workspace, person, access, **_) -> None:
    await ack()
    await _show_accounts(context, respond, runtime, db, workspace, person, access=access)


async def _show_accounts(context, respond, runtime, db, workspace, person, note: str = "",
                         replace: bool = False, access=None) -> None:
    who, here = await person(), await workspace()
    async with db() as session:
        summaries = await connections.summaries(session, runtime.adapters, here)
        if access is not None:  # with roles set: only the connections of accounts this person may see
            rights = await access()
            hidden = await roles.hidden_connections(session, rights, here.id)
            summaries = [s for s in summaries if s.id not in hidden]
            if rights.is_admin and (unset := roles.open_note(await roles.open_accounts(session, rights.rules,
                                                                                       here.id))):
                note = f"{note}\n{unset}" if note else unset
    manages = connecting.may_manage(here, context.user_id, await _is_admin(context))
    await respond(response_type="ephemeral", replace_original=replace, text="Connected accounts",
                  blocks=views.accounts_list(summaries, who.tz, manages, note))


async def refresh_button(ack, context, respond, subject, runtime, db, workspace, person, access) -> None:
    await ack()
    await _refresh(context, respond, subject.connection_id if subject else 0, runtime, db, workspace, person, access)


async def _refresh(context, respond, connection_id: int, runtime, db, workspace, person, access=None) -> None:
    here = await workspace()
    try:
        async with db() as session:
            note = await connections.refresh(session, runtime.adapters, here, connection_id, context.user_id)
    except ConnectError as exc:
        note = exc.message
    await _show_accounts(context, respond, runtime, db, workspace, person, note, replace=True, access=access)


async def reconnect_button(ack, body, context, client, respond, subject, runtime, db, workspace, person,
                           access) -> None:
    await ack()
    if await refuse_unless_publisher(db, access, Reply.to(body, client, respond), subject and subject.connection_id):
        return
    await send_link(runtime, context, client, db, workspace, person, Reply.to(body, client, respond), "",
                    reconnect_id=subject.connection_id if subject else 0,
                    channel_id=(body.get("channel") or {}).get("id"))


async def disconnect_button(ack, context, client, respond, subject, runtime, db, workspace, person, access) -> None:
    await ack()
    if await _refuse_unless_manager(context, Reply(client, respond), workspace, person):
        return
    if await refuse_unless_publisher(db, access, Reply(client, respond), subject and subject.connection_id):
        return
    here = await workspace()
    try:
        async with db() as session:
            gone = await connections.disconnect(session, runtime.adapters, here,
                                               subject.connection_id if subject else 0, context.user_id)
    except ConnectError as exc:
        note = exc.message
    else:
        note = (f"Disconnected {gone.display_name} on {gone.platform.name}: its sign-in is deleted"
                + (" and withdrawn at the platform" if gone.revoked_at_platform else "")
                + (f"; {gone.cancelled_posts} scheduled post{'s' * (gone.cancelled_posts != 1)} cancelled."
                   if gone.cancelled_posts else "."))
    await _show_accounts(context, respond, runtime, db, workspace, person, note, replace=True, access=access)


async def account_menu(ack, body, context, client, respond, subject, runtime, db, workspace, person,
                       access) -> None:
    """An account row's "⋯" menu. Disconnect asks first, in a message of its own: an overflow option cannot
    carry Slack's confirm dialog, and a message (unlike a modal) keeps the answer beside the list."""
    await ack()
    if subject is None:
        await respond(response_type="ephemeral", replace_original=False,
                      text=f"This menu is out of date: ask `{ids.COMMAND} accounts` again.")
        return
    if subject.action == ids.ACCOUNT_MENU_REFRESH:
        await _refresh(context, respond, subject.connection_id, runtime, db, workspace, person, access)
    elif subject.action == ids.ACCOUNT_MENU_SLOTS:  # per account: whoever may manage it (slots.py checks)
        await slots.open_for_connection(body, client, respond, db, workspace, access, subject.connection_id)
    elif await refuse_unless_publisher(db, access, Reply(client, respond), subject.connection_id):
        return
    elif subject.action == ids.ACCOUNT_MENU_RECONNECT:
        await send_link(runtime, context, client, db, workspace, person, Reply.to(body, client, respond), "",
                        reconnect_id=subject.connection_id, channel_id=(body.get("channel") or {}).get("id"))
    else:
        if await _refuse_unless_manager(context, Reply(client, respond), workspace, person):
            return
        here = await workspace()
        async with db() as session:
            summaries = await connections.summaries(session, runtime.adapters, here)
        summary = next((s for s in summaries if s.id == subject.connection_id), None)
        if summary is None:
            await _show_accounts(context, respond, runtime, db, workspace, person,
                                 "That connection is already gone.", replace=True)
            return
        await respond(response_type="ephemeral", replace_original=False, blocks=views.disconnect_question(summary),
                      text=f"Disconnect {summary.platform.name} · {summary.display_name}?")


async def permissions_command(ack, **_) -> None:
    await ack(blocks=views.permissions(_scopes()), text="What Picmim asks each platform for, and why")


SUBCOMMANDS = {"connect": connect_command, "accounts": accounts_command, "permissions": permissions_command}
