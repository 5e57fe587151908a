"""Fixtures the platform contract tests share, made per test module by the functions here (each module
names its adapter and fake): `fake, http = ...` at module level puts them in the module."""

from __future__ import annotations

import httpx
import pytest

from bot.http import build_client
from bot.platforms import oauth
from bot.platforms.base import AdapterConfig
from bot.platforms.meta_graph import Polling
from bot.sandbox.fakes.meta import FakeMeta, adapter_config
from tests.fakes.media_host import MediaHost


def meta_fixtures(adapter_class, key: str):
    """`meta` (the process's fake Meta, reset around each test), `media` (the media host Meta fetches
    from), `http` (a client routed to the fake) and `adapter` (built as production builds it, polling
    without waiting)."""

    @pytest.fixture
    def meta():
        fake = FakeMeta.shared()
        fake.reset()
        yield fake
        fake.reset()

    @pytest.fixture
    def media():
        host = MediaHost.shared()
        host.reset()
        return host

    @pytest.fixture
    async def http(meta):
        client = build_client(meta.overrides)
        yield client
        await client.aclose()

    @pytest.fixture
    def adapter(http):
        adapter = adapter_class(adapter_config(key), http)
        adapter.polling = Polling(attempts=5, delay=0)
        return adapter

    return meta, media, http, adapter


def platform_fake_fixtures(fake_class, adapter_class, redirect_uri: str, *, pkce: bool = False):
    """`platform_server`, a `PlatformFake` started once per module; `fake`, that fake reset for each test
    with Picmim's redirect URI registered; `http`, a client whose origin overrides send the platform's
    hosts to it; `adapter` (see `make_adapter`) and `tokens`, a finished connection (PKCE if `pkce`)."""

    @pytest.fixture(scope="module")
    def platform_server():
        fake = fake_class().start()
        yield fake
        fake.stop()

    @pytest.fixture
    def fake(platform_server):
        platform_server.reset()
        platform_server.redirect_uris = {redirect_uri}
        return platform_server

    @pytest.fixture
    async def http(fake):
        client = build_client(fake.origins())
        yield client
        await client.aclose()

    @pytest.fixture
    def adapter(fake, http):
        return make_adapter(adapter_class, fake, http, redirect_uri)

    @pytest.fixture
    async def tokens(adapter, http):
        return await connect(adapter, http, redirect_uri, oauth.new_pkce() if pkce else None)

    return platform_server, fake, http, adapter, tokens


def started_fake_fixtures(fake_class, origins, prepare=lambda fake: None):
    """For fakes started afresh for each test: `fake`, started and then `prepare`d, and `http`, a client
    whose origin overrides (`origins(fake)`) send the platform's hosts to it."""

    @pytest.fixture
    def fake():
        server = fake_class().start()
        prepare(server)
        yield server
        server.stop()

    @pytest.fixture
    async def http(fake):
        client = build_client(origins(fake))
        yield client
        await client.aclose()

    return fake, http


def make_adapter(adapter_class, fake, http: httpx.AsyncClient, redirect_uri: str, secret: str | None = None):
    """The adapter as production builds it, with the fake's client credentials (or a wrong `secret`)."""
    config = AdapterConfig(client_id=fake.client_id, client_secret=secret or fake.client_secret,
                           redirect_uri=redirect_uri, public_url="https://picmim.example")
    adapter = adapter_class(config, http)
    adapter.poll_interval = 0  # the fake needs no time to process media
    return adapter


async def consent_code(adapter, http: httpx.AsyncClient, redirect_uri: str, pkce=None) -> str:
    """The browser's trip: consent page, then the redirect back to Picmim with code and state."""
    state = oauth.new_state()
    consent = await http.get(adapter.authorize_url(state, pkce))
    assert consent.status_code == 302, consent.text
    back = httpx.URL(consent.headers["location"])
    assert str(back).startswith(redirect_uri) and back.params["state"] == state
    return back.params["code"]


async def connect(adapter, http: httpx.AsyncClient, redirect_uri: str, pkce=None):
    """The whole consent dance, as a browser and the callback route do it."""
    return await adapter.exchange_code(await consent_code(adapter, http, redirect_uri, pkce), pkce)


def without_sleeping(adapter, waits: list[float]):
    """The adapter with its `sleep` replaced: the seconds it would wait go to `waits` instead."""

    async def no_wait(seconds: float) -> None:
        waits.append(seconds)

    adapter.sleep = no_wait
    return adapter


async def connect_and_choose(adapter, http: httpx.AsyncClient, redirect_uri: str, pkce=None,
                             external_id: str | None = None):
    """The real code exchange against a fake, then the one account the person ticks (the only one, or
    `external_id`): (tokens, remote account)."""
    tokens = await connect(adapter, http, redirect_uri, pkce)
    [account] = [a for a in await adapter.list_accounts(tokens) if external_id in (None, a.external_id)]
    assert account.refusal is None, account.refusal
    return tokens, account


async def store_connected(database_url: str, team_id: str, user_id: str, granted: dict) -> dict[str, int]:
    """The rows a finished connect writes — a Connection and its chosen Account per platform key in
    `granted` ({key: (tokens, remote account)}) — in a fresh workspace; returns each key's account id."""
    from bot.services.connections import apply_tokens
    from bot.services.workspaces import ensure_workspace
    from bot.storage import crypto, db
    from bot.storage.models import Account, Connection
    from tests.conftest import SECRET_KEY

    crypto.configure([SECRET_KEY])
    engine = db.create_engine(database_url)
    try:
        async with db.session_factory(engine)() as session:
            workspace = await ensure_workspace(session, team_id)
            await session.flush()
            account_ids = {}
            for key, (tokens, remote) in granted.items():
                connection = Connection(workspace_id=workspace.id, platform=key,
                                        external_user_id=tokens.external_user_id,
                                        display_name=tokens.display_name or remote.name, connected_by=user_id)
                apply_tokens(connection, tokens)
                session.add(connection)
                await session.flush()
                account = Account(workspace_id=workspace.id, connection_id=connection.id, platform=key,
                                  external_id=remote.external_id, kind=remote.kind, name=remote.name,
                                  handle=remote.handle, access_token=remote.token, settings=dict(remote.settings))
                session.add(account)
                await session.flush()
                account_ids[key] = account.id
            await session.commit()
            return account_ids
    finally:
        await engine.dispose()
