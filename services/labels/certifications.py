"""The certification workflow: applications, every transition through the domain's state machine, the transition log.

A command loads the certification under a row lock, rebuilds the domain aggregate (state, evidence, dates), lets the
aggregate perform the event (which checks state, actor, accreditation, reason and the event's guard) and writes back
the new state with the transitions, findings, lab results and surveillance audits the event produced.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from domain.errors import Forbidden, NotFound, RuleViolation
from domain.identity.roles import Role
from domain.labels.accreditation import require_accreditation
from domain.labels.certification import Certification, certificate_number
from domain.labels.recognition import ForeignCertificate, check_shortened_path
from domain.labels.scheme import ProductCategory
from domain.labels.states import Actor, ActorRole, CertificationEvent, CertificationState, Transition, local_date
from services import audit
from services.identity.service import Principal
from services.identity.tables import Organisation
from services.labels.accreditations import accreditations_of, recognition_to_domain, recognitions
from services.labels.schemes import load_scheme
from services.labels.tables import (
    AuditFindingRow,
    CertificationRow,
    CertifierLabelNumber,
    LabResultRow,
    SurveillanceAuditRow,
    TransitionRow,
)

E = CertificationEvent
S = CertificationState
_ROLE_ACTORS = {Role.CERTIFIER: ActorRole.CERTIFIER, Role.OPERATOR: ActorRole.OPERATOR}


def actor_of(principal: Principal) -> Actor:
    """Certifiers and the operator act as themselves; every other organisation acts as a producer."""
    return Actor(_ROLE_ACTORS.get(principal.role, ActorRole.PRODUCER), principal.organisation_id, principal.user_id)


@dataclass(frozen=True)
class Application:
    scheme_code: str
    certifier_id: uuid.UUID
    category: ProductCategory
    product: str
    production_site: str
    district: str
    annual_volume: int
    volume_unit: str
    foreign_certificate: tuple[str, str, date] | None = None  # scheme, number, valid until: the shortened path


@dataclass(frozen=True)
class Command:
    """One event with whatever it needs; unused fields are ignored by events that take none."""

    event: CertificationEvent
    reason: str | None = None
    reasons: Sequence[str] = ()
    findings: dict[str, bool] = field(default_factory=dict)
    lab_results: dict[str, Decimal] = field(default_factory=dict)
    resume_at: CertificationState | None = None


def visible_to(row: CertificationRow, principal: Principal) -> bool:
    return principal.role is Role.OPERATOR or principal.organisation_id in (row.producer_id, row.certifier_id)


async def get_visible(session: AsyncSession, certification_id: uuid.UUID, principal: Principal) -> CertificationRow:
    row = await session.get(CertificationRow, certification_id)
    if row is None or not visible_to(row, principal):
        raise NotFound(f"no certification {certification_id}", code="certification_not_found")
    return row


async def apply(
    session: AsyncSession, principal: Principal, application: Application, now: datetime
) -> CertificationRow:
    """A producer's application, addressed to a certifier accredited for the category today."""
    if principal.role in (Role.CERTIFIER, Role.OPERATOR):
        raise Forbidden("certifiers and the operator do not apply for labels", code="actor_not_allowed")
    scheme = await load_scheme(session, application.scheme_code)
    today = local_date(now)
    certifier = await session.get(Organisation, application.certifier_id)
    if certifier is None or certifier.role != Role.CERTIFIER.value:
        raise NotFound(f"no certifier {application.certifier_id}", code="certifier_not_found")
    pool = await accreditations_of(session, [application.certifier_id])
    require_accreditation(pool, application.certifier_id, scheme.code, application.category, today)
    recognition_id = None
    if application.foreign_certificate is not None:
        foreign_scheme, foreign_number, foreign_until = application.foreign_certificate
        rows = await recognitions(session, scheme.code)
        certificate = ForeignCertificate(
            foreign_scheme, foreign_number, principal.organisation_id, application.category, foreign_until
        )
        recognition = check_shortened_path(
            [recognition_to_domain(r) for r in rows],
            certificate,
            scheme.code,
            application.category,
            principal.organisation_id,
            today,
        )
        recognition_id = next(r.id for r in rows if recognition_to_domain(r) == recognition)
    aggregate = Certification(
        id=uuid.uuid4(),
        scheme=scheme,
        producer_id=principal.organisation_id,
        certifier_id=application.certifier_id,
        category=application.category,
        product=application.product,
        production_site=application.production_site,
        district=application.district,
        annual_volume=application.annual_volume,
        volume_unit=application.volume_unit,
        shortened_path=application.foreign_certificate is not None,
    )
    foreign = application.foreign_certificate
    row = CertificationRow(
        id=aggregate.id,
        scheme_code=scheme.code,
        producer_id=aggregate.producer_id,
        certifier_id=aggregate.certifier_id,
        category=aggregate.category.value,
        product=aggregate.product,
        production_site=aggregate.production_site,
        district=aggregate.district,
        annual_volume=aggregate.annual_volume,
        volume_unit=aggregate.volume_unit,
        shortened_path=aggregate.shortened_path,
        foreign_scheme=foreign[0] if foreign else None,
        foreign_number=foreign[1] if foreign else None,
        foreign_valid_until=foreign[2] if foreign else None,
        recognition_id=recognition_id,
        state=S.APPLIED.value,
        created_at=now,
        updated_at=now,
    )
    session.add(row)
    await session.flush()
    await audit.record(
        session, principal.actor, "labels.certification.apply", "certification", row.id, {"product": row.product}
    )
    return row


async def load(session: AsyncSession, row: CertificationRow) -> Certification:
    """The domain aggregate of a row: its scheme, state, evidence (latest value per finding and measure) and dates."""
    scheme = await load_scheme(session, row.scheme_code)
    aggregate = Certification(
        id=row.id,
        scheme=scheme,
        producer_id=row.producer_id,
        certifier_id=row.certifier_id,
        category=ProductCategory(row.category),
        product=row.product,
        production_site=row.production_site,
        district=row.district,
        annual_volume=row.annual_volume,
        volume_unit=row.volume_unit,
        shortened_path=row.shortened_path,
        state=S(row.state),
    )
    findings = await session.execute(
        select(AuditFindingRow.finding, AuditFindingRow.met)
        .where(AuditFindingRow.certification_id == row.id)
        .order_by(AuditFindingRow.id)
    )
    aggregate.findings = {row.finding: row.met for row in findings}
    results = await session.execute(
        select(LabResultRow.measure, LabResultRow.value)
        .where(LabResultRow.certification_id == row.id)
        .order_by(LabResultRow.id)
    )
    aggregate.lab_results = {measure: value.normalize() for measure, value in results}
    aggregate.rectification_reasons = tuple(row.rectification_reasons)
    aggregate.resume_at = S(row.resume_at) if row.resume_at else None
    aggregate.number = row.number
    aggregate.valid_from, aggregate.valid_until = row.valid_from, row.valid_until
    aggregate.surveillance_due_on = row.surveillance_due_on
    return aggregate


async def _next_number(session: AsyncSession, certifier_id: uuid.UUID, on: date) -> str:
    label_number = await session.scalar(
        select(CertifierLabelNumber.label_number).where(CertifierLabelNumber.certifier_id == certifier_id)
    )
    if label_number is None:
        raise Forbidden("the certifier holds no label number: it was never accredited", code="certifier_not_accredited")
    prefix = certificate_number(label_number, on.year, 0)[: -len("000000")]
    # Numbers are sequential per certifier and year: concurrent issues of one certifier queue on this lock.
    await session.execute(text("SELECT pg_advisory_xact_lock(hashtext(:prefix))"), {"prefix": prefix})
    issued = await session.scalar(
        select(func.count()).select_from(CertificationRow).where(CertificationRow.number.like(prefix + "%"))
    )
    return certificate_number(label_number, on.year, int(issued or 0) + 1)


async def act(
    session: AsyncSession, certification_id: uuid.UUID, principal: Principal, command: Command, now: datetime
) -> tuple[CertificationRow, list[Transition], CertificationRow | None]:
    """Perform ``command`` as the principal; returns the row, the transitions made and a renewal's successor."""
    row = await session.get(CertificationRow, certification_id, with_for_update=True)
    if row is None or not visible_to(row, principal):
        raise NotFound(f"no certification {certification_id}", code="certification_not_found")
    aggregate = await load(session, row)
    return await perform(session, row, aggregate, actor_of(principal), command, now, principal.actor)


async def perform(
    session: AsyncSession,
    row: CertificationRow,
    aggregate: Certification,
    actor: Actor,
    command: Command,
    now: datetime,
    audit_actor: audit.Actor | None,
) -> tuple[CertificationRow, list[Transition], CertificationRow | None]:
    pool = await accreditations_of(session, [row.certifier_id]) if actor.role is ActorRole.CERTIFIER else []
    event, before = command.event, len(aggregate.history)
    due_before = aggregate.surveillance_due_on
    successor: Certification | None = None
    if event is E.START_REVIEW:
        aggregate.start_review(actor, now, pool)
    elif event is E.ACCEPT_DOCUMENTS:
        aggregate.accept_documents(actor, now, pool, command.reason)
    elif event is E.RECORD_AUDIT:
        aggregate.record_audit(actor, now, pool, command.findings)
    elif event is E.RECORD_LAB_RESULTS:
        aggregate.record_lab_results(actor, now, pool, command.lab_results)
    elif event is E.REQUEST_RECTIFICATION:
        reasons = list(command.reasons) or ([command.reason] if command.reason else [])
        aggregate.request_rectification(actor, now, pool, reasons, command.resume_at)
    elif event is E.SUBMIT_RECTIFICATION:
        aggregate.submit_rectification(actor, now, command.reason)
    elif event is E.GRANT:
        aggregate.grant(actor, now, pool)
    elif event is E.REFUSE:
        aggregate.refuse(actor, now, pool, command.reason or "")
    elif event is E.ISSUE:
        number = await _next_number(session, row.certifier_id, local_date(now)) if aggregate.state is S.DECIDED else ""
        aggregate.issue(actor, now, pool, number)
    elif event is E.RECORD_SURVEILLANCE:
        aggregate.record_surveillance(actor, now, pool, command.reason)
    elif event is E.MARK_OVERDUE:
        aggregate.mark_overdue(actor, now)
    elif event is E.SUSPEND:
        aggregate.suspend(actor, now, command.reason or "", pool)
    elif event is E.REINSTATE:
        aggregate.reinstate(actor, now, pool, command.reason or "")
    elif event is E.REVOKE:
        aggregate.revoke(actor, now, command.reason or "", pool)
    elif event is E.EXPIRE:
        aggregate.expire(actor, now)
    elif event is E.RENEW:
        number = await _next_number(session, row.certifier_id, local_date(now)) if aggregate.state is S.ISSUED else ""
        successor = aggregate.renew(actor, now, pool, successor_id=uuid.uuid4(), number=number)
    elif event is E.WITHDRAW:
        aggregate.withdraw(actor, now, command.reason)
    else:  # pragma: no cover - every event is handled above
        raise RuleViolation(f"unknown event {event}", code="invalid_event")
    transitions = aggregate.history[before:]
    await write_back(session, row, aggregate, transitions, now)
    if event is E.RECORD_AUDIT:
        session.add_all(
            AuditFindingRow(
                certification_id=row.id, finding=name, met=met, recorded_by=actor.organisation_id, recorded_at=now
            )
            for name, met in command.findings.items()
        )
    if event is E.RECORD_LAB_RESULTS:
        session.add_all(
            LabResultRow(
                certification_id=row.id, measure=name, value=value, recorded_by=actor.organisation_id, recorded_at=now
            )
            for name, value in command.lab_results.items()
        )
    if event is E.RECORD_SURVEILLANCE or (event is E.REINSTATE and due_before != aggregate.surveillance_due_on):
        assert due_before is not None
        assert aggregate.surveillance_due_on is not None
        session.add(
            SurveillanceAuditRow(
                certification_id=row.id,
                due_on=due_before,
                next_due_on=aggregate.surveillance_due_on,
                performed_at=now,
                recorded_by=actor.organisation_id,
                note=command.reason,
            )
        )
    successor_row = await _insert_successor(session, row, successor, now) if successor is not None else None
    await session.flush()
    await audit.record(
        session,
        audit_actor,
        f"labels.certification.{event.value}",
        "certification",
        row.id,
        {"from": transitions[0].from_state, "to": aggregate.state.value, "reason": transitions[-1].reason},
    )
    return row, transitions, successor_row


async def write_back(
    session: AsyncSession,
    row: CertificationRow,
    aggregate: Certification,
    transitions: Sequence[Transition],
    now: datetime,
) -> None:
    row.state = aggregate.state.value
    row.rectification_reasons = list(aggregate.rectification_reasons)
    row.resume_at = aggregate.resume_at.value if aggregate.state is S.RECTIFICATION and aggregate.resume_at else None
    row.number = aggregate.number
    row.valid_from, row.valid_until = aggregate.valid_from, aggregate.valid_until
    row.surveillance_due_on = aggregate.surveillance_due_on
    row.updated_at = now
    session.add_all(transition_row(row.id, transition) for transition in transitions)


def transition_row(certification_id: uuid.UUID, transition: Transition) -> TransitionRow:
    return TransitionRow(
        certification_id=certification_id,
        event=transition.event.value,
        from_state=transition.from_state.value if transition.from_state else None,
        to_state=transition.to_state.value,
        actor_role=transition.actor.role.value,
        actor_organisation_id=transition.actor.organisation_id,
        actor_user_id=transition.actor.user_id,
        at=transition.at,
        reason=transition.reason,
    )


async def _insert_successor(
    session: AsyncSession, row: CertificationRow, successor: Certification, now: datetime
) -> CertificationRow:
    successor_row = CertificationRow(
        id=successor.id,
        scheme_code=row.scheme_code,
        producer_id=row.producer_id,
        certifier_id=row.certifier_id,
        category=row.category,
        product=row.product,
        production_site=row.production_site,
        district=row.district,
        annual_volume=row.annual_volume,
        volume_unit=row.volume_unit,
        shortened_path=False,
        state=successor.state.value,
        number=successor.number,
        valid_from=successor.valid_from,
        valid_until=successor.valid_until,
        surveillance_due_on=successor.surveillance_due_on,
        predecessor_id=row.id,
        created_at=now,
        updated_at=now,
    )
    session.add(successor_row)
    await session.flush()
    session.add_all(transition_row(successor.id, transition) for transition in successor.history)
    return successor_row


async def history(session: AsyncSession, certification_id: uuid.UUID) -> list[TransitionRow]:
    rows = await session.scalars(
        select(TransitionRow).where(TransitionRow.certification_id == certification_id).order_by(TransitionRow.id)
    )
    return list(rows.all())


async def evidence(
    session: AsyncSession, certification_id: uuid.UUID
) -> tuple[list[AuditFindingRow], list[LabResultRow]]:
    findings = await session.scalars(
        select(AuditFindingRow).where(AuditFindingRow.certification_id == certification_id).order_by(AuditFindingRow.id)
    )
    results = await session.scalars(
        select(LabResultRow).where(LabResultRow.certification_id == certification_id).order_by(LabResultRow.id)
    )
    return list(findings.all()), list(results.all())


async def list_visible(
    session: AsyncSession, principal: Principal, *, after: tuple[datetime, uuid.UUID] | None, limit: int
) -> list[CertificationRow]:
    query = select(CertificationRow).order_by(CertificationRow.created_at, CertificationRow.id).limit(limit)
    if principal.role is not Role.OPERATOR:
        org = principal.organisation_id
        query = query.where((CertificationRow.producer_id == org) | (CertificationRow.certifier_id == org))
    if after is not None:
        query = query.where(
            (CertificationRow.created_at > after[0])
            | ((CertificationRow.created_at == after[0]) & (CertificationRow.id > after[1]))
        )
    return list((await session.scalars(query)).all())
