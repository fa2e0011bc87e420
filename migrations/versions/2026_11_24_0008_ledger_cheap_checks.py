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

import importlib.util
from collections.abc import Sequence
from pathlib import Path

from alembic import op

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

SINGLE_FUNCTION = r"""
CREATE OR REPLACE FUNCTION ledger_post_single(
    p_id uuid, p_debit bigint, p_credit bigint, p_amount bigint, p_asset integer, p_code text, p_flags integer,
    p_timeout integer, p_reference text
) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    max_amount constant bigint := 9223372036854775807;
    is_pending boolean := (p_flags & 2) <> 0;
    posted bigint := CASE WHEN (p_flags & 2) <> 0 THEN 0 ELSE p_amount END;
    reserved bigint := CASE WHEN (p_flags & 2) <> 0 THEN p_amount ELSE 0 END;
    debit_first boolean := p_debit < p_credit;
    debited boolean := false;
    credited boolean := false;
    d_asset integer;
    d_holds boolean;
    d_serialized boolean;
    c_asset integer;
    c_holds boolean;
    acc record;
    x record;
    d record;
    c record;
    d_found boolean := false;
    c_found boolean := false;
    conflicted boolean := false;
BEGIN
    IF p_id IS NULL THEN RETURN 'id_required'; END IF;
    IF p_code IS NULL OR p_code !~ '^[a-z][a-z0-9_]{0,39}$' THEN RETURN 'code_invalid'; END IF;
    IF length(p_reference) > 500 THEN RETURN 'reference_too_long'; END IF;
    IF NOT is_pending AND coalesce(p_timeout, 0) <> 0 THEN RETURN 'timeout_reserved_for_pending_transfer'; END IF;
    IF p_timeout < 0 THEN RETURN 'timeout_invalid'; END IF;
    IF p_debit = p_credit THEN RETURN 'accounts_must_differ'; END IF;
    IF p_amount IS NULL OR p_amount <= 0 THEN RETURN 'amount_must_be_positive'; END IF;

    -- Happy path: each account is checked and changed by one UPDATE (lower id first, like every other writer).
    -- A refusal falls through to the diagnosis below, which undoes what was applied and names the first rule broken.
    <<apply>>
    FOR step IN 1 .. 2 LOOP
        IF (step = 1) = debit_first THEN
            UPDATE account
               SET debits_posted = debits_posted + posted, debits_pending = debits_pending + reserved
             WHERE id = p_debit AND NOT retired AND (p_asset IS NULL OR asset_id = p_asset)
               AND (NOT debits_must_not_exceed_credits OR debits_pending + debits_posted + p_amount <= credits_posted)
               AND debits_posted + debits_pending <= max_amount - p_amount
            RETURNING asset_id, holds_serials, serialized INTO d_asset, d_holds, d_serialized;
            EXIT apply WHEN NOT FOUND;
            debited := true;
        ELSE
            UPDATE account
               SET credits_posted = credits_posted + posted, credits_pending = credits_pending + reserved
             WHERE id = p_credit AND (p_asset IS NULL OR asset_id = p_asset)
               AND (NOT credits_must_not_exceed_debits OR credits_pending + credits_posted + p_amount <= debits_posted)
               AND credits_posted + credits_pending <= max_amount - p_amount
            RETURNING asset_id, holds_serials INTO c_asset, c_holds;
            EXIT apply WHEN NOT FOUND;
            credited := true;
        END IF;
    END LOOP;
    IF debited AND credited THEN
        IF c_asset = d_asset THEN
            -- ON CONFLICT instead of an exception block: a block opens a subtransaction on every call. An id taken
            -- means a duplicate, which the diagnosis below names (or a concurrent writer: retry, see below).
            INSERT INTO transfer (id, debit_account_id, credit_account_id, asset_id, amount, code, pending,
                                  timeout_seconds, expires_at, reference)
            VALUES (p_id, p_debit, p_credit, d_asset, p_amount, p_code, is_pending,
                    CASE WHEN is_pending AND p_timeout > 0 THEN p_timeout END,
                    CASE WHEN is_pending AND p_timeout > 0 THEN now() + make_interval(secs => p_timeout) END,
                    p_reference)
            ON CONFLICT (id) DO NOTHING;
            conflicted := NOT FOUND;
            IF NOT conflicted THEN
                IF is_pending AND p_timeout > 0 THEN
                    INSERT INTO pending_expiry (pending_id, expires_at)
                    VALUES (p_id, now() + make_interval(secs => p_timeout));
                END IF;
                IF d_serialized AND NOT is_pending THEN
                    PERFORM ledger_move_serials(p_id, d_asset, p_debit, d_holds, p_credit, c_holds, p_amount);
                END IF;
                RETURN 'ok';
            END IF;
        END IF;
    END IF;

    -- Refused (or the id exists): undo, then answer as ledger_post would, with both accounts locked.
    IF debited THEN
        UPDATE account SET debits_posted = debits_posted - posted, debits_pending = debits_pending - reserved
         WHERE id = p_debit;
    END IF;
    IF credited THEN
        UPDATE account SET credits_posted = credits_posted - posted, credits_pending = credits_pending - reserved
         WHERE id = p_credit;
    END IF;
    FOR acc IN SELECT a.id, a.asset_id, a.debits_must_not_exceed_credits AS dmnec,
                      a.credits_must_not_exceed_debits AS cmned, a.retired, a.holds_serials,
                      a.debits_posted AS dp, a.credits_posted AS cp, a.debits_pending AS dpe,
                      a.credits_pending AS cpe
                 FROM account a WHERE a.id IN (p_debit, p_credit) ORDER BY a.id FOR NO KEY UPDATE LOOP
        IF acc.id = p_debit THEN d := acc; d_found := true; ELSE c := acc; c_found := true; END IF;
    END LOOP;
    SELECT t.debit_account_id, t.credit_account_id, t.amount, t.asset_id, t.code, t.reference, t.timeout_seconds,
           t.pending_id, t.linked::integer | (t.pending::integer << 1) | (t.post_pending::integer << 2)
               | (t.void_pending::integer << 3) AS flags
      INTO x FROM transfer t WHERE t.id = p_id;
    IF FOUND THEN
        IF x.flags <> p_flags THEN RETURN 'exists_with_different_flags'; END IF;
        IF x.pending_id IS NOT NULL THEN RETURN 'exists_with_different_pending_id'; END IF;
        IF x.timeout_seconds IS DISTINCT FROM nullif(p_timeout, 0) THEN RETURN 'exists_with_different_timeout'; END IF;
        IF x.debit_account_id <> p_debit THEN RETURN 'exists_with_different_debit_account_id'; END IF;
        IF x.credit_account_id <> p_credit THEN RETURN 'exists_with_different_credit_account_id'; END IF;
        IF x.amount <> p_amount THEN RETURN 'exists_with_different_amount'; END IF;
        IF p_asset IS NOT NULL AND x.asset_id <> p_asset THEN RETURN 'exists_with_different_asset'; END IF;
        IF x.code <> p_code THEN RETURN 'exists_with_different_code'; END IF;
        IF x.reference IS DISTINCT FROM p_reference THEN RETURN 'exists_with_different_reference'; END IF;
        RETURN 'exists';
    END IF;
    IF conflicted THEN
        -- The insert found the id taken, yet it is not visible: written by a transaction that committed after
        -- this statement began. The caller retries the whole transaction.
        RAISE EXCEPTION 'ledger_post: a transfer id was written concurrently; retry the batch'
            USING ERRCODE = 'serialization_failure';
    END IF;
    IF NOT d_found THEN RETURN 'debit_account_not_found'; END IF;
    IF NOT c_found THEN RETURN 'credit_account_not_found'; END IF;
    IF d.asset_id <> c.asset_id OR p_asset <> d.asset_id THEN RETURN 'asset_mismatch'; END IF;
    IF d.retired THEN RETURN 'debit_account_retired'; END IF;
    IF p_amount > max_amount - d.dp - d.dpe THEN RETURN 'overflows_debits'; END IF;
    IF p_amount > max_amount - c.cp - c.cpe THEN RETURN 'overflows_credits'; END IF;
    IF d.dmnec AND d.dpe + d.dp + p_amount > d.cp THEN RETURN 'exceeds_credits'; END IF;
    IF c.cmned AND c.cpe + c.cp + p_amount > c.dp THEN RETURN 'exceeds_debits'; END IF;
    -- Every rule holds now (a concurrent transfer changed the balances between the UPDATE and the lock): go again.
    RETURN ledger_post_single(p_id, p_debit, p_credit, p_amount, p_asset, p_code, p_flags, p_timeout, p_reference);
END $$;

"""


def _revision_0002_single_function() -> str:
    """The 0002 text of ``ledger_post_single``, for the downgrade (the revision file is the one source of it)."""
    path = Path(__file__).with_name("2026_11_24_0002_ledger.py")
    spec = importlib.util.spec_from_file_location("bashan_migration_0002", path)
    if spec is None or spec.loader is None:
        raise RuntimeError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    text: str = module.SINGLE_FUNCTION
    return text.replace("CREATE FUNCTION ledger_post_single(", "CREATE OR REPLACE FUNCTION ledger_post_single(", 1)


def upgrade() -> None:
    op.execute("CREATE DOMAIN ledger_balance AS bigint CONSTRAINT ledger_balance_non_negative CHECK (VALUE >= 0)")
    drops = ", ".join(f"DROP CONSTRAINT {name}" for name in MOVED_CHECKS)
    columns = ", ".join(f"ALTER COLUMN {column} TYPE ledger_balance" for column in BALANCES)
    op.execute(f"ALTER TABLE account {drops}, {columns}")
    op.execute(ACCOUNT_DEFAULTS)
    op.execute(SINGLE_FUNCTION)


def downgrade() -> None:
    op.execute(_revision_0002_single_function())
    op.execute(ACCOUNT_DEFAULTS_0002)
    columns = ", ".join(f"ALTER COLUMN {column} TYPE bigint" for column in BALANCES)
    adds = ", ".join(f"ADD CONSTRAINT {name} {check}" for name, check in MOVED_CHECKS.items())
    op.execute(f"ALTER TABLE account {columns}, {adds}")
    op.execute("DROP DOMAIN ledger_balance")
