"""Bulk import, end to end: the real server with an X account connected (the compose tests' fixtures), `/picmim
import` and its window submitted with a CSV file on Slack's (fake) file host, or the file shared in Picmim's direct
messages; the answer read from the direct message Picmim sends, the posts from the database and the fake X."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest
from sqlalchemy import delete, select, update

from bot import ids
from bot.services import roles
from bot.services.roles import Pick
from bot.storage.models import Post, PostStatus, RoleGrant, Workspace
from tests import journeys
from tests.journeys import blocks_of, compose_state, field_errors, shown, submit_compose, wait_until, x_posts

fake_x, files, compose_server = journeys.fake_x, journeys.slack_files, journeys.compose_server
sender, account_id = journeys.compose_sender, journeys.account_id

TEAM = {"id": "T0001", "domain": "acme"}
MARIA, NINA = "U0001", "U0IMP01"  # Maria is a workspace admin (Europe/Madrid); Nina is not
REVIEW = "C0IMPREVIEW"
LATER = "2030-05-04 09:30"  # Madrid (summer time): 07:30 UTC


_run = journeys.in_database


@pytest.fixture(scope="module", autouse=True)
def nina(fake_slack, compose_server):
    fake_slack.teams["T0001"].users[NINA] = {"id": NINA, "name": "nina", "tz": "Europe/Madrid", "is_admin": False}
    yield


def _posts(url: str, *texts: str) -> list[Post]:
    return list(_run(url, lambda s: s.scalars(select(Post).where(Post.text.in_(texts)).order_by(Post.id))))


def _csv(files, name: str, body: str | bytes) -> dict:
    files.put(name, body.encode() if isinstance(body, str) else body, "text/csv")
    return files.file(name, filetype="csv", mimetype="text/csv")


def _import(sender, slack, file: dict, *, all_or_nothing: bool = False, user: str = MARIA):
    """`/picmim import`, then Import pressed with the file (and "all or nothing" ticked or not); the answer."""
    before = len(slack.calls_to("views.open"))
    sender.command("import", user_id=user)
    window = blocks_of(wait_until(lambda: slack.calls_to("views.open")[before:], "the import window")[-1]
                       .params["view"])
    assert window["callback_id"] == ids.IMPORT_VIEW
    ticked = [{"value": "all", "text": {"type": "plain_text", "text": "All or nothing"}}] if all_or_nothing else []
    state = {"values": {
        ids.IMPORT_FILE_BLOCK: {ids.IMPORT_FILE_INPUT: {"type": "file_input", "files": [file]}},
        ids.IMPORT_ALL_BLOCK: {ids.IMPORT_ALL_INPUT: {"type": "checkboxes", "selected_options": ticked}}}}
    return sender.interaction({
        "type": "view_submission", "team": TEAM, "user": {"id": user, "team_id": "T0001"},
        "api_app_id": "A0PICMIM", "token": "deprecated", "trigger_id": f"trigger-{time.time_ns()}",
        "view": {"id": f"V{time.time_ns()}", "team_id": "T0001", "type": "modal", "callback_id": ids.IMPORT_VIEW,
                 "private_metadata": "", "state": state, "hash": f"h{time.time_ns()}", "blocks": window["blocks"]},
        "is_cleared": False})


def _answer(slack, filename: str, user: str = MARIA) -> str:
    """The direct message answering the import of `filename`, as one text."""
    found = wait_until(lambda: [m for m in slack.posted_in(user) if filename in shown(m["blocks"] or [])
                                or filename in m["text"]], f"the answer about {filename}")
    assert len(found) == 1, "one answer"
    return shown(found[0]["blocks"] or []) + found[0]["text"]


def _closes_with_importing(answer) -> None:
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["response_action"] == "update" and "Importing…" in shown(body["view"]["blocks"])


def test_good_rows_are_scheduled_and_a_too_long_row_is_named_with_the_compose_windows_words(
        sender, slack, files, account_id, compose_server, module_database):
    stamp = time.time_ns()
    first, second, long = f"Spring menu {stamp}", f"Cold brew is back {stamp}", f"{stamp} " + "a" * 300
    body = ("text,accounts,when,colour\n"
            f"{first},x:@acmemktg,{LATER},green\n"
            f"{long},x:Acme Marketing,{LATER},red\n"
            f"\"{second}\",X:@AcmeMktg,2030-05-05T10:00:00+00:00,\n")
    _closes_with_importing(_import(sender, slack, _csv(files, f"plan-{stamp}.csv", body)))
    answer = _answer(slack, f"plan-{stamp}.csv")

    assert f"Imported 2 of 3 posts from plan-{stamp}.csv; 1 refused." in answer
    # The refused row is named with its number (the header is row 1) and what the compose window says of it.
    window_says = field_errors(submit_compose(sender, compose_state([account_id], long)))[ids.COMPOSE_TEXT_BLOCK]
    assert f"Row 3: {window_says}" in answer
    assert "“colour”" in answer, "the unknown column is named"
    assert "Row 2: X · Acme Marketing · 4 May 2030, 09:30 (CEST)" in answer

    posts = _posts(module_database.url, first, second, long)
    assert [(p.text, p.status, p.scheduled_at.astimezone(UTC)) for p in posts] == [
        (first, PostStatus.SCHEDULED, datetime(2030, 5, 4, 7, 30, tzinfo=UTC)),
        (second, PostStatus.SCHEDULED, datetime(2030, 5, 5, 10, 0, tzinfo=UTC))], "nothing of the refused row"


def test_all_or_nothing_keeps_none_when_a_row_is_refused(sender, slack, files, compose_server, module_database):
    stamp = time.time_ns()
    good, long = f"Good row {stamp}", f"{stamp} " + "b" * 300
    body = f"text,accounts,when\n{good},x:@acmemktg,{LATER}\n{long},x:@acmemktg,{LATER}\n"
    _closes_with_importing(_import(sender, slack, _csv(files, f"all-{stamp}.csv", body), all_or_nothing=True))
    answer = _answer(slack, f"all-{stamp}.csv")
    assert "Nothing was imported" in answer and "all or nothing" in answer and "Row 3:" in answer
    assert _posts(module_database.url, good, long) == []


def test_a_file_with_a_bom_and_semicolons_shared_in_the_direct_messages_is_imported(
        sender, slack, files, compose_server, module_database):
    stamp = time.time_ns()
    text = f"Croissants, coffee; and you {stamp}"  # a comma outside quotes and a semicolon inside them
    body = "\ufefftext;accounts;when;text_x\n" f"\"{text}\";x:@acmemktg;{LATER};\"X only: {stamp}\"\n"
    file = _csv(files, f"bom-{stamp}.csv", body.encode("utf-8"))
    event = {"type": "message", "subtype": "file_share", "channel": "D0PICMIM", "channel_type": "im",
             "user": MARIA, "text": "", "ts": f"{time.time():.6f}", "files": [file]}
    assert sender.event(event).status_code == 200
    answer = _answer(slack, f"bom-{stamp}.csv")
    assert "Imported 1 of 1 posts" in answer
    [post] = _posts(module_database.url, text)
    assert post.status is PostStatus.SCHEDULED
    assert sender.event(event).status_code == 200  # Slack sending the event again imports nothing more
    time.sleep(1.0)
    assert len(_posts(module_database.url, text)) == 1


def test_all_or_nothing_said_with_a_file_in_the_direct_messages_keeps_none(sender, slack, files, compose_server,
                                                                           module_database):
    stamp = time.time_ns()
    good = f"Would be fine {stamp}"
    body = f"text,accounts,when\n{good},x:@acmemktg,{LATER}\nPast,x:@acmemktg,2020-01-01 10:00\n"
    event = {"type": "message", "subtype": "file_share", "channel": "D0PICMIM", "channel_type": "im",
             "user": MARIA, "text": "All or nothing please", "ts": f"{time.time():.6f}",
             "files": [_csv(files, f"dm-all-{stamp}.csv", body)]}
    assert sender.event(event).status_code == 200
    answer = _answer(slack, f"dm-all-{stamp}.csv")
    assert "Nothing was imported" in answer and "Row 3: This time is in the past" in answer
    assert _posts(module_database.url, good) == []


def test_a_row_for_an_account_the_person_may_not_post_to_is_refused(sender, slack, files, account_id,
                                                                    compose_server, module_database):
    async def grant(session):
        workspace_id = await session.scalar(select(Workspace.id).where(Workspace.team_id == "T0001"))
        await roles.save_roles(session, workspace_id, roles.account_scope(account_id),
                               {roles.PUBLISHER: Pick((MARIA,))})
    _run(module_database.url, grant)
    try:
        stamp = time.time_ns()
        text = f"Not hers to post {stamp}"
        _closes_with_importing(_import(sender, slack, _csv(files, f"roles-{stamp}.csv",
                                                           f"text,accounts,when\n{text},x:@acmemktg,{LATER}\n"),
                                       user=NINA))
        answer = _answer(slack, f"roles-{stamp}.csv", user=NINA)
        assert "Row 2: You may not post to X · Acme Marketing. Ask <@U0001> or an admin" in answer
        assert _posts(module_database.url, text) == []
    finally:
        _run(module_database.url, lambda s: s.execute(delete(RoleGrant)))


def test_with_approval_on_imported_posts_wait_with_review_cards(sender, slack, fake_x, files, compose_server,
                                                                module_database):
    _run(module_database.url, lambda s: s.execute(update(Workspace).values(
        approval_required=True, approval_channel_id=REVIEW, approver_user_ids=["U0APPROVER"])))
    try:
        stamp = time.time_ns()
        texts = [f"Needs a look {stamp}", f"Needs another look {stamp}"]
        body = f"text,accounts,when\n{texts[0]},x:@acmemktg,{LATER}\n{texts[1]},x:@acmemktg,now\n"
        _closes_with_importing(_import(sender, slack, _csv(files, f"approve-{stamp}.csv", body)))
        answer = _answer(slack, f"approve-{stamp}.csv")
        assert "(2 waiting for approval)" in answer
        posts = _posts(module_database.url, *texts)
        assert [p.status for p in posts] == [PostStatus.PENDING_APPROVAL] * 2
        for text in texts:
            wait_until(lambda t=text: [m for m in slack.posted_in(REVIEW) if t in shown(m["blocks"] or [])],
                       "the review card")
        time.sleep(1.0)  # the publisher ticks every 0.5 s: nothing goes out before approval
        assert x_posts(fake_x, texts[1]) == []
    finally:
        _run(module_database.url, lambda s: s.execute(update(Workspace).values(
            approval_required=False, approval_channel_id=None, approver_user_ids=[])))


def test_an_imported_now_row_publishes_to_x_exactly_once(sender, slack, fake_x, files, compose_server,
                                                         module_database):
    stamp = time.time_ns()
    text = f"Open now {stamp}"
    _closes_with_importing(_import(sender, slack, _csv(files, f"now-{stamp}.csv",
                                                       f"text,accounts,when\n{text},x:@acmemktg,now\n")))
    assert "Imported 1 of 1 posts" in _answer(slack, f"now-{stamp}.csv")
    wait_until(lambda: x_posts(fake_x, text), "the post on X")
    time.sleep(1.5)  # three more publisher ticks
    assert len(x_posts(fake_x, text)) == 1
    [post] = _posts(module_database.url, text)
    assert post.status is PostStatus.PUBLISHED


def _shared_in_dm(file: dict, text: str = "") -> dict:
    return {"type": "message", "subtype": "file_share", "channel": "D0PICMIM", "channel_type": "im", "user": MARIA,
            "text": text, "ts": f"{time.time():.6f}", "files": [file]}


def test_a_file_shared_without_its_links_is_looked_up_with_files_info_and_imported(
        sender, slack, files, compose_server, module_database):
    """Slack leaves a shared file's details out of some message events (`file_access: "check_file_info"`): Picmim
    asks files.info, with its bot token, where to fetch it."""
    stamp = time.time_ns()
    text = f"Looked up first {stamp}"
    file = _csv(files, f"stub-{stamp}.csv", f"text,accounts,when\n{text},x:@acmemktg,{LATER}\n")
    stub = slack.share_file(file)
    assert "url_private_download" not in stub and "name" not in stub
    assert sender.event(_shared_in_dm(stub)).status_code == 200
    assert "Imported 1 of 1 posts" in _answer(slack, f"stub-{stamp}.csv")
    [asked] = slack.calls_to("files.info")
    assert (asked.params["file"], asked.token) == (file["id"], journeys.BOT_TOKEN)
    [post] = _posts(module_database.url, text)
    assert post.status is PostStatus.SCHEDULED


def _dm_saying(slack, words: str, user: str = MARIA) -> str:
    found = wait_until(lambda: [m for m in slack.posted_in(user) if words in m["text"]], f"a message saying {words}")
    assert len(found) == 1, "one answer"
    return found[0]["text"]


@pytest.mark.parametrize("deleted", [False, True], ids=["never-seen", "deleted"])
def test_a_file_slack_no_longer_has_is_answered_in_plain_words(sender, slack, files, compose_server, deleted):
    stamp = time.time_ns()
    gone = {"id": f"FGONE{stamp}", "file_access": "check_file_info", "mode": "file_access"}
    if deleted:  # shared once, deleted before Picmim asked (files.info says file_deleted)
        slack.share_file({**_csv(files, f"deleted-{stamp}.csv", "text\nHi\n"), "id": gone["id"], "deleted": True})
    before = files.requests
    assert sender.event(_shared_in_dm(gone)).status_code == 200
    said = _dm_saying(slack, "Slack says the file was deleted or Picmim cannot see it")
    assert said.startswith("Nothing was imported from the file:") and "Send it here again." in said
    assert slack.calls_to("files.info")[0].params["file"] == gone["id"]
    assert files.requests == before, "nothing was downloaded"


def test_without_the_files_read_permission_the_person_is_told_to_have_the_app_reinstalled(
        sender, slack, files, compose_server, module_database):
    team = slack.teams["T0001"]
    stamp = time.time_ns()
    text = f"Never read {stamp}"
    stub = slack.share_file(_csv(files, f"scope-{stamp}.csv", f"text,accounts,when\n{text},x:@acmemktg,{LATER}\n"))
    team.scopes = team.scopes - {"files:read"}
    try:
        assert sender.event(_shared_in_dm(stub)).status_code == 200
        said = _dm_saying(slack, "files:read")
    finally:
        team.scopes = team.scopes | {"files:read"}
    assert "Ask an admin to reinstall the app so it has the files:read permission" in said
    assert _posts(module_database.url, text) == []
