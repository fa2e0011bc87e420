"""Shared builders for the certification tests: a tea certification in any state with evidence that passes."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from uuid import UUID, uuid4

from domain.labels.accreditation import Accreditation, accredit
from domain.labels.certification import Certification
from domain.labels.scheme import BASHAN_ECO_LABEL, ProductCategory
from domain.labels.states import Actor, ActorRole, CertificationState

S = CertificationState
PRODUCER_ID = UUID(int=1)
CERTIFIER_ID = UUID(int=2)
OPERATOR_ID = UUID(int=3)
PRODUCER = Actor(ActorRole.PRODUCER, PRODUCER_ID, uuid4())
CERTIFIER = Actor(ActorRole.CERTIFIER, CERTIFIER_ID, uuid4())
OPERATOR = Actor(ActorRole.OPERATOR, OPERATOR_ID, uuid4())
ACCREDITATIONS: list[Accreditation] = [
    accredit(BASHAN_ECO_LABEL, CERTIFIER_ID, [ProductCategory.TEA], date(2025, 1, 1), date(2030, 12, 31), 421)
]
# Issued certificates in these tests: valid 2026-01-01..2028-12-31, first surveillance due 2027-01-01.
ISSUED_ON = date(2026, 1, 1)
POST_ISSUE = {S.ISSUED, S.SURVEILLANCE_OVERDUE, S.SUSPENDED, S.REVOKED, S.EXPIRED, S.RENEWED}


def at(year: int, month: int, day: int, hour: int = 2) -> datetime:
    """A UTC instant; 02:00 UTC is 10:00 the same day in Asia/Shanghai."""
    return datetime(year, month, day, hour, tzinfo=UTC)


def tea(
    state: CertificationState = S.APPLIED, *, shortened_path: bool = False, district: str = "nanjiang"
) -> Certification:
    certification = Certification(
        id=uuid4(),
        scheme=BASHAN_ECO_LABEL,
        producer_id=PRODUCER_ID,
        certifier_id=CERTIFIER_ID,
        category=ProductCategory.TEA,
        product="Nanjiang Huangya green tea, 250 g tin",
        production_site="Guanwu village tea garden",
        district=district,
        annual_volume=20_000,
        volume_unit="tin",
        shortened_path=shortened_path,
        state=state,
    )
    if state in {S.DECISION, S.DECIDED} or state in POST_ISSUE:
        certification.findings = {"organic_inputs_only": True}
        certification.lab_results = {"selenium": Decimal("0.62"), "lead": Decimal("0.8")}
    if state is S.RECTIFICATION:
        certification.resume_at = S.DOC_REVIEW
    if state in POST_ISSUE:
        certification.number = "BSEL-0421-2026-000001"
        certification.valid_from = ISSUED_ON
        certification.valid_until = date(2028, 12, 31)
        certification.surveillance_due_on = date(2027, 1, 1)
    return certification
