"""The geometry of the dashboard's SVG charts: pure functions of the figures, drawn by the template
(no script runs in the browser, and the strict CSP forbids inline styles)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from portal.enums import Department, TicketStatus
from portal.tickets.board.figures import Median

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
    totals = {d: sum(counts.get((d, s), 0) for s in OPEN_ORDER) for d in Department}
    scale = width / max([*totals.values(), 1])
    bars = []
    for department in Department:
        x = 0.0
        segments = []
        for status in OPEN_ORDER:
            value = counts.get((department, status), 0)
            segments.append(Segment(status, status.title, value, round(x, 1), round(value * scale, 1)))
            x += value * scale
        bars.append(Bar(department.title, totals[department], segments))
    return bars


def simple_bars(values: dict[str, int], width: float) -> list[Bar]:
    """One bar per department, scaled to the largest."""
    scale = width / max([*values.values(), 1])
    bars = []
    for department in Department:
        value = values.get(department, 0)
        bars.append(Bar(department.title, value,
                        [Segment(department, department.title, value, 0.0, round(value * scale, 1))]))
    return bars


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
