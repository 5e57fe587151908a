"""A digest's top posts with their pictures, end to end: a real server process sends a due digest whose top posts
are an X post that carried a picture (shown from Picmim's own media link, which serves that very picture) and a
YouTube video (shown with the thumbnail YouTube gives every video); each account says when its figures are from."""

from __future__ import annotations

import asyncio
import io
import json
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from PIL import Image
from slack_sdk.errors import SlackApiError

from bot.media.store import MediaStore
from bot.messages.reports import deliver
from bot.services.workspaces import ensure_workspace
from bot.storage import crypto, db
from bot.storage.models import (
    Account,
    Connection,
    DigestSubscription,
    MetricSnapshot,
    Post,
    PostMedia,
    PostStatus,
    PostTarget,
    TargetStatus,
)
from bot.views.stats import as_of
from tests.conftest import SECRET_KEY, SIGNING_SECRET
from tests.journeys import wait_until
from tests.server import ServerProcess, base_env, free_port

DIGEST_CHANNEL = "CDIGEST"
VIDEO_ID = "dQw4w9WgXcQ"


def _picture() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 40, 90)).save(out, "PNG")
    return out.getvalue()


async def _seed(url: str, data_dir, public_url: str, picture: bytes, now: datetime) -> dict:
    crypto.configure([SECRET_KEY])
    engine = db.create_engine(url)
    try:
        await db.migrate(engine)
        async with db.session_factory(engine)() as session:
            workspace = await ensure_workspace(session, "T0001")
            await session.flush()
            made = {}
            for platform, kind, name, remote_id, url_of in (
                    ("x", "profile", "Acme Marketing", "1890000000000000001",
                     "https://x.com/acmemktg/status/1890000000000000001"),
                    ("youtube", "channel", "Acme TV", VIDEO_ID, f"https://www.youtube.com/watch?v={VIDEO_ID}")):
                # Connections without tokens: the metric sync leaves them alone; their figures are seeded below.
                connection = Connection(workspace_id=workspace.id, platform=platform, external_user_id=name,
                                        display_name=name)
                session.add(connection)
                await session.flush()
                account = Account(workspace_id=workspace.id, connection_id=connection.id, platform=platform,
                                  external_id=name, kind=kind, name=name)
                session.add(account)
                await session.flush()
                post = Post(workspace_id=workspace.id, author_user_id="U0001", text=f"{name}'s launch",
                            status=PostStatus.PUBLISHED,
                            targets=[PostTarget(account_id=account.id, status=TargetStatus.PUBLISHED,
                                                remote_id=remote_id, remote_url=url_of,
                                                published_at=now - timedelta(days=3))])
                session.add(post)
                await session.flush()
                made[platform] = (account.id, post.targets[0].id, post.id)
            item = await MediaStore(data_dir, public_url, (SECRET_KEY,)).store(session, workspace.id, picture,
                                                                              "launch.png")
            session.add(PostMedia(post_id=made["x"][2], media_id=item.id, position=0))
            synced = now - timedelta(hours=2)
            figures = {"x": ({"followers_count": 1000}, {"like_count": 40, "impression_count": 900}),
                       "youtube": ({"subscriberCount": 300, "viewCount": 5000}, {"likeCount": 25, "viewCount": 800})}
            for platform, (account_figures, post_figures) in figures.items():
                account_id, target_id, _ = made[platform]
                for at in (now - timedelta(days=6), synced):
                    session.add_all(MetricSnapshot(account_id=account_id, metric=k, value=v, captured_at=at)
                                    for k, v in account_figures.items())
                session.add_all(MetricSnapshot(account_id=account_id, target_id=target_id, metric=k, value=v,
                                               captured_at=synced) for k, v in post_figures.items())
            session.add(DigestSubscription(workspace_id=workspace.id, channel_id=DIGEST_CHANNEL, frequency="weekly",
                                           weekday=now.weekday(), time_of_day=now.strftime("%H:%M"), timezone="UTC",
                                           created_by="U0001", next_run_at=now))
            await session.commit()
            return {"synced": synced}
    finally:
        await engine.dispose()


@pytest.fixture
def digest(module_database, fake_slack, slack, tmp_path_factory):
    cwd = tmp_path_factory.mktemp("thumbnails")
    port = free_port()
    public_url = f"http://127.0.0.1:{port}"
    # Stored media live beside the SQLite file, or in the working folder with PostgreSQL.
    data_dir = cwd if module_database.is_postgres else module_database.tmp_dir
    picture, now = _picture(), datetime.now(UTC) - timedelta(seconds=1)
    seeded = asyncio.run(_seed(module_database.url, data_dir, public_url, picture, now))
    env = base_env(SLACK_SIGNING_SECRET=SIGNING_SECRET, SLACK_BOT_TOKEN="xoxb-fake-T0001",
                   SLACK_API_URL=fake_slack.api_url, DATABASE_URL=module_database.url, PICMIM_SECRET_KEY=SECRET_KEY,
                   PUBLIC_URL=public_url, PORT=str(port), PICMIM_ANALYTICS_SECONDS="0.3", LOG_LEVEL="WARNING")
    server = ServerProcess(env, cwd=cwd).start()
    try:
        [shared] = wait_until(lambda: slack.shared_in(DIGEST_CHANNEL), "the digest in its channel", timeout=30)
        yield {**seeded, "shared": shared, "picture": picture, "now": now, "public_url": public_url}
    finally:
        server.stop()


def test_a_digest_shows_its_top_posts_pictures_and_when_its_figures_are_from(digest):
    blocks = digest["shared"]["blocks"]
    tops = [b for b in blocks if b["type"] == "section" and b.get("accessory", {}).get("type") == "image"]
    by_text = {b["text"]["text"].split("|", 1)[1].split(">", 1)[0]: b["accessory"] for b in tops}
    assert set(by_text) == {"Acme Marketing's launch", "Acme TV's launch"}
    youtube = by_text["Acme TV's launch"]
    assert youtube["image_url"] == f"https://i.ytimg.com/vi/{VIDEO_ID}/mqdefault.jpg"
    assert youtube["alt_text"] == "Acme TV's launch"
    # The X post's own picture, from Picmim's media link: what the link serves is the picture that was attached.
    x = by_text["Acme Marketing's launch"]
    assert x["image_url"].startswith(f"{digest['public_url']}/media/")
    served = httpx.get(x["image_url"], timeout=10)
    assert served.status_code == 200 and served.content == digest["picture"]
    shown = json.dumps(blocks, ensure_ascii=False)
    as_of_sync = as_of(digest["synced"], "UTC", digest["now"])
    assert f"*Acme Marketing* · as of {as_of_sync}" in shown and f"*Acme TV* · as of {as_of_sync}" in shown


# ---- in-process: Slack cannot fetch a picture --------------------------------------------------------------


class SlackThatCannotFetchPictures:
    """Answers chat.postMessage as Slack does when it cannot download a block's image (PUBLIC_URL not reachable
    from the internet): invalid_blocks, nothing posted."""

    def __init__(self):
        self.posted: list[list[dict]] = []

    async def chat_postMessage(self, channel: str, blocks: list[dict], text: str):  # noqa: N802 - Slack's name
        if any(b.get("accessory", {}).get("type") == "image" for b in blocks):
            raise SlackApiError("invalid_blocks", {"ok": False, "error": "invalid_blocks",
                                                   "errors": ["downloading image failed [json-pointer:/blocks/5]"]})
        self.posted.append(blocks)
        return {"ok": True, "channel": channel, "ts": "1.2"}


async def test_a_digest_whose_pictures_slack_cannot_fetch_goes_without_them():
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": "1. <https://x.com/a/status/1|Launch>"},
               "accessory": {"type": "image", "image_url": "http://localhost:3000/media/t", "alt_text": "Launch"}}]
    slack = SlackThatCannotFetchPictures()
    delivery = await deliver(slack, "CDIGEST", blocks, "Weekly digest")
    assert delivery.ok
    assert slack.posted == [[{"type": "section", "text": {"type": "mrkdwn",
                                                          "text": "1. <https://x.com/a/status/1|Launch>"}}]]
