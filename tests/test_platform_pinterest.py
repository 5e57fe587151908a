"""Contract tests of the Pinterest adapter against the fake Pinterest, reached through origin overrides."""

from __future__ import annotations

import base64
from datetime import UTC, datetime

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
from bot.platforms.pinterest import ADAPTER, DEFAULT_RETRY_AFTER
from bot.platforms.settings import PinterestSettings
from bot.sandbox.fakes.pinterest import UPLOAD_HOST, FakePinterest
from bot.secret import Secret
from tests.fakes.media import media_payload, mp4, small_image
from tests.platform_fixtures import connect, consent_code, make_adapter, platform_fake_fixtures

REDIRECT_URI = "https://picmim.example/oauth/pinterest/callback"
PUBLIC = "https://picmim.example/media"


platform_server, fake, http, adapter, tokens = platform_fake_fixtures(FakePinterest, ADAPTER, REDIRECT_URI)


@pytest.fixture
async def account(adapter, tokens) -> AccountRef:
    (remote,) = await adapter.list_accounts(tokens)
    return AccountRef("pinterest", remote.external_id, remote.kind, remote.name, tokens.access_token,
                      handle=remote.handle, settings=remote.settings)


def published_image(fake, data: bytes, name: str = "pin.jpg", **kw):
    """An attachment served at Picmim's public URL, where Pinterest fetches it."""
    url = f"{PUBLIC}/{name}"
    fake.public_files[url] = data
    mimetype = "image/png" if name.endswith(".png") else "image/jpeg"
    return media_payload(data, mimetype, filename=name, public_url=url, **kw)


def image_facts(**kw) -> MediaFacts:
    values = {"mimetype": "image/jpeg", "size_bytes": 300_000, "width": 1000, "height": 1500,
              "filename": "pin.jpg"} | kw
    return MediaFacts(id="i", kind="image", **values)


def video_facts(**kw) -> MediaFacts:
    values = {"mimetype": "video/mp4", "size_bytes": 30_000_000, "width": 1080, "height": 1920, "duration": 20.0,
              "filename": "clip.mp4"} | kw
    return MediaFacts(id="v", kind="video", **values)


# ---- OAuth ----------------------------------------------------------------------------------------


async def test_consent_then_tokens_with_a_continuous_refresh_token(adapter, http, fake):
    url = httpx.URL(adapter.authorize_url("s1", None))
    assert (url.host, url.path) == ("www.pinterest.com", "/oauth/")
    assert url.params["scope"].split(",") == [s.name for s in adapter.scopes]
    assert all(s.why for s in adapter.scopes)

    tokens = await connect(adapter, http, REDIRECT_URI)
    account = fake.accounts["549755885175"]
    assert (tokens.external_user_id, tokens.display_name) == (account["id"], account["business_name"])
    assert tokens.refresh_token.reveal() in fake.refresh_tokens
    assert abs((tokens.expires_at - datetime.now(UTC)).total_seconds() - fake.access_ttl) < 60
    assert abs((tokens.refresh_expires_at - datetime.now(UTC)).total_seconds() - fake.refresh_ttl) < 60
    exchange = fake.calls_to("/v5/oauth/token")[-1]
    assert exchange.basic_auth() == (fake.client_id, fake.client_secret)
    assert exchange.form()["continuous_refresh"] == "true"


async def test_refresh_keeps_the_rotated_refresh_token(adapter, tokens, fake):
    renewed = await adapter.refresh(tokens)
    assert renewed.refresh_token != tokens.refresh_token and renewed.access_token != tokens.access_token
    with pytest.raises(AccessRevoked):
        await adapter.refresh(tokens)  # the old one was spent
    again = await adapter.refresh(renewed)
    assert again.refresh_token not in (tokens.refresh_token, renewed.refresh_token)


async def test_a_refused_refresh_means_reconnect(adapter, tokens, fake):
    fake.revoke()
    with pytest.raises(AccessRevoked) as refused:
        await adapter.refresh(tokens)
    assert "connect Pinterest again" in refused.value.message and "Invalid refresh token" in refused.value.detail


async def test_wrong_app_credentials_are_an_admin_problem(fake, http):
    wrong = make_adapter(ADAPTER, fake, http, REDIRECT_URI, secret="nope")
    with pytest.raises(PlatformError) as misconfigured:
        await wrong.exchange_code(await consent_code(wrong, http, REDIRECT_URI), None)
    assert "PINTEREST_CLIENT_SECRET" in misconfigured.value.message


async def test_revoke_is_not_offered(adapter, tokens, fake):
    before = len(fake.calls)
    assert await adapter.revoke(tokens) is False
    assert len(fake.calls) == before


# ---- accounts -------------------------------------------------------------------------------------


async def test_a_business_account_comes_with_its_boards_and_a_default_board(adapter, tokens, fake):
    (remote,) = await adapter.list_accounts(tokens)
    owner = fake.accounts["549755885175"]
    assert (remote.kind, remote.name, remote.handle, remote.refusal) == (
        "business", owner["business_name"], owner["username"], None)
    assert remote.followers_count == owner["follower_count"]
    assert [b["name"] for b in remote.settings["boards"]] == ["Spring collection", "Behind the scenes"]
    assert remote.settings["default_board_id"] == remote.settings["boards"][0]["id"] == "1020304050"


async def test_every_board_is_listed_past_the_first_page(adapter, tokens, fake):
    for n in range(300):
        fake.add_board("549755885175", str(2_000_000 + n), f"Board {n}")
    (remote,) = await adapter.list_accounts(tokens)
    assert len(remote.settings["boards"]) == 302
    assert len(fake.calls_to("/v5/boards")) == 2


async def test_a_personal_account_is_refused_with_the_way_out(adapter, http, fake):
    fake.add_account("111", "jane", None, "PINNER")
    fake.consent_as("111")
    tokens = await connect(adapter, http, REDIRECT_URI)
    (remote,) = await adapter.list_accounts(tokens)
    assert "free business account" in remote.refusal and "reconnect Pinterest" in remote.refusal
    assert not fake.calls_to("/v5/boards")


# ---- validation -----------------------------------------------------------------------------------


def problems(adapter, account, **draft) -> list[str]:
    defaults = {"text": "Fresh spring looks", "media": (image_facts(),)}
    return [p.message for p in adapter.validate(account, Draft(**(defaults | draft)))]


async def test_every_text_limit_is_checked_with_a_fix(adapter, account):
    assert problems(adapter, account) == []
    assert problems(adapter, account, title="t" * 101) == [
        "Pinterest counts this title as 101 of 100 characters: remove 1."]
    assert problems(adapter, account, text="d" * 801) == [
        "Pinterest counts this description as 801 of 800 characters: remove 1."]
    # A separate description is what the pin shows, so the limit is checked on it, not on the text.
    assert problems(adapter, account, text="d" * 900, description="Short") == []
    assert problems(adapter, account, description="d" * 801) == [
        "Pinterest counts this description as 801 of 800 characters: remove 1."]
    link = "https://acme.com/" + "p" * 2032
    assert problems(adapter, account, link=link) == ["Pinterest counts this link as 2,049 of 2,048 characters: "
                                                     "remove 1."]
    assert problems(adapter, account, link="acme.com/spring") == [
        "Pinterest needs the pin's link to be a full web address starting with https://: fix the link."]
    assert problems(adapter, account, media=(image_facts(alt_text="a" * 501),)) == [
        "Pinterest takes alt text up to 500 characters; the one for pin.jpg is longer: shorten it."]


async def test_every_media_limit_and_the_board_are_checked(adapter, account):
    assert problems(adapter, account, media=()) == ["Pinterest posts need a photo or a video: attach one."]
    assert problems(adapter, account, media=(image_facts(), image_facts(filename="b.jpg"))) == [], "a pin of 2"
    assert problems(adapter, account, media=tuple(image_facts(filename=f"{n}.jpg") for n in range(6))) == [
        "Pinterest takes up to 5 images per post; this one has 6: remove 1."]
    assert problems(adapter, account, media=(image_facts(), video_facts())) == [
        "Pinterest cannot mix photos and a video in one post: keep one kind."]
    webp = adapter.validate(account, Draft("Hi", media=(image_facts(mimetype="image/webp", filename="p.webp"),)))
    assert [(p.message, p.fixable) for p in webp] == [
        ("Pinterest takes JPEG or PNG images only; p.webp is WebP: Picmim converts it to JPEG when it publishes.",
         True)]
    assert problems(adapter, account, media=(image_facts(mimetype="image/gif", filename="a.gif"),)) == [
        "Pinterest takes JPEG or PNG images only; a.gif is GIF: convert it to JPEG or PNG and attach it again."]
    assert problems(adapter, account, media=(video_facts(duration=3.0),)) == [
        "Pinterest needs videos of at least 4 s; clip.mp4 is 3 s: attach a longer one."]
    assert problems(adapter, account, media=(video_facts(duration=16 * 60.0),)) == [
        "Pinterest takes videos up to 15 min; clip.mp4 is 16 min: trim it."]
    assert problems(adapter, account, media=(video_facts(size_bytes=2_100_000_000),)) == [
        "Pinterest takes videos up to 2 GB; clip.mp4 is 2.1 GB: Picmim lowers its bit rate to fit."]
    no_board = AccountRef("pinterest", account.external_id, account.kind, account.name, account.user_token,
                          settings={"boards": [], "default_board_id": None})
    assert problems(adapter, no_board) == [
        "Pinterest puts every pin on a board: pick a board for this account (create one on Pinterest first if it "
        "has none, then refresh the account)."]
    assert problems(adapter, account, options={"board_id": "999"}) == [
        "The board picked for this pin is no longer on Pinterest: refresh the account and pick another board."]
    assert problems(adapter, account, options={"board_id": "1020304051"}) == []


# ---- publishing -----------------------------------------------------------------------------------


async def test_an_image_pin_by_url_on_the_default_board(adapter, account, fake):
    photo = small_image(size=(200, 300))
    draft = Draft("Our spring collection is in", title="Spring 2026", link="https://acme.com/spring")
    result = await adapter.publish(account, draft, [published_image(fake, photo, alt_text="Three jackets")])
    pin = fake.pins[result.remote_id]
    assert (pin["board_id"], pin["title"], pin["description"], pin["link"], pin["alt_text"]) == (
        account.settings["default_board_id"], "Spring 2026", "Our spring collection is in", "https://acme.com/spring",
        "Three jackets")
    assert fake.pin_media[result.remote_id] == photo
    assert result.url == f"https://www.pinterest.com/pin/{result.remote_id}/"


async def test_a_pin_on_another_board_and_without_a_public_url(adapter, account, fake):
    photo = small_image("PNG")
    result = await adapter.publish(account, Draft("Behind the scenes", options={"board_id": "1020304051"}),
                                   [media_payload(photo, "image/png")])
    pin = fake.pins[result.remote_id]
    assert pin["board_id"] == "1020304051" and fake.pin_media[result.remote_id] == photo
    sent = fake.calls_to("/v5/pins")[-1].json()["media_source"]
    assert sent["source_type"] == "image_base64" and base64.b64decode(sent["data"]) == photo


async def test_an_image_pinterest_cannot_fetch_is_rejected(adapter, account, fake):
    payload = media_payload(small_image(), "image/jpeg", public_url=f"{PUBLIC}/gone.jpg")
    with pytest.raises(ContentRejected) as rejected:
        await adapter.publish(account, Draft("Hi"), [payload])
    assert rejected.value.field == "media" and "could not fetch the image" in rejected.value.detail


async def test_a_video_pin_goes_through_the_media_upload(adapter, account, fake):
    fake.processing_polls = 2
    video = mp4(700_000, noise=True)
    result = await adapter.publish(account, Draft("Watch", title="Making of"),
                                   [media_payload(video, "video/mp4", duration=15.0)])
    pin = fake.pins[result.remote_id]
    assert pin["media"]["media_type"] == "video" and fake.pin_media[result.remote_id] == video
    upload = [c for c in fake.calls if c.host == UPLOAD_HOST][-1]
    assert upload.headers["Content-Length"] == str(len(upload.body)) and "Authorization" not in upload.headers
    assert len(fake.calls_to("/v5/media/", "GET")) == 3


async def test_a_video_pin_uses_the_chosen_cover_frame_in_whole_seconds(adapter, account, fake):
    fake.processing_polls = 0
    result = await adapter.publish(account, Draft("Watch", options={"video_cover_timestamp_ms": 7400}),
                                   [media_payload(mp4(50_000, noise=True), "video/mp4", duration=15.0)])
    assert fake.pins[result.remote_id]["media"]["cover_image_key_frame_time"] == 7


async def test_a_pin_of_several_pictures_by_url_and_as_bytes(adapter, account, fake):
    photos = [small_image(size=(200 + n, 300)) for n in range(3)]
    result = await adapter.publish(account, Draft("Three jackets", title="Jackets"),
                                   [published_image(fake, p, f"p{n}.jpg", alt_text="Jackets" if n == 0 else None)
                                    for n, p in enumerate(photos)])
    pin = fake.pins[result.remote_id]
    assert pin["media"]["media_type"] == "multiple_images" and len(pin["media"]["items"]) == 3
    assert pin["alt_text"] == "Jackets"
    sent = fake.calls_to("/v5/pins")[-1].json()["media_source"]
    assert sent["source_type"] == "multiple_image_urls" and [i["url"] for i in sent["items"]] == [
        f"{PUBLIC}/p{n}.jpg" for n in range(3)]

    pngs = [small_image("PNG"), small_image("PNG", size=(120, 90))]
    await adapter.publish(account, Draft("Swatches"), [media_payload(p, "image/png") for p in pngs])
    sent = fake.calls_to("/v5/pins")[-1].json()["media_source"]
    assert sent["source_type"] == "multiple_image_base64"
    assert [base64.b64decode(i["data"]) for i in sent["items"]] == pngs


async def test_a_video_pinterest_cannot_process_is_rejected(adapter, account, fake):
    fake.fail_processing = True
    with pytest.raises(ContentRejected) as rejected:
        await adapter.publish(account, Draft("Watch"), [media_payload(mp4(50_000, noise=True), "video/mp4")])
    assert rejected.value.field == "media" and fake.pins == {}


async def test_a_board_gone_from_pinterest_is_rejected_with_the_way_out(adapter, account, fake):
    del fake.boards[account.settings["default_board_id"]]
    with pytest.raises(ContentRejected) as rejected:
        await adapter.publish(account, Draft("Hi"), [published_image(fake, small_image())])
    assert rejected.value.field == "board_id" and "pick another board" in rejected.value.message
    assert rejected.value.detail == "Board not found."


async def test_a_pin_without_a_board_is_never_sent(adapter, account, fake):
    no_board = AccountRef("pinterest", account.external_id, account.kind, account.name, account.user_token,
                          settings={"boards": []})
    with pytest.raises(ContentRejected) as rejected:
        await adapter.publish(no_board, Draft("Hi"), [published_image(fake, small_image())])
    assert rejected.value.field == "board_id" and not fake.calls_to("/v5/pins")


# ---- metrics --------------------------------------------------------------------------------------


async def test_metrics_use_pinterest_names_for_pins_and_the_account(adapter, account, fake):
    first = await adapter.publish(account, Draft("One"), [published_image(fake, small_image(), "one.jpg")])
    second = await adapter.publish(account, Draft("Two"), [published_image(fake, small_image(), "two.jpg")])
    fake.account_summary[account.external_id] = {"IMPRESSION": 15000, "ENGAGEMENT": 640, "PIN_CLICK": 210,
                                                 "OUTBOUND_CLICK": 95, "SAVE": 120, "ENGAGEMENT_RATE": 0.042}
    fake.pin_lifetime[first.remote_id] = {"IMPRESSION": 900, "OUTBOUND_CLICK": 12, "PIN_CLICK": 40, "SAVE": 9}
    metrics = await adapter.fetch_metrics(account, [first.remote_id, second.remote_id])
    assert metrics.account == {**fake.account_summary[account.external_id],
                               "follower_count": fake.accounts[account.external_id]["follower_count"]}
    assert metrics.posts == {first.remote_id: fake.pin_lifetime[first.remote_id], second.remote_id: {}}


# ---- the error family -----------------------------------------------------------------------------


async def test_an_expired_token_is_token_expired(adapter, account, fake):
    fake.expire()
    with pytest.raises(TokenExpired) as expired:
        await adapter.publish(account, Draft("Hi"), [published_image(fake, small_image())])
    assert expired.value.message == "The Pinterest connection needs renewing."


async def test_a_missing_permission_is_access_revoked(adapter, http, fake):
    fake.consent_as("549755885175", scopes={"user_accounts:read", "boards:read"})
    tokens = await connect(adapter, http, REDIRECT_URI)
    (remote,) = await adapter.list_accounts(tokens)
    ref = AccountRef("pinterest", remote.external_id, remote.kind, remote.name, tokens.access_token,
                     settings=remote.settings)
    with pytest.raises(AccessRevoked) as refused:
        await adapter.publish(ref, Draft("Hi"), [published_image(fake, small_image())])
    assert refused.value.reason is RevokeReason.PERMISSION_REMOVED


async def test_rate_limits_wait_as_long_as_pinterest_says_or_a_minute(adapter, account, fake):
    fake.rate_limit("/v5/pins", retry_after=30)
    with pytest.raises(RateLimited) as limited:
        await adapter.publish(account, Draft("Hi"), [published_image(fake, small_image())])
    assert limited.value.retry_after == 30 and "rate limited" in limited.value.detail
    fake.rate_limit("/v5/pins")  # Pinterest documents no header: its Standard limits are per minute
    with pytest.raises(RateLimited) as limited:
        await adapter.publish(account, Draft("Hi"), [published_image(fake, small_image())])
    assert limited.value.retry_after == DEFAULT_RETRY_AFTER == 60


async def test_server_errors_are_transient(adapter, account, fake):
    fake.fail("/v5/pins", status=500)
    with pytest.raises(Transient):
        await adapter.publish(account, Draft("Hi"), [published_image(fake, small_image())])
    fake.fail("/v5/media", status=503)
    with pytest.raises(Transient):
        await adapter.publish(account, Draft("Hi"), [media_payload(mp4(50_000, noise=True), "video/mp4")])


async def test_a_timeout_after_sending_a_pin_is_outcome_unknown(adapter, account, fake, http):
    http.timeout = httpx.Timeout(0.5)
    fake.stall("/v5/pins", method="POST")
    with pytest.raises(OutcomeUnknown):
        await adapter.publish(account, Draft("Did it go?"), [published_image(fake, small_image())])
    assert [p["description"] for p in fake.pins.values()] == ["Did it go?"]


async def test_a_wrong_token_is_token_expired(adapter, account):
    stranger = AccountRef("pinterest", account.external_id, account.kind, account.name, Secret("not-a-token"),
                          settings=account.settings)
    with pytest.raises(TokenExpired):
        await adapter.fetch_metrics(stranger, [])


# ---- the fake answers as Pinterest does -------------------------------------------------------------


async def test_the_fake_refuses_what_pinterest_refuses(http, tokens, fake):
    auth = {"Authorization": f"Bearer {tokens.access_token.reveal()}"}
    fake.public_files["https://picmim.example/media/a.jpg"] = small_image()
    source = {"source_type": "image_url", "url": "https://picmim.example/media/a.jpg"}
    no_board = await http.post("https://api.pinterest.com/v5/pins", headers=auth, json={"media_source": source})
    assert no_board.status_code == 400 and set(no_board.json()) == {"code", "message"}
    long_title = await http.post("https://api.pinterest.com/v5/pins", headers=auth,
                                 json={"board_id": "1020304050", "title": "t" * 101, "media_source": source})
    assert long_title.status_code == 400
    video = await http.post("https://api.pinterest.com/v5/media", headers=auth, json={"media_type": "video"})
    no_cover = await http.post("https://api.pinterest.com/v5/pins", headers=auth, json={
        "board_id": "1020304050", "media_source": {"source_type": "video_id", "media_id": video.json()["media_id"]}})
    assert no_cover.status_code == 400  # not uploaded yet, and no cover
    chunked = await http.post(video.json()["upload_url"], content=aiter_bytes(b"data"))
    assert chunked.status_code == 411
    too_many = await http.get("https://api.pinterest.com/v5/boards", params={"page_size": 300}, headers=auth)
    assert too_many.status_code == 400
    old = await http.get("https://api.pinterest.com/v5/user_account/analytics", headers=auth,
                         params={"start_date": "2020-01-01", "end_date": "2020-01-31"})
    assert old.status_code == 400


async def aiter_bytes(data: bytes):
    yield data


# ---- the post's Pinterest settings ----------------------------------------------------------------


async def test_the_settings_choose_the_board_title_and_link(adapter, account, fake):
    settings = PinterestSettings(board_id="1020304051", title="Behind the scenes", link="https://acme.com/bts")
    result = await adapter.publish(account, Draft("How we make them", settings=settings),
                                   [published_image(fake, small_image(), alt_text="A seamstress at work")])
    sent = fake.calls_to("/v5/pins")[-1].json()
    assert {k: sent[k] for k in ("board_id", "title", "link", "alt_text", "description")} == {
        "board_id": "1020304051", "title": "Behind the scenes", "link": "https://acme.com/bts",
        "alt_text": "A seamstress at work", "description": "How we make them"}
    assert sent["board_id"] != account.settings["default_board_id"]  # the chosen board, not the first
    assert fake.pins[result.remote_id]["board_id"] == "1020304051"

    # the compose window's title and link on the draft win; no board chosen: the account's default
    await adapter.publish(account, Draft("Hi", title="Typed", link="https://acme.com/typed", settings=PinterestSettings(
                                         title="Older", link="https://acme.com/older")),
                          [published_image(fake, small_image(), "two.jpg")])
    sent = fake.calls_to("/v5/pins")[-1].json()
    assert (sent["board_id"], sent["title"], sent["link"]) == (
        account.settings["default_board_id"], "Typed", "https://acme.com/typed")


async def test_validate_the_settings_on_their_own_fields(adapter, account):
    def refused(settings: PinterestSettings, **draft) -> list[tuple[str, str]]:
        values = {"text": "Fresh spring looks", "media": (image_facts(),)} | draft
        return [(p.field, p.message) for p in adapter.validate(account, Draft(**values, settings=settings))]

    assert refused(PinterestSettings(board_id="1020304051", title="t" * 100, link="https://acme.com/" + "p" * 2031)) \
        == []
    assert refused(PinterestSettings()) == []  # the account's default board
    assert refused(PinterestSettings(board_id="999")) == [("board_id", (
        "The board picked for this pin is no longer on Pinterest: refresh the account and pick another board."))]
    assert refused(PinterestSettings(title="t" * 101)) == [
        ("title", "Pinterest counts this title as 101 of 100 characters: remove 1.")]
    bad_link = ("link", "Pinterest needs the pin's link to be a full web address starting with https://: fix the link.")
    for link in ("acme.com/spring", "https://", "ftp://acme.com/x", "https://acme .com", "https://localhost/x"):
        assert refused(PinterestSettings(link=link)) == [bad_link], link
    assert [f for f, _ in refused(PinterestSettings(link="https://acme.com/" + "p" * 2032))] == ["link"]
    assert refused(PinterestSettings(), media=(image_facts(alt_text="a" * 501),)) == [
        ("alt_text", "Pinterest takes alt text up to 500 characters; the one for pin.jpg is longer: shorten it.")]
    assert [f for f, _ in refused(PinterestSettings(), text="d" * 801)] == ["text"]
    # an account whose boards were never synced: the board is Pinterest's to judge
    unsynced = AccountRef("pinterest", account.external_id, account.kind, account.name, account.user_token,
                          settings={"default_board_id": "1020304050"})
    assert adapter.validate(unsynced, Draft("Hi", media=(image_facts(),),
                                            settings=PinterestSettings(board_id="999"))) == []


async def test_the_fake_refuses_a_board_of_someone_else_and_a_link_that_is_not_a_url(http, tokens, fake):
    fake.add_account("777", "otherbrand", "Other Brand", "BUSINESS")
    fake.add_board("777", "7770001", "Not yours")
    auth = {"Authorization": f"Bearer {tokens.access_token.reveal()}"}
    fake.public_files["https://picmim.example/media/a.jpg"] = small_image()
    source = {"source_type": "image_url", "url": "https://picmim.example/media/a.jpg"}
    theirs = await http.post("https://api.pinterest.com/v5/pins", headers=auth,
                             json={"board_id": "7770001", "media_source": source})
    assert theirs.status_code == 404 and theirs.json() == {"code": 40, "message": "Board not found."}
    for link in ("acme.com/spring", "https://", "javascript:alert(1)", "https://acme .com"):
        bad = await http.post("https://api.pinterest.com/v5/pins", headers=auth,
                              json={"board_id": "1020304050", "link": link, "media_source": source})
        assert bad.status_code == 400 and set(bad.json()) == {"code", "message"}, link
    good = await http.post("https://api.pinterest.com/v5/pins", headers=auth,
                           json={"board_id": "1020304050", "link": "https://acme.com/spring", "media_source": source})
    assert good.status_code == 201
