"""Request and response models of the registry's monitoring reports, verification, issuance and reversals."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, Field

from api.routers.registry_schemas import NonNegative, Read, Strict, Tonnes
from domain.registry.serials import format_block
from services.registry.tables import IssuanceRow, Project

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
