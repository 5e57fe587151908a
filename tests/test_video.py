"""The video pipeline (bot.video) on small real videos made with PyAV at test time: what a video is, what
each platform's rules ask of it, and the copy that meets them — checked by reading the copy back."""

from __future__ import annotations

import dataclasses
import io

import av
import pytest
from PIL import Image

from bot.media import video
from bot.media.errors import MediaError
from bot.media.pictures import probe
from bot.platforms.base import AccountRef, Draft, MediaLimits
from bot.platforms.meta_limits import INSTAGRAM_VIDEO
from bot.platforms.tiktok import ADAPTER as TikTokAdapter
from bot.platforms.tiktok import VIDEO as TIKTOK_VIDEO
from bot.platforms.x import LIMITS as X_LIMITS
from bot.secret import Secret
from tests.fakes.media import make_clip

MP4_ONLY = MediaLimits("video", ("video/mp4",), faststart=True)


def made(tmp_path, data: bytes, rendition: video.Rendition, name: str = "out.mp4"):
    """Write the source, make the rendition; the new file's facts and its path."""
    source, target = tmp_path / "source", tmp_path / name
    source.write_bytes(data)
    seen: list[float] = []
    facts = video.make(source, target, rendition, progress=seen.append)
    assert seen and seen[-1] == 1.0 and all(0 <= p <= 1 for p in seen)
    return facts, target


def frames(path) -> int:
    with av.open(str(path)) as container:
        return sum(1 for _ in container.decode(video=0))


def red_corner(path) -> str:
    """Which corner of the first picture holds the red quarter (make_clip paints the stored top-left)."""
    with av.open(str(path)) as container:
        picture = next(container.decode(video=0)).to_ndarray(format="rgb24")
    h, w = picture.shape[:2]
    corners = {"top-left": (h // 8, w // 8), "top-right": (h // 8, w - w // 8),
               "bottom-left": (h - h // 8, w // 8), "bottom-right": (h - h // 8, w - w // 8)}
    return next(name for name, (y, x) in corners.items() if picture[y, x][0] > 150 and picture[y, x][1] < 100)


# ---- inspecting ------------------------------------------------------------------------------------


def test_a_phone_video_is_inspected_from_its_bytes():
    data = make_clip(codec="libx265", fmt="mov", width=640, height=360, fps=60, rotation=270)
    facts, details = probe(data, filename="IMG_0042.MOV")
    assert (facts.kind, facts.mimetype, facts.video_codec, facts.audio_codec) == \
        ("video", "video/quicktime", "hevc", "aac")
    assert (facts.width, facts.height, facts.rotation) == (360, 640, 270), "as shown: portrait, turned by metadata"
    assert facts.fps == pytest.approx(60) and facts.duration == pytest.approx(1.0, abs=0.05)
    assert facts.faststart is False, "phones write the index at the end"
    assert facts.size_bytes == len(data) and facts.bit_rate
    assert details["stored_size"] == [640, 360] and details["audio_channels"] == 2 and details["audio_rate"] == 48000
    assert video.inspect(make_clip(faststart=True))[0].faststart is True


def test_what_is_not_a_video_is_refused_in_plain_words(tmp_path):
    with pytest.raises(video.VideoError, match="not a video Picmim can read"):
        video.inspect(b"\x00\x00\x00\x18ftypisom" + b"\x00" * 500)
    with pytest.raises(MediaError, match="neither a picture nor a video"):
        probe(b"hello" * 100, filename="notes.mov")


# ---- planning --------------------------------------------------------------------------------------


def test_a_video_that_fits_needs_nothing():
    facts = video.inspect(make_clip(fps=30, faststart=True))[0]
    assert video.plan(facts, TIKTOK_VIDEO) is None
    assert video.plan(facts, INSTAGRAM_VIDEO) is None


def test_one_rendition_serves_every_platform_whose_rules_ask_the_same():
    # 120 fps slow motion from a phone: TikTok and Instagram both take at most 60, so both get one copy.
    facts = video.inspect(make_clip(codec="libx265", fmt="mov", fps=120, seconds=0.5))[0]
    tiktok, instagram = video.plan(facts, TIKTOK_VIDEO), video.plan(facts, INSTAGRAM_VIDEO)
    assert tiktok.key == instagram.key and tiktok.fps == instagram.fps == 60
    assert "HEVC (H.265) → H.264" not in tiktok.fixes, "TikTok plays HEVC: only the frame rate was its problem"
    x = video.plan(facts, X_LIMITS.video)  # X also wants H.264 and AAC, which the copy is anyway
    assert x.key == tiktok.key and "HEVC (H.265) → H.264" in x.fixes
    smaller = video.plan(facts, dataclasses.replace(X_LIMITS.video, max_width=180))
    assert smaller.key != tiktok.key and (smaller.width, smaller.height) == (180, 320)


def test_size_limits_lower_the_bit_rate_and_refuse_what_would_be_mush():
    facts = dataclasses.replace(video.inspect(make_clip())[0], size_bytes=80_000_000, duration=60.0)
    limits = MediaLimits("video", ("video/mp4",), max_bytes=40_000_000)
    rendition = video.plan(facts, limits)
    assert rendition.mode == "transcode"
    expected = 40_000_000 * 8 * video.SIZE_MARGIN / 60 - video.AUDIO_BITRATE
    assert rendition.max_bitrate == int(expected) and rendition.max_bitrate * 60 / 8 < 40_000_000
    assert video.size_fixable(facts, limits)
    three_hours = dataclasses.replace(facts, duration=3 * 3600.0)
    assert not video.size_fixable(three_hours, MediaLimits("video", ("video/mp4",), max_bytes=300_000_000))


# ---- making ----------------------------------------------------------------------------------------


def test_hevc_portrait_is_scaled_down_to_h264_keeping_its_shape_and_sound(tmp_path):
    # A 4K phone video in miniature: rules that take half its size stand for 1080p rules against 4K.
    data = make_clip(codec="libx265", fmt="mov", width=360, height=640, fps=30, seconds=0.5)
    facts = video.inspect(data)[0]
    rules = dataclasses.replace(INSTAGRAM_VIDEO, max_width=180, min_duration=None)
    rendition = video.plan(facts, rules)
    assert rendition.mode == "transcode" and (rendition.width, rendition.height) == (180, 320)
    out, path = made(tmp_path, data, rendition)
    assert (out.mimetype, out.video_codec, out.audio_codec) == ("video/mp4", "h264", "aac")
    assert (out.width, out.height) == (180, 320) and out.faststart is True
    assert out.duration == pytest.approx(facts.duration, abs=0.1)
    assert video.plan(out, rules) is None, "the copy meets the rules it was made for"


def test_sixty_frames_a_second_become_thirty(tmp_path):
    data = make_clip(fps=60, seconds=0.5, faststart=True)
    rendition = video.plan(video.inspect(data)[0], MediaLimits("video", ("video/mp4",), max_fps=30))
    assert rendition.fps == 30 and rendition.fixes == ("60 → 30 fps",)
    out, path = made(tmp_path, data, rendition)
    assert out.fps == pytest.approx(30) and frames(path) == 15 and out.duration == pytest.approx(0.5, abs=0.1)


def test_a_mov_becomes_an_mp4_with_its_index_first_without_re_encoding(tmp_path):
    data = make_clip(fmt="mov", seconds=0.5)
    rendition = video.plan(video.inspect(data)[0], MP4_ONLY)
    assert rendition.mode == "remux" and set(rendition.fixes) == {"MOV → MP4", "index moved to the start"}
    out, path = made(tmp_path, data, rendition)
    assert (out.mimetype, out.faststart, out.video_codec, out.audio_codec) == ("video/mp4", True, "h264", "aac")
    assert video.index_first(path) is True and frames(path) == 15


def test_a_remux_keeps_the_turn_a_platform_plays(tmp_path):
    data = make_clip(width=640, height=360, rotation=90, seconds=0.2)
    rendition = video.plan(video.inspect(data)[0], MP4_ONLY)  # only the index is wrong
    assert rendition.mode == "remux"
    out, path = made(tmp_path, data, rendition)
    assert (out.width, out.height, out.rotation, out.faststart) == (360, 640, 90, True)


def test_a_picture_turned_by_metadata_is_turned_in_its_pixels(tmp_path):
    data = make_clip(width=640, height=360, rotation=90, seconds=0.2)
    facts = video.inspect(data)[0]
    assert (facts.width, facts.height, facts.rotation) == (360, 640, 90)
    out, path = made(tmp_path, data, video.plan(facts, dataclasses.replace(MP4_ONLY, upright=True)))
    assert (out.width, out.height, out.rotation) == (360, 640, 0)
    # A quarter turn counter-clockwise (as ffmpeg's autorotate does) takes the top-left to the bottom-left.
    assert red_corner(path) == "bottom-left"


def test_sound_a_platform_does_not_play_becomes_aac(tmp_path):
    data = make_clip(audio="libmp3lame", seconds=0.5, faststart=True)
    facts = video.inspect(data)[0]
    assert facts.audio_codec == "mp3"
    rendition = video.plan(facts, X_LIMITS.video)
    assert rendition.fixes == ("MP3 sound → AAC",)
    out, _ = made(tmp_path, data, rendition)
    assert (out.video_codec, out.audio_codec) == ("h264", "aac")


def test_a_video_is_cut_only_when_asked(tmp_path):
    data = make_clip(seconds=3.0, fps=24, faststart=True)
    facts = video.inspect(data)[0]
    rules = MediaLimits("video", ("video/mp4",), max_duration=2.0)
    assert video.plan(facts, rules) is None, "never cut without the user's choice"
    rendition = video.plan(facts, rules, trim=True)
    assert rendition.end == pytest.approx(1.75)
    out, path = made(tmp_path, data, rendition)
    assert out.duration <= 2.0 and out.duration == pytest.approx(1.75, abs=0.1) and out.audio_codec == "aac"


def test_a_broken_source_fails_in_plain_words_and_leaves_nothing_behind(tmp_path):
    data = make_clip(seconds=0.5)
    source, target = tmp_path / "source", tmp_path / "out.mp4"
    source.write_bytes(data[: len(data) // 3])  # the download was cut short
    rendition = video.Rendition("transcode", 360, 640, fps=30.0, max_bitrate=1_000_000)
    with pytest.raises(video.VideoError, match="could not be converted"):
        video.make(source, target, rendition)
    assert not target.exists()


def test_the_cover_frame_is_taken_upright_at_its_time(tmp_path):
    path = tmp_path / "clip.mp4"
    path.write_bytes(make_clip(width=640, height=360, rotation=90, seconds=1.0))
    jpeg = Image.open(io.BytesIO(video.cover_jpeg(path, 0.5, max_side=320)))
    assert jpeg.format == "JPEG" and jpeg.size == (180, 320)
    assert jpeg.getpixel((20, 300))[0] > 150, "the red corner turned with the picture"
    late = Image.open(io.BytesIO(video.cover_jpeg(path, 99)))  # past the end: the last picture
    assert late.format == "JPEG"


# ---- validation: what the modal says -----------------------------------------------------------------


def tiktok_account(**settings) -> AccountRef:
    settings = {"privacy_level_options": ["PUBLIC_TO_EVERYONE", "SELF_ONLY"], **settings}
    return AccountRef("tiktok", "open-1", "creator", "Acme Studio", Secret("t"), settings=settings)


def test_too_long_for_the_creator_is_refused_for_tiktok_with_the_limit_unless_cut():
    adapter = TikTokAdapter.__new__(TikTokAdapter)  # validate is pure
    facts = dataclasses.replace(video.inspect(make_clip(seconds=0.5))[0], duration=6.0, filename="launch.mov")
    draft = Draft(text="Launch", media=(facts,), options={"privacy_level": "SELF_ONLY"})
    [problem] = adapter.validate(tiktok_account(max_video_post_duration_sec=5), draft)
    assert problem.message == "TikTok takes videos up to 5 s; launch.mov is 6 s: trim it." and not problem.fixable
    assert adapter.validate(tiktok_account(max_video_post_duration_sec=600), draft) == []
    cut = adapter.validate(tiktok_account(max_video_post_duration_sec=5),
                           dataclasses.replace(draft, options={**draft.options, "trim_video": True}))
    assert [(p.message, p.fixable) for p in cut] == [
        ("TikTok takes videos up to 5 s; launch.mov is 6 s: Picmim cuts it to its first 5 s, as you chose.", True)]
    limits = adapter.video_limits({"max_video_post_duration_sec": 5})
    assert video.plan(facts, limits, trim=True).end == pytest.approx(4.75)


def test_every_fixable_problem_says_so_and_turns_into_a_refusal_without_optimising():
    adapter = TikTokAdapter.__new__(TikTokAdapter)
    facts = dataclasses.replace(video.inspect(make_clip(seconds=0.5))[0], fps=120.0, video_codec="mpeg4",
                                filename="clip.mp4")
    on = adapter.validate(tiktok_account(), Draft(text="", media=(facts,), options={"privacy_level": "SELF_ONLY"}))
    assert [(p.message, p.fixable, p.kind) for p in on] == [
        ("TikTok plays H.264, HEVC (H.265), VP8 or VP9 video; clip.mp4 is MPEG-4 Part 2: Picmim converts it to "
         "H.264.", True, "video"),
        ("TikTok takes up to 60 frames per second; clip.mp4 has 120: Picmim lowers it to 60.", True, "video")]
    off = adapter.validate(tiktok_account(), Draft(text="", media=(facts,), options={
        "privacy_level": "SELF_ONLY", "optimise_video": False}))
    assert [p.fixable for p in off] == [False, False]
    assert all(p.message.endswith("or turn on Optimise video so Picmim does it.") for p in off)
