"""The inspection pack's form: a range of local days, and the language of the pack."""

from __future__ import annotations

from datetime import date

from flask_babel import lazy_gettext as _l
from wtforms import DateField, SelectChoice, SelectField
from wtforms.validators import InputRequired, ValidationError

from portal.forms import EARLIEST_DAY, PortalForm
from portal.inspection.pack import MAX_DAYS, PACK_LOCALES


class PackForm(PortalForm):
    """From and to are days in Vietnam, both included. ``today`` is set by the view."""

    date_from = DateField(_l("From (first day)"), validators=[InputRequired(_l("Enter the first day of the range."))])
    date_to = DateField(_l("To (last day)"), validators=[InputRequired(_l("Enter the last day of the range."))])
    language = SelectField(_l("Language of the pack"), default="vi",
                           choices=[SelectChoice(code, title) for code, title in PACK_LOCALES.items()])

    today: date | None = None

    def validate_date_from(self, field):
        if self.today is not None and field.data and field.data > self.today:
            raise ValidationError(_l("The first day is in the future: choose a day up to today."))
        if field.data and field.data < EARLIEST_DAY:
            raise ValidationError(_l("The first day is too long ago: choose a day from %(year)d on.",
                                     year=EARLIEST_DAY.year))

    def validate_date_to(self, field):
        start, end = self.date_from.data, field.data
        if not start or not end:
            return
        if end < start:
            raise ValidationError(_l("The last day must be the same as or after the first day."))
        if (end - start).days + 1 > MAX_DAYS:
            raise ValidationError(_l("A pack covers at most %(days)d days: choose a shorter range.", days=MAX_DAYS))
