"""Video optimisation end to end, through the real server process: a phone's HEVC .mov attached in the
compose modal is optimised once in the background (its progress in the post's Slack message) and published
to TikTok (pulled from Picmim's media link) and to Instagram (a Reel) as an H.264 MP4 each fake accepts,
with the chosen cover frame; a video longer than the creator's TikTok limit is refused inline, for TikTok
only. Slack, TikTok and Meta are local fakes."""

from __future__ import annotations

import asyncio
import io
import json
import time

import av
import httpx
import pytest
from PIL import Image
from sqlalchemy import select

from bot import ids
from bot.http import build_client
from bot.platforms.base import AdapterConfig
from bot.platforms.instagram import ADAPTER as InstagramAdapter
from bot.platforms.tiktok import ADAPTER as TikTokAdapter
from bot.sandbox.fakes import meta as meta_fake
from bot.sandbox.fakes.meta import FakeMeta
from bot.sandbox.fakes.slack_files import SlackFiles
from bot.sandbox.fakes.tiktok import FakeTikTok
from bot.storage import db
from bot.storage.models import Account, MediaRendition, Post, PostTarget, RenditionStatus, TargetStatus
from tests.conftest import SECRET_KEY, SIGNING_SECRET
from tests.fakes.media import make_clip
from tests.journeys import poll_server, update_compose
from tests.platform_fixtures import connect_and_choose, store_connected
from tests.server import ServerProcess, base_env, free_port
from tests.slack_requests import SlackSender

BOT_TOKEN = "xoxb-fake-T0001"
TEAM, USER, CHANNEL = "T0001", "U0001", "C0001"
IG_USER = "17841400000001"
WAIT = 60.0  # seconds any one step may take on a slow, shared machine
CREATOR_LIMIT = 5  # the TikTok creator may post videos up to 5 seconds

# An iPhone's slow motion in miniature: HEVC in a MOV, 120 frames a second, stored landscape and turned
# to portrait by its metadata, the index at the end, AAC sound. TikTok and Instagram both take at most 60.
PHONE = make_clip(codec="libx265", fmt="mov", width=640, height=360, fps=120, seconds=3.2, rotation=270)
LONG = make_clip(seconds=6.0, fps=24)  # longer than the creator's TikTok limit; fine for Instagram
SLACK_FILES = {"IMG_0042.MOV": (PHONE, "video/quicktime"), "long.mp4": (LONG, "video/mp4")}


def tiktok_origins(fake: FakeTikTok) -> dict[str, str]:
    return {origin: fake.url for origin in ("https://open.tiktokapis.com", "https://open-upload.tiktokapis.com",
                                            "https://www.tiktok.com")}


@pytest.fixture(scope="module")
def fakes():
    tiktok = FakeTikTok().start()
    tiktok.add_creator("open-1", max_video_post_duration_sec=CREATOR_LIMIT)
    tiktok.processing_polls = 0
    meta = FakeMeta().start()
    started = {"tiktok": tiktok, "meta": meta, "files": SlackFiles(SLACK_FILES).start()}
    yield started
    for fake in started.values():
        fake.stop()


@pytest.fixture(scope="module")
def server(module_database, fake_slack, fakes, tmp_path_factory):
    port = free_port()
    public = f"http://127.0.0.1:{port}"
    tiktok, meta = fakes["tiktok"], fakes["meta"]
    meta.video_processing_polls = 0
    tiktok.verified_url_prefixes.append(f"{public}/media/")  # the URL prefix verified in TikTok's portal
    overrides = meta.overrides | tiktok_origins(tiktok)
    env = base_env(SLACK_SIGNING_SECRET=SIGNING_SECRET, SLACK_BOT_TOKEN=BOT_TOKEN, SLACK_API_URL=fake_slack.api_url,
                   DATABASE_URL=module_database.url, PICMIM_SECRET_KEY=SECRET_KEY, PORT=str(port),
                   PUBLIC_URL=public, PICMIM_TICK_SECONDS="0.5", PICMIM_HEALTH_SECONDS="3600",
                   PICMIM_ANALYTICS_SECONDS="3600",
                   PICMIM_ORIGIN_OVERRIDES=",".join(f"{real}={local}" for real, local in overrides.items()),
                   META_CLIENT_ID=meta_fake.APP_ID, META_CLIENT_SECRET=meta_fake.APP_SECRET,
                   TIKTOK_CLIENT_ID=tiktok.client_key, TIKTOK_CLIENT_SECRET=tiktok.client_secret,
                   TIKTOK_VIDEO_SOURCE="PULL_FROM_URL")
    process = ServerProcess(env, cwd=tmp_path_factory.mktemp("video")).start()
    try:
        accounts = asyncio.run(_connect(module_database.url, public, meta, tiktok))
        yield process, public, accounts
    finally:
        process.stop()


async def _connect(url: str, public: str, meta: FakeMeta, tiktok: FakeTikTok) -> dict[str, int]:
    """What `/picmim connect` and choosing the account leave behind: the real code exchange against each
    fake, then the rows a finished connect writes (TikTok's creator info in the account's settings)."""
    tiktok.redirect_uris = {f"{public}/oauth/tiktok/callback"}
    async with build_client(meta.overrides | tiktok_origins(tiktok)) as http:
        chosen = {}
        for key, adapter_class, client_id, secret, external_id in (
                ("tiktok", TikTokAdapter, tiktok.client_key, tiktok.client_secret, None),
                ("instagram", InstagramAdapter, meta_fake.APP_ID, meta_fake.APP_SECRET, IG_USER)):
            redirect = f"{public}/oauth/{key}/callback"
            adapter = adapter_class(AdapterConfig(client_id=client_id, client_secret=secret, redirect_uri=redirect,
                                                  public_url=public), http)
            chosen[key] = await connect_and_choose(adapter, http, redirect, None, external_id)
    return await store_connected(url, TEAM, USER, chosen)


@pytest.fixture
def sender(server):
    s = SlackSender(server[0].url, SIGNING_SECRET)
    yield s
    s.close()


# ---- talking to the server as Slack does ----------------------------------------------------------------


def _j(value):
    return json.loads(value) if isinstance(value, str) else value


def _open_modal(sender, slack) -> dict:
    assert sender.command("post", response_url=slack.response_url("post")).status_code == 200
    [opened] = slack.wait_for("views.open", timeout=WAIT)
    return _j(opened.params["view"])


def _state(opened: dict, account_ids: list[int], text: str, files: list[dict], *, cover: str | None = None,
           privacy: str | None = None) -> dict:
    """Every input of the opened modal as Slack sends it on submit: the video boxes as they were opened."""
    values: dict[str, dict] = {}
    for block in opened["blocks"]:
        if block["type"] != "input":
            continue
        block_id, element = block["block_id"], block["element"]
        kind = element["type"]
        if block_id == ids.COMPOSE_TEXT_BLOCK:
            value = {"value": text}
        elif block_id == ids.COMPOSE_MEDIA_BLOCK:
            value = {"files": files}
        elif block_id == ids.COMPOSE_ACCOUNTS_BLOCK:
            value = {"selected_options": [{"value": str(i), "text": {"type": "plain_text", "text": str(i)}}
                                          for i in account_ids]}
        elif block_id == ids.COMPOSE_WHEN_BLOCK:
            value = {"selected_option": {"value": "now"}}
        elif block_id == ids.COMPOSE_AT_BLOCK:
            value = {"selected_date_time": None}
        elif block_id == ids.COMPOSE_VIDEO_BLOCK:
            value = {"selected_options": element.get("initial_options", [])}
        elif block_id == ids.COMPOSE_COVER_BLOCK:
            value = {"value": cover}
        elif block_id == ids.COMPOSE_TIKTOK_PRIVACY_BLOCK:
            value = {"selected_option": {"value": privacy} if privacy else None}
        else:
            value = {"value": None}
        values[block_id] = {element["action_id"]: {"type": kind, **value}}
    return {"values": values}


def _chosen(sender, slack, opened: dict, account_ids: list[int]) -> dict:
    """The modal once the accounts are chosen: each network's part and the video choices come up."""
    return update_compose(sender, slack, _state(opened, account_ids, "", []), view=opened,
                          metadata=json.dumps({"channel_id": CHANNEL}))


def _submit(sender, opened: dict, state: dict):
    payload = {"type": "view_submission", "team": {"id": TEAM, "domain": "acme"},
               "user": {"id": USER, "team_id": TEAM}, "api_app_id": "A0PICMIM", "token": "deprecated",
               "trigger_id": f"trigger-{time.time_ns()}",
               "view": {"id": "V1", "team_id": TEAM, "type": "modal", "callback_id": opened["callback_id"],
                        "private_metadata": json.dumps({"channel_id": CHANNEL}), "state": state,
                        "hash": f"h{time.time_ns()}", "blocks": opened["blocks"]},
               "is_cleared": False}
    return sender.interaction(payload)




def _messages(slack, needle: str) -> list[dict]:
    """The blocks of every status message sent or updated that contain `needle`."""
    found = []
    for call in slack.calls_to("chat.postMessage") + slack.calls_to("chat.update"):
        blocks = _j(call.params.get("blocks"))
        if needle in json.dumps(blocks, ensure_ascii=False):
            found.append(blocks)
    return found


async def _rows(url: str, text: str):
    engine = db.create_engine(url)
    try:
        async with db.session_factory(engine)() as session:
            posts = list(await session.scalars(select(Post).where(Post.text == text)))
            targets = {platform: target for target, platform in await session.execute(
                select(PostTarget, Account.platform).join(Account, Account.id == PostTarget.account_id)
                .join(Post, Post.id == PostTarget.post_id).where(Post.text == text))}
            made = list(await session.scalars(select(MediaRendition)))
            return posts, targets, made
    finally:
        await engine.dispose()


def _video(data: bytes) -> dict:
    """What a player finds in these bytes."""
    with av.open(io.BytesIO(data)) as container:
        stream = container.streams.video[0]
        audio = [s.codec_context.codec.canonical_name for s in container.streams.audio]
        first = next(container.decode(stream))
        return {"format": container.format.name, "codec": stream.codec_context.codec.canonical_name,
                "fps": float(stream.average_rate), "size": (first.width, first.height), "turn": first.rotation,
                "audio": audio, "index_first": data.find(b"moov") < data.find(b"mdat")}


# ---- the journeys ------------------------------------------------------------------------------------------


def test_a_phone_video_is_optimised_once_and_published_to_tiktok_and_instagram(server, fakes, sender, slack,
                                                                             module_database):
    process, public, accounts = server
    tiktok, meta, files = fakes["tiktok"], fakes["meta"], fakes["files"]
    text = f"Slow motion from the launch {time.time_ns()}"

    opened = _chosen(sender, slack, _open_modal(sender, slack), [accounts["tiktok"], accounts["instagram"]])
    blocks = {b.get("block_id"): b for b in opened["blocks"]}
    boxes = blocks[ids.COMPOSE_VIDEO_BLOCK]["element"]
    assert [o["value"] for o in boxes["initial_options"]] == ["optimise"], "Optimise video is on by default"
    assert [o["value"] for o in boxes["options"]] == ["optimise", "trim"]
    assert blocks[ids.COMPOSE_COVER_BLOCK]["element"]["type"] == "number_input"
    assert blocks[ids.COMPOSE_TIKTOK_PRIVACY_BLOCK]["element"]["type"] == "static_select"

    answer = _submit(sender, opened, _state(opened, [accounts["tiktok"], accounts["instagram"]], text,
                                            [files.file("IMG_0042.MOV")], cover="1.5", privacy="PUBLIC_TO_EVERYONE"))
    assert answer.status_code == 200 and answer.text in ("", "null"), answer.text

    # The post's message says the video is being optimised, for both platforms at once (one copy).
    poll_server("the optimising line", lambda: _messages(slack, "Optimising video for TikTok and Instagram…"), process)
    posts, targets, made = poll_server("both published", lambda: (lambda r: r if {t.status for t in r[1].values()} == {
        TargetStatus.PUBLISHED} else None)(asyncio.run(_rows(module_database.url, text))), process)
    [post] = posts
    [rendition] = made
    assert rendition.status is RenditionStatus.READY and rendition.attempts == 1, "made once, for both"

    # TikTok pulled an H.264 MP4 from Picmim's media link, with the cover frame chosen.
    [publish] = [p for p in tiktok.publishes.values() if p.post_info.get("title") == text]
    assert publish.source == "PULL_FROM_URL" and publish.status == "PUBLISH_COMPLETE"
    assert publish.urls[0].startswith(f"{public}/media/")
    info = publish.post_info
    assert info["video_cover_timestamp_ms"] == 1500 and info["privacy_level"] == "PUBLIC_TO_EVERYONE"
    pulled = httpx.get(publish.urls[0]).content
    sent = _video(pulled)
    assert sent == {"format": "mov,mp4,m4a,3gp,3g2,mj2", "codec": "h264", "fps": 60.0, "size": (360, 640),
                    "turn": 0, "audio": ["aac"], "index_first": True}
    assert pulled[8:12] != b"qt  ", "an MP4, not a MOV"

    # Instagram fetched the same copy for the Reel (its spec: index first, H.264, AAC, at most 60 fps).
    [(reel_url, reel)] = [(u, d) for u, d in meta.downloads if u in (publish.urls[0],) or d == pulled]
    assert reel == pulled and reel_url.startswith(f"{public}/media/")
    [container] = [c for c in meta.containers.values() if c.caption == text]
    assert container.media_type == "REELS" and container.thumb_offset == "1500" and container.problem is None
    assert targets["instagram"].remote_url and targets["tiktok"].remote_url

    # The final message shows both links and the cover frame as a thumbnail, and no more progress.
    final = poll_server("the final message", lambda: [b for b in _messages(slack, text) if
                                                json.dumps(b).count("view the post") == 2], process)[-1]
    assert "Optimising" not in json.dumps(final)
    thumbnail = final[0]["accessory"]
    assert thumbnail["type"] == "image" and thumbnail["image_url"].startswith(f"{public}/media/")
    cover = Image.open(io.BytesIO(httpx.get(thumbnail["image_url"]).content))
    assert cover.format == "JPEG" and cover.size[1] > cover.size[0], "upright: portrait, as the phone showed it"
    assert post.options["video_cover_timestamp_ms"] == 1500


def test_a_video_longer_than_the_creators_limit_is_refused_for_tiktok_only(server, fakes, sender, slack,
                                                                          module_database):
    process, public, accounts = server
    files = fakes["files"]
    text = f"The whole keynote {time.time_ns()}"
    opened = _chosen(sender, slack, _open_modal(sender, slack), [accounts["tiktok"], accounts["instagram"]])
    answer = _submit(sender, opened, _state(opened, [accounts["tiktok"], accounts["instagram"]], text,
                                            [files.file("long.mp4")], privacy="SELF_ONLY"))
    body = answer.json()
    assert body["response_action"] == "errors" and list(body["errors"]) == [ids.COMPOSE_MEDIA_BLOCK], body
    said = body["errors"][ids.COMPOSE_MEDIA_BLOCK]
    assert said.startswith("TikTok takes videos up to 5 s; long.mp4 is 6 s: trim it."), said
    assert "Instagram" in said and "Picmim moves it" in said, "what Picmim fixes for Instagram is said too"
    assert "Instagram takes" not in said and "Instagram needs videos" not in said
    posts, _, _ = asyncio.run(_rows(module_database.url, text))
    assert posts == []

    # Instagram alone takes it (its copy gets the index moved to the front).
    answer = _submit(sender, opened, _state(opened, [accounts["instagram"]], text, [files.file("long.mp4")]))
    assert answer.status_code == 200 and answer.text in ("", "null"), answer.text
    posts, targets, _ = poll_server("the Reel", lambda: (lambda r: r if r[1] and r[1]["instagram"].status is
                                                   TargetStatus.PUBLISHED else None)(
        asyncio.run(_rows(module_database.url, text))), process)
    assert list(targets) == ["instagram"]
