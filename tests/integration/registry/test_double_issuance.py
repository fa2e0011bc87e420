"""No double issuance: the database refuses it, also when two approvals race on separate connections."""

from __future__ import annotations

import asyncio
import uuid
from datetime import date
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services import ledger
from services.db import sqlstate
from services.ledger.tables import Account, Asset
from services.registry.tables import CreditedPeriod, IssuanceRow, Parcel
from tests.conftest import MemberFactory
from tests.integration.registry.builders import (
    API,
    Cast,
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


async def test_deregistration_racing_an_issuance_and_the_next_project_cannot_credit_the_period_again(
    client: httpx.AsyncClient, make_member: MemberFactory, sessions: async_sessionmaker[AsyncSession], seeded: None
) -> None:
    """Project A's report is verified; the operator approves its issuance while (another operator session)
    deregistering A. The project row lock orders them: either A issues and is then deregistered (its credits stay), or
    A is deregistered first and its issuance refused. Either way A's parcel is released and project B takes it through
    the API; B can never be credited again for a period A was credited for."""
    people = await cast(client, make_member)
    project_a, parcels_a = await registered_project(client, people)
    report_a = await verified_report(client, people, project_a, parcels_a)
    issuance, deregistration = await asyncio.gather(
        client.post(f"{API}/monitoring-reports/{report_a['id']}/issuance", json={}, headers=people.operator.headers),
        client.post(
            f"{API}/projects/{project_a['id']}/deregistration",
            json={"reason": "tenure dispute upheld by the county court"},
            headers=people.operator.headers | key(),
        ),
    )
    assert deregistration.status_code == 200, deregistration.text
    assert deregistration.json()["status"] == "deregistered"
    assert issuance.status_code in (201, 409), issuance.text
    a_issued = issuance.status_code == 201
    if not a_issued:
        assert issuance.json()["code"] == "invalid_state"
    await _next_project_takes_the_land(client, people, sessions, project_a, parcels_a, a_issued=a_issued)


@pytest.mark.parametrize("issue_first", [True, False])
async def test_deregistration_before_or_after_issuance(
    client: httpx.AsyncClient,
    make_member: MemberFactory,
    sessions: async_sessionmaker[AsyncSession],
    seeded: None,
    issue_first: bool,
) -> None:
    """Both orders of the race above, one after the other, so each outcome is checked on every run."""
    people = await cast(client, make_member)
    project_a, parcels_a = await registered_project(client, people)
    report_a = await verified_report(client, people, project_a, parcels_a)
    issue = f"/monitoring-reports/{report_a['id']}/issuance"
    deregister = f"/projects/{project_a['id']}/deregistration"
    reason = {"reason": "tenure dispute upheld by the county court"}
    if issue_first:
        await ok(await post(client, people.operator, issue, {}), 201)
        await ok(await post(client, people.operator, deregister, reason))
    else:
        await ok(await post(client, people.operator, deregister, reason))
        refused = await post(client, people.operator, issue, {})
        assert (refused.status_code, refused.json()["code"]) == (409, "invalid_state")
    await _next_project_takes_the_land(client, people, sessions, project_a, parcels_a, a_issued=issue_first)


async def _next_project_takes_the_land(
    client: httpx.AsyncClient,
    people: Cast,
    sessions: async_sessionmaker[AsyncSession],
    project_a: dict[str, Any],
    parcels_a: list[dict[str, Any]],
    *,
    a_issued: bool,
) -> None:
    released = await ok(await client.get(f"{API}/projects/{project_a['id']}/parcels", headers=people.owner.headers))
    assert [(p["active"], p["released_at"] is not None) for p in released["items"]] == [(False, True)]

    project_b, parcels_b = await registered_project(client, people)
    assert parcels_b[0]["parcel_key"] == parcels_a[0]["parcel_key"]
    overlapping = await post(
        client,
        people.owner,
        f"/projects/{project_b['id']}/monitoring-reports",
        report_body(parcels_b, start="2020-01-01", end="2029-12-31"),
    )
    if a_issued:
        assert overlapping.status_code == 409
        assert overlapping.json()["code"] == "period_already_credited"
        report_b = await verified_report(client, people, project_b, parcels_b, start="2026-01-01", end="2035-12-31")
    else:
        assert overlapping.status_code == 201, overlapping.text
        report_b = await ok(overlapping, 201)
        await ok(
            await post(
                client, people.verifier, f"/monitoring-reports/{report_b['id']}/verification", {"decision": "approve"}
            ),
            201,
        )
    issued_b = await ok(await post(client, people.operator, f"/monitoring-reports/{report_b['id']}/issuance", {}), 201)
    async with sessions() as session:
        periods = (
            await session.execute(
                select(CreditedPeriod.period_start, CreditedPeriod.period_end).order_by(CreditedPeriod.period_start)
            )
        ).all()
        assert await session.scalar(select(func.count()).select_from(IssuanceRow)) == (2 if a_issued else 1)
    expected = [(date(2016, 1, 1), date(2025, 12, 31)), (date(2026, 1, 1), date(2035, 12, 31))]
    assert periods == (expected if a_issued else [(date(2020, 1, 1), date(2029, 12, 31))])
    balances = await _balances(sessions)
    assert balances[(issued_b["asset_code"], "available")] == issued_b["issued_tonnes"]
    if a_issued:
        # Deregistration stops issuance, never the credits already issued.
        assert balances[(f"BSC-{project_a['code']}-2025", "available")] == 3023
    await _audit_ok(sessions)


async def test_two_projects_racing_for_a_released_parcel_one_takes_it(
    client: httpx.AsyncClient, make_member: MemberFactory, sessions: async_sessionmaker[AsyncSession], seeded: None
) -> None:
    people = await cast(client, make_member)
    first, parcels = await draft_project(client, people)
    await ok(await post(client, people.owner, f"/projects/{first['id']}/withdrawal", {"reason": "sold the land"}))
    second, _ = await draft_project(client, people, parcels=0)
    third, _ = await draft_project(client, people, parcels=0)
    responses = await asyncio.gather(
        post(client, people.owner, f"/projects/{second['id']}/parcels", parcel_body(1)),
        post(client, people.owner, f"/projects/{third['id']}/parcels", parcel_body(1)),
    )
    assert sorted(r.status_code for r in responses) == [201, 409], [r.text for r in responses]
    assert next(r for r in responses if r.status_code == 409).json()["code"] == "parcel_in_active_project"
    async with sessions() as session:
        rows = (
            await session.execute(
                select(Parcel.project_id, Parcel.active).where(Parcel.parcel_key == parcels[0]["parcel_key"])
            )
        ).all()
    assert sorted(active for _, active in rows) == [False, True]
    assert len(rows) == 2


async def test_two_transactions_crediting_one_parcel_key_queue_and_the_second_is_refused(
    client: httpx.AsyncClient, make_member: MemberFactory, sessions: async_sessionmaker[AsyncSession], seeded: None
) -> None:
    """The database guard itself, below the services: two uncommitted claims on one parcel key queue on the trigger's
    lock; after the first commits, the second sees its row and is refused."""
    people = await cast(client, make_member)
    _, parcels, issuance = await issued_project(client, people)
    insert = text(
        "INSERT INTO credited_period (parcel_key, parcel_id, issuance_id, period_start, period_end) "
        "VALUES (:key, :parcel, :issuance, :start, :end)"
    )
    values = {"key": parcels[0]["parcel_key"], "parcel": parcels[0]["id"], "issuance": issuance["id"]}
    first_claimed = asyncio.Event()
    release_first = asyncio.Event()

    async def first() -> None:
        async with sessions() as session, session.begin():
            await session.execute(insert, values | {"start": date(2030, 1, 1), "end": date(2031, 12, 31)})
            first_claimed.set()
            await release_first.wait()

    async def second() -> str:
        await first_claimed.wait()
        async with sessions() as session:
            try:
                async with session.begin():
                    await session.execute(insert, values | {"start": date(2031, 1, 1), "end": date(2032, 12, 31)})
            except DBAPIError as error:
                return sqlstate(error) or ""
        return "committed"

    first_task = asyncio.create_task(first())
    second_task = asyncio.create_task(second())
    await first_claimed.wait()
    await asyncio.sleep(0.3)
    assert not second_task.done()  # queued on the parcel key's lock
    release_first.set()
    await first_task
    assert await asyncio.wait_for(second_task, 10) == "23P01"


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
