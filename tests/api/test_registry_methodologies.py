"""Methodology versions: the operator drafts, publishes (the previous active version is superseded) or withdraws;
issuances keep pointing at the version they used; the public list shows each published version's status."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.db import sqlstate
from tests.conftest import MemberFactory
from tests.integration.registry.builders import (
    API,
    cast,
    issued_project,
    key,
    ok,
    post,
    project_body,
    report_body,
    seeded,
)

__all__ = ["seeded"]
CODE = "CCER-14-001-V01"


def definition(density: str = "0.390") -> dict[str, Any]:
    return {
        "code": CODE,
        "name": "碳汇造林项目方法学 rev 2",
        "species": [
            {
                "species": "masson_pine",
                "name_zh": "马尾松",
                "name_en": "Masson pine",
                "wood_density": density,
                "biomass_expansion_factor": "1.472",
                "root_shoot_ratio": "0.187",
                "carbon_fraction": "0.460",
            }
        ],
        "rules": {"buffer_share": "0.15", "public_notice_days": 30},
    }


async def _public_versions(client: httpx.AsyncClient, **params: str) -> list[tuple[int, str]]:
    page = await ok(await client.get("/v1/public/methodologies", params=params))
    return [(item["version"], item["status"]) for item in page["items"]]


async def test_draft_publish_supersede_and_issuances_keep_their_version(
    client: httpx.AsyncClient, make_member: MemberFactory, seeded: None
) -> None:
    people = await cast(client, make_member)
    project, parcels, first = await issued_project(client, people)

    draft = await ok(await post(client, people.operator, "/methodologies", definition()), 201)
    assert (draft["version"], draft["status"], draft["published_at"]) == (2, "draft", None)
    assert draft["definition"]["rules"]["public_notice_days"] == 30
    # A draft is the operator's work in progress: not public, not usable, and one at a time per code.
    assert await _public_versions(client) == [(1, "active")]
    hidden = await client.get(f"/v1/public/methodologies/{CODE}/2")
    assert hidden.status_code == 404
    operator_list = await ok(await client.get(API + "/methodologies", headers=people.operator.headers))
    assert [(v["version"], v["status"]) for v in operator_list["items"]] == [(1, "active"), (2, "draft")]
    second = await post(client, people.operator, "/methodologies", definition("0.400"))
    assert second.status_code == 409
    assert second.json()["code"] == "methodology_draft_open"
    for member in (people.owner, people.verifier, people.enterprise):
        refused = await post(client, member, f"/methodologies/{CODE}/2/publication", {})
        assert refused.status_code == 403

    published = await ok(await post(client, people.operator, f"/methodologies/{CODE}/2/publication", {}))
    assert (published["version"], published["status"]) == (2, "active")
    assert published["published_at"] is not None
    assert await _public_versions(client) == [(1, "superseded"), (2, "active")]
    assert await _public_versions(client, status="superseded") == [(1, "superseded")]
    again = await post(client, people.operator, f"/methodologies/{CODE}/2/publication", {})
    assert again.status_code == 409
    assert again.json()["code"] == "methodology_invalid_state"
    old = await post(client, people.operator, f"/methodologies/{CODE}/1/publication", {})
    assert old.status_code == 409

    # The first issuance still points at version 1 and recomputes; the next period is calculated under version 2.
    assert first["calculation"]["methodology"] == {"code": CODE, "version": 1}
    assert (await ok(await client.get(f"/v1/public/issuances/{first['id']}/recompute")))["recomputed_matches"]
    report = await ok(
        await post(
            client,
            people.owner,
            f"/projects/{project['id']}/monitoring-reports",
            report_body(parcels, start="2026-01-01", end="2030-12-31"),
        ),
        201,
    )
    await ok(
        await post(
            client, people.verifier, f"/monitoring-reports/{report['id']}/verification", {"decision": "approve"}
        ),
        201,
    )
    later = await ok(await post(client, people.operator, f"/monitoring-reports/{report['id']}/issuance", {}), 201)
    assert later["calculation"]["methodology"] == {"code": CODE, "version": 2}
    assert later["methodology_id"] == published["id"] != first["methodology_id"]
    assert later["calculation"]["parameters"]["species"][0]["wood_density"] == "0.39"
    # 3,000 m3 at D 0.390 instead of 0.380: 3,448.0 t CO2e instead of 3,359.6, plus the carried 0.639 t.
    assert later["issued_tonnes"] + later["buffer_tonnes"] == 3448
    first_again = await ok(await client.get(f"/v1/public/issuances/{first['id']}"))
    assert first_again["methodology_id"] == first["methodology_id"]


async def test_withdrawal_of_a_draft_and_of_the_active_version(
    client: httpx.AsyncClient, make_member: MemberFactory, seeded: None
) -> None:
    people = await cast(client, make_member)
    await ok(await post(client, people.operator, "/methodologies", definition()), 201)
    no_reason = await post(client, people.operator, f"/methodologies/{CODE}/2/withdrawal", {"reason": "  "})
    assert no_reason.status_code == 422
    gone = await ok(
        await post(client, people.operator, f"/methodologies/{CODE}/2/withdrawal", {"reason": "annex not final"})
    )
    assert (gone["status"], gone["withdrawn_reason"]) == ("withdrawn", "annex not final")
    assert gone["withdrawn_at"] is not None
    assert await _public_versions(client) == [(1, "active"), (2, "withdrawn")]
    publish_withdrawn = await post(client, people.operator, f"/methodologies/{CODE}/2/publication", {})
    assert publish_withdrawn.status_code == 409
    # A new draft may follow the withdrawn one.
    third = await ok(await post(client, people.operator, "/methodologies", definition("0.385")), 201)
    assert third["version"] == 3
    missing = await post(client, people.operator, f"/methodologies/{CODE}/9/publication", {})
    assert missing.status_code == 404

    # The active version withdrawn: no new project and no new calculation under the code until one is published.
    await ok(await post(client, people.operator, f"/methodologies/{CODE}/1/withdrawal", {"reason": "faulty BEF"}))
    refused = await post(client, people.owner, "/projects", project_body())
    assert refused.status_code == 404
    assert refused.json()["code"] == "methodology_not_found"
    await ok(await post(client, people.operator, f"/methodologies/{CODE}/3/publication", {}))
    assert await _public_versions(client) == [(1, "withdrawn"), (2, "withdrawn"), (3, "active")]
    created = await ok(await post(client, people.owner, "/projects", project_body()), 201)
    assert created["methodology_id"] == third["id"]


async def test_the_database_keeps_published_definitions_and_one_active_version(
    client: httpx.AsyncClient,
    make_member: MemberFactory,
    sessions: async_sessionmaker[AsyncSession],
    seeded: None,
) -> None:
    people = await cast(client, make_member)
    await ok(await post(client, people.operator, "/methodologies", definition()), 201)
    statements = [
        ('UPDATE methodology SET definition = definition || \'{"name": "x"}\' WHERE version = 1', "23514"),
        ("UPDATE methodology SET status = 'active', published_at = now() WHERE version = 2", "23505"),
        ("UPDATE methodology SET status = 'draft' WHERE version = 1", "23514"),
        ("DELETE FROM methodology WHERE version = 1", "23514"),
        ("UPDATE methodology SET status = 'withdrawn' WHERE version = 2", "23514"),  # without when and why
    ]
    for statement, expected in statements:
        async with sessions() as session:
            with pytest.raises(DBAPIError) as refused:
                async with session.begin():
                    await session.execute(text(statement))
        assert sqlstate(refused.value) == expected, statement
    # A draft's definition may still change before publication.
    async with sessions() as session, session.begin():
        await session.execute(
            text('UPDATE methodology SET definition = definition || \'{"name": "rev 2b"}\' WHERE version = 2')
        )


async def test_methodology_bad_input(client: httpx.AsyncClient, make_member: MemberFactory, seeded: None) -> None:
    people = await cast(client, make_member)
    headers = people.operator.headers
    cases = [
        definition() | {"unknown": 1},
        definition() | {"rules": {"public_notice_days": 0}},
        definition() | {"rules": {"public_notice_days": "twenty"}},
        definition() | {"species": []},
        definition() | {"code": "lower-case"},
        definition() | {"species": definition()["species"][:1] * 2},  # one species twice: the second would win
    ]
    for body in cases:
        response = await client.post(API + "/methodologies", json=body, headers=headers | key())
        assert response.status_code == 422, body
    bad_path = await client.post(API + "/methodologies/bad code/x/publication", json={}, headers=headers | key())
    assert bad_path.status_code == 422
    assert await _public_versions(client) == [(1, "active")]
