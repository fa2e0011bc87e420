"""Registry routes of monitoring: reports, their verification, issuance, reversals and reading an issuance."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Body
from sqlalchemy.ext.asyncio import AsyncSession

from api.deps import Caller, ReadSession
from api.idempotency import Idempotent
from api.pagination import Page, cursor_integer, make_page
from api.problems import problem_responses
from api.routers import registry_issuance_schemas as schemas
from api.routers.registry_common import WRITE_PROBLEMS, Operator, Owner, Pages, ProjectId, ReportId, Verifier
from api.routers.registry_project_schemas import DecisionIn
from api.routers.registry_schemas import EmptyIn
from domain.errors import NotFound
from services.registry import access, issuance, monitoring

router = APIRouter(tags=["registry"])  # included under /v1/registry by registry.py


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

    return await idem.run(effect, status_code=201)


@router.get(
    "/projects/{project_id}/monitoring-reports",
    summary="A project's monitoring reports",
    responses=problem_responses(400, 401, 404),
)
async def list_reports(
    project_id: ProjectId, principal: Caller, session: ReadSession, page: Pages
) -> Page[schemas.ReportRead]:
    await access.load_project(session, project_id, principal)
    after = page.after_as(cursor_integer)  # an integer column
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
    report_id: ReportId, body: DecisionIn, principal: Verifier, idem: Idempotent
) -> schemas.StatementRead:
    async def effect(session: AsyncSession) -> schemas.StatementRead:
        statement = await monitoring.verify(
            session, principal, report_id, approve=body.decision == "approve", reasons=body.reasons
        )
        return schemas.StatementRead.model_validate(statement)

    return await idem.run(effect, status_code=201)


@router.post(
    "/monitoring-reports/{report_id}/issuance",
    status_code=201,
    summary="Approve issuance of a verified report: credits to the owner, the buffer share to the pool (operator)",
    responses=WRITE_PROBLEMS,
)
async def approve_issuance(
    report_id: ReportId,
    principal: Operator,
    idem: Idempotent,
    body: Annotated[EmptyIn | None, Body()] = None,
) -> schemas.IssuanceRead:
    async def effect(session: AsyncSession) -> schemas.IssuanceRead:
        row = await issuance.approve_issuance(session, principal, report_id)
        project = await access.load_project(session, row.project_id, principal)
        return schemas.IssuanceRead.of(row, project, with_record=True)

    return await idem.run(effect, status_code=201)


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

    return await idem.run(effect, status_code=201)


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
