"""Parcel polygons (GeoJSON ``Polygon``, lon/lat): validation, bounding boxes and an interior-overlap test.

Two parcels overlap when their interiors meet; neighbours sharing an edge or a corner do not. The test: some pair of
edges properly crosses, or a vertex, an edge midpoint or an interior sample point of one lies strictly inside the
other. Only the outer ring counts (holes are ignored: a conservative choice, it can only find more overlaps).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from domain.errors import RuleViolation

Point = tuple[float, float]
MAX_VERTICES = 2000
EPSILON = 1e-12


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
    if geojson.get("type") != "Polygon":
        raise _invalid("a GeoJSON object of type Polygon is expected")
    rings = geojson.get("coordinates")
    if not isinstance(rings, list) or not rings or not isinstance(rings[0], list):
        raise _invalid("coordinates must be a list of linear rings")
    outer = rings[0]
    if not 4 <= len(outer) <= MAX_VERTICES:
        raise _invalid(f"the outer ring needs 4 to {MAX_VERTICES} positions (closed)")
    points: list[Point] = []
    for position in outer:
        if (
            not isinstance(position, list | tuple)
            or len(position) < 2
            or not all(isinstance(v, int | float) and not isinstance(v, bool) for v in position[:2])
        ):
            raise _invalid("every position is [longitude, latitude]")
        lon, lat = float(position[0]), float(position[1])
        if not (math.isfinite(lon) and math.isfinite(lat) and -180 <= lon <= 180 and -90 <= lat <= 90):
            raise _invalid(f"position {lon}, {lat} is not a longitude and latitude")
        points.append((lon, lat))
    if points[0] != points[-1]:
        raise _invalid("the outer ring must be closed (last position = first)")
    ring = Ring(tuple(points))
    if abs(_signed_area(ring)) < EPSILON:
        raise _invalid("the outer ring has no area")
    return ring


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
