"""Migration 0020: the transfer code's rule in a form PostgreSQL checks faster, and the same rule as before.

Every code below gets the same answer from each place the database checks codes: the CHECK on the table (a transfer
written around the functions), ``ledger_post_single`` and ``ledger_post``. Each answer is also the one of the
Python rule the API applies, ``domain.ledger.transfers.CODE_FORMAT``.
"""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from domain.ledger.codes import ResultCode
from domain.ledger.transfers import CODE_FORMAT, TransferSpec
from services.db import unit_of_work
from services.ledger.posting import post
from tests.conftest import EmptyDatabase
from tests.integration.ledger.conftest import DIRECT_TRANSFER, World, direct_transfer, refused
from tests.integration.ledger.test_single_lighter import SOURCE

Sessions = async_sessionmaker[AsyncSession]

RULE = (
    "SELECT pg_get_constraintdef(c.oid) FROM pg_constraint c JOIN pg_type t ON t.oid = c.contypid "
    "WHERE t.typname = 'ledger_transfer_rules' AND c.conname = 'ledger_code_format'"
)
BATCH_SOURCE = "SELECT prosrc FROM pg_proc WHERE proname = 'ledger_post'"
BOUNDED = "{0,39}"

# Edge cases of "a lower-case letter, then at most 39 lower-case letters, digits or underscores".
GOOD = ["a", "deposit", "fee_2026", "a" * 40, "z9_" + "x" * 37]
BAD = [
    "",
    "a" * 41,
    "Deposit",
    "1deposit",
    "_deposit",
    "dep-osit",
    "dep osit",
    "deposit\n",
    "dépôt",  # letters outside a-z
    "a" + "é" * 19,  # 20 characters, 39 bytes: refused for its letters, not its length
    "ａ",  # a full-width a
]


async def test_0020_rewrites_the_rule_everywhere_and_its_downgrade_restores_it(empty_database: EmptyDatabase) -> None:
    database = empty_database
    await database.upgrade("0019")
    before = [await database.fetchval(query) for query in (RULE, SOURCE, BATCH_SOURCE)]
    assert all(BOUNDED in text for text in before)
    await database.upgrade("0020")
    rule, single, batch = [await database.fetchval(query) for query in (RULE, SOURCE, BATCH_SOURCE)]
    assert rule == "CHECK ((((VALUE).code ~ '^[a-z][a-z0-9_]*$'::text) AND (octet_length((VALUE).code) <= 40)))"
    assert BOUNDED not in single
    assert BOUNDED not in batch
    assert "p_code ~ '^[a-z][a-z0-9_]*$' AND octet_length(p_code) <= 40" in single  # the fast path
    assert "p_code !~ '^[a-z][a-z0-9_]*$' OR octet_length(p_code) > 40" in single  # the general path
    assert "p_code[i] !~ '^[a-z][a-z0-9_]*$' OR octet_length(p_code[i]) > 40" in batch
    await database.downgrade("0019")
    assert [await database.fetchval(query) for query in (RULE, SOURCE, BATCH_SOURCE)] == before


def test_the_cases_are_the_python_rules_own() -> None:
    assert all(CODE_FORMAT.match(code) for code in GOOD)
    assert not any(CODE_FORMAT.match(code) for code in BAD)


SINGLE = text(
    "SELECT ledger_post_single(CAST(:id AS uuid), CAST(:debit AS bigint), CAST(:credit AS bigint), 3, "
    "CAST(:asset AS integer), CAST(:code AS text), 0, NULL, NULL, CAST(:alone AS boolean))"
)


@pytest.mark.parametrize("code", GOOD + BAD)
@pytest.mark.parametrize("alone", [True, False], ids=["assumed_new", "on_conflict"])
async def test_ledger_post_single_answers_each_code_as_the_python_rule_does(
    sessions: Sessions, world: World, code: str, alone: bool
) -> None:
    arguments = {
        "id": uuid.uuid4(),
        "debit": world.cny_source,
        "credit": world.cny_accounts[0],
        "asset": world.cny,
        "code": code,
        "alone": alone,
    }
    async with unit_of_work(sessions) as session:
        answer = (await session.execute(SINGLE, arguments)).scalar_one()
    assert answer == ("ok" if code in GOOD else "code_invalid")
    async with sessions() as session:
        count = (await session.execute(text("SELECT count(*) FROM transfer WHERE id = :id"), arguments)).scalar_one()
    assert count == (1 if code in GOOD else 0)


async def test_ledger_post_answers_each_code_as_the_python_rule_does(sessions: Sessions, world: World) -> None:
    codes = GOOD + BAD
    specs = [
        TransferSpec(uuid.uuid4(), world.cny_source, world.cny_accounts[0], 2, code, asset_id=world.cny)
        for code in codes
    ]
    async with unit_of_work(sessions) as session:
        results = await post(session, specs)
    expected = [ResultCode.OK if code in GOOD else ResultCode.CODE_INVALID for code in codes]
    assert [result.code for result in results] == expected


@pytest.mark.parametrize("code", BAD)
async def test_the_table_refuses_each_bad_code_written_around_the_functions(
    sessions: Sessions, world: World, code: str
) -> None:
    await refused(sessions, DIRECT_TRANSFER, direct_transfer(world, code=code), "ledger_code_format")


@pytest.mark.parametrize("code", GOOD)
async def test_the_table_takes_each_good_code_written_around_the_functions(
    sessions: Sessions, world: World, code: str
) -> None:
    async with unit_of_work(sessions) as session:
        await session.execute(text(DIRECT_TRANSFER), direct_transfer(world, code=code))
    async with sessions() as session:
        stored = (await session.execute(text("SELECT array_agg(code) FROM transfer"))).scalar_one()
    assert stored == [code]
