"""Facebook Pages (key `facebook`, credentials META_*).

Facebook Login gives a long-lived user token; every Page the user manages is its own account and
publishes with its own Page token (from /me/accounts). Groups are not here: Meta closed the Groups
API to every app on 2024-04-22 (see registry.FACEBOOK_GROUPS).
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urljoin

from bot.platforms.base import (
    AccountRef,
    ContentRejected,
    Draft,
    MediaPayload,
    Metrics,
    OutcomeUnknown,
    PlatformError,
    Problem,
    PublishResult,
    RemoteAccount,
    Scope,
    TokenExpired,
    TokenSet,
    Transient,
)
from bot.platforms.http_calls import json_or_none, send
from bot.platforms.meta_graph import (
    FACEBOOK_WWW,
    GRAPH_VIDEO,
    LIST_PAGES,
    PAGE_METRICS,
    POST_METRICS,
    POSTING_TASKS,
    Context,
    FacebookLoginAdapter,
    insight_figures,
    missing_permission_refusal,
    must_surface,
    public_url,
)
from bot.platforms.meta_limits import (
    FACEBOOK_LIMITS,
    FB_REEL_MAX_FPS,
    FB_REEL_MAX_SECONDS,
    FB_REEL_MIN_FPS,
    FB_REEL_MIN_HEIGHT,
    FB_REEL_MIN_SECONDS,
    FB_REEL_MIN_WIDTH,
    FB_STORY_MAX_SECONDS,
    FB_STORY_MIN_SECONDS,
)
from bot.platforms.registry import BY_KEY
from bot.platforms.settings import FacebookSettings
from bot.platforms.validation import Checker
from bot.secret import Secret

PUBLISH = Scope("pages_manage_posts", "publish posts, photos and videos on your Pages")
ENGAGEMENT = Scope("pages_read_engagement", "read your Pages' names, followers and the reactions to posts")
INSIGHTS = Scope("read_insights", "read Page and post views for analytics digests")
# Meta wants both to post on a Page (its own error says so).
REQUIRED = (PUBLISH, ENGAGEMENT)

# Reels and video Stories are uploaded through the Video API's upload sessions: start on graph.facebook.com, the
# file's bytes to rupload.facebook.com, then finish.
RUPLOAD = "https://rupload.facebook.com/video-upload"

PAGE_FIELDS = "id,name,username,access_token,tasks,followers_count,picture{url}"
# full_picture: the post's picture as Facebook shows it (its photo, its video's cover), absent for a text post.
POST_FIELDS = ("reactions.summary(total_count).limit(0),comments.summary(total_count).limit(0),shares,"
               "full_picture")


def _alt_text(image: MediaPayload) -> dict[str, str]:
    """A photo's own alt text: /{page-id}/photos takes it as `alt_text_custom` (the Photo reference's
    "user provided accessible alternative description"; `alt_text` is Facebook's generated one). Meta gives no
    length limit for it."""
    return {"alt_text_custom": image.facts.alt_text} if image.facts.alt_text else {}


def post_type(draft: Draft) -> str:
    """post | reel | story, as the author chose for Facebook (a post unless chosen)."""
    settings = draft.settings
    return settings.post_type if isinstance(settings, FacebookSettings) and settings.post_type else "post"


class FacebookAdapter(FacebookLoginAdapter):
    key = "facebook"
    name = BY_KEY[key].name
    label = "Facebook"
    limits = FACEBOOK_LIMITS
    scopes = (
        LIST_PAGES,
        PUBLISH,
        ENGAGEMENT,
        INSIGHTS,
        Scope("business_management", "find Pages your company manages in Meta Business Suite"),
    )

    async def list_accounts(self, tokens: TokenSet) -> list[RemoteAccount]:
        granted = await self.granted(tokens.access_token)
        missing = [s for s in REQUIRED if s.name not in granted]
        pages = await self.pages(tokens.access_token, PAGE_FIELDS, granted)
        return [self._account(page, missing) for page in pages]

    def _account(self, page: dict[str, Any], missing: list[Scope]) -> RemoteAccount:
        name = page.get("name") or str(page["id"])
        refusal = None
        if missing:
            refusal = missing_permission_refusal(self.label, missing)
        elif not POSTING_TASKS & set(page.get("tasks") or ()):
            refusal = (f"You cannot publish on {name}: your role on it does not include creating content. Ask a "
                       "Page admin for the “Create content” task (or full control) on the Page, then refresh.")
        token = page.get("access_token")
        return RemoteAccount(
            external_id=str(page["id"]),
            kind="page",
            name=name,
            handle=page.get("username"),
            avatar_url=((page.get("picture") or {}).get("data") or {}).get("url"),
            followers_count=page.get("followers_count"),
            token=Secret(token) if token else None,
            refusal=refusal,
        )

    def validate(self, account: AccountRef, draft: Draft) -> list[Problem]:
        checker = Checker(self.label, account.name, self.limits)
        checker.check(draft)
        wanted = post_type(draft)
        if wanted in ("reel", "story"):
            self._check_reel_or_story(checker, wanted, draft)
        elif not (draft.text or "").strip() and not draft.link and not draft.media:
            checker.add("text", f"{self.label} needs some text, a link, a photo or a video: add one.")
        return checker.problems

    def _check_reel_or_story(self, checker: Checker, wanted: str, draft: Draft) -> None:
        """A Reel is one vertical video of 3–90 s; a Story one photo or one video of 3–60 s (Meta's Reels
        Publishing and Page Stories guides)."""
        name = {"reel": "Reel", "story": "Story"}[wanted]
        videos = [m for m in draft.media if m.kind == "video"]
        if wanted == "reel" and (len(draft.media) != 1 or not videos):
            checker.add("media", f"A {self.label} Reel is one video: attach a single video (photos go in a post "
                                 "or a Story).")
            return
        if wanted == "story" and len(draft.media) != 1:
            checker.add("media", f"A {self.label} Story is one photo or one video; this one has "
                                 f"{len(draft.media)}: keep one, or choose Post.")
            return
        item = draft.media[0]
        least, most = ((FB_REEL_MIN_SECONDS, FB_REEL_MAX_SECONDS) if wanted == "reel"
                       else (FB_STORY_MIN_SECONDS, FB_STORY_MAX_SECONDS))
        if item.kind == "video" and item.duration is not None and not least <= item.duration <= most:
            checker.add("media", f"A {self.label} {name} video lasts {least:g} to {most:g} seconds; "
                                 f"{item.filename or 'this one'} lasts {item.duration:.0f}.")
        if item.kind == "video" and item.fps and not FB_REEL_MIN_FPS - 0.5 <= item.fps <= FB_REEL_MAX_FPS + 0.5:
            checker.add("media", f"A {self.label} {name} plays at {FB_REEL_MIN_FPS:g} to {FB_REEL_MAX_FPS:g} frames "
                                 f"a second; {item.filename or 'this video'} has {item.fps:g}.")
        if (wanted == "reel" and item.width and item.height
                and (min(item.width, item.height) < FB_REEL_MIN_WIDTH
                     or max(item.width, item.height) < FB_REEL_MIN_HEIGHT or item.width > item.height)):
            checker.add("media", f"A {self.label} Reel is a vertical video of at least {FB_REEL_MIN_WIDTH} × "
                                 f"{FB_REEL_MIN_HEIGHT} pixels (9:16); {item.filename or 'this one'} is "
                                 f"{item.width} × {item.height}.")

    async def publish(self, account: AccountRef, draft: Draft, media: list[MediaPayload]) -> PublishResult:
        token, page = account.publish_token, account.external_id
        ctx = Context(self.label, publishing=True, needs=PUBLISH, page=account.name)
        images = [m for m in media if m.facts.kind == "image"]
        videos = [m for m in media if m.facts.kind == "video"]
        wanted = post_type(draft)
        if wanted == "reel" and len(videos) == 1 and not images:
            return await self._reel(page, token, draft, videos[0], ctx)
        if wanted == "story" and len(media) == 1:
            return await self._story(page, token, media[0], ctx)
        if wanted in ("reel", "story"):  # checked before acceptance; never post something other than what was chosen
            raise ContentRejected(self.label, f"A {self.label} Reel is one video, and a Story one photo or one video.",
                                  f"{wanted} with {len(media)} items", field="media")
        if (images and videos) or len(videos) > 1:
            raise ContentRejected(self.label, f"{self.label} cannot mix photos and a video, or take two videos, in "
                                              "one post: keep one kind.", "several media kinds", field="media")
        # With media the link cannot be the post's attachment, so it goes in the text.
        message = draft.text or ""
        if media and draft.link and draft.link not in message:
            message = f"{message}\n\n{draft.link}" if message else draft.link

        if videos:
            # The Video API's way: the file through a Resumable Upload session, then the Page video from its handle.
            handle = await self._upload_handle(account, videos[0], ctx)
            data = {"fbuploader_video_file_chunk": handle, "description": message}
            if draft.title:
                data["title"] = draft.title
            body = await self.graph.post(f"{GRAPH_VIDEO}/{self.version}/{page}/videos", token, data=data,
                                         creates=True, ctx=ctx)
            return await self._video_result(str(body["id"]), token)
        if len(images) == 1:
            body = await self.graph.post(f"{page}/photos", token, creates=True, ctx=ctx,
                                         data={"url": public_url(self.label, images[0]), "caption": message,
                                               **_alt_text(images[0])})
            post_id = str(body.get("post_id") or body["id"])
        else:
            data: dict[str, str] = {"message": message} if message else {}
            if images:
                # Several photos: upload each unpublished, then one post that attaches them all.
                for index, image in enumerate(images):
                    uploaded = await self.graph.post(f"{page}/photos", token, ctx=ctx, data={
                        "url": public_url(self.label, image), "published": "false", **_alt_text(image)})
                    data[f"attached_media[{index}]"] = json.dumps({"media_fbid": str(uploaded["id"])})
            elif draft.link:
                data["link"] = draft.link
            body = await self.graph.post(f"{page}/feed", token, data=data, creates=True, ctx=ctx)
            post_id = str(body["id"])
        return PublishResult(remote_id=post_id, url=await self._permalink(post_id, token))

    async def _upload_handle(self, account: AccountRef, video: MediaPayload, ctx: Context) -> str:
        """Resumable Upload API: a session on /{app-id}/uploads (with the person's token, as Meta requires), the
        bytes streamed from offset 0, and the file handle Meta answers with."""
        facts = video.facts
        session = await self.graph.post(f"{self.config.client_id}/uploads", account.user_token, ctx=ctx, data={
            "file_name": facts.filename or "video.mp4", "file_length": str(facts.size_bytes),
            # Meta lists video/mp4 as the one video type; a MOV is the same ISO container and goes as one.
            "file_type": "video/mp4"})
        uploaded = await self.graph.post(str(session["id"]), account.user_token, ctx=ctx, content=video.read(),
                                         headers={"file_offset": "0", "Content-Length": str(facts.size_bytes),
                                                  "Authorization": f"OAuth {account.user_token.reveal()}"})
        if not uploaded.get("h"):
            raise Transient(self.label, f"{self.label} did not take the whole video; Picmim will try again.",
                            json.dumps(uploaded)[:300])
        return str(uploaded["h"])

    async def _upload_session(self, edge: str, token: Secret, video: MediaPayload, ctx: Context) -> str:
        """Start an upload session on /{page}/video_reels or /{page}/video_stories and send the video into it; the
        video's id, to finish with."""
        started = await self.graph.post(edge, token, data={"upload_phase": "start"}, ctx=ctx)
        video_id = str(started["video_id"])
        upload_url = str(started.get("upload_url") or f"{RUPLOAD}/{self.version}/{video_id}")
        # The file's bytes from offset 0 (the guide's hosted-file way, a `file_url` header, is reported to be
        # refused without offset headers: trypost/trypost#32), with the token as "OAuth …" as rupload wants it.
        size = str(video.facts.size_bytes)
        response = await send(self.http, self.label, "POST", upload_url, content=video.read(), headers={
            "Authorization": f"OAuth {token.reveal()}", "offset": "0", "file_size": size, "Content-Length": size})
        body = json_or_none(response)
        if not response.is_success or not (body or {}).get("success"):
            info = (body or {}).get("debug_info") or {}
            detail = json.dumps(info or body or response.text[:200])[:300]
            if response.status_code >= 500:
                raise Transient(self.label, f"{self.label} could not take the video just now; Picmim will try "
                                            "again.", detail)
            if response.status_code == 401:
                raise TokenExpired(self.label, f"{self.label} no longer accepts this Page's sign-in: reconnect "
                                               "it.", detail)
            reason = str(info.get("message") or "no reason given").rstrip(".")
            raise ContentRejected(self.label, f"{self.label} did not take the video: {reason}.", detail,
                                  field="media")
        return video_id

    async def _reel(self, page: str, token: Secret, draft: Draft, video: MediaPayload, ctx: Context) -> PublishResult:
        """Video API Reels: start → upload the file → finish with video_state PUBLISHED."""
        video_id = await self._upload_session(f"{page}/video_reels", token, video, ctx)
        data = {"upload_phase": "finish", "video_id": video_id, "video_state": "PUBLISHED"}
        if draft.text:
            data["description"] = draft.text
        if draft.title:
            data["title"] = draft.title
        await self.graph.post(f"{page}/video_reels", token, data=data, creates=True, ctx=ctx)
        return await self._video_result(video_id, token)

    async def _story(self, page: str, token: Secret, item: MediaPayload, ctx: Context) -> PublishResult:
        """Page Stories: a photo uploaded unpublished, then /photo_stories; a video through an upload session on
        /video_stories. A Story has no text."""
        if item.facts.kind == "video":
            video_id = await self._upload_session(f"{page}/video_stories", token, item, ctx)
            body = await self.graph.post(f"{page}/video_stories", token, creates=True, ctx=ctx,
                                         data={"upload_phase": "finish", "video_id": video_id})
        else:
            photo = await self.graph.post(f"{page}/photos", token, ctx=ctx, data={
                "url": public_url(self.label, item), "published": "false"})
            body = await self.graph.post(f"{page}/photo_stories", token, creates=True, ctx=ctx,
                                         data={"photo_id": str(photo["id"])})
        post_id = str(body.get("post_id") or "")
        if not post_id:
            raise OutcomeUnknown(self.label, f"{self.label} gave no Story id; the Story may or may not be live.",
                                 json.dumps(body)[:300])
        return PublishResult(remote_id=post_id, url=await self._permalink(post_id, token))

    async def _permalink(self, object_id: str, token: Secret) -> str | None:
        try:
            body = await self.graph.get(object_id, token, params={"fields": "permalink_url"})
        except PlatformError:
            return None  # the post is live; a missing link is not worth failing it for
        link = body.get("permalink_url")
        return urljoin(FACEBOOK_WWW, link) if link else None  # videos answer with a path

    async def _video_result(self, video_id: str, token: Secret) -> PublishResult:
        """Wait for Facebook to process the video. It was sent with published=true, so it is never sent
        again: a video still processing after the last look is reported live, with a warning."""
        warnings: tuple[str, ...] = ()
        for attempt in range(self.polling.attempts):
            if attempt:
                await self.polling.sleep(self.polling.delay)
            status = (await self.graph.get(video_id, token, params={"fields": "status"})).get("status") or {}
            state = status.get("video_status")
            if state == "ready":
                break
            if state == "error" or (status.get("processing_phase") or {}).get("status") == "error":
                errors = (status.get("processing_phase") or {}).get("errors") or [{}]
                reason = errors[0].get("message") or "no reason given"
                raise ContentRejected(self.label, f"{self.label} could not process the video: {reason}.",
                                      json.dumps(status)[:300], field="media")
        else:
            warnings = (f"{self.label} is still processing the video; it appears on the Page when that is done.",)
        try:
            body = await self.graph.get(video_id, token, params={"fields": "permalink_url,post_id"})
        except PlatformError:
            body = {}
        link = body.get("permalink_url")
        # UNCERTAIN: the Video node's `post_id` (the post that shows it), used for post figures.
        return PublishResult(remote_id=str(body.get("post_id") or video_id),
                             url=urljoin(FACEBOOK_WWW, link) if link else None, warnings=warnings)

    async def fetch_metrics(self, account: AccountRef, remote_ids: list[str]) -> Metrics:
        token, page = account.publish_token, account.external_id
        ctx = Context(self.label, needs=INSIGHTS, page=account.name)
        profile = await self.graph.get(page, token, params={"fields": "followers_count"})
        figures: dict[str, float] = {}
        if isinstance(profile.get("followers_count"), int):
            figures["followers_count"] = float(profile["followers_count"])
        insights, unavailable = await insight_figures(self.graph, f"{page}/insights", token, ctx, PAGE_METRICS,
                                                      {"period": "days_28"})
        figures |= insights

        posts: dict[str, dict[str, float]] = {}
        thumbnails: dict[str, str] = {}
        for remote_id in remote_ids:
            post: dict[str, float] = {}
            try:
                fields = await self.graph.get(remote_id, token, params={"fields": POST_FIELDS})
                if isinstance(fields.get("full_picture"), str):
                    thumbnails[remote_id] = fields["full_picture"]
                for name in ("reactions", "comments"):
                    total = ((fields.get(name) or {}).get("summary") or {}).get("total_count")
                    if isinstance(total, int):
                        post[name] = float(total)
                if post:  # Meta leaves `shares` out when nobody shared the post
                    post["shares"] = float((fields.get("shares") or {}).get("count") or 0)
                post |= (await insight_figures(self.graph, f"{remote_id}/insights", token, ctx, POST_METRICS,
                                               {"period": "lifetime"}))[0]
            except PlatformError as exc:
                if must_surface(exc):
                    raise
            if post:
                posts[remote_id] = post
        return Metrics(account=figures, posts=posts, unavailable=unavailable, thumbnails=thumbnails)


ADAPTER = FacebookAdapter
