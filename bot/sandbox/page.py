"""The simulated Slack workspace page at PUBLIC_URL/sandbox: HTML rendered here (server side, escaped), a small
script (static/sandbox.js) that polls `/sandbox/state` and posts what a person does to `/sandbox/do`.

Routes: GET /sandbox (the page), GET /sandbox/state (its changing parts, JSON), POST /sandbox/do (a message,
a command, a click, a window's submit or close, a reaction), POST /sandbox/upload (a file from the computer),
GET /sandbox/files/{id} (a file's bytes, for pictures on the page), GET /sandbox/static/{name}."""

from __future__ import annotations

import asyncio
import json
import logging
import pathlib
from datetime import datetime
from zoneinfo import ZoneInfo

from aiohttp import web

from bot.sandbox import tour
from bot.sandbox.blockkit_html import EMOJI, Context, e, emoji, mrkdwn, plain, render_blocks
from bot.sandbox.workspace import (
    APP_NAME,
    BOT_USER,
    CHANNELS,
    MARKETING,
    PEOPLE,
    TEAM_NAME,
    AppLink,
    Message,
    SandboxSlack,
    person,
)

log = logging.getLogger(__name__)

STATIC = pathlib.Path(__file__).parent / "static"
FEEDS = (("x", "X"), ("instagram", "Instagram"), ("facebook", "Facebook"), ("linkedin", "LinkedIn"),
         ("bluesky", "Bluesky"), ("tiktok", "TikTok"), ("youtube", "YouTube"), ("pinterest", "Pinterest"))
REACTIONS = ("white_check_mark", "x", "eyes", "tada", "thumbsup")
CSP = ("default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
       "connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")


class SandboxPage:
    def __init__(self, slack: SandboxSlack, link: AppLink, networks, sessions):
        self.slack, self.link, self.networks, self.sessions = slack, link, networks, sessions
        self._tasks: set[asyncio.Task] = set()

    def add_routes(self, app: web.Application) -> None:
        app.router.add_get("/sandbox", self.page)
        app.router.add_get("/sandbox/state", self.state)
        app.router.add_post("/sandbox/do", self.do)
        app.router.add_post("/sandbox/upload", self.upload)
        app.router.add_get("/sandbox/files/{file_id}", self.file)
        app.router.add_get("/sandbox/static/{name}", self.static)
        app.on_cleanup.append(self._close)

    async def _close(self, _app) -> None:
        await self.link.close()

    # ---- where the person is -------------------------------------------------------------------------------

    @staticmethod
    def _where(request: web.Request) -> tuple[str, str]:
        user = request.query.get("as", PEOPLE[0].user_id)
        if user not in {p.user_id for p in PEOPLE}:
            user = PEOPLE[0].user_id
        place = request.query.get("in", MARKETING)
        if place not in CHANNELS and place not in ("home", person(user).dm):
            place = MARKETING
        return user, place

    def _context(self, user: str, errors: dict | None = None, state: dict | None = None) -> Context:
        return Context(people={p.user_id: p.real_name for p in PEOPLE}, channels=dict(CHANNELS), tz=person(user).tz,
                       errors=errors or {}, state=state or {}, link=self.networks.browser_link,
                       image=self.networks.browser_image)

    # ---- routes ----------------------------------------------------------------------------------------------

    async def page(self, request: web.Request) -> web.Response:
        user, place = self._where(request)
        if place == "home":
            self._background(self.link.open_home(user))  # opening the tab is Slack's app_home_opened
        parts = await self._parts(user, place)
        me = person(user)
        menu = "".join(f'<option value="{e(p.user_id)}"{" selected" if p.user_id == user else ""}>'
                       f'{e(p.real_name)} ({e(p.role.lower())})</option>' for p in PEOPLE)
        feeds = "".join(f'<a href="/sandbox/{key}" target="_blank" rel="noopener">{e(name)}</a>' for key, name in FEEDS)
        body = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{e(TEAM_NAME)} · Picmim sandbox</title><link rel="stylesheet" href="/sandbox/static/sandbox.css"></head>
<body data-as="{e(user)}" data-in="{e(place)}" data-version="{parts['version']}">
<header class="top"><strong class="team">{e(TEAM_NAME)}</strong>
<form class="who" method="get" action="/sandbox"><label>You are <select name="as" id="who">{menu}</select></label>
<input type="hidden" name="in" value="{e(place if place != me.dm else MARKETING)}">
<noscript><button>Switch</button></noscript></form>
<nav class="feeds" aria-label="Simulated networks">Networks: {feeds}</nav></header>
<div class="layout">
<nav class="sidebar" id="sidebar" aria-label="Channels">{parts['sidebar']}</nav>
<section class="middle"><main class="main" id="main">{parts['main']}</main>{self._composer(user, place)}</section>
<aside class="tour" id="tour" aria-label="Guided tour">{parts['tour']}</aside>
</div>
<div id="modal" data-key="{e(parts['modal_key'])}">{parts['modal']}</div>
<script src="/sandbox/static/sandbox.js"></script>
</body></html>"""
        return web.Response(text=body, content_type="text/html", headers={"Content-Security-Policy": CSP,
                                                                          "Cache-Control": "no-store"})

    async def state(self, request: web.Request) -> web.Response:
        user, place = self._where(request)
        return web.json_response(await self._parts(user, place), headers={"Cache-Control": "no-store"})

    async def do(self, request: web.Request) -> web.Response:
        try:
            asked = await request.json()
        except ValueError:
            return web.json_response({"ok": False, "error": "not JSON"}, status=400)
        user = asked.get("as") if asked.get("as") in {p.user_id for p in PEOPLE} else PEOPLE[0].user_id
        sent = {(str(b), str(a)): v for b, a, v in asked.get("values") or [] if b and a}
        kind = asked.get("kind")
        if kind == "say":
            await self.link.say(user, str(asked.get("channel") or MARKETING), str(asked.get("text") or ""),
                                asked.get("thread_ts") or None)
        elif kind == "act":
            await self.link.act(user, asked.get("surface") or {}, str(asked.get("block")), str(asked.get("action")),
                                asked.get("value"), sent)
        elif kind == "submit":
            await self.link.submit(user, str(asked.get("view_id")), sent)
        elif kind == "close":
            await self.link.close_view(user, str(asked.get("view_id")))
        elif kind == "react":
            await self.link.react(user, str(asked.get("channel")), str(asked.get("ts")), str(asked.get("name")))
        else:
            return web.json_response({"ok": False, "error": f"unknown kind {kind!r}"}, status=400)
        return web.json_response({"ok": True})

    async def upload(self, request: web.Request) -> web.Response:
        user, _ = self._where(request)
        form = await request.post()
        chosen = form.get("file")
        if chosen is None or not hasattr(chosen, "file"):
            return web.json_response({"ok": False, "error": "no file"}, status=400)
        listing = self.slack.attach(user, chosen.filename or "file", chosen.content_type or "application/octet-stream",
                                    chosen.file.read())
        return web.json_response({"ok": True, "file": listing})

    async def file(self, request: web.Request) -> web.Response:
        found = self.slack.file(request.match_info["file_id"])
        if found is None:
            raise web.HTTPNotFound(text="No such file.")
        data, kind, _ = found
        return web.Response(body=data, content_type=kind, headers={"Cache-Control": "private, max-age=3600"})

    async def static(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
        path = STATIC / name
        if name not in {p.name for p in STATIC.iterdir()}:
            raise web.HTTPNotFound()
        kind = {"js": "text/javascript", "css": "text/css"}.get(name.rsplit(".", 1)[-1], "application/octet-stream")
        return web.Response(body=path.read_bytes(), content_type=kind, headers={"Cache-Control": "no-cache"})

    def _background(self, job) -> None:
        task = asyncio.create_task(job)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # ---- the page's parts ------------------------------------------------------------------------------------

    async def _parts(self, user: str, place: str) -> dict:
        version = self.slack.version
        main = self._home(user) if place == "home" else self._channel(user, place)
        refused = self.slack.refused_views.get(user)
        if refused:
            main = (f'<div class="bk-error" role="alert">Slack refused a window Picmim tried to show you: '
                    f'{e("; ".join(refused))}</div>') + main
        modal, key = self._modal(user)
        steps = await tour.steps(self.sessions, self.slack, self.networks)
        return {"version": version, "main": main, "modal": modal, "modal_key": key, "tour": _tour(steps),
                "sidebar": self._sidebar(user, place)}

    def _sidebar(self, user: str, place: str) -> str:
        me = person(user)

        def item(target: str, label: str) -> str:
            here = ' aria-current="page" class="here"' if target == place else ""
            return f'<li><a href="/sandbox?as={e(user)}&amp;in={e(target)}"{here}>{label}</a></li>'

        channels = "".join(item(cid, f"# {e(name)}") for cid, name in CHANNELS.items())
        # How many messages Picmim sent this person directly (where it asks them to choose accounts, for one).
        direct = len(self.slack.timeline(me.dm, user))
        badge = f' <span class="badge" aria-label="{direct} messages">{direct}</span>' if direct else ""
        return (f'<h2>Channels</h2><ul>{channels}</ul><h2>Apps</h2><ul>{item("home", f"{APP_NAME} · Home")}'
                f'{item(me.dm, f"{APP_NAME} · Messages{badge}")}</ul>')

    def _channel(self, user: str, place: str) -> str:
        title = f"# {CHANNELS[place]}" if place in CHANNELS else f"{APP_NAME} (messages)"
        timeline = self.slack.timeline(place, user)
        tops = [m for m in timeline if not m.thread_ts or m.thread_ts == m.ts]
        replies: dict[str, list[Message]] = {}
        for m in timeline:
            if m.thread_ts and m.thread_ts != m.ts:
                replies.setdefault(m.thread_ts, []).append(m)
        shown = "".join(self._message(m, user, replies.get(m.ts, [])) for m in tops)
        orphans = [m for ts, ms in replies.items() if not any(t.ts == ts for t in tops) for m in ms]
        shown += "".join(self._message(m, user, []) for m in orphans)
        if not shown:
            shown = '<p class="empty">No messages yet. Type <code>/picmim help</code> below to start.</p>'
        return f'<h1 class="place">{e(title)}</h1><div class="messages" id="messages">{shown}</div>'

    @staticmethod
    def _composer(user: str, place: str) -> str:
        if place == "home":
            return ""
        title = f"#{CHANNELS[place]}" if place in CHANNELS else APP_NAME
        return (f'<form class="composer" id="composer" data-channel="{e(place)}">'
                f'<div class="replying" hidden>Replying in a thread <button type="button" class="cancel-thread">'
                f'Cancel</button></div><input type="hidden" name="thread_ts" value="">'
                f'<input name="text" id="message-box" autocomplete="off" aria-label="Message" '
                f'placeholder="Message {e(title)} as {e(person(user).real_name)} (try /picmim help)">'
                f'<button type="submit">Send</button></form>')

    def _message(self, m: Message, viewer: str, replies: list[Message]) -> str:
        author = APP_NAME if m.user == BOT_USER else ("Slackbot" if m.user == "USLACKBOT"
                                                      else person(m.user).real_name)
        tag = '<span class="app-tag">APP</span>' if m.user == BOT_USER else ""
        when = datetime.fromtimestamp(float(m.ts), ZoneInfo(person(viewer).tz)).strftime("%H:%M")
        only = '<span class="only-you">Only visible to you</span>' if m.ephemeral_for else ""
        ctx = self._context(viewer)
        if m.refused:
            body = (f'<div class="bk-error" role="alert">Slack refused this message from Picmim: '
                    f'{e("; ".join(m.refused))}</div>')
        elif m.blocks:
            body = render_blocks(m.blocks, ctx)
        else:
            body = f'<div class="bk-text">{mrkdwn(m.text, ctx)}</div>'
        files = "".join(f'<figure class="file"><img src="/sandbox/files/{e(f["id"])}" alt="{e(f.get("title", ""))}">'
                        f'<figcaption>{e(f.get("title") or f.get("name", ""))}</figcaption></figure>'
                        for f in m.files)
        reactions = "".join(
            f'<button type="button" class="reaction{" mine" if viewer in people else ""}" data-react="{e(name)}" '
            f'title=":{e(name)}:">{e(emoji(name))} {len(people)}</button>' for name, people in m.reactions.items())
        picker = ""
        if not m.ephemeral_for:
            options = "".join(f'<option value="{e(n)}">{e(EMOJI[n])} :{e(n)}:</option>' for n in REACTIONS)
            picker = (f'<select class="add-reaction" aria-label="Add a reaction"><option value="">☺ React</option>'
                      f'{options}</select><button type="button" class="reply" data-thread="{e(m.ts)}">Reply</button>')
        thread = ""
        if replies:
            thread = ('<div class="thread">' + f'<div class="thread-count">{len(replies)} '
                      f'{"reply" if len(replies) == 1 else "replies"}</div>'
                      + "".join(self._message(r, viewer, []) for r in replies) + "</div>")
        surface = e(json.dumps({"channel": m.channel, "ts": m.ts}))
        return (f'<article class="msg{" ephemeral" if m.ephemeral_for else ""}" data-surface="{surface}" '
                f'data-ts="{e(m.ts)}"><div class="msg-head"><b>{e(author)}</b>{tag}<time>{e(when)}</time>{only}</div>'
                f'<div class="msg-body">{body}{files}</div><div class="msg-tools">{reactions}{picker}</div>'
                f'{thread}</article>')

    def _home(self, user: str) -> str:
        home = self.slack.homes.get(user)
        if home is None:
            return f'<h1 class="place">{APP_NAME} · Home</h1><p class="empty">Opening {APP_NAME}’s Home…</p>'
        surface = e(json.dumps({"view_id": home.view_id}))
        return (f'<h1 class="place">{APP_NAME} · Home</h1><div class="home" data-surface="{surface}">'
                f'{render_blocks(home.view.get("blocks"), self._context(user, state=home.state))}</div>')

    def _modal(self, user: str) -> tuple[str, str]:
        shown = self.slack.top_view(user)
        if shown is None:
            return "", ""
        view = shown.view
        key = f"{shown.view_id}:{shown.hash}:{json.dumps(shown.errors, sort_keys=True)}"
        general = shown.errors.get("")
        problem = f'<div class="bk-error" role="alert">{e(general)}</div>' if general else ""
        submit = (f'<button type="submit" class="modal-submit">{e(plain(view.get("submit")))}</button>'
                  if view.get("submit") else "")
        depth = len(self.slack.stacks.get(user) or [])
        close = plain(view.get("close")) or ("Back" if depth > 1 else "Close")
        surface = e(json.dumps({"view_id": shown.view_id}))
        body = render_blocks(view.get("blocks"), self._context(user, shown.errors, shown.state))
        html_ = (f'<div class="backdrop"><form class="modal" role="dialog" aria-modal="true" '
                 f'aria-label="{e(plain(view.get("title")))}" data-surface="{surface}" data-view="{e(shown.view_id)}">'
                 f'<header><h2>{e(plain(view.get("title")))}</h2><button type="button" class="modal-x" '
                 f'aria-label="Close">×</button></header><div class="modal-body">{problem}{body}</div>'
                 f'<footer><button type="button" class="modal-close">{e(close)}</button>{submit}</footer></form></div>')
        return html_, key


def _tour(steps: list[tour.Step]) -> str:
    done = sum(s.done for s in steps)
    items = "".join(f'<li class="{"done" if s.done else "todo"}" data-step="{e(s.key)}">'
                    f'<span class="tick" aria-hidden="true">{"✓" if s.done else "○"}</span>'
                    f'<span><b>{e(s.title)}</b>{"" if s.done else f"<small>{e(s.how)}</small>"}</span></li>'
                    for s in steps)
    return f'<h2>Tour <span class="progress">{done} of {len(steps)} done</span></h2><ol>{items}</ol>'
