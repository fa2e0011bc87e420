"""Pure ledger rules: serial-range splitting and merging, Merkle roots, block hashes, the reference model."""

from __future__ import annotations

import hashlib
import uuid
from datetime import UTC, datetime

import pytest

from domain.ledger.codes import ResultCode, TransferFlags
from domain.ledger.sealing import GENESIS_HASH, BlockHeader, SealedTransfer, canonical, leaf_hash, merkle_root
from domain.ledger.serials import SerialRange, merge, overlaps, take_lowest, total
from domain.ledger.transfers import TransferSpec
from tests.unit.ledger.reference import RefAccount, ReferenceLedger


def test_take_lowest_splits_a_range() -> None:
    taken, kept = take_lowest([SerialRange(51, 100), SerialRange(1, 30)], 40)
    assert taken == [SerialRange(1, 30), SerialRange(51, 60)]
    assert kept == [SerialRange(61, 100)]
    assert total(taken) + total(kept) == 80
    with pytest.raises(ValueError, match="cannot take"):
        take_lowest([SerialRange(1, 3)], 4)


def test_merge_and_overlaps() -> None:
    assert merge([SerialRange(5, 9), SerialRange(1, 4), SerialRange(11, 12)]) == [
        SerialRange(1, 9),
        SerialRange(11, 12),
    ]
    assert overlaps([SerialRange(1, 5), SerialRange(5, 6)]) == [(SerialRange(1, 5), SerialRange(5, 6))]
    with pytest.raises(ValueError, match="overlap"):
        merge([SerialRange(1, 5), SerialRange(3, 4)])


def _node(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def test_merkle_root_follows_rfc_6962() -> None:
    leaves = [hashlib.sha256(bytes([n])).digest() for n in range(5)]
    assert merkle_root([]) == hashlib.sha256(b"").digest()
    assert merkle_root(leaves[:1]) == leaves[0]
    # five leaves: the left subtree holds the largest power of two (4), the fifth joins at the top
    left = _node(_node(leaves[0], leaves[1]), _node(leaves[2], leaves[3]))
    assert merkle_root(leaves) == _node(left, leaves[4])


def test_leaf_changes_with_any_field_and_chain_links() -> None:
    base = SealedTransfer(
        uuid.UUID(int=1),
        1,
        2,
        3,
        1,
        100,
        "trade",
        False,
        False,
        False,
        False,
        None,
        None,
        None,
        "ref",
        datetime(2026, 11, 24, tzinfo=UTC),
        777,
    )
    altered = SealedTransfer(**{**base.__dict__, "amount": 101})
    assert leaf_hash(base) != leaf_hash(altered)
    assert canonical(base).startswith(b'["00000000-0000-0000-0000-000000000001",1,2,3,1,100,"trade",0,')
    first = BlockHeader(1, GENESIS_HASH, merkle_root([leaf_hash(base)]), 1, 777, 1)
    second = BlockHeader(2, first.hash(), merkle_root([leaf_hash(altered)]), 1, 778, 2)
    assert len(first.hash()) == 32
    assert first.hash() != second.hash()


def test_reference_model_two_phase_and_chain() -> None:
    model = ReferenceLedger({1: RefAccount(1, 1), 2: RefAccount(2, 1, dmnec=True), 3: RefAccount(3, 1)})
    deposit = TransferSpec(uuid.uuid4(), 1, 2, 50, "deposit")
    hold = TransferSpec(uuid.uuid4(), 2, 3, 30, "freeze", TransferFlags.PENDING)
    assert model.post([deposit, hold]) == [ResultCode.OK, ResultCode.OK]
    post = TransferSpec(uuid.uuid4(), None, None, 10, "settle", TransferFlags.POST_PENDING, hold.id)
    chain = [
        TransferSpec(uuid.uuid4(), 2, 3, 5, "trade", TransferFlags.LINKED),
        TransferSpec(uuid.uuid4(), 2, 3, 99, "trade"),
    ]
    assert model.post([post, *chain]) == [ResultCode.OK, ResultCode.LINKED_EVENT_FAILED, ResultCode.EXCEEDS_CREDITS]
    account = model.accounts[2]
    assert (account.dp, account.cp, account.dpe) == (10, 50, 0)
