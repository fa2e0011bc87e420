"""Append-only tables refuse TRUNCATE as well as UPDATE and DELETE.

The row triggers that keep the ledger, the registry and the eco-label records append-only (``reject_change``) do
not fire on TRUNCATE, which empties a table without touching a row. So ``TRUNCATE transfer CASCADE`` erased the
ledger, its blocks and every record that points at a transfer, and nothing in the database objected. Each of these
tables now has a statement trigger BEFORE TRUNCATE that refuses it with the same error as a DELETE (23001).

Only a superuser can still empty them, on purpose: with ``session_replication_role = replica`` ordinary triggers do
not fire. The test suite does this between tests, on its own databases.

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-24
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Every table whose rows reject_change guards, as of revision 0013.
APPEND_ONLY = (
    "account",
    "audit_event",
    "audit_finding",
    "cancellation",
    "certification_transition",
    "credited_period",
    "issuance",
    "lab_result",
    "label_code",
    "label_code_batch",
    "ledger_block",
    "product_lot",
    "retirement",
    "reversal",
    "serial_movement",
    "surveillance_audit",
    "transfer",
    "verification_statement",
)


def upgrade() -> None:
    for table in APPEND_ONLY:
        op.execute(
            f"CREATE TRIGGER {table}_never_truncated BEFORE TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION reject_change()"
        )


def downgrade() -> None:
    for table in APPEND_ONLY:
        op.execute(f"DROP TRIGGER {table}_never_truncated ON {table}")
