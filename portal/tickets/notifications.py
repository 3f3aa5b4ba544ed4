"""E-mails about tickets, queued in the caller's transaction, in the recipient's language.

Links lead to sign-in (then to the request); an e-mail never carries a session. The link fills in
the sign-in page with the address the e-mail went to, so one press sends the sign-in link.
"""

from __future__ import annotations

from sqlalchemy import select

from portal import clock
from portal.auth.services import address_hint
from portal.db import db
from portal.enums import Department, Role
from portal.outbox.services import queue_email
from portal.staff.models import StaffMember
from portal.tickets import due

STAFF_LOCALE = "vi"


def _customer_locale(ticket) -> str:
    customer = ticket.customer
    return (customer.preferred_locale if customer and customer.preferred_locale else None) or ticket.requester_locale


def _to_customer(ticket, template: str, **context) -> None:
    # Dated by the portal's clock, as queue_email dates the message itself.
    hint = address_hint(ticket.requester_email, clock.now())
    queue_email(ticket.requester_email, template, _customer_locale(ticket), f"ticket_{template}",
                ticket=ticket, next_path=f"/requests/{ticket.reference}", sign_in_hint=hint, **context)


def request_received(ticket) -> None:
    """The automatic receipt: the procedure for the kind of request and its dates, as the Decree's
    acknowledgement must give them."""
    _to_customer(ticket, "ticket_received", **_legal_dates(ticket))


def _legal_dates(ticket) -> dict:
    """The latest dates the law would allow the request, for the customer to know its procedure."""
    kind = ticket.kind
    longer_until = due.legal_ceiling(ticket.received_at, kind.longer_days) if kind.longer_days else None
    return {"longer_until": longer_until, "extension_days": kind.extension_days}


def request_merged(ticket) -> None:
    _to_customer(ticket, "ticket_merged", **_legal_dates(ticket))


def staff_replied(ticket, entry) -> None:
    _to_customer(ticket, "ticket_reply", entry=entry)


def request_resolved(ticket) -> None:
    """The outcome; a kind that answers with its details (a complaint's finding) names the part of the
    e-mail that gives them (``email_answer``)."""
    model = ticket.kind.detail_model
    _to_customer(ticket, "ticket_resolved", details=db.session.get(model, ticket.id) if model is not None else None)


def deadline_extended(ticket) -> None:
    _to_customer(ticket, "ticket_extended")


def longer_period_applied(ticket) -> None:
    _to_customer(ticket, "ticket_longer_period")


def ticket_overdue(ticket) -> None:
    """Tell the assignee and every active board member, once per escalation."""
    _to_assignee_and_board(ticket, "ticket_overdue")


def acknowledgement_overdue(ticket) -> None:
    """Tell the assignee and every active board member that nobody has answered the customer yet."""
    _to_assignee_and_board(ticket, "ticket_unacknowledged")


def _to_assignee_and_board(ticket, template: str) -> None:
    board = db.session.scalars(select(StaffMember).where(StaffMember.role == Role.BOARD,
                                                         StaffMember.is_active.is_(True)))
    recipients = {member.email: member for member in board}
    if ticket.assignee is not None and ticket.assignee.is_active:
        recipients[ticket.assignee.email] = ticket.assignee
    for address, member in sorted(recipients.items()):
        queue_email(address, template, member.preferred_locale or STAFF_LOCALE, template,
                    ticket=ticket, member=member)


def customer_wrote(ticket, reopened: bool) -> None:
    """Tell the assignee that the customer wrote (and whether that reopened the ticket); when nobody
    is assigned, or the assignee can no longer sign in, every active member of the ticket's
    department. The message itself stays on the ticket page, where reading it is logged."""
    assignee = ticket.assignee
    to_department = assignee is None or not assignee.is_active
    if not to_department:
        recipients = [assignee]
    else:
        recipients = list(db.session.scalars(
            select(StaffMember).where(StaffMember.role == _role_of(ticket.department),
                                      StaffMember.is_active.is_(True)).order_by(StaffMember.email)))
    for member in recipients:
        queue_email(member.email, "ticket_customer_wrote", member.preferred_locale or STAFF_LOCALE,
                    "ticket_customer_wrote", ticket=ticket, member=member, reopened=reopened,
                    to_department=to_department)


def _role_of(department: Department) -> Role:
    """The role whose members make up a department (the board of directors, sales, customer care)."""
    return Role(department.value)
