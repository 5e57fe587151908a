"""Contract tests: the Bluesky adapter against the fake Bluesky (handle resolution, PLC directory, PDS and
atproto OAuth server), reached through origin overrides as in production."""

from __future__ import annotations

import dataclasses
import json

import httpx
import pytest

from bot.platforms import bluesky_keys, bluesky_oauth
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
from bot.platforms.bluesky import BlueskyAdapter, HandleNeeded, client_metadata
from bot.platforms.oauth import new_pkce, new_state
from bot.sandbox.fakes.bluesky import FakeBluesky
from tests.fakes.media import make_image, make_video, payload
from tests.platform_fixtures import started_fake_fixtures

HANDLE = "acme.bsky.test"


def _prepare(fake: FakeBluesky) -> None:
    fake.add_account(HANDLE)
    fake.add_account("maria.bsky.test", display_name="Maria")


fake, http = started_fake_fixtures(FakeBluesky, lambda fake: (
    {f"https://{handle}": fake.pds_url for handle in (HANDLE, "maria.bsky.test")}
    | {bluesky_oauth.PLC_DIRECTORY: fake.pds_url, bluesky_oauth.HANDLE_RESOLVER: fake.pds_url}), _prepare)


@pytest.fixture
def client_keys():
    """This process's client keys, as bot.app installs them at start."""
    return bluesky_keys.install([bluesky_keys.new_key()])


def publish_jwks(files, keys: bluesky_keys.ClientKeys) -> None:
    files.serve(json.dumps(keys.public_jwks()).encode(), "application/json", path="/oauth/bluesky/jwks.json")


@pytest.fixture
def files(files, client_keys):
    # What the app serves at GET /oauth/bluesky/client-metadata.json and /oauth/bluesky/jwks.json; the auth
    # server fetches both (the JWKS to check each client assertion).
    files.serve(json.dumps(client_metadata(files.url)).encode(), "application/json",
                path="/oauth/bluesky/client-metadata.json")
    publish_jwks(files, client_keys)
    return files


@pytest.fixture
def adapter(files, http):
    config = AdapterConfig(client_id=None, client_secret=None, redirect_uri=f"{files.url}/oauth/bluesky/callback",
                           public_url=files.url)
    return BlueskyAdapter(config, http)


async def connect(adapter: BlueskyAdapter, http: httpx.AsyncClient, handle: str = HANDLE) -> TokenSet:
    pkce, state = new_pkce(), new_state()
    url, started = await adapter.begin_authorization("@" + handle.upper(), state, pkce)
    answer = await http.get(url)  # the user approves on their server's page
    assert answer.status_code == 302
    back = httpx.URL(answer.headers["location"]).params
    assert back["state"] == state
    return await adapter.exchange_code(back["code"], pkce, started, iss=back["iss"])


def account_of(tokens: TokenSet) -> AccountRef:
    return AccountRef(platform="bluesky", external_id=tokens.external_user_id, kind="profile", name="Acme",
                      user_token=tokens.access_token, handle=tokens.display_name, extra=tokens.extra)


def image_facts(**kw) -> MediaFacts:
    base = dict(id="i", kind="image", mimetype="image/jpeg", size_bytes=500_000, width=1200, height=800,
                filename="pic.jpg", alt_text="A red bicycle")
    return MediaFacts(**{**base, **kw})


# ---- OAuth ----------------------------------------------------------------------------------------

def test_client_metadata_document():
    doc = client_metadata("https://picmim.example")
    assert doc["client_id"] == "https://picmim.example/oauth/bluesky/client-metadata.json"
    assert doc["redirect_uris"] == ["https://picmim.example/oauth/bluesky/callback"]
    assert doc["scope"] == "atproto transition:generic" and doc["dpop_bound_access_tokens"] is True
    assert doc["application_type"] == "web"
    # a confidential client (atproto OAuth spec, "Client ID Metadata Document"): private_key_jwt, ES256, jwks_uri
    assert doc["token_endpoint_auth_method"] == "private_key_jwt" and doc["token_endpoint_auth_signing_alg"] == "ES256"
    assert doc["jwks_uri"] == "https://picmim.example/oauth/bluesky/jwks.json" and "jwks" not in doc
    assert doc["grant_types"] == ["authorization_code", "refresh_token"] and doc["response_types"] == ["code"]


def test_authorize_url_says_a_handle_is_needed(adapter):
    with pytest.raises(HandleNeeded, match="handle"):
        adapter.authorize_url("state", new_pkce())


async def test_sign_in_from_a_handle_with_par_pkce_and_dpop_nonces(adapter, fake, http, files):
    tokens = await connect(adapter, http)
    did = next(a.did for a in fake.accounts.values() if a.handle == HANDLE)
    assert tokens.external_user_id == did and tokens.display_name == HANDLE
    assert tokens.extra["pds"] == fake.pds_url and tokens.extra["issuer"] == fake.as_url
    assert "d" in tokens.extra["dpop_private_jwk"]  # the private key, for the encrypted store
    assert set(tokens.scopes) == {"atproto", "transition:generic"}

    # identity: the handle's well-known, then the DID document from the PLC directory
    paths = [c.path for c in fake.calls if c.origin == "pds"]
    assert paths[:3] == ["/.well-known/atproto-did", f"/{did}", "/.well-known/oauth-protected-resource"]
    # PAR: first refused for want of a nonce (400 use_dpop_nonce + DPoP-Nonce), answered once with it
    par = fake.calls_to("/oauth/par")
    assert [c.status for c in par] == [400, 201]
    assert par[1].body["client_id"] == f"{files.url}/oauth/bluesky/client-metadata.json"
    assert par[1].body["code_challenge_method"] == "S256" and par[1].body["login_hint"] == HANDLE
    # the token request reuses the auth server's nonce: no second challenge
    assert [c.status for c in fake.calls_to("/oauth/token")] == [200]

    [acct] = await adapter.list_accounts(tokens)
    assert (acct.external_id, acct.kind, acct.handle, acct.followers_count) == (did, "profile", HANDLE, 321)
    # the PDS is another origin with its own nonce: one 401 challenge, then fine
    assert [c.status for c in fake.calls_to("/xrpc/app.bsky.actor.getProfile")] == [401, 200]

    renewed = await adapter.refresh(tokens)
    assert renewed.refresh_token != tokens.refresh_token and renewed.external_user_id == did
    with pytest.raises(AccessRevoked):
        await adapter.refresh(tokens)  # refresh tokens are single use


async def test_unknown_handle_and_mismatched_issuer(adapter, fake, http):
    with pytest.raises(ContentRejected) as unknown:
        await adapter.begin_authorization("nobody.bsky.test", new_state(), new_pkce())
    assert unknown.value.field == "handle" and "check the handle" in unknown.value.message
    pkce = new_pkce()
    url, started = await adapter.begin_authorization(HANDLE, "s", pkce)
    code = httpx.URL((await http.get(url)).headers["location"]).params["code"]
    with pytest.raises(AccessRevoked):
        await adapter.exchange_code(code, pkce, started, iss="https://evil.example")


async def test_revoke(adapter, fake, http):
    tokens = await connect(adapter, http)
    assert await adapter.revoke(tokens) is True
    assert fake.revoked == [tokens.external_user_id]
    with pytest.raises(AccessRevoked):
        await adapter.refresh(tokens)


# ---- validation -----------------------------------------------------------------------------------

def test_validate_graphemes_bytes_and_images(adapter):
    acct = AccountRef("bluesky", "did:plc:x", "profile", "Acme", user_token=None)  # type: ignore[arg-type]
    family = "👨‍👩‍👧‍👦"  # one grapheme, 7 code points, 25 bytes
    assert adapter.validate(acct, Draft(text=family * 120)) == []  # 120 graphemes, 3,000 bytes
    over_bytes = adapter.validate(acct, Draft(text=family * 120 + "a"))
    assert [p.message for p in over_bytes] == [
        "Bluesky counts this post as 3,001 of 3,000 bytes: remove 1."]
    over = adapter.validate(acct, Draft(text="🇫🇷" * 301))
    assert any("301 of 300 characters" in p.message for p in over)

    five = adapter.validate(acct, Draft(text="x", media=(image_facts(),) * 5))
    assert any("up to 4 images" in p.message and "remove 1" in p.message for p in five)
    big = adapter.validate(acct, Draft(text="x", media=(image_facts(size_bytes=2_500_000),)))
    assert big[0].fixable and "2 MB" in big[0].message
    video = MediaFacts("v", "video", "video/mp4", 301_000_000, filename="clip.mp4")
    assert any("300 MB" in p.message for p in adapter.validate(acct, Draft(text="", media=(video,))))
    assert any("cannot mix" in p.message for p in adapter.validate(acct, Draft(text="", media=(
        image_facts(), MediaFacts("v", "video", "video/mp4", 1000)))))
    assert any("write something" in p.message for p in adapter.validate(acct, Draft(text="  ")))
    linked = adapter.validate(acct, Draft(text="x" * 290, link="https://acme.example/spring"))
    assert any("of 300 characters" in p.message for p in linked)  # the link goes out with the text


def test_validate_alt_text_lengths(adapter):
    acct = AccountRef("bluesky", "did:plc:x", "profile", "Acme", user_token=None)  # type: ignore[arg-type]
    assert adapter.validate(acct, Draft(text="x", media=(image_facts(alt_text="a" * 2000),))) == []
    (long_image,) = adapter.validate(acct, Draft(text="x", media=(image_facts(alt_text="a" * 2001),)))
    assert (long_image.field, long_image.message) == (
        "alt_text", "Bluesky takes alt text up to 2,000 characters for an image; the one for pic.jpg is longer: "
                    "shorten it.")
    video = MediaFacts("v", "video", "video/mp4", 1_000_000, filename="clip.mp4", alt_text="🇫🇷" * 1000)
    assert adapter.validate(acct, Draft(text="x", media=(video,))) == []  # 1,000 graphemes
    (long_video,) = adapter.validate(acct, Draft(text="x", media=(dataclasses.replace(video, alt_text="a" * 1001),)))
    assert long_video.field == "alt_text" and "1,000" in long_video.message


# ---- publishing -----------------------------------------------------------------------------------

async def test_post_with_facets_and_images(adapter, fake, http):
    tokens = await connect(adapter, http)
    text = "Café ☕ launch with @maria.bsky.test and @ghost.bsky.test: https://acme.example/spring. #Launch2026"
    jpeg = make_image(1200, 800, "JPEG")
    png = make_image(640, 640, "PNG")
    result = await adapter.publish(account_of(tokens), Draft(text=text), [
        payload(jpeg, alt_text="Our new café"), payload(png, alt_text=None)])

    stored = fake.records[result.remote_id]["record"]
    assert stored["text"] == text
    raw = text.encode()
    spans = {f["features"][0]["$type"].split("#")[1]: raw[f["index"]["byteStart"]:f["index"]["byteEnd"]].decode()
             for f in stored["facets"]}
    assert spans == {"mention": "@maria.bsky.test", "link": "https://acme.example/spring", "tag": "#Launch2026"}
    maria = next(a.did for a in fake.accounts.values() if a.handle == "maria.bsky.test")
    mention = next(f for f in stored["facets"] if f["features"][0]["$type"].endswith("#mention"))
    assert mention["features"][0]["did"] == maria  # @ghost does not resolve: left as plain text
    images = stored["embed"]["images"]
    assert [i["alt"] for i in images] == ["Our new café", ""]
    assert images[0]["aspectRatio"] == {"width": 1200, "height": 800}
    assert [fake.blobs[i["image"]["ref"]["$link"]]["data"] for i in images] == [jpeg, png]
    rkey = result.remote_id.rsplit("/", 1)[1]
    assert result.url == f"https://bsky.app/profile/{HANDLE}/post/{rkey}"
    # DPoP on every PDS call, bound to the token (the fake checked ath and the key)
    assert all(c.headers["Authorization"].startswith("DPoP ") for c in fake.calls_to("/xrpc/com.atproto.repo."
                                                                                      "createRecord"))


async def test_video_post(adapter, fake, http):
    tokens = await connect(adapter, http)
    data = make_video()
    result = await adapter.publish(account_of(tokens), Draft(text=""), [payload(data, alt_text="Spinning logo")])
    embed = fake.records[result.remote_id]["record"]["embed"]
    assert embed["$type"] == "app.bsky.embed.video" and embed["alt"] == "Spinning logo"
    assert fake.blobs[embed["video"]["ref"]["$link"]]["mimeType"] == "video/mp4"


async def test_a_video_alt_text_over_the_lexicon_limit_is_refused_on_its_field(adapter, fake, http):
    tokens = await connect(adapter, http)
    with pytest.raises(ContentRejected) as refused:
        await adapter.publish(account_of(tokens), Draft(text=""), [payload(make_video(), alt_text="a" * 1001)])
    assert refused.value.field == "alt_text" and "1000 graphemes" in refused.value.detail
    assert fake.records == {}


async def test_new_nonce_is_answered_once(adapter, fake, http):
    tokens = await connect(adapter, http)
    await adapter.list_accounts(tokens)
    fake.rotate_nonces()
    await adapter.list_accounts(tokens)
    assert [c.status for c in fake.calls_to("/xrpc/app.bsky.actor.getProfile")] == [401, 200, 401, 200]
    fake.nonce_every_request = True  # a server that never accepts: no loop, one answer only
    before = len(fake.calls_to("/xrpc/app.bsky.actor.getProfile"))
    with pytest.raises(Transient):
        await adapter.list_accounts(tokens)
    assert len(fake.calls_to("/xrpc/app.bsky.actor.getProfile")) - before == 2


async def test_metrics_under_bluesky_names(adapter, fake, http):
    tokens = await connect(adapter, http)
    acct = account_of(tokens)
    first = await adapter.publish(acct, Draft(text="one"), [])
    second = await adapter.publish(acct, Draft(text="two"), [])
    fake.set_counts(first.remote_id, likeCount=10, repostCount=2, replyCount=3, quoteCount=1)
    metrics = await adapter.fetch_metrics(acct, [first.remote_id, second.remote_id])
    assert metrics.posts[first.remote_id] == {"likeCount": 10, "repostCount": 2, "replyCount": 3, "quoteCount": 1}
    assert metrics.posts[second.remote_id]["likeCount"] == 0
    assert metrics.account == {"followersCount": 321, "followsCount": 45, "postsCount": 67}
    [call] = fake.calls_to("/xrpc/app.bsky.feed.getPosts")[-1:]
    assert call.query["uris"] == [first.remote_id, second.remote_id]
    assert call.headers["atproto-proxy"] == "did:web:api.bsky.app#bsky_appview"


async def test_metrics_bring_the_picture_each_post_shows(adapter, fake, http):
    tokens = await connect(adapter, http)
    acct = account_of(tokens)
    photos = await adapter.publish(acct, Draft(text="two photos"), [
        payload(make_image(1200, 800, "JPEG"), alt_text="Café"), payload(make_image(640, 640, "PNG"), alt_text="")])
    clip = await adapter.publish(acct, Draft(text=""), [payload(make_video(), alt_text="Spinning logo")])
    words = await adapter.publish(acct, Draft(text="just words"), [])
    metrics = await adapter.fetch_metrics(acct, [photos.remote_id, clip.remote_id, words.remote_id])
    did = acct.external_id
    first_image = fake.records[photos.remote_id]["record"]["embed"]["images"][0]["image"]["ref"]["$link"]
    video = fake.records[clip.remote_id]["record"]["embed"]["video"]["ref"]["$link"]
    assert metrics.thumbnails == {
        photos.remote_id: f"https://cdn.bsky.app/img/feed_thumbnail/plain/{did}/{first_image}@jpeg",
        clip.remote_id: f"https://video.bsky.app/watch/{did}/{video}/thumbnail.jpg"}
    assert len(fake.calls_to("/xrpc/app.bsky.feed.getPosts")) == 1  # with the counts, in one call


# ---- the error family -----------------------------------------------------------------------------

async def test_token_expired(adapter, fake, http):
    tokens = await connect(adapter, http)
    fake.expire_tokens()
    with pytest.raises(TokenExpired) as expired:
        await adapter.publish(account_of(tokens), Draft(text="hi"), [])
    assert "ExpiredToken" in expired.value.detail
    renewed = await adapter.refresh(tokens)  # which a refresh mends
    assert (await adapter.publish(account_of(renewed), Draft(text="hi"), [])).remote_id


async def test_access_revoked_when_the_session_ended(adapter, fake, http):
    tokens = await connect(adapter, http)
    fake.end_sessions()
    with pytest.raises(AccessRevoked) as revoked:
        await adapter.refresh(tokens)
    assert "connect Bluesky again" in revoked.value.message and "invalid_grant" in revoked.value.detail


async def test_rate_limited_with_ratelimit_reset(adapter, fake, http):
    tokens = await connect(adapter, http)
    fake.rate_limit("com.atproto.repo.createRecord", reset_in=300)
    with pytest.raises(RateLimited) as limited:
        await adapter.publish(account_of(tokens), Draft(text="hi"), [])
    assert limited.value.retry_after == pytest.approx(300, abs=3)


async def test_content_rejected_by_the_lexicon(adapter, fake, http):
    tokens = await connect(adapter, http)
    with pytest.raises(ContentRejected) as too_long:
        await adapter.publish(account_of(tokens), Draft(text="é" * 301), [])
    assert too_long.value.field == "text" and "300 graphemes" in too_long.value.detail
    big = make_image(1800, 1800, "PNG", mode="RGB", compress_level=0)
    assert len(big) > 2_000_000
    with pytest.raises(ContentRejected) as too_big:
        await adapter.publish(account_of(tokens), Draft(text="pic"), [payload(big)])
    assert too_big.value.field == "media" and "too large" in too_big.value.detail


async def test_transient_on_5xx(adapter, fake, http):
    tokens = await connect(adapter, http)
    fake.fail("com.atproto.repo.uploadBlob", status=502)
    with pytest.raises(Transient):
        await adapter.publish(account_of(tokens), Draft(text="pic"), [payload(make_image(fmt="JPEG"))])
    assert not fake.records


async def test_outcome_unknown_on_timeout_after_create_record(adapter, fake, http):
    tokens = await connect(adapter, http)
    await adapter.list_accounts(tokens)  # the PDS nonce is known: createRecord goes out once
    http.timeout = httpx.Timeout(0.3)
    fake.hang("com.atproto.repo.createRecord", seconds=3)
    with pytest.raises(OutcomeUnknown):
        await adapter.publish(account_of(tokens), Draft(text="hello"), [])
    assert len(fake.records) == 1  # it is live: sending again would post twice


# ---- a confidential client ------------------------------------------------------------------------

DAY = 86400


def _assertion_claims(call) -> tuple[dict, dict]:
    import base64

    head, body, _ = call.body["client_assertion"].split(".")
    decode = lambda part: json.loads(base64.urlsafe_b64decode(part + "=="))  # noqa: E731
    return decode(head), decode(body)


async def test_a_new_connection_authenticates_with_private_key_jwt_and_lasts_the_confidential_lifetime(
        adapter, fake, http, files, client_keys):
    tokens = await connect(adapter, http)
    assert tokens.extra["client_kid"] == client_keys.current  # the session is bound to this key
    client_id = f"{files.url}/oauth/bluesky/client-metadata.json"
    for call in [*fake.calls_to("/oauth/par"), *fake.calls_to("/oauth/token")]:
        assert call.body["client_assertion_type"] == "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
        header, claims = _assertion_claims(call)
        assert header == {"alg": "ES256", "kid": client_keys.current, "typ": "JWT"}
        assert claims["iss"] == claims["sub"] == client_id and claims["aud"] == fake.as_url
        assert 0 < claims["exp"] - claims["iat"] <= 60 and claims["jti"]
    # the auth server fetched our JWKS to check them, as a real one does
    assert files.fetched(f"{files.url}/oauth/bluesky/jwks.json") == 2  # for the PAR and the code exchange

    fake.advance(170 * DAY)  # far past a public client's two weeks, inside the confidential 180 days
    renewed = await adapter.refresh(tokens)
    [refresh] = fake.calls_to("/oauth/token")[-1:]
    assert refresh.body["grant_type"] == "refresh_token" and refresh.status == 200
    assert _assertion_claims(refresh)[0]["kid"] == client_keys.current
    fake.advance(170 * DAY)  # each refresh token lives 180 days from its own issue
    renewed = await adapter.refresh(renewed)
    assert (await adapter.publish(account_of(renewed), Draft(text="still here"), [])).remote_id
    fake.advance(181 * DAY)
    with pytest.raises(AccessRevoked) as lapsed:
        await adapter.refresh(renewed)
    assert "connect Bluesky again" in lapsed.value.message


async def test_the_fake_refuses_a_token_request_without_a_client_assertion(adapter, fake, http):
    tokens = await connect(adapter, http)
    key = bluesky_oauth.dpop_key_from_jwk(tokens.extra["dpop_private_jwk"])
    answer = await adapter.dpop.request("POST", tokens.extra["token_endpoint"], key, data={
        "grant_type": "refresh_token", "refresh_token": tokens.refresh_token.reveal(), "client_id": adapter.client_id})
    assert answer.status_code == 400 and "client_assertion" in answer.json()["error_description"]


def _public_era_tokens(adapter, fake, did: str, handle: str = HANDLE) -> TokenSet:
    """A connection made before Picmim authenticated itself: no client key in its extra."""
    jwk = bluesky_oauth.dpop_key_to_jwk(bluesky_oauth.new_dpop_key())
    access, refresh = fake.session(did, jwk)
    extra = {"did": did, "handle": handle, "pds": fake.pds_url, "issuer": fake.as_url,
             "token_endpoint": f"{fake.as_url}/oauth/token", "revocation_endpoint": f"{fake.as_url}/oauth/revoke",
             "dpop_private_jwk": jwk}
    from bot.secret import Secret

    return TokenSet(access_token=Secret(access), external_user_id=did, display_name=handle,
                    refresh_token=Secret(refresh), extra=extra)


async def test_an_old_public_session_keeps_refreshing_until_it_lapses(adapter, fake, http, client_keys):
    did = next(a.did for a in fake.accounts.values() if a.handle == HANDLE)
    old = _public_era_tokens(adapter, fake, did)
    fake.advance(10 * DAY)  # inside its two weeks: it renews, now authenticated (the session upgrades)
    renewed = await adapter.refresh(old)
    assert renewed.extra["client_kid"] == client_keys.current
    assert _assertion_claims(fake.calls_to("/oauth/token")[-1])[0]["kid"] == client_keys.current
    fake.advance(100 * DAY)  # and from then on it lasts as a confidential one
    assert (await adapter.refresh(renewed)).external_user_id == did

    lapsing = _public_era_tokens(adapter, fake, did)
    fake.advance(15 * DAY)  # an old session not renewed within its two weeks: a reconnect, as before
    with pytest.raises(AccessRevoked) as lapsed:
        await adapter.refresh(lapsing)
    assert "connect Bluesky again" in lapsed.value.message and "Refresh token expired" in lapsed.value.detail


async def test_a_rotated_key_keeps_old_sessions_on_their_key_and_signs_new_ones_with_the_new(
        adapter, fake, http, files, client_keys):
    before = await connect(adapter, http)
    old_kid = client_keys.current
    rotated = bluesky_keys.install([bluesky_keys.new_key(), *client_keys.keys])  # the new key first
    publish_jwks(files, rotated)
    assert [k["kid"] for k in rotated.public_jwks()["keys"]] == [rotated.current, old_kid]

    renewed = await adapter.refresh(before)  # the session stays on the key it began with
    assert renewed.extra["client_kid"] == old_kid
    assert _assertion_claims(fake.calls_to("/oauth/token")[-1])[0]["kid"] == old_kid
    after = await connect(adapter, http, "maria.bsky.test")
    assert after.extra["client_kid"] == rotated.current != old_kid

    bluesky_keys.install(rotated.keys[:1])  # the old key withdrawn: its sessions end, and say so
    with pytest.raises(AccessRevoked) as withdrawn:
        await adapter.refresh(renewed)
    assert "connect Bluesky again" in withdrawn.value.message
