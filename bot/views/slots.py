"""Block Kit for the posting slots window: one account's preferred weekly times, a time list per weekday, in the
workspace's time zone (the account's audience time)."""

from __future__ import annotations

from collections.abc import Sequence

from bot import ids
from bot.services.slots import WEEKDAYS, Slot
from bot.views.blocks import choices, context, esc, input_block, modal, option, section

STEP_MINUTES = 15  # 96 times a day: within Slack's 100 options a list
TIMES = tuple(f"{m // 60:02d}:{m % 60:02d}" for m in range(0, 24 * 60, STEP_MINUTES))


def day_block(account_id: int, weekday: int) -> str:
    """The block of one weekday's times; it names the account, so choosing another account does not carry the
    times picked for the first one over (Slack keeps an input's state while its block_id stays)."""
    return f"{ids.SLOTS_DAY_BLOCK}{account_id}:{weekday}"


def slots_modal(accounts: Sequence[tuple[int, str]], account_id: int, slots: Sequence[Slot], timezone: str) -> dict:
    """`accounts`: (id, "Network · Name") of every account the person may set slots for; `account_id` the one
    shown, with its `slots`."""
    offered = [option(label[:75], str(i)) for i, label in accounts][:100]
    shown = next((o for o in offered if o["value"] == str(account_id)), None)
    account = input_block(ids.SLOTS_ACCOUNT_BLOCK, "Account", choices(
        "static_select", ids.SLOTS_ACCOUNT_INPUT, offered, initial=shown, placeholder="Choose an account"),
        optional=False)
    account["dispatch_action"] = True  # another account: its own slots
    blocks = [account,
              section("Choose the times this account should post at each week. *Next free slot* in the compose "
                      "window (and `next slot` in an import) takes the earliest of them no post uses yet."),
              context(f"Times are in the account's audience time: {esc(timezone)}, the workspace's time zone "
                      "(`/picmim settings` changes it).")]
    times = [option(t, t) for t in TIMES]
    for weekday, name in enumerate(WEEKDAYS):
        chosen = [o for o in times if Slot(weekday, o["value"]) in slots]
        blocks.append(input_block(day_block(account_id, weekday), name, choices(
            "multi_static_select", ids.SLOTS_DAY_INPUT, times, initial=chosen, placeholder="No slot"),
            optional=True))
    return modal("Posting slots", blocks, callback_id=ids.SLOTS_VIEW, submit="Save", close="Cancel",
                 private_metadata=str(account_id))


def nothing_to_set_modal(reason: str) -> dict:
    return modal("Posting slots", [section(reason)], close="Close")
