"""The surveillance worker with controlled dates: due soon, overdue, suspension after the grace period, expiry."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import text

from services.labels.surveillance import sweep
from services.workers import default_jobs
from tests.conftest import MemberFactory
from tests.integration.labels.builders import issued, parties


def noon(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 4, tzinfo=UTC)  # 12:00 in Asia/Shanghai


async def _state(sessions: Any, cid: str) -> str:
    async with sessions() as session:
        return str(await session.scalar(text("SELECT state FROM certification WHERE id = :id"), {"id": cid}))


async def test_sweep_marks_overdue_then_suspends_after_grace_then_expires(
    client: httpx.AsyncClient, make_member: MemberFactory, sessions: Any
) -> None:
    p = await parties(client, make_member)
    certificate = await issued(client, p)
    cid = certificate["id"]
    lot = await client.post(
        f"/v1/labels/certifications/{cid}/lots",
        headers=p.producer.headers,
        json={"quantity": 10, "unit": "tin", "harvest_date": certificate["valid_from"]},
    )
    due = date.fromisoformat(certificate["surveillance_due_on"])
    until = date.fromisoformat(certificate["valid_until"])

    soon = await sweep(sessions, noon(due - timedelta(days=10)))
    assert [str(i) for i in soon.due_soon] == [cid]
    assert soon.changed == 0
    assert await _state(sessions, cid) == "issued"

    on_due_day = await sweep(sessions, noon(due))
    assert on_due_day.changed == 0

    late = await sweep(sessions, noon(due + timedelta(days=1)))
    assert [str(i) for i in late.marked_overdue] == [cid]
    assert await _state(sessions, cid) == "surveillance_overdue"
    again = await sweep(sessions, noon(due + timedelta(days=2)))
    assert again.changed == 0  # nothing new to do

    still_in_grace = await sweep(sessions, noon(due + timedelta(days=30)))
    assert still_in_grace.changed == 0
    suspended = await sweep(sessions, noon(due + timedelta(days=31)))
    assert [str(i) for i in suspended.suspended] == [cid]
    assert await _state(sessions, cid) == "suspended"
    history = (await client.get(f"/v1/labels/certifications/{cid}/transitions", headers=p.certifier.headers)).json()
    assert [h["event"] for h in history[-2:]] == ["mark_overdue", "suspend"]
    assert history[-1]["actor_role"] == "operator"
    assert "grace period" in history[-1]["reason"]
    frozen = (await client.get(f"/v1/labels/lots/{lot.json()['id']}", headers=p.producer.headers)).json()
    assert frozen["frozen"] is True

    expired = await sweep(sessions, noon(until + timedelta(days=1)))
    assert [str(i) for i in expired.expired] == [cid]
    assert await _state(sessions, cid) == "expired"


async def test_a_certificate_never_seen_overdue_is_marked_and_suspended_in_one_pass(
    client: httpx.AsyncClient, make_member: MemberFactory, sessions: Any
) -> None:
    p = await parties(client, make_member)
    first = await issued(client, p)
    second = await issued(client, p)
    due = date.fromisoformat(first["surveillance_due_on"])
    report = await sweep(sessions, noon(due + timedelta(days=45)))
    assert sorted(str(i) for i in report.suspended) == sorted([first["id"], second["id"]])
    assert sorted(str(i) for i in report.marked_overdue) == sorted([first["id"], second["id"]])
    assert report.changed == 2


async def test_recorded_surveillance_keeps_the_certificate_live(
    client: httpx.AsyncClient, make_member: MemberFactory, sessions: Any
) -> None:
    from tests.integration.labels.builders import ok, set_dates, today_in_china

    p = await parties(client, make_member)
    cid = (await issued(client, p))["id"]
    await set_dates(sessions, cid, due=today_in_china() - timedelta(days=5))
    result = await ok(client, p.certifier, cid, "record_surveillance", reason="annual audit passed")
    next_due = date.fromisoformat(result["certification"]["surveillance_due_on"])
    assert next_due > today_in_china()  # the missed audit is done; the schedule moves on a year
    report = await sweep(sessions, noon(today_in_china()))
    assert report.changed == 0
    async with sessions() as session:
        audits = await session.scalar(
            text("SELECT count(*) FROM surveillance_audit WHERE certification_id = :id"), {"id": cid}
        )
    assert audits == 1


def test_the_sweep_is_a_registered_periodic_job() -> None:
    assert "labels-surveillance" in [job.name for job in default_jobs()]
