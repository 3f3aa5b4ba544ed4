"""The base of every form: WTForms' own messages ("This field is required.", "Not a valid
integer value." ...) translated through the portal's catalogue, since WTForms ships no Vietnamese."""

from __future__ import annotations

from flask_babel import get_translations
from flask_babel import lazy_gettext as _l
from flask_babel import lazy_ngettext as _nl
from flask_wtf import FlaskForm
from wtforms.validators import ValidationError


def _is_control(ch: str) -> bool:
    code = ord(ch)
    return (code < 32 and ch not in "\n\r\t") or 127 <= code <= 159


def no_control_characters(form, field):
    """Refuse invisible control characters (C0 but tab and line breaks, DEL, C1)."""
    if isinstance(field.data, str) and any(_is_control(ch) for ch in field.data):
        raise ValidationError(_l("Remove the invisible control characters from the text."))


class _PortalTranslations:
    """What WTForms asks of a translations object, answered from the portal's catalogue."""

    def gettext(self, string: str) -> str:
        return get_translations().ugettext(string)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return get_translations().ungettext(singular, plural, n)


class PortalForm(FlaskForm):
    class Meta:
        def get_translations(self, form):
            return _PortalTranslations()


# WTForms' built-in messages that the portal's forms can show, listed so that extraction puts them in
# the catalogue. WTForms formats them itself, after translation.
WTFORMS_MESSAGES = (
    _l("This field is required."),
    _l("Not a valid choice."),
    _l("Not a valid integer value."),
    _l("Not a valid date value."),
    _l("Invalid input."),
    _l("Number must be at least %(min)s."),
    _l("Number must be at most %(max)s."),
    _l("Number must be between %(min)s and %(max)s."),
    _nl("Field must be at least %(min)d character long.", "Field must be at least %(min)d characters long.", 1),
    _nl("Field cannot be longer than %(max)d character.", "Field cannot be longer than %(max)d characters.", 1),
    _nl("Field must be exactly %(max)d character long.", "Field must be exactly %(max)d characters long.", 1),
    _l("Field must be between %(min)d and %(max)d characters long."),
)
