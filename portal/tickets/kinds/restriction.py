"""Restriction of processing, or an objection to it (Decree 356/2025 Art. 5: 15 days)."""

from flask_babel import lazy_gettext as _l

from portal.enums import Department
from portal.tickets.forms import RequestMessageForm
from portal.tickets.kinds.base import RequestKind, register


@register
class Restriction(RequestKind):
    code = "restriction"
    position = 60
    title = _l("Restriction or objection")
    department = Department.CARE
    legal_days = 15
    longer_days = 20  # when a processor or third party must act
    procedure = _l(
        "We review the processing you object to or want restricted, stop or limit it unless the law "
        "requires it, and tell you our decision with its reasons.")
    customer_form = RequestMessageForm
    offer = _l("Ask us to limit or stop using your data")
