"""Erasing a customer's data once staff approve their erasure request.

Approval records the decision, works out what must be kept (warranty data until the warranty ends;
invoices and accounting records — the orders — for ``ACCOUNTING_RETENTION_YEARS`` after the last
order), restricts the record and e-mails the customer what is kept, why and until when: one
transaction. Then the erasure runs as steps (:data:`STEPS`), each committed with the record of its
completion (``ErasureRequest.state``). Each step is idempotent and an interrupted erasure resumes at
the step after the last recorded one — when approved again or at the next ``flask worker`` round —
so nothing is ever left half-erased.

What is erased at once: e-mail addresses, consents, the history of changes, notes, sign-in links,
and the personal content of the customer's requests (their messages, staff replies and notes are
replaced by a marker; references, kinds, dates and statuses stay for the register of requests);
open requests are closed. What is kept is restricted from every other use and erased by
:func:`erase_expired` on its date. The audit log records that the erasure happened, never the data.
"""

from __future__ import annotations

from datetime import date, datetime

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, or_, select

from portal.account.models import Customer, DataChange
from portal.audit.services import record
from portal.consent.models import ConsentEntry
from portal.db import db
from portal.email_links import EmailLink
from portal.enums import Channel, EntryKind, TicketStatus
from portal.outbox.services import queue_email
from portal.rights.models import RetainedCategory, RetainedData
from portal.rights.services import suppress
from portal.tickets.kinds.erasure import ERASURE_STATES, ErasureRequest
from portal.tickets.models import OPEN_STATUSES, Ticket
from portal.tickets.services import TicketRuleError, add_event, details_of

ERASED_TEXT = "[erased]"  # what replaces the personal content of a message

NOT_VERIFIED = _l("This request was not filed by someone signed in to this customer's record, so nobody has "
                  "proved they are the customer: it cannot be approved. Reject it, telling them to sign in with an "
                  "address on the record and ask for deletion on the portal.")
DUPLICATE = _l("Another erasure request of this customer (%(reference)s) was already approved: reject this one "
               "as a duplicate.")
NOT_OPEN = _l("Only an open erasure request can be approved.")


def _years_later(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def retention_plan(customer: Customer, today: date) -> dict[RetainedCategory, date]:
    """What must be kept after an erasure, and until when."""
    plan = {}
    warranties = [order.warranty_ends_on for order in customer.orders
                  if order.warranty_ends_on is not None and order.warranty_ends_on >= today]
    if warranties:
        plan[RetainedCategory.WARRANTY] = max(warranties)
    if customer.orders:
        last = max(order.ordered_on for order in customer.orders)
        plan[RetainedCategory.ACCOUNTING] = _years_later(last, current_app.config["ACCOUNTING_RETENTION_YEARS"])
    return plan


def _already_approved(ticket: Ticket) -> ErasureRequest | None:
    statement = select(ErasureRequest).where(ErasureRequest.verified_customer_id == ticket.customer_id,
                                             ErasureRequest.approved_at.is_not(None),
                                             ErasureRequest.ticket_id != ticket.id)
    return db.session.scalars(statement.limit(1)).first()


def approve(ticket: Ticket, staff, now: datetime) -> ErasureRequest:
    """Approve an erasure request (a second approval of the same one only lets it resume)."""
    details = db.session.get(ErasureRequest, ticket.id)
    if details is not None and details.approved_at is not None:
        return details
    if details is None or details.verified_customer_id is None or details.verified_customer_id != ticket.customer_id:
        raise TicketRuleError(NOT_VERIFIED)
    if not ticket.is_open:
        raise TicketRuleError(NOT_OPEN)
    earlier = _already_approved(ticket)
    if earlier is not None:
        raise TicketRuleError(DUPLICATE % {"reference": db.session.get(Ticket, earlier.ticket_id).reference})
    customer = db.session.get(Customer, ticket.customer_id)
    plan = retention_plan(customer, now.date())
    for category, until in plan.items():
        db.session.add(RetainedData(customer_id=customer.id, ticket_id=ticket.id, category=category, until=until))
    details.approved_at, details.approved_by_id, details.state = now, staff.id, "approved"
    customer.restricted_at = customer.restricted_at or now
    ticket.first_response_at = ticket.first_response_at or now
    add_event(ticket, "erasure_approved", now, staff)
    record(staff, "erasure.approved", customer, ticket_id=ticket.id, kept=sorted(str(c) for c in plan))
    db.session.flush()
    _tell_the_customer(ticket, customer, kept_items(ticket.id))
    return details


def _tell_the_customer(ticket: Ticket, customer: Customer, kept: list[RetainedData]) -> None:
    queue_email(ticket.requester_email, "erasure_done", customer.preferred_locale or ticket.requester_locale,
                "erasure_done", ticket=ticket, kept=kept)


def kept_items(ticket_id: int) -> list[RetainedData]:
    return list(db.session.scalars(select(RetainedData).where(RetainedData.ticket_id == ticket_id)
                                   .order_by(RetainedData.until)))


# --- the steps -------------------------------------------------------------------------------------

def _customer_tickets(customer: Customer) -> list[Ticket]:
    """The customer's requests: those of their record, and those filed from one of their addresses
    that nobody linked to a record."""
    addresses = [point.value_normalized for point in customer.contact_points if point.channel is Channel.EMAIL]
    owned = or_(Ticket.customer_id == customer.id,
                Ticket.customer_id.is_(None) & Ticket.requester_email.in_(addresses))
    return list(db.session.scalars(select(Ticket).where(owned).order_by(Ticket.id)))


def suppressed(details: ErasureRequest, customer: Customer, now: datetime) -> None:
    """Put the customer's addresses and phones on the suppression list."""
    for point in customer.contact_points:
        if point.channel is Channel.EMAIL:
            suppress(email=point.value)
        elif point.channel is Channel.PHONE:
            suppress(phone=point.value)


def tickets_anonymised(details: ErasureRequest, customer: Customer, now: datetime) -> None:
    """Close the customer's open requests and erase their personal content; keep their references."""
    for ticket in _customer_tickets(customer):
        if ticket.id != details.ticket_id and ticket.status in OPEN_STATUSES:
            old = ticket.status
            ticket.status, ticket.closed_at = TicketStatus.CLOSED, now
            add_event(ticket, "status", now, old=old, new=TicketStatus.CLOSED, reason="erasure")
        for entry in ticket.entries:
            if entry.kind is not EntryKind.EVENT and entry.body != ERASED_TEXT:
                entry.body = ERASED_TEXT
        kind_details = details_of(ticket)
        if kind_details is not None and ticket.id != details.ticket_id:
            ticket.kind.erase_personal(kind_details)
        if ticket.id != details.ticket_id:
            ticket.requester_email = ""
        ticket.updated_at = now


def contacts_erased(details: ErasureRequest, customer: Customer, now: datetime) -> None:
    """Delete the e-mail addresses, and the phones and addresses unless an open warranty keeps them."""
    keeps_contacts = any(item.category is RetainedCategory.WARRANTY for item in kept_items(details.ticket_id))
    for point in list(customer.contact_points):
        if point.channel is Channel.EMAIL or not keeps_contacts:
            db.session.delete(point)
    db.session.execute(delete(EmailLink).where(EmailLink.customer_id == customer.id))


def erase_consents(customer_id: int) -> None:
    """The one place an erasure removes the consent ledger's entries."""
    db.session.execute(delete(ConsentEntry).where(ConsentEntry.customer_id == customer_id))


def record_erased(details: ErasureRequest, customer: Customer, now: datetime) -> None:
    """Erase notes, consents and the history; the name only if nothing kept needs it."""
    erase_consents(customer.id)
    db.session.execute(delete(DataChange).where(DataChange.customer_id == customer.id))
    customer.notes = ""
    if not kept_items(details.ticket_id):
        customer.full_name = ""


def done(details: ErasureRequest, customer: Customer, now: datetime) -> None:
    """Mark the erasure carried out and the request resolved."""
    ticket = db.session.get(Ticket, details.ticket_id)
    customer.erased_at = customer.erased_at or now
    details.finished_at = now
    if ticket.status is not TicketStatus.RESOLVED:
        old = ticket.status
        ticket.status, ticket.resolved_at, ticket.customer_replied_at = TicketStatus.RESOLVED, now, None
        add_event(ticket, "status", now, old=old, new=TicketStatus.RESOLVED)
        ticket.updated_at = now
    record(None, "erasure.carried_out", customer, ticket_id=ticket.id)


STEPS = (suppressed, tickets_anonymised, contacts_erased, record_erased, done)


def carry_out(details: ErasureRequest, now: datetime, step_done) -> None:
    """Run the steps not yet done, recording each; ``step_done()`` (the caller's commit) follows each."""
    customer = db.session.get(Customer, details.verified_customer_id)
    for step in STEPS:
        # Held until the step's commit: a worker resuming the same erasure waits, then sees it done.
        db.session.refresh(details, with_for_update=True)
        if ERASURE_STATES.index(details.state) >= ERASURE_STATES.index(step.__name__):
            continue
        step(details, customer, now)
        details.state = step.__name__
        db.session.flush()
        step_done()


def unfinished(limit: int = 20) -> list[ErasureRequest]:
    """Approved erasures not yet carried out to the end (interrupted), each held for this worker."""
    statement = (select(ErasureRequest).where(ErasureRequest.approved_at.is_not(None),
                                              ErasureRequest.state.not_in(("done", "rejected")))
                 .order_by(ErasureRequest.ticket_id).limit(limit).with_for_update(skip_locked=True))
    return list(db.session.scalars(statement))


def erase_expired(today: date, now: datetime) -> int:
    """Erase what was kept after an erasure once its date has passed; return how many items."""
    statement = (select(RetainedData).where(RetainedData.erased_at.is_(None), RetainedData.until < today)
                 .order_by(RetainedData.id).limit(100).with_for_update(skip_locked=True))
    items = list(db.session.scalars(statement))
    for item in items:
        customer = db.session.get(Customer, item.customer_id)
        if item.category is RetainedCategory.WARRANTY:
            for point in list(customer.contact_points):
                db.session.delete(point)
        else:
            for order in list(customer.orders):
                db.session.delete(order)
        item.erased_at = now
        db.session.flush()
        if all(other.erased_at is not None for other in kept_items(item.ticket_id)):
            customer.full_name = ""
        record(None, "erasure.retained_erased", customer, category=str(item.category))
    db.session.flush()
    return len(items)
