"""Pictures with Pillow, and what any attachment is: pure functions on bytes that find out what an
attachment is (videos are read by bot.media.video) and make a picture fit a platform. No I/O besides the
bytes handed in.

`fit_image(data, limits)` is what publishing uses when validation said a problem is fixable: a PNG
for TikTok's photo posts (JPEG or WebP only) becomes a JPEG, a 4000 px photo is scaled down, a 6 MB
one is recompressed under the platform's byte limit.
"""

from __future__ import annotations

import io
import struct
from typing import Any

from PIL import Image, ImageOps, UnidentifiedImageError

from bot.media.errors import MediaError
from bot.platforms.base import MediaFacts, MediaLimits

# The types the pipeline can write, by MIME type, and Pillow's name for each.
WRITABLE = {"image/jpeg": "JPEG", "image/webp": "WEBP", "image/png": "PNG"}
QUALITIES = (90, 85, 80, 75, 70, 60, 50, 40)  # tried in turn until the file fits max_bytes
MIN_SIDE = 64  # never shrink a picture below this to meet a byte limit: refuse instead

Image.MAX_IMAGE_PIXELS = 100_000_000  # refuse decompression bombs rather than decode them


def _open(data: bytes) -> Image.Image:
    try:
        image = Image.open(io.BytesIO(data))
        image.load()
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError) as exc:
        raise MediaError(f"This file is not a picture Picmim can read ({exc.__class__.__name__}).") from None
    return image


def _mimetype(image: Image.Image) -> str:
    return Image.MIME.get(image.format or "", f"image/{(image.format or 'unknown').lower()}")


def inspect_image(data: bytes, id: str = "", filename: str = "", alt_text: str | None = None) -> MediaFacts:
    """Type (from the bytes, not the name), size, and the width and height as the picture is shown:
    an EXIF rotation of 90° swaps them."""
    image = _open(data)
    width, height = image.size
    if image.getexif().get(0x0112) in (5, 6, 7, 8):  # orientation tags that turn the picture sideways
        width, height = height, width
    return MediaFacts(id=id, kind="image", mimetype=_mimetype(image), size_bytes=len(data), width=width,
                      height=height, filename=filename, alt_text=alt_text)


def probe_image(data: bytes, id: str = "", filename: str = "",
                alt_text: str | None = None) -> tuple[MediaFacts, dict[str, Any]]:
    """`inspect_image`, plus the details worth keeping: format, mode, EXIF orientation, frames.

    Checks the whole file as `inspect_image` does, but cheaply where the format allows: a JPEG is
    decoded at an eighth of its size (every byte of it is still read), a PNG has the checksum of every
    chunk verified instead of being inflated; other types are decoded in full."""
    try:
        image = Image.open(io.BytesIO(data))
        fmt, mode, size = image.format, image.mode, image.size
        if fmt == "MPO":  # a camera JPEG with a second picture appended: every JPEG reader takes it
            fmt = "JPEG"
        frames = 1 if image.format == "MPO" else getattr(image, "n_frames", 1)
        has_alpha = _has_alpha(image)
        if fmt == "PNG":
            exif = _png_exif(data)
            orientation = _orientation_of(_load_exif(exif)) if exif else 1
            image.verify()
        else:
            orientation = _orientation(image)
            if fmt == "JPEG":
                image.draft(None, (max(1, size[0] // 8), max(1, size[1] // 8)))
            image.load()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError, struct.error,
            Image.DecompressionBombError) as exc:
        raise MediaError(f"This file is not a picture Picmim can read ({exc.__class__.__name__}).") from None
    width, height = size
    if orientation in (5, 6, 7, 8):
        width, height = height, width
    details: dict[str, Any] = {
        "format": fmt,
        "mode": mode,
        "orientation": orientation,
        "frames": frames,
        "has_alpha": has_alpha,
        "stored_size": list(size),  # as encoded, before the EXIF rotation
    }
    facts = MediaFacts(id=id, kind="image", mimetype=Image.MIME.get(fmt or "", f"image/{(fmt or 'unknown').lower()}"),
                       size_bytes=len(data), width=width, height=height, filename=filename, alt_text=alt_text)
    return facts, details


def _png_exif(data: bytes) -> bytes | None:
    """The eXIf chunk of a PNG, wherever it is (Pillow reads one after the pixels only by decoding them)."""
    offset = 8
    while offset + 8 <= len(data):
        length, kind = struct.unpack(">I4s", data[offset:offset + 8])
        if kind == b"eXIf":
            return data[offset + 8:offset + 8 + length]
        if kind == b"IEND":
            break
        offset += 12 + length
    return None


def _load_exif(raw: bytes) -> Image.Exif:
    exif = Image.Exif()
    exif.load(raw)
    return exif


def _orientation_of(exif: Image.Exif | None) -> int:
    value = exif.get(0x0112, 1) if exif is not None else 1
    return value if isinstance(value, int) and 1 <= value <= 8 else 1


def _orientation(image: Image.Image) -> int:
    return _orientation_of(image.getexif())


# Containers a video may come in; anything else PyAV reads (an MP3 with cover art) is not a video.
VIDEO_TYPES = ("video/mp4", "video/quicktime", "video/webm", "video/x-matroska", "video/avi", "video/mpegts")


def probe(data: bytes, id: str = "", filename: str = "",
          alt_text: str | None = None) -> tuple[MediaFacts, dict[str, Any]]:
    """What an attachment is, from its bytes alone: a picture (Pillow) or a video (PyAV), with the
    details worth keeping. Anything else is refused with a MediaError that names the file."""
    try:
        return probe_image(data, id=id, filename=filename, alt_text=alt_text)
    except MediaError:
        pass
    try:
        facts, details = probe_video(data, id=id, filename=filename, alt_text=alt_text)
    except MediaError:
        pass
    else:
        if facts.mimetype in VIDEO_TYPES and facts.width and facts.height:
            return facts, details
    name = f"“{filename}”" if filename else "This file"
    raise MediaError(f"{name} is neither a picture nor a video Picmim can read: attach a JPEG, PNG, GIF or WebP "
                     "picture, or an MP4, MOV or WebM video.")


def sniff_mimetype(head: bytes) -> str | None:
    """The type of a file the pipeline wrote, from its first bytes (12 are enough)."""
    if head[:3] == b"\xff\xd8\xff":
        return "image/jpeg"
    if head[:8] == b"\x89PNG\r\n\x1a\n":
        return "image/png"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    return None


def inspect_video(data: bytes, id: str = "", filename: str = "", alt_text: str | None = None) -> MediaFacts:
    """Container type, size, frame size (as shown), duration, frame rate and codecs, read with PyAV."""
    return probe_video(data, id=id, filename=filename, alt_text=alt_text)[0]


def probe_video(data: bytes, id: str = "", filename: str = "",
                alt_text: str | None = None) -> tuple[MediaFacts, dict[str, Any]]:
    """`inspect_video`, plus the details worth keeping: codecs, pixel format, bit rate, rotation, sound,
    whether the index comes first (bot.media.video does the reading)."""
    from bot.media.video import VideoError, inspect

    try:
        return inspect(data, id=id, filename=filename, alt_text=alt_text)
    except VideoError as exc:
        raise MediaError(str(exc)) from None


def convert_image(data: bytes, accepted: tuple[str, ...], max_bytes: int | None = None,
                  max_width: int | None = None, max_height: int | None = None) -> tuple[bytes, str]:
    """The picture as one of the `accepted` MIME types, within the limits; returns (bytes, mimetype).

    Applies the EXIF orientation (platforms ignore it), converts a type that is not accepted into the
    first accepted one the pipeline can write (JPEG flattens transparency onto white), scales down
    keeping the aspect ratio, then lowers the quality (and at last the size) until it fits max_bytes.
    A picture that already fits is returned untouched."""
    image = _open(data)
    mimetype = _mimetype(image)
    orientation = image.getexif().get(0x0112, 1)
    width, height = image.size
    if orientation in (5, 6, 7, 8):
        width, height = height, width
    fits_box = (max_width is None or width <= max_width) and (max_height is None or height <= max_height)
    if (mimetype in accepted and orientation == 1 and fits_box
            and (max_bytes is None or len(data) <= max_bytes)):
        return data, mimetype

    target = mimetype if mimetype in accepted and mimetype in WRITABLE else next(
        (t for t in accepted if t in WRITABLE), None)
    if target is None:
        raise MediaError("Picmim cannot write any of the picture types this platform takes.")
    if orientation in range(2, 9):  # (without a turn, exif_transpose would only copy every pixel)
        image = ImageOps.exif_transpose(image)  # also drops the tag, so no viewer turns it twice
    if getattr(image, "n_frames", 1) > 1:
        image.seek(0)  # an animation becomes its first frame
    image = _for_format(image, WRITABLE[target])
    if not fits_box:
        image.thumbnail((max_width or image.width, max_height or image.height), Image.Resampling.LANCZOS)

    while True:
        for quality in QUALITIES if target != "image/png" else (None,):
            out = _save(image, WRITABLE[target], quality)
            if max_bytes is None or len(out) <= max_bytes:
                return out, target
        if min(image.size) * 0.8 < MIN_SIDE:
            raise MediaError(f"Picmim could not make this picture smaller than {max_bytes:,} bytes: "
                             "attach a simpler or smaller one.")
        image = image.resize((round(image.width * 0.8), round(image.height * 0.8)), Image.Resampling.LANCZOS)


def fit_image(data: bytes, limits: MediaLimits) -> tuple[bytes, str]:
    """`convert_image` with a platform's image limits."""
    return convert_image(data, limits.mimetypes, limits.max_bytes, limits.max_width, limits.max_height)


def _has_alpha(image: Image.Image) -> bool:
    return image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info)


def _for_format(image: Image.Image, fmt: str) -> Image.Image:
    has_alpha = _has_alpha(image)
    if fmt == "JPEG":
        if has_alpha:
            rgba = image.convert("RGBA")
            flat = Image.new("RGB", rgba.size, (255, 255, 255))
            flat.paste(rgba, mask=rgba.getchannel("A"))
            return flat
        return image.convert("RGB") if image.mode != "RGB" else image
    if fmt in ("WEBP", "PNG"):
        wanted = "RGBA" if has_alpha else "RGB"
        return image.convert(wanted) if image.mode != wanted else image
    return image


def _save(image: Image.Image, fmt: str, quality: int | None) -> bytes:
    buf = io.BytesIO()
    if fmt == "JPEG":
        image.save(buf, fmt, quality=quality, optimize=True, progressive=True)
    elif fmt == "WEBP":
        image.save(buf, fmt, quality=quality, method=4)
    else:
        image.save(buf, fmt, optimize=True)
    return buf.getvalue()
