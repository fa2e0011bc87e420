"""Shared steps for the eco-label tests: parties, accreditation, an application driven through the API."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import httpx

from domain.identity.roles import Role
from tests.conftest import Member, MemberFactory

TEA_APPLICATION = {
    "category": "tea",
    "product": "Nanjiang Huangya green tea, 250 g tin",
    "production_site": "Guanwu village tea garden",
    "district": "nanjiang",
    "annual_volume": 20_000,
    "volume_unit": "tin",
}
PASSING_FINDINGS = {"organic_inputs_only": True}
PASSING_LAB = {"selenium": "0.62", "lead": "0.8"}


@dataclass(frozen=True)
class Parties:
    operator: Member
    certifier: Member
    producer: Member
    accreditation: dict[str, Any]


async def accredit(
    client: httpx.AsyncClient,
    operator: Member,
    certifier: Member,
    *,
    label_number: int = 421,
    categories: tuple[str, ...] = ("tea", "honey"),
    valid_from: date | None = None,
    valid_until: date | None = None,
) -> httpx.Response:
    today = date.today()
    return await client.post(
        "/v1/labels/accreditations",
        headers=operator.headers,
        json={
            "certifier_id": str(certifier.organisation_id),
            "categories": list(categories),
            "valid_from": (valid_from or today - timedelta(days=30)).isoformat(),
            "valid_until": (valid_until or today + timedelta(days=3 * 365)).isoformat(),
            "label_number": label_number,
        },
    )


async def parties(client: httpx.AsyncClient, make_member: MemberFactory, *, label_number: int = 421) -> Parties:
    operator = await make_member(Role.OPERATOR)
    certifier = await make_member(Role.CERTIFIER)
    producer = await make_member(Role.ENTERPRISE)
    response = await accredit(client, operator, certifier, label_number=label_number)
    assert response.status_code == 201, response.text
    return Parties(operator, certifier, producer, response.json())


async def apply(client: httpx.AsyncClient, p: Parties, **overrides: Any) -> httpx.Response:
    body = {**TEA_APPLICATION, "certifier_id": str(p.certifier.organisation_id), **overrides}
    return await client.post("/v1/labels/certifications", headers=p.producer.headers, json=body)


async def act(
    client: httpx.AsyncClient, member: Member, certification_id: str, event: str, **body: Any
) -> httpx.Response:
    return await client.post(
        f"/v1/labels/certifications/{certification_id}/transitions",
        headers=member.headers,
        json={"event": event, **body},
    )


async def ok(
    client: httpx.AsyncClient, member: Member, certification_id: str, event: str, **body: Any
) -> dict[str, Any]:
    response = await act(client, member, certification_id, event, **body)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


async def issued(client: httpx.AsyncClient, p: Parties, **overrides: Any) -> dict[str, Any]:
    """An application taken through the full assessment to an issued certificate."""
    response = await apply(client, p, **overrides)
    assert response.status_code == 201, response.text
    cid = response.json()["id"]
    await ok(client, p.certifier, cid, "start_review")
    await ok(client, p.certifier, cid, "accept_documents")
    await ok(client, p.certifier, cid, "record_audit", findings=PASSING_FINDINGS)
    await ok(client, p.certifier, cid, "record_lab_results", lab_results=PASSING_LAB)
    await ok(client, p.certifier, cid, "grant")
    result = await ok(client, p.certifier, cid, "issue")
    certification: dict[str, Any] = result["certification"]
    assert certification["state"] == "issued"
    return certification


def today_in_china() -> date:
    from datetime import UTC, datetime

    from domain.labels.states import local_date

    return local_date(datetime.now(UTC))


async def set_dates(
    sessions: Any, certification_id: str, *, valid_until: date | None = None, due: date | None = None
) -> None:
    """Move an issued certificate's dates, so that date guards (expiry, renewal, overdue) can be reached today."""
    from sqlalchemy import text

    async with sessions() as session, session.begin():
        if valid_until is not None:
            await session.execute(
                text("UPDATE certification SET valid_from = :start, valid_until = :until WHERE id = :id"),
                {"start": valid_until - timedelta(days=3 * 365), "until": valid_until, "id": certification_id},
            )
        if due is not None:
            await session.execute(
                text("UPDATE certification SET surveillance_due_on = :due WHERE id = :id"),
                {"due": due, "id": certification_id},
            )


async def drive(client: httpx.AsyncClient, p: Parties, sessions: Any, state: str) -> str:
    """A new certification brought to ``state`` through the API (dates moved where a guard needs it)."""
    response = await apply(client, p)
    assert response.status_code == 201, response.text
    cid: str = response.json()["id"]
    steps: dict[str, list[tuple[Member, str, dict[str, Any]]]] = {
        "applied": [],
        "doc_review": [(p.certifier, "start_review", {})],
        "onsite_audit": [(p.certifier, "accept_documents", {})],
        "lab_testing": [(p.certifier, "record_audit", {"findings": PASSING_FINDINGS})],
        "decision": [(p.certifier, "record_lab_results", {"lab_results": PASSING_LAB})],
        "decided": [(p.certifier, "grant", {})],
        "issued": [(p.certifier, "issue", {})],
    }
    order = list(steps)
    base = {
        "rectification": "doc_review",
        "refused": "doc_review",
        "surveillance_overdue": "issued",
        "suspended": "issued",
        "revoked": "issued",
        "expired": "issued",
        "renewed": "issued",
        "withdrawn": "applied",
    }.get(state, state)
    for name in order[1 : order.index(base) + 1]:
        for member, event, body in steps[name]:
            await ok(client, member, cid, event, **body)
    today = today_in_china()
    if state == "rectification":
        await ok(client, p.certifier, cid, "request_rectification", reasons=["land-use record missing"])
    elif state == "refused":
        await ok(client, p.certifier, cid, "refuse", reason="site outside the region")
    elif state == "surveillance_overdue":
        await set_dates(sessions, cid, due=today - timedelta(days=1))
        await ok(client, p.operator, cid, "mark_overdue")
    elif state == "suspended":
        await ok(client, p.certifier, cid, "suspend", reason="pesticide residue found")
    elif state == "revoked":
        await ok(client, p.certifier, cid, "revoke", reason="fraudulent lab report")
    elif state == "expired":
        await set_dates(sessions, cid, valid_until=today - timedelta(days=1))
        await ok(client, p.operator, cid, "expire")
    elif state == "renewed":
        await set_dates(sessions, cid, valid_until=today + timedelta(days=30))
        await ok(client, p.certifier, cid, "renew")
    elif state == "withdrawn":
        await ok(client, p.producer, cid, "withdraw", reason="stopped producing")
    return cid
