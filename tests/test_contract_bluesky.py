"""Bluesky contract: the createRecord and uploadBlob calls the adapter makes for a full post (facets, languages,
images with alt text and aspect ratios; a video with alt text) are validated against the atproto lexicons they
name (tests/schemas/atproto/, vendored from bluesky-social/atproto lexicons/ at d6296a1c, 2026-08-20):
com.atproto.repo.createRecord's input, then the record against app.bsky.feed.post and the embeds it refers to."""

from __future__ import annotations

import json

import httpx
import pytest

from bot.platforms import bluesky_keys, bluesky_oauth
from bot.platforms.base import AccountRef, AdapterConfig, Draft, TokenSet
from bot.platforms.bluesky import API_VERSION, BlueskyAdapter, client_metadata
from bot.platforms.oauth import new_pkce, new_state
from bot.sandbox.fakes.bluesky import FakeBluesky
from tests.contract_schemas import SCHEMAS, lexicon_problems, load_lexicons
from tests.fakes.media import make_image, make_video, payload
from tests.platform_fixtures import started_fake_fixtures

HANDLE = "acme.bsky.test"
LEXICONS = load_lexicons()


def _prepare(fake: FakeBluesky) -> None:
    fake.add_account(HANDLE)
    fake.add_account("maria.bsky.test", display_name="Maria")


fake, http = started_fake_fixtures(FakeBluesky, lambda fake: (
    {f"https://{handle}": fake.pds_url for handle in (HANDLE, "maria.bsky.test")}
    | {bluesky_oauth.PLC_DIRECTORY: fake.pds_url, bluesky_oauth.HANDLE_RESOLVER: fake.pds_url}), _prepare)


@pytest.fixture
def adapter(files, http):
    # What the app serves: its client metadata and the JWKS the sign-in server checks each client assertion with.
    keys = bluesky_keys.install([bluesky_keys.new_key()])
    files.serve(json.dumps(client_metadata(files.url)).encode(), "application/json",
                path="/oauth/bluesky/client-metadata.json")
    files.serve(json.dumps(keys.public_jwks()).encode(), "application/json", path="/oauth/bluesky/jwks.json")
    config = AdapterConfig(client_id=None, client_secret=None, redirect_uri=f"{files.url}/oauth/bluesky/callback",
                           public_url=files.url)
    return BlueskyAdapter(config, http)


async def account(adapter: BlueskyAdapter, http: httpx.AsyncClient) -> AccountRef:
    pkce, state = new_pkce(), new_state()
    url, started = await adapter.begin_authorization("@" + HANDLE, state, pkce)
    back = httpx.URL((await http.get(url)).headers["location"]).params
    tokens: TokenSet = await adapter.exchange_code(back["code"], pkce, started, iss=back["iss"])
    return AccountRef(platform="bluesky", external_id=tokens.external_user_id, kind="profile", name="Acme",
                      user_token=tokens.access_token, handle=tokens.display_name, extra=tokens.extra)


def contract_problems(fake: FakeBluesky) -> dict[str, list[str]]:
    """Problems per XRPC procedure the adapter called on the PDS: createRecord's input and its record, and
    uploadBlob's body (any bytes, with the Content-Type the blob reference then carries)."""
    found: dict[str, list[str]] = {}
    for call in fake.calls:
        if call.origin != "pds" or call.method != "POST" or not call.path.startswith("/xrpc/com.atproto.repo."):
            continue
        nsid = call.path.removeprefix("/xrpc/")
        problems = found.setdefault(nsid, [])
        if nsid == "com.atproto.repo.createRecord":
            problems += lexicon_problems(call.body, nsid, LEXICONS)
            problems += lexicon_problems(call.body.get("record"), call.body.get("collection", ""), LEXICONS,
                                         "$.record")
        elif nsid == "com.atproto.repo.uploadBlob":
            if not call.headers.get("Content-Type") or not isinstance(call.body, int) or call.body == 0:
                problems.append("uploadBlob takes the raw bytes with their Content-Type")
        else:
            problems.append(f"{nsid} is not a vendored lexicon")
    return found


def test_the_vendored_lexicons_are_the_version_the_adapter_names():
    assert API_VERSION == "lexicons as of 2026-08-20"
    assert "(2026-08-20)" in (SCHEMAS / "atproto" / "SOURCE.md").read_text()


async def test_a_full_post_with_images_follows_the_lexicons(adapter, fake, http):
    who = await account(adapter, http)
    fake.forget_calls()
    text = "Café ☕ launch with @maria.bsky.test: https://acme.example/spring #Launch2026"
    await adapter.publish(who, Draft(text=text, options={"langs": ["en", "fr"]}), [
        payload(make_image(1200, 800, "JPEG"), alt_text="Our new café"),
        payload(make_image(640, 640, "PNG"), alt_text="The counter")])
    sent = contract_problems(fake)
    assert sent == {"com.atproto.repo.uploadBlob": [], "com.atproto.repo.createRecord": []}
    [create] = [c for c in fake.calls if c.path.endswith("createRecord")]
    record = create.body["record"]
    assert {"text", "createdAt", "facets", "langs", "embed"} <= set(record)
    assert {f["features"][0]["$type"] for f in record["facets"]} == {
        "app.bsky.richtext.facet#mention", "app.bsky.richtext.facet#link", "app.bsky.richtext.facet#tag"}
    assert all({"alt", "aspectRatio"} <= set(i) for i in record["embed"]["images"])


async def test_a_video_post_follows_the_lexicons(adapter, fake, http):
    who = await account(adapter, http)
    fake.forget_calls()
    await adapter.publish(who, Draft(text="Watch"), [payload(make_video(), alt_text="Spinning logo")])
    assert contract_problems(fake) == {"com.atproto.repo.uploadBlob": [], "com.atproto.repo.createRecord": []}


def test_a_field_the_lexicon_lacks_fails_the_contract():
    blob = {"$type": "blob", "ref": {"$link": "bafkreiabc"}, "mimeType": "image/jpeg", "size": 1000}
    record = {"$type": "app.bsky.feed.post", "text": "Hi", "createdAt": "2026-12-06T10:00:00.000Z",
              "embed": {"$type": "app.bsky.embed.images", "images": [{"image": blob, "alt": "A bicycle"}]}}
    assert lexicon_problems(record, "app.bsky.feed.post", LEXICONS) == []
    assert lexicon_problems(record | {"visibility": "public"}, "app.bsky.feed.post", LEXICONS) == [
        "$.visibility: not a property the lexicon has"]
    image = {"image": blob, "alt": "A bicycle", "altText": "A bicycle"}
    assert lexicon_problems(record | {"embed": {"$type": "app.bsky.embed.images", "images": [image]}},
                            "app.bsky.feed.post", LEXICONS) == [
        "$.embed.images[0].altText: not a property the lexicon has"]
    assert lexicon_problems(record | {"text": "é" * 301}, "app.bsky.feed.post", LEXICONS) == [
        "$.text: longer than 300 graphemes"]
    assert lexicon_problems(record | {"createdAt": "2026-12-06 10:00"}, "app.bsky.feed.post", LEXICONS) == [
        "$.createdAt: '2026-12-06 10:00' is not a valid datetime"]
    video = {"$type": "app.bsky.embed.video", "video": blob}
    assert lexicon_problems(record | {"embed": video}, "app.bsky.feed.post", LEXICONS) == [
        "$.embed.video.mimeType: image/jpeg is not accepted (['video/mp4'])"]
    assert lexicon_problems({"repo": HANDLE, "collection": "app.bsky.feed.post", "record": record, "swap": "x"},
                            "com.atproto.repo.createRecord", LEXICONS) == ["$.swap: not a property the lexicon has"]


async def test_a_link_card_post_follows_the_lexicons(adapter, fake, http, files):
    """The text's first link as app.bsky.embed.external: uri, title, description and a thumb blob (image/*, at most
    1,000,000 bytes), the page read through the origin overrides like every other request."""
    from bot.http import build_client

    site = "https://roastery.example"
    files.serve(b'<html><head><meta property="og:title" content="Spring menu">'
                b'<meta property="og:description" content="Five new drinks.">'
                b'<meta property="og:image" content="/card.png"></head></html>', "text/html", "/spring")
    files.serve(make_image(1200, 630, "PNG"), "image/png", "/card.png")
    who = await account(adapter, http)
    fake.forget_calls()
    overrides = {f"https://{HANDLE}": fake.pds_url, bluesky_oauth.PLC_DIRECTORY: fake.pds_url,
                 bluesky_oauth.HANDLE_RESOLVER: fake.pds_url, site: files.url}
    async with build_client(overrides) as with_site:
        result = await BlueskyAdapter(adapter.config, with_site).publish(
            who, Draft(text=f"Our spring menu: {site}/spring"), [])
    assert result.warnings == ()
    assert contract_problems(fake) == {"com.atproto.repo.uploadBlob": [], "com.atproto.repo.createRecord": []}
    [create] = [c for c in fake.calls if c.path.endswith("createRecord")]
    external = create.body["record"]["embed"]["external"]
    assert (external["uri"], external["title"], external["description"]) == (
        f"{site}/spring", "Spring menu", "Five new drinks.")
    assert external["thumb"]["mimeType"].startswith("image/") and external["thumb"]["size"] <= 1_000_000
