"""Migration 0006 on its own database: the statement guard gives way to foreign keys and a row trigger, and back."""

from __future__ import annotations

from tests.conftest import EmptyDatabase

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


async def test_0006_swaps_the_guards_and_its_downgrade_restores_the_statement_guard(
    empty_database: EmptyDatabase,
) -> None:
    database = empty_database
    await database.upgrade("0005")
    assert await database.fetchval(GUARDS) == OLD
    await database.upgrade("0006")
    assert await database.fetchval(GUARDS) == FAST
    await database.downgrade("0005")
    assert await database.fetchval(GUARDS) == OLD
    await database.upgrade("0006")
    assert await database.fetchval(GUARDS) == FAST
