"""Bulk import's reading and checking (bot/services/importing.py): the file (BOM, semicolons, blank lines, limits),
each row's accounts, time and per-network settings, and, against a database, rows refused for what only the whole
import knows (no posting slots, a picture on a private address) while the good rows are created."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest
from sqlalchemy import select

from bot.http import build_client
from bot.media.store import MediaStore
from bot.platforms.base import AdapterConfig
from bot.platforms.link_cards import MAX_VIDEO_BYTES
from bot.platforms.settings import XSettings, YouTubeSettings
from bot.platforms.x import XAdapter
from bot.platforms.youtube import YouTubeAdapter
from bot.sandbox.fakes.slack import block_kit_errors
from bot.services import importing, roles, slots
from bot.services.composing import Choice
from bot.services.importing import (
    FileRefused,
    Importer,
    Outcome,
    RowProblem,
    RowRefused,
    Scheduled,
    parse_when,
    read_row,
    read_sheet,
)
from bot.services.slots import Slot
from bot.services.workspaces import ensure_workspace
from bot.storage import db
from bot.storage.models import Account, Connection, MediaItem, Post, PostMedia, PostStatus, PostTarget, Workspace
from bot.views.importing import result_blocks
from tests.fakes.media import make_image, make_pdf, make_video

NOW = datetime(2030, 3, 1, 12, 0, tzinfo=UTC)
OFFERED = [Choice(1, "x", "X", "Acme Marketing", "acmemktg", "profile"),
           Choice(2, "youtube", "YouTube", "Acme TV", None, "channel",
                  {"playlists": [{"id": "PL1", "title": "Recipes"}, {"id": "PL2", "title": "Behind the bar"}]}),
           Choice(3, "pinterest", "Pinterest", "Acme Pins", None, "profile",
                  {"boards": [{"id": "b1", "name": "Recipes"}, {"id": "b2", "name": "Cafés"}],
                   "default_board_id": "b1"})]


def test_a_file_with_a_bom_semicolons_and_blank_lines_reads_with_its_row_numbers():
    data = "\ufeffText;Accounts;When;Colour\n\"Hello, world; again\";x:@acmemktg;now;red\n;;;\n\nBye;x:@acmemktg;now;\n"
    sheet = read_sheet(data.encode())
    assert sheet.columns == ("text", "accounts", "when", "colour")
    assert [(n, cells["text"]) for n, cells in sheet.rows] == [(2, "Hello, world; again"), (5, "Bye")]
    assert sheet.unknown == ("Colour",)


@pytest.mark.parametrize(("data", "says"), [
    (b"accounts,when\nx:@a,now\n", "The file has no “text” column"),
    ("text\n".encode("utf-16"), "is not UTF-8 text"),
    (b"", "The file is empty"),
    (b"text,accounts\n", "The file has no posts"),
    (("text,accounts,when\n" + "hi,x:@a,now\n" * 501).encode(), "The file has 501 posts; Picmim imports up to 500"),
])
def test_a_file_that_cannot_be_imported_says_why(data, says):
    with pytest.raises(FileRefused, match=says):
        read_sheet(data)


def test_times_are_now_an_offset_or_the_importers_own_zone():
    assert parse_when("now", "Europe/Madrid") == (None, False)
    assert parse_when("Next slot", "Europe/Madrid") == (None, True)
    assert parse_when("2030-05-04 09:30", "Europe/Madrid") == (datetime(2030, 5, 4, 7, 30, tzinfo=UTC), False)
    assert parse_when("2030-01-04 09:30", "Europe/Madrid") == (datetime(2030, 1, 4, 8, 30, tzinfo=UTC), False)
    assert parse_when("2030-05-04T09:30:00-04:00", "Europe/Madrid") == (datetime(2030, 5, 4, 13, 30, tzinfo=UTC),
                                                                        False)
    with pytest.raises(RowProblem, match="“tomorrow” is not a time Picmim reads"):
        parse_when("tomorrow", None)
    with pytest.raises(RowProblem, match="“2030-05-04” has no time of day: write it as 2030-05-04 09:30, or now"):
        parse_when("2030-05-04", None)
    with pytest.raises(RowProblem, match="Say when"):
        parse_when("", None)


def test_a_row_reads_into_what_the_compose_window_would_hold():
    cells = {"text": "New video\nMore below", "accounts": "youtube:Acme TV; pinterest:acme pins; x:@AcmeMktg",
             "when": "now", "youtube_privacy": "Unlisted", "youtube_made_for_kids": "no", "youtube_tags": "a, b",
             "youtube_playlist": "behind the bar",
             "pinterest_board": "cafés", "pinterest_link": "https://acme.example/menu", "text_x": "For X",
             "x_reply_settings": "Only people you mention", "text_tiktok": "not chosen"}
    draft = read_row(2, cells, OFFERED, "Europe/Madrid")
    composition = draft.composition
    assert composition.account_ids == [2, 3, 1]
    assert composition.variants == {"x": "For X"}
    assert composition.settings["youtube"] == YouTubeSettings(title="New video", privacy="unlisted",
                                                              made_for_kids=False, tags=("a", "b"), playlist_id="PL2")
    assert composition.settings["x"] == XSettings(reply_settings="mentionedUsers")
    assert composition.settings_for("pinterest", 3).board_id == "b2"
    assert composition.settings_for("pinterest", 3).link == "https://acme.example/menu"


@pytest.mark.parametrize(("cells", "says"), [
    ({"accounts": "x:@nobody"}, "No connected X account is called “@nobody”"),
    ({"accounts": "myspace:acme"}, "“myspace:acme” does not name a network and an account"),
    ({"accounts": ""}, "Choose at least one account"),
    ({"accounts": "youtube:Acme TV", "youtube_privacy": "secret"},
     "youtube_privacy is one of Public, Unlisted, Private \\(not “secret”\\)"),
    ({"accounts": "youtube:Acme TV", "youtube_made_for_kids": "maybe"}, "youtube_made_for_kids is yes or no"),
    ({"accounts": "youtube:Acme TV", "youtube_playlist": "Shorts"}, "YouTube · Acme TV has no playlist called"),
    ({"accounts": "pinterest:Acme Pins", "pinterest_board": "Shoes"}, "Pinterest · Acme Pins has no board called"),
    ({"accounts": "x:@acmemktg", "text": "a" * 3001}, "The text has 3,001 characters"),
])
def test_a_row_that_does_not_read_says_why(cells, says):
    with pytest.raises(RowProblem, match=says):
        read_row(2, {"text": "Hi", "when": "now", **cells}, OFFERED, None)


async def _x_account(sessions) -> tuple:
    async with sessions() as session:
        workspace = await ensure_workspace(session, "T0001")
        await session.flush()
        connection = Connection(workspace_id=workspace.id, platform="x", external_user_id="1", display_name="Acme",
                                access_token="token")
        session.add(connection)
        await session.flush()
        session.add(Account(workspace_id=workspace.id, connection_id=connection.id, platform="x", external_id="1",
                            kind="profile", name="Acme Marketing", handle="acmemktg"))
        await session.commit()
        return workspace


async def test_next_slot_and_a_private_picture_are_refused_and_the_good_rows_created(engine, tmp_path):
    sessions = db.session_factory(engine)
    workspace = await _x_account(sessions)
    store = MediaStore(tmp_path, "https://picmim.example")
    rows = ("text,accounts,when,media_url,x_reply_settings\n"
            "First,x:@acmemktg,2030-05-04 09:30,,following\n"
            "Slot,x:@acmemktg,next slot,,\n"
            "Picture,x:@acmemktg,2030-05-04 10:30,http://127.0.0.1:9/cat.png,\n"
            "Past,x:@acmemktg,2020-01-01 10:00,,\n")
    async with httpx.AsyncClient() as http:
        adapters = {"x": XAdapter(AdapterConfig("id", "secret", "https://picmim.example/cb",
                                                "https://picmim.example"), http)}
        outcome = await importing.import_posts(sessions, workspace, adapters, http, store,
                                               Importer("U1", roles.everyone("U1"), "Europe/Madrid"), "plan.csv",
                                               rows.encode(), False, NOW)
    assert [(r.row, r.reason) for r in outcome.refused] == [
        (3, "X · Acme Marketing has no posting slots, so there is no next slot: write a date and time in the when "
            "column instead."),
        (4, "The file at media_url could not be fetched: Picmim does not open links to private or local "
            "addresses (127.0.0.1)."),
        (5, "This time is in the past: pick a later one, or choose Now.")]
    assert [(s.row, s.accounts, s.pending_approval) for s in outcome.scheduled] == [(2, ("X · Acme Marketing",),
                                                                                      False)]
    async with sessions() as session:
        [post] = (await session.scalars(select(Post))).all()
        target = await session.scalar(select(PostTarget))
        assert (post.text, post.status, post.scheduled_at) == ("First", PostStatus.SCHEDULED,
                                                               datetime(2030, 5, 4, 7, 30, tzinfo=UTC))
        assert target.settings["reply_settings"] == "following"
        assert target.next_attempt_at is not None, "due at its time"
        assert (await session.scalars(select(MediaItem))).all() == []


async def test_next_slot_takes_each_rows_own_free_slot_after_the_ones_already_used(engine, tmp_path):
    """Slots Mondays and Thursdays 09:00 (Madrid): Monday's is taken by the file's first row, so the two "next slot"
    rows get Thursday and the Monday after, in the order of the file."""
    sessions = db.session_factory(engine)
    workspace = await _x_account(sessions)
    async with sessions() as session:
        here = await session.get(Workspace, workspace.id)
        here.default_timezone = "Europe/Madrid"
        account = await session.scalar(select(Account))
        await slots.save_slots(session, workspace.id, account.id, [Slot(0, "09:00"), Slot(3, "09:00")], "U1")
        await session.commit()
    rows = ("text,accounts,when\n"
            "Monday,x:@acmemktg,2030-03-04 09:00\n"
            "Second,x:@acmemktg,next slot\n"
            "Third,x:@acmemktg,Next slot\n")
    async with httpx.AsyncClient() as http:
        adapters = {"x": XAdapter(AdapterConfig("id", "secret", "https://picmim.example/cb",
                                                "https://picmim.example"), http)}
        outcome = await importing.import_posts(sessions, workspace, adapters, http,
                                               MediaStore(tmp_path, "https://picmim.example"),
                                               Importer("U1", roles.everyone("U1"), "Europe/Madrid"), "plan.csv",
                                               rows.encode(), False, NOW)
    assert outcome.refused == [] and [s.row for s in outcome.scheduled] == [2, 3, 4]
    async with sessions() as session:
        times = {p.text: p.scheduled_at for p in (await session.scalars(select(Post))).all()}
    assert times == {"Monday": datetime(2030, 3, 4, 8, 0, tzinfo=UTC),
                     "Second": datetime(2030, 3, 7, 8, 0, tzinfo=UTC),
                     "Third": datetime(2030, 3, 11, 8, 0, tzinfo=UTC)}


async def test_all_or_nothing_creates_nothing_when_one_row_is_refused(engine, tmp_path):
    sessions = db.session_factory(engine)
    workspace = await _x_account(sessions)
    rows = "text,accounts,when\nFine,x:@acmemktg,2030-05-04 09:30\n" + "a" * 300 + ",x:@acmemktg,now\n"
    async with httpx.AsyncClient() as http:
        adapters = {"x": XAdapter(AdapterConfig("id", "secret", "https://picmim.example/cb",
                                                "https://picmim.example"), http)}
        outcome = await importing.import_posts(sessions, workspace, adapters, http,
                                               MediaStore(tmp_path, "https://picmim.example"),
                                               Importer("U1", roles.everyone("U1"), None), "plan.csv",
                                               rows.encode(), True, NOW)
    assert outcome.kept_none and outcome.scheduled == [] and [r.row for r in outcome.refused] == [3]
    async with sessions() as session:
        assert (await session.scalars(select(Post))).all() == []


async def test_a_media_url_picture_is_fetched_once_and_a_refused_rows_picture_is_not_kept(engine, tmp_path, files):
    sessions = db.session_factory(engine)
    workspace = await _x_account(sessions)
    files.serve(make_image(640, 480, "PNG"), "image/png", "/cat.png")
    files.serve(make_image(320, 240, "PNG"), "image/png", "/dog.png")
    rows = ("text,accounts,when,media_url,alt_text\n"
            "Cat,x:@acmemktg,2030-05-04 09:30,https://pics.example/cat.png,A grey cat\n"
            "Cat again,x:@acmemktg,2030-05-04 10:30,https://pics.example/cat.png,\n"
            + "d" * 300 + ",x:@acmemktg,2030-05-04 11:30,https://pics.example/dog.png,A dog\n")
    async with build_client({"https://pics.example": files.url}) as http:
        adapters = {"x": XAdapter(AdapterConfig("id", "secret", "https://picmim.example/cb",
                                                "https://picmim.example"), http)}
        outcome = await importing.import_posts(sessions, workspace, adapters, http,
                                               MediaStore(tmp_path, "https://picmim.example"),
                                               Importer("U1", roles.everyone("U1"), None), "plan.csv",
                                               rows.encode(), False, NOW)
    assert [s.row for s in outcome.scheduled] == [2, 3] and [r.row for r in outcome.refused] == [4]
    assert files.fetched(files.url + "/cat.png") == 1, "one fetch for the rows sharing the link"
    async with sessions() as session:
        [item] = (await session.scalars(select(MediaItem))).all()
        assert (item.width, item.height) == (640, 480), "the refused row's picture is gone"
        kept = (await session.execute(select(Post.text, PostMedia.alt_text).join(PostMedia)
                                      .order_by(Post.id))).all()
        assert [tuple(k) for k in kept] == [("Cat", "A grey cat"), ("Cat again", None)]


def test_the_answer_to_a_large_import_fits_one_message_and_counts_what_it_does_not_list():
    outcome = Outcome("big.csv", scheduled=[Scheduled(n, n, ("X · Acme Marketing", "LinkedIn · Acme Coffee Roasters"),
                                                      NOW, False) for n in range(2, 402)],
                      refused=[RowRefused(n, "The text is too long for X. " * 20) for n in range(402, 502)],
                      unknown_columns=("colour",))
    blocks = result_blocks(outcome, "Europe/Madrid")
    assert block_kit_errors(blocks, 50) == []
    text = str(blocks)
    assert "Imported 400 of 500 posts from big.csv; 100 refused." in text
    assert "more: see `/picmim queue`" in text and "more rows refused" in text and "“colour”" in text


async def test_a_media_url_video_is_stored_like_an_attachment_and_the_row_checked_as_a_youtube_post(engine, tmp_path,
                                                                                                   files):
    """A video at a public address goes through the media store as a composed post's attachment does, and the row
    is checked as the compose window checks a post with that video: YouTube takes it, and refuses a picture alone."""
    sessions = db.session_factory(engine)
    async with sessions() as session:
        workspace = await ensure_workspace(session, "T0001")
        await session.flush()
        connection = Connection(workspace_id=workspace.id, platform="youtube", external_user_id="g1",
                                display_name="Acme", access_token="token")
        session.add(connection)
        await session.flush()
        session.add(Account(workspace_id=workspace.id, connection_id=connection.id, platform="youtube",
                            external_id="UC1", kind="channel", name="Acme TV"))
        await session.commit()
    video = make_video(seconds=2, width=640, height=360)
    files.serve(video, "video/mp4", "/roast.mp4")
    files.serve(make_image(640, 480, "PNG"), "image/png", "/menu.png")
    files.serve(make_video(pad_to=MAX_VIDEO_BYTES + 1024), "video/mp4", "/long.mp4")
    files.serve(make_pdf(), "video/quicktime", "/brochure.mov")  # a PDF, whatever the site calls it
    files.serve(b"not a video at all" * 100, "video/mp4", "/broken.mp4")
    row = ",youtube:Acme TV,2030-05-04 09:30,https://videos.example/{},no\n"
    rows = "text,accounts,when,media_url,youtube_made_for_kids\n" + "".join(
        text + row.format(name) for text, name in (("New roast", "roast.mp4"), ("Menu", "menu.png"),
                                                   ("Long", "long.mp4"), ("Brochure", "brochure.mov"),
                                                   ("Broken", "broken.mp4")))
    async with build_client({"https://videos.example": files.url}) as http:
        adapters = {"youtube": YouTubeAdapter(AdapterConfig("id", "secret", "https://picmim.example/cb",
                                                            "https://picmim.example"), http)}
        outcome = await importing.import_posts(sessions, workspace, adapters, http,
                                               MediaStore(tmp_path, "https://picmim.example"),
                                               Importer("U1", roles.everyone("U1"), None), "plan.csv",
                                               rows.encode(), False, NOW)
    not_media = ("The file at media_url is not a picture or video Picmim can use: link a JPEG, PNG, GIF, WebP, HEIC "
                 "or AVIF picture, or an MP4 or MOV video.")
    assert [(r.row, r.reason) for r in outcome.refused] == [
        (3, "A YouTube post is a video: attach one (a picture attached with it becomes its thumbnail)."),
        (4, "The file at media_url could not be fetched: The link leads to a file over 10 MB."),
        (5, not_media), (6, not_media)]
    assert [s.row for s in outcome.scheduled] == [2]
    async with sessions() as session:
        [item] = (await session.scalars(select(MediaItem))).all()
        assert (item.mimetype, item.size_bytes, item.width, item.height) == ("video/mp4", len(video), 640, 360)
        assert round(item.duration_ms / 1000) == 2
        [(text, status)] = (await session.execute(select(Post.text, Post.status).join(PostMedia))).all()
        assert (text, status) == ("New roast", PostStatus.SCHEDULED)
    assert not list(tmp_path.glob("media/.incoming-*")), "no download left behind"
