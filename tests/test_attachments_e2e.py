"""Attachments through the real server: a forged submission naming a huge file is refused before anything is
fetched, a download that grows past the cap is cut off, and a refused submission leaves no file in the media
folder (nor a row); mended and sent again, it goes out with its pictures."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from sqlalchemy import func, select

from bot import ids
from bot.storage import db
from bot.storage.models import MediaItem
from tests import journeys
from tests.fakes.media import make_image
from tests.journeys import compose_state, field_errors, submit_compose, wait_until, x_posts

fake_x, files, compose_server = journeys.fake_x, journeys.slack_files, journeys.compose_server
sender, account_id = journeys.compose_sender, journeys.account_id

WAIT = 15.0


def media_folder(compose_server, module_database) -> Path:
    """Where the server keeps media: beside its SQLite file, else in its working folder."""
    server, _ = compose_server
    base = Path(server.cwd) if module_database.is_postgres else module_database.tmp_dir
    return base / "media"


def files_in(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file()) if folder.is_dir() else []


async def _media_rows(url: str) -> int:
    engine = db.create_engine(url)
    try:
        async with db.session_factory(engine)() as session:
            return await session.scalar(select(func.count()).select_from(MediaItem))
    finally:
        await engine.dispose()


def media_rows(module_database) -> int:
    return asyncio.run(_media_rows(module_database.url))


def test_a_forged_huge_file_is_refused_before_it_is_fetched(sender, slack, files, account_id, compose_server,
                                                            module_database):
    files.delay, before = 0.0, files.requests
    forged = files.file("photo.jpg", size=300 * 1024 * 1024)  # Slack's file input takes 10 MB at most
    errors = field_errors(submit_compose(sender, compose_state([account_id], "Our launch", files=[forged])))
    assert errors == {ids.COMPOSE_MEDIA_BLOCK: "“photo.jpg” is 314.6 MB; the largest file Picmim can take from "
                                               "Slack is 10 MB: attach a smaller one."}
    assert files.requests == before, "nothing was downloaded"
    assert files_in(media_folder(compose_server, module_database)) == []
    assert slack.calls_to("chat.postMessage") == []


def test_a_download_that_grows_past_the_cap_is_cut_off(sender, slack, files, account_id, compose_server,
                                                       module_database):
    files.delay = 0.0
    files.huge.add("endless.png")  # Slack lists no size and the answer says no length: 256 MB would follow
    endless = files.file("endless.png", sized=False)
    good = files.file("fine.png")
    errors = field_errors(submit_compose(sender, compose_state([account_id], "Our launch", files=[good, endless])))
    assert errors == {ids.COMPOSE_MEDIA_BLOCK: "“endless.png” is larger than 10 MB, the largest file Picmim can "
                                               "take from Slack: attach a smaller one."}
    time.sleep(0.5)
    assert not files.huge_finished, "the download was cut off"
    assert files_in(media_folder(compose_server, module_database)) == [], "neither file is kept"
    assert media_rows(module_database) == 0


def test_a_refused_submission_leaves_no_file_and_mended_it_goes_out(sender, slack, fake_x, files, account_id,
                                                                    compose_server, module_database):
    files.delay = 0.0
    folder = media_folder(compose_server, module_database)
    pictures = [files.file("team.png"), files.file("office.png")]
    # Two pictures that fit X, with a text X refuses: the refusal is beside the text...
    errors = field_errors(submit_compose(sender, compose_state([account_id], "a" * 300, files=pictures)))
    assert list(errors) == [ids.COMPOSE_TEXT_BLOCK] and "of 280" in errors[ids.COMPOSE_TEXT_BLOCK]
    # ...and the pictures fetched to check it are not kept (Slack still holds them for the next try).
    wait_until(lambda: files_in(folder) == [] and media_rows(module_database) == 0 or None,
               "the refused submission's files to be deleted", WAIT)

    files.put("team.png", make_image(700, 500, "PNG"))  # two different pictures this time
    text = f"Mended {time.time_ns()}"
    answer = submit_compose(sender, compose_state([account_id], text, files=pictures))
    assert answer.status_code == 200 and answer.text in ("", "null"), answer.text
    [posted] = wait_until(lambda: x_posts(fake_x, text), "the post on X", WAIT)
    assert len(posted["media_ids"]) == 2, "fetched again, published with both pictures"
    assert len(files_in(folder)) == 2 and media_rows(module_database) == 2
