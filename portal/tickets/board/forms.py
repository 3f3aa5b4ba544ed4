"""The board's forms: queue filters, the forms of a ticket page, and the queue settings."""

from __future__ import annotations

import re

from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    DateField,
    HiddenField,
    IntegerField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import (
    AnyOf,
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    Regexp,
    ValidationError,
)

from portal.enums import Department, Priority, TicketStatus
from portal.forms import PortalForm, no_control_characters
from portal.settings.insider_alerts import CUSTOMERS_RANGE, FACTOR_RANGE
from portal.settings.services import override_on
from portal.tickets.due import is_public_working_day
from portal.tickets.forms import MESSAGE_MAX, SubmissionKeyMixin, message_field
from portal.tickets.kinds import all_kinds
from portal.tickets.settings import FIRST_RESPONSE_MAX_HOURS, first_response_kinds, legal_maximum

STATUS_OPEN = "open_all"
STATUS_ANY = "any"
VIEW_TITLES = {"mine": _l("Mine"), "department": _l("My department"), "unassigned": _l("Unassigned"),
               "overdue": _l("Overdue"), "all": _l("All queues"), "search": _l("Search results")}


# --- the queue -----------------------------------------------------------------------------------


class QueueFilterForm(PortalForm):
    """The queue's filters and search box, read from the query string (GET, so no CSRF token)."""

    class Meta:
        csrf = False

    view = HiddenField()
    q = StringField(_l("Reference, e-mail or phone"), validators=[Length(max=200)],
                    render_kw={"type": "search", "autocapitalize": "none", "spellcheck": "false"})
    kind = SelectField(_l("Kind"), default="", choices=lambda: [SelectChoice("", _l("Any kind"))]
                       + [SelectChoice(str(k), k.title) for k in all_kinds()])
    status = SelectField(_l("Status"), default=STATUS_OPEN, choices=[
        SelectChoice(STATUS_OPEN, _l("Not finished (new, open, waiting)")), SelectChoice(STATUS_ANY, _l("Any status"))]
        + [SelectChoice(s, s.title) for s in TicketStatus])
    department = SelectField(_l("Department"), default="", choices=[SelectChoice("", _l("Any department"))]
                             + [SelectChoice(d, d.title) for d in Department])
    assignee = SelectField(_l("Assignee"), default="", choices=[])
    due_by = DateField(_l("Due by"), validators=[Optional()])
    after = HiddenField()

    def set_members(self, members) -> None:
        self.assignee.choices = ([SelectChoice("", _l("Anyone")), SelectChoice("none", _l("Nobody (unassigned)"))]
                                 + [SelectChoice(str(member.id), member.full_name) for member in members])


# --- one ticket ----------------------------------------------------------------------------------


class StaffReplyForm(SubmissionKeyMixin, PortalForm):
    """A reply e-mailed to the customer, or an internal note. Which one is the button pressed — each
    says what it does — never a default a member might not notice."""

    message = message_field(_l("Message"))
    visibility = StringField(validators=[AnyOf(("public", "internal"), message=_l(
        "Choose what to do with your text: send it to the customer, or add it as an internal note."))])
    version = HiddenField()


class TicketUpdateForm(PortalForm):
    """Status, assignee and department in one form, guarded by the version the page was drawn from."""

    status = SelectField(_l("Status"), choices=[SelectChoice(s, s.title) for s in TicketStatus])
    reason = TextAreaField(_l("Reason shown to the customer (needed to reject)"),
                           validators=[Length(max=MESSAGE_MAX), no_control_characters], render_kw={"rows": 3})
    assignee = SelectField(_l("Assignee"), choices=[], validate_choice=True)
    department = SelectField(_l("Department"), choices=[SelectChoice(d, d.title) for d in Department])
    version = HiddenField()


class ExtendForm(PortalForm):
    days = IntegerField(_l("Extra days"), validators=[InputRequired(_l("Enter a number of days.")),
                                                      NumberRange(min=1, max=30, message=_l(
                                                          "Enter a number of days between %(min)s and %(max)s."))])
    reason = message_field(_l("Reason (e-mailed to the customer)"))
    version = HiddenField()


class LongerPeriodForm(PortalForm):
    reason = message_field(_l("Which processor or third party must act, and why (e-mailed to the customer)"))
    version = HiddenField()


class TakeForm(PortalForm):
    pass


class LinkCustomerForm(PortalForm):
    customer_id = StringField(_l("Customer number"), validators=[
        InputRequired(_l("Enter the customer's number.")),
        Regexp(r"^\d{1,10}$", message=_l("A customer number has only digits."))])
    # A second detail from the record, so a mistyped number cannot open a stranger's data.
    contact = StringField(_l("That customer's phone number or e-mail address on record"), validators=[
        InputRequired(_l("Enter the phone number or e-mail address the customer gave you.")),
        Length(max=320, message=_l("Write at most %(max)d characters.")), no_control_characters])
    version = HiddenField()


# --- settings ------------------------------------------------------------------------------------


def _strip(value):
    return value.strip() if isinstance(value, str) else value


def _refuse_a_second_override(day) -> None:
    override = override_on(day) if day else None
    if override is None:
        return
    if override.is_working_day:
        raise ValidationError(_l("This date is already marked as a day worked. Remove that first."))
    raise ValidationError(_l("This date is already a day off."))


class DayOffForm(PortalForm):
    """A day the company does not work although the public calendar does (e.g. a bridge day)."""

    day = DateField(_l("Date"), validators=[InputRequired(_l("Enter the date."))])
    name = StringField(_l("Name (e.g. bridge day after Reunification Day)"), filters=[_strip],
                       validators=[DataRequired(_l("Give the day off a name.")),
                                   Length(max=200, message=_l("Write at most %(max)d characters.")),
                                   no_control_characters])

    def validate_day(self, field):
        _refuse_a_second_override(field.data)


class DayWorkedForm(PortalForm):
    """A public holiday or weekend day the company works (e.g. a make-up day of its Tết plan)."""

    day = DateField(_l("Date"), validators=[InputRequired(_l("Enter the date."))])
    name = StringField(_l("Name (e.g. make-up day for the Tết holiday)"), filters=[_strip],
                       validators=[DataRequired(_l("Give the day worked a name.")),
                                   Length(max=200, message=_l("Write at most %(max)d characters.")),
                                   no_control_characters])

    def validate_day(self, field):
        if field.data and is_public_working_day(field.data):
            raise ValidationError(_l("This date is already a working day: only a public holiday or a weekend "
                                     "day can be marked as worked."))
        _refuse_a_second_override(field.data)


def _hours_field(label, maximum: int):
    return IntegerField(label, validators=[
        InputRequired(_l("Enter a number of hours.")),
        NumberRange(min=1, max=maximum, message=_l("Between %(min)d and %(max)d hours."))],
        render_kw={"min": 1, "max": maximum, "inputmode": "numeric"})


def _factor(form, field):
    """A number of times from FACTOR_RANGE, with at most one decimal; a decimal comma is read too.
    Leaves the number (a float) in ``field.data``."""
    low, high = FACTOR_RANGE
    text = (field.data or "").strip().replace(",", ".")
    message = _l("Enter a number from %(min)d to %(max)d, with at most one decimal (e.g. 3 or 2.5).",
                 min=low, max=high)
    if not re.fullmatch(r"[0-9]{1,2}(\.[0-9])?", text):
        raise ValidationError(message)
    value = float(text)
    if not low <= value <= high:
        raise ValidationError(message)
    field.data = value


def _days_field(label, maximum: int):
    return IntegerField(label, validators=[
        InputRequired(_l("Enter a number of days.")),
        NumberRange(min=1, max=maximum, message=_l("Between %(min)d and %(max)d days (the legal maximum)."))],
        render_kw={"min": 1, "max": maximum, "inputmode": "numeric"})


def settings_form(**kwargs) -> PortalForm:
    """The settings form, for the kinds registered now."""
    return settings_form_class()(**kwargs)


def settings_form_class() -> type[PortalForm]:
    """The settings form: for each kind its department, priority and two clocks; per department
    the assignment mode; the acknowledgement clock and how fulfilment days are counted."""
    legal = legal_maximum()

    class SettingsForm(PortalForm):
        acknowledge_working_days = _days_field(_l("Acknowledge within (working days)"),
                                               legal["acknowledge_working_days"])
        fulfil_in_working_days = BooleanField(_l("Count fulfilment deadlines in working days"))
        insider_customers = IntegerField(
            _l("Alert when a member is shown the data of more than this many different customers in a day"),
            validators=[InputRequired(_l("Enter a number of customers.")),
                        NumberRange(min=CUSTOMERS_RANGE[0], max=CUSTOMERS_RANGE[1],
                                    message=_l("Between %(min)d and %(max)d customers."))],
            render_kw={"min": CUSTOMERS_RANGE[0], "max": CUSTOMERS_RANGE[1], "inputmode": "numeric"})
        insider_factor = StringField(_l("… and more than this many times their usual number"),
                                     validators=[InputRequired(_l("Enter a number of times.")), _factor],
                                     render_kw={"inputmode": "decimal"})

    for kind in first_response_kinds():
        setattr(SettingsForm, f"first_response_{kind}",
                _hours_field(_l("First answer within (hours)"), FIRST_RESPONSE_MAX_HOURS))

    departments = [SelectChoice(d, d.title) for d in Department]
    priorities = [SelectChoice(p, p.title) for p in Priority]
    for kind in all_kinds():
        setattr(SettingsForm, f"department_{kind}", SelectField(_l("Department"), choices=departments))
        setattr(SettingsForm, f"priority_{kind}", SelectField(_l("Priority"), choices=priorities))
        setattr(SettingsForm, f"fulfil_{kind}", _days_field(_l("Answer within (days)"), legal["fulfil_days"][kind]))
        setattr(SettingsForm, f"extension_{kind}",
                _days_field(_l("Extension of at most (days)"), legal["extension_days"][kind]))
    modes = [SelectChoice("auto", _l("Assign to the least-loaded member")),
             SelectChoice("pickup", _l("Leave for a member to take"))]
    for department in Department:
        setattr(SettingsForm, f"assignment_{department}", SelectField(department.title, choices=modes))
    return SettingsForm

