"""Ledger: drop ``ix_account_asset_id``, an index that served no query but cost every balance UPDATE.

Accounts are looked up by id, by (id, asset_id) for the transfers' foreign keys, or by owner, asset, purpose and
sub-account; the audit reads every account. No query reads them by asset alone. Yet PostgreSQL opens and closes
every index of a table for each UPDATE of it, even a HOT update that writes no index entry, and a transfer updates
two accounts.

Measured with callgrind on PostgreSQL 15 (single-user backend, 1,000 transfers after 100 to warm up): 708,639
instructions per transfer before, 703,389 after.

Kept as it is: ``account_identity_fixed`` as a BEFORE trigger. PostgreSQL fetches and locks the old row for any
BEFORE UPDATE row trigger before it reads the trigger's column list, and an AFTER trigger would save another 5,000
instructions. But then a change of purpose or asset would be refused by whichever unique index or foreign key saw it
first, not with "the identity and flags of account N cannot change".

Revision ID: 0018
Revises: 0017
Create Date: 2026-11-24
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute("DROP INDEX ix_account_asset_id")


def downgrade() -> None:
    op.execute("CREATE INDEX ix_account_asset_id ON account (asset_id)")
