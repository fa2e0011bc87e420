"""The Bashan eco-label over HTTP.

Operator (registry:operate): criteria versions, certifier accreditations, recognised schemes. Producer
(labels:produce): applications, rectifications, withdrawals, lots. Certifier (labels:certify): the assessment,
decisions, certificates, surveillance, suspensions, code batches and their exports, counterfeit flags. Anyone, without
login and rate-limited: ``GET /v1/public/labels/{code}``. Another organisation's certifications, batches, lots and
codes answer 404.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

from api.deps import Caller, Operator, ReadSession, State, requires
from api.idempotency import Idempotent
from api.pagination import BIGINT_MAX, INTEGER_MAX, Page, PageParams, make_page, page_params
from api.problems import problem_responses
from api.ratelimit import limit_per_minute, public_limit
from api.routers.labels_schemas import (
    AccreditationCreate,
    AccreditationRead,
    AccreditationWithdraw,
    ApplicationCreate,
    BatchCreate,
    BatchRead,
    CertificationDetail,
    CertificationRead,
    CriteriaVersionCreate,
    CriteriaVersionRead,
    FindingRead,
    FlagClear,
    FlagRead,
    LabResultRead,
    LotCreate,
    LotRead,
    PublicVerification,
    RecognitionCreate,
    RecognitionRead,
    SchemeRead,
    TransitionCreate,
    TransitionRead,
    TransitionResult,
)
from domain.errors import Forbidden
from domain.identity.roles import Role, Scope
from domain.labels.lots import LotStatus
from domain.labels.states import local_date
from services.identity.service import Principal
from services.labels import accreditations, certifications, codes, lots, schemes
from services.labels.schemes import criterion_to_json
from services.labels.tables import CertificationRow, ProductLotRow
from services.labels.verification import forget_cached_schemes, verify_code

router = APIRouter(prefix="/v1/labels", tags=["labels"])
public_router = APIRouter(prefix="/v1/public/labels", tags=["labels", "public"])
Certifier = Annotated[Principal, requires(Scope.LABELS_CERTIFY)]
Producer = Annotated[Principal, requires(Scope.LABELS_PRODUCE)]
Pages = Annotated[PageParams, Depends(page_params)]
CertificationId = Annotated[uuid.UUID, Path()]
# label_code_batch.id is a bigint: a number past its range is malformed (422); an unknown one in range is 404.
BatchId = Annotated[int, Path(ge=-BIGINT_MAX - 1, le=BIGINT_MAX)]
_SCOPE_OF_ROLE = {Role.CERTIFIER: Scope.LABELS_CERTIFY, Role.OPERATOR: Scope.REGISTRY_OPERATE}


def _now() -> datetime:
    return datetime.now(UTC)


def _lot_read(row: ProductLotRow, status: LotStatus) -> LotRead:
    return LotRead(
        id=row.id,
        certification_id=row.certification_id,
        producer_id=row.producer_id,
        quantity=row.quantity,
        unit=row.unit,
        harvest_date=row.harvest_date,
        registered_at=row.registered_at,
        tradable=status.tradable,
        frozen=not status.tradable,
        status=status.reason,
        asset_code=lots.asset_code(row.id),
    )


@router.get("/schemes", summary="Label schemes with their criteria versions", responses=problem_responses(401))
async def list_schemes(principal: Caller, session: ReadSession) -> list[SchemeRead]:
    return [
        SchemeRead(
            code=scheme.code,
            name=scheme.name,
            certificate_validity_months=scheme.certificate_validity_months,
            surveillance_interval_months=scheme.surveillance_interval_months,
            surveillance_grace_days=scheme.surveillance_grace_days,
            renewal_window_days=scheme.renewal_window_days,
            criteria=[
                CriteriaVersionRead(
                    category=v.category,
                    version=v.version,
                    effective_from=v.effective_from,
                    criteria=[criterion_to_json(c) for c in v.criteria],
                )
                for v in scheme.criteria
            ],
        )
        for scheme in await schemes.list_schemes(session)
    ]


@router.post(
    "/schemes/{code}/criteria",
    status_code=201,
    summary="Add a criteria version for a category (operator)",
    responses=problem_responses(401, 403, 404, 409, 422),
)
async def add_criteria(
    code: Annotated[str, Path(pattern=r"^[A-Z][A-Z0-9-]{1,31}$")],
    body: CriteriaVersionCreate,
    principal: Operator,
    idem: Idempotent,
) -> CriteriaVersionRead:
    async def effect(session: AsyncSession) -> CriteriaVersionRead:
        criteria = [criterion.to_domain() for criterion in body.criteria]
        v = await schemes.add_criteria_version(session, code, body.category, body.effective_from, criteria)
        return CriteriaVersionRead(
            category=v.category,
            version=v.version,
            effective_from=v.effective_from,
            criteria=[criterion_to_json(c) for c in v.criteria],
        )

    response = await idem.run(effect, status_code=201)
    forget_cached_schemes()
    return response


@router.post(
    "/accreditations",
    status_code=201,
    summary="Accredit a certifier for product categories (operator)",
    responses=problem_responses(401, 403, 404, 409, 422),
)
async def accredit(body: AccreditationCreate, principal: Operator, idem: Idempotent) -> AccreditationRead:
    async def effect(session: AsyncSession) -> AccreditationRead:
        row = await accreditations.accredit(
            session,
            scheme_code=body.scheme,
            certifier_id=body.certifier_id,
            categories=body.categories,
            valid_from=body.valid_from,
            valid_until=body.valid_until,
            label_number=body.label_number,
            actor=principal.actor,
        )
        return AccreditationRead.model_validate(row)

    return await idem.run(effect, status_code=201)


@router.get("/accreditations", summary="Accreditations (all for the operator, a certifier's own)")
async def list_accreditations(principal: Caller, session: ReadSession) -> list[AccreditationRead]:
    who = None if principal.role is Role.OPERATOR else principal.organisation_id
    return [AccreditationRead.model_validate(row) for row in await accreditations.list_accreditations(session, who)]


@router.post(
    "/accreditations/{accreditation_id}/withdraw",
    summary="Withdraw an accreditation (operator)",
    responses=problem_responses(401, 403, 404, 409, 422),
)
async def withdraw_accreditation(
    accreditation_id: uuid.UUID, body: AccreditationWithdraw, principal: Operator, idem: Idempotent
) -> AccreditationRead:
    async def effect(session: AsyncSession) -> AccreditationRead:
        on = body.on or local_date(_now())
        row = await accreditations.withdraw(session, accreditation_id, on=on, reason=body.reason, actor=principal.actor)
        return AccreditationRead.model_validate(row)

    return await idem.run(effect)


@router.post(
    "/recognitions",
    status_code=201,
    summary="Recognise an equivalent scheme (operator)",
    responses=problem_responses(401, 403, 404, 422),
)
async def recognise(body: RecognitionCreate, principal: Operator, idem: Idempotent) -> RecognitionRead:
    async def effect(session: AsyncSession) -> RecognitionRead:
        row = await accreditations.recognise(
            session,
            scheme_code=body.scheme,
            recognised_scheme=body.recognised_scheme,
            name=body.name,
            categories=body.categories,
            valid_from=body.valid_from,
            valid_until=body.valid_until,
            actor=principal.actor,
        )
        return RecognitionRead.model_validate(row)

    response = await idem.run(effect, status_code=201)
    forget_cached_schemes()  # after the commit: this process shows the recognition at once, others within a minute
    return response


@router.get("/recognitions", summary="Recognised equivalent schemes")
async def list_recognitions(principal: Caller, session: ReadSession) -> list[RecognitionRead]:
    return [RecognitionRead.model_validate(row) for row in await accreditations.recognitions(session)]


@router.post(
    "/certifications",
    status_code=201,
    summary="Apply for certification (producer)",
    responses=problem_responses(401, 403, 404, 422),
)
async def apply(body: ApplicationCreate, principal: Producer, idem: Idempotent) -> CertificationRead:
    foreign = body.foreign_certificate
    application = certifications.Application(
        scheme_code=body.scheme,
        certifier_id=body.certifier_id,
        category=body.category,
        product=body.product,
        production_site=body.production_site,
        district=body.district,
        annual_volume=body.annual_volume,
        volume_unit=body.volume_unit,
        foreign_certificate=(foreign.scheme, foreign.number, foreign.valid_until) if foreign else None,
    )

    async def effect(session: AsyncSession) -> CertificationRead:
        row = await certifications.apply(session, principal, application, _now())
        return CertificationRead.model_validate(row)

    return await idem.run(effect, status_code=201)


@router.get("/certifications", summary="Certifications the caller is party to (all for the operator)")
async def list_certifications(principal: Caller, session: ReadSession, page: Pages) -> Page[CertificationRead]:
    after = page.after_as(datetime.fromisoformat, uuid.UUID)
    rows = await certifications.list_visible(
        session, principal, after=(after[0], after[1]) if after else None, limit=page.limit + 1
    )
    items = [CertificationRead.model_validate(row) for row in rows]
    return make_page(items, page.limit, lambda item: (item.created_at.isoformat(), str(item.id)))


@router.get(
    "/certifications/{certification_id}",
    summary="A certification with its findings and lab results",
    responses=problem_responses(401, 404),
)
async def get_certification(
    certification_id: CertificationId, principal: Caller, session: ReadSession
) -> CertificationDetail:
    row = await certifications.get_visible(session, certification_id, principal)
    findings, results = await certifications.evidence(session, row.id)
    return CertificationDetail.model_validate(
        {
            **CertificationRead.model_validate(row).model_dump(),
            "findings": [FindingRead.model_validate(f) for f in findings],
            "lab_results": [LabResultRead.model_validate(r) for r in results],
        }
    )


@router.post(
    "/certifications/{certification_id}/transitions",
    summary="Perform an event of the certification's state machine",
    description="Who may perform which event, from which state, is the table in domain/labels/states.py. "
    "An illegal transition answers 409 with the events allowed in the current state.",
    responses=problem_responses(401, 403, 404, 409, 422),
)
async def transition(
    certification_id: CertificationId, body: TransitionCreate, principal: Caller, idem: Idempotent
) -> TransitionResult:
    needed = _SCOPE_OF_ROLE.get(principal.role, Scope.LABELS_PRODUCE)
    if needed not in principal.scopes:
        raise Forbidden(f"this action needs scope {needed.value}", code="insufficient_scope", required=[needed.value])
    command = certifications.Command(
        event=body.event,
        reason=body.reason,
        reasons=body.reasons,
        findings=body.findings,
        lab_results=body.lab_results,
        resume_at=body.resume_at,
    )

    async def effect(session: AsyncSession) -> TransitionResult:
        row, made, successor = await certifications.act(session, certification_id, principal, command, _now())
        transitions = await certifications.history(session, row.id)
        return TransitionResult(
            certification=CertificationRead.model_validate(row),
            transitions=[TransitionRead.model_validate(t) for t in transitions[-len(made) :]],
            successor=CertificationRead.model_validate(successor) if successor else None,
        )

    return await idem.run(effect)


@router.get(
    "/certifications/{certification_id}/transitions",
    summary="Every transition: who, when, why",
    responses=problem_responses(401, 404),
)
async def list_transitions(
    certification_id: CertificationId, principal: Caller, session: ReadSession
) -> list[TransitionRead]:
    row = await certifications.get_visible(session, certification_id, principal)
    return [TransitionRead.model_validate(t) for t in await certifications.history(session, row.id)]


@router.post(
    "/certifications/{certification_id}/batches",
    status_code=201,
    summary="Issue a batch of label codes (certifier), within the certified annual volume",
    responses=problem_responses(401, 403, 404, 409, 422),
)
async def issue_batch(
    certification_id: CertificationId, body: BatchCreate, principal: Certifier, idem: Idempotent
) -> BatchRead:
    async def effect(session: AsyncSession) -> BatchRead:
        batch = await codes.issue_batch(session, certification_id, principal, body.quantity, _now())
        return BatchRead.model_validate(batch)

    return await idem.run(effect, status_code=201)


@router.get("/certifications/{certification_id}/batches", responses=problem_responses(401, 404))
async def list_batches(certification_id: CertificationId, principal: Caller, session: ReadSession) -> list[BatchRead]:
    row = await certifications.get_visible(session, certification_id, principal)
    return [BatchRead.model_validate(batch) for batch in await codes.list_batches(session, row.id)]


@router.get("/batches/{batch_id}", summary="A code batch", responses=problem_responses(401, 404))
async def get_batch(batch_id: BatchId, principal: Caller, session: ReadSession) -> BatchRead:
    batch, _ = await codes.get_batch(session, batch_id, principal)
    return BatchRead.model_validate(batch)


@router.get(
    "/batches/{batch_id}/codes.csv",
    summary="The batch's codes as CSV: code, printed form, verification address",
    response_class=Response,
    responses={**problem_responses(401, 404), 200: {"content": {"text/csv": {}}}},
)
async def batch_csv(batch_id: BatchId, principal: Caller, session: ReadSession, state: State) -> Response:
    batch, _ = await codes.get_batch(session, batch_id, principal)
    body = await codes.export_csv(session, batch.id, state.settings.public_base_url)
    disposition = f'attachment; filename="label-codes-batch-{batch.id}.csv"'
    return Response(body, media_type="text/csv", headers={"Content-Disposition": disposition})


@router.get(
    "/batches/{batch_id}/sheet.pdf",
    summary="A printable A4 sheet of QR codes (24 a page) for a slice of the batch",
    response_class=Response,
    responses={**problem_responses(401, 404, 422), 200: {"content": {"application/pdf": {}}}},
)
async def batch_sheet(
    batch_id: BatchId,
    principal: Caller,
    session: ReadSession,
    state: State,
    offset: Annotated[
        int, Query(ge=0, le=INTEGER_MAX, description="codes to skip; a batch's quantity is an integer")
    ] = 0,
    limit: Annotated[int, Query(ge=1, le=codes.MAX_SHEET_CODES)] = 240,
) -> Response:
    batch, certification = await codes.get_batch(session, batch_id, principal)
    pdf = await codes.sheet_pdf(session, batch, certification, state.settings.public_base_url, offset, limit)
    return Response(pdf, media_type="application/pdf")


@router.get(
    "/codes/{code}/qr.svg",
    summary="The QR code of one label code (its verification address)",
    response_class=Response,
    responses={**problem_responses(401, 404, 422), 200: {"content": {"image/svg+xml": {}}}},
)
async def code_qr(
    code: Annotated[str, Path(max_length=64)], principal: Caller, session: ReadSession, state: State
) -> Response:
    svg = await codes.code_qr(session, code, principal, state.settings.public_base_url)
    return Response(svg, media_type="image/svg+xml")


@router.get("/counterfeit-flags", summary="Codes suspected of being copied, on the caller's certificates")
async def list_flags(
    principal: Caller,
    session: ReadSession,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    state: Annotated[codes.FlagState, Query(description="open: not cleared")] = "open",
) -> list[FlagRead]:
    flags = await codes.counterfeit_flags(session, principal, limit, state=state)
    return [FlagRead.model_validate(flag) for flag in flags]


@router.post(
    "/counterfeit-flags/{code}/clear",
    summary="Clear a counterfeit flag after looking into it (the certificate's certifier, or the operator)",
    responses=problem_responses(401, 403, 404, 409, 422),
)
async def clear_flag(
    code: Annotated[str, Path(max_length=64)], body: FlagClear, principal: Caller, idem: Idempotent
) -> FlagRead:
    async def effect(session: AsyncSession) -> FlagRead:
        return FlagRead.model_validate(await codes.clear_counterfeit_flag(session, code, principal, body.note, _now()))

    return await idem.run(effect)


@router.post(
    "/certifications/{certification_id}/lots",
    status_code=201,
    summary="Register a product lot under a live certificate (producer)",
    responses=problem_responses(401, 403, 404, 409, 422),
)
async def register_lot(
    certification_id: CertificationId, body: LotCreate, principal: Producer, idem: Idempotent
) -> LotRead:
    async def effect(session: AsyncSession) -> LotRead:
        row, status = await lots.register(
            session,
            certification_id,
            principal,
            quantity=body.quantity,
            unit=body.unit,
            harvest_date=body.harvest_date,
            now=_now(),
        )
        return _lot_read(row, status)

    return await idem.run(effect, status_code=201)


@router.get("/certifications/{certification_id}/lots", responses=problem_responses(401, 404))
async def list_lots(certification_id: CertificationId, principal: Caller, session: ReadSession) -> list[LotRead]:
    row: CertificationRow = await certifications.get_visible(session, certification_id, principal)
    return [_lot_read(lot, status) for lot, status in await lots.lots_of(session, row)]


@router.get("/lots/{lot_id}", summary="A lot and whether it is frozen", responses=problem_responses(401, 404))
async def get_lot(lot_id: uuid.UUID, principal: Caller, session: ReadSession) -> LotRead:
    row, _, status = await lots.get_lot(session, lot_id, principal)
    return _lot_read(row, status)


@public_router.get(
    "/{code}",
    summary="Verify a label code (no login; rate-limited)",
    description="Genuine and valid or not, with product, producer, certifier, certificate status and validity and "
    "recognised schemes. A mistyped code (check digit) is told apart from an unknown one. Each scan of an issued "
    "code is recorded (with a coarse location when given); codes scanned more than one package explains are "
    "flagged as suspected counterfeits.",
    dependencies=[Depends(limit_per_minute("labels-verify", public_limit))],
    responses={200: {"model": PublicVerification}, **problem_responses(429)},
)
async def verify_public(
    request: Request,
    code: Annotated[str, Path(max_length=64)],
    lat: Annotated[float | None, Query(ge=-90, le=90, description="latitude, rounded to 0.1 degree")] = None,
    lon: Annotated[float | None, Query(ge=-180, le=180, description="longitude, rounded to 0.1 degree")] = None,
) -> Response:
    state = request.app.state.bashan
    found = await verify_code(
        state.engine, state.sessions, code, latitude=lat if lon is not None else None, longitude=lon, now=_now()
    )
    result = found.result
    body: dict[str, object] = {
        "code": found.code,
        "printed": found.printed,
        "verdict": result.verdict.value,
        "genuine": result.genuine,
        "valid": result.verdict.value == "valid",
        "message": result.message,
        "suspected_counterfeit": result.suspected_counterfeit,
        "suspicion_reasons": list(result.suspicion_reasons),
        "scanned_at": found.scanned_at.isoformat() if found.scanned_at else None,
        "recognitions": [],
    }
    if found.facts:
        body.update(found.facts)
    return JSONResponse(body)
