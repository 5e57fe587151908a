from __future__ import annotations

from pathlib import Path

import yaml

from bot.app import BOT_SCOPES
from bot.sandbox.fakes.slack import block_kit_errors, view_errors
from bot.views.help import SUBCOMMANDS, help_blocks

ROOT = Path(__file__).resolve().parent.parent


def test_manifest_matches_what_the_app_serves():
    manifest = yaml.safe_load((ROOT / "manifest.yml").read_text())
    features, settings = manifest["features"], manifest["settings"]
    assert [c["command"] for c in features["slash_commands"]] == ["/picmim"]
    assert features["app_home"]["home_tab_enabled"] is True
    assert settings["interactivity"]["is_enabled"] is True
    assert set(manifest["oauth_config"]["scopes"]["bot"]) == set(BOT_SCOPES)
    assert {"app_home_opened", "app_uninstalled", "tokens_revoked", "reaction_added", "reaction_removed",
            "message.im"} == set(
        settings["event_subscriptions"]["bot_events"])
    urls = {features["slash_commands"][0]["url"], settings["event_subscriptions"]["request_url"],
            settings["interactivity"]["request_url"]}
    assert {u.rsplit("/", 2)[-2:] == ["slack", "events"] for u in urls} == {True}
    assert manifest["oauth_config"]["redirect_urls"][0].endswith("/slack/oauth_redirect")
    assert len(manifest["display_information"]["long_description"]) >= 174


def test_help_is_valid_block_kit_and_lists_everything():
    blocks = help_blocks("/picmim", "intro", frozenset({"help"}), is_admin=True)
    assert block_kit_errors(blocks, 50) == []
    text = str(blocks)
    assert all(f"/picmim {s.usage}" in text for s in SUBCOMMANDS)
    assert text.count("(coming soon)") == len(SUBCOMMANDS) - 1


def test_fake_slack_refuses_what_block_kit_refuses():
    assert block_kit_errors([{"type": "header", "text": {"type": "plain_text", "text": "x" * 151}}], 50)
    assert block_kit_errors([{"type": "section"}] * 51, 50)
    assert block_kit_errors([{"type": "no_such_block"}], 50)
    assert view_errors({"type": "modal", "title": {"type": "plain_text", "text": "x" * 25},
                        "blocks": [{"type": "divider"}]})


def test_manifest_has_the_post_to_social_shortcut_and_the_compose_modal_is_valid():
    from bot import ids
    from bot.services.composing import Choice, Composition
    from bot.views.compose import compose_modal, drafts_list, nothing_connected_modal

    manifest = yaml.safe_load((ROOT / "manifest.yml").read_text())
    [shortcut] = manifest["features"]["shortcuts"]
    assert (shortcut["type"], shortcut["callback_id"], shortcut["name"]) == (
        "message", ids.COMPOSE_SHORTCUT, "Post to social")
    assert len(shortcut["description"]) <= 80
    offered = [Choice(1, "x", "X", "Acme", "acme"), Choice(2, "bluesky", "Bluesky", "Acme", "acme.bsky.social")]
    view = compose_modal(offered, Composition("hi", [2], {"x": "hi X"}, "first"), '{"channel_id": "C1"}')
    assert view_errors(view) == []
    assert view_errors(nothing_connected_modal()) == []
    assert block_kit_errors(drafts_list([], None), 50) == []
