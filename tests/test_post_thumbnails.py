"""Platform thumbnails in-process: the metric sync keeps the picture each network shows for a post (read with its
figures from the fake X), and a digest's thumbnails choose between Picmim's own picture, the network's (while its
address still works) and the video's cover frame."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from bot.http import build_client
from bot.platforms.base import AccountRef, Draft
from bot.platforms.x import ADAPTER as XAdapter
from bot.sandbox.fakes.x import FakeX
from bot.services import post_thumbnails
from bot.services.metric_sync import MetricSync
from bot.storage import db
from bot.storage.models import (
    Account,
    Connection,
    MediaItem,
    Post,
    PostMedia,
    PostStatus,
    PostTarget,
    TargetStatus,
)
from tests.fakes.media import media_payload, small_image
from tests.journeys import X_UNVISITED_REDIRECT, X_USER, add_account, connect_x
from tests.platform_fixtures import make_adapter

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def fake_x():
    fake = FakeX().start()
    yield fake
    fake.stop()


@pytest.fixture
def x(fake_x):
    fake_x.reset()
    fake_x.redirect_uris = {X_UNVISITED_REDIRECT}
    return fake_x


@pytest.fixture
async def adapters(x):
    client = build_client(x.origins())
    yield {"x": make_adapter(XAdapter, x, client, X_UNVISITED_REDIRECT)}
    await client.aclose()


@pytest.fixture
def sessions(engine):
    return db.session_factory(engine)


async def _published(sessions, account_id: int, remote_id: str | None, at: datetime, *, media=(),
                     address: str | None = None, read_at: datetime | None = None) -> int:
    """A published post as the publisher and the sync leave it; `media`: (mimetype, sha256) of what it carried."""
    async with sessions() as session:
        account = await session.get(Account, account_id)
        post = Post(workspace_id=account.workspace_id, author_user_id="U0001", text="Launch",
                    status=PostStatus.PUBLISHED,
                    targets=[PostTarget(account_id=account_id, status=TargetStatus.PUBLISHED, remote_id=remote_id,
                                        published_at=at, platform_thumbnail_url=address,
                                        platform_thumbnail_at=read_at)])
        session.add(post)
        await session.flush()
        for position, (mimetype, sha256) in enumerate(media):
            item = await session.scalar(select(MediaItem).where(MediaItem.workspace_id == account.workspace_id,
                                                                MediaItem.sha256 == sha256))
            if item is None:  # one file, however many posts carried it
                item = MediaItem(workspace_id=account.workspace_id, sha256=sha256, mimetype=mimetype, size_bytes=10,
                                 filename="file", path=sha256)
                session.add(item)
                await session.flush()
            session.add(PostMedia(post_id=post.id, media_id=item.id, position=position))
        await session.commit()
        return post.targets[0].id


async def test_the_sync_keeps_the_picture_x_shows_and_the_last_one_when_the_post_is_gone(sessions, x, adapters):
    account_id = await connect_x(sessions, x, adapters, X_USER, "Acme Marketing", "acmemktg")
    async with sessions() as session:
        account = await session.get(Account, account_id)
        token = (await session.get(Connection, account.connection_id)).access_token
    ref = AccountRef(platform="x", external_id=X_USER, kind="profile", name="Acme Marketing", user_token=token)
    result = await adapters["x"].publish(ref, Draft("Launch"), [media_payload(small_image("JPEG"), "image/jpeg")])
    target_id = await _published(sessions, account_id, result.remote_id, START)
    (media_id,) = x.posts[result.remote_id]["media_ids"]
    sync = MetricSync(sessions, adapters)

    first = START + timedelta(hours=1)
    await sync.tick(first)
    async with sessions() as session:
        target = await session.get(PostTarget, target_id)
        assert (target.platform_thumbnail_url, target.platform_thumbnail_at) == (
            f"https://pbs.twimg.com/media/3_{media_id}.jpg", first)

    del x.posts[result.remote_id]  # deleted at X: no answer, the picture last read stays, with when it was read
    await sync.tick(START + timedelta(hours=2))
    async with sessions() as session:
        target = await session.get(PostTarget, target_id)
        assert target.metrics_synced_at == START + timedelta(hours=2)
        assert (target.platform_thumbnail_url, target.platform_thumbnail_at) == (
            f"https://pbs.twimg.com/media/3_{media_id}.jpg", first)


async def test_a_digest_picture_is_picmims_own_then_the_networks_while_it_works_then_the_video_cover(sessions):
    now = START + timedelta(days=3)
    accounts = {p: await add_account(sessions, p, "profile", f"Acme on {p}")
                for p in ("x", "tiktok", "instagram", "youtube")}
    kept, gone, video = "a" * 64, "b" * 64, "c" * 64  # Picmim's files: kept, deleted by retention, kept
    targets = {
        "own picture first": await _published(sessions, accounts["x"], "1", START, media=[("image/jpeg", kept)],
                                              address="https://pbs.twimg.com/media/3_1.jpg", read_at=now),
        "x, read a month ago": await _published(sessions, accounts["x"], "2", START, media=[("image/jpeg", gone)],
                                                address="https://pbs.twimg.com/media/3_2.jpg",
                                                read_at=now - timedelta(days=30)),
        "tiktok, fresh": await _published(sessions, accounts["tiktok"], "3", START,
                                          address="https://p16-sign.tiktokcdn-us.com/obj/3.image",
                                          read_at=now - timedelta(hours=5)),
        "tiktok, lapsed": await _published(sessions, accounts["tiktok"], "4", START, media=[("video/mp4", video)],
                                           address="https://p16-sign.tiktokcdn-us.com/obj/4.image",
                                           read_at=now - timedelta(hours=7)),
        "instagram, lapsed": await _published(sessions, accounts["instagram"], "5", START,
                                              address="https://scontent.cdninstagram.com/5_n.jpg",
                                              read_at=now - timedelta(days=2)),
        "youtube, never read": await _published(sessions, accounts["youtube"], "abcdefghijk", START),
    }

    async def picture_link(item: MediaItem) -> str | None:
        return f"https://picmim.example/media/{item.sha256[:4]}" if item.sha256 == kept else None

    async def cover_link(post: Post) -> str | None:
        return f"https://picmim.example/cover/{post.id}"

    async with sessions() as session:
        found = await post_thumbnails.thumbnails(session, list(targets.values()), picture_link, cover_link, now)
        post_of = dict((await session.execute(select(PostTarget.id, PostTarget.post_id))).all())
    assert {name: found.get(target_id) for name, target_id in targets.items()} == {
        "own picture first": "https://picmim.example/media/aaaa",
        "x, read a month ago": "https://pbs.twimg.com/media/3_2.jpg",  # X's addresses keep working
        "tiktok, fresh": "https://p16-sign.tiktokcdn-us.com/obj/3.image",
        # TikTok's cover address lapses after 6 hours: the cover frame of the video Picmim still keeps instead.
        "tiktok, lapsed": f"https://picmim.example/cover/{post_of[targets['tiktok, lapsed']]}",
        "instagram, lapsed": None,  # Meta's address has lapsed and Picmim has nothing of its own: no picture
        "youtube, never read": "https://i.ytimg.com/vi/abcdefghijk/mqdefault.jpg",
    }


@pytest.mark.parametrize("address, shown", [
    ("https://pbs.twimg.com/media/3_1.jpg", True),
    ("http://127.0.0.1:8080/picture.jpg", True),
    ("javascript:alert(1)", False),
    ("https://cdn.example/a picture.jpg", False),
    ("https://cdn.example/" + "a" * 3000, False),  # over Block Kit's 3,000 characters
    (None, False),
    (42, False),
])
def test_only_addresses_slack_can_be_given_are_kept(address, shown):
    assert post_thumbnails.shown_address(address) is shown
