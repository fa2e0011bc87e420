"""Public notice enforced in Asia/Shanghai days; withdrawal by the owner, deregistration by the operator, parcel
release; each through the API with role checks and audit records."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from domain.registry.notice import shanghai_today
from services.audit import AuditEvent
from tests.conftest import Member, MemberFactory
from tests.integration.registry.builders import (
    API,
    Cast,
    cast,
    draft_project,
    elapse_notice,
    issued_project,
    ok,
    parcel_body,
    post,
    registered_project,
    report_body,
    seeded,
    verified_report,
)

__all__ = ["seeded"]
REGISTER = {"decision": "register"}


async def _audit(sessions: async_sessionmaker[AsyncSession], action: str) -> list[tuple[Any, dict[str, Any]]]:
    async with sessions() as session:
        rows = await session.execute(
            select(AuditEvent.organisation_id, AuditEvent.detail).where(AuditEvent.action == action)
        )
        return [(organisation, detail) for organisation, detail in rows]


async def _on_notice(client: httpx.AsyncClient, people: Cast, first: int = 1) -> dict[str, Any]:
    project, _ = await draft_project(client, people, first=first)
    pid = project["id"]
    body = {"validator_id": str(people.verifier.organisation_id)}
    await ok(await post(client, people.owner, f"/projects/{pid}/submission", body))
    return await ok(await post(client, people.verifier, f"/projects/{pid}/validation", {"decision": "approve"}))


async def test_registration_waits_for_twenty_shanghai_days_of_public_notice(
    client: httpx.AsyncClient, make_member: MemberFactory, sessions: async_sessionmaker[AsyncSession], seeded: None
) -> None:
    people = await cast(client, make_member)
    project = await _on_notice(client, people)
    today = shanghai_today()
    assert project["status"] == "public_notice"
    assert project["public_notice_on"] == today.isoformat()
    assert project["public_notice_until"] == (today + timedelta(days=19)).isoformat()
    path = f"/projects/{project['id']}/registration"

    refused = await post(client, people.operator, path, REGISTER)
    assert refused.status_code == 409
    problem = refused.json()
    ends = (today + timedelta(days=19)).isoformat()
    assert problem["code"] == "public_notice_running"
    assert problem["notice_ends_on"] == ends
    assert problem["registrable_from"] == (today + timedelta(days=20)).isoformat()
    assert f"runs until {ends}" in problem["detail"]
    assert refused.headers["content-type"] == "application/problem+json"

    # 19 days on, the notice's last day: still refused. One more day: registered.
    await elapse_notice(project["id"], 19)
    last_day = await post(client, people.operator, path, REGISTER)
    assert last_day.status_code == 409
    assert last_day.json()["notice_ends_on"] == today.isoformat()
    await elapse_notice(project["id"], 1)
    registered = await ok(await post(client, people.operator, path, REGISTER))
    assert registered["status"] == "registered"
    validations = await _audit(sessions, "project.validate")
    assert validations[0][1]["notice_from"] == today.isoformat()


async def test_an_objection_may_reject_during_the_notice_and_the_methodology_sets_its_length(
    client: httpx.AsyncClient, make_member: MemberFactory, seeded: None
) -> None:
    people = await cast(client, make_member)
    project = await _on_notice(client, people)
    rejected = await ok(
        await post(
            client,
            people.operator,
            f"/projects/{project['id']}/registration",
            {"decision": "reject", "reasons": ["an objection from the village committee was upheld"]},
        )
    )
    assert rejected["status"] == "draft"
    # A methodology version with a 5-day notice governs the next validation.
    definition = await ok(await client.get("/v1/public/methodologies/CCER-14-001-V01/1"))
    body = {k: definition["definition"][k] for k in ("code", "name", "species")}
    body["rules"] = definition["definition"]["rules"] | {"public_notice_days": 5}
    await ok(await post(client, people.operator, "/methodologies", body), 201)
    await ok(await post(client, people.operator, "/methodologies/CCER-14-001-V01/2/publication", {}))
    pid = project["id"]
    body = {"validator_id": str(people.verifier.organisation_id)}
    await ok(await post(client, people.owner, f"/projects/{pid}/submission", body))
    noticed = await ok(await post(client, people.verifier, f"/projects/{pid}/validation", {"decision": "approve"}))
    assert noticed["public_notice_until"] == (shanghai_today() + timedelta(days=4)).isoformat()
    await elapse_notice(pid, 5)
    await ok(await post(client, people.operator, f"/projects/{pid}/registration", REGISTER))


async def _refused(
    client: httpx.AsyncClient, members: list[Member], path: str, body: dict[str, Any], status: int
) -> None:
    for member in members:
        response = await post(client, member, path, body)
        assert response.status_code == status, (member.organisation_id, response.text)


async def test_owner_withdraws_before_registration_and_the_land_is_free_again(
    client: httpx.AsyncClient, make_member: MemberFactory, sessions: async_sessionmaker[AsyncSession], seeded: None
) -> None:
    people = await cast(client, make_member)
    stranger = await make_member(_owner_role())
    project = await _on_notice(client, people)
    path = f"/projects/{project['id']}/withdrawal"
    reason = {"reason": "the collective decided to sell the timber"}
    await _refused(client, [people.verifier, people.operator, people.enterprise], path, reason, 403)
    await _refused(client, [stranger], path, reason, 403)
    empty = await post(client, people.owner, path, {"reason": ""})
    assert empty.status_code == 422
    withdrawn = await ok(await post(client, people.owner, path, reason))
    assert (withdrawn["status"], withdrawn["closed_reason"]) == ("withdrawn", reason["reason"])
    assert withdrawn["closed_at"] is not None
    again = await post(client, people.owner, path, reason)
    assert again.status_code == 409
    register = await post(client, people.operator, f"/projects/{project['id']}/registration", REGISTER)
    assert register.status_code == 409
    parcels = await ok(await client.get(f"{API}/projects/{project['id']}/parcels", headers=people.owner.headers))
    assert [p["active"] for p in parcels["items"]] == [False]
    # Withdrawn during the notice, it stays on the public record.
    public = await ok(await client.get(f"/v1/public/projects/{project['id']}"))
    assert public["status"] == "withdrawn"
    events = await _audit(sessions, "project.withdraw")
    assert len(events) == 1
    assert events[0][0] == people.owner.organisation_id
    assert events[0][1]["released_parcels"] == [parcels["items"][0]["parcel_key"]]
    assert events[0][1]["from"] == "public_notice"
    # Another project takes the land.
    other, _ = await draft_project(client, people, parcels=0)
    await ok(await post(client, people.owner, f"/projects/{other['id']}/parcels", parcel_body(1)), 201)

    # A draft withdrawn before any notice stays private.
    draft, _ = await draft_project(client, people, parcels=0)
    await ok(await post(client, people.owner, f"/projects/{draft['id']}/withdrawal", reason))
    assert (await client.get(f"/v1/public/projects/{draft['id']}")).status_code == 404
    # A registered project is deregistered by the operator, not withdrawn by its owner.
    registered, _ = await registered_project(client, people, first=5, district="TJ")
    late = await post(client, people.owner, f"/projects/{registered['id']}/withdrawal", reason)
    assert late.status_code == 409
    assert "allowed in registered: start_monitoring, deregister" in late.json()["detail"]


def _owner_role() -> Any:
    from domain.identity.roles import Role

    return Role.PROJECT_OWNER


async def test_operator_deregisters_no_further_issuance_and_issued_credits_stay(
    client: httpx.AsyncClient, make_member: MemberFactory, sessions: async_sessionmaker[AsyncSession], seeded: None
) -> None:
    people = await cast(client, make_member)
    project, parcels, issuance = await issued_project(client, people)
    report = await verified_report(client, people, project, parcels, start="2026-01-01", end="2030-12-31")
    path = f"/projects/{project['id']}/deregistration"
    reason = {"reason": "illegal logging found on the parcels; tenure revoked"}
    await _refused(client, [people.owner, people.verifier, people.enterprise], path, reason, 403)
    no_reason = await post(client, people.operator, path, {})
    assert no_reason.status_code == 422
    gone = await ok(await post(client, people.operator, path, reason))
    assert (gone["status"], gone["closed_reason"]) == ("deregistered", reason["reason"])
    # No further issuance: the verified report was withdrawn with the project.
    refused = await post(client, people.operator, f"/monitoring-reports/{report['id']}/issuance", {})
    assert refused.status_code == 409
    reports = await ok(
        await client.get(f"{API}/projects/{project['id']}/monitoring-reports", headers=people.owner.headers)
    )
    assert [(r["number"], r["status"]) for r in reports["items"]] == [(1, "issued"), (2, "withdrawn")]
    more = await post(
        client,
        people.owner,
        f"/projects/{project['id']}/monitoring-reports",
        report_body(parcels, start="2031-01-01", end="2035-12-31"),
    )
    assert more.status_code == 409
    # Issued credits stay with their holder and still move.
    holdings = await ok(await client.get(API + "/holdings", headers=people.owner.headers))
    assert [(h["asset_code"], h["balance"]) for h in holdings] == [(issuance["asset_code"], 3023)]
    moved = await post(
        client,
        people.owner,
        "/transfers",
        {"asset_code": issuance["asset_code"], "quantity": 23, "recipient_id": str(people.enterprise.organisation_id)},
    )
    assert moved.status_code == 201, moved.text
    events = await _audit(sessions, "project.deregister")
    assert len(events) == 1
    assert events[0][0] == people.operator.organisation_id
    assert events[0][1]["withdrawn_reports"] == [2]
    assert events[0][1]["from"] == "verifying"


async def test_owner_releases_a_parcel_that_was_never_credited(
    client: httpx.AsyncClient, make_member: MemberFactory, sessions: async_sessionmaker[AsyncSession], seeded: None
) -> None:
    people = await cast(client, make_member)
    stranger = await make_member(_owner_role())
    project, parcels = await registered_project(client, people, parcels=3)
    pid = project["id"]
    credited, spare, measured = parcels
    report = await verified_report(client, people, project, [credited])
    await ok(await post(client, people.operator, f"/monitoring-reports/{report['id']}/issuance", {}), 201)
    await verified_report(client, people, project, [measured], start="2026-01-01", end="2030-12-31")
    reason = {"reason": "sold to the township"}

    def path(parcel: dict[str, Any]) -> str:
        return f"/projects/{pid}/parcels/{parcel['id']}/release"

    await _refused(client, [people.verifier, people.operator, people.enterprise], path(spare), reason, 403)
    await _refused(client, [stranger], path(spare), reason, 404)
    for parcel, code in ((credited, "parcel_credited"), (measured, "parcel_in_open_report")):
        response = await post(client, people.owner, path(parcel), reason)
        assert response.status_code == 409
        assert response.json()["code"] == code
    released = await ok(await post(client, people.owner, path(spare), reason))
    assert (released["active"], released["released_at"] is not None) == (False, True)
    twice = await post(client, people.owner, path(spare), reason)
    assert (twice.status_code, twice.json()["code"]) == (409, "parcel_released")
    unknown = await post(client, people.owner, f"/projects/{pid}/parcels/{project['id']}/release", reason)
    assert unknown.status_code == 404
    events = await _audit(sessions, "parcel.release")
    assert [(org, detail["key"]) for org, detail in events] == [(people.owner.organisation_id, spare["parcel_key"])]
    # The released parcel cannot be measured by its old project, and another project may take it.
    old = await post(
        client,
        people.owner,
        f"/projects/{pid}/monitoring-reports",
        report_body([spare], start="2031-01-01", end="2032-12-31"),
    )
    assert old.status_code in (409, 422)
    other, _ = await draft_project(client, people, parcels=0)
    await ok(await post(client, people.owner, f"/projects/{other['id']}/parcels", parcel_body(2)), 201)

    # Parcels under validation or notice are not released one by one.
    noticed = await _on_notice(client, people, first=10)
    listed = await ok(await client.get(f"{API}/projects/{noticed['id']}/parcels", headers=people.owner.headers))
    under_review = await post(
        client, people.owner, f"/projects/{noticed['id']}/parcels/{listed['items'][0]['id']}/release", reason
    )
    assert (under_review.status_code, under_review.json()["code"]) == (409, "parcel_under_review")
