"""Contract tests: the YouTube adapter against the fake Google, reached through origin overrides as in
production. Every adapter method and every member of the error family."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from bot.platforms import youtube
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
from bot.platforms.oauth import new_pkce
from bot.platforms.settings import YouTubeSettings
from bot.platforms.youtube import YouTubeAdapter
from bot.sandbox.fakes.youtube import FakeYouTube
from bot.secret import Secret
from tests.fakes.media import make_image, make_video, payload
from tests.platform_fixtures import started_fake_fixtures, without_sleeping

REDIRECT = "https://picmim.example/oauth/youtube/callback"
SUB = "1100220033"


def _prepare(fake: FakeYouTube) -> None:
    fake.redirect_uris.add(REDIRECT)
    fake.add_user(SUB)


fake, http = started_fake_fixtures(FakeYouTube, lambda fake: {origin: fake.url for origin in (
    "https://accounts.google.com", "https://oauth2.googleapis.com", "https://www.googleapis.com",
    "https://youtubeanalytics.googleapis.com")}, _prepare)


@pytest.fixture
def adapter(fake, http, waits):
    config = AdapterConfig(client_id=fake.client_id, client_secret=fake.client_secret, redirect_uri=REDIRECT,
                           public_url="https://picmim.example")
    return without_sleeping(YouTubeAdapter(config, http), waits)


def channel(fake: FakeYouTube, token: str | None = None, **settings) -> AccountRef:
    ch = fake.users[SUB][0]
    return AccountRef(platform="youtube", external_id=ch.id, kind="channel", name=ch.title,
                      user_token=Secret(token or fake.grant(SUB)), settings=settings)


def video_facts(**kw) -> MediaFacts:
    base = dict(id="v1", kind="video", mimetype="video/mp4", size_bytes=5_000_000, width=1920, height=1080,
                duration=120.0, fps=30.0, filename="launch.mp4")
    return MediaFacts(**{**base, **kw})


def in_days(days: float) -> str:
    return (datetime.now(UTC) + timedelta(days=days)).isoformat()


# ---- OAuth and channels ---------------------------------------------------------------------------

async def test_connect_with_offline_access_and_pkce(adapter, fake, http):
    pkce = new_pkce()
    url = adapter.authorize_url("st-1", pkce)
    query = parse_qs(urlsplit(url).query)
    assert url.startswith("https://accounts.google.com/o/oauth2/v2/auth")
    assert query["access_type"] == ["offline"] and query["prompt"] == ["consent"]
    assert query["code_challenge_method"] == ["S256"]
    assert set(query["scope"][0].split()) == {s.name for s in adapter.scopes}

    answer = await http.get(url)
    assert answer.status_code == 302
    back = parse_qs(urlsplit(answer.headers["location"]).query)
    assert back["state"] == ["st-1"]
    tokens = await adapter.exchange_code(back["code"][0], pkce)
    assert tokens.external_user_id == SUB  # from the id_token: the Google account, not a channel
    assert tokens.display_name == "Acme Channel"
    assert tokens.refresh_token is not None
    assert tokens.expires_at - datetime.now(UTC) == pytest.approx(timedelta(hours=1), abs=timedelta(minutes=1))
    assert "https://www.googleapis.com/auth/youtube.upload" in tokens.scopes

    renewed = await adapter.refresh(tokens)
    assert renewed.access_token != tokens.access_token
    assert renewed.refresh_token == tokens.refresh_token  # Google keeps it; so does the adapter
    assert renewed.external_user_id == SUB


async def test_wrong_pkce_verifier_is_refused(adapter, fake, http):
    answer = await http.get(adapter.authorize_url("st", new_pkce()))
    code = parse_qs(urlsplit(answer.headers["location"]).query)["code"][0]
    with pytest.raises(AccessRevoked) as refused:
        await adapter.exchange_code(code, new_pkce())
    assert "connect YouTube again" in refused.value.message


async def test_channels_and_no_channel(adapter, fake):
    fake.add_user(SUB, channels=2, subscribers=900)
    fake.users[SUB][1].hidden_subscribers = True
    accounts = await adapter.list_accounts(TokenSet(access_token=Secret(fake.grant(SUB)), external_user_id=SUB))
    assert [(a.external_id, a.kind, a.handle, a.followers_count, a.refusal) for a in accounts] == [
        (fake.users[SUB][0].id, "channel", "@acmechannel", 900, None),
        (fake.users[SUB][1].id, "channel", "@acmechannel", None, None)]  # hidden: unknown, not zero
    assert accounts[0].settings == {"long_uploads": "allowed", "playlists": [
        {"id": "PLroastdays01", "title": "Roast days"}, {"id": "PLevents00002", "title": "Events"}]}
    assert accounts[1].settings["playlists"] == []  # playlists.list mine=true answers for the signed-in channel

    fake.add_user("nochannel", channels=0)
    [none] = await adapter.list_accounts(TokenSet(access_token=Secret(fake.grant("nochannel")),
                                                  external_user_id="nochannel"))
    assert none.refusal and "create one" in none.refusal and "connect YouTube again" in none.refusal


async def test_revoke(adapter, fake):
    tokens = TokenSet(access_token=Secret(fake.grant(SUB)), external_user_id=SUB,
                      refresh_token=Secret(fake.issue_refresh_token(SUB)))
    assert await adapter.revoke(tokens) is True
    assert fake.revoked == [SUB]
    with pytest.raises(AccessRevoked) as revoked:
        await adapter.refresh(tokens)
    assert "expired or revoked" in revoked.value.detail and "7 days" in revoked.value.message
    with pytest.raises(TokenExpired):
        await adapter.list_accounts(tokens)
    assert await adapter.revoke(tokens) is True  # already gone is gone


# ---- validation -----------------------------------------------------------------------------------

def test_validate_every_youtube_limit(adapter, fake):
    acct = channel(fake, token="x", long_uploads="allowed")
    good = Draft(text="Our launch", title="Launch day", media=(video_facts(),),
                 options={"tags": ["launch", "acme"], "publish_at": in_days(2)})
    assert adapter.validate(acct, good) == []

    bad = Draft(text="é" * 2501 + "<b>", title="T" * 101 + ">", media=(),
                options={"tags": ["summer sale"] * 42, "privacy_status": "public", "publish_at": in_days(-1)})
    problems = adapter.validate(acct, bad)
    by_field = {}
    for p in problems:
        by_field.setdefault(p.field, []).append(p.message)
    assert any("102 of 100" in m for m in by_field["title"]) and any("< >" in m or ">" in m
                                                                    for m in by_field["title"][1:])
    assert any("5,005 of 5,000 bytes" in m for m in by_field["text"])  # é is 2 bytes: bytes are what counts
    assert any("of 500 characters" in m and "remove" in m for m in by_field["tags"])
    assert any("only while it is Private" in m for m in by_field["publish_at"])
    assert any("has passed" in m for m in by_field["publish_at"])
    assert any("need a video" in m for m in by_field["media"])
    assert any("needs a title" in m for m in (p.message for p in adapter.validate(
        acct, Draft(text="x", media=(video_facts(),)))))

    unverified = channel(fake, token="x", long_uploads="eligible")
    long = adapter.validate(unverified, Draft(text="", title="t", media=(video_facts(duration=20 * 60),)))
    assert any("up to 15 min" in p.message for p in long) and any("verify" in p.message for p in long)
    assert not any("15 min" in p.message for p in adapter.validate(
        acct, Draft(text="", title="t", media=(video_facts(duration=20 * 60),))))
    images = adapter.validate(acct, Draft(text="", title="t", media=(dataclasses.replace(
        video_facts(), kind="image", mimetype="image/jpeg"),)))
    # A picture alone is no YouTube post; with a video it is the video's thumbnail (verified channels only).
    assert any("A YouTube post is a video" in p.message for p in images)
    with_thumbnail = Draft(text="", title="t", media=(video_facts(), dataclasses.replace(
        video_facts(), id="p", kind="image", mimetype="image/jpeg", duration=None, size_bytes=300_000)),
        options={"made_for_kids": False})
    assert not [p for p in adapter.validate(acct, with_thumbnail) if p.field == "media"]
    assert any("Only verified channels may set a custom thumbnail" in p.message
               for p in adapter.validate(unverified, with_thumbnail))


def test_tags_length_counts_commas_and_quotes():
    assert youtube.tags_length(["a", "b c"]) == 1 + 1 + 5


# ---- publishing -----------------------------------------------------------------------------------

async def test_resumable_upload_then_processing(adapter, fake, waits):
    fake.processing_polls = 2
    data = make_video(seconds=1, pad_to=youtube.UPLOAD_CHUNK * 2 + 12345)  # three chunks
    publish_at = in_days(3)
    result = await adapter.publish(channel(fake), Draft(text="Watch our launch", title="Launch day", options={
        "tags": ["launch"], "publish_at": publish_at, "notify_subscribers": False}), [payload(data)])

    [start] = fake.calls_to("/upload/youtube/v3/videos", "POST")
    assert start.query["uploadType"] == "resumable" and start.query["part"] == "snippet,status"
    assert start.query["notifySubscribers"] == "false"
    assert start.headers["X-Upload-Content-Length"] == str(len(data))
    assert start.body["snippet"] == {"title": "Launch day", "description": "Watch our launch", "categoryId": "22",
                                     "tags": ["launch"]}
    assert start.body["status"]["privacyStatus"] == "private"  # scheduled: private until publishAt
    assert datetime.fromisoformat(start.body["status"]["publishAt"].replace("Z", "+00:00")) == \
        datetime.fromisoformat(publish_at)
    puts = fake.calls_to("/upload/youtube/v3/videos", "PUT")
    assert len(puts) == 3 and fake.videos[result.remote_id]["_bytes"] == data
    assert result.url == f"https://www.youtube.com/watch?v={result.remote_id}"
    assert fake.videos[result.remote_id]["status"]["uploadStatus"] == "processed"
    assert waits == [adapter.poll_interval] * 2


async def test_a_file_youtube_cannot_read_fails_processing_with_the_reason(adapter, fake):
    not_a_video = make_image(fmt="PNG")
    fake_payload = payload(not_a_video, kind="image")
    fake_payload = dataclasses.replace(fake_payload, facts=video_facts(size_bytes=len(not_a_video)))
    with pytest.raises(ContentRejected) as refused:
        await adapter.publish(channel(fake), Draft(text="", title="Oops"), [fake_payload])
    assert "not a video YouTube can read" in refused.value.message and "invalidFile" in refused.value.detail


# ---- the error family -----------------------------------------------------------------------------

async def test_token_expired(adapter, fake):
    acct = channel(fake)
    fake.expire_tokens()
    with pytest.raises(TokenExpired) as expired:
        await adapter.publish(acct, Draft(text="", title="t"), [payload(make_video())])
    assert "authError" in expired.value.detail


async def test_missing_upload_permission_is_access_revoked(adapter, fake):
    acct = channel(fake, token=fake.grant(SUB, "openid https://www.googleapis.com/auth/youtube.readonly"))
    with pytest.raises(AccessRevoked) as revoked:
        await adapter.publish(acct, Draft(text="", title="t"), [payload(make_video())])
    assert revoked.value.reason == "permission_removed"


async def test_quota_exceeded_is_a_rate_limit_until_pacific_midnight(adapter, fake):
    fake.quota_exceeded(path="/upload/")
    with pytest.raises(RateLimited) as limited:
        await adapter.publish(channel(fake), Draft(text="", title="t"), [payload(make_video())])
    expected = youtube._seconds_to_pacific_midnight()
    assert limited.value.retry_after == pytest.approx(expected, abs=5)
    assert 0 < limited.value.retry_after <= 25 * 3600 and "midnight Pacific" in limited.value.message

    # the quota really runs out: the insert cost (older model: 1,600 units) exhausts 10,000 units
    fake.quota_used = fake.quota_limit - 100
    with pytest.raises(RateLimited):
        await adapter.publish(channel(fake), Draft(text="", title="t"), [payload(make_video())])


async def test_upload_limit_is_a_rate_limit_for_a_day(adapter, fake):
    fake.upload_limit()
    with pytest.raises(RateLimited) as limited:
        await adapter.publish(channel(fake), Draft(text="", title="t"), [payload(make_video())])
    assert limited.value.retry_after == 24 * 3600 and "uploadLimitExceeded" in limited.value.detail


async def test_content_rejected_with_youtubes_reason(adapter, fake):
    with pytest.raises(ContentRejected) as refused:  # what validation warns about, refused by YouTube too
        await adapter.publish(channel(fake), Draft(text="", title="x" * 101), [payload(make_video())])
    assert refused.value.field == "title" and "invalidTitle" in refused.value.detail
    with pytest.raises(ContentRejected) as schedule:
        await adapter.publish(channel(fake), Draft(text="", title="t", options={
            "publish_at": in_days(1), "privacy_status": "public"}), [payload(make_video())])
    assert schedule.value.field == "publish_at" and "invalidPublishAt" in schedule.value.detail
    with pytest.raises(ContentRejected) as tags:
        await adapter.publish(channel(fake), Draft(text="", title="t", options={"tags": ["a b"] * 101}),
                              [payload(make_video())])
    assert tags.value.field == "tags" and "invalidTags" in tags.value.detail


async def test_transient_on_5xx(adapter, fake):
    fake.fail("/upload/", status=503)
    with pytest.raises(Transient) as failed:
        await adapter.publish(channel(fake), Draft(text="", title="t"), [payload(make_video())])
    assert "backendError" in failed.value.detail
    assert not fake.videos


async def test_outcome_unknown_on_timeout_of_the_last_chunk(adapter, fake, http):
    http.timeout = httpx.Timeout(0.3)
    fake.hang("/upload/youtube/v3/videos", seconds=3)  # the POST that opens the session: nothing created yet
    with pytest.raises(Transient):
        await adapter.publish(channel(fake), Draft(text="", title="t"), [payload(make_video())])
    fake.calls.clear()

    data = make_video()
    fake.hang("/upload/youtube/v3/videos", seconds=3, method="PUT")  # the PUT that completes the upload
    with pytest.raises(OutcomeUnknown) as unknown:
        await adapter.publish(channel(fake), Draft(text="", title="t"), [payload(data)])
    assert "may or may not be live" in unknown.value.message
    assert len(fake.videos) == 1  # YouTube did create it: sending again would upload it twice


async def test_processing_check_failure_after_upload_is_outcome_unknown(adapter, fake):
    fake.fail("/youtube/v3/videos", status=500)
    with pytest.raises(OutcomeUnknown) as unknown:
        await adapter.publish(channel(fake), Draft(text="", title="t"), [payload(make_video())])
    assert "youtube.com/watch?v=" in unknown.value.message


# ---- metrics --------------------------------------------------------------------------------------

async def test_channel_video_and_analytics_figures(adapter, fake):
    acct = channel(fake)
    result = await adapter.publish(acct, Draft(text="", title="t"), [payload(make_video())])
    fake.videos[result.remote_id]["statistics"].update(viewCount="321", likeCount="12", commentCount="3")
    metrics = await adapter.fetch_metrics(acct, [result.remote_id, "gone-video"])
    assert metrics.account["subscriberCount"] == 2500 and metrics.account["viewCount"] == 98765
    assert metrics.account["estimatedMinutesWatched"] == 9876 and metrics.account["subscribersGained"] == 42
    assert metrics.posts == {result.remote_id: {"viewCount": 321, "likeCount": 12, "commentCount": 3,
                                                "favoriteCount": 0}}
    [report] = fake.calls_to("/v2/reports")
    assert report.query["ids"] == f"channel=={acct.external_id}"

    no_analytics = channel(fake, token=fake.grant(SUB, "https://www.googleapis.com/auth/youtube.readonly"))
    partial = await adapter.fetch_metrics(no_analytics, [])
    assert "estimatedMinutesWatched" not in partial.account and partial.account["videoCount"] == 12


# ---- the post's YouTube settings ------------------------------------------------------------------

def kids(**kw) -> YouTubeSettings:
    return YouTubeSettings(**{"made_for_kids": False, **kw})


def test_validate_the_settings_in_a_marketers_words(adapter, fake):
    acct = channel(fake, token="x")

    def fields(draft: Draft) -> dict[str, list[str]]:
        found: dict[str, list[str]] = {}
        for p in adapter.validate(acct, draft):
            found.setdefault(p.field, []).append(p.message)
        return found

    video = (video_facts(),)
    assert fields(Draft(text="Launch", media=video, settings=kids(title="Launch day"))) == {}
    assert fields(Draft(text="", media=video, title="Launch day", settings=YouTubeSettings())) == {
        "made_for_kids": ["Say whether this video is made for kids: YouTube requires it."]}
    assert "needs a title" in fields(Draft(text="", media=video, settings=kids()))["title"][0]
    too_long = fields(Draft(text="", media=video, settings=kids(title="T" * 100 + "<")))["title"]
    assert any("101 of 100" in m for m in too_long) and any("<" in m for m in too_long)
    # 500 characters as YouTube counts them: 4 tags of 120 with spaces (122 each, quoted) and 3 commas = 491 …
    spaced = ("a b" + "c" * 117,) * 4
    assert youtube.tags_length(spaced) == 491
    assert fields(Draft(text="", media=video, title="t", settings=kids(tags=(*spaced, "d" * 8)))) == {}  # 500
    over = fields(Draft(text="", media=video, title="t", settings=kids(tags=(*spaced, "d" * 9))))["tags"]
    assert over == ["YouTube counts these tags as 501 of 500 characters (commas count, and a tag with spaces "
                    "counts 2 more): remove 1."]  # by raw length: 489 + 4 commas, under 500
    assert fields(Draft(text="", media=video, title="t", settings=kids(privacy="friends")))["privacy"] == [
        "YouTube visibility is Public, Unlisted or Private: pick one."]
    assert fields(Draft(text="", media=video, title="t", settings=kids(category_id="99")))["category_id"] == [
        "YouTube does not know that video category: pick another."]


async def test_the_settings_go_where_youtube_takes_them(adapter, fake):
    settings = YouTubeSettings(title="Spring drop", privacy="unlisted", made_for_kids=True,
                               tags=("spring sale", "acme"), category_id="26")
    result = await adapter.publish(channel(fake), Draft(text="Our spring drop", settings=settings),
                                   [payload(make_video())])
    [start] = fake.calls_to("/upload/youtube/v3/videos", "POST")
    assert start.body == {"snippet": {"title": "Spring drop", "description": "Our spring drop", "categoryId": "26",
                                      "tags": ["spring sale", "acme"]},
                          "status": {"privacyStatus": "unlisted", "selfDeclaredMadeForKids": True}}
    assert fake.videos[result.remote_id]["status"]["selfDeclaredMadeForKids"] is True

    # the compose window's title on the draft wins; "not made for kids" is declared, not left out
    await adapter.publish(channel(fake), Draft(text="", title="Typed title", settings=YouTubeSettings(
        title="Older", made_for_kids=False)), [payload(make_video())])
    second = fake.calls_to("/upload/youtube/v3/videos", "POST")[-1].body
    assert second["snippet"]["title"] == "Typed title" and second["snippet"]["categoryId"] == "22"
    assert second["status"] == {"privacyStatus": "public", "selfDeclaredMadeForKids": False}


async def test_an_undeclared_audience_is_never_sent(adapter, fake):
    with pytest.raises(ContentRejected) as refused:
        await adapter.publish(channel(fake), Draft(text="", title="t", settings=YouTubeSettings()),
                              [payload(make_video())])
    assert refused.value.field == "made_for_kids" and not fake.calls_to("/upload/youtube/v3/videos")


async def test_youtubes_refusals_land_on_the_setting(adapter, fake):
    with pytest.raises(ContentRejected) as privacy:
        await adapter.publish(channel(fake), Draft(text="", settings=kids(title="t", privacy="friends")),
                              [payload(make_video())])
    assert privacy.value.field == "privacy" and "privacy_status" in privacy.value.detail
    with pytest.raises(ContentRejected) as category:
        await adapter.publish(channel(fake), Draft(text="", settings=kids(title="t", category_id="99")),
                              [payload(make_video())])
    assert category.value.field == "category_id" and "invalidCategoryId" in category.value.detail
    with pytest.raises(ContentRejected) as title:
        await adapter.publish(channel(fake), Draft(text="", settings=kids(title="Tom & <Jerry>")),
                              [payload(make_video())])
    assert title.value.field == "title" and "invalidTitle" in title.value.detail
    assert not fake.videos


async def test_the_fake_answers_an_insert_as_youtube_does(fake, http):
    headers = {"Authorization": f"Bearer {fake.grant(SUB)}", "X-Upload-Content-Length": "1000",
               "X-Upload-Content-Type": "video/mp4"}

    async def insert(snippet: dict, status: dict) -> httpx.Response:
        return await http.post(youtube.UPLOAD_URL, params={"uploadType": "resumable", "part": "snippet,status"},
                               headers=headers, json={"snippet": snippet, "status": status})

    for title in ("x" * 101, "a <b>", ""):
        refused = await insert({"title": title}, {"selfDeclaredMadeForKids": False})
        assert refused.status_code == 400 and refused.json()["error"]["errors"][0]["reason"] == "invalidTitle"
    bad_privacy = await insert({"title": "t"}, {"privacyStatus": "friends"})
    assert bad_privacy.status_code == 400 and bad_privacy.json()["error"]["status"] == "INVALID_ARGUMENT"
    bad_category = await insert({"title": "t", "categoryId": "99"}, {})
    assert bad_category.status_code == 400
    assert bad_category.json()["error"]["errors"][0]["reason"] == "invalidCategoryId"
    bad_kids = await insert({"title": "t"}, {"selfDeclaredMadeForKids": "yes"})
    assert bad_kids.status_code == 400
    # YouTube's API itself takes an insert without the declaration: the refusal is Picmim's (validate)
    undeclared = await insert({"title": "x" * 100}, {"privacyStatus": "private"})
    assert undeclared.status_code == 200 and undeclared.headers["Location"]


# ---- thumbnail and playlist (issue 18) ------------------------------------------------------------------

async def test_a_thumbnail_and_a_playlist_after_the_upload(adapter, fake):
    picture = make_image(1280, 720, "PNG")
    draft = Draft(text="", title="t", options={"made_for_kids": False},
                  settings=YouTubeSettings(title="t", made_for_kids=False, playlist_id="PLevents00002"))
    result = await adapter.publish(channel(fake), draft, [payload(make_video()), payload(picture)])
    assert result.warnings == ()
    assert fake.thumbnails[result.remote_id] == picture
    [item] = fake.playlist_items
    assert item["snippet"] == {**item["snippet"], "playlistId": "PLevents00002",
                               "resourceId": {"kind": "youtube#video", "videoId": result.remote_id}}


async def test_a_refused_thumbnail_or_playlist_leaves_the_live_video_with_a_warning(adapter, fake):
    """Once the video is up it is live: what YouTube refuses afterwards is said, never a reason to upload again."""
    fake.users[SUB][0].long_uploads = "eligible"  # not verified: thumbnails.set answers 403
    upload_only = fake.grant(SUB, "https://www.googleapis.com/auth/youtube.upload")  # an older connection's scopes
    draft = Draft(text="", title="t", settings=YouTubeSettings(title="t", made_for_kids=False,
                                                               playlist_id="PLroastdays01"))
    result = await adapter.publish(channel(fake, token=upload_only), draft,
                                   [payload(make_video()), payload(make_image(640, 360, "JPEG"))])
    assert result.remote_id in fake.videos and result.remote_id not in fake.thumbnails
    assert fake.playlist_items == []
    assert len(fake.calls_to("/upload/youtube/v3/videos", "POST")) == 1
    thumbnail, playlist = result.warnings
    assert "did not take its thumbnail" in thumbnail
    assert "reconnect YouTube" in playlist


async def test_a_vertical_video_of_three_minutes_or_less_is_linked_as_a_short(adapter, fake):
    draft = Draft(text="", title="t", settings=YouTubeSettings(title="t", made_for_kids=False))
    short = await adapter.publish(channel(fake), draft, [payload(make_video(width=360, height=640))])
    assert short.url == f"https://www.youtube.com/shorts/{short.remote_id}"
    wide = await adapter.publish(channel(fake), draft, [payload(make_video(width=640, height=360))])
    assert wide.url == f"https://www.youtube.com/watch?v={wide.remote_id}"


def test_a_playlist_that_is_not_the_channels_is_refused_on_its_field(adapter, fake):
    acct = channel(fake, token="x", long_uploads="allowed", playlists=[{"id": "PLroastdays01", "title": "Roast days"}])
    ours = Draft(text="", title="t", media=(video_facts(),),
                 settings=YouTubeSettings(title="t", made_for_kids=False, playlist_id="PLroastdays01"))
    assert adapter.validate(acct, ours) == []
    [problem] = adapter.validate(acct, dataclasses.replace(ours, settings=dataclasses.replace(
        ours.settings, playlist_id="PLsomeoneelse")))
    assert problem.field == "playlist_id" and "not on this channel" in problem.message
