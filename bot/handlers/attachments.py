"""Attachments given in the compose modal's file input: fetched from Slack with the bot token (Slack's side of
it) and put into the media store."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import httpx

from bot.media.errors import MediaError
from bot.media.store import CHUNK_BYTES, MediaStore
from bot.payloads import is_url, storable
from bot.services.submitting import Attachments

log = logging.getLogger(__name__)

MAX_SLACK_FILE_BYTES = 10 * 1024 * 1024  # Slack's file_input takes files up to 10 MB each


async def store_files(runtime, db, workspace_id: int, files: list[dict], bot_token: str) -> Attachments:
    """Download the submitted files and store them; the stored items' ids, or what went wrong."""
    if not files:
        return Attachments()
    try:
        data = await asyncio.gather(*(download_slack_file(runtime.http, f, bot_token) for f in files))
        store = MediaStore.from_settings(runtime.settings)
        async with db() as session:
            items = [await store.store(session, workspace_id, blob, _text(f.get("name")) or "attachment",
                                       _text(f.get("mimetype")) or None)
                     for f, blob in zip(files, data, strict=True)]
            item_ids = tuple(item.id for item in items)
        return Attachments(item_ids)
    except MediaError as exc:
        return Attachments(error=str(exc))
    except Exception:  # never publish without the attachments the author gave
        log.exception("Storing the attachments of a post failed")
        return Attachments(error="Picmim could not read the attachments: attach them again.")


def _text(value: Any) -> str:
    """A file's name or type as a database keeps it ("" when it is not text: a forged file)."""
    return storable(value) if isinstance(value, str) else ""


async def download_slack_file(http: httpx.AsyncClient, file: dict[str, Any], bot_token: str,
                              max_bytes: int = MAX_SLACK_FILE_BYTES) -> bytes:
    """The bytes of a file submitted through a modal's file_input, fetched with the bot token. Refuses,
    in plain words, a file over `max_bytes` (without reading it all) and Slack's HTML login page
    (what Slack answers when the token may not read files)."""
    name = f"“{_text(file.get('name')) or _text(file.get('title')) or _text(file.get('id')) or 'the file'}”"
    url = file.get("url_private_download") or file.get("url_private")
    if not is_url(url):
        raise MediaError(f"Slack did not say where to fetch {name}; attach it again.")
    limit_text = f"{max_bytes / 1024 / 1024:g} MB"
    if isinstance(file.get("size"), int) and file["size"] > max_bytes:
        raise MediaError(f"{name} is larger than {limit_text}; attach a smaller file.")
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
                raise MediaError(f"{name} is larger than {limit_text}; attach a smaller file.")
            buf = bytearray()
            async for chunk in response.aiter_bytes(CHUNK_BYTES):
                buf += chunk
                if len(buf) > max_bytes:
                    raise MediaError(f"{name} is larger than {limit_text}; attach a smaller file.")
    except httpx.HTTPError as exc:
        raise MediaError(f"Slack could not be reached to fetch {name} ({exc.__class__.__name__}); "
                         "try again in a moment.") from None
    return bytes(buf)
