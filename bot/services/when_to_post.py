"""The compose window's quick choices of when to post: the next two best slots (from best times) of each chosen
account, and the next free posting slot. One post has one time, so "Next free slot" is the first chosen account's
that has slots, and says whose it is.

Free of Slack: callers hand in the time (UTC).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.services import best_times, slots
from bot.services.analytics_catalogue import platform_name
from bot.storage.models import Account

BEST, SLOT = "best", "slot"
BEST_PER_ACCOUNT = 2
MAX_BEST = 5  # quick choices from best times in all (the window's "When" list stays short)


@dataclass(frozen=True)
class QuickTime:
    at: datetime  # UTC
    reason: str  # BEST | SLOT
    account: str  # "X · Acme Marketing": whose best time or slot it is
    account_id: int | None = None  # whose slot (checked again when the window is submitted)


async def quick_times(session: AsyncSession, workspace_id: int, timezone: str, account_ids: Sequence[int],
                      now: datetime) -> list[QuickTime]:
    """Best slots first (earliest first), then the next free slot; a time offered once."""
    if not account_ids:
        return []
    found: list[QuickTime] = []
    for best in await best_times.for_accounts(session, account_ids, timezone, now):
        found += [QuickTime(at, BEST, best.label) for at in best_times.next_times(best, now, BEST_PER_ACCOUNT)]
    found = sorted(found, key=lambda q: q.at)[:MAX_BEST]
    with_slots = await slots.accounts_with_slots(session, account_ids)
    first = next((i for i in account_ids if i in with_slots), None)
    if first is not None:
        at = await slots.next_free_slot(session, first, now)
        account = await session.get(Account, first)
        if at is not None and account is not None and account.workspace_id == workspace_id:
            found.append(QuickTime(at, SLOT, f"{platform_name(account.platform)} · {account.name}", first))
    # A best time that is also the free slot is offered once, as the slot (picking it uses the slot).
    taken = {q.at for q in found if q.reason == SLOT}
    unique: dict[datetime, QuickTime] = {}
    for quick in found:
        if quick.reason == SLOT or quick.at not in taken:
            unique.setdefault(quick.at, quick)
    return list(unique.values())
