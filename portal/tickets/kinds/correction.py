"""A correction of the customer's data that staff must follow up (Decree 356/2025 Art. 5: 10 days).

Customers correct their addresses, phone numbers, e-mail addresses and notes themselves on My data;
each correction opens one of these for customer care, so that visits, deliveries and partners use the
new data. Several corrections in a row do not flood the queue: while a customer has a correction
request open, later changes join it as entries (:mod:`portal.tickets.corrections`). A new full name
is a proposal care approve or reject; the request cannot be finished before that decision.
"""

from __future__ import annotations

from datetime import datetime
from types import SimpleNamespace

from flask_babel import lazy_gettext as _l
from sqlalchemy import JSON, CheckConstraint, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from portal.account.models import field_title
from portal.db import UTCDateTime, db
from portal.enums import Department
from portal.tickets.kinds.base import RequestKind, register

APPROVED, REJECTED = "approved", "rejected"


class CorrectionDetails(db.Model):
    """What a correction request is about: the changes the customer made (old → new, when), and a
    proposed full name with staff's decision on it."""

    __tablename__ = "correction_details"
    __table_args__ = (
        CheckConstraint(f"name_decision IN ('{APPROVED}', '{REJECTED}')", name="name_decision_known"),
        CheckConstraint(f"name_decision IS NULL OR name_decision = '{APPROVED}' OR name_reason IS NOT NULL",
                        name="rejection_has_reason"),
    )

    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), primary_key=True)
    # One entry per change: {"field": "phone:mobile", "old": ..., "new": ..., "at": ISO time}.
    changes: Mapped[list] = mapped_column(JSON, default=list)
    proposed_name: Mapped[str | None] = mapped_column(String(200))
    name_decision: Mapped[str | None] = mapped_column(String(10))
    name_reason: Mapped[str | None] = mapped_column(Text)  # why it was rejected, told to the customer
    name_decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    name_decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_members.id"))

    @property
    def entries(self) -> list[SimpleNamespace]:
        """The changes, newest last, each with its field's title and its time."""
        return [SimpleNamespace(title=field_title(entry["field"]), old=entry.get("old"), new=entry.get("new"),
                                at=datetime.fromisoformat(entry["at"])) for entry in self.changes or []]

    @property
    def name_waits(self) -> bool:
        return bool(self.proposed_name) and self.name_decision is None


@register
class Correction(RequestKind):
    code = "correction"
    position = 30
    title = _l("Correction")
    department = Department.CARE
    legal_days = 10
    longer_days = 15  # when a processor or third party must act
    procedure = _l(
        "We check the correction with you if needed, change the data in our records and tell you what was"
        " changed. If a partner who processes the data for us holds it too, we have them correct it.")

    offer = _l("Correct your data")
    detail_model = CorrectionDetails
    customer_partial = "requests/_correction.html"
    staff_partial = "board/_correction.html"

    def outcome_problem(self, ticket, status, reason):
        """A proposed name must be approved or rejected before the request is finished."""
        details = db.session.get(CorrectionDetails, ticket.id)
        if details is not None and details.name_waits:
            return _l("Approve or reject the proposed name first: the customer is waiting for that decision.")
        return None
