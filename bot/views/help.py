"""The `/picmim help` message: the subcommands grouped by what a person wants to do, the two most common actions
as buttons, and the admins' commands for admins (members are told which ones need an admin)."""

from __future__ import annotations

import difflib
import functools
from dataclasses import dataclass

from bot import ids
from bot.views.blocks import actions, button, context, header, section

POST, PLAN, ACCOUNTS, STATS, ADMIN = "Post", "Plan", "Accounts", "Stats", "Admin"
GROUPS = (POST, PLAN, ACCOUNTS, STATS, ADMIN)


@dataclass(frozen=True)
class Subcommand:
    name: str
    usage: str
    summary: str
    group: str = ""
    admin: bool = False  # only workspace admins may use it


SUBCOMMANDS: tuple[Subcommand, ...] = (
    Subcommand("help", "help", "Show this list."),
    Subcommand("post", "post [text]", "Write a post for one or more accounts; publish it now or schedule it.",
               POST),
    Subcommand("drafts", "drafts", "Your unfinished posts.", POST),
    Subcommand("import", "import", "Schedule many posts at once from a CSV file (or send the file to Picmim in a "
               "direct message).", POST),
    Subcommand("queue", "queue", "Scheduled posts and posts waiting for approval: publish now, move, edit or "
               "cancel.", PLAN),
    Subcommand("connect", "connect [platform]", "Connect a social account (Instagram, Facebook Pages, "
               "LinkedIn, X, TikTok, Pinterest, YouTube, Bluesky).", ACCOUNTS),
    Subcommand("accounts", "accounts", "Every connected account and whether it works; refresh, reconnect or "
               "disconnect.", ACCOUNTS),
    Subcommand("permissions", "permissions", "What Picmim asks each platform for, and why.", ACCOUNTS),
    Subcommand("stats", "stats [account|post link] [7d|30d]", "How an account or a post is doing.", STATS),
    Subcommand("stats export", "stats export [7d|30d|90d] [account]", "Every post's and account's figures (the "
               "last 30 days unless you choose) as a CSV file, sent to you by DM.", STATS),
    Subcommand("stats", "stats best-times [account]", "When your posts get the most engagement, by weekday and "
               "hour, with a heat map.", STATS),
    Subcommand("digest", "digest [subscribe|list]", "Send a summary of your figures to a channel on a schedule.",
               STATS),
    Subcommand("settings", "settings", "Approvals and their reminders, the alerts channel, follow-ups in a post's "
               "thread, posting slots, who may connect accounts, the time zone.", ADMIN, admin=True),
    Subcommand("roles", "roles", "Who may post where: admins, publishers, contributors and viewers per account or "
               "account group (brand, client), and the groups' own approvers.", ADMIN, admin=True),
    Subcommand("audit", "audit [export] [account|post link] [7d|30d]", "Who changed what and when: every post, "
               "connection and setting; Export CSV sends it to you.", ADMIN, admin=True),
)

NAMES = frozenset(s.name for s in SUBCOMMANDS if " " not in s.name)  # what may follow the command


def did_you_mean(name: str) -> str | None:
    """The subcommand a typo was probably meant to be (`quee` -> `queue`), or None."""
    found = difflib.get_close_matches(name.lower(), sorted(NAMES), n=1, cutoff=0.6)
    return found[0] if found else None


def _line(command: str, sub: Subcommand, available: frozenset[str]) -> str:
    note = "" if sub.name.split()[0] in available else " _(coming soon)_"  # `stats export` is part of `stats`
    return f"`{command} {sub.usage}`  {sub.summary}{note}"


@functools.lru_cache(maxsize=64)  # the same few answers, for every /picmim help
def help_blocks(command: str, intro: str | None = None, available: frozenset[str] = NAMES,
                is_admin: bool = False) -> list[dict]:
    blocks = [header("Picmim for Slack")]
    if intro:
        blocks.append(section(intro))
    blocks.append(actions(button("New post", ids.NEW_POST, style="primary"),
                          button("Connect an account", ids.HOME_CONNECT)))
    for group in GROUPS:
        subs = [s for s in SUBCOMMANDS if s.group == group]
        if group == ADMIN and not is_admin:
            lines = [f"`{command} {s.usage}` needs a workspace admin: {s.summary[0].lower()}{s.summary[1:]}"
                     for s in subs]
            blocks.append(context("\n".join(lines)))
            continue
        blocks.append(section(f"*{group}*\n" + "\n".join(_line(command, s, available) for s in subs)))
    blocks.append(context(f"`{command} help` shows this list. Picmim publishes to your team's social accounts "
                          "from Slack. Only you can see this message."))
    return blocks


def help_text(command: str) -> str:
    return "Picmim commands: " + ", ".join(f"{command} {name}" for name in dict.fromkeys(s.name for s in SUBCOMMANDS))
