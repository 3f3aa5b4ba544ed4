"""Forms of the admin board that are not about one ticket: queue filters and queue settings."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, DateField, HiddenField, IntegerField, SelectChoice, SelectField, StringField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, ValidationError

from portal.db import db
from portal.enums import Department, Priority, TicketKind, TicketStatus
from portal.forms import PortalForm, no_control_characters
from portal.tickets.models import DayOff
from portal.tickets.settings import LEGAL_MAXIMUM

STATUS_OPEN = "open_all"
STATUS_ANY = "any"
VIEW_TITLES = {"mine": _l("Mine"), "department": _l("My department"), "unassigned": _l("Unassigned"),
               "overdue": _l("Overdue"), "all": _l("All queues"), "search": _l("Search results")}


class QueueFilterForm(PortalForm):
    """The queue's filters and search box, read from the query string (GET, so no CSRF token)."""

    class Meta:
        csrf = False

    view = HiddenField()
    q = StringField(_l("Reference, e-mail or phone"), validators=[Length(max=200)],
                    render_kw={"type": "search", "autocapitalize": "none", "spellcheck": "false"})
    kind = SelectField(_l("Kind"), default="", choices=[SelectChoice("", _l("Any kind"))]
                       + [SelectChoice(k.value, k.title) for k in TicketKind])
    status = SelectField(_l("Status"), default=STATUS_OPEN, choices=[
        SelectChoice(STATUS_OPEN, _l("Not finished (new, open, waiting)")), SelectChoice(STATUS_ANY, _l("Any status"))]
        + [SelectChoice(s.value, s.title) for s in TicketStatus])
    department = SelectField(_l("Department"), default="", choices=[SelectChoice("", _l("Any department"))]
                             + [SelectChoice(d.value, d.title) for d in Department])
    assignee = SelectField(_l("Assignee"), default="", choices=[])
    due_by = DateField(_l("Due by"), validators=[Optional()])
    after = HiddenField()

    def set_members(self, members) -> None:
        self.assignee.choices = ([SelectChoice("", _l("Anyone")), SelectChoice("none", _l("Nobody (unassigned)"))]
                                 + [SelectChoice(str(member.id), member.full_name) for member in members])


class DayOffForm(PortalForm):
    day = DateField(_l("Date"), validators=[InputRequired(_l("Enter the date."))])
    name = StringField(_l("Name (e.g. bridge day after Reunification Day)"),
                       filters=[lambda value: value.strip() if isinstance(value, str) else value],
                       validators=[DataRequired(_l("Give the day off a name.")),
                                   Length(max=200, message=_l("Write at most %(max)d characters.")),
                                   no_control_characters])

    def validate_day(self, field):
        if field.data and db.session.get(DayOff, field.data) is not None:
            raise ValidationError(_l("This date is already a day off."))


def _days_field(label, maximum: int):
    return IntegerField(label, validators=[
        InputRequired(_l("Enter a number of days.")),
        NumberRange(min=1, max=maximum, message=_l("Between %(min)d and %(max)d days (the legal maximum)."))],
        render_kw={"min": 1, "max": maximum, "inputmode": "numeric"})


def settings_form_class() -> type[PortalForm]:
    """The settings form: for each kind its department, priority and two clocks; per department
    the assignment mode; the acknowledgement clock and how fulfilment days are counted."""
    legal = LEGAL_MAXIMUM

    class SettingsForm(PortalForm):
        acknowledge_working_days = _days_field(_l("Acknowledge within (working days)"),
                                               legal["acknowledge_working_days"])
        fulfil_in_working_days = BooleanField(_l("Count fulfilment deadlines in working days"))

    departments = [SelectChoice(d.value, d.title) for d in Department]
    priorities = [SelectChoice(p.value, p.title) for p in Priority]
    for kind in TicketKind:
        setattr(SettingsForm, f"department_{kind.value}", SelectField(_l("Department"), choices=departments))
        setattr(SettingsForm, f"priority_{kind.value}", SelectField(_l("Priority"), choices=priorities))
        setattr(SettingsForm, f"fulfil_{kind.value}",
                _days_field(_l("Answer within (days)"), legal["fulfil_days"][kind.value]))
        setattr(SettingsForm, f"extension_{kind.value}",
                _days_field(_l("Extension of at most (days)"), legal["extension_days"][kind.value]))
    modes = [SelectChoice("auto", _l("Assign to the least-loaded member")),
             SelectChoice("pickup", _l("Leave for a member to take"))]
    for department in Department:
        setattr(SettingsForm, f"assignment_{department.value}", SelectField(department.title, choices=modes))
    return SettingsForm


SettingsForm = settings_form_class()
