"""Request and response models of the registry API (separate create and read models; requests forbid extra fields)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from domain.registry.eligibility import ProjectType
from domain.registry.methodology import LandUse
from domain.registry.serials import format_block
from services.registry.tables import Cancellation, IssuanceRow, Project, Retirement

District = Literal["BZ", "EY", "TJ", "NJ", "PC"]
RiskRating = Literal["low", "medium", "high"]
Tonnes = Field(gt=0, le=1_000_000_000, description="whole tonnes CO2e", examples=[100])
NonNegative = Field(default=Decimal(0), ge=0, le=Decimal(10) ** 9, max_digits=20, decimal_places=6)
Reason = Field(min_length=1, max_length=500)


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


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
    status: str
    definition: dict[str, Any]
    published_at: datetime | None


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
    methodology_version: int | None = Field(default=None, ge=1)


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
    public_notice_until: date | None
    carried_remainder: Decimal
    created_at: datetime


class LandUseYear(Strict):
    year: int = Field(ge=1900, le=2200)
    land_use: LandUse


class ParcelIn(Strict):
    tenure_number: str = Field(pattern=r"^[^/\s][^/]{0,63}$", examples=["川(2019)南江县不动产权第0001234号"])
    sub_compartment: str = Field(pattern=r"^[^/\s][^/]{0,63}$", examples=["NJ-03-012-007"])
    area_mu: Decimal = Field(gt=0, le=1_000_000, max_digits=14, decimal_places=4)
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


class SubmitIn(Strict):
    validator_id: uuid.UUID = Field(description="the accredited verifier that validates the project")


class DecisionIn(Strict):
    decision: Literal["approve", "request_corrections"]
    reasons: list[str] = Field(default_factory=list, max_length=50)


class RegistrationIn(Strict):
    decision: Literal["register", "reject"]
    reasons: list[str] = Field(default_factory=list, max_length=50)


# --- monitoring, issuance, reversals --------------------------------------------------------------------------------


class MeasurementIn(Strict):
    parcel_id: uuid.UUID
    volume_start_m3_per_mu: Decimal = Field(ge=0, le=200, max_digits=12, decimal_places=4)
    volume_end_m3_per_mu: Decimal = Field(ge=0, le=200, max_digits=12, decimal_places=4)


class ReportIn(Strict):
    period_start: date
    period_end: date
    measurements: list[MeasurementIn] = Field(min_length=1, max_length=10_000)
    shrub_change: Decimal = Field(default=Decimal(0), ge=-(10**9), le=10**9, max_digits=20, decimal_places=6)
    burning_emissions: Decimal = NonNegative
    baseline_change: Decimal = NonNegative
    leakage: Decimal = NonNegative
    sampling_precision: Decimal | None = Field(default=None, ge=0, lt=1, max_digits=8, decimal_places=6)
    verifier_id: uuid.UUID | None = Field(default=None, description="defaults to the project's validator")


class ReportRead(Read):
    id: uuid.UUID
    project_id: uuid.UUID
    number: int
    period_start: date
    period_end: date
    inputs: dict[str, Any]
    status: str
    verifier_id: uuid.UUID | None
    created_at: datetime


class StatementRead(Read):
    id: uuid.UUID
    subject_type: str
    project_id: uuid.UUID
    report_id: uuid.UUID | None
    verifier_id: uuid.UUID
    decision: str
    reasons: list[str]
    created_at: datetime


class IssuanceRead(BaseModel):
    id: uuid.UUID
    report_id: uuid.UUID
    project_id: uuid.UUID
    project_code: str
    methodology_id: int
    vintage: int
    asset_code: str
    net_tonnes: Decimal
    uncertainty_tonnes: Decimal
    buffer_tonnes: int
    issued_tonnes: int
    carried_in: Decimal
    carried_out: Decimal
    serials: str | None = Field(description="the owner's block, BSC-<project>-<vintage>-<first>-<last>")
    buffer_serials: str | None
    calculation_sha256: str
    calculation: dict[str, Any] | None = None
    created_at: datetime

    @classmethod
    def of(cls, row: IssuanceRow, project: Project, *, with_record: bool = False) -> IssuanceRead:
        def block(first: int | None, last: int | None) -> str | None:
            return format_block(project.code, row.vintage, first, last) if first and last else None

        return cls(
            id=row.id,
            report_id=row.report_id,
            project_id=row.project_id,
            project_code=project.code,
            methodology_id=row.methodology_id,
            vintage=row.vintage,
            asset_code=f"BSC-{project.code}-{row.vintage}",
            net_tonnes=row.net_tonnes,
            uncertainty_tonnes=row.uncertainty_tonnes,
            buffer_tonnes=row.buffer_tonnes,
            issued_tonnes=row.issued_tonnes,
            carried_in=row.carried_in,
            carried_out=row.carried_out,
            serials=block(row.serial_first, row.serial_last),
            buffer_serials=block(row.buffer_serial_first, row.buffer_serial_last),
            calculation_sha256=row.calculation_sha256,
            calculation=row.calculation if with_record else None,
            created_at=row.created_at,
        )


class RecomputeRead(BaseModel):
    issuance_id: uuid.UUID
    sha256: str
    hash_matches: bool = Field(description="the stored SHA-256 is the hash of the stored record")
    recomputed_matches: bool = Field(description="re-running the calculation gives the same outputs and hash")


class ReversalIn(Strict):
    event_type: Literal["fire", "illegal_logging", "pest", "storm", "other"]
    occurred_on: date
    tonnes_lost: int = Tonnes
    description: str = Field(min_length=1, max_length=1000)


class ReversalRead(Read):
    id: uuid.UUID
    project_id: uuid.UUID
    event_type: str
    occurred_on: date
    tonnes_lost: int
    description: str
    created_at: datetime


# --- credits --------------------------------------------------------------------------------------------------------

AssetCode = Field(pattern=r"^BSC-[A-Z0-9-]{2,40}-\d{4}$", examples=["BSC-BZ-NJ-0001-2025"])


class TransferIn(Strict):
    asset_code: str = AssetCode
    quantity: int = Tonnes
    recipient_id: uuid.UUID


class TransferRead(BaseModel):
    transfer_id: uuid.UUID
    asset_code: str
    quantity: int
    recipient_id: uuid.UUID
    serials: list[str]


class RetirementIn(Strict):
    asset_code: str = AssetCode
    quantity: int = Tonnes
    beneficiary: str = Field(min_length=1, max_length=200, examples=["巴中绿色建材有限公司 Bazhong Green Materials"])
    purpose: str = Field(min_length=1, max_length=300, examples=["2025 年度碳中和 Carbon neutrality 2025"])
    claim_start: date
    claim_end: date


class RetirementRead(BaseModel):
    id: uuid.UUID
    number: str
    project_code: str
    project_name: str
    vintage: int
    quantity: int
    beneficiary: str
    purpose: str
    claim_start: date
    claim_end: date
    serials: list[str]
    transfer_id: uuid.UUID
    created_at: datetime
    verify_url: str
    certificate_url: str

    @classmethod
    def of(cls, row: Retirement, project: Project, base_url: str) -> RetirementRead:
        path = f"/v1/public/retirements/{row.number}"
        return cls(
            id=row.id,
            number=row.number,
            project_code=project.code,
            project_name=project.name,
            vintage=row.vintage,
            quantity=row.quantity,
            beneficiary=row.beneficiary,
            purpose=row.purpose,
            claim_start=row.claim_start,
            claim_end=row.claim_end,
            serials=[format_block(project.code, row.vintage, first, last) for first, last in row.serial_ranges],
            transfer_id=row.transfer_id,
            created_at=row.created_at,
            verify_url=base_url.rstrip("/") + path,
            certificate_url=base_url.rstrip("/") + path + "/certificate.pdf",
        )


class CancellationIn(Strict):
    asset_code: str = AssetCode
    quantity: int = Tonnes
    reason: str = Field(min_length=1, max_length=500)


class CancellationRead(Read):
    id: uuid.UUID
    number: str
    kind: str
    asset_id: int
    project_id: uuid.UUID
    vintage: int
    quantity: int
    reason: str
    serial_ranges: list[list[int]]
    transfer_id: uuid.UUID
    created_at: datetime

    @classmethod
    def of(cls, row: Cancellation) -> CancellationRead:
        return cls.model_validate(row)


class HoldingRead(BaseModel):
    asset_code: str
    purpose: str
    balance: int
    serial_ranges: list[list[int]]


class SerialRead(BaseModel):
    block: str
    asset_code: str
    serial: int
    state: str
    retirement_number: str | None
    history: list[dict[str, Any]]
