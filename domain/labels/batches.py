"""Authorising a batch of label codes for a certificate: who may ask, under which certifier number, how many.

The codes themselves come from ``domain.labels.codes.generate_batch``; this module decides whether the batch may
exist. One code labels one unit of the certified annual volume, counted per certificate year.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from domain.errors import Forbidden, InvalidState
from domain.labels.accreditation import Accreditation, require_accreditation
from domain.labels.certification import Certification
from domain.labels.codes import check_batch_size
from domain.labels.states import Actor, ActorRole, local_date


@dataclass(frozen=True, slots=True)
class CodeBatchPlan:
    certification_id: UUID
    certifier_label_number: int
    year: int
    count: int


def authorise_code_batch(
    certification: Certification,
    actor: Actor,
    accreditations: Iterable[Accreditation],
    *,
    count: int,
    issued_this_year: int,
    at: datetime,
) -> CodeBatchPlan:
    """The plan for ``count`` codes, or the reason none may be issued.

    ``issued_this_year``: codes already issued for this certification in its certificate year containing ``at``
    (see ``Certification.certificate_year``).
    """
    if actor.role is not ActorRole.CERTIFIER or actor.organisation_id != certification.certifier_id:
        raise Forbidden("only the certificate's certifier issues its label codes", code="actor_not_allowed")
    today = local_date(at)
    name = certification.number or str(certification.id)
    if not certification.is_live:
        raise InvalidState(
            f"certificate {name} is {certification.state}: codes are issued only under a live certificate",
            code="certificate_not_live",
        )
    if not certification.valid_on(today):
        raise InvalidState(f"certificate {name} expired after {certification.valid_until}", code="certificate_expired")
    pool = list(accreditations)
    require_accreditation(pool, actor.organisation_id, certification.scheme.code, certification.category, today)
    check_batch_size(count, annual_volume=certification.annual_volume, issued_this_year=issued_this_year)
    label_number = next(
        a.label_number
        for a in pool
        if a.certifier_id == actor.organisation_id and a.refusal(certification.category, today) is None
    )
    return CodeBatchPlan(certification.id, label_number, today.year, count)
