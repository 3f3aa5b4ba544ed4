"""The forms of the customer's rights: a copy, a deletion request, and the staff's decisions."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, HiddenField, RadioField, SelectChoice, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional, Regexp

from portal.forms import PortalForm, no_control_characters
from portal.tickets.forms import MESSAGE_MAX, SubmissionKeyMixin

LIFT_REASON_MAX = 1000  # as portal.rights.services.MAX_REASON


class CopyForm(PortalForm):
    format = RadioField(_l("Format"), choices=[SelectChoice("json", _l("A file (JSON), for a computer")),
                                               SelectChoice("print", _l("A page to read, print or save as PDF"))],
                        default="json", validators=[InputRequired(_l("Choose a format."))])


class DeletionForm(SubmissionKeyMixin, PortalForm):
    understood = BooleanField(_l("I have read what is deleted, what is kept and until when, and that my open "
                                 "requests will be closed."),
                              validators=[DataRequired(_l("Tick the box to confirm you have read this."))])
    message = TextAreaField(_l("Anything you want to tell us (optional)"), validators=[
        Optional(), Length(max=MESSAGE_MAX, message=_l("Write at most %(max)d characters.")), no_control_characters],
        render_kw={"rows": 4, "maxlength": MESSAGE_MAX})


class StaffDecisionForm(PortalForm):
    """A staff decision on an erasure or restriction ticket, guarded by the ticket's version."""

    version = HiddenField(validators=[Regexp(r"^\d{1,10}$", message=_l("Reload the page and try again."))])


class LiftRestrictionForm(PortalForm):
    """Lift a restriction of processing the customer asked for: the reason is e-mailed to them."""

    reason = TextAreaField(_l("Why the restriction is lifted (the customer reads it)"), validators=[
        DataRequired(_l("Give the reason for lifting the restriction: the customer reads it.")),
        Length(max=LIFT_REASON_MAX, message=_l("Write at most %(max)d characters.")), no_control_characters],
        render_kw={"rows": 3, "maxlength": LIFT_REASON_MAX})


class TicketLiftForm(LiftRestrictionForm, StaffDecisionForm):
    """The same, from the restriction request, guarded by the ticket's version."""
