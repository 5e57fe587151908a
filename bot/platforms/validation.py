"""Checks a draft against a platform's limits data; every adapter's `validate` starts here.

Messages name the platform, the account and the fix, in a marketer's words."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from typing import Any

from bot.media.names import codec_name, type_name
from bot.media.video import reduced_fps, size_fixable
from bot.platforms.base import Counting, Draft, Limits, MediaFacts, MediaLimits, Problem

HASHTAG = re.compile(r"(?<![\w&])#(\w+)", re.UNICODE)
MENTION = re.compile(r"(?<![\w@])@([\w.]+)", re.UNICODE)

# Draft options the compose modal sets for videos (bot.media.video makes what they allow).
OPTIMISE_VIDEO = "optimise_video"  # False: send videos as they are, so what a rendition would fix is refused
TRIM_VIDEO = "trim_video"  # True: a video too long for a platform is cut to that platform's limit
COVER_MS = "video_cover_timestamp_ms"  # the cover frame's time (TikTok's name; Instagram's thumb_offset)
DEFAULT_COVER_MS = 1000  # the first second


def cover_time(options: Mapping[str, Any] | None, duration: float | None) -> int:
    """The cover frame's time in milliseconds: the one chosen (else the first second), never past the
    video's end (a platform refuses that)."""
    value = (options or {}).get(COVER_MS)
    ms = int(value) if isinstance(value, int | float) and not isinstance(value, bool) and value >= 0 \
        else DEFAULT_COVER_MS
    if duration:
        ms = min(ms, max(0, int(duration * 1000) - 100))
    return ms


# Types the video pipeline reads and can write as MP4 (bot.media.video.READABLE_TYPES).
VIDEO_READABLE = ("video/mp4", "video/quicktime", "video/webm", "video/x-matroska", "video/avi", "video/mpegts")


def count_text(text: str, counting: Counting) -> int:
    if counting is Counting.CHARACTERS:
        return len(text)
    if counting is Counting.UTF16:
        return len(text.encode("utf-16-le")) // 2
    if counting is Counting.BYTES:
        return len(text.encode("utf-8"))
    if counting is Counting.GRAPHEMES:
        return _graphemes(text)
    raise NotImplementedError(f"{counting} counting is provided by the platform module that needs it")


def _graphemes(text: str) -> int:
    # A close approximation without a grapheme library: combining marks, variation selectors and
    # zero-width joiner sequences do not start a new grapheme.
    count, joined = 0, False
    for ch in text:
        if joined or unicodedata.combining(ch) or "\ufe00" <= ch <= "\ufe0f" or "\U0001f3fb" <= ch <= "\U0001f3ff":
            joined = False
            continue
        if ch == "\u200d":
            joined = True
            continue
        count += 1
    return count


def _either(names: list[str]) -> str:
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} or {names[-1]}"


def _one_decimal(value: float) -> str:
    return f"{value:.1f}".removesuffix(".0")


def human_size(n: int) -> str:
    if n >= 1_000_000_000:
        return f"{_one_decimal(n / 1_000_000_000)} GB"
    return f"{_one_decimal(n / 1_000_000)} MB" if n >= 1_000_000 else f"{n / 1000:.0f} KB"


def human_duration(seconds: float) -> str:
    if seconds < 10 and round(seconds) != seconds:
        return f"{seconds:.1f} s"
    seconds = round(seconds)
    minutes, secs = divmod(seconds, 60)
    if minutes and secs:
        return f"{minutes} min {secs} s"
    return f"{minutes} min" if minutes else f"{secs} s"


def ratio_label(aspect: float) -> str:
    """0.8 -> '4:5', 0.333 -> '1:3', 1.91 -> '1.91:1'."""
    for height in range(1, 21):
        width = aspect * height
        if abs(width - round(width)) < 0.02 * height and round(width) >= 1:
            return f"{round(width)}:{height}"
    return f"{aspect:.2f}:1"


class Checker:
    """Collects the problems of one draft for one account on one platform."""

    def __init__(self, platform: str, account: str, limits: Limits):
        self.platform, self.account, self.limits = platform, account, limits
        self.problems: list[Problem] = []
        self.options: Mapping[str, Any] = {}

    def add(self, field: str, message: str, fixable: bool = False, kind: str | None = None) -> None:
        self.problems.append(Problem(self.platform, self.account, field, message, fixable, kind))

    def check(self, draft: Draft, counter=count_text) -> list[Problem]:
        self.options = draft.options or {}
        self.check_texts(draft, counter)
        self.check_media(draft.media)
        return self.problems

    def check_texts(self, draft: Draft, counter=count_text) -> None:
        for limit in self.limits.texts:
            value = getattr(draft, limit.field, None) if limit.field != "alt_text" else None
            if limit.field == "alt_text":
                for m in draft.media:
                    if m.alt_text and counter(m.alt_text, limit.counting) > limit.max:
                        self.add("alt_text", f"{self.platform} takes alt text up to {limit.max:,} characters; "
                                          f"the one for {m.filename or 'an attachment'} is longer: shorten it.")
                continue
            if value is None:
                if limit.min:
                    self.add(limit.field, f"{self.platform} needs a {limit.label}: add one.")
                continue
            n = counter(value, limit.counting)
            unit = "bytes" if limit.counting is Counting.BYTES else "characters"
            if n > limit.max:
                self.add(limit.field, f"{self.platform} counts this {limit.label} as {n:,} of {limit.max:,} "
                                      f"{unit}: remove {n - limit.max:,}.")
            elif n < limit.min:
                self.add(limit.field, f"{self.platform} needs a {limit.label}: add one.")
            bad = sorted({c for c in value if c in limit.forbidden})
            if bad:
                self.add(limit.field, f"{self.platform} does not allow {' '.join(bad)} in the {limit.label}: "
                                      "remove them.")
        text = draft.text or ""
        if self.limits.max_hashtags is not None:
            n = len(HASHTAG.findall(text))
            if n > self.limits.max_hashtags:
                self.add("text", f"{self.platform} allows {self.limits.max_hashtags} hashtags; this post has {n}: "
                                 f"remove {n - self.limits.max_hashtags}.")
        if self.limits.max_mentions is not None:
            n = len(MENTION.findall(text))
            if n > self.limits.max_mentions:
                self.add("text", f"{self.platform} allows {self.limits.max_mentions} @mentions; this post has {n}: "
                                 f"remove {n - self.limits.max_mentions}.")
        if draft.first_comment and not self.limits.first_comment:
            self.add("first_comment", f"{self.platform} has no first comment Picmim can post: leave it empty for "
                                      "this account.")

    def check_media(self, media: tuple[MediaFacts, ...]) -> None:
        lim = self.limits
        images = [m for m in media if m.kind == "image"]
        videos = [m for m in media if m.kind == "video"]
        if lim.requires_media and not media:
            kinds = " or a ".join(k for k, ok in (("photo", lim.image), ("video", lim.video)) if ok)
            self.add("media", f"{self.platform} posts need a {kinds}: attach one.")
        if images and not lim.image:
            self.add("media", f"{self.platform} does not take images here: remove them for this account.")
        if videos and not lim.video:
            self.add("media", f"{self.platform} does not take videos here: remove them for this account.")
        if images and videos and not lim.mixed_media and lim.image and lim.video:
            self.add("media", f"{self.platform} cannot mix photos and a video in one post: keep one kind.")
        # With a combined maximum (a carousel), one sentence about the count is enough: the per-kind
        # counts are only checked where they are stricter than the total.
        total_covers = lim.mixed_media and lim.max_items is not None
        if lim.image and len(images) > lim.max_images and not (total_covers and lim.max_images >= lim.max_items):
            self.add("media", f"{self.platform} takes up to {lim.max_images} image{'s' * (lim.max_images != 1)} "
                              f"per post; this one has {len(images)}: remove {len(images) - lim.max_images}.")
        if lim.video and len(videos) > lim.max_videos and not (total_covers and lim.max_videos >= lim.max_items):
            self.add("media", f"{self.platform} takes up to {lim.max_videos} video{'s' * (lim.max_videos != 1)} "
                              f"per post; this one has {len(videos)}: remove {len(videos) - lim.max_videos}.")
        if total_covers and len(media) > lim.max_items:
            self.add("media", f"{self.platform} takes up to {lim.max_items} photos and videos per post; this one "
                              f"has {len(media)}: remove {len(media) - lim.max_items}.")
        self.check_documents([m for m in media if m.kind == "document"], len(media))
        for m in media:
            limits = {"image": lim.image, "video": lim.video, "document": lim.document}.get(m.kind)
            if limits is not None:
                self.check_item(m, limits)

    def check_documents(self, documents: list[MediaFacts], attached: int) -> None:
        """A document (a PDF) is a post of its own, on the platforms that take one (LinkedIn)."""
        if not documents:
            return
        names = _either([f"“{m.filename}”" if m.filename else "the PDF" for m in documents])
        if self.limits.document is None:
            self.add("media", f"{self.platform} does not take documents such as {names}: a PDF goes to LinkedIn "
                              "only. Post it to LinkedIn alone, or remove it for this account.")
            return
        if len(documents) > 1:
            self.add("media", f"{self.platform} takes one document per post; this one has {len(documents)}: "
                              f"remove {len(documents) - 1}.")
        if attached > len(documents):
            self.add("media", f"{self.platform} shows a document on its own, without photos or videos: remove "
                              "them, or post them separately.")

    def check_item(self, m: MediaFacts, lim: MediaLimits) -> None:
        if m.kind == "video":
            self.check_video(m, lim)
            return
        name = m.filename or f"this {m.kind}"
        if m.kind == "document" and lim.max_pages is not None and m.pages is not None and m.pages > lim.max_pages:
            extra = m.pages - lim.max_pages
            self.add("media", f"{self.platform} takes documents of up to {lim.max_pages} pages; {name} has "
                              f"{m.pages}: remove {extra} page{'s' * (extra != 1)} or split it.")
        names = [type_name(t) for t in lim.mimetypes]
        accepted = names[0] if len(names) == 1 else f"{', '.join(names[:-1])} or {names[-1]}"
        if m.mimetype not in lim.mimetypes:
            if m.mimetype in lim.convertible_from:
                self.add("media", f"{self.platform} takes {accepted} {m.kind}s only; {name} is "
                                  f"{type_name(m.mimetype)}: Picmim converts it to {type_name(lim.mimetypes[0])} "
                                  "when it publishes.", fixable=True)
            else:
                self.add("media", f"{self.platform} takes {accepted} {m.kind}s only; {name} is "
                                  f"{type_name(m.mimetype)}: convert it to {accepted} and attach it again.")
        if lim.max_bytes is not None and m.size_bytes > lim.max_bytes:
            if m.kind == "image" and lim.scalable:
                self.add("media", f"{self.platform} takes images up to {human_size(lim.max_bytes)}; {name} is "
                                  f"{human_size(m.size_bytes)}: Picmim shrinks it to fit.", fixable=True)
            else:
                self.add("media", f"{self.platform} takes {m.kind}s up to {human_size(lim.max_bytes)}; {name} is "
                                  f"{human_size(m.size_bytes)}: attach a smaller file.")
        if m.width and m.height:
            self._dimensions(m, lim, name)
        self._aspect(m, lim, name)
        if m.duration is not None:
            if lim.max_duration is not None and m.duration > lim.max_duration + 0.05:
                self.add("media", f"{self.platform} takes videos up to {human_duration(lim.max_duration)}; {name} "
                                  f"is {human_duration(m.duration)}: trim it.")
            if lim.min_duration is not None and m.duration < lim.min_duration - 0.05:
                self.add("media", f"{self.platform} needs videos of at least {human_duration(lim.min_duration)}; "
                                  f"{name} is {human_duration(m.duration)}: attach a longer one.")
        if m.fps is not None:
            if lim.max_fps is not None and m.fps > lim.max_fps + 0.5:
                self.add("media", f"{self.platform} takes up to {lim.max_fps:g} frames per second; {name} has "
                                  f"{m.fps:g}: export it again at {lim.max_fps:g} or fewer.")
            if lim.min_fps is not None and m.fps < lim.min_fps - 0.5:
                self.add("media", f"{self.platform} needs at least {lim.min_fps:g} frames per second; {name} has "
                                  f"{m.fps:g}: export it again at {lim.min_fps:g} or more.")

    def check_video(self, m: MediaFacts, lim: MediaLimits) -> None:
        """A video against the platform's rules. What a rendition fixes without changing what the user meant
        (type, codecs, index, rotation, too large, too high a frame rate; too long only when the user chose
        to cut) is fixable while Optimise video is on, and refused with what to do when it is off."""
        name = m.filename or "this video"
        optimise = self.options.get(OPTIMISE_VIDEO, True) is not False
        trim = bool(self.options.get(TRIM_VIDEO))
        p = self.platform

        def fixed(problem: str, fix: str, by_hand: str) -> None:
            if optimise:
                self.add("media", f"{problem}: {fix}", fixable=True, kind="video")
            else:
                self.add("media", f"{problem}: {by_hand}, or turn on Optimise video so Picmim does it.", kind="video")

        accepted = _either([type_name(t) for t in lim.mimetypes])
        if m.mimetype not in lim.mimetypes:
            problem = f"{p} takes {accepted} videos only; {name} is {type_name(m.mimetype)}"
            if m.mimetype in VIDEO_READABLE or m.mimetype in lim.convertible_from:
                fixed(problem, "Picmim converts it to MP4 when it publishes.", f"convert it to {accepted}")
            else:
                self.add("media", f"{problem}: convert it to {accepted} and attach it again.")
        if lim.video_codecs and m.video_codec and m.video_codec not in lim.video_codecs:
            codecs = _either([codec_name(c) for c in lim.video_codecs])
            fixed(f"{p} plays {codecs} video; {name} is {codec_name(m.video_codec)}",
                  "Picmim converts it to H.264.", "export it as H.264")
        if lim.audio_codecs and m.audio_codec and m.audio_codec not in lim.audio_codecs:
            codecs = _either([codec_name(c) for c in lim.audio_codecs])
            fixed(f"{p} plays {codecs} sound; {name} has {codec_name(m.audio_codec)}",
                  "Picmim converts it to AAC.", "export it with AAC sound")
        if lim.faststart and m.faststart is False:
            fixed(f"{p} needs the video's index at the start of the file; {name} has it at the end",
                  "Picmim moves it.", "export it with 'fast start' (optimised for the web)")
        if lim.upright and m.rotation:
            fixed(f"{p} may show {name} sideways: it is turned by a setting, not in its pictures",
                  "Picmim turns the pictures upright.", "export it upright")
        if lim.max_bytes is not None and m.size_bytes > lim.max_bytes:
            problem = f"{p} takes videos up to {human_size(lim.max_bytes)}; {name} is {human_size(m.size_bytes)}"
            if size_fixable(m, lim, trim):
                fixed(problem, "Picmim lowers its bit rate to fit.", "export it at a lower bit rate")
            else:
                self.add("media", f"{problem}: attach a smaller file.")
        if m.width and m.height:
            for side, value, low, high in (("wide", m.width, lim.min_width, lim.max_width),
                                           ("high", m.height, lim.min_height, lim.max_height)):
                if low is not None and value < low:
                    self.add("media", f"{p} needs videos at least {low} px {side}; {name} is {value} px: attach a "
                                      "larger one.")
                if high is not None and value > high:
                    fixed(f"{p} takes videos up to {high} px {side}; {name} is {value} px", "Picmim scales it down.",
                          "export it smaller")
        self._aspect(m, lim, name)
        if m.duration is not None:
            if lim.max_duration is not None and m.duration > lim.max_duration + 0.05:
                problem = f"{p} takes videos up to {human_duration(lim.max_duration)}; {name} is " \
                          f"{human_duration(m.duration)}"
                if trim and optimise:
                    self.add("media", f"{problem}: Picmim cuts it to its first {human_duration(lim.max_duration)}, "
                                      "as you chose.", fixable=True, kind="video")
                elif trim:
                    self.add("media", f"{problem}: cutting it needs Optimise video; turn it on, or trim it.")
                else:
                    self.add("media", f"{problem}: trim it.")
            if lim.min_duration is not None and m.duration < lim.min_duration - 0.05:
                self.add("media", f"{p} needs videos of at least {human_duration(lim.min_duration)}; {name} is "
                                  f"{human_duration(m.duration)}: attach a longer one.")
        if m.fps is not None:
            if lim.max_fps is not None and m.fps > lim.max_fps + 0.5:
                fixed(f"{p} takes up to {lim.max_fps:g} frames per second; {name} has {m.fps:g}",
                      f"Picmim lowers it to {round(reduced_fps(m.fps, lim.max_fps), 2):g}.",
                      f"export it again at {lim.max_fps:g} or fewer")
            if lim.min_fps is not None and m.fps < lim.min_fps - 0.5:
                self.add("media", f"{p} needs at least {lim.min_fps:g} frames per second; {name} has {m.fps:g}: "
                                  f"export it again at {lim.min_fps:g} or more.")

    def _aspect(self, m: MediaFacts, lim: MediaLimits, name: str) -> None:
        """Picmim never crops: a shape outside the platform's range is the author's to fix."""
        if m.aspect is None:
            return
        if ((lim.min_aspect is not None and m.aspect < lim.min_aspect - 1e-3)
                or (lim.max_aspect is not None and m.aspect > lim.max_aspect + 1e-3)):
            low, high = lim.aspect_labels or (ratio_label(lim.min_aspect or 0), ratio_label(lim.max_aspect or 0))
            self.add("media", f"{self.platform} needs an aspect ratio between {low} and {high}: {name} is "
                              f"{ratio_label(m.aspect)}. Crop it and attach it again.")

    def _dimensions(self, m: MediaFacts, lim: MediaLimits, name: str) -> None:
        for side, value, low, high in (("wide", m.width, lim.min_width, lim.max_width),
                                       ("high", m.height, lim.min_height, lim.max_height)):
            if low is not None and value < low:
                self.add("media", f"{self.platform} needs {m.kind}s at least {low} px {side}; {name} is {value} px: "
                                  "attach a larger one.")
            if high is not None and value > high:
                if lim.scalable:
                    self.add("media", f"{self.platform} takes {m.kind}s up to {high} px {side}; {name} is {value} px: "
                                      "Picmim scales it down.", fixable=True)
                else:
                    self.add("media", f"{self.platform} takes {m.kind}s up to {high} px {side}; {name} is {value} px: "
                                      "attach a smaller one.")


def check_limits(platform: str, account: str, limits: Limits, draft: Draft, counter=count_text) -> list[Problem]:
    return Checker(platform, account, limits).check(draft, counter)
