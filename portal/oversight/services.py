"""The insider-leak signal and the board's reading of staff access. Plain functions taking ``now``;
they flush, the job or view commits.

A member's count for a local day is the number of different customers whose data a staff page showed
them that day (the access log, :mod:`portal.audit.access_log`), reviews of a colleague's access
excepted: a review shows the customers the colleague saw, and is itself logged and audited. Their
usual number is the average count over the days of the previous ``USUAL_DAYS`` on which they were shown
any customer's data. The thresholds are :mod:`portal.settings.insider_alerts`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from flask_babel import format_decimal
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, case, func, or_, select

from portal.account.models import Customer
from portal.audit.access_log import log_customer_views
from portal.audit.models import CustomerDataView
from portal.audit.services import record
from portal.db import MAX_ROW_ID, db, insert_skipping_existing
from portal.enums import Role, ViewedPage
from portal.i18n import DEFAULT_LOCALE
from portal.local_time import local_date
from portal.outbox.services import queue_email
from portal.oversight.models import OversightAlert
from portal.permissions import can
from portal.settings.insider_alerts import USUAL_DAYS, insider_thresholds
from portal.staff.models import StaffMember

# The pages of the access log as the board reads them (their own titles are written for the customer).
PAGE_TITLES = {
    ViewedPage.TICKET: _l("a request's page"),
    ViewedPage.QUEUE: _l("a list of requests"),
    ViewedPage.SEARCH: _l("a search"),
    ViewedPage.RECORD: _l("the customer's record"),
    ViewedPage.INCIDENT: _l("a breach incident's page"),
    ViewedPage.REVIEW: _l("a review of a colleague's access"),
}
RECENT_ALERTS = 50
LINES_PER_PAGE = 100  # (day, customer) lines of a member's access history per page


def _daily_counts(first_day: date, last_day: date, staff_ids=None):
    """Per member and local day from ``first_day`` to ``last_day``: how many different customers."""
    view = CustomerDataView
    statement = (select(view.staff_id, view.viewed_on, func.count(func.distinct(view.customer_id)).label("n"))
                 .where(view.viewed_on >= first_day, view.viewed_on <= last_day, view.page != ViewedPage.REVIEW)
                 .group_by(view.staff_id, view.viewed_on))
    if staff_ids is not None:
        statement = statement.where(view.staff_id.in_(sorted(staff_ids)))
    return statement


def one_decimal(value: float) -> str:
    """A count or an average as the reader's language writes it, to one decimal at most (2,5)."""
    return format_decimal(value, format="#,##0.#")


def usual_of(counts: dict[date, int], day: date) -> float:
    """The average count over the days of the ``USUAL_DAYS`` before ``day`` with any view (0: none)."""
    before = [n for seen, n in counts.items() if day - timedelta(days=USUAL_DAYS) <= seen < day and n]
    return sum(before) / len(before) if before else 0.0


def is_unusual(count: int, usual: float, thresholds: dict) -> bool:
    return count > thresholds["distinct_customers"] and count > thresholds["factor"] * usual


# --- the job --------------------------------------------------------------------------------------


def raise_alerts(now: datetime) -> int:
    """Raise an alert for each member whose count yesterday or today (local days: a spike just before
    midnight is still caught) passes both thresholds, once per member per day, and e-mail every
    active board member. Return how many alerts were raised.

    One cheap statement when nobody is near the threshold: only a member past the absolute number
    that day has their previous 30 days read."""
    thresholds, today = insider_thresholds(), local_date(now)
    days = (today - timedelta(days=1), today)
    daily = _daily_counts(days[0], days[1]).subquery()
    raised = select(OversightAlert.id).where(OversightAlert.staff_id == daily.c.staff_id,
                                             OversightAlert.day == daily.c.viewed_on)
    candidates = db.session.execute(select(daily.c.staff_id, daily.c.viewed_on, daily.c.n).where(
        daily.c.n > thresholds["distinct_customers"], ~raised.exists())).all()
    if not candidates:
        return 0
    history: dict[int, dict[date, int]] = {}
    for staff_id, day, n in db.session.execute(_daily_counts(
            days[0] - timedelta(days=USUAL_DAYS), days[1], {row.staff_id for row in candidates})):
        history.setdefault(staff_id, {})[day] = n
    count = 0
    for staff_id, day, n in sorted(candidates):
        usual = usual_of(history.get(staff_id, {}), day)
        if is_unusual(n, usual, thresholds) and _raise(staff_id, day, n, usual, thresholds, now):
            count += 1
    return count


def _raise(staff_id: int, day: date, count: int, usual: float, thresholds: dict, now: datetime) -> bool:
    """Store the alert and e-mail the board; False if another worker raised it first."""
    values = {"staff_id": staff_id, "day": day, "distinct_customers": count, "usual": round(usual, 1),
              "threshold_customers": thresholds["distinct_customers"], "threshold_factor": thresholds["factor"],
              "raised_at": now}
    # Of two workers raising the same alert, one stores it.
    stored = db.session.execute(insert_skipping_existing(OversightAlert.__table__, ["staff_id", "day"])
                                .values(**values).returning(OversightAlert.__table__.c.id)).scalar()
    if stored is None:
        return False
    alert = OversightAlert(id=stored, **values)  # for the e-mail; the row is stored already
    member = db.session.get(StaffMember, staff_id)
    record(None, "oversight.alert_raised", member, day=day.isoformat(), customers=count, usual=alert.usual)
    board = db.session.scalars(select(StaffMember).where(StaffMember.role == Role.BOARD,
                                                         StaffMember.is_active.is_(True)).order_by(StaffMember.id))
    for recipient in board:
        queue_email(recipient.email, "oversight_alert", recipient.preferred_locale or DEFAULT_LOCALE,
                    "oversight_alert", alert=alert, member=member, reader=recipient, number=one_decimal)
    return True


# --- the board's pages ----------------------------------------------------------------------------


@dataclass
class MemberCounts:
    staff_id: int
    name: str
    role: Role
    is_active: bool
    today: int
    usual: float
    unusual: bool


def recent_alerts(limit: int = RECENT_ALERTS) -> list:
    """The newest alerts with their member's name and role, newest first."""
    return list(db.session.execute(
        select(OversightAlert, StaffMember.full_name, StaffMember.role)
        .join(StaffMember, StaffMember.id == OversightAlert.staff_id)
        .order_by(OversightAlert.day.desc(), OversightAlert.id.desc()).limit(limit)))


def member_counts(now: datetime, thresholds: dict) -> list[MemberCounts]:
    """Every member who sees customers' data (and anyone else shown some in the last 30 days): today's
    count and their usual, computed in one statement; the busiest today first."""
    today = local_date(now)
    daily = _daily_counts(today - timedelta(days=USUAL_DAYS), today).subquery()
    per_member = (select(daily.c.staff_id,
                         func.sum(case((daily.c.viewed_on == today, daily.c.n), else_=0)).label("today"),
                         func.avg(case((daily.c.viewed_on < today, daily.c.n), else_=None)).label("usual"))
                  .group_by(daily.c.staff_id).subquery())
    viewing_roles = sorted(role for role in Role if can(role, "customer.view"))
    rows = db.session.execute(
        select(StaffMember.id, StaffMember.full_name, StaffMember.role, StaffMember.is_active,
               per_member.c.today, per_member.c.usual)
        .outerjoin(per_member, per_member.c.staff_id == StaffMember.id)
        .where(or_(per_member.c.staff_id.is_not(None),
                   and_(StaffMember.is_active.is_(True), StaffMember.role.in_(viewing_roles))))).all()
    members = [MemberCounts(row.id, row.full_name, row.role, row.is_active, int(row.today or 0),
                            float(row.usual or 0), is_unusual(int(row.today or 0), float(row.usual or 0), thresholds))
               for row in rows]
    return sorted(members, key=lambda m: (-m.today, m.name, m.staff_id))


@dataclass
class HistoryLine:
    """One customer whose data the member was shown on one day."""

    day: date
    customer_id: int
    customer_name: str
    count: int = 0
    last_at: datetime | None = None
    pages: list[ViewedPage] = field(default_factory=list)
    references: list[str] = field(default_factory=list)


@dataclass
class MemberHistory:
    lines: list[HistoryLine]
    older: str | None  # the ``before`` of the next (older) page; None on the last page


def parse_cursor(text: str | None) -> tuple[date, int] | None:
    """``2026-11-30.123`` (a day and a customer number) or None; anything else is None too."""
    day, _, customer = (text or "").partition(".")
    try:
        cursor = date.fromisoformat(day), int(customer)
    except ValueError:
        return None
    return cursor if 0 < cursor[1] <= MAX_ROW_ID else None


def member_history(staff_id: int, before: tuple[date, int] | None = None,
                   per_page: int = LINES_PER_PAGE) -> MemberHistory:
    """The customers whose data ``staff_id`` was shown, one line per customer per day, newest day
    first, paged by (day, customer). One statement, whatever the length of the whole history."""
    view = CustomerDataView
    pairs = select(view.viewed_on, view.customer_id).where(view.staff_id == staff_id).distinct()
    if before is not None:
        pairs = pairs.where(or_(view.viewed_on < before[0],
                                and_(view.viewed_on == before[0], view.customer_id < before[1])))
    pairs = pairs.order_by(view.viewed_on.desc(), view.customer_id.desc()).limit(per_page + 1).subquery()
    groups = (view.viewed_on, view.customer_id, Customer.full_name, view.page, view.ticket_reference)
    rows = db.session.execute(
        select(*groups, func.count(), func.max(view.viewed_at))
        .join(pairs, and_(pairs.c.viewed_on == view.viewed_on, pairs.c.customer_id == view.customer_id))
        .join(Customer, Customer.id == view.customer_id)
        .where(view.staff_id == staff_id).group_by(*groups)).all()
    lines: dict[tuple[date, int], HistoryLine] = {}
    for day, customer_id, name, page, reference, count, last_at in rows:
        line = lines.setdefault((day, customer_id), HistoryLine(day, customer_id, name))
        line.count += count
        line.last_at = max(line.last_at, last_at) if line.last_at else last_at
        if reference and reference not in line.references:
            line.references.append(reference)
        if page not in line.pages:
            line.pages.append(page)
    ordered = sorted(lines.values(), key=lambda line: (line.day, line.customer_id), reverse=True)
    for line in ordered:
        line.references.sort()
        line.pages.sort(key=list(ViewedPage).index)
    shown = ordered[:per_page]
    older = f"{shown[-1].day.isoformat()}.{shown[-1].customer_id}" if len(ordered) > per_page else None
    return MemberHistory(shown, older)


def log_review(viewer, history: MemberHistory, reviewed: StaffMember, now: datetime) -> None:
    """The customers named on a review page were shown to ``viewer``: log them (page REVIEW), and
    audit the review of ``reviewed``'s access."""
    log_customer_views(viewer, [line.customer_id for line in history.lines], ViewedPage.REVIEW, now)
    record(viewer, "oversight.history_viewed", reviewed, customers=len({line.customer_id for line in history.lines}))
