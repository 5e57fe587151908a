"""The sandbox's simulated networks, end to end: the simulators (bot/sandbox/networks.py) in this process, the
real server started with `Networks.environment()` and the fake Slack, and a browser that reaches only what a
browser reaches: Picmim's pages and the simulators' own addresses (the sign-in link's page sends it there).

A person connects X and LinkedIn through the networks' consent pages (choosing LinkedIn's company pages), or
cancels; publishes a post with a picture from the compose window; opens the post's link in the sandbox X feed,
picture and all; and the figures Picmim fetches grow as the post ages."""

from __future__ import annotations

import asyncio
import html
import io
import json
import pathlib
import re
import shutil
import time
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from aiohttp import web
from PIL import Image
from sqlalchemy import select, update

from bot import ids
from bot.http import build_client, for_browser
from bot.platforms import bluesky_keys, oauth
from bot.platforms.base import AccountRef, AdapterConfig, Draft
from bot.platforms.bluesky import BlueskyAdapter, client_metadata
from bot.platforms.facebook import FacebookAdapter
from bot.platforms.instagram import InstagramAdapter
from bot.platforms.instagram_login import InstagramLoginAdapter
from bot.platforms.linkedin import LinkedInAdapter
from bot.platforms.meta_graph import Polling
from bot.platforms.pinterest import PinterestAdapter
from bot.platforms.settings import (
    BlueskySettings,
    InstagramSettings,
    PinterestSettings,
    TikTokSettings,
    XSettings,
)
from bot.platforms.tiktok import TikTokAdapter
from bot.platforms.x import XAdapter
from bot.platforms.youtube import YouTubeAdapter
from bot.platforms.youtube import thumbnail_url as youtube_thumbnail_url
from bot.sandbox import figures
from bot.sandbox.blockkit_html import Context, render_blocks
from bot.sandbox.fakes.base import LoopbackServer
from bot.sandbox.fakes.meta import adapter_config
from bot.sandbox.fakes.slack_files import SlackFiles
from bot.sandbox.networks import BLUESKY_HANDLE, Networks
from bot.services.analytics import PostFigures, Report
from bot.storage import db
from bot.storage.models import Account, MetricSnapshot, PostTarget
from bot.views.stats import report_blocks
from tests.conftest import SECRET_KEY, SIGNING_SECRET
from tests.fakes.media import jpeg, make_image, make_video, mp4, payload
from tests.journeys import (
    BOT_TOKEN,
    accepted,
    blocks_of,
    compose_state,
    continue_link,
    private_link,
    shown,
    submit_compose,
)
from tests.server import ServerProcess, base_env, free_port
from tests.slack_requests import SlackSender

PICTURE = make_image(640, 480, "PNG")


class Front(LoopbackServer):
    """PUBLIC_URL: the feeds (`Networks.add_routes`, as the sandbox adds them to Picmim's web app) and everything
    else passed on to the real server, on one address."""

    def __init__(self, port: int, networks: Networks):
        super().__init__()
        self.fixed_port, self.networks, self.target = port, networks, ""
        self.documents: dict[str, tuple[bytes, str]] = {}  # served here when there is no server to pass on to

    def applications(self) -> list[web.Application]:
        app = web.Application()
        self.networks.add_routes(app)
        app.router.add_route("*", "/{tail:.*}", self._pass_on)
        return [app]

    async def _serve(self) -> None:
        self._stopping = asyncio.Event()
        runner = web.AppRunner(self.applications()[0], access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", self.fixed_port).start()
        self._runners.append(runner)
        self.ports.append(self.fixed_port)

    async def _pass_on(self, request: web.Request) -> web.Response:
        if request.path in self.documents:
            body, kind = self.documents[request.path]
            return web.Response(body=body, content_type=kind)
        async with httpx.AsyncClient() as client:
            answer = await client.request(
                request.method, self.target + request.path_qs, content=await request.read(),
                headers={k: v for k, v in request.headers.items() if k.lower() not in ("host", "content-length")})
        kept = {k: v for k, v in answer.headers.items()
                if k.lower() not in ("content-length", "transfer-encoding", "connection", "content-encoding")}
        return web.Response(status=answer.status_code, body=answer.content, headers=kept)


@pytest.fixture(scope="module")
def sandbox(module_database, fake_slack, tmp_path_factory):
    """The simulators, PUBLIC_URL's front and the real server configured by `Networks.environment()`."""
    port = free_port()
    public = f"http://127.0.0.1:{port}"
    networks = Networks(public, tmp_path_factory.mktemp("networks")).start()
    front = Front(port, networks).start()
    env = base_env(SLACK_SIGNING_SECRET=SIGNING_SECRET, SLACK_BOT_TOKEN=BOT_TOKEN, SLACK_API_URL=fake_slack.api_url,
                   DATABASE_URL=module_database.url, PICMIM_SECRET_KEY=SECRET_KEY, PUBLIC_URL=public,
                   PICMIM_TICK_SECONDS="0.5", PICMIM_ANALYTICS_SECONDS="0.5", PICMIM_HEALTH_SECONDS="3600",
                   **networks.environment())
    server = ServerProcess(env, cwd=tmp_path_factory.mktemp("sandbox")).start()
    front.target = server.url
    try:
        yield networks, server, public
    finally:
        server.stop()
        front.stop()
        networks.stop()


@pytest.fixture(scope="module")
def slack_files():
    host = SlackFiles(any_name=PICTURE).start()
    yield host
    host.stop()


@pytest.fixture
def sender(sandbox):
    s = SlackSender(sandbox[1].url, SIGNING_SECRET)
    yield s
    s.close()


@pytest.fixture
async def browser():
    """A browser: no origin overrides, it goes where links send it."""
    async with httpx.AsyncClient() as client:
        yield client


# ---- steps --------------------------------------------------------------------------------------------

def _form(page: httpx.Response) -> str:
    [action] = re.findall(r'<form method="post" action="([^"]+)">', page.text)
    return str(page.url.join(html.unescape(action)))


async def _consent_page(sender, slack, browser, networks: Networks, platform: str, rid: str) -> httpx.Response:
    """`/picmim connect <platform>`, the private link's page, Continue: the network's consent page."""
    assert sender.command(f"connect {platform}", response_url=slack.response_url(rid)).status_code == 200
    page = await browser.get(private_link(slack, rid))
    assert page.status_code == 200, page.text
    onward = continue_link(page)
    assert onward.startswith(networks.simulator(platform).fake.url + "/"), "the browser goes to the simulator"
    consent = await browser.get(onward)
    assert consent.status_code == 200, consent.text
    return consent


def _choose_accounts(sender, slack, values: list[str]) -> str:
    """Ticking accounts in Picmim's DM after a connect, and Save: what the DM says then."""
    [dm] = slack.wait_for("chat.postMessage")
    blocks = blocks_of(dm.params["blocks"])
    save = next(e for b in blocks if b["type"] == "actions" for e in b["elements"]
                if e.get("action_id") == ids.CHOOSE_ACCOUNTS_SAVE)
    state = {f"{ids.CHOOSE_ACCOUNTS_BLOCK}0": {ids.CHOOSE_ACCOUNTS_BOXES: {
        "type": "checkboxes", "selected_options": [{"value": v, "text": {"type": "plain_text", "text": v}}
                                                   for v in values]}}}
    payload = {"type": "block_actions", "team": {"id": "T0001", "domain": "acme"}, "user": {"id": "U0001"},
               "api_app_id": "A0PICMIM", "token": "deprecated", "trigger_id": f"trigger-{time.time_ns()}",
               "channel": {"id": "D0001", "name": "directmessage"},
               "container": {"type": "message", "message_ts": "1700000000.000100", "channel_id": "D0001"},
               "message": {"ts": "1700000000.000100", "text": "", "blocks": []},
               "response_url": f"{slack.url}/response/choose", "state": {"values": state},
               "actions": [{"type": "button", "action_id": ids.CHOOSE_ACCOUNTS_SAVE, "block_id": "b",
                            "value": save["value"], "action_ts": str(time.time())}]}
    assert sender.interaction(payload).status_code == 200
    [updated] = slack.wait_for("chat.update")
    return shown(updated.params["blocks"])


async def _rows(url: str, statement):
    engine = db.create_engine(url)
    try:
        async with db.session_factory(engine)() as session:
            return list(await session.scalars(statement))
    finally:
        await engine.dispose()


async def _age_in_database(url: str, target_id: int, hours: float) -> None:
    """The post went live `hours` earlier than it did, and its figures were last fetched as long before: the
    metric sync finds it due again."""
    engine = db.create_engine(url)
    try:
        async with db.session_factory(engine)() as session:
            target = await session.get(PostTarget, target_id)
            earlier = timedelta(hours=hours)
            values = {"published_at": target.published_at - earlier}
            if target.metrics_synced_at is not None:
                values["metrics_synced_at"] = target.metrics_synced_at - earlier
            await session.execute(update(PostTarget).where(PostTarget.id == target_id).values(**values))
            await session.execute(update(Account).where(Account.id == target.account_id)
                                  .values(metrics_due_at=None))
            await session.commit()
    finally:
        await engine.dispose()


async def _impressions(url: str, target_id: int) -> list[float]:
    rows = await _rows(url, select(MetricSnapshot).where(MetricSnapshot.target_id == target_id)
                       .order_by(MetricSnapshot.id))
    return [r.value for r in rows if "impression" in r.metric]


WAIT = 60.0  # seconds any one step may take on a slow, shared machine


async def _poll(what: str, check, server):
    """`await check()`'s first truthy answer, asked every 0.1 s; after WAIT seconds the server's log says why."""
    deadline = time.monotonic() + WAIT
    while not (found := await check()):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}; the server's log ends:\n{server.output()[-6000:]}")
        await asyncio.sleep(0.1)
    return found


# ---- the journeys ---------------------------------------------------------------------------------------

def test_the_environment_is_what_picmim_check_accepts(sandbox):
    from bot.config import load_settings

    networks, _, public = sandbox
    settings = load_settings({**networks.environment(), "PUBLIC_URL": public, "PICMIM_SECRET_KEY": SECRET_KEY,
                              "SLACK_SIGNING_SECRET": SIGNING_SECRET, "SLACK_BOT_TOKEN": BOT_TOKEN}, env_file=None)
    assert set(settings.platform_credentials) == {"X", "LINKEDIN", "META", "INSTAGRAM", "TIKTOK", "GOOGLE",
                                                  "PINTEREST"}
    assert settings.origin_overrides["https://api.x.com"] == networks.simulator("x").fake.url
    assert networks.feeds() == [("x", "X"), ("linkedin", "LinkedIn"), ("facebook", "Facebook"),
                                ("instagram", "Instagram"), ("instagram-login", "Instagram (direct login)"),
                                ("tiktok", "TikTok"), ("youtube", "YouTube"), ("pinterest", "Pinterest"),
                                ("bluesky", "Bluesky")]


async def test_connect_x_publish_a_picture_and_see_it_in_the_sandbox_feed_with_growing_figures(
        sandbox, sender, slack, browser, slack_files, module_database):
    networks, server, public = sandbox
    consent = await _consent_page(sender, slack, browser, networks, "x", "x")
    assert "Picmim Sandbox wants to access your X account" in consent.text
    assert "Acme Marketing (@acmemktg)" in consent.text
    back = await browser.post(_form(consent), data={"answer": "allow"})
    assert back.status_code == 302 and back.headers["location"].startswith(f"{public}/oauth/x/callback?")
    page = await browser.get(back.headers["location"])
    assert page.status_code == 200 and "X is connected (Acme Marketing)" in page.text, page.text
    assert "Picmim now manages *Acme Marketing* on X" in _choose_accounts(sender, slack, ["2244994945"])
    [account] = await _rows(module_database.url, select(Account).where(Account.platform == "x"))

    text = f"Fresh from the sandbox oven {time.time_ns()}"
    accepted(submit_compose(sender, compose_state([account.id], text, files=[slack_files.file("oven.png")])))
    async def status_with_link():
        return next((c for c in slack.calls_to("chat.update") + slack.calls_to("chat.postMessage")
                     if "published: <https://x.com/acmemktg/status/" in shown(c.params.get("blocks"))), None)

    status = await _poll("the status message with X's link", status_with_link, server)
    [link] = re.findall(r"<(https://x\.com/acmemktg/status/\d+)\|view the post>", shown(status.params["blocks"]))
    post_id = link.rsplit("/", 1)[1]

    # The post's link leads to the sandbox X feed, at that post.
    assert networks.feed_link(link) == f"{public}/sandbox/x#post-{post_id}"
    assert networks.browser_link("https://acme.example/menu") == "https://acme.example/menu", "not a network's"
    opened = await browser.get(networks.browser_link(link))
    assert opened.status_code == 302 and opened.headers["location"] == f"{public}/sandbox/x#post-{post_id}"
    feed = await browser.get(f"{public}/sandbox/x")
    assert feed.status_code == 200 and feed.headers["content-type"].startswith("text/html")
    [article] = re.findall(rf'<article class="card" id="post-{post_id}">(.*?)</article>', feed.text)
    assert html.escape(text) in article and "Acme Marketing" in article and "@acmemktg" in article
    [picture] = re.findall(r'<img src="([^"]+)"', article)
    shown_picture = await browser.get(html.unescape(picture))
    assert shown_picture.status_code == 200 and shown_picture.headers["content-type"].startswith("image/")
    with Image.open(io.BytesIO(shown_picture.content)) as image:
        assert image.size == (640, 480), "the picture X received"
    assert networks.posts("x")[0]["text"] == text

    # Figures grow with the post's age: two fetches by Picmim, an hour and three hours after it went live.
    [target] = await _rows(module_database.url, select(PostTarget).where(PostTarget.account_id == account.id))
    networks.age_posts(3600)
    await _age_in_database(module_database.url, target.id, 1)
    first = (await _poll("the first figures", lambda: _impressions(module_database.url, target.id), server))[-1]
    assert first > 0
    networks.age_posts(2 * 3600)
    await _age_in_database(module_database.url, target.id, 2)

    async def grown() -> list[float]:
        return [v for v in await _impressions(module_database.url, target.id) if v > first]

    later = (await _poll("later figures", grown, server))[-1]
    assert later > first
    feed = await browser.get(f"{public}/sandbox/x")
    [article] = re.findall(rf'<article class="card" id="post-{post_id}">(.*?)</article>', feed.text)
    [now_shown] = re.findall(r"<b>([\d,]+)</b> impressions", article)
    assert int(now_shown.replace(",", "")) >= later, "the feed shows the figures as they stand"


async def test_linkedin_consent_lets_the_person_choose_the_company_pages(sandbox, sender, slack, browser):
    networks, _, public = sandbox
    consent = await _consent_page(sender, slack, browser, networks, "linkedin", "li")
    assert "Picmim Sandbox wants to access your LinkedIn account" in consent.text
    assert "Signed in as <b>Maria Lopez</b>" in consent.text
    assert re.findall(r'value="(\d+)" checked> ([^<]+)</label>', consent.text) == [
        ("1001", "Acme Inc (company page)"), ("1002", "Acme Labs (company page)")]
    back = await browser.post(_form(consent), data={"answer": "allow", "choice": "1001"})
    assert back.status_code == 302 and back.headers["location"].startswith(f"{public}/oauth/linkedin/callback?")
    page = await browser.get(back.headers["location"])
    assert page.status_code == 200 and "LinkedIn is connected (Maria Lopez)" in page.text, page.text
    [dm] = slack.wait_for("chat.postMessage")
    offered = shown(dm.params["blocks"])
    assert "Acme Inc" in offered and "Maria Lopez" in offered
    assert "Acme Labs" not in offered, "the page left unticked on LinkedIn's consent page is out of reach"


async def test_cancel_on_the_consent_page_connects_nothing_and_says_so(sandbox, sender, slack, browser,
                                                                       module_database):
    networks, _, public = sandbox
    before = await _rows(module_database.url, select(Account))
    consent = await _consent_page(sender, slack, browser, networks, "x", "cancel")
    reloaded = await browser.get(_form(consent))
    assert reloaded.status_code == 200 and reloaded.text == consent.text, "a reload shows the same question"
    back = await browser.post(_form(consent), data={"answer": "cancel"})
    location = httpx.URL(back.headers["location"])
    assert back.status_code == 302 and str(location).startswith(f"{public}/oauth/x/callback?")
    assert location.params["error"] == "access_denied" and "code" not in location.params
    page = await browser.get(str(location))
    assert page.status_code == 400, page.text
    assert "You chose not to allow Picmim access, so nothing was connected." in page.text
    assert [a.id for a in await _rows(module_database.url, select(Account))] == [a.id for a in before]
    again = await browser.post(_form(consent), data={"answer": "allow"})
    assert again.status_code == 400 and "already answered or has expired" in again.text


# ---- in process: the other networks' consent pages and feeds, through Picmim's adapters -----------------------

@pytest.fixture(scope="module")
def networks(tmp_path_factory):
    """The simulators alone, their feeds on a web app of their own (as the sandbox adds them to Picmim's)."""
    port = free_port()
    public = f"http://127.0.0.1:{port}"
    started = Networks(public, tmp_path_factory.mktemp("alone")).start()
    front = Front(port, started).start()
    # What Picmim serves for Bluesky's sign-in: its client metadata and public keys.
    keys = bluesky_keys.install([bluesky_keys.new_key()])
    front.documents = {"/oauth/bluesky/client-metadata.json": (json.dumps(client_metadata(public)).encode(),
                                                               "application/json"),
                       "/oauth/bluesky/jwks.json": (json.dumps(keys.public_jwks()).encode(), "application/json")}
    yield started
    front.stop()
    started.stop()


@pytest.fixture
async def http(networks):
    """Picmim's own client: PICMIM_ORIGIN_OVERRIDES as `Networks.environment()` gives it."""
    async with build_client(_overrides(networks)) as client:
        yield client


def _adapter(adapter_class, networks: Networks, platform: str, http: httpx.AsyncClient):
    env = networks.environment()
    prefix = {"x": "X", "linkedin": "LINKEDIN", "tiktok": "TIKTOK", "youtube": "GOOGLE", "pinterest": "PINTEREST"}[
        platform]
    config = AdapterConfig(client_id=env[f"{prefix}_CLIENT_ID"], client_secret=env[f"{prefix}_CLIENT_SECRET"],
                           redirect_uri=f"{networks.public_url}/oauth/{platform}/callback",
                           public_url=networks.public_url)
    adapter = adapter_class(config, http)
    adapter.poll_interval = 0  # the simulators need no time to process media
    return adapter


async def _sign_in(http, adapter, pkce, data: dict) -> tuple[httpx.Response, httpx.URL]:
    """The network's consent page for this adapter's sign-in, answered with `data`; where it sends the browser."""
    consent = await http.get(adapter.authorize_url(oauth.new_state(), pkce))
    assert consent.status_code == 200, consent.text
    back = await http.post(_form(consent), data=data)
    assert back.status_code == 302, back.text
    return consent, httpx.URL(back.headers["location"])


async def _feed(networks: Networks, platform: str, post_id: str) -> str:
    async with httpx.AsyncClient() as browser:
        feed = await browser.get(f"{networks.public_url}/sandbox/{platform}")
    assert feed.status_code == 200
    [article] = re.findall(rf'<article class="card" id="post-{re.escape(html.escape(post_id))}">(.*?)</article>',
                           feed.text)
    return article


async def _served(url: str) -> httpx.Response:
    async with httpx.AsyncClient() as browser:
        answer = await browser.get(html.unescape(url))
    assert answer.status_code == 200, url
    return answer


async def _picture_in_the_sandbox(networks: Networks, address: str) -> Image.Image:
    """The picture a network's address shows on the sandbox page: served by the sandbox, never by the network."""
    src = networks.browser_image(address)
    assert src is not None and src.startswith(f"{networks.public_url}/sandbox/"), (address, src)
    answer = await _served(src)
    assert answer.headers["content-type"].startswith("image/")
    return Image.open(io.BytesIO(answer.content))


async def test_youtube_consent_chooses_the_channel_and_the_video_shows_with_its_title(networks, http):
    adapter = _adapter(YouTubeAdapter, networks, "youtube", http)
    pkce = oauth.new_pkce()
    consent, back = await _sign_in(http, adapter, pkce, {"answer": "allow", "choice": "1100220044"})
    assert "Picmim Sandbox wants to access your YouTube account" in consent.text
    assert re.findall(r'type="radio" name="choice" value="(\d+)"', consent.text) == ["1100220033", "1100220044"]
    tokens = await adapter.exchange_code(back.params["code"], pkce)
    [channel] = await adapter.list_accounts(tokens)
    assert channel.name == "Acme Shorts", "the channel chosen on the consent page"

    video = make_video()
    account = AccountRef("youtube", channel.external_id, channel.kind, channel.name, tokens.access_token)
    result = await adapter.publish(account, Draft(text="Behind the counter", title="A day at Acme"),
                                   [payload(video)])
    article = await _feed(networks, "youtube", result.remote_id)
    assert "A day at Acme" in article and "Behind the counter" in article and "Acme Shorts" in article
    [src] = re.findall(r'<video controls preload="none" src="([^"]+)"', article)
    assert (await _served(src)).content == video
    assert networks.feed_link(result.url) == f"{networks.public_url}/sandbox/youtube#post-{result.remote_id}"
    # YouTube's fixed thumbnail address for the video: its first frame, as the simulator received it.
    frame = await _picture_in_the_sandbox(networks, youtube_thumbnail_url(result.remote_id))
    assert frame.format == "JPEG" and frame.size == (480, 270)


async def test_linkedin_picture_post_in_the_feed_and_cancel_answers_as_linkedin_does(networks, http):
    adapter = _adapter(LinkedInAdapter, networks, "linkedin", http)
    _, cancelled = await _sign_in(http, adapter, None, {"answer": "cancel"})
    assert cancelled.params["error"] == "user_cancelled_authorize" and "code" not in cancelled.params

    _, back = await _sign_in(http, adapter, None, {"answer": "allow", "choice": ["1001", "1002"]})
    tokens = await adapter.exchange_code(back.params["code"], None)
    [page] = [a for a in await adapter.list_accounts(tokens) if a.name == "Acme Inc"]
    picture = make_image(1200, 900, "JPEG")
    account = AccountRef("linkedin", page.external_id, page.kind, page.name, tokens.access_token,
                         handle=page.handle, settings=page.settings)
    result = await adapter.publish(account, Draft("Our new office"), [payload(picture)])
    article = await _feed(networks, "linkedin", result.remote_id)
    assert "Our new office" in article and "Acme Inc" in article
    [src] = re.findall(r'<img src="([^"]+)"', article)
    assert (await _served(src)).content == picture

    # Figures grow with the post's age, as LinkedIn's statistics report them to Picmim: the post's and the page's.
    [before] = [p for p in networks.posts("linkedin") if p["id"] == result.remote_id]
    fetched = await adapter.fetch_metrics(account, [result.remote_id])
    networks.age_posts(6 * 3600)
    [after] = [p for p in networks.posts("linkedin") if p["id"] == result.remote_id]
    assert after["figures"]["impressions"] > before["figures"]["impressions"]
    assert after["figures"]["likes"] >= before["figures"]["likes"]
    later = await adapter.fetch_metrics(account, [result.remote_id])
    assert later.posts[result.remote_id]["impressionCount"] > fetched.posts[result.remote_id]["impressionCount"]
    assert later.account["impressionCount"] > fetched.account.get("impressionCount", 0)
    assert later.account["followerCount"] > fetched.account["followerCount"], "followers grow slowly"


async def test_tiktok_video_in_the_feed_with_growing_views(networks, http):
    adapter = _adapter(TikTokAdapter, networks, "tiktok", http)
    adapter.sleep = _no_wait
    consent, back = await _sign_in(http, adapter, None, {"answer": "allow"})
    assert "Picmim Sandbox wants to access your TikTok account" in consent.text and "@acmestudio" in consent.text
    tokens = await adapter.exchange_code(back.params["code"], None)
    [creator] = await adapter.list_accounts(tokens)
    video = make_video()
    account = AccountRef("tiktok", creator.external_id, creator.kind, creator.name, tokens.access_token,
                         handle=creator.handle)
    settings = TikTokSettings(privacy_level="PUBLIC_TO_EVERYONE", allow_comment=True)
    result = await adapter.publish(account, Draft(text="Latte art in 10 seconds", settings=settings),
                                   [payload(video)])
    article = await _feed(networks, "tiktok", result.remote_id)
    assert "Latte art in 10 seconds" in article and "@acmestudio" in article
    [src] = re.findall(r'<video controls preload="none" src="([^"]+)"', article)
    assert (await _served(src)).content == video
    views = [p["figures"]["views"] for p in networks.posts("tiktok") if p["id"] == result.remote_id]
    networks.age_posts(3600)
    later = [p["figures"]["views"] for p in networks.posts("tiktok") if p["id"] == result.remote_id]
    assert later[0] > views[0]
    # The cover TikTok names in the figures' call (its CDN) is the video's first frame, from the simulator.
    cover = (await adapter.fetch_metrics(account, [result.remote_id])).thumbnails[result.remote_id]
    assert "tiktokcdn" in cover
    assert (await _picture_in_the_sandbox(networks, cover)).format == "JPEG"


async def _no_wait(seconds: float) -> None:
    """The simulators need no time to process a video: the adapter does not wait between status checks."""


async def test_instagram_through_meta_consent_chooses_the_pages_and_the_picture_shows(networks, http, files):
    adapter = InstagramAdapter(adapter_config("instagram"), http)
    adapter.polling = Polling(attempts=5, delay=0)
    consent, back = await _sign_in(http, adapter, None, {"answer": "allow", "choice": "2001"})
    assert "Picmim Sandbox wants to access your Facebook account" in consent.text
    assert "Acme Coffee (Facebook Page) with Instagram @acmecoffee" in consent.text
    assert "Acme Events (Facebook Page)" in consent.text
    tokens = await adapter.exchange_code(back.params["code"], None)
    [coffee] = await adapter.list_accounts(tokens)
    assert coffee.handle == "acmecoffee", "only the Page ticked on the consent page, and its Instagram account"

    picture = jpeg(1080, 1350)
    account = AccountRef("instagram", coffee.external_id, coffee.kind, coffee.name, tokens.access_token,
                         token=coffee.token, handle=coffee.handle, settings=coffee.settings)
    result = await adapter.publish(account, Draft(text="New latte art"),
                                   [files.payload("latte.jpg", picture, mimetype="image/jpeg")])
    article = await _feed(networks, "instagram", result.remote_id)
    assert "New latte art" in article and "@acmecoffee" in article
    [src] = re.findall(r'<img src="([^"]+)"', article)
    assert (await _served(src)).content == picture
    assert networks.feed_link(result.url) == f"{networks.public_url}/sandbox/instagram#post-{result.remote_id}"
    async with httpx.AsyncClient() as browser:
        opened = await browser.get(networks.browser_link(result.url))
    assert opened.headers["location"] == f"{networks.public_url}/sandbox/instagram#post-{result.remote_id}"

    # A carousel is one post showing each of its pictures.
    pictures = [jpeg(1080, 1080), jpeg(1080, 1350)]
    carousel = await adapter.publish(account, Draft(text="Two sides of the counter"), [
        files.payload(f"side{n}.jpg", data, mimetype="image/jpeg") for n, data in enumerate(pictures)])
    article = await _feed(networks, "instagram", carousel.remote_id)
    assert [(await _served(src)).content for src in re.findall(r'<img src="([^"]+)"', article)] == pictures


async def test_bluesky_signs_in_with_the_sandbox_handle_and_the_picture_post_shows(networks, http):
    public = networks.public_url
    adapter = BlueskyAdapter(AdapterConfig(client_id=None, client_secret=None,
                                           redirect_uri=f"{public}/oauth/bluesky/callback", public_url=public), http)
    pkce, state = oauth.new_pkce(), oauth.new_state()
    url, started = await adapter.begin_authorization(BLUESKY_HANDLE, state, pkce)
    consent = await http.get(url)
    assert "Picmim Sandbox wants to access your Bluesky account" in consent.text
    assert f"@{BLUESKY_HANDLE}" in consent.text
    back = httpx.URL((await http.post(_form(consent), data={"answer": "allow"})).headers["location"])
    assert str(back).startswith(f"{public}/oauth/bluesky/callback?") and back.params["state"] == state
    tokens = await adapter.exchange_code(back.params["code"], pkce, started, iss=back.params["iss"])
    account = AccountRef("bluesky", tokens.external_user_id, "profile", "Acme", tokens.access_token,
                         handle=tokens.display_name, extra=tokens.extra)

    picture = make_image(800, 600, "JPEG")
    first = await adapter.publish(account, Draft("Roasting day"), [payload(picture)])
    article = await _feed(networks, "bluesky", first.remote_id.rsplit("/", 1)[1])
    assert "Roasting day" in article and f"@{BLUESKY_HANDLE}" in article
    [src] = re.findall(r'<img src="([^"]+)"', article)
    assert (await _served(src)).content == picture
    assert networks.feed_link(first.url) is not None
    # The picture's CDN address in the figures' call is the picture itself, from the simulator.
    address = (await adapter.fetch_metrics(account, [first.remote_id])).thumbnails[first.remote_id]
    assert address.startswith("https://cdn.bsky.app/")
    assert (await _served(networks.browser_image(address))).content == picture

    # A thread: one post, its further parts as replies under it.
    parts = [f"Step {n} of the roast: " + "watch the colour and listen for the crack. " * 6 for n in (1, 2)]
    thread = await adapter.publish(account, Draft("\n\n".join(parts), settings=BlueskySettings(thread=True)), [])
    article = await _feed(networks, "bluesky", thread.remote_id.rsplit("/", 1)[1])
    assert article.count('<div class="reply">') == 1 and article.index("Step 1") < article.index("Step 2")


async def test_an_x_thread_shows_as_one_post_with_its_parts_as_replies(networks, http):
    adapter = _adapter(XAdapter, networks, "x", http)
    pkce = oauth.new_pkce()
    _, back = await _sign_in(http, adapter, pkce, {"answer": "allow"})
    tokens = await adapter.exchange_code(back.params["code"], pkce)
    [profile] = await adapter.list_accounts(tokens)
    account = AccountRef("x", profile.external_id, profile.kind, profile.name, tokens.access_token,
                         handle=profile.handle)
    parts = [f"Part {n} of our roasting story: " + "beans and heat and patience. " * 7 for n in (1, 2, 3)]
    result = await adapter.publish(account, Draft("\n\n".join(parts), settings=XSettings(thread=True)), [])
    article = await _feed(networks, "x", result.remote_id)
    assert article.count('<div class="reply">') == 2
    assert article.index("Part 1 of") < article.index("Part 2 of") < article.index("Part 3 of")
    assert sum(1 for p in networks.posts("x") if "roasting story" in p["text"]) == 1, "one post, not three"


async def test_a_restarted_sandbox_keeps_its_networks_grants_and_posts(tmp_path):
    """Stopping the sandbox and starting it again (without --reset): connections made before still work, posts
    made before are still in the feeds, and new posts do not take their ids."""
    first = Networks("http://127.0.0.1:9", tmp_path).start()
    try:
        async with build_client(_overrides(first)) as client:
            adapter = _adapter(XAdapter, first, "x", client)
            pkce = oauth.new_pkce()
            _, back = await _sign_in(client, adapter, pkce, {"answer": "allow"})
            tokens = await adapter.exchange_code(back.params["code"], pkce)
            [profile] = await adapter.list_accounts(tokens)
            account = AccountRef("x", profile.external_id, profile.kind, profile.name, tokens.access_token,
                                 handle=profile.handle)
            before = await adapter.publish(account, Draft("Before the restart"), [])
    finally:
        first.stop()

    again = Networks("http://127.0.0.1:9", tmp_path).start()
    try:
        async with build_client(_overrides(again)) as client:
            adapter = _adapter(XAdapter, again, "x", client)
            assert [a.name for a in await adapter.list_accounts(tokens)] == ["Acme Marketing"], "the grant works"
            after = await adapter.publish(account, Draft("After the restart"), [])
        assert after.remote_id != before.remote_id
        assert [p["text"] for p in again.posts("x")] == ["After the restart", "Before the restart"]
    finally:
        again.stop()


async def test_the_networks_are_saved_as_they_change_so_a_killed_sandbox_keeps_them(tmp_path):
    """Never stopped (a kill -9): what is on disk once the writes settle holds the grant and the post."""
    first = Networks("http://127.0.0.1:9", tmp_path / "running").start()
    try:
        async with build_client(_overrides(first)) as client:
            adapter = _adapter(XAdapter, first, "x", client)
            pkce = oauth.new_pkce()
            _, back = await _sign_in(client, adapter, pkce, {"answer": "allow"})
            tokens = await adapter.exchange_code(back.params["code"], pkce)
            [profile] = await adapter.list_accounts(tokens)
            account = AccountRef("x", profile.external_id, profile.kind, profile.name, tokens.access_token,
                                 handle=profile.handle)
            before = await adapter.publish(account, Draft("Before the kill"), [])
        saved = tmp_path / "running" / "networks.pickle"
        await _poll_until(lambda: saved.exists() and before.remote_id.encode() in saved.read_bytes())
        killed = pathlib.Path(shutil.copytree(tmp_path / "running", tmp_path / "as-the-kill-left-it"))
    finally:
        first.stop()

    again = Networks("http://127.0.0.1:9", killed).start()
    try:
        async with build_client(_overrides(again)) as client:
            adapter = _adapter(XAdapter, again, "x", client)
            assert [a.name for a in await adapter.list_accounts(tokens)] == ["Acme Marketing"], "the grant works"
        assert [p["text"] for p in again.posts("x")] == ["Before the kill"]
    finally:
        again.stop()


async def _poll_until(condition, seconds: float = 10) -> None:
    for _ in range(int(seconds / 0.05)):
        if condition():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the networks' state was not saved")


def _overrides(networks: Networks) -> dict[str, str]:
    return dict(pair.split("=", 1) for pair in networks.environment()["PICMIM_ORIGIN_OVERRIDES"].split(","))


async def test_a_pin_shows_with_its_board_title_link_and_picture(networks, http):
    adapter = _adapter(PinterestAdapter, networks, "pinterest", http)
    consent, back = await _sign_in(http, adapter, None, {"answer": "allow", "choice": "1020304051"})
    assert "Picmim Sandbox wants to access your Pinterest account" in consent.text
    assert re.findall(r'value="(\d+)" checked> ([^<]+)</label>', consent.text) == [
        ("1020304050", "Spring collection"), ("1020304051", "Behind the scenes")]
    tokens = await adapter.exchange_code(back.params["code"], None)
    [remote] = await adapter.list_accounts(tokens)
    assert [b["name"] for b in remote.settings["boards"]] == ["Behind the scenes"], "the board ticked"
    account = AccountRef("pinterest", remote.external_id, remote.kind, remote.name, tokens.access_token,
                         handle=remote.handle, settings=remote.settings)
    picture = make_image(600, 900, "JPEG")
    draft = Draft("How we pack every order", title="Packing day", link="https://acme.example/packing",
                  settings=PinterestSettings(board_id="1020304051"))
    result = await adapter.publish(account, draft, [payload(picture)])
    article = await _feed(networks, "pinterest", result.remote_id)
    assert "Packing day" in article and "How we pack every order" in article
    assert "Saved to <b>Behind the scenes</b>" in article and 'href="https://acme.example/packing"' in article
    [src] = re.findall(r'<img src="([^"]+)"', article)
    assert (await _served(src)).content == picture


async def test_facebook_consent_keeps_only_the_pages_ticked_and_the_photo_post_shows(networks, http, files):
    adapter = FacebookAdapter(adapter_config("facebook"), http)
    adapter.polling = Polling(attempts=5, delay=0)
    _, back = await _sign_in(http, adapter, None, {"answer": "allow", "choice": "2003"})
    tokens = await adapter.exchange_code(back.params["code"], None)
    [events] = await adapter.list_accounts(tokens)
    assert events.name == "Acme Events", "the one Page ticked"
    picture = jpeg(1200, 800)
    account = AccountRef("facebook", events.external_id, events.kind, events.name, tokens.access_token,
                         token=events.token, handle=events.handle, settings=events.settings)
    result = await adapter.publish(account, Draft(text="Doors open at 7"),
                                   [files.payload("doors.jpg", picture, mimetype="image/jpeg")])
    article = await _feed(networks, "facebook", result.remote_id)
    assert "Doors open at 7" in article and "Acme Events" in article
    [src] = re.findall(r'<img src="([^"]+)"', article)
    assert (await _served(src)).content == picture
    # The post's `full_picture` (Facebook's CDN) is the photo itself, from the simulator.
    address = (await adapter.fetch_metrics(account, [result.remote_id])).thumbnails[result.remote_id]
    assert "fbcdn.net" in address
    assert (await _served(networks.browser_image(address))).content == picture


@pytest.mark.parametrize(("platform", "network"), [
    ("x", "X"), ("linkedin", "LinkedIn"), ("facebook", "Facebook"), ("instagram", "Facebook"),
    ("instagram-login", "Instagram"), ("tiktok", "TikTok"), ("youtube", "YouTube"), ("pinterest", "Pinterest")])
async def test_every_sign_in_link_opens_the_networks_consent_page_in_a_plain_browser(networks, http, platform,
                                                                                    network):
    """The sign-in link's page sends the browser to the authorize URL with PICMIM_ORIGIN_OVERRIDES applied
    (bot.http.for_browser): the simulator must show its consent page at its own address."""
    adapters = {"x": XAdapter, "linkedin": LinkedInAdapter, "tiktok": TikTokAdapter, "youtube": YouTubeAdapter,
                "pinterest": PinterestAdapter}
    if platform in adapters:
        adapter = _adapter(adapters[platform], networks, platform, http)
    else:
        adapter_class = {"facebook": FacebookAdapter, "instagram": InstagramAdapter,
                         "instagram-login": InstagramLoginAdapter}[platform]
        adapter = adapter_class(adapter_config(platform), http)
    url = for_browser(_overrides(networks), adapter.authorize_url(oauth.new_state(), oauth.new_pkce()))
    assert url.startswith("http://127.0.0.1:")
    async with httpx.AsyncClient() as browser:
        consent = await browser.get(url)
        assert consent.status_code == 200, consent.text
        assert f"Picmim Sandbox wants to access your {network} account" in consent.text
        back = await browser.post(_form(consent), data={"answer": "cancel"})
    assert back.status_code == 302 and httpx.URL(back.headers["location"]).params["error"]


def test_a_posts_figures_rise_fast_then_level_off_the_same_for_the_same_post_and_age():
    ages = [0, 60, 600, 3600, 6 * 3600, 86400, 7 * 86400]
    impressions = [figures.post_figures("1800000000000001001", age)["impressions"] for age in ages]
    assert impressions[0] == 0 and impressions == sorted(impressions) and len(set(impressions)) == len(ages)
    assert impressions[1] >= 10, "a minute after going live there is something to show"
    assert impressions[-1] - impressions[-2] < impressions[-1] * 0.02, "after its first day, a post levels off"
    assert figures.post_figures("1", 3600) == figures.post_figures("1", 3600)
    assert figures.post_figures("1", 3600) != figures.post_figures("2", 3600), "each post its own reach"
    grown = figures.post_figures("1", 86400)
    assert 0 < grown["likes"] < grown["impressions"] and grown["reach"] < grown["impressions"]
    assert figures.followers("acct", 100, 0) == 100 < figures.followers("acct", 100, 86400) < 100 + 24 * 8 + 1


# ---- pictures the simulated networks name by their CDN addresses ------------------------------------------------

def _top_post(target_id: int, platform: str, name: str, preview: str) -> PostFigures:
    return PostFigures(target_id=target_id, account_id=target_id, account_name="Acme", platform=platform,
                       platform_name=name, url=None, preview=preview, published_at=None, values=(), synced_at=None)


async def test_a_digests_pictures_from_the_networks_come_from_the_sandbox_never_from_their_cdns(networks, http,
                                                                                                  files):
    # An X post with a video, its picture as X names it in the figures' call (`preview_image_url`).
    x = _adapter(XAdapter, networks, "x", http)
    pkce = oauth.new_pkce()
    _, back = await _sign_in(http, x, pkce, {"answer": "allow"})
    tokens = await x.exchange_code(back.params["code"], pkce)
    [profile] = await x.list_accounts(tokens)
    x_account = AccountRef("x", profile.external_id, profile.kind, profile.name, tokens.access_token,
                           handle=profile.handle)
    video = make_video(width=320, height=180)
    clip = await x.publish(x_account, Draft("Behind the counter"), [payload(video)])
    x_picture = (await x.fetch_metrics(x_account, [clip.remote_id])).thumbnails[clip.remote_id]

    # An Instagram photo, its picture as Instagram names it (`media_url`).
    instagram = InstagramAdapter(adapter_config("instagram"), http)
    instagram.polling = Polling(attempts=5, delay=0)
    _, back = await _sign_in(http, instagram, None, {"answer": "allow", "choice": "2001"})
    ig_tokens = await instagram.exchange_code(back.params["code"], None)
    [coffee] = await instagram.list_accounts(ig_tokens)
    ig_account = AccountRef("instagram", coffee.external_id, coffee.kind, coffee.name, ig_tokens.access_token,
                            token=coffee.token, handle=coffee.handle, settings=coffee.settings)
    photo = jpeg(1080, 1350)
    latte = await instagram.publish(ig_account, Draft(text="Latte of the week"),
                                    [files.payload("latte.jpg", photo, mimetype="image/jpeg")])
    ig_picture = (await instagram.fetch_metrics(ig_account, [latte.remote_id])).thumbnails[latte.remote_id]
    assert x_picture.startswith("https://pbs.twimg.com/") and "cdninstagram.com" in ig_picture
    # An Instagram Reel: its `thumbnail_url` shows the cover chosen for it, or a plain picture when the video has
    # no picture the sandbox can take (these bytes only start like an MP4).
    reel = InstagramSettings(post_type="reel")
    cover = jpeg(540, 960)
    covered = await instagram.publish(ig_account, Draft(text="Pour-over", settings=reel), [
        files.payload("pour.mp4", mp4(), mimetype="video/mp4", kind="video", duration=12),
        files.payload("cover.jpg", cover, mimetype="image/jpeg")])
    bare = await instagram.publish(ig_account, Draft(text="Pour-over again", settings=reel), [
        files.payload("again.mp4", mp4(), mimetype="video/mp4", kind="video", duration=12)])
    reels = (await instagram.fetch_metrics(ig_account, [covered.remote_id, bare.remote_id])).thumbnails
    assert "_thumb.jpg" in reels[covered.remote_id] and "_thumb.jpg" in reels[bare.remote_id]
    assert (await _served(networks.browser_image(reels[covered.remote_id]))).content == cover
    assert (await _picture_in_the_sandbox(networks, reels[bare.remote_id])).format == "PNG"

    # The digest as the sandbox page shows it: each top post's picture beside it.
    report = Report(start=datetime(2026, 11, 1, tzinfo=UTC), end=datetime(2026, 11, 8, tzinfo=UTC), accounts=(),
                    top_posts=(_top_post(1, "x", "X", "Behind the counter"),
                               _top_post(2, "instagram", "Instagram", "Latte of the week")))
    blocks = report_blocks(report, "UTC", "Weekly digest", compared_with="the week before",
                           thumbnails={1: x_picture, 2: ig_picture})
    shown = render_blocks(blocks, Context(link=networks.browser_link, image=networks.browser_image))
    sources = [html.unescape(s) for s in re.findall(r'<img class="[^"]*" src="([^"]+)"', shown)]
    assert len(sources) == 2
    assert all(s.startswith(f"{networks.public_url}/sandbox/") for s in sources), sources
    x_shown, ig_shown = [await _served(s) for s in sources]
    assert ig_shown.headers["content-type"] == "image/jpeg" and ig_shown.content == photo
    assert x_shown.headers["content-type"] == "image/jpeg"
    assert Image.open(io.BytesIO(x_shown.content)).size == (320, 180), "the video's own first frame"


async def test_youtubes_fixed_thumbnail_address_and_outside_hosts_in_the_sandbox(networks):
    # A video the simulator does not hold: a plain picture served by the sandbox, never YouTube's host.
    src = networks.browser_image("https://i.ytimg.com/vi/unknownVideo1/hqdefault.jpg")
    assert src.startswith(f"{networks.public_url}/sandbox/youtube/media/")
    answer = await _served(src)
    assert answer.headers["content-type"] == "image/png" and Image.open(io.BytesIO(answer.content)).size
    # A network's avatar address: the same plain picture.
    assert (await _served(networks.browser_image("https://pbs.twimg.com/profile_images/1/normal.jpg"))).content \
        == answer.content
    # Picmim's own links stay; any other host is not fetched: the picture's words show in its place.
    own = f"{networks.public_url}/media/abc"
    assert networks.browser_image(own) == own
    context = Context(image=networks.browser_image)
    outside = render_blocks([{"type": "image", "image_url": "https://cdn.example.net/a.png",
                              "alt_text": "Our new mug"}], context)
    assert "<img" not in outside and "Our new mug" in outside
