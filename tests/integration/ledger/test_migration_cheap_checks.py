"""Migrations 0008 and 0009: cheaper account rules (every rule still holds at head); batches lock through the index."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from domain.ledger.codes import ResultCode
from domain.ledger.transfers import TransferSpec
from services import ledger
from services.db import unit_of_work
from tests.conftest import EmptyDatabase
from tests.integration.ledger.conftest import DIRECT_TRANSFER, World, direct_transfer, refused

Sessions = async_sessionmaker[AsyncSession]

CHECKS = (
    "SELECT array_agg(conname::text ORDER BY conname) FROM pg_constraint "
    "WHERE conrelid = 'account'::regclass AND contype = 'c'"
)
BALANCE_TYPES = (
    "SELECT array_agg(format_type(atttypid, atttypmod) ORDER BY attname) FROM pg_attribute "
    "WHERE attrelid = 'account'::regclass "
    "AND attname IN ('debits_posted', 'credits_posted', 'debits_pending', 'credits_pending')"
)
AT_0007 = [
    "ck_account_balances_non_negative",
    "ck_account_credits_within_debits",
    "ck_account_debits_within_credits",
    "ck_account_flags_exclusive",
    "ck_account_holds_serials_non_negative",
    "ck_account_holds_serials_serialized",
    "ck_account_purpose_format",
    "ck_account_retired_never_debited",
    "ck_account_sub_account_range",
]
AT_0008 = ["ck_account_credits_within_debits", "ck_account_debits_within_credits", "ck_account_retired_never_debited"]


async def shape(database: EmptyDatabase) -> tuple[list[str], list[str]]:
    return list(await database.fetchval(CHECKS)), list(await database.fetchval(BALANCE_TYPES))


async def source(database: EmptyDatabase, function: str) -> str:
    found: str = await database.fetchval("SELECT prosrc FROM pg_proc WHERE proname = $1", function)
    return found


async def test_0008_moves_the_rules_and_its_downgrade_puts_them_back(empty_database: EmptyDatabase) -> None:
    database = empty_database
    await database.upgrade("0007")
    assert await shape(database) == (AT_0007, ["bigint"] * 4)
    await database.upgrade("0008")
    assert await shape(database) == (AT_0008, ["ledger_balance"] * 4)
    await database.downgrade("0007")
    assert await shape(database) == (AT_0007, ["bigint"] * 4)
    assert "EXCEPTION WHEN unique_violation" in await source(database, "ledger_post_single")
    await database.upgrade("0009")
    assert await shape(database) == (AT_0008, ["ledger_balance"] * 4)
    assert "WHERE id = ANY (ARRAY(SELECT unnest(p_debit)" in await source(database, "ledger_post")
    await database.downgrade("0008")
    assert "WHERE id IN (SELECT unnest(p_debit)" in await source(database, "ledger_post")


NEW_ACCOUNT = (
    "INSERT INTO account (asset_id, purpose, sub_account, debits_must_not_exceed_credits, "
    "credits_must_not_exceed_debits) VALUES (:asset, :purpose, :sub, :dmnec, :cmned)"
)


@pytest.mark.parametrize(
    ("purpose", "sub", "dmnec", "cmned", "rule"),
    [
        ("Available", 0, True, False, "ck_account_purpose_format"),
        ("available; drop", 0, True, False, "ck_account_purpose_format"),
        ("available", 1024, True, False, "ck_account_sub_account_range"),
        ("available", -1, True, False, "ck_account_sub_account_range"),
        ("available", 7, True, True, "ck_account_flags_exclusive"),
    ],
)
async def test_insert_rules_refuse_a_malformed_account(
    sessions: Sessions, world: World, purpose: str, sub: int, dmnec: bool, cmned: bool, rule: str
) -> None:
    params = {"asset": world.cny, "purpose": purpose, "sub": sub, "dmnec": dmnec, "cmned": cmned}
    await refused(sessions, NEW_ACCOUNT, params, rule)
    async with sessions() as session:
        assert (await session.execute(text("SELECT count(*) FROM account WHERE sub_account = 7"))).scalar_one() == 0


async def test_a_well_formed_account_is_accepted_and_its_serial_flags_derived(sessions: Sessions, world: World) -> None:
    async with unit_of_work(sessions) as session:
        row = (
            await session.execute(
                text(NEW_ACCOUNT + " RETURNING serialized, holds_serials"),
                {"asset": world.credits, "purpose": "available", "sub": 1023, "dmnec": True, "cmned": False},
            )
        ).one()
    assert (row.serialized, row.holds_serials) == (True, True)


@pytest.mark.parametrize("column", ["debits_posted", "credits_posted", "debits_pending", "credits_pending"])
async def test_no_balance_can_go_negative(sessions: Sessions, world: World, column: str) -> None:
    # An account whose limit flag still holds at -1 (a holder's debits, the issuance source's credits), so that
    # only the non-negativity rule refuses.
    account = world.cny_accounts[0] if column.startswith("debits") else world.cny_source
    statement = f"UPDATE account SET {column} = -1 WHERE id = :id"
    await refused(sessions, statement, {"id": account}, "ledger_balance_non_negative")


async def test_balance_flags_and_retirement_are_still_check_constraints(sessions: Sessions, world: World) -> None:
    holder, _ = world.cny_accounts
    await refused(
        sessions,
        "UPDATE account SET debits_posted = 1 WHERE id = :id",
        {"id": holder},
        "ck_account_debits_within_credits",
    )
    await refused(
        sessions,
        "UPDATE account SET debits_pending = 1 WHERE id = :id",
        {"id": holder},
        "ck_account_debits_within_credits",
    )
    await refused(
        sessions,
        "UPDATE account SET debits_pending = 1, credits_posted = 5 WHERE id = :id",
        {"id": world.retired},
        "ck_account_retired_never_debited",
    )
    async with sessions() as session:
        row = (
            await session.execute(
                text("SELECT debits_posted, debits_pending, credits_posted FROM account WHERE id = :id"),
                {"id": holder},
            )
        ).one()
    assert tuple(row) == (0, 0, 0)


async def test_a_batch_locks_its_accounts_without_reading_every_account(sessions: Sessions, world: World) -> None:
    """Migration 0009: posting a small batch among thousands of accounts uses the index, never a scan of them all."""
    async with unit_of_work(sessions) as session:
        await session.execute(
            text(
                "INSERT INTO account (asset_id, owner_id, purpose, sub_account) "
                "SELECT :asset, :owner, 'escrow', n FROM generate_series(0, 1023) n"
            ),
            {"asset": world.cny, "owner": world.organisations[0]},
        )
        await session.execute(
            text(
                "INSERT INTO account (asset_id, owner_id, purpose, sub_account) "
                "SELECT :asset, :owner, 'escrow', n FROM generate_series(0, 1023) n"
            ),
            {"asset": world.cny, "owner": world.organisations[1]},
        )
    async with sessions() as session:
        await session.execute(text("ANALYZE account"))
        await session.commit()
    a, b = world.cny_accounts
    specs = [
        TransferSpec(uuid.uuid4(), world.cny_source, a, 50, "deposit"),
        TransferSpec(uuid.uuid4(), world.cny_source, b, 50, "deposit"),
        TransferSpec(uuid.uuid4(), a, b, 20, "trade"),
    ]
    # The view counts this backend's scans not yet flushed to the shared statistics: compare before and after.
    scans = text("SELECT coalesce(max(seq_scan), 0) FROM pg_stat_xact_user_tables WHERE relname = 'account'")
    async with unit_of_work(sessions) as session:
        # The plan a busy server settles on (after five calls PostgreSQL keeps one generic plan per statement).
        await session.execute(text("SET LOCAL plan_cache_mode = force_generic_plan"))
        before = (await session.execute(scans)).scalar_one()
        results = await ledger.post(session, specs)
        after = (await session.execute(scans)).scalar_one()
    assert [result.code for result in results] == [ResultCode.OK] * 3
    assert after == before


TRANSFER_TYPES = (
    "SELECT array_agg(format_type(atttypid, atttypmod) ORDER BY attname) FROM pg_attribute "
    "WHERE attrelid = 'transfer'::regclass AND attname IN ('amount', 'code', 'reference')"
)


async def test_0010_moves_the_transfer_column_rules_to_domains_and_back(empty_database: EmptyDatabase) -> None:
    database = empty_database
    await database.upgrade("0010")
    assert await database.fetchval(TRANSFER_TYPES) == ["ledger_amount", "ledger_code", "ledger_reference"]
    await database.downgrade("0009")
    assert await database.fetchval(TRANSFER_TYPES) == ["bigint", "text", "text"]
    await database.upgrade("0010")
    assert await database.fetchval(TRANSFER_TYPES) == ["ledger_amount", "ledger_code", "ledger_reference"]


@pytest.mark.parametrize(
    ("amount", "code", "reference", "rule"),
    [
        (0, "trade", None, "ledger_amount_positive"),
        (-5, "trade", None, "ledger_amount_positive"),
        (5, "Trade", None, "ledger_code_format"),
        (5, "t" * 41, None, "ledger_code_format"),
        (5, "trade", "x" * 501, "ledger_reference_length"),
    ],
)
async def test_a_transfer_written_around_the_functions_still_meets_every_column_rule(
    sessions: Sessions, world: World, amount: int, code: str, reference: str | None, rule: str
) -> None:
    params = direct_transfer(world, amount=amount, code=code, reference=reference)
    await refused(sessions, DIRECT_TRANSFER, params, rule)
    async with sessions() as session:
        assert (await session.execute(text("SELECT count(*) FROM transfer"))).scalar_one() == 0
