"""Methodology versions as data: per-species parameter tables and the rules an issuance is judged by.

A methodology (for example CCER-14-001-V01, the Chinese afforestation methodology) is published by the operator in
numbered versions of its parameter table; an issuance keeps pointing at the (code, version) it was calculated with, so a
later version never changes an earlier calculation. Every number is a ``Decimal`` built from a string: the values below
are the defaults of DOMAIN.md ("Forest carbon: from parcels to credits"), to be reviewed against the methodology annex,
which is why they live in data that a migration or loader seeds (``DEFAULT_METHODOLOGY_DATA``), not in formulas.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from types import MappingProxyType
from typing import Any

from domain.errors import InvalidState, RuleViolation

SPECIES_CODE = re.compile(r"^[a-z][a-z0-9_]{1,31}\Z")
METHODOLOGY_CODE = re.compile(r"^[A-Z][A-Z0-9]*(-[A-Z0-9]+)*\Z")


class MethodologyStatus(StrEnum):
    DRAFT = "draft"
    ACTIVE = "active"
    SUPERSEDED = "superseded"
    WITHDRAWN = "withdrawn"


class MethodologyAction(StrEnum):
    PUBLISH = "publish"
    WITHDRAW = "withdraw"
    SUPERSEDE = "supersede"  # done to the active version when a newer one is published


# draft --publish--> active --supersede (a newer version published)--> superseded
# draft | active --withdraw (operator, reason)--> withdrawn. Superseded and withdrawn are final; a published
# definition never changes, since issuances point at it.
METHODOLOGY_TRANSITIONS: dict[tuple[MethodologyStatus, MethodologyAction], MethodologyStatus] = {
    (MethodologyStatus.DRAFT, MethodologyAction.PUBLISH): MethodologyStatus.ACTIVE,
    (MethodologyStatus.DRAFT, MethodologyAction.WITHDRAW): MethodologyStatus.WITHDRAWN,
    (MethodologyStatus.ACTIVE, MethodologyAction.WITHDRAW): MethodologyStatus.WITHDRAWN,
    (MethodologyStatus.ACTIVE, MethodologyAction.SUPERSEDE): MethodologyStatus.SUPERSEDED,
}


def methodology_transition(label: str, status: MethodologyStatus, action: MethodologyAction) -> MethodologyStatus:
    """The status after ``action``; an illegal step raises ``InvalidState`` naming what is allowed."""
    target = METHODOLOGY_TRANSITIONS.get((status, action))
    if target is None:
        allowed = ", ".join(a.value for (s, a) in METHODOLOGY_TRANSITIONS if s is status) or "nothing (final)"
        raise InvalidState(
            f"cannot {action.value} {label}: it is {status.value}; allowed: {allowed}",
            code="methodology_invalid_state",
            state=status.value,
            action=action.value,
        )
    return target


class UncertaintyMode(StrEnum):
    """What is deducted when sampling misses the target precision.

    ``deduct_excess``: the share by which the precision is worse than the threshold (default; 12 % -> deduct 2 %).
    ``deduct_all``: the whole half-width of the confidence interval (12 % -> deduct 12 %), the conservative choice.
    """

    DEDUCT_EXCESS = "deduct_excess"
    DEDUCT_ALL = "deduct_all"


class LandUse(StrEnum):
    """The land category of a parcel as an eligibility rule sees it."""

    TIMBER_FOREST = "timber_forest"
    ECOLOGICAL_FOREST = "ecological_forest"
    BARE_LAND = "bare_land"
    SHRUBLAND = "shrubland"
    GRASSLAND = "grassland"
    CROPLAND = "cropland"
    ECONOMIC_FOREST = "economic_forest"  # tea gardens, orchards: excluded
    WETLAND = "wetland"  # excluded


def _decimal(value: object, name: str) -> Decimal:
    if isinstance(value, float):
        raise TypeError(f"{name}: give a str, int or Decimal, never a float (binary floats are not exact)")
    if not isinstance(value, str | int | Decimal):
        raise TypeError(f"{name}: expected a decimal value, got {type(value).__name__}")
    result = Decimal(value)
    if not result.is_finite():
        raise RuleViolation(f"{name} must be a finite number", code="invalid_parameter")
    return result


@dataclass(frozen=True)
class SpeciesParameters:
    """Volume-method parameters of one species (IPCC; DOMAIN.md table)."""

    species: str  # stable ASCII code, e.g. masson_pine
    name_zh: str
    name_en: str
    wood_density: Decimal  # D, t dry matter per m3 of stem volume
    biomass_expansion_factor: Decimal  # BEF, total above-ground / stem biomass
    root_shoot_ratio: Decimal  # R, below-ground / above-ground biomass
    carbon_fraction: Decimal  # CF, t C per t dry matter

    def __post_init__(self) -> None:
        if not SPECIES_CODE.match(self.species):
            raise RuleViolation(f"species code {self.species!r} must be lower-case ASCII", code="invalid_parameter")
        for name in ("wood_density", "biomass_expansion_factor", "root_shoot_ratio", "carbon_fraction"):
            value = _decimal(getattr(self, name), name)
            object.__setattr__(self, name, value)
            if value <= 0:
                raise RuleViolation(f"{self.species}.{name} must be positive", code="invalid_parameter")
        if self.carbon_fraction >= 1:
            raise RuleViolation(f"{self.species}.carbon_fraction must be below 1", code="invalid_parameter")

    @property
    def carbon_per_m3(self) -> Decimal:
        """t C per m3 of stem volume: D x BEF x (1 + R) x CF, exact (a product of finite decimals)."""
        return self.wood_density * self.biomass_expansion_factor * (1 + self.root_shoot_ratio) * self.carbon_fraction

    def as_dict(self) -> dict[str, str | Decimal]:
        return {
            "species": self.species,
            "name_zh": self.name_zh,
            "name_en": self.name_en,
            "wood_density": self.wood_density,
            "biomass_expansion_factor": self.biomass_expansion_factor,
            "root_shoot_ratio": self.root_shoot_ratio,
            "carbon_fraction": self.carbon_fraction,
        }


@dataclass(frozen=True)
class MethodologyRules:
    buffer_share: Decimal = Decimal("0.10")  # default; a project's risk rating may set another share
    uncertainty_threshold: Decimal = Decimal("0.10")  # relative half-width of the confidence interval
    uncertainty_confidence: Decimal = Decimal("0.90")
    uncertainty_mode: UncertaintyMode = UncertaintyMode.DEDUCT_EXCESS
    crediting_period_min_years: int = 20
    crediting_period_max_years: int = 40
    min_parcel_area_m2: Decimal = Decimal(400)
    afforestation_non_forest_years: int = 3
    public_notice_days: int = 20  # calendar days in Asia/Shanghai between validation and registration
    excluded_land_uses: frozenset[LandUse] = frozenset({LandUse.ECONOMIC_FOREST, LandUse.WETLAND})

    def __post_init__(self) -> None:
        for name in ("buffer_share", "uncertainty_threshold", "uncertainty_confidence", "min_parcel_area_m2"):
            object.__setattr__(self, name, _decimal(getattr(self, name), name))
        object.__setattr__(self, "uncertainty_mode", UncertaintyMode(self.uncertainty_mode))
        object.__setattr__(self, "excluded_land_uses", frozenset(LandUse(item) for item in self.excluded_land_uses))
        if not Decimal(0) <= self.buffer_share < 1:
            raise RuleViolation("buffer_share must be in [0, 1)", code="invalid_parameter")
        if not Decimal(0) < self.uncertainty_threshold < 1 or not Decimal(0) < self.uncertainty_confidence < 1:
            raise RuleViolation("uncertainty threshold and confidence must be in (0, 1)", code="invalid_parameter")
        if not 0 < self.crediting_period_min_years <= self.crediting_period_max_years:
            raise RuleViolation("crediting period bounds must satisfy 0 < min <= max", code="invalid_parameter")
        if self.min_parcel_area_m2 <= 0 or self.afforestation_non_forest_years < 0:
            raise RuleViolation("parcel size and non-forest years must be positive", code="invalid_parameter")
        if not 1 <= self.public_notice_days <= 365:
            raise RuleViolation("a public notice lasts 1 to 365 days", code="invalid_parameter")

    def as_dict(self) -> dict[str, Any]:
        return {
            "buffer_share": str(self.buffer_share),
            "uncertainty_threshold": str(self.uncertainty_threshold),
            "uncertainty_confidence": str(self.uncertainty_confidence),
            "uncertainty_mode": self.uncertainty_mode.value,
            "crediting_period_min_years": self.crediting_period_min_years,
            "crediting_period_max_years": self.crediting_period_max_years,
            "min_parcel_area_m2": str(self.min_parcel_area_m2),
            "afforestation_non_forest_years": self.afforestation_non_forest_years,
            "public_notice_days": self.public_notice_days,
            "excluded_land_uses": sorted(item.value for item in self.excluded_land_uses),
        }


@dataclass(frozen=True)
class Methodology:
    """One published version of a methodology's parameters and rules."""

    code: str  # e.g. CCER-14-001-V01 (the methodology's own name, which carries its own revision)
    name: str
    version: int  # our parameter-table version under that code: 1, 2, ... published by the operator
    status: MethodologyStatus
    species: Mapping[str, SpeciesParameters]
    rules: MethodologyRules = field(default_factory=MethodologyRules)

    def __post_init__(self) -> None:
        if not METHODOLOGY_CODE.match(self.code) or len(self.code) > 40:
            raise RuleViolation(f"methodology code {self.code!r} is not like CCER-14-001-V01", code="invalid_parameter")
        if self.version < 1:
            raise RuleViolation("methodology version starts at 1", code="invalid_parameter")
        object.__setattr__(self, "status", MethodologyStatus(self.status))
        for key, item in self.species.items():
            if key != item.species:
                raise RuleViolation(
                    f"species table key {key!r} differs from {item.species!r}", code="invalid_parameter"
                )
        if not self.species:
            raise RuleViolation("a methodology needs at least one species", code="invalid_parameter")
        object.__setattr__(self, "species", MappingProxyType(dict(sorted(self.species.items()))))

    @property
    def reference(self) -> dict[str, Any]:
        return {"code": self.code, "version": self.version}

    def parameters_for(self, species: str) -> SpeciesParameters:
        try:
            return self.species[species]
        except KeyError:
            known = ", ".join(self.species)
            raise RuleViolation(
                f"species {species!r} has no parameters in {self.code} version {self.version} (known: {known})",
                code="unknown_species",
            ) from None

    def require_usable(self) -> None:
        """New calculations may only use an active version; recomputing an old record may use any."""
        if self.status is not MethodologyStatus.ACTIVE:
            raise RuleViolation(
                f"{self.code} version {self.version} is {self.status.value}, not active", code="methodology_inactive"
            )

    def as_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "name": self.name,
            "version": self.version,
            "status": self.status.value,
            "species": [item.as_dict() for item in self.species.values()],
            "rules": self.rules.as_dict(),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Methodology:
        """The inverse of ``as_dict``: how a loader or migration turns stored data back into a methodology."""
        listed = [str(item["species"]) for item in data["species"]]
        repeated = sorted({code for code in listed if listed.count(code) > 1})
        if repeated:
            # One table row per species: a second row would silently replace the first.
            raise RuleViolation(f"species listed more than once: {', '.join(repeated)}", code="invalid_parameter")
        species = {str(item["species"]): SpeciesParameters(**item) for item in data["species"]}
        rules_data = dict(data.get("rules", {}))
        if "excluded_land_uses" in rules_data:
            rules_data["excluded_land_uses"] = frozenset(rules_data["excluded_land_uses"])
        return cls(
            code=str(data["code"]),
            name=str(data["name"]),
            version=int(data["version"]),
            status=MethodologyStatus(data["status"]),
            species=species,
            rules=MethodologyRules(**rules_data),
        )


# DOMAIN.md defaults, as plain data (strings for every decimal) so a migration can insert them verbatim.
DEFAULT_SPECIES_DATA: tuple[dict[str, str], ...] = (
    {
        "species": "masson_pine",
        "name_zh": "马尾松",
        "name_en": "Masson pine",
        "wood_density": "0.380",
        "biomass_expansion_factor": "1.472",
        "root_shoot_ratio": "0.187",
        "carbon_fraction": "0.460",
    },
    {
        "species": "chinese_fir",
        "name_zh": "杉木",
        "name_en": "Chinese fir",
        "wood_density": "0.307",
        "biomass_expansion_factor": "1.634",
        "root_shoot_ratio": "0.246",
        "carbon_fraction": "0.520",
    },
    {
        "species": "cypress",
        "name_zh": "柏木",
        "name_en": "cypress",
        "wood_density": "0.478",
        "biomass_expansion_factor": "1.732",
        "root_shoot_ratio": "0.220",
        "carbon_fraction": "0.510",
    },
    {
        "species": "oak",
        "name_zh": "栎类",
        "name_en": "oak",
        "wood_density": "0.676",
        "biomass_expansion_factor": "1.355",
        "root_shoot_ratio": "0.292",
        "carbon_fraction": "0.500",
    },
)

DEFAULT_METHODOLOGY_DATA: dict[str, Any] = {
    "code": "CCER-14-001-V01",
    "name": "碳汇造林项目方法学 Afforestation carbon sink projects",
    "version": 1,
    "status": MethodologyStatus.ACTIVE.value,
    "species": list(DEFAULT_SPECIES_DATA),
    "rules": MethodologyRules().as_dict(),
}

DEFAULT_METHODOLOGY = Methodology.from_dict(DEFAULT_METHODOLOGY_DATA)
SPECIES_CODES: tuple[str, ...] = tuple(item["species"] for item in DEFAULT_SPECIES_DATA)
