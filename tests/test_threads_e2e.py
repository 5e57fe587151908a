"""Threads and first comments, end to end (issue 18): the real server with X, Bluesky and LinkedIn connected (each
a local fake), driven through the compose window as a person drives Slack. A text too long for one post is refused
as before, unless the person ticks the option that sends it as a thread: the window then lists the parts, and each
part goes out as a reply to the one before (the fake X refuses a reply to a post that does not exist; the fake
Bluesky checks each reply's root and parent refs). A thread whose server is killed after part 2 is finished by
another server with part 3 only. A first comment goes to X as a reply by the same account and to LinkedIn through
the Comments API; a comment the network refuses leaves the post published, and the status message says so."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import select, update

from bot import ids
from bot.http import build_client
from bot.platforms import bluesky_oauth, oauth
from bot.platforms.base import RemoteAccount, TokenSet
from bot.platforms.linkedin import ADAPTER as LinkedInAdapter
from bot.platforms.x import ADAPTER as XAdapter
from bot.sandbox.fakes.bluesky import FakeBluesky
from bot.sandbox.fakes.linkedin import FakeLinkedIn
from bot.sandbox.fakes.x import FakeX
from bot.secret import Secret
from bot.storage import db
from bot.storage.models import Post, PostTarget, TargetStatus, utcnow
from tests.conftest import SECRET_KEY, SIGNING_SECRET
from tests.journeys import (
    accepted,
    blocks_by_id,
    blocks_of,
    blocks_text,
    field_errors,
    poll_server,
    submit_view,
    ticked,
    typed,
    update_compose,
    view_state,
)
from tests.platform_fixtures import connect_and_choose, make_adapter, store_connected
from tests.server import ServerProcess, base_env, free_port
from tests.slack_requests import SlackSender

BOT_TOKEN = "xoxb-fake-T0001"
TEAM, USER = "T0001", "U0001"
BSKY_HANDLE = "acme.bsky.test"
LINKEDIN_MEMBER = "x7Yq2LmN0p"  # the fake's own member, Maria Lopez
WAIT = 60.0
THREAD_BLOCK = f"{ids.COMPOSE_SETTING_BLOCK}x:thread"
BSKY_THREAD_BLOCK = f"{ids.COMPOSE_SETTING_BLOCK}bluesky:thread"


def _long_text(tag: str) -> str:
    """Three paragraphs, together far over one post on X and on Bluesky, each within one."""
    return (f"{tag} Our autumn roast is here. " + "It took us a whole summer to get it right. " * 5 + "\n\n"
            + "It tastes of cherries, dark chocolate and a little smoke. " * 3 + "\n\n"
            + "Find it in every shop from Monday, and tell us what you think!")


# ---- the fakes, the server and the connected accounts -------------------------------------------------


@pytest.fixture(scope="module")
def fakes():
    bluesky = FakeBluesky().start()
    bluesky.add_account(BSKY_HANDLE, display_name="Acme on Bluesky")
    linkedin = FakeLinkedIn().start()
    started = {"x": FakeX().start(), "bluesky": bluesky, "linkedin": linkedin}
    yield started
    for fake in started.values():
        fake.stop()


def _overrides(fakes) -> dict[str, str]:
    bsky = fakes["bluesky"].pds_url
    return (fakes["x"].origins() | fakes["linkedin"].origins()
            | {bluesky_oauth.PLC_DIRECTORY: bsky, bluesky_oauth.HANDLE_RESOLVER: bsky})


def _env(url: str, port: int, fake_slack, fakes) -> dict[str, str]:
    x, linkedin = fakes["x"], fakes["linkedin"]
    return base_env(SLACK_SIGNING_SECRET=SIGNING_SECRET, SLACK_BOT_TOKEN=BOT_TOKEN, SLACK_API_URL=fake_slack.api_url,
                    DATABASE_URL=url, PICMIM_SECRET_KEY=SECRET_KEY, PORT=str(port),
                    PUBLIC_URL=f"http://127.0.0.1:{port}", PICMIM_TICK_SECONDS="0.3",
                    PICMIM_HEALTH_SECONDS="3600", PICMIM_ANALYTICS_SECONDS="3600",
                    PICMIM_ORIGIN_OVERRIDES=",".join(f"{r}={o}" for r, o in _overrides(fakes).items()),
                    X_CLIENT_ID=x.client_id, X_CLIENT_SECRET=x.client_secret,
                    LINKEDIN_CLIENT_ID=linkedin.client_id, LINKEDIN_CLIENT_SECRET=linkedin.client_secret)


async def _connect(url: str, public: str, fakes, platforms=("x", "bluesky", "linkedin")) -> dict[str, int]:
    """What `/picmim connect <platform>` and ticking the account leave behind: X and LinkedIn through the real code
    exchange against their fakes; Bluesky as a session its fake issued (its sign-in has tests of its own)."""
    x, linkedin, bluesky = fakes["x"], fakes["linkedin"], fakes["bluesky"]
    granted = {}
    async with build_client(_overrides(fakes)) as http:
        if "x" in platforms:
            x.redirect_uris = {f"{public}/oauth/x/callback"}
            granted["x"] = await connect_and_choose(make_adapter(XAdapter, x, http, f"{public}/oauth/x/callback"),
                                                    http, f"{public}/oauth/x/callback", oauth.new_pkce())
        if "linkedin" in platforms:
            linkedin.redirect_uris = {f"{public}/oauth/linkedin/callback"}
            granted["linkedin"] = await connect_and_choose(
                make_adapter(LinkedInAdapter, linkedin, http, f"{public}/oauth/linkedin/callback"), http,
                f"{public}/oauth/linkedin/callback", None, f"urn:li:person:{LINKEDIN_MEMBER}")
    if "bluesky" in platforms:
        did = next(a.did for a in bluesky.accounts.values() if a.handle == BSKY_HANDLE)
        jwk = bluesky_oauth.dpop_key_to_jwk(bluesky_oauth.new_dpop_key())
        access, refresh = bluesky.session(did, jwk)
        extra = {"did": did, "handle": BSKY_HANDLE, "pds": bluesky.pds_url, "issuer": bluesky.as_url,
                 "token_endpoint": f"{bluesky.as_url}/oauth/token",
                 "revocation_endpoint": f"{bluesky.as_url}/oauth/revoke", "dpop_private_jwk": jwk}
        tokens = TokenSet(access_token=Secret(access), external_user_id=did, display_name=BSKY_HANDLE,
                          refresh_token=Secret(refresh), extra=extra)
        granted["bluesky"] = (tokens, RemoteAccount(did, "profile", "Acme on Bluesky", handle=BSKY_HANDLE))
    return await store_connected(url, TEAM, USER, granted)


@pytest.fixture(scope="module")
def server(module_database, fake_slack, fakes, tmp_path_factory):
    port = free_port()
    process = ServerProcess(_env(module_database.url, port, fake_slack, fakes),
                            cwd=tmp_path_factory.mktemp("threads")).start()
    try:
        yield process, asyncio.run(_connect(module_database.url, f"http://127.0.0.1:{port}", fakes))
    finally:
        process.stop()


@pytest.fixture
def sender(server):
    s = SlackSender(server[0].url, SIGNING_SECRET)
    yield s
    s.close()


# ---- driving the window -------------------------------------------------------------------------------


def _open(sender, slack) -> dict:
    assert sender.command("post", response_url=slack.response_url("post")).status_code == 200
    return blocks_of(slack.wait_for("views.open", timeout=WAIT)[-1].params["view"])


def _choose(sender, slack, view: dict, account_ids: list[int], text: str, comment: str | None = None) -> dict:
    changed = {ids.COMPOSE_TEXT_BLOCK: typed(text), ids.COMPOSE_ACCOUNTS_BLOCK: ticked(*map(str, account_ids))}
    if comment is not None:
        changed[ids.COMPOSE_COMMENT_BLOCK] = typed(comment)
    return update_compose(sender, slack, view_state(view, changed), view=view)


def _state(view: dict, text: str, account_ids: list[int], changed: dict | None = None) -> dict:
    return view_state(view, {ids.COMPOSE_TEXT_BLOCK: typed(text),
                             ids.COMPOSE_ACCOUNTS_BLOCK: ticked(*map(str, account_ids)), **(changed or {})})


def _submit(sender, view: dict, state: dict):
    return submit_view(sender, view, state)





def _context_texts(view: dict) -> list[str]:
    return [e.get("text", "") for b in view["blocks"] if b["type"] == "context" for e in b["elements"]]


def _thread_of(posts: dict, first_words: str) -> list[dict]:
    """The fake X's posts of one thread, from its first part along the replies."""
    chain = [p for p in posts.values() if p["text"].startswith(first_words)]
    while chain:
        nxt = [p for p in posts.values() if p.get("in_reply_to") == chain[-1]["id"]]
        if not nxt:
            break
        chain += nxt[:1]
    return chain


def _status_texts(slack) -> list[str]:
    return [blocks_text(c) for c in slack.calls_to("chat.postMessage") + slack.calls_to("chat.update")]


async def _targets(url: str, text: str) -> list[PostTarget]:
    engine = db.create_engine(url)
    try:
        async with db.session_factory(engine)() as session:
            return list(await session.scalars(select(PostTarget).join(Post, Post.id == PostTarget.post_id)
                                              .where(Post.text == text).order_by(PostTarget.id)))
    finally:
        await engine.dispose()


# ---- X ---------------------------------------------------------------------------------------------------


def test_a_long_text_goes_to_x_as_a_thread_of_chained_replies(server, fakes, sender, slack, module_database):
    process, accounts = server
    x = fakes["x"]
    tag = f"Roast{time.time_ns() % 10**9}"
    text = _long_text(tag)
    chosen = [accounts["x"]]
    view = _choose(sender, slack, _open(sender, slack), chosen, text)
    option = blocks_by_id(view)[THREAD_BLOCK]
    assert "thread" in option["label"]["text"].lower() or any(
        "thread" in o["text"]["text"] for o in option["element"]["options"])
    assert [o["value"] for o in option["element"]["options"]] == ["thread", "numbered"]

    # Without the option, too long is refused as before, on the text, and nothing goes out.
    refused = field_errors(_submit(sender, view, _state(view, text, chosen)))
    assert "remove" in refused[ids.COMPOSE_TEXT_BLOCK] and "X counts this post" in refused[ids.COMPOSE_TEXT_BLOCK]
    assert not [p for p in x.posts.values() if p["text"].startswith(tag)]

    # Ticking the option brings up the parts the text makes.
    view = update_compose(sender, slack, _state(view, text, chosen, {THREAD_BLOCK: ticked("thread", "numbered")}),
                          action_id=ids.COMPOSE_SETTING_INPUT, view=view)
    [preview] = [t for t in _context_texts(view) if "parts on X" in t]
    assert preview.startswith("*3 parts on X:*") and f"1. {tag} Our autumn roast" in preview, preview
    assert "2. It tastes of cherries" in preview and "3. Find it in every shop" in preview

    accepted(_submit(sender, view, _state(view, text, chosen, {THREAD_BLOCK: ticked("thread", "numbered")})))
    thread = poll_server("the thread on X", lambda: (lambda t: t if len(t) == 3 else None)(
        _thread_of(x.posts, tag)), process, WAIT)
    assert [p["text"][-4:] for p in thread] == [" 1/3", " 2/3", " 3/3"]
    assert thread[0]["in_reply_to"] is None
    assert thread[1]["in_reply_to"] == thread[0]["id"] and thread[2]["in_reply_to"] == thread[1]["id"]
    assert len([p for p in x.posts.values() if p["text"] in {q["text"] for q in thread}]) == 3, "each part once"

    [target] = poll_server("the target published", lambda: [t for t in asyncio.run(
        _targets(module_database.url, text)) if t.status is TargetStatus.PUBLISHED], process, WAIT)
    first_url = f"https://x.com/acmemktg/status/{thread[0]['id']}"
    assert target.remote_id == thread[0]["id"] and target.remote_url == first_url
    assert [p["id"] for p in target.thread_parts] == [p["id"] for p in thread]
    said = poll_server("the status message", lambda: [t for t in _status_texts(slack) if first_url in t],
                       process, WAIT)
    assert "as a numbered thread" in said[-1], said[-1]


def test_the_fake_x_refuses_a_reply_to_a_post_that_does_not_exist(fakes):
    """As X does: 403 "You attempted to reply to a Tweet that is deleted or not visible to you"."""
    x = fakes["x"]
    x.consent_as("2244994945")
    grant = x.issue_tokens("2244994945", frozenset({"tweet.read", "tweet.write", "users.read"}))[0]
    answer = httpx.post(f"{x.origins()['https://api.x.com']}/2/tweets", headers={
        "Authorization": f"Bearer {grant}", "Host": "api.x.com"},
        json={"text": "a reply to nothing", "reply": {"in_reply_to_tweet_id": "1999999999999999999"}})
    assert answer.status_code == 403 and "deleted or not visible" in answer.json()["detail"]


def test_a_first_comment_on_x_is_a_reply_by_the_same_account(server, fakes, sender, slack, module_database):
    process, accounts = server
    x = fakes["x"]
    text = f"New beans in store {time.time_ns()}"
    comment = f"Order yours at acme.example/beans {time.time_ns()}"
    chosen = [accounts["x"]]
    view = _choose(sender, slack, _open(sender, slack), chosen, text, comment)
    assert ids.COMPOSE_COMMENT_BLOCK in blocks_by_id(view), "X takes a first comment now"
    accepted(_submit(sender, view, _state(view, text, chosen, {ids.COMPOSE_COMMENT_BLOCK: typed(comment)})))
    [post] = poll_server("the post", lambda: [p for p in x.posts.values() if p["text"] == text], process, WAIT)
    [reply] = poll_server("the comment", lambda: [p for p in x.posts.values() if p["text"] == comment], process,
                          WAIT)
    assert reply["in_reply_to"] == post["id"] and reply["author_id"] == post["author_id"]
    [target] = poll_server("published", lambda: [t for t in asyncio.run(_targets(module_database.url, text))
                                                 if t.status is TargetStatus.PUBLISHED], process, WAIT)
    assert target.remote_id == post["id"] and target.last_error is None


# ---- Bluesky ---------------------------------------------------------------------------------------------


def test_a_long_text_goes_to_bluesky_as_a_thread_with_root_and_parent_refs(server, fakes, sender, slack,
                                                                           module_database):
    process, accounts = server
    bluesky = fakes["bluesky"]
    tag = f"Bsky{time.time_ns() % 10**9}"
    text = _long_text(tag)
    chosen = [accounts["bluesky"]]
    view = _choose(sender, slack, _open(sender, slack), chosen, text)
    refused = field_errors(_submit(sender, view, _state(view, text, chosen)))
    assert "Bluesky counts this post" in refused[ids.COMPOSE_TEXT_BLOCK]

    view = update_compose(sender, slack, _state(view, text, chosen, {BSKY_THREAD_BLOCK: ticked("thread")}),
                          action_id=ids.COMPOSE_SETTING_INPUT, view=view)
    [preview] = [t for t in _context_texts(view) if "parts on Bluesky" in t]
    assert preview.startswith("*3 parts on Bluesky:*"), preview
    accepted(_submit(sender, view, _state(view, text, chosen, {BSKY_THREAD_BLOCK: ticked("thread")})))

    def thread():
        records = list(bluesky.records.items())
        roots = [(uri, r) for uri, r in records if r["record"]["text"].startswith(tag)]
        replies = [(uri, r) for uri, r in records if roots
                   and r["record"].get("reply", {}).get("root", {}).get("uri") == roots[0][0]]
        return roots + replies if len(roots) + len(replies) == 3 else None

    (first_uri, first), (second_uri, second), (_, third) = poll_server("the thread on Bluesky", thread, process,
                                                                         WAIT)
    assert "reply" not in first["record"]
    root = {"uri": first_uri, "cid": first["cid"]}
    assert second["record"]["reply"] == {"root": root, "parent": root}
    assert third["record"]["reply"] == {"root": root, "parent": {"uri": second_uri, "cid": second["cid"]}}
    assert second["record"]["text"].startswith("It tastes of cherries")
    assert third["record"]["text"].startswith("Find it in every shop")
    [target] = poll_server("published", lambda: [t for t in asyncio.run(_targets(module_database.url, text))
                                                 if t.status is TargetStatus.PUBLISHED], process, WAIT)
    assert target.remote_id == first_uri
    rkey = first_uri.rsplit("/", 1)[-1]
    assert poll_server("the status message", lambda: [t for t in _status_texts(slack)
                                                      if f"bsky.app/profile/{BSKY_HANDLE}/post/{rkey}" in t],
                       process, WAIT)


# ---- LinkedIn --------------------------------------------------------------------------------------------


def test_a_first_comment_on_linkedin_goes_through_the_comments_api(server, fakes, sender, slack, module_database):
    process, accounts = server
    linkedin = fakes["linkedin"]
    text = f"We are hiring baristas {time.time_ns()}"
    comment = "Apply at acme.example/jobs"
    chosen = [accounts["linkedin"]]
    view = _choose(sender, slack, _open(sender, slack), chosen, text, comment)
    accepted(_submit(sender, view, _state(view, text, chosen, {ids.COMPOSE_COMMENT_BLOCK: typed(comment)})))
    [target] = poll_server("published", lambda: [t for t in asyncio.run(_targets(module_database.url, text))
                                                 if t.status is TargetStatus.PUBLISHED], process, WAIT)
    [made] = [c for c in linkedin.comments if c["object"] == target.remote_id]
    assert made["text"] == comment and made["actor"] == f"urn:li:person:{LINKEDIN_MEMBER}"
    assert target.last_error is None


def test_a_refused_first_comment_leaves_the_post_published_and_says_so(server, fakes, sender, slack,
                                                                       module_database):
    process, accounts = server
    linkedin = fakes["linkedin"]
    text = f"Open day on Saturday {time.time_ns()}"
    chosen = [accounts["linkedin"]]
    linkedin.fail("/rest/socialActions", status=500, method="POST")
    view = _choose(sender, slack, _open(sender, slack), chosen, text, "See you there")
    accepted(_submit(sender, view, _state(view, text, chosen, {ids.COMPOSE_COMMENT_BLOCK: typed("See you there")})))
    [target] = poll_server("published", lambda: [t for t in asyncio.run(_targets(module_database.url, text))
                                                 if t.status is TargetStatus.PUBLISHED], process, WAIT)
    assert target.remote_id in linkedin.posts and not [c for c in linkedin.comments
                                                       if c["object"] == target.remote_id]
    assert len(linkedin.calls_to("/rest/posts", method="POST")) >= 1
    assert "the post is live, but its first comment could not be added" in target.last_error.lower()
    said = poll_server("the status message", lambda: [t for t in _status_texts(slack)
                                                      if "first comment could not be added" in t], process, WAIT)
    assert "published" in said[-1]


# ---- a thread interrupted after part 2 -----------------------------------------------------------------------


async def _expire_leases(url: str) -> None:
    """Time passes beyond the killed process's lease."""
    engine = db.create_engine(url)
    try:
        async with db.session_factory(engine)() as session:
            await session.execute(update(PostTarget).where(PostTarget.status == TargetStatus.PUBLISHING)
                                  .values(lease_expires_at=utcnow() - timedelta(seconds=1)))
            await session.commit()
    finally:
        await engine.dispose()


def test_a_thread_killed_after_part_2_is_finished_with_part_3_only(database, fake_slack, slack, fakes, tmp_path):
    x = fakes["x"]
    port = free_port()
    env = _env(database.url, port, fake_slack, fakes)
    (tmp_path / "first").mkdir()
    (tmp_path / "second").mkdir()
    first = ServerProcess(dict(env), cwd=tmp_path / "first").start()
    second = None
    try:
        accounts = asyncio.run(_connect(database.url, f"http://127.0.0.1:{port}", fakes, platforms=("x",)))
        tag = f"Killed{time.time_ns() % 10**9}"
        text = _long_text(tag)
        chosen = [accounts["x"]]
        before = len(x.calls_to("/2/tweets", method="POST"))
        x.hold("/2/tweets", seconds=30, method="POST", after=2)  # part 3 waits at X; the process dies meanwhile
        sender = SlackSender(first.url, SIGNING_SECRET)
        try:
            view = _choose(sender, slack, _open(sender, slack), chosen, text)
            accepted(_submit(sender, view, _state(view, text, chosen, {THREAD_BLOCK: ticked("thread")})))
        finally:
            sender.close()
        poll_server("part 3 sent to X", lambda: len(x.calls_to("/2/tweets", method="POST")) - before >= 3, first,
                    WAIT)
        [target] = asyncio.run(_targets(database.url, text))
        assert target.status is TargetStatus.PUBLISHING and len(target.thread_parts) == 2, "parts 1-2 kept as sent"
        os.kill(first.proc.pid, signal.SIGKILL)  # no chance to tidy up
        first.proc.wait(10)
        assert len(_thread_of(x.posts, tag)) == 2

        asyncio.run(_expire_leases(database.url))
        calls_before = len(x.calls_to("/2/tweets", method="POST"))
        second = ServerProcess(dict(env, PORT=str(free_port())), cwd=tmp_path / "second").start()
        [done] = poll_server("the thread finished", lambda: [t for t in asyncio.run(_targets(database.url, text))
                                                             if t.status is TargetStatus.PUBLISHED], second, WAIT)
        thread = _thread_of(x.posts, tag)
        assert len(thread) == 3 and len([p for p in x.posts.values() if p["text"] in
                                         {q["text"] for q in thread}]) == 3, "parts 1-2 never sent again"
        assert thread[2]["in_reply_to"] == thread[1]["id"]
        assert len(x.calls_to("/2/tweets", method="POST")) - calls_before == 1, "the second server sent part 3 only"
        assert x.calls_to(f"/2/users/{thread[0]['author_id']}/tweets"), "it looked for part 3 at X first"
        assert done.remote_id == thread[0]["id"] and [p["id"] for p in done.thread_parts] == [
            p["id"] for p in thread]
    finally:
        first.stop()
        if second is not None:
            second.stop()
