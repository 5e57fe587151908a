"""Stored attachments are deleted when no post needs them any more: an old, finished post's files and video
copies go; a scheduled post's, a draft's, an unconfirmed one's, a recent one's stay; what no post ever used goes
after a day; a refused submission's new files go at once. The clock is moved by setting the rows' times (and
the files' times) in the past."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select, update

from bot import jobs
from bot.handlers import attachments
from bot.media import retention, source
from bot.media.errors import MediaError
from bot.media.store import MediaStore
from bot.platforms.meta_limits import INSTAGRAM_IMAGE
from bot.sandbox.fakes.slack_files import SlackFiles
from bot.services.workspaces import ensure_workspace
from bot.storage import db
from bot.storage.models import (
    MediaItem,
    MediaRendition,
    Post,
    PostMedia,
    PostStatus,
    PostTarget,
    RenditionStatus,
    TargetStatus,
    utcnow,
)
from tests.conftest import SECRET_KEY
from tests.fakes.media import make_image
from tests.journeys import add_account

KEEP = timedelta(days=30)
RENDITION_KEY = "0123456789abcdef"
BOT_TOKEN = "xoxb-files-test"


@pytest.fixture
def store(tmp_path) -> MediaStore:
    return MediaStore(tmp_path, "https://picmim.example.com", (SECRET_KEY,))


@pytest.fixture
def sessions(engine):
    return db.session_factory(engine)


def files_of(store: MediaStore, sha: str) -> list[str]:
    folder = store.path(sha).parent
    return sorted(p.name.removeprefix(sha) or "original" for p in folder.glob(f"{sha}*")) if folder.is_dir() else []


def every_file(store: MediaStore) -> list[Path]:
    return sorted(p for p in store.root.rglob("*") if p.is_file()) if store.root.is_dir() else []


def age(path: Path, days: float) -> None:
    """The file as if written `days` ago."""
    then = (utcnow() - timedelta(days=days)).timestamp()
    os.utime(path, (then, then))


async def stored(sessions, store: MediaStore, name: str, width: int, team: str = "T0001", days_old: float = 100
                 ) -> MediaItem:
    """A picture stored `days_old` days ago (its row and its file)."""
    async with sessions() as session:
        workspace = await ensure_workspace(session, team)
        await session.flush()
        item = await store.store(session, workspace.id, make_image(width, 300, "PNG"), name, "image/png")
        item.created_at = utcnow() - timedelta(days=days_old)
        await session.commit()
    age(store.path(item.sha256), days_old)
    return item


async def post_with(sessions, account_id: int, items: list[MediaItem], status: PostStatus, days_since_change: float,
                    target: TargetStatus = TargetStatus.SCHEDULED, team: str = "T0001") -> int:
    async with sessions() as session:
        workspace = await ensure_workspace(session, team)
        post = Post(workspace_id=workspace.id, author_user_id="U0001", text=status.value, status=status, options={},
                    targets=[PostTarget(account_id=account_id, status=target)],
                    media=[PostMedia(media_id=item.id, position=n) for n, item in enumerate(items)])
        session.add(post)
        await session.commit()
        # the clock moved: the post's last change (when it became final) was that long ago
        await session.execute(update(Post).where(Post.id == post.id)
                              .values(updated_at=utcnow() - timedelta(days=days_since_change)))
        await session.commit()
        return post.id


async def with_rendition(sessions, store: MediaStore, item: MediaItem) -> None:
    """A ready video copy of the item (row and file), as bot.media.renditions leaves it."""
    path = store.path(item.sha256, RENDITION_KEY)
    path.write_bytes(b"an optimised copy")
    age(path, 40)
    async with sessions() as session:
        session.add(MediaRendition(media_id=item.id, key=RENDITION_KEY, status=RenditionStatus.READY))
        await session.commit()


async def count(sessions, model, *where) -> int:
    async with sessions() as session:
        return await session.scalar(select(func.count()).select_from(model).where(*where))


async def test_an_old_finished_posts_files_go_and_what_posts_still_need_stays(sessions, store):
    account = await add_account(sessions, "instagram", "business", "Acme")
    published = await stored(sessions, store, "launch.png", 400)
    store.prepare(published, INSTAGRAM_IMAGE)  # its conversion for Instagram, beside it
    await with_rendition(sessions, store, published)
    for path in store.path(published.sha256).parent.iterdir():
        age(path, 40)
    scheduled, draft, recent, unconfirmed, shared = [
        await stored(sessions, store, f"{name}.png", width) for name, width in
        (("scheduled", 401), ("draft", 402), ("recent", 403), ("unconfirmed", 404), ("shared", 405))]
    old_post = await post_with(sessions, account, [published, shared], PostStatus.PUBLISHED, 31, TargetStatus.PUBLISHED)
    await post_with(sessions, account, [scheduled, shared], PostStatus.SCHEDULED, 60)
    await post_with(sessions, account, [draft], PostStatus.DRAFT, 90, TargetStatus.PENDING)
    await post_with(sessions, account, [recent], PostStatus.PUBLISHED, 29, TargetStatus.PUBLISHED)
    await post_with(sessions, account, [unconfirmed], PostStatus.FAILED, 60, TargetStatus.UNCONFIRMED)
    assert len(files_of(store, published.sha256)) == 3  # the original, a conversion, a video copy

    runtime = SimpleNamespace(sessions=sessions, settings=SimpleNamespace(
        data_dir=store.root.parent, public_url=store.public_url, secret_keys=(SECRET_KEY,), media_retention_days=30))
    swept = await jobs.build_media_retention(runtime).tick()  # the job, as every server process runs it

    assert files_of(store, published.sha256) == [], "the original, its conversion and its video copy are gone"
    assert swept.files == 3 and swept.items == 0
    assert await count(sessions, MediaRendition) == 0
    assert await count(sessions, MediaItem, MediaItem.id == published.id) == 1, "the post still names its file"
    for kept in (scheduled, draft, recent, unconfirmed, shared):
        assert files_of(store, kept.sha256) == ["original"], kept.filename

    # The old post sent again (Retry): it fails with the reason, never goes out without its picture.
    async with sessions() as session:
        post = await session.get(Post, old_post)
        adapter = SimpleNamespace(limits=SimpleNamespace(image=INSTAGRAM_IMAGE))
        with pytest.raises(MediaError, match="“launch.png” is no longer stored: Picmim keeps attachments 30 days"):
            await source.media_source(store, 30)(session, post, adapter, SimpleNamespace(settings={}))


async def test_what_no_post_ever_used_goes_after_a_day_and_so_do_files_no_row_names(sessions, store):
    forgotten = await stored(sessions, store, "forgotten.png", 500, days_old=2)
    just_now = await stored(sessions, store, "just-now.png", 501, days_old=0.01)
    stray = store.path("ab" * 32)  # written by a process that stopped before recording it
    stray.parent.mkdir(parents=True, exist_ok=True)
    stray.write_bytes(b"x")
    age(stray, 3)
    fresh_stray = store.path("cd" * 32)
    fresh_stray.parent.mkdir(parents=True, exist_ok=True)
    fresh_stray.write_bytes(b"y")
    half_download = store.root / f"{retention.INCOMING}abc"
    half_download.write_bytes(b"z")
    age(half_download, 2)

    swept = await retention.sweep(sessions, store, utcnow(), KEEP)

    assert swept.items == 1 and await count(sessions, MediaItem, MediaItem.id == forgotten.id) == 0
    assert files_of(store, forgotten.sha256) == [] and not stray.exists() and not half_download.exists()
    assert files_of(store, just_now.sha256) == ["original"] and fresh_stray.exists()
    assert await count(sessions, MediaItem, MediaItem.id == just_now.id) == 1


async def test_bytes_another_workspace_still_needs_or_stored_again_today_stay(sessions, store):
    account = await add_account(sessions, "instagram", "business", "Acme")
    other = await add_account(sessions, "x", "profile", "Other")
    async with sessions() as session:  # the second account in another workspace
        await ensure_workspace(session, "T0002")
        await session.commit()
    mine = await stored(sessions, store, "same.png", 600)
    theirs = await stored(sessions, store, "same.png", 600, team="T0002")
    assert theirs.sha256 == mine.sha256 and theirs.id != mine.id
    await post_with(sessions, account, [mine], PostStatus.PUBLISHED, 45, TargetStatus.PUBLISHED)
    await post_with(sessions, other, [theirs], PostStatus.SCHEDULED, 45, team="T0002")
    again = await stored(sessions, store, "again.png", 601)
    await post_with(sessions, account, [again], PostStatus.CANCELLED, 45, TargetStatus.CANCELLED)
    async with sessions() as session:  # the same picture attached again today: the store renews its file
        workspace = await ensure_workspace(session, "T0001")
        assert (await store.store(session, workspace.id, make_image(601, 300, "PNG"), "again.png")).id == again.id

    await retention.sweep(sessions, store, utcnow(), KEEP)

    assert files_of(store, mine.sha256) == ["original"], "another workspace's scheduled post uses the same file"
    assert files_of(store, again.sha256) == ["original"], "stored again today: about to be used"


async def test_a_refused_submissions_new_files_go_at_once(sessions, store):
    account = await add_account(sessions, "instagram", "business", "Acme")
    new = await stored(sessions, store, "new.png", 700, days_old=0)
    used = await stored(sessions, store, "used.png", 701, days_old=0)
    await post_with(sessions, account, [used], PostStatus.SCHEDULED, 0)
    assert await retention.discard(sessions, store, [new.id, used.id]) == 1
    assert files_of(store, new.sha256) == [] and await count(sessions, MediaItem, MediaItem.id == new.id) == 0
    assert files_of(store, used.sha256) == ["original"], "a post uses it: kept"


async def test_one_file_refused_keeps_none_of_the_submission(sessions, store, tmp_path):
    """Two good pictures and one that is not a picture: the answer names it, and nothing is left behind."""
    import httpx

    host = SlackFiles({"a.png": make_image(320, 240, "PNG"), "b.png": make_image(321, 240, "PNG"),
                       "notes.png": b"meeting notes, not a picture"}, token=BOT_TOKEN).start()

    try:
        async with httpx.AsyncClient() as http, sessions() as session:
            workspace = await ensure_workspace(session, "T0001")
            await session.commit()
            runtime = SimpleNamespace(http=http, sessions=sessions, settings=SimpleNamespace(
                data_dir=tmp_path, public_url="https://picmim.example.com", secret_keys=(SECRET_KEY,)))
            files = [host.file(name) for name in ("a.png", "b.png", "notes.png")]
            got = await attachments.store_files(runtime, lambda: _Unit(sessions), workspace.id, files, BOT_TOKEN)
    finally:
        host.stop()
    assert got.error and "“notes.png” is neither a picture nor a video" in got.error and not got.item_ids
    assert every_file(store) == [], "no file of the refused submission is kept"
    assert await count(sessions, MediaItem) == 0


class _Unit:
    """The handlers' unit of work (bot/handlers/context.py): committed at the end, rolled back on error."""

    def __init__(self, sessions):
        self.session = sessions()

    async def __aenter__(self):
        return await self.session.__aenter__()

    async def __aexit__(self, kind, exc, tb):
        if kind is None:
            await self.session.commit()
        return await self.session.__aexit__(kind, exc, tb)
