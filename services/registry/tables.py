"""Persistence of the registry (the schema, with its guards against double issuance, is migration 0003; the
lifecycle columns and guards of withdrawal, deregistration, parcel release and methodology drafts are 0005)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Computed,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    Numeric,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from services.db import Base

UUID_DEFAULT = text("gen_random_uuid()")


class MethodologyRow(Base):
    __tablename__ = "methodology"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(Text)
    version: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(Text)
    definition: Mapped[dict[str, Any]] = mapped_column(JSONB)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    published_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    withdrawn_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    withdrawn_reason: Mapped[str | None] = mapped_column(Text)


class VerifierAccreditation(Base):
    __tablename__ = "verifier_accreditation"

    id: Mapped[uuid.UUID] = mapped_column(UUID, primary_key=True, server_default=UUID_DEFAULT)
    organisation_id: Mapped[uuid.UUID] = mapped_column(UUID, ForeignKey("organisation.id"))
    scope: Mapped[str] = mapped_column(Text)
    valid_from: Mapped[date] = mapped_column(Date)
    valid_until: Mapped[date] = mapped_column(Date)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class Project(Base):
    __tablename__ = "project"

    id: Mapped[uuid.UUID] = mapped_column(UUID, primary_key=True, server_default=UUID_DEFAULT)
    code: Mapped[str] = mapped_column(Text, unique=True)
    owner_id: Mapped[uuid.UUID] = mapped_column(UUID, ForeignKey("organisation.id"))
    name: Mapped[str] = mapped_column(Text)
    district: Mapped[str] = mapped_column(Text)
    township: Mapped[str] = mapped_column(Text)
    village: Mapped[str] = mapped_column(Text)
    project_type: Mapped[str] = mapped_column(Text)
    methodology_id: Mapped[int] = mapped_column(Integer, ForeignKey("methodology.id"))
    crediting_start: Mapped[date] = mapped_column(Date)
    crediting_end: Mapped[date] = mapped_column(Date)
    baseline: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default=text("'{}'::jsonb"))
    risk_rating: Mapped[str] = mapped_column(Text)
    buffer_share: Mapped[Decimal] = mapped_column(Numeric(5, 4))
    status: Mapped[str] = mapped_column(Text, server_default="draft")
    validator_id: Mapped[uuid.UUID | None] = mapped_column(UUID, ForeignKey("organisation.id"))
    public_notice_on: Mapped[date | None] = mapped_column(Date)
    public_notice_until: Mapped[date | None] = mapped_column(Date)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    closed_reason: Mapped[str | None] = mapped_column(Text)
    carried_remainder: Mapped[Decimal] = mapped_column(Numeric(20, 6), server_default="0")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class Parcel(Base):
    __tablename__ = "parcel"

    id: Mapped[uuid.UUID] = mapped_column(UUID, primary_key=True, server_default=UUID_DEFAULT)
    project_id: Mapped[uuid.UUID] = mapped_column(UUID, ForeignKey("project.id"))
    tenure_number: Mapped[str] = mapped_column(Text)
    sub_compartment: Mapped[str] = mapped_column(Text)
    parcel_key: Mapped[str] = mapped_column(Text, Computed("tenure_number || '/' || sub_compartment"))
    area_mu: Mapped[Decimal] = mapped_column(Numeric(14, 4))
    species: Mapped[str] = mapped_column(Text)
    age: Mapped[int] = mapped_column(Integer)
    stock_volume_per_mu: Mapped[Decimal] = mapped_column(Numeric(12, 4))
    land_use: Mapped[str] = mapped_column(Text)
    years_non_forest: Mapped[int | None] = mapped_column(Integer)
    land_use_history: Mapped[list[Any]] = mapped_column(JSONB, server_default=text("'[]'::jsonb"))
    polygon: Mapped[dict[str, Any] | None] = mapped_column(JSONB(none_as_null=True))
    min_lon: Mapped[float | None] = mapped_column(Float)
    min_lat: Mapped[float | None] = mapped_column(Float)
    max_lon: Mapped[float | None] = mapped_column(Float)
    max_lat: Mapped[float | None] = mapped_column(Float)
    active: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))
    released_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class MonitoringReport(Base):
    __tablename__ = "monitoring_report"

    id: Mapped[uuid.UUID] = mapped_column(UUID, primary_key=True, server_default=UUID_DEFAULT)
    project_id: Mapped[uuid.UUID] = mapped_column(UUID, ForeignKey("project.id"))
    number: Mapped[int] = mapped_column(Integer)
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)
    inputs: Mapped[dict[str, Any]] = mapped_column(JSONB)
    status: Mapped[str] = mapped_column(Text, server_default="submitted")
    verifier_id: Mapped[uuid.UUID | None] = mapped_column(UUID, ForeignKey("organisation.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class VerificationStatement(Base):
    __tablename__ = "verification_statement"

    id: Mapped[uuid.UUID] = mapped_column(UUID, primary_key=True, server_default=UUID_DEFAULT)
    subject_type: Mapped[str] = mapped_column(Text)
    project_id: Mapped[uuid.UUID] = mapped_column(UUID, ForeignKey("project.id"))
    report_id: Mapped[uuid.UUID | None] = mapped_column(UUID, ForeignKey("monitoring_report.id"))
    verifier_id: Mapped[uuid.UUID] = mapped_column(UUID, ForeignKey("organisation.id"))
    decision: Mapped[str] = mapped_column(Text)
    reasons: Mapped[list[str]] = mapped_column(JSONB, server_default=text("'[]'::jsonb"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class IssuanceRow(Base):
    __tablename__ = "issuance"

    id: Mapped[uuid.UUID] = mapped_column(UUID, primary_key=True, server_default=UUID_DEFAULT)
    report_id: Mapped[uuid.UUID] = mapped_column(UUID, ForeignKey("monitoring_report.id"), unique=True)
    project_id: Mapped[uuid.UUID] = mapped_column(UUID, ForeignKey("project.id"))
    methodology_id: Mapped[int] = mapped_column(Integer, ForeignKey("methodology.id"))
    vintage: Mapped[int] = mapped_column(Integer)
    asset_id: Mapped[int] = mapped_column(Integer, ForeignKey("asset.id"))
    net_tonnes: Mapped[Decimal] = mapped_column(Numeric(20, 6))
    uncertainty_tonnes: Mapped[Decimal] = mapped_column(Numeric(20, 6))
    buffer_tonnes: Mapped[int] = mapped_column(BigInteger)
    issued_tonnes: Mapped[int] = mapped_column(BigInteger)
    carried_in: Mapped[Decimal] = mapped_column(Numeric(20, 6))
    carried_out: Mapped[Decimal] = mapped_column(Numeric(20, 6))
    calculation: Mapped[dict[str, Any]] = mapped_column(JSONB)
    calculation_sha256: Mapped[str] = mapped_column(Text)
    serial_first: Mapped[int | None] = mapped_column(BigInteger)
    serial_last: Mapped[int | None] = mapped_column(BigInteger)
    buffer_serial_first: Mapped[int | None] = mapped_column(BigInteger)
    buffer_serial_last: Mapped[int | None] = mapped_column(BigInteger)
    owner_transfer_id: Mapped[uuid.UUID | None] = mapped_column(UUID, ForeignKey("transfer.id"))
    buffer_transfer_id: Mapped[uuid.UUID | None] = mapped_column(UUID, ForeignKey("transfer.id"))
    approved_by: Mapped[uuid.UUID] = mapped_column(UUID, ForeignKey("organisation.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class CreditedPeriod(Base):
    __tablename__ = "credited_period"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    parcel_key: Mapped[str] = mapped_column(Text)
    parcel_id: Mapped[uuid.UUID] = mapped_column(UUID, ForeignKey("parcel.id"))
    issuance_id: Mapped[uuid.UUID] = mapped_column(UUID, ForeignKey("issuance.id"))
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class Reversal(Base):
    __tablename__ = "reversal"

    id: Mapped[uuid.UUID] = mapped_column(UUID, primary_key=True, server_default=UUID_DEFAULT)
    project_id: Mapped[uuid.UUID] = mapped_column(UUID, ForeignKey("project.id"))
    event_type: Mapped[str] = mapped_column(Text)
    occurred_on: Mapped[date] = mapped_column(Date)
    tonnes_lost: Mapped[int] = mapped_column(BigInteger)
    description: Mapped[str] = mapped_column(Text)
    recorded_by: Mapped[uuid.UUID] = mapped_column(UUID, ForeignKey("organisation.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class Retirement(Base):
    __tablename__ = "retirement"

    id: Mapped[uuid.UUID] = mapped_column(UUID, primary_key=True, server_default=UUID_DEFAULT)
    number: Mapped[str] = mapped_column(Text, unique=True)
    holder_id: Mapped[uuid.UUID] = mapped_column(UUID, ForeignKey("organisation.id"))
    asset_id: Mapped[int] = mapped_column(Integer, ForeignKey("asset.id"))
    project_id: Mapped[uuid.UUID] = mapped_column(UUID, ForeignKey("project.id"))
    vintage: Mapped[int] = mapped_column(Integer)
    quantity: Mapped[int] = mapped_column(BigInteger)
    beneficiary: Mapped[str] = mapped_column(Text)
    purpose: Mapped[str] = mapped_column(Text)
    claim_start: Mapped[date] = mapped_column(Date)
    claim_end: Mapped[date] = mapped_column(Date)
    serial_ranges: Mapped[list[list[int]]] = mapped_column(JSONB)
    transfer_id: Mapped[uuid.UUID] = mapped_column(UUID, ForeignKey("transfer.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class Cancellation(Base):
    __tablename__ = "cancellation"

    id: Mapped[uuid.UUID] = mapped_column(UUID, primary_key=True, server_default=UUID_DEFAULT)
    number: Mapped[str] = mapped_column(Text, unique=True)
    kind: Mapped[str] = mapped_column(Text)
    holder_id: Mapped[uuid.UUID | None] = mapped_column(UUID, ForeignKey("organisation.id"))
    reversal_id: Mapped[uuid.UUID | None] = mapped_column(UUID, ForeignKey("reversal.id"))
    asset_id: Mapped[int] = mapped_column(Integer, ForeignKey("asset.id"))
    project_id: Mapped[uuid.UUID] = mapped_column(UUID, ForeignKey("project.id"))
    vintage: Mapped[int] = mapped_column(Integer)
    quantity: Mapped[int] = mapped_column(BigInteger)
    reason: Mapped[str] = mapped_column(Text)
    serial_ranges: Mapped[list[list[int]]] = mapped_column(JSONB)
    transfer_id: Mapped[uuid.UUID] = mapped_column(UUID, ForeignKey("transfer.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class InventorySubCompartment(Base):
    __tablename__ = "inventory_sub_compartment"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    subcompartment_id: Mapped[str] = mapped_column(Text, unique=True)
    district_code: Mapped[str] = mapped_column(Text)
    township: Mapped[str] = mapped_column(Text)
    village: Mapped[str] = mapped_column(Text)
    species: Mapped[str] = mapped_column(Text)
    age_years: Mapped[int] = mapped_column(Integer)
    area_mu: Mapped[Decimal] = mapped_column(Numeric(14, 2))
    volume_m3_per_mu: Mapped[Decimal] = mapped_column(Numeric(12, 3))
    imported_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
