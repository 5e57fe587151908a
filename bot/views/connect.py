"""Block Kit for connecting accounts: the platform list, private links, the account choice, the
accounts list with its buttons, the permissions page, and the callback's browser page."""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence

from bot import ids
from bot.payloads import AccountMenuChoice, BlueskyOrigin
from bot.platforms.base import Scope
from bot.platforms.registry import FACEBOOK_GROUPS, PLATFORMS, PlatformInfo
from bot.services.connecting import Candidate, Connected, ConnectLink, short_scope
from bot.services.connections import ConnectionSummary
from bot.storage.models import ConnectionStatus
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


def chosen_accounts(platform: PlatformInfo, names: list[str]) -> list[dict]:
    listed = ", ".join(f"*{esc(n)}*" for n in names)
    return [section(f":white_check_mark: Picmim now manages {listed} on {platform.name}. "
                    f"See every account with `{ids.COMMAND} accounts`.")]


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


# ---- the browser page after a platform's consent ---------------------------------------------------


# Drawn, not an emoji: a machine without an emoji font would show an empty box.
_MARKS = {
    True: '<svg class="mark" viewBox="0 0 24 24" aria-label="Done"><circle cx="12" cy="12" r="12" '
          'fill="#2eb67d"/><path d="M6.5 12.5l3.5 3.5 7.5-8" stroke="#fff" stroke-width="2.5" fill="none" '
          'stroke-linecap="round" stroke-linejoin="round"/></svg>',
    False: '<svg class="mark" viewBox="0 0 24 24" aria-label="Problem"><circle cx="12" cy="12" r="12" '
           'fill="#e8a317"/><path d="M12 6.5v7" stroke="#fff" stroke-width="2.5" stroke-linecap="round"/>'
           '<circle cx="12" cy="17.5" r="1.5" fill="#fff"/></svg>',
}


def _page_text(text: str) -> str:
    """Messages are shared with Slack, where `backticks` mark commands: show those as code here."""
    parts = html.escape(text).split("`")
    return "".join(f"<code>{p}</code>" if i % 2 else p for i, p in enumerate(parts))


def callback_page(title: str, message: str, ok: bool, slack_url: str | None) -> str:
    mark = _MARKS[ok]
    back = (f'<p><a class="button" href="{html.escape(slack_url)}">Back to Slack</a></p>' if slack_url else
            "<p>You can close this tab and go back to Slack.</p>")
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
</style></head>
<body><main>{mark}<h1>{html.escape(title)}</h1><p>{_page_text(message)}</p>{back}
<p><small>Picmim for Slack</small></p></main></body></html>
"""
