"""Builders for registry tests: the cast (operator, accredited verifier, owner, enterprise) and a project driven
through the API to registration and issuance. Imported by tests/integration/registry and tests/api/test_registry*."""

from __future__ import annotations

import itertools
import uuid
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from domain.identity.roles import Role
from services.db import unit_of_work
from services.registry import methodologies
from tests.conftest import Member, MemberFactory

API = "/v1/registry"
_keys = itertools.count(1)


_database: dict[str, async_sessionmaker[AsyncSession]] = {}


@pytest.fixture
async def seeded(sessions: async_sessionmaker[AsyncSession]) -> None:
    async with unit_of_work(sessions) as session:
        await methodologies.seed_default(session)
    _database["sessions"] = sessions  # for elapse_notice: the builders speak HTTP otherwise


async def elapse_notice(project_id: str, days: int = 20) -> None:
    """Move a project's recorded public notice ``days`` into the past, as if the calendar had turned."""
    async with unit_of_work(_database["sessions"]) as session:
        await session.execute(
            text(
                "UPDATE project SET public_notice_on = public_notice_on - CAST(:days AS integer), "
                "public_notice_until = public_notice_until - CAST(:days AS integer) WHERE id = :id"
            ),
            {"days": days, "id": project_id},
        )


@dataclass(frozen=True)
class Cast:
    operator: Member
    verifier: Member
    owner: Member
    enterprise: Member


def key() -> dict[str, str]:
    return {"Idempotency-Key": f"test-{next(_keys)}-{uuid.uuid4().hex[:8]}"}


async def post(client: httpx.AsyncClient, member: Member, path: str, body: dict[str, Any]) -> httpx.Response:
    return await client.post(API + path, json=body, headers=member.headers | key())


async def ok(response: httpx.Response, status: int = 200) -> dict[str, Any]:
    assert response.status_code == status, response.text
    data: dict[str, Any] = response.json()
    return data


async def cast(client: httpx.AsyncClient, make_member: MemberFactory) -> Cast:
    operator = await make_member(Role.OPERATOR)
    verifier = await make_member(Role.VERIFIER)
    owner = await make_member(Role.PROJECT_OWNER)
    enterprise = await make_member(Role.ENTERPRISE)
    await ok(
        await post(
            client,
            operator,
            "/verifier-accreditations",
            {"organisation_id": str(verifier.organisation_id), "valid_from": "2020-01-01", "valid_until": "2099-12-31"},
        ),
        201,
    )
    return Cast(operator, verifier, owner, enterprise)


def project_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": "南江县桃园村碳汇造林 Taoyuan afforestation",
        "district": "NJ",
        "township": "光雾山镇",
        "village": "桃园村",
        "project_type": "afforestation",
        "crediting_start": "2016-01-01",
        "crediting_end": "2045-12-31",
        "risk_rating": "low",
    }
    return body | overrides


def parcel_body(number: int = 1, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "tenure_number": f"川(2015)南江县林权证第{number:07d}号",
        "sub_compartment": f"NJ-03-012-{number:03d}",
        "area_mu": "1000",
        "species": "masson_pine",
        "age": 0,
        "stock_volume_per_mu": "0",
        "land_use": "bare_land",
        "years_non_forest": 5,
    }
    return body | overrides


async def draft_project(
    client: httpx.AsyncClient, people: Cast, *, parcels: int = 1, first: int = 1, **overrides: Any
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    project = await ok(await post(client, people.owner, "/projects", project_body(**overrides)), 201)
    added = []
    for number in range(first, first + parcels):
        added.append(
            await ok(await post(client, people.owner, f"/projects/{project['id']}/parcels", parcel_body(number)), 201)
        )
    return project, added


async def registered_project(
    client: httpx.AsyncClient, people: Cast, **overrides: Any
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    project, parcels = await draft_project(client, people, **overrides)
    pid = project["id"]
    await ok(
        await post(
            client, people.owner, f"/projects/{pid}/submission", {"validator_id": str(people.verifier.organisation_id)}
        )
    )
    await ok(await post(client, people.verifier, f"/projects/{pid}/validation", {"decision": "approve"}))
    await elapse_notice(pid)
    project = await ok(await post(client, people.operator, f"/projects/{pid}/registration", {"decision": "register"}))
    assert project["status"] == "registered"
    return project, parcels


def report_body(parcels: list[dict[str, Any]], *, start: str = "2016-01-01", end: str = "2025-12-31") -> dict[str, Any]:
    return {
        "period_start": start,
        "period_end": end,
        "measurements": [
            {"parcel_id": p["id"], "volume_start_m3_per_mu": "0", "volume_end_m3_per_mu": "3.0"} for p in parcels
        ],
    }


async def verified_report(
    client: httpx.AsyncClient, people: Cast, project: dict[str, Any], parcels: list[dict[str, Any]], **period: str
) -> dict[str, Any]:
    report = await ok(
        await post(
            client, people.owner, f"/projects/{project['id']}/monitoring-reports", report_body(parcels, **period)
        ),
        201,
    )
    await ok(
        await post(
            client, people.verifier, f"/monitoring-reports/{report['id']}/verification", {"decision": "approve"}
        ),
        201,
    )
    return report


async def issued_project(
    client: httpx.AsyncClient, people: Cast
) -> tuple[dict[str, Any], list[dict[str, Any]], dict[str, Any]]:
    project, parcels = await registered_project(client, people)
    report = await verified_report(client, people, project, parcels)
    issuance = await ok(await post(client, people.operator, f"/monitoring-reports/{report['id']}/issuance", {}), 201)
    return project, parcels, issuance
