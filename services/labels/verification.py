"""Public verification of a label code: the hot path.

The text alone tells a malformed code and a mistyped one (check digit) apart, with no database work. A well-formed
code costs one statement on a raw asyncpg connection (services/labels/scan_pool.py): it finds the code with its
certificate, producer and certifier, records the scan (only for issued codes, so invented codes cannot fill the
table) and returns the code's recent scans for the counterfeit rule. Only a suspected code costs a second statement
(the flag upsert). Schemes and their recognitions change rarely and are cached for a minute (``SCHEME_CACHE_SECONDS``).

Counterfeit rule: ``domain/labels/counterfeit.py``, with the numbers per scheme in ``label_scheme.counterfeit_*``.
The rule is judged on at most the ``SCAN_HISTORY`` most recent scans within the longer of its two windows; that is
far more than either limit, so a copied code is flagged all the same.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from domain.labels.certification import Certification
from domain.labels.codes import CodeVerdict, check_code
from domain.labels.counterfeit import CounterfeitRule, GeoPoint, Scan, assess, coarsen
from domain.labels.recognition import Recognition, recognitions_in_force
from domain.labels.scheme import LabelScheme, ProductCategory
from domain.labels.states import CertificationState, local_date
from domain.labels.verification import VerificationResult, VerificationVerdict, verify
from services.labels.accreditations import recognition_to_domain, recognitions
from services.labels.scan_pool import pool_for
from services.labels.schemes import load_scheme
from services.labels.tables import LabelSchemeRow

SCAN_HISTORY = 500
SCHEME_CACHE_SECONDS = 60.0

LOOKUP = """
WITH found AS (
    SELECT c.code, b.certification_id, cert.scheme_code, cert.state, cert.number, cert.product, cert.category,
           cert.production_site, cert.district, cert.annual_volume, cert.volume_unit, cert.valid_from,
           cert.valid_until, cert.producer_id, cert.certifier_id, producer.name AS producer, certifier.name AS certifier
    FROM label_code AS c
    JOIN label_code_batch AS b ON b.id = c.batch_id
    JOIN certification AS cert ON cert.id = b.certification_id
    JOIN organisation AS producer ON producer.id = cert.producer_id
    JOIN organisation AS certifier ON certifier.id = cert.certifier_id
    WHERE c.code = $1
), scan AS (
    INSERT INTO label_scan (code, latitude, longitude) SELECT code, $2, $3 FROM found RETURNING scanned_at
)
SELECT found.*, (SELECT scanned_at FROM scan) AS scanned_at,
       history.times, history.latitudes, history.longitudes,
       CASE WHEN flag.cleared_at IS NULL THEN flag.reasons END AS flag_reasons
FROM found
LEFT JOIN counterfeit_flag AS flag ON flag.code = found.code
LEFT JOIN LATERAL (
    SELECT array_agg(s.scanned_at) AS times, array_agg(s.latitude) AS latitudes, array_agg(s.longitude) AS longitudes
    FROM (SELECT scanned_at, latitude, longitude FROM label_scan
          WHERE code = $1 AND scanned_at > now() - make_interval(hours => $4)
            -- a cleared flag: the rule starts again from the clearance
            AND scanned_at > coalesce(flag.cleared_at, '-infinity')
          ORDER BY scanned_at DESC LIMIT $5) AS s
) AS history ON true
"""

FLAG = """
INSERT INTO counterfeit_flag AS f (code, certification_id, certifier_id, flagged_at, updated_at, reasons, scans,
                                   most_scans_in_window, most_places_in_window)
VALUES ($1, $2, $3, $4, $4, $5, $6, $7, $8)
ON CONFLICT (code) DO UPDATE SET updated_at = EXCLUDED.updated_at, reasons = EXCLUDED.reasons,
    scans = EXCLUDED.scans, most_scans_in_window = EXCLUDED.most_scans_in_window,
    most_places_in_window = EXCLUDED.most_places_in_window,
    -- flagged again after a clearance: a new flag (the clearance stays in the audit events)
    flagged_at = CASE WHEN f.cleared_at IS NULL THEN f.flagged_at ELSE EXCLUDED.flagged_at END,
    cleared_at = NULL, cleared_by = NULL, clearance_note = NULL
"""


@dataclass(frozen=True)
class Verification:
    code: str
    printed: str | None
    result: VerificationResult
    facts: dict[str, Any] | None  # product, producer, certifier, certificate, recognitions (issued codes only)
    scanned_at: datetime | None


@dataclass(frozen=True)
class _CachedScheme:
    scheme: LabelScheme
    rule: CounterfeitRule
    recognitions: tuple[Recognition, ...]
    loaded: float

    @property
    def window_hours(self) -> int:
        return int(max(self.rule.scan_window, self.rule.place_window).total_seconds() // 3600) + 1


_schemes: dict[str, _CachedScheme] = {}


async def _scheme(sessions: async_sessionmaker[AsyncSession], code: str) -> _CachedScheme:
    cached = _schemes.get(code)
    if cached is not None and time.monotonic() - cached.loaded < SCHEME_CACHE_SECONDS:
        return cached
    async with sessions() as session:
        scheme = await load_scheme(session, code)
        row = await session.get(LabelSchemeRow, code)
        assert row is not None
        rule = CounterfeitRule(
            max_scans=row.counterfeit_max_scans,
            scan_window=timedelta(hours=row.counterfeit_scan_window_hours),
            max_places=row.counterfeit_max_places,
            place_window=timedelta(hours=row.counterfeit_place_window_hours),
            same_place_km=float(row.counterfeit_same_place_km),
        )
        recognised = tuple(recognition_to_domain(row) for row in await recognitions(session, code))
    cached = _CachedScheme(scheme, rule, recognised, time.monotonic())
    _schemes[code] = cached
    return cached


def forget_cached_schemes() -> None:
    _schemes.clear()


async def verify_code(
    engine: AsyncEngine,
    sessions: async_sessionmaker[AsyncSession],
    text: str,
    *,
    latitude: float | None = None,
    longitude: float | None = None,
    now: datetime,
) -> Verification:
    check = check_code(text)
    if check.verdict is not CodeVerdict.WELL_FORMED or check.code is None:
        return Verification(text[:64], None, verify(check, None, now), None, None)
    digits = check.code.digits
    place = coarsen(latitude, longitude) if latitude is not None and longitude is not None else None
    # The scheme is known only after the lookup: read back as far as the widest window of any scheme seen so far.
    window_hours = max([24 * 30] + [c.window_hours for c in _schemes.values()])
    pool = await pool_for(engine)
    async with pool.acquire() as driver:
        record = await driver.fetchrow(
            LOOKUP,
            digits,
            place.latitude if place else None,
            place.longitude if place else None,
            window_hours,
            SCAN_HISTORY,
        )
        if record is None:
            return Verification(digits, check.code.printed, verify(check, None, now), None, None)
        cached = await _scheme(sessions, record["scheme_code"])
        scanned_at: datetime = record["scanned_at"]
        scans = [Scan(scanned_at, place)]
        for at, lat, lon in zip(
            record["times"] or (), record["latitudes"] or (), record["longitudes"] or (), strict=True
        ):
            scans.append(Scan(at, GeoPoint(round(lat, 1), round(lon, 1)) if lat is not None else None))
        suspicion = assess(scans, cached.rule)
        if suspicion.suspected:
            await driver.execute(
                FLAG,
                digits,
                record["certification_id"],
                record["certifier_id"],
                now,
                list(suspicion.reasons),
                suspicion.scans,
                suspicion.most_scans_in_window,
                suspicion.most_places_in_window,
            )
    certification = _certification(record, cached.scheme)
    result = verify(check, certification, now, suspicion)
    if not suspicion.suspected and record["flag_reasons"]:
        # Flagged earlier: keep warning the public even when the recent window looks quiet.
        result = VerificationResult(result.verdict, result.message, True, tuple(record["flag_reasons"]))
    facts = {
        "product": record["product"],
        "category": record["category"],
        "production_site": record["production_site"],
        "district": record["district"],
        "producer": record["producer"],
        "certifier": record["certifier"],
        "certificate": {
            "number": record["number"],
            "status": record["state"],
            "valid_from": _iso(record["valid_from"]),
            "valid_until": _iso(record["valid_until"]),
            "scheme": record["scheme_code"],
        },
        "recognitions": [
            {"scheme": r.recognised_scheme, "name": r.name, "valid_until": r.valid_until.isoformat()}
            for r in recognitions_in_force(cached.recognitions, cached.scheme.code, local_date(now))
            if certification.category in r.categories
        ],
    }
    return Verification(digits, check.code.printed, result, facts, scanned_at)


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value is not None else None


def _certification(record: Any, scheme: LabelScheme) -> Certification:
    """Just enough of the aggregate for the domain's verdict; built from the row, no ORM loading."""
    certification = Certification(
        id=record["certification_id"],
        scheme=scheme,
        producer_id=record["producer_id"],
        certifier_id=record["certifier_id"],
        category=ProductCategory(record["category"]),
        product=record["product"],
        production_site=record["production_site"],
        district=record["district"],
        annual_volume=record["annual_volume"],
        volume_unit=record["volume_unit"],
        state=CertificationState(record["state"]),
    )
    certification.number = record["number"]
    certification.valid_from, certification.valid_until = record["valid_from"], record["valid_until"]
    return certification


__all__ = ["Verification", "VerificationVerdict", "forget_cached_schemes", "verify_code"]
