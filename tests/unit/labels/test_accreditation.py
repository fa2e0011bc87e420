from __future__ import annotations

from datetime import date
from uuid import uuid4

import pytest

from domain.errors import Conflict, Forbidden, InvalidState, RuleViolation
from domain.labels.accreditation import (
    Accreditation,
    AccreditationStatus,
    accredit,
    accreditation_refusal,
    can_act,
    require_accreditation,
    withdraw,
)
from domain.labels.scheme import BASHAN_ECO_LABEL, ProductCategory

TEA = ProductCategory.TEA
HONEY = ProductCategory.HONEY
CERTIFIER = uuid4()
START = date(2026, 1, 1)
END = date(2028, 12, 31)


def tea_and_honey() -> list[Accreditation]:
    return [accredit(BASHAN_ECO_LABEL, CERTIFIER, [TEA, HONEY], START, END, 421)]


@pytest.mark.parametrize(
    ("day", "category", "allowed", "reason"),
    [
        (date(2025, 12, 31), TEA, False, "valid only from 2026-01-01"),
        (START, TEA, True, None),
        (END, HONEY, True, None),
        (date(2029, 1, 1), TEA, False, "expired after 2028-12-31"),
        (date(2027, 6, 1), ProductCategory.HERBS, False, "covers honey, tea, not herbs"),
    ],
)
def test_can_act_only_inside_validity_and_scope(
    day: date, category: ProductCategory, allowed: bool, reason: str
) -> None:
    accreditations = tea_and_honey()
    assert can_act(accreditations, CERTIFIER, "BASHAN", category, day) is allowed
    refusal = accreditation_refusal(accreditations, CERTIFIER, "BASHAN", category, day)
    if allowed:
        assert refusal is None
        require_accreditation(accreditations, CERTIFIER, "BASHAN", category, day)
    else:
        assert refusal is not None
        assert reason in refusal
        with pytest.raises(Forbidden, match=reason) as raised:
            require_accreditation(accreditations, CERTIFIER, "BASHAN", category, day)
        assert raised.value.code == "certifier_not_accredited"


def test_another_certifier_or_scheme_cannot_borrow_an_accreditation() -> None:
    accreditations = tea_and_honey()
    stranger = uuid4()
    assert not can_act(accreditations, stranger, "BASHAN", TEA, date(2027, 1, 1))
    assert "holds no accreditation" in (accreditation_refusal(accreditations, stranger, "BASHAN", TEA, START) or "")
    assert not can_act(accreditations, CERTIFIER, "LISHUI", TEA, date(2027, 1, 1))


def test_withdrawal_ends_the_right_to_act_from_its_day() -> None:
    accreditation = tea_and_honey()[0]
    withdrawn = withdraw(accreditation, date(2027, 3, 1), "  conflict of interest ")
    assert withdrawn.withdrawal_reason == "conflict of interest"
    assert withdrawn.status(date(2027, 2, 28)) is AccreditationStatus.ACTIVE
    assert withdrawn.status(date(2027, 3, 1)) is AccreditationStatus.WITHDRAWN
    assert can_act([withdrawn], CERTIFIER, "BASHAN", TEA, date(2027, 2, 28))
    refusal = accreditation_refusal([withdrawn], CERTIFIER, "BASHAN", TEA, date(2027, 3, 1))
    assert refusal == "accreditation for BASHAN was withdrawn on 2027-03-01: conflict of interest"
    with pytest.raises(InvalidState, match="already withdrawn"):
        withdraw(withdrawn, date(2027, 4, 1), "again")
    with pytest.raises(RuleViolation, match="needs a reason"):
        withdraw(accreditation, date(2027, 4, 1), " ")


def test_a_renewed_accreditation_takes_over_from_an_expired_one() -> None:
    old = accredit(BASHAN_ECO_LABEL, CERTIFIER, [TEA], date(2023, 1, 1), date(2025, 12, 31), 421)
    new = accredit(BASHAN_ECO_LABEL, CERTIFIER, [HONEY], START, END, 421, existing=[old])
    assert can_act([old, new], CERTIFIER, "BASHAN", HONEY, date(2026, 5, 1))
    # The active accreditation's scope is the better explanation than the old one's expiry.
    assert accreditation_refusal([old, new], CERTIFIER, "BASHAN", TEA, date(2026, 5, 1)) == (
        "accreditation for BASHAN covers honey, not tea"
    )


def test_bad_accreditations_are_refused() -> None:
    with pytest.raises(RuleViolation, match="at least one product category"):
        accredit(BASHAN_ECO_LABEL, CERTIFIER, [], START, END, 1)
    with pytest.raises(RuleViolation, match="end before it starts"):
        accredit(BASHAN_ECO_LABEL, CERTIFIER, [TEA], END, START, 1)
    with pytest.raises(RuleViolation, match="1-9999"):
        accredit(BASHAN_ECO_LABEL, CERTIFIER, [TEA], START, END, 10_000)
    with pytest.raises(Conflict, match="label number 0421 belongs to") as raised:
        accredit(BASHAN_ECO_LABEL, uuid4(), [TEA], START, END, 421, existing=tea_and_honey())
    assert raised.value.code == "label_number_taken"
