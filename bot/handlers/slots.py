"""The posting slots window: opened from `/picmim settings` ("Posting slots…") and from an account's ⋯ menu in
`/picmim accounts`, for admins and whoever may manage the account (bot/services/roles.py)."""

from __future__ import annotations

import logging

from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError
from sqlalchemy import select

from bot import ids
from bot.handlers import forms
from bot.payloads import whole_id
from bot.services import analytics, slots
from bot.services.slots import Slot
from bot.slack_errors import error_of
from bot.storage.models import Account
from bot.views import slots as views

log = logging.getLogger(__name__)

NOT_YOURS = ("Only an admin or a publisher of the account can change its posting slots. An admin can change roles "
             "in `/picmim roles`.")
NO_ACCOUNTS = "There is no account to set posting slots for: connect one with `/picmim connect`."


def register(app: AsyncApp) -> None:
    app.action(ids.SETTINGS_SLOTS)(open_from_settings)
    app.action(ids.SLOTS_ACCOUNT_INPUT)(account_chosen)
    app.view(ids.SLOTS_VIEW)(submitted)


async def _manageable(db, workspace, access) -> list[tuple[int, str]]:
    """(id, "Network · Name") of the active accounts this person may set slots for."""
    here, rights = await workspace(), await access()
    async with db() as session:
        found = analytics.account_choices(await analytics.workspace_accounts(session, here.id))
    return [(i, label) for i, label in found if rights.may_manage_accounts([i])]


async def _window(db, workspace, access, account_id: int | None) -> dict:
    """The window on `account_id` (or the first account the person may manage), or why there is nothing to set."""
    accounts = await _manageable(db, workspace, access)
    if not accounts:
        return views.nothing_to_set_modal(NO_ACCOUNTS if not await _any_account(db, workspace) else NOT_YOURS)
    chosen = account_id if account_id in dict(accounts) else accounts[0][0]
    async with db() as session:
        current = await slots.slots_of(session, chosen)
    return views.slots_modal(accounts, chosen, current, (await workspace()).default_timezone)


async def _any_account(db, workspace) -> bool:
    async with db() as session:
        return bool(await analytics.workspace_accounts(session, (await workspace()).id))


async def open_from_settings(ack, body, client, db, workspace, access) -> None:
    await ack()
    try:
        await client.views_push(trigger_id=body["trigger_id"], view=await _window(db, workspace, access, None))
    except SlackApiError as exc:
        log.warning("Could not open the posting slots window: %s", error_of(exc))


async def open_for_connection(body, client, respond, db, workspace, access, connection_id: int) -> None:
    """"Posting slots…" in an account row's ⋯ menu: the window on that connection's first account this person may
    manage (the window lists the others)."""
    rights = await access()
    async with db() as session:
        accounts = list(await session.scalars(select(Account.id).where(
            Account.connection_id == connection_id, Account.active.is_(True)).order_by(Account.id)))
    mine = [a for a in accounts if rights.may_manage_accounts([a])]
    if not mine:
        await respond(response_type="ephemeral", replace_original=False,
                      text=NOT_YOURS if accounts else "This connection has no accounts chosen yet.")
        return
    try:
        await client.views_open(trigger_id=body["trigger_id"], view=await _window(db, workspace, access, mine[0]))
    except SlackApiError as exc:
        log.warning("Could not open the posting slots window: %s", error_of(exc))


async def account_chosen(ack, body, action, client, db, workspace, access) -> None:
    """Another account chosen in the window: its own slots (the day blocks name the account, so nothing carries
    over)."""
    await ack()
    view = body.get("view") or {}
    account_id = whole_id((action.get("selected_option") or {}).get("value"))
    if not view.get("id") or account_id is None:
        return
    try:
        await client.views_update(view_id=view["id"], hash=view.get("hash"),
                                  view=await _window(db, workspace, access, account_id))
    except SlackApiError as exc:  # hash_conflict: a newer choice is on its way
        log.info("Could not update the posting slots window: %s", error_of(exc))


def read(values: dict, account_id: int) -> list[Slot]:
    """The times chosen per weekday for this account (a value that is not a time is kept, to be refused)."""
    found = []
    for weekday in range(7):
        for value in forms.options(values, views.day_block(account_id, weekday), ids.SLOTS_DAY_INPUT):
            found.append(Slot(weekday, value))
    return found


async def submitted(ack, view, context, db, workspace, access) -> None:
    account_id = whole_id(view.get("private_metadata"))
    here, rights = await workspace(), await access()
    values = forms.values_of(view)
    if account_id is None or not rights.may_manage_accounts([account_id]):
        await ack(response_action="errors", errors={ids.SLOTS_ACCOUNT_BLOCK: NOT_YOURS})
        return
    chosen = read(values, account_id)
    problems = slots.slot_problems(chosen)
    if problems:
        await ack(response_action="errors",
                  errors={views.day_block(account_id, day): words for day, words in problems.items()})
        return
    try:
        async with db() as session:
            await slots.save_slots(session, here.id, account_id, chosen, context.user_id)
    except LookupError:
        await ack(response_action="errors", errors={ids.SLOTS_ACCOUNT_BLOCK: "This account is no longer in Picmim."})
        return
    await ack()
