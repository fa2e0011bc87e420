"""Ledger: ``transfer_accounts_exist`` counts each row's two accounts with one subquery, and diagnoses only a failure.

0027's statement trigger read every row it checked with three subqueries: one EXISTS per account to find a bad row,
and a third to say which side was bad. Each is a subplan the executor sets up on every INSERT, whether the INSERT
wrote one row or a thousand, and each started with ``OFFSET 0`` (a Limit node) so that no plan would hash it. For a
single transfer, starting that query was the largest part of the trigger.

Now one scalar subquery per row counts the row's accounts that exist and hold its asset, and a row is bad when the
count is not 2. A scalar subquery is never hashed, so it needs no ``OFFSET 0``, and no plan reads the whole account
table. It looks the accounts up in ``pk_account`` (``asset_id + 0`` keeps ``uq_account_id_asset_id`` out of it, which
is no cheaper and is only there for ``serial_range``'s foreign key). Without ``LIMIT 1``: PL/pgSQL's ``SELECT INTO``
stops at the first row anyway. Which account is bad is asked only when a row is: the refusal is as before
(``foreign_key_violation``, the constraint ``transfer_accounts_exist``, the transfer, its side, the account and the
asset). A row whose two accounts are one is counted once, and so refused, but ``ck_transfer_accounts_differ`` refuses
it before the trigger runs.

Measured with callgrind on PostgreSQL 15 (single-user backend, copies of a funded bench ledger), instructions per
transfer:
- single transfers through ``ledger_post_alone`` (2,000 after 10): 574,965 -> 548,950. Without the trigger: 467,573;
- batches of 1,000 through ``ledger_post`` (seven, the last five counted): about 4,000 more per transfer (a count
  per row costs a little more than two probes that stop at the first match).

Revision ID: 0028
Revises: 0027
Create Date: 2026-11-25
"""

from collections.abc import Sequence

from alembic import context, op

revision: str = "0028"
down_revision: str | None = "0027"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

GUARD_FUNCTION = """
CREATE OR REPLACE FUNCTION ledger_transfer_accounts_exist() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    bad record;
    debit_found boolean;
BEGIN
    -- One subplan per row, two probes of pk_account: a scalar subquery is never hashed (migration 0028).
    SELECT n.id, n.debit_account_id, n.credit_account_id, n.asset_id
      INTO bad
      FROM new_transfers n
     WHERE (SELECT count(*) FROM account a
             WHERE a.id IN (n.debit_account_id, n.credit_account_id) AND a.asset_id + 0 = n.asset_id) <> 2;
    IF FOUND THEN
        debit_found := EXISTS (SELECT FROM account a WHERE a.id = bad.debit_account_id AND a.asset_id = bad.asset_id);
        RAISE EXCEPTION 'transfer %: its % account % does not exist or does not hold asset %', bad.id,
            CASE WHEN debit_found THEN 'credit' ELSE 'debit' END,
            CASE WHEN debit_found THEN bad.credit_account_id ELSE bad.debit_account_id END, bad.asset_id
            USING ERRCODE = 'foreign_key_violation', CONSTRAINT = 'transfer_accounts_exist';
    END IF;
    RETURN NULL;
END $$
"""


def previous_function() -> str:
    """0027's function, as a replacement."""
    text: str = context.script.get_revision("0027").module.GUARD_FUNCTION
    return text.replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION", 1)


def upgrade() -> None:
    op.execute(GUARD_FUNCTION)


def downgrade() -> None:
    op.execute(previous_function())
