"""Ledger: cheaper guards on transfer, protecting the same invariants as the statement-level ``transfer_guard``.

The statement trigger of 0002 captured every inserted row in a transition table and ran its queries per statement;
it was the largest single cost of posting one transfer per commit. Its two checks are now:
- both accounts exist and carry the transfer's asset: two composite foreign keys to ``account (id, asset_id)``
  (``uq_account_id_asset_id``). The posting functions have already locked both rows, so each check finds its lock
  held and costs one index probe;
- a post or void names a pending transfer with the same accounts and asset, and stays within its amount (a void takes
  all of it): a row trigger that fires only for rows with a ``pending_id``, so plain and pending transfers never
  call it. It runs AFTER the row, so a pending inserted earlier in the same statement (one ``ledger_post`` batch)
  is visible, as it was to the statement trigger.

``ledger_transfer_guard()`` stays defined (0002 owns it and drops it on its own downgrade); the downgrade of this
revision puts its trigger back.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-24
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UPGRADE: tuple[str, ...] = (
    "DROP TRIGGER transfer_guard ON transfer",
    "ALTER TABLE transfer ADD CONSTRAINT fk_transfer_debit_account_id_asset_id_account "
    "FOREIGN KEY (debit_account_id, asset_id) REFERENCES account (id, asset_id)",
    "ALTER TABLE transfer ADD CONSTRAINT fk_transfer_credit_account_id_asset_id_account "
    "FOREIGN KEY (credit_account_id, asset_id) REFERENCES account (id, asset_id)",
    """
CREATE FUNCTION ledger_resolution_matches_pending() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM FROM transfer p
     WHERE p.id = NEW.pending_id AND p.pending AND p.debit_account_id = NEW.debit_account_id
       AND p.credit_account_id = NEW.credit_account_id AND p.asset_id = NEW.asset_id
       AND NEW.amount <= p.amount AND (NOT NEW.void_pending OR NEW.amount = p.amount);
    IF NOT FOUND THEN
        RAISE EXCEPTION 'transfer %: a post or void must match its pending transfer', NEW.id
            USING ERRCODE = 'foreign_key_violation';
    END IF;
    RETURN NULL;
END $$
""",
    "CREATE TRIGGER transfer_resolution_matches_pending AFTER INSERT ON transfer "
    "FOR EACH ROW WHEN (NEW.pending_id IS NOT NULL) EXECUTE FUNCTION ledger_resolution_matches_pending()",
)

DOWNGRADE: tuple[str, ...] = (
    "DROP TRIGGER transfer_resolution_matches_pending ON transfer",
    "DROP FUNCTION ledger_resolution_matches_pending()",
    "ALTER TABLE transfer DROP CONSTRAINT fk_transfer_credit_account_id_asset_id_account",
    "ALTER TABLE transfer DROP CONSTRAINT fk_transfer_debit_account_id_asset_id_account",
    "CREATE TRIGGER transfer_guard AFTER INSERT ON transfer REFERENCING NEW TABLE AS new_transfers "
    "FOR EACH STATEMENT EXECUTE FUNCTION ledger_transfer_guard()",
)


def upgrade() -> None:
    for statement in UPGRADE:
        op.execute(statement)


def downgrade() -> None:
    for statement in DOWNGRADE:
        op.execute(statement)
