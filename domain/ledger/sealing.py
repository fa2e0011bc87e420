"""Tamper evidence: a canonical encoding of transfers, Merkle roots (RFC 6962 shape) and the hash chain of blocks."""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

GENESIS_HASH = bytes(32)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class SealedTransfer:
    """Every stored field of a transfer, as the sealer hashes it."""

    id: uuid.UUID
    seq: int
    debit_account_id: int
    credit_account_id: int
    asset_id: int
    amount: int
    code: str
    pending: bool
    post_pending: bool
    void_pending: bool
    linked: bool
    pending_id: uuid.UUID | None
    timeout_seconds: int | None
    expires_at: datetime | None
    reference: str | None
    created_at: datetime
    xact_id: int


def _micros(moment: datetime | None) -> int | None:
    if moment is None:
        return None
    delta = moment - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def flag_bits(transfer: SealedTransfer) -> int:
    linked, pending, post, void = transfer.linked, transfer.pending, transfer.post_pending, transfer.void_pending
    return int(linked) | int(pending) << 1 | int(post) << 2 | int(void) << 3


def canonical(transfer: SealedTransfer) -> bytes:
    """One compact JSON array in a fixed field order; times as integer microseconds since the epoch (UTC)."""
    fields = [
        str(transfer.id),
        transfer.seq,
        transfer.debit_account_id,
        transfer.credit_account_id,
        transfer.asset_id,
        transfer.amount,
        transfer.code,
        flag_bits(transfer),
        str(transfer.pending_id) if transfer.pending_id else None,
        transfer.timeout_seconds,
        _micros(transfer.expires_at),
        transfer.reference,
        _micros(transfer.created_at),
        transfer.xact_id,
    ]
    return json.dumps(fields, separators=(",", ":"), ensure_ascii=False).encode()


def leaf_hash(transfer: SealedTransfer) -> bytes:
    # Domain-separated leaves and nodes (0x00 / 0x01), so a node can never pass for a leaf.
    return hashlib.sha256(b"\x00" + canonical(transfer)).digest()


def merkle_root(leaves: list[bytes]) -> bytes:
    """RFC 6962's Merkle tree hash: a lone node at the end of a level moves up unchanged."""
    if not leaves:
        return hashlib.sha256(b"").digest()
    level = list(leaves)
    while len(level) > 1:
        paired = [hashlib.sha256(b"\x01" + level[i] + level[i + 1]).digest() for i in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            paired.append(level[-1])
        level = paired
    return level[0]


@dataclass(frozen=True)
class BlockHeader:
    number: int
    previous_hash: bytes
    merkle_root: bytes
    transfer_count: int
    last_xact_id: int
    last_seq: int

    def hash(self) -> bytes:
        encoded = b"|".join(
            [
                b"bashan-ledger-block-v1",
                str(self.number).encode(),
                self.previous_hash.hex().encode(),
                self.merkle_root.hex().encode(),
                str(self.transfer_count).encode(),
                str(self.last_xact_id).encode(),
                str(self.last_seq).encode(),
            ]
        )
        return hashlib.sha256(encoded).digest()
