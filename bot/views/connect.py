"""Block Kit for connecting accounts: the platform list, private links, the account choice, the
accounts list with its buttons, the permissions page, and the callback's browser page."""

from __future__ import annotations

import html
import math
from collections.abc import Iterable, Sequence
from datetime import datetime

from bot import ids
from bot.payloads import AccountMenuChoice, BlueskyOrigin
from bot.platforms.base import Scope
from bot.platforms.registry import FACEBOOK_GROUPS, PLATFORMS, PlatformInfo
from bot.services.connecting import Candidate, Connected, ConnectLink, Landing, Parties, short_scope
from bot.services.connections import ConnectionSummary
from bot.storage.models import ConnectionStatus, utcnow
from bot.views.blocks import (
    actions,
    button,
    choices,
    confirm_dialog,
    context,
    divider,
    esc,
    header,
    input_block,
    local_date,
    local_time,
    modal,
    option,
    overflow,
    plain,
    section,
)

CHECKBOXES_PER_GROUP = 10  # Slack's limit for one checkboxes element


def scope_summary(scopes: Sequence[Scope]) -> str:
    """The permissions' own names: for `/picmim permissions` only (marketers never need them elsewhere)."""
    return ", ".join(f"`{short_scope(s.name)}`" for s in scopes)


# Where the registry's words are a developer's, what a marketer reads instead.
PLAIN_ACCOUNTS = {"bluesky": "Bluesky accounts, on bsky.social or on your own server"}
PERMISSIONS_NOTE = f"What Picmim asks each platform for, and why: `{ids.COMMAND} permissions`."


def accounts_words(p: PlatformInfo) -> str:
    return PLAIN_ACCOUNTS.get(p.key, p.accounts)


def not_set_up(p: PlatformInfo, is_admin: bool) -> str:
    """Why a platform cannot be connected yet: in words for everyone, the setting's names for admins only."""
    text = f"{p.name} is not set up on this Picmim yet: ask whoever runs Picmim for your team to add it."
    if is_admin and p.credential_prefix:
        text += (f"\n_For admins: the server needs {p.credential_prefix}_CLIENT_ID and "
                 f"{p.credential_prefix}_CLIENT_SECRET from {p.name}'s developer app; `python -m bot check` on "
                 "the server shows each step._")
    return text


# ---- choosing a platform and the private link ------------------------------------------------------


def platform_list(configured: set[str], is_admin: bool = False, note: str = "") -> list[dict]:
    blocks = [header("Connect a social account"),
              context("Picmim signs in with each platform's own page (never your password) and asks only for "
                      "what it needs. Your link is private and works once, for 10 minutes.")]
    if note:
        blocks.append(section(note))
    missing = []
    for p in PLATFORMS:
        text = f"*{p.name}*: {accounts_words(p)}."
        if p.key in configured:
            blocks.append(section(text, button("Connect", ids.CONNECT_PLATFORM, p.key)))
        else:
            missing.append(p)
    if missing:
        names = ", ".join(p.name for p in missing)
        text = f"*Not set up yet*: {names}. Ask whoever runs Picmim for your team to add them."
        if is_admin:
            prefixes = ", ".join(dict.fromkeys(f"{p.credential_prefix}_CLIENT_ID/_SECRET" for p in missing
                                               if p.credential_prefix))
            text += (f"\n_For admins: the server needs {prefixes} from each platform's developer app; "
                     "`python -m bot check` on the server shows each step._")
        blocks.append(section(text))
    blocks.append(section(f"*{FACEBOOK_GROUPS.name}*: unavailable. {FACEBOOK_GROUPS.unavailable_reason}"))
    blocks.append(context(PERMISSIONS_NOTE))
    return blocks


def link_message(links: Iterable[ConnectLink], tz: str | None, reconnect_of: str | None = None) -> list[dict]:
    links = list(links)
    until = local_time(links[0].expires_at, tz).split(", ")[1]
    what = f"Reconnect {reconnect_of}" if reconnect_of else "Connect " + " or ".join(
        f"*{link.platform.name}*" for link in links)
    blocks = [section(f"{what}: open the link, sign in and allow Picmim. The link is only for you and works "
                      f"once, until {until}."),
              actions(*(button(f"Open {link.platform.name}", ids.CONNECT_LINK_OPENED, link.platform.key, "primary",
                               url=link.url) for link in links))]
    return blocks


def connect_modal(blocks: list[dict]) -> dict:
    """The platform list, a link or an answer, when connecting starts from App Home."""
    return modal("Connect an account", [b for b in blocks if b["type"] != "header"], close="Close")


def bluesky_handle_modal(channel_id: str | None) -> dict:
    handle = input_block(ids.BLUESKY_HANDLE_BLOCK, "Your Bluesky handle",
                         {"type": "plain_text_input", "action_id": ids.BLUESKY_HANDLE_INPUT,
                          "placeholder": plain("name.bsky.social")},
                         hint="For example maria.bsky.social or acme.com", hint_first=True)
    return modal("Connect Bluesky", [handle], callback_id=ids.BLUESKY_HANDLE_VIEW, submit="Continue", close="Cancel",
                 private_metadata=BlueskyOrigin(channel_id).encode())


def bluesky_link_modal(link: ConnectLink, tz: str | None) -> dict:
    return modal("Connect Bluesky", link_message([link], tz), close="Done")


# ---- choosing accounts -----------------------------------------------------------------------------


def _option(c: Candidate) -> dict:
    detail = " · ".join(x for x in (c.kind, f"@{c.handle}" if c.handle else None,
                                    f"{c.followers_count:,} followers" if c.followers_count is not None else None) if x)
    return {"text": plain(c.name[:75]), "description": plain(detail[:75] or c.kind),
            "value": c.external_id[:150]}


def choose_accounts(connected: Connected) -> list[dict]:
    selectable = [c for c in connected.candidates if not c.refusal]
    refused = [c for c in connected.candidates if c.refusal]
    verb = "reconnected" if connected.reconnected else "connected"
    blocks = [section(f"*{connected.platform.name}* is {verb} ({esc(connected.display_name)}). "
                      "Choose which accounts Picmim may manage:")]
    for start in range(0, len(selectable), CHECKBOXES_PER_GROUP):
        group = selectable[start:start + CHECKBOXES_PER_GROUP]
        options = [_option(c) for c in group]
        element = choices("checkboxes", ids.CHOOSE_ACCOUNTS_BOXES, options,
                          initial=options if len(selectable) == 1 else None)
        blocks.append(actions(element, block_id=f"{ids.CHOOSE_ACCOUNTS_BLOCK}{start}"))
    for c in refused:
        blocks.append(section(f":no_entry: *{esc(c.name)}* cannot be managed: {esc(c.refusal)}"))
    buttons = [button("Save", ids.CHOOSE_ACCOUNTS_SAVE, str(connected.state_id), "primary")]
    if connected.declined:
        blocks.append(section(f":warning: {declined_words(connected.declined)}"))
        buttons.append(button("Reconnect", ids.ACCOUNT_RECONNECT, str(connected.connection_id)))
    blocks.append(actions(*buttons))
    return blocks


def _what_it_does(scope: Scope) -> str:
    """A permission's reason as a thing Picmim does: "to publish posts." -> "publish posts"."""
    why = scope.why.strip().rstrip(".")
    why = why[3:] if why.lower().startswith("to ") else why
    return why[:1].lower() + why[1:]


def declined_words(declined: Sequence[Scope]) -> str:
    """Permissions someone unticked, as what Picmim now cannot do (never the permissions' own names)."""
    cannot = "\n".join(f"• {_what_it_does(s)}" for s in declined)
    return (f"You did not allow everything Picmim asks for, so for these accounts it cannot:\n{cannot}\n"
            "To allow it, press Reconnect and keep every permission ticked.")


def chosen_accounts(platform: PlatformInfo, names: list[str], note: str | None = None) -> list[dict]:
    listed = ", ".join(f"*{esc(n)}*" for n in names)
    blocks = [section(f":white_check_mark: Picmim now manages {listed} on {platform.name}. "
                      f"See every account with `{ids.COMMAND} accounts`.")]
    return blocks + [context(esc(note))] if note else blocks


# ---- the accounts list -----------------------------------------------------------------------------

STATUS_WORDS = {
    ConnectionStatus.ACTIVE: ":large_green_circle: Active",
    ConnectionStatus.EXPIRING: ":large_yellow_circle: Expiring",
    ConnectionStatus.EXPIRED: ":red_circle: Expired",
    ConnectionStatus.REVOKED: ":red_circle: Access revoked",
    ConnectionStatus.ERROR: ":warning: Error",
}
BROKEN = frozenset({ConnectionStatus.EXPIRED, ConnectionStatus.REVOKED, ConnectionStatus.ERROR})
ROWS_SHOWN = 14  # at most 3 blocks each, with the headings, within Slack's 50


def status_text(s: ConnectionSummary, tz: str | None) -> str:
    words = STATUS_WORDS[s.status]
    if s.status is ConnectionStatus.EXPIRING and s.expires_at:
        words += f" on {local_date(s.expires_at, tz)}"
    return words


def needs_attention(s: ConnectionSummary) -> bool:
    return s.status is not ConnectionStatus.ACTIVE


def _row_menu(s: ConnectionSummary) -> dict:
    """Refresh, Reconnect and Disconnect… (which asks first: an overflow option has no confirm dialog)."""
    def choice(text: str, action: str) -> dict:
        return option(text, AccountMenuChoice(action, s.id).encode())
    return overflow(ids.ACCOUNT_MENU, [choice("Refresh", ids.ACCOUNT_MENU_REFRESH),
                                       choice("Reconnect", ids.ACCOUNT_MENU_RECONNECT),
                                       choice("Posting slots…", ids.ACCOUNT_MENU_SLOTS),
                                       choice("Disconnect…", ids.ACCOUNT_MENU_DISCONNECT)])


def _row(s: ConnectionSummary, tz: str | None, may_manage: bool) -> list[dict]:
    synced = local_time(s.last_sync_at, tz) if s.last_sync_at else "never"
    accounts = ", ".join(f"{esc(name)} ({kind})" for name, kind in s.accounts) or "none chosen yet"
    lines = [f"*{s.platform.name}* · {esc(s.display_name)}: {status_text(s, tz)}"]
    if s.guidance:
        lines.append(f":point_right: {s.guidance}")
    if s.last_error and s.status is not ConnectionStatus.ACTIVE:
        lines.append(f"_{esc(s.last_error[:300])}_")
    lines.append(f"Accounts: {accounts}")
    if s.scheduled_posts:
        lines.append(f"Scheduled posts: {s.scheduled_posts}")
    lines.append(f"Last sync: {synced}")
    text = "\n".join(lines)
    if not may_manage:
        return [section(text)]
    if s.status in BROKEN or s.status is ConnectionStatus.EXPIRING:
        fix = button("Reconnect", ids.ACCOUNT_RECONNECT, str(s.id), "primary" if s.status in BROKEN else None,
                     label=f"Reconnect {s.platform.name} · {s.display_name}")
        return [section(text), actions(fix, _row_menu(s), block_id=f"connection_{s.id}")]
    return [section(text, _row_menu(s), block_id=f"connection_{s.id}")]


def accounts_list(summaries: list[ConnectionSummary], tz: str | None, may_manage: bool,
                  note: str = "") -> list[dict]:
    """Connections that need attention first, each with the button that mends it; the rest in a "⋯" menu."""
    blocks = [header("Connected accounts")]
    if note:
        blocks.append(section(note))
    if not summaries:
        blocks.append(section(f"No accounts are connected yet. Connect one with `{ids.COMMAND} connect`."))
        return blocks
    ordered = sorted(summaries, key=lambda s: not needs_attention(s))  # stable: platform order kept within
    shown = ordered[:ROWS_SHOWN]
    problems = sum(needs_attention(s) for s in shown)
    for i, s in enumerate(shown):
        if problems and i == 0:
            blocks.append(section(f"*Needs attention ({problems})*"))
        elif problems and i == problems:
            blocks.append(section("*Working*"))
        blocks += _row(s, tz, may_manage)
        if i + 1 < len(shown) and i + 1 != problems:
            blocks.append(divider())
    if len(summaries) > ROWS_SHOWN:
        blocks.append(context(f"{len(summaries) - ROWS_SHOWN} more connections are not shown."))
    return blocks


def disconnect_question(s: ConnectionSummary) -> list[dict]:
    """Disconnect… from a row's menu: what disconnecting does, and the button that does it."""
    what = (f"Picmim stops managing {esc(s.display_name)} on {s.platform.name} and deletes its sign-in"
            + (f"; {s.scheduled_posts} scheduled post{'s' * (s.scheduled_posts != 1)} to it will be cancelled"
               if s.scheduled_posts else "")
            + ". Published posts and figures stay.")
    confirm = confirm_dialog("Disconnect?", what, "Disconnect")
    return [section(f"Disconnect *{s.platform.name} · {esc(s.display_name)}*? {what}"),
            actions(button("Disconnect", ids.ACCOUNT_DISCONNECT, str(s.id), "danger", confirm=confirm))]


def permissions(scopes: dict[str, Sequence[Scope]]) -> list[dict]:
    blocks = [header("What Picmim asks for, and why"),
              context("Picmim asks each platform only for what its features need. It never sees your passwords.")]
    for p in PLATFORMS:
        if p.key in scopes:
            lines = "\n".join(f"• `{short_scope(s.name)}`: {s.why}" for s in scopes[p.key])
            blocks.append(section(f"*{p.name}*\n{lines}"))
    blocks.append(section(f"*{FACEBOOK_GROUPS.name}*: {FACEBOOK_GROUPS.unavailable_reason}"))
    return blocks


# ---- a sign-in that connected nothing ---------------------------------------------------------------

_START_AGAIN = " Start again from Slack with `/picmim connect`."


def failure_message(message: str, platform: PlatformInfo | None) -> tuple[str, list[dict]]:
    """The direct message after a sign-in that connected nothing: said once (the platform's name, then why),
    with a button to start again in place of the sentence that says how."""
    text = message
    if platform is not None and platform.name not in text:
        text = f"{platform.name}: {text}"
    if platform is None or not platform.adapter_ready:
        return text, [section(esc(text))]
    shown = text.replace(_START_AGAIN, "")
    return text, [section(esc(shown)),
                  actions(button(f"Connect {platform.name} again", ids.CONNECT_PLATFORM, platform.key))]


# ---- the alerts channel: which account was connected, with whose link ---------------------------------


def _reached(connected: Connected) -> list[Candidate]:
    return [c for c in connected.candidates if not c.refusal]


def _account_words(c: Candidate) -> str:
    return c.name + (f" (@{c.handle})" if c.handle and c.handle != c.name else "")


def connected_note(connected: Connected) -> tuple[str, list[dict]]:
    """For the alerts channel: a sign-in link is a bearer link, so the team sees each account it attached."""
    who = f"<@{connected.user_id}>"
    what = f"{connected.platform.name} · {connected.display_name}"
    reached = ", ".join(f"*{esc(_account_words(c))}*" for c in _reached(connected))
    text = f"{esc(what)} was connected to Picmim with {who}'s sign-in link."
    blocks = [section(f":link: *{esc(what)}* was connected to Picmim with {who}'s private sign-in link. "
                      f"Accounts it reaches: {reached}. {who} chooses in Slack which of them Picmim manages."),
              context(f"Not expected? Whoever opens a sign-in link can connect an account with it: disconnect "
                      f"this one in `{ids.COMMAND} accounts`.")]
    return text, blocks


def refused_note(message: str, platform: PlatformInfo | None, user_id: str) -> tuple[str, list[dict]]:
    """For the alerts channel: a sign-in with someone's link that connected nothing, and why."""
    name = platform.name if platform else "an account"
    said = esc(f"'s sign-in link for {name} connected nothing: {message.replace(_START_AGAIN, '')}")
    return f"<@{user_id}>{said}", [section(f":warning: <@{user_id}>{said}")]


# ---- the browser page after a platform's consent ---------------------------------------------------


# Drawn, not an emoji: a machine without an emoji font would show an empty box.
_MARKS = {
    True: '<svg class="mark" viewBox="0 0 24 24" aria-label="Done"><circle cx="12" cy="12" r="12" '
          'fill="#2eb67d"/><path d="M6.5 12.5l3.5 3.5 7.5-8" stroke="#fff" stroke-width="2.5" fill="none" '
          'stroke-linecap="round" stroke-linejoin="round"/></svg>',
    False: '<svg class="mark" viewBox="0 0 24 24" aria-label="Problem"><circle cx="12" cy="12" r="12" '
           'fill="#e8a317"/><path d="M12 6.5v7" stroke="#fff" stroke-width="2.5" stroke-linecap="round"/>'
           '<circle cx="12" cy="17.5" r="1.5" fill="#fff"/></svg>',
    None: '<svg class="mark" viewBox="0 0 24 24" aria-label="Sign in"><circle cx="12" cy="12" r="12" '
          'fill="#3b2a63"/><path d="M6.5 12h10M12.5 7.5l4.5 4.5-4.5 4.5" stroke="#fff" stroke-width="2.5" '
          'fill="none" stroke-linecap="round" stroke-linejoin="round"/></svg>',
}


def _page_text(text: str) -> str:
    """Messages are shared with Slack, where `backticks` mark commands: show those as code here."""
    parts = html.escape(text).split("`")
    return "".join(f"<code>{p}</code>" if i % 2 else p for i, p in enumerate(parts))


def _facts(facts: Sequence[tuple[str, str]]) -> str:
    """Who and where, one line each (every name escaped: they come from Slack and the platforms)."""
    if not facts:
        return ""
    rows = "".join(f"<dt>{html.escape(label)}</dt><dd>{html.escape(value)}</dd>" for label, value in facts)
    return f'<dl class="facts">{rows}</dl>'


def _page(title: str, mark: str, body: str) -> str:
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(title)} · Picmim</title>
<style>
body {{ font-family: -apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif; background: #f6f4fb;
       color: #1d1c1d; margin: 0; display: flex; min-height: 100vh; align-items: center; justify-content: center; }}
main {{ background: #fff; max-width: 34rem; margin: 2rem; padding: 2rem 2.5rem; border-radius: 12px;
        box-shadow: 0 2px 12px rgba(59, 42, 99, .15); }}
h1 {{ font-size: 1.4rem; margin: 0 0 .75rem; }}
p {{ line-height: 1.5; }}
.mark {{ width: 2.5rem; height: 2.5rem; }}
code {{ background: #f0edf7; padding: .1rem .3rem; border-radius: 4px; white-space: nowrap; }}
.button {{ display: inline-block; background: #3b2a63; color: #fff; padding: .6rem 1.2rem; border-radius: 6px;
           text-decoration: none; font-weight: 600; }}
.facts {{ display: grid; grid-template-columns: max-content 1fr; gap: .3rem 1rem; margin: 1rem 0; }}
.facts dt {{ color: #616061; }}
.facts dd {{ margin: 0; font-weight: 600; overflow-wrap: anywhere; }}
.note {{ border-left: 4px solid #e8a317; padding: .2rem 0 .2rem .8rem; }}
</style></head>
<body><main>{mark}<h1>{html.escape(title)}</h1>{body}
<p><small>Picmim for Slack</small></p></main></body></html>
"""


def callback_page(title: str, message: str, ok: bool, slack_url: str | None,
                  facts: Sequence[tuple[str, str]] = ()) -> str:
    back = (f'<p><a class="button" href="{html.escape(slack_url)}">Back to Slack</a></p>' if slack_url else
            "<p>You can close this tab and go back to Slack.</p>")
    return _page(title, _MARKS[ok], f"{_facts(facts)}<p>{_page_text(message)}</p>{back}")


def _possessive(name: str) -> str:
    return f"{name}’s"


def _an_account(platform: PlatformInfo) -> str:
    """"an X account", "a LinkedIn account", "Facebook Pages"."""
    if platform.name.endswith("Pages"):
        return platform.name
    article = "an" if platform.name[:1].upper() in "AEIOUX" else "a"
    return f"{article} {platform.name} account"


def landing_title(landing: Landing) -> str:
    """"Connect an X account to Acme's Picmim for Maria": the page's heading, before any sign-in."""
    where = f"{_possessive(landing.workspace_name)} Picmim" if landing.workspace_name else "Picmim"
    what = (f"Reconnect {landing.platform.name} · {landing.reconnect_of} in" if landing.reconnect_of
            else f"Connect {_an_account(landing.platform)} to")
    return f"{what} {where}" + (f" for {landing.requested_by_name}" if landing.requested_by_name else "")


def landing_page(landing: Landing, now: datetime | None = None) -> str:
    """The page a sign-in link opens: whose link it is, into which workspace, what continuing does, and a
    button (a plain link: no script needed) to the platform's consent page."""
    p, person, team = landing.platform.name, landing.requested_by_name, landing.workspace_name
    asker = person or "Someone"
    slack = f"{_possessive(team)} Slack" if team else "Slack"
    picmim = f"{_possessive(team)} Picmim" if team else "this Picmim"
    if landing.reconnect_of:
        what = (f"{asker} asked for this link in {slack}, to renew Picmim’s access to {landing.reconnect_of} on "
                f"{p}. Continue takes you to {p}: sign in there as that account and allow Picmim.")
    else:
        what = (f"{asker} asked for this link in {slack}. Continue takes you to {p}: sign in there and allow "
                f"Picmim. The account you sign in with is then connected to {picmim}, and {person or 'they'} "
                f"choose{'s' if person else ''} in Slack which of its accounts Picmim may post to.")
    stranger = f"Not {person}, or not expecting this link?" if person else "Not expecting this link?"
    minutes = max(1, math.ceil(((landing.expires_at - (now or utcnow())).total_seconds()) / 60))
    body = (f"<p>{html.escape(what)}</p>"
            f'<p class="note">{html.escape(stranger)} Close this page: continuing connects the account you sign in '
            f"with to {html.escape(picmim)}.</p>"
            f'<p><a class="button" href="{html.escape(landing.authorize_url)}">Continue to {html.escape(p)}</a></p>'
            f"<p><small>The link works once and expires in {minutes} minute{'s' * (minutes != 1)}.</small></p>")
    return _page(landing_title(landing), _MARKS[None], body)


def gone_page(title: str, message: str) -> str:
    """A link that is not valid, already used or expired: why, and how to get a new one."""
    return _page(title, _MARKS[False], f"<p>{_page_text(message)}</p>")


def connected_facts(connected: Connected) -> list[tuple[str, str]]:
    """The result page's who and where: the accounts the sign-in reaches, the workspace, whose link."""
    parties = connected.parties or Parties(connected.team_id, connected.user_id)
    reached = [_account_words(c) for c in _reached(connected)]
    facts = [(f"Signed in to {connected.platform.name} as", connected.display_name),
             ("Accounts" if len(reached) != 1 else "Account", ", ".join(reached))]
    return facts + _party_facts(parties)


def _party_facts(parties: Parties | None) -> list[tuple[str, str]]:
    if parties is None:
        return []
    facts = []
    if parties.workspace_name:
        facts.append(("Slack workspace", parties.workspace_name))
    if parties.requested_by_name:
        facts.append(("For", parties.requested_by_name))
    return facts


def refused_facts(parties: Parties | None) -> list[tuple[str, str]]:
    return _party_facts(parties)
