"""``bashan bench ledger``: transfers per second through ``ledger_post``, beside a plain INSERT baseline.

Rows, all in one run on one scratch database of the configured server:
(a) single transfers, one per commit, 8 clients over many accounts; (b) the same on one hot account;
(c) batches of 1,000 transfers per commit; (e) the single requests of (a) through the group committer;
(f) the floor: (a) on copies of the tables without the database's guards (``ledger_floor``);
(d) the baseline: single-row INSERT transactions from 8 clients.
(a), (f) and (d) are the rows compared with each other, so they run in alternating rounds (four by default, each
round in another order), each row on its own connections from round to round; each is reported over all its rounds.
A machine that slows down or speeds up for a second, or a WAL segment that has to be created, then lands in all
three rows alike, not in whichever one happened to run. Every round and every other row starts after a VACUUM
ANALYZE and a CHECKPOINT (``common.settle``). Then the sealer seals everything, and verify and audit must pass.
"""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field

import asyncpg
from sqlalchemy import text

from domain.identity.roles import Role
from domain.ledger.codes import AssetKind, Purpose
from domain.ledger.ids import new_transfer_id
from domain.ledger.transfers import TransferSpec
from services.bench.common import (
    CpuUse,
    Measurement,
    Progress,
    baseline_inserts,
    combined,
    create_baseline,
    open_clients,
    run_clients,
    settle,
)
from services.bench.ledger_floor import create_floor, floor_balances_match, floor_transfers
from services.db import make_engine, make_sessionmaker, to_asyncpg_dsn, unit_of_work
from services.identity.service import create_organisation
from services.ledger import repository
from services.ledger.group_commit import GroupCommitter
from services.ledger.posting import post_with_connection

FUNDING = 10**12


@dataclass(frozen=True)
class Sizes:
    accounts: int = 1_000
    single: int = 20_000
    hot: int = 5_000
    batches: int = 60
    batch_size: int = 1_000
    baseline: int = 20_000
    clients: int = 8
    # Group commit pays where many callers wait at once; at 8 its batches are too small to pay for themselves.
    group_clients: int = 64
    rounds: int = 4

    def scaled(self, factor: float) -> Sizes:
        return Sizes(
            accounts=self.accounts,
            single=max(200, int(self.single * factor)),
            hot=max(100, int(self.hot * factor)),
            batches=max(4, int(self.batches * factor)),
            batch_size=self.batch_size,
            baseline=max(200, int(self.baseline * factor)),
            clients=self.clients,
            group_clients=self.group_clients,
            rounds=self.rounds,
        )


@dataclass
class Setup:
    asset_id: int
    accounts: list[int]
    hot_account: int


async def prepare(database_url: str, sizes: Sizes) -> Setup:
    """A currency, an issuance source and funded holder accounts (funding is itself one batch per 1,000)."""
    engine = make_engine(database_url, pool_size=1)
    try:
        async with unit_of_work(make_sessionmaker(engine)) as session:
            asset = await repository.ensure_asset(
                session, code="BENCH-CNY", kind=AssetKind.CURRENCY, name="benchmark yuan", unit="fen"
            )
            source = await repository.open_account(session, asset_id=asset.id, owner_id=None, purpose=Purpose.ISSUANCE)
            owner = await create_organisation(
                session, name=f"benchmark holders {uuid.uuid4().hex[:8]}", role=Role.ENTERPRISE, actor=None
            )
            holders = []
            for number in range(sizes.accounts + 1):
                account = await repository.open_account(
                    session, asset_id=asset.id, owner_id=owner.id, purpose=Purpose.AVAILABLE, sub_account=number
                )
                holders.append(account.id)
    finally:
        await engine.dispose()
    connection = await asyncpg.connect(to_asyncpg_dsn(database_url))
    try:
        for start in range(0, len(holders), 1_000):
            specs = [
                TransferSpec(new_transfer_id(), source.id, holder, FUNDING, "bench_fund", asset_id=asset.id)
                for holder in holders[start : start + 1_000]
            ]
            results = await post_with_connection(connection, specs)
            assert all(result.succeeded for result in results), "funding the benchmark accounts failed"
    finally:
        await connection.close()
    return Setup(asset.id, holders[1:], holders[0])


def _pair(rng: random.Random, accounts: list[int]) -> tuple[int, int]:
    debit, credit = rng.sample(accounts, 2)
    return debit, credit


def _transfers(
    rng: random.Random, setup: Setup, accounts: list[int], count: int, *, hot: bool = False
) -> list[TransferSpec]:
    """The workload, built before the clock starts: the rows measure the ledger, not the load generator (the
    baseline's clients build nothing either)."""
    specs = []
    for _ in range(count):
        debit, credit = _pair(rng, accounts)
        if hot:
            debit = setup.hot_account
        amount = rng.randint(1, 100)
        specs.append(TransferSpec(new_transfer_id(), debit, credit, amount, "bench", asset_id=setup.asset_id))
    return specs


async def single_transfers(
    dsn: str,
    setup: Setup,
    sizes: Sizes,
    *,
    hot: bool,
    units: int | None = None,
    seed: int | None = None,
    connections: Sequence[asyncpg.Connection] | None = None,
    round_label: str = "",
) -> Measurement:
    label = "hot account" if hot else "single transfers"
    if units is None:
        units = sizes.hot if hot else sizes.single
    if seed is None:
        seed = 7 if hot else 3
    specs = _transfers(random.Random(seed), setup, setup.accounts, units, hot=hot)

    async def one(connection: asyncpg.Connection, unit: int) -> int:
        result = (await post_with_connection(connection, [specs[unit]]))[0]
        if not result.succeeded:
            raise RuntimeError(f"transfer refused: {result.code}")
        return 1

    return await run_clients(
        f"({'b' if hot else 'a'}) {label}",
        dsn,
        clients=sizes.clients,
        units=units,
        operation=one,
        label=label + round_label,
        connections=connections,
    )


async def group_committed(dsn: str, setup: Setup, sizes: Sizes) -> tuple[Measurement, float]:
    """Row (e): single requests like (a) from ``group_clients`` clients, each waiting for its own answer, through the
    group committer: whatever requests are queued when a writer is free share its commit. Returns the mean batch."""
    progress = Progress("group commit", sizes.single)
    rng = random.Random(13)
    measurement = Measurement(f"(e) group commit, {sizes.group_clients} clients")

    async def connect() -> asyncpg.Connection:
        return await asyncpg.connect(dsn)

    share, extra = divmod(sizes.single, sizes.group_clients)
    workloads = [
        _transfers(rng, setup, setup.accounts, share + (1 if index < extra else 0))
        for index in range(sizes.group_clients)
    ]
    async with GroupCommitter(connect, writers=2) as group:

        async def client(specs: list[TransferSpec]) -> None:
            for spec in specs:
                started = time.perf_counter()
                result = await group.submit(spec)
                if not result.succeeded:
                    raise RuntimeError(f"transfer refused: {result.code}")
                measurement.latencies.append(time.perf_counter() - started)
                measurement.operations += 1
                progress.advance()

        started = time.perf_counter()
        await asyncio.gather(*(client(specs) for specs in workloads))
        measurement.seconds = time.perf_counter() - started
        mean_batch = group.stats.mean_batch
    progress.finish()
    return measurement, mean_batch


async def batched_transfers(dsn: str, setup: Setup, sizes: Sizes, *, clients: int = 4) -> Measurement:
    """Batches of ``batch_size`` per commit; each client works on its own share of the accounts (no lock waits).

    Four clients, so that one database backend posts while another client builds its next batch: with two, the
    2-core machine idled part of the time (about 15 % fewer transfers/s, measured side by side).
    """
    shards = [setup.accounts[index::clients] for index in range(clients)]
    rng = random.Random(11)
    batches = [_transfers(rng, setup, shards[unit % clients], sizes.batch_size) for unit in range(sizes.batches)]

    async def batch(connection: asyncpg.Connection, unit: int) -> int:
        specs = batches[unit]
        results = await post_with_connection(connection, specs)
        refused = [result for result in results if not result.succeeded]
        if refused:
            raise RuntimeError(f"{len(refused)} transfers refused, first: {refused[0].code}")
        return len(specs)

    return await run_clients(
        f"(c) batches of {sizes.batch_size:,} ({clients} clients)",
        dsn,
        clients=clients,
        units=sizes.batches,
        operation=batch,
        label="batched transfers",
    )


@dataclass(frozen=True)
class Integrity:
    blocks_sealed: int
    verify_ok: bool
    verify: str
    audit_ok: bool
    audit: str


async def seal_verify_audit(database_url: str) -> Integrity:
    from services.ledger.auditor import audit
    from services.ledger.sealer import seal, verify

    engine = make_engine(database_url, pool_size=1)
    sessions = make_sessionmaker(engine)
    try:
        sealed = 0
        while True:
            async with unit_of_work(sessions) as session:
                written = await seal(session, block_size=1_000, max_blocks=50)
            sealed += written
            if written == 0:
                break
        async with sessions() as session:
            verified = await verify(session)
        async with sessions() as session:
            await session.execute(text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ"))
            audited = await audit(session)
    finally:
        await engine.dispose()
    return Integrity(sealed, verified.ok, verified.describe(), audited.ok, audited.summary())


@dataclass(frozen=True)
class Report:
    rows: list[Measurement]
    baseline: Measurement
    integrity: Integrity
    group_mean_batch: float = 0.0
    floor_ok: bool = True
    # (a)'s ratio to the baseline in each of the alternating rounds of (a), (f) and (d): the spread within one run.
    round_ratios: list[float] = field(default_factory=list)
    # The server's own version string (``SHOW server_version``): row (a)'s ratio moves with it (docs/ledger.md).
    server_version: str = ""

    def by_name(self, prefix: str) -> Measurement:
        return next(row for row in self.rows if row.name.startswith(prefix))

    def as_json(self) -> dict[str, object]:
        single, hot, batched = self.by_name("(a)"), self.by_name("(b)"), self.by_name("(c)")
        group, floor = self.by_name("(e)"), self.by_name("(f)")
        return {
            "single_tps": round(single.rate, 1),
            "hot_tps": round(hot.rate, 1),
            "batched_tps": round(batched.rate, 1),
            "baseline_tps": round(self.baseline.rate, 1),
            "single_ratio": round(single.rate / self.baseline.rate, 3) if self.baseline.rate else None,
            "hot_ratio": round(hot.rate / self.baseline.rate, 3) if self.baseline.rate else None,
            "batched_ratio": round(batched.rate / self.baseline.rate, 3) if self.baseline.rate else None,
            "single_p50_ms": round(single.percentile(0.5) * 1000, 3),
            "single_p99_ms": round(single.percentile(0.99) * 1000, 3),
            "hot_p99_ms": round(hot.percentile(0.99) * 1000, 3),
            "batched_p99_ms": round(batched.percentile(0.99) * 1000, 3),
            "group_tps": round(group.rate, 1),
            "group_ratio": round(group.rate / self.baseline.rate, 3) if self.baseline.rate else None,
            "group_p99_ms": round(group.percentile(0.99) * 1000, 3),
            "group_mean_batch": round(self.group_mean_batch, 2),
            "floor_tps": round(floor.rate, 1),
            "floor_ratio": round(floor.rate / self.baseline.rate, 3) if self.baseline.rate else None,
            # The share of the floor's rate that the guards take: 1 - (a) / (f).
            "guards_share": round(1 - single.rate / floor.rate, 3) if floor.rate else None,
            "floor_ok": self.floor_ok,
            "rounds": len(self.round_ratios),
            "single_ratio_rounds": self.round_ratios,
            "errors": sum(row.errors for row in self.rows),
            # CPU microseconds per operation, read from /proc: the row's backends (None when the server is elsewhere)
            # and the benchmark's own clients; and steal_share, the share of this machine's CPU time that its host
            # gave to others while (a), (f) and (d) ran. Steal slows every row and inflates the CPU counts too (seen:
            # 106 us per baseline INSERT at 8 % steal, 142 us at 21 %), so a run with much of it is a noisy one.
            **self.cpu_figures(),
            "server_version": self.server_version,
            "blocks_sealed": self.integrity.blocks_sealed,
            "audit_ok": self.integrity.audit_ok,
            "verify_ok": self.integrity.verify_ok,
        }

    def cpu_figures(self) -> dict[str, float | None]:
        single, floor, base = self.by_name("(a)"), self.by_name("(f)"), self.baseline
        figures: dict[str, float | None] = {}
        for key, row in (("single", single), ("floor", floor), ("baseline", base), ("hot", self.by_name("(b)"))):
            for part in ("server", "client"):
                value = row.cpu_per_operation(part)
                figures[f"{key}_{part}_cpu_us"] = None if value is None else round(value, 1)
        costs = [_cpu_cost(row) for row in (single, base)]
        figures["single_cpu_ratio"] = round(costs[1] / costs[0], 3) if costs[0] and costs[1] else None
        compared = [row.cpu for row in (single, floor, base) if row.cpu is not None]
        figures["steal_share"] = round(sum(compared, CpuUse()).steal_share, 3) if compared else None
        return figures


def _cpu_cost(row: Measurement) -> float | None:
    """Server and client CPU microseconds per operation together, when both were measured."""
    server, client = row.cpu_per_operation("server"), row.cpu_per_operation("client")
    return None if server is None or client is None else server + client


@dataclass(frozen=True)
class Compared:
    """Rows (a), (f) and (d), each over all its rounds, and (a)'s ratio to the baseline round by round."""

    single: Measurement
    floor: Measurement
    baseline: Measurement
    round_ratios: list[float]


async def compared_rows(dsn: str, setup: Setup, sizes: Sizes) -> Compared:
    """Rows (a), (f) and (d) in ``sizes.rounds`` alternating rounds; each returned over all its rounds."""
    rounds = max(1, sizes.rounds)
    totals = {"a": sizes.single, "f": sizes.single, "d": sizes.baseline}
    parts: dict[str, list[Measurement]] = {key: [] for key in totals}

    def share(key: str, number: int) -> int:
        """Round ``number``'s part of a row's total; the first rounds take one more where it does not divide."""
        whole, rest = divmod(totals[key], rounds)
        return whole + (1 if number < rest else 0)

    async with (
        open_clients(dsn, sizes.clients) as single_clients,
        open_clients(dsn, sizes.clients) as floor_clients,
        open_clients(dsn, sizes.clients) as baseline_clients,
    ):

        async def one_round(key: str, number: int) -> Measurement:
            label = f" {number + 1}/{rounds}"
            if key == "a":
                return await single_transfers(
                    dsn,
                    setup,
                    sizes,
                    hot=False,
                    units=share("a", number),
                    seed=3 + number,
                    connections=single_clients,
                    round_label=label,
                )
            if key == "f":
                return await floor_transfers(
                    dsn,
                    floor_clients,
                    setup.asset_id,
                    setup.accounts,
                    transfers=share("f", number),
                    seed=17 + number,
                    label="floor transfers" + label,
                )
            return await baseline_inserts(
                dsn, baseline_clients, transactions=share("d", number), label="baseline INSERT" + label
            )

        keys = list(totals)
        for number in range(rounds):
            for key in keys[number % 3 :] + keys[: number % 3]:
                await settle(dsn)
                parts[key].append(await one_round(key, number))
    single, floor, base = (combined(parts[key]) for key in ("a", "f", "d"))
    base.name = "(d) baseline: 1-row INSERT"
    ratios = [round(a.rate / d.rate, 3) if d.rate else 0.0 for a, d in zip(parts["a"], parts["d"], strict=True)]
    return Compared(single, floor, base, ratios)


async def server_version(dsn: str) -> str:
    connection = await asyncpg.connect(dsn)
    try:
        version: str = await connection.fetchval("SHOW server_version")
    finally:
        await connection.close()
    return version


async def run(database_url: str, sizes: Sizes) -> Report:
    dsn = to_asyncpg_dsn(database_url)
    version = await server_version(dsn)
    setup = await prepare(database_url, sizes)
    await create_floor(dsn)
    await create_baseline(dsn)
    compared = await compared_rows(dsn, setup, sizes)
    single, floor, base = compared.single, compared.floor, compared.baseline
    floor_ok = await floor_balances_match(dsn)
    # Each row starts on a settled database (see ``settle``): autovacuum and checkpoints are noise in whichever
    # row they happen to land, not a cost of that row.
    await settle(dsn)
    hot = await single_transfers(dsn, setup, sizes, hot=True)
    await settle(dsn)
    batched = await batched_transfers(dsn, setup, sizes)
    await settle(dsn)
    grouped, mean_batch = await group_committed(dsn, setup, sizes)
    rows = [single, hot, batched, grouped, floor, base]
    integrity = await seal_verify_audit(database_url)
    return Report(rows, base, integrity, mean_batch, floor_ok, compared.round_ratios, version)
