"""An account's identity and flags never change and an account is never deleted, whoever writes to the table."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.db import unit_of_work
from tests.conftest import EmptyDatabase
from tests.integration.ledger.conftest import World

Sessions = async_sessionmaker[AsyncSession]


@pytest.mark.parametrize(
    "change",
    [
        "purpose = 'fees'",
        "sub_account = 9",
        "owner_id = NULL",
        "debits_must_not_exceed_credits = false",
        "credits_must_not_exceed_debits = true, debits_must_not_exceed_credits = false",
        "retired = true",
        "holds_serials = true, serialized = true",
    ],
)
async def test_identity_and_flags_cannot_change(sessions: Sessions, world: World, change: str) -> None:
    holder = world.cny_accounts[0]
    async with sessions() as session:
        before = (await session.execute(text("SELECT * FROM account WHERE id = :id"), {"id": holder})).one()
    async with sessions() as session, session.begin():
        with pytest.raises(DBAPIError, match="cannot change") as refused:
            await session.execute(text(f"UPDATE account SET {change} WHERE id = :id"), {"id": holder})
    assert getattr(refused.value.orig, "sqlstate", None) == "23001"
    async with sessions() as session:
        after = (await session.execute(text("SELECT * FROM account WHERE id = :id"), {"id": holder})).one()
    assert after == before


async def test_an_identity_another_account_has_is_refused_by_the_unique_key(sessions: Sessions, world: World) -> None:
    """The trigger runs after the row is written (migration 0025), so the unique key, which refuses first, names
    the reason; nothing changes either way."""
    holder = world.cny_accounts[0]  # its owner's held account of the same asset has purpose 'held'
    async with sessions() as session:
        before = (await session.execute(text("SELECT * FROM account WHERE id = :id"), {"id": holder})).one()
    async with sessions() as session, session.begin():
        with pytest.raises(DBAPIError, match="uq_account_owner_id_asset_id_purpose_sub_account") as refused:
            await session.execute(text("UPDATE account SET purpose = 'held' WHERE id = :id"), {"id": holder})
    assert getattr(refused.value.orig, "sqlstate", None) == "23505"
    async with sessions() as session:
        after = (await session.execute(text("SELECT * FROM account WHERE id = :id"), {"id": holder})).one()
    assert after == before


async def test_an_account_moves_to_another_asset_never(sessions: Sessions, world: World) -> None:
    # The held account: its owner has no held account of credits, so no unique key speaks first.
    async with sessions() as session, session.begin():
        with pytest.raises(DBAPIError, match="cannot change"):
            await session.execute(
                text("UPDATE account SET asset_id = :credits WHERE id = :id"),
                {"credits": world.credits, "id": world.cny_held[1]},
            )


async def test_balances_may_change_and_an_unchanged_identity_may_be_written_back(
    sessions: Sessions, world: World
) -> None:
    """The guard looks at values, not at the columns named: rewriting the same purpose is no change."""
    async with unit_of_work(sessions) as session:
        await session.execute(
            text("UPDATE account SET credits_posted = 5, purpose = purpose WHERE id = :id"),
            {"id": world.cny_accounts[0]},
        )
    async with sessions() as session:
        credits = (
            await session.execute(
                text("SELECT credits_posted FROM account WHERE id = :id"), {"id": world.cny_accounts[0]}
            )
        ).scalar_one()
    assert credits == 5


async def test_an_account_is_never_deleted(sessions: Sessions, world: World) -> None:
    async with sessions() as session, session.begin():
        with pytest.raises(DBAPIError):
            await session.execute(text("DELETE FROM account WHERE id = :id"), {"id": world.cny_accounts[1]})
    async with sessions() as session:
        count = await session.execute(
            text("SELECT count(*) FROM account WHERE id = :id"), {"id": world.cny_accounts[1]}
        )
        assert count.scalar_one() == 1


async def test_0018_drops_the_index_no_query_used(empty_database: EmptyDatabase) -> None:
    database = empty_database
    indexed = "SELECT to_regclass('ix_account_asset_id') IS NOT NULL"
    await database.upgrade("0017")
    assert await database.fetchval(indexed)
    await database.upgrade("0018")
    assert not await database.fetchval(indexed)
    await database.downgrade("0017")
    assert await database.fetchval(indexed)


async def test_0025_moves_the_identity_trigger_after_the_update(empty_database: EmptyDatabase) -> None:
    """A BEFORE UPDATE row trigger locks every updated row before its column list is read; 0025 makes it AFTER."""
    database = empty_database
    # tgtype bit 1 (value 2) marks a BEFORE trigger; the rest of the definition stays as it was.
    timing = "SELECT tgtype & 2 = 2 FROM pg_trigger WHERE tgname = 'account_identity_fixed'"
    columns = "SELECT array_length(tgattr, 1) FROM pg_trigger WHERE tgname = 'account_identity_fixed'"
    await database.upgrade("0024")
    assert await database.fetchval(timing) is True
    assert await database.fetchval(columns) == 10
    await database.upgrade("0025")
    assert await database.fetchval(timing) is False
    assert await database.fetchval(columns) == 10
    await database.downgrade("0024")
    assert await database.fetchval(timing) is True
