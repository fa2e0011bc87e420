"""Persistence of the eco-label (the schema, with its guards, is migration 0004)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, Boolean, Date, DateTime, Float, ForeignKey, Integer, Numeric, Text, func, text
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from services.db import Base

UUID_DEFAULT = text("gen_random_uuid()")


class LabelSchemeRow(Base):
    __tablename__ = "label_scheme"

    code: Mapped[str] = mapped_column(Text, primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    certificate_validity_months: Mapped[int] = mapped_column(Integer)
    surveillance_interval_months: Mapped[int] = mapped_column(Integer)
    surveillance_grace_days: Mapped[int] = mapped_column(Integer)
    surveillance_notice_days: Mapped[int] = mapped_column(Integer)
    renewal_window_days: Mapped[int] = mapped_column(Integer)
    counterfeit_max_scans: Mapped[int] = mapped_column(Integer, server_default="20")
    counterfeit_scan_window_hours: Mapped[int] = mapped_column(Integer, server_default="720")
    counterfeit_max_places: Mapped[int] = mapped_column(Integer, server_default="2")
    counterfeit_place_window_hours: Mapped[int] = mapped_column(Integer, server_default="48")
    counterfeit_same_place_km: Mapped[float] = mapped_column(Float(24), server_default="50")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class CriteriaVersionRow(Base):
    __tablename__ = "label_criteria_version"

    scheme_code: Mapped[str] = mapped_column(Text, ForeignKey("label_scheme.code"), primary_key=True)
    category: Mapped[str] = mapped_column(Text, primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    effective_from: Mapped[date] = mapped_column(Date)
    criteria: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class CertifierLabelNumber(Base):
    __tablename__ = "certifier_label_number"

    label_number: Mapped[int] = mapped_column(Integer, primary_key=True)
    certifier_id: Mapped[uuid.UUID] = mapped_column(UUID, ForeignKey("organisation.id"), unique=True)


class CertifierAccreditationRow(Base):
    __tablename__ = "certifier_accreditation"

    id: Mapped[uuid.UUID] = mapped_column(UUID, primary_key=True, server_default=UUID_DEFAULT)
    certifier_id: Mapped[uuid.UUID] = mapped_column(UUID, ForeignKey("organisation.id"))
    scheme_code: Mapped[str] = mapped_column(Text, ForeignKey("label_scheme.code"))
    categories: Mapped[list[str]] = mapped_column(ARRAY(Text))
    valid_from: Mapped[date] = mapped_column(Date)
    valid_until: Mapped[date] = mapped_column(Date)
    label_number: Mapped[int] = mapped_column(Integer)
    withdrawn_on: Mapped[date | None] = mapped_column(Date)
    withdrawal_reason: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[uuid.UUID | None] = mapped_column(UUID)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class RecognitionRow(Base):
    __tablename__ = "scheme_recognition"

    id: Mapped[uuid.UUID] = mapped_column(UUID, primary_key=True, server_default=UUID_DEFAULT)
    scheme_code: Mapped[str] = mapped_column(Text, ForeignKey("label_scheme.code"))
    recognised_scheme: Mapped[str] = mapped_column(Text)
    name: Mapped[str] = mapped_column(Text)
    categories: Mapped[list[str]] = mapped_column(ARRAY(Text))
    valid_from: Mapped[date] = mapped_column(Date)
    valid_until: Mapped[date] = mapped_column(Date)
    created_by: Mapped[uuid.UUID | None] = mapped_column(UUID)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class CertificationRow(Base):
    __tablename__ = "certification"

    id: Mapped[uuid.UUID] = mapped_column(UUID, primary_key=True, server_default=UUID_DEFAULT)
    scheme_code: Mapped[str] = mapped_column(Text, ForeignKey("label_scheme.code"))
    producer_id: Mapped[uuid.UUID] = mapped_column(UUID, ForeignKey("organisation.id"))
    certifier_id: Mapped[uuid.UUID] = mapped_column(UUID, ForeignKey("organisation.id"))
    category: Mapped[str] = mapped_column(Text)
    product: Mapped[str] = mapped_column(Text)
    production_site: Mapped[str] = mapped_column(Text)
    district: Mapped[str] = mapped_column(Text)
    annual_volume: Mapped[int] = mapped_column(BigInteger)
    volume_unit: Mapped[str] = mapped_column(Text)
    shortened_path: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    foreign_scheme: Mapped[str | None] = mapped_column(Text)
    foreign_number: Mapped[str | None] = mapped_column(Text)
    foreign_valid_until: Mapped[date | None] = mapped_column(Date)
    recognition_id: Mapped[uuid.UUID | None] = mapped_column(UUID, ForeignKey("scheme_recognition.id"))
    state: Mapped[str] = mapped_column(Text, server_default="applied")
    rectification_reasons: Mapped[list[str]] = mapped_column(ARRAY(Text), server_default=text("'{}'"))
    resume_at: Mapped[str | None] = mapped_column(Text)
    number: Mapped[str | None] = mapped_column(Text, unique=True)
    valid_from: Mapped[date | None] = mapped_column(Date)
    valid_until: Mapped[date | None] = mapped_column(Date)
    surveillance_due_on: Mapped[date | None] = mapped_column(Date)
    predecessor_id: Mapped[uuid.UUID | None] = mapped_column(UUID, ForeignKey("certification.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class TransitionRow(Base):
    __tablename__ = "certification_transition"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    certification_id: Mapped[uuid.UUID] = mapped_column(UUID, ForeignKey("certification.id"))
    event: Mapped[str] = mapped_column(Text)
    from_state: Mapped[str | None] = mapped_column(Text)
    to_state: Mapped[str] = mapped_column(Text)
    actor_role: Mapped[str] = mapped_column(Text)
    actor_organisation_id: Mapped[uuid.UUID] = mapped_column(UUID)
    actor_user_id: Mapped[uuid.UUID | None] = mapped_column(UUID)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    reason: Mapped[str | None] = mapped_column(Text)


class AuditFindingRow(Base):
    __tablename__ = "audit_finding"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    certification_id: Mapped[uuid.UUID] = mapped_column(UUID, ForeignKey("certification.id"))
    finding: Mapped[str] = mapped_column(Text)
    met: Mapped[bool] = mapped_column(Boolean)
    recorded_by: Mapped[uuid.UUID] = mapped_column(UUID)
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class LabResultRow(Base):
    __tablename__ = "lab_result"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    certification_id: Mapped[uuid.UUID] = mapped_column(UUID, ForeignKey("certification.id"))
    measure: Mapped[str] = mapped_column(Text)
    value: Mapped[Decimal] = mapped_column(Numeric(20, 6))
    recorded_by: Mapped[uuid.UUID] = mapped_column(UUID)
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class SurveillanceAuditRow(Base):
    __tablename__ = "surveillance_audit"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    certification_id: Mapped[uuid.UUID] = mapped_column(UUID, ForeignKey("certification.id"))
    due_on: Mapped[date] = mapped_column(Date)
    next_due_on: Mapped[date] = mapped_column(Date)
    performed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    recorded_by: Mapped[uuid.UUID] = mapped_column(UUID)
    note: Mapped[str | None] = mapped_column(Text)


class CodeBatchRow(Base):
    __tablename__ = "label_code_batch"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    certification_id: Mapped[uuid.UUID] = mapped_column(UUID, ForeignKey("certification.id"))
    certifier_id: Mapped[uuid.UUID] = mapped_column(UUID)
    label_number: Mapped[int] = mapped_column(Integer)
    year: Mapped[int] = mapped_column(Integer)
    quantity: Mapped[int] = mapped_column(Integer)
    certificate_year_start: Mapped[date] = mapped_column(Date)
    created_by: Mapped[uuid.UUID | None] = mapped_column(UUID)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class LabelCodeRow(Base):
    __tablename__ = "label_code"

    code: Mapped[str] = mapped_column(Text, primary_key=True)
    batch_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("label_code_batch.id"))


class ScanRow(Base):
    __tablename__ = "label_scan"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    code: Mapped[str] = mapped_column(Text)
    scanned_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    latitude: Mapped[float | None] = mapped_column(Float(24))
    longitude: Mapped[float | None] = mapped_column(Float(24))


class CounterfeitFlagRow(Base):
    __tablename__ = "counterfeit_flag"

    code: Mapped[str] = mapped_column(Text, ForeignKey("label_code.code"), primary_key=True)
    certification_id: Mapped[uuid.UUID] = mapped_column(UUID, ForeignKey("certification.id"))
    certifier_id: Mapped[uuid.UUID] = mapped_column(UUID)
    flagged_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    reasons: Mapped[list[str]] = mapped_column(ARRAY(Text))
    scans: Mapped[int] = mapped_column(Integer)
    most_scans_in_window: Mapped[int] = mapped_column(Integer)
    most_places_in_window: Mapped[int] = mapped_column(Integer)
    cleared_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    cleared_by: Mapped[uuid.UUID | None] = mapped_column(UUID)
    clearance_note: Mapped[str | None] = mapped_column(Text)


class ProductLotRow(Base):
    __tablename__ = "product_lot"

    id: Mapped[uuid.UUID] = mapped_column(UUID, primary_key=True, server_default=UUID_DEFAULT)
    certification_id: Mapped[uuid.UUID] = mapped_column(UUID, ForeignKey("certification.id"))
    producer_id: Mapped[uuid.UUID] = mapped_column(UUID, ForeignKey("organisation.id"))
    quantity: Mapped[int] = mapped_column(BigInteger)
    unit: Mapped[str] = mapped_column(Text)
    harvest_date: Mapped[date] = mapped_column(Date)
    certificate_year_start: Mapped[date] = mapped_column(Date)
    registered_by: Mapped[uuid.UUID | None] = mapped_column(UUID)
    registered_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
