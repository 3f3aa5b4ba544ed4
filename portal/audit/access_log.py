"""The access log: which staff member was shown which customer's data, and the history the customer
reads on My data.

Any staff page that shows a customer's name, e-mail address, phone number or address counts as a
view of that customer's data. A page logs every customer it shows with one INSERT, whatever their
number. The customer sees one line per person per local day (Asia/Ho_Chi_Minh): who, in which role,
how many times, and on which pages or requests; the history is paged by days.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from functools import lru_cache

from sqlalchemy import JSON, Integer, bindparam, func, insert, select
from sqlalchemy.dialects import postgresql

from portal.audit.models import CustomerDataView
from portal.db import db, plain_connection
from portal.enums import Role, ViewedPage
from portal.local_time import local_date

DAYS_PER_PAGE = 14
# The kinds of page named by their title on My data (a ticket page is named by its reference).
LIST_PAGES = (ViewedPage.QUEUE, ViewedPage.SEARCH, ViewedPage.RECORD, ViewedPage.INCIDENT, ViewedPage.REVIEW)


def log_customer_views(staff, customer_ids, page: ViewedPage, now: datetime, ticket=None) -> int:
    """Log that ``staff`` was shown the data of each customer of ``customer_ids`` on one page, with
    one INSERT for them all. ``ticket`` (anything with ``id`` and ``reference``) is the ticket whose
    page it was. Return how many customers were logged."""
    customers = sorted(set(customer_ids))
    if not customers:
        return 0
    shared = {"staff_id": staff.id, "staff_name": staff.full_name, "staff_role": staff.role, "page": page,
              "ticket_id": ticket.id if ticket is not None else None,
              "ticket_reference": ticket.reference if ticket is not None else None,
              "viewed_at": now, "viewed_on": local_date(now)}
    connection = plain_connection()
    connection.execute(_log_statement(connection.dialect.name), {"customer_ids": customers, **shared})
    return len(customers)


_SHARED_COLUMNS = ("staff_id", "staff_name", "staff_role", "page", "ticket_id", "ticket_reference", "viewed_at",
                   "viewed_on")


@lru_cache(maxsize=2)
def _log_statement(dialect: str):
    """One INSERT of a row per customer, whatever their number, built once per database: the ids go
    as one array (PostgreSQL) or JSON list (SQLite) that the statement unnests. Not an executemany
    (a statement per row, each a transaction of its own on a page that changes nothing else) nor a
    many-row VALUES (compiled afresh for each page). On a page that changes nothing else it is
    committed at once, on its own (``portal.db.plain_connection``)."""
    table = CustomerDataView.__table__
    if dialect == "postgresql":
        ids = func.unnest(bindparam("customer_ids", type_=postgresql.ARRAY(Integer))).table_valued("value")
        ids = ids.render_derived()
    else:
        ids = func.json_each(bindparam("customer_ids", type_=JSON)).table_valued("value")
    rows = select(ids.c.value, *(bindparam(name, type_=table.c[name].type) for name in _SHARED_COLUMNS))
    return insert(table).from_select(["customer_id", *_SHARED_COLUMNS], rows)


@dataclass
class AccessLine:
    """What one staff member saw of the customer's data on one day."""

    day: date
    staff_name: str
    staff_role: Role
    count: int = 0
    last_at: datetime | None = None
    pages: list[ViewedPage] = field(default_factory=list)  # the lists and searches that showed it
    references: list[str] = field(default_factory=list)  # the requests whose page showed it


@dataclass
class AccessHistory:
    lines: list[AccessLine]
    older: date | None  # pass as ``before`` for the next (older) page; None on the last page


def access_history(customer_id: int, before: date | None = None, days: int = DAYS_PER_PAGE) -> AccessHistory:
    """The newest ``days`` days with views of this customer's data (older than ``before``, if
    given), one line per person per day, newest first. One statement: a range of the index on
    (customer, day, staff), whatever the length of the whole history."""
    view = CustomerDataView
    chosen_days = select(view.viewed_on).where(view.customer_id == customer_id).distinct()
    if before is not None:
        chosen_days = chosen_days.where(view.viewed_on < before)
    chosen_days = chosen_days.order_by(view.viewed_on.desc()).limit(days + 1)
    groups = (view.viewed_on, view.staff_id, view.staff_name, view.staff_role, view.page, view.ticket_reference)
    rows = db.session.execute(select(*groups, func.count(), func.max(view.viewed_at))
                              .where(view.customer_id == customer_id, view.viewed_on.in_(chosen_days))
                              .group_by(*groups)).all()
    shown = sorted({row.viewed_on for row in rows}, reverse=True)
    older = shown[days - 1] if len(shown) > days else None
    return AccessHistory(_lines([row for row in rows if row.viewed_on in shown[:days]]), older)


def _lines(rows) -> list[AccessLine]:
    """Merge the (day, member, name, role, page, ticket) groups into one line per member per day,
    named as in their latest view that day."""
    lines: dict[tuple[date, int], AccessLine] = {}
    for day, staff_id, name, role, page, reference, count, last_at in sorted(rows, key=lambda row: row[7]):
        line = lines.setdefault((day, staff_id), AccessLine(day, name, role))
        line.staff_name, line.staff_role, line.last_at = name, role, last_at
        line.count += count
        if page is ViewedPage.TICKET and reference and reference not in line.references:
            line.references.append(reference)
        elif page in LIST_PAGES and page not in line.pages:
            line.pages.append(page)
    for line in lines.values():
        line.references.sort()
        line.pages.sort(key=LIST_PAGES.index)
    return sorted(lines.values(), key=lambda line: (line.day, line.last_at), reverse=True)
