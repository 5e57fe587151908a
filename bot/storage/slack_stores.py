"""slack_sdk's SQLAlchemy installation store, on our engine, with its tokens encrypted at rest.

The store builds its tables from two class methods; ours returns the same tables with the token
columns typed `EncryptedText`, so the store's own insert/select code encrypts and decrypts
without knowing it. The tables themselves are created by our Alembic migrations.
"""

from __future__ import annotations

from slack_sdk.oauth.installation_store.sqlalchemy import AsyncSQLAlchemyInstallationStore
from slack_sdk.oauth.state_store.sqlalchemy import AsyncSQLAlchemyOAuthStateStore
from sqlalchemy import MetaData, Table
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.storage.crypto import EncryptedText

TOKEN_COLUMNS = ("bot_token", "bot_refresh_token", "user_token", "user_refresh_token")
STATE_EXPIRATION_SECONDS = 600


def _encrypt_tokens(table: Table) -> Table:
    for name in TOKEN_COLUMNS:
        if name in table.c:
            table.c[name].type = EncryptedText()
    return table


class EncryptedInstallationStore(AsyncSQLAlchemyInstallationStore):
    @classmethod
    def build_installations_table(cls, metadata: MetaData, table_name: str) -> Table:
        return _encrypt_tokens(super().build_installations_table(metadata, table_name))

    @classmethod
    def build_bots_table(cls, metadata: MetaData, table_name: str) -> Table:
        return _encrypt_tokens(super().build_bots_table(metadata, table_name))


def slack_tables_metadata() -> MetaData:
    """The Slack stores' tables as the migrations create them."""
    metadata = MetaData()
    store = EncryptedInstallationStore
    store.build_installations_table(metadata, store.default_installations_table_name)
    store.build_bots_table(metadata, store.default_bots_table_name)
    AsyncSQLAlchemyOAuthStateStore.build_oauth_states_table(metadata, "slack_oauth_states")
    return metadata


def build_stores(client_id: str, engine: AsyncEngine):
    return (
        EncryptedInstallationStore(client_id=client_id, engine=engine),
        AsyncSQLAlchemyOAuthStateStore(expiration_seconds=STATE_EXPIRATION_SECONDS, engine=engine),
    )
