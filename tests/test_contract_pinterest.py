"""Pinterest contract: the pins (photo by URL, photo by bytes, video) and media registrations the adapter sends are
validated against Pinterest's published OpenAPI description (tests/schemas/pinterest_openapi.json, vendored from
pinterest/api-description v5/openapi.json 5.23.0): PinCreate and MediaUploadCreate."""

from __future__ import annotations

import pytest

from bot.platforms.base import AccountRef, Draft
from bot.platforms.pinterest import ADAPTER
from bot.platforms.settings import PinterestSettings
from bot.sandbox.fakes.pinterest import FakePinterest
from tests.contract_schemas import load_openapi, openapi_problems, request_schema
from tests.fakes.media import media_payload, mp4, small_image
from tests.platform_fixtures import platform_fake_fixtures

REDIRECT_URI = "https://picmim.example/oauth/pinterest/callback"
PUBLIC = "https://picmim.example/media"
SPEC = load_openapi("pinterest_openapi.json")

platform_server, fake, http, adapter, tokens = platform_fake_fixtures(FakePinterest, ADAPTER, REDIRECT_URI)


@pytest.fixture
async def account(adapter, tokens) -> AccountRef:
    (remote,) = await adapter.list_accounts(tokens)
    return AccountRef("pinterest", remote.external_id, remote.kind, remote.name, tokens.access_token,
                      handle=remote.handle, settings=remote.settings)


def contract_problems(calls) -> dict[str, list[str]]:
    """Problems per documented operation the adapter POSTed to api.pinterest.com (OAuth aside)."""
    found: dict[str, list[str]] = {}
    for call in calls:
        if call.host != "api.pinterest.com" or call.method != "POST" or call.path.startswith("/v5/oauth/"):
            continue
        template, schema = request_schema(SPEC, call.method, call.path, call.headers.get("Content-Type", ""))
        found.setdefault(f"POST {template}", []).extend(openapi_problems(call.json(), schema, SPEC))
    return found


async def test_a_full_photo_pin_sends_only_what_pinterest_documents(adapter, account, fake):
    url = f"{PUBLIC}/jacket.jpg"
    fake.public_files[url] = small_image()
    photo = media_payload(small_image(), "image/jpeg", filename="jacket.jpg", public_url=url,
                          alt_text="A red jacket on a hanger")
    settings = PinterestSettings(board_id=account.settings["default_board_id"], title="Spring jackets",
                                 link="https://acme.example/spring")
    fake.forget_calls()
    result = await adapter.publish(account, Draft("Light, warm, and made to last #spring", settings=settings),
                                   [photo])
    assert result.remote_id in fake.pins
    sent = contract_problems(fake.calls)
    assert sent == {"POST /pins": []}
    [pin] = [c.json() for c in fake.calls if c.path == "/v5/pins"]
    assert {"board_id", "title", "link", "alt_text", "description", "media_source"} <= set(pin)


async def test_a_photo_sent_as_bytes_and_a_video_pin_conform(adapter, account, fake):
    fake.forget_calls()
    await adapter.publish(account, Draft("Bytes", title="No public URL"),
                          [media_payload(small_image("PNG"), "image/png", alt_text="A swatch")])
    await adapter.publish(account, Draft("Film", title="Our launch film"),
                          [media_payload(mp4(300_000, noise=True), "video/mp4", duration=20.0, size=(1080, 1920))])
    sent = contract_problems(fake.calls)
    assert sent == {"POST /pins": [], "POST /media": []}
    sources = [c.json()["media_source"]["source_type"] for c in fake.calls if c.path == "/v5/pins"]
    assert sources == ["image_base64", "video_id"]


async def test_a_pin_of_several_pictures_and_a_video_cover_frame_conform(adapter, account, fake):
    fake.forget_calls()
    await adapter.publish(account, Draft("Two swatches"), [media_payload(small_image("PNG"), "image/png"),
                                                           media_payload(small_image("PNG", size=(90, 60)),
                                                                         "image/png")])
    await adapter.publish(account, Draft("Film", options={"video_cover_timestamp_ms": 3000}),
                          [media_payload(mp4(300_000, noise=True), "video/mp4", duration=20.0, size=(1080, 1920))])
    assert contract_problems(fake.calls) == {"POST /pins": [], "POST /media": []}
    sources = [c.json()["media_source"] for c in fake.calls if c.path == "/v5/pins"]
    assert [s["source_type"] for s in sources] == ["multiple_image_base64", "video_id"]
    assert sources[1]["cover_image_key_frame_time"] == 3


def test_a_field_pincreate_lacks_fails_the_contract():
    _, schema = request_schema(SPEC, "POST", "/v5/pins", "application/json")
    pin = {"board_id": "1020304051", "title": "Hi", "alt_text": "A jacket",
           "media_source": {"source_type": "image_url", "url": "https://picmim.example/media/a.jpg"}}
    assert openapi_problems(pin, schema, SPEC) == []
    assert openapi_problems(pin | {"note": "private"}, schema, SPEC) == ["$.note: not a property the schema has"]
    assert openapi_problems(pin | {"alt_text": "a" * 501}, schema, SPEC) == [
        "$.alt_text: longer than 500 characters"]
    assert openapi_problems(pin | {"media_source": {"source_type": "image_url", "url": "x", "alt": "y"}},
                            schema, SPEC) == ["$.media_source.alt: not a property the schema has"]
    assert openapi_problems(pin | {"media_source": {"source_type": "image_link", "url": "x"}}, schema, SPEC)[0] \
        .startswith("$.media_source.source_type: 'image_link' is not one of")
