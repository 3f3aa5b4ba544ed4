"""Times as the company and its customers read them: Vietnam's time zone (Asia/Ho_Chi_Minh).

Moments are stored and compared in UTC; days ("the 3rd of May"), a form's ``datetime-local`` input
and the edges of a day a report covers are Vietnam's. This module is the one place that converts.
"""

from __future__ import annotations

from datetime import date, datetime, time, timezone
from zoneinfo import ZoneInfo

from portal.i18n import TIMEZONE

LOCAL_ZONE = ZoneInfo(TIMEZONE)


def local_date(moment: datetime) -> date:
    """The day in Vietnam that ``moment`` falls on."""
    return moment.astimezone(LOCAL_ZONE).date()


def start_of_local_day(day: date) -> datetime:
    """The first moment of ``day`` in Vietnam, in UTC."""
    return datetime.combine(day, time(0), LOCAL_ZONE).astimezone(timezone.utc)


def end_of_local_day(day: date) -> datetime:
    """The last second of ``day`` in Vietnam, in UTC."""
    return datetime.combine(day, time(23, 59, 59), LOCAL_ZONE).astimezone(timezone.utc)


def from_local(moment: datetime | None) -> datetime | None:
    """A moment typed in Vietnam's local time (naive, to the minute), in UTC."""
    if moment is None:
        return None
    return moment.replace(tzinfo=LOCAL_ZONE, second=0, microsecond=0).astimezone(timezone.utc)


def to_local(moment: datetime | None) -> datetime | None:
    """A stored moment as a naive local time, for a form's ``datetime-local`` input."""
    if moment is None:
        return None
    return moment.astimezone(LOCAL_ZONE).replace(tzinfo=None)
