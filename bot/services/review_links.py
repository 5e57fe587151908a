"""Review links: an approver lets someone without Slack decide on one version of a post.

A link is a random token; only its SHA-256 is stored, so a database reader cannot use one. It is single purpose
(that post, that version), expires, can be revoked, and is spent by its decision. The decision goes through
approvals.decide, the path the card's buttons take, signed "<name> (review link)".

Free of Slack and HTTP: the card's handler creates and revokes links, bot/web.py shows the page and posts the
decision; both show what comes back.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.services import approvals, audit
from bot.services.approvals import Outcome, Reviewer
from bot.storage.models import Decision, Post, PostStatus, ReviewLink, Workspace

DAYS = (1, 3, 7, 14, 30)
DEFAULT_DAYS = 7
MAX_NAME = 80
DECISIONS = {"approve": Decision.APPROVE, "request_changes": Decision.REQUEST_CHANGES, "reject": Decision.REJECT}


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def csrf_token(secret: bytes, token: str) -> str:
    """The page's forms carry this: tied to the link, made with the install's secret, so another site cannot
    make a reviewer's browser post a decision."""
    return hmac.new(secret, b"review-csrf:" + token_hash(token).encode(), hashlib.sha256).hexdigest()


def csrf_ok(secret: bytes, token: str, given: str | None) -> bool:
    return bool(given) and hmac.compare_digest(csrf_token(secret, token), given)


def reviewer_name(label: str) -> str:
    return f"{label} (review link)"


class Refused(Exception):
    """Why a link cannot be made or revoked, in words for the approver."""


async def _pending(session: AsyncSession, workspace: Workspace, post_id: int, version: int) -> Post:
    post = await session.get(Post, post_id)
    if post is None or post.workspace_id != workspace.id:
        raise Refused("This post no longer exists.")
    if post.status is not PostStatus.PENDING_APPROVAL:
        raise Refused("This post is no longer waiting for approval, so it cannot be shared for review.")
    if post.version != version:
        raise Refused(approvals.STALE)
    return post


def _may_share(workspace: Workspace, sharer: Reviewer) -> None:
    if sharer.by_link or not approvals.may_review(workspace, sharer):
        raise Refused("Only the post's approvers can share it for review: "
                      f"{approvals.who_reviews(workspace)}.")


async def check_share(session: AsyncSession, workspace: Workspace, post_id: int, version: int,
                      sharer: Reviewer) -> None:
    """Raises Refused when this person may not share this version of the post (before asking for a name)."""
    await _pending(session, workspace, post_id, version)
    _may_share(workspace, sharer)


def clean_name(text: str | None) -> str | None:
    """The reviewer's name or email, on one line; None when there is none."""
    name = " ".join((text or "").split())[:MAX_NAME]
    return name or None


async def create(session: AsyncSession, workspace: Workspace, post_id: int, version: int, sharer: Reviewer,
                 name: str, days: int, now: datetime) -> str:
    """A new link for this version of the post; returns its token (shown once, never stored). Raises Refused.
    The caller commits."""
    post = await _pending(session, workspace, post_id, version)
    _may_share(workspace, sharer)
    if days not in DAYS:
        days = DEFAULT_DAYS
    token = secrets.token_urlsafe(32)
    expires = now + timedelta(days=days)
    session.add(ReviewLink(workspace_id=workspace.id, post_id=post.id, post_version=post.version,
                           token_hash=token_hash(token), reviewer=name[:120], created_by=sharer.user_id,
                           expires_at=expires, created_at=now))
    await audit.record_post(session, post, sharer.user_id, audit.MODAL, "review link created",
                            {"reviewer": name, "version": post.version,
                             "expires (UTC)": expires.strftime("%Y-%m-%d %H:%M")}, at=now)
    await session.flush()
    return token


async def revoke_all(session: AsyncSession, workspace: Workspace, post_id: int, sharer: Reviewer,
                     now: datetime) -> int:
    """Revoke every link of the post still open; how many. Raises Refused. The caller commits."""
    post = await session.get(Post, post_id)
    if post is None or post.workspace_id != workspace.id:
        raise Refused("This post no longer exists.")
    _may_share(workspace, sharer)
    revoked = await session.execute(
        update(ReviewLink).where(ReviewLink.post_id == post_id, ReviewLink.revoked_at.is_(None),
                                 ReviewLink.used_at.is_(None), ReviewLink.expires_at > now)
        .values(revoked_at=now).returning(ReviewLink.reviewer).execution_options(synchronize_session=False))
    names = [row[0] for row in revoked]
    if names:
        await audit.record_post(session, post, sharer.user_id, audit.BUTTON, "review links revoked",
                                {"reviewers": names}, at=now)
    return len(names)


async def open_links(session: AsyncSession, post_id: int, now: datetime) -> int:
    return len((await session.scalars(select(ReviewLink.id).where(
        ReviewLink.post_id == post_id, ReviewLink.revoked_at.is_(None), ReviewLink.used_at.is_(None),
        ReviewLink.expires_at > now))).all())


# ---- the page ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    """Why a link shows no decision buttons: a title and a sentence, for someone outside the team."""

    title: str
    message: str
    status: int = 410


NOT_VALID = Problem("This review link is not valid",
                    "This link is not one Picmim made, or part of it is missing. Ask the person who sent it for a "
                    "new one.", 404)


@dataclass(frozen=True)
class Found:
    link: ReviewLink
    post: Post
    workspace: Workspace
    problem: Problem | None = None


_DONE = {Decision.APPROVE.value: "approved", Decision.REJECT.value: "rejected",
         Decision.REQUEST_CHANGES.value: "asked for changes to"}


async def find(session: AsyncSession, token: str, now: datetime) -> Found | Problem:
    """The link behind a token and whether it may still decide: unknown, revoked, used, expired, or about a
    version that was edited since (or a post no longer waiting) each say so."""
    if not token or len(token) > 100:
        return NOT_VALID
    link = await session.scalar(select(ReviewLink).where(ReviewLink.token_hash == token_hash(token)))
    if link is None:
        return NOT_VALID
    post = await session.get(Post, link.post_id)
    workspace = await session.get(Workspace, link.workspace_id)
    if post is None or workspace is None:
        return NOT_VALID
    problem = None
    if link.used_at is not None:
        problem = Problem("Your decision is in", f"You {_DONE.get(link.decision or '', 'decided on')} this post "
                          "with this link. Thank you: the team has been told. The link cannot be used again.", 200)
    elif link.revoked_at is not None:
        problem = Problem("This review link was withdrawn",
                          "The team withdrew this link, so it can no longer be used. Ask them for a new one if you "
                          "still need to review the post.")
    elif link.expires_at <= now:
        problem = Problem("This review link expired",
                          f"It could be used until {link.expires_at:%d %b %Y, %H:%M} UTC. Ask the team for a new "
                          "one if you still need to review the post.")
    elif post.version != link.post_version:
        problem = Problem("This post was edited since this link was made",
                          "The version you were asked to review has changed, so this link no longer decides on it. "
                          "Ask the team for a link to the new version.", 409)
    elif post.status is not PostStatus.PENDING_APPROVAL:
        problem = Problem("This post is no longer waiting for approval",
                          "Someone on the team already decided on it, or it was withdrawn. Nothing more is needed "
                          "from you.", 409)
    return Found(link, post, workspace, problem)


@dataclass(frozen=True)
class Decided:
    outcome: Outcome | None
    problem: Problem | None = None  # why nothing was recorded
    field_error: str | None = None  # a missing comment: the page again, with this under the box


async def decide(session: AsyncSession, token: str, choice: str, comment: str | None, now: datetime) -> Decided:
    """The reviewer's decision, counted as an approver's. The link is spent in the same transaction (a second
    submission finds it used). The caller commits when `outcome.recorded`, else rolls back."""
    decision = DECISIONS.get(choice or "")
    found = await find(session, token, now)
    if isinstance(found, Problem):
        return Decided(None, found)
    if found.problem is not None:
        return Decided(None, found.problem)
    if decision is None:
        return Decided(None, Problem("This decision is not one Picmim knows",
                                     "Go back to the link and press Approve, Request changes or Reject.", 400))
    comment = (comment or "").strip()
    if decision is Decision.REQUEST_CHANGES and not comment:
        return Decided(None, field_error="Say what should change, so the author knows what to do.")
    link = found.link
    spent = await session.execute(
        update(ReviewLink).where(ReviewLink.id == link.id, ReviewLink.used_at.is_(None),
                                 ReviewLink.revoked_at.is_(None), ReviewLink.expires_at > now)
        .values(used_at=now, decision=decision.value).execution_options(synchronize_session=False))
    if spent.rowcount != 1:
        return Decided(None, Problem("This review link was already used",
                                     "A decision was already made with it. Nothing more is needed from you.", 409))
    reviewer = Reviewer(reviewer_name(link.reviewer), by_link=True)
    outcome = await approvals.decide(session, found.workspace, link.post_id, reviewer, decision,
                                     source=approvals.REVIEW_LINK, now=now, comment=comment or None,
                                     version=link.post_version)
    if not outcome.recorded:
        return Decided(outcome, Problem("Your decision could not be recorded",
                                        outcome.refusal or "The post changed meanwhile. Nothing was changed.", 409))
    return Decided(outcome)
