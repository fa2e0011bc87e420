"""The ends of a project and of a parcel's membership: the owner withdraws a project before registration, the operator
deregisters a registered one, the owner releases a parcel that was never credited.

A withdrawn or deregistered project releases all its parcels (``active = false``), so another project may take the
land; what was credited stays credited: the credited-period guard is keyed by the parcel's tenure number and
sub-compartment, not by the project, so the next project can never be credited again for a period already credited.
Deregistration stops further issuance (the state is final and its open monitoring reports are withdrawn); credits
already issued stay with their holders, transferable and retirable as before.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy import exists, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from domain.errors import Conflict, InvalidState, NotFound
from domain.registry.project import FINAL_STATES, ProjectAction, ProjectState
from services.audit import record
from services.identity.service import Principal
from services.registry import access
from services.registry.tables import CreditedPeriod, MonitoringReport, Parcel, Project

OPEN_REPORT_STATES = ("submitted", "corrections_requested", "verified")
# Parcels are under review while validating or on notice: the owner withdraws the whole project instead.
NO_RELEASE_STATES = frozenset({ProjectState.VALIDATING.value, ProjectState.PUBLIC_NOTICE.value})


async def withdraw(session: AsyncSession, principal: Principal, project_id: uuid.UUID, reason: str) -> Project:
    return await _close(session, principal, project_id, ProjectAction.WITHDRAW, reason, "project.withdraw")


async def deregister(session: AsyncSession, principal: Principal, project_id: uuid.UUID, reason: str) -> Project:
    return await _close(session, principal, project_id, ProjectAction.DEREGISTER, reason, "project.deregister")


async def _close(
    session: AsyncSession,
    principal: Principal,
    project_id: uuid.UUID,
    action: ProjectAction,
    reason: str,
    audit_action: str,
) -> Project:
    # The project row lock orders this against a concurrent issuance approval of the same project.
    project = await access.load_project(session, project_id, principal, for_update=True)
    aggregate = await access.lifecycle(session, project)
    actor = await access.lifecycle_actor(session, project, principal)
    transition = aggregate.perform(action, actor, [reason])
    assert transition.to_state in FINAL_STATES
    now = datetime.now(UTC)
    withdrawn_reports = await session.execute(
        update(MonitoringReport)
        .where(MonitoringReport.project_id == project.id, MonitoringReport.status.in_(OPEN_REPORT_STATES))
        .values(status="withdrawn", updated_at=now)
        .returning(MonitoringReport.number)
    )
    released = await session.execute(
        update(Parcel)
        .where(Parcel.project_id == project.id, Parcel.active)
        .values(active=False, released_at=now)
        .returning(Parcel.parcel_key)
    )
    keys = sorted(released.scalars())
    before = project.status
    project.status = transition.to_state.value
    project.closed_at = project.updated_at = now
    project.closed_reason = "; ".join(transition.reasons)
    await session.flush()
    detail = {
        "from": before,
        "to": project.status,
        "reasons": list(transition.reasons),
        "released_parcels": keys,
        "withdrawn_reports": sorted(withdrawn_reports.scalars()),
    }
    await record(session, principal.actor, audit_action, "project", project.id, detail)
    return project


async def release_parcel(
    session: AsyncSession, principal: Principal, project_id: uuid.UUID, parcel_id: uuid.UUID, reason: str
) -> Parcel:
    """One parcel leaves its project for good; refused once any period of it was credited."""
    project = await access.load_project(session, project_id, principal, for_update=True)
    if principal.organisation_id != project.owner_id:
        raise NotFound(f"no project {project.id}", code="project_not_found")
    parcel = (
        await session.execute(
            select(Parcel)
            .where(Parcel.id == parcel_id, Parcel.project_id == project.id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    ).scalar_one_or_none()
    if parcel is None:
        raise NotFound(f"no parcel {parcel_id} in project {project.code}", code="parcel_not_found")
    if not parcel.active:
        raise Conflict(f"parcel {parcel.parcel_key} was already released", code="parcel_released")
    if project.status in NO_RELEASE_STATES:
        raise InvalidState(
            f"project {project.code} is {project.status}: its parcels are under review; withdraw the project instead",
            code="parcel_under_review",
        )
    credited = await session.scalar(select(func.count()).where(CreditedPeriod.parcel_id == parcel.id))
    if credited:
        raise Conflict(
            f"parcel {parcel.parcel_key} has {credited} credited period(s) and stays with project {project.code}",
            code="parcel_credited",
        )
    in_open_report = await session.scalar(
        select(
            exists().where(
                MonitoringReport.project_id == project.id,
                MonitoringReport.status.in_(OPEN_REPORT_STATES),
                MonitoringReport.inputs["parcels"].contains([{"parcel_id": parcel.parcel_key}]),
            )
        )
    )
    if in_open_report:
        raise Conflict(
            f"parcel {parcel.parcel_key} is measured in an open monitoring report of project {project.code}",
            code="parcel_in_open_report",
        )
    parcel.active = False
    parcel.released_at = datetime.now(UTC)
    await session.flush()
    await session.refresh(parcel)  # the generated key expires on update; reload it here, not lazily later
    await record(
        session,
        principal.actor,
        "parcel.release",
        "parcel",
        parcel.id,
        {"project": project.code, "key": parcel.parcel_key, "reason": reason},
    )
    return parcel
