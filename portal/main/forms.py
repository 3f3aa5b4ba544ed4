from wtforms import HiddenField

from portal.forms import PortalForm


class LanguageForm(PortalForm):
    """The language switch in the header of every page."""

    locale = HiddenField()
    next = HiddenField()
