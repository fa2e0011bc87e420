"""Migration 0006 on its own database: the statement guard gives way to foreign keys and a row trigger, and back."""

from __future__ import annotations

import asyncio
import secrets

import asyncpg

from services.migrate import downgrade_sync, upgrade_sync
from tests.conftest import ServerUrls, _with_database

GUARDS = (
    "SELECT array_agg(name ORDER BY name) FROM ("
    " SELECT tgname AS name FROM pg_trigger WHERE tgrelid = 'transfer'::regclass AND NOT tgisinternal"
    " UNION ALL SELECT conname FROM pg_constraint WHERE conrelid = 'transfer'::regclass AND contype = 'f') g"
)
FAST = [
    "fk_transfer_credit_account_id_asset_id_account",
    "fk_transfer_debit_account_id_asset_id_account",
    "transfer_append_only",
    "transfer_resolution_matches_pending",
]
OLD = ["transfer_append_only", "transfer_guard"]


async def guards(dsn: str) -> list[str]:
    connection = await asyncpg.connect(dsn)
    try:
        return list(await connection.fetchval(GUARDS))
    finally:
        await connection.close()


async def test_0006_swaps_the_guards_and_its_downgrade_restores_the_statement_guard(servers: ServerUrls) -> None:
    name = f"bashan_migration_{secrets.token_hex(4)}"
    admin = await asyncpg.connect(servers.admin_dsn)
    await admin.execute(f'CREATE DATABASE "{name}"')
    url = _with_database(servers.database_url, name)
    dsn = _with_database(servers.admin_dsn, name)
    try:
        await asyncio.to_thread(upgrade_sync, url, "0005")
        assert await guards(dsn) == OLD
        await asyncio.to_thread(upgrade_sync, url, "0006")
        assert await guards(dsn) == FAST
        await asyncio.to_thread(downgrade_sync, url, "0005")
        assert await guards(dsn) == OLD
        await asyncio.to_thread(upgrade_sync, url, "0006")
        assert await guards(dsn) == FAST
    finally:
        await admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        await admin.close()
