"""Contract tests: the `instagram-login` adapter (direct Instagram login, graph.instagram.com) against the
fake Meta, built as production builds it."""

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
    RevokeReason,
    TokenExpired,
    TokenSet,
    Transient,
)
from bot.platforms.instagram_login import InstagramLoginAdapter
from bot.platforms.settings import InstagramSettings
from bot.sandbox.fakes.meta import IG_LONG_LIVED, adapter_config
from bot.secret import Secret
from tests.fakes.media import jpeg, mp4, png
from tests.platform_fixtures import meta_fixtures

STUDIO, PERSONAL, CREATOR = "17841400000009", "17841400000010", "17841400000011"


meta, media, http, adapter = meta_fixtures(InstagramLoginAdapter, "instagram-login")


def connection(meta, ig_id: str = STUDIO, **kw) -> TokenSet:
    return TokenSet(access_token=Secret(meta.issue_ig_token(ig_id)), external_user_id=ig_id,
                    expires_at=datetime.now(UTC) + timedelta(seconds=IG_LONG_LIVED), **kw)


@pytest.fixture
async def studio(adapter, meta):
    tokens = connection(meta)
    [account] = await adapter.list_accounts(tokens)
    return AccountRef("instagram-login", account.external_id, account.kind, account.name, tokens.access_token,
                      handle=account.handle)


async def connect(adapter, http) -> TokenSet:
    dialog = await http.get(adapter.authorize_url("st", None))
    return await adapter.exchange_code(parse_qs(urlsplit(dialog.headers["location"]).query)["code"][0], None)


# ---- connecting -------------------------------------------------------------------------------

@pytest.mark.parametrize("shape", ["data", "flat"])
async def test_the_instagram_dialog_and_either_exchange_answer_give_a_60_day_token(adapter, meta, http, shape):
    meta.ig_code_response_shape = shape
    url = adapter.authorize_url("state-42", None)
    assert url.startswith("https://www.instagram.com/oauth/authorize?")
    dialog = await http.get(url)
    assert dialog.status_code == 302
    back = urlsplit(dialog.headers["location"])
    assert f"{back.scheme}://{back.netloc}{back.path}" == adapter.config.redirect_uri
    query = parse_qs(back.query)
    assert query["state"] == ["state-42"]
    assert set(meta.dialogs[-1]["scope"].split(",")) == {s.name for s in adapter.scopes}

    tokens = await adapter.exchange_code(query["code"][0], None)

    issued = meta.tokens[tokens.access_token.reveal()]
    assert issued.long_lived and issued.user_id == STUDIO
    assert meta.calls_to("access_token", host="graph.instagram.com")[0].params["grant_type"] == "ig_exchange_token"
    assert tokens.external_user_id == STUDIO
    assert tokens.display_name == meta.ig_users[STUDIO].username
    assert set(tokens.scopes) == meta.ig_users[STUDIO].granted
    expected = datetime.now(UTC) + timedelta(seconds=IG_LONG_LIVED)
    assert abs((tokens.expires_at - expected).total_seconds()) < 120


async def test_a_refused_dialog_comes_back_with_the_error_and_the_state(adapter, meta, http):
    meta.deny_next_dialog = True
    dialog = await http.get(adapter.authorize_url("s-9", None))
    query = parse_qs(urlsplit(dialog.headers["location"]).query)
    assert query["error"] == ["access_denied"] and query["state"] == ["s-9"]


async def test_a_bad_code_is_answered_in_instagrams_own_error_shape(adapter):
    with pytest.raises(AccessRevoked) as caught:
        await adapter.exchange_code("not-a-code", None)
    assert "start connecting again" in caught.value.message
    assert caught.value.detail == "Invalid authorization code"


async def test_wrong_app_credentials_are_an_admins_problem(meta, http):
    adapter = InstagramLoginAdapter(replace(adapter_config("instagram-login"), client_id="123"), http)
    with pytest.raises(PlatformError) as caught:
        await adapter.exchange_code("any-code", None)
    assert type(caught.value) is PlatformError and "app ID and secret" in caught.value.message


async def test_refresh_renews_a_token_older_than_a_day(adapter, meta):
    tokens = connection(meta)
    meta.age_token(tokens.access_token.reveal(), 25 * 3600)
    tokens = TokenSet(tokens.access_token, STUDIO, expires_at=tokens.expires_at - timedelta(hours=25))

    renewed = await adapter.refresh(tokens)

    assert renewed.access_token != tokens.access_token
    assert meta.tokens[renewed.access_token.reveal()].long_lived
    assert renewed.expires_at > tokens.expires_at
    assert meta.calls_to("refresh_access_token")[0].params["grant_type"] == "ig_refresh_token"
    assert adapter.refreshable is True


async def test_refresh_leaves_a_fresh_token_alone_and_refuses_an_expired_one(adapter, meta):
    tokens = connection(meta)
    assert await adapter.refresh(tokens) == tokens
    assert meta.calls_to("refresh_access_token") == [], "Instagram refuses tokens younger than 24 hours"
    lapsed = TokenSet(tokens.access_token, STUDIO, expires_at=datetime.now(UTC) - timedelta(seconds=1))
    with pytest.raises(TokenExpired) as caught:
        await adapter.refresh(lapsed)
    assert "reconnect" in caught.value.message


async def test_refresh_of_a_revoked_token_asks_for_a_reconnect(adapter, meta):
    tokens = connection(meta)
    meta.age_token(tokens.access_token.reveal(), 30 * 3600)
    tokens = TokenSet(tokens.access_token, STUDIO, expires_at=tokens.expires_at - timedelta(hours=30))
    meta.revoke_user(STUDIO, 460)
    with pytest.raises(AccessRevoked) as caught:
        await adapter.refresh(tokens)
    assert caught.value.reason is RevokeReason.PASSWORD_CHANGED and "the password was changed" in caught.value.message


# ---- accounts ---------------------------------------------------------------------------------

async def test_a_business_account_is_the_one_account_of_the_grant(adapter, meta):
    [account] = await adapter.list_accounts(connection(meta))
    ig = meta.ig_users[STUDIO]
    assert (account.external_id, account.kind, account.handle, account.followers_count, account.refusal) == (
        ig.id, "business", ig.username, ig.followers_count, None)


async def test_a_creator_account_is_a_creator(adapter, meta):
    [account] = await adapter.list_accounts(connection(meta, CREATOR))
    assert account.kind == "creator" and account.refusal is None


async def test_a_personal_account_is_shown_but_refused_with_the_fix(adapter, meta):
    [account] = await adapter.list_accounts(connection(meta, PERSONAL))
    assert account.handle == meta.ig_users[PERSONAL].username
    assert "personal Instagram account" in account.refusal and "Professional account" in account.refusal


async def test_an_account_is_refused_when_publishing_was_not_granted(adapter, meta, http):
    meta.decline_in_dialog = {"instagram_business_content_publish"}
    tokens = await connect(adapter, http)
    [account] = await adapter.list_accounts(tokens)
    assert "instagram_business_content_publish" in account.refusal


# ---- publishing (graph.instagram.com, node `me`) -------------------------------------------------

async def test_a_photo_carousel_and_reel_are_published_on_graph_instagram_com(adapter, meta, media, studio):
    photo = media.payload("a.jpg", jpeg(1080, 1080), mimetype="image/jpeg")
    single = await adapter.publish(studio, Draft(text="Hello", first_comment="More at acme.test"), [photo])
    carousel = await adapter.publish(studio, Draft(text="Set"), [
        media.payload("b.jpg", jpeg(1080, 1350), mimetype="image/jpeg"),
        media.payload("c.jpg", jpeg(1910, 1000), mimetype="image/jpeg")])
    reel = await adapter.publish(studio, Draft(text="Clip"), [
        media.payload("d.mp4", mp4(), mimetype="video/mp4", kind="video", duration=30)])

    for result in (single, carousel, reel):
        posted = meta.ig_media[result.remote_id]
        assert posted.owner == STUDIO and result.url == posted.permalink
    assert meta.ig_media[single.remote_id].comments == ["More at acme.test"]
    assert meta.ig_media[carousel.remote_id].media_type == "CAROUSEL_ALBUM"
    assert meta.ig_media[reel.remote_id].product == "REELS"
    hosts = {c.host for c in meta.calls}
    assert "graph.facebook.com" not in hosts
    assert meta.calls_to("me/media_publish", host="graph.instagram.com")
    assert meta.graph_versions() == {"v26.0"}


async def test_collaborators_and_alt_text_go_to_graph_instagram_com(adapter, meta, media, studio):
    photo = media.payload("mat.jpg", jpeg(1080, 1080), mimetype="image/jpeg")
    photo = replace(photo, facts=replace(photo.facts, alt_text="A rolled yoga mat"))
    draft = Draft(text="New mats", settings=InstagramSettings(collaborators=("@yoga.friend",)))
    result = await adapter.publish(studio, draft, [photo])
    container = meta.containers[meta.ig_media[result.remote_id].container]
    assert container.params["alt_text"] == "A rolled yoga mat"
    assert json.loads(container.params["collaborators"]) == ["yoga.friend"]
    assert {c.host for c in meta.calls_to("media")} == {"graph.instagram.com"}
    problems = adapter.validate(studio, Draft(text="x", media=(photo.facts,),
                                              settings=InstagramSettings(("a", "b", "c", "d"))))
    assert [p.field for p in problems] == ["collaborators"]


async def test_a_container_error_is_refused_with_instagrams_reason(adapter, meta, media, studio):
    meta.plan_container(polls=2, final="ERROR", subcode=2207026)
    with pytest.raises(ContentRejected) as caught:
        await adapter.publish(studio, Draft(text="x"), [
            media.payload("d.mp4", mp4(), mimetype="video/mp4", kind="video", duration=30)])
    assert caught.value.field == "media" and "MP4 or MOV" in caught.value.message
    assert meta.ig_media == {}


async def test_a_png_is_refused_by_instagram_whatever_its_name(adapter, meta, media, studio):
    with pytest.raises(ContentRejected) as caught:
        await adapter.publish(studio, Draft(text="x"), [media.payload("a.jpg", png(), mimetype="image/jpeg")])
    assert "JPEG" in caught.value.message and "2207005" in caught.value.detail


async def test_more_than_ten_carousel_items_are_refused_by_instagram(adapter, meta, media, studio):
    items = [media.payload(f"{i}.jpg", jpeg(), mimetype="image/jpeg") for i in range(11)]
    with pytest.raises(ContentRejected) as caught:
        await adapter.publish(studio, Draft(text="x"), items)
    assert "2 to 10" in caught.value.message and "2207028" in caught.value.detail


async def test_a_failed_first_comment_leaves_the_post_live_with_a_warning(adapter, meta, media, studio):
    meta.remove_permission(STUDIO, "instagram_business_manage_comments")
    result = await adapter.publish(studio, Draft(text="x", first_comment="hi"),
                                   [media.payload("a.jpg", jpeg(), mimetype="image/jpeg")])
    assert meta.ig_media[result.remote_id].comments == []
    [warning] = result.warnings
    assert "first comment" in warning and "instagram_business_manage_comments" in warning


async def test_a_timeout_after_sending_media_publish_is_an_unknown_outcome(adapter, meta, media, studio, http):
    meta.hang_after("media_publish")
    http.timeout = httpx.Timeout(10.0, read=1.0)
    with pytest.raises(OutcomeUnknown):
        await adapter.publish(studio, Draft(text="x"), [media.payload("a.jpg", jpeg(), mimetype="image/jpeg")])
    assert len(meta.ig_media) == 1


# ---- metrics and the error family ---------------------------------------------------------------

async def test_metrics_come_from_graph_instagram_com_with_views(adapter, meta, media, studio):
    result = await adapter.publish(studio, Draft(text="x"), [media.payload("a.jpg", jpeg(), mimetype="image/jpeg")])
    meta.ig_users[STUDIO].insights = {"views": 321, "reach": 200}
    meta.ig_media[result.remote_id].insights = {"views": 99}
    metrics = await adapter.fetch_metrics(studio, [result.remote_id])
    assert metrics.account["views"] == 321 and metrics.account["reach"] == 200
    assert metrics.account["followers_count"] == meta.ig_users[STUDIO].followers_count
    assert metrics.posts[result.remote_id]["views"] == 99
    assert metrics.thumbnails[result.remote_id].split("?")[0].endswith(f"/{result.remote_id}_n.jpg")
    assert all(c.host == "graph.instagram.com" for c in meta.calls_to("insights"))


async def test_an_expired_token_is_token_expired(adapter, meta, studio):
    meta.expire_token(studio.user_token.reveal())
    with pytest.raises(TokenExpired):
        await adapter.fetch_metrics(studio, [])


async def test_a_removed_app_is_access_revoked(adapter, meta, studio):
    meta.revoke_user(STUDIO, 458)
    with pytest.raises(AccessRevoked) as caught:
        await adapter.fetch_metrics(studio, [])
    assert caught.value.reason is RevokeReason.APP_REMOVED and "Reconnect" in caught.value.message


async def test_a_missing_insights_permission_is_named(adapter, meta, studio):
    meta.remove_permission(STUDIO, "instagram_business_manage_insights")
    with pytest.raises(AccessRevoked) as caught:
        await adapter.fetch_metrics(studio, [])
    assert caught.value.reason is RevokeReason.PERMISSION_REMOVED
    assert "instagram_business_manage_insights" in caught.value.message


async def test_instagram_throttling_waits_as_long_as_meta_says(adapter, meta, studio):
    meta.rate_limit(80002, minutes=12, kind="instagram")
    with pytest.raises(RateLimited) as caught:
        await adapter.fetch_metrics(studio, [])
    assert caught.value.retry_after == 12 * 60 and "12 minutes" in caught.value.message


async def test_a_server_error_is_transient(adapter, meta, studio):
    meta.fail("http500")
    with pytest.raises(Transient):
        await adapter.fetch_metrics(studio, [])


async def test_instagram_login_cannot_be_revoked_by_the_app(adapter, meta):
    assert await adapter.revoke(connection(meta)) is False
    assert meta.calls == []


async def test_a_story_and_a_reel_out_of_the_feed_through_instagram_login(adapter, meta, media, studio):
    photo = media.payload("story.jpg", jpeg(1080, 1920), mimetype="image/jpeg")
    story = await adapter.publish(studio, Draft(text="Not on the Story", settings=InstagramSettings(
        post_type="story")), [photo])
    posted = meta.ig_media[story.remote_id]
    container = meta.containers[posted.container]
    assert (container.params["media_type"], container.params["image_url"]) == ("STORIES", photo.public_url)
    assert "caption" not in container.params and posted.product == "STORY"
    assert {c.host for c in meta.calls_to("media")} == {"graph.instagram.com"}

    clip = media.payload("pour.mp4", mp4(), mimetype="video/mp4", kind="video", duration=12)
    reel = await adapter.publish(studio, Draft(text="Pour-over", settings=InstagramSettings(
        post_type="reel", share_to_feed=False)), [clip])
    assert meta.ig_media[reel.remote_id].share_to_feed is False
