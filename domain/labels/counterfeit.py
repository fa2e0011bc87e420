"""Counterfeit suspicion: a label code is one package, so its scans should look like one package's life.

A code is suspected of being copied when, over its recorded scans,

1. more than ``max_scans`` scans fall within any ``scan_window`` (default: more than 20 in 30 days; a shopper, a
   family, a shop assistant and a curious friend stay well below), or
2. within any ``place_window`` (default 48 hours) the scans come from more than ``max_places`` distinct places
   (default 2), where two places are distinct when farther apart than ``same_place_km`` (default 50 km, so a city
   and its suburbs are one place). One package can go from the producer in Bazhong to a shop in Chengdu (about
   300 km) in a day: that is two places. A third place more than 50 km from both within 48 hours is more than one
   package explains.

Places are counted greedily in time order: each located scan joins the first place whose first scan lies within
``same_place_km``, else it founds a new place. Founders are pairwise farther apart than ``same_place_km``, so
"K + 1 places" always means K + 1 scans that far apart from each other, never an artefact of the grouping.
Scans without a location count for rule 1 only. Locations are coarse on purpose (``coarsen`` rounds to 0.1 degree,
about 11 km): enough to tell cities apart, too little to follow a person.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from domain.errors import RuleViolation

EARTH_RADIUS_KM = 6371.0088


@dataclass(frozen=True, slots=True)
class GeoPoint:
    latitude: float
    longitude: float

    def __post_init__(self) -> None:
        if not (-90 <= self.latitude <= 90 and -180 <= self.longitude <= 180):
            raise RuleViolation(f"no such place: {self.latitude}, {self.longitude}", code="invalid_location")


def coarsen(latitude: float, longitude: float, decimals: int = 1) -> GeoPoint:
    """The location as stored with a scan: rounded so that it names a town, not a doorstep."""
    return GeoPoint(round(latitude, decimals), round(longitude, decimals))


def distance_km(a: GeoPoint, b: GeoPoint) -> float:
    """Great-circle distance (haversine)."""
    lat_a, lat_b = math.radians(a.latitude), math.radians(b.latitude)
    d_lat, d_lon = lat_b - lat_a, math.radians(b.longitude - a.longitude)
    h = math.sin(d_lat / 2) ** 2 + math.cos(lat_a) * math.cos(lat_b) * math.sin(d_lon / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))


@dataclass(frozen=True, slots=True)
class Scan:
    at: datetime
    location: GeoPoint | None = None


@dataclass(frozen=True, slots=True)
class CounterfeitRule:
    max_scans: int = 20
    scan_window: timedelta = timedelta(days=30)
    max_places: int = 2
    place_window: timedelta = timedelta(hours=48)
    same_place_km: float = 50.0

    def __post_init__(self) -> None:
        if self.max_scans < 1 or self.max_places < 1:
            raise RuleViolation("scan and place limits must be at least 1", code="invalid_counterfeit_rule")
        if self.scan_window <= timedelta(0) or self.place_window <= timedelta(0):
            raise RuleViolation("windows must be positive", code="invalid_counterfeit_rule")
        if self.same_place_km <= 0:
            raise RuleViolation("the same-place distance must be positive", code="invalid_counterfeit_rule")


@dataclass(frozen=True, slots=True)
class Suspicion:
    suspected: bool
    reasons: tuple[str, ...]
    scans: int
    most_scans_in_window: int
    most_places_in_window: int


def _most_in_window(times: Sequence[datetime], window: timedelta) -> tuple[int, int]:
    """The largest number of times within any closed span of ``window``, and the index where that span starts."""
    best, best_start, start = 0, 0, 0
    for end, moment in enumerate(times):
        while moment - times[start] > window:
            start += 1
        if end - start + 1 > best:
            best, best_start = end - start + 1, start
    return best, best_start


def _places(points: Iterable[GeoPoint], same_place_km: float) -> list[GeoPoint]:
    founders: list[GeoPoint] = []
    for point in points:
        if all(distance_km(point, founder) > same_place_km for founder in founders):
            founders.append(point)
    return founders


def assess(scans: Iterable[Scan], rule: CounterfeitRule = CounterfeitRule()) -> Suspicion:
    """Apply both rules to a code's scans (any order) and say why it is suspected, if it is."""
    ordered = sorted(scans, key=lambda scan: scan.at)
    reasons: list[str] = []
    times = [scan.at for scan in ordered]
    most_scans, start = _most_in_window(times, rule.scan_window)
    if most_scans > rule.max_scans:
        reasons.append(
            f"{most_scans} scans within {_span(rule.scan_window)} from {times[start].isoformat()}; "
            f"one package explains at most {rule.max_scans}"
        )
    located = [scan for scan in ordered if scan.location is not None]
    most_places, worst_at = 0, None
    end = 0
    for first in range(len(located)):
        while end < len(located) and located[end].at - located[first].at <= rule.place_window:
            end += 1
        points = [scan.location for scan in located[first:end] if scan.location is not None]
        count = len(_places(points, rule.same_place_km))
        if count > most_places:
            most_places, worst_at = count, located[first].at
    if most_places > rule.max_places and worst_at is not None:
        reasons.append(
            f"scanned in {most_places} places more than {rule.same_place_km:g} km apart within "
            f"{_span(rule.place_window)} from {worst_at.isoformat()}; one package explains at most {rule.max_places}"
        )
    return Suspicion(bool(reasons), tuple(reasons), len(ordered), most_scans, most_places)


def _span(window: timedelta) -> str:
    hours = window.total_seconds() / 3600
    return f"{hours / 24:g} days" if hours >= 72 else f"{hours:g} hours"
