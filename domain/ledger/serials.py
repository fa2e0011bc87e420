"""Serial ranges: which serial numbers an account holds, as sorted, disjoint, inclusive ranges.

The same rules as the database's ``ledger_move_serials``: a transfer takes the debit account's lowest serials first,
splitting a range it takes only part of; the receiver's adjacent ranges merge.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class SerialRange:
    first: int
    last: int

    def __post_init__(self) -> None:
        if not 1 <= self.first <= self.last:
            raise ValueError(f"not a serial range: {self.first}-{self.last}")

    @property
    def size(self) -> int:
        return self.last - self.first + 1


def total(ranges: list[SerialRange]) -> int:
    return sum(item.size for item in ranges)


def take_lowest(ranges: list[SerialRange], amount: int) -> tuple[list[SerialRange], list[SerialRange]]:
    """Split ``amount`` serials off the low end: (taken, kept). Raises if the ranges hold fewer."""
    if amount < 0 or amount > total(ranges):
        raise ValueError(f"cannot take {amount} serials from ranges holding {total(ranges)}")
    taken: list[SerialRange] = []
    kept: list[SerialRange] = []
    remaining = amount
    for item in sorted(ranges):
        if remaining == 0:
            kept.append(item)
        elif item.size <= remaining:
            taken.append(item)
            remaining -= item.size
        else:
            taken.append(SerialRange(item.first, item.first + remaining - 1))
            kept.append(SerialRange(item.first + remaining, item.last))
            remaining = 0
    return taken, kept


def merge(ranges: list[SerialRange]) -> list[SerialRange]:
    """Sorted, with adjacent ranges joined. Overlapping input is a bug, and raises."""
    merged: list[SerialRange] = []
    for item in sorted(ranges):
        if merged and item.first <= merged[-1].last:
            raise ValueError(f"serial ranges overlap: {merged[-1]} and {item}")
        if merged and item.first == merged[-1].last + 1:
            merged[-1] = SerialRange(merged[-1].first, item.last)
        else:
            merged.append(item)
    return merged


def overlaps(ranges: list[SerialRange]) -> list[tuple[SerialRange, SerialRange]]:
    """Pairs of neighbouring ranges (in serial order) that overlap."""
    ordered = sorted(ranges)
    return [(left, right) for left, right in itertools.pairwise(ordered) if right.first <= left.last]
