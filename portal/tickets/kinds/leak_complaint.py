"""A complaint that the customer's data reached a third party: a request for protection measures
(Decree 356/2025 Art. 5(5): 15 days), for the board of directors at high priority.

The customer says which data leaked, where they saw it or who contacted them (a name, a phone number,
a web address), when, and what happened. The company promises a first answer within 24 hours (the
``first_response`` queue setting, :mod:`portal.tickets.settings`). The board resolves the complaint
only with an answer: a finding (confirmed, not confirmed, cannot tell), the reason and the remedy,
which the customer reads on their request page and in the resolution e-mail (``portal/complaints``).
The answer fields are shared with the misuse report (:class:`ComplaintAnswer`).
"""

from __future__ import annotations

import os
from datetime import date, datetime
from urllib.parse import urlsplit

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import JSON, CheckConstraint, Date, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, declared_attr, mapped_column, relationship, validates
from wtforms import DateField, MultipleFileField, SelectChoice, SelectMultipleField, StringField
from wtforms.validators import InputRequired, Length, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from portal import clock
from portal.contact_values import InvalidPhone, format_phone, normalize_phone
from portal.db import UTCDateTime, db
from portal.enums import Department, Priority, TicketStatus
from portal.forms import EARLIEST_DAY, no_control_characters
from portal.local_time import local_date
from portal.tickets.forms import RequestMessageForm, message_field
from portal.tickets.kinds.base import RequestKind, register
from portal.tickets.kinds.evidence import EVIDENCE_TYPES, read_evidence, remove_after_commit, write_evidence

FIRST_RESPONSE_HOURS = 24  # the company's own promise for complaints and misuse reports

# What a board member finds, and how the customer reads it.
FINDINGS = {
    "confirmed": _l("Confirmed: your data did reach someone it should not have"),
    "not_confirmed": _l("Not confirmed: we found no sign that your data leaked from us"),
    "unclear": _l("We cannot tell whether your data leaked from us"),
}
_FINDING_LIST = ", ".join(f"'{finding}'" for finding in FINDINGS)

LEAKED_DATA = {
    "name": _l("My name"),
    "phone": _l("My phone number"),
    "address": _l("My address"),
    "email": _l("My e-mail address"),
    "order": _l("Details of my orders"),
    "other": _l("Other data"),
}

NO_ANSWER = _l("Record the finding, its reason and the remedy first: the customer is owed that answer.")


class ComplaintAnswer:
    """The board's answer to a complaint or a misuse report, on the kind's detail row."""

    finding: Mapped[str | None] = mapped_column(String(20))
    finding_reason: Mapped[str | None] = mapped_column(Text)
    remedy: Mapped[str | None] = mapped_column(Text)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @declared_attr
    def answered_by_id(cls) -> Mapped[int | None]:
        return mapped_column(ForeignKey("staff_members.id"))

    @property
    def is_answered(self) -> bool:
        return bool(self.finding and (self.finding_reason or "").strip() and (self.remedy or "").strip())

    @property
    def finding_title(self):
        return FINDINGS.get(self.finding or "")


def answer_constraints() -> tuple:
    return (
        CheckConstraint(f"finding IN ({_FINDING_LIST})", name="finding_known"),
        CheckConstraint("finding IS NULL OR (finding_reason IS NOT NULL AND remedy IS NOT NULL"
                        " AND answered_at IS NOT NULL)", name="finding_is_complete"),
    )


_TYPE_LIST = ", ".join(f"'{kind}'" for kind in EVIDENCE_TYPES)


class EvidenceFile(db.Model):
    """A file a customer sent with a leak complaint: kept in ``UPLOAD_DIR`` under a random name,
    served only as a download to the complainant and the board."""

    __tablename__ = "complaint_evidence"
    __table_args__ = (CheckConstraint(f"content_type IN ({_TYPE_LIST})", name="type_known"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("leak_complaint_details.ticket_id"), index=True)
    stored_name: Mapped[str] = mapped_column(String(64), unique=True)
    original_name: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(40))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    @property
    def path(self) -> str:
        return os.path.join(current_app.config["UPLOAD_DIR"], self.stored_name)


def name_key(name: str | None) -> str:
    """A third party's name as complaints are compared by it: case (Vietnamese capitals too) and
    spaces aside."""
    return "".join((name or "").split()).casefold()


def url_key(url: str | None) -> str:
    """Host and path of a web address, lowercased, without the scheme, a "www.", a user name or a
    trailing slash: ``https://www.Example.com/tin/1/`` → ``example.com/tin/1``."""
    if not url:
        return ""
    parts = urlsplit(url.strip())
    host = parts.netloc.rpartition("@")[2].lower().removeprefix("www.")
    return f"{host}{parts.path}".rstrip("/").lower()


class LeakComplaintDetails(ComplaintAnswer, db.Model):
    """What the customer says leaked, where and when; and the board's answer."""

    __tablename__ = "leak_complaint_details"
    __table_args__ = answer_constraints()

    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), primary_key=True)
    leaked: Mapped[list] = mapped_column(JSON, default=list)  # keys of LEAKED_DATA
    leaked_other: Mapped[str | None] = mapped_column(String(200))
    third_party_name: Mapped[str | None] = mapped_column(String(200))
    third_party_phone: Mapped[str | None] = mapped_column(String(20), index=True)  # E.164
    third_party_url: Mapped[str | None] = mapped_column(String(500))
    # The name and the web address as they are compared with other complaints' (:func:`name_key`,
    # :func:`url_key`), kept in step with them and indexed: finding the complaints that name the same
    # third party is a look-up, whatever the number of complaints.
    third_party_name_key: Mapped[str] = mapped_column(String(400), default="", index=True)
    third_party_url_key: Mapped[str] = mapped_column(String(500), default="", index=True)
    # None on a row that holds only the board's answer (a complaint filed without the form's details)
    seen_on: Mapped[date | None] = mapped_column(Date)
    evidence: Mapped[list[EvidenceFile]] = relationship(order_by=EvidenceFile.id, cascade="all, delete-orphan")

    @validates("third_party_name")
    def _keep_name_key(self, _attribute, name: str | None) -> str | None:
        self.third_party_name_key = name_key(name)
        return name

    @validates("third_party_url")
    def _keep_url_key(self, _attribute, url: str | None) -> str | None:
        self.third_party_url_key = url_key(url)
        return url

    @property
    def leaked_titles(self) -> list:
        return [LEAKED_DATA[key] for key in self.leaked or [] if key in LEAKED_DATA]

    @property
    def third_party_phone_display(self) -> str | None:
        return format_phone(self.third_party_phone) if self.third_party_phone else None


def not_in_future(form, field):
    """A date the customer saw something: today at the latest, in Vietnam's calendar (and not before
    EARLIEST_DAY: an earlier one is a typing slip)."""
    if field.data is not None and field.data > local_date(clock.now()):
        raise ValidationError(_l("This date is in the future. Give the day it happened."))
    if field.data is not None and field.data < EARLIEST_DAY:
        raise ValidationError(_l("This date is too long ago. Give the day it happened."))


def _phone(form, field):
    if not (field.data or "").strip():
        field.data = None
        return
    try:
        field.data = normalize_phone(field.data)
    except InvalidPhone:
        raise ValidationError(_l("This is not a phone number. Write it as you saw it, e.g. 0903 123 456.")) from None


def _web_address(form, field):
    text = (field.data or "").strip()
    if not text:
        field.data = None
        return
    parts = urlsplit(text)
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc or any(ch.isspace() for ch in text):
        raise ValidationError(_l("Give a web address starting with http:// or https://."))
    field.data = text


def _optional_text(form, field):
    field.data = (field.data or "").strip() or None


def _evidence(form, field):
    """Read the chosen files once (see :mod:`portal.tickets.kinds.evidence`); keeps what is to be
    stored on ``form.evidence_read``."""
    form.evidence_read = []
    form.evidence_read = read_evidence(field.data)


def store_evidence(read: list, now: datetime) -> list[EvidenceFile]:
    """Write the files in UPLOAD_DIR; their rows, for the complaint's details."""
    return [EvidenceFile(created_at=now, **columns) for columns in write_evidence(read)]


class CheckboxesField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class LeakComplaintForm(RequestMessageForm):
    leaked = CheckboxesField(_l("Which of your data leaked?"),
                             choices=[SelectChoice(key, title) for key, title in LEAKED_DATA.items()],
                             validators=[InputRequired(_l("Tick at least one kind of data."))],
                             invalid_choice_message=_l("Choose among the options listed."),
                             invalid_value_message=_l("Choose among the options listed."))
    leaked_other = StringField(_l("If something else, what?"), validators=[
        Length(max=200, message=_l("Write at most %(max)d characters.")), no_control_characters, _optional_text])
    third_party_name = StringField(_l("Who had it or contacted you (a name or a company), if you know"), validators=[
        Length(max=200, message=_l("Write at most %(max)d characters.")), no_control_characters, _optional_text])
    third_party_phone = StringField(_l("The phone number that called or texted you, if any"),
                                    validators=[_phone])
    third_party_url = StringField(_l("The web page where you saw it, if any"), validators=[
        Length(max=500, message=_l("Write at most %(max)d characters.")), no_control_characters, _web_address])
    seen_on = DateField(_l("When did you see it or were you contacted?"), validators=[
        InputRequired(_l("Give the date.")), not_in_future])
    message = message_field(_l("What happened?"))
    evidence = MultipleFileField(_l("Pictures or documents that show it (JPEG, PNG or PDF; optional)"),
                                 validators=[_evidence], render_kw={"accept": ".jpg,.jpeg,.png,.pdf"})
    has_files = True  # the page sends it as multipart/form-data
    evidence_read: list = []

    def validate_leaked_other(self, field):
        if "other" in (self.leaked.data or []) and not field.data:
            raise ValidationError(_l("Say what else leaked."))


@register
class LeakComplaint(RequestKind):
    code = "leak_complaint"
    position = 70
    title = _l("Complaint: my data leaked")
    department = Department.BOARD
    priority = Priority.HIGH
    legal_days = 15
    joins_open_request = False  # each complaint has its own events, details and evidence
    first_response_hours = FIRST_RESPONSE_HOURS
    procedure = _l(
        "The board of directors verifies what happened, then answers you with the reason and how the leak"
        " is being corrected and remedied.")

    offer = _l("Tell us if you think your data has leaked")
    customer_form = LeakComplaintForm
    detail_model = LeakComplaintDetails
    customer_partial = "complaints/_leak_customer.html"
    staff_partial = "complaints/_leak_staff.html"
    email_answer = "complaints/_answer.txt"

    def details_from(self, form):
        return LeakComplaintDetails(
            leaked=[key for key in LEAKED_DATA if key in (form.leaked.data or [])],
            leaked_other=form.leaked_other.data if "other" in (form.leaked.data or []) else None,
            third_party_name=form.third_party_name.data, third_party_phone=form.third_party_phone.data,
            third_party_url=form.third_party_url.data, seen_on=form.seen_on.data,
            evidence=store_evidence(form.evidence_read, clock.now()))

    def outcome_problem(self, ticket, status, reason):
        return answer_missing(self, ticket, status)

    def erase_personal(self, details) -> None:
        """The third party named, what else leaked, and the evidence files (rows and files) go; what
        kinds of data leaked and when stay, for the register."""
        details.third_party_name = details.third_party_phone = details.third_party_url = None
        details.leaked_other = None
        for evidence in list(details.evidence):
            remove_after_commit(evidence.path)
            details.evidence.remove(evidence)


def answer_missing(kind: RequestKind, ticket, status: TicketStatus):
    """A complaint or misuse report is resolved only once the board's answer is recorded."""
    if status is not TicketStatus.RESOLVED:
        return None
    details = db.session.get(kind.detail_model, ticket.id)
    return None if details is not None and details.is_answered else NO_ANSWER
