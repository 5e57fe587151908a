"""Benchmark: the media pipeline on large photos, against a bare Pillow loop doing the same conversions.

What it measures
    --photos (default 100) 12-megapixel photos (4000×3000, a colour gradient with noise, each one
    different), a third each JPEG, PNG and HEIC (as an iPhone stores one: turned by its irot box and
    EXIF orientation 6, about 3 MB; --without-heic for half JPEG, half PNG), made by this script with
    Pillow and pillow-heif in a helper process (so making them costs neither time nor memory here; a
    HEIC takes x265 some seconds to encode). Each is taken to Instagram's picture rules (JPEG only,
    at most 8 MB, at most 1440 px wide, scaled keeping the aspect ratio) twice, in alternating order:
      * Picmim: `MediaStore.store()` (hash, write to disk, inspect, one row in a SQLite database in a
        temporary folder) then `MediaStore.prepare(item, INSTAGRAM_IMAGE)` (convert, cache on disk);
      * bare Pillow: open, apply the EXIF orientation, convert to RGB, thumbnail to 1440 px wide,
        save as JPEG at quality 90 into memory: the same conversion without any of the bookkeeping,
        and without any of the shortcuts (the HEIC opener registered, nothing else).
    Each side runs in a worker process of its own (the photo handed over as a file, read before the
    clock starts), so each one's peak resident memory (ru_maxrss) is its own. It prints the total
    seconds of each (and by type), the ratio Picmim / bare (also for prepare alone), and both peaks,
    with Picmim's after its warm-up photo (imports, database) for comparison. The machine's other work
    shows in the figures: run it a few times.

How to run (from the repository root; by hand, never from the tests)
    .venv/bin/python bench/media.py [--photos 100] [--without-heic]

Aims
    time(Picmim) / time(bare Pillow) <= 0.6 (issue 17; Picmim also stores and checks every photo)
    peak resident memory <= 300 MB
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import argparse  # noqa: E402
import asyncio  # noqa: E402
import io  # noqa: E402
import os  # noqa: E402
import resource  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from concurrent.futures import ProcessPoolExecutor  # noqa: E402

import pillow_heif  # noqa: E402
from PIL import Image, ImageOps  # noqa: E402

pillow_heif.register_heif_opener()  # (the bare loop opens HEIC too)

WIDTH, HEIGHT = 4000, 3000
MAX_WIDTH = 1440  # Instagram's picture width (bot.platforms.meta_limits.INSTAGRAM_IMAGE)
HEIC_QUALITY = 50  # about 3 MB for these 12 megapixels, as an iPhone's HEIC photos are


def make_photo(index: int, heic: bool = True) -> tuple[str, bytes, str]:
    """(filename, bytes, declared type): a gradient with noise, different for every index. With `heic`,
    every third is a HEIC stored on its side (3000×4000) that is shown upright (4000×3000)."""
    import numpy as np

    rng = np.random.default_rng(index)
    x = np.linspace(0, 1, WIDTH, dtype=np.float32)
    y = np.linspace(0, 1, HEIGHT, dtype=np.float32)[:, None]
    phase = index / 7
    pixels = np.empty((HEIGHT, WIDTH, 3), dtype=np.uint8)
    for channel, (a, b) in enumerate(((180, 60), (90, 140), (40, 200))):
        plane = a * x + b * y + 30 * np.sin(6 * x + phase) * np.cos(4 * y)
        plane += rng.normal(0, 12, (HEIGHT, WIDTH)).astype(np.float32)
        pixels[:, :, channel] = np.clip(plane, 0, 255).astype(np.uint8)
    buf = io.BytesIO()
    if heic and index % 3 == 2:
        exif = Image.Exif()
        exif[0x0112] = 6  # pillow-heif writes it as HEIF's irot box too
        Image.fromarray(pixels).transpose(Image.Transpose.ROTATE_90).save(
            buf, "HEIF", quality=HEIC_QUALITY, exif=exif.tobytes())
        return f"IMG_{index:04d}.HEIC", buf.getvalue(), "image/heic"
    if (index % 3 if heic else index % 2) == 1:
        Image.fromarray(pixels).save(buf, "PNG", compress_level=1)
        return f"photo-{index}.png", buf.getvalue(), "image/png"
    Image.fromarray(pixels).save(buf, "JPEG", quality=92)
    return f"photo-{index}.jpg", buf.getvalue(), "image/jpeg"


def bare_pillow(data: bytes) -> bytes:
    image = Image.open(io.BytesIO(data))
    image = ImageOps.exif_transpose(image).convert("RGB")
    image.thumbnail((MAX_WIDTH, image.height), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    image.save(out, "JPEG", quality=90, optimize=True, progressive=True)
    assert len(out.getvalue()) <= 8_000_000
    return out.getvalue()


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KB on Linux


def make_photo_file(index: int, folder: str, heic: bool = True) -> tuple[str, str, str]:
    """(path, filename, declared type) of a new photo written into `folder`."""
    name, data, declared = make_photo(index, heic)
    path = os.path.join(folder, name)
    with open(path, "wb") as fh:
        fh.write(data)
    return path, name, declared


# ---- the bare Pillow worker ---------------------------------------------------------------------------


def bare_one(path: str) -> tuple[float, float]:
    with open(path, "rb") as fh:
        data = fh.read()
    started = time.perf_counter()
    bare_pillow(data)
    return time.perf_counter() - started, rss_mb()


# ---- the Picmim worker: one event loop, one SQLite database, one MediaStore for the whole run -----------

_picmim: dict = {}


def picmim_start(folder: str) -> None:
    from cryptography.fernet import Fernet

    from bot.media.store import MediaStore
    from bot.services.workspaces import ensure_workspace
    from bot.storage import crypto, db

    async def start() -> None:
        key = Fernet.generate_key().decode()
        crypto.configure([key])
        engine = db.create_engine(f"sqlite+aiosqlite:///{folder}/picmim.db")
        await db.migrate(engine)
        session = db.session_factory(engine)()
        workspace = await ensure_workspace(session, "TBENCH")
        await session.commit()
        _picmim.update(engine=engine, session=session, workspace_id=workspace.id,
                       store=MediaStore(Path(folder), "http://localhost:3000", (key,)))

    _picmim["loop"] = asyncio.new_event_loop()
    _picmim["loop"].run_until_complete(start())


def picmim_one(path: str, name: str, declared: str) -> tuple[float, float, float]:
    """(seconds for store + prepare, seconds for prepare, peak RSS in MB)."""
    from bot.platforms.meta_limits import INSTAGRAM_IMAGE

    store, session = _picmim["store"], _picmim["session"]
    with open(path, "rb") as fh:
        data = fh.read()

    async def one() -> tuple[float, float]:
        nonlocal data
        started = time.perf_counter()
        item = await store.store(session, _picmim["workspace_id"], data, name, declared)
        await session.commit()
        del data  # as in the app: prepare runs later, from the stored file
        stored = time.perf_counter()
        out, mimetype = store.prepare(item, INSTAGRAM_IMAGE)
        finished = time.perf_counter()
        assert mimetype == "image/jpeg" and len(out) <= 8_000_000
        return finished - started, finished - stored

    spent, prepared = _picmim["loop"].run_until_complete(one())
    return spent, prepared, rss_mb()


def picmim_stop() -> None:
    async def stop() -> None:
        await _picmim["session"].close()
        await _picmim["engine"].dispose()

    _picmim["loop"].run_until_complete(stop())


# ---- the run --------------------------------------------------------------------------------------------


def run(photos: int, heic: bool = True) -> None:
    with tempfile.TemporaryDirectory(prefix="picmim-bench-media-") as folder, \
            ProcessPoolExecutor(max_workers=1) as maker, \
            ProcessPoolExecutor(max_workers=1) as picmim_worker, \
            ProcessPoolExecutor(max_workers=1) as bare_worker:
        picmim_worker.submit(picmim_start, folder).result()
        warm = maker.submit(make_photo_file, 10_000, folder, False).result()  # warm up both sides, unmeasured
        bare_worker.submit(bare_one, warm[0]).result()
        picmim_rss_warm = picmim_worker.submit(picmim_one, *warm).result()[2]
        picmim = prepare_only = bare = 0.0
        picmim_rss = bare_rss = 0.0
        input_bytes = 0
        by_type: dict[str, list[float]] = {}  # declared type -> [count, Picmim seconds, bare seconds]
        for index in range(photos):
            # Made before the clocks start, never while they run.
            path, name, declared = maker.submit(make_photo_file, index, folder, heic).result()
            input_bytes += os.path.getsize(path)
            kind = by_type.setdefault(declared, [0, 0.0, 0.0])
            kind[0] += 1
            sides = [lambda: picmim_worker.submit(picmim_one, path, name, declared).result(),  # noqa: B023
                     lambda: bare_worker.submit(bare_one, path).result()]  # noqa: B023
            for side in sides if index % 2 == 0 else reversed(sides):
                result = side()
                if len(result) == 3:
                    picmim += result[0]
                    prepare_only += result[1]
                    picmim_rss = max(picmim_rss, result[2])
                    kind[1] += result[0]
                else:
                    bare += result[0]
                    bare_rss = max(bare_rss, result[1])
                    kind[2] += result[0]
            os.unlink(path)
        picmim_worker.submit(picmim_stop).result()
    mix = "a third each JPEG, PNG, HEIC" if heic else "half JPEG, half PNG"
    print(f"photos: {photos} of {WIDTH}x{HEIGHT} ({mix}), {input_bytes / photos / 1e6:.1f} MB each on average")
    print(f"Picmim store+prepare: {picmim:7.2f} s   (prepare alone {prepare_only:.2f} s)")
    print(f"bare Pillow:          {bare:7.2f} s")
    print(f"ratio Picmim / bare:  {picmim / bare:.2f}   (aim <= 0.6; prepare alone {prepare_only / bare:.2f})")
    for declared, (count, mine, theirs) in sorted(by_type.items()):
        print(f"  {declared:11s} x{count:<3d} Picmim {mine / count * 1000:5.0f} ms, "
              f"bare {theirs / count * 1000:5.0f} ms each: ratio {mine / theirs:.2f}")
    print(f"peak RSS, Picmim:     {picmim_rss:.0f} MB   (aim <= 300; {picmim_rss_warm:.0f} MB after the warm-up)")
    print(f"peak RSS, bare:       {bare_rss:.0f} MB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--photos", type=int, default=100)
    parser.add_argument("--without-heic", action="store_true", help="half JPEG, half PNG (the mix before HEIC)")
    args = parser.parse_args()
    run(args.photos, heic=not args.without_heic)


if __name__ == "__main__":
    main()
