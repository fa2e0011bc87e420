"""The whole path through the API: project -> issued credits -> transfer to an enterprise -> retirement ->
certificate PDF, then the ledger auditor; plus the public reads of what was done."""

from __future__ import annotations

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services import ledger
from tests.conftest import MemberFactory
from tests.integration.registry.builders import API, cast, issued_project, ok, post, seeded

__all__ = ["seeded"]


async def test_happy_path_worked_example_to_certificate(
    client: httpx.AsyncClient, make_member: MemberFactory, sessions: async_sessionmaker[AsyncSession], seeded: None
) -> None:
    people = await cast(client, make_member)
    project, _parcels, issuance = await issued_project(client, people)
    code = project["code"]
    assert code == "BZ-NJ-0001"
    # DOMAIN.md worked example: 1,000 mu of Masson pine from 0 to 3.0 m3/mu, 10 % buffer.
    assert issuance["issued_tonnes"] == 3023
    assert issuance["buffer_tonnes"] == 336
    assert issuance["carried_out"] == "0.639219"
    assert issuance["serials"] == f"BSC-{code}-2025-000000001-000003023"
    assert issuance["buffer_serials"] == f"BSC-{code}-2025-000003024-000003359"
    assert issuance["calculation"]["sha256"] == issuance["calculation_sha256"]
    asset = issuance["asset_code"]
    assert asset == f"BSC-{code}-2025"

    holdings = await ok(await client.get(API + "/holdings", headers=people.owner.headers))
    assert holdings == [{"asset_code": asset, "purpose": "available", "balance": 3023, "serial_ranges": [[1, 3023]]}]

    moved = await ok(
        await post(
            client,
            people.owner,
            "/transfers",
            {"asset_code": asset, "quantity": 1000, "recipient_id": str(people.enterprise.organisation_id)},
        ),
        201,
    )
    assert moved["serials"] == [f"BSC-{code}-2025-000000001-000001000"]

    retirement = await ok(
        await post(
            client,
            people.enterprise,
            "/retirements",
            {
                "asset_code": asset,
                "quantity": 400,
                "beneficiary": "巴中绿色建材有限公司 Bazhong Green Materials",
                "purpose": "2025 年度碳中和 Carbon neutrality 2025",
                "claim_start": "2025-01-01",
                "claim_end": "2025-12-31",
            },
        ),
        201,
    )
    assert retirement["quantity"] == 400
    assert retirement["serials"] == [f"BSC-{code}-2025-000000001-000000400"]
    assert retirement["verify_url"].endswith(f"/v1/public/retirements/{retirement['number']}")

    # Retired credits are final: the enterprise cannot move them, and holds 600 available.
    holdings = await ok(await client.get(API + "/holdings", headers=people.enterprise.headers))
    assert {(h["purpose"], h["balance"]) for h in holdings} == {("available", 600), ("retired", 400)}

    public = await ok(await client.get(f"/v1/public/retirements/{retirement['number']}"))
    assert public["beneficiary"].startswith("巴中绿色建材")
    assert public["project_code"] == code
    assert public["vintage"] == 2025
    pdf = await client.get(f"/v1/public/retirements/{retirement['number']}/certificate.pdf")
    assert pdf.status_code == 200
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF-")
    assert len(pdf.content) > 5_000

    serial = await ok(await client.get(f"/v1/public/serials/BSC-{code}-2025-000000007-000000007"))
    assert serial["state"] == "retired"
    assert serial["retirement_number"] == retirement["number"]
    assert [move["minted"] for move in serial["history"]] == [True, False, False]
    buffer_serial = await ok(await client.get(f"/v1/public/serials/BSC-{code}-2025-000003024-000003024"))
    assert buffer_serial["state"] == "buffer"

    check = await ok(await client.get(f"/v1/public/issuances/{issuance['id']}/recompute"))
    assert check["hash_matches"] is True
    assert check["recomputed_matches"] is True
    listed = await ok(await client.get("/v1/public/issuances", params={"project_code": code}))
    assert [item["id"] for item in listed["items"]] == [issuance["id"]]

    async with sessions() as session, session.begin():
        await session.execute(text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ"))
        report = await ledger.audit(session)
    assert report.ok, report.problems
    assert report.transfers == 4  # issue, buffer, transfer, retire


async def test_tampered_calculation_record_does_not_recompute(
    client: httpx.AsyncClient, make_member: MemberFactory, sessions: async_sessionmaker[AsyncSession], seeded: None
) -> None:
    people = await cast(client, make_member)
    _, _, issuance = await issued_project(client, people)
    async with sessions() as session, session.begin():
        # The append-only trigger forbids this; a tamperer with table rights would disable it first.
        await session.execute(text("ALTER TABLE issuance DISABLE TRIGGER issuance_append_only"))
        await session.execute(
            text(
                "UPDATE issuance SET calculation = jsonb_set(calculation, '{outputs,issued}', '\"4000\"') "
                "WHERE id = :id"
            ),
            {"id": issuance["id"]},
        )
        await session.execute(text("ALTER TABLE issuance ENABLE TRIGGER issuance_append_only"))
    check = await ok(await client.get(f"/v1/public/issuances/{issuance['id']}/recompute"))
    assert check == check | {"hash_matches": False, "recomputed_matches": False}
