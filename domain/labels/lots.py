"""Product lots: a certified producer's harvest registered under a live certificate, so that a market can later
trade it as a ledger asset (quantity in the certificate's unit, integers only, as every ledger amount).

A lot follows its certificate: while the certificate is suspended or revoked the lot is frozen (no trade, no
transfer); reinstatement thaws it, because frozen is derived from the certificate's state, never stored. A lot
harvested while its certificate was valid stays tradable after the certificate expires or is renewed: the label
vouched for that harvest.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from uuid import UUID

from domain.errors import Forbidden, InvalidState, RuleViolation
from domain.labels.certification import Certification
from domain.labels.scheme import ProductCategory
from domain.labels.states import CertificationState, local_date

FREEZING_STATES = frozenset({CertificationState.SUSPENDED, CertificationState.REVOKED})


@dataclass(frozen=True, slots=True)
class Lot:
    id: UUID
    certification_id: UUID
    certificate_number: str
    producer_id: UUID
    category: ProductCategory
    product: str
    quantity: int
    unit: str
    harvest_date: date
    registered_at: datetime


@dataclass(frozen=True, slots=True)
class LotStatus:
    tradable: bool
    reason: str


def register_lot(
    certification: Certification,
    producer_id: UUID,
    *,
    lot_id: UUID,
    quantity: int,
    unit: str,
    harvest_date: date,
    at: datetime,
    registered_this_year: int = 0,
) -> Lot:
    """A new lot, refused unless the certificate is live, the producer holds it, and the certified volume allows it.

    ``registered_this_year``: the quantity of the certificate's lots already registered this certificate year.
    """
    if producer_id != certification.producer_id:
        raise Forbidden("only the certificate's producer may register lots under it", code="not_certificate_holder")
    if not certification.is_live:
        raise InvalidState(
            f"the certificate is {certification.state}: lots can be registered only under an issued certificate",
            code="certificate_not_live",
        )
    if quantity <= 0:
        raise RuleViolation(f"a lot needs a positive quantity, got {quantity}", code="invalid_quantity")
    if unit != certification.volume_unit:
        raise RuleViolation(f"the certificate counts in {certification.volume_unit}, not {unit}", code="unit_mismatch")
    today = local_date(at)
    assert certification.valid_from is not None, "live certifications have dates"
    assert certification.number is not None, "live certifications have a number"
    if harvest_date > today:
        raise RuleViolation(f"harvest date {harvest_date.isoformat()} is in the future", code="invalid_harvest_date")
    if harvest_date < certification.valid_from:
        raise RuleViolation(
            f"harvest date {harvest_date.isoformat()} precedes the certificate "
            f"(valid from {certification.valid_from.isoformat()})",
            code="invalid_harvest_date",
        )
    remaining = certification.annual_volume - registered_this_year
    if quantity > remaining:
        raise RuleViolation(
            f"a lot of {quantity} {unit} exceeds the {max(remaining, 0)} {unit} left of the certified annual "
            f"volume of {certification.annual_volume} {unit}",
            code="lot_exceeds_volume",
        )
    return Lot(
        lot_id,
        certification.id,
        certification.number,
        producer_id,
        certification.category,
        certification.product,
        quantity,
        unit,
        harvest_date,
        at,
    )


def lot_status(lot: Lot, certification: Certification) -> LotStatus:
    if lot.certification_id != certification.id:
        raise RuleViolation("the lot belongs to another certificate", code="lot_certificate_mismatch")
    if certification.state in FREEZING_STATES:
        return LotStatus(False, f"frozen: certificate {certification.number} is {certification.state}")
    return LotStatus(True, f"certificate {certification.number} is {certification.state}")


def require_tradable(lot: Lot, certification: Certification) -> None:
    """Guard for any movement of a lot (listing, trade, transfer)."""
    status = lot_status(lot, certification)
    if not status.tradable:
        raise InvalidState(f"lot {lot.id} is {status.reason}", code="lot_frozen")
