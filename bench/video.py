"""Benchmark: making a video's TikTok/Instagram rendition with Picmim (bot.media.video, PyAV), against the ffmpeg
command line doing the same conversion on this machine.

What it measures
    A 30-second 1080p H.264 clip, made by this script with PyAV's own FFmpeg (test pattern with motion, a
    tone, AAC): an iPhone slow-motion video as phones write it — 1920×1080 pictures at 120 frames a second,
    turned to portrait by the track's display matrix, the index at the end, in a MOV. TikTok and Instagram
    both take at most 60 frames a second, so both get one shared rendition: H.264 High 8-bit 4:2:0 at
    1080×1920 (turned upright), 60 fps, CRF 21 capped at 10 Mbit/s, the AAC copied, an MP4 with its index
    first. Picmim makes it with `bot.media.video.make` (as the rendition worker does, reading the new file back
    at the end); the command line with ffmpeg (Debian's package, installed with apt-get if missing) and the
    same filters and x264 settings (its autorotate turns the picture as Picmim does).
    Each side runs in a process of its own, alternating, `--rounds` times (default 2); the ratio uses each
    side's fastest round (the machine is shared), and the ratio of CPU seconds is printed beside it (less
    sensitive to other work on the machine than wall time). Peak memory is the resident set (ru_maxrss) of the
    process making the rendition: for Picmim the worker process (imports included), for ffmpeg its child.

How to run (from the repository root; by hand, never from the tests)
    .venv/bin/python bench/video.py [--seconds 30] [--rounds 2]

Aims
    time(Picmim) / time(ffmpeg) <= 1.2
    peak resident memory (Picmim) <= 400 MB
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import argparse  # noqa: E402
import os  # noqa: E402
import resource  # noqa: E402
import shutil  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from concurrent.futures import ProcessPoolExecutor  # noqa: E402

FPS_IN = 120
WIDTH, HEIGHT = 1920, 1080


def make_clip(path: str, seconds: float) -> None:
    """The phone clip: a moving test pattern (so the encoder has real work), a tone, AAC, in a MOV."""
    import av

    pattern = av.open(f"testsrc2=size={WIDTH}x{HEIGHT}:rate={FPS_IN}:duration={seconds}", format="lavfi")
    tone = av.open(f"sine=frequency=440:sample_rate=48000:duration={seconds}", format="lavfi")
    with pattern, tone, av.open(path, "w", format="mov") as out:
        video = out.add_stream("libx264", rate=FPS_IN, options={"preset": "ultrafast", "crf": "20"})
        video.width, video.height, video.pix_fmt = WIDTH, HEIGHT, "yuv420p"
        video.set_display_rotation(270)  # portrait, as a phone held upright records it
        audio = out.add_stream("aac", rate=48000, layout="mono")
        for frame in pattern.decode(video=0):
            frame = frame.reformat(format="yuv420p")
            frame.pts = None
            for packet in video.encode(frame):
                out.mux(packet)
        for packet in video.encode():
            out.mux(packet)
        for frame in tone.decode(audio=0):
            frame.pts = None
            for packet in audio.encode(frame):
                out.mux(packet)
        for packet in audio.encode():
            out.mux(packet)


def plan(path: str):
    """The rendition Picmim plans for TikTok and for Instagram (checked to be the same one)."""
    from bot.media import video
    from bot.platforms.meta_limits import INSTAGRAM_VIDEO
    from bot.platforms.tiktok import VIDEO as TIKTOK_VIDEO

    facts, _ = video.inspect(path)
    tiktok, instagram = video.plan(facts, TIKTOK_VIDEO), video.plan(facts, INSTAGRAM_VIDEO)
    assert tiktok is not None and tiktok.key == instagram.key, (tiktok, instagram)
    return facts, tiktok


def cpu(who: int) -> float:
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


def picmim(source: str, target: str) -> tuple[float, float, float]:
    """(seconds, CPU seconds, peak RSS in MB) of making the rendition in this (fresh) process."""
    from bot.media import video

    _, rendition = plan(source)
    started, cpu_started = time.perf_counter(), cpu(resource.RUSAGE_SELF)
    made = video.make(source, target, rendition)
    spent, cpu_spent = time.perf_counter() - started, cpu(resource.RUSAGE_SELF) - cpu_started
    assert (made.video_codec, made.width, made.height, made.faststart) == ("h264", 1080, 1920, True), made
    return spent, cpu_spent, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def command_line(source: str, target: str) -> tuple[float, float, float]:
    """(seconds, CPU seconds, peak RSS in MB) of ffmpeg making the same rendition."""
    from bot.media import video

    _, r = plan(source)
    fps = f"{round(r.fps)}"
    cmd = ["ffmpeg", "-hide_banner", "-loglevel", "error", "-y", "-i", source,
           "-vf", f"fps={fps},scale={r.width}:{r.height}:flags=bicubic,format=yuv420p",
           "-c:v", "libx264", "-preset", video.PRESET, "-crf", str(video.CRF), "-profile:v", "high",
           "-g", str(round(2 * r.fps)), "-maxrate", str(r.max_bitrate), "-bufsize", str(2 * r.max_bitrate),
           "-c:a", "copy", "-movflags", "+faststart", target]
    started, cpu_started = time.perf_counter(), cpu(resource.RUSAGE_CHILDREN)
    subprocess.run(cmd, check=True)
    spent, cpu_spent = time.perf_counter() - started, cpu(resource.RUSAGE_CHILDREN) - cpu_started
    return spent, cpu_spent, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


def ensure_ffmpeg() -> str:
    found = shutil.which("ffmpeg")
    if found:
        return found
    print("ffmpeg is not installed: installing Debian's package (apt-get install -y ffmpeg) for the comparison")
    subprocess.run(["apt-get", "install", "-y", "-q", "ffmpeg"], check=True, stdout=subprocess.DEVNULL)
    found = shutil.which("ffmpeg")
    if not found:
        raise SystemExit("ffmpeg could not be installed; install it (apt-get install ffmpeg) and run again")
    return found


def version() -> str:
    line = subprocess.run(["ffmpeg", "-version"], capture_output=True, text=True).stdout.splitlines()[0]
    return line.split(" Copyright")[0]


def run(seconds: float, rounds: int) -> None:
    ensure_ffmpeg()
    with tempfile.TemporaryDirectory(prefix="picmim-bench-video-") as folder:
        source = os.path.join(folder, "IMG_0001.MOV")
        with ProcessPoolExecutor(max_workers=1) as maker:
            maker.submit(make_clip, source, seconds).result()
        facts, rendition = plan(source)
        ours, theirs = [], []
        for index in range(rounds):
            sides = [("picmim", picmim, ours), ("ffmpeg", command_line, theirs)]
            for name, side, results in sides if index % 2 == 0 else reversed(sides):
                target = os.path.join(folder, f"{name}-{index}.mp4")
                with ProcessPoolExecutor(max_workers=1) as worker:  # a fresh process: its own peak memory
                    results.append(worker.submit(side, source, target).result())
                size = os.path.getsize(target)
                os.unlink(target)
                results[-1] += (size,)
    best_ours, best_theirs = min(r[0] for r in ours), min(r[0] for r in theirs)
    cpu_ours, cpu_theirs = min(r[1] for r in ours), min(r[1] for r in theirs)
    print(f"clip: {seconds:g} s, {facts.width}x{facts.height} as shown ({WIDTH}x{HEIGHT} stored, turned), "
          f"{facts.fps:g} fps, {facts.video_codec}/{facts.audio_codec}, {facts.size_bytes / 1e6:.0f} MB")
    print(f"rendition (TikTok and Instagram, one key {rendition.key}): {rendition.width}x{rendition.height} "
          f"{rendition.fps:g} fps H.264, cap {rendition.max_bitrate / 1e6:g} Mbit/s; "
          f"fixes: {', '.join(rendition.fixes)}")
    print(f"command line: {version()}")
    for name, results in (("Picmim (PyAV)", ours), ("ffmpeg CLI", theirs)):
        rounds_text = ", ".join(f"{spent:.2f} s ({cpu_spent:.1f} s CPU)" for spent, cpu_spent, _, _ in results)
        print(f"{name:14s} {rounds_text}   peak RSS {max(r[2] for r in results):.0f} MB   "
              f"output {results[0][3] / 1e6:.1f} MB")
    print(f"ratio Picmim / ffmpeg: {best_ours / best_theirs:.2f}   (fastest rounds; aim <= 1.2)   "
          f"CPU time ratio {cpu_ours / cpu_theirs:.2f} (less sensitive to a busy machine)")
    print(f"peak RSS, Picmim: {max(r[2] for r in ours):.0f} MB   (aim <= 400)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=30.0, help="length of the test clip (default 30)")
    parser.add_argument("--rounds", type=int, default=2, help="conversions per side, alternating (default 2)")
    args = parser.parse_args()
    run(args.seconds, args.rounds)


if __name__ == "__main__":
    main()
