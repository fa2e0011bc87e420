"""The public notice counted in Asia/Shanghai calendar days, and the methodology version lifecycle."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from domain.errors import Conflict, InvalidState, RuleViolation
from domain.registry.methodology import (
    DEFAULT_METHODOLOGY,
    METHODOLOGY_TRANSITIONS,
    MethodologyAction,
    MethodologyRules,
    MethodologyStatus,
    methodology_transition,
)
from domain.registry.notice import NoticePeriod, require_notice_over, shanghai_today

M, A = MethodologyStatus, MethodologyAction


def test_the_default_notice_is_twenty_days_from_the_methodology() -> None:
    assert DEFAULT_METHODOLOGY.rules.public_notice_days == 20
    notice = NoticePeriod(date(2026, 11, 24), DEFAULT_METHODOLOGY.rules.public_notice_days)
    assert notice.last_day == date(2026, 12, 13)
    assert notice.registrable_from == date(2026, 12, 14)
    assert (notice.registrable_from - notice.noticed_on).days == 20
    assert not notice.is_over(date(2026, 12, 13))
    assert notice.is_over(date(2026, 12, 14))


def test_registration_is_refused_until_the_day_after_the_last_notice_day() -> None:
    last = date(2026, 12, 13)
    for today in (date(2026, 11, 24), last - timedelta(days=1), last):
        with pytest.raises(Conflict) as caught:
            require_notice_over("BZ-NJ-0001", last, today)
        assert caught.value.code == "public_notice_running"
        assert caught.value.context == {"notice_ends_on": "2026-12-13", "registrable_from": "2026-12-14"}
        assert "runs until 2026-12-13" in caught.value.detail
    require_notice_over("BZ-NJ-0001", last, date(2026, 12, 14))
    require_notice_over("BZ-NJ-0001", last, date(2027, 1, 1))


def test_days_are_counted_in_shanghai_not_utc() -> None:
    # 17:00 UTC on 23 November is already 01:00 on 24 November in Bazhong.
    assert shanghai_today(datetime(2026, 11, 23, 17, 0, tzinfo=UTC)) == date(2026, 11, 24)
    assert shanghai_today(datetime(2026, 11, 23, 15, 59, tzinfo=UTC)) == date(2026, 11, 23)
    new_york = timezone(timedelta(hours=-5))
    assert shanghai_today(datetime(2026, 11, 23, 11, 30, tzinfo=new_york)) == date(2026, 11, 24)
    with pytest.raises(ValueError, match="aware"):
        shanghai_today(datetime(2026, 11, 23, 12, 0))


@pytest.mark.parametrize("days", [0, -1, 366])
def test_notice_length_is_bounded(days: int) -> None:
    with pytest.raises(RuleViolation):
        NoticePeriod(date(2026, 1, 1), days)
    with pytest.raises(RuleViolation, match="public notice lasts"):
        MethodologyRules(public_notice_days=days)


def test_a_methodology_may_set_its_own_notice_length_and_keeps_it_through_its_data() -> None:
    rules = MethodologyRules(public_notice_days=30)
    assert rules.as_dict()["public_notice_days"] == 30
    old = dict(DEFAULT_METHODOLOGY.as_dict())
    old["rules"] = {k: v for k, v in old["rules"].items() if k != "public_notice_days"}
    # A definition stored before the rule existed reads back with the default.
    assert type(DEFAULT_METHODOLOGY).from_dict(old).rules.public_notice_days == 20


def test_methodology_lifecycle() -> None:
    assert {(s.value, a.value): t.value for (s, a), t in METHODOLOGY_TRANSITIONS.items()} == {
        ("draft", "publish"): "active",
        ("draft", "withdraw"): "withdrawn",
        ("active", "withdraw"): "withdrawn",
        ("active", "supersede"): "superseded",
    }
    assert methodology_transition("X v2", M.DRAFT, A.PUBLISH) is M.ACTIVE
    for status in (M.SUPERSEDED, M.WITHDRAWN):
        for action in A:
            with pytest.raises(InvalidState, match=r"allowed: nothing \(final\)") as caught:
                methodology_transition("X v1", status, action)
            assert caught.value.code == "methodology_invalid_state"
    with pytest.raises(InvalidState, match="cannot publish X v1: it is active; allowed: withdraw, supersede"):
        methodology_transition("X v1", M.ACTIVE, A.PUBLISH)
