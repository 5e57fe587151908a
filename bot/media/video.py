"""Video with PyAV (FFmpeg inside its wheels, so no system install): what a video is, what each platform's
rules ask of it, and making the copy that fits, streamed from file to file.

    inspect(source)                   -> (MediaFacts, details): container, codecs, size as shown, rotation,
                                         frame rate, bit rate, duration, whether the index (moov) comes first
    plan(facts, limits, ...)          -> Rendition | None: what must change for these rules (None: nothing)
    make(source, target, rendition)   -> MediaFacts of the new file (H.264/AAC MP4, fast start)
    cover_jpeg(source, at_seconds)    -> a small JPEG of the frame shown at that time

A rendition keeps what the user meant: it converts codecs and containers, moves the index to the front,
turns the picture upright, scales it down within the limits keeping its shape, lowers a frame rate that
is too high, and lowers the bit rate to fit a size limit. It never crops, never slows or speeds up, and
cuts the end of a video only when `plan(..., trim=True)` was asked for (the user chose it in the modal).

Memory stays bounded whatever the file's length: packets are read from disk as they are decoded and
written as they are encoded; only the codecs' own frame queues are held.

Over 500 lines on purpose: inspecting, planning and making a rendition share PyAV's stream details
(rotation, frame rate, time bases) that would otherwise travel between modules as loose tuples.
"""

from __future__ import annotations

import hashlib
import io
import math
import os
import struct
from collections.abc import Callable
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any, BinaryIO

from bot.media.names import codec_name, type_name
from bot.platforms.base import MediaFacts, MediaLimits

# The containers a video may come in, by FFmpeg's demuxer names (the first match wins).
_CONTAINER_TYPES = (("webm", "video/webm"), ("matroska", "video/x-matroska"), ("avi", "video/avi"),
                    ("mpegts", "video/mpegts"))
READABLE_TYPES = ("video/mp4", "video/quicktime", "video/webm", "video/x-matroska", "video/avi", "video/mpegts")

# What every rendition is: H.264 (High profile, 8-bit 4:2:0) and AAC-LC in an MP4 with its index first.
OUTPUT_TYPE = "video/mp4"
PRESET = "veryfast"  # x264's speed/size trade-off: platforms re-encode uploads, so speed wins over size
CRF = 21  # x264's constant quality: visually transparent for phone footage
AUDIO_BITRATE = 128_000
AUDIO_MAX_RATE = 48_000  # Instagram takes AAC up to 48 kHz
MIN_VIDEO_BITRATE = 250_000  # below this a size limit is not worth meeting: the picture would be mush
SIZE_MARGIN = 0.92  # aim this far under a byte limit (container overhead, rate control overshoot)
RENDITION_VERSION = 1  # bump when the output of the same plan changes: old renditions are then not reused
# Bit-rate ceilings by picture size (pixels): a rendition is never much larger than a phone's own file.
_BITRATE_CEILINGS = ((1280 * 720, 6_000_000), (1920 * 1080, 10_000_000), (2560 * 1440, 16_000_000),
                     (1 << 62, 35_000_000))
COPYABLE_VIDEO = ("h264", "hevc")  # codecs a remux may carry into MP4 unchanged
COPYABLE_AUDIO = ("aac",)


class VideoError(ValueError):
    """The video cannot be read or converted; the message says so in plain words."""


# ---- inspecting ------------------------------------------------------------------------------------


def inspect(source: bytes | str | os.PathLike, id: str = "", filename: str = "",
            alt_text: str | None = None) -> tuple[MediaFacts, dict[str, Any]]:
    """What a video is, from its bytes (or its file). Decodes its first picture only (for the rotation the
    decoder reports). Raises VideoError for anything that is not a video PyAV reads."""
    import av

    size = len(source) if isinstance(source, bytes | bytearray) else os.path.getsize(source)
    try:
        with _open(source) as container:
            stream = next(iter(container.streams.video), None)
            if stream is None:
                raise VideoError("This file has no video in it.")
            names = set((container.format.name or "").split(","))
            duration = _duration(container, stream)
            rate = stream.average_rate or stream.guessed_rate or stream.base_rate
            fps = float(Fraction(rate)) if rate else None
            ctx = stream.codec_context
            stored = (ctx.width, ctx.height)
            audio = next(iter(container.streams.audio), None)
            rotation = _first_frame_rotation(container, stream)
            details: dict[str, Any] = {
                "container": container.format.name,
                "video_codec": ctx.codec.canonical_name,  # the format's name, not the decoder's (mp3float)
                "pix_fmt": ctx.pix_fmt,
                "audio_codec": audio.codec_context.codec.canonical_name if audio is not None else None,
                "audio_rate": audio.codec_context.sample_rate if audio is not None else None,
                "audio_channels": audio.codec_context.channels if audio is not None else None,
                "bit_rate": container.bit_rate or None,
                "frames": stream.frames or None,
                "rotation": rotation,
                "stored_size": list(stored),
            }
    except av.error.FFmpegError as exc:
        raise VideoError(f"This file is not a video Picmim can read ({exc.__class__.__name__}).") from None
    mimetype = _mimetype(names, source)
    details["faststart"] = index_first(source) if mimetype in ("video/mp4", "video/quicktime") else None
    details.update(duration=duration, fps=fps)
    width, height = stored
    if rotation % 180 == 90:
        width, height = height, width
    facts = MediaFacts(id=id, kind="video", mimetype=mimetype, size_bytes=size, width=width, height=height,
                       duration=duration, fps=fps, filename=filename, alt_text=alt_text,
                       video_codec=details["video_codec"], audio_codec=details["audio_codec"], rotation=rotation,
                       bit_rate=details["bit_rate"], faststart=details["faststart"])
    return facts, details


def _open(source: bytes | str | os.PathLike, mode: str = "r", **kw: Any):
    import av

    if isinstance(source, bytes | bytearray):
        return av.open(io.BytesIO(source), mode, **kw)
    return av.open(os.fspath(source), mode, **kw)


def _duration(container, stream) -> float | None:
    if stream.duration is not None and stream.time_base:
        return float(stream.duration * stream.time_base)
    if container.duration is not None:
        return container.duration / 1_000_000
    return None


def _first_frame_rotation(container, stream) -> int:
    """The counter-clockwise turn the file asks players to apply (0, 90, 180 or 270), as the decoder
    reports it on the first picture (from the track's display matrix)."""
    try:
        for frame in container.decode(stream):
            return round(frame.rotation or 0) % 360
    except Exception:  # noqa: BLE001 - a first picture that does not decode leaves the rotation unknown
        return 0
    return 0


def _mimetype(names: set[str], source: bytes | str | os.PathLike) -> str:
    if "mov" in names and "mp4" in names:
        # FFmpeg names the same demuxer for MP4 and MOV; the file's brand tells them apart.
        return "video/quicktime" if _brand(source) == b"qt  " else "video/mp4"
    for name, mimetype in _CONTAINER_TYPES:
        if name in names:
            return mimetype
    return "video/" + sorted(names)[0] if names else "application/octet-stream"


def _brand(source: bytes | str | os.PathLike) -> bytes:
    if isinstance(source, bytes | bytearray):
        return bytes(source[8:12])
    with open(source, "rb") as fh:
        return fh.read(12)[8:12]


def index_first(source: bytes | str | os.PathLike) -> bool | None:
    """Whether an MP4/MOV has its index (the `moov` box) before its media data (`mdat`): "fast start",
    which lets a platform start reading before the whole file is in. None when neither box is found."""
    if isinstance(source, bytes | bytearray):
        return _index_first(io.BytesIO(source))
    with open(source, "rb") as fh:
        return _index_first(fh)


def _index_first(fh: BinaryIO) -> bool | None:
    offset = 0
    for _ in range(1000):  # top-level boxes only: a handful in any real file
        fh.seek(offset)
        header = fh.read(16)
        if len(header) < 8:
            return None
        size, kind = struct.unpack(">I4s", header[:8])
        if kind == b"moov":
            return True
        if kind == b"mdat":
            return False
        if size == 1 and len(header) == 16:
            size = struct.unpack(">Q", header[8:16])[0]
        elif size == 0:  # the box runs to the end of the file
            return None
        if size < 8:
            return None
        offset += size
    return None


# ---- planning --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rendition:
    """The copy of one video that fits one set of rules. Equal renditions (same `key`) are made once and
    shared by every platform and post that needs them."""

    mode: str  # "remux" (packets copied into a new MP4) | "transcode" (H.264/AAC)
    width: int  # as shown, after turning the picture upright
    height: int
    fps: float | None = None  # the frame rate written (None: the source's, for a remux)
    max_bitrate: int | None = None  # video bits per second at most (a size limit, or the ceiling)
    end: float | None = None  # seconds: the video is cut here (only when the user chose to trim)
    rotation: int = 0  # the source's turn: a transcode applies it to the pixels, a remux keeps it as metadata
    fixes: tuple[str, ...] = field(default=(), compare=False)  # what it changes, in words, for messages

    @property
    def key(self) -> str:
        """16 hex digits naming what the rendition is (not why it was made)."""
        rule = repr((RENDITION_VERSION, self.mode, self.width, self.height,
                     None if self.fps is None else round(self.fps, 3), self.max_bitrate,
                     None if self.end is None else round(self.end, 3), self.rotation))
        return hashlib.sha256(rule.encode()).hexdigest()[:16]

    def as_dict(self) -> dict[str, Any]:
        return {"mode": self.mode, "width": self.width, "height": self.height, "fps": self.fps,
                "max_bitrate": self.max_bitrate, "end": self.end, "rotation": self.rotation,
                "fixes": list(self.fixes)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Rendition:
        return cls(mode=data["mode"], width=int(data["width"]), height=int(data["height"]), fps=data.get("fps"),
                   max_bitrate=data.get("max_bitrate"), end=data.get("end"), rotation=int(data.get("rotation") or 0),
                   fixes=tuple(data.get("fixes") or ()))


def bitrate_budget(limits: MediaLimits, duration: float | None, has_audio: bool = True) -> int | None:
    """The video bits per second that keep a file of `duration` under the byte limit (None: no limit)."""
    if not limits.max_bytes or not duration:
        return None
    total = limits.max_bytes * 8 * SIZE_MARGIN / max(duration, 0.1)
    return int(total - (AUDIO_BITRATE if has_audio else 0))


def reduced_fps(fps: float, max_fps: float) -> float:
    """The highest rate at most `max_fps` that keeps whole frames: 120 → 60, 60 → 30, 50 → 25."""
    return fps / math.ceil(fps / max_fps - 1e-6)


def plan(facts: MediaFacts, limits: MediaLimits | None, *, trim: bool = False) -> Rendition | None:
    """What must change for this video to meet `limits`, or None when it fits as it is. Only what can be
    changed without changing what the user meant is planned: anything else (too short, too small, a shape
    the platform refuses, too long without `trim`) is validation's to refuse."""
    if limits is None or facts.kind != "video" or not facts.width or not facts.height:
        return None
    fixes: list[str] = []
    remuxable = True
    if facts.mimetype not in limits.mimetypes:
        fixes.append(f"{type_name(facts.mimetype)} → MP4")
    if limits.video_codecs and facts.video_codec and facts.video_codec not in limits.video_codecs:
        fixes.append(f"{codec_name(facts.video_codec)} → H.264")
        remuxable = False
    if limits.audio_codecs and facts.audio_codec and facts.audio_codec not in limits.audio_codecs:
        fixes.append(f"{codec_name(facts.audio_codec)} sound → AAC")
        remuxable = False
    if limits.faststart and facts.faststart is False:
        fixes.append("index moved to the start")
    if limits.upright and facts.rotation:
        fixes.append("turned upright")
        remuxable = False
    width, height = facts.width, facts.height
    scale = min((limits.max_width or width) / width, (limits.max_height or height) / height, 1.0)
    if scale < 1.0:
        width, height = _even(width * scale), _even(height * scale)
        fixes.append(f"{facts.width}×{facts.height} → {width}×{height}")
        remuxable = False
    fps = facts.fps
    if fps and limits.max_fps and fps > limits.max_fps + 0.5:
        fps = reduced_fps(fps, limits.max_fps)
        fixes.append(f"{facts.fps:g} → {round(fps, 2):g} fps")
        remuxable = False
    end = None
    duration = facts.duration
    if trim and duration and limits.max_duration and duration > limits.max_duration + 0.05:
        end = max(0.5, limits.max_duration - 0.25)  # a little under: the last frame and sound run past it
        duration = end
        fixes.append(f"cut to the first {_seconds(end)}")
        remuxable = False
    budget = bitrate_budget(limits, duration, bool(facts.audio_codec))
    expected = facts.size_bytes if end is None else facts.size_bytes * end / (facts.duration or end)
    too_large = bool(limits.max_bytes) and expected > limits.max_bytes
    if too_large:
        fixes.append("bit rate lowered to fit the size limit")
        remuxable = False
    if not fixes:
        return None
    if remuxable and facts.video_codec in COPYABLE_VIDEO and facts.audio_codec in (None, *COPYABLE_AUDIO):
        return Rendition("remux", facts.width, facts.height, rotation=facts.rotation or 0, fixes=tuple(fixes))
    ceiling = next(rate for pixels, rate in _BITRATE_CEILINGS if width * height <= pixels)
    cap = min(ceiling, budget) if budget is not None else ceiling
    return Rendition("transcode", _even(width), _even(height), fps=round(fps, 6) if fps else 30.0,
                     max_bitrate=int(cap), end=end, rotation=facts.rotation or 0, fixes=tuple(fixes))


def size_fixable(facts: MediaFacts, limits: MediaLimits, trim: bool = False) -> bool:
    """Whether lowering the bit rate can bring the video under the byte limit without ruining it."""
    duration = facts.duration
    if trim and duration and limits.max_duration and duration > limits.max_duration:
        duration = limits.max_duration
    budget = bitrate_budget(limits, duration, bool(facts.audio_codec))
    return budget is not None and budget >= MIN_VIDEO_BITRATE


def _even(value: float) -> int:
    return max(2, int(value) // 2 * 2)


def _seconds(value: float) -> str:
    minutes, seconds = divmod(round(value), 60)
    return f"{minutes} min {seconds} s" if minutes and seconds else (f"{minutes} min" if minutes else f"{seconds} s")


# ---- making ----------------------------------------------------------------------------------------

Progress = Callable[[float], None]


def make(source: str | os.PathLike, target: str | os.PathLike, rendition: Rendition,
         progress: Progress | None = None, threads: int = 0) -> MediaFacts:
    """Write the rendition of the video at `source` to `target` (an MP4 with its index first) and return
    what the new file is. `progress` is called with the fraction done (0…1) as frames go by. `threads`
    bounds the codecs' threads (0: FFmpeg's choice, one per core). Raises VideoError in plain words."""
    import av

    try:
        if rendition.mode == "remux":
            _remux(source, target, rendition, progress)
        else:
            _transcode(source, target, rendition, progress, threads)
    except av.error.FFmpegError as exc:
        _remove(target)
        raise VideoError(f"it could not be converted ({exc.__class__.__name__}: "
                         f"{getattr(exc, 'strerror', None) or exc}).") from None
    except BaseException:
        _remove(target)
        raise
    if progress is not None:
        progress(1.0)
    facts, _ = inspect(target)
    return facts


def _remove(path: str | os.PathLike) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


def _output(target: str | os.PathLike):
    # `faststart` rewrites the file once it is complete so the index comes first (FFmpeg reads it back).
    return _open(target, "w", format="mp4", options={"movflags": "+faststart"})


def _remux(source, target, rendition: Rendition, progress: Progress | None) -> None:
    with _open(source) as inp, _output(target) as out:
        vin = inp.streams.video[0]
        ain = next(iter(inp.streams.audio), None)
        vout = out.add_stream_from_template(vin)
        if rendition.rotation:
            vout.set_display_rotation(rendition.rotation)
        streams = {vin.index: vout}
        if ain is not None:
            streams[ain.index] = out.add_stream_from_template(ain)
        total = _duration(inp, vin) or 0
        for packet in inp.demux(*(s for s in (vin, ain) if s is not None)):
            if packet.dts is None:
                continue  # the demuxer's end-of-stream marker
            if progress is not None and packet.stream is vin and total and packet.pts is not None:
                progress(min(0.99, float(packet.pts * vin.time_base) / total))
            packet.stream = streams[packet.stream.index]
            out.mux(packet)


def _transcode(source, target, rendition: Rendition, progress: Progress | None, threads: int) -> None:
    import av

    with _open(source) as inp, _output(target) as out:
        vin = inp.streams.video[0]
        vin.codec_context.thread_type = "AUTO"  # frame and slice threads: decoding keeps up with x264
        vin.codec_context.thread_count = threads
        ain = next(iter(inp.streams.audio), None)
        rate = Fraction(rendition.fps or 30).limit_denominator(1001)
        x264 = {"preset": PRESET, "crf": str(CRF), "profile": "high", "g": str(max(1, round(2 * float(rate))))}
        if rendition.max_bitrate:
            x264 |= {"maxrate": str(rendition.max_bitrate), "bufsize": str(2 * rendition.max_bitrate)}
        if threads:
            x264["threads"] = str(threads)
        vout = out.add_stream("libx264", rate=rate, options=x264)
        vout.width, vout.height, vout.pix_fmt = rendition.width, rendition.height, "yuv420p"
        # PyAV asks for slice threads only, which makes x264 slice each picture: frame threads, as the
        # ffmpeg command line uses, are markedly faster.
        vout.codec_context.thread_type = "AUTO"
        vout.codec_context.time_base = 1 / rate
        audio = _AudioPath(out, ain, rendition.end) if ain is not None else None
        end = rendition.end
        total = end or _duration(inp, vin) or 0
        graph: av.filter.Graph | None = None

        def emit(frame) -> None:
            frame.pict_type = av.video.frame.PictureType.NONE  # let x264 choose the frame types
            for packet in vout.encode(frame):
                out.mux(packet)

        def pull(graph) -> None:
            while True:
                try:
                    emit(graph.vpull())
                except (BlockingIOError, av.error.BlockingIOError):
                    return
                except (EOFError, av.error.EOFError):
                    return

        done = False
        # The demuxer ends each stream with an empty packet, which flushes that stream's decoder.
        for packet in inp.demux(*(s for s in (vin, ain) if s is not None)):
            if packet.stream is not vin:
                audio.packet(packet)
                continue
            if done:
                continue
            for frame in vin.decode(packet):
                if end is not None and frame.time is not None and frame.time >= end:
                    done = True
                    break
                if graph is None:
                    graph = _video_graph(vin, frame, rendition, rate)
                graph.vpush(frame)
                pull(graph)
                if progress is not None and total and frame.time is not None:
                    progress(min(0.99, frame.time / total))
        if graph is None:
            raise VideoError("This video has no picture Picmim can decode.")
        graph.vpush(None)
        pull(graph)
        for packet in vout.encode(None):
            out.mux(packet)
        if audio is not None:
            audio.finish()


def _video_graph(vin, frame, rendition: Rendition, rate: Fraction):
    """FFmpeg's filters, in C: turn upright, even out the frame rate, scale, 8-bit 4:2:0 for H.264."""
    import av

    graph = av.filter.Graph()
    nodes = [graph.add_buffer(width=frame.width, height=frame.height, format=frame.format.name,
                              time_base=vin.time_base)]
    turn = rendition.rotation % 360
    if turn == 90:
        nodes.append(graph.add("transpose", "cclock"))
    elif turn == 270:
        nodes.append(graph.add("transpose", "clock"))
    elif turn == 180:
        nodes += [graph.add("hflip"), graph.add("vflip")]
    nodes.append(graph.add("fps", f"fps={rate.numerator}/{rate.denominator}"))
    nodes.append(graph.add("scale", f"{rendition.width}:{rendition.height}:flags=bicubic"))
    nodes.append(graph.add("format", "yuv420p"))
    nodes.append(graph.add("buffersink"))
    graph.link_nodes(*nodes).configure()
    return graph


class _AudioPath:
    """The sound: copied as it is when it is AAC a platform takes (stereo or mono, 48 kHz or less), else
    decoded and encoded as AAC-LC; cut at `end` when the video is."""

    def __init__(self, out, ain, end: float | None):
        import av

        self.ain, self.end, self.out = ain, end, out
        ctx = ain.codec_context
        self.copy = (ctx.codec.canonical_name == "aac" and (ctx.channels or 0) <= 2
                     and (ctx.sample_rate or 0) <= AUDIO_MAX_RATE)
        if self.copy:
            self.aout = out.add_stream_from_template(ain)
            self.resampler = None
        else:
            rate = min(ctx.sample_rate or AUDIO_MAX_RATE, AUDIO_MAX_RATE)
            layout = "mono" if (ctx.channels or 2) == 1 else "stereo"
            self.aout = out.add_stream("aac", rate=rate, layout=layout)
            self.aout.bit_rate = AUDIO_BITRATE
            self.resampler = av.AudioResampler(format="fltp", layout=layout, rate=rate)

    def packet(self, packet) -> None:
        if packet.dts is None and self.copy:
            return  # the end-of-stream marker: nothing to copy
        if self.end is not None and packet.pts is not None and packet.pts * packet.time_base >= self.end:
            return
        if self.copy:
            packet.stream = self.aout
            self.out.mux(packet)
            return
        for frame in self.ain.decode(packet):
            self._encode(frame)

    def _encode(self, frame) -> None:
        if self.end is not None and frame.time is not None and frame.time >= self.end:
            return
        frame.pts = None  # the resampler and encoder count samples themselves
        for resampled in self.resampler.resample(frame):
            for packet in self.aout.encode(resampled):
                self.out.mux(packet)

    def finish(self) -> None:
        if self.copy:
            return
        for resampled in self.resampler.resample(None):
            for packet in self.aout.encode(resampled):
                self.out.mux(packet)
        for packet in self.aout.encode(None):
            self.out.mux(packet)


# ---- the cover frame ----------------------------------------------------------------------------


def cover_jpeg(source: str | os.PathLike | bytes, at_seconds: float, max_side: int = 480) -> bytes:
    """The picture shown at `at_seconds` (the last one when the video is shorter), upright, as a JPEG no
    larger than `max_side` on its longer side: what a platform shows before the video plays."""
    import av

    try:
        with _open(source) as container:
            stream = container.streams.video[0]
            stream.codec_context.thread_type = "AUTO"
            at = max(0.0, at_seconds)
            if at > 0.5 and stream.time_base:
                container.seek(int(at / stream.time_base), stream=stream, backward=True)
            chosen = None
            for frame in container.decode(stream):
                if chosen is not None and frame.time is not None and frame.time > at:
                    break
                chosen = frame
                if frame.time is not None and frame.time >= at:
                    break
            if chosen is None:
                raise VideoError("This video has no picture Picmim can decode.")
            image = chosen.to_image()
            turn = round(chosen.rotation or 0) % 360
    except av.error.FFmpegError as exc:
        raise VideoError(f"Picmim could not read a picture from this video ({exc.__class__.__name__}).") from None
    if turn:
        image = image.rotate(turn, expand=True)  # PIL turns counter-clockwise, as the display matrix does
    image.thumbnail((max_side, max_side))
    buf = io.BytesIO()
    image.convert("RGB").save(buf, "JPEG", quality=82)
    return buf.getvalue()


