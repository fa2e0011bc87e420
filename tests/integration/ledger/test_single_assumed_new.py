"""Migration 0019: a single transfer that is its own transaction assumes its id is new; a taken id still answers.

``post_with_connection`` outside a transaction block asks ``ledger_post_single`` for a plain INSERT. A repeated id
then fails the statement, which changes nothing, and the ordinary call gives the original's answer. Inside a
transaction block nothing may fail, so it keeps ON CONFLICT.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import asyncpg
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from domain.ledger.codes import ResultCode
from domain.ledger.transfers import TransferSpec
from services.db import to_asyncpg_dsn
from services.ledger.posting import post_with_connection
from tests.conftest import EmptyDatabase, ServerUrls
from tests.integration.ledger.conftest import World
from tests.integration.ledger.test_single_lighter import SOURCE

Sessions = async_sessionmaker[AsyncSession]

ARGUMENTS = "SELECT pg_get_function_arguments('ledger_post_single'::regproc)"


async def test_0019_adds_the_argument_and_its_downgrade_restores_0018s_function(
    empty_database: EmptyDatabase,
) -> None:
    database = empty_database
    await database.upgrade("0018")
    before = await database.fetchval(SOURCE)
    assert "p_assume_new" not in await database.fetchval(ARGUMENTS)
    await database.upgrade("0019")
    assert (await database.fetchval(ARGUMENTS)).endswith("p_reference text, p_assume_new boolean DEFAULT false")
    assert "IF p_assume_new THEN" in await database.fetchval(SOURCE)
    await database.downgrade("0018")
    assert await database.fetchval(SOURCE) == before
    assert "p_assume_new" not in await database.fetchval(ARGUMENTS)


@pytest.fixture
async def connection(servers: ServerUrls) -> AsyncIterator[asyncpg.Connection]:
    connection = await asyncpg.connect(to_asyncpg_dsn(servers.database_url))
    yield connection
    await connection.close()


def deposit(world: World, amount: int, transfer_id: uuid.UUID | None = None, code: str = "deposit") -> TransferSpec:
    return TransferSpec(
        transfer_id or uuid.uuid4(), world.cny_source, world.cny_accounts[0], amount, code, asset_id=world.cny
    )


async def state(sessions: Sessions, world: World) -> tuple[int, int]:
    async with sessions() as session:
        transfers = (await session.execute(text("SELECT count(*) FROM transfer"))).scalar_one()
        held = (
            await session.execute(
                text("SELECT credits_posted FROM account WHERE id = :id"), {"id": world.cny_accounts[0]}
            )
        ).scalar_one()
    return transfers, held


@pytest.mark.parametrize(
    ("amount", "code", "answer"),
    [
        (40, "deposit", ResultCode.EXISTS),
        (41, "deposit", ResultCode.EXISTS_WITH_DIFFERENT_AMOUNT),
        (40, "refund", ResultCode.EXISTS_WITH_DIFFERENT_CODE),
    ],
)
async def test_a_repeated_id_outside_a_transaction_gets_the_originals_answer_and_changes_nothing(
    sessions: Sessions, world: World, connection: asyncpg.Connection, amount: int, code: str, answer: ResultCode
) -> None:
    first = deposit(world, 40)
    assert (await post_with_connection(connection, [first]))[0].code is ResultCode.OK
    again = deposit(world, amount, first.id, code)
    assert (await post_with_connection(connection, [again]))[0].code is answer
    assert await state(sessions, world) == (1, 40)


async def test_inside_a_transaction_a_repeated_id_does_not_abort_it(
    sessions: Sessions, world: World, connection: asyncpg.Connection
) -> None:
    first = deposit(world, 40)
    async with connection.transaction():
        assert (await post_with_connection(connection, [first]))[0].code is ResultCode.OK
        assert (await post_with_connection(connection, [first]))[0].code is ResultCode.EXISTS
        assert (await post_with_connection(connection, [deposit(world, 2)]))[0].code is ResultCode.OK
    assert await state(sessions, world) == (2, 42)


async def test_concurrent_repeats_of_one_id_post_it_once(sessions: Sessions, world: World, servers: ServerUrls) -> None:
    """Twelve connections send the same transfer at once: the plain INSERTs wait on the first one's key, then fail,
    and every one of those asks again and hears 'exists'."""
    dsn = to_asyncpg_dsn(servers.database_url)
    connections = [await asyncpg.connect(dsn) for _ in range(12)]
    spec = deposit(world, 25)
    try:
        answers = await asyncio.gather(*(post_with_connection(each, [spec]) for each in connections))
    finally:
        for each in connections:
            await each.close()
    codes = sorted(results[0].code for results in answers)
    assert codes.count(ResultCode.OK) == 1
    assert codes.count(ResultCode.EXISTS) == 11
    assert await state(sessions, world) == (1, 25)
