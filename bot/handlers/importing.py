"""`/picmim import`: the window taking a CSV file of posts, and a CSV file shared in Picmim's direct messages. The
window closes at once ("Importing…"); the file is fetched from Slack and imported after the answer, and the result
goes to the person by direct message (kept until Slack takes it)."""

from __future__ import annotations

import asyncio
import logging

import aiohttp
from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError

from bot import ids
from bot.handlers import forms
from bot.handlers.attachments import download_slack_file
from bot.media.errors import MediaError
from bot.media.store import MediaStore
from bot.messages import review_card
from bot.messages.outbox import notify
from bot.services import importing
from bot.services.importing import FileRefused, Importer
from bot.slack_errors import error_of, unavailable
from bot.storage import seen_requests
from bot.storage.models import utcnow
from bot.views import importing as views

log = logging.getLogger(__name__)


def register(app: AsyncApp) -> None:
    app.view(ids.IMPORT_VIEW)(submitted)
    app.event("message")(direct_message)


async def import_command(ack, command, client, **_) -> None:
    await ack()
    try:
        await client.views_open(trigger_id=command.get("trigger_id"), view=views.import_modal())
    except SlackApiError as exc:
        if unavailable(exc):
            raise  # Slack failing for now: the person is told so (handlers/failures.py)
        log.warning("Could not open the import window: %s", error_of(exc))


def _name(file: dict) -> str:
    name = file.get("name") or file.get("title")
    return name[:200] if isinstance(name, str) and name else "the file"


def _is_csv(file: dict) -> bool:
    return (file.get("filetype") == "csv" or str(file.get("mimetype") or "").startswith("text/csv")
            or str(file.get("name") or "").lower().endswith(".csv"))


async def submitted(ack, view, context, runtime, workspace, person, access) -> None:
    values = forms.values_of(view)
    files = forms.field(values, ids.IMPORT_FILE_BLOCK, ids.IMPORT_FILE_INPUT).get("files")
    files = [f for f in files if isinstance(f, dict)] if isinstance(files, list) else []
    if len(files) != 1 or not _is_csv(files[0]):
        await ack(response_action="errors", errors={ids.IMPORT_FILE_BLOCK: "Choose one CSV file of posts."})
        return
    all_or_nothing = views.ALL in forms.options(values, ids.IMPORT_ALL_BLOCK, ids.IMPORT_ALL_INPUT)
    # The same window submitted again (a double click, a replay) imports once.
    once = f"import:view:{view.get('id')}:{view.get('hash')}" if view.get("id") and view.get("hash") else None
    if once and not await seen_requests.first_time(runtime.sessions, once, utcnow()):
        await ack()
        return
    await ack(response_action="update", view=views.importing_modal(_name(files[0])))
    await _import(runtime, context, workspace, person, access, files[0], all_or_nothing)


async def direct_message(ack, event, client, context, runtime, workspace, person, access) -> None:
    """A CSV file shared in Picmim's direct messages is imported: the good rows go on, or none unless every row is
    fine when the message says "all or nothing". Other messages are not Picmim's to answer."""
    await ack()
    if event.get("channel_type") != "im" or event.get("subtype") != "file_share" or event.get("bot_id"):
        return
    files = event.get("files")
    files = [f for f in files if isinstance(f, dict)] if isinstance(files, list) else []
    if not files or not context.user_id:
        return
    here = await workspace()
    all_or_nothing = "all or nothing" in str(event.get("text") or "").lower()
    for shared in files:
        file, problem = await _with_links(client, shared)
        if problem:
            await notify(runtime, here.id, context.user_id, views.file_refused_text(_name(shared), problem))
            continue
        if not _is_csv(file):
            await notify(runtime, here.id, context.user_id,
                         f"Picmim imports posts from CSV files; {_name(file)} is not one. Send a .csv file here, "
                         "or use `/picmim import`.")
            continue
        # Slack sends an event again when it did not hear back in time: the file is imported once.
        if await seen_requests.first_time(runtime.sessions, f"import:file:{file.get('id')}", utcnow()):
            await _import(runtime, context, workspace, person, access, file, all_or_nothing)


async def _with_links(client, file: dict) -> tuple[dict, str | None]:
    """The file with its download links: as the event carries it, or, when Slack left them out
    (`file_access: "check_file_info"`, which Slack sends for some shared files), as files.info gives it.
    Otherwise why not, in words for the person who sent it."""
    if file.get("file_access") != "check_file_info" and (file.get("url_private_download") or file.get("url_private")):
        return file, None
    file_id = file.get("id")
    if not isinstance(file_id, str) or not file_id:
        return file, "Slack did not say which file it was. Send it here again."
    try:
        answer = await client.files_info(file=file_id)
    except (SlackApiError, OSError, TimeoutError, aiohttp.ClientError) as exc:
        if unavailable(exc):
            return file, "Slack could not be reached to fetch it. Send it here again in a moment."
        error = error_of(exc)
        if error == "missing_scope":
            return file, ("Picmim may not read files yet. Ask an admin to reinstall the app so it has the files:read "
                          "permission, then send the file again.")
        if error in ("file_not_found", "file_deleted"):
            return file, "Slack says the file was deleted or Picmim cannot see it. Send it here again."
        log.warning("files.info refused a file shared with Picmim: %s", error)
        return file, f"Slack would not hand it over ({error}). Send it here again."
    found = answer.get("file")
    if not isinstance(found, dict) or not (found.get("url_private_download") or found.get("url_private")):
        return file, "Slack did not say where to fetch it. Send it here again."
    return found, None


async def _import(runtime, context, workspace, person, access, file: dict, all_or_nothing: bool) -> None:
    here, user = await workspace(), context.user_id
    name = _name(file)
    bot_token = context.bot_token or context.get("token") or ""
    store = MediaStore.from_settings(runtime.settings)
    try:
        incoming = await download_slack_file(runtime.http, file, bot_token, store,
                                             max_bytes=importing.MAX_FILE_BYTES)
    except MediaError as exc:
        await notify(runtime, here.id, user, views.file_refused_text(name, str(exc)))
        return
    try:
        data = await asyncio.to_thread(incoming.path.read_bytes)
    finally:
        await asyncio.to_thread(incoming.path.unlink, missing_ok=True)
    tz = (await person()).tz
    importer = Importer(user, await access(), tz)
    try:
        outcome = await importing.import_posts(runtime.sessions, here, runtime.adapters, runtime.http, store,
                                               importer, name, data, all_or_nothing, utcnow())
    except FileRefused as exc:
        await notify(runtime, here.id, user, views.file_refused_text(name, str(exc)))
        return
    except Exception:
        log.exception("Importing a CSV file failed")
        await notify(runtime, here.id, user, views.file_refused_text(
            name, "something went wrong while reading it. Nothing was kept; try again in a moment."))
        return
    await notify(runtime, here.id, user, views.result_text(outcome), blocks=views.result_blocks(outcome, tz))
    for post_id in outcome.pending_ids:  # approval applies as to a composed post: its review card
        await review_card.send_for_review(runtime, post_id)


SUBCOMMANDS = {"import": import_command}
