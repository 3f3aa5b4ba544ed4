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
    procedure = _l(
        "We gather the personal data we hold about you (contact details, orders and warranty, consents "
        "and their history) and give you a copy. We may call you to make sure the request is yours.")
    customer_form = RequestMessageForm
    offer = _l("Get a full copy of your data")
