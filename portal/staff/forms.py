from flask_babel import lazy_gettext as _l
from wtforms import HiddenField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, EqualTo, InputRequired, Length, ValidationError

from portal.contact_values import InvalidAddress, normalize_email
from portal.enums import Role
from portal.forms import PortalForm, no_control_characters
from portal.staff.passwords import password_problems
from portal.staff.services import find_member

NO_SPELLING = {"autocapitalize": "none", "spellcheck": "false"}


def _role_choices():
    return [(role, role.title) for role in Role]


class SignInForm(PortalForm):
    email = StringField(_l("Work e-mail address"), validators=[InputRequired(_l("Enter your e-mail address."))],
                        render_kw={"autocomplete": "username", "inputmode": "email", **NO_SPELLING})
    password = PasswordField(_l("Password"), validators=[InputRequired(_l("Enter your password."))],
                             render_kw={"autocomplete": "current-password"})
    next = HiddenField()

    def validate_email(self, field):
        try:
            self.normalized_email = normalize_email(field.data)
        except InvalidAddress:
            raise ValidationError(_l("This is not a valid e-mail address. Check it and try again.")) from None

    def validate_password(self, field):
        if len(field.data) > 1000:
            raise ValidationError(_l("E-mail address or password is not right."))


class CodeForm(PortalForm):
    code = StringField(_l("Code from your authenticator app, or a recovery code"),
                       validators=[InputRequired(_l("Enter the code.")), Length(max=40)],
                       render_kw={"autocomplete": "one-time-code", **NO_SPELLING})


class EnrolForm(PortalForm):
    code = StringField(_l("6-digit code shown by the app"),
                       validators=[InputRequired(_l("Enter the code.")), Length(max=20)],
                       render_kw={"autocomplete": "one-time-code", "inputmode": "numeric", **NO_SPELLING})


class SetPasswordForm(PortalForm):
    """Choose a password; ``email`` is the member's, which the password must not contain."""

    password = PasswordField(_l("New password"), validators=[InputRequired(_l("Choose a password."))],
                             render_kw={"autocomplete": "new-password"})
    confirm = PasswordField(_l("New password again"),
                            validators=[InputRequired(_l("Type the password again.")),
                                        EqualTo("password", _l("The two passwords are not the same."))],
                            render_kw={"autocomplete": "new-password"})

    def __init__(self, email: str, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.email = email

    def validate_password(self, field):
        problems = password_problems(field.data, self.email)
        if problems:
            raise ValidationError(" ".join(str(problem) for problem in problems))


class InviteForm(PortalForm):
    full_name = StringField(_l("Full name"), filters=[lambda value: value.strip() if value else value],
                            validators=[DataRequired(_l("Enter the member's name.")),
                                        Length(max=200, message=_l("Write at most %(max)d characters.")),
                                        no_control_characters])
    email = StringField(_l("Work e-mail address"), validators=[InputRequired(_l("Enter an e-mail address."))],
                        render_kw={"inputmode": "email", **NO_SPELLING})
    role = SelectField(_l("Role"), choices=_role_choices, validators=[InputRequired()])

    def validate_email(self, field):
        try:
            self.normalized_email = normalize_email(field.data)
        except InvalidAddress:
            raise ValidationError(_l("This is not a valid e-mail address. Check it and try again.")) from None
        if find_member(self.normalized_email) is not None:
            raise ValidationError(_l("A staff member with this e-mail address already exists."))


class RoleForm(PortalForm):
    role = SelectField(_l("Role"), choices=_role_choices, validators=[InputRequired()])


class ActionForm(PortalForm):
    """A button that changes something: only the CSRF token."""
