"""Group commit: concurrent single transfers share commits, each caller gets its own result once it is durable."""

from __future__ import annotations

import asyncio
import random
import uuid
from collections import Counter

import asyncpg
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from domain.ledger.codes import ResultCode, TransferFlags
from domain.ledger.transfers import TransferSpec
from services import ledger
from services.db import to_asyncpg_dsn, unit_of_work
from services.ledger.group_commit import GroupCommitter
from tests.conftest import ServerUrls
from tests.integration.ledger.conftest import World

Sessions = async_sessionmaker[AsyncSession]


def committer(servers: ServerUrls, **options: int) -> GroupCommitter:
    dsn = to_asyncpg_dsn(servers.database_url)

    async def connect() -> asyncpg.Connection:
        return await asyncpg.connect(dsn, server_settings={"application_name": "group-commit-writer"})

    return GroupCommitter(connect, **options)


async def fund(sessions: Sessions, world: World, amount: int) -> None:
    async with unit_of_work(sessions) as session:
        source = world.cny_source
        specs = [TransferSpec(uuid.uuid4(), source, holder, amount, "deposit") for holder in world.cny_accounts]
        assert all(result.succeeded for result in await ledger.post(session, specs))


async def balance(sessions: Sessions, account_id: int) -> int:
    async with sessions() as session:
        account = await ledger.get_account(session, account_id)
        return account.credits_posted - account.debits_posted


async def test_concurrent_singles_share_commits_and_each_gets_its_own_result(
    sessions: Sessions, world: World, servers: ServerUrls
) -> None:
    await fund(sessions, world, 10_000)
    a, b = world.cny_accounts
    rng = random.Random(5)
    specs = [
        TransferSpec(uuid.uuid4(), *((a, b) if rng.random() < 0.5 else (b, a)), rng.randint(1, 20), "trade")
        for _ in range(300)
    ]
    # One transfer asks for more than any account holds: it is refused, and only its own caller hears of it.
    greedy = TransferSpec(uuid.uuid4(), a, b, 1_000_000, "trade")
    async with committer(servers, writers=2) as group:
        results = await asyncio.gather(*(group.submit(spec) for spec in [*specs, greedy]))
        stats = group.stats
    assert [result.code for result in results[:-1]] == [ResultCode.OK] * len(specs)
    assert results[-1].code == ResultCode.EXCEEDS_CREDITS
    assert [result.id for result in results] == [spec.id for spec in [*specs, greedy]]
    assert stats.transfers == len(specs) + 1
    assert stats.commits < stats.transfers / 4, f"{stats.commits} commits for {stats.transfers} transfers"
    moved_to_b = sum(spec.amount or 0 for spec in specs if spec.credit_account_id == b)
    moved_to_a = sum(spec.amount or 0 for spec in specs if spec.credit_account_id == a)
    assert await balance(sessions, a) == 10_000 - moved_to_b + moved_to_a
    assert await balance(sessions, b) == 10_000 + moved_to_b - moved_to_a
    async with sessions() as session:
        await session.execute(text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ"))
        assert (await ledger.audit(session)).ok


async def test_a_result_means_the_transfer_is_committed(sessions: Sessions, world: World, servers: ServerUrls) -> None:
    await fund(sessions, world, 100)
    a, b = world.cny_accounts
    observer = await asyncpg.connect(to_asyncpg_dsn(servers.database_url))
    try:
        async with committer(servers, writers=1) as group:
            for _ in range(5):
                spec = TransferSpec(uuid.uuid4(), a, b, 3, "trade")
                assert (await group.submit(spec)).code == ResultCode.OK
                # Another connection sees it at once: the answer came after the COMMIT.
                assert await observer.fetchval("SELECT count(*) FROM transfer WHERE id = $1", spec.id) == 1
    finally:
        await observer.close()


async def test_the_same_id_submitted_concurrently_is_posted_once(
    sessions: Sessions, world: World, servers: ServerUrls
) -> None:
    await fund(sessions, world, 100)
    a, b = world.cny_accounts
    spec = TransferSpec(uuid.uuid4(), a, b, 7, "trade")
    changed = TransferSpec(spec.id, a, b, 8, "trade")
    async with committer(servers, writers=2) as group:
        results = await asyncio.gather(*(group.submit(spec) for _ in range(12)), group.submit(changed))
    codes = Counter(result.code for result in results[:-1])
    assert codes == {ResultCode.OK: 1, ResultCode.EXISTS: 11}
    assert results[-1].code == ResultCode.EXISTS_WITH_DIFFERENT_AMOUNT
    assert await balance(sessions, b) == 107


async def test_linked_transfers_and_a_stopped_committer_are_refused(world: World, servers: ServerUrls) -> None:
    a, b = world.cny_accounts
    group = committer(servers)
    with pytest.raises(RuntimeError, match="not running"):
        await group.submit(TransferSpec(uuid.uuid4(), a, b, 1, "trade"))
    async with group:
        with pytest.raises(ValueError, match="post_linked"):
            await group.submit(TransferSpec(uuid.uuid4(), a, b, 1, "trade", flags=TransferFlags.LINKED))
    with pytest.raises(ValueError, match="positive"):
        committer(servers, writers=0)


async def test_a_lost_connection_fails_only_its_batch_and_the_writer_reconnects(
    sessions: Sessions, world: World, servers: ServerUrls
) -> None:
    await fund(sessions, world, 100)
    a, b = world.cny_accounts
    admin = await asyncpg.connect(to_asyncpg_dsn(servers.database_url))
    blocker = await asyncpg.connect(to_asyncpg_dsn(servers.database_url))
    try:
        async with committer(servers, writers=1) as group:
            assert (await group.submit(TransferSpec(uuid.uuid4(), a, b, 1, "trade"))).code == ResultCode.OK
            # Hold a lock the next batch needs, so its connection dies while the batch is in flight.
            holding = blocker.transaction()
            await holding.start()
            await blocker.execute("SELECT 1 FROM account WHERE id = $1 FOR UPDATE", a)
            lost = TransferSpec(uuid.uuid4(), a, b, 2, "trade")
            in_flight = asyncio.create_task(group.submit(lost))
            writer_pid = None
            for _ in range(200):
                writer_pid = await admin.fetchval(
                    "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                    "AND application_name = 'group-commit-writer' AND wait_event_type = 'Lock'"
                )
                if writer_pid is not None:
                    break
                await asyncio.sleep(0.02)
            assert writer_pid is not None, "the writer never waited for the lock"
            # With a timeout, pg_terminate_backend returns once the backend is gone.
            assert await admin.fetchval("SELECT pg_terminate_backend($1, 5000)", writer_pid)
            await holding.rollback()
            with pytest.raises((asyncpg.PostgresError, asyncpg.InterfaceError, asyncpg.InternalClientError, OSError)):
                await in_flight
            # The caller does not know the outcome, so it submits the same id again: posted exactly once.
            assert (await group.submit(lost)).code == ResultCode.OK
            assert (await group.submit(lost)).code == ResultCode.EXISTS
            assert group.stats.reconnects == 1
            assert group.stats.failed_batches == 1
    finally:
        await blocker.close()
        await admin.close()
    assert await balance(sessions, b) == 103
