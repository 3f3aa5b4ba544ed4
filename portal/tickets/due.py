"""Legal clocks (Decree 356/2025/ND-CP Art. 5): pure functions of dates, settings and the calendar.

The acknowledgement is due within a number of *working* days on the company's calendar: the
Vietnamese public calendar of the maintained ``holidays`` package (weekends, public holidays, Tết),
changed by the administrator's overrides in both directions (extra days off; holidays or weekend
days worked). Fulfilment is due within a number of calendar days by default ("ngày" in the
Decree), or working days if an administrator says so. A deadline falls at the end of the day in
Ho Chi Minh City; days are counted from the day after receipt.

Whatever the counting, a fulfilment deadline is never later than the law's ceiling: its figure in
calendar days from receipt (the longer figure when a processor or third party must act), plus, once
extended, the extension the law allows. Counting working days can therefore only shorten a clock.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import lru_cache

import holidays

from portal.local_time import end_of_local_day, local_date

HOLIDAY_LANGUAGES = {"vi": "vi", "en": "en_US"}


@lru_cache(maxsize=64)
def public_holidays(year: int) -> frozenset[date]:
    return frozenset(holidays.country_holidays("VN", years=year))


@lru_cache(maxsize=16)
def public_holiday_names(year: int, locale: str) -> dict[date, str]:
    """The public holidays of ``year`` with their names in ``locale`` (Vietnamese if unknown)."""
    language = HOLIDAY_LANGUAGES.get(locale, "vi")
    return dict(holidays.country_holidays("VN", years=year, language=language))


def is_public_working_day(day: date) -> bool:
    """A working day on the public calendar: a weekday that is not a public holiday."""
    return day.weekday() < 5 and day not in public_holidays(day.year)


@dataclass(frozen=True)
class Calendar:
    """The company's calendar: the public one with the administrator's overrides."""

    days_off: Collection[date] = field(default_factory=frozenset)  # extra days off (bridge days)
    days_worked: Collection[date] = field(default_factory=frozenset)  # holidays or weekend days worked

    def is_working_day(self, day: date) -> bool:
        if day in self.days_worked:
            return True
        return day not in self.days_off and is_public_working_day(day)


PUBLIC_CALENDAR = Calendar()


@dataclass(frozen=True)
class Deadline:
    """A deadline, and the date counting gave before the law's ceiling cut it (the same if not)."""

    at: datetime
    counted: datetime

    @property
    def was_cut(self) -> bool:
        return self.counted > self.at


def add_working_days(start: date, count: int, calendar: Calendar = PUBLIC_CALENDAR) -> date:
    """The ``count``-th working day after ``start`` (the day of receipt does not count)."""
    day = start
    remaining = count
    while remaining > 0:
        day += timedelta(days=1)
        if calendar.is_working_day(day):
            remaining -= 1
    return day


def count_days(start: date, count: int, in_working_days: bool, calendar: Calendar = PUBLIC_CALENDAR) -> date:
    if in_working_days:
        return add_working_days(start, count, calendar)
    return start + timedelta(days=count)


def acknowledge_due(received_at: datetime, working_days: int, calendar: Calendar = PUBLIC_CALENDAR) -> datetime:
    return end_of_local_day(add_working_days(local_date(received_at), working_days, calendar))


def legal_ceiling(received_at: datetime, days: int) -> datetime:
    """The latest a deadline may be: ``days`` calendar days from receipt (the law's figure, plus the
    law's extension once extended)."""
    return end_of_local_day(local_date(received_at) + timedelta(days=days))


def fulfil_deadline(received_at: datetime, days: int, legal_days: int, in_working_days: bool = False,
                    calendar: Calendar = PUBLIC_CALENDAR) -> Deadline:
    """The fulfilment deadline ``days`` (calendar or working) days from receipt, cut at the law's
    figure of ``legal_days`` calendar days."""
    counted = end_of_local_day(count_days(local_date(received_at), days, in_working_days, calendar))
    return Deadline(min(counted, legal_ceiling(received_at, legal_days)), counted)


def fulfil_due(received_at: datetime, days: int, in_working_days: bool = False,
               calendar: Calendar = PUBLIC_CALENDAR) -> datetime:
    """The fulfilment deadline when ``days`` is the law's figure itself."""
    return fulfil_deadline(received_at, days, days, in_working_days, calendar).at


def moved_deadline(due_at: datetime, days: int, ceiling: datetime, in_working_days: bool = False,
                   calendar: Calendar = PUBLIC_CALENDAR) -> Deadline:
    """The deadline ``days`` days after the current one (an extension, or the longer period's
    extra days), cut at ``ceiling`` (see :func:`legal_ceiling`)."""
    counted = end_of_local_day(count_days(local_date(due_at), days, in_working_days, calendar))
    return Deadline(min(counted, ceiling), counted)
