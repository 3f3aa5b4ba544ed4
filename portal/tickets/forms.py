from flask_babel import lazy_gettext as _l
from wtforms import HiddenField, IntegerField, SelectChoice, SelectField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, NumberRange, Regexp

from portal.enums import Department, TicketKind, TicketStatus
from portal.forms import PortalForm, no_control_characters

# What a customer files from "New request"; corrections, withdrawals and complaints have their own forms.
CUSTOMER_KINDS = (TicketKind.QUESTION, TicketKind.ACCESS, TicketKind.RESTRICTION, TicketKind.OTHER)
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


class NewRequestForm(SubmissionKeyMixin, PortalForm):
    kind = SelectField(_l("What is your request about?"),
                       choices=[SelectChoice(kind.value, kind.title) for kind in CUSTOMER_KINDS],
                       validators=[InputRequired(_l("Choose the kind of request."))])
    message = message_field(_l("Your message"))


class ReplyForm(SubmissionKeyMixin, PortalForm):
    message = message_field(_l("Your reply"))


class StaffReplyForm(SubmissionKeyMixin, PortalForm):
    message = message_field(_l("Message"))
    visibility = SelectField(_l("Who sees it"), choices=[
        SelectChoice("public", _l("Reply to the customer (e-mailed)")),
        SelectChoice("internal", _l("Internal note (staff only)"))])
    version = HiddenField()


class TicketUpdateForm(PortalForm):
    """Status, assignee and department in one form, guarded by the version the page was drawn from."""

    status = SelectField(_l("Status"), choices=[SelectChoice(s.value, s.title) for s in TicketStatus])
    reason = TextAreaField(_l("Reason shown to the customer (needed to reject)"),
                           validators=[Length(max=MESSAGE_MAX), no_control_characters], render_kw={"rows": 3})
    assignee = SelectField(_l("Assignee"), choices=[], validate_choice=True)
    department = SelectField(_l("Department"), choices=[SelectChoice(d.value, d.title) for d in Department])
    version = HiddenField()


class ExtendForm(PortalForm):
    days = IntegerField(_l("Extra days"), validators=[InputRequired(_l("Enter a number of days.")),
                                                      NumberRange(min=1, max=30, message=_l(
                                                          "Enter a number of days between %(min)s and %(max)s."))])
    reason = message_field(_l("Reason (e-mailed to the customer)"))
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
