"""A correction of the customer's data that staff must carry out (Decree 356/2025 Art. 5: 10 days).

Customers correct their address and phone themselves on My data; this kind records what staff must
do about a correction, and reviews the changes that need it (a new name)."""

from flask_babel import lazy_gettext as _l

from portal.enums import Department
from portal.tickets.kinds.base import RequestKind, register


@register
class Correction(RequestKind):
    code = "correction"
    position = 30
    title = _l("Correction")
    department = Department.CARE
    legal_days = 10
    longer_days = 15  # when a processor or third party must act
    procedure = _l(
        "We check the correction with you if needed, change the data in our records and tell you what was"
        " changed. If a partner who processes the data for us holds it too, we have them correct it.")

    offer = _l("Correct your data")
