"""Picmim's own client authentication keys, kept in the `client_keys` table (encrypted with the Fernet key).

Why a row and not a file beside `picmim.key`: several processes may share one PostgreSQL database (and may
run on different machines, with PICMIM_SECRET_KEY instead of a key file); they must all sign with the same
key and publish the same JWKS, or the authorization server refuses a session begun by another process. The
first key is made once: `generation` is unique per platform, so when two processes start together one
insert wins and the other reads the winner's key.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.platforms import bluesky_keys
from bot.storage.models import ClientKey, utcnow


async def _live(session: AsyncSession, platform: str) -> list[dict[str, Any]]:
    rows = (await session.execute(select(ClientKey).where(ClientKey.platform == platform,
                                                          ClientKey.retired_at.is_(None))
                                  .order_by(ClientKey.generation.desc()))).scalars().all()
    return [json.loads(row.private_jwk) for row in rows]


async def _newest(session: AsyncSession, platform: str) -> int:
    return await session.scalar(select(func.max(ClientKey.generation)).where(ClientKey.platform == platform)) or 0


def _add(session: AsyncSession, platform: str, generation: int) -> str:
    key = bluesky_keys.new_key()
    session.add(ClientKey(platform=platform, generation=generation, kid=bluesky_keys.kid_of(key),
                          private_jwk=json.dumps(bluesky_keys.to_jwk(key))))
    return bluesky_keys.kid_of(key)


async def load_or_create(sessions: async_sessionmaker[AsyncSession], platform: str = "bluesky"
                         ) -> tuple[list[dict[str, Any]], bool]:
    """The platform's live private JWKs, newest first (it signs new sessions), and whether the first one
    was made just now."""
    for _attempt in range(3):
        async with sessions() as session:
            newest = await _newest(session, platform)  # read before the keys: a key made in between collides
            keys = await _live(session, platform)
            if keys:
                return keys, False
            _add(session, platform, newest + 1)
            try:
                await session.commit()
            except IntegrityError:
                await session.rollback()  # another process made it at the same moment: use theirs
                continue
            return await _live(session, platform), True
    raise RuntimeError("could not read or make the client key")


async def rotate(sessions: async_sessionmaker[AsyncSession], platform: str = "bluesky",
                 retire_previous: bool = False) -> str:
    """Make a new key that signs new sessions from the next start on. The previous keys stay published
    (their sessions keep refreshing) unless `retire_previous`: then those sessions need a reconnect."""
    async with sessions() as session:
        if retire_previous:
            for row in (await session.execute(select(ClientKey).where(
                    ClientKey.platform == platform, ClientKey.retired_at.is_(None)))).scalars():
                row.retired_at = utcnow()
        kid = _add(session, platform, await _newest(session, platform) + 1)
        await session.commit()
        return kid
