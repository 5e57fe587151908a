"""The publishing journey of issue 7, end to end through the real server process: a post with two pictures
to Instagram (through Meta), X and LinkedIn is refused beside its attachments while one picture does not fit
Instagram, accepted once fixed and scheduled; the tick publishes it on time; X answers 429 and is sent again
only after its retry-after; LinkedIn's grant was withdrawn, so its part fails with Reconnect guidance; the
post's one Slack message ends showing every link and reason. Slack and each platform are local fakes."""

from __future__ import annotations

import asyncio
import io
import json
import math
import time
from datetime import UTC, datetime

import pytest
from PIL import Image
from sqlalchemy import select

from bot import ids
from bot.http import build_client
from bot.platforms import oauth
from bot.platforms.base import AdapterConfig
from bot.platforms.instagram import ADAPTER as InstagramAdapter
from bot.platforms.linkedin import ADAPTER as LinkedInAdapter
from bot.platforms.x import ADAPTER as XAdapter
from bot.sandbox.fakes import meta as meta_fake
from bot.sandbox.fakes.linkedin import FakeLinkedIn
from bot.sandbox.fakes.meta import FakeMeta
from bot.sandbox.fakes.slack_files import SlackFiles
from bot.sandbox.fakes.x import FakeX
from bot.storage import db
from bot.storage.models import (
    Account,
    Connection,
    ConnectionStatus,
    Post,
    PostStatus,
    PostTarget,
    TargetStatus,
)
from tests.conftest import SECRET_KEY, SIGNING_SECRET
from tests.fakes.media import make_image
from tests.journeys import poll_server, update_compose
from tests.platform_fixtures import connect_and_choose, make_adapter, store_connected
from tests.server import ServerProcess, base_env, free_port
from tests.slack_requests import SlackSender

BOT_TOKEN = "xoxb-fake-T0001"
TEAM, USER, CHANNEL = "T0001", "U0001", "C0001"
IG_USER, IG_PAGE = "17841400000001", "2001"  # @acmecoffee, linked to Maria's Page Acme Coffee
LINKEDIN_MEMBER = "x7Yq2LmN0p"
X_HANDLE = "acmemktg"
WAIT = 60.0  # seconds any one step may take on a slow, shared machine

# The pictures, as PNG (Instagram takes JPEG only, so Picmim must convert them for it).
SQUARE = make_image(800, 800, "PNG")
PORTRAIT = make_image(800, 1000, "PNG")  # 4:5, the tallest Instagram takes
TALL = make_image(400, 1200, "PNG")  # 1:3: Instagram refuses it; X and LinkedIn take it


# ---- the fakes, the server and the connected accounts -------------------------------------------------

@pytest.fixture(scope="module")
def fakes():
    started = {"meta": FakeMeta().start(), "x": FakeX().start(), "linkedin": FakeLinkedIn().start(),
               "files": SlackFiles({"square.png": SQUARE, "portrait.png": PORTRAIT, "tall.png": TALL}).start()}
    yield started
    for fake in started.values():
        fake.stop()


@pytest.fixture(scope="module")
def journey(module_database, fake_slack, fakes, tmp_path_factory):
    """The server with @acmecoffee on Instagram, Acme Marketing on X and Maria's LinkedIn profile connected."""
    port = free_port()
    public = f"http://127.0.0.1:{port}"
    meta, x, linkedin = fakes["meta"], fakes["x"], fakes["linkedin"]
    overrides = meta.overrides | x.origins() | linkedin.origins()
    env = base_env(SLACK_SIGNING_SECRET=SIGNING_SECRET, SLACK_BOT_TOKEN=BOT_TOKEN, SLACK_API_URL=fake_slack.api_url,
                   DATABASE_URL=module_database.url, PICMIM_SECRET_KEY=SECRET_KEY, PORT=str(port),
                   PUBLIC_URL=public, PICMIM_TICK_SECONDS="0.5",
                   # Only the publisher meets the withdrawn grant here: the connection checks and metric syncs
                   # (their own tests) stay out of this journey's minute.
                   PICMIM_HEALTH_SECONDS="3600", PICMIM_ANALYTICS_SECONDS="3600",
                   PICMIM_ORIGIN_OVERRIDES=",".join(f"{real}={local}" for real, local in overrides.items()),
                   META_CLIENT_ID=meta_fake.APP_ID, META_CLIENT_SECRET=meta_fake.APP_SECRET,
                   X_CLIENT_ID=x.client_id, X_CLIENT_SECRET=x.client_secret,
                   LINKEDIN_CLIENT_ID=linkedin.client_id, LINKEDIN_CLIENT_SECRET=linkedin.client_secret)
    server = ServerProcess(env, cwd=tmp_path_factory.mktemp("journey")).start()
    try:
        accounts = asyncio.run(_connect_all(module_database.url, public, meta, x, linkedin))
        yield server, accounts
    finally:
        server.stop()


async def _connect_all(url: str, public: str, meta: FakeMeta, x: FakeX, linkedin: FakeLinkedIn) -> dict[str, int]:
    """What `/picmim connect <platform>` and ticking one account leave in the database, for each platform:
    the real code exchange against each fake, then the rows a finished connect writes."""
    x.redirect_uris = {f"{public}/oauth/x/callback"}
    linkedin.redirect_uris = {f"{public}/oauth/linkedin/callback"}
    async with build_client(meta.overrides | x.origins() | linkedin.origins()) as http:
        instagram = InstagramAdapter(AdapterConfig(
            client_id=meta_fake.APP_ID, client_secret=meta_fake.APP_SECRET,
            redirect_uri=f"{public}/oauth/instagram/callback", public_url=public), http)
        chosen = {
            "instagram": (instagram, f"{public}/oauth/instagram/callback", None, IG_USER),
            "x": (make_adapter(XAdapter, x, http, f"{public}/oauth/x/callback"), f"{public}/oauth/x/callback",
                  oauth.new_pkce(), None),
            "linkedin": (make_adapter(LinkedInAdapter, linkedin, http, f"{public}/oauth/linkedin/callback"),
                         f"{public}/oauth/linkedin/callback", None, f"urn:li:person:{LINKEDIN_MEMBER}"),
        }
        granted = {key: await connect_and_choose(adapter, http, redirect, pkce, external_id)
                   for key, (adapter, redirect, pkce, external_id) in chosen.items()}
    return await store_connected(url, TEAM, USER, granted)


@pytest.fixture
def sender(journey):
    s = SlackSender(journey[0].url, SIGNING_SECRET)
    yield s
    s.close()


# ---- reading what happened --------------------------------------------------------------------------

async def _rows(url: str, text: str):
    """The posts with this text, their targets by platform, and the connections by platform."""
    engine = db.create_engine(url)
    try:
        async with db.session_factory(engine)() as session:
            posts = list(await session.scalars(select(Post).where(Post.text == text)))
            targets = {platform: target for target, platform in await session.execute(
                select(PostTarget, Account.platform).join(Account, Account.id == PostTarget.account_id)
                .join(Post, Post.id == PostTarget.post_id).where(Post.text == text))}
            connections = {c.platform: c for c in await session.scalars(select(Connection))}
            return posts, targets, connections
    finally:
        await engine.dispose()


def _j(value):
    return json.loads(value) if isinstance(value, str) else value  # form or JSON body


def _shown(call) -> str:
    return json.dumps(_j(call.params.get("blocks")), ensure_ascii=False)




def _line(blocks: list[dict], platform_name: str) -> str:
    """The status message's line for one platform, as the person reads it."""
    [line] = [b["text"]["text"] for b in blocks if b["type"] == "section"
              and b["text"]["text"].startswith(f"*{platform_name}*")]
    return line


def _jpeg_size(data: bytes) -> tuple[int, int]:
    with Image.open(io.BytesIO(data)) as image:
        assert image.format == "JPEG", image.format
        return image.size


def _state(opened: dict, account_ids: list[int], text: str, files: list[dict], *, at: datetime | None) -> dict:
    """The modal's state as Slack sends it on submit: every input block of the opened modal, filled in."""
    values: dict[str, dict] = {}
    for block in opened["blocks"]:
        block_id = block.get("block_id", "")
        if block["type"] != "input":
            continue
        action_id = block["element"]["action_id"]
        kind = block["element"]["type"]
        if block_id == ids.COMPOSE_TEXT_BLOCK:
            value = {"value": text}
        elif block_id == ids.COMPOSE_MEDIA_BLOCK:
            value = {"files": files}
        elif block_id == ids.COMPOSE_ACCOUNTS_BLOCK:
            value = {"selected_options": [{"value": str(i), "text": {"type": "plain_text", "text": str(i)}}
                                          for i in account_ids]}
        elif block_id == ids.COMPOSE_WHEN_BLOCK:
            value = {"selected_option": {"value": "schedule" if at else "now"}}
        elif block_id == ids.COMPOSE_AT_BLOCK:
            value = {"selected_date_time": int(at.timestamp()) if at else None}
        else:
            value = {"value": None}  # the per-platform variants and the first comment stay empty
        values[block_id] = {action_id: {"type": kind, **value}}
    return {"values": values}


def _submit(sender, opened: dict, state: dict):
    payload = {"type": "view_submission", "team": {"id": TEAM, "domain": "acme"},
               "user": {"id": USER, "team_id": TEAM}, "api_app_id": "A0PICMIM", "token": "deprecated",
               "trigger_id": f"trigger-{time.time_ns()}",
               "view": {"id": "V1", "team_id": TEAM, "type": "modal", "callback_id": opened["callback_id"],
                        "private_metadata": opened["private_metadata"], "state": state, "hash": f"h{time.time_ns()}",
                        "blocks": opened["blocks"]},
               "is_cleared": False}
    return sender.interaction(payload)


# ---- the journey ----------------------------------------------------------------------------------

def test_two_pictures_to_three_platforms_refused_fixed_scheduled_and_published(
        journey, fakes, sender, slack, module_database):
    server, account_ids = journey
    meta, x, linkedin, files = fakes["meta"], fakes["x"], fakes["linkedin"], fakes["files"]
    text = f"Our autumn menu is here, come and taste it {time.time_ns()}"

    # The modal offers the three accounts.
    assert sender.command("post", response_url=slack.response_url("post")).status_code == 200
    [opened] = slack.wait_for("views.open", timeout=WAIT)
    opened = _j(opened.params["view"])
    accounts_block = next(b for b in opened["blocks"] if b.get("block_id") == ids.COMPOSE_ACCOUNTS_BLOCK)
    offered = {g["label"]["text"]: [o["value"] for o in g["options"]]
               for g in accounts_block["element"]["option_groups"]}
    assert offered == {"Instagram (through Meta)": [str(account_ids["instagram"])],
                       "LinkedIn": [str(account_ids["linkedin"])], "X": [str(account_ids["x"])]}
    chosen = [account_ids["instagram"], account_ids["x"], account_ids["linkedin"]]
    # Choosing the accounts, then Schedule, brings up each network's part and the time (views.update).
    opened = update_compose(sender, slack, _state(opened, chosen, text, [], at=None), view=opened)
    assert [b["elements"][0]["text"] for b in opened["blocks"] if b["type"] == "context"][:3] == [
        "*Instagram (through Meta)*", "*LinkedIn*", "*X*"], "a part per chosen network, in the networks' order"
    soon = datetime.fromtimestamp(math.ceil(time.time()) + 60, UTC)
    opened = update_compose(sender, slack, _state(opened, chosen, text, [], at=soon), ids.COMPOSE_WHEN_INPUT,
                            view=opened)

    # 1. A 1:3 picture: Instagram refuses it, in plain words, beside the attachments; nothing is created.
    answer = _submit(sender, opened, _state(opened, chosen, text, [files.file("square.png"), files.file("tall.png")],
                                            at=None))
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["response_action"] == "errors", body
    assert list(body["errors"]) == [ids.COMPOSE_MEDIA_BLOCK], body["errors"]
    said = body["errors"][ids.COMPOSE_MEDIA_BLOCK]
    assert "Instagram" in said and "tall.png" in said and "1:3" in said, said
    assert "aspect ratio between 4:5 and 1.91:1" in said and "Crop it" in said, said
    assert "square.png" not in said and "LinkedIn" not in said, said
    assert "converts" not in said, "a PNG Picmim converts for Instagram is not a problem to show"
    posts, _, _ = asyncio.run(_rows(module_database.url, text))
    assert posts == [] and slack.calls_to("chat.postMessage") == []

    # 2. Fixed (a 4:5 picture instead) and scheduled a few seconds ahead. Meanwhile X is throttling
    # (its window resets in a few seconds) and Maria withdrew Picmim from her LinkedIn account.
    x.rate_limit_reset_in = 3
    x.rate_limit("/2/tweets", method="POST")
    linkedin.revoke(LINKEDIN_MEMBER)
    at = datetime.fromtimestamp(math.ceil(time.time()) + 10, UTC)
    answer = _submit(sender, opened, _state(opened, chosen, text,
                                            [files.file("square.png"), files.file("portrait.png")], at=at))
    assert answer.status_code == 200 and answer.text in ("", "null"), answer.text

    [status] = slack.wait_for("chat.postMessage", timeout=WAIT)
    assert status.params["channel"] == CHANNEL
    assert "Scheduled for <!date^" in _shown(status), "the time, in each reader's own zone"
    assert status.params["text"].startswith("Scheduled: "), status.params["text"]
    assert "Post by <@" in _shown(status), "the author"

    # 3. The tick publishes; the one message ends showing every platform's outcome.
    # The post is settled (its headline says so) only when no account is still due or under way.
    final = poll_server("the status message to show the post settled", lambda: next(
        (c for c in slack.calls_to("chat.update") if "2 of 3 published" in _shown(c)), None), server)
    blocks = _j(final.params["blocks"])
    assert text in blocks[0]["text"]["text"] and blocks[0]["text"]["text"].startswith("*:warning: 2 of 3 published*")
    assert final.params["text"].startswith("2 of 3 published, not on LinkedIn: "), final.params["text"]
    for call in slack.calls_to("chat.postMessage") + slack.calls_to("chat.update"):
        said = call.params["text"]
        assert not said.startswith("Post ") and not any(s.value in said for s in PostStatus if "_" in s.value), \
            f"notification text in words, not status codes: {said!r}"
    assert len(slack.calls_to("chat.postMessage")) == 1, "one message follows the post"
    assert {(c.params["channel"], c.params["ts"]) for c in slack.calls_to("chat.update")} == {
        (CHANNEL, final.params["ts"])}, "every change updates that one message"

    # Instagram: one carousel of both pictures, fetched by Meta from Picmim's media links, as JPEG.
    [ig_post] = meta.ig_media.values()
    assert ig_post.owner == IG_USER and ig_post.media_type == "CAROUSEL_ALBUM" and ig_post.caption == text
    children = [meta.containers[c] for c in ig_post.children]
    assert [c.url for c in children] == [url for url, _ in meta.downloads], "each picture fetched once, in order"
    assert all(url.startswith(f"{server.url}/media/") for url, _ in meta.downloads), meta.downloads
    assert [_jpeg_size(data) for _, data in meta.downloads] == [(800, 800), (800, 1000)]
    ig_line = _line(blocks, "Instagram (through Meta)")
    assert f"published: <{ig_post.permalink}|view the post>" in ig_line, ig_line

    # X: refused once with 429, then created exactly once, not before the time X gave.
    creates = x.calls_to("/2/tweets", "POST")
    assert [c.status for c in creates] == [429, 201], [c.status for c in creates]
    reset = int(creates[0].answer_headers["x-rate-limit-reset"])
    assert creates[1].at >= reset, f"sent again {reset - creates[1].at:.2f} s before X's window reset"
    [x_post] = [p for p in x.posts.values() if p["text"] == text]
    uploaded = [b"".join(x.media[m].segments[i] for i in sorted(x.media[m].segments)) for m in x_post["media_ids"]]
    assert uploaded == [SQUARE, PORTRAIT]
    x_url = f"https://x.com/{X_HANDLE}/status/{x_post['id']}"
    assert f"published: <{x_url}|view the post>" in _line(blocks, "X")
    waited = [c for c in slack.calls_to("chat.update") if "waiting: X asked Picmim to slow down" in _shown(c)]
    assert waited, "while X throttled, the message said the post waits for X"

    # LinkedIn: failed with the reason and how to mend it, with a Retry button; nothing was posted.
    li_line = _line(blocks, "LinkedIn")
    assert ":warning: failed:" in li_line and "withdrawn" in li_line and "Reconnect" in li_line, li_line
    assert linkedin.posts == {} and linkedin.calls_to("/rest/posts") == []
    assert [c.status for c in linkedin.calls_to("/rest/images")] == [401], "refused once, never sent again"

    # The database agrees.
    posts, targets, connections = asyncio.run(_rows(module_database.url, text))
    [post] = posts
    assert post.status is PostStatus.FAILED and post.scheduled_at == at
    assert targets["instagram"].status is TargetStatus.PUBLISHED
    assert (targets["instagram"].remote_id, targets["instagram"].remote_url) == (ig_post.id, ig_post.permalink)
    assert targets["x"].status is TargetStatus.PUBLISHED
    assert (targets["x"].remote_id, targets["x"].remote_url) == (x_post["id"], x_url)
    for key in ("instagram", "x"):
        assert targets[key].published_at >= at, f"{key} published before its time"
    assert targets["linkedin"].status is TargetStatus.FAILED and targets["linkedin"].remote_id is None
    assert "Reconnect" in targets["linkedin"].last_error
    assert connections["linkedin"].status is ConnectionStatus.REVOKED
    assert connections["x"].status is ConnectionStatus.ACTIVE
    retry = [e for b in blocks if b["type"] == "actions" for e in b["elements"] if e["action_id"] == ids.POST_RETRY]
    assert [e["value"] for e in retry] == [str(targets["linkedin"].id)], "Retry only for LinkedIn"
    # The withdrawn grant's line offers what mends it: Reconnect (first), then Retry once reconnected.
    reconnect = [e for b in blocks if b["type"] == "actions" for e in b["elements"]
                 if e["action_id"] == ids.ACCOUNT_RECONNECT]
    assert [(e["value"], e.get("style")) for e in reconnect] == [(str(connections["linkedin"].id), "primary")]
    assert not any(e["action_id"] in (ids.POST_EDIT, ids.POST_CANCEL) for b in blocks if b["type"] == "actions"
                   for e in b["elements"]), "a post already published in part can no longer be edited"

    # Nothing goes out twice in the ticks that follow (a quiet period cannot be polled for: wait a few ticks).
    time.sleep(1.5)
    assert len(x.calls_to("/2/tweets", "POST")) == 2 and len(meta.ig_media) == 1
    assert len(meta.calls_to("media_publish")) == 1
    assert [c.status for c in linkedin.calls_to("/rest/images")] == [401]
    assert _j(slack.calls_to("chat.update")[-1].params["blocks"]) == blocks, "the message stays as it ended"
