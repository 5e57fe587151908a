"""Contract tests: the TikTok adapter against the fake TikTok, reached through origin overrides as in
production. Every adapter method and every member of the error family."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from bot.media import pictures as pipeline
from bot.platforms import tiktok
from bot.platforms.base import (
    AccessRevoked,
    AccountRef,
    AdapterConfig,
    ContentRejected,
    Draft,
    MediaFacts,
    OutcomeUnknown,
    RateLimited,
    TokenExpired,
    TokenSet,
    Transient,
)
from bot.platforms.settings import TikTokSettings
from bot.platforms.tiktok import TikTokAdapter
from bot.sandbox.fakes.tiktok import FakeTikTok
from bot.secret import Secret
from tests.fakes.media import make_image, make_video, payload
from tests.platform_fixtures import started_fake_fixtures, without_sleeping

REDIRECT = "https://picmim.example/oauth/tiktok/callback"


def _prepare(fake: FakeTikTok) -> None:
    fake.redirect_uris.add(REDIRECT)
    fake.add_creator("open-1")


fake, http = started_fake_fixtures(FakeTikTok, lambda fake: {origin: fake.url for origin in (
    "https://open.tiktokapis.com", "https://open-upload.tiktokapis.com", "https://www.tiktok.com")}, _prepare)


@pytest.fixture
def adapter(fake, files, http, waits):
    fake.verified_url_prefixes.append(files.url + "/media/")
    config = AdapterConfig(client_id=fake.client_key, client_secret=fake.client_secret, redirect_uri=REDIRECT,
                           public_url=files.url)
    return without_sleeping(TikTokAdapter(config, http), waits)


def account(fake: FakeTikTok, token: str | None = None, **settings) -> AccountRef:
    return AccountRef(platform="tiktok", external_id="open-1", kind="creator", name="Acme Studio",
                      user_token=Secret(token or fake.grant()), handle="acmestudio", settings=settings)


def facts(kind: str = "image", mimetype: str = "image/jpeg", **kw) -> MediaFacts:
    return MediaFacts(id="m1", kind=kind, mimetype=mimetype, size_bytes=kw.pop("size_bytes", 100_000),
                      filename=kw.pop("filename", "pic"), **kw)


PUBLIC = {"privacy_level": "PUBLIC_TO_EVERYONE"}


# ---- OAuth and accounts ---------------------------------------------------------------------------

async def test_connect_refresh_rotation_and_accounts(adapter, fake, http):
    url = adapter.authorize_url("state-123", None)
    query = parse_qs(urlsplit(url).query)
    assert url.startswith("https://www.tiktok.com/v2/auth/authorize/")
    assert query["client_key"] == [fake.client_key] and query["state"] == ["state-123"]
    assert set(query["scope"][0].split(",")) == {s.name for s in adapter.scopes}
    assert all(s.why for s in adapter.scopes)

    answer = await http.get(url)  # the user clicks "Authorize" on TikTok's page
    assert answer.status_code == 302
    back = parse_qs(urlsplit(answer.headers["location"]).query)
    assert back["state"] == ["state-123"]

    tokens = await adapter.exchange_code(back["code"][0], None)
    assert tokens.external_user_id == "open-1"
    assert tokens.display_name == "Acme Studio"
    assert "video.publish" in tokens.scopes
    assert tokens.expires_at - datetime.now(UTC) == pytest.approx(timedelta(hours=2), abs=timedelta(minutes=1))
    assert tokens.refresh_expires_at > datetime.now(UTC) + timedelta(days=179)
    assert "act." not in repr(tokens)  # tokens never show themselves

    accounts = await adapter.list_accounts(tokens)
    assert [(a.external_id, a.name, a.handle, a.refusal) for a in accounts] == [
        ("open-1", "Acme Studio", "acmestudio", None)]
    assert accounts[0].settings["privacy_level_options"] == fake.creators["open-1"].privacy_level_options
    assert accounts[0].settings["max_video_post_duration_sec"] == 600

    renewed = await adapter.refresh(tokens)
    assert renewed.refresh_token != tokens.refresh_token  # TikTok rotated it; the newest is kept
    assert renewed.access_token != tokens.access_token
    assert renewed.external_user_id == "open-1" and renewed.display_name == "Acme Studio"
    with pytest.raises(AccessRevoked) as old:
        await adapter.refresh(tokens)  # the rotated-out refresh token no longer works
    assert "connect TikTok again" in old.value.message and "invalid_grant" in old.value.detail
    assert (await adapter.refresh(renewed)).access_token != renewed.access_token


async def test_code_already_used_is_refused_in_plain_words(adapter):
    with pytest.raises(AccessRevoked) as refused:
        await adapter.exchange_code("not-a-code", None)
    assert "connect TikTok again" in refused.value.message


async def test_unticked_posting_permission_makes_the_account_unselectable(adapter, fake):
    tokens = TokenSet(access_token=Secret(fake.grant(scopes="user.info.basic")), external_user_id="open-1",
                      scopes=("user.info.basic",))
    [acct] = await adapter.list_accounts(tokens)
    assert acct.refusal and "keep" in acct.refusal and "ticked" in acct.refusal


async def test_revoke_withdraws_the_grant(adapter, fake):
    token = fake.grant()
    refresh = fake.issue_refresh_token()
    tokens = TokenSet(access_token=Secret(token), external_user_id="open-1", refresh_token=Secret(refresh))
    assert await adapter.revoke(tokens) is True
    assert fake.revoked == ["open-1"]
    with pytest.raises(TokenExpired):
        await adapter.list_accounts(tokens)
    with pytest.raises(AccessRevoked):
        await adapter.refresh(tokens)


# ---- validation -----------------------------------------------------------------------------------

def test_validate_photo_post_limits(adapter, fake):
    acct = account(fake, token="x", privacy_level_options=["PUBLIC_TO_EVERYONE", "SELF_ONLY"])
    ok = Draft(text="Hello", title="Autumn", media=(facts(width=1080, height=1350),), options=PUBLIC)
    assert adapter.validate(acct, ok) == []

    emoji_title = "🍂" * 46  # 46 characters, 92 UTF-16 units: TikTok counts the units
    draft = Draft(text="d" * 4001, title=emoji_title, media=(facts(mimetype="image/png", filename="logo.png",
                                                                    width=3000, height=2000),) * 36,
                  options=PUBLIC)
    problems = adapter.validate(acct, draft)
    messages = " | ".join(p.message for p in problems)
    assert any(p.field == "title" and "92 of 90" in p.message for p in problems)
    assert any(p.field == "text" and "4,001 of 4,000" in p.message and "remove 1" in p.message for p in problems)
    assert "up to 35 images" in messages and "remove 1" in messages
    png = [p for p in problems if "logo.png is PNG" in p.message]
    assert png and all(p.fixable for p in png) and "converts it to JPEG" in png[0].message
    assert any(p.fixable and "scales it down" in p.message for p in problems)
    big = Draft(text="x", media=(facts(size_bytes=25_000_000, width=1080, height=1080),), options=PUBLIC)
    assert any("20 MB" in p.message for p in adapter.validate(acct, big))


def test_validate_video_limits_and_creator_duration(adapter, fake):
    acct = account(fake, token="x", privacy_level_options=["SELF_ONLY"], max_video_post_duration_sec=180)
    video = facts(kind="video", mimetype="video/mp4", width=1080, height=1920, duration=60, fps=30,
                  filename="clip.mp4")
    assert adapter.validate(acct, Draft(text="c" * 2200, media=(video,), options={"privacy_level": "SELF_ONLY"})) == []

    long = dataclasses.replace(video, duration=200)
    problems = adapter.validate(acct, Draft(text="c" * 2201, media=(long,), options={"privacy_level": "SELF_ONLY"}))
    assert any(p.field == "text" and "caption" in p.message and "2,201 of 2,200" in p.message for p in problems)
    assert any("up to 3 min" in p.message and "trim it" in p.message for p in problems)
    # the creator's limit can also come with the draft, from a fresh creator_info
    assert any("up to 59 s" in p.message for p in adapter.validate(
        account(fake, token="x"), Draft(text="", media=(video,), options={**PUBLIC,
                                                                          "max_video_post_duration_sec": 59})))

    bad = dataclasses.replace(video, mimetype="video/x-msvideo", width=320, height=5000, fps=20,
                              size_bytes=5 * 1024**3, duration=700)
    messages = " | ".join(p.message for p in adapter.validate(acct, Draft(text="", media=(bad,), options=PUBLIC)))
    for expected in ("MP4, WebM or MOV", "at least 360 px wide", "up to 4096 px high", "at least 23 frames",
                     "up to 4 GB", "up to 3 min"):
        assert expected in messages
    assert "'Everyone'" in messages and "Only me" in messages  # privacy not offered by this account

    mixed = adapter.validate(acct, Draft(text="", media=(video, facts()), options={"privacy_level": "SELF_ONLY"}))
    assert any("cannot mix" in p.message for p in mixed)
    nothing = adapter.validate(acct, Draft(text="hi"))
    assert any("photo or a video" in p.message for p in nothing)
    assert any(p.field == "privacy_level" and "choose who can see" in p.message
               for p in adapter.validate(acct, Draft(text="", media=(video,))))


# ---- publishing -----------------------------------------------------------------------------------

async def test_video_by_chunked_upload_polls_until_complete(adapter, fake, waits):
    fake.processing_polls = 2
    data = make_video(seconds=1, pad_to=21 * 1024 * 1024)  # three 10 MiB plans: 2 chunks, last one bigger
    video = payload(data, url=None)
    result = await adapter.publish(account(fake), Draft(text="Launch day #acme", options={
        **PUBLIC, "allow_comment": True}), [video])

    [init] = fake.calls_to("/v2/post/publish/video/init/")
    assert init.body["source_info"] == {"source": "FILE_UPLOAD", "video_size": len(data),
                                        "chunk_size": 10 * 1024 * 1024, "total_chunk_count": 2}
    assert init.body["post_info"]["title"] == "Launch day #acme"
    assert init.body["post_info"]["disable_comment"] is False
    assert init.body["post_info"]["disable_duet"] is True  # not chosen: off, as TikTok's guidelines ask
    puts = fake.calls_to("/video/")
    assert [c.headers["Content-Range"] for c in puts] == [
        f"bytes 0-{10 * 1024 * 1024 - 1}/{len(data)}", f"bytes {10 * 1024 * 1024}-{len(data) - 1}/{len(data)}"]
    [publish] = fake.publishes.values()
    assert bytes(publish.received) == data
    # creator info came first, then the status was polled until done, waiting between polls
    paths = [c.path for c in fake.calls if c.path.startswith("/v2/post")]
    assert paths[0] == "/v2/post/publish/creator_info/query/"
    assert paths.count("/v2/post/publish/status/fetch/") == 3 and waits == [adapter.poll_interval] * 2
    post_id = publish.post_id
    assert result.remote_id == post_id
    assert result.url == f"https://www.tiktok.com/@acmestudio/video/{post_id}"


async def test_small_video_by_pull_from_url(adapter, fake, files):
    data = make_video(seconds=1, fps=25, fmt="webm")
    url = files.serve(data, "video/webm")
    result = await adapter.publish(account(fake), Draft(text="", options={**PUBLIC, "video_source": "PULL_FROM_URL"}),
                                   [payload(data, kind="video", url=url)])
    [init] = fake.calls_to("/v2/post/publish/video/init/")
    assert init.body["source_info"] == {"source": "PULL_FROM_URL", "video_url": url}
    assert files.fetched(url) == 1 and result.remote_id.isdigit()


async def test_png_photo_post_goes_out_as_jpeg_or_webp(adapter, fake, files):
    png = make_image(2400, 1600, "PNG", mode="RGBA")
    acct = account(fake)
    draft = Draft(text="New collection", title="Autumn", options=PUBLIC,
                  media=(pipeline.inspect_image(png, filename="collection.png"),))
    [problem] = adapter.validate(acct, draft)[:1]
    assert problem.fixable and "PNG" in problem.message

    # What TikTok does with the raw PNG: it fetches it, sees PNG bytes and fails the post.
    raw_url = files.serve(png, "image/jpeg", path="/media/looks-like-a.jpg")  # the name does not fool it
    with pytest.raises(ContentRejected) as refused:
        await adapter.publish(acct, draft, [payload(png, url=raw_url)])
    assert refused.value.field == "media" and "JPEG or WebP" in refused.value.message
    assert "file_format_check_failed" in refused.value.detail

    # What publishing does: the media pipeline converts within TikTok's photo limits, then TikTok pulls it.
    converted, mimetype = pipeline.fit_image(png, adapter.limits.image)
    assert mimetype in ("image/jpeg", "image/webp")
    url = files.serve(converted, mimetype)
    result = await adapter.publish(acct, draft, [payload(converted, url=url)])
    assert files.fetched(url) == 1
    [_, init] = fake.calls_to("/v2/post/publish/content/init/")
    assert init.body["media_type"] == "PHOTO" and init.body["post_mode"] == "DIRECT_POST"
    assert init.body["post_info"]["title"] == "Autumn" and init.body["post_info"]["description"] == "New collection"
    assert init.body["source_info"] == {"source": "PULL_FROM_URL", "photo_images": [url], "photo_cover_index": 0}
    assert result.url.startswith("https://www.tiktok.com/@acmestudio/photo/")


async def test_creator_settings_are_respected(adapter, fake, files):
    fake.creators["open-1"].comment_disabled = True
    fake.creators["open-1"].duet_disabled = True
    data = make_video()
    await adapter.publish(account(fake), Draft(text="hi", options={**PUBLIC, "allow_comment": True,
                                                                   "allow_duet": True, "allow_stitch": True}),
                          [payload(data)])
    info = fake.calls_to("/v2/post/publish/video/init/")[0].body["post_info"]
    assert (info["disable_comment"], info["disable_duet"], info["disable_stitch"]) == (True, True, False)


async def test_privacy_level_not_offered_is_refused_before_posting(adapter, fake):
    fake.creators["open-1"].privacy_level_options = ["FOLLOWER_OF_CREATOR", "MUTUAL_FOLLOW_FRIENDS", "SELF_ONLY"]
    with pytest.raises(ContentRejected) as refused:
        await adapter.publish(account(fake), Draft(text="", options=PUBLIC), [payload(make_video())])
    assert refused.value.field == "privacy_level"
    assert "Everyone" in refused.value.message and "Followers, Friends, Only me" in refused.value.message
    assert not fake.calls_to("/v2/post/publish/video/init/")


async def test_creator_max_duration_is_respected(adapter, fake):
    fake.creators["open-1"].max_video_post_duration_sec = 1
    with pytest.raises(ContentRejected) as refused:
        await adapter.publish(account(fake), Draft(text="", options=PUBLIC), [payload(make_video(seconds=2))])
    assert "up to 1 seconds" in refused.value.message and "trim" in refused.value.message
    assert not fake.calls_to("/v2/post/publish/video/init/")


async def test_private_post_has_no_post_id_yet(adapter, fake):
    result = await adapter.publish(account(fake), Draft(text="", options={"privacy_level": "SELF_ONLY"}),
                                   [payload(make_video())])
    assert result.url is None and result.remote_id.startswith("v_pub_file~")
    metrics = await adapter.fetch_metrics(account(fake), [result.remote_id])
    assert metrics.posts == {}  # "not available", never zero


async def test_every_json_call_says_its_charset(adapter, fake):
    """TikTok's Content Posting reference sends `Content-Type: application/json; charset=UTF-8` on every JSON
    call (creator info, init, status, video query)."""
    fake.json_without_charset.clear()
    acct = account(fake)
    result = await adapter.publish(acct, Draft(text="", options=PUBLIC), [payload(make_video())])
    await adapter.fetch_metrics(acct, [result.remote_id])
    posts = [c for c in fake.calls if c.method == "POST" and c.host.startswith("open.tiktokapis.")
             and "/oauth/" not in c.path]
    assert {c.path for c in posts} >= {"/v2/post/publish/creator_info/query/", "/v2/post/publish/video/init/",
                                       "/v2/post/publish/status/fetch/", "/v2/video/query/"}
    assert fake.json_without_charset == []
    assert {c.headers.get("Content-Type") for c in posts} == {"application/json; charset=UTF-8"}


async def test_metrics_under_tiktok_names(adapter, fake):
    acct = account(fake)
    result = await adapter.publish(acct, Draft(text="", options=PUBLIC), [payload(make_video())])
    fake.set_video_figures(result.remote_id, view_count=1500, like_count=120, comment_count=8, share_count=3)
    metrics = await adapter.fetch_metrics(acct, [result.remote_id])
    assert metrics.posts == {result.remote_id: {"view_count": 1500, "like_count": 120, "comment_count": 8,
                                                "share_count": 3}}
    assert metrics.account["follower_count"] == 1234 and metrics.account["likes_count"] == 7890
    assert metrics.thumbnails[result.remote_id].startswith(
        f"https://p16-sign.tiktokcdn-us.com/obj/tos-useast5-p-0068-tx/{result.remote_id}~")

    # A publish id whose post has since got its id is read under the id Picmim stored.
    publish = fake.publishes[next(iter(fake.publishes))]
    fake.set_video_figures(publish.post_id, view_count=1600)
    again = await adapter.fetch_metrics(acct, [publish.publish_id])
    assert again.posts[publish.publish_id]["view_count"] == 1600
    assert f"/{publish.post_id}~" in again.thumbnails[publish.publish_id]  # under the id Picmim stored too

    no_stats = account(fake, token=fake.grant(scopes="user.info.basic,video.publish,video.list"))
    partial = await adapter.fetch_metrics(no_stats, [result.remote_id])
    assert partial.account == {} and partial.posts[result.remote_id]["view_count"] == 1600


# ---- the error family -----------------------------------------------------------------------------

async def test_token_expired(adapter, fake):
    acct = account(fake)
    fake.expire_tokens()
    with pytest.raises(TokenExpired) as expired:
        await adapter.publish(acct, Draft(text="", options=PUBLIC), [payload(make_video())])
    assert "access_token_invalid" in expired.value.detail


async def test_access_revoked_when_posting_permission_is_missing(adapter, fake):
    acct = account(fake, token=fake.grant(scopes="user.info.basic"))
    with pytest.raises(AccessRevoked) as revoked:
        await adapter.publish(acct, Draft(text="", options=PUBLIC), [payload(make_video())])
    assert revoked.value.reason == "permission_removed" and "connect TikTok again" in revoked.value.message


async def test_rate_limited_with_retry_after(adapter, fake):
    fake.rate_limit("creator_info")
    with pytest.raises(RateLimited) as limited:
        await adapter.publish(account(fake), Draft(text="", options=PUBLIC), [payload(make_video())])
    assert limited.value.retry_after == tiktok.RATE_WINDOW_SECONDS  # TikTok names no wait: one window
    fake.rate_limit("creator_info", headers={"Retry-After": "17"})
    with pytest.raises(RateLimited) as told:
        await adapter.publish(account(fake), Draft(text="", options=PUBLIC), [payload(make_video())])
    assert told.value.retry_after == 17


async def test_daily_cap_is_a_rate_limit(adapter, fake):
    fake.fail_with = "spam_risk_too_many_posts"
    with pytest.raises(RateLimited) as limited:
        await adapter.publish(account(fake), Draft(text="", options=PUBLIC), [payload(make_video())])
    assert "tomorrow" in limited.value.message


async def test_content_rejected_with_tiktoks_reason(adapter, fake):
    fake.audited = False
    with pytest.raises(ContentRejected) as unaudited:
        await adapter.publish(account(fake), Draft(text="", options=PUBLIC), [payload(make_video())])
    assert unaudited.value.field == "privacy_level" and "Only me" in unaudited.value.message
    assert "unaudited_client_can_only_post_to_private_accounts" in unaudited.value.detail

    fake.audited = True
    fake.fail_with = "spam_risk_text"
    with pytest.raises(ContentRejected) as spam:
        await adapter.publish(account(fake), Draft(text="BUY NOW", options=PUBLIC), [payload(make_video())])
    assert spam.value.field == "text" and "spam_risk_text" in spam.value.detail

    with pytest.raises(ContentRejected) as slow:  # TikTok's own check of the bytes
        await adapter.publish(account(fake), Draft(text="", options=PUBLIC), [payload(make_video(fps=15))])
    assert "frame_rate_check_failed" in slow.value.detail and "30 fps" in slow.value.message


async def test_unverified_pull_domain_is_explained(adapter, fake, files):
    fake.verified_url_prefixes.clear()
    url = files.serve(make_image(fmt="JPEG"), "image/jpeg")
    with pytest.raises(ContentRejected) as refused:
        await adapter.publish(account(fake), Draft(text="", options=PUBLIC),
                              [payload(make_image(fmt="JPEG"), url=url)])
    assert "verifies" in refused.value.message and "url_ownership_unverified" in refused.value.detail


async def test_transient_on_5xx(adapter, fake):
    fake.fail("creator_info", status=503)
    with pytest.raises(Transient):
        await adapter.publish(account(fake), Draft(text="", options=PUBLIC), [payload(make_video())])
    fake.fail_with = "video_pull_failed"
    with pytest.raises(Transient) as pull:
        await adapter.publish(account(fake), Draft(text="", options=PUBLIC), [payload(make_video())])
    assert "download" in pull.value.message


async def test_outcome_unknown_on_timeout_after_sending_the_post(adapter, fake, http):
    http.timeout = httpx.Timeout(0.3)
    fake.hang("/v2/post/publish/video/init/", seconds=3)
    with pytest.raises(OutcomeUnknown) as unknown:
        await adapter.publish(account(fake), Draft(text="", options=PUBLIC), [payload(make_video())])
    assert "may or may not be live" in unknown.value.message
    assert len(fake.publishes) == 1  # TikTok did take it: sending again would post twice


async def test_outcome_unknown_when_status_cannot_be_read_after_init(adapter, fake):
    fake.rate_limit("status/fetch")
    with pytest.raises(OutcomeUnknown) as unknown:
        await adapter.publish(account(fake), Draft(text="", options=PUBLIC), [payload(make_video())])
    assert "before posting again" in unknown.value.message and "v_pub_file" in unknown.value.detail


async def test_still_processing_after_every_poll_is_outcome_unknown(adapter, fake, waits):
    adapter.poll_attempts = 3
    fake.processing_polls = 10
    with pytest.raises(OutcomeUnknown):
        await adapter.publish(account(fake), Draft(text="", options=PUBLIC), [payload(make_video())])
    assert len(waits) == 2


# ---- the post's TikTok settings -------------------------------------------------------------------

def info_of(fake: FakeTikTok, path: str = "/v2/post/publish/video/init/") -> dict:
    return fake.calls_to(path)[-1].body["post_info"]


async def test_the_settings_go_into_post_info_as_tiktok_takes_them(adapter, fake):
    settings = TikTokSettings(privacy_level="MUTUAL_FOLLOW_FRIENDS", allow_comment=True, allow_duet=True,
                              your_brand=True, branded_content=True, ai_generated=True)
    await adapter.publish(account(fake), Draft(text="Our partner's drop", settings=settings), [payload(make_video())])
    info = info_of(fake)
    assert {k: info[k] for k in ("privacy_level", "disable_comment", "disable_duet", "disable_stitch",
                                 "brand_organic_toggle", "brand_content_toggle", "is_aigc")} == {
        "privacy_level": "MUTUAL_FOLLOW_FRIENDS", "disable_comment": False, "disable_duet": False,
        "disable_stitch": True, "brand_organic_toggle": True, "brand_content_toggle": True, "is_aigc": True}

    # nothing ticked: every interaction off and nothing disclosed, sent as booleans TikTok reads
    await adapter.publish(account(fake), Draft(text="", settings=TikTokSettings(privacy_level="SELF_ONLY")),
                          [payload(make_video())])
    info = info_of(fake)
    assert (info["disable_comment"], info["disable_duet"], info["disable_stitch"]) == (True, True, True)
    assert (info["brand_organic_toggle"], info["brand_content_toggle"], info["is_aigc"]) == (False, False, False)

    # what the creator turned off stays off, whatever was ticked
    fake.creators["open-1"].comment_disabled = True
    fake.creators["open-1"].stitch_disabled = True
    await adapter.publish(account(fake), Draft(text="", settings=dataclasses.replace(
        settings, allow_stitch=True)), [payload(make_video())])
    info = info_of(fake)
    assert (info["disable_comment"], info["disable_duet"], info["disable_stitch"]) == (True, False, True)


async def test_a_photo_post_takes_no_duet_or_stitch(adapter, fake, files):
    jpeg = make_image(1080, 1350, "JPEG")
    settings = TikTokSettings(privacy_level="PUBLIC_TO_EVERYONE", allow_comment=True, allow_duet=True,
                              allow_stitch=True, your_brand=True)
    await adapter.publish(account(fake), Draft(text="Autumn looks", title="Autumn", settings=settings),
                          [payload(jpeg, url=files.serve(jpeg, "image/jpeg"))])
    info = info_of(fake, "/v2/post/publish/content/init/")
    assert info["privacy_level"] == "PUBLIC_TO_EVERYONE" and info["disable_comment"] is False
    assert (info["brand_organic_toggle"], info["brand_content_toggle"]) == (True, False)
    assert not {"disable_duet", "disable_stitch", "is_aigc"} & set(info)


def test_validate_the_settings(adapter, fake):
    acct = account(fake, token="x", privacy_level_options=["PUBLIC_TO_EVERYONE", "SELF_ONLY"])
    video = (facts(kind="video", mimetype="video/mp4", width=1080, height=1920, duration=30, fps=30),)

    def refused(settings: TikTokSettings, **options) -> list[tuple[str, str]]:
        return [(p.field, p.message) for p in adapter.validate(acct, Draft(text="", media=video, settings=settings,
                                                                            options=options))]

    assert refused(TikTokSettings(privacy_level="PUBLIC_TO_EVERYONE", branded_content=True, your_brand=True)) == []
    assert refused(TikTokSettings(privacy_level="SELF_ONLY", your_brand=True)) == []  # your brand may be private
    [(field, message)] = refused(TikTokSettings(privacy_level="SELF_ONLY", branded_content=True))
    assert field == "privacy_level" and message.startswith("Branded content visibility cannot be set to private.")
    [(field, message)] = refused(TikTokSettings())
    assert field == "privacy_level" and "choose who can see" in message and "Everyone, Only me" in message
    [(field, message)] = refused(TikTokSettings(privacy_level="FOLLOWER_OF_CREATOR"))
    assert field == "privacy_level" and "'Followers'" in message
    # while the compose window still puts the privacy level in the options, it is read from there
    assert refused(TikTokSettings(allow_comment=True), privacy_level="SELF_ONLY") == []


async def test_branded_content_is_never_sent_private(adapter, fake):
    with pytest.raises(ContentRejected) as refused:
        await adapter.publish(account(fake), Draft(text="", settings=TikTokSettings(
            privacy_level="SELF_ONLY", branded_content=True)), [payload(make_video())])
    assert refused.value.field == "privacy_level" and "cannot be set to private" in refused.value.message
    assert not fake.calls_to("/v2/post/publish/video/init/")


async def test_the_fake_refuses_what_tiktok_refuses_in_post_info(fake, http):
    headers = {"Authorization": f"Bearer {fake.grant()}", "Content-Type": "application/json; charset=UTF-8"}
    source = {"source": "FILE_UPLOAD", "video_size": 1000, "chunk_size": 1000, "total_chunk_count": 1}

    async def init(**post_info) -> httpx.Response:
        return await http.post("https://open.tiktokapis.com/v2/post/publish/video/init/", headers=headers,
                               json={"post_info": post_info, "source_info": source})

    private_ad = await init(privacy_level="SELF_ONLY", brand_content_toggle=True)
    assert private_ad.status_code == 400 and private_ad.json()["error"]["code"] == "invalid_params"
    assert "cannot be set to private" in private_ad.json()["error"]["message"]
    not_a_flag = await init(privacy_level="SELF_ONLY", is_aigc="yes")
    assert not_a_flag.status_code == 400 and "is_aigc" in not_a_flag.json()["error"]["message"]
    own_brand = await init(privacy_level="SELF_ONLY", brand_organic_toggle=True, is_aigc=True)
    assert own_brand.status_code == 200 and own_brand.json()["data"]["publish_id"]
    assert tiktok.tiktok_error("invalid_params", private_ad.json()["error"]["message"]).field == "privacy_level"


def test_the_disclosure_wording_is_tiktoks():
    from bot.platforms.tiktok import TIKTOK_BRAND_LABELS, TIKTOK_POLICY_LINKS, disclosure_label

    assert disclosure_label(your_brand=True, branded_content=False) == \
        "Your photo/video will be labeled as 'Promotional content'"
    assert disclosure_label(your_brand=True, branded_content=True) == \
        disclosure_label(your_brand=False, branded_content=True) == \
        "Your photo/video will be labeled as 'Paid partnership'"
    assert disclosure_label(your_brand=False, branded_content=False) is None
    assert TIKTOK_BRAND_LABELS["not_private"] == "Branded content visibility cannot be set to private."
    assert all(name in TIKTOK_BRAND_LABELS["consent_branded"] for name in TIKTOK_POLICY_LINKS)
