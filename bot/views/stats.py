"""Block Kit for analytics: the report blocks `/picmim stats` and the digests share, one post's figures,
the digest subscription modal and the list of digests."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from bot import ids
from bot.platforms import registry
from bot.services.analytics import AccountFigures, PostFigures, Report, Value
from bot.services.digests import WEEKDAYS, Schedule
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

MESSAGE_BLOCKS = 50  # Slack's limit for a message
UP, DOWN = "▲", "▼"


def number(value: float, rate: bool = False) -> str:
    if rate:
        return f"{value * 100:.1f}%"
    if float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:,.1f}"


def change_text(value: Value) -> str:
    """"▲ 5.0% (+60)", "▼ 2.0% (−40)", "no change" — or why there is no comparison."""
    change = value.change
    if change is None:
        return "no earlier figure to compare"
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
    return f"{name}: {number(value.value, value.rate)} · {change_text(value)}"


def period_text(start: datetime, end: datetime, tz: str | None) -> str:
    return f"{local_time(start, tz)} → {local_time(end, tz)}"


def _account_block(account: AccountFigures, tz: str | None) -> list[dict]:
    who = f"*{esc(account.name)}*" + (f" @{esc(account.handle.lstrip('@'))}" if account.handle else "")
    lines = [who, *(value_line(v) for v in account.values)]
    blocks = [section("\n".join(lines))]
    if account.not_synced:
        since = (f"Not synced since {local_time(account.synced_at, tz)}" if account.synced_at
                 else "Not synced yet")
        reason = f" {esc(account.problem)}" if account.problem else ""
        blocks.append(context(f":warning: {since}: figures for this period are missing.{reason}"))
    elif account.problem:
        blocks.append(context(f":warning: {esc(account.problem)}"))
    return blocks


def _post_line(post: PostFigures, tz: str | None) -> str:
    title = esc(post.preview) or "(no text)"
    link = f"<{post.url}|{title}>" if post.url else title
    shown = [v for v in post.values if v.available and v.value is not None]
    figures = " · ".join(f"{esc(v.label)} {number(v.value, v.rate)}" for v in shown) or "_no figures yet_"
    gained = f" · *+{number(post.gained)}* interactions in this period" if post.gained else ""
    return f"{link}\n{esc(post.platform_name)} · {esc(post.account_name)} — {figures}{gained}"


def report_blocks(report: Report, tz: str | None, title: str, *, compared_with: str,
                  share_value: str | None = None, chart_note: str | None = None) -> list[dict]:
    """The figures per platform and account, the top posts and (as a note) what the chart shows."""
    head = [header(title, emoji=True),
            context(f"{period_text(report.start, report.end, tz)} · changes against {compared_with}. "
                    "Figures carry each platform's own names.")]
    tail: list[dict] = []
    if report.top_posts:
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
        blocks = _account_block(account, tz)
        if account.platform != platform:
            blocks = [header(account.platform_name, emoji=True), *blocks]
        if len(body) + len(blocks) > room:
            break
        body.extend(blocks)
        platform, shown = account.platform, shown + 1
    if shown < len(report.accounts):
        body.append(context(f"…and {len(report.accounts) - shown} more accounts: ask `/picmim stats <account>` "
                            "for each."))
    return head + body + tail


def report_text(report: Report, title: str, tz: str | None) -> str:
    """The notification text of a report message."""
    return f"{title}: {len(report.accounts)} accounts, {period_text(report.start, report.end, tz)}"


def post_blocks(post: PostFigures, tz: str | None, days: int, share_value: str | None = None) -> list[dict]:
    title = esc(post.preview) or "(no text)"
    link = f"<{post.url}|{title}>" if post.url else title
    published = f" · published {local_time(post.published_at, tz)}" if post.published_at else ""
    blocks: list[dict] = [header("Post stats", emoji=True),
                          section(f"{link}\n{esc(post.platform_name)} · {esc(post.account_name)}{published}")]
    if post.synced_at is None:
        blocks.append(section("_Picmim has no figures for this post yet: they are first fetched an hour after it "
                              "goes live._"))
    else:
        blocks.append(section("\n".join(value_line(v) for v in post.values) or "_No figures._"))
        blocks.append(context(f"Figures as of {local_time(post.synced_at, tz)}, changes against {days} days "
                              "earlier. Figures carry the platform's own names."))
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
        input_block(ids.DIGEST_ZONE_BLOCK, "Time zone",
                    {"type": "plain_text_input", "action_id": ids.DIGEST_ZONE_INPUT, "initial_value": tz,
                     "max_length": 64},
                    hint="The channel's zone, as a name like Europe/Madrid or America/New_York.", hint_first=True,
                    emoji=True),
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


def subscribed_text(sub: DigestSubscription, names: Mapping[int, str], created: bool, viewer_tz: str | None) -> str:
    what = "Digest set up" if created else "This digest already exists"
    return (f"{what}: {Schedule.of(sub).describe()} in <#{sub.channel_id}>, for {scope_text(sub, names)}. "
            f"The first one arrives {local_time(sub.next_run_at, viewer_tz)}. Invite @Picmim to the channel "
            "(`/invite @Picmim`) so the chart comes with it.")


def digest_list(subs: Sequence[DigestSubscription], names: Mapping[int, str], viewer_tz: str | None,
                note: str = "") -> list[dict]:
    """`note` is Picmim's own sentence (its channel and user mentions must stay links), never a platform's text."""
    blocks: list[dict] = [header("Analytics digests", emoji=True)]
    if note:
        blocks.append(context(note))
    if not subs:
        blocks.append(section("No digests yet. Set one up with `/picmim digest subscribe`."))
        return blocks
    for sub in subs[:24]:  # two blocks each within Slack's 50
        lines = [f"<#{sub.channel_id}> · {Schedule.of(sub).describe()}", f"For {scope_text(sub, names)}"]
        if sub.next_run_at:
            lines.append(f"Next: {local_time(sub.next_run_at, viewer_tz)}"
                         + (f" · last: {local_time(sub.last_run_at, viewer_tz)}" if sub.last_run_at else ""))
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
