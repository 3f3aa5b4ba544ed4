"""The figures of the board's dashboard, aggregated in SQL (their charts are :mod:`.charts`).

Every figure is a count over a range of an index (department, status and due date; or the creation
date for the last 30 days), so the page costs the same at a thousand tickets as at a million; the
counts travel in one statement. Medians use ``percentile_cont`` on PostgreSQL; SQLite has no such
function, so there they are computed from the last 30 days' rows.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import extract, func, select

from portal.db import db
from portal.enums import Department
from portal.local_time import local_date, start_of_local_day
from portal.tickets.models import OPEN_STATUSES, Ticket

WINDOW_DAYS = 30


@dataclass(frozen=True)
class Median:
    """The median of some durations, and how many of how many tickets it is based on."""

    seconds: float | None
    count: int
    out_of: int

    @property
    def duration(self) -> timedelta | None:
        return None if self.seconds is None else timedelta(seconds=round(self.seconds))


@dataclass
class Figures:
    open_counts: dict[tuple[str, str], int]
    overdue_by_department: dict[str, int]
    unacknowledged_late: int
    first_response: Median
    resolution: Median
    filed_per_day: list[tuple[date, int]] = field(default_factory=list)

    @property
    def open_total(self) -> int:
        return sum(self.open_counts.values())

    @property
    def overdue_total(self) -> int:
        return sum(self.overdue_by_department.values())


def figures(now: datetime) -> Figures:
    """Everything the dashboard shows, as of ``now``: two statements whatever the data."""
    since = now - timedelta(days=WINDOW_DAYS)
    days = _days(since, now)
    count = _count
    unfinished = [(department, status) for department in Department for status in OPEN_STATUSES]
    columns = [count(Ticket.department == department, Ticket.status == status) for department, status in unfinished]
    columns += [count(Ticket.department == department, Ticket.status == status, Ticket.due_at < now)
                for department, status in unfinished]
    columns.append(count(Ticket.status.in_(OPEN_STATUSES), Ticket.first_response_at.is_(None),
                         Ticket.acknowledge_due_at < now))
    columns += [count(Ticket.created_at >= start, Ticket.created_at < end) for _, start, end in days]
    row = list(db.session.execute(select(*columns)).one())
    open_counts = dict(zip(unfinished, row[:len(unfinished)], strict=True))
    overdue: dict[str, int] = {}
    for (department, _), value in zip(unfinished, row[len(unfinished):2 * len(unfinished)], strict=True):
        overdue[department] = overdue.get(department, 0) + value
    first_response, resolution = _medians(since)
    return Figures(open_counts={key: value for key, value in open_counts.items() if value},
                   overdue_by_department={key: value for key, value in overdue.items() if value},
                   unacknowledged_late=row[2 * len(unfinished)], first_response=first_response,
                   resolution=resolution,
                   filed_per_day=[(day, value) for (day, _, _), value in
                                  zip(days, row[2 * len(unfinished) + 1:], strict=True)])


def _count(*conditions):
    """A count as a column of the one statement. Each is a range of an index — (department, status,
    due_at) or the creation date — that the database can count without visiting every ticket."""
    return select(func.count()).select_from(Ticket).where(*conditions).scalar_subquery()


def _days(since: datetime, now: datetime) -> list[tuple[date, datetime, datetime]]:
    """Each local day of the window, with the moments (UTC) it starts and ends within the window."""
    first, last = local_date(since), local_date(now)
    days = []
    for number in range((last - first).days + 1):
        day = first + timedelta(days=number)
        start = max(since, start_of_local_day(day))
        end = start_of_local_day(day + timedelta(days=1))
        days.append((day, start, end))
    return days


def _medians(since: datetime) -> tuple[Median, Median]:
    """Median times to first answer and to resolution of the requests filed since ``since``."""
    if db.session.get_bind().dialect.name == "postgresql":
        responded = extract("epoch", Ticket.first_response_at - Ticket.created_at)
        resolved = extract("epoch", Ticket.resolved_at - Ticket.created_at)
        row = db.session.execute(select(
            func.percentile_cont(0.5).within_group(responded), func.count(Ticket.first_response_at),
            func.percentile_cont(0.5).within_group(resolved), func.count(Ticket.resolved_at), func.count(),
        ).where(Ticket.created_at >= since)).one()
        return Median(row[0], row[1], row[4]), Median(row[2], row[3], row[4])
    def seconds_after_filing(column):  # SQLite keeps times as text; julianday() reads it
        return (func.julianday(column) - func.julianday(Ticket.created_at)) * 86400

    rows = db.session.execute(select(seconds_after_filing(Ticket.first_response_at),
                                     seconds_after_filing(Ticket.resolved_at))
                              .where(Ticket.created_at >= since)).all()
    responses = [answered for answered, _ in rows if answered is not None]
    resolutions = [resolved for _, resolved in rows if resolved is not None]
    return (Median(statistics.median(responses) if responses else None, len(responses), len(rows)),
            Median(statistics.median(resolutions) if resolutions else None, len(resolutions), len(rows)))
