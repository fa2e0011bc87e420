"""Ledger: a transfer's row rules are checked by its statement trigger; a positive amount stays a CHECK, on a domain.

``ck_transfer_rules`` (0016) cast each new transfer row to ``ledger_transfer_rules``, whose constraints were the
rules. A table CHECK is read back from its text, planned and set up on every INSERT, and each rule then took its
fields out of the whole row one by one. ``transfer_references_hold`` (0029) already runs once per INSERT over the
rows it wrote. Now its first pass also looks for a row that breaks a rule, reading the columns directly, and only
when it finds a row does it name it.

The rules, their names, their SQLSTATE (23514, check_violation) and their order stay:
- ``ck_transfer_accounts_differ``, ``ck_transfer_flags_exclusive``, ``ck_transfer_pending_id_iff_resolution``,
  ``ck_transfer_timeout_only_pending``, ``ledger_code_format``, ``ledger_reference_length``;
- a rule that comes out NULL passes, as in a CHECK;
- the refused row is the first that breaks one, and the rule named is the first it breaks in that (alphabetical)
  order, as PostgreSQL checks a domain's constraints;
- rules come before resolutions and accounts, as a CHECK failed before any AFTER trigger ran.

The message now names the transfer: "transfer X: violates check constraint R". The whole statement is refused and
nothing of it stays, as before.

One thing a CHECK did that a trigger does not: a superuser who sets ``session_replication_role = replica`` turns
triggers off, and with them these rules, as already the accounts and resolutions checks (0006, 0027). The rules the
issue names as CHECK constraints, the accounts' limits and ``amount > 0``, stay CHECKs and hold even then.

``amount > 0`` stays a CHECK constraint, as the ledger's issue asks: ``amount`` has the domain ``ledger_amount``
(``ledger_amount_positive``, 0010's domain, folded into the row rules by 0012). PostgreSQL keeps a domain's checks
parsed and planned in its type cache and only sets them up for each statement; a table CHECK is read back from its
text every time. A non-positive amount is refused as it is assigned, before NOT NULL and the trigger.

Measured with callgrind (single-user backend, copies of a funded bench ledger at 0030), instructions per transfer:

| | before | after |
|---|---|---|
| single transfers, ``ledger_post_alone``, 1,000 after 400, PostgreSQL 18 | 479,953 | 461,096 |
| the same, PostgreSQL 15 | 530,081 | 513,570 |
| batches of 1,000, ``ledger_post``, the last five of seven, PostgreSQL 18 | 223,558 | 217,539 |
| the same, PostgreSQL 15 | 270,367 | 262,181 |

Left a plain table CHECK, ``amount > 0`` cost 13,000 of those instructions on PostgreSQL 18; as a domain it costs
1,700.

Revision ID: 0031
Revises: 0030
Create Date: 2026-11-25
"""

from collections.abc import Sequence

from alembic import context, op

revision: str = "0031"
down_revision: str | None = "0030"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The rules of ``ledger_transfer_rules`` as they stood at 0030, on the domain's VALUE, in the order PostgreSQL checks
# them (by name). The trigger reads the same conditions on its rows.
RULES = {
    "ck_transfer_accounts_differ": "(VALUE).debit_account_id <> (VALUE).credit_account_id",
    "ck_transfer_flags_exclusive": (
        "(VALUE).pending::integer + (VALUE).post_pending::integer + (VALUE).void_pending::integer <= 1"
    ),
    "ck_transfer_pending_id_iff_resolution": (
        "((VALUE).pending_id IS NOT NULL) = ((VALUE).post_pending OR (VALUE).void_pending)"
    ),
    "ck_transfer_timeout_only_pending": (
        "((VALUE).timeout_seconds IS NULL AND (VALUE).expires_at IS NULL) "
        "OR ((VALUE).pending AND (VALUE).timeout_seconds > 0 AND (VALUE).expires_at IS NOT NULL)"
    ),
    "ledger_code_format": "(VALUE).code ~ '^[a-z][a-z0-9_]*$' AND octet_length((VALUE).code) <= 40",
    "ledger_reference_length": "length((VALUE).reference) <= 500",
}
# amount > 0: a constraint of the column's domain from 0031 on, one of the row rules before.
AMOUNT_RULE = "ledger_amount_positive"
AMOUNT_ON_COLUMN = "VALUE > 0"
AMOUNT_ON_ROW = "(VALUE).amount > 0"


def on_rows(condition: str) -> str:
    return condition.replace("(VALUE).", "n.")


BROKEN = " OR ".join(f"NOT ({on_rows(condition)})" for condition in RULES.values())
WHICH = " ".join(f"WHEN NOT ({on_rows(condition)}) THEN '{name}'" for name, condition in RULES.items())


def guard_function() -> str:
    """0029's function with the rules in its first pass, and the first broken rule refused before anything else."""
    trigger_0029 = context.script.get_revision("0029").module
    return f"""
CREATE OR REPLACE FUNCTION ledger_transfer_references() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    bad record;
    debit_found boolean;
BEGIN
    -- Does any row break a rule, resolve a pending or have an account that does not hold its asset? (0029, 0031)
    PERFORM
       FROM new_transfers n
      WHERE {BROKEN}
         OR n.pending_id IS NOT NULL
         OR {trigger_0029.ACCOUNT_WRONG};
    IF NOT FOUND THEN
        RETURN NULL;
    END IF;
    -- The rules first, as when they were a CHECK, then resolutions, then the accounts of every row.
    SELECT n.id, CASE {WHICH} END AS rule
      INTO bad
      FROM new_transfers n
     WHERE {BROKEN};
    IF FOUND THEN
        RAISE EXCEPTION 'transfer %: violates check constraint "%"', bad.id, bad.rule
            USING ERRCODE = 'check_violation', CONSTRAINT = bad.rule;
    END IF;{trigger_0029.REFUSE_RESOLUTION_THEN_ACCOUNT}"""  # noqa: S608 (built from the constants above)


def upgrade() -> None:
    op.execute("ALTER TABLE transfer DROP CONSTRAINT ck_transfer_rules")
    op.execute("DROP DOMAIN ledger_transfer_rules")
    op.execute(f"CREATE DOMAIN ledger_amount AS bigint CONSTRAINT {AMOUNT_RULE} CHECK ({AMOUNT_ON_COLUMN})")
    op.execute("ALTER TABLE transfer ALTER COLUMN amount TYPE ledger_amount")
    op.execute(guard_function())


def downgrade() -> None:
    """0030's table CHECK over the whole row, with every rule in its domain, and 0029's trigger function."""
    previous = context.script.get_revision("0029").module.GUARD_FUNCTION
    op.execute(previous.replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION", 1))
    op.execute("ALTER TABLE transfer ALTER COLUMN amount TYPE bigint")
    op.execute("DROP DOMAIN ledger_amount")
    rules = dict(sorted({**RULES, AMOUNT_RULE: AMOUNT_ON_ROW}.items()))
    constraints = " ".join(f"CONSTRAINT {name} CHECK ({condition})" for name, condition in rules.items())
    op.execute(f"CREATE DOMAIN ledger_transfer_rules AS transfer {constraints}")
    op.execute(
        "ALTER TABLE transfer ADD CONSTRAINT ck_transfer_rules "
        "CHECK ((transfer)::ledger_transfer_rules IS DISTINCT FROM NULL)"
    )
