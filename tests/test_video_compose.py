"""The compose modal's video choices: what it offers (Optimise video on by default, cutting off, the cover
time, TikTok's "who can see it"), how a submission is read (malformed values fall back to the defaults),
what the post keeps, and what the modal says about videos."""

from __future__ import annotations

import dataclasses

from bot import ids
from bot.handlers.compose_form import block_errors, read
from bot.platforms.base import MediaFacts
from bot.platforms.settings import TikTokSettings, to_json
from bot.sandbox.fakes.slack import view_errors
from bot.services import composing
from bot.services.composing import Choice, Composition
from bot.storage.models import Post, PostTarget
from bot.views.compose import compose_modal

TIKTOK = Choice(1, "tiktok", "TikTok", "Acme Studio", "acmestudio")
X = Choice(2, "x", "X", "Acme Marketing", "acmemktg")


def blocks_of(view: dict) -> dict[str, dict]:
    return {b.get("block_id"): b for b in view["blocks"]}


def test_the_modal_offers_optimising_on_cutting_off_a_cover_time_and_tiktoks_audience():
    view = compose_modal([TIKTOK, X], Composition(account_ids=[1, 2]), "{}")
    assert view_errors(view) == [], "Slack would take the modal"
    blocks = blocks_of(view)
    boxes = blocks[ids.COMPOSE_VIDEO_BLOCK]["element"]
    assert [o["value"] for o in boxes["initial_options"]] == ["optimise"]
    assert [o["text"]["text"] for o in boxes["options"]] == ["Optimise video for each platform",
                                                             "Cut a video that is too long for a platform"]
    assert blocks[ids.COMPOSE_COVER_BLOCK]["element"]["type"] == "number_input"
    privacy = blocks[ids.COMPOSE_TIKTOK_PRIVACY_BLOCK]["element"]
    assert [o["value"] for o in privacy["options"]] == ["PUBLIC_TO_EVERYONE", "FOLLOWER_OF_CREATOR",
                                                        "MUTUAL_FOLLOW_FRIENDS", "SELF_ONLY"]
    assert "initial_option" not in privacy, "TikTok asks that nothing is chosen for the user"
    assert ids.COMPOSE_TIKTOK_PRIVACY_BLOCK not in blocks_of(compose_modal([TIKTOK, X], Composition(account_ids=[2]),
                                                                           "{}")), "only for TikTok when chosen"
    assert ids.COMPOSE_VIDEO_BLOCK not in blocks_of(compose_modal([TIKTOK, X], Composition(), "{}")), \
        "the video choices come once accounts are chosen"

    kept = compose_modal([TIKTOK], Composition(account_ids=[1], optimise_video=False, trim_video=True,
                                               cover_seconds=2.5,
                                               settings={"tiktok": TikTokSettings(privacy_level="SELF_ONLY")}), "{}")
    blocks = blocks_of(kept)
    assert [o["value"] for o in blocks[ids.COMPOSE_VIDEO_BLOCK]["element"]["initial_options"]] == ["trim"]
    assert blocks[ids.COMPOSE_COVER_BLOCK]["element"]["initial_value"] == "2.5"
    assert blocks[ids.COMPOSE_TIKTOK_PRIVACY_BLOCK]["element"]["initial_option"]["value"] == "SELF_ONLY"
    assert view_errors(kept) == []


def submitted(**values) -> dict:
    state = {ids.COMPOSE_TEXT_BLOCK: {ids.COMPOSE_TEXT_INPUT: {"type": "plain_text_input", "value": "Hi"}}}
    for block_id, (action_id, value) in values.items():
        state[block_id] = {action_id: value}
    return {"state": {"values": state}}


def test_a_submission_is_read_and_anything_malformed_is_the_default():
    composition, _, _ = read(submitted())
    assert (composition.optimise_video, composition.trim_video, composition.cover_seconds,
            composition.settings_for("tiktok").privacy_level) == (True, False, None, None), \
        "a modal without the choices: defaults"
    composition, _, _ = read(submitted(**{
        ids.COMPOSE_VIDEO_BLOCK: (ids.COMPOSE_VIDEO_INPUT, {"type": "checkboxes", "selected_options": [
            {"value": "trim"}]}),
        ids.COMPOSE_COVER_BLOCK: (ids.COMPOSE_COVER_INPUT, {"type": "number_input", "value": "0.75"}),
        ids.COMPOSE_TIKTOK_PRIVACY_BLOCK: (ids.COMPOSE_TIKTOK_PRIVACY_INPUT, {
            "type": "static_select", "selected_option": {"value": "SELF_ONLY"}})}))
    assert (composition.optimise_video, composition.trim_video, composition.cover_seconds,
            composition.settings_for("tiktok").privacy_level) == (False, True, 0.75, "SELF_ONLY"), \
        "unticking optimise is honoured"
    for cover in ("-1", "nan", "inf", "soon", "99999999"):
        forged, _, _ = read(submitted(**{
            ids.COMPOSE_COVER_BLOCK: (ids.COMPOSE_COVER_INPUT, {"type": "number_input", "value": cover}),
            ids.COMPOSE_TIKTOK_PRIVACY_BLOCK: (ids.COMPOSE_TIKTOK_PRIVACY_INPUT, {
                "type": "static_select", "selected_option": {"value": "EVERYONE_ON_EARTH"}})}))
        assert (forged.cover_seconds, forged.settings_for("tiktok").privacy_level) == (None, None), cover


def test_the_post_keeps_the_choices_and_the_modal_reopens_with_them():
    chosen = Composition(text="Launch", account_ids=[1], optimise_video=False, trim_video=True, cover_seconds=2.0,
                         settings={"tiktok": TikTokSettings(privacy_level="SELF_ONLY")})
    assert chosen.options() == {"optimise_video": False, "trim_video": True, "video_cover_timestamp_ms": 2000}
    tiktok = _Account(id=1, platform="tiktok")
    post = Post(text="Launch", options={"format": "reel", **chosen.options()}, media=[],
                targets=[PostTarget(account_id=1, status=None, settings=to_json(chosen.settings_for("tiktok")))])
    again = composing.composition_of(post, [tiktok])
    assert (again.optimise_video, again.trim_video, again.cover_seconds, again.settings_for("tiktok").privacy_level) \
        == (False, True, 2.0, "SELF_ONLY")
    draft = composing.draft_for(tiktok, chosen)
    assert draft.settings.privacy_level == "SELF_ONLY" and draft.options["optimise_video"] is False


@dataclasses.dataclass
class _Account:
    id: int = 1
    platform: str = "x"


def test_a_cover_time_after_the_end_is_refused_beside_the_cover_input():
    clip = MediaFacts("1", "video", "video/mp4", 10_000, 360, 640, duration=4.0, fps=30.0, filename="clip.mp4",
                      video_codec="h264", audio_codec="aac", faststart=True)
    found = composing.problems_by_field([], {}, Composition(text="x", cover_seconds=5.0), [clip])
    assert found == {composing.COVER: ["The cover time (5 s) is after the end of clip.mp4 (4 s): pick an earlier "
                                       "time."]}
    assert block_errors(found) == {ids.COMPOSE_COVER_BLOCK: found[composing.COVER][0]}
    assert composing.problems_by_field([], {}, Composition(text="x", cover_seconds=3.5), [clip]) == {}
    assert block_errors({composing.setting_field("tiktok", "privacy_level"): ["pick one"]}) == \
        {ids.COMPOSE_TIKTOK_PRIVACY_BLOCK: "pick one"}
