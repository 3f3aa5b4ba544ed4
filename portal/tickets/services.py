"""Ticket rules: filing, the thread, status, assignment, routing, extension, escalation.

Services flush and never commit; the view or job that calls them commits once. Every change adds an
event to the thread (nothing in a thread is edited or deleted) and an audit record.
"""

from __future__ import annotations

import re
from datetime import datetime
from functools import lru_cache

from flask_babel import lazy_gettext as _l
from sqlalchemy import bindparam, func, or_, select, update

from portal import permissions
from portal.account.models import ContactPoint
from portal.audit.access_log import log_customer_views
from portal.audit.services import record
from portal.contact_values import lookup_forms
from portal.db import MAX_ROW_ID, db, read_plain
from portal.enums import Channel, Department, EntryKind, TicketStatus, ViewedPage
from portal.staff.models import StaffMember
from portal.staff.signals import role_changed
from portal.tickets import clocks, due, notifications
from portal.tickets.kinds import RequestKind, get_kind
from portal.tickets.models import OPEN_STATUSES, Ticket, TicketEntry, format_reference
from portal.tickets.routing import least_loaded_member, route_for
from portal.tickets.settings import queue_setting

S = TicketStatus
ALLOWED_MOVES = {
    S.NEW: {S.OPEN, S.WAITING, S.RESOLVED, S.REJECTED},
    S.OPEN: {S.WAITING, S.RESOLVED, S.REJECTED},
    S.WAITING: {S.OPEN, S.RESOLVED, S.REJECTED},
    S.RESOLVED: {S.OPEN, S.CLOSED},
    S.REJECTED: {S.OPEN, S.CLOSED},
    S.CLOSED: set(),
}
REFERENCE = re.compile(r"^\s*KN-(\d{4})-(\d{1,12})\s*$", re.IGNORECASE)


class TicketRuleError(Exception):
    """A change the rules do not allow; ``message`` is shown to the person who tried."""

    def __init__(self, message):
        super().__init__(message)
        self.message = message




def parse_reference(text: str) -> int | None:
    """The ticket id in a reference like KN-2026-000123, or None if it cannot be one."""
    match = REFERENCE.match(text or "")
    if not match or int(match.group(2)) > MAX_ROW_ID:
        return None
    return int(match.group(2))


def _requester(ticket_or_customer_id) -> str:
    """Who the audit log names for something the customer (or a requester we hold no record of) did."""
    customer_id = getattr(ticket_or_customer_id, "customer_id", ticket_or_customer_id)
    return f"customer:{customer_id}" if customer_id else "requester"


def add_event(ticket: Ticket, event: str, now: datetime, staff: StaffMember | None = None, **data) -> None:
    ticket.entries.append(TicketEntry(kind=EntryKind.EVENT, event=event, data=data, created_at=now,
                                      author_staff_id=staff.id if staff else None))


def _touch(ticket: Ticket, now: datetime) -> None:
    ticket.updated_at = now


def find_open_duplicate(requester_email: str, customer_id: int | None, kind: RequestKind) -> Ticket | None:
    owner = Ticket.customer_id == customer_id if customer_id else Ticket.requester_email == requester_email
    statement = (select(Ticket).where(owner, Ticket.kind == kind, Ticket.status.in_(OPEN_STATUSES))
                 .order_by(Ticket.id).limit(1))
    return db.session.scalars(statement).first()


FORM_USED = _l("This form was already used for something else. Reload the page and try again.")


def _existing_submission(submission_key: str | None, belongs) -> TicketEntry | None:
    """The entry an earlier post of the same form stored, if any. A key that belongs elsewhere (a
    tampered or mixed-up form) is refused: it must neither reveal that entry nor drop this post."""
    if not submission_key:
        return None
    entry = db.session.scalars(select(TicketEntry).where(TicketEntry.submission_key == submission_key)).first()
    if entry is not None and not belongs(entry):
        raise TicketRuleError(FORM_USED)
    return entry


def create_ticket(*, kind, body: str, requester_email: str, customer_id: int | None, locale: str,
                  now: datetime, submission_key: str | None = None, details=None) -> tuple[Ticket, bool]:
    """File a request of ``kind`` (a registered kind or its code); return (ticket, created).

    The same form posted twice returns the first ticket. A request of a kind the customer already
    has open is added to that ticket as a message (created is False) and the customer is told,
    unless the kind keeps each request on its own (``joins_open_request``).
    ``details`` is the kind's own detail row, if it has one; it joins the new ticket.
    """
    kind = get_kind(kind)
    earlier = _existing_submission(submission_key, lambda entry: entry.kind is EntryKind.CUSTOMER_MESSAGE and (
        entry.ticket.customer_id == customer_id if customer_id else entry.ticket.requester_email == requester_email))
    if earlier is not None:
        return earlier.ticket, False
    duplicate = find_open_duplicate(requester_email, customer_id, kind) if kind.joins_open_request else None
    if duplicate is not None:
        add_customer_message(duplicate, body, now, submission_key)
        _bring_deadlines_forward(duplicate, now)
        notifications.request_merged(duplicate)
        return duplicate, False
    ticket, deadline = _new_ticket(kind, requester_email, customer_id, locale, now)
    add_event(ticket, "created", now, **clocks.cut_note(deadline))
    ticket.entries.append(TicketEntry(kind=EntryKind.CUSTOMER_MESSAGE, body=body, created_at=now,
                                      submission_key=submission_key))
    add_event(ticket, "routed", now, department=ticket.department, priority=ticket.priority)
    _auto_assign(ticket, now)
    db.session.flush()
    if details is not None:
        details.ticket_id = ticket.id
        db.session.add(details)
    record(_requester(customer_id), "ticket.created", ticket, kind=kind, department=ticket.department)
    notifications.request_received(ticket)
    return ticket, True


def details_of(ticket: Ticket):
    """The ticket's kind-specific detail row, or None for a kind that keeps none."""
    model = ticket.kind.detail_model
    return db.session.get(model, ticket.id) if model is not None else None


def _new_ticket(kind: RequestKind, requester_email: str, customer_id: int | None, locale: str,
                now: datetime) -> tuple[Ticket, due.Deadline]:
    """A ticket routed and given its two clocks by the settings in force now, and its deadline."""
    route = route_for(kind, queue_setting("routing"))
    acknowledge_due_at, deadline = clocks.new_clocks(kind, now)
    ticket = Ticket(
        kind=kind, status=S.NEW, department=route.department, priority=route.priority, customer_id=customer_id,
        requester_email=requester_email, requester_locale=locale, created_at=now, updated_at=now, received_at=now,
        acknowledge_due_at=acknowledge_due_at, due_at=deadline.at,
    )
    db.session.add(ticket)
    return ticket, deadline


def _bring_deadlines_forward(ticket: Ticket, now: datetime) -> None:
    """A request merged into an open one of its kind keeps its own clocks: whichever of the two
    deadlines is earlier applies to the ticket (never the other's extended or longer one)."""
    acknowledge_due_at, deadline = clocks.new_clocks(ticket.kind, now)
    if ticket.first_response_at is None and acknowledge_due_at < ticket.acknowledge_due_at:
        ticket.acknowledge_due_at = acknowledge_due_at
    if deadline.at >= ticket.due_at:
        return
    old = ticket.due_at
    ticket.due_at = deadline.at
    add_event(ticket, "due_brought_forward", now, old=old.isoformat(), new=deadline.at.isoformat(),
              **clocks.cut_note(deadline))
    record(_requester(ticket), "ticket.due_brought_forward", ticket, old=old.isoformat(), new=deadline.at.isoformat())


def _restart_clocks(ticket: Ticket, now: datetime) -> None:
    """The customer's message on a finished request is a new receipt: the ticket gets the deadline a
    request of its kind filed now would get, and its extension, longer period and escalation are
    available again. The acknowledgement, which told the customer the procedure, is not repeated."""
    old = ticket.due_at
    _acknowledge_due_at, deadline = clocks.new_clocks(ticket.kind, now)
    ticket.received_at, ticket.due_at = now, deadline.at
    ticket.extended_at = ticket.extension_reason = None
    ticket.longer_period_at = ticket.longer_period_reason = None
    ticket.escalated_at = None
    add_event(ticket, "reopened", now, old=old.isoformat(), new=deadline.at.isoformat(), **clocks.cut_note(deadline))
    record(_requester(ticket), "ticket.reopened", ticket, old=old.isoformat(), new=deadline.at.isoformat())


def _auto_assign(ticket: Ticket, now: datetime) -> None:
    if queue_setting("assignment").get(ticket.department) != "auto":
        return
    member = least_loaded_member(ticket.department)
    if member is not None:
        ticket.assignee = member
        add_event(ticket, "assigned", now, assignee=member.full_name, automatic=True)


def add_customer_message(ticket: Ticket, body: str, now: datetime, submission_key: str | None = None) -> TicketEntry:
    """Add the customer's message; it reopens a ticket that was resolved or waiting on them."""
    if ticket.status is S.CLOSED:
        raise TicketRuleError(_l("This request is closed. Please file a new request."))
    earlier = _existing_submission(submission_key, lambda entry: entry.ticket_id == ticket.id
                                   and entry.kind is EntryKind.CUSTOMER_MESSAGE)
    if earlier is not None:
        return earlier
    entry = TicketEntry(kind=EntryKind.CUSTOMER_MESSAGE, body=body, created_at=now, submission_key=submission_key)
    ticket.entries.append(entry)
    reopened = ticket.status in (S.RESOLVED, S.REJECTED)
    if ticket.status in (S.RESOLVED, S.REJECTED, S.WAITING):
        _set_status(ticket, S.OPEN, now, None)
    if reopened:
        _restart_clocks(ticket, now)
    _touch(ticket, now)
    db.session.flush()
    record(_requester(ticket), "ticket.customer_message", ticket, entry_id=entry.id)
    _tell_staff_the_customer_wrote(ticket, reopened, now)
    return entry


def _tell_staff_the_customer_wrote(ticket: Ticket, reopened: bool, now: datetime) -> None:
    """Mark the ticket "customer replied" in the queues until someone answers, and e-mail the
    assignee (or, when nobody is assigned, the members of its department)."""
    ticket.customer_replied_at = now
    notifications.customer_wrote(ticket, reopened)


def add_staff_entry(ticket: Ticket, staff: StaffMember, body: str, public: bool, now: datetime,
                    submission_key: str | None = None) -> TicketEntry:
    """A public reply (e-mailed to the customer) or an internal note (never shown to them)."""
    earlier = _existing_submission(submission_key, lambda entry: entry.ticket_id == ticket.id
                                   and entry.author_staff_id == staff.id)
    if earlier is not None:
        return earlier
    kind = EntryKind.STAFF_REPLY if public else EntryKind.INTERNAL_NOTE
    entry = TicketEntry(kind=kind, body=body, created_at=now, author_staff_id=staff.id, submission_key=submission_key)
    ticket.entries.append(entry)
    if public:
        ticket.customer_replied_at = None  # answered
        if ticket.first_response_at is None:
            ticket.first_response_at = now
        if ticket.status is S.NEW:
            _set_status(ticket, S.OPEN, now, staff)
    _touch(ticket, now)
    db.session.flush()
    record(staff, "ticket.reply" if public else "ticket.note", ticket, entry_id=entry.id)
    if public:
        notifications.staff_replied(ticket, entry)
    return entry


def _set_status(ticket: Ticket, status: TicketStatus, now: datetime, staff: StaffMember | None,
                reason: str | None = None) -> None:
    old = ticket.status
    ticket.status = status
    if status in (S.RESOLVED, S.REJECTED):
        ticket.resolved_at = now
        ticket.outcome_reason = reason
    elif status is S.CLOSED:
        ticket.closed_at = now
    elif status is S.OPEN:
        ticket.resolved_at = None
    add_event(ticket, "status", now, staff, old=old, new=status, reason=reason)


def change_status(ticket: Ticket, staff: StaffMember, status: TicketStatus, now: datetime,
                  reason: str | None = None) -> None:
    """Move the ticket to ``status`` if the rules allow it; a resolution or rejection must also
    satisfy what the ticket's kind asks (:meth:`RequestKind.outcome_problem`)."""
    current = ticket.status
    if status is current:
        return
    if status not in ALLOWED_MOVES[current]:
        raise TicketRuleError(_l("A request cannot go from “%(old)s” to “%(new)s”.", old=current.title,
                                 new=status.title))
    if status is S.REJECTED and not (reason or "").strip():
        raise TicketRuleError(_l("Give the customer the reason for rejecting the request."))
    if status in (S.RESOLVED, S.REJECTED):
        problem = ticket.kind.outcome_problem(ticket, status, reason)
        if problem:
            raise TicketRuleError(problem)
    _set_status(ticket, status, now, staff, reason)
    if status in (S.RESOLVED, S.REJECTED, S.CLOSED):
        ticket.customer_replied_at = None  # the outcome answers them
    if ticket.first_response_at is None and status in (S.RESOLVED, S.REJECTED):
        ticket.first_response_at = now  # the customer is e-mailed the outcome: that answers them
    _touch(ticket, now)
    record(staff, "ticket.status", ticket, old=current, new=status)
    if status in (S.RESOLVED, S.REJECTED):
        notifications.request_resolved(ticket)


def assign(ticket: Ticket, staff: StaffMember, assignee: StaffMember | None, now: datetime) -> None:
    if assignee is not None and not ticket.can_be_assigned_to(assignee):
        raise TicketRuleError(_l("Only an active member of the ticket's department can be assigned."))
    if (ticket.assignee_id or None) == (assignee.id if assignee else None):
        return
    ticket.assignee = assignee
    add_event(ticket, "assigned", now, staff, assignee=assignee.full_name if assignee else None)
    _touch(ticket, now)
    record(staff, "ticket.assigned", ticket, assignee=assignee.id if assignee else None)


def take(ticket_id: int, staff: StaffMember, now: datetime) -> bool:
    """Assign an unassigned ticket to ``staff``; exactly one of several simultaneous takers wins."""
    result = db.session.execute(
        update(Ticket)
        .where(Ticket.id == ticket_id, Ticket.assignee_id.is_(None))
        .values(assignee_id=staff.id, version=Ticket.version + 1, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        return False
    ticket = db.session.get(Ticket, ticket_id)
    db.session.refresh(ticket)
    add_event(ticket, "assigned", now, staff, assignee=staff.full_name, taken=True)
    record(staff, "ticket.taken", ticket)
    return True


def hold_for_change(ticket: Ticket, version: int) -> bool:
    """Hold ``ticket`` for this transaction if it is still at ``version``; False if it has moved on.

    Made the first write of a change, this waits for a colleague's unfinished change of the same
    ticket (its row lock on PostgreSQL, its write lock on SQLite) and then reads the version they
    left: of two simultaneous saves the second is refused before it writes anything."""
    held = db.session.execute(
        update(Ticket)
        .where(Ticket.id == ticket.id, Ticket.version == version)
        .values(version=Ticket.version)
        .execution_options(synchronize_session=False)
    )
    return held.rowcount == 1


def change_department(ticket: Ticket, staff: StaffMember, department: Department, now: datetime) -> None:
    if ticket.department is department:
        return
    old = ticket.department
    ticket.department = department
    ticket.assignee = None
    add_event(ticket, "routed", now, staff, department=department, old=old)
    _auto_assign(ticket, now)
    _touch(ticket, now)
    record(staff, "ticket.routed", ticket, old=old, new=department)


PAST_DUE = _l("The deadline has passed, so it can no longer be moved. Answer the customer as soon as possible.")


def extend_deadline(ticket: Ticket, staff: StaffMember, days: int, reason: str, now: datetime) -> None:
    """The one extension the law allows, at most its figure, with a reason the customer is e-mailed.
    It is refused once the deadline has passed: a late request must not stop looking late."""
    limit = queue_setting("clocks")["extension_days"][ticket.kind]
    if not ticket.is_open:
        raise TicketRuleError(_l("Only an open request can be extended."))
    if ticket.extended_at is not None:
        raise TicketRuleError(_l("This request has already been extended once."))
    if ticket.is_past_due(now):
        raise TicketRuleError(PAST_DUE)
    if not 1 <= days <= limit:
        raise TicketRuleError(_l("An extension is between 1 and %(days)d days for this kind of request.",
                                 days=limit))
    if not (reason or "").strip():
        raise TicketRuleError(_l("Give the customer the reason for the extension."))
    old, deadline = ticket.due_at, clocks.extended(ticket, days)
    ticket.due_at = deadline.at
    ticket.extended_at = now
    ticket.extension_reason = reason.strip()
    add_event(ticket, "due_changed", now, staff, old=old.isoformat(), new=ticket.due_at.isoformat(),
              reason=ticket.extension_reason, **clocks.cut_note(deadline))
    _touch(ticket, now)
    record(staff, "ticket.extended", ticket, days=days)
    notifications.deadline_extended(ticket)


def apply_longer_period(ticket: Ticket, staff: StaffMember, reason: str, now: datetime) -> None:
    """The longer period the law gives a kind when a processor or third party must act: once, with
    a reason the customer is e-mailed, never past the law's figure."""
    kind = ticket.kind
    if not ticket.is_open:
        raise TicketRuleError(_l("Only an open request can be given more time."))
    if not kind.longer_days:
        raise TicketRuleError(_l("The law gives this kind of request no longer period."))
    if ticket.longer_period_at is not None:
        raise TicketRuleError(_l("The longer period already applies to this request."))
    if ticket.is_past_due(now):
        raise TicketRuleError(PAST_DUE)
    if not (reason or "").strip():
        raise TicketRuleError(_l("Give the customer the reason: which processor or third party must act."))
    old, deadline = ticket.due_at, clocks.lengthened(ticket)
    ticket.due_at = deadline.at
    ticket.longer_period_at = now
    ticket.longer_period_reason = reason.strip()
    add_event(ticket, "longer_period", now, staff, old=old.isoformat(), new=ticket.due_at.isoformat(),
              days=kind.longer_days, reason=ticket.longer_period_reason, **clocks.cut_note(deadline))
    _touch(ticket, now)
    record(staff, "ticket.longer_period", ticket, days=kind.longer_days, old=old.isoformat(),
           new=ticket.due_at.isoformat())
    notifications.longer_period_applied(ticket)


def release_tickets_outside_role(member: StaffMember, actor: StaffMember | None, now: datetime) -> int:
    """Unassign ``member``'s open tickets of departments their role no longer works: being the
    assignee must not keep someone in a queue (and its customers' data) their role has left."""
    worked = permissions.departments_worked_by(member.role)
    statement = select(Ticket).where(Ticket.assignee_id == member.id, Ticket.status.in_(OPEN_STATUSES))
    if worked:
        statement = statement.where(Ticket.department.not_in(worked))
    tickets = list(db.session.scalars(statement))
    for ticket in tickets:
        ticket.assignee = None
        add_event(ticket, "assigned", now, actor, assignee=None, released_from=member.full_name)
        _touch(ticket, now)
        record(actor, "ticket.released", ticket, staff_id=member.id)
    return len(tickets)


@role_changed.connect
def _release_after_role_change(member: StaffMember, actor=None, now=None, **_ignored) -> None:
    release_tickets_outside_role(member, actor, now)


def contact_matches(customer_id: int, contact: str) -> bool:
    """Whether the customer ``customer_id`` has this phone number (any usual Vietnamese way of
    writing it) or e-mail address on record."""
    statement = select(ContactPoint.id).where(ContactPoint.customer_id == customer_id,
                                              ContactPoint.channel.in_((Channel.EMAIL, Channel.PHONE)),
                                              ContactPoint.value_normalized.in_(lookup_forms(contact)))
    return db.session.scalars(statement.limit(1)).first() is not None


def link_customer(ticket: Ticket, staff: StaffMember, customer_id: int, now: datetime) -> None:
    """Attach a ticket filed from an unknown address to the customer record staff identified."""
    if ticket.customer_id is not None:
        raise TicketRuleError(_l("This ticket is already linked to a customer."))
    old = ticket.customer_id
    ticket.customer_id = customer_id
    add_event(ticket, "customer_linked", now, staff, customer_id=customer_id, old=old)
    _touch(ticket, now)
    record(staff, "ticket.customer_linked", ticket, customer_id=customer_id, old=old)


def record_customer_view(ticket: Ticket, customer_id: int, staff: StaffMember, now: datetime) -> None:
    """Log that ``staff`` was shown this customer's data beside the ticket; the customer sees it on My data.
    The access log is the record of views (like the lists' views, they are not repeated in the audit log)."""
    log_customer_views(staff, [customer_id], ViewedPage.TICKET, now, ticket=ticket)


def escalate_overdue(now: datetime) -> int:
    """Escalate the open tickets whose acknowledgement or fulfilment deadline passed; return how
    many escalations there were (a ticket late on both counts twice, once for each clock)."""
    return _escalate_unacknowledged(now) + _escalate_past_due(now)


def _escalate_unacknowledged(now: datetime) -> int:
    """Tell the assignee and the board of each open ticket nobody answered by its acknowledgement
    deadline. The ticket stays in its queue, to be answered there; ``acknowledge_escalated_at``
    records that it was escalated, once."""
    statement = (select(Ticket).where(Ticket.status.in_(OPEN_STATUSES), Ticket.first_response_at.is_(None),
                                      Ticket.acknowledge_escalated_at.is_(None), Ticket.acknowledge_due_at < now)
                 .order_by(Ticket.id).limit(200).with_for_update(skip_locked=True))
    tickets = list(db.session.scalars(statement))
    for ticket in tickets:
        ticket.acknowledge_escalated_at = now
        add_event(ticket, "acknowledgement_late", now, due=ticket.acknowledge_due_at.isoformat())
        _touch(ticket, now)
        record(None, "ticket.acknowledgement_escalated", ticket)
        notifications.acknowledgement_overdue(ticket)
    db.session.flush()
    return len(tickets)


def _escalate_past_due(now: datetime) -> int:
    """Mark open tickets past their deadline overdue, move them to the board queue, tell the
    assignee and the board. Each ticket is escalated once: ``escalated_at`` records it."""
    statement = (select(Ticket).where(Ticket.status.in_(OPEN_STATUSES), Ticket.due_at < now,
                                      Ticket.escalated_at.is_(None))
                 .order_by(Ticket.id).limit(200).with_for_update(skip_locked=True))
    tickets = list(db.session.scalars(statement))
    for ticket in tickets:
        ticket.escalated_at = now
        old = ticket.department
        ticket.department = Department.BOARD
        add_event(ticket, "escalated", now, department=Department.BOARD, old=old)
        _touch(ticket, now)
        record(None, "ticket.escalated", ticket, old=old)
        notifications.ticket_overdue(ticket)
    db.session.flush()
    return len(tickets)


def customer_tickets(requester_email: str, customer_id: int | None) -> list[Ticket]:
    return list(db.session.scalars(select(Ticket).where(_owned_by(customer_id is not None)).order_by(Ticket.id.desc()),
                                   {"email": requester_email, "customer_id": customer_id}))


def find_customer_ticket(reference: str, requester_email: str, customer_id: int | None) -> Ticket | None:
    """The ticket with this reference if it belongs to this customer, else None (shown as 404)."""
    ticket_id = parse_reference(reference)
    if ticket_id is None:
        return None
    ticket = db.session.scalars(select(Ticket).where(Ticket.id == ticket_id, _owned_by(customer_id is not None)),
                                {"email": requester_email, "customer_id": customer_id}).first()
    if ticket is None or ticket.reference != reference.strip().upper():
        return None
    return ticket


def customer_tickets_version(requester_email: str, customer_id: int | None) -> tuple[int, int]:
    """What the list of a customer's requests depends on: how many there are and their versions
    (every change to a ticket's row moves its ``version``)."""
    row = read_plain(_tickets_version_statement(customer_id is not None),
                     {"email": requester_email, "customer_id": customer_id}).one()
    return row[0], row[1]


def customer_ticket_version(reference: str, requester_email: str, customer_id: int | None) -> tuple | None:
    """What the customer's page of one request depends on — the ticket's version and its newest
    thread entry — or None if the reference is not one of theirs (shown as 404). A change a customer
    sees on the page either changes the ticket's row or adds to its thread."""
    ticket_id = parse_reference(reference)
    if ticket_id is None:
        return None
    row = read_plain(_ticket_version_statement(customer_id is not None),
                     {"ticket_id": ticket_id, "email": requester_email, "customer_id": customer_id}).first()
    if row is None or format_reference(row[1].year, row[0]) != reference.strip().upper():
        return None
    return row[0], row[2], row[3]


# The statements of a customer's pages, built once per shape: building one costs as much as running it.

@lru_cache(maxsize=2)
def _tickets_version_statement(has_record: bool):
    return (select(func.count(Ticket.id), func.coalesce(func.sum(Ticket.version), 0))
            .where(_owned_by(has_record)))


@lru_cache(maxsize=2)
def _ticket_version_statement(has_record: bool):
    newest_entry = (select(func.max(TicketEntry.id)).where(TicketEntry.ticket_id == Ticket.id)
                    .correlate(Ticket).scalar_subquery())
    return (select(Ticket.id, Ticket.created_at, Ticket.version, newest_entry)
            .where(Ticket.id == bindparam("ticket_id"), _owned_by(has_record)))


def _owned_by(has_record: bool):
    """The customer's tickets — those of their record, and those filed from their address before it
    had one — with the address and record as the parameters ``email`` and ``customer_id``."""
    email = bindparam("email")
    if not has_record:
        return Ticket.requester_email == email
    return or_(Ticket.customer_id == bindparam("customer_id"),
               (Ticket.customer_id.is_(None)) & (Ticket.requester_email == email))


def open_ticket_counts() -> dict[tuple[str, str], int]:
    rows = db.session.execute(select(Ticket.department, Ticket.status, func.count())
                              .where(Ticket.status.in_(OPEN_STATUSES)).group_by(Ticket.department, Ticket.status))
    return {(department, status): count for department, status, count in rows}
