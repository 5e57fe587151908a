"""Link cards and YouTube's own post, end to end (issue 18): the real server with Bluesky, LinkedIn and YouTube
connected (each a local fake reached through PICMIM_ORIGIN_OVERRIDES) and a company's web page (a local host
mapped from https://roastery.example). Driven as a person drives Slack: open `/picmim post`, type a text with a
link, choose the account; the window shows the page's card once Picmim fetched it; submit. Then what each fake
received is checked: a Bluesky post whose app.bsky.embed.external card carries the page's title, description and
its picture uploaded as a blob under Bluesky's 1,000,000 bytes (the page's picture is bigger: the fake refuses a
bigger thumb, as the PDS does); a LinkedIn link post whose article has the page's title and a thumbnail uploaded
through the Images API; a YouTube Short whose attached picture became its thumbnail (thumbnails.set) and which
was added to the chosen playlist (playlistItems.insert)."""

from __future__ import annotations

import asyncio
import io
import os
import time

import pytest
from PIL import Image

from bot import ids
from bot.http import build_client
from bot.platforms import bluesky_oauth, oauth
from bot.platforms.base import AdapterConfig, RemoteAccount, TokenSet
from bot.platforms.linkedin import ADAPTER as LinkedInAdapter
from bot.platforms.youtube import ADAPTER as YouTubeAdapter
from bot.sandbox.fakes.bluesky import FakeBluesky
from bot.sandbox.fakes.linkedin import FakeLinkedIn
from bot.sandbox.fakes.slack_files import SlackFiles
from bot.sandbox.fakes.youtube import FakeYouTube
from bot.secret import Secret
from tests.conftest import SECRET_KEY, SIGNING_SECRET
from tests.fakes.media import make_clip, make_image
from tests.fakes.media_host import MediaHost
from tests.journeys import (
    accepted,
    blocks_of,
    picked,
    poll_server,
    submit_view,
    ticked,
    typed,
    update_compose,
    view_state,
    wait_until,
)
from tests.platform_fixtures import connect_and_choose, make_adapter, store_connected
from tests.server import ServerProcess, base_env, free_port
from tests.slack_requests import SlackSender

BOT_TOKEN = "xoxb-fake-T0001"
TEAM, USER = "T0001", "U0001"
YT_SUB = "1100220044"
BSKY_HANDLE = "acme.bsky.test"
MEMBER = "urn:li:person:x7Yq2LmN0p"  # the fake LinkedIn's member
SITE = "https://roastery.example"
WAIT = 60.0
GOOGLE_HOSTS = ("https://accounts.google.com", "https://oauth2.googleapis.com", "https://www.googleapis.com",
                "https://youtubeanalytics.googleapis.com")


def _photo() -> bytes:
    """The page's og:image: a detailed 1600×1200 JPEG well over Bluesky's 1,000,000-byte thumb limit."""
    buffer = io.BytesIO()
    Image.frombytes("RGB", (1600, 1200), os.urandom(1600 * 1200 * 3)).save(buffer, "JPEG", quality=95)
    return buffer.getvalue()


PHOTO = _photo()
PAGE = ("<!doctype html><html><head><title>Roastery news</title>"
        '<meta property="og:title" content="The Yirgacheffe roast is here">'
        '<meta property="og:description" content="Bright, floral and out this week in every shop.">'
        '<meta property="og:image" content="/img/yirgacheffe.jpg"></head><body>…</body></html>').encode()
SHORT = make_clip(seconds=1.0, fps=24)  # 360×640: vertical and under 3 minutes, so a Short
THUMB = make_image(1280, 720, "PNG")
SLACK_FILES = {"short.mp4": (SHORT, "video/mp4"), "thumb.png": (THUMB, "image/png")}


# ---- the fakes, the server and the connected accounts -------------------------------------------------


@pytest.fixture(scope="module")
def fakes():
    youtube = FakeYouTube().start()
    youtube.add_user(YT_SUB)
    youtube.processing_polls = 0
    bluesky = FakeBluesky().start()
    bluesky.add_account(BSKY_HANDLE)
    site = MediaHost().start()
    site.serve(PAGE, "text/html; charset=utf-8", "/news/yirgacheffe")
    site.serve(PHOTO, "image/jpeg", "/img/yirgacheffe.jpg")
    started = {"youtube": youtube, "bluesky": bluesky, "linkedin": FakeLinkedIn().start(), "site": site,
               "files": SlackFiles(SLACK_FILES).start()}
    yield started
    for fake in started.values():
        fake.stop()


def _overrides(fakes) -> dict[str, str]:
    bsky = fakes["bluesky"].pds_url
    return ({o: fakes["youtube"].url for o in GOOGLE_HOSTS} | fakes["linkedin"].origins()
            | {bluesky_oauth.PLC_DIRECTORY: bsky, bluesky_oauth.HANDLE_RESOLVER: bsky, SITE: fakes["site"].url})


@pytest.fixture(scope="module")
def server(module_database, fake_slack, fakes, tmp_path_factory):
    port = free_port()
    public = f"http://127.0.0.1:{port}"
    yt, li = fakes["youtube"], fakes["linkedin"]
    env = base_env(SLACK_SIGNING_SECRET=SIGNING_SECRET, SLACK_BOT_TOKEN=BOT_TOKEN, SLACK_API_URL=fake_slack.api_url,
                   DATABASE_URL=module_database.url, PICMIM_SECRET_KEY=SECRET_KEY, PORT=str(port),
                   PUBLIC_URL=public, PICMIM_TICK_SECONDS="0.5", PICMIM_HEALTH_SECONDS="3600",
                   PICMIM_ANALYTICS_SECONDS="3600",
                   PICMIM_ORIGIN_OVERRIDES=",".join(f"{real}={local}" for real, local in _overrides(fakes).items()),
                   GOOGLE_CLIENT_ID=yt.client_id, GOOGLE_CLIENT_SECRET=yt.client_secret,
                   LINKEDIN_CLIENT_ID=li.client_id, LINKEDIN_CLIENT_SECRET=li.client_secret)
    process = ServerProcess(env, cwd=tmp_path_factory.mktemp("linkcards")).start()
    try:
        yield process, asyncio.run(_connect(module_database.url, public, fakes))
    finally:
        process.stop()


async def _connect(url: str, public: str, fakes) -> dict[str, int]:
    """What connecting leaves behind: the real code exchange against YouTube and LinkedIn (the channel's playlists
    synced with it), and a Bluesky session issued by the fake's authorization server."""
    yt, li, bsky = fakes["youtube"], fakes["linkedin"], fakes["bluesky"]
    for key, fake in (("youtube", yt), ("linkedin", li)):
        fake.redirect_uris = {f"{public}/oauth/{key}/callback"}
    async with build_client(_overrides(fakes)) as http:
        youtube = YouTubeAdapter(AdapterConfig(client_id=yt.client_id, client_secret=yt.client_secret,
                                               redirect_uri=f"{public}/oauth/youtube/callback", public_url=public),
                                 http)
        linkedin = make_adapter(LinkedInAdapter, li, http, f"{public}/oauth/linkedin/callback")
        granted = {
            "youtube": await connect_and_choose(youtube, http, f"{public}/oauth/youtube/callback", oauth.new_pkce()),
            "linkedin": await connect_and_choose(linkedin, http, f"{public}/oauth/linkedin/callback", None, MEMBER),
        }
    did = next(a.did for a in bsky.accounts.values() if a.handle == BSKY_HANDLE)
    jwk = bluesky_oauth.dpop_key_to_jwk(bluesky_oauth.new_dpop_key())
    access, refresh = bsky.session(did, jwk)
    extra = {"did": did, "handle": BSKY_HANDLE, "pds": bsky.pds_url, "issuer": bsky.as_url,
             "token_endpoint": f"{bsky.as_url}/oauth/token", "dpop_private_jwk": jwk}
    granted["bluesky"] = (TokenSet(access_token=Secret(access), external_user_id=did, display_name=BSKY_HANDLE,
                                   refresh_token=Secret(refresh), extra=extra),
                          RemoteAccount(did, "profile", "Acme on Bluesky", handle=BSKY_HANDLE))
    return await store_connected(url, TEAM, USER, granted)


@pytest.fixture
def sender(server):
    s = SlackSender(server[0].url, SIGNING_SECRET)
    yield s
    s.close()


# ---- driving the window ---------------------------------------------------------------------------------


def _setting(platform: str, field: str) -> str:
    return f"{ids.COMPOSE_SETTING_BLOCK}{platform}:{field}"


def _open(sender, slack) -> dict:
    before = len(slack.calls_to("views.open"))
    assert sender.command("post", response_url=slack.response_url("post")).status_code == 200
    opened = slack.wait_for("views.open", count=before + 1, timeout=WAIT)[-1]
    return blocks_of(opened.params["view"])


def _chosen(sender, slack, account_id: int, text: str, files: list[dict]) -> dict:
    opened = _open(sender, slack)
    state = view_state(opened, {ids.COMPOSE_TEXT_BLOCK: typed(text), ids.COMPOSE_MEDIA_BLOCK: {"files": files},
                                ids.COMPOSE_ACCOUNTS_BLOCK: ticked(str(account_id))})
    return update_compose(sender, slack, state, view=opened)


def _card_preview(slack, platform: str) -> dict:
    """The window once the page's card came in: Picmim's second views.update, after the first one answered."""
    block_id = f"compose_card_preview_{platform}"

    def shown():
        for call in reversed(slack.calls_to("views.update")):
            blocks = {b.get("block_id"): b for b in blocks_of(call.params["view"])["blocks"]}
            if block_id in blocks:
                return blocks[block_id]
        return None

    return wait_until(shown, "the link card preview", timeout=WAIT)


def _submit(sender, view: dict, state: dict):
    accepted(submit_view(sender, view, state))


def _filled(view: dict, text: str, files: list[dict], account_id: int, changed: dict | None = None) -> dict:
    return view_state(view, {ids.COMPOSE_TEXT_BLOCK: typed(text), ids.COMPOSE_MEDIA_BLOCK: {"files": files},
                             ids.COMPOSE_ACCOUNTS_BLOCK: ticked(str(account_id)), **(changed or {})})


def _status_texts(slack) -> str:
    return " ".join(str(c.params) for c in slack.calls if c.method in ("chat.postMessage", "chat.update"))


# ---- Bluesky ----------------------------------------------------------------------------------------------


def test_a_bluesky_post_with_a_link_card_and_its_thumbnail_uploaded(server, fakes, sender, slack):
    process, accounts = server
    bsky = fakes["bluesky"]
    link = f"{SITE}/news/yirgacheffe"
    text = f"New on the shelves {time.time_ns()}: {link}"

    view = _chosen(sender, slack, accounts["bluesky"], text, [])
    card = _card_preview(slack, "bluesky")
    shown = card["text"]["text"]
    assert "*The Yirgacheffe roast is here*" in shown and "Bright, floral" in shown and link in shown
    assert card["accessory"]["image_url"] == f"{SITE}/img/yirgacheffe.jpg"

    _submit(sender, view, _filled(view, text, [], accounts["bluesky"]))
    [record] = poll_server("the Bluesky post", lambda: [r["record"] for r in list(bsky.records.values())
                                                        if r["record"]["text"] == text], process)
    embed = record["embed"]
    assert embed["$type"] == "app.bsky.embed.external"
    external = embed["external"]
    assert external["uri"] == link
    assert external["title"] == "The Yirgacheffe roast is here"
    assert external["description"] == "Bright, floral and out this week in every shop."
    blob = bsky.blobs[external["thumb"]["ref"]["$link"]]
    assert blob["mimeType"] == "image/jpeg" and blob["size"] <= 1_000_000 < len(PHOTO)
    with Image.open(io.BytesIO(blob["data"])) as thumb:
        assert thumb.width / thumb.height == pytest.approx(1600 / 1200, rel=0.01)
    # The link stays a link in the text too (a facet), and the card came from the page, fetched on Picmim's side.
    assert any(f["features"][0].get("uri") == link for f in record["facets"])
    assert fakes["site"].fetched(f"{SITE}/img/yirgacheffe.jpg".replace(SITE, fakes["site"].url)) >= 1


def test_a_link_to_a_private_address_gets_no_card_and_the_post_still_goes(server, fakes, sender, slack):
    process, accounts = server
    bsky = fakes["bluesky"]
    text = f"Our intranet {time.time_ns()}: http://10.0.0.7/admin"

    view = _chosen(sender, slack, accounts["bluesky"], text, [])
    block = wait_until(lambda: next((b for call in reversed(slack.calls_to("views.update"))
                                     for b in blocks_of(call.params["view"])["blocks"]
                                     if "No link card" in str(b)), None),
                       "the refusal in the window", timeout=WAIT)
    assert "private or local addresses" in str(block)

    _submit(sender, view, _filled(view, text, [], accounts["bluesky"]))
    [record] = poll_server("the Bluesky post", lambda: [r["record"] for r in list(bsky.records.values())
                                                        if r["record"]["text"] == text], process)
    assert "embed" not in record
    poll_server("the reason on the post's status message",
                lambda: "Posted without a link card" in _status_texts(slack), process)


# ---- LinkedIn ---------------------------------------------------------------------------------------------


def test_a_linkedin_link_post_is_an_article_with_title_and_thumbnail(server, fakes, sender, slack):
    process, accounts = server
    li = fakes["linkedin"]
    link = f"{SITE}/news/yirgacheffe"
    text = f"Meet our new roast {time.time_ns()} {link}"

    # The account chosen before the link is typed: the window says what a link becomes; Preview link card, pressed
    # once the link is in, fetches its card.
    view = _chosen(sender, slack, accounts["linkedin"], "Meet our new roast", [])
    assert "A link in the text becomes a card on LinkedIn" in str(view["blocks"])
    assert "compose_card_preview_linkedin" not in str(view["blocks"])
    view = update_compose(sender, slack, _filled(view, text, [], accounts["linkedin"]),
                          action_id=ids.COMPOSE_LINK_PREVIEW, view=view)
    assert "The Yirgacheffe roast is here" in _card_preview(slack, "linkedin")["text"]["text"]
    _submit(sender, view, _filled(view, text, [], accounts["linkedin"]))

    [post] = poll_server("the LinkedIn post", lambda: [p["body"] for p in list(li.posts.values())
                                                       if p["body"].get("commentary") == text], process)
    article = post["content"]["article"]
    assert article["source"] == link
    assert article["title"] == "The Yirgacheffe roast is here"
    assert article["description"] == "Bright, floral and out this week in every shop."
    image = li.images[article["thumbnail"]]
    assert image["owner"] == MEMBER and image["data"][:3] == b"\xff\xd8\xff"


# ---- YouTube ----------------------------------------------------------------------------------------------


def test_a_youtube_short_with_its_thumbnail_set_and_added_to_a_playlist(server, fakes, sender, slack):
    process, accounts = server
    yt, files = fakes["youtube"], fakes["files"]
    title = f"Roasting the Yirgacheffe {time.time_ns() % 100000}"
    attached = [files.file("short.mp4", original_w=360, original_h=640, duration_ms=1000), files.file("thumb.png")]

    view = _chosen(sender, slack, accounts["youtube"], title, attached)
    blocks = {b.get("block_id"): b for b in view["blocks"]}
    playlist = blocks[_setting("youtube", "playlist_id")]
    assert playlist["label"]["text"] == "Playlist"
    assert [o["text"]["text"] for o in playlist["element"]["options"]] == ["No playlist", "Roast days", "Events"]
    assert "This video will be a YouTube Short" in str(view["blocks"])

    _submit(sender, view, _filled(view, title, attached, accounts["youtube"], {
        _setting("youtube", "made_for_kids"): picked("no"),
        _setting("youtube", "playlist_id"): picked("PLroastdays01")}))

    [video_id] = poll_server("the video", lambda: [i for i, v in list(yt.videos.items())
                                                   if v["snippet"]["title"] == title], process)
    poll_server("the thumbnail", lambda: video_id in yt.thumbnails, process)
    with Image.open(io.BytesIO(yt.thumbnails[video_id])) as thumb:
        assert thumb.size == (1280, 720)
    [item] = poll_server("the playlist item", lambda: [i for i in list(yt.playlist_items)
                                                       if i["snippet"]["resourceId"]["videoId"] == video_id], process)
    assert item["snippet"]["playlistId"] == "PLroastdays01"
    poll_server("the Short's link in the status message",
                lambda: f"youtube.com/shorts/{video_id}" in _status_texts(slack), process)
