"""Ledger: the single-column rules of a transfer become domains, which PostgreSQL keeps compiled.

Migration 0008 explains the cost: every CHECK constraint of a table is parsed and planned again on each statement
that writes it, a domain's constraints once per backend. A transfer of its own is one INSERT, so its seven CHECKs
(5 KB of stored expression) were read from the catalog for every transfer. The amount, the code and the reference
are single columns: their rules move to the domains ``ledger_amount`` (``> 0``), ``ledger_code`` (lower-case code
of at most 40 characters) and ``ledger_reference`` (at most 500 characters). The rules across columns (the two
accounts differ, the flag combinations, the timeout) stay CHECK constraints.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-24
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DOMAINS = (
    ("ledger_amount", "bigint", "ledger_amount_positive", "VALUE > 0", "amount", "ck_transfer_amount_positive"),
    (
        "ledger_code",
        "text",
        "ledger_code_format",
        "VALUE ~ '^[a-z][a-z0-9_]{0,39}$'",
        "code",
        "ck_transfer_code_format",
    ),
    (
        "ledger_reference",
        "text",
        "ledger_reference_length",
        "length(VALUE) <= 500",
        "reference",
        "ck_transfer_reference_length",
    ),
)
OLD_CHECKS = {
    "ck_transfer_amount_positive": "CHECK (amount > 0)",
    "ck_transfer_code_format": "CHECK (code ~ '^[a-z][a-z0-9_]{0,39}$')",
    "ck_transfer_reference_length": "CHECK (reference IS NULL OR length(reference) <= 500)",
}


def upgrade() -> None:
    for domain, base, constraint, rule, _, _ in DOMAINS:
        op.execute(f"CREATE DOMAIN {domain} AS {base} CONSTRAINT {constraint} CHECK ({rule})")
    changes = [f"DROP CONSTRAINT {check}" for *_, check in DOMAINS]
    changes += [f"ALTER COLUMN {column} TYPE {domain}" for domain, _, _, _, column, _ in DOMAINS]
    op.execute(f"ALTER TABLE transfer {', '.join(changes)}")


def downgrade() -> None:
    changes = [f"ALTER COLUMN {column} TYPE {base}" for _, base, _, _, column, _ in DOMAINS]
    changes += [f"ADD CONSTRAINT {name} {check}" for name, check in OLD_CHECKS.items()]
    op.execute(f"ALTER TABLE transfer {', '.join(changes)}")
    for domain, *_ in DOMAINS:
        op.execute(f"DROP DOMAIN {domain}")
