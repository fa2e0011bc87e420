"""Eco-label: a counterfeit flag's clearance, once written, is never rewritten; only a new flag resets it.

Migration 0011 let the certifier clear a flag. The service answers a second clearance with 409
``flag_already_cleared``, but only the service did: an UPDATE from any other path could overwrite who cleared the flag,
when and why, and the row would no longer say what the first clearance said. The trigger below refuses any change
to a clearance that is already set, unless it is reset to nothing: that is what raising the flag again does.

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-24
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CLEARANCE_FINAL = """
CREATE FUNCTION counterfeit_flag_clearance_final() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the flag on % was cleared at %; a clearance is not rewritten', OLD.code, OLD.cleared_at
        USING ERRCODE = 'check_violation', CONSTRAINT = 'counterfeit_flag_clearance_final';
END $$
"""


def upgrade() -> None:
    op.execute(CLEARANCE_FINAL)
    op.execute(
        "CREATE TRIGGER counterfeit_flag_clearance_final "
        "BEFORE UPDATE OF cleared_at, cleared_by, clearance_note ON counterfeit_flag FOR EACH ROW "
        "WHEN (OLD.cleared_at IS NOT NULL AND NEW.cleared_at IS NOT NULL "
        "AND (NEW.cleared_at, NEW.cleared_by, NEW.clearance_note) "
        "IS DISTINCT FROM (OLD.cleared_at, OLD.cleared_by, OLD.clearance_note)) "
        "EXECUTE FUNCTION counterfeit_flag_clearance_final()"
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER counterfeit_flag_clearance_final ON counterfeit_flag")
    op.execute("DROP FUNCTION counterfeit_flag_clearance_final()")
