from __future__ import annotations

import dataclasses
from datetime import date
from decimal import Decimal
from fractions import Fraction

import pytest

from domain.errors import RuleViolation
from domain.registry.eligibility import (
    ParcelFacts,
    ProjectFacts,
    ProjectType,
    add_years,
    area_m2,
    check_crediting_period,
    check_parcel,
    check_project,
    min_parcel_area_mu,
    require_eligible_parcel,
    require_eligible_project,
)
from domain.registry.methodology import DEFAULT_METHODOLOGY, LandUse

RULES = DEFAULT_METHODOLOGY.rules
AFFORESTATION = ProjectType.AFFORESTATION
BARE = ParcelFacts("NJ-001", Decimal("12.5"), LandUse.BARE_LAND, "川(2024)南江县不动产权第0001234号", 5)


def codes(parcel: ParcelFacts, project_type: ProjectType = AFFORESTATION) -> list[str]:
    return [reason.code for reason in check_parcel(parcel, project_type, RULES)]


def test_mu_conversion_is_exact() -> None:
    assert area_m2(Decimal(15)) == 10000
    assert area_m2(Decimal("0.6")) == 400
    assert min_parcel_area_mu(RULES) == Fraction(3, 5)


def test_an_eligible_afforestation_parcel_has_no_reasons() -> None:
    assert codes(BARE) == []
    require_eligible_parcel(BARE, AFFORESTATION, RULES)


@pytest.mark.parametrize(("area", "eligible"), [("0.6", True), ("0.59999", False), ("0.6000001", True), ("0", False)])
def test_the_400_m2_boundary_is_exactly_0_6_mu(area: str, eligible: bool) -> None:
    assert (codes(dataclasses.replace(BARE, area_mu=Decimal(area))) == []) is eligible


def test_each_rule_gives_its_own_reason() -> None:
    assert codes(dataclasses.replace(BARE, land_use=LandUse.ECONOMIC_FOREST)) == ["economic_forest"]
    assert codes(dataclasses.replace(BARE, land_use=LandUse.WETLAND)) == ["wetland"]
    assert codes(dataclasses.replace(BARE, tenure_certificate=" ")) == ["tenure_missing"]
    assert codes(dataclasses.replace(BARE, tenure_certificate=None)) == ["tenure_missing"]
    assert codes(dataclasses.replace(BARE, years_non_forest=2)) == ["non_forest_too_recent"]
    assert codes(dataclasses.replace(BARE, years_non_forest=3)) == []
    assert codes(dataclasses.replace(BARE, years_non_forest=None)) == ["non_forest_unknown"]
    assert codes(dataclasses.replace(BARE, land_use=LandUse.TIMBER_FOREST)) == ["already_forest"]


def test_forest_management_needs_forest_but_not_non_forest_years() -> None:
    forest = dataclasses.replace(BARE, land_use=LandUse.ECOLOGICAL_FOREST, years_non_forest=None)
    assert codes(forest, ProjectType.FOREST_MANAGEMENT) == []
    assert codes(BARE, ProjectType.FOREST_MANAGEMENT) == ["not_forest"]
    orchard = dataclasses.replace(forest, land_use=LandUse.ECONOMIC_FOREST)
    assert codes(orchard, ProjectType.FOREST_MANAGEMENT) == ["economic_forest"]


def test_every_reason_is_reported_at_once_with_a_readable_message() -> None:
    bad = ParcelFacts("NJ-9", Decimal("0.5"), LandUse.WETLAND, None, 1)
    reasons = check_parcel(bad, AFFORESTATION, RULES)
    assert [reason.code for reason in reasons] == [
        "parcel_too_small",
        "wetland",
        "tenure_missing",
        "non_forest_too_recent",
    ]
    assert reasons[0].message == "parcel NJ-9: 0.5 mu (333.33 m2) is below the minimum of 400 m2 (0.6 mu)"
    assert reasons[3].message == "parcel NJ-9: non-forest for 1 years, afforestation needs 3+"


@pytest.mark.parametrize(
    ("start", "end", "code"),
    [
        (date(2026, 1, 1), date(2045, 12, 31), None),  # exactly 20 years
        (date(2026, 1, 1), date(2045, 12, 30), "crediting_period_too_short"),
        (date(2026, 1, 1), date(2065, 12, 31), None),  # exactly 40 years
        (date(2026, 1, 1), date(2066, 1, 1), "crediting_period_too_long"),
        (date(2026, 1, 1), date(2025, 12, 31), "crediting_period_reversed"),
        (date(2028, 2, 29), date(2048, 2, 28), None),
    ],
)
def test_crediting_period_bounds(start: date, end: date, code: str | None) -> None:
    assert [reason.code for reason in check_crediting_period(start, end, RULES)] == ([code] if code else [])


def test_add_years_handles_leap_days() -> None:
    assert add_years(date(2028, 2, 29), 1) == date(2029, 2, 28)
    assert add_years(date(2028, 2, 29), 4) == date(2032, 2, 29)


def test_a_refused_project_carries_every_reason_in_the_error() -> None:
    project = ProjectFacts(
        AFFORESTATION,
        date(2026, 1, 1),
        date(2035, 12, 31),
        (BARE, BARE, dataclasses.replace(BARE, parcel_id="NJ-002", land_use=LandUse.ECONOMIC_FOREST)),
    )
    with pytest.raises(RuleViolation) as caught:
        require_eligible_project(project, RULES)
    error = caught.value
    assert error.code == "ineligible"
    assert error.context["reasons"] == [
        ("crediting_period_too_short", "crediting period 2026-01-01 to 2035-12-31 is shorter than 20 years"),
        ("duplicate_parcel", "parcel NJ-001 is listed twice"),
        ("economic_forest", "parcel NJ-002: economic forest (tea gardens, orchards) is excluded"),
    ]
    assert error.detail.startswith("the project is not eligible: crediting period 2026-01-01")


def test_an_eligible_project_passes_and_an_empty_one_does_not() -> None:
    good = ProjectFacts(AFFORESTATION, date(2026, 1, 1), date(2055, 12, 31), (BARE,))
    assert check_project(good, RULES) == []
    require_eligible_project(good, RULES)
    assert [reason.code for reason in check_project(dataclasses.replace(good, parcels=()), RULES)] == ["no_parcels"]
