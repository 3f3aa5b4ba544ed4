"""Legal clocks (Decree 356/2025/ND-CP Art. 5): pure functions of dates and settings.

The acknowledgement is due within a number of *working* days on the Vietnamese calendar (weekends,
public holidays including Tết from the maintained ``holidays`` package, and the company's extra
days off); fulfilment within a number of calendar days by default ("ngày" in the Decree), or working
days if an administrator says so. A deadline falls at the end of the day in Ho Chi Minh City.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import date, datetime, time, timedelta, timezone
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays

LOCAL_TZ = ZoneInfo("Asia/Ho_Chi_Minh")


@lru_cache(maxsize=64)
def public_holidays(year: int) -> frozenset[date]:
    return frozenset(holidays.country_holidays("VN", years=year))


def is_working_day(day: date, extra_days_off: Collection[date] = ()) -> bool:
    return day.weekday() < 5 and day not in public_holidays(day.year) and day not in extra_days_off


def add_working_days(start: date, count: int, extra_days_off: Collection[date] = ()) -> date:
    """The ``count``-th working day after ``start`` (the day of receipt does not count)."""
    day = start
    remaining = count
    while remaining > 0:
        day += timedelta(days=1)
        if is_working_day(day, extra_days_off):
            remaining -= 1
    return day


def local_date(moment: datetime) -> date:
    return moment.astimezone(LOCAL_TZ).date()


def end_of_local_day(day: date) -> datetime:
    """The last second of ``day`` in Ho Chi Minh City, in UTC."""
    return datetime.combine(day, time(23, 59, 59), LOCAL_TZ).astimezone(timezone.utc)


def acknowledge_due(received_at: datetime, working_days: int, extra_days_off: Collection[date] = ()) -> datetime:
    return end_of_local_day(add_working_days(local_date(received_at), working_days, extra_days_off))


def fulfil_due(received_at: datetime, days: int, in_working_days: bool = False,
               extra_days_off: Collection[date] = ()) -> datetime:
    start = local_date(received_at)
    if in_working_days:
        return end_of_local_day(add_working_days(start, days, extra_days_off))
    return end_of_local_day(start + timedelta(days=days))


def extend(due_at: datetime, days: int, in_working_days: bool = False,
           extra_days_off: Collection[date] = ()) -> datetime:
    """The new deadline after an extension of ``days`` from the current one."""
    return fulfil_due(due_at, days, in_working_days, extra_days_off)
