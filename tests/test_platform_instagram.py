"""Contract tests: the `instagram` adapter (Instagram through Facebook Login) against the fake Meta.

The adapter is built as production builds it (AdapterConfig, bot.http.build_client with origin
overrides); the fake fetches media from a local media host and refuses what Meta refuses."""

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
    RateLimited,
    RemoteAccount,
    RevokeReason,
    TokenExpired,
    TokenSet,
    Transient,
)
from bot.platforms.instagram import InstagramAdapter
from bot.platforms.oauth import new_state
from bot.platforms.settings import InstagramSettings
from bot.sandbox.fakes.meta import FB_LONG_LIVED, adapter_config
from bot.secret import Secret
from bot.services.analytics_catalogue import catalogue
from tests.fakes.media import jpeg, mp4, png, webm
from tests.platform_fixtures import meta_fixtures

COFFEE_IG, BAKERY_IG = "17841400000001", "17841400000002"


meta, media, http, adapter = meta_fixtures(InstagramAdapter, "instagram")


def connection(meta, user: str = "10001") -> TokenSet:
    return TokenSet(access_token=Secret(meta.issue_user_token(user)), external_user_id=user,
                    expires_at=datetime.now(UTC) + timedelta(days=59))


def ref(tokens: TokenSet, account: RemoteAccount) -> AccountRef:
    return AccountRef(platform="instagram", external_id=account.external_id, kind=account.kind, name=account.name,
                      user_token=tokens.access_token, token=account.token, handle=account.handle,
                      settings=account.settings)


@pytest.fixture
async def coffee(adapter, meta):
    """The connected @acmecoffee account, as list_accounts found it."""
    tokens = connection(meta)
    account = next(a for a in await adapter.list_accounts(tokens) if a.external_id == COFFEE_IG)
    return ref(tokens, account)


# ---- connecting -------------------------------------------------------------------------------

async def test_the_facebook_dialog_sends_the_browser_back_with_a_code_that_becomes_a_60_day_token(
        adapter, meta, http):
    state = new_state()
    url = adapter.authorize_url(state, None)
    assert url.startswith("https://www.facebook.com/v26.0/dialog/oauth?")
    dialog = await http.get(url)  # the user's browser; the fake plays the "Allow" click
    assert dialog.status_code == 302
    back = urlsplit(dialog.headers["location"])
    assert f"{back.scheme}://{back.netloc}{back.path}" == adapter.config.redirect_uri
    query = parse_qs(back.query)
    assert query["state"] == [state]
    asked = set(meta.dialogs[-1]["scope"].split(","))
    assert asked == {s.name for s in adapter.scopes} and all(s.why for s in adapter.scopes)

    tokens = await adapter.exchange_code(query["code"][0], None)

    issued = meta.tokens[tokens.access_token.reveal()]
    assert issued.long_lived and issued.user_id == "10001"
    assert [c.params.get("grant_type") for c in meta.calls_to("oauth/access_token")] == [None, "fb_exchange_token"]
    assert tokens.external_user_id == "10001" and tokens.display_name == meta.fb_users["10001"].name
    expected = datetime.now(UTC) + timedelta(seconds=FB_LONG_LIVED)
    assert abs((tokens.expires_at - expected).total_seconds()) < 120
    assert set(tokens.scopes) == meta.fb_users["10001"].granted
    assert adapter.uses_pkce is False and adapter.refreshable is False


async def test_a_refused_dialog_comes_back_with_the_error_and_the_state(adapter, meta, http):
    meta.deny_next_dialog = True
    dialog = await http.get(adapter.authorize_url("s-123", None))
    query = parse_qs(urlsplit(dialog.headers["location"]).query)
    assert query["error"] == ["access_denied"] and query["state"] == ["s-123"] and "code" not in query


async def test_a_code_cannot_be_used_twice(adapter, meta, http):
    dialog = await http.get(adapter.authorize_url("s", None))
    code = parse_qs(urlsplit(dialog.headers["location"]).query)["code"][0]
    await adapter.exchange_code(code, None)
    with pytest.raises(AccessRevoked) as caught:
        await adapter.exchange_code(code, None)
    assert "start connecting again" in caught.value.message
    assert "has been used" in caught.value.detail


async def test_refresh_rechecks_the_token_and_keeps_its_expiry(adapter, meta):
    tokens = connection(meta)
    assert await adapter.refresh(tokens) == tokens
    meta.revoke_user("10001", 460)
    with pytest.raises(AccessRevoked) as caught:
        await adapter.refresh(tokens)
    assert caught.value.reason is RevokeReason.PASSWORD_CHANGED
    calls = len(meta.calls)
    lapsed = TokenSet(access_token=tokens.access_token, external_user_id="10001",
                      expires_at=datetime.now(UTC) - timedelta(minutes=1))
    with pytest.raises(TokenExpired) as caught:
        await adapter.refresh(lapsed)
    assert "reconnect" in caught.value.message and len(meta.calls) == calls


# ---- accounts ---------------------------------------------------------------------------------

async def test_accounts_are_the_instagram_accounts_linked_to_the_users_pages(adapter, meta):
    meta.accounts_page_size = 1  # three Pages: /me/accounts answers in three pages
    accounts = {a.external_id: a for a in await adapter.list_accounts(connection(meta))}

    assert len(meta.calls_to("me/accounts")) == 3
    coffee, bakery = accounts[COFFEE_IG], accounts[BAKERY_IG]
    assert coffee.refusal is None
    assert coffee.handle == meta.ig_users[COFFEE_IG].username
    assert coffee.followers_count == meta.ig_users[COFFEE_IG].followers_count
    assert coffee.settings["page_name"] == meta.pages["2001"].name and coffee.token is None
    # Maria can only analyse and moderate on Acme Bakery's Page.
    assert "Ask a Page admin" in bakery.refusal and meta.pages["2002"].name in bakery.refusal
    # Acme Events has no Instagram professional account linked.
    events = accounts["2003"]
    assert events.kind == "page" and "Professional account" in events.refusal
    assert "direct Instagram login" in events.refusal


async def test_an_account_is_refused_when_the_publishing_permission_was_not_granted(adapter, meta):
    meta.remove_permission("10001", "instagram_content_publish")
    accounts = await adapter.list_accounts(connection(meta))
    coffee = next(a for a in accounts if a.external_id == COFFEE_IG)
    assert "instagram_content_publish" in coffee.refusal and "reconnect" in coffee.refusal


async def test_calls_carry_an_appsecret_proof_when_the_app_requires_it(adapter, meta):
    meta.require_appsecret_proof = True
    assert await adapter.list_accounts(connection(meta))


async def test_the_graph_version_is_the_configured_one(http, meta):
    adapter = InstagramAdapter(adapter_config("instagram", version="v25.0"), http)
    assert "/v25.0/dialog/oauth" in adapter.authorize_url("s", None)
    await adapter.list_accounts(connection(meta))
    assert meta.graph_versions() == {"v25.0"}


# ---- validation -------------------------------------------------------------------------------

def test_instagram_formats_are_checked_before_publishing(adapter, media):
    account = AccountRef("instagram", COFFEE_IG, "business", "Acme Coffee", Secret("t"))
    photo = media.payload("latte.jpg", jpeg(1080, 1080), mimetype="image/jpeg").facts
    clip = media.payload("pour.mp4", mp4(), mimetype="video/mp4", kind="video", duration=12,
                         width=1080, height=1920).facts
    assert adapter.validate(account, Draft(text="Fresh #coffee", media=(photo,))) == []
    assert adapter.validate(account, Draft(text="Mixed", media=(photo, clip))) == []

    reel = adapter.validate(account, Draft(text="x", media=(photo,), options={"format": "reel"}))
    assert [p.message for p in reel] == ["An Instagram Reel is one video: attach a single video (photos go in a "
                                         "post or a carousel)."]
    carousel = adapter.validate(account, Draft(text="x", media=(photo,), options={"format": "carousel"}))
    assert [p.message for p in carousel] == ["An Instagram carousel needs at least 2 photos or videos; this one "
                                             "has 1: add 1, or post it as a single photo or Reel."]
    nothing = adapter.validate(account, Draft(text="Just words"))
    assert [p.message for p in nothing] == ["Instagram posts need a photo or a video: attach one."]
    linked = adapter.validate(account, Draft(text="a" * 2190, link="https://acme.test/menu", media=(photo,)))
    assert [p.field for p in linked] == ["text"], "the link goes in the caption, so it counts"


def test_collaborators_are_up_to_three_instagram_usernames(adapter, media):
    account = AccountRef("instagram", COFFEE_IG, "business", "Acme Coffee", Secret("t"))
    photo = media.payload("latte.jpg", jpeg(1080, 1080), mimetype="image/jpeg").facts

    def problems(*names):
        draft = Draft(text="x", media=(photo,), settings=InstagramSettings(collaborators=names))
        return [(p.field, p.message) for p in adapter.validate(account, draft)]

    assert problems("@maria.lopez", "acme_roasters", "Bean.Co_2") == []
    assert problems("a", "b", "c", "d") == [
        ("collaborators", "Instagram takes up to 3 collaborators; this post has 4: remove 1.")]
    assert problems("maria lopez", "x" * 31) == [
        ("collaborators", f"maria lopez, {'x' * 31}: not Instagram usernames. Usernames have letters, numbers, "
                          "periods and underscores only, up to 30 characters.")]


# ---- publishing -------------------------------------------------------------------------------


def with_alt(item, alt_text: str):
    return replace(item, facts=replace(item.facts, alt_text=alt_text))


async def test_a_photo_goes_with_its_alt_text_and_collaborators(adapter, meta, media, coffee):
    photo = with_alt(media.payload("latte.jpg", jpeg(1080, 1350), mimetype="image/jpeg"), "A latte with a fern")
    settings = InstagramSettings(collaborators=("@maria.lopez", "acme_roasters"))
    result = await adapter.publish(coffee, Draft(text="New latte art", settings=settings), [photo])

    container = meta.containers[meta.ig_media[result.remote_id].container]
    assert container.params["alt_text"] == "A latte with a fern"
    assert json.loads(container.params["collaborators"]) == ["maria.lopez", "acme_roasters"]


async def test_a_carousel_invites_collaborators_once_and_describes_each_photo(adapter, meta, media, coffee):
    items = [with_alt(media.payload("a.jpg", jpeg(1080, 1080), mimetype="image/jpeg"), "The counter"),
             media.payload("b.jpg", jpeg(1080, 1080), mimetype="image/jpeg"),
             with_alt(media.payload("c.mp4", mp4(), mimetype="video/mp4", kind="video", duration=8), "Pouring")]
    result = await adapter.publish(coffee, Draft(text="Our week", settings=InstagramSettings(("maria.lopez",))),
                                   items)

    posted = meta.ig_media[result.remote_id]
    parent = meta.containers[posted.container]
    assert json.loads(parent.params["collaborators"]) == ["maria.lopez"]
    children = [meta.containers[c] for c in posted.children]
    assert [c.params.get("alt_text") for c in children] == ["The counter", None, None], \
        "alt text on images only: Instagram takes none for videos"
    assert not any("collaborators" in c.params for c in children)


async def test_a_reel_invites_collaborators_and_sends_no_alt_text(adapter, meta, media, coffee):
    clip = with_alt(media.payload("pour.mp4", mp4(), mimetype="video/mp4", kind="video", duration=12), "Pouring")
    result = await adapter.publish(coffee, Draft(text="Pour-over", settings=InstagramSettings(("maria.lopez",))),
                                   [clip])
    container = meta.containers[meta.ig_media[result.remote_id].container]
    assert container.media_type == "REELS" and "alt_text" not in container.params
    assert json.loads(container.params["collaborators"]) == ["maria.lopez"]


async def test_collaborators_instagram_refuses_land_on_their_field(adapter, meta, media, coffee):
    photo = media.payload("latte.jpg", jpeg(1080, 1350), mimetype="image/jpeg")
    too_many = InstagramSettings(collaborators=("a", "b", "c", "d"))
    with pytest.raises(ContentRejected) as caught:
        await adapter.publish(coffee, Draft(text="Crowd", settings=too_many), [photo])
    assert caught.value.field == "collaborators" and "up to 3" in caught.value.message
    assert meta.ig_media == {}


async def test_the_fake_takes_collaborators_only_where_instagram_does(adapter, meta, media, coffee, http):
    photo = media.payload("latte.jpg", jpeg(1080, 1350), mimetype="image/jpeg")
    base = {"access_token": coffee.publish_token.reveal(), "image_url": photo.public_url}
    url = f"https://graph.facebook.com/v26.0/{COFFEE_IG}/media"
    item = await http.post(url, data=base | {"is_carousel_item": "true", "collaborators": '["maria.lopez"]'})
    not_a_list = await http.post(url, data=base | {"collaborators": "maria.lopez"})
    assert [item.status_code, not_a_list.status_code] == [400, 400]
    assert item.json()["error"]["code"] == 100



async def test_a_photo_is_published_with_its_first_comment(adapter, meta, media, coffee):
    photo = media.payload("latte.jpg", jpeg(1080, 1350), mimetype="image/jpeg")
    result = await adapter.publish(coffee, Draft(text="New latte art #coffee", first_comment="Menu: acme.test"),
                                   [photo])

    posted = meta.ig_media[result.remote_id]
    assert result.url == posted.permalink and result.warnings == ()
    assert posted.owner == COFFEE_IG and posted.caption == "New latte art #coffee"
    assert posted.comments == ["Menu: acme.test"]
    assert photo.public_url in meta.fetched, "Meta pulls the photo from Picmim's public URL"
    assert meta.graph_versions() == {"v26.0"}


async def test_a_carousel_mixes_photos_and_a_video(adapter, meta, media, coffee):
    items = [media.payload("a.jpg", jpeg(1080, 1080), mimetype="image/jpeg"),
             media.payload("b.jpg", jpeg(1080, 1080), mimetype="image/jpeg"),
             media.payload("c.mp4", mp4(), mimetype="video/mp4", kind="video", duration=8)]
    result = await adapter.publish(coffee, Draft(text="Our week"), items)

    posted = meta.ig_media[result.remote_id]
    assert posted.media_type == "CAROUSEL_ALBUM" and result.url == posted.permalink
    children = [meta.containers[c] for c in posted.children]
    assert [c.carousel_item for c in children] == [True, True, True]
    assert [c.url for c in children] == [i.public_url for i in items]
    assert children[2].media_type == "VIDEO" and posted.caption == "Our week"


async def test_a_reel_waits_until_instagram_has_processed_the_video(adapter, meta, media, coffee):
    meta.video_processing_polls = 3
    clip = media.payload("pour.mp4", mp4(), mimetype="video/mp4", kind="video", duration=12)
    result = await adapter.publish(coffee, Draft(text="Pour-over"), [clip])

    posted = meta.ig_media[result.remote_id]
    assert posted.product == "REELS" and "/reel/" in result.url and result.url == posted.permalink
    container = meta.containers[posted.container]
    assert container.polls == 4, "three IN_PROGRESS answers, then FINISHED"


async def test_a_video_instagram_cannot_process_is_refused_with_its_reason(adapter, meta, media, coffee):
    clip = media.payload("pour.mp4", webm(), mimetype="video/mp4", kind="video", duration=12)
    with pytest.raises(ContentRejected) as caught:
        await adapter.publish(coffee, Draft(text="Pour-over"), [clip])
    assert caught.value.field == "media" and "MP4 or MOV" in caught.value.message
    assert "2207026" in caught.value.detail
    assert meta.ig_media == {}


async def test_a_container_ending_in_a_passing_error_is_transient(adapter, meta, media, coffee):
    meta.plan_container(polls=1, final="ERROR", subcode=2207001)
    with pytest.raises(Transient):
        await adapter.publish(coffee, Draft(text="x"), [media.payload("a.jpg", jpeg(), mimetype="image/jpeg")])
    assert meta.ig_media == {}


async def test_processing_that_outlasts_every_check_is_transient_and_publishes_nothing(adapter, meta, media, coffee):
    meta.plan_container(polls=1000)
    with pytest.raises(Transient) as caught:
        await adapter.publish(coffee, Draft(text="x"), [media.payload("a.jpg", jpeg(), mimetype="image/jpeg")])
    assert "still processing" in caught.value.message
    assert meta.ig_media == {} and len(meta.calls_to("media_publish")) == 0
    assert next(iter(meta.containers.values())).polls == adapter.polling.attempts


@pytest.mark.parametrize(("make", "mimetype", "text", "field", "says", "meta_says"), [
    (lambda: png(1080, 1080), "image/jpeg", "x", "media", "JPEG photos only", "Supported formats are: JPEG"),
    (lambda: jpeg(1080, 1080, pad_to=9 * 1024 * 1024), "image/jpeg", "x", "media", "up to 8 MB",
     "less than 8 MiB"),
    (lambda: jpeg(360, 1080), "image/jpeg", "x", "media", "between 4:5 and 1.91:1", "('360/1080')"),
    (lambda: jpeg(1080, 1080), "image/jpeg", "é" * 2201, "text", "2,200 characters", "caption is too long"),
])
async def test_meta_refusals_of_a_post_reach_the_user_in_plain_words(adapter, meta, media, coffee, make, mimetype,
                                                                      text, field, says, meta_says):
    photo = media.payload("photo.jpg", make(), mimetype=mimetype)
    with pytest.raises(ContentRejected) as caught:
        await adapter.publish(coffee, Draft(text=text), [photo])
    assert caught.value.field == field and says in caught.value.message
    assert meta_says in caught.value.detail, "Meta's own reason is kept"
    assert meta.ig_media == {}


async def test_the_publishing_quota_is_read_before_any_container_is_made(adapter, meta, media, coffee):
    meta.ig_users[COFFEE_IG].quota_total = 1
    await adapter.publish(coffee, Draft(text="one"), [media.payload("a.jpg", jpeg(), mimetype="image/jpeg")])
    containers = len(meta.containers)
    with pytest.raises(RateLimited) as caught:
        await adapter.publish(coffee, Draft(text="two"), [media.payload("b.jpg", jpeg(), mimetype="image/jpeg")])
    assert "1 posts" in caught.value.message and len(meta.containers) == containers


async def test_the_daily_limit_answer_of_media_publish_is_rate_limited(adapter, meta, media, coffee):
    meta.rate_limit(4, subcode=2207042, path="media_publish")
    with pytest.raises(RateLimited) as caught:
        await adapter.publish(coffee, Draft(text="x"), [media.payload("a.jpg", jpeg(), mimetype="image/jpeg")])
    assert "daily limit" in caught.value.message


async def test_a_timeout_after_sending_media_publish_is_an_unknown_outcome(adapter, meta, media, coffee, http):
    meta.hang_after("media_publish")
    http.timeout = httpx.Timeout(10.0, read=1.0)
    with pytest.raises(OutcomeUnknown) as caught:
        await adapter.publish(coffee, Draft(text="x"), [media.payload("a.jpg", jpeg(), mimetype="image/jpeg")])
    assert "may or may not be live" in caught.value.message
    assert len(meta.ig_media) == 1, "Meta did publish it: the caller must check, not resend"


async def test_a_failed_first_comment_does_not_fail_the_live_post(adapter, meta, media, coffee):
    meta.fail("code2", path="comments")
    result = await adapter.publish(coffee, Draft(text="x", first_comment="hello"),
                                   [media.payload("a.jpg", jpeg(), mimetype="image/jpeg")])
    assert result.remote_id in meta.ig_media and result.url
    assert len(result.warnings) == 1 and "first comment" in result.warnings[0]


# ---- metrics ----------------------------------------------------------------------------------

async def test_metrics_use_views_and_leave_out_what_instagram_does_not_give(adapter, meta, media, coffee):
    result = await adapter.publish(coffee, Draft(text="x"), [media.payload("a.jpg", jpeg(), mimetype="image/jpeg")])
    ig = meta.ig_users[COFFEE_IG]
    ig.insights = {"views": 4200, "reach": 1800, "accounts_engaged": 120, "total_interactions": 300}
    posted = meta.ig_media[result.remote_id]
    posted.insights, posted.like_count = {"views": 950, "reach": 700, "saved": 12, "shares": 4,
                                          "total_interactions": 81}, 65

    metrics = await adapter.fetch_metrics(coffee, [result.remote_id, "gone-post"])

    assert metrics.account["followers_count"] == ig.followers_count
    assert {k: metrics.account[k] for k in ig.insights} == ig.insights
    assert metrics.posts[result.remote_id]["views"] == posted.insights["views"]
    assert metrics.posts[result.remote_id]["like_count"] == posted.like_count
    assert "gone-post" not in metrics.posts
    asked = ",".join(c.params.get("metric", "") for c in meta.calls_to("insights"))
    assert "views" in asked and "impressions" not in asked and "plays" not in asked


async def test_metrics_bring_a_photos_picture_and_a_reels_cover_not_its_video(adapter, meta, media, coffee):
    photo = await adapter.publish(coffee, Draft(text="Latte"), [media.payload("a.jpg", jpeg(), mimetype="image/jpeg")])
    reel = await adapter.publish(coffee, Draft(text="Pour-over"), [
        media.payload("pour.mp4", mp4(), mimetype="video/mp4", kind="video", duration=12)])

    metrics = await adapter.fetch_metrics(coffee, [photo.remote_id, reel.remote_id])

    assert metrics.thumbnails[photo.remote_id].startswith("https://scontent.cdninstagram.com/")
    assert metrics.thumbnails[photo.remote_id].split("?")[0].endswith(f"/{photo.remote_id}_n.jpg")
    assert metrics.thumbnails[reel.remote_id].split("?")[0].endswith(f"/{reel.remote_id}_n_thumb.jpg")
    # The picture comes with the post's counts: the same read, no extra request.
    post_reads = [c for c in meta.calls_to(photo.remote_id, method="GET") + meta.calls_to(reel.remote_id, method="GET")
                  if "like_count" in c.params.get("fields", "")]
    assert len(post_reads) == 2 and all("media_url" in c.params["fields"] for c in post_reads)


async def test_a_metric_meta_refuses_for_the_account_leaves_the_others(adapter, meta, coffee):
    """Graph refuses a whole insights request for one metric it does not give this account (code 100): the
    others are kept, the refused one is "not available" with Meta's reason, and `reach` is read as `viewers`
    where Meta gives that instead."""
    ig = meta.ig_users[COFFEE_IG]
    ig.insights = {"views": 4200, "viewers": 1700, "accounts_engaged": 120, "total_interactions": 300}
    ig.unavailable = {"reach", "accounts_engaged"}

    metrics = await adapter.fetch_metrics(coffee, [])

    assert metrics.account["views"] == 4200 and metrics.account["total_interactions"] == 300
    assert metrics.account["viewers"] == 1700 and "reach" not in metrics.account
    assert "accounts_engaged" not in metrics.account
    assert "not available" in metrics.unavailable["accounts_engaged"]
    reach = next(f for f in catalogue("instagram", None).account if f.label == "Reach")
    assert reach.pick(metrics.account) == 1700


# ---- the error family -------------------------------------------------------------------------

async def test_an_expired_token_says_reconnect(adapter, meta, media, coffee):
    meta.expire_token(coffee.user_token.reveal())
    with pytest.raises(TokenExpired) as caught:
        await adapter.publish(coffee, Draft(text="x"), [media.payload("a.jpg", jpeg(), mimetype="image/jpeg")])
    assert "expired" in caught.value.message and "reconnect" in caught.value.message
    assert "463" in caught.value.detail


@pytest.mark.parametrize(("subcode", "reason", "words"), [
    (458, RevokeReason.APP_REMOVED, "removed"),
    (460, RevokeReason.PASSWORD_CHANGED, "the password was changed"),
    (467, RevokeReason.LOGGED_OUT, "logged out"),
    (459, RevokeReason.CHECKPOINT, "log in at facebook.com"),
])
async def test_a_revoked_grant_says_why_and_what_to_do(adapter, meta, subcode, reason, words):
    tokens = connection(meta)
    meta.revoke_user("10001", subcode)
    with pytest.raises(AccessRevoked) as caught:
        await adapter.list_accounts(tokens)
    assert caught.value.reason is reason and words in caught.value.message
    assert str(subcode) in caught.value.detail


async def test_a_removed_permission_is_named(adapter, meta, media, coffee):
    meta.remove_permission("10001", "instagram_content_publish")
    with pytest.raises(AccessRevoked) as caught:
        await adapter.publish(coffee, Draft(text="x"), [media.payload("a.jpg", jpeg(), mimetype="image/jpeg")])
    assert caught.value.reason is RevokeReason.PERMISSION_REMOVED
    assert "instagram_content_publish" in caught.value.message and "reconnect" in caught.value.message


async def test_losing_the_create_content_task_on_the_linked_page_asks_for_a_page_admin(adapter, meta, media, coffee):
    meta.remove_page_task("10001", "2001", "CREATE_CONTENT", "MANAGE")
    with pytest.raises(AccessRevoked) as caught:
        await adapter.publish(coffee, Draft(text="x"), [media.payload("a.jpg", jpeg(), mimetype="image/jpeg")])
    assert caught.value.reason is RevokeReason.ADMIN_RIGHTS_LOST
    assert "ask a Page admin to give you back" in caught.value.message
    assert meta.pages["2001"].name in caught.value.message


@pytest.mark.parametrize(("code", "minutes"), [(4, None), (17, None), (613, None), (80002, 7), (4, 3)])
async def test_throttling_is_rate_limited_with_metas_wait(adapter, meta, coffee, code, minutes):
    meta.rate_limit(code, minutes=minutes, kind="instagram")
    with pytest.raises(RateLimited) as caught:
        await adapter.fetch_metrics(coffee, [])
    assert caught.value.retry_after == (minutes * 60 if minutes else None)
    assert "Picmim will try again" in caught.value.message


@pytest.mark.parametrize("kind", ["code2", "code1", "http500"])
async def test_a_passing_failure_is_transient(adapter, meta, coffee, kind):
    meta.fail(kind)
    with pytest.raises(Transient) as caught:
        await adapter.fetch_metrics(coffee, [])
    assert "try again" in caught.value.message


async def test_revoke_withdraws_the_grant_at_meta(adapter, meta):
    tokens = connection(meta)
    assert await adapter.revoke(tokens) is True
    assert meta.calls_to("me/permissions", method="DELETE")
    with pytest.raises(AccessRevoked) as caught:
        await adapter.list_accounts(tokens)
    assert caught.value.reason is RevokeReason.APP_REMOVED
    assert await adapter.revoke(tokens) is False, "a dead grant cannot be withdrawn again"


# ---- post types: Reel, Story (issue 18) ------------------------------------------------------------------


def test_a_story_is_one_photo_or_a_short_video_without_collaborators_or_comment(adapter, media):
    account = AccountRef("instagram", COFFEE_IG, "business", "Acme Coffee", Secret("t"))
    photo = media.payload("latte.jpg", jpeg(1080, 1080), mimetype="image/jpeg").facts
    clip = media.payload("pour.mp4", mp4(), mimetype="video/mp4", kind="video", duration=12,
                         width=1080, height=1920).facts
    story = InstagramSettings(post_type="story")
    assert adapter.validate(account, Draft(text="", media=(clip,), settings=story)) == []
    assert adapter.validate(account, Draft(text="Caption kept in Picmim", media=(photo,), settings=story)) == []
    long = adapter.validate(account, Draft(text="", media=(replace(clip, duration=75.0),), settings=story))
    assert [p.message for p in long] == ["An Instagram Story video lasts 3 to 60 seconds; this one lasts 75: "
                                         "shorten it, or choose Reel."]
    two = adapter.validate(account, Draft(text="", media=(photo, clip), settings=story))
    assert "one photo or one video" in two[0].message
    extras = adapter.validate(account, Draft(text="", media=(photo,), first_comment="hi",
                                             settings=InstagramSettings(("maria.lopez",), post_type="story")))
    assert {p.field for p in extras} == {"collaborators", "first_comment"}
    reel = adapter.validate(account, Draft(text="x", media=(photo,), settings=InstagramSettings(post_type="reel")))
    assert [p.field for p in reel] == ["media"]


async def test_a_story_is_a_stories_container_without_caption(adapter, meta, media, coffee):
    from tests.fakes.media import make_clip
    clip = media.payload("story.mp4", make_clip(seconds=3.2, fps=24), mimetype="video/mp4", kind="video",
                         duration=3.2)
    result = await adapter.publish(coffee, Draft(text="Not on the Story", first_comment="not sent",
                                                 settings=InstagramSettings(post_type="story")), [clip])
    posted = meta.ig_media[result.remote_id]
    container = meta.containers[posted.container]
    assert container.media_type == "STORIES" and container.params["video_url"] == clip.public_url
    assert "caption" not in container.params and posted.product == "STORY" and posted.media_type == "VIDEO"
    assert result.url == posted.permalink and not posted.comments


async def test_a_story_video_over_a_minute_is_refused_by_instagram(adapter, meta, media, coffee):
    from tests.fakes.media import make_clip
    clip = media.payload("long.mp4", make_clip(seconds=61, fps=2, width=90, height=160, audio=None),
                         mimetype="video/mp4", kind="video", duration=61)
    with pytest.raises(ContentRejected):
        await adapter.publish(coffee, Draft(text="", settings=InstagramSettings(post_type="story")), [clip])
    assert not meta.ig_media


async def test_a_reel_can_stay_out_of_the_feed(adapter, meta, media, coffee):
    clip = media.payload("pour.mp4", mp4(), mimetype="video/mp4", kind="video", duration=12)
    result = await adapter.publish(coffee, Draft(text="Pour-over", settings=InstagramSettings(
        post_type="reel", share_to_feed=False)), [clip])
    posted = meta.ig_media[result.remote_id]
    assert posted.product == "REELS" and posted.share_to_feed is False
    assert meta.containers[posted.container].params["share_to_feed"] == "false"


async def test_a_picture_attached_with_a_reel_is_its_cover(adapter, meta, media, coffee):
    account = AccountRef("instagram", COFFEE_IG, "business", "Acme Coffee", Secret("t"))
    clip = media.payload("pour.mp4", mp4(), mimetype="video/mp4", kind="video", duration=12)
    cover = media.payload("cover.jpg", jpeg(540, 960), mimetype="image/jpeg")
    reel = InstagramSettings(post_type="reel")
    assert adapter.validate(account, Draft(text="x", media=(clip.facts, cover.facts), settings=reel)) == [], \
        "a 9:16 cover is no feed photo"
    two = adapter.validate(account, Draft(text="x", media=(clip.facts, clip.facts), settings=reel))
    assert "at most one picture as its cover" in two[0].message
    result = await adapter.publish(coffee, Draft(text="Pour-over", settings=reel), [clip, cover])
    container = meta.containers[meta.ig_media[result.remote_id].container]
    assert container.params["cover_url"] == cover.public_url and "thumb_offset" not in container.params


async def test_the_fake_refuses_a_reel_without_video_and_drops_a_storys_caption(adapter, meta, media, coffee, http):
    photo = media.payload("latte.jpg", jpeg(1080, 1920), mimetype="image/jpeg")
    url = f"https://graph.facebook.com/v26.0/{COFFEE_IG}/media"
    token = {"access_token": coffee.publish_token.reveal()}
    reel = await http.post(url, data=token | {"media_type": "REELS", "image_url": photo.public_url})
    assert reel.status_code == 400 and "video_url" in reel.json()["error"]["message"]
    bare = await http.post(url, data=token | {"media_type": "STORIES"})
    assert bare.status_code == 400, "a Story needs its photo or video"
    story = await http.post(url, data=token | {"media_type": "STORIES", "image_url": photo.public_url,
                                               "caption": "ignored"})
    assert story.status_code == 200 and meta.containers[story.json()["id"]].caption == ""
    invited = await http.post(url, data=token | {"media_type": "STORIES", "image_url": photo.public_url,
                                                 "collaborators": '["maria.lopez"]'})
    assert invited.status_code == 400, "collaborators are for feed posts, Reels and carousels"
