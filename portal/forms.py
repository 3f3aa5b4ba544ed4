"""The base of every form: WTForms' own messages ("This field is required.", "Not a valid
integer value." ...) translated through the portal's catalogue, since WTForms ships no Vietnamese."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from flask import has_request_context, request
from flask_babel import get_translations
from flask_babel import lazy_gettext as _l
from flask_babel import lazy_ngettext as _nl
from flask_wtf import FlaskForm
from werkzeug.datastructures import MultiDict
from wtforms import FileField
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

        def wrap_formdata(self, form, formdata):
            """What the form reads: posted text, and uploaded files only in its file fields. A file
            sent in place of text, or a JSON body (whose values may be of any type), is not read as
            text: the validators would fail on it instead of refusing it."""
            if has_request_context() and request.is_json and not hasattr(formdata, "getlist"):
                return None
            formdata = super().wrap_formdata(form, formdata)
            if formdata is None or not (has_request_context() and request.files):
                return formdata
            files = {field.name for field in form if isinstance(field, FileField)}
            return MultiDict([(key, value) for key, value in formdata.items(multi=True)
                              if isinstance(value, str) or key in files])


# WTForms' built-in messages that the portal's forms can show, listed so that extraction puts them in
# the catalogue. WTForms formats them itself, after translation.
# The earliest day any form accepts for when something happened or a report starts: an earlier one
# is a typing slip (and year 1 is past what a UTC moment can hold).
EARLIEST_DAY = date(2000, 1, 1)

# Endpoints whose forms carry files larger than the portal's limit on a request's body: endpoint →
# ``limit(view_args)``, the bytes that request may carry (None: the portal's limit).
_UPLOAD_LIMITS: dict[str, Callable[[dict], int | None]] = {}


def upload_limit(endpoint: str):
    """Register ``limit(view_args)`` as the largest body a request to ``endpoint`` may send (a form
    with files); every other request keeps the portal's ``MAX_CONTENT_LENGTH``."""

    def register(limit: Callable[[dict], int | None]):
        _UPLOAD_LIMITS[endpoint] = limit
        return limit

    return register


def apply_upload_limit() -> None:
    """Before every request, and before the form token is read (reading it reads the body): a form
    that carries files may send what its endpoint registered."""
    limit = _UPLOAD_LIMITS.get(request.endpoint)
    allowed = limit(request.view_args or {}) if limit else None
    if allowed:
        request.max_content_length = allowed


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
