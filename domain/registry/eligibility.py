"""Eligibility of parcels and projects under a methodology's rules, with every reason for a refusal at once.

Areas are in mu (亩). 1 mu = 10000/15 m2 exactly (1 ha = 15 mu), so 400 m2 is exactly 0.6 mu; comparisons use
``Fraction`` so no rounding of 666.67 m2 decides a borderline parcel.

A crediting period runs from ``start`` to ``end`` inclusive; its length is measured from ``start`` to the day after
``end``, so 2026-01-01 to 2045-12-31 is exactly 20 years. It must lie within the vintages the registry can issue
(domain/registry/serials.py, 1990-2099): a period that could yield a monitoring period without an issuable vintage is
refused when the project is created, not at issuance; this also keeps its date arithmetic far from year 1 and 9999.
"""

from __future__ import annotations

import calendar
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from enum import StrEnum
from fractions import Fraction

from domain.errors import RuleViolation
from domain.registry.methodology import LandUse, MethodologyRules
from domain.registry.serials import MAX_VINTAGE, MIN_VINTAGE

M2_PER_MU = Fraction(10000, 15)
MAX_PARCEL_AREA_MU = 1_000_000  # the largest parcel the registry records (about 667 km2)
FOREST_LAND_USES = frozenset({LandUse.TIMBER_FOREST, LandUse.ECOLOGICAL_FOREST})


class ProjectType(StrEnum):
    AFFORESTATION = "afforestation"  # planting on land that was not forest (CCER-14-001)
    FOREST_MANAGEMENT = "forest_management"  # improved management of existing forest


@dataclass(frozen=True)
class Reason:
    code: str
    message: str


@dataclass(frozen=True)
class ParcelFacts:
    parcel_id: str
    area_mu: Decimal
    land_use: LandUse
    tenure_certificate: str | None  # 林权证 / 不动产权证 number
    years_non_forest: int | None = None  # how long the land has been non-forest; needed for afforestation


@dataclass(frozen=True)
class ProjectFacts:
    project_type: ProjectType
    crediting_start: date
    crediting_end: date
    parcels: tuple[ParcelFacts, ...]


def area_m2(area_mu: Decimal) -> Fraction:
    return Fraction(area_mu) * M2_PER_MU


def min_parcel_area_mu(rules: MethodologyRules) -> Fraction:
    return Fraction(rules.min_parcel_area_m2) / M2_PER_MU


def add_years(day: date, years: int) -> date:
    """The same calendar day ``years`` later; 29 February becomes 28 February in a common year."""
    target = day.year + years
    return day.replace(year=target, day=min(day.day, calendar.monthrange(target, day.month)[1]))


def check_parcel(parcel: ParcelFacts, project_type: ProjectType, rules: MethodologyRules) -> list[Reason]:
    reasons: list[Reason] = []
    label = f"parcel {parcel.parcel_id}"
    if parcel.area_mu <= 0 or area_m2(parcel.area_mu) < Fraction(rules.min_parcel_area_m2):
        minimum = min_parcel_area_mu(rules)
        reasons.append(
            Reason(
                "parcel_too_small",
                f"{label}: {parcel.area_mu} mu ({float(area_m2(parcel.area_mu)):.2f} m2) is below the minimum of "
                f"{rules.min_parcel_area_m2} m2 ({float(minimum):g} mu)",
            )
        )
    if parcel.land_use in rules.excluded_land_uses:
        why = {
            LandUse.ECONOMIC_FOREST: "economic forest (tea gardens, orchards) is excluded",
            LandUse.WETLAND: "wetland is excluded",
        }.get(parcel.land_use, f"{parcel.land_use.value} land is excluded")
        reasons.append(Reason(parcel.land_use.value, f"{label}: {why}"))
    if not (parcel.tenure_certificate or "").strip():
        reasons.append(Reason("tenure_missing", f"{label}: no tenure certificate (林权证 / 不动产权证) number"))
    if project_type is ProjectType.AFFORESTATION:
        reasons.extend(_afforestation_reasons(parcel, label, rules))
    elif parcel.land_use not in FOREST_LAND_USES and parcel.land_use not in rules.excluded_land_uses:
        reasons.append(
            Reason("not_forest", f"{label}: forest management needs forest land, not {parcel.land_use.value}")
        )
    return reasons


def _afforestation_reasons(parcel: ParcelFacts, label: str, rules: MethodologyRules) -> list[Reason]:
    if parcel.land_use in FOREST_LAND_USES:
        return [
            Reason("already_forest", f"{label}: afforestation needs non-forest land, this is {parcel.land_use.value}")
        ]
    required = rules.afforestation_non_forest_years
    if parcel.years_non_forest is None:
        return [
            Reason("non_forest_unknown", f"{label}: afforestation needs evidence of {required}+ years as non-forest")
        ]
    if parcel.years_non_forest < required:
        return [
            Reason(
                "non_forest_too_recent",
                f"{label}: non-forest for {parcel.years_non_forest} years, afforestation needs {required}+",
            )
        ]
    return []


def check_crediting_period(start: date, end: date, rules: MethodologyRules) -> list[Reason]:
    low, high = rules.crediting_period_min_years, rules.crediting_period_max_years
    if end < start:
        return [Reason("crediting_period_reversed", f"crediting period ends ({end}) before it starts ({start})")]
    if start.year < MIN_VINTAGE or end.year > MAX_VINTAGE:
        return [
            Reason(
                "crediting_period_outside_vintages",
                f"crediting period {start} to {end} is not within the vintages the registry can issue, "
                f"{MIN_VINTAGE}-01-01 to {MAX_VINTAGE}-12-31",
            )
        ]
    stop = end + timedelta(days=1)
    if stop < add_years(start, low):
        return [Reason("crediting_period_too_short", f"crediting period {start} to {end} is shorter than {low} years")]
    if stop > add_years(start, high):
        return [Reason("crediting_period_too_long", f"crediting period {start} to {end} is longer than {high} years")]
    return []


def check_project(project: ProjectFacts, rules: MethodologyRules) -> list[Reason]:
    reasons = check_crediting_period(project.crediting_start, project.crediting_end, rules)
    if not project.parcels:
        reasons.append(Reason("no_parcels", "a project needs at least one parcel"))
    seen: set[str] = set()
    for parcel in project.parcels:
        if parcel.parcel_id in seen:
            reasons.append(Reason("duplicate_parcel", f"parcel {parcel.parcel_id} is listed twice"))
        seen.add(parcel.parcel_id)
        reasons.extend(check_parcel(parcel, project.project_type, rules))
    return reasons


def refuse_if_any(reasons: Sequence[Reason], subject: str) -> None:
    """Raise ``RuleViolation`` (code ``ineligible``) carrying every reason as (code, message) pairs."""
    if reasons:
        listed = "; ".join(reason.message for reason in reasons)
        raise RuleViolation(
            f"{subject} is not eligible: {listed}",
            code="ineligible",
            reasons=[(reason.code, reason.message) for reason in reasons],
        )


def require_eligible_project(project: ProjectFacts, rules: MethodologyRules) -> None:
    refuse_if_any(check_project(project, rules), "the project")


def require_eligible_parcel(parcel: ParcelFacts, project_type: ProjectType, rules: MethodologyRules) -> None:
    refuse_if_any(check_parcel(parcel, project_type, rules), f"parcel {parcel.parcel_id}")
