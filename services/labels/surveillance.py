"""The surveillance sweep: marks certificates whose surveillance audit is overdue, suspends them after the grace
period and expires them after their validity, as the registry operator, through the domain's state machine.

The plan is made from the certificates that can change by date (a partial index); each certificate is then changed
in a transaction of its own under its row lock, re-planned on the locked row, so a certifier recording an audit at the
same moment wins or loses cleanly and one bad row never blocks the others.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

import structlog
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from domain.labels.states import Actor, ActorRole, CertificationEvent, CertificationState
from domain.labels.surveillance import apply_sweep, plan_sweep
from services.db import unit_of_work
from services.labels.certifications import load, transition_row, write_back
from services.labels.tables import CertificationRow

log = structlog.get_logger("bashan.labels.surveillance")
SWEEP_INTERVAL_SECONDS = 3600.0
SWEEP_STATES = (
    CertificationState.ISSUED.value,
    CertificationState.SURVEILLANCE_OVERDUE.value,
    CertificationState.SUSPENDED.value,
)
# The sweep acts for the registry operator; its transitions name this organisation id (no user).
SYSTEM_OPERATOR_ID = uuid.UUID(int=0)


@dataclass
class SweepReport:
    due_soon: list[uuid.UUID]
    marked_overdue: list[uuid.UUID]
    suspended: list[uuid.UUID]
    expired: list[uuid.UUID]

    @property
    def changed(self) -> int:
        return len(set(self.marked_overdue) | set(self.suspended) | set(self.expired))


async def _candidates(session: AsyncSession) -> list[CertificationRow]:
    rows = await session.scalars(select(CertificationRow).where(CertificationRow.state.in_(SWEEP_STATES)))
    return list(rows.all())


async def sweep(sessions: async_sessionmaker[AsyncSession], now: datetime | None = None) -> SweepReport:
    now = now or datetime.now(UTC)
    operator = Actor(ActorRole.OPERATOR, SYSTEM_OPERATOR_ID)
    report = SweepReport([], [], [], [])
    async with sessions() as session:
        rows = await _candidates(session)
        aggregates = [await load(session, row) for row in rows]
    plan = plan_sweep(aggregates, now)
    report.due_soon = list(plan.due_soon)
    for action in plan.actions:
        try:
            async with unit_of_work(sessions) as session:
                row = await session.get(CertificationRow, action.certification_id, with_for_update=True)
                assert row is not None
                aggregate = await load(session, row)
                fresh = plan_sweep([aggregate], now)  # the row may have moved since the plan was made
                transitions = apply_sweep([aggregate], fresh, operator, now)
                if not transitions:
                    continue
                await write_back(session, row, aggregate, [], now)
                session.add_all(transition_row(row.id, transition) for transition in transitions)
                await session.flush()
        except Exception:
            log.exception("surveillance sweep failed for a certificate", certification_id=str(action.certification_id))
            continue
        for transition in transitions:
            target = {
                CertificationEvent.MARK_OVERDUE: report.marked_overdue,
                CertificationEvent.SUSPEND: report.suspended,
                CertificationEvent.EXPIRE: report.expired,
            }[transition.event]
            target.append(action.certification_id)
    return report


async def sweep_job(sessions: async_sessionmaker[AsyncSession]) -> int:
    """The periodic job: how many certificates changed."""
    report = await sweep(sessions)
    if report.changed:
        log.info(
            "surveillance sweep",
            overdue=len(report.marked_overdue),
            suspended=len(report.suspended),
            expired=len(report.expired),
        )
    return report.changed
