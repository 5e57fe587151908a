"""Attachments on disk: stored once per workspace by content hash, made to fit a platform once per rule
set, and handed to adapters as bytes (streamed from disk) and as public links for platforms that pull.

Layout under `<data_dir>/media/`: the original at `<sha256[:2]>/<sha256>`, each conversion beside it at
`<sha256>.<variant>` (the variant names the rules it was made for). Files are written to a temporary
name and renamed, so a reader never sees half a file and two processes may race harmlessly.

Media links (`PUBLIC_URL/media/{token}`) name a file by hash and variant with an expiry, signed with an
HMAC whose key is derived from the encryption key (PICMIM_SECRET_KEY, or the key file), so every process
of one install agrees and nobody can forge or guess one.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import hashlib
import hmac
import logging
import os
import re
import tempfile
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from functools import cached_property, partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from aiohttp import web
from PIL import Image
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.media import pictures
from bot.platforms.base import MediaFacts, MediaLimits, MediaPayload
from bot.storage import crypto
from bot.storage.models import MediaItem

if TYPE_CHECKING:
    from bot.config import Settings

log = logging.getLogger(__name__)

LINK_LIFETIME = 2 * 24 * 3600  # seconds a media link works: long enough for a platform's slow fetch
CHUNK_BYTES = 256 * 1024  # what MediaPayload.read() and the download hand over at a time
ORIGINAL = "o"  # the variant name of the stored bytes themselves
INCOMING = ".incoming-"  # files on their way in (downloads, conversions): renamed into place, or swept

_LINK_CONTEXT = b"picmim media links v1"  # so the link key is never the encryption key itself
_SHA256 = re.compile(r"[0-9a-f]{64}")
_VARIANT = re.compile(r"o|[0-9a-f]{16}")
_MIMETYPE = re.compile(r"(image|video)/[a-z0-9.+-]{1,40}|application/pdf")


class LinkInvalid(Exception):
    """A media token that was not made by this install (or was altered)."""


class LinkExpired(Exception):
    """A genuine media token whose time is up."""


@dataclass(frozen=True)
class Incoming:
    """Bytes already written to the media folder under a temporary name (a download), with their hash and size."""

    path: Path
    sha256: str
    size: int


class MediaStore:
    """The files of one install. Cheap to build; the link key is read when first needed."""

    def __init__(self, data_dir: Path, public_url: str, secret_keys: tuple[str, ...] = ()):
        self.root = Path(data_dir) / "media"
        self.public_url = public_url.rstrip("/")
        self._data_dir = Path(data_dir)
        self._secret_keys = tuple(secret_keys)

    @classmethod
    def from_settings(cls, settings: Settings) -> MediaStore:
        return cls(settings.data_dir, settings.public_url, settings.secret_keys)

    # ---- storing -------------------------------------------------------------------------

    async def store(self, session: AsyncSession, workspace_id: int, data: bytes, filename: str,
                    declared_mimetype: str | None = None) -> MediaItem:
        """The workspace's item for these bytes, stored (file and row) if new. What the file is comes
        from its bytes, never from its name or the declared type. Raises MediaError for anything that
        is neither a picture nor a video. The caller commits."""
        sha = hashlib.sha256(data).hexdigest()
        item, _new = await self._keep(session, workspace_id, sha, len(data), lambda: data,
                                      lambda path: _write_atomically(path, data, True), filename, declared_mimetype)
        return item

    async def store_incoming(self, session: AsyncSession, workspace_id: int, incoming: Incoming, filename: str,
                             declared_mimetype: str | None = None) -> tuple[MediaItem, bool]:
        """`store` for bytes already on disk (`incoming()`, a download): the file is moved into place when its
        bytes are new, else dropped. Also says whether the item is new (a refused submission deletes those,
        bot.media.retention.discard). The caller commits."""
        try:
            return await self._keep(session, workspace_id, incoming.sha256, incoming.size, incoming.path.read_bytes,
                                    partial(_move, incoming.path), filename, declared_mimetype)
        finally:
            await asyncio.to_thread(incoming.path.unlink, missing_ok=True)  # moved into place, or not needed

    def incoming(self) -> tuple[BinaryIO, Path]:
        """A new, empty file (0600) in the media folder for bytes on their way in, and its path. Blocking."""
        _make_folder(self.root)
        fd, name = tempfile.mkstemp(dir=self.root, prefix=INCOMING)
        return os.fdopen(fd, "wb"), Path(name)

    async def _keep(self, session: AsyncSession, workspace_id: int, sha: str, size: int, read: Callable[[], bytes],
                    put: Callable[[Path], None], filename: str, declared_mimetype: str | None
                    ) -> tuple[MediaItem, bool]:
        item = await self._find(session, workspace_id, sha)
        path = self.path(sha)
        if item is not None:
            await asyncio.to_thread(_renew, path, put)
            return item, False
        data = await asyncio.to_thread(read)  # at most the download cap, one file at a time
        found, details = await asyncio.to_thread(pictures.probe, data, "", filename)
        del data
        if declared_mimetype and declared_mimetype.split(";")[0].strip().lower() != found.mimetype:
            details["declared_mimetype"] = declared_mimetype
        details.update(kind=found.kind, fps=found.fps, duration=found.duration)
        await asyncio.to_thread(_renew, path, put)
        item = MediaItem(
            workspace_id=workspace_id, sha256=sha, filename=(filename or "attachment")[:255],
            mimetype=found.mimetype, size_bytes=size, width=found.width, height=found.height,
            duration_ms=round(found.duration * 1000) if found.duration is not None else None,
            facts=details, path=str(path.relative_to(self._data_dir)),
        )
        try:
            async with session.begin_nested():
                session.add(item)
        except IntegrityError:  # another request stored the same bytes first
            item = await self._find(session, workspace_id, sha)
            if item is None:
                raise
            return item, False
        return item, True

    @staticmethod
    async def _find(session: AsyncSession, workspace_id: int, sha: str) -> MediaItem | None:
        return await session.scalar(
            select(MediaItem).where(MediaItem.workspace_id == workspace_id, MediaItem.sha256 == sha))

    def path(self, sha256: str, variant: str = ORIGINAL) -> Path:
        if not _SHA256.fullmatch(sha256) or not _VARIANT.fullmatch(variant):
            raise ValueError("not a media file name")
        name = sha256 if variant == ORIGINAL else f"{sha256}.{variant}"
        return self.root / sha256[:2] / name

    # ---- making it fit ---------------------------------------------------------------------

    def prepare(self, item: MediaItem, limits: MediaLimits | None) -> tuple[bytes, str]:
        """The bytes to send under these limits, and their type: the stored bytes when they already
        fit, else a conversion (made once per rule set, then read from disk). Blocking: call it in a
        thread from async code, or use `payload()`."""
        path, mimetype = self.variant(item, limits)
        return path.read_bytes(), mimetype

    def variant(self, item: MediaItem, limits: MediaLimits | None) -> tuple[Path, str]:
        """Where the bytes for these limits are on disk (converting first if need be), and their type."""
        if not _needs_conversion(item, limits):
            return self.path(item.sha256), item.mimetype
        variant = rules_key(limits)
        path = self.path(item.sha256, variant)
        try:
            with path.open("rb") as fh:
                mimetype = pictures.sniff_mimetype(fh.read(12))
            if mimetype:
                return path, mimetype
        except FileNotFoundError:
            pass
        original = self.path(item.sha256).read_bytes()
        data, mimetype = pictures.fit_image(original, limits)
        if data is original:  # the pipeline found it fits after all
            return self.path(item.sha256), item.mimetype
        del original
        _write_atomically(path, data, False)
        return path, mimetype

    async def payload(self, item: MediaItem, limits: MediaLimits | None = None, alt_text: str | None = None,
                      link_lifetime: int = LINK_LIFETIME) -> MediaPayload:
        """The attachment as an adapter takes it: facts of the bytes it will get, a reader that
        streams them from disk, and a media link to the same bytes."""
        path, mimetype = await asyncio.to_thread(self.variant, item, limits)
        base = facts(item, alt_text=alt_text)
        if path.name == item.sha256:
            described = base
        else:
            width, height = await asyncio.to_thread(_image_size, path)
            described = MediaFacts(id=base.id, kind=base.kind, mimetype=mimetype, size_bytes=path.stat().st_size,
                                   width=width, height=height, filename=base.filename, alt_text=alt_text)
        variant = ORIGINAL if path.name == item.sha256 else path.name.split(".", 1)[1]
        url = self.link(item.sha256, variant, mimetype, lifetime=link_lifetime)
        return MediaPayload(facts=described, public_url=url, read=_reader(path))

    def rendition_payload(self, item: MediaItem, key: str, described: MediaFacts,
                          link_lifetime: int = LINK_LIFETIME) -> MediaPayload:
        """A video rendition made by bot.media.renditions (at `<sha256>.<key>`), as an adapter takes it."""
        path = self.path(item.sha256, key)
        url = self.link(item.sha256, key, described.mimetype, lifetime=link_lifetime)
        return MediaPayload(facts=described, public_url=url, read=_reader(path))

    def write(self, path: Path, data: bytes) -> None:
        """Put a small derived file (a cover frame) at `path`, atomically. Blocking."""
        _write_atomically(path, data, False)

    # ---- media links -------------------------------------------------------------------------

    @cached_property
    def _link_keys(self) -> tuple[bytes, ...]:
        keys = self._secret_keys
        if not keys:
            key, _created = crypto.load_or_create_key_file(self._data_dir)
            keys = (key,)
        return tuple(hmac.new(base64.urlsafe_b64decode(k.encode()), _LINK_CONTEXT, hashlib.sha256).digest()
                     for k in keys)

    def token(self, sha256: str, variant: str, mimetype: str, *, lifetime: int = LINK_LIFETIME,
              now: float | None = None) -> str:
        if not _SHA256.fullmatch(sha256) or not _VARIANT.fullmatch(variant) or not _MIMETYPE.fullmatch(mimetype):
            raise ValueError("not a media file")
        expires = int((time.time() if now is None else now) + lifetime)
        body = f"{sha256}:{variant}:{mimetype}:{expires}".encode()
        return f"{_b64(body)}.{_b64(_mac(self._link_keys[0], body))}"

    def link(self, sha256: str, variant: str, mimetype: str, *, lifetime: int = LINK_LIFETIME,
             now: float | None = None) -> str:
        """`PUBLIC_URL/media/{token}`: the file, for whoever has the link, until it expires."""
        return f"{self.public_url}/media/{self.token(sha256, variant, mimetype, lifetime=lifetime, now=now)}"

    def resolve(self, token: str, now: float | None = None) -> tuple[Path, str]:
        """The file and type a token names. Raises LinkInvalid (forged, altered, malformed) or
        LinkExpired (genuine, but late)."""
        body_text, dot, mac_text = token.partition(".")
        if not dot or len(token) > 400:
            raise LinkInvalid
        try:
            body, mac = _unb64(body_text), _unb64(mac_text)
        except (binascii.Error, ValueError):
            raise LinkInvalid from None
        if not any(hmac.compare_digest(mac, _mac(key, body)) for key in self._link_keys):
            raise LinkInvalid
        try:
            sha, variant, mimetype, expires = body.decode().split(":")
            path, expires_at = self.path(sha, variant), int(expires)
        except ValueError:
            raise LinkInvalid from None
        if not _MIMETYPE.fullmatch(mimetype):
            raise LinkInvalid
        if expires_at < (time.time() if now is None else now):
            raise LinkExpired
        return path, mimetype


# ---- what an item is -------------------------------------------------------------------------------


def facts(item: MediaItem, alt_text: str | None = None) -> MediaFacts:
    """The stored item as validation sees it (sizes as shown, after any EXIF rotation or video turn)."""
    details = item.facts or {}
    kind = details.get("kind") or ("video" if item.mimetype.startswith("video/") else "image")
    return MediaFacts(
        id=str(item.id), kind=kind, mimetype=item.mimetype, size_bytes=item.size_bytes, width=item.width,
        height=item.height, duration=item.duration_ms / 1000 if item.duration_ms is not None else None,
        fps=details.get("fps"), filename=item.filename, alt_text=alt_text,
        video_codec=details.get("video_codec") if kind == "video" else None,
        audio_codec=details.get("audio_codec") if kind == "video" else None,
        rotation=int(details.get("rotation") or 0) if kind == "video" else 0,
        bit_rate=details.get("bit_rate") if kind == "video" else None,
        faststart=details.get("faststart") if kind == "video" else None,
        pages=details.get("pages") if kind == "document" else None,
    )


def facts_of_rendition(item: MediaItem, made: dict[str, Any], alt_text: str | None = None) -> MediaFacts:
    """What a video rendition is (its `facts` as bot.media.renditions recorded them), under the item's
    id and name: validation and adapters see the file they are sent."""
    return MediaFacts(
        id=str(item.id), kind="video", mimetype=made.get("mimetype") or "video/mp4",
        size_bytes=int(made.get("size_bytes") or 0), width=made.get("width"), height=made.get("height"),
        duration=made.get("duration"), fps=made.get("fps"), filename=item.filename, alt_text=alt_text,
        video_codec=made.get("video_codec"), audio_codec=made.get("audio_codec"), rotation=0,
        bit_rate=made.get("bit_rate"), faststart=made.get("faststart"),
    )


def rules_key(limits: MediaLimits) -> str:
    """A short name for what a conversion depends on: the accepted types and the size limits."""
    rule = repr((limits.kind, tuple(limits.mimetypes), limits.max_bytes, limits.max_width, limits.max_height))
    return hashlib.sha256(rule.encode()).hexdigest()[:16]


def _needs_conversion(item: MediaItem, limits: MediaLimits | None) -> bool:
    if limits is None or not item.mimetype.startswith("image/") or limits.kind != "image":
        return False  # videos are made to fit in the background (bot.media.renditions)
    orientation = (item.facts or {}).get("orientation", 1)
    return not (
        item.mimetype in limits.mimetypes
        and orientation in (None, 1)
        and (limits.max_bytes is None or item.size_bytes <= limits.max_bytes)
        and (limits.max_width is None or (item.width or 0) <= limits.max_width)
        and (limits.max_height is None or (item.height or 0) <= limits.max_height)
    )


# ---- Slack ----------------------------------------------------------------------------------------


# ---- serving media links ------------------------------------------------------------------------


def link_handler(store: MediaStore):
    """The aiohttp handler of `GET /media/{token}` (HEAD and Range requests included)."""

    async def serve(request: web.Request) -> web.StreamResponse:
        try:
            path, mimetype = store.resolve(request.match_info.get("token", ""))
        except LinkExpired:
            return web.Response(status=410, text="This media link has expired.")
        except LinkInvalid:
            return web.Response(status=404, text="Not found.")
        if not await asyncio.to_thread(path.is_file):
            return web.Response(status=404, text="Not found.")
        return web.FileResponse(path, headers={
            "Content-Type": mimetype,
            "Cache-Control": "private",
            "X-Content-Type-Options": "nosniff",
            "Content-Disposition": "inline",
        })

    return serve


# ---- helpers ----------------------------------------------------------------------------------------


def _make_folder(folder: Path) -> None:
    if not folder.is_dir():  # media folders are the owner's alone (0700), whatever the umask
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        for each in (folder, folder.parent):
            if each.name == "media" or each.parent.name == "media":
                each.chmod(0o700)


def _renew(path: Path, put: Callable[[Path], None]) -> None:
    """Put the original in place if it is not there (new, or the data folder was cleaned), else mark it as
    just stored: the retention sweep leaves files stored in the last day alone, so bytes stored again are
    not deleted under a post that is about to use them."""
    try:
        os.utime(path)
    except FileNotFoundError:
        put(path)


def _move(temp: Path, path: Path) -> None:
    _make_folder(path.parent)
    os.replace(temp, path)


def _write_atomically(path: Path, data: bytes, durable: bool) -> None:
    _make_folder(path.parent)
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=INCOMING)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            if durable:
                fh.flush()
                os.fsync(fh.fileno())
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise


def _reader(path: Path):
    async def read() -> AsyncIterator[bytes]:
        fh = await asyncio.to_thread(path.open, "rb")
        try:
            while chunk := await asyncio.to_thread(fh.read, CHUNK_BYTES):
                yield chunk
        finally:
            fh.close()

    return read


def _image_size(path: Path) -> tuple[int, int]:
    with Image.open(path) as image:
        return image.size


def _mac(key: bytes, body: bytes) -> bytes:
    return hmac.new(key, body, hashlib.sha256).digest()[:18]


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    if not re.fullmatch(r"[A-Za-z0-9_-]+", text):
        raise ValueError("not base64url")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))

