"""Who may act: accreditation checks, cross-organisation isolation (404), and product lots frozen by suspension."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from typing import Any

import httpx

from domain.identity.roles import Role
from tests.conftest import MemberFactory
from tests.integration.labels.builders import accredit, act, apply, issued, ok, parties, today_in_china


async def test_unaccredited_certifier_receives_no_applications(
    client: httpx.AsyncClient, make_member: MemberFactory
) -> None:
    p = await parties(client, make_member)
    stranger = await make_member(Role.CERTIFIER)
    response = await apply(client, p, certifier_id=str(stranger.organisation_id))
    assert response.status_code == 403
    assert response.json()["code"] == "certifier_not_accredited"
    assert "holds no accreditation" in response.json()["detail"]
    uncovered = await apply(client, p, category="herbs")
    assert uncovered.status_code == 403
    assert "covers honey, tea, not herbs" in uncovered.json()["detail"]


async def test_expired_or_withdrawn_accreditation_cannot_act(
    client: httpx.AsyncClient, make_member: MemberFactory, sessions: Any
) -> None:
    from sqlalchemy import text

    p = await parties(client, make_member)
    cid = (await apply(client, p)).json()["id"]
    async with sessions() as session, session.begin():
        await session.execute(
            text("UPDATE certifier_accreditation SET valid_from = :start, valid_until = :until"),
            {"start": today_in_china() - timedelta(days=400), "until": today_in_china() - timedelta(days=1)},
        )
    expired = await act(client, p.certifier, cid, "start_review")
    assert expired.status_code == 403
    assert expired.json()["code"] == "certifier_not_accredited"
    assert "expired after" in expired.json()["detail"]

    q = await parties(client, make_member, label_number=77)
    cid = (await apply(client, q)).json()["id"]
    withdrawn = await client.post(
        f"/v1/labels/accreditations/{q.accreditation['id']}/withdraw",
        headers=q.operator.headers,
        json={"reason": "audit of the certifier failed"},
    )
    assert withdrawn.status_code == 200, withdrawn.text
    refused = await act(client, q.certifier, cid, "start_review")
    assert refused.status_code == 403
    assert "withdrawn" in refused.json()["detail"]
    again = await client.post(
        f"/v1/labels/accreditations/{q.accreditation['id']}/withdraw",
        headers=q.operator.headers,
        json={"reason": "twice"},
    )
    assert again.status_code == 409


async def test_accreditation_rules(client: httpx.AsyncClient, make_member: MemberFactory) -> None:
    operator = await make_member(Role.OPERATOR)
    first, second = await make_member(Role.CERTIFIER), await make_member(Role.CERTIFIER)
    producer = await make_member(Role.ENTERPRISE)
    assert (await accredit(client, operator, first, label_number=500)).status_code == 201
    taken = await accredit(client, operator, second, label_number=500)
    assert taken.status_code == 409
    assert taken.json()["code"] == "label_number_taken"
    not_certifier = await accredit(client, operator, producer, label_number=501)
    assert not_certifier.status_code == 422
    assert not_certifier.json()["code"] == "not_a_certifier"
    by_certifier = await accredit(client, first, second, label_number=502)
    assert by_certifier.status_code == 403
    backwards = await accredit(
        client,
        operator,
        second,
        label_number=503,
        valid_from=today_in_china(),
        valid_until=today_in_china() - timedelta(days=1),
    )
    assert backwards.status_code == 422
    own = (await client.get("/v1/labels/accreditations", headers=first.headers)).json()
    assert [a["label_number"] for a in own] == [500]
    assert (await client.get("/v1/labels/accreditations", headers=second.headers)).json() == []
    assert len((await client.get("/v1/labels/accreditations", headers=operator.headers)).json()) == 1


async def test_other_organisations_see_nothing(client: httpx.AsyncClient, make_member: MemberFactory) -> None:
    p = await parties(client, make_member)
    certificate = await issued(client, p)
    cid = certificate["id"]
    batch = (
        await client.post(f"/v1/labels/certifications/{cid}/batches", headers=p.certifier.headers, json={"quantity": 3})
    ).json()
    lot = (
        await client.post(
            f"/v1/labels/certifications/{cid}/lots",
            headers=p.producer.headers,
            json={"quantity": 100, "unit": "tin", "harvest_date": certificate["valid_from"]},
        )
    ).json()
    exported = await client.get(f"/v1/labels/batches/{batch['id']}/codes.csv", headers=p.certifier.headers)
    code = next(csv.DictReader(io.StringIO(exported.text)))["code"]
    other_producer = await make_member(Role.ENTERPRISE)
    other_certifier = await make_member(Role.CERTIFIER)
    for outsider in (other_producer, other_certifier):
        for path in (
            f"/v1/labels/certifications/{cid}",
            f"/v1/labels/certifications/{cid}/transitions",
            f"/v1/labels/certifications/{cid}/batches",
            f"/v1/labels/certifications/{cid}/lots",
            f"/v1/labels/batches/{batch['id']}",
            f"/v1/labels/batches/{batch['id']}/codes.csv",
            f"/v1/labels/batches/{batch['id']}/sheet.pdf",
            f"/v1/labels/codes/{code}/qr.svg",
            f"/v1/labels/lots/{lot['id']}",
        ):
            response = await client.get(path, headers=outsider.headers)
            assert response.status_code == 404, (path, response.text)
        listed = (await client.get("/v1/labels/certifications", headers=outsider.headers)).json()
        assert listed["items"] == []
    assert (await act(client, other_certifier, cid, "suspend", reason="x")).status_code == 404
    assert (await act(client, other_producer, cid, "withdraw")).status_code == 404
    stolen_batch = await client.post(
        f"/v1/labels/certifications/{cid}/batches", headers=other_certifier.headers, json={"quantity": 1}
    )
    assert stolen_batch.status_code == 404
    stolen_lot = await client.post(
        f"/v1/labels/certifications/{cid}/lots",
        headers=other_producer.headers,
        json={"quantity": 1, "unit": "tin", "harvest_date": certificate["valid_from"]},
    )
    assert stolen_lot.status_code == 404
    mine = (await client.get("/v1/labels/certifications", headers=p.producer.headers)).json()
    assert [c["id"] for c in mine["items"]] == [cid]
    everything = (await client.get("/v1/labels/certifications", headers=p.operator.headers)).json()
    assert [c["id"] for c in everything["items"]] == [cid]


async def test_lots_freeze_with_the_certificate(client: httpx.AsyncClient, make_member: MemberFactory) -> None:
    p = await parties(client, make_member)
    certificate = await issued(client, p, annual_volume=500)
    cid = certificate["id"]

    async def register(quantity: int, unit: str = "tin") -> httpx.Response:
        return await client.post(
            f"/v1/labels/certifications/{cid}/lots",
            headers=p.producer.headers,
            json={"quantity": quantity, "unit": unit, "harvest_date": certificate["valid_from"]},
        )

    lot = await register(300)
    assert lot.status_code == 201, lot.text
    assert (lot.json()["tradable"], lot.json()["frozen"]) == (True, False)
    over = await register(201)
    assert over.status_code == 422
    assert over.json()["code"] == "lot_exceeds_volume"
    assert (await register(10, "kg")).json()["code"] == "unit_mismatch"
    lot_id = lot.json()["id"]
    # The lot is a ledger asset: its whole quantity sits in the producer's available account, ready to trade.
    assert lot.json()["asset_code"] == f"LOT-{lot_id.replace('-', '')}"
    accounts = (await client.get("/v1/ledger/accounts", headers=p.producer.headers)).json()["items"]
    assert [(a["purpose"], a["balance"]) for a in accounts] == [("available", 300)]

    await ok(client, p.certifier, cid, "suspend", reason="residue found in a sample")
    frozen = (await client.get(f"/v1/labels/lots/{lot_id}", headers=p.producer.headers)).json()
    assert (frozen["tradable"], frozen["frozen"]) == (False, True)
    assert "suspended" in frozen["status"]
    refused = await register(10)
    assert refused.status_code == 409
    assert refused.json()["code"] == "certificate_not_live"

    await ok(client, p.certifier, cid, "reinstate", reason="re-test passed")
    thawed = (await client.get(f"/v1/labels/lots/{lot_id}", headers=p.producer.headers)).json()
    assert thawed["frozen"] is False
    await ok(client, p.certifier, cid, "revoke", reason="fraud")
    listed = (await client.get(f"/v1/labels/certifications/{cid}/lots", headers=p.certifier.headers)).json()
    assert [(item["id"], item["frozen"]) for item in listed] == [(lot_id, True)]
