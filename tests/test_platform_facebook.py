"""Contract tests: the `facebook` adapter (Facebook Pages) against the fake Meta, built as production
builds it. Each Page is its own account and publishes with its own Page token."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from bot.platforms.base import (
    AccessRevoked,
    AccountRef,
    ContentRejected,
    Draft,
    OutcomeUnknown,
    PlatformError,
    RateLimited,
    RemoteAccount,
    RevokeReason,
    TokenExpired,
    TokenSet,
    Transient,
)
from bot.platforms.facebook import FacebookAdapter
from bot.platforms.registry import FACEBOOK_GROUPS
from bot.sandbox.fakes import meta as meta_fake
from bot.sandbox.fakes.meta import FB_LONG_LIVED, adapter_config
from bot.secret import Secret
from tests.fakes.media import jpeg, mp4, png, webm, webp
from tests.platform_fixtures import meta_fixtures

meta, media, http, adapter = meta_fixtures(FacebookAdapter, "facebook")


def connection(meta) -> TokenSet:
    return TokenSet(access_token=Secret(meta.issue_user_token("10001")), external_user_id="10001",
                    expires_at=datetime.now(UTC) + timedelta(days=59))


def ref(tokens: TokenSet, account: RemoteAccount) -> AccountRef:
    return AccountRef("facebook", account.external_id, account.kind, account.name, tokens.access_token,
                      token=account.token, handle=account.handle)


@pytest.fixture
async def coffee(adapter, meta) -> AccountRef:
    tokens = connection(meta)
    page = next(a for a in await adapter.list_accounts(tokens) if a.external_id == "2001")
    return ref(tokens, page)


def photo(media, name: str = "a.jpg", **kw):
    return media.payload(name, jpeg(1200, 900, **kw), mimetype="image/jpeg")


# ---- connecting and accounts ------------------------------------------------------------------

async def test_connecting_gives_a_long_lived_user_token(adapter, meta, http):
    dialog = await http.get(adapter.authorize_url("st-1", None))
    back = urlsplit(dialog.headers["location"])
    query = parse_qs(back.query)
    assert query["state"] == ["st-1"] and f"{back.scheme}://{back.netloc}{back.path}" == adapter.config.redirect_uri
    assert set(meta.dialogs[-1]["scope"].split(",")) == {s.name for s in adapter.scopes}
    assert "publish_to_groups" not in meta.dialogs[-1]["scope"], "Meta removed Groups publishing in 2024"

    tokens = await adapter.exchange_code(query["code"][0], None)

    assert meta.tokens[tokens.access_token.reveal()].long_lived
    expected = datetime.now(UTC) + timedelta(seconds=FB_LONG_LIVED)
    assert abs((tokens.expires_at - expected).total_seconds()) < 120
    assert tokens.display_name == meta.fb_users["10001"].name


async def test_every_page_is_an_account_with_its_own_page_token(adapter, meta):
    meta.accounts_page_size = 2
    tokens = connection(meta)
    pages = {a.external_id: a for a in await adapter.list_accounts(tokens)}

    assert len(meta.calls_to("me/accounts")) == 2
    assert set(pages) == {"2001", "2002", "2003"}
    coffee = pages["2001"]
    assert coffee.kind == "page" and coffee.name == meta.pages["2001"].name and coffee.refusal is None
    assert coffee.followers_count == meta.pages["2001"].followers_count
    assert coffee.token.reveal() == meta.page_token("10001", "2001")
    assert meta.tokens[coffee.token.reveal()].page_id == "2001"
    assert "Ask a Page admin" in pages["2002"].refusal and meta.pages["2002"].name in pages["2002"].refusal


async def test_pages_are_refused_when_publishing_was_declined_in_the_dialog(adapter, meta, http):
    meta.decline_in_dialog = {"pages_manage_posts"}
    dialog = await http.get(adapter.authorize_url("s", None))
    tokens = await adapter.exchange_code(parse_qs(urlsplit(dialog.headers["location"]).query)["code"][0], None)
    assert "pages_manage_posts" not in tokens.scopes
    pages = await adapter.list_accounts(tokens)
    assert all("pages_manage_posts" in p.refusal and "reconnect" in p.refusal for p in pages)


async def test_a_grant_without_the_page_list_says_so_instead_of_listing_nothing(adapter, meta, http):
    meta.decline_in_dialog = {"pages_show_list"}
    dialog = await http.get(adapter.authorize_url("s", None))
    tokens = await adapter.exchange_code(parse_qs(urlsplit(dialog.headers["location"]).query)["code"][0], None)
    with pytest.raises(AccessRevoked) as caught:
        await adapter.list_accounts(tokens)
    assert caught.value.reason is RevokeReason.PERMISSION_REMOVED and "pages_show_list" in caught.value.message


async def test_wrong_app_credentials_are_an_admins_problem_not_the_users(meta, http):
    config = replace(adapter_config("facebook"), client_secret="not-the-secret")
    adapter = FacebookAdapter(config, http)
    dialog = await http.get(adapter.authorize_url("s", None))
    with pytest.raises(PlatformError) as caught:
        await adapter.exchange_code(parse_qs(urlsplit(dialog.headers["location"]).query)["code"][0], None)
    assert type(caught.value) is PlatformError, "neither transient nor the user's to fix"
    assert "app ID and secret" in caught.value.message and "client secret" in caught.value.detail


async def test_groups_are_not_a_platform_anyone_can_connect():
    assert FACEBOOK_GROUPS.adapter_ready is False and "2024" in FACEBOOK_GROUPS.unavailable_reason
    assert all("group" not in s.name for s in FacebookAdapter.scopes)


async def test_refresh_and_revoke(adapter, meta):
    tokens = connection(meta)
    assert await adapter.refresh(tokens) == tokens
    assert await adapter.revoke(tokens) is True
    with pytest.raises(AccessRevoked) as caught:
        await adapter.refresh(tokens)
    assert caught.value.reason is RevokeReason.APP_REMOVED


# ---- validation -------------------------------------------------------------------------------

def test_facebook_rules_are_checked_before_publishing(adapter, media):
    account = AccountRef("facebook", "2001", "page", "Acme Coffee", Secret("t"))
    a_photo = media.payload("a.jpg", jpeg(), mimetype="image/jpeg").facts
    clip = media.payload("v.mp4", mp4(), mimetype="video/mp4", kind="video", duration=20).facts
    assert adapter.validate(account, Draft(text="Open today", link="https://acme.test")) == []
    assert adapter.validate(account, Draft(text="", link="https://acme.test")) == []
    assert [p.message for p in adapter.validate(account, Draft(text=""))] == [
        "Facebook needs some text, a link, a photo or a video: add one."]
    assert [p.message for p in adapter.validate(account, Draft(text="x", media=(a_photo, clip)))] == [
        "Facebook cannot mix photos and a video in one post: keep one kind."]
    assert [p.message for p in adapter.validate(account, Draft(text="x", media=(clip, clip)))] == [
        "Facebook takes up to 1 video per post; this one has 2: remove 1."]
    assert adapter.validate(account, Draft(text="x", first_comment="hi"))[0].field == "first_comment"


# ---- publishing -------------------------------------------------------------------------------

async def test_a_text_post_with_a_link(adapter, meta, coffee):
    result = await adapter.publish(coffee, Draft(text="Open late tonight", link="https://acme.test/hours"), [])
    post = meta.fb_objects[result.remote_id]
    assert (post.page_id, post.message, post.link) == ("2001", "Open late tonight", "https://acme.test/hours")
    assert result.url == post.url
    feed = meta.calls_to("2001/feed")[0]
    assert meta.tokens[feed.token].page_id == "2001", "Pages publish with their own Page token"


async def test_one_photo_goes_to_the_pages_photos(adapter, meta, media, coffee):
    image = media.payload("latte.png", png(1200, 900), mimetype="image/png")
    result = await adapter.publish(coffee, Draft(text="Latte art", link="https://acme.test"), [image])
    post = meta.fb_objects[result.remote_id]
    photo_obj = meta.fb_objects[post.attached[0]]
    assert photo_obj.url == image.public_url and photo_obj.published
    assert post.message == "Latte art\n\nhttps://acme.test", "with media the link goes in the text"
    assert result.url == post.url


async def test_several_photos_are_uploaded_unpublished_then_attached_to_one_post(adapter, meta, media, coffee):
    images = [photo(media, f"{i}.jpg") for i in range(3)]
    result = await adapter.publish(coffee, Draft(text="Our new shop"), images)

    post = meta.fb_objects[result.remote_id]
    assert post.message == "Our new shop" and len(post.attached) == 3
    uploads = meta.calls_to("2001/photos")
    assert [c.params["published"] for c in uploads] == ["false"] * 3
    feed = meta.calls_to("2001/feed")[0].params  # attached_media[N]={"media_fbid": …}, as Meta's guide shows
    assert [json.loads(feed[f"attached_media[{i}]"])["media_fbid"] for i in range(3)] == post.attached
    assert [meta.fb_objects[p].url for p in post.attached] == [i.public_url for i in images]
    assert result.url == post.url


async def test_each_photo_carries_its_own_alt_text(adapter, meta, media, coffee):
    def described(item, alt_text):
        return replace(item, facts=replace(item.facts, alt_text=alt_text))

    single = described(media.payload("latte.png", png(1200, 900), mimetype="image/png"), "A latte with a heart")
    result = await adapter.publish(coffee, Draft(text="Latte art"), [single])
    photo_obj = meta.fb_objects[meta.fb_objects[result.remote_id].attached[0]]
    assert photo_obj.alt_text_custom == "A latte with a heart"

    images = [described(photo(media, "a.jpg"), "The counter"), photo(media, "b.jpg"),
              described(photo(media, "c.jpg"), "The terrace")]
    result = await adapter.publish(coffee, Draft(text="Our new shop"), images)
    attached = meta.fb_objects[result.remote_id].attached
    assert [meta.fb_objects[p].alt_text_custom for p in attached] == ["The counter", None, "The terrace"]


async def test_a_video_goes_through_a_resumable_upload_and_is_waited_for(adapter, meta, media, coffee):
    meta.video_processing_polls = 2
    data = mp4(noise=True)
    clip = media.payload("tour.mp4", data, mimetype="video/mp4", kind="video", duration=40)
    result = await adapter.publish(coffee, Draft(text="A tour", title="Shop tour"), [clip])

    [session] = meta.upload_sessions.values()
    assert session.data == data and (session.file_length, session.file_type) == (len(data), "video/mp4")
    [opened] = meta.calls_to(f"{meta_fake.APP_ID}/uploads")
    assert meta.tokens[opened.token].page_id is None, "upload sessions are opened with the person's token"
    [published] = meta.calls_to("2001/videos")
    assert published.host == "graph-video.facebook.com" and "file_url" not in published.params
    assert published.params["fbuploader_video_file_chunk"] == session.handle
    video = next(o for o in meta.fb_objects.values() if o.kind == "video")
    assert video.title == "Shop tour" and video.message == "A tour"
    assert result.remote_id == video.post_id
    assert result.url == f"https://www.facebook.com/{meta.pages['2001'].username}/videos/{video.id}/"
    assert result.warnings == () and video.video_polls_left == 0


async def test_a_video_facebook_cannot_process_is_refused(adapter, meta, media, coffee):
    clip = media.payload("tour.mp4", webm(), mimetype="video/mp4", kind="video", duration=40)
    with pytest.raises(ContentRejected) as caught:
        await adapter.publish(coffee, Draft(text="A tour"), [clip])
    assert caught.value.field == "media" and "could not process the video" in caught.value.message


async def test_a_video_still_processing_is_reported_live_with_a_warning(adapter, meta, media, coffee):
    meta.plan_video(polls=1000)
    clip = media.payload("tour.mp4", mp4(), mimetype="video/mp4", kind="video", duration=40)
    result = await adapter.publish(coffee, Draft(text="A tour"), [clip])
    assert result.url and "still processing" in result.warnings[0]
    assert len(meta.calls_to("2001/videos")) == 1, "sent once, never again"


async def test_the_same_text_twice_is_refused_as_a_duplicate(adapter, meta, coffee):
    await adapter.publish(coffee, Draft(text="Happy Friday!"), [])
    with pytest.raises(ContentRejected) as caught:
        await adapter.publish(coffee, Draft(text="Happy Friday!"), [])
    assert caught.value.field == "text" and "identical to a recent one" in caught.value.message
    assert "identical to the last one you posted" in caught.value.detail


@pytest.mark.parametrize("make", [lambda: jpeg(1200, 900, pad_to=5 * 1024 * 1024), lambda: webp(1200, 900)])
async def test_a_photo_too_large_or_in_another_format_is_refused(adapter, meta, media, coffee, make):
    image = media.payload("big.jpg", make(), mimetype="image/jpeg")
    with pytest.raises(ContentRejected) as caught:
        await adapter.publish(coffee, Draft(text="x"), [image])
    assert caught.value.field == "media" and "JPEG or PNG photos up to 4 MB" in caught.value.message
    assert "1366046" in caught.value.detail
    assert not any(o.kind == "post" for o in meta.fb_objects.values())


async def test_a_policy_block_is_refused_content(adapter, meta, coffee):
    meta.inject({"message": "(#368) The action attempted has been deemed abusive or is otherwise disallowed",
                 "type": "OAuthException", "code": 368, "fbtrace_id": "x"}, path="feed")
    with pytest.raises(ContentRejected) as caught:
        await adapter.publish(coffee, Draft(text="x"), [])
    assert "temporarily blocked" in caught.value.message


async def test_a_timeout_after_sending_a_post_is_an_unknown_outcome(adapter, meta, coffee, http):
    meta.hang_after("2001/feed")
    http.timeout = httpx.Timeout(10.0, read=1.0)
    with pytest.raises(OutcomeUnknown):
        await adapter.publish(coffee, Draft(text="Maybe live"), [])
    assert [o.message for o in meta.fb_objects.values()] == ["Maybe live"]


# ---- rights, tokens and throttling ---------------------------------------------------------------

async def test_losing_the_create_content_task_asks_for_a_page_admin(adapter, meta, coffee):
    meta.remove_page_task("10001", "2001", "CREATE_CONTENT", "MANAGE")
    with pytest.raises(AccessRevoked) as caught:
        await adapter.publish(coffee, Draft(text="x"), [])
    assert caught.value.reason is RevokeReason.ADMIN_RIGHTS_LOST
    assert "ask a Page admin to give you back" in caught.value.message and coffee.name in caught.value.message


async def test_losing_every_role_on_the_page_ends_its_token(adapter, meta, coffee):
    meta.remove_page_role("10001", "2001")
    with pytest.raises(AccessRevoked) as caught:
        await adapter.publish(coffee, Draft(text="x"), [])
    assert caught.value.reason is RevokeReason.ADMIN_RIGHTS_LOST and "ask a Page admin" in caught.value.message


async def test_a_removed_publishing_permission_is_named(adapter, meta, coffee):
    meta.remove_permission("10001", "pages_manage_posts")
    with pytest.raises(AccessRevoked) as caught:
        await adapter.publish(coffee, Draft(text="x"), [])
    assert caught.value.reason is RevokeReason.PERMISSION_REMOVED and "pages_manage_posts" in caught.value.message


@pytest.mark.parametrize(("subcode", "reason"), [(458, RevokeReason.APP_REMOVED),
                                                 (460, RevokeReason.PASSWORD_CHANGED),
                                                 (467, RevokeReason.LOGGED_OUT),
                                                 (464, RevokeReason.CHECKPOINT)])
async def test_page_tokens_die_with_the_users_grant(adapter, meta, coffee, subcode, reason):
    meta.revoke_user("10001", subcode)
    with pytest.raises(AccessRevoked) as caught:
        await adapter.publish(coffee, Draft(text="x"), [])
    assert caught.value.reason is reason


async def test_an_expired_user_token_is_token_expired(adapter, meta):
    tokens = connection(meta)
    meta.expire_token(tokens.access_token.reveal())
    with pytest.raises(TokenExpired):
        await adapter.list_accounts(tokens)


@pytest.mark.parametrize(("code", "minutes", "header"), [(32, None, "X-Page-Usage"), (80001, 25, None),
                                                         (17, None, "X-App-Usage")])
async def test_page_throttling_is_rate_limited(adapter, meta, coffee, code, minutes, header):
    meta.rate_limit(code, minutes=minutes, path="feed")
    with pytest.raises(RateLimited) as caught:
        await adapter.publish(coffee, Draft(text="x"), [])
    assert caught.value.retry_after == (minutes * 60 if minutes else None)
    assert meta.fb_objects == {}


async def test_a_passing_failure_while_posting_is_transient(adapter, meta, coffee):
    meta.fail("code2", path="feed")
    with pytest.raises(Transient):
        await adapter.publish(coffee, Draft(text="x"), [])


# ---- metrics ----------------------------------------------------------------------------------

async def test_page_and_post_figures_come_from_the_views_family(adapter, meta, coffee):
    result = await adapter.publish(coffee, Draft(text="Figures"), [])
    meta.pages["2001"].insights = {"page_media_view": 5400, "page_total_media_view_unique": 3100,
                                   "page_post_engagements": 410, "page_follows": 12040}
    post = meta.fb_objects[result.remote_id]
    post.reactions, post.comments, post.shares = 52, 7, 3
    post.insights = {"post_media_view": 880, "post_total_media_view_unique": 640}

    metrics = await adapter.fetch_metrics(coffee, [result.remote_id, "2001_404"])

    assert metrics.account["followers_count"] == meta.pages["2001"].followers_count
    assert {k: metrics.account[k] for k in meta.pages["2001"].insights} == meta.pages["2001"].insights
    assert metrics.posts[result.remote_id] == {"reactions": 52, "comments": 7, "shares": 3, **post.insights}
    assert "2001_404" not in metrics.posts
    asked = ",".join(c.params.get("metric", "") for c in meta.calls_to("insights"))
    assert "impressions" not in asked and "page_fans" not in asked


async def test_metrics_bring_a_posts_picture_and_a_text_post_has_none(adapter, meta, media, coffee):
    pictured = await adapter.publish(coffee, Draft(text="Latte art"), [
        media.payload("latte.png", png(1200, 900), mimetype="image/png")])
    words = await adapter.publish(coffee, Draft(text="Open late today"), [])
    photo_id = meta.fb_objects[pictured.remote_id].attached[0]

    metrics = await adapter.fetch_metrics(coffee, [pictured.remote_id, words.remote_id])

    assert metrics.thumbnails[pictured.remote_id].split("?")[0] == (
        f"https://scontent.xx.fbcdn.net/v/t39.30808-6/{photo_id}_n.jpg")
    assert words.remote_id not in metrics.thumbnails


async def test_a_page_metric_meta_refuses_leaves_the_others(adapter, meta, coffee):
    meta.pages["2001"].insights = {"page_media_view": 5400, "page_total_media_view_unique": 3100,
                                   "page_post_engagements": 410, "page_follows": 12040}
    meta.pages["2001"].unavailable = {"page_follows"}
    metrics = await adapter.fetch_metrics(coffee, [])
    assert metrics.account["page_media_view"] == 5400 and metrics.account["page_post_engagements"] == 410
    assert "page_follows" not in metrics.account and "(#100)" in metrics.unavailable["page_follows"]


async def test_metrics_without_the_insights_permission_name_it(adapter, meta, coffee):
    meta.remove_permission("10001", "read_insights")
    with pytest.raises(AccessRevoked) as caught:
        await adapter.fetch_metrics(coffee, [])
    assert "read_insights" in caught.value.message



# ---- Reels and Stories (issue 18) -------------------------------------------------------------

def _reel_clip(media, name: str = "reel.mp4", **kw):
    from tests.fakes.media import make_clip
    kw = {"width": 540, "height": 960, "seconds": 3.2, "fps": 24} | kw
    return media.payload(name, make_clip(**kw), mimetype="video/mp4", kind="video", duration=kw["seconds"],
                         width=kw["width"], height=kw["height"])


def _as(post_type: str) -> dict:
    from bot.platforms.settings import FacebookSettings
    return {"settings": FacebookSettings(post_type=post_type)}


def test_a_reel_or_a_story_is_checked_against_metas_limits(adapter, media):
    account = AccountRef("facebook", "2001", "page", "Acme Coffee", Secret("t"))
    a_photo = media.payload("a.jpg", jpeg(), mimetype="image/jpeg").facts
    vertical = media.payload("v.mp4", mp4(), mimetype="video/mp4", kind="video", duration=20, width=1080,
                             height=1920).facts
    long = replace(vertical, duration=120.0)
    wide = replace(vertical, width=1920, height=1080)
    assert adapter.validate(account, Draft(text="x", media=(vertical,), **_as("reel"))) == []
    assert [p.message for p in adapter.validate(account, Draft(text="x", media=(a_photo,), **_as("reel")))] == [
        "A Facebook Reel is one video: attach a single video (photos go in a post or a Story)."]
    assert "3 to 90 seconds" in adapter.validate(account, Draft(text="x", media=(long,), **_as("reel")))[0].message
    assert "vertical" in adapter.validate(account, Draft(text="x", media=(wide,), **_as("reel")))[0].message
    fast = replace(vertical, fps=120.0)
    assert "24 to 60 frames" in adapter.validate(account, Draft(text="x", media=(fast,), **_as("reel")))[0].message
    assert adapter.validate(account, Draft(text="", media=(a_photo,), **_as("story"))) == []
    assert "3 to 60 seconds" in adapter.validate(account, Draft(text="", media=(long,), **_as("story")))[0].message
    assert "one photo or one video" in adapter.validate(account, Draft(text="", media=(a_photo, a_photo),
                                                                        **_as("story")))[0].message


async def test_a_reel_goes_through_an_upload_session_and_is_published(adapter, meta, media, coffee):
    meta.video_processing_polls = 1
    clip = _reel_clip(media)
    result = await adapter.publish(coffee, Draft(text="Behind the bar", **_as("reel")), [clip])

    start, finish = meta.calls_to("2001/video_reels")
    assert start.params["upload_phase"] == "start"
    assert (finish.params["upload_phase"], finish.params["video_state"]) == ("finish", "PUBLISHED")
    [upload] = meta.recorded(lambda c: c.host == "rupload.facebook.com")
    assert upload.params["bytes"] == clip.facts.size_bytes and upload.params["offset"] == "0"
    assert upload.params["auth"] == "OAuth" and upload.params["file_url"] is None
    assert meta.tokens[upload.token].page_id == "2001"
    video = meta.fb_objects[finish.params["video_id"]]
    assert video.product == "reel" and video.published and video.message == "Behind the bar"
    assert result.remote_id == video.post_id and result.url == f"https://www.facebook.com/reel/{video.id}/"
    assert not meta.calls_to("2001/videos"), "not the old file_url post to /videos"


async def test_a_reel_meta_cannot_take_fails_with_its_reason(adapter, meta, media, coffee):
    meta.video_processing_polls = 0
    clip = _reel_clip(media, seconds=1.0)  # under Meta's 3 seconds
    with pytest.raises(ContentRejected) as caught:
        await adapter.publish(coffee, Draft(text="Too short", **_as("reel")), [clip])
    assert "3 to 90 seconds" in caught.value.message


async def test_a_photo_story_and_a_video_story(adapter, meta, media, coffee):
    result = await adapter.publish(coffee, Draft(text="Not shown on a Story", **_as("story")), [photo(media)])
    [uploaded] = meta.calls_to("2001/photos")
    assert uploaded.params["published"] == "false"
    [story] = meta.calls_to("2001/photo_stories")
    post = meta.fb_objects[result.remote_id]
    assert post.product == "story" and post.attached == [story.params["photo_id"]] and post.message == ""
    assert result.url == post.url

    clip = _reel_clip(media, "story.mp4")
    result = await adapter.publish(coffee, Draft(text="", **_as("story")), [clip])
    start, finish = meta.calls_to("2001/video_stories")
    assert (start.params["upload_phase"], finish.params["upload_phase"]) == ("start", "finish")
    assert meta.fb_objects[result.remote_id].product == "story"


async def test_finishing_a_session_without_its_file_is_refused_by_meta(adapter, meta, coffee):
    page_token = coffee.publish_token
    started = await adapter.graph.post("2001/video_reels", page_token, data={"upload_phase": "start"})
    with pytest.raises(PlatformError) as caught:
        await adapter.graph.post("2001/video_reels", page_token, data={
            "upload_phase": "finish", "video_id": started["video_id"], "video_state": "PUBLISHED"})
    assert "6000" in caught.value.detail or "upload" in caught.value.message.lower()


async def test_the_fake_takes_a_story_photo_only_once_and_unpublished(adapter, meta, media, coffee):
    page_token = coffee.publish_token
    shown = await adapter.graph.post("2001/photos", page_token, data={"url": photo(media).public_url})
    with pytest.raises(PlatformError):
        await adapter.graph.post("2001/photo_stories", page_token, data={"photo_id": shown["id"]})
    hidden = await adapter.graph.post("2001/photos", page_token, data={"url": photo(media, "b.jpg").public_url,
                                                                       "published": "false"})
    story = await adapter.graph.post("2001/photo_stories", page_token, data={"photo_id": hidden["id"]})
    assert story["success"] is True and story["post_id"].startswith("2001_")
    with pytest.raises(PlatformError):
        await adapter.graph.post("2001/photo_stories", page_token, data={"photo_id": hidden["id"]})
