"""A follow-up in a post's thread: its figures per platform, each beside the account's usual post."""

from __future__ import annotations

from bot.services.followups import MIN_HISTORY, FigureLine, FollowUp, TargetFigures
from bot.views.blocks import context, esc, section
from bot.views.stats import number

MESSAGE_BLOCKS = 50  # Slack's limit for a message


def after(hours: int) -> str:
    """"24 hours", "3 days", "7 days"."""
    if hours % 24 or hours == 24:
        return f"{hours} hours"
    return f"{hours // 24} days"


def times(ratio: float) -> str:
    """"2.3×", "12×": how many times the usual."""
    return f"{ratio:.0f}×" if ratio >= 10 else f"{ratio:.1f}×"


NOT_AVAILABLE = ("“Not available”: the platform did not give that figure for this post this time (Picmim never "
                 "counts it as 0).")


def figure_text(line: FigureLine) -> str:
    """"Reach 4,210 · 2.3× your usual", or "Saves _not available_"."""
    if not line.available:
        return f"{esc(line.label)} _not available_"
    text = f"{esc(line.label)} {number(line.value, line.rate)}"
    ratio = line.times_usual
    return text + (f" · {times(ratio)} your usual" if ratio is not None else "")


def _target_block(target: TargetFigures) -> dict:
    name = f"*{esc(target.platform_name)} · {esc(target.account_name)}*"
    if target.url:
        name += f" <{target.url}|View post>"
    if not target.figures:
        why = target.why or f"{target.platform_name} gave no figures for this post."
        return section(f"{name}\nNo figures yet: {esc(why)}")
    return section(name + "\n" + "\n".join(figure_text(f) for f in target.figures))


def _compared_note(targets: tuple[TargetFigures, ...]) -> str:
    compared = any(f.usual is not None for t in targets for f in t.figures)
    note = ("“Your usual” is the middle value of the account's posts of the 90 days before, at the same age."
            if compared else "")
    short = [t for t in targets if t.figures and not any(f.usual is not None for f in t.figures)]
    if short:
        names = ", ".join(f"{t.platform_name} · {t.account_name}" for t in short)
        lack = (f"No comparison for {esc(names)} yet: it takes {MIN_HISTORY} earlier posts with figures from "
                "the 90 days before.")
        note = f"{note} {lack}".strip()
    if any(not f.available for t in targets for f in t.figures):
        note = f"{note} {NOT_AVAILABLE}".strip()
    return note


def followup_message(followup: FollowUp) -> tuple[list[dict], str]:
    """The blocks and the notification text of a follow-up."""
    title = f"{after(followup.hours)} on: how this post is doing"
    blocks = [section(f"*{title}*" + (f"\n> {esc(followup.preview)}" if followup.preview else ""))]
    blocks += [_target_block(t) for t in followup.targets][:MESSAGE_BLOCKS - 2]
    note = _compared_note(followup.targets)
    if note:
        blocks.append(context(note))
    lines = [title]
    for t in followup.targets:
        given = [f for f in t.figures if f.available]  # the notification keeps to the figures there are
        shown = ", ".join(figure_text(f) for f in given[:3]) or "no figures yet"
        lines.append(f"{esc(t.platform_name)} · {esc(t.account_name)}: {shown}")
    return blocks, "\n".join(lines)
