"""Ledger: one statement trigger checks a transfer's accounts and, for a post or void, its pending.

Two triggers guarded an INSERT into ``transfer`` by what it refers to:
- ``transfer_accounts_exist`` (0027, 0028), once per statement: each row's accounts exist and hold its asset;
- ``transfer_resolution_matches_pending`` (0006), once per row ``WHEN (NEW.pending_id IS NOT NULL)``: a post or
  void matches its pending (same accounts and asset, at most its amount, a void all of it).

PostgreSQL reads a WHEN clause back from its text and sets it up on every statement that writes the table, even
when no row is a post or void. Now ``transfer_references_hold`` does both, once per statement. One pass over the
statement's rows looks for a row that either resolves a pending or has a wrong account. For a statement of plain
transfers with sound accounts (nearly every one) that pass is all there is. Only when it finds one are the
statement's resolutions checked, then every row's accounts, to name the refused row.

Each account is one scalar subquery, which reads its asset through ``uq_account_id_asset_id`` (0028 counted both
accounts through an aggregate). A scalar subquery is never hashed or pulled up into a join, so no plan reads the
whole account or transfer table. The pending is read the same way.

The refusals are those of both triggers, in the same order. A bad resolution comes first, as the row trigger fired
before the statement trigger: "transfer X: a post or void must match its pending transfer" (23503, now also naming
``transfer_resolution_matches_pending`` as the constraint). Then "transfer X: its debit|credit account N does not
exist or does not hold asset A" (23503, ``transfer_accounts_exist``).

Measured with callgrind (single-user backend, copies of a funded bench ledger), instructions per transfer:

| | before | after |
|---|---|---|
| single transfers, ``ledger_post_alone``, 1,000 after 400, PostgreSQL 18 | 500,673 | 487,879 |
| the same, PostgreSQL 15 | 551,504 | 539,583 |
| batches of 1,000, ``ledger_post``, the last five of seven, PostgreSQL 18 | 230,633 | 226,565 |
| the same, PostgreSQL 15 | 277,547 | 274,107 |

Both measured on the same copies, 0029 against 0028's two triggers put back. The first pass is a ``PERFORM``: it
stops at the first row found and assigns nothing.

Revision ID: 0029
Revises: 0028
Create Date: 2026-11-25
"""

from collections.abc import Sequence

from alembic import context, op

revision: str = "0029"
down_revision: str | None = "0028"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# A row whose account is missing or holds another asset; each account is one scalar subquery.
ACCOUNT_WRONG = """(SELECT a.asset_id FROM account a WHERE a.id = n.debit_account_id) IS DISTINCT FROM n.asset_id
        OR (SELECT a.asset_id FROM account a WHERE a.id = n.credit_account_id) IS DISTINCT FROM n.asset_id"""
# After the first pass found a row: the first bad resolution is refused, else the first row with a wrong account,
# else (a sound resolution) nothing. 0031 reuses it after its own rules.
REFUSE_RESOLUTION_THEN_ACCOUNT = f"""
    SELECT n.id
      INTO bad
      FROM new_transfers n
     WHERE n.pending_id IS NOT NULL
       AND NOT coalesce((SELECT p.pending AND p.debit_account_id = n.debit_account_id
                                AND p.credit_account_id = n.credit_account_id AND p.asset_id = n.asset_id
                                AND n.amount <= p.amount AND (NOT n.void_pending OR n.amount = p.amount)
                           FROM transfer p WHERE p.id = n.pending_id), false);
    IF FOUND THEN
        RAISE EXCEPTION 'transfer %: a post or void must match its pending transfer', bad.id
            USING ERRCODE = 'foreign_key_violation', CONSTRAINT = 'transfer_resolution_matches_pending';
    END IF;
    SELECT n.id, n.debit_account_id, n.credit_account_id, n.asset_id
      INTO bad
      FROM new_transfers n
     WHERE {ACCOUNT_WRONG};
    IF NOT FOUND THEN
        RETURN NULL;
    END IF;
    debit_found := EXISTS (SELECT FROM account a WHERE a.id = bad.debit_account_id AND a.asset_id = bad.asset_id);
    RAISE EXCEPTION 'transfer %: its % account % does not exist or does not hold asset %', bad.id,
        CASE WHEN debit_found THEN 'credit' ELSE 'debit' END,
        CASE WHEN debit_found THEN bad.credit_account_id ELSE bad.debit_account_id END, bad.asset_id
        USING ERRCODE = 'foreign_key_violation', CONSTRAINT = 'transfer_accounts_exist';
END $$
"""  # noqa: S608 (built from the constant above)
GUARD_FUNCTION = f"""
CREATE FUNCTION ledger_transfer_references() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    bad record;
    debit_found boolean;
BEGIN
    -- Does any row resolve a pending or have an account that does not hold its asset? Nearly always not (0029).
    PERFORM
       FROM new_transfers n
      WHERE n.pending_id IS NOT NULL
         OR {ACCOUNT_WRONG};
    IF NOT FOUND THEN
        RETURN NULL;
    END IF;
    -- Resolutions first, as when they had a row trigger of their own, then the accounts of every row.{REFUSE_RESOLUTION_THEN_ACCOUNT}"""
GUARD_TRIGGER = """
CREATE TRIGGER transfer_references_hold AFTER INSERT ON transfer REFERENCING NEW TABLE AS new_transfers
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_transfer_references()
"""


def upgrade() -> None:
    op.execute(GUARD_FUNCTION)
    op.execute("DROP TRIGGER transfer_accounts_exist ON transfer")
    op.execute("DROP TRIGGER transfer_resolution_matches_pending ON transfer")
    op.execute(GUARD_TRIGGER)
    op.execute("DROP FUNCTION ledger_transfer_accounts_exist()")
    op.execute("DROP FUNCTION ledger_resolution_matches_pending()")


def downgrade() -> None:
    """0028's statement trigger (0027's, with 0028's query) and 0006's row trigger."""
    resolution_function, resolution_trigger = context.script.get_revision("0006").module.UPGRADE[3:5]
    op.execute(context.script.get_revision("0028").module.GUARD_FUNCTION)
    op.execute(resolution_function)
    op.execute("DROP TRIGGER transfer_references_hold ON transfer")
    op.execute(context.script.get_revision("0027").module.GUARD_TRIGGER)
    op.execute(resolution_trigger)
    op.execute("DROP FUNCTION ledger_transfer_references()")
