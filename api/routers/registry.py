"""The registry API for members: methodologies, verifier accreditation, projects, monitoring, issuance, reversals and
credits (transfers, retirements, cancellations). Thin routes: parse, authorize (scope), call one service, shape.

Public, login-free reads live in api/routers/public.py.
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Path
from sqlalchemy.ext.asyncio import AsyncSession

from api.deps import Caller, ReadSession, State, requires
from api.idempotency import Idempotent
from api.pagination import Page, PageParams, make_page, page_params
from api.problems import problem_responses
from api.routers import registry_schemas as schemas
from domain.errors import NotFound
from domain.identity.roles import Role, Scope
from services.db import run_in_transaction
from services.identity.service import Principal
from services.registry import access, credits, issuance, methodologies, monitoring, projects, verifiers
from services.registry.projects import NewParcel, NewProject

router = APIRouter(prefix="/v1/registry", tags=["registry"])
Pages = Annotated[PageParams, Depends(page_params)]
Owner = Annotated[Principal, requires(Scope.PROJECTS_WRITE)]
Verifier = Annotated[Principal, requires(Scope.VERIFICATION_WRITE)]
Operator = Annotated[Principal, requires(Scope.REGISTRY_OPERATE)]
Holder = Annotated[Principal, requires(Scope.CREDITS_MANAGE)]
ProjectId = Annotated[uuid.UUID, Path(description="project id")]
ReportId = Annotated[uuid.UUID, Path(description="monitoring report id")]
WRITE_PROBLEMS = problem_responses(400, 401, 403, 404, 409, 422)


# --- methodologies and verifiers ------------------------------------------------------------------------------------


@router.post("/methodologies", status_code=201, summary="Publish a new methodology version", responses=WRITE_PROBLEMS)
async def publish_methodology(
    body: schemas.MethodologyIn, principal: Operator, idem: Idempotent
) -> schemas.MethodologyRead:
    async def effect(session: AsyncSession) -> schemas.MethodologyRead:
        row = await methodologies.publish(session, body.definition(), principal.actor)
        return schemas.MethodologyRead.model_validate(row)

    return await idem.run(effect, status_code=201)  # type: ignore[return-value]


@router.post(
    "/verifier-accreditations", status_code=201, summary="Accredit a verifier (operator)", responses=WRITE_PROBLEMS
)
async def accredit_verifier(
    body: schemas.AccreditationIn, principal: Operator, idem: Idempotent
) -> schemas.AccreditationRead:
    async def effect(session: AsyncSession) -> schemas.AccreditationRead:
        row = await verifiers.accredit(
            session,
            organisation_id=body.organisation_id,
            scope=body.scope,
            valid_from=body.valid_from,
            valid_until=body.valid_until,
            actor=principal.actor,
        )
        return schemas.AccreditationRead.model_validate(row)

    return await idem.run(effect, status_code=201)  # type: ignore[return-value]


@router.post(
    "/verifier-accreditations/{accreditation_id}/revocation",
    summary="Revoke an accreditation (operator)",
    responses=WRITE_PROBLEMS,
)
async def revoke_accreditation(
    accreditation_id: uuid.UUID, body: schemas.RevocationIn, principal: Operator, idem: Idempotent
) -> schemas.AccreditationRead:
    async def effect(session: AsyncSession) -> schemas.AccreditationRead:
        row = await verifiers.revoke(session, accreditation_id, body.reason, principal.actor)
        return schemas.AccreditationRead.model_validate(row)

    return await idem.run(effect)  # type: ignore[return-value]


@router.get(
    "/verifier-accreditations",
    summary="Accreditations: all for the operator, its own for a verifier",
    responses=problem_responses(400, 401),
)
async def list_accreditations(principal: Caller, session: ReadSession, page: Pages) -> Page[schemas.AccreditationRead]:
    after = page.after_as(uuid.UUID)
    rows = await verifiers.list_accreditations(
        session,
        organisation_id=None if principal.role is Role.OPERATOR else principal.organisation_id,
        after=after[0] if after else None,
        limit=page.limit + 1,
    )
    items = [schemas.AccreditationRead.model_validate(row) for row in rows]
    return make_page(items, page.limit, lambda item: (str(item.id),))


# --- projects -------------------------------------------------------------------------------------------------------


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

    return await idem.run(effect, status_code=201)  # type: ignore[return-value]


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

    return await idem.run(effect, status_code=201)  # type: ignore[return-value]


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
async def remove_parcel(project_id: ProjectId, parcel_id: uuid.UUID, principal: Owner, state: State) -> None:
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

    return await idem.run(effect)  # type: ignore[return-value]


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

    return await idem.run(effect)  # type: ignore[return-value]


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

    return await idem.run(effect)  # type: ignore[return-value]


# --- monitoring, verification, issuance, reversal -------------------------------------------------------------------


@router.post(
    "/projects/{project_id}/monitoring-reports",
    status_code=201,
    summary="File the next monitoring report, or resubmit after corrections (owner)",
    responses=WRITE_PROBLEMS,
)
async def file_report(
    project_id: ProjectId, body: schemas.ReportIn, principal: Owner, idem: Idempotent
) -> schemas.ReportRead:
    spec = monitoring.NewReport(
        period_start=body.period_start,
        period_end=body.period_end,
        measurements=tuple(
            monitoring.Measurement(m.parcel_id, m.volume_start_m3_per_mu, m.volume_end_m3_per_mu)
            for m in body.measurements
        ),
        shrub_change=body.shrub_change,
        burning_emissions=body.burning_emissions,
        baseline_change=body.baseline_change,
        leakage=body.leakage,
        sampling_precision=body.sampling_precision,
        verifier_id=body.verifier_id,
    )

    async def effect(session: AsyncSession) -> schemas.ReportRead:
        return schemas.ReportRead.model_validate(await monitoring.file_report(session, principal, project_id, spec))

    return await idem.run(effect, status_code=201)  # type: ignore[return-value]


@router.get(
    "/projects/{project_id}/monitoring-reports",
    summary="A project's monitoring reports",
    responses=problem_responses(400, 401, 404),
)
async def list_reports(
    project_id: ProjectId, principal: Caller, session: ReadSession, page: Pages
) -> Page[schemas.ReportRead]:
    await access.load_project(session, project_id, principal)
    after = page.after_as(int)
    rows = await monitoring.reports_of(session, project_id, after=after[0] if after else None, limit=page.limit + 1)
    items = [schemas.ReportRead.model_validate(row) for row in rows]
    return make_page(items, page.limit, lambda item: (item.number,))


@router.post(
    "/monitoring-reports/{report_id}/verification",
    status_code=201,
    summary="Verify a monitoring report, or request corrections with reasons (its verifier)",
    responses=WRITE_PROBLEMS,
)
async def verify_report(
    report_id: ReportId, body: schemas.DecisionIn, principal: Verifier, idem: Idempotent
) -> schemas.StatementRead:
    async def effect(session: AsyncSession) -> schemas.StatementRead:
        statement = await monitoring.verify(
            session, principal, report_id, approve=body.decision == "approve", reasons=body.reasons
        )
        return schemas.StatementRead.model_validate(statement)

    return await idem.run(effect, status_code=201)  # type: ignore[return-value]


@router.post(
    "/monitoring-reports/{report_id}/issuance",
    status_code=201,
    summary="Approve issuance of a verified report: credits to the owner, the buffer share to the pool (operator)",
    responses=WRITE_PROBLEMS,
)
async def approve_issuance(report_id: ReportId, principal: Operator, idem: Idempotent) -> schemas.IssuanceRead:
    async def effect(session: AsyncSession) -> schemas.IssuanceRead:
        row = await issuance.approve_issuance(session, principal, report_id)
        project = await access.load_project(session, row.project_id, principal)
        return schemas.IssuanceRead.of(row, project, with_record=True)

    return await idem.run(effect, status_code=201)  # type: ignore[return-value]


@router.post(
    "/projects/{project_id}/reversals",
    status_code=201,
    summary="Record a loss event; the same tonnes are cancelled from the buffer pool (operator)",
    responses=WRITE_PROBLEMS,
)
async def record_reversal(
    project_id: ProjectId, body: schemas.ReversalIn, principal: Operator, idem: Idempotent
) -> schemas.ReversalRead:
    async def effect(session: AsyncSession) -> schemas.ReversalRead:
        row = await issuance.record_reversal(
            session,
            principal,
            project_id,
            event_type=body.event_type,
            occurred_on=body.occurred_on,
            tonnes_lost=body.tonnes_lost,
            description=body.description,
        )
        return schemas.ReversalRead.model_validate(row)

    return await idem.run(effect, status_code=201)  # type: ignore[return-value]


# --- credits --------------------------------------------------------------------------------------------------------


@router.get("/holdings", summary="The caller's credit holdings with serial ranges", responses=problem_responses(401))
async def list_holdings(principal: Caller, session: ReadSession) -> list[schemas.HoldingRead]:
    rows = await credits.holdings(session, principal.organisation_id)
    return [
        schemas.HoldingRead(
            asset_code=asset.code, purpose=account.purpose, balance=account.balance, serial_ranges=ranges
        )
        for asset, account, ranges in rows
    ]


@router.post("/transfers", status_code=201, summary="Transfer credits to another holder", responses=WRITE_PROBLEMS)
async def transfer_credits(body: schemas.TransferIn, principal: Holder, idem: Idempotent) -> schemas.TransferRead:
    async def effect(session: AsyncSession) -> schemas.TransferRead:
        transfer_id, serials = await credits.transfer(
            session, principal, asset_code=body.asset_code, quantity=body.quantity, recipient_id=body.recipient_id
        )
        return schemas.TransferRead(
            transfer_id=transfer_id,
            asset_code=body.asset_code,
            quantity=body.quantity,
            recipient_id=body.recipient_id,
            serials=serials,
        )

    return await idem.run(effect, status_code=201)  # type: ignore[return-value]


@router.post("/retirements", status_code=201, summary="Retire credits (final)", responses=WRITE_PROBLEMS)
async def retire_credits(
    body: schemas.RetirementIn, principal: Holder, idem: Idempotent, state: State
) -> schemas.RetirementRead:
    async def effect(session: AsyncSession) -> schemas.RetirementRead:
        row = await credits.retire(
            session,
            principal,
            asset_code=body.asset_code,
            quantity=body.quantity,
            beneficiary=body.beneficiary,
            purpose=body.purpose,
            claim_start=body.claim_start,
            claim_end=body.claim_end,
        )
        retirement, project = await credits.get_retirement(session, row.number)
        return schemas.RetirementRead.of(retirement, project, state.settings.public_base_url)

    return await idem.run(effect, status_code=201)  # type: ignore[return-value]


@router.post("/cancellations", status_code=201, summary="Cancel credits (final)", responses=WRITE_PROBLEMS)
async def cancel_credits(body: schemas.CancellationIn, principal: Holder, idem: Idempotent) -> schemas.CancellationRead:
    async def effect(session: AsyncSession) -> schemas.CancellationRead:
        row = await credits.cancel(
            session, principal, asset_code=body.asset_code, quantity=body.quantity, reason=body.reason
        )
        return schemas.CancellationRead.of(row)

    return await idem.run(effect, status_code=201)  # type: ignore[return-value]


@router.get(
    "/issuances/{issuance_id}",
    summary="One issuance with its calculation record",
    responses=problem_responses(401, 404),
)
async def get_issuance(issuance_id: uuid.UUID, principal: Caller, session: ReadSession) -> schemas.IssuanceRead:
    row = await issuance.get_issuance(session, issuance_id)
    try:
        project = await access.load_project(session, row.project_id, principal)
    except NotFound:
        raise NotFound(f"no issuance {issuance_id}", code="issuance_not_found") from None
    return schemas.IssuanceRead.of(row, project, with_record=True)
