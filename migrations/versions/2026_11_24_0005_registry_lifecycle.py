"""Registry lifecycle: the public notice date, project withdrawal and deregistration, parcel release, methodology
drafts and withdrawal.

The database guards:
- a project's notice dates: the notice ends on or after the day it was recorded;
- a withdrawn or deregistered project carries when and why (``closed_at``, ``closed_reason``), and only those do;
- a released parcel (``active = false``) never becomes active again, and a parcel's key never changes, so a credited
  period always names the land it credited; its release time is kept;
- at most one active and at most one draft version per methodology code (partial unique indexes);
- methodology status changes follow draft -> active -> superseded and draft | active -> withdrawn (a trigger), and a
  published definition never changes: issuances point at the version they used.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-24
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PROJECT_STATES = (
    "('draft', 'validating', 'public_notice', 'registered', 'monitoring', 'verifying', 'issued', 'rejected', "
    "'withdrawn', 'deregistered')"
)
OLD_PROJECT_STATES = (
    "('draft', 'validating', 'public_notice', 'registered', 'monitoring', 'verifying', 'issued', 'rejected', "
    "'withdrawn')"
)

UPGRADE: tuple[str, ...] = (
    "ALTER TABLE project ADD COLUMN public_notice_on date, ADD COLUMN closed_at timestamptz, "
    "ADD COLUMN closed_reason text",
    "ALTER TABLE project DROP CONSTRAINT ck_project_status_known",
    f"ALTER TABLE project ADD CONSTRAINT ck_project_status_known CHECK (status IN {PROJECT_STATES})",
    "ALTER TABLE project ADD CONSTRAINT ck_project_public_notice_dates "
    "CHECK (public_notice_on IS NULL OR public_notice_until >= public_notice_on)",
    "ALTER TABLE project ADD CONSTRAINT ck_project_closure "
    "CHECK ((status IN ('withdrawn', 'deregistered')) = (closed_at IS NOT NULL AND closed_reason IS NOT NULL))",
    "ALTER TABLE parcel ADD COLUMN released_at timestamptz",
    """
    CREATE FUNCTION registry_parcel_guard() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF NEW.tenure_number IS DISTINCT FROM OLD.tenure_number
           OR NEW.sub_compartment IS DISTINCT FROM OLD.sub_compartment
           OR NEW.project_id IS DISTINCT FROM OLD.project_id THEN
            RAISE EXCEPTION 'parcel %: its key and project never change', OLD.id
                USING ERRCODE = 'check_violation', CONSTRAINT = 'parcel_key_fixed';
        END IF;
        IF NEW.active AND NOT OLD.active THEN
            RAISE EXCEPTION 'parcel % was released and stays released', OLD.id
                USING ERRCODE = 'check_violation', CONSTRAINT = 'parcel_release_final';
        END IF;
        RETURN NEW;
    END $$
    """,
    "CREATE TRIGGER parcel_guard BEFORE UPDATE ON parcel FOR EACH ROW EXECUTE FUNCTION registry_parcel_guard()",
    "ALTER TABLE methodology ADD COLUMN withdrawn_at timestamptz, ADD COLUMN withdrawn_reason text",
    "ALTER TABLE methodology ADD CONSTRAINT ck_methodology_withdrawal "
    "CHECK ((status = 'withdrawn') = (withdrawn_at IS NOT NULL AND withdrawn_reason IS NOT NULL))",
    "ALTER TABLE methodology ADD CONSTRAINT ck_methodology_published "
    "CHECK (status = 'draft' OR status = 'withdrawn' OR published_at IS NOT NULL)",
    "CREATE UNIQUE INDEX uq_methodology_code_active ON methodology (code) WHERE status = 'active'",
    "CREATE UNIQUE INDEX uq_methodology_code_draft ON methodology (code) WHERE status = 'draft'",
    """
    CREATE FUNCTION registry_methodology_guard() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'DELETE' THEN
            RAISE EXCEPTION 'methodology % version % stays on record', OLD.code, OLD.version
                USING ERRCODE = 'check_violation', CONSTRAINT = 'methodology_on_record';
        END IF;
        IF NEW.code IS DISTINCT FROM OLD.code OR NEW.version IS DISTINCT FROM OLD.version
           OR (OLD.status <> 'draft' AND NEW.definition IS DISTINCT FROM OLD.definition) THEN
            RAISE EXCEPTION 'methodology % version %: a published definition never changes', OLD.code, OLD.version
                USING ERRCODE = 'check_violation', CONSTRAINT = 'methodology_definition_fixed';
        END IF;
        IF NEW.status <> OLD.status AND (OLD.status, NEW.status) NOT IN (
            ('draft', 'active'), ('draft', 'withdrawn'), ('active', 'superseded'), ('active', 'withdrawn')) THEN
            RAISE EXCEPTION 'methodology % version % cannot go from % to %', OLD.code, OLD.version, OLD.status,
                NEW.status USING ERRCODE = 'check_violation', CONSTRAINT = 'methodology_transition';
        END IF;
        RETURN NEW;
    END $$
    """,
    "CREATE TRIGGER methodology_guard BEFORE UPDATE OR DELETE ON methodology "
    "FOR EACH ROW EXECUTE FUNCTION registry_methodology_guard()",
)


def upgrade() -> None:
    for statement in UPGRADE:
        op.execute(statement)


def downgrade() -> None:
    op.execute("DROP TRIGGER methodology_guard ON methodology")
    op.execute("DROP FUNCTION registry_methodology_guard()")
    op.execute("DROP INDEX uq_methodology_code_draft")
    op.execute("DROP INDEX uq_methodology_code_active")
    op.execute("ALTER TABLE methodology DROP CONSTRAINT ck_methodology_published")
    op.execute("ALTER TABLE methodology DROP CONSTRAINT ck_methodology_withdrawal")
    op.execute("ALTER TABLE methodology DROP COLUMN withdrawn_at, DROP COLUMN withdrawn_reason")
    op.execute("DROP TRIGGER parcel_guard ON parcel")
    op.execute("DROP FUNCTION registry_parcel_guard()")
    op.execute("ALTER TABLE parcel DROP COLUMN released_at")
    op.execute("ALTER TABLE project DROP CONSTRAINT ck_project_closure")
    op.execute("ALTER TABLE project DROP CONSTRAINT ck_project_public_notice_dates")
    op.execute("ALTER TABLE project DROP CONSTRAINT ck_project_status_known")
    op.execute(f"ALTER TABLE project ADD CONSTRAINT ck_project_status_known CHECK (status IN {OLD_PROJECT_STATES})")
    op.execute("ALTER TABLE project DROP COLUMN public_notice_on, DROP COLUMN closed_at, DROP COLUMN closed_reason")
