"""The demo walk-through (``bashan registry demo``) on inventory sub-compartments, then the ledger auditor."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from domain.identity.roles import Role
from services import ledger
from services.config import Settings
from services.registry import walkthrough
from tests.conftest import MemberFactory


async def test_walk_from_inventory_to_retirement(
    sessions: async_sessionmaker[AsyncSession], make_member: MemberFactory, settings: Settings
) -> None:
    names = {role: f"walk {role.value}" for role in (Role.OPERATOR, Role.VERIFIER, Role.PROJECT_OWNER, Role.ENTERPRISE)}
    for role, name in names.items():
        await make_member(role, name=name)
    async with sessions() as session, session.begin():
        await session.execute(
            text(
                "INSERT INTO inventory_sub_compartment (subcompartment_id, district_code, township, village, species, "
                "age_years, area_mu, volume_m3_per_mu) VALUES "
                "('NJ-01-001-001', 'NJ', '光雾山镇', '桃园村', 'oak', 25, 100, 5.0), "
                "('NJ-01-001-002', 'NJ', '光雾山镇', '桃园村', 'chinese_fir', 18, 50, 4.0), "
                "('TJ-01-001-001', 'TJ', '沙溪镇', '青林村', 'oak', 25, 100, 5.0)"
            )
        )
    cast = await walkthrough.find_cast(sessions, names)
    result = await walkthrough.walk(sessions, settings, cast)
    assert (result.project_code, result.parcels, result.area_mu) == ("BZ-NJ-0001", 2, Decimal(150))
    # Growth 18 %: oak 100 mu x 0.9 m3 x 2.169... + fir 50 mu x 0.72 m3 x 1.19...: about 238 t CO2e, 10 % buffered.
    assert result.issued + result.buffer in range(230, 240)
    assert result.buffer == round((result.issued + result.buffer) / 10)
    assert result.transferred == result.issued // 3
    assert result.certificate_pdf.startswith(b"%PDF-")
    # A second walk takes no parcel twice: only the fallback sub-compartments are left in Nanjiang.
    again = await walkthrough.walk(sessions, settings, cast)
    assert again.project_code == "BZ-NJ-0002"
    async with sessions() as session, session.begin():
        await session.execute(text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ"))
        report = await ledger.audit(session)
    assert report.ok, report.problems
    assert report.transfers == 8
    # Issuance, transfer and retirement choose time-ordered ids: each is version 7, and later ones sort later.
    async with sessions() as session:
        ids = (await session.execute(text("SELECT id FROM transfer ORDER BY seq"))).scalars().all()
    assert [identifier.version for identifier in ids] == [7] * 8
    assert ids == sorted(ids)
