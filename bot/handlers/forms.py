"""Reading what a person typed or chose in a modal (`view.state.values`): every part may be missing or of the
wrong shape in a forged payload, so each reader answers with a safe empty value instead of failing."""

from __future__ import annotations

from typing import Any


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
    return value if isinstance(value, str) else ""


def option(values: dict, block_id: str, action_id: str) -> str | None:
    """The chosen option's value (a static select or radio buttons)."""
    chosen = field(values, block_id, action_id).get("selected_option")
    value = chosen.get("value") if isinstance(chosen, dict) else None
    return value if isinstance(value, str) else None


def options(values: dict, block_id: str, action_id: str) -> list[str]:
    """The chosen options' values (a multi-select or checkboxes)."""
    chosen = field(values, block_id, action_id).get("selected_options")
    return [o["value"] for o in chosen if isinstance(o, dict) and isinstance(o.get("value"), str)] \
        if isinstance(chosen, list) else []


def whole_number(text: str | None) -> int | None:
    try:
        return int(text) if text is not None else None
    except ValueError:
        return None
