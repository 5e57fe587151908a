"""One line saying what a network's own settings will make of a post — "“Our new roast” · Unlisted · Not made for
kids" — for the review card and the post's status message, so an approver sees what each network gets."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot.platforms.settings import (
    FACEBOOK_POST_TYPES,
    INSTAGRAM_POST_TYPES,
    LINKEDIN_VISIBILITY,
    X_REPLY_SETTINGS,
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
)
from bot.platforms.tiktok_choices import disclosure_label
from bot.views.blocks import esc

TIKTOK_AUDIENCE = {"PUBLIC_TO_EVERYONE": "Everyone", "FOLLOWER_OF_CREATOR": "Followers",
                   "MUTUAL_FOLLOW_FRIENDS": "Friends", "SELF_ONLY": "Only me"}


def settings_line(settings: PlatformSettings | None, account_settings: Mapping[str, Any] | None = None) -> str | None:
    """The settings in words (mrkdwn, escaped), or None when there is nothing beyond the defaults to say."""
    parts: list[str] = []
    if isinstance(settings, YouTubeSettings):
        parts += [f"“{esc(settings.title)}”" if settings.title else "no title yet",
                  dict(YOUTUBE_PRIVACY).get(settings.privacy, settings.privacy),
                  {True: "made for kids", False: "not made for kids"}.get(settings.made_for_kids,
                                                                          "made for kids: not said yet"),
                  dict(YOUTUBE_CATEGORIES).get(settings.category_id, settings.category_id)]
        if settings.tags:
            parts.append("tags: " + esc(", ".join(settings.tags)))
        if settings.playlist_id:
            playlists = {str(p.get("id")): p.get("title") for p in (account_settings or {}).get("playlists") or []
                         if isinstance(p, dict)}
            parts.append(f"added to playlist {esc(str(playlists.get(settings.playlist_id) or settings.playlist_id))}")
    elif isinstance(settings, PinterestSettings):
        boards = {str(b.get("id")): b.get("name") for b in (account_settings or {}).get("boards") or []
                  if isinstance(b, dict)}
        board = settings.board_id or (account_settings or {}).get("default_board_id")
        parts.append(f"board {esc(str(boards.get(str(board)) or board))}" if board else "no board")
        if settings.title:
            parts.append(f"“{esc(settings.title)}”")
        if settings.link:
            parts.append(f"links to {esc(settings.link)}")
    elif isinstance(settings, TikTokSettings):
        parts.append("seen by " + TIKTOK_AUDIENCE.get(settings.privacy_level or "", "nobody chosen yet").lower())
        allowed = [name for name, on in (("comments", settings.allow_comment), ("duets", settings.allow_duet),
                                         ("stitches", settings.allow_stitch)) if on]
        parts.append("allows " + ", ".join(allowed) if allowed else "no comments, duets or stitches")
        label = disclosure_label(settings.your_brand, settings.branded_content)
        if label:
            parts.append(esc(label.split("'")[1] if "'" in label else label))
        if settings.ai_generated:
            parts.append("AI-generated")
    elif isinstance(settings, LinkedInSettings):
        if settings.document_title:
            parts.append(f"document “{esc(settings.document_title)}”")
        if settings.visibility != "PUBLIC":
            parts.append(dict(LINKEDIN_VISIBILITY).get(settings.visibility, settings.visibility))
    elif isinstance(settings, XSettings) and (settings.reply_settings or settings.thread):
        if settings.thread:
            parts.append("as a numbered thread" if settings.numbered else "as a thread")
        if settings.reply_settings:
            parts.append("replies: " + dict(X_REPLY_SETTINGS).get(settings.reply_settings, "").lower())
    elif isinstance(settings, BlueskySettings) and settings.thread:
        parts.append("as a numbered thread" if settings.numbered else "as a thread")
    elif isinstance(settings, InstagramSettings):
        if settings.post_type == "reel":
            parts.append("Reel" + ("" if settings.share_to_feed else ", not shared to the feed"))
        elif settings.post_type == "story":
            parts.append("Story (no caption: Stories show the picture or video only)")
        elif settings.post_type:
            parts.append(dict(INSTAGRAM_POST_TYPES)[settings.post_type])
        if settings.collaborators:
            parts.append("with " + esc(", ".join(f"@{name}" for name in settings.collaborators)))
    elif isinstance(settings, FacebookSettings) and settings.post_type in ("reel", "story"):
        parts.append(dict(FACEBOOK_POST_TYPES)[settings.post_type]
                     + (" (no text: Stories show the picture or video only)" if settings.post_type == "story" else ""))
    return " · ".join(p for p in parts if p) or None
