"""Random transfers, pendings, posts, voids, duplicates, linked batches and timeouts against the reference model.

Most steps post in a session's transaction (``ledger_post_single`` and ``ledger_post``); some post one transfer as a
statement of its own on a bare connection (``ledger_post_alone``, migration 0022, and its fallback). After every step
the database's balances equal the model's and the auditor finds nothing wrong.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Coroutine
from dataclasses import replace
from typing import Any, TypeVar

import asyncpg
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from domain.ledger.codes import AssetKind, Purpose
from domain.ledger.codes import TransferFlags as F
from domain.ledger.transfers import TransferSpec
from services import ledger
from services.db import make_engine, make_sessionmaker, run_in_transaction, to_asyncpg_dsn, unit_of_work
from services.ledger.posting import post_with_connection
from tests.conftest import ServerUrls
from tests.unit.ledger.reference import RefAccount, ReferenceLedger

T = TypeVar("T")
TABLES = "ledger_block, serial_movement, serial_range, pending_expiry, transfer, account, asset"


class LedgerMachine(RuleBasedStateMachine):
    loop: asyncio.AbstractEventLoop
    sessions: async_sessionmaker[AsyncSession]
    dsn: str
    connection: asyncpg.Connection | None = None

    def run(self, work: Coroutine[Any, Any, T]) -> T:
        return self.loop.run_until_complete(work)

    @initialize()
    def open_world(self) -> None:
        async def setup() -> dict[int, RefAccount]:
            async with unit_of_work(self.sessions) as session:
                await session.execute(text("SET LOCAL session_replication_role = replica"))  # see tests/conftest.py
                await session.execute(text(f"TRUNCATE {TABLES} RESTART IDENTITY CASCADE"))
                await session.execute(text("SET LOCAL session_replication_role = origin"))  # triggers on again
                cny = await ledger.ensure_asset(session, code="CNY", kind=AssetKind.CURRENCY, name="CNY", unit="fen")
                gold = await ledger.ensure_asset(session, code="GLD", kind=AssetKind.PRODUCT_LOT, name="G", unit="g")
                accounts: dict[int, RefAccount] = {}
                source = await ledger.open_account(session, asset_id=cny.id, owner_id=None, purpose=Purpose.ISSUANCE)
                accounts[source.id] = RefAccount(source.id, cny.id, cmned=True)
                for number in range(3):
                    held = await ledger.open_account(
                        session, asset_id=cny.id, owner_id=None, purpose=Purpose.AVAILABLE, sub_account=number
                    )
                    accounts[held.id] = RefAccount(held.id, cny.id, dmnec=True)
                free = await ledger.open_account(session, asset_id=cny.id, owner_id=None, purpose="clearing")
                accounts[free.id] = RefAccount(free.id, cny.id)
                final = await ledger.open_account(session, asset_id=cny.id, owner_id=None, purpose=Purpose.RETIRED)
                accounts[final.id] = RefAccount(final.id, cny.id, dmnec=True, retired=True)
                other = await ledger.open_account(session, asset_id=gold.id, owner_id=None, purpose=Purpose.AVAILABLE)
                accounts[other.id] = RefAccount(other.id, gold.id, dmnec=True)
                credits = await ledger.ensure_asset(
                    session, code="BSC-T-2025", kind=AssetKind.CREDIT_BATCH, name="credits", unit="t"
                )
                mint = await ledger.open_account(session, asset_id=credits.id, owner_id=None, purpose=Purpose.ISSUANCE)
                accounts[mint.id] = RefAccount(mint.id, credits.id, cmned=True, serialized=True)
                for number in range(2):
                    holder = await ledger.open_account(
                        session, asset_id=credits.id, owner_id=None, purpose=Purpose.AVAILABLE, sub_account=number
                    )
                    accounts[holder.id] = RefAccount(holder.id, credits.id, dmnec=True, serialized=True)
                burn = await ledger.open_account(session, asset_id=credits.id, owner_id=None, purpose=Purpose.RETIRED)
                accounts[burn.id] = RefAccount(burn.id, credits.id, dmnec=True, retired=True, serialized=True)
                return accounts

        self.model = ReferenceLedger(self.run(setup()))
        self.all_ids = sorted(self.model.accounts)
        # most steps stay on one asset (so they get past asset_mismatch); some mix both
        self.ids = self.all_ids[:7]
        self.credit_ids = self.all_ids[7:]

    def _post(self, specs: list[TransferSpec]) -> None:
        expected = self.model.post(specs)
        results = self.run(ledger.post_in_transaction(self.sessions, specs))
        assert [result.code for result in results] == expected, (specs, expected)

    def _post_alone(self, spec: TransferSpec) -> None:
        """One transfer as a statement of its own: a plain one goes to ``ledger_post_alone``."""
        if self.connection is None:
            self.connection = self.run(asyncpg.connect(self.dsn))
        expected = self.model.post([spec])
        results = self.run(post_with_connection(self.connection, [spec]))
        assert [result.code for result in results] == expected, (spec, expected)

    def teardown(self) -> None:
        if self.connection is not None:
            self.run(self.connection.close())

    def _plain(self, data: st.DataObject, flags: F = F.NONE) -> TransferSpec:
        pool = data.draw(st.sampled_from([self.ids, self.ids, self.credit_ids, self.all_ids]))
        debit = data.draw(st.sampled_from(pool))
        credit = data.draw(st.sampled_from(pool))
        amount = data.draw(st.integers(min_value=0, max_value=60))
        pending = data.draw(st.booleans())
        timeout = data.draw(st.sampled_from([None, 3600])) if pending else None
        flags |= F.PENDING if pending else F.NONE
        return TransferSpec(uuid.uuid4(), debit, credit, amount, "trade", flags, timeout_seconds=timeout)

    def _resolution(self, data: st.DataObject, flags: F = F.NONE) -> TransferSpec:
        candidates = [tid for tid, t in self.model.transfers.items() if t.spec.flags & F.PENDING] or [uuid.uuid4()]
        pending_id = data.draw(st.sampled_from([*candidates, uuid.uuid4()]))
        post = data.draw(st.booleans())
        amount = data.draw(st.sampled_from([None, 1, 10, 100])) if post else None
        flags |= F.POST_PENDING if post else F.VOID_PENDING
        return TransferSpec(uuid.uuid4(), None, None, amount, "settle", flags, pending_id)

    @rule(data=st.data())
    def fund(self, data: st.DataObject) -> None:
        target = data.draw(st.sampled_from(self.ids[1:4]))
        self._post([TransferSpec(uuid.uuid4(), self.ids[0], target, data.draw(st.integers(1, 100)), "deposit")])

    @rule(data=st.data())
    def issue_credits(self, data: st.DataObject) -> None:
        holder = data.draw(st.sampled_from(self.credit_ids[1:3]))
        amount = data.draw(st.integers(1, 40))
        self._post([TransferSpec(uuid.uuid4(), self.credit_ids[0], holder, amount, "issue")])

    @rule(data=st.data())
    def spend_exactly(self, data: st.DataObject) -> None:
        account = self.model.accounts[data.draw(st.sampled_from(self.ids[1:4]))]
        left = account.cp - account.dp - account.dpe + data.draw(st.sampled_from([0, 0, 1]))
        if left > 0:
            self._post([TransferSpec(uuid.uuid4(), account.id, self.ids[4], left, "trade")])

    @rule(data=st.data())
    def single(self, data: st.DataObject) -> None:
        self._post([self._plain(data)])

    @rule(data=st.data())
    def single_alone(self, data: st.DataObject) -> None:
        spec = self._plain(data)
        if data.draw(st.booleans()):  # name the asset (the debit account's), as the fast path needs
            spec = replace(spec, asset_id=self.model.accounts[spec.debit_account_id].asset)
        self._post_alone(spec)

    @rule(data=st.data())
    def resolve(self, data: st.DataObject) -> None:
        self._post([self._resolution(data)])

    @rule(data=st.data())
    def batch(self, data: st.DataObject) -> None:
        size = data.draw(st.integers(min_value=2, max_value=6))
        specs = []
        for _ in range(size):
            linked = F.LINKED if data.draw(st.booleans()) else F.NONE
            kind = data.draw(st.sampled_from(["plain", "plain", "resolve", "repeat"]))
            if kind == "repeat" and specs:
                specs.append(data.draw(st.sampled_from(specs)))
            elif kind == "resolve":
                specs.append(self._resolution(data, linked))
            else:
                specs.append(self._plain(data, linked))
        self._post(specs)

    @rule(data=st.data())
    def duplicate(self, data: st.DataObject) -> None:
        if not self.model.transfers:
            return
        original = data.draw(st.sampled_from(sorted(self.model.transfers, key=str)))
        spec = self.model.transfers[original].spec
        if data.draw(st.booleans()) and spec.amount:
            spec = TransferSpec(
                spec.id,
                spec.debit_account_id,
                spec.credit_account_id,
                spec.amount + 1,
                spec.code,
                spec.flags,
                spec.pending_id,
                spec.timeout_seconds,
                spec.asset_id,
            )
        if data.draw(st.booleans()):
            self._post([spec])
        else:
            self._post_alone(spec)

    @rule(data=st.data())
    def time_passes(self, data: st.DataObject) -> None:
        timed = [tid for tid in self.model.open_pendings() if self.model.transfers[tid].spec.timeout_seconds]
        if not timed:
            return
        victim = data.draw(st.sampled_from(sorted(timed, key=str)))

        async def backdate() -> None:
            async with unit_of_work(self.sessions) as session:
                await session.execute(text("SET LOCAL session_replication_role = replica"))
                for statement in (
                    "UPDATE transfer SET expires_at = now() - interval '1 second' WHERE id = :id",
                    "UPDATE pending_expiry SET expires_at = now() - interval '1 second' WHERE pending_id = :id",
                ):
                    await session.execute(text(statement), {"id": victim})

        self.run(backdate())
        self.model.expired.add(victim)

    @rule()
    def expiry_worker(self) -> None:
        expected = self.model.expire()

        async def work(session: AsyncSession) -> int:
            return await ledger.expire_pendings(session)

        assert self.run(run_in_transaction(self.sessions, work)) == expected

    @invariant()
    def database_agrees(self) -> None:
        if not hasattr(self, "model"):
            return

        async def check() -> None:
            async with self.sessions() as session:
                rows = await session.execute(
                    text("SELECT id, debits_posted, credits_posted, debits_pending, credits_pending FROM account")
                )
                actual = {row.id: tuple(row)[1:] for row in rows}
                ranges = await session.execute(
                    text("SELECT account_id, first_serial, last_serial FROM serial_range ORDER BY first_serial")
                )
                held: dict[int, list[tuple[int, int]]] = {}
                for row in ranges:
                    held.setdefault(row.account_id, []).append((row.first_serial, row.last_serial))
                report = await ledger.audit(session)
            expected = {a.id: (a.dp, a.cp, a.dpe, a.cpe) for a in self.model.accounts.values()}
            assert actual == expected
            expected_ranges = {
                a.id: [(r.first, r.last) for r in a.ranges] for a in self.model.accounts.values() if a.ranges
            }
            assert held == expected_ranges
            assert report.problems == []

        self.run(check())


def test_ledger_agrees_with_reference_model(servers: ServerUrls) -> None:
    loop = asyncio.new_event_loop()
    engine = make_engine(servers.database_url, pool_size=2)
    LedgerMachine.loop = loop
    LedgerMachine.sessions = make_sessionmaker(engine)
    LedgerMachine.dsn = to_asyncpg_dsn(servers.database_url)
    try:
        runner = LedgerMachine.TestCase
        runner.settings = settings(
            max_examples=25,
            stateful_step_count=15,
            deadline=None,
            database=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
        )
        runner().runTest()
    finally:
        loop.run_until_complete(engine.dispose())
        loop.close()
