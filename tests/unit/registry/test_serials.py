from __future__ import annotations

import pytest

from domain.errors import RuleViolation
from domain.registry.serials import SerialBlock, format_block, issuance_block, parse_block


def test_format_is_zero_padded_and_documented() -> None:
    assert format_block("BZNJ0001", 2026, 1, 3023) == "BSC-BZNJ0001-2026-000000001-000003023"
    assert str(SerialBlock("BZ-NJ-001", 2031, 3024, 3024)) == "BSC-BZ-NJ-001-2031-000003024-000003024"
    assert format_block("AB", 2026, 1, 999_999_999).endswith("-000000001-999999999")


def test_parse_round_trips_and_tolerates_case_and_spaces() -> None:
    block = SerialBlock("BZ-NJ-001", 2026, 17, 3023)
    assert parse_block(str(block)) == block
    assert parse_block("  bsc-bz-nj-001-2026-000000017-000003023 \n") == block
    assert parse_block(str(block)).size == 3007


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("BSC-BZNJ0001-2026-1-3023", "must have exactly 9 digits"),
        ("BSC-BZNJ0001-2026-000000001", "is not a serial block"),
        ("VCS-BZNJ0001-2026-000000001-000003023", "is not a serial block"),
        ("BSC-BZNJ0001-26-000000001-000003023", "is not a serial block"),
        ("BSC-BZNJ0001-2026-000003023-000000001", "first <= last"),
        ("BSC-BZNJ0001-2026-000000000-000000001", "1 <= first"),
        ("BSC-BZNJ0001-1989-000000001-000000001", "vintage 1989"),
        ("BSC-BZ_NJ-2026-000000001-000000001", "project code"),
        ("BSC-BZ--NJ-2026-000000001-000000001", "project code"),
        ("BSC--2026-000000001-000000001", "is not a serial block"),
        ("BSC-" + "A" * 40 + "-2026-000000001-000000001", "project code"),
        ("BSC-" + "A" * 100, "is not a serial block"),
    ],
)
def test_malformed_blocks_are_refused_with_the_reason(text: str, message: str) -> None:
    with pytest.raises(RuleViolation, match=message) as caught:
        parse_block(text)
    assert caught.value.code == "invalid_serial"


def test_issuance_blocks_follow_on_and_split_like_a_partial_transfer() -> None:
    first = issuance_block("BZNJ0001", 2026, 1, 3023)
    second = issuance_block("BZNJ0001", 2026, first.last + 1, 101)
    assert (str(first), str(second)) == (
        "BSC-BZNJ0001-2026-000000001-000003023",
        "BSC-BZNJ0001-2026-000003024-000003124",
    )
    head, tail = first.split(1000)
    assert (head.first, head.last, tail and (tail.first, tail.last)) == (1, 1000, (1001, 3023))
    assert first.split(3023) == (first, None)
    assert first.contains(3023)
    assert not first.contains(3024)
    with pytest.raises(RuleViolation, match="cannot split 3024"):
        first.split(3024)
    with pytest.raises(RuleViolation, match="at least one credit"):
        issuance_block("BZNJ0001", 2026, 1, 0)
