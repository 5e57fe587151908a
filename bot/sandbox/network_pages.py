"""The pages a person sees of the sandbox's simulated networks: each network's consent page (served by its
simulator) and its feed (served by Picmim at PUBLIC_URL/sandbox/<platform>). Pure functions of what they show."""

from __future__ import annotations

import html
import re
import time
from dataclasses import dataclass, field

# Each network's own colour, so a person sees at a glance whose page it is.
LOOKS = {
    "x": ("X", "#000000"),
    "linkedin": ("LinkedIn", "#0a66c2"),
    "facebook": ("Facebook", "#1877f2"),
    "instagram": ("Instagram", "#c13584"),
    "tiktok": ("TikTok", "#fe2c55"),
    "youtube": ("YouTube", "#ff0000"),
    "google": ("Google", "#1a73e8"),
    "pinterest": ("Pinterest", "#e60023"),
    "bluesky": ("Bluesky", "#1185fe"),
}

_STYLE = """
body{margin:0;font:15px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;background:#f3f4f6;color:#111}
header{color:#fff;padding:12px 20px;font-weight:700;font-size:18px}
header small{font-weight:400;opacity:.85;margin-left:8px;font-size:13px}
header .back{float:right;color:#fff;font-weight:400;font-size:14px}
main{max-width:620px;margin:20px auto;padding:0 12px}
.card{background:#fff;border-radius:12px;box-shadow:0 1px 3px rgba(0,0,0,.12);padding:16px 18px;margin:0 0 16px}
.card:target{outline:3px solid #f5a623}
.who{display:flex;align-items:center;gap:10px;margin-bottom:8px}
.avatar{width:40px;height:40px;border-radius:50%;color:#fff;display:flex;align-items:center;justify-content:center;
 font-weight:700;flex:none}
.name{font-weight:700}.handle,.when{color:#666;font-size:13px}
.text{white-space:pre-wrap;word-wrap:break-word;margin:6px 0}
.title{font-size:18px;font-weight:700;margin:6px 0}
.media{display:grid;gap:4px;grid-template-columns:repeat(auto-fit,minmax(140px,1fr));margin:8px 0}
.media img,.media video{width:100%;border-radius:8px;background:#000;max-height:420px;object-fit:cover}
.linkcard{display:block;border:1px solid #ddd;border-radius:10px;padding:10px 12px;margin:8px 0;color:#111;
 text-decoration:none}
.linkcard small{color:#666;display:block}
.reply{border-left:3px solid #ddd;margin:10px 0 0 18px;padding-left:12px}
.comment{background:#f3f4f6;border-radius:10px;padding:8px 10px;margin-top:10px;font-size:14px}
.figures{display:flex;flex-wrap:wrap;gap:14px;color:#444;font-size:13px;margin-top:10px;border-top:1px solid #eee;
 padding-top:8px}
.figures b{color:#111}
.empty{color:#555;text-align:center;padding:30px}
.consent h1{font-size:20px;margin:0 0 8px}
.consent label{display:block;padding:8px 0;border-bottom:1px solid #eee}
.buttons{display:flex;gap:10px;margin-top:16px}
button{font:inherit;padding:10px 18px;border-radius:999px;border:1px solid #999;background:#fff;cursor:pointer}
button.allow{color:#fff;border:none}
@media (max-width:480px){main{margin:10px auto}.card{padding:12px}}
"""


@dataclass
class FeedPost:
    """A post as a simulated network shows it (see Networks.posts for its dict form)."""

    id: str  # the network's id for the post: the feed's anchor is post-<id>
    author: str
    handle: str = ""
    text: str = ""
    title: str = ""  # YouTube's title, a Pin's title
    board: str = ""  # Pinterest
    images: list[str] = field(default_factory=list)  # addresses the browser can open
    video: str = ""
    poster: str = ""
    link: str = ""
    link_title: str = ""
    replies: list[str] = field(default_factory=list)  # a thread's further parts
    first_comment: str = ""
    figures: dict[str, int] = field(default_factory=dict)
    live_at: float = 0.0  # epoch seconds
    matches: tuple[str, ...] = ()  # strings a permalink to this post carries (its id, a short code)

    def as_dict(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if k != "matches"}


def _page(title: str, colour: str, header: str, body: str, script: str = "") -> str:
    src = f'<script src="{html.escape(script)}" defer></script>' if script else ""
    return (f'<!doctype html><html lang="en"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width,initial-scale=1">'
            f"<title>{html.escape(title)}</title><style>{_STYLE}</style>{src}</head><body>"
            f'<header style="background:{colour}">{header}</header><main>{body}</main></body></html>')


# ---- consent -------------------------------------------------------------------------------------------


@dataclass
class Choice:
    value: str
    label: str
    checked: bool = True


def consent_page(network: str, signed_in_as: str, choices_heading: str, choices: list[Choice], action: str,
                 many: bool = True) -> str:
    """The network's sign-in step: who is signed in, what Picmim Sandbox asks for, which pages or channels to
    give it (where the network has several), Allow or Cancel."""
    name, colour = LOOKS[network]
    rows = ""
    if choices:
        kind = "checkbox" if many else "radio"
        rows = f"<p><b>{html.escape(choices_heading)}</b></p>" + "".join(
            f'<label><input type="{kind}" name="choice" value="{html.escape(c.value)}"'
            f'{" checked" if c.checked else ""}> {html.escape(c.label)}</label>' for c in choices)
    body = (f'<div class="card consent"><h1>Picmim Sandbox wants to access your {html.escape(name)} account</h1>'
            f"<p>Signed in as <b>{html.escape(signed_in_as)}</b>. Picmim Sandbox will be able to publish posts "
            f"and read their figures for you. This is the sandbox: nothing reaches the real {html.escape(name)}.</p>"
            f'<form method="post" action="{html.escape(action)}">{rows}'
            f'<div class="buttons"><button class="allow" style="background:{colour}" name="answer" value="allow">'
            f'Allow</button><button name="answer" value="cancel">Cancel</button></div></form></div>')
    return _page(f"{name} · Allow Picmim Sandbox", colour, f"{html.escape(name)} <small>sandbox</small>", body)


def consent_gone_page(network: str) -> str:
    name, colour = LOOKS[network]
    body = ('<div class="card"><p>This sign-in was already answered or has expired. Go back to Slack and ask '
            "Picmim for a new sign-in link.</p></div>")
    return _page(f"{name} · Sign-in expired", colour, f"{html.escape(name)} <small>sandbox</small>", body)


# ---- feeds ---------------------------------------------------------------------------------------------

FIGURE_WORDS = (("impressions", "impressions"), ("views", "views"), ("reach", "reached"), ("likes", "likes"),
                ("comments", "comments"), ("shares", "shares"), ("saves", "saves"), ("clicks", "link clicks"))

_URL = re.compile(r"https?://[^\s<]+")


def _text(value: str) -> str:
    """Escaped text whose addresses are links."""
    out, last = [], 0
    for match in _URL.finditer(value):
        out += [html.escape(value[last:match.start()]),
                f'<a href="{html.escape(match.group())}">{html.escape(match.group())}</a>']
        last = match.end()
    return "".join(out) + html.escape(value[last:])


def ago(seconds: float) -> str:
    seconds = max(0, int(seconds))
    for size, word in ((86400, "day"), (3600, "hour"), (60, "minute")):
        if seconds >= size:
            n = seconds // size
            return f"{n} {word}{'s' * (n != 1)} ago"
    return "just now"


def _post(post: FeedPost, colour: str, now: float) -> str:
    initial = html.escape((post.author or "?")[:1].upper())
    who = (f'<div class="who"><div class="avatar" style="background:{colour}">{initial}</div><div>'
           f'<div class="name">{html.escape(post.author)}</div><div class="handle">{html.escape(post.handle)}'
           f'{" · " if post.handle else ""}<span class="when">{ago(now - post.live_at)}</span></div></div></div>')
    parts = [who]
    if post.board:
        parts.append(f'<div class="handle">Saved to <b>{html.escape(post.board)}</b></div>')
    if post.title:
        parts.append(f'<div class="title">{html.escape(post.title)}</div>')
    if post.text:
        parts.append(f'<div class="text">{_text(post.text)}</div>')
    media = "".join(f'<img src="{html.escape(src)}" alt="Picture of the post">' for src in post.images)
    if post.video:
        poster = f' poster="{html.escape(post.poster)}"' if post.poster else ""
        media += f'<video controls preload="none" src="{html.escape(post.video)}"{poster}></video>'
    if media:
        parts.append(f'<div class="media">{media}</div>')
    if post.link:
        title = html.escape(post.link_title or post.link)
        parts.append(f'<a class="linkcard" href="{html.escape(post.link)}"><b>{title}</b>'
                     f"<small>{html.escape(post.link)}</small></a>")
    for reply in post.replies:
        parts.append(f'<div class="reply"><div class="name">{html.escape(post.author)}</div>'
                     f'<div class="text">{_text(reply)}</div></div>')
    if post.first_comment:
        parts.append(f'<div class="comment"><b>{html.escape(post.author)}</b> {_text(post.first_comment)}</div>')
    figures = "".join(f"<span><b>{post.figures[key]:,}</b> {word}</span>" for key, word in FIGURE_WORDS
                      if key in post.figures)
    if figures:
        parts.append(f'<div class="figures">{figures}</div>')
    return f'<article class="card" id="post-{html.escape(post.id)}">{"".join(parts)}</article>'


FEED_SCRIPT = "/sandbox/static/feed.js"  # brings the feed up to date as posts arrive and figures grow


def feed_page(network: str, posts: list[FeedPost], now: float | None = None) -> str:
    """A network's feed in the sandbox: what Picmim published there, newest first, with its figures (kept up to
    date in the browser by FEED_SCRIPT)."""
    name, colour = LOOKS[network]
    now = time.time() if now is None else now
    body = "".join(_post(p, colour, now) for p in sorted(posts, key=lambda p: p.live_at, reverse=True))
    if not posts:
        body = (f'<div class="card empty">Nothing on the sandbox {html.escape(name)} yet. Connect an account in '
                "Slack with <code>/picmim connect</code> and publish a post: it shows here.</div>")
    header = (f'{html.escape(name)} <small>sandbox feed · the posts Picmim published, newest first</small>'
              '<a class="back" href="/sandbox">Back to the sandbox’s Slack</a>')
    return _page(f"{name} · Picmim sandbox", colour, header, body, script=FEED_SCRIPT)
