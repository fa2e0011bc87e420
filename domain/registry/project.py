"""The forest carbon project lifecycle: who may move a project from which state to which.

    draft --submit(owner)--> validating --validate(verifier)--> public_notice --register(operator)--> registered
    registered --start_monitoring(owner)--> monitoring --submit_monitoring_report(owner)--> verifying
    verifying --verify(verifier): an approving statement, the state stays verifying
    verifying --approve_issuance(operator, after verify)--> issued --start_monitoring(owner)--> monitoring (next period)
    validating --return_for_corrections(verifier, reasons)--> draft
    public_notice --reject_registration(operator, reasons; e.g. an objection during the notice)--> draft
    verifying --request_corrections(verifier, reasons)--> monitoring
    draft | validating | public_notice --withdraw(owner, reasons)--> withdrawn (final; its parcels are released)
    registered | monitoring | verifying | issued --deregister(operator, reasons)--> deregistered (final: no further
        issuance; issued credits stay with their holders; its parcels are released)

Verifier steps need a verifier organisation accredited by the operator; owner steps need the project's own owner.
An action that is not legal in the current state raises ``InvalidState``; the wrong actor raises ``Forbidden``.
Each monitoring period is numbered from 1; ``issued`` is reached once per period.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from domain.errors import Forbidden, InvalidState, RuleViolation
from domain.identity.roles import Role


class ProjectState(StrEnum):
    DRAFT = "draft"
    VALIDATING = "validating"
    PUBLIC_NOTICE = "public_notice"
    REGISTERED = "registered"
    MONITORING = "monitoring"
    VERIFYING = "verifying"
    ISSUED = "issued"
    WITHDRAWN = "withdrawn"
    DEREGISTERED = "deregistered"


class ProjectAction(StrEnum):
    SUBMIT = "submit"
    RETURN_FOR_CORRECTIONS = "return_for_corrections"
    VALIDATE = "validate"
    REJECT_REGISTRATION = "reject_registration"
    REGISTER = "register"
    START_MONITORING = "start_monitoring"
    SUBMIT_MONITORING_REPORT = "submit_monitoring_report"
    REQUEST_CORRECTIONS = "request_corrections"
    VERIFY = "verify"
    APPROVE_ISSUANCE = "approve_issuance"
    WITHDRAW = "withdraw"
    DEREGISTER = "deregister"


S, A = ProjectState, ProjectAction
TRANSITIONS: dict[tuple[ProjectState, ProjectAction], ProjectState] = {
    (S.DRAFT, A.SUBMIT): S.VALIDATING,
    (S.VALIDATING, A.RETURN_FOR_CORRECTIONS): S.DRAFT,
    (S.VALIDATING, A.VALIDATE): S.PUBLIC_NOTICE,
    (S.PUBLIC_NOTICE, A.REJECT_REGISTRATION): S.DRAFT,
    (S.PUBLIC_NOTICE, A.REGISTER): S.REGISTERED,
    (S.REGISTERED, A.START_MONITORING): S.MONITORING,
    (S.ISSUED, A.START_MONITORING): S.MONITORING,
    (S.MONITORING, A.SUBMIT_MONITORING_REPORT): S.VERIFYING,
    (S.VERIFYING, A.REQUEST_CORRECTIONS): S.MONITORING,
    (S.VERIFYING, A.VERIFY): S.VERIFYING,
    (S.VERIFYING, A.APPROVE_ISSUANCE): S.ISSUED,
    (S.DRAFT, A.WITHDRAW): S.WITHDRAWN,
    (S.VALIDATING, A.WITHDRAW): S.WITHDRAWN,
    (S.PUBLIC_NOTICE, A.WITHDRAW): S.WITHDRAWN,
    (S.REGISTERED, A.DEREGISTER): S.DEREGISTERED,
    (S.MONITORING, A.DEREGISTER): S.DEREGISTERED,
    (S.VERIFYING, A.DEREGISTER): S.DEREGISTERED,
    (S.ISSUED, A.DEREGISTER): S.DEREGISTERED,
}
# States a project never leaves; its parcels are released when it enters one.
FINAL_STATES = frozenset({S.WITHDRAWN, S.DEREGISTERED})

PERFORMER: dict[ProjectAction, Role] = {
    A.SUBMIT: Role.PROJECT_OWNER,
    A.RETURN_FOR_CORRECTIONS: Role.VERIFIER,
    A.VALIDATE: Role.VERIFIER,
    A.REJECT_REGISTRATION: Role.OPERATOR,
    A.REGISTER: Role.OPERATOR,
    A.START_MONITORING: Role.PROJECT_OWNER,
    A.SUBMIT_MONITORING_REPORT: Role.PROJECT_OWNER,
    A.REQUEST_CORRECTIONS: Role.VERIFIER,
    A.VERIFY: Role.VERIFIER,
    A.APPROVE_ISSUANCE: Role.OPERATOR,
    A.WITHDRAW: Role.PROJECT_OWNER,
    A.DEREGISTER: Role.OPERATOR,
}

NEEDS_REASONS = frozenset(
    {A.RETURN_FOR_CORRECTIONS, A.REJECT_REGISTRATION, A.REQUEST_CORRECTIONS, A.WITHDRAW, A.DEREGISTER}
)


@dataclass(frozen=True)
class Actor:
    organisation_id: str
    role: Role
    accredited_verifier: bool = False  # set from the operator's accreditation register, never by the caller


@dataclass(frozen=True)
class Transition:
    action: ProjectAction
    from_state: ProjectState
    to_state: ProjectState
    organisation_id: str
    role: Role
    period: int
    reasons: tuple[str, ...] = ()


@dataclass
class Project:
    project_id: str
    owner_id: str
    state: ProjectState = ProjectState.DRAFT
    period: int = 0  # the current monitoring period, 0 before monitoring starts
    verified_period: int | None = None  # the period holding an approving verification statement
    history: list[Transition] = field(default_factory=list)

    def legal_actions(self) -> list[ProjectAction]:
        return [action for (state, action) in TRANSITIONS if state is self.state]

    def perform(self, action: ProjectAction, actor: Actor, reasons: Sequence[str] = ()) -> Transition:
        """Apply ``action`` by ``actor``; returns the transition for the audit trail; a refusal changes nothing."""
        target = TRANSITIONS.get((self.state, action))
        if target is None:
            allowed = ", ".join(item.value for item in self.legal_actions()) or "nothing (final)"
            raise InvalidState(
                f"cannot {action.value} project {self.project_id} in state {self.state.value}; "
                f"allowed in {self.state.value}: {allowed}",
                state=self.state.value,
                action=action.value,
            )
        self._check_actor(action, actor)
        cleaned = tuple(reason.strip() for reason in reasons if reason.strip())
        if action in NEEDS_REASONS and not cleaned:
            raise RuleViolation(f"{action.value} needs at least one reason", code="reasons_required")
        self._check_verification(action)
        transition = Transition(
            action, self.state, target, actor.organisation_id, actor.role, self._next_period(action), cleaned
        )
        self._apply(transition)
        return transition

    def _check_actor(self, action: ProjectAction, actor: Actor) -> None:
        performer = PERFORMER[action]
        if actor.role is not performer:
            raise Forbidden(f"{action.value} is done by the {performer.value}, not the {actor.role.value}")
        if performer is Role.PROJECT_OWNER and actor.organisation_id != self.owner_id:
            raise Forbidden(f"only the owner of project {self.project_id} may {action.value}")
        if performer is Role.VERIFIER and not actor.accredited_verifier:
            raise Forbidden(
                f"verifier {actor.organisation_id} is not accredited by the operator", code="verifier_not_accredited"
            )

    def _check_verification(self, action: ProjectAction) -> None:
        if action is A.VERIFY and self.verified_period == self.period:
            raise InvalidState(f"monitoring period {self.period} is already verified; the operator approves next")
        if action is A.APPROVE_ISSUANCE and self.verified_period != self.period:
            raise InvalidState(
                f"monitoring period {self.period} has no approving verification statement; the verifier verifies first"
            )

    def _next_period(self, action: ProjectAction) -> int:
        return self.period + 1 if action is A.START_MONITORING else self.period

    def _apply(self, transition: Transition) -> None:
        self.state = transition.to_state
        self.period = transition.period
        if transition.action is A.VERIFY:
            self.verified_period = self.period
        elif transition.action is A.REQUEST_CORRECTIONS:
            self.verified_period = None
        self.history.append(transition)
