"""Ledger: invariants that cost little per statement, so a transfer of its own commits faster.

PostgreSQL re-reads every CHECK constraint of a table from the catalog (parses and plans its stored expression) on
each statement that writes a row there, but keeps a domain's constraints compiled in its type cache. Measured on the
2-core development machine, the nine CHECKs of ``account`` made each one-row UPDATE cost about 60 us more than the
same UPDATE without them, and a transfer of its own updates two accounts. So:

- the four balance columns take the domain ``ledger_balance`` (``VALUE >= 0``), which replaces
  ``ck_account_balances_non_negative``;
- the rules about columns that never change after INSERT (``account_identity_fixed`` refuses it) move to the INSERT
  trigger ``ledger_account_defaults``: the purpose's format, the sub-account's range and the exclusive flags (the
  trigger derives ``serialized`` and ``holds_serials`` itself, so the two rules about those hold by construction);
- the balance-flag rules stay CHECK constraints: debits within credits and credits within debits (pending amounts
  included), and retired accounts never debited.

``ledger_post_single`` inserts with ON CONFLICT DO NOTHING instead of catching unique_violation: an exception block
opens a subtransaction on every call.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-24
"""

from collections.abc import Iterable, Sequence

from alembic import context, op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BALANCES = ("debits_posted", "credits_posted", "debits_pending", "credits_pending")

ACCOUNT_DEFAULTS = r"""
CREATE OR REPLACE FUNCTION ledger_account_defaults() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.purpose !~ '^[a-z][a-z0-9_]{0,39}$' THEN
        RAISE EXCEPTION 'new row for relation "account" violates check constraint "ck_account_purpose_format"'
            USING ERRCODE = 'check_violation', CONSTRAINT = 'ck_account_purpose_format',
                  DETAIL = format('purpose %L is not a lower-case code', NEW.purpose);
    END IF;
    IF NEW.sub_account NOT BETWEEN 0 AND 1023 THEN
        RAISE EXCEPTION 'new row for relation "account" violates check constraint "ck_account_sub_account_range"'
            USING ERRCODE = 'check_violation', CONSTRAINT = 'ck_account_sub_account_range',
                  DETAIL = format('sub-account %s is outside 0..1023', NEW.sub_account);
    END IF;
    IF NEW.debits_must_not_exceed_credits AND NEW.credits_must_not_exceed_debits THEN
        RAISE EXCEPTION 'new row for relation "account" violates check constraint "ck_account_flags_exclusive"'
            USING ERRCODE = 'check_violation', CONSTRAINT = 'ck_account_flags_exclusive',
                  DETAIL = 'an account limits its debits or its credits, not both';
    END IF;
    NEW.serialized := (SELECT kind = 'credit_batch' FROM asset WHERE id = NEW.asset_id);
    NEW.holds_serials := NEW.serialized AND (NEW.debits_must_not_exceed_credits OR NEW.retired);
    RETURN NEW;
END $$
"""

ACCOUNT_DEFAULTS_0002 = r"""
CREATE OR REPLACE FUNCTION ledger_account_defaults() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.serialized := (SELECT kind = 'credit_batch' FROM asset WHERE id = NEW.asset_id);
    NEW.holds_serials := NEW.serialized AND (NEW.debits_must_not_exceed_credits OR NEW.retired);
    RETURN NEW;
END $$
"""

MOVED_CHECKS = {
    "ck_account_purpose_format": "CHECK (purpose ~ '^[a-z][a-z0-9_]{0,39}$')",
    "ck_account_sub_account_range": "CHECK (sub_account BETWEEN 0 AND 1023)",
    "ck_account_flags_exclusive": "CHECK (NOT (debits_must_not_exceed_credits AND credits_must_not_exceed_debits))",
    "ck_account_holds_serials_non_negative": "CHECK (NOT holds_serials OR debits_must_not_exceed_credits OR retired)",
    "ck_account_holds_serials_serialized": "CHECK (NOT holds_serials OR serialized)",
    "ck_account_balances_non_negative": (
        "CHECK (debits_posted >= 0 AND credits_posted >= 0 AND debits_pending >= 0 AND credits_pending >= 0)"
    ),
}

# The one edit of ``ledger_post_single`` (0002 keeps the whole function; this revision applies the edit to it).
TRY_INSERT = """            -- A plain INSERT in a block is cheaper than ON CONFLICT; the id taken means a duplicate (see below).
            BEGIN
                INSERT INTO transfer (id, debit_account_id, credit_account_id, asset_id, amount, code, pending,
                                      timeout_seconds, expires_at, reference)
                VALUES (p_id, p_debit, p_credit, d_asset, p_amount, p_code, is_pending,
                        CASE WHEN is_pending AND p_timeout > 0 THEN p_timeout END,
                        CASE WHEN is_pending AND p_timeout > 0 THEN now() + make_interval(secs => p_timeout) END,
                        p_reference);
            EXCEPTION WHEN unique_violation THEN
                conflicted := true;
            END;
"""
INSERT_ON_CONFLICT = """            -- ON CONFLICT instead of an exception block: a block opens a subtransaction on every call. An id taken
            -- means a duplicate, which the diagnosis below names (or a concurrent writer: retry, see below).
            INSERT INTO transfer (id, debit_account_id, credit_account_id, asset_id, amount, code, pending,
                                  timeout_seconds, expires_at, reference)
            VALUES (p_id, p_debit, p_credit, d_asset, p_amount, p_code, is_pending,
                    CASE WHEN is_pending AND p_timeout > 0 THEN p_timeout END,
                    CASE WHEN is_pending AND p_timeout > 0 THEN now() + make_interval(secs => p_timeout) END,
                    p_reference)
            ON CONFLICT (id) DO NOTHING;
            conflicted := NOT FOUND;
"""


def single_function(*, edited: bool) -> str:
    """``ledger_post_single`` as 0002 wrote it, or with this revision's edit; either replaces the installed one."""
    text = revision_0002_text("SINGLE_FUNCTION").replace(
        "CREATE FUNCTION ledger_post_single(", "CREATE OR REPLACE FUNCTION ledger_post_single(", 1
    )
    return replace_once(text, TRY_INSERT, INSERT_ON_CONFLICT) if edited else text


def revision_0002_text(name: str) -> str:
    """A constant of revision 0002's module (as Alembic loaded it): the one source of the functions it created."""
    text: str = getattr(context.script.get_revision("0002").module, name)
    return text


def replace_once(text: str, old: str, new: str) -> str:
    """``text`` with ``old`` replaced by ``new``; ``old`` must occur exactly once (a migration never guesses)."""
    if text.count(old) != 1:
        raise RuntimeError(f"expected the fragment once, found it {text.count(old)} times: {old[:60]!r}")
    return text.replace(old, new)


def apply_edits(text: str, edits: Iterable[tuple[str, str]]) -> str:
    """``text`` with each (old, new) edit applied by ``replace_once``, in order: how later revisions change a function
    that an earlier one installed, without carrying a copy of it."""
    for old, new in edits:
        text = replace_once(text, old, new)
    return text


def upgrade() -> None:
    op.execute("CREATE DOMAIN ledger_balance AS bigint CONSTRAINT ledger_balance_non_negative CHECK (VALUE >= 0)")
    drops = ", ".join(f"DROP CONSTRAINT {name}" for name in MOVED_CHECKS)
    columns = ", ".join(f"ALTER COLUMN {column} TYPE ledger_balance" for column in BALANCES)
    op.execute(f"ALTER TABLE account {drops}, {columns}")
    op.execute(ACCOUNT_DEFAULTS)
    op.execute(single_function(edited=True))


def downgrade() -> None:
    op.execute(single_function(edited=False))
    op.execute(ACCOUNT_DEFAULTS_0002)
    columns = ", ".join(f"ALTER COLUMN {column} TYPE bigint" for column in BALANCES)
    adds = ", ".join(f"ADD CONSTRAINT {name} {check}" for name, check in MOVED_CHECKS.items())
    op.execute(f"ALTER TABLE account {columns}, {adds}")
    op.execute("DROP DOMAIN ledger_balance")
