"""A text too long for one post, cut into a thread's parts: at the author's blank lines, else at sentence ends,
else between words, each part within the platform's count (the platform's own counter), optionally numbered
"1/3". Pure: validation, the compose window's preview and the adapters all cut the same way."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any

from bot.platforms.base import Draft, PlatformError

MAX_PARTS = 25  # Picmim's own bound: a longer thread is more likely a pasted article than a thread
PARAGRAPHS = re.compile(r"\n[ \t]*\n+")
SENTENCE_END = re.compile(r"(?<=[.!?…])[\"'”’)]*\s+")


def split(text: str, limit: int, counter: Callable[[str], int], numbered: bool = False) -> list[str]:
    """The parts, in order. A text that fits is one part (never numbered). A word longer than a whole part is cut
    where the count runs out."""
    text = text.strip()
    if counter(text) <= limit:
        return [text] if text else []
    guess = 9
    while True:  # the room "n/N" takes depends on how many parts there are
        room = limit - (counter(f" {guess}/{guess}") if numbered else 0)
        parts = _pack(text, room, counter)
        if not numbered or len(str(len(parts))) <= len(str(guess)):
            break
        guess = int("9" * len(str(len(parts))))
    if numbered:
        parts = [f"{part} {n}/{len(parts)}" for n, part in enumerate(parts, 1)]
    return parts


def _pack(text: str, room: int, counter: Callable[[str], int]) -> list[str]:
    parts: list[str] = []
    for paragraph in PARAGRAPHS.split(text):
        paragraph = paragraph.strip()
        if not paragraph:
            continue
        if counter(paragraph) <= room:
            parts.append(paragraph)  # the author's own break: a part of its own
            continue
        parts += _fill([s for s in SENTENCE_END.split(paragraph) if s.strip()], room, counter, " ", words=True)
    return parts


def _fill(pieces: list[str], room: int, counter: Callable[[str], int], glue: str, words: bool) -> list[str]:
    """Pieces joined greedily into parts within `room`; a piece too long is cut finer (words, then characters)."""
    parts: list[str] = []
    current = ""
    for piece in pieces:
        piece = piece.strip()
        candidate = f"{current}{glue}{piece}" if current else piece
        if counter(candidate) <= room:
            current = candidate
            continue
        if current:
            parts.append(current)
            current = ""
        if counter(piece) <= room:
            current = piece
            continue
        finer = _fill(piece.split(), room, counter, " ", words=False) if words else _cut(piece, room, counter)
        parts += finer[:-1]
        current = finer[-1] if finer else ""
    if current:
        parts.append(current)
    return parts


def _cut(word: str, room: int, counter: Callable[[str], int]) -> list[str]:
    parts, current = [], ""
    for ch in word:
        if current and counter(current + ch) > room:
            parts.append(current)
            current = ""
        current += ch
    return [*parts, current] if current else parts


def preview(parts: list[str], width: int = 60) -> str:
    """The parts in one line each, shortened, for the compose window."""
    lines = []
    for n, part in enumerate(parts, 1):
        flat = " ".join(part.split())
        lines.append(f"{n}. {flat if len(flat) <= width else flat[:width - 1] + '…'}")
    return "\n".join(lines)


Part = dict[str, Any]


async def publish_parts(draft: Draft, texts: list[str], send: Callable[[int, str, list[Part]], Awaitable[Part]],
                        find: Callable[[list[Part]], Awaitable[Part | None]]) -> tuple[list[Part], list[str]]:
    """Send a thread's parts, then the draft's first comment, each replying to the one before; what is live already
    (`draft.live_parts`) is never sent again, and each new part is handed to `draft.on_part` as soon as it is live.
    `send(index, text, live)` makes one part; `find(live)` looks at the platform for the part after `live` (when
    the try before stopped during its call) and raises OutcomeUnknown when it cannot tell. A first comment that
    fails is a warning: the post itself is live."""
    items = [(text, False) for text in texts] + ([(draft.first_comment, True)] if draft.first_comment else [])
    live: list[Part] = [dict(p) for p in draft.live_parts]
    warnings: list[str] = []
    # A single post needs no record per part: the publisher's own result says whether it is live.
    keep = draft.on_part if len(items) > 1 else None
    if live and draft.check_next and len(live) < len(items):
        found = await find(live)
        if found is not None:
            await _keep(keep, live, found, items[len(live)][1])
    for index in range(len(live), len(items)):
        text, comment = items[index]
        try:
            part = await send(index, text, live)
        except PlatformError as exc:
            if not comment:
                raise
            warnings.append(f"The post is live, but its first comment could not be added: {exc.message}")
            break
        await _keep(keep, live, part, comment)
    return live, warnings


async def _keep(keep: Callable[[Part], Awaitable[None]] | None, live: list[Part], part: Part, comment: bool) -> None:
    if comment:
        part["comment"] = True
    if keep is not None:
        await keep(dict(part))
    live.append(part)


def first_post(live: list[Part]) -> Part:
    return next(p for p in live if not p.get("comment"))
