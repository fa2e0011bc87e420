"""Request and response models of the registry API, shared parts and methodologies and verifiers (separate create
and read models; requests forbid extra fields). Projects, monitoring and issuance, and credits have their own modules:
registry_project_schemas.py, registry_issuance_schemas.py, registry_credit_schemas.py."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from domain.registry.methodology import LandUse

Tonnes = Field(gt=0, le=1_000_000_000, description="whole tonnes CO2e", examples=[100])
NonNegative = Field(default=Decimal(0), ge=0, le=Decimal(10) ** 9, max_digits=20, decimal_places=6)
Reason = Field(min_length=1, max_length=500)


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class EmptyIn(Strict):
    """The body of an action without parameters: none, or ``{}``; anything else is refused rather than ignored."""


class Read(BaseModel):
    model_config = ConfigDict(from_attributes=True)


# --- methodologies, verifiers ---------------------------------------------------------------------------------------


class SpeciesIn(Strict):
    species: str = Field(pattern=r"^[a-z][a-z0-9_]{1,31}$", examples=["masson_pine"])
    name_zh: str = Field(min_length=1, max_length=50, examples=["马尾松"])
    name_en: str = Field(min_length=1, max_length=100, examples=["Masson pine"])
    wood_density: Decimal = Field(gt=0, lt=5, max_digits=8, decimal_places=6)
    biomass_expansion_factor: Decimal = Field(gt=0, lt=10, max_digits=8, decimal_places=6)
    root_shoot_ratio: Decimal = Field(gt=0, lt=5, max_digits=8, decimal_places=6)
    carbon_fraction: Decimal = Field(gt=0, lt=1, max_digits=8, decimal_places=6)


class RulesIn(Strict):
    buffer_share: Decimal = Field(default=Decimal("0.10"), ge=0, lt=1, max_digits=6, decimal_places=4)
    uncertainty_threshold: Decimal = Field(default=Decimal("0.10"), gt=0, lt=1, max_digits=6, decimal_places=4)
    uncertainty_confidence: Decimal = Field(default=Decimal("0.90"), gt=0, lt=1, max_digits=6, decimal_places=4)
    uncertainty_mode: Literal["deduct_excess", "deduct_all"] = "deduct_excess"
    crediting_period_min_years: int = Field(default=20, ge=1, le=100)
    crediting_period_max_years: int = Field(default=40, ge=1, le=100)
    min_parcel_area_m2: Decimal = Field(default=Decimal(400), gt=0, le=10**7)
    afforestation_non_forest_years: int = Field(default=3, ge=0, le=100)
    public_notice_days: int = Field(
        default=20, ge=1, le=365, description="calendar days (Asia/Shanghai) between validation and registration"
    )
    excluded_land_uses: list[LandUse] = Field(default=[LandUse.ECONOMIC_FOREST, LandUse.WETLAND])


class MethodologyIn(Strict):
    code: str = Field(pattern=r"^[A-Z][A-Z0-9]*(-[A-Z0-9]+)*$", max_length=40, examples=["CCER-14-001-V01"])
    name: str = Field(min_length=1, max_length=200)
    species: list[SpeciesIn] = Field(min_length=1, max_length=50)
    rules: RulesIn = Field(default_factory=RulesIn)

    def definition(self) -> dict[str, Any]:
        data = self.model_dump(mode="json")
        data["species"] = [{key: str(value) for key, value in item.items()} for item in data["species"]]
        return data


class MethodologyRead(Read):
    id: int
    code: str
    version: int
    name: str
    status: Literal["draft", "active", "superseded", "withdrawn"]
    definition: dict[str, Any]
    created_at: datetime
    published_at: datetime | None
    withdrawn_at: datetime | None
    withdrawn_reason: str | None


class MethodologyWithdrawalIn(Strict):
    reason: str = Reason


class AccreditationIn(Strict):
    organisation_id: uuid.UUID
    scope: str = Field(
        default="forest_carbon",
        pattern=r"^(forest_carbon|[A-Z][A-Z0-9]*(-[A-Z0-9]+)*)$",
        description="a methodology code, or forest_carbon for all of them",
    )
    valid_from: date
    valid_until: date


class RevocationIn(Strict):
    reason: str = Reason


class AccreditationRead(Read):
    id: uuid.UUID
    organisation_id: uuid.UUID
    scope: str
    valid_from: date
    valid_until: date
    revoked_at: datetime | None
    revoked_reason: str | None
