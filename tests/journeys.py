"""Shared steps of the tests' journeys (connect a platform and choose its accounts, compose and submit a
post, wait for and read what Slack was sent) and the servers and fakes they run against; a test module
takes a fixture in by naming it at module level (`sender = journeys.compose_sender`)."""

from __future__ import annotations

import asyncio
import html
import itertools
import json
import re
import tempfile
import time
from datetime import datetime
from pathlib import Path
from types import SimpleNamespace

import httpx
import pytest
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy import select

from bot import ids
from bot.http import build_client
from bot.messages.alerts import SlackAlerts
from bot.messages.post_status import update_post_message
from bot.platforms import oauth
from bot.platforms.base import AccountRef, Draft
from bot.platforms.x import ADAPTER as XAdapter
from bot.sandbox.fakes.slack_files import SlackFiles
from bot.sandbox.fakes.x import FakeX
from bot.services import connecting
from bot.services.connections import apply_tokens
from bot.services.publishing import schedule_targets
from bot.services.token_health import TokenHealth
from bot.services.workspaces import ensure_workspace
from bot.storage import crypto, db
from bot.storage.models import (
    Account,
    Connection,
    ConnectionStatus,
    MetricSnapshot,
    Post,
    PostStatus,
    PostTarget,
    TargetStatus,
    Workspace,
    utcnow,
)
from tests.conftest import SECRET_KEY, SIGNING_SECRET
from tests.fakes.media import make_image
from tests.platform_fixtures import connect, make_adapter
from tests.server import ServerProcess, base_env, free_port
from tests.slack_requests import SlackSender

BOT_TOKEN = "xoxb-fake-T0001"
X_USER, X_SUPPORT = "2244994945", "3355005056"  # Acme Marketing and Acme Support on the fake X
X_UNVISITED_REDIRECT = "http://127.0.0.1:9/oauth/x/callback"  # a grant's redirect no callback visits
ALERTS = "C0ALERTS"  # the workspace's alerts channel


# ---- reading what Slack was sent, and waiting for it ---------------------------------------------

async def with_session(url: str, work):
    """`work(session)` on the database at `url`, committed: how end-to-end tests read and set what the server keeps."""
    crypto.configure([SECRET_KEY])
    engine = db.create_engine(url)
    try:
        async with db.session_factory(engine)() as session:
            result = await work(session)
            await session.commit()
            return result
    finally:
        await engine.dispose()


def in_database(url: str, work):
    """`with_session` from a synchronous test."""
    return asyncio.run(with_session(url, work))


def blocks_of(value):
    """Blocks as a Slack API call carried them (form bodies carry JSON text, JSON bodies a list)."""
    return json.loads(value) if isinstance(value, str) else value


def shown(value) -> str:
    """Blocks as one searchable text."""
    return json.dumps(blocks_of(value), ensure_ascii=False)


def blocks_text(call) -> str:
    """The blocks of a recorded Slack call as one searchable text."""
    return shown(call.params.get("blocks"))


def alerts_posted(slack, channel: str = ALERTS) -> list:
    return [c for c in slack.calls_to("chat.postMessage") if c.params.get("channel") == channel]


def reconnect_button(call) -> dict:
    [button] = [e for b in blocks_of(call.params["blocks"]) if b["type"] == "actions" for e in b["elements"]]
    return button


def wait_until(condition, what: str = "condition", timeout: float = 15.0):
    """`condition()`'s first truthy answer, asked every 50 ms until `timeout` seconds pass."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = condition()
        if found:
            return found
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


# ---- connecting X from Slack: the server, the fake X and a browser -----------------------------------

@pytest.fixture(scope="module")
def fake_x():
    fake = FakeX().start()
    yield fake
    fake.stop()


def start_x_server(database_url: str, fake_slack, fake_x, folder, **env) -> ServerProcess:
    """The real server, single-workspace, with X configured against the fake X."""
    port = free_port()
    overrides = ",".join(f"{real}={local}" for real, local in fake_x.origins().items())
    environment = base_env(SLACK_SIGNING_SECRET=SIGNING_SECRET, SLACK_BOT_TOKEN=BOT_TOKEN,
                           SLACK_API_URL=fake_slack.api_url, DATABASE_URL=database_url, PICMIM_SECRET_KEY=SECRET_KEY,
                           PORT=str(port), PUBLIC_URL=f"http://127.0.0.1:{port}", PICMIM_ORIGIN_OVERRIDES=overrides,
                           X_CLIENT_ID=fake_x.client_id, X_CLIENT_SECRET=fake_x.client_secret, **env)
    return ServerProcess(environment, cwd=folder).start()


@pytest.fixture(scope="module")
def connect_server(module_database, fake_slack, fake_x, tmp_path_factory):
    server = start_x_server(module_database.url, fake_slack, fake_x, tmp_path_factory.mktemp("connect"))
    yield server
    server.stop()


@pytest.fixture
def x(fake_x, connect_server):
    fake_x.reset()
    fake_x.redirect_uris = {f"{connect_server.url}/oauth/x/callback"}
    return fake_x


@pytest.fixture
def connect_sender(connect_server):
    s = SlackSender(connect_server.url, SIGNING_SECRET)
    yield s
    s.close()


@pytest.fixture
async def browser(x):
    """A browser: platform hosts reach the fake X (as DNS would reach X), everything else is direct."""
    client = build_client(x.origins())
    yield client
    await client.aclose()


def private_link(slack, rid: str) -> str:
    """The one link button of Picmim's reply to a command (the private sign-in link)."""
    [reply] = slack.wait_for_response(rid)
    urls = [e["url"] for b in reply["blocks"] if b["type"] == "actions" for e in b["elements"] if "url" in e]
    assert len(urls) == 1, reply
    return urls[0]


def continue_link(page: httpx.Response) -> str:
    """The link page's "Continue to …" button: where it sends the browser (the platform's consent page)."""
    [href] = re.findall(r'<a class="button" href="([^"]+)">Continue to ', page.text)
    return html.unescape(href)


async def consent(browser: httpx.AsyncClient, link: str) -> httpx.URL:
    """The person opens the private link (Picmim's page naming the workspace and who asked), presses
    Continue and allows Picmim; the platform sends the browser back."""
    page = await browser.get(link)
    assert page.status_code == 200, page.text
    answer = await browser.get(continue_link(page))
    assert answer.status_code == 302, answer.text
    return httpx.URL(answer.headers["location"])


# ---- composing from Slack: the server with an X account connected -------------------------------------

@pytest.fixture(scope="module")
def slack_files():
    """Slack's file host, with a picture under any name a test attaches."""
    host = SlackFiles(any_name=make_image(640, 480, "PNG")).start()
    yield host
    host.stop()


@pytest.fixture(scope="module")
def compose_server(module_database, fake_slack, fake_x, tmp_path_factory):
    """The real server (ticking every 0.5 s) and the id of the X account it has connected."""
    port = free_port()
    public = f"http://127.0.0.1:{port}"
    overrides = ",".join(f"{real}={local}" for real, local in fake_x.origins().items())
    env = base_env(SLACK_SIGNING_SECRET=SIGNING_SECRET, SLACK_BOT_TOKEN=BOT_TOKEN, SLACK_API_URL=fake_slack.api_url,
                   DATABASE_URL=module_database.url, PICMIM_SECRET_KEY=SECRET_KEY, PORT=str(port),
                   PUBLIC_URL=public, PICMIM_ORIGIN_OVERRIDES=overrides, PICMIM_TICK_SECONDS="0.5",
                   X_CLIENT_ID=fake_x.client_id, X_CLIENT_SECRET=fake_x.client_secret)
    server = ServerProcess(env, cwd=tmp_path_factory.mktemp("compose")).start()
    redirect = f"{public}/oauth/x/callback"
    fake_x.redirect_uris = {redirect}
    account_id = asyncio.run(_store_x_account(module_database.url, fake_x, redirect))
    yield server, account_id
    server.stop()


async def _store_x_account(url: str, fake_x: FakeX, redirect: str) -> int:
    """What `/picmim connect x` and choosing the account leave in the database."""
    async with build_client(fake_x.origins()) as http:
        tokens = await connect(make_adapter(XAdapter, fake_x, http, redirect), http, redirect, oauth.new_pkce())
    crypto.configure([SECRET_KEY])
    engine = db.create_engine(url)
    try:
        async with db.session_factory(engine)() as session:
            workspace = Workspace(team_id="T0001")
            session.add(workspace)
            await session.flush()
            connection = Connection(workspace_id=workspace.id, platform="x", external_user_id=X_USER,
                                    display_name="Acme Marketing", connected_by="U0001")
            apply_tokens(connection, tokens)
            session.add(connection)
            await session.flush()
            account = Account(workspace_id=workspace.id, connection_id=connection.id, platform="x",
                              external_id=X_USER, kind="profile", name="Acme Marketing", handle="acmemktg")
            session.add(account)
            await session.commit()
            return account.id
    finally:
        await engine.dispose()


@pytest.fixture
def compose_sender(compose_server):
    s = SlackSender(compose_server[0].url, SIGNING_SECRET)
    yield s
    s.close()


@pytest.fixture
def account_id(compose_server) -> int:
    return compose_server[1]


async def stored_posts(url: str) -> list[Post]:
    engine = db.create_engine(url)
    try:
        async with db.session_factory(engine)() as session:
            return list(await session.scalars(select(Post).order_by(Post.id)))
    finally:
        await engine.dispose()


def compose_state(account_ids, text="", *, x_text=None, when="now", at: datetime | None = None, files=(),
                  comment=None) -> dict:
    """The compose modal's state as Slack sends it: the text, attachments, accounts, X's variant, the
    first comment, now or a scheduled time."""
    values = {
        ids.COMPOSE_TEXT_BLOCK: {ids.COMPOSE_TEXT_INPUT: {"type": "plain_text_input", "value": text or None}},
        ids.COMPOSE_MEDIA_BLOCK: {ids.COMPOSE_MEDIA_INPUT: {"type": "file_input", "files": list(files)}},
        ids.COMPOSE_ACCOUNTS_BLOCK: {ids.COMPOSE_ACCOUNTS_INPUT: {
            "type": "multi_static_select",
            "selected_options": [{"value": str(i), "text": {"type": "plain_text", "text": "a"}} for i in account_ids]}},
        f"{ids.COMPOSE_VARIANT_BLOCK}x": {ids.COMPOSE_VARIANT_INPUT: {"type": "plain_text_input", "value": x_text}},
        ids.COMPOSE_COMMENT_BLOCK: {ids.COMPOSE_COMMENT_INPUT: {"type": "plain_text_input", "value": comment}},
        ids.COMPOSE_WHEN_BLOCK: {ids.COMPOSE_WHEN_INPUT: {"type": "radio_buttons",
                                                          "selected_option": {"value": when}}},
        ids.COMPOSE_AT_BLOCK: {ids.COMPOSE_AT_INPUT: {"type": "datetimepicker",
                                                      "selected_date_time": int(at.timestamp()) if at else None}},
    }
    return {"values": values}


def compose_payload(kind: str, state: dict, metadata: str) -> dict:
    """The compose modal's `view_submission` or `view_closed`, from U0001 in T0001."""
    return {"type": kind, "team": {"id": "T0001", "domain": "acme"}, "user": {"id": "U0001", "team_id": "T0001"},
            "api_app_id": "A0PICMIM", "token": "deprecated", "trigger_id": f"trigger-{time.time_ns()}",
            "view": {"id": "V1", "team_id": "T0001", "type": "modal", "callback_id": ids.COMPOSE_VIEW,
                     "private_metadata": metadata, "state": state, "hash": f"h{time.time_ns()}", "blocks": []},
            "is_cleared": False}


def update_compose(sender, slack, state: dict, action_id: str = ids.COMPOSE_ACCOUNTS_INPUT,
                   metadata: str = '{"channel_id": "C0001"}', view: dict | None = None) -> dict:
    """A person changing an input that brings the compose modal up to date (choosing accounts, Now or Schedule,
    Add alt text): Slack sends the block action with the modal as it is, its state included; the answer is the
    modal Picmim updated it to (views.update)."""
    before = len(slack.calls_to("views.update"))
    shown = dict(view or {}) or {"id": "V1", "team_id": "T0001", "type": "modal", "callback_id": ids.COMPOSE_VIEW,
                                 "private_metadata": metadata, "hash": "h1", "blocks": []}
    shown.update(id=shown.get("id") or "V1", hash=shown.get("hash") or "h1", state=state,
                 callback_id=ids.COMPOSE_VIEW)
    shown.setdefault("private_metadata", metadata)
    payload = {"type": "block_actions", "team": {"id": "T0001", "domain": "acme"},
               "user": {"id": "U0001", "team_id": "T0001"}, "api_app_id": "A0PICMIM", "token": "deprecated",
               "trigger_id": f"trigger-{time.time_ns()}", "container": {"type": "view", "view_id": shown["id"]},
               "view": shown, "actions": [{"action_id": action_id, "block_id": "b", "type": "button",
                                           "action_ts": str(time.time())}]}
    assert sender.interaction(payload).status_code == 200
    # The update answering this change carries the shown view's hash (a later one, e.g. a link card's preview,
    # carries the hash Slack gave that update).
    call = wait_until(lambda: [c for c in slack.calls_to("views.update")[before:]
                               if c.params.get("hash") == shown["hash"]], "the modal brought up to date")[-1]
    assert call.params["view_id"] == shown["id"]
    updated = blocks_of(call.params["view"])
    return {**updated, "id": shown["id"], "hash": "h2"}


def submit_compose(sender, state: dict, metadata: str = '{"channel_id": "C0001"}'):
    return sender.interaction(compose_payload("view_submission", state, metadata))


def submit_view(sender, view: dict, state: dict):
    """Publish (or Schedule, Save) pressed on the window as Picmim last showed it (`view`: its callback, metadata
    and blocks), with `state` as the person filled it: the `view_submission` Slack sends, from U0001 in T0001."""
    return sender.interaction({
        "type": "view_submission", "team": {"id": "T0001", "domain": "acme"},
        "user": {"id": "U0001", "team_id": "T0001"}, "api_app_id": "A0PICMIM", "token": "deprecated",
        "trigger_id": f"trigger-{time.time_ns()}",
        "view": {"id": view.get("id") or "V1", "team_id": "T0001", "type": "modal",
                 "callback_id": view["callback_id"], "private_metadata": view["private_metadata"],
                 "state": state, "hash": f"h{time.time_ns()}", "blocks": view["blocks"]},
        "is_cleared": False})


def accepted(response) -> None:
    """The window closed: Slack got an empty answer (no errors, no update)."""
    assert response.status_code == 200 and response.text in ("", "null"), response.text


def blocks_by_id(view: dict) -> dict[str, dict]:
    return {b["block_id"]: b for b in view["blocks"] if b.get("block_id")}


def field_errors(response) -> dict:
    """The problems a refused submission shows, by block."""
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["response_action"] == "errors", body
    return body["errors"]


def x_posts(fake_x, text: str) -> list[dict]:
    """What the fake X holds with this text."""
    return [p for p in fake_x.posts.values() if p["text"] == text]


# ---- connecting and publishing in-process, as a finished connect and the publisher leave the rows ------

async def connect_x(sessions, x, adapters, user_id: str, name: str, handle: str, team: str = "T0001") -> int:
    """A real grant from the fake X (consenting as `user_id`), stored as a connection with its account."""
    x.consent_as(user_id)
    adapter = adapters["x"]
    tokens = await connect(adapter, adapter.http, X_UNVISITED_REDIRECT, oauth.new_pkce())
    async with sessions() as session:
        workspace = await ensure_workspace(session, team)
        await session.flush()
        connection = Connection(workspace_id=workspace.id, platform="x", external_user_id=user_id,
                                display_name=name, connected_by="U0001")
        apply_tokens(connection, tokens)
        session.add(connection)
        await session.flush()
        account = Account(workspace_id=workspace.id, connection_id=connection.id, platform="x",
                          external_id=user_id, kind="profile", name=name, handle=handle)
        session.add(account)
        await session.commit()
        return account.id


async def publish_x(sessions, adapters, account_id: int, text: str, at: datetime) -> tuple[int, str, str]:
    """A post published to X through the adapter, recorded as the publisher records it: (target, id, url)."""
    async with sessions() as session:
        account = await session.get(Account, account_id)
        connection = await session.get(Connection, account.connection_id)
        ref = AccountRef(platform="x", external_id=account.external_id, kind=account.kind, name=account.name,
                         user_token=connection.access_token, handle=account.handle)
        result = await adapters["x"].publish(ref, Draft(text=text), [])
        post = Post(workspace_id=account.workspace_id, author_user_id="U0001", text=text,
                    status=PostStatus.PUBLISHED, channel_id="C0001")
        post.targets = [PostTarget(account_id=account_id, status=TargetStatus.PUBLISHED, remote_id=result.remote_id,
                                   remote_url=result.url, published_at=at)]
        session.add(post)
        await session.commit()
        return post.targets[0].id, result.remote_id, result.url


def set_followers(x, user_id: str, count: int) -> None:
    x.users[user_id]["public_metrics"]["followers_count"] = count


def set_post(x, post_id: str, **figures: int) -> None:
    x.posts[post_id]["public_metrics"].update(figures)


async def add_account(sessions, platform: str, kind: str, name: str, status=ConnectionStatus.ACTIVE) -> int:
    """An account (and its connection, without tokens) in T0001, named `name`."""
    async with sessions() as session:
        workspace = await ensure_workspace(session, "T0001")
        await session.flush()
        connection = Connection(workspace_id=workspace.id, platform=platform, external_user_id=name,
                                display_name=name, status=status)
        session.add(connection)
        await session.flush()
        account = Account(workspace_id=workspace.id, connection_id=connection.id, platform=platform,
                          external_id=name, kind=kind, name=name)
        session.add(account)
        await session.commit()
        return account.id


async def add_figures(sessions, account_id: int, at: datetime, **figures: float) -> None:
    """Metric snapshots of an account taken at `at`."""
    async with sessions() as session:
        session.add_all(MetricSnapshot(account_id=account_id, metric=k, value=v, captured_at=at)
                        for k, v in figures.items())
        await session.commit()


# ---- token health in-process: the job's world, with a clock the test moves ---------------------------

_ts = itertools.count(1)


class Clock:
    def __init__(self):
        self.now = utcnow()

    def __call__(self):
        return self.now


class World:
    """What the job needs in a server process (sessions, Slack clients), with the test's clock."""

    def __init__(self, engine, slack, adapters, http):
        self.sessions = db.session_factory(engine)
        self.slack, self.adapters, self.http = slack, adapters, http
        self.clock = Clock()
        self.client = AsyncWebClient(token=BOT_TOKEN, base_url=slack.api_url)
        # What the post's status message reads of the settings (its media links).
        self.settings = SimpleNamespace(data_dir=Path(tempfile.mkdtemp(prefix="picmim-health-")),
                                        public_url="https://picmim.example", secret_keys=(SECRET_KEY,))

    @classmethod
    async def open(cls, engine, slack, adapters, http) -> World:
        """A world whose workspace has its alerts channel set."""
        world = cls(engine, slack, adapters, http)
        async with world.sessions() as session:
            workspace = await ensure_workspace(session, "T0001")
            workspace.alerts_channel_id = ALERTS
            await session.commit()
        return world

    async def slack_client(self, team_id, enterprise_id=None):
        return self.client

    def health(self, sessions=None) -> TokenHealth:
        async def on_post_change(post_id: int) -> None:
            await update_post_message(self, post_id)

        return TokenHealth(sessions or self.sessions, self.adapters, SlackAlerts(self), self.clock, on_post_change)

    async def tick(self):
        return await self.health().tick()


async def sign_in(world: World, reconnect_id: int | None = None, user: str = "U0001", platform: str = "x",
                  chosen: tuple[str, ...] = (X_USER,)) -> int:
    """The consent dance through the connecting service, as the callback route runs it, then ticking
    `chosen` (a first connection only)."""
    async with world.sessions() as session:
        workspace = await ensure_workspace(session, "T0001")
        reconnect = await session.get(Connection, reconnect_id) if reconnect_id else None
        link = await connecting.start(session, world.adapters, workspace, user, platform, reconnect=reconnect,
                                      public_url=world.settings.public_url)
        await session.commit()
    answer = await world.http.get(link.authorize_url)  # no server here: straight to the platform's page
    assert answer.status_code == 302, answer.text
    back = httpx.URL(answer.headers["location"])
    async with world.sessions() as session:
        connected = await connecting.finish(session, world.adapters, platform, dict(back.params))
        await session.commit()
        if not connected.reconnected:
            workspace = await ensure_workspace(session, "T0001")
            await connecting.choose_accounts(session, workspace, user, connected.state_id, list(chosen))
            await session.commit()
    return connected.connection_id


async def schedule_post(world: World, connection_id: int, text: str, at) -> int:
    """A scheduled post with its status message in #marketing."""
    async with world.sessions() as session:
        account = await session.scalar(select(Account).where(Account.connection_id == connection_id))
        post = Post(workspace_id=account.workspace_id, author_user_id="U0001", text=text, channel_id="C0MKT",
                    message_ts=f"1700000000.{next(_ts):06d}", timezone="Europe/Madrid",
                    targets=[PostTarget(account_id=account.id)])
        session.add(post)
        schedule_targets(post, at)
        await session.commit()
        return post.id


async def read_connection(world: World, connection_id: int) -> Connection:
    async with world.sessions() as session:
        return await session.get(Connection, connection_id)


async def target_statuses(world: World) -> dict[str, TargetStatus]:
    """Each post's text and its target's status."""
    async with world.sessions() as session:
        rows = await session.execute(select(Post.text, PostTarget.status).join(PostTarget))
        return {text: status for text, status in rows}


# ---- a modal's state as Slack sends it: what each input shows, with what the person changed --------------

def view_state(view: dict, changed: dict[str, dict] | None = None) -> dict:
    """The `state` Slack sends for `view`: every input block holding what it was shown with (its initial
    value, option or options), except the blocks in `changed` (block_id -> the element's new value, e.g.
    `typed("x")`, `picked("no")`, `ticked("a", "b")`, `{"files": [...]}`)."""
    changed = changed or {}
    values: dict[str, dict] = {}
    for block in view.get("blocks") or []:
        if block.get("type") != "input":
            continue
        element = block["element"]
        kind = element["type"]
        if block["block_id"] in changed:
            value = changed[block["block_id"]]
        elif kind in ("static_select", "radio_buttons"):
            value = {"selected_option": element.get("initial_option")}
        elif kind in ("multi_static_select", "checkboxes"):
            value = {"selected_options": element.get("initial_options", [])}
        elif kind == "file_input":
            value = {"files": []}
        elif kind == "datetimepicker":
            value = {"selected_date_time": element.get("initial_date_time")}
        else:  # plain_text_input, url_text_input, number_input
            value = {"value": element.get("initial_value")}
        values[block["block_id"]] = {element["action_id"]: {"type": kind, **value}}
    return {"values": values}


def typed(value: str | None) -> dict:
    return {"value": value}


def picked(value: str | None) -> dict:
    return {"selected_option": {"value": value, "text": {"type": "plain_text", "text": value}} if value else None}


def ticked(*values: str) -> dict:
    return {"selected_options": [{"value": v, "text": {"type": "plain_text", "text": v}} for v in values]}


def status_click(sender, slack, post, action_id: str, rid: str, user: str = "U0001", value: str | None = None):
    """A click on a button of the post's own status message (where it was composed); `value` is the button's
    (the post's id unless given: Retry and "It is live" carry the target's)."""
    payload = {"type": "block_actions", "team": {"id": "T0001", "domain": "acme"},
               "user": {"id": user, "team_id": "T0001"},
               "api_app_id": "A0PICMIM", "token": "deprecated", "trigger_id": f"trigger-{time.time_ns()}",
               "channel": {"id": post.channel_id}, "response_url": slack.response_url(rid),
               "container": {"type": "message", "message_ts": post.message_ts, "channel_id": post.channel_id,
                             "is_ephemeral": False},
               "message": {"type": "message", "ts": post.message_ts, "text": "status"},
               "actions": [{"type": "button", "action_id": action_id, "block_id": f"post_{post.id}",
                            "value": value or str(post.id), "action_ts": str(time.time())}]}
    response = sender.interaction(payload)
    assert response.status_code == 200, response.text
    return response


def poll_server(what: str, check, server, timeout: float = 60.0):
    """`check()`'s first truthy answer, asked every 0.1 s until `timeout` seconds pass; then the server process's
    log says why."""
    deadline = time.monotonic() + timeout
    while True:
        found = check()
        if found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}; the server's log ends:\n{server.output()[-6000:]}")
        time.sleep(0.1)
