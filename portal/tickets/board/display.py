"""What the board's templates share: titles of stored values, a date formatter, durations."""

from __future__ import annotations

from datetime import timedelta

from babel.dates import format_datetime
from flask_babel import format_decimal, format_timedelta, get_locale, get_timezone
from flask_babel import gettext as _

from portal.enums import Department, Priority, TicketStatus
from portal.templating import DATETIME_PATTERNS
from portal.tickets.board import bp
from portal.tickets.board.forms import VIEW_TITLES
from portal.tickets.kinds import all_kinds
from portal.tickets.models import OPEN_STATUSES


@bp.context_processor
def titles():
    """Titles for the values stored as short strings, translated once per page for the board's templates."""
    return {"view_titles": VIEW_TITLES, "department_title": lambda value: Department(value).title,
            "priority_title": lambda value: Priority(value).title,
            "kind_titles": {kind: str(kind.title) for kind in all_kinds()},
            "status_titles": {status: str(status.title) for status in TicketStatus},
            "department_titles": {department: str(department.title) for department in Department},
            "open_statuses": OPEN_STATUSES,
            "duration": duration, "short_datetime": short_datetime_formatter()}


def short_datetime_formatter():
    """The ``local_datetime`` filter's output, with the locale and time zone looked up once per
    page rather than once per date: a queue page shows a hundred dates."""
    locale, zone = get_locale(), get_timezone()
    pattern = DATETIME_PATTERNS.get(str(locale), "short")
    return lambda value: format_datetime(value, pattern, tzinfo=zone, locale=locale) if value else ""


def duration(value: timedelta) -> str:
    """A median time as a board member reads it: minutes, hours up to two days, then days."""
    hours = value.total_seconds() / 3600
    if hours < 1:
        return format_timedelta(value, threshold=2)
    if hours < 48:
        return _("%(hours)s h", hours=format_decimal(round(hours, 1)))
    return _("%(days)s days", days=format_decimal(round(hours / 24, 1)))
