"""Eligibility refusals with reasons, bad input (4xx, nothing changed), corrections, reversals, methodology versions,
idempotent retirement and the public inventory report."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services import ledger
from services.registry.tables import Cancellation, Parcel, Project, Retirement
from tests.conftest import MemberFactory
from tests.integration.registry.builders import (
    API,
    cast,
    draft_project,
    issued_project,
    ok,
    parcel_body,
    post,
    project_body,
    registered_project,
    report_body,
    seeded,
)

__all__ = ["seeded"]


def _reason_codes(problem: dict[str, Any]) -> set[str]:
    return {code for code, _ in problem["reasons"]}


async def test_parcel_eligibility_refusals_name_every_reason(
    client: httpx.AsyncClient, make_member: MemberFactory, sessions: async_sessionmaker[AsyncSession], seeded: None
) -> None:
    people = await cast(client, make_member)
    project, _ = await draft_project(client, people, parcels=0)
    path = f"/projects/{project['id']}/parcels"
    cases = [
        (parcel_body(1, area_mu="0.5"), {"parcel_too_small"}),  # 333 m2 < 400 m2
        (parcel_body(2, land_use="economic_forest"), {"economic_forest"}),
        (parcel_body(3, land_use="wetland"), {"wetland"}),
        (parcel_body(4, years_non_forest=2), {"non_forest_too_recent"}),
        (parcel_body(5, land_use="timber_forest"), {"already_forest"}),
        (parcel_body(6, area_mu="0.3", land_use="economic_forest"), {"parcel_too_small", "economic_forest"}),
    ]
    for body, expected in cases:
        response = await post(client, people.owner, path, body)
        assert response.status_code == 422, response.text
        problem = response.json()
        assert problem["code"] == "ineligible"
        assert expected <= _reason_codes(problem), problem
    accepted = await ok(await post(client, people.owner, path, parcel_body(7, area_mu="0.6")), 201)
    assert accepted["area_mu"] == "0.6000"
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Parcel)) == 1


async def test_project_eligibility_crediting_period_and_parcels(
    client: httpx.AsyncClient, make_member: MemberFactory, seeded: None
) -> None:
    people = await cast(client, make_member)
    short = await post(client, people.owner, "/projects", project_body(crediting_end="2025-12-31"))
    assert short.status_code == 422
    assert _reason_codes(short.json()) == {"crediting_period_too_short"}
    long = await post(client, people.owner, "/projects", project_body(crediting_end="2066-01-01"))
    assert _reason_codes(long.json()) == {"crediting_period_too_long"}
    empty, _ = await draft_project(client, people, parcels=0)
    submitted = await post(
        client,
        people.owner,
        f"/projects/{empty['id']}/submission",
        {"validator_id": str(people.verifier.organisation_id)},
    )
    assert submitted.status_code == 422
    assert _reason_codes(submitted.json()) == {"no_parcels"}
    # Forest management takes forest land, not bare land.
    managed, _ = await draft_project(client, people, parcels=0, project_type="forest_management")
    refused = await post(client, people.owner, f"/projects/{managed['id']}/parcels", parcel_body(9))
    assert _reason_codes(refused.json()) == {"not_forest"}


async def test_bad_input_is_refused_with_problems(
    client: httpx.AsyncClient, make_member: MemberFactory, sessions: async_sessionmaker[AsyncSession], seeded: None
) -> None:
    people = await cast(client, make_member)
    bad_projects = [
        project_body(unexpected="field"),
        project_body(district="XX"),
        project_body(project_type="orchard"),
        project_body(crediting_start="2016-13-01"),
        project_body(name=""),
        project_body(risk_rating="extreme"),
    ]
    for body in bad_projects:
        response = await post(client, people.owner, "/projects", body)
        assert response.status_code == 422, body
        assert response.json()["code"] == "validation_error"
    malformed = await client.post(
        API + "/projects", content=b"{not json", headers=people.owner.headers | {"Content-Type": "application/json"}
    )
    assert malformed.status_code == 400
    unknown_methodology = await post(client, people.owner, "/projects", project_body(methodology_code="NOPE-1"))
    assert unknown_methodology.status_code == 404

    project, parcels = await draft_project(client, people, parcels=1)
    path = f"/projects/{project['id']}/parcels"
    bad_parcels = [
        parcel_body(2, area_mu="-1"),
        parcel_body(2, area_mu="1.123456"),
        parcel_body(2, stock_volume_per_mu="1e9"),
        parcel_body(2, tenure_number="a/b"),
        parcel_body(2, land_use="moon"),
        parcel_body(2, age=-3),
    ]
    for body in bad_parcels:
        assert (await post(client, people.owner, path, body)).status_code == 422, body
    unknown_species = await post(client, people.owner, path, parcel_body(2, species="baobab"))
    assert unknown_species.json()["code"] == "unknown_species"
    bad_polygon = await post(
        client, people.owner, path, parcel_body(2, polygon={"type": "Polygon", "coordinates": [[[0, 0], [1, 1]]]})
    )
    assert bad_polygon.json()["code"] == "invalid_polygon"
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Parcel)) == 1
        assert await session.scalar(select(func.count()).select_from(Project)) == 1

    assert (await client.get("/v1/public/serials/BSC-nonsense")).json()["code"] == "invalid_serial"
    assert (await client.get("/v1/public/serials/BSC-BZ-NJ-0001-2025-000000001-000000001")).status_code == 404
    assert (await client.get("/v1/public/retirements/BSR-2026-999999")).status_code == 404
    assert (await client.get("/v1/public/issuances", params={"cursor": "garbage!"})).status_code == 400
    assert len(parcels) == 1


async def test_monitoring_report_bad_input_and_corrections(
    client: httpx.AsyncClient, make_member: MemberFactory, seeded: None
) -> None:
    people = await cast(client, make_member)
    project, parcels = await registered_project(client, people)
    path = f"/projects/{project['id']}/monitoring-reports"
    outside = await post(client, people.owner, path, report_body(parcels, start="2010-01-01", end="2015-12-31"))
    assert outside.json()["code"] == "period_outside_crediting_period"
    reversed_period = await post(client, people.owner, path, report_body(parcels, start="2020-01-01", end="2019-01-01"))
    assert reversed_period.status_code == 422
    foreign = report_body(parcels)
    foreign["measurements"][0]["parcel_id"] = "00000000-0000-0000-0000-000000000001"
    assert (await post(client, people.owner, path, foreign)).json()["code"] == "unknown_parcel"

    report = await ok(await post(client, people.owner, path, report_body(parcels)), 201)
    verification = f"/monitoring-reports/{report['id']}/verification"
    no_reason = await post(client, people.verifier, verification, {"decision": "request_corrections"})
    assert no_reason.json()["code"] == "reasons_required"
    statement = await ok(
        await post(
            client,
            people.verifier,
            verification,
            {"decision": "request_corrections", "reasons": ["样地 3 缺少复测 plot 3 lacks a remeasurement"]},
        ),
        201,
    )
    assert statement["decision"] == "request_corrections"
    assert statement["reasons"] == ["样地 3 缺少复测 plot 3 lacks a remeasurement"]
    shown = await ok(await client.get(f"{API}/projects/{project['id']}", headers=people.owner.headers))
    assert shown["status"] == "monitoring"
    # The owner resubmits: the same report, period 1, back to verification.
    again = await ok(await post(client, people.owner, path, report_body(parcels)), 201)
    assert (again["id"], again["number"], again["status"]) == (report["id"], 1, "submitted")
    await ok(await post(client, people.verifier, verification, {"decision": "approve"}), 201)
    issued = await ok(await post(client, people.operator, f"/monitoring-reports/{report['id']}/issuance", {}), 201)
    assert issued["issued_tonnes"] == 3023


async def test_reversal_cancels_from_the_buffer_pool(
    client: httpx.AsyncClient, make_member: MemberFactory, sessions: async_sessionmaker[AsyncSession], seeded: None
) -> None:
    people = await cast(client, make_member)
    project, _, issuance = await issued_project(client, people)
    path = f"/projects/{project['id']}/reversals"
    loss = {"event_type": "fire", "occurred_on": "2026-03-01", "tonnes_lost": 100, "description": "山火 wildfire"}
    reversal = await ok(await post(client, people.operator, path, loss), 201)
    assert reversal["tonnes_lost"] == 100
    too_much = await post(client, people.operator, path, loss | {"tonnes_lost": 237})
    assert too_much.status_code == 422
    assert too_much.json()["code"] == "buffer_insufficient"
    async with sessions() as session:
        cancellation = (await session.execute(select(Cancellation))).scalar_one()
        assert (cancellation.kind, cancellation.quantity) == ("reversal", 100)
        assert cancellation.serial_ranges == [[3024, 3123]]
        buffer = await ledger.find_account(session, asset_id=cancellation.asset_id, owner_id=None, purpose="buffer")
        assert buffer is not None
        assert buffer.balance == 236
    serial = await ok(await client.get(f"/v1/public/serials/BSC-{project['code']}-2025-000003024-000003024"))
    assert serial["state"] == "cancelled"
    fresh, _ = await registered_project(client, people, first=50, district="TJ")
    nothing = await post(client, people.operator, f"/projects/{fresh['id']}/reversals", loss)
    assert nothing.status_code == 409
    assert nothing.json()["code"] == "nothing_to_reverse"
    owner = await ok(await client.get(API + "/holdings", headers=people.owner.headers))
    assert owner[0]["balance"] == issuance["issued_tonnes"]  # the owner's credits are untouched


async def test_holder_cancellation_and_idempotent_retirement(
    client: httpx.AsyncClient, make_member: MemberFactory, sessions: async_sessionmaker[AsyncSession], seeded: None
) -> None:
    people = await cast(client, make_member)
    _, _, issuance = await issued_project(client, people)
    asset = issuance["asset_code"]
    cancelled = await ok(
        await post(client, people.owner, "/cancellations", {"asset_code": asset, "quantity": 23, "reason": "重复登记"}),
        201,
    )
    assert cancelled["serial_ranges"] == [[1, 23]]
    body = {
        "asset_code": asset,
        "quantity": 1000,
        "beneficiary": "Nanjiang Cooperative",
        "purpose": "voluntary",
        "claim_start": "2025-01-01",
        "claim_end": "2025-12-31",
    }
    headers = people.owner.headers | {"Idempotency-Key": "retire-once"}
    first = await client.post(API + "/retirements", json=body, headers=headers)
    second = await client.post(API + "/retirements", json=body, headers=headers)
    assert first.status_code == second.status_code == 201
    assert first.json() == second.json()
    assert second.headers["Idempotent-Replayed"] == "true"
    reused = await client.post(API + "/retirements", json=body | {"quantity": 5}, headers=headers)
    assert reused.status_code == 422
    too_many = await post(client, people.owner, "/retirements", body | {"quantity": 3000})
    assert too_many.json()["code"] == "exceeds_credits"
    bad_claim = await post(client, people.owner, "/retirements", body | {"claim_start": "2026-01-01"})
    assert bad_claim.json()["code"] == "invalid_claim_period"
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Retirement)) == 1
    holdings = {
        h["purpose"]: h["balance"] for h in await ok(await client.get(API + "/holdings", headers=people.owner.headers))
    }
    assert holdings == {"available": 2000, "cancelled": 23, "retired": 1000}


async def test_inventory_carbon_stock_report_and_chart(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], seeded: None
) -> None:
    async with sessions() as session, session.begin():
        await session.execute(
            text(
                "INSERT INTO inventory_sub_compartment (subcompartment_id, district_code, township, village, species, "
                "age_years, area_mu, volume_m3_per_mu) VALUES "
                "('NJ-1', 'NJ', 't', 'v', 'masson_pine', 10, 1000, 3.0), "
                "('NJ-2', 'NJ', 't', 'v', 'oak', 30, 10, 5.5), "
                "('TJ-1', 'TJ', 't', 'v', 'masson_pine', 20, 500, 2.0)"
            )
        )
    report = await ok(await client.get("/v1/public/inventory/carbon-stock"))
    lines = {(line["district_code"], line["species"]): line for line in report["lines"]}
    # The worked example: 3,000 m3 of Masson pine = 3000 x 0.380 x 1.472 x 1.187 x 0.460 t C = 3,359.639219 t CO2e.
    assert lines[("NJ", "masson_pine")]["carbon_t_c"] == "916.2652416"
    assert lines[("NJ", "masson_pine")]["co2e_t"] == "3359.639219"
    assert report["total_area_mu"] == "1510"
    by_district = {item["name"]: item for item in report["by_district"]}
    assert set(by_district) == {"NJ", "TJ"}
    chart = await client.get("/v1/public/inventory/carbon-stock.svg")
    assert chart.status_code == 200
    assert chart.headers["content-type"].startswith("image/svg+xml")
    assert chart.text.startswith("<svg")
    assert "南江县 Nanjiang" in chart.text
    assert "masson_pine" in chart.text


async def test_lists_page_with_cursors(client: httpx.AsyncClient, make_member: MemberFactory, seeded: None) -> None:
    people = await cast(client, make_member)
    project, parcels = await draft_project(client, people, parcels=3)
    path = f"{API}/projects/{project['id']}/parcels"
    first = await ok(await client.get(path, params={"limit": 2}, headers=people.owner.headers))
    assert len(first["items"]) == 2
    second = await ok(
        await client.get(path, params={"limit": 2, "cursor": first["next_cursor"]}, headers=people.owner.headers)
    )
    assert second["next_cursor"] is None
    seen = [item["id"] for item in first["items"] + second["items"]]
    assert sorted(seen) == sorted(parcel["id"] for parcel in parcels)
    reports = await ok(
        await client.get(f"{API}/projects/{project['id']}/monitoring-reports", headers=people.owner.headers)
    )
    assert reports == {"items": [], "next_cursor": None}
