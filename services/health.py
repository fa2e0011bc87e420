"""Readiness checks: the database answers and is migrated to head, Redis answers."""

from __future__ import annotations

import asyncio

from redis.asyncio import Redis
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from services.migrate import current_revision, head_revision

CHECK_TIMEOUT_SECONDS = 2.0


async def check_database(engine: AsyncEngine) -> str | None:
    """None when healthy, else why not."""
    try:
        async with asyncio.timeout(CHECK_TIMEOUT_SECONDS):
            async with engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
            current = await current_revision(engine)
    except Exception as error:  # any failure to reach the database is a reason, not a crash
        return f"database unreachable: {type(error).__name__}: {error}".strip()
    head = head_revision()
    if current != head:
        return f"database schema at {current or 'nothing'}, code expects {head}: run `bashan db upgrade`"
    return None


async def check_redis(redis: Redis) -> str | None:
    try:
        async with asyncio.timeout(CHECK_TIMEOUT_SECONDS):
            await redis.ping()
    except Exception as error:
        return f"redis unreachable: {type(error).__name__}: {error}".strip()
    return None


async def readiness(engine: AsyncEngine, redis: Redis) -> dict[str, str | None]:
    database, cache = await asyncio.gather(check_database(engine), check_redis(redis))
    return {"database": database, "redis": cache}
