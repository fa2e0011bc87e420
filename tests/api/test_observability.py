"""Request ids, structured logs and Prometheus metrics."""

from __future__ import annotations

import json

import httpx
import pytest
from fastapi import APIRouter, FastAPI

from domain.identity.roles import Role
from tests.conftest import MemberFactory


async def test_request_id_is_generated_or_echoed(client: httpx.AsyncClient) -> None:
    generated = await client.get("/healthz")
    assert len(generated.headers["x-request-id"]) == 32
    echoed = await client.get("/healthz", headers={"X-Request-ID": "client-chosen-42"})
    assert echoed.headers["x-request-id"] == "client-chosen-42"
    unsafe = await client.get("/healthz", headers={"X-Request-ID": "bad id with spaces"})
    assert unsafe.headers["x-request-id"] != "bad id with spaces"


async def test_every_log_line_of_a_request_carries_its_id(
    client: httpx.AsyncClient, make_member: MemberFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    member = await make_member(Role.ENTERPRISE)
    capsys.readouterr()
    await client.post("/v1/api-keys", json={"name": "logged"}, headers=member.headers | {"X-Request-ID": "rid-7"})
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines() if line.startswith("{")]
    access = [line for line in lines if line.get("event") == "request"]
    assert access, lines
    assert access[-1]["request_id"] == "rid-7"
    assert access[-1]["route"] == "/v1/api-keys"
    assert access[-1]["status"] == 201
    assert all(line.get("request_id") == "rid-7" for line in lines if line.get("logger", "").startswith("bashan"))


async def test_metrics_count_requests_by_route_and_status(client: httpx.AsyncClient) -> None:
    for _ in range(3):
        await client.get("/healthz")
    await client.get("/v1/me")
    text = (await client.get("/metrics")).text
    assert 'bashan_http_requests_total{method="GET",route="/healthz",status="200"} 3.0' in text
    assert 'bashan_http_requests_total{method="GET",route="/v1/me",status="401"} 1.0' in text
    assert 'bashan_http_request_duration_seconds_bucket{le="0.001",method="GET",route="/healthz"}' in text
    assert 'bashan_db_pool_connections{state="size"} 10.0' in text


async def test_a_bug_answers_a_500_problem_with_the_request_id(
    app: FastAPI, client: httpx.AsyncClient, capsys: pytest.CaptureFixture[str]
) -> None:
    router = APIRouter()

    @router.get("/v1/broken")
    async def broken() -> None:
        raise RuntimeError("a deliberate bug")

    app.include_router(router)
    response = await client.get("/v1/broken", headers={"X-Request-ID": "bug-1"})
    assert response.status_code == 500
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["x-request-id"] == "bug-1"
    assert response.json()["code"] == "internal_error"
    assert "deliberate" not in response.text  # internals stay in the log
    logged = capsys.readouterr().err
    assert "a deliberate bug" in logged
    assert '"request_id": "bug-1"' in logged
