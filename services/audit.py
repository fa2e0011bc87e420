"""The audit trail: who changed what, when. Append-only, written in the same transaction as the change."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, DateTime, Text, func, insert
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from services.context import current_request_id
from services.db import Base


@dataclass(frozen=True)
class Actor:
    organisation_id: uuid.UUID | None
    user_id: uuid.UUID | None = None
    api_key_id: uuid.UUID | None = None


class AuditEvent(Base):
    __tablename__ = "audit_event"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    organisation_id: Mapped[uuid.UUID | None] = mapped_column(UUID)
    user_id: Mapped[uuid.UUID | None] = mapped_column(UUID)
    api_key_id: Mapped[uuid.UUID | None] = mapped_column(UUID)
    action: Mapped[str] = mapped_column(Text)
    subject_type: Mapped[str] = mapped_column(Text)
    subject_id: Mapped[str] = mapped_column(Text)
    detail: Mapped[dict[str, Any]] = mapped_column(JSONB)
    request_id: Mapped[str | None] = mapped_column(Text)


async def record(
    session: AsyncSession,
    actor: Actor | None,
    action: str,
    subject_type: str,
    subject_id: object,
    detail: dict[str, Any],
) -> None:
    """Append one audit event; ``actor`` None means the system itself (a migration, a worker, the CLI)."""
    await session.execute(
        insert(AuditEvent).values(
            organisation_id=actor.organisation_id if actor else None,
            user_id=actor.user_id if actor else None,
            api_key_id=actor.api_key_id if actor else None,
            action=action,
            subject_type=subject_type,
            subject_id=str(subject_id),
            detail=detail,
            request_id=current_request_id(),
        )
    )
