"""Bad input to the eco-label routes, and the races a fuzzing run found: every refusal is a 4xx problem+json with a
stable code, and nothing is stored by a refused request.

- criteria items are typed per kind (range, origin, finding): names, finite bounded decimals, lists of strings;
- concurrent criteria versions of one category are numbered one after another, none lost;
- two certifiers racing for one new label number: one is accredited, the other refused (409 ``label_number_taken``);
- audit findings and lab results are named like the database requires and fit ``numeric(20, 6)``;
- integer path and query parameters are bounded by their columns.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from domain.identity.roles import Role
from tests.conftest import Member, MemberFactory
from tests.integration.labels.builders import (
    PASSING_LAB,
    accredit,
    act,
    drive,
    issued,
    ok,
    parties,
    today_in_china,
)

Sessions = async_sessionmaker[AsyncSession]
CRITERIA = "/v1/labels/schemes/BASHAN/criteria"
SELENIUM = {"kind": "range", "measure": "selenium", "unit": "mg/kg", "minimum": "0.25", "maximum": "4.00"}
ORIGIN = {"kind": "origin", "districts": ["nanjiang", "tongjiang"]}
ORGANIC = {"kind": "finding", "finding": "organic_inputs_only", "description": "no synthetic inputs"}


async def _count(sessions: Sessions, query: str) -> int:
    async with sessions() as session:
        return int(await session.scalar(text(query)) or 0)


def _refused(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert (body["status"], body["code"]) == (status, code)
    return body


async def _warmed_up(app: FastAPI, client: httpx.AsyncClient, operator: Member) -> None:
    """Before a race: the built-in scheme written (by the first write that needs it, here a recognition; it would
    queue the racers) and the pool's connections open (opening one takes longer than the race window)."""
    today = today_in_china()
    recognition = {
        "recognised_scheme": "CN-ORGANIC",
        "name": "China organic product certification",
        "categories": ["tea"],
        "valid_from": today.isoformat(),
        "valid_until": (today + timedelta(days=365)).isoformat(),
    }
    response = await client.post("/v1/labels/recognitions", headers=operator.headers, json=recognition)
    assert response.status_code == 201, response.text
    engine = app.state.bashan.engine
    connections = [await engine.connect() for _ in range(8)]
    for connection in connections:
        await connection.close()


async def _criteria(client: httpx.AsyncClient, operator: Member, *items: Any, **body: Any) -> httpx.Response:
    payload = {"category": "tea", "effective_from": "2099-01-01", "criteria": list(items), **body}
    return await client.post(CRITERIA, headers=operator.headers, json=payload)


BAD_CRITERIA = {
    "range without anything": {"kind": "range"},
    "range without measure": {k: v for k, v in SELENIUM.items() if k != "measure"},
    "range without unit": {k: v for k, v in SELENIUM.items() if k != "unit"},
    "range minimum not a number": {**SELENIUM, "minimum": "abc"},
    "range minimum a list": {**SELENIUM, "minimum": [1]},
    "range minimum NaN": {**SELENIUM, "minimum": "NaN", "maximum": "1"},
    "range maximum infinite": {**SELENIUM, "maximum": "Infinity"},
    "range maximum too large": {**SELENIUM, "maximum": "1E+20"},
    "range bound too precise": {**SELENIUM, "minimum": "0.1234567"},
    "range measure not a name": {**SELENIUM, "measure": "Selenium (total)"},
    "range measure a dict": {**SELENIUM, "measure": {"x": 1}},
    "range unknown field": {**SELENIUM, "colour": "green"},
    "origin without districts": {"kind": "origin"},
    "origin districts a number": {"kind": "origin", "districts": 5},
    "origin districts null": {"kind": "origin", "districts": None},
    "origin districts mixed": {"kind": "origin", "districts": ["a", 1]},
    "origin districts empty": {"kind": "origin", "districts": []},
    "origin district blank": {"kind": "origin", "districts": ["  "]},
    "finding without finding": {"kind": "finding", "description": "d"},
    "finding a dict": {"kind": "finding", "finding": {"x": 1}, "description": "d"},
    "finding a list": {"kind": "finding", "finding": ["organic"], "description": "d"},
    "finding not a name": {"kind": "finding", "finding": "Organic", "description": "d"},
    "unknown kind": {"kind": "colour", "colour": "green"},
    "no kind": {"measure": "selenium", "unit": "mg/kg", "maximum": "1"},
    "not an object": "organic",
}


@pytest.mark.parametrize("criterion", BAD_CRITERIA.values(), ids=BAD_CRITERIA.keys())
async def test_malformed_criteria_are_refused_and_nothing_is_stored(
    app: FastAPI, client: httpx.AsyncClient, make_member: MemberFactory, sessions: Sessions, criterion: Any
) -> None:
    operator = await make_member(Role.OPERATOR)
    await _warmed_up(app, client, operator)
    versions = await _count(sessions, "SELECT count(*) FROM label_criteria_version")
    _refused(await _criteria(client, operator, ORGANIC, criterion), 422, "validation_error")
    assert await _count(sessions, "SELECT count(*) FROM label_criteria_version") == versions


@pytest.mark.parametrize(
    ("bounds", "reason"),
    [
        ({"minimum": "5", "maximum": "1"}, "minimum above maximum"),
        ({"minimum": None, "maximum": None}, "needs at least one bound"),
        ({}, "needs at least one bound"),
    ],
)
async def test_a_range_without_sensible_bounds_is_refused_by_the_domain(
    client: httpx.AsyncClient, make_member: MemberFactory, sessions: Sessions, bounds: dict[str, Any], reason: str
) -> None:
    operator = await make_member(Role.OPERATOR)
    criterion = {"kind": "range", "measure": "selenium", "unit": "mg/kg", **bounds}
    body = _refused(await _criteria(client, operator, criterion), 422, "invalid_criterion")
    assert reason in body["detail"]
    assert await _count(sessions, "SELECT count(*) FROM label_criteria_version WHERE version > 1") == 0


async def test_typed_criteria_are_stored_and_judge_the_grant(
    client: httpx.AsyncClient, make_member: MemberFactory, sessions: Sessions
) -> None:
    """The refused finding-as-object once made every grant of the category fail; typed criteria keep it working."""
    p = await parties(client, make_member)
    refused = await _criteria(client, p.operator, {"kind": "finding", "finding": {"x": 1}, "description": "d"})
    _refused(refused, 422, "validation_error")
    response = await _criteria(
        client,
        p.operator,
        ORIGIN,
        ORGANIC,
        {**SELENIUM, "minimum": "0.5", "maximum": None, "basis": "stricter"},
        effective_from=today_in_china().isoformat(),
    )
    assert response.status_code == 201, response.text
    created = response.json()
    assert created["version"] == 2
    assert created["criteria"] == [
        {"kind": "origin", "districts": ["nanjiang", "tongjiang"], "region": "Bashan (Bazhong)"},
        {"kind": "finding", "finding": "organic_inputs_only", "description": "no synthetic inputs"},
        {
            "kind": "range",
            "measure": "selenium",
            "unit": "mg/kg",
            "minimum": "0.5",
            "maximum": None,
            "basis": "stricter",
        },
    ]
    certificate = await issued(client, p)  # grant judged by version 2: nanjiang, organic, selenium 0.62 >= 0.5
    assert certificate["state"] == "issued"
    low = await drive(client, p, sessions, "lab_testing")
    await ok(client, p.certifier, low, "record_lab_results", lab_results={"selenium": "0.3", "lead": "0.8"})
    refused_grant = _refused(await act(client, p.certifier, low, "grant"), 422, "criteria_not_met")
    assert "selenium 0.3 mg/kg is below the minimum 0.5" in refused_grant["detail"]


async def test_concurrent_criteria_versions_are_numbered_one_after_another(
    app: FastAPI, client: httpx.AsyncClient, make_member: MemberFactory, sessions: Sessions
) -> None:
    operator = await make_member(Role.OPERATOR)
    await _warmed_up(app, client, operator)
    responses = await asyncio.gather(
        *(_criteria(client, operator, {**SELENIUM, "maximum": f"{n}.00"}) for n in range(4, 12))
    )
    assert [r.status_code for r in responses] == [201] * 8, [r.text for r in responses]
    assert sorted(r.json()["version"] for r in responses) == list(range(2, 10))
    async with sessions() as session:
        stored = (
            await session.execute(
                text("SELECT version, criteria->0->>'maximum' FROM label_criteria_version WHERE category = 'tea'")
            )
        ).all()
    assert sorted(version for version, _ in stored) == list(range(1, 10))
    by_version = {r.json()["version"]: r.json()["criteria"][0]["maximum"] for r in responses}
    assert {version: maximum for version, maximum in stored if version > 1} == by_version


async def _accreditations(sessions: Sessions) -> list[tuple[int, str]]:
    async with sessions() as session:
        rows = await session.execute(
            text(
                "SELECT n.label_number, a.certifier_id::text FROM certifier_accreditation a "
                "JOIN certifier_label_number n USING (label_number, certifier_id) ORDER BY a.created_at"
            )
        )
        return [(number, certifier) for number, certifier in rows.all()]


async def test_a_taken_label_number_is_refused_to_another_certifier(
    client: httpx.AsyncClient, make_member: MemberFactory, sessions: Sessions
) -> None:
    operator = await make_member(Role.OPERATOR)
    first, second = await make_member(Role.CERTIFIER), await make_member(Role.CERTIFIER)
    assert (await accredit(client, operator, first, label_number=600)).status_code == 201
    body = _refused(await accredit(client, operator, second, label_number=600), 409, "label_number_taken")
    assert "0600" in body["detail"]
    assert await _accreditations(sessions) == [(600, str(first.organisation_id))]
    assert await _count(sessions, "SELECT count(*) FROM certifier_label_number") == 1


@pytest.mark.parametrize("round_", range(3))
async def test_two_certifiers_racing_for_one_new_label_number(
    app: FastAPI, client: httpx.AsyncClient, make_member: MemberFactory, sessions: Sessions, round_: int
) -> None:
    operator = await make_member(Role.OPERATOR)
    first, second = await make_member(Role.CERTIFIER), await make_member(Role.CERTIFIER)
    await _warmed_up(app, client, operator)
    number = 700 + round_
    responses = await asyncio.gather(*(accredit(client, operator, c, label_number=number) for c in (first, second)))
    assert sorted(r.status_code for r in responses) == [201, 409], [r.text for r in responses]
    winner = next(r for r in responses if r.status_code == 201).json()
    loser = next(r for r in responses if r.status_code == 409)
    assert f"{number:04d}" in _refused(loser, 409, "label_number_taken")["detail"]
    assert await _accreditations(sessions) == [(number, winner["certifier_id"])]
    assert await _count(sessions, "SELECT count(*) FROM certifier_label_number") == 1
    assert await _count(sessions, "SELECT count(*) FROM audit_event WHERE action LIKE 'labels.accreditation%'") == 1


async def test_one_certifier_racing_for_two_label_numbers_keeps_one(
    app: FastAPI, client: httpx.AsyncClient, make_member: MemberFactory, sessions: Sessions
) -> None:
    operator = await make_member(Role.OPERATOR)
    certifier = await make_member(Role.CERTIFIER)
    await _warmed_up(app, client, operator)
    responses = await asyncio.gather(*(accredit(client, operator, certifier, label_number=n) for n in (801, 802)))
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [201, 409], [r.text for r in responses]
    winner = next(r for r in responses if r.status_code == 201).json()
    _refused(next(r for r in responses if r.status_code == 409), 409, "label_number_taken")
    assert await _accreditations(sessions) == [(winner["label_number"], str(certifier.organisation_id))]


BAD_FINDINGS = {
    "capital": {"Organic": True},
    "space": {"organic inputs": True},
    "digit first": {"1organic": True},
    "too long": {"a" * 65: True},
    "empty": {"": True},
    "not a boolean": {"organic_inputs_only": "perhaps"},
}


@pytest.mark.parametrize("findings", BAD_FINDINGS.values(), ids=BAD_FINDINGS.keys())
async def test_bad_audit_findings_are_refused_and_nothing_is_stored(
    client: httpx.AsyncClient, make_member: MemberFactory, sessions: Sessions, findings: dict[str, Any]
) -> None:
    p = await parties(client, make_member)
    cid = await drive(client, p, sessions, "onsite_audit")
    transitions = await _count(sessions, "SELECT count(*) FROM certification_transition")
    _refused(await act(client, p.certifier, cid, "record_audit", findings=findings), 422, "validation_error")
    assert await _count(sessions, "SELECT count(*) FROM audit_finding") == 0
    assert await _count(sessions, "SELECT count(*) FROM certification_transition") == transitions
    state = (await client.get(f"/v1/labels/certifications/{cid}", headers=p.certifier.headers)).json()["state"]
    assert state == "onsite_audit"


BAD_LAB_RESULTS = {
    "overflow": {"selenium": "1E+20"},
    "negative overflow": {"selenium": "-1E+14"},
    "huge exponent": {"selenium": 1e300},
    "tiny exponent": {"selenium": "1E-300"},
    "nan": {"selenium": "NaN"},
    "infinity": {"selenium": "Infinity"},
    "seven decimals": {"selenium": "0.6200001"},
    "not a number": {"selenium": "high"},
    "measure not a name": {"Selenium": "0.62"},
    "measure with a dash": {"lead-total": "0.8"},
}


@pytest.mark.parametrize("lab_results", BAD_LAB_RESULTS.values(), ids=BAD_LAB_RESULTS.keys())
async def test_bad_lab_results_are_refused_and_nothing_is_stored(
    client: httpx.AsyncClient, make_member: MemberFactory, sessions: Sessions, lab_results: dict[str, Any]
) -> None:
    p = await parties(client, make_member)
    cid = await drive(client, p, sessions, "lab_testing")
    transitions = await _count(sessions, "SELECT count(*) FROM certification_transition")
    response = await act(client, p.certifier, cid, "record_lab_results", lab_results={**PASSING_LAB, **lab_results})
    _refused(response, 422, "validation_error")
    assert await _count(sessions, "SELECT count(*) FROM lab_result") == 0
    assert await _count(sessions, "SELECT count(*) FROM certification_transition") == transitions


async def test_lab_results_at_the_limits_of_the_column_are_kept_exactly(
    client: httpx.AsyncClient, make_member: MemberFactory, sessions: Sessions
) -> None:
    p = await parties(client, make_member)
    cid = await drive(client, p, sessions, "lab_testing")
    largest, smallest = "99999999999999.999999", "-99999999999999.999999"
    await ok(client, p.certifier, cid, "record_lab_results", lab_results={"selenium": largest, "lead": smallest})
    detail = (await client.get(f"/v1/labels/certifications/{cid}", headers=p.certifier.headers)).json()
    assert {r["measure"]: Decimal(r["value"]) for r in detail["lab_results"]} == {
        "selenium": Decimal(largest),
        "lead": Decimal(smallest),
    }


async def test_rectification_reasons_are_bounded(
    client: httpx.AsyncClient, make_member: MemberFactory, sessions: Sessions
) -> None:
    p = await parties(client, make_member)
    cid = await drive(client, p, sessions, "doc_review")
    for reasons in (["x" * 2001], [""], [5], "one reason"):
        response = await act(client, p.certifier, cid, "request_rectification", reasons=reasons)
        _refused(response, 422, "validation_error")
    state = (await client.get(f"/v1/labels/certifications/{cid}", headers=p.certifier.headers)).json()["state"]
    assert state == "doc_review"


@pytest.mark.parametrize("suffix", ["", "/codes.csv", "/sheet.pdf"])
async def test_batch_ids_beyond_bigint_are_refused(
    client: httpx.AsyncClient, make_member: MemberFactory, suffix: str
) -> None:
    certifier = await make_member(Role.CERTIFIER)
    for batch_id in (2**64 + 5, 2**63, -(2**63) - 1, -(10**29)):
        response = await client.get(f"/v1/labels/batches/{batch_id}{suffix}", headers=certifier.headers)
        _refused(response, 422, "validation_error")
    for batch_id in (2**63 - 1, 0, -1, -(2**63)):
        response = await client.get(f"/v1/labels/batches/{batch_id}{suffix}", headers=certifier.headers)
        _refused(response, 404, "batch_not_found")


async def test_sheet_offsets_are_bounded_by_the_batch_size_column(
    client: httpx.AsyncClient, make_member: MemberFactory
) -> None:
    p = await parties(client, make_member)
    cid = (await issued(client, p))["id"]
    batch = await client.post(
        f"/v1/labels/certifications/{cid}/batches", headers=p.certifier.headers, json={"quantity": 3}
    )
    assert batch.status_code == 201, batch.text
    sheet = f"/v1/labels/batches/{batch.json()['id']}/sheet.pdf"
    for offset in (2**63, 2**31, -1):
        response = await client.get(sheet, params={"offset": offset}, headers=p.certifier.headers)
        _refused(response, 422, "validation_error")
    last = await client.get(sheet, params={"offset": 2**31 - 1}, headers=p.certifier.headers)
    assert last.status_code == 200, last.text
    assert last.content.startswith(b"%PDF")
