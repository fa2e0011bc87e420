"""Migration 0030 rebuilds ``account`` with its fixed-width, never-NULL columns first: rows, identity, storage and
every guard on the table stay as they were, and the downgrade puts the old order back the same way."""

from __future__ import annotations

import uuid

import asyncpg
import pytest

from tests.conftest import EmptyDatabase

ORDER = (
    "SELECT array_agg(attname::text ORDER BY attnum) FROM pg_attribute "
    "WHERE attrelid = 'account'::regclass AND attnum > 0 AND NOT attisdropped"
)
# Everything on the table but the order of its columns, as text to compare.
DEFINITION = """
SELECT json_build_object(
    'columns', (SELECT json_agg(json_build_array(a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull,
                                                 pg_get_expr(d.adbin, d.adrelid), a.attidentity) ORDER BY a.attname)
                  FROM pg_attribute a LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
                 WHERE a.attrelid = 'account'::regclass AND a.attnum > 0 AND NOT a.attisdropped),
    'constraints', (SELECT json_agg(json_build_array(conrelid::regclass::text, conname, pg_get_constraintdef(oid))
                                    ORDER BY conrelid::regclass::text, conname)
                      FROM pg_constraint
                     WHERE conrelid IN ('account'::regclass, 'serial_range'::regclass)),
    'rules', (SELECT json_agg(json_build_array(conname, pg_get_constraintdef(oid)) ORDER BY conname)
                FROM pg_constraint WHERE contypid = 'ledger_account_rules'::regtype),
    'indexes', (SELECT json_agg(pg_get_indexdef(indexrelid) ORDER BY indexrelid::regclass::text)
                  FROM pg_index WHERE indrelid = 'account'::regclass),
    'triggers', (SELECT json_agg(pg_get_triggerdef(oid) ORDER BY tgname)
                   FROM pg_trigger WHERE tgrelid = 'account'::regclass AND NOT tgisinternal),
    'options', (SELECT reloptions FROM pg_class WHERE oid = 'account'::regclass),
    'sequence', pg_get_serial_sequence('account', 'id')
)::text
"""
# to_jsonb keys a row by column name, so the rows compare whatever the order of the columns.
ROWS = "SELECT json_agg(to_jsonb(account) ORDER BY id)::text FROM account"
FIXED_FIRST = [
    "id", "asset_id", "sub_account",
    "debits_must_not_exceed_credits", "credits_must_not_exceed_debits", "retired", "holds_serials", "serialized",
    "debits_posted", "credits_posted", "debits_pending", "credits_pending", "created_at", "owner_id", "purpose",
]  # fmt: skip


async def _a_small_ledger(dsn: str) -> None:
    """Two assets, a system account and two held by an organisation, and transfers that move their balances."""
    connection = await asyncpg.connect(dsn)
    try:
        organisation = await connection.fetchval(
            "INSERT INTO organisation (name, role) VALUES ('alpha', 'enterprise') RETURNING id"
        )
        cny = await connection.fetchval(
            "INSERT INTO asset (code, kind, name, unit) VALUES ('CNY', 'currency', 'Renminbi', 'fen') RETURNING id"
        )
        await connection.execute(
            "INSERT INTO asset (code, kind, name, unit) VALUES ('BSC-1', 'credit_batch', 'Credits', 'tCO2e')"
        )
        open_account = "INSERT INTO account (asset_id, owner_id, purpose) VALUES ($1, $2, $3) RETURNING id"
        source = await connection.fetchval(open_account, cny, None, "issuance")
        holder = await connection.fetchval(open_account, cny, organisation, "available")
        held = await connection.fetchval(open_account, cny, organisation, "held")
        post = "SELECT ledger_post_single($1, $2, $3, $4, $5, 'trade', $6, NULL, NULL)"
        assert await connection.fetchval(post, uuid.uuid4(), source, holder, 500, cny, 0) == "ok"
        assert await connection.fetchval(post, uuid.uuid4(), holder, held, 120, cny, 2) == "ok"  # pending
    finally:
        await connection.close()


async def _snapshot(database: EmptyDatabase) -> tuple[list[str], str, str]:
    return await database.fetchval(ORDER), await database.fetchval(DEFINITION), await database.fetchval(ROWS)


async def test_0030_puts_fixed_columns_first_and_keeps_everything_else(empty_database: EmptyDatabase) -> None:
    database = empty_database
    await database.upgrade("0029")
    await _a_small_ledger(database.dsn)
    order, definition, rows = await _snapshot(database)
    assert order.index("purpose") < order.index("debits_posted")

    await database.upgrade("0030")
    assert await _snapshot(database) == (FIXED_FIRST, definition, rows)
    connection = await asyncpg.connect(database.dsn)
    try:
        # The identity carries on, and the guards still guard: an overdraft is refused by the rules' domain.
        newest = await connection.fetchval("SELECT max(id) FROM account")
        asset = await connection.fetchval("SELECT id FROM asset WHERE code = 'CNY'")
        opened = await connection.fetchval(
            "INSERT INTO account (asset_id, purpose, sub_account, debits_must_not_exceed_credits) "
            "VALUES ($1, 'fees', 1, true) RETURNING id",
            asset,
        )
        assert opened == newest + 1
        with pytest.raises(asyncpg.CheckViolationError, match="ck_account_debits_within_credits"):
            await connection.execute("UPDATE account SET debits_posted = 1 WHERE id = $1", opened)
        with pytest.raises(asyncpg.RestrictViolationError, match="DELETE on account is not allowed"):
            await connection.execute("DELETE FROM account WHERE id = $1", opened)
    finally:
        await connection.close()

    order, definition, rows = await _snapshot(database)
    await database.downgrade("0029")
    back = await _snapshot(database)
    assert back[1:] == (definition, rows)
    assert back[0].index("purpose") < back[0].index("debits_posted")
    await database.upgrade("0030")
    assert await _snapshot(database) == (FIXED_FIRST, definition, rows)
