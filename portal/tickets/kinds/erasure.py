"""Deletion of the customer's data (Decree 356/2025 Art. 5: 20 days).

Customers ask for it on their own page (``portal/rights``), after a fresh sign-in and with the
consequences explained; it cannot be filed with the plain message form. Staff approve it (which
erases the data, see :mod:`portal.rights.erasure`) or reject it with a reason.
"""

from __future__ import annotations

from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from portal.db import UTCDateTime, db
from portal.enums import Department, TicketStatus
from portal.tickets.kinds.base import RequestKind, register

# An erasure's progress: each step is recorded when it is done, so an erasure interrupted midway
# resumes from the step after the last one recorded (portal/rights/erasure.py).
ERASURE_STATES = ("requested", "approved", "suppressed", "tickets_anonymised", "contacts_erased",
                  "record_erased", "done", "rejected")
_STATE_LIST = ", ".join(f"'{state}'" for state in ERASURE_STATES)


class ErasureRequest(db.Model):
    """An erasure ticket's own details: who asked (verified or not) and how far the erasure went."""

    __tablename__ = "erasure_requests"
    __table_args__ = (
        CheckConstraint(f"state IN ({_STATE_LIST})", name="state_known"),
        CheckConstraint("(approved_at IS NULL) = (approved_by_id IS NULL)", name="approval_has_approver"),
    )

    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), primary_key=True)
    # The record the requester was signed in to when they asked (None: filed without one); only such
    # a request may be approved: the requester proved they are that customer.
    verified_customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"), index=True)
    state: Mapped[str] = mapped_column(String(20), default="requested")
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_members.id"))
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @property
    def is_done(self) -> bool:
        return self.state == "done"


@register
class Erasure(RequestKind):
    code = "erasure"
    position = 50
    title = _l("Deletion of my data")
    department = Department.CARE
    legal_days = 20
    longer_days = 30  # when a processor or third party must act
    procedure = _l(
        "We check what the law or an open warranty still requires us to keep, delete the rest (with the "
        "partners who process it for us) and tell you exactly what is kept, why and until when.")
    detail_model = ErasureRequest
    customer_partial = "rights/_erasure_customer.html"
    staff_partial = "rights/_erasure_staff.html"

    def outcome_problem(self, ticket, status: TicketStatus, reason: str | None):
        """An erasure is resolved only by approving it (which carries it out); once carried out it
        cannot be rejected."""
        details = db.session.get(ErasureRequest, ticket.id)
        done = details is not None and details.approved_at is not None
        if status is TicketStatus.RESOLVED and not (details is not None and details.is_done):
            return _l("An erasure is resolved by approving it with the button “Approve and erase”, which erases "
                      "the data and tells the customer what is kept.")
        if status is TicketStatus.REJECTED and done:
            return _l("This erasure was approved and carried out: it can no longer be rejected.")
        return None
