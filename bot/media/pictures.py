"""Pictures with Pillow, and what any attachment is: pure functions on bytes that find out what an
attachment is (videos are read by bot.media.video) and make a picture fit a platform. No I/O besides the
bytes handed in.

`fit_image(data, limits)` is what publishing uses when validation said a problem is fixable: a PNG
for TikTok's photo posts (JPEG or WebP only) becomes a JPEG, a 4000 px photo is scaled down, a 6 MB
one is recompressed under the platform's byte limit.

HEIC/HEIF (iPhone photos) open through pillow-heif, registered here once; AVIF through Pillow itself
(its wheels are built with libavif). No platform takes either, so both always go out converted.
"""

from __future__ import annotations

import io
import math
import struct
from typing import Any

import pillow_heif
from PIL import Image, UnidentifiedImageError

from bot.media.errors import MediaError
from bot.platforms.base import MediaFacts, MediaLimits

# The types the pipeline can write, by MIME type, and Pillow's name for each.
WRITABLE = {"image/jpeg": "JPEG", "image/webp": "WEBP", "image/png": "PNG"}
QUALITIES = (90, 85, 80, 75, 70, 60, 50, 40)  # tried in turn until the file fits max_bytes
MIN_SIDE = 64  # never shrink a picture below this to meet a byte limit: refuse instead
# Shrink by a whole factor (a JPEG while it decodes) only while LANCZOS still has at least this much
# shrinking left to do: the result differs from LANCZOS alone by far less than JPEG's own loss (PSNR > 44 dB).
REDUCING_GAP = 1.25

Image.MAX_IMAGE_PIXELS = 100_000_000  # refuse decompression bombs rather than decode them

# HEIC/HEIF pictures open in Pillow. libheif applies the picture's own turn (its irot/imir boxes) when it
# decodes, and pillow-heif then sets the EXIF orientation to 1, so a HEIC reads as any upright picture.
pillow_heif.register_heif_opener()

# The ISO base media file types a picture comes in, by the brand after `ftyp` (a sequence is taken as the
# still picture it starts with). Videos share the box but not these brands.
_FTYP_BRANDS = {
    **dict.fromkeys((b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"hevm", b"hevs"), "image/heic"),
    **dict.fromkeys((b"mif1", b"msf1"), "image/heif"),
    **dict.fromkeys((b"avif", b"avis"), "image/avif"),
}

# How to turn stored pixels upright for each EXIF orientation (as ImageOps.exif_transpose does).
_UPRIGHT = {
    2: Image.Transpose.FLIP_LEFT_RIGHT, 3: Image.Transpose.ROTATE_180, 4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE, 6: Image.Transpose.ROTATE_270, 7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}

_UNREADABLE = (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError, RuntimeError, struct.error,
               Image.DecompressionBombError)  # pillow-heif raises ValueError/SyntaxError/RuntimeError too


def _open(data: bytes, load: bool = True) -> Image.Image:
    try:
        image = Image.open(io.BytesIO(data))
        if load:
            image.load()
    except _UNREADABLE as exc:
        raise MediaError(f"This file is not a picture Picmim can read ({exc.__class__.__name__}).") from None
    return image


def _mimetype(image: Image.Image, data: bytes = b"") -> str:
    return _type_of(image.format, data)


def _type_of(fmt: str | None, data: bytes) -> str:
    if fmt == "HEIF":  # Pillow knows one type for the plugin; the brand tells HEIC from other HEIF
        return _FTYP_BRANDS.get(data[8:12], "image/heif") if data[4:8] == b"ftyp" else "image/heif"
    return Image.MIME.get(fmt or "", f"image/{(fmt or 'unknown').lower()}")


def inspect_image(data: bytes, id: str = "", filename: str = "", alt_text: str | None = None) -> MediaFacts:
    """Type (from the bytes, not the name), size, and the width and height as the picture is shown:
    an EXIF rotation of 90° swaps them."""
    image = _open(data)
    width, height = image.size
    if image.getexif().get(0x0112) in (5, 6, 7, 8):  # orientation tags that turn the picture sideways
        width, height = height, width
    return MediaFacts(id=id, kind="image", mimetype=_mimetype(image, data), size_bytes=len(data), width=width,
                      height=height, filename=filename, alt_text=alt_text)


def probe_image(data: bytes, id: str = "", filename: str = "",
                alt_text: str | None = None) -> tuple[MediaFacts, dict[str, Any]]:
    """`inspect_image`, plus the details worth keeping: format, mode, EXIF orientation, frames.

    Checks the whole file as `inspect_image` does, but cheaply where the format allows: a JPEG is
    decoded at an eighth of its size (every byte of it is still read), a PNG has the checksum of every
    chunk verified instead of being inflated, a HEIC/HEIF has its structure read by libheif and the place
    of every piece of its data checked against the file's end (a cut-off file is refused; a damaged
    picture stream shows only when it is converted); other types (AVIF included) are decoded in full."""
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
            if fmt == "HEIF":  # decoding a HEIC costs as much as converting it: that happens once, later
                _check_heif_extents(data)
            else:
                image.load()
    except _UNREADABLE as exc:
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
    facts = MediaFacts(id=id, kind="image", mimetype=_type_of(fmt, data),
                       size_bytes=len(data), width=width, height=height, filename=filename, alt_text=alt_text)
    return facts, details


def _check_heif_extents(data: bytes) -> None:
    """Raise ValueError unless every piece of data the HEIF's item location box (iloc) names lies inside
    the file (ISO/IEC 14496-12 §8.11.3). libheif has read the structure; this is what a cut-off file breaks."""
    meta = _box(data, 0, len(data), b"meta")
    if meta is None:
        raise ValueError("no meta box")
    iloc = _box(data, meta[0] + 4, meta[1], b"iloc")  # (meta is a full box: 4 bytes of version and flags)
    if iloc is None:
        raise ValueError("no iloc box")
    pos, end = iloc
    version = data[pos]
    sizes = data[pos + 4] << 8 | data[pos + 5]
    offset_size, length_size, base_size = sizes >> 12, sizes >> 8 & 15, sizes >> 4 & 15
    index_size = sizes & 15 if version in (1, 2) else 0
    pos += 6

    def read(n: int) -> int:
        nonlocal pos
        if pos + n > end:
            raise ValueError("iloc box cut short")
        value = int.from_bytes(data[pos:pos + n], "big")
        pos += n
        return value

    for _item in range(read(2 if version < 2 else 4)):
        read(2 if version < 2 else 4)  # item ID
        method = read(2) & 15 if version in (1, 2) else 0
        reference = read(2)
        base = read(base_size)
        for _extent in range(read(2)):
            read(index_size)
            offset, length = read(offset_size), read(length_size)
            if method == 0 and reference == 0 and base + offset + length > len(data):
                raise ValueError("the picture's data ends early")


def _box(data: bytes, start: int, end: int, kind: bytes) -> tuple[int, int] | None:
    """(where the body starts, where it ends) of the first box of this kind among the boxes in data[start:end]."""
    pos = start
    while pos + 8 <= end:
        size, found = struct.unpack(">I4s", data[pos:pos + 8])
        header = 8
        if size == 1:
            size, header = struct.unpack(">Q", data[pos + 8:pos + 16])[0], 16
        elif size == 0:
            size = end - pos
        if size < header:
            return None
        if found == kind:
            return pos + header, min(pos + size, end)
        pos += size
    return None


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
    """What an attachment is, from its bytes alone: a picture (Pillow), a video (PyAV) or a document (a PDF,
    kept as it is: bot.media.documents), with the details worth keeping. Anything else is refused with a
    MediaError that names the file."""
    from bot.media import documents

    if documents.is_document(data[:1024]):
        return documents.probe_document(data, id=id, filename=filename)
    try:
        return probe_image(data, id=id, filename=filename, alt_text=alt_text)
    except MediaError:
        pass
    # A HEIC or AVIF Pillow cannot read is damaged (FFmpeg would take what is left for a one-frame MP4).
    if sniff_mimetype(data[:12]) is None:
        try:
            facts, details = probe_video(data, id=id, filename=filename, alt_text=alt_text)
        except MediaError:
            pass
        else:
            if facts.mimetype in VIDEO_TYPES and facts.width and facts.height:
                return facts, details
    name = f"“{filename}”" if filename else "This file"
    raise MediaError(f"{name} is neither a picture nor a video Picmim can read: attach a JPEG, PNG, GIF, WebP, "
                     "HEIC or AVIF picture, an MP4, MOV or WebM video, or a PDF (for LinkedIn).")


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
    if head[4:8] == b"ftyp":
        return _FTYP_BRANDS.get(head[8:12])
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
    The colour profile (ICC) goes along. A picture that already fits is returned untouched.

    Made cheaply: a JPEG is decoded straight at a half, quarter or eighth of its size when that still
    leaves LANCZOS some shrinking to do (libjpeg scales while it decodes), other pictures are shrunk by
    a whole factor first the same way (Pillow's `reducing_gap`), and the pixels are turned upright after
    scaling, when there are fewer of them."""
    image = _open(data, load=False)
    mimetype = _mimetype(image, data)
    jpeg = image.format in ("JPEG", "MPO")
    if not jpeg:  # (a PNG may keep its EXIF after the pixels: read them first)
        _load(image)
    orientation = _orientation(image)
    sideways = orientation in (5, 6, 7, 8)
    width, height = image.size[::-1] if sideways else image.size
    fits_box = (max_width is None or width <= max_width) and (max_height is None or height <= max_height)
    if (mimetype in accepted and orientation == 1 and fits_box
            and (max_bytes is None or len(data) <= max_bytes)):
        return data, mimetype

    target = mimetype if mimetype in accepted and mimetype in WRITABLE else next(
        (t for t in accepted if t in WRITABLE), None)
    if target is None:
        raise MediaError("Picmim cannot write any of the picture types this platform takes.")
    size = None  # the size to scale to, as stored (before the turn)
    if not fits_box:
        shown = _fitted((width, height), (max_width or width, max_height or height))
        size = shown[::-1] if sideways else shown
        if jpeg:
            image.draft(None, (math.ceil(size[0] * REDUCING_GAP), math.ceil(size[1] * REDUCING_GAP)))
    if getattr(image, "n_frames", 1) > 1:
        image.seek(0)  # an animation becomes its first frame
    _load(image)
    image = _for_format(image, WRITABLE[target])
    if size is not None and size != image.size:
        image = image.resize(size, Image.Resampling.LANCZOS, reducing_gap=REDUCING_GAP)
    if orientation in _UPRIGHT:
        image = image.transpose(_UPRIGHT[orientation])  # no EXIF is written, so no viewer turns it twice

    while True:
        for quality in QUALITIES if target != "image/png" else (None,):
            out = _save(image, WRITABLE[target], quality)
            if max_bytes is None or len(out) <= max_bytes:
                return out, target
        if min(image.size) * 0.8 < MIN_SIDE:
            raise MediaError(f"Picmim could not make this picture smaller than {max_bytes:,} bytes: "
                             "attach a simpler or smaller one.")
        image = image.resize((round(image.width * 0.8), round(image.height * 0.8)), Image.Resampling.LANCZOS)


def _load(image: Image.Image) -> None:
    try:
        image.load()
    except _UNREADABLE as exc:
        raise MediaError(f"This file is not a picture Picmim can read ({exc.__class__.__name__}).") from None


def _fitted(size: tuple[int, int], box: tuple[int, int]) -> tuple[int, int]:
    """`size` scaled down into `box` keeping the aspect ratio, rounded as `Image.thumbnail` rounds."""
    width, height = size
    x, y = box
    if x >= width and y >= height:
        return size
    aspect = width / height

    def rounded(number: float, key) -> int:
        return max(min(math.floor(number), math.ceil(number), key=key), 1)

    if x / y >= aspect:
        return rounded(y * aspect, key=lambda n: abs(aspect - n / y)), y
    return x, rounded(x / aspect, key=lambda n: 0 if n == 0 else abs(aspect - x / n))


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
            flat.info = dict(rgba.info)  # the colour profile
            return flat
        return image.convert("RGB") if image.mode != "RGB" else image
    if fmt in ("WEBP", "PNG"):
        wanted = "RGBA" if has_alpha else "RGB"
        return image.convert(wanted) if image.mode != wanted else image
    return image


def _save(image: Image.Image, fmt: str, quality: int | None) -> bytes:
    buf = io.BytesIO()
    profile = _rgb_profile(image)
    if fmt == "JPEG":
        image.save(buf, fmt, quality=quality, optimize=True, progressive=True, icc_profile=profile)
    elif fmt == "WEBP":
        image.save(buf, fmt, quality=quality, method=4, icc_profile=profile)
    else:
        image.save(buf, fmt, optimize=True, icc_profile=profile)
    return buf.getvalue()


def _rgb_profile(image: Image.Image) -> bytes | None:
    """The picture's ICC colour profile if it still describes its pixels: an RGB profile on RGB(A) pixels
    (a CMYK or grey one is dropped once the pixels are converted to RGB)."""
    profile = image.info.get("icc_profile")
    if isinstance(profile, bytes) and profile[16:20] == b"RGB " and image.mode in ("RGB", "RGBA"):
        return profile
    return None
