"""The shared Block Kit builders every view uses: escaping, local times, text objects, blocks, elements, modals."""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

# Plain dicts, each key in the order the views have always sent it, rather than slack_sdk.models.blocks: the
# models sort keys and add `"emoji": true` to every text they make, so the JSON sent to Slack would change.
# (help.py, which always used the models, still does.)

TEXT_MAX = 3000  # a section's or a context's mrkdwn text
HEADER_MAX = 150
BUTTON_MAX = 75  # a button's text, and an option's
LABEL_MAX = 2000  # an input's label and hint


def esc(text: str) -> str:
    """Names come from the platforms: escaped, a name like "<!channel>" cannot notify a whole channel."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def who(user: str) -> str:
    """A Slack user as a mention; anyone else (Picmim itself, "<name> (review link)") as plain, escaped words."""
    return f"<@{user}>" if re.fullmatch(r"[UW][A-Z0-9]+", user or "") else esc(user or "")


# ---- times --------------------------------------------------------------------------------------------------


def local_time(when: datetime, tz: str | None) -> str:
    try:
        zone = ZoneInfo(tz) if tz else ZoneInfo("UTC")
    except (KeyError, ValueError):
        zone = ZoneInfo("UTC")
    local = when.astimezone(zone)
    return f"{local.day} {local:%b %Y, %H:%M} ({local.tzname()})"


def local_date(when: datetime, tz: str | None) -> str:
    return local_time(when, tz).split(",")[0]


def slack_date(when: datetime, tz: str | None = None) -> str:
    """A time each reader sees in their own zone (Slack's date formatting), with a fallback in `tz` (UTC)."""
    return f"<!date^{int(when.timestamp())}^{{date_short_pretty}} at {{time}}|{local_time(when, tz)}>"


# ---- text objects -------------------------------------------------------------------------------------------
# `emoji=True` writes `"emoji": true` (Slack's default anyway): approvals, queue, settings and stats have always
# sent it, the other views never; kept so that what each view sends stays the same.


def plain(text: str, *, emoji: bool = False) -> dict:
    obj = {"type": "plain_text", "text": text}
    if emoji:
        obj["emoji"] = True
    return obj


def mrkdwn(text: str) -> dict:
    return {"type": "mrkdwn", "text": text}


# ---- blocks -------------------------------------------------------------------------------------------------


def section(text: str, accessory: dict | None = None, *, block_id: str | None = None) -> dict:
    block: dict = {"type": "section"}
    if block_id:
        block["block_id"] = block_id
    block["text"] = mrkdwn(text[:TEXT_MAX])
    if accessory:
        block["accessory"] = accessory
    return block


def context(text: str) -> dict:
    return {"type": "context", "elements": [mrkdwn(text[:TEXT_MAX])]}


def header(text: str, *, emoji: bool = False) -> dict:
    return {"type": "header", "text": plain(text[:HEADER_MAX], emoji=emoji)}


def divider() -> dict:
    return {"type": "divider"}


def actions(*elements: dict, block_id: str | None = None) -> dict:
    block: dict = {"type": "actions"}
    if block_id:
        block["block_id"] = block_id
    block["elements"] = list(elements)
    return block


def input_block(block_id: str, label: str, element: dict, *, optional: bool | None = None, hint: str | None = None,
                hint_first: bool = False, emoji: bool = False) -> dict:
    """An input; `optional` left out (None) leaves Slack's default, required. `hint_first` writes the hint
    before the element, as the Bluesky handle and digest modals have always been sent."""
    block: dict = {"type": "input", "block_id": block_id, "label": plain(label[:LABEL_MAX], emoji=emoji)}
    if optional is not None:
        block["optional"] = optional
    if hint and hint_first:
        block["hint"] = plain(hint[:LABEL_MAX], emoji=emoji)
    block["element"] = element
    if hint and not hint_first:
        block["hint"] = plain(hint[:LABEL_MAX], emoji=emoji)
    return block


# ---- elements -----------------------------------------------------------------------------------------------


def button(text: str, action_id: str, value: str = "", style: str | None = None, url: str | None = None,
           confirm: dict | None = None, *, emoji: bool = False, label: str | None = None) -> dict:
    """A button; `label` is what a screen reader says instead of its text, for a button repeated per row
    ("Retry" says which post and account)."""
    element = {"type": "button", "text": plain(text[:BUTTON_MAX], emoji=emoji), "action_id": action_id}
    if label:
        element["accessibility_label"] = label[:75]
    if value:
        element["value"] = value
    if style:
        element["style"] = style
    if url:
        element["url"] = url
    if confirm:
        element["confirm"] = confirm
    return element


def confirm_dialog(title: str, text: str, confirm: str, deny: str = "Keep it", *, emoji: bool = False) -> dict:
    """The "are you sure?" of a destructive button (`text` is mrkdwn)."""
    return {"title": plain(title, emoji=emoji), "text": mrkdwn(text), "confirm": plain(confirm, emoji=emoji),
            "deny": plain(deny, emoji=emoji), "style": "danger"}


def option(text: str, value: str, *, emoji: bool = False) -> dict:
    return {"text": plain(text[:BUTTON_MAX], emoji=emoji), "value": value}


def choices(kind: str, action_id: str, options: list[dict], *, placeholder: str | None = None,
            initial: dict | list[dict] | None = None, emoji: bool = False) -> dict:
    """A static_select, multi_static_select, radio_buttons or checkboxes element; `initial` (an option, or a
    list of them where several can be chosen) is left out when empty."""
    element: dict = {"type": kind, "action_id": action_id}
    if placeholder:
        element["placeholder"] = plain(placeholder, emoji=emoji)
    element["options"] = options
    if initial:
        several = kind == "checkboxes" or kind.startswith("multi_")
        element["initial_options" if several else "initial_option"] = initial
    return element


def overflow(action_id: str, options: list[dict], *, confirm: dict | None = None) -> dict:
    """A "⋯" menu of 2 to 5 options (each `option(text, value)`); the chosen option's value is what it sends."""
    element = {"type": "overflow", "action_id": action_id, "options": options[:5]}
    if confirm:
        element["confirm"] = confirm
    return element


# ---- surfaces -----------------------------------------------------------------------------------------------


def modal(title: str, blocks: list[dict], *, close: str, submit: str | None = None, callback_id: str | None = None,
          private_metadata: str | None = None, notify_on_close: bool | None = None, emoji: bool = False) -> dict:
    view: dict = {"type": "modal"}
    if callback_id:
        view["callback_id"] = callback_id
    view["title"] = plain(title, emoji=emoji)
    if submit:
        view["submit"] = plain(submit, emoji=emoji)
    view["close"] = plain(close, emoji=emoji)
    if notify_on_close is not None:
        view["notify_on_close"] = notify_on_close
    if private_metadata is not None:
        view["private_metadata"] = private_metadata
    view["blocks"] = blocks
    return view
