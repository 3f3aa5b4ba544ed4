"""The customer's rights over their data: a copy of everything held about them, restriction and
objection, and the suppression list; what other parts ask before using a record
(:func:`processing_restricted`, :func:`objects_to`, :func:`is_suppressed`).

Services flush and never commit; the view or job that calls them commits once.
"""

from __future__ import annotations

import hashlib
import hmac
from contextlib import suppress as suppress_errors
from datetime import datetime

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from portal.account.models import Customer, changes_come_from, note_change
from portal.account.services import customer_record
from portal.audit.models import CustomerDataView
from portal.audit.services import record
from portal.consent.models import ConsentEntry
from portal.contact_values import InvalidAddress, InvalidPhone, normalize_email, normalize_phone
from portal.db import db
from portal.enums import ActorKind, Channel, DataSource, EntryKind, Purpose
from portal.outbox.services import queue_email
from portal.rights.models import CopyFormat, DataCopy, Objection, Suppression
from portal.tickets import services as tickets
from portal.tickets.kinds.restriction import RestrictionRequest
from portal.tickets.models import Ticket
from portal.tickets.services import TicketRuleError, add_event

# The version of the copy's layout (docs/data-export.md): the major number changes when a field is
# removed or changes meaning, the minor when one is added.
SCHEMA_VERSION = "1.0"
# The purposes that are marketing: an erased, restricted or objecting customer is never used for them.
MARKETING = (Purpose.PROMOTIONS, Purpose.SURVEYS)


# --- what other parts ask ---------------------------------------------------------------------------

def processing_restricted(customer) -> bool:
    """Whether the record may only be kept: not edited, not used for marketing or anything else."""
    return customer.restricted_at is not None or customer.erased_at is not None


def objects_to(customer, purpose: Purpose | str) -> bool:
    """Whether the customer may not be processed for ``purpose``: they objected to it, or their
    processing is restricted (which covers every purpose)."""
    if processing_restricted(customer):
        return True
    statement = select(Objection.id).where(Objection.customer_id == customer.id, Objection.purpose == Purpose(purpose))
    return db.session.scalars(statement.limit(1)).first() is not None


def suppression_key(value: str) -> str:
    """A keyed HMAC of a normalised e-mail address or phone number. Its key is derived from the
    app's secret for this use only, so the list names nobody to whoever holds only the database."""
    key = hmac.new(current_app.config["SECRET_KEY"].encode(), b"suppression-list", hashlib.sha256).digest()
    return hmac.new(key, value.encode(), hashlib.sha256).hexdigest()


def _normalised(email: str | None, phone: str | None) -> list[str]:
    values = []
    if email:
        with suppress_errors(InvalidAddress):
            values.append("email:" + normalize_email(email))
    if phone:
        with suppress_errors(InvalidPhone):
            values.append("phone:" + normalize_phone(phone))
    return values


def is_suppressed(email: str | None = None, phone: str | None = None) -> bool:
    """Whether this e-mail address or phone number (as typed anywhere) belongs to someone who had
    their data erased: never use it for marketing, even when it comes back in an import."""
    return bool(suppressed_among([email] if email else [], [phone] if phone else []))


def suppressed_among(emails=(), phones=()) -> set[str]:
    """Which of these e-mail addresses and phone numbers are on the suppression list, in one
    statement for them all (an import asks for a batch of rows at once)."""
    keyed = {}
    for email in emails:
        keyed.update((suppression_key(value), email) for value in _normalised(email, None))
    for phone in phones:
        keyed.update((suppression_key(value), phone) for value in _normalised(None, phone))
    if not keyed:
        return set()
    return {keyed[key] for key in db.session.scalars(select(Suppression.key).where(Suppression.key.in_(list(keyed))))}


def suppress(email: str | None = None, phone: str | None = None) -> None:
    """Add these to the suppression list (nothing happens for one already on it)."""
    for value in _normalised(email, phone):
        key = suppression_key(value)
        if db.session.scalars(select(Suppression.id).where(Suppression.key == key)).first() is None:
            db.session.add(Suppression(key=key))
    db.session.flush()


# --- a copy of the data --------------------------------------------------------------------------

def _iso(value):
    return value.isoformat() if value is not None else None


def consents_for_copy(customer_id: int) -> list[dict]:
    """The consent part of the copy: every entry of the consent ledger, oldest first."""
    rows = db.session.scalars(select(ConsentEntry).where(ConsentEntry.customer_id == customer_id)
                              .order_by(ConsentEntry.recorded_at, ConsentEntry.id))
    return [{"purpose": str(row.purpose), "granted": row.granted, "method": str(row.method),
             "evidence": row.evidence or None, "recorded_at": _iso(row.recorded_at),
             "recorded_by": str(row.actor_kind), "notice_version": row.notice_version}
            for row in rows]


def _requests_for_copy(email: str, customer_id: int) -> list[dict]:
    """The customer's requests with their public messages (never an internal note)."""
    found = []
    for ticket in tickets.customer_tickets(email, customer_id):
        messages = [{"at": _iso(entry.created_at),
                     "from": "customer" if entry.kind is EntryKind.CUSTOMER_MESSAGE else "company",
                     "text": entry.body}
                    for entry in ticket.entries if entry.kind in (EntryKind.CUSTOMER_MESSAGE, EntryKind.STAFF_REPLY)]
        found.append({"reference": ticket.reference, "kind": str(ticket.kind), "status": str(ticket.status),
                      "filed_at": _iso(ticket.created_at), "due_at": _iso(ticket.due_at),
                      "resolved_at": _iso(ticket.resolved_at),
                      "outcome_reason": ticket.outcome_reason if ticket.status.value == "rejected" else None,
                      "messages": messages})
    return found


def _access_log_for_copy(customer_id: int) -> list[dict]:
    rows = db.session.scalars(select(CustomerDataView).where(CustomerDataView.customer_id == customer_id)
                              .order_by(CustomerDataView.viewed_at, CustomerDataView.id))
    return [{"viewed_at": _iso(row.viewed_at), "staff_name": row.staff_name, "staff_role": str(row.staff_role),
             "page": str(row.page), "request": row.ticket_reference} for row in rows]


def copy_of_data(customer: Customer, email: str, now: datetime) -> dict:
    """Everything the company holds about ``customer``, as the copy's documented layout (docs/data-export.md)."""
    record_ = customer_record(customer, ("contact_points", "orders", "changes"))
    config = current_app.config
    return {
        "schema_version": SCHEMA_VERSION,
        "generated_at": _iso(now),
        "controller": {"name": config["COMPANY_NAME"], "address": config["COMPANY_ADDRESS"],
                       "email": config["COMPANY_EMAIL"], "phone": config["COMPANY_PHONE"]},
        "signed_in_as": email,
        "customer": {"number": customer.id, "full_name": customer.full_name, "notes": customer.notes or None,
                     "source": str(customer.source), "preferred_language": customer.preferred_locale,
                     "created_at": _iso(customer.created_at),
                     "processing_restricted_since": _iso(customer.restricted_at),
                     "objections": [str(purpose) for purpose in objections_of(customer.id)]},
        "contact_points": [{"channel": str(point.channel), "kind": str(point.kind), "value": point.value,
                            "source": str(point.source), "added_at": _iso(point.created_at)}
                           for point in record_.contact_points],
        "orders": [{"reference": order.reference, "description": order.description,
                    "ordered_on": _iso(order.ordered_on), "warranty_ends_on": _iso(order.warranty_ends_on)}
                   for order in record_.orders],
        "consents": consents_for_copy(customer.id),
        "history": [{"changed_at": _iso(change.changed_at), "by": str(change.actor_kind),
                     "by_name": change.actor_name or None, "field": change.field,
                     "old_value": change.old_value, "new_value": change.new_value} for change in record_.changes],
        "requests": _requests_for_copy(email, customer.id),
        "access_log": _access_log_for_copy(customer.id),
        "copies": [{"made_at": _iso(copy.made_at), "format": str(copy.format)} for copy in copies_of(customer.id)],
    }


def record_copy(principal, customer_id: int, copy_format: CopyFormat, now: datetime) -> DataCopy:
    """Log a download of the copy (audit, and the customer's own list of copies on My data)."""
    copy = DataCopy(customer_id=customer_id, made_at=now, format=copy_format)
    db.session.add(copy)
    db.session.flush()
    record(principal, "data_copy.downloaded", f"customer:{customer_id}", format=str(copy_format))
    return copy


def copies_of(customer_id: int) -> list[DataCopy]:
    return list(db.session.scalars(select(DataCopy).where(DataCopy.customer_id == customer_id)
                                   .order_by(DataCopy.made_at.desc(), DataCopy.id.desc()).limit(50)))


def objections_of(customer_id: int) -> list[Purpose]:
    return list(db.session.scalars(select(Objection.purpose).where(Objection.customer_id == customer_id)
                                   .order_by(Objection.id)))


# --- restriction and objection ------------------------------------------------------------------

def apply_restriction(ticket, staff, now: datetime) -> RestrictionRequest:
    """Apply what a restriction ticket asks: restrict the record, or record the objection."""
    details = tickets.details_of(ticket)
    if details is None:
        raise TicketRuleError(NO_DETAILS)
    if ticket.customer_id is None:
        raise TicketRuleError(NOT_LINKED)
    if details.applied_at is not None:
        return details
    customer = db.session.get(Customer, ticket.customer_id)
    if details.what == "restriction":
        customer.restricted_at = customer.restricted_at or now
    elif not objects_to(customer, details.purpose):
        db.session.add(Objection(customer_id=customer.id, purpose=details.purpose, since=now, ticket_id=ticket.id))
    details.applied_at, details.applied_by_id = now, staff.id
    add_event(ticket, "restriction_applied", now, staff, what=details.what, purpose=details.purpose)
    ticket.updated_at = now
    record(staff, f"{details.what}.applied", customer, ticket_id=ticket.id, purpose=details.purpose)
    db.session.flush()
    return details


# --- lifting a restriction ----------------------------------------------------------------------

MAX_REASON = 1000
LIFTED = "restriction_lifted"  # the history's field for it (My data and the board show its title)
# The history's titles live with the record; this one is the rights' own line in it.


class RightsProblem(ValueError):
    """A staff decision on a customer's rights that cannot be made; ``args[0]`` says why, for people."""


def restriction_ticket(customer_id: int) -> Ticket | None:
    """The customer's latest restriction request that staff applied (the one a lift answers)."""
    statement = (select(Ticket).join(RestrictionRequest, RestrictionRequest.ticket_id == Ticket.id)
                 .where(Ticket.customer_id == customer_id, RestrictionRequest.what == "restriction",
                        RestrictionRequest.applied_at.is_not(None))
                 .order_by(RestrictionRequest.applied_at.desc(), Ticket.id.desc()).limit(1))
    return db.session.scalars(statement).first()


def clean_reason(raw: str | None) -> str:
    reason = (raw or "").strip()
    if not reason:
        raise RightsProblem(NO_REASON)
    if len(reason) > MAX_REASON:
        raise RightsProblem(LONG_REASON % {"max": MAX_REASON})
    return reason


def lift_restriction(customer: Customer, staff, reason: str, now: datetime) -> Ticket | None:
    """Lift the restriction of processing the customer asked for, with the reason: in the record's
    history, the request's events and the audit log, and e-mailed to the customer. One an erasure
    imposed stays (what is kept after an erasure is only kept). Returns the restriction request."""
    reason = clean_reason(reason)
    if customer.erased_at is not None:
        raise RightsProblem(ERASURE_KEEPS)
    if customer.restricted_at is None:
        raise RightsProblem(NOT_RESTRICTED)
    ticket = restriction_ticket(customer.id)
    since, customer.restricted_at = customer.restricted_at, None
    changes_come_from(db.session, DataSource.STAFF)
    note_change(customer.id, LIFTED, None, reason, now=now, actor_kind=ActorKind.STAFF, actor_name=staff.full_name,
                via=DataSource.STAFF)
    if ticket is not None:
        add_event(ticket, "restriction_lifted", now, staff, reason=reason)
        ticket.updated_at = now
    record(staff, "restriction.lifted", customer, ticket_id=ticket.id if ticket else None, since=_iso(since))
    db.session.flush()
    _tell_of_the_lift(customer, ticket, reason, since)
    return ticket


def _tell_of_the_lift(customer: Customer, ticket: Ticket | None, reason: str, since: datetime) -> None:
    emails = [point.value for point in customer.contact_points if point.channel is Channel.EMAIL]
    recipient = ticket.requester_email if ticket is not None else (emails[0] if emails else None)
    if recipient is None:
        return
    locale = customer.preferred_locale or (ticket.requester_locale if ticket is not None else None) or "vi"
    queue_email(recipient, "restriction_lifted", locale, "restriction_lifted", customer=customer, ticket=ticket,
                reason=reason, since=since)


NO_REASON = _l("Give the reason for lifting the restriction: the customer reads it.")
LONG_REASON = _l("Write the reason in at most %(max)d characters.")
ERASURE_KEEPS = _l("This restriction was imposed by an erasure: what is kept after an erasure can only be kept, "
                   "so it cannot be lifted.")
NOT_RESTRICTED = _l("Processing of this customer's data is not restricted: there is nothing to lift.")
NO_DETAILS = _l("This request has no restriction details: ask the customer to file it on the portal.")
NOT_LINKED = _l("Link the ticket to the customer's record first.")
