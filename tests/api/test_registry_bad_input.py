"""A sweep of bad input over every mutating registry route: malformed JSON, bodies that are not objects, unknown
fields, wrong types, missing fields, values out of range, contradictory fields and malformed path parameters. Every
answer must be a 4xx problem+json, and nothing may change: no registry, ledger or audit row.

The routes are enumerated from the application, so a new mutating route fails this test until it has a valid
example body here (and so is swept too).
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.conftest import MemberFactory
from tests.integration.registry.builders import (
    API,
    Cast,
    cast,
    issued_project,
    key,
    ok,
    parcel_body,
    post,
    project_body,
    report_body,
)
from tests.integration.registry.builders import seeded as seeded

WATCHED_TABLES = (
    "methodology",
    "verifier_accreditation",
    "project",
    "parcel",
    "monitoring_report",
    "verification_statement",
    "issuance",
    "credited_period",
    "reversal",
    "retirement",
    "cancellation",
    "asset",
    "account",
    "transfer",
    "serial_range",
    "serial_movement",
    "audit_event",
)
MUTATING = {"POST", "PUT", "PATCH", "DELETE"}
SPECIES = {
    "species": "masson_pine",
    "name_zh": "马尾松",
    "name_en": "Masson pine",
    "wood_density": "0.380",
    "biomass_expansion_factor": "1.472",
    "root_shoot_ratio": "0.187",
    "carbon_fraction": "0.460",
}


def valid_bodies(people: Cast, ids: dict[str, str]) -> dict[tuple[str, str], dict[str, Any] | None]:
    """A body each route would accept (or refuse only for a business reason), keyed by (method, route path)."""
    asset = ids["asset_code"]
    enterprise = str(people.enterprise.organisation_id)
    return {
        ("POST", "/methodologies"): {
            "code": "CCER-14-001-V01",
            "name": "rev",
            "species": [SPECIES],
            "rules": {"buffer_share": "0.10", "public_notice_days": 20},
        },
        ("POST", "/methodologies/{code}/{version}/publication"): {},
        ("POST", "/methodologies/{code}/{version}/withdrawal"): {"reason": "annex revised"},
        ("POST", "/verifier-accreditations"): {
            "organisation_id": str(people.verifier.organisation_id),
            "valid_from": "2020-01-01",
            "valid_until": "2030-12-31",
        },
        ("POST", "/verifier-accreditations/{accreditation_id}/revocation"): {"reason": "conflict of interest"},
        ("POST", "/projects"): project_body(),
        ("POST", "/projects/{project_id}/parcels"): parcel_body(50),
        ("DELETE", "/projects/{project_id}/parcels/{parcel_id}"): None,
        ("POST", "/projects/{project_id}/submission"): {"validator_id": str(people.verifier.organisation_id)},
        ("POST", "/projects/{project_id}/validation"): {"decision": "approve"},
        ("POST", "/projects/{project_id}/registration"): {"decision": "register"},
        ("POST", "/projects/{project_id}/withdrawal"): {"reason": "land sold"},
        ("POST", "/projects/{project_id}/deregistration"): {"reason": "tenure revoked"},
        ("POST", "/projects/{project_id}/parcels/{parcel_id}/release"): {"reason": "land sold"},
        ("POST", "/projects/{project_id}/monitoring-reports"): report_body(
            [{"id": ids["parcel_id"]}], start="2026-01-01", end="2030-12-31"
        )
        | {"sampling_precision": "0.05"},
        ("POST", "/monitoring-reports/{report_id}/verification"): {"decision": "approve"},
        ("POST", "/monitoring-reports/{report_id}/issuance"): {},
        ("POST", "/projects/{project_id}/reversals"): {
            "event_type": "fire",
            "occurred_on": "2026-03-01",
            "tonnes_lost": 10,
            "description": "a hillside fire",
        },
        ("POST", "/transfers"): {"asset_code": asset, "quantity": 10, "recipient_id": enterprise},
        ("POST", "/retirements"): {
            "asset_code": asset,
            "quantity": 10,
            "beneficiary": "巴中绿色建材",
            "purpose": "2025 neutrality",
            "claim_start": "2025-01-01",
            "claim_end": "2025-12-31",
        },
        ("POST", "/cancellations"): {"asset_code": asset, "quantity": 10, "reason": "voluntary"},
    }


# Values that break a body's rules across fields, which no single field's schema can see.
CONTRADICTIONS: dict[tuple[str, str], list[dict[str, Any]]] = {
    ("POST", "/verifier-accreditations"): [{"valid_from": "2031-01-01", "valid_until": "2030-12-31"}],
    ("POST", "/projects"): [
        {"crediting_start": "2045-01-01", "crediting_end": "2016-01-01"},
        {"crediting_start": "2016-01-01", "crediting_end": "2020-12-31"},
        {"methodology_code": "NO-SUCH-CODE"},
        {"methodology_version": 999},
    ],
    ("POST", "/projects/{project_id}/parcels"): [
        {"species": "baobab"},
        {"area_mu": "0.1"},
        {"land_use": "wetland"},
        {"polygon": {"type": "Point", "coordinates": [1, 2]}},
        {"polygon": {"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [0, 0]]]}},
        {"polygon": {"type": "Polygon", "coordinates": "x"}},
    ],
    ("POST", "/projects/{project_id}/monitoring-reports"): [
        {"period_start": "2030-12-31", "period_end": "2026-01-01"},
        {"period_start": "1990-01-01", "period_end": "1995-12-31"},
        {
            "measurements": [
                {
                    "parcel_id": "00000000-0000-0000-0000-000000000000",
                    "volume_start_m3_per_mu": "0",
                    "volume_end_m3_per_mu": "1",
                }
            ]
        },
    ],
    ("POST", "/retirements"): [
        {"claim_start": "2025-12-31", "claim_end": "2025-01-01"},
        {"claim_start": "0001-01-01", "claim_end": "9999-12-31"},  # outside the years credits are dated in
        {"claim_start": "1989-12-31", "claim_end": "2025-12-31"},
    ],
    ("POST", "/transfers"): [
        {"asset_code": "BSC-BZ-NJ-9999-2025"},
        {"recipient_id": "00000000-0000-0000-0000-000000000000"},
        {"quantity": 999_999_999},
    ],
    ("POST", "/cancellations"): [{"quantity": 999_999_999}],
    ("POST", "/projects/{project_id}/reversals"): [{"tonnes_lost": 999_999_999}],
}


def _resolve(schema: dict[str, Any], root: dict[str, Any]) -> dict[str, Any]:
    if "$ref" in schema:
        target: Any = root
        for part in schema["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        return _resolve(target, root)
    return schema


def _branches(schema: dict[str, Any], root: dict[str, Any]) -> list[dict[str, Any]]:
    schema = _resolve(schema, root)
    if "anyOf" in schema:
        return [b for branch in schema["anyOf"] for b in _branches(branch, root) if b.get("type") != "null"]
    return [schema]


def _wrong_type(schema: dict[str, Any], root: dict[str, Any]) -> Any:
    types = {branch.get("type") for branch in _branches(schema, root)}
    if "array" in types:
        return "not a list"
    if "object" in types:
        return ["not", "an", "object"]
    return {"not": ["a", "scalar"]}


def _out_of_range(schema: dict[str, Any], root: dict[str, Any]) -> Iterator[Any]:
    for branch in _branches(schema, root):
        if "maximum" in branch:
            yield branch["maximum"] + 1
        if "exclusiveMaximum" in branch:
            yield branch["exclusiveMaximum"]
        if "minimum" in branch:
            yield branch["minimum"] - 1
        if "exclusiveMinimum" in branch:
            yield branch["exclusiveMinimum"]
        if branch.get("type") in ("integer", "number"):
            yield 10**40
        if "maxLength" in branch:
            yield "x" * (branch["maxLength"] + 1)
        if branch.get("minLength", 0) >= 1:
            yield ""
        if "pattern" in branch or "enum" in branch or "const" in branch:
            yield "  no such value / 无 \x00"
        if branch.get("format") in ("date", "uuid"):
            yield "2025-02-30" if branch["format"] == "date" else "not-a-uuid"
        if "maxItems" in branch and branch["maxItems"] <= 100:
            yield ["x"] * (branch["maxItems"] + 1)
        if branch.get("minItems", 0) >= 1:
            yield []


def mutations(body: dict[str, Any], schema: dict[str, Any], root: dict[str, Any]) -> Iterator[tuple[str, Any]]:
    """(label, JSON body) pairs, each breaking one rule of the body's schema."""
    if schema.get("required"):
        yield "empty object", {}
    yield "unknown field", body | {"unexpected_field": 1}
    for value in ([], "text", 42, None, True):
        yield f"not an object: {value!r}", value
    properties: dict[str, Any] = schema.get("properties", {})
    for name, field in properties.items():
        wrong = copy.deepcopy(body)
        wrong[name] = _wrong_type(field, root)
        yield f"{name}: wrong type", wrong
        for value in _out_of_range(field, root):
            broken = copy.deepcopy(body)
            broken[name] = value
            yield f"{name}: out of range {str(value)[:30]!r}", broken
        for branch in _branches(field, root):
            if branch.get("properties") and isinstance(body.get(name), dict):
                for label, inner in mutations(body[name], branch, root):
                    nested = copy.deepcopy(body)
                    nested[name] = inner
                    yield f"{name}.{label}", nested
            items = branch.get("items")
            if branch.get("type") == "array" and isinstance(items, dict) and isinstance(body.get(name), list):
                item_schema = _resolve(items, root)
                if item_schema.get("type") == "object" and body[name] and isinstance(body[name][0], dict):
                    for label, item in mutations(body[name][0], item_schema, root):
                        nested = copy.deepcopy(body)
                        nested[name] = [item]
                        yield f"{name}[0] {label}", nested
    for name in schema.get("required", []):
        yield f"{name}: missing", {k: v for k, v in body.items() if k != name}


def registry_routes(openapi: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any] | None]:
    """Every mutating route under /v1/registry with its JSON body schema (None: the route takes no body)."""
    routes: dict[tuple[str, str], dict[str, Any] | None] = {}
    for path, operations in openapi["paths"].items():
        if not path.startswith(API + "/"):
            continue
        for method, operation in operations.items():
            if method.upper() not in MUTATING:
                continue
            content = operation.get("requestBody", {}).get("content", {}).get("application/json")
            schema = None
            if content is not None:
                schema = next(iter(_branches(content["schema"], openapi)), None)
            routes[(method.upper(), path.removeprefix(API))] = schema
    return routes


async def snapshot(sessions: async_sessionmaker[AsyncSession]) -> dict[str, str]:
    async with sessions() as session:
        digests = {}
        for table in WATCHED_TABLES:
            digests[table] = str(
                await session.scalar(
                    text(
                        "SELECT count(*)::text || ':' || md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) "
                        f"FROM {table} t"
                    )
                )
            )
        return digests


OPERATOR_ROUTES = ("/methodologies", "/verifier-accreditations")
ACTOR_OF = {
    "/projects/{project_id}/validation": "verifier",
    "/monitoring-reports/{report_id}/verification": "verifier",
    "/projects/{project_id}/registration": "operator",
    "/projects/{project_id}/deregistration": "operator",
    "/projects/{project_id}/reversals": "operator",
    "/monitoring-reports/{report_id}/issuance": "operator",
}
# Routes judged on a draft project, so that a contradiction meets its own rule rather than a state refusal.
ON_DRAFT = (
    "/projects/{project_id}/parcels",
    "/projects/{project_id}/parcels/{parcel_id}",
    "/projects/{project_id}/submission",
    "/projects/{project_id}/withdrawal",
)
NO_BODY_NEEDED = ("/publication", "/issuance")


async def test_bad_input_to_every_mutating_registry_route_is_4xx_and_changes_nothing(
    client: httpx.AsyncClient,
    app: FastAPI,
    make_member: MemberFactory,
    sessions: async_sessionmaker[AsyncSession],
    seeded: None,
) -> None:
    people = await cast(client, make_member)
    project, parcels, issuance = await issued_project(client, people)
    draft = await ok(await post(client, people.owner, "/projects", project_body(district="TJ")), 201)
    draft_parcel = await ok(await post(client, people.owner, f"/projects/{draft['id']}/parcels", parcel_body(7)), 201)
    accreditations = await ok(await client.get(API + "/verifier-accreditations", headers=people.operator.headers))
    reports = await ok(
        await client.get(f"{API}/projects/{project['id']}/monitoring-reports", headers=people.owner.headers)
    )
    ids = {
        "project_id": project["id"],
        "parcel_id": parcels[0]["id"],
        "report_id": reports["items"][0]["id"],
        "accreditation_id": accreditations["items"][0]["id"],
        "code": "CCER-14-001-V01",
        "version": "1",
        "asset_code": issuance["asset_code"],
    }
    draft_ids = ids | {"project_id": draft["id"], "parcel_id": draft_parcel["id"]}
    bad_path_values = {
        "project_id": "not-a-uuid",
        "parcel_id": "12345",
        "report_id": "0000",
        "accreditation_id": "x" * 40,
        "code": "lower case",
        "version": "0",
    }
    members = {"owner": people.owner, "verifier": people.verifier, "operator": people.operator}
    openapi = app.openapi()
    routes = registry_routes(openapi)
    bodies = valid_bodies(people, ids)
    assert set(routes) == set(bodies), "every mutating registry route needs a valid example body in this sweep"
    assert set(CONTRADICTIONS) <= set(bodies)
    before = await snapshot(sessions)
    sent = 0
    failures: list[str] = []

    async def send(method: str, path: str, member: Any, label: str, content: bytes | None) -> None:
        nonlocal sent
        headers = member.headers | key() | ({"content-type": "application/json"} if content is not None else {})
        response = await client.request(method, API + path, headers=headers, content=content)
        sent += 1
        problem = response.headers.get("content-type") == "application/problem+json"
        if not 400 <= response.status_code < 500 or not problem:
            failures.append(f"{method} {path} [{label}] -> {response.status_code} {response.text[:300]}")
        elif label == "malformed JSON" and response.status_code != 400:
            failures.append(f"{method} {path} [{label}] -> {response.status_code}, not 400")

    for (method, template), schema in sorted(routes.items()):
        role = "operator" if template.startswith(OPERATOR_ROUTES) else ACTOR_OF.get(template, "owner")
        member = members[role]
        values = draft_ids if template in ON_DRAFT else ids
        path = template.format(**values)
        body = bodies[(method, template)]
        encoded = None if body is None else json.dumps(body).encode()
        for name, bad in bad_path_values.items():
            if "{" + name + "}" in template:
                await send(method, template.format(**(values | {name: bad})), member, f"path {name}", encoded)
        if body is None:
            continue
        await send(method, path, member, "malformed JSON", b'{"reason": "unterminated')
        assert schema is not None, template
        for label, bad_body in mutations(body, schema, openapi):
            if template.endswith(NO_BODY_NEEDED) and label in ("empty object", "not an object: None"):
                continue  # no body, or {}, is such an action's valid body
            await send(method, path, member, label, json.dumps(bad_body).encode())
        for contradiction in CONTRADICTIONS.get((method, template), []):
            await send(
                method, path, member, f"contradiction {contradiction}", json.dumps(body | contradiction).encode()
            )

    assert not failures, f"{len(failures)} of {sent}:\n" + "\n".join(failures[:40])
    assert sent > 400
    assert await snapshot(sessions) == before
