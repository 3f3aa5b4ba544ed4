"""The two printable documents of a breach incident: the notice to the authority laid out as Form
No. 08 with the content Decree 356/2025 Art. 28 asks for, and the written record of the violation
(Law 91/2025 Art. 23(2)).

Both name no customer: they count the affected customers. The notice is official in Vietnamese, the
language of the authority it is sent to; an English rendering of the same text is offered for
reading (:data:`DOCUMENT_LOCALES`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from babel.dates import format_date

from portal.i18n import DEFAULT_LOCALE
from portal.incidents.models import BreachIncident
from portal.incidents.queries import IncidentView, incident_complaints, incident_view
from portal.incidents.services import AuthorityClock

# The official document is Vietnamese; English is a reading aid.
DOCUMENT_LOCALES = ("vi", "en")


@dataclass(frozen=True)
class IncidentFacts:
    """What the documents state of one incident: the incident's page's own view of it (its counts,
    who notified the authority) and the references of the complaints raised into it."""

    view: IncidentView
    complaint_references: list[str]

    @property
    def incident(self) -> BreachIncident:
        return self.view.incident


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
    """The incident as its page reads it (one statement) and its complaints' references (one more)."""
    view = incident_view(incident_id)
    if view is None:
        return None
    return IncidentFacts(view, [row.reference for row in incident_complaints(incident_id)])


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


def notice_state(clock: AuthorityClock) -> str:
    """Where the notice to the authority stands, as the documents and the inspection pack word it:
    ``sent``, ``sent_late``, ``due`` or ``overdue``, read from the incident's 72-hour clock."""
    if clock.state == "sent":
        return "sent_late" if clock.late else "sent"
    return "overdue" if clock.state == "late" else "due"
