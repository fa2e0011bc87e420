"""Project status changes follow the registry's state machine in the database too, not only in the service.

A frozen copy of domain/registry/project.py TRANSITIONS (without the verify self-loop, which changes no status):
``project_status_allowed(from, to)`` answers whether a change is legal, and a trigger refuses any other change of
``project.status``, whoever writes it. A test checks that this table and the domain's agree.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-24
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ALLOWED = (
    ("draft", "validating"),
    ("validating", "draft"),
    ("validating", "public_notice"),
    ("public_notice", "draft"),
    ("public_notice", "registered"),
    ("registered", "monitoring"),
    ("issued", "monitoring"),
    ("monitoring", "verifying"),
    ("verifying", "monitoring"),
    ("verifying", "issued"),
    ("draft", "withdrawn"),
    ("validating", "withdrawn"),
    ("public_notice", "withdrawn"),
    ("registered", "deregistered"),
    ("monitoring", "deregistered"),
    ("verifying", "deregistered"),
    ("issued", "deregistered"),
    # Filing a monitoring report from registered or issued starts monitoring and submits in one write.
    ("registered", "verifying"),
    ("issued", "verifying"),
)


def upgrade() -> None:
    pairs = ", ".join(f"('{source}', '{target}')" for source, target in ALLOWED)
    op.execute(
        f"""
        CREATE FUNCTION project_status_allowed(p_from text, p_to text) RETURNS boolean
        LANGUAGE sql IMMUTABLE AS $$
            SELECT p_from = p_to OR (p_from, p_to) IN ({pairs})
        $$;
        """
    )
    op.execute(
        """
        CREATE FUNCTION project_status_guard() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF NOT project_status_allowed(OLD.status, NEW.status) THEN
                RAISE EXCEPTION 'project % cannot go from % to %', OLD.code, OLD.status, NEW.status
                    USING ERRCODE = 'check_violation', CONSTRAINT = 'project_status_transition';
            END IF;
            RETURN NEW;
        END $$;
        """
    )
    op.execute(
        "CREATE TRIGGER project_status_transition BEFORE UPDATE OF status ON project "
        "FOR EACH ROW EXECUTE FUNCTION project_status_guard()"
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER project_status_transition ON project")
    op.execute("DROP FUNCTION project_status_guard()")
    op.execute("DROP FUNCTION project_status_allowed(text, text)")
