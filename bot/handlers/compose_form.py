"""The compose modal's form: what a person typed and chose, read into a `Composition` (each network's own part
into its typed settings), and the problems a service found, put back beside the fields at fault.

Every value may be missing or malformed in a forged payload: anything that does not read is left at its default.
"""

from __future__ import annotations

import math
import re

from bot import ids
from bot.handlers import forms
from bot.payloads import whole_id
from bot.platforms.settings import (
    FACEBOOK_POST_TYPES,
    INSTAGRAM_MAX_COLLABORATORS,
    INSTAGRAM_POST_TYPES,
    YOUTUBE_CATEGORIES,
    YOUTUBE_PRIVACY,
    BlueskySettings,
    FacebookSettings,
    InstagramSettings,
    LinkedInSettings,
    PinterestSettings,
    PlatformSettings,
    TikTokSettings,
    XSettings,
    YouTubeSettings,
    settings_class,
)
from bot.services import composing, series
from bot.services.composing import Composition
from bot.views import compose as views
from bot.views import compose_when

ERROR_MAX = 1000  # characters per inline error: Slack shows a few lines under the input


def read(view: dict) -> tuple[Composition, list[dict], bool]:
    """The composition, the submitted files, and whether Schedule was chosen without a time."""
    values = forms.values_of(view)
    selected = forms.options(values, ids.COMPOSE_ACCOUNTS_BLOCK, ids.COMPOSE_ACCOUNTS_INPUT)
    account_ids = list(dict.fromkeys(i for i in map(whole_id, selected) if i is not None))
    variants = {}
    for block_id in values:
        if block_id.startswith(ids.COMPOSE_VARIANT_BLOCK):
            value = forms.text(values, block_id, ids.COMPOSE_VARIANT_INPUT).strip()
            if value:
                variants[block_id.removeprefix(ids.COMPOSE_VARIANT_BLOCK)] = value
    comment = forms.text(values, ids.COMPOSE_COMMENT_BLOCK, ids.COMPOSE_COMMENT_INPUT).strip()
    chosen_when = forms.option(values, ids.COMPOSE_WHEN_BLOCK, ids.COMPOSE_WHEN_INPUT)
    quick = compose_when.quick_time(chosen_when)  # a quick choice (a best time, the next free slot): its time
    schedule = chosen_when == views.SCHEDULE or quick is not None
    # A time that is not one (text, out of range) reads as none: "Pick the date and time" shows on the picker.
    when = quick or (forms.moment(forms.field(values, ids.COMPOSE_AT_BLOCK, ids.COMPOSE_AT_INPUT)) if schedule
                     else None)
    files = forms.field(values, ids.COMPOSE_MEDIA_BLOCK, ids.COMPOSE_MEDIA_INPUT).get("files")
    files = [f for f in files if isinstance(f, dict)] if isinstance(files, list) else []
    composition = Composition(text=forms.text(values, ids.COMPOSE_TEXT_BLOCK, ids.COMPOSE_TEXT_INPUT),
                              account_ids=account_ids, variants=variants, first_comment=comment or None, when=when,
                              schedule=schedule)
    _read_video_choices(values, composition)
    composition.settings = _read_settings(values)
    composition.boards = _read_boards(values)
    composition.alt_texts = _read_alt_texts(values)
    return composition, files, schedule and when is None


def _read_video_choices(values: dict, composition: Composition) -> None:
    """Optimise / cut and the cover time; anything malformed is the default."""
    boxes = forms.field(values, ids.COMPOSE_VIDEO_BLOCK, ids.COMPOSE_VIDEO_INPUT)
    if isinstance(boxes.get("selected_options"), list):  # absent: a modal without the boxes, so the defaults
        ticked = set(forms.options(values, ids.COMPOSE_VIDEO_BLOCK, ids.COMPOSE_VIDEO_INPUT))
        composition.optimise_video, composition.trim_video = views.OPTIMISE in ticked, views.TRIM in ticked
    cover = forms.field(values, ids.COMPOSE_COVER_BLOCK, ids.COMPOSE_COVER_INPUT).get("value")
    try:
        seconds = float(cover) if cover not in (None, "") else None
    except (TypeError, ValueError):
        seconds = None
    if seconds is not None and math.isfinite(seconds) and 0 <= seconds <= 24 * 3600:
        composition.cover_seconds = seconds


def _raw_settings(values: dict) -> dict[str, dict[str, str | list[str] | None]]:
    """platform -> field -> what its input holds (text, the chosen option's value, or the ticked values)."""
    found: dict[str, dict] = {}
    for block_id in values:
        if not block_id.startswith(ids.COMPOSE_SETTING_BLOCK):
            continue
        platform, _, name = block_id.removeprefix(ids.COMPOSE_SETTING_BLOCK).partition(":")
        state = forms.field(values, block_id, ids.COMPOSE_SETTING_INPUT)
        if isinstance(state.get("selected_options"), list):
            value = forms.options(values, block_id, ids.COMPOSE_SETTING_INPUT)
        elif "selected_option" in state:
            value = forms.option(values, block_id, ids.COMPOSE_SETTING_INPUT)
        else:
            value = forms.text(values, block_id, ids.COMPOSE_SETTING_INPUT) if isinstance(state.get("value"), str) \
                else None
        found.setdefault(platform, {})[name] = value
    return found


def _words(text: str | None, limit: int | None = None) -> tuple[str, ...]:
    found = tuple(dict.fromkeys(w.strip() for w in re.split(r"[,\n]", text or "") if w.strip()))
    return found[:limit] if limit else found


def _read_settings(values: dict) -> dict[str, PlatformSettings]:
    raw = _raw_settings(values)
    tiktok_privacy = forms.option(values, ids.COMPOSE_TIKTOK_PRIVACY_BLOCK, ids.COMPOSE_TIKTOK_PRIVACY_INPUT)
    if tiktok_privacy is not None:
        raw.setdefault("tiktok", {})
    found: dict[str, PlatformSettings] = {}
    for platform, fields in raw.items():
        cls = settings_class(platform)
        text = {k: v for k, v in fields.items() if isinstance(v, str)}
        ticked = {k: set(v) for k, v in fields.items() if isinstance(v, list)}
        if cls is YouTubeSettings:
            kids = fields.get("made_for_kids")
            found[platform] = YouTubeSettings(
                title=(text.get("title") or "").strip(),
                privacy=text.get("privacy") if text.get("privacy") in dict(YOUTUBE_PRIVACY) else "public",
                made_for_kids=True if kids == "yes" else False if kids == "no" else None,
                tags=_words(text.get("tags")),
                category_id=text.get("category_id") if text.get("category_id") in dict(YOUTUBE_CATEGORIES)
                else YouTubeSettings().category_id,
                playlist_id=text.get("playlist_id") if text.get("playlist_id") not in (None, "", views.EVERYONE)
                else None)
        elif cls is PinterestSettings:
            found[platform] = PinterestSettings(title=(text.get("title") or "").strip(),
                                                link=(text.get("link") or "").strip())
        elif cls is TikTokSettings:
            allow, disclosure = ticked.get("allow", set()), ticked.get("disclosure", set())
            found[platform] = TikTokSettings(
                privacy_level=tiktok_privacy if tiktok_privacy in dict(views.TIKTOK_PRIVACY) else None,
                allow_comment="comment" in allow, allow_duet="duet" in allow, allow_stitch="stitch" in allow,
                your_brand="your_brand" in disclosure, branded_content="branded_content" in disclosure,
                ai_generated="yes" in ticked.get("ai_generated", set()))
        elif cls is LinkedInSettings:
            found[platform] = LinkedInSettings(visibility="CONNECTIONS" if text.get("visibility") == "CONNECTIONS"
                                               else "PUBLIC",
                                               document_title=(text.get("document_title") or "").strip())
        elif cls is XSettings:
            reply = text.get("reply_settings")
            thread = ticked.get("thread", set())
            found[platform] = XSettings(reply_settings=reply if reply in ("following", "mentionedUsers") else None,
                                        thread="thread" in thread, numbered="numbered" in thread)
        elif cls is BlueskySettings:
            thread = ticked.get("thread", set())
            found[platform] = BlueskySettings(thread="thread" in thread, numbered="numbered" in thread)
        elif cls is InstagramSettings:
            names = tuple(w.lstrip("@") for w in _words(text.get("collaborators")))
            kind = text.get("post_type")
            found[platform] = InstagramSettings(
                collaborators=names[:INSTAGRAM_MAX_COLLABORATORS + 1],
                post_type=kind if kind in dict(INSTAGRAM_POST_TYPES) else None,
                # absent (a window without the box): on, Instagram's own default
                share_to_feed="yes" in ticked["share_to_feed"] if "share_to_feed" in ticked else True)
        elif cls is FacebookSettings:
            kind = text.get("post_type")
            found[platform] = FacebookSettings(post_type=kind if kind in dict(FACEBOOK_POST_TYPES) else None)
    return found


def _read_boards(values: dict) -> dict[int, str]:
    found = {}
    for block_id in values:
        account = whole_id(block_id.removeprefix(ids.COMPOSE_BOARD_BLOCK))
        board = forms.option(values, block_id, ids.COMPOSE_BOARD_INPUT)
        if block_id.startswith(ids.COMPOSE_BOARD_BLOCK) and account is not None and board:
            found[account] = board
    return found


def _read_alt_texts(values: dict) -> list[str]:
    """Alt text per attachment position ("" where there is none)."""
    found: dict[int, str] = {}
    for block_id in values:
        position = whole_id(block_id.removeprefix(ids.COMPOSE_ALT_BLOCK))
        if block_id.startswith(ids.COMPOSE_ALT_BLOCK) and position is not None and position < views.MAX_FILES:
            found[position] = forms.text(values, block_id, ids.COMPOSE_ALT_INPUT).strip()
    return [found.get(n, "") for n in range(max(found) + 1)] if found else []


def block_errors(problems: dict[str, list[str]], shown: set[str] | None = None) -> dict[str, str]:
    """Problems keyed by form part, as Slack's inline errors keyed by block. A part the modal does not show
    (`shown`: its block ids) has its problem said beside the accounts instead, so none is lost."""
    blocks = {composing.TEXT: ids.COMPOSE_TEXT_BLOCK, composing.MEDIA: ids.COMPOSE_MEDIA_BLOCK,
              composing.FIRST_COMMENT: ids.COMPOSE_COMMENT_BLOCK, composing.ACCOUNTS: ids.COMPOSE_ACCOUNTS_BLOCK,
              composing.WHEN: ids.COMPOSE_AT_BLOCK, composing.COVER: ids.COMPOSE_COVER_BLOCK,
              series.REPEAT: ids.COMPOSE_REPEAT_BLOCK, series.REPEAT_DAYS: ids.COMPOSE_REPEAT_DAYS_BLOCK,
              series.REPEAT_END: ids.COMPOSE_REPEAT_TIMES_BLOCK}
    errors: dict[str, list[str]] = {}
    for key, messages in problems.items():
        block_id = blocks.get(key) or _block_of(key)
        if shown is not None and block_id not in shown:
            block_id = ids.COMPOSE_ACCOUNTS_BLOCK
        errors.setdefault(block_id, []).extend(messages)
    return {block_id: _joined(messages) for block_id, messages in errors.items()}


def _block_of(key: str) -> str:
    kind, _, rest = key.partition(":")
    if kind == "setting":
        platform, _, name = rest.partition(":")
        if platform == "tiktok" and name == "privacy_level":
            return ids.COMPOSE_TIKTOK_PRIVACY_BLOCK
        if platform == "tiktok" and name in ("allow_comment", "allow_duet", "allow_stitch"):
            name = "allow"
        if platform == "tiktok" and name in ("your_brand", "branded_content"):
            name = "disclosure"
        if platform in ("x", "bluesky") and name == "numbered":
            name = "thread"
        return f"{ids.COMPOSE_SETTING_BLOCK}{platform}:{name}"
    if kind == "board":
        return f"{ids.COMPOSE_BOARD_BLOCK}{rest}"
    if kind == "alt":
        return f"{ids.COMPOSE_ALT_BLOCK}{rest}"
    return ids.COMPOSE_VARIANT_BLOCK + key.removeprefix("variant:")


def _joined(messages: list[str]) -> str:
    joined = " ".join(dict.fromkeys(messages))
    return joined if len(joined) <= ERROR_MAX else joined[:ERROR_MAX - 1] + "…"
