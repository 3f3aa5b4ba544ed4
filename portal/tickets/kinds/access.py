"""A full copy of the customer's data (Law 91/2025 Art. 13; Decree 356/2025 Art. 5: 10 days)."""

from flask_babel import lazy_gettext as _l

from portal.enums import Department
from portal.tickets.forms import RequestMessageForm
from portal.tickets.kinds.base import RequestKind, register


@register
class Access(RequestKind):
    code = "access"
    position = 20
    title = _l("Full copy of my data")
    department = Department.CARE
    legal_days = 10
    customer_form = RequestMessageForm
    offer = _l("Get a full copy of your data")
