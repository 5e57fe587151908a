"""Block Kit for review links: the Share for review modal and the link it gives the approver to copy."""

from __future__ import annotations

from datetime import datetime

from bot import ids
from bot.payloads import ReviewShare
from bot.services.review_links import DAYS, DEFAULT_DAYS, MAX_NAME
from bot.views.blocks import choices, context, esc, input_block, modal, option, section, slack_date


def _days(n: int) -> str:
    return f"{n} day{'s' if n != 1 else ''}"


def share_modal(post_id: int, version: int, channel_id: str | None) -> dict:
    name = input_block(ids.REVIEW_SHARE_NAME_BLOCK, "Reviewer's name or email",
                       {"type": "plain_text_input", "action_id": ids.REVIEW_SHARE_NAME_INPUT,
                        "max_length": MAX_NAME, "placeholder": {"type": "plain_text", "text": "Ana at Acme Client"}},
                       hint="Shown on the review card with their decision, e.g. “Ana (review link)”.")
    options = [option(_days(n), str(n)) for n in DAYS]
    days = input_block(ids.REVIEW_SHARE_DAYS_BLOCK, "The link works for",
                       choices("static_select", ids.REVIEW_SHARE_DAYS_INPUT, options,
                               initial=options[DAYS.index(DEFAULT_DAYS)]))
    about = context("Anyone with the link can approve, ask for changes or reject this version of the post, once, "
                    "without Slack. It stops working when the post is edited, when it is used, when it expires, or "
                    "when you revoke it from the card.")
    return modal("Share for review", [name, days, about], callback_id=ids.REVIEW_SHARE_VIEW, submit="Create link",
                 close="Cancel", private_metadata=ReviewShare(post_id, version, channel_id).encode())


def link_made(url: str, name: str, expires: datetime) -> dict:
    """The modal once the link exists: only the approver who asked sees it, to copy and send."""
    blocks = [
        section(f"Send this link to *{esc(name)}*:"),
        section(f"```{url}```"),
        context(f"It works until {slack_date(expires)} for this version of the post, once. It is not posted "
                "anywhere: only you see it here. Revoke it with “Revoke review links” on the card."),
    ]
    return modal("Review link", blocks, close="Done")
