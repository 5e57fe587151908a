"""An iPhone photo (HEIC, stored on its side and turned by its irot box and EXIF orientation, with a colour
profile) attached in the compose window reaches Instagram as an upright JPEG with that profile, end to end
through the real server process: Slack, the Slack file download and Meta are local fakes."""

from __future__ import annotations

import asyncio
import io
import time

import pytest
from PIL import Image

from bot.http import build_client
from bot.platforms.base import AdapterConfig
from bot.platforms.instagram import ADAPTER as InstagramAdapter
from bot.platforms.meta_limits import INSTAGRAM_IMAGE
from tests.conftest import SECRET_KEY, SIGNING_SECRET
from tests.fakes import meta as meta_fake
from tests.fakes.meta import FakeMeta
from tests.fakes.slack_files import SlackFiles
from tests.platform_fixtures import connect_and_choose, store_connected
from tests.server import ServerProcess, base_env, free_port
from tests.slack_requests import SlackSender
from tests.test_media import sideways_photo, srgb_profile
from tests.test_publish_journey_e2e import _j, _poll, _state, _submit

pytestmark = pytest.mark.skipif(
    "image/heic" not in INSTAGRAM_IMAGE.convertible_from,
    reason="validation refuses HEIC until the platforms' image limits list it as convertible (issue 17)")

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
        opened = _j(opened.params["view"])
        text = f"Fresh from the roastery {time.time_ns()}"
        answer = _submit(sender, opened, _state(opened, [account_id], text, [files.file("IMG_0042.HEIC")], at=None))
        assert answer.status_code == 200 and answer.text in ("", "null"), answer.text
    finally:
        sender.close()

    [(url, data)] = _poll("Meta to fetch the picture", lambda: list(meta.downloads), server)
    assert url.startswith(f"{server.url}/media/")
    sent = Image.open(io.BytesIO(data))
    assert sent.format == "JPEG" and sent.size == (800, 1000)  # upright
    assert sent.info.get("icc_profile") == srgb_profile()
    assert sent.getpixel((400, 20))[2] > 150  # the strip along the stored left edge is on top
    [ig_post] = _poll("the post on Instagram", lambda: list(meta.ig_media.values()), server)
    assert ig_post.owner == IG_USER and ig_post.caption == text and ig_post.media_type == "IMAGE"
