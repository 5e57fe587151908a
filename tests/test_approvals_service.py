"""The approvals service on its own (SQLite, and PostgreSQL when TEST_DATABASE_URL is set): who may decide,
what a decision does, decisions counted once when they arrive at the same moment, and the Block Kit built
from them."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from bot import ids
from bot.platforms.settings import LinkedInSettings
from bot.sandbox.fakes.slack import block_kit_errors, view_errors
from bot.services import approvals
from bot.services.approvals import BUTTON, REACTION, Reviewer
from bot.services.workspaces import ensure_workspace
from bot.storage import db
from bot.storage.models import (
    Account,
    ApprovalDecision,
    Decision,
    Post,
    PostStatus,
    PostTarget,
    TargetStatus,
    Workspace,
)
from bot.views import approvals as views
from bot.views.settings import settings_modal

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
AUTHOR, DANA, LI, PAT = "U1", "U2", "U3", "U9"


async def _setup(engine, needed: int = 1, scheduled_at: datetime | None = None) -> tuple[int, int]:
    sessions = db.session_factory(engine)
    async with sessions() as session:
        workspace = await ensure_workspace(session, "T1")
        workspace.approval_required, workspace.approval_channel_id = True, "C1"
        workspace.approver_user_ids, workspace.approvals_needed = [DANA, LI], needed
        account = Account(workspace_id=workspace.id, platform="x", external_id="1", kind="profile", name="Acme")
        session.add(account)
        await session.flush()
        post = Post(workspace_id=workspace.id, author_user_id=AUTHOR, text="Hello", options={},
                    status=PostStatus.PENDING_APPROVAL, scheduled_at=scheduled_at, review_channel_id="C1",
                    review_ts="1.000001", targets=[PostTarget(account_id=account.id, status=TargetStatus.PENDING)])
        session.add(post)
        await session.commit()
        return workspace.id, post.id


async def _decide(engine, post_id: int, user: str, decision: Decision = Decision.APPROVE, **kw):
    async with db.session_factory(engine)() as session:
        workspace = await session.scalar(select(Workspace).where(Workspace.team_id == "T1"))
        kw.setdefault("source", BUTTON)
        outcome = await approvals.decide(session, workspace, post_id, Reviewer(user), decision, now=NOW, **kw)
        await session.commit()
        return outcome


async def _state(engine, post_id: int) -> tuple[Post, list[PostTarget], list[ApprovalDecision]]:
    async with db.session_factory(engine)() as session:
        post = await session.get(Post, post_id)
        targets = list(await session.scalars(select(PostTarget).where(PostTarget.post_id == post_id)))
        rows = list(await session.scalars(select(ApprovalDecision).where(ApprovalDecision.post_id == post_id)
                                          .order_by(ApprovalDecision.id)))
        return post, targets, rows


async def test_who_may_decide(engine):
    _, post_id = await _setup(engine)
    outsider = await _decide(engine, post_id, PAT)
    assert outsider.refusal.startswith(f"Only <@{DANA}> and <@{LI}> can approve") and not outsider.recorded
    own = await _decide(engine, post_id, AUTHOR)
    assert own.refusal.startswith("Only "), "the author is not an approver here"
    assert (await _state(engine, post_id))[2] == []

    async with db.session_factory(engine)() as session:  # the author is an approver too, but not of their own
        workspace = await session.scalar(select(Workspace).where(Workspace.team_id == "T1"))
        workspace.approver_user_ids = [AUTHOR, DANA]
        await session.commit()
    assert (await _decide(engine, post_id, AUTHOR)).refusal == approvals.OWN_POST
    rejected_by_author = await _decide(engine, post_id, AUTHOR, Decision.REJECT)
    assert rejected_by_author.recorded, "an author may still withdraw their own post by rejecting it"


async def test_admins_approve_when_nobody_was_chosen(engine):
    _, post_id = await _setup(engine)
    async with db.session_factory(engine)() as session:
        workspace = await session.scalar(select(Workspace).where(Workspace.team_id == "T1"))
        workspace.approver_user_ids = []
        await session.commit()
        assert approvals.who_reviews(workspace) == "workspace admins"
        assert approvals.may_review(workspace, Reviewer(PAT, is_admin=True))
        assert not approvals.may_review(workspace, Reviewer(DANA))


async def test_enough_approvals_schedule_it_at_its_time(engine):
    at = NOW + timedelta(days=1)
    _, post_id = await _setup(engine, needed=2, scheduled_at=at)
    first = await _decide(engine, post_id, DANA)
    assert first.recorded and not first.finished and first.status is PostStatus.PENDING_APPROVAL
    again = await _decide(engine, post_id, DANA)
    assert again.refusal == "You have already approved this post." and not again.recorded
    second = await _decide(engine, post_id, LI)
    assert second.finished and second.status is PostStatus.SCHEDULED and not second.published_now
    post, targets, rows = await _state(engine, post_id)
    assert post.status is PostStatus.SCHEDULED and post.scheduled_at == at
    assert [(t.status, t.next_attempt_at) for t in targets] == [(TargetStatus.SCHEDULED, at)]
    assert [r.user_id for r in rows] == [DANA, LI]
    late = await _decide(engine, post_id, DANA, Decision.REJECT, comment="no")
    assert late.refusal == "This post was already approved." and len((await _state(engine, post_id))[2]) == 2


async def test_a_late_approval_goes_out_now(engine):
    _, post_id = await _setup(engine, scheduled_at=NOW - timedelta(minutes=10))
    outcome = await _decide(engine, post_id, DANA)
    assert outcome.published_now and outcome.late
    post, targets, _ = await _state(engine, post_id)
    assert post.scheduled_at == NOW and targets[0].next_attempt_at == NOW


async def test_request_changes_needs_a_comment_and_returns_it_to_drafts(engine):
    _, post_id = await _setup(engine)
    assert "Say what should change" in (await _decide(engine, post_id, DANA, Decision.REQUEST_CHANGES)).refusal
    outcome = await _decide(engine, post_id, DANA, Decision.REQUEST_CHANGES, comment="  Shorter, please. ")
    assert outcome.finished and outcome.status is PostStatus.DRAFT
    post, targets, [row] = await _state(engine, post_id)
    assert post.status is PostStatus.DRAFT and targets[0].status is TargetStatus.PENDING
    assert (row.decision, row.comment) == (Decision.REQUEST_CHANGES, "Shorter, please.")


async def test_withdrawal_undoes_only_a_reaction_approval_of_the_current_version(engine):
    _, post_id = await _setup(engine, needed=2)
    await _decide(engine, post_id, DANA, source=BUTTON)
    ignored = await _decide(engine, post_id, DANA, Decision.WITHDRAW, source=REACTION, event_id="Ev1")
    assert ignored.quiet and not ignored.recorded
    await _decide(engine, post_id, LI, source=REACTION, event_id="Ev2")
    # LI's approval made it approved; a withdrawal afterwards changes nothing.
    after = await _decide(engine, post_id, LI, Decision.WITHDRAW, source=REACTION, event_id="Ev3")
    assert after.quiet and not after.recorded
    assert [r.decision for r in (await _state(engine, post_id))[2]] == [Decision.APPROVE, Decision.APPROVE]


async def test_a_click_on_an_older_version_is_not_counted(engine):
    _, post_id = await _setup(engine)
    async with db.session_factory(engine)() as session:
        post = await session.get(Post, post_id)
        post.version = 2
        await session.commit()
    assert (await _decide(engine, post_id, DANA, version=1)).refusal == approvals.STALE
    assert (await _decide(engine, post_id, DANA, version=2)).finished


async def test_the_same_slack_event_counts_once(engine):
    _, post_id = await _setup(engine, needed=2)
    first = await _decide(engine, post_id, DANA, source=REACTION, event_id="EvSAME")
    second = await _decide(engine, post_id, DANA, source=REACTION, event_id="EvSAME")
    assert first.recorded and second.quiet and not second.recorded and second.refusal is None
    assert len((await _state(engine, post_id))[2]) == 1


async def test_decisions_arriving_together_are_each_counted_once(engine):
    """Two approvers at the same moment: both counted, the post scheduled once; the same event delivered twice
    at the same moment: recorded once."""
    _, post_id = await _setup(engine, needed=2)
    outcomes = await asyncio.gather(_decide(engine, post_id, DANA), _decide(engine, post_id, LI))
    assert sorted(o.finished for o in outcomes) == [False, True]
    post, _, rows = await _state(engine, post_id)
    assert post.status is PostStatus.SCHEDULED and sorted(r.user_id for r in rows) == [DANA, LI]

    _, other = await _setup_second(engine)
    twice = await asyncio.gather(*(_decide(engine, other, DANA, source=REACTION, event_id="EvTWICE")
                                   for _ in range(3)))
    assert sum(o.recorded for o in twice) == 1 and all(o.refusal is None for o in twice)
    assert len((await _state(engine, other))[2]) == 1


async def _setup_second(engine) -> tuple[int, int]:
    async with db.session_factory(engine)() as session:
        workspace = await session.scalar(select(Workspace).where(Workspace.team_id == "T1"))
        account = await session.scalar(select(Account).where(Account.workspace_id == workspace.id))
        post = Post(workspace_id=workspace.id, author_user_id=AUTHOR, text="Again", options={},
                    status=PostStatus.PENDING_APPROVAL, targets=[PostTarget(account_id=account.id)])
        session.add(post)
        await session.commit()
        return workspace.id, post.id


async def test_the_card_and_the_modals_are_valid_block_kit(engine):
    workspace_id, post_id = await _setup(engine, needed=2, scheduled_at=NOW + timedelta(days=1))
    await _decide(engine, post_id, DANA, comment=None)
    async with db.session_factory(engine)() as session:
        workspace = await session.get(Workspace, workspace_id)
        card = await approvals.review_card(session, workspace, post_id, {})
    assert card.approvers == (DANA,) and card.needed == 2
    blocks = views.review_card(card)
    assert block_kit_errors(blocks, 50) == []
    text = str(blocks)
    assert "1 of 2 approvals (<@U2>)" in text and "not set up on this install" in text
    assert ids.REVIEW_EDIT not in text, "the card is shared: no Edit that refuses everyone but the author"
    assert "Only the author can edit it" in text and "<@" not in blocks[-1]["elements"][0]["text"], \
        "the footer names who reviews without notifying them"
    # Every kind of card, with pictures, many accounts and long texts, stays within Slack's limits.
    many = approvals.TargetPreview("X", "Acme", "acme", "y" * 5000, ("too long " * 50,))
    media = tuple(approvals.MediaPreview(f"p{i}.png", "image", f"https://example.com/media/{i}") for i in range(12))
    video = (approvals.MediaPreview("clip.mp4", "video", None),)
    lines = tuple(approvals.DecisionLine(DANA, Decision.REQUEST_CHANGES, "c" * 2000, NOW, 1, BUTTON)
                  for _ in range(30))
    for status in (PostStatus.PENDING_APPROVAL, PostStatus.SCHEDULED, PostStatus.DRAFT, PostStatus.CANCELLED):
        big = approvals.ReviewCard(post_id, 2, AUTHOR, status, NOW, "first " * 600,
                                   tuple(many for _ in range(40)), media + video, lines, (DANA,), 2,
                                   "white_check_mark", "x", "workspace admins", edited=True)
        for thumbnails in (True, False):
            assert block_kit_errors(views.review_card(big, thumbnails), 50) == [], status
    with_media = views.review_card(big)
    # Pictures an approver can judge: an image block each (the first four), then what is attached in words.
    pictures = [b for b in with_media if b["type"] == "image"]
    assert [p["image_url"] for p in pictures] == [f"https://example.com/media/{i}" for i in range(4)]
    assert all(p["title"]["text"].endswith("· no alt text") for p in pictures)
    assert "12 photos (8 not shown here) · 1 video (clip.mp4)" in str(with_media)
    assert not [b for b in views.review_card(big, False) if b["type"] == "image"], "Slack could not fetch them"
    # A LinkedIn document post's PDF is said in words (never shown as a picture), with the document's title.
    deck = approvals.ReviewCard(post_id, 2, AUTHOR, PostStatus.PENDING_APPROVAL, NOW, None, (approvals.TargetPreview(
        "LinkedIn", "Maria", None, "Our year", settings=LinkedInSettings(document_title="2026 in numbers")),),
        (approvals.MediaPreview("year.pdf", "document", None),), (), (), 1, "white_check_mark", "x", "admins")
    shown = str(views.review_card(deck))
    assert "PDF document (year.pdf)" in shown and "document “2026 in numbers”" in shown
    for decision in (approvals.Decision.REJECT, approvals.Decision.REQUEST_CHANGES):
        assert view_errors(views.comment_modal(post_id, 1, decision)) == []
    async with db.session_factory(engine)() as session:
        workspace = await session.get(Workspace, workspace_id)
        assert view_errors(settings_modal(workspace, [("S1", "Brand reviewers")])) == []
        assert view_errors(settings_modal(workspace, None)) == []
