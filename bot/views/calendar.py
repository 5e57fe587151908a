"""Home's calendar (a week of posts, day by day, in the viewer's zone, with previous/next week and a filter by
account) and a post's details opened from it, with the queue's buttons. Home holds 100 blocks: a week too full for
the blocks left is cut evenly per day, each cut day saying "+ 12 more on Tuesday" with a button to the queue."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta

from bot import ids
from bot.payloads import HomePost, HomeWeek, PostRef
from bot.services.calendar import CalendarPost, Week, zone_of
from bot.services.publishing import TargetLine
from bot.storage.models import PostStatus, TargetStatus
from bot.views.blocks import (
    actions,
    button,
    choices,
    confirm_dialog,
    context,
    divider,
    esc,
    header,
    modal,
    option,
    section,
)

PREVIEW = 90
FILTER_SHOWN = 99  # a static select holds 100 options: "All accounts" and 99 accounts
STATUS_WORDS = {
    PostStatus.PENDING_APPROVAL: ":hourglass: Waiting for approval",
    PostStatus.SCHEDULED: ":calendar: Scheduled",
    PostStatus.PUBLISHING: ":arrows_counterclockwise: Publishing",
    PostStatus.PUBLISHED: ":white_check_mark: Published",
    PostStatus.FAILED: ":x: Not published",
    PostStatus.EXPIRED: ":alarm_clock: Not approved in time",
    PostStatus.CANCELLED: ":no_entry_sign: Cancelled",
    PostStatus.DRAFT: ":memo: Back in its author's drafts",
}
TARGET_WORDS = {
    TargetStatus.PENDING: "waiting", TargetStatus.SCHEDULED: "scheduled", TargetStatus.HELD: "held: its sign-in broke",
    TargetStatus.PUBLISHING: "publishing…", TargetStatus.PUBLISHED: "published", TargetStatus.FAILED: "not published",
    TargetStatus.UNCONFIRMED: "not sure it went out: see its status message", TargetStatus.CANCELLED: "cancelled",
}


def _preview(text: str, limit: int = PREVIEW) -> str:
    line = " ".join(text.split())
    return esc(line if len(line) <= limit else line[:limit - 1].rstrip() + "…") or "_(no text)_"


def day_name(day: date) -> str:
    return f"{day:%A} {day.day} {day:%B}"


def _hour(when: datetime, zone: str) -> str:
    return when.astimezone(zone_of(zone)).strftime("%H:%M")


def _post_line(post: CalendarPost, zone: str) -> dict:
    platforms = ", ".join(esc(p) for p in post.platforms) or "no account"
    # A post waiting for approval with no time of its own goes out once approved, whenever that is.
    when = "As soon as it is approved" if post.status is PostStatus.PENDING_APPROVAL and not post.timed else \
        _hour(post.when, zone)
    return section(f"*{when}* · {STATUS_WORDS.get(post.status, esc(post.status.value))} · "
                   f"{platforms}\n{_preview(post.text)} · by <@{post.author}>",
                   button("Details", ids.HOME_POST_OPEN, PostRef(post.post_id).encode(),
                          label=f"Details of the post at {_hour(post.when, zone)}"))


def _navigation(week: Week) -> dict:
    start = week.start
    elements = [button("← Previous week", ids.HOME_WEEK_PREVIOUS,
                       HomeWeek((start - timedelta(days=7)).isoformat(), week.account_id).encode())]
    if week.today is not None and start != week.today:
        elements.append(button("This week", ids.HOME_WEEK_THIS, HomeWeek(None, week.account_id).encode()))
    elements.append(button("Next week →", ids.HOME_WEEK_NEXT,
                           HomeWeek((start + timedelta(days=7)).isoformat(), week.account_id).encode()))
    if week.accounts:
        everything = option("All accounts", HomeWeek(start.isoformat(), None).encode())
        offered = [everything] + [option(name[:75], HomeWeek(start.isoformat(), account_id).encode())
                                  for account_id, name in week.accounts[:FILTER_SHOWN]]
        chosen = next((o for o, (a, _) in zip(offered[1:], week.accounts, strict=False) if a == week.account_id),
                      everything)
        elements.append(choices("static_select", ids.HOME_ACCOUNT_FILTER, offered, placeholder="Account",
                                initial=chosen))
    return actions(*elements, block_id="home_calendar")


def _cap(days: Sequence[tuple[date, Sequence[CalendarPost]]], room: int) -> int | None:
    """Posts shown per day so that the week fits in `room` blocks (None: all of them)."""
    full = [len(posts) for _, posts in days if posts]
    if sum(full) + len(full) <= room:
        return None
    for cap in range(max(full, default=0), -1, -1):
        if sum(min(n, cap) + 1 + (n > cap) for n in full) <= room:
            return cap
    return 0


def calendar_blocks(week: Week, room: int) -> list[dict]:
    """The calendar in at most `room` blocks (at least 20 are needed for a full week cut to nothing per day)."""
    last = week.start + timedelta(days=6)
    chosen = next((name for a, name in week.accounts if a == week.account_id), None)
    blocks = [divider(), header("Calendar"), _navigation(week),
              context(f"{day_name(week.start)} – {day_name(last)}{f' · {esc(chosen)} only' if chosen else ''} · "
                      f"times in your time zone ({esc(week.zone)})")]
    if not week.total:
        where = f" for {esc(chosen)}" if chosen else ""
        blocks.append(section(f"Nothing planned this week{where}. Press *New post* to write one."))
        return blocks
    room -= len(blocks) + 1  # and the line naming the empty days
    cap = _cap(week.days, room)
    empty = []
    for day, posts in week.days:
        if not posts:
            empty.append(f"{day:%A}")
            continue
        today = " · today" if day == week.today else ""
        blocks.append(context(f"*{day_name(day)}*{today} · {len(posts)} post{'s' if len(posts) != 1 else ''}"))
        shown = posts if cap is None else posts[:cap]
        blocks += [_post_line(post, week.zone) for post in shown]
        if len(shown) < len(posts):
            blocks.append(section(f"+ {len(posts) - len(shown)} more on {day:%A}",
                                  button("Open the queue", ids.HOME_DAY_MORE, day.isoformat())))
    if empty:
        blocks.append(context(f"Nothing planned on {', '.join(empty)}."))
    return blocks


# ---- a post's details --------------------------------------------------------------------------------------


def post_modal(post_id: int, author: str, text: str, status: PostStatus, when: datetime, zone: str,
               lines: Sequence[TargetLine], may_change: bool, note: str = "", timed: bool = True,
               home: HomeWeek | None = None) -> dict:
    """What a post is, where it goes and where it stands; the queue's buttons while it can still change (and the
    viewer may change it). Not `timed`: it goes (or went) out as soon as it could. `home`: the week and account Home
    showed, kept for when Home is published again after a change."""
    local = when.astimezone(zone_of(zone))
    blocks: list[dict] = []
    if note:
        blocks.append(context(esc(note)))
    at = f"{day_name(local.date())} at {local:%H:%M} ({esc(zone)})"
    if not timed and status is PostStatus.PENDING_APPROVAL:
        at = "as soon as it is approved"
    blocks += [section(f"*{STATUS_WORDS.get(status, esc(status.value))}* · {at}"),
               context(f"By <@{author}>")]
    for line in lines[:20]:
        state = TARGET_WORDS.get(line.status, line.status.value)
        if line.status is TargetStatus.PUBLISHED and line.url:
            state = f"<{line.url}|published: view the post>"
        detail = f" · {esc(line.detail[:300])}" if line.detail and line.status is TargetStatus.FAILED else ""
        blocks.append(context(f"*{esc(line.platform_name)}* · {esc(line.account_name)}: {state}{detail}"))
    quoted = "\n".join(">" + part for part in esc(text.strip()[:2800]).split("\n")) if text.strip() else "_(no text)_"
    blocks.append(section(quoted))
    buttons = _buttons(post_id, status) if may_change else []
    if buttons:
        blocks += [divider(), actions(*buttons, block_id=f"home_post_{post_id}")]
    elif status in (PostStatus.SCHEDULED, PostStatus.PENDING_APPROVAL, PostStatus.EXPIRED):
        blocks.append(context("Only its author, a publisher of all its accounts or an admin can change it."))
    return modal("Post", blocks, callback_id=ids.HOME_POST_VIEW, close="Close", emoji=True,
                 private_metadata=HomePost(post_id, home.week_start if home else None,
                                           home.account_id if home else None).encode())


def _buttons(post_id: int, status: PostStatus) -> list[dict]:
    value = str(post_id)
    if status is PostStatus.EXPIRED:
        return [button("Reschedule", ids.QUEUE_RESCHEDULE, value, "primary", emoji=True)]
    if status not in (PostStatus.SCHEDULED, PostStatus.PENDING_APPROVAL):
        return []
    found = []
    if status is PostStatus.SCHEDULED:  # one that waits for approval is published once it is approved
        found.append(button("Publish now", ids.QUEUE_PUBLISH_NOW, value, "primary", emoji=True,
                            confirm=confirm_dialog("Publish this post now?", "It goes out to all of its accounts "
                                                   "right away, instead of at its scheduled time.", "Publish now",
                                                   "Not yet", emoji=True)))
    found += [button("Edit", ids.QUEUE_EDIT, value, emoji=True),
              button("Reschedule", ids.QUEUE_RESCHEDULE, value, emoji=True),
              button("Cancel", ids.QUEUE_CANCEL, value, "danger", emoji=True,
                     confirm=confirm_dialog("Cancel this post?", "It will not be published to any of its accounts.",
                                            "Cancel post", emoji=True))]
    return found
