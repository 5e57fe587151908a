"""Attachments given in the compose modal's file input: fetched from Slack with the bot token (Slack's side of
it), streamed to disk and put into the media store. A file too large is refused before it is fetched (the size
Slack gives with the file), or cut off as soon as the download passes the cap; a refused submission keeps
nothing (bot.media.retention)."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
from typing import Any, BinaryIO

import httpx

from bot.media import retention
from bot.media.errors import MediaError
from bot.media.store import CHUNK_BYTES, Incoming, MediaStore
from bot.payloads import is_url, storable
from bot.platforms.validation import human_size
from bot.services.submitting import Attachments

log = logging.getLogger(__name__)

# Slack's file_input passes on files up to 10 MB each, below what any network takes (pictures are converted
# and videos re-encoded to fit each network): so this is the largest file Picmim takes. Anything larger
# comes from a forged or altered submission.
MAX_SLACK_FILE_BYTES = 10 * 1024 * 1024


async def store_files(runtime, db, workspace_id: int, files: list[dict], bot_token: str) -> Attachments:
    """Download the submitted files and store them; the stored items' ids (and which are new), or what went
    wrong. All or nothing: when one file is refused, nothing of the others is kept."""
    if not files:
        return Attachments()
    store = MediaStore.from_settings(runtime.settings)
    downloaded: list[Incoming] = []
    kept: list = []
    try:
        for file in files:  # every size Slack gave first: a submission with one file too large fetches none
            refuse_declared_size(file)
        downloaded = await _download_all(runtime.http, files, bot_token, store)
        async with db() as session:
            for file, incoming in zip(files, downloaded, strict=True):
                kept.append(await store.store_incoming(session, workspace_id, incoming,
                                                       _text(file.get("name")) or "attachment",
                                                       _text(file.get("mimetype")) or None))
        return Attachments(tuple(item.id for item, _new in kept),
                           new_ids=tuple(item.id for item, new in kept if new))
    except BaseException as exc:
        # What this submission stored first goes (rows and files; a row SQLite kept despite the rollback too).
        await retention.discard(runtime.sessions, store, [item.id for item, new in kept if new])
        await retention.forget_files(runtime.sessions, store, {d.sha256 for d in downloaded})
        if isinstance(exc, MediaError):
            return Attachments(error=str(exc))
        if not isinstance(exc, Exception):
            raise
        log.exception("Storing the attachments of a post failed")  # never publish without them
        return Attachments(error="Picmim could not read the attachments: attach them again.")
    finally:
        for incoming in downloaded:  # a download not moved into place
            await asyncio.to_thread(incoming.path.unlink, missing_ok=True)


async def _download_all(http: httpx.AsyncClient, files: list[dict], bot_token: str, store: MediaStore
                        ) -> list[Incoming]:
    """Every file downloaded at once; when one is refused the others stop too, and none is left on disk."""
    tasks = [asyncio.create_task(download_slack_file(http, f, bot_token, store)) for f in files]
    try:
        return list(await asyncio.gather(*tasks))
    except BaseException:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for task in tasks:
            if not task.cancelled() and task.exception() is None:
                await asyncio.to_thread(task.result().path.unlink, missing_ok=True)
        raise


def _text(value: Any) -> str:
    """A file's name or type as a database keeps it ("" when it is not text: a forged file)."""
    return storable(value) if isinstance(value, str) else ""


def _name(file: dict[str, Any]) -> str:
    return f"“{_text(file.get('name')) or _text(file.get('title')) or _text(file.get('id')) or 'the file'}”"


def _too_large(name: str, size: int | None, max_bytes: int) -> MediaError:
    limit = f"{max_bytes / 1024 / 1024:g} MB"
    if size is None:  # cut off: only that it is larger is known
        return MediaError(f"{name} is larger than {limit}, the largest file Picmim can take from Slack: attach a "
                          "smaller one.")
    return MediaError(f"{name} is {human_size(size)}; the largest file Picmim can take from Slack is {limit}: "
                      "attach a smaller one.")


def refuse_declared_size(file: dict[str, Any], max_bytes: int = MAX_SLACK_FILE_BYTES) -> None:
    """Raise MediaError, before anything is fetched, for a file whose size (as Slack lists it) is over the cap."""
    size = file.get("size")
    if isinstance(size, int) and not isinstance(size, bool) and size > max_bytes:
        raise _too_large(_name(file), size, max_bytes)


async def download_slack_file(http: httpx.AsyncClient, file: dict[str, Any], bot_token: str, store: MediaStore,
                              max_bytes: int = MAX_SLACK_FILE_BYTES) -> Incoming:
    """A file submitted through a modal's file_input, fetched with the bot token and written, a chunk at a
    time, to a temporary file in the media folder (`store.incoming()`): never more than a chunk in memory.
    Refuses, in plain words, a file over `max_bytes` (by the size Slack lists, the answer's length, or
    cutting the download off once it passes the cap) and Slack's HTML login page (what Slack answers when
    the token may not read files). Leaves no file behind when it raises."""
    name = _name(file)
    url = file.get("url_private_download") or file.get("url_private")
    if not is_url(url):
        raise MediaError(f"Slack did not say where to fetch {name}; attach it again.")
    refuse_declared_size(file, max_bytes)
    fh, temp = await asyncio.to_thread(store.incoming)
    try:
        digest, size = await _stream(http, url, bot_token, name, max_bytes, fh)
        await asyncio.to_thread(_close_durably, fh)
    except BaseException:
        fh.close()
        await asyncio.to_thread(temp.unlink, missing_ok=True)
        raise
    return Incoming(temp, digest, size)


async def _stream(http: httpx.AsyncClient, url: str, bot_token: str, name: str, max_bytes: int, fh: BinaryIO
                  ) -> tuple[str, int]:
    digest, size = hashlib.sha256(), 0
    try:
        async with http.stream("GET", url, headers={"Authorization": f"Bearer {bot_token}"},
                               follow_redirects=True) as response:
            if response.status_code != 200:
                raise MediaError(f"Slack did not hand over {name} (HTTP {response.status_code}); "
                                 "attach it again.")
            content_type = response.headers.get("content-type", "").split(";")[0].strip().lower()
            if content_type in ("text/html", "application/xhtml+xml"):
                raise MediaError(f"Slack did not hand over {name}: reinstall the app so it has the files:read "
                                 "permission, then attach the file again.")
            declared = response.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > max_bytes:
                raise _too_large(name, int(declared), max_bytes)
            async for chunk in response.aiter_bytes(CHUNK_BYTES):
                size += len(chunk)
                if size > max_bytes:  # leaving the block closes the connection: the rest is never read
                    raise _too_large(name, None, max_bytes)
                digest.update(chunk)
                await asyncio.to_thread(fh.write, chunk)
    except httpx.HTTPError as exc:
        raise MediaError(f"Slack could not be reached to fetch {name} ({exc.__class__.__name__}); "
                         "try again in a moment.") from None
    return digest.hexdigest(), size


def _close_durably(fh: BinaryIO) -> None:
    with fh:
        fh.flush()
        os.fsync(fh.fileno())
