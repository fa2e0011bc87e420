"""Serial blocks of issued credits: the public, human-readable name of a contiguous range of tonnes.

Format::

    BSC-<project code>-<vintage>-<first>-<last>        e.g.  BSC-BZNJ0001-2026-000000001-000003023

- ``BSC``: Bashan carbon credit.
- project code: 2-32 characters of upper-case ASCII letters and digits, in groups joined by single hyphens
  (``BZNJ0001``, ``BZ-NJ-001``); parsing reads the last three fields from the right, so hyphens in the code are safe.
- vintage: the 4-digit year the removals took place (the monitoring period's end), 1990-2099.
- first, last: serial numbers of the first and last tonne, inclusive, zero-padded to 9 digits (1 to 999,999,999;
  Bazhong's whole forest stock is about 125 Mt CO2e, so one project's serials never run out). Serials are numbered
  per project and vintage from 1 and never reused; a block of one credit has ``first == last``.

``parse_block`` accepts surrounding spaces and lower case (people type serials into the public lookup) but nothing
else: a number without its zero padding is refused with the expected format in the message.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from domain.errors import RuleViolation

PREFIX = "BSC"
SERIAL_DIGITS = 9
MAX_SERIAL = 10**SERIAL_DIGITS - 1
MIN_VINTAGE, MAX_VINTAGE = 1990, 2099
PROJECT_CODE = re.compile(r"^[A-Z0-9]+(?:-[A-Z0-9]+)*\Z")
_BLOCK = re.compile(r"^BSC-(?P<project>.+)-(?P<vintage>\d{4})-(?P<first>\d+)-(?P<last>\d+)\Z")
EXAMPLE = "BSC-BZNJ0001-2026-000000001-000003023"


def _invalid(detail: str) -> RuleViolation:
    return RuleViolation(detail, code="invalid_serial")


def vintage_of(period_end: date) -> int:
    """The vintage of a monitoring period (the year it ends), refused unless the registry can issue it."""
    if not MIN_VINTAGE <= period_end.year <= MAX_VINTAGE:
        raise RuleViolation(
            f"a period ending {period_end} has vintage {period_end.year}, outside the vintages the registry can issue, "
            f"{MIN_VINTAGE} to {MAX_VINTAGE}",
            code="vintage_out_of_range",
        )
    return period_end.year


def check_project_code(code: str) -> str:
    if not 2 <= len(code) <= 32 or not PROJECT_CODE.match(code):
        raise _invalid(f"project code {code!r} must be 2-32 upper-case letters and digits, groups joined by hyphens")
    return code


@dataclass(frozen=True, order=True)
class SerialBlock:
    project_code: str
    vintage: int
    first: int
    last: int

    def __post_init__(self) -> None:
        check_project_code(self.project_code)
        if not MIN_VINTAGE <= self.vintage <= MAX_VINTAGE:
            raise _invalid(f"vintage {self.vintage} is outside {MIN_VINTAGE}-{MAX_VINTAGE}")
        if not 1 <= self.first <= self.last <= MAX_SERIAL:
            raise _invalid(f"serials {self.first}-{self.last} must satisfy 1 <= first <= last <= {MAX_SERIAL}")

    @property
    def size(self) -> int:
        return self.last - self.first + 1

    def __str__(self) -> str:
        return (
            f"{PREFIX}-{self.project_code}-{self.vintage:04d}-"
            f"{self.first:0{SERIAL_DIGITS}d}-{self.last:0{SERIAL_DIGITS}d}"
        )

    def contains(self, serial: int) -> bool:
        return self.first <= serial <= self.last

    def split(self, count: int) -> tuple[SerialBlock, SerialBlock | None]:
        """The lowest ``count`` serials and the rest (None when nothing is left), as a partial transfer splits."""
        if not 1 <= count <= self.size:
            raise _invalid(f"cannot split {count} credits off a block of {self.size}")
        head = SerialBlock(self.project_code, self.vintage, self.first, self.first + count - 1)
        if count == self.size:
            return head, None
        return head, SerialBlock(self.project_code, self.vintage, self.first + count, self.last)


def format_block(project_code: str, vintage: int, first: int, last: int) -> str:
    return str(SerialBlock(project_code, vintage, first, last))


def issuance_block(project_code: str, vintage: int, next_serial: int, quantity: int) -> SerialBlock:
    """The block of a new issuance of ``quantity`` credits starting at the project-vintage's next unused serial."""
    if quantity < 1:
        raise _invalid(f"an issuance needs at least one credit, not {quantity}")
    return SerialBlock(project_code, vintage, next_serial, next_serial + quantity - 1)


def parse_block(text: str) -> SerialBlock:
    candidate = text.strip().upper()
    match = _BLOCK.match(candidate) if len(candidate) <= 80 else None
    if match is None:
        raise _invalid(f"{text!r} is not a serial block like {EXAMPLE}")
    for name in ("first", "last"):
        if len(match[name]) != SERIAL_DIGITS:
            raise _invalid(f"{name} serial {match[name]!r} must have exactly {SERIAL_DIGITS} digits, as in {EXAMPLE}")
    return SerialBlock(match["project"], int(match["vintage"]), int(match["first"]), int(match["last"]))
