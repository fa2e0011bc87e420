"""Certifier accreditation and scheme recognition, both granted by the registry operator."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import date

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from domain.errors import Conflict, NotFound, RuleViolation
from domain.identity.roles import Role
from domain.labels import accreditation as rules
from domain.labels import recognition as recognition_rules
from domain.labels.accreditation import Accreditation
from domain.labels.recognition import Recognition
from domain.labels.scheme import ProductCategory
from services import audit
from services.identity.tables import Organisation
from services.labels.schemes import load_scheme
from services.labels.tables import CertifierAccreditationRow, CertifierLabelNumber, RecognitionRow


def to_domain(row: CertifierAccreditationRow) -> Accreditation:
    return Accreditation(
        row.certifier_id,
        row.scheme_code,
        frozenset(ProductCategory(c) for c in row.categories),
        row.valid_from,
        row.valid_until,
        row.label_number,
        row.withdrawn_on,
        row.withdrawal_reason,
    )


async def accreditations_of(session: AsyncSession, certifier_ids: Iterable[uuid.UUID]) -> list[Accreditation]:
    wanted = list(set(certifier_ids))
    rows = await session.scalars(
        select(CertifierAccreditationRow).where(CertifierAccreditationRow.certifier_id.in_(wanted))
    )
    return [to_domain(row) for row in rows]


async def accredit(
    session: AsyncSession,
    *,
    scheme_code: str,
    certifier_id: uuid.UUID,
    categories: Iterable[ProductCategory],
    valid_from: date,
    valid_until: date,
    label_number: int,
    actor: audit.Actor,
) -> CertifierAccreditationRow:
    scheme = await load_scheme(session, scheme_code)
    organisation = await session.get(Organisation, certifier_id)
    if organisation is None:
        raise NotFound(f"no organisation {certifier_id}", code="organisation_not_found")
    if organisation.role != Role.CERTIFIER.value:
        raise RuleViolation(f"{organisation.name} is a {organisation.role}, not a certifier", code="not_a_certifier")
    holder = await session.get(CertifierLabelNumber, label_number)
    held = await session.scalar(
        select(CertifierLabelNumber.label_number).where(CertifierLabelNumber.certifier_id == certifier_id)
    )
    existing = [] if holder is None else await accreditations_of(session, [holder.certifier_id])
    accreditation = rules.accredit(
        scheme, certifier_id, categories, valid_from, valid_until, label_number, existing=existing
    )
    if held is not None and held != label_number:
        raise Conflict(f"this certifier already holds label number {held:04d}", code="label_number_taken")
    await _claim_label_number(session, label_number, certifier_id)
    row = CertifierAccreditationRow(
        certifier_id=certifier_id,
        scheme_code=scheme.code,
        categories=sorted(c.value for c in accreditation.categories),
        valid_from=valid_from,
        valid_until=valid_until,
        label_number=label_number,
        created_by=actor.user_id,
    )
    session.add(row)
    await session.flush()
    await audit.record(
        session,
        actor,
        "labels.accreditation.grant",
        "certifier_accreditation",
        row.id,
        {"certifier_id": str(certifier_id), "categories": row.categories, "valid_until": valid_until.isoformat()},
    )
    return row


async def _claim_label_number(session: AsyncSession, label_number: int, certifier_id: uuid.UUID) -> None:
    """Record ``label_number`` as the certifier's, or refuse if a racing request gave it (or this certifier another
    number) first.

    The primary key and the unique certifier_id keep one number per certifier and one certifier per number. A racing
    insert waits for the other transaction and then does nothing, so what was committed is read back and judged.
    """
    claimed = await session.scalar(
        insert(CertifierLabelNumber)
        .values(label_number=label_number, certifier_id=certifier_id)
        .on_conflict_do_nothing()
        .returning(CertifierLabelNumber.label_number)
    )
    if claimed is not None:
        return
    holder = await session.scalar(
        select(CertifierLabelNumber.certifier_id).where(CertifierLabelNumber.label_number == label_number)
    )
    if holder == certifier_id:
        return
    if holder is not None:
        raise Conflict(f"label number {label_number:04d} belongs to certifier {holder}", code="label_number_taken")
    # The conflict was on certifier_id: this certifier was given another number meanwhile.
    held = await session.scalar(
        select(CertifierLabelNumber.label_number).where(CertifierLabelNumber.certifier_id == certifier_id)
    )
    number = "another label number" if held is None else f"label number {held:04d}"
    raise Conflict(f"this certifier already holds {number}", code="label_number_taken")


async def withdraw(
    session: AsyncSession, accreditation_id: uuid.UUID, *, on: date, reason: str, actor: audit.Actor
) -> CertifierAccreditationRow:
    row = await session.get(CertifierAccreditationRow, accreditation_id, with_for_update=True)
    if row is None:
        raise NotFound(f"no accreditation {accreditation_id}", code="accreditation_not_found")
    changed = rules.withdraw(to_domain(row), on, reason)
    row.withdrawn_on, row.withdrawal_reason = changed.withdrawn_on, changed.withdrawal_reason
    await session.flush()
    await audit.record(
        session, actor, "labels.accreditation.withdraw", "certifier_accreditation", row.id, {"reason": reason}
    )
    return row


async def list_accreditations(session: AsyncSession, certifier_id: uuid.UUID | None) -> list[CertifierAccreditationRow]:
    query = select(CertifierAccreditationRow).order_by(CertifierAccreditationRow.created_at)
    if certifier_id is not None:
        query = query.where(CertifierAccreditationRow.certifier_id == certifier_id)
    return list((await session.scalars(query)).all())


def recognition_to_domain(row: RecognitionRow) -> Recognition:
    return Recognition(
        row.scheme_code,
        row.recognised_scheme,
        row.name,
        frozenset(ProductCategory(c) for c in row.categories),
        row.valid_from,
        row.valid_until,
    )


async def recognise(
    session: AsyncSession,
    *,
    scheme_code: str,
    recognised_scheme: str,
    name: str,
    categories: Iterable[ProductCategory],
    valid_from: date,
    valid_until: date,
    actor: audit.Actor,
) -> RecognitionRow:
    scheme = await load_scheme(session, scheme_code)
    recognition = recognition_rules.recognise(scheme, recognised_scheme, name, categories, valid_from, valid_until)
    row = RecognitionRow(
        scheme_code=scheme.code,
        recognised_scheme=recognition.recognised_scheme,
        name=recognition.name,
        categories=sorted(c.value for c in recognition.categories),
        valid_from=valid_from,
        valid_until=valid_until,
        created_by=actor.user_id,
    )
    session.add(row)
    await session.flush()
    await audit.record(
        session, actor, "labels.recognition.create", "scheme_recognition", row.id, {"scheme": recognised_scheme}
    )
    return row


async def recognitions(session: AsyncSession, scheme_code: str | None = None) -> list[RecognitionRow]:
    query = select(RecognitionRow).order_by(RecognitionRow.recognised_scheme, RecognitionRow.valid_from)
    if scheme_code is not None:
        query = query.where(RecognitionRow.scheme_code == scheme_code)
    return list((await session.scalars(query)).all())
