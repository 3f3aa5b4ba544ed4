"""E-mails about tickets, queued in the caller's transaction, in the recipient's language.

Links lead to sign-in (then to the request); an e-mail never carries a session.
"""

from __future__ import annotations

from sqlalchemy import select

from portal.db import db
from portal.enums import Department, Role
from portal.outbox.services import queue_email
from portal.staff.models import StaffMember

STAFF_LOCALE = "vi"


def _customer_locale(ticket) -> str:
    customer = ticket.customer
    return (customer.preferred_locale if customer and customer.preferred_locale else None) or ticket.requester_locale


def _to_customer(ticket, template: str, **context) -> None:
    queue_email(ticket.requester_email, template, _customer_locale(ticket), f"ticket_{template}",
                ticket=ticket, next_path=f"/requests/{ticket.reference}", **context)


def request_received(ticket) -> None:
    _to_customer(ticket, "ticket_received")


def request_merged(ticket) -> None:
    _to_customer(ticket, "ticket_merged")


def staff_replied(ticket, entry) -> None:
    _to_customer(ticket, "ticket_reply", entry=entry)


def request_resolved(ticket) -> None:
    _to_customer(ticket, "ticket_resolved")


def deadline_extended(ticket) -> None:
    _to_customer(ticket, "ticket_extended")


def ticket_overdue(ticket) -> None:
    """Tell the assignee and every active board member, once per escalation."""
    board = db.session.scalars(select(StaffMember).where(StaffMember.role == Role.BOARD,
                                                         StaffMember.is_active.is_(True)))
    recipients = {member.email: member for member in board}
    if ticket.assignee is not None and ticket.assignee.is_active:
        recipients[ticket.assignee.email] = ticket.assignee
    for address, member in sorted(recipients.items()):
        queue_email(address, "ticket_overdue", member.preferred_locale or STAFF_LOCALE, "ticket_overdue",
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
