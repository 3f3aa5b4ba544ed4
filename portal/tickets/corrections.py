"""Customer care's side of corrections: My data's news becomes a correction request, and staff decide
on a proposed name.

One open correction request per customer collects the changes: the first change opens one, later
changes join it as entries while it is new, open or waiting; once it is finished, the next change
opens another. A proposed name joins it the same way.
"""

from __future__ import annotations

from datetime import datetime

from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from portal import clock
from portal.account import corrections as account_corrections
from portal.account.models import field_title
from portal.account.signals import data_corrected, name_change_proposed
from portal.audit.services import record
from portal.auth.services import address_hint
from portal.db import db
from portal.outbox.services import queue_email
from portal.staff.models import StaffMember
from portal.tickets import services
from portal.tickets.kinds.correction import APPROVED, REJECTED, CorrectionDetails
from portal.tickets.models import OPEN_STATUSES, Ticket

KIND = "correction"


def open_correction(customer_id: int) -> Ticket | None:
    """The customer's open correction request, which collects their changes."""
    statement = (select(Ticket).where(Ticket.customer_id == customer_id, Ticket.kind == KIND,
                                      Ticket.status.in_(OPEN_STATUSES)).order_by(Ticket.id).limit(1))
    return db.session.scalars(statement).first()


def _entry(change) -> dict:
    return {"field": change.field, "old": change.old_value, "new": change.new_value,
            "at": change.changed_at.isoformat()}


def _message(entries: list[dict], name: str | None, locale: str) -> str:
    """The request's first message, in the customer's language: what they changed or ask for."""
    with force_locale(locale):
        lines = [_("I corrected my data on My data:")] if entries else []
        lines += [f"- {field_title(entry['field'])}: {entry['old'] or '—'} → {entry['new'] or '—'}"
                  for entry in entries]
        if name:
            lines.append(_("Please change my full name to: %(name)s", name=name))
    return "\n".join(lines)


def _collecting(customer, email: str, locale: str, now: datetime, entries: list[dict],
                name: str | None = None) -> Ticket:
    """The open correction request these changes join (a new one if there is none) and its details."""
    ticket = open_correction(customer.id)
    if ticket is None:
        details = CorrectionDetails(changes=entries, proposed_name=name)
        ticket, _created = services.create_ticket(kind=KIND, body=_message(entries, name, locale),
                                                  requester_email=email, customer_id=customer.id, locale=locale,
                                                  now=now, details=details)
        return ticket
    details = services.details_of(ticket)
    if details is None:
        details = CorrectionDetails(ticket_id=ticket.id, changes=[])
        db.session.add(details)
    details.changes = [*(details.changes or []), *entries]
    if name:
        details.proposed_name, details.name_decision, details.name_reason = name, None, None
        details.name_decided_at = details.name_decided_by_id = None
    services.add_event(ticket, "name_proposed" if name else "correction_added", now, count=len(entries))
    ticket.updated_at = now
    record(f"customer:{customer.id}", "ticket.correction_added", ticket, fields=[e["field"] for e in entries],
           name=bool(name))
    return ticket


@data_corrected.connect
def _changes_to_care(customer, changes, email: str, locale: str, now: datetime, **_extra) -> str:
    return _collecting(customer, email, locale, now, [_entry(change) for change in changes]).reference


@name_change_proposed.connect
def _name_to_care(customer, name: str, email: str, locale: str, now: datetime, **_extra) -> str:
    ticket = _collecting(customer, email, locale, now, [], name)
    db.session.flush()
    return ticket.reference


NOTHING_TO_DECIDE = _l("There is no proposed name waiting for a decision on this request.")
REASON_NEEDED = _l("Give the customer the reason for refusing the new name.")


def decide_name(ticket: Ticket, staff: StaffMember, approve: bool, reason: str | None, now: datetime) -> None:
    """Approve the proposed name (it replaces the record's, in its history) or reject it with a
    reason; either way the customer is e-mailed the decision."""
    details = services.details_of(ticket)
    if details is None or not details.name_waits or ticket.customer is None:
        raise services.TicketRuleError(NOTHING_TO_DECIDE)
    reason = (reason or "").strip() or None
    if not approve and not reason:
        raise services.TicketRuleError(REASON_NEEDED)
    customer = ticket.customer
    customer.proposed_full_name = details.proposed_name  # what staff saw is what is decided
    account_corrections.decide_name(customer, approve=approve, staff=staff, now=now)
    details.name_decision = APPROVED if approve else REJECTED
    details.name_reason = None if approve else reason
    details.name_decided_at, details.name_decided_by_id = now, staff.id
    services.add_event(ticket, "name_approved" if approve else "name_rejected", now, staff, reason=reason)
    if ticket.first_response_at is None:
        ticket.first_response_at = now  # the e-mailed decision answers the customer
    ticket.updated_at = now
    record(staff, "ticket.name_decided", ticket, decision=details.name_decision)
    _tell_customer(ticket, details)


def _tell_customer(ticket: Ticket, details: CorrectionDetails) -> None:
    customer = ticket.customer
    locale = (customer.preferred_locale if customer and customer.preferred_locale else None) or ticket.requester_locale
    queue_email(ticket.requester_email, "correction_name_decided", locale, "correction_name_decided",
                ticket=ticket, approved=details.name_decision == APPROVED, name=details.proposed_name,
                reason=details.name_reason, next_path=f"/requests/{ticket.reference}",
                sign_in_hint=address_hint(ticket.requester_email, clock.now()))
