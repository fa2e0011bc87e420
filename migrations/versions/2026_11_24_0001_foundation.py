"""Foundation: identity (organisations, users, API keys), idempotency keys, the audit trail.

Revision ID: 0001
Revises:
Create Date: 2026-11-24
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql as pg

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NOW = sa.text("now()")
UUID_DEFAULT = sa.text("gen_random_uuid()")


def upgrade() -> None:
    # A shared function for append-only tables: rows may be inserted, never changed or removed.
    op.execute(
        """
        CREATE FUNCTION reject_change() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION '% on % is not allowed: the table is append-only', TG_OP, TG_TABLE_NAME
                USING ERRCODE = 'restrict_violation';
        END $$;
        """
    )

    op.create_table(
        "organisation",
        sa.Column("id", pg.UUID, primary_key=True, server_default=UUID_DEFAULT),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("role", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=NOW),
        sa.CheckConstraint(
            "role IN ('operator','verifier','project_owner','enterprise','bank','certifier')",
            name="role_known",
        ),
        sa.CheckConstraint("length(btrim(name)) BETWEEN 1 AND 200", name="name_length"),
        sa.UniqueConstraint("name"),
    )
    op.create_table(
        "app_user",
        sa.Column("id", pg.UUID, primary_key=True, server_default=UUID_DEFAULT),
        sa.Column("organisation_id", pg.UUID, sa.ForeignKey("organisation.id"), nullable=False),
        sa.Column("username", sa.Text, nullable=False),
        sa.Column("display_name", sa.Text, nullable=False),
        sa.Column("password_hash", sa.Text, nullable=False),
        sa.Column("is_active", sa.Boolean, nullable=False, server_default=sa.true()),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=NOW),
        sa.CheckConstraint("username = lower(username)", name="username_lowercase"),
        sa.CheckConstraint("username ~ '^[a-z0-9][a-z0-9._@-]{1,63}$'", name="username_format"),
        sa.CheckConstraint("password_hash LIKE '$argon2%'", name="password_argon2"),
        sa.UniqueConstraint("username"),
    )
    op.create_index("ix_app_user_organisation_id", "app_user", ["organisation_id"])
    op.create_table(
        "api_key",
        sa.Column("id", pg.UUID, primary_key=True, server_default=UUID_DEFAULT),
        sa.Column("organisation_id", pg.UUID, sa.ForeignKey("organisation.id"), nullable=False),
        sa.Column("created_by", pg.UUID, sa.ForeignKey("app_user.id")),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("client_id", sa.Text, nullable=False),
        sa.Column("secret_hash", sa.LargeBinary, nullable=False),
        sa.Column("scopes", pg.ARRAY(sa.Text), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=NOW),
        sa.Column("last_used_at", sa.DateTime(timezone=True)),
        sa.Column("revoked_at", sa.DateTime(timezone=True)),
        sa.CheckConstraint("octet_length(secret_hash) = 32", name="secret_hash_sha256"),
        sa.UniqueConstraint("client_id"),
    )
    op.create_index("ix_api_key_organisation_id", "api_key", ["organisation_id"])

    op.create_table(
        "idempotency_key",
        sa.Column("principal", sa.Text, primary_key=True),
        sa.Column("key", sa.Text, primary_key=True),
        sa.Column("method", sa.Text, nullable=False),
        sa.Column("path", sa.Text, nullable=False),
        sa.Column("request_hash", sa.LargeBinary, nullable=False),
        sa.Column("status_code", sa.Integer),
        sa.Column("response_body", pg.JSONB),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=NOW),
        sa.CheckConstraint("length(key) BETWEEN 1 AND 255", name="key_length"),
        sa.CheckConstraint("(status_code IS NULL) = (response_body IS NULL)", name="response_complete"),
    )
    op.create_index("ix_idempotency_key_created_at", "idempotency_key", ["created_at"])

    op.create_table(
        "audit_event",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False, server_default=NOW),
        sa.Column("organisation_id", pg.UUID),
        sa.Column("user_id", pg.UUID),
        sa.Column("api_key_id", pg.UUID),
        sa.Column("action", sa.Text, nullable=False),
        sa.Column("subject_type", sa.Text, nullable=False),
        sa.Column("subject_id", sa.Text, nullable=False),
        sa.Column("detail", pg.JSONB, nullable=False),
        sa.Column("request_id", sa.Text),
    )
    op.create_index("ix_audit_event_subject", "audit_event", ["subject_type", "subject_id"])
    op.execute(
        "CREATE TRIGGER audit_event_append_only BEFORE UPDATE OR DELETE ON audit_event "
        "FOR EACH ROW EXECUTE FUNCTION reject_change()"
    )


def downgrade() -> None:
    op.drop_table("audit_event")
    op.drop_table("idempotency_key")
    op.drop_table("api_key")
    op.drop_table("app_user")
    op.drop_table("organisation")
    op.execute("DROP FUNCTION reject_change()")
