"""Ledger: ``ledger_post_single`` moves nothing for a transfer without a debit or a credit account.

Found by fuzzing the API. The general path takes the lower account id first: ``debit_first := p_debit < p_credit``,
then ``IF (step = 1) = debit_first`` in each of its two steps. With one account null that comparison is null, IF
takes null as false, and both steps took the credit branch: the credit account was raised twice, and the undo
lowered it once. A new id was then refused (``debit_account_not_found``) and a caller's session could still commit
the raised balance, since ``post`` answers refusals without raising; a resubmitted id answered ``exists`` and the
request committed it. The credit account kept the amount with no transfer behind it. (The fast path was never
taken: its ``p_debit <> p_credit`` is null too.)

Now the two steps are skipped when either account is null, and the diagnosis answers as ``ledger_post`` does for
the same transfer in a batch: an id already taken is ``exists`` when every field given matches (a null account is
a field not given, as for a post or a void), else names the field; a new id is ``debit_account_not_found`` or
``credit_account_not_found``. Nothing moves in any case.

Revision ID: 0023
Revises: 0022
Create Date: 2026-11-25
"""

from collections.abc import Sequence

from alembic import context, op

revision: str = "0023"
down_revision: str | None = "0022"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

APPLY_LOOP = """    <<apply>>
    FOR step IN 1 .. 2 LOOP
"""
APPLY_LOOP_GUARDED = """    <<apply>>
    FOR step IN 1 .. 2 LOOP
        -- Without both accounts debit_first is null and both steps would take the credit branch (migration 0023).
        EXIT apply WHEN p_debit IS NULL OR p_credit IS NULL;
"""


def single_function(*, guarded: bool) -> str:
    """``ledger_post_single`` as 0019 left it, or with its two steps skipped when an account is missing."""
    text: str = context.script.get_revision("0019").module.single_function(assume_new=True)  # CREATE OR REPLACE
    if guarded:
        text = context.script.get_revision("0008").module.replace_once(text, APPLY_LOOP, APPLY_LOOP_GUARDED)
    return text


def upgrade() -> None:
    op.execute(single_function(guarded=True))


def downgrade() -> None:
    op.execute(single_function(guarded=False))
