"""Races on real connections, sealing, verification and the tamper test."""

from __future__ import annotations

import asyncio
import uuid

import asyncpg
import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from domain.ledger.codes import Purpose, ResultCode
from domain.ledger.transfers import TransferSpec
from services import ledger
from services.db import make_engine, make_sessionmaker, to_asyncpg_dsn, unit_of_work
from tests.conftest import ServerUrls
from tests.integration.ledger.conftest import World

Sessions = async_sessionmaker[AsyncSession]
RACERS = 64


async def test_racers_spend_one_balance_exactly(sessions: Sessions, world: World, servers: ServerUrls) -> None:
    shared = world.cny_accounts[0]
    affordable = 40
    deposit = TransferSpec(uuid.uuid4(), world.cny_source, shared, affordable, "deposit")
    await ledger.post_in_transaction(sessions, [deposit])
    async with unit_of_work(sessions) as session:
        # every racer credits its own account, so each transfer locks the shared account and another one
        targets = [
            (await ledger.open_account(session, asset_id=world.cny, owner_id=None, purpose="racer", sub_account=n)).id
            for n in range(RACERS)
        ]
    engine = make_engine(servers.database_url, pool_size=RACERS // 2)
    racing = make_sessionmaker(engine)
    start = asyncio.Event()

    async def racer(target: int) -> ResultCode:
        async with racing() as warm:  # open the connection before the start signal
            await warm.execute(text("SELECT 1"))
        await start.wait()
        results = await ledger.post_in_transaction(racing, [TransferSpec(uuid.uuid4(), shared, target, 1, "trade")])
        return results[0].code

    try:
        tasks = [asyncio.create_task(racer(target)) for target in targets]
        await asyncio.sleep(0.5)
        start.set()
        codes = await asyncio.gather(*tasks)
    finally:
        await engine.dispose()
    assert codes.count(ResultCode.OK) == affordable
    assert codes.count(ResultCode.EXCEEDS_CREDITS) == RACERS - affordable
    async with sessions() as session:
        account = await ledger.get_account(session, shared)
        assert (account.debits_posted, account.credits_posted) == (affordable, affordable)
        assert (await ledger.audit(session)).ok


async def test_concurrent_duplicates_create_one(sessions: Sessions, world: World, servers: ServerUrls) -> None:
    deposit = TransferSpec(uuid.uuid4(), world.cny_source, world.cny_accounts[0], 100, "deposit")
    await ledger.post_in_transaction(sessions, [deposit])
    same = TransferSpec(uuid.uuid4(), world.cny_accounts[0], world.cny_accounts[1], 7, "trade")
    engine = make_engine(servers.database_url, pool_size=8)
    racing = make_sessionmaker(engine)
    try:
        results = await asyncio.gather(*(ledger.post_in_transaction(racing, [same]) for _ in range(16)))
    finally:
        await engine.dispose()
    codes = [result[0].code for result in results]
    assert codes.count(ResultCode.OK) == 1
    assert codes.count(ResultCode.EXISTS) == 15
    async with sessions() as session:
        count = await session.scalar(text("SELECT count(*) FROM transfer WHERE id = :id"), {"id": same.id})
        assert count == 1
        assert (await ledger.get_account(session, world.cny_accounts[1])).credits_posted == 7


async def test_seal_verify_and_tamper(sessions: Sessions, world: World, servers: ServerUrls) -> None:
    a, b = world.cny_accounts
    specs = [TransferSpec(uuid.uuid4(), world.cny_source, a, 1000, "deposit")]
    specs += [TransferSpec(uuid.uuid4(), a, b, n + 1, "trade") for n in range(24)]
    for spec in specs:
        await ledger.post_in_transaction(sessions, [spec])
    async with unit_of_work(sessions) as session:
        assert await ledger.seal(session, block_size=10) == 3
    async with unit_of_work(sessions) as session:
        assert await ledger.seal(session, block_size=10) == 0
    async with sessions() as session:
        report = await ledger.verify(session)
    assert report.ok, report.describe()
    assert (report.blocks, report.transfers) == (3, 25)
    for statement in ("UPDATE ledger_block SET transfer_count = 1", "DELETE FROM ledger_block"):
        async with unit_of_work(sessions) as session:
            with pytest.raises(DBAPIError, match="append-only"):
                await session.execute(text(statement))

    victim = specs[13]
    connection = await asyncpg.connect(to_asyncpg_dsn(servers.database_url))
    try:
        await connection.execute("SET session_replication_role = replica")
        await connection.execute("UPDATE transfer SET amount = amount + 1 WHERE id = $1", victim.id)
    finally:
        await connection.close()
    async with sessions() as session:
        report = await ledger.verify(session)
    assert not report.ok
    assert report.block == 2
    assert report.transfer_id == victim.id
    assert "altered" in report.describe()
    async with sessions() as session:
        audit = await ledger.audit(session)
    assert not audit.ok
    assert any(f"account {a}" in problem for problem in audit.problems)


async def test_later_transfers_seal_into_new_blocks(sessions: Sessions, world: World) -> None:
    a, _ = world.cny_accounts
    async with unit_of_work(sessions) as session:
        holder = await ledger.open_account(session, asset_id=world.cny, owner_id=None, purpose=Purpose.FEES)
    for amount in (5, 6):
        await ledger.post_in_transaction(sessions, [TransferSpec(uuid.uuid4(), world.cny_source, a, amount, "deposit")])
        async with unit_of_work(sessions) as session:
            assert await ledger.seal(session) == 1
    await ledger.post_in_transaction(sessions, [TransferSpec(uuid.uuid4(), a, holder.id, 3, "fee")])
    async with unit_of_work(sessions) as session:
        assert await ledger.seal(session) == 1
    async with sessions() as session:
        report = await ledger.verify(session)
    assert report.ok
    assert (report.blocks, report.transfers) == (3, 3)


@pytest.mark.parametrize("batched", [False, True])
async def test_same_id_with_other_accounts_racing(
    sessions: Sessions, world: World, servers: ServerUrls, batched: bool
) -> None:
    """Two transactions post one id on disjoint accounts: the locks cannot order them, the unique key does, and
    the loser is retried whole (serialization failure inside) and answers exists_with_different_..."""
    a, b = world.cny_accounts
    held_a, held_b = world.cny_held
    await ledger.post_in_transaction(
        sessions,
        [
            TransferSpec(uuid.uuid4(), world.cny_source, a, 100, "deposit"),
            TransferSpec(uuid.uuid4(), world.cny_source, held_a, 100, "deposit"),
        ],
    )
    shared_id = uuid.uuid4()
    engine = make_engine(servers.database_url, pool_size=2)
    racing = make_sessionmaker(engine)
    try:
        async with racing() as first, first.begin():
            assert (await ledger.post(first, [TransferSpec(shared_id, a, b, 5, "trade")]))[0].code is ResultCode.OK
            late = [TransferSpec(shared_id, held_a, held_b, 5, "trade")]
            if batched:
                late.append(TransferSpec(uuid.uuid4(), held_a, held_b, 1, "trade"))
            second = asyncio.create_task(ledger.post_in_transaction(racing, late))
            await asyncio.sleep(0.3)
            assert not second.done()  # waiting on the first transaction's unique key
        results = await second
    finally:
        await engine.dispose()
    assert results[0].code is ResultCode.EXISTS_WITH_DIFFERENT_DEBIT_ACCOUNT_ID
    if batched:
        assert results[1].code is ResultCode.OK
    async with sessions() as session:
        assert (await ledger.get_account(session, held_a)).debits_posted == (1 if batched else 0)
        assert (await ledger.audit(session)).ok
