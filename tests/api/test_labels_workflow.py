"""The certification state machine through the API: every legal transition once, every illegal one refused (409)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest

from domain.labels.states import RULES, ActorRole, CertificationEvent, CertificationState
from tests.conftest import MemberFactory
from tests.integration.labels.builders import (
    PASSING_FINDINGS,
    PASSING_LAB,
    Parties,
    act,
    drive,
    issued,
    ok,
    parties,
    set_dates,
    today_in_china,
)

E = CertificationEvent
S = CertificationState
LEGAL = sorted((source.value, event.value) for event, rule in RULES.items() for source in rule.sources)
ILLEGAL = sorted(
    (state.value, event.value) for state in S for event, rule in RULES.items() if state not in rule.sources
)
BODIES: dict[str, dict[str, Any]] = {
    "record_audit": {"findings": PASSING_FINDINGS},
    "record_lab_results": {"lab_results": PASSING_LAB},
    "request_rectification": {"reasons": ["tenure record unreadable"]},
    "refuse": {"reason": "lead above the limit"},
    "suspend": {"reason": "complaint under investigation"},
    "reinstate": {"reason": "corrective audit passed"},
    "revoke": {"reason": "labels used on uncertified tea"},
    "withdraw": {"reason": "the garden was sold"},
}


async def _shortened_path(client: httpx.AsyncClient, p: Parties) -> str:
    today = today_in_china()
    response = await client.post(
        "/v1/labels/recognitions",
        headers=p.operator.headers,
        json={
            "recognised_scheme": "CN-ORGANIC",
            "name": "China organic product certification",
            "categories": ["tea"],
            "valid_from": (today - timedelta(days=10)).isoformat(),
            "valid_until": (today + timedelta(days=365)).isoformat(),
        },
    )
    assert response.status_code == 201, response.text
    foreign = {
        "scheme": "CN-ORGANIC",
        "number": "ORG-2025-0042",
        "valid_until": (today + timedelta(days=90)).isoformat(),
    }
    response = await client.post(
        "/v1/labels/certifications",
        headers=p.producer.headers,
        json={
            "category": "tea",
            "product": "Nanjiang Huangya green tea, 250 g tin",
            "production_site": "Guanwu village tea garden",
            "district": "nanjiang",
            "annual_volume": 20_000,
            "volume_unit": "tin",
            "certifier_id": str(p.certifier.organisation_id),
            "foreign_certificate": foreign,
        },
    )
    assert response.status_code == 201, response.text
    assert response.json()["shortened_path"] is True
    cid: str = response.json()["id"]
    await ok(client, p.certifier, cid, "start_review")
    return cid


@pytest.mark.parametrize(("source", "event"), LEGAL)
async def test_every_legal_transition(
    client: httpx.AsyncClient, make_member: MemberFactory, sessions: Any, source: str, event: str
) -> None:
    p = await parties(client, make_member)
    if (source, event) == ("doc_review", "grant"):
        cid = await _shortened_path(client, p)
    else:
        cid = await drive(client, p, sessions, source)
    today = today_in_china()
    if event == "mark_overdue":
        await set_dates(sessions, cid, due=today - timedelta(days=1))
    elif event == "expire":
        await set_dates(sessions, cid, valid_until=today - timedelta(days=1))
    elif event == "renew":
        await set_dates(sessions, cid, valid_until=today + timedelta(days=60))
    actors = RULES[E(event)].actors
    member = (
        p.certifier if ActorRole.CERTIFIER in actors else p.operator if ActorRole.OPERATOR in actors else p.producer
    )
    result = await ok(client, member, cid, event, **BODIES.get(event, {}))
    rule = RULES[E(event)]
    expected = rule.target.value if rule.target else "doc_review"  # rectification resumes where it was asked
    assert result["certification"]["state"] == expected
    made = result["transitions"][-1]
    assert (made["event"], made["from_state"], made["to_state"]) == (event, source, expected)
    assert made["actor_organisation_id"] == str(member.organisation_id)
    assert made["actor_role"] in {a.value for a in actors}
    assert made["reason"] == (BODIES.get(event, {}).get("reason") or made["reason"])
    history = (await client.get(f"/v1/labels/certifications/{cid}/transitions", headers=p.producer.headers)).json()
    assert history[-1]["event"] == event
    if event == "issue":
        number = result["certification"]["number"]
        assert number.startswith(f"BSEL-0421-{today.year}-")
        assert result["certification"]["valid_until"] is not None
    if event == "renew":
        successor = result["successor"]
        assert successor["state"] == "issued"
        assert successor["predecessor_id"] == cid
        assert successor["number"] != result["certification"]["number"]


@pytest.mark.parametrize("state", [s.value for s in S])
async def test_illegal_transitions_are_refused_with_a_reason(
    client: httpx.AsyncClient, make_member: MemberFactory, sessions: Any, state: str
) -> None:
    p = await parties(client, make_member)
    cid = await drive(client, p, sessions, state)
    for source, event in ILLEGAL:
        if source != state:
            continue
        response = await act(client, p.certifier, cid, event, **BODIES.get(event, {}))
        assert response.status_code == 409, (event, response.text)
        problem = response.json()
        assert problem["code"] == "invalid_transition"
        assert f"in state {state}" in problem["detail"]
        assert "allowed here" in problem["detail"]
    after = (await client.get(f"/v1/labels/certifications/{cid}", headers=p.certifier.headers)).json()
    assert after["state"] == state


async def test_wrong_actor_missing_reason_and_unmet_criteria(
    client: httpx.AsyncClient, make_member: MemberFactory
) -> None:
    p = await parties(client, make_member)
    response = await client.post(
        "/v1/labels/certifications",
        headers=p.producer.headers,
        json={
            "category": "tea",
            "product": "tea",
            "production_site": "site",
            "district": "nanjiang",
            "annual_volume": 100,
            "volume_unit": "tin",
            "certifier_id": str(p.certifier.organisation_id),
        },
    )
    cid = response.json()["id"]
    refused = await act(client, p.producer, cid, "start_review")
    assert refused.status_code == 403
    assert refused.json()["code"] == "actor_not_allowed"
    await ok(client, p.certifier, cid, "start_review")
    no_reason = await act(client, p.certifier, cid, "refuse")
    assert no_reason.status_code == 422
    assert no_reason.json()["code"] == "reason_required"
    early = await act(client, p.certifier, cid, "grant")
    assert early.status_code == 409
    assert "shortened-path" in early.json()["detail"]
    await ok(client, p.certifier, cid, "accept_documents")
    await ok(client, p.certifier, cid, "record_audit", findings={"organic_inputs_only": False})
    await ok(client, p.certifier, cid, "record_lab_results", lab_results={"selenium": "0.10", "lead": "0.8"})
    unmet = await act(client, p.certifier, cid, "grant")
    assert unmet.status_code == 422
    assert unmet.json()["code"] == "criteria_not_met"
    assert "selenium 0.1" in unmet.json()["detail"]
    assert "organic_inputs_only" in unmet.json()["detail"]


async def test_rectification_resumes_and_the_log_says_who_when_why(
    client: httpx.AsyncClient, make_member: MemberFactory
) -> None:
    p = await parties(client, make_member)
    cid = (
        await client.post(
            "/v1/labels/certifications",
            headers=p.producer.headers,
            json={
                "category": "tea",
                "product": "tea",
                "production_site": "site",
                "district": "nanjiang",
                "annual_volume": 100,
                "volume_unit": "tin",
                "certifier_id": str(p.certifier.organisation_id),
            },
        )
    ).json()["id"]
    for event, body in (
        ("start_review", {}),
        ("accept_documents", {}),
        ("record_audit", {"findings": PASSING_FINDINGS}),
    ):
        await ok(client, p.certifier, cid, event, **body)
    asked = await ok(
        client,
        p.certifier,
        cid,
        "request_rectification",
        reasons=["soil test missing", "map unsigned"],
        resume_at="onsite_audit",
    )
    assert asked["certification"]["rectification_reasons"] == ["soil test missing", "map unsigned"]
    back = await ok(client, p.producer, cid, "submit_rectification", reason="both attached")
    assert back["certification"]["state"] == "onsite_audit"
    history = (await client.get(f"/v1/labels/certifications/{cid}/transitions", headers=p.certifier.headers)).json()
    assert [h["event"] for h in history] == [
        "start_review",
        "accept_documents",
        "record_audit",
        "request_rectification",
        "submit_rectification",
    ]
    assert history[3]["reason"] == "soil test missing; map unsigned"
    assert history[4]["actor_role"] == "producer"
    assert history[4]["actor_user_id"] == str(p.producer.user_id)
    detail = (await client.get(f"/v1/labels/certifications/{cid}", headers=p.producer.headers)).json()
    assert detail["findings"][0]["finding"] == "organic_inputs_only"


async def test_issued_certificate_dates(client: httpx.AsyncClient, make_member: MemberFactory) -> None:
    p = await parties(client, make_member)
    certificate = await issued(client, p)
    from datetime import date

    start = date.fromisoformat(certificate["valid_from"])
    until = date.fromisoformat(certificate["valid_until"])
    assert (until.year - start.year, (until + timedelta(days=1)).replace(year=start.year) == start) == (3, True)
    due = date.fromisoformat(certificate["surveillance_due_on"])
    assert (due.year - start.year, due.month, due.day) == (1, start.month, start.day) or start.day > 28
