"""Loading registry objects with the caller's right to see them, and the domain view of a project's lifecycle.

Private objects of another organisation answer 404 rather than 403, so their existence does not leak: a project is
visible to its owner, its validator and the operator, and to everyone once it reaches public notice (a project
withdrawn before its notice stays private; one withdrawn during or after it stays public).
"""

from __future__ import annotations

import uuid
from datetime import date

from sqlalchemy import ColumnElement, and_, func, not_, select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.errors import Forbidden, NotFound
from domain.identity.roles import Role
from domain.registry.project import Actor as LifecycleActor
from domain.registry.project import Project as Lifecycle
from domain.registry.project import ProjectState
from services.identity.service import Principal
from services.registry import verifiers
from services.registry.tables import MethodologyRow, MonitoringReport, Project

PRIVATE_STATES = frozenset({ProjectState.DRAFT.value, ProjectState.VALIDATING.value})


def is_public(project: Project) -> bool:
    if project.status == ProjectState.WITHDRAWN.value:
        return project.public_notice_on is not None or project.public_notice_until is not None
    return project.status not in PRIVATE_STATES


def public_clause() -> ColumnElement[bool]:
    """``is_public`` as SQL, for lists."""
    withdrawn_unnoticed = and_(
        Project.status == ProjectState.WITHDRAWN.value,
        Project.public_notice_on.is_(None),
        Project.public_notice_until.is_(None),
    )
    return and_(Project.status.not_in(PRIVATE_STATES), not_(withdrawn_unnoticed))


def can_see(project: Project, principal: Principal | None) -> bool:
    if is_public(project):
        return True
    if principal is None:
        return False
    return principal.role is Role.OPERATOR or principal.organisation_id in (project.owner_id, project.validator_id)


async def load_project(
    session: AsyncSession, project_id: uuid.UUID, principal: Principal | None, *, for_update: bool = False
) -> Project:
    query = select(Project).where(Project.id == project_id)
    if for_update:
        query = query.with_for_update()
    project = (await session.execute(query.execution_options(populate_existing=True))).scalar_one_or_none()
    if project is None or not can_see(project, principal):
        raise NotFound(f"no project {project_id}", code="project_not_found")
    return project


async def latest_report(session: AsyncSession, project_id: uuid.UUID) -> MonitoringReport | None:
    return (
        await session.execute(
            select(MonitoringReport)
            .where(MonitoringReport.project_id == project_id)
            .order_by(MonitoringReport.number.desc())
            .limit(1)
            .execution_options(populate_existing=True)
        )
    ).scalar_one_or_none()


async def lifecycle(session: AsyncSession, project: Project) -> Lifecycle:
    """The domain aggregate of the project's state: the period is its latest report's number."""
    report = await latest_report(session, project.id)
    period = report.number if report else 0
    verified = period if report is not None and report.status == "verified" else None
    return Lifecycle(str(project.id), str(project.owner_id), ProjectState(project.status), period, verified)


async def lifecycle_actor(session: AsyncSession, project: Project, principal: Principal) -> LifecycleActor:
    """The caller as the state machine sees it; a verifier's accreditation comes from the register, today."""
    accredited = False
    if principal.role is Role.VERIFIER:
        methodology = await session.get(MethodologyRow, project.methodology_id)
        assert methodology is not None
        accredited = await verifiers.is_accredited(session, principal.organisation_id, methodology.code, date.today())
    return LifecycleActor(str(principal.organisation_id), principal.role, accredited)


def require_validator(project: Project, principal: Principal) -> None:
    if principal.organisation_id != project.validator_id:
        raise Forbidden(
            f"only the project's chosen verifier may act on project {project.code}", code="not_the_projects_verifier"
        )


async def next_number(session: AsyncSession, project_id: uuid.UUID) -> int:
    last = await session.scalar(
        select(func.max(MonitoringReport.number)).where(MonitoringReport.project_id == project_id)
    )
    return int(last or 0) + 1
