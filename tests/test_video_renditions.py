"""Optimised videos in the background (bot.media.renditions) with the publisher and the fake TikTok: a
post waits for its rendition without losing a try, is published as soon as the rendition is made, one copy
serves every platform that needs the same one, progress is reported, a failure says why and keeps the
original and the post, and a dead maker's work is taken over."""

from __future__ import annotations

import asyncio
import io
import threading
from datetime import timedelta
from types import SimpleNamespace

import av
import pytest
from sqlalchemy import func, select, update

from bot import jobs
from bot.http import build_client
from bot.media import renditions, video
from bot.media.store import MediaStore
from bot.platforms.base import AdapterConfig, TokenSet
from bot.platforms.instagram import ADAPTER as InstagramAdapter
from bot.platforms.meta_graph import Polling
from bot.platforms.tiktok import ADAPTER as TikTokAdapter
from bot.sandbox.fakes.meta import adapter_config
from bot.sandbox.fakes.tiktok import FakeTikTok
from bot.secret import Secret
from bot.services.connections import apply_tokens
from bot.services.publishing import Publisher, retry_target, schedule_targets
from bot.services.workspaces import ensure_workspace
from bot.storage import db
from bot.storage.models import (
    Account,
    Connection,
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
from bot.views.posts import status_message
from tests.conftest import SECRET_KEY
from tests.fakes.media import make_clip

# A phone's slow-motion clip: HEVC in a MOV at 120 frames a second. TikTok takes HEVC and MOV but at most
# 60 frames a second, so it needs a copy; so does Instagram, for the same reason: one copy serves both.
SLOW_MOTION = make_clip(codec="libx265", fmt="mov", fps=120, seconds=0.5)
PRIVATE = {"privacy_level": "SELF_ONLY"}


class Clock:
    def __init__(self):
        self.now = utcnow()

    def __call__(self):
        return self.now


@pytest.fixture(scope="module")
def tiktok():
    fake = FakeTikTok().start()
    fake.add_creator("open-1", privacy_level_options=["PUBLIC_TO_EVERYONE", "SELF_ONLY"])
    fake.processing_polls = 0
    yield fake
    fake.stop()


@pytest.fixture
async def http(tiktok):
    client = build_client({"https://open.tiktokapis.com": tiktok.url, "https://open-upload.tiktokapis.com": tiktok.url})
    yield client
    await client.aclose()


@pytest.fixture
def adapters(tiktok, http):
    config = AdapterConfig(client_id=tiktok.client_key, client_secret=tiktok.client_secret,
                           redirect_uri="https://picmim.example/oauth/tiktok/callback",
                           public_url="https://picmim.example", options={"tiktok_video_source": "FILE_UPLOAD"})
    instagram = InstagramAdapter(adapter_config("instagram"), http)
    instagram.polling = Polling(attempts=1, delay=0)
    return {"tiktok": TikTokAdapter(config, http), "instagram": instagram}


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def runtime(tmp_path, engine, adapters):
    """What jobs.media_source and the worker read from the running app."""
    settings = SimpleNamespace(data_dir=tmp_path, public_url="https://picmim.example", secret_keys=(SECRET_KEY,),
                               video_jobs=1, media_retention_days=30)
    return SimpleNamespace(settings=settings, sessions=db.session_factory(engine), adapters=adapters)


@pytest.fixture
def store(runtime) -> MediaStore:
    return MediaStore.from_settings(runtime.settings)


class World:
    def __init__(self, runtime, store, tiktok, clock):
        self.runtime, self.store, self.tiktok, self.clock = runtime, store, tiktok, clock
        self.sessions = runtime.sessions
        self.changed: list[int] = []

    async def on_change(self, post_id: int) -> None:
        self.changed.append(post_id)

    def worker(self, **kw) -> renditions.RenditionWorker:
        kw.setdefault("on_change", self.on_change)
        return renditions.RenditionWorker(self.sessions, self.runtime.adapters, self.store, kw.pop("owner", "test"),
                                          clock=self.clock, **kw)

    def publisher(self) -> Publisher:
        return Publisher(self.sessions, self.runtime.adapters, jobs.media_source(self.runtime), owner="test",
                         clock=self.clock, on_change=self.on_change)

    async def accounts(self) -> dict[str, int]:
        async with self.sessions() as session:
            workspace = await ensure_workspace(session, "T1")
            await session.flush()
            ids = {}
            for platform, external, settings in (
                    ("tiktok", "open-1", {"privacy_level_options": ["PUBLIC_TO_EVERYONE", "SELF_ONLY"],
                                          "max_video_post_duration_sec": 600}),
                    ("instagram", "17841400000001", {})):
                connection = Connection(workspace_id=workspace.id, platform=platform, external_user_id=external)
                apply_tokens(connection, TokenSet(access_token=Secret(self.tiktok.grant("open-1")),
                                                  external_user_id=external,
                                                  expires_at=utcnow() + timedelta(hours=2)))
                session.add(connection)
                await session.flush()
                account = Account(workspace_id=workspace.id, connection_id=connection.id, platform=platform,
                                  external_id=external, kind="creator", name=f"Acme on {platform}",
                                  settings=settings)
                session.add(account)
                await session.flush()
                ids[platform] = account.id
            await session.commit()
            return ids

    async def post(self, data: bytes, account_ids: list[int], text: str = "Slow motion", options=None,
                   when=None) -> int:
        async with self.sessions() as session:
            workspace = await ensure_workspace(session, "T1")
            item = await self.store.store(session, workspace.id, data, "IMG_0042.MOV", "video/quicktime")
            post = Post(workspace_id=workspace.id, author_user_id="U1", text=text,
                        options={**PRIVATE, **(options or {})},
                        targets=[PostTarget(account_id=i) for i in account_ids], media=[PostMedia(media_id=item.id)])
            session.add(post)
            schedule_targets(post, when or self.clock() - timedelta(seconds=1))
            await session.flush()
            await renditions.request(session, post.id, self.runtime.adapters)
            await session.commit()
            return post.id

    async def rows(self, model, *where):
        async with self.sessions() as session:
            return list(await session.scalars(select(model).where(*where).execution_options(populate_existing=True)))

    async def targets(self, post_id: int) -> list[PostTarget]:
        return await self.rows(PostTarget, PostTarget.post_id == post_id)


@pytest.fixture
def world(runtime, store, tiktok, clock):
    tiktok.publishes.clear()
    return World(runtime, store, tiktok, clock)


def published_videos(tiktok: FakeTikTok) -> list[dict]:
    """What the fake TikTok received and accepted: each video's codec, frame rate and size."""
    found = []
    for publish in tiktok.publishes.values():
        if publish.status != "PUBLISH_COMPLETE":
            continue
        with av.open(io.BytesIO(bytes(publish.received))) as container:
            stream = container.streams.video[0]
            found.append({"codec": stream.codec_context.codec.canonical_name, "fps": float(stream.average_rate),
                          "size": (stream.codec_context.width, stream.codec_context.height)})
    return found


# ---- the journey of one video post -------------------------------------------------------------------


async def test_a_post_waits_for_its_copy_then_goes_out_as_soon_as_it_is_made(world):
    ids = await world.accounts()
    post_id = await world.post(SLOW_MOTION, [ids["tiktok"], ids["instagram"]])
    [row] = await world.rows(MediaRendition)
    assert row.status is RenditionStatus.PENDING, "one copy for TikTok and Instagram, asked for at once"
    assert video.Rendition.from_dict(row.spec).fps == 60

    # Its time has come, but the copy is not made: the target waits without losing a try, nothing is sent.
    outcomes = await world.publisher().tick()
    assert {o.status for o in outcomes} == {TargetStatus.SCHEDULED}
    tiktok_target = next(t for t in await world.targets(post_id) if t.account_id == ids["tiktok"])
    assert (tiktok_target.error_kind, tiktok_target.attempts) == (renditions.OPTIMISING, 0)
    assert tiktok_target.last_error == "its video is being optimised"
    assert tiktok_target.next_attempt_at > world.clock()
    assert world.tiktok.publishes == {}
    async with world.sessions() as session:
        [line] = await renditions.post_progress(session, post_id, world.runtime.adapters)
    assert line.platforms == ("TikTok", "Instagram") and line.status is RenditionStatus.PENDING

    # The worker makes it; the waiting targets are due at once.
    worker = world.worker()
    assert len(await worker.tick()) == 1
    await worker.idle()
    [row] = await world.rows(MediaRendition)
    assert row.status is RenditionStatus.READY and row.progress == 1.0
    assert (row.facts["video_codec"], row.facts["fps"], row.facts["faststart"]) == ("h264", 60.0, True)
    [item] = await world.rows(MediaItem)
    assert world.store.path(item.sha256, row.key).is_file() and world.store.path(item.sha256).is_file()
    assert post_id in world.changed
    assert all(t.next_attempt_at <= world.clock() for t in await world.targets(post_id))
    async with world.sessions() as session:
        assert await renditions.post_progress(session, post_id, world.runtime.adapters) == []

    await world.publisher().tick()
    tiktok_target = next(t for t in await world.targets(post_id) if t.account_id == ids["tiktok"])
    assert tiktok_target.status is TargetStatus.PUBLISHED and tiktok_target.attempts == 1
    assert published_videos(world.tiktok) == [{"codec": "h264", "fps": 60.0, "size": (360, 640)}]


async def test_a_video_that_fits_goes_as_it_is_and_optimising_can_be_turned_off(world):
    ids = await world.accounts()
    fits = make_clip(seconds=0.5, faststart=True)
    post_id = await world.post(fits, [ids["tiktok"]], text="Fits")
    assert await world.rows(MediaRendition) == []
    [outcome] = await world.publisher().tick()
    assert outcome.status is TargetStatus.PUBLISHED
    assert published_videos(world.tiktok) == [{"codec": "h264", "fps": 30.0, "size": (360, 640)}]

    world.tiktok.publishes.clear()
    off = await world.post(SLOW_MOTION, [ids["tiktok"]], text="As it is", options={"optimise_video": False})
    assert await world.rows(MediaRendition) == [], "nothing is made when the user turned optimising off"
    [outcome] = await world.publisher().tick()
    assert outcome.status is TargetStatus.FAILED
    assert "120" in outcome.detail and "turn on Optimise video" in outcome.detail
    assert world.tiktok.publishes == {}, "refused before sending what TikTok would refuse"
    assert post_id != off


async def test_progress_is_recorded_and_reported_while_a_copy_is_made(world, monkeypatch):
    ids = await world.accounts()
    post_id = await world.post(SLOW_MOTION, [ids["tiktok"]])
    halfway, go_on = threading.Event(), threading.Event()
    real_make = video.make

    def gated_make(source, target, rendition, progress=None, threads=0):
        progress(0.4)
        halfway.set()
        assert go_on.wait(30), "the test never let the conversion finish"
        return real_make(source, target, rendition, progress, threads)

    monkeypatch.setattr(renditions.video, "make", gated_make)
    worker = world.worker(report_every=0.01, report_step=0.1)
    await worker.tick()
    assert await worker.tick() == [], "one at a time in this process"
    try:
        for _ in range(500):
            [row] = await world.rows(MediaRendition)
            if row.progress >= 0.4:
                break
            await asyncio.sleep(0.02)
        assert row.status is RenditionStatus.WORKING and row.progress == pytest.approx(0.4)
        assert row.lease_expires_at > world.clock()
        async with world.sessions() as session:
            [line] = await renditions.post_progress(session, post_id, world.runtime.adapters)
            post = await session.get(Post, post_id)
        assert world.changed.count(post_id) >= 1, "the post's message is updated with the progress"
        blocks = status_message(post.status, post.text, None, None, [], optimising=[line])
        assert "Optimising video for TikTok… 40%" in str(blocks)
    finally:
        go_on.set()
    await worker.idle()
    [row] = await world.rows(MediaRendition)
    assert row.status is RenditionStatus.READY


async def test_a_failed_copy_fails_its_targets_with_the_reason_and_retry_tries_again(world, monkeypatch):
    ids = await world.accounts()
    post_id = await world.post(SLOW_MOTION, [ids["tiktok"]], when=world.clock() + timedelta(days=1))
    [item] = await world.rows(MediaItem)
    original = world.store.path(item.sha256).read_bytes()

    def broken(*args, **kwargs):
        raise video.VideoError("its pictures could not be decoded")

    monkeypatch.setattr(renditions.video, "make", broken)
    worker = world.worker()
    await worker.tick()
    await worker.idle()
    [row] = await world.rows(MediaRendition)
    assert row.status is RenditionStatus.FAILED
    [target] = await world.targets(post_id)
    assert target.status is TargetStatus.FAILED, "told now, not when the post's day comes"
    assert target.last_error == ("Picmim could not optimise IMG_0042.MOV: its pictures could not be decoded. The "
                                 "original video and the post are kept: Retry tries again.")
    [post] = await world.rows(Post, Post.id == post_id)
    assert post.status is PostStatus.FAILED and post.text == "Slow motion" and post.options["privacy_level"]
    assert world.store.path(item.sha256).read_bytes() == original, "the original is kept"
    async with world.sessions() as session:
        assert await renditions.post_progress(session, post_id, world.runtime.adapters) == [], \
            "no more progress: the target's own line says why"

    monkeypatch.undo()
    async with world.sessions() as session:  # the person presses Retry
        assert await retry_target(session, post.workspace_id, target.id, world.clock())
        await session.commit()
    [outcome] = await world.publisher().tick()
    assert outcome.status is TargetStatus.SCHEDULED, "the copy is asked for again"
    [row] = await world.rows(MediaRendition)
    assert row.status is RenditionStatus.PENDING and row.error is None
    worker = world.worker()
    await worker.tick()
    await worker.idle()
    [row] = await world.rows(MediaRendition)
    assert row.status is RenditionStatus.READY
    await world.publisher().tick()
    [target] = await world.targets(post_id)
    assert target.status is TargetStatus.PUBLISHED


async def test_a_dead_makers_work_is_taken_over_and_given_up_after_three_tries(world):
    ids = await world.accounts()
    post_id = await world.post(SLOW_MOTION, [ids["tiktok"]])
    async with world.sessions() as session:
        assert len(await renditions.claim(session, "dead", world.clock(), 5)) == 1
        assert await renditions.claim(session, "other", world.clock(), 5) == [], "held by its lease"
    world.clock.now += renditions.LEASE + timedelta(seconds=1)
    async with world.sessions() as session:
        [taken] = await renditions.claim(session, "other", world.clock(), 5)
    [row] = await world.rows(MediaRendition)
    assert (row.lease_owner, row.attempts) == ("other", 2)

    async with world.sessions() as session:  # it died twice more
        await session.execute(update(MediaRendition).values(attempts=renditions.MAX_ATTEMPTS, status="pending"))
        await session.commit()
    worker = world.worker()
    await worker.tick()
    await worker.idle()
    [row] = await world.rows(MediaRendition)
    assert row.status is RenditionStatus.FAILED and "stopped while optimising IMG_0042.MOV 3 times" in row.error
    [target] = await world.targets(post_id)
    assert target.status is TargetStatus.FAILED


async def test_posts_share_renditions_and_a_too_long_video_is_cut_only_when_chosen(world):
    ids = await world.accounts()
    first = await world.post(SLOW_MOTION, [ids["tiktok"]], text="one")
    second = await world.post(SLOW_MOTION, [ids["instagram"]], text="two")
    assert len(await world.rows(MediaRendition)) == 1, "the same video and rules: one copy for both posts"
    async with world.sessions() as session:
        await session.execute(update(Account).where(Account.id == ids["tiktok"]).values(
            settings={"privacy_level_options": ["SELF_ONLY"], "max_video_post_duration_sec": 1}))
        await session.commit()
    long_clip = make_clip(seconds=1.5, faststart=True)
    await world.post(long_clip, [ids["tiktok"]], text="long")
    assert len(await world.rows(MediaRendition)) == 1, "too long is refused by validation, not cut"
    cut = await world.post(long_clip, [ids["tiktok"]], text="cut", options={"trim_video": True})
    async with world.sessions() as session:
        count = await session.scalar(select(func.count()).select_from(MediaRendition))
        [need] = await renditions.needs(session, [cut], world.runtime.adapters)
    assert count == 2 and need.rendition.end == pytest.approx(0.75)
    assert first != second


async def test_the_migration_matches_the_model_for_renditions(engine):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from bot.storage.models import Base

    async with engine.connect() as conn:
        diffs = await conn.run_sync(lambda c: compare_metadata(MigrationContext.configure(c), Base.metadata))
    assert [d for d in diffs if "media_renditions" in repr(d)] == []


class _Slack:
    """A Web API client that refuses image blocks as Slack does when it cannot fetch the picture."""

    def __init__(self):
        self.sent: list[list[dict]] = []

    async def chat_postMessage(self, channel, blocks, text):
        from slack_sdk.errors import SlackApiError

        if any("accessory" in b for b in blocks):
            raise SlackApiError("invalid_blocks", {"ok": False, "error": "invalid_blocks",
                                                   "errors": ["downloading image failed [json-pointer:/blocks/0]"]})
        self.sent.append(blocks)
        return {"channel": channel, "ts": "1700000000.000100"}


async def test_the_message_shows_the_cover_and_goes_without_it_when_slack_cannot_fetch_it(world):
    from bot.messages.post_status import update_post_message

    ids = await world.accounts()
    post_id = await world.post(SLOW_MOTION, [ids["tiktok"]], options={"video_cover_timestamp_ms": 250})
    slack = _Slack()

    async def slack_client(team_id, enterprise_id=None):
        return slack

    runtime = SimpleNamespace(**vars(world.runtime), slack_client=slack_client)
    async with world.sessions() as session:
        post = await session.get(Post, post_id)
        link = await renditions.cover_link(session, world.store, post)
    path, mimetype = world.store.resolve(link.rsplit("/", 1)[1])
    assert mimetype == "image/jpeg" and path.read_bytes()[:3] == b"\xff\xd8\xff"
    async with world.sessions() as session:
        assert await renditions.cover_link(session, world.store, post) == link, "one link all day: fetched once"

    await update_post_message(runtime, post_id)
    [blocks] = slack.sent
    assert "Optimising video for TikTok… 0%" in str(blocks) and "accessory" not in blocks[0]
    [post] = await world.rows(Post, Post.id == post_id)
    assert post.message_ts == "1700000000.000100", "the message was posted, without the picture"
