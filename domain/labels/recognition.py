"""Mutual recognition: the operator records schemes judged equivalent to ours for some product categories until a
date (national organic or green-food certification, another city's regional brand such as 丽水山耕). A producer who
holds a valid certificate of a recognised scheme may apply through the shortened path: document review only.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from uuid import UUID

from domain.errors import RuleViolation
from domain.labels.scheme import LabelScheme, ProductCategory


@dataclass(frozen=True, slots=True)
class Recognition:
    scheme: str  # ours, e.g. BASHAN
    recognised_scheme: str  # theirs, e.g. CN-ORGANIC
    name: str
    categories: frozenset[ProductCategory]
    valid_from: date
    valid_until: date  # inclusive

    def in_force(self, on: date) -> bool:
        return self.valid_from <= on <= self.valid_until


@dataclass(frozen=True, slots=True)
class ForeignCertificate:
    """A certificate the producer holds under another scheme, as presented with a shortened-path application."""

    scheme: str
    number: str
    holder_id: UUID
    category: ProductCategory
    valid_until: date


def recognise(
    scheme: LabelScheme,
    recognised_scheme: str,
    name: str,
    categories: Iterable[ProductCategory],
    valid_from: date,
    valid_until: date,
) -> Recognition:
    scope = frozenset(categories)
    if not scope:
        raise RuleViolation("a recognition needs at least one product category", code="invalid_recognition")
    unknown = scope - scheme.categories
    if unknown:
        raise RuleViolation(
            f"scheme {scheme.code} has no criteria for {', '.join(sorted(unknown))}", code="invalid_recognition"
        )
    if recognised_scheme == scheme.code:
        raise RuleViolation("a scheme cannot recognise itself", code="invalid_recognition")
    if valid_until < valid_from:
        raise RuleViolation("a recognition cannot end before it starts", code="invalid_recognition")
    return Recognition(scheme.code, recognised_scheme, name, scope, valid_from, valid_until)


def shortened_path_refusal(
    recognitions: Iterable[Recognition],
    certificate: ForeignCertificate,
    scheme: str,
    category: ProductCategory,
    producer_id: UUID,
    on: date,
) -> str | None:
    """None when the shortened path is open, else why not."""
    if certificate.holder_id != producer_id:
        return f"certificate {certificate.number} is held by another organisation"
    if certificate.category is not category:
        return f"certificate {certificate.number} covers {certificate.category}, the application is for {category}"
    if certificate.valid_until < on:
        return f"certificate {certificate.number} expired on {certificate.valid_until.isoformat()}"
    candidates = [r for r in recognitions if r.scheme == scheme and r.recognised_scheme == certificate.scheme]
    if not candidates:
        return f"{certificate.scheme} is not recognised as equivalent to {scheme}"
    in_scope = [r for r in candidates if category in r.categories]
    if not in_scope:
        return f"the recognition of {certificate.scheme} does not cover {category}"
    if not any(r.in_force(on) for r in in_scope):
        periods = ", ".join(f"{r.valid_from.isoformat()}..{r.valid_until.isoformat()}" for r in in_scope)
        return f"the recognition of {certificate.scheme} for {category} is not in force on {on.isoformat()} ({periods})"
    return None


def check_shortened_path(
    recognitions: Iterable[Recognition],
    certificate: ForeignCertificate,
    scheme: str,
    category: ProductCategory,
    producer_id: UUID,
    on: date,
) -> Recognition:
    """The recognition that opens the shortened path, or RuleViolation with the reason it is closed."""
    pool = list(recognitions)
    reason = shortened_path_refusal(pool, certificate, scheme, category, producer_id, on)
    if reason is not None:
        raise RuleViolation(reason, code="not_recognised")
    return next(
        r
        for r in pool
        if r.scheme == scheme
        and r.recognised_scheme == certificate.scheme
        and category in r.categories
        and r.in_force(on)
    )


def recognitions_in_force(recognitions: Iterable[Recognition], scheme: str, on: date) -> list[Recognition]:
    """What public verification shows beside a label: the schemes ours is equivalent to today."""
    return sorted((r for r in recognitions if r.scheme == scheme and r.in_force(on)), key=lambda r: r.recognised_scheme)
