"""Idempotency-Key: replay, reuse with another body, and concurrent duplicates."""

from __future__ import annotations

import asyncio

import httpx
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from domain.identity.roles import Role
from services.idempotency import IdempotencyKey
from services.identity.tables import Organisation
from tests.conftest import MemberFactory


async def organisations_named(sessions: async_sessionmaker[AsyncSession], name: str) -> int:
    async with sessions() as session:
        query = select(func.count()).select_from(Organisation).where(Organisation.name == name)
        return int(await session.scalar(query) or 0)


async def test_same_key_and_body_replays_the_stored_answer(
    client: httpx.AsyncClient, make_member: MemberFactory, sessions: async_sessionmaker[AsyncSession]
) -> None:
    operator = await make_member(Role.OPERATOR)
    headers = {"Idempotency-Key": "create-nanjiang-1"} | operator.headers
    first = await client.post("/v1/organisations", json={"name": "Nanjiang", "role": "project_owner"}, headers=headers)
    # Same JSON written differently (key order, spacing) is the same request.
    second = await client.post(
        "/v1/organisations",
        content=b'{ "role" : "project_owner",  "name": "Nanjiang" }',
        headers=headers | {"content-type": "application/json"},
    )
    assert first.status_code == second.status_code == 201
    assert second.json() == first.json()
    assert "idempotent-replayed" not in first.headers
    assert second.headers["idempotent-replayed"] == "true"
    assert await organisations_named(sessions, "Nanjiang") == 1


async def test_same_key_with_another_body_is_refused_and_changes_nothing(
    client: httpx.AsyncClient, make_member: MemberFactory, sessions: async_sessionmaker[AsyncSession]
) -> None:
    operator = await make_member(Role.OPERATOR)
    headers = {"Idempotency-Key": "k-1"} | operator.headers
    await client.post("/v1/organisations", json={"name": "Tongjiang", "role": "project_owner"}, headers=headers)
    reused = await client.post("/v1/organisations", json={"name": "Pingchang", "role": "bank"}, headers=headers)
    assert reused.status_code == 422
    assert reused.json()["code"] == "idempotency_key_reused"
    assert await organisations_named(sessions, "Pingchang") == 0


async def test_keys_belong_to_the_organisation_that_used_them(
    client: httpx.AsyncClient, make_member: MemberFactory, sessions: async_sessionmaker[AsyncSession]
) -> None:
    alice = await make_member(Role.OPERATOR)
    bob = await make_member(Role.OPERATOR)
    body = {"name": "Bazhou", "role": "enterprise"}
    first = await client.post("/v1/organisations", json=body, headers={"Idempotency-Key": "same"} | alice.headers)
    other = await client.post("/v1/organisations", json=body, headers={"Idempotency-Key": "same"} | bob.headers)
    assert first.status_code == 201
    # Bob's key is his own: his request runs (and meets the unique name), it does not replay Alice's answer.
    assert other.status_code == 409
    assert other.json()["code"] == "organisation_exists"


async def test_a_failed_request_does_not_burn_its_key(client: httpx.AsyncClient, make_member: MemberFactory) -> None:
    operator = await make_member(Role.OPERATOR)
    await client.post("/v1/organisations", json={"name": "Enyang", "role": "bank"}, headers=operator.headers)
    headers = {"Idempotency-Key": "retry-me"} | operator.headers
    clash = await client.post("/v1/organisations", json={"name": "Enyang", "role": "bank"}, headers=headers)
    assert clash.status_code == 409
    body = {"name": "Enyang", "role": "bank"}
    assert (await client.post("/v1/organisations", json=body, headers=headers)).status_code == 409


async def test_concurrent_duplicates_create_exactly_one(
    client: httpx.AsyncClient, make_member: MemberFactory, sessions: async_sessionmaker[AsyncSession]
) -> None:
    operator = await make_member(Role.OPERATOR)
    headers = {"Idempotency-Key": "burst"} | operator.headers
    body = {"name": "巴中银耳 Tremella Co", "role": "enterprise"}
    responses = await asyncio.gather(*(client.post("/v1/organisations", json=body, headers=headers) for _ in range(16)))
    statuses = sorted(response.status_code for response in responses)
    assert set(statuses) <= {201, 409}, statuses
    created = [response for response in responses if response.status_code == 201]
    assert created, statuses
    assert len({response.json()["id"] for response in created}) == 1
    assert sum("idempotent-replayed" not in response.headers for response in created) == 1
    assert await organisations_named(sessions, body["name"]) == 1
    async with sessions() as session:
        stored = await session.scalar(select(func.count()).select_from(IdempotencyKey))
    assert stored == 1


async def test_a_concurrent_duplicate_that_waits_too_long_gets_409(
    client: httpx.AsyncClient, make_member: MemberFactory, sessions: async_sessionmaker[AsyncSession]
) -> None:
    """Hold the first request's key open in another transaction: the duplicate is refused, not blocked forever."""
    from services import idempotency

    operator = await make_member(Role.OPERATOR)
    principal = f"org:{operator.organisation_id}"
    path = "/v1/organisations"
    body = b'{"name":"Held","role":"bank"}'
    request = idempotency.IdempotentRequest(
        principal, "held-key", "POST", path, idempotency.request_fingerprint("POST", path, body)
    )
    original_wait = idempotency.WAIT_SECONDS
    idempotency.WAIT_SECONDS = 1
    try:
        async with sessions() as holder, holder.begin():
            assert await idempotency._claim(holder, request) is None  # the key is taken, uncommitted
            response = await client.post(
                path,
                content=body,
                headers={"Idempotency-Key": "held-key", "content-type": "application/json"} | operator.headers,
            )
            await holder.rollback()
    finally:
        idempotency.WAIT_SECONDS = original_wait
    assert response.status_code == 409
    assert response.json()["code"] == "idempotency_in_progress"
    assert await organisations_named(sessions, "Held") == 0
