"""An iPhone photo (HEIC, stored on its side and turned by its irot box and EXIF orientation, with a colour
profile) attached in the compose window reaches Instagram as an upright JPEG with that profile, end to end
through the real server process: Slack, the Slack file download and Meta are local fakes."""

from __future__ import annotations

import asyncio
import io
import time

import pytest
from PIL import Image

from bot import ids
from bot.http import build_client
from bot.platforms.base import AdapterConfig
from bot.platforms.instagram import ADAPTER as InstagramAdapter
from bot.sandbox.fakes import meta as meta_fake
from bot.sandbox.fakes.meta import FakeMeta
from bot.sandbox.fakes.slack_files import SlackFiles
from tests.conftest import SECRET_KEY, SIGNING_SECRET
from tests.fakes.media import sideways_photo, srgb_profile
from tests.journeys import blocks_of, submit_compose, ticked, typed, update_compose, view_state, wait_until
from tests.platform_fixtures import connect_and_choose, store_connected
from tests.server import ServerProcess, base_env, free_port
from tests.slack_requests import SlackSender

BOT_TOKEN = "xoxb-fake-T0001"
TEAM, USER = "T0001", "U0001"
IG_USER = "17841400000001"  # @acmecoffee
WAIT = 60.0
HEIC = sideways_photo("HEIF", 1000, 800)  # stored 1000×800, shown 800×1000: 4:5, the tallest Instagram takes


@pytest.fixture(scope="module")
def fakes():
    started = {"meta": FakeMeta().start(), "files": SlackFiles({"IMG_0042.HEIC": (HEIC, "image/heic")}).start()}
    yield started
    for fake in started.values():
        fake.stop()


@pytest.fixture(scope="module")
def instagram_server(module_database, fake_slack, fakes, tmp_path_factory):
    port = free_port()
    public = f"http://127.0.0.1:{port}"
    meta = fakes["meta"]
    env = base_env(SLACK_SIGNING_SECRET=SIGNING_SECRET, SLACK_BOT_TOKEN=BOT_TOKEN, SLACK_API_URL=fake_slack.api_url,
                   DATABASE_URL=module_database.url, PICMIM_SECRET_KEY=SECRET_KEY, PORT=str(port),
                   PUBLIC_URL=public, PICMIM_TICK_SECONDS="0.5", PICMIM_HEALTH_SECONDS="3600",
                   PICMIM_ANALYTICS_SECONDS="3600",
                   PICMIM_ORIGIN_OVERRIDES=",".join(f"{real}={local}" for real, local in meta.overrides.items()),
                   META_CLIENT_ID=meta_fake.APP_ID, META_CLIENT_SECRET=meta_fake.APP_SECRET)
    server = ServerProcess(env, cwd=tmp_path_factory.mktemp("heic")).start()
    try:
        yield server, asyncio.run(_connect(module_database.url, public, meta))
    finally:
        server.stop()


async def _connect(url: str, public: str, meta: FakeMeta) -> int:
    redirect = f"{public}/oauth/instagram/callback"
    async with build_client(meta.overrides) as http:
        instagram = InstagramAdapter(AdapterConfig(client_id=meta_fake.APP_ID, client_secret=meta_fake.APP_SECRET,
                                                   redirect_uri=redirect, public_url=public), http)
        granted = {"instagram": await connect_and_choose(instagram, http, redirect, None, IG_USER)}
    return (await store_connected(url, TEAM, USER, granted))["instagram"]


def test_a_heic_photo_reaches_instagram_as_an_upright_jpeg(instagram_server, fakes, slack):
    server, account_id = instagram_server
    meta, files = fakes["meta"], fakes["files"]
    sender = SlackSender(server.url, SIGNING_SECRET)
    try:
        assert sender.command("post", response_url=slack.response_url("post")).status_code == 200
        [opened] = slack.wait_for("views.open", timeout=WAIT)
        opened = blocks_of(opened.params["view"])
        text = f"Fresh from the roastery {time.time_ns()}"
        typed_in = {ids.COMPOSE_TEXT_BLOCK: typed(text), ids.COMPOSE_ACCOUNTS_BLOCK: ticked(str(account_id)),
                    ids.COMPOSE_MEDIA_BLOCK: {"files": [files.file("IMG_0042.HEIC")]}}
        chosen = update_compose(sender, slack, view_state(opened, typed_in), view=opened)
        alt = f"{ids.COMPOSE_ALT_BLOCK}0"
        assert any(b.get("block_id") == alt for b in chosen["blocks"]), "the iPhone photo gets its alt text field"
        state = view_state(chosen, {**typed_in, alt: typed("A flat white on the roastery's counter")})
        answer = submit_compose(sender, state, opened["private_metadata"])
        assert answer.status_code == 200 and answer.text in ("", "null"), answer.text
    finally:
        sender.close()

    [(url, data)] = wait_until(lambda: list(meta.downloads), "Meta to fetch the picture", WAIT)
    assert url.startswith(f"{server.url}/media/")
    sent = Image.open(io.BytesIO(data))
    assert sent.format == "JPEG" and sent.size == (800, 1000)  # upright
    assert sent.info.get("icc_profile") == srgb_profile()
    assert sent.getpixel((400, 20))[2] > 150  # the strip along the stored left edge is on top
    [ig_post] = wait_until(lambda: list(meta.ig_media.values()), "the post on Instagram", WAIT)
    assert ig_post.owner == IG_USER and ig_post.caption == text and ig_post.media_type == "IMAGE"
    [container] = [c for c in meta.containers.values() if c.params.get("caption") == text]
    assert container.params.get("alt_text") == "A flat white on the roastery's counter", "its alt text went along"
