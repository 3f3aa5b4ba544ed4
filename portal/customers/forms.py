"""The board's forms for customer records: search, enter, correct, consent."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import Form, FormField, HiddenField, SelectChoice, SelectField, StringField, TextAreaField
from wtforms.fields import FieldList

from portal.account.models import KINDS_BY_CHANNEL
from portal.consent.models import CONSENT_PURPOSES
from portal.customers.services import STAFF_CONSENT_METHODS, ContactInput
from portal.enums import DataSource
from portal.forms import PortalForm, no_control_characters

BLANK_ROWS = 2
MAX_ROWS = 40
NEW_RECORD_ROWS = ("phone:mobile", "email:personal", "address:home")


def contact_kind_choices() -> list[SelectChoice]:
    """The kinds a contact row may be ("Phone (Mobile)"), titled in the page's language."""
    return [SelectChoice(f"{channel.value}:{kind.value}", f"{channel.title} ({kind.title})")
            for channel, kinds in KINDS_BY_CHANNEL.items() for kind in kinds]


class ContactRow(Form):
    contact_id = HiddenField()
    kind = SelectField(_l("Kind"), choices=contact_kind_choices, validate_choice=False)
    value = StringField(_l("Value"))


class SearchForm(PortalForm):
    class Meta:
        csrf = False  # a GET search changes nothing

    q = StringField(_l("Name, phone number or e-mail address"), validators=[no_control_characters])


class RecordForm(PortalForm):
    """Enter or correct a record. Lengths and formats are checked by the service rules, so a form
    and a file are held to the same."""

    full_name = StringField(_l("Full name"))
    notes = TextAreaField(_l("Notes"))
    contacts = FieldList(FormField(ContactRow), max_entries=MAX_ROWS)
    version = HiddenField()

    def contact_inputs(self) -> list[ContactInput]:
        return [ContactInput(row.form.contact_id.data, row.form.kind.data or "", row.form.value.data or "")
                for row in self.contacts]


class NewRecordForm(RecordForm):
    source = SelectField(_l("Where the data came from"), validate_choice=True, choices=[
        SelectChoice(source.value, source.title) for source in (DataSource.PHONE, DataSource.WEB_FORM,
                                                                 DataSource.IMPORT)])


class EditRecordForm(RecordForm):
    source = SelectField(_l("Where this change comes from"), validate_choice=True, choices=[
        SelectChoice(DataSource.PHONE.value, _l("A phone call with the customer")),
        SelectChoice(DataSource.WEB_FORM.value, DataSource.WEB_FORM.title),
        SelectChoice(DataSource.STAFF.value, _l("Our own records"))])


class ConsentForm(PortalForm):
    purpose = SelectField(_l("Purpose"), validate_choice=False,
                          choices=[SelectChoice(purpose.value, purpose.title) for purpose in CONSENT_PURPOSES])
    decision = SelectField(_l("The customer's answer"), validate_choice=False, choices=[
        SelectChoice("", _l("Choose…")), SelectChoice("given", _l("Gives consent")),
        SelectChoice("withdrawn", _l("Refuses or withdraws consent"))])
    method = SelectField(_l("How the customer told us"), validate_choice=False,
                         choices=[SelectChoice(method.value, method.title) for method in STAFF_CONSENT_METHODS])
    evidence = StringField(_l("Reference of our proof (form number, recording, copy)"))
