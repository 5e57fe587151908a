"""Reading what a person typed or chose in a modal (`view.state.values`): every part may be missing or of the
wrong shape in a forged payload, so each reader answers with a safe empty value instead of failing. Text comes
back storable (no NUL, no lone surrogates: PostgreSQL refuses them, and the draft would be lost)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from bot.payloads import is_slack_id, storable

LATEST_TIME = 253402300799  # 9999-12-31 23:59:59 UTC: a later "time" is forged (datetime cannot hold it)


def values_of(view: Any) -> dict:
    state = view.get("state") if isinstance(view, dict) else None
    values = state.get("values") if isinstance(state, dict) else None
    return values if isinstance(values, dict) else {}


def field(values: dict, block_id: str, action_id: str) -> dict:
    """One input's state; {} when it is absent."""
    block = values.get(block_id)
    found = block.get(action_id) if isinstance(block, dict) else None
    return found if isinstance(found, dict) else {}


def text(values: dict, block_id: str, action_id: str) -> str:
    value = field(values, block_id, action_id).get("value")
    return storable(value) if isinstance(value, str) else ""


def option(values: dict, block_id: str, action_id: str) -> str | None:
    """The chosen option's value (a static select or radio buttons)."""
    return chosen_option(field(values, block_id, action_id))


def options(values: dict, block_id: str, action_id: str) -> list[str]:
    """The chosen options' values (a multi-select or checkboxes), each once."""
    return chosen_options(field(values, block_id, action_id))


def chosen_option(state: dict) -> str | None:
    chosen = state.get("selected_option")
    value = chosen.get("value") if isinstance(chosen, dict) else None
    return storable(value) if isinstance(value, str) else None


def chosen_options(state: dict) -> list[str]:
    chosen = state.get("selected_options")
    found = [storable(o["value"]) for o in chosen if isinstance(o, dict) and isinstance(o.get("value"), str)] \
        if isinstance(chosen, list) else []
    return list(dict.fromkeys(found))  # the same option twice (forged) counts once


def slack_ids(state: dict, key: str) -> list[str]:
    """People or conversations chosen in a Slack picker (`selected_users`…): the well-formed ids, each once."""
    chosen = state.get(key)
    return list(dict.fromkeys(i for i in chosen if is_slack_id(i))) if isinstance(chosen, list) else []


def slack_id(state: dict, key: str) -> str | None:
    """The one conversation or person chosen (`selected_conversation`…), or None."""
    chosen = state.get(key)
    return chosen if is_slack_id(chosen) else None


def moment(state: dict) -> datetime | None:
    """A date-time picker's choice (`selected_date_time`, seconds since 1970), or None when there is none or it
    is not a time (text, a boolean, before 1970 or after 9999)."""
    stamp = state.get("selected_date_time")
    if isinstance(stamp, bool) or not isinstance(stamp, int | float) or not 0 < stamp <= LATEST_TIME:
        return None
    return datetime.fromtimestamp(int(stamp), UTC)


def whole_number(text: str | None) -> int | None:
    try:
        return int(text) if text is not None else None
    except ValueError:
        return None
