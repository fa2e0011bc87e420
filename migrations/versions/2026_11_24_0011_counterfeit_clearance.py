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


CLEARED_BY_GUARD = """
CREATE FUNCTION counterfeit_flag_cleared_by_allowed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.cleared_by <> NEW.certifier_id
       AND NOT EXISTS (SELECT 1 FROM organisation WHERE id = NEW.cleared_by AND role = 'operator') THEN
        RAISE EXCEPTION 'only the certifier of the certificate or an operator may clear the flag on %', NEW.code
            USING ERRCODE = 'check_violation', CONSTRAINT = 'counterfeit_flag_cleared_by_allowed';
    END IF;
    RETURN NEW;
END $$
"""


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

    # Who may clear is guarded here too: the certificate's certifier (copied on the flag) or an operator.
    op.execute(CLEARED_BY_GUARD)
    op.execute(
        "CREATE TRIGGER counterfeit_flag_cleared_by_allowed BEFORE INSERT OR UPDATE OF cleared_by ON counterfeit_flag "
        "FOR EACH ROW WHEN (NEW.cleared_by IS NOT NULL) EXECUTE FUNCTION counterfeit_flag_cleared_by_allowed()"
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER counterfeit_flag_cleared_by_allowed ON counterfeit_flag")
    op.execute("DROP FUNCTION counterfeit_flag_cleared_by_allowed()")
    op.execute(
        "ALTER TABLE counterfeit_flag DROP COLUMN clearance_note, DROP COLUMN cleared_by, DROP COLUMN cleared_at"
    )
