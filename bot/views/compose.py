"""Block Kit for composing: the compose modal, the modal shown when nothing is connected, and the
`/picmim drafts` list."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from bot import ids
from bot.platforms import threads
from bot.platforms.link_cards import first_link
from bot.platforms.settings import (
    FACEBOOK_POST_TYPES,
    INSTAGRAM_POST_TYPES,
    LINKEDIN_VISIBILITY,
    X_REPLY_SETTINGS,
    YOUTUBE_CATEGORIES,
    YOUTUBE_PRIVACY,
    BlueskySettings,
    FacebookSettings,
    InstagramSettings,
    LinkedInSettings,
    PinterestSettings,
    TikTokSettings,
    XSettings,
    YouTubeSettings,
)
from bot.platforms.tiktok_choices import TIKTOK_BRAND_LABELS, disclosure_label
from bot.services import composing
from bot.services.composing import Choice, Composition, DraftSummary, platforms_of
from bot.services.link_previews import CARD_PLATFORMS
from bot.services.when_to_post import QuickTime
from bot.views import compose_when
from bot.views.blocks import (
    actions,
    button,
    choices,
    context,
    esc,
    header,
    input_block,
    local_time,
    modal,
    option,
    plain,
    section,
)

TEXT_MAX = 3000  # Slack's plain_text_input limit
FILETYPES = ["jpg", "jpeg", "png", "gif", "webp", "heic", "heif", "mp4", "mov", "m4v", "webm", "pdf"]
MAX_FILES = 10
YOUTUBE_SHORT_MAX_SECONDS = 180  # bot.platforms.youtube.SHORT_MAX_SECONDS (views do not import adapters)
NOW, SCHEDULE = compose_when.NOW, compose_when.SCHEDULE


def _text_input(block_id: str, action_id: str, label: str, initial: str | None, *, optional: bool = True,
                multiline: bool = True, hint: str | None = None, placeholder: str | None = None) -> dict:
    element = {"type": "plain_text_input", "action_id": action_id, "multiline": multiline, "max_length": TEXT_MAX}
    if initial:
        element["initial_value"] = initial[:TEXT_MAX]
    if placeholder:
        element["placeholder"] = plain(placeholder[:150])
    return input_block(block_id, label, element, optional=optional, hint=hint)


def _option(choice: Choice) -> dict:
    """One "Platform · Account" option: two accounts of the same name on two networks stay apart."""
    name = f"{choice.name} (@{choice.handle})" if choice.handle and choice.handle != choice.name else choice.name
    return option(f"{choice.platform_name} · {name}", str(choice.id))


def compose_modal(offered: Sequence[Choice], composition: Composition, private_metadata: str, *,
                  editing: bool = False, attached: Sequence[str] = (), pictures: Sequence[tuple[int, str]] = (),
                  needs_approval: bool = False, first_comment_platforms: Sequence[str] = (),
                  note: str | None = None, files: Sequence[dict] = (),
                  link_card: Mapping[str, dict] | None = None, repeat: Sequence[dict] = (),
                  title: str | None = None, quick_times: Sequence[QuickTime] = (), tz: str | None = None) -> dict:
    """The compose modal, prefilled with `composition` (a command's text, a message, a draft, a queued post being
    edited, or the modal itself being brought up to date). The accounts come first; once chosen, each chosen
    network gets a part of its own with only its fields. `attached` names the attachments the post keeps (Slack
    cannot prefill a file input); `pictures` are (position, file name) of the attached pictures, each given an alt
    text field; `first_comment_platforms` are the platforms that take a first comment; `quick_times` the "When"
    part's quick choices, shown in the author's zone `tz`."""
    chosen_accounts = [c for c in offered if c.id in composition.account_ids]
    blocks = [_accounts_input(offered, composition),
              *([context(note)] if note else []),  # e.g. why some accounts are not offered
              _text_input(ids.COMPOSE_TEXT_BLOCK, ids.COMPOSE_TEXT_INPUT, "Text", composition.text, optional=False,
                          placeholder="What do you want to say?"),
              input_block(ids.COMPOSE_MEDIA_BLOCK, "Photos and videos",
                          {"type": "file_input", "action_id": ids.COMPOSE_MEDIA_INPUT, "filetypes": FILETYPES,
                           "max_files": MAX_FILES},
                          optional=True, hint=_media_hint(attached, editing))]
    blocks += alt_text_blocks(pictures, composition)
    chosen_platforms = platforms_of(chosen_accounts)
    for key, name in chosen_platforms:
        blocks += platform_blocks(key, name, [c for c in chosen_accounts if c.platform == key], composition,
                                  files=files, link_card=link_card)
    if chosen_accounts:
        if composition.first_comment or any(key in first_comment_platforms for key, _ in chosen_platforms):
            blocks.append(_text_input(ids.COMPOSE_COMMENT_BLOCK, ids.COMPOSE_COMMENT_INPUT, "First comment",
                                      composition.first_comment,
                                      hint="Posted as the first comment where the platform allows it."))
        blocks += video_blocks(composition)
    blocks += compose_when.when_blocks(composition.when, composition.schedule, quick_times, tz)
    blocks += repeat  # the Repeat part (bot/views/series.py), under the time it repeats
    if editing:
        submit = "Save"
    elif needs_approval:
        submit = "Send for approval"
    else:
        submit = "Schedule" if composition.when is not None or composition.schedule else "Publish"
    return modal(title or ("Edit post" if editing else "New post"), blocks[:100], callback_id=ids.COMPOSE_VIEW,
                 submit=submit,
                 close="Cancel" if editing else "Save draft",
                 notify_on_close=not editing,  # a closed new post is kept as a draft; a closed edit changes nothing
                 private_metadata=private_metadata)


def _accounts_input(offered: Sequence[Choice], composition: Composition) -> dict:
    groups = []
    for key, name in platforms_of(offered)[:100]:
        options = [_option(c) for c in offered if c.platform == key][:100]
        groups.append({"label": plain(name[:75]), "options": options})
    chosen = [_option(c) for c in offered if c.id in composition.account_ids]
    accounts = {"type": "multi_static_select", "action_id": ids.COMPOSE_ACCOUNTS_INPUT,
                "placeholder": plain("Choose accounts"), "option_groups": groups}
    if chosen:
        accounts["initial_options"] = chosen
    block = input_block(ids.COMPOSE_ACCOUNTS_BLOCK, "Post to", accounts,
                        hint="Each network you choose gets a part of its own below.")
    block["dispatch_action"] = True  # choosing accounts brings up their networks' parts
    return block


def alt_text_blocks(pictures: Sequence[tuple[int, str]], composition: Composition) -> list[dict]:
    """An alt text field per attached picture, or a button that brings them up once pictures are attached."""
    blocks = [_text_input(f"{ids.COMPOSE_ALT_BLOCK}{position}", ids.COMPOSE_ALT_INPUT, f"Alt text for {name}"[:150],
                          composition.alt_text(position), multiline=False,
                          hint="Describes the picture for people who cannot see it; sent where the network takes it.")
              for position, name in pictures[:MAX_FILES]]
    if not pictures:
        blocks.append(actions(button("Add alt text to pictures", ids.COMPOSE_DESCRIBE, "describe"),
                              block_id="compose_describe_actions"))
    return blocks


def _section_title(name: str) -> dict:
    return context(f"*{esc(name)}*")


def platform_blocks(key: str, name: str, accounts: Sequence[Choice], composition: Composition, *,
                    files: Sequence[dict] = (), link_card: Mapping[str, dict] | None = None) -> list[dict]:
    """One chosen network's part: its own text, then only the fields it has."""
    blocks = [_section_title(name),
              _text_input(f"{ids.COMPOSE_VARIANT_BLOCK}{key}", ids.COMPOSE_VARIANT_INPUT,
                          "Description" if key == "youtube" else f"Text for {name}", composition.variants.get(key),
                          hint=f"Instead of the text above, for {name} only. Empty: the text above.")]
    chosen = composition.settings_for(key)
    if isinstance(chosen, YouTubeSettings):
        blocks += _youtube(chosen, composition)
        blocks += _youtube_extras(chosen, accounts, files)
    elif isinstance(chosen, PinterestSettings):
        blocks += _pinterest(chosen, accounts, composition)
    elif isinstance(chosen, TikTokSettings):
        blocks += _tiktok(chosen, accounts)
    elif isinstance(chosen, LinkedInSettings):
        if any(c.kind in PROFILE_KINDS for c in accounts):
            blocks.append(_radio(key, "visibility", "Visibility", LINKEDIN_VISIBILITY, chosen.visibility,
                                 hint="Connections only is for profiles; company pages post to anyone."))
        blocks.append(_text_input(_setting(key, "document_title"), ids.COMPOSE_SETTING_INPUT, "Document title",
                                  chosen.document_title, multiline=False,
                                  hint="With a PDF attached: LinkedIn shows its pages as a carousel people swipe "
                                       "through, under this title."))
    elif isinstance(chosen, XSettings):
        blocks.append(_select(key, "reply_settings", "Who can reply", X_REPLY_SETTINGS, chosen.reply_settings))
        blocks += _thread(key, name, chosen, composition)
    elif isinstance(chosen, BlueskySettings):
        blocks += _thread(key, name, chosen, composition)
    elif isinstance(chosen, InstagramSettings):
        blocks.append(_text_input(_setting(key, "collaborators"), ids.COMPOSE_SETTING_INPUT, "Collaborators",
                                  ", ".join(chosen.collaborators), multiline=False,
                                  hint="Up to three Instagram usernames, separated by commas. They are invited to "
                                       "share the post on their profiles."))
        blocks += _instagram_post_type(key, chosen)
    elif isinstance(chosen, FacebookSettings):
        blocks.append(_select(key, "post_type", "Post type", FACEBOOK_POST_TYPES, chosen.post_type or "post",
                              hint="Post: text, a link, photos or a video in the Page's feed. Reel: one vertical "
                                   "video of 3 to 90 seconds. Story: one photo or one video of up to 60 seconds, "
                                   "for 24 hours, without the text."))
    if key in CARD_PLATFORMS:
        blocks += link_card_blocks(key, name, composition.variants.get(key) or composition.text, files, link_card)
    return blocks


def _instagram_post_type(key: str, chosen: InstagramSettings) -> list[dict]:
    return [
        _select(key, "post_type", "Post type", INSTAGRAM_POST_TYPES, chosen.post_type,
                hint="Post: a photo, or a carousel of up to 10 photos and videos. Reel: one video (a picture "
                     "attached with it becomes its cover). Story: one photo or one video of up to 60 seconds, for 24 "
                     "hours, without the caption. Empty: one video makes a Reel, anything else a post."),
        _checkboxes(key, "share_to_feed", "Reels", [("yes", "Also share the Reel to the feed", None)],
                    ["yes"] if chosen.share_to_feed else [],
                    hint="Off: the Reel shows only in the profile's Reels tab."),
    ]


def link_card_blocks(key: str, name: str, text: str, files: Sequence[dict], previews: Mapping[str, dict] | None
                     ) -> list[dict]:
    """The card the network will make of the text's first link, as fetched after the window opened (`previews`:
    link -> card, or {error}); "fetching…" until then. Sections, with Preview link card to fetch again (a link
    typed after the accounts were chosen)."""
    link = first_link(text)
    refresh = button("Preview link card", ids.COMPOSE_LINK_PREVIEW, key)
    block_id = f"compose_card_{key}"
    if files:
        return [section(f"With a photo or video attached, {esc(name)} shows it instead of a link card.",
                        block_id=block_id)] if link else []
    if not link:
        return [section(f"A link in the text becomes a card on {esc(name)} (the page's title, description and "
                        "picture).", refresh, block_id=block_id)]
    card = (previews or {}).get(link)
    if card is None:
        return [section(f"Link card for {esc(link)}: fetching the page's title, description and picture…", refresh,
                        block_id=block_id)]
    if card.get("error"):
        return [section(f"No link card for {esc(link)}: {esc(card['error'])} The post goes with the link in its "
                        "text.", refresh, block_id=block_id)]
    lines = [f"Link card on {esc(name)}:", f"*{esc(card.get('title') or link)}*"]
    if card.get("description"):
        lines.append(esc(card["description"][:300]))
    lines.append(esc(link))
    picture = ({"type": "image", "image_url": card["image_url"], "alt_text": "The page's picture"}
               if card.get("image_url") and len(card["image_url"]) <= 3000 else None)
    return [section("\n".join(lines)[:3000], picture, block_id=f"compose_card_preview_{key}"),
            actions(refresh, block_id=block_id)]


PROFILE_KINDS = ("profile", "person", "member")
THREAD_CHOICES = (("thread", "Send a long text as a thread", "Cut at your blank lines, else at sentence ends"),
                  ("numbered", "Number the thread's parts (1/3, 2/3…)", None))


def _thread(key: str, name: str, chosen: XSettings | BlueskySettings, composition: Composition) -> list[dict]:
    """The thread option (ticking it brings the window up to date) and, when ticked, the parts the text makes."""
    ticked = [v for v, on in (("thread", chosen.thread), ("numbered", chosen.numbered)) if on]
    block = _checkboxes(key, "thread", "Thread", THREAD_CHOICES, ticked,
                        hint=f"Too long for one {name} post? Each part replies to the one before; pictures go "
                             "with the first.")
    block["dispatch_action"] = True
    blocks = [block]
    parts = composing.thread_preview(key, composition)
    if chosen.thread and len(parts) > 1:
        blocks.append(context(f"*{len(parts)} parts on {esc(name)}:*\n{esc(threads.preview(parts))}"[:3000]))
    return blocks


def _setting(key: str, field: str) -> str:
    return f"{ids.COMPOSE_SETTING_BLOCK}{key}:{field}"


def _select(key: str, field: str, label: str, values: Sequence[tuple], current, *, hint: str | None = None,
            optional: bool = True) -> dict:
    options = [option(text, value if value is not None else EVERYONE) for value, text in values]
    initial = next((o for o in options if o["value"] == (current if current is not None else EVERYONE)), None)
    return input_block(_setting(key, field), label, choices("static_select", ids.COMPOSE_SETTING_INPUT, options,
                                                            initial=initial), optional=optional, hint=hint)


def _radio(key: str, field: str, label: str, values: Sequence[tuple], current, *, hint: str | None = None,
           optional: bool = True) -> dict:
    options = [option(text, value) for value, text in values]
    initial = next((o for o in options if o["value"] == current), None)
    return input_block(_setting(key, field), label, choices("radio_buttons", ids.COMPOSE_SETTING_INPUT, options,
                                                            initial=initial), optional=optional, hint=hint)


def _checkboxes(key: str, field: str, label: str, values: Sequence[tuple[str, str, str | None]],
                ticked: Sequence[str], *, hint: str | None = None) -> dict:
    options = [{**option(text, value), **({"description": plain(about[:75])} if about else {})}
               for value, text, about in values]
    initial = [o for o in options if o["value"] in ticked]
    return input_block(_setting(key, field), label, choices("checkboxes", ids.COMPOSE_SETTING_INPUT, options,
                                                            initial=initial), optional=True, hint=hint)


EVERYONE = "everyone"  # the option value standing for "no restriction" (None in the settings)
MADE_FOR_KIDS = (("yes", "Yes, it's made for kids"), ("no", "No, it's not made for kids"))


def _youtube(chosen: YouTubeSettings, composition: Composition) -> list[dict]:
    title = chosen.title or youtube_title(composition.text)
    kids = None if chosen.made_for_kids is None else ("yes" if chosen.made_for_kids else "no")
    return [
        _text_input(_setting("youtube", "title"), ids.COMPOSE_SETTING_INPUT, "Title", title, optional=False,
                    multiline=False, hint="Up to 100 characters, without < or >."),
        _select("youtube", "privacy", "Privacy", YOUTUBE_PRIVACY, chosen.privacy, optional=False),
        _radio("youtube", "made_for_kids", "Made for kids?", MADE_FOR_KIDS, kids, optional=False,
               hint="YouTube requires you to say whether the video is made for kids (COPPA)."),
        _text_input(_setting("youtube", "tags"), ids.COMPOSE_SETTING_INPUT, "Tags", ", ".join(chosen.tags),
                    multiline=False, hint="Separated by commas; 500 characters in all."),
        _select("youtube", "category_id", "Category", YOUTUBE_CATEGORIES, chosen.category_id, optional=False),
    ]


def _youtube_extras(chosen: YouTubeSettings, accounts: Sequence[Choice], files: Sequence[dict]) -> list[dict]:
    """The playlist to add the video to (the channel's playlists as last synced), and what makes a Short and a
    custom thumbnail, said where the person chooses the video."""
    blocks: list[dict] = []
    playlists = [(str(p["id"]), str(p.get("title") or p["id"])[:75]) for a in accounts[:1]
                 for p in a.settings.get("playlists") or [] if isinstance(p, dict) and p.get("id")][:99]
    if playlists:
        blocks.append(_select("youtube", "playlist_id", "Playlist", [(None, "No playlist"), *playlists],
                              chosen.playlist_id, hint="The video is added at the end of this playlist. Playlists as "
                                                       "last synced; Refresh in /picmim accounts brings new ones."))
    blocks.append(context(_youtube_short_line(files)))
    return blocks


def _youtube_short_line(files: Sequence[dict]) -> str:
    """Slack lists a video's size and length (original_w, original_h, duration_ms) once it has looked at it."""
    video = next((f for f in files if str(f.get("mimetype") or "").startswith("video/")), None)
    width, height = (video or {}).get("original_w"), (video or {}).get("original_h")
    duration = (video or {}).get("duration_ms")
    known = all(isinstance(v, int) and not isinstance(v, bool) for v in (width, height, duration))
    if known and height >= width and duration <= YOUTUBE_SHORT_MAX_SECONDS * 1000:
        short = "*This video will be a YouTube Short* (vertical or square, 3 minutes or less)."
    elif known:
        short = "This video will be a regular YouTube video (a Short is vertical or square, 3 minutes or less)."
    else:
        short = "A vertical or square video of 3 minutes or less becomes a YouTube Short."
    return short + " A picture attached with the video becomes its custom thumbnail (verified channels)."


def youtube_title(text: str) -> str:
    """A title from the text's first line, as YouTube takes it: no < or >, at most 100 characters."""
    first = next((line.strip() for line in text.splitlines() if line.strip()), "")
    first = first.replace("<", "").replace(">", "")
    return first if len(first) <= 100 else first[:99].rstrip() + "…"


def _pinterest(chosen: PinterestSettings, accounts: Sequence[Choice], composition: Composition) -> list[dict]:
    blocks = []
    for account in accounts:
        boards = [b for b in account.settings.get("boards") or [] if isinstance(b, dict) and b.get("id")]
        options = [option(str(b.get("name") or b["id"]), str(b["id"])) for b in boards][:100]
        current = composition.boards.get(account.id) or account.settings.get("default_board_id")
        initial = next((o for o in options if o["value"] == current), options[0] if options else None)
        label = "Board" if len(accounts) == 1 else f"Board ({account.name})"
        if options:
            element = choices("static_select", ids.COMPOSE_BOARD_INPUT, options, initial=initial,
                              placeholder="Choose a board")
            blocks.append(input_block(f"{ids.COMPOSE_BOARD_BLOCK}{account.id}", label, element, optional=False,
                                      hint="Boards as last synced; Refresh in /picmim accounts brings new ones."))
        else:
            blocks.append(context(f"{esc(account.name)} has no boards yet: create one on Pinterest, then press "
                                  "Refresh in `/picmim accounts`."))
    link = {"type": "url_text_input", "action_id": ids.COMPOSE_SETTING_INPUT}
    if chosen.link:
        link["initial_value"] = chosen.link
    blocks += [
        _text_input(_setting("pinterest", "title"), ids.COMPOSE_SETTING_INPUT, "Title", chosen.title,
                    multiline=False, hint="Up to 100 characters."),
        input_block(_setting("pinterest", "link"), "Destination link", link, optional=True,
                    hint="Where the pin leads, e.g. the product's page."),
    ]
    return blocks


def _tiktok(chosen: TikTokSettings, accounts: Sequence[Choice]) -> list[dict]:
    offered = _tiktok_offers(accounts)
    options = [option(label, value) for value, label in TIKTOK_PRIVACY
               if not offered["privacy"] or value in offered["privacy"]]
    privacy = choices("static_select", ids.COMPOSE_TIKTOK_PRIVACY_INPUT, options,
                      placeholder="Choose who can see it",
                      initial=next((o for o in options if o["value"] == chosen.privacy_level), None))
    allowed = [(value, label, None) for value, label in (("comment", "Comment"), ("duet", "Duet"),
                                                        ("stitch", "Stitch")) if value in offered["allow"]]
    ticked = [v for v, on in (("comment", chosen.allow_comment), ("duet", chosen.allow_duet),
                              ("stitch", chosen.allow_stitch)) if on]
    blocks = [input_block(ids.COMPOSE_TIKTOK_PRIVACY_BLOCK, "Who can see it", privacy, optional=False,
                          hint="TikTok has you choose every time; each account offers some of these.")]
    if allowed:
        blocks.append(_checkboxes("tiktok", "allow", "Allow viewers to", allowed, ticked))
    disclosure = [v for v, on in (("your_brand", chosen.your_brand), ("branded_content", chosen.branded_content)) if on]
    consent = TIKTOK_BRAND_LABELS["consent_branded" if chosen.branded_content else "consent"]
    blocks.append(_checkboxes("tiktok", "disclosure", TIKTOK_BRAND_LABELS["disclose"], TIKTOK_DISCLOSURE, disclosure,
                              hint=f"{TIKTOK_BRAND_LABELS['disclose_help']} "
                                   f"{TIKTOK_BRAND_LABELS['not_private']} {consent}"))
    label = disclosure_label(chosen.your_brand, chosen.branded_content)
    if label:
        blocks.append(context(esc(label)))
    blocks.append(_checkboxes("tiktok", "ai_generated", TIKTOK_BRAND_LABELS["ai_generated"],
                              [("yes", "Made or significantly edited with AI", None)],
                              ["yes"] if chosen.ai_generated else []))
    return blocks


# TikTok's content-sharing guidelines: the two kinds of commercial content, in its words (an option's description
# holds 75 characters: the first sentence of each).
TIKTOK_DISCLOSURE = (
    ("your_brand", TIKTOK_BRAND_LABELS["your_brand"], TIKTOK_BRAND_LABELS["your_brand_help"].split(". ")[0] + "."),
    ("branded_content", TIKTOK_BRAND_LABELS["branded_content"],
     TIKTOK_BRAND_LABELS["branded_content_help"].split(". ")[0] + "."),
)


def _tiktok_offers(accounts: Sequence[Choice]) -> dict[str, set[str]]:
    """What the chosen TikTok accounts' creators offer (from their creator info at the last sync): privacy levels
    offered by all of them, and the interactions none of them turned off."""
    privacy: set[str] | None = None
    allow = {"comment", "duet", "stitch"}
    for account in accounts:
        levels = set(account.settings.get("privacy_level_options") or ())
        if levels:
            privacy = levels if privacy is None else privacy & levels
        for name in ("comment", "duet", "stitch"):
            if account.settings.get(f"{name}_disabled"):
                allow.discard(name)
    return {"privacy": privacy or set(), "allow": allow}


OPTIMISE, TRIM = "optimise", "trim"
# TikTok's privacy levels, in its own words (the account's creator info says which it offers).
TIKTOK_PRIVACY = (("PUBLIC_TO_EVERYONE", "Everyone"), ("FOLLOWER_OF_CREATOR", "Followers"),
                  ("MUTUAL_FOLLOW_FRIENDS", "Friends"), ("SELF_ONLY", "Only me"))


def video_blocks(composition: Composition) -> list[dict]:
    """Video choices: optimise (on by default), cut what is too long (off), the cover frame."""
    # (Slack allows 75 characters for an option's text and for its description.)
    optimise = {"text": plain("Optimise video for each platform"), "value": OPTIMISE,
                "description": plain("Converts a copy where a platform needs it; the original is kept.")}
    trim = {"text": plain("Cut a video that is too long for a platform"), "value": TRIM,
            "description": plain("To that platform's limit. Off: too long is refused, never cut.")}
    ticked = ([optimise] if composition.optimise_video else []) + ([trim] if composition.trim_video else [])
    boxes = choices("checkboxes", ids.COMPOSE_VIDEO_INPUT, [optimise, trim], initial=ticked)
    cover = {"type": "number_input", "action_id": ids.COMPOSE_COVER_INPUT, "is_decimal_allowed": True,
             "min_value": "0", "placeholder": plain("1")}
    if composition.cover_seconds is not None:
        cover["initial_value"] = f"{composition.cover_seconds:g}"
    return [
        input_block(ids.COMPOSE_VIDEO_BLOCK, "Videos", boxes, optional=True),
        input_block(ids.COMPOSE_COVER_BLOCK, "Video cover at (seconds)", cover, optional=True,
                    hint="The frame TikTok and Instagram show before the video plays. Empty: the first second."),
    ]


def _media_hint(attached: Sequence[str], editing: bool) -> str:
    hint = ("Up to 10 files of 10 MB each. Picmim converts and resizes photos, and optimises videos, where a "
            "platform needs it. A PDF makes a LinkedIn document post.")
    if not attached:
        return ("This post has no attachments; add some here. " + hint) if editing else hint
    names = ", ".join(attached)
    kept = f"This post has {len(attached)} attachment{'s' if len(attached) > 1 else ''} ({names}): they are kept " \
           "unless you attach files here, which replace them."
    return kept[:1900]


def nothing_connected_modal(hidden: str | None = None) -> dict:
    """`hidden`: why the person is offered nothing although accounts are connected (their roles)."""
    if hidden:
        return modal("New post", [section(f"There is no account you may post to. {hidden}")], close="Close")
    return modal("New post", [section(
        "No account is connected yet, so there is nowhere to post. Connect one with "
        f"`{ids.COMMAND} connect`, then come back with `{ids.COMMAND} post`. If an account stopped working, "
        f"`{ids.COMMAND} accounts` shows how to reconnect it.")], close="Close")


def drafts_list(drafts: Sequence[DraftSummary], tz: str | None, repeats: Mapping[int, str] | None = None
                ) -> list[dict]:
    """`repeats`: draft id -> how it repeats (`series.Rule.describe`), for the drafts that keep a repetition."""
    if not drafts:
        return [section(f"You have no drafts. Closing the `{ids.COMMAND} post` window without posting keeps one.")]
    blocks: list[dict] = [header("Your drafts")]
    for draft in drafts[:45]:
        preview = draft.text if len(draft.text) <= 200 else draft.text[:199] + "…"
        where = ", ".join(draft.accounts) or "no account chosen"
        text = (f">{esc(preview) or '_(no text)_'}\n{esc(where)} · saved {local_time(draft.updated_at, tz)}")
        if (repeats or {}).get(draft.id):
            text += f"\n:repeat: {esc(repeats[draft.id])}"
        blocks.append(section(text, button("Open", ids.DRAFT_OPEN, str(draft.id))))
    blocks.append(context("A window closed without posting keeps no attachments: attach them again when you open its "
                          "draft. A post sent back from review keeps its own."))
    return blocks
