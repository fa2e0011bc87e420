"""OAuth2 flows, scopes, API keys and token validity, through the HTTP API."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import jwt

from domain.identity.roles import ROLE_SCOPES, Role
from services.config import Settings
from tests.conftest import PASSWORD, MemberFactory

PROBLEM = "application/problem+json"


async def password_token(client: httpx.AsyncClient, username: str, password: str, scope: str = "") -> httpx.Response:
    data = {"grant_type": "password", "username": username, "password": password}
    if scope:
        data["scope"] = scope
    return await client.post("/v1/auth/token", data=data)


async def test_password_grant_gives_a_token_that_me_accepts(
    client: httpx.AsyncClient, make_member: MemberFactory
) -> None:
    member = await make_member(Role.PROJECT_OWNER)
    response = await password_token(client, member.username, PASSWORD)
    assert response.status_code == 200
    token = response.json()
    assert token["token_type"] == "bearer"
    assert token["expires_in"] == 15 * 60
    assert set(token["scope"].split()) == {scope.value for scope in ROLE_SCOPES[Role.PROJECT_OWNER]}

    me = await client.get("/v1/me", headers={"Authorization": f"Bearer {token['access_token']}"})
    assert me.status_code == 200
    body = me.json()
    assert body["organisation_id"] == str(member.organisation_id)
    assert body["user_id"] == str(member.user_id)
    assert body["role"] == "project_owner"
    assert body["api_key_id"] is None


async def test_wrong_password_and_unknown_user_get_the_same_401(
    client: httpx.AsyncClient, make_member: MemberFactory
) -> None:
    member = await make_member(Role.ENTERPRISE)
    wrong = await password_token(client, member.username, "not-the-password")
    unknown = await password_token(client, "nobody@test", PASSWORD)
    for response in (wrong, unknown):
        assert response.status_code == 401
        assert response.headers["content-type"] == PROBLEM
        assert response.json()["code"] == "invalid_grant"
        assert response.json()["detail"] == "wrong username or password"
        assert response.headers["www-authenticate"].startswith("Bearer")


async def test_a_token_can_be_narrowed_to_some_scopes(client: httpx.AsyncClient, make_member: MemberFactory) -> None:
    member = await make_member(Role.ENTERPRISE)
    response = await password_token(client, member.username, PASSWORD, scope="profile")
    assert response.status_code == 200
    assert response.json()["scope"] == "profile"
    headers = {"Authorization": f"Bearer {response.json()['access_token']}"}

    assert (await client.get("/v1/me", headers=headers)).status_code == 200
    refused = await client.get("/v1/api-keys", headers=headers)
    assert refused.status_code == 403
    assert refused.json()["code"] == "insufficient_scope"
    assert refused.json()["required"] == ["organisation:admin"]


async def test_a_scope_outside_the_role_is_refused(client: httpx.AsyncClient, make_member: MemberFactory) -> None:
    member = await make_member(Role.ENTERPRISE)
    outside = await password_token(client, member.username, PASSWORD, scope="profile registry:operate")
    assert outside.status_code == 400
    assert outside.json()["code"] == "invalid_scope"
    unknown = await password_token(client, member.username, PASSWORD, scope="profile launch:rockets")
    assert unknown.status_code == 400
    assert unknown.json()["code"] == "invalid_scope"


async def test_operator_only_route_refuses_other_roles(client: httpx.AsyncClient, make_member: MemberFactory) -> None:
    bank = await make_member(Role.BANK)
    response = await client.post("/v1/organisations", json={"name": "X", "role": "bank"}, headers=bank.headers)
    assert response.status_code == 403
    assert response.json()["code"] == "insufficient_scope"
    operator = await make_member(Role.OPERATOR)
    created = await client.post(
        "/v1/organisations", json={"name": "通江县银耳合作社", "role": "project_owner"}, headers=operator.headers
    )
    assert created.status_code == 201
    assert created.json()["role"] == "project_owner"


async def test_api_key_client_credentials_and_direct_bearer(
    client: httpx.AsyncClient, make_member: MemberFactory
) -> None:
    member = await make_member(Role.BANK)
    created = await client.post(
        "/v1/api-keys", json={"name": "robot", "scopes": ["profile", "accounts:read"]}, headers=member.headers
    )
    assert created.status_code == 201
    key = created.json()
    assert key["scopes"] == ["accounts:read", "profile"]
    assert key["last_used_at"] is None
    assert key["api_key"] == f"{key['client_id']}.{key['client_secret']}"

    token = await client.post(
        "/v1/auth/token",
        data={"grant_type": "client_credentials", "client_id": key["client_id"], "client_secret": key["client_secret"]},
    )
    assert token.status_code == 200
    assert token.json()["scope"] == "accounts:read profile"
    via_token = await client.get("/v1/me", headers={"Authorization": f"Bearer {token.json()['access_token']}"})
    assert via_token.status_code == 200
    assert via_token.json()["api_key_id"] == key["id"]
    assert via_token.json()["user_id"] is None

    direct = await client.get("/v1/me", headers={"Authorization": f"Bearer {key['api_key']}"})
    assert direct.status_code == 200
    assert direct.json()["organisation_id"] == str(member.organisation_id)

    listed = (await client.get("/v1/api-keys", headers=member.headers)).json()
    assert [item["id"] for item in listed] == [key["id"]]
    assert listed[0]["last_used_at"] is not None
    assert "client_secret" not in listed[0]


async def test_a_revoked_api_key_and_its_tokens_stop_working(
    client: httpx.AsyncClient, make_member: MemberFactory
) -> None:
    member = await make_member(Role.CERTIFIER)
    key = (await client.post("/v1/api-keys", json={"name": "printer"}, headers=member.headers)).json()
    token = (
        await client.post(
            "/v1/auth/token",
            data={
                "grant_type": "client_credentials",
                "client_id": key["client_id"],
                "client_secret": key["client_secret"],
            },
        )
    ).json()["access_token"]

    revoked = await client.delete(f"/v1/api-keys/{key['id']}", headers=member.headers)
    assert revoked.status_code == 200
    assert revoked.json()["revoked_at"] is not None

    for bearer in (key["api_key"], token):
        response = await client.get("/v1/me", headers={"Authorization": f"Bearer {bearer}"})
        assert response.status_code == 401, bearer
        assert response.headers["content-type"] == PROBLEM
    again = await client.post(
        "/v1/auth/token",
        data={"grant_type": "client_credentials", "client_id": key["client_id"], "client_secret": key["client_secret"]},
    )
    assert again.status_code == 401
    assert again.json()["code"] == "invalid_client"


async def test_wrong_api_key_secret_is_refused(client: httpx.AsyncClient, make_member: MemberFactory) -> None:
    member = await make_member(Role.BANK)
    key = (await client.post("/v1/api-keys", json={"name": "k"}, headers=member.headers)).json()
    response = await client.get("/v1/me", headers={"Authorization": f"Bearer {key['client_id']}.wrong-secret"})
    assert response.status_code == 401
    assert response.json()["code"] == "invalid_client"


async def test_expired_forged_and_garbage_tokens_get_401(
    client: httpx.AsyncClient, make_member: MemberFactory, settings: Settings
) -> None:
    member = await make_member(Role.VERIFIER)
    claims = jwt.decode(member.token, options={"verify_signature": False})
    expired = dict(claims, exp=datetime.now(UTC) - timedelta(minutes=1))
    cases = {
        "expired": jwt.encode(expired, settings.resolved_secret_key(), algorithm="HS256"),
        "forged": jwt.encode(dict(claims, role="operator"), "another-key-entirely-0123456789abcdef", algorithm="HS256"),
        "garbage": "not.a.token",
        "none-alg": jwt.encode(claims, key=None, algorithm="none"),
    }
    for name, token in cases.items():
        response = await client.get("/v1/me", headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 401, name
        assert response.json()["code"] == "invalid_token", name
    assert (await client.get("/v1/me", headers=member.headers)).status_code == 200


async def test_missing_or_unknown_grant_fields_are_refused_clearly(client: httpx.AsyncClient) -> None:
    response = await client.post("/v1/auth/token", data={"grant_type": "password", "username": "x@test"})
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_request"
    response = await client.post("/v1/auth/token", data={"grant_type": "implicit"})
    assert response.status_code == 422
    assert response.json()["code"] == "validation_error"
    assert response.json()["errors"][0]["field"] == "body.grant_type"
