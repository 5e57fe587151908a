"""Block Kit for analytics: the report blocks `/picmim stats` and the digests share, one post's figures,
the digest subscription modal and the list of digests."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from bot import ids
from bot.platforms import registry
from bot.services.analytics import AccountFigures, PostFigures, Report, Value
from bot.services.digests import WEEKDAYS, Schedule
from bot.services.fresh_figures import Freshness
from bot.storage.models import DigestSubscription
from bot.views.blocks import (
    actions,
    button,
    choices,
    confirm_dialog,
    context,
    esc,
    header,
    input_block,
    local_time,
    modal,
    option,
    plain,
    section,
)
from bot.views.zones import zone_select

MESSAGE_BLOCKS = 50  # Slack's limit for a message
UP, DOWN = "▲", "▼"


def number(value: float, rate: bool = False) -> str:
    if rate:
        return f"{value * 100:.1f}%"
    if float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:,.1f}"


NO_COMPARISON = "A figure without a change had no earlier figure to compare."
# What a report leads with on each platform, shown even when it is 0 or missing; another figure is shown only when
# it says something (not 0, or changed). The first figure of a kind of account (its followers) always leads.
HEADLINE: dict[str, frozenset[str]] = {
    "instagram": frozenset({"Followers", "Views", "Reach"}),
    "instagram-login": frozenset({"Followers", "Views", "Reach"}),
    "facebook": frozenset({"Followers", "Views"}),
    "linkedin": frozenset({"Followers", "Impressions"}),
    "x": frozenset({"Followers", "Impressions"}),
    "tiktok": frozenset({"Followers", "Views"}),
    "pinterest": frozenset({"Followers", "Impressions"}),
    "youtube": frozenset({"Subscribers", "Views"}),
    "bluesky": frozenset({"Followers"}),
}
VANITY: dict[str, frozenset[str]] = {"x": frozenset({"Listed"})}  # never worth a line


def shown_values(platform: str, values: Sequence[Value], *, post: bool = False) -> list[Value]:
    """The figures worth a line: the headline ones, and the others when they are not 0 (or changed). A figure the
    platform does not give is named only when it is the first (an account's followers), to say why it is absent."""
    shown = []
    for i, v in enumerate(values):
        if v.label in VANITY.get(platform, ()):
            continue
        headline = i == 0 or (not post and v.label in HEADLINE.get(platform, ()))
        if not v.available:
            if i == 0:
                shown.append(v)
        elif v.value is None or (v.value == 0 and not v.change):
            if headline:
                shown.append(v)
        else:
            shown.append(v)
    return shown


def _uncompared(values: Sequence[Value]) -> bool:
    return any(v.available and v.value is not None and v.change is None for v in values)


def change_text(value: Value) -> str | None:
    """"▲ 5.0% (+60)", "▼ 2.0% (−40)", "no change"; None when there is no earlier figure (said once per report)."""
    change = value.change
    if change is None:
        return None
    if change == 0:
        return "no change"
    arrow = UP if change > 0 else DOWN
    amount = number(abs(change), value.rate)
    sign = "+" if change > 0 else "−"
    if value.rate:
        return f"{arrow} {sign}{amount[:-1]} points"
    percent = value.percent
    return f"{arrow} {abs(percent):.1f}% ({sign}{amount})" if percent is not None else f"{arrow} {sign}{amount}"


def value_line(value: Value) -> str:
    name = f"*{esc(value.label)}*" + (f" ({value.window})" if value.window else "")
    if not value.available:
        return f"{name}: _not available for this account_"
    if value.value is None:
        return f"{name}: _missing_"
    change = change_text(value)
    return f"{name}: {number(value.value, value.rate)}" + (f" · {change}" if change else "")


def period_text(start: datetime, end: datetime, tz: str | None) -> str:
    return f"{local_time(start, tz)} → {local_time(end, tz)}"


def as_of(when: datetime, tz: str | None, today: datetime | None = None) -> str:
    """When figures are from, in the reader's zone: "10:42 (CET)" on the day of `today`, else with the date."""
    full = local_time(when, tz)
    if today is not None and local_time(today, tz).split(",")[0] == full.split(",")[0]:
        return full.split(", ", 1)[1]
    return full


def not_fresher(fresh: Freshness | None, synced_at: datetime | None, tz: str | None,
                today: datetime | None = None) -> str | None:
    """Why the figures are not fresher than they are (None when they are as fresh as Picmim keeps them)."""
    if fresh is None or fresh.reason is None:
        return None
    since = (f"These are the figures from the last sync, {as_of(synced_at, tz, today)}" if synced_at
             else "Picmim has no figures yet")
    again = f" Picmim asks again after {as_of(fresh.held_until, tz, today)}." if fresh.held_until else ""
    return f"{since}: {esc(fresh.reason)}{again}"


WAITED_OUT = ("Not every platform answered within a few seconds: these are the latest figures Picmim has (it keeps "
              "what comes later); ask again in a minute for fresher ones.")


def _post_waited_out(platform: str) -> str:
    return (f"{esc(platform)} did not answer within a few seconds: these are the latest figures Picmim has (it keeps "
            "what comes later); ask again in a minute for fresher ones.")


def _account_block(account: AccountFigures, tz: str | None, reconnect_id: int | None = None,
                   fresh: Freshness | None = None, today: datetime | None = None) -> list[dict]:
    who = f"*{esc(account.name)}*" + (f" @{esc(account.handle.lstrip('@'))}" if account.handle else "")
    why = not_fresher(fresh, account.synced_at, tz, today)
    if account.not_synced:
        # Every figure is missing: one line says so and why, with the button that mends a broken connection.
        since = (f"Not synced since {local_time(account.synced_at, tz)}" if account.synced_at
                 else "Not synced yet")
        reason = f" {esc(account.problem)}" if account.problem else ""
        if why and not reconnect_id:
            reason = f" {why}"
        fix = button("Reconnect", ids.ACCOUNT_RECONNECT, str(reconnect_id), "primary",
                     label=f"Reconnect {account.platform_name} · {account.name}") if reconnect_id else None
        return [section(f"{who}\n:warning: {since}: figures for this period are missing.{reason}", fix)]
    if account.synced_at is not None:
        who += f" · as of {as_of(account.synced_at, tz, today)}"
    lines = [who, *(value_line(v) for v in shown_values(account.platform, account.values))]
    blocks = [section("\n".join(lines))]
    if why:  # says what the account's last problem would say, with when the figures are from
        blocks.append(context(f":hourglass: {why}"))
    elif account.problem:
        blocks.append(context(f":warning: {esc(account.problem)}"))
    return blocks


def _post_line(post: PostFigures, tz: str | None) -> str:
    title = esc(post.preview) or "(no text)"
    link = f"<{post.url}|{title}>" if post.url else title
    shown = [v for v in shown_values(post.platform, post.values, post=True) if v.available and v.value is not None]
    figures = " · ".join(f"{esc(v.label)} {number(v.value, v.rate)}" for v in shown) or "_no figures yet_"
    gained = f" · *+{number(post.gained)}* interactions in this period" if post.gained else ""
    return f"{link}\n{esc(post.platform_name)} · {esc(post.account_name)} — {figures}{gained}"


def report_blocks(report: Report, tz: str | None, title: str, *, compared_with: str,
                  share_value: str | None = None, chart_note: str | None = None,
                  reconnect: Mapping[int, int] | None = None, freshness: Mapping[int, Freshness] | None = None,
                  waited_out: bool = False, thumbnails: Mapping[int, str] | None = None) -> list[dict]:
    """The figures per platform and account, the top posts and (as a note) what the chart shows. `reconnect`: the
    connection to reconnect for each account whose connection is broken (account id -> connection id).
    `freshness`: how fresh each account's figures are after asking its platform (`/picmim stats`); `waited_out`:
    the platforms did not answer in time. `thumbnails`: a picture link per top post (target id) that has one."""
    reconnect, freshness = reconnect or {}, freshness or {}
    uncompared = any(_uncompared(shown_values(a.platform, a.values)) for a in report.accounts if not a.not_synced)
    head = [header(title, emoji=True),
            context(f"{period_text(report.start, report.end, tz)} · changes against {compared_with}. "
                    "Figures carry each platform's own names." + (f" {NO_COMPARISON}" if uncompared else "")
                    + (f" {WAITED_OUT}" if waited_out else ""))]
    tail: list[dict] = []
    pictured = thumbnails and any(p.target_id in thumbnails for p in report.top_posts)
    if report.top_posts and pictured:  # one section per post, its picture beside it
        tail.append(section("*Top posts sent with Picmim*"))
        for i, p in enumerate(report.top_posts, 1):
            picture = thumbnails.get(p.target_id)
            beside = ({"type": "image", "image_url": picture, "alt_text": (p.preview or "The post's picture")[:2000]}
                      if picture else None)
            tail.append(section(f"{i}. {_post_line(p, tz)}", beside))
    elif report.top_posts:
        tail.append(section("*Top posts sent with Picmim*\n" + "\n".join(
            f"{i}. {_post_line(p, tz)}" for i, p in enumerate(report.top_posts, 1))))
    elif report.accounts:
        tail.append(context("No post sent with Picmim gained likes, comments or shares in this period."))
    if chart_note:
        tail.append(context(chart_note))
    if share_value:
        tail.append(_share(share_value))
    if not report.accounts:
        return head + [section("No accounts to report on: connect one with `/picmim connect`, or choose "
                               "others for this digest.")] + tail
    body: list[dict] = []
    room = MESSAGE_BLOCKS - len(head) - len(tail) - 1  # one kept for "and N more"
    platform, shown = None, 0
    for account in report.accounts:
        blocks = _account_block(account, tz, reconnect.get(account.account_id), freshness.get(account.account_id),
                                report.end)
        if account.platform != platform:
            blocks = [header(account.platform_name, emoji=True), *blocks]
        if len(body) + len(blocks) > room:
            break
        body.extend(blocks)
        platform, shown = account.platform, shown + 1
    if shown < len(report.accounts):
        left = len(report.accounts) - shown
        body.append(context(f"…and {left} more account{'s' * (left != 1)}: ask `/picmim stats <account>` "
                            "for each."))
    return head + body + tail


def report_text(report: Report, title: str, tz: str | None) -> str:
    """The notification text of a report message."""
    return f"{title}: {_accounts(len(report.accounts))}, {period_text(report.start, report.end, tz)}"


def _accounts(n: int) -> str:
    return f"{n} account" + ("s" if n != 1 else "")


def post_blocks(post: PostFigures, tz: str | None, days: int, share_value: str | None = None, *,
                freshness: Freshness | None = None, waited_out: bool = False) -> list[dict]:
    """One post's figures, as of their time; `freshness` says why they are not fresher when the platform could
    not be asked (`waited_out`: it did not answer in time)."""
    title = esc(post.preview) or "(no text)"
    link = f"<{post.url}|{title}>" if post.url else title
    published = f" · published {local_time(post.published_at, tz)}" if post.published_at else ""
    blocks: list[dict] = [header("Post stats", emoji=True),
                          section(f"{link}\n{esc(post.platform_name)} · {esc(post.account_name)}{published}")]
    why = not_fresher(freshness, post.synced_at, tz)
    if post.synced_at is None:
        if why:
            said = why
        elif waited_out:
            said = (f"Picmim has no figures for this post yet: {esc(post.platform_name)} did not answer within a "
                    "few seconds. Ask again in a minute.")
        else:
            said = (f"Picmim has no figures for this post yet: {esc(post.platform_name)} has not given any for it "
                    "(was it deleted there?).")
        blocks.append(section(f"_{said}_"))
    else:
        values = shown_values(post.platform, post.values, post=True)
        blocks.append(section("\n".join(value_line(v) for v in values) or "_No figures._"))
        blocks.append(context(f"Figures as of {local_time(post.synced_at, tz)}, changes against {days} days "
                              "earlier. Figures carry the platform's own names."
                              + (f" {NO_COMPARISON}" if _uncompared(values) else "")))
        if why:
            blocks.append(context(f":hourglass: {why}"))
        elif waited_out:
            blocks.append(context(f":hourglass: {_post_waited_out(post.platform_name)}"))
    if share_value:
        blocks.append(_share(share_value))
    return blocks


def _share(value: str) -> dict:
    return actions(button("Share in channel", ids.STATS_SHARE, value, emoji=True))


# ---- digests ----------------------------------------------------------------------------------------------


def _select(block_id: str, label: str, hint: str, element: dict) -> dict:
    """One of the digest modal's optional choices."""
    return input_block(block_id, label, element, optional=True, hint=hint, hint_first=True, emoji=True)


def subscribe_modal(channel_id: str | None, tz: str, accounts: Sequence[tuple[int, str]],
                    platforms: Sequence[registry.PlatformInfo], metadata: str) -> dict:
    channel = {"type": "conversations_select", "action_id": ids.DIGEST_CHANNEL_INPUT,
               "filter": {"include": ["public", "private"], "exclude_bot_users": True}}
    if channel_id and channel_id[:1] in ("C", "G"):
        channel["initial_conversation"] = channel_id
    frequencies = [option(name, value, emoji=True)
                   for name, value in (("Daily", "daily"), ("Weekly", "weekly"), ("Monthly", "monthly"))]
    weekdays = [option(name, str(i), emoji=True) for i, name in enumerate(WEEKDAYS)]
    days = [option(str(d), str(d), emoji=True) for d in range(1, 32)]
    blocks = [
        input_block(ids.DIGEST_CHANNEL_BLOCK, "Channel", channel, emoji=True,
                    hint="Invite @Picmim to a private channel first; in any channel it attaches the chart once "
                         "invited."),
        input_block(ids.DIGEST_FREQUENCY_BLOCK, "How often",
                    choices("static_select", ids.DIGEST_FREQUENCY_INPUT, frequencies, initial=frequencies[1]),
                    emoji=True),
        _select(ids.DIGEST_WEEKDAY_BLOCK, "Day of the week", "For weekly digests.",
                choices("static_select", ids.DIGEST_WEEKDAY_INPUT, weekdays, initial=weekdays[0])),
        _select(ids.DIGEST_DAY_BLOCK, "Day of the month",
                "For monthly digests. In shorter months, 29–31 means the month's last day.",
                choices("static_select", ids.DIGEST_DAY_INPUT, days, initial=days[0])),
        input_block(ids.DIGEST_TIME_BLOCK, "Time",
                    {"type": "timepicker", "action_id": ids.DIGEST_TIME_INPUT, "initial_time": "09:00"}, emoji=True),
        input_block(ids.DIGEST_ZONE_BLOCK, "Time zone", zone_select(ids.DIGEST_ZONE_INPUT, tz, emoji=True),
                    hint="The channel's zone: the digest arrives at the time above in it. Yours is chosen.",
                    hint_first=True, emoji=True),
    ]
    if accounts:
        blocks.append(_select(ids.DIGEST_ACCOUNTS_BLOCK, "Accounts", "Leave empty for every connected account.",
                              choices("multi_static_select", ids.DIGEST_ACCOUNTS_INPUT,
                                      [option(label, str(i), emoji=True) for i, label in accounts[:100]],
                                      placeholder="All accounts", emoji=True)))
    else:
        blocks.append(context("No accounts are connected yet: the digest covers them as you connect them "
                              "(`/picmim connect`)."))
    blocks.append(_select(ids.DIGEST_PLATFORMS_BLOCK, "Platforms",
                          "Only these platforms' accounts. Leave empty for all.",
                          choices("multi_static_select", ids.DIGEST_PLATFORMS_INPUT,
                                  [option(p.name, p.key, emoji=True) for p in platforms],
                                  placeholder="All platforms", emoji=True)))
    return modal("Analytics digest", blocks, callback_id=ids.DIGEST_SUBSCRIBE_VIEW, submit="Subscribe", close="Cancel",
                 private_metadata=metadata[:3000], emoji=True)


def scope_text(sub: DigestSubscription, names: Mapping[int, str]) -> str:
    parts = []
    if sub.account_ids:
        parts.append(", ".join(esc(names.get(i, "an account no longer connected")) for i in sub.account_ids))
    if sub.platforms:
        parts.append("on " + ", ".join(esc(registry.get(p).name if registry.get(p) else p) for p in sub.platforms))
    return " ".join(parts) or "every connected account"


def in_zone(when: datetime, zone: str) -> str:
    """A digest's time on its own wall clock, saying which: "8 Dec 2026, 09:00 (Europe/Madrid time)"."""
    return local_time(when, zone).rsplit(" (", 1)[0] + f" ({zone} time)"


def subscribed_text(sub: DigestSubscription, names: Mapping[int, str], created: bool,
                    viewer_tz: str | None = None) -> str:
    """(Times are in the digest's own zone, as its schedule is: `viewer_tz` is not used.)"""
    what = "Digest set up" if created else "This digest already exists"
    return (f"{what}: {Schedule.of(sub).describe()} in <#{sub.channel_id}>, for {scope_text(sub, names)}. "
            f"The first one arrives {in_zone(sub.next_run_at, sub.timezone)}. Invite @Picmim to the channel "
            "(`/invite @Picmim`) so the chart comes with it.")


def digest_list(subs: Sequence[DigestSubscription], names: Mapping[int, str], viewer_tz: str | None,
                note: str = "") -> list[dict]:
    """`note` is Picmim's own sentence (its channel and user mentions must stay links), never a platform's text.
    Each digest's next and last runs are in its own zone, as its schedule is (`viewer_tz` is not used)."""
    blocks: list[dict] = [header("Analytics digests", emoji=True)]
    if note:
        blocks.append(context(note))
    if not subs:
        blocks.append(section("No digests yet. Set one up with `/picmim digest subscribe`."))
        return blocks
    for sub in subs[:24]:  # two blocks each within Slack's 50
        lines = [f"<#{sub.channel_id}> · {Schedule.of(sub).describe()}", f"For {scope_text(sub, names)}"]
        if sub.next_run_at:
            lines.append(f"Next: {in_zone(sub.next_run_at, sub.timezone)}"
                         + (f" · last: {in_zone(sub.last_run_at, sub.timezone)}" if sub.last_run_at else ""))
        if sub.last_error:
            lines.append(f":warning: {esc(sub.last_error)}")
        stop = confirm_dialog("Stop this digest?", f"<#{sub.channel_id}> will get no more digests.", "Unsubscribe",
                              emoji=True)
        # (its style before its action_id, as it has always been sent, unlike blocks.button's)
        unsubscribe = {"type": "button", "text": plain("Unsubscribe", emoji=True), "style": "danger",
                       "action_id": ids.DIGEST_UNSUBSCRIBE, "value": str(sub.id), "confirm": stop}
        blocks.append(section("\n".join(lines), unsubscribe, block_id=f"digest_{sub.id}"))
    blocks.append(context("Set up another with `/picmim digest subscribe`."))
    return blocks
