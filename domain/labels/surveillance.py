"""The scheduled sweep over live certificates: given "now", which are due for surveillance soon, which are overdue,
which must be suspended because the grace period has passed too, and which expire.

Rules (days judged in Asia/Shanghai; the scheme sets the numbers, defaults 12 months, 30 days grace, 30 days notice):
- expired: the day after ``valid_until``; wins over everything else, also for suspended certificates.
- due soon: issued and ``surveillance_due_on - notice <= today <= surveillance_due_on``.
- overdue: issued and ``today > surveillance_due_on``: mark overdue (labels still verify, the certifier is told).
- suspended: ``today > surveillance_due_on + grace``; an issued certificate the sweep never saw overdue is marked
  overdue and suspended in one pass, so its history still shows why.

``plan_sweep`` only reads; ``apply_sweep`` performs the plan as the operator, so a worker can log the plan first.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

from domain.labels.certification import Certification
from domain.labels.states import Actor, CertificationEvent, CertificationState, Transition, local_date

E = CertificationEvent
S = CertificationState


@dataclass(frozen=True, slots=True)
class SweepAction:
    certification_id: UUID
    events: tuple[CertificationEvent, ...]
    reason: str


@dataclass(frozen=True, slots=True)
class SweepPlan:
    due_soon: tuple[UUID, ...]
    actions: tuple[SweepAction, ...]

    def ids_with(self, event: CertificationEvent) -> list[UUID]:
        return [action.certification_id for action in self.actions if event in action.events]


def plan_sweep(certifications: Iterable[Certification], now: datetime) -> SweepPlan:
    today = local_date(now)
    due_soon: list[UUID] = []
    actions: list[SweepAction] = []
    for certification in certifications:
        if certification.state not in {S.ISSUED, S.SURVEILLANCE_OVERDUE, S.SUSPENDED}:
            continue
        valid_until, due = certification.valid_until, certification.surveillance_due_on
        assert valid_until is not None, "live certifications have dates"
        assert due is not None, "live certifications have dates"
        scheme = certification.scheme
        if today > valid_until:
            actions.append(SweepAction(certification.id, (E.EXPIRE,), f"validity ended on {valid_until.isoformat()}"))
            continue
        if certification.state is S.SUSPENDED:
            continue
        grace_end = due + timedelta(days=scheme.surveillance_grace_days)
        if today > grace_end:
            events = (E.SUSPEND,) if certification.state is S.SURVEILLANCE_OVERDUE else (E.MARK_OVERDUE, E.SUSPEND)
            reason = (
                f"surveillance audit due on {due.isoformat()} not recorded within the "
                f"{scheme.surveillance_grace_days}-day grace period (ended {grace_end.isoformat()})"
            )
            actions.append(SweepAction(certification.id, events, reason))
        elif today > due and certification.state is S.ISSUED:
            reason = f"surveillance audit due on {due.isoformat()} not recorded"
            actions.append(SweepAction(certification.id, (E.MARK_OVERDUE,), reason))
        elif certification.state is S.ISSUED and today >= due - timedelta(days=scheme.surveillance_notice_days):
            due_soon.append(certification.id)
    return SweepPlan(tuple(due_soon), tuple(actions))


def apply_sweep(
    certifications: Iterable[Certification], plan: SweepPlan, operator: Actor, now: datetime
) -> list[Transition]:
    """Perform the planned events as the operator; certifications not in the plan are left alone."""
    by_id = {certification.id: certification for certification in certifications}
    transitions: list[Transition] = []
    for action in plan.actions:
        certification = by_id[action.certification_id]
        for event in action.events:
            if event is E.MARK_OVERDUE:
                transitions.append(certification.mark_overdue(operator, now))
            elif event is E.SUSPEND:
                transitions.append(certification.suspend(operator, now, action.reason))
            else:
                transitions.append(certification.expire(operator, now))
    return transitions
