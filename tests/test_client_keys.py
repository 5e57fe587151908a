"""Picmim's Bluesky client keys at rest: made once (even by two processes starting together), kept
encrypted in the database, rotatable; the BLUESKY_CLIENT_KEY setting instead; model and migration agree."""

from __future__ import annotations

import asyncio
import json

import pytest
from sqlalchemy import text

from bot.config import load_settings
from bot.platforms import bluesky_keys
from bot.storage import client_keys, db


async def test_the_first_key_is_made_once_and_kept_encrypted(engine):
    sessions = db.session_factory(engine)
    (first, created), (second, again) = await asyncio.gather(client_keys.load_or_create(sessions),
                                                             client_keys.load_or_create(sessions))
    assert sorted([created, again]) == [False, True] and first == second  # two processes, one key
    assert (await client_keys.load_or_create(sessions)) == (first, False)  # a restart reads it back
    [jwk] = first
    keys = bluesky_keys.ClientKeys(bluesky_keys.parse_keys(json.dumps(first)))
    assert keys.current == jwk["kid"] and "d" in jwk
    async with engine.connect() as conn:
        stored = (await conn.execute(text("SELECT private_jwk FROM client_keys"))).scalar_one()
    assert jwk["d"] not in stored and "kid" not in stored  # ciphertext only


async def test_rotation_puts_the_new_key_first_and_keeps_the_old_one_published(engine):
    sessions = db.session_factory(engine)
    [old], _ = await client_keys.load_or_create(sessions)
    new_kid = await client_keys.rotate(sessions)
    live, _ = await client_keys.load_or_create(sessions)
    assert [k["kid"] for k in live] == [new_kid, old["kid"]]
    newest = await client_keys.rotate(sessions, retire_previous=True)
    assert [k["kid"] for k in (await client_keys.load_or_create(sessions))[0]] == [newest]


async def test_the_setting_wins_over_the_stored_key(engine, monkeypatch):
    from bot.app import install_client_keys

    mine = bluesky_keys.new_key()
    settings = load_settings({"BLUESKY_CLIENT_KEY": mine.as_pem(private=True).decode()}, require_slack=False,
                             env_file="/nonexistent")
    await install_client_keys(settings, engine)
    assert bluesky_keys.installed().current == mine.thumbprint()
    settings = load_settings({}, require_slack=False, env_file="/nonexistent")
    await install_client_keys(settings, engine)
    [stored], _ = await client_keys.load_or_create(db.session_factory(engine))
    assert bluesky_keys.installed().current == stored["kid"]


@pytest.mark.parametrize("value, reason", [
    ("not a key", "neither a JWK"),
    ('{"kty": "oct", "k": "c2VjcmV0"}', "not an EC key"),
    (json.dumps(bluesky_keys.new_key().as_dict(private=False)), "private EC key on the P-256 curve"),
])
def test_a_wrong_setting_is_explained(value, reason):
    from bot.config import ConfigError

    with pytest.raises(ConfigError) as refused:
        load_settings({"BLUESKY_CLIENT_KEY": value}, require_slack=False, env_file="/nonexistent")
    assert reason in refused.value.problems[0] and "BLUESKY_CLIENT_KEY" in refused.value.problems[0]


def test_the_setting_takes_several_keys_newest_first():
    new, old = bluesky_keys.new_key(), bluesky_keys.new_key()
    jwks = json.dumps({"keys": [bluesky_keys.to_jwk(new), bluesky_keys.to_jwk(old)]})
    keys = bluesky_keys.ClientKeys(bluesky_keys.parse_keys(jwks))
    assert keys.current == new.thumbprint() and [k["kid"] for k in keys.public_jwks()["keys"]] == [
        new.thumbprint(), old.thumbprint()]
    pems = new.as_pem(private=True).decode() + "\n" + old.as_pem(private=True).decode()
    assert [bluesky_keys.kid_of(k) for k in bluesky_keys.parse_keys(pems)] == [new.thumbprint(), old.thumbprint()]


async def test_the_migration_matches_the_model_for_client_keys(engine):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from bot.storage.models import Base

    async with engine.connect() as conn:
        diffs = await conn.run_sync(lambda c: compare_metadata(MigrationContext.configure(c), Base.metadata))
    assert [d for d in diffs if "client_keys" in repr(d)] == []


async def test_the_migration_matches_the_model_for_seen_requests(engine):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from bot.storage.models import Base

    async with engine.connect() as conn:
        diffs = await conn.run_sync(lambda c: compare_metadata(MigrationContext.configure(c), Base.metadata))
    assert [d for d in diffs if "seen_requests" in repr(d)] == []
