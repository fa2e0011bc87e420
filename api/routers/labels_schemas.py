"""Request and response models of the eco-label API (api/routers/labels.py)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from domain.labels.scheme import Criterion, MeasuredRange, OriginWithin, ProductCategory, RequiredFinding
from domain.labels.states import CertificationEvent, CertificationState

SCHEME_CODE = r"^[A-Z][A-Z0-9-]{1,31}$"
NAME_PATTERN = r"^[a-z][a-z0-9_]{0,63}$"
# Audit findings and lab measures are named as the database requires (ck_audit_finding_finding_format,
# ck_lab_result_measure_format); a criterion names the finding or measure it judges, so it follows the same rule.
Name = Annotated[str, StringConstraints(pattern=NAME_PATTERN)]
# What lab_result.value (numeric(20, 6)) holds exactly: finite, below 10^14, at most 6 decimal places.
Measurement = Annotated[Decimal, Field(max_digits=20, decimal_places=6, allow_inf_nan=False)]
District = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=40)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class Read(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class CriteriaVersionRead(BaseModel):
    category: ProductCategory
    version: int
    effective_from: date
    criteria: list[dict[str, Any]]


class SchemeRead(BaseModel):
    code: str
    name: str
    certificate_validity_months: int
    surveillance_interval_months: int
    surveillance_grace_days: int
    renewal_window_days: int
    criteria: list[CriteriaVersionRead]


class RangeCriterionIn(Strict):
    """A lab result that must lie within [minimum, maximum]; either bound may be left open, not both."""

    kind: Literal["range"]
    measure: Name = Field(examples=["selenium"])
    unit: str = Field(min_length=1, max_length=20, examples=["mg/kg"])
    minimum: Measurement | None = None
    maximum: Measurement | None = None
    basis: str = Field(default="", max_length=300, examples=["NY/T 600 selenium-rich tea"])

    def to_domain(self) -> Criterion:
        return MeasuredRange(self.measure, self.unit, self.minimum, self.maximum, self.basis)


class OriginCriterionIn(Strict):
    """The production site lies in one of the districts."""

    kind: Literal["origin"]
    districts: list[District] = Field(min_length=1, max_length=50, examples=[["nanjiang", "tongjiang"]])
    region: str = Field(default="Bashan (Bazhong)", min_length=1, max_length=100)

    def to_domain(self) -> Criterion:
        return OriginWithin(frozenset(self.districts), self.region)


class FindingCriterionIn(Strict):
    """An audit finding that must have been recorded as met."""

    kind: Literal["finding"]
    finding: Name = Field(examples=["organic_inputs_only"])
    description: str = Field(default="", max_length=500)

    def to_domain(self) -> Criterion:
        return RequiredFinding(self.finding, self.description)


CriterionIn = Annotated[RangeCriterionIn | OriginCriterionIn | FindingCriterionIn, Field(discriminator="kind")]


class CriteriaVersionCreate(Strict):
    category: ProductCategory
    effective_from: date
    criteria: list[CriterionIn] = Field(min_length=1, max_length=50)


class AccreditationCreate(Strict):
    certifier_id: uuid.UUID
    scheme: str = Field(default="BASHAN", pattern=SCHEME_CODE)
    categories: list[ProductCategory] = Field(min_length=1, max_length=10)
    valid_from: date
    valid_until: date
    label_number: int = Field(ge=1, le=9999, description="the certifier's CCCC in its label codes")


class AccreditationWithdraw(Strict):
    reason: str = Field(min_length=1, max_length=1000)
    on: date | None = Field(default=None, description="default: today (Asia/Shanghai)")


class AccreditationRead(Read):
    id: uuid.UUID
    certifier_id: uuid.UUID
    scheme_code: str
    categories: list[str]
    valid_from: date
    valid_until: date
    label_number: int
    withdrawn_on: date | None
    withdrawal_reason: str | None
    created_at: datetime


class RecognitionCreate(Strict):
    scheme: str = Field(default="BASHAN", pattern=SCHEME_CODE)
    recognised_scheme: str = Field(pattern=SCHEME_CODE, examples=["CN-ORGANIC"])
    name: str = Field(min_length=1, max_length=200, examples=["China organic product certification"])
    categories: list[ProductCategory] = Field(min_length=1, max_length=10)
    valid_from: date
    valid_until: date


class RecognitionRead(Read):
    id: uuid.UUID
    scheme_code: str
    recognised_scheme: str
    name: str
    categories: list[str]
    valid_from: date
    valid_until: date


class ForeignCertificateIn(Strict):
    scheme: str = Field(pattern=SCHEME_CODE)
    number: str = Field(min_length=1, max_length=100)
    valid_until: date


class ApplicationCreate(Strict):
    scheme: str = Field(default="BASHAN", pattern=SCHEME_CODE)
    certifier_id: uuid.UUID
    category: ProductCategory
    product: str = Field(min_length=1, max_length=300, examples=["Nanjiang Huangya green tea, 250 g tin"])
    production_site: str = Field(min_length=1, max_length=300)
    district: str = Field(min_length=1, max_length=40, examples=["nanjiang"])
    annual_volume: int = Field(gt=0, le=10**12)
    volume_unit: str = Field(min_length=1, max_length=40, examples=["tin"])
    foreign_certificate: ForeignCertificateIn | None = Field(
        default=None, description="a valid certificate of a recognised scheme: the shortened path (document review)"
    )


class CertificationRead(Read):
    id: uuid.UUID
    scheme_code: str
    producer_id: uuid.UUID
    certifier_id: uuid.UUID
    category: str
    product: str
    production_site: str
    district: str
    annual_volume: int
    volume_unit: str
    shortened_path: bool
    foreign_scheme: str | None
    foreign_number: str | None
    state: CertificationState
    rectification_reasons: list[str]
    resume_at: str | None
    number: str | None
    valid_from: date | None
    valid_until: date | None
    surveillance_due_on: date | None
    predecessor_id: uuid.UUID | None
    created_at: datetime
    updated_at: datetime


class FindingRead(Read):
    finding: str
    met: bool
    recorded_at: datetime


class LabResultRead(Read):
    measure: str
    value: Decimal
    recorded_at: datetime


class CertificationDetail(CertificationRead):
    findings: list[FindingRead]
    lab_results: list[LabResultRead]


class TransitionCreate(Strict):
    event: CertificationEvent
    reason: str | None = Field(default=None, max_length=2000, description="required to refuse, suspend, revoke, ...")
    reasons: list[Annotated[str, StringConstraints(min_length=1, max_length=2000)]] = Field(
        default_factory=list, max_length=50, description="rectification: what to correct"
    )
    findings: dict[Name, bool] = Field(default_factory=dict, max_length=50, examples=[{"organic_inputs_only": True}])
    lab_results: dict[Name, Measurement] = Field(default_factory=dict, max_length=50, examples=[{"selenium": "0.62"}])
    resume_at: CertificationState | None = Field(default=None, description="rectification: the stage to resume at")


class TransitionRead(Read):
    event: str
    from_state: str | None
    to_state: str
    actor_role: str
    actor_organisation_id: uuid.UUID
    actor_user_id: uuid.UUID | None
    at: datetime
    reason: str | None


class TransitionResult(BaseModel):
    certification: CertificationRead
    transitions: list[TransitionRead]
    successor: CertificationRead | None = Field(default=None, description="the renewed certificate, on renew")


class BatchCreate(Strict):
    quantity: int = Field(gt=0, le=5_000_000)


class BatchRead(Read):
    id: int
    certification_id: uuid.UUID
    label_number: int
    year: int
    quantity: int
    certificate_year_start: date
    created_at: datetime


class LotCreate(Strict):
    quantity: int = Field(gt=0, le=10**12)
    unit: str = Field(min_length=1, max_length=20, pattern=r"\S", examples=["kg"])
    harvest_date: date


class LotRead(BaseModel):
    id: uuid.UUID
    certification_id: uuid.UUID
    producer_id: uuid.UUID
    quantity: int
    unit: str
    harvest_date: date
    registered_at: datetime
    tradable: bool
    frozen: bool
    status: str
    asset_code: str = Field(description="the ledger asset holding the lot's quantity (the producer's to trade)")


class FlagRead(Read):
    code: str
    certification_id: uuid.UUID
    flagged_at: datetime
    updated_at: datetime
    reasons: list[str]
    scans: int
    most_scans_in_window: int
    most_places_in_window: int
    cleared_at: datetime | None = None
    cleared_by: uuid.UUID | None = None
    clearance_note: str | None = None


class FlagClear(Strict):
    note: str = Field(min_length=1, max_length=1000, description="what the certifier found")


class CertificateFacts(BaseModel):
    number: str | None
    status: str
    valid_from: date | None
    valid_until: date | None
    scheme: str


class RecognitionFact(BaseModel):
    scheme: str
    name: str
    valid_until: date


class PublicVerification(BaseModel):
    """What anyone learns from a code (documentation of the fast route, which builds its JSON directly)."""

    code: str
    printed: str | None
    verdict: str = Field(examples=["valid", "not_valid", "unknown", "typo", "malformed"])
    genuine: bool
    valid: bool
    message: str
    suspected_counterfeit: bool
    suspicion_reasons: list[str]
    product: str | None = None
    category: str | None = None
    production_site: str | None = None
    district: str | None = None
    producer: str | None = None
    certifier: str | None = None
    certificate: CertificateFacts | None = None
    recognitions: list[RecognitionFact] = Field(default_factory=list)
    scanned_at: datetime | None = None
