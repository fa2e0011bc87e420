from __future__ import annotations

from datetime import date
from uuid import uuid4

import pytest

from domain.errors import Forbidden, InvalidState, RuleViolation
from domain.labels.certification import Certification
from domain.labels.lots import Lot, lot_status, register_lot, require_tradable
from domain.labels.states import CertificationState

from .builders import ACCREDITATIONS, CERTIFIER, OPERATOR, PRODUCER_ID, at, tea

S = CertificationState


def a_lot(certification_state: CertificationState = S.ISSUED, **changes: object) -> tuple[Lot, Certification]:
    certification = tea(certification_state)
    arguments: dict[str, object] = {
        "lot_id": uuid4(),
        "quantity": 4_000,
        "unit": "tin",
        "harvest_date": date(2026, 4, 10),
        "at": at(2026, 5, 1),
        "registered_this_year": 12_000,
    }
    arguments.update(changes)
    return register_lot(certification, PRODUCER_ID, **arguments), certification  # type: ignore[arg-type]


def test_a_lot_under_a_live_certificate() -> None:
    lot, certification = a_lot()
    assert (lot.quantity, lot.unit, lot.harvest_date) == (4_000, "tin", date(2026, 4, 10))
    assert lot.certificate_number == "BSEL-0421-2026-000001"
    assert lot.category == "tea"
    assert lot_status(lot, certification).tradable
    overdue_lot, _ = a_lot(S.SURVEILLANCE_OVERDUE)
    assert overdue_lot.quantity == 4_000


@pytest.mark.parametrize("state", [S.APPLIED, S.DECIDED, S.SUSPENDED, S.REVOKED, S.EXPIRED, S.WITHDRAWN])
def test_no_lot_without_a_live_certificate(state: CertificationState) -> None:
    with pytest.raises(InvalidState, match=f"the certificate is {state}") as raised:
        a_lot(state)
    assert raised.value.code == "certificate_not_live"


@pytest.mark.parametrize(
    ("changes", "code", "message"),
    [
        ({"quantity": 0}, "invalid_quantity", "positive quantity, got 0"),
        ({"unit": "kg"}, "unit_mismatch", "counts in tin, not kg"),
        ({"harvest_date": date(2026, 5, 2)}, "invalid_harvest_date", "2026-05-02 is in the future"),
        ({"harvest_date": date(2025, 12, 31)}, "invalid_harvest_date", "precedes the certificate"),
        (
            {"quantity": 8_001},
            "lot_exceeds_volume",
            "8001 tin exceeds the 8000 tin left of the certified annual volume of 20000 tin",
        ),
    ],
)
def test_bad_lots_are_refused(changes: dict[str, object], code: str, message: str) -> None:
    with pytest.raises(RuleViolation, match=message) as raised:
        a_lot(**changes)
    assert raised.value.code == code


def test_the_exact_remaining_volume_is_allowed() -> None:
    lot, _ = a_lot(quantity=8_000)
    assert lot.quantity == 8_000


def test_only_the_holder_registers_lots() -> None:
    with pytest.raises(Forbidden, match="only the certificate's producer"):
        register_lot(
            tea(S.ISSUED),
            uuid4(),
            lot_id=uuid4(),
            quantity=1,
            unit="tin",
            harvest_date=date(2026, 4, 1),
            at=at(2026, 5, 1),
        )


def test_suspension_and_revocation_freeze_lots_and_reinstatement_thaws_them() -> None:
    lot, certification = a_lot()
    certification.suspend(CERTIFIER, at(2026, 6, 1), "pesticide residue in a retail sample", ACCREDITATIONS)
    status = lot_status(lot, certification)
    assert not status.tradable
    assert status.reason == "frozen: certificate BSEL-0421-2026-000001 is suspended"
    with pytest.raises(InvalidState, match="is frozen: certificate BSEL-0421-2026-000001 is suspended") as raised:
        require_tradable(lot, certification)
    assert raised.value.code == "lot_frozen"
    certification.reinstate(CERTIFIER, at(2026, 7, 1), ACCREDITATIONS, "retest clean")
    require_tradable(lot, certification)
    certification.revoke(OPERATOR, at(2026, 8, 1), "label misuse")
    assert not lot_status(lot, certification).tradable


def test_an_expired_certificate_leaves_its_harvest_tradable() -> None:
    lot, certification = a_lot()
    certification.expire(OPERATOR, at(2029, 1, 1))
    assert lot_status(lot, certification).tradable


def test_a_lot_is_judged_only_by_its_own_certificate() -> None:
    lot, _ = a_lot()
    with pytest.raises(RuleViolation, match="another certificate"):
        lot_status(lot, tea(S.ISSUED))
