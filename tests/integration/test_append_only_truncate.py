"""Migration 0014: the append-only tables refuse TRUNCATE, which their row triggers never saw."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.conftest import EmptyDatabase

GUARDED = (
    "SELECT array_agg(tgrelid::regclass::text ORDER BY tgrelid::regclass::text) FROM pg_trigger "
    "WHERE tgname LIKE '%\\_never\\_truncated'"
)
APPEND_ONLY_BY_ROW = (
    "SELECT array_agg(DISTINCT tgrelid::regclass::text ORDER BY tgrelid::regclass::text) FROM pg_trigger t "
    "JOIN pg_proc p ON p.oid = t.tgfoid WHERE p.proname = 'reject_change' AND t.tgname NOT LIKE '%\\_never\\_truncated'"
)


async def test_every_append_only_table_is_guarded_and_the_downgrade_removes_the_guards(
    empty_database: EmptyDatabase,
) -> None:
    database = empty_database
    await database.upgrade("0014")
    guarded = await database.fetchval(GUARDED)
    # Every table a row trigger keeps append-only, as of 0014 (18 of them): none was forgotten.
    assert guarded == await database.fetchval(APPEND_ONLY_BY_ROW)
    assert len(guarded) == 18
    await database.downgrade("0013")
    assert await database.fetchval(GUARDED) is None


@pytest.mark.parametrize("table", ["transfer", "ledger_block", "account", "audit_event", "retirement", "label_code"])
async def test_truncate_is_refused(sessions: async_sessionmaker[AsyncSession], table: str) -> None:
    async with sessions() as session, session.begin():
        with pytest.raises(DBAPIError, match=rf"TRUNCATE on {table} is not allowed") as refused:
            await session.execute(text(f"TRUNCATE {table} CASCADE"))
    assert getattr(refused.value.orig, "sqlstate", None) == "23001"


async def test_at_head_every_table_guarded_against_row_changes_is_guarded_against_truncate(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    """A table added later with a reject_change row trigger must get a BEFORE TRUNCATE guard too."""
    async with sessions() as session:
        guarded = (await session.execute(text(GUARDED))).scalar_one()
        append_only = (await session.execute(text(APPEND_ONLY_BY_ROW))).scalar_one()
    assert guarded == append_only
    assert "transfer" in guarded
