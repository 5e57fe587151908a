"""The compose window as Slack would show it: accounts first, a part per chosen network with only its own fields
(labelled in the network's words), alt text per picture, and what is read back from a submission into typed
settings; the review card and status message say what each network will get."""

from __future__ import annotations

from bot import ids
from bot.handlers.compose_form import block_errors, read
from bot.platforms.settings import (
    FacebookSettings,
    InstagramSettings,
    PinterestSettings,
    TikTokSettings,
    XSettings,
    YouTubeSettings,
    settings_from_json,
    to_json,
)
from bot.sandbox.fakes.slack import view_errors
from bot.services import composing
from bot.services.composing import Choice, Composition
from bot.views.compose import compose_modal, link_card_blocks, youtube_title
from bot.views.post_settings import settings_line

BOARDS = {"boards": [{"id": "111", "name": "Coffee"}, {"id": "222", "name": "Autumn menu"}],
          "default_board_id": "111"}
YOUTUBE = Choice(1, "youtube", "YouTube", "Acme TV", kind="channel")
PINTEREST = Choice(2, "pinterest", "Pinterest", "Acme Shop", kind="board", settings=BOARDS)
TIKTOK = Choice(3, "tiktok", "TikTok", "Acme Studio", "acmestudio", settings={
    "privacy_level_options": ["PUBLIC_TO_EVERYONE", "SELF_ONLY"], "comment_disabled": False,
    "duet_disabled": True, "stitch_disabled": False})
X = Choice(4, "x", "X", "Acme", "acme")
OFFERED = [YOUTUBE, PINTEREST, TIKTOK, X]


def blocks_of(view: dict) -> dict[str, dict]:
    return {b.get("block_id"): b for b in view["blocks"]}


def label(block: dict) -> str:
    return block["label"]["text"]


def test_the_window_opens_short_with_the_accounts_first_whatever_is_connected():
    many = [Choice(i, key, key.title(), f"Account {i}") for i, key in enumerate(
        ("instagram", "facebook", "linkedin", "x", "tiktok", "pinterest", "youtube", "bluesky"), start=1)]
    view = compose_modal(many, Composition(), "{}")
    assert view_errors(view) == []
    inputs = [b for b in view["blocks"] if b["type"] == "input"]
    assert len(inputs) <= 6 and inputs[0]["block_id"] == ids.COMPOSE_ACCOUNTS_BLOCK
    assert inputs[0]["dispatch_action"] is True, "choosing accounts brings up their parts"
    options = [o["text"]["text"] for g in inputs[0]["element"]["option_groups"] for o in g["options"]]
    assert "Youtube · Account 7" in options, "each account says its network"
    assert view["submit"]["text"] == "Publish" and view["close"]["text"] == "Save draft"
    assert compose_modal(many, Composition(), "{}", needs_approval=True)["submit"]["text"] == "Send for approval"


def test_each_chosen_network_gets_only_its_own_fields_in_its_words():
    view = compose_modal(OFFERED, Composition(text="Our new roast\nMore below", account_ids=[1, 2, 3]), "{}",
                         pictures=[(0, "latte.png")])
    assert view_errors(view) == []
    blocks = blocks_of(view)
    youtube = f"{ids.COMPOSE_SETTING_BLOCK}youtube:"
    assert label(blocks[youtube + "title"]) == "Title"
    assert blocks[youtube + "title"]["element"]["initial_value"] == "Our new roast", "from the text's first line"
    assert label(blocks[youtube + "privacy"]) == "Privacy"
    kids = blocks[youtube + "made_for_kids"]
    assert kids["optional"] is False and "initial_option" not in kids["element"], "YouTube wants it declared"
    board = blocks[f"{ids.COMPOSE_BOARD_BLOCK}2"]
    assert label(board) == "Board"
    assert [o["value"] for o in board["element"]["options"]] == ["111", "222"]
    assert board["element"]["initial_option"]["value"] == "111", "the account's default board first"
    assert label(blocks[f"{ids.COMPOSE_SETTING_BLOCK}pinterest:link"]) == "Destination link"
    privacy = blocks[ids.COMPOSE_TIKTOK_PRIVACY_BLOCK]["element"]
    assert [o["value"] for o in privacy["options"]] == ["PUBLIC_TO_EVERYONE", "SELF_ONLY"], "what the creator offers"
    allow = blocks[f"{ids.COMPOSE_SETTING_BLOCK}tiktok:allow"]["element"]
    assert [o["value"] for o in allow["options"]] == ["comment", "stitch"], "duets are off for this creator"
    assert "Your brand" in str(blocks[f"{ids.COMPOSE_SETTING_BLOCK}tiktok:disclosure"])
    assert label(blocks[f"{ids.COMPOSE_ALT_BLOCK}0"]) == "Alt text for latte.png"
    assert f"{ids.COMPOSE_SETTING_BLOCK}x:reply_settings" not in blocks, "X was not chosen"
    assert youtube_title("<b>Launch</b> " + "x" * 200).startswith("bLaunch/b") and len(youtube_title("y" * 200)) == 100


def _submitted(**fields) -> dict:
    values = {ids.COMPOSE_TEXT_BLOCK: {ids.COMPOSE_TEXT_INPUT: {"type": "plain_text_input", "value": "Hi"}}}
    for block_id, state in fields.items():
        action = {ids.COMPOSE_TIKTOK_PRIVACY_BLOCK: ids.COMPOSE_TIKTOK_PRIVACY_INPUT}.get(block_id)
        if block_id.startswith(ids.COMPOSE_BOARD_BLOCK):
            action = ids.COMPOSE_BOARD_INPUT
        elif block_id.startswith(ids.COMPOSE_ALT_BLOCK):
            action = ids.COMPOSE_ALT_INPUT
        values[block_id] = {action or ids.COMPOSE_SETTING_INPUT: state}
    return {"state": {"values": values}}


def test_a_submission_is_read_into_each_networks_typed_settings():
    setting = ids.COMPOSE_SETTING_BLOCK
    composition, _, _ = read(_submitted(**{
        f"{setting}youtube:title": {"type": "plain_text_input", "value": " Our new roast "},
        f"{setting}youtube:privacy": {"type": "static_select", "selected_option": {"value": "unlisted"}},
        f"{setting}youtube:made_for_kids": {"type": "radio_buttons", "selected_option": {"value": "no"}},
        f"{setting}youtube:tags": {"type": "plain_text_input", "value": "coffee, roast,, coffee"},
        f"{ids.COMPOSE_BOARD_BLOCK}2": {"type": "static_select", "selected_option": {"value": "222"}},
        f"{setting}pinterest:link": {"type": "url_text_input", "value": "https://acme.example/roast"},
        ids.COMPOSE_TIKTOK_PRIVACY_BLOCK: {"type": "static_select", "selected_option": {"value": "SELF_ONLY"}},
        f"{setting}tiktok:allow": {"type": "checkboxes", "selected_options": [{"value": "stitch"}]},
        f"{setting}tiktok:disclosure": {"type": "checkboxes", "selected_options": [{"value": "your_brand"}]},
        f"{setting}x:reply_settings": {"type": "static_select", "selected_option": {"value": "mentionedUsers"}},
        f"{ids.COMPOSE_ALT_BLOCK}1": {"type": "plain_text_input", "value": "A latte with a leaf"}}))
    assert composition.settings["youtube"] == YouTubeSettings(title="Our new roast", privacy="unlisted",
                                                              made_for_kids=False, tags=("coffee", "roast"))
    assert composition.settings_for("pinterest", 2) == PinterestSettings(board_id="222",
                                                                        link="https://acme.example/roast")
    assert composition.settings["tiktok"] == TikTokSettings(privacy_level="SELF_ONLY", allow_stitch=True,
                                                            your_brand=True)
    assert composition.settings["x"] == XSettings(reply_settings="mentionedUsers")
    assert composition.alt_texts == ["", "A latte with a leaf"] and composition.alt_text(1) == "A latte with a leaf"
    forged, _, _ = read(_submitted(**{
        f"{setting}youtube:privacy": {"type": "static_select", "selected_option": {"value": "everyone-ever"}},
        f"{setting}youtube:made_for_kids": {"type": "radio_buttons", "selected_option": {"value": "maybe"}},
        f"{setting}x:reply_settings": {"type": "static_select", "selected_option": ["nope"]}}))
    assert forged.settings["youtube"] == YouTubeSettings(), "anything forged is the default"
    assert forged.settings["x"] == XSettings()


def test_problems_land_beside_the_field_at_fault_or_the_accounts_when_it_is_not_shown():
    problems = {composing.setting_field("youtube", "title"): ["YouTube needs a title: add one."],
                composing.board_field(2): ["Choose a board."], composing.alt_field(0): ["Too long for X."]}
    assert block_errors(problems) == {f"{ids.COMPOSE_SETTING_BLOCK}youtube:title": "YouTube needs a title: add one.",
                                      f"{ids.COMPOSE_BOARD_BLOCK}2": "Choose a board.",
                                      f"{ids.COMPOSE_ALT_BLOCK}0": "Too long for X."}
    shown = {ids.COMPOSE_ACCOUNTS_BLOCK, f"{ids.COMPOSE_BOARD_BLOCK}2"}
    assert block_errors(problems, shown) == {
        ids.COMPOSE_ACCOUNTS_BLOCK: "YouTube needs a title: add one. Too long for X.",
        f"{ids.COMPOSE_BOARD_BLOCK}2": "Choose a board."}


def test_an_approver_reads_what_each_network_gets():
    assert settings_line(YouTubeSettings(title="Our <new> roast", privacy="unlisted", made_for_kids=False)) == \
        "“Our &lt;new&gt; roast” · Unlisted · not made for kids · People & Blogs"
    assert settings_line(PinterestSettings(board_id="222", link="https://acme.example"), BOARDS) == \
        "board Autumn menu · links to https://acme.example"
    assert settings_line(TikTokSettings(privacy_level="SELF_ONLY", allow_comment=True, branded_content=True)) == \
        "seen by only me · allows comments · Paid partnership"
    assert settings_line(XSettings()) is None, "nothing beyond the defaults"
    assert settings_line(YouTubeSettings(title="Roast", made_for_kids=False, playlist_id="PL1"),
                         {"playlists": [{"id": "PL1", "title": "Roast days"}]}) == \
        "“Roast” · Public · not made for kids · People & Blogs · added to playlist Roast days"


def test_instagram_and_facebook_post_types_are_read_shown_and_kept():
    instagram, facebook = Choice(5, "instagram", "Instagram", "Acme Coffee"), Choice(6, "facebook", "Facebook", "Acme")
    view = compose_modal([instagram, facebook], Composition(text="Hi", account_ids=[5, 6]), "{}")
    assert view_errors(view) == []
    blocks = blocks_of(view)
    setting = ids.COMPOSE_SETTING_BLOCK
    assert label(blocks[f"{setting}instagram:post_type"]) == "Post type"
    assert [o["text"]["text"] for o in blocks[f"{setting}facebook:post_type"]["element"]["options"]] == [
        "Post", "Reel", "Story"]

    composition, _, _ = read(_submitted(**{
        f"{setting}instagram:post_type": {"type": "static_select", "selected_option": {"value": "reel"}},
        f"{setting}instagram:share_to_feed": {"type": "checkboxes", "selected_options": []},
        f"{setting}facebook:post_type": {"type": "static_select", "selected_option": {"value": "story"}}}))
    ig, fb = composition.settings["instagram"], composition.settings["facebook"]
    assert ig == InstagramSettings(post_type="reel", share_to_feed=False)
    assert fb == FacebookSettings(post_type="story")
    assert settings_from_json("instagram", to_json(ig)) == ig, "an edit brings the choice back"
    assert settings_line(ig) == "Reel, not shared to the feed"
    assert settings_line(fb).startswith("Story")
    forged, _, _ = read(_submitted(**{
        f"{setting}instagram:post_type": {"type": "static_select", "selected_option": {"value": "live"}}}))
    assert forged.settings["instagram"] == InstagramSettings(), "unknown types are the default: the media decide"


def test_the_link_card_preview_says_what_each_network_will_show():
    link = "https://roastery.example/news"
    text = f"New roast: {link}."
    [hint] = link_card_blocks("bluesky", "Bluesky", "no link yet", [], None)
    assert "A link in the text becomes a card on Bluesky" in hint["text"]["text"]
    assert hint["accessory"]["action_id"] == ids.COMPOSE_LINK_PREVIEW
    [fetching] = link_card_blocks("bluesky", "Bluesky", text, [], {})
    assert "fetching" in fetching["text"]["text"]
    [refused] = link_card_blocks("linkedin", "LinkedIn", text, [], {link: {"error": "Picmim does not open links to "
                                                                                "private or local addresses."}})
    assert "No link card" in refused["text"]["text"] and "private or local" in refused["text"]["text"]
    card, again = link_card_blocks("linkedin", "LinkedIn", text, [], {link: {
        "title": "Our <new> roast", "description": "Bright.", "image_url": "https://roastery.example/card.jpg"}})
    assert card["text"]["text"] == f"Link card on LinkedIn:\n*Our &lt;new&gt; roast*\nBright.\n{link}"
    assert card["accessory"] == {"type": "image", "image_url": "https://roastery.example/card.jpg",
                                 "alt_text": "The page's picture"}
    assert again["elements"][0]["action_id"] == ids.COMPOSE_LINK_PREVIEW
    [attached] = link_card_blocks("bluesky", "Bluesky", text, [{"id": "F1", "mimetype": "image/png"}], None)
    assert "shows it instead of a link card" in attached["text"]["text"]
