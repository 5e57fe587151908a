"""App Home, the team's dashboard (refreshed each time it is opened), and its buttons: New post, Queue, and
Reconnect and Retry pressed on Home (the same buttons elsewhere are bot/handlers/connect.py's and posts.py's;
on Home there is no message to answer in, so the answer opens in a modal and Home is refreshed)."""

from __future__ import annotations

import logging
from dataclasses import replace

from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError

from bot import ids
from bot.handlers import connect, posts
from bot.handlers.approvals import reviewer_of
from bot.handlers.compose import open_compose
from bot.handlers.usergroups import group_members
from bot.payloads import ComposeOrigin
from bot.services import approvals, dashboard, roles
from bot.services.approvals import Reviewer
from bot.services.composing import Composition
from bot.slack_errors import error_of, unavailable
from bot.storage.models import utcnow
from bot.views import connect as connect_views
from bot.views.blocks import section
from bot.views.home import home_view, queue_modal

log = logging.getLogger(__name__)


async def on_home(body) -> bool:
    """The button was pressed on the App Home tab."""
    return (body.get("view") or {}).get("type") == "home"


def register(app: AsyncApp) -> None:
    app.event("app_home_opened")(opened)
    app.action(ids.NEW_POST)(new_post_button)
    app.action(ids.HOME_QUEUE)(queue_button)
    # Before connect's and posts' own listeners (this module is registered first): bolt runs the first match.
    app.action(ids.ACCOUNT_RECONNECT, matchers=[on_home])(reconnect_button)
    app.action(ids.POST_RETRY, matchers=[on_home])(retry_button)


async def opened(event, client, runtime, db, workspace, person, access) -> None:
    if event.get("tab") != "home":
        return
    await publish_home(client, runtime, db, workspace, person, access)


async def _seen(session, board: dashboard.Dashboard, access, workspace_id: int) -> dashboard.Dashboard:
    """With roles set: only what concerns the accounts this person may see."""
    if not access.rules.any_roles:
        return board
    posts = await roles.visible_posts(session, access, list({i.post_id for i in (*board.waiting, *board.failed,
                                                                                  *board.upcoming)}))
    hidden = await roles.hidden_connections(session, access, workspace_id)
    upcoming = [u for u in board.upcoming if u.post_id in posts]
    waiting = [w for w in board.waiting if w.post_id in posts]
    return replace(board, connections=[c for c in board.connections if c.id not in hidden],
                   broken=[c for c in board.broken if c.id not in hidden], waiting=waiting,
                   waiting_total=board.waiting_total - (len(board.waiting) - len(waiting)),
                   failed=[f for f in board.failed if f.post_id in posts],
                   upcoming=upcoming, upcoming_total=board.upcoming_total - (len(board.upcoming) - len(upcoming)))


async def _reviewed_by(session, client, here, rights, who, reviews: bool, board: dashboard.Dashboard
                       ) -> dashboard.Dashboard:
    """A post to a group with approvers of its own waits for them (not for the workspace's): Home's "waiting for
    your approval" keeps the posts this person approves."""
    kept = []
    for item in board.waiting:
        reviewing = roles.reviewing(here, rights.rules, await roles.post_accounts(session, item.post_id))
        if reviewing is here:
            mine = reviews
        else:
            group = reviewing.approver_usergroup_id
            in_group = bool(group) and who.user_id in await group_members(client, here.team_id, group)
            mine = approvals.may_review(reviewing, Reviewer(who.user_id, rights.is_admin and approvals.admins_review(
                reviewing), in_group))
        if mine:
            kept.append(item)
    return replace(board, waiting=kept, waiting_total=board.waiting_total - (len(board.waiting) - len(kept)))


async def publish_home(client, runtime, db, workspace, person, access) -> None:
    here, who, rights = await workspace(), await person(), await access()
    reviews = approvals.may_review(here, await reviewer_of(client, workspace, person, access))
    own_reviews = any(g.reviews for g in rights.rules.groups.values())  # groups with approvers of their own
    async with db() as session:
        board = await dashboard.dashboard(session, runtime.adapters, here, who.user_id, reviews or own_reviews,
                                          utcnow())
        if own_reviews:
            board = await _reviewed_by(session, client, here, rights, who, reviews, board)
        board = await _seen(session, board, rights, here.id)
    view = home_view(ids.COMMAND, board, set(runtime.adapters), who.tz, rights.is_admin)
    try:
        await client.views_publish(user_id=who.user_id, view=view)
    except SlackApiError as exc:
        log.warning("Could not publish App Home: %s", error_of(exc))


async def new_post_button(ack, body, client, runtime, db, workspace, access) -> None:
    """The compose modal; its status message goes to the channel the button was in (from /picmim help), or to
    the author's messages with Picmim (from Home)."""
    await ack()
    channel_id = (body.get("channel") or {}).get("id")
    await open_compose(client, runtime, db, workspace, access, body["trigger_id"], Composition(),
                       ComposeOrigin(channel_id=channel_id))


async def queue_button(ack, body, client, db, workspace, person, access) -> None:
    """Home cannot show an ephemeral message, and a DM would take the person away from Home: the queue opens
    over Home in a modal and closes back to it."""
    await ack()
    here, who = await workspace(), await person()
    async with db() as session:
        items, total = await dashboard.upcoming(session, here.id)
        rights = await access()
        if rights.rules.any_roles:
            seen = await roles.visible_posts(session, rights, [i.post_id for i in items])
            total -= len(items) - len(seen)
            items = [i for i in items if i.post_id in seen]
    try:
        await client.views_open(trigger_id=body["trigger_id"], view=queue_modal(ids.COMMAND, items, total, who.tz))
    except SlackApiError as exc:
        if unavailable(exc):
            raise  # Slack failing for now: the person is told so (failures.py)
        log.warning("Could not open the queue: %s", error_of(exc))


async def reconnect_button(ack, body, context, client, subject, runtime, db, workspace, person, access) -> None:
    """Reconnect on Home: the private link (or why not) in a modal; Home is refreshed afterwards."""
    await ack()
    try:
        opened = await client.views_open(trigger_id=body["trigger_id"], view=connect_views.connect_modal(
            [section("Preparing your private link…")]))
    except SlackApiError as exc:
        if unavailable(exc):
            raise  # Slack failing for now: the person is told so (failures.py)
        log.warning("Could not open the reconnect modal: %s", error_of(exc))
        return
    reply = connect.Reply(client, view_id=opened["view"]["id"])
    if await connect.refuse_unless_publisher(db, access, reply, subject.connection_id if subject else 0):
        return
    await connect.send_link(runtime, context, client, db, workspace, person, reply, "",
                            reconnect_id=subject.connection_id if subject else 0)


async def retry_button(ack, context, client, subject, runtime, db, workspace, person, access) -> None:
    """Retry on Home: sent again (the post's status message says so), and Home no longer lists it as failed.
    Only its author, a publisher of its accounts or an admin may (Home has no message to say so in: nothing
    changes)."""
    await posts.retry_button(ack, context, None, subject, runtime, db, workspace, access)
    await publish_home(client, runtime, db, workspace, person, access)
