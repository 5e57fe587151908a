"""File types and codecs by the names people know them by (MP4, HEVC (H.265)), for validation's messages
and the video plans alike; free of every other module so platforms and media may both import it."""

_TYPE_NAMES = {"image/jpeg": "JPEG", "image/png": "PNG", "image/webp": "WebP", "image/gif": "GIF",
               "image/heic": "HEIC", "video/mp4": "MP4", "video/quicktime": "MOV", "video/webm": "WebM",
               "video/x-matroska": "MKV", "video/avi": "AVI", "video/mpegts": "MPEG-TS", "application/pdf": "PDF"}
_CODEC_NAMES = {"h264": "H.264", "hevc": "HEVC (H.265)", "vp8": "VP8", "vp9": "VP9", "av1": "AV1", "aac": "AAC",
                "mpeg4": "MPEG-4 Part 2", "prores": "ProRes", "opus": "Opus", "mp3": "MP3", "vorbis": "Vorbis",
                "pcm_s16le": "PCM", "ac3": "AC-3", "eac3": "E-AC-3", "alac": "ALAC", "flac": "FLAC"}


def type_name(mimetype: str) -> str:
    return _TYPE_NAMES.get(mimetype, mimetype.split("/")[-1].upper())


def codec_name(codec: str | None) -> str:
    """FFmpeg's codec name as people know it: hevc -> HEVC (H.265)."""
    return _CODEC_NAMES.get(codec or "", (codec or "unknown").upper())
