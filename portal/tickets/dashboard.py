"""The board's morning dashboard: figures aggregated in SQL, and the geometry of its SVG charts.

Every figure is a count over a range of an index (department, status and due date; or the creation
date for the last 30 days), so the page costs the same at a thousand tickets as at a million; the
counts travel in one statement. Medians use ``percentile_cont`` on PostgreSQL; SQLite has no such
function, so there they are computed from the last 30 days' rows.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone

from sqlalchemy import extract, func, select

from portal.db import db
from portal.enums import Department, TicketStatus
from portal.tickets.due import LOCAL_TZ, local_date
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
    unfinished = [(department.value, status) for department in Department for status in OPEN_STATUSES]
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
        start = max(since, datetime.combine(day, time(0), LOCAL_TZ).astimezone(timezone.utc))
        end = datetime.combine(day + timedelta(days=1), time(0), LOCAL_TZ).astimezone(timezone.utc)
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


# --- chart geometry (pure) -----------------------------------------------------------------------

OPEN_ORDER = (TicketStatus.NEW, TicketStatus.OPEN, TicketStatus.WAITING)


@dataclass(frozen=True)
class Segment:
    key: str
    label: object
    value: int
    x: float
    width: float


@dataclass(frozen=True)
class Bar:
    label: object
    total: int
    segments: list[Segment]


def stacked_bars(counts: dict[tuple[str, str], int], width: float) -> list[Bar]:
    """One bar per department, a segment per unfinished status, scaled to the largest bar."""
    totals = {d: sum(counts.get((d.value, s.value), 0) for s in OPEN_ORDER) for d in Department}
    scale = width / max([*totals.values(), 1])
    bars = []
    for department in Department:
        x = 0.0
        segments = []
        for status in OPEN_ORDER:
            value = counts.get((department.value, status.value), 0)
            segments.append(Segment(status.value, status.title, value, round(x, 1), round(value * scale, 1)))
            x += value * scale
        bars.append(Bar(department.title, totals[department], segments))
    return bars


def simple_bars(values: dict[str, int], width: float) -> list[Bar]:
    """One bar per department, scaled to the largest."""
    scale = width / max([*values.values(), 1])
    return [Bar(d.title, values.get(d.value, 0),
                [Segment(d.value, d.title, values.get(d.value, 0), 0.0, round(values.get(d.value, 0) * scale, 1))])
            for d in Department]


def target_bars(items: list[tuple[object, Median, float]], width: float) -> list[tuple[Bar, float]]:
    """A bar per median (in days) and the x of its target's marker, on one shared scale."""
    days = [(median.seconds or 0) / 86400 for _, median, _ in items]
    scale = width / max([*days, *(target for _, _, target in items), 0.001])
    return [(Bar(label, median.count, [Segment("median", label, median.count, 0.0, round(value * scale, 1))]),
             round(target * scale, 1)) for (label, median, target), value in zip(items, days, strict=True)]


@dataclass(frozen=True)
class Column:
    day: date
    value: int
    x: float
    y: float
    width: float
    height: float


def daily_columns(series: list[tuple[date, int]], width: float, height: float) -> list[Column]:
    """A column per day, scaled so the busiest day is ``height`` tall."""
    step = width / max(len(series), 1)
    top = max([value for _, value in series] + [1])
    columns = []
    for n, (day, value) in enumerate(series):
        tall = round(value * height / top, 1)
        columns.append(Column(day, value, round(n * step + step * 0.15, 1), round(height - tall, 1),
                              round(step * 0.7, 1), tall))
    return columns
