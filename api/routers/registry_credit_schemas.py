"""Request and response models of the registry's credits: holdings, transfers, retirements, cancellations, serials."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, Field

from api.routers.registry_schemas import Read, Strict, Tonnes
from domain.registry.serials import format_block
from services.registry.tables import Cancellation, Project, Retirement

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
