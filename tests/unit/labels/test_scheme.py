from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from domain.errors import NotFound, RuleViolation
from domain.labels.scheme import (
    BASHAN_DISTRICTS,
    BASHAN_ECO_LABEL,
    CriteriaVersion,
    Evidence,
    LabelScheme,
    MeasuredRange,
    OriginWithin,
    ProductCategory,
    add_months,
)

JUNE = date(2026, 6, 1)


def tea_evidence(**lab: str) -> Evidence:
    results = {"selenium": Decimal("0.80"), "lead": Decimal("1.2")}
    results.update({key: Decimal(value) for key, value in lab.items()})
    return Evidence("tongjiang", results, {"organic_inputs_only": True})


def test_the_bashan_scheme_covers_five_categories_with_defaults() -> None:
    assert BASHAN_ECO_LABEL.categories == set(ProductCategory)
    assert BASHAN_ECO_LABEL.certificate_validity_months == 36
    assert BASHAN_ECO_LABEL.surveillance_interval_months == 12
    assert BASHAN_ECO_LABEL.surveillance_grace_days == 30
    assert sorted(BASHAN_DISTRICTS) == ["bazhou", "enyang", "nanjiang", "pingchang", "tongjiang"]


def test_conforming_tea_passes_every_criterion() -> None:
    evaluation = BASHAN_ECO_LABEL.evaluate(ProductCategory.TEA, tea_evidence(), JUNE)
    assert evaluation.passed
    assert evaluation.version == 1
    assert [result.criterion for result in evaluation.results] == ["origin", "organic_inputs_only", "selenium", "lead"]
    assert evaluation.failures == ()


@pytest.mark.parametrize(
    ("selenium", "passed", "reason"),
    [
        ("0.24", False, "selenium 0.24 mg/kg is below the minimum 0.25"),
        ("0.25", True, ""),
        ("4.00", True, ""),
        ("4.01", False, "selenium 4.01 mg/kg is above the maximum 4.00"),
    ],
)
def test_selenium_bounds_are_inclusive(selenium: str, passed: bool, reason: str) -> None:
    evaluation = BASHAN_ECO_LABEL.evaluate(ProductCategory.TEA, tea_evidence(selenium=selenium), JUNE)
    assert evaluation.passed is passed
    assert evaluation.failures == ((reason,) if reason else ())


def test_every_failure_has_its_own_reason() -> None:
    evidence = Evidence("chengdu", {"selenium": Decimal("0.1")}, {"organic_inputs_only": False})
    evaluation = BASHAN_ECO_LABEL.evaluate(ProductCategory.TEA, evidence, JUNE)
    assert not evaluation.passed
    assert evaluation.failures == (
        "district 'chengdu' is outside Bashan (Bazhong)",
        "audit found organic_inputs_only not met (no synthetic fertiliser, pesticide or growth regulator used)",
        "selenium 0.1 mg/kg is below the minimum 0.25",
        "no lab result for lead; needed lead <= 5.0 mg/kg",
    )


def test_missing_origin_and_finding_fail() -> None:
    evaluation = BASHAN_ECO_LABEL.evaluate(ProductCategory.HONEY, Evidence(), JUNE)
    assert len(evaluation.failures) == 4
    assert evaluation.failures[0].startswith("no production district recorded")
    assert evaluation.failures[1].startswith("audit did not record no_veterinary_drugs")


def test_the_version_in_force_on_the_day_judges() -> None:
    v1 = CriteriaVersion(
        ProductCategory.TEA, 1, date(2026, 1, 1), (MeasuredRange("selenium", "mg/kg", Decimal("0.25")),)
    )
    v2 = CriteriaVersion(
        ProductCategory.TEA, 2, date(2027, 1, 1), (MeasuredRange("selenium", "mg/kg", Decimal("0.40")),)
    )
    scheme = LabelScheme("TEST", "test", (v2, v1))
    evidence = Evidence(lab_results={"selenium": Decimal("0.30")})
    assert scheme.evaluate(ProductCategory.TEA, evidence, date(2026, 12, 31)).passed
    later = scheme.evaluate(ProductCategory.TEA, evidence, date(2027, 1, 1))
    assert later.version == 2
    assert not later.passed
    with pytest.raises(NotFound, match="no criteria for tea in force on 2025-12-31"):
        scheme.criteria_for(ProductCategory.TEA, date(2025, 12, 31))
    with pytest.raises(NotFound, match="no criteria for honey"):
        scheme.criteria_for(ProductCategory.HONEY, date(2026, 6, 1))


def test_bad_schemes_and_criteria_are_refused() -> None:
    with pytest.raises(RuleViolation, match="at least one bound"):
        MeasuredRange("selenium", "mg/kg")
    with pytest.raises(RuleViolation, match="minimum above maximum"):
        MeasuredRange("selenium", "mg/kg", Decimal("2"), Decimal("1"))
    version = CriteriaVersion(ProductCategory.TEA, 1, JUNE, (OriginWithin(frozenset({"bazhou"})),))
    with pytest.raises(RuleViolation, match="repeats a category version"):
        LabelScheme("X", "x", (version, version))
    with pytest.raises(RuleViolation, match="cannot exceed"):
        LabelScheme("X", "x", (), certificate_validity_months=12, surveillance_interval_months=24)
    with pytest.raises(RuleViolation, match="positive"):
        LabelScheme("X", "x", (), certificate_validity_months=0)


def test_validity_and_surveillance_dates() -> None:
    assert add_months(date(2026, 1, 31), 1) == date(2026, 2, 28)
    assert add_months(date(2027, 11, 30), 3) == date(2028, 2, 29)
    assert add_months(date(2026, 12, 15), 12) == date(2027, 12, 15)
    assert BASHAN_ECO_LABEL.valid_until(date(2026, 3, 1)) == date(2029, 2, 28)
    assert BASHAN_ECO_LABEL.next_surveillance_due(date(2026, 3, 1)) == date(2027, 3, 1)
