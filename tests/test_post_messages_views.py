"""What a marketer, an approver and an admin see in a post's status message, the queue and the review card
(issue 24): words instead of status codes, each reader's own time zone, the button that mends each problem."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta

import pytest

from bot import ids
from bot.media.renditions import ProgressLine
from bot.sandbox.fakes.slack import block_kit_errors
from bot.services.approvals import DecisionLine, MediaPreview, ReviewCard, TargetPreview
from bot.services.publishing import TargetLine
from bot.services.queue import QueueItem
from bot.services.reviews import ReviewSummary
from bot.storage.models import Decision, PostStatus, RenditionStatus, TargetStatus
from bot.views import approvals as cards
from bot.views.posts import notification_text, status_message
from bot.views.queue import queue_list

NOW = datetime(2026, 12, 6, 9, 0, tzinfo=UTC)
TZ = "Europe/Madrid"


def _line(target_id: int, platform: str, status: TargetStatus, *, url: str | None = None, detail: str | None = None,
          kind: str | None = None, connection: int | None = 7) -> TargetLine:
    return TargetLine(target_id, platform, "Acme", status, url, detail, error_kind=kind, connection_id=connection)


def _buttons(blocks: list[dict]) -> list[tuple[str, str]]:
    return [(e["action_id"], e.get("value", "")) for b in blocks if b["type"] == "actions" for e in b["elements"]]


def _text(blocks: list[dict]) -> str:
    return json.dumps(blocks, ensure_ascii=False)


# ---- the status message -----------------------------------------------------------------------------------


@pytest.mark.parametrize("status", list(PostStatus))
def test_every_notification_text_is_in_words(status):
    lines = [_line(1, "X", TargetStatus.PUBLISHED, url="https://x.com/1"), _line(2, "LinkedIn", TargetStatus.FAILED)]
    for when in (None, NOW - timedelta(hours=1), NOW + timedelta(days=1)):
        said = notification_text(status, "Spring sale", when, lines, now=NOW)
        head = said.removesuffix(": Spring sale")
        assert head != said and (head[0].isupper() or head[0].isdigit()) and not said.startswith("Post "), said
        assert not re.search(r"[_:<>*`]", head), f"words only, no codes, emoji or markup: {said!r}"


def test_notification_texts_say_what_happened():
    published = [_line(1, "X", TargetStatus.PUBLISHED), _line(2, "LinkedIn", TargetStatus.PUBLISHED)]
    assert notification_text(PostStatus.PUBLISHED, "Hi", NOW, published, now=NOW) == "Published on X and LinkedIn: Hi"
    partly = [*published, _line(3, "Bluesky", TargetStatus.FAILED)]
    assert notification_text(PostStatus.FAILED, "Hi", NOW, partly, now=NOW) == "2 of 3 published, not on Bluesky: Hi"
    assert notification_text(PostStatus.PENDING_APPROVAL, "Hi", None, [], now=NOW) == "Waiting for approval: Hi"
    assert notification_text(PostStatus.SCHEDULED, "Hi", NOW + timedelta(days=1), [], now=NOW) == "Scheduled: Hi"
    assert notification_text(PostStatus.SCHEDULED, "", NOW, [], now=NOW) == "Publishing now"


def test_times_are_shown_in_each_readers_own_zone_and_the_author_is_named():
    at = NOW + timedelta(days=2)
    for status in (PostStatus.SCHEDULED, PostStatus.PENDING_APPROVAL):
        blocks = status_message(status, "Hi", at, TZ, [_line(1, "X", TargetStatus.SCHEDULED)], now=NOW,
                                author="U0001", post_id=5)
        assert f"<!date^{int(at.timestamp())}^" in blocks[0]["text"]["text"], "Slack's date formatting"
        assert "(CET)" in blocks[0]["text"]["text"], "the fallback in the author's zone"
        assert blocks[1] == {"type": "context", "elements": [{"type": "mrkdwn", "text": "Post by <@U0001>"}]}


def test_the_status_message_says_what_the_post_carries():
    attached = [("image/png", "a.png"), ("image/jpeg", "b.jpg"), ("video/mp4", "c.mp4"),
                ("application/pdf", "q3_report.pdf")]
    blocks = status_message(PostStatus.PUBLISHING, "Hi", None, TZ, [_line(1, "LinkedIn", TargetStatus.PUBLISHING)],
                            now=NOW, author="U0001", post_id=5, attached=attached)
    assert blocks[2]["elements"][0]["text"] == "2 photos · 1 video · PDF document (q3_report.pdf)"
    bare = status_message(PostStatus.PUBLISHING, "Hi", None, TZ, [_line(1, "X", TargetStatus.PUBLISHING)], now=NOW,
                          author="U0001", post_id=5)
    assert len(bare) == len(blocks) - 1, "no line without attachments"


def test_a_video_being_optimised_after_its_time_does_not_say_scheduled_for_a_past_time():
    waiting = [_line(1, "TikTok", TargetStatus.SCHEDULED, detail="Optimising the video for TikTok.",
                     kind="optimising")]
    progress = [ProgressLine(("TikTok",), RenditionStatus.WORKING, 0.4)]
    blocks = status_message(PostStatus.SCHEDULED, "Clip", NOW - timedelta(minutes=3), TZ, waiting,
                            optimising=progress, now=NOW)
    assert blocks[0]["text"]["text"].startswith("*:hourglass_flowing_sand: Publishing as soon as the video is ready*")
    assert "Scheduled" not in _text(blocks) and "Optimising video for TikTok… 40%" in _text(blocks)
    said = notification_text(PostStatus.SCHEDULED, "Clip", NOW - timedelta(minutes=3), waiting, now=NOW)
    assert said == "Publishing once the video is ready: Clip"


def test_two_of_three_published_is_said_so_with_the_button_that_mends_the_third():
    lines = [_line(1, "X", TargetStatus.PUBLISHED, url="https://x.com/1"),
             _line(2, "LinkedIn", TargetStatus.FAILED, detail="LinkedIn withdrew Picmim's access. Reconnect it.",
                   kind="revoked", connection=9),
             _line(3, "Bluesky", TargetStatus.PUBLISHED, url="https://bsky.app/1")]
    blocks = status_message(PostStatus.FAILED, "Hi", NOW - timedelta(hours=1), TZ, lines, now=NOW, author="U1",
                            post_id=5)
    assert blocks[0]["text"]["text"].startswith("*:warning: 2 of 3 published*")
    assert "Not everything" not in _text(blocks) and ":x:" not in blocks[0]["text"]["text"]
    assert _buttons(blocks) == [(ids.ACCOUNT_RECONNECT, "9"), (ids.POST_RETRY, "2")], \
        "a withdrawn grant: Reconnect first, then Retry; nothing to edit or cancel once published in part"
    [reconnect] = [e for b in blocks if b["type"] == "actions" for e in b["elements"]
                   if e["action_id"] == ids.ACCOUNT_RECONNECT]
    assert reconnect["style"] == "primary"
    assert block_kit_errors(blocks, 50) == []


def test_each_problem_offers_its_own_fix():
    passing = status_message(PostStatus.FAILED, "Hi", NOW, TZ,
                             [_line(1, "X", TargetStatus.FAILED, detail="X is down.", kind="transient")], now=NOW)
    assert _buttons(passing) == [(ids.POST_RETRY, "1")], "a passing failure: Retry"
    expired = status_message(PostStatus.FAILED, "Hi", NOW, TZ,
                             [_line(1, "X", TargetStatus.FAILED, detail="Expired.", kind="expired", connection=4)],
                             now=NOW)
    assert _buttons(expired) == [(ids.ACCOUNT_RECONNECT, "4"), (ids.POST_RETRY, "1")]
    unknown = status_message(PostStatus.FAILED, "Hi", NOW, TZ, [_line(1, "X", TargetStatus.UNCONFIRMED)], now=NOW)
    assert _buttons(unknown) == [(ids.POST_MARK_PUBLISHED, "1"), (ids.POST_RETRY, "1")]
    gone = status_message(PostStatus.FAILED, "Hi", NOW, TZ, [_line(1, "X", TargetStatus.FAILED, kind="revoked",
                                                                   connection=None)], now=NOW)
    assert _buttons(gone) == [(ids.POST_RETRY, "1")], "no connection left to reconnect"


def test_a_held_post_offers_reconnect_and_can_still_be_edited_or_cancelled():
    held = [_line(1, "X", TargetStatus.HELD, kind="held", connection=3,
                  detail="On hold until Acme on X is reconnected (press Reconnect in the alert or in /picmim "
                         "accounts). If its time comes first, it will not go out.")]
    blocks = status_message(PostStatus.SCHEDULED, "Hi", NOW + timedelta(days=1), TZ, held, now=NOW, post_id=5)
    assert "press Reconnect below" in _text(blocks) and "in the alert" not in _text(blocks)
    assert _buttons(blocks) == [(ids.ACCOUNT_RECONNECT, "3"), (ids.POST_EDIT, "5"), (ids.POST_CANCEL, "5")]
    [cancel] = [e for e in blocks[-1]["elements"] if e["action_id"] == ids.POST_CANCEL]
    assert cancel["confirm"]["confirm"]["text"] == "Cancel post" and cancel["style"] == "danger"
    assert block_kit_errors(blocks, 50) == []


@pytest.mark.parametrize(("status", "when", "target", "changeable"), [
    (PostStatus.SCHEDULED, timedelta(days=1), TargetStatus.SCHEDULED, True),
    (PostStatus.PENDING_APPROVAL, None, TargetStatus.PENDING, True),
    (PostStatus.SCHEDULED, -timedelta(minutes=1), TargetStatus.SCHEDULED, False),  # going out now
    (PostStatus.PUBLISHING, -timedelta(minutes=1), TargetStatus.PUBLISHING, False),
    (PostStatus.PUBLISHED, -timedelta(minutes=1), TargetStatus.PUBLISHED, False),
    (PostStatus.CANCELLED, timedelta(days=1), TargetStatus.CANCELLED, False),
])
def test_edit_and_cancel_only_while_the_post_can_change(status, when, target, changeable):
    blocks = status_message(status, "Hi", NOW + when if when else None, TZ, [_line(1, "X", target)], now=NOW,
                            post_id=5)
    shown = {action for action, _ in _buttons(blocks)}
    assert ({ids.POST_EDIT, ids.POST_CANCEL} <= shown) is changeable
    assert not shown & {ids.POST_EDIT, ids.POST_CANCEL} or changeable


def test_a_long_status_message_stays_within_slacks_limits_with_every_line_settings_and_fixes():
    lines = [_line(i, "X", TargetStatus.FAILED, detail="d" * 2000, kind="revoked") for i in range(40)]
    blocks = status_message(PostStatus.FAILED, "t" * 5000, NOW, TZ, lines, now=NOW, author="U1", post_id=5,
                            optimising=[ProgressLine(("TikTok",), RenditionStatus.WORKING, 0.1)] * 5)
    assert block_kit_errors(blocks, 50) == [] and "more accounts, not shown here" in _text(blocks)


# ---- the queue ------------------------------------------------------------------------------------------


def _item(post_id: int, when: datetime | None, status=PostStatus.SCHEDULED, review=None) -> QueueItem:
    return QueueItem(post_id, "U0001", f"Post {post_id}", status, when, ("X · Acme",), review)


def test_the_queue_groups_by_day_in_the_viewers_zone_with_approvals_apart():
    items = [_item(1, None, PostStatus.PENDING_APPROVAL),
             _item(2, NOW + timedelta(hours=1)),
             _item(3, NOW + timedelta(days=1, hours=15)),  # 00:00 the day after, in Madrid
             _item(4, NOW + timedelta(days=2), PostStatus.PENDING_APPROVAL),
             _item(5, NOW + timedelta(days=1, hours=16))]
    blocks = queue_list(items, TZ, "U0001")
    assert block_kit_errors(blocks, 50) == []
    shown = _text(blocks)
    assert shown.index("Waiting for approval") < shown.index("Post 1") < shown.index("Post 4") \
        < shown.index(":calendar: *Scheduled*") < shown.index("Post 2") < shown.index("Post 3") < shown.index("Post 5")
    days = [b["elements"][0]["text"] for b in blocks if b["type"] == "context"]
    assert days[0] == "*As soon as it is approved*"
    assert [d.split("|")[1] for d in days[1:]] == ["Tuesday, 8 Dec 2026>*", "Sunday, 6 Dec 2026>*",
                                                  "Tuesday, 8 Dec 2026>*"], days
    assert all("{date_long_pretty}" in d for d in days[1:]), "each reader's own 'Today' / 'Tomorrow'"


def test_publish_now_asks_first_and_is_not_primary():
    blocks = queue_list([_item(1, NOW + timedelta(days=1)), _item(2, None, PostStatus.PENDING_APPROVAL)], TZ, "U1")
    buttons = {(b["block_id"], e["action_id"]): e for b in blocks if b["type"] == "actions" for e in b["elements"]}
    publish = buttons[("queue_1", ids.QUEUE_PUBLISH_NOW)]
    assert "style" not in publish and publish["confirm"]["title"]["text"] == "Publish this post now?"
    assert publish["confirm"]["confirm"]["text"] == "Publish now"
    assert ("queue_2", ids.QUEUE_PUBLISH_NOW) not in buttons, "one waiting for approval goes out once approved"


def test_the_queue_shows_only_the_current_versions_review():
    old = DecisionLine("U0A01", Decision.APPROVE, None, NOW - timedelta(days=1), 1, "button")
    review = ReviewSummary(2, 1, (), (old,))
    blocks = queue_list([_item(1, NOW + timedelta(days=1), PostStatus.PENDING_APPROVAL, review)], TZ, "U1")
    shown = _text(blocks)
    assert "Needs 1 approval" in shown and "0 of 1" not in shown
    assert "<@U0A01> approved" not in shown and "earlier approvals no longer count" in shown


# ---- the review card ------------------------------------------------------------------------------------


def _card(status=PostStatus.PENDING_APPROVAL, targets=(), media=(), approvers=(), needed=1, decisions=()):
    return ReviewCard(5, 1, "U0001", status, NOW + timedelta(days=1), None,
                      targets or (TargetPreview("X", "Acme", None, "Hello"),), media, decisions, approvers, needed,
                      "white_check_mark", "x", "<@U0A01> and <@U0A02>", reviewers="2 chosen approvers")


def test_the_card_counts_approvals_in_words():
    assert "Needs 1 approval" in cards.headline(_card())
    assert "Needs 2 approvals" in cards.headline(_card(needed=2))
    assert "1 of 2 approvals (<@U0A01>)" in cards.headline(_card(needed=2, approvers=("U0A01",)))


def test_the_approvers_are_named_once_when_the_card_is_posted():
    card = _card()
    assert cards.card_text(card, first=True) == "Post by <@U0001> for review by <@U0A01> and <@U0A02>: Hello"
    assert "U0A0" not in cards.card_text(card), "an update notifies nobody again"
    footer = cards.review_card(card)[-1]["elements"][0]["text"]
    assert "2 chosen approvers" in footer and "<@" not in footer


def test_a_published_card_shows_the_outcome_and_the_live_links():
    targets = (TargetPreview("X", "Acme", None, "Hello", status=TargetStatus.PUBLISHED, url="https://x.com/1"),
               TargetPreview("LinkedIn", "Acme", None, "Hello", failed="LinkedIn said no.",
                             status=TargetStatus.FAILED))
    blocks = cards.review_card(_card(PostStatus.FAILED, targets, approvers=("U0A01",)))
    shown = _text(blocks)
    assert "Approved by <@U0A01>* · 1 of 2 published" in shown
    assert ":white_check_mark: published: <https://x.com/1|view the post>" in shown and "LinkedIn said no." in shown
    assert not [b for b in blocks if b["type"] == "actions"]
    assert cards.card_text(_card(PostStatus.SCHEDULED)) == "Approved, publishes at its time: Hello"


def test_a_rejected_card_no_longer_says_it_publishes():
    rejected = DecisionLine("U0A01", Decision.REJECT, "Off brand", NOW, 1, "button")
    shown = _text(cards.review_card(_card(PostStatus.DRAFT, decisions=(rejected,))))
    assert "Rejected by <@U0A01>" in shown and "publishes" not in shown and "as soon as it is approved" not in shown


def test_pictures_are_shown_large_enough_to_judge():
    media = (MediaPreview("a.png", "image", "https://example.com/a", "A cup of coffee"),
             MediaPreview("b.png", "image", None))
    blocks = cards.review_card(_card(media=media))
    [picture] = [b for b in blocks if b["type"] == "image"]
    assert (picture["image_url"], picture["alt_text"], picture["title"]["text"]) == (
        "https://example.com/a", "A cup of coffee", "a.png")
    assert "2 photos" in _text(blocks) and block_kit_errors(blocks, 50) == []
    assert not [b for b in cards.review_card(_card(media=media), thumbnails=False) if b["type"] == "image"]
