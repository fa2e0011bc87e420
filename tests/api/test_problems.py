"""A sweep of bad requests: each gets a 4xx problem+json answer, never a 5xx, and changes nothing."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from domain.identity.roles import Role
from services.identity.tables import Organisation
from tests.conftest import MemberFactory

PROBLEM_FIELDS = {"type", "title", "status", "detail", "instance", "code"}


def assert_problem(response: httpx.Response, status: int, code: str) -> dict[str, object]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, object] = response.json()
    assert body.keys() >= PROBLEM_FIELDS
    assert body["status"] == status
    assert body["code"] == code
    assert body["type"] == f"https://bashan.exchange/problems/{code}"
    assert body["instance"] == response.request.url.path
    assert body["detail"]
    return body


async def count_organisations(sessions: async_sessionmaker[AsyncSession]) -> int:
    async with sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(Organisation)) or 0)


@pytest.mark.parametrize(
    ("content", "headers", "status", "code"),
    [
        (b'{"name": "x", "role": ', {"content-type": "application/json"}, 400, "malformed_json"),
        (b"[1, 2", {"content-type": "application/json"}, 400, "malformed_json"),
        (b'{"name": 5, "role": "bank"}', {"content-type": "application/json"}, 422, "validation_error"),
        (b'{"name": "x", "role": "pirate"}', {"content-type": "application/json"}, 422, "validation_error"),
        (
            b'{"name": "x", "role": "bank", "admin": true}',
            {"content-type": "application/json"},
            422,
            "validation_error",
        ),
        (b'"just a string"', {"content-type": "application/json"}, 422, "validation_error"),
        (b"", {"content-type": "application/json"}, 422, "validation_error"),
        (b'{"name": "x", "role": "bank"}', {"content-type": "text/plain"}, 415, "unsupported_media_type"),
        (b"name=x&role=bank", {"content-type": "application/x-www-form-urlencoded"}, 415, "unsupported_media_type"),
        (b'{"name": "x", "role": "bank"}', {"content-type": "application/xml"}, 415, "unsupported_media_type"),
        (b"x" * 2_000_000, {"content-type": "application/json"}, 413, "content_too_large"),
        (
            b'{"name": "' + b"y" * 300 + b'", "role": "bank"}',
            {"content-type": "application/json"},
            422,
            "validation_error",
        ),
    ],
)
async def test_bad_bodies_get_problems_and_change_nothing(
    client: httpx.AsyncClient,
    make_member: MemberFactory,
    sessions: async_sessionmaker[AsyncSession],
    content: bytes,
    headers: dict[str, str],
    status: int,
    code: str,
) -> None:
    operator = await make_member(Role.OPERATOR)
    before = await count_organisations(sessions)
    response = await client.post("/v1/organisations", content=content, headers=headers | operator.headers)
    body = assert_problem(response, status, code)
    if code == "validation_error":
        assert body["errors"], body
    assert await count_organisations(sessions) == before


async def test_validation_errors_name_each_field(client: httpx.AsyncClient, make_member: MemberFactory) -> None:
    operator = await make_member(Role.OPERATOR)
    response = await client.post(
        "/v1/organisations", json={"name": 7, "role": "pirate", "extra": 1}, headers=operator.headers
    )
    body = assert_problem(response, 422, "validation_error")
    fields = {error["field"]: error["type"] for error in body["errors"]}  # type: ignore[attr-defined]
    assert fields == {"body.name": "string_type", "body.role": "enum", "body.extra": "extra_forbidden"}


async def test_a_chunked_body_over_the_limit_is_refused(client: httpx.AsyncClient, make_member: MemberFactory) -> None:
    operator = await make_member(Role.OPERATOR)

    async def chunks():  # type: ignore[no-untyped-def]
        for _ in range(40):
            yield b"z" * 65_536

    response = await client.post(
        "/v1/organisations", content=chunks(), headers={"content-type": "application/json"} | operator.headers
    )
    assert_problem(response, 413, "content_too_large")


@pytest.mark.parametrize(
    ("method", "path", "headers", "status", "code"),
    [
        ("GET", "/v1/nowhere", {}, 404, "not_found"),
        ("GET", "/nowhere/at/all", {}, 404, "not_found"),
        ("DELETE", "/healthz", {}, 405, "method_not_allowed"),
        ("PUT", "/v1/me", {}, 405, "method_not_allowed"),
        ("GET", "/v1/me", {}, 401, "unauthenticated"),
        ("GET", "/v1/me", {"Authorization": "Bearer not-a-jwt"}, 401, "invalid_token"),
        ("GET", "/v1/me", {"Authorization": "Basic dXNlcjpwYXNz"}, 401, "unauthenticated"),
        ("GET", "/v1/me", {"Authorization": "Bearer bsk_0000000000000000.nope"}, 401, "invalid_client"),
        ("GET", "/v1/organisations/not-a-uuid", {"Authorization": "Bearer x"}, 401, "invalid_token"),
    ],
)
async def test_routing_and_authentication_problems(
    client: httpx.AsyncClient, method: str, path: str, headers: dict[str, str], status: int, code: str
) -> None:
    assert_problem(await client.request(method, path, headers=headers), status, code)


async def test_bad_path_and_query_parameters(client: httpx.AsyncClient, make_member: MemberFactory) -> None:
    member = await make_member(Role.OPERATOR)
    assert_problem(await client.get("/v1/organisations/not-a-uuid", headers=member.headers), 422, "validation_error")
    for params in ({"limit": "0"}, {"limit": "abc"}, {"limit": "100000"}):
        response = await client.get("/v1/organisations", params=params, headers=member.headers)
        assert_problem(response, 422, "validation_error")
    for cursor in ("%%%", "bm90IGpzb24", "WyJ4Il0", "WzEsMl0"):
        response = await client.get("/v1/organisations", params={"cursor": cursor}, headers=member.headers)
        assert_problem(response, 400, "invalid_cursor")


async def test_bad_idempotency_key_is_refused(client: httpx.AsyncClient, make_member: MemberFactory) -> None:
    operator = await make_member(Role.OPERATOR)
    response = await client.post(
        "/v1/organisations",
        json={"name": "x", "role": "bank"},
        headers={"Idempotency-Key": "k" * 300} | operator.headers,
    )
    assert_problem(response, 400, "invalid_idempotency_key")


async def test_duplicate_names_conflict(client: httpx.AsyncClient, make_member: MemberFactory) -> None:
    operator = await make_member(Role.OPERATOR)
    first = await client.post(
        "/v1/organisations", json={"name": "恩阳区茶叶公司", "role": "enterprise"}, headers=operator.headers
    )
    assert first.status_code == 201
    second = await client.post(
        "/v1/organisations", json={"name": "恩阳区茶叶公司", "role": "bank"}, headers=operator.headers
    )
    assert_problem(second, 409, "organisation_exists")


async def test_every_problem_carries_the_request_id(client: httpx.AsyncClient) -> None:
    response = await client.get("/v1/nowhere", headers={"X-Request-ID": "trace-abc.123"})
    assert response.headers["x-request-id"] == "trace-abc.123"
    assert response.json()["request_id"] == "trace-abc.123"
