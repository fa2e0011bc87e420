"""A crediting period lies within the vintages the registry can issue, which also keeps its date arithmetic away from
the ends of the calendar."""

from __future__ import annotations

from datetime import date

import pytest

from domain.errors import RuleViolation
from domain.registry.eligibility import check_crediting_period
from domain.registry.methodology import DEFAULT_METHODOLOGY
from domain.registry.serials import MAX_VINTAGE, MIN_VINTAGE, vintage_of

RULES = DEFAULT_METHODOLOGY.rules


@pytest.mark.parametrize(
    ("start", "end", "code"),
    [
        (date(1990, 1, 1), date(2009, 12, 31), None),  # the first vintage, exactly 20 years
        (date(2080, 1, 1), date(2099, 12, 31), None),  # the last vintage
        (date(1989, 12, 31), date(2009, 12, 31), "crediting_period_outside_vintages"),
        (date(2080, 1, 1), date(2100, 1, 1), "crediting_period_outside_vintages"),
        (date(2016, 1, 1), date.max, "crediting_period_outside_vintages"),  # its day after does not exist
        (date(9970, 1, 1), date(9989, 12, 31), "crediting_period_outside_vintages"),  # nor does 40 years on
        (date(1, 1, 1), date(30, 12, 31), "crediting_period_outside_vintages"),
        (date.max, date.min, "crediting_period_reversed"),
    ],
)
def test_crediting_period_within_the_vintages(start: date, end: date, code: str | None) -> None:
    assert [reason.code for reason in check_crediting_period(start, end, RULES)] == ([code] if code else [])


def test_a_vintage_is_the_year_a_period_ends_within_the_issuable_years() -> None:
    assert (MIN_VINTAGE, MAX_VINTAGE) == (1990, 2099)
    assert vintage_of(date(1990, 1, 1)) == 1990
    assert vintage_of(date(2099, 12, 31)) == 2099
    for outside in (date(1989, 12, 31), date(2100, 1, 1), date.min, date.max):
        with pytest.raises(RuleViolation) as refused:
            vintage_of(outside)
        assert refused.value.code == "vintage_out_of_range"
