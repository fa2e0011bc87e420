"""Idempotent label mutations, and criteria versions as data."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import text

from tests.conftest import MemberFactory
from tests.integration.labels.builders import issued, parties, today_in_china


async def test_a_retried_batch_issues_its_codes_once(
    client: httpx.AsyncClient, make_member: MemberFactory, sessions: Any
) -> None:
    p = await parties(client, make_member)
    cid = (await issued(client, p))["id"]
    headers = {**p.certifier.headers, "Idempotency-Key": "batch-2026-spring"}
    first = await client.post(f"/v1/labels/certifications/{cid}/batches", headers=headers, json={"quantity": 50})
    again = await client.post(f"/v1/labels/certifications/{cid}/batches", headers=headers, json={"quantity": 50})
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json() == first.json()
    assert again.headers.get("Idempotent-Replayed") == "true"
    other_body = await client.post(f"/v1/labels/certifications/{cid}/batches", headers=headers, json={"quantity": 5})
    assert other_body.status_code == 422
    async with sessions() as session:
        assert await session.scalar(text("SELECT count(*) FROM label_code")) == 50
        assert await session.scalar(text("SELECT count(*) FROM label_code_batch")) == 1


async def test_criteria_versions_are_data(client: httpx.AsyncClient, make_member: MemberFactory) -> None:
    p = await parties(client, make_member)
    stricter = [
        {"kind": "origin", "districts": ["nanjiang", "tongjiang"]},
        {"kind": "range", "measure": "selenium", "unit": "mg/kg", "minimum": "0.70", "maximum": "4.00"},
    ]
    body = {"category": "tea", "effective_from": today_in_china().isoformat(), "criteria": stricter}
    refused = await client.post("/v1/labels/schemes/BASHAN/criteria", headers=p.certifier.headers, json=body)
    assert refused.status_code == 403
    added = await client.post("/v1/labels/schemes/BASHAN/criteria", headers=p.operator.headers, json=body)
    assert added.status_code == 201, added.text
    assert added.json()["version"] == 2
    schemes = (await client.get("/v1/labels/schemes", headers=p.producer.headers)).json()
    tea = [v for v in schemes[0]["criteria"] if v["category"] == "tea"]
    assert sorted(v["version"] for v in tea) == [1, 2]
    # The selenium result that passed version 1 (0.62) fails version 2, which is in force today.
    response = await client.post(
        "/v1/labels/certifications",
        headers=p.producer.headers,
        json={
            "category": "tea",
            "product": "tea",
            "production_site": "site",
            "district": "nanjiang",
            "annual_volume": 10,
            "volume_unit": "tin",
            "certifier_id": str(p.certifier.organisation_id),
        },
    )
    cid = response.json()["id"]
    from tests.integration.labels.builders import PASSING_FINDINGS, PASSING_LAB, act, ok

    for event, extra in (
        ("start_review", {}),
        ("accept_documents", {}),
        ("record_audit", {"findings": PASSING_FINDINGS}),
        ("record_lab_results", {"lab_results": PASSING_LAB}),
    ):
        await ok(client, p.certifier, cid, event, **extra)
    grant = await act(client, p.certifier, cid, "grant")
    assert grant.status_code == 422
    assert "below the minimum 0.70" in grant.json()["detail"]
    bad = await client.post(
        "/v1/labels/schemes/BASHAN/criteria",
        headers=p.operator.headers,
        json={**body, "criteria": [{"kind": "range", "measure": "lead", "unit": "mg/kg"}]},
    )
    assert bad.status_code == 422
