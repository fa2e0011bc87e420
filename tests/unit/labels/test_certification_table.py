"""Every (state, event) pair: the 40 legal transitions move as the table says, the other 215 raise InvalidState."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from uuid import uuid4

import pytest

from domain.errors import Forbidden, InvalidState
from domain.labels.certification import Certification
from domain.labels.states import RULES, Actor, ActorRole, CertificationEvent, CertificationState, Transition

from .builders import ACCREDITATIONS, CERTIFIER, OPERATOR, PRODUCER, at, tea

S = CertificationState
E = CertificationEvent
ASSESSMENT = [S.DOC_REVIEW, S.ONSITE_AUDIT, S.LAB_TESTING, S.DECISION]

# Written out by hand from DOMAIN.md, independently of RULES, so that a change to RULES has to change this too.
EXPECTED: dict[tuple[CertificationState, CertificationEvent], CertificationState] = {
    (S.APPLIED, E.START_REVIEW): S.DOC_REVIEW,
    (S.DOC_REVIEW, E.ACCEPT_DOCUMENTS): S.ONSITE_AUDIT,
    (S.ONSITE_AUDIT, E.RECORD_AUDIT): S.LAB_TESTING,
    (S.LAB_TESTING, E.RECORD_LAB_RESULTS): S.DECISION,
    (S.DECISION, E.RECORD_LAB_RESULTS): S.DECISION,
    **{(state, E.REQUEST_RECTIFICATION): S.RECTIFICATION for state in ASSESSMENT},
    (S.RECTIFICATION, E.SUBMIT_RECTIFICATION): S.DOC_REVIEW,  # the builder's resume stage
    (S.DOC_REVIEW, E.GRANT): S.DECIDED,  # shortened path only
    (S.DECISION, E.GRANT): S.DECIDED,
    **{(state, E.REFUSE): S.REFUSED for state in [*ASSESSMENT, S.RECTIFICATION]},
    (S.DECIDED, E.ISSUE): S.ISSUED,
    (S.ISSUED, E.RECORD_SURVEILLANCE): S.ISSUED,
    (S.SURVEILLANCE_OVERDUE, E.RECORD_SURVEILLANCE): S.ISSUED,
    (S.ISSUED, E.MARK_OVERDUE): S.SURVEILLANCE_OVERDUE,
    (S.ISSUED, E.SUSPEND): S.SUSPENDED,
    (S.SURVEILLANCE_OVERDUE, E.SUSPEND): S.SUSPENDED,
    (S.SUSPENDED, E.REINSTATE): S.ISSUED,
    **{(state, E.REVOKE): S.REVOKED for state in [S.ISSUED, S.SURVEILLANCE_OVERDUE, S.SUSPENDED]},
    **{(state, E.EXPIRE): S.EXPIRED for state in [S.ISSUED, S.SURVEILLANCE_OVERDUE, S.SUSPENDED]},
    (S.ISSUED, E.RENEW): S.RENEWED,
    **{
        (state, E.WITHDRAW): S.WITHDRAWN
        for state in [S.APPLIED, *ASSESSMENT, S.RECTIFICATION, S.DECIDED, S.ISSUED, S.SURVEILLANCE_OVERDUE]
    },
}

# The day each event is tried on, chosen so its date guard passes whenever the state allows it.
WHEN: dict[CertificationEvent, datetime] = {event: at(2027, 1, 15) for event in E}
WHEN[E.EXPIRE] = at(2029, 1, 2)
WHEN[E.RENEW] = at(2028, 10, 1)

ACTOR: dict[CertificationEvent, Actor] = dict.fromkeys(E, CERTIFIER)
ACTOR.update({E.SUBMIT_RECTIFICATION: PRODUCER, E.WITHDRAW: PRODUCER, E.MARK_OVERDUE: OPERATOR, E.EXPIRE: OPERATOR})


def perform(certification: Certification, event: CertificationEvent, actor: Actor, when: datetime) -> object:
    """Call the aggregate's method for ``event`` with arguments that satisfy every guard but the state."""
    acc = ACCREDITATIONS
    calls = {
        E.START_REVIEW: lambda: certification.start_review(actor, when, acc),
        E.ACCEPT_DOCUMENTS: lambda: certification.accept_documents(actor, when, acc),
        E.RECORD_AUDIT: lambda: certification.record_audit(actor, when, acc, {"organic_inputs_only": True}),
        E.RECORD_LAB_RESULTS: lambda: certification.record_lab_results(actor, when, acc, {"selenium": Decimal("1")}),
        E.REQUEST_RECTIFICATION: lambda: certification.request_rectification(actor, when, acc, ["lead too high"]),
        E.SUBMIT_RECTIFICATION: lambda: certification.submit_rectification(actor, when, "new lab report"),
        E.GRANT: lambda: certification.grant(actor, when, acc),
        E.REFUSE: lambda: certification.refuse(actor, when, acc, "origin outside Bashan"),
        E.ISSUE: lambda: certification.issue(actor, when, acc, "BSEL-0421-2027-000009"),
        E.RECORD_SURVEILLANCE: lambda: certification.record_surveillance(actor, when, acc),
        E.MARK_OVERDUE: lambda: certification.mark_overdue(actor, when),
        E.SUSPEND: lambda: certification.suspend(actor, when, "pesticide residue found", acc),
        E.REINSTATE: lambda: certification.reinstate(actor, when, acc, "residue source removed, retested clean"),
        E.REVOKE: lambda: certification.revoke(actor, when, "labels used on imported tea", acc),
        E.EXPIRE: lambda: certification.expire(actor, when),
        E.RENEW: lambda: certification.renew(actor, when, acc, successor_id=uuid4(), number="BSEL-0421-2028-000002"),
        E.WITHDRAW: lambda: certification.withdraw(actor, when, "stopped producing"),
    }
    return calls[event]()


def test_the_rules_table_matches_the_written_table() -> None:
    actual = {(state, event) for event, rule in RULES.items() for state in rule.sources}
    assert actual == set(EXPECTED)
    assert len(EXPECTED) == 40
    assert len(list(S)) * len(list(E)) == 255


@pytest.mark.parametrize("event", list(E))
@pytest.mark.parametrize("state", list(S))
def test_every_state_and_event(state: CertificationState, event: CertificationEvent) -> None:
    certification = tea(state, shortened_path=(state, event) == (S.DOC_REVIEW, E.GRANT))
    actor, when = ACTOR[event], WHEN[event]
    if (state, event) in EXPECTED:
        perform(certification, event, actor, when)
        assert certification.state is EXPECTED[state, event]
        last = certification.history[-1]
        assert last == Transition(event, state, EXPECTED[state, event], actor, when, last.reason)
        if RULES[event].reason_required:
            assert last.reason
    else:
        with pytest.raises(InvalidState, match=f"cannot {event} a certification in state {state}") as raised:
            perform(certification, event, actor, when)
        assert raised.value.code == "invalid_transition"
        assert certification.state is state
        assert certification.history == []


WRONG_ROLE_CASES = [
    (state, event, role) for (state, event) in EXPECTED for role in ActorRole if role not in RULES[event].actors
]


@pytest.mark.parametrize(("state", "event", "role"), WRONG_ROLE_CASES)
def test_every_legal_transition_refuses_the_wrong_role(
    state: CertificationState, event: CertificationEvent, role: ActorRole
) -> None:
    certification = tea(state, shortened_path=True)
    intruder = {ActorRole.PRODUCER: PRODUCER, ActorRole.CERTIFIER: CERTIFIER, ActorRole.OPERATOR: OPERATOR}[role]
    with pytest.raises(Forbidden, match=f"may {event}; {role} tried") as raised:
        perform(certification, event, intruder, WHEN[event])
    assert raised.value.code == "actor_not_allowed"
    assert certification.state is state
    assert certification.history == []


@pytest.mark.parametrize(
    ("state", "event"), sorted(pair for pair in EXPECTED if ACTOR[pair[1]].role is not ActorRole.OPERATOR)
)
def test_every_legal_transition_refuses_another_organisation_of_the_right_role(
    state: CertificationState, event: CertificationEvent
) -> None:
    # Any operator organisation acts for the registry, so only producer and certifier events are bound to one.
    stranger = Actor(ACTOR[event].role, uuid4())
    certification = tea(state, shortened_path=True)
    with pytest.raises(Forbidden, match="only the"):
        perform(certification, event, stranger, WHEN[event])
    assert certification.state is state


def test_final_states_allow_nothing() -> None:
    for state in [S.REFUSED, S.REVOKED, S.EXPIRED, S.RENEWED, S.WITHDRAWN]:
        with pytest.raises(InvalidState, match="allowed here: nothing: the state is final"):
            tea(state).withdraw(PRODUCER, at(2027, 1, 1))
