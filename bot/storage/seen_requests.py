"""Requests already acted on, for Slack's replay window: the same signed bytes sent again (a replay) and the same
compose view submitted again act once, whichever process gets them (the key is unique in the database)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.storage.models import SeenRequest

# Slack refuses a request whose timestamp is over 5 minutes old (bolt checks it): kept a little longer.
WINDOW = timedelta(minutes=10)


async def first_time(sessions: async_sessionmaker[AsyncSession], key: str, now: datetime) -> bool:
    """Record `key`; False when it was already recorded within the window (act on it once)."""
    async with sessions() as session:
        await session.execute(delete(SeenRequest).where(SeenRequest.seen_at < now - WINDOW))
        session.add(SeenRequest(key=key[:255], seen_at=now))
        try:
            await session.commit()
        except IntegrityError:
            await session.rollback()
            return False
    return True


async def forget(sessions: async_sessionmaker[AsyncSession], key: str) -> None:
    """The request was refused (e.g. a submission with errors): the same one may come again and act."""
    async with sessions() as session:
        await session.execute(delete(SeenRequest).where(SeenRequest.key == key[:255]))
        await session.commit()
