"""Eco-label: a certifier can clear a counterfeit flag after looking into it.

A flag raised by the counterfeit rule used to warn the public for ever, even when the certifier had found an honest
cause (a shop that scans every package it sells, a producer's stand at three fairs). The flag now records who cleared
it, when, and why; the public verification stops warning, and the rule counts only the scans after the clearance, so a
new burst raises the flag again. Every clearance is also an audit event.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-24
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(
        "ALTER TABLE counterfeit_flag ADD COLUMN cleared_at timestamptz, ADD COLUMN cleared_by uuid, "
        "ADD COLUMN clearance_note text, "
        "ADD CONSTRAINT fk_counterfeit_flag_cleared_by_organisation FOREIGN KEY (cleared_by) "
        "REFERENCES organisation (id), "
        "ADD CONSTRAINT ck_counterfeit_flag_clearance_complete "
        "CHECK ((cleared_at IS NULL) = (cleared_by IS NULL) AND (cleared_at IS NULL) = (clearance_note IS NULL)), "
        "ADD CONSTRAINT ck_counterfeit_flag_clearance_note_length "
        "CHECK (clearance_note IS NULL OR length(btrim(clearance_note)) BETWEEN 1 AND 1000)"
    )


def downgrade() -> None:
    op.execute(
        "ALTER TABLE counterfeit_flag DROP COLUMN clearance_note, DROP COLUMN cleared_by, DROP COLUMN cleared_at"
    )
