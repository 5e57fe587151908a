"""Contract tests of the LinkedIn adapter against the fake LinkedIn, reached through origin overrides."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, time, timedelta

import httpx
import pytest

from bot.platforms.base import (
    AccessRevoked,
    AccountRef,
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
from bot.platforms.linkedin import ADAPTER
from bot.platforms.settings import LinkedInSettings
from bot.sandbox.fakes.linkedin import FakeLinkedIn
from bot.secret import Secret
from tests.fakes.media import make_pdf, media_payload, mp4, small_image
from tests.platform_fixtures import connect, consent_code, make_adapter, platform_fake_fixtures

REDIRECT_URI = "https://picmim.example/oauth/linkedin/callback"


platform_server, fake, http, adapter, tokens = platform_fake_fixtures(FakeLinkedIn, ADAPTER, REDIRECT_URI)


@pytest.fixture
async def accounts(adapter, tokens) -> dict[str, AccountRef]:
    """The connection's accounts by name, as the product stores them."""
    return {r.name: AccountRef("linkedin", r.external_id, r.kind, r.name, tokens.access_token, handle=r.handle,
                               settings=r.settings)
            for r in await adapter.list_accounts(tokens)}


@pytest.fixture
def profile(accounts) -> AccountRef:
    return accounts["Maria Lopez"]


@pytest.fixture
def page(accounts) -> AccountRef:
    return accounts["Acme Inc"]


def image_facts(**kw) -> MediaFacts:
    values = {"mimetype": "image/jpeg", "size_bytes": 300_000, "width": 1200, "height": 900,
              "filename": "photo.jpg"} | kw
    return MediaFacts(id="i", kind="image", **values)


def video_facts(**kw) -> MediaFacts:
    values = {"mimetype": "video/mp4", "size_bytes": 20_000_000, "width": 1280, "height": 720, "duration": 40.0,
              "filename": "clip.mp4"} | kw
    return MediaFacts(id="v", kind="video", **values)


# ---- OAuth ----------------------------------------------------------------------------------------


async def test_consent_then_tokens_that_say_when_they_expire(adapter, http, fake):
    url = httpx.URL(adapter.authorize_url("s1", None))
    assert (url.host, url.path) == ("www.linkedin.com", "/oauth/v2/authorization")
    assert set(url.params["scope"].split()) == {s.name for s in adapter.scopes}
    assert all(s.why for s in adapter.scopes) and "code_challenge" not in url.params

    tokens = await connect(adapter, http, REDIRECT_URI)
    member = fake.members["x7Yq2LmN0p"]
    assert (tokens.external_user_id, tokens.display_name) == (member["sub"], member["name"])
    assert set(tokens.scopes) == {s.name for s in adapter.scopes}
    # Without a refresh token the product must warn before this date and ask for a reconnect.
    assert tokens.refresh_token is None and adapter.refreshable is False
    lifetime = (tokens.expires_at - datetime.now(UTC)).total_seconds()
    assert fake.access_ttl - 60 < lifetime <= fake.access_ttl


async def test_without_refresh_tokens_refresh_says_reconnect(adapter, tokens, fake):
    before = len(fake.calls)
    with pytest.raises(TokenExpired) as expired:
        await adapter.refresh(tokens)
    assert "reconnect LinkedIn before it runs out" in expired.value.message
    assert len(fake.calls) == before  # nothing to ask LinkedIn


async def test_partner_apps_refresh_and_keep_the_refresh_tokens_first_expiry(adapter, http, fake):
    fake.issues_refresh_tokens = True
    tokens = await connect(adapter, http, REDIRECT_URI)
    assert tokens.refresh_token is not None
    assert abs((tokens.refresh_expires_at - datetime.now(UTC)).total_seconds() - fake.refresh_ttl) < 60
    renewed = await adapter.refresh(tokens)
    assert renewed.access_token != tokens.access_token and renewed.refresh_token == tokens.refresh_token
    assert renewed.refresh_expires_at <= tokens.refresh_expires_at + timedelta(seconds=2)
    assert (await adapter.list_accounts(renewed))[0].name == "Maria Lopez"
    fake.revoke()
    with pytest.raises(AccessRevoked) as refused:
        await adapter.refresh(renewed)
    assert "reconnect LinkedIn" in refused.value.message and "refresh token is invalid" in refused.value.detail


async def test_a_code_used_twice_or_wrong_app_credentials_are_refused(adapter, http, fake):
    code = await consent_code(adapter, http, REDIRECT_URI)
    await adapter.exchange_code(code, None)
    with pytest.raises(AccessRevoked) as refused:
        await adapter.exchange_code(code, None)
    assert "connect LinkedIn again" in refused.value.message
    wrong = make_adapter(ADAPTER, fake, http, REDIRECT_URI, secret="not-the-secret")
    with pytest.raises(PlatformError) as misconfigured:
        await wrong.exchange_code(await consent_code(wrong, http, REDIRECT_URI), None)
    assert "LINKEDIN_CLIENT_SECRET" in misconfigured.value.message


async def test_revoke_is_not_offered(adapter, tokens, fake):
    before = len(fake.calls)
    assert await adapter.revoke(tokens) is False
    assert len(fake.calls) == before


# ---- accounts -------------------------------------------------------------------------------------


async def test_accounts_are_the_profile_and_pages_with_a_way_out_for_non_admin_pages(adapter, tokens, fake):
    remote = {a.name: a for a in await adapter.list_accounts(tokens)}
    profile = remote["Maria Lopez"]
    assert (profile.kind, profile.external_id, profile.refusal) == ("profile", "urn:li:person:x7Yq2LmN0p", None)
    assert profile.avatar_url == fake.members["x7Yq2LmN0p"]["picture"]
    admin = remote["Acme Inc"]
    assert (admin.kind, admin.external_id, admin.handle, admin.refusal) == (
        "company", "urn:li:organization:1001", "acme", None)
    analyst = remote["Acme Labs"]
    assert "Admin role" in analyst.refusal and "analyst" in analyst.refusal
    assert set(remote) == {"Maria Lopez", "Acme Inc", "Acme Labs"}


async def test_every_administered_page_is_listed_past_the_first_page_of_results(adapter, tokens, fake):
    for n in range(120):
        fake.add_org(str(5000 + n), f"Brand {n}", f"brand-{n}", {"ADMINISTRATOR"})
    remote = await adapter.list_accounts(tokens)
    assert {f"Brand {n}" for n in range(120)} <= {a.name for a in remote}
    assert len(fake.calls_to("/rest/organizationAcls")) == 2


# ---- validation -----------------------------------------------------------------------------------


def problems(adapter, account, **draft) -> list[str]:
    return [p.message for p in adapter.validate(account, Draft(**({"text": "Hello"} | draft)))]


async def test_commentary_length_is_checked(adapter, profile):
    assert problems(adapter, profile, text="a" * 3000) == []
    assert problems(adapter, profile, text="a" * 3001) == [
        "LinkedIn counts this commentary as 3,001 of 3,000 characters: remove 1."]
    # Emoji take two units each, as LinkedIn's servers count.
    assert problems(adapter, profile, text="\U0001f600" * 1501) == [
        "LinkedIn counts this commentary as 3,002 of 3,000 characters: remove 2."]
    assert problems(adapter, profile, text="", link=None) == [
        "LinkedIn needs some text, a link, or a photo or video: write something."]
    assert problems(adapter, profile, first_comment="Sources below") == []  # a comment through the Comments API
    assert problems(adapter, profile, first_comment="a" * 1251) == [
        "LinkedIn counts this first comment as 1,251 of 1,250 characters: remove 1."]


async def test_every_media_limit_is_checked_with_a_fix(adapter, page):
    images = tuple(image_facts(filename=f"p{i}.jpg") for i in range(21))
    assert problems(adapter, page, media=images) == [
        "LinkedIn takes up to 20 images per post; this one has 21: remove 1."]
    assert problems(adapter, page, media=(image_facts(), video_facts())) == [
        "LinkedIn cannot mix photos and a video in one post: keep one kind."]
    assert problems(adapter, page, media=(video_facts(), video_facts(filename="b.mp4"))) == [
        "LinkedIn takes up to 1 video per post; this one has 2: remove 1."]
    webp = adapter.validate(page, Draft("Hi", media=(image_facts(mimetype="image/webp", filename="p.webp"),)))
    assert [(p.message, p.fixable) for p in webp] == [
        ("LinkedIn takes JPEG, PNG or GIF images only; p.webp is WebP: Picmim converts it to JPEG when it "
         "publishes.", True)]
    assert problems(adapter, page, media=(image_facts(mimetype="image/bmp", filename="scan.bmp"),)) == [
        "LinkedIn takes JPEG, PNG or GIF images only; scan.bmp is BMP: convert it to JPEG, PNG or GIF and attach "
        "it again."]
    assert problems(adapter, page, media=(image_facts(size_bytes=6_000_000),)) == [
        "LinkedIn takes images up to 5 MB; photo.jpg is 6 MB: attach a smaller file."]
    assert problems(adapter, page, media=(image_facts(width=8000, height=5000),)) == [
        "LinkedIn takes images under 36 megapixels; photo.jpg is 8000×5000: attach a smaller one."]
    assert problems(adapter, page, media=(video_facts(size_bytes=600_000_000),)) == [
        "LinkedIn takes videos up to 500 MB; clip.mp4 is 600 MB: Picmim lowers its bit rate to fit."]
    assert problems(adapter, page, media=(video_facts(size_bytes=50_000),)) == [
        "LinkedIn needs videos of at least 75 KB; clip.mp4 is 50 KB: attach a longer or better-quality one."]
    assert problems(adapter, page, media=(video_facts(duration=2.0),)) == [
        "LinkedIn needs videos of at least 3 s; clip.mp4 is 2 s: attach a longer one."]
    assert problems(adapter, page, media=(video_facts(duration=31 * 60.0),)) == [
        "LinkedIn takes videos up to 30 min; clip.mp4 is 31 min: trim it."]
    assert problems(adapter, page, media=(video_facts(width=1500, height=500),)) == [
        "LinkedIn needs an aspect ratio between 1:2.4 and 2.4:1: clip.mp4 is 3:1. Crop it and attach it again."]
    assert problems(adapter, page, media=(video_facts(mimetype="video/quicktime", filename="clip.mov"),)) == [
        "LinkedIn takes MP4 videos only; clip.mov is MOV: Picmim converts it to MP4 when it publishes."]
    assert problems(adapter, page, link="https://acme.com", media=(image_facts(),)) == [
        "LinkedIn shows either a link preview or photos and videos, not both: remove the link (or put it in the "
        "text), or remove the media."]


async def test_visibility_connections_only_is_for_profiles(adapter, profile, page):
    connections = LinkedInSettings(visibility="CONNECTIONS")
    assert adapter.validate(profile, Draft("Hi", settings=connections)) == []
    assert adapter.validate(page, Draft("Hi", settings=LinkedInSettings())) == []
    (problem,) = adapter.validate(page, Draft("Hi", settings=connections))
    assert (problem.field, problem.message) == (
        "visibility", "Company pages post to anyone: Connections only is for profiles.")
    (unknown,) = adapter.validate(profile, Draft("Hi", settings=LinkedInSettings(visibility="LOGGED_IN")))
    assert unknown.field == "visibility"


async def test_alt_text_is_checked_against_linkedins_limit(adapter, page):
    assert problems(adapter, page, media=(image_facts(alt_text="a" * 4086),)) == []
    (problem,) = adapter.validate(page, Draft("Hi", media=(image_facts(alt_text="a" * 4087),)))
    assert (problem.field, problem.message) == (
        "alt_text", "LinkedIn takes alt text up to 4,086 characters; the one for photo.jpg is longer: shorten it.")


# ---- publishing -----------------------------------------------------------------------------------


async def test_a_text_post_reads_as_written_with_its_hashtags(adapter, profile, fake):
    text = "Launch day (finally)! Read the *notes* at acme_docs [v2] <beta> ~ 50% off #Launch2026 #acme_news @team"
    result = await adapter.publish(profile, Draft(text), [])
    post = fake.posts[result.remote_id]
    assert post["shown_text"] == text
    assert post["author"] == profile.external_id
    assert result.url == f"https://www.linkedin.com/feed/update/{result.remote_id}/"


async def test_every_versioned_call_carries_the_version_and_protocol_headers(adapter, profile, fake):
    await adapter.publish(profile, Draft("Headers"), [media_payload(small_image(), "image/jpeg")])
    rest_calls = [c for c in fake.calls if c.path.startswith("/rest/")]
    assert rest_calls
    assert all(c.headers.get("LinkedIn-Version") in fake.active_versions for c in rest_calls)
    assert all(c.headers.get("X-Restli-Protocol-Version") == "2.0.0" for c in rest_calls)


async def test_a_retired_api_version_is_an_admin_problem(adapter, profile, fake):
    fake.active_versions = {"209912"}
    with pytest.raises(PlatformError) as retired:
        await adapter.publish(profile, Draft("Hello"), [])
    assert "API version" in retired.value.message and "is not active" in retired.value.detail


async def test_a_page_post_with_one_photo_and_alt_text(adapter, page, fake):
    photo = small_image("PNG", (300, 200))
    result = await adapter.publish(page, Draft("New office"), [media_payload(photo, "image/png",
                                                                             alt_text="Our new office")])
    post = fake.posts[result.remote_id]
    assert post["author"] == "urn:li:organization:1001"
    media = post["body"]["content"]["media"]
    assert media["altText"] == "Our new office"
    assert fake.images[media["id"]] == {"owner": "urn:li:organization:1001", "data": photo}


async def test_visibility_goes_in_the_post_body(adapter, profile, page, fake):
    mine = await adapter.publish(profile, Draft("Connections only", settings=LinkedInSettings("CONNECTIONS")), [])
    anyone = await adapter.publish(page, Draft("Anyone", settings=LinkedInSettings("PUBLIC")), [])
    plain = await adapter.publish(profile, Draft("No settings"), [])
    assert [fake.posts[r.remote_id]["body"]["visibility"] for r in (mine, anyone, plain)] == [
        "CONNECTIONS", "PUBLIC", "PUBLIC"]


async def test_linkedin_refuses_connections_only_for_a_page_on_that_field(adapter, page, fake):
    with pytest.raises(ContentRejected) as rejected:
        await adapter.publish(page, Draft("Hi", settings=LinkedInSettings("CONNECTIONS")), [])
    assert rejected.value.field == "visibility" and "CONNECTIONS" in rejected.value.detail
    assert fake.posts == {}


async def test_each_photo_of_a_multi_image_post_has_its_alt_text(adapter, page, fake):
    photos = [media_payload(small_image(color=(60 * i, 90, 90)), "image/jpeg", alt_text=alt)
              for i, alt in enumerate(["Front door", None, "Meeting room"])]
    result = await adapter.publish(page, Draft("Tour"), photos)
    images = fake.posts[result.remote_id]["body"]["content"]["multiImage"]["images"]
    assert [i.get("altText") for i in images] == ["Front door", None, "Meeting room"]


async def test_several_photos_make_a_multi_image_post_in_order(adapter, page, fake):
    photos = [small_image(color=(40 * i, 90, 90)) for i in range(3)]
    result = await adapter.publish(page, Draft("Team"), [media_payload(p, "image/jpeg") for p in photos])
    ids = [i["id"] for i in fake.posts[result.remote_id]["body"]["content"]["multiImage"]["images"]]
    assert [fake.images[i]["data"] for i in ids] == photos


async def test_a_video_is_uploaded_in_the_parts_linkedin_asks_for_then_posted(adapter, page, fake):
    fake.video_part_size = 100_000
    fake.processing_polls = 2
    video = mp4(250_000, noise=True)
    result = await adapter.publish(page, Draft("Watch", title="Our story"),
                                   [media_payload(video, "video/mp4", duration=12.0, chunk=64_000)])
    media = fake.posts[result.remote_id]["body"]["content"]["media"]
    uploaded = fake.videos[media["id"]]
    assert b"".join(uploaded.parts[n] for n in sorted(uploaded.parts)) == video
    assert len(uploaded.parts) == 3 and media["title"] == "Our story"
    assert len(fake.calls_to("/rest/videos/", "GET")) == 3


async def test_a_video_linkedin_cannot_process_is_rejected(adapter, page, fake):
    fake.fail_processing = True
    with pytest.raises(ContentRejected) as rejected:
        await adapter.publish(page, Draft("Watch"), [media_payload(mp4(120_000, noise=True), "video/mp4")])
    assert rejected.value.field == "media" and rejected.value.detail == "VIDEO_ENCODING_FAILED"
    assert fake.posts == {}


def document_facts(**kw) -> MediaFacts:
    values = {"mimetype": "application/pdf", "size_bytes": 2_000_000, "filename": "deck.pdf", "pages": 12} | kw
    return MediaFacts(id="d", kind="document", **values)


async def test_a_document_needs_its_title_and_goes_alone_within_linkedins_limits(adapter, profile):
    titled = LinkedInSettings(document_title="Our deck")
    assert problems(adapter, profile, media=(document_facts(),), settings=titled) == []
    assert problems(adapter, profile, media=(document_facts(),)) == [
        "LinkedIn shows a document post with its title: add a Document title."]
    assert problems(adapter, profile, media=(document_facts(pages=301),), settings=titled) == [
        "LinkedIn takes documents of up to 300 pages; deck.pdf has 301: remove 1 page or split it."]
    assert problems(adapter, profile, media=(document_facts(size_bytes=105_000_000),), settings=titled) == [
        "LinkedIn takes documents up to 100 MB; deck.pdf is 105 MB: attach a smaller file."]
    assert problems(adapter, profile, media=(document_facts(), image_facts()), settings=titled) == [
        "LinkedIn shows a document on its own, without photos or videos: remove them, or post them separately."]


async def test_a_document_post_uploads_the_pdf_then_shows_it_under_its_title(adapter, profile, fake):
    fake.processing_polls = 1
    pdf = make_pdf(pages=3)
    result = await adapter.publish(profile, Draft("Our year", settings=LinkedInSettings(document_title="2026")),
                                   [media_payload(pdf, "application/pdf", kind="document", filename="year.pdf")])
    media = fake.posts[result.remote_id]["body"]["content"]["media"]
    assert media["title"] == "2026" and fake.documents[media["id"]]["data"] == pdf
    assert len(fake.calls_to("/rest/documents/", "GET")) == 2, "waited until LinkedIn had processed it"


async def test_a_document_linkedin_cannot_open_is_rejected(adapter, profile, fake):
    with pytest.raises(ContentRejected) as rejected:
        await adapter.publish(profile, Draft("Deck", settings=LinkedInSettings(document_title="Deck")),
                              [media_payload(make_pdf(pages=301), "application/pdf", kind="document")])
    assert rejected.value.field == "media" and "could not open this PDF" in rejected.value.message
    assert fake.posts == {}


async def test_a_link_post_shows_a_preview(adapter, profile, fake):
    result = await adapter.publish(profile, Draft("Read this", link="https://acme.com/blog/launch",
                                                  title="Our launch", description="What is new"), [])
    article = fake.posts[result.remote_id]["body"]["content"]["article"]
    assert article == {"source": "https://acme.com/blog/launch", "title": "Our launch", "description": "What is new"}


async def test_a_page_the_member_does_not_administer_is_refused_with_the_way_out(adapter, accounts, fake):
    labs = accounts["Acme Labs"]
    with pytest.raises(AccessRevoked) as refused:
        await adapter.publish(labs, Draft("Hello"), [])
    assert refused.value.reason is RevokeReason.ADMIN_RIGHTS_LOST
    assert "Acme Labs" in refused.value.message and "Admin role" in refused.value.message
    assert fake.posts == {}


# ---- metrics --------------------------------------------------------------------------------------


async def test_page_metrics_have_share_statistics_and_followers(adapter, page, fake):
    first = await adapter.publish(page, Draft("One"), [])
    second = await adapter.publish(page, Draft("Two"), [])
    fake.share_stats["urn:li:organization:1001"] = {"impressionCount": 5400, "uniqueImpressionsCount": 3100,
                                                    "clickCount": 210, "likeCount": 95, "commentCount": 12,
                                                    "shareCount": 7, "engagement": 0.0603}
    fake.share_stats[first.remote_id] = {"impressionCount": 800, "clickCount": 30, "likeCount": 11,
                                         "commentCount": 2, "shareCount": 1, "engagement": 0.055}
    fake.followers["1001"] = 2450
    fake.follower_gains["1001"] = [{"organicFollowerGain": 4, "paidFollowerGain": 1},
                                   {"organicFollowerGain": 6, "paidFollowerGain": 0}]
    metrics = await adapter.fetch_metrics(page, [first.remote_id, second.remote_id])
    assert metrics.account == {**fake.share_stats["urn:li:organization:1001"], "followerCount": 2450,
                               "organicFollowerGain": 10, "paidFollowerGain": 1}
    assert metrics.posts[first.remote_id] == fake.share_stats[first.remote_id]
    assert metrics.posts[second.remote_id] == {}


async def test_profile_metrics_are_the_member_post_analytics(adapter, profile, fake):
    post = await adapter.publish(profile, Draft("Mine"), [])
    fake.member_stats |= {("me", "IMPRESSION"): 1200, ("me", "REACTION"): 40,
                          (post.remote_id, "IMPRESSION"): 300, (post.remote_id, "COMMENT"): 5}
    metrics = await adapter.fetch_metrics(profile, [post.remote_id])
    assert metrics.account == {"IMPRESSION": 1200, "MEMBERS_REACHED": 0, "RESHARE": 0, "REACTION": 40, "COMMENT": 0}
    assert metrics.posts[post.remote_id] == {"IMPRESSION": 300, "MEMBERS_REACHED": 0, "RESHARE": 0, "REACTION": 0,
                                             "COMMENT": 5}
    assert not any(c.path.startswith("/rest/organizationalEntity") for c in fake.calls)


def ugc_post(fake, author: str = "urn:li:person:x7Yq2LmN0p") -> str:
    """A post LinkedIn names with a ugcPost URN (made elsewhere, e.g. in LinkedIn's own app)."""
    post_urn = "urn:li:ugcPost:7300000000000000001"
    fake.posts[post_urn] = {"author": author, "shown_text": "Made in LinkedIn", "body": {}}
    return post_urn


async def test_member_post_analytics_name_ugc_posts_as_ugc_and_shares_as_share(adapter, profile, fake):
    share = (await adapter.publish(profile, Draft("Mine"), [])).remote_id
    ugc = ugc_post(fake)
    fake.member_stats |= {(share, "IMPRESSION"): 300, (ugc, "IMPRESSION"): 700, (ugc, "REACTION"): 9}
    metrics = await adapter.fetch_metrics(profile, [share, ugc])
    assert metrics.posts[share]["IMPRESSION"] == 300
    assert (metrics.posts[ugc]["IMPRESSION"], metrics.posts[ugc]["REACTION"]) == (700, 9)
    entities = {c.query.get("entity") for c in fake.calls_to("/rest/memberCreatorPostAnalytics")} - {None}
    # The union keys, with the URN inside percent-encoded (Rest.li 2.0).
    assert entities == {f"(share:{share})", f"(ugc:{ugc})"}
    raw = [c.raw_query for c in fake.calls_to("/rest/memberCreatorPostAnalytics") if "entity=" in c.raw_query]
    assert all("urn%3Ali%3A" in q for q in raw) and not any("ugcPost:" in q.split("entity=")[1][:8] for q in raw)


async def test_one_post_without_analytics_does_not_lose_the_others(adapter, profile, fake):
    mine = (await adapter.publish(profile, Draft("Mine"), [])).remote_id
    theirs = ugc_post(fake, author="urn:li:person:someoneElse")  # LinkedIn answers 403 for it
    fake.member_stats |= {("me", "IMPRESSION"): 1200, (mine, "IMPRESSION"): 300}
    metrics = await adapter.fetch_metrics(profile, [theirs, mine])
    assert metrics.account["IMPRESSION"] == 1200
    assert metrics.posts[mine]["IMPRESSION"] == 300 and theirs not in metrics.posts


async def test_a_rate_limit_on_one_post_still_stops_the_fetch(adapter, profile, fake):
    mine = (await adapter.publish(profile, Draft("Mine"), [])).remote_id
    fake.throttled_analytics.add(mine)
    with pytest.raises(RateLimited):
        await adapter.fetch_metrics(profile, [mine])


async def test_page_statistics_need_the_admin_permission_and_say_so(adapter, tokens, fake):
    """A grant without rw_organization_admin (one made when Picmim asked for r_organization_admin) lists the
    pages but reads no statistics: the member is still an administrator, so reconnecting is the way out."""
    access, _ = fake.issue_tokens("x7Yq2LmN0p", frozenset({"openid", "profile", "w_organization_social",
                                                            "r_organization_admin"}), with_refresh=False)
    old = dataclasses.replace(tokens, access_token=Secret(access))
    acme = next(r for r in await adapter.list_accounts(old) if r.name == "Acme Inc")
    ref = AccountRef("linkedin", acme.external_id, acme.kind, acme.name, old.access_token, settings=acme.settings)
    with pytest.raises(AccessRevoked) as refused:
        await adapter.fetch_metrics(ref, [])
    assert refused.value.reason is RevokeReason.PERMISSION_REMOVED
    assert "reconnect LinkedIn" in refused.value.message and "Admin role" not in refused.value.message
    assert "rw_organization_admin" in {s.name for s in adapter.scopes}
    assert "r_organization_admin" not in {s.name for s in adapter.scopes}


async def test_statistics_of_a_page_no_longer_administered_are_refused(adapter, page, fake):
    fake.acls.clear()  # the member lost every role on the page
    with pytest.raises(AccessRevoked) as refused:
        await adapter.fetch_metrics(page, [])
    assert refused.value.reason is RevokeReason.ADMIN_RIGHTS_LOST and "Acme Inc" in refused.value.message


# ---- the error family -----------------------------------------------------------------------------


async def test_an_expired_token_is_token_expired(adapter, profile, fake):
    fake.expire()
    with pytest.raises(TokenExpired) as expired:
        await adapter.publish(profile, Draft("Hello"), [])
    assert "reconnect LinkedIn" in expired.value.message and "expired" in expired.value.detail


async def test_a_member_who_withdrew_the_app_is_access_revoked(adapter, profile, fake):
    fake.revoke()
    with pytest.raises(AccessRevoked) as revoked:
        await adapter.publish(profile, Draft("Hello"), [])
    assert revoked.value.reason is RevokeReason.APP_REMOVED
    assert "revoked by the user" in revoked.value.detail


async def test_a_missing_permission_is_access_revoked(adapter, http, fake):
    fake.consent_as("x7Yq2LmN0p", scopes={"openid", "profile", "rw_organization_admin"})
    tokens = await connect(adapter, http, REDIRECT_URI)
    (me, *_) = await adapter.list_accounts(tokens)
    ref = AccountRef("linkedin", me.external_id, me.kind, me.name, tokens.access_token)
    with pytest.raises(AccessRevoked) as refused:
        await adapter.publish(ref, Draft("Hello"), [])
    assert refused.value.reason is RevokeReason.PERMISSION_REMOVED


async def test_the_daily_limit_waits_until_midnight_utc(adapter, profile, fake):
    fake.rate_limit("/rest/posts")
    with pytest.raises(RateLimited) as limited:
        await adapter.publish(profile, Draft("Hello"), [])
    now = datetime.now(UTC)
    midnight = datetime.combine(now.date() + timedelta(days=1), time(0), tzinfo=UTC)
    assert abs(limited.value.retry_after - (midnight - now).total_seconds()) < 5
    assert "midnight UTC" in limited.value.message and "DAY limit" in limited.value.detail


async def test_duplicates_and_over_long_commentary_are_rejected_with_linkedin_reason(adapter, profile, fake):
    await adapter.publish(profile, Draft("Same words"), [])
    with pytest.raises(ContentRejected) as duplicate:
        await adapter.publish(profile, Draft("Same words"), [])
    assert duplicate.value.field == "text" and "duplicate" in duplicate.value.detail
    with pytest.raises(ContentRejected) as too_long:
        await adapter.publish(profile, Draft("b" * 3001), [])  # validation skipped: LinkedIn itself refuses
    assert too_long.value.field == "text" and "/commentary" in too_long.value.detail


async def test_server_errors_are_transient(adapter, profile, fake):
    fake.fail("/rest/posts", status=500)
    with pytest.raises(Transient):
        await adapter.publish(profile, Draft("Hello"), [])
    fake.fail("/rest/images", status=503)
    with pytest.raises(Transient):
        await adapter.publish(profile, Draft("Hi"), [media_payload(small_image(), "image/jpeg")])


async def test_a_timeout_after_sending_a_post_is_outcome_unknown(adapter, profile, fake, http):
    http.timeout = httpx.Timeout(0.5)
    fake.stall("/rest/posts", method="POST")
    with pytest.raises(OutcomeUnknown):
        await adapter.publish(profile, Draft("Did it go?"), [])
    assert [p["shown_text"] for p in fake.posts.values()] == ["Did it go?"]


async def test_a_wrong_token_is_token_expired(adapter, profile):
    stranger = AccountRef("linkedin", profile.external_id, "profile", profile.name, Secret("not-a-token"))
    with pytest.raises(TokenExpired) as expired:
        await adapter.publish(stranger, Draft("Hello"), [])
    assert "Invalid access token" in expired.value.detail


# ---- the fake answers as LinkedIn does --------------------------------------------------------------


async def test_the_fake_refuses_what_linkedin_refuses(http, tokens, fake):
    auth = {"Authorization": f"Bearer {tokens.access_token.reveal()}"}
    versioned = auth | {"LinkedIn-Version": "202601", "X-Restli-Protocol-Version": "2.0.0"}
    post = {"author": "urn:li:person:x7Yq2LmN0p", "commentary": "Hi", "visibility": "PUBLIC",
            "distribution": {"feedDistribution": "MAIN_FEED"}, "lifecycleState": "PUBLISHED"}
    no_version = await http.post("https://api.linkedin.com/rest/posts", headers=auth, json=post)
    assert no_version.status_code == 400 and no_version.json()["code"] == "VERSION_MISSING"
    no_protocol = await http.post("https://api.linkedin.com/rest/posts", json=post,
                                  headers=auth | {"LinkedIn-Version": "202601"})
    assert no_protocol.status_code == 400
    encoded = await http.get("https://api.linkedin.com/rest/organizations", params={"ids": "List(1001)"},
                             headers=versioned)
    assert encoded.status_code == 400  # Rest.li syntax must not be percent-encoded
    started = await http.post("https://api.linkedin.com/rest/videos?action=initializeUpload", headers=versioned,
                              json={"initializeUploadRequest": {"owner": "urn:li:person:x7Yq2LmN0p",
                                                                "fileSizeBytes": 1000}})
    video = started.json()["value"]["video"]
    not_finalized = await http.post("https://api.linkedin.com/rest/posts", headers=versioned,
                                    json=post | {"content": {"media": {"id": video}}})
    assert not_finalized.status_code == 400 and "AVAILABLE" in not_finalized.json()["message"]
    page_connections = await http.post("https://api.linkedin.com/rest/posts", headers=versioned,
                                       json=post | {"author": "urn:li:organization:1001",
                                                    "visibility": "CONNECTIONS"})
    assert page_connections.status_code == 422 and "/visibility" in page_connections.json()["message"]
    unknown = await http.post("https://api.linkedin.com/rest/posts", headers=versioned,
                              json=post | {"visibility": "FRIENDS"})
    assert unknown.status_code == 422
    image = (await http.post("https://api.linkedin.com/rest/images?action=initializeUpload", headers=versioned,
                             json={"initializeUploadRequest": {"owner": "urn:li:person:x7Yq2LmN0p"}})).json()
    await http.put(image["value"]["uploadUrl"], headers=auth, content=small_image())
    long_alt = await http.post("https://api.linkedin.com/rest/posts", headers=versioned, json=post | {
        "content": {"media": {"id": image["value"]["image"], "altText": "a" * 4087}}})
    assert long_alt.status_code == 400 and "altText" in long_alt.json()["message"]
    assert fake.posts == {}
    for_labs = await http.post("https://api.linkedin.com/rest/posts", headers=versioned,
                               json=post | {"author": "urn:li:organization:1002"})
    assert for_labs.status_code == 403 and for_labs.json()["code"] == "ACCESS_DENIED"


async def test_a_link_in_the_text_that_cannot_be_read_leaves_a_text_post_and_says_so(adapter, fake, profile):
    text = "Our intranet has the details: http://10.1.2.3/launch"
    result = await adapter.publish(profile, Draft(text=text), [])
    body = fake.posts[result.remote_id]["body"]
    assert "content" not in body and body["commentary"] == text
    [warning] = result.warnings
    assert "without a link preview" in warning and "private or local" in warning
