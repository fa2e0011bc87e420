"""Migration 0022: ``ledger_post_alone``, a single transfer that is its own transaction, in two statements.

``post_with_connection`` outside a transaction block calls it. One UPDATE moves both balances and the table's guards
refuse what breaks a rule. Then the statement has changed nothing, and ``ledger_post_single`` gives the code. So a
caller hears the same answers as from ``post`` inside a transaction, and nothing moves on a refusal. The UPDATE locks
its two accounts in ascending id order, like every other writer, because the function's planner settings leave only
an index scan led by ``id``. Concurrent transfers in both directions over three accounts never deadlock.
"""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from typing import Any

import asyncpg
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from domain.ledger.codes import Purpose, ResultCode, TransferFlags
from domain.ledger.transfers import TransferSpec
from services import ledger
from services.bench.ledger_floor import alone_update
from services.db import to_asyncpg_dsn, unit_of_work
from services.ledger.posting import POST_ALONE_SQL, alone_arguments, post_with_connection
from tests.conftest import EmptyDatabase, ServerUrls
from tests.integration.ledger.conftest import World

Sessions = async_sessionmaker[AsyncSession]

MAX_BIGINT = 2**63 - 1
SETTINGS = "SELECT proconfig FROM pg_proc WHERE proname = 'ledger_post_alone'"
SOURCE = "SELECT prosrc FROM pg_proc WHERE proname = 'ledger_post_alone'"
STATE = text(
    "SELECT (SELECT count(*) FROM transfer), "
    "(SELECT array_agg(ARRAY[id, debits_posted, credits_posted, debits_pending, credits_pending] ORDER BY id) "
    "FROM account)"
)


async def test_0022_adds_the_function_with_its_planner_settings_and_its_downgrade_drops_it(
    empty_database: EmptyDatabase,
) -> None:
    database = empty_database
    await database.upgrade("0021")
    assert await database.fetchval(SOURCE) is None
    await database.upgrade("0022")
    assert await database.fetchval(SETTINGS) == ["enable_seqscan=off", "enable_bitmapscan=off"]
    source = await database.fetchval(SOURCE)
    assert "asset_id + 0 = p_asset" in source
    assert "USING ERRCODE = 'BL001'" in source
    await database.downgrade("0021")
    assert await database.fetchval(SOURCE) is None


@pytest.fixture
async def connection(servers: ServerUrls) -> AsyncIterator[asyncpg.Connection]:
    connection = await asyncpg.connect(to_asyncpg_dsn(servers.database_url))
    yield connection
    await connection.close()


async def state(sessions: Sessions) -> tuple[int, list[list[int]]]:
    async with sessions() as session:
        row = (await session.execute(STATE)).one()
    return row[0], row[1]


async def alone(connection: asyncpg.Connection, spec: TransferSpec) -> tuple[str | None, str | None]:
    """``ledger_post_alone``'s own answer: (its code, None), or (None, the SQLSTATE it raised)."""
    try:
        return await connection.fetchval(POST_ALONE_SQL, *alone_arguments(spec)), None
    except asyncpg.PostgresError as error:
        return None, error.sqlstate


@dataclass(frozen=True)
class Case:
    name: str
    raised: str | None  # what ledger_post_alone raises (None: it answers by itself)
    answer: ResultCode


@dataclass(frozen=True)
class Ledger:
    """The world with 100 fen in ``a``, 5 in a CNY account marked retired, and a second source and a fees account
    each 10 short of the largest balance a bigint holds, the fees account with 5 more pending. ``deposit`` is the
    transfer that funded ``a``."""

    world: World
    a: int
    b: int
    retired: int
    full_source: int
    full: int
    deposit: TransferSpec


@pytest.fixture
async def funded(sessions: Sessions, world: World, connection: asyncpg.Connection) -> Ledger:
    async with unit_of_work(sessions) as session:
        retired = await ledger.open_account(session, asset_id=world.cny, owner_id=None, purpose=Purpose.RETIRED)
        source = await ledger.open_account(
            session, asset_id=world.cny, owner_id=None, purpose=Purpose.ISSUANCE, sub_account=1
        )
        full = await ledger.open_account(session, asset_id=world.cny, owner_id=None, purpose=Purpose.FEES)
    a, b = world.cny_accounts
    specs = [
        TransferSpec(uuid.uuid4(), debit, credit, amount, "deposit", flags, asset_id=world.cny)
        for debit, credit, amount, flags in (
            (world.cny_source, a, 100, TransferFlags.NONE),
            (world.cny_source, retired.id, 5, TransferFlags.NONE),
            (source.id, full.id, MAX_BIGINT - 10, TransferFlags.NONE),
            (world.cny_source, full.id, 5, TransferFlags.PENDING),
        )
    ]
    for spec in specs:
        assert (await post_with_connection(connection, [spec]))[0].code is ResultCode.OK
    return Ledger(world, a, b, retired.id, source.id, full.id, specs[0])


def case_spec(name: str, funded: Ledger) -> TransferSpec:
    world, a, b = funded.world, funded.a, funded.b

    def cny(debit: int, credit: int, amount: int, **changes: Any) -> TransferSpec:
        return replace(TransferSpec(uuid.uuid4(), debit, credit, amount, "trade", asset_id=world.cny), **changes)

    return {
        "plain": lambda: cny(a, b, 40, reference="order 7"),
        "retired credit": lambda: cny(a, funded.retired, 1),
        "no asset": lambda: cny(a, b, 1, asset_id=None),
        "serialized": lambda: cny(world.credit_source, world.credit_accounts[0], 9, asset_id=world.credits),
        "both missing": lambda: cny(999_999_998, 999_999_999, 1),
        "overdraft": lambda: cny(a, b, 101),
        "retired": lambda: cny(funded.retired, b, 1),
        "overflowing debit": lambda: cny(funded.full_source, b, 11),
        "overflowing credit": lambda: cny(world.cny_source, funded.full, 11),
        "overflowing credit by its pending": lambda: cny(world.cny_source, funded.full, 6),
        "no id": lambda: cny(a, b, 1, id=None),
        "code": lambda: cny(a, b, 1, code="Trade"),
        "reference": lambda: cny(a, b, 1, reference="x" * 501),
        "zero": lambda: cny(a, b, 0),
        "no amount": lambda: replace(cny(a, b, 1), amount=None),
        "taken id": lambda: funded.deposit,
        "taken id, other amount": lambda: replace(funded.deposit, amount=99),
        "same account": lambda: cny(a, a, 1),
        "missing debit account": lambda: cny(999_999_999, b, 1),
        "missing credit account": lambda: cny(a, 999_999_999, 1),
        "other asset": lambda: cny(a, world.credit_accounts[0], 1),
    }[name]()


CASES = [
    Case("plain", None, ResultCode.OK),
    Case("retired credit", None, ResultCode.OK),
    Case("no asset", None, ResultCode.OK),
    Case("serialized", None, ResultCode.OK),
    Case("both missing", None, ResultCode.DEBIT_ACCOUNT_NOT_FOUND),
    Case("overdraft", "23514", ResultCode.EXCEEDS_CREDITS),
    Case("retired", "23514", ResultCode.DEBIT_ACCOUNT_RETIRED),
    Case("overflowing debit", "22003", ResultCode.OVERFLOWS_DEBITS),
    Case("overflowing credit", "22003", ResultCode.OVERFLOWS_CREDITS),
    Case("overflowing credit by its pending", "22003", ResultCode.OVERFLOWS_CREDITS),
    Case("no id", "23502", ResultCode.ID_REQUIRED),
    Case("code", "23514", ResultCode.CODE_INVALID),
    Case("reference", "23514", ResultCode.REFERENCE_TOO_LONG),
    Case("zero", "23514", ResultCode.AMOUNT_MUST_BE_POSITIVE),
    Case("no amount", "23502", ResultCode.AMOUNT_MUST_BE_POSITIVE),
    Case("taken id", "23505", ResultCode.EXISTS),
    Case("taken id, other amount", "23505", ResultCode.EXISTS_WITH_DIFFERENT_AMOUNT),
    Case("same account", "BL001", ResultCode.ACCOUNTS_MUST_DIFFER),
    Case("missing debit account", "BL001", ResultCode.DEBIT_ACCOUNT_NOT_FOUND),
    Case("missing credit account", "BL001", ResultCode.CREDIT_ACCOUNT_NOT_FOUND),
    Case("other asset", "BL001", ResultCode.ASSET_MISMATCH),
]


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
async def test_each_answer_matches_post_in_a_transaction_and_a_refusal_moves_nothing(
    sessions: Sessions, funded: Ledger, connection: asyncpg.Connection, case: Case
) -> None:
    """The function answers by itself or raises where the guards refuse, and then nothing has moved. The caller
    hears the code that ``post`` gives in a session for the same transfer (with a new id, unless the id is the
    point)."""
    spec = case_spec(case.name, funded)
    before = await state(sessions)
    if case.raised is None:
        assert await alone(connection, spec) == (case.answer.value, None)
    else:
        assert await alone(connection, spec) == (None, case.raised)
        assert await state(sessions) == before
        assert (await post_with_connection(connection, [spec]))[0].code is case.answer
        assert await state(sessions) == before
    twin = spec if spec.id is None or spec.id == funded.deposit.id else replace(spec, id=uuid.uuid4())
    async with unit_of_work(sessions) as session:
        assert (await ledger.post(session, [twin]))[0].code is case.answer
    if not case.answer.succeeded:
        assert await state(sessions) == before


SERIALS = text(
    "SELECT (SELECT serial_next FROM asset WHERE id = :asset), "
    "(SELECT array_agg(ARRAY[account_id, first_serial, last_serial] ORDER BY first_serial) FROM serial_range "
    "WHERE asset_id = :asset), (SELECT count(*) FROM serial_movement WHERE asset_id = :asset)"
)


async def test_a_serialized_asset_is_left_to_ledger_post_single_and_its_serials_move(
    sessions: Sessions, world: World, connection: asyncpg.Connection
) -> None:
    """Issue 9 credits to a holder, then 4 from the source to an account that holds none: both mint serials, as
    ``ledger_post_single`` does. An UPDATE that took serialized accounts would post without minting; for the
    holder the deferred serials check would then refuse the commit."""
    async with unit_of_work(sessions) as session:
        clearing = await ledger.open_account(session, asset_id=world.credits, owner_id=None, purpose="clearing")
    holder = world.credit_accounts[0]
    for credit, amount in ((holder, 9), (clearing.id, 4)):
        spec = TransferSpec(uuid.uuid4(), world.credit_source, credit, amount, "issue", asset_id=world.credits)
        assert await alone(connection, spec) == ("ok", None)
    async with sessions() as session:
        serial_next, ranges, movements = (await session.execute(SERIALS, {"asset": world.credits})).one()
        assert (await ledger.audit(session)).ok
    assert serial_next == 14
    assert ranges == [[holder, 1, 9]]
    assert movements == 2


async def test_a_plain_transfer_moves_both_balances_and_writes_one_row(
    sessions: Sessions, funded: Ledger, connection: asyncpg.Connection
) -> None:
    spec = case_spec("plain", funded)
    assert (await post_with_connection(connection, [spec]))[0].code is ResultCode.OK
    async with sessions() as session:
        row = (
            await session.execute(
                text(
                    "SELECT debit_account_id, credit_account_id, asset_id, amount, code, reference, pending, seq > 0, "
                    "xact_id IS NOT NULL FROM transfer WHERE id = :id"
                ),
                {"id": spec.id},
            )
        ).one()
        a = await ledger.get_account(session, funded.a)
        b = await ledger.get_account(session, funded.b)
    assert tuple(row) == (funded.a, funded.b, funded.world.cny, 40, "trade", "order 7", False, True, True)
    assert (a.debits_posted, a.credits_posted, b.debits_posted, b.credits_posted) == (40, 100, 0, 40)


async def update_plan(connection: asyncpg.Connection, world: World, settings: list[str]) -> list[str]:
    """The plans, custom and generic, of the function's UPDATE under ``settings``, on the test's small table."""
    source = await connection.fetchval(SOURCE)
    update = alone_update(source)
    for name, number in (("p_debit", 1), ("p_credit", 2), ("p_amount", 3), ("p_asset", 4)):
        update = update.replace(name, f"${number}")
    low, high = sorted(world.cny_accounts)
    plans = []
    async with connection.transaction():
        for setting in settings:
            name, value = setting.split("=", 1)
            await connection.execute(f"SET LOCAL {name} = {value}")
        for mode in ("force_custom_plan", "force_generic_plan"):
            await connection.execute(f"SET LOCAL plan_cache_mode = {mode}")
            await connection.execute(f"PREPARE alone_update (bigint, bigint, bigint, integer) AS {update}")
            try:
                rows = await connection.fetch(f"EXPLAIN EXECUTE alone_update ({low}, {high}, 1, {world.cny})")
            finally:
                await connection.execute("DEALLOCATE alone_update")
            plans.append("\n".join(row[0] for row in rows))
    return plans


async def test_the_update_takes_its_two_rows_from_an_index_led_by_id(
    world: World, connection: asyncpg.Connection
) -> None:
    """An index scan returns, and so locks, the two accounts in ascending id order, as every other writer does."""
    settings = await connection.fetchval(SETTINGS)
    for plan in await update_plan(connection, world, settings):
        assert re.search(r"Index Scan using (pk_account|uq_account_id_asset_id) on account", plan), plan
        assert "Index Cond: (id = ANY (" in plan, plan
        assert "Seq Scan" not in plan, plan
        assert "Bitmap" not in plan, plan


async def test_without_the_settings_a_small_table_is_read_in_block_order(
    world: World, connection: asyncpg.Connection
) -> None:
    """Why the function carries its settings: left alone, the planner reads a small account table sequentially or
    through a bitmap, and either returns (and locks) rows in the order of their current versions' places on the
    page, not by id. (The test of both directions below deadlocks without the settings.) Shown on a fresh copy of
    the table with three rows, so that no other test's statistics change the plan."""
    async with connection.transaction():
        await connection.execute(
            "CREATE TEMPORARY TABLE account (LIKE public.account INCLUDING DEFAULTS INCLUDING INDEXES) ON COMMIT DROP;"
            "INSERT INTO account SELECT * FROM public.account ORDER BY id LIMIT 3"
        )
        for plan in await update_plan(connection, world, []):
            assert re.search(r"(Seq Scan|Bitmap Heap Scan) on account", plan), plan


async def test_transfers_both_ways_over_three_accounts_never_deadlock(
    sessions: Sessions, world: World, servers: ServerUrls
) -> None:
    """Twelve connections send 40 transfers each around three accounts, in every direction at once."""
    async with unit_of_work(sessions) as session:
        accounts = [
            (
                await ledger.open_account(
                    session, asset_id=world.cny, owner_id=world.organisations[0], purpose="available", sub_account=n
                )
            ).id
            for n in (1, 2, 3)
        ]
    dsn = to_asyncpg_dsn(servers.database_url)
    funder = await asyncpg.connect(dsn)
    try:
        for account in accounts:
            deposit = TransferSpec(uuid.uuid4(), world.cny_source, account, 10_000, "deposit", asset_id=world.cny)
            assert (await post_with_connection(funder, [deposit]))[0].code is ResultCode.OK
    finally:
        await funder.close()
    directions = [(x, y) for x in accounts for y in accounts if x != y]
    plan = [
        [(directions[(client + step) % len(directions)], 1 + (client * step) % 5) for step in range(40)]
        for client in range(12)
    ]
    connections = [await asyncpg.connect(dsn) for _ in plan]
    start = asyncio.Event()

    async def client(connection: asyncpg.Connection, moves: list[tuple[tuple[int, int], int]]) -> list[ResultCode]:
        await start.wait()
        codes = []
        for (debit, credit), amount in moves:
            spec = TransferSpec(uuid.uuid4(), debit, credit, amount, "trade", asset_id=world.cny)
            codes.append((await post_with_connection(connection, [spec]))[0].code)
        return codes

    try:
        tasks = [asyncio.create_task(client(each, moves)) for each, moves in zip(connections, plan, strict=True)]
        start.set()
        answers = await asyncio.gather(*tasks)
    finally:
        for each in connections:
            await each.close()
    assert {code for codes in answers for code in codes} == {ResultCode.OK}
    expected = dict.fromkeys(accounts, 10_000)
    for moves in plan:
        for (debit, credit), amount in moves:
            expected[debit] -= amount
            expected[credit] += amount
    async with sessions() as session:
        for account in accounts:
            found = await ledger.get_account(session, account)
            assert found.credits_posted - found.debits_posted == expected[account]
        assert (await ledger.audit(session)).ok


async def test_racers_outside_transactions_spend_one_balance_exactly(
    sessions: Sessions, funded: Ledger, servers: ServerUrls
) -> None:
    """32 connections each spend 7 of the 100 in ``a`` at once: the account's CHECK lets exactly 14 through."""
    dsn = to_asyncpg_dsn(servers.database_url)
    connections = [await asyncpg.connect(dsn) for _ in range(32)]
    world = funded.world
    specs = [TransferSpec(uuid.uuid4(), funded.a, funded.b, 7, "trade", asset_id=world.cny) for _ in connections]
    try:
        results = await asyncio.gather(
            *(post_with_connection(each, [spec]) for each, spec in zip(connections, specs, strict=True))
        )
    finally:
        for each in connections:
            await each.close()
    codes = [result[0].code for result in results]
    assert codes.count(ResultCode.OK) == 14
    assert codes.count(ResultCode.EXCEEDS_CREDITS) == 18
    async with sessions() as session:
        a = await ledger.get_account(session, funded.a)
        assert (a.debits_posted, a.credits_posted) == (98, 100)
        assert (await ledger.audit(session)).ok


async def test_a_pending_transfer_outside_a_transaction_goes_to_ledger_post_single(
    sessions: Sessions, funded: Ledger, connection: asyncpg.Connection
) -> None:
    """``ledger_post_alone`` takes plain transfers only; a pending one keeps 0019's assumed-new call, and a plain one
    with a timeout hears why it is refused."""
    world = funded.world
    hold = TransferSpec(
        uuid.uuid4(), funded.a, funded.b, 30, "hold", TransferFlags.PENDING, timeout_seconds=60, asset_id=world.cny
    )
    assert (await post_with_connection(connection, [hold]))[0].code is ResultCode.OK
    assert (await post_with_connection(connection, [hold]))[0].code is ResultCode.EXISTS
    timed = TransferSpec(uuid.uuid4(), funded.a, funded.b, 1, "trade", timeout_seconds=5, asset_id=world.cny)
    answer = (await post_with_connection(connection, [timed]))[0].code
    assert answer is ResultCode.TIMEOUT_RESERVED_FOR_PENDING_TRANSFER
    async with sessions() as session:
        a = await ledger.get_account(session, funded.a)
        b = await ledger.get_account(session, funded.b)
        count = await session.scalar(text("SELECT count(*) FROM transfer WHERE code IN ('hold', 'trade')"))
    assert (a.debits_pending, a.debits_posted, b.credits_pending, b.credits_posted) == (30, 0, 30, 0)
    assert count == 1
