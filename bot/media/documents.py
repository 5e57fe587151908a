"""Documents (a PDF attached for a LinkedIn document post): recognised from their bytes and kept as they are —
never converted. What validation needs is read here: that it is a whole PDF, and how many pages it has (pypdf reads
the page tree, compressed object streams included). A file whose pages cannot be read has `pages` None: the platform
judges it.
"""

from __future__ import annotations

import io
import logging
from typing import Any

from bot.media.errors import MediaError
from bot.platforms.base import MediaFacts

log = logging.getLogger(__name__)

PDF = "application/pdf"
DOCUMENT_TYPES = (PDF,)


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
    # pypdf is imported on the first PDF, not with every attachment: ~7 MB a process carries for nothing until then.
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    try:
        return len(PdfReader(io.BytesIO(data), strict=False).pages)
    except (PyPdfError, ValueError, KeyError, TypeError, AttributeError, RecursionError) as exc:
        log.info("Could not count the pages of a PDF (%s): LinkedIn judges it", type(exc).__name__)
        return None
