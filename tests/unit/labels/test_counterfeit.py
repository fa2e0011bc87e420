from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from domain.errors import RuleViolation
from domain.labels.counterfeit import CounterfeitRule, GeoPoint, Scan, assess, coarsen, distance_km

BAZHONG = GeoPoint(31.9, 106.7)
BAZHONG_SUBURB = GeoPoint(32.1, 106.9)  # about 29 km away: the same place
CHENGDU = GeoPoint(30.7, 104.1)
CHONGQING = GeoPoint(29.6, 106.5)
XIAN = GeoPoint(34.3, 108.9)
T0 = datetime(2027, 5, 1, 8, tzinfo=UTC)


def scans_every(minutes: int, count: int, location: GeoPoint | None = None) -> list[Scan]:
    return [Scan(T0 + timedelta(minutes=minutes * i), location) for i in range(count)]


def test_distances_between_the_test_cities() -> None:
    assert 270 < distance_km(BAZHONG, CHENGDU) < 290
    assert 250 < distance_km(BAZHONG, CHONGQING) < 260
    assert 25 < distance_km(BAZHONG, BAZHONG_SUBURB) < 35
    assert distance_km(CHENGDU, CHENGDU) == 0
    assert coarsen(31.86723, 106.74491) == GeoPoint(31.9, 106.7)
    with pytest.raises(RuleViolation, match="no such place"):
        GeoPoint(91, 0)


def test_an_ordinary_package_is_not_suspected() -> None:
    scans = [
        Scan(T0, BAZHONG),  # packing check at the producer
        Scan(T0 + timedelta(hours=20), CHENGDU),  # the shop
        Scan(T0 + timedelta(hours=30), CHENGDU),  # the buyer at home
        Scan(T0 + timedelta(days=3), None),  # a relative, no location given
    ]
    result = assess(scans)
    assert not result.suspected
    assert result.reasons == ()
    assert (result.scans, result.most_scans_in_window, result.most_places_in_window) == (4, 4, 2)


def test_twenty_scans_in_thirty_days_pass_and_twenty_one_do_not() -> None:
    assert not assess(scans_every(60 * 24, 20)).suspected  # one a day for 20 days
    result = assess(scans_every(60 * 24, 21))
    assert result.suspected
    assert result.most_scans_in_window == 21
    assert result.reasons == (
        "21 scans within 30 days from 2027-05-01T08:00:00+00:00; one package explains at most 20",
    )


def test_scans_spread_beyond_the_window_are_not_added_up() -> None:
    # 40 scans, one every 2 days: at most 16 fall within any 30-day span.
    result = assess(scans_every(60 * 24 * 2, 40))
    assert result.most_scans_in_window == 16
    assert not result.suspected


def test_three_cities_within_two_days_is_suspected() -> None:
    scans = [Scan(T0, BAZHONG), Scan(T0 + timedelta(hours=5), CHENGDU), Scan(T0 + timedelta(hours=47), CHONGQING)]
    result = assess(scans)
    assert result.suspected
    assert result.most_places_in_window == 3
    assert result.reasons == (
        "scanned in 3 places more than 50 km apart within 48 hours from 2027-05-01T08:00:00+00:00; "
        "one package explains at most 2",
    )


def test_the_same_three_cities_over_a_longer_time_are_a_journey() -> None:
    scans = [Scan(T0, BAZHONG), Scan(T0 + timedelta(hours=30), CHENGDU), Scan(T0 + timedelta(hours=49), CHONGQING)]
    result = assess(scans)
    assert result.most_places_in_window == 2
    assert not result.suspected


def test_a_city_and_its_suburbs_are_one_place() -> None:
    scans = [Scan(T0, BAZHONG), Scan(T0 + timedelta(hours=1), BAZHONG_SUBURB), Scan(T0 + timedelta(hours=2), CHENGDU)]
    assert assess(scans).most_places_in_window == 2
    assert not assess(scans).suspected


def test_scan_order_does_not_matter_and_both_rules_can_fire() -> None:
    scans = [
        *scans_every(10, 25, CHENGDU),
        Scan(T0 + timedelta(hours=1), XIAN),
        Scan(T0 + timedelta(hours=2), CHONGQING),
    ]
    forward, backward = assess(scans), assess(list(reversed(scans)))
    assert forward == backward
    assert forward.suspected
    assert len(forward.reasons) == 2
    assert (forward.scans, forward.most_scans_in_window, forward.most_places_in_window) == (27, 27, 3)


def test_the_rule_is_configurable() -> None:
    strict = CounterfeitRule(
        max_scans=5, scan_window=timedelta(days=1), max_places=1, place_window=timedelta(hours=6), same_place_km=300
    )
    assert assess(scans_every(60, 6), strict).suspected
    assert not assess(scans_every(60, 5), strict).suspected
    # Within 300 km Bazhong and Chengdu are one place; Xi'an (about 340 km from Bazhong) is another.
    near = [Scan(T0, BAZHONG), Scan(T0 + timedelta(hours=1), CHENGDU)]
    assert not assess(near, strict).suspected
    assert assess([*near, Scan(T0 + timedelta(hours=2), XIAN)], strict).suspected
    with pytest.raises(RuleViolation, match="at least 1"):
        CounterfeitRule(max_scans=0)
    with pytest.raises(RuleViolation, match="windows must be positive"):
        CounterfeitRule(place_window=timedelta(0))


def test_no_scans_no_suspicion() -> None:
    result = assess([])
    assert not result.suspected
    assert (result.scans, result.most_scans_in_window, result.most_places_in_window) == (0, 0, 0)
