"""The database's own guards, tried with direct SQL that bypasses every service check."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, IntegrityError

from domain.labels.codes import generate_batch
from services.db import sqlstate
from tests.conftest import MemberFactory
from tests.integration.labels.builders import issued, parties


async def _issued_with_batch(client: httpx.AsyncClient, make_member: MemberFactory) -> tuple[dict[str, Any], int]:
    p = await parties(client, make_member)
    certificate = await issued(client, p, annual_volume=100)
    batch = await client.post(
        f"/v1/labels/certifications/{certificate['id']}/batches", headers=p.certifier.headers, json={"quantity": 60}
    )
    assert batch.status_code == 201
    return certificate, batch.json()["id"]


async def test_codes_are_unique_and_append_only(
    client: httpx.AsyncClient, make_member: MemberFactory, sessions: Any
) -> None:
    _, batch_id = await _issued_with_batch(client, make_member)
    async with sessions() as session:
        existing = await session.scalar(text("SELECT code FROM label_code LIMIT 1"))
    with pytest.raises(IntegrityError) as raised:
        async with sessions() as session, session.begin():
            await session.execute(
                text("INSERT INTO label_code (code, batch_id) VALUES (:code, :batch)"),
                {"code": existing, "batch": batch_id},
            )
    assert sqlstate(raised.value) == "23505"
    with pytest.raises(IntegrityError) as raised:
        async with sessions() as session, session.begin():
            await session.execute(
                text("INSERT INTO label_code (code, batch_id) VALUES ('12345', :batch)"), {"batch": batch_id}
            )
    assert sqlstate(raised.value) == "23514"
    with pytest.raises(DBAPIError) as raised:
        async with sessions() as session, session.begin():
            await session.execute(text("DELETE FROM label_code WHERE code = :code"), {"code": existing})
    assert "append-only" in str(raised.value)


async def test_batch_bound_is_enforced_by_the_database(
    client: httpx.AsyncClient, make_member: MemberFactory, sessions: Any
) -> None:
    _certificate, batch_id = await _issued_with_batch(client, make_member)
    insert = text(
        "INSERT INTO label_code_batch (certification_id, certifier_id, label_number, year, quantity, "
        "certificate_year_start) SELECT certification_id, certifier_id, label_number, year, :quantity, "
        "certificate_year_start FROM label_code_batch WHERE id = :batch"
    )
    with pytest.raises(DBAPIError) as raised:
        async with sessions() as session, session.begin():
            await session.execute(insert, {"quantity": 41, "batch": batch_id})
    assert "exceeds the certified annual volume of 100 (60 issued" in str(raised.value)
    async with sessions() as session, session.begin():
        await session.execute(insert, {"quantity": 40, "batch": batch_id})
        total = await session.scalar(text("SELECT sum(quantity) FROM label_code_batch"))
    assert total == 100
    codes = generate_batch(421, 2026, 3)
    assert len(set(codes)) == 3


async def test_illegal_state_changes_are_refused_by_the_database(
    client: httpx.AsyncClient, make_member: MemberFactory, sessions: Any
) -> None:
    certificate, _ = await _issued_with_batch(client, make_member)
    for target in ("applied", "decided", "renewed_wrongly"):
        with pytest.raises(DBAPIError):
            async with sessions() as session, session.begin():
                await session.execute(
                    text("UPDATE certification SET state = :state WHERE id = :id"),
                    {"state": target, "id": certificate["id"]},
                )
    async with sessions() as session, session.begin():
        await session.execute(
            text("UPDATE certification SET state = 'suspended' WHERE id = :id"), {"id": certificate["id"]}
        )
        frozen = await session.scalar(text("SELECT bool_and(frozen) FROM product_lot_status"))
    assert frozen is None  # no lots yet; the view answers for lots only
    with pytest.raises(DBAPIError) as raised:
        async with sessions() as session, session.begin():
            await session.execute(
                text(
                    "INSERT INTO label_code_batch (certification_id, certifier_id, label_number, year, quantity, "
                    "certificate_year_start) SELECT certification_id, certifier_id, label_number, year, 1, "
                    "certificate_year_start FROM label_code_batch LIMIT 1"
                )
            )
    assert "only under a live certificate" in str(raised.value)
