"""Documents (a PDF attached for a LinkedIn document post): recognised from their bytes and kept as they are —
never converted. What validation needs is read here: that it is a whole PDF, and how many pages it has.

The page count comes from the page tree's root (`/Type /Pages … /Count n`, the largest count in the file), read
from the plain objects and, for files that pack their objects into compressed object streams (PDF 1.5+), from the
Flate-compressed streams too. A file whose count cannot be found has `pages` None: the platform judges it.
"""

from __future__ import annotations

import re
import zlib
from typing import Any

from bot.media.errors import MediaError
from bot.platforms.base import MediaFacts

PDF = "application/pdf"
DOCUMENT_TYPES = (PDF,)
_COUNT = re.compile(rb"/Type\s*/Pages\b(?:(?!endobj|/Type\s*/Page\b).){0,2000}?/Count\s+(\d+)", re.S)
_COUNT_FIRST = re.compile(rb"/Count\s+(\d+)(?:(?!endobj).){0,2000}?/Type\s*/Pages\b", re.S)
_STREAM = re.compile(rb"stream\r?\n")
MAX_INFLATED = 50 * 1024 * 1024  # what the page count may inflate in all: a hostile file cannot fill memory


def is_document(head: bytes) -> bool:
    """A PDF starts with `%PDF-` (ISO 32000-1 §7.5.2; readers allow it within the first 1,024 bytes)."""
    return b"%PDF-" in head[:1024]


def probe_document(data: bytes, id: str = "", filename: str = "") -> tuple[MediaFacts, dict[str, Any]]:
    """What a PDF is: its facts (kind "document") and the details worth keeping (pages). Raises MediaError for a
    file cut off before its end (no `%%EOF` in its last kilobyte) or not a PDF."""
    name = f"“{filename}”" if filename else "This PDF"
    if not is_document(data[:1024]):
        raise MediaError(f"{name} is not a PDF.")
    if b"%%EOF" not in data[-1024:]:
        raise MediaError(f"{name} is cut off before its end: save it again as a PDF and attach it again.")
    pages = page_count(data)
    facts = MediaFacts(id=id, kind="document", mimetype=PDF, size_bytes=len(data), filename=filename, pages=pages)
    return facts, {"format": "PDF", "pages": pages}


def page_count(data: bytes) -> int | None:
    counts = _counts(data)
    budget = MAX_INFLATED
    for match in _STREAM.finditer(data):
        if budget <= 0:
            break
        inflater = zlib.decompressobj()
        try:
            inflated = inflater.decompress(data[match.end():match.end() + budget], budget)
        except zlib.error:
            continue
        budget -= len(inflated)
        if b"/Pages" in inflated:
            counts += _counts(inflated)
    return max(counts) if counts else None


def _counts(data: bytes) -> list[int]:
    return [int(m.group(1)) for pattern in (_COUNT, _COUNT_FIRST) for m in pattern.finditer(data)]
