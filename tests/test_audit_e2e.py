"""The audit trail end to end: a post composed in the modal and published on the fake X by the real server,
then `/picmim audit` (an admin) lists its steps with who, newest first; Export CSV arrives by direct message
through Slack's external upload; a member who is not an admin is refused."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import time

from bot import ids
from bot.storage.models import PostStatus
from tests import journeys
from tests.journeys import compose_state, stored_posts, submit_compose, wait_until, x_posts

fake_x, compose_server = journeys.fake_x, journeys.compose_server
sender, account_id = journeys.compose_sender, journeys.account_id

ADMIN, MEMBER = "U0001", "U0B07"  # maria is a workspace admin in the fake Slack; bo is not
TEAM = {"id": "T0001", "domain": "acme"}


def _publish(sender, fake_x, url: str, account: int, text: str):
    """A post composed in the modal for now, once the server has published it."""
    answer = submit_compose(sender, compose_state([account], text))
    assert answer.status_code == 200 and answer.text in ("", "null"), answer.text
    wait_until(lambda: x_posts(fake_x, text), what="the post on X")
    return wait_until(lambda: next((p for p in asyncio.run(stored_posts(url))
                                    if p.text == text and p.status is PostStatus.PUBLISHED), None),
                      what="the post to be published")


def _text_of(blocks: list[dict]) -> list[str]:
    return [b["text"]["text"] for b in blocks if b["type"] == "section"]


def test_audit_lists_a_published_posts_steps_and_exports_them_by_dm(sender, slack, fake_x, account_id,
                                                                     module_database):
    text = f"Audited launch {time.time_ns()}"
    post = _publish(sender, fake_x, module_database.url, account_id, text)
    [live] = x_posts(fake_x, text)

    assert sender.command(f"audit post {post.id}", user_id=ADMIN,
                          response_url=slack.response_url("audit")).status_code == 200
    [answer] = slack.wait_for_response("audit")
    lines = _text_of(answer["blocks"])
    assert [line.split(" · ")[0] for line in lines] == ["*published*", "*publishing*", "*scheduled*", "*created*"], \
        "newest first"
    assert lines[-1].startswith(f"*created* · <@{ADMIN}> · from modal · <!date^")
    assert lines[0].startswith("*published* · Picmim · from job · <!date^")
    assert f"X · Acme Marketing: https://x.com/acmemktg/status/{live['id']}" in lines[0]
    # The post is linked (its status message in Slack), and named by the start of its text.
    message = f"https://slack.com/archives/{post.channel_id}/p{post.message_ts.replace('.', '')}"
    assert f"<{message}|post {post.id}> “{text}”" in lines[0]
    assert answer["blocks"][0]["text"]["text"] == f"Audit trail: Post {post.id}, last 7 days"
    [export] = [e for b in answer["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert export["text"]["text"] == "Export CSV" and export["action_id"] == ids.AUDIT_EXPORT

    payload = {"type": "block_actions", "team": TEAM, "user": {"id": ADMIN, "team_id": "T0001"},
               "api_app_id": "A0PICMIM", "token": "deprecated", "trigger_id": f"trigger-{time.time_ns()}",
               "channel": {"id": "C0001"}, "response_url": slack.response_url("export"),
               "container": {"type": "message", "is_ephemeral": True},
               "actions": [{"type": "button", "action_id": ids.AUDIT_EXPORT, "block_id": "b", "value": export["value"],
                            "action_ts": str(time.time())}]}
    assert sender.interaction(payload).status_code == 200
    [said] = slack.wait_for_response("export")
    assert said["text"] == "Sent: the CSV (4 entries) is in your direct messages with Picmim."
    assert [c for c in slack.calls_to("conversations.open") if c.params.get("users") == ADMIN]
    [sent] = slack.shared_in("D0001")[-1:]
    assert sent["filename"].startswith("picmim-audit-") and sent["filename"].endswith("-7d.csv")
    rows = list(csv.reader(io.StringIO(sent["data"].decode("utf-8-sig"))))
    assert rows[0] == ["time (UTC)", "who", "from", "what", "action", "change", "post", "post text", "link"]
    assert [(r[1], r[2], r[4], r[6]) for r in rows[1:]] == [
        ("Picmim", "job", "published", str(post.id)), ("Picmim", "job", "publishing", str(post.id)),
        (ADMIN, "modal", "scheduled", str(post.id)), (ADMIN, "modal", "created", str(post.id))]
    assert json.loads(rows[-1][5]) == {"accounts": ["X · Acme Marketing"], "text": text}
    assert all(r[7] == text for r in rows[1:])

    # `/picmim audit export` does the same without the button.
    sender.command("audit export @acmemktg 30d", user_id=ADMIN, response_url=slack.response_url("export-cmd"))
    [said] = slack.wait_for_response("export-cmd")
    assert said["text"].startswith("Sent: the CSV (") and len(slack.shared_in("D0001")) == 2
    assert slack.shared_in("D0001")[-1]["filename"].endswith("-30d.csv")


def test_a_member_who_is_not_an_admin_is_refused_and_told_who_can(sender, slack, fake_slack):
    fake_slack.teams["T0001"].users[MEMBER] = {"id": MEMBER, "name": "bo", "tz": "Europe/Madrid", "is_admin": False}
    sender.command("audit", user_id=MEMBER, response_url=slack.response_url("member"))
    [refused] = slack.wait_for_response("member")
    assert refused["text"].startswith("Only admins can see Picmim's audit trail.")
    assert "blocks" not in refused or not refused["blocks"]
    sender.command("audit export", user_id=MEMBER, response_url=slack.response_url("member-export"))
    assert slack.wait_for_response("member-export")[0]["text"].startswith("Only admins can see")
    assert slack.calls_to("files.completeUploadExternal") == []

    sender.command("audit @nobody-here", user_id=ADMIN, response_url=slack.response_url("nobody"))
    assert "No account or post of this workspace matches “@nobody-here”" in \
        slack.wait_for_response("nobody")[0]["text"]
    sender.command("help", user_id=ADMIN, response_url=slack.response_url("help"))
    shown = json.dumps(slack.wait_for_response("help")[0]["blocks"])
    assert "/picmim audit [export] [account|post link] [7d|30d]" in shown
