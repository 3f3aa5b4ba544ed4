"""The two printable documents of a breach incident: the notice to the authority laid out as Form
No. 08 with the content Decree 356/2025 Art. 28 asks for, and the written record of the violation
(Law 91/2025 Art. 23(2)).

Both name no customer: they count the affected customers. The notice is official in Vietnamese, the
language of the authority it is sent to; an English rendering of the same text is offered for
reading (:data:`DOCUMENT_LOCALES`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from babel.dates import format_date
from sqlalchemy import func, select

from portal.db import db
from portal.i18n import DEFAULT_LOCALE
from portal.incidents.models import AffectedCustomer, BreachIncident, IncidentComplaint
from portal.staff.models import StaffMember
from portal.tickets.models import Ticket, format_reference

# The official document is Vietnamese; English is a reading aid.
DOCUMENT_LOCALES = ("vi", "en")


@dataclass(frozen=True)
class IncidentFacts:
    """What the documents state of one incident."""

    incident: BreachIncident
    affected_count: int
    notified_by_name: str | None  # who sent the notice to the authority, if it was sent
    complaint_references: list[str]


@dataclass(frozen=True)
class Contact:
    """Who the authority contacts about personal-data protection. ``unit`` is empty when no
    department or person is configured: the document leaves a marked blank to fill in by hand."""

    unit: str
    address: str
    email: str
    phone: str


def document_locale(asked: str | None) -> str:
    """The language of a printed document: Vietnamese unless English is asked for."""
    return asked if asked in DOCUMENT_LOCALES else DEFAULT_LOCALE


def incident_facts(incident_id: int) -> IncidentFacts | None:
    """The incident with its count of affected customers and the name of who notified the
    authority (one statement), and the references of the complaints raised into it (one more)."""
    affected = (select(func.count()).select_from(AffectedCustomer)
                .where(AffectedCustomer.incident_id == BreachIncident.id).scalar_subquery())
    notifier = (select(StaffMember.full_name).where(StaffMember.id == BreachIncident.authority_notified_by_id)
                .scalar_subquery())
    row = db.session.execute(select(BreachIncident, affected, notifier)
                             .where(BreachIncident.id == incident_id)).one_or_none()
    if row is None:
        return None
    incident, affected_count, notified_by = row
    tickets = db.session.execute(
        select(Ticket.id, Ticket.created_at).join(IncidentComplaint, IncidentComplaint.ticket_id == Ticket.id)
        .where(IncidentComplaint.incident_id == incident_id).order_by(Ticket.id)).all()
    return IncidentFacts(incident=incident, affected_count=affected_count or 0, notified_by_name=notified_by,
                         complaint_references=[format_reference(created.year, number) for number, created in tickets])


def protection_contact(config) -> Contact:
    """The data-protection contact: the department or person configured
    (``PORTAL_DATA_PROTECTION_CONTACT``) at the company's address, e-mail and phone, which the
    privacy notice gives as those of the unit that collects and manages personal data."""
    return Contact(unit=(config.get("DATA_PROTECTION_CONTACT") or "").strip(), address=config["COMPANY_ADDRESS"],
                   email=config["COMPANY_EMAIL"], phone=config["COMPANY_PHONE"])


def written_date(day: date, locale: str) -> str:
    """A date as official documents write it: "ngày 30 tháng 11 năm 2026", "30 November 2026"."""
    if locale == "vi":
        return f"ngày {day.day:02d} tháng {day.month:02d} năm {day.year}"
    return format_date(day, "d MMMM yyyy", locale=locale)


def notice_state(incident: BreachIncident, now: datetime) -> str:
    """Where the notice to the authority stands: ``sent``, ``sent_late``, ``due`` or ``overdue``."""
    late = incident.authority_notice_late(now)
    if incident.authority_notified_at is not None:
        return "sent_late" if late else "sent"
    return "overdue" if late else "due"
