"""Request and response models of the registry's projects and parcels, their lifecycle and their ends."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal

from pydantic import Field

from api.routers.registry_schemas import Read, Reason, Strict
from domain.registry.eligibility import MAX_PARCEL_AREA_MU, ProjectType
from domain.registry.methodology import LandUse

District = Literal["BZ", "EY", "TJ", "NJ", "PC"]
RiskRating = Literal["low", "medium", "high"]


# --- projects and parcels -------------------------------------------------------------------------------------------


class ProjectIn(Strict):
    name: str = Field(min_length=1, max_length=200, examples=["南江县光雾山碳汇造林 Guangwushan afforestation"])
    district: District = Field(examples=["NJ"])
    township: str = Field(min_length=1, max_length=64, examples=["光雾山镇"])
    village: str = Field(min_length=1, max_length=64, examples=["桃园村"])
    project_type: ProjectType
    crediting_start: date
    crediting_end: date
    risk_rating: RiskRating = "low"
    baseline: dict[str, str] = Field(default_factory=dict, max_length=20, description="baseline scenario notes")
    methodology_code: str = Field(default="CCER-14-001-V01", max_length=40)
    methodology_version: int | None = Field(default=None, ge=1, le=1_000_000)


class ProjectRead(Read):
    id: uuid.UUID
    code: str
    owner_id: uuid.UUID
    name: str
    district: str
    township: str
    village: str
    project_type: str
    methodology_id: int
    crediting_start: date
    crediting_end: date
    baseline: dict[str, Any]
    risk_rating: str
    buffer_share: Decimal
    status: str
    validator_id: uuid.UUID | None
    public_notice_on: date | None = Field(description="the notice's first day (Asia/Shanghai)")
    public_notice_until: date | None = Field(description="the notice's last day; registration from the day after")
    carried_remainder: Decimal
    closed_at: datetime | None
    closed_reason: str | None
    created_at: datetime


class LandUseYear(Strict):
    year: int = Field(ge=1900, le=2200)
    land_use: LandUse


class ParcelIn(Strict):
    tenure_number: str = Field(pattern=r"^[^/\s][^/]{0,63}$", examples=["川(2019)南江县不动产权第0001234号"])
    sub_compartment: str = Field(pattern=r"^[^/\s][^/]{0,63}$", examples=["NJ-03-012-007"])
    area_mu: Decimal = Field(gt=0, le=MAX_PARCEL_AREA_MU, max_digits=14, decimal_places=4)
    species: str = Field(pattern=r"^[a-z][a-z0-9_]{1,31}$", examples=["masson_pine"])
    age: int = Field(ge=0, le=500)
    stock_volume_per_mu: Decimal = Field(ge=0, le=200, max_digits=12, decimal_places=4)
    land_use: LandUse
    years_non_forest: int | None = Field(default=None, ge=0, le=200)
    land_use_history: list[LandUseYear] = Field(default_factory=list, max_length=100)
    polygon: dict[str, Any] | None = Field(default=None, description="GeoJSON Polygon in lon/lat")


class ParcelRead(Read):
    id: uuid.UUID
    project_id: uuid.UUID
    tenure_number: str
    sub_compartment: str
    parcel_key: str
    area_mu: Decimal
    species: str
    age: int
    stock_volume_per_mu: Decimal
    land_use: str
    years_non_forest: int | None
    polygon: dict[str, Any] | None
    active: bool
    released_at: datetime | None


class SubmitIn(Strict):
    validator_id: uuid.UUID = Field(description="the accredited verifier that validates the project")


class DecisionIn(Strict):
    decision: Literal["approve", "request_corrections"]
    reasons: list[str] = Field(default_factory=list, max_length=50)


class RegistrationIn(Strict):
    decision: Literal["register", "reject"]
    reasons: list[str] = Field(default_factory=list, max_length=50)


class ClosureIn(Strict):
    """Why a project is withdrawn (owner) or deregistered (operator), or why a parcel is released (owner)."""

    reason: str = Reason
