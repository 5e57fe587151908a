"""Instagram and Facebook post types end to end (issue 18), through the real server process with an Instagram
account (Facebook Login) and a Facebook Page connected to a local fake Meta: the person chooses "Post type" in
each network's part of the compose window (Post, Reel or Story), and the fake receives what Meta's flows take —
an Instagram Reel kept out of the feed, an Instagram Story (a STORIES container, no caption), a carousel of two
photos and a video, a Facebook Reel through the Video API's upload session (start, the file on rupload, finish)
and a Facebook photo Story. What Meta would refuse for that type is refused beside the attachments, and nothing is
created; the post's status message says what each network gets."""

from __future__ import annotations

import asyncio
import json
import time

import pytest
from sqlalchemy import select

from bot import ids
from bot.http import build_client
from bot.platforms.base import AdapterConfig
from bot.platforms.facebook import ADAPTER as FacebookAdapter
from bot.platforms.instagram import ADAPTER as InstagramAdapter
from bot.sandbox.fakes import meta as meta_fake
from bot.sandbox.fakes.meta import FakeMeta
from bot.sandbox.fakes.slack_files import SlackFiles
from bot.storage import db
from bot.storage.models import Post
from tests.conftest import SECRET_KEY, SIGNING_SECRET
from tests.fakes.media import jpeg, make_clip
from tests.journeys import (
    accepted,
    blocks_by_id,
    blocks_of,
    blocks_text,
    field_errors,
    picked,
    poll_server,
    submit_view,
    ticked,
    typed,
    update_compose,
    view_state,
)
from tests.platform_fixtures import connect_and_choose, store_connected
from tests.server import ServerProcess, base_env, free_port
from tests.slack_requests import SlackSender

BOT_TOKEN = "xoxb-fake-T0001"
TEAM, USER = "T0001", "U0001"
IG_USER, PAGE = "17841400000001", "2001"  # @acmecoffee, and the Acme Coffee Page
WAIT = 60.0  # seconds any one step may take on a slow, shared machine

# Vertical, H.264/AAC with its index first, 3.2 s: a Reel both networks take as it is.
VERTICAL = make_clip(width=540, height=960, fps=30, seconds=3.2, faststart=True)
WIDE = make_clip(width=640, height=360, fps=30, seconds=3.2, faststart=True)  # landscape: no Facebook Reel
LONG = make_clip(width=90, height=160, fps=2, seconds=61, audio=None, faststart=True)  # over a Story's minute
SLACK_FILES = {"reel.mp4": (VERTICAL, "video/mp4"), "wide.mp4": (WIDE, "video/mp4"),
               "long.mp4": (LONG, "video/mp4"), "latte.jpg": (jpeg(1080, 1080), "image/jpeg"),
               "croissant.jpg": (jpeg(1080, 1350), "image/jpeg"), "cover.jpg": (jpeg(540, 960), "image/jpeg")}


def _setting(platform: str, field: str) -> str:
    return f"{ids.COMPOSE_SETTING_BLOCK}{platform}:{field}"


@pytest.fixture(scope="module")
def fakes():
    meta = FakeMeta().start()
    meta.video_processing_polls = 0
    started = {"meta": meta, "files": SlackFiles(SLACK_FILES).start()}
    yield started
    for fake in started.values():
        fake.stop()


@pytest.fixture(scope="module")
def server(module_database, fake_slack, fakes, tmp_path_factory):
    port = free_port()
    public = f"http://127.0.0.1:{port}"
    meta = fakes["meta"]
    env = base_env(SLACK_SIGNING_SECRET=SIGNING_SECRET, SLACK_BOT_TOKEN=BOT_TOKEN, SLACK_API_URL=fake_slack.api_url,
                   DATABASE_URL=module_database.url, PICMIM_SECRET_KEY=SECRET_KEY, PORT=str(port),
                   PUBLIC_URL=public, PICMIM_TICK_SECONDS="0.5", PICMIM_HEALTH_SECONDS="3600",
                   PICMIM_ANALYTICS_SECONDS="3600",
                   PICMIM_ORIGIN_OVERRIDES=",".join(f"{real}={local}" for real, local in meta.overrides.items()),
                   META_CLIENT_ID=meta_fake.APP_ID, META_CLIENT_SECRET=meta_fake.APP_SECRET)
    process = ServerProcess(env, cwd=tmp_path_factory.mktemp("meta-types")).start()
    try:
        yield process, asyncio.run(_connect(module_database.url, public, meta))
    finally:
        process.stop()


async def _connect(url: str, public: str, meta: FakeMeta) -> dict[str, int]:
    """The real code exchange against the fake, then the rows a finished connect writes."""
    granted: set[str] = set()
    async with build_client(meta.overrides) as http:
        chosen = {}
        for key, adapter_class, external_id in (("instagram", InstagramAdapter, IG_USER),
                                                ("facebook", FacebookAdapter, PAGE)):
            redirect = f"{public}/oauth/{key}/callback"
            adapter = adapter_class(AdapterConfig(client_id=meta_fake.APP_ID, client_secret=meta_fake.APP_SECRET,
                                                  redirect_uri=redirect, public_url=public), http)
            chosen[key] = await connect_and_choose(adapter, http, redirect, None, external_id)
            granted |= meta.fb_users["10001"].granted
    # Both adapters sign in as the same Facebook user; Meta keeps what each dialog granted (the fake keeps the last).
    meta.fb_users["10001"].granted = granted
    return await store_connected(url, TEAM, USER, chosen)


@pytest.fixture
def sender(server):
    s = SlackSender(server[0].url, SIGNING_SECRET)
    yield s
    s.close()


# ---- driving the window as a person does ------------------------------------------------------------------


def _window(sender, slack, account_ids: list[int], text: str, files: list[dict]) -> dict:
    """`/picmim post`, then the text, the files and the accounts chosen: the window brought up to date."""
    assert sender.command("post", response_url=slack.response_url("post")).status_code == 200
    [opened] = slack.wait_for("views.open", timeout=WAIT)
    opened = blocks_of(opened.params["view"])
    state = view_state(opened, {ids.COMPOSE_TEXT_BLOCK: typed(text), ids.COMPOSE_MEDIA_BLOCK: {"files": files},
                                ids.COMPOSE_ACCOUNTS_BLOCK: ticked(*map(str, account_ids))})
    return update_compose(sender, slack, state, view=opened)


def _submit(sender, view: dict, text: str, files: list[dict], account_ids: list[int], changed: dict[str, dict]):
    state = view_state(view, {ids.COMPOSE_TEXT_BLOCK: typed(text), ids.COMPOSE_MEDIA_BLOCK: {"files": files},
                              ids.COMPOSE_ACCOUNTS_BLOCK: ticked(*map(str, account_ids)), **changed})
    return submit_view(sender, view, state)





def _nothing_created(url: str, text: str) -> None:
    async def posts() -> list[Post]:
        engine = db.create_engine(url)
        try:
            async with db.session_factory(engine)() as session:
                return list(await session.scalars(select(Post).where(Post.text == text)))
        finally:
            await engine.dispose()

    assert asyncio.run(posts()) == [], "a refused post is not created"


def _status_says(slack, process, text: str, words: str) -> None:
    """The post's status message in Slack (posted or updated) names `words`."""
    def found():
        return [c for c in slack.calls_to("chat.postMessage") + slack.calls_to("chat.update")
                if text in json.dumps(c.params, ensure_ascii=False) and words in blocks_text(c)]
    poll_server(f"a status message saying {words!r}", found, process)


def _ig_media(meta: FakeMeta, text: str | None = None, product: str | None = None) -> list:
    return [m for m in list(meta.ig_media.values())
            if (text is None or m.caption == text) and (product is None or m.product == product)]


# ---- Instagram --------------------------------------------------------------------------------------------


def test_an_instagram_reel_kept_out_of_the_feed_with_its_cover(server, fakes, sender, slack, module_database):
    process, accounts = server
    meta, files = fakes["meta"], fakes["files"]
    text = f"Behind the bar {time.time_ns()}"
    chosen = [accounts["instagram"]]
    photo, video = [files.file("latte.jpg")], [files.file("reel.mp4"), files.file("cover.jpg")]

    view = _window(sender, slack, chosen, text, video)
    shown = blocks_by_id(view)
    kinds = shown[_setting("instagram", "post_type")]["element"]
    assert [(o["value"], o["text"]["text"]) for o in kinds["options"]] == [
        ("post", "Post"), ("reel", "Reel"), ("story", "Story")], "Instagram's own words"
    share = shown[_setting("instagram", "share_to_feed")]["element"]
    assert [o["value"] for o in share["initial_options"]] == ["yes"], "a Reel is shared to the feed unless unticked"

    # A Reel of a photo: refused beside the attachments, nothing created.
    refused = field_errors(_submit(sender, view, text, photo, chosen,
                                   {_setting("instagram", "post_type"): picked("reel")}))
    assert "Reel is one video" in refused[ids.COMPOSE_MEDIA_BLOCK], refused
    _nothing_created(module_database.url, text)

    accepted(_submit(sender, view, text, video, chosen, {_setting("instagram", "post_type"): picked("reel"),
                                                          _setting("instagram", "share_to_feed"): ticked()}))
    [reel] = poll_server("the Reel on Instagram", lambda: _ig_media(meta, text), process)
    assert reel.product == "REELS" and reel.share_to_feed is False
    container = meta.containers[reel.container]
    assert (container.params["media_type"], container.params["share_to_feed"]) == ("REELS", "false")
    assert container.params["cover_url"].startswith("http") and "thumb_offset" not in container.params, \
        "the 9:16 picture attached with the video is the Reel's cover"
    _status_says(slack, process, text, "Reel, not shared to the feed")


def test_an_instagram_story_has_no_caption_and_at_most_a_minute(server, fakes, sender, slack, module_database):
    process, accounts = server
    meta, files = fakes["meta"], fakes["files"]
    text = f"Today's special {time.time_ns()}"
    chosen = [accounts["instagram"]]
    story = {_setting("instagram", "post_type"): picked("story")}

    view = _window(sender, slack, chosen, text, [files.file("long.mp4")])
    refused = field_errors(_submit(sender, view, text, [files.file("long.mp4")], chosen, story))
    assert "3 to 60 seconds" in refused[ids.COMPOSE_MEDIA_BLOCK], refused
    _nothing_created(module_database.url, text)

    before = set(meta.ig_media)
    accepted(_submit(sender, view, text, [files.file("reel.mp4")], chosen, story))
    [posted] = poll_server("the Story on Instagram",
                           lambda: [m for m in _ig_media(meta, product="STORY") if m.id not in before], process)
    container = meta.containers[posted.container]
    assert container.params["media_type"] == "STORIES" and "video_url" in container.params
    assert "caption" not in container.params and posted.caption == "", "a Story has no caption"
    _status_says(slack, process, text, "Story")


def test_an_instagram_carousel_of_two_photos_and_a_video(server, fakes, sender, slack, module_database):
    process, accounts = server
    meta, files = fakes["meta"], fakes["files"]
    text = f"Our week in pictures {time.time_ns()}"
    chosen = [accounts["instagram"]]
    items = [files.file("latte.jpg"), files.file("reel.mp4"), files.file("croissant.jpg")]

    view = _window(sender, slack, chosen, text, items)
    accepted(_submit(sender, view, text, items, chosen, {_setting("instagram", "post_type"): picked("post")}))
    [album] = poll_server("the carousel on Instagram", lambda: _ig_media(meta, text), process)
    assert album.media_type == "CAROUSEL_ALBUM"
    children = [meta.containers[c] for c in album.children]
    assert [c.media_type for c in children] == ["IMAGE", "VIDEO", "IMAGE"], "in the order attached"
    assert all(c.carousel_item for c in children)


# ---- Facebook ---------------------------------------------------------------------------------------------


def test_a_facebook_reel_goes_through_an_upload_session(server, fakes, sender, slack, module_database):
    process, accounts = server
    meta, files = fakes["meta"], fakes["files"]
    text = f"Latte art in 3 seconds {time.time_ns()}"
    chosen = [accounts["facebook"]]
    reel = {_setting("facebook", "post_type"): picked("reel")}

    view = _window(sender, slack, chosen, text, [files.file("reel.mp4")])
    kinds = blocks_by_id(view)[_setting("facebook", "post_type")]["element"]
    assert [o["text"]["text"] for o in kinds["options"]] == ["Post", "Reel", "Story"]
    assert kinds["initial_option"]["value"] == "post"

    refused = field_errors(_submit(sender, view, text, [files.file("wide.mp4")], chosen, reel))
    assert "vertical" in refused[ids.COMPOSE_MEDIA_BLOCK], refused
    _nothing_created(module_database.url, text)

    accepted(_submit(sender, view, text, [files.file("reel.mp4")], chosen, reel))
    [video] = poll_server("the Reel on the Page", lambda: [
        o for o in list(meta.fb_objects.values()) if o.product == "reel" and o.message == text and o.published],
        process)
    start, finish = [c for c in meta.calls_to(f"{PAGE}/video_reels") if c.params.get("video_id") in (None, video.id)
                     and (c.params["upload_phase"] == "start" or c.params.get("video_id") == video.id)][-2:]
    assert start.params["upload_phase"] == "start" and finish.params["video_state"] == "PUBLISHED"
    [upload] = meta.recorded(lambda c: c.host == "rupload.facebook.com" and c.endpoint.endswith(video.id))
    assert upload.status == 200 and upload.params["bytes"] == len(VERTICAL), "the file itself, from offset 0"
    assert not meta.calls_to(f"{PAGE}/videos"), "never the old file_url post to /videos"
    _status_says(slack, process, text, "Reel")


def test_a_facebook_photo_story(server, fakes, sender, slack, module_database):
    process, accounts = server
    meta, files = fakes["meta"], fakes["files"]
    text = f"Fresh out of the oven {time.time_ns()}"
    chosen = [accounts["facebook"]]
    story = {_setting("facebook", "post_type"): picked("story")}
    photos = [files.file("latte.jpg"), files.file("croissant.jpg")]

    view = _window(sender, slack, chosen, text, photos)
    refused = field_errors(_submit(sender, view, text, photos, chosen, story))
    assert "one photo or one video" in refused[ids.COMPOSE_MEDIA_BLOCK], refused
    _nothing_created(module_database.url, text)

    before = {c.params.get("photo_id") for c in meta.calls_to(f"{PAGE}/photo_stories")}
    accepted(_submit(sender, view, text, photos[1:], chosen, story))
    [call] = poll_server("the Story on the Page", lambda: [
        c for c in meta.calls_to(f"{PAGE}/photo_stories") if c.params.get("photo_id") not in before and
        c.status == 200], process)
    photo = meta.fb_objects[call.params["photo_id"]]
    post = meta.fb_objects[photo.post_id]
    assert post.product == "story" and post.message == "", "a Story carries no text"
    _status_says(slack, process, text, "Story")


def test_a_facebook_video_post_is_uploaded_through_a_resumable_session(server, fakes, sender, slack,
                                                                        module_database):
    process, accounts = server
    meta, files = fakes["meta"], fakes["files"]
    text = f"A tour of the roastery {time.time_ns()}"
    chosen = [accounts["facebook"]]
    video = [files.file("wide.mp4")]  # a feed video may be landscape

    view = _window(sender, slack, chosen, text, video)
    accepted(_submit(sender, view, text, video, chosen, {}))
    [posted] = poll_server("the video on the Page", lambda: [
        o for o in list(meta.fb_objects.values()) if o.kind == "video" and o.message == text], process)
    [call] = [c for c in meta.calls_to(f"{PAGE}/videos") if c.params.get("description") == text]
    assert call.host == "graph-video.facebook.com" and "file_url" not in call.params
    handle = call.params["fbuploader_video_file_chunk"]
    [session] = [u for u in list(meta.upload_sessions.values()) if u.handle == handle]
    assert session.data == WIDE, "the file itself, every byte, through the upload session"
