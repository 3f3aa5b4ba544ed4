"""The forms of My data: a contact point, the notes, a new name. Each carries the version of what it
was drawn from, so that of two tabs saving the same thing the second is refused."""

from __future__ import annotations

import re

from flask_babel import lazy_gettext as _l
from wtforms import HiddenField, SelectChoice, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, ValidationError

from portal.account.models import KINDS_BY_CHANNEL
from portal.contact_values import (
    MAX_ADDRESS_LENGTH,
    MAX_AREA_LENGTH,
    MAX_PHONE_LENGTH,
    MAX_STREET_LENGTH,
    InvalidAddress,
    InvalidPhone,
    normalize_email,
    normalize_new_phone,
)
from portal.enums import Channel
from portal.forms import PortalForm, no_control_characters

MAX_NOTES_LENGTH = 2000
# A contact point's version number, or the fingerprint of a record field (see corrections.fingerprint).
VERSION = re.compile(r"[0-9a-f]{1,32}")
MAX_NAME_LENGTH = 200


class VersionedForm(PortalForm):
    version = HiddenField(validators=[InputRequired()])

    def validate_version(self, field):
        if not VERSION.fullmatch(field.data or ""):
            raise ValidationError(_l("This form is damaged. Reload the page and try again."))


def _kind_field():
    return SelectField(_l("Kind"), validators=[DataRequired()], choices=[])


class PhoneForm(VersionedForm):
    kind = _kind_field()
    value = StringField(_l("Phone number"), validators=[DataRequired(), Length(max=MAX_PHONE_LENGTH)],
                        render_kw={"type": "tel", "autocomplete": "tel", "inputmode": "tel"})
    normalized = None

    def validate_value(self, field):
        try:
            self.normalized = normalize_new_phone(field.data)
        except InvalidPhone:
            raise ValidationError(_l(
                "Write a phone number in service, such as 0903 123 456 or +84 28 3822 1234.")) from None


class EmailForm(VersionedForm):
    kind = _kind_field()
    value = StringField(_l("E-mail address"), validators=[DataRequired(), Length(max=MAX_ADDRESS_LENGTH)],
                        render_kw={"type": "email", "autocomplete": "email", "autocapitalize": "none",
                                   "spellcheck": "false"})
    normalized = None

    def validate_value(self, field):
        try:
            self.normalized = normalize_email(field.data)
        except InvalidAddress:
            raise ValidationError(_l("Write an e-mail address such as ten@example.vn.")) from None


def _no_comma(form, field):
    if "," in (field.data or ""):
        raise ValidationError(_l("Leave out commas here: write only the name."))


class AddressForm(VersionedForm):
    kind = _kind_field()
    street = StringField(_l("House number and street"), validators=[
        DataRequired(), Length(max=MAX_STREET_LENGTH), no_control_characters], render_kw={
        "autocomplete": "address-line1"})
    ward = StringField(_l("Ward or commune"), validators=[
        DataRequired(), Length(max=MAX_AREA_LENGTH), no_control_characters, _no_comma])
    province = StringField(_l("Province or city"), validators=[
        DataRequired(), Length(max=MAX_AREA_LENGTH), no_control_characters, _no_comma], render_kw={
        "autocomplete": "address-level1"})


FORMS_BY_CHANNEL = {Channel.PHONE: PhoneForm, Channel.EMAIL: EmailForm, Channel.ADDRESS: AddressForm}


def contact_form(channel: Channel, **initial):
    """The form for a contact point of ``channel``, with the kinds the channel admits."""
    form = FORMS_BY_CHANNEL[channel](**initial)
    form.kind.choices = [SelectChoice(kind.value, kind.title) for kind in KINDS_BY_CHANNEL[channel]]
    return form


class RemoveForm(VersionedForm):
    """Remove one contact point (a button on My data)."""


class NotesForm(VersionedForm):
    notes = TextAreaField(_l("Notes"), validators=[Length(max=MAX_NOTES_LENGTH), no_control_characters],
                          description=_l("For example, when we can reach you or how to find the house."))


class NameForm(VersionedForm):
    full_name = StringField(_l("Your full name, as it should be"), validators=[
        DataRequired(), Length(max=MAX_NAME_LENGTH), no_control_characters], render_kw={"autocomplete": "name"})
