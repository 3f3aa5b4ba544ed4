"""The board's answer form on a complaint's or misuse report's ticket page."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import HiddenField, RadioField, SelectChoice, TextAreaField
from wtforms.validators import InputRequired, Length

from portal.forms import PortalForm, no_control_characters
from portal.tickets.forms import MESSAGE_MAX

STAFF_FINDINGS = {
    "confirmed": _l("Confirmed"),
    "not_confirmed": _l("Not confirmed"),
    "unclear": _l("Cannot tell"),
}


def _text(label, required_message):
    return TextAreaField(label, validators=[
        InputRequired(required_message),
        Length(min=2, max=MESSAGE_MAX, message=_l("Write between %(min)d and %(max)d characters.")),
        no_control_characters,
    ], render_kw={"rows": 4, "maxlength": MESSAGE_MAX})


class AnswerForm(PortalForm):
    finding = RadioField(_l("Finding"), choices=[SelectChoice(key, title) for key, title in STAFF_FINDINGS.items()],
                         validators=[InputRequired(_l("Choose the finding."))])
    reason = _text(_l("The reason (e-mailed to the customer)"), _l("Give the reason for the finding."))
    remedy = _text(_l("What is being done to correct and remedy it (e-mailed to the customer)"),
                   _l("Say what is being done about it."))
    version = HiddenField(validators=[InputRequired()])
