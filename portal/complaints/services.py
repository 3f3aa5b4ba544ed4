"""The board's answer to a complaint or a misuse report. Flushes; the view commits."""

from __future__ import annotations

from datetime import datetime

from flask_babel import lazy_gettext as _l

from portal.audit.services import record
from portal.db import db
from portal.enums import TicketStatus
from portal.staff.models import StaffMember
from portal.tickets import services
from portal.tickets.kinds.leak_complaint import FINDINGS
from portal.tickets.models import OPEN_STATUSES, Ticket

COMPLAINT_KINDS = ("leak_complaint", "misuse_report")
NOT_A_COMPLAINT = _l("This request is not a complaint or a misuse report.")
FINISHED = _l("This request is already finished. If the customer disputes the answer, their reply opens it again.")
INCOMPLETE = _l("Give the finding, its reason and the remedy.")


def answer(ticket: Ticket, staff: StaffMember, finding: str, reason: str, remedy: str, now: datetime) -> None:
    """Record the board's answer and resolve the ticket: the customer is e-mailed the answer. A newer
    answer (after the customer disputed the first) replaces it on the detail row; the thread keeps
    every answer given."""
    if str(ticket.kind) not in COMPLAINT_KINDS:
        raise services.TicketRuleError(NOT_A_COMPLAINT)
    if ticket.status not in OPEN_STATUSES:
        raise services.TicketRuleError(FINISHED)
    reason, remedy = (reason or "").strip(), (remedy or "").strip()
    if finding not in FINDINGS or not reason or not remedy:
        raise services.TicketRuleError(INCOMPLETE)
    details = services.details_of(ticket)
    if details is None:
        details = ticket.kind.detail_model(ticket_id=ticket.id)
        db.session.add(details)
    details.finding, details.finding_reason, details.remedy = finding, reason, remedy
    details.answered_at, details.answered_by_id = now, staff.id
    services.add_event(ticket, "complaint_answered", now, staff, finding=finding, reason=reason, remedy=remedy)
    record(staff, "ticket.complaint_answered", ticket, finding=finding)
    services.change_status(ticket, staff, TicketStatus.RESOLVED, now)
