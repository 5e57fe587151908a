"""Block Kit for a post's failure announced in the alerts channel (bot/services/failure_alerts.py)."""

from __future__ import annotations

from bot.services.failure_alerts import FailureNote
from bot.views.blocks import context, esc, section


def _status_link(note: FailureNote) -> str | None:
    # A permalink Slack resolves in any workspace the reader is in (archives/<channel>/p<ts without dot>).
    if note.post_channel_id and note.post_message_ts:
        return f"https://slack.com/archives/{note.post_channel_id}/p{note.post_message_ts.replace('.', '')}"
    return None


def failure_alert(note: FailureNote) -> tuple[str, list[dict]]:
    """(notification text, blocks): who, where, what failed and why, and where to mend it."""
    where = f"*{esc(note.where)}*"
    if note.unconfirmed:
        headline = (f":warning: <@{note.author_user_id}>, Picmim does not know whether your post went live on "
                    f"{where}: check it there, then say so on the post's message (it is never sent twice by "
                    "itself).")
        text = f"Picmim does not know whether a post went live on {note.where}"
    else:
        headline = f":red_circle: <@{note.author_user_id}>, your post did not go out on {where}."
        text = f"A post did not go out on {note.where}"
    lines = [headline, f"> {esc(note.preview)}" if note.preview else "> (no text)"]
    if note.reason:
        lines.append(f"*Why:* {esc(note.reason)}")
    link = _status_link(note)
    if link:
        lines.append(f"<{link}|Open the post's message> to retry, edit or confirm it.")
    elif note.post_channel_id:
        lines.append(f"The post's message in <#{note.post_channel_id}> has the buttons to retry or edit it.")
    return text, [section("\n".join(lines)), context("Announced once per failure, here in the alerts channel.")]
