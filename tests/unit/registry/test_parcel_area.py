"""The spherical area behind the largest-parcel rule: close to the survey figure for a parcel, whole for the world."""

from __future__ import annotations

import math

import pytest

from domain.errors import RuleViolation
from services.registry.geometry import EARTH_RADIUS_M, parse_polygon, require_parcel_sized, spherical_area_m2


def polygon(*points: tuple[float, float]) -> dict[str, object]:
    return {"type": "Polygon", "coordinates": [[list(point) for point in (*points, points[0])]]}


def test_a_bazhong_square_of_a_hundredth_of_a_degree_is_about_one_square_kilometre() -> None:
    ring = parse_polygon(polygon((106.70, 32.30), (106.71, 32.30), (106.71, 32.31), (106.70, 32.31)))
    # 0.01 deg of longitude at 32.305 N and 0.01 deg of latitude on a sphere of the mean radius.
    side = math.radians(0.01) * EARTH_RADIUS_M
    expected = side * side * math.cos(math.radians(32.305))
    assert spherical_area_m2(ring) == pytest.approx(expected, rel=1e-4)
    assert spherical_area_m2(ring) == pytest.approx(1_045_000, rel=1e-3)
    require_parcel_sized(ring)


def test_the_whole_world_is_the_whole_sphere_and_too_large_for_a_parcel() -> None:
    world = parse_polygon(polygon((-180, -90), (180, -90), (180, 90), (-180, 90)))
    assert spherical_area_m2(world) == pytest.approx(4 * math.pi * EARTH_RADIUS_M**2)
    with pytest.raises(RuleViolation) as refused:
        require_parcel_sized(world)
    assert refused.value.code == "invalid_polygon"


@pytest.mark.parametrize("value", [10**400, -(10**400), float("inf"), float("nan"), 180.5, True])
def test_a_longitude_that_is_no_wgs84_degree_is_refused_without_converting_it(value: object) -> None:
    with pytest.raises(RuleViolation) as refused:
        parse_polygon({"type": "Polygon", "coordinates": [[[value, 1], [2, 1], [2, 2], [value, 1]]]})
    assert refused.value.code == "invalid_polygon"
