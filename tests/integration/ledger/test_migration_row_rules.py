"""Migrations 0012 and 0016: each row rule of account and transfer lives in one domain per table; each refuses."""

from __future__ import annotations

import asyncpg
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.conftest import EmptyDatabase
from tests.integration.ledger.conftest import DIRECT_TRANSFER, World, direct_transfer, refused

Sessions = async_sessionmaker[AsyncSession]

SHAPE = r"""
SELECT array_agg(name ORDER BY name) FROM (
    SELECT conrelid::regclass::text || '.' || conname AS name FROM pg_constraint
     WHERE conrelid IN ('account'::regclass, 'transfer'::regclass) AND contype = 'c'
    UNION ALL
    SELECT contypid::regtype::text || '.' || conname FROM pg_constraint
     WHERE contypid IN (SELECT oid FROM pg_type WHERE typtype = 'd' AND typname LIKE 'ledger\_%')
) constraints
"""
ACCOUNT_RULES = [
    "ck_account_credits_within_debits",
    "ck_account_debits_within_credits",
    "ck_account_retired_never_debited",
]
TRANSFER_RULES = [
    "ck_transfer_accounts_differ",
    "ck_transfer_flags_exclusive",
    "ck_transfer_pending_id_iff_resolution",
    "ck_transfer_timeout_only_pending",
]
COLUMN_RULES = {
    "ledger_balance": "ledger_balance_non_negative",
    "ledger_amount": "ledger_amount_positive",
    "ledger_code": "ledger_code_format",
    "ledger_reference": "ledger_reference_length",
}
AT_0011 = sorted(
    [f"account.{rule}" for rule in ACCOUNT_RULES]
    + [f"transfer.{rule}" for rule in TRANSFER_RULES]
    + [f"{domain}.{rule}" for domain, rule in COLUMN_RULES.items()]
)
AT_0012 = sorted(
    ["account.ck_account_rules", "transfer.ck_transfer_rules", "ledger_account_rules.ledger_balance_non_negative"]
    + [f"ledger_account_rules.{rule}" for rule in ACCOUNT_RULES]
    + [f"ledger_transfer_rules.{rule}" for rule in TRANSFER_RULES]
    + [
        f"ledger_transfer_rules.{rule}"
        for rule in ("ledger_amount_positive", "ledger_code_format", "ledger_reference_length")
    ]
)
COLUMN_TYPES = """
SELECT array_agg(attrelid::regclass::text || '.' || attname || ' ' || format_type(atttypid, atttypmod)
                 ORDER BY attrelid::regclass::text, attname)
  FROM pg_attribute
 WHERE (attrelid = 'account'::regclass
        AND attname = ANY ('{debits_posted,credits_posted,debits_pending,credits_pending}'))
    OR (attrelid = 'transfer'::regclass AND attname IN ('amount', 'code', 'reference'))
"""
BALANCES = ["credits_pending", "credits_posted", "debits_pending", "debits_posted"]
TYPES_0011 = [f"account.{column} ledger_balance" for column in BALANCES] + [
    "transfer.amount ledger_amount",
    "transfer.code ledger_code",
    "transfer.reference ledger_reference",
]
TYPES_0012 = [f"account.{column} bigint" for column in BALANCES] + [
    "transfer.amount bigint",
    "transfer.code text",
    "transfer.reference text",
]


async def test_0012_moves_the_rules_into_row_domains_and_its_downgrade_puts_them_back(
    empty_database: EmptyDatabase,
) -> None:
    database = empty_database

    async def shape() -> tuple[list[str], list[str]]:
        return await database.fetchval(SHAPE), await database.fetchval(COLUMN_TYPES)

    await database.upgrade("0011")
    assert await shape() == (AT_0011, TYPES_0011)
    await database.upgrade("0012")
    assert await shape() == (AT_0012, TYPES_0012)
    await database.downgrade("0011")
    assert await shape() == (AT_0011, TYPES_0011)
    await database.upgrade("0012")
    assert await shape() == (AT_0012, TYPES_0012)


DOMAIN_BASES = """
SELECT array_agg(typname || ' over ' || typbasetype::regtype::text ORDER BY typname)
  FROM pg_type WHERE typname IN ('ledger_account_rules', 'ledger_transfer_rules')
"""
ROW_DOMAINS = [
    "ledger_account_rules over ledger_account_rules_row",
    "ledger_transfer_rules over ledger_transfer_rules_row",
]
WHOLE_ROW_DOMAINS = ["ledger_account_rules over account", "ledger_transfer_rules over transfer"]
CHECKS = """
SELECT array_agg(pg_get_constraintdef(oid) ORDER BY conname) FROM pg_constraint
 WHERE conname IN ('ck_account_rules', 'ck_transfer_rules')
"""
WHOLE_ROW_CHECKS = [
    "CHECK (((account.*)::ledger_account_rules IS DISTINCT FROM NULL))",
    "CHECK (((transfer.*)::ledger_transfer_rules IS DISTINCT FROM NULL))",
]


async def test_0016_casts_the_whole_row_keeping_every_rule_and_its_downgrade_restores_the_row_types(
    empty_database: EmptyDatabase,
) -> None:
    database = empty_database

    async def shape() -> tuple[list[str], list[str]]:
        return await database.fetchval(SHAPE), await database.fetchval(DOMAIN_BASES)

    await database.upgrade("0015")
    assert await shape() == (AT_0012, ROW_DOMAINS)
    await database.upgrade("0016")
    assert await shape() == (AT_0012, WHOLE_ROW_DOMAINS)
    assert await database.fetchval(CHECKS) == WHOLE_ROW_CHECKS
    assert await database.fetchval("SELECT count(*) FROM pg_type WHERE typname LIKE 'ledger\\_%\\_rules\\_row'") == 0
    await database.downgrade("0015")
    assert await shape() == (AT_0012, ROW_DOMAINS)
    await database.upgrade("0016")
    assert await shape() == (AT_0012, WHOLE_ROW_DOMAINS)


async def test_at_0016_columns_can_be_added_but_a_type_change_needs_the_check_dropped_first(
    empty_database: EmptyDatabase,
) -> None:
    """What the whole-row cast means for later migrations, shown on a scratch database."""
    database = empty_database
    await database.upgrade("0016")
    for statement in ("ALTER TABLE transfer ADD COLUMN scratch integer", "ALTER TABLE account ADD COLUMN scratch text"):
        await database.fetchval(statement)
    if int(await database.fetchval("SHOW server_version_num")) < 180_000:
        # PostgreSQL 15 refuses (seen on the development machine's server); 18, the embedded one, allows it.
        with pytest.raises(
            asyncpg.FeatureNotSupportedError, match="ck_transfer_rules on table transfer uses its row type"
        ):
            await database.fetchval("ALTER TABLE transfer ALTER COLUMN scratch TYPE bigint")
    await database.fetchval("ALTER TABLE transfer DROP CONSTRAINT ck_transfer_rules")
    await database.fetchval("ALTER TABLE transfer ALTER COLUMN scratch TYPE bigint")
    await database.fetchval(
        "ALTER TABLE transfer ADD CONSTRAINT ck_transfer_rules "
        "CHECK ((transfer)::ledger_transfer_rules IS DISTINCT FROM NULL)"
    )
    for table in ("transfer", "account"):
        await database.fetchval(f"ALTER TABLE {table} DROP COLUMN scratch")


async def test_the_issuance_source_cannot_take_back_more_than_it_issued(sessions: Sessions, world: World) -> None:
    await refused(
        sessions,
        "UPDATE account SET credits_posted = 1 WHERE id = :id",
        {"id": world.cny_source},
        "ck_account_credits_within_debits",
    )


SOME_PENDING = "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b"


@pytest.mark.parametrize(
    ("same_accounts", "changes", "rule"),
    [
        (True, {}, "ck_transfer_accounts_differ"),
        (False, {"pending": True, "post_pending": True, "pending_id": SOME_PENDING}, "ck_transfer_flags_exclusive"),
        (False, {"pending_id": SOME_PENDING}, "ck_transfer_pending_id_iff_resolution"),
        (False, {"post_pending": True}, "ck_transfer_pending_id_iff_resolution"),
        (False, {"timeout": 60, "expires": True}, "ck_transfer_timeout_only_pending"),
        (False, {"pending": True, "timeout": 60}, "ck_transfer_timeout_only_pending"),
        (False, {"pending": True, "timeout": 0, "expires": True}, "ck_transfer_timeout_only_pending"),
    ],
)
async def test_a_transfer_written_around_the_functions_still_meets_every_rule_across_columns(
    sessions: Sessions, world: World, same_accounts: bool, changes: dict[str, object], rule: str
) -> None:
    await refused(sessions, DIRECT_TRANSFER, direct_transfer(world, same_accounts=same_accounts, **changes), rule)
    async with sessions() as session:
        assert (await session.execute(text("SELECT count(*) FROM transfer"))).scalar_one() == 0


async def test_a_well_formed_pending_written_directly_passes_the_rules(sessions: Sessions, world: World) -> None:
    """The table's CHECK is always true by itself: only the domain's rules refuse, so a legal row goes in."""
    params = direct_transfer(world, pending=True, timeout=60, expires=True)
    async with sessions() as session, session.begin():
        await session.execute(text(DIRECT_TRANSFER), params)
    async with sessions() as session:
        assert (await session.execute(text("SELECT count(*) FROM transfer WHERE pending"))).scalar_one() == 1
