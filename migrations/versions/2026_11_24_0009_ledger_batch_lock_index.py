"""Ledger: a batch locks its accounts through the index, not by reading every account.

``ledger_post`` locked the accounts of a batch with ``WHERE id IN (SELECT unnest(...) UNION ...)``. Its generic plan
hash-joins that set against a sequential scan of ``account``: every batch, however small, read the whole table, so the
cost of posting grew with the number of accounts on the platform (about 1 ms per batch at a thousand accounts on the
development machine). ``id = ANY (ARRAY(...))`` is an index condition; the rows are still locked in id order.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-24
"""

from collections.abc import Sequence

from alembic import context, op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The one edit of ``ledger_post`` (0002 keeps the whole function; this revision applies the edit to it).
LOCK_BY_SUBQUERY = """             WHERE id IN (SELECT unnest(p_debit) UNION SELECT unnest(p_credit)
                          UNION SELECT unnest(s_debit) UNION SELECT unnest(s_credit))"""
LOCK_BY_INDEX = """             -- = ANY (ARRAY(...)), not IN (SELECT ...): the planner hash-joined IN against a scan of every account
             WHERE id = ANY (ARRAY(SELECT unnest(p_debit) UNION SELECT unnest(p_credit)
                                   UNION SELECT unnest(s_debit) UNION SELECT unnest(s_credit)))"""


def post_function(*, edited: bool) -> str:
    """``ledger_post`` as 0002 wrote it, or with this revision's edit; either replaces the installed one."""
    cheap_checks = context.script.get_revision("0008").module  # holds 0002's text and the one-edit helper
    text: str = cheap_checks.revision_0002_text("POST_FUNCTION").replace(
        "CREATE FUNCTION ledger_post(", "CREATE OR REPLACE FUNCTION ledger_post(", 1
    )
    return cheap_checks.replace_once(text, LOCK_BY_SUBQUERY, LOCK_BY_INDEX) if edited else text


def upgrade() -> None:
    op.execute(post_function(edited=True))


def downgrade() -> None:
    op.execute(post_function(edited=False))
