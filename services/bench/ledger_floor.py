"""Row (f) of ``bashan bench ledger``: the floor, the same single transfer with none of the database's guards.

The floor copies the scratch database's accounts into ``bench_floor_account`` and posts into
``bench_floor_transfer``. Both have the ledger's columns (all of plain types since migration 0012; LIKE copies no
constraint) and only the indexes that a lookup needs: primary keys, the two statement indexes and the sealer's
order. The accounts keep the ledger's storage options (its fillfactor, migration 0021). The floor drops every rule
that only refuses a row: CHECKs, foreign keys, triggers and the unique pending index. Its function does what
``ledger_post_alone`` (migration 0022), which row (a) calls, does on its happy path: one UPDATE of both accounts,
locked in id order under the same planner settings, then a plain INSERT. The UPDATE and the settings are read from
the installed ``ledger_post_alone``.

What (a) costs beyond (f) is the price of the guards. What (f) costs beyond the baseline is the price of a
transfer itself: three rows written instead of one, and their WAL. If (f) itself stays below a target, no
amount of guard tuning will meet that target.
"""

from __future__ import annotations

import random
import re
from collections.abc import Sequence

import asyncpg

from domain.ledger.ids import new_transfer_id
from services.bench.common import Measurement, run_clients

FLOOR_SCHEMA = """
CREATE TABLE bench_floor_account (LIKE account INCLUDING DEFAULTS);
-- LIKE copies no storage options; the floor's pages are filled as the ledger's are (migration 0021's fillfactor).
DO $$
DECLARE
    options text := (SELECT array_to_string(reloptions, ', ') FROM pg_class WHERE oid = 'account'::regclass);
BEGIN
    IF options IS NOT NULL THEN
        EXECUTE format('ALTER TABLE bench_floor_account SET (%s)', options);
    END IF;
END $$;
INSERT INTO bench_floor_account SELECT * FROM account;
ALTER TABLE bench_floor_account ADD PRIMARY KEY (id);
CREATE TABLE bench_floor_start AS SELECT id, debits_posted, credits_posted FROM bench_floor_account;

CREATE TABLE bench_floor_transfer (LIKE transfer INCLUDING DEFAULTS INCLUDING IDENTITY);
-- LIKE copies column types, and with them a domain's check (the amount's, migration 0031): the floor has none.
ALTER TABLE bench_floor_transfer ALTER COLUMN amount TYPE bigint;
ALTER TABLE bench_floor_transfer ADD PRIMARY KEY (id);
CREATE INDEX ON bench_floor_transfer (debit_account_id, seq);
CREATE INDEX ON bench_floor_transfer (credit_account_id, seq);
CREATE INDEX ON bench_floor_transfer (xact_id, seq);
"""

# The floor's function: ledger_post_alone's happy path on the floor's tables. Its planner settings and its UPDATE
# are read from the installed ledger_post_alone (``floor_function``), so the two cannot drift apart.
FLOOR_FUNCTION = """
CREATE FUNCTION bench_floor_post(p_id uuid, p_debit bigint, p_credit bigint, p_amount bigint, p_asset integer,
                                 p_code text) RETURNS text LANGUAGE plpgsql
<settings>
AS $$
DECLARE
    touched integer;
BEGIN
    <update>;
    GET DIAGNOSTICS touched = ROW_COUNT;
    IF touched <> 2 THEN
        RAISE EXCEPTION 'floor transfer % refused', p_id;
    END IF;
    INSERT INTO bench_floor_transfer (id, debit_account_id, credit_account_id, asset_id, amount, code)
    VALUES (p_id, p_debit, p_credit, p_asset, p_amount, p_code);
    RETURN 'ok';
END $$;
"""
ALONE = "SELECT prosrc, proconfig FROM pg_proc WHERE proname = 'ledger_post_alone'"
_ALONE_UPDATE = re.compile(r"UPDATE account\b.*?;", re.DOTALL)

FLOOR_POST_SQL = "SELECT bench_floor_post($1, $2, $3, $4, $5, $6)"


def alone_update(source: str) -> str:
    """The one UPDATE of ``ledger_post_alone``'s installed text (its ``prosrc``), without its semicolon."""
    found = _ALONE_UPDATE.search(source)
    if found is None:
        raise RuntimeError("ledger_post_alone updates no account")
    return found.group(0).rstrip(";")


def floor_function(source: str, settings: Sequence[str]) -> str:
    """``FLOOR_FUNCTION`` with ``ledger_post_alone``'s UPDATE, aimed at the floor's accounts, and its settings."""
    update = alone_update(source).replace("UPDATE account", "UPDATE bench_floor_account", 1)
    clauses = "\n".join(f"SET {name} = {value}" for name, value in (item.split("=", 1) for item in settings))
    return FLOOR_FUNCTION.replace("<settings>", clauses).replace("<update>", update)


async def create_floor(dsn: str) -> None:
    """The floor's tables and function, next to the ledger in the scratch database, accounts copied as they are."""
    connection = await asyncpg.connect(dsn)
    try:
        await connection.execute(FLOOR_SCHEMA)
        source, settings = await connection.fetchrow(ALONE)
        await connection.execute(floor_function(source, settings or []))
    finally:
        await connection.close()


async def floor_transfers(
    dsn: str,
    connections: Sequence[asyncpg.Connection],
    asset_id: int,
    accounts: list[int],
    *,
    transfers: int,
    seed: int = 17,
    label: str = "floor transfers",
) -> Measurement:
    """``transfers`` single transfers, one per commit, one client per connection, posted on the floor."""
    rng = random.Random(seed)
    workload = []
    for _ in range(transfers):
        debit, credit = rng.sample(accounts, 2)
        workload.append((new_transfer_id(), debit, credit, rng.randint(1, 100), asset_id, "bench"))

    async def one(connection: asyncpg.Connection, unit: int) -> int:
        answer = await connection.fetchval(FLOOR_POST_SQL, *workload[unit])
        if answer != "ok":
            raise RuntimeError(f"floor transfer answered {answer}")
        return 1

    return await run_clients(
        "(f) floor: (a) with no guards",
        dsn,
        clients=len(connections),
        units=transfers,
        operation=one,
        label=label,
        connections=connections,
    )


async def floor_balances_match(dsn: str) -> bool:
    """The floor posted what it says: each account's balances moved by exactly its transfers since the copy."""
    connection = await asyncpg.connect(dsn)
    try:
        mismatched = await connection.fetchval(
            """
            WITH moved AS (
                SELECT account_id, sum(debit) AS debits, sum(credit) AS credits FROM (
                    SELECT debit_account_id AS account_id, amount AS debit, 0 AS credit FROM bench_floor_transfer
                    UNION ALL
                    SELECT credit_account_id, 0, amount FROM bench_floor_transfer) entries
                GROUP BY account_id)
            SELECT count(*) FROM moved
              JOIN bench_floor_account f ON f.id = moved.account_id
              JOIN bench_floor_start a ON a.id = moved.account_id
             WHERE f.debits_posted - a.debits_posted IS DISTINCT FROM moved.debits
                OR f.credits_posted - a.credits_posted IS DISTINCT FROM moved.credits
            """
        )
    finally:
        await connection.close()
    return bool(mismatched == 0)
