"""A plain or pending transfer without a debit or credit account moves nothing (migration 0023).

Found by fuzzing the API: ``ledger_post_single`` chose which account to update first with ``p_debit < p_credit``.
With one of them null that comparison is null, so both of its steps took the credit branch: the credit account was
raised twice and lowered once by the undo, and the session committed it. Now the answers are those of
``ledger_post`` for the same transfer in a batch: a taken id whose given fields match is ``exists`` (a null account
is a field not given), a new id is refused for its missing account; and nothing moves.
"""

from __future__ import annotations

import uuid

import asyncpg
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from domain.ledger.codes import ResultCode, TransferFlags
from domain.ledger.transfers import TransferSpec
from services import ledger
from services.db import to_asyncpg_dsn, unit_of_work
from services.ledger.auditor import audit
from services.ledger.posting import post_with_connection
from tests.conftest import EmptyDatabase, ServerUrls
from tests.integration.ledger.conftest import World

Sessions = async_sessionmaker[AsyncSession]
BALANCES = text(
    "SELECT array_agg(ARRAY[id, debits_posted, credits_posted, debits_pending, credits_pending] ORDER BY id) "
    "FROM account"
)


async def _state(sessions: Sessions) -> tuple[int, object]:
    async with sessions() as session:
        count = (await session.execute(text("SELECT count(*) FROM transfer"))).scalar_one()
        return count, (await session.execute(BALANCES)).scalar_one()


def _cases(world: World, existing: uuid.UUID) -> list[tuple[TransferSpec, ResultCode]]:
    """Each transfer without an account, and its answer: for the taken id as for a new one."""
    a, b = world.cny_accounts
    cases = []
    for flags in (TransferFlags.NONE, TransferFlags.PENDING):
        taken = ResultCode.EXISTS if flags == TransferFlags.NONE else ResultCode.EXISTS_WITH_DIFFERENT_FLAGS
        for debit, credit, asset, new in (
            (None, b, world.cny, ResultCode.DEBIT_ACCOUNT_NOT_FOUND),
            (a, None, world.cny, ResultCode.CREDIT_ACCOUNT_NOT_FOUND),
            (None, None, world.cny, ResultCode.DEBIT_ACCOUNT_NOT_FOUND),
            (None, b, None, ResultCode.DEBIT_ACCOUNT_NOT_FOUND),
        ):
            cases.append((TransferSpec(existing, debit, credit, 5, "trade", flags, asset_id=asset), taken))
            cases.append((TransferSpec(uuid.uuid4(), debit, credit, 5, "trade", flags, asset_id=asset), new))
    return cases


async def _funded(sessions: Sessions, world: World) -> uuid.UUID:
    """Fund account a, and post one transfer of 5 from a to b: the id that the cases resubmit."""
    existing = uuid.uuid4()
    a, b = world.cny_accounts
    async with unit_of_work(sessions) as session:
        results = await ledger.post(
            session,
            [
                TransferSpec(uuid.uuid4(), world.cny_source, a, 100, "deposit", asset_id=world.cny),
                TransferSpec(existing, a, b, 5, "trade", asset_id=world.cny),
            ],
        )
    assert [result.code for result in results] == [ResultCode.OK, ResultCode.OK]
    return existing


async def test_a_missing_account_is_refused_in_a_session_and_nothing_moves(sessions: Sessions, world: World) -> None:
    existing = await _funded(sessions, world)
    before = await _state(sessions)
    for spec, code in _cases(world, existing):
        # post() answers refusals without raising, so the session commits whatever the function left behind.
        async with unit_of_work(sessions) as session:
            results = await ledger.post(session, [spec])
        assert [result.code for result in results] == [code], spec
        assert await _state(sessions) == before, spec
    async with sessions() as session:
        report = await audit(session)
    assert report.ok, report.summary()


async def test_a_missing_account_is_refused_outside_a_transaction(
    servers: ServerUrls, sessions: Sessions, world: World
) -> None:
    existing = await _funded(sessions, world)
    before = await _state(sessions)
    connection = await asyncpg.connect(to_asyncpg_dsn(servers.database_url))
    try:
        for spec, code in _cases(world, existing):
            results = await post_with_connection(connection, [spec])
            assert [result.code for result in results] == [code], spec
    finally:
        await connection.close()
    assert await _state(sessions) == before


@pytest.mark.parametrize("missing", ["debit", "credit"])
async def test_a_batch_answers_alike(sessions: Sessions, world: World, missing: str) -> None:
    existing = await _funded(sessions, world)
    before = await _state(sessions)
    a, b = world.cny_accounts
    debit, credit = (None, b) if missing == "debit" else (a, None)
    async with unit_of_work(sessions) as session:
        results = await ledger.post(
            session,
            [
                TransferSpec(existing, debit, credit, 5, "trade", asset_id=world.cny),
                TransferSpec(uuid.uuid4(), debit, credit, 5, "trade", asset_id=world.cny),
            ],
        )
    refused = ResultCode.DEBIT_ACCOUNT_NOT_FOUND if missing == "debit" else ResultCode.CREDIT_ACCOUNT_NOT_FOUND
    assert [result.code for result in results] == [ResultCode.EXISTS, refused]
    assert await _state(sessions) == before


async def test_0023_refuses_missing_accounts_and_its_downgrade_restores_0022(empty_database: EmptyDatabase) -> None:
    source = "SELECT prosrc FROM pg_proc WHERE proname = 'ledger_post_single'"
    await empty_database.upgrade("0022")
    assert "EXIT apply WHEN p_debit IS NULL" not in await empty_database.fetchval(source)
    await empty_database.upgrade("0023")
    assert "EXIT apply WHEN p_debit IS NULL OR p_credit IS NULL" in await empty_database.fetchval(source)
    await empty_database.downgrade("0022")
    assert "EXIT apply WHEN p_debit IS NULL" not in await empty_database.fetchval(source)
