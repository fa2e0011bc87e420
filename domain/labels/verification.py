"""What public verification of a label code answers, decided from facts the service has looked up.

The answer is one of: malformed (not a code at all), typo (check digit fails, so no lookup was needed), unknown
(well formed but never issued: possibly invented), valid (issued, certificate live and within validity), or
not valid (issued, but the certificate is suspended, revoked, expired, withdrawn or superseded). Independently of the
verdict, a counterfeit suspicion is reported so that the certifier sees it and the public sees a warning.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from domain.labels.certification import Certification
from domain.labels.codes import CodeCheck, CodeVerdict
from domain.labels.counterfeit import Suspicion
from domain.labels.states import CertificationState, local_date


class VerificationVerdict(StrEnum):
    MALFORMED = "malformed"
    TYPO = "typo"
    UNKNOWN = "unknown"
    VALID = "valid"
    NOT_VALID = "not_valid"


@dataclass(frozen=True, slots=True)
class VerificationResult:
    verdict: VerificationVerdict
    message: str
    suspected_counterfeit: bool = False
    suspicion_reasons: tuple[str, ...] = ()

    @property
    def genuine(self) -> bool:
        """The code was issued by a certifier (whatever its certificate's state now)."""
        return self.verdict in {VerificationVerdict.VALID, VerificationVerdict.NOT_VALID}


_NOT_VALID_WORDS = {
    CertificationState.SUSPENDED: "is suspended",
    CertificationState.REVOKED: "was revoked",
    CertificationState.EXPIRED: "has expired",
    CertificationState.WITHDRAWN: "was withdrawn by the producer",
    CertificationState.RENEWED: "was replaced by a renewed certificate; codes issued under it are no longer valid",
}


def verify(
    check: CodeCheck, certification: Certification | None, now: datetime, suspicion: Suspicion | None = None
) -> VerificationResult:
    """``certification``: the certificate the code was issued under, None when no such code was issued."""
    if check.verdict is CodeVerdict.MALFORMED:
        return VerificationResult(VerificationVerdict.MALFORMED, check.reason)
    if check.verdict is CodeVerdict.TYPO:
        return VerificationResult(VerificationVerdict.TYPO, f"{check.reason}; please check the code and try again")
    suspected = suspicion is not None and suspicion.suspected
    reasons = suspicion.reasons if suspicion is not None else ()
    if certification is None:
        return VerificationResult(
            VerificationVerdict.UNKNOWN, "no label was issued with this code: it may be counterfeit", suspected, reasons
        )
    number = certification.number or "(not issued)"
    if certification.valid_on(local_date(now)):
        message = f"genuine label; certificate {number} is valid until {certification.valid_until}"
        return VerificationResult(VerificationVerdict.VALID, message, suspected, reasons)
    if certification.is_live:  # the sweep has not yet caught up with the expiry date
        words = "has expired"
    else:
        words = _NOT_VALID_WORDS.get(certification.state, f"is {certification.state}")
    return VerificationResult(
        VerificationVerdict.NOT_VALID, f"genuine label, but certificate {number} {words}", suspected, reasons
    )
