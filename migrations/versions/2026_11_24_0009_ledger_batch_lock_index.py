"""Ledger: a batch locks its accounts through the index, not by reading every account.

``ledger_post`` locked the accounts of a batch with ``WHERE id IN (SELECT unnest(...) UNION ...)``. Its generic plan
hash-joins that set against a sequential scan of ``account``: every batch, however small, read the whole table, so the
cost of posting grew with the number of accounts on the platform (about 1 ms per batch at a thousand accounts on the
development machine). ``id = ANY (ARRAY(...))`` is an index condition; the rows are still locked in id order.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-24
"""

import importlib.util
from collections.abc import Sequence
from pathlib import Path

from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

POST_FUNCTION = r"""
CREATE OR REPLACE FUNCTION ledger_post(
    p_id uuid[], p_debit bigint[], p_credit bigint[], p_amount bigint[], p_asset integer[], p_code text[],
    p_flags integer[], p_pending_id uuid[], p_timeout integer[], p_reference text[]
) RETURNS text[] LANGUAGE plpgsql AS $$
DECLARE
    n integer := coalesce(cardinality(p_id), 0);
    max_amount constant bigint := 9223372036854775807;
    res text[];
    -- per transfer: resolved accounts (ids and local indexes), asset, amount written, pending amount, slot
    e_debit bigint[]; e_credit bigint[]; e_asset integer[]; e_amount bigint[]; e_pamount bigint[];
    di integer[]; ci integer[]; slot integer[]; ex integer[]; dup integer[];
    -- per locked account (sorted by id)
    acc bigint[]; a_asset integer[]; a_dmnec boolean[]; a_cmned boolean[]; a_retired boolean[]; a_holds boolean[];
    a_serialized boolean[]; a_dp bigint[]; a_cp bigint[]; a_dpe bigint[]; a_cpe bigint[];
    any_serialized boolean := false;
    -- per referenced pending (sorted by id): its definition and state (0 open, 1 posted, 2 voided, -1 unknown)
    s_id uuid[]; s_found boolean[]; s_pending boolean[]; s_debit bigint[]; s_credit bigint[]; s_asset integer[];
    s_amount bigint[]; s_expires timestamptz[]; s_state integer[]; s_di integer[]; s_ci integer[]; s_batch integer[];
    -- existing transfers with ids of this batch
    x_ord integer[]; x_debit bigint[]; x_credit bigint[]; x_amount bigint[]; x_asset integer[]; x_code text[];
    x_flags integer[]; x_pending_id uuid[]; x_timeout integer[]; x_reference text[];
    has_refs boolean;
    i integer; k integer; s integer; d integer; c integer; f integer; r text; amt bigint; pamt bigint;
    chain_start integer := 0; chain_failed boolean := false; ok_count integer := 0;
    cmp_flags integer; cmp_pending uuid; cmp_timeout integer; cmp_debit bigint; cmp_credit bigint;
    cmp_amount bigint; cmp_asset integer; cmp_code text; cmp_reference text;
BEGIN
    IF n = 0 THEN
        RETURN '{}'::text[];
    END IF;
    IF n = 1 AND coalesce(p_flags[1], 0) IN (0, 2) AND p_pending_id[1] IS NULL THEN
        RETURN ARRAY[ledger_post_single(p_id[1], p_debit[1], p_credit[1], p_amount[1], p_asset[1], p_code[1],
                                        coalesce(p_flags[1], 0), p_timeout[1], p_reference[1])];
    END IF;
    IF coalesce(cardinality(p_debit), 0) <> n OR coalesce(cardinality(p_credit), 0) <> n
       OR coalesce(cardinality(p_amount), 0) <> n OR coalesce(cardinality(p_asset), 0) <> n
       OR coalesce(cardinality(p_code), 0) <> n OR coalesce(cardinality(p_flags), 0) <> n
       OR coalesce(cardinality(p_pending_id), 0) <> n OR coalesce(cardinality(p_timeout), 0) <> n
       OR coalesce(cardinality(p_reference), 0) <> n THEN
        RAISE EXCEPTION 'ledger_post: the input arrays must all have % elements', n USING ERRCODE = 'invalid_parameter_value';
    END IF;
    res := array_fill(NULL::text, ARRAY[n]);
    e_debit := p_debit; e_credit := p_credit; e_asset := p_asset; e_amount := p_amount;
    e_pamount := array_fill(NULL::bigint, ARRAY[n]);
    has_refs := array_remove(p_pending_id, NULL) <> '{}';

    -- Pendings referenced by posts and voids: definitions from earlier transactions (transfers never change).
    IF has_refs THEN
        SELECT array_agg(r.pid ORDER BY r.pid), array_agg(p.id IS NOT NULL ORDER BY r.pid),
               array_agg(coalesce(p.pending, false) ORDER BY r.pid), array_agg(p.debit_account_id ORDER BY r.pid),
               array_agg(p.credit_account_id ORDER BY r.pid), array_agg(p.asset_id ORDER BY r.pid),
               array_agg(p.amount ORDER BY r.pid), array_agg(p.expires_at ORDER BY r.pid),
               array_agg(b.first_ord ORDER BY r.pid)
          INTO s_id, s_found, s_pending, s_debit, s_credit, s_asset, s_amount, s_expires, s_batch
          FROM (SELECT DISTINCT x AS pid FROM unnest(p_pending_id) x WHERE x IS NOT NULL) r
          LEFT JOIN transfer p ON p.id = r.pid
          LEFT JOIN (SELECT t.id, min(t.ord)::integer AS first_ord FROM unnest(p_id) WITH ORDINALITY t(id, ord)
                     GROUP BY t.id) b ON b.id = r.pid;
        SELECT array_agg(coalesce(array_position(s_id, t.pid), 0) ORDER BY t.ord) INTO slot
          FROM unnest(p_pending_id) WITH ORDINALITY t(pid, ord);
    END IF;

    -- Lock every touched account, in id order, in one statement.
    SELECT array_agg(a.id ORDER BY a.id), array_agg(a.asset_id ORDER BY a.id),
           array_agg(a.debits_must_not_exceed_credits ORDER BY a.id),
           array_agg(a.credits_must_not_exceed_debits ORDER BY a.id), array_agg(a.retired ORDER BY a.id),
           array_agg(a.holds_serials ORDER BY a.id), array_agg(a.serialized ORDER BY a.id),
           array_agg(a.debits_posted ORDER BY a.id), array_agg(a.credits_posted ORDER BY a.id),
           array_agg(a.debits_pending ORDER BY a.id), array_agg(a.credits_pending ORDER BY a.id),
           coalesce(bool_or(a.serialized), false)
      INTO acc, a_asset, a_dmnec, a_cmned, a_retired, a_holds, a_serialized, a_dp, a_cp, a_dpe, a_cpe, any_serialized
      FROM (SELECT * FROM account
             -- = ANY (ARRAY(...)), not IN (SELECT ...): the planner hash-joined IN against a scan of every account
             WHERE id = ANY (ARRAY(SELECT unnest(p_debit) UNION SELECT unnest(p_credit)
                                   UNION SELECT unnest(s_debit) UNION SELECT unnest(s_credit)))
             ORDER BY id FOR NO KEY UPDATE) a;
    acc := coalesce(acc, '{}');

    -- Local indexes of each transfer's accounts (0: no such account).
    IF cardinality(acc) <= 16 THEN
        di := array_fill(0, ARRAY[n]); ci := array_fill(0, ARRAY[n]);
        FOR i IN 1 .. n LOOP
            di[i] := coalesce(array_position(acc, p_debit[i]), 0);
            ci[i] := coalesce(array_position(acc, p_credit[i]), 0);
        END LOOP;
    ELSE
        SELECT array_agg(coalesce(da.ord, 0)::integer ORDER BY t.ord), array_agg(coalesce(ca.ord, 0)::integer ORDER BY t.ord)
          INTO di, ci
          FROM unnest(p_debit, p_credit) WITH ORDINALITY t(debit, credit, ord)
          LEFT JOIN unnest(acc) WITH ORDINALITY da(id, ord) ON da.id = t.debit
          LEFT JOIN unnest(acc) WITH ORDINALITY ca(id, ord) ON ca.id = t.credit;
    END IF;

    -- After the locks: which pendings are resolved already, and which ids exist already.
    IF has_refs THEN
        s_state := array_fill(0, ARRAY[cardinality(s_id)]);
        s_di := array_fill(0, ARRAY[cardinality(s_id)]); s_ci := array_fill(0, ARRAY[cardinality(s_id)]);
        FOR s IN 1 .. cardinality(s_id) LOOP
            s_di[s] := coalesce(array_position(acc, s_debit[s]), 0);
            s_ci[s] := coalesce(array_position(acc, s_credit[s]), 0);
        END LOOP;
        FOR s, f IN SELECT array_position(s_id, t.pending_id), CASE WHEN t.post_pending THEN 1 ELSE 2 END
                      FROM transfer t WHERE t.pending_id = ANY (s_id) LOOP
            s_state[s] := f;
        END LOOP;
    END IF;
    ex := array_fill(0, ARRAY[n]);
    SELECT array_agg(t.ord::integer), array_agg(x.debit_account_id), array_agg(x.credit_account_id),
           array_agg(x.amount), array_agg(x.asset_id), array_agg(x.code),
           array_agg(x.linked::integer | (x.pending::integer << 1) | (x.post_pending::integer << 2) | (x.void_pending::integer << 3)),
           array_agg(x.pending_id), array_agg(x.timeout_seconds), array_agg(x.reference)
      INTO x_ord, x_debit, x_credit, x_amount, x_asset, x_code, x_flags, x_pending_id, x_timeout, x_reference
      FROM unnest(p_id) WITH ORDINALITY t(id, ord) JOIN transfer x ON x.id = t.id;
    IF x_ord IS NOT NULL THEN
        FOR k IN 1 .. cardinality(x_ord) LOOP
            ex[x_ord[k]] := k;
        END LOOP;
    END IF;
    -- Repeated ids inside the batch: each names the previous occurrence.
    IF n = 1 THEN
        dup := ARRAY[0];
    ELSE
        SELECT array_agg(coalesce(t.prev, 0)::integer ORDER BY t.ord) INTO dup
          FROM (SELECT ord, lag(ord) OVER (PARTITION BY id ORDER BY ord) AS prev
                  FROM unnest(p_id) WITH ORDINALITY u(id, ord)) t;
    END IF;

    FOR i IN 1 .. n LOOP
        f := coalesce(p_flags[i], 0);
        IF chain_start = 0 AND (f & 1) <> 0 THEN
            chain_start := i;
        END IF;
        r := NULL;
        IF chain_failed THEN
            r := 'linked_event_failed';
        END IF;
        <<rules>>
        BEGIN
            EXIT rules WHEN r IS NOT NULL;
            IF p_id[i] IS NULL THEN r := 'id_required'; EXIT rules; END IF;
            IF (f & ~15) <> 0 THEN r := 'flags_unknown'; EXIT rules; END IF;
            IF ((f >> 1) & 1) + ((f >> 2) & 1) + ((f >> 3) & 1) > 1 THEN r := 'flags_are_mutually_exclusive'; EXIT rules; END IF;
            IF p_code[i] IS NULL OR p_code[i] !~ '^[a-z][a-z0-9_]{0,39}$' THEN r := 'code_invalid'; EXIT rules; END IF;
            IF length(p_reference[i]) > 500 THEN r := 'reference_too_long'; EXIT rules; END IF;
            IF (f & 12) <> 0 THEN
                IF p_pending_id[i] IS NULL THEN r := 'pending_id_required'; EXIT rules; END IF;
                IF p_pending_id[i] = p_id[i] THEN r := 'pending_id_must_be_different'; EXIT rules; END IF;
                IF coalesce(p_timeout[i], 0) <> 0 THEN r := 'timeout_reserved_for_pending_transfer'; EXIT rules; END IF;
                IF p_amount[i] < 0 THEN r := 'amount_must_be_positive'; EXIT rules; END IF;
            ELSE
                IF p_pending_id[i] IS NOT NULL THEN r := 'pending_id_must_be_null'; EXIT rules; END IF;
                IF (f & 2) = 0 AND coalesce(p_timeout[i], 0) <> 0 THEN r := 'timeout_reserved_for_pending_transfer'; EXIT rules; END IF;
                IF p_timeout[i] < 0 THEN r := 'timeout_invalid'; EXIT rules; END IF;
                IF p_debit[i] = p_credit[i] THEN r := 'accounts_must_differ'; EXIT rules; END IF;
                IF p_amount[i] IS NULL OR p_amount[i] <= 0 THEN r := 'amount_must_be_positive'; EXIT rules; END IF;
            END IF;

            -- Idempotency: the same id again is `exists` when every given field matches, else refused.
            k := ex[i];
            IF k > 0 THEN
                cmp_flags := x_flags[k]; cmp_pending := x_pending_id[k]; cmp_timeout := x_timeout[k];
                cmp_debit := x_debit[k]; cmp_credit := x_credit[k]; cmp_amount := x_amount[k];
                cmp_asset := x_asset[k]; cmp_code := x_code[k]; cmp_reference := x_reference[k];
            ELSE
                k := dup[i];
                WHILE k > 0 AND res[k] IS DISTINCT FROM 'ok' LOOP
                    k := dup[k];
                END LOOP;
                IF k > 0 THEN
                    cmp_flags := coalesce(p_flags[k], 0); cmp_pending := p_pending_id[k];
                    cmp_timeout := nullif(p_timeout[k], 0); cmp_debit := e_debit[k]; cmp_credit := e_credit[k];
                    cmp_amount := e_amount[k]; cmp_asset := e_asset[k]; cmp_code := p_code[k];
                    cmp_reference := p_reference[k];
                END IF;
            END IF;
            IF k > 0 THEN
                IF cmp_flags <> f THEN r := 'exists_with_different_flags';
                ELSIF cmp_pending IS DISTINCT FROM p_pending_id[i] THEN r := 'exists_with_different_pending_id';
                ELSIF cmp_timeout IS DISTINCT FROM nullif(p_timeout[i], 0) THEN r := 'exists_with_different_timeout';
                ELSIF p_debit[i] IS NOT NULL AND cmp_debit <> p_debit[i] THEN r := 'exists_with_different_debit_account_id';
                ELSIF p_credit[i] IS NOT NULL AND cmp_credit <> p_credit[i] THEN r := 'exists_with_different_credit_account_id';
                ELSIF nullif(p_amount[i], 0) IS NOT NULL AND cmp_amount <> p_amount[i] THEN r := 'exists_with_different_amount';
                ELSIF p_asset[i] IS NOT NULL AND cmp_asset <> p_asset[i] THEN r := 'exists_with_different_asset';
                ELSIF cmp_code <> p_code[i] THEN r := 'exists_with_different_code';
                ELSIF cmp_reference IS DISTINCT FROM p_reference[i] THEN r := 'exists_with_different_reference';
                ELSE r := 'exists';
                END IF;
                EXIT rules;
            END IF;

            IF (f & 12) <> 0 THEN
                -- Post or void: the pending comes from the database or from earlier in this batch.
                s := slot[i];
                k := s_batch[s];
                IF s_found[s] THEN
                    IF NOT s_pending[s] THEN r := 'pending_not_pending'; EXIT rules; END IF;
                    e_debit[i] := s_debit[s]; e_credit[i] := s_credit[s]; e_asset[i] := s_asset[s]; pamt := s_amount[s];
                    d := s_di[s]; c := s_ci[s];
                ELSIF k IS NOT NULL AND k < i AND res[k] = 'ok' THEN
                    IF (coalesce(p_flags[k], 0) & 2) = 0 THEN r := 'pending_not_pending'; EXIT rules; END IF;
                    e_debit[i] := e_debit[k]; e_credit[i] := e_credit[k]; e_asset[i] := e_asset[k]; pamt := e_amount[k];
                    d := di[k]; c := ci[k];
                ELSE
                    r := 'pending_not_found'; EXIT rules;
                END IF;
                IF p_debit[i] IS NOT NULL AND p_debit[i] <> e_debit[i] THEN r := 'pending_has_different_debit_account'; EXIT rules; END IF;
                IF p_credit[i] IS NOT NULL AND p_credit[i] <> e_credit[i] THEN r := 'pending_has_different_credit_account'; EXIT rules; END IF;
                IF p_asset[i] IS NOT NULL AND p_asset[i] <> e_asset[i] THEN r := 'pending_has_different_asset'; EXIT rules; END IF;
                IF (f & 4) <> 0 THEN
                    amt := coalesce(nullif(p_amount[i], 0), pamt);
                    IF amt > pamt THEN r := 'exceeds_pending_amount'; EXIT rules; END IF;
                ELSE
                    IF nullif(p_amount[i], 0) IS NOT NULL AND p_amount[i] <> pamt THEN r := 'pending_has_different_amount'; EXIT rules; END IF;
                    amt := pamt;
                END IF;
                IF s_state[s] = 1 THEN r := 'pending_already_posted'; EXIT rules; END IF;
                IF s_state[s] = 2 THEN r := 'pending_already_voided'; EXIT rules; END IF;
                IF (f & 4) <> 0 AND s_found[s] AND s_expires[s] <= now() THEN r := 'pending_expired'; EXIT rules; END IF;
                a_dpe[d] := a_dpe[d] - pamt; a_cpe[c] := a_cpe[c] - pamt;
                IF (f & 4) <> 0 THEN
                    a_dp[d] := a_dp[d] + amt; a_cp[c] := a_cp[c] + amt;
                    s_state[s] := 1;
                ELSE
                    s_state[s] := 2;
                END IF;
                di[i] := d; ci[i] := c; e_amount[i] := amt; e_pamount[i] := pamt;
                r := 'ok';
                EXIT rules;
            END IF;

            d := di[i]; c := ci[i];
            IF d = 0 THEN r := 'debit_account_not_found'; EXIT rules; END IF;
            IF c = 0 THEN r := 'credit_account_not_found'; EXIT rules; END IF;
            IF a_asset[d] <> a_asset[c] THEN r := 'asset_mismatch'; EXIT rules; END IF;
            IF p_asset[i] IS NOT NULL AND p_asset[i] <> a_asset[d] THEN r := 'asset_mismatch'; EXIT rules; END IF;
            IF a_retired[d] THEN r := 'debit_account_retired'; EXIT rules; END IF;
            amt := p_amount[i];
            IF amt > max_amount - a_dp[d] - a_dpe[d] THEN r := 'overflows_debits'; EXIT rules; END IF;
            IF amt > max_amount - a_cp[c] - a_cpe[c] THEN r := 'overflows_credits'; EXIT rules; END IF;
            IF a_dmnec[d] AND a_dpe[d] + a_dp[d] + amt > a_cp[d] THEN r := 'exceeds_credits'; EXIT rules; END IF;
            IF a_cmned[c] AND a_cpe[c] + a_cp[c] + amt > a_dp[c] THEN r := 'exceeds_debits'; EXIT rules; END IF;
            IF (f & 2) <> 0 THEN
                a_dpe[d] := a_dpe[d] + amt; a_cpe[c] := a_cpe[c] + amt;
            ELSE
                a_dp[d] := a_dp[d] + amt; a_cp[c] := a_cp[c] + amt;
            END IF;
            e_asset[i] := a_asset[d];
            r := 'ok';
        END;

        res[i] := r;
        IF r NOT IN ('ok', 'exists', 'linked_event_failed') AND chain_start > 0 AND NOT chain_failed THEN
            -- A link of the chain failed: undo the links before it, newest first.
            FOR k IN REVERSE i - 1 .. chain_start LOOP
                IF res[k] = 'ok' THEN
                    f := coalesce(p_flags[k], 0); d := di[k]; c := ci[k];
                    IF (f & 12) <> 0 THEN
                        a_dpe[d] := a_dpe[d] + e_pamount[k]; a_cpe[c] := a_cpe[c] + e_pamount[k];
                        IF (f & 4) <> 0 THEN
                            a_dp[d] := a_dp[d] - e_amount[k]; a_cp[c] := a_cp[c] - e_amount[k];
                        END IF;
                        s_state[slot[k]] := 0;
                    ELSIF (f & 2) <> 0 THEN
                        a_dpe[d] := a_dpe[d] - e_amount[k]; a_cpe[c] := a_cpe[c] - e_amount[k];
                    ELSE
                        a_dp[d] := a_dp[d] - e_amount[k]; a_cp[c] := a_cp[c] - e_amount[k];
                    END IF;
                END IF;
                res[k] := 'linked_event_failed';
            END LOOP;
            chain_failed := true;
        END IF;
        f := coalesce(p_flags[i], 0);
        IF (f & 1) <> 0 AND i = n THEN
            -- The batch ended inside a chain: nothing of the chain may commit.
            IF NOT chain_failed THEN
                FOR k IN REVERSE i .. chain_start LOOP
                    IF res[k] = 'ok' THEN
                        f := coalesce(p_flags[k], 0); d := di[k]; c := ci[k];
                        IF (f & 12) <> 0 THEN
                            a_dpe[d] := a_dpe[d] + e_pamount[k]; a_cpe[c] := a_cpe[c] + e_pamount[k];
                            IF (f & 4) <> 0 THEN
                                a_dp[d] := a_dp[d] - e_amount[k]; a_cp[c] := a_cp[c] - e_amount[k];
                            END IF;
                            s_state[slot[k]] := 0;
                        ELSIF (f & 2) <> 0 THEN
                            a_dpe[d] := a_dpe[d] - e_amount[k]; a_cpe[c] := a_cpe[c] - e_amount[k];
                        ELSE
                            a_dp[d] := a_dp[d] - e_amount[k]; a_cp[c] := a_cp[c] - e_amount[k];
                        END IF;
                    END IF;
                    res[k] := 'linked_event_failed';
                END LOOP;
            END IF;
            res[i] := 'linked_event_chain_open';
        ELSIF (f & 1) = 0 THEN
            chain_start := 0;
            chain_failed := false;
        END IF;
    END LOOP;

    FOR i IN 1 .. n LOOP
        IF res[i] = 'ok' THEN
            ok_count := ok_count + 1;
        END IF;
    END LOOP;
    IF ok_count = 0 THEN
        RETURN res;
    END IF;

    -- A plain INSERT in a block is cheaper per row than ON CONFLICT. An id taken here was inserted, with other
    -- accounts, by a transaction that committed after the existence check: the caller retries the whole batch.
    BEGIN
    INSERT INTO transfer (id, debit_account_id, credit_account_id, asset_id, amount, code, pending, post_pending,
                          void_pending, linked, pending_id, timeout_seconds, expires_at, reference)
    SELECT t.id, t.debit, t.credit, t.asset, t.amount, t.code, (t.flags & 2) <> 0, (t.flags & 4) <> 0,
           (t.flags & 8) <> 0, (t.flags & 1) <> 0, t.pending_id,
           CASE WHEN (t.flags & 2) <> 0 AND t.timeout > 0 THEN t.timeout END,
           CASE WHEN (t.flags & 2) <> 0 AND t.timeout > 0 THEN now() + make_interval(secs => t.timeout) END,
           t.reference
      FROM unnest(p_id, e_debit, e_credit, e_asset, e_amount, p_code, p_flags, p_pending_id, p_timeout, p_reference, res)
           AS t(id, debit, credit, asset, amount, code, flags, pending_id, timeout, reference, result)
     WHERE t.result = 'ok';
    EXCEPTION WHEN unique_violation THEN
        RAISE EXCEPTION 'ledger_post: a transfer id was written concurrently; retry the batch'
            USING ERRCODE = 'serialization_failure';
    END;
    IF array_remove(p_timeout, NULL) <> '{}' THEN
        INSERT INTO pending_expiry (pending_id, expires_at)
        SELECT t.id, now() + make_interval(secs => t.timeout)
          FROM unnest(p_id, p_flags, p_timeout, res) AS t(id, flags, timeout, result)
         WHERE t.result = 'ok' AND (t.flags & 2) <> 0 AND t.timeout > 0;
    END IF;
    IF has_refs THEN
        DELETE FROM pending_expiry
         WHERE pending_id IN (SELECT t.pending_id FROM unnest(p_pending_id, res) AS t(pending_id, result)
                               WHERE t.result = 'ok');
    END IF;

    UPDATE account a
       SET debits_posted = v.dp, credits_posted = v.cp, debits_pending = v.dpe, credits_pending = v.cpe
      FROM unnest(acc, a_dp, a_cp, a_dpe, a_cpe) AS v(id, dp, cp, dpe, cpe)
     WHERE a.id = v.id
       AND (a.debits_posted, a.credits_posted, a.debits_pending, a.credits_pending)
           IS DISTINCT FROM (v.dp, v.cp, v.dpe, v.cpe);

    IF any_serialized THEN
        FOR i IN 1 .. n LOOP
            f := coalesce(p_flags[i], 0);
            IF res[i] = 'ok' AND (f & 10) = 0 AND a_serialized[di[i]] THEN
                PERFORM ledger_move_serials(p_id[i], e_asset[i], e_debit[i], a_holds[di[i]], e_credit[i],
                                            a_holds[ci[i]], e_amount[i]);
            END IF;
        END LOOP;
    END IF;
    RETURN res;
END $$;
"""


def _revision_0002_post_function() -> str:
    """The 0002 text of ``ledger_post``, for the downgrade (the revision file is the one source of it)."""
    path = Path(__file__).with_name("2026_11_24_0002_ledger.py")
    spec = importlib.util.spec_from_file_location("bashan_migration_0002", path)
    if spec is None or spec.loader is None:
        raise RuntimeError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    text: str = module.POST_FUNCTION
    return text.replace("CREATE FUNCTION ledger_post(", "CREATE OR REPLACE FUNCTION ledger_post(", 1)


def upgrade() -> None:
    op.execute(POST_FUNCTION)


def downgrade() -> None:
    op.execute(_revision_0002_post_function())
