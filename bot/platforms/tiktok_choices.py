"""A TikTok post's own choices (`TikTokSettings`, or the options of a draft from before them) and the
words TikTok mandates for its commercial content disclosure, which the compose window shows.

Wording: TikTok's Content Sharing Guidelines, "Required UX implementation in your app", points 3a (content
disclosure: the toggle, "Your brand", "Branded content", the label each gives, the prompt when neither is
chosen), 3b (branded content cannot be private) and 4 (the declaration before posting)
(developers.tiktok.com/doc/content-sharing-guidelines); TikTok's audit refusals quote these sentences.
"""

from __future__ import annotations

import dataclasses

from bot.platforms.base import Draft
from bot.platforms.settings import TikTokSettings

TIKTOK_BRAND_LABELS = {
    "disclose": "Disclose video content",
    "disclose_help": "Turn on to disclose that this video promotes goods or services in exchange for something of "
                     "value. Your video could promote yourself, a third party, or both.",
    "your_brand": "Your brand",
    "your_brand_help": "You are promoting yourself or your own business. This content will be classified as Brand "
                       "Organic.",
    "branded_content": "Branded content",
    "branded_content_help": "You are promoting another brand or a third party. This content will be classified as "
                            "Branded Content.",
    "promotional": "Your photo/video will be labeled as 'Promotional content'",  # your brand only
    "paid_partnership": "Your photo/video will be labeled as 'Paid partnership'",  # branded content (or both)
    "choose_one": "You need to indicate if your content promotes yourself, a third party, or both.",
    "not_private": "Branded content visibility cannot be set to private.",
    "consent": "By posting, you agree to TikTok's Music Usage Confirmation.",
    "consent_branded": "By posting, you agree to TikTok's Branded Content Policy and Music Usage Confirmation.",
    "ai_generated": "AI-generated content",  # TikTok's label for is_aigc (no mandated wording)
}
# What the declaration links to (its two policy names).
TIKTOK_POLICY_LINKS = {
    "Music Usage Confirmation": "https://www.tiktok.com/legal/page/global/music-usage-confirmation/en",
    "Branded Content Policy": "https://www.tiktok.com/legal/page/global/bc-policy/en",
}


def disclosure_label(your_brand: bool, branded_content: bool) -> str | None:
    """The label TikTok will put on the post: 'Paid partnership' wins over 'Promotional content'."""
    if branded_content:
        return TIKTOK_BRAND_LABELS["paid_partnership"]
    return TIKTOK_BRAND_LABELS["promotional"] if your_brand else None


def tiktok_choices(draft: Draft) -> TikTokSettings:
    """The post's TikTok settings; a draft from before them has its choices in `options` (privacy_level
    also while the compose window still puts it there)."""
    options = draft.options
    if isinstance(draft.settings, TikTokSettings):
        chosen = draft.settings
        return chosen if chosen.privacy_level else dataclasses.replace(
            chosen, privacy_level=options.get("privacy_level") or None)
    return TikTokSettings(
        privacy_level=options.get("privacy_level") or None, allow_comment=bool(options.get("allow_comment")),
        allow_duet=bool(options.get("allow_duet")), allow_stitch=bool(options.get("allow_stitch")),
        your_brand=bool(options.get("brand_organic_toggle")), branded_content=bool(options.get("brand_content_toggle")),
        ai_generated=bool(options.get("is_aigc")))


# TikTok's sentence, then the fix.
BRANDED_PRIVATE = TIKTOK_BRAND_LABELS["not_private"] + " Choose who else can see it, or untick Branded content."
