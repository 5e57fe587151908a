"""Stored attachments: once per workspace by content hash, facts from the bytes, Slack downloads,
conversions cached per rule set, and the signed, expiring media links platforms pull from."""

from __future__ import annotations

import hashlib
import io
import os
from pathlib import Path

import httpx
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from cryptography.fernet import Fernet
from PIL import Image
from sqlalchemy import func, select

from bot.handlers import attachments
from bot.media import pictures as media
from bot.media import store as media_store
from bot.media.errors import MediaError
from bot.media.store import LinkExpired, LinkInvalid, MediaStore
from bot.platforms.meta_limits import INSTAGRAM_IMAGE
from bot.sandbox.fakes.slack_files import SlackFiles
from bot.services.workspaces import ensure_workspace
from bot.storage import db
from bot.storage.models import MediaItem
from tests.conftest import SECRET_KEY, server_env
from tests.fakes.media import make_image, make_video
from tests.server import ServerProcess

PUBLIC_URL = "https://picmim.example.com"
BOT_TOKEN = "xoxb-files-test"


def stored_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file())


def with_orientation(width: int, height: int, orientation: int) -> bytes:
    image = Image.open(io.BytesIO(make_image(width, height, "PNG")))
    exif = Image.Exif()
    exif[0x0112] = orientation
    buf = io.BytesIO()
    image.save(buf, "JPEG", exif=exif)
    return buf.getvalue()


@pytest.fixture
def store(tmp_path) -> MediaStore:
    return MediaStore(tmp_path, PUBLIC_URL, (SECRET_KEY,))


@pytest.fixture
async def session(engine):
    sessions = db.session_factory(engine)
    async with sessions() as s:
        yield s


# ---- storing ------------------------------------------------------------------------------------


async def test_storing_twice_keeps_one_file_and_one_row(store, session):
    workspace = await ensure_workspace(session, "T100")
    data = make_image(640, 480, "JPEG")
    first = await store.store(session, workspace.id, data, "photo.jpg", "image/jpeg")
    await session.commit()
    second = await store.store(session, workspace.id, data, "same-photo-again.jpg", "image/jpeg")
    await session.commit()
    assert first.id == second.id
    assert await session.scalar(select(func.count()).select_from(MediaItem)) == 1
    assert stored_files(store.root) == [store.path(first.sha256)]
    assert store.path(first.sha256).read_bytes() == data
    assert first.path == f"media/{first.sha256[:2]}/{first.sha256}"

    other = await ensure_workspace(session, "T200")  # another workspace gets its own row, not a second file
    theirs = await store.store(session, other.id, data, "theirs.jpg", "image/jpeg")
    await session.commit()
    assert theirs.id != first.id and theirs.sha256 == first.sha256
    assert await session.scalar(select(func.count()).select_from(MediaItem)) == 2
    assert len(stored_files(store.root)) == 1


async def test_a_lost_file_is_written_again(store, session):
    workspace = await ensure_workspace(session, "T100")
    data = make_image(300, 300, "PNG")
    item = await store.store(session, workspace.id, data, "a.png", "image/png")
    store.path(item.sha256).unlink()
    again = await store.store(session, workspace.id, data, "a.png", "image/png")
    assert again.id == item.id and store.path(item.sha256).read_bytes() == data


async def test_facts_come_from_the_bytes_not_the_name(store, session):
    workspace = await ensure_workspace(session, "T100")
    item = await store.store(session, workspace.id, make_image(800, 600, "PNG"), "holiday.jpg", "image/jpeg")
    await session.commit()
    assert (item.mimetype, item.width, item.height, item.filename) == ("image/png", 800, 600, "holiday.jpg")
    assert item.facts["format"] == "PNG" and item.facts["declared_mimetype"] == "image/jpeg"
    facts = media_store.facts(item, alt_text="A beach")
    assert (facts.kind, facts.mimetype, facts.width, facts.height, facts.filename, facts.alt_text) == (
        "image", "image/png", 800, 600, "holiday.jpg", "A beach")
    assert facts.id == str(item.id) and facts.size_bytes == item.size_bytes


async def test_an_exif_rotated_jpeg_reports_the_dimensions_as_shown(store, session):
    workspace = await ensure_workspace(session, "T100")
    item = await store.store(session, workspace.id, with_orientation(800, 600, 6), "portrait.jpg", "image/jpeg")
    assert (item.width, item.height) == (600, 800)
    assert item.facts["orientation"] == 6 and item.facts["stored_size"] == [800, 600]


async def test_a_video_keeps_its_duration_frame_rate_and_codecs(store, session):
    workspace = await ensure_workspace(session, "T100")
    item = await store.store(session, workspace.id, make_video(seconds=2, fps=25, width=480, height=360),
                             "clip.bin", "application/octet-stream")
    await session.commit()
    assert (item.mimetype, item.width, item.height) == ("video/mp4", 480, 360)
    assert item.duration_ms == pytest.approx(2000, abs=100)
    assert item.facts["fps"] == pytest.approx(25) and item.facts["video_codec"] == "h264"
    facts = media_store.facts(item)
    assert facts.kind == "video" and facts.duration == pytest.approx(2, abs=0.1) and facts.fps == pytest.approx(25)


@pytest.mark.parametrize("data", [b"just some notes\n" * 50, b""])
async def test_what_is_neither_a_picture_nor_a_video_is_refused_by_name(store, session, data):
    workspace = await ensure_workspace(session, "T100")
    with pytest.raises(MediaError, match="“report.pdf” is neither a picture nor a video"):
        await store.store(session, workspace.id, data, "report.pdf", "application/pdf")
    assert stored_files(store.root) == []
    assert await session.scalar(select(func.count()).select_from(MediaItem)) == 0


async def test_a_pdf_cut_off_before_its_end_is_refused_by_name(store, session):
    workspace = await ensure_workspace(session, "T100")
    with pytest.raises(MediaError, match="“report.pdf” is cut off before its end"):
        await store.store(session, workspace.id, b"%PDF-1.7\n" + b"0" * 2000, "report.pdf", "application/pdf")
    assert stored_files(store.root) == []


# ---- Slack downloads ------------------------------------------------------------------------------


@pytest.fixture
def slack_files():
    files = SlackFiles({"logo.png": make_image(320, 240, "PNG")}, token=BOT_TOKEN, huge=("huge.png",)).start()
    yield files
    files.stop()


def slack_file(files: SlackFiles, name: str = "logo.png", **extra) -> dict:
    return files.file(name, sized=False, **extra)


async def test_slack_download_with_the_right_token(slack_files, store):
    async with httpx.AsyncClient() as http:
        incoming = await attachments.download_slack_file(http, slack_file(slack_files), BOT_TOKEN, store)
    data = slack_files.files["logo.png"][0]
    assert incoming.path.read_bytes() == data and incoming.path.parent == store.root
    assert incoming.sha256 == hashlib.sha256(data).hexdigest() and incoming.size == len(data)
    assert incoming.path.stat().st_mode & 0o777 == 0o600


async def test_slack_login_page_instead_of_the_file_is_a_plain_error(slack_files, store):
    async with httpx.AsyncClient() as http:
        with pytest.raises(MediaError, match="Slack did not hand over “logo.png”: reinstall the app so it has "
                                             "the files:read permission"):
            await attachments.download_slack_file(http, slack_file(slack_files), "xoxb-wrong", store)
    assert stored_files(store.root) == [], "nothing is left on disk"


async def test_slack_files_over_the_cap_are_refused(slack_files, store):
    async with httpx.AsyncClient() as http:
        # Slack said the size: no request at all.
        with pytest.raises(MediaError, match="“logo.png” is 11.5 MB; the largest file Picmim can take from Slack "
                                             "is 10 MB: attach a smaller one."):
            await attachments.download_slack_file(http, slack_file(slack_files, size=11 * 1024 * 1024), BOT_TOKEN,
                                                  store)
        assert slack_files.requests == 0
        # The answer says its length: refused before reading the body.
        with pytest.raises(MediaError, match="“logo.png” is .* KB; the largest file Picmim can take"):
            await attachments.download_slack_file(http, slack_file(slack_files), BOT_TOKEN, store, max_bytes=1000)
        # Neither says: reading stops at the cap, long before the end.
        with pytest.raises(MediaError, match="“huge.png” is larger than 1 MB, the largest file Picmim can take "
                                             "from Slack: attach a smaller one."):
            await attachments.download_slack_file(http, slack_file(slack_files, "huge.png"), BOT_TOKEN, store,
                                                  max_bytes=1024 * 1024)
    assert not slack_files.huge_finished
    assert stored_files(store.root) == [], "the cut-off download is not kept"


class _Generated(httpx.AsyncByteStream):
    """A file's body made as it is sent (64 KB at a time, as a socket hands it over), hashed on the way: the
    test itself never holds the whole file."""

    def __init__(self, size: int):
        self.size, self.digest = size, hashlib.sha256()

    async def __aiter__(self):
        sent = 0
        while sent < self.size:
            chunk = os.urandom(min(64 * 1024, self.size - sent))
            self.digest.update(chunk)
            sent += len(chunk)
            yield chunk


async def test_a_download_holds_no_more_than_a_chunk_in_memory(store):
    """9 MB fetched: the file goes to disk as it comes; Python's peak allocation stays near one chunk."""
    import tracemalloc

    body = _Generated(9 * 1024 * 1024)
    transport = httpx.MockTransport(lambda request: httpx.Response(
        200, headers={"Content-Type": "video/mp4"}, stream=body))
    file = {"name": "big.mp4", "url_private_download": "https://files.slack.com/files-pri/T1-F1/big.mp4"}
    async with httpx.AsyncClient(transport=transport) as http:
        tracemalloc.start()
        try:
            incoming = await attachments.download_slack_file(http, file, BOT_TOKEN, store)
            _now, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    assert incoming.size == body.size and incoming.sha256 == body.digest.hexdigest()
    assert incoming.path.stat().st_size == body.size
    assert peak < 4 * media_store.CHUNK_BYTES, f"{peak / 1024 / 1024:.1f} MB held at once while fetching 9 MB"


async def test_the_shared_client_does_not_leak_the_token_to_another_origin_on_redirect(tmp_path):
    seen: dict[str, str | None] = {}

    async def final(request: web.Request) -> web.Response:
        seen["authorization"] = request.headers.get("Authorization")
        return web.Response(body=make_image(64, 64, "PNG"), content_type="image/png")

    cdn = web.Application()
    cdn.router.add_get("/f.png", final)
    async with TestServer(cdn, host="127.0.0.1") as cdn_server:
        slack = web.Application()
        target = str(cdn_server.make_url("/f.png")).replace("127.0.0.1", "localhost")  # another origin

        async def redirect(_request: web.Request) -> web.Response:
            raise web.HTTPFound(target)

        slack.router.add_get("/files-pri/x", redirect)
        async with TestServer(slack) as slack_server, httpx.AsyncClient() as http:
            url = str(slack_server.make_url("/files-pri/x"))
            incoming = await attachments.download_slack_file(http, {"name": "f.png", "url_private_download": url},
                                                             BOT_TOKEN, MediaStore(tmp_path, PUBLIC_URL))
    assert incoming.path.read_bytes().startswith(b"\x89PNG") and seen["authorization"] is None


# ---- making it fit --------------------------------------------------------------------------------


def counting_conversions(monkeypatch) -> list[int]:
    calls: list[int] = []
    real = media.fit_image

    def fit(data, limits):
        calls.append(len(data))
        return real(data, limits)

    monkeypatch.setattr(media, "fit_image", fit)
    return calls


async def test_png_becomes_jpeg_for_instagram_once(store, session, monkeypatch, tmp_path):
    calls = counting_conversions(monkeypatch)
    workspace = await ensure_workspace(session, "T100")
    item = await store.store(session, workspace.id, make_image(2000, 1500, "PNG"), "chart.png", "image/png")

    data, mimetype = store.prepare(item, INSTAGRAM_IMAGE)
    assert mimetype == "image/jpeg" and Image.open(io.BytesIO(data)).size == (1440, 1080)
    assert len(calls) == 1

    again = store.prepare(item, INSTAGRAM_IMAGE)
    other_process = MediaStore(tmp_path, PUBLIC_URL, (SECRET_KEY,)).prepare(item, INSTAGRAM_IMAGE)
    assert again == other_process == (data, "image/jpeg")
    assert len(calls) == 1  # both read the cached conversion
    assert len(stored_files(store.root)) == 2  # the original and one conversion

    facebook_like = media_store.MediaLimits(kind="image", mimetypes=("image/jpeg", "image/png"), max_bytes=4_000_000)
    assert store.prepare(item, facebook_like)[1] == "image/png"  # already fits: the stored bytes
    assert len(calls) == 1


async def test_what_fits_is_sent_as_stored(store, session, monkeypatch):
    calls = counting_conversions(monkeypatch)
    workspace = await ensure_workspace(session, "T100")
    original = make_image(1080, 1080, "JPEG")
    item = await store.store(session, workspace.id, original, "square.jpg", "image/jpeg")
    assert store.prepare(item, INSTAGRAM_IMAGE) == (original, "image/jpeg")
    assert store.prepare(item, None) == (original, "image/jpeg")
    assert calls == []


async def test_an_exif_rotated_photo_is_turned_for_platforms(store, session):
    workspace = await ensure_workspace(session, "T100")
    item = await store.store(session, workspace.id, with_orientation(800, 600, 6), "portrait.jpg", "image/jpeg")
    data, mimetype = store.prepare(item, INSTAGRAM_IMAGE)
    assert mimetype == "image/jpeg" and Image.open(io.BytesIO(data)).size == (600, 800)


def every_platforms_image_rules():
    from bot.platforms import bluesky, linkedin, meta_limits, pinterest, tiktok, x

    return {"Instagram": meta_limits.INSTAGRAM_IMAGE, "Facebook": meta_limits.FACEBOOK_IMAGE,
            "LinkedIn": linkedin.LIMITS.image, "X": x.LIMITS.image, "TikTok": tiktok.PHOTO_IMAGE,
            "Pinterest": pinterest.LIMITS.image, "Bluesky": bluesky.IMAGE}


async def test_an_iphone_heic_is_stored_as_shown_and_converted_for_every_platform(store, session):
    from tests.fakes.media import sideways_photo, srgb_profile

    workspace = await ensure_workspace(session, "T100")
    heic = sideways_photo("HEIF", 4032 // 2, 3024 // 2)  # stored landscape, shown portrait (irot + EXIF 6)
    item = await store.store(session, workspace.id, heic, "IMG_0042.HEIC", "image/heic")
    await session.commit()
    assert (item.mimetype, item.width, item.height) == ("image/heic", 1512, 2016)
    assert item.facts["format"] == "HEIF" and "declared_mimetype" not in item.facts
    facts = media_store.facts(item)
    assert (facts.kind, facts.mimetype, facts.width, facts.height) == ("image", "image/heic", 1512, 2016)

    for name, rules in every_platforms_image_rules().items():  # no platform takes HEIC as it is
        data, mimetype = store.prepare(item, rules)
        assert data != heic and mimetype in rules.mimetypes and mimetype != "image/heic", name

    data, mimetype = store.prepare(item, INSTAGRAM_IMAGE)
    sent = Image.open(io.BytesIO(data))
    assert mimetype == "image/jpeg" and sent.format == "JPEG"
    assert sent.size == (1440, 1920)  # upright, then scaled to Instagram's 1440 px width
    assert sent.info.get("icc_profile") == srgb_profile()
    assert sent.getpixel((720, 30))[2] > 150  # the strip along the stored left edge is on top
    payload = await store.payload(item, INSTAGRAM_IMAGE)
    assert (payload.facts.mimetype, payload.facts.width, payload.facts.height) == ("image/jpeg", 1440, 1920)


async def test_an_avif_is_stored_and_converted_like_a_heic(store, session):
    from tests.fakes.media import sideways_photo

    workspace = await ensure_workspace(session, "T100")
    item = await store.store(session, workspace.id, sideways_photo("AVIF", 800, 600), "photo.avif", "image/avif")
    assert (item.mimetype, item.width, item.height, item.facts["orientation"]) == ("image/avif", 600, 800, 6)
    data, mimetype = store.prepare(item, INSTAGRAM_IMAGE)
    assert mimetype == "image/jpeg" and Image.open(io.BytesIO(data)).size == (600, 800)


async def test_payload_streams_the_fitted_bytes_and_links_to_them(store, session):
    workspace = await ensure_workspace(session, "T100")
    item = await store.store(session, workspace.id, make_image(2000, 1000, "PNG"), "wide.png", "image/png")
    payload = await store.payload(item, INSTAGRAM_IMAGE, alt_text="Wide")
    chunks = [chunk async for chunk in payload.read()]
    data = b"".join(chunks)
    assert data == store.prepare(item, INSTAGRAM_IMAGE)[0]
    assert len(chunks) == -(-len(data) // media_store.CHUNK_BYTES)
    assert (payload.facts.mimetype, payload.facts.width, payload.facts.height) == ("image/jpeg", 1440, 720)
    assert payload.facts.size_bytes == len(data) and payload.facts.alt_text == "Wide"
    assert payload.facts.filename == "wide.png" and payload.facts.id == str(item.id)
    assert payload.public_url.startswith(PUBLIC_URL + "/media/")
    path, mimetype = store.resolve(payload.public_url.rsplit("/", 1)[1])
    assert path.read_bytes() == data and mimetype == "image/jpeg"

    video = await store.store(session, workspace.id, make_video(), "clip.mp4", "video/mp4")
    as_video = await store.payload(video, INSTAGRAM_IMAGE)  # image rules never touch a video
    assert as_video.facts.mimetype == "video/mp4"
    assert b"".join([c async for c in as_video.read()]) == store.path(video.sha256).read_bytes()


# ---- media links ------------------------------------------------------------------------------------


def test_tokens_are_signed_and_expire(store, tmp_path):
    sha = "ab" * 32
    token = store.token(sha, "o", "image/png", now=1_000_000)
    assert store.resolve(token, now=1_000_000 + media_store.LINK_LIFETIME - 1) == (store.path(sha), "image/png")
    with pytest.raises(LinkExpired):
        store.resolve(token, now=1_000_000 + media_store.LINK_LIFETIME + 1)

    body, mac = token.split(".")
    forged_body = media_store._b64(f"{sha}:o:image/png:9999999999".encode())
    for bad in (f"{forged_body}.{mac}", f"{body}.{mac[:-2]}AA", body, "", "..", "a.b", "%2e%2e.x" * 3,
                MediaStore(tmp_path, PUBLIC_URL, (Fernet.generate_key().decode(),)).token(sha, "o", "image/png")):
        with pytest.raises(LinkInvalid):
            store.resolve(bad, now=1_000_000)


def test_keys_agree_across_processes_and_rotations(tmp_path):
    old, new = SECRET_KEY, Fernet.generate_key().decode()
    sha = "cd" * 32
    token = MediaStore(tmp_path, PUBLIC_URL, (old,)).token(sha, "o", "image/jpeg")
    assert MediaStore(tmp_path, PUBLIC_URL, (new, old)).resolve(token)[1] == "image/jpeg"  # after a rotation

    (tmp_path / "keyed").mkdir()
    one, two = MediaStore(tmp_path / "keyed", PUBLIC_URL), MediaStore(tmp_path / "keyed", PUBLIC_URL)
    assert two.resolve(one.token(sha, "o", "image/jpeg"))[1] == "image/jpeg"  # both read the key file
    assert (tmp_path / "keyed" / "picmim.key").is_file()


@pytest.fixture
async def links(store, session):
    workspace = await ensure_workspace(session, "T100")
    item = await store.store(session, workspace.id, make_image(640, 480, "PNG"), "pic.png", "image/png")
    app = web.Application()
    app.router.add_get("/media/{token}", media_store.link_handler(store))
    async with TestClient(TestServer(app)) as client:
        yield client, store, item


async def test_a_valid_link_serves_the_bytes(links):
    client, store, item = links
    data = store.path(item.sha256).read_bytes()
    token = store.token(item.sha256, "o", "image/png")
    r = await client.get(f"/media/{token}")
    assert r.status == 200 and await r.read() == data
    assert r.headers["Content-Type"] == "image/png" and r.headers["Content-Length"] == str(len(data))
    assert r.headers["Cache-Control"] == "private"

    head = await client.head(f"/media/{token}")
    assert head.status == 200 and head.headers["Content-Length"] == str(len(data)) and await head.read() == b""

    part = await client.get(f"/media/{token}", headers={"Range": "bytes=0-99"})
    assert part.status == 206 and await part.read() == data[:100]


async def test_forged_and_expired_links(links):
    client, store, item = links
    token = store.token(item.sha256, "o", "image/png")
    body, mac = token.split(".")
    forged = (await client.get(f"/media/{body}.{'A' * len(mac)}"))
    assert forged.status == 404 and item.sha256 not in await forged.text()
    expired = store.token(item.sha256, "o", "image/png", lifetime=-1)
    assert (await client.get(f"/media/{expired}")).status == 410
    missing = store.token("ef" * 32, "o", "image/png")  # genuine, but no such file
    assert (await client.get(f"/media/{missing}")).status == 404
    for path in ("/media/", "/media/..%2F..%2Fpicmim.key", f"/media/{item.sha256}"):
        r = await client.get(path)
        assert r.status == 404 and str(store.root) not in await r.text()


async def test_the_real_server_serves_media_links(engine, database, slack, tmp_path):
    # The scratch database and the server's working folder are both tmp_path: its data folder.
    async with db.session_factory(engine)() as session:
        workspace = await ensure_workspace(session, "T0001")
        server = ServerProcess(server_env(database.url, slack), cwd=tmp_path)
        store = MediaStore(tmp_path, server.url, (SECRET_KEY,))
        item = await store.store(session, workspace.id, make_image(500, 400, "PNG"), "p.png", "image/png")
        await session.commit()
    payload = await store.payload(item, INSTAGRAM_IMAGE)
    server.start()
    try:
        async with httpx.AsyncClient() as http:
            r = await http.get(payload.public_url)
            assert r.status_code == 200 and r.headers["content-type"] == "image/jpeg"
            assert r.content == b"".join([c async for c in payload.read()])
            forged = payload.public_url[:-4] + ("AAAA" if not payload.public_url.endswith("AAAA") else "BBBB")
            assert (await http.get(forged)).status_code == 404
    finally:
        server.stop()


async def test_stored_media_is_the_owners_alone(store, session):
    workspace = await ensure_workspace(session, "T100")
    item = await store.store(session, workspace.id, make_image(64, 64, "PNG"), "a.png", "image/png")
    path = store.path(item.sha256)
    assert path.stat().st_mode & 0o777 == 0o600
    assert path.parent.stat().st_mode & 0o777 == 0o700 and store.root.stat().st_mode & 0o777 == 0o700
