"""Members of one organisation never see another's private data; the operator sees every organisation."""

from __future__ import annotations

import httpx

from domain.identity.roles import Role
from tests.conftest import MemberFactory


async def test_an_organisation_sees_only_itself(client: httpx.AsyncClient, make_member: MemberFactory) -> None:
    alice = await make_member(Role.PROJECT_OWNER)
    bob = await make_member(Role.ENTERPRISE)

    listed = (await client.get("/v1/organisations", headers=alice.headers)).json()
    assert [item["id"] for item in listed["items"]] == [str(alice.organisation_id)]
    assert listed["next_cursor"] is None

    for path in (f"/v1/organisations/{bob.organisation_id}", f"/v1/organisations/{bob.organisation_id}/users"):
        response = await client.get(path, headers=alice.headers)
        assert response.status_code == 404, path
        assert response.json()["code"] == "organisation_not_found"

    own = await client.get(f"/v1/organisations/{alice.organisation_id}/users", headers=alice.headers)
    assert [user["username"] for user in own.json()] == [alice.username]


async def test_api_keys_of_another_organisation_are_invisible_and_irrevocable(
    client: httpx.AsyncClient, make_member: MemberFactory
) -> None:
    alice = await make_member(Role.BANK)
    bob = await make_member(Role.BANK)
    bobs_key = (await client.post("/v1/api-keys", json={"name": "bob's"}, headers=bob.headers)).json()

    assert (await client.get("/v1/api-keys", headers=alice.headers)).json() == []
    response = await client.delete(f"/v1/api-keys/{bobs_key['id']}", headers=alice.headers)
    assert response.status_code == 404
    assert response.json()["code"] == "api_key_not_found"
    still = (await client.get("/v1/api-keys", headers=bob.headers)).json()
    assert still[0]["revoked_at"] is None
    assert (await client.get("/v1/me", headers={"Authorization": f"Bearer {bobs_key['api_key']}"})).status_code == 200


async def test_users_cannot_be_added_to_another_organisation(
    client: httpx.AsyncClient, make_member: MemberFactory
) -> None:
    alice = await make_member(Role.CERTIFIER)
    bob = await make_member(Role.CERTIFIER)
    response = await client.post(
        f"/v1/organisations/{bob.organisation_id}/users",
        json={"username": "intruder@test", "password": "long-enough-pass"},
        headers=alice.headers,
    )
    assert response.status_code == 404
    users = (await client.get(f"/v1/organisations/{bob.organisation_id}/users", headers=bob.headers)).json()
    assert [user["username"] for user in users] == [bob.username]


async def test_audit_trail_shows_only_own_events(client: httpx.AsyncClient, make_member: MemberFactory) -> None:
    alice = await make_member(Role.ENTERPRISE)
    bob = await make_member(Role.ENTERPRISE)
    await client.post("/v1/api-keys", json={"name": "a"}, headers=alice.headers)
    await client.post("/v1/api-keys", json={"name": "b"}, headers=bob.headers)
    events = (await client.get("/v1/audit-events", headers=alice.headers)).json()["items"]
    assert [event["action"] for event in events] == ["api_key.created"]
    assert events[0]["user_id"] == str(alice.user_id)
    assert events[0]["request_id"]


async def test_operator_sees_every_organisation_page_by_page(
    client: httpx.AsyncClient, make_member: MemberFactory
) -> None:
    operator = await make_member(Role.OPERATOR)
    others = [await make_member(role) for role in (Role.BANK, Role.VERIFIER, Role.CERTIFIER, Role.ENTERPRISE)]
    seen: list[str] = []
    cursor: str | None = None
    pages = 0
    while True:
        params = {"limit": "2"} | ({"cursor": cursor} if cursor else {})
        page = (await client.get("/v1/organisations", params=params, headers=operator.headers)).json()
        seen += [item["id"] for item in page["items"]]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert pages == 3
    assert len(seen) == len(set(seen)) == 5
    assert set(seen) == {str(operator.organisation_id)} | {str(member.organisation_id) for member in others}
    response = await client.get(f"/v1/organisations/{others[0].organisation_id}", headers=operator.headers)
    assert response.status_code == 200
