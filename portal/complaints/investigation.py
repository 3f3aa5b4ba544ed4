"""The complaint investigation panel on the board's page of a leak complaint or misuse report, for
members who review staff access (``access.review``): who among staff was shown the complainant's
data in the last 30 days (one line per member per day, linked to that member's access history), and
the other complaints that name the same third party — the same name (case and spaces aside), phone
number (E.164, as stored) or web address (host and path, whatever the scheme, a "www." or a
trailing slash), compared by keys stored beside them and indexed (``leak_complaint.name_key``,
``url_key``).

The complainant's own data is already beside the thread on the ticket page, so the panel does not
repeat it. The other complaints are named by reference, kind, date and status, never by their
customers, so the panel shows no other customer's data.

The panel is a live part of the ticket page (``ticket_page.live_part``): drawn for every view, even
of a kept page, so a colleague's access a moment ago is there. Its data is read with one statement:
the access lines and the similar complaints, each limited, in one UNION ALL.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from flask import render_template
from sqlalchemy import Date, Integer, String, case, cast, func, literal, null, or_, select, type_coerce, union_all

from portal.audit.models import CustomerDataView
from portal.complaints.services import COMPLAINT_KINDS
from portal.db import db
from portal.enums import Role, TicketStatus
from portal.local_time import local_date
from portal.tickets.board.queries import TicketStanding
from portal.tickets.board.ticket_page import live_part
from portal.tickets.kinds import get_kind
from portal.tickets.kinds.leak_complaint import LeakComplaintDetails
from portal.tickets.models import Ticket, format_reference

ACCESS_DAYS = 30
ACCESS_LINES = 300  # at most, newest first: ten members a day for 30 days
SIMILAR_COMPLAINTS = 50  # at most, newest first


@dataclass
class AccessLine:
    day: date
    staff_id: int
    staff_name: str
    staff_role: Role
    count: int
    first_at: datetime
    last_at: datetime


@dataclass
class SimilarComplaint:
    reference: str
    kind: object
    status: TicketStatus
    created_at: datetime
    matched: list[str] = field(default_factory=list)  # "name", "phone", "url"


@dataclass
class Investigation:
    customer_id: int | None
    access: list[AccessLine]
    since: date
    similar: list[SimilarComplaint]
    third_party_named: bool  # whether this complaint names a third party to compare


def investigate(ticket: TicketStanding, now: datetime) -> Investigation:
    """The panel's data for the ticket, with one statement (none if there is nothing to look up)."""
    since = local_date(now) - timedelta(days=ACCESS_DAYS - 1)
    details = ticket.details
    named = {"name": getattr(details, "third_party_name_key", None) or "",
             "phone": getattr(details, "third_party_phone", None) or "",
             "url": getattr(details, "third_party_url_key", None) or ""}
    parts = []
    if ticket.customer_id:
        parts.append(_access_part(ticket.customer_id, since))
    if any(named.values()):
        parts.append(_similar_part(ticket.id, named))
    rows = db.session.execute(union_all(*parts) if len(parts) > 1 else parts[0]).all() if parts else []
    access, similar = [], []
    for row in rows:
        if row.part == "access":
            access.append(AccessLine(row.day, row.key, row.label, Role(row.role), row.n, row.first_at, row.last_at))
            continue
        matched = [what for what, flag in (("name", row.by_name), ("phone", row.by_phone), ("url", row.by_url))
                   if flag]
        similar.append(SimilarComplaint(format_reference(row.first_at.year, row.key), get_kind(row.label),
                                        TicketStatus(row.role), row.first_at, matched))
    access.sort(key=lambda line: (line.day, line.last_at), reverse=True)
    similar.sort(key=lambda complaint: complaint.created_at, reverse=True)
    return Investigation(ticket.customer_id, access, since, similar, any(named.values()))


def _access_part(customer_id: int, since: date):
    view = CustomerDataView
    lines = (select(literal("access").label("part"), view.viewed_on.label("day"), view.staff_id.label("key"),
                    func.max(view.staff_name).label("label"),
                    type_coerce(func.max(view.staff_role), String).label("role"),
                    func.count().label("n"), func.min(view.viewed_at).label("first_at"),
                    func.max(view.viewed_at).label("last_at"), literal(0).label("by_name"),
                    literal(0).label("by_phone"), literal(0).label("by_url"))
             .where(view.customer_id == customer_id, view.viewed_on >= since)
             .group_by(view.viewed_on, view.staff_id)
             .order_by(view.viewed_on.desc(), func.max(view.viewed_at).desc()).limit(ACCESS_LINES)).subquery()
    return select(lines)


def _flag(condition):
    return case((condition, 1), else_=0)


def _similar_part(ticket_id: int, named: dict[str, str]):
    """The newest complaints naming the same third party: equal keys, each an indexed column."""
    details = LeakComplaintDetails
    same_name = details.third_party_name_key == named["name"] if named["name"] else literal(False)
    same_phone = details.third_party_phone == named["phone"] if named["phone"] else literal(False)
    same_url = details.third_party_url_key == named["url"] if named["url"] else literal(False)
    complaints = (select(literal("similar").label("part"), cast(null(), Date).label("day"), Ticket.id.label("key"),
                         type_coerce(Ticket.kind, String).label("label"),
                         type_coerce(Ticket.status, String).label("role"), cast(literal(0), Integer).label("n"),
                         Ticket.created_at.label("first_at"), Ticket.created_at.label("last_at"),
                         _flag(same_name).label("by_name"), _flag(same_phone).label("by_phone"),
                         _flag(same_url).label("by_url"))
                  .join(details, details.ticket_id == Ticket.id)
                  .where(Ticket.id != ticket_id, or_(same_name, same_phone, same_url))
                  .order_by(Ticket.created_at.desc(), Ticket.id.desc()).limit(SIMILAR_COMPLAINTS)).subquery()
    return select(complaints)


@live_part("complaint_investigation")
def panel(ticket: TicketStanding, member, now: datetime) -> str | None:
    """The panel's HTML on the page of a complaint or misuse report, for a member who reviews staff
    access; None elsewhere."""
    if str(ticket.kind) not in COMPLAINT_KINDS or not member.can("access.review"):
        return None
    return render_template("complaints/_investigation_panel.html", ticket=ticket,
                           investigation=investigate(ticket, now), days=ACCESS_DAYS)
