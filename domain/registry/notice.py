"""The public notice (公示) between validation and registration, counted in Asia/Shanghai calendar days.

A project validated on day D is on notice for ``days`` calendar days, D included: with the default 20 days, a
notice recorded on 2026-11-24 runs until 2026-12-13 and the operator may register the project from 2026-12-14.
Days are those of the registry's home, Asia/Shanghai, whatever the server's clock zone: a notice recorded at
01:00 in Bazhong is recorded on that Bazhong date, not on the previous UTC one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from domain.errors import Conflict, RuleViolation

SHANGHAI = ZoneInfo("Asia/Shanghai")
DEFAULT_NOTICE_DAYS = 20
MAX_NOTICE_DAYS = 365


def shanghai_today(now: datetime | None = None) -> date:
    """The calendar date in Asia/Shanghai at ``now`` (an aware datetime; default: the current instant)."""
    instant = now if now is not None else datetime.now(UTC)
    if instant.tzinfo is None:
        raise ValueError("an aware datetime is needed to find the date in Asia/Shanghai")
    return instant.astimezone(SHANGHAI).date()


@dataclass(frozen=True)
class NoticePeriod:
    noticed_on: date
    days: int

    def __post_init__(self) -> None:
        if not 1 <= self.days <= MAX_NOTICE_DAYS:
            raise RuleViolation(
                f"a public notice lasts 1 to {MAX_NOTICE_DAYS} days, not {self.days}", code="invalid_parameter"
            )

    @property
    def last_day(self) -> date:
        return self.noticed_on + timedelta(days=self.days - 1)

    @property
    def registrable_from(self) -> date:
        return self.noticed_on + timedelta(days=self.days)

    def is_over(self, today: date) -> bool:
        return today >= self.registrable_from


def require_notice_over(project: str, last_day: date, today: date) -> None:
    """Refuse registration while the notice runs; the refusal names the notice's last day and the first free day."""
    registrable_from = last_day + timedelta(days=1)
    if today < registrable_from:
        raise Conflict(
            f"the public notice of project {project} runs until {last_day.isoformat()} (Asia/Shanghai); "
            f"the operator may register it from {registrable_from.isoformat()}",
            code="public_notice_running",
            notice_ends_on=last_day.isoformat(),
            registrable_from=registrable_from.isoformat(),
        )
