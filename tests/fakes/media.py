"""Media made at test time: real pictures (Pillow), real short videos (PyAV), bytes that only start
like a video (for fakes that check the container type), and the MediaPayloads adapters are handed."""

from __future__ import annotations

import functools
import io
import secrets
from collections.abc import AsyncIterator, Callable
from typing import Any

from PIL import Image, ImageDraw

from bot.platforms.base import MediaFacts, MediaPayload

# ---- pictures -------------------------------------------------------------------------------------


def image_bytes(width: int, height: int, fmt: str = "JPEG", *, color=(200, 120, 40),
                pad_to: int | None = None) -> bytes:
    """A real one-colour image; `pad_to` appends bytes after the image data so the file reaches that
    size (Pillow and every decoder still read it, as they ignore what follows the image)."""
    out = io.BytesIO()
    Image.new("RGB", (width, height), color).save(out, fmt)
    data = out.getvalue()
    if pad_to and pad_to > len(data):
        data += b"\0" * (pad_to - len(data))
    return data


def jpeg(width: int = 1080, height: int = 1080, **kw) -> bytes:
    return image_bytes(width, height, "JPEG", **kw)


def png(width: int = 1080, height: int = 1080, **kw) -> bytes:
    return image_bytes(width, height, "PNG", **kw)


def webp(width: int = 1080, height: int = 1080) -> bytes:
    return image_bytes(width, height, "WEBP")


def small_image(fmt: str = "JPEG", size: tuple[int, int] = (64, 48), color=(220, 40, 40)) -> bytes:
    return image_bytes(*size, fmt, color=color)


@functools.lru_cache(maxsize=64)  # bytes are immutable: tests share the encodings
def make_image(width: int = 800, height: int = 600, fmt: str = "PNG", mode: str = "RGB", **save: Any) -> bytes:
    """A picture with some detail (so it compresses like a photo, not like a flat colour)."""
    image = Image.new(mode, (width, height), (30, 120, 200, 255)[: len(mode)] if mode != "L" else 128)
    draw = ImageDraw.Draw(image)
    for i in range(0, max(width, height), 16):
        draw.line([(i, 0), (0, i)], fill=(255, (i * 7) % 255, 0, 180)[: len(mode)] if mode != "L" else i % 255,
                  width=3)
    buf = io.BytesIO()
    image.save(buf, fmt, **save)
    return buf.getvalue()


def make_pdf(pages: int = 3) -> bytes:
    """A PDF of `pages` pages (a slide deck, as Pillow writes one), the kind a LinkedIn document post is made of."""
    slides = [Image.new("RGB", (320, 180), (20 * n % 255, 90, 160)) for n in range(pages)]
    buf = io.BytesIO()
    slides[0].save(buf, "PDF", save_all=True, append_images=slides[1:], resolution=72)
    return buf.getvalue()


# ---- videos ---------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=64)
def make_video(seconds: float = 1.0, fps: int = 30, width: int = 640, height: int = 360, fmt: str = "mp4",
               pad_to: int | None = None) -> bytes:
    """A few frames of video (a few KB). `pad_to` grows an MP4 to that many bytes with a `free` box at
    the end, which every MP4 reader skips: a large, valid file without encoding one."""
    import av
    import numpy as np

    buf = io.BytesIO()
    codec = "libvpx" if fmt == "webm" else "libx264"  # H.264, as phones and every platform use
    with av.open(buf, "w", format=fmt) as container:
        stream = container.add_stream(codec, rate=fps)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        for i in range(max(1, round(seconds * fps))):
            frame = np.full((height, width, 3), (i * 9) % 255, dtype=np.uint8)
            for packet in stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    data = buf.getvalue()
    if pad_to and pad_to > len(data) + 8:
        size = pad_to - len(data)
        data += size.to_bytes(4, "big") + b"free" + bytes(size - 8)
    return data


@functools.lru_cache(maxsize=64)
def make_clip(*, codec: str = "libx264", fmt: str = "mp4", width: int = 360, height: int = 640, fps: int = 30,
              seconds: float = 1.0, rotation: int = 0, audio: str | None = "aac", faststart: bool = False,
              audio_rate: int = 48000) -> bytes:
    """A short clip as phones write them, a few KB: `codec` libx264 or libx265 (HEVC), `fmt` mp4 or mov,
    a display `rotation` (counter-clockwise degrees, in the track's matrix), a tone as `audio` (aac, mp3,
    or None), the index before the media data with `faststart`. Frames are stored `width`×`height`, with a
    red top-left quarter, so a test can tell whether a turn was applied."""
    import tempfile

    import av
    import numpy as np

    folder = tempfile.TemporaryDirectory()  # the muxer moves the index by reading its own file back
    path = f"{folder.name}/clip.{fmt}"
    options = {"movflags": "+faststart"} if faststart else {}
    with folder, av.open(path, "w", format=fmt, options=options) as container:
        fast = {"preset": "ultrafast"} | ({"x265-params": "log-level=error"} if codec == "libx265" else {})
        stream = container.add_stream(codec, rate=fps, options=fast)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        if rotation:
            stream.set_display_rotation(rotation)
        sound = None
        if audio:
            sound = container.add_stream(audio, rate=audio_rate, layout="stereo")
        for i in range(max(1, round(seconds * fps))):
            frame = np.full((height, width, 3), 40 + (i * 5) % 150, dtype=np.uint8)
            frame[: height // 4, : width // 4] = (230, 20, 20)
            for packet in stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
        if sound is not None:
            size = sound.codec_context.frame_size or 1152
            t = np.arange(int(seconds * audio_rate), dtype=np.float32) / audio_rate
            tone = (0.2 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
            for start in range(0, len(tone) - size + 1, size):
                samples = np.stack([tone[start:start + size]] * 2)
                chunk = av.AudioFrame.from_ndarray(samples, format="fltp", layout="stereo")  # the encoder converts
                chunk.sample_rate, chunk.pts = audio_rate, start
                for packet in sound.encode(chunk):
                    container.mux(packet)
            for packet in sound.encode():
                container.mux(packet)
        container.close()
        with open(path, "rb") as fh:
            return fh.read()


def mp4(size: int = 4096, brand: bytes = b"isom", *, noise: bool = False) -> bytes:
    """Bytes that start like an MP4 (an `ftyp` box), then zeros (or random bytes, with `noise`): enough
    for a fake that checks the container type, not the frames."""
    box = (24).to_bytes(4, "big") + b"ftyp" + brand + b"\0\0\x02\0" + brand + b"mp41"
    rest = max(0, size - len(box))
    return box + (secrets.token_bytes(rest) if noise else b"\0" * rest)


def webm(size: int = 4096) -> bytes:
    return b"\x1a\x45\xdf\xa3" + b"\0" * (size - 4)


# ---- what tests hand an adapter -------------------------------------------------------------------


def chunks(data: bytes, chunk: int) -> Callable[[], AsyncIterator[bytes]]:
    """A MediaPayload's `read`: the bytes in `chunk`-byte pieces."""
    async def read() -> AsyncIterator[bytes]:
        for start in range(0, len(data), chunk):
            yield data[start:start + chunk]

    return read


def media_payload(data: bytes, mimetype: str, *, filename: str = "", alt_text: str | None = None,
                  size: tuple[int, int] | None = None, duration: float | None = None,
                  public_url: str | None = None, chunk: int = 256 * 1024, kind: str | None = None,
                  id: str | None = None) -> MediaPayload:
    """A MediaPayload with the facts given (the kind follows the mimetype unless given)."""
    kind = kind or ("video" if mimetype.startswith("video/") else "image")
    facts = MediaFacts(id=id or secrets.token_hex(4), kind=kind, mimetype=mimetype, size_bytes=len(data),
                       width=size[0] if size else None, height=size[1] if size else None, duration=duration,
                       filename=filename or f"{kind}.{mimetype.split('/')[-1]}", alt_text=alt_text)
    return MediaPayload(facts=facts, public_url=public_url, read=chunks(data, chunk))


def payload(data: bytes, kind: str | None = None, url: str | None = None, filename: str = "",
            alt_text: str | None = None, chunk: int = 64 * 1024) -> MediaPayload:
    """A MediaPayload of these bytes, its facts found by bot.media."""
    from bot.media import pictures as media

    kind = kind or ("video" if data[4:8] in (b"ftyp", b"moov") or data[:4] == b"\x1aE\xdf\xa3" else "image")
    inspect = media.inspect_video if kind == "video" else media.inspect_image
    facts = inspect(data, id=f"m{len(data)}", filename=filename, alt_text=alt_text)
    return MediaPayload(facts=facts, public_url=url, read=chunks(data, chunk))


@functools.cache
def srgb_profile() -> bytes:  # (once: a new profile carries the time it was made)
    from PIL import ImageCms

    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


def sideways_photo(fmt: str, width: int = 400, height: int = 200, orientation: int = 6) -> bytes:
    """A picture stored `width`×`height` with a blue strip down its left edge, turned by `orientation` when
    shown, with an sRGB colour profile. For HEIC, pillow-heif writes the turn as HEIF's own irot box (as an
    iPhone does) besides the EXIF tag; Pillow writes an AVIF's the same way."""
    image = Image.new("RGB", (width, height), (200, 30, 30))
    image.paste((30, 30, 200), (0, 0, width // 4, height))
    exif = Image.Exif()
    exif[0x0112] = orientation
    buf = io.BytesIO()
    image.save(buf, fmt, exif=exif.tobytes(), icc_profile=srgb_profile(), quality=90)
    return buf.getvalue()
