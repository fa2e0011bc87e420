"""Values at the edges of what the registry can hold: crediting periods near year 1 or 9999 or without an issuable
vintage, polygon coordinates too large for a float or beyond WGS84, a polygon around the whole world, and integer
parameters past their column's range. Each is a 4xx problem+json that changes nothing, never a 500."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.registry.tables import Parcel, Project
from tests.api.test_registry_bad_input import snapshot
from tests.conftest import EmptyDatabase, MemberFactory
from tests.integration.registry.builders import (
    API,
    cast,
    draft_project,
    key,
    ok,
    parcel_body,
    post,
    project_body,
    registered_project,
    report_body,
    verified_report,
)
from tests.integration.registry.builders import seeded as seeded

PROBLEM = "application/problem+json"
CREDITING_WITHIN = "ck_project_crediting_within_vintages"  # migration 0024


def _refused(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    problem: dict[str, Any] = response.json()
    assert problem["code"] == code, problem
    return problem


def _reason_codes(problem: dict[str, Any]) -> set[str]:
    return {reason[0] for reason in problem["reasons"]}


async def test_a_crediting_period_must_lie_within_the_issuable_vintages(
    client: httpx.AsyncClient, make_member: MemberFactory, sessions: async_sessionmaker[AsyncSession], seeded: None
) -> None:
    people = await cast(client, make_member)
    outside = [
        ("2016-01-01", "9999-12-31"),  # the day after the end is past the calendar
        ("9970-01-01", "9989-12-31"),  # 40 years on is past the calendar
        ("0001-01-01", "0030-12-31"),  # a valid length, but vintages 1-30 can never be issued
        ("1989-12-31", "2009-12-31"),  # starts one day before the first vintage
        ("2080-01-01", "2100-01-01"),  # ends one day into a vintage that cannot be issued
    ]
    for start, end in outside:
        response = await post(client, people.owner, "/projects", project_body(crediting_start=start, crediting_end=end))
        problem = _refused(response, 422, "ineligible")
        assert _reason_codes(problem) == {"crediting_period_outside_vintages"}, (start, end)
        assert "1990-01-01 to 2099-12-31" in problem["detail"]
    first = await ok(
        await post(
            client, people.owner, "/projects", project_body(crediting_start="1990-01-01", crediting_end="2009-12-31")
        ),
        201,
    )
    last = await ok(
        await post(
            client, people.owner, "/projects", project_body(crediting_start="2080-01-01", crediting_end="2099-12-31")
        ),
        201,
    )
    async with sessions() as session:
        stored = (await session.execute(select(Project.id, Project.crediting_start, Project.crediting_end))).all()
    assert {str(row[0]) for row in stored} == {first["id"], last["id"]}
    assert sorted((str(row[1]), str(row[2])) for row in stored) == [
        ("1990-01-01", "2009-12-31"),
        ("2080-01-01", "2099-12-31"),
    ]


async def _move_crediting_period(
    sessions: async_sessionmaker[AsyncSession], project_id: str, start: str, end: str
) -> None:
    """As a project registered before the vintage rule could have stored it: migration 0024's constraint is set
    aside for the one UPDATE and put back as it was (NOT VALID, so the older row stays)."""
    async with sessions() as session, session.begin():
        definition = await session.scalar(
            text("SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conname = :name"),
            {"name": CREDITING_WITHIN},
        )
        await session.execute(text(f"ALTER TABLE project DROP CONSTRAINT {CREDITING_WITHIN}"))
        await session.execute(
            text("UPDATE project SET crediting_start = :start, crediting_end = :end WHERE id = :id"),
            {"start": date.fromisoformat(start), "end": date.fromisoformat(end), "id": project_id},
        )
        await session.execute(text(f"ALTER TABLE project ADD CONSTRAINT {CREDITING_WITHIN} {definition}"))


async def test_a_report_on_an_older_project_without_an_issuable_vintage_is_refused(
    client: httpx.AsyncClient, make_member: MemberFactory, sessions: async_sessionmaker[AsyncSession], seeded: None
) -> None:
    people = await cast(client, make_member)
    project, parcels = await registered_project(client, people)
    await _move_crediting_period(sessions, project["id"], "1960-01-01", "1999-12-31")
    before = await snapshot(sessions)
    response = await post(
        client,
        people.owner,
        f"/projects/{project['id']}/monitoring-reports",
        report_body(parcels, start="1960-01-01", end="1985-12-31"),
    )
    problem = _refused(response, 422, "vintage_out_of_range")
    assert "vintage 1985" in problem["detail"]
    assert await snapshot(sessions) == before


async def test_issuance_of_an_older_report_without_an_issuable_vintage_is_refused_before_any_write(
    client: httpx.AsyncClient, make_member: MemberFactory, sessions: async_sessionmaker[AsyncSession], seeded: None
) -> None:
    people = await cast(client, make_member)
    project, parcels = await registered_project(client, people)
    report = await verified_report(client, people, project, parcels)
    # A report filed before the vintage rule: its period ends in a year the database refuses as a vintage.
    await _move_crediting_period(sessions, project["id"], "0001-01-01", "2045-12-31")
    async with sessions() as session, session.begin():
        await session.execute(
            text("UPDATE monitoring_report SET period_start = :start, period_end = :end WHERE id = :id"),
            {"start": date(1, 1, 1), "end": date(1, 12, 31), "id": report["id"]},
        )
    before = await snapshot(sessions)
    response = await post(client, people.operator, f"/monitoring-reports/{report['id']}/issuance", {})
    problem = _refused(response, 422, "vintage_out_of_range")
    assert "vintage 1," in problem["detail"]
    assert await snapshot(sessions) == before


def _square(lon: Any, lat: Any = 1) -> dict[str, Any]:
    return {"type": "Polygon", "coordinates": [[[lon, lat], [2, 1], [2, 2], [lon, lat]]]}


async def test_polygon_coordinates_must_be_wgs84_degrees(
    client: httpx.AsyncClient, make_member: MemberFactory, sessions: async_sessionmaker[AsyncSession], seeded: None
) -> None:
    people = await cast(client, make_member)
    project, _ = await draft_project(client, people, parcels=0)
    path = f"{API}/projects/{project['id']}/parcels"
    bazhong = [[106.70, 32.30], [106.71, 32.30], [106.71, 32.31], [106.70, 32.31], [106.70, 32.30]]
    bad_polygons = [
        _square(10**400),  # too large for a float
        _square(-(10**400)),
        _square(1, 10**400),
        _square(float("inf")),  # sent as Infinity
        _square(float("nan")),  # sent as NaN
        _square(180.000001),
        _square(1, -90.5),
        {"type": "Polygon", "coordinates": [[[1, 1, "high"], [2, 1], [2, 2], [1, 1]]]},
        {"type": "Polygon", "coordinates": [[[1, 1, 0, 0], [2, 1], [2, 2], [1, 1]]]},
        {"type": "Polygon", "coordinates": [[[1, 1, 10**400], [2, 1], [2, 2], [1, 1]]]},
        # A hole is checked as the outer ring is.
        {
            "type": "Polygon",
            "coordinates": [bazhong, [[106.705, 32.305], [10**400, 32.306], [106.706, 32.306], [106.705, 32.305]]],
        },
        {"type": "Polygon", "coordinates": [bazhong, [[106.705, 32.305], [106.706, 32.306]]]},
        {"type": "Polygon", "coordinates": [bazhong, "x"]},
    ]
    before = await snapshot(sessions)
    for number, polygon in enumerate(bad_polygons, start=1):
        content = json.dumps(parcel_body(number, polygon=polygon)).encode()
        headers = people.owner.headers | key() | {"content-type": "application/json"}
        response = await client.post(path, content=content, headers=headers)
        problem = _refused(response, 422, "invalid_polygon")
        assert problem["detail"].startswith("polygon: "), problem
    assert await snapshot(sessions) == before
    with_altitude = [[lon, lat, 812.5] for lon, lat in bazhong]
    accepted = await ok(
        await post(
            client,
            people.owner,
            f"/projects/{project['id']}/parcels",
            parcel_body(20, polygon={"type": "Polygon", "coordinates": [with_altitude]}),
        ),
        201,
    )
    assert accepted["polygon"]["coordinates"] == [with_altitude]


async def test_a_polygon_larger_than_the_largest_parcel_is_refused(
    client: httpx.AsyncClient, make_member: MemberFactory, sessions: async_sessionmaker[AsyncSession], seeded: None
) -> None:
    people = await cast(client, make_member)
    project, _ = await draft_project(client, people, parcels=0)
    path = f"/projects/{project['id']}/parcels"
    world = {"type": "Polygon", "coordinates": [[[-180, -90], [180, -90], [180, 90], [-180, 90], [-180, -90]]]}
    # About 1,021 km2 (0.3 x 0.3 degrees at 32.3 N): more than 1,000,000 mu (667 km2).
    county = {
        "type": "Polygon",
        "coordinates": [[[106.4, 32.0], [106.7, 32.0], [106.7, 32.3], [106.4, 32.3], [106.4, 32.0]]],
    }
    for number, polygon in enumerate((world, county), start=1):
        problem = _refused(
            await post(client, people.owner, path, parcel_body(number, polygon=polygon)), 422, "invalid_polygon"
        )
        assert "more than the largest parcel, 1,000,000 mu (667 km2)" in problem["detail"]
    # 0.2 x 0.2 degrees, about 454 km2, is within the limit; a later parcel elsewhere is not taken for an overlap.
    township = {
        "type": "Polygon",
        "coordinates": [[[106.4, 32.0], [106.6, 32.0], [106.6, 32.2], [106.4, 32.2], [106.4, 32.0]]],
    }
    await ok(await post(client, people.owner, path, parcel_body(3, polygon=township)), 201)
    elsewhere = {
        "type": "Polygon",
        "coordinates": [[[106.7, 32.3], [106.71, 32.3], [106.71, 32.31], [106.7, 32.31], [106.7, 32.3]]],
    }
    await ok(await post(client, people.owner, path, parcel_body(4, polygon=elsewhere)), 201)
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Parcel)) == 2


async def test_carbon_stock_version_is_bounded_like_the_path_version(client: httpx.AsyncClient, seeded: None) -> None:
    for suffix in ("", ".svg"):
        for version in ("2147483648", "1000001", str(10**30)):
            response = await client.get(f"/v1/public/inventory/carbon-stock{suffix}", params={"version": version})
            problem = _refused(response, 422, "validation_error")
            assert problem["errors"][0]["field"] == "query.version", problem
        missing = await client.get(f"/v1/public/inventory/carbon-stock{suffix}", params={"version": "1000000"})
        _refused(missing, 404, "methodology_not_found")


async def test_a_polygon_keeps_only_its_checked_members(
    client: httpx.AsyncClient, make_member: MemberFactory, sessions: async_sessionmaker[AsyncSession], seeded: None
) -> None:
    """Found by fuzzing: a NaN, an infinity or a lone surrogate in a member beside the coordinates failed PostgreSQL's
    JSON, and a deep nest there failed the answer's encoding (500). Only the type and the coordinates are kept."""
    people = await cast(client, make_member)
    project, _ = await draft_project(client, people, parcels=0)
    path = f"{API}/projects/{project['id']}/parcels"
    ring = [[106.70, 32.70], [106.71, 32.70], [106.71, 32.71], [106.70, 32.70]]
    nest: list[Any] = []
    for _ in range(300):
        nest = [nest]
    extras = [
        '"bbox": NaN',
        '"bbox": [Infinity, -Infinity]',
        '"n": 1e400',
        '"name": "a\\ud800b"',
        f'"n": {json.dumps(nest)}',
    ]
    for number, extra in enumerate(extras, start=1):
        body = json.dumps(parcel_body(number, polygon={"type": "Polygon", "coordinates": [ring]}))
        content = body.replace('"type": "Polygon", ', f'"type": "Polygon", {extra}, ', 1)
        assert extra in content
        headers = people.owner.headers | key() | {"content-type": "application/json"}
        response = await client.post(path, content=content.encode(), headers=headers)
        assert response.status_code == 201, response.text
        assert response.json()["polygon"] == {"type": "Polygon", "coordinates": [ring]}
        ring = [[lon + 0.02, lat] for lon, lat in ring]  # the next parcel beside this one, not over it
    async with sessions() as session:
        stored = (await session.execute(text("SELECT polygon FROM parcel ORDER BY tenure_number"))).scalars().all()
    assert [set(polygon) for polygon in stored] == [{"type", "coordinates"}] * len(extras)


async def test_the_database_keeps_crediting_and_claim_periods_within_the_vintages(
    client: httpx.AsyncClient, make_member: MemberFactory, sessions: async_sessionmaker[AsyncSession], seeded: None
) -> None:
    """Migration 0024: a direct write cannot store what the domain refuses; a row within the years still updates."""
    people = await cast(client, make_member)
    project, _ = await draft_project(client, people, parcels=0)
    for start, end in (("1989-12-31", "2030-12-31"), ("2030-01-01", "2100-01-01"), ("0001-01-01", "9999-12-31")):
        async with sessions() as session, session.begin():
            with pytest.raises(DBAPIError, match=CREDITING_WITHIN):
                await session.execute(
                    text("UPDATE project SET crediting_start = :start, crediting_end = :end WHERE id = :id"),
                    {"start": date.fromisoformat(start), "end": date.fromisoformat(end), "id": project["id"]},
                )
    async with sessions() as session, session.begin():
        await session.execute(
            text("UPDATE project SET crediting_start = '1990-01-01', crediting_end = '2099-12-31' WHERE id = :id"),
            {"id": project["id"]},
        )
        checks = (
            await session.execute(
                text(
                    "SELECT conname, convalidated FROM pg_constraint "
                    "WHERE conname IN (:crediting, 'ck_retirement_claim_within_vintages') ORDER BY conname"
                ),
                {"crediting": CREDITING_WITHIN},
            )
        ).all()
    assert [tuple(row) for row in checks] == [(CREDITING_WITHIN, False), ("ck_retirement_claim_within_vintages", False)]


async def test_0024_adds_the_constraints_and_its_downgrade_drops_them(empty_database: EmptyDatabase) -> None:
    names = "SELECT array_agg(conname::text ORDER BY conname) FROM pg_constraint WHERE conname LIKE '%within_vintages'"
    await empty_database.upgrade("0023")
    assert await empty_database.fetchval(names) is None
    await empty_database.upgrade("0024")
    assert await empty_database.fetchval(names) == [CREDITING_WITHIN, "ck_retirement_claim_within_vintages"]
    await empty_database.downgrade("0023")
    assert await empty_database.fetchval(names) is None
