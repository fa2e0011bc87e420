"""The auditor: recomputes what the ledger's cached state must be and names every difference.

Checks, each one SQL statement: per asset debits equal credits (posted and pending); every account's cached balances
equal a replay of its transfers (pending balances = its open pendings); no account breaks its flags; every post and
void matches its pending; the expiry queue holds exactly the open pendings with a timeout; serial ranges add up to
their account's balance, sit only in holding accounts, stay within what was minted and never overlap.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

UNBALANCED_ASSETS = """
SELECT asset_id, sum(debits_posted) AS dp, sum(credits_posted) AS cp, sum(debits_pending) AS dpe,
       sum(credits_pending) AS cpe
  FROM account GROUP BY asset_id
HAVING sum(debits_posted) <> sum(credits_posted) OR sum(debits_pending) <> sum(credits_pending)
"""

REPLAY = """
WITH open_pending AS (
    SELECT p.* FROM transfer p WHERE p.pending AND NOT EXISTS (SELECT 1 FROM transfer r WHERE r.pending_id = p.id)
), moves AS (
    SELECT debit_account_id AS account_id, amount AS dp, 0::bigint AS cp, 0::bigint AS dpe, 0::bigint AS cpe
      FROM transfer WHERE NOT pending AND NOT void_pending
    UNION ALL
    SELECT credit_account_id, 0, amount, 0, 0 FROM transfer WHERE NOT pending AND NOT void_pending
    UNION ALL
    SELECT debit_account_id, 0, 0, amount, 0 FROM open_pending
    UNION ALL
    SELECT credit_account_id, 0, 0, 0, amount FROM open_pending
), replay AS (
    SELECT account_id, sum(dp) AS dp, sum(cp) AS cp, sum(dpe) AS dpe, sum(cpe) AS cpe FROM moves GROUP BY account_id
)
SELECT coalesce(a.id, r.account_id) AS account_id, a.id IS NULL AS missing,
       a.debits_posted, a.credits_posted, a.debits_pending, a.credits_pending,
       coalesce(r.dp, 0) AS dp, coalesce(r.cp, 0) AS cp, coalesce(r.dpe, 0) AS dpe, coalesce(r.cpe, 0) AS cpe
  FROM account a FULL JOIN replay r ON r.account_id = a.id
 WHERE a.id IS NULL
    OR (a.debits_posted, a.credits_posted, a.debits_pending, a.credits_pending)
       IS DISTINCT FROM (coalesce(r.dp, 0), coalesce(r.cp, 0), coalesce(r.dpe, 0), coalesce(r.cpe, 0))
 ORDER BY 1
 LIMIT 50
"""

FLAG_BREACHES = """
SELECT id FROM account
 WHERE (debits_must_not_exceed_credits AND debits_posted + debits_pending > credits_posted)
    OR (credits_must_not_exceed_debits AND credits_posted + credits_pending > debits_posted)
    OR (retired AND (debits_posted > 0 OR debits_pending > 0))
    OR least(debits_posted, credits_posted, debits_pending, credits_pending) < 0
 ORDER BY id LIMIT 50
"""

BAD_TRANSFERS = """
SELECT t.id, CASE
         WHEN d.asset_id IS DISTINCT FROM t.asset_id OR c.asset_id IS DISTINCT FROM t.asset_id
           THEN 'its accounts do not carry its asset'
         WHEN t.pending_id IS NOT NULL AND (p.id IS NULL OR NOT p.pending) THEN 'it resolves no pending transfer'
         WHEN t.pending_id IS NOT NULL AND (p.debit_account_id <> t.debit_account_id
              OR p.credit_account_id <> t.credit_account_id OR t.amount > p.amount) THEN 'it does not match its pending'
       END AS problem
  FROM transfer t
  LEFT JOIN account d ON d.id = t.debit_account_id
  LEFT JOIN account c ON c.id = t.credit_account_id
  LEFT JOIN transfer p ON p.id = t.pending_id
 WHERE d.asset_id IS DISTINCT FROM t.asset_id OR c.asset_id IS DISTINCT FROM t.asset_id
    OR (t.pending_id IS NOT NULL AND (p.id IS NULL OR NOT p.pending OR p.debit_account_id <> t.debit_account_id
        OR p.credit_account_id <> t.credit_account_id OR t.amount > p.amount))
 LIMIT 50
"""

SERIALS_VS_BALANCES = """
SELECT a.id, a.holds_serials, a.credits_posted - a.debits_posted AS balance, coalesce(s.held, 0) AS held
  FROM account a
  LEFT JOIN (SELECT account_id, sum(last_serial - first_serial + 1) AS held FROM serial_range GROUP BY account_id) s
    ON s.account_id = a.id
 WHERE (a.holds_serials AND coalesce(s.held, 0) <> a.credits_posted - a.debits_posted)
    OR (NOT a.holds_serials AND s.held IS NOT NULL)
 ORDER BY a.id LIMIT 50
"""

SERIAL_OVERLAPS = """
SELECT asset_id, previous_first, previous_last, first_serial, last_serial FROM (
    SELECT asset_id, first_serial, last_serial,
           lag(first_serial) OVER w AS previous_first, lag(last_serial) OVER w AS previous_last
      FROM serial_range WINDOW w AS (PARTITION BY asset_id ORDER BY first_serial)
) ranges
 WHERE previous_last >= first_serial
 LIMIT 50
"""

SERIALS_BEYOND_MINTED = """
SELECT r.asset_id, r.first_serial, r.last_serial FROM serial_range r JOIN asset s ON s.id = r.asset_id
 WHERE r.last_serial >= s.serial_next LIMIT 50
"""

EXPIRY_MISMATCHES = """
WITH timed_open AS (
    SELECT p.id, p.expires_at FROM transfer p
     WHERE p.pending AND p.expires_at IS NOT NULL
       AND NOT EXISTS (SELECT 1 FROM transfer r WHERE r.pending_id = p.id)
)
SELECT coalesce(o.id, e.pending_id) AS id, o.id IS NULL AS stray
  FROM timed_open o FULL JOIN pending_expiry e ON e.pending_id = o.id
 WHERE o.id IS NULL OR e.pending_id IS NULL OR e.expires_at <> o.expires_at
 LIMIT 50
"""

COUNTS = "SELECT (SELECT count(*) FROM asset), (SELECT count(*) FROM account), (SELECT count(*) FROM transfer)"


@dataclass(frozen=True)
class AuditReport:
    assets: int
    accounts: int
    transfers: int
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def summary(self) -> str:
        state = "OK" if self.ok else f"{len(self.problems)} PROBLEM(S)"
        return f"ledger audit {state}: {self.assets} assets, {self.accounts} accounts, {self.transfers} transfers"


async def audit(session: AsyncSession) -> AuditReport:
    """Run every check in one snapshot (call it in a REPEATABLE READ transaction for a consistent picture)."""
    problems: list[str] = []
    for row in await session.execute(text(UNBALANCED_ASSETS)):
        problems.append(
            f"asset {row.asset_id}: debits {row.dp} != credits {row.cp} posted, or {row.dpe} != {row.cpe} pending"
        )
    for row in await session.execute(text(REPLAY)):
        if row.missing:
            problems.append(f"account {row.account_id}: transfers name it but it does not exist")
            continue
        problems.append(
            f"account {row.account_id}: cached balances (debits {row.debits_posted}, credits {row.credits_posted}, "
            f"pending {row.debits_pending}/{row.credits_pending}) != replay of its transfers "
            f"({row.dp}, {row.cp}, pending {row.dpe}/{row.cpe})"
        )
    for row in await session.execute(text(FLAG_BREACHES)):
        problems.append(f"account {row.id}: breaks its balance flags")
    for row in await session.execute(text(BAD_TRANSFERS)):
        problems.append(f"transfer {row.id}: {row.problem}")
    for row in await session.execute(text(SERIALS_VS_BALANCES)):
        if row.holds_serials:
            problems.append(f"account {row.id}: holds {row.held} serials but its balance is {row.balance}")
        else:
            problems.append(f"account {row.id}: holds serial ranges but is not a holding account")
    for row in await session.execute(text(SERIAL_OVERLAPS)):
        problems.append(
            f"asset {row.asset_id}: serial ranges {row.previous_first}-{row.previous_last} and "
            f"{row.first_serial}-{row.last_serial} overlap"
        )
    for row in await session.execute(text(SERIALS_BEYOND_MINTED)):
        problems.append(f"asset {row.asset_id}: serial range {row.first_serial}-{row.last_serial} was never minted")
    for row in await session.execute(text(EXPIRY_MISMATCHES)):
        if row.stray:
            problems.append(f"pending {row.id}: queued for expiry but not an open pending with that timeout")
        else:
            problems.append(f"pending {row.id}: open with a timeout but not queued for expiry (or at another time)")
    assets, accounts, transfers = (await session.execute(text(COUNTS))).one()
    return AuditReport(int(assets), int(accounts), int(transfers), problems)
