"""Instagram publishing, shared by both Instagram logins: containers, carousels, Reels, figures.

The same flow on graph.facebook.com (Facebook Login) and graph.instagram.com (Instagram Login):
validation, media containers (photo, Reel, carousel), waiting for them to finish, media_publish, the
first comment, and the account's and posts' figures.

Facts come from /work/shared/platforms/meta.md; values it marks UNCERTAIN are flagged where they are defined.
"""

from __future__ import annotations

import json
import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from bot.platforms.base import (
    AccountRef,
    ContentRejected,
    Draft,
    MediaPayload,
    Metrics,
    PlatformError,
    Problem,
    PublishResult,
    RateLimited,
    Scope,
    Transient,
)
from bot.platforms.meta_graph import (
    Context,
    Graph,
    Polling,
    container_error,
    insight_figures,
    must_surface,
    public_url,
)
from bot.platforms.meta_limits import IG_STORY_MAX_SECONDS, IG_STORY_MIN_SECONDS, INSTAGRAM_LIMITS
from bot.platforms.settings import INSTAGRAM_MAX_COLLABORATORS, InstagramSettings
from bot.platforms.validation import Checker, cover_time
from bot.secret import Secret

# Account figures cover this many days (Meta's own insights screens default to 28).
METRICS_WINDOW = timedelta(days=28)

# Insight metric names. Meta removed `impressions`/`plays` (Instagram, 2025-04-21) in favour of `views`;
# never ask for those.
# UNCERTAIN (meta.md A): the exact list of current Instagram account/media metrics.
IG_ACCOUNT_METRICS = ("views", "reach", "accounts_engaged", "total_interactions")
IG_MEDIA_METRICS = ("views", "reach", "saved", "shares", "total_interactions")
# A post's counts and its picture in one read: an image's media_url, a video's thumbnail_url (IG Media reference;
# an album gives neither, nor a post with copyrighted sound its media_url).
MEDIA_FIELDS = "like_count,comments_count,media_type,media_url,thumbnail_url"

# A draft option choosing the Instagram format; without it the media decide (1 photo, 1 video = Reel, 2+ = carousel).
FORMAT_OPTION = "format"

# Collaborators (ig-user/media `collaborators`, a JSON array of usernames): feed images, Reels and carousels (the
# carousel container, not its items); up to 3 accounts (ig-media/collaborators "Limitations"; newer pages say 5,
# Picmim keeps to 3). Usernames as Instagram allows them: letters, digits, periods, underscores, at most 30.
USERNAME = re.compile(r"[A-Za-z0-9._]{1,30}")
# Alt text (ig-user/media `alt_text`, since 2025-03-24) is for image posts, carousel images included; "Reels and
# stories are not supported". Meta publishes no length limit for it.


def collaborators(draft: Draft) -> list[str]:
    """The usernames to invite, as typed but without a leading @ or blanks."""
    settings = draft.settings
    if not isinstance(settings, InstagramSettings):
        return []
    return [name.strip().removeprefix("@").strip() for name in settings.collaborators if name.strip()]


def post_type(draft: Draft) -> str | None:
    """What the author chose the post to be on Instagram (post | reel | story), or None: the media decide. Older
    drafts chose through the `format` option (reel | carousel)."""
    settings = draft.settings
    if isinstance(settings, InstagramSettings) and settings.post_type in ("post", "reel", "story"):
        return settings.post_type
    return {"reel": "reel", "carousel": "post"}.get(draft.options.get(FORMAT_OPTION) or "")


def share_to_feed(draft: Draft) -> bool:
    settings = draft.settings
    return settings.share_to_feed if isinstance(settings, InstagramSettings) else True


def instagram_caption(draft: Draft) -> str:
    """Links in Instagram captions are not clickable, but a marketer's link still belongs in the text."""
    text = draft.text or ""
    if draft.link and draft.link not in text:
        text = f"{text}\n\n{draft.link}" if text else draft.link
    return text


def validate_instagram(label: str, account: AccountRef, draft: Draft) -> list[Problem]:
    limits = INSTAGRAM_LIMITS
    wanted = post_type(draft)
    if wanted in ("reel", "story"):
        # A Story's photo and a Reel's cover are shown 9:16: the feed's 4:5 – 1.91:1 is not theirs.
        limits = replace(limits, image=replace(limits.image, min_aspect=None, max_aspect=None, aspect_labels=None))
    checker = Checker(label, account.name, limits)
    checker.check(replace(draft, text=instagram_caption(draft)))
    items = len(draft.media)
    videos = [m for m in draft.media if m.kind == "video"]
    least = limits.min_items_if_several or 2
    if wanted == "reel" and not videos:
        checker.add("media", f"An {label} Reel is one video: attach a single video (photos go in a post or a "
                             "carousel).")
    elif wanted == "reel" and (len(videos) > 1 or items > 2):
        pictures = items - len(videos)
        checker.add("media", f"An {label} Reel is one video, with at most one picture as its cover; this one has "
                             f"{len(videos)} video{'s' if len(videos) > 1 else ''} and {pictures} "
                             f"picture{'' if pictures == 1 else 's'}: keep one of each, or choose Post for a "
                             "carousel.")
    if draft.options.get(FORMAT_OPTION) == "carousel" and 0 < items < least:
        checker.add("media", f"An {label} carousel needs at least {least} photos or videos; this one has "
                             f"{items}: add {least - items}, or post it as a single photo or Reel.")
    names = collaborators(draft)
    if wanted == "story":
        _check_story(checker, label, draft, names)
        return checker.problems
    if len(names) > INSTAGRAM_MAX_COLLABORATORS:
        checker.add("collaborators", f"{label} takes up to {INSTAGRAM_MAX_COLLABORATORS} collaborators; this post "
                                     f"has {len(names)}: remove {len(names) - INSTAGRAM_MAX_COLLABORATORS}.")
    bad = [name for name in names if not USERNAME.fullmatch(name)]
    if bad:
        checker.add("collaborators", f"{', '.join(bad)}: not {label} usernames. Usernames have letters, numbers, "
                                     "periods and underscores only, up to 30 characters.")
    return checker.problems


def _check_story(checker: Checker, label: str, draft: Draft, names: list[str]) -> None:
    """A Story is one photo or one video (3–60 s); it has no caption, collaborators or comments by the API."""
    if len(draft.media) != 1:
        checker.add("media", f"An {label} Story is one photo or one video; this one has {len(draft.media)}: keep "
                             "one, or choose Post for a carousel.")
    elif draft.media[0].kind == "video" and draft.media[0].duration is not None:
        seconds = draft.media[0].duration
        if not IG_STORY_MIN_SECONDS <= seconds <= IG_STORY_MAX_SECONDS:
            checker.add("media", f"An {label} Story video lasts {IG_STORY_MIN_SECONDS:g} to "
                                 f"{IG_STORY_MAX_SECONDS:g} seconds; this one lasts {seconds:.0f}: shorten it, or "
                                 "choose Reel.")
    if names:
        checker.add("collaborators", f"{label} Stories take no collaborators: remove them, or choose Post or Reel.")
    if draft.first_comment:
        checker.add("first_comment", f"{label} Stories take no comments from apps: remove the first comment, or "
                                     "choose Post or Reel.")


def _alt_text(item: MediaPayload) -> dict[str, str]:
    return {"alt_text": item.facts.alt_text} if item.facts.alt_text and item.facts.kind == "image" else {}


class InstagramPublishing:
    """Publishing and figures for one Instagram professional account through media containers:
    create container(s) → wait for FINISHED → media_publish → permalink (→ first comment)."""

    label = "Instagram"
    limits = INSTAGRAM_LIMITS
    graph: Graph
    polling: Polling
    publish_scope: Scope
    comment_scope: Scope
    insights_scope: Scope

    def ig_node(self, account: AccountRef) -> str:
        """The Graph node of the account: its id, or `me` where the token belongs to it."""
        return account.external_id

    def validate(self, account: AccountRef, draft: Draft) -> list[Problem]:
        return validate_instagram(self.label, account, draft)

    async def publish(self, account: AccountRef, draft: Draft, media: list[MediaPayload]) -> PublishResult:
        token, node = account.publish_token, self.ig_node(account)
        ctx = Context(self.label, publishing=True, needs=self.publish_scope, page=account.settings.get("page_name"))
        if not media:
            raise ContentRejected(self.label, f"{self.label} posts need a photo or a video: attach one.",
                                  "no media", field="media")
        urls = [public_url(self.label, m) for m in media]
        await self.check_quota(node, token, ctx)
        caption = instagram_caption(draft)
        names = collaborators(draft)
        invited = {"collaborators": json.dumps(names)} if names else {}
        wanted = post_type(draft)
        videos = [(m, url) for m, url in zip(media, urls, strict=True) if m.facts.kind == "video"]
        covers = [url for m, url in zip(media, urls, strict=True) if m.facts.kind == "image"]
        if (wanted == "reel" and (len(videos) != 1 or len(covers) > 1)) or (wanted == "story" and len(media) != 1):
            # Checked before acceptance; never publish something other than what was chosen.
            raise ContentRejected(self.label, f"An {self.label} {wanted.title()} takes one video (a Reel, with at "
                                              "most one picture as its cover) or one photo or video (a Story).",
                                  f"{wanted} with {len(media)} items", field="media")
        if wanted == "reel":
            (video, video_url), cover = videos[0], covers[:1]
            params = {"caption": caption, **invited, "media_type": "REELS", "video_url": video_url,
                      "share_to_feed": "true" if share_to_feed(draft) else "false"}
            # A picture attached with the video is the Reel's cover (cover_url); else the chosen frame.
            params |= ({"cover_url": cover[0]} if cover
                       else {"thumb_offset": str(cover_time(draft.options, video.facts.duration))})
            container = await self.create_container(node, token, params, ctx)
        elif wanted == "story":
            # A Story has no caption (Meta: "not supported for stories"): the text stays Picmim's.
            key = "video_url" if media[0].facts.kind == "video" else "image_url"
            container = await self.create_container(node, token, {"media_type": "STORIES", key: urls[0]}, ctx)
        elif len(media) == 1:
            params = {"caption": caption, **invited}
            if media[0].facts.kind == "video":
                # Single feed videos are Reels since 2023 (media_type VIDEO is deprecated for them).
                params |= {"media_type": "REELS", "video_url": urls[0],
                           "share_to_feed": "true" if share_to_feed(draft) else "false",
                           "thumb_offset": str(cover_time(draft.options, media[0].facts.duration))}
            else:
                params |= {"image_url": urls[0], **_alt_text(media[0])}
            container = await self.create_container(node, token, params, ctx)
        else:
            children = []
            for item, url in zip(media, urls, strict=True):
                params = {"is_carousel_item": "true"}
                if item.facts.kind == "video":
                    params |= {"media_type": "VIDEO", "video_url": url}
                else:
                    params |= {"image_url": url, **_alt_text(item)}
                children.append(await self.create_container(node, token, params, ctx))
            container = await self.create_container(node, token, {
                "media_type": "CAROUSEL", "children": ",".join(children), "caption": caption, **invited}, ctx)

        published = await self.graph.post(f"{node}/media_publish", token, data={"creation_id": container},
                                          creates=True, ctx=ctx)
        media_id = str(published["id"])
        warnings: list[str] = []
        url = None
        try:
            url = (await self.graph.get(media_id, token, params={"fields": "permalink"})).get("permalink")
        except PlatformError:
            pass  # the post is live; a missing link is not worth failing it for
        if draft.first_comment and wanted != "story":
            try:
                await self.graph.post(f"{media_id}/comments", token, data={"message": draft.first_comment},
                                      ctx=Context(self.label, publishing=True, needs=self.comment_scope))
            except PlatformError as exc:
                warnings.append(f"The post is live, but its first comment could not be added: {exc.message}")
        return PublishResult(remote_id=media_id, url=url, warnings=tuple(warnings))

    async def check_quota(self, node: str, token: Secret, ctx: Context) -> None:
        """Meta's publishing quota (50 per 24 h per its docs, but read, never assumed), before any container
        is spent on a post that could not be published."""
        body = await self.graph.get(f"{node}/content_publishing_limit", token,
                                    params={"fields": "quota_usage,config"}, ctx=replace(ctx, publishing=False))
        entry = (body.get("data") or [{}])[0]
        usage, total = entry.get("quota_usage"), (entry.get("config") or {}).get("quota_total")
        if isinstance(usage, int) and isinstance(total, int) and usage >= total:
            raise RateLimited(self.label, f"This {self.label} account has published {total} posts through apps in "
                                          "the last 24 hours, the most Instagram allows; Picmim will try again "
                                          "later.", f"content_publishing_limit: {usage} of {total} used")

    async def create_container(self, node: str, token: Secret, params: dict[str, str], ctx: Context) -> str:
        body = await self.graph.post(f"{node}/media", token, data=params, ctx=ctx)
        container = str(body["id"])
        await self.wait_until_finished(container, token, ctx)
        return container

    async def wait_until_finished(self, container: str, token: Secret, ctx: Context) -> None:
        for attempt in range(self.polling.attempts):
            if attempt:
                await self.polling.sleep(self.polling.delay)
            body = await self.graph.get(container, token, params={"fields": "status_code,status"},
                                        ctx=replace(ctx, publishing=False))
            state = body.get("status_code")
            if state in ("FINISHED", "PUBLISHED"):
                return
            if state == "ERROR":
                raise container_error(self.label, str(body.get("status") or ""))
            if state == "EXPIRED":
                raise Transient(self.label, f"The media prepared for {self.label} expired before publishing; "
                                            "Picmim will prepare it again.", "status_code EXPIRED")
        raise Transient(self.label, f"{self.label} is still processing the media; Picmim will try again.",
                        f"status_code IN_PROGRESS after {self.polling.attempts} checks")

    async def fetch_metrics(self, account: AccountRef, remote_ids: list[str]) -> Metrics:
        token, node = account.publish_token, self.ig_node(account)
        ctx = Context(self.label, needs=self.insights_scope)
        profile = await self.graph.get(node, token, params={"fields": "followers_count,media_count"})
        figures: dict[str, float] = {k: float(profile[k]) for k in ("followers_count", "media_count") if k in profile}
        until = datetime.now(UTC)
        insights, unavailable = await insight_figures(self.graph, f"{node}/insights", token, ctx, IG_ACCOUNT_METRICS, {
            "period": "day", "metric_type": "total_value",
            "since": str(int((until - METRICS_WINDOW).timestamp())), "until": str(int(until.timestamp()))})
        figures |= insights

        posts: dict[str, dict[str, float]] = {}
        thumbnails: dict[str, str] = {}
        for remote_id in remote_ids:
            post: dict[str, float] = {}
            try:
                fields = await self.graph.get(remote_id, token, params={"fields": MEDIA_FIELDS})
                post |= {k: float(fields[k]) for k in ("like_count", "comments_count") if k in fields}
                # A video's (Reel's) media_url is the video file: its picture is thumbnail_url.
                picture = fields.get("thumbnail_url" if fields.get("media_type") == "VIDEO" else "media_url")
                if isinstance(picture, str):
                    thumbnails[remote_id] = picture
                post |= (await insight_figures(self.graph, f"{remote_id}/insights", token, ctx, IG_MEDIA_METRICS,
                                               {}))[0]
            except PlatformError as exc:
                if must_surface(exc):
                    raise
                # A deleted post, or a media type without some metric: its figures are "not available".
            if post:
                posts[remote_id] = post
        return Metrics(account=figures, posts=posts, unavailable=unavailable, thumbnails=thumbnails)
