"""The whole PostgreSQL server killed while clients post and the sealer seals: no acknowledged transfer is lost.

A server of its own (the embedded PostgreSQL, in a temporary folder), so that it can be killed: every process of it
gets SIGKILL at once, with no shutdown and no checkpoint, and the next start replays the WAL. Then:
- every transfer whose commit a client heard is there, with its accounts and amount;
- each transfer still in doubt (sent, no answer) resolves exactly once when its client sends it again, as the same
  id, which is what a client that lost its connection does: it was committed (``exists``) or it was not (``ok``);
- the balances equal an independent sum of every transfer sent, the audit passes, and the hash chain verifies and
  goes on growing from the blocks sealed before the crash.
"""

from __future__ import annotations

import asyncio
import random
from collections import defaultdict
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import psutil
import pytest
from sqlalchemy import text

from domain.ledger.codes import ResultCode
from domain.ledger.ids import new_transfer_id
from domain.ledger.transfers import TransferSpec
from services import ledger
from services.bench.ledger import FUNDING, Setup, Sizes, prepare
from services.db import make_engine, make_sessionmaker, to_asyncpg_dsn, unit_of_work
from services.embedded import start_embedded_postgres
from services.ledger.posting import linked, post_with_connection
from services.ledger.sealer import seal, verify
from services.migrate import upgrade
from tests.conftest import _with_database

CLIENTS = 6
ACKNOWLEDGED_BEFORE_CRASH = 400
CODE = "crash_test"


class Server:
    """An embedded PostgreSQL that the test may kill and start again."""

    def __init__(self, folder: Path) -> None:
        self.handle, uri = start_embedded_postgres(folder)
        self.url = _with_database(uri, "ledger")
        self.admin_dsn = to_asyncpg_dsn(uri)

    def kill(self) -> None:
        """SIGKILL to the postmaster and every process it started, then wait until none of them is left."""
        postmaster = psutil.Process(self.handle.get_pid())
        processes = [postmaster, *postmaster.children(recursive=True)]
        for process in processes:
            process.kill()
        _, alive = psutil.wait_procs(processes, timeout=30)
        assert not alive, f"processes outlived SIGKILL: {alive}"

    def start(self) -> None:
        self.handle.ensure_postgres_running()  # finds the stale postmaster.pid, starts, recovers from the WAL


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[Server]:
    started = Server(tmp_path / "pg")
    try:
        admin = await asyncpg.connect(started.admin_dsn)
        try:
            await admin.execute("CREATE DATABASE ledger")
        finally:
            await admin.close()
        await upgrade(started.url)
        yield started
    finally:
        started.handle.cleanup()


def _random_transfers(rng: random.Random, setup: Setup) -> list[TransferSpec]:
    """One plain transfer, or now and then a linked chain of three."""
    count = 3 if rng.random() < 0.25 else 1
    specs = []
    for _ in range(count):
        debit, credit = rng.sample(setup.accounts, 2)
        specs.append(
            TransferSpec(new_transfer_id(), debit, credit, rng.randint(1, 1_000), CODE, asset_id=setup.asset_id)
        )
    return linked(specs) if count > 1 else specs


async def test_a_killed_server_loses_no_acknowledged_transfer(server: Server) -> None:
    setup = await prepare(server.url, Sizes(accounts=30))
    dsn = to_asyncpg_dsn(server.url)
    acknowledged: list[TransferSpec] = []
    in_doubt: list[list[TransferSpec]] = []
    blocks_before_crash = 0
    enough = asyncio.Event()
    killed = asyncio.Event()  # from here on a failed request is the crash, not a bug

    async def client(number: int) -> None:
        rng = random.Random(number)
        connection = await asyncpg.connect(dsn)
        try:
            while True:
                specs = _random_transfers(rng, setup)
                try:
                    results = await post_with_connection(connection, specs)
                except Exception:
                    if not killed.is_set():
                        raise
                    in_doubt.append(specs)  # sent (or about to be), and no answer came back
                    return
                assert [result.code for result in results] == [ResultCode.OK] * len(specs)
                acknowledged.extend(specs)
                if len(acknowledged) >= ACKNOWLEDGED_BEFORE_CRASH:
                    enough.set()
        finally:
            connection.terminate()

    async def sealer() -> None:
        nonlocal blocks_before_crash
        engine = make_engine(server.url, pool_size=1)
        sealing_sessions = make_sessionmaker(engine)
        try:
            while True:
                async with unit_of_work(sealing_sessions) as session:
                    blocks_before_crash += await seal(session, block_size=25, max_blocks=4)
                await asyncio.sleep(0.01)
        except Exception:
            if not killed.is_set():
                raise
        finally:
            await engine.dispose()

    workers = [asyncio.create_task(client(number)) for number in range(CLIENTS)]
    sealing = asyncio.create_task(sealer())
    await asyncio.wait_for(enough.wait(), timeout=60)
    killed.set()
    await asyncio.to_thread(server.kill)
    await asyncio.wait_for(asyncio.gather(*workers, sealing), timeout=60)
    assert len(in_doubt) == CLIENTS, "every client was cut off in the middle of a request"
    assert blocks_before_crash > 0, "the sealer had sealed blocks before the crash"

    await asyncio.to_thread(server.start)

    connection = await asyncpg.connect(dsn)
    try:
        rows = await connection.fetch(
            "SELECT id, debit_account_id, credit_account_id, amount FROM transfer WHERE id = ANY($1::uuid[])",
            [spec.id for spec in acknowledged],
        )
        found = {row["id"]: (row["debit_account_id"], row["credit_account_id"], row["amount"]) for row in rows}
        lost = [spec.id for spec in acknowledged if spec.id not in found]
        assert not lost, f"{len(lost)} acknowledged transfers are gone, first {lost[0]}"
        for spec in acknowledged:
            assert found[spec.id] == (spec.debit_account_id, spec.credit_account_id, spec.amount)

        # The clients send again what they never heard about; a chain was committed whole or not at all.
        for specs in in_doubt:
            codes = {result.code for result in await post_with_connection(connection, specs)}
            assert codes in ({ResultCode.OK}, {ResultCode.EXISTS}), codes
        sent = acknowledged + [spec for specs in in_doubt for spec in specs]
        assert await connection.fetchval("SELECT count(*) FROM transfer WHERE code = $1", CODE) == len(sent)

        expected: dict[int, list[int]] = defaultdict(lambda: [0, 0])
        for spec in sent:
            expected[spec.debit_account_id][0] += spec.amount
            expected[spec.credit_account_id][1] += spec.amount
        balances = await connection.fetch(
            "SELECT id, debits_posted, credits_posted FROM account WHERE id = ANY($1::bigint[])", setup.accounts
        )
        assert len(balances) == len(setup.accounts)
        for row in balances:
            debits, credits = expected[row["id"]]
            assert (row["debits_posted"], row["credits_posted"]) == (debits, FUNDING + credits), row["id"]
    finally:
        await connection.close()

    engine = make_engine(server.url, pool_size=1)
    sessions = make_sessionmaker(engine)
    try:
        while True:
            async with unit_of_work(sessions) as session:
                if not await seal(session, block_size=25, max_blocks=100):
                    break
        async with sessions() as session:
            verified = await verify(session)
        assert verified.ok, verified.describe()
        assert verified.blocks > blocks_before_crash
        assert verified.transfers == await _count_transfers(server)
        async with sessions() as session:
            await session.execute(text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ"))
            audited = await ledger.audit(session)
        assert audited.ok, audited.summary()
    finally:
        await engine.dispose()


async def _count_transfers(server: Server) -> int:
    connection = await asyncpg.connect(to_asyncpg_dsn(server.url))
    try:
        count: int = await connection.fetchval("SELECT count(*) FROM transfer")
    finally:
        await connection.close()
    return count
