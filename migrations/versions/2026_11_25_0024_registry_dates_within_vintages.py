"""Registry: a project's crediting period and a retirement's claim period lie within the vintages the registry can
issue, 1990-01-01 to 2099-12-31, guarded by the database as well as by the domain (``check_crediting_period``,
``credits.retire``).

Found by fuzzing the API: a crediting period ending 9999-12-31 overflowed the date arithmetic, and one starting in
year 1 was accepted and failed only at issuance, against ``ck_issuance_vintage_range``. The domain now refuses both
with a reason; these constraints keep a direct write from storing them. They are added NOT VALID: every new or
changed row is checked, and a row stored before this revision is left as it was (monitoring reports and issuance
refuse its out-of-range vintage with ``vintage_out_of_range``).

Revision ID: 0024
Revises: 0023
Create Date: 2026-11-25
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0024"
down_revision: str | None = "0023"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# domain/registry/serials.py: MIN_VINTAGE and MAX_VINTAGE.
WITHIN = "{start} >= DATE '1990-01-01' AND {end} <= DATE '2099-12-31'"
CONSTRAINTS = {
    ("project", "ck_project_crediting_within_vintages"): WITHIN.format(start="crediting_start", end="crediting_end"),
    ("retirement", "ck_retirement_claim_within_vintages"): WITHIN.format(start="claim_start", end="claim_end"),
}


def upgrade() -> None:
    for (table, name), condition in CONSTRAINTS.items():
        op.execute(f"ALTER TABLE {table} ADD CONSTRAINT {name} CHECK ({condition}) NOT VALID")


def downgrade() -> None:
    for table, name in CONSTRAINTS:
        op.execute(f"ALTER TABLE {table} DROP CONSTRAINT {name}")
