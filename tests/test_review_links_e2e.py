"""Reviewers outside Slack, end to end: an approver presses Share for review on the review card, names the
reviewer in the modal and gets the link (in the modal only); the reviewer opens GET /review/{token} on the real
server (the post as X will show it, with the page's security headers) and approves with a POST form; the card
shows "<name> (review link)" and the post is scheduled. A revoked, expired, reused or edited post's link, and a
form without its CSRF token, change nothing and say so."""

from __future__ import annotations

import asyncio
import json
import re
import time
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import update

from bot import ids
from bot.storage.models import PostStatus, ReviewLink
from tests import journeys, test_approvals_e2e
from tests.journeys import blocks_of, compose_state, wait_until
from tests.test_approvals_e2e import (
    AUTHOR,
    DANA,
    PAT,
    REVIEW_CHANNEL,
    _card_says,
    _click,
    _compose,
    _post,
    _read,
    _view_submission,
)

fake_x, compose_server, files = journeys.fake_x, journeys.compose_server, journeys.slack_files
sender, account_id = journeys.compose_sender, journeys.account_id
# The approvals tests' people (dana approves, pat may not) and approval turned on through /picmim settings.
people, approval = test_approvals_e2e.people, test_approvals_e2e.approval

LINK = re.compile(r"http://127\.0\.0\.1:\d+/review/[A-Za-z0-9_\-]+")


def _share_state(name: str, days: str = "7") -> dict:
    return {"values": {
        ids.REVIEW_SHARE_NAME_BLOCK: {ids.REVIEW_SHARE_NAME_INPUT: {"type": "plain_text_input", "value": name}},
        ids.REVIEW_SHARE_DAYS_BLOCK: {ids.REVIEW_SHARE_DAYS_INPUT: {"type": "static_select",
                                                                    "selected_option": {"value": days}}}}}


def share(sender, slack, post, name: str, user: str = DANA) -> str:
    """Share for review on the card, then the modal submitted with the reviewer's name: the link it shows."""
    before = len(slack.calls_to("views.open"))
    _click(sender, slack, post, ids.REVIEW_SHARE, user, f"share-{time.time_ns()}")
    opened = wait_until(lambda: slack.calls_to("views.open")[before:], what="the Share for review modal")[-1]
    view = blocks_of(opened.params["view"])
    assert view["callback_id"] == ids.REVIEW_SHARE_VIEW and view["title"]["text"] == "Share for review"
    labels = [b["label"]["text"] for b in view["blocks"] if b["type"] == "input"]
    assert labels == ["Reviewer's name or email", "The link works for"]
    assert next(b for b in view["blocks"] if b.get("block_id") == ids.REVIEW_SHARE_DAYS_BLOCK)[
        "element"]["initial_option"]["value"] == "7", "a week unless the approver chooses"
    answer = sender.interaction(_view_submission(ids.REVIEW_SHARE_VIEW, _share_state(name), user,
                                                 view["private_metadata"]))
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["response_action"] == "update" and body["view"]["title"]["text"] == "Review link"
    shown = json.dumps(body["view"])
    [link] = LINK.findall(shown)
    assert f"Send this link to *{name}*" in shown
    return link


def _never_posted(slack, link: str) -> None:
    token = link.rsplit("/", 1)[1]
    for method in ("chat.postMessage", "chat.update", "chat.postEphemeral"):
        assert not any(token in json.dumps(c.params) for c in slack.calls_to(method)), method


def _csrf(page: str) -> str:
    [value] = set(re.findall(r'name="csrf" value="([0-9a-f]{64})"', page))
    return value


@pytest.fixture
def web(compose_server):
    with httpx.Client(timeout=20) as client:
        yield client


def _compose_with_picture(sender, files, account: int, url: str, at: datetime):
    text = f"For the client {time.time_ns()}"
    state = compose_state([account], text, when="schedule", at=at, files=[files.file("launch.png")])
    answer = sender.interaction(_view_submission(ids.COMPOSE_VIEW, state, AUTHOR, '{"channel_id": "C0001"}'))
    assert answer.status_code == 200 and answer.text in ("", "null"), answer.text

    def ready():
        found = [p for p in asyncio.run(journeys.stored_posts(url)) if p.text == text and p.review_ts]
        return found[0] if found else None
    return wait_until(ready, what="the review card")


def test_a_reviewer_without_slack_approves_from_the_page_and_the_card_shows_it(
        sender, slack, fake_x, files, account_id, module_database, approval, web):
    files.delay = 0.0
    at = (datetime.now(UTC) + timedelta(days=3)).replace(second=0, microsecond=0)
    post = _compose_with_picture(sender, files, account_id, module_database.url, at)

    _click(sender, slack, post, ids.REVIEW_SHARE, PAT, "not-approver")
    assert "Only the post's approvers can share it for review" in slack.wait_for_response("not-approver")[0]["text"]
    link = share(sender, slack, post, "Ana at Client")
    _never_posted(slack, link)
    # The card now offers to revoke it.
    card = _card_says(slack, post, "Revoke review links (1)")
    assert "Share for review" in card

    page = web.get(link)
    assert page.status_code == 200
    assert page.headers["X-Frame-Options"] == "DENY" and page.headers["Referrer-Policy"] == "no-referrer"
    csp = page.headers["Content-Security-Policy"]
    assert "default-src 'none'" in csp and "frame-ancestors 'none'" in csp and "form-action 'self'" in csp
    assert "script-src 'sha256-" in csp and "unsafe-inline'" not in csp.split("script-src")[1].split(";")[0]
    html = page.text
    assert "Hello Ana at Client" in html
    assert "X · Acme Marketing (@acmemktg)" in html and f'<p class="text">{post.text}</p>' in html
    assert f'<time datetime="{at:%Y-%m-%dT%H:%M:%SZ}">' in html and " UTC</time>" in html, \
        "the time in UTC, which the page's script shows in the reader's zone"
    # The picture, through the app's own media link (allowed by the page's img-src 'self').
    [picture] = re.findall(r'<img src="(http://127\.0\.0\.1:\d+/media/[^"]+)" alt="launch.png">', html)
    fetched = web.get(picture.replace("&amp;", "&"))
    assert fetched.status_code == 200 and fetched.headers["Content-Type"] == "image/png"
    assert html.count('<form method="post">') == 2 and 'value="approve"' in html and 'value="reject"' in html
    assert 'value="request_changes"' in html

    # A form without its CSRF token (or with another link's) decides nothing.
    refused = web.post(link, data={"decision": "approve"})
    assert refused.status_code == 403 and "This form is out of date" in refused.text
    assert _post(module_database.url, post.id).status is PostStatus.PENDING_APPROVAL
    # Request changes needs a comment: the page again, saying so, nothing decided.
    empty = web.post(link, data={"decision": "request_changes", "comment": " ", "csrf": _csrf(html)})
    assert empty.status_code == 400 and "Say what should change" in empty.text
    assert _post(module_database.url, post.id).status is PostStatus.PENDING_APPROVAL

    done = web.post(link, data={"decision": "approve", "csrf": _csrf(html)}, follow_redirects=True)
    assert done.status_code == 200 and "<h1>Your decision is in</h1>" in done.text
    assert "You approved this post" in done.text
    saved = _post(module_database.url, post.id)
    assert saved.status is PostStatus.SCHEDULED and saved.scheduled_at == at
    shown = _card_says(slack, post, "Approved by Ana at Client (review link)")
    assert "Revoke review links" not in shown and "Share for review" not in shown
    assert any("Ana at Client (review link)" in c.params["text"] and "approved" in c.params["text"]
               for c in slack.calls_to("chat.postMessage") if c.params.get("thread_ts")), "the author is told"

    # The same link again: used, nothing changes.
    again = web.post(link, data={"decision": "reject", "comment": "no", "csrf": _csrf(html)})
    assert "Your decision is in" in again.text
    assert _post(module_database.url, post.id).status is PostStatus.SCHEDULED

    sender.command(f"audit post {post.id}", user_id=AUTHOR, response_url=slack.response_url("audit"))
    lines = [b["text"]["text"] for b in slack.wait_for_response("audit")[0]["blocks"] if b["type"] == "section"]
    assert [line.split(" · ")[0:3] for line in lines[:3]] == [
        ["*scheduled*", "Ana at Client (review link)", "from review link"],
        ["*approved*", "Ana at Client (review link)", "from review link"],
        ["*review link created*", f"<@{DANA}>", "from modal"]]


def test_revoked_expired_and_altered_links_show_a_clear_page_and_change_nothing(
        sender, slack, fake_x, account_id, module_database, approval, web):
    at = (datetime.now(UTC) + timedelta(days=3)).replace(second=0, microsecond=0)
    post = _compose(sender, account_id, module_database.url, "Two reviewers", at=at)
    first, second = share(sender, slack, post, "Ana"), share(sender, slack, post, "Leo")
    _card_says(slack, post, "Revoke review links (2)")
    csrf = _csrf(web.get(first).text)

    altered = web.get(first[:-3] + "abc")
    assert altered.status_code == 404 and "This review link is not valid" in altered.text

    _click(sender, slack, post, ids.REVIEW_REVOKE_LINKS, DANA, "revoke")
    assert slack.wait_for_response("revoke")[0]["text"] == "Revoked 2 review links: they no longer work."
    for link in (first, second):
        page = web.get(link)
        assert page.status_code == 410 and "<h1>This review link was withdrawn</h1>" in page.text
        assert page.headers["X-Frame-Options"] == "DENY"
    answer = web.post(first, data={"decision": "approve", "csrf": csrf})
    assert "This review link was withdrawn" in answer.text
    assert _post(module_database.url, post.id).status is PostStatus.PENDING_APPROVAL

    late = share(sender, slack, post, "Mia")

    async def expire(session):
        await session.execute(update(ReviewLink).where(ReviewLink.reviewer == "Mia")
                              .values(expires_at=datetime.now(UTC) - timedelta(minutes=1)))
        await session.commit()
    _read(module_database.url, expire)
    page = web.get(late)
    assert page.status_code == 410 and "<h1>This review link expired</h1>" in page.text
    assert _post(module_database.url, post.id).status is PostStatus.PENDING_APPROVAL


def test_a_link_to_a_version_edited_since_is_refused(sender, slack, fake_x, account_id, module_database, approval,
                                                      web):
    at = (datetime.now(UTC) + timedelta(days=3)).replace(second=0, microsecond=0)
    post = _compose(sender, account_id, module_database.url, "Before the edit", at=at)
    link = share(sender, slack, post, "Ana")
    csrf = _csrf(web.get(link).text)

    changed = f"After the edit {time.time_ns()}"
    answer = sender.interaction(_view_submission(
        ids.COMPOSE_VIEW, compose_state([account_id], changed, when="schedule", at=at), AUTHOR,
        json.dumps({"post_id": post.id, "channel_id": "C0001"})))
    assert answer.status_code == 200 and answer.text in ("", "null"), answer.text
    wait_until(lambda: _post(module_database.url, post.id).version == 2, what="the edit")

    page = web.get(link)
    assert page.status_code == 409 and "This post was edited since this link was made" in page.text
    refused = web.post(link, data={"decision": "approve", "csrf": csrf})
    assert "This post was edited since this link was made" in refused.text
    saved = _post(module_database.url, post.id)
    assert saved.status is PostStatus.PENDING_APPROVAL and saved.text == changed
    assert REVIEW_CHANNEL == saved.review_channel_id
