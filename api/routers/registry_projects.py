"""Registry routes of projects and parcels: creation, parcels, submission, validation, registration after the
public notice, withdrawal by the owner, deregistration by the operator and the release of a parcel."""

from __future__ import annotations

import uuid

from fastapi import APIRouter
from sqlalchemy.ext.asyncio import AsyncSession

from api.deps import Caller, ReadSession, State
from api.idempotency import Idempotent
from api.pagination import Page, make_page
from api.problems import problem_responses
from api.routers import registry_project_schemas as schemas
from api.routers.registry_common import WRITE_PROBLEMS, Operator, Owner, Pages, ParcelId, ProjectId, Verifier
from services.db import run_in_transaction
from services.registry import access, closure, projects
from services.registry.projects import NewParcel, NewProject

router = APIRouter(tags=["registry"])  # included under /v1/registry by registry.py


@router.post("/projects", status_code=201, summary="Create a draft project (owner)", responses=WRITE_PROBLEMS)
async def create_project(body: schemas.ProjectIn, principal: Owner, idem: Idempotent) -> schemas.ProjectRead:
    spec = NewProject(
        name=body.name,
        district=body.district,
        township=body.township,
        village=body.village,
        project_type=body.project_type,
        crediting_start=body.crediting_start,
        crediting_end=body.crediting_end,
        risk_rating=body.risk_rating,
        baseline=dict(body.baseline),
        methodology_code=body.methodology_code,
        methodology_version=body.methodology_version,
    )

    async def effect(session: AsyncSession) -> schemas.ProjectRead:
        return schemas.ProjectRead.model_validate(await projects.create_project(session, principal, spec))

    return await idem.run(effect, status_code=201)


@router.get("/projects", summary="Projects the caller may see", responses=problem_responses(400, 401))
async def list_projects(principal: Caller, session: ReadSession, page: Pages) -> Page[schemas.ProjectRead]:
    after = page.after_as(str)
    rows = await projects.list_projects(session, principal, after=after[0] if after else None, limit=page.limit + 1)
    items = [schemas.ProjectRead.model_validate(row) for row in rows]
    return make_page(items, page.limit, lambda item: (item.code,))


@router.get("/projects/{project_id}", summary="One project", responses=problem_responses(401, 404))
async def get_project(project_id: ProjectId, principal: Caller, session: ReadSession) -> schemas.ProjectRead:
    return schemas.ProjectRead.model_validate(await access.load_project(session, project_id, principal))


@router.post(
    "/projects/{project_id}/parcels", status_code=201, summary="Add a parcel (owner, draft)", responses=WRITE_PROBLEMS
)
async def add_parcel(
    project_id: ProjectId, body: schemas.ParcelIn, principal: Owner, idem: Idempotent
) -> schemas.ParcelRead:
    spec = NewParcel(
        tenure_number=body.tenure_number,
        sub_compartment=body.sub_compartment,
        area_mu=body.area_mu,
        species=body.species,
        age=body.age,
        stock_volume_per_mu=body.stock_volume_per_mu,
        land_use=body.land_use,
        years_non_forest=body.years_non_forest,
        land_use_history=[item.model_dump(mode="json") for item in body.land_use_history],
        polygon=body.polygon,
    )

    async def effect(session: AsyncSession) -> schemas.ParcelRead:
        return schemas.ParcelRead.model_validate(await projects.add_parcel(session, principal, project_id, spec))

    return await idem.run(effect, status_code=201)


@router.get("/projects/{project_id}/parcels", summary="A project's parcels", responses=problem_responses(400, 401, 404))
async def list_parcels(
    project_id: ProjectId, principal: Caller, session: ReadSession, page: Pages
) -> Page[schemas.ParcelRead]:
    await access.load_project(session, project_id, principal)
    after = page.after_as(str, uuid.UUID)
    rows = await projects.parcels_of(
        session, project_id, after=(after[0], after[1]) if after else None, limit=page.limit + 1
    )
    items = [schemas.ParcelRead.model_validate(row) for row in rows]
    return make_page(items, page.limit, lambda item: (item.parcel_key, str(item.id)))


@router.delete(
    "/projects/{project_id}/parcels/{parcel_id}",
    status_code=204,
    summary="Remove a parcel (owner, draft)",
    responses=WRITE_PROBLEMS,
)
async def remove_parcel(project_id: ProjectId, parcel_id: ParcelId, principal: Owner, state: State) -> None:
    async def work(session: AsyncSession) -> None:
        await projects.remove_parcel(session, principal, project_id, parcel_id)

    await run_in_transaction(state.sessions, work)


@router.post(
    "/projects/{project_id}/submission",
    summary="Submit for validation to an accredited verifier (owner)",
    responses=WRITE_PROBLEMS,
)
async def submit_project(
    project_id: ProjectId, body: schemas.SubmitIn, principal: Owner, idem: Idempotent
) -> schemas.ProjectRead:
    async def effect(session: AsyncSession) -> schemas.ProjectRead:
        project = await projects.submit(session, principal, project_id, body.validator_id)
        return schemas.ProjectRead.model_validate(project)

    return await idem.run(effect)


@router.post(
    "/projects/{project_id}/validation",
    summary="Validate, or return with reasons (the project's accredited verifier)",
    responses=WRITE_PROBLEMS,
)
async def validate_project(
    project_id: ProjectId, body: schemas.DecisionIn, principal: Verifier, idem: Idempotent
) -> schemas.ProjectRead:
    async def effect(session: AsyncSession) -> schemas.ProjectRead:
        project = await projects.validate(
            session, principal, project_id, approve=body.decision == "approve", reasons=body.reasons
        )
        return schemas.ProjectRead.model_validate(project)

    return await idem.run(effect)


@router.post(
    "/projects/{project_id}/registration",
    summary="Register after public notice, or reject with reasons (operator)",
    responses=WRITE_PROBLEMS,
)
async def register_project(
    project_id: ProjectId, body: schemas.RegistrationIn, principal: Operator, idem: Idempotent
) -> schemas.ProjectRead:
    async def effect(session: AsyncSession) -> schemas.ProjectRead:
        project = await projects.register(
            session, principal, project_id, approve=body.decision == "register", reasons=body.reasons
        )
        return schemas.ProjectRead.model_validate(project)

    return await idem.run(effect)


@router.post(
    "/projects/{project_id}/withdrawal",
    summary="Withdraw a project before registration, with a reason; its parcels are released (owner)",
    responses=WRITE_PROBLEMS,
)
async def withdraw_project(
    project_id: ProjectId, body: schemas.ClosureIn, principal: Owner, idem: Idempotent
) -> schemas.ProjectRead:
    async def effect(session: AsyncSession) -> schemas.ProjectRead:
        return schemas.ProjectRead.model_validate(await closure.withdraw(session, principal, project_id, body.reason))

    return await idem.run(effect)


@router.post(
    "/projects/{project_id}/deregistration",
    summary="Deregister a registered project with a reason: no further issuance, issued credits stay, parcels "
    "released (operator)",
    responses=WRITE_PROBLEMS,
)
async def deregister_project(
    project_id: ProjectId, body: schemas.ClosureIn, principal: Operator, idem: Idempotent
) -> schemas.ProjectRead:
    async def effect(session: AsyncSession) -> schemas.ProjectRead:
        project = await closure.deregister(session, principal, project_id, body.reason)
        return schemas.ProjectRead.model_validate(project)

    return await idem.run(effect)


@router.post(
    "/projects/{project_id}/parcels/{parcel_id}/release",
    summary="Release a parcel that was never credited, so another project may take it (owner)",
    responses=WRITE_PROBLEMS,
)
async def release_parcel(
    project_id: ProjectId, parcel_id: ParcelId, body: schemas.ClosureIn, principal: Owner, idem: Idempotent
) -> schemas.ParcelRead:
    async def effect(session: AsyncSession) -> schemas.ParcelRead:
        parcel = await closure.release_parcel(session, principal, project_id, parcel_id, body.reason)
        return schemas.ParcelRead.model_validate(parcel)

    return await idem.run(effect)
