"""Label schemes: what a product must show to carry a label, versioned per product category, and the evaluation of
an application's evidence (origin, lab results, audit findings) against those criteria, with a reason per criterion.

The Bashan eco-label is the first scheme; another scheme is another ``LabelScheme`` value. Criteria change over time,
so a scheme holds versions per category and an application is judged by the version in force on the day it is judged.
The default thresholds below are defaults taken from the national standards named beside them, to be reviewed by the
scheme owner; services may load other versions from data without a code change.
"""

from __future__ import annotations

import calendar
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from enum import StrEnum

from domain.errors import NotFound, RuleViolation


class ProductCategory(StrEnum):
    TREMELLA = "tremella"  # 银耳, Tongjiang's signature product
    TEA = "tea"
    HONEY = "honey"
    SELENIUM_PRODUCE = "selenium_produce"  # selenium-rich grain and vegetables
    HERBS = "herbs"  # 中药材


# The Bashan region is Bazhong city: two districts and three counties.
BASHAN_DISTRICTS: Mapping[str, str] = {
    "bazhou": "巴州区",
    "enyang": "恩阳区",
    "tongjiang": "通江县",
    "nanjiang": "南江县",
    "pingchang": "平昌县",
}


@dataclass(frozen=True, slots=True)
class Evidence:
    """What a certification has gathered: the production site's district, lab results and audit findings."""

    origin_district: str | None = None
    lab_results: Mapping[str, Decimal] = field(default_factory=dict)
    findings: Mapping[str, bool] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class CriterionResult:
    criterion: str
    passed: bool
    reason: str


@dataclass(frozen=True, slots=True)
class MeasuredRange:
    """A lab result that must lie within [minimum, maximum] (either bound may be open)."""

    measure: str
    unit: str
    minimum: Decimal | None = None
    maximum: Decimal | None = None
    basis: str = ""

    def __post_init__(self) -> None:
        if self.minimum is None and self.maximum is None:
            raise RuleViolation(f"range for {self.measure} needs at least one bound", code="invalid_criterion")
        if self.minimum is not None and self.maximum is not None and self.minimum > self.maximum:
            raise RuleViolation(f"range for {self.measure} has minimum above maximum", code="invalid_criterion")

    @property
    def name(self) -> str:
        return self.measure

    def describe(self) -> str:
        low = "" if self.minimum is None else f"{self.minimum} <= "
        high = "" if self.maximum is None else f" <= {self.maximum}"
        return f"{low}{self.measure}{high} {self.unit}"

    def evaluate(self, evidence: Evidence) -> CriterionResult:
        value = evidence.lab_results.get(self.measure)
        if value is None:
            return CriterionResult(self.name, False, f"no lab result for {self.measure}; needed {self.describe()}")
        if self.minimum is not None and value < self.minimum:
            return CriterionResult(
                self.name, False, f"{self.measure} {value} {self.unit} is below the minimum {self.minimum}"
            )
        if self.maximum is not None and value > self.maximum:
            return CriterionResult(
                self.name, False, f"{self.measure} {value} {self.unit} is above the maximum {self.maximum}"
            )
        return CriterionResult(self.name, True, f"{self.measure} {value} {self.unit} within {self.describe()}")


@dataclass(frozen=True, slots=True)
class OriginWithin:
    """The production site lies in one of the listed districts."""

    districts: frozenset[str]
    region: str = "Bashan (Bazhong)"

    @property
    def name(self) -> str:
        return "origin"

    def evaluate(self, evidence: Evidence) -> CriterionResult:
        district = evidence.origin_district
        if district is None:
            return CriterionResult(self.name, False, f"no production district recorded; must be within {self.region}")
        if district not in self.districts:
            return CriterionResult(self.name, False, f"district {district!r} is outside {self.region}")
        return CriterionResult(self.name, True, f"district {district!r} is within {self.region}")


@dataclass(frozen=True, slots=True)
class RequiredFinding:
    """An audit finding that must have been recorded as true, such as "only organic inputs used"."""

    finding: str
    description: str

    @property
    def name(self) -> str:
        return self.finding

    def evaluate(self, evidence: Evidence) -> CriterionResult:
        value = evidence.findings.get(self.finding)
        if value is None:
            return CriterionResult(self.name, False, f"audit did not record {self.finding} ({self.description})")
        if not value:
            return CriterionResult(self.name, False, f"audit found {self.finding} not met ({self.description})")
        return CriterionResult(self.name, True, f"audit found {self.finding} met")


Criterion = MeasuredRange | OriginWithin | RequiredFinding


@dataclass(frozen=True, slots=True)
class CriteriaVersion:
    category: ProductCategory
    version: int
    effective_from: date
    criteria: tuple[Criterion, ...]


@dataclass(frozen=True, slots=True)
class Evaluation:
    scheme: str
    category: ProductCategory
    version: int
    results: tuple[CriterionResult, ...]

    @property
    def passed(self) -> bool:
        return all(result.passed for result in self.results)

    @property
    def failures(self) -> tuple[str, ...]:
        """The reasons to quote when asking for rectification or refusing."""
        return tuple(result.reason for result in self.results if not result.passed)


def add_months(day: date, months: int) -> date:
    """The same day ``months`` later, or the month's last day when it is shorter (31 Jan + 1 month = 28/29 Feb)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


@dataclass(frozen=True, slots=True)
class LabelScheme:
    code: str
    name: str
    criteria: tuple[CriteriaVersion, ...]
    certificate_validity_months: int = 36
    surveillance_interval_months: int = 12
    surveillance_grace_days: int = 30  # overdue longer than this suspends the certificate
    surveillance_notice_days: int = 30  # how early a surveillance audit is reported as due
    renewal_window_days: int = 180  # how long before expiry a renewal may be granted

    def __post_init__(self) -> None:
        if self.certificate_validity_months <= 0 or self.surveillance_interval_months <= 0:
            raise RuleViolation("validity and surveillance interval must be positive", code="invalid_scheme")
        if self.surveillance_interval_months > self.certificate_validity_months:
            raise RuleViolation("surveillance interval cannot exceed the validity", code="invalid_scheme")
        if min(self.surveillance_grace_days, self.surveillance_notice_days, self.renewal_window_days) < 0:
            raise RuleViolation("grace, notice and renewal windows cannot be negative", code="invalid_scheme")
        keys = [(version.category, version.version) for version in self.criteria]
        if len(keys) != len(set(keys)):
            raise RuleViolation(f"scheme {self.code} repeats a category version", code="invalid_scheme")

    @property
    def categories(self) -> frozenset[ProductCategory]:
        return frozenset(version.category for version in self.criteria)

    def criteria_for(self, category: ProductCategory, on: date) -> CriteriaVersion:
        """The version in force on ``on``: the newest whose effective date has come."""
        candidates = [v for v in self.criteria if v.category is category and v.effective_from <= on]
        if not candidates:
            raise NotFound(
                f"scheme {self.code} has no criteria for {category} in force on {on.isoformat()}",
                code="criteria_not_found",
            )
        return max(candidates, key=lambda version: (version.effective_from, version.version))

    def evaluate(self, category: ProductCategory, evidence: Evidence, on: date) -> Evaluation:
        version = self.criteria_for(category, on)
        results = tuple(criterion.evaluate(evidence) for criterion in version.criteria)
        return Evaluation(self.code, category, version.version, results)

    def valid_until(self, valid_from: date) -> date:
        """Last day of validity, inclusive: 2026-03-01 with 36 months gives 2029-02-28."""
        return add_months(valid_from, self.certificate_validity_months) - timedelta(days=1)

    def next_surveillance_due(self, since: date) -> date:
        return add_months(since, self.surveillance_interval_months)


_BASHAN = frozenset(BASHAN_DISTRICTS)
_ORIGIN = OriginWithin(_BASHAN)
_ORGANIC = RequiredFinding("organic_inputs_only", "no synthetic fertiliser, pesticide or growth regulator used")
_SCHEME_START = date(2026, 1, 1)

BASHAN_CRITERIA: tuple[CriteriaVersion, ...] = (
    CriteriaVersion(
        ProductCategory.TREMELLA,
        1,
        _SCHEME_START,
        (
            _ORIGIN,
            _ORGANIC,
            MeasuredRange("moisture", "%", maximum=Decimal("15"), basis="GB/T 23775 dried tremella"),
            MeasuredRange("sulfur_dioxide", "g/kg", maximum=Decimal("0.05"), basis="no sulphur fumigation"),
        ),
    ),
    CriteriaVersion(
        ProductCategory.TEA,
        1,
        _SCHEME_START,
        (
            _ORIGIN,
            _ORGANIC,
            MeasuredRange("selenium", "mg/kg", Decimal("0.25"), Decimal("4.00"), basis="NY/T 600 selenium-rich tea"),
            MeasuredRange("lead", "mg/kg", maximum=Decimal("5.0"), basis="GB 2762 tea"),
        ),
    ),
    CriteriaVersion(
        ProductCategory.HONEY,
        1,
        _SCHEME_START,
        (
            _ORIGIN,
            RequiredFinding("no_veterinary_drugs", "no antibiotics used in the apiary"),
            MeasuredRange("moisture", "%", maximum=Decimal("20"), basis="GB 14963 honey"),
            MeasuredRange("hydroxymethylfurfural", "mg/kg", maximum=Decimal("40"), basis="Codex honey standard"),
        ),
    ),
    CriteriaVersion(
        ProductCategory.SELENIUM_PRODUCE,
        1,
        _SCHEME_START,
        (
            _ORIGIN,
            _ORGANIC,
            MeasuredRange("selenium", "mg/kg", Decimal("0.04"), Decimal("0.30"), basis="GB/T 22499 selenium-rich rice"),
        ),
    ),
    CriteriaVersion(
        ProductCategory.HERBS,
        1,
        _SCHEME_START,
        (
            _ORIGIN,
            RequiredFinding("good_agricultural_practice", "grown under GAP for Chinese medicinal materials"),
            MeasuredRange("lead", "mg/kg", maximum=Decimal("5"), basis="Chinese Pharmacopoeia heavy metals"),
        ),
    ),
)

BASHAN_ECO_LABEL = LabelScheme(code="BASHAN", name="Bashan eco-label 巴山生态标志", criteria=BASHAN_CRITERIA)
