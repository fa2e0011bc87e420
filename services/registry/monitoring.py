"""Monitoring reports (parcel measurements of one period) and the verifier's statements on them."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.errors import Conflict, NotFound, RuleViolation
from domain.registry.carbon import MonitoringInputs, calculate_monitoring_period
from domain.registry.project import ProjectAction, ProjectState
from domain.registry.records import canonical_decimal
from domain.registry.serials import vintage_of
from services.audit import record
from services.identity.service import Principal
from services.registry import access, methodologies, verifiers
from services.registry.projects import parcels_of
from services.registry.tables import CreditedPeriod, MonitoringReport, Parcel, Project, VerificationStatement


@dataclass(frozen=True)
class Measurement:
    parcel_id: uuid.UUID
    volume_start_m3_per_mu: Decimal
    volume_end_m3_per_mu: Decimal


@dataclass(frozen=True)
class NewReport:
    period_start: date
    period_end: date
    measurements: tuple[Measurement, ...]
    shrub_change: Decimal = Decimal(0)
    burning_emissions: Decimal = Decimal(0)
    baseline_change: Decimal = Decimal(0)
    leakage: Decimal = Decimal(0)
    sampling_precision: Decimal | None = None
    verifier_id: uuid.UUID | None = None


def _text(value: Decimal) -> str:
    return canonical_decimal(value)


async def _inputs(session: AsyncSession, project: Project, spec: NewReport) -> dict[str, Any]:
    """The calculation's inputs: species and area come from the registered parcels, never from the report."""
    parcels = {parcel.id: parcel for parcel in await parcels_of(session, project.id) if parcel.active}
    rows: list[dict[str, str]] = []
    for item in spec.measurements:
        parcel = parcels.get(item.parcel_id)
        if parcel is None:
            raise RuleViolation(
                f"parcel {item.parcel_id} is not a parcel of project {project.code}", code="unknown_parcel"
            )
        rows.append(
            {
                "parcel_id": parcel.parcel_key,
                "species": parcel.species,
                "area_mu": _text(parcel.area_mu),
                "volume_start_m3_per_mu": _text(item.volume_start_m3_per_mu),
                "volume_end_m3_per_mu": _text(item.volume_end_m3_per_mu),
            }
        )
    return {
        "parcels": rows,
        "shrub_change": _text(spec.shrub_change),
        "burning_emissions": _text(spec.burning_emissions),
        "baseline_change": _text(spec.baseline_change),
        "leakage": _text(spec.leakage),
        "sampling_precision": None if spec.sampling_precision is None else _text(spec.sampling_precision),
    }


async def file_report(
    session: AsyncSession, principal: Principal, project_id: uuid.UUID, spec: NewReport
) -> MonitoringReport:
    """Start the next monitoring period and submit its report, or resubmit the current one after corrections."""
    project = await access.load_project(session, project_id, principal, for_update=True)
    aggregate = await access.lifecycle(session, project)
    actor = await access.lifecycle_actor(session, project, principal)
    current = await access.latest_report(session, project.id)
    resubmission = aggregate.state is ProjectState.MONITORING and current is not None
    if aggregate.state in (ProjectState.REGISTERED, ProjectState.ISSUED):
        aggregate.perform(ProjectAction.START_MONITORING, actor)
    transition = aggregate.perform(ProjectAction.SUBMIT_MONITORING_REPORT, actor)
    if not project.crediting_start <= spec.period_start <= spec.period_end <= project.crediting_end:
        raise RuleViolation(
            f"the period {spec.period_start} to {spec.period_end} is outside the crediting period "
            f"{project.crediting_start} to {project.crediting_end}",
            code="period_outside_crediting_period",
        )
    vintage_of(spec.period_end)  # only a project registered before the vintage rule can get this far
    inputs = await _inputs(session, project, spec)
    pinned = await methodologies.get(session, project.methodology_id)
    methodology = await methodologies.governing(session, pinned.code)
    # A dry run refuses inputs the calculation would refuse, now rather than at issuance.
    calculate_monitoring_period(methodology, MonitoringInputs.from_dict(inputs))
    await _refuse_credited(session, [m.parcel_id for m in spec.measurements], spec.period_start, spec.period_end)
    verifier_id = spec.verifier_id or project.validator_id
    if verifier_id is None or not await verifiers.is_accredited(session, verifier_id, methodology.code, date.today()):
        raise RuleViolation(
            f"organisation {verifier_id} is not an accredited verifier", code="chosen_verifier_not_accredited"
        )
    if resubmission and current is not None:
        report = current
        report.period_start, report.period_end, report.inputs = spec.period_start, spec.period_end, inputs
        report.status, report.verifier_id, report.updated_at = "submitted", verifier_id, datetime.now(UTC)
    else:
        report = MonitoringReport(
            project_id=project.id,
            number=transition.period,
            period_start=spec.period_start,
            period_end=spec.period_end,
            inputs=inputs,
            status="submitted",
            verifier_id=verifier_id,
        )
        session.add(report)
    project.status = transition.to_state.value
    project.updated_at = datetime.now(UTC)
    await session.flush()
    await session.refresh(report)
    await record(
        session,
        principal.actor,
        "monitoring_report.submit",
        "monitoring_report",
        report.id,
        {"project": project.code, "number": report.number, "resubmission": resubmission},
    )
    return report


async def _refuse_credited(session: AsyncSession, parcel_ids: list[uuid.UUID], start: date, end: date) -> None:
    """An early, friendly refusal; the binding guard is the credited_period trigger at issuance."""
    clash = (
        await session.execute(
            select(Parcel.parcel_key, CreditedPeriod.period_start, CreditedPeriod.period_end)
            .join(CreditedPeriod, CreditedPeriod.parcel_key == Parcel.parcel_key)
            .where(Parcel.id.in_(parcel_ids), CreditedPeriod.period_start <= end, CreditedPeriod.period_end >= start)
            .limit(1)
        )
    ).first()
    if clash is not None:
        raise Conflict(
            f"parcel {clash[0]} was already credited for {clash[1]} to {clash[2]}", code="period_already_credited"
        )


async def load_report(
    session: AsyncSession, report_id: uuid.UUID, principal: Principal | None, *, for_update: bool = False
) -> tuple[Project, MonitoringReport]:
    report = await session.get(MonitoringReport, report_id)
    if report is None:
        raise NotFound(f"no monitoring report {report_id}", code="report_not_found")
    project = await access.load_project(session, report.project_id, principal, for_update=for_update)
    if for_update:
        await session.refresh(report, with_for_update=True)
    return project, report


async def verify(
    session: AsyncSession, principal: Principal, report_id: uuid.UUID, *, approve: bool, reasons: list[str]
) -> VerificationStatement:
    project, report = await load_report(session, report_id, principal, for_update=True)
    aggregate = await access.lifecycle(session, project)
    actor = await access.lifecycle_actor(session, project, principal)
    if report.number != aggregate.period or report.status != "submitted":
        raise NotFound(f"monitoring report {report_id} is not awaiting verification", code="report_not_pending")
    action = ProjectAction.VERIFY if approve else ProjectAction.REQUEST_CORRECTIONS
    transition = aggregate.perform(action, actor, reasons)
    if principal.organisation_id != report.verifier_id:
        raise NotFound(f"no monitoring report {report_id}", code="report_not_found")
    statement = VerificationStatement(
        subject_type="verification",
        project_id=project.id,
        report_id=report.id,
        verifier_id=principal.organisation_id,
        decision="approve" if approve else "request_corrections",
        reasons=list(transition.reasons),
    )
    session.add(statement)
    report.status = "verified" if approve else "corrections_requested"
    report.updated_at = datetime.now(UTC)
    project.status = transition.to_state.value
    project.updated_at = datetime.now(UTC)
    await session.flush()
    await session.refresh(statement)
    await record(
        session,
        principal.actor,
        "monitoring_report.verify",
        "monitoring_report",
        report.id,
        {"decision": statement.decision, "reasons": statement.reasons, "project": project.code},
    )
    return statement


async def reports_of(
    session: AsyncSession, project_id: uuid.UUID, *, after: int | None, limit: int
) -> list[MonitoringReport]:
    query = (
        select(MonitoringReport)
        .where(MonitoringReport.project_id == project_id)
        .order_by(MonitoringReport.number)
        .limit(limit)
    )
    if after is not None:
        query = query.where(MonitoringReport.number > after)
    return list((await session.execute(query)).scalars())
