"""The customer's forms: a new request and a reply. Every kind's customer form starts from
:class:`RequestMessageForm`, so it carries the key that stores a double submit once."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import HiddenField, SelectChoice, SelectField, TextAreaField
from wtforms.validators import InputRequired, Length, Regexp

from portal.forms import PortalForm, no_control_characters

MESSAGE_MAX = 5000


def message_field(label):
    return TextAreaField(label, validators=[
        InputRequired(_l("Write your message.")),
        Length(min=2, max=MESSAGE_MAX, message=_l("Write between %(min)d and %(max)d characters.")),
        no_control_characters,
    ], render_kw={"rows": 8, "maxlength": MESSAGE_MAX})


class SubmissionKeyMixin:
    """A random key the page carries, so the same form posted twice is stored once."""

    submission_key = HiddenField(validators=[Regexp(r"^[0-9a-f]{32}$", message=_l("Reload the page and try again."))])


class RequestMessageForm(SubmissionKeyMixin, PortalForm):
    """A request that is just a message: the form of the simplest kinds, and the base of the others."""

    message = message_field(_l("Your message"))


class NewRequestForm(RequestMessageForm):
    """"New request": the message, and which of the simple kinds it is."""

    kind = SelectField(_l("What is your request about?"), choices=[],
                       validators=[InputRequired(_l("Choose the kind of request."))])

    def __init__(self, kinds, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.kind.choices = [SelectChoice(str(kind), kind.title) for kind in kinds]


class ReplyForm(SubmissionKeyMixin, PortalForm):
    message = message_field(_l("Your reply"))
