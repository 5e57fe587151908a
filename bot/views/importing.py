"""Bulk import's window (a CSV file, and "all or nothing"), the window it turns into while Picmim reads the file,
and the answer: what was scheduled, and each refused row with its number and reason."""

from __future__ import annotations

import re
from collections.abc import Sequence

from bot import ids
from bot.services.importing import MAX_ROWS, Outcome
from bot.views.blocks import choices, context, esc, header, input_block, local_time, modal, option, section

ALL = "all"
SECTION_MAX = 2900  # Slack's section text takes 3000 characters
LINES_SHOWN = 40  # rows named in each list; the rest are counted
COLUMNS_HELP = ("Columns (first row, any order): *text* (required), *accounts* (e.g. `x:@picmim; linkedin:Picmim "
                "Coffee`), *when* (`now`, `2026-05-04 09:30` in your time zone, `2026-05-04T09:30+02:00`, or "
                "`next slot`); optional *media_url* (a link to a picture, or to an MP4 or MOV video up to 10 MB), "
                "*alt_text*, *first_comment*, *text_x*, *text_linkedin*… (a network's own text), and each network's "
                "settings, e.g. "
                "*youtube_title*, *youtube_privacy*, *pinterest_board*, *pinterest_link*. "
                f"Up to {MAX_ROWS} posts; comma or semicolon; UTF-8.")


def import_modal() -> dict:
    return modal("Import posts", [
        input_block(ids.IMPORT_FILE_BLOCK, "CSV file of posts",
                    {"type": "file_input", "action_id": ids.IMPORT_FILE_INPUT, "filetypes": ["csv"],
                     "max_files": 1}),
        input_block(ids.IMPORT_ALL_BLOCK, "If a row is refused",
                    choices("checkboxes", ids.IMPORT_ALL_INPUT,
                            [option("All or nothing: import no post unless every row is fine", ALL)]),
                    optional=True, hint="Otherwise the good rows are scheduled and the refused ones listed."),
        context(COLUMNS_HELP),
        context("Every row is checked as the compose window checks a post; approval applies as to any post."),
    ], close="Cancel", submit="Import", callback_id=ids.IMPORT_VIEW)


def importing_modal(filename: str) -> dict:
    return modal("Import posts", [
        section(f"Importing… Picmim is reading *{esc(filename)}*. You will get a direct message with what was "
                "scheduled and any row it could not take."),
    ], close="Close")


_NOT_A_MENTION = re.compile(r"<(?!@[UW][A-Z0-9]+>|!subteam\^[A-Z0-9]+>)")


def _reason(text: str) -> str:
    """A refusal as mrkdwn: the mentions of who may post stay; anything else a file's cell brought in is escaped
    (a cell saying <!channel> notifies nobody)."""
    return _NOT_A_MENTION.sub("&lt;", text.replace("&", "&amp;"))


def _clip(lines: Sequence[str], more: str) -> str:
    """As many lines as a section holds (at most LINES_SHOWN), then how many more there are."""
    shown: list[str] = []
    size = 0
    for line in lines[:LINES_SHOWN]:
        line = line if len(line) <= SECTION_MAX // 4 else line[:SECTION_MAX // 4 - 1] + "…"
        if size + len(line) + 1 > SECTION_MAX - 60:  # room for the "…and N more" line
            break
        shown.append(line)
        size += len(line) + 1
    if len(shown) < len(lines):
        shown.append(more.format(len(lines) - len(shown)))
    return "\n".join(shown)


def summary_text(outcome: Outcome) -> str:
    total = len(outcome.scheduled) + len(outcome.refused)
    name = esc(outcome.filename)
    if outcome.kept_none:
        return (f"Nothing was imported from {name}: {len(outcome.refused)} of {total} rows were refused and "
                "“all or nothing” was ticked. Mend them and import the file again.")
    if not outcome.scheduled:
        return f"Nothing was imported from {name}: every row was refused."
    pending = len(outcome.pending_ids)
    waiting = f" ({pending} waiting for approval)" if pending else ""
    refused = f"; {len(outcome.refused)} refused" if outcome.refused else ""
    return f"Imported {len(outcome.scheduled)} of {total} posts from {name}{waiting}{refused}."


def result_blocks(outcome: Outcome, tz: str | None) -> list[dict]:
    """The answer to an import (sent by direct message)."""
    blocks = [header("Import finished"), section(summary_text(outcome))]
    if outcome.scheduled:
        lines = []
        for s in outcome.scheduled:
            when = local_time(s.when, tz) if s.when else "now"
            state = "waiting for approval, " if s.pending_approval else ""
            lines.append(f"Row {s.row}: {esc(', '.join(s.accounts))} · {state}{when}")
        blocks.append(section("*Scheduled*\n" + _clip(lines, "…and {} more: see `/picmim queue`.")))
    if outcome.refused:
        title = "*Refused (nothing of these rows was kept)*" if not outcome.kept_none else "*Refused*"
        lines = [f"Row {r.row}: {_reason(r.reason)}" for r in outcome.refused]
        blocks.append(section(title + "\n" + _clip(lines, "…and {} more rows refused.")))
    if outcome.unknown_columns:
        blocks.append(context("Picmim does not read these columns and left them out: "
                              + ", ".join(f"“{esc(c)}”" for c in outcome.unknown_columns)
                              + ". Check their names against `/picmim import`'s list."))
    return blocks


def result_text(outcome: Outcome) -> str:
    return summary_text(outcome)


def file_refused_text(filename: str, reason: str) -> str:
    return f"Nothing was imported from {esc(filename)}: {esc(reason)}"
