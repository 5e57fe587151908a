"""Connecting accounts on every kind of platform, end to end: one real server (`python -m bot`) with Meta
(Instagram and Facebook Pages), LinkedIn, Pinterest, YouTube and Bluesky set up at once, each platform a
fake reached through PICMIM_ORIGIN_OVERRIDES, driven as Slack and a browser drive them.

Covers a successful connect for one platform of each adapter family, every refusal as the person sees
it (the callback page and Slack), that a refusal stores nothing, and that one Slack workspace never sees
another's accounts."""

from __future__ import annotations

import asyncio
import hashlib
import html
import json
import re
import time
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import func, select, update

from bot import ids
from bot.http import build_client
from bot.platforms import bluesky_oauth
from bot.sandbox.fakes import meta as meta_fake
from bot.sandbox.fakes.bluesky import FakeBluesky
from bot.sandbox.fakes.linkedin import FakeLinkedIn
from bot.sandbox.fakes.meta import FakeMeta
from bot.sandbox.fakes.pinterest import FakePinterest
from bot.sandbox.fakes.youtube import FakeYouTube
from bot.storage import db
from bot.storage.models import Account, Connection, OAuthState, Workspace, utcnow
from tests.conftest import SECRET_KEY, SIGNING_SECRET
from tests.journeys import consent
from tests.server import ServerProcess, base_env, free_port
from tests.slack_requests import SlackSender

TEAM, USER = "T0001", "U0001"
OTHER_TEAM = "T0999"  # another Slack workspace, present only in the database
GOOGLE_HOSTS = ("https://accounts.google.com", "https://oauth2.googleapis.com", "https://www.googleapis.com",
                "https://youtubeanalytics.googleapis.com")
BSKY_HANDLE, BSKY_OTHER = "acme.bsky.test", "maria.bsky.test"
YT_SUB, YT_NO_CHANNEL, YT_ELSEWHERE = "1100220033", "1100220044", "1100220055"
META_OUTLET = "2010"  # a Page of Maria's that another workspace already manages (added per test)
LINKEDIN_ELSEWHERE = "Globex Corporation"


# ---- the fakes and the server, once per module ------------------------------------------------------

@pytest.fixture(scope="module")
def fakes():
    started = {"meta": FakeMeta().start(), "linkedin": FakeLinkedIn().start(),
               "pinterest": FakePinterest().start(), "youtube": FakeYouTube().start(),
               "bluesky": FakeBluesky().start()}
    yield started
    for fake in started.values():
        fake.stop()


def _overrides(fakes) -> dict[str, str]:
    bsky = fakes["bluesky"].pds_url
    return (dict(fakes["meta"].overrides) | fakes["linkedin"].origins() | fakes["pinterest"].origins()
            | {origin: fakes["youtube"].url for origin in GOOGLE_HOSTS}
            | {f"https://{h}": bsky for h in (BSKY_HANDLE, BSKY_OTHER)}
            | {bluesky_oauth.PLC_DIRECTORY: bsky, bluesky_oauth.HANDLE_RESOLVER: bsky})


@pytest.fixture(scope="module")
def platforms_server(module_database, fake_slack, fakes, tmp_path_factory):
    port = free_port()
    li, pin, yt = fakes["linkedin"], fakes["pinterest"], fakes["youtube"]
    env = base_env(SLACK_SIGNING_SECRET=SIGNING_SECRET, SLACK_BOT_TOKEN="xoxb-fake-T0001",
                   SLACK_API_URL=fake_slack.api_url, DATABASE_URL=module_database.url, PICMIM_SECRET_KEY=SECRET_KEY,
                   PORT=str(port), PUBLIC_URL=f"http://127.0.0.1:{port}",
                   PICMIM_ORIGIN_OVERRIDES=",".join(f"{real}={local}" for real, local in _overrides(fakes).items()),
                   META_CLIENT_ID=meta_fake.APP_ID, META_CLIENT_SECRET=meta_fake.APP_SECRET,
                   LINKEDIN_CLIENT_ID=li.client_id, LINKEDIN_CLIENT_SECRET=li.client_secret,
                   PINTEREST_CLIENT_ID=pin.client_id, PINTEREST_CLIENT_SECRET=pin.client_secret,
                   GOOGLE_CLIENT_ID=yt.client_id, GOOGLE_CLIENT_SECRET=yt.client_secret)
    server = ServerProcess(env, cwd=tmp_path_factory.mktemp("platforms")).start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def other_workspace(module_database, platforms_server):
    """Another Slack workspace, with a LinkedIn connection and a YouTube channel of its own."""

    async def insert() -> None:
        async with _session(module_database) as session:
            ws = Workspace(team_id=OTHER_TEAM, name="Globex")
            session.add(ws)
            await session.flush()
            li = Connection(workspace_id=ws.id, platform="linkedin", external_user_id="globex-member",
                            display_name=LINKEDIN_ELSEWHERE, scopes=["w_member_social"])
            yt = Connection(workspace_id=ws.id, platform="youtube", external_user_id=YT_ELSEWHERE,
                            display_name="Globex Channel")
            fb = Connection(workspace_id=ws.id, platform="facebook", external_user_id="20002",
                            display_name="Globex on Facebook")
            session.add_all([li, yt, fb])
            await session.flush()
            session.add_all([
                Account(workspace_id=ws.id, connection_id=li.id, platform="linkedin",
                        external_id="urn:li:organization:9009", kind="company", name="Globex Corporation"),
                Account(workspace_id=ws.id, connection_id=yt.id, platform="youtube",
                        external_id=f"UC{YT_ELSEWHERE}00xyz", kind="channel", name="Globex Channel"),
                Account(workspace_id=ws.id, connection_id=fb.id, platform="facebook", external_id=META_OUTLET,
                        kind="page", name="Acme Outlet"),
            ])
            await session.commit()

    asyncio.run(insert())
    return OTHER_TEAM


@pytest.fixture
def meta(fakes, platforms_server):
    fake = fakes["meta"]
    fake.reset()
    return fake


@pytest.fixture
def linkedin(fakes, platforms_server):
    fake = fakes["linkedin"]
    fake.reset()
    fake.redirect_uris = {f"{platforms_server.url}/oauth/linkedin/callback"}
    return fake


@pytest.fixture
def pinterest(fakes, platforms_server):
    fake = fakes["pinterest"]
    fake.reset()
    fake.redirect_uris = {f"{platforms_server.url}/oauth/pinterest/callback"}
    return fake


@pytest.fixture
def youtube(fakes, platforms_server):
    fake = fakes["youtube"]
    fake.redirect_uris = {f"{platforms_server.url}/oauth/youtube/callback"}
    fake.users.clear()  # the consent page signs in the first user: each test adds its own
    fake.forget_calls()
    return fake


@pytest.fixture
def bluesky(fakes, platforms_server):
    fake = fakes["bluesky"]
    if not fake.accounts:
        fake.add_account(BSKY_HANDLE, display_name="Acme on Bluesky")
        fake.add_account(BSKY_OTHER, display_name="Maria")
    fake.forget_calls()
    return fake


@pytest.fixture
def sender(platforms_server):
    s = SlackSender(platforms_server.url, SIGNING_SECRET)
    yield s
    s.close()


@pytest.fixture
async def browser(fakes):
    """A browser: platform hosts reach their fakes (as DNS would reach the platforms), the rest is direct."""
    client = build_client(_overrides(fakes))
    yield client
    await client.aclose()


_slack_url = ""


@pytest.fixture(autouse=True)
def _remember_slack(slack):
    global _slack_url
    _slack_url = slack.url


# ---- the database, as the test sees it ---------------------------------------------------------------

class _session:
    """An ORM session on the module's database (the server's own), for a few reads and writes."""

    def __init__(self, database):
        self.engine = db.create_engine(database.url)

    async def __aenter__(self):
        self.session = db.session_factory(self.engine)()
        return self.session

    async def __aexit__(self, *exc):
        await self.session.close()
        await self.engine.dispose()


async def _stored(database, platform: str, team: str = TEAM) -> dict:
    """What the database holds for this workspace and platform: connections, and accounts by id."""
    async with _session(database) as session:
        ws_id = select(Workspace.id).where(Workspace.team_id == team).scalar_subquery()
        connections = (await session.execute(select(Connection.external_user_id, Connection.display_name).where(
            Connection.workspace_id == ws_id, Connection.platform == platform))).all()
        accounts = (await session.execute(select(Account.external_id, Account.active).where(
            Account.workspace_id == ws_id, Account.platform == platform))).all()
        return {"connections": sorted(tuple(c) for c in connections),
                "accounts": sorted(a.external_id for a in accounts if a.active),
                "inactive": sorted(a.external_id for a in accounts if not a.active)}


async def _expire(database, state: str) -> None:
    async with _session(database) as session:
        await session.execute(update(OAuthState).where(OAuthState.state_hash == hashlib.sha256(
            state.encode()).hexdigest()).values(expires_at=utcnow() - timedelta(minutes=1)))
        await session.commit()


async def _count(database, model) -> int:
    async with _session(database) as session:
        return await session.scalar(select(func.count()).select_from(model))


# ---- Slack and the browser ---------------------------------------------------------------------------

def _blocks(value) -> list:
    return json.loads(value) if isinstance(value, str) else value


def _text(blocks) -> str:
    return json.dumps(_blocks(blocks), ensure_ascii=False)


def _link_from(blocks) -> str:
    urls = [e["url"] for b in blocks if b["type"] == "actions" for e in b["elements"] if "url" in e]
    assert len(urls) == 1, blocks
    return urls[0]


def _link(slack, rid: str) -> str:
    [reply] = slack.wait_for_response(rid)
    assert "blocks" in reply, reply
    return _link_from(reply["blocks"])


def _state_of(link: str) -> str:
    return httpx.URL(link).path.rsplit("/", 1)[1]  # the link's page: /connect/<state>


_consent = consent  # the link's page, its Continue button, the platform's consent page


def _title(page: httpx.Response) -> str:
    """The page's heading, as the person reads it."""
    return _visible(page.text.split("<h1>", 1)[1].split("</h1>", 1)[0])


def _seen(page: httpx.Response) -> str:
    """What the callback page shows, as the person reads it (no markup)."""
    body = page.text.split("<body>", 1)[-1]
    return _visible(body)


def _visible(markup: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", markup)).split()).replace(" .", ".").replace(" ,", ",")


def _dm(slack) -> tuple[list, str]:
    [dm] = slack.wait_for("chat.postMessage")
    assert dm.params["channel"] == USER
    blocks = _blocks(dm.params.get("blocks") or "[]")
    return blocks, dm.params.get("text") or ""


def _checkboxes(blocks) -> list[dict]:
    return [e for b in blocks if b["type"] == "actions" for e in b["elements"] if e["type"] == "checkboxes"]


def _save_button(blocks) -> dict | None:
    return next((e for b in blocks if b["type"] == "actions" for e in b["elements"]
                 if e.get("action_id") == ids.CHOOSE_ACCOUNTS_SAVE), None)


def _refused_lines(blocks) -> list[str]:
    return [b["text"]["text"] for b in blocks if b["type"] == "section" and ":no_entry:" in b["text"]["text"]]


def _interaction(action_id: str, value: str, *, state: dict | None = None, rid: str = "act",
                 user: str = USER) -> dict:
    return {
        "type": "block_actions", "team": {"id": TEAM, "domain": "acme"}, "user": {"id": user},
        "api_app_id": "A0PICMIM", "token": "deprecated", "trigger_id": f"trigger-{time.time_ns()}",
        "channel": {"id": "D0001", "name": "directmessage"},
        "container": {"type": "message", "message_ts": "1700000000.000100", "channel_id": "D0001"},
        "message": {"ts": "1700000000.000100", "text": "", "blocks": []},
        "response_url": f"{_slack_url}/response/{rid}", "state": {"values": state or {}},
        "actions": [{"type": "button", "action_id": action_id, "block_id": "b", "value": value,
                     "action_ts": str(time.time())}],
    }


def _save(sender, slack, blocks, chosen: list[str], rid: str = "save", user: str = USER) -> httpx.Response:
    save = _save_button(blocks)
    assert save is not None, blocks
    state = {f"{ids.CHOOSE_ACCOUNTS_BLOCK}0": {ids.CHOOSE_ACCOUNTS_BOXES: {
        "type": "checkboxes", "selected_options": [{"value": v} for v in chosen]}}}
    answer = sender.interaction(_interaction(ids.CHOOSE_ACCOUNTS_SAVE, save["value"], state=state, rid=rid,
                                             user=user))
    assert answer.status_code == 200
    return answer


def _accounts(sender, slack, rid: str) -> str:
    assert sender.command("accounts", response_url=slack.response_url(rid)).status_code == 200
    [listing] = slack.wait_for_response(rid)
    return _text(listing["blocks"])


async def _connect(sender, slack, browser, key: str, rid: str) -> tuple[httpx.Response, str]:
    """`/picmim connect <key>`, the consent, and the callback page. Returns the page and the link."""
    assert sender.command(f"connect {key}", response_url=slack.response_url(rid)).status_code == 200
    link = _link(slack, rid)
    back = await _consent(browser, link)
    return await browser.get(str(back)), link


# ---- 1. a successful connect for each adapter family -------------------------------------------------

async def test_facebook_pages_several_pages_none_preselected_and_only_the_chosen_one_is_managed(
        sender, slack, browser, meta, module_database):
    page, _ = await _connect(sender, slack, browser, "facebook", "fb")
    assert page.status_code == 200, page.text
    assert _title(page) == "Facebook Pages is connected (Maria Lopez)"
    assert "Back in Slack, choose which accounts Picmim may manage" in _seen(page)

    blocks, text = _dm(slack)
    assert text == "Facebook Pages is connected: choose which accounts Picmim may manage."
    assert "*Facebook Pages* is connected (Maria Lopez). Choose which accounts Picmim may manage:" in _text(blocks)
    [boxes] = _checkboxes(blocks)
    assert [(o["value"], o["text"]["text"]) for o in boxes["options"]] == [("2001", "Acme Coffee"),
                                                                          ("2003", "Acme Events")]
    assert "initial_options" not in boxes, "several Pages: none is chosen for the person"
    [bakery] = _refused_lines(blocks)
    assert "*Acme Bakery* cannot be managed" in bakery and "“Create content” task" in bakery
    assert (await _stored(module_database, "facebook"))["accounts"] == [], "nothing is managed before Save"

    # Maria ticks Acme Events (and a forged tick of the refused Bakery is ignored).
    _save(sender, slack, blocks, ["2003", "2002"])
    [updated] = slack.wait_for("chat.update")
    assert "Picmim now manages *Acme Events* on Facebook Pages" in _text(updated.params["blocks"])
    stored = await _stored(module_database, "facebook")
    assert stored["accounts"] == ["2003"] and stored["connections"] == [("10001", "Maria Lopez")]

    listing = _accounts(sender, slack, "fb-list")
    assert "*Facebook Pages* · Maria Lopez: :large_green_circle: Active" in listing
    assert "Accounts: Acme Events (page)" in listing
    assert "Acme Coffee" not in listing and "Acme Bakery" not in listing

    # The choice works once.
    _save(sender, slack, blocks, ["2001"], rid="again")
    [again] = slack.wait_for_response("again")
    assert "already chosen" in again["text"]
    assert (await _stored(module_database, "facebook"))["accounts"] == ["2003"]


async def test_linkedin_profile_and_an_admin_company_page_a_page_without_admin_rights_is_refused(
        sender, slack, browser, linkedin, module_database):
    page, _ = await _connect(sender, slack, browser, "linkedin", "li")
    assert page.status_code == 200, page.text
    assert _title(page) == "LinkedIn is connected (Maria Lopez)"

    blocks, _ = _dm(slack)
    [boxes] = _checkboxes(blocks)
    assert [(o["value"], o["text"]["text"]) for o in boxes["options"]] == [
        ("urn:li:person:x7Yq2LmN0p", "Maria Lopez"), ("urn:li:organization:1001", "Acme Inc")]
    assert "initial_options" not in boxes
    [labs] = _refused_lines(blocks)
    assert "*Acme Labs* cannot be managed: You are not an administrator of this LinkedIn page (your role: analyst)" \
        in labs
    assert "Ask one of its admins to give you the Admin role" in labs

    _save(sender, slack, blocks, ["urn:li:person:x7Yq2LmN0p", "urn:li:organization:1001",
                                  "urn:li:organization:1002"])
    [updated] = slack.wait_for("chat.update")
    assert "Picmim now manages *Maria Lopez*, *Acme Inc* on LinkedIn" in _text(updated.params["blocks"])
    assert (await _stored(module_database, "linkedin"))["accounts"] == ["urn:li:organization:1001",
                                                                "urn:li:person:x7Yq2LmN0p"]
    listing = _accounts(sender, slack, "li-list")
    assert "*LinkedIn* · Maria Lopez:" in listing
    assert "Accounts: Acme Inc (company), Maria Lopez (profile)" in listing
    assert "Acme Labs" not in listing


def _handle_submission(handle: str, channel_id: str = "C0001") -> dict:
    return {"type": "view_submission", "team": {"id": TEAM, "domain": "acme"}, "user": {"id": USER},
            "api_app_id": "A0PICMIM", "token": "deprecated", "trigger_id": f"trigger-{time.time_ns()}",
            "view": {"id": "VBSKY", "type": "modal", "callback_id": ids.BLUESKY_HANDLE_VIEW, "hash": "h1",
                     "private_metadata": json.dumps({"channel_id": channel_id}),
                     "state": {"values": {ids.BLUESKY_HANDLE_BLOCK: {ids.BLUESKY_HANDLE_INPUT: {
                         "type": "plain_text_input", "value": handle}}}}}}


async def test_bluesky_through_the_handle_modal(sender, slack, browser, bluesky, module_database):
    assert sender.command("connect bluesky", response_url=slack.response_url("bsky")).status_code == 200
    [opened] = slack.wait_for("views.open")
    modal = _blocks(opened.params["view"])
    assert modal["callback_id"] == ids.BLUESKY_HANDLE_VIEW and "Your Bluesky handle" in _text(modal)
    assert opened.params["trigger_id"].startswith("trigger-")

    # A handle that resolves nowhere is shown on the field; the modal stays open.
    typo = sender.interaction(_handle_submission("nobody.bsky.test"))
    assert typo.status_code == 200 and typo.json()["response_action"] == "errors"
    assert ids.BLUESKY_HANDLE_BLOCK in typo.json()["errors"]

    answer = sender.interaction(_handle_submission("@" + BSKY_HANDLE))
    assert answer.status_code == 200
    body = answer.json()
    assert body["response_action"] == "update"
    assert "Connect *Bluesky*: open the link" in _text(body["view"])
    back = await _consent(browser, _link_from(body["view"]["blocks"]))
    page = await browser.get(str(back))
    assert page.status_code == 200, page.text
    assert _title(page) == f"Bluesky is connected ({BSKY_HANDLE})"
    # a confidential client: the server made its key on first start, and the fake checked the code exchange's
    # client assertion against the JWKS it fetched from the app (it refuses a request without one)
    [token] = [c for c in bluesky.calls_to("/oauth/token") if c.status == 200][-1:]
    assert token.body["client_assertion_type"] == "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

    blocks, _ = _dm(slack)
    [boxes] = _checkboxes(blocks)
    did = next(a.did for a in bluesky.accounts.values() if a.handle == BSKY_HANDLE)
    assert [o["value"] for o in boxes["options"]] == [did]
    assert boxes["initial_options"] == boxes["options"], "one account: chosen for the person"
    _save(sender, slack, blocks, [did])
    slack.wait_for("chat.update")
    assert (await _stored(module_database, "bluesky"))["accounts"] == [did]
    assert "*Bluesky* · " in _accounts(sender, slack, "bsky-list")


async def test_bluesky_with_the_handle_in_the_command_gives_the_link_at_once(sender, slack, browser, bluesky,
                                                                           module_database):
    assert sender.command(f"connect bluesky {BSKY_OTHER}", response_url=slack.response_url("bsky2")).status_code \
        == 200
    link = _link(slack, "bsky2")
    assert not slack.calls_to("views.open"), "no modal when the handle is given"
    page = await browser.get(str(await _consent(browser, link)))
    assert page.status_code == 200 and _title(page) == f"Bluesky is connected ({BSKY_OTHER})"
    blocks, _ = _dm(slack)
    did = next(a.did for a in bluesky.accounts.values() if a.handle == BSKY_OTHER)
    assert [o["value"] for o in _checkboxes(blocks)[0]["options"]] == [did]


# ---- 2. each refusal, on the callback page and in Slack -----------------------------------------------

async def _refused_outright(sender, slack, browser, module_database, key: str, name: str, rid: str) -> str:
    """A sign-in that reaches no account Picmim can manage: the page and the Slack message say why, there is
    nothing to choose, and nothing is stored. Returns what the person reads in Slack."""
    before = await _stored(module_database, key)
    page, _ = await _connect(sender, slack, browser, key, rid)
    assert page.status_code == 400, page.text
    assert _title(page) == f"No {name} account Picmim can manage"
    blocks, text = _dm(slack)
    assert not _checkboxes(blocks) and _save_button(blocks) is None, "nothing to choose: no Save button"
    assert await _stored(module_database, key) == before, "no connection and no account stored"
    assert f"*{name}* ·" not in _accounts(sender, slack, f"{rid}-list") or before["connections"]
    return _seen(page) + "\n" + _text(blocks)  # what the person reads (`text` is the notification of the same)


async def test_a_facebook_page_without_an_instagram_professional_account_cannot_be_managed(
        sender, slack, browser, meta, module_database):
    meta.add_fb_user("10002", "Sam Rivera")
    meta.add_page("2009", "Sam's Shop", "samshop", user="10002")  # no Instagram account linked
    meta.browser_user = "10002"
    seen = await _refused_outright(sender, slack, browser, module_database, "instagram", "Instagram (through Meta)",
                                   "ig")
    assert "No Instagram professional account is linked to the Facebook Page Sam's Shop." in seen
    assert "switch it to a Professional account (Business or Creator) in the Instagram app" in seen
    assert seen.count("switch it to a Professional account") == 2, "on the page and in Slack"


async def test_a_personal_pinterest_account_is_refused_with_the_way_to_a_business_account(
        sender, slack, browser, pinterest, module_database):
    pinterest.add_account("549755885199", "maria.pins", None, "PERSONAL")
    pinterest.consent_as("549755885199")
    seen = await _refused_outright(sender, slack, browser, module_database, "pinterest", "Pinterest", "pin")
    assert "This is a personal Pinterest account" in seen
    assert seen.count("Convert it to a free business account") == 2, "on the page and in Slack"


async def test_a_google_login_without_a_youtube_channel_is_refused(sender, slack, browser, youtube,
                                                                   module_database):
    youtube.add_user(YT_NO_CHANNEL, channels=0)
    seen = await _refused_outright(sender, slack, browser, module_database, "youtube", "YouTube", "yt")
    assert seen.count("This Google account has no YouTube channel yet: create one on youtube.com") == 2


async def test_denied_consent_connects_nothing(sender, slack, browser, meta, module_database):
    before = await _stored(module_database, "facebook")
    meta.deny_next_dialog = True
    page, _ = await _connect(sender, slack, browser, "facebook", "deny")
    assert page.status_code == 400
    assert _title(page) == "Facebook Pages was not connected"
    assert "You chose not to allow Picmim access, so nothing was connected." in _seen(page)
    blocks, text = _dm(slack)
    assert text == "Facebook Pages: You chose not to allow Picmim access, so nothing was connected."
    assert _text(blocks).count("not connected") + _text(blocks).count("nothing was connected") == 1, "said once"
    assert not meta.calls_to("oauth/access_token"), "no code to exchange"
    assert await _stored(module_database, "facebook") == before


async def test_an_expired_link_is_refused_before_the_code_is_used(sender, slack, browser, linkedin,
                                                                  module_database):
    before = await _stored(module_database, "linkedin")
    assert sender.command("connect linkedin", response_url=slack.response_url("late")).status_code == 200
    link = _link(slack, "late")
    back = await _consent(browser, link)
    await _expire(module_database, _state_of(link))  # eleven minutes later
    page = await browser.get(str(back))
    assert page.status_code == 400
    assert _title(page) == "This link expired"
    assert "This sign-in link expired: links last 10 minutes. Start again from Slack with /picmim connect." \
        in _seen(page)
    _, text = _dm(slack)
    assert text.startswith("LinkedIn: This sign-in link expired")
    assert not linkedin.calls_to("/oauth/v2/accessToken"), "the code is never exchanged"
    assert await _stored(module_database, "linkedin") == before


async def test_a_link_works_once(sender, slack, browser, pinterest, module_database):
    page, _ = await _connect(sender, slack, browser, "pinterest", "once")
    assert page.status_code == 200 and _title(page) == "Pinterest is connected (Acme Pins)"
    blocks, _ = _dm(slack)
    after_first = await _stored(module_database, "pinterest")
    exchanges = len(pinterest.calls_to("/v5/oauth/token"))

    replay = await browser.get(str(page.url))
    assert replay.status_code == 400
    assert _title(replay) == "This link was already used"
    assert "This sign-in link was already used. Start again from Slack" in _seen(replay)
    [_, told] = slack.wait_for("chat.postMessage", count=2)
    assert told.params["text"].startswith("Pinterest: This sign-in link was already used.")
    assert len(pinterest.calls_to("/v5/oauth/token")) == exchanges, "the replayed code is not sent to Pinterest"
    assert await _stored(module_database, "pinterest") == after_first

    # The first sign-in's choice still works.
    _save(sender, slack, blocks, ["549755885175"])
    slack.wait_for("chat.update")
    assert "549755885175" in (await _stored(module_database, "pinterest"))["accounts"]


async def test_a_forged_or_misplaced_state_is_refused_and_nobody_is_told(sender, slack, browser, linkedin,
                                                                          platforms_server, module_database):
    base = platforms_server.url
    states_before = await _count(module_database, OAuthState)
    connections_before = await _count(module_database, Connection)
    forged = await browser.get(f"{base}/oauth/linkedin/callback", params={"code": "c", "state": "made-up"})
    assert forged.status_code == 400 and _title(forged) == "This link is not valid"
    assert "This sign-in link is not one Picmim made, or it was changed." in _seen(forged)
    stateless = await browser.get(f"{base}/oauth/linkedin/callback", params={"code": "c"})
    assert stateless.status_code == 400 and _title(stateless) == "This link is not valid"

    # A genuine LinkedIn state brought to another platform's callback is not valid there either.
    assert sender.command("connect linkedin", response_url=slack.response_url("misplaced")).status_code == 200
    back = await _consent(browser, _link(slack, "misplaced"))
    elsewhere = await browser.get(f"{base}/oauth/pinterest/callback", params=dict(back.params))
    assert elsewhere.status_code == 400 and _title(elsewhere) == "This link is not valid"
    # The page comes after any Slack message the server sends: none was sent.
    assert not slack.calls_to("chat.postMessage"), "a state Picmim did not make names nobody to tell"
    assert not linkedin.calls_to("/oauth/v2/accessToken")
    assert await _count(module_database, Connection) == connections_before
    assert await _count(module_database, OAuthState) == states_before + 1

    # The genuine link still works at its own callback.
    page = await browser.get(str(back))
    assert page.status_code == 200 and _title(page) == "LinkedIn is connected (Maria Lopez)"


async def test_a_code_the_platform_refuses_at_exchange_connects_nothing(sender, slack, browser, meta,
                                                                         module_database):
    before = await _stored(module_database, "facebook")
    assert sender.command("connect facebook", response_url=slack.response_url("badcode")).status_code == 200
    back = await _consent(browser, _link(slack, "badcode"))
    tampered = back.copy_set_param("code", "AQnot-a-code-meta-issued")
    page = await browser.get(str(tampered))
    assert page.status_code == 400
    assert _title(page) == "Facebook Pages was not connected"
    assert "Facebook Pages did not accept the sign-in:" in _seen(page)
    assert "Start again from Slack with /picmim connect." in _seen(page)
    blocks, text = _dm(slack)
    assert text.startswith("Facebook Pages did not accept the sign-in:")
    assert "Start again from Slack" not in _text(blocks), "a button says it instead"
    assert '"text": "Connect Facebook Pages again"' in _text(blocks)
    [exchange] = meta.calls_to("oauth/access_token")
    assert exchange.status == 400, "Meta refused the code"
    assert await _stored(module_database, "facebook") == before

    # The link was spent by the refused attempt: the real code cannot be brought back through it.
    again = await browser.get(str(back))
    assert again.status_code == 400 and _title(again) == "This link was already used"


async def test_an_account_connected_in_another_workspace_is_refused_and_nothing_is_stored(
        sender, slack, browser, youtube, other_workspace, module_database):
    youtube.add_user(YT_ELSEWHERE, title="Globex Channel")
    before = await _stored(module_database, "youtube")
    page, _ = await _connect(sender, slack, browser, "youtube", "taken")
    assert page.status_code == 400
    assert _title(page) == "Connected in another workspace"
    assert ("This YouTube account is already connected to another Slack workspace. Disconnect it there first, then "
            "connect it here.") in _seen(page)
    _, text = _dm(slack)
    assert text.startswith("This YouTube account is already connected")
    assert await _stored(module_database, "youtube") == before
    assert (await _stored(module_database, "youtube", OTHER_TEAM))["accounts"] == [f"UC{YT_ELSEWHERE}00xyz"], \
        "the other workspace keeps its channel"


async def test_one_page_managed_in_another_workspace_is_listed_as_refused(sender, slack, browser, meta,
                                                                         other_workspace, module_database):
    meta.add_page(META_OUTLET, "Acme Outlet", "acmeoutlet", user="10001")
    page, _ = await _connect(sender, slack, browser, "facebook", "partial")
    assert page.status_code == 200, page.text
    blocks, _ = _dm(slack)
    assert META_OUTLET not in [o["value"] for o in _checkboxes(blocks)[0]["options"]]
    outlet = [line for line in _refused_lines(blocks) if "Acme Outlet" in line]
    assert outlet and "Already connected to another Slack workspace: disconnect it there first." in outlet[0]
    _save(sender, slack, blocks, ["2003", META_OUTLET])
    slack.wait_for("chat.update")
    assert META_OUTLET not in (await _stored(module_database, "facebook"))["accounts"]
    assert (await _stored(module_database, "facebook", OTHER_TEAM))["accounts"] == [META_OUTLET]


# ---- 3. one workspace never sees another's accounts ---------------------------------------------------

async def test_accounts_of_another_workspace_are_never_shown_or_touched(sender, slack, browser, linkedin,
                                                                        other_workspace, module_database):
    page, _ = await _connect(sender, slack, browser, "linkedin", "mine")
    assert page.status_code == 200
    blocks, _ = _dm(slack)
    _save(sender, slack, blocks, ["urn:li:person:x7Yq2LmN0p"])
    slack.wait_for("chat.update")

    listing = _accounts(sender, slack, "ws-list")
    assert "*LinkedIn* · Maria Lopez" in listing
    for theirs in (LINKEDIN_ELSEWHERE, "Globex Channel", "Globex on Facebook", "Acme Outlet"):
        assert theirs not in listing, theirs

    async def their_connection_ids() -> list[int]:
        async with _session(module_database) as session:
            ws_id = select(Workspace.id).where(Workspace.team_id == OTHER_TEAM).scalar_subquery()
            return list(await session.scalars(select(Connection.id).where(Connection.workspace_id == ws_id)))

    theirs = await their_connection_ids()
    assert len(theirs) == 3
    # Buttons carrying another workspace's connection id refuse, and leave it as it was.
    for action, rid in ((ids.ACCOUNT_REFRESH, "x-refresh"), (ids.ACCOUNT_DISCONNECT, "x-disconnect"),
                        (ids.ACCOUNT_RECONNECT, "x-reconnect")):
        sender.interaction(_interaction(action, str(theirs[0]), rid=rid))
        [answer] = slack.wait_for_response(rid)
        shown = answer.get("text", "") + _text(answer.get("blocks") or [])
        assert "This connection no longer exists" in shown, shown
        assert LINKEDIN_ELSEWHERE not in shown
    assert await their_connection_ids() == theirs
    assert (await _stored(module_database, "linkedin", OTHER_TEAM))["accounts"] == ["urn:li:organization:9009"]
