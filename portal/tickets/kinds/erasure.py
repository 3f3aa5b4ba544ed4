"""Deletion of the customer's data (Decree 356/2025 Art. 5: 20 days)."""

from flask_babel import lazy_gettext as _l

from portal.enums import Department
from portal.tickets.kinds.base import RequestKind, register


@register
class Erasure(RequestKind):
    code = "erasure"
    position = 50
    title = _l("Deletion of my data")
    department = Department.CARE
    legal_days = 20
    longer_days = 30  # when a processor or third party must act
    procedure = _l(
        "We check what the law or an open warranty still requires us to keep, delete the rest (with the "
        "partners who process it for us) and tell you exactly what is kept, why and until when.")

    offer = _l("Ask us to delete your data")
