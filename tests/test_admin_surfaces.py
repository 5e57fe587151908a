"""Issue 24, the admin's and the marketer's side: connecting and the accounts list, settings, stats and digests, as
a person reads them (view level; the journeys through the real server are in the *_e2e tests)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from bot import ids
from bot.payloads import AccountMenuChoice, subject_of
from bot.platforms.base import Scope
from bot.platforms.registry import BY_KEY
from bot.sandbox.fakes.slack import MESSAGE_BLOCK_LIMIT, block_kit_errors, view_errors
from bot.services.analytics import AccountFigures, Report, Value
from bot.services.connections import ConnectionSummary
from bot.storage.models import ConnectionStatus, DigestSubscription, Workspace
from bot.views import connect as connect_views
from bot.views import settings as settings_views
from bot.views import stats as stats_views
from bot.views.zones import reaction_select, zone_label, zone_select

NOW = datetime(2026, 3, 9, 8, tzinfo=UTC)
JARGON = ("_CLIENT_ID", "_CLIENT_SECRET", "python -m bot", "PDS", "tweet.write", "pages_manage_posts", "scope")


def _text(blocks) -> str:
    return json.dumps(blocks, ensure_ascii=False)


def _elements(blocks) -> list[dict]:
    found = [e for b in blocks if b["type"] == "actions" for e in b["elements"]]
    return found + [b["accessory"] for b in blocks if b["type"] == "section" and "accessory" in b]


# ---- connecting ---------------------------------------------------------------------------------------------------


def test_the_platform_list_has_no_setting_or_permission_names_for_a_marketer():
    blocks = connect_views.platform_list({"x", "bluesky"}, is_admin=False)
    text = _text(blocks)
    for word in JARGON:
        assert word not in text, word
    assert "Bluesky accounts, on bsky.social or on your own server" in text
    assert [e["value"] for e in _elements(blocks)] == ["x", "bluesky"], "Connect buttons for what is set up only"
    assert "`/picmim permissions`" in text
    assert block_kit_errors(blocks, MESSAGE_BLOCK_LIMIT) == []
    admin = _text(connect_views.platform_list({"x"}, is_admin=True))
    assert "META_CLIENT_ID/_SECRET" in admin and "python -m bot check" in admin


def test_a_declined_permission_says_what_picmim_cannot_do_and_offers_reconnect():
    words = connect_views.declined_words([Scope("tweet.write", "to publish posts"),
                                          Scope("video.list", "Reads views, likes and shares for analytics.")])
    assert words == ("You did not allow everything Picmim asks for, so for these accounts it cannot:\n"
                     "• publish posts\n• reads views, likes and shares for analytics\n"
                     "To allow it, press Reconnect and keep every permission ticked.")
    assert "tweet.write" not in words


def test_the_failure_message_says_it_once_with_a_button_to_start_again():
    text, blocks = connect_views.failure_message(
        "You chose not to allow Picmim access, so nothing was connected.", BY_KEY["linkedin"])
    assert text == "LinkedIn: You chose not to allow Picmim access, so nothing was connected."
    [again] = _elements(blocks)
    assert (again["action_id"], again["value"], again["text"]["text"]) == (
        ids.CONNECT_PLATFORM, "linkedin", "Connect LinkedIn again")
    _, blocks = connect_views.failure_message(
        "This sign-in link expired: links last 10 minutes. Start again from Slack with `/picmim connect`.",
        BY_KEY["x"])
    assert "Start again" not in blocks[0]["text"]["text"], "the button says it"
    text, blocks = connect_views.failure_message("This sign-in link is not one Picmim made.", None)
    assert text == "This sign-in link is not one Picmim made." and not _elements(blocks)


def _summary(i: int, platform: str, name: str, status: ConnectionStatus, guidance: str | None = None,
             scheduled: int = 0) -> ConnectionSummary:
    return ConnectionSummary(i, BY_KEY[platform], name, status, None, NOW + timedelta(days=3), NOW, None,
                             ("tweet.write", "pages_manage_posts"), ((name, "profile"),), scheduled, guidance)


def test_the_accounts_list_puts_problems_first_with_reconnect_and_the_rest_in_a_menu():
    summaries = [_summary(1, "facebook", "Acme Page", ConnectionStatus.ACTIVE),
                 _summary(2, "linkedin", "Maria Lopez", ConnectionStatus.REVOKED, "Press Reconnect and sign in again."),
                 _summary(3, "x", "Acme Marketing", ConnectionStatus.ACTIVE, scheduled=2),
                 _summary(4, "youtube", "Acme TV", ConnectionStatus.EXPIRING)]
    blocks = connect_views.accounts_list(summaries, "Europe/Madrid", may_manage=True)
    assert block_kit_errors(blocks, MESSAGE_BLOCK_LIMIT) == []
    text = _text(blocks)
    for word in JARGON:
        assert word not in text, word
    sections = [b["text"]["text"] for b in blocks if b["type"] == "section"]
    assert sections[0] == "*Needs attention (2)*"
    assert sections[1].startswith("*LinkedIn* · Maria Lopez: :red_circle: Access revoked\n:point_right: Press")
    assert sections[2].startswith("*YouTube* · Acme TV: :large_yellow_circle: Expiring")
    assert sections[3] == "*Working*"
    assert [s.split(":")[0] for s in sections[4:]] == ["*Facebook Pages* · Acme Page", "*X* · Acme Marketing"]
    buttons = [e for e in _elements(blocks) if e["type"] == "button"]
    assert [(b["text"]["text"], b["value"], b.get("style")) for b in buttons] == [
        ("Reconnect", "2", "primary"), ("Reconnect", "4", None)], "primary only where it is broken"
    menus = [e for e in _elements(blocks) if e["type"] == "overflow"]
    assert len(menus) == 4 and all(m["action_id"] == ids.ACCOUNT_MENU for m in menus)
    assert [o["value"] for o in menus[-1]["options"]] == ["refresh:3", "reconnect:3", "slots:3", "disconnect:3"]
    assert "danger" not in text, "no red button on the list"
    # Someone who may not manage sees the same rows, without buttons.
    plain = connect_views.accounts_list(summaries, "Europe/Madrid", may_manage=False)
    assert not _elements(plain) and "*Needs attention (2)*" in _text(plain)


def test_disconnect_from_the_menu_asks_with_a_confirmed_button():
    blocks = connect_views.disconnect_question(_summary(3, "x", "Acme Marketing", ConnectionStatus.ACTIVE, scheduled=2))
    assert block_kit_errors(blocks, MESSAGE_BLOCK_LIMIT) == []
    assert blocks[0]["text"]["text"].startswith("Disconnect *X · Acme Marketing*? Picmim stops managing")
    assert "2 scheduled posts to it will be cancelled" in blocks[0]["text"]["text"]
    [button] = _elements(blocks)
    assert (button["action_id"], button["value"], button["style"]) == (ids.ACCOUNT_DISCONNECT, "3", "danger")
    assert button["confirm"]["confirm"]["text"] == "Disconnect"


def test_the_menu_choice_is_read_from_the_overflow_and_a_forged_one_is_refused():
    value = AccountMenuChoice(ids.ACCOUNT_MENU_DISCONNECT, 12).encode()
    assert value == "disconnect:12"

    def body(chosen: str) -> dict:
        return {"type": "block_actions", "actions": [{"type": "overflow", "action_id": ids.ACCOUNT_MENU,
                                                      "selected_option": {"value": chosen}}]}
    assert subject_of(body(value)) == AccountMenuChoice("disconnect", 12)
    for forged in ("delete:12", "refresh:", "refresh:1x", "refresh:" + "9" * 20, ""):
        assert subject_of(body(forged)) is None, forged
    # Buttons still carry their own value.
    assert subject_of({"type": "block_actions", "actions": [{"action_id": ids.ACCOUNT_RECONNECT, "value": "7"}]}
                      ).connection_id == 7


# ---- settings -----------------------------------------------------------------------------------------------------


def _workspace(**columns) -> Workspace:
    values = {"team_id": "T1", "approval_required": False, "approver_user_ids": [], "approvals_needed": 1,
              "allow_self_approval": False, "approve_reaction": "white_check_mark", "reject_reaction": "x",
              "managers_policy": "members", "manager_user_ids": [], "expiry_warning_days": [7, 1],
              "default_timezone": "UTC", **columns}
    return Workspace(**values)


def _by_id(view: dict) -> dict:
    return {b.get("block_id"): b for b in view["blocks"] if b.get("block_id")}


def test_settings_show_the_approval_fields_only_while_approval_is_on():
    off = settings_views.settings_modal(_workspace(), None)
    on = settings_views.settings_modal(_workspace(), None, approval_on=True)
    assert view_errors(off) == [] and view_errors(on) == []
    approval = (ids.SETTINGS_APPROVAL_CHANNEL_BLOCK, ids.SETTINGS_APPROVERS_BLOCK, ids.SETTINGS_APPROVALS_NEEDED_BLOCK,
                ids.SETTINGS_SELF_APPROVAL_BLOCK, ids.SETTINGS_APPROVE_REACTION_BLOCK,
                ids.SETTINGS_REJECT_REACTION_BLOCK)
    assert not set(approval) & set(_by_id(off)) and set(approval) <= set(_by_id(on))
    assert _by_id(off)[ids.SETTINGS_APPROVAL_REQUIRED_BLOCK]["dispatch_action"] is True
    assert "initial_options" in _by_id(on)[ids.SETTINGS_APPROVAL_REQUIRED_BLOCK]["element"]
    # The blocks both show keep their ids and order: Slack keeps what was chosen in them across views.update.
    common = [i for i in _by_id(on) if i in _by_id(off)]
    assert common == list(_by_id(off))
    # Saved as on: the fields show, and the note about posts already waiting.
    saved_on = settings_views.settings_modal(_workspace(approval_required=True, approval_channel_id="C1"), None)
    assert set(approval) <= set(_by_id(saved_on)) and "does not release posts" in _text(saved_on)


def test_settings_time_zone_suggests_the_admins_own_and_keeps_a_saved_one():
    fresh = _by_id(settings_views.settings_modal(_workspace(), None, own_zone="America/Chicago"))
    zone = fresh[ids.SETTINGS_TIMEZONE_BLOCK]
    assert zone["element"]["initial_option"]["value"] == "America/Chicago"
    assert "Picmim uses UTC until you save" in zone["hint"]["text"]
    saved = _by_id(settings_views.settings_modal(_workspace(default_timezone="Asia/Kathmandu"), None,
                                                 own_zone="America/Chicago"))
    element = saved[ids.SETTINGS_TIMEZONE_BLOCK]["element"]
    assert element["initial_option"]["value"] == "Asia/Kathmandu", "a saved zone outside the list stays chosen"
    values = [o["value"] for g in element["option_groups"] for o in g["options"]]
    assert "Asia/Kathmandu" in values and "America/Chicago" in values and len(values) == len(set(values))


def test_settings_reactions_are_a_choice_that_keeps_an_uncommon_saved_one():
    view = settings_views.settings_modal(_workspace(approval_required=True, approve_reaction="shipit"), None)
    element = _by_id(view)[ids.SETTINGS_APPROVE_REACTION_BLOCK]["element"]
    assert element["type"] == "static_select" and element["initial_option"]["value"] == "shipit"
    assert element["options"][0]["text"]["text"] == ":shipit:  shipit"
    reject = _by_id(view)[ids.SETTINGS_REJECT_REACTION_BLOCK]["element"]
    assert reject["initial_option"]["value"] == "x" and "no_entry" in [o["value"] for o in reject["options"]]


def test_the_zone_select_is_grouped_valid_and_says_each_offset():
    element = zone_select("z", "Europe/Madrid", also=("Not/AZone", None), now=NOW)
    assert [g["label"]["text"] for g in element["option_groups"]][:2] == ["Americas", "Europe"]
    assert element["initial_option"] == {"text": {"type": "plain_text", "text": "Madrid (UTC+01:00)"},
                                         "value": "Europe/Madrid"}
    assert "Not/AZone" not in _text(element)
    assert zone_label("America/St_Johns", datetime(2026, 1, 5, tzinfo=UTC)) == "St Johns (UTC−03:30)"
    assert zone_label("UTC") == "UTC (Coordinated Universal Time)"
    assert "initial_option" not in zone_select("z", None)
    block = {"type": "input", "block_id": "b", "label": {"type": "plain_text", "text": "Zone"}, "element": element}
    assert block_kit_errors([block], MESSAGE_BLOCK_LIMIT) == []
    assert len(reaction_select("r", ["x", "x", "no_entry"], "x")["options"]) == 2


# ---- stats and digests ----------------------------------------------------------------------------------------------


def _account(i: int, platform: str, name: str, values: tuple[Value, ...], **kw) -> AccountFigures:
    return AccountFigures(i, platform, BY_KEY[platform].name, name, None, values, kw.pop("synced_at", NOW),
                          kw.pop("not_synced", False), kw.pop("problem", None), **kw)


def test_a_report_has_no_vanity_rows_says_no_earlier_figure_once_and_one_line_per_broken_account():
    x = _account(1, "x", "Acme Marketing", (
        Value("Followers", 1270, 1200), Value("Following", 10, 10), Value("Posts", 0), Value("Listed", 4, 3),
        Value("Impressions", None, available=False)))
    bluesky = _account(2, "bluesky", "Acme Sky", (Value("Followers", 300), Value("Following", 0), Value("Posts", 12)))
    broken = _account(3, "linkedin", "Maria Lopez", tuple(Value(label, None) for label in
                                                          ("Followers", "Impressions", "Reactions", "Comments",
                                                           "Reposts")),
                      not_synced=True, synced_at=NOW - timedelta(days=4), problem="Its connection is revoked.")
    report = Report(NOW - timedelta(days=7), NOW, (x, bluesky, broken))
    blocks = stats_views.report_blocks(report, "UTC", "Weekly digest", compared_with="the week before",
                                       reconnect={3: 30})
    assert block_kit_errors(blocks, MESSAGE_BLOCK_LIMIT) == []
    text = _text(blocks)
    sections = [b["text"]["text"] for b in blocks if b["type"] == "section"]
    assert sections[0] == ("*Acme Marketing* · as of 08:00 (UTC)\n*Followers*: 1,270 · ▲ 5.8% (+70)\n"
                           "*Following*: 10 · no change")
    assert sections[1].startswith("*Acme Sky*") and sections[1].endswith("\n*Followers*: 300\n*Posts*: 12")
    assert text.count("no earlier figure to compare") == 1 and stats_views.NO_COMPARISON in text
    [line] = [b for b in blocks if b["type"] == "section" and b["text"]["text"].startswith("*Maria Lopez*")]
    assert line["text"]["text"] == ("*Maria Lopez*\n:warning: Not synced since 5 Mar 2026, 08:00 (UTC): figures for "
                                    "this period are missing. Its connection is revoked.")
    assert (line["accessory"]["action_id"], line["accessory"]["value"]) == (ids.ACCOUNT_RECONNECT, "30")
    assert "_missing_" not in text
    # Compared everywhere: no note.
    compared = Report(NOW - timedelta(days=7), NOW, (x,))
    assert "no earlier figure" not in _text(stats_views.report_blocks(compared, "UTC", "T", compared_with="c"))


def test_report_text_counts_accounts_in_words():
    one = Report(NOW - timedelta(days=7), NOW, (_account(1, "x", "A", (Value("Followers", 1),)),))
    assert stats_views.report_text(one, "Weekly digest", "UTC").startswith("Weekly digest: 1 account, ")
    two = Report(NOW - timedelta(days=7), NOW, one.accounts * 2)
    assert stats_views.report_text(two, "Weekly digest", "UTC").startswith("Weekly digest: 2 accounts, ")


def _subscription(**columns) -> DigestSubscription:
    values = {"id": 5, "workspace_id": 1, "channel_id": "C0DIGEST", "frequency": "weekly", "weekday": 0,
              "time_of_day": "09:00", "timezone": "America/New_York", "account_ids": [], "platforms": [],
              "created_by": "U1", "next_run_at": datetime(2026, 3, 16, 13, tzinfo=UTC),
              "last_run_at": datetime(2026, 3, 9, 13, tzinfo=UTC), "last_error": None, **columns}
    return DigestSubscription(**values)


def test_the_digest_list_gives_the_schedule_and_the_runs_in_the_digests_own_zone():
    blocks = stats_views.digest_list([_subscription()], {}, "Europe/Madrid")
    assert block_kit_errors(blocks, MESSAGE_BLOCK_LIMIT) == []
    [row] = [b for b in blocks if b.get("block_id") == "digest_5"]
    assert row["text"]["text"].splitlines() == [
        "<#C0DIGEST> · Every Monday at 09:00 (America/New_York)", "For every connected account",
        "Next: 16 Mar 2026, 09:00 (America/New_York time) · last: 9 Mar 2026, 09:00 (America/New_York time)"]
    said = stats_views.subscribed_text(_subscription(), {}, True, "Europe/Madrid")
    assert "The first one arrives 16 Mar 2026, 09:00 (America/New_York time)." in said


def test_the_unsubscribe_note_keeps_the_channel_a_link():
    blocks = stats_views.digest_list([], {}, None, note="Unsubscribed: <#C0DIGEST> gets no more of this digest.")
    assert "<#C0DIGEST>" in _text(blocks) and "&lt;#" not in _text(blocks)


def test_the_digest_modal_offers_the_zone_as_a_choice():
    view = stats_views.subscribe_modal("C1", "Asia/Kathmandu", [(1, "X · Acme")], [BY_KEY["x"]], "{}")
    assert view_errors(view) == []
    element = _by_id(view)[ids.DIGEST_ZONE_BLOCK]["element"]
    assert element["type"] == "static_select" and element["initial_option"]["value"] == "Asia/Kathmandu"
