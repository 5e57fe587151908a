"""Block Kit for `/picmim stats best-times [account]`: the best slots in words per account, or how many more
published posts an account needs before Picmim can tell."""

from __future__ import annotations

from collections.abc import Sequence

from bot.services.best_times import MIN_POSTS, BestTimes
from bot.views.blocks import context, esc, header, section

TITLE = "Best times to post"


def account_lines(best: BestTimes) -> str:
    if not best.enough:
        return (f"*{esc(best.label)}*: not enough history yet: {best.posts} published "
                f"post{'s' * (best.posts != 1)} with figures, and Picmim needs at least {MIN_POSTS} to tell which "
                "hours work best.")
    slots = "\n".join(f"{n}. {s.in_words()}: {s.engagement:,.0f} interactions per post ({s.posts} "
                      f"post{'s' * (s.posts != 1)})" for n, s in enumerate(best.top, 1))
    return f"*{esc(best.label)}* (from {best.posts} posts):\n{slots}"


def best_times_blocks(found: Sequence[BestTimes], timezone: str, chart_sent: bool) -> list[dict]:
    blocks = [header(TITLE)]
    if not found:
        blocks.append(section("No account to look at: connect one with `/picmim connect`."))
        return blocks
    blocks += [section(account_lines(best)[:3000]) for best in found[:20]]
    notes = [f"Times are in the accounts' audience time ({esc(timezone)}, the workspace's time zone); engagement "
             "is likes, comments, shares… per post, by the hour it went live, over the last year."]
    if chart_sent:
        notes.append("The heat map is in your direct messages with Picmim.")
    if any(b.enough for b in found):
        notes.append("The compose window offers the next best slots as quick choices.")
    blocks.append(context(" ".join(notes)))
    return blocks


def best_times_text(found: Sequence[BestTimes]) -> str:
    """The answer's fallback text (notifications, screen readers)."""
    return "\n".join([TITLE, *(account_lines(b).replace("*", "") for b in found)])
