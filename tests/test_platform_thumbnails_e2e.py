"""A digest's top posts show the networks' own pictures, end to end: an X video post and an Instagram photo post were
published to local fakes of X and Meta; Picmim's copy of the Instagram photo has since been deleted (media retention)
while it still keeps the X video. The real server process's metric sync reads each post's figures and, in the same
calls, the picture the network shows for it (X's video preview image, Instagram's media_url); the digest then shows
those pictures beside the posts."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update

from bot.http import build_client
from bot.media.store import MediaStore
from bot.platforms.base import AccountRef, AdapterConfig, Draft
from bot.platforms.instagram import ADAPTER as InstagramAdapter
from bot.platforms.meta_graph import Polling
from bot.platforms.x import ADAPTER as XAdapter
from bot.sandbox.fakes import meta as meta_fake
from bot.sandbox.fakes.meta import FakeMeta
from bot.sandbox.fakes.x import FakeX
from bot.storage import crypto, db
from bot.storage.models import (
    Account,
    Connection,
    DigestSubscription,
    Post,
    PostMedia,
    PostStatus,
    PostTarget,
    TargetStatus,
)
from tests import journeys
from tests.conftest import SECRET_KEY, SIGNING_SECRET
from tests.fakes.media import jpeg, make_clip, media_payload
from tests.fakes.media_host import MediaHost
from tests.journeys import X_UNVISITED_REDIRECT, X_USER, blocks_of, connect_x, wait_until
from tests.platform_fixtures import connect_and_choose, make_adapter, store_connected
from tests.server import ServerProcess, base_env, free_port

DIGEST_CHANNEL = "CTHUMBS"
IG_USER = "17841400000001"  # @acmecoffee at the fake Meta
WAIT = 60.0  # seconds one step may take on a slow, shared machine


@pytest.fixture(scope="module")
def fakes():
    x, meta, host = FakeX().start(), FakeMeta().start(), MediaHost().start()
    x.redirect_uris = {X_UNVISITED_REDIRECT}
    x.processing_polls = 0
    yield {"x": x, "meta": meta, "host": host}
    for fake in (x, meta, host):
        fake.stop()


async def _publish_and_record(url: str, data_dir, public_url: str, fakes: dict, now: datetime) -> dict:
    """Both posts published through the adapters and recorded as the publisher records them, with the files Picmim
    kept; the Instagram photo's file is then deleted, as media retention does."""
    x, meta, host = fakes["x"], fakes["meta"], fakes["host"]
    crypto.configure([SECRET_KEY])
    engine = db.create_engine(url)
    try:
        await db.migrate(engine)
        sessions = db.session_factory(engine)
        async with build_client(x.origins() | meta.overrides) as http:
            x_adapter = make_adapter(XAdapter, x, http, X_UNVISITED_REDIRECT)
            x_account = await connect_x(sessions, x, {"x": x_adapter}, X_USER, "Acme Marketing", "acmemktg")
            redirect = f"{public_url}/oauth/instagram/callback"
            ig_adapter = InstagramAdapter(AdapterConfig(client_id=meta_fake.APP_ID, client_secret=meta_fake.APP_SECRET,
                                                        redirect_uri=redirect, public_url=public_url), http)
            ig_adapter.polling = Polling(attempts=5, delay=0)
            granted = {"instagram": await connect_and_choose(ig_adapter, http, redirect, None, IG_USER)}
            ig_account = (await store_connected(url, "T0001", "U0001", granted))["instagram"]

            clip, photo = make_clip(width=640, height=360, seconds=1.0, faststart=True), jpeg(1080, 1080)
            async with sessions() as session:
                refs = {}
                for account_id in (x_account, ig_account):
                    account = await session.get(Account, account_id)
                    connection = await session.get(Connection, account.connection_id)
                    refs[account_id] = AccountRef(platform=account.platform, external_id=account.external_id,
                                                  kind=account.kind, name=account.name,
                                                  user_token=connection.access_token, token=account.access_token,
                                                  handle=account.handle, settings=dict(account.settings or {}))
            x_result = await x_adapter.publish(refs[x_account], Draft("Our launch film"), [
                media_payload(clip, "video/mp4", duration=1.0, size=(640, 360))])
            ig_result = await ig_adapter.publish(refs[ig_account], Draft("Latte art"), [
                media_payload(photo, "image/jpeg", size=(1080, 1080), public_url=host.put("latte.jpg", photo,
                                                                                          "image/jpeg"))])

        store = MediaStore(data_dir, public_url, (SECRET_KEY,))
        made = {}
        async with sessions() as session:
            workspace_id = (await session.get(Account, x_account)).workspace_id
            for key, account_id, text, result, data, name in (
                    ("x", x_account, "Our launch film", x_result, clip, "launch.mp4"),
                    ("instagram", ig_account, "Latte art", ig_result, photo, "latte.jpg")):
                item = await store.store(session, workspace_id, data, name)
                post = Post(workspace_id=workspace_id, author_user_id="U0001", text=text, status=PostStatus.PUBLISHED,
                            targets=[PostTarget(account_id=account_id, status=TargetStatus.PUBLISHED,
                                                remote_id=result.remote_id, remote_url=result.url,
                                                published_at=now - timedelta(days=3))])
                session.add(post)
                await session.flush()
                session.add(PostMedia(post_id=post.id, media_id=item.id, position=0))
                made[key] = {"target": post.targets[0].id, "remote_id": result.remote_id, "sha256": item.sha256}
            # Due next week: it is moved to now once the sync has read the figures (the test's only clock move).
            session.add(DigestSubscription(workspace_id=workspace_id, channel_id=DIGEST_CHANNEL, frequency="weekly",
                                           weekday=now.weekday(), time_of_day=now.strftime("%H:%M"), timezone="UTC",
                                           created_by="U0001", next_run_at=now + timedelta(days=7)))
            await session.commit()
        store.path(made["instagram"]["sha256"]).unlink()  # media retention deleted Picmim's copy of the photo
        assert store.path(made["x"]["sha256"]).is_file()
        # Figures that put both posts on top.
        x.posts[x_result.remote_id]["public_metrics"] |= {"like_count": 40, "impression_count": 900}
        posted = meta.ig_media[ig_result.remote_id]
        posted.like_count, posted.insights = 65, {"views": 950, "reach": 700, "total_interactions": 81}
        return made
    finally:
        await engine.dispose()


_run = journeys.with_session


@pytest.fixture(scope="module")
def digest(module_database, fake_slack, fakes, tmp_path_factory):
    cwd = tmp_path_factory.mktemp("platform-thumbnails")
    port = free_port()
    public_url = f"http://127.0.0.1:{port}"
    data_dir = cwd if module_database.is_postgres else module_database.tmp_dir
    now = datetime.now(UTC)
    made = asyncio.run(_publish_and_record(module_database.url, data_dir, public_url, fakes, now))
    x, meta = fakes["x"], fakes["meta"]
    overrides = ",".join(f"{real}={local}" for real, local in (x.origins() | meta.overrides).items())
    env = base_env(SLACK_SIGNING_SECRET=SIGNING_SECRET, SLACK_BOT_TOKEN="xoxb-fake-T0001",
                   SLACK_API_URL=fake_slack.api_url, DATABASE_URL=module_database.url, PICMIM_SECRET_KEY=SECRET_KEY,
                   PUBLIC_URL=public_url, PORT=str(port), PICMIM_ORIGIN_OVERRIDES=overrides,
                   X_CLIENT_ID=x.client_id, X_CLIENT_SECRET=x.client_secret, META_CLIENT_ID=meta_fake.APP_ID,
                   META_CLIENT_SECRET=meta_fake.APP_SECRET, PICMIM_ANALYTICS_SECONDS="0.3",
                   PICMIM_HEALTH_SECONDS="3600", LOG_LEVEL="WARNING")
    server = ServerProcess(env, cwd=cwd).start()
    try:
        targets = [made["x"]["target"], made["instagram"]["target"]]

        async def pictures(session):
            rows = await session.execute(select(PostTarget.id, PostTarget.platform_thumbnail_url)
                                         .where(PostTarget.id.in_(targets)))
            return {target_id: address for target_id, address in rows.all() if address}

        def read_pictures():
            found = asyncio.run(_run(module_database.url, pictures))
            if len(found) < 2:
                time.sleep(0.2)  # the database is asked a few times a second, not twenty
                return None
            return found

        stored = wait_until(read_pictures, "the sync to read both posts' pictures", timeout=WAIT)
        asyncio.run(_run(module_database.url, lambda s: s.execute(
            update(DigestSubscription).where(DigestSubscription.channel_id == DIGEST_CHANNEL)
            .values(next_run_at=datetime.now(UTC)))))  # after the sync: its figures count
        # A digest goes as a message, or as its chart's file share when it has a chart (not here: one sync so far).
        [shared] = wait_until(lambda: fake_slack.posted_in(DIGEST_CHANNEL) or fake_slack.shared_in(DIGEST_CHANNEL),
                              "the digest in its channel", timeout=WAIT)
        yield {**made, "stored": stored, "shared": shared, "public_url": public_url}
    finally:
        server.stop()


def _pictures(shared: dict) -> dict[str, dict]:
    tops = [b for b in blocks_of(shared["blocks"])
            if b["type"] == "section" and b.get("accessory", {}).get("type") == "image"]
    return {b["text"]["text"].split("|", 1)[1].split(">", 1)[0]: b["accessory"] for b in tops}


def test_a_digest_shows_an_x_videos_preview_image(digest, fakes):
    (media_id,) = fakes["x"].posts[digest["x"]["remote_id"]]["media_ids"]
    preview = f"https://pbs.twimg.com/ext_tw_video_thumb/{media_id}/pu/img/7_{media_id}.jpg"
    assert digest["stored"][digest["x"]["target"]] == preview
    shown = _pictures(digest["shared"])["Our launch film"]
    # X's own preview, not the cover frame Picmim could cut from the video it still keeps.
    assert shown == {"type": "image", "image_url": preview, "alt_text": "Our launch film"}


def test_a_digest_shows_an_instagram_photo_after_picmims_copy_is_gone(digest, fakes):
    remote_id = digest["instagram"]["remote_id"]
    shown = _pictures(digest["shared"])["Latte art"]
    assert shown["image_url"] == digest["stored"][digest["instagram"]["target"]]
    assert shown["image_url"].startswith("https://scontent.cdninstagram.com/")
    assert shown["image_url"].split("?")[0].endswith(f"/{remote_id}_n.jpg")
    assert not shown["image_url"].startswith(digest["public_url"])
