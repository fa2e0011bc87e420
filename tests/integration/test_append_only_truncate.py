"""Migration 0014: the append-only tables refuse TRUNCATE, which their row triggers never saw."""

from __future__ import annotations

import asyncio
import importlib.util
import secrets
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.migrate import downgrade_sync, upgrade_sync
from tests.conftest import ServerUrls, _with_database

GUARDED = (
    "SELECT array_agg(tgrelid::regclass::text ORDER BY tgrelid::regclass::text) FROM pg_trigger "
    "WHERE tgname LIKE '%\\_never\\_truncated'"
)
APPEND_ONLY_BY_ROW = (
    "SELECT array_agg(DISTINCT tgrelid::regclass::text ORDER BY tgrelid::regclass::text) FROM pg_trigger t "
    "JOIN pg_proc p ON p.oid = t.tgfoid WHERE p.proname = 'reject_change' AND t.tgname NOT LIKE '%\\_never\\_truncated'"
)


def _append_only_tables() -> tuple[str, ...]:
    path = Path(__file__).parents[2] / "migrations" / "versions" / "2026_11_24_0014_append_only_truncate.py"
    spec = importlib.util.spec_from_file_location("bashan_migration_0014", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    tables: tuple[str, ...] = module.APPEND_ONLY
    return tables


async def test_every_append_only_table_is_guarded_and_the_downgrade_removes_the_guards(servers: ServerUrls) -> None:
    name = f"bashan_migration_{secrets.token_hex(4)}"
    admin = await asyncpg.connect(servers.admin_dsn)
    await admin.execute(f'CREATE DATABASE "{name}"')
    url = _with_database(servers.database_url, name)
    dsn = _with_database(servers.admin_dsn, name)

    async def fetch(query: str) -> list[str]:
        connection = await asyncpg.connect(dsn)
        try:
            return list(await connection.fetchval(query) or [])
        finally:
            await connection.close()

    try:
        await asyncio.to_thread(upgrade_sync, url, "0014")
        # The list in 0014 is every table a row trigger keeps append-only: none was forgotten.
        assert await fetch(GUARDED) == await fetch(APPEND_ONLY_BY_ROW) == sorted(_append_only_tables())
        await asyncio.to_thread(downgrade_sync, url, "0013")
        assert await fetch(GUARDED) == []
    finally:
        await admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        await admin.close()


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
