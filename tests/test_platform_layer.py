"""The platform layer as the product sees it: the registry (which platforms exist and which are ready),
the adapters build_adapters makes from settings, validation messages for every Instagram and Facebook
limit of PLATFORMS.md, and Meta's throttling headers. No database, no network."""

from __future__ import annotations

import httpx
import pytest

from bot.config import load_settings
from bot.http import build_client
from bot.platforms import registry
from bot.platforms.base import AccountRef, Adapter, Draft, MediaFacts
from bot.platforms.facebook import FacebookAdapter
from bot.platforms.instagram import InstagramAdapter
from bot.platforms.instagram_login import InstagramLoginAdapter
from bot.platforms.meta_graph import regain_seconds
from bot.secret import Secret
from bot.views.home import home_view
from tests.test_home_view import empty_dashboard

META_KEYS = {"instagram", "instagram-login", "facebook"}


# ---- registry ---------------------------------------------------------------------------------

def test_the_registry_lists_nine_platforms_with_the_meta_three_ready():
    keys = [p.key for p in registry.PLATFORMS]
    assert keys == ["instagram", "instagram-login", "facebook", "linkedin", "x", "tiktok", "pinterest", "youtube",
                    "bluesky"]
    ready = {p.key for p in registry.PLATFORMS if p.adapter_ready}
    assert META_KEYS <= ready
    for key in META_KEYS:
        adapter_class = registry.adapter_class(registry.get(key))
        assert issubclass(adapter_class, Adapter) and adapter_class.key == key
        assert adapter_class.name == registry.get(key).name


def test_admins_home_names_the_platforms_not_set_up_and_groups_say_why():
    assert all(p.adapter_ready for p in registry.PLATFORMS)
    everything = {p.key for p in registry.PLATFORMS}
    ready = "\n".join(str(b) for b in home_view("/picmim", empty_dashboard(), everything, None, True)["blocks"])
    assert "Every platform Picmim supports is set up on this install." in ready
    nothing = str(home_view("/picmim", empty_dashboard(), set(), None, True)["blocks"])
    assert "Not set up on this install yet:* " + ", ".join(p.name for p in registry.PLATFORMS) in nothing
    groups = registry.FACEBOOK_GROUPS
    assert groups.adapter_ready is False and groups.key not in everything
    assert "22 April 2024" in groups.unavailable_reason and "Pages still work" in groups.unavailable_reason
    assert f"*{groups.name}* cannot be connected: {groups.unavailable_reason}" in ready


async def test_build_adapters_makes_the_meta_adapters_from_settings(tmp_path):
    settings = load_settings({
        "META_CLIENT_ID": "app-1", "META_CLIENT_SECRET": "secret-1", "INSTAGRAM_CLIENT_ID": "ig-1",
        "INSTAGRAM_CLIENT_SECRET": "ig-secret", "META_GRAPH_VERSION": "v25.0",
        "PUBLIC_URL": "https://picmim.acme.test"}, require_slack=False, env_file=str(tmp_path / "none.env"))
    http = build_client({})
    try:
        adapters = registry.build_adapters(settings, http)
    finally:
        await http.aclose()
    assert META_KEYS <= set(adapters)
    assert isinstance(adapters["instagram"], InstagramAdapter)
    assert isinstance(adapters["instagram-login"], InstagramLoginAdapter)
    assert isinstance(adapters["facebook"], FacebookAdapter)
    assert adapters["instagram-login"].config.client_id == "ig-1"
    assert adapters["facebook"].config.client_id == "app-1"
    assert adapters["facebook"].config.redirect_uri == "https://picmim.acme.test/oauth/facebook/callback"
    assert "/v25.0/dialog/oauth" in adapters["instagram"].authorize_url("s", None)


async def test_without_credentials_no_meta_adapter_is_built(tmp_path):
    settings = load_settings({}, require_slack=False, env_file=str(tmp_path / "none.env"))
    http = build_client({})
    try:
        assert not META_KEYS & set(registry.build_adapters(settings, http))
    finally:
        await http.aclose()


# ---- validation messages ------------------------------------------------------------------------

IG = AccountRef("instagram", "17841400000001", "business", "Acme Coffee", Secret("t"))
FB = AccountRef("facebook", "2001", "page", "Acme Coffee", Secret("t"))


def image(name: str = "photo.jpg", mimetype: str = "image/jpeg", width: int = 1080, height: int = 1080,
          size: int = 500_000) -> MediaFacts:
    return MediaFacts(name, "image", mimetype, size, width, height, filename=name)


def video(name: str = "clip.mp4", mimetype: str = "video/mp4", duration: float = 10.0, size: int = 5_000_000,
          fps: float = 30.0) -> MediaFacts:
    return MediaFacts(name, "video", mimetype, size, 1080, 1920, duration=duration, fps=fps, filename=name)


def problems(adapter_class, account: AccountRef, draft: Draft) -> list[tuple[str, str, bool]]:
    adapter = adapter_class.__new__(adapter_class)  # validate is pure: no client, no config needed
    return [(p.field, p.message, p.fixable) for p in adapter.validate(account, draft)]


@pytest.mark.parametrize("adapter_class", [InstagramAdapter, InstagramLoginAdapter])
@pytest.mark.parametrize(("draft", "expected"), [
    (Draft(text="a" * 2201, media=(image(),)),
     ("text", "Instagram counts this caption as 2,201 of 2,200 characters: remove 1.", False)),
    (Draft(text=" ".join(f"#tag{i}" for i in range(31)), media=(image(),)),
     ("text", "Instagram allows 30 hashtags; this post has 31: remove 1.", False)),
    (Draft(text=" ".join(f"@friend{i}" for i in range(21)), media=(image(),)),
     ("text", "Instagram allows 20 @mentions; this post has 21: remove 1.", False)),
    (Draft(text="x", media=(image("photo.png", "image/png"),)),
     ("media", "Instagram takes JPEG images only; photo.png is PNG: Picmim converts it to JPEG when it publishes.",
      True)),
    (Draft(text="x", media=(image("photo.bmp", "image/bmp"),)),
     ("media", "Instagram takes JPEG images only; photo.bmp is BMP: convert it to JPEG and attach it again.", False)),
    (Draft(text="x", media=(image(size=9_000_000),)),
     ("media", "Instagram takes images up to 8 MB; photo.jpg is 9 MB: Picmim shrinks it to fit.", True)),
    (Draft(text="x", media=(image(width=360, height=1080),)),
     ("media", "Instagram needs an aspect ratio between 4:5 and 1.91:1: photo.jpg is 1:3. Crop it and attach it "
               "again.", False)),
    (Draft(text="x", media=(image(width=1400, height=700),)),
     ("media", "Instagram needs an aspect ratio between 4:5 and 1.91:1: photo.jpg is 2:1. Crop it and attach it "
               "again.", False)),
    (Draft(text="x", media=(image(width=200, height=200),)),
     ("media", "Instagram needs images at least 320 px wide; photo.jpg is 200 px: attach a larger one.", False)),
    (Draft(text="x", media=(image(width=3000, height=3000),)),
     ("media", "Instagram takes images up to 1440 px wide; photo.jpg is 3000 px: Picmim scales it down.", True)),
    (Draft(text="x", media=(video("clip.webm", "video/webm"),)),  # Picmim optimises videos unless told not to
     ("media", "Instagram takes MP4 or MOV videos only; clip.webm is WebM: Picmim converts it to MP4 when it "
               "publishes.", True)),
    (Draft(text="x", media=(video("clip.webm", "video/webm"),), options={"optimise_video": False}),
     ("media", "Instagram takes MP4 or MOV videos only; clip.webm is WebM: convert it to MP4 or MOV, or turn on "
               "Optimise video so Picmim does it.", False)),
    (Draft(text="x", media=(video(duration=2),)),
     ("media", "Instagram needs videos of at least 3 s; clip.mp4 is 2 s: attach a longer one.", False)),
    (Draft(text="x", media=(video(duration=16 * 60),)),
     ("media", "Instagram takes videos up to 15 min; clip.mp4 is 16 min: trim it.", False)),
    (Draft(text="x", media=(video("clip.mov", "video/quicktime", size=1_200_000_000),)),
     ("media", "Instagram takes videos up to 1 GB; clip.mov is 1.2 GB: Picmim lowers its bit rate to fit.", True)),
    (Draft(text="x", media=(video(fps=120),)),
     ("media", "Instagram takes up to 60 frames per second; clip.mp4 has 120: Picmim lowers it to 60.", True)),
    (Draft(text="x", media=(video(fps=120),), options={"optimise_video": False}),
     ("media", "Instagram takes up to 60 frames per second; clip.mp4 has 120: export it again at 60 or fewer, or "
               "turn on Optimise video so Picmim does it.", False)),
    (Draft(text="x", media=(video(duration=16 * 60),), options={"trim_video": True}),
     ("media", "Instagram takes videos up to 15 min; clip.mp4 is 16 min: Picmim cuts it to its first 15 min, as you "
               "chose.", True)),
    (Draft(text="x", media=tuple(image(f"{i}.jpg") for i in range(11))),
     ("media", "Instagram takes up to 10 photos and videos per post; this one has 11: remove 1.", False)),
    (Draft(text="x", media=tuple(image(f"{i}.jpg") for i in range(6)) + tuple(video(f"{i}.mp4") for i in range(6))),
     ("media", "Instagram takes up to 10 photos and videos per post; this one has 12: remove 2.", False)),
    (Draft(text="x", first_comment="c" * 2201, media=(image(),)),
     ("first_comment", "Instagram counts this first comment as 2,201 of 2,200 characters: remove 1.", False)),
    (Draft(text="x"),
     ("media", "Instagram posts need a photo or a video: attach one.", False)),
])
def test_instagram_limits_are_explained(adapter_class, draft, expected):
    assert problems(adapter_class, IG, draft) == [expected]


def test_a_carousel_of_photos_and_videos_within_the_limits_passes():
    media = (image(), image("b.jpg", width=1080, height=1350), image("c.jpg", width=1432, height=750), video())
    assert problems(InstagramAdapter, IG, Draft(text="#coffee " * 30, media=media)) == []


@pytest.mark.parametrize(("draft", "expected"), [
    (Draft(text="a" * 63207),
     ("text", "Facebook counts this message as 63,207 of 63,206 characters: remove 1.", False)),
    (Draft(text="x", media=(image("p.webp", "image/webp"),)),
     ("media", "Facebook takes JPEG or PNG images only; p.webp is WebP: Picmim converts it to JPEG when it "
               "publishes.", True)),
    (Draft(text="x", media=(image("p.gif", "image/gif"),)),
     ("media", "Facebook takes JPEG or PNG images only; p.gif is GIF: convert it to JPEG or PNG and attach it again.",
      False)),
    (Draft(text="x", media=(image("p.png", "image/png", size=5_000_000),)),
     ("media", "Facebook takes images up to 4 MB; p.png is 5 MB: Picmim shrinks it to fit.", True)),
    (Draft(text="x", media=(image(), video())),
     ("media", "Facebook cannot mix photos and a video in one post: keep one kind.", False)),
    (Draft(text="x", media=(video(), video("b.mp4"))),
     ("media", "Facebook takes up to 1 video per post; this one has 2: remove 1.", False)),
    (Draft(text="x", media=tuple(image(f"{i}.jpg") for i in range(11))),
     ("media", "Facebook takes up to 10 images per post; this one has 11: remove 1.", False)),
    (Draft(text="x", first_comment="Menu at acme.test"),
     ("first_comment", "Facebook has no first comment Picmim can post: leave it empty for this account.", False)),
])
def test_facebook_limits_are_explained(draft, expected):
    assert problems(FacebookAdapter, FB, draft) == [expected]


def test_the_limits_are_data_the_compose_modal_can_read():
    ig, fb = InstagramAdapter.limits, FacebookAdapter.limits
    assert ig.text_limit("text").max == 2200 and ig.max_hashtags == 30 and ig.max_mentions == 20
    assert ig.image.mimetypes == ("image/jpeg",) and "image/png" in ig.image.convertible_from
    assert ig.max_items == 10 and ig.min_items_if_several == 2 and ig.mixed_media and ig.media_by_url
    assert ig.first_comment and InstagramLoginAdapter.limits is ig
    assert fb.text_limit("text").max == 63206 and fb.image.mimetypes == ("image/jpeg", "image/png")
    assert fb.max_videos == 1 and not fb.mixed_media and fb.media_by_url


# ---- Meta's throttling headers --------------------------------------------------------------------

@pytest.mark.parametrize(("headers", "seconds"), [
    ({"X-Business-Use-Case-Usage": '{"123": [{"type": "pages", "call_count": 100, '
                                   '"estimated_time_to_regain_access": 5}]}'}, 300),
    ({"X-Business-Use-Case-Usage": '{"1": [{"estimated_time_to_regain_access": 2}], '
                                   '"2": [{"estimated_time_to_regain_access": 9}]}'}, 540),
    ({"X-Business-Use-Case-Usage": '{"1": [{"estimated_time_to_regain_access": 0}]}'}, None),
    ({"X-Business-Use-Case-Usage": "not json"}, None),
    ({"X-App-Usage": '{"call_count": 100}'}, None),
    ({"Retry-After": "30"}, 30),
])
def test_the_wait_meta_announces_is_read_in_minutes(headers, seconds):
    assert regain_seconds(httpx.Headers(headers)) == seconds
