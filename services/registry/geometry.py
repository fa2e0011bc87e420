"""Parcel polygons (GeoJSON ``Polygon``, lon/lat): validation, bounding boxes and an interior-overlap test.

Validation follows RFC 7946: positions of WGS84 degrees (longitude -180..180, latitude -90..90, an optional
altitude), closed rings of 4 or more positions. No parcel may be drawn larger than the largest parcel the registry
records (``MAX_PARCEL_AREA_MU``): a polygon around the whole world would otherwise overlap every later one.

Two parcels overlap when their interiors meet; neighbours sharing an edge or a corner do not. The test: some pair of
edges properly crosses, or a vertex, an edge midpoint or an interior sample point of one lies strictly inside the
other. Only the outer ring counts (holes are ignored: a conservative choice, it can only find more overlaps).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from domain.errors import RuleViolation
from domain.registry.eligibility import M2_PER_MU, MAX_PARCEL_AREA_MU

Point = tuple[float, float]
MAX_VERTICES = 2000
EPSILON = 1e-12
EARTH_RADIUS_M = 6_371_008.8  # mean radius of WGS84
MAX_AREA_M2 = float(MAX_PARCEL_AREA_MU * M2_PER_MU)
MAX_ALTITUDE_M = 100_000  # generous: only refuses what is no altitude at all


@dataclass(frozen=True)
class Ring:
    points: tuple[Point, ...]  # closed: the last point repeats the first

    @property
    def bbox(self) -> tuple[float, float, float, float]:
        xs = [p[0] for p in self.points]
        ys = [p[1] for p in self.points]
        return min(xs), min(ys), max(xs), max(ys)

    def edges(self) -> list[tuple[Point, Point]]:
        return list(zip(self.points[:-1], self.points[1:], strict=True))


def _invalid(detail: str) -> RuleViolation:
    return RuleViolation(f"polygon: {detail}", code="invalid_polygon")


def parse_polygon(geojson: dict[str, Any]) -> Ring:
    """A parcel's polygon as drawn by its owner: every ring is checked, and the outer ring returned."""
    rings = _rings(geojson)
    if sum(len(ring) if isinstance(ring, list) else 0 for ring in rings) > MAX_VERTICES:
        raise _invalid(f"the rings have more than {MAX_VERTICES} positions together")
    outer = _outer_ring(rings)
    for number, hole in enumerate(rings[1:], start=1):
        _linear_ring(hole, f"hole {number}")
    return outer


def stored_polygon(geojson: dict[str, Any]) -> dict[str, Any]:
    """What is kept of a polygon that ``parse_polygon`` accepted: its type and its checked coordinates. Other
    members (``bbox``, foreign members) are not checked and not kept: a NaN, an infinity, a lone surrogate or a
    deep nest there would fail PostgreSQL's JSON or the answer's encoding."""
    return {"type": "Polygon", "coordinates": geojson["coordinates"]}


def require_parcel_sized(ring: Ring) -> None:
    """No parcel is drawn larger than the largest parcel the registry records."""
    area = spherical_area_m2(ring)
    if area > MAX_AREA_M2:
        raise _invalid(
            f"the outer ring covers {area / 1e6:,.0f} km2, more than the largest parcel, {MAX_PARCEL_AREA_MU:,} mu "
            f"({MAX_AREA_M2 / 1e6:,.0f} km2)"
        )


def stored_outer_ring(geojson: dict[str, Any]) -> Ring:
    """The outer ring of a stored polygon; its holes are not looked at, so polygons stored under older rules still
    take part in the overlap test."""
    return _outer_ring(_rings(geojson))


def _rings(geojson: dict[str, Any]) -> list[object]:
    if geojson.get("type") != "Polygon":
        raise _invalid("a GeoJSON object of type Polygon is expected")
    rings = geojson.get("coordinates")
    if not isinstance(rings, list) or not rings:
        raise _invalid("coordinates must be a list of linear rings")
    return rings


def _outer_ring(rings: list[object]) -> Ring:
    ring = _linear_ring(rings[0], "the outer ring")
    if abs(_signed_area(ring)) < EPSILON:
        raise _invalid("the outer ring has no area")
    return ring


def _linear_ring(positions: object, name: str) -> Ring:
    if not isinstance(positions, list):
        raise _invalid("coordinates must be a list of linear rings")
    if not 4 <= len(positions) <= MAX_VERTICES:
        raise _invalid(f"{name} needs 4 to {MAX_VERTICES} positions (closed)")
    points = [_point(position, f"{name}, position {index}") for index, position in enumerate(positions, start=1)]
    if points[0] != points[-1]:
        raise _invalid(f"{name} must be closed (last position = first)")
    return Ring(tuple(points))


def _point(position: object, name: str) -> Point:
    if (
        not isinstance(position, list | tuple)
        or len(position) not in (2, 3)
        or not all(_is_number(v) for v in position)
    ):
        raise _invalid(f"{name}: every position is [longitude, latitude] or [longitude, latitude, altitude]")
    # Compared before float(): an integer too large for a float is refused, not an OverflowError; NaN fails both.
    lon, lat = position[0], position[1]
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        raise _invalid(f"{name}: longitude must be within -180..180 and latitude within -90..90 (WGS84 degrees)")
    if len(position) == 3 and not -MAX_ALTITUDE_M <= position[2] <= MAX_ALTITUDE_M:
        raise _invalid(f"{name}: altitude must be within -{MAX_ALTITUDE_M}..{MAX_ALTITUDE_M} m")
    return float(lon), float(lat)


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def spherical_area_m2(ring: Ring) -> float:
    """The area of a ring on a sphere of the Earth's mean radius (Chamberlain and Duquette, JPL 2007): a close
    approximation for parcels, and a whole-world ring still comes out as the whole world."""
    total = sum(
        math.radians(b[0] - a[0]) * (2 + math.sin(math.radians(a[1])) + math.sin(math.radians(b[1])))
        for a, b in ring.edges()
    )
    return abs(total) * EARTH_RADIUS_M**2 / 2


def _signed_area(ring: Ring) -> float:
    return sum(a[0] * b[1] - b[0] * a[1] for a, b in ring.edges()) / 2


def _orientation(a: Point, b: Point, c: Point) -> float:
    return (b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0])


def _properly_cross(p1: Point, p2: Point, q1: Point, q2: Point) -> bool:
    d1, d2 = _orientation(q1, q2, p1), _orientation(q1, q2, p2)
    d3, d4 = _orientation(p1, p2, q1), _orientation(p1, p2, q2)
    return d1 * d2 < -EPSILON and d3 * d4 < -EPSILON


def _on_segment(point: Point, a: Point, b: Point) -> bool:
    if abs(_orientation(a, b, point)) > EPSILON:
        return False
    return min(a[0], b[0]) - EPSILON <= point[0] <= max(a[0], b[0]) + EPSILON and (
        min(a[1], b[1]) - EPSILON <= point[1] <= max(a[1], b[1]) + EPSILON
    )


def strictly_inside(point: Point, ring: Ring) -> bool:
    """Inside and not on the boundary (ray casting)."""
    edges = ring.edges()
    if any(_on_segment(point, a, b) for a, b in edges):
        return False
    inside = False
    x, y = point
    for (x1, y1), (x2, y2) in edges:
        if (y1 > y) != (y2 > y) and x < (x2 - x1) * (y - y1) / (y2 - y1) + x1:
            inside = not inside
    return inside


def _samples(ring: Ring) -> list[Point]:
    points = list(ring.points[:-1])
    points += [((a[0] + b[0]) / 2, (a[1] + b[1]) / 2) for a, b in ring.edges()]
    # Interior samples: points just inside each vertex, toward the next-but-one vertex; at least one of them is
    # interior for any simple polygon, which catches identical and nested polygons whose boundaries coincide.
    for index in range(len(points) // 2):
        a, c = ring.points[index], ring.points[(index + 2) % (len(ring.points) - 1)]
        candidate = (a[0] + (c[0] - a[0]) * 0.01, a[1] + (c[1] - a[1]) * 0.01)
        if strictly_inside(candidate, ring):
            points.append(candidate)
    return points


def bboxes_meet(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> bool:
    return a[0] <= b[2] and b[0] <= a[2] and a[1] <= b[3] and b[1] <= a[3]


def overlap(a: Ring, b: Ring) -> bool:
    if not bboxes_meet(a.bbox, b.bbox):
        return False
    for p1, p2 in a.edges():
        for q1, q2 in b.edges():
            if _properly_cross(p1, p2, q1, q2):
                return True
    return any(strictly_inside(point, b) for point in _samples(a)) or any(
        strictly_inside(point, a) for point in _samples(b)
    )
