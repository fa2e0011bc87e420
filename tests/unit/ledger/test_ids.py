"""Time-ordered transfer ids: the RFC 9562 layout, strict order, and uniqueness."""

from __future__ import annotations

import threading
import time
import uuid

from domain.ledger.ids import TimeOrderedIds, compose, milliseconds_of, new_transfer_id


def test_layout_is_rfc_9562_version_7() -> None:
    identifier = compose(0x0123456789AB, 0xCDE, 0x3FFF_FFFF_FFFF_FFFF)
    assert str(identifier) == "01234567-89ab-7cde-bfff-ffffffffffff"
    assert identifier.version == 7
    assert identifier.variant == uuid.RFC_4122
    assert milliseconds_of(identifier) == 0x0123456789AB


def test_fields_are_masked_to_their_widths() -> None:
    identifier = compose((1 << 48) + 5, (1 << 12) + 3, (1 << 62) + 9)
    assert milliseconds_of(identifier) == 5
    assert (identifier.int >> 64) & 0xFFF == 3
    assert identifier.int & ((1 << 62) - 1) == 9
    assert identifier.version == 7


def test_ids_carry_the_current_time() -> None:
    before = time.time_ns() // 1_000_000
    identifier = new_transfer_id()
    after = time.time_ns() // 1_000_000
    # The generator may run ahead of the clock by the milliseconds it borrowed when a counter ran out.
    assert before <= milliseconds_of(identifier) <= after + 50


def test_strictly_increasing_within_one_millisecond_and_across_a_counter_overflow() -> None:
    generate = TimeOrderedIds(clock_ms=lambda: 1_700_000_000_000)
    ids = [generate() for _ in range(10_000)]  # far more than 4,096 per millisecond: the counter overflows
    assert ids == sorted(ids)
    assert len(set(ids)) == len(ids)
    assert milliseconds_of(ids[0]) == 1_700_000_000_000
    assert milliseconds_of(ids[-1]) > 1_700_000_000_000  # borrowed the following milliseconds


def test_never_goes_backwards_when_the_clock_does() -> None:
    readings = iter([1_000, 1_000, 999, 900, 1_001, 1_001])
    generate = TimeOrderedIds(clock_ms=lambda: next(readings))
    ids = [generate() for _ in range(6)]
    assert ids == sorted(ids)
    assert [milliseconds_of(identifier) for identifier in ids] == [1_000, 1_000, 1_000, 1_000, 1_001, 1_001]


def test_order_of_uuid_values_matches_postgresql_order() -> None:
    """PostgreSQL compares uuids byte by byte, which is the order of their integer values and of their text."""
    generate = TimeOrderedIds()
    ids = [generate() for _ in range(2_000)]
    assert sorted(ids, key=lambda identifier: identifier.bytes) == ids
    assert sorted(ids, key=str) == ids


def test_unique_across_threads() -> None:
    generate = TimeOrderedIds()
    per_thread: list[list[uuid.UUID]] = [[] for _ in range(4)]

    def work(out: list[uuid.UUID]) -> None:
        out.extend(generate() for _ in range(5_000))

    threads = [threading.Thread(target=work, args=(out,)) for out in per_thread]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    every = [identifier for out in per_thread for identifier in out]
    assert len(set(every)) == 20_000
    for out in per_thread:
        assert out == sorted(out)
