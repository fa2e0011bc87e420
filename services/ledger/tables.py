"""Persistence of the ledger (the schema itself, with its guards and functions, is migration 0002)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, Boolean, DateTime, ForeignKey, Integer, LargeBinary, SmallInteger, Text, func
from sqlalchemy.dialects.postgresql import ARRAY, UUID
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.types import UserDefinedType

from services.db import Base


class Xid8(UserDefinedType[int]):
    cache_ok = True

    def get_col_spec(self, **kw: object) -> str:
        return "xid8"


class Asset(Base):
    __tablename__ = "asset"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(Text, unique=True)
    kind: Mapped[str] = mapped_column(Text)
    name: Mapped[str] = mapped_column(Text)
    unit: Mapped[str] = mapped_column(Text)
    scale: Mapped[int] = mapped_column(SmallInteger, server_default="0")
    serial_next: Mapped[int] = mapped_column(BigInteger, server_default="1")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class Account(Base):
    __tablename__ = "account"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    asset_id: Mapped[int] = mapped_column(Integer, ForeignKey("asset.id"))
    owner_id: Mapped[uuid.UUID | None] = mapped_column(UUID, ForeignKey("organisation.id"))
    purpose: Mapped[str] = mapped_column(Text)
    sub_account: Mapped[int] = mapped_column(SmallInteger, server_default="0")
    debits_must_not_exceed_credits: Mapped[bool] = mapped_column(Boolean, server_default="false")
    credits_must_not_exceed_debits: Mapped[bool] = mapped_column(Boolean, server_default="false")
    retired: Mapped[bool] = mapped_column(Boolean, server_default="false")
    holds_serials: Mapped[bool] = mapped_column(Boolean, server_default="false")
    serialized: Mapped[bool] = mapped_column(Boolean, server_default="false")
    debits_posted: Mapped[int] = mapped_column(BigInteger, server_default="0")
    credits_posted: Mapped[int] = mapped_column(BigInteger, server_default="0")
    debits_pending: Mapped[int] = mapped_column(BigInteger, server_default="0")
    credits_pending: Mapped[int] = mapped_column(BigInteger, server_default="0")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    @property
    def balance(self) -> int:
        """Posted credits minus posted debits: what a holding account holds."""
        return self.credits_posted - self.debits_posted

    @property
    def available(self) -> int:
        """What a holding account can still spend: its balance less what pendings reserve."""
        return self.credits_posted - self.debits_posted - self.debits_pending


class Transfer(Base):
    __tablename__ = "transfer"

    id: Mapped[uuid.UUID] = mapped_column(UUID, primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger)
    debit_account_id: Mapped[int] = mapped_column(BigInteger)
    credit_account_id: Mapped[int] = mapped_column(BigInteger)
    asset_id: Mapped[int] = mapped_column(Integer)
    amount: Mapped[int] = mapped_column(BigInteger)
    code: Mapped[str] = mapped_column(Text)
    pending: Mapped[bool] = mapped_column(Boolean)
    post_pending: Mapped[bool] = mapped_column(Boolean)
    void_pending: Mapped[bool] = mapped_column(Boolean)
    linked: Mapped[bool] = mapped_column(Boolean)
    pending_id: Mapped[uuid.UUID | None] = mapped_column(UUID)
    timeout_seconds: Mapped[int | None] = mapped_column(Integer)
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    reference: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    xact_id: Mapped[int] = mapped_column(Xid8)


class SerialRangeRow(Base):
    __tablename__ = "serial_range"

    asset_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    first_serial: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    last_serial: Mapped[int] = mapped_column(BigInteger)
    account_id: Mapped[int] = mapped_column(BigInteger)


class SerialMovement(Base):
    __tablename__ = "serial_movement"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    transfer_id: Mapped[uuid.UUID] = mapped_column(UUID)
    asset_id: Mapped[int] = mapped_column(Integer)
    first_serial: Mapped[int] = mapped_column(BigInteger)
    last_serial: Mapped[int] = mapped_column(BigInteger)
    from_account_id: Mapped[int] = mapped_column(BigInteger)
    to_account_id: Mapped[int] = mapped_column(BigInteger)
    minted: Mapped[bool] = mapped_column(Boolean)


class LedgerBlock(Base):
    __tablename__ = "ledger_block"

    number: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    last_xact_id: Mapped[int] = mapped_column(Xid8)
    last_seq: Mapped[int] = mapped_column(BigInteger)
    transfer_count: Mapped[int] = mapped_column(Integer)
    transfer_ids: Mapped[list[uuid.UUID]] = mapped_column(ARRAY(UUID))
    leaf_hashes: Mapped[bytes] = mapped_column(LargeBinary)
    merkle_root: Mapped[bytes] = mapped_column(LargeBinary)
    previous_hash: Mapped[bytes] = mapped_column(LargeBinary)
    hash: Mapped[bytes] = mapped_column(LargeBinary)
    sealed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
