"""Code batches, exports and public verification through the API: the volume bound, CSV, PDF, QR, the verdicts,
scans, the counterfeit rule and the certifier's view of flags."""

from __future__ import annotations

import csv
import io
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from domain.identity.roles import Role
from domain.labels.codes import check_code, damm_is_valid
from tests.conftest import MemberFactory
from tests.integration.labels.builders import issued, ok, parties


async def _batch(client: httpx.AsyncClient, member: Any, cid: str, quantity: int) -> httpx.Response:
    return await client.post(
        f"/v1/labels/certifications/{cid}/batches", headers=member.headers, json={"quantity": quantity}
    )


async def test_batches_stay_within_the_certified_annual_volume(
    client: httpx.AsyncClient, make_member: MemberFactory, sessions: Any
) -> None:
    p = await parties(client, make_member)
    certificate = await issued(client, p, annual_volume=1_000)
    cid = certificate["id"]
    first = await _batch(client, p.certifier, cid, 600)
    assert first.status_code == 201, first.text
    assert first.json()["quantity"] == 600
    assert first.json()["label_number"] == 421
    too_many = await _batch(client, p.certifier, cid, 401)
    assert too_many.status_code == 422
    assert too_many.json()["code"] == "label_batch_exceeds_volume"
    assert "only 400 remain" in too_many.json()["detail"]
    rest = await _batch(client, p.certifier, cid, 400)
    assert rest.status_code == 201
    by_producer = await _batch(client, p.producer, cid, 1)
    assert by_producer.status_code == 403
    async with sessions() as session:
        stored = await session.scalar(text("SELECT count(*) FROM label_code"))
        distinct = await session.scalar(text("SELECT count(DISTINCT code) FROM label_code"))
    assert (stored, distinct) == (1_000, 1_000)
    listed = await client.get(f"/v1/labels/certifications/{cid}/batches", headers=p.producer.headers)
    assert [b["quantity"] for b in listed.json()] == [600, 400]


async def test_no_batch_under_a_suspended_certificate(client: httpx.AsyncClient, make_member: MemberFactory) -> None:
    p = await parties(client, make_member)
    cid = (await issued(client, p))["id"]
    await ok(client, p.certifier, cid, "suspend", reason="complaint")
    response = await _batch(client, p.certifier, cid, 10)
    assert response.status_code == 409
    assert response.json()["code"] == "certificate_not_live"


async def test_csv_pdf_and_qr_exports(client: httpx.AsyncClient, make_member: MemberFactory) -> None:
    p = await parties(client, make_member)
    cid = (await issued(client, p))["id"]
    batch = (await _batch(client, p.certifier, cid, 30)).json()
    exported = await client.get(f"/v1/labels/batches/{batch['id']}/codes.csv", headers=p.producer.headers)
    assert exported.status_code == 200
    assert exported.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert len(rows) == 30
    for row in rows:
        assert damm_is_valid(row["code"])
        assert row["code"].startswith("0421")
        assert check_code(row["printed"]).code is not None
        assert check_code(row["printed"]).code.digits == row["code"]  # type: ignore[union-attr]
        assert row["verify_url"].endswith("/v1/public/labels/" + row["code"])
    sheet = await client.get(f"/v1/labels/batches/{batch['id']}/sheet.pdf?limit=30", headers=p.certifier.headers)
    assert sheet.status_code == 200
    assert sheet.content.startswith(b"%PDF")
    assert sheet.content.count(b"/Type /Page\n") + sheet.content.count(b"/Type /Page ") >= 1
    qr = await client.get(f"/v1/labels/codes/{rows[0]['printed']}/qr.svg", headers=p.certifier.headers)
    assert qr.status_code == 200
    assert qr.headers["content-type"].startswith("image/svg+xml")
    assert qr.text.lstrip().startswith(("<svg", "<?xml"))


async def test_public_verification_verdicts_and_scans(
    client: httpx.AsyncClient, make_member: MemberFactory, sessions: Any
) -> None:
    p = await parties(client, make_member)
    certificate = await issued(client, p)
    cid = certificate["id"]
    batch = (await _batch(client, p.certifier, cid, 5)).json()
    exported = await client.get(f"/v1/labels/batches/{batch['id']}/codes.csv", headers=p.certifier.headers)
    code = next(csv.DictReader(io.StringIO(exported.text)))["code"]

    valid = (await client.get(f"/v1/public/labels/{code}?lat=31.853&lon=106.757")).json()
    assert valid["verdict"] == "valid"
    assert (valid["genuine"], valid["valid"], valid["suspected_counterfeit"]) == (True, True, False)
    assert valid["product"] == "Nanjiang Huangya green tea, 250 g tin"
    assert valid["certificate"]["number"] == certificate["number"]
    assert valid["certificate"]["status"] == "issued"
    assert valid["certificate"]["valid_until"] == certificate["valid_until"]
    assert valid["producer"]
    assert valid["certifier"]

    swapped = (
        code[:7] + code[8] + code[7] + code[9:] if code[7] != code[8] else code[:-1] + str((int(code[-1]) + 1) % 10)
    )
    typo = (await client.get(f"/v1/public/labels/{swapped}")).json()
    assert typo["verdict"] == "typo"
    assert typo["genuine"] is False
    unknown_digits = code[:6] + "0000000000000"
    from domain.labels.codes import damm_check_digit

    unknown_code = unknown_digits + str(damm_check_digit(unknown_digits))
    unknown = (await client.get(f"/v1/public/labels/{unknown_code}")).json()
    assert unknown["verdict"] == "unknown"
    malformed = (await client.get("/v1/public/labels/hello")).json()
    assert malformed["verdict"] == "malformed"

    async with sessions() as session:
        scans = (await session.execute(text("SELECT code, latitude, longitude FROM label_scan"))).all()
    assert len(scans) == 1  # only the issued code's scan is recorded
    assert scans[0][0] == code
    assert (round(scans[0][1], 1), round(scans[0][2], 1)) == (31.9, 106.8)

    await ok(client, p.certifier, cid, "suspend", reason="complaint")
    suspended = (await client.get(f"/v1/public/labels/{code}")).json()
    assert (suspended["verdict"], suspended["genuine"], suspended["valid"]) == ("not_valid", True, False)
    assert "suspended" in suspended["message"]


async def test_recognition_is_shown_on_verification(client: httpx.AsyncClient, make_member: MemberFactory) -> None:
    from datetime import timedelta

    from tests.integration.labels.builders import today_in_china

    p = await parties(client, make_member)
    today = today_in_china()
    await client.post(
        "/v1/labels/recognitions",
        headers=p.operator.headers,
        json={
            "recognised_scheme": "LISHUI-SHANGENG",
            "name": "丽水山耕 regional brand",
            "categories": ["tea"],
            "valid_from": (today - timedelta(days=1)).isoformat(),
            "valid_until": (today + timedelta(days=100)).isoformat(),
        },
    )
    cid = (await issued(client, p))["id"]
    batch = (await _batch(client, p.certifier, cid, 1)).json()
    exported = await client.get(f"/v1/labels/batches/{batch['id']}/codes.csv", headers=p.certifier.headers)
    code = next(csv.DictReader(io.StringIO(exported.text)))["code"]
    answer = (await client.get(f"/v1/public/labels/{code}")).json()
    assert [r["scheme"] for r in answer["recognitions"]] == ["LISHUI-SHANGENG"]


async def test_counterfeit_rule_flags_and_the_certifier_sees_it(
    client: httpx.AsyncClient, make_member: MemberFactory
) -> None:
    p = await parties(client, make_member)
    cid = (await issued(client, p))["id"]
    batch = (await _batch(client, p.certifier, cid, 2)).json()
    exported = await client.get(f"/v1/labels/batches/{batch['id']}/codes.csv", headers=p.certifier.headers)
    copied, honest = (row["code"] for row in csv.DictReader(io.StringIO(exported.text)))
    # One package: Bazhong, then a shop in Chengdu (two places), scanned a few times.
    for lat, lon in ((31.85, 106.75), (30.66, 104.07), (30.66, 104.07)):
        answer = (await client.get(f"/v1/public/labels/{honest}?lat={lat}&lon={lon}")).json()
        assert answer["suspected_counterfeit"] is False
    # The same code in Bazhong, Chengdu and Xi'an within minutes: a third place is more than one package explains.
    answers = [
        (await client.get(f"/v1/public/labels/{copied}?lat={lat}&lon={lon}")).json()
        for lat, lon in ((31.85, 106.75), (30.66, 104.07), (34.34, 108.94))
    ]
    assert [a["suspected_counterfeit"] for a in answers] == [False, False, True]
    assert "3 places" in answers[-1]["suspicion_reasons"][0]
    assert answers[-1]["verdict"] == "valid"  # genuine code, but warned
    flags = (await client.get("/v1/labels/counterfeit-flags", headers=p.certifier.headers)).json()
    assert [f["code"] for f in flags] == [copied]
    assert flags[0]["most_places_in_window"] == 3
    outsider = await make_member(__import__("domain.identity.roles", fromlist=["Role"]).Role.CERTIFIER)
    assert (await client.get("/v1/labels/counterfeit-flags", headers=outsider.headers)).json() == []
    # Too many scans in the window flags as well (rule 1: more than 20 in 30 days).
    for _ in range(21):
        last = (await client.get(f"/v1/public/labels/{honest}")).json()
    assert last["suspected_counterfeit"] is True
    assert "scans within" in last["suspicion_reasons"][0]


async def test_public_verification_is_rate_limited(client: httpx.AsyncClient, app: Any) -> None:
    app.state.bashan.settings.public_rate_per_minute = 3
    statuses = [(await client.get("/v1/public/labels/12345678901234567890")).status_code for _ in range(5)]
    assert statuses == [200, 200, 200, 429, 429]


async def test_the_certifier_clears_a_flag_and_a_new_burst_raises_it_again(
    client: httpx.AsyncClient, make_member: MemberFactory, sessions: async_sessionmaker[AsyncSession]
) -> None:
    p = await parties(client, make_member)
    cid = (await issued(client, p))["id"]
    batch = (await _batch(client, p.certifier, cid, 1)).json()
    exported = await client.get(f"/v1/labels/batches/{batch['id']}/codes.csv", headers=p.certifier.headers)
    code = next(csv.DictReader(io.StringIO(exported.text)))["code"]
    places = ((31.85, 106.75), (30.66, 104.07), (34.34, 108.94))

    async def scan_three_places() -> dict[str, Any]:
        answer: dict[str, Any] = {}
        for lat, lon in places:
            answer = (await client.get(f"/v1/public/labels/{code}?lat={lat}&lon={lon}")).json()
        return answer

    assert (await scan_three_places())["suspected_counterfeit"] is True
    clear = f"/v1/labels/counterfeit-flags/{code}/clear"
    note = {"note": "the producer's stand at three trade fairs in one day; invoices seen"}
    # Only the certificate's certifier (or the operator) may clear it; another certifier does not even see it.
    outsider = await make_member(Role.CERTIFIER)
    assert (await client.post(clear, headers=outsider.headers, json=note)).status_code == 404
    assert (await client.post(clear, headers=p.producer.headers, json=note)).status_code == 403
    assert (await client.post(clear, headers=p.certifier.headers, json={"note": ""})).status_code == 422
    cleared = await client.post(clear, headers=p.certifier.headers, json=note)
    assert cleared.status_code == 200, cleared.text
    assert cleared.json()["clearance_note"] == note["note"]
    assert cleared.json()["cleared_by"] == str(p.certifier.organisation_id)
    again = await client.post(clear, headers=p.certifier.headers, json=note)
    assert (again.status_code, again.json()["code"]) == (409, "flag_already_cleared")
    # The database keeps the first clearance too, whatever the code path: only a new flag resets it (below).
    async with sessions() as session, session.begin():
        with pytest.raises(DBAPIError, match="a clearance is not rewritten") as rewritten:
            await session.execute(
                text("UPDATE counterfeit_flag SET clearance_note = 'rewritten' WHERE code = :code"), {"code": code}
            )
    assert getattr(rewritten.value.orig.__cause__, "constraint_name", None) == "counterfeit_flag_clearance_final"
    # The public is no longer warned, and the scans before the clearance no longer count.
    quiet = (await client.get(f"/v1/public/labels/{code}?lat=31.85&lon=106.75")).json()
    assert quiet["suspected_counterfeit"] is False
    open_flags = (await client.get("/v1/labels/counterfeit-flags", headers=p.certifier.headers)).json()
    assert open_flags == []
    history = (await client.get("/v1/labels/counterfeit-flags?state=cleared", headers=p.certifier.headers)).json()
    assert [flag["code"] for flag in history] == [code]
    # A new burst after the clearance raises the flag again.
    assert (await scan_three_places())["suspected_counterfeit"] is True
    reopened = (await client.get("/v1/labels/counterfeit-flags", headers=p.certifier.headers)).json()
    assert [(flag["code"], flag["cleared_at"]) for flag in reopened] == [(code, None)]
    async with sessions() as session:
        audited = await session.execute(
            text("SELECT subject_id, detail->>'note' FROM audit_event WHERE action = 'labels.counterfeit_flag.clear'")
        )
        assert [tuple(row) for row in audited] == [(code, note["note"])]
    # The database refuses a clearance by anyone else, whatever the code path.
    async with sessions() as session, session.begin():
        with pytest.raises(DBAPIError, match="only the certifier of the certificate or an operator"):
            await session.execute(
                text(
                    "UPDATE counterfeit_flag SET cleared_at = now(), cleared_by = :who, clearance_note = 'x' "
                    "WHERE code = :code"
                ),
                {"who": outsider.organisation_id, "code": code},
            )
