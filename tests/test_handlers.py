"""Listener functions called directly, the way bolt calls them: a recording `ack` and `respond`, the request context
of bot/handlers/context.py on a real database, and the fake Slack Web API behind a real client. Each test checks
what the person would see (the ack's inline errors, the ephemeral answer) and what was kept."""

from __future__ import annotations

import inspect
from types import SimpleNamespace

import pytest
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy import select

from bot import ids
from bot.handlers import approvals, compose, digests, queue, settings
from bot.handlers.context import RequestContext
from bot.payloads import CardRef, ComposeOrigin, PostRef, ReviewComment, ShareRequest, SubscriptionRef, subject_of
from bot.services.digests import Schedule
from bot.services.digests import subscribe as subscribe_digest
from bot.services.queue import GONE, NOT_YOURS
from bot.storage import db as storage
from bot.storage.models import Decision, DigestSubscription, Post, PostStatus, Workspace, utcnow

TEAM = "T0001"


class Recorder:
    """An `ack` or `respond`: remembers what it was called with."""

    def __init__(self):
        self.calls: list[dict] = []

    async def __call__(self, **kw) -> None:
        self.calls.append(kw)

    @property
    def texts(self) -> list[str]:
        return [c.get("text") or "" for c in self.calls]


async def call(listener, **available) -> None:
    """As bolt calls a listener: with the arguments it names, taken from what the request offers."""
    params = inspect.signature(listener).parameters
    if any(p.kind is p.VAR_KEYWORD for p in params.values()):
        await listener(**available)
    else:
        await listener(**{name: available[name] for name in params})


@pytest.fixture
async def world(engine, slack):
    """The runtime parts a listener reaches (sessions, adapters), the fake Slack's team with two people, and a
    context factory for a request by one of them."""
    team = slack.add_team(TEAM, "xoxb-fake-T0001")
    team.users.update({"UADMIN": {"id": "UADMIN", "tz": "Europe/Madrid", "is_admin": True},
                       "UMEMBER": {"id": "UMEMBER", "tz": "America/New_York"}})
    runtime = SimpleNamespace(sessions=storage.session_factory(engine), adapters={}, settings=None)
    client = AsyncWebClient(token="xoxb-fake-T0001", base_url=slack.api_url)

    def request(user_id: str) -> dict:
        here = RequestContext(runtime, client, TEAM, None, user_id)
        context = SimpleNamespace(user_id=user_id, team_id=TEAM, enterprise_id=None, bot_token="xoxb-fake-T0001",
                                  get=lambda key, default=None: default)
        return dict(context=context, client=client, runtime=runtime, db=here.db, workspace=here.workspace,
                    person=here.person, access=here.access)

    return SimpleNamespace(runtime=runtime, client=client, slack=slack, request=request)


# ---- the request context ---------------------------------------------------------------------------------


async def test_the_person_and_the_workspace_are_looked_up_once_per_request(world):
    kw = world.request("UADMIN")
    first, again = await kw["person"](), await kw["person"]()
    assert (first.tz, first.is_admin) == ("Europe/Madrid", True) and again is first
    assert len(world.slack.calls_to("users.info")) == 1
    assert (await kw["workspace"]()).id == (await kw["workspace"]()).id
    async with world.runtime.sessions() as session:
        assert len((await session.scalars(select(Workspace).where(Workspace.team_id == TEAM))).all()) == 1


async def test_an_unknown_person_gets_no_admin_rights(world):
    who = await world.request("UGONE")["person"]()
    assert (who.tz, who.is_admin) == (None, False)


def test_subjects_are_read_from_button_values_and_metadata_and_forged_ones_are_none():
    def action(action_id: str, value) -> dict:
        return {"type": "block_actions", "actions": [{"action_id": action_id, "value": value}]}

    def view(callback_id: str, metadata) -> dict:
        return {"type": "view_submission", "view": {"callback_id": callback_id, "private_metadata": metadata}}

    assert subject_of(action(ids.QUEUE_CANCEL, "42")) == PostRef(42)
    assert subject_of(action(ids.REVIEW_APPROVE, CardRef(7, 2).encode())) == CardRef(7, 2)
    share = ShareRequest(30, "nonce", account_ids=(1, 2))
    assert subject_of(action(ids.STATS_SHARE, share.encode())) == share
    comment = ReviewComment(7, 2, Decision.REJECT)
    assert subject_of(view(ids.REVIEW_COMMENT_VIEW, comment.encode())) == comment
    for forged in (action(ids.QUEUE_CANCEL, "42; drop"), action(ids.QUEUE_CANCEL, None),
                   action(ids.REVIEW_APPROVE, "7"), action(ids.STATS_SHARE, '{"d": 9, "n": "x"}'),
                   action(ids.STATS_SHARE, '{"d": 7, "n": "x", "a": ["1"]}'),
                   view(ids.REVIEW_COMMENT_VIEW, '{"post_id": 7, "version": 2, "decision": "publish"}'),
                   view(ids.REVIEW_COMMENT_VIEW, "[]"), {"type": "block_actions", "actions": "x"}, "nonsense"):
        assert subject_of(forged) is None
    assert ComposeOrigin.decode('{"post_id": "7", "channel_id": "C1"}') == ComposeOrigin(channel_id="C1")


# ---- listeners ----------------------------------------------------------------------------------------------


async def test_publish_now_on_a_post_gone_from_the_queue_says_so(world):
    ack, respond = Recorder(), Recorder()
    await call(queue.publish_now_button, ack=ack, respond=respond, subject=PostRef(999), **world.request("UMEMBER"))
    assert ack.calls == [{}]
    assert respond.texts == [GONE]


async def test_only_the_author_or_an_admin_may_cancel_a_queued_post(world):
    kw = world.request("UMEMBER")
    workspace_id = (await kw["workspace"]()).id
    async with world.runtime.sessions() as session:
        post = Post(workspace_id=workspace_id, author_user_id="UAUTHOR", status=PostStatus.SCHEDULED, text="Hello",
                    scheduled_at=utcnow(), targets=[], media=[], options={})
        session.add(post)
        await session.commit()
    respond = Recorder()
    await call(queue.cancel_button, ack=Recorder(), respond=respond, subject=PostRef(post.id), **kw)
    assert respond.texts == [NOT_YOURS]
    async with world.runtime.sessions() as session:
        assert (await session.get(Post, post.id)).status is PostStatus.SCHEDULED


async def test_a_change_request_without_a_comment_is_refused_on_the_comment_field(world):
    ack = Recorder()
    view = {"state": {"values": {ids.REVIEW_COMMENT_BLOCK: {ids.REVIEW_COMMENT_INPUT: {"value": "  "}}}}}
    await call(approvals.comment_submitted, ack=ack, view=view, subject=ReviewComment(1, 1, Decision.REQUEST_CHANGES),
                                      **{k: v for k, v in world.request("UADMIN").items() if k != "context"})
    assert ack.calls == [{"response_action": "errors", "errors": {
        ids.REVIEW_COMMENT_BLOCK: "Say what should change, so the author knows what to do."}}]


async def test_a_forged_review_button_is_acknowledged_and_changes_nothing(world):
    ack, respond = Recorder(), Recorder()
    kw = world.request("UADMIN")
    await call(approvals.approve_button, ack=ack, respond=respond, subject=None, **kw)
    assert ack.calls == [{}] and respond.calls == []


async def test_settings_are_for_admins_only(world):
    respond = Recorder()
    await call(settings.settings_command, ack=Recorder(), command={"trigger_id": "t"}, respond=respond,
                                    **world.request("UMEMBER"))
    assert respond.texts == [settings.ADMINS_ONLY]
    assert world.slack.calls_to("views.open") == []


async def test_someone_else_cannot_stop_a_digest(world):
    kw = world.request("UMEMBER")
    here = await kw["workspace"]()
    async with world.runtime.sessions() as session:
        sub, _ = await subscribe_digest(session, here, "UOWNER", "C123", Schedule("daily", "09:00", "UTC"), [], [],
                                        utcnow())
        await session.commit()
    respond = Recorder()
    await call(digests.unsubscribe_button, ack=Recorder(), respond=respond, subject=SubscriptionRef(sub.id), **kw)
    assert "Only <@UOWNER>, who set it up, or an admin can stop this digest." in str(respond.calls[0])
    assert "&lt;" not in str(respond.calls[0])  # the mention stays a mention
    async with world.runtime.sessions() as session:
        assert await session.get(DigestSubscription, sub.id) is not None


async def test_closing_the_compose_window_keeps_a_draft(world):
    view = {"state": {"values": {ids.COMPOSE_TEXT_BLOCK: {ids.COMPOSE_TEXT_INPUT: {"value": "Half a thought"}}}}}
    kw = world.request("UMEMBER")
    await call(compose.closed, ack=Recorder(), view=view, subject=ComposeOrigin(channel_id="C1"), **kw)
    respond = Recorder()
    await call(compose.drafts_command, ack=Recorder(), respond=respond, **kw)
    assert "Half a thought" in str(respond.calls[0]["blocks"])
