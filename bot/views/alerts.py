"""Block Kit for token-health alerts: an expiry warning, a broken connection with its held posts, and
either one once resolved (updated in place: "reconnected by @maria")."""

from __future__ import annotations

from datetime import datetime

from bot import ids
from bot.services.api_versions import API_VERSION_ALERT
from bot.services.token_health import AlertNote
from bot.views.blocks import actions, context, esc, plain, section, slack_date

RESOLVED_WORDS = {
    "reconnected": "was reconnected by {who}",
    "refreshed": "works again ({who} pressed Refresh)",
    "working": "works again",
    "renewed": "was renewed: nothing to do",
    "disconnected": "was disconnected by {who}",
}


def _posts_word(n: int) -> str:
    return f"{n} scheduled post{'s' * (n != 1)}"


def _who(note: AlertNote) -> str:
    d = note.details
    return f"*{esc(d.get('platform', ''))} · {esc(d.get('display_name', ''))}*"


def _accounts_line(note: AlertNote) -> str | None:
    names = note.details.get("accounts") or []
    return f"Accounts: {', '.join(esc(n) for n in names)}" if names else None


def _headline(note: AlertNote) -> str:
    d = note.details
    if note.expiring:
        ends = datetime.fromisoformat(d["expires_at"])
        days = d.get("days")
        left = "tomorrow" if days == 1 else f"in {days} days" if days else ""
        return f":hourglass_flowing_sand: {_who(note)} stops working on {slack_date(ends, note.timezone)}" + (
            f" ({left})." if left else ".")
    return f":red_circle: {_who(note)} is disconnected: Picmim cannot publish to it."


def _reconnect(note: AlertNote) -> dict:
    # (its style before its action_id, as alerts have always been sent, unlike blocks.button's)
    button = {"type": "button", "text": plain("Reconnect"), "style": "primary", "action_id": ids.ACCOUNT_RECONNECT,
              "value": str(note.connection_id)}
    return actions(button, block_id=f"alert_{note.alert_id}")


def _warning(note: AlertNote) -> list[dict]:
    d = note.details
    why = ("Its sign-in can renew itself only until then, so someone has to sign in again before it ends."
           if d.get("renewable") else
           f"{esc(d.get('platform', 'The platform'))} does not let Picmim renew this sign-in, so someone has to "
           "sign in again before it ends.")
    lines = [_headline(note), why]
    if accounts := _accounts_line(note):
        lines.append(accounts)
    count = int(d.get("scheduled_posts") or 0)
    lines.append(f":calendar: {_posts_word(count)} {'is' if count == 1 else 'are'} due after that and would not "
                 "go out." if count else ":calendar: No scheduled post is due after that yet.")
    lines.append("Press *Reconnect* and sign in: the posts keep their times.")
    return [section("\n".join(lines))]


def _broken(note: AlertNote) -> list[dict]:
    d = note.details
    lines = [_headline(note)]
    if d.get("fix"):
        lines.append(f"*How to fix it:* {esc(d['fix'])}")
    if accounts := _accounts_line(note):
        lines.append(accounts)
    blocks = [section("\n".join(lines))]
    if d.get("said"):  # the platform's own words, for whoever digs deeper
        blocks.append(context(esc(str(d["said"])[:500])))
    posts = d.get("posts") or []
    more = int(d.get("more_posts") or 0)
    if posts:
        listed = []
        for p in posts:
            when = slack_date(datetime.fromisoformat(p["at"]), note.timezone) if p.get("at") else "when approved"
            listed.append(f"• {when}: “{esc(p.get('text') or '')}”")
        if more:
            listed.append(f"… and {more} more")
        total = len(posts) + more
        if total == 1:
            held = ("*1 scheduled post depends on it.* It is on hold, not failed: once the account is reconnected "
                    "it goes out at its time; if its time comes first, it will not go out.")
        else:
            held = (f"*{total} scheduled posts depend on it.* They are on hold, not failed: once the account is "
                    "reconnected they go out at their times; one whose time comes first will not go out.")
        blocks.append(section(held + "\n" + "\n".join(listed)))
    else:
        blocks.append(section("No scheduled post depends on it right now."))
    return blocks


def _resolved(note: AlertNote) -> list[dict]:
    d = note.details
    how = d.get("resolution") or "working"
    who = f"<@{note.resolved_by}>" if note.resolved_by else "someone"
    said = RESOLVED_WORDS.get(how, RESOLVED_WORDS["working"]).format(who=who)
    when = slack_date(note.resolved_at, note.timezone) if note.resolved_at else ""
    text = f":white_check_mark: {_who(note)} {said}" + (f" on {when}." if when else ".")
    released = int(d.get("released") or 0)
    if released:
        text += (f" {_posts_word(released)} that {'was' if released == 1 else 'were'} on hold "
                 f"{'goes' if released == 1 else 'go'} out at {'its time' if released == 1 else 'their times'}.")
    earlier = ("Expiry warning" if note.expiring else "Alert") + f" sent {slack_date(note.sent_at, note.timezone)}"
    return [section(text), context(earlier)]


def _api_version(note: AlertNote) -> tuple[str, list[dict]]:
    """A platform API version Picmim speaks is about to be retired (bot/services/api_versions.py)."""
    d = note.details
    name = f"{d.get('api', '')} {d.get('version', '')}"
    days = d.get("days")
    when = "has ended" if days is not None and days < 0 else f"ends in {days} days" if days is not None else "ends soon"
    platforms = ", ".join(d.get("platforms") or [])
    fix = (f"An admin should set *{esc(d['setting'])}* to a newer version in Picmim's settings and restart it."
           if d.get("setting") else
           "An admin should update Picmim to a release that speaks a newer version, before that date.")
    lines = [f":warning: *{esc(name)}* {when} ({esc(str(d.get('until', '')))}).",
             f"After that, Picmim cannot publish to {esc(platforms)} or read "
             f"{'their' if len(d.get('platforms') or []) > 1 else 'its'} figures until it is updated.", fix]
    return f"{name} {when}: Picmim needs an update", [section("\n".join(lines)),
                                                      context("`python -m bot check` lists every API version.")]


def alert_message(note: AlertNote) -> tuple[str, list[dict]]:
    """The fallback text (notifications) and the blocks of an alert's message."""
    d = note.details
    if note.cause == API_VERSION_ALERT:
        return _api_version(note)
    name = esc(f"{d.get('platform', '')} · {d.get('display_name', '')}")
    if note.resolved_at is not None:
        return f"{name}: resolved", _resolved(note)
    if note.expiring:
        return f"{name} stops working soon: reconnect it", _warning(note) + [_reconnect(note)]
    return f"{name} is disconnected: reconnect it", _broken(note) + [_reconnect(note)]
