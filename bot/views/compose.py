"""Block Kit for composing: the compose modal, the modal shown when nothing is connected, and the
`/picmim drafts` list."""

from __future__ import annotations

from collections.abc import Sequence

from bot import ids
from bot.services.composing import Choice, Composition, DraftSummary, platforms_of
from bot.views.blocks import (
    button,
    choices,
    context,
    esc,
    header,
    input_block,
    local_time,
    modal,
    option,
    plain,
    section,
)

TEXT_MAX = 3000  # Slack's plain_text_input limit
FILETYPES = ["jpg", "jpeg", "png", "gif", "webp", "heic", "heif", "mp4", "mov", "m4v", "webm"]
MAX_FILES = 10
NOW, SCHEDULE = "now", "schedule"


def _text_input(block_id: str, action_id: str, label: str, initial: str | None, *, optional: bool = True,
                multiline: bool = True, hint: str | None = None, placeholder: str | None = None) -> dict:
    element = {"type": "plain_text_input", "action_id": action_id, "multiline": multiline, "max_length": TEXT_MAX}
    if initial:
        element["initial_value"] = initial[:TEXT_MAX]
    if placeholder:
        element["placeholder"] = plain(placeholder[:150])
    return input_block(block_id, label, element, optional=optional, hint=hint)


def _option(choice: Choice) -> dict:
    label = f"{choice.name} (@{choice.handle})" if choice.handle and choice.handle != choice.name else choice.name
    return option(label, str(choice.id))


def compose_modal(offered: Sequence[Choice], composition: Composition, private_metadata: str, *,
                  editing: bool = False, attached: Sequence[str] = ()) -> dict:
    """The compose modal, prefilled with `composition` (a command's text, a message, a draft or a queued
    post being edited); `attached` names the attachments the post keeps (Slack cannot prefill a file
    input)."""
    groups = []
    for key, name in platforms_of(offered)[:100]:
        options = [_option(c) for c in offered if c.platform == key][:100]
        groups.append({"label": plain(name[:75]), "options": options})
    chosen = [_option(c) for c in offered if c.id in composition.account_ids]
    accounts = {"type": "multi_static_select", "action_id": ids.COMPOSE_ACCOUNTS_INPUT,
                "placeholder": plain("Choose accounts"), "option_groups": groups}
    if chosen:
        accounts["initial_options"] = chosen
    blocks = [
        _text_input(ids.COMPOSE_TEXT_BLOCK, ids.COMPOSE_TEXT_INPUT, "Text", composition.text,
                    placeholder="What do you want to say?"),
        input_block(ids.COMPOSE_MEDIA_BLOCK, "Photos and videos",
                    {"type": "file_input", "action_id": ids.COMPOSE_MEDIA_INPUT, "filetypes": FILETYPES,
                     "max_files": MAX_FILES},
                    optional=True, hint=_media_hint(attached, editing)),
        input_block(ids.COMPOSE_ACCOUNTS_BLOCK, "Post to", accounts),
    ]
    for key, name in platforms_of(offered)[:10]:
        blocks.append(_text_input(f"{ids.COMPOSE_VARIANT_BLOCK}{key}", ids.COMPOSE_VARIANT_INPUT,
                                  f"Text for {name} (optional)", composition.variants.get(key),
                                  hint=f"Used instead of the text above for {name} accounts."))
    blocks.append(_text_input(ids.COMPOSE_COMMENT_BLOCK, ids.COMPOSE_COMMENT_INPUT, "First comment (optional)",
                              composition.first_comment,
                              hint="Posted as the first comment where the platform allows it."))
    blocks += video_blocks(offered, composition)
    now, later = option("Now", NOW), option("Schedule", SCHEDULE)
    blocks.append(input_block(ids.COMPOSE_WHEN_BLOCK, "When", choices(
        "radio_buttons", ids.COMPOSE_WHEN_INPUT, [now, later], initial=later if composition.when else now)))
    picker = {"type": "datetimepicker", "action_id": ids.COMPOSE_AT_INPUT}
    if composition.when:
        picker["initial_date_time"] = int(composition.when.timestamp())
    blocks.append(input_block(ids.COMPOSE_AT_BLOCK, "Publish at", picker, optional=True,
                              hint="In your own time zone. Used when Schedule is chosen."))
    return modal("Edit post" if editing else "New post", blocks, callback_id=ids.COMPOSE_VIEW,
                 submit="Save" if editing else "Post", close="Close",
                 notify_on_close=not editing,  # a closed new post is kept as a draft; a closed edit changes nothing
                 private_metadata=private_metadata)


OPTIMISE, TRIM = "optimise", "trim"
# TikTok's privacy levels, in its own words (the account's creator info says which it offers).
TIKTOK_PRIVACY = (("PUBLIC_TO_EVERYONE", "Everyone"), ("FOLLOWER_OF_CREATOR", "Followers"),
                  ("MUTUAL_FOLLOW_FRIENDS", "Friends"), ("SELF_ONLY", "Only me"))


def video_blocks(offered: Sequence[Choice], composition: Composition) -> list[dict]:
    """Video choices: optimise (on by default), cut what is too long (off), the cover frame; and, when a
    TikTok account is offered, TikTok's "who can see it" (TikTok has the user choose it every time)."""
    # (Slack allows 75 characters for an option's text and for its description.)
    optimise = {"text": plain("Optimise video for each platform"), "value": OPTIMISE,
                "description": plain("Converts a copy where a platform needs it; the original is kept.")}
    trim = {"text": plain("Cut a video that is too long for a platform"), "value": TRIM,
            "description": plain("To that platform's limit. Off: too long is refused, never cut.")}
    ticked = ([optimise] if composition.optimise_video else []) + ([trim] if composition.trim_video else [])
    boxes = choices("checkboxes", ids.COMPOSE_VIDEO_INPUT, [optimise, trim], initial=ticked)
    cover = {"type": "number_input", "action_id": ids.COMPOSE_COVER_INPUT, "is_decimal_allowed": True,
             "min_value": "0", "placeholder": plain("1")}
    if composition.cover_seconds is not None:
        cover["initial_value"] = f"{composition.cover_seconds:g}"
    blocks = [
        input_block(ids.COMPOSE_VIDEO_BLOCK, "Videos", boxes, optional=True),
        input_block(ids.COMPOSE_COVER_BLOCK, "Video cover at (seconds)", cover, optional=True,
                    hint="The frame TikTok and Instagram show before the video plays. Empty: the first second."),
    ]
    if any(c.platform == "tiktok" for c in offered):
        options = [option(label, value) for value, label in TIKTOK_PRIVACY]
        chosen = next((o for o in options if o["value"] == composition.privacy_level), None)
        select = choices("static_select", ids.COMPOSE_TIKTOK_PRIVACY_INPUT, options,
                         placeholder="Choose who can see it", initial=chosen)
        blocks.append(input_block(ids.COMPOSE_TIKTOK_PRIVACY_BLOCK, "TikTok: who can see it", select, optional=True,
                                  hint="Needed for TikTok accounts; each account offers some of these."))
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
    return modal("New post", [section(
        "No account is connected yet, so there is nowhere to post. Connect one with "
        f"`{ids.COMMAND} connect`, then come back with `{ids.COMMAND} post`. If an account stopped working, "
        f"`{ids.COMMAND} accounts` shows how to reconnect it.")], close="Close")


def drafts_list(drafts: Sequence[DraftSummary], tz: str | None) -> list[dict]:
    if not drafts:
        return [section(f"You have no drafts. Closing the `{ids.COMMAND} post` window without posting keeps one.")]
    blocks: list[dict] = [header("Your drafts")]
    for draft in drafts[:45]:
        preview = draft.text if len(draft.text) <= 200 else draft.text[:199] + "…"
        where = ", ".join(draft.accounts) or "no account chosen"
        text = (f">{esc(preview) or '_(no text)_'}\n{esc(where)} · saved {local_time(draft.updated_at, tz)}")
        blocks.append(section(text, button("Open", ids.DRAFT_OPEN, str(draft.id))))
    blocks.append(context("A window closed without posting keeps no attachments: attach them again when you open its "
                          "draft. A post sent back from review keeps its own."))
    return blocks
