"""Role checks at every step of the registry: each wrong role or organisation gets 403 or 404 and changes nothing."""

from __future__ import annotations

import httpx

from domain.identity.roles import Role
from tests.conftest import Member, MemberFactory
from tests.integration.registry.builders import (
    API,
    Cast,
    cast,
    draft_project,
    elapse_notice,
    ok,
    parcel_body,
    post,
    project_body,
    registered_project,
    report_body,
    seeded,
)

__all__ = ["seeded"]


async def _refused(
    client: httpx.AsyncClient, members: list[Member], path: str, body: dict[str, object], statuses: set[int]
) -> None:
    for member in members:
        response = await post(client, member, path, body)
        assert response.status_code in statuses, (member.role, path, response.text)
        assert response.headers["content-type"] == "application/problem+json"


async def _outsiders(make_member: MemberFactory) -> tuple[Member, Member, Member]:
    """Another owner, a verifier accredited by nobody, an enterprise."""
    return (
        await make_member(Role.PROJECT_OWNER),
        await make_member(Role.VERIFIER),
        await make_member(Role.ENTERPRISE),
    )


async def test_lifecycle_steps_refuse_every_wrong_role(
    client: httpx.AsyncClient, make_member: MemberFactory, seeded: None
) -> None:
    people: Cast = await cast(client, make_member)
    stranger, loose_verifier, buyer = await _outsiders(make_member)
    bank = await make_member(Role.BANK)

    # Create: only a project owner (scope projects:write).
    await _refused(client, [people.verifier, people.operator, buyer, bank], "/projects", project_body(), {403})

    project, _ = await draft_project(client, people, parcels=0)
    pid = project["id"]
    # Parcels: another owner cannot see the draft (404); other roles lack the scope (403).
    await _refused(client, [stranger], f"/projects/{pid}/parcels", parcel_body(1), {404})
    await _refused(client, [people.verifier, people.operator, buyer], f"/projects/{pid}/parcels", parcel_body(1), {403})
    parcel = await ok(await post(client, people.owner, f"/projects/{pid}/parcels", parcel_body(1)), 201)

    submission = {"validator_id": str(people.verifier.organisation_id)}
    await _refused(client, [stranger], f"/projects/{pid}/submission", submission, {404})
    await _refused(client, [people.verifier, people.operator, buyer], f"/projects/{pid}/submission", submission, {403})
    # Choosing a verifier the operator never accredited is refused.
    unaccredited = {"validator_id": str(loose_verifier.organisation_id)}
    refused = await post(client, people.owner, f"/projects/{pid}/submission", unaccredited)
    assert refused.status_code == 422
    assert refused.json()["code"] == "chosen_verifier_not_accredited"
    await ok(await post(client, people.owner, f"/projects/{pid}/submission", submission))

    # Validation: only the chosen, accredited verifier. Another verifier cannot even see the project.
    approve = {"decision": "approve"}
    await _refused(client, [loose_verifier], f"/projects/{pid}/validation", approve, {404})
    await _refused(client, [people.owner, people.operator, buyer], f"/projects/{pid}/validation", approve, {403})
    await ok(await post(client, people.verifier, f"/projects/{pid}/validation", approve))

    # Registration: only the operator.
    register = {"decision": "register"}
    await _refused(
        client, [people.owner, people.verifier, stranger, buyer], f"/projects/{pid}/registration", register, {403}
    )
    await elapse_notice(pid)
    await ok(await post(client, people.operator, f"/projects/{pid}/registration", register))

    # Monitoring report: only the project's owner.
    body = report_body([parcel])
    await _refused(client, [stranger], f"/projects/{pid}/monitoring-reports", body, {403})
    await _refused(
        client, [people.verifier, people.operator, buyer], f"/projects/{pid}/monitoring-reports", body, {403}
    )
    report = await ok(await post(client, people.owner, f"/projects/{pid}/monitoring-reports", body), 201)

    # Verification: only the report's accredited verifier.
    rid = report["id"]
    await _refused(
        client, [people.owner, people.operator, buyer], f"/monitoring-reports/{rid}/verification", approve, {403}
    )
    await _refused(client, [loose_verifier], f"/monitoring-reports/{rid}/verification", approve, {403, 404})
    # Issuance before verification: the operator is refused by the state machine.
    early = await post(client, people.operator, f"/monitoring-reports/{rid}/issuance", {})
    assert early.status_code == 409
    await ok(await post(client, people.verifier, f"/monitoring-reports/{rid}/verification", approve), 201)

    # Issuance: only the operator.
    await _refused(
        client, [people.owner, people.verifier, buyer, bank], f"/monitoring-reports/{rid}/issuance", {}, {403}
    )
    issuance = await ok(await post(client, people.operator, f"/monitoring-reports/{rid}/issuance", {}), 201)
    assert issuance["issued_tonnes"] == 3023

    # Reversal: only the operator.
    loss = {"event_type": "fire", "occurred_on": "2026-03-01", "tonnes_lost": 10, "description": "山火 wildfire"}
    await _refused(client, [people.owner, people.verifier, buyer], f"/projects/{pid}/reversals", loss, {403})

    # Credits: holders with credits:manage only; verifier and operator lack the scope.
    asset = issuance["asset_code"]
    transfer = {"asset_code": asset, "quantity": 5, "recipient_id": str(buyer.organisation_id)}
    await _refused(client, [people.verifier, people.operator], "/transfers", transfer, {403})
    retirement = {
        "asset_code": asset,
        "quantity": 5,
        "beneficiary": "someone",
        "purpose": "offset",
        "claim_start": "2025-01-01",
        "claim_end": "2025-12-31",
    }
    await _refused(client, [people.verifier, people.operator, bank], "/retirements", retirement, {403})
    # A holder without credits of the batch is refused by the ledger, not allowed to spend another's.
    await _refused(client, [stranger, buyer], "/retirements", retirement, {422})
    await _refused(client, [buyer], "/transfers", transfer | {"recipient_id": str(stranger.organisation_id)}, {422})

    holdings = await ok(await client.get(API + "/holdings", headers=people.owner.headers))
    assert holdings[0]["balance"] == 3023  # nothing moved by any refused call


async def test_operator_only_accredits_and_publishes(
    client: httpx.AsyncClient, make_member: MemberFactory, seeded: None
) -> None:
    people = await cast(client, make_member)
    accreditation = {
        "organisation_id": str(people.verifier.organisation_id),
        "valid_from": "2026-01-01",
        "valid_until": "2027-12-31",
    }
    await _refused(
        client, [people.owner, people.verifier, people.enterprise], "/verifier-accreditations", accreditation, {403}
    )
    methodology = {
        "code": "CCER-14-001-V01",
        "name": "test",
        "species": [
            {
                "species": "oak",
                "name_zh": "栎类",
                "name_en": "oak",
                "wood_density": "0.676",
                "biomass_expansion_factor": "1.355",
                "root_shoot_ratio": "0.292",
                "carbon_fraction": "0.5",
            }
        ],
    }
    await _refused(client, [people.owner, people.verifier, people.enterprise], "/methodologies", methodology, {403})
    # An enterprise cannot be accredited as a verifier.
    wrong = accreditation | {"organisation_id": str(people.enterprise.organisation_id)}
    response = await post(client, people.operator, "/verifier-accreditations", wrong)
    assert response.status_code == 422
    assert response.json()["code"] == "not_a_verifier"


async def test_revoked_or_expired_accreditation_cannot_validate(
    client: httpx.AsyncClient, make_member: MemberFactory, seeded: None
) -> None:
    people = await cast(client, make_member)
    project, _ = await draft_project(client, people)
    pid = project["id"]
    await ok(
        await post(
            client, people.owner, f"/projects/{pid}/submission", {"validator_id": str(people.verifier.organisation_id)}
        )
    )
    listed = await ok(await client.get(API + "/verifier-accreditations", headers=people.verifier.headers))
    accreditation_id = listed["items"][0]["id"]
    await ok(
        await post(
            client,
            people.operator,
            f"/verifier-accreditations/{accreditation_id}/revocation",
            {"reason": "audit failed"},
        )
    )
    refused = await post(client, people.verifier, f"/projects/{pid}/validation", {"decision": "approve"})
    assert refused.status_code == 403
    assert refused.json()["code"] == "verifier_not_accredited"
    # Re-accredited, but only for a window that has ended: still refused.
    await ok(
        await post(
            client,
            people.operator,
            "/verifier-accreditations",
            {
                "organisation_id": str(people.verifier.organisation_id),
                "valid_from": "2020-01-01",
                "valid_until": "2021-01-01",
            },
        ),
        201,
    )
    refused = await post(client, people.verifier, f"/projects/{pid}/validation", {"decision": "approve"})
    assert refused.status_code == 403


async def test_private_projects_are_invisible_to_others_and_public_after_notice(
    client: httpx.AsyncClient, make_member: MemberFactory, seeded: None
) -> None:
    people = await cast(client, make_member)
    stranger = await make_member(Role.PROJECT_OWNER)
    project, _ = await draft_project(client, people, parcels=0)
    pid = project["id"]
    assert (await client.get(f"{API}/projects/{pid}", headers=stranger.headers)).status_code == 404
    assert (await client.get(f"/v1/public/projects/{pid}")).status_code == 404
    assert (await ok(await client.get(f"{API}/projects", headers=stranger.headers)))["items"] == []
    assert (await ok(await client.get(f"{API}/projects", headers=people.operator.headers)))["items"][0]["id"] == pid
    registered, _ = await registered_project(client, people)
    public = await ok(await client.get(f"/v1/public/projects/{registered['id']}"))
    assert public["status"] == "registered"
    listed = await ok(await client.get("/v1/public/projects"))
    assert [item["code"] for item in listed["items"]] == [registered["code"]]
