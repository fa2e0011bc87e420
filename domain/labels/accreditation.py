"""Accreditation: the registry operator accredits a certifier organisation for a scheme's product categories for a
period. A certifier may act on a certification only while an accreditation covers the category on that day.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date
from enum import StrEnum
from uuid import UUID

from domain.errors import Conflict, Forbidden, InvalidState, RuleViolation
from domain.labels.scheme import LabelScheme, ProductCategory


class AccreditationStatus(StrEnum):
    NOT_YET_VALID = "not_yet_valid"
    ACTIVE = "active"
    EXPIRED = "expired"
    WITHDRAWN = "withdrawn"


@dataclass(frozen=True, slots=True)
class Accreditation:
    certifier_id: UUID
    scheme: str
    categories: frozenset[ProductCategory]
    valid_from: date
    valid_until: date  # inclusive
    label_number: int  # the certifier's CCCC in label codes, see domain.labels.codes
    withdrawn_on: date | None = None
    withdrawal_reason: str | None = None

    def status(self, on: date) -> AccreditationStatus:
        if self.withdrawn_on is not None and on >= self.withdrawn_on:
            return AccreditationStatus.WITHDRAWN
        if on < self.valid_from:
            return AccreditationStatus.NOT_YET_VALID
        if on > self.valid_until:
            return AccreditationStatus.EXPIRED
        return AccreditationStatus.ACTIVE

    def refusal(self, category: ProductCategory, on: date) -> str | None:
        """Why this accreditation does not let its certifier act on ``category`` on ``on``; None when it does."""
        status = self.status(on)
        if status is AccreditationStatus.WITHDRAWN:
            return f"accreditation for {self.scheme} was withdrawn on {self.withdrawn_on}: {self.withdrawal_reason}"
        if status is AccreditationStatus.NOT_YET_VALID:
            return f"accreditation for {self.scheme} is valid only from {self.valid_from.isoformat()}"
        if status is AccreditationStatus.EXPIRED:
            return f"accreditation for {self.scheme} expired after {self.valid_until.isoformat()}"
        if category not in self.categories:
            covered = ", ".join(sorted(self.categories))
            return f"accreditation for {self.scheme} covers {covered}, not {category}"
        return None


def accreditation_refusal(
    accreditations: Iterable[Accreditation], certifier_id: UUID, scheme: str, category: ProductCategory, on: date
) -> str | None:
    """None when some accreditation lets the certifier act, else the reason of the closest miss."""
    own = [a for a in accreditations if a.certifier_id == certifier_id and a.scheme == scheme]
    if not own:
        return f"certifier {certifier_id} holds no accreditation for {scheme}"
    reasons = [a.refusal(category, on) for a in own]
    if None in reasons:
        return None
    # An active accreditation for other categories explains the refusal better than an old expired one.
    active = [r for a, r in zip(own, reasons, strict=True) if a.status(on) is AccreditationStatus.ACTIVE]
    return (active or reasons)[0]


def can_act(
    accreditations: Iterable[Accreditation], certifier_id: UUID, scheme: str, category: ProductCategory, on: date
) -> bool:
    return accreditation_refusal(accreditations, certifier_id, scheme, category, on) is None


def require_accreditation(
    accreditations: Iterable[Accreditation], certifier_id: UUID, scheme: str, category: ProductCategory, on: date
) -> None:
    reason = accreditation_refusal(accreditations, certifier_id, scheme, category, on)
    if reason is not None:
        raise Forbidden(reason, code="certifier_not_accredited", certifier_id=str(certifier_id))


def accredit(
    scheme: LabelScheme,
    certifier_id: UUID,
    categories: Iterable[ProductCategory],
    valid_from: date,
    valid_until: date,
    label_number: int,
    existing: Iterable[Accreditation] = (),
) -> Accreditation:
    """A new accreditation, checked against the scheme and against the numbers other certifiers already hold."""
    wanted = frozenset(categories)
    if not wanted:
        raise RuleViolation("an accreditation needs at least one product category", code="invalid_accreditation")
    unknown = wanted - scheme.categories
    if unknown:
        raise RuleViolation(
            f"scheme {scheme.code} has no criteria for {', '.join(sorted(unknown))}", code="invalid_accreditation"
        )
    if valid_until < valid_from:
        raise RuleViolation("an accreditation cannot end before it starts", code="invalid_accreditation")
    if not 1 <= label_number <= 9999:
        raise RuleViolation(f"label number must be 1-9999, got {label_number}", code="invalid_accreditation")
    for other in existing:
        if other.label_number == label_number and other.certifier_id != certifier_id:
            raise Conflict(
                f"label number {label_number:04d} belongs to certifier {other.certifier_id}",
                code="label_number_taken",
            )
    return Accreditation(certifier_id, scheme.code, wanted, valid_from, valid_until, label_number)


def withdraw(accreditation: Accreditation, on: date, reason: str) -> Accreditation:
    if not reason.strip():
        raise RuleViolation("withdrawing an accreditation needs a reason", code="reason_required")
    if accreditation.withdrawn_on is not None:
        raise InvalidState(
            f"accreditation was already withdrawn on {accreditation.withdrawn_on}", code="already_withdrawn"
        )
    return replace(accreditation, withdrawn_on=on, withdrawal_reason=reason.strip())
