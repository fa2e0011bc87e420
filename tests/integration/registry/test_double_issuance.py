"""No double issuance: the database refuses it, also when two approvals race on separate connections."""

from __future__ import annotations

import asyncio
import uuid

import httpx
import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services import ledger
from services.db import sqlstate
from services.ledger.tables import Account, Asset
from services.registry.tables import CreditedPeriod, IssuanceRow
from tests.conftest import MemberFactory
from tests.integration.registry.builders import (
    API,
    cast,
    draft_project,
    issued_project,
    key,
    ok,
    parcel_body,
    post,
    registered_project,
    report_body,
    seeded,
    verified_report,
)

__all__ = ["seeded"]


async def _balances(sessions: async_sessionmaker[AsyncSession]) -> dict[tuple[str, str], int]:
    async with sessions() as session:
        rows = await session.execute(
            select(Asset.code, Account.purpose, Account.credits_posted - Account.debits_posted).join(
                Asset, Asset.id == Account.asset_id
            )
        )
        return {(code, purpose): int(balance) for code, purpose, balance in rows}


async def _audit_ok(sessions: async_sessionmaker[AsyncSession]) -> None:
    async with sessions() as session, session.begin():
        await session.execute(text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ"))
        report = await ledger.audit(session)
    assert report.ok, report.problems


async def test_two_concurrent_approvals_of_one_report_issue_once(
    client: httpx.AsyncClient, make_member: MemberFactory, sessions: async_sessionmaker[AsyncSession], seeded: None
) -> None:
    people = await cast(client, make_member)
    project, parcels = await registered_project(client, people)
    report = await verified_report(client, people, project, parcels)
    path = f"{API}/monitoring-reports/{report['id']}/issuance"
    first, second = await asyncio.gather(
        client.post(path, json={}, headers=people.operator.headers | key()),
        client.post(path, json={}, headers=people.operator.headers | key()),
    )
    statuses = sorted([first.status_code, second.status_code])
    assert statuses == [201, 409], (first.text, second.text)
    loser = first if first.status_code == 409 else second
    assert loser.headers["content-type"] == "application/problem+json"
    assert loser.json()["code"] in {"already_issued", "invalid_state"}
    asset = f"BSC-{project['code']}-2025"
    balances = await _balances(sessions)
    assert balances[(asset, "available")] == 3023
    assert balances[(asset, "buffer")] == 336
    assert balances[(asset, "issuance")] == -3359
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(IssuanceRow)) == 1
        assert await session.scalar(select(func.count()).select_from(CreditedPeriod)) == 1
    await _audit_ok(sessions)


async def _parcel_moved_to_second_project(
    client: httpx.AsyncClient, people: object, sessions: async_sessionmaker[AsyncSession]
) -> tuple[dict[str, object], dict[str, object], dict[str, object], dict[str, object]]:
    """Project A's parcel, verified for 2016-2025 but not issued, leaves A (a tenure change, done in SQL: the API has
    no such step) and joins project B, which is verified for an overlapping period: the last line of defence is the
    credited-period trigger."""
    project_a, parcels_a = await registered_project(client, people)  # type: ignore[arg-type]
    report_a = await verified_report(client, people, project_a, parcels_a)  # type: ignore[arg-type]
    async with sessions() as session, session.begin():
        await session.execute(text("UPDATE parcel SET active = false WHERE id = :id"), {"id": parcels_a[0]["id"]})
    project_b, parcels_b = await registered_project(client, people)  # type: ignore[arg-type]
    assert parcels_b[0]["parcel_key"] == parcels_a[0]["parcel_key"]
    report_b = await verified_report(
        client,
        people,  # type: ignore[arg-type]
        project_b,
        parcels_b,
        start="2020-01-01",
        end="2029-12-31",
    )
    return project_a, report_a, project_b, report_b


async def test_two_projects_racing_for_one_parcel_period_one_wins(
    client: httpx.AsyncClient, make_member: MemberFactory, sessions: async_sessionmaker[AsyncSession], seeded: None
) -> None:
    people = await cast(client, make_member)
    project_a, report_a, project_b, report_b = await _parcel_moved_to_second_project(client, people, sessions)
    responses = await asyncio.gather(
        client.post(f"{API}/monitoring-reports/{report_a['id']}/issuance", json={}, headers=people.operator.headers),
        client.post(f"{API}/monitoring-reports/{report_b['id']}/issuance", json={}, headers=people.operator.headers),
    )
    assert sorted(r.status_code for r in responses) == [201, 409], [r.text for r in responses]
    loser = next(r for r in responses if r.status_code == 409).json()
    assert loser["code"] == "period_already_credited"
    assert "already credited" in loser["detail"]
    winner = next(r for r in responses if r.status_code == 201).json()
    balances = await _balances(sessions)
    issued_assets = {code for (code, purpose) in balances if purpose == "available"}
    assert issued_assets == {winner["asset_code"]}
    assert balances[(winner["asset_code"], "available")] == winner["issued_tonnes"]
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(IssuanceRow)) == 1
    await _audit_ok(sessions)
    assert {project_a["code"], project_b["code"]} == {"BZ-NJ-0001", "BZ-NJ-0002"}


async def test_trigger_refuses_an_overlapping_credited_period_inserted_directly(
    client: httpx.AsyncClient, make_member: MemberFactory, sessions: async_sessionmaker[AsyncSession], seeded: None
) -> None:
    people = await cast(client, make_member)
    _, parcels, issuance = await issued_project(client, people)
    async with sessions() as session:
        with pytest.raises(DBAPIError) as refused:
            async with session.begin():
                await session.execute(
                    text(
                        "INSERT INTO credited_period (parcel_key, parcel_id, issuance_id, period_start, period_end) "
                        "VALUES (:key, :parcel, :issuance, '2025-12-31', '2030-12-31')"
                    ),
                    {"key": parcels[0]["parcel_key"], "parcel": parcels[0]["id"], "issuance": issuance["id"]},
                )
    assert sqlstate(refused.value) == "23P01"
    assert "already credited for 2016-01-01 to 2025-12-31" in str(refused.value)
    # The adjacent period is fine.
    async with sessions() as session, session.begin():
        await session.execute(
            text(
                "INSERT INTO credited_period (parcel_key, parcel_id, issuance_id, period_start, period_end) "
                "VALUES (:key, :parcel, :issuance, '2026-01-01', '2030-12-31')"
            ),
            {"key": parcels[0]["parcel_key"], "parcel": parcels[0]["id"], "issuance": issuance["id"]},
        )


async def test_next_period_overlapping_the_credited_one_is_refused(
    client: httpx.AsyncClient, make_member: MemberFactory, seeded: None
) -> None:
    people = await cast(client, make_member)
    project, parcels, _ = await issued_project(client, people)
    refused = await post(
        client,
        people.owner,
        f"/projects/{project['id']}/monitoring-reports",
        report_body(parcels, start="2025-06-01", end="2030-12-31"),
    )
    assert refused.status_code == 409
    assert refused.json()["code"] == "period_already_credited"
    accepted = await post(
        client,
        people.owner,
        f"/projects/{project['id']}/monitoring-reports",
        report_body(parcels, start="2026-01-01", end="2030-12-31"),
    )
    assert (await ok(accepted, 201))["number"] == 2


async def test_a_parcel_belongs_to_one_active_project(
    client: httpx.AsyncClient, make_member: MemberFactory, sessions: async_sessionmaker[AsyncSession], seeded: None
) -> None:
    people = await cast(client, make_member)
    _, parcels = await draft_project(client, people)
    other, _ = await draft_project(client, people, parcels=0)
    clash = await post(client, people.owner, f"/projects/{other['id']}/parcels", parcel_body(1))
    assert clash.status_code == 409
    assert clash.json()["code"] == "parcel_in_active_project"
    async with sessions() as session, session.begin():
        with pytest.raises(DBAPIError) as refused:
            async with session.begin_nested():
                await session.execute(
                    text(
                        "INSERT INTO parcel (project_id, tenure_number, sub_compartment, area_mu, species, age, "
                        "stock_volume_per_mu, land_use) SELECT :project, tenure_number, sub_compartment, 10, "
                        "'oak', 5, 1, 'bare_land' FROM parcel WHERE id = :parcel"
                    ),
                    {"project": other["id"], "parcel": parcels[0]["id"]},
                )
        assert sqlstate(refused.value) == "23505"
    assert uuid.UUID(parcels[0]["id"])


SQUARE = [[106.70, 32.30], [106.71, 32.30], [106.71, 32.31], [106.70, 32.31], [106.70, 32.30]]


def _polygon(shift_lon: float, shift_lat: float = 0.0) -> dict[str, object]:
    return {"type": "Polygon", "coordinates": [[[lon + shift_lon, lat + shift_lat] for lon, lat in SQUARE]]}


async def test_overlapping_polygons_are_refused_neighbours_are_not(
    client: httpx.AsyncClient, make_member: MemberFactory, seeded: None
) -> None:
    people = await cast(client, make_member)
    first, _ = await draft_project(client, people, parcels=0)
    await ok(
        await post(client, people.owner, f"/projects/{first['id']}/parcels", parcel_body(1, polygon=_polygon(0))), 201
    )
    second, _ = await draft_project(client, people, parcels=0)
    path = f"/projects/{second['id']}/parcels"
    overlapping = await post(client, people.owner, path, parcel_body(2, polygon=_polygon(0.005, 0.005)))
    assert overlapping.status_code == 409
    assert overlapping.json()["code"] == "parcel_polygon_overlap"
    identical = await post(client, people.owner, path, parcel_body(3, polygon=_polygon(0)))
    assert identical.status_code == 409
    neighbour = await post(client, people.owner, path, parcel_body(4, polygon=_polygon(0.01)))
    assert neighbour.status_code == 201, neighbour.text
