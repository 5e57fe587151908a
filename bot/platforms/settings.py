"""Each network's own choices for one post — what the compose window's section for that platform holds — typed,
one class per platform. The post keeps them per target as JSON (`to_json`, `settings_from_json`); the adapter
receives them on `Draft.settings` and reads only its own class. A title and a destination link also go on the Draft
itself (`Draft.title`, `Draft.link`), where every adapter and the shared text limits read them.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, ClassVar

YOUTUBE_PRIVACY = (("public", "Public"), ("unlisted", "Unlisted"), ("private", "Private"))
YOUTUBE_DEFAULT_CATEGORY = "22"  # People & Blogs
# The categories YouTube assigns in most regions (videoCategories.list, assignable=true); ids are YouTube's own.
YOUTUBE_CATEGORIES = (
    ("1", "Film & Animation"), ("2", "Autos & Vehicles"), ("10", "Music"), ("15", "Pets & Animals"),
    ("17", "Sports"), ("19", "Travel & Events"), ("20", "Gaming"), ("22", "People & Blogs"), ("23", "Comedy"),
    ("24", "Entertainment"), ("25", "News & Politics"), ("26", "Howto & Style"), ("27", "Education"),
    ("28", "Science & Technology"), ("29", "Nonprofits & Activism"),
)
X_REPLY_SETTINGS = ((None, "Everyone"), ("following", "People you follow"),
                    ("mentionedUsers", "Only people you mention"))
LINKEDIN_VISIBILITY = (("PUBLIC", "Anyone"), ("CONNECTIONS", "Connections only"))
INSTAGRAM_MAX_COLLABORATORS = 3
# Instagram's own words for what a post becomes (a Post with several items is a carousel). Unchosen (None): the
# media decide, as before: one photo a post, one video a Reel, several a carousel.
INSTAGRAM_POST_TYPES = (("post", "Post"), ("reel", "Reel"), ("story", "Story"))
# Facebook's words for a Page's posts: a Post in the feed (text, link, photos or a video), a Reel, a Story.
FACEBOOK_POST_TYPES = (("post", "Post"), ("reel", "Reel"), ("story", "Story"))


@dataclass(frozen=True)
class YouTubeSettings:
    platforms: ClassVar[tuple[str, ...]] = ("youtube",)

    title: str = ""
    privacy: str = "public"  # public | unlisted | private (YOUTUBE_PRIVACY)
    made_for_kids: bool | None = None  # YouTube requires the declaration (status.selfDeclaredMadeForKids)
    tags: tuple[str, ...] = ()
    category_id: str = YOUTUBE_DEFAULT_CATEGORY
    playlist_id: str | None = None  # one of the channel's playlists (account settings "playlists") to add it to


@dataclass(frozen=True)
class PinterestSettings:
    platforms: ClassVar[tuple[str, ...]] = ("pinterest",)

    board_id: str | None = None  # one of the account's boards (None: its default board)
    title: str = ""
    link: str = ""  # the destination link a pin opens


@dataclass(frozen=True)
class TikTokSettings:
    platforms: ClassVar[tuple[str, ...]] = ("tiktok",)

    privacy_level: str | None = None  # one of the creator's privacy_level_options (required: no default)
    allow_comment: bool = False
    allow_duet: bool = False  # videos only
    allow_stitch: bool = False  # videos only
    your_brand: bool = False  # promotes the creator's own business (brand_organic_toggle)
    branded_content: bool = False  # a paid partnership with a third party (brand_content_toggle)
    ai_generated: bool = False  # made or significantly edited with AI (is_aigc)


@dataclass(frozen=True)
class LinkedInSettings:
    platforms: ClassVar[tuple[str, ...]] = ("linkedin",)

    visibility: str = "PUBLIC"  # PUBLIC | CONNECTIONS (members' profiles only)
    document_title: str = ""  # the title a document post (an attached PDF) is shown under


@dataclass(frozen=True)
class XSettings:
    platforms: ClassVar[tuple[str, ...]] = ("x",)

    reply_settings: str | None = None  # None: everyone can reply; following | mentionedUsers
    thread: bool = False  # a text too long for one post goes out as a thread of replies (bot/platforms/threads.py)
    numbered: bool = False  # each part of a thread ends "1/3", "2/3"…


@dataclass(frozen=True)
class BlueskySettings:
    platforms: ClassVar[tuple[str, ...]] = ("bluesky",)

    thread: bool = False  # as XSettings.thread
    numbered: bool = False


@dataclass(frozen=True)
class InstagramSettings:
    platforms: ClassVar[tuple[str, ...]] = ("instagram", "instagram-login")

    collaborators: tuple[str, ...] = ()  # up to INSTAGRAM_MAX_COLLABORATORS usernames, without "@"
    post_type: str | None = None  # post | reel | story (INSTAGRAM_POST_TYPES); None: the media decide
    share_to_feed: bool = True  # a Reel also shows in the profile's feed (REELS `share_to_feed`)


@dataclass(frozen=True)
class FacebookSettings:
    platforms: ClassVar[tuple[str, ...]] = ("facebook",)

    post_type: str | None = None  # post | reel | story (FACEBOOK_POST_TYPES); None: a post


PlatformSettings = (YouTubeSettings | PinterestSettings | TikTokSettings | LinkedInSettings | XSettings
                    | InstagramSettings | FacebookSettings | BlueskySettings)
SETTINGS_CLASSES: dict[str, type] = {key: cls for cls in (YouTubeSettings, PinterestSettings, TikTokSettings,
                                                          LinkedInSettings, XSettings, InstagramSettings,
                                                          FacebookSettings, BlueskySettings)
                                     for key in cls.platforms}


# The fields each platform's part of the compose form shows (a problem on one of them is shown beside it).
SETTING_FIELDS: dict[str, tuple[str, ...]] = {
    key: tuple(f.name for f in dataclasses.fields(cls) if f.name != "board_id")
    for key, cls in SETTINGS_CLASSES.items()}


def draft_parts(settings: PlatformSettings | None) -> dict[str, Any]:
    """What of the settings also goes on the Draft itself: a title and a destination link, where the platform has
    them (empty ones are left off)."""
    parts: dict[str, Any] = {}
    if getattr(settings, "title", ""):
        parts["title"] = settings.title
    if getattr(settings, "link", ""):
        parts["link"] = settings.link
    return parts


def settings_class(platform: str) -> type | None:
    return SETTINGS_CLASSES.get(platform)


def default_settings(platform: str) -> PlatformSettings | None:
    cls = SETTINGS_CLASSES.get(platform)
    return cls() if cls else None


def to_json(settings: PlatformSettings | None) -> dict[str, Any] | None:
    if settings is None:
        return None
    return {f.name: list(v) if isinstance(v := getattr(settings, f.name), tuple) else v
            for f in dataclasses.fields(settings)}


def settings_from_json(platform: str, data: Any) -> PlatformSettings | None:
    """The platform's settings from what was stored; unknown keys and values of the wrong type are left at their
    defaults (a row written by an older version still reads)."""
    cls = SETTINGS_CLASSES.get(platform)
    if cls is None:
        return None
    if not isinstance(data, dict):
        return cls()
    defaults = cls()
    found: dict[str, Any] = {}
    for f in dataclasses.fields(cls):
        if f.name not in data:
            continue
        value, default = data[f.name], getattr(defaults, f.name)
        if isinstance(default, tuple):
            if isinstance(value, list) and all(isinstance(v, str) for v in value):
                found[f.name] = tuple(value)
        elif isinstance(default, bool):
            if isinstance(value, bool):
                found[f.name] = value
        elif isinstance(default, str):
            if isinstance(value, str):
                found[f.name] = value
        elif value is None or isinstance(value, str | bool):  # optional fields: board, privacy, made for kids
            found[f.name] = value
    return cls(**found)
