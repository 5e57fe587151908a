"""Each network's own part of the compose window, end to end (issue 17): the real server with YouTube, Pinterest,
X and TikTok connected (each a local fake reached through PICMIM_ORIGIN_OVERRIDES), driven as a person drives
Slack — open `/picmim post`, choose the accounts, the chosen network's part appears, fill it, submit — then
what the fake platform received is checked: a YouTube video's title, privacy, made-for-kids flag and tags; a pin
on the chosen (not the first) board with its title, link and alt text; an X post whose picture has alt text and
whose replies are limited; a TikTok video with comments off and the disclosure set. What a network would refuse
is refused inline, on the field at fault, and nothing is created. Editing a scheduled post from `/picmim queue`
brings its settings back."""

from __future__ import annotations

import asyncio
import json
import time
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from bot import ids
from bot.http import build_client
from bot.platforms import oauth
from bot.platforms.base import AdapterConfig
from bot.platforms.pinterest import ADAPTER as PinterestAdapter
from bot.platforms.tiktok import ADAPTER as TikTokAdapter
from bot.platforms.x import ADAPTER as XAdapter
from bot.platforms.youtube import ADAPTER as YouTubeAdapter
from bot.sandbox.fakes.pinterest import FakePinterest
from bot.sandbox.fakes.slack_files import SlackFiles
from bot.sandbox.fakes.tiktok import FakeTikTok
from bot.sandbox.fakes.x import FakeX
from bot.sandbox.fakes.youtube import FakeYouTube
from bot.storage import db
from bot.storage.models import Post, PostTarget
from tests.conftest import SECRET_KEY, SIGNING_SECRET
from tests.fakes.media import make_clip, make_image
from tests.journeys import (
    accepted,
    blocks_by_id,
    blocks_of,
    field_errors,
    picked,
    poll_server,
    submit_view,
    ticked,
    typed,
    update_compose,
    view_state,
)
from tests.platform_fixtures import connect_and_choose, make_adapter, store_connected
from tests.server import ServerProcess, base_env, free_port
from tests.slack_requests import SlackSender

BOT_TOKEN = "xoxb-fake-T0001"
TEAM, USER, CHANNEL = "T0001", "U0001", "C0001"
YT_SUB = "1100220033"
PIN_USER, FIRST_BOARD, SECOND_BOARD = "549755885175", "1020304050", "1020304051"  # the fake's two boards
WAIT = 60.0  # seconds any one step may take on a slow, shared machine
GOOGLE_HOSTS = ("https://accounts.google.com", "https://oauth2.googleapis.com", "https://www.googleapis.com",
                "https://youtubeanalytics.googleapis.com")
TIKTOK_HOSTS = ("https://open.tiktokapis.com", "https://open-upload.tiktokapis.com", "https://www.tiktok.com")

CLIP = make_clip(seconds=1.0, fps=24)  # an H.264 MP4 with sound, portrait, as phones make them
SLACK_FILES = {"roast.mp4": (CLIP, "video/mp4"), "latte.png": make_image(800, 800, "PNG")}


def _setting(platform: str, field: str) -> str:
    return f"{ids.COMPOSE_SETTING_BLOCK}{platform}:{field}"


def _alt(position: int = 0) -> str:
    return f"{ids.COMPOSE_ALT_BLOCK}{position}"


# ---- the fakes, the server and the connected accounts -------------------------------------------------


@pytest.fixture(scope="module")
def fakes():
    youtube = FakeYouTube().start()
    youtube.add_user(YT_SUB)
    youtube.processing_polls = 0
    tiktok = FakeTikTok().start()
    tiktok.add_creator("open-1")
    tiktok.processing_polls = 0
    started = {"youtube": youtube, "pinterest": FakePinterest().start(), "x": FakeX().start(),
               "tiktok": tiktok, "files": SlackFiles(SLACK_FILES).start()}
    yield started
    for fake in started.values():
        fake.stop()


def _overrides(fakes) -> dict[str, str]:
    return ({o: fakes["youtube"].url for o in GOOGLE_HOSTS} | {o: fakes["tiktok"].url for o in TIKTOK_HOSTS}
            | fakes["pinterest"].origins() | fakes["x"].origins())


@pytest.fixture(scope="module")
def server(module_database, fake_slack, fakes, tmp_path_factory):
    """The server with a YouTube channel, a Pinterest business account, X and TikTok connected: (process,
    account id per platform)."""
    port = free_port()
    public = f"http://127.0.0.1:{port}"
    yt, pin, x, tiktok = fakes["youtube"], fakes["pinterest"], fakes["x"], fakes["tiktok"]
    env = base_env(SLACK_SIGNING_SECRET=SIGNING_SECRET, SLACK_BOT_TOKEN=BOT_TOKEN, SLACK_API_URL=fake_slack.api_url,
                   DATABASE_URL=module_database.url, PICMIM_SECRET_KEY=SECRET_KEY, PORT=str(port),
                   PUBLIC_URL=public, PICMIM_TICK_SECONDS="0.5", PICMIM_HEALTH_SECONDS="3600",
                   PICMIM_ANALYTICS_SECONDS="3600",
                   PICMIM_ORIGIN_OVERRIDES=",".join(f"{real}={local}" for real, local in _overrides(fakes).items()),
                   GOOGLE_CLIENT_ID=yt.client_id, GOOGLE_CLIENT_SECRET=yt.client_secret,
                   PINTEREST_CLIENT_ID=pin.client_id, PINTEREST_CLIENT_SECRET=pin.client_secret,
                   X_CLIENT_ID=x.client_id, X_CLIENT_SECRET=x.client_secret,
                   TIKTOK_CLIENT_ID=tiktok.client_key, TIKTOK_CLIENT_SECRET=tiktok.client_secret)
    process = ServerProcess(env, cwd=tmp_path_factory.mktemp("settings")).start()
    try:
        yield process, asyncio.run(_connect(module_database.url, public, fakes))
    finally:
        process.stop()


async def _connect(url: str, public: str, fakes) -> dict[str, int]:
    """What `/picmim connect <platform>` and ticking the account leave behind: the real code exchange against
    each fake, then the rows a finished connect writes (Pinterest's boards, TikTok's creator info)."""
    yt, pin, x, tiktok = fakes["youtube"], fakes["pinterest"], fakes["x"], fakes["tiktok"]
    for key, fake in (("youtube", yt), ("pinterest", pin), ("x", x), ("tiktok", tiktok)):
        fake.redirect_uris = {f"{public}/oauth/{key}/callback"}
    async with build_client(_overrides(fakes)) as http:
        def redirect(key: str) -> str:
            return f"{public}/oauth/{key}/callback"

        youtube = YouTubeAdapter(AdapterConfig(client_id=yt.client_id, client_secret=yt.client_secret,
                                               redirect_uri=redirect("youtube"), public_url=public), http)
        tiktok_adapter = TikTokAdapter(AdapterConfig(client_id=tiktok.client_key, client_secret=tiktok.client_secret,
                                                     redirect_uri=redirect("tiktok"), public_url=public), http)
        granted = {
            "youtube": await connect_and_choose(youtube, http, redirect("youtube"), oauth.new_pkce()),
            "pinterest": await connect_and_choose(make_adapter(PinterestAdapter, pin, http, redirect("pinterest")),
                                                  http, redirect("pinterest"), None, PIN_USER),
            "x": await connect_and_choose(make_adapter(XAdapter, x, http, redirect("x")), http, redirect("x"),
                                          oauth.new_pkce()),
            "tiktok": await connect_and_choose(tiktok_adapter, http, redirect("tiktok")),
        }
    return await store_connected(url, TEAM, USER, granted)


@pytest.fixture
def sender(server):
    s = SlackSender(server[0].url, SIGNING_SECRET)
    yield s
    s.close()


# ---- driving the window as a person does ------------------------------------------------------------------


def _open(sender, slack) -> dict:
    """`/picmim post`: the compose window as it opens."""
    assert sender.command("post", response_url=slack.response_url("post")).status_code == 200
    [opened] = slack.wait_for("views.open", timeout=WAIT)
    return blocks_of(opened.params["view"])


def _choose(sender, slack, opened: dict, account_ids: list[int], text: str, files: list[dict]) -> dict:
    """The person types the text, attaches the files and chooses the accounts: the window once Picmim brought it
    up to date (each chosen network's part, an alt text field per picture)."""
    state = view_state(opened, {ids.COMPOSE_TEXT_BLOCK: typed(text), ids.COMPOSE_MEDIA_BLOCK: {"files": files},
                                ids.COMPOSE_ACCOUNTS_BLOCK: ticked(*map(str, account_ids))})
    return update_compose(sender, slack, state, view=opened)


def _submit(sender, view: dict, state: dict):
    """Publish (or Schedule) pressed on `view` with `state`."""
    return submit_view(sender, view, state)




def _filled(view: dict, text: str, files: list[dict], account_ids: list[int], changed: dict[str, dict]) -> dict:
    """The window's state on submit: the text, files and accounts, each other input as shown unless changed."""
    return view_state(view, {ids.COMPOSE_TEXT_BLOCK: typed(text), ids.COMPOSE_MEDIA_BLOCK: {"files": files},
                             ids.COMPOSE_ACCOUNTS_BLOCK: ticked(*map(str, account_ids)), **changed})



def _values(element: dict) -> list[str]:
    return [o["value"] for o in element.get("options", [])]


async def _posts(url: str, text: str) -> list[tuple[Post, list[PostTarget]]]:
    engine = db.create_engine(url)
    try:
        async with db.session_factory(engine)() as session:
            posts = list(await session.scalars(select(Post).where(Post.text == text)))
            return [(p, list(await session.scalars(select(PostTarget).where(PostTarget.post_id == p.id))))
                    for p in posts]
    finally:
        await engine.dispose()


def _nothing_created(url: str, text: str) -> None:
    assert asyncio.run(_posts(url, text)) == [], "a refused post is not created"




# ---- YouTube ----------------------------------------------------------------------------------------------


def _youtube_uploads(yt: FakeYouTube, title: str) -> list[dict]:
    return [u.resource for u in list(yt.uploads.values()) if (u.resource.get("snippet") or {}).get("title") == title]


def test_youtube_title_privacy_and_made_for_kids_reach_youtube(server, fakes, sender, slack, module_database):
    process, accounts = server
    yt, files = fakes["youtube"], fakes["files"]
    first_line = f"Roast day {time.time_ns()}"
    text = f"{first_line}\nWe roasted the new Ethiopian beans this morning."
    video = [files.file("roast.mp4")]
    channel = [accounts["youtube"]]

    view = _choose(sender, slack, _open(sender, slack), channel, text, video)
    shown = blocks_by_id(view)
    title, privacy = shown[_setting("youtube", "title")], shown[_setting("youtube", "privacy")]
    kids = shown[_setting("youtube", "made_for_kids")]
    assert title["element"]["initial_value"] == first_line, "the title is prefilled from the text's first line"
    assert title["optional"] is False
    assert privacy["element"]["type"] == "static_select"
    assert _values(privacy["element"]) == ["public", "unlisted", "private"]
    assert kids["element"]["type"] == "radio_buttons" and _values(kids["element"]) == ["yes", "no"]
    assert "initial_option" not in kids["element"], "made for kids is the person's to declare"
    for absent in ("pinterest", "x", "tiktok"):
        assert not [b for b in shown if b.startswith(f"{ids.COMPOSE_SETTING_BLOCK}{absent}:")], absent

    # The title emptied: refused on the title, nothing created.
    refused = field_errors(_submit(sender, view, _filled(view, text, video, channel, {
        _setting("youtube", "title"): typed(None), _setting("youtube", "made_for_kids"): picked("no")})))
    assert list(refused) == [_setting("youtube", "title")], refused
    assert "title" in refused[_setting("youtube", "title")].lower()
    _nothing_created(module_database.url, text)

    # Made for kids not answered: refused on its own field.
    refused = field_errors(_submit(sender, view, _filled(view, text, video, channel, {})))
    assert list(refused) == [_setting("youtube", "made_for_kids")], refused
    _nothing_created(module_database.url, text)
    assert _youtube_uploads(yt, first_line) == []

    title_text = f"Our new roast {time.time_ns() % 100000}"
    accepted(_submit(sender, view, _filled(view, text, video, channel, {
        _setting("youtube", "title"): typed(title_text), _setting("youtube", "privacy"): picked("unlisted"),
        _setting("youtube", "made_for_kids"): picked("no"), _setting("youtube", "tags"): typed("coffee, roast")})))

    [resource] = poll_server("the upload", lambda: _youtube_uploads(yt, title_text), process)
    assert resource["snippet"]["title"] == title_text
    assert resource["snippet"]["description"] == text, "the post's text is the description"
    assert resource["snippet"]["tags"] == ["coffee", "roast"]
    assert resource["status"]["privacyStatus"] == "unlisted"
    assert resource["status"]["selfDeclaredMadeForKids"] is False
    poll_server("the video on the channel", lambda: [v for v in yt.videos.values()
                                               if v["snippet"]["title"] == title_text], process)


# ---- Pinterest --------------------------------------------------------------------------------------------


def test_a_pin_goes_to_the_chosen_board_with_title_link_and_alt_text(server, fakes, sender, slack,
                                                                    module_database):
    process, accounts = server
    pin, files = fakes["pinterest"], fakes["files"]
    text = f"The spring latte is back {time.time_ns()}"
    picture = [files.file("latte.png")]
    chosen = [accounts["pinterest"]]
    board_block = f"{ids.COMPOSE_BOARD_BLOCK}{accounts['pinterest']}"

    view = _choose(sender, slack, _open(sender, slack), chosen, text, picture)
    shown = blocks_by_id(view)
    board = shown[board_block]["element"]
    assert board["type"] == "static_select" and _values(board) == [FIRST_BOARD, SECOND_BOARD], "both boards"
    assert [o["text"]["text"] for o in board["options"]] == ["Spring collection", "Behind the scenes"]
    assert shown[_setting("pinterest", "link")]["element"]["type"] == "url_text_input"
    assert "latte.png" in shown[_alt()]["label"]["text"], "an alt text field for the picture"

    # A link that is not a web address and alt text over Pinterest's 500 characters: each refused on its field.
    refused = field_errors(_submit(sender, view, _filled(view, text, picture, chosen, {
        board_block: picked(SECOND_BOARD), _setting("pinterest", "title"): typed("Spring latte"),
        _setting("pinterest", "link"): typed("not a link"), _alt(): typed("a" * 501)})))
    assert set(refused) == {_setting("pinterest", "link"), _alt()}, refused
    assert "500" in refused[_alt()]
    _nothing_created(module_database.url, text)

    link = "https://acme.example/menu/spring-latte"
    alt = "A latte in a white cup, a fern drawn in the foam, on a wooden table."
    accepted(_submit(sender, view, _filled(view, text, picture, chosen, {
        board_block: picked(SECOND_BOARD), _setting("pinterest", "title"): typed("Spring latte"),
        _setting("pinterest", "link"): typed(link), _alt(): typed(alt)})))

    [made] = poll_server("the pin", lambda: [p for p in list(pin.pins.values()) if p["description"] == text], process)
    assert made["board_id"] == SECOND_BOARD, "the chosen board, not the first"
    assert (made["title"], made["link"], made["alt_text"]) == ("Spring latte", link, alt)
    assert made["media"]["media_type"] == "image"


# ---- X ----------------------------------------------------------------------------------------------------


def test_an_x_post_with_alt_text_and_only_mentioned_people_replying(server, fakes, sender, slack, module_database):
    process, accounts = server
    x, files = fakes["x"], fakes["files"]
    text = f"New on the menu @acmesupport {time.time_ns()}"
    picture = [files.file("latte.png")]
    chosen = [accounts["x"]]

    view = _choose(sender, slack, _open(sender, slack), chosen, text, picture)
    shown = blocks_by_id(view)
    replies = shown[_setting("x", "reply_settings")]["element"]
    assert _values(replies) == ["everyone", "following", "mentionedUsers"]
    assert replies["initial_option"]["value"] == "everyone"

    refused = field_errors(_submit(sender, view, _filled(view, text, picture, chosen, {_alt(): typed("b" * 1001)})))
    assert list(refused) == [_alt()], refused
    assert "1,000" in refused[_alt()] or "1000" in refused[_alt()], refused
    _nothing_created(module_database.url, text)

    alt = "A latte with a fern in the foam."
    accepted(_submit(sender, view, _filled(view, text, picture, chosen, {
        _alt(): typed(alt), _setting("x", "reply_settings"): picked("mentionedUsers")})))

    [post] = poll_server("the post on X", lambda: [p for p in list(x.posts.values()) if p["text"] == text], process)
    assert post["reply_settings"] == "mentionedUsers"
    [media_id] = post["media_ids"]
    assert x.media[media_id].alt_text == alt
    [described] = [c for c in x.calls_to("/2/media/metadata") if (c.json() or {}).get("id") == media_id]
    assert described.json()["metadata"]["alt_text"]["text"] == alt


# ---- TikTok -----------------------------------------------------------------------------------------------


def test_a_tiktok_video_with_comments_off_and_its_own_brand_disclosed(server, fakes, sender, slack,
                                                                      module_database):
    process, accounts = server
    tiktok, files = fakes["tiktok"], fakes["files"]
    text = f"How we roast {time.time_ns()}"
    video = [files.file("roast.mp4")]
    chosen = [accounts["tiktok"]]

    view = _choose(sender, slack, _open(sender, slack), chosen, text, video)
    shown = blocks_by_id(view)
    assert _values(shown[ids.COMPOSE_TIKTOK_PRIVACY_BLOCK]["element"]) == [
        "PUBLIC_TO_EVERYONE", "MUTUAL_FOLLOW_FRIENDS", "SELF_ONLY"], "what the creator offers"
    assert _values(shown[_setting("tiktok", "allow")]["element"]) == ["comment", "duet", "stitch"]
    assert _values(shown[_setting("tiktok", "disclosure")]["element"]) == ["your_brand", "branded_content"]

    # Branded content seen by "Only me": TikTok does not allow it; refused beside who can see it.
    refused = field_errors(_submit(sender, view, _filled(view, text, video, chosen, {
        ids.COMPOSE_TIKTOK_PRIVACY_BLOCK: picked("SELF_ONLY"),
        _setting("tiktok", "disclosure"): ticked("branded_content")})))
    assert list(refused) == [ids.COMPOSE_TIKTOK_PRIVACY_BLOCK], refused
    _nothing_created(module_database.url, text)

    accepted(_submit(sender, view, _filled(view, text, video, chosen, {
        ids.COMPOSE_TIKTOK_PRIVACY_BLOCK: picked("PUBLIC_TO_EVERYONE"), _setting("tiktok", "allow"): ticked("duet"),
        _setting("tiktok", "disclosure"): ticked("your_brand")})))

    [publish] = poll_server("the TikTok publish", lambda: [p for p in list(tiktok.publishes.values())
                                                     if p.post_info.get("title") == text], process)
    info = publish.post_info
    assert info["privacy_level"] == "PUBLIC_TO_EVERYONE"
    assert info["disable_comment"] is True, "comments were not ticked"
    assert info["disable_duet"] is False and info["disable_stitch"] is True
    assert info["brand_organic_toggle"] is True and info["brand_content_toggle"] is False
    poll_server("published", lambda: publish.status == "PUBLISH_COMPLETE", process)


# ---- the queue's Edit brings the settings back -----------------------------------------------------------


def test_editing_a_scheduled_youtube_post_brings_its_settings_back(server, fakes, sender, slack, module_database):
    process, accounts = server
    yt, files = fakes["youtube"], fakes["files"]
    text = f"Cupping session {time.time_ns()}\nJoin us on Friday."
    video = [files.file("roast.mp4")]
    channel = [accounts["youtube"]]
    at = (datetime.now(UTC) + timedelta(days=7)).replace(second=0, microsecond=0)

    view = _choose(sender, slack, _open(sender, slack), channel, text, video)
    # Schedule is chosen: the window brings up the date and time.
    view = update_compose(sender, slack, _filled(view, text, video, channel, {
        ids.COMPOSE_WHEN_BLOCK: picked("schedule")}), action_id=ids.COMPOSE_WHEN_INPUT, view=view)
    assert ids.COMPOSE_AT_BLOCK in blocks_by_id(view)
    title_text = "Friday cupping"
    accepted(_submit(sender, view, _filled(view, text, video, channel, {
        ids.COMPOSE_WHEN_BLOCK: picked("schedule"),
        ids.COMPOSE_AT_BLOCK: {"selected_date_time": int(at.timestamp())},
        _setting("youtube", "title"): typed(title_text), _setting("youtube", "privacy"): picked("private"),
        _setting("youtube", "made_for_kids"): picked("no"), _setting("youtube", "tags"): typed("cupping, events"),
        _setting("youtube", "category_id"): picked("19")})))
    [(post, _)] = poll_server("the scheduled post", lambda: [
        (p, t) for p, t in asyncio.run(_posts(module_database.url, text)) if p.message_ts], process)

    opened = _edit_from_queue(sender, slack, post.id)
    assert opened["title"]["text"] == "Edit post"
    shown = blocks_by_id(opened)
    assert shown[_setting("youtube", "title")]["element"]["initial_value"] == title_text
    assert shown[_setting("youtube", "privacy")]["element"]["initial_option"]["value"] == "private"
    assert shown[_setting("youtube", "made_for_kids")]["element"]["initial_option"]["value"] == "no"
    assert shown[_setting("youtube", "tags")]["element"]["initial_value"] == "cupping, events"
    assert shown[_setting("youtube", "category_id")]["element"]["initial_option"]["value"] == "19"
    assert "roast.mp4" in shown[ids.COMPOSE_MEDIA_BLOCK]["hint"]["text"], "the video is kept"

    # Saved unchanged, it still carries them (and nothing went to YouTube before its time).
    accepted(_submit(sender, opened, view_state(opened)))
    [(saved, [target])] = poll_server("the edit saved", lambda: [
        (p, t) for p, t in asyncio.run(_posts(module_database.url, text)) if p.version == 2], process)
    assert saved.scheduled_at.replace(tzinfo=UTC) == at
    assert target.settings["title"] == title_text and target.settings["privacy"] == "private"
    assert target.settings["made_for_kids"] is False and target.settings["tags"] == ["cupping", "events"]
    assert _youtube_uploads(yt, title_text) == []


# ---- a closed window keeps the settings in its draft -------------------------------------------------------


def test_a_closed_window_keeps_the_settings_in_its_draft(server, fakes, sender, slack, module_database):
    process, accounts = server
    pin, files = fakes["pinterest"], fakes["files"]
    text = f"Half-written pin {time.time_ns()}"
    chosen = [accounts["pinterest"], accounts["tiktok"]]
    board_block = f"{ids.COMPOSE_BOARD_BLOCK}{accounts['pinterest']}"
    link = "https://acme.example/beans"

    view = _choose(sender, slack, _open(sender, slack), chosen, text, [])
    closed = {**_submit_payload_view(view), "state": _filled(view, text, [], chosen, {
        board_block: picked(SECOND_BOARD), _setting("pinterest", "title"): typed("Our beans"),
        _setting("pinterest", "link"): typed(link), ids.COMPOSE_TIKTOK_PRIVACY_BLOCK: picked("MUTUAL_FOLLOW_FRIENDS"),
        _setting("tiktok", "allow"): ticked("comment"), _setting("tiktok", "ai_generated"): ticked("yes")})}
    payload = {"type": "view_closed", "team": {"id": TEAM, "domain": "acme"}, "user": {"id": USER, "team_id": TEAM},
               "api_app_id": "A0PICMIM", "token": "deprecated", "view": closed, "is_cleared": False}
    assert sender.interaction(payload).status_code == 200
    poll_server("the draft", lambda: asyncio.run(_posts(module_database.url, text)), process)

    # `/picmim drafts` → Open: the window comes back with each network's choices.
    assert sender.command("drafts", response_url=slack.response_url("drafts")).status_code == 200
    [listing] = slack.wait_for_response("drafts", timeout=WAIT)
    button = next(b["accessory"] for b in listing["blocks"] if text in json.dumps(b, ensure_ascii=False))
    before = len(slack.calls_to("views.open"))
    click = {"type": "block_actions", "team": {"id": TEAM, "domain": "acme"}, "user": {"id": USER, "team_id": TEAM},
             "api_app_id": "A0PICMIM", "token": "deprecated", "trigger_id": f"trigger-{time.time_ns()}",
             "channel": {"id": CHANNEL}, "container": {"type": "message", "is_ephemeral": True},
             "response_url": slack.response_url("open"),
             "actions": [{"type": "button", "action_id": button["action_id"], "block_id": "b",
                          "value": button["value"], "action_ts": str(time.time())}]}
    assert sender.interaction(click).status_code == 200
    opened = blocks_of(slack.wait_for("views.open", count=before + 1, timeout=WAIT)[-1].params["view"])
    shown = blocks_by_id(opened)
    assert shown[board_block]["element"]["initial_option"]["value"] == SECOND_BOARD
    assert shown[_setting("pinterest", "title")]["element"]["initial_value"] == "Our beans"
    assert shown[_setting("pinterest", "link")]["element"]["initial_value"] == link
    assert shown[ids.COMPOSE_TIKTOK_PRIVACY_BLOCK]["element"]["initial_option"]["value"] == "MUTUAL_FOLLOW_FRIENDS"
    assert [o["value"] for o in shown[_setting("tiktok", "allow")]["element"]["initial_options"]] == ["comment"]
    assert [o["value"] for o in shown[_setting("tiktok", "ai_generated")]["element"]["initial_options"]] == ["yes"]

    # Finished for Pinterest alone, the picture attached again: the pin goes to the board the draft kept.
    picture = [files.file("latte.png")]
    view = _choose(sender, slack, opened, [accounts["pinterest"]], text, picture)
    accepted(_submit(sender, view, _filled(view, text, picture, [accounts["pinterest"]],
                                            {_alt(): typed("A bag of beans.")})))
    [made] = poll_server("the pin", lambda: [p for p in list(pin.pins.values()) if p["description"] == text], process)
    assert (made["board_id"], made["title"], made["link"], made["alt_text"]) == (
        SECOND_BOARD, "Our beans", link, "A bag of beans.")


def _edit_from_queue(sender, slack, post_id: int) -> dict:
    """`/picmim queue` lists the post; its Edit opens the window on it."""
    assert sender.command("queue", response_url=slack.response_url("queue")).status_code == 200
    [listing] = slack.wait_for_response("queue", timeout=WAIT)
    [actions] = [b for b in listing["blocks"] if b.get("block_id") == f"queue_{post_id}"]
    [edit] = [e for e in actions["elements"] if e["action_id"] == ids.QUEUE_EDIT]
    before = len(slack.calls_to("views.open"))
    payload = {"type": "block_actions", "team": {"id": TEAM, "domain": "acme"}, "user": {"id": USER, "team_id": TEAM},
               "api_app_id": "A0PICMIM", "token": "deprecated", "trigger_id": f"trigger-{time.time_ns()}",
               "channel": {"id": CHANNEL}, "container": {"type": "message", "is_ephemeral": True},
               "response_url": slack.response_url("edit"),
               "actions": [{"type": "button", "action_id": ids.QUEUE_EDIT, "block_id": actions["block_id"],
                            "value": edit["value"], "action_ts": str(time.time())}]}
    assert sender.interaction(payload).status_code == 200
    return blocks_of(slack.wait_for("views.open", count=before + 1, timeout=WAIT)[-1].params["view"])


def _submit_payload_view(view: dict) -> dict:
    return {"id": view.get("id") or "V1", "team_id": TEAM, "type": "modal", "callback_id": view["callback_id"],
            "private_metadata": view["private_metadata"], "hash": f"h{time.time_ns()}", "blocks": view["blocks"]}


def test_editing_a_scheduled_x_post_brings_its_alt_text_and_reply_setting_back(server, fakes, sender, slack,
                                                                              module_database):
    process, accounts = server
    x, files = fakes["x"], fakes["files"]
    text = f"Saturday latte art class {time.time_ns()}"
    picture = [files.file("latte.png")]
    chosen = [accounts["x"]]
    at = (datetime.now(UTC) + timedelta(days=3)).replace(second=0, microsecond=0)
    alt = "Three lattes, each with a different pattern."

    view = _choose(sender, slack, _open(sender, slack), chosen, text, picture)
    view = update_compose(sender, slack, _filled(view, text, picture, chosen, {
        ids.COMPOSE_WHEN_BLOCK: picked("schedule"), _alt(): typed(alt)}), action_id=ids.COMPOSE_WHEN_INPUT, view=view)
    assert blocks_by_id(view)[_alt()]["element"]["initial_value"] == alt, "typed alt text survives the update"
    accepted(_submit(sender, view, _filled(view, text, picture, chosen, {
        ids.COMPOSE_WHEN_BLOCK: picked("schedule"), ids.COMPOSE_AT_BLOCK: {"selected_date_time": int(at.timestamp())},
        _alt(): typed(alt), _setting("x", "reply_settings"): picked("following")})))
    [(post, _)] = poll_server("the scheduled post", lambda: [
        (p, t) for p, t in asyncio.run(_posts(module_database.url, text)) if p.message_ts], process)

    shown = blocks_by_id(_edit_from_queue(sender, slack, post.id))
    assert shown[_alt()]["element"]["initial_value"] == alt
    assert "latte.png" in shown[_alt()]["label"]["text"]
    assert shown[_setting("x", "reply_settings")]["element"]["initial_option"]["value"] == "following"
    assert [p for p in list(x.posts.values()) if p["text"] == text] == []
