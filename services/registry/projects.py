"""Projects and their parcels: creation with eligibility refusals, and the lifecycle up to registration.

Owner creates a draft, adds parcels and submits it to an accredited verifier of its choice; that verifier validates
(or returns it with reasons); the operator registers it once the public notice is over (or rejects it with reasons).
The notice lasts the methodology's ``public_notice_days`` (default 20) Asia/Shanghai calendar days from the day of
validation (domain/registry/notice.py). Withdrawal, deregistration and parcel release are in closure.py.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import delete, func, select, tuple_
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from domain.errors import Conflict, InvalidState, NotFound, RuleViolation
from domain.identity.roles import Role
from domain.registry import eligibility
from domain.registry.eligibility import ParcelFacts, ProjectFacts, ProjectType
from domain.registry.methodology import LandUse
from domain.registry.notice import NoticePeriod, require_notice_over, shanghai_today
from domain.registry.project import ProjectAction
from services.audit import record
from services.db import sqlstate
from services.identity.service import Principal
from services.registry import access, geometry, methodologies, verifiers
from services.registry.tables import CreditedPeriod, Parcel, Project, VerificationStatement

# Risk rating -> percentage points added to the methodology's default buffer share (default; reviewed per project).
RISK_EXTRA_BUFFER = {"low": Decimal("0"), "medium": Decimal("0.05"), "high": Decimal("0.10")}
POLYGON_LOCK = "registry:parcel-polygons"


@dataclass(frozen=True)
class NewProject:
    name: str
    district: str
    township: str
    village: str
    project_type: ProjectType
    crediting_start: date
    crediting_end: date
    risk_rating: str
    baseline: dict[str, Any]
    methodology_code: str
    methodology_version: int | None = None


@dataclass(frozen=True)
class NewParcel:
    tenure_number: str
    sub_compartment: str
    area_mu: Decimal
    species: str
    age: int
    stock_volume_per_mu: Decimal
    land_use: LandUse
    years_non_forest: int | None
    land_use_history: list[dict[str, Any]]
    polygon: dict[str, Any] | None


async def create_project(session: AsyncSession, principal: Principal, spec: NewProject) -> Project:
    if spec.methodology_version is None:
        row = await methodologies.active_version(session, spec.methodology_code)
    else:
        row = await methodologies.get_version(session, spec.methodology_code, spec.methodology_version)
    methodology = methodologies.to_domain(row)
    methodology.require_usable()
    eligibility.refuse_if_any(
        eligibility.check_crediting_period(spec.crediting_start, spec.crediting_end, methodology.rules), "the project"
    )
    district_code = spec.district
    # Codes are numbered per district; the lock makes two creations in one district take different numbers.
    await session.execute(select(func.pg_advisory_xact_lock(func.hashtext("project-code:" + district_code))))
    prefix = f"BZ-{district_code}-"
    last = await session.scalar(select(func.max(Project.code)).where(Project.code.like(prefix + "%")))
    number = int(last.rsplit("-", 1)[1]) + 1 if last else 1
    project = Project(
        code=f"{prefix}{number:04d}",
        owner_id=principal.organisation_id,
        name=spec.name,
        district=spec.district,
        township=spec.township,
        village=spec.village,
        project_type=spec.project_type.value,
        methodology_id=row.id,
        crediting_start=spec.crediting_start,
        crediting_end=spec.crediting_end,
        baseline=spec.baseline,
        risk_rating=spec.risk_rating,
        buffer_share=methodology.rules.buffer_share + RISK_EXTRA_BUFFER[spec.risk_rating],
        status="draft",
    )
    session.add(project)
    await session.flush()
    await session.refresh(project)
    await record(session, principal.actor, "project.create", "project", project.id, {"code": project.code})
    return project


async def add_parcel(session: AsyncSession, principal: Principal, project_id: uuid.UUID, spec: NewParcel) -> Parcel:
    project = await access.load_project(session, project_id, principal, for_update=True)
    _require_owner_draft(project, principal)
    methodology = methodologies.to_domain(await methodologies.get(session, project.methodology_id))
    methodology.parameters_for(spec.species)
    facts = ParcelFacts(
        f"{spec.tenure_number}/{spec.sub_compartment}",
        spec.area_mu,
        spec.land_use,
        spec.tenure_number,
        spec.years_non_forest,
    )
    eligibility.require_eligible_parcel(facts, ProjectType(project.project_type), methodology.rules)
    bbox: tuple[float, float, float, float] | None = None
    if spec.polygon is not None:
        ring = geometry.parse_polygon(spec.polygon)
        geometry.require_parcel_sized(ring)
        bbox = ring.bbox
        await _refuse_overlapping_polygon(session, ring)
    parcel = Parcel(
        project_id=project.id,
        tenure_number=spec.tenure_number,
        sub_compartment=spec.sub_compartment,
        area_mu=spec.area_mu,
        species=spec.species,
        age=spec.age,
        stock_volume_per_mu=spec.stock_volume_per_mu,
        land_use=spec.land_use.value,
        years_non_forest=spec.years_non_forest,
        land_use_history=spec.land_use_history,
        polygon=geometry.stored_polygon(spec.polygon) if spec.polygon is not None else None,
        min_lon=bbox[0] if bbox else None,
        min_lat=bbox[1] if bbox else None,
        max_lon=bbox[2] if bbox else None,
        max_lat=bbox[3] if bbox else None,
    )
    session.add(parcel)
    try:
        await session.flush()
    except IntegrityError as error:
        if sqlstate(error) == "23505":
            raise Conflict(
                f"parcel {facts.parcel_id} already belongs to an active project", code="parcel_in_active_project"
            ) from error
        raise
    await session.refresh(parcel)
    await record(
        session, principal.actor, "parcel.add", "parcel", parcel.id, {"project": project.code, "key": facts.parcel_id}
    )
    return parcel


async def _refuse_overlapping_polygon(session: AsyncSession, ring: geometry.Ring) -> None:
    # One lock for all polygon checks: two parcels drawn over each other at the same moment cannot both pass.
    await session.execute(select(func.pg_advisory_xact_lock(func.hashtext(POLYGON_LOCK))))
    min_lon, min_lat, max_lon, max_lat = ring.bbox
    candidates = await session.execute(
        select(Parcel.tenure_number, Parcel.sub_compartment, Parcel.polygon).where(
            Parcel.active,
            Parcel.polygon.is_not(None),
            Parcel.min_lon <= max_lon,
            Parcel.max_lon >= min_lon,
            Parcel.min_lat <= max_lat,
            Parcel.max_lat >= min_lat,
        )
    )
    for tenure, sub_compartment, polygon in candidates:
        if polygon is not None and geometry.overlap(ring, geometry.stored_outer_ring(polygon)):
            raise Conflict(
                f"the polygon overlaps parcel {tenure}/{sub_compartment} of an active project",
                code="parcel_polygon_overlap",
            )


async def remove_parcel(
    session: AsyncSession, principal: Principal, project_id: uuid.UUID, parcel_id: uuid.UUID
) -> None:
    project = await access.load_project(session, project_id, principal, for_update=True)
    _require_owner_draft(project, principal)
    credited = await session.scalar(select(func.count()).where(CreditedPeriod.parcel_id == parcel_id))
    if credited:
        raise InvalidState("a parcel with credited periods stays on record", code="parcel_credited")
    deleted = await session.execute(delete(Parcel).where(Parcel.id == parcel_id, Parcel.project_id == project.id))
    if not deleted.rowcount:  # type: ignore[attr-defined]
        raise NotFound(f"no parcel {parcel_id} in project {project.code}", code="parcel_not_found")
    await record(session, principal.actor, "parcel.remove", "parcel", parcel_id, {"project": project.code})


def _require_owner_draft(project: Project, principal: Principal) -> None:
    if principal.organisation_id != project.owner_id:
        raise NotFound(f"no project {project.id}", code="project_not_found")
    if project.status != "draft":
        raise InvalidState(f"parcels change only in draft, project {project.code} is {project.status}")


async def parcels_of(
    session: AsyncSession,
    project_id: uuid.UUID,
    *,
    after: tuple[str, uuid.UUID] | None = None,
    limit: int | None = None,
) -> list[Parcel]:
    query = select(Parcel).where(Parcel.project_id == project_id).order_by(Parcel.parcel_key, Parcel.id).limit(limit)
    if after is not None:
        query = query.where(tuple_(Parcel.parcel_key, Parcel.id) > after)
    return list((await session.execute(query)).scalars())


async def submit(
    session: AsyncSession, principal: Principal, project_id: uuid.UUID, validator_id: uuid.UUID
) -> Project:
    project = await access.load_project(session, project_id, principal, for_update=True)
    aggregate = await access.lifecycle(session, project)
    actor = await access.lifecycle_actor(session, project, principal)
    methodology_row = await methodologies.get(session, project.methodology_id)
    parcels = await parcels_of(session, project.id)
    facts = ProjectFacts(
        ProjectType(project.project_type),
        project.crediting_start,
        project.crediting_end,
        tuple(
            ParcelFacts(p.parcel_key, p.area_mu, LandUse(p.land_use), p.tenure_number, p.years_non_forest)
            for p in parcels
        ),
    )
    transition = aggregate.perform(ProjectAction.SUBMIT, actor)
    eligibility.require_eligible_project(facts, methodologies.to_domain(methodology_row).rules)
    if not await verifiers.is_accredited(session, validator_id, methodology_row.code, date.today()):
        raise RuleViolation(
            f"organisation {validator_id} is not an accredited verifier for {methodology_row.code}",
            code="chosen_verifier_not_accredited",
        )
    project.validator_id = validator_id
    return await _apply(session, principal, project, transition.to_state.value, "project.submit", {})


async def validate(
    session: AsyncSession,
    principal: Principal,
    project_id: uuid.UUID,
    *,
    approve: bool,
    reasons: list[str],
    today: date | None = None,
) -> Project:
    """``today`` (Asia/Shanghai) is the notice's first day; only the demo and tests set it, the API never does."""
    project = await access.load_project(session, project_id, principal, for_update=True)
    aggregate = await access.lifecycle(session, project)
    actor = await access.lifecycle_actor(session, project, principal)
    action = ProjectAction.VALIDATE if approve else ProjectAction.RETURN_FOR_CORRECTIONS
    transition = aggregate.perform(action, actor, reasons)
    access.require_validator(project, principal)
    session.add(
        VerificationStatement(
            subject_type="validation",
            project_id=project.id,
            verifier_id=principal.organisation_id,
            decision="approve" if approve else "request_corrections",
            reasons=list(transition.reasons),
        )
    )
    if approve:
        rules = (await methodologies.governing(session, await _code_of(session, project))).rules
        notice = NoticePeriod(today or shanghai_today(), rules.public_notice_days)
        project.public_notice_on, project.public_notice_until = notice.noticed_on, notice.last_day
        detail_notice = {"notice_from": notice.noticed_on.isoformat(), "notice_until": notice.last_day.isoformat()}
    else:
        detail_notice = {}
    detail = {
        "decision": "approve" if approve else "request_corrections",
        "reasons": list(transition.reasons),
        **detail_notice,
    }
    return await _apply(session, principal, project, transition.to_state.value, "project.validate", detail)


async def _code_of(session: AsyncSession, project: Project) -> str:
    return (await methodologies.get(session, project.methodology_id)).code


async def register(
    session: AsyncSession,
    principal: Principal,
    project_id: uuid.UUID,
    *,
    approve: bool,
    reasons: list[str],
    today: date | None = None,
) -> Project:
    """Registration waits for the end of the notice; a rejection (an objection upheld) may come during it."""
    project = await access.load_project(session, project_id, principal, for_update=True)
    aggregate = await access.lifecycle(session, project)
    actor = await access.lifecycle_actor(session, project, principal)
    action = ProjectAction.REGISTER if approve else ProjectAction.REJECT_REGISTRATION
    transition = aggregate.perform(action, actor, reasons)
    if approve:
        if project.public_notice_until is None:
            raise InvalidState(f"project {project.code} has no recorded public notice", code="public_notice_missing")
        require_notice_over(project.code, project.public_notice_until, today or shanghai_today())
    detail = {"decision": "register" if approve else "reject", "reasons": list(transition.reasons)}
    return await _apply(session, principal, project, transition.to_state.value, "project.register", detail)


async def _apply(
    session: AsyncSession, principal: Principal, project: Project, status: str, action: str, detail: dict[str, Any]
) -> Project:
    before = project.status
    project.status = status
    project.updated_at = datetime.now(UTC)
    await session.flush()
    await record(session, principal.actor, action, "project", project.id, {"from": before, "to": status, **detail})
    return project


async def list_projects(
    session: AsyncSession, principal: Principal | None, *, after: str | None, limit: int, mine: bool = False
) -> list[Project]:
    query = select(Project).order_by(Project.code).limit(limit)
    if after is not None:
        query = query.where(Project.code > after)
    if principal is None:
        query = query.where(access.public_clause())
    elif mine or principal.role is not Role.OPERATOR:
        visible = (Project.owner_id == principal.organisation_id) | (Project.validator_id == principal.organisation_id)
        query = query.where(visible if mine else visible | access.public_clause())
    return list((await session.execute(query)).scalars())
