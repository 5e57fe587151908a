"""Block Kit as HTML, for the sandbox's simulated Slack page: pure functions, everything escaped.

Each block is first parsed with slack_sdk's Block Kit models (the source of truth Slack's own SDK keeps):
a block Slack would refuse is shown as an error in its place, a block of a type the models do not know is
shown plainly. Interactive elements carry `data-block`, `data-action` and `data-kind` so the page's script
can send what a person does to the app as Slack would; `data-fire` marks those whose change Slack sends at
once (elements outside input blocks, and input blocks with `dispatch_action`)."""

from __future__ import annotations

import html
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from slack_sdk.errors import SlackObjectFormationError
from slack_sdk.models.blocks import Block

EMOJI = {"white_check_mark": "✅", "x": "❌", "eyes": "👀", "tada": "🎉", "thumbsup": "👍", "+1": "👍",
         "warning": "⚠️", "calendar": "📅", "chart_with_upwards_trend": "📈", "bar_chart": "📊", "clock3": "🕒",
         "hourglass_flowing_sand": "⏳", "link": "🔗", "rocket": "🚀", "bell": "🔔", "lock": "🔒",
         "heavy_check_mark": "✔️", "no_entry": "⛔", "red_circle": "🔴", "large_green_circle": "🟢",
         "memo": "📝", "paperclip": "📎", "speech_balloon": "💬", "repeat": "🔁", "mag": "🔍", "gear": "⚙️",
         "frame_with_picture": "🖼️", "movie_camera": "🎥", "email": "📧", "sparkles": "✨", "star": "⭐",
         "wave": "👋", "heart": "❤️", "arrows_counterclockwise": "🔄", "hourglass": "⌛", "pushpin": "📌",
         "inbox_tray": "📥", "outbox_tray": "📤", "key": "🔑", "broken_heart": "💔", "zzz": "💤",
         "information_source": "ℹ️", "question": "❓", "exclamation": "❗", "fire": "🔥", "clipboard": "📋"}

# Elements whose value a person sets (they appear in a surface's state).
STATEFUL = {"plain_text_input", "number_input", "url_text_input", "email_text_input", "rich_text_input",
            "static_select", "external_select", "multi_static_select", "multi_external_select", "radio_buttons",
            "checkboxes", "users_select", "multi_users_select", "conversations_select", "multi_conversations_select",
            "channels_select", "multi_channels_select", "datepicker", "timepicker", "datetimepicker", "file_input"}


@dataclass
class Context:
    """What rendering needs besides the blocks: the people and channels pickers offer, the viewer's time zone,
    the values a person already set (state, by block and action id), errors beside fields (by block id), and
    how a Slack file is shown (its address on the page), and where a link goes (a network's post address opens its
    sandbox feed: bot/sandbox/networks.py's `browser_link`), and where a picture is fetched from (`browser_image`:
    None for an address the page must not fetch, whose alt text is shown instead)."""

    people: Mapping[str, str] = field(default_factory=dict)  # user id -> name
    channels: Mapping[str, str] = field(default_factory=dict)  # channel id -> name
    tz: str = "UTC"
    state: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    errors: Mapping[str, str] = field(default_factory=dict)
    file_url: Callable[[str], str] = lambda file_id: f"/sandbox/files/{file_id}"
    link: Callable[[str], str] = lambda url: url
    image: Callable[[str], str | None] = lambda url: url


def e(text: Any) -> str:
    return html.escape(str(text), quote=True)


def block_ids(blocks: list[dict]) -> list[str]:
    """Each block's id, or the one Slack would give a block without one (stable, by position)."""
    return [b.get("block_id") or f"auto-{i}" for i, b in enumerate(blocks)]


def problem(block: Any) -> str | None:
    """Why Slack would refuse this block (None: fine, or of a type the models do not know)."""
    if not isinstance(block, dict) or "type" not in block:
        return "missing required field: type"
    try:
        parsed = Block.parse(block)
        if parsed is None or type(parsed) is Block:
            return None
        parsed.to_dict()
    except (SlackObjectFormationError, TypeError, ValueError, KeyError) as exc:
        return str(exc) or exc.__class__.__name__
    return None


def known(block: dict) -> bool:
    parsed = Block.parse(block) if isinstance(block, dict) else None
    return parsed is not None and type(parsed) is not Block


# ---- text ------------------------------------------------------------------------------------------------------

_TOKEN = re.compile(r"<([^<>]+)>")
_STYLES = ((re.compile(r"```(.+?)```", re.S), "<pre>{}</pre>"), (re.compile(r"`([^`\n]+)`"), "<code>{}</code>"),
           (re.compile(r"(?<![\w*])\*([^*\n]+)\*(?![\w*])"), "<b>{}</b>"),
           (re.compile(r"(?<![\w_])_([^_\n]+)_(?![\w_])"), "<i>{}</i>"),
           (re.compile(r"(?<![\w~])~([^~\n]+)~(?![\w~])"), "<s>{}</s>"))
_EMOJI = re.compile(r":([a-z0-9_+\-]+):")
_QUOTE = re.compile(r"^&gt; ?(.*)$", re.M)  # a line Slack shows as a quote


def emoji(name: str) -> str:
    return EMOJI.get(name, f":{name}:")


def _styled(text: str) -> str:
    """Escaped text with Slack's mrkdwn styles and emoji."""
    out = e(text)
    for pattern, wrap in _STYLES:
        out = pattern.sub(lambda m, w=wrap: w.format(m.group(1)), out)
    return _EMOJI.sub(lambda m: e(emoji(m.group(1))), out)


def mrkdwn(text: str, ctx: Context) -> str:
    """Slack's mrkdwn as HTML: links, mentions, dates, styles (also across them), quotes, emoji, line breaks."""
    tokens: list[str] = []

    def hold(m: re.Match) -> str:
        tokens.append(_token(html.unescape(m.group(1)), ctx))
        return f"\x00{len(tokens) - 1}\x00"

    held = _TOKEN.sub(hold, text)
    out = _styled(html.unescape(held))
    out = re.sub("\x00(\\d+)\x00", lambda m: tokens[int(m.group(1))], out)
    quoted = _QUOTE.sub(r"<blockquote>\1</blockquote>", out)
    return quoted.replace("</blockquote>\n", "</blockquote>").replace("\n", "<br>")


def _token(inner: str, ctx: Context) -> str:
    target, _, label = inner.partition("|")
    if target.startswith("!date^"):
        # <!date^epoch^format|fallback>: Slack shows it in the reader's own time zone.
        stamp = target.split("^")[1]
        if stamp.isdigit():
            when = datetime.fromtimestamp(int(stamp), UTC).astimezone(ZoneInfo(ctx.tz))
            return f'<time>{e(when.strftime("%-d %b %Y, %H:%M"))}</time>'
        return e(label)
    if target.startswith("@"):
        return f'<span class="mention">@{e(ctx.people.get(target[1:], label or target[1:]))}</span>'
    if target.startswith("#"):
        return f'<span class="mention">#{e(label or ctx.channels.get(target[1:], target[1:]))}</span>'
    if target.startswith("!"):
        name = target[1:].split("^")[0]
        return f'<span class="mention">@{e(label or name)}</span>'
    if target.startswith(("http://", "https://", "mailto:", "slack://")):
        return f'<a href="{e(ctx.link(target))}" target="_blank" rel="noopener">{_styled(label or target)}</a>'
    return e(f"<{inner}>")


def text_of(obj: Any, ctx: Context) -> str:
    """A text object (plain_text or mrkdwn) as HTML."""
    if obj is None:
        return ""
    if isinstance(obj, str):
        return e(obj)
    if obj.get("type") == "mrkdwn":
        return mrkdwn(obj.get("text", ""), ctx)
    out = e(obj.get("text", ""))
    return _EMOJI.sub(lambda m: e(emoji(m.group(1))), out) if obj.get("emoji", True) else out


def plain(obj: Any) -> str:
    return obj if isinstance(obj, str) else (obj or {}).get("text", "")


# ---- blocks ----------------------------------------------------------------------------------------------------

def render_blocks(blocks: list[dict] | None, ctx: Context) -> str:
    if not blocks:
        return ""
    return "".join(render_block(block, block_id, ctx) for block, block_id in zip(blocks, block_ids(blocks),
                                                                                 strict=True))


def render_block(block: dict, block_id: str, ctx: Context) -> str:
    refused = problem(block)
    if refused is not None:
        return (f'<div class="bk-error" role="alert">Slack would refuse this block: {e(refused)}'
                f'<pre>{e(json.dumps(block, ensure_ascii=False)[:600])}</pre></div>')
    kind = block["type"]
    render = _BLOCKS.get(kind) if known(block) else None
    if render is None:
        return _unknown(block)
    return render(block, block_id, ctx)


def _unknown(block: dict) -> str:
    texts = [plain(v) for v in block.values() if isinstance(v, dict) and "text" in v]
    return (f'<div class="bk-unknown">A {e(block.get("type"))} block (not shown in the sandbox)'
            + "".join(f"<p>{e(t)}</p>" for t in texts) + "</div>")


def _section(block: dict, block_id: str, ctx: Context) -> str:
    body = f'<div class="bk-text">{text_of(block.get("text"), ctx)}</div>' if block.get("text") else ""
    if block.get("fields"):
        body += '<div class="bk-fields">' + "".join(f"<div>{text_of(f, ctx)}</div>" for f in block["fields"]) + "</div>"
    accessory = block.get("accessory")
    side = f'<div class="bk-accessory">{element(accessory, block_id, ctx, fires=True)}</div>' if accessory else ""
    return f'<div class="bk bk-section" data-block-id="{e(block_id)}"><div class="bk-main">{body}</div>{side}</div>'


def _context(block: dict, block_id: str, ctx: Context) -> str:
    parts = []
    for item in block.get("elements", []):
        if item.get("type") == "image":
            parts.append(_img(item, ctx, "bk-context-img"))
        else:
            parts.append(f"<span>{text_of(item, ctx)}</span>")
    return f'<div class="bk bk-context">{"".join(parts)}</div>'


def _img(item: dict, ctx: Context, css: str) -> str:
    source = item.get("image_url")
    if not source and item.get("slack_file"):
        source = item["slack_file"].get("url") or ctx.file_url(item["slack_file"].get("id", ""))
    alt = item.get("alt_text", "")
    shown = ctx.image(source) if source else None
    if shown is None:
        # Not fetched from a host the page must not reach: the words Slack would read out instead.
        return f'<span class="{css} bk-img-alt" role="img" aria-label="{e(alt)}">{e(alt or "(a picture)")}</span>'
    return f'<img class="{css}" src="{e(shown)}" alt="{e(alt)}" loading="lazy">'


def _image(block: dict, block_id: str, ctx: Context) -> str:
    title = f'<div class="bk-image-title">{text_of(block.get("title"), ctx)}</div>' if block.get("title") else ""
    return f'<figure class="bk bk-image">{title}{_img(block, ctx, "bk-img")}</figure>'


def _actions(block: dict, block_id: str, ctx: Context) -> str:
    inner = "".join(element(el, block_id, ctx, fires=True) for el in block.get("elements", []))
    return f'<div class="bk bk-actions" data-block-id="{e(block_id)}">{inner}</div>'


def _divider(block: dict, block_id: str, ctx: Context) -> str:
    return '<hr class="bk bk-divider">'


def _header(block: dict, block_id: str, ctx: Context) -> str:
    return f'<h3 class="bk bk-header">{text_of(block.get("text"), ctx)}</h3>'


def _input(block: dict, block_id: str, ctx: Context) -> str:
    el = block.get("element", {})
    optional = ' <span class="bk-optional">(optional)</span>' if block.get("optional") else ""
    hint = f'<div class="bk-hint">{text_of(block.get("hint"), ctx)}</div>' if block.get("hint") else ""
    error = ctx.errors.get(block_id)
    shown_error = f'<div class="bk-field-error" role="alert">{e(error)}</div>' if error else ""
    css = "bk bk-input has-error" if error else "bk bk-input"
    return (f'<div class="{css}" data-block-id="{e(block_id)}"><label class="bk-label">'
            f'{text_of(block.get("label"), ctx)}{optional}</label>'
            f'{element(el, block_id, ctx, fires=bool(block.get("dispatch_action")))}{shown_error}{hint}</div>')


def _rich_text(block: dict, block_id: str, ctx: Context) -> str:
    return f'<div class="bk bk-rich">{"".join(_rich_part(p, ctx) for p in block.get("elements", []))}</div>'


def _rich_part(part: dict, ctx: Context) -> str:
    kind = part.get("type")
    inner = "".join(_rich_leaf(x, ctx) if x.get("type") not in ("rich_text_section",) else _rich_part(x, ctx)
                    for x in part.get("elements", []))
    if kind == "rich_text_list":
        tag = "ol" if part.get("style") == "ordered" else "ul"
        items = "".join(f"<li>{''.join(_rich_leaf(y, ctx) for y in x.get('elements', []))}</li>"
                        for x in part.get("elements", []))
        return f"<{tag}>{items}</{tag}>"
    if kind == "rich_text_quote":
        return f"<blockquote>{inner}</blockquote>"
    if kind == "rich_text_preformatted":
        return f"<pre>{inner}</pre>"
    return f"<p>{inner}</p>"


def _rich_leaf(leaf: dict, ctx: Context) -> str:
    kind = leaf.get("type")
    if kind == "text":
        out = e(leaf.get("text", "")).replace("\n", "<br>")
        style = leaf.get("style") or {}
        for name, tag in (("code", "code"), ("bold", "b"), ("italic", "i"), ("strike", "s")):
            if style.get(name):
                out = f"<{tag}>{out}</{tag}>"
        return out
    if kind == "link":
        url = leaf.get("url", "")
        return f'<a href="{e(ctx.link(url))}" target="_blank" rel="noopener">{e(leaf.get("text") or url)}</a>'
    if kind == "emoji":
        return e(emoji(leaf.get("name", "")))
    if kind == "user":
        user = leaf.get("user_id", "")
        return f'<span class="mention">@{e(ctx.people.get(user, user))}</span>'
    if kind == "channel":
        channel = leaf.get("channel_id", "")
        return f'<span class="mention">#{e(ctx.channels.get(channel, channel))}</span>'
    if kind in ("rich_text_section", "rich_text_list", "rich_text_quote", "rich_text_preformatted"):
        return _rich_part(leaf, ctx)
    return e(leaf.get("text", ""))


def _markdown(block: dict, block_id: str, ctx: Context) -> str:
    return f'<div class="bk bk-markdown">{mrkdwn(block.get("text", ""), ctx)}</div>'


def _file(block: dict, block_id: str, ctx: Context) -> str:
    return f'<div class="bk bk-file">📎 A Slack file ({e(block.get("external_id", ""))})</div>'


def _video(block: dict, block_id: str, ctx: Context) -> str:
    poster = _img({"image_url": block.get("thumbnail_url"), "alt_text": block.get("alt_text")}, ctx, "bk-img")
    return (f'<div class="bk bk-video">{poster}<a href="{e(block.get("video_url", ""))}" target="_blank" '
            f'rel="noopener">▶ {text_of(block.get("title"), ctx)}</a></div>')


_BLOCKS: dict[str, Callable[[dict, str, Context], str]] = {
    "section": _section, "context": _context, "image": _image, "actions": _actions, "divider": _divider,
    "header": _header, "input": _input, "rich_text": _rich_text, "markdown": _markdown, "file": _file,
    "video": _video,
}


# ---- elements --------------------------------------------------------------------------------------------------

def _data(block_id: str, el: dict, fires: bool) -> str:
    fire = ' data-fire="1"' if fires else ""
    confirm = el.get("confirm")
    # Slack asks first ("Disconnect X?"); the page's script asks the same before sending.
    asks = (f' data-confirm="{e(plain(confirm.get("title")) + chr(10) + plain(confirm.get("text")))}"'
            if isinstance(confirm, dict) else "")
    return (f' data-block="{e(block_id)}" data-action="{e(el.get("action_id", ""))}" '
            f'data-kind="{e(el.get("type", ""))}"{fire}{asks}')


def _options(el: dict) -> list[dict]:
    if el.get("options"):
        return list(el["options"])
    return [o for g in el.get("option_groups", []) for o in g.get("options", [])]


def current(el: dict, block_id: str, ctx: Context) -> Any:
    """The element's value as the person left it (state), else as the app set it (initial_*)."""
    kept = (ctx.state.get(block_id) or {}).get(el.get("action_id", ""))
    kind = el.get("type")
    if kept is not None:
        if kind in ("static_select", "external_select", "radio_buttons"):
            return ((kept.get("selected_option") or {}) or {}).get("value")
        if kind in ("multi_static_select", "multi_external_select", "checkboxes"):
            return [o.get("value") for o in kept.get("selected_options") or []]
        for name in ("value", "selected_user", "selected_users", "selected_conversation", "selected_conversations",
                     "selected_channel", "selected_channels", "selected_date", "selected_time", "selected_date_time",
                     "files"):
            if name in kept:
                return kept[name]
        return None
    if kind in ("static_select", "external_select", "radio_buttons"):
        return (el.get("initial_option") or {}).get("value")
    if kind in ("multi_static_select", "multi_external_select", "checkboxes"):
        return [o.get("value") for o in el.get("initial_options") or []]
    for name in ("initial_value", "initial_user", "initial_users", "initial_conversation", "initial_conversations",
                 "initial_channel", "initial_channels", "initial_date", "initial_time", "initial_date_time"):
        if name in el:
            return el[name]
    return None


def element(el: dict, block_id: str, ctx: Context, fires: bool) -> str:
    kind = el.get("type")
    attrs = _data(block_id, el, fires)
    value = current(el, block_id, ctx)
    if kind == "button":
        style = f" bk-{e(el['style'])}" if el.get("style") else ""
        label = text_of(el.get("text"), ctx)
        if el.get("url"):
            href = e(ctx.link(el["url"]))
            return (f'<a class="bk-button{style}" href="{href}" target="_blank" rel="noopener"{attrs} '
                    f'data-value="{e(el.get("value", ""))}">{label}</a>')
        return f'<button type="button" class="bk-button{style}"{attrs}>{label}</button>'
    if kind == "workflow_button":
        return f'<button type="button" class="bk-button" disabled>{text_of(el.get("text"), ctx)}</button>'
    if kind == "overflow":
        options = "".join(f'<option value="{e(o.get("value", ""))}">{e(plain(o.get("text")))}</option>'
                          for o in el.get("options", []))
        return (f'<select class="bk-overflow" aria-label="More actions"{attrs}>'
                f'<option value="">⋯</option>{options}</select>')
    if kind in ("static_select", "multi_static_select", "external_select", "multi_external_select"):
        multi = kind.startswith("multi_")
        chosen = set(value or []) if multi else {value}
        groups = el.get("option_groups")
        if groups:
            body = "".join(f'<optgroup label="{e(plain(g.get("label")))}">{_option_list(g.get("options", []), chosen)}'
                           "</optgroup>" for g in groups)
        else:
            body = _option_list(el.get("options", []), chosen)
        return _select(el, attrs, body, multi)
    if kind in ("users_select", "multi_users_select"):
        multi = kind.startswith("multi_")
        chosen = set(value or []) if multi else {value}
        body = "".join(f'<option value="{e(uid)}"{" selected" if uid in chosen else ""}>{e(name)}</option>'
                       for uid, name in ctx.people.items())
        return _select(el, attrs, body, multi)
    if kind in ("conversations_select", "multi_conversations_select", "channels_select", "multi_channels_select"):
        multi = kind.startswith("multi_")
        chosen = set(value or []) if multi else {value}
        body = "".join(f'<option value="{e(cid)}"{" selected" if cid in chosen else ""}>#{e(name)}</option>'
                       for cid, name in ctx.channels.items())
        return _select(el, attrs, body, multi)
    if kind in ("checkboxes", "radio_buttons"):
        chosen = set(value or []) if kind == "checkboxes" else {value}
        box = "checkbox" if kind == "checkboxes" else "radio"
        name = f"{block_id}.{el.get('action_id', '')}"
        items = "".join(
            f'<label class="bk-choice"><input type="{box}" name="{e(name)}" value="{e(o.get("value", ""))}"'
            f'{" checked" if o.get("value") in chosen else ""}> <span>{text_of(o.get("text"), ctx)}'
            + (f'<small>{text_of(o.get("description"), ctx)}</small>' if o.get("description") else "")
            + "</span></label>" for o in el.get("options", []))
        return f'<div class="bk-choices"{attrs}>{items}</div>'
    if kind == "datepicker":
        return f'<input type="date" class="bk-field"{attrs} value="{e(value or "")}">'
    if kind == "timepicker":
        return f'<input type="time" class="bk-field"{attrs} value="{e(value or "")}">'
    if kind == "datetimepicker":
        local = ""
        if value not in (None, ""):
            local = datetime.fromtimestamp(int(value), UTC).astimezone(ZoneInfo(ctx.tz)).strftime("%Y-%m-%dT%H:%M")
        return f'<input type="datetime-local" class="bk-field"{attrs} value="{e(local)}">'
    if kind == "file_input":
        accept = ",".join(f".{t}" for t in el.get("filetypes") or [])
        multiple = " multiple" if (el.get("max_files") or 10) > 1 else ""
        files = value or []
        listed = "".join(f"<li>{e(f.get('name', ''))}</li>" for f in files if isinstance(f, dict))
        accepted = f' accept="{e(accept)}"' if accept else ""
        return (f'<div class="bk-files"{attrs} data-files="{e(json.dumps(files))}">'
                f'<input type="file" class="bk-file-input"{multiple}{accepted}>'
                f'<ul class="bk-file-list">{listed}</ul></div>')
    if kind in ("plain_text_input", "rich_text_input", "url_text_input", "email_text_input", "number_input"):
        placeholder = f' placeholder="{e(plain(el.get("placeholder")))}"' if el.get("placeholder") else ""
        limit = f' maxlength="{int(el["max_length"])}"' if el.get("max_length") else ""
        text = value if isinstance(value, str) else ""
        if kind == "rich_text_input" or el.get("multiline"):
            return f'<textarea class="bk-field" rows="4"{attrs}{placeholder}{limit}>{e(text)}</textarea>'
        kinds = {"url_text_input": "url", "email_text_input": "email", "number_input": "number"}
        step = ' step="any"' if kind == "number_input" and el.get("is_decimal_allowed") else ""
        return (f'<input type="{kinds.get(kind, "text")}" class="bk-field"{attrs}{placeholder}{limit}{step} '
                f'value="{e(text)}">')
    if kind == "image":
        return _img(el, ctx, "bk-accessory-img")
    return f'<span class="bk-unknown">A {e(kind)} element (not shown in the sandbox)</span>'


def _option_list(options: list[dict], chosen: set) -> str:
    return "".join(f'<option value="{e(o.get("value", ""))}"{" selected" if o.get("value") in chosen else ""}>'
                   f'{e(plain(o.get("text")))}</option>' for o in options)


def _select(el: dict, attrs: str, body: str, multi: bool) -> str:
    placeholder = plain(el.get("placeholder")) or "Choose…"
    if multi:
        return f'<select class="bk-field" multiple size="4"{attrs}>{body}</select>'
    return f'<select class="bk-field"{attrs}><option value="">{e(placeholder)}</option>{body}</select>'


# ---- from the page back to Slack's shapes ----------------------------------------------------------------------

def elements_of(blocks: list[dict]) -> list[tuple[str, dict]]:
    """(block id, element) for every element of these blocks: input blocks', actions blocks', accessories."""
    found = []
    for block, block_id in zip(blocks, block_ids(blocks), strict=True):
        if block.get("type") == "input" and block.get("element"):
            found.append((block_id, block["element"]))
        elif block.get("type") == "actions":
            found.extend((block_id, el) for el in block.get("elements", []))
        elif block.get("type") == "section" and block.get("accessory"):
            found.append((block_id, block["accessory"]))
    return found


def option(el: dict, value: Any) -> dict | None:
    for o in _options(el):
        if o.get("value") == value:
            return {"text": o.get("text"), "value": o.get("value")}
    return None


def slack_value(el: dict, raw: Any, tz: str, files: Callable[[str], dict | None]) -> dict:
    """An element's value as Slack sends it in `state` and in `actions`, from what the page sent (a string,
    a list of strings, or file ids)."""
    kind = el.get("type")
    many = raw if isinstance(raw, list) else ([] if raw in (None, "") else [raw])
    one = None if raw in (None, "", []) else (raw[0] if isinstance(raw, list) else raw)
    if kind in ("static_select", "external_select", "radio_buttons", "overflow"):
        return {"selected_option": option(el, one) if one is not None else None}
    if kind in ("multi_static_select", "multi_external_select", "checkboxes"):
        return {"selected_options": [o for o in (option(el, v) for v in many) if o]}
    if kind == "users_select":
        return {"selected_user": one}
    if kind == "multi_users_select":
        return {"selected_users": many}
    if kind == "conversations_select":
        return {"selected_conversation": one}
    if kind == "multi_conversations_select":
        return {"selected_conversations": many}
    if kind == "channels_select":
        return {"selected_channel": one}
    if kind == "multi_channels_select":
        return {"selected_channels": many}
    if kind == "datepicker":
        return {"selected_date": one}
    if kind == "timepicker":
        return {"selected_time": one, "timezone": tz}
    if kind == "datetimepicker":
        if one is None:
            return {"selected_date_time": None}
        if isinstance(one, int) or str(one).isdigit():
            return {"selected_date_time": int(one)}
        local = datetime.strptime(str(one)[:16], "%Y-%m-%dT%H:%M").replace(tzinfo=ZoneInfo(tz))
        return {"selected_date_time": int(local.timestamp())}
    if kind == "file_input":
        return {"files": [f for f in (files(str(i)) for i in many) if f]}
    return {"value": one}  # plain_text_input, number_input, url_text_input, email_text_input, rich_text_input


def state_values(blocks: list[dict], sent: Mapping[tuple[str, str], Any], tz: str,
                 files: Callable[[str], dict | None]) -> dict[str, dict]:
    """`state.values` as Slack sends it for a surface with these blocks: every element a person sets, with what
    the page sent for it."""
    values: dict[str, dict] = {}
    for block_id, el in elements_of(blocks):
        if el.get("type") not in STATEFUL or not el.get("action_id"):
            continue
        raw = sent.get((block_id, el["action_id"]))
        values.setdefault(block_id, {})[el["action_id"]] = {"type": el["type"], **slack_value(el, raw, tz, files)}
    return values


REQUIRED = "Please complete this required field."  # Slack's own words, before anything is sent


def missing_required(blocks: list[dict], values: Mapping[str, Mapping[str, dict]]) -> dict[str, str]:
    """The input blocks a person left empty that are not optional: Slack says so beside each and sends nothing."""
    missing = {}
    for block, block_id in zip(blocks, block_ids(blocks), strict=True):
        if block.get("type") != "input" or block.get("optional") or not block.get("element"):
            continue
        value = (values.get(block_id) or {}).get(block["element"].get("action_id", ""), {})
        given = [v for k, v in value.items() if k not in ("type", "timezone")]
        if not any(v not in (None, "", []) for v in given):
            missing[block_id] = REQUIRED
    return missing
