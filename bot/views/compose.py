"""Block Kit for composing: the compose modal, the modal shown when nothing is connected, and the
`/picmim drafts` list."""

from __future__ import annotations

from collections.abc import Sequence

from bot import ids
from bot.services.composing import Choice, Composition, DraftSummary, platforms_of
from bot.views.connect import esc, local_time

TEXT_MAX = 3000  # Slack's plain_text_input limit
FILETYPES = ["jpg", "jpeg", "png", "gif", "webp", "heic", "heif", "mp4", "mov", "m4v", "webm"]
MAX_FILES = 10
NOW, SCHEDULE = "now", "schedule"


def _plain(text: str) -> dict:
    return {"type": "plain_text", "text": text}


def _text_input(block_id: str, action_id: str, label: str, initial: str | None, *, optional: bool = True,
                multiline: bool = True, hint: str | None = None, placeholder: str | None = None) -> dict:
    element = {"type": "plain_text_input", "action_id": action_id, "multiline": multiline, "max_length": TEXT_MAX}
    if initial:
        element["initial_value"] = initial[:TEXT_MAX]
    if placeholder:
        element["placeholder"] = _plain(placeholder[:150])
    block = {"type": "input", "block_id": block_id, "label": _plain(label[:2000]), "optional": optional,
             "element": element}
    if hint:
        block["hint"] = _plain(hint[:2000])
    return block


def _option(choice: Choice) -> dict:
    label = f"{choice.name} (@{choice.handle})" if choice.handle and choice.handle != choice.name else choice.name
    return {"text": _plain(label[:75]), "value": str(choice.id)}


def compose_modal(offered: Sequence[Choice], composition: Composition, private_metadata: str, *,
                  editing: bool = False, attached: Sequence[str] = ()) -> dict:
    """The compose modal, prefilled with `composition` (a command's text, a message, a draft or a queued
    post being edited); `attached` names the attachments the post keeps (Slack cannot prefill a file
    input)."""
    groups = []
    for key, name in platforms_of(offered)[:100]:
        options = [_option(c) for c in offered if c.platform == key][:100]
        groups.append({"label": _plain(name[:75]), "options": options})
    chosen = [_option(c) for c in offered if c.id in composition.account_ids]
    accounts = {"type": "multi_static_select", "action_id": ids.COMPOSE_ACCOUNTS_INPUT,
                "placeholder": _plain("Choose accounts"), "option_groups": groups}
    if chosen:
        accounts["initial_options"] = chosen
    blocks = [
        _text_input(ids.COMPOSE_TEXT_BLOCK, ids.COMPOSE_TEXT_INPUT, "Text", composition.text,
                    placeholder="What do you want to say?"),
        {"type": "input", "block_id": ids.COMPOSE_MEDIA_BLOCK, "label": _plain("Photos and videos"),
         "optional": True, "element": {"type": "file_input", "action_id": ids.COMPOSE_MEDIA_INPUT,
                                       "filetypes": FILETYPES, "max_files": MAX_FILES},
         "hint": _plain(_media_hint(attached, editing))},
        {"type": "input", "block_id": ids.COMPOSE_ACCOUNTS_BLOCK, "label": _plain("Post to"),
         "element": accounts},
    ]
    for key, name in platforms_of(offered)[:10]:
        blocks.append(_text_input(f"{ids.COMPOSE_VARIANT_BLOCK}{key}", ids.COMPOSE_VARIANT_INPUT,
                                  f"Text for {name} (optional)", composition.variants.get(key),
                                  hint=f"Used instead of the text above for {name} accounts."))
    blocks.append(_text_input(ids.COMPOSE_COMMENT_BLOCK, ids.COMPOSE_COMMENT_INPUT, "First comment (optional)",
                              composition.first_comment,
                              hint="Posted as the first comment where the platform allows it."))
    blocks += video_blocks(offered, composition)
    now = {"text": _plain("Now"), "value": NOW}
    later = {"text": _plain("Schedule"), "value": SCHEDULE}
    blocks.append({"type": "input", "block_id": ids.COMPOSE_WHEN_BLOCK, "label": _plain("When"),
                   "element": {"type": "radio_buttons", "action_id": ids.COMPOSE_WHEN_INPUT,
                               "options": [now, later], "initial_option": later if composition.when else now}})
    picker = {"type": "datetimepicker", "action_id": ids.COMPOSE_AT_INPUT}
    if composition.when:
        picker["initial_date_time"] = int(composition.when.timestamp())
    blocks.append({"type": "input", "block_id": ids.COMPOSE_AT_BLOCK, "label": _plain("Publish at"),
                   "optional": True, "element": picker,
                   "hint": _plain("In your own time zone. Used when Schedule is chosen.")})
    return {"type": "modal", "callback_id": ids.COMPOSE_VIEW,
            "title": _plain("Edit post" if editing else "New post"),
            "submit": _plain("Save" if editing else "Post"), "close": _plain("Close"),
            "notify_on_close": not editing,  # a closed new post is kept as a draft; a closed edit changes nothing
            "private_metadata": private_metadata, "blocks": blocks}


OPTIMISE, TRIM = "optimise", "trim"
# TikTok's privacy levels, in its own words (the account's creator info says which it offers).
TIKTOK_PRIVACY = (("PUBLIC_TO_EVERYONE", "Everyone"), ("FOLLOWER_OF_CREATOR", "Followers"),
                  ("MUTUAL_FOLLOW_FRIENDS", "Friends"), ("SELF_ONLY", "Only me"))


def video_blocks(offered: Sequence[Choice], composition: Composition) -> list[dict]:
    """Video choices: optimise (on by default), cut what is too long (off), the cover frame; and, when a
    TikTok account is offered, TikTok's "who can see it" (TikTok has the user choose it every time)."""
    # (Slack allows 75 characters for an option's text and for its description.)
    optimise = {"text": _plain("Optimise video for each platform"), "value": OPTIMISE,
                "description": _plain("Converts a copy where a platform needs it; the original is kept.")}
    trim = {"text": _plain("Cut a video that is too long for a platform"), "value": TRIM,
            "description": _plain("To that platform's limit. Off: too long is refused, never cut.")}
    boxes = {"type": "checkboxes", "action_id": ids.COMPOSE_VIDEO_INPUT, "options": [optimise, trim]}
    ticked = ([optimise] if composition.optimise_video else []) + ([trim] if composition.trim_video else [])
    if ticked:
        boxes["initial_options"] = ticked
    cover = {"type": "number_input", "action_id": ids.COMPOSE_COVER_INPUT, "is_decimal_allowed": True,
             "min_value": "0", "placeholder": _plain("1")}
    if composition.cover_seconds is not None:
        cover["initial_value"] = f"{composition.cover_seconds:g}"
    blocks = [
        {"type": "input", "block_id": ids.COMPOSE_VIDEO_BLOCK, "label": _plain("Videos"), "optional": True,
         "element": boxes},
        {"type": "input", "block_id": ids.COMPOSE_COVER_BLOCK, "label": _plain("Video cover at (seconds)"),
         "optional": True, "element": cover,
         "hint": _plain("The frame TikTok and Instagram show before the video plays. Empty: the first second.")},
    ]
    if any(c.platform == "tiktok" for c in offered):
        options = [{"text": _plain(label), "value": value} for value, label in TIKTOK_PRIVACY]
        select = {"type": "static_select", "action_id": ids.COMPOSE_TIKTOK_PRIVACY_INPUT,
                  "placeholder": _plain("Choose who can see it"), "options": options}
        chosen = next((o for o in options if o["value"] == composition.privacy_level), None)
        if chosen:
            select["initial_option"] = chosen
        blocks.append({"type": "input", "block_id": ids.COMPOSE_TIKTOK_PRIVACY_BLOCK,
                       "label": _plain("TikTok: who can see it"), "optional": True, "element": select,
                       "hint": _plain("Needed for TikTok accounts; each account offers some of these.")})
    return blocks


def _media_hint(attached: Sequence[str], editing: bool) -> str:
    hint = ("Up to 10 files of 10 MB each. Picmim converts and resizes photos, and optimises videos, where a "
            "platform needs it.")
    if not attached:
        return ("This post has no attachments; add some here. " + hint) if editing else hint
    names = ", ".join(attached)
    kept = f"This post has {len(attached)} attachment{'s' if len(attached) > 1 else ''} ({names}): they are kept " \
           "unless you attach files here, which replace them."
    return kept[:1900]


def nothing_connected_modal() -> dict:
    return {"type": "modal", "title": _plain("New post"), "close": _plain("Close"), "blocks": [
        {"type": "section", "text": {"type": "mrkdwn", "text": (
            "No account is connected yet, so there is nowhere to post. Connect one with "
            f"`{ids.COMMAND} connect`, then come back with `{ids.COMMAND} post`. If an account stopped working, "
            f"`{ids.COMMAND} accounts` shows how to reconnect it.")}}]}


def drafts_list(drafts: Sequence[DraftSummary], tz: str | None) -> list[dict]:
    if not drafts:
        return [{"type": "section", "text": {"type": "mrkdwn", "text": (
            f"You have no drafts. Closing the `{ids.COMMAND} post` window without posting keeps one.")}}]
    blocks: list[dict] = [{"type": "header", "text": _plain("Your drafts")}]
    for draft in drafts[:45]:
        preview = draft.text if len(draft.text) <= 200 else draft.text[:199] + "…"
        where = ", ".join(draft.accounts) or "no account chosen"
        text = (f">{esc(preview) or '_(no text)_'}\n{esc(where)} · saved {local_time(draft.updated_at, tz)}")
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": text[:3000]},
                       "accessory": {"type": "button", "text": _plain("Open"), "action_id": ids.DRAFT_OPEN,
                                     "value": str(draft.id)}})
    blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": (
        "A window closed without posting keeps no attachments: attach them again when you open its draft. A "
        "post sent back from review keeps its own.")}]})
    return blocks
