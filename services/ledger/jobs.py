"""The ledger's periodic jobs: seal committed transfers, void expired pendings (run beside the API)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.db import run_in_transaction
from services.ledger.sealer import seal
from services.ledger.timeouts import expire_pendings

SEAL_INTERVAL_SECONDS = 5.0
EXPIRE_INTERVAL_SECONDS = 1.0


async def seal_blocks(sessions: async_sessionmaker[AsyncSession]) -> int:
    async def work(session: AsyncSession) -> int:
        return await seal(session, block_size=1000, max_blocks=50)

    return await run_in_transaction(sessions, work)


async def void_expired_pendings(sessions: async_sessionmaker[AsyncSession]) -> int:
    async def work(session: AsyncSession) -> int:
        return await expire_pendings(session, limit=1000)

    return await run_in_transaction(sessions, work)
