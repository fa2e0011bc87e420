"""Verifier accreditation: the operator accredits verifier organisations per scope, for a validity window."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.errors import InvalidState, NotFound, RuleViolation
from domain.identity.roles import Role
from services.audit import Actor, record
from services.identity import service as identity
from services.registry.tables import VerifierAccreditation

# An accreditation for every forest carbon methodology; otherwise the scope is one methodology code.
ALL_FOREST_CARBON = "forest_carbon"


async def accredit(
    session: AsyncSession,
    *,
    organisation_id: uuid.UUID,
    scope: str,
    valid_from: date,
    valid_until: date,
    actor: Actor,
) -> VerifierAccreditation:
    organisation = await identity.get_organisation(session, organisation_id)
    if organisation.role != Role.VERIFIER.value:
        raise RuleViolation(
            f"only verifier organisations can be accredited, {organisation.name} is a {organisation.role}",
            code="not_a_verifier",
        )
    if valid_until < valid_from:
        raise RuleViolation("an accreditation cannot end before it starts", code="invalid_validity")
    row = VerifierAccreditation(
        organisation_id=organisation_id, scope=scope, valid_from=valid_from, valid_until=valid_until
    )
    session.add(row)
    await session.flush()
    await record(
        session,
        actor,
        "verifier.accredit",
        "verifier_accreditation",
        row.id,
        {"organisation_id": str(organisation_id), "scope": scope, "valid_until": valid_until.isoformat()},
    )
    return row


async def revoke(
    session: AsyncSession, accreditation_id: uuid.UUID, reason: str, actor: Actor
) -> VerifierAccreditation:
    row = (
        await session.execute(
            select(VerifierAccreditation).where(VerifierAccreditation.id == accreditation_id).with_for_update()
        )
    ).scalar_one_or_none()
    if row is None:
        raise NotFound(f"no accreditation {accreditation_id}", code="accreditation_not_found")
    if row.revoked_at is not None:
        raise InvalidState("the accreditation is already revoked", code="accreditation_revoked")
    row.revoked_at = datetime.now(UTC)
    row.revoked_reason = reason
    await session.flush()
    await record(session, actor, "verifier.revoke", "verifier_accreditation", row.id, {"reason": reason})
    return row


async def list_accreditations(
    session: AsyncSession, *, organisation_id: uuid.UUID | None, after: uuid.UUID | None, limit: int
) -> list[VerifierAccreditation]:
    query = select(VerifierAccreditation).order_by(VerifierAccreditation.id).limit(limit)
    if organisation_id is not None:
        query = query.where(VerifierAccreditation.organisation_id == organisation_id)
    if after is not None:
        query = query.where(VerifierAccreditation.id > after)
    return list((await session.execute(query)).scalars())


async def is_accredited(session: AsyncSession, organisation_id: uuid.UUID, methodology_code: str, on: date) -> bool:
    """Accredited for the methodology on that day: in its window, not revoked."""
    found = await session.scalar(
        select(VerifierAccreditation.id)
        .where(
            VerifierAccreditation.organisation_id == organisation_id,
            or_(VerifierAccreditation.scope == methodology_code, VerifierAccreditation.scope == ALL_FOREST_CARBON),
            VerifierAccreditation.valid_from <= on,
            VerifierAccreditation.valid_until >= on,
            VerifierAccreditation.revoked_at.is_(None),
        )
        .limit(1)
    )
    return found is not None
