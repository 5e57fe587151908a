"""The App Home tab, the team's dashboard: actions first (New post, Queue, Connect), then what needs attention
(broken connections, posts waiting for the viewer's approval, failed posts, the viewer's posts not approved in
time), then what is coming up. Setup help
(platforms not set up, the server's check command, Facebook Groups) is for workspace admins only."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from bot import ids
from bot.payloads import HomeWeek
from bot.platforms.registry import FACEBOOK_GROUPS, PLATFORMS
from bot.services.calendar import Week
from bot.services.connections import ConnectionSummary
from bot.services.dashboard import Dashboard, Expired, Failure, Upcoming, Waiting, account_label
from bot.storage.models import ConnectionStatus
from bot.views.blocks import (
    actions,
    button,
    context,
    divider,
    esc,
    header,
    local_date,
    local_time,
    modal,
    section,
    slack_date,
)
from bot.views.calendar import calendar_blocks

PREVIEW = 120  # characters of a post's text shown in a list
BROKEN_SHOWN = 8

PROBLEM_WORDS = {
    ConnectionStatus.EXPIRING: "sign-in runs out soon",
    ConnectionStatus.EXPIRED: "signed out",
    ConnectionStatus.REVOKED: "access withdrawn",
    ConnectionStatus.ERROR: "not working",
}


def preview(text: str) -> str:
    """A post's text on one line, cut to a length a list can show."""
    line = " ".join(text.split())
    return esc(line if len(line) <= PREVIEW else line[:PREVIEW - 1].rstrip() + "…") or "_(no text)_"


def _accounts(accounts: Sequence[str]) -> str:
    return ", ".join(esc(a) for a in accounts) or "no account"


def _more(total: int, shown: int, where: str) -> list[dict]:
    return [context(f"…and {total - shown} more {where}.")] if total > shown else []


# ---- the sections ------------------------------------------------------------------------------------------


def _broken(s: ConnectionSummary, tz: str | None) -> dict:
    problem = PROBLEM_WORDS.get(s.status, "not working")
    if s.status is ConnectionStatus.EXPIRING and s.expires_at:
        problem = f"sign-in runs out on {local_date(s.expires_at, tz)}"
    # Home offers Reconnect only: guidance that says "press Refresh" belongs to the accounts list.
    why = s.guidance if s.guidance and "Refresh" not in s.guidance else "Press Reconnect and sign in again."
    text = f":warning: *{esc(account_label(s.platform.key, s.display_name))}*: {problem}\n{why}"
    return section(text, button("Reconnect", ids.ACCOUNT_RECONNECT, str(s.id), "primary",
                                label=f"Reconnect {account_label(s.platform.key, s.display_name)}"))


def _waiting(item: Waiting, tz: str | None) -> dict:
    when = f"for {slack_date(item.scheduled_at, tz)}" if item.scheduled_at else "to go out as soon as approved"
    where = (f"Approve, ask for changes or reject it on its card in <#{item.card_channel_id}>."
             if item.card_channel_id else "Its review card is on its way.")
    return section(f":hourglass_flowing_sand: *Waiting for your approval*: <@{item.author}>'s post {when} on "
                   f"{_accounts(item.accounts)}\n>{preview(item.text)}\n{where}")


def _failed(item: Failure) -> dict:
    said = f"\n{esc(item.error[:300])}" if item.error else ""
    return section(f":x: *{esc(item.account)}*: not published{said}\n>{preview(item.text)}",
                   button("Retry", ids.POST_RETRY, str(item.target_id), label=f"Retry publishing to {item.account}"))


def _expired(item: Expired, tz: str | None) -> dict:
    when = f" for {slack_date(item.scheduled_at, tz)}" if item.scheduled_at else ""
    return section(f":alarm_clock: *Not approved in time*: your post{when} on {_accounts(item.accounts)} was not "
                   f"published\n>{preview(item.text)}\nReschedule it to send it for approval again.",
                   button("Reschedule", ids.QUEUE_RESCHEDULE, str(item.post_id),
                          label="Reschedule your post that was not approved in time"))


def _untimed(item: Upcoming) -> str:
    return "As soon as it is approved" if item.waiting_for_approval else "As soon as possible"


def _upcoming(item: Upcoming, tz: str | None) -> dict:
    note = " · _waiting for approval_" if item.waiting_for_approval else ""
    when = slack_date(item.when, tz) if item.timed else _untimed(item)
    return section(f"*{when}*{note}\n{_accounts(item.accounts)} · by <@{item.author}>\n"
                   f">{preview(item.text)}")


def _admin_setup(command: str, configured: set[str]) -> list[dict]:
    missing = [p.name for p in PLATFORMS if p.key not in configured]
    lines = []
    if missing:
        lines.append(f"*Not set up on this install yet:* {', '.join(missing)}. Whoever runs Picmim's server adds "
                     "each platform's app keys and restarts it; running `python -m bot check` on the server shows "
                     "what is missing, step by step.")
    else:
        lines.append("Every platform Picmim supports is set up on this install.")
    lines.append(f"Approvals, the alerts channel and who may connect accounts: `{command} settings`. "
                 f"What Picmim asks each platform for, and why: `{command} permissions`.")
    lines.append(f"*{FACEBOOK_GROUPS.name}* cannot be connected: {FACEBOOK_GROUPS.unavailable_reason}")
    return [divider(), header("Setup"), section("\n\n".join(lines)),
            context("Only admins see this part.")]


HOME_BLOCKS = 100  # what App Home holds


def home_view(command: str, board: Dashboard, configured: set[str], tz: str | None, is_admin: bool,
              week: Week | None = None) -> dict:
    """The dashboard; with `week`, the calendar of that week in place of the few posts coming up."""
    blocks: list[dict] = [
        section("*Picmim for Slack*: write, approve and schedule your team's social posts without leaving Slack."),
        actions(button("New post", ids.NEW_POST, style="primary"),
                button("Queue", ids.HOME_QUEUE),
                button("Connect an account", ids.HOME_CONNECT)),
    ]
    if board.connections:
        named = [account_label(s.platform.key, name) for s in board.connections for name, _ in s.accounts]
        blocks.append(context(f"Connected: {_accounts(named) if named else 'no accounts chosen yet'}"))
    else:
        blocks.append(context("No social accounts are connected yet: press *Connect an account* to add the "
                              "first one."))

    blocks += [divider(), header("Needs attention")]
    if board.needs_attention:
        blocks += [_broken(s, tz) for s in board.broken[:BROKEN_SHOWN]]
        blocks += _more(len(board.broken), BROKEN_SHOWN, "connections need reconnecting")
        blocks += [_waiting(item, tz) for item in board.waiting]
        blocks += _more(board.waiting_total, len(board.waiting), "posts are waiting for your approval")
        blocks += [_failed(item) for item in board.failed]
        blocks += _more(board.failed_total, len(board.failed), "failed posts are in their status messages")
        blocks += [_expired(item, tz) for item in board.expired]
        blocks += _more(board.expired_total, len(board.expired), "of your posts were not approved in time; Picmim's "
                        "notice about each has Reschedule")
    else:
        blocks.append(section("Nothing needs your attention: every connection works and nothing failed."))

    tail = (_admin_setup(command, configured) if is_admin else []) + [
        context(f"Everything Picmim does: `{command} help`")]
    if week is not None:
        blocks += calendar_blocks(week, HOME_BLOCKS - len(blocks) - len(tail))
    else:
        blocks += [divider(), header("Coming up")]
        if board.upcoming:
            blocks += [_upcoming(item, tz) for item in board.upcoming]
            blocks += _more(board.upcoming_total, len(board.upcoming), "in the queue: press Queue to see them")
        else:
            blocks.append(section("Nothing is scheduled. Press *New post* to write one."))
    view = {"type": "home", "blocks": blocks + tail}
    if week is not None:
        # The week and account shown, for the buttons that publish Home again (Publish now, Cancel, Retry…); when
        # Home is opened again the account chosen stays chosen and the week starts from today.
        shown = None if week.start == week.today else week.start.isoformat()
        view["private_metadata"] = HomeWeek(shown, week.account_id).encode()
    return view


# ---- the queue, opened from Home ----------------------------------------------------------------------------

QUEUE_LISTED = 20


def _day(when: datetime, tz: str | None) -> str:
    try:
        zone = ZoneInfo(tz) if tz else ZoneInfo("UTC")
    except (KeyError, ValueError):
        zone = ZoneInfo("UTC")
    local = when.astimezone(zone)
    return f"{local:%A} {local.day} {local:%B}"


def queue_modal(command: str, items: Sequence[Upcoming], total: int, tz: str | None) -> dict:
    """The queued posts, soonest first and grouped by day, in the viewer's zone. Changing one happens in
    `/picmim queue`, whose buttons can answer in the channel."""
    blocks: list[dict] = []
    if not items:
        blocks.append(section("Nothing is scheduled or waiting for approval."))
    day = None
    for item in items[:QUEUE_LISTED]:
        if (shown := _day(item.when, tz) if item.timed else "Next") != day:
            day = shown
            blocks.append(section(f"*{day}*"))
        note = " · _waiting for approval_" if item.waiting_for_approval else ""
        hour = local_time(item.when, tz).split(", ")[1] if item.timed else _untimed(item)
        blocks.append(context(f"*{hour}*{note} · {_accounts(item.accounts)} · by <@{item.author}>\n"
                              f"{preview(item.text)}"))
    if total > min(len(items), QUEUE_LISTED):
        blocks.append(context(f"…and {total - min(len(items), QUEUE_LISTED)} more."))
    blocks += [divider(), context(f"To publish a post now, move it, edit it or cancel it, type `{command} queue` "
                                  "in any channel.")]
    return modal("Queue", blocks, close="Close")

