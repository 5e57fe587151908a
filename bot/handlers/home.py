"""App Home, the team's dashboard (refreshed each time it is opened), and its buttons: New post, Queue, and
Reconnect, Retry and Reschedule pressed on Home (the same buttons elsewhere are bot/handlers/connect.py's,
posts.py's and queue.py's; on Home there is no message to answer in, so the answer opens in a modal and Home is
refreshed, on the week and account the viewer had)."""

from __future__ import annotations

import logging
from dataclasses import replace

from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError

from bot import ids
from bot.handlers import connect, posts, queue
from bot.handlers.approvals import reviewer_of
from bot.handlers.compose import open_compose
from bot.handlers.usergroups import group_members
from bot.payloads import ComposeOrigin, HomePost, HomeWeek, RescheduleOrigin
from bot.services import approvals, calendar, dashboard, roles
from bot.services import queue as queue_service
from bot.services.approvals import Reviewer
from bot.services.composing import Composition
from bot.services.publishing import target_lines
from bot.slack_errors import error_of, unavailable
from bot.storage.models import utcnow
from bot.views import connect as connect_views
from bot.views import queue as queue_views
from bot.views.blocks import modal, section
from bot.views.calendar import post_modal
from bot.views.home import home_view, queue_modal

log = logging.getLogger(__name__)


async def on_home(body) -> bool:
    """The button was pressed on the App Home tab."""
    return (body.get("view") or {}).get("type") == "home"


async def in_post_details(body) -> bool:
    """The button was pressed in a post's details opened from Home's calendar (a modal: no message to answer in)."""
    return (body.get("view") or {}).get("callback_id") == ids.HOME_POST_VIEW


async def rescheduled_from_home(body) -> bool:
    """The queue's Reschedule window, opened from Home (or a post's details there): Home is published again."""
    origin = RescheduleOrigin.decode((body.get("view") or {}).get("private_metadata"))
    return origin is not None and origin.home is not None


def shown_week(body) -> HomeWeek:
    """The week and account the viewer's Home showed when they pressed a button on it (Home keeps them in its
    metadata), or a post's details opened from it."""
    view = body.get("view") or {}
    if view.get("callback_id") == ids.HOME_POST_VIEW:
        details = HomePost.decode(view.get("private_metadata"))
        return details.week if details else HomeWeek()
    return HomeWeek.decode(view.get("private_metadata")) or HomeWeek()


def register(app: AsyncApp) -> None:
    app.event("app_home_opened")(opened)
    app.action(ids.NEW_POST)(new_post_button)
    app.action(ids.HOME_QUEUE)(queue_button)
    app.action(ids.HOME_DAY_MORE)(queue_button)
    for action_id in (ids.HOME_WEEK_PREVIOUS, ids.HOME_WEEK_NEXT, ids.HOME_WEEK_THIS, ids.HOME_ACCOUNT_FILTER):
        app.action(action_id)(week_chosen)
    app.action(ids.HOME_POST_OPEN)(post_details_button)
    # The queue's buttons in a post's details: answered in the modal (the queue's own answer in its listing).
    app.action(ids.QUEUE_PUBLISH_NOW, matchers=[in_post_details])(details_change_button)
    app.action(ids.QUEUE_CANCEL, matchers=[in_post_details])(details_change_button)
    app.action(ids.QUEUE_RESCHEDULE, matchers=[in_post_details])(reschedule_button)
    app.action(ids.QUEUE_RESCHEDULE, matchers=[on_home])(reschedule_button)  # a post not approved in time
    app.view(ids.QUEUE_RESCHEDULE_VIEW, matchers=[rescheduled_from_home])(reschedule_submitted)
    # Before connect's and posts' own listeners (this module is registered first): bolt runs the first match.
    app.action(ids.ACCOUNT_RECONNECT, matchers=[on_home])(reconnect_button)
    app.action(ids.POST_RETRY, matchers=[on_home])(retry_button)


async def opened(event, client, runtime, db, workspace, person, access) -> None:
    if event.get("tab") != "home":
        return
    # The account the calendar was filtered to stays chosen; the week starts from today again.
    shown = HomeWeek.decode((event.get("view") or {}).get("private_metadata")) if isinstance(
        event.get("view"), dict) else None
    kept = HomeWeek(None, shown.account_id if shown else None)
    await publish_home(client, runtime, db, workspace, person, access, kept)


async def week_chosen(ack, subject, client, runtime, db, workspace, person, access) -> None:
    """Previous week, This week, Next week, or an account chosen in the filter: Home shows that."""
    await ack()
    await publish_home(client, runtime, db, workspace, person, access, subject or HomeWeek())


async def _calendar(session, here, who, rights, chosen: HomeWeek) -> calendar.Week:
    """The week this person asked for, with only the accounts (and posts) they may see."""
    zone_name = who.tz or here.default_timezone or "UTC"
    zone = calendar.zone_of(zone_name)
    today = calendar.today_in(zone, utcnow())
    start = chosen.first_day or today
    accounts = await calendar.account_choices(session, here.id)
    if rights.rules.any_roles:
        seen = set(rights.visible([a for a, _ in accounts]))
        accounts = [(a, name) for a, name in accounts if a in seen]
    account_id = chosen.account_id if chosen.account_id in {a for a, _ in accounts} else None
    first, last = calendar.bounds(start, zone)
    found = await calendar.posts_between(session, here.id, first, last, account_id)
    if rights.rules.any_roles:
        seen = await roles.visible_posts(session, rights, [p.post_id for p in found])
        found = [p for p in found if p.post_id in seen]
    return calendar.Week(start, zone.key, calendar.by_day(found, start, zone), tuple(accounts), account_id, today)


async def _seen(session, board: dashboard.Dashboard, access, workspace_id: int) -> dashboard.Dashboard:
    """With roles set: only what concerns the accounts this person may see."""
    if not access.rules.any_roles:
        return board
    posts = await roles.visible_posts(session, access, list({i.post_id for i in (
        *board.waiting, *board.failed, *board.upcoming, *board.expired)}))
    hidden = await roles.hidden_connections(session, access, workspace_id)
    upcoming = [u for u in board.upcoming if u.post_id in posts]
    waiting = [w for w in board.waiting if w.post_id in posts]
    expired = [e for e in board.expired if e.post_id in posts]
    return replace(board, connections=[c for c in board.connections if c.id not in hidden],
                   broken=[c for c in board.broken if c.id not in hidden], waiting=waiting,
                   waiting_total=board.waiting_total - (len(board.waiting) - len(waiting)),
                   failed=[f for f in board.failed if f.post_id in posts],
                   expired=expired, expired_total=board.expired_total - (len(board.expired) - len(expired)),
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


async def publish_home(client, runtime, db, workspace, person, access, week: HomeWeek | None = None) -> None:
    here, who, rights = await workspace(), await person(), await access()
    reviews = approvals.may_review(here, await reviewer_of(client, workspace, person, access))
    own_reviews = any(g.reviews for g in rights.rules.groups.values())  # groups with approvers of their own
    async with db() as session:
        board = await dashboard.dashboard(session, runtime.adapters, here, who.user_id, reviews or own_reviews,
                                          utcnow())
        if own_reviews:
            board = await _reviewed_by(session, client, here, rights, who, reviews, board)
        board = await _seen(session, board, rights, here.id)
        shown = await _calendar(session, here, who, rights, week or HomeWeek())
    view = home_view(ids.COMMAND, board, set(runtime.adapters), who.tz, rights.is_admin, shown)
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


async def retry_button(ack, body, context, client, subject, runtime, db, workspace, person, access) -> None:
    """Retry on Home: sent again (the post's status message says so), and Home no longer lists it as failed.
    Only its author, a publisher of its accounts or an admin may (Home has no message to say so in: nothing
    changes)."""
    await posts.retry_button(ack, context, None, subject, runtime, db, workspace, access)
    await publish_home(client, runtime, db, workspace, person, access, shown_week(body))


# ---- a post's details, from the calendar --------------------------------------------------------------------


async def _details(db, workspace, person, access, post_id: int | None, home: HomeWeek, note: str = ""
                   ) -> dict | None:
    """The details modal of a post this person may see (None: gone, or not theirs to see)."""
    here, who, rights = await workspace(), await person(), await access()
    async with db() as session:
        post = await queue_service.queued_post(session, here.id, post_id) if post_id is not None else None
        if post is None or not await roles.visible_posts(session, rights, [post.id]):
            return None
        may_change = bool(await roles.changeable_posts(session, rights, [(post.id, post.author_user_id)]))
        lines = await target_lines(session, post.id)
    return post_modal(post.id, post.author_user_id, post.text or "", post.status, post.scheduled_at or post.created_at,
                      who.tz or here.default_timezone or "UTC", lines, may_change, note,
                      timed=post.scheduled_at is not None, home=home)


async def post_details_button(ack, body, client, subject, db, workspace, person, access) -> None:
    await ack()
    view = await _details(db, workspace, person, access, subject.post_id if subject else None, shown_week(body))
    if view is None:
        view = modal("Post", [section("This post is no longer there, or it is not yours to see.")], close="Close")
    try:
        await client.views_open(trigger_id=body["trigger_id"], view=view)
    except SlackApiError as exc:
        if unavailable(exc):
            raise  # Slack failing for now: the person is told so (failures.py)
        log.warning("Could not open a post's details: %s", error_of(exc))


CHANGES = {ids.QUEUE_PUBLISH_NOW: (queue_service.publish_now, "Publishing now: its status message follows it."),
           ids.QUEUE_CANCEL: (queue_service.cancel, "Cancelled: it will not be published.")}


async def details_change_button(ack, body, context, client, subject, runtime, db, workspace, person, access) -> None:
    """Publish now or Cancel in a post's details: done as in the queue, said in the modal, and Home refreshed."""
    await ack()
    change, done = CHANGES[body["actions"][0]["action_id"]]

    async def apply(session, post, now) -> str:
        await change(session, post, now, actor=context.user_id)
        return done

    post_id = subject.post_id if subject else None
    home = shown_week(body)
    _changed, note = await queue.apply_change(runtime, db, workspace, access, post_id, apply)
    view = await _details(db, workspace, person, access, post_id, home, note)
    if view is not None:
        try:
            await client.views_update(view_id=body["view"]["id"], view=view)
        except SlackApiError as exc:
            log.info("Could not update a post's details: %s", error_of(exc))
    await publish_home(client, runtime, db, workspace, person, access, home)


async def reschedule_button(ack, body, client, subject, db, workspace, access) -> None:
    """Reschedule in a post's details (over them) or under a post not approved in time on Home: the queue's window,
    which publishes Home again, on the same week and account, once saved."""
    await ack()
    async with db() as session:
        post = await queue_service.queued_post(session, (await workspace()).id, subject.post_id) if subject else None
        if post is not None and post.status not in queue.RESCHEDULABLE:
            post = None
        problem = await queue.refusal(session, post, access)
    in_details = await in_post_details(body)
    if problem and in_details:
        return  # the details already show no buttons to those who may not use them
    # Home has no message to answer in: why not is said in a small window.
    view = modal("Reschedule", [section(problem)], close="Close") if problem else queue_views.reschedule_modal(
        post.id, post.scheduled_at, None, shown_week(body))
    try:
        if in_details:
            await client.views_push(trigger_id=body["trigger_id"], view=view)
        else:
            await client.views_open(trigger_id=body["trigger_id"], view=view)
    except SlackApiError as exc:
        if unavailable(exc):
            raise
        log.warning("Could not open the reschedule window: %s", error_of(exc))


async def reschedule_submitted(ack, view, context, subject, client, runtime, db, workspace, person, access) -> None:
    """The queue's Reschedule window opened from Home, saved: moved as from the queue, and Home published again on
    the week and account the viewer had (a post not approved in time leaves Needs attention)."""
    if await queue.reschedule_submitted(ack, view, context, subject, runtime, db, workspace, person, access):
        await publish_home(client, runtime, db, workspace, person, access, subject.home)
