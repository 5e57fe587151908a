"""LinkedIn's and Pinterest's own post types, end to end (issue 18): the real server with LinkedIn, Pinterest and X
connected (each a local fake reached through PICMIM_ORIGIN_OVERRIDES), driven through the compose window as a
person drives Slack, then what the fake network received is checked:

- a LinkedIn document post from a PDF attached in Slack, under its title (Documents API, then content.media); the
  same PDF is refused for X in X's name, and a document without a title is refused beside the title field;
- a four-picture LinkedIn post (Images API uploads, then content.multiImage);
- a Pinterest video pin (media register, upload, status until succeeded) with the cover frame chosen in the
  window; the fake refuses a pin whose video has not finished processing;
- a Pinterest pin of several pictures (multiple_image_urls), and six pictures refused before anything is sent.
"""

from __future__ import annotations

import asyncio
import json
import time

import pytest

from bot import ids
from bot.http import build_client
from bot.platforms import oauth
from bot.platforms.linkedin import ADAPTER as LinkedInAdapter
from bot.platforms.pinterest import ADAPTER as PinterestAdapter
from bot.platforms.x import ADAPTER as XAdapter
from bot.sandbox.fakes.linkedin import FakeLinkedIn
from bot.sandbox.fakes.pinterest import FakePinterest
from bot.sandbox.fakes.slack_files import SlackFiles
from bot.sandbox.fakes.x import FakeX
from bot.storage.models import PostStatus
from tests.conftest import SECRET_KEY, SIGNING_SECRET
from tests.fakes.media import make_clip, make_image, make_pdf
from tests.journeys import (
    accepted,
    blocks_by_id,
    blocks_of,
    field_errors,
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
from tests.test_platform_settings_e2e import _nothing_created, _posts, _setting

TEAM, USER, CHANNEL = "T0001", "U0001", "C0001"
BOT_TOKEN = "xoxb-fake-T0001"
MEMBER = "x7Yq2LmN0p"  # the fake LinkedIn's member
PIN_USER = "549755885175"
WAIT = 60.0

DECK = make_pdf(pages=6)
CLIP = make_clip(seconds=5.0, fps=24)  # Pinterest takes videos of 4 seconds or more
SLACK_FILES = {"q3-report.pdf": (DECK, "application/pdf"), "pin.mp4": (CLIP, "video/mp4"),
               **{f"shot{n}.png": make_image(600 + 40 * n, 600, "PNG") for n in range(1, 7)}}


@pytest.fixture(scope="module")
def fakes():
    started = {"linkedin": FakeLinkedIn().start(), "pinterest": FakePinterest().start(), "x": FakeX().start(),
               "files": SlackFiles(SLACK_FILES).start()}
    yield started
    for fake in started.values():
        fake.stop()


def _overrides(fakes) -> dict[str, str]:
    return fakes["linkedin"].origins() | fakes["pinterest"].origins() | fakes["x"].origins()


@pytest.fixture(scope="module")
def server(module_database, fake_slack, fakes, tmp_path_factory):
    port = free_port()
    public = f"http://127.0.0.1:{port}"
    li, pin, x = fakes["linkedin"], fakes["pinterest"], fakes["x"]
    env = base_env(SLACK_SIGNING_SECRET=SIGNING_SECRET, SLACK_BOT_TOKEN=BOT_TOKEN, SLACK_API_URL=fake_slack.api_url,
                   DATABASE_URL=module_database.url, PICMIM_SECRET_KEY=SECRET_KEY, PORT=str(port),
                   PUBLIC_URL=public, PICMIM_TICK_SECONDS="0.5", PICMIM_HEALTH_SECONDS="3600",
                   PICMIM_ANALYTICS_SECONDS="3600",
                   PICMIM_ORIGIN_OVERRIDES=",".join(f"{real}={local}" for real, local in _overrides(fakes).items()),
                   LINKEDIN_CLIENT_ID=li.client_id, LINKEDIN_CLIENT_SECRET=li.client_secret,
                   PINTEREST_CLIENT_ID=pin.client_id, PINTEREST_CLIENT_SECRET=pin.client_secret,
                   X_CLIENT_ID=x.client_id, X_CLIENT_SECRET=x.client_secret)
    process = ServerProcess(env, cwd=tmp_path_factory.mktemp("formats")).start()
    try:
        yield process, asyncio.run(_connect(module_database.url, public, fakes))
    finally:
        process.stop()


async def _connect(url: str, public: str, fakes) -> dict[str, int]:
    li, pin, x = fakes["linkedin"], fakes["pinterest"], fakes["x"]
    for key, fake in (("linkedin", li), ("pinterest", pin), ("x", x)):
        fake.redirect_uris = {f"{public}/oauth/{key}/callback"}
    async with build_client(_overrides(fakes)) as http:
        def redirect(key: str) -> str:
            return f"{public}/oauth/{key}/callback"

        granted = {
            "linkedin": await connect_and_choose(make_adapter(LinkedInAdapter, li, http, redirect("linkedin")), http,
                                                 redirect("linkedin"), None, f"urn:li:person:{MEMBER}"),
            "pinterest": await connect_and_choose(make_adapter(PinterestAdapter, pin, http, redirect("pinterest")),
                                                  http, redirect("pinterest"), None, PIN_USER),
            "x": await connect_and_choose(make_adapter(XAdapter, x, http, redirect("x")), http, redirect("x"),
                                          oauth.new_pkce()),
        }
    return await store_connected(url, TEAM, USER, granted)


@pytest.fixture
def sender(server):
    s = SlackSender(server[0].url, SIGNING_SECRET)
    yield s
    s.close()


# ---- driving the window ------------------------------------------------------------------------------------


def _open(sender, slack) -> dict:
    before = len(slack.calls_to("views.open"))
    assert sender.command("post", response_url=slack.response_url("post")).status_code == 200
    return blocks_of(slack.wait_for("views.open", count=before + 1, timeout=WAIT)[-1].params["view"])


def _choose(sender, slack, account_ids: list[int], text: str, files: list[dict]) -> dict:
    opened = _open(sender, slack)
    state = view_state(opened, {ids.COMPOSE_TEXT_BLOCK: typed(text), ids.COMPOSE_MEDIA_BLOCK: {"files": files},
                                ids.COMPOSE_ACCOUNTS_BLOCK: ticked(*map(str, account_ids))})
    return update_compose(sender, slack, state, view=opened)


def _submit(sender, view: dict, text: str, files: list[dict], account_ids: list[int], changed: dict | None = None):
    state = view_state(view, {ids.COMPOSE_TEXT_BLOCK: typed(text), ids.COMPOSE_MEDIA_BLOCK: {"files": files},
                              ids.COMPOSE_ACCOUNTS_BLOCK: ticked(*map(str, account_ids)), **(changed or {})})
    return submit_view(sender, view, state)



def _status_messages(slack, text: str) -> list[str]:
    """Everything Slack was asked to show in a message about the post with this text (its status message)."""
    found = []
    for call in slack.calls_to("chat.postMessage") + slack.calls_to("chat.update"):
        shown = json.dumps(call.params.get("blocks") or [], ensure_ascii=False) + str(call.params.get("text") or "")
        if text[:40] in shown:
            found.append(shown)
    return found


def _published(module_database, text: str, server) -> None:
    poll_server("the post published", lambda: [p for p, _ in asyncio.run(_posts(module_database.url, text))
                                              if p.status is PostStatus.PUBLISHED], server, timeout=WAIT)


# ---- LinkedIn --------------------------------------------------------------------------------------------


def test_a_linkedin_document_post_from_a_pdf_with_its_title(server, fakes, sender, slack, module_database):
    process, accounts = server
    li, x, files = fakes["linkedin"], fakes["x"], fakes["files"]
    text = f"Our Q3 report, page by page {time.time_ns()}"
    pdf = [files.file("q3-report.pdf")]
    title_block = _setting("linkedin", "document_title")

    both = [accounts["linkedin"], accounts["x"]]
    view = _choose(sender, slack, both, text, pdf)
    shown = blocks_by_id(view)
    assert shown[title_block]["label"]["text"] == "Document title", "LinkedIn's part asks for the document's title"
    assert not any(b.startswith(ids.COMPOSE_ALT_BLOCK) for b in shown), "a PDF is not a picture: no alt text field"

    # The PDF is refused for X in X's name, and LinkedIn wants the document's title: each said beside its field.
    refused = field_errors(_submit(sender, view, text, pdf, both))
    assert "X does not take documents such as “q3-report.pdf”" in refused[ids.COMPOSE_MEDIA_BLOCK], refused
    assert refused[ids.COMPOSE_MEDIA_BLOCK].count("does not take") == 1, "LinkedIn takes the PDF"
    assert "Document title" in refused[title_block], refused
    _nothing_created(module_database.url, text)
    assert li.documents == {} and x.calls_to("/2/tweets") == []

    only = [accounts["linkedin"]]
    view = _choose(sender, slack, only, text, pdf)
    accepted(_submit(sender, view, text, pdf, only, {title_block: typed("Q3 report: the numbers")}))

    [post] = poll_server("the document post", lambda: [p for p in list(li.posts.values())
                                                       if text in p["shown_text"]], process, timeout=WAIT)
    media = post["body"]["content"]["media"]
    assert media["title"] == "Q3 report: the numbers"
    assert media["id"].startswith("urn:li:document:")
    document = li.documents[media["id"]]
    assert document["data"] == DECK, "the PDF as attached, not converted"
    assert document["owner"] == f"urn:li:person:{MEMBER}" and document["status"] == "AVAILABLE"
    _published(module_database, text, process)
    # The post's status message says what LinkedIn got.
    messages = _status_messages(slack, text)
    assert any("document “Q3 report: the numbers”" in m and "PDF document (q3-report.pdf)" in m for m in messages)


def test_a_four_picture_linkedin_post(server, fakes, sender, slack, module_database):
    process, accounts = server
    li, files = fakes["linkedin"], fakes["files"]
    text = f"Four shots from the roastery {time.time_ns()}"
    pictures = [files.file(f"shot{n}.png") for n in range(1, 5)]
    only = [accounts["linkedin"]]
    view = _choose(sender, slack, only, text, pictures)
    alts = {f"{ids.COMPOSE_ALT_BLOCK}{n}": typed(f"Roastery shot {n + 1}") for n in range(4)}
    accepted(_submit(sender, view, text, pictures, only, alts))

    [post] = poll_server("the multi-image post", lambda: [p for p in list(li.posts.values())
                                                          if text in p["shown_text"]], process, timeout=WAIT)
    images = post["body"]["content"]["multiImage"]["images"]
    assert [i["altText"] for i in images] == [f"Roastery shot {n}" for n in range(1, 5)], "in the order attached"
    assert all(li.images[i["id"]]["data"] is not None for i in images), "each picture uploaded before the post"
    _published(module_database, text, process)
    assert any("4 photos" in m for m in _status_messages(slack, text)), "the status message says what went"


# ---- Pinterest -------------------------------------------------------------------------------------------


def test_a_pinterest_video_pin_with_its_cover_frame(server, fakes, sender, slack, module_database):
    process, accounts = server
    pin, files = fakes["pinterest"], fakes["files"]
    text = f"How we pour a flat white {time.time_ns()}"
    video = [files.file("pin.mp4")]
    only = [accounts["pinterest"]]
    view = _choose(sender, slack, only, text, video)
    assert ids.COMPOSE_COVER_BLOCK in blocks_by_id(view), "the window offers the cover frame"
    accepted(_submit(sender, view, text, video, only, {
        _setting("pinterest", "title"): typed("Flat white"), ids.COMPOSE_COVER_BLOCK: typed("2")}))

    [made] = poll_server("the video pin", lambda: [p for p in list(pin.pins.values()) if p["description"] == text],
                         process, timeout=WAIT)
    assert made["media"]["media_type"] == "video" and made["title"] == "Flat white"
    assert made["media"]["cover_image_key_frame_time"] == 2, "the cover frame chosen in the window, in seconds"
    upload = pin.uploads[made["media"]["media_id"]]
    assert upload.status == "succeeded" and upload.data, "registered, uploaded and processed before the pin"
    assert len(pin.calls_to("/v5/media/")) >= 2, "the status was asked until processing succeeded"
    _published(module_database, text, process)


def test_the_fake_pinterest_refuses_what_pinterest_refuses(fakes):
    """PinMediaSource as the real API checks it: a video that has not finished processing, a cover frame time that
    is not a whole number of seconds, fewer than 2 or more than 5 pictures."""
    from bot.sandbox.fakes.pinterest import Upload

    pin = fakes["pinterest"]
    media_id = str(5_000_000 + int(pin.next_id()))
    pin.uploads[media_id] = Upload(PIN_USER, {}, status="processing", data=CLIP)
    video = {"source_type": "video_id", "media_id": media_id, "cover_image_key_frame_time": 0}
    assert "processing, not succeeded" in _refusal(pin, video)
    pin.uploads[media_id].status = "succeeded"
    assert "integer" in _refusal(pin, {**video, "cover_image_key_frame_time": 1.5})
    assert pin._media_for(PIN_USER, video)[2] is None
    url = "https://cdn.example/mug.png"
    pin.public_files[url] = SLACK_FILES["shot1.png"]
    assert "minItems=2" in _refusal(pin, {"source_type": "multiple_image_urls", "items": [{"url": url}]})
    assert "maxItems=5" in _refusal(pin, {"source_type": "multiple_image_urls", "items": [{"url": url}] * 6})
    assert pin._media_for(PIN_USER, {"source_type": "multiple_image_urls", "items": [{"url": url}] * 2})[2] is None


def _refusal(pin: FakePinterest, source: dict) -> str:
    answer = pin._media_for(PIN_USER, source)[2]
    assert answer is not None and answer.status == 400, "refused"
    return json.loads(answer.body)["message"]


def test_the_fake_linkedin_refuses_a_document_post_without_title_or_processing(fakes):
    li = fakes["linkedin"]
    author = f"urn:li:person:{MEMBER}"
    li.documents["urn:li:document:D4D10AQtest"] = {"owner": author, "data": DECK, "status": "PROCESSING",
                                                   "polls_left": 0}
    media = {"media": {"id": "urn:li:document:D4D10AQtest", "title": "Deck"}}
    assert "not in AVAILABLE state" in li._content_problem(author, media)
    li.documents["urn:li:document:D4D10AQtest"]["status"] = "AVAILABLE"
    assert "needs a title" in li._content_problem(author, {"media": {"id": "urn:li:document:D4D10AQtest"}})
    assert li._content_problem(author, media) is None
    assert "another owner" in li._content_problem("urn:li:organization:1001", media)


def test_a_pinterest_pin_of_several_pictures(server, fakes, sender, slack, module_database):
    process, accounts = server
    pin, files = fakes["pinterest"], fakes["files"]
    only = [accounts["pinterest"]]

    # Six pictures: more than a pin takes, refused before anything is sent.
    text = f"Six mugs {time.time_ns()}"
    six = [files.file(f"shot{n}.png") for n in range(1, 7)]
    refused = field_errors(_submit(sender, _choose(sender, slack, only, text, six), text, six, only))
    assert "Pinterest takes up to 5 images" in refused[ids.COMPOSE_MEDIA_BLOCK], refused
    _nothing_created(module_database.url, text)

    text = f"Three mugs, one pin {time.time_ns()}"
    three = [files.file(f"shot{n}.png") for n in range(1, 4)]
    view = _choose(sender, slack, only, text, three)
    accepted(_submit(sender, view, text, three, only, {_setting("pinterest", "title"): typed("Our mugs")}))
    [made] = poll_server("the pin", lambda: [p for p in list(pin.pins.values()) if p["description"] == text],
                         process, timeout=WAIT)
    assert made["media"]["media_type"] == "multiple_images"
    assert made["media"]["items"] == [{"type": "image/png"}] * 3, "each picture fetched from its media link"
    _published(module_database, text, process)
    assert any("3 photos" in m for m in _status_messages(slack, text))
