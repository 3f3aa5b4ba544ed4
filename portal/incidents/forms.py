"""The forms of the breach-incident pages. Moments are typed in Vietnam's local time (a date and a
time); the services receive them in UTC (:func:`portal.incidents.services.from_local`)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField
from wtforms import DateTimeLocalField, HiddenField, SelectChoice, SelectField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional, ValidationError

from portal.forms import EARLIEST_DAY, PortalForm, no_control_characters
from portal.incidents.models import DATA_CATEGORIES
from portal.tickets.kinds.leak_complaint import CheckboxesField

TEXT_MAX = 4000
LOCAL_FORMAT = "%Y-%m-%dT%H:%M"


class LocalMomentField(DateTimeLocalField):
    """A date and a time in Vietnam (the browser's ``datetime-local`` input), read as a naive moment."""

    def __init__(self, label=None, validators=None, **kwargs):
        super().__init__(label, validators, format=[LOCAL_FORMAT, "%Y-%m-%dT%H:%M:%S"], **kwargs)

    def process_formdata(self, valuelist):
        try:
            super().process_formdata(valuelist)
        except ValueError:
            raise ValueError(_l("Give a date and a time, e.g. 28/11/2026 14:30.")) from None
        if self.data is not None and self.data.date() < EARLIEST_DAY:
            self.data = None
            raise ValueError(_l("This moment is too long ago. Give when it really happened."))


class Checkboxes(CheckboxesField):
    """Checkboxes whose values must be among the choices, with the portal's own message."""

    def __init__(self, label=None, validators=None, **kwargs):
        super().__init__(label, validators, invalid_choice_message=_l("Choose among the options listed."),
                         invalid_value_message=_l("Choose among the options listed."), **kwargs)


def _text(label, required: str | None = None, rows: int = 3):
    validators = [InputRequired(required)] if required else [Optional()]
    return TextAreaField(label, validators=[
        *validators, Length(max=TEXT_MAX, message=_l("Write at most %(max)d characters.")), no_control_characters,
    ], render_kw={"rows": rows, "maxlength": TEXT_MAX})


class IncidentForm(PortalForm):
    """What the notice to the authority says of the violation (Decree 356/2025 Art. 28)."""

    title = StringField(_l("Short title"), validators=[
        InputRequired(_l("Give the incident a short title.")),
        Length(max=200, message=_l("Write at most %(max)d characters.")), no_control_characters],
        render_kw={"maxlength": 200})
    discovered_at = LocalMomentField(_l("Discovered at (Vietnam time)"), validators=[
        InputRequired(_l("Give the date and time the violation was discovered: the 72 hours count from it."))])
    occurred_from = LocalMomentField(_l("It happened from (if known)"), validators=[Optional()])
    occurred_until = LocalMomentField(_l("Until (if known)"), validators=[Optional()])
    place = _text(_l("Where it happened (a system, an office, a partner)"))
    acts = _text(_l("What was done (the acts of the violation)"), rows=4)
    parties = _text(_l("Organisations and individuals involved"))
    categories = Checkboxes(_l("Categories of personal data involved"),
                                 choices=[SelectChoice(key, title) for key, title in DATA_CATEGORIES.items()],
                                 validators=[InputRequired(_l("Tick at least one category of data."))])
    volume = _text(_l("How much data (in words, e.g. “about 300 orders”)"), rows=2)
    consequences = _text(_l("Likely consequences and harm"), rows=4)
    measures = _text(_l("Measures taken and planned"), rows=4)

    def validate_occurred_until(self, field):
        start = self.occurred_from.data
        if field.data is not None and start is not None and field.data < start:
            raise ValidationError(_l("The end cannot come before the start."))


class NewIncidentForm(IncidentForm):
    # choices: the complaints the page lists (set by the view)
    complaints = Checkboxes(_l("Complaints to raise into it"), choices=[], coerce=int)


class EditIncidentForm(IncidentForm):
    version = HiddenField(validators=[InputRequired()])


class AuthorityNoticeForm(PortalForm):
    sent_at = LocalMomentField(_l("Sent at (Vietnam time)"), validators=[
        InputRequired(_l("Give the date and time the notice was sent."))])
    reference = StringField(_l("The authority's reference or receipt number"), validators=[
        InputRequired(_l("Give the reference or receipt number the authority gave.")),
        Length(max=100, message=_l("Write at most %(max)d characters.")), no_control_characters],
        render_kw={"maxlength": 100, "autocomplete": "off"})
    version = HiddenField(validators=[InputRequired()])


class CloseForm(PortalForm):
    reason = _text(_l("Why it is closed without the notice to the authority"))
    version = HiddenField(validators=[InputRequired()])


class RaiseForm(PortalForm):
    """Add one complaint to an open incident (from the complaint's page)."""

    incident = SelectField(_l("Open incident"), choices=[], coerce=int,
                           validators=[InputRequired(_l("Choose the incident."))])


class PickCustomerForm(PortalForm):
    customer_id = HiddenField(validators=[InputRequired()])


class RemoveCustomerForm(PortalForm):
    """The row to remove is in the address; the form carries only its token."""


class ImportForm(PortalForm):
    file = FileField(_l("CSV file: one column of e-mail addresses, phone numbers or customer numbers"),
                     render_kw={"accept": ".csv,text/csv"})
