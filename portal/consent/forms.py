"""The switch a customer turns on My data for one purpose that rests on consent."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import HiddenField, IntegerField
from wtforms.validators import InputRequired, NumberRange, ValidationError

from portal.consent.models import CONSENT_PURPOSES, CONTRACT_PURPOSES
from portal.forms import PortalForm

CHOICES = {"give": True, "withdraw": False}


class ConsentSwitchForm(PortalForm):
    purpose = HiddenField()
    choice = HiddenField()
    # The id of the purpose's latest ledger entry on the page the choice was made on (0: none).
    seen = IntegerField(validators=[InputRequired(), NumberRange(min=0)])

    def validate_purpose(self, field):
        if field.data in {str(purpose) for purpose in CONTRACT_PURPOSES}:
            raise ValidationError(_l("This use of your data rests on your order or warranty, not on "
                                     "consent: it cannot be switched off here."))
        if field.data not in {str(purpose) for purpose in CONSENT_PURPOSES}:
            raise ValidationError(_l("We do not ask consent for that purpose."))

    def validate_choice(self, field):
        if field.data not in CHOICES:
            raise ValidationError(_l("Choose to give or to withdraw your consent."))

    @property
    def granted(self) -> bool:
        return CHOICES[self.choice.data]
