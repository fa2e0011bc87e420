"""The vocabulary of certification: states, events, actors, the transition table and the record of a transition.

See domain/labels/certification.py for the state machine as a picture and the aggregate that enforces it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from enum import StrEnum
from uuid import UUID

CHINA_TIME = timezone(timedelta(hours=8), "Asia/Shanghai")  # no daylight saving since 1991


def local_date(at: datetime) -> date:
    if at.tzinfo is None:
        raise ValueError("times must carry a time zone")
    return at.astimezone(CHINA_TIME).date()


class CertificationState(StrEnum):
    APPLIED = "applied"
    DOC_REVIEW = "doc_review"
    ONSITE_AUDIT = "onsite_audit"
    LAB_TESTING = "lab_testing"
    DECISION = "decision"  # evidence complete, awaiting the certifier's decision
    RECTIFICATION = "rectification"
    DECIDED = "decided"  # granted, certificate not yet issued
    REFUSED = "refused"
    ISSUED = "issued"
    SURVEILLANCE_OVERDUE = "surveillance_overdue"
    SUSPENDED = "suspended"
    REVOKED = "revoked"
    EXPIRED = "expired"
    RENEWED = "renewed"
    WITHDRAWN = "withdrawn"


class CertificationEvent(StrEnum):
    START_REVIEW = "start_review"
    ACCEPT_DOCUMENTS = "accept_documents"
    RECORD_AUDIT = "record_audit"
    RECORD_LAB_RESULTS = "record_lab_results"
    REQUEST_RECTIFICATION = "request_rectification"
    SUBMIT_RECTIFICATION = "submit_rectification"
    GRANT = "grant"
    REFUSE = "refuse"
    ISSUE = "issue"
    RECORD_SURVEILLANCE = "record_surveillance"
    MARK_OVERDUE = "mark_overdue"
    SUSPEND = "suspend"
    REINSTATE = "reinstate"
    REVOKE = "revoke"
    EXPIRE = "expire"
    RENEW = "renew"
    WITHDRAW = "withdraw"


class ActorRole(StrEnum):
    PRODUCER = "producer"  # the applicant organisation itself
    CERTIFIER = "certifier"  # the certification's certifier, accredited for the category on the day
    OPERATOR = "operator"  # the registry operator, also acting for the scheduled sweep


S = CertificationState
E = CertificationEvent
ASSESSMENT = frozenset({S.DOC_REVIEW, S.ONSITE_AUDIT, S.LAB_TESTING, S.DECISION})
LIVE = frozenset({S.ISSUED, S.SURVEILLANCE_OVERDUE})  # labels may be used and verify as valid
FINAL = frozenset({S.REFUSED, S.REVOKED, S.EXPIRED, S.RENEWED, S.WITHDRAWN})
ASSESSMENT_ORDER = (S.DOC_REVIEW, S.ONSITE_AUDIT, S.LAB_TESTING, S.DECISION)


@dataclass(frozen=True, slots=True)
class Rule:
    sources: frozenset[CertificationState]
    target: CertificationState | None  # None: the stage named when rectification was requested
    actors: frozenset[ActorRole]
    reason_required: bool = False


_CERTIFIER = frozenset({ActorRole.CERTIFIER})
_CERTIFIER_OR_OPERATOR = frozenset({ActorRole.CERTIFIER, ActorRole.OPERATOR})

RULES: Mapping[CertificationEvent, Rule] = {
    E.START_REVIEW: Rule(frozenset({S.APPLIED}), S.DOC_REVIEW, _CERTIFIER),
    E.ACCEPT_DOCUMENTS: Rule(frozenset({S.DOC_REVIEW}), S.ONSITE_AUDIT, _CERTIFIER),
    E.RECORD_AUDIT: Rule(frozenset({S.ONSITE_AUDIT}), S.LAB_TESTING, _CERTIFIER),
    E.RECORD_LAB_RESULTS: Rule(frozenset({S.LAB_TESTING, S.DECISION}), S.DECISION, _CERTIFIER),
    E.REQUEST_RECTIFICATION: Rule(ASSESSMENT, S.RECTIFICATION, _CERTIFIER, reason_required=True),
    E.SUBMIT_RECTIFICATION: Rule(frozenset({S.RECTIFICATION}), None, frozenset({ActorRole.PRODUCER})),
    E.GRANT: Rule(frozenset({S.DOC_REVIEW, S.DECISION}), S.DECIDED, _CERTIFIER),
    E.REFUSE: Rule(ASSESSMENT | {S.RECTIFICATION}, S.REFUSED, _CERTIFIER, reason_required=True),
    E.ISSUE: Rule(frozenset({S.DECIDED}), S.ISSUED, _CERTIFIER),
    E.RECORD_SURVEILLANCE: Rule(LIVE, S.ISSUED, _CERTIFIER),
    E.MARK_OVERDUE: Rule(frozenset({S.ISSUED}), S.SURVEILLANCE_OVERDUE, frozenset({ActorRole.OPERATOR})),
    E.SUSPEND: Rule(LIVE, S.SUSPENDED, _CERTIFIER_OR_OPERATOR, reason_required=True),
    E.REINSTATE: Rule(frozenset({S.SUSPENDED}), S.ISSUED, _CERTIFIER, reason_required=True),
    E.REVOKE: Rule(LIVE | {S.SUSPENDED}, S.REVOKED, _CERTIFIER_OR_OPERATOR, reason_required=True),
    E.EXPIRE: Rule(LIVE | {S.SUSPENDED}, S.EXPIRED, frozenset({ActorRole.OPERATOR})),
    E.RENEW: Rule(frozenset({S.ISSUED}), S.RENEWED, _CERTIFIER),
    E.WITHDRAW: Rule(
        frozenset({S.APPLIED, S.RECTIFICATION, S.DECIDED}) | ASSESSMENT | LIVE,
        S.WITHDRAWN,
        frozenset({ActorRole.PRODUCER}),
    ),
}


def allowed_events(state: CertificationState) -> list[CertificationEvent]:
    return [event for event, rule in RULES.items() if state in rule.sources]


@dataclass(frozen=True, slots=True)
class Actor:
    role: ActorRole
    organisation_id: UUID
    user_id: UUID | None = None


@dataclass(frozen=True, slots=True)
class Transition:
    event: CertificationEvent
    from_state: CertificationState | None  # None: the certification began with this transition (a renewal)
    to_state: CertificationState
    actor: Actor
    at: datetime
    reason: str | None
