"""Label schemes as data: the scheme's periods and its criteria versions in JSON, loaded back into domain values.

The Bashan eco-label's defaults (domain/labels/scheme.py) are written on first use, so a fresh database works
without a seeding step; later versions are added as data (``add_criteria_version``), never by a code change.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from domain.errors import Conflict, NotFound, RuleViolation
from domain.labels.scheme import (
    BASHAN_ECO_LABEL,
    CriteriaVersion,
    Criterion,
    LabelScheme,
    MeasuredRange,
    OriginWithin,
    ProductCategory,
    RequiredFinding,
)
from services.labels.tables import CriteriaVersionRow, LabelSchemeRow

DEFAULT_SCHEMES = (BASHAN_ECO_LABEL,)


def criterion_to_json(criterion: Criterion) -> dict[str, Any]:
    if isinstance(criterion, MeasuredRange):
        return {
            "kind": "range",
            "measure": criterion.measure,
            "unit": criterion.unit,
            "minimum": None if criterion.minimum is None else str(criterion.minimum),
            "maximum": None if criterion.maximum is None else str(criterion.maximum),
            "basis": criterion.basis,
        }
    if isinstance(criterion, OriginWithin):
        return {"kind": "origin", "districts": sorted(criterion.districts), "region": criterion.region}
    return {"kind": "finding", "finding": criterion.finding, "description": criterion.description}


def criterion_from_json(data: dict[str, Any]) -> Criterion:
    kind = data.get("kind")
    if kind == "range":
        low, high = data.get("minimum"), data.get("maximum")
        return MeasuredRange(
            data["measure"],
            data["unit"],
            None if low is None else Decimal(str(low)),
            None if high is None else Decimal(str(high)),
            data.get("basis", ""),
        )
    if kind == "origin":
        return OriginWithin(frozenset(data["districts"]), data.get("region", "Bashan (Bazhong)"))
    if kind == "finding":
        return RequiredFinding(data["finding"], data.get("description", ""))
    raise RuleViolation(f"unknown criterion kind {kind!r}", code="invalid_criterion")


async def ensure_default_schemes(session: AsyncSession) -> None:
    """Write the built-in schemes if absent; concurrent first uses insert once (ON CONFLICT DO NOTHING)."""
    for scheme in DEFAULT_SCHEMES:
        exists = await session.scalar(select(LabelSchemeRow.code).where(LabelSchemeRow.code == scheme.code))
        if exists:
            continue
        await session.execute(
            insert(LabelSchemeRow)
            .values(
                code=scheme.code,
                name=scheme.name,
                certificate_validity_months=scheme.certificate_validity_months,
                surveillance_interval_months=scheme.surveillance_interval_months,
                surveillance_grace_days=scheme.surveillance_grace_days,
                surveillance_notice_days=scheme.surveillance_notice_days,
                renewal_window_days=scheme.renewal_window_days,
            )
            .on_conflict_do_nothing()
        )
        for version in scheme.criteria:
            await session.execute(
                insert(CriteriaVersionRow)
                .values(
                    scheme_code=scheme.code,
                    category=version.category.value,
                    version=version.version,
                    effective_from=version.effective_from,
                    criteria=[criterion_to_json(c) for c in version.criteria],
                )
                .on_conflict_do_nothing()
            )


async def load_scheme(session: AsyncSession, code: str, *, lock: bool = False) -> LabelScheme:
    """The scheme with its criteria versions. ``lock`` takes its row FOR NO KEY UPDATE first: writers of new versions
    then number them one after another, while certifications and accreditations referring to it are not held up."""
    await ensure_default_schemes(session)
    row = await session.get(LabelSchemeRow, code, with_for_update={"key_share": True} if lock else None)
    if row is None:
        raise NotFound(f"no label scheme {code}", code="scheme_not_found")
    versions = (await session.scalars(select(CriteriaVersionRow).where(CriteriaVersionRow.scheme_code == code))).all()
    return LabelScheme(
        code=row.code,
        name=row.name,
        criteria=tuple(
            CriteriaVersion(
                ProductCategory(v.category),
                v.version,
                v.effective_from,
                tuple(criterion_from_json(item) for item in v.criteria),
            )
            for v in versions
        ),
        certificate_validity_months=row.certificate_validity_months,
        surveillance_interval_months=row.surveillance_interval_months,
        surveillance_grace_days=row.surveillance_grace_days,
        surveillance_notice_days=row.surveillance_notice_days,
        renewal_window_days=row.renewal_window_days,
    )


async def list_schemes(session: AsyncSession) -> list[LabelScheme]:
    await ensure_default_schemes(session)
    codes = (await session.scalars(select(LabelSchemeRow.code).order_by(LabelSchemeRow.code))).all()
    return [await load_scheme(session, code) for code in codes]


async def add_criteria_version(
    session: AsyncSession,
    scheme_code: str,
    category: ProductCategory,
    effective_from: date,
    criteria: Sequence[Criterion],
) -> CriteriaVersion:
    """A new version for ``category``, numbered after the newest: the scheme is loaded locked, so concurrent
    additions number their versions one after another instead of racing for one."""
    if not criteria:
        raise RuleViolation("a criteria version needs at least one criterion", code="invalid_criterion")
    scheme = await load_scheme(session, scheme_code, lock=True)
    newest = max((v.version for v in scheme.criteria if v.category is category), default=0)
    if any(v.category is category and v.effective_from > effective_from for v in scheme.criteria):
        raise Conflict("a newer version already takes effect later; versions follow each other", code="criteria_order")
    version = CriteriaVersion(category, newest + 1, effective_from, tuple(criteria))
    session.add(
        CriteriaVersionRow(
            scheme_code=scheme_code,
            category=category.value,
            version=version.version,
            effective_from=effective_from,
            criteria=[criterion_to_json(c) for c in version.criteria],
        )
    )
    await session.flush()
    return version
