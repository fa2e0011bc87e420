"""Public, login-free reads of the registry, rate-limited per client address: methodology versions, projects past
validation, issuances with their calculation records (and a recomputation check), retirements with certificates,
serial lookup and the city's carbon stock report with its chart."""

from __future__ import annotations

import uuid
from datetime import datetime
from html import escape
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from pydantic import BaseModel

from api.deps import ReadSession, State
from api.pagination import Page, PageParams, cursor_integer, make_page, page_params
from api.problems import problem_responses
from api.ratelimit import limit_per_minute, public_limit
from api.routers import registry_credit_schemas as credit_schemas
from api.routers import registry_issuance_schemas as issuance_schemas
from api.routers import registry_project_schemas as project_schemas
from api.routers import registry_schemas as schemas
from domain.errors import NotFound
from domain.registry.carbon import co2e_from_carbon
from domain.registry.records import canonical_decimal as plain
from services.registry import access, credits, inventory, issuance, methodologies, projects

router = APIRouter(
    prefix="/v1/public",
    tags=["public"],
    dependencies=[Depends(limit_per_minute("public", public_limit))],
    responses=problem_responses(429),
)
Pages = Annotated[PageParams, Depends(page_params)]
READ_PROBLEMS = problem_responses(400, 404)


@router.get(
    "/methodologies",
    summary="Published methodology versions with their status (active, superseded, withdrawn); drafts are not public",
    responses=READ_PROBLEMS,
)
async def list_methodologies(
    session: ReadSession,
    page: Pages,
    status: Annotated[Literal["active", "superseded", "withdrawn"] | None, Query()] = None,
) -> Page[schemas.MethodologyRead]:
    after = page.after_as(cursor_integer)  # an integer column
    rows = await methodologies.list_versions(
        session, after=after[0] if after else None, limit=page.limit + 1, status=status
    )
    items = [schemas.MethodologyRead.model_validate(row) for row in rows]
    return make_page(items, page.limit, lambda item: (item.id,))


@router.get("/methodologies/{code}/{version}", summary="One methodology version", responses=READ_PROBLEMS)
async def get_methodology(
    code: Annotated[str, Path(max_length=40)], version: Annotated[int, Path(ge=1, le=1_000_000)], session: ReadSession
) -> schemas.MethodologyRead:
    row = await methodologies.get_version(session, code, version)
    if row.status == "draft":
        raise NotFound(f"no methodology {code} version {version}", code="methodology_not_found")
    return schemas.MethodologyRead.model_validate(row)


@router.get("/projects", summary="Projects in public notice or later", responses=READ_PROBLEMS)
async def list_projects(session: ReadSession, page: Pages) -> Page[project_schemas.ProjectRead]:
    after = page.after_as(str)
    rows = await projects.list_projects(session, None, after=after[0] if after else None, limit=page.limit + 1)
    items = [project_schemas.ProjectRead.model_validate(row) for row in rows]
    return make_page(items, page.limit, lambda item: (item.code,))


@router.get("/projects/{project_id}", summary="One public project", responses=READ_PROBLEMS)
async def get_project(project_id: uuid.UUID, session: ReadSession) -> project_schemas.ProjectRead:
    return project_schemas.ProjectRead.model_validate(await access.load_project(session, project_id, None))


@router.get("/issuances", summary="Issuances, oldest first", responses=READ_PROBLEMS)
async def list_issuances(
    session: ReadSession,
    page: Pages,
    project_code: Annotated[str | None, Query(max_length=20, pattern=r"^BZ-[A-Z]{2}-\d{4}$")] = None,
) -> Page[issuance_schemas.IssuanceRead]:
    after = page.after_as(datetime.fromisoformat, uuid.UUID)
    rows = await issuance.list_issuances(
        session,
        project_code=project_code,
        after=(after[0], after[1]) if after else None,
        limit=page.limit + 1,
    )
    items = [issuance_schemas.IssuanceRead.of(row, project) for row, project in rows]
    return make_page(items, page.limit, lambda item: (item.created_at.isoformat(), str(item.id)))


async def _issuance(session: ReadSession, issuance_id: uuid.UUID) -> issuance_schemas.IssuanceRead:
    row = await issuance.get_issuance(session, issuance_id)
    project = await access.load_project(session, row.project_id, None)
    return issuance_schemas.IssuanceRead.of(row, project, with_record=True)


@router.get("/issuances/{issuance_id}", summary="One issuance with its calculation record", responses=READ_PROBLEMS)
async def get_issuance(issuance_id: uuid.UUID, session: ReadSession) -> issuance_schemas.IssuanceRead:
    return await _issuance(session, issuance_id)


@router.get(
    "/issuances/{issuance_id}/recompute",
    summary="Recompute the issuance's calculation record and say whether it matches",
    responses=READ_PROBLEMS,
)
async def recompute_issuance(issuance_id: uuid.UUID, session: ReadSession) -> issuance_schemas.RecomputeRead:
    row = await issuance.get_issuance(session, issuance_id)
    hash_matches, recomputed = issuance.recompute(row)
    return issuance_schemas.RecomputeRead(
        issuance_id=row.id, sha256=row.calculation_sha256, hash_matches=hash_matches, recomputed_matches=recomputed
    )


@router.get("/retirements", summary="Retirements, oldest first", responses=READ_PROBLEMS)
async def list_retirements(session: ReadSession, page: Pages, state: State) -> Page[credit_schemas.RetirementRead]:
    after = page.after_as(datetime.fromisoformat, uuid.UUID)
    rows = await credits.list_retirements(session, after=(after[0], after[1]) if after else None, limit=page.limit + 1)
    base = state.settings.public_base_url
    items = [credit_schemas.RetirementRead.of(row, project, base) for row, project in rows]
    return make_page(items, page.limit, lambda item: (item.created_at.isoformat(), str(item.id)))


@router.get(
    "/retirements/{number}",
    summary="Verify a retirement: serial ranges, beneficiary, project and vintage (HTML for browsers)",
    response_model=credit_schemas.RetirementRead,
    responses={200: {"content": {"text/html": {}}}, **READ_PROBLEMS},
)
async def get_retirement(number: str, session: ReadSession, state: State, request: Request) -> Response:
    row, project = await credits.get_retirement(session, number)
    read = credit_schemas.RetirementRead.of(row, project, state.settings.public_base_url)
    # The certificate's QR code leads a phone's browser here: people get a page, programs get JSON.
    if "text/html" in request.headers.get("accept", ""):
        return HTMLResponse(_verification_page(read))
    return JSONResponse(read.model_dump(mode="json"))


def _verification_page(read: credit_schemas.RetirementRead) -> str:
    rows = [
        ("证书编号 Certificate", read.number),
        ("受益方 Beneficiary", read.beneficiary),
        ("用途 Purpose", read.purpose),
        ("声明期间 Claim period", f"{read.claim_start} – {read.claim_end}"),
        ("项目 Project", f"{read.project_code} {read.project_name}"),
        ("年份 Vintage", str(read.vintage)),
        ("数量 Quantity", f"{read.quantity:,} t CO2e"),
        ("注销时间 Retired at", read.created_at.isoformat(timespec="seconds")),
    ]
    cells = "".join(f"<tr><th>{escape(k)}</th><td>{escape(v)}</td></tr>" for k, v in rows)
    serials = "".join(f"<li><code>{escape(block)}</code></li>" for block in read.serials)
    return (
        '<!doctype html><html lang="zh"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f'<title>{escape(read.number)}</title></head><body style="font-family:sans-serif;max-width:46rem;margin:auto">'
        "<h1>碳信用注销证明 · Retirement verified</h1>"
        "<p>This retirement is on record in the Bashan Exchange registry; its credits can never be used again.</p>"
        f"<table>{cells}</table><h2>序列号 Serial ranges</h2><ul>{serials}</ul>"
        f'<p><a href="{escape(read.certificate_url)}">证书 PDF certificate</a></p></body></html>'
    )


@router.get(
    "/retirements/{number}/certificate.pdf",
    summary="The retirement certificate (PDF, Chinese and English, QR code to the verification page)",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}}, **READ_PROBLEMS},
)
async def retirement_certificate(number: str, session: ReadSession, state: State) -> Response:
    row, project = await credits.get_retirement(session, number)
    pdf = credits.certificate_pdf(row, project, state.settings)
    headers = {"Content-Disposition": f'inline; filename="{row.number}.pdf"'}
    return Response(pdf, media_type="application/pdf", headers=headers)


@router.get("/serials/{block}", summary="Where a serial is now and its history", responses=READ_PROBLEMS)
async def lookup_serial(block: str, session: ReadSession) -> credit_schemas.SerialRead:
    found = await credits.lookup(session, block)
    return credit_schemas.SerialRead(
        block=found.block,
        asset_code=found.asset_code,
        serial=found.serial,
        state=found.state,
        retirement_number=found.retirement_number,
        history=found.history,
    )


class StockLineRead(BaseModel):
    district_code: str
    district: str
    species: str
    sub_compartments: int
    area_mu: str
    carbon_t_c: str
    co2e_t: str


class StockTotalRead(BaseModel):
    name: str
    carbon_t_c: str
    co2e_t: str


class StockReportRead(BaseModel):
    methodology: dict[str, object]
    total_area_mu: str
    total_carbon_t_c: str
    total_co2e_t: str
    by_district: list[StockTotalRead]
    by_species: list[StockTotalRead]
    lines: list[StockLineRead]


async def _report(session: ReadSession, code: str, version: int | None) -> inventory.StockReport:
    if version is None:
        row = await methodologies.active_version(session, code)
    else:
        row = await methodologies.get_version(session, code, version)
    return await inventory.stock_report(session, methodologies.to_domain(row))


MethodologyCode = Annotated[str, Query(max_length=40)]
MethodologyVersion = Annotated[int | None, Query(ge=1, le=1_000_000)]  # as the path's version


@router.get(
    "/inventory/carbon-stock",
    summary="Carbon stock of the imported inventory by district and species (t C and t CO2e)",
    responses=READ_PROBLEMS,
)
async def carbon_stock(
    session: ReadSession, methodology: MethodologyCode = "CCER-14-001-V01", version: MethodologyVersion = None
) -> StockReportRead:
    report = await _report(session, methodology, version)
    total = report.total_carbon_t_c
    return StockReportRead(
        methodology=report.methodology,
        total_area_mu=plain(report.total_area_mu),
        total_carbon_t_c=plain(total),
        total_co2e_t=plain(co2e_from_carbon(total)),
        by_district=[
            StockTotalRead(name=name, carbon_t_c=plain(c), co2e_t=plain(e))
            for name, (c, e) in report.totals_by(lambda row: row.district_code).items()
        ],
        by_species=[
            StockTotalRead(name=name, carbon_t_c=plain(c), co2e_t=plain(e))
            for name, (c, e) in report.totals_by(lambda row: row.species).items()
        ],
        lines=[
            StockLineRead(
                district_code=row.district_code,
                district=row.district,
                species=row.species,
                sub_compartments=row.sub_compartments,
                area_mu=plain(row.area_mu),
                carbon_t_c=plain(row.carbon_t_c),
                co2e_t=plain(row.co2e_t),
            )
            for row in report.rows
        ],
    )


@router.get(
    "/inventory/carbon-stock.svg",
    summary="Chart of the carbon stock by district and species (SVG)",
    response_class=Response,
    responses={200: {"content": {"image/svg+xml": {}}}, **READ_PROBLEMS},
)
async def carbon_stock_chart(
    session: ReadSession, methodology: MethodologyCode = "CCER-14-001-V01", version: MethodologyVersion = None
) -> Response:
    report = await _report(session, methodology, version)
    if not report.rows:
        raise NotFound("the inventory is empty: import sub-compartments first", code="inventory_empty")
    return Response(inventory.stock_chart_svg(report), media_type="image/svg+xml")
