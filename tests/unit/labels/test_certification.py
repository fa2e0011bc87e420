from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from uuid import uuid4

import pytest

from domain.errors import Forbidden, InvalidState, RuleViolation
from domain.labels.accreditation import accredit
from domain.labels.certification import Certification, certificate_number
from domain.labels.scheme import BASHAN_ECO_LABEL, ProductCategory
from domain.labels.states import CertificationEvent, CertificationState, local_date

from .builders import ACCREDITATIONS, CERTIFIER, CERTIFIER_ID, OPERATOR, PRODUCER, at, tea

S = CertificationState
E = CertificationEvent
ACC = ACCREDITATIONS


def test_the_full_path_from_application_to_certificate() -> None:
    certification = tea()
    certification.start_review(CERTIFIER, at(2026, 2, 1), ACC)
    certification.accept_documents(CERTIFIER, at(2026, 2, 5), ACC, "land lease and input records complete")
    certification.record_audit(CERTIFIER, at(2026, 2, 12), ACC, {"organic_inputs_only": True})
    certification.record_lab_results(
        CERTIFIER, at(2026, 2, 20), ACC, {"selenium": Decimal("0.62"), "lead": Decimal("0.8")}
    )
    assert certification.evaluation(date(2026, 2, 20)).passed
    certification.grant(CERTIFIER, at(2026, 2, 25), ACC)
    # 18:00 UTC on 28 Feb is already 1 March in Bazhong: the certificate's dates follow China time.
    certification.issue(CERTIFIER, datetime(2026, 2, 28, 18, tzinfo=UTC), ACC, certificate_number(421, 2026, 17))
    assert certification.state is S.ISSUED
    assert certification.is_live
    assert certification.number == "BSEL-0421-2026-000017"
    assert certification.valid_from == date(2026, 3, 1)
    assert certification.valid_until == date(2029, 2, 28)
    assert certification.surveillance_due_on == date(2027, 3, 1)
    assert [t.event for t in certification.history] == [
        E.START_REVIEW,
        E.ACCEPT_DOCUMENTS,
        E.RECORD_AUDIT,
        E.RECORD_LAB_RESULTS,
        E.GRANT,
        E.ISSUE,
    ]
    assert certification.history[1].reason == "land lease and input records complete"
    assert {t.actor for t in certification.history} == {CERTIFIER}


def test_a_failing_lab_result_blocks_the_grant_until_rectified() -> None:
    certification = tea(S.LAB_TESTING)
    certification.findings = {"organic_inputs_only": True}
    certification.record_lab_results(
        CERTIFIER, at(2026, 3, 1), ACC, {"selenium": Decimal("0.12"), "lead": Decimal("6.1")}
    )
    with pytest.raises(RuleViolation) as raised:
        certification.grant(CERTIFIER, at(2026, 3, 2), ACC)
    assert raised.value.code == "criteria_not_met"
    assert raised.value.context["failures"] == [
        "selenium 0.12 mg/kg is below the minimum 0.25",
        "lead 6.1 mg/kg is above the maximum 5.0",
    ]
    assert certification.state is S.DECISION
    certification.request_rectification(
        CERTIFIER,
        at(2026, 3, 3),
        ACC,
        ["lead above 5.0 mg/kg: find the source", " ", "resample"],
        resume_at=S.LAB_TESTING,
    )
    assert certification.rectification_reasons == ("lead above 5.0 mg/kg: find the source", "resample")
    assert certification.history[-1].reason == "lead above 5.0 mg/kg: find the source; resample"
    certification.submit_rectification(PRODUCER, at(2026, 4, 1), "fertiliser supplier changed")
    assert certification.state is S.LAB_TESTING
    assert certification.resume_at is None
    certification.record_lab_results(
        CERTIFIER, at(2026, 4, 20), ACC, {"selenium": Decimal("0.31"), "lead": Decimal("1.0")}
    )
    certification.grant(CERTIFIER, at(2026, 4, 21), ACC)
    assert certification.state is S.DECIDED


def test_rectification_cannot_skip_ahead_and_needs_reasons() -> None:
    certification = tea(S.ONSITE_AUDIT)
    with pytest.raises(RuleViolation, match="resume only at onsite_audit or an earlier stage, not decision"):
        certification.request_rectification(CERTIFIER, at(2026, 3, 3), ACC, ["x"], resume_at=S.DECISION)
    with pytest.raises(RuleViolation, match="request_rectification needs a reason") as raised:
        certification.request_rectification(CERTIFIER, at(2026, 3, 3), ACC, ["  "])
    assert raised.value.code == "reason_required"
    certification.request_rectification(CERTIFIER, at(2026, 3, 3), ACC, ["no input records for 2025"])
    certification.submit_rectification(PRODUCER, at(2026, 3, 9))
    assert certification.state is S.ONSITE_AUDIT


@pytest.mark.parametrize(
    ("state", "call"),
    [
        (S.DECISION, lambda c: c.refuse(CERTIFIER, at(2027, 1, 15), ACC, "")),
        (S.ISSUED, lambda c: c.suspend(CERTIFIER, at(2027, 1, 15), " ", ACC)),
        (S.SUSPENDED, lambda c: c.reinstate(CERTIFIER, at(2027, 1, 15), ACC, "")),
        (S.ISSUED, lambda c: c.revoke(OPERATOR, at(2027, 1, 15), "")),
    ],
)
def test_reasons_are_required(state: CertificationState, call: object) -> None:
    certification = tea(state)
    with pytest.raises(RuleViolation, match="needs a reason"):
        call(certification)  # type: ignore[operator]
    assert certification.state is state


def test_only_the_shortened_path_may_be_granted_after_document_review() -> None:
    with pytest.raises(InvalidState, match="needs the on-site audit and lab results"):
        tea(S.DOC_REVIEW).grant(CERTIFIER, at(2026, 2, 1), ACC)
    shortened = tea(S.DOC_REVIEW, shortened_path=True)
    shortened.grant(CERTIFIER, at(2026, 2, 1), ACC)
    assert shortened.state is S.DECIDED
    outside = tea(S.DOC_REVIEW, shortened_path=True, district="chengdu")
    with pytest.raises(RuleViolation, match="district 'chengdu' is outside Bashan"):
        outside.grant(CERTIFIER, at(2026, 2, 1), ACC)


def test_an_unaccredited_or_expired_certifier_cannot_act() -> None:
    honey_only = [
        accredit(BASHAN_ECO_LABEL, CERTIFIER_ID, [ProductCategory.HONEY], date(2025, 1, 1), date(2030, 1, 1), 421)
    ]
    with pytest.raises(Forbidden, match="covers honey, not tea") as raised:
        tea().start_review(CERTIFIER, at(2026, 2, 1), honey_only)
    assert raised.value.code == "certifier_not_accredited"
    with pytest.raises(Forbidden, match="expired after 2030-12-31"):
        tea().start_review(CERTIFIER, at(2031, 1, 1), ACC)
    with pytest.raises(Forbidden, match="holds no accreditation"):
        tea().start_review(CERTIFIER, at(2026, 2, 1), [])


def test_date_guards() -> None:
    with pytest.raises(InvalidState, match="due on 2027-01-01, not overdue yet"):
        tea(S.ISSUED).mark_overdue(OPERATOR, at(2027, 1, 1))
    tea(S.ISSUED).mark_overdue(OPERATOR, at(2027, 1, 2))
    with pytest.raises(InvalidState, match="valid until 2028-12-31"):
        tea(S.ISSUED).expire(OPERATOR, at(2028, 12, 31))
    with pytest.raises(InvalidState, match="expired after 2028-12-31") as raised:
        tea(S.SUSPENDED).reinstate(CERTIFIER, at(2029, 1, 1), ACC, "fixed")
    assert raised.value.code == "certificate_expired"
    with pytest.raises(InvalidState, match="expired after"):
        tea(S.SURVEILLANCE_OVERDUE).record_surveillance(CERTIFIER, at(2029, 1, 1), ACC)
    with pytest.raises(InvalidState, match="renewal is possible from 2028-07-04 to 2028-12-31"):
        tea(S.ISSUED).renew(CERTIFIER, at(2028, 7, 3), ACC, successor_id=uuid4(), number="N-2")
    with pytest.raises(RuleViolation, match="needs a number"):
        tea(S.DECIDED).issue(CERTIFIER, at(2026, 3, 1), ACC, "  ")


def test_surveillance_keeps_its_yearly_schedule() -> None:
    certification = tea(S.ISSUED)
    certification.record_surveillance(CERTIFIER, at(2026, 12, 10), ACC, "all good")
    assert certification.surveillance_due_on == date(2028, 1, 1)
    late = tea(S.SURVEILLANCE_OVERDUE)
    late.record_surveillance(CERTIFIER, at(2027, 1, 20), ACC)
    assert late.state is S.ISSUED
    assert late.surveillance_due_on == date(2028, 1, 1)


def test_reinstatement_after_missed_surveillance_moves_the_due_date_past_today() -> None:
    suspended = tea(S.SUSPENDED)
    suspended.reinstate(CERTIFIER, at(2028, 2, 10), ACC, "surveillance audit done 2028-02-08, conforming")
    assert suspended.state is S.ISSUED
    assert suspended.surveillance_due_on == date(2029, 1, 1)
    assert suspended.history[-1].event is E.REINSTATE


def test_renewal_hands_over_to_a_successor_without_a_gap() -> None:
    old = tea(S.ISSUED)
    successor_id = uuid4()
    new = old.renew(CERTIFIER, at(2028, 11, 1), ACC, successor_id=successor_id, number="BSEL-0421-2028-000044")
    assert old.state is S.RENEWED
    assert not old.is_live
    assert new.id == successor_id
    assert new.state is S.ISSUED
    assert (new.valid_from, new.valid_until, new.surveillance_due_on) == (
        date(2029, 1, 1),
        date(2031, 12, 31),
        date(2030, 1, 1),
    )
    assert new.history[0].from_state is None
    assert new.history[0].reason == "renews BSEL-0421-2026-000001"
    assert new.lab_results == old.lab_results


def test_naive_times_and_bad_applications_are_refused() -> None:
    with pytest.raises(ValueError, match="time zone"):
        local_date(datetime(2026, 1, 1))
    with pytest.raises(RuleViolation, match="annual volume must be positive"):
        Certification(
            id=uuid4(),
            scheme=BASHAN_ECO_LABEL,
            producer_id=uuid4(),
            certifier_id=uuid4(),
            category=ProductCategory.TEA,
            product="tea",
            production_site="x",
            district="bazhou",
            annual_volume=0,
            volume_unit="kg",
        )
