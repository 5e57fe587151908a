"""The metric catalogue: what each platform calls its figures, and the platforms' names and order.

Per kind of account: the headline figures a report shows (followers first), a post's figures, and
those that together are its engagement. Data only, read by the metric sync and the reports; it imports
the platform modules' windows, never the other way round.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from bot.platforms import registry
from bot.platforms.instagram_publishing import METRICS_WINDOW as META_WINDOW
from bot.platforms.linkedin import FOLLOWER_GAIN_DAYS
from bot.platforms.meta_graph import METRIC_ALTERNATES as META_METRIC_ALTERNATES
from bot.platforms.pinterest import ANALYTICS_DAYS as PINTEREST_DAYS
from bot.platforms.youtube import ANALYTICS_DAYS as YOUTUBE_DAYS


@dataclass(frozen=True)
class Figure:
    """One figure as a platform names it. `metric` is the name in its API (None: the platform gives no
    such figure to this kind of account); `label` is what it calls it for people."""

    metric: str | None
    label: str
    window: str | None = None  # the rolling window the platform computes it over ("28 days")
    rate: bool = False  # a ratio: 0.05 is shown as 5%
    aliases: tuple[str, ...] = ()  # other names the platform has used for it

    def pick(self, values: Mapping[str, float]) -> float | None:
        for name in (self.metric, *self.aliases):
            if name is not None and name in values:
                return values[name]
        return None


@dataclass(frozen=True)
class Catalogue:
    """What a report shows for one kind of account: its headline figures (followers first), a post's
    figures, and the post figures that together are its engagement (charted per account)."""

    account: tuple[Figure, ...]
    post: tuple[Figure, ...]
    interactions: tuple[str, ...]

    @property
    def followers(self) -> Figure:
        return self.account[0]


def _days(n: int) -> str:
    return f"{n} days"


_META_DAYS = _days(META_WINDOW.days)
_VIEWERS = META_METRIC_ALTERNATES["reach"]  # Meta's newer name for reach: either is Picmim's "Reach"
_INSTAGRAM = Catalogue(
    account=(Figure("followers_count", "Followers"), Figure("views", "Views", _META_DAYS),
             Figure("reach", "Reach", _META_DAYS, aliases=_VIEWERS),
             Figure("accounts_engaged", "Accounts engaged", _META_DAYS),
             Figure("total_interactions", "Interactions", _META_DAYS), Figure("media_count", "Posts")),
    post=(Figure("views", "Views"), Figure("reach", "Reach", aliases=_VIEWERS), Figure("like_count", "Likes"),
          Figure("comments_count", "Comments"), Figure("shares", "Shares"), Figure("saved", "Saves"),
          Figure("total_interactions", "Interactions")),
    interactions=("like_count", "comments_count", "shares", "saved"))
_LINKEDIN_PAGE_POST = (
    Figure("impressionCount", "Impressions"), Figure("uniqueImpressionsCount", "Unique impressions"),
    Figure("clickCount", "Clicks"), Figure("likeCount", "Reactions"), Figure("commentCount", "Comments"),
    Figure("shareCount", "Reposts"), Figure("engagement", "Engagement rate", rate=True))
_LINKEDIN_MEMBER_POST = (Figure("IMPRESSION", "Impressions"), Figure("MEMBERS_REACHED", "Members reached"),
                         Figure("REACTION", "Reactions"), Figure("COMMENT", "Comments"),
                         Figure("RESHARE", "Reposts"))
_PIN_DAYS = _days(PINTEREST_DAYS)
_YT_DAYS = _days(YOUTUBE_DAYS)

CATALOGUES: dict[tuple[str, str | None], Catalogue] = {
    ("instagram", None): _INSTAGRAM,
    ("instagram-login", None): _INSTAGRAM,
    ("facebook", None): Catalogue(
        account=(Figure("followers_count", "Followers"), Figure("page_media_view", "Views", _days(28)),
                 Figure("page_total_media_view_unique", "Viewers", _days(28)),
                 Figure("page_post_engagements", "Post engagements", _days(28)),
                 Figure("page_follows", "Follows", _days(28))),
        post=(Figure("post_media_view", "Views"), Figure("post_total_media_view_unique", "Viewers"),
              Figure("reactions", "Reactions"), Figure("comments", "Comments"), Figure("shares", "Shares")),
        interactions=("reactions", "comments", "shares")),
    ("linkedin", "company"): Catalogue(
        account=(Figure("followerCount", "Followers"),
                 Figure("organicFollowerGain", "Organic follower gain", _days(FOLLOWER_GAIN_DAYS)),
                 Figure("paidFollowerGain", "Paid follower gain", _days(FOLLOWER_GAIN_DAYS)),
                 *_LINKEDIN_PAGE_POST),
        post=_LINKEDIN_PAGE_POST,
        interactions=("likeCount", "commentCount", "shareCount")),
    ("linkedin", None): Catalogue(  # a member's profile: LinkedIn gives no follower figure to apps
        account=(Figure(None, "Followers"), *_LINKEDIN_MEMBER_POST),
        post=_LINKEDIN_MEMBER_POST,
        interactions=("REACTION", "COMMENT", "RESHARE")),
    ("x", None): Catalogue(
        account=(Figure("followers_count", "Followers"), Figure("following_count", "Following"),
                 Figure("post_count", "Posts", aliases=("tweet_count",)), Figure("listed_count", "Listed"),
                 Figure(None, "Impressions")),
        post=(Figure("impression_count", "Impressions"), Figure("like_count", "Likes"),
              Figure("retweet_count", "Reposts", aliases=("repost_count",)), Figure("reply_count", "Replies"),
              Figure("quote_count", "Quotes"), Figure("bookmark_count", "Bookmarks")),
        interactions=("like_count", "retweet_count", "repost_count", "reply_count", "quote_count",
                      "bookmark_count")),
    ("tiktok", None): Catalogue(
        account=(Figure("follower_count", "Followers"), Figure("following_count", "Following"),
                 Figure("likes_count", "Likes"), Figure("video_count", "Videos"), Figure(None, "Views")),
        post=(Figure("view_count", "Views"), Figure("like_count", "Likes"), Figure("comment_count", "Comments"),
              Figure("share_count", "Shares")),
        interactions=("like_count", "comment_count", "share_count")),
    ("pinterest", None): Catalogue(
        account=(Figure("follower_count", "Followers"), Figure("IMPRESSION", "Impressions", _PIN_DAYS),
                 Figure("ENGAGEMENT", "Engagements", _PIN_DAYS), Figure("PIN_CLICK", "Pin clicks", _PIN_DAYS),
                 Figure("OUTBOUND_CLICK", "Outbound clicks", _PIN_DAYS), Figure("SAVE", "Saves", _PIN_DAYS)),
        post=(Figure("IMPRESSION", "Impressions"), Figure("PIN_CLICK", "Pin clicks"),
              Figure("OUTBOUND_CLICK", "Outbound clicks"), Figure("SAVE", "Saves")),
        interactions=("PIN_CLICK", "OUTBOUND_CLICK", "SAVE")),
    ("youtube", None): Catalogue(
        account=(Figure("subscriberCount", "Subscribers"), Figure("viewCount", "Views"),
                 Figure("videoCount", "Videos"),
                 Figure("estimatedMinutesWatched", "Watch time (minutes)", _YT_DAYS),
                 Figure("averageViewDuration", "Average view duration (seconds)", _YT_DAYS),
                 Figure("subscribersGained", "Subscribers gained", _YT_DAYS),
                 Figure("subscribersLost", "Subscribers lost", _YT_DAYS)),
        post=(Figure("viewCount", "Views"), Figure("likeCount", "Likes"), Figure("commentCount", "Comments")),
        interactions=("likeCount", "commentCount")),
    ("bluesky", None): Catalogue(
        account=(Figure("followersCount", "Followers"), Figure("followsCount", "Following"),
                 Figure("postsCount", "Posts"), Figure(None, "Views")),
        post=(Figure("likeCount", "Likes"), Figure("repostCount", "Reposts"), Figure("replyCount", "Replies"),
              Figure("quoteCount", "Quotes")),
        interactions=("likeCount", "repostCount", "replyCount", "quoteCount")),
}
_UNKNOWN = Catalogue(account=(Figure(None, "Followers"),), post=(), interactions=())


def catalogue(platform: str, kind: str | None) -> Catalogue:
    return CATALOGUES.get((platform, kind)) or CATALOGUES.get((platform, None)) or _UNKNOWN


def platform_name(key: str) -> str:
    info = registry.get(key)
    return info.name if info else key


def platform_order(key: str) -> int:
    keys = [p.key for p in registry.PLATFORMS]
    return keys.index(key) if key in keys else len(keys)

