"""Storing codes with COPY: a collision with an earlier batch is replaced, never stored twice nor lost."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import text

from domain.labels.codes import damm_is_valid, generate_batch
from services.db import unit_of_work
from services.labels.codes import store_codes
from tests.conftest import MemberFactory
from tests.integration.labels.builders import issued, parties


async def test_colliding_codes_are_replaced(
    client: httpx.AsyncClient, make_member: MemberFactory, sessions: Any
) -> None:
    p = await parties(client, make_member)
    cid = (await issued(client, p))["id"]
    first = await client.post(
        f"/v1/labels/certifications/{cid}/batches", headers=p.certifier.headers, json={"quantity": 5}
    )
    second = await client.post(
        f"/v1/labels/certifications/{cid}/batches", headers=p.certifier.headers, json={"quantity": 1}
    )
    second_id = second.json()["id"]
    async with sessions() as session:
        earlier = list(
            (
                await session.scalars(
                    text("SELECT code FROM label_code WHERE batch_id = :b"), {"b": first.json()["id"]}
                )
            ).all()
        )
    fresh = generate_batch(421, 2026, 3, taken=set(earlier))
    async with unit_of_work(sessions) as session:
        await store_codes(session, second_id, earlier[:2] + fresh, certifier=421, year=2026)
    async with sessions() as session:
        stored = list(
            (await session.scalars(text("SELECT code FROM label_code WHERE batch_id = :b"), {"b": second_id})).all()
        )
        total = await session.scalar(text("SELECT count(*) FROM label_code"))
    assert len(stored) == 1 + 5  # the batch's own code from the API, then the five stored here
    assert set(fresh) <= set(stored)
    assert not set(stored) & set(earlier)
    assert all(damm_is_valid(code) and code.startswith("042126") for code in stored)
    assert total == 5 + 1 + 5  # two collisions were replaced, none stored twice
