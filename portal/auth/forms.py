from flask_babel import lazy_gettext as _l
from wtforms import HiddenField, StringField
from wtforms.validators import DataRequired, InputRequired, ValidationError

from portal.auth.services import normalize_code
from portal.contact_values import InvalidAddress, normalize_email
from portal.forms import PortalForm


class SignInForm(PortalForm):
    email = StringField(_l("Your e-mail address"), validators=[DataRequired(_l("Enter your e-mail address."))],
                        filters=[lambda value: value.strip(" ") if isinstance(value, str) else value],
                        render_kw={"autocomplete": "email", "inputmode": "email", "autocapitalize": "none",
                                   "spellcheck": "false"})
    next = HiddenField()

    def validate_email(self, field):
        try:
            self.normalized_email = normalize_email(field.data)
        except InvalidAddress:
            raise ValidationError(_l("This is not a valid e-mail address. Check it and try again.")) from None


class ContinueForm(PortalForm):
    """Only the CSRF token: the link itself travels in a cookie, never in the form or URL."""


class CodeForm(PortalForm):
    code = StringField(_l("Code from the e-mail"), validators=[InputRequired(_l("Enter the code from the e-mail."))],
                       render_kw={"autocomplete": "one-time-code", "autocapitalize": "characters",
                                  "spellcheck": "false"})

    def validate_code(self, field):
        if len(normalize_code(field.data)) != 8 or len(field.data) > 40:
            raise ValidationError(_l("The code has 8 letters and digits, like ABCD-2345."))


class FreshCodeRequestForm(PortalForm):
    """"E-mail me a code": where to go back to once the code is entered."""

    next = HiddenField()


class FreshCodeForm(CodeForm):
    """The fresh code, and where to go back to."""

    next = HiddenField()


class SignOutForm(PortalForm):
    pass


class ChooseRecordForm(PortalForm):
    """The record chosen (one button per record, each sending its id) and where to go next."""

    record = HiddenField()
    next = HiddenField()
