"""Ledger: a batch looks its transfer ids and pendings up by key, whatever the planner thinks of the batch's size.

``ledger_post`` asks which ids of a batch exist already with ``unnest(p_id) ... JOIN transfer x ON x.id = t.id``.
PL/pgSQL plans a statement afresh for each of its first five calls on a connection (custom plans, which see the
arrays' real sizes) before it settles on a generic plan. For a batch of 1,000 ids on a ledger of 21,001 transfers
the custom plan was a hash join over a sequential scan of the whole transfer table, and it stays one until the
table is some twenty times larger than the batch: every new connection paid for reading all transfers in its first
five batches, more as the ledger grows. The generic plan probes ``pk_transfer`` once per id, which is what the
batch needs at any size.

Now each lookup is a LATERAL subquery with ``OFFSET 0``, which the planner may not flatten into a join, so every
plan probes the index once per element: the existence check, the pendings that posts and voids name (``pk_transfer``),
and the resolutions already made of them (``uq_transfer_pending_id``).

Measured with callgrind on PostgreSQL 18 (single-user backend, seven batches of 1,000 plain transfers on a copy of
a funded ledger of 21,001 transfers at 0025, the last five counted, three of them on custom plans): instructions
per transfer 284,834 before, 261,383 after.

Revision ID: 0026
Revises: 0025
Create Date: 2026-11-25
"""

from collections.abc import Sequence

from alembic import context, op

revision: str = "0026"
down_revision: str | None = "0025"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

EDITS = (
    (
        """          LEFT JOIN transfer p ON p.id = r.pid
""",
        """          -- LATERAL ... OFFSET 0: one probe of pk_transfer per id in every plan (migration 0026)
          LEFT JOIN LATERAL (SELECT * FROM transfer p WHERE p.id = r.pid OFFSET 0) p ON true
""",
    ),
    (
        """        FOR s, f IN SELECT array_position(s_id, t.pending_id), CASE WHEN t.post_pending THEN 1 ELSE 2 END
                      FROM transfer t WHERE t.pending_id = ANY (s_id) LOOP""",
        """        FOR s, f IN SELECT array_position(s_id, t.pending_id), CASE WHEN t.post_pending THEN 1 ELSE 2 END
                      FROM unnest(s_id) q(pid)
                      CROSS JOIN LATERAL (SELECT * FROM transfer t WHERE t.pending_id = q.pid OFFSET 0) t LOOP""",
    ),
    (
        """      FROM unnest(p_id) WITH ORDINALITY t(id, ord) JOIN transfer x ON x.id = t.id;""",
        """      FROM unnest(p_id) WITH ORDINALITY t(id, ord)
      CROSS JOIN LATERAL (SELECT * FROM transfer x WHERE x.id = t.id OFFSET 0) x;""",
    ),
)


def post_function(*, by_key: bool) -> str:
    """``ledger_post`` as 0009 left it, or with its lookups by key; either replaces the installed one."""
    text: str = context.script.get_revision("0009").module.post_function(edited=True)
    if by_key:
        text = context.script.get_revision("0008").module.apply_edits(text, EDITS)
    return text


def upgrade() -> None:
    op.execute(post_function(by_key=True))


def downgrade() -> None:
    op.execute(post_function(by_key=False))
