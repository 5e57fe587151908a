"""Alembic environment. Migrations run on a connection handed in by `bot.storage.db.migrate`
(config.attributes["connection"]); run from the command line they build their own from DATABASE_URL."""

import asyncio

from alembic import context

from bot.storage.models import Base

target_metadata = Base.metadata


def run_on(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=True,  # SQLite alters tables by copying them
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_standalone() -> None:
    from bot.config import load_settings
    from bot.storage.db import create_engine

    async def go() -> None:
        engine = create_engine(load_settings(require_slack=False).database_url)
        async with engine.begin() as conn:
            await conn.run_sync(run_on)
        await engine.dispose()

    asyncio.run(go())


connection = context.config.attributes.get("connection")
if connection is not None:
    run_on(connection)
else:
    run_standalone()
