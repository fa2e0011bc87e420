"""Seals committed transfers into hash-chained blocks, and verifies the chain from genesis.

Order: transfers are sealed by (writing transaction id, sequence). Only transactions below the snapshot's xmin are
sealed: every one of them has ended, so no transfer can later appear before the sealed frontier (sequence numbers
alone could: they are taken before commit). A block stores its transfers' ids and leaf hashes, so ``verify`` names
the first transfer that no longer matches; transfers themselves are never updated.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from domain.ledger.sealing import GENESIS_HASH, BlockHeader, SealedTransfer, leaf_hash, merkle_root

SEALER_LOCK = 2026112403
_COLUMNS = (
    "id, seq, debit_account_id, credit_account_id, asset_id, amount, code, pending, post_pending, void_pending, "
    "linked, pending_id, timeout_seconds, expires_at, reference, created_at, xact_id::text::bigint AS xact_id"
)


def _sealed(row: Any) -> SealedTransfer:
    return SealedTransfer(**dict(row._mapping))


async def _transfers_after(
    session: AsyncSession, after: tuple[int, int], *, below_xact: int | None, until: tuple[int, int] | None, limit: int
) -> list[SealedTransfer]:
    conditions = ["(xact_id, seq) > (CAST(CAST(:after_x AS text) AS xid8), :after_s)"]
    params: dict[str, Any] = {"after_x": str(after[0]), "after_s": after[1], "limit": limit}
    if below_xact is not None:
        conditions.append("xact_id < CAST(CAST(:below AS text) AS xid8)")
        params["below"] = str(below_xact)
    if until is not None:
        conditions.append("(xact_id, seq) <= (CAST(CAST(:until_x AS text) AS xid8), :until_s)")
        params.update(until_x=str(until[0]), until_s=until[1])
    where = " AND ".join(conditions)  # fixed fragments only; every value is a bound parameter
    query = f"SELECT {_COLUMNS} FROM transfer WHERE {where} ORDER BY xact_id, seq LIMIT :limit"  # noqa: S608
    return [_sealed(row) for row in await session.execute(text(query), params)]


async def _last_block(session: AsyncSession) -> tuple[int, tuple[int, int], bytes]:
    row = (
        await session.execute(
            text(
                "SELECT number, last_xact_id::text::bigint AS x, last_seq, hash FROM ledger_block "
                "ORDER BY number DESC LIMIT 1"
            )
        )
    ).first()
    if row is None:
        return 0, (0, 0), GENESIS_HASH
    return int(row.number), (int(row.x), int(row.last_seq)), bytes(row.hash)


# The sealing horizon: every transaction with a smaller id has ended, or runs in another database (and so can never
# write a transfer here). Transaction ids are cluster-wide, so the plain snapshot xmin would let any long transaction
# in any other database of the server hold sealing back. A running id is skipped only when pg_stat_activity shows it
# belongs to another database; an id it cannot place (hidden, prepared, just ended) counts as ours, which is safe.
HORIZON = text(
    """
    SELECT coalesce(
        (SELECT min(x::text::bigint) FROM pg_snapshot_xip(s) AS x
          WHERE NOT EXISTS (
                SELECT 1 FROM pg_stat_activity a
                 WHERE a.datname <> current_database() AND a.backend_xid IS NOT NULL
                   AND a.backend_xid::text::bigint = x::text::bigint % 4294967296)),
        pg_snapshot_xmax(s)::text::bigint)
      FROM pg_current_snapshot() AS s
    """
)


async def seal(session: AsyncSession, *, block_size: int = 1000, max_blocks: int = 100) -> int:
    """Seal what can be sealed now, in blocks of at most ``block_size``; returns the number of blocks written.

    Runs in the caller's transaction; a concurrent sealer makes this one return 0 at once.
    """
    if not await session.scalar(text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": SEALER_LOCK}):
        return 0
    horizon = int(await session.scalar(HORIZON) or 0)
    number, frontier, previous = await _last_block(session)
    written = 0
    while written < max_blocks:
        batch = await _transfers_after(session, frontier, below_xact=horizon, until=None, limit=block_size)
        if not batch:
            break
        leaves = [leaf_hash(item) for item in batch]
        number += 1
        frontier = (batch[-1].xact_id, batch[-1].seq)
        header = BlockHeader(number, previous, merkle_root(leaves), len(batch), frontier[0], frontier[1])
        block_hash = header.hash()
        await session.execute(
            text(
                "INSERT INTO ledger_block (number, last_xact_id, last_seq, transfer_count, transfer_ids, leaf_hashes, "
                "merkle_root, previous_hash, hash) VALUES (:number, CAST(CAST(:x AS text) AS xid8), :seq, :count, "
                "CAST(:ids AS uuid[]), :leaves, :root, :previous, :hash)"
            ),
            {
                "number": number,
                "x": str(frontier[0]),
                "seq": frontier[1],
                "count": len(batch),
                "ids": [item.id for item in batch],
                "leaves": b"".join(leaves),
                "root": header.merkle_root,
                "previous": previous,
                "hash": block_hash,
            },
        )
        previous = block_hash
        written += 1
    return written


@dataclass(frozen=True)
class VerifyReport:
    ok: bool
    blocks: int
    transfers: int
    problem: str | None = None
    block: int | None = None
    transfer_id: uuid.UUID | None = None

    def describe(self) -> str:
        if self.ok:
            return f"OK: {self.blocks} blocks, {self.transfers} transfers verified from genesis"
        where = f"block {self.block}" if self.block is not None else "after the last block"
        named = f", transfer {self.transfer_id}" if self.transfer_id else ""
        return f"BAD: {where}{named}: {self.problem}"


async def _stream(session: AsyncSession, until: tuple[int, int], chunk: int = 5000) -> AsyncIterator[SealedTransfer]:
    after = (0, 0)
    while True:
        batch = await _transfers_after(session, after, below_xact=None, until=until, limit=chunk)
        for item in batch:
            yield item
        if len(batch) < chunk:
            return
        after = (batch[-1].xact_id, batch[-1].seq)


async def verify(session: AsyncSession) -> VerifyReport:
    """Recompute every block from the transfers, from genesis; the first mismatch is reported."""
    _, until, _ = await _last_block(session)
    stream = _stream(session, until)
    previous = GENESIS_HASH
    blocks = transfers = 0
    result = await session.execute(
        text(
            "SELECT number, last_xact_id::text::bigint AS x, last_seq, transfer_count, transfer_ids, leaf_hashes, "
            "merkle_root, previous_hash, hash FROM ledger_block ORDER BY number"
        )
    )
    for block in result.all():
        number = int(block.number)
        if number != blocks + 1:
            return VerifyReport(False, blocks, transfers, f"block numbers jump from {blocks} to {number}", number)
        if bytes(block.previous_hash) != previous:
            return VerifyReport(False, blocks, transfers, "its previous hash does not match the chain", number)
        stored: Sequence[uuid.UUID] = block.transfer_ids
        stored_leaves = bytes(block.leaf_hashes)
        leaves: list[bytes] = []
        for position, sealed_id in enumerate(stored):
            actual = await anext(stream, None)
            if actual is None:
                return VerifyReport(False, blocks, transfers, "the transfer was removed", number, sealed_id)
            if actual.id != sealed_id:
                detail = f"at position {position} the ledger has {actual.id} where the block sealed {sealed_id}"
                return VerifyReport(False, blocks, transfers, detail, number, actual.id)
            leaf = leaf_hash(actual)
            if leaf != stored_leaves[32 * position : 32 * position + 32]:
                altered = "the transfer was altered after sealing"
                return VerifyReport(False, blocks, transfers, altered, number, actual.id)
            leaves.append(leaf)
            transfers += 1
        root = merkle_root(leaves)
        if root != bytes(block.merkle_root):
            return VerifyReport(False, blocks, transfers, "its Merkle root does not match its transfers", number)
        header = BlockHeader(number, previous, root, len(leaves), int(block.x), int(block.last_seq))
        if header.hash() != bytes(block.hash):
            return VerifyReport(False, blocks, transfers, "its hash does not match its header", number)
        previous = header.hash()
        blocks += 1
    extra = await anext(stream, None)
    if extra is not None:
        unsealed = "a transfer below the sealed frontier is in no block"
        return VerifyReport(False, blocks, transfers, unsealed, None, extra.id)
    return VerifyReport(True, blocks, transfers)
