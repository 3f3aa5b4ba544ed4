"""Restriction of processing, or an objection to it (Decree 356/2025 Art. 5: 15 days).

The customer says which: restrict all processing of their data (the record is kept, nothing else
is done with it — no edits, no marketing), or object to one purpose. Staff apply it from the ticket
(``portal/rights``), which sets the flag on the record; then the request may be resolved.
"""

from __future__ import annotations

from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column
from wtforms import RadioField, SelectChoice, SelectField
from wtforms.validators import InputRequired, ValidationError

from portal.db import EnumText, UTCDateTime, db
from portal.enums import Department, Purpose, TicketStatus
from portal.tickets.forms import RequestMessageForm, message_field
from portal.tickets.kinds.base import RequestKind, register

WHAT = (("restriction", _l("Restrict all processing of my data: keep it, but do nothing else with it")),
        ("objection", _l("Object to one use of my data")))


class RestrictionForm(RequestMessageForm):
    what = RadioField(_l("What do you ask for?"), choices=[SelectChoice(code, title) for code, title in WHAT],
                      validators=[InputRequired(_l("Choose a restriction or an objection."))])
    purpose = SelectField(_l("The use you object to"),
                          choices=[SelectChoice("", "—")] + [SelectChoice(p.value, p.title) for p in Purpose])
    message = message_field(_l("Your reasons"))

    def validate_purpose(self, field):
        if self.what.data == "objection" and not field.data:
            raise ValidationError(_l("Choose the use you object to."))


class RestrictionRequest(db.Model):
    """A restriction or objection request: what was asked, and when staff applied it."""

    __tablename__ = "restriction_requests"
    __table_args__ = (
        CheckConstraint("what IN ('restriction', 'objection')", name="what_known"),
        CheckConstraint("what = 'restriction' OR purpose IS NOT NULL", name="objection_has_purpose"),
        CheckConstraint("(applied_at IS NULL) = (applied_by_id IS NULL)", name="applied_by_someone"),
    )

    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), primary_key=True)
    what: Mapped[str] = mapped_column(String(12))
    purpose: Mapped[Purpose | None] = mapped_column(EnumText(Purpose, 20))
    applied_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    applied_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_members.id"))

    @property
    def what_title(self):
        return dict(WHAT)[self.what]


@register
class Restriction(RequestKind):
    code = "restriction"
    position = 60
    title = _l("Restriction or objection")
    department = Department.CARE
    legal_days = 15
    longer_days = 20  # when a processor or third party must act
    procedure = _l(
        "We review the processing you object to or want restricted, stop or limit it unless the law "
        "requires it, and tell you our decision with its reasons.")
    customer_form = RestrictionForm
    offer = _l("Ask us to limit or stop using your data")
    detail_model = RestrictionRequest
    customer_partial = "rights/_restriction_customer.html"
    staff_partial = "rights/_restriction_staff.html"

    def details_from(self, form):
        return RestrictionRequest(what=form.what.data,
                                  purpose=Purpose(form.purpose.data) if form.what.data == "objection" else None)

    def outcome_problem(self, ticket, status: TicketStatus, reason: str | None):
        details = db.session.get(RestrictionRequest, ticket.id)
        if status is TicketStatus.RESOLVED and details is not None and details.applied_at is None:
            return _l("Apply the restriction or objection (the button above) before resolving the request, or "
                      "reject it with the reason.")
        return None
