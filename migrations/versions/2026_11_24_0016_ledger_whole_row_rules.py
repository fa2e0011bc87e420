"""Ledger: the row rules' domains are domains over the tables' own row types, and each table CHECK casts the row.

Migration 0012 gave account and transfer one CHECK each, ``ROW(<the columns the rules read>)::<domain>``, over a
composite type of those columns. PostgreSQL stores a CHECK as a node tree in text and, for every statement that
writes the table, reads that text back, plans it and sets it up. With seven and eleven column references those
texts are 1,105 and 1,603 characters, and reading them back was the largest single cost of a transfer's guards.

Now ``ledger_account_rules`` is a domain over the row type of ``account`` itself and ``ledger_transfer_rules`` one over
``transfer``'s, and each CHECK casts the whole row: ``CHECK ((account)::ledger_account_rules IS DISTINCT FROM
NULL)``. The stored text is a fifth as long. The rules, their names, the SQLSTATE (23514) and the message ("value for
domain ledger_account_rules violates check constraint ...") stay as they were. The composite types
``ledger_account_rules_row`` and ``ledger_transfer_rules_row`` go.

Measured with callgrind on PostgreSQL 15 (single-user backend, 1,000 transfers after 100 to warm up, instructions
per transfer, repeatable to 0.01 %): 836,973 before, 757,926 after. In the benchmark's row (a), where the Python
clients and the server share two cores, that is about a tenth more transfers/s.

A later migration can still add and drop columns of either table. To change a column's type it should drop the
table's ``ck_*_rules`` first and add it back afterwards: PostgreSQL 15 refuses to alter a table "because constraint
ck_transfer_rules on table transfer uses its row type" (PostgreSQL 18 allows it; the test of this revision shows
both).

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-24
"""

from collections.abc import Sequence
from typing import Any

from alembic import context, op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def row_rules() -> tuple[Any, Any]:
    """0012's ``ACCOUNT`` and ``TRANSFER``: each table's fields, rules and the names of its domain and CHECK."""
    rules = context.script.get_revision("0012").module
    return rules.ACCOUNT, rules.TRANSFER


def domain_constraints(rules: Any) -> str:
    return " ".join(
        f"CONSTRAINT {name} CHECK ({rules.on_value(condition)})" for name, condition in rules.rules().items()
    )


def upgrade() -> None:
    for rules in row_rules():
        op.execute(f"ALTER TABLE {rules.table} DROP CONSTRAINT {rules.check}")
        op.execute(f"DROP DOMAIN {rules.domain}")
        op.execute(f"DROP TYPE {rules.row_type}")
        op.execute(f"CREATE DOMAIN {rules.domain} AS {rules.table} {domain_constraints(rules)}")
        op.execute(
            f"ALTER TABLE {rules.table} ADD CONSTRAINT {rules.check} "
            f"CHECK (({rules.table})::{rules.domain} IS DISTINCT FROM NULL)"
        )


def downgrade() -> None:
    for rules in reversed(row_rules()):
        op.execute(f"ALTER TABLE {rules.table} DROP CONSTRAINT {rules.check}")
        op.execute(f"DROP DOMAIN {rules.domain}")
        columns = ", ".join(f"{name} {kind}" for name, kind in rules.fields)
        op.execute(f"CREATE TYPE {rules.row_type} AS ({columns})")
        op.execute(f"CREATE DOMAIN {rules.domain} AS {rules.row_type} {domain_constraints(rules)}")
        row = ", ".join(name for name, _ in rules.fields)
        op.execute(
            f"ALTER TABLE {rules.table} ADD CONSTRAINT {rules.check} "
            f"CHECK (ROW({row})::{rules.domain} IS DISTINCT FROM NULL)"
        )
