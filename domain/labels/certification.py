"""Certification of a producer's product under a label scheme: the state machine of DOMAIN.md ("Bashan eco-label").

    applied -> doc_review -> onsite_audit -> lab_testing -> decision -> decided -> issued
    any assessment stage -> rectification -> back to the stage the certifier names (default: the one that asked)
    doc_review -> decided only on the shortened path (a recognised scheme's certificate stands in for audit and lab)
    assessment stages -> refused (final)
    issued -> surveillance_overdue (due date passed) -> suspended (grace period passed, or the certifier's call)
    suspended -> issued ("reinstated": the event's name; the state is issued again so that every rule about a live
    certificate checks one state)
    issued | surveillance_overdue | suspended -> revoked (final, reason required) | expired (final)
    issued -> renewed (final; a successor certificate continues the validity)
    any state before a decision, decided, issued, surveillance_overdue -> withdrawn (final, by the producer). Not from
    suspended: a producer must not escape a pending revocation by withdrawing.

``states.RULES`` is the whole table: for each event the states it leaves, the state it enters, who may perform it and
whether a reason is required. Every transition appends a ``Transition`` (who, when, why). Dates are judged in
Asia/Shanghai. Checks run in a fixed order: state (InvalidState), actor and accreditation (Forbidden), reason
(RuleViolation), then the event's own guard (dates, criteria, numbers).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date, datetime, timedelta
from decimal import Decimal
from uuid import UUID

from domain.errors import Forbidden, InvalidState, RuleViolation
from domain.labels.accreditation import Accreditation, require_accreditation
from domain.labels.scheme import Evaluation, Evidence, LabelScheme, OriginWithin, ProductCategory, add_months
from domain.labels.states import (
    ASSESSMENT_ORDER,
    LIVE,
    RULES,
    Actor,
    ActorRole,
    CertificationEvent,
    CertificationState,
    Rule,
    Transition,
    allowed_events,
    local_date,
)

S = CertificationState
E = CertificationEvent


def certificate_number(label_number: int, year: int, sequence: int) -> str:
    """``BSEL-<certifier>-<year>-<sequence>``, e.g. BSEL-0421-2026-000017."""
    return f"BSEL-{label_number:04d}-{year:04d}-{sequence:06d}"


class Certification:
    """One producer's certification for one product, from application to its final state."""

    def __init__(
        self,
        *,
        id: UUID,
        scheme: LabelScheme,
        producer_id: UUID,
        certifier_id: UUID,
        category: ProductCategory,
        product: str,
        production_site: str,
        district: str,
        annual_volume: int,
        volume_unit: str,
        shortened_path: bool = False,
        state: CertificationState = S.APPLIED,
    ) -> None:
        if annual_volume <= 0:
            raise RuleViolation(f"annual volume must be positive, got {annual_volume}", code="invalid_volume")
        if not product.strip() or not volume_unit.strip():
            raise RuleViolation("product and volume unit are required", code="invalid_application")
        if category not in scheme.categories:
            raise RuleViolation(f"scheme {scheme.code} does not certify {category}", code="invalid_application")
        self.id = id
        self.scheme = scheme
        self.producer_id = producer_id
        self.certifier_id = certifier_id
        self.category = category
        self.product = product
        self.production_site = production_site
        self.district = district
        self.annual_volume = annual_volume
        self.volume_unit = volume_unit
        self.shortened_path = shortened_path
        self.state = state
        self.findings: dict[str, bool] = {}
        self.lab_results: dict[str, Decimal] = {}
        self.rectification_reasons: tuple[str, ...] = ()
        self.resume_at: CertificationState | None = None
        self.number: str | None = None
        self.valid_from: date | None = None
        self.valid_until: date | None = None
        self.surveillance_due_on: date | None = None
        self.history: list[Transition] = []

    @property
    def evidence(self) -> Evidence:
        return Evidence(self.district, dict(self.lab_results), dict(self.findings))

    def evaluation(self, on: date) -> Evaluation:
        return self.scheme.evaluate(self.category, self.evidence, on)

    @property
    def is_live(self) -> bool:
        """The state lets labels be used; see ``valid_on`` for the date as well."""
        return self.state in LIVE

    def valid_on(self, on: date) -> bool:
        """Live and within validity: true even before the sweep has caught up with an expiry, false after it."""
        return self.is_live and self.valid_until is not None and on <= self.valid_until

    def certificate_year(self, on: date) -> tuple[date, date]:
        """The certificate year containing ``on`` (first and last day): annual volumes are counted per such year."""
        assert self.valid_from is not None, "only issued certifications have certificate years"
        start = self.valid_from
        years = max(0, on.year - start.year - 1)
        while add_months(start, 12 * (years + 1)) <= on:
            years += 1
        return add_months(start, 12 * years), add_months(start, 12 * (years + 1)) - timedelta(days=1)

    def _apply(
        self,
        event: CertificationEvent,
        actor: Actor,
        at: datetime,
        accreditations: Iterable[Accreditation],
        reason: str | None,
        guard: Callable[[], None] | None = None,
    ) -> Transition:
        """Check state, actor, reason and the event's own ``guard`` in that order, then move and record."""
        rule = RULES[event]
        if self.state not in rule.sources:
            allowed = ", ".join(allowed_events(self.state)) or "nothing: the state is final"
            raise InvalidState(
                f"cannot {event} a certification in state {self.state}; allowed here: {allowed}",
                code="invalid_transition",
                state=str(self.state),
                event=str(event),
            )
        self._check_actor(event, rule, actor, at, accreditations)
        reason = reason.strip() if reason is not None else None
        if rule.reason_required and not reason:
            raise RuleViolation(f"{event} needs a reason", code="reason_required")
        if guard is not None:
            guard()
        target = rule.target if rule.target is not None else self.resume_at
        assert target is not None, "rectification always records where to resume"
        transition = Transition(event, self.state, target, actor, at, reason or None)
        self.state = target
        self.history.append(transition)
        return transition

    def _check_actor(
        self,
        event: CertificationEvent,
        rule: Rule,
        actor: Actor,
        at: datetime,
        accreditations: Iterable[Accreditation],
    ) -> None:
        if actor.role not in rule.actors:
            who = " or ".join(sorted(rule.actors))
            raise Forbidden(f"only the {who} may {event}; {actor.role} tried", code="actor_not_allowed")
        if actor.role is ActorRole.PRODUCER and actor.organisation_id != self.producer_id:
            raise Forbidden(f"only the applicant producer may {event}", code="actor_not_allowed")
        if actor.role is ActorRole.CERTIFIER:
            if actor.organisation_id != self.certifier_id:
                raise Forbidden(f"only the certification's own certifier may {event}", code="actor_not_allowed")
            require_accreditation(
                accreditations, actor.organisation_id, self.scheme.code, self.category, local_date(at)
            )

    def start_review(self, actor: Actor, at: datetime, accreditations: Iterable[Accreditation]) -> Transition:
        return self._apply(E.START_REVIEW, actor, at, accreditations, None)

    def accept_documents(
        self, actor: Actor, at: datetime, accreditations: Iterable[Accreditation], note: str | None = None
    ) -> Transition:
        return self._apply(E.ACCEPT_DOCUMENTS, actor, at, accreditations, note)

    def record_audit(
        self, actor: Actor, at: datetime, accreditations: Iterable[Accreditation], findings: Mapping[str, bool]
    ) -> Transition:
        transition = self._apply(E.RECORD_AUDIT, actor, at, accreditations, None)
        self.findings.update(findings)
        return transition

    def record_lab_results(
        self, actor: Actor, at: datetime, accreditations: Iterable[Accreditation], results: Mapping[str, Decimal]
    ) -> Transition:
        def guard() -> None:
            if not results:
                raise RuleViolation("record at least one lab result", code="lab_results_required")

        transition = self._apply(E.RECORD_LAB_RESULTS, actor, at, accreditations, None, guard)
        self.lab_results.update(results)
        return transition

    def request_rectification(
        self,
        actor: Actor,
        at: datetime,
        accreditations: Iterable[Accreditation],
        reasons: Sequence[str],
        resume_at: CertificationState | None = None,
    ) -> Transition:
        """Ask the producer to correct ``reasons``; once they submit, the assessment resumes at ``resume_at``."""
        resume = resume_at or self.state

        def guard() -> None:
            if resume not in ASSESSMENT_ORDER or ASSESSMENT_ORDER.index(resume) > ASSESSMENT_ORDER.index(self.state):
                raise RuleViolation(
                    f"assessment can resume only at {self.state} or an earlier stage, not {resume}",
                    code="invalid_resume_stage",
                )

        cleaned = tuple(reason.strip() for reason in reasons if reason.strip())
        transition = self._apply(E.REQUEST_RECTIFICATION, actor, at, accreditations, "; ".join(cleaned), guard)
        self.rectification_reasons = cleaned
        self.resume_at = resume
        return transition

    def submit_rectification(self, actor: Actor, at: datetime, note: str | None = None) -> Transition:
        transition = self._apply(E.SUBMIT_RECTIFICATION, actor, at, (), note)
        self.resume_at = None
        return transition

    def grant(self, actor: Actor, at: datetime, accreditations: Iterable[Accreditation]) -> Transition:
        """Decide to certify: only when the evidence meets the criteria in force; on the shortened path, the origin."""

        def criteria_met() -> None:
            today = local_date(at)
            if self.state is S.DOC_REVIEW and not self.shortened_path:
                raise InvalidState(
                    "only a shortened-path application (recognised scheme) may be granted after document review; "
                    "this one needs the on-site audit and lab results",
                    code="invalid_transition",
                )
            if self.state is S.DOC_REVIEW:
                criteria = self.scheme.criteria_for(self.category, today).criteria
                results = tuple(c.evaluate(self.evidence) for c in criteria if isinstance(c, OriginWithin))
            else:
                results = self.evaluation(today).results
            failures = [result.reason for result in results if not result.passed]
            if failures:
                raise RuleViolation(
                    "the criteria are not met: " + "; ".join(failures), code="criteria_not_met", failures=failures
                )

        return self._apply(E.GRANT, actor, at, accreditations, None, criteria_met)

    def refuse(self, actor: Actor, at: datetime, accreditations: Iterable[Accreditation], reason: str) -> Transition:
        return self._apply(E.REFUSE, actor, at, accreditations, reason)

    def issue(self, actor: Actor, at: datetime, accreditations: Iterable[Accreditation], number: str) -> Transition:
        transition = self._apply(E.ISSUE, actor, at, accreditations, None, lambda: _require_number(number))
        self._start_validity(number.strip(), local_date(at))
        return transition

    def _start_validity(self, number: str, valid_from: date) -> None:
        self.number = number
        self.valid_from = valid_from
        self.valid_until = self.scheme.valid_until(valid_from)
        self.surveillance_due_on = self.scheme.next_surveillance_due(valid_from)

    @property
    def _valid_until(self) -> date:
        assert self.valid_until is not None, "issued certifications have dates"
        return self.valid_until

    @property
    def _surveillance_due_on(self) -> date:
        assert self.surveillance_due_on is not None, "issued certifications have dates"
        return self.surveillance_due_on

    def _not_expired(self, event: CertificationEvent, at: datetime) -> Callable[[], None]:
        def guard() -> None:
            if local_date(at) > self._valid_until:
                raise InvalidState(
                    f"cannot {event}: the certificate expired after {self._valid_until.isoformat()}",
                    code="certificate_expired",
                )

        return guard

    def record_surveillance(
        self, actor: Actor, at: datetime, accreditations: Iterable[Accreditation], note: str | None = None
    ) -> Transition:
        """A passed surveillance audit. The next is due a year after the one it fulfils, so the schedule stays put."""
        guard = self._not_expired(E.RECORD_SURVEILLANCE, at)
        transition = self._apply(E.RECORD_SURVEILLANCE, actor, at, accreditations, note, guard)
        self._advance_surveillance(local_date(at))
        return transition

    def _advance_surveillance(self, today: date) -> None:
        due = self.scheme.next_surveillance_due(self._surveillance_due_on)
        while due <= today:
            due = self.scheme.next_surveillance_due(due)
        self.surveillance_due_on = due

    def mark_overdue(self, actor: Actor, at: datetime) -> Transition:
        def guard() -> None:
            if local_date(at) <= self._surveillance_due_on:
                raise InvalidState(
                    f"surveillance is due on {self._surveillance_due_on.isoformat()}, not overdue yet",
                    code="not_overdue",
                )

        return self._apply(E.MARK_OVERDUE, actor, at, (), None, guard)

    def suspend(
        self, actor: Actor, at: datetime, reason: str, accreditations: Iterable[Accreditation] = ()
    ) -> Transition:
        return self._apply(E.SUSPEND, actor, at, accreditations, reason)

    def reinstate(self, actor: Actor, at: datetime, accreditations: Iterable[Accreditation], reason: str) -> Transition:
        """Lift a suspension. A missed surveillance counts as done by the audit that justified reinstatement."""
        transition = self._apply(E.REINSTATE, actor, at, accreditations, reason, self._not_expired(E.REINSTATE, at))
        if self._surveillance_due_on < local_date(at):
            self._advance_surveillance(local_date(at))
        return transition

    def revoke(
        self, actor: Actor, at: datetime, reason: str, accreditations: Iterable[Accreditation] = ()
    ) -> Transition:
        return self._apply(E.REVOKE, actor, at, accreditations, reason)

    def expire(self, actor: Actor, at: datetime) -> Transition:
        def guard() -> None:
            if local_date(at) <= self._valid_until:
                raise InvalidState(
                    f"the certificate is valid until {self._valid_until.isoformat()}", code="not_expired"
                )

        return self._apply(E.EXPIRE, actor, at, (), None, guard)

    def renew(
        self, actor: Actor, at: datetime, accreditations: Iterable[Accreditation], *, successor_id: UUID, number: str
    ) -> Certification:
        """Close this certificate as renewed and return its successor, valid from the day after this one ends."""

        def guard() -> None:
            opens = self._valid_until - timedelta(days=self.scheme.renewal_window_days)
            if not opens <= local_date(at) <= self._valid_until:
                raise InvalidState(
                    f"renewal is possible from {opens.isoformat()} to {self._valid_until.isoformat()}",
                    code="outside_renewal_window",
                )
            _require_number(number)

        self._apply(E.RENEW, actor, at, accreditations, None, guard)
        successor = Certification(
            id=successor_id,
            scheme=self.scheme,
            producer_id=self.producer_id,
            certifier_id=self.certifier_id,
            category=self.category,
            product=self.product,
            production_site=self.production_site,
            district=self.district,
            annual_volume=self.annual_volume,
            volume_unit=self.volume_unit,
            state=S.ISSUED,
        )
        successor._start_validity(number.strip(), self._valid_until + timedelta(days=1))
        successor.history.append(Transition(E.RENEW, None, S.ISSUED, actor, at, f"renews {self.number}"))
        successor.findings, successor.lab_results = dict(self.findings), dict(self.lab_results)
        return successor

    def withdraw(self, actor: Actor, at: datetime, reason: str | None = None) -> Transition:
        return self._apply(E.WITHDRAW, actor, at, (), reason)


def _require_number(number: str) -> None:
    if not number.strip():
        raise RuleViolation("a certificate needs a number", code="certificate_number_required")
