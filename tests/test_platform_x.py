"""Contract tests of the X adapter against the fake X, reached through origin overrides as in production."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import httpx
import pytest
from twitter_text import parse_tweet

from bot.platforms import oauth
from bot.platforms.base import (
    AccessRevoked,
    AccountRef,
    AdapterConfig,
    ContentRejected,
    Draft,
    MediaFacts,
    OutcomeUnknown,
    PlatformError,
    RateLimited,
    RevokeReason,
    TokenExpired,
    Transient,
)
from bot.platforms.settings import XSettings
from bot.platforms.x import ADAPTER, XAdapter
from bot.platforms.x_text import weighted_length
from bot.sandbox.fakes.x import FakeX
from bot.secret import Secret
from bot.services.analytics_catalogue import catalogue
from tests.fakes.media import media_payload, mp4, small_image
from tests.platform_fixtures import connect, platform_fake_fixtures

REDIRECT_URI = "https://picmim.example/oauth/x/callback"
MB = 1024 * 1024


platform_server, fake, http, adapter, tokens = platform_fake_fixtures(FakeX, ADAPTER, REDIRECT_URI, pkce=True)


@pytest.fixture
async def account(adapter, tokens) -> AccountRef:
    (remote,) = await adapter.list_accounts(tokens)
    return AccountRef(platform="x", external_id=remote.external_id, kind=remote.kind, name=remote.name,
                      user_token=tokens.access_token, handle=remote.handle, settings=remote.settings)


def image_facts(mimetype: str = "image/jpeg", size_bytes: int = 200_000, **kw) -> MediaFacts:
    values = {"width": 800, "height": 600, "filename": "photo.jpg"} | kw
    return MediaFacts(id="m", kind="image", mimetype=mimetype, size_bytes=size_bytes, **values)


def video_facts(**kw) -> MediaFacts:
    values = {"mimetype": "video/mp4", "size_bytes": 20 * MB, "width": 1280, "height": 720, "duration": 30.0,
              "fps": 30.0, "filename": "clip.mp4"} | kw
    return MediaFacts(id="v", kind="video", **values)


# ---- X's weighted count: the twitter-text v3 reference examples ------------------------------

POEM = ("故人西辞黄鹤楼，烟花三月下扬州。孤帆远影碧空尽，唯见长江天际流。"
        "朱雀桥边野草花，乌衣巷口夕阳斜。旧时王谢堂前燕，飞入寻常百姓家。"
        "朝辞白帝彩云间，千里江陵一日还。两岸猿声啼不住，轻舟已过万重山。"
        "泪湿罗巾梦不成，夜深前殿按歌声。红颜未老恩先断，斜倚薰笼坐到明。"
        "独在异乡为异客，每逢佳节倍思亲。遥知兄弟登高处，遍插茱萸少一人。")
FAMILY = "\U0001f468\u200d\U0001f469\u200d\U0001f467\u200d\U0001f466"
KANA = "あいうえおかきくけこ"
LONG_LABELS = "somesuperlongurl"
# twitter/twitter-text conformance/validate.yml: WeightedTweetsWithDiscountedEmojiCounterTest (v3 config),
# UnicodeDirectionalMarkerCounterTest, and the two NFC cases of WeightedTweetsCounterTest.
REFERENCE = [
    ("Regular Tweet with url", "Hi http://test.co", 26),
    ("Just url", "http://test.co", 23),
    ("Long tweet, overflow at char index 280", "285 chars-" + "xxxxxxxxxx-" * 25, 285),
    ("Long tweet with url in the middle", "285 chars- http://www.twitter.com/jack " + "xxxxxxxxxx-" * 24, 299),
    ("Long tweet with url at the end", "xxxxxxxxxx-" * 24 + " http://www.twitter.com/jack ", 289),
    ("10 url string, no overflow", "https://www.twitter.com/aloha " * 10, 240),
    ("160 CJK char", POEM, 320),
    ("160 emoji char", "\U0001f637" * 160, 320),
    ("3 latin char + 160 CJK char", "the" + POEM, 323),
    ("282 chars with a normalized character", "282 chars-" + "xxxxxxxxxx-" * 24 + "xxxxxA\u0301x", 281),
    ("single and double word characters", "H\U0001f431\u263a" + FAMILY, 7),
    ("emoji inside the basic multilingual plane", "\U0001f637\U0001f47e\U0001f621\U0001f525\U0001f4a9", 10),
    ("emoji with skin tone modifiers", "\U0001f64b\U0001f3fd\U0001f468\u200d\U0001f3a4", 4),
    ("General Punctuation, no ZWJ/ZWNJ",
     "This is a tweet with general punctuation characters: " + "".join(map(chr, range(0x2000, 0x200C))) + " "
     + " ".join(map(chr, range(0x2010, 0x2017))) + "  " + " ".join(map(chr, range(0x2017, 0x2020))) + " "
     + " ".join(map(chr, range(0x2032, 0x2038))), 110),
    # The reference text is 12,076 characters: two URLs whose labels exceed 63 characters (counted
    # character by character) and a short valid one (23).
    ("long url with invalid domain labels and short url",
     "Long url with invalid domain labels and a short url: https://" + LONG_LABELS * 249 + ".com/foo https://"
     + LONG_LABELS * 250 + "s" + LONG_LABELS * 249 + ".com/foo https://validurl.com", 12079),
    ("a 64 character domain without protocol", "randomurl" * 7 + "s.com", 68),
    ("CJK host over 63 punycode characters", KANA * 12 + " http://" + KANA * 5 + "あいう.com", 358),
    ("CJK host under 63 punycode characters", KANA * 12 + " http://" + KANA * 5 + "あい.com", 264),
    ("140 family emoji", FAMILY * 140, 280),
    ("Unicode 10.0 emoji", "Unicode 10.0 emoji: \U0001f92a; \U0001f9d5; \U0001f9d5\U0001f3fe; \U0001f3f4"
     "\U000e0067\U000e0062\U000e0065\U000e006e\U000e0067\U000e007f", 34),
    ("Unicode 9.0 emoji", "Unicode 9.0 emoji: \U0001f920; \U0001f483; \U0001f483\U0001f3fe", 29),
    ("'Á' is normalized into 1 char", "A\u0301B", 2),
    ("שּׁ is normalized into 3 chars", "A\ufb2c", 4),
    ("invalid characters", "ABC\u202a\uffffABC\ufffe", 12),
    ("directional characters", "\u2066\u202ahttp://foobar.پاکستان/\u202c\u2069", 31),
]


@pytest.mark.parametrize("description,text,expected", REFERENCE, ids=[r[0] for r in REFERENCE])
def test_weighted_length_matches_every_twitter_text_reference_example(description, text, expected):
    assert weighted_length(text) == expected


def test_the_reference_examples_are_the_texts_twitter_text_measures():
    # Guards the rebuilt texts above: same UTF-16 length as the reference (displayRangeEnd + 1).
    utf16 = {r[0]: len(r[1].encode("utf-16-le")) // 2 for r in REFERENCE}
    assert utf16["long url with invalid domain labels and short url"] == 12076
    assert utf16["General Punctuation, no ZWJ/ZWNJ"] == 110
    assert utf16["282 chars with a normalized character"] == 282
    assert utf16["140 family emoji"] == 1540


# ---- OAuth ----------------------------------------------------------------------------------------


async def test_consent_asks_for_offline_access_with_pkce_and_the_code_becomes_tokens(adapter, http, fake):
    state, pkce = oauth.new_state(), oauth.new_pkce()
    url = httpx.URL(adapter.authorize_url(state, pkce))
    assert (url.host, url.path) == ("x.com", "/i/oauth2/authorize")
    assert set(url.params["scope"].split()) == {s.name for s in adapter.scopes}
    assert "offline.access" in url.params["scope"] and all(s.why for s in adapter.scopes)
    assert url.params["code_challenge_method"] == "S256"

    tokens = await connect(adapter, http, REDIRECT_URI, oauth.new_pkce())
    user = fake.users["2244994945"]
    assert (tokens.external_user_id, tokens.display_name) == (user["id"], user["name"])
    assert tokens.access_token.reveal() in fake.tokens
    assert tokens.refresh_token.reveal() in fake.refresh_tokens
    lifetime = (tokens.expires_at - datetime.now(UTC)).total_seconds()
    assert fake.access_ttl - 60 < lifetime <= fake.access_ttl
    exchange = fake.calls_to("/2/oauth2/token")[-1]
    assert exchange.basic_auth() == (fake.client_id, fake.client_secret)
    assert "Bearer" not in repr(tokens) and tokens.access_token.reveal() not in repr(tokens)


async def test_a_code_used_twice_is_refused_with_a_way_out(adapter, http, fake):
    state, pkce = oauth.new_state(), oauth.new_pkce()
    code = httpx.URL((await http.get(adapter.authorize_url(state, pkce))).headers["location"]).params["code"]
    await adapter.exchange_code(code, pkce)
    with pytest.raises(AccessRevoked) as refused:
        await adapter.exchange_code(code, pkce)
    assert "connect X again" in refused.value.message
    assert "authorization code was invalid" in refused.value.detail


async def test_wrong_app_credentials_are_an_admin_problem(fake, http):
    config = AdapterConfig(client_id=fake.client_id, client_secret="wrong", redirect_uri=REDIRECT_URI,
                           public_url="https://picmim.example")
    x = XAdapter(config, http)
    state, pkce = oauth.new_state(), oauth.new_pkce()
    code = httpx.URL((await http.get(x.authorize_url(state, pkce))).headers["location"]).params["code"]
    with pytest.raises(PlatformError) as refused:
        await x.exchange_code(code, pkce)
    assert "X_CLIENT_SECRET" in refused.value.message


async def test_refresh_keeps_the_rotated_refresh_token(adapter, tokens, fake):
    renewed = await adapter.refresh(tokens)
    assert renewed.refresh_token != tokens.refresh_token
    assert renewed.access_token != tokens.access_token
    assert renewed.external_user_id == tokens.external_user_id
    assert (await adapter.list_accounts(renewed))[0].external_id == tokens.external_user_id
    # The spent one is dead at X; only the kept one renews again.
    with pytest.raises(AccessRevoked):
        await adapter.refresh(tokens)
    again = await adapter.refresh(renewed)
    assert again.refresh_token not in (renewed.refresh_token, tokens.refresh_token)


async def test_a_refused_refresh_means_reconnect(adapter, tokens, fake):
    fake.revoke()
    with pytest.raises(AccessRevoked) as refused:
        await adapter.refresh(tokens)
    assert "connect X again" in refused.value.message
    assert "Value passed for the token was invalid" in refused.value.detail


async def test_revoke_withdraws_both_tokens(adapter, tokens, fake):
    assert await adapter.revoke(tokens) is True
    assert fake.tokens[tokens.access_token.reveal()].revoked
    assert fake.refresh_tokens[tokens.refresh_token.reveal()].revoked
    with pytest.raises(TokenExpired):
        await adapter.list_accounts(tokens)


# ---- accounts -------------------------------------------------------------------------------------


async def test_list_accounts_is_the_connected_user(adapter, tokens, fake):
    (remote,) = await adapter.list_accounts(tokens)
    user = fake.users[tokens.external_user_id]
    assert (remote.external_id, remote.name, remote.handle) == (user["id"], user["name"], user["username"])
    assert remote.followers_count == user["public_metrics"]["followers_count"]
    assert remote.avatar_url == user["profile_image_url"] and remote.refusal is None


# ---- validation -----------------------------------------------------------------------------------


def problems(adapter, account, **draft) -> list[str]:
    return [p.message for p in adapter.validate(account, Draft(**({"text": "Hello"} | draft)))]


async def test_text_is_counted_as_x_counts_it_not_by_len(adapter, account):
    cjk = "日本語のテキスト" * 18  # 144 characters by len(), 288 as X weighs them
    (message,) = problems(adapter, account, text=cjk)
    n = parse_tweet(cjk).weightedLength
    assert message == f"X counts this post as {n} of 280 characters: remove {n - 280}."
    # A long URL counts 23 however long it is.
    assert problems(adapter, account, text="Read " + "https://example.com/" + "a" * 400) == []
    fits = "x" * 257 + " https://example.com/" + "p" * 300
    assert parse_tweet(fits).weightedLength == 281 and len(problems(adapter, account, text=fits)) == 1


async def test_the_link_is_added_to_the_text_and_counted(adapter, account):
    assert problems(adapter, account, text="a" * 256, link="https://acme.com/launch") == []
    (message,) = problems(adapter, account, text="a" * 257, link="https://acme.com/launch")
    assert "281 of 280" in message


async def test_every_media_limit_is_checked_with_a_fix(adapter, account):
    five = tuple(image_facts(filename=f"p{i}.jpg") for i in range(5))
    assert problems(adapter, account, media=five) == [
        "X takes up to 4 images per post; this one has 5: remove 1."]
    assert problems(adapter, account, media=(image_facts(), video_facts())) == [
        "X cannot mix photos and a video in one post: keep one kind."]
    assert problems(adapter, account, media=(video_facts(filename="a.mp4"), video_facts(filename="b.mp4"))) == [
        "X takes up to 1 video per post; this one has 2: remove 1."]
    gif = image_facts("image/gif", filename="dance.gif")
    assert problems(adapter, account, media=(gif, image_facts())) == [
        "X takes a GIF only on its own: post the GIF alone, or remove it."]
    big_gif = image_facts("image/gif", size_bytes=16_000_000, filename="dance.gif")
    assert problems(adapter, account, media=(big_gif,)) == [
        "X takes GIFs up to 15 MB; dance.gif is 16 MB: attach a smaller one."]
    wide_gif = image_facts("image/gif", filename="dance.gif", width=1920, height=1080)
    assert problems(adapter, account, media=(wide_gif,)) == [
        "X takes GIFs up to 1280×1080 px; dance.gif is 1920×1080: attach a smaller one."]
    big_photo = adapter.validate(account, Draft("Hi", media=(image_facts(size_bytes=6_000_000),)))
    assert [(p.message, p.fixable) for p in big_photo] == [
        ("X takes photos up to 5 MB; photo.jpg is 6 MB: Picmim shrinks it to fit.", True)]
    assert problems(adapter, account, media=(image_facts("image/bmp", filename="scan.bmp"),)) == [
        "X takes JPEG, PNG, WebP or GIF images only; scan.bmp is BMP: convert it to JPEG, PNG, WebP or "
        "GIF and attach it again."]
    assert problems(adapter, account, media=(video_facts(duration=150.0),)) == [
        "X takes videos up to 2 min 20 s; clip.mp4 is 2 min 30 s: trim it."]
    assert problems(adapter, account, media=(video_facts(duration=0.3),)) == [
        "X needs videos of at least 0.5 s; clip.mp4 is 0.3 s: attach a longer one."]
    assert problems(adapter, account, media=(video_facts(size_bytes=600_000_000),)) == [
        "X takes videos up to 512 MB; clip.mp4 is 600 MB: Picmim lowers its bit rate to fit."]
    assert problems(adapter, account, media=(video_facts(width=1000, height=200),)) == [
        "X needs an aspect ratio between 1:3 and 3:1: clip.mp4 is 5:1. Crop it and attach it again."]
    assert problems(adapter, account, media=(video_facts(fps=120.0),)) == [
        "X takes up to 60 frames per second; clip.mp4 has 120: Picmim lowers it to 60."]
    scaled = adapter.validate(account, Draft("Hi", media=(video_facts(width=1920, height=1080),)))
    assert scaled and all(p.fixable for p in scaled)
    long_alt = image_facts(alt_text="a" * 1001)
    assert problems(adapter, account, media=(long_alt,)) == [
        "X takes alt text up to 1,000 characters; the one for photo.jpg is longer: shorten it."]
    # The compose window shows it beside the picture's alt text field.
    assert [p.field for p in adapter.validate(account, Draft("Hi", media=(long_alt,)))] == ["alt_text"]
    assert problems(adapter, account, media=(image_facts(alt_text="a" * 1000),)) == []


async def test_empty_posts_invisible_characters_and_long_first_comments_are_refused(adapter, account):
    assert problems(adapter, account, text="") == ["X needs text or a photo or video: write something."]
    assert problems(adapter, account, text="", media=(image_facts(),)) == []
    (message,) = problems(adapter, account, text="Launch\uffff day")
    assert "U+FFFF" in message and "retype" in message
    assert problems(adapter, account, first_comment="More below") == []  # a reply by the same account
    assert problems(adapter, account, first_comment="a" * 281) == [
        "X counts this first comment as 281 of 280 characters: remove 1."]


# ---- publishing -----------------------------------------------------------------------------------


async def test_a_text_post_goes_live_with_its_link(adapter, account, fake):
    result = await adapter.publish(account, Draft("Our spring launch is here", link="https://acme.example/spring"),
                                   [])
    post = fake.posts[result.remote_id]
    assert post["text"] == "Our spring launch is here\nhttps://acme.example/spring"
    assert result.url == f"https://x.com/{account.handle}/status/{result.remote_id}"


async def test_four_photos_with_alt_text_are_uploaded_then_posted(adapter, account, fake):
    photos = [media_payload(small_image("PNG" if i % 2 else "JPEG", color=(i * 50, 10, 10)),
                            "image/png" if i % 2 else "image/jpeg", alt_text=f"Photo {i}") for i in range(4)]
    result = await adapter.publish(account, Draft("Four views"), photos)
    post = fake.posts[result.remote_id]
    assert len(post["media_ids"]) == 4
    uploaded = [fake.media[i] for i in post["media_ids"]]
    assert [m.alt_text for m in uploaded] == ["Photo 0", "Photo 1", "Photo 2", "Photo 3"]
    assert [m.segments[0] for m in uploaded] == [small_image("PNG" if i % 2 else "JPEG", color=(i * 50, 10, 10))
                                                 for i in range(4)]


async def test_who_may_reply_is_checked_then_sent_as_x_takes_it(adapter, account, fake):
    for value in ("following", "mentionedUsers", None, ""):  # "" as a form may send Everyone
        assert adapter.validate(account, Draft("Hi", settings=XSettings(reply_settings=value))) == []
    (problem,) = adapter.validate(account, Draft("Hi", settings=XSettings(reply_settings="everyone")))
    assert problem.field == "reply_settings" and "only people you follow" in problem.message

    following = await adapter.publish(account, Draft("Followers only", settings=XSettings("following")), [])
    mentioned = await adapter.publish(account, Draft("Hi @maria", settings=XSettings("mentionedUsers")), [])
    everyone = await adapter.publish(account, Draft("Everyone", settings=XSettings()), [])
    assert [fake.posts[r.remote_id]["reply_settings"] for r in (following, mentioned, everyone)] == [
        "following", "mentionedUsers", None]
    sent = [c.json() for c in fake.calls_to("/2/tweets", "POST")]
    assert "reply_settings" not in sent[-1]  # everyone: X wants the field left out


async def test_a_reply_setting_x_refuses_is_put_on_its_field(adapter, account, fake):
    with pytest.raises(ContentRejected) as rejected:
        await adapter.publish(account, Draft("Hi", settings=XSettings(reply_settings="everyone")), [])
    assert rejected.value.field == "reply_settings" and "enumeration" in rejected.value.detail
    assert fake.posts == {}


async def test_a_gif_has_its_alt_text_and_a_video_none(adapter, account, fake):
    gif = media_payload(small_image("GIF"), "image/gif", alt_text="A dancing logo")
    result = await adapter.publish(account, Draft("Dance"), [gif])
    (media_id,) = fake.posts[result.remote_id]["media_ids"]
    assert fake.media[media_id].alt_text == "A dancing logo"
    assert [c.json() for c in fake.calls_to("/2/media/metadata")] == [
        {"id": media_id, "metadata": {"alt_text": {"text": "A dancing logo"}}}]
    # X's media metadata takes alt text for images and GIFs only: a video's is not sent.
    video = media_payload(mp4(300_000, noise=True), "video/mp4", alt_text="Our launch film")
    await adapter.publish(account, Draft("Watch"), [video])
    assert len(fake.calls_to("/2/media/metadata")) == 1


async def test_a_gif_waits_for_processing(adapter, account, fake):
    gif = media_payload(small_image("GIF"), "image/gif")
    result = await adapter.publish(account, Draft("Dance"), [gif])
    (media_id,) = fake.posts[result.remote_id]["media_ids"]
    assert fake.media[media_id].category == "tweet_gif"
    assert fake.calls_to("/2/media/upload", "GET")  # status was checked before posting


async def test_a_one_shot_upload_sends_only_the_fields_x_takes(adapter, account, fake):
    photo = media_payload(small_image("PNG"), "image/png")
    await adapter.publish(account, Draft("Photo"), [photo])
    (upload,) = fake.calls_to("/2/media/upload", "POST")
    # MediaUploadRequest: media, media_category, additional_owners; nothing else (additionalProperties false).
    assert set(upload.multipart()) == {"media", "media_category"}


async def test_a_gif_over_5_mb_goes_through_the_chunked_upload(adapter, account, fake):
    big = small_image("GIF") + bytes(6 * MB)  # X reads the GIF; the padding only makes it large
    result = await adapter.publish(account, Draft("Big dance"), [media_payload(big, "image/gif")])
    (media_id,) = fake.posts[result.remote_id]["media_ids"]
    uploaded = fake.media[media_id]
    assert uploaded.category == "tweet_gif"
    assert b"".join(uploaded.segments[i] for i in sorted(uploaded.segments)) == big
    assert not [c for c in fake.calls if (c.method, c.path) == ("POST", "/2/media/upload")]  # no one-shot
    (init,) = fake.calls_to("/2/media/upload/initialize")
    assert init.json() == {"media_type": "image/gif", "total_bytes": len(big), "media_category": "tweet_gif"}


async def test_a_video_is_uploaded_in_segments_and_posted_once_processed(adapter, account, fake):
    fake.processing_polls = 2
    video = mp4(9 * MB, noise=True)
    result = await adapter.publish(account, Draft("Watch"), [media_payload(video, "video/mp4", duration=12.0)])
    (media_id,) = fake.posts[result.remote_id]["media_ids"]
    uploaded = fake.media[media_id]
    assert b"".join(uploaded.segments[i] for i in sorted(uploaded.segments)) == video
    assert len(uploaded.segments) == 3
    assert len(fake.calls_to("/2/media/upload", "GET")) == 3


async def test_a_video_x_cannot_process_is_rejected_with_its_reason(adapter, account, fake):
    fake.fail_processing = True
    with pytest.raises(ContentRejected) as rejected:
        await adapter.publish(account, Draft("Watch"), [media_payload(mp4(300_000, noise=True), "video/mp4")])
    assert rejected.value.field == "media"
    assert "UnsupportedMedia" in rejected.value.detail
    assert fake.posts == {}


# ---- metrics --------------------------------------------------------------------------------------


async def test_metrics_use_x_names_for_posts_and_the_account(adapter, account, fake):
    first = await adapter.publish(account, Draft("One"), [])
    second = await adapter.publish(account, Draft("Two"), [])
    fake.posts[first.remote_id]["public_metrics"] |= {"like_count": 12, "impression_count": 900}
    # The 2026 OpenAPI names reposts repost_count; older answers say retweet_count.
    fake.posts[second.remote_id]["public_metrics"] = {"repost_count": 3, "reply_count": 1, "like_count": 4,
                                                      "quote_count": 0, "bookmark_count": 2, "impression_count": 50}
    metrics = await adapter.fetch_metrics(account, [first.remote_id, second.remote_id, "1999"])
    assert metrics.posts[first.remote_id] == fake.posts[first.remote_id]["public_metrics"]
    assert metrics.posts[second.remote_id] == fake.posts[second.remote_id]["public_metrics"]
    assert "1999" not in metrics.posts  # deleted at X: absent, not zero
    assert metrics.account == fake.users[account.external_id]["public_metrics"]
    assert catalogue("x", None).account[2].pick(metrics.account) == 0  # "Posts", from post_count


async def test_metrics_bring_each_posts_picture_a_photo_or_a_videos_preview(adapter, account, fake):
    fake.processing_polls = 0
    photo = await adapter.publish(account, Draft("Photo"), [media_payload(small_image("JPEG"), "image/jpeg")])
    video = await adapter.publish(account, Draft("Clip"), [media_payload(mp4(MB), "video/mp4", duration=12.0)])
    text = await adapter.publish(account, Draft("Words only"), [])
    metrics = await adapter.fetch_metrics(account, [photo.remote_id, video.remote_id, text.remote_id])
    (photo_media,) = fake.posts[photo.remote_id]["media_ids"]
    (video_media,) = fake.posts[video.remote_id]["media_ids"]
    assert metrics.thumbnails == {
        photo.remote_id: f"https://pbs.twimg.com/media/3_{photo_media}.jpg",
        video.remote_id: f"https://pbs.twimg.com/ext_tw_video_thumb/{video_media}/pu/img/7_{video_media}.jpg"}
    # One lookup gives figures and pictures: no extra request per post.
    (lookup,) = fake.calls_to("/2/tweets", "GET")
    assert lookup.query["expansions"] == "attachments.media_keys"


async def test_a_post_lookup_gives_media_only_when_asked_and_refuses_unknown_fields(adapter, account, fake, http):
    photo = [media_payload(small_image("JPEG"), "image/jpeg")]
    post = (await adapter.publish(account, Draft("Photo"), photo)).remote_id
    auth = {"Authorization": f"Bearer {account.user_token.reveal()}"}
    plain = (await http.get("https://api.x.com/2/tweets", params={"ids": post}, headers=auth)).json()
    assert "includes" not in plain and "attachments" not in plain["data"][0]
    keys_only = (await http.get("https://api.x.com/2/tweets", headers=auth,
                                params={"ids": post, "expansions": "attachments.media_keys"})).json()
    assert set(keys_only["includes"]["media"][0]) == {"media_key", "type"}  # no address unless media.fields asks
    refused = await http.get("https://api.x.com/2/tweets", params={"ids": post, "media.fields": "thumbnail"},
                             headers=auth)
    assert refused.status_code == 400


async def test_the_post_count_is_read_under_either_name(adapter, account, fake):
    metrics = fake.users[account.external_id]["public_metrics"]
    metrics["post_count"] = 42  # UserPublicMetrics today (X's OpenAPI 2.167)
    assert (await adapter.fetch_metrics(account, [])).account["post_count"] == 42
    metrics["tweet_count"] = metrics.pop("post_count")  # older answers
    figures = (await adapter.fetch_metrics(account, [])).account
    assert figures["post_count"] == 42
    posts = next(f for f in catalogue("x", None).account if f.label == "Posts")
    assert posts.pick(figures) == 42 and posts.pick({"tweet_count": 7}) == 7  # snapshots stored before


# ---- the error family -----------------------------------------------------------------------------


async def test_an_expired_token_is_token_expired(adapter, account, fake):
    fake.expire()
    with pytest.raises(TokenExpired) as expired:
        await adapter.publish(account, Draft("Hello"), [])
    assert expired.value.message == "The X connection needs renewing."
    assert fake.calls_to("/2/tweets")[-1].status == 401


async def test_a_missing_permission_is_access_revoked(adapter, http, fake):
    fake.consent_as("2244994945", scopes={"tweet.read", "users.read", "offline.access"})
    tokens = await connect(adapter, http, REDIRECT_URI, oauth.new_pkce())
    (remote,) = await adapter.list_accounts(tokens)
    ref = AccountRef("x", remote.external_id, remote.kind, remote.name, tokens.access_token, handle=remote.handle)
    with pytest.raises(AccessRevoked) as revoked:
        await adapter.publish(ref, Draft("Hello"), [])
    assert revoked.value.reason is RevokeReason.PERMISSION_REMOVED
    assert "connect X again" in revoked.value.message


async def test_rate_limits_carry_x_reset_time(adapter, account, fake):
    fake.rate_limit("/2/tweets", times=1)
    with pytest.raises(RateLimited) as limited:
        await adapter.publish(account, Draft("Hello"), [])
    answer = fake.calls_to("/2/tweets")[-1]
    assert answer.status == 429
    reset_in = int(answer.answer_headers["x-rate-limit-reset"]) - time.time()
    assert abs(limited.value.retry_after - reset_in) < 2
    assert "slow down" in limited.value.message
    # The next call goes through: the refused one posted nothing.
    assert (await adapter.publish(account, Draft("Hello"), [])).remote_id in fake.posts


async def test_a_used_up_allowance_is_said_so(adapter, account, fake):
    fake.rate_limit("/2/tweets", usage_capped=True)
    with pytest.raises(RateLimited) as limited:
        await adapter.publish(account, Draft("Hello"), [])
    assert "allowance" in limited.value.message and "Usage cap exceeded" in limited.value.detail


async def test_duplicates_and_over_long_texts_are_rejected_with_x_reason(adapter, account, fake):
    await adapter.publish(account, Draft("Same words"), [])
    with pytest.raises(ContentRejected) as duplicate:
        await adapter.publish(account, Draft("Same words"), [])
    assert duplicate.value.field == "text" and "same text twice" in duplicate.value.message
    assert "duplicate content" in duplicate.value.detail
    with pytest.raises(ContentRejected) as too_long:
        await adapter.publish(account, Draft("日本" * 141), [])  # validation skipped: X itself refuses
    assert too_long.value.field == "text" and "Your Tweet text is too long" in too_long.value.detail


async def test_server_errors_are_transient(adapter, account, fake):
    fake.fail("/2/tweets", status=503)
    with pytest.raises(Transient):
        await adapter.publish(account, Draft("Hello"), [])
    fake.fail("/2/media/upload", status=500)
    with pytest.raises(Transient):
        await adapter.publish(account, Draft("Hi"), [media_payload(small_image(), "image/jpeg")])


async def test_a_timeout_after_sending_a_post_is_outcome_unknown(adapter, account, fake, http):
    http.timeout = httpx.Timeout(0.5)
    fake.stall("/2/tweets", method="POST")
    with pytest.raises(OutcomeUnknown) as unknown:
        await adapter.publish(account, Draft("Did it go?"), [])
    assert "may or may not be live" in unknown.value.message
    # It did: this is why such a post is checked, never sent again blindly.
    assert [p["text"] for p in fake.posts.values()] == ["Did it go?"]


async def test_tokens_never_show_in_errors(adapter, account, fake):
    fake.expire()
    with pytest.raises(TokenExpired) as expired:
        await adapter.publish(account, Draft("Hello"), [])
    shown = f"{expired.value} {expired.value.detail} {expired.value!r}"
    assert account.user_token.reveal() not in shown


async def test_a_wrong_token_is_token_expired(adapter, account):
    stranger = AccountRef("x", account.external_id, "profile", account.name, Secret("not-a-token"))
    with pytest.raises(TokenExpired):
        await adapter.fetch_metrics(stranger, [])


# ---- the fake answers as X does ---------------------------------------------------------------------


async def test_the_fake_refuses_what_x_refuses(http, tokens, fake):
    auth = {"Authorization": f"Bearer {tokens.access_token.reveal()}"}
    unauthorized = await http.get("https://api.x.com/2/users/me")
    assert unauthorized.status_code == 401 and "x-rate-limit-remaining" not in unauthorized.headers
    fine = await http.get("https://api.x.com/2/users/me", headers=auth)
    assert fine.status_code == 200 and int(fine.headers["x-rate-limit-remaining"]) >= 0
    five = await http.post("https://api.x.com/2/tweets", headers=auth,
                           json={"text": "Hi", "media": {"media_ids": ["1", "2", "3", "4", "5"]}})
    assert five.status_code == 400 and "maximum item count: 4" in five.text
    unknown = await http.post("https://api.x.com/2/tweets", headers=auth, json={"text": "Hi", "title": "No"})
    assert unknown.status_code == 400
    not_finalized = await http.post("https://api.x.com/2/media/upload/initialize", headers=auth, json={
        "media_type": "video/mp4", "total_bytes": 1000, "media_category": "tweet_video"})
    media_id = not_finalized.json()["data"]["id"]
    posted = await http.post("https://api.x.com/2/tweets", headers=auth,
                             json={"text": "Hi", "media": {"media_ids": [media_id]}})
    assert posted.status_code == 400 and "media IDs are invalid" in posted.text
    everyone = await http.post("https://api.x.com/2/tweets", headers=auth,
                               json={"text": "Hi", "reply_settings": "everyone"})
    error = everyone.json()
    assert everyone.status_code == 400 and error["type"].endswith("/problems/invalid-request")
    assert error["errors"][0]["parameters"] == {"reply_settings": ["everyone"]}
    photo = await http.post("https://api.x.com/2/media/upload", headers=auth,
                            files={"media": ("p.png", small_image("PNG"), "image/png"),
                                   "media_category": (None, "tweet_image")})
    photo_id = photo.json()["data"]["id"]
    too_long = await http.post("https://api.x.com/2/media/metadata", headers=auth,
                               json={"id": photo_id, "metadata": {"alt_text": {"text": "a" * 1001}}})
    assert too_long.status_code == 400 and fake.media[photo_id].alt_text is None
    wrong_host = await http.get("https://x.com/2/users/me", headers=auth)
    assert wrong_host.status_code == 404
