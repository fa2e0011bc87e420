from __future__ import annotations

from datetime import date
from uuid import uuid4

import pytest

from domain.errors import Forbidden, InvalidState, RuleViolation
from domain.labels.accreditation import accredit
from domain.labels.batches import authorise_code_batch
from domain.labels.codes import check_code, generate_batch
from domain.labels.counterfeit import Scan, assess
from domain.labels.scheme import BASHAN_ECO_LABEL, ProductCategory
from domain.labels.states import Actor, ActorRole, CertificationState
from domain.labels.verification import VerificationVerdict, verify

from .builders import ACCREDITATIONS, CERTIFIER, CERTIFIER_ID, OPERATOR, PRODUCER, at, tea

S = CertificationState


def test_certificate_years_run_from_the_issue_date() -> None:
    certification = tea(S.ISSUED)  # valid from 2026-01-01
    assert certification.certificate_year(date(2026, 1, 1)) == (date(2026, 1, 1), date(2026, 12, 31))
    assert certification.certificate_year(date(2027, 12, 31)) == (date(2027, 1, 1), date(2027, 12, 31))
    certification.valid_from = date(2026, 2, 28)
    assert certification.certificate_year(date(2028, 2, 27)) == (date(2027, 2, 28), date(2028, 2, 27))
    assert certification.certificate_year(date(2028, 2, 28)) == (date(2028, 2, 28), date(2029, 2, 27))


def test_the_certifier_gets_a_plan_under_its_label_number_within_the_volume() -> None:
    certification = tea(S.ISSUED)  # annual volume 20,000 tins
    plan = authorise_code_batch(
        certification, CERTIFIER, ACCREDITATIONS, count=5_000, issued_this_year=15_000, at=at(2026, 6, 1)
    )
    assert (plan.certifier_label_number, plan.year, plan.count) == (421, 2026, 5_000)
    codes = generate_batch(plan.certifier_label_number, plan.year, plan.count)
    assert all(code.startswith("042126") for code in codes)
    with pytest.raises(RuleViolation, match="only 5000 remain"):
        authorise_code_batch(
            certification, CERTIFIER, ACCREDITATIONS, count=5_001, issued_this_year=15_000, at=at(2026, 6, 1)
        )


def test_batches_need_the_right_certifier_accreditation_and_a_live_certificate() -> None:
    certification = tea(S.ISSUED)
    for intruder in (PRODUCER, OPERATOR, Actor(ActorRole.CERTIFIER, uuid4())):
        with pytest.raises(Forbidden, match="only the certificate's certifier"):
            authorise_code_batch(
                certification, intruder, ACCREDITATIONS, count=1, issued_this_year=0, at=at(2026, 6, 1)
            )
    honey_only = [
        accredit(BASHAN_ECO_LABEL, CERTIFIER_ID, [ProductCategory.HONEY], date(2025, 1, 1), date(2030, 1, 1), 421)
    ]
    with pytest.raises(Forbidden, match="not tea"):
        authorise_code_batch(certification, CERTIFIER, honey_only, count=1, issued_this_year=0, at=at(2026, 6, 1))
    with pytest.raises(InvalidState, match="is suspended: codes are issued only under a live certificate"):
        authorise_code_batch(
            tea(S.SUSPENDED), CERTIFIER, ACCREDITATIONS, count=1, issued_this_year=0, at=at(2026, 6, 1)
        )
    with pytest.raises(InvalidState, match="expired after 2028-12-31"):
        authorise_code_batch(certification, CERTIFIER, ACCREDITATIONS, count=1, issued_this_year=0, at=at(2029, 1, 1))


def test_verification_verdicts() -> None:
    code = generate_batch(421, 2026, 1)[0]
    typo = code[:-1] + str((int(code[-1]) + 1) % 10)
    now = at(2026, 6, 1)
    assert verify(check_code("hello"), None, now).verdict is VerificationVerdict.MALFORMED
    assert verify(check_code(typo), None, now).verdict is VerificationVerdict.TYPO
    unknown = verify(check_code(code), None, now)
    assert unknown.verdict is VerificationVerdict.UNKNOWN
    assert not unknown.genuine
    valid = verify(check_code(code), tea(S.ISSUED), now)
    assert valid.verdict is VerificationVerdict.VALID
    assert valid.genuine
    assert valid.message == "genuine label; certificate BSEL-0421-2026-000001 is valid until 2028-12-31"
    suspended = verify(check_code(code), tea(S.SUSPENDED), now)
    assert suspended.verdict is VerificationVerdict.NOT_VALID
    assert suspended.message == "genuine label, but certificate BSEL-0421-2026-000001 is suspended"
    # The sweep has not run yet, but the date alone already makes the certificate invalid.
    late = verify(check_code(code), tea(S.ISSUED), at(2029, 1, 1))
    assert late.verdict is VerificationVerdict.NOT_VALID
    assert late.message.endswith("has expired")


def test_verification_carries_the_counterfeit_flag() -> None:
    code = generate_batch(421, 2026, 1)[0]
    scans = [Scan(at(2026, 6, 1, hour)) for hour in range(21)]
    result = verify(check_code(code), tea(S.ISSUED), at(2026, 6, 1), assess(scans))
    assert result.verdict is VerificationVerdict.VALID
    assert result.suspected_counterfeit
    assert result.suspicion_reasons[0].startswith("21 scans within 30 days")
    calm = verify(check_code(code), tea(S.ISSUED), at(2026, 6, 1), assess(scans[:3]))
    assert not calm.suspected_counterfeit
