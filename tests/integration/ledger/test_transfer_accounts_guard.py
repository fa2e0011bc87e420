"""Direct INSERTs into transfer, below the posting functions: every row's accounts must exist and hold its asset,
a post or void must match its pending, and every row must meet the transfer's rules.

One statement trigger checks all rows an INSERT wrote (migrations 0027, 0028; since 0029 it checks resolutions too,
since 0031 the rules that were the row CHECK's); a single bad row refuses the whole statement and is named, and
nothing of the statement stays.
"""

from __future__ import annotations

import uuid

import asyncpg
import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from domain.ledger.codes import ResultCode, TransferFlags
from services.db import unit_of_work
from tests.conftest import EmptyDatabase
from tests.integration.ledger.conftest import DIRECT_TRANSFER, World, direct_transfer, refused, transfer_count
from tests.integration.ledger.test_migration_fast_guards import GUARDS
from tests.integration.ledger.test_posting import post, spec

Sessions = async_sessionmaker[AsyncSession]
MISSING = 9_000_000_000

GUARD = "transfer_accounts_exist"
RESOLUTION = "transfer_resolution_matches_pending"
INSERT_THREE = (
    "INSERT INTO transfer (id, debit_account_id, credit_account_id, asset_id, amount, code) VALUES "
    "(:first, :d1, :c1, :asset, 1, 'forged'), (:second, :d2, :c2, :asset, 1, 'forged'), "
    "(:third, :d3, :c3, :asset, 1, 'forged')"
)
# Two rows written around the posting functions; ``_two_rows`` gives each its fields.
INSERT_TWO = (
    "INSERT INTO transfer (id, debit_account_id, credit_account_id, asset_id, amount, code, pending, post_pending, "
    "void_pending, pending_id) VALUES "
    + ", ".join(
        f"(:id{n}, :debit{n}, :credit{n}, :asset, :amount{n}, :code{n}, :pending{n}, :post{n}, :void{n}, "
        f"CAST(:pending_id{n} AS uuid))"
        for n in (1, 2)
    )
)
INSERT_MANY = (
    "INSERT INTO transfer (id, debit_account_id, credit_account_id, asset_id, amount, code) "
    "SELECT id, debit, credit, :asset, 1, 'forged' FROM unnest(CAST(:ids AS uuid[]), CAST(:debits AS bigint[]), "
    "CAST(:credits AS bigint[])) AS row (id, debit, credit)"
)


async def _refused_whole(
    sessions: Sessions,
    statement: str,
    params: dict[str, object],
    match: str,
    rule: str = GUARD,
    sqlstate: str = "23503",
) -> DBAPIError:
    """``statement`` is refused by ``rule`` (foreign_key_violation unless told) with a message matching ``match``,
    and none of its rows stays."""
    before = await transfer_count(sessions)
    error = await refused(sessions, statement, params, rule, sqlstate=sqlstate, match=match)
    assert await transfer_count(sessions) == before
    return error


@pytest.mark.parametrize(
    ("bad_row", "side", "pattern"),
    [
        (1, "debit", r"its debit account 9000000000 does not exist"),
        (2, "credit", r"its credit account 9000000000 does not exist"),
        (3, "debit", r"its debit account \d+ does not exist or does not hold asset"),
    ],
)
async def test_one_bad_row_refuses_the_whole_insert(
    sessions: Sessions, world: World, bad_row: int, side: str, pattern: str
) -> None:
    a, b = world.cny_accounts
    rows = dict.fromkeys((1, 2, 3), (a, b))
    if bad_row == 3:
        rows[3] = (world.credit_accounts[0], b)  # an account of another asset
    elif side == "debit":
        rows[bad_row] = (MISSING, b)
    else:
        rows[bad_row] = (a, MISSING)
    ids = {name: str(uuid.uuid4()) for name in ("first", "second", "third")}
    values: dict[str, object] = {
        **ids,
        "asset": world.cny,
        **{f"d{n}": rows[n][0] for n in rows},
        **{f"c{n}": rows[n][1] for n in rows},
    }
    cause = (await _refused_whole(sessions, INSERT_THREE, values, pattern)).orig.__cause__
    assert isinstance(cause, asyncpg.ForeignKeyViolationError)
    assert str(list(ids.values())[bad_row - 1]) in str(cause)


async def test_rows_whose_accounts_hold_the_asset_pass(sessions: Sessions, world: World) -> None:
    a, b = world.cny_accounts
    values = {
        "first": "00000000-0000-7000-8000-000000000001",
        "second": "00000000-0000-7000-8000-000000000002",
        "third": "00000000-0000-7000-8000-000000000003",
        "asset": world.cny,
        "d1": a, "c1": b, "d2": b, "c2": a, "d3": world.cny_source, "c3": a,
    }  # fmt: skip
    before = await transfer_count(sessions)
    async with unit_of_work(sessions) as session:
        await session.execute(text(INSERT_THREE), values)
    assert await transfer_count(sessions) == before + 3


async def test_0027_swaps_the_foreign_keys_for_the_statement_guard_and_back(empty_database: EmptyDatabase) -> None:
    database = empty_database
    guards = GUARDS  # triggers and foreign keys on transfer, as the test of 0006 reads them
    foreign_keys = ["fk_transfer_credit_account_id_asset_id_account", "fk_transfer_debit_account_id_asset_id_account"]
    await database.upgrade("0026")
    before = await database.fetchval(guards)
    assert set(foreign_keys) <= set(before)
    assert "transfer_accounts_exist" not in before
    await database.upgrade("0027")
    after = await database.fetchval(guards)
    assert not set(foreign_keys) & set(after)
    assert "transfer_accounts_exist" in after
    await database.downgrade("0026")
    assert await database.fetchval(guards) == before


async def test_a_single_row_on_another_asset_names_its_credit_side(sessions: Sessions, world: World) -> None:
    other = world.credit_accounts[0]
    transfer = str(uuid.uuid4())
    params = direct_transfer(world, id=transfer, credit=other)
    match = rf"transfer {transfer}: its credit account {other} does not exist or does not hold asset {world.cny}"
    await _refused_whole(sessions, DIRECT_TRANSFER, params, match)


async def test_one_bad_row_among_a_thousand_is_found(sessions: Sessions, world: World) -> None:
    a, b = world.cny_accounts
    ids = [str(uuid.uuid4()) for _ in range(1_000)]
    debits = [a if index % 2 else b for index in range(1_000)]
    credits = [b if index % 2 else a for index in range(1_000)]
    credits[700] = MISSING
    params: dict[str, object] = {"ids": ids, "debits": debits, "credits": credits, "asset": world.cny}
    await _refused_whole(sessions, INSERT_MANY, params, rf"transfer {ids[700]}: its credit account {MISSING} does not")


async def test_0028_replaces_the_guard_query_and_back(empty_database: EmptyDatabase) -> None:
    database = empty_database
    source = "SELECT prosrc FROM pg_proc WHERE proname = 'ledger_transfer_accounts_exist'"
    await database.upgrade("0027")
    before = await database.fetchval(source)
    assert "OFFSET 0" in before
    await database.upgrade("0028")
    after = await database.fetchval(source)
    assert "count(*)" in after
    assert "OFFSET 0" not in after
    await database.downgrade("0027")
    assert await database.fetchval(source) == before


async def _pending_of_40(sessions: Sessions, world: World) -> uuid.UUID:
    """A pending transfer of 40 from the first CNY holder to the second, through the posting functions."""
    a, b = world.cny_accounts
    pending = spec(a, b, 40, flags=TransferFlags.PENDING, code="freeze")
    assert await post(sessions, spec(world.cny_source, a, 100, code="deposit"), pending) == [ResultCode.OK] * 2
    return pending.id


def _two_rows(world: World, first: dict[str, object], second: dict[str, object]) -> dict[str, object]:
    """``INSERT_TWO``'s parameters: two plain transfers of 1 from the first CNY holder to the second, each row with
    its changes (``post`` and ``pending_id`` make it a post of that pending)."""
    a, b = world.cny_accounts
    plain = {"debit": a, "credit": b, "amount": 1, "code": "trade", "pending": False, "post": False, "void": False}
    values: dict[str, object] = {"asset": world.cny}
    for n, changes in ((1, first), (2, second)):
        row = {"id": str(uuid.uuid4()), **plain, "pending_id": None} | changes
        values |= {f"{field}{n}": value for field, value in row.items()}
    return values


async def test_a_forged_resolution_is_named_before_a_bad_account_of_an_earlier_row(
    sessions: Sessions, world: World
) -> None:
    """As when resolutions had a row trigger of their own (0006), which fired before the statement's."""
    pending = await _pending_of_40(sessions, world)
    resolution = {"post": True, "pending_id": str(pending)}
    values = _two_rows(world, {"debit": MISSING}, resolution | {"amount": 41})  # 41 is more than the pending holds
    match = rf"transfer {values['id2']}: a post or void must match its pending transfer"
    await _refused_whole(sessions, INSERT_TWO, values, match, rule=RESOLUTION)


async def test_a_sound_resolution_beside_a_bad_account_names_the_account(sessions: Sessions, world: World) -> None:
    pending = await _pending_of_40(sessions, world)
    values = _two_rows(world, {"amount": 40, "post": True, "pending_id": str(pending)}, {"credit": MISSING})
    match = rf"transfer {values['id2']}: its credit account {MISSING} does not exist"
    await _refused_whole(sessions, INSERT_TWO, values, match)


async def test_a_sound_resolution_passes(sessions: Sessions, world: World) -> None:
    """Directly inserted, so no balance moves: only the guards are looked at here."""
    pending = await _pending_of_40(sessions, world)
    a, b = world.cny_accounts
    before = await transfer_count(sessions)
    async with unit_of_work(sessions) as session:
        resolution = {"amount": 30, "post": True, "pending_id": str(pending)}
        await session.execute(text(INSERT_TWO), _two_rows(world, resolution, {"debit": b, "credit": a}))
    assert await transfer_count(sessions) == before + 2


async def test_0029_merges_the_two_triggers_and_back(empty_database: EmptyDatabase) -> None:
    database = empty_database
    sources = (
        "SELECT array_agg(proname || ': ' || prosrc ORDER BY proname) FROM pg_proc WHERE proname IN "
        "('ledger_transfer_accounts_exist', 'ledger_resolution_matches_pending', 'ledger_transfer_references')"
    )
    await database.upgrade("0028")
    guards, functions = await database.fetchval(GUARDS), await database.fetchval(sources)
    assert {GUARD, RESOLUTION} <= set(guards)
    await database.upgrade("0029")
    merged = await database.fetchval(GUARDS)
    assert "transfer_references_hold" in merged
    assert not {GUARD, RESOLUTION} & set(merged)
    assert [source.split(":")[0] for source in await database.fetchval(sources)] == ["ledger_transfer_references"]
    await database.downgrade("0028")
    assert await database.fetchval(GUARDS) == guards
    assert await database.fetchval(sources) == functions


async def test_a_broken_rule_is_named_before_a_bad_account_of_an_earlier_row(sessions: Sessions, world: World) -> None:
    """The rules were a CHECK, which failed as the row was written, before any AFTER trigger (0031)."""
    values = _two_rows(world, {"debit": MISSING}, {"pending": True, "void": True})  # a pending that is also a void
    match = rf"transfer {values['id2']}: violates check constraint \"ck_transfer_flags_exclusive\""
    await _refused_whole(sessions, INSERT_TWO, values, match, rule="ck_transfer_flags_exclusive", sqlstate="23514")


@pytest.mark.parametrize(
    ("one_account", "code", "void", "rule"),
    [
        (True, "Trade", False, "ck_transfer_accounts_differ"),  # two rules broken: the first by name is named
        (False, "Trade", False, "ledger_code_format"),
        (False, "trade", True, "ck_transfer_pending_id_iff_resolution"),  # a void without its pending
    ],
)
async def test_the_first_rule_a_row_breaks_is_named(
    sessions: Sessions, world: World, one_account: bool, code: str, void: bool, rule: str
) -> None:
    second = {"code": code, "void": void} | ({"credit": world.cny_accounts[0]} if one_account else {})
    values = _two_rows(world, {}, second)
    match = rf"transfer {values['id2']}: .*\"{rule}\""
    await _refused_whole(sessions, INSERT_TWO, values, match, rule=rule, sqlstate="23514")


async def test_a_non_positive_amount_is_refused_by_the_amount_domain(sessions: Sessions, world: World) -> None:
    params = direct_transfer(world, amount=0)
    error = await refused(sessions, DIRECT_TRANSFER, params, "ledger_amount_positive")
    assert "value for domain ledger_amount violates check constraint" in str(error)


async def test_0031_moves_the_transfer_rules_into_the_trigger_and_back(empty_database: EmptyDatabase) -> None:
    database = empty_database
    rules = (
        "SELECT array_agg(rule ORDER BY rule) FROM (SELECT t.typname || '.' || c.conname || ': ' "
        "|| pg_get_constraintdef(c.oid) AS rule FROM pg_constraint c JOIN pg_type t ON t.oid = c.contypid "
        "WHERE t.typname IN ('ledger_transfer_rules', 'ledger_amount')) r"
    )
    shape = (
        "SELECT format_type(atttypid, atttypmod) || ' ' || (SELECT count(*) FROM pg_constraint "
        "WHERE conrelid = 'transfer'::regclass AND conname = 'ck_transfer_rules') "
        "FROM pg_attribute WHERE attrelid = 'transfer'::regclass AND attname = 'amount'"
    )
    source = "SELECT prosrc FROM pg_proc WHERE proname = 'ledger_transfer_references'"
    await database.upgrade("0030")
    before = [await database.fetchval(query) for query in (rules, shape, source)]
    assert len(before[0]) == 7
    assert before[1] == "bigint 1"
    await database.upgrade("0031")
    assert await database.fetchval(rules) == ["ledger_amount.ledger_amount_positive: CHECK ((VALUE > 0))"]
    assert await database.fetchval(shape) == "ledger_amount 0"
    assert "ck_transfer_timeout_only_pending" in await database.fetchval(source)
    await database.downgrade("0030")
    assert [await database.fetchval(query) for query in (rules, shape, source)] == before
