from __future__ import annotations

from datetime import date

from domain.labels.states import CertificationEvent, CertificationState
from domain.labels.surveillance import apply_sweep, plan_sweep

from .builders import OPERATOR, at, tea

S = CertificationState
E = CertificationEvent


def test_nothing_happens_before_the_notice_window() -> None:
    certifications = [tea(S.ISSUED), tea(S.APPLIED), tea(S.REVOKED)]
    plan = plan_sweep(certifications, at(2026, 12, 1))
    assert plan.due_soon == ()
    assert plan.actions == ()


def test_due_soon_from_thirty_days_before_the_due_date() -> None:
    issued = tea(S.ISSUED)
    assert plan_sweep([issued], at(2026, 12, 1)).due_soon == ()
    assert plan_sweep([issued], at(2026, 12, 2)).due_soon == (issued.id,)
    assert plan_sweep([issued], at(2027, 1, 1)).due_soon == (issued.id,)


def test_overdue_the_day_after_due_and_suspended_after_the_grace_period() -> None:
    issued, overdue, suspended = tea(S.ISSUED), tea(S.SURVEILLANCE_OVERDUE), tea(S.SUSPENDED)
    certifications = [issued, overdue, suspended]
    day_after = plan_sweep(certifications, at(2027, 1, 2))
    assert day_after.ids_with(E.MARK_OVERDUE) == [issued.id]
    assert day_after.ids_with(E.SUSPEND) == []
    last_grace_day = plan_sweep(certifications, at(2027, 1, 31))
    assert last_grace_day.ids_with(E.SUSPEND) == []
    past_grace = plan_sweep(certifications, at(2027, 2, 1))
    assert past_grace.ids_with(E.SUSPEND) == [issued.id, overdue.id]
    assert past_grace.actions[0].events == (E.MARK_OVERDUE, E.SUSPEND)
    assert past_grace.actions[1].events == (E.SUSPEND,)
    assert past_grace.actions[1].reason == (
        "surveillance audit due on 2027-01-01 not recorded within the 30-day grace period (ended 2027-01-31)"
    )


def test_expiry_comes_first_and_reaches_suspended_certificates() -> None:
    issued, overdue, suspended = tea(S.ISSUED), tea(S.SURVEILLANCE_OVERDUE), tea(S.SUSPENDED)
    assert plan_sweep([issued, suspended], at(2028, 12, 31)).ids_with(E.EXPIRE) == []
    plan = plan_sweep([issued, overdue, suspended], at(2029, 1, 1))
    assert plan.ids_with(E.EXPIRE) == [issued.id, overdue.id, suspended.id]
    assert all(action.events == (E.EXPIRE,) for action in plan.actions)
    assert plan.actions[0].reason == "validity ended on 2028-12-31"


def test_applying_the_plan_moves_each_certificate_once_as_the_operator() -> None:
    issued, overdue, suspended, applied = tea(S.ISSUED), tea(S.SURVEILLANCE_OVERDUE), tea(S.SUSPENDED), tea(S.APPLIED)
    certifications = [issued, overdue, suspended, applied]
    now = at(2027, 2, 15)
    plan = plan_sweep(certifications, now)
    transitions = apply_sweep(certifications, plan, OPERATOR, now)
    assert [(t.event, t.from_state, t.to_state) for t in transitions] == [
        (E.MARK_OVERDUE, S.ISSUED, S.SURVEILLANCE_OVERDUE),
        (E.SUSPEND, S.SURVEILLANCE_OVERDUE, S.SUSPENDED),
        (E.SUSPEND, S.SURVEILLANCE_OVERDUE, S.SUSPENDED),
    ]
    assert all(t.actor == OPERATOR and t.at == now for t in transitions)
    assert (issued.state, overdue.state, suspended.state, applied.state) == (
        S.SUSPENDED,
        S.SUSPENDED,
        S.SUSPENDED,
        S.APPLIED,
    )
    # A second sweep the same day finds nothing more to do.
    assert plan_sweep(certifications, now).actions == ()
    assert issued.surveillance_due_on == date(2027, 1, 1)
