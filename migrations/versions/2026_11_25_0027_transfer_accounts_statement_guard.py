"""Ledger: one statement trigger checks that a transfer's accounts exist and carry its asset, instead of two foreign keys.

Migration 0006 put two composite foreign keys, ``(debit_account_id, asset_id)`` and ``(credit_account_id,
asset_id)`` to ``account (id, asset_id)``, in place of 0002's statement trigger, which had cost a single transfer
more than they did. A foreign key checks each row on its own: a query through SPI, an executor started and ended,
a KEY SHARE lock, twice per transfer. For a single transfer that is about what one statement trigger costs; for a
batch of 1,000 it is 2,000 queries, a quarter of everything the batch does.

``transfer_accounts_exist`` runs once per INSERT statement over the rows it inserted (a transition table). Each
account is one probe of ``uq_account_id_asset_id``: ``OFFSET 0`` keeps each EXISTS a per-row subplan, so no plan
hashes the whole account table, however many accounts the platform has. It raises ``foreign_key_violation`` (23503)
naming itself as the constraint, the transfer, and which of its accounts is missing or holds another asset.

The foreign keys' KEY SHARE locks kept a referenced account from being deleted or re-keyed before the transfer
committed. Accounts are never deleted (``account_never_deleted``) and their id and asset never change
(``account_identity_fixed``), so no lock is needed for that.

Measured with callgrind on PostgreSQL 18 (single-user backend, on copies of a funded ledger of 21,001 transfers at
0026), instructions per transfer:
- batches of 1,000 through ``ledger_post`` (seven batches, the last five counted): 261,383 -> 206,421;
- single transfers through ``ledger_post_alone`` (1,000 after 400): 511,162 -> 508,757.

Revision ID: 0027
Revises: 0026
Create Date: 2026-11-25
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0027"
down_revision: str | None = "0026"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FOREIGN_KEYS = {
    "fk_transfer_debit_account_id_asset_id_account": "debit_account_id",
    "fk_transfer_credit_account_id_asset_id_account": "credit_account_id",
}

GUARD_FUNCTION = """
CREATE FUNCTION ledger_transfer_accounts_exist() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    bad record;
BEGIN
    -- One probe of uq_account_id_asset_id per account and row: OFFSET 0 keeps each EXISTS a per-row subplan.
    SELECT n.id, n.debit_account_id, n.credit_account_id, n.asset_id,
           EXISTS (SELECT FROM account a WHERE a.id = n.debit_account_id AND a.asset_id = n.asset_id OFFSET 0)
               AS debit_found
      INTO bad
      FROM new_transfers n
     WHERE NOT EXISTS (SELECT FROM account a WHERE a.id = n.debit_account_id AND a.asset_id = n.asset_id OFFSET 0)
        OR NOT EXISTS (SELECT FROM account a WHERE a.id = n.credit_account_id AND a.asset_id = n.asset_id OFFSET 0)
     LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'transfer %: its % account % does not exist or does not hold asset %', bad.id,
            CASE WHEN bad.debit_found THEN 'credit' ELSE 'debit' END,
            CASE WHEN bad.debit_found THEN bad.credit_account_id ELSE bad.debit_account_id END, bad.asset_id
            USING ERRCODE = 'foreign_key_violation', CONSTRAINT = 'transfer_accounts_exist';
    END IF;
    RETURN NULL;
END $$
"""
GUARD_TRIGGER = """
CREATE TRIGGER transfer_accounts_exist AFTER INSERT ON transfer REFERENCING NEW TABLE AS new_transfers
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_transfer_accounts_exist()
"""


def upgrade() -> None:
    op.execute(GUARD_FUNCTION)
    op.execute(GUARD_TRIGGER)
    for name in FOREIGN_KEYS:
        op.execute(f"ALTER TABLE transfer DROP CONSTRAINT {name}")


def downgrade() -> None:
    for name, column in FOREIGN_KEYS.items():
        op.execute(
            f"ALTER TABLE transfer ADD CONSTRAINT {name} FOREIGN KEY ({column}, asset_id) REFERENCES account (id, asset_id)"
        )
    op.execute("DROP TRIGGER transfer_accounts_exist ON transfer")
    op.execute("DROP FUNCTION ledger_transfer_accounts_exist()")
