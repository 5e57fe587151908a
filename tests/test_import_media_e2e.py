"""Bulk import's media_url with videos, end to end: the real server, its PICMIM_ORIGIN_OVERRIDES sending a public
video site to a local media host, an X account connected (the compose tests' fixtures), and a CSV file shared in
Picmim's direct messages. The answer is read from the direct message Picmim sends, the post from the fake X."""

from __future__ import annotations

import asyncio
import time

import pytest
from sqlalchemy import select

from bot.storage.models import MediaItem, Post, PostMedia, PostStatus
from tests import journeys
from tests.conftest import SECRET_KEY, SIGNING_SECRET
from tests.fakes.media import make_video
from tests.fakes.media_host import MediaHost
from tests.journeys import shown, wait_until, x_posts
from tests.server import ServerProcess, base_env, free_port

fake_x, slack_files, sender = journeys.fake_x, journeys.slack_files, journeys.compose_sender
VIDEO_SITE = "https://videos.example"  # a public site, as far as the server knows
MARIA = "U0001"


@pytest.fixture(scope="module")
def video_site():
    host = MediaHost().start()
    yield host
    host.stop()


@pytest.fixture(scope="module")
def compose_server(module_database, fake_slack, fake_x, video_site, tmp_path_factory):
    """journeys.compose_server, with the video site mapped to the local media host as well."""
    port = free_port()
    public = f"http://127.0.0.1:{port}"
    origins = {**fake_x.origins(), VIDEO_SITE: video_site.url}
    env = base_env(SLACK_SIGNING_SECRET=SIGNING_SECRET, SLACK_BOT_TOKEN=journeys.BOT_TOKEN,
                   SLACK_API_URL=fake_slack.api_url, DATABASE_URL=module_database.url, PICMIM_SECRET_KEY=SECRET_KEY,
                   PORT=str(port), PUBLIC_URL=public, PICMIM_TICK_SECONDS="0.5",
                   PICMIM_ORIGIN_OVERRIDES=",".join(f"{real}={local}" for real, local in origins.items()),
                   X_CLIENT_ID=fake_x.client_id, X_CLIENT_SECRET=fake_x.client_secret)
    server = ServerProcess(env, cwd=tmp_path_factory.mktemp("import-media")).start()
    redirect = f"{public}/oauth/x/callback"
    fake_x.redirect_uris = {redirect}
    account_id = asyncio.run(journeys._store_x_account(module_database.url, fake_x, redirect))
    yield server, account_id
    server.stop()


def _share_csv(sender, slack_files, name: str, body: str) -> None:
    slack_files.put(name, body.encode(), "text/csv")
    file = slack_files.file(name, filetype="csv", mimetype="text/csv")
    event = {"type": "message", "subtype": "file_share", "channel": "D0PICMIM", "channel_type": "im", "user": MARIA,
             "text": "", "ts": f"{time.time():.6f}", "files": [file]}
    assert sender.event(event).status_code == 200


def _answer(slack, filename: str) -> str:
    found = wait_until(lambda: [m for m in slack.posted_in(MARIA) if filename in shown(m["blocks"] or [])
                                or filename in m["text"]], f"the answer about {filename}")
    return shown(found[0]["blocks"] or []) + found[0]["text"]


def _stored(url: str, text: str) -> list[tuple]:
    """(status, the attachment's type or None) of each post with this text."""
    async def go():
        from bot.storage import crypto, db

        crypto.configure([SECRET_KEY])
        engine = db.create_engine(url)
        try:
            async with db.session_factory(engine)() as session:
                return [tuple(r) for r in (await session.execute(
                    select(Post.status, MediaItem.mimetype).outerjoin(PostMedia, PostMedia.post_id == Post.id)
                    .outerjoin(MediaItem, MediaItem.id == PostMedia.media_id).where(Post.text == text))).all()]
        finally:
            await engine.dispose()
    return asyncio.run(go())


def test_a_video_at_a_public_address_is_published_to_x_once_and_a_too_short_one_is_refused_in_xs_words(
        sender, slack, fake_x, slack_files, video_site, compose_server, module_database):
    stamp = time.time_ns()
    good, short = f"Latte art in slow motion {stamp}", f"Blink and you miss it {stamp}"
    video_site.serve(make_video(seconds=1.0, width=640, height=360), "video/mp4", f"/latte-{stamp}.mp4")
    video_site.serve(make_video(seconds=0.2, width=640, height=360), "video/quicktime", f"/blink-{stamp}.mov")
    name = f"videos-{stamp}.csv"
    _share_csv(sender, slack_files, name, "text,accounts,when,media_url\n"
               f"{good},x:@acmemktg,now,{VIDEO_SITE}/latte-{stamp}.mp4\n"
               f"{short},x:@acmemktg,now,{VIDEO_SITE}/blink-{stamp}.mov\n")
    answer = _answer(slack, name)
    assert f"Imported 1 of 2 posts from {name}; 1 refused." in answer
    assert "Row 3: X needs videos of at least 0.5 s;" in answer and "attach a longer one." in answer
    assert video_site.fetches.count(f"/latte-{stamp}.mp4") == 1

    [published] = wait_until(lambda: x_posts(fake_x, good), "the post on X", timeout=30)
    [media_id] = published["media_ids"]
    assert fake_x.media[media_id].category == "tweet_video"
    wait_until(lambda: _stored(module_database.url, good) == [(PostStatus.PUBLISHED, "video/mp4")], "published")
    time.sleep(1.5)  # three more publisher ticks
    assert len(x_posts(fake_x, good)) == 1, "published once"
    assert x_posts(fake_x, short) == [] and _stored(module_database.url, short) == [], "nothing of the refused row"


def test_a_video_over_10_mb_is_refused_and_nothing_of_its_row_is_kept(sender, slack, slack_files, video_site,
                                                                     compose_server, module_database):
    stamp = time.time_ns()
    text = f"Our whole opening night {stamp}"
    video_site.serve(make_video(pad_to=11 * 1024 * 1024), "video/mp4", f"/night-{stamp}.mp4")
    name = f"big-{stamp}.csv"
    _share_csv(sender, slack_files, name, f"text,accounts,when,media_url\n{text},x:@acmemktg,now,"
               f"{VIDEO_SITE}/night-{stamp}.mp4\n")
    answer = _answer(slack, name)
    assert "Row 2: The file at media_url could not be fetched: The link leads to a file over 10 MB." in answer
    assert _stored(module_database.url, text) == []
