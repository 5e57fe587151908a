"""The sandbox's simulated networks: the platform fakes of bot/sandbox/fakes/ run as simulators on loopback
ports, in a sandbox mode the tests' fakes leave off:

- signing in shows each network's consent page (choose Pages, company pages, boards, a channel where the network
  has several; Allow or Cancel, Cancel answering as the real network does) instead of consenting at once;
- what Picmim publishes lands in a feed per network at PUBLIC_URL/sandbox/<platform> (routes added to Picmim's own
  web app), each post at its anchor, pictures and videos served from the bytes the simulator received;
- figures grow with the time since each post went live (bot/sandbox/figures.py), followers slowly;
- what the networks hold (accounts, grants, posts) is kept in `state_dir` between runs, written soon after each
  change (bot/sandbox/kept.py), so a sandbox killed without warning keeps its connections and posts.

`Networks(public_url, state_dir).start()`; `environment()` is what the app needs to reach them as it reaches the
real networks (client ids and secrets the simulators accept, PICMIM_ORIGIN_OVERRIDES)."""

from __future__ import annotations

import asyncio
import functools
import io
import itertools
import logging
import mimetypes
import pathlib
import pickle
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit

from aiohttp import web
from PIL import Image

from bot.media.video import cover_jpeg
from bot.platforms import bluesky_oauth
from bot.sandbox import figures
from bot.sandbox.fakes import meta as fake_meta
from bot.sandbox.fakes.bluesky import FakeBluesky
from bot.sandbox.fakes.linkedin import FakeLinkedIn
from bot.sandbox.fakes.meta import FakeMeta
from bot.sandbox.fakes.pinterest import FakePinterest
from bot.sandbox.fakes.tiktok import FakeTikTok
from bot.sandbox.fakes.x import FakeX, image_type, is_video
from bot.sandbox.fakes.youtube import FakeYouTube
from bot.sandbox.kept import KeptFile, count_position
from bot.sandbox.network_pages import LOOKS, Choice, FeedPost, consent_gone_page, consent_page, feed_page

log = logging.getLogger(__name__)

CONSENT_PATH = "/sandbox/consent/"
BLUESKY_HANDLE = "you.bsky.sandbox"  # the handle to give Picmim when connecting Bluesky in the sandbox


def _content_type(data: bytes, fallback: str = "application/octet-stream") -> str:
    if is_video(data):
        return "video/mp4"
    return image_type(data) or fallback


@dataclass
class Pending:
    """A sign-in waiting on the consent page: where the network would have sent the browser at once."""

    simulator: Simulator
    network: str
    location: str  # the callback with code and state, as the fake answered
    params: dict[str, str]
    page: str = ""  # the consent page shown, again if the browser asks for it (reload)


class Simulator:
    """One network's sandbox side around its fake: who signs in, what the consent page offers and does, the
    figures' growth, and the feed."""

    feeds: tuple[str, ...] = ()
    permalink_hosts: tuple[str, ...] = ()  # where the network's post addresses live, beyond its API's hosts
    picture_hosts: tuple[str, ...] = ()  # where the fake says its pictures live (its CDN, its avatars)

    def __init__(self, networks: Networks) -> None:
        self.networks = networks
        self.fake = self.make_fake()
        self.started_at = time.time()
        self.starts: dict[str, int] = {}  # an account's figures when first seen: where their growth starts

    def make_fake(self):
        raise NotImplementedError

    # ---- wiring ---------------------------------------------------------------------------------------

    def credentials(self) -> tuple[str, str] | None:
        return None

    def origins(self) -> dict[str, str]:
        return self.fake.origins()

    def register(self, public_url: str) -> None:
        """Picmim's callbacks are the redirect URIs this network accepts."""
        if hasattr(self.fake, "redirect_uris"):
            self.fake.redirect_uris = {f"{public_url}/oauth/{feed}/callback" for feed in self.feeds}

    # ---- consent --------------------------------------------------------------------------------------

    def consent(self, params: dict[str, str]) -> tuple[str, str, str, list[Choice], bool]:
        """(network look, signed in as, choices' heading, choices, several may be ticked)."""
        raise NotImplementedError

    def choose(self, params: dict[str, str], chosen: list[str]) -> None:
        """Carry out what the person ticked (the grant reaches those only)."""

    def cancelled(self, network: str, params: dict[str, str]) -> dict[str, str]:
        return {"error": "access_denied", "state": params.get("state", "")}

    # ---- figures and feed ------------------------------------------------------------------------------

    def grow(self) -> None:
        """Set every post's figures from its age, and the accounts' followers."""

    def feed(self, feed: str) -> list[FeedPost]:
        return []

    def media(self, key: str) -> tuple[bytes, str] | None:
        return None

    def picture(self, url: str) -> str | None:
        """The name of the picture at one of this network's CDN addresses (from the address alone: it may be shown
        before the post reaches the feed), or None when the address names no picture the simulator holds."""
        return None

    def picture_source(self, name: str) -> tuple[bytes, str] | None:
        """The bytes behind a picture's name: a picture, or a video whose first frame is the picture."""
        return self.media(name)

    # ---- helpers ----------------------------------------------------------------------------------------

    def age(self, post_key: str) -> float:
        return self.networks.age(f"{type(self).__name__}:{post_key}")

    def live_at(self, post_key: str) -> float:
        return self.networks.live_at(f"{type(self).__name__}:{post_key}")

    def followers(self, key: str, current: int) -> int:
        start = self.starts.setdefault(key, current)
        return figures.followers(key, start, time.time() - self.started_at + self.networks.shift)

    def feed_for_host(self, host: str) -> str:
        return self.feeds[0]

    def media_url(self, feed: str, key: str) -> str:
        return f"{self.networks.public_url}/sandbox/{feed}/media/{key}"


# ---- X ----------------------------------------------------------------------------------------------------


class XSimulator(Simulator):
    feeds = ("x",)
    picture_hosts = ("pbs.twimg.com",)

    def make_fake(self):
        return FakeX()

    def credentials(self):
        return self.fake.client_id, self.fake.client_secret

    def consent(self, params):
        user = self.fake.users[self.fake.codes[params["code"]]["user_id"]]
        return "x", f"{user['name']} (@{user['username']})", "", [], True

    def grow(self):
        for post in list(self.fake.posts.values()):
            f = figures.post_figures(post["id"], self.age(post["id"]))
            post["public_metrics"] = {"impression_count": f["impressions"], "like_count": f["likes"],
                                      "retweet_count": f["shares"], "reply_count": f["comments"],
                                      "quote_count": f["shares"] // 3, "bookmark_count": f["saves"]}
        for user in list(self.fake.users.values()):
            metrics = user["public_metrics"]
            metrics["followers_count"] = self.followers(user["id"], metrics["followers_count"])

    def feed(self, feed):
        posts = dict(self.fake.posts)
        children: dict[str, str] = {p["in_reply_to"]: pid for pid, p in posts.items() if p.get("in_reply_to")}
        shown = []
        for pid, post in posts.items():
            parent = posts.get(post.get("in_reply_to") or "")
            if parent is not None and parent["author_id"] == post["author_id"]:
                continue  # a thread's part: shown under its first post
            replies, nxt = [], children.get(pid)
            while nxt in posts:
                replies.append(posts[nxt]["text"])
                nxt = children.get(nxt)
            user = self.fake.users.get(post["author_id"], {"name": "?", "username": "?"})
            images, video = [], ""
            for media_id in post.get("media_ids") or []:
                media = self.fake.media.get(media_id)
                if media is None:
                    continue
                if media.category == "tweet_video":
                    video = self.media_url("x", media_id)
                else:
                    images.append(self.media_url("x", media_id))
            shown.append(FeedPost(pid, user["name"], "@" + user["username"], post["text"], images=images, video=video,
                                  replies=replies, figures=_figures(post.get("public_metrics", {}), {
                                      "impression_count": "impressions", "like_count": "likes",
                                      "retweet_count": "shares", "reply_count": "comments"}),
                                  live_at=self.live_at(pid), matches=(pid,)))
        return shown

    def media(self, key):
        media = self.fake.media.get(key)
        if media is None:
            return None
        data = b"".join(media.segments[i] for i in sorted(media.segments))
        return data, media.media_type

    def picture(self, url):
        # A photo: /media/<prefix>_<media id>.jpg; a video's or GIF's preview: /<folder>/<media id>/pu/img/….
        path = urlsplit(url).path
        found = (re.fullmatch(r"/media/\d+_(\d+)\.\w+", path)
                 or re.fullmatch(r"/(?:ext_tw_video_thumb|tweet_video_thumb)/(\d+)/.*", path))
        return found.group(1) if found else None


def _totals(rows: list[dict[str, int]]) -> dict[str, int]:
    """An account's figures: the sum of its posts'."""
    total: dict[str, int] = {}
    for row in rows:
        for key, value in row.items():
            total[key] = total.get(key, 0) + value
    return total


def _figures(source: dict, names: dict[str, str]) -> dict[str, int]:
    return {ours: int(source[theirs]) for theirs, ours in names.items() if theirs in source}


# ---- LinkedIn ---------------------------------------------------------------------------------------------


class LinkedInSimulator(Simulator):
    feeds = ("linkedin",)
    picture_hosts = ("media.licdn.com",)

    def make_fake(self):
        return FakeLinkedIn()

    def credentials(self):
        return self.fake.client_id, self.fake.client_secret

    def _member(self, params) -> str:
        return self.fake.codes[params["code"]]["user_id"]

    def consent(self, params):
        member = self._member(params)
        name = self.fake.members[member]["name"]
        pages = []
        for acl in self.fake.acls:
            org_id = acl["organization"].rsplit(":", 1)[1]
            if acl["roleAssignee"] == f"urn:li:person:{member}" and org_id in self.fake.orgs and \
                    org_id not in {c.value for c in pages}:
                pages.append(Choice(org_id, f"{self.fake.orgs[org_id]['localizedName']} (company page)"))
        return ("linkedin", name, f"Your profile ({name}) and the company pages Picmim Sandbox may use:", pages,
                True)

    def choose(self, params, chosen):
        member = f"urn:li:person:{self._member(params)}"
        for acl in self.fake.acls:
            if acl["roleAssignee"] == member and acl["state"] in ("APPROVED", "REVOKED"):
                # A page left unticked is out of this grant's reach, as if its role were taken away.
                acl["state"] = "APPROVED" if acl["organization"].rsplit(":", 1)[1] in chosen else "REVOKED"

    def cancelled(self, network, params):
        return {"error": "user_cancelled_authorize", "error_description": "The user cancelled the authorization",
                "state": params.get("state", "")}

    def grow(self):
        for urn in list(self.fake.posts):
            f = figures.post_figures(urn, self.age(urn))
            for metric, value in (("IMPRESSION", f["impressions"]), ("MEMBERS_REACHED", f["reach"]),
                                  ("RESHARE", f["shares"]), ("REACTION", f["likes"]), ("COMMENT", f["comments"])):
                self.fake.member_stats[(urn, metric)] = value
            self.fake.share_stats[urn] = {
                "impressionCount": f["impressions"], "uniqueImpressionsCount": f["reach"], "likeCount": f["likes"],
                "commentCount": f["comments"], "shareCount": f["shares"], "clickCount": f["clicks"],
                "engagement": round((f["likes"] + f["comments"] + f["shares"] + f["clicks"])
                                    / max(f["impressions"], 1), 4)}
        for org_id in list(self.fake.orgs):
            self.fake.followers[org_id] = self.followers(org_id, self.fake.followers.get(org_id, 150))
            entity = f"urn:li:organization:{org_id}"
            posts = [self.fake.share_stats[urn] for urn, post in list(self.fake.posts.items())
                     if post["author"] == entity and urn in self.fake.share_stats]
            if posts:  # the page's own totals: what its posts add up to
                self.fake.share_stats[entity] = _totals([{k: v for k, v in p.items() if isinstance(v, int)}
                                                         for p in posts])

    def _author(self, urn: str) -> tuple[str, str]:
        kind, _, ident = urn.rpartition(":")
        if kind.endswith("organization") and ident in self.fake.orgs:
            org = self.fake.orgs[ident]
            return org["localizedName"], f"linkedin.com/company/{org['vanityName']}"
        member = self.fake.members.get(ident)
        return (member["name"] if member else ident), "Profile"

    def feed(self, feed):
        shown = []
        comments = list(self.fake.comments)
        for urn, post in list(self.fake.posts.items()):
            author, handle = self._author(post["author"])
            content = post["body"].get("content") or {}
            images, video, link, link_title = [], "", "", ""
            ids = [i["id"] for i in (content.get("multiImage") or {}).get("images", [])]
            if "media" in content:
                ids.append(content["media"]["id"])
            for media_id in ids:
                if media_id.startswith("urn:li:video:"):
                    video = self.media_url("linkedin", media_id)
                elif media_id.startswith("urn:li:image:"):
                    images.append(self.media_url("linkedin", media_id))
            if "article" in content:
                link, link_title = content["article"].get("source", ""), content["article"].get("title", "")
            first = next((c["text"] for c in comments if c["object"] == urn), "")
            stats = self.fake.share_stats.get(urn, {})
            shown.append(FeedPost(urn, author, handle, post["shown_text"], images=images, video=video, link=link,
                                  link_title=link_title, first_comment=first,
                                  figures=_figures(stats, {"impressionCount": "impressions", "likeCount": "likes",
                                                           "commentCount": "comments", "shareCount": "shares",
                                                           "clickCount": "clicks"}),
                                  live_at=self.live_at(urn), matches=(urn,)))
        return shown

    def media(self, key):
        if key in self.fake.images and self.fake.images[key].get("data"):
            data = self.fake.images[key]["data"]
            return data, _content_type(data)
        video = self.fake.videos.get(key)
        if video is not None:
            return b"".join(video.parts[i] for i in sorted(video.parts)), "video/mp4"
        return None


# ---- Meta: Facebook Pages and Instagram ---------------------------------------------------------------------


class MetaSimulator(Simulator):
    feeds = ("facebook", "instagram", "instagram-login")
    permalink_hosts = ("www.facebook.com", "www.instagram.com")
    picture_hosts = ("scontent.cdninstagram.com", "scontent.xx.fbcdn.net", "scontent.cdninstagram.example")

    def make_fake(self):
        fake = FakeMeta()
        self.hidden_tasks: dict[str, list[str]] = {}  # pages left unticked: their tasks, to give back later
        return fake

    def origins(self):
        return self.fake.overrides

    def feed_for_host(self, host: str) -> str:
        return "instagram" if "instagram" in host else "facebook"

    def environment(self) -> dict[str, str]:
        return {"META_CLIENT_ID": fake_meta.APP_ID, "META_CLIENT_SECRET": fake_meta.APP_SECRET,
                "INSTAGRAM_CLIENT_ID": fake_meta.IG_APP_ID, "INSTAGRAM_CLIENT_SECRET": fake_meta.IG_APP_SECRET}

    def consent(self, params):
        code = self.fake.codes[params["code"]]
        if code["family"] == "instagram":  # Instagram Login: one of the accounts this browser knows
            current = self.fake.ig_users[code["user"]]
            accounts = [Choice(u.id, f"@{u.username} ({u.name})", u.id == current.id)
                        for u in self.fake.ig_users.values() if u.granted or u.id == current.id]
            return "instagram", f"@{current.username}", "Continue as:", accounts, False
        user = self.fake.fb_users[code["user"]]
        pages = []
        for page_id in sorted({*user.tasks, *self.hidden_tasks}):
            page = self.fake.pages.get(page_id)
            if page is None:
                continue
            ig = self.fake.ig_users.get(page.ig_user_id or "")
            label = f"{page.name} (Facebook Page)" + (f" with Instagram @{ig.username}" if ig else "")
            pages.append(Choice(page_id, label))
        return "facebook", user.name, "The Pages (and their Instagram accounts) Picmim Sandbox may use:", pages, True

    def choose(self, params, chosen):
        code = self.fake.codes[params["code"]]
        if code["family"] == "instagram":
            if chosen and chosen[0] in self.fake.ig_users:
                code["user"] = chosen[0]
            return
        user = self.fake.fb_users[code["user"]]
        for page_id in list(user.tasks):
            if page_id not in chosen:
                self.hidden_tasks[page_id] = user.tasks.pop(page_id)
        for page_id in chosen:
            if page_id in self.hidden_tasks:
                user.tasks[page_id] = self.hidden_tasks.pop(page_id)

    def cancelled(self, network, params):
        if network == "instagram":
            return {"error": "access_denied", "error_reason": "user_denied",
                    "error_description": "The user denied your request.", "state": params.get("state", "")}
        return {"error": "access_denied", "error_code": "200", "error_description": "Permissions error",
                "error_reason": "user_denied", "state": params.get("state", "")}

    def grow(self):
        for media in list(self.fake.ig_media.values()):
            f = figures.post_figures(media.id, self.age(media.id))
            media.like_count, media.comments_count = f["likes"], f["comments"]
            media.insights.update({"reach": f["reach"], "views": f["views"], "likes": f["likes"],
                                   "comments": f["comments"], "saved": f["saves"], "shares": f["shares"],
                                   "total_interactions": f["likes"] + f["comments"] + f["saves"] + f["shares"]})
        for obj in list(self.fake.fb_objects.values()):
            f = figures.post_figures(obj.id, self.age(obj.id))
            obj.reactions, obj.comments, obj.shares = f["likes"], f["comments"], f["shares"]
            obj.insights.update({"post_media_view": f["impressions"], "post_total_media_view_unique": f["reach"],
                                 "post_clicks": f["clicks"], "post_video_views": f["views"]})
        for page in list(self.fake.pages.values()):
            page.followers_count = self.followers(page.id, page.followers_count)
            posts = [o.insights for o in list(self.fake.fb_objects.values()) if o.page_id == page.id]
            if posts:
                total = _totals(posts)
                page.insights.update({"page_media_view": total.get("post_media_view", 0),
                                      "page_total_media_view_unique": total.get("post_total_media_view_unique", 0),
                                      "page_post_engagements": total.get("post_clicks", 0)})
        for ig in list(self.fake.ig_users.values()):
            ig.followers_count = self.followers(ig.id, ig.followers_count)
            posts = [m.insights for m in list(self.fake.ig_media.values()) if m.owner == ig.id]
            if posts:
                total = _totals(posts)
                ig.insights.update({name: total.get(name, 0) for name in (
                    "reach", "views", "likes", "comments", "shares", "total_interactions")}
                    | {"saves": total.get("saved", 0)})

    def _download(self, url: str | None) -> str:
        """The address of a picture or video Meta fetched (served from the bytes it received)."""
        if not url:
            return ""
        for index, (fetched, _) in enumerate(list(self.fake.downloads)):
            if fetched == url:
                return self.media_url("instagram", str(index))
        return url

    def feed(self, feed):
        if feed == "facebook":
            return self._facebook()
        shown = []
        for media in list(self.fake.ig_media.values()):
            owner = self.fake.ig_users.get(media.owner)
            # A carousel's pictures and videos are its children's containers; a single one is its own.
            parts = [self.fake.containers.get(c) for c in media.children] or [self.fake.containers.get(media.container)]
            images, video, poster = [], "", ""
            for part in filter(None, parts):
                if part.media_type in ("VIDEO", "REELS"):
                    video = self._download(part.params.get("video_url") or part.url)
                    poster = self._download(part.params.get("cover_url"))
                else:
                    images.append(self._download(part.params.get("image_url") or part.url))
            shown.append(FeedPost(media.id, owner.name if owner else media.owner,
                                  f"@{owner.username}" if owner else "", media.caption, images=images, video=video,
                                  poster=poster, first_comment=media.comments[0] if media.comments else "",
                                  figures=_figures(media.insights, {"views": "views", "reach": "reach",
                                                                    "likes": "likes", "comments": "comments",
                                                                    "saved": "saves", "shares": "shares"}),
                                  live_at=self.live_at(media.id), matches=(media.id, f"/{media.shortcode}/")))
        return shown

    def _facebook(self) -> list[FeedPost]:
        objects = dict(self.fake.fb_objects)
        attached = {a for o in objects.values() for a in o.attached}
        shown = []
        for obj in objects.values():
            if obj.id in attached or not obj.published or obj.post_id in objects:
                continue
            page = self.fake.pages.get(obj.page_id)
            images = [self._download(objects[a].url) for a in obj.attached if a in objects]
            video = ""
            if obj.kind == "photo":
                images.append(self._download(obj.url))
            elif obj.kind == "video":
                video = self._download(obj.url)
            shown.append(FeedPost(obj.id, page.name if page else obj.page_id, "Facebook Page", obj.message,
                                  title=obj.title or "", images=images, video=video, link=obj.link or "",
                                  figures=_figures(obj.insights, {"post_media_view": "impressions",
                                                                  "post_total_media_view_unique": "reach",
                                                                  "post_clicks": "clicks"})
                                  | {"likes": obj.reactions, "comments": obj.comments, "shares": obj.shares},
                                  live_at=self.live_at(obj.id), matches=(obj.id,)))
        return shown

    def media(self, key):
        downloads = list(self.fake.downloads)
        if key.isdigit() and int(key) < len(downloads):
            data = downloads[int(key)][1]
            return data, _content_type(data)
        return None

    def picture(self, url):
        # Instagram: /v/<folder>/<media id>_n.jpg (a picture), _n.mp4 or _n_thumb.jpg (a video); Facebook:
        # /v/<folder>/<photo or video id>_n.jpg.
        parts = urlsplit(url)
        found = re.fullmatch(r"/v/[^/]+/([\w-]+?)_n(?:_thumb)?\.\w+", parts.path)
        if not found:
            return None
        network = "fb" if parts.hostname == "scontent.xx.fbcdn.net" else "ig"
        return f"{network}-{found.group(1)}"

    def picture_source(self, name):
        network, _, key = name.partition("-")
        if network == "ig":
            media = self.fake.ig_media.get(key)
            if media is None:
                return None
            parts = [self.fake.containers.get(c) for c in media.children] or [self.fake.containers.get(media.container)]
            part = next(filter(None, parts), None)
            if part is None:
                return None
            # A video's cover when one was given, else the video itself (its first frame).
            names = ("cover_url", "video_url") if part.media_type in ("VIDEO", "REELS") else ("image_url",)
            addresses = [part.params.get(n) for n in names] + [part.url]
        elif network == "fb":
            shown = self.fake.fb_objects.get(key)
            addresses = [shown.url] if shown is not None else []
        else:
            return None
        downloads = list(self.fake.downloads)
        for address in filter(None, addresses):
            data = next((data for fetched, data in downloads if fetched == address), None)
            if data:
                return data, _content_type(data)
        return None


# ---- TikTok -----------------------------------------------------------------------------------------------


class TikTokSimulator(Simulator):
    feeds = ("tiktok",)
    permalink_hosts = ("www.tiktok.com",)
    picture_hosts = ("p16-sign.tiktokcdn-us.com", "p16.tiktokcdn.example")

    def make_fake(self):
        fake = FakeTikTok()
        fake.add_creator("open-sandbox")
        return fake

    def credentials(self):
        return self.fake.client_key, self.fake.client_secret

    def origins(self):
        return {f"https://{host}": self.fake.url for host in ("www.tiktok.com", "open.tiktokapis.com",
                                                              "open-upload.tiktokapis.com")}

    def register(self, public_url: str) -> None:
        super().register(public_url)
        if f"{public_url}/" not in self.fake.verified_url_prefixes:  # photos are pulled from Picmim's media links
            self.fake.verified_url_prefixes.append(f"{public_url}/")

    def consent(self, params):
        open_id, _ = self.fake.codes[params["code"]]
        creator = self.fake.creators.get(open_id)
        who = f"{creator.display_name} (@{creator.username})" if creator else open_id
        return "tiktok", who, "", [], True

    def cancelled(self, network, params):
        return {"error": "access_denied", "error_description": "The user denied the authorization.",
                "state": params.get("state", "")}

    def grow(self):
        for post_id in list(self.fake.videos):
            f = figures.post_figures(post_id, self.age(post_id))
            self.fake.videos[post_id] = {"view_count": f["views"], "like_count": f["likes"],
                                         "comment_count": f["comments"], "share_count": f["shares"]}
        for creator in list(self.fake.creators.values()):
            creator.follower_count = self.followers(creator.open_id, creator.follower_count)
            likes = [self.fake.videos.get(p.post_id, {}).get("like_count", 0)
                     for p in list(self.fake.publishes.values()) if p.open_id == creator.open_id and p.post_id]
            creator.likes_count = self.starts.setdefault(f"likes:{creator.open_id}", creator.likes_count) \
                + sum(likes)

    def feed(self, feed):
        shown = []
        for publish in list(self.fake.publishes.values()):
            if publish.status != "PUBLISH_COMPLETE" or not publish.post_id:
                continue
            creator = self.fake.creators.get(publish.open_id)
            info = publish.post_info or {}
            video = self.media_url("tiktok", publish.publish_id) if publish.kind == "video" else ""
            images = list(publish.urls) if publish.kind == "photo" else []
            if publish.kind == "video" and publish.source != "FILE_UPLOAD" and publish.urls:
                video = publish.urls[0]
            text = info.get("description") or info.get("title") or ""
            shown.append(FeedPost(publish.post_id, creator.display_name if creator else publish.open_id,
                                  f"@{creator.username}" if creator else "", text,
                                  title=info.get("title", "") if publish.kind == "photo" else "",
                                  images=images, video=video,
                                  figures=_figures(self.fake.videos.get(publish.post_id, {}), {
                                      "view_count": "views", "like_count": "likes", "comment_count": "comments",
                                      "share_count": "shares"}),
                                  live_at=self.live_at(publish.post_id), matches=(publish.post_id,)))
        return shown

    def media(self, key):
        publish = self.fake.publishes.get(key)
        if publish is None or not publish.received:
            return None
        return bytes(publish.received), "video/mp4"

    def picture(self, url):
        # A video's cover: /obj/<bucket>/<video id>~tplv-….image
        found = re.fullmatch(r"/obj/[^/]+/(\d+)~[^/]*", urlsplit(url).path)
        return found.group(1) if found else None

    def picture_source(self, name):
        publish = next((p for p in list(self.fake.publishes.values()) if p.post_id == name), None)
        return self.media(publish.publish_id) if publish is not None else None


# ---- YouTube ----------------------------------------------------------------------------------------------


class YouTubeSimulator(Simulator):
    feeds = ("youtube",)
    permalink_hosts = ("www.youtube.com", "youtu.be")
    picture_hosts = ("i.ytimg.com", "yt3.ggpht.example")

    def make_fake(self):
        fake = FakeYouTube()
        fake.add_user("1100220033", title="Acme Channel", custom_url="@acmechannel")
        fake.add_user("1100220044", title="Acme Shorts", custom_url="@acmeshorts", subscribers=800)
        return fake

    def credentials(self):
        return self.fake.client_id, self.fake.client_secret

    def origins(self):
        return {f"https://{host}": self.fake.url for host in ("accounts.google.com", "oauth2.googleapis.com",
                                                              "www.googleapis.com", "youtube.googleapis.com",
                                                              "youtubeanalytics.googleapis.com")}

    def consent(self, params):
        current = self.fake.codes[params["code"]]["sub"]
        channels = [Choice(sub, f"{ch[0].title} ({ch[0].custom_url})", sub == current)
                    for sub, ch in self.fake.users.items() if ch]
        return "youtube", "you@acme.example", "Choose the YouTube channel Picmim Sandbox may use:", channels, False

    def choose(self, params, chosen):
        if chosen and chosen[0] in self.fake.users:
            self.fake.codes[params["code"]]["sub"] = chosen[0]

    def grow(self):
        for video_id, video in list(self.fake.videos.items()):
            f = figures.post_figures(video_id, self.age(video_id))
            video["statistics"] = {"viewCount": str(f["views"]), "likeCount": str(f["likes"]), "favoriteCount": "0",
                                   "commentCount": str(f["comments"])}
        for channels in list(self.fake.users.values()):
            for channel in channels:
                channel.subscribers = self.followers(channel.id, channel.subscribers)
                views = [int(v["statistics"]["viewCount"]) for v in list(self.fake.videos.values())
                         if v["snippet"].get("channelId") == channel.id]
                channel.views = self.starts.setdefault(f"views:{channel.id}", channel.views) + sum(views)

    def feed(self, feed):
        titles = {c.id: c for channels in self.fake.users.values() for c in channels}
        shown = []
        for video_id, video in list(self.fake.videos.items()):
            snippet = video["snippet"]
            channel = titles.get(snippet.get("channelId", ""))
            poster = self.media_url("youtube", f"{video_id}.thumbnail") if video_id in self.fake.thumbnails else ""
            stats = {k: int(v) for k, v in video.get("statistics", {}).items()}
            shown.append(FeedPost(video_id, channel.title if channel else "YouTube channel",
                                  channel.custom_url if channel else "", snippet.get("description", ""),
                                  title=snippet.get("title", ""), video=self.media_url("youtube", video_id),
                                  poster=poster, figures=_figures(stats, {"viewCount": "views", "likeCount": "likes",
                                                                          "commentCount": "comments"}),
                                  live_at=self.live_at(video_id), matches=(video_id,)))
        return shown

    def media(self, key):
        if key.endswith(".thumbnail"):
            data = self.fake.thumbnails.get(key.removesuffix(".thumbnail"))
            return (data, _content_type(data)) if data else None
        video = self.fake.videos.get(key)
        return (video["_bytes"], "video/mp4") if video else None

    def picture(self, url):
        # YouTube's fixed address for every video: /vi/<video id>/<size>.jpg
        found = re.fullmatch(r"/vi(?:_webp)?/([\w-]+)/[^/]+", urlsplit(url).path)
        return found.group(1) if found else None

    def picture_source(self, name):
        # The thumbnail the channel set, else the video itself (its first frame), as YouTube picks one.
        return self.media(f"{name}.thumbnail") or self.media(name)


# ---- Pinterest --------------------------------------------------------------------------------------------


class PinterestSimulator(Simulator):
    feeds = ("pinterest",)
    permalink_hosts = ("www.pinterest.com",)
    picture_hosts = ("i.pinimg.com",)

    def make_fake(self):
        return FakePinterest()

    def credentials(self):
        return self.fake.client_id, self.fake.client_secret

    def consent(self, params):
        user_id = self.fake.codes[params["code"]]["user_id"]
        account = self.fake.accounts[user_id]
        boards = [Choice(board_id, board["name"]) for board_id, board in self.fake.boards.items()
                  if board["_user_id"] in (user_id, _HIDDEN + user_id)]
        return ("pinterest", f"{account.get('business_name') or account['username']} (@{account['username']})",
                "The boards Picmim Sandbox may pin to:", boards, True)

    def choose(self, params, chosen):
        user_id = self.fake.codes[params["code"]]["user_id"]
        for board_id, board in self.fake.boards.items():
            if board["_user_id"] in (user_id, _HIDDEN + user_id):
                # A board left unticked is out of this grant's reach: not listed, no pins on it.
                board["_user_id"] = user_id if board_id in chosen else _HIDDEN + user_id

    def grow(self):
        for pin_id in list(self.fake.pins):
            f = figures.post_figures(pin_id, self.age(pin_id))
            self.fake.pin_lifetime[pin_id] = {"IMPRESSION": f["impressions"], "SAVE": f["saves"],
                                              "PIN_CLICK": f["clicks"], "OUTBOUND_CLICK": f["clicks"] // 2}
        for account in list(self.fake.accounts.values()):
            account["follower_count"] = self.followers(account["id"], account["follower_count"])
            boards = {b_id for b_id, b in list(self.fake.boards.items()) if b["_user_id"] == account["id"]}
            pins = [self.fake.pin_lifetime[p] for p, pin in list(self.fake.pins.items())
                    if pin["board_id"] in boards and p in self.fake.pin_lifetime]
            if pins:
                self.fake.account_summary[account["id"]] = _totals(pins)

    def feed(self, feed):
        shown = []
        for pin_id, pin in list(self.fake.pins.items()):
            board = self.fake.boards.get(pin["board_id"], {})
            data = self.fake.pin_media.get(pin_id) or b""
            video = self.media_url("pinterest", pin_id) if is_video(data) else ""
            images = [self.media_url("pinterest", pin_id)] if data and not video else []
            shown.append(FeedPost(pin_id, pin["board_owner"]["username"], "", pin.get("description") or "",
                                  title=pin.get("title") or "", board=board.get("name", ""), images=images,
                                  video=video, link=pin.get("link") or "",
                                  figures=_figures(self.fake.pin_lifetime.get(pin_id, {}), {
                                      "IMPRESSION": "impressions", "SAVE": "saves", "PIN_CLICK": "clicks"}),
                                  live_at=self.live_at(pin_id), matches=(pin_id,)))
        return shown

    def media(self, key):
        data = self.fake.pin_media.get(key)
        return (data, _content_type(data)) if data else None


# ---- Bluesky ----------------------------------------------------------------------------------------------


class BlueskySimulator(Simulator):
    feeds = ("bluesky",)
    permalink_hosts = ("bsky.app",)
    picture_hosts = ("cdn.bsky.app", "video.bsky.app", "cdn.bsky.example")

    def make_fake(self):
        fake = FakeBluesky()
        fake.add_account(BLUESKY_HANDLE, display_name="Acme on Bluesky")
        return fake

    def origins(self):
        pds = self.fake.pds_url
        return {bluesky_oauth.PLC_DIRECTORY: pds, bluesky_oauth.HANDLE_RESOLVER: pds,
                f"https://{BLUESKY_HANDLE}": pds}

    def consent(self, params):
        did = self.fake.codes[params["code"]]["did"]
        account = self.fake.accounts[did]
        return "bluesky", f"{account.display_name} (@{account.handle})", "", [], True

    def cancelled(self, network, params):
        return {"error": "access_denied", "error_description": "Access denied", "state": params.get("state", ""),
                "iss": params.get("iss", "")}

    def grow(self):
        for uri, entry in list(self.fake.records.items()):
            f = figures.post_figures(uri, self.age(uri))
            entry["counts"].update({"likeCount": f["likes"], "repostCount": f["shares"],
                                    "replyCount": f["comments"], "quoteCount": f["shares"] // 3})
        for account in list(self.fake.accounts.values()):
            account.followers = self.followers(account.did, account.followers)

    def feed(self, feed):
        records = dict(self.fake.records)
        posts = {uri: e for uri, e in records.items() if "/app.bsky.feed.post/" in uri}
        children = {(e["record"].get("reply") or {}).get("parent", {}).get("uri"): uri for uri, e in posts.items()
                    if e["record"].get("reply")}
        shown = []
        for uri, entry in posts.items():
            record = entry["record"]
            if record.get("reply"):
                continue
            did, rkey = uri.removeprefix("at://").split("/")[0], uri.rsplit("/", 1)[1]
            account = self.fake.accounts.get(did)
            replies, nxt = [], children.get(uri)
            while nxt in posts:
                replies.append(posts[nxt]["record"].get("text", ""))
                nxt = children.get(nxt)
            images, video, link, link_title = self._embed(record.get("embed") or {})
            counts = entry["counts"]
            shown.append(FeedPost(rkey, account.display_name if account else did,
                                  f"@{account.handle}" if account else "", record.get("text", ""), images=images,
                                  video=video, link=link, link_title=link_title, replies=replies,
                                  figures=_figures(counts, {"likeCount": "likes", "repostCount": "shares",
                                                            "replyCount": "comments"}),
                                  live_at=self.live_at(uri), matches=(f"/post/{rkey}",)))
        return shown

    def _embed(self, embed: dict) -> tuple[list[str], str, str, str]:
        media = embed.get("media") or embed  # recordWithMedia keeps the pictures under `media`
        images = [self.media_url("bluesky", i["image"]["ref"]["$link"]) for i in media.get("images", [])
                  if isinstance(i.get("image"), dict) and "ref" in i["image"]]
        video = ""
        if isinstance(media.get("video"), dict) and "ref" in media["video"]:
            video = self.media_url("bluesky", media["video"]["ref"]["$link"])
        external = embed.get("external") or {}
        return images, video, external.get("uri", ""), external.get("title", "")

    def media(self, key):
        blob = self.fake.blobs.get(key)
        return (blob["data"], blob["mimeType"]) if blob else None

    def picture(self, url):
        # Pictures: /img/<size>/plain/<did>/<blob cid>@jpeg; a video's: /watch/<did>/<blob cid>/thumbnail.jpg
        path = urlsplit(url).path
        found = (re.fullmatch(r"/img/[^/]+/plain/[^/]+/(\w+)@\w+", path)
                 or re.fullmatch(r"/watch/[^/]+/(\w+)/thumbnail\.jpg", path))
        return found.group(1) if found else None


_HIDDEN = "hidden-from-this-grant:"


SIMULATORS: tuple[type[Simulator], ...] = (XSimulator, LinkedInSimulator, MetaSimulator, TikTokSimulator,
                                           YouTubeSimulator, PinterestSimulator, BlueskySimulator)


# ---- the networks together ----------------------------------------------------------------------------------


class Networks:
    """Every simulated network, for `python -m bot sandbox` (bot/sandbox/run.py) and the tests."""

    def __init__(self, public_url: str, state_dir: pathlib.Path):
        self.public_url = public_url.rstrip("/")
        self.state_dir = state_dir  # where the networks' data is kept between runs (STATE_FILE)
        self.shift = 0.0  # seconds every post and account is made older by (`age_posts`)
        self._live: dict[str, float] = {}
        self._pending: dict[str, Pending] = {}
        self._tickets = itertools.count(1)
        self._frames: dict[tuple[str, str], bytes] = {}  # a video's first frame, by (platform, picture name)
        self.simulators = [cls(self) for cls in SIMULATORS]
        for simulator in self.simulators:
            simulator.fake.keeps_calls = False
            self._install(simulator)
        self._kept = KeptFile(state_dir / STATE_FILE, self._snapshot)
        # Each simulator's kept state as last taken (pickled), and those that changed since.
        self._taken: dict[str, dict[str, tuple[str, Any]]] = {}
        self._changed = {type(s).__name__ for s in self.simulators}

    # ---- the interface ----------------------------------------------------------------------------------

    def start(self) -> Networks:
        """Every simulator on its loopback port, with what it held when the sandbox last stopped (accounts, grants,
        posts), so connections made then still work."""
        self._load()
        for simulator in self.simulators:
            simulator.fake.start()
            simulator.register(self.public_url)
        self._kept.start()
        return self

    def stop(self) -> None:
        self._kept.stop()  # no background write while the simulators stop: the last one follows
        for simulator in self.simulators:
            simulator.fake.stop()
        self._kept.write()

    def environment(self) -> dict[str, str]:
        """The app's settings for reaching the simulators as it reaches the real networks."""
        env: dict[str, str] = {}
        overrides: dict[str, str] = {}
        for simulator in self.simulators:
            pair = simulator.credentials()
            if pair:
                prefix = _PREFIXES[simulator.feeds[0]]
                env[f"{prefix}_CLIENT_ID"], env[f"{prefix}_CLIENT_SECRET"] = pair
            if isinstance(simulator, MetaSimulator):
                env |= simulator.environment()
            overrides |= simulator.origins()
        env["PICMIM_ORIGIN_OVERRIDES"] = ",".join(f"{real}={local}" for real, local in overrides.items())
        return env

    def add_routes(self, app: web.Application) -> None:
        # Only the networks' own names: the rest of /sandbox/… belongs to the simulated Slack workspace's page.
        platform = "{platform:" + "|".join(re.escape(feed) for feed in self._feeds()) + "}"
        app.router.add_get(f"/sandbox/{platform}", self._feed)
        app.router.add_get(f"/sandbox/{platform}/media/{{key}}", self._media)
        app.router.add_get(f"/sandbox/{platform}/open", self._open)

    def posts(self, platform: str) -> list[dict]:
        """What a feed shows, newest first: id, author, handle, text, title, board, images, video, poster, link,
        link_title, replies, first_comment, figures (impressions, likes, …) and live_at."""
        fake = self.simulator(platform).fake
        if fake._loop is None:  # not started: nothing else touches its state
            return [p.as_dict() for p in self._posts(platform)]

        async def read() -> list[FeedPost]:
            return self._posts(platform)

        # On the simulator's own loop, where its handlers change the same data (a short wait for the caller).
        return [p.as_dict() for p in fake.run(read())]

    # ---- beyond the interface: for the sandbox page and the tests ----------------------------------------------

    def feed_link(self, url: str) -> str | None:
        """The sandbox feed address showing the post a network's permalink (the `url` Picmim keeps) names, or None
        when no simulated network has it."""
        host = urlsplit(url).hostname or ""
        for simulator in self.simulators:
            hosts = {urlsplit(real).hostname for real in simulator.origins()} | set(simulator.permalink_hosts)
            if host not in hosts:
                continue
            for feed in simulator.feeds:
                for post in simulator.feed(feed):
                    if any(m and m in unquote(url) for m in post.matches):
                        return f"{self.public_url}/sandbox/{feed}#post-{post.id}"
        return None

    def feeds(self) -> list[tuple[str, str]]:
        """Each feed's platform key and the network's name, for a page linking to them (PUBLIC_URL/sandbox/<key>)."""
        return [(feed, LOOKS[_LOOK.get(feed, feed)][0] + (" (direct login)" if feed == "instagram-login" else ""))
                for feed in self._feeds()]

    def browser_link(self, url: str) -> str:
        """Where a person's browser should go for a link Picmim shows (a post's address on a network): the sandbox
        feed's `open` route when a simulated network has that address's host, else the link itself. For pages that
        show Picmim's messages (the simulated Slack workspace), at render time: the post need not exist yet."""
        host = urlsplit(url).hostname or ""
        for simulator in self.simulators:
            if host in simulator.permalink_hosts or host in {urlsplit(o).hostname for o in simulator.origins()}:
                feed = simulator.feed_for_host(host)
                return f"{self.public_url}/sandbox/{feed}/open?{urlencode({'url': url})}"
        return url

    def browser_image(self, url: str) -> str | None:
        """Where a person's browser should fetch a picture Picmim shows: Picmim's own addresses as they are; a
        simulated network's picture address (its CDN, YouTube's fixed thumbnail address) as the sandbox address
        serving the simulator's own bytes (a neutral picture when it holds none); None for any other host, which
        the sandbox page never fetches (it shows the picture's alt text instead)."""
        if url.startswith("/") and not url.startswith("//"):
            return url
        if url == self.public_url or url.startswith(f"{self.public_url}/"):
            return url
        host = urlsplit(url).hostname or ""
        for simulator in self.simulators:
            if host in simulator.picture_hosts:
                name = simulator.picture(url)
                key = f"{quote(name, safe='')}{PICTURE}" if name else PLACEHOLDER
                return simulator.media_url(simulator.feeds[0], key)
        return None

    def age_posts(self, seconds: float) -> None:
        """Make every post and account `seconds` older (their figures grow as if that time had passed)."""
        self.shift += seconds
        for key in self._live:
            self._live[key] -= seconds
        self._kept.changed()

    def simulator(self, platform: str) -> Simulator:
        return next(s for s in self.simulators if platform in s.feeds)

    # ---- kept between runs --------------------------------------------------------------------------------

    def _changed_on(self, simulator: Simulator) -> None:
        """A request reached `simulator` (a grant, a post, an account seen): its state is saved soon."""
        self._changed.add(type(simulator).__name__)
        self._kept.changed()

    def _snapshot(self) -> dict:
        """What the networks hold, for the kept file: each changed simulator's state taken on its own loop (where
        its handlers change it), the others' as taken before."""
        for simulator in self.simulators:
            name = type(simulator).__name__
            if name not in self._changed:
                continue
            self._changed.discard(name)

            def take(simulator=simulator) -> dict:
                simulator.grow()  # every post has its time live, so its figures carry on from there
                return {"fake": _kept(simulator.fake, _NOT_FAKE_STATE),
                        "simulator": _kept(simulator, {"networks", "fake"})}

            try:
                if simulator.fake._loop is None:  # not started, or stopped: nothing else touches its state
                    self._taken[name] = take()
                else:
                    self._taken[name] = simulator.fake.run(_now(take))
            except BaseException:
                self._changed.add(name)  # taken at the next try
                raise
        return {"live": dict(self._live), "shift": self.shift, "simulators": dict(self._taken)}

    def _load(self) -> None:
        state = self._kept.read()
        if state is None:
            return
        try:  # all read first: a simulator is restored whole or not at all
            restored = {name: {part: _read(kept[part]) for part in ("fake", "simulator")}
                        for name, kept in state["simulators"].items()}
        except (pickle.UnpicklingError, EOFError, AttributeError, ImportError, TypeError, ValueError) as exc:
            log.warning("The simulated networks start afresh: their saved state cannot be read (%s)",
                        type(exc).__name__)
            return
        self._live, self.shift = state["live"], state["shift"]
        for simulator in self.simulators:
            kept = restored.get(type(simulator).__name__)
            if kept:
                vars(simulator.fake).update(kept["fake"])
                vars(simulator).update(kept["simulator"])

    # ---- ages ---------------------------------------------------------------------------------------------

    def live_at(self, key: str) -> float:
        """When a post went live: when the simulator first saw it."""
        return self._live.setdefault(key, time.time())

    def age(self, key: str) -> float:
        return time.time() - self.live_at(key)

    # ---- sandbox mode on each fake -------------------------------------------------------------------------

    def _install(self, simulator: Simulator) -> None:
        """Wrap the fake's applications with the sandbox middleware (consent page, growing figures)."""
        build = simulator.fake.applications

        def applications() -> list[web.Application]:
            apps = build()
            for app in apps:
                app.middlewares.insert(0, self._middleware(simulator))
            return apps

        simulator.fake.applications = applications

    def _middleware(self, simulator: Simulator) -> Callable:
        @web.middleware
        async def sandbox(request: web.Request, handler) -> web.StreamResponse:
            if request.path.startswith(CONSENT_PATH):
                return await self._answer_consent(request, simulator)
            simulator.grow()
            try:
                response = await handler(request)
            except web.HTTPFound as found:
                response = found
            finally:
                self._changed_on(simulator)
            location = response.headers.get("Location", "") if response.status in (302, 303) else ""
            params = dict(parse_qsl(urlsplit(location).query))
            if request.method == "GET" and "code" in params and "state" in params:
                return self._ask(simulator, location, params)
            if isinstance(response, web.HTTPException) and response.status == 302:
                raise response
            return response

        return sandbox

    def _ask(self, simulator: Simulator, location: str, params: dict) -> web.Response:
        """The consent page in place of the fake's immediate consent."""
        network, who, heading, choices, many = simulator.consent(params)
        ticket = f"{next(self._tickets)}-{params['state'][:12]}"
        page = consent_page(network, who, heading, choices, f"{CONSENT_PATH}{ticket}", many)
        self._pending[ticket] = Pending(simulator, network, location, params, page)
        return web.Response(text=page, content_type="text/html", headers={"Cache-Control": "no-store"})

    async def _answer_consent(self, request: web.Request, simulator: Simulator) -> web.Response:
        ticket = request.path.removeprefix(CONSENT_PATH)
        pending = self._pending.get(ticket)
        if pending is None:
            return web.Response(status=400, content_type="text/html", text=consent_gone_page(simulator.feeds[0]))
        if request.method != "POST":
            return web.Response(text=pending.page, content_type="text/html", headers={"Cache-Control": "no-store"})
        del self._pending[ticket]
        form = await request.post()
        if form.get("answer") != "allow":
            target = urlsplit(pending.location)
            query = urlencode(pending.simulator.cancelled(pending.network, pending.params))
            return web.Response(status=302, headers={"Location": f"{target.scheme}://{target.netloc}{target.path}"
                                                                 f"?{query}"})
        pending.simulator.choose(pending.params, [str(v) for v in form.getall("choice", [])])
        self._changed_on(pending.simulator)
        return web.Response(status=302, headers={"Location": pending.location})

    # ---- feeds ---------------------------------------------------------------------------------------------

    def _posts(self, platform: str) -> list[FeedPost]:
        simulator = self.simulator(platform)
        simulator.grow()
        return sorted(simulator.feed(platform), key=lambda p: p.live_at, reverse=True)

    def _feeds(self) -> list[str]:
        return [feed for s in self.simulators for feed in s.feeds]

    async def _feed(self, request: web.Request) -> web.Response:
        platform = request.match_info["platform"]
        posts = await self._on_simulator(platform, lambda: self._posts(platform))
        return web.Response(text=feed_page(_LOOK.get(platform, platform), posts), content_type="text/html",
                            headers={"Content-Security-Policy": FEED_CSP, "Cache-Control": "no-store"})

    async def _media(self, request: web.Request) -> web.Response:
        platform, key = request.match_info["platform"], request.match_info["key"]
        if key == PLACEHOLDER or key.endswith(PICTURE):
            return await self._picture(platform, key)
        found = await self._on_simulator(platform, lambda: self.simulator(platform).media(key))
        if not found:
            raise web.HTTPNotFound()
        data, kind = found
        return web.Response(body=data, content_type=kind or mimetypes.guess_type(key)[0] or "application/octet-stream")

    async def _picture(self, platform: str, key: str) -> web.Response:
        """A picture `browser_image` named: the simulator's picture, a video's first frame, or the neutral picture
        (an image either way: the page shows something in its place, never a broken image)."""
        name = key.removesuffix(PICTURE)
        simulator = self.simulator(platform)
        found = None
        if key != PLACEHOLDER:
            found = await self._on_simulator(platform, lambda: simulator.picture_source(name))
        data, kind = found or (b"", "")
        if data and is_video(data):
            cache_key = (platform, name)
            if cache_key not in self._frames:
                # Decoding takes a moment: off the event loop, once per video.
                self._frames[cache_key] = await asyncio.to_thread(_first_frame, data)
            data, kind = self._frames[cache_key], "image/jpeg"
        if not data or not image_type(data):
            data, kind = placeholder_png(), "image/png"
        return web.Response(body=data, content_type=image_type(data) or kind,
                            headers={"Cache-Control": "no-store"})

    async def _open(self, request: web.Request) -> web.Response:
        """GET /sandbox/<platform>/open?url=<permalink>: the feed at that post (or the feed's top)."""
        platform = request.match_info["platform"]
        url = request.query.get("url", "")
        target = await self._on_simulator(platform, lambda: self.feed_link(url))
        raise web.HTTPFound(target or f"{self.public_url}/sandbox/{platform}")

    async def _on_simulator(self, platform: str, read: Callable[[], Any]) -> Any:
        """Read a simulator's state on its own loop (its handlers change it there)."""
        fake = self.simulator(platform).fake

        async def run() -> Any:
            return read()

        return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(run(), fake._loop))


STATE_FILE = "networks.pickle"
PICTURE = ".picture"  # a media key ending so names a picture `browser_image` gave (Simulator.picture)
PLACEHOLDER = "placeholder.png"  # the neutral picture for an address of a network's that names nothing it holds


def _first_frame(video: bytes) -> bytes:
    """A video's first picture as JPEG (empty when it cannot be decoded: the neutral picture is shown instead)."""
    try:
        return cover_jpeg(video, 0)
    except Exception:  # noqa: BLE001 - any undecodable upload just shows the neutral picture
        log.info("A video in the simulated networks has no picture to show; the sandbox shows a neutral one")
        return b""


@functools.cache
def placeholder_png() -> bytes:
    """A plain grey picture, made here: what the sandbox shows where a network would show a picture it lacks."""
    out = io.BytesIO()
    Image.new("RGB", (480, 270), (221, 225, 230)).save(out, "PNG")
    return out.getvalue()
# A feed runs its own script (it polls itself) and plays the videos it shows; nothing from elsewhere.
FEED_CSP = ("default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'unsafe-inline'; "
            "img-src 'self' data:; media-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
# What a fake holds that is not the network's data: its server's plumbing, the calls it logged, injected faults.
_NOT_FAKE_STATE = {"lock", "calls", "ports", "_loop", "_thread", "_runners", "_stopping", "_session", "_release",
                   "_faults", "_failures", "_hangs", "_rate_limits", "_injections", "applications", "fetched"}


def _now(take: Callable[[], Any]):
    async def run() -> Any:
        return take()

    return run()


def _kept(owner: object, left_out: set[str]) -> dict[str, tuple[str, Any]]:
    """The attributes worth keeping between runs, pickled as they are now; id counters as where they stand."""
    kept: dict[str, tuple[str, Any]] = {}
    for name, value in vars(owner).items():
        if name in left_out:
            continue
        if isinstance(value, itertools.count):
            kept[name] = ("count", count_position(value))
            continue
        try:
            kept[name] = ("pickled", pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL))
        except (pickle.PicklingError, TypeError, AttributeError):
            continue
    return kept


def _read(kept: dict[str, tuple[str, Any]]) -> dict[str, Any]:
    """The attributes `_kept` took, as they were."""
    values: dict[str, Any] = {}
    for name, (kind, value) in kept.items():
        if kind == "count":
            values[name] = itertools.count(*value)
        else:  # "pickled"; "value" in files saved before the networks were saved on each change
            values[name] = pickle.loads(value) if kind == "pickled" else value
    return values


_PREFIXES = {"x": "X", "linkedin": "LINKEDIN", "tiktok": "TIKTOK", "youtube": "GOOGLE", "pinterest": "PINTEREST"}
_LOOK = {"instagram-login": "instagram"}
