"""Every pattern that validates a code with ``re.match`` refuses a trailing newline, as the database's rules do.

Python's ``$`` matches before a final newline too, so ``^...$`` took ``'deposit\\n'`` as a code; the patterns end in
``\\Z`` now.
"""

from __future__ import annotations

import re

import pytest

from domain.ledger.transfers import CODE_FORMAT
from domain.registry.inventory import SUBCOMPARTMENT_ID
from domain.registry.methodology import METHODOLOGY_CODE, SPECIES_CODE
from domain.registry.serials import PROJECT_CODE


@pytest.mark.parametrize(
    ("pattern", "good"),
    [
        (CODE_FORMAT, "deposit"),
        (SUBCOMPARTMENT_ID, "BZ-0001/03"),
        (METHODOLOGY_CODE, "CCER-14-001"),
        (SPECIES_CODE, "masson_pine"),
        (PROJECT_CODE, "BZ-FOREST-01"),
    ],
)
def test_a_good_code_with_a_final_newline_is_refused(pattern: re.Pattern[str], good: str) -> None:
    assert pattern.match(good)
    assert not pattern.match(good + "\n")
