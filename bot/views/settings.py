"""The `/picmim settings` modal (workspace admins only)."""

from __future__ import annotations

from bot import ids
from bot.storage.models import Workspace

POLICY_LABELS = {
    "members": "Everyone in the workspace",
    "admins": "Workspace admins only",
    "list": "Workspace admins and the people below",
}


def settings_modal(workspace: Workspace) -> dict:
    options = [{"text": {"type": "plain_text", "text": label}, "value": value}
               for value, label in POLICY_LABELS.items()]
    current = next(o for o in options if o["value"] == workspace.managers_policy)
    people = {"type": "multi_users_select", "action_id": ids.SETTINGS_MANAGER_USERS_INPUT,
              "placeholder": {"type": "plain_text", "text": "Choose people"}}
    if workspace.manager_user_ids:
        people["initial_users"] = list(workspace.manager_user_ids)
    return {
        "type": "modal", "callback_id": ids.SETTINGS_VIEW,
        "title": {"type": "plain_text", "text": "Picmim settings"},
        "submit": {"type": "plain_text", "text": "Save"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": [
            {"type": "input", "block_id": ids.SETTINGS_MANAGERS_BLOCK,
             "label": {"type": "plain_text", "text": "Who may connect and disconnect social accounts"},
             "element": {"type": "radio_buttons", "action_id": ids.SETTINGS_MANAGERS_INPUT, "options": options,
                         "initial_option": current}},
            {"type": "input", "block_id": ids.SETTINGS_MANAGER_USERS_BLOCK, "optional": True,
             "label": {"type": "plain_text", "text": "People who may, besides admins"},
             "hint": {"type": "plain_text", "text": "Used with “Workspace admins and the people below”."},
             "element": people},
            {"type": "context", "elements": [{"type": "mrkdwn", "text": (
                "Everyone may always see the connected accounts and their health.")}]},
        ],
    }
