"""Anything else a customer asks ("provide information": 10 days)."""

from flask_babel import lazy_gettext as _l

from portal.enums import Department
from portal.tickets.forms import RequestMessageForm
from portal.tickets.kinds.base import RequestKind, register


@register
class Other(RequestKind):
    code = "other"
    position = 90
    title = _l("Something else")
    department = Department.CARE
    legal_days = 10
    procedure = _l(
        "A member of customer care reads your request and answers you in writing, or tells you which kind"
        " of request it is and how it is handled.")
    customer_form = RequestMessageForm
    offer = _l("Ask us anything else about your personal data")
