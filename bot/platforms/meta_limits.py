"""Meta's limits as data: what Instagram and Facebook accept in text, photos, videos and carousels.

Read by validation, by the publishing flows and by the words of Meta's refusals in `meta_graph`.

Facts come from /work/shared/platforms/meta.md; values it marks UNCERTAIN are kept once, here, and
flagged where they are defined.
"""

from __future__ import annotations

from bot.platforms.base import PHONE_PHOTOS, Limits, MediaLimits, TextLimit

INSTAGRAM_IMAGE = MediaLimits(
    kind="image",
    mimetypes=("image/jpeg",),
    # Meta's error says "less than 8 MiB"; 8,000,000 bytes stays under it and reads as "8.0 MB".
    max_bytes=8_000_000,
    min_width=320,
    max_width=1440,  # Meta scales wider photos down, so this is not a refusal
    min_aspect=4 / 5,
    max_aspect=1.91,
    aspect_labels=("4:5", "1.91:1"),
    scalable=True,
    convertible_from=("image/png", "image/webp", *PHONE_PHOTOS),
)
INSTAGRAM_VIDEO = MediaLimits(
    kind="video",
    mimetypes=("video/mp4", "video/quicktime"),
    max_bytes=1_000_000_000,  # UNCERTAIN (meta.md A: Reels ≤ 1 GB per third-party copies of Meta's spec)
    min_duration=3.0,  # UNCERTAIN with the two below: Reels 3 s – 15 min, 23–60 fps (same sources)
    max_duration=15 * 60.0,
    min_fps=23.0,
    max_fps=60.0,
    # UNCERTAIN, the same copies of Meta's Reels spec: moov atom at the front, H.264 or HEVC, AAC sound,
    # at most 1920 px wide.
    max_width=1920,
    video_codecs=("h264", "hevc"),
    audio_codecs=("aac",),
    faststart=True,
    upright=True,  # not in the spec: phone videos turned by metadata are reported shown sideways
    scalable=True,
)
IG_CAPTION_MAX = 2200
IG_CAROUSEL_MAX = 10  # UNCERTAIN (meta.md A): the apps allow 20 since 2024; the API sources say 10

INSTAGRAM_LIMITS = Limits(
    texts=(
        TextLimit("text", "caption", IG_CAPTION_MAX),
        # Not in meta.md: comments are assumed to share the caption's limit.
        TextLimit("first_comment", "first comment", IG_CAPTION_MAX),
    ),
    image=INSTAGRAM_IMAGE,
    video=INSTAGRAM_VIDEO,
    max_images=IG_CAROUSEL_MAX,
    max_videos=IG_CAROUSEL_MAX,
    max_items=IG_CAROUSEL_MAX,
    min_items_if_several=2,
    mixed_media=True,
    requires_media=True,
    max_hashtags=30,
    max_mentions=20,
    media_by_url=True,
    first_comment=True,
)

FACEBOOK_IMAGE = MediaLimits(
    kind="image",
    mimetypes=("image/jpeg", "image/png"),
    max_bytes=4_000_000,  # error 1366046: "larger than 4 MB or not JPG/PNG"
    scalable=True,
    convertible_from=("image/webp", *PHONE_PHOTOS),
)
FACEBOOK_VIDEO = MediaLimits(kind="video", mimetypes=("video/mp4", "video/quicktime"))
FACEBOOK_LIMITS = Limits(
    texts=(TextLimit("text", "message", 63206),),
    image=FACEBOOK_IMAGE,
    video=FACEBOOK_VIDEO,
    max_images=10,  # not in meta.md: a conservative bound for one multi-photo post
    max_videos=1,
    mixed_media=False,
    media_by_url=True,
    first_comment=False,  # commenting as the Page would need one more permission (pages_manage_engagement)
)

# ---- post types (issue 18): what a Reel or a Story takes beyond the feed's limits ----------------------------

# Instagram Stories (ig-user/media, media_type=STORIES): one photo or one video, no caption ("caption: not supported
# for stories"); videos 3–60 s. Reels (media_type=REELS): one video, 3 s – 15 min (INSTAGRAM_VIDEO above).
IG_STORY_MIN_SECONDS, IG_STORY_MAX_SECONDS = 3.0, 60.0
# Facebook Reels (Video API "Reels Publishing API", updated 2026-07-30): .mp4, 9:16, at least 540 × 960 px, 24–60
# fps, 3–90 s; 30 API-published Reels per Page per 24 h (enforced on POST /{page}/video_reels).
FB_REEL_MIN_SECONDS, FB_REEL_MAX_SECONDS = 3.0, 90.0
FB_REEL_MIN_WIDTH, FB_REEL_MIN_HEIGHT = 540, 960
FB_REEL_MIN_FPS, FB_REEL_MAX_FPS = 24.0, 60.0  # the same for Page video Stories
FB_REELS_PER_DAY = 30
# Facebook Page Stories ("Facebook Stories API"): one photo (≤ 4 MB) or one video of 3–60 s ("video stories can
# not exceed 60 seconds"), 9:16 recommended.
FB_STORY_MIN_SECONDS, FB_STORY_MAX_SECONDS = 3.0, 60.0
