"""Ledger: ``account_identity_fixed`` fires AFTER the update, so a balance update no longer locks its row twice.

For any BEFORE UPDATE row trigger PostgreSQL fetches the old row and locks it (``GetTupleForTrigger``) before it
reads the trigger's column list. Every balance update therefore locked the account row once for the trigger, with
a WAL record of its own, and again for the update itself; a waiter on a hot account queued on that first lock. The
trigger's column list (``UPDATE OF id, asset_id, ...``) meant it never ran for balances; only the lock did. An
AFTER trigger's column list is read when the event would be queued, and nothing is locked for it.

A change of identity or flags is still refused, by the same function and with the same message and SQLSTATE
(23001), and nothing of the statement stays. What differs is which guard speaks first when another one refuses
the same statement: a new owner, asset, purpose or sub-account that another account already has now fails the
unique key first (23505), as does a CHECK that the new flags break (23514); a new id or asset for an account that
transfers point at fails their foreign keys first.

Measured (session 8):
- WAL per plain transfer: 9 records instead of 11 (two ``LOCK`` records of 54 bytes fewer), by ``pg_waldump``;
- instructions per transfer (callgrind, 1,000 ``ledger_post_alone`` calls after 400 on a copy of a funded bench
  ledger): PostgreSQL 15 568,786 -> 563,383; PostgreSQL 18 515,744 -> 511,405;
- the hot account (8 clients, one account debited by every transfer; alternating rounds of 2,500 on two copies of
  one funded ledger, PostgreSQL 15): per-round rate ratio 1.099 and 1.030 (medians of 8 and 10 rounds), p99
  24.1 -> 20.5 ms and 24.2 -> 21.0 ms.

Revision ID: 0025
Revises: 0024
Create Date: 2026-11-25
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0025"
down_revision: str | None = "0024"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

IDENTITY_COLUMNS = (
    "id, asset_id, owner_id, purpose, sub_account, debits_must_not_exceed_credits, credits_must_not_exceed_debits, "
    "retired, holds_serials, serialized"
)


def trigger(timing: str) -> str:
    return f"""
    CREATE TRIGGER account_identity_fixed
        {timing} UPDATE OF {IDENTITY_COLUMNS} ON account
        FOR EACH ROW EXECUTE FUNCTION ledger_account_identity_fixed()
    """


def upgrade() -> None:
    op.execute("DROP TRIGGER account_identity_fixed ON account")
    op.execute(trigger("AFTER"))


def downgrade() -> None:
    op.execute("DROP TRIGGER account_identity_fixed ON account")
    op.execute(trigger("BEFORE"))
