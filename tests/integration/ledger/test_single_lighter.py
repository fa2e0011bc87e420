"""Migrations 0013 and 0017: ``ledger_post_single`` made lighter, then given a fast path for plain transfers.

The rules and codes are unchanged: every argument refusal keeps its code and its order and writes nothing, and a
plain transfer and a pending each move exactly their own balances. A plain transfer that the fast path cannot
finish (a broken rule, an existing id, a serialized asset's serials) ends exactly as the general path ends it.
"""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.db import unit_of_work
from tests.conftest import EmptyDatabase
from tests.integration.ledger.conftest import World

Sessions = async_sessionmaker[AsyncSession]

CALL = text(
    "SELECT ledger_post_single(CAST(:id AS uuid), CAST(:debit AS bigint), CAST(:credit AS bigint), "
    "CAST(:amount AS bigint), CAST(:asset AS integer), CAST(:code AS text), CAST(:flags AS integer), "
    "CAST(:timeout AS integer), CAST(:reference AS text))"
)
BALANCES = text(
    "SELECT id, debits_posted, credits_posted, debits_pending, credits_pending FROM account "
    "WHERE id IN (:debit, :credit) ORDER BY id"
)


# The installed text of ``ledger_post_single`` (one function of that name at any revision).
SOURCE = "SELECT prosrc FROM pg_proc WHERE proname = 'ledger_post_single'"
SERIALS = text(
    "SELECT account_id, first_serial, last_serial FROM serial_range WHERE asset_id = :asset "
    "ORDER BY account_id, first_serial"
)


async def test_0013_edits_the_function_and_its_downgrade_restores_it(empty_database: EmptyDatabase) -> None:
    database = empty_database
    await database.upgrade("0012")
    before = await database.fetchval(SOURCE)
    assert "SET debits_posted = debits_posted + posted, debits_pending" in before
    await database.upgrade("0013")
    after = await database.fetchval(SOURCE)
    assert "refusal := CASE" in after
    assert "SET debits_pending = debits_pending + p_amount" in after
    assert "debits_posted + posted" not in after
    await database.downgrade("0012")
    assert await database.fetchval(SOURCE) == before


def _arguments(world: World, *, same_accounts: bool = False, **changes: object) -> dict[str, object]:
    arguments: dict[str, object] = {
        "id": uuid.uuid4(),
        "debit": world.cny_source,
        "credit": world.cny_accounts[0],
        "amount": 7,
        "asset": world.cny,
        "code": "deposit",
        "flags": 0,
        "timeout": None,
        "reference": None,
    }
    arguments.update(changes)
    if same_accounts:
        arguments["debit"] = arguments["credit"]
    return arguments


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"id": None}, "id_required"),
        ({"id": None, "code": "Bad"}, "id_required"),  # the first rule broken is the one named
        ({"code": None}, "code_invalid"),
        ({"code": "Deposit"}, "code_invalid"),
        ({"code": "d" * 41}, "code_invalid"),
        ({"code": "Bad", "reference": "x" * 501}, "code_invalid"),
        ({"reference": "x" * 501}, "reference_too_long"),
        ({"timeout": 30}, "timeout_reserved_for_pending_transfer"),
        ({"flags": 2, "timeout": -1}, "timeout_invalid"),
        ({"same_accounts": True}, "accounts_must_differ"),
        ({"same_accounts": True, "amount": 0}, "accounts_must_differ"),
        ({"amount": 0}, "amount_must_be_positive"),
        ({"amount": -3}, "amount_must_be_positive"),
        ({"amount": None}, "amount_must_be_positive"),
    ],
)
async def test_each_argument_refusal_keeps_its_code_and_writes_nothing(
    sessions: Sessions, world: World, changes: dict[str, object], code: str
) -> None:
    arguments = _arguments(world, **changes)
    async with unit_of_work(sessions) as session:
        answer = (await session.execute(CALL, arguments)).scalar_one()
    assert answer == code
    async with sessions() as session:
        assert (await session.execute(text("SELECT count(*) FROM transfer"))).scalar_one() == 0
        moved = (await session.execute(text("SELECT sum(debits_posted + debits_pending) FROM account"))).scalar_one()
    assert moved == 0


async def test_a_plain_transfer_moves_posted_balances_and_a_pending_only_pending_ones(
    sessions: Sessions, world: World
) -> None:
    plain = _arguments(world, amount=40)
    pending = _arguments(world, amount=15, flags=2, timeout=60)
    async with unit_of_work(sessions) as session:
        assert (await session.execute(CALL, plain)).scalar_one() == "ok"
        assert (await session.execute(CALL, pending)).scalar_one() == "ok"
        rows = (await session.execute(BALANCES, {"debit": plain["debit"], "credit": plain["credit"]})).all()
    source, holder = sorted(rows, key=lambda row: row.id != plain["debit"])
    assert tuple(source)[1:] == (40, 0, 15, 0)
    assert tuple(holder)[1:] == (0, 40, 0, 15)


async def test_a_refused_transfer_after_the_first_update_is_undone(sessions: Sessions, world: World) -> None:
    """A holder spends more than it holds. The other account has the lower id, so its UPDATE runs first and the
    refusal has to undo it, for a plain transfer and for a pending alike."""
    low, high = sorted(world.cny_accounts)
    async with unit_of_work(sessions) as session:
        funded = _arguments(world, credit=high, amount=10)
        assert (await session.execute(CALL, funded)).scalar_one() == "ok"
        for flags in (0, 2):
            overspend = _arguments(world, debit=high, credit=low, amount=11, flags=flags)
            assert (await session.execute(CALL, overspend)).scalar_one() == "exceeds_credits"
        rows = (await session.execute(BALANCES, {"debit": high, "credit": low})).all()
    assert [tuple(row) for row in rows] == [(low, 0, 0, 0, 0), (high, 0, 10, 0, 0)]


async def test_0017_adds_the_fast_path_and_its_downgrade_restores_0013s_function(empty_database: EmptyDatabase) -> None:
    database = empty_database
    await database.upgrade("0016")
    before = await database.fetchval(SOURCE)
    assert "The fast path" not in before
    await database.upgrade("0017")
    after = await database.fetchval(SOURCE)
    assert after.index("The fast path") < after.index("refusal := CASE") < after.index("<<apply>>")
    assert ":= false" not in after.split("BEGIN", 1)[0]  # no initial values left in DECLARE
    await database.downgrade("0016")
    assert await database.fetchval(SOURCE) == before


async def test_a_refusal_of_the_lower_account_leaves_both_untouched(sessions: Sessions, world: World) -> None:
    """The fast path's first UPDATE finds nothing: nothing to undo, and the general path names the rule."""
    low, high = sorted(world.cny_accounts)
    async with unit_of_work(sessions) as session:
        assert (await session.execute(CALL, _arguments(world, credit=low, amount=5))).scalar_one() == "ok"
        overspend = _arguments(world, debit=low, credit=high, amount=6)
        assert (await session.execute(CALL, overspend)).scalar_one() == "exceeds_credits"
        rows = (await session.execute(BALANCES, {"debit": low, "credit": high})).all()
    assert [tuple(row) for row in rows] == [(low, 0, 5, 0, 0), (high, 0, 0, 0, 0)]


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({}, "exists"),
        ({"amount": 8}, "exists_with_different_amount"),
        ({"code": "refund"}, "exists_with_different_code"),
        ({"reference": "again"}, "exists_with_different_reference"),
    ],
)
async def test_a_repeated_id_on_the_fast_path_is_undone_and_answered_by_the_general_path(
    sessions: Sessions, world: World, changes: dict[str, object], code: str
) -> None:
    first = _arguments(world, amount=7)
    async with unit_of_work(sessions) as session:
        assert (await session.execute(CALL, first)).scalar_one() == "ok"
    async with unit_of_work(sessions) as session:
        again = {**first, **changes}
        assert (await session.execute(CALL, again)).scalar_one() == code
        rows = (await session.execute(BALANCES, {"debit": first["debit"], "credit": first["credit"]})).all()
        count = (await session.execute(text("SELECT count(*) FROM transfer"))).scalar_one()
    assert count == 1
    source, holder = sorted(rows, key=lambda row: row.id != first["debit"])
    assert tuple(source)[1:] == (7, 0, 0, 0)
    assert tuple(holder)[1:] == (0, 7, 0, 0)


async def test_an_account_of_another_asset_is_refused_and_nothing_moves(sessions: Sessions, world: World) -> None:
    mismatch = _arguments(world, credit=world.credit_accounts[0])
    async with unit_of_work(sessions) as session:
        assert (await session.execute(CALL, mismatch)).scalar_one() == "asset_mismatch"
        moved = (await session.execute(text("SELECT sum(debits_posted + credits_posted) FROM account"))).scalar_one()
    assert moved == 0


async def test_a_serialized_transfer_on_the_fast_path_moves_the_lowest_serials(
    sessions: Sessions, world: World
) -> None:
    """Issue 100 credits (serials 1-100), then pass 30 on: the holder keeps 31-100 and the other holds 1-30."""
    holder, other = world.credit_accounts
    async with unit_of_work(sessions) as session:
        issue = _arguments(world, debit=world.credit_source, credit=holder, amount=100, asset=world.credits)
        assert (await session.execute(CALL, issue)).scalar_one() == "ok"
        move = _arguments(world, debit=holder, credit=other, amount=30, asset=world.credits)
        assert (await session.execute(CALL, move)).scalar_one() == "ok"
        ranges = (await session.execute(SERIALS, {"asset": world.credits})).all()
    assert sorted(tuple(row) for row in ranges) == sorted([(holder, 31, 100), (other, 1, 30)])
