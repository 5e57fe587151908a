"""The media pipeline: what an attachment is, and making a picture fit a platform."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from bot.media import pictures as media
from bot.platforms import bluesky, tiktok
from tests.fakes.media import make_image, make_video, sideways_photo, srgb_profile


def opened(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def with_orientation(data_format: str, width: int, height: int, orientation: int) -> bytes:
    image = Image.open(io.BytesIO(make_image(width, height, "PNG")))
    exif = Image.Exif()
    exif[0x0112] = orientation
    buf = io.BytesIO()
    image.save(buf, data_format, exif=exif)
    return buf.getvalue()


def test_inspect_image_reads_the_bytes_not_the_name():
    facts = media.inspect_image(make_image(800, 600, "PNG"), id="a1", filename="photo.jpg", alt_text="Logo")
    assert (facts.kind, facts.mimetype, facts.width, facts.height) == ("image", "image/png", 800, 600)
    assert facts.filename == "photo.jpg" and facts.alt_text == "Logo" and facts.id == "a1"
    rotated = media.inspect_image(with_orientation("JPEG", 800, 600, 6))
    assert (rotated.width, rotated.height) == (600, 800)  # as shown, after the EXIF rotation


def test_inspect_video():
    facts = media.inspect_video(make_video(seconds=2, fps=25, width=480, height=360))
    assert (facts.kind, facts.mimetype, facts.width, facts.height) == ("video", "video/mp4", 480, 360)
    assert facts.duration == pytest.approx(2, abs=0.1) and facts.fps == pytest.approx(25)
    assert media.inspect_video(make_video(fmt="webm")).mimetype == "video/webm"
    with pytest.raises(media.MediaError):
        media.inspect_video(b"not a video at all" * 100)


def test_unreadable_picture_is_a_plain_error():
    with pytest.raises(media.MediaError, match="not a picture"):
        media.inspect_image(b"\x00" * 100)


def test_png_with_transparency_becomes_jpeg_on_white():
    image = Image.new("RGBA", (400, 300), (0, 0, 0, 0))  # transparent black…
    image.paste((200, 30, 30, 255), (200, 0, 400, 300))  # …beside an opaque red half
    buf = io.BytesIO()
    image.save(buf, "PNG")
    data, mimetype = media.convert_image(buf.getvalue(), ("image/jpeg", "image/webp"))
    result = opened(data)
    assert mimetype == "image/jpeg" and result.format == "JPEG" and result.size == (400, 300)
    assert all(channel > 240 for channel in result.getpixel((50, 150)))  # white, not black
    red, green, _ = result.getpixel((300, 150))
    assert red > 180 and green < 60


def test_webp_first_keeps_transparency():
    data, mimetype = media.convert_image(make_image(200, 200, "PNG", mode="RGBA"), ("image/webp", "image/jpeg"))
    assert mimetype == "image/webp" and opened(data).mode == "RGBA"


def test_scales_within_limits_keeping_the_aspect_ratio():
    data, mimetype = media.fit_image(make_image(3000, 2000, "JPEG"), tiktok.PHOTO_IMAGE)
    assert mimetype == "image/jpeg" and opened(data).size == (1080, 720)
    tall, _ = media.fit_image(make_image(1500, 4000, "JPEG"), tiktok.PHOTO_IMAGE)
    assert opened(tall).size == (720, 1920)


def test_exif_orientation_is_applied_before_anything_else():
    data, _ = media.convert_image(with_orientation("JPEG", 800, 600, 6), ("image/jpeg",))
    result = opened(data)
    assert result.size == (600, 800) and result.getexif().get(0x0112) in (None, 1)


def test_quality_is_lowered_until_under_max_bytes():
    noisy = Image.effect_noise((1500, 1500), 100).convert("RGB")
    buf = io.BytesIO()
    noisy.save(buf, "JPEG", quality=100)
    assert len(buf.getvalue()) > bluesky.IMAGE_MAX_BYTES
    data, mimetype = media.fit_image(buf.getvalue(), bluesky.IMAGE)
    assert len(data) <= bluesky.IMAGE_MAX_BYTES and mimetype == "image/jpeg"
    assert opened(data).size == (1500, 1500)  # quality went down first, not the size


def test_a_picture_that_fits_is_untouched():
    jpeg = make_image(1000, 800, "JPEG")
    assert media.fit_image(jpeg, tiktok.PHOTO_IMAGE) == (jpeg, "image/jpeg")


def test_impossible_byte_limit_is_refused_in_plain_words():
    with pytest.raises(media.MediaError, match="smaller than"):
        media.convert_image(make_image(500, 500, "PNG"), ("image/png",), max_bytes=100)


def test_animated_gif_becomes_its_first_frame():
    frames = [Image.new("RGB", (120, 80), color) for color in ((255, 0, 0), (0, 0, 255))]
    buf = io.BytesIO()
    frames[0].save(buf, "GIF", save_all=True, append_images=frames[1:], duration=100)
    data, mimetype = media.convert_image(buf.getvalue(), ("image/jpeg",))
    red, _, blue = opened(data).getpixel((10, 10))
    assert mimetype == "image/jpeg" and red > 200 and blue < 60


def test_probe_tells_pictures_from_videos_by_their_bytes():
    facts, details = media.probe(make_image(320, 200, "WEBP"), filename="pic.mp4")
    assert (facts.kind, facts.mimetype, facts.width, facts.height) == ("image", "image/webp", 320, 200)
    assert details["format"] == "WEBP" and details["orientation"] == 1 and details["frames"] == 1
    facts, details = media.probe(make_video(fmt="webm"), filename="clip.png")
    assert (facts.kind, facts.mimetype) == ("video", "video/webm")
    assert details["video_codec"] == "vp8" and details["audio_codec"] is None and details["fps"] == pytest.approx(30)
    with pytest.raises(media.MediaError, match="“notes.txt” is neither a picture nor a video"):
        media.probe(b"hello\n" * 100, filename="notes.txt")


def test_probe_refuses_sound():
    import av

    buf = io.BytesIO()
    with av.open(buf, "w", format="wav") as container:
        stream = container.add_stream("pcm_s16le", rate=8000)
        frame = av.AudioFrame(format="s16", layout="mono", samples=800)
        for plane in frame.planes:
            plane.update(bytes(plane.buffer_size))
        frame.sample_rate = 8000
        for packet in stream.encode(frame):
            container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    with pytest.raises(media.MediaError, match="neither a picture nor a video"):
        media.probe(buf.getvalue(), filename="song.wav")


def test_sniff_mimetype():
    assert media.sniff_mimetype(make_image(8, 8, "JPEG")[:12]) == "image/jpeg"
    assert media.sniff_mimetype(make_image(8, 8, "PNG")[:12]) == "image/png"
    assert media.sniff_mimetype(make_image(8, 8, "WEBP")[:12]) == "image/webp"
    assert media.sniff_mimetype(make_image(8, 8, "GIF")[:12]) == "image/gif"
    assert media.sniff_mimetype(b"<html>") is None


def png_chunk(kind: bytes, body: bytes) -> bytes:
    import struct
    import zlib

    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def test_probe_reads_png_orientation_before_or_after_the_pixels():
    before = with_orientation("PNG", 300, 200, 8)
    assert media.probe(before)[0].width == 200 and media.probe(before)[1]["orientation"] == 8
    exif = Image.Exif()
    exif[0x0112] = 6
    plain = make_image(300, 200, "PNG")
    after = plain[:-12] + png_chunk(b"eXIf", exif.tobytes()) + plain[-12:]  # just before IEND
    facts, details = media.probe(after)
    assert (facts.width, facts.height, details["orientation"]) == (200, 300, 6)
    assert (media.inspect_image(after).width, media.inspect_image(after).height) == (200, 300)  # agrees


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP", "GIF"])
def test_probe_refuses_damaged_pictures(fmt):
    data = make_image(640, 480, fmt)
    assert media.probe(data)[0].mimetype == f"image/{fmt.lower()}"
    with pytest.raises(media.MediaError, match="neither a picture nor a video"):
        media.probe(data[: len(data) * 2 // 3], filename="broken")
    if fmt == "PNG":  # one flipped byte in the pixel data: the chunk's checksum no longer matches
        damaged = bytearray(data)
        damaged[len(data) // 2] ^= 0xFF
        with pytest.raises(media.MediaError):
            media.probe(bytes(damaged))


def test_probe_takes_a_camera_mpo_for_the_jpeg_it_is():
    first, second = (Image.open(io.BytesIO(make_image(400, 300, "JPEG"))) for _ in range(2))
    buf = io.BytesIO()
    first.save(buf, "MPO", save_all=True, append_images=[second])
    assert Image.open(io.BytesIO(buf.getvalue())).format == "MPO"
    facts, details = media.probe(buf.getvalue())
    assert (facts.mimetype, facts.width, details["format"], details["frames"]) == ("image/jpeg", 400, "JPEG", 1)


# ---- HEIC/HEIF and AVIF ---------------------------------------------------------------------------------


PHOTO_TYPES = [("HEIF", "image/heic"), ("AVIF", "image/avif")]


@pytest.mark.parametrize(("fmt", "mimetype"), PHOTO_TYPES)
def test_heic_and_avif_are_recognised_as_shown(fmt, mimetype):
    data = sideways_photo(fmt)
    assert media.sniff_mimetype(data[:12]) == mimetype
    facts = media.inspect_image(data, filename="IMG_0001.HEIC")
    assert (facts.kind, facts.mimetype, facts.width, facts.height) == ("image", mimetype, 200, 400)
    facts, details = media.probe(data, filename="IMG_0001.HEIC")
    assert (facts.kind, facts.mimetype, facts.width, facts.height) == ("image", mimetype, 200, 400)
    assert details["format"] == fmt and details["frames"] == 1 and not details["has_alpha"]


@pytest.mark.parametrize(("fmt", "mimetype"), PHOTO_TYPES)
def test_heic_and_avif_go_out_as_upright_jpeg_with_their_colour_profile(fmt, mimetype):
    from bot.platforms.meta_limits import INSTAGRAM_IMAGE

    data, out_type = media.fit_image(sideways_photo(fmt, 1600, 1200), INSTAGRAM_IMAGE)
    result = opened(data)
    assert out_type == "image/jpeg" and result.format == "JPEG"
    assert result.size == (1200, 1600)  # turned upright (and within 1440 px wide already)
    assert result.getexif().get(0x0112) in (None, 1)
    assert result.info.get("icc_profile") == srgb_profile()
    blue = result.getpixel((600, 40))  # the strip down the stored left edge is along the top when upright
    red = result.getpixel((600, 1500))
    assert blue[2] > 150 > blue[0] and red[0] > 150 > red[2]


def test_a_heic_wider_than_the_box_is_scaled_after_the_turn():
    data, _ = media.fit_image(sideways_photo("HEIF", 2400, 1000, orientation=8), tiktok.PHOTO_IMAGE)
    assert opened(data).size == (800, 1920)  # shown 1000×2400: the height is what TikTok's box limits


def test_a_cut_off_heic_is_refused_not_taken_for_a_video():
    """A HEIC whose data ends early (a cut-off download) is refused in plain words (FFmpeg would read what
    is left as a one-frame MP4)."""
    data = sideways_photo("HEIF")
    for cut in (len(data) * 2 // 3, len(data) - 1):  # (probe reads a HEIC's structure without decoding it)
        with pytest.raises(media.MediaError, match="neither a picture nor a video"):
            media.probe(data[:cut], filename="IMG_0002.HEIC")


def test_jpeg_keeps_its_rgb_colour_profile_but_not_a_cmyk_one():
    image = Image.new("RGB", (3000, 2000), (10, 120, 200))
    buf = io.BytesIO()
    image.save(buf, "JPEG", icc_profile=srgb_profile())
    data, _ = media.fit_image(buf.getvalue(), tiktok.PHOTO_IMAGE)
    assert opened(data).info.get("icc_profile") == srgb_profile() and opened(data).size == (1080, 720)
    cmyk = io.BytesIO()
    Image.new("CMYK", (300, 200), (0, 50, 100, 0)).save(cmyk, "JPEG")
    fake_cmyk_profile = srgb_profile()[:16] + b"CMYK" + srgb_profile()[20:]
    cmyk_with = Image.open(io.BytesIO(cmyk.getvalue()))
    cmyk_with.info["icc_profile"] = fake_cmyk_profile
    assert media._rgb_profile(cmyk_with.convert("RGB")) is None


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "HEIF"])
def test_scaling_is_as_good_as_lanczos_alone(fmt):
    """Shrinking by a whole factor first (a JPEG while it decodes) changes next to nothing."""
    import numpy as np

    source = Image.effect_mandelbrot((2000, 1500), (-2, -1.2, 1, 1.2), 100).convert("RGB")
    buf = io.BytesIO()
    source.save(buf, fmt, quality=95)
    decoded = opened(buf.getvalue()).convert("RGB")
    reference = np.asarray(decoded.resize((720, 540), Image.Resampling.LANCZOS), dtype=np.float32)
    data, _ = media.convert_image(buf.getvalue(), ("image/png",), max_width=720)
    made = np.asarray(opened(data).convert("RGB"), dtype=np.float32)
    assert made.shape == reference.shape
    mse = float(np.mean((made - reference) ** 2))
    assert mse < 255**2 / 10**4  # PSNR above 40 dB
