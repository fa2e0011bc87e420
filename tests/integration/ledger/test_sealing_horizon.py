"""The sealing horizon is per database: a long transaction elsewhere on the server does not hold sealing back,
while one in this database does (its transfers could still commit below what would be sealed)."""

from __future__ import annotations

import uuid

import asyncpg
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from domain.ledger.transfers import TransferSpec
from services import ledger
from services.db import to_asyncpg_dsn, unit_of_work
from tests.conftest import ServerUrls
from tests.integration.ledger.conftest import World

Sessions = async_sessionmaker[AsyncSession]


async def hold_transaction_id(dsn: str) -> asyncpg.Connection:
    connection = await asyncpg.connect(dsn)
    await connection.execute("BEGIN")
    await connection.fetchval("SELECT pg_current_xact_id()")  # takes an id and keeps it until the end
    return connection


async def test_a_transaction_in_another_database_does_not_block_sealing(
    servers: ServerUrls, sessions: Sessions, world: World
) -> None:
    a, _ = world.cny_accounts
    other = await hold_transaction_id(servers.admin_dsn)
    try:
        await ledger.post_in_transaction(sessions, [TransferSpec(uuid.uuid4(), world.cny_source, a, 5, "deposit")])
        async with unit_of_work(sessions) as session:
            assert await ledger.seal(session) == 1
    finally:
        await other.execute("ROLLBACK")
        await other.close()


async def test_a_transaction_in_this_database_holds_sealing_back_until_it_ends(
    servers: ServerUrls, sessions: Sessions, world: World
) -> None:
    a, _ = world.cny_accounts
    mine = await hold_transaction_id(to_asyncpg_dsn(servers.database_url))
    try:
        await ledger.post_in_transaction(sessions, [TransferSpec(uuid.uuid4(), world.cny_source, a, 5, "deposit")])
        async with unit_of_work(sessions) as session:
            assert await ledger.seal(session) == 0
    finally:
        await mine.execute("ROLLBACK")
        await mine.close()
    async with unit_of_work(sessions) as session:
        assert await ledger.seal(session) == 1
