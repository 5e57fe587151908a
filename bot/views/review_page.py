"""The review page a review link opens, for someone without Slack: the post as each network will show it, and
Approve, Request changes and Reject as plain HTML forms (no JavaScript needed; a tiny script, allowed by its
hash in the Content-Security-Policy, only shows the time in the reader's own zone)."""

from __future__ import annotations

import base64
import hashlib
import html
from collections.abc import Sequence
from datetime import UTC, datetime

from bot.services.approvals import ReviewCard
from bot.views.post_settings import settings_line

# Shows each <time> in the browser's own zone; without it the page says the time in UTC.
LOCAL_TIME_SCRIPT = ("document.querySelectorAll('time[datetime]').forEach(function(t){var d=new Date("
                     "t.getAttribute('datetime'));if(!isNaN(d)){t.textContent=d.toLocaleString([],{dateStyle:'full',"
                     "timeStyle:'short'})+' (your time)';}});")
SCRIPT_HASH = "sha256-" + base64.b64encode(hashlib.sha256(LOCAL_TIME_SCRIPT.encode()).digest()).decode()

HEADERS = {
    "Content-Security-Policy": f"default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; "
                               f"script-src '{SCRIPT_HASH}'; base-uri 'none'; form-action 'self'; "
                               "frame-ancestors 'none'",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
}

_STYLE = """
body { font-family: -apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif; background: #f6f4fb;
       color: #1d1c1d; margin: 0; }
main { background: #fff; max-width: 40rem; margin: 2rem auto; padding: 2rem 2.5rem; border-radius: 12px;
       box-shadow: 0 2px 12px rgba(59, 42, 99, .15); }
h1 { font-size: 1.4rem; margin: 0 0 .75rem; }
h2 { font-size: 1.05rem; margin: 1.5rem 0 .5rem; }
p { line-height: 1.5; }
.network { border: 1px solid #e4e0ef; border-radius: 8px; padding: .75rem 1rem; margin: .75rem 0; }
.network h3 { font-size: .95rem; margin: 0 0 .4rem; }
.text { white-space: pre-wrap; line-height: 1.45; margin: 0; }
.note { color: #616061; font-size: .9rem; }
.problem { color: #a4262c; }
figure { margin: .75rem 0; }
img { max-width: 100%; border-radius: 6px; }
label { display: block; margin: 1rem 0 .4rem; }
textarea { width: 100%; min-height: 5rem; box-sizing: border-box; font: inherit; padding: .5rem; }
.buttons { display: flex; gap: .75rem; flex-wrap: wrap; margin: .75rem 0; }
button { font: inherit; font-weight: 600; padding: .6rem 1.2rem; border-radius: 6px; border: 1px solid #3b2a63;
         background: #fff; color: #3b2a63; cursor: pointer; }
button.approve { background: #3b2a63; color: #fff; }
button.reject { border-color: #a4262c; color: #a4262c; }
.error { color: #a4262c; font-weight: 600; }
"""


def _e(text: str | None) -> str:
    return html.escape(text or "")


def _time(when: datetime) -> str:
    utc = when.astimezone(UTC)
    iso = utc.strftime("%Y-%m-%dT%H:%M:%SZ")
    return f'<time datetime="{iso}">{utc:%A %d %B %Y, %H:%M} UTC</time>'


def _document(title: str, body: str, script: bool = False) -> str:
    tail = f"<script>{LOCAL_TIME_SCRIPT}</script>" if script else ""
    return (f'<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{_e(title)} · Picmim</title><style>{_STYLE}</style></head>"
            f"<body><main>{body}<p class=\"note\"><small>Picmim for Slack</small></p></main>{tail}</body></html>\n")


def message_page(title: str, message: str) -> str:
    """A link that decides nothing (any more): what happened, in words."""
    return _document(title, f"<h1>{_e(title)}</h1><p>{_e(message)}</p>")


def review_page(card: ReviewCard, reviewer: str, csrf: str, images: Sequence[tuple[str, str]],
                cover: str | None, expires: datetime, error: str | None = None, comment: str = "") -> str:
    """The post as each network will show it, and the decision forms (posted back to this same address)."""
    when = (f"It is set to publish on {_time(card.scheduled_at)}." if card.scheduled_at else
            "It publishes as soon as it is approved.")
    parts = [f"<h1>Review a post</h1><p>Hello {_e(reviewer)}: the team asks you to review this post before it goes "
             f"out. {when}</p>"]
    parts.append("<h2>What each network will show</h2>")
    for target in card.targets:
        where = f"{_e(target.platform_name)} · {_e(target.account_name)}"
        if target.handle and target.handle != target.account_name:
            where += f" (@{_e(target.handle)})"
        chosen = settings_line(target.settings, target.account_settings)
        extra = f'<p class="note">{_e(chosen.replace("*", ""))}</p>' if chosen else ""
        problems = "".join(f'<p class="problem">{_e(p)}</p>' for p in target.problems)
        parts.append(f'<section class="network"><h3>{where}</h3><p class="text">{_e(target.text)}</p>'
                     f"{extra}{problems}</section>")
    if card.first_comment:
        parts.append(f'<p class="note">First comment: {_e(card.first_comment)}</p>')
    if images or cover:
        parts.append("<h2>Pictures and video</h2>")
    for url, alt in images:
        parts.append(f'<figure><img src="{_e(url)}" alt="{_e(alt)}"></figure>')
    if cover:
        parts.append(f'<figure><img src="{_e(cover)}" alt="The video\'s cover frame">'
                     "<figcaption class=\"note\">Video cover</figcaption></figure>")
    videos = [m.filename for m in card.media if m.kind == "video"]
    if videos and not cover:
        parts.append(f'<p class="note">Video: {_e(", ".join(videos))}</p>')
    documents = [m.filename for m in card.media if m.kind == "document"]
    if documents:  # a LinkedIn document post's PDF: named, not shown
        parts.append(f'<p class="note">PDF document: {_e(", ".join(documents))}</p>')
    hidden = f'<input type="hidden" name="csrf" value="{_e(csrf)}">'
    error_text = f'<p class="error" id="comment-error">{_e(error)}</p>' if error else ""
    described = ' aria-describedby="comment-error"' if error else ""
    parts.append(
        "<h2>Your decision</h2>"
        f'<form method="post">{hidden}<div class="buttons">'
        '<button class="approve" type="submit" name="decision" value="approve">Approve</button></div></form>'
        f'<form method="post">{hidden}<label for="comment">Comment for the team (needed to request changes)</label>'
        f"{error_text}<textarea id=\"comment\" name=\"comment\" maxlength=\"2000\"{described}>{_e(comment)}</textarea>"
        '<div class="buttons"><button type="submit" name="decision" value="request_changes">Request changes</button>'
        '<button class="reject" type="submit" name="decision" value="reject">Reject</button></div></form>'
        f'<p class="note">This link works once, for this version of the post, until {_time(expires)}.</p>')
    return _document("Review a post", "".join(parts), script=True)
