"""A test-only renderer: Block Kit (a message's blocks, a modal view, a Home view) as a self-contained HTML page
that looks enough like Slack to judge a layout in a screenshot and to read what a person would see.

Not Slack: no network (images are drawn as labelled boxes), no emoji font (known status emoji are drawn as
coloured symbols, others as their :name:), dates shown as their fallback. Everything from the blocks is escaped.

    page = render(view_or_blocks)      # picks the surface: a modal, a Home view, or a message's blocks
    text = visible_text(page)          # the words on the page, for assertions
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from html.parser import HTMLParser
from typing import Any

# ---- emoji ----------------------------------------------------------------------------------------------------
# Drawn with glyphs DejaVu Sans has (headless Chromium on Debian has no colour emoji font).
EMOJI: dict[str, tuple[str, str]] = {
    "white_check_mark": ("✔", "#2eb67d"), "heavy_check_mark": ("✔", "#1d1c1d"), "x": ("✖", "#e01e5a"),
    "warning": ("⚠", "#e8a317"), "no_entry": ("⊖", "#e01e5a"), "no_entry_sign": ("⊘", "#e01e5a"),
    "large_green_circle": ("●", "#2eb67d"), "large_yellow_circle": ("●", "#ecb22e"), "red_circle": ("●", "#e01e5a"),
    "hourglass": ("◔", "#8b6d3f"), "hourglass_flowing_sand": ("◔", "#8b6d3f"), "calendar": ("▦", "#1264a3"),
    "arrows_counterclockwise": ("⟳", "#1264a3"), "memo": ("✎", "#616061"), "pencil2": ("✎", "#616061"),
    "grey_question": ("?", "#868686"), "question": ("?", "#e01e5a"), "double_vertical_bar": ("‖", "#1264a3"),
    "point_right": ("☞", "#c69026"), "leftwards_arrow_with_hook": ("↩", "#1264a3"), "alarm_clock": ("◷", "#e01e5a"),
    "+1": ("☝", "#c69026"), "thumbsup": ("☝", "#c69026"), "tada": ("✦", "#e01e5a"), "bell": ("♪", "#c69026"),
    "bulb": ("✷", "#ecb22e"), "eyes": ("◉", "#616061"), "rocket": ("➚", "#1264a3"),
    "chart_with_upwards_trend": ("▲", "#2eb67d"), "chart_with_downwards_trend": ("▼", "#e01e5a"),
    "arrow_right": ("→", "#1264a3"), "heavy_plus_sign": ("+", "#1d1c1d"), "gear": ("⚙", "#616061"),
    "information_source": ("ℹ", "#1264a3"), "clock3": ("◷", "#616061"),
}
_PICTOGRAPH = re.compile("[\U0001F000-\U0001FAFF]\uFE0F?|\uFE0F")


def _pictographs(escaped: str) -> str:
    """Emoji typed into a text (🌸): no font here draws them, so a dotted circle says one is there."""
    return _PICTOGRAPH.sub(lambda m: "" if m.group() == "\uFE0F" else
                           f'<span class="emoji-name" title="U+{ord(m.group()[0]):X}">◌</span>', escaped)


_EMOJI_NAME = re.compile(r":(?=[^:\s]*[a-z+])([a-z0-9_+\-']+):")


def _emoji(name: str) -> str:
    known = EMOJI.get(name)
    if known:
        glyph, colour = known
        return f'<span class="emoji" title=":{_e(name)}:" style="color:{colour}">{glyph}</span>'
    return f'<span class="emoji-name">:{_e(name)}:</span>'


def _e(text: Any) -> str:
    return html.escape(str(text), quote=True)


# ---- mrkdwn -----------------------------------------------------------------------------------------------------

_ENTITY = re.compile(r"<([^<>\n]+)>")
_CODE_BLOCK = re.compile(r"```(.+?)```", re.S)
_CODE = re.compile(r"`([^`\n]+)`")
_SLACK_UNESCAPE = (("&lt;", "<"), ("&gt;", ">"), ("&amp;", "&"))


def _unslack(text: str) -> str:
    for escaped, char in _SLACK_UNESCAPE:
        text = text.replace(escaped, char)
    return text


def _format(text: str) -> str:
    """*bold*, _italic_ and ~strike~ on already escaped text, by Slack's rule that a marker hugs its words."""
    for mark, tag in (("*", "b"), ("_", "i"), ("~", "s")):
        m = re.escape(mark)
        text = re.sub(rf"(?<![\w{m}]){m}(?=\S)(.+?)(?<=\S){m}(?![\w{m}])", rf"<{tag}>\1</{tag}>", text)
    return text


class Renderer:
    """Renders with optional names for user and channel ids (`<@U1>` → @Dana), as Slack would show them."""

    def __init__(self, users: Mapping[str, str] | None = None, channels: Mapping[str, str] | None = None):
        self.users = dict(users or {})
        self.channels = dict(channels or {})

    # ---- text ----

    def entity(self, inner: str) -> str:
        target, _, label = inner.partition("|")
        if target.startswith("@"):
            uid = target[1:]
            return f'<span class="mention">@{_e(label or self.users.get(uid, uid))}</span>'
        if target.startswith("#"):
            cid = target[1:]
            return f'<span class="mention">#{_e(label or self.channels.get(cid, cid))}</span>'
        if target.startswith("!subteam^"):
            return f'<span class="mention">@{_e(label or target[9:])}</span>'
        if target.startswith("!date^"):
            parts = target.split("^")
            when = _e(_unslack(label)) if label else _e(parts[1] if len(parts) > 1 else "")
            return f'<span class="date" data-date="{_e(target)}">{when}</span>'
        if target.startswith("!"):
            return f'<span class="mention">@{_e(label or target[1:])}</span>'
        shown = _unslack(label) if label else target
        return f'<a href="{_e(_unslack(target))}">{_e(shown)}</a>'

    def inline(self, line: str) -> str:
        """One line of mrkdwn as HTML: code and entities and emoji are set aside, the rest escaped then formatted."""
        kept: list[str] = []

        def keep(fragment: str) -> str:
            kept.append(fragment)
            return f"\x00{len(kept) - 1}\x00"

        line = _CODE.sub(lambda m: keep(f"<code>{_e(_unslack(m.group(1)))}</code>"), line)
        line = _ENTITY.sub(lambda m: keep(self.entity(m.group(1))), line)
        line = _EMOJI_NAME.sub(lambda m: keep(_emoji(m.group(1))), line)
        line = _format(_pictographs(_e(_unslack(line))))
        return re.sub(r"\x00(\d+)\x00", lambda m: kept[int(m.group(1))], line)

    def mrkdwn(self, text: str) -> str:
        kept: list[str] = []

        def keep(m: re.Match) -> str:
            kept.append(f"<pre>{_e(_unslack(m.group(1).strip(chr(10))))}</pre>")
            return f"\x01{len(kept) - 1}\x01"

        text = _CODE_BLOCK.sub(keep, text)
        parts: list[tuple[str, str]] = []  # ("line" | "quote", html)
        for line in text.split("\n"):
            quoted = re.match(r"^(?:>|&gt;)\s?(.*)$", line)
            kind, shown = ("quote", quoted.group(1)) if quoted else ("line", line)
            if kind == "quote" and parts and parts[-1][0] == "quote":
                parts[-1] = ("quote", parts[-1][1] + "<br>" + self.inline(shown))
            else:
                parts.append((kind, self.inline(shown)))
        body = ""
        for i, (kind, shown) in enumerate(parts):
            if kind == "quote":
                body += f"<blockquote>{shown}</blockquote>"
            else:
                body += shown + ("<br>" if i + 1 < len(parts) and parts[i + 1][0] == "line" else "")
        return re.sub(r"\x01(\d+)\x01(<br>)?", lambda m: kept[int(m.group(1))], body)

    def plain(self, text: str) -> str:
        escaped = _pictographs(_e(text)).replace("\n", "<br>")
        return _EMOJI_NAME.sub(lambda m: _emoji(m.group(1)), escaped)

    def text(self, obj: Mapping | None) -> str:
        if not obj:
            return ""
        if obj.get("type") == "mrkdwn":
            return self.mrkdwn(obj.get("text", ""))
        return self.plain(obj.get("text", ""))

    # ---- elements ----

    def option_text(self, option: Mapping | None) -> str:
        return self.text(option.get("text")) if option else ""

    def element(self, el: Mapping) -> str:
        kind = el.get("type", "")
        attrs = f'data-type="{_e(kind)}"'
        if el.get("action_id"):
            attrs += f' data-action-id="{_e(el["action_id"])}"'
        if el.get("confirm"):
            confirm = el["confirm"]
            attrs += (f' data-confirm="{_e((confirm.get("title") or {}).get("text", "yes"))}"'
                      f' data-confirm-text="{_e((confirm.get("text") or {}).get("text", ""))}"')
        placeholder = (el.get("placeholder") or {}).get("text", "")

        def ph(default: str) -> str:
            return f'<span class="placeholder">{self.plain(placeholder or default)}</span>'

        if kind == "button":
            style = el.get("style") or "default"
            label = f' aria-label="{_e(el["accessibility_label"])}"' if el.get("accessibility_label") else ""
            link = ' <span class="ext">↗</span>' if el.get("url") else ""
            return (f'<span class="button {_e(style)}" role="button" {attrs}{label}>{self.text(el.get("text"))}'
                    f"{link}</span>")
        if kind == "overflow":
            options = " | ".join(o.get("text", {}).get("text", "") for o in el.get("options", []))
            label = f' aria-label="{_e(el["accessibility_label"])}"' if el.get("accessibility_label") else ""
            return f'<span class="button overflow" role="button" {attrs} data-options="{_e(options)}"{label}>⋯</span>'
        if kind == "image":
            return self.image_box(el, small=True)
        if kind in ("static_select", "external_select"):
            chosen = self.option_text(el.get("initial_option"))
            return f'<span class="select" {attrs}>{chosen or ph("Select an item")}<span class="caret">▾</span></span>'
        if kind in ("users_select", "conversations_select", "channels_select"):
            initial = el.get("initial_user") or el.get("initial_conversation") or el.get("initial_channel")
            mark = "@" if kind == "users_select" else "#"
            name = self.users.get(initial) or self.channels.get(initial) or initial
            shown = f'<span class="mention">{mark}{_e(name)}</span>' if initial else ph("Select an item")
            return f'<span class="select" {attrs}>{shown}<span class="caret">▾</span></span>'
        if kind.startswith("multi_"):
            chips = [self.option_text(o) for o in el.get("initial_options") or []]
            chips += [f"@{_e(self.users.get(u, u))}" for u in el.get("initial_users") or []]
            chips += [f"#{_e(self.channels.get(c, c))}" for c in
                      (el.get("initial_conversations") or []) + (el.get("initial_channels") or [])]
            shown = "".join(f'<span class="chip">{c}</span>' for c in chips) or ph("Select items")
            return f'<span class="select multi" {attrs}>{shown}<span class="caret">▾</span></span>'
        if kind in ("checkboxes", "radio_buttons"):
            initial = el.get("initial_options") or ([el["initial_option"]] if el.get("initial_option") else [])
            chosen = {o.get("value") for o in initial}
            box = "box" if kind == "checkboxes" else "radio"
            rows = []
            for o in el.get("options", []):
                on = o.get("value") in chosen
                about = (f'<div class="description">{self.text(o.get("description"))}</div>'
                         if o.get("description") else "")
                tick = "✔" if on and box == "box" else ""
                rows.append(f'<div class="choice{" on" if on else ""}"><span class="{box}{" on" if on else ""}">'
                            f"{tick}</span><span>{self.option_text(o)}{about}</span></div>")
            return f'<div class="choices" {attrs}>{"".join(rows)}</div>'
        if kind == "datepicker":
            return f'<span class="select date" {attrs}>{_e(el.get("initial_date") or "") or ph("Select a date")}</span>'
        if kind == "timepicker":
            return f'<span class="select time" {attrs}>{_e(el.get("initial_time") or "") or ph("Select time")}</span>'
        if kind == "datetimepicker":
            if el.get("initial_date_time") is not None:
                when = datetime.fromtimestamp(int(el["initial_date_time"]), UTC)
                day, time = f"{when:%a %d %b %Y}", f"{when:%H:%M}"
                return (f'<span class="pair" {attrs}><span class="select date">{day}</span>'
                        f'<span class="select time">{time}</span></span>')
            return (f'<span class="pair" {attrs}><span class="select date">{ph("Select a date")}</span>'
                    f'<span class="select time"><span class="placeholder">Select time</span></span></span>')
        if kind in ("plain_text_input", "number_input", "url_text_input", "email_text_input", "rich_text_input"):
            value = el.get("initial_value")
            if kind == "rich_text_input" and isinstance(value, Mapping):
                value = None
            tall = " multiline" if el.get("multiline") or kind == "rich_text_input" else ""
            shown = self.plain(value) if value else ph("")
            return f'<div class="textbox{tall}" {attrs}>{shown}</div>'
        if kind == "file_input":
            types = ", ".join(el.get("filetypes") or []) or "any file"
            most = el.get("max_files")
            limit = f" · up to {int(most)} files" if most else ""
            return (f'<div class="dropzone" {attrs}><b>Drag and drop or click to upload</b>'
                    f'<div class="description">{_e(types)}{_e(limit)}</div></div>')
        return self.unknown(el, "element")

    def image_box(self, el: Mapping, *, small: bool = False, title: str = "") -> str:
        alt = el.get("alt_text", "")
        url = el.get("image_url") or (el.get("slack_file") or {}).get("url") or ""
        where = re.sub(r"^https?://", "", url).split("/")[0]
        size = "thumb" if small else "picture"
        return (f'<span class="image {size}" role="img" aria-label="{_e(alt)}" data-src="{_e(url)}">'
                f'{"" if small else f"<span>{_e(alt)}</span><small>{_e(where)}</small>"}</span>')

    def unknown(self, thing: Mapping, what: str = "block") -> str:
        kind = thing.get("type", "?")
        shown = json.dumps(thing, ensure_ascii=False)[:300]
        return f'<div class="unknown" data-type="{_e(kind)}"><b>[{what}: {_e(kind)}]</b> <code>{_e(shown)}</code></div>'

    # ---- rich text ----

    def rich(self, el: Mapping) -> str:
        kind = el.get("type")
        if kind == "rich_text_section":
            return "".join(self.rich_inline(e) for e in el.get("elements", []))
        if kind == "rich_text_list":
            tag = "ol" if el.get("style") == "ordered" else "ul"
            items = "".join(f"<li>{self.rich(e)}</li>" for e in el.get("elements", []))
            return f"<{tag}>{items}</{tag}>"
        if kind == "rich_text_quote":
            return "<blockquote>" + "".join(self.rich_inline(e) for e in el.get("elements", [])) + "</blockquote>"
        if kind == "rich_text_preformatted":
            return "<pre>" + "".join(self.rich_inline(e) for e in el.get("elements", [])) + "</pre>"
        return self.unknown(el, "rich text")

    def rich_inline(self, el: Mapping) -> str:
        kind = el.get("type")
        if kind == "text":
            out = _e(el.get("text", "")).replace("\n", "<br>")
        elif kind == "link":
            out = f'<a href="{_e(el.get("url", ""))}">{_e(el.get("text") or el.get("url", ""))}</a>'
        elif kind == "user":
            uid = el.get("user_id", "")
            out = f'<span class="mention">@{_e(self.users.get(uid, uid))}</span>'
        elif kind == "channel":
            cid = el.get("channel_id", "")
            out = f'<span class="mention">#{_e(self.channels.get(cid, cid))}</span>'
        elif kind == "emoji":
            out = _emoji(el.get("name", ""))
        elif kind == "date":
            out = f'<span class="date">{_e(el.get("fallback") or el.get("timestamp", ""))}</span>'
        elif kind == "broadcast":
            out = f'<span class="mention">@{_e(el.get("range", ""))}</span>'
        else:
            return self.unknown(el, "rich text")
        style = el.get("style") or {}
        for key, tag in (("code", "code"), ("bold", "b"), ("italic", "i"), ("strike", "s")):
            if style.get(key):
                out = f"<{tag}>{out}</{tag}>"
        return out

    # ---- blocks ----

    def block(self, b: Mapping) -> str:
        kind = b.get("type")
        bid = f' data-block-id="{_e(b["block_id"])}"' if b.get("block_id") else ""
        if kind == "header":
            return f'<div class="block header"{bid}>{self.text(b.get("text"))}</div>'
        if kind == "divider":
            return f'<hr class="block divider"{bid}>'
        if kind == "section":
            body = f'<div class="text">{self.text(b.get("text"))}</div>' if b.get("text") else ""
            if b.get("fields"):
                body += '<div class="fields">' + "".join(
                    f'<div class="field">{self.text(f)}</div>' for f in b["fields"]) + "</div>"
            side = f'<div class="accessory">{self.element(b["accessory"])}</div>' if b.get("accessory") else ""
            return f'<div class="block section"{bid}><div class="main">{body}</div>{side}</div>'
        if kind == "context":
            parts = [self.image_box(e, small=True) if e.get("type") == "image" else f"<span>{self.text(e)}</span>"
                     for e in b.get("elements", [])]
            return f'<div class="block context"{bid}>{"".join(parts)}</div>'
        if kind == "image":
            title = f'<div class="image-title">{self.text(b.get("title"))}</div>' if b.get("title") else ""
            return f'<div class="block image-block"{bid}>{title}{self.image_box(b)}</div>'
        if kind == "actions":
            return (f'<div class="block actions"{bid}>'
                    + "".join(self.element(e) for e in b.get("elements", [])) + "</div>")
        if kind == "input":
            optional = ' <span class="optional">(optional)</span>' if b.get("optional") else ""
            hint = f'<div class="hint">{self.text(b.get("hint"))}</div>' if b.get("hint") else ""
            dispatch = ' data-dispatch="true"' if b.get("dispatch_action") else ""
            return (f'<div class="block input"{bid}{dispatch}><label>{self.text(b.get("label"))}{optional}</label>'
                    f'{self.element(b.get("element") or {})}{hint}</div>')
        if kind == "rich_text":
            return f'<div class="block rich"{bid}>' + "".join(self.rich(e) for e in b.get("elements", [])) + "</div>"
        if kind == "markdown":
            return f'<div class="block section"{bid}><div class="main">{self.mrkdwn(b.get("text", ""))}</div></div>'
        return self.unknown(b)

    def blocks(self, blocks: Sequence[Mapping]) -> str:
        return "\n".join(self.block(b) for b in blocks)


# ---- surfaces ---------------------------------------------------------------------------------------------------

CSS = """
* { box-sizing: border-box; }
body { margin: 0; background: #f8f8f8; color: #1d1c1d; font: 15px/1.46668 "Liberation Sans", "DejaVu Sans",
       Helvetica, Arial, sans-serif; }
.surface { width: 760px; margin: 16px auto; background: #fff; border: 1px solid #ddd; border-radius: 8px; }
.modal { width: 540px; box-shadow: 0 18px 48px rgba(0,0,0,.35); border: none; }
.modal .titlebar { display: flex; align-items: center; justify-content: space-between; padding: 18px 24px;
                   border-bottom: 1px solid #eee; font-weight: 900; font-size: 22px; }
.modal .x { color: #616061; font-weight: 400; }
.modal .body { padding: 12px 24px 16px; }
.modal .footer { display: flex; justify-content: flex-end; gap: 8px; padding: 20px 24px; border-top: 1px solid #eee; }
.apphead { display: flex; align-items: center; gap: 12px; padding: 14px 20px 0; }
.apphead .name { font-weight: 900; font-size: 18px; }
.tabs { display: flex; gap: 22px; padding: 10px 20px 0; border-bottom: 1px solid #ddd; color: #616061; }
.tabs span { padding-bottom: 8px; }
.tabs .on { color: #1d1c1d; font-weight: 700; border-bottom: 2px solid #1d1c1d; }
.home .body { padding: 12px 20px 20px; }
.message { display: flex; gap: 8px; padding: 12px 20px; }
.avatar { flex: none; width: 36px; height: 36px; border-radius: 6px; background: #3b2a63; color: #fff;
          font-weight: 900; display: flex; align-items: center; justify-content: center; }
.sender b { font-weight: 900; } .sender .app { font-size: 10px; background: #e8e8e8; color: #616061; padding: 1px 3px;
          border-radius: 2px; margin: 0 4px; font-weight: 700; } .sender .time { color: #616061; font-size: 12px; }
.message .content { flex: 1; min-width: 0; }
.notification { margin: 0 20px 12px; padding: 6px 10px; font-size: 12px; color: #616061; background: #f4f4f4;
                border-radius: 4px; }
.block { margin: 6px 0; }
.header { font-size: 18px; font-weight: 900; margin-top: 14px; }
hr.divider { border: none; border-top: 1px solid #e8e8e8; margin: 14px 0; }
.section { display: flex; gap: 12px; align-items: flex-start; }
.section .main { flex: 1; min-width: 0; overflow-wrap: anywhere; }
.accessory { flex: none; }
.fields { display: grid; grid-template-columns: 1fr 1fr; gap: 8px 16px; margin-top: 4px; }
.context { color: #616061; font-size: 13px; display: flex; flex-wrap: wrap; align-items: center; gap: 6px; }
.context blockquote { border-left-color: #ccc; }
blockquote { margin: 4px 0; padding: 0 0 0 10px; border-left: 4px solid #ddd; }
code { font: 12px "DejaVu Sans Mono", monospace; color: #c01343; background: #f6f6f6; border: 1px solid #e8e8e8;
       border-radius: 3px; padding: 1px 3px; }
pre { font: 12px "DejaVu Sans Mono", monospace; background: #f8f8f8; border: 1px solid #e8e8e8; padding: 8px;
      border-radius: 4px; white-space: pre-wrap; }
a { color: #1264a3; text-decoration: none; }
.mention { color: #1264a3; background: #e8f5fa; border-radius: 3px; padding: 0 2px; }
.date { border-bottom: 1px dotted #868686; }
.emoji { font-weight: 700; } .emoji-name { color: #616061; font-size: 12px; background: #f2f2f2; border-radius: 3px;
          padding: 0 2px; }
.actions { display: flex; flex-wrap: wrap; gap: 8px; align-items: center; margin: 10px 0; }
.button { display: inline-block; padding: 0 12px; height: 30px; line-height: 28px; border-radius: 4px; font-weight: 700;
          font-size: 13px; border: 1px solid #bbb; background: #fff; color: #1d1c1d; white-space: nowrap; }
.button.primary { background: #007a5a; border-color: #007a5a; color: #fff; }
.button.danger { background: #e01e5a; border-color: #e01e5a; color: #fff; }
.button.overflow { padding: 0 8px; font-size: 16px; }
.button[data-confirm]::after { content: " ⁈"; font-size: 10px; opacity: .7; }
.select { display: inline-flex; align-items: center; gap: 6px; min-width: 180px; min-height: 36px; padding: 4px 10px;
          border: 1px solid #bbb; border-radius: 4px; background: #fff; flex-wrap: wrap; }
.select .caret { margin-left: auto; color: #616061; }
.select.multi { display: flex; }
.input .select, .input .textbox { width: 100%; }
.pair { display: flex; gap: 8px; } .pair .select { min-width: 0; flex: 1; }
.chip { background: #e8f5fa; border: 1px solid #b8dcef; border-radius: 4px; padding: 0 6px; font-size: 13px; }
.placeholder { color: #868686; }
.textbox { min-height: 38px; padding: 8px 10px; border: 1px solid #bbb; border-radius: 4px; white-space: normal; }
.textbox.multiline { min-height: 84px; }
.dropzone { border: 1px dashed #bbb; border-radius: 4px; padding: 14px; text-align: center; color: #1d1c1d; }
.description { color: #616061; font-size: 13px; font-weight: 400; }
.input { margin: 16px 0; }
.input > label { display: block; font-weight: 700; margin-bottom: 6px; }
.optional { color: #616061; font-weight: 400; }
.hint { color: #616061; font-size: 13px; margin-top: 4px; }
.choices .choice { display: flex; gap: 8px; align-items: flex-start; margin: 4px 0; }
.box, .radio { flex: none; width: 16px; height: 16px; margin-top: 3px; border: 1px solid #868686; background: #fff;
               font-size: 11px; line-height: 14px; text-align: center; color: #fff; }
.box { border-radius: 3px; } .radio { border-radius: 50%; }
.box.on { background: #1264a3; border-color: #1264a3; }
.radio.on { border: 5px solid #1264a3; }
.image { display: inline-flex; flex-direction: column; justify-content: center; align-items: center;
         background: repeating-linear-gradient(45deg, #dfe7ef, #dfe7ef 10px, #e9eff5 10px, #e9eff5 20px);
         border: 1px solid #c8d2dc; border-radius: 4px; color: #34495e; font-size: 12px; text-align: center; }
.image.thumb { width: 20px; height: 20px; }
.section .accessory .image.thumb { width: 72px; height: 72px; }
.image.picture { width: 360px; height: 200px; padding: 8px; }
.image-title { font-weight: 700; }
.unknown { background: #fff4e5; border: 1px dashed #e8a317; padding: 6px; font-size: 12px; }
.rich ul, .rich ol { margin: 4px 0; padding-left: 24px; }
"""

_HEIGHT_SCRIPT = ("<script>addEventListener('load',()=>{document.documentElement.dataset.height="
                  "Math.ceil(document.documentElement.getBoundingClientRect().height)})</script>")


def _page(title: str, body: str) -> str:
    return (f'<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><title>{_e(title)}</title>'
            f"<style>{CSS}</style>{_HEIGHT_SCRIPT}</head><body>\n{body}\n</body></html>\n")


def render_modal(view: Mapping, r: Renderer | None = None) -> str:
    r = r or Renderer()
    title = (view.get("title") or {}).get("text", "")
    close = (view.get("close") or {}).get("text", "Cancel")
    buttons = f'<span class="button" role="button" data-role="close">{r.plain(close)}</span>'
    if view.get("submit"):
        submit = r.plain(view["submit"]["text"])
        buttons += f'<span class="button primary" role="button" data-role="submit">{submit}</span>'
    body = (f'<div class="surface modal" data-surface="modal"><div class="titlebar"><span>{r.plain(title)}</span>'
            f'<span class="x" aria-hidden="true">✕</span></div>'
            f'<div class="body">{r.blocks(view.get("blocks", []))}</div><div class="footer">{buttons}</div></div>')
    return _page(title, body)


def render_home(view: Mapping, r: Renderer | None = None, app: str = "Picmim") -> str:
    r = r or Renderer()
    body = (f'<div class="surface home" data-surface="home"><div class="apphead"><span class="avatar">'
            f'{_e(app[:1])}</span><span class="name">{_e(app)}</span></div><div class="tabs"><span class="on">Home'
            f'</span><span>Messages</span><span>About</span></div><div class="body">{r.blocks(view.get("blocks", []))}'
            "</div></div>")
    return _page(f"{app} · Home", body)


def render_message(blocks: Sequence[Mapping], text: str | None = None, r: Renderer | None = None,
                   app: str = "Picmim", when: str = "10:24") -> str:
    """A message as its channel shows it; `text` (the notification text, what phones and screen readers show)
    is drawn above it in a grey strip."""
    r = r or Renderer()
    note = f'<div class="notification" data-role="notification">Notification: {r.mrkdwn(text)}</div>' if text else ""
    body = (f'<div class="surface" data-surface="message"><div class="message"><span class="avatar">{_e(app[:1])}'
            f'</span><div class="content"><div class="sender"><b>{_e(app)}</b><span class="app">APP</span>'
            f'<span class="time">{_e(when)}</span></div>{r.blocks(blocks)}</div></div>{note}</div>')
    return _page(f"{app} · message", body)


def render(surface: Mapping | Sequence[Mapping], r: Renderer | None = None, **kw) -> str:
    """A modal or Home view (a dict with "type"), or a message's blocks (a list)."""
    if isinstance(surface, Mapping):
        if surface.get("type") == "home":
            return render_home(surface, r, **kw)
        if surface.get("type") == "modal":
            return render_modal(surface, r)
        raise ValueError(f"not a view: {surface.get('type')!r}")
    return render_message(surface, r=r, **kw)


# ---- reading it back ------------------------------------------------------------------------------------------


class _Text(HTMLParser):
    SKIP = {"style", "script", "title", "head"}
    BREAKS = {"br", "div", "p", "li", "blockquote", "pre", "hr", "label"}

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self.skipping = 0
        self.spans: list[str] = []  # what each open span does at its end: "", "skip", "\n" or " "

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag in self.SKIP:
            self.skipping += 1
        elif tag in self.BREAKS:
            self.parts.append("\n")
        elif tag == "span":
            classes = (attrs.get("class") or "").split()
            if attrs.get("aria-hidden") == "true":
                self.skipping += 1
                self.spans.append("skip")
            elif attrs.get("role") == "button":  # a button's label on a line of its own
                self.parts.append("\n")
                self.spans.append("\n")
            elif "select" in classes or "chip" in classes:
                self.parts.append(" ")
                self.spans.append(" ")
            else:
                self.spans.append("")

    def handle_startendtag(self, tag, attrs):
        if tag in self.BREAKS:
            self.parts.append("\n")

    def handle_endtag(self, tag):
        if tag in self.SKIP:
            self.skipping -= 1
        elif tag in self.BREAKS:
            self.parts.append("\n")
        elif tag == "span" and self.spans:
            did = self.spans.pop()
            if did == "skip":
                self.skipping -= 1
            else:
                self.parts.append(did)

    def handle_data(self, data):
        if not self.skipping:
            self.parts.append(data)


def visible_text(page: str) -> str:
    """The words a person sees on the page, a line per block or line break."""
    parser = _Text()
    parser.feed(page)
    text = "".join(parser.parts)
    lines = (re.sub(r"[ \t\u00a0]+", " ", line).strip() for line in text.split("\n"))
    return "\n".join(line for line in lines if line)
