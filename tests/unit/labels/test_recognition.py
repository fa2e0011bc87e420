from __future__ import annotations

from datetime import date
from uuid import uuid4

import pytest

from domain.errors import RuleViolation
from domain.labels.recognition import (
    ForeignCertificate,
    check_shortened_path,
    recognise,
    recognitions_in_force,
    shortened_path_refusal,
)
from domain.labels.scheme import BASHAN_ECO_LABEL, ProductCategory

TEA = ProductCategory.TEA
HONEY = ProductCategory.HONEY
PRODUCER = uuid4()
TODAY = date(2026, 6, 1)
ORGANIC = recognise(
    BASHAN_ECO_LABEL, "CN-ORGANIC", "China organic (GB/T 19630)", [TEA, HONEY], date(2026, 1, 1), date(2027, 12, 31)
)
LISHUI = recognise(BASHAN_ECO_LABEL, "LISHUI", "丽水山耕", [TEA], date(2024, 1, 1), date(2025, 12, 31))


def organic_tea(**changes: object) -> ForeignCertificate:
    fields: dict[str, object] = {
        "scheme": "CN-ORGANIC",
        "number": "OC-2025-0042",
        "holder_id": PRODUCER,
        "category": TEA,
        "valid_until": date(2027, 3, 1),
    }
    fields.update(changes)
    return ForeignCertificate(**fields)  # type: ignore[arg-type]


def test_a_valid_certificate_of_a_recognised_scheme_opens_the_shortened_path() -> None:
    assert check_shortened_path([LISHUI, ORGANIC], organic_tea(), "BASHAN", TEA, PRODUCER, TODAY) == ORGANIC


@pytest.mark.parametrize(
    ("certificate", "category", "producer", "on", "reason"),
    [
        (organic_tea(), HONEY, PRODUCER, TODAY, "covers tea, the application is for honey"),
        (organic_tea(holder_id=uuid4()), TEA, PRODUCER, TODAY, "held by another organisation"),
        (organic_tea(valid_until=date(2026, 5, 31)), TEA, PRODUCER, TODAY, "expired on 2026-05-31"),
        (
            organic_tea(scheme="EU-ORGANIC"),
            TEA,
            PRODUCER,
            TODAY,
            "EU-ORGANIC is not recognised as equivalent to BASHAN",
        ),
        (organic_tea(category=ProductCategory.HERBS), ProductCategory.HERBS, PRODUCER, TODAY, "does not cover herbs"),
        (organic_tea(scheme="LISHUI"), TEA, PRODUCER, TODAY, "not in force on 2026-06-01 (2024-01-01..2025-12-31)"),
        (organic_tea(valid_until=date(2029, 1, 1)), TEA, PRODUCER, date(2028, 1, 1), "not in force on 2028-01-01"),
    ],
)
def test_the_shortened_path_is_closed_with_a_reason(
    certificate: ForeignCertificate, category: ProductCategory, producer: object, on: date, reason: str
) -> None:
    refusal = shortened_path_refusal([ORGANIC, LISHUI], certificate, "BASHAN", category, PRODUCER, on)
    assert refusal is not None
    assert reason in refusal
    with pytest.raises(RuleViolation, match=reason.replace("(", r"\(").replace(")", r"\)")) as raised:
        check_shortened_path([ORGANIC, LISHUI], certificate, "BASHAN", category, PRODUCER, on)
    assert raised.value.code == "not_recognised"


def test_verification_shows_only_recognitions_in_force() -> None:
    assert recognitions_in_force([LISHUI, ORGANIC], "BASHAN", TODAY) == [ORGANIC]
    assert recognitions_in_force([LISHUI, ORGANIC], "BASHAN", date(2025, 6, 1)) == [LISHUI]
    assert recognitions_in_force([LISHUI, ORGANIC], "OTHER", TODAY) == []


def test_bad_recognitions_are_refused() -> None:
    with pytest.raises(RuleViolation, match="at least one product category"):
        recognise(BASHAN_ECO_LABEL, "X", "x", [], TODAY, TODAY)
    with pytest.raises(RuleViolation, match="recognise itself"):
        recognise(BASHAN_ECO_LABEL, "BASHAN", "x", [TEA], TODAY, TODAY)
    with pytest.raises(RuleViolation, match="end before it starts"):
        recognise(BASHAN_ECO_LABEL, "X", "x", [TEA], TODAY, date(2026, 1, 1))
