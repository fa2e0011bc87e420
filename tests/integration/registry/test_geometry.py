"""Parcel polygons: interiors that meet overlap; shared edges and corners do not."""

from __future__ import annotations

import pytest

from domain.errors import RuleViolation
from services.registry.geometry import Ring, overlap, parse_polygon


def ring(*points: tuple[float, float]) -> Ring:
    closed = [*points, points[0]]
    return parse_polygon({"type": "Polygon", "coordinates": [[list(point) for point in closed]]})


SQUARE = ring((0, 0), (2, 0), (2, 2), (0, 2))


@pytest.mark.parametrize(
    ("other", "expected"),
    [
        (ring((1, 1), (3, 1), (3, 3), (1, 3)), True),  # corners cross
        (ring((0.5, 0.5), (1.5, 0.5), (1.5, 1.5), (0.5, 1.5)), True),  # inside, no edge crosses
        (ring((-1, -1), (3, -1), (3, 3), (-1, 3)), True),  # contains the square
        (ring((0, 0), (2, 0), (2, 2), (0, 2)), True),  # identical
        (ring((2, 0), (4, 0), (4, 2), (2, 2)), False),  # shares an edge
        (ring((2, 2), (4, 2), (4, 4), (2, 4)), False),  # shares a corner
        (ring((3, 3), (4, 3), (4, 4), (3, 4)), False),  # apart
        (ring((-1, 0.5), (3, 0.5), (3, 1.5), (-1, 1.5)), True),  # a band across, vertices all outside
        # An L-shaped (concave) neighbour hugging two sides of the square from outside.
        (ring((2, 0), (4, 0), (4, 4), (0, 4), (0, 2), (2, 2)), False),
    ],
)
def test_overlap(other: Ring, expected: bool) -> None:
    assert overlap(SQUARE, other) is expected
    assert overlap(other, SQUARE) is expected


@pytest.mark.parametrize(
    "geojson",
    [
        {"type": "Point", "coordinates": [0, 0]},
        {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1]]]},  # too few positions
        {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 1]]]},  # not closed
        {"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [2, 2], [0, 0]]]},  # no area
        {"type": "Polygon", "coordinates": [[[0, 0], [200, 0], [1, 1], [0, 0]]]},  # not a longitude
        {"type": "Polygon", "coordinates": [[[0, 0], ["a", 0], [1, 1], [0, 0]]]},
    ],
)
def test_bad_polygons_are_refused(geojson: dict[str, object]) -> None:
    with pytest.raises(RuleViolation) as refused:
        parse_polygon(geojson)
    assert refused.value.code == "invalid_polygon"
