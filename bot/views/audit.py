"""`/picmim audit`: the latest entries of the audit trail, newest first, each in the viewer's own zone."""

from __future__ import annotations

from collections.abc import Sequence

from bot import ids
from bot.services.audit_trail import Entry
from bot.views.blocks import actions, button, context, esc, header, section, slack_date, who

CHANGE_SHOWN = 300


def _line(entry: Entry, tz: str | None) -> str:
    text = f"*{esc(entry.action)}* · {who(entry.actor)} · from {esc(entry.source)} · {slack_date(entry.at, tz)}"
    if entry.post_id:
        label = f"post {entry.post_id}"
        linked = f"<{entry.post_link}|{label}>" if entry.post_link else label
        said = f" “{esc(entry.post_text)}”" if entry.post_text else ""
        text += f"\n{linked}{said}"
    else:
        text += f"\n{esc(entry.subject)}"
    if entry.change:
        change = entry.change if len(entry.change) <= CHANGE_SHOWN else entry.change[:CHANGE_SHOWN - 1] + "…"
        text += f"\n`{esc(change).replace('`', chr(39))}`"
    return text


def audit_blocks(found: Sequence[Entry], tz: str | None, label: str, days: int, export_value: str,
                 more: bool) -> list[dict]:
    blocks = [header(f"Audit trail: {label}, last {days} days"[:150])]
    if not found:
        blocks.append(section(f"Nothing was recorded for {esc(label.lower() if label == 'Everything' else label)} "
                              f"in the last {days} days."))
    blocks += [section(_line(entry, tz)) for entry in found]
    note = "Newest first. Only you can see this."
    if more:
        note = f"The latest {len(found)} entries, newest first; Export CSV has all of them. Only you can see this."
    blocks.append(context(note))
    blocks.append(actions(button("Export CSV", ids.AUDIT_EXPORT, export_value)))
    return blocks


def audit_text(found: Sequence[Entry], label: str, days: int) -> str:
    return f"Audit trail: {label}, last {days} days ({len(found)} entries shown)"
