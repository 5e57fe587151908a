"""X contract: every request the adapter sends for a full post (photos with alt text, reply settings) and for a
video post is validated against X's published OpenAPI description (tests/schemas/x_openapi.json, vendored from
xdevplatform/docs openapi.json, X API v2 2.167): CreatePostsRequest, MediaUploadRequest,
CreateMediaMetadataRequest, InitializeMediaUploadRequest, AppendMediaUploadRequest."""

from __future__ import annotations

import pytest

from bot.platforms.base import AccountRef, Draft
from bot.platforms.settings import XSettings
from bot.platforms.x import ADAPTER
from bot.sandbox.fakes.x import FakeX
from tests.contract_schemas import load_openapi, openapi_problems, request_schema
from tests.fakes.media import media_payload, mp4, small_image
from tests.platform_fixtures import platform_fake_fixtures

REDIRECT_URI = "https://picmim.example/oauth/x/callback"
SPEC = load_openapi("x_openapi.json")

platform_server, fake, http, adapter, tokens = platform_fake_fixtures(FakeX, ADAPTER, REDIRECT_URI, pkce=True)


@pytest.fixture
async def account(adapter, tokens) -> AccountRef:
    (remote,) = await adapter.list_accounts(tokens)
    return AccountRef(platform="x", external_id=remote.external_id, kind=remote.kind, name=remote.name,
                      user_token=tokens.access_token, handle=remote.handle, settings=remote.settings)


def body_of(call) -> tuple[object, bool]:
    """The request body as the schema sees it: JSON, or multipart fields (text) and files (bytes)."""
    content_type = call.headers.get("Content-Type", "")
    if content_type.startswith("multipart/form-data"):
        return {name: (part.data if part.filename else part.text) for name, part in call.multipart().items()}, True
    return (call.json() if call.body else None), False


def contract_problems(calls) -> dict[str, list[str]]:
    """Problems per request sent to api.x.com (other than OAuth): each must be a documented operation whose
    request body conforms."""
    found: dict[str, list[str]] = {}
    for call in calls:
        if call.host != "api.x.com" or call.method != "POST" or call.path.startswith("/2/oauth2/"):
            continue
        template, schema = request_schema(SPEC, call.method, call.path, call.headers.get("Content-Type", ""))
        value, form = body_of(call)
        problems = ([] if value is None else [f"{template} takes no body"]) if schema is None else \
            openapi_problems(value, schema, SPEC, form=form)
        found.setdefault(f"{call.method} {template}", []).extend(problems)
    return found


async def test_a_full_post_sends_only_what_x_documents(adapter, account, fake):
    photos = [media_payload(small_image("JPEG"), "image/jpeg", alt_text="A red jacket on a hanger"),
              media_payload(small_image("PNG", color=(10, 200, 10)), "image/png", alt_text="The jacket, worn")]
    fake.forget_calls()
    draft = Draft("Spring jackets are here https://acme.example/spring #spring", settings=XSettings("following"))
    await adapter.publish(account, draft, photos)
    sent = contract_problems(fake.calls)
    assert set(sent) == {"POST /2/media/upload", "POST /2/media/metadata", "POST /2/tweets"}
    assert sent == {name: [] for name in sent}
    assert [c.status for c in fake.calls] == [200, 200, 200, 200, 201]


async def test_a_video_post_sends_only_what_x_documents(adapter, account, fake):
    fake.forget_calls()
    await adapter.publish(account, Draft("Watch", settings=XSettings("mentionedUsers")),
                          [media_payload(mp4(300_000, noise=True), "video/mp4", alt_text="Our launch film")])
    sent = contract_problems(fake.calls)
    assert {"POST /2/media/upload/initialize", "POST /2/media/upload/{id}/append",
            "POST /2/media/upload/{id}/finalize", "POST /2/tweets"} <= set(sent)
    assert sent == {name: [] for name in sent}


async def test_a_field_the_schema_lacks_fails_the_contract(adapter, account, fake):
    await adapter.publish(account, Draft("Hello", settings=XSettings("following")), [])
    [post] = [c for c in fake.calls if c.path == "/2/tweets" and c.method == "POST"]
    _, schema = request_schema(SPEC, "POST", "/2/tweets", "application/json")
    assert openapi_problems(post.json(), schema, SPEC) == []
    assert openapi_problems(post.json() | {"visibility": "public"}, schema, SPEC) == [
        "$.visibility: not a property the schema has"]
    assert openapi_problems(post.json() | {"reply_settings": "everyone"}, schema, SPEC) == [
        "$.reply_settings: 'everyone' is not one of ['following', 'mentionedUsers', 'subscribers', 'verified']"]
    _, upload = request_schema(SPEC, "POST", "/2/media/upload", "multipart/form-data")
    assert openapi_problems({"media": b"...", "media_category": "tweet_image", "media_type": "image/jpeg"}, upload,
                            SPEC, form=True) == ["$.media_type: not a property the schema has"]
    _, metadata = request_schema(SPEC, "POST", "/2/media/metadata", "application/json")
    assert openapi_problems({"id": "1", "metadata": {"alt_text": {"text": "a" * 1001}}}, metadata, SPEC) == [
        "$.metadata.alt_text.text: longer than 1000 characters"]
