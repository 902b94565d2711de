"""Wall-clock time in Brussels, holidays and closure days."""

from __future__ import annotations

import functools
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

BRUSSELS = ZoneInfo("Europe/Brussels")


def local_to_utc(day: date, wall_time: time, fold: int = 0) -> datetime:
    return datetime.combine(day, wall_time, tzinfo=BRUSSELS).replace(fold=fold).astimezone(timezone.utc)


def to_local(moment: datetime) -> datetime:
    return moment.astimezone(BRUSSELS)


def exists_in_brussels(naive: datetime) -> bool:
    """Tell whether a wall-clock time exists in Brussels. zoneinfo silently maps a time in the
    spring-forward gap (02:00-03:00 on the last Sunday of March) to another instant, so round-trip it."""
    aware = naive.replace(tzinfo=BRUSSELS)
    return aware.astimezone(timezone.utc).astimezone(BRUSSELS).replace(tzinfo=None) == naive


def has_brussels_offset(moment: datetime) -> bool:
    """Tell whether an aware datetime carries the offset Brussels really has at that instant."""
    return moment.utcoffset() == moment.astimezone(BRUSSELS).utcoffset()


@functools.cache
def _federal_holidays(year: int) -> frozenset[date]:
    import holidays  # imported here: building the holiday classes costs time at import

    return frozenset(holidays.country_holidays("BE", years=year, language="en_US").keys())


def is_federal_holiday(day: date) -> bool:
    return day in _federal_holidays(day.year)


def days_between(first: date, last: date) -> list[date]:
    return [first + timedelta(days=offset) for offset in range((last - first).days + 1)]
