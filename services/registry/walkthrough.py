"""The registry's whole path on demo organisations: a Nanjiang forest-management project built from sub-compartments
of the imported inventory, validated, registered, monitored, verified and issued; credits transferred to the demo
enterprise, which retires part of them and gets its certificate. Each step is its own transaction, as through the API.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from domain.errors import NotFound
from domain.identity.roles import ROLE_SCOPES, Role
from domain.registry.eligibility import ProjectType
from domain.registry.methodology import LandUse
from services.config import Settings
from services.db import unit_of_work
from services.identity.service import Principal
from services.identity.tables import Organisation
from services.registry import credits, issuance, monitoring, projects, verifiers
from services.registry.methodologies import seed_default
from services.registry.tables import InventorySubCompartment, Parcel

# Sub-compartments per demo project, and the growth assumed over the five-year monitoring period (default).
PARCELS = 12
GROWTH = Decimal("1.18")
FALLBACK = [
    (f"NJ-DEMO-{n:03d}", "masson_pine" if n % 2 else "chinese_fir", Decimal(80 + n), Decimal("4.5"))
    for n in range(1, 7)
]


@dataclass(frozen=True)
class Cast:
    operator: Principal
    verifier: Principal
    owner: Principal
    enterprise: Principal


@dataclass(frozen=True)
class WalkResult:
    project_code: str
    parcels: int
    area_mu: Decimal
    issued: int
    buffer: int
    serials: str
    transferred: int
    retirement_number: str
    retired: int
    certificate_pdf: bytes


def principal(organisation: Organisation) -> Principal:
    role = Role(organisation.role)
    return Principal(organisation.id, role, frozenset(ROLE_SCOPES[role]))


async def _organisation(session: AsyncSession, role: Role, name: str | None) -> Organisation:
    query = select(Organisation).where(Organisation.role == role.value).order_by(Organisation.created_at).limit(1)
    if name is not None:
        query = select(Organisation).where(Organisation.name == name)
    found = (await session.execute(query)).scalar_one_or_none()
    if found is None:
        raise NotFound(f"no {role.value} organisation {name or ''}: load the demo organisations first")
    return found


async def find_cast(sessions: async_sessionmaker[AsyncSession], names: dict[Role, str] | None = None) -> Cast:
    names = names or {}
    async with sessions() as session:
        cast = [
            principal(await _organisation(session, role, names.get(role)))
            for role in (Role.OPERATOR, Role.VERIFIER, Role.PROJECT_OWNER, Role.ENTERPRISE)
        ]
    return Cast(*cast)


async def _sub_compartments(session: AsyncSession) -> list[tuple[str, str, Decimal, Decimal]]:
    """Unused Nanjiang sub-compartments of the inventory (a rerun takes the next ones), else a small fixed set."""
    used = select(Parcel.sub_compartment)
    rows = (
        await session.execute(
            select(InventorySubCompartment)
            .where(
                InventorySubCompartment.district_code == "NJ",
                InventorySubCompartment.species.in_(["masson_pine", "chinese_fir", "cypress", "oak"]),
                InventorySubCompartment.volume_m3_per_mu > 0,
                InventorySubCompartment.subcompartment_id.not_in(used),
            )
            .order_by(InventorySubCompartment.id)
            .limit(PARCELS)
        )
    ).scalars()
    chosen = [(r.subcompartment_id, r.species, r.area_mu, r.volume_m3_per_mu) for r in rows]
    if chosen:
        return chosen
    fallback = [item for item in FALLBACK if item[0] not in set((await session.execute(used)).scalars())]
    return fallback or [(f"NJ-DEMO-{uuid.uuid4().hex[:8]}", "oak", Decimal(120), Decimal("5"))]


async def walk(sessions: async_sessionmaker[AsyncSession], settings: Settings, people: Cast) -> WalkResult:
    today = date.today()
    async with unit_of_work(sessions) as session:
        await seed_default(session)
        if not await verifiers.is_accredited(session, people.verifier.organisation_id, "CCER-14-001-V01", today):
            await verifiers.accredit(
                session,
                organisation_id=people.verifier.organisation_id,
                scope=verifiers.ALL_FOREST_CARBON,
                valid_from=today.replace(month=1, day=1),
                valid_until=today.replace(year=today.year + 3),
                actor=people.operator.actor,
            )
        chosen = await _sub_compartments(session)
        project = await projects.create_project(
            session,
            people.owner,
            projects.NewProject(
                name="南江县光雾山森林经营碳汇 Guangwushan forest management",
                district="NJ",
                township="光雾山镇",
                village="桃园村",
                project_type=ProjectType.FOREST_MANAGEMENT,
                crediting_start=date(2021, 1, 1),
                crediting_end=date(2050, 12, 31),
                risk_rating="low",
                baseline={"scenario": "继续现有经营 business-as-usual harvesting"},
                methodology_code="CCER-14-001-V01",
            ),
        )
        parcels = []
        for number, (sub_compartment, species, area, volume) in enumerate(chosen, start=1):
            parcels.append(
                await projects.add_parcel(
                    session,
                    people.owner,
                    project.id,
                    projects.NewParcel(
                        tenure_number=f"川(2021)南江县不动产权第{project.code[-4:]}{number:03d}号",
                        sub_compartment=sub_compartment,
                        area_mu=area,
                        species=species,
                        age=20,
                        stock_volume_per_mu=volume,
                        land_use=LandUse.TIMBER_FOREST,
                        years_non_forest=None,
                        land_use_history=[],
                        polygon=None,
                    ),
                )
            )
    async with unit_of_work(sessions) as session:
        await projects.submit(session, people.owner, project.id, people.verifier.organisation_id)
    async with unit_of_work(sessions) as session:
        noticed = await projects.validate(session, people.verifier, project.id, approve=True, reasons=[])
        notice_until = noticed.public_notice_until
    assert notice_until is not None
    async with unit_of_work(sessions) as session:
        # A demo cannot wait out the public notice: it registers on the first day after it, as the operator would.
        await projects.register(
            session, people.operator, project.id, approve=True, reasons=[], today=notice_until + timedelta(days=1)
        )
    measurements = tuple(
        monitoring.Measurement(p.id, p.stock_volume_per_mu, (p.stock_volume_per_mu * GROWTH).quantize(Decimal("0.001")))
        for p in parcels
    )
    async with unit_of_work(sessions) as session:
        report = await monitoring.file_report(
            session,
            people.owner,
            project.id,
            monitoring.NewReport(
                date(2021, 1, 1), date(2025, 12, 31), measurements, sampling_precision=Decimal("0.08")
            ),
        )
    async with unit_of_work(sessions) as session:
        await monitoring.verify(session, people.verifier, report.id, approve=True, reasons=[])
    async with unit_of_work(sessions) as session:
        row = await issuance.approve_issuance(session, people.operator, report.id)
    if row.issued_tonnes == 0:
        raise NotFound(f"project {project.code} issued no credits: its parcels grew too little", code="nothing_issued")
    asset = issuance.asset_code(project.code, row.vintage)
    transferred = max(1, row.issued_tonnes // 3)
    async with unit_of_work(sessions) as session:
        await credits.transfer(
            session,
            people.owner,
            asset_code=asset,
            quantity=transferred,
            recipient_id=people.enterprise.organisation_id,
        )
    retired = max(1, transferred // 2)
    async with unit_of_work(sessions) as session:
        retirement = await credits.retire(
            session,
            people.enterprise,
            asset_code=asset,
            quantity=retired,
            beneficiary="巴中绿色建材有限公司 Bazhong Green Materials",
            purpose="2025 年度碳中和 Carbon neutrality 2025",
            claim_start=date(2025, 1, 1),
            claim_end=date(2025, 12, 31),
        )
    async with sessions() as session:
        stored, stored_project = await credits.get_retirement(session, retirement.number)
    return WalkResult(
        project_code=project.code,
        parcels=len(parcels),
        area_mu=sum((p.area_mu for p in parcels), Decimal(0)),
        issued=row.issued_tonnes,
        buffer=row.buffer_tonnes,
        serials=credits.blocks(project.code, row.vintage, [[row.serial_first or 0, row.serial_last or 0]])[0],
        transferred=transferred,
        retirement_number=retirement.number,
        retired=retired,
        certificate_pdf=credits.certificate_pdf(stored, stored_project, settings),
    )
