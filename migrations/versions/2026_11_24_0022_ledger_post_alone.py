"""Ledger: ``ledger_post_alone``, a plain transfer whose statement is its whole transaction, in two statements.

``ledger_post_single`` answers every refusal with a code and leaves the caller's transaction usable, so it must test
each rule before it writes: one UPDATE per account, each with the account's limits in its WHERE, lower id first,
then the INSERT. A caller whose statement is its own transaction (``post_with_connection`` outside a transaction
block, as for 0019's ``p_assume_new``) needs less. If the database refuses anything, the whole transaction rolls back
and nothing is left to undo, so the caller can simply ask ``ledger_post_single`` for the reason. For that caller,
and for plain transfers only (no flags, no timeout), this function:
- updates both accounts in one UPDATE whose WHERE only picks the two rows (their ids, the asset, not serialized), and
  leaves every limit to the database:
  - an overdraft or a debit of a retired account fails ``ck_account_rules`` (23514);
  - a total (posted plus pending) past the largest bigint fails the arithmetic (22003): each new balance is computed
    as posted + pending + amount - pending;
  - an amount that is not positive or a bad code or reference fails ``ck_transfer_rules`` (23514);
  - a missing id, code or amount fails NOT NULL (23502), and a taken id fails ``pk_transfer`` (23505);
- raises ``BL001`` when only one of the two rows qualified (an account missing, on another asset, or both ids the
  same);
- hands a transfer that touched neither account to ``ledger_post_single``: a serialized asset (its serial ranges
  move too), no asset named, or both accounts missing or on another asset.

After any of those SQLSTATEs the caller asks ``ledger_post_single`` and hears the code. Called inside a larger
transaction, a refusal raises and aborts it: nothing wrong can commit, but only a statement that is its own
transaction should call this. A refusal at the INSERT has drawn a ``seq`` value, which the rollback does not give
back (as with any rolled-back transfer): ``seq`` orders transfers and has gaps. The planner settings also hold for
the nested ``ledger_post_single`` call, whose cached plans may then be reused by direct calls; its queries look
rows up by key either way.

Lock order. Every writer locks accounts in ascending id order, so no two transfers deadlock. One UPDATE of two rows
locks them in the order its scan returns them. Only an index scan on an index led by ``id`` returns them in id order.
Left alone, the planner takes a bitmap heap scan (block order) on a benchmarked ledger and a sequential scan on a
small table. So the function runs with ``enable_seqscan`` and ``enable_bitmapscan`` off, which makes any other path
cost more than an index scan. It also writes the asset test as ``asset_id + 0``, which no index can use, so that
``uq_account_owner_id_asset_id_purpose_sub_account`` (led by the owner) is not a candidate either. That leaves
``pk_account`` and ``uq_account_id_asset_id``. Without the settings the test of transfers in both directions over
three accounts deadlocks.

Measured with callgrind on PostgreSQL 15 (single-user backend, 1,000 transfers after 400, on a copy of a funded
bench ledger), instructions per transfer:
- ``ledger_post_single(..., true)``: 681,166;
- this function: 563,800. The planner settings cost about 11,000 (an earlier form: 563,595 without them, 574,624
  with them);
- with the overflow limit as a CASE in the WHERE instead: 578,327; with an IF around it for flags too: 584,538;
- locking both accounts first with one ``SELECT ... ORDER BY id FOR NO KEY UPDATE``, then one UPDATE without the
  settings: 634,622;
- one statement, the UPDATE in a WITH and the INSERT selecting from it: 602,940.

Revision ID: 0022
Revises: 0021
Create Date: 2026-11-24
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0022"
down_revision: str | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ALONE_FUNCTION = """
CREATE FUNCTION ledger_post_alone(
    p_id uuid, p_debit bigint, p_credit bigint, p_amount bigint, p_asset integer, p_code text, p_reference text
) RETURNS text
LANGUAGE plpgsql
-- The UPDATE below locks its two rows in the order of its scan: these make it an index scan (see migration 0022).
SET enable_seqscan = off
SET enable_bitmapscan = off
AS $$
DECLARE
    touched integer;
BEGIN
    -- Each balance is computed as posted + pending + amount - pending: a total that would not fit in a bigint
    -- raises numeric_value_out_of_range here, as ledger_post_single refuses it ('overflows_debits').
    UPDATE account
       SET debits_posted = debits_posted + debits_pending + CASE WHEN id = p_debit THEN p_amount ELSE 0 END
                           - debits_pending,
           credits_posted = credits_posted + credits_pending + CASE WHEN id = p_debit THEN 0 ELSE p_amount END
                            - credits_pending
     WHERE id = ANY (ARRAY[p_debit, p_credit]) AND asset_id + 0 = p_asset AND NOT serialized;
    GET DIAGNOSTICS touched = ROW_COUNT;
    IF touched = 2 THEN
        INSERT INTO transfer (id, debit_account_id, credit_account_id, asset_id, amount, code, reference)
        VALUES (p_id, p_debit, p_credit, p_asset, p_amount, p_code, p_reference);
        RETURN 'ok';
    ELSIF touched = 1 THEN
        RAISE EXCEPTION 'ledger_post_alone: transfer % refused; ledger_post_single names the reason', p_id
            USING ERRCODE = 'BL001';
    END IF;
    -- Nothing was written: the general function does it all, still assuming the id is new (migration 0019).
    RETURN ledger_post_single(p_id, p_debit, p_credit, p_amount, p_asset, p_code, 0, NULL, p_reference, true);
END $$
"""
ARGUMENT_TYPES = "uuid, bigint, bigint, bigint, integer, text, text"


def upgrade() -> None:
    op.execute(ALONE_FUNCTION)


def downgrade() -> None:
    op.execute(f"DROP FUNCTION ledger_post_alone({ARGUMENT_TYPES})")
