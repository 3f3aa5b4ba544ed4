"""A report of misuse: abuse, a security violation, a third party holding the customer's data or
credentials. Like a leak complaint, for the board at high priority (15 days), with the company's
24-hour first answer, and resolved only with the board's answer (:class:`ComplaintAnswer`)."""

from __future__ import annotations

from datetime import date

from flask_babel import lazy_gettext as _l
from sqlalchemy import CheckConstraint, Date, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column
from wtforms import DateField, RadioField, SelectChoice
from wtforms.validators import InputRequired

from portal.db import db
from portal.enums import Department, Priority
from portal.tickets.forms import RequestMessageForm, message_field
from portal.tickets.kinds.base import RequestKind, register
from portal.tickets.kinds.leak_complaint import (
    FIRST_RESPONSE_HOURS,
    ComplaintAnswer,
    answer_constraints,
    answer_missing,
    not_in_future,
)

MISUSES = {
    "abuse": _l("Someone abused my data or my account"),
    "security": _l("A security violation (my account or data was accessed without my permission)"),
    "credentials": _l("Someone else holds my data, my login name or my password"),
}
_MISUSE_LIST = ", ".join(f"'{misuse}'" for misuse in MISUSES)


class MisuseReportDetails(ComplaintAnswer, db.Model):
    """What kind of misuse the customer reports and when; and the board's answer."""

    __tablename__ = "misuse_report_details"
    __table_args__ = (*answer_constraints(), CheckConstraint(f"misuse IN ({_MISUSE_LIST})", name="misuse_known"))

    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), primary_key=True)
    # None on a row that holds only the board's answer (a report filed without the form's details)
    misuse: Mapped[str | None] = mapped_column(String(20))
    happened_on: Mapped[date | None] = mapped_column(Date)

    @property
    def misuse_title(self):
        return MISUSES.get(self.misuse)


class MisuseReportForm(RequestMessageForm):
    misuse = RadioField(_l("What happened?"), choices=[SelectChoice(key, title) for key, title in MISUSES.items()],
                        validators=[InputRequired(_l("Choose what kind of misuse you report."))])
    happened_on = DateField(_l("When did it happen, or when did you notice it?"), validators=[
        InputRequired(_l("Give the date.")), not_in_future])
    message = message_field(_l("Describe what happened"))


@register
class MisuseReport(RequestKind):
    code = "misuse_report"
    position = 80
    title = _l("Report of misuse")
    department = Department.BOARD
    priority = Priority.HIGH
    legal_days = 15
    joins_open_request = False  # each complaint has its own events, details and evidence
    first_response_hours = FIRST_RESPONSE_HOURS
    procedure = _l(
        "The board of directors looks into the misuse you report, takes the measures needed to protect "
        "your data and tells you what was done.")

    offer = _l("Report misuse of your data or your account")
    customer_form = MisuseReportForm
    detail_model = MisuseReportDetails
    customer_partial = "complaints/_misuse_customer.html"
    staff_partial = "complaints/_misuse_staff.html"
    email_answer = "complaints/_answer.txt"

    def details_from(self, form):
        return MisuseReportDetails(misuse=form.misuse.data, happened_on=form.happened_on.data)

    def outcome_problem(self, ticket, status, reason):
        return answer_missing(self, ticket, status)
