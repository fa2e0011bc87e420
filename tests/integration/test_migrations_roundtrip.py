"""Every migration can be undone: head down to base leaves an empty schema, and up again reaches head."""

from __future__ import annotations

from services.migrate import head_revision
from tests.conftest import EmptyDatabase

# What the migrations created in the public schema and the downgrades must take away again.
LEFT_BEHIND = """
SELECT array_agg(kind || ' ' || name ORDER BY kind, name) FROM (
    SELECT 'table' AS kind, tablename::text AS name FROM pg_tables
     WHERE schemaname = 'public' AND tablename <> 'alembic_version'
    UNION ALL
    SELECT 'function', proname::text FROM pg_proc WHERE pronamespace = 'public'::regnamespace
    UNION ALL
    SELECT 'type', typname::text FROM pg_type
     WHERE typnamespace = 'public'::regnamespace AND typtype IN ('d', 'c', 'e')
       AND (typrelid = 0 OR (SELECT relkind FROM pg_class WHERE oid = typrelid) = 'c')  -- not a table's row type
) objects
"""


async def test_head_down_to_base_and_up_again(empty_database: EmptyDatabase) -> None:
    database = empty_database
    await database.upgrade("head")
    created = await database.fetchval(LEFT_BEHIND)
    assert "table transfer" in created
    assert "type ledger_account_rules" in created  # 0016: the domain is over the table's own row type
    assert "type ledger_amount" in created  # 0031: the transfer's other rules are its statement trigger's
    assert "type ledger_transfer_rules" not in created
    await database.downgrade("base")
    assert await database.fetchval(LEFT_BEHIND) is None
    await database.upgrade("head")
    assert await database.fetchval("SELECT version_num FROM alembic_version") == head_revision()
    assert await database.fetchval(LEFT_BEHIND) == created
